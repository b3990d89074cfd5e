"""The users of users.sh and browser_users.sh as Segment messages (JSON Lines).

usage: TODAY=YYYY-MM-DD users_data.py OUT.jsonl

acme: ann the champion (daily logins from 70 to 30 days ago, then none), bob
the admin (daily, two a day in the last 4 weeks), cy billing, dee with no role
(three logins, two features, NPS 8 then 3), eve a former member; beta: pat,
no role; gamma: 5 promoters 120 days ago, 4 detractors 10 days ago."""
import datetime as dt, json, os, sys
today = dt.date.fromisoformat(os.environ["TODAY"])
out, n = [], [0]
def day(k): return (today - dt.timedelta(days=k)).isoformat()
def msg(kind, user, when, **f):
    n[0] += 1
    m = {"type": kind, "userId": user, "timestamp": when, "messageId": f"u{n[0]}"}
    m.update(f)
    out.append(m)
def trk(acct, user, k, event, hour=12, **props):
    msg("track", user, f"{day(k)}T{hour:02d}:00:00Z", event=event, context={"groupId": acct},
        properties=props)
msg("group", "ann", f"{day(200)}T00:00:00Z", groupId="acme", traits={"name": "Acme", "csm_email": "csm@t.io"})
for user, traits in [("ann", {"email": "ann@acme.io", "name": "Ann <b>Lee</b>", "role": "Champion"}),
                     ("bob", {"email": "bob@acme.io", "role": "admin"}),
                     ("cy", {"email": "cy@acme.io", "role": ["billing"]}),
                     ("dee", {"email": "dee@acme.io"}),
                     ("eve", {"email": "eve@acme.io", "role": "user"})]:
    msg("identify", user, f"{day(200)}T00:00:01Z", traits=traits)
    msg("group", user, f"{day(200)}T00:00:02Z", groupId="acme")
for k in range(30, 71):          # ann: daily from 70 to 30 days ago, then nothing
    trk("acme", "ann", k, "Signed In")
for k in range(0, 84):           # bob: daily, two a day in the last 4 weeks
    trk("acme", "bob", k, "Signed In")
    if k < 28:
        trk("acme", "bob", k, "Signed In", hour=13)
for k in (40, 41, 45):           # dee: three logins, two features
    trk("acme", "dee", k, "Signed In")
trk("acme", "dee", 3, "Report Run")
trk("acme", "dee", 4, "Report Run")
trk("acme", "dee", 5, "Export")
trk("acme", "dee", 40, "Old Feature")   # outside 30 days
trk("acme", "ann", 50, "NPS Survey Responded", score=9)
trk("acme", "dee", 20, "NPS Survey Responded", score=8)
trk("acme", "dee", 10, "NPS Survey Responded", score=3)
trk("acme", "bob", 20, "Outreach Replied")
trk("acme", "bob", 100, "Outreach Replied")  # outside 90 days
trk("acme", "eve", 60, "Signed In")
trk("acme", "eve", 50, "Account Removed User")
msg("group", "pat", f"{day(200)}T00:00:00Z", groupId="beta", traits={"name": "Beta"})
for k in range(0, 60, 2):
    trk("beta", "pat", k, "Signed In")
# gamma: 5 promoters 120 days ago, 4 detractors 10 days ago (too few to compare yet)
msg("group", "g0", f"{day(200)}T00:00:00Z", groupId="gamma", traits={"name": "Gamma"})
for i in range(5):
    trk("gamma", f"gp{i}", 120, "NPS Survey Responded", score=10)
for i in range(4):
    trk("gamma", f"gd{i}", 10, "NPS Survey Responded", score=1)
with open(sys.argv[1], "w") as f:
    for m in out:
        f.write(json.dumps(m) + "\n")
