"""process_check.py: drives a team's four owners through ten weeks of CTAs
and checks tend analyze process against an independent computation over the
same tables (tests/integration/process.sh; docs/analysis.md, "Process").

  drive DB CONFIG TEND EVENTS_OUT  writes the accounts, logins and outreach
      (EVENTS_OUT, imported by the script), then, once imported (drive2),
  drive2 DB CONFIG TEND            evaluates day by day and acts as the owners
      would: each day some open CTAs get a note (call, email, note), a snooze
      or a close, and some accounts a note of their own; one owner (csm3)
      stops acting in the last weeks, which the control limits should show.
  check DB JSON                    recomputes every row from the database's
      tables (accounts, ctas, cta_history, notes, events) and compares.
Fixed seeds: the same run gives the same numbers."""
import datetime as dt
import json
import random
import subprocess
import sys

import numpy as np

import testdb

START = dt.date(2026, 1, 5)  # a Monday
DAYS = 70
OWNERS = [f"csm{i}@x.io" for i in range(4)]
N = 160


def d2s(d):
    return d.isoformat()


def ts(d, h=10):
    return f"{d.isoformat()}T{h:02d}:00:00Z"


def drive(db, config, tend, out):
    rnd = random.Random(20)
    with open(out, "w") as f:
        for i in range(N):
            acct = f"acc{i:03d}"
            f.write(json.dumps({"type": "group", "userId": f"u{i}", "groupId": acct,
                                "timestamp": ts(START - dt.timedelta(days=60)),
                                "messageId": f"g{i}",
                                "traits": {"name": f"A{i}", "mrr": 100 + i,
                                           "csm_email": OWNERS[i % 4]}}) + "\n")
            # Logins until a day of the account's, then none: no_login opens
            # 14 days later, spread over the ten weeks.
            last = START - dt.timedelta(days=14) + dt.timedelta(days=rnd.randrange(0, DAYS - 7))
            for k in range(3):
                f.write(json.dumps({"type": "track", "userId": f"u{i}", "event": "Signed In",
                                    "timestamp": ts(last - dt.timedelta(days=3 * k)),
                                    "messageId": f"l{i}-{k}",
                                    "context": {"groupId": acct}}) + "\n")
            for k in range(rnd.randrange(0, 6)):  # outreach from another tool
                when = START - dt.timedelta(days=21) + dt.timedelta(days=rnd.randrange(0, DAYS + 21))
                f.write(json.dumps({"type": "track", "userId": f"u{i}", "event": "Outreach Sent",
                                    "timestamp": ts(when, 15), "messageId": f"o{i}-{k}",
                                    "context": {"groupId": acct},
                                    "properties": {"channel": "email"}}) + "\n")


def run(tend, *args):
    r = subprocess.run([tend, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)}: {r.stderr}")
    return r.stdout


def drive2(db, config, tend):
    rnd = random.Random(21)
    for k in range(DAYS):
        d = START + dt.timedelta(days=k)
        run(tend, "eval", "--db", db, "--config", config, "--at", d2s(d))
        live = json.loads(run(tend, "ctas", "--db", db, "--format", "json"))
        for c in live:
            owner = c["owner"]
            if owner == "csm3@x.io" and k >= DAYS - 21:
                continue  # csm3 stops acting in the last three weeks
            u = rnd.random()
            if c["status"] != "open" or u > 0.35:
                continue
            v = rnd.random()
            if v < 0.4:
                kind = rnd.choice(["call", "email", "note"])
                run(tend, "notes", "add", "--db", db, "--cta", str(c["id"]), "--kind", kind,
                    "--text", f"{kind} about CTA {c['id']}", "--by", owner)
            elif v < 0.6:
                run(tend, "cta", "snooze", str(c["id"]), "--db", db, "--until",
                    d2s(d + dt.timedelta(days=5)), "--on", d2s(d), "--by", owner)
            else:
                run(tend, "cta", "close", str(c["id"]), "--db", db, "--reason",
                    rnd.choice(["resolved", "not_relevant"]), "--on", d2s(d), "--by", owner)
        if k % 3 == 0:  # a note on an account, no CTA
            i = rnd.randrange(N)
            run(tend, "notes", "add", "--db", db, "--account", f"acc{i:03d}", "--kind",
                rnd.choice(["meeting", "text", "note"]), "--text", "check-in",
                "--by", OWNERS[i % 4])


def epoch_day(d):
    return (d - dt.date(1970, 1, 1)).days


def check(db, json_path):
    rep = json.load(open(json_path))
    as_of = epoch_day(dt.date.fromisoformat(rep["as_of"]))
    w0 = epoch_day(dt.date.fromisoformat(rep["from_week"]))
    w1 = epoch_day(dt.date.fromisoformat(rep["to_week"]))
    weeks = list(range(w0, w1 + 1, 7))
    c = testdb.connect(db)
    acct_owner = {}
    for aid, email in c.execute("SELECT id, csm_email FROM accounts").fetchall():
        acct_owner[aid] = email or "(none)"
    ctas = c.execute("SELECT id, account_id, owner, opened_day, due_day, status, closed_reason "
                     "FROM ctas").fetchall()
    first = {}
    touches = []  # (owner, account, day, contact)
    cta_account = {x[0]: x[1] for x in ctas}
    for cid, day, actor in c.execute("SELECT cta_id, day, actor FROM cta_history").fetchall():
        if actor == "tend":
            continue
        first[cid] = min(first.get(cid, 1 << 40), day)
        a = cta_account[cid]
        touches.append((acct_owner[a], a, day, False))
    for a, day, kind in c.execute("SELECT account_id, day, kind FROM notes").fetchall():
        touches.append((acct_owner[a], a, day, kind != "note"))
    for a, t in c.execute("SELECT account_id, ts_ms FROM events WHERE kind = 9").fetchall():
        touches.append((acct_owner[a], a, t // 86400000, True))
    owned = {}
    for o in acct_owner.values():
        owned[o] = owned.get(o, 0) + 1

    def rows_of(group):
        mine = [x for x in ctas if group is None or x[2] == group]
        tmine = [t for t in touches if group is None or t[0] == group]
        accounts = sum(owned.values()) if group is None else owned.get(group, 0)
        out = []
        for w in weeks:
            coh = [x for x in mine if w <= x[3] < w + 7]
            days = [first[x[0]] - x[3] for x in coh if x[0] in first]
            r = {"opened": len(coh), "acted": len(days),
                 "median_days": float(np.percentile(days, 50)) if days else None,
                 "p90_days": float(np.percentile(days, 90)) if days else None,
                 "closed_by_person": sum(x[5] == "closed" and x[6] in ("resolved", "not_relevant") for x in coh),
                 "auto_resolved": sum(x[5] == "closed" and x[6] == "auto_resolved" for x in coh),
                 "expired": sum(x[5] == "closed" and x[6] == "expired" for x in coh),
                 "churned": sum(x[5] == "closed" and x[6] == "churned" for x in coh),
                 "live": sum(x[5] != "closed" for x in coh),
                 "overdue": sum((first[x[0]] > x[4]) if x[0] in first else (x[4] < as_of) for x in coh),
                 "contacts": sum(1 for t in tmine if t[3] and w <= t[2] < w + 7),
                 "accounts": accounts}
            touched = {t[1] for t in tmine if w - 21 <= t[2] < w + 7}
            r["accounts_touched_4w"] = len(touched)
            r["coverage_4w"] = len(touched) / accounts if accounts else None
            r["overdue_share"] = r["overdue"] / r["opened"] if r["opened"] else None
            r["contacts_per_account"] = r["contacts"] / accounts if accounts else None
            out.append(r)
        # p-chart of the overdue share
        k = sum(r["overdue"] for r in out)
        n = sum(r["opened"] for r in out)
        for r in out:
            if n and r["opened"]:
                p = k / n
                h = 3 * (p * (1 - p) / r["opened"]) ** 0.5
                r["overdue_lcl"], r["overdue_ucl"] = max(0, p - h), min(1, p + h)
                r["overdue_signal"] = not (r["overdue_lcl"] <= r["overdue_share"] <= r["overdue_ucl"])
            else:
                r["overdue_lcl"] = r["overdue_ucl"] = r["overdue_signal"] = None
        for key, lo, hi, sig in (("median_days", "median_lcl", "median_ucl", "median_signal"),
                                 ("contacts_per_account", "contacts_lcl", "contacts_ucl",
                                  "contacts_signal")):
            xs = [r[key] for r in out if r[key] is not None]
            mrs = [abs(b - a) for a, b in zip(xs, xs[1:])]
            for r in out:
                if mrs:
                    r[lo] = np.mean(xs) - 2.66 * np.mean(mrs)
                    r[hi] = np.mean(xs) + 2.66 * np.mean(mrs)
                    r[sig] = None if r[key] is None else not (r[lo] <= r[key] <= r[hi])
                else:
                    r[lo] = r[hi] = r[sig] = None
        return out

    got = {}
    for row in rep["rows"]:
        got.setdefault(row["group"], []).append(row)
    groups = [None] + sorted({x[2] for x in ctas} | set(owned))
    problems, cells, signals = [], 0, []
    for g in groups:
        name = "(team)" if g is None else g
        want = rows_of(g)
        have = got.get(name, [])
        if len(have) != len(want):
            problems.append(f"{name}: {len(have)} rows, expected {len(want)}")
            continue
        for w, h in zip(want, have):
            for key, v in w.items():
                hv = h.get(key)
                cells += 1
                if v is None or isinstance(v, bool) or hv is None or isinstance(hv, bool):
                    ok = (v is None and hv is None) or v == hv
                else:
                    ok = hv is not None and abs(hv - v) <= 1e-8 * max(1, abs(v))
                if not ok:
                    problems.append(f"{name} {h['week']} {key}: tend {hv}, python {v}")
            if h.get("overdue_signal") or h.get("median_signal") or h.get("contacts_signal"):
                signals.append(f"{name} {h['week']}")
    if len(got) != len(groups):
        problems.append(f"groups: tend {sorted(got)}, python {[str(g) for g in groups]}")
    print(json.dumps({"problems": problems[:20], "cells": cells, "rows": len(rep["rows"]),
                      "signals": signals}))


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "drive":
        drive(*a)
    elif cmd == "drive2":
        drive2(*a)
    elif cmd == "check":
        check(*a)
