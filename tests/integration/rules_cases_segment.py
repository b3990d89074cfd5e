"""segment_shift's cases (docs/rules.md), imported by rules_cases.py: the
rule that watches a segment as a whole. The health score is the mrr trait
(rules_cases.MRR_SCORE), so a segment's health mean is what its accounts'
mrr says, day by day; tend eval replays the 8 weeks of baseline and the
recent week.

- smb: 12 accounts at 80 for 8 weeks, at 50 from d(-6): on d(-3) the last
  7 days' mean is 62.9, 21% under the 56 days before: a CTA keyed by the segment (account "segment:smb", subject "smb") for the
  segment's owner (segments.smb.owner); it resolves once the mean is back
  within 15% (the 20% change less the 0.05 clear margin) of its baseline;
- tiny: 5 accounts falling as far: under min_accounts (10), silent;
- steady: 12 accounts, 80 to 70 (-12.5%): under the threshold, silent;
- mid: 12 accounts falling as smb does, no owner of its own: ctas.cs_lead.
"""
import __main__ as rc

SEGMENT_CONFIG = dict(rc.MRR_SCORE)
SEGMENT_CONFIG["segments"] = {"smb": {"owner": "lead-smb@tend.example"}}
SEGMENT_CONFIG["ctas"] = {"cs_lead": "cs-lead@tend.example"}


def _segment(name, n, before, after, change_day):
    out = []
    for i in range(n):
        acct = f"{name}{i:02d}"
        out.append(rc.grp(acct, rc.d(-70), mrr=before, segment=name, csm_email=f"csm-{name}@tend.example"))
        if after != before:
            out.append(rc.grp(acct, change_day, mrr=after))
    return out


def _recover(name, n, day, mrr):
    return [rc.grp(f"{name}{i:02d}", day, mrr=mrr) for i in range(n)]


rc.case("segment_shift: a segment 21% under its 8 weeks fires for its owner; 5 accounts or "
        "-12.5% do not; resolves when back",
        [_segment("smb", 12, 80, 50, rc.d(-6)), _segment("tiny", 5, 80, 50, rc.d(-6)),
         _segment("steady", 12, 80, 70, rc.d(-6)), _segment("mid", 12, 80, 50, rc.d(-6)),
         _recover("smb", 12, rc.d(1), 80)],
        [rc.ev(rc.d(-62), to=rc.d(-4)),
         rc.want(why="3 of the last 7 days at 50: the mean 67.1 is 16% under, not 20%"),
         rc.ev(rc.d(-3)),
         rc.want("segment:mid segment_shift mid medium open #m | owner=cs-lead@tend.example",
                 "segment:smb segment_shift smb medium open #s | owner=lead-smb@tend.example"
                 " | type=risk | title=Segment smb: health mean down"
                 " | reason~health mean 62.86 over the last 7 days against 80.00 over the 56 days"
                 " before (-21%)"
                 " | ev.accounts=12 | ev.health_mean=62.857 | ev.health_mean_baseline=80",
                 why="4 of 7 days at 50, 21% under: smb and mid fire; tiny (5 accounts) and "
                     "steady (-12.5%) do not"),
         rc.ev(rc.d(-2), to=rc.d(0)),
         rc.want("segment:mid segment_shift mid medium open #m",
                 "segment:smb segment_shift smb medium open #s", why="still under: one CTA each"),
         rc.ev(rc.d(1), to=rc.d(3)),
         rc.want("segment:mid segment_shift mid medium open #m",
                 "segment:smb segment_shift smb medium open #s",
                 why="smb back at 80 from d(1): at d(3) 3 of 7 days, 19.8% under: in between"),
         rc.ev(rc.d(4), to=rc.d(6)),
         rc.want("segment:mid segment_shift mid medium open #m",
                 "segment:smb segment_shift smb medium closed:auto_resolved #s",
                 why="at d(4) 13.8% under: within 15% of its baseline, auto-resolved"),
         rc.hist("#s", "open resolve")],
        config=SEGMENT_CONFIG, rules=["segment_shift"])
