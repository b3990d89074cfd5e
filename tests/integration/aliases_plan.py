"""aliases_plan.py: a Segment tracking plan with a team's own event names,
and the same data written with tend's names (for tests/integration/aliases.sh).

Usage: aliases_plan.py OUT_DIR
Writes OUT_DIR/team.jsonl (the team's names: "Logged In", "NPS Submitted"
with nps_score, "Ticket Created" with id, noisy "Page Viewed" track events),
OUT_DIR/tend.jsonl (the same messages with tend's names and properties, no
"Page Viewed") and prints the number of "Page Viewed" events, aliased events
and events with a property renamed, space-separated. Deterministic (seeded).
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

out = sys.argv[1]
rng = random.Random(19)
start = datetime(2026, 10, 1, tzinfo=timezone.utc)
days = 61  # through 2026-11-30
team, tend = [], []
counts = {"ignored": 0, "aliased": 0, "renamed": 0}
n = 0


def ts(day, hour):
    t = start + timedelta(days=day, hours=hour, minutes=rng.randrange(60))
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def emit(msg, team_event=None, team_props=None, tend_event=None, tend_props=None):
    """One message in both files; track events with each file's names."""
    global n
    n += 1
    msg["messageId"] = "m%d" % n
    if team_event is None:
        team.append(msg)
        tend.append(msg)
        return
    a = dict(msg, type="track", event=team_event, properties=team_props or {})
    team.append(a)
    if tend_event is not None:
        tend.append(dict(msg, type="track", event=tend_event, properties=tend_props or {}))


accounts = ["acme", "globex", "initech", "umbrella", "hooli", "stark"]
for i, acc in enumerate(accounts):
    users = ["%s-u%d" % (acc, k) for k in range(3)]
    emit({"type": "group", "userId": users[0], "groupId": acc, "timestamp": ts(0, 1),
          "traits": {"name": acc.title(), "mrr": 100 * (i + 1), "seats": 10,
                     "renewal_date": "2027-%02d-15" % (i + 1)}})
    for u in users:
        emit({"type": "identify", "userId": u, "timestamp": ts(0, 2),
              "traits": {"email": u + "@example.com", "company_id": acc}})
        emit({"type": "group", "userId": u, "groupId": acc, "timestamp": ts(0, 3)})
    # Half the accounts stop logging in after day 40: a usage drop.
    active_until = days if i % 2 == 0 else 40
    for d in range(days):
        for u in users:
            ctx = {"groupId": acc}
            if d < active_until and rng.random() < 0.7:
                emit({"userId": u, "timestamp": ts(d, 9), "context": ctx}, "Logged In", {},
                     "Signed In", {})
                counts["aliased"] += 1
                if rng.random() < 0.5:
                    prod = rng.choice(["reports", "exports", "api"])
                    emit({"userId": u, "timestamp": ts(d, 10), "context": ctx},
                         "Report Exported", {"product": prod}, "Report Exported",
                         {"product": prod})
                for _ in range(rng.randrange(4)):
                    emit({"userId": u, "timestamp": ts(d, 11), "context": ctx},
                         "Page Viewed", {"path": "/home"}, None)
                    counts["ignored"] += 1
    for k, u in enumerate(users):
        score = rng.choice([2, 4, 9, 10]) if i < 4 else 9
        emit({"userId": u, "timestamp": ts(50 + k, 12), "context": {"groupId": acc}},
             "NPS Submitted", {"nps_score": score, "comment": "ok"},
             "NPS Survey Responded", {"score": score, "comment": "ok"})
        counts["aliased"] += 1
        counts["renamed"] += 1
    for k in range(i):
        tid = "%s-t%d" % (acc, k)
        emit({"userId": users[0], "timestamp": ts(45 + k, 13), "context": {"groupId": acc}},
             "Ticket Created", {"id": tid, "priority": "high"},
             "Ticket Opened", {"ticket_id": tid, "priority": "high"})
        counts["aliased"] += 1
        counts["renamed"] += 1

for name, msgs in (("team", team), ("tend", tend)):
    with open("%s/%s.jsonl" % (out, name), "w") as f:
        for m in msgs:
            f.write(json.dumps(m) + "\n")
print(counts["ignored"], counts["aliased"], counts["renamed"])
