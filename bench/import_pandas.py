#!/usr/bin/python3
"""import_pandas.py: the peer of `tend import`, the same work done by a pandas script.

What a data team would write to load Segment JSON Lines into SQLite with
pandas, doing what `tend import` does and no more:

  - reads the file in chunks of --chunk lines (memory for the data stays
    bounded; the set of seen messageIds grows with the file, as it would in
    such a script);
  - parses each line (a message, or a Segment batch object whose context is
    merged into its items); a line that is not JSON, or over 32 KB, is
    rejected and counted;
  - validates: type is one of Segment's, userId or anonymousId present,
    timestamp parses as ISO-8601 (absent: the time received), event present
    for track, groupId for group, and the typed properties of the meaningful
    events (NPS score 0-10, ticket_id, invoice_id, amount, due_date);
  - deduplicates by messageId (within the file and against the table);
  - resolves the account: context.groupId, else properties.account_id, else
    the user's single account from identify (company_id, company.id,
    accountExternalId) and group calls; unresolved events are quarantined and
    attached at the end when a later call resolved them;
  - appends the events to an SQLite table with DataFrame.to_sql (one
    transaction per chunk, WAL, synchronous=FULL, as tend), and writes the
    accounts (latest traits), users and memberships tables.

Prints one summary line and, last, a machine-readable line
"RESULT messages=N seconds=S events_per_s=R ...".

  import_pandas.py --db peer.db events.jsonl
"""
import argparse
import gc
import json
import sqlite3
import sys
import time
from itertools import islice

import numpy as np
import pandas as pd

MAX_MESSAGE = 32 * 1024
TYPES = {"track", "identify", "group", "page", "screen", "alias"}
KINDS = {
    "Signed In": "login", "NPS Survey Responded": "nps", "Ticket Opened": "ticket_opened",
    "Ticket Closed": "ticket_closed", "Invoice Issued": "invoice_issued",
    "Invoice Paid": "invoice_paid", "Payment Failed": "payment_failed",
    "Payment Method Updated": "card_updated", "Outreach Sent": "outreach_sent",
    "Outreach Replied": "outreach_replied", "Goal Set": "goal_set",
    "Onboarding Milestone Due": "milestone_due",
    "Onboarding Milestone Completed": "milestone_completed", "Account Renewed": "renewed",
    "Account Churned": "churned", "Account Removed User": "user_removed",
    "Subscription Changed": "subscription_changed",
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True)
    p.add_argument("--chunk", type=int, default=100000)
    p.add_argument("files", nargs="+")
    return p.parse_args()


def is_id(v):
    return (isinstance(v, str) and v != "") or (isinstance(v, int) and not isinstance(v, bool))


def id_mask(col):
    """Which values of col are ids (non-empty strings or integers); vectorised
    when the column holds only strings, as it does in practice."""
    if pd.api.types.infer_dtype(col, skipna=True) == "string":
        return col.notna() & (col != "")
    return col.map(is_id).astype(bool)


def is_num(v, lo, hi, integral=False):
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            return False
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return lo <= v <= hi and (not integral or v == int(v))


def is_date(v):
    if not isinstance(v, str):
        return False
    return not pd.isna(pd.to_datetime(v, errors="coerce", utc=True))


def facts_ok(kind, p):
    """The typed properties of a meaningful track event (what tend checks)."""
    if not isinstance(p, dict):
        p = {}
    if kind == "nps":
        return is_num(p.get("score"), 0, 10, True)
    if kind in ("ticket_opened", "ticket_closed"):
        return is_id(p.get("ticket_id"))
    if kind == "invoice_issued":
        return (is_id(p.get("invoice_id")) and is_num(p.get("amount"), 0, 1e15)
                and is_date(p.get("due_date")))
    if kind in ("invoice_paid", "payment_failed"):
        return is_id(p.get("invoice_id"))
    if kind == "card_updated":
        return (is_num(p.get("card_exp_month"), 1, 12, True)
                and is_num(p.get("card_exp_year"), 0, 9999, True))
    if kind == "goal_set":
        return is_id(p.get("goal_id")) and is_id(p.get("feature")) and is_date(p.get("due_date"))
    if kind == "milestone_due":
        return is_id(p.get("milestone")) and is_date(p.get("due_date"))
    if kind == "milestone_completed":
        return is_id(p.get("milestone"))
    return True


def traits_ok(t):
    """Known account traits have the right types (group calls)."""
    if not isinstance(t, dict):
        return t is None
    for k in ("name", "plan", "csm_email", "csm_slack", "segment", "created_at"):
        if k in t and t[k] is not None and not isinstance(t[k], str):
            return False
    if "mrr" in t and t["mrr"] is not None and not is_num(t["mrr"], 0, 1e15):
        return False
    if "seats" in t and t["seats"] is not None and not is_num(t["seats"], 0, 1e9, True):
        return False
    if "renewal_date" in t and t["renewal_date"] is not None and not is_date(t["renewal_date"]):
        return False
    return True


def company_of(t):
    if not isinstance(t, dict):
        return None
    c = t.get("company")
    if isinstance(c, dict) and is_id(c.get("id")):
        return str(c["id"])
    for k in ("company_id", "accountExternalId"):
        if is_id(t.get(k)):
            return str(t[k])
    return None


def dumps_or_none(v):
    return json.dumps(v, separators=(",", ":")) if isinstance(v, dict) and v else None


class Peer:
    def __init__(self, db):
        self.con = sqlite3.connect(db)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self.seen = set()
        try:
            self.seen.update(r[0] for r in self.con.execute("SELECT message_id FROM events"))
        except sqlite3.OperationalError:
            pass  # a fresh database
        self.members = {}  # user -> set of accounts
        self.accounts = {}  # account -> (traits dict, {key: ts})
        self.users = {}  # user -> traits dict
        self.quarantine = []  # DataFrames of unresolved events
        self.n = dict(lines=0, accepted=0, duplicates=0, quarantined=0, attached=0, rejected=0)

    def parse(self, lines):
        recs, now = [], pd.Timestamp.now(tz="UTC")
        for ln in lines:
            self.n["lines"] += 1
            if len(ln) > 500 * 1024 or not ln.strip():
                self.n["rejected"] += ln.strip() != ""
                continue
            try:
                o = json.loads(ln)
            except ValueError:
                self.n["rejected"] += 1
                continue
            if isinstance(o, dict) and "batch" in o and "type" not in o:
                ctx = o.get("context") if isinstance(o.get("context"), dict) else {}
                for it in o["batch"] if isinstance(o["batch"], list) else []:
                    if isinstance(it, dict) and ctx:
                        it["context"] = {**ctx, **(it.get("context") or {})}
                    recs.append((it, None))
            elif len(ln) > MAX_MESSAGE:
                self.n["rejected"] += 1
            else:
                recs.append((o, ln))
        return recs, now

    def chunk(self, lines):
        recs, now = self.parse(lines)
        if not recs:
            return
        good = [(r, ln) for r, ln in recs if isinstance(r, dict)]
        self.n["rejected"] += len(recs) - len(good)
        if not good:
            return
        df = pd.DataFrame.from_records([r for r, _ in good])
        for col in ("type", "userId", "anonymousId", "messageId", "timestamp", "event", "groupId",
                    "context", "properties", "traits"):
            if col not in df:
                df[col] = None

        # ---- validate
        uid = df["userId"].where(id_mask(df["userId"]), None)
        aid = df["anonymousId"].where(id_mask(df["anonymousId"]), None)
        ts = pd.to_datetime(df["timestamp"], utc=True, errors="coerce")
        ts_given = df["timestamp"].notna()
        ok = df["type"].isin(TYPES) & (uid.notna() | aid.notna()) & ~(ts_given & ts.isna())
        for col in ("context", "properties", "traits"):  # objects when present
            ok &= df[col].map(lambda v: isinstance(v, dict) or v is None or v != v).astype(bool)
        track = df["type"] == "track"
        ok &= ~track | df["event"].map(lambda e: isinstance(e, str) and e != "")
        group = df["type"] == "group"
        ok &= ~group | id_mask(df["groupId"])
        kind = df["event"].map(KINDS).where(track, df["type"]).fillna("feature")
        special = track & kind.isin(KINDS.values())
        ok = ok.to_numpy(dtype=bool)
        if special.any():
            ok[special.to_numpy()] &= np.array(
                [facts_ok(k, p) for k, p in zip(kind[special], df["properties"][special])],
                dtype=bool)
        if group.any():
            ok[group.to_numpy()] &= df["traits"][group].map(traits_ok).to_numpy(dtype=bool)
        self.n["rejected"] += int((~ok).sum())
        df, uid, aid, ts, kind = df[ok], uid[ok], aid[ok], ts[ok], kind[ok]
        ts = ts.fillna(now)

        # ---- deduplicate by messageId
        key = df["messageId"].where(id_mask(df["messageId"]), None).astype(object)
        if key.isna().any():  # no messageId: the message's text is the key, as in tend
            key[key.isna()] = [ln or json.dumps(r) for (r, ln), k in
                               zip((good[i] for i in df.index), key) if k is None]
        dup = key.duplicated() | key.isin(self.seen)
        self.n["duplicates"] += int(dup.sum())
        keep = ~dup
        df, uid, aid, ts, kind, key = df[keep], uid[keep], aid[keep], ts[keep], kind[keep], key[keep]
        self.seen.update(key.tolist())
        user = ("u:" + uid.astype(str)).where(uid.notna(), "a:" + aid.astype(str))

        # ---- accounts, users, memberships from group and identify
        ident = df["type"] == "identify"
        company = df["traits"][ident].map(company_of)
        for u, acct in zip(user[ident][company.notna()], company.dropna()):
            self.members.setdefault(u, set()).add(acct)
            self.accounts.setdefault(acct, ({}, {}))
        for u, t in zip(user[ident], df["traits"][ident]):
            if isinstance(t, dict):
                self.users.setdefault(u, {}).update(t)
        group = df["type"] == "group"
        for u, g, t, when in zip(user[group], df["groupId"][group].astype(str),
                                 df["traits"][group], ts[group]):
            self.members.setdefault(u, set()).add(g)
            traits, stamps = self.accounts.setdefault(g, ({}, {}))
            for k, v in (t or {}).items():  # a later trait value (by timestamp) wins
                if k not in stamps or when >= stamps[k]:
                    traits[k], stamps[k] = v, when

        # ---- resolve the account
        ctx_group = df["context"].map(lambda c: c.get("groupId") if isinstance(c, dict) else None)
        prop_acct = df["properties"].map(
            lambda p: p.get("account_id") if isinstance(p, dict) else None)
        account = df["groupId"].where(group | ident, None)
        account = account.where(account.notna(), ctx_group)
        account = account.where(account.notna(), prop_acct)
        account = account.where(~ident, df["traits"].map(company_of))
        missing = account.isna() & ~ident & ~(df["type"] == "alias")
        if missing.any():
            account[missing] = user[missing].map(self.single_account)

        removed = kind == "user_removed"  # "Account Removed User" ends a membership
        for u, acct in zip(user[removed], account[removed]):
            self.members.get(u, set()).discard(acct)

        body = df["properties"].where(~(ident | group), df["traits"])
        out = pd.DataFrame({
            "message_id": key.astype(str).values,
            "type": df["type"].values,
            "kind": kind.values,
            "event": df["event"].values,
            "ts_ms": (ts.values.astype("datetime64[ms]").astype(np.int64)),
            "user_id": user.values,
            "account_id": account.astype(object).where(account.notna(), None).values,
            "props": body.map(dumps_or_none).values,
        })
        # An event naming an unknown account, or none, waits in quarantine.
        known = out["account_id"].isin(self.accounts.keys()) | ident.values | (
            out["type"] == "alias").values
        held = ~known.values
        if held.any():
            self.quarantine.append(out[held])
            self.n["quarantined"] += int(held.sum())
        self.n["accepted"] += int((~held).sum())
        out[~held].to_sql("events", self.con, if_exists="append", index=False)

    def single_account(self, u):
        s = self.members.get(u)
        return next(iter(s)) if s and len(s) == 1 else None

    def finish(self):
        # Attach quarantined events that later calls resolved; keep the rest.
        if self.quarantine:
            q = pd.concat(self.quarantine)
            acct = q["account_id"].where(q["account_id"].isin(self.accounts.keys()), None)
            redo = acct.isna()
            acct[redo] = q["user_id"][redo].map(self.single_account)
            fixed = acct.notna() & acct.isin(self.accounts.keys())
            q = q.assign(account_id=acct)
            q[fixed].to_sql("events", self.con, if_exists="append", index=False)
            q[~fixed].to_sql("quarantine", self.con, if_exists="append", index=False)
            self.n["attached"] += int(fixed.sum())
        known = ["name", "plan", "mrr", "seats", "renewal_date", "csm_email", "csm_slack",
                 "segment", "premium_products", "created_at"]
        acc = pd.DataFrame([[a] + [json.dumps(t[k]) if isinstance(t.get(k), (list, dict))
                                   else t.get(k) for k in known] + [json.dumps(t)]
                            for a, (t, _) in self.accounts.items()],
                           columns=["account_id"] + known + ["traits"])
        acc.to_sql("accounts", self.con, if_exists="replace", index=False)
        usr = pd.DataFrame([(u, t.get("email"), t.get("name"), t.get("title"), json.dumps(t))
                            for u, t in self.users.items()],
                           columns=["user_id", "email", "name", "title", "traits"])
        usr.to_sql("users", self.con, if_exists="replace", index=False)
        mem = pd.DataFrame([(u, a) for u, s in self.members.items() for a in s],
                           columns=["user_id", "account_id"])
        mem.to_sql("memberships", self.con, if_exists="replace", index=False)
        self.con.close()


def main():
    a = parse_args()
    # A bulk load allocates millions of small dicts; the cyclic garbage collector
    # would scan them again and again (about 30% of the run) and frees nothing here.
    gc.disable()
    t0 = time.monotonic()
    peer = Peer(a.db)
    for path in a.files:
        with open(path, encoding="utf-8", errors="replace") as f:
            while True:
                lines = list(islice(f, a.chunk))
                if not lines:
                    break
                peer.chunk(lines)
    peer.finish()
    secs = time.monotonic() - t0
    n = peer.n
    msgs = n["accepted"] + n["duplicates"] + n["quarantined"] + n["rejected"]
    print(f"pandas: {n['accepted']} accepted, {n['duplicates']} duplicates, "
          f"{n['quarantined']} quarantined ({n['attached']} attached later), "
          f"{n['rejected']} rejected in {secs:.1f} s: {msgs / secs:,.0f} events/s")
    print(f"RESULT messages={msgs} seconds={secs:.3f} events_per_s={msgs / secs:.0f} "
          f"accepted={n['accepted']} duplicates={n['duplicates']} "
          f"quarantined={n['quarantined'] - n['attached']} rejected={n['rejected']}")


if __name__ == "__main__":
    sys.exit(main())
