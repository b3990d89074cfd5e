"""The rules and CTA life cycle of SPEC 5, as data, against the real binary.

usage: rules_cases.py TEND TMPDIR [CASE-NAME-SUBSTRING]

Each case is a small set of Segment messages (generated below, written as JSON
Lines into TMPDIR), an optional tend.yaml (written as JSON, which YAML reads)
and steps run in order against a fresh database:

    ev(DAY)              tend eval --at DAY (to=DAY2: --from DAY --to DAY2);
                         rc=, out=, err= (substrings), nochange=True add checks
    want(LINE..., why=)  every CTA of the case's rules (tend ctas --status all);
                         accounts="a b": only those accounts' CTAs
    cta(VERB, #L, ...)   tend cta VERB <id of #L> ...; rc=, err= add checks
    hist(#L, "a b c")    the actions of #L's history, in order
    imp(EVENTS)          tend import of more messages
    replay_same(D1, D2)  a fresh database replayed with --from D1 --to D2 ends
                         with the same CTAs (keys, priorities, statuses, dates)

A want LINE is "ACCOUNT RULE SUBJECT PRIORITY STATUS [#LABEL] [| FIELD=V | FIELD~V ...]":
SUBJECT "-" is the empty subject; STATUS is open, snoozed or closed:REASON;
#LABEL names the CTA's id: the same label is the same CTA in every later
step, different labels are different CTAs. After "|", FIELD=V compares a
field of the CTA's JSON (ev.KEY: its evidence) and FIELD~V looks for a
substring. Every CTA expected closed:auto_resolved must also say so in its
history: the last entry is a "resolve" by tend, status closed, with a note
"the condition no longer holds". Lines with the same key and status match
the CTAs in id order.

Each step with something to check prints "ok - CASE: ..." or "not ok - ...".
Days are written relative to BASE (d(-14) is 14 days before it)."""
import datetime as dt
import json
import os
import subprocess
import sys

import testdb

TEND, TMP = sys.argv[1], sys.argv[2]
ONLY = sys.argv[3] if len(sys.argv) > 3 else None
BASE = dt.date(2026, 6, 15)


def d(n):
    return (BASE + dt.timedelta(days=n)).isoformat()


# ---- messages --------------------------------------------------------------------

_seq = [0]


def _msg(kind, user, day, time, **fields):
    _seq[0] += 1
    m = {"type": kind, "userId": user, "timestamp": f"{day}T{time}Z", "messageId": f"m{_seq[0]}"}
    m.update(fields)
    return m


def grp(acct, day, user=None, time="00:00:00", **traits):
    """A group call: the account's traits; user (default u-ACCT) becomes a member."""
    return _msg("group", user or f"u-{acct}", day, time, groupId=acct, traits=traits)


def members(acct, n, day, first=1):
    """n more members of acct (users ACCT-uFIRST ...)."""
    return [grp(acct, day, user=f"{acct}-u{i}") for i in range(first, first + n)]


def trk(acct, event, day, user=None, time="12:00:00", **props):
    return _msg("track", user or f"u-{acct}", day, time, event=event,
                context={"groupId": acct}, properties=props)


def login(acct, day, n=1, time="12:00:00"):
    return [trk(acct, "Signed In", day, time=time) for _ in range(n)]


def feat(acct, day, n=1, name="Report Run", time="12:00:00", **props):
    return [trk(acct, name, day, time=time, **props) for _ in range(n)]


def ident(user, **traits):
    return _msg("identify", user, d(-100), "00:00:00", traits=traits)


def nps(acct, user, day, score, time="12:00:00"):
    return trk(acct, "NPS Survey Responded", day, user=user, time=time, score=score)


def card(acct, day, month, year):
    return trk(acct, "Payment Method Updated", day, card_exp_month=month, card_exp_year=year)


def flat(xs):
    for x in xs:
        if isinstance(x, list):
            yield from flat(x)
        else:
            yield x


# ---- steps -----------------------------------------------------------------------

def ev(day, to=None, rc=0, out=None, err=None, nochange=False, rebuild=False, config="case"):
    return ("ev", dict(day=day, to=to, rc=rc, out=out, err=err, nochange=nochange,
                       rebuild=rebuild, config=config))


def want(*lines, why="", accounts=None):
    return ("want", dict(lines=lines, why=why, accounts=accounts))


def cta(verb, label, *args, rc=0, err=None):
    return ("cta", dict(verb=verb, label=label, args=args, rc=rc, err=err))


def hist(label, actions):
    return ("hist", dict(label=label, actions=actions.split()))


def imp(*events):
    return ("imp", dict(events=list(flat(events))))


def tend(*args, rc=0, err=None):
    """tend ARGS --db DB: a command the case needs (tend score ...)."""
    return ("tend", dict(args=args, rc=rc, err=err))


def replay_same(first, last):
    return ("replay", dict(first=first, last=last))


CASES = []
BUILTIN = ("health_drop nps_response card_expiring renewal_upcoming payment_overdue no_login login_change "
           "usage_dip intended_adoption onboarding_stalled outreach_unresponsive seat_limit premium_unused "
           "support_tickets").split()


# The CTA policy that is not a rule's own (value moves priority, the weekly
# budget holds back opens; docs/rules.md), and expiry, are off in the cases about a rule's
# conditions, so that each checks the rule's priority and every CTA; the
# cases about value and the budget (policy=True) keep the defaults.
NEUTRAL = {"value": {"raise_at": 0, "lower_below": 0}, "budget": {"per_owner_per_week": 0}}


def case(name, events, steps, config=None, rules=None, policy=False):
    """rules: the rules whose CTAs want() compares (default: the case name's
    first word, when it is a rule); None in the list's place compares all."""
    if rules is None:
        rules = [name.split()[0].rstrip(":")]
        assert rules[0] in BUILTIN, f"{name}: say which rules it compares"
    if not policy:
        config = dict(config or {})
        config["rules"] = dict(config.get("rules") or {})
        for k, v in NEUTRAL.items():
            config["rules"].setdefault(k, v)
        # No one acts on a CTA in these cases: expiry (tests/integration/expire.sh)
        # would close the long-lived ones the cases follow.
        config["ctas"] = dict(config.get("ctas") or {})
        config["ctas"].setdefault("expire_after_days", 0)
    CASES.append(dict(name=name, events=list(flat(events)), steps=steps, config=config,
                      rules=rules))


# ---- the fourteen built-in rules: fires, just does not, auto-resolves -------------

# health_drop, with a score that is the mrr trait: 100 -> 85 drops exactly 15.
MRR_SCORE = {"health": {
    "weights": {"logins": 0, "adoption": 0, "sentiment": 0, "support": 0, "financial": 1},
    "components": {"financial": [{"input": "mrr", "weight": 1, "curve": [[0, 0], [100, 100]]}]}}}
case("health_drop: 15 points below D-30 fires (medium), 14.9 does not; red (<40) fires high, 40 does not",
     [grp("a", d(-60), mrr=100), grp("a", d(-1), mrr=85),
      grp("b", d(-60), mrr=100), grp("b", d(-1), mrr=85.1),
      grp("r", d(-60), mrr=39.9), grp("y", d(-60), mrr=40),
      grp("a", d(1), mrr=100), grp("r", d(4), mrr=50)],
     [ev(d(0)),
      want("a health_drop - medium open #a | type=risk | title=Health dropped"
           " | reason~health fell from 100.0 to 85.0 in 30 days | ev.score_before=100",
           "r health_drop - high open #r | title=Health is red | due_date=2026-06-18 | reason~health is 39.9, in the red band",
           why="a and r fire, b (drop 14.9) and y (score 40) do not"),
      ev(d(1), to=d(3)),
      want("a health_drop - medium closed:auto_resolved #a", "r health_drop - high open #r",
           why="a's score back at 100 from D+1: auto-resolved"),
      ev(d(4), to=d(6)),
      want("a health_drop - medium closed:auto_resolved #a",
           "r health_drop - high closed:auto_resolved #r", why="r out of the red band: auto-resolved")],
     config=MRR_SCORE)

# nps_response: one CTA per account and kind (docs/rules.md): "nps" for
# detractors and falls (every such answer is evidence on it), "nps:passives"
# and "nps:promoters"; the first evaluation looks back 7 days for new answers
# (an answer at D-6 00:00 is new, D-7 23:59:59 is not, but is evidence).
NPS_USERS = [ident("ann", email="ann@a.io"), ident("bob", email="bob@a.io"), ident("eve", email="eve@a.io"),
             ident("fay", email="fay@a.io"), ident("gus", email="gus@a.io")]
case("nps_response: detractor 6 high, passive 7 low, promoter 9, fall of 3 medium, fall of 2 not; one CTA per account",
     [NPS_USERS, grp("a", d(-100), csm_email="csm@a.io"),
      nps("a", "ann", d(-1), 6), nps("a", "bob", d(-1), 7), nps("a", "cy", d(-6), 9, time="00:00:00"),
      nps("a", "dee", d(-7), 2, time="23:59:59"),
      nps("a", "eve", d(-60), 10), nps("a", "eve", d(-1), 7),
      nps("a", "fay", d(-60), 10), nps("a", "fay", d(-1), 8),
      nps("a", "gus", d(-60), 8), nps("a", "gus", d(-1), 9),
      grp("z", d(-100)), nps("z", "zed", d(-7), 1, time="23:59:59"),
      nps("a", "dee", d(2), 5)],
     [ev(d(0)),
      want("a nps_response nps high open #n | type=risk | title~NPS detractors: 2 answers of 6 or less, and a fall"
           " | reason~ann@a.io answered 6 on " + d(-1) + " | reason~dee answered 2 on " + d(-7) +
           " | reason~eve@a.io answered 7 on " + d(-1) + " (before: 10) | ev.answers_count=3",
           "a nps_response nps:passives low open #p | type=risk | title~passives"
           " | reason~bob@a.io answered 7 | reason~fay@a.io answered 8",
           "a nps_response nps:promoters low open #pr | type=opportunity | title~promoters"
           " | reason~cy answered 9 | reason~gus@a.io answered 9",
           why="one CTA per account and kind; dee's old answer is evidence; z's (only old) opens nothing"),
      ev(d(3)),
      want("a nps_response nps high open #n | reason~dee answered 5 on " + d(2),
           "a nps_response nps:passives low open #p", "a nps_response nps:promoters low open #pr",
           why="a new answer is new evidence on the account's CTA, not a new CTA"),
      hist("#n", "open evidence")])

case("nps_response: passive/promoter CTAs last watch_days (14), detractor and fall 90 days; a new kind of answer moves to its CTA",
     [ident("ann", email="ann@a.io"), grp("a", d(-100)),
      nps("a", "ann", d(-1), 6), nps("a", "bob", d(-1), 7), nps("a", "cy", d(-6), 9, time="00:00:00"),
      nps("a", "eve", d(-60), 10), nps("a", "eve", d(-1), 7),
      nps("a", "ann", d(20), 10)],
     [ev(d(0)),
      want("a nps_response nps high open #n", "a nps_response nps:passives low open #p",
           "a nps_response nps:promoters low open #pr"),
      ev(d(7)),
      want("a nps_response nps high open #n", "a nps_response nps:passives low open #p",
           "a nps_response nps:promoters low open #pr",
           why="D+7: the promoter's answer of D-6 00:00 is 14 days old and holds"),
      ev(d(12)),
      want("a nps_response nps high open #n", "a nps_response nps:passives low open #p",
           "a nps_response nps:promoters low closed:auto_resolved #pr",
           why="D+12: the promoter's answer at D-6 00:00 is past 14 days (from D+8)"),
      ev(d(13)),
      want("a nps_response nps high open #n", "a nps_response nps:passives low closed:auto_resolved #p",
           "a nps_response nps:promoters low closed:auto_resolved #pr",
           why="the passive's answer at D-1 12:00 is past 14 days on D+13"),
      ev(d(21)),
      want("a nps_response nps high open #n",
           "a nps_response nps:passives low closed:auto_resolved #p",
           "a nps_response nps:promoters low closed:auto_resolved #pr",
           "a nps_response nps:promoters low open #pr2 | type=opportunity | reason~ann@a.io answered 10",
           why="the detractor answering 10 opens a promoter CTA; eve's fall keeps the account's risk CTA"),
      ev(d(88)),
      want("a nps_response nps high open #n",
           "a nps_response nps:passives low closed:auto_resolved #p",
           "a nps_response nps:promoters low closed:auto_resolved #pr",
           "a nps_response nps:promoters low closed:auto_resolved #pr2",
           why="a fall of 3 still holds on day 89 after the answer"),
      ev(d(89)),
      want("a nps_response nps high closed:auto_resolved #n",
           "a nps_response nps:passives low closed:auto_resolved #p",
           "a nps_response nps:promoters low closed:auto_resolved #pr",
           "a nps_response nps:promoters low closed:auto_resolved #pr2",
           why="an answer older than 90 days no longer holds")])

# card_expiring: a card 06/2026 expires 2026-06-30; one CTA raised low -> medium -> high.
case("card_expiring: 31 days none, 30 low, 15 low, 14 medium, 8 medium, 7 high on ONE CTA; a new card resolves it",
     [grp("a", "2026-04-01", csm_email="csm@a.io"), card("a", "2026-04-01", 6, 2026),
      card("a", "2026-06-25", 12, 2028)],
     [ev("2026-05-30"), want(why="31 days left: nothing"),
      ev("2026-05-31"),
      want("a card_expiring card:2026-06 low open #c | type=risk | owner=csm@a.io | due_date=2026-06-26"
           " | reason~expires on 2026-06-30, in 30 days | ev.card_days_left=30"),
      ev("2026-06-15"), want("a card_expiring card:2026-06 low open #c", why="15 days: still low"),
      ev("2026-06-16"), want("a card_expiring card:2026-06 medium open #c", why="14 days: raised to medium"),
      ev("2026-06-22"), want("a card_expiring card:2026-06 medium open #c", why="8 days: still medium"),
      ev("2026-06-23"), want("a card_expiring card:2026-06 high open #c | ev.card_days_left=7",
                             why="7 days: raised to high"),
      hist("#c", "open raise raise"),
      ev("2026-06-25"),
      want("a card_expiring card:2026-06 high closed:auto_resolved #c",
           why="a card valid to 12/2028 resolves it, and opens nothing"),
      hist("#c", "open raise raise resolve"),
      replay_same("2026-05-30", "2026-06-25")])

# renewal_upcoming, with a snooze that a raise wakes.
case("renewal_upcoming: 91 days none, 90 low, 61 low, 60 medium (wakes a snooze), 31 medium, 30 high; a new date resolves",
     [grp("a", "2026-04-01", renewal_date="2026-09-30", mrr=500),
      grp("a", "2026-09-05", renewal_date="2027-09-30")],
     [ev("2026-07-01"), want(why="91 days: nothing"),
      ev("2026-07-02"),
      want("a renewal_upcoming renewal:2026-09-30 low open #r | type=lifecycle | reason~renews on 2026-09-30, in 90 days"),
      cta("snooze", "#r", "--until", "2026-08-20"),
      ev("2026-07-31"), want("a renewal_upcoming renewal:2026-09-30 low snoozed #r", why="61 days: still low"),
      ev("2026-08-01"), want("a renewal_upcoming renewal:2026-09-30 medium open #r",
                             why="60 days: raised to medium, which wakes the snooze"),
      ev("2026-08-30"), want("a renewal_upcoming renewal:2026-09-30 medium open #r", why="31 days: medium"),
      ev("2026-08-31"), want("a renewal_upcoming renewal:2026-09-30 high open #r", why="30 days: high"),
      hist("#r", "open snooze raise raise"),
      ev("2026-09-05"),
      want("a renewal_upcoming renewal:2026-09-30 high closed:auto_resolved #r",
           why="renewal_date moved to 2027-09-30: resolved, nothing new")])

case("payment_overdue: due D-1 fires, due D does not; 30 days overdue high, 29 medium then raised; paid resolves",
     [grp(x, d(-90)) for x in "abce"] +
     [trk("a", "Invoice Issued", d(-40), invoice_id="A1", amount=100, due_date=d(-1)),
      trk("b", "Invoice Issued", d(-40), invoice_id="B1", amount=100, due_date=d(0)),
      trk("c", "Invoice Issued", d(-60), invoice_id="C1", amount=250.5, due_date=d(-30)),
      trk("e", "Invoice Issued", d(-60), invoice_id="E1", amount=100, due_date=d(-29)),
      trk("a", "Invoice Paid", d(2), invoice_id="A1")],
     [ev(d(0)),
      want("a payment_overdue - medium open #a | reason~1 invoice overdue, 100.00 in all, the oldest by 1 days",
           "c payment_overdue - high open #c | ev.max_days_overdue=30",
           "e payment_overdue - medium open #e | ev.max_days_overdue=29"),
      ev(d(1)),
      want("a payment_overdue - medium open #a", "b payment_overdue - medium open #b",
           "c payment_overdue - high open #c", "e payment_overdue - high open #e",
           why="b's invoice due the day before; e 30 days overdue: raised"),
      hist("#e", "open raise"),
      ev(d(2)),
      want("a payment_overdue - medium closed:auto_resolved #a", "b payment_overdue - medium open #b",
           "c payment_overdue - high open #c", "e payment_overdue - high open #e", why="a paid")])

case("no_login: 14 days fires, 13 does not, never logged in does not; a login resolves",
     [grp(x, d(-200), csm_email="csm@x.io") for x in "abno"] +
     [login("a", d(-14), time="00:00:00"), login("b", d(-13), time="23:59:59"), login("a", d(2)),
      login("o", d(-100))],
     [ev(d(0)),
      want("a no_login - medium open #a | type=risk | title=No logins | due_date=2026-06-29"
           " | reason=no one has logged in for 14 days (last login " + d(-14) + ")",
           "o no_login - medium open #o | ev.days_since_login=100",
           why="b (13 days) and n (never) do not fire; o's login 100 days back does"),
      ev(d(1)), want("a no_login - medium open #a", "b no_login - medium open #b", "o no_login - medium open #o"),
      ev(d(2)), want("a no_login - medium closed:auto_resolved #a", "b no_login - medium open #b",
                     "o no_login - medium open #o"),
      replay_same(d(0), d(2))])

# login_change: baseline = logins_prev_28d / 4, the 28 days being D-34..D-7.
case("login_change: baseline 10 with 5 logins fires (drop), 6 does not, baseline 9.75 does not; 20 spikes, 19 does not;"
     " resolves when clear by the margin (0.1)",
     [grp(x, d(-60)) for x in ["a", "b", "c", "m", "s", "t"]] +
     [login("a", d(-20), 40), login("a", d(-3), 5),
      login("b", d(-20), 39),
      login("c", d(-20), 40), login("c", d(-3), 6),
      login("s", d(-34), 40, time="00:00:00"), login("s", d(-3), 20),
      login("t", d(-20), 40), login("t", d(-3), 19),
      login("m", d(-20), 40), login("m", d(-3), 5),
      login("a", d(1), 2), login("m", d(1), 1)],
     [ev(d(0)),
      want("a login_change - medium open #a | type=risk | title=Logins dropped"
           " | reason=logins fell from 10/week to 5 in the last 7 days | ev.baseline_per_week=10",
           "m login_change - medium open #m",
           "s login_change - low open #s | type=opportunity | title=Logins spiked"
           " | reason~logins rose from 10/week to 20"),
      ev(d(1), to=d(3)),
      want("a login_change - medium closed:auto_resolved #a", "m login_change - medium open #m",
           "s login_change - low closed:auto_resolved #s",
           why="from D+1 a has 7 logins in 7 days (> (0.5 + 0.1) x 10), m 6 (not clear by the margin: "
               "stays), and s's baseline logins left the 28 days")])

case("usage_dip: baseline 20 with 12 events fires, 13 does not, baseline 19.75 does not; more use by the margin resolves",
     [grp(x, d(-60)) for x in "abcm"] +
     [feat("a", d(-20), 80), feat("a", d(-3), 12),
      feat("b", d(-20), 79),
      feat("c", d(-20), 80), feat("c", d(-3), 13),
      feat("m", d(-20), 80), feat("m", d(-3), 12),
      feat("a", d(1), 3, name="Export"), feat("m", d(1), 1, name="Export")],
     [ev(d(0)),
      want("a usage_dip - medium open #a | type=risk"
           " | reason=feature use fell from 20 events/week to 12 in the last 7 days",
           "m usage_dip - medium open #m"),
      ev(d(1), to=d(3)), want("a usage_dip - medium closed:auto_resolved #a", "m usage_dip - medium open #m",
                             why="a: 15 events in 7 days from D+1 (> (0.6 + 0.1) x 20); m: 13, "
                                 "not clear by the margin")])

case("intended_adoption: due D-1 and unused fires, due D does not, used on the due day does not, used before the goal does; later use resolves",
     [grp(x, d(-60)) for x in "abce"] +
     [trk(x, "Goal Set", d(-10), goal_id="g1", feature="Dashboards", due_date=d(0) if x == "b" else d(-1))
      for x in "abce"] +
     [feat("c", d(-1), name="Dashboards", time="23:59:59"),
      feat("e", d(-12), name="Dashboards"),
      feat("a", d(2), name="Dashboards")],
     [ev(d(0)),
      want("a intended_adoption goal:g1 medium open #a | type=risk | title=Adoption goal missed: Dashboards"
           " | ev.feature=Dashboards",
           "e intended_adoption goal:g1 medium open #e"),
      ev(d(1)),
      want("a intended_adoption goal:g1 medium open #a", "b intended_adoption goal:g1 medium open #b",
           "e intended_adoption goal:g1 medium open #e"),
      ev(d(2)),
      want("a intended_adoption goal:g1 medium closed:auto_resolved #a",
           "b intended_adoption goal:g1 medium open #b", "e intended_adoption goal:g1 medium open #e",
           why="a uses Dashboards, late")])

case("onboarding_stalled: due D-1 fires, due D does not, completed does not; completing resolves",
     [grp(x, d(-60)) for x in "abc"] +
     [trk(x, "Onboarding Milestone Due", d(-20), milestone="kickoff", due_date=d(0) if x == "b" else d(-1))
      for x in "abc"] +
     [trk("c", "Onboarding Milestone Completed", d(-2), milestone="kickoff"),
      trk("a", "Onboarding Milestone Completed", d(1), milestone="kickoff")],
     [ev(d(0)),
      want("a onboarding_stalled milestone:kickoff medium open #a | type=lifecycle"
           " | reason=milestone kickoff was due on " + d(-1) + " and is 1 days late"),
      ev(d(1)),
      want("a onboarding_stalled milestone:kickoff medium closed:auto_resolved #a",
           "b onboarding_stalled milestone:kickoff medium open #b")])

case("outreach_unresponsive: 3 unanswered, oldest 14 days fires; 13 days does not; 2 unanswered does not; a reply resolves",
     [grp(x, d(-60)) for x in "abce"] +
     [trk("a", "Outreach Sent", d(n), channel="email") for n in (-14, -10, -5)] +
     [trk("b", "Outreach Sent", d(n), channel="email") for n in (-13, -10, -5)] +
     [trk("c", "Outreach Sent", d(n), channel="email") for n in (-30, -20)] +
     [trk("e", "Outreach Sent", d(-40), channel="email"), trk("e", "Outreach Replied", d(-30), channel="email")] +
     [trk("e", "Outreach Sent", d(n), channel="email") for n in (-29, -10)] +
     [trk("a", "Outreach Replied", d(2), channel="email")],
     [ev(d(0)),
      want("a outreach_unresponsive - medium open #a"
           " | reason=3 outreach messages unanswered since " + d(-14) + " (14 days)",
           why="e has 2 unanswered since its reply"),
      ev(d(1)), want("a outreach_unresponsive - medium open #a", "b outreach_unresponsive - medium open #b"),
      ev(d(2)), want("a outreach_unresponsive - medium closed:auto_resolved #a",
                     "b outreach_unresponsive - medium open #b")])

case("seat_limit: 90/100 users fires medium, 89/100 does not, 10/10 high; one more user raises; more seats resolve",
     [grp("a", d(-60), seats=100), members("a", 88, d(-60)), grp("a", d(-5), user="a-u90"),
      grp("b", d(-60), seats=100), members("b", 88, d(-60)),
      grp("c", d(-60), seats=10), members("c", 9, d(-60)),
      members("a", 10, d(1), first=91), grp("a", d(2), seats=200)],
     [ev(d(0)),
      want("a seat_limit - medium open #a | type=expansion | reason=90 users on 100 seats (90%)",
           "c seat_limit - high open #c | title~Seats full"),
      ev(d(1)), want("a seat_limit - high open #a", "c seat_limit - high open #c", why="100/100: raised"),
      hist("#a", "open raise"),
      ev(d(2), to=d(4)), want("a seat_limit - high closed:auto_resolved #a", "c seat_limit - high open #c",
                              why="200 seats from D+2")])

# premium_unused: the last 30 days start at D-29 00:00.
case("premium_unused: 30 days old fires, 29 does not; a product event at D-29 00:00 counts, at D-30 does not; using it resolves",
     [grp("a", d(-60), created_at=d(-30), premium_products=["analytics"]),
      grp("b", d(-60), created_at=d(-29), premium_products=["analytics"]),
      grp("c", d(-60), created_at=d(-60) + "T00:00:00Z", premium_products=["analytics", "sso"]),
      feat("c", d(-29), name="Chart Built", product="analytics", time="00:00:00"),
      feat("c", d(-20), name="Login via SSO", product="sso"),
      grp("f", d(-30), premium_products=["analytics"]),
      grp("g", d(-29), premium_products=["analytics"]),
      feat("a", d(1), name="Chart Built", product="analytics")],
     [ev(d(0)),
      want("a premium_unused product:analytics medium open #a | reason~paid for analytics",
           "f premium_unused product:analytics medium open #f",
           why="age from created_at (a, b) or first seen (f, g)"),
      ev(d(1)),
      want("a premium_unused product:analytics medium closed:auto_resolved #a",
           "b premium_unused product:analytics medium open #b",
           "c premium_unused product:analytics medium open #c",
           "f premium_unused product:analytics medium open #f",
           "g premium_unused product:analytics medium open #g",
           why="b and g are 30 days old; c's last analytics event is now 30 days back")])

# premium_unused counts feature events WITH the product (docs/rules.md), not a
# feature name that was once sent with it: a's "Chart Built" carried
# product=analytics 40 days ago and has been used untagged since.
case("premium_unused: only events with the product count, not a feature name once tagged with it",
     [grp("a", d(-60), premium_products=["analytics"]),
      feat("a", d(-40), name="Chart Built", product="analytics"),
      feat("a", d(-5), n=3, name="Chart Built"),
      grp("b", d(-60), premium_products=["analytics"]),
      feat("b", d(-5), name="Chart Built", product="analytics")],
     [ev(d(0)),
      want("a premium_unused product:analytics medium open #a"
           " | reason~no feature event with product analytics in the last 30 days",
           why="b used it tagged"),
      imp(feat("a", d(1), name="Chart Built", product="analytics")),
      ev(d(1)),
      want("a premium_unused product:analytics medium closed:auto_resolved #a",
           why="a tagged event resolves it")])

case("support_tickets: 5 tickets in 30 days fires, 4 does not; too_quiet: 20 users, none in 180 days (low), 19 users or a ticket at D-179 00:00 do not; resolves",
     [grp("a", d(-400)), [trk("a", "Ticket Opened", d(n), ticket_id=f"A{n}{i}")
                          for i, n in enumerate((-29, -29, -29, -3, -2))],
      grp("m", d(-400)), [trk("m", "Ticket Opened", d(n), ticket_id=f"M{n}") for n in (-29, -5, -4, -3, -2)],
      grp("b", d(-400)), [trk("b", "Ticket Opened", d(-2), ticket_id=f"B{i}") for i in range(4)],
      grp("q", d(-400)), members("q", 19, d(-400)), trk("q", "Ticket Opened", d(-180), ticket_id="Q1"),
      grp("r", d(-400)), members("r", 19, d(-400)),
      trk("r", "Ticket Opened", d(-179), ticket_id="R1", time="00:00:00"),
      grp("s", d(-400)), members("s", 18, d(-400)),
      trk("q", "Ticket Opened", d(1), ticket_id="Q2")],
     [ev(d(0)),
      want("a support_tickets too_many medium open #a | type=risk"
           " | reason=5 tickets opened in the last 30 days, 5 still open",
           "m support_tickets too_many medium open #m",
           "q support_tickets too_quiet low open #q | title~too quiet"),
      ev(d(1)), want("r support_tickets too_quiet low open #r", why="r's ticket is 180 days back", accounts="r"),
      ev(d(2), to=d(3)),
      want("a support_tickets too_many medium closed:auto_resolved #a",
           "m support_tickets too_many medium open #m",
           "q support_tickets too_quiet low closed:auto_resolved #q",
           "r support_tickets too_quiet low open #r",
           why="from D+1, a's three D-29 tickets left the 30 days (2 < 5 - 2) and q opened a ticket; "
               "m's one (4 left) is not clear by the margin"),
      replay_same(d(0), d(3))])

# ---- life cycle ----------------------------------------------------------------------

NOLOGIN = [grp("a", d(-60), csm_email="csm@a.io"), login("a", d(-20))]

case("dedup: evaluating a day again, or replaying over it, makes no second CTA",
     [NOLOGIN, grp("b", d(-60), seats=1)],
     [ev(d(0)),
      want("a no_login - medium open #a", "b seat_limit - high open #b"),
      ev(d(0), nochange=True),
      want("a no_login - medium open #a", "b seat_limit - high open #b"),
      ev(d(0), to=d(5)), ev(d(5), nochange=True),
      want("a no_login - medium open #a", "b seat_limit - high open #b"),
      hist("#a", "open"), hist("#b", "open"),
      ev(d(-1), rc=2, err="evaluated up to " + d(5) + " already"),
      replay_same(d(0), d(5)),
      ev(d(-2), to=d(5), rebuild=True),
      want("a no_login - medium open", "b seat_limit - high open", why="--rebuild replays from scratch: the same CTAs"),
      ev(d(5), nochange=True)],
     rules=["no_login", "seat_limit"])

case("snooze: stays snoozed until its day, wakes once on it",
     NOLOGIN,
     [ev(d(0)), want("a no_login - medium open #a"),
      cta("snooze", "#a", "--until", d(3)),
      want("a no_login - medium snoozed #a | snoozed_until=" + d(3)),
      ev(d(1)), want("a no_login - medium snoozed #a"),
      ev(d(2)), want("a no_login - medium snoozed #a"),
      ev(d(3)), want("a no_login - medium open #a", why="woken on its day"),
      ev(d(4)), ev(d(5)), want("a no_login - medium open #a"),
      hist("#a", "open snooze wake"),
      cta("snooze", "#a", "--until", d(5), rc=2, err="until must be after " + d(5))],
     rules=["no_login"])

case("cooldown: closed by hand while it holds: quiet for 14 days, a new CTA after",
     NOLOGIN,
     [ev(d(0)), want("a no_login - medium open #a"),
      cta("close", "#a", "--reason", "resolved"),
      ev(d(1), to=d(13)),
      want("a no_login - medium closed:resolved #a | closed_date=" + d(0), why="days 1-13 after the close"),
      ev(d(14)),
      want("a no_login - medium closed:resolved #a", "a no_login - medium open #a2",
           why="14 days after the close"),
      hist("#a", "open close"), cta("close", "#a", "--reason", "resolved", rc=2, err="closed already")],
     rules=["no_login"])

case("reopen: a condition that clears and returns is a new CTA, even within a cooldown",
     [grp("a", d(-60)), login("a", d(-3)), login("a", d(1)), grp("b", d(-60)), login("b", d(-3))],
     [ev(d(0)), want("a no_login - medium open #a", "b no_login - medium open #b"),
      cta("close", "#b", "--reason", "not_relevant"),
      ev(d(1)), want("a no_login - medium closed:auto_resolved #a", "b no_login - medium closed:not_relevant #b"),
      ev(d(3)), want("a no_login - medium closed:auto_resolved #a", "b no_login - medium closed:not_relevant #b"),
      ev(d(4)),
      want("a no_login - medium closed:auto_resolved #a", "a no_login - medium open #a2",
           "b no_login - medium closed:not_relevant #b",
           why="a's returns: new CTA; b still in its cooldown (never cleared): none")],
     config={"rules": {"no_login": {"days": 3}}, "ctas": {"cooldown_days": 30}}, rules=["no_login"])

case("churn: an account that churns has its CTAs closed as churned",
     [NOLOGIN, trk("a", "Account Churned", d(2), reason="price")],
     [ev(d(0)), want("a no_login - medium open #a"),
      ev(d(2)), want("a no_login - medium closed:churned #a"), hist("#a", "open close")],
     rules=["no_login"])

case("assign: a person reassigns a CTA; the default owner when no csm_email",
     [grp("a", d(-60)), login("a", d(-20))],
     [ev(d(0)), want("a no_login - medium open #a | owner=cs-team@x.io"),
      cta("assign", "#a", "ann@x.io"), want("a no_login - medium open #a | owner=ann@x.io"),
      hist("#a", "open assign")],
     config={"ctas": {"default_owner": "cs-team@x.io"}}, rules=["no_login"])

# ---- configuration -------------------------------------------------------------------

case("config: a threshold, a priority, a type and a segment scope; a switched-off rule",
     [grp("a", d(-60), segment="smb"), login("a", d(-10)), grp("b", d(-60), segment="smb"), login("b", d(-9)),
      grp("e", d(-60), segment="enterprise"), login("e", d(-30)),
      grp("c", "2026-04-01", segment="smb"), card("c", "2026-04-01", 6, 2026)],
     [ev(d(0)), want("a no_login - high open #a | type=lifecycle",
                     why="days: 10 fires at 10, not at 9; e is out of scope; card_expiring is off")],
     config={"rules": {"no_login": {"days": 10, "priority": "high", "type": "lifecycle", "segments": ["smb"]},
                       "card_expiring": {"enabled": False}}},
     rules=["no_login", "card_expiring"])

case("config: ctas.max_open_per_account holds back the least urgent opens, and says so",
     [grp("a", "2026-04-01", seats=1), login("a", d(-20)), card("a", "2026-04-01", 6, 2026)],
     [ev(d(0), err="CTAs NOT opened: a cap was reached"), want("a seat_limit - high open #a", why="high first"),
      ev(d(1)), want("a seat_limit - high open #a")],
     config={"ctas": {"max_open_per_account": 1}}, rules=["no_login", "seat_limit", "card_expiring"])

LOW_USE = {"name": "low_use", "when": "seat_utilization < 0.3", "title": "Low seat use",
           "reason": 'string.format("%d%% of seats used", seat_utilization*100)',
           "type": "expansion", "priority": "high", "segments": ["smb"]}
case("custom rule: fires with its title, reason, type, priority, in its segment only; resolves",
     [grp("a", d(-60), segment="smb", seats=4), grp("b", d(-60), segment="enterprise", seats=4),
      grp("c", d(-60), segment="smb", seats=10), members("c", 2, d(-60)),
      grp("a", d(1), user="a2")],
     [ev(d(0)),
      want("a low_use - high open #a | type=expansion | title=Low seat use | reason=25% of seats used"
           " | ev.seat_utilization=0.25",
           why="b is out of the segment, c is at 0.3"),
      ev(d(1)), want("a low_use - high closed:auto_resolved #a")],
     config={"rules": {"custom": [LOW_USE]}}, rules=["low_use"])

BROKEN = {"name": "broken", "when": "local per_seat = users / seats\nreturn per_seat > 2"}
case("custom rule: a runtime error is named with rule and line; the built-in rules go on",
     [grp("a", d(-60)), login("a", d(-20))],
     [ev(d(0), err="rule broken: line 1"),
      want("a no_login - medium open #a", why="no_login still fires")],
     config={"rules": {"custom": [BROKEN]}}, rules=["no_login", "broken"])

FLAKY = {"name": "flaky", "when": "local s = seats\nreturn users / s >= 1"}
case("custom rule: an error on a later day does not resolve the rule's CTA",
     [grp("a", d(-60), seats=1), grp("a", d(1), seats=None)],
     [ev(d(0)), want("a flaky - medium open #a"),
      ev(d(1), err="rule flaky: line 2"),
      want("a flaky - medium open #a", why="the condition is unknown, not cleared")],
     config={"rules": {"custom": [FLAKY]}}, rules=["flaky"])


def config_error(name, config, needle):
    case("config error: " + name, [grp("a", d(-60)), login("a", d(-20))],
         [ev(d(0), rc=2, err=needle), want(why="nothing evaluated")], config=config, rules=[None])


config_error("an unknown rule is refused with its path", {"rules": {"no_logins": {"days": 3}}},
             "rules.no_logins: not a built-in rule")
config_error("an unknown setting of a rule", {"rules": {"no_login": {"dayz": 3}}},
             "rules.no_login.dayz: unknown setting")
config_error("a threshold out of range", {"rules": {"no_login": {"days": 0}}},
             "rules.no_login.days: must be a number from 1 to 3650")
config_error("a custom rule's syntax error names rule and line",
             {"rules": {"custom": [{"name": "oops", "when": "users >\n>= 3"}]}}, "rule oops: line")
config_error("an unknown ctas setting", {"ctas": {"cooldown": 3}}, "ctas.cooldown: unknown setting")


# ---- what looked wrong while writing these (see the report of issue 4) ---------------

case("intended_adoption: a goal set again with a new due date is judged by the new date",
     [grp("a", d(-60)), trk("a", "Goal Set", d(-20), goal_id="g1", feature="Dash", due_date=d(-10)),
      trk("a", "Goal Set", d(-15), goal_id="g1", feature="Dash", due_date=d(-1))],
     [ev(d(-5)), want(why="the first due date was replaced before it passed"),
      ev(d(0)), want("a intended_adoption goal:g1 medium open #a", why="the new due date passed")])

case("intended_adoption: a goal set twice and missed twice is one CTA, and the day's evaluation goes through",
     [grp("a", d(-60)), trk("a", "Goal Set", d(-20), goal_id="g1", feature="Dash", due_date=d(-10)),
      trk("a", "Goal Set", d(-15), goal_id="g1", feature="Dash", due_date=d(-1)),
      grp("b", d(-60)), login("b", d(-20))],
     [ev(d(0)), want("a intended_adoption goal:g1 medium open", "b no_login - medium open")],
     rules=["intended_adoption", "no_login"])

case("premium_unused: a product listed twice in premium_products is one CTA, and the day's evaluation goes through",
     [grp("a", d(-60), premium_products=["sso", "sso"]), grp("b", d(-60)), login("b", d(-20))],
     [ev(d(0)), want("a premium_unused product:sso medium open", "b no_login - medium open")],
     rules=["premium_unused", "no_login"])

case("health_drop: compares with the score of 30 days before under the same configuration",
     [grp("y", d(-60), mrr=40)],
     [tend("score", "--at", d(-30)),
      ev(d(0)), want(why="score 40 now and 40 under this configuration then (tend score stored 100 with the defaults)")],
     config=MRR_SCORE)

__import__("rules_cases_champion").add(globals())  # champion_risk, nps_change


# ---- the runner ------------------------------------------------------------------------

def run(args, **kw):
    return subprocess.run([TEND] + args, capture_output=True, text=True, timeout=300, **kw)


def report(name, good, *details):
    print(("ok - " if good else "not ok - ") + name)
    if not good:
        for line in details:
            print("    " + str(line).replace("\n", "\n    "))


def parse_line(line):
    head, *extras = [p.strip() for p in line.split("|")]
    words = head.split()
    label = next((w for w in words if w.startswith("#")), None)
    words = [w for w in words if not w.startswith("#")]
    acct, rule, subject, prio, status = words
    return dict(key=(acct, rule, "" if subject == "-" else subject, prio, status), label=label,
                extras=extras, line=line)


def key_of(c):
    status = c["status"] if c["status"] != "closed" else "closed:" + (c["closed_reason"] or "?")
    return (c["account_id"], c["rule"], c["subject"] or "", c["priority"], status)


def fmt(k):
    return " ".join(k[:2] + (k[2] or "-",) + k[3:])


class Case:
    def __init__(self, c):
        self.c = c
        self.name = c["name"]
        self.dir = os.path.join(TMP, f"case{CASES.index(c)}")
        os.makedirs(self.dir)
        self.db = testdb.db(f"case{CASES.index(c)}", tmp=self.dir)
        self.labels = {}  # label -> id
        self.shown = {}  # id -> cta show json
        self.day = None
        self.evals = []
        self.config = None
        if c["config"] is not None:
            self.config = os.path.join(self.dir, "tend.yaml")
            with open(self.config, "w") as f:
                json.dump(c["config"], f, indent=1)
        self.n_imports = 0
        self.imp(c["events"], self.db)

    def check(self, what, good, *details):
        report(f"{self.name}: {what}", good, *details)

    def imp(self, events, db):
        self.n_imports += 1
        path = os.path.join(self.dir, f"events{self.n_imports}.jsonl")
        with open(path, "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
        r = run(["import", "--db", db, path])
        if r.returncode != 0 or " 0 rejected" not in r.stdout or " 0 quarantined" not in r.stdout:
            self.check("import", False, r.stdout, r.stderr)
        self.files = getattr(self, "files", []) + [path]

    def ctas(self, db=None):
        r = run(["ctas", "--db", db or self.db, "--status", "all", "--format", "json"])
        if r.returncode != 0:
            raise RuntimeError("tend ctas failed: " + r.stderr)
        rules = self.c["rules"]
        return [c for c in json.loads(r.stdout) if None in rules or c["rule"] in rules]

    def show(self, cid):
        r = run(["cta", "show", str(cid), "--db", self.db, "--format", "json"])
        if r.returncode != 0:
            raise RuntimeError(f"tend cta show {cid} failed: " + r.stderr)
        return json.loads(r.stdout)

    def step_ev(self, a):
        args = ["eval", "--db", self.db]
        cfg = self.config if a["config"] == "case" else a["config"]
        if cfg:
            args += ["--config", cfg]
        args += ["--from", a["day"], "--to", a["to"]] if a["to"] else ["--at", a["day"]]
        if a["rebuild"]:
            args.append("--rebuild")
        r = run(args)
        what = f"eval {'--from %s --to %s' % (a['day'], a['to']) if a['to'] else '--at ' + a['day']}"
        if r.returncode == 0 and a["rc"] == 0:
            self.day = a["to"] or a["day"]
            self.evals.append(self.day)
        problems = []
        if r.returncode != a["rc"]:
            problems.append(f"exit {r.returncode}, expected {a['rc']}")
        if a["out"] and a["out"] not in r.stdout:
            problems.append(f"stdout lacks {a['out']!r}")
        if a["err"] and a["err"] not in r.stderr:
            problems.append(f"stderr lacks {a['err']!r}")
        if a["nochange"] and "opened 0, raised 0, woke 0, resolved 0" not in r.stdout:
            problems.append("expected no change")
        if problems or a["rc"] or a["out"] or a["err"] or a["nochange"]:
            desc = what + (f" exits {a['rc']}" if a["rc"] else "")
            desc += f", says {a['err']!r}" if a["err"] else ""
            desc += ", prints no change" if a["nochange"] else ""
            self.check(desc, not problems, *problems, "stdout: " + r.stdout, "stderr: " + r.stderr)

    def step_want(self, a):
        expected = [parse_line(l) for l in a["lines"]]
        actual = sorted(self.ctas(), key=lambda c: c["id"])
        if a["accounts"]:
            actual = [c for c in actual if c["account_id"] in a["accounts"].split()]
        what = f"at {self.day or 'the start'}: " + (a["why"] or "; ".join(fmt(e["key"]) for e in expected) or "no CTA")
        problems = []
        ek = sorted(e["key"] for e in expected)
        ak = sorted(key_of(c) for c in actual)
        if ek != ak:
            self.check(what, False, "expected: " + (" | ".join(fmt(k) for k in ek) or "none"),
                       "actual:   " + (" | ".join(fmt(k) for k in ak) or "none"))
            return
        pool = {}
        for c in actual:
            pool.setdefault(key_of(c), []).append(c)
        for e in expected:
            c = pool[e["key"]].pop(0)
            lab = e["label"]
            if lab:
                if lab in self.labels and self.labels[lab] != c["id"]:
                    problems.append(f"{lab} was CTA {self.labels[lab]}, now {c['id']} ({fmt(e['key'])})")
                elif lab not in self.labels:
                    other = [l for l, i in self.labels.items() if i == c["id"]]
                    if other:
                        problems.append(f"{lab} is CTA {c['id']}, the same as {other[0]}: expected a new CTA")
                    self.labels[lab] = c["id"]
            for x in e["extras"]:
                op = "=" if "=" in x and ("~" not in x or x.index("=") < x.index("~")) else "~"
                field, value = x.split(op, 1)
                v = c["evidence"].get(field[3:]) if field.startswith("ev.") else c.get(field)
                v = "" if v is None else (("%g" % v) if isinstance(v, float) else str(v))
                if (op == "=" and v != value) or (op == "~" and value not in v):
                    problems.append(f"{fmt(e['key'])}: {field} is {v!r}, expected {op} {value!r}")
            if c["closed_reason"] == "auto_resolved" and c["status"] == "closed":
                if c["id"] not in self.shown:
                    self.shown[c["id"]] = self.show(c["id"])
                h = self.shown[c["id"]]["history"]
                last = h[-1] if h else {}
                if not (last.get("action") == "resolve" and last.get("actor") == "tend" and
                        last.get("status") == "closed" and
                        "the condition no longer holds" in (last.get("note") or "")):
                    problems.append(f"{fmt(e['key'])}: history does not say it auto-resolved: {last}")
        self.check(what, not problems, *problems)

    def label(self, lab):
        if lab not in self.labels:
            raise RuntimeError(f"label {lab} not bound yet")
        return self.labels[lab]

    def step_cta(self, a):
        cid = self.label(a["label"])
        r = run(["cta", a["verb"], str(cid)] + list(a["args"]) + ["--db", self.db, "--by", "tester"])
        self.shown.pop(cid, None)
        what = f"cta {a['verb']} {a['label']} {' '.join(a['args'])}".strip()
        problems = []
        if r.returncode != a["rc"]:
            problems.append(f"exit {r.returncode}, expected {a['rc']}")
        if a["err"] and a["err"] not in r.stderr:
            problems.append(f"stderr lacks {a['err']!r}")
        if problems or a["rc"]:
            self.check(what + (f" exits {a['rc']}" if a["rc"] else ""), not problems, *problems,
                       r.stdout, r.stderr)

    def step_hist(self, a):
        cid = self.label(a["label"])
        h = self.show(cid)["history"]
        actions = [x["action"] for x in h]
        self.check(f"at {self.day or 'the start'}: history of {a['label']} is {' '.join(a['actions'])}",
                   actions == a["actions"], "actual: " + json.dumps(h))

    def step_tend(self, a):
        r = run(list(a["args"]) + ["--db", self.db])
        if r.returncode != a["rc"] or (a["err"] and a["err"] not in r.stderr):
            self.check("tend " + " ".join(a["args"]), False, f"exit {r.returncode}", r.stdout, r.stderr)

    def step_imp(self, a):
        self.imp(a["events"], self.db)

    def step_replay(self, a):
        db = testdb.db(f"case{CASES.index(self.c)}-replay", tmp=self.dir)
        for path in self.files:
            r = run(["import", "--db", db, path])
        args = ["eval", "--db", db, "--from", a["first"], "--to", a["last"], "--quiet"]
        if self.config:
            args += ["--config", self.config]
        r = run(args)

        def strip(cs):
            return sorted((key_of(c), c["opened_date"], c["closed_date"], c["due_date"]) for c in cs)

        mine, theirs = strip(self.ctas()), strip(self.ctas(db)) if r.returncode == 0 else None
        self.check(f"a replay --from {a['first']} --to {a['last']} ends with the same CTAs",
                   r.returncode == 0 and mine == theirs, r.stderr, f"evaluated: {mine}",
                   f"replayed:  {theirs}")

    def run(self):
        for kind, a in self.c["steps"]:
            try:
                getattr(self, "step_" + kind)(a)
            except Exception as x:  # one broken step must not hide the rest
                self.check(f"{kind} step", False, repr(x))


import rules_cases_segment  # noqa: E402,F401 (segment_shift's cases: they add to CASES)

for c in CASES:
    if ONLY and ONLY not in c["name"]:
        continue
    Case(c).run()

