#!/usr/bin/env python3
"""retention_oracle.py: tend analyze retention computed again, independently,
in Python (pandas), from the same Segment JSON Lines tend imported.

  retention_oracle.py extra OUT.jsonl
      writes hand-made accounts whose revenue history exercises every rule of
      docs/analysis.md, "Revenue movements" (same-day echoes, a change off the
      known level, a churn reported twice, renewals at another amount, a
      reactivation, numbers written as text, routing by properties.account_id
      and by membership)
  retention_oracle.py compare FILE.jsonl[,FILE2...] 'NAME|FROM|TO|BY|GROUP|TEND.json' ...
      computes the periods' figures from the files and compares every row,
      the movements by kind and the reasons with tend's JSON output: money and
      rates to 1e-9 (relative to the figure, at least 1e-9 absolute), counts
      exactly. Prints a line per comparison, "ok NAME: what it compared" or
      "not ok NAME" and the differences; exits 1 on a difference.

The rules are written here from the documentation, not from the C code: the
account of a message (groupId, properties.account_id, else the one account
the user is a member of), the order within a day (events first, then the
day's last mrr trait), half a cent as equality, the cohort of a period and
its movements until the first churn, new business apart, annualising by
compounding over the period's days.
"""
import json
import math
import sys

import pandas as pd

EQ = 0.005


def msg_account(m, member):
    ctx = m.get("context") or {}
    if m["type"] == "group":
        return str(m["groupId"])
    if ctx.get("groupId") is not None:
        return str(ctx["groupId"])
    props = m.get("properties") or {}
    if props.get("account_id") is not None:
        return str(props["account_id"])
    accounts = member.get(str(m.get("userId")), set())
    return next(iter(accounts)) if len(accounts) == 1 else None


def number(v):
    if v is None:
        return None
    return float(v)


def load(paths):
    msgs = []
    # Only these messages matter; the substring test spares parsing the rest.
    wanted = ('"group"', '"identify"', "Subscription Changed", "Account Renewed",
              "Account Churned")
    for path in paths:
        with open(path) as f:
            msgs.extend(json.loads(line) for line in f
                        if line.strip() and any(w in line for w in wanted))
    member = {}
    for m in msgs:
        uid = m.get("userId")
        if uid is None:
            continue
        if m["type"] == "group":
            member.setdefault(str(uid), set()).add(str(m["groupId"]))
        elif m["type"] == "identify":
            t = m.get("traits") or {}
            comp = t.get("company") if isinstance(t.get("company"), dict) else {}
            cid = comp.get("id", t.get("company_id", t.get("accountExternalId")))
            if cid is not None:
                member.setdefault(str(uid), set()).add(str(cid))
    rows, traits = [], []
    for seq, m in enumerate(msgs):
        ts = pd.Timestamp(m["timestamp"]).value // 1_000_000
        if m["type"] == "group":
            t = m.get("traits") or {}
            traits.append(dict(account=str(m["groupId"]), ts=ts, seq=seq, **{
                k: t[k] for k in ("segment", "plan", "csm_email") if k in t}))
            if t.get("mrr") is not None:
                rows.append(dict(account=str(m["groupId"]), ts=ts, seq=seq, kind="trait",
                                 mrr=number(t["mrr"])))
            continue
        if m["type"] != "track" or m.get("event") not in (
                "Subscription Changed", "Account Renewed", "Account Churned"):
            continue
        acc = msg_account(m, member)
        assert acc is not None, m
        p = m.get("properties") or {}
        row = dict(account=acc, ts=ts, seq=seq, reason=p.get("reason"))
        if m["event"] == "Subscription Changed":
            row.update(kind="change", mrr=number(p["mrr_after"]), before=number(p["mrr_before"]))
        else:
            row.update(kind="renewed" if m["event"] == "Account Renewed" else "churned",
                       arr=number(p.get("arr")))
        rows.append(row)
    df = pd.DataFrame(rows)
    df["day"] = df["ts"] // 86_400_000
    df["is_trait"] = (df["kind"] == "trait").astype(int)
    df = df.sort_values(["account", "day", "is_trait", "ts", "seq"], kind="mergesort")
    # Each account's group is its latest value of the trait (a later message
    # by timestamp wins), "(none)" when it never had one.
    tr = pd.DataFrame(traits).sort_values(["ts", "seq"], kind="mergesort")
    groups = {}
    for col in ("segment", "plan", "csm_email"):
        last = tr.dropna(subset=[col]).groupby("account")[col].last() if col in tr else {}
        groups[col] = {a: (v if v else "(none)") for a, v in dict(last).items()}
    return df, groups


def movements(events):
    """The account's movements from its inputs in application order."""
    mv = []
    st = {"known": False, "level": 0.0, "paid": False}

    def move_to(ts, new, reason):
        if not st["known"]:
            st["known"] = True
            st["level"] = 0.0 if abs(new) < EQ else new
            if st["level"] > 0:
                mv.append(("new", ts, 0.0, st["level"], reason))
                st["paid"] = True
            return
        old = st["level"]
        if abs(old - new) < EQ:
            return
        if abs(new) < EQ:
            kind, new = "churn", 0.0
        elif abs(old) < EQ:
            kind, old = ("reactivation" if st["paid"] else "new"), 0.0
        else:
            kind = "expansion" if new > old else "contraction"
        mv.append((kind, ts, old, new, reason))
        st["level"] = new
        if kind != "churn":
            st["paid"] = True

    last_trait = [None]
    for _, day in events.groupby("day", sort=False):
        for e in day[day["kind"] != "trait"].itertuples():
            arr = getattr(e, "arr", None)
            has_arr = arr is not None and not (isinstance(arr, float) and math.isnan(arr))
            reason = e.reason if isinstance(e.reason, str) else None
            if e.kind == "change":
                if not st["known"] or abs(st["level"] - e.before) >= EQ:
                    move_to(e.ts, e.before, None)
                move_to(e.ts, e.mrr, reason)
            elif e.kind == "churned":
                if not st["known"] and has_arr:
                    move_to(e.ts, arr / 12, None)
                if st["known"] and abs(st["level"]) >= EQ:
                    move_to(e.ts, 0.0, reason)
                elif mv and mv[-1][0] == "churn" and mv[-1][4] is None and \
                        mv[-1][1] // 86_400_000 == e.ts // 86_400_000:
                    mv[-1] = mv[-1][:4] + (reason,)
            else:  # renewed
                if not st["known"] and has_arr:
                    move_to(e.ts, arr / 12, None)
                if st["known"]:
                    mv.append(("renewal", e.ts, st["level"], st["level"], reason))
                if has_arr:
                    move_to(e.ts, arr / 12, reason if reason else "renewal")
        tr = day[day["kind"] == "trait"]
        if len(tr):
            last = tr.iloc[-1]
            # a trait repeated unchanged is no news (a CRM nobody zeroed)
            if last_trait[0] is None or abs(float(last["mrr"]) - last_trait[0]) >= EQ:
                move_to(int(last["ts"]), float(last["mrr"]), None)
            last_trait[0] = float(last["mrr"])
    return mv


def level_at(mv, t):
    level = 0.0
    for m in mv:
        if m[1] >= t:
            break
        level = m[3]
    return level


def periods(first, last, by):
    if by == "whole":
        return [(first, last)]
    freq = "M" if by == "month" else "Q"
    out = []
    for p in pd.period_range(first, last, freq=freq):
        a = max(p.start_time.normalize(), first)
        b = min(p.end_time.normalize(), last)
        out.append((a, b))
    return out


def figures(mv, t0, t1):
    f = dict(accounts_start=0, mrr_start=0.0, expansion=0.0, contraction=0.0, churned=0.0,
             logos_churned=0, mrr_end=0.0, accounts_end=0, new_mrr=0.0)
    start, end = level_at(mv, t0), level_at(mv, t1)
    kept = 0.0
    if start > 0:
        f["accounts_start"] = 1
        f["mrr_start"] = start
        kept = start
        for kind, ts, before, after, _ in mv:
            if ts < t0 or ts >= t1:
                continue
            amount = abs(after - before)
            if kind == "expansion":
                f["expansion"] += amount
                kept += amount
            elif kind == "contraction":
                f["contraction"] += amount
                kept -= amount
            elif kind == "churn":
                f["churned"] += amount
                f["logos_churned"] = 1
                kept -= amount
                break
    f["mrr_end"] = end
    f["accounts_end"] = int(end > 0)
    f["new_mrr"] = end - kept
    return f


def compare(loaded, first, last, by, group, tend_json):
    df, groups = loaded
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    ms = lambda d: d.value // 1_000_000
    key = {"all": None, "segment": "segment", "plan": "plan", "owner": "csm_email"}[group]
    per = periods(first, last, by)
    t_end = ms(last + pd.Timedelta(days=1))
    df = df[df["ts"] < t_end]
    want = {}
    kinds = {k: 0 for k in ("new", "expansion", "contraction", "churn", "reactivation",
                            "renewal")}
    reasons = {}
    for acc, ev in df.groupby("account", sort=False):
        mv = movements(ev)
        for m in mv:
            if ms(first) <= m[1] < t_end:
                kinds[m[0]] += 1
                if m[0] in ("expansion", "contraction", "churn"):
                    r = reasons.setdefault((m[0], m[4] or "(none given)"), [0, 0.0])
                    r[0] += 1
                    r[1] += abs(m[3] - m[2])
        names = ["all"] + ([groups[key].get(acc, "(none)")] if key else [])
        for a, b in per:
            f = figures(mv, ms(a), ms(b + pd.Timedelta(days=1)))
            for g in names:
                w = want.setdefault((a.strftime("%Y-%m-%d"), g), {k: 0 for k in f})
                for k, v in f.items():
                    w[k] += v
    for (a, g), w in want.items():
        b = [y for x, y in per if x.strftime("%Y-%m-%d") == a][0]
        days = (b - pd.Timestamp(a)).days + 1
        w["arr_start"] = 12 * w["mrr_start"]
        s = w["mrr_start"]
        if s > 0:
            w["grr"] = (s - w["contraction"] - w["churned"]) / s
            w["nrr"] = (s + w["expansion"] - w["contraction"] - w["churned"]) / s
            w["logo_churn"] = w["logos_churned"] / w["accounts_start"]
            w["grr_annual"] = w["grr"] ** (365 / days)
            w["nrr_annual"] = w["nrr"] ** (365 / days)
            w["logo_churn_annual"] = 1 - (1 - w["logo_churn"]) ** (365 / days)
        else:
            for k in ("grr", "nrr", "logo_churn", "grr_annual", "nrr_annual",
                      "logo_churn_annual"):
                w[k] = None

    got = json.load(open(tend_json))
    bad = []

    def close(x, y):
        if x is None or y is None:
            return x is None and y is None
        return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))

    rows = {(r["from"], r["group"]): r for r in got["rows"]}
    if set(rows) != set(want):
        bad.append("rows: tend %s, oracle %s" % (sorted(set(rows) - set(want))[:5],
                                                   sorted(set(want) - set(rows))[:5]))
    n = 0
    for k, w in want.items():
        r = rows.get(k)
        if r is None:
            continue
        for field, v in w.items():
            n += 1
            if not close(r[field], v):
                bad.append("%s %s %s: tend %r, oracle %r" % (k[0], k[1], field, r[field], v))
    if got["movements"] != kinds:
        bad.append("movements: tend %r, oracle %r" % (got["movements"], kinds))
    greasons = {(r["kind"], r["reason"]): (r["count"], r["mrr"]) for r in got["reasons"]}
    for k, (c, m) in reasons.items():
        g = greasons.get(k)
        if g is None or g[0] != c or not close(g[1], m):
            bad.append("reason %r: tend %r, oracle %r" % (k, g, (c, m)))
    if set(greasons) != set(reasons):
        bad.append("reasons: tend only %r, oracle only %r" % (
            set(greasons) - set(reasons), set(reasons) - set(greasons)))
    if bad:
        raise AssertionError("\n".join(bad[:20]))
    all_rows = [w for (a, g), w in want.items() if g == "all"]
    return ("%d rows, %d figures equal; %d accounts; movements %s; %d reasons; cohort MRR %.2f "
          "in the first period" % (len(want), n, df["account"].nunique(), kinds, len(reasons),
                                   all_rows[0]["mrr_start"] if all_rows else 0))


def extra(out):
    """Hand-made accounts, each a rule of docs/analysis.md."""
    lines = []

    def group(acc, ts, **traits):
        lines.append({"type": "group", "userId": "ox-" + acc, "groupId": acc, "timestamp": ts,
                      "traits": traits})

    def track(acc, ts, event, route="group", **props):
        m = {"type": "track", "userId": "ox-" + acc, "event": event, "timestamp": ts,
             "properties": props}
        if route == "group":
            m["context"] = {"groupId": acc}
        elif route == "property":
            props["account_id"] = acc
        lines.append(m)

    # echo: the trait before the event the same day; then a correction within a day
    group("ox-echo", "2026-01-10T08:00:00Z", mrr=100, plan="growth", segment="mid-market",
          csm_email="oracle@tend.example")
    group("ox-echo", "2026-03-05T09:00:00Z", mrr=150)
    track("ox-echo", "2026-03-05T10:00:00Z", "Subscription Changed", mrr_before=100,
          mrr_after=150, reason="upgrade")
    group("ox-echo", "2026-04-02T09:00:00Z", mrr=0)
    group("ox-echo", "2026-04-02T10:00:00Z", mrr="150.00")
    # a change off the known level, routed by properties.account_id; text numbers
    group("ox-gap", "2026-01-11T08:00:00Z", mrr="200.10", plan="starter")
    track("ox-gap", "2026-05-20T12:00:00Z", "Subscription Changed", route="property",
          mrr_before="180.10", mrr_after=90.05, reason="seats removed")
    # a churn reported twice (a change to 0, then Account Churned), reactivated later
    group("ox-twice", "2026-01-12T08:00:00Z", mrr=300, plan="enterprise")
    track("ox-twice", "2026-06-15T10:00:00Z", "Subscription Changed", mrr_before=300,
          mrr_after=0)
    track("ox-twice", "2026-06-15T11:00:00Z", "Account Churned", arr=3600,
          reason="switched to competitor")
    group("ox-twice", "2026-06-15T12:00:00Z", mrr=0)
    track("ox-twice", "2026-09-01T10:00:00Z", "Subscription Changed", mrr_before=0,
          mrr_after=120, reason="came back")
    # renewals at four times and at half the MRR; a renewal without arr
    group("ox-renew", "2026-01-13T08:00:00Z", mrr=50, plan="growth")
    track("ox-renew", "2026-02-01T10:00:00Z", "Account Renewed", arr=2400)
    track("ox-renew", "2026-07-01T10:00:00Z", "Account Renewed", arr=1200, reason="budget cuts")
    track("ox-renew", "2026-08-01T10:00:00Z", "Account Renewed")
    # known only from its churn's arr; routed through membership (no groupId)
    lines.append({"type": "identify", "userId": "ox-member", "timestamp": "2026-01-14T08:00:00Z",
                  "traits": {"company_id": "ox-arr"}})
    lines.append({"type": "track", "userId": "ox-member", "event": "Account Churned",
                  "timestamp": "2026-04-20T10:00:00Z", "properties": {"arr": 1800,
                                                                     "reason": "budget cuts"}})
    # the CRM's mrr left at 300 after a churn: repeating it is no reactivation
    group("ox-stale", "2026-01-16T08:00:00Z", mrr=300, plan="growth")
    track("ox-stale", "2026-05-05T10:00:00Z", "Account Churned", reason="price too high")
    group("ox-stale", "2026-06-05T10:00:00Z", mrr=300, seats=4)
    group("ox-stale", "2026-08-05T10:00:00Z", mrr=300)
    # a trait change without an event, a change within half a cent (no movement)
    group("ox-trait", "2026-01-15T08:00:00Z", mrr=75.5, plan="starter")
    group("ox-trait", "2026-02-20T08:00:00Z", mrr=80)
    track("ox-trait", "2026-03-20T08:00:00Z", "Subscription Changed", mrr_before=80,
          mrr_after=80.004, reason="rounding")
    for i, m in enumerate(lines):
        m["messageId"] = "oracle-%d" % i
    with open(out, "w") as f:
        for m in sorted(lines, key=lambda m: m["timestamp"]):
            f.write(json.dumps(m) + "\n")


def reasons_check(files, first, last, db, tend_json):
    """tend analyze --reasons --movements: each reason's accounts, count, MRR,
    NRR impact, share, and its cost to serve: tickets opened and outreach sent
    (counted here from the JSON Lines) and CTAs opened (read from the
    database) in the window, per account with such a movement."""
    import testdb
    df, _ = load(files.split(","))
    t0 = pd.Timestamp(first).value // 1_000_000
    t1 = (pd.Timestamp(last) + pd.Timedelta(days=1)).value // 1_000_000
    df = df[df["ts"] < t1]
    want, start = {}, 0.0
    for acc, ev in df.groupby("account", sort=False):
        mv = movements(ev)
        start += level_at(mv, t0)
        for kind, ts, before, after, reason in mv:
            if kind in ("expansion", "contraction", "churn") and t0 <= ts < t1:
                w = want.setdefault((kind, reason or "(none given)"), [0, 0.0, set()])
                w[0] += 1
                w[1] += abs(after - before)
                w[2].add(acc)
    # tickets and outreach of each account in the window, from the files
    member = {}
    msgs = []
    for path in files.split(","):
        for line in open(path):
            if '"group"' in line or '"identify"' in line or "Ticket Opened" in line or \
                    "Outreach Sent" in line:
                msgs.append(json.loads(line))
    for m in msgs:
        if m["type"] == "group" and m.get("userId") is not None:
            member.setdefault(str(m["userId"]), set()).add(str(m["groupId"]))
        elif m["type"] == "identify":
            t = m.get("traits") or {}
            comp = t.get("company") if isinstance(t.get("company"), dict) else {}
            cid = comp.get("id", t.get("company_id", t.get("accountExternalId")))
            if cid is not None:
                member.setdefault(str(m["userId"]), set()).add(str(cid))
    cost = {}
    for m in msgs:
        if m["type"] == "track" and m.get("event") in ("Ticket Opened", "Outreach Sent"):
            ts = pd.Timestamp(m["timestamp"]).value // 1_000_000
            if t0 <= ts < t1:
                c = cost.setdefault(msg_account(m, member), [0, 0, 0])
                c[0 if m["event"] == "Ticket Opened" else 1] += 1
    with testdb.connect(db) as c:
        for acc, n in c.execute(
                "SELECT a.external_id, count(*) FROM ctas x JOIN accounts a ON a.id = x.account_id "
                "WHERE x.opened_day >= ? AND x.opened_day < ? GROUP BY a.external_id",
                (t0 // 86_400_000, t1 // 86_400_000)).fetchall():
            cost.setdefault(acc, [0, 0, 0])[2] += n
    got = json.load(open(tend_json))
    bad = []
    close = lambda x, y: abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))
    total = sum(w[1] for w in want.values())
    if len(got) != len(want):
        bad.append("reasons: tend %d, oracle %d" % (len(got), len(want)))
    mrrs = [g["mrr"] for g in got]
    if mrrs != sorted(mrrs, reverse=True):
        bad.append("not largest MRR first: %r" % mrrs)
    ctas = 0
    for g in got:
        w = want.get((g["movement"], g["reason"]))
        if w is None:
            bad.append("tend only: %r" % g)
            continue
        n = len(w[2])
        sign = 1 if g["movement"] == "expansion" else -1
        per = [sum(cost.get(a, [0, 0, 0])[k] for a in w[2]) / n for k in range(3)]
        ctas += sum(cost.get(a, [0, 0, 0])[2] for a in w[2])
        checks = [("accounts", g["accounts"], n), ("count", g["count"], w[0]),
                  ("mrr", g["mrr"], w[1]), ("nrr_impact", g["nrr_impact"], sign * w[1] / start),
                  ("share", g["share"], w[1] / total),
                  ("tickets_per_account", g["tickets_per_account"], per[0]),
                  ("outreach_per_account", g["outreach_per_account"], per[1]),
                  ("ctas_per_account", g["ctas_per_account"], per[2])]
        for name, x, y in checks:
            if not close(x, y):
                bad.append("%s %s %s: tend %r, oracle %r" % (g["movement"], g["reason"], name, x, y))
    if bad:
        print("\n".join(bad[:20]))
        sys.exit(1)
    print("%d reasons; accounts, counts, MRR, NRR impact over %.2f, shares and cost to serve "
          "(%d CTAs among them) equal" % (len(got), start, ctas))


def movements_check(files, first, last, tend_json):
    """tend analyze retention --movements: the window's movements, one by one."""
    df, _ = load(files.split(","))
    t0 = pd.Timestamp(first).value // 1_000_000
    t1 = (pd.Timestamp(last) + pd.Timedelta(days=1)).value // 1_000_000
    want = []
    for acc, ev in df[df["ts"] < t1].groupby("account", sort=False):
        for kind, ts, before, after, reason in movements(ev):
            if t0 <= ts < t1:
                want.append((acc, ts, kind, before, after, reason))
    got = []
    for g in json.load(open(tend_json)):
        ts = pd.Timestamp(g["time"]).value // 1_000_000
        assert g["date"] == g["time"][:10], g
        assert abs(g["amount"] - abs(g["mrr_after"] - g["mrr_before"])) < 1e-9 or \
            g["movement"] == "renewal", g
        got.append((g["account_id"], ts, g["movement"], g["mrr_before"], g["mrr_after"],
                    g["reason"]))
    key = lambda m: (m[0], m[1], m[2])
    want.sort(key=key)
    got.sort(key=key)
    bad = []
    if len(got) != len(want):
        bad.append("movements: tend %d, oracle %d" % (len(got), len(want)))
    for g, w in zip(got, want):
        if g[:3] != w[:3] or g[5] != w[5] or abs(g[3] - w[3]) > 1e-9 or abs(g[4] - w[4]) > 1e-9:
            bad.append("tend %r, oracle %r" % (g, w))
    if bad:
        print("\n".join(bad[:20]))
        sys.exit(1)
    kinds = {}
    for m in want:
        kinds[m[2]] = kinds.get(m[2], 0) + 1
    print("%d movements equal one by one (account, time, kind, before, after, reason): %s" % (
        len(want), kinds))


if __name__ == "__main__":
    if sys.argv[1] == "extra":
        extra(sys.argv[2])
    elif sys.argv[1] == "movements":
        movements_check(*sys.argv[2:6])
    elif sys.argv[1] == "reasons":
        reasons_check(*sys.argv[2:7])
    else:
        # compare FILES NAME:FROM:TO:BY:GROUP:TEND.json ...: one line each,
        # "ok NAME: ..." or "not ok NAME" and the differences.
        loaded = load(sys.argv[2].split(","))
        failed = False
        for spec in sys.argv[3:]:
            name, first, last, by, group, path = spec.split("|")
            try:
                print("ok %s: %s" % (name, compare(loaded, first, last, by, group, path)))
            except AssertionError as e:
                failed = True
                print("not ok %s\n%s" % (name, e))
        sys.exit(1 if failed else 0)
