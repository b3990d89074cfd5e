"""segments_check.py: tend segments against an independent computation.

usage: segments_check.py TEND DB JSONL DAY

For the day, every group of each kind (segment, plan, owner) as `tend segments
--at DAY --by KIND --format json` prints it must equal what this script
computes on its own:
- the accounts, their segment, plan and owner (csm_email): the latest group
  call's traits in the JSON Lines (current traits, as tend's evaluation);
- their metrics as of the day from bench/metrics_pandas.py (SPEC 3 with
  pandas, straight from the JSON Lines): active users, logins and feature
  events in 7 days, NPS, tickets, MRR (ARR = 12 x MRR, else the stored mrr);
- churned accounts (latest outcome Account Churned before the day's end) are
  not customers and count nowhere;
- health and band: the scores tend stored for the day (score.sh checks the
  scores themselves), grouped here;
- open CTAs: live CTAs of the accounts opened before the day (the day's new
  ones count from the next day; DAY must be the last evaluated).
Integers must be equal; means to 1e-6 (relative).
"""
import csv
import json
import math
import os
import subprocess
import sys
from collections import defaultdict

import testdb

TEND, DB, JSONL, DAY = sys.argv[1:5]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TMP = os.environ.get("T", "/tmp")

# ---- the JSON Lines: traits and outcomes -------------------------------------
traits = defaultdict(dict)
outcome = {}
end = DAY + "T23:59:59.999Z"
with open(JSONL, encoding="utf-8") as f:
    for line in f:
        m = json.loads(line)
        ts = m.get("timestamp", "")
        if m.get("type") == "group":
            for k, v in (m.get("traits") or {}).items():
                traits[m["groupId"]][k] = v
        elif m.get("type") == "track" and m.get("event") in ("Account Churned", "Account Renewed"):
            acct = (m.get("context") or {}).get("groupId") or (m.get("properties") or {}).get("account_id")
            if acct and ts <= end and (acct not in outcome or outcome[acct][0] <= ts):
                outcome[acct] = (ts, m["event"])

# ---- metrics as of the day, from the pandas peer -------------------------------
out_csv = os.path.join(TMP, f"seg-pandas-{DAY}.csv")
subprocess.run([sys.executable, os.path.join(ROOT, "bench", "metrics_pandas.py"), "--at", DAY,
                "--out", out_csv, JSONL], check=True, stderr=subprocess.DEVNULL)
metrics = {r["account_id"]: r for r in csv.DictReader(open(out_csv, encoding="utf-8"))}

# ---- scores, CTAs and stored mrr from the database ------------------------------
day_num = (__import__("datetime").date.fromisoformat(DAY) - __import__("datetime").date(1970, 1, 1)).days
with testdb.connect(DB) as c:
    scores = {r[0]: (r[1], r[2]) for r in c.execute(
        "SELECT a.external_id, s.overall, s.band FROM scores s JOIN accounts a ON a.id = s.account_id "
        "WHERE s.day = ?", (day_num,)).fetchall()}
    live = {r[0]: r[1] for r in c.execute(
        "SELECT a.external_id, count(*) FROM ctas t JOIN accounts a ON a.id = t.account_id "
        "WHERE t.status <> 'closed' AND t.opened_day < ? GROUP BY a.external_id", (day_num,)).fetchall()}
    stored_mrr = {r[0]: r[1] for r in c.execute("SELECT external_id, mrr FROM accounts").fetchall()}


def num(v):
    return float(v) if v not in (None, "") else None


expected = {k: defaultdict(lambda: defaultdict(float)) for k in ("segment", "plan", "owner")}
counted = 0
for acct, m in metrics.items():
    if outcome.get(acct, ("", ""))[1] == "Account Churned":
        continue
    counted += 1
    t = traits.get(acct, {})
    names = {"segment": t.get("segment") or "(none)", "plan": t.get("plan") or "(none)",
             "owner": t.get("csm_email") or "(none)"}
    overall, band = scores.get(acct, (None, "none"))
    mrr = num(m["mrr"])
    if mrr is None:
        mrr = stored_mrr.get(acct)
    arr = t.get("arr") if isinstance(t.get("arr"), (int, float)) else (12 * mrr if mrr is not None else None)
    for kind, name in names.items():
        g = expected[kind][name]
        g["accounts"] += 1
        if arr is not None:
            g["arr"] += arr
            g["arr_n"] += 1
        if overall is not None:
            g["scored"] += 1
            g["health"] += overall
        g[band] += 1
        g["active_users"] += int(m["active_users_30d"])
        g["logins"] += int(m["logins_7d"])
        g["features"] += int(m["feature_events_7d"])
        if num(m["nps"]) is not None:
            g["nps_n"] += 1
            g["nps"] += num(m["nps"])
        g["tickets_30d"] += int(m["tickets_30d"])
        g["tickets_open"] += int(m["tickets_open"])
        g["open_ctas"] += live.get(acct, 0)

bad = 0
groups = 0


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-4)


for kind in ("segment", "plan", "owner"):
    r = subprocess.run([TEND, "segments", "--db", DB, "--at", DAY, "--by", kind, "--format", "json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"not ok - tend segments --by {kind} at {DAY}\n    {r.stderr.strip()}")
        bad += 1
        continue
    got = {g["name"]: g for g in json.loads(r.stdout)}
    exp = expected[kind]
    if set(got) != set(exp):
        print(f"not ok - {kind}s at {DAY}: the same groups\n    tend: {sorted(got)}\n    here: {sorted(exp)}")
        bad += 1
        continue
    for name, e in exp.items():
        groups += 1
        g = got[name]
        want = {
            "accounts": e["accounts"], "red": e["red"], "yellow": e["yellow"], "green": e["green"],
            "unscored": e["accounts"] - e["scored"], "active_users": e["active_users"],
            "tickets_30d": e["tickets_30d"], "tickets_open": e["tickets_open"],
            "open_ctas": e["open_ctas"], "nps_accounts": e["nps_n"],
        }
        means = {
            "arr": e["arr"] if e["arr_n"] else None,
            "health_mean": e["health"] / e["scored"] if e["scored"] else None,
            "logins_per_active_user": e["logins"] / e["active_users"] if e["active_users"] else None,
            "feature_events_per_active_user": e["features"] / e["active_users"] if e["active_users"] else None,
            "nps": e["nps"] / e["nps_n"] if e["nps_n"] else None,
        }
        diffs = [f"{k}: tend {g.get(k)} here {v}" for k, v in want.items() if g.get(k) != v]
        # tend rounds its JSON to 4 decimals
        diffs += [f"{k}: tend {g.get(k)} here {v}" for k, v in means.items()
                  if not close(g.get(k), None if v is None else round(v, 4))]
        if diffs:
            bad += 1
            print(f"not ok - {kind} {name} at {DAY} equals the independent computation\n    " +
                  "\n    ".join(diffs))
if not bad:
    print(f"ok - tend segments at {DAY} equals the independent computation: {groups} groups, "
          f"{counted} customers, every figure")
sys.exit(1 if bad else 0)
