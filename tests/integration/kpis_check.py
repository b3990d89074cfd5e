"""kpis_check.py: the independent check of tend kpis
(tests/integration/kpis.sh; docs/analysis.md "The KPI board").

  churns DB OUT SEED       writes Account Churned events for a fifth of the
                           accounts, on days spread over the weeks
  check DB KPIS PROCESS    recomputes, from the database's tables and the
                           process report's owner rows, each KPI's team
                           series and its Pearson r with churn in the next 4
                           weeks over owner-weeks, and compares with tend's."""
import datetime as dt
import json
import random
import sys

import numpy as np

import testdb

EPOCH = dt.date(1970, 1, 1)


def day_of(s):
    return (dt.date.fromisoformat(s) - EPOCH).days


def monday(d):
    return d - (d + 3) % 7  # day 0 (1970-01-01) was a Thursday


def churns(db, out, seed):
    rnd = random.Random(int(seed))
    c = testdb.connect(db)
    ids = sorted(x[0] for x in c.execute("SELECT external_id FROM accounts").fetchall())
    start = dt.date(2026, 1, 12)
    with open(out, "w") as f:
        for a in ids:
            if rnd.random() < 0.2:
                when = start + dt.timedelta(days=rnd.randrange(0, 56))
                f.write(json.dumps({"type": "track", "userId": "u" + a[3:].lstrip("0") or "u0",
                                    "event": "Account Churned",
                                    "timestamp": when.isoformat() + "T09:00:00Z",
                                    "messageId": "churn-" + a, "context": {"groupId": a},
                                    "properties": {"arr": 1200}}) + "\n")


PROCESS = {"overdue_share": "overdue_share", "contacts_per_account": "contacts_per_account",
           "coverage_4w": "coverage_4w", "median_days_to_action": "median_days"}


def check(db, kpis_path, process_path):
    k = json.load(open(kpis_path))
    p = json.load(open(process_path))
    as_of = day_of(k["as_of"])
    w0 = day_of(k["from_week"])
    c = testdb.connect(db)
    owner_of = {i: (e or "(none)") for i, e in c.execute("SELECT id, csm_email FROM accounts").fetchall()}
    churn_week = {}
    for a, t in c.execute("SELECT account_id, ts_ms FROM events WHERE kind = 15").fetchall():
        churn_week.setdefault(owner_of[a], []).append(monday(t // 86400000))

    def share(owner, week, accounts):
        if week + 35 - 1 > as_of or accounts <= 0:
            return None
        n = sum(1 for w in churn_week.get(owner, []) if week + 7 <= w <= week + 28)
        return n / accounts

    problems = []
    seg = c.execute("SELECT name, day, accounts, scored, health_sum, red FROM segment_days "
                    "WHERE kind = 2").fetchall()
    for kp in k["kpis"]:
        name = kp["kpi"]
        xs, ys, team = [], [], {}
        if name in PROCESS:
            col = PROCESS[name]
            for r in p["rows"]:
                v = r[col]
                if v is None:
                    continue
                w = day_of(r["week"])
                if r["group"] == "(team)":
                    team[w] = v
                    continue
                s = share(r["group"], w, r["accounts"])
                if s is not None:
                    xs.append(v)
                    ys.append(s)
        elif name in ("health_mean", "red_share"):
            last = {}
            for o, d, acc, scored, hsum, red in seg:
                w = monday(d)
                if w < w0:
                    continue
                if (o, w) not in last or d > last[(o, w)][0]:
                    last[(o, w)] = (d, acc, scored, hsum, red)
            byweek = {}
            for (o, w), (d, acc, scored, hsum, red) in last.items():
                if not scored:
                    continue
                v = hsum / scored if name == "health_mean" else red / scored
                s = share(o, w, acc)
                if s is not None:
                    xs.append(v)
                    ys.append(s)
            # the team: every owner's row of the week's last day
            days = {}
            for o, d, acc, scored, hsum, red in seg:
                w = monday(d)
                if w >= w0:
                    days[w] = max(days.get(w, 0), d)
            for w, d in days.items():
                rows = [x for x in seg if x[1] == d]
                sc = sum(x[3] for x in rows)
                if sc:
                    team[w] = (sum(x[4] for x in rows) if name == "health_mean"
                               else sum(x[5] for x in rows)) / sc
        else:
            continue
        r = float(np.corrcoef(xs, ys)[0, 1]) if len(xs) >= 3 and np.std(xs) > 0 and np.std(ys) > 0 else None
        if kp["churn_pairs"] != len(xs):
            problems.append(f"{name}: pairs tend {kp['churn_pairs']} python {len(xs)}")
        if (r is None) != (kp["churn_r"] is None) or (r is not None and abs(r - kp["churn_r"]) > 1e-9):
            problems.append(f"{name}: r tend {kp['churn_r']} python {r}")
        for wk in kp["weeks"]:
            w = day_of(wk["week"])
            want = team.get(w)
            got = wk["value"]
            if (want is None) != (got is None) or (want is not None and abs(want - got) > 1e-8 * max(1, abs(want))):
                problems.append(f"{name} {wk['week']}: team tend {got} python {want}")
    print(json.dumps({"problems": problems[:20],
                      "r": {x["kpi"]: x["churn_r"] for x in k["kpis"]},
                      "pairs": {x["kpi"]: x["churn_pairs"] for x in k["kpis"]}}))


def observe(db, impact_path, horizon, within):
    """tend analyze impact's observational view, recomputed: every CTA whose
    horizon has ended, acted on by a person within `within` days or not, by
    the health band of the account on the day it opened."""
    from statsmodels.stats.proportion import confint_proportions_2indep
    r = json.load(open(impact_path))
    horizon, within = int(horizon), int(within)
    as_of = day_of(r["as_of"])
    c = testdb.connect(db)
    churn = {}
    for a, t in c.execute("SELECT account_id, ts_ms FROM events WHERE kind = 15").fetchall():
        churn[a] = min(churn.get(a, 1 << 40), t // 86400000)
    first = {}
    for cid, d, actor in c.execute("SELECT cta_id, day, actor FROM cta_history").fetchall():
        if actor != "tend":
            first[cid] = min(first.get(cid, 1 << 40), d)
    band = {(a, d): (b if o is not None else "none")
            for a, d, o, b in c.execute("SELECT account_id, day, overall, band FROM scores").fetchall()}
    n = {b: [0, 0] for b in ("red", "yellow", "green", "none")}
    k = {b: [0, 0] for b in n}
    for cid, a, opened in c.execute("SELECT id, account_id, opened_day FROM ctas").fetchall():
        if opened + horizon - 1 > as_of:
            continue
        cd = churn.get(a)
        if cd is not None and cd < opened:
            continue
        g = 0 if cid in first and first[cid] <= opened + within else 1
        b = band.get((a, opened), "none")
        if b not in n:
            b = "none"
        n[b][g] += 1
        if cd is not None and cd < opened + horizon:
            k[b][g] += 1
    problems = []
    total = sum(n[b][0] + n[b][1] for b in n if n[b][0] and n[b][1])
    wsum = var = 0.0
    for st in r["observational"]["strata"]:
        b = st["band"]
        got = (st["acted"], st["acted_churned"], st["not_acted"], st["not_acted_churned"])
        want = (n[b][0], k[b][0], n[b][1], k[b][1])
        if got != want:
            problems.append(f"{b}: tend {got} python {want}")
        if n[b][0] and n[b][1]:
            lo, hi = confint_proportions_2indep(k[b][0], n[b][0], k[b][1], n[b][1],
                                                method="newcomb", compare="diff")
            if abs(st["ci_low"] - lo) > 1e-9 or abs(st["ci_high"] - hi) > 1e-9:
                problems.append(f"{b}: interval tend {st['ci_low']}, {st['ci_high']} python {lo}, {hi}")
            p1, p0 = k[b][0] / n[b][0], k[b][1] / n[b][1]
            w = (n[b][0] + n[b][1]) / total
            wsum += w * (p1 - p0)
            var += w * w * (p1 * (1 - p1) / n[b][0] + p0 * (1 - p0) / n[b][1])
    o = r["observational"]
    if total and (abs(o["difference"] - wsum) > 1e-9 or
                  abs(o["ci_low"] - (wsum - 1.959963984540054 * var ** 0.5)) > 1e-9):
        problems.append(f"weighted: tend {o['difference']} python {wsum}")
    print(json.dumps({"problems": problems, "strata": {b: [n[b], k[b]] for b in n},
                      "difference": o["difference"], "ci": [o["ci_low"], o["ci_high"]]}))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    {"churns": churns, "check": check, "observe": observe}[cmd](*a)
