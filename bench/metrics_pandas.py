#!/usr/bin/python3
"""metrics_pandas.py: the peer of `tend metrics --format csv`, SPEC 3 with pandas.

What a data team would write to get the account metrics of SPEC 3 as of one
day straight from the Segment JSON Lines, exactly as docs/metrics.md defines
them, and an independent oracle for tend's own computation:

  - T is D+1 00:00Z for --at D (or the instant given); D is the date of the
    last instant before T. "Last N days" is [T - N days, T); day differences
    are differences of UTC calendar dates.
  - reads the file once, in chunks of --chunk lines (json.loads and one
    DataFrame per chunk), and keeps only what the metrics need: logins and
    feature events of the 35 days before T, every account's latest login
    before T, and the rare facts (group and identify calls, NPS answers,
    tickets, invoices, cards, outreach, removals). page, screen and alias
    messages have no meaning for metrics and are skipped.
  - deduplicates what it keeps by (timestamp as sent, messageId): the first
    message with a key counts, later ones are ignored.
  - an event's account: context.groupId, else properties.account_id, else the
    user's single account among the memberships that did not end before the
    event (a later one counts). A named account must be known (group call or
    identify with a company id, at any time).
  - memberships: a group call with a user, or an identify with company.id,
    company_id or accountExternalId (first found), starts one (none while one
    is open); `Account Removed User` ends the one that covers its time. They
    are applied in time order (ties in file order), whatever the order of the
    lines; tend applies them in arrival order, which gives the same result on
    the generator's output (written in time order).
  - mrr, seats, renewal_date: the latest group call before T that set them.
  - accounts first seen (group call or identify with a company) at or after T
    get no row.

Writes CSV like `tend metrics --format csv`: account_id and the 22 columns of
SPEC 3, rows ordered by account_id, empty cells for unknown values, integers
plain, other numbers printed with %.4f and trailing zeros trimmed.

  metrics_pandas.py --at 2026-11-22 events.jsonl > metrics.csv

Prints a summary (lines, kept rows, seconds, peak RSS) on stderr. Limits:
timestamps are parsed by pandas (ISO-8601 with Z or +hh:mm offsets; tend's
looser forms such as "+0200" or a leap second are not the generator's and
are not handled here); messages without a timestamp are ignored; the
accounts CSV of `tend import --accounts` is not read.
"""
import argparse
import datetime as dt
import json
import resource
import sys
import time

import numpy as np
import pandas as pd

DAY_MS = 86400000
COLUMNS = [
    "users", "active_users_30d", "logins_7d", "logins_prev_28d", "days_since_login",
    "feature_events_7d", "feature_events_prev_28d", "features_used_30d", "nps",
    "nps_responses_90d", "tickets_open", "tickets_30d", "overdue_invoices",
    "overdue_amount", "max_days_overdue", "card_days_left", "renewal_days_left", "seats",
    "seat_utilization", "outreach_unanswered", "days_since_reply", "mrr",
]
FLOAT_COLUMNS = {"nps", "overdue_amount", "seat_utilization", "mrr"}
# Track events with a meaning of their own (docs/events.md); any other track
# event is a feature event named by its event name.
FACTS = {
    "NPS Survey Responded": "nps", "Ticket Opened": "ticket_opened",
    "Ticket Closed": "ticket_closed", "Invoice Issued": "invoice_issued",
    "Invoice Paid": "invoice_paid", "Payment Failed": "payment_failed",
    "Payment Method Updated": "card", "Outreach Sent": "outreach_sent",
    "Outreach Replied": "outreach_replied", "Goal Set": "goal_set",
    "Onboarding Milestone Due": "milestone_due",
    "Onboarding Milestone Completed": "milestone_completed",
    "Account Renewed": "renewed", "Account Churned": "churned",
    "Account Removed User": "removed", "Subscription Changed": "sub_changed",
}
LOGIN = "Signed In"
# Facts that the metrics read (the others are kept out of memory).
USED_FACTS = {"nps", "ticket_opened", "ticket_closed", "invoice_issued", "invoice_paid",
              "card", "outreach_sent", "outreach_replied", "removed"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--at", required=True, help="a date YYYY-MM-DD (its end) or an ISO-8601 instant")
    p.add_argument("--chunk", type=int, default=200000, help="lines per chunk (200000)")
    p.add_argument("--out", help="write the CSV here instead of stdout")
    p.add_argument("file")
    return p.parse_args()


def parse_at(s):
    """(T in ms since the epoch, D in days since the epoch)."""
    if len(s) == 10:
        d = dt.date.fromisoformat(s)
        t = (d - dt.date(1970, 1, 1)).days * DAY_MS + DAY_MS
    else:
        ts = pd.Timestamp(s)
        if ts.tzinfo is None:
            ts = ts.tz_localize("UTC")
        t = ts.value // 1000000
    return t, (t - 1) // DAY_MS


def as_id(v):
    """An id (string or integer) as the text tend stores; None if it is none."""
    if isinstance(v, str):
        return v if v != "" else None
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return None


def ms(col):
    """ISO-8601 strings to ms since the epoch (UTC), truncated to the ms."""
    t = pd.to_datetime(col, utc=True)
    return t.values.astype("datetime64[ns]").astype(np.int64) // 1000000


def date_days(s):
    """A date 'YYYY-MM-DD' (or an ISO instant: its UTC date) to days since the epoch."""
    if not isinstance(s, str):
        return None
    try:
        if len(s) == 10:
            return (dt.date.fromisoformat(s) - dt.date(1970, 1, 1)).days
        return ms(pd.Series([s]))[0] // DAY_MS
    except ValueError:
        return None


def num(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


class Reader:
    """Reads the JSONL in chunks and keeps what the metrics of T need."""

    def __init__(self, t_ms, chunk):
        self.t = t_ms
        self.lo = t_ms - 35 * DAY_MS
        self.chunk = chunk
        self.lines = 0
        self.seq = 0  # file order of the kept messages, for ties
        self.activity = []  # logins and feature events of [T-35d, T)
        self.last_login = []  # per chunk: latest login before T per named account
        self.unnamed_logins = []  # logins before T whose account comes from the user
        self.facts = []
        self.calls = []  # group and identify calls

    def run(self, path):
        ev, fa, ca = [], [], []
        loads = json.loads
        with open(path, "rb") as f:
            for line in f:
                self.lines += 1
                try:
                    m = loads(line)
                except ValueError:
                    continue
                if not isinstance(m, dict):
                    continue
                if "batch" in m and isinstance(m["batch"], list):
                    ctx = m.get("context") if isinstance(m.get("context"), dict) else {}
                    for item in m["batch"]:
                        if isinstance(item, dict):
                            c = dict(ctx)
                            if isinstance(item.get("context"), dict):
                                c.update(item["context"])
                            item["context"] = c
                            self.one(item, ev, fa, ca, None)
                else:
                    self.one(m, ev, fa, ca, line)
                if len(ev) >= self.chunk:
                    self.flush(ev, fa, ca)
                    ev, fa, ca = [], [], []
        self.flush(ev, fa, ca)

    def one(self, m, ev, fa, ca, line):
        typ = m.get("type")
        if typ not in ("track", "group", "identify"):
            return
        ts = m.get("timestamp")
        if not isinstance(ts, str):
            return
        user = as_id(m.get("userId")) or as_id(m.get("anonymousId"))
        mid = m.get("messageId")
        if not isinstance(mid, str) or mid == "":
            mid = "\x00" + (line.decode() if line is not None else json.dumps(m, sort_keys=True))
        self.seq += 1
        if typ == "track":
            name = m.get("event")
            if not isinstance(name, str) or name == "":
                return
            props = m.get("properties")
            if not isinstance(props, dict):
                props = {}
            ctx = m.get("context")
            acct = as_id(ctx.get("groupId")) if isinstance(ctx, dict) else None
            if acct is None:
                acct = as_id(props.get("account_id"))
            kind = FACTS.get(name)
            if kind is None:
                ev.append((name == LOGIN, name, user, ts, mid, acct, self.seq))
            elif kind in USED_FACTS:
                a = b = c = None
                if kind == "nps":
                    a = props.get("score")
                elif kind in ("ticket_opened", "ticket_closed"):
                    a = as_id(props.get("ticket_id"))
                elif kind == "invoice_paid":
                    a = as_id(props.get("invoice_id"))
                elif kind == "invoice_issued":
                    a, b, c = as_id(props.get("invoice_id")), num(props.get("amount")), props.get("due_date")
                elif kind == "card":
                    a, b = props.get("card_exp_month"), props.get("card_exp_year")
                fa.append((kind, user, ts, mid, acct, self.seq, a, b, c))
        elif typ == "group":
            gid = as_id(m.get("groupId"))
            if gid is None:
                return
            tr = m.get("traits")
            if not isinstance(tr, dict):
                tr = {}
            ca.append(("group", user, ts, mid, gid, self.seq,
                       "mrr" in tr, num(tr.get("mrr")),
                       "seats" in tr, num(tr.get("seats")),
                       "renewal_date" in tr, date_days(tr.get("renewal_date"))))
        else:
            tr = m.get("traits")
            if not isinstance(tr, dict):
                return
            comp = tr.get("company")
            acct = as_id(comp.get("id")) if isinstance(comp, dict) else None
            if acct is None:
                acct = as_id(tr.get("company_id"))
            if acct is None:
                acct = as_id(tr.get("accountExternalId"))
            if acct is None:
                return
            ca.append(("identify", user, ts, mid, acct, self.seq,
                       False, None, False, None, False, None))

    def flush(self, ev, fa, ca):
        if ev:
            df = pd.DataFrame(ev, columns=["login", "name", "user", "ts", "mid", "acct", "seq"])
            df["t"] = ms(df["ts"])
            df = df[df["t"] < self.t]
            # Every account's latest login, and the unnamed logins (resolved at the end).
            logins = df[df["login"]]
            named = logins[logins["acct"].notna()]
            self.last_login.append(named.groupby("acct")["t"].max())
            self.unnamed_logins.append(
                logins.loc[logins["acct"].isna(), ["user", "t", "seq"]])
            win = df[df["t"] >= self.lo]
            self.activity.append(win[["login", "name", "user", "ts", "mid", "acct", "seq", "t"]])
        if fa:
            self.facts.append(pd.DataFrame(
                fa, columns=["kind", "user", "ts", "mid", "acct", "seq", "a", "b", "c"]))
        if ca:
            self.calls.append(pd.DataFrame(
                ca, columns=["kind", "user", "ts", "mid", "acct", "seq", "has_mrr", "mrr",
                             "has_seats", "seats", "has_renewal", "renewal"]))


def dedup(df):
    """The first message of each (timestamp as sent, messageId) key counts."""
    if df.empty:
        return df
    return df.sort_values("seq", kind="stable").drop_duplicates(["ts", "mid"], keep="first")


def concat(frames, columns):
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)


def memberships(calls, removals):
    """Membership intervals (acct, user, start, end) from the calls (time
    order, ties in file order) and the removals."""
    starts = calls.loc[calls["user"].notna(), ["acct", "user", "t", "seq"]].copy()
    starts["op"] = 0
    rem = removals[["acct", "user", "t", "seq"]].copy()
    rem["op"] = 1
    evs = pd.concat([starts, rem], ignore_index=True).sort_values(["t", "seq"], kind="stable")
    out = []
    open_ = {}  # (acct, user) -> start of the open membership
    closed = {}  # (acct, user) -> list of (start, end)
    for acct, user, t, op in zip(evs["acct"], evs["user"], evs["t"], evs["op"]):
        k = (acct, user)
        if op == 0:
            if k not in open_:
                open_[k] = t
        else:
            s = open_.get(k)
            if s is not None and s <= t:
                closed.setdefault(k, []).append((s, t))
                del open_[k]
    for (acct, user), spans in closed.items():
        for s, e in spans:
            out.append((acct, user, s, e))
    for (acct, user), s in open_.items():
        out.append((acct, user, s, None))
    return pd.DataFrame(out, columns=["acct", "user", "start", "end"])


def resolve(df, mem, known):
    """Fills df.acct where it is missing with the user's single account among
    the memberships that did not end before the event; keeps only the rows
    whose account is known."""
    miss = df["acct"].isna()
    if miss.any():
        u = df.loc[miss, ["user", "t"]].reset_index()
        m = u.merge(mem[["acct", "user", "end"]], on="user", how="inner")
        m = m[m["end"].isna() | (m["end"] >= m["t"])]
        n = m.groupby("index")["acct"].agg(["nunique", "first"])
        one = n[n["nunique"] == 1]["first"]
        df = df.copy()
        df.loc[one.index, "acct"] = one.values
    return df[df["acct"].isin(known)]


def fmt_float(x):
    s = "%.4f" % x
    s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def compute(r, t, d):
    cols = ["kind", "user", "ts", "mid", "acct", "seq", "has_mrr", "mrr", "has_seats", "seats",
            "has_renewal", "renewal"]
    calls = dedup(concat(r.calls, cols))
    calls["t"] = ms(calls["ts"]) if len(calls) else pd.Series(dtype=np.int64)
    facts = dedup(concat(r.facts, ["kind", "user", "ts", "mid", "acct", "seq", "a", "b", "c"]))
    facts["t"] = ms(facts["ts"]) if len(facts) else pd.Series(dtype=np.int64)
    act = dedup(concat(r.activity, ["login", "name", "user", "ts", "mid", "acct", "seq", "t"]))

    known = set(calls["acct"].unique())
    first = calls.groupby("acct")["t"].min()
    accounts = sorted(a for a, ft in first.items() if ft < t)

    # Memberships: removals name their account (or resolve through the starts).
    rem = facts[facts["kind"] == "removed"]
    start_only = memberships(calls, rem.iloc[0:0])
    rem = resolve(rem, start_only, known)
    mem = memberships(calls, rem)

    out = pd.DataFrame(index=pd.Index(accounts, name="account_id"))
    # users: started before T, not ended before T.
    live = mem[(mem["start"] < t) & (mem["end"].isna() | (mem["end"] >= t))]
    out["users"] = live.groupby("acct").size()

    # Activity of the 35 days before T.
    act = resolve(act, mem, known)
    is_login = act["login"].astype(bool)
    logins = act[is_login]
    feats = act[~is_login]
    w7, w30 = t - 7 * DAY_MS, t - 30 * DAY_MS
    out["active_users_30d"] = logins[logins["t"] >= w30].groupby("acct")["user"].nunique()
    out["logins_7d"] = logins[logins["t"] >= w7].groupby("acct").size()
    out["logins_prev_28d"] = logins[logins["t"] < w7].groupby("acct").size()
    out["feature_events_7d"] = feats[feats["t"] >= w7].groupby("acct").size()
    out["feature_events_prev_28d"] = feats[feats["t"] < w7].groupby("acct").size()
    out["features_used_30d"] = feats[feats["t"] >= w30].groupby("acct")["name"].nunique()

    # Latest login ever before T.
    ll = concat([s.rename("t").reset_index() for s in r.last_login], ["acct", "t"])
    ll = ll[ll["acct"].isin(known)]
    unl = concat(r.unnamed_logins, ["user", "t", "seq"])
    unl["acct"] = None
    unl = resolve(unl, mem, known)
    last = pd.concat([ll[["acct", "t"]], unl[["acct", "t"]]]).groupby("acct")["t"].max()
    out["days_since_login"] = d - last // DAY_MS

    f = resolve(facts[facts["t"] < t], mem, known)

    # NPS: each user's latest answer of the last 365 days.
    nps = f[f["kind"] == "nps"].copy()
    nps["score"] = pd.to_numeric(nps["a"])
    y = nps[nps["t"] >= t - 365 * DAY_MS].sort_values(["t", "seq"], kind="stable")
    latest = y.groupby(["acct", "user"], dropna=False)["score"].last().reset_index()
    pro = (latest["score"] >= 9).groupby(latest["acct"]).sum()
    det = (latest["score"] <= 6).groupby(latest["acct"]).sum()
    out["nps"] = 100.0 * (pro - det) / latest.groupby("acct").size()
    out["nps_responses_90d"] = nps[nps["t"] >= t - 90 * DAY_MS].groupby("acct").size()

    # Tickets: open when the latest open/close before T opened them.
    tk = f[f["kind"].isin(["ticket_opened", "ticket_closed"]) & f["a"].notna()]
    tk = tk.sort_values(["t", "seq"], kind="stable")
    lt = tk.groupby(["acct", "a"])["kind"].last()
    out["tickets_open"] = (lt == "ticket_opened").groupby(level="acct").sum()
    op = tk[(tk["kind"] == "ticket_opened") & (tk["t"] >= w30)]
    out["tickets_30d"] = op.groupby("acct")["a"].nunique()

    # Invoices: issued before T (latest issue gives amount and due date),
    # due before D, not paid before T.
    iss = f[(f["kind"] == "invoice_issued") & f["a"].notna()].sort_values(["t", "seq"], kind="stable")
    inv = iss.groupby(["acct", "a"]).last()[["b", "c"]].reset_index()
    paid = f[(f["kind"] == "invoice_paid") & f["a"].notna()][["acct", "a"]].drop_duplicates()
    inv = inv.merge(paid.assign(paid=True), on=["acct", "a"], how="left")
    inv["due"] = inv["c"].map(date_days)
    over = inv[inv["paid"].isna() & inv["due"].notna()]
    over = over[over["due"] < d]
    og = over.groupby("acct")
    out["overdue_invoices"] = og.size()
    out["overdue_amount"] = og["b"].sum()
    out["max_days_overdue"] = (d - og["due"].min()).astype("Int64")

    # Card: the latest card before T, last day of its expiry month minus D.
    cards = f[f["kind"] == "card"].sort_values(["t", "seq"], kind="stable").groupby("acct").last()
    cdl = {}
    for acct, mo, yr in zip(cards.index, cards["a"], cards["b"]):
        try:
            mo, yr = int(mo), int(yr)
        except (TypeError, ValueError):
            continue
        if yr < 100:
            yr += 2000
        nxt = dt.date(yr + 1, 1, 1) if mo == 12 else dt.date(yr, mo + 1, 1)
        cdl[acct] = (nxt - dt.date(1970, 1, 1)).days - 1 - d
    out["card_days_left"] = pd.Series(cdl, dtype="Int64")

    # Traits as of T: the latest group call before T that set each.
    gc = calls[(calls["kind"] == "group") & (calls["t"] < t)].sort_values(["t", "seq"], kind="stable")
    for trait, has in (("mrr", "has_mrr"), ("seats", "has_seats"), ("renewal", "has_renewal")):
        v = gc[gc[has].astype(bool)].groupby("acct")[trait].last()
        out["_" + trait] = v
    out["renewal_days_left"] = out["_renewal"] - d
    out["seats"] = out["_seats"]
    out["mrr"] = out["_mrr"]

    # Outreach sent after the latest reply; days since that reply.
    rep = f[f["kind"] == "outreach_replied"].groupby("acct")["t"].max()
    sent = f[f["kind"] == "outreach_sent"][["acct", "t"]].merge(
        rep.rename("r"), left_on="acct", right_index=True, how="left")
    sent = sent[sent["r"].isna() | (sent["t"] > sent["r"])]
    out["outreach_unanswered"] = sent.groupby("acct").size()
    out["days_since_reply"] = d - rep // DAY_MS

    for c in ("users", "active_users_30d", "logins_7d", "logins_prev_28d", "feature_events_7d",
              "feature_events_prev_28d", "features_used_30d", "nps_responses_90d",
              "tickets_open", "tickets_30d", "overdue_invoices", "outreach_unanswered"):
        out[c] = out[c].fillna(0).astype(np.int64)
    out["overdue_amount"] = out["overdue_amount"].fillna(0.0)
    out["max_days_overdue"] = out["max_days_overdue"].fillna(0)
    seats = out["seats"]
    util = out["users"] / seats.where(seats > 0)
    out["seat_utilization"] = util
    return out[COLUMNS]


def write_csv(out, dest):
    lines = ["account_id," + ",".join(COLUMNS)]
    cols = [out[c].tolist() for c in COLUMNS]
    is_float = [c in FLOAT_COLUMNS for c in COLUMNS]
    for i, acct in enumerate(out.index):
        cells = [acct]
        for j, col in enumerate(cols):
            v = col[i]
            if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
                cells.append("")
            elif is_float[j]:
                cells.append(fmt_float(float(v)))
            else:
                cells.append(str(int(v)))
        lines.append(",".join(cells))
    dest.write("\n".join(lines) + "\n")


def main():
    a = parse_args()
    t0 = time.time()
    t, d = parse_at(a.at)
    r = Reader(t, a.chunk)
    r.run(a.file)
    t1 = time.time()
    out = compute(r, t, d)
    if a.out:
        with open(a.out, "w") as f:
            write_csv(out, f)
    else:
        write_csv(out, sys.stdout)
    t2 = time.time()
    kept = sum(len(x) for x in r.activity) + sum(len(x) for x in r.facts) + \
        sum(len(x) for x in r.calls) + sum(len(x) for x in r.unnamed_logins)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"metrics_pandas: {r.lines} lines, {kept} rows kept, {len(out)} accounts; "
          f"read {t1 - t0:.1f} s, computed {t2 - t1:.1f} s, total {t2 - t0:.1f} s; "
          f"peak RSS {rss // 1024} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
