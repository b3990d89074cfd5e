"""champion_risk and nps_change as data (docs/rules.md), in the format of
rules_cases.py, which calls add(globals()) so that these cases use its
helpers and runner. Each rule fires on its planted case, stays silent on a
control, and resolves when the condition clears. BASE is 2026-06-15; d(n) is
n days from it, and `tend eval --at d(0)` counts what happened before d(1)."""


def add(g):
    case, grp, trk, want, ev, imp, d, _msg = (g[k] for k in
                                             "case grp trk want ev imp d _msg".split())

    def who(user, day, **traits):
        """An identify of user on day with traits (role=...)."""
        return _msg("identify", user, day, "00:00:00", traits=traits)

    def logins(acct, user, days):
        return [trk(acct, "Signed In", d(n), user=user) for n in days]

    def team(acct, champion="champ", admin="adm"):
        """acct with a champion and an admin, members since d(-100)."""
        return [who(f"{acct}-{champion}", d(-100), email=f"{champion}@{acct}.io", role="champion"),
                who(f"{acct}-{admin}", d(-100), email=f"{admin}@{acct}.io", role="Admin"),
                grp(acct, d(-100), user=f"{acct}-{champion}", csm_email="csm@t.io"),
                grp(acct, d(-100), user=f"{acct}-{admin}")]

    every_day = range(-60, 1)

    # ---- champion_risk ------------------------------------------------------------

    case("champion_risk: the champion removed from the account needs a new champion; a new one marked resolves it",
         [team("a"), logins("a", "a-adm", every_day), logins("a", "a-champ", range(-60, -2)),
          trk("a", "Account Removed User", d(-2), user="a-champ"),
          team("b"), logins("b", "b-adm", every_day), logins("b", "b-champ", every_day),
          who("a-new", d(1), email="new@a.io", role="champion"), grp("a", d(1), user="a-new"),
          logins("a", "a-new", [1])],
         [ev(d(0)),
          want("a champion_risk champion:left medium open #a | type=risk | title=New champion needed"
               " | reason~champion champ@a.io left the account on " + d(-2) +
               " | ev.champion=champ@a.io | ev.removed_on=" + d(-2) + " | ev.engaged_admins=1",
               why="a's champion was removed; b's champion signs in every day"),
          ev(d(1)),
          want("a champion_risk champion:left medium closed:auto_resolved #a",
               why="a member is marked champion again and signs in")],
         rules=["champion_risk"])

    case("champion_risk: a champion who stops signing in for 21 days is going quiet; a login resolves it",
         [team("a"), logins("a", "a-adm", every_day), logins("a", "a-champ", range(-62, -25, 4)),
          team("b"), logins("b", "b-adm", every_day), logins("b", "b-champ", range(-30, -19)),
          logins("a", "a-champ", [2])],
         [ev(d(0)),
          want("a champion_risk champion:quiet medium open #a | title=Champion going quiet"
               " | reason~champion champ@a.io has not signed in for 26 days (last login: " + d(-26) + ")"
               " | ev.days_since_login=26",
               why="a's champion: 26 days without a login; b's: 20, under quiet_days (21); a login every"
                   " 4 days before (under min_baseline 8 in 4 weeks) and b's 3 are no baseline for a drop"),
          ev(d(1)),
          want("a champion_risk champion:quiet medium open #a",
               "b champion_risk champion:quiet medium open #b | ev.days_since_login=21",
               why="b's champion reaches 21 days"),
          ev(d(2)),
          want("a champion_risk champion:quiet medium closed:auto_resolved #a",
               "b champion_risk champion:quiet medium open #b", why="a's champion signed in on D+2")],
         rules=["champion_risk"])

    # A login every day for the 4 weeks before, then one every 4 days: 7 in
    # the last 4 weeks against 28 (0.25, under drop_ratio 0.3).
    case("champion_risk: a sharp drop against the champion's own 4 weeks before; logins back resolve it",
         [team("a"), logins("a", "a-adm", every_day), logins("a", "a-champ", range(-55, -27)),
          logins("a", "a-champ", range(-24, 1, 4)),
          team("b"), logins("b", "b-adm", every_day), logins("b", "b-champ", range(-55, 1)),
          logins("a", "a-champ", range(1, 8))],
         [ev(d(0)),
          want("a champion_risk champion:quiet medium open #a | title=Champion going quiet"
               " | reason~signed in 7 times in the last 4 weeks, against 28 in the 4 weeks before"
               " | ev.logins_4w=7 | ev.logins_prev_4w=28",
               why="a's champion fell to a quarter; b's signs in every day"),
          ev(d(3)),
          want("a champion_risk champion:quiet medium closed:auto_resolved #a",
               why="3 more logins: 9 in the last 4 weeks, over 0.3 x 28")],
         rules=["champion_risk"])

    case("champion_risk: no engaged admin left at all is high; the most engaged admin stands in for an unmarked champion",
         [team("a"), logins("a", "a-adm", range(-60, -30)), logins("a", "a-champ", range(-60, -30)),
          who("c-adm1", d(-100), email="one@c.io", role="admin"),
          who("c-adm2", d(-100), email="two@c.io", role="admin"),
          grp("c", d(-100), user="c-adm1"), grp("c", d(-100), user="c-adm2"),
          logins("c", "c-adm1", range(-60, -40, 5)), logins("c", "c-adm2", range(-60, -30, 4)),
          grp("n", d(-100), user="n-plain"), logins("n", "n-plain", range(-60, -30)),
          logins("c", "c-adm2", [1])],
         [ev(d(0)),
          want("a champion_risk champion:quiet high open #a | title=Champion going quiet"
               " | reason~no admin or champion has signed in within 21 days | ev.engaged_admins=0",
               "c champion_risk champion:quiet high open #c"
               " | reason~the most engaged admin (no member is marked champion) two@c.io has not signed in"
               " | ev.role=admin (most engaged)",
               why="a: champion and admin quiet; c: no champion, both admins quiet, two@ the more engaged;"
                   " n: no user has a role, nothing to watch"),
          ev(d(1)),
          want("a champion_risk champion:quiet high open #a", "c champion_risk champion:quiet high closed:auto_resolved #c",
               why="c's admin signed in")],
         rules=["champion_risk"])

    case("champion_risk: a group call that moves the champion to another account, with no login here since",
         [team("a"), logins("a", "a-adm", every_day), logins("a", "a-champ", range(-60, -5)),
          grp("z", d(-3), user="a-champ"),
          team("b"), logins("b", "b-adm", every_day), logins("b", "b-champ", range(-60, 1)),
          grp("y", d(-3), user="b-champ")],
         [ev(d(0)),
          want("a champion_risk champion:left medium open #a | title=New champion needed"
               " | reason~joined another account on " + d(-3) + " and has not signed in here since"
               " | ev.joined_elsewhere_on=" + d(-3),
               why="b's champion joined y too but still signs in at b")],
         rules=["champion_risk"])

    case("champion_risk: a quiet champion who then leaves: the quiet CTA resolves, a new one says a new champion is needed",
         [team("a"), logins("a", "a-adm", every_day), logins("a", "a-champ", range(-62, -25, 4)),
          trk("a", "Account Removed User", d(1), user="a-champ")],
         [ev(d(0)),
          want("a champion_risk champion:quiet medium open #q | title=Champion going quiet"),
          ev(d(1)),
          want("a champion_risk champion:quiet medium closed:auto_resolved #q",
               "a champion_risk champion:left medium open #l | title=New champion needed"
               " | reason~left the account on " + d(1),
               why="a champion gone is other news than one going quiet")],
         rules=["champion_risk"])

    # ---- nps_change ---------------------------------------------------------------

    def answers(acct, users, day, score):
        return [trk(acct, "NPS Survey Responded", d(day), user=u, score=score) for u in users]

    five = [f"p{i}" for i in range(5)]
    others = [f"q{i}" for i in range(5)]
    case("nps_change: the account's NPS falls 20+ points with 5 answers in each 90 days (risk), rises (opportunity);"
         " 4 answers are too few; clears when the NPS comes back",
         [grp("a", d(-200)), answers("a", five, -120, 10), answers("a", others, -10, 2),
          grp("r", d(-200)), answers("r", five, -120, 3), answers("r", others, -10, 10),
          grp("f", d(-200)), answers("f", five, -120, 10), answers("f", others[:4], -10, 2),
          answers("a", others, 5, 10)],
         [ev(d(0)),
          want("a nps_change - medium open #a | type=risk | title=Account NPS fell"
               " | reason~NPS fell from 100 to 0 in 90 days (5 answers in the last 90 days, 5 in the 90 before)"
               " | ev.nps=0 | ev.nps_before=100",
               "r nps_change - low open #r | type=opportunity | title=Account NPS rose"
               " | reason~NPS rose from -100 to 0",
               why="f fell as far, but has 4 answers in the last 90 days: too few")],
         rules=["nps_change"])

    case("nps_change: a move under 20 points is silent; the NPS coming back resolves the CTA",
         [grp("a", d(-200)), answers("a", five, -120, 10), answers("a", others, -10, 2),
          grp("s", d(-200)), answers("s", five + others[:1], -120, 10), answers("s", others[1:], -10, 10),
          answers("s", ["z1"], -10, 8),
          answers("a", others, 5, 10)],
         [ev(d(0)),
          want("a nps_change - medium open #a",
               why="s: 100 before, 100 x 10 / 11 = 91 now: 9 points, silent"),
          ev(d(6)),
          want("a nps_change - medium closed:auto_resolved #a",
               why="a's detractors answered 10 on D+5: NPS 100 again")],
         rules=["nps_change"])
