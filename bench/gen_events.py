#!/usr/bin/python3
"""gen_events.py: realistic B2B SaaS Segment messages, fast, for tend's benchmarks.

Writes Segment messages as JSON Lines to stdout: first one `group` call per
account (traits name, plan, mrr, seats, renewal_date, csm_email, segment), then
one `identify` per user (traits with company_id), then time-ordered `track`
events over --days days, busier on weekdays and in working hours: mostly
feature events (a dozen names, some with a `product`), logins ("Signed In"),
and a sprinkle of NPS answers, tickets and invoices. Most events carry
context.groupId, some only properties.account_id, and some neither (tend then
resolves the account through the user's membership). Every message has a
unique messageId (UUID-shaped, unique per --seed) and an ISO-8601 timestamp;
a line is about 250 bytes.

  gen_events.py --events 3000000 --seed 1 > events.jsonl
  gen_events.py --events 1000000 --batch 100 --part events > bodies.jsonl

--events N is the number of messages written (set-up messages included, with
--part all). --batch K writes Segment batch request bodies, {"batch":[...K
messages...]}, one per line, instead of one message per line. --part setup
writes only the group and identify calls, --part events only the track events
(so an HTTP benchmark can create the accounts first and then post events).

Output is deterministic for a given set of arguments. The strings are built
from precomputed pieces with f-strings (no json.dumps per line), so it writes
several hundred thousand lines per second.
"""
import argparse
import datetime as dt
import random
import sys

FEATURES = [
    # (event name, product or None)
    ("Dashboard Viewed", None),
    ("Report Exported", "analytics_pro"),
    ("Report Created", "analytics_pro"),
    ("Project Created", None),
    ("Task Completed", None),
    ("Comment Added", None),
    ("File Uploaded", None),
    ("Integration Connected", "integrations"),
    ("Workflow Run", "automation"),
    ("Search Performed", None),
    ("Invite Sent", None),
    ("API Key Created", "api"),
]
FEATURE_WEIGHTS = [22, 6, 3, 4, 18, 10, 7, 1, 9, 12, 2, 1]

PLANS = [
    # plan, segment, mrr range, seats range
    ("starter", "smb", (99, 499), (5, 15)),
    ("growth", "mid-market", (500, 2999), (15, 60)),
    ("business", "mid-market", (3000, 9999), (40, 150)),
    ("enterprise", "enterprise", (10000, 60000), (100, 800)),
]
PLAN_WEIGHTS = [45, 35, 14, 6]

CSMS = ["dana", "sam", "lee", "priya", "tomas", "ines", "kofi", "mei", "olga", "raj"]
COMPANY_A = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka",
             "Tyrell", "Cyberdyne", "Soylent", "Aperture", "Vandelay", "Pied Piper", "Oscorp",
             "Gringotts", "Monarch", "Nakatomi", "Virtucon", "Duff"]
COMPANY_B = ["Corp", "Labs", "Systems", "Logistics", "Health", "Foods", "Energy", "Media",
             "Analytics", "Robotics", "Capital", "Retail", "Studios", "Networks", "Bio"]
FIRST = ["Ada", "Bob", "Cy", "Dee", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Liv",
         "Max", "Noor", "Otto", "Pia", "Quinn", "Rui", "Sol", "Tess", "Uma", "Vik", "Wen",
         "Xia", "Yara", "Zed"]
LAST = ["Lovelace", "Hopper", "Turing", "Knuth", "Liskov", "Ritchie", "Thompson", "Hamilton",
        "Kernighan", "Torvalds", "Wirth", "Dijkstra", "Backus", "Allen", "Goldberg"]
TITLES = ["Engineer", "Analyst", "Manager", "Director", "VP Operations", "Designer",
          "Support Lead", "Admin", "Head of Data", "CTO"]
LIBS = [
    '"library":{"name":"analytics.js","version":"2.11.1"}',
    '"library":{"name":"analytics-node","version":"6.2.0"}',
    '"library":{"name":"analytics-python","version":"2.2.2"}',
    '"library":{"name":"analytics-ruby","version":"2.4.0"}',
]
# Track events' context: half from a Segment library, half from a plain HTTP
# client that sends no context of its own.
CTX_LIB = [',' + LIBS[0], ',' + LIBS[1], '', '']
# Relative activity by hour of day (UTC; customers span time zones).
HOUR_WEIGHTS = [2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 12, 12, 11, 9, 7, 5, 4, 3, 3, 2]
WEEKDAY_WEIGHTS = [10, 10, 10, 10, 9, 3, 2]  # Monday first

# Kinds of track event and their share (per 10,000 events).
K_FEATURE, K_LOGIN, K_NPS, K_T_OPEN, K_T_CLOSE, K_INV, K_INV_PAID, K_PAY_FAIL = range(8)
KIND_WEIGHTS = [7880, 2000, 30, 35, 30, 12, 10, 3]
# How an event names its account: context.groupId, properties.account_id, neither.
MODE_WEIGHTS = [70, 20, 10]

CHUNK = 8192


def cumulative(weights):
    out, total = [], 0
    for w in weights:
        total += w
        out.append(total)
    return out


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=1000000, help="messages to write")
    p.add_argument("--accounts", type=int, default=2000)
    p.add_argument("--users-per-account", type=int, default=25, help="average")
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--end", default="2026-11-22", help="day after the last event (UTC)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=0, metavar="K",
                   help="write Segment batch bodies of K messages, one per line")
    p.add_argument("--part", choices=["all", "setup", "events"], default="all")
    a = p.parse_args()
    if a.events < 0 or a.accounts < 1 or a.days < 1 or a.batch < 0:
        p.error("--events, --accounts, --days and --batch must be positive")
    return a


class Gen:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        end = dt.datetime.strptime(a.end, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
        self.start = end - dt.timedelta(days=a.days)
        # messageIds: UUID-shaped, unique per seed and index.
        self.id_prefix = "%08x-%04x-4%03x-8000-" % (
            random.Random(a.seed * 7919 + 17).getrandbits(32), a.seed & 0xFFFF,
            (a.seed >> 16) & 0xFFF)
        self.n_msg = 0
        self.make_accounts()

    def next_id(self):
        self.n_msg += 1
        return f"{self.id_prefix}{self.n_msg:012x}"

    def make_accounts(self):
        r, a = self.rng, self.a
        self.acct_ids = [f"acc_{i:05d}" for i in range(a.accounts)]
        self.accounts = []  # (plan index, users list)
        self.user_ids, self.user_acct, self.user_weight = [], [], []
        lo, hi = max(1, a.users_per_account * 2 // 5), a.users_per_account * 8 // 5
        pw = cumulative(PLAN_WEIGHTS)
        for i in range(a.accounts):
            plan = r.choices(range(len(PLANS)), cum_weights=pw)[0]
            n = r.randint(lo, hi)
            activity = r.choice([0.2, 0.6, 1.0, 1.0, 1.3, 1.8])  # some accounts fade
            first = len(self.user_ids)
            for k in range(n):
                self.user_ids.append(f"usr_{i:05d}_{k:03d}")
                self.user_acct.append(i)
                self.user_weight.append(activity * r.uniform(0.2, 2.0))
            self.accounts.append((plan, list(range(first, first + n))))
        self.user_cum = cumulative(self.user_weight)

    # ---- set-up: group and identify ------------------------------------

    def ts(self, ms):
        t = self.start + dt.timedelta(milliseconds=ms)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

    def setup_messages(self):
        """Group calls then identify calls, over the 7 days before the events."""
        r = self.rng
        n_users = len(self.user_ids)
        span = 7 * 86400 * 1000
        step = span // (len(self.accounts) + n_users + 1)
        t = -span
        out = []
        for i, (plan, users) in enumerate(self.accounts):
            pname, seg, (m0, m1), (s0, s1) = PLANS[plan]
            name = f"{r.choice(COMPANY_A)} {r.choice(COMPANY_B)} {i}"
            mrr = r.randint(m0, m1)
            seats = max(r.randint(s0, s1), len(users))
            renewal = (self.start + dt.timedelta(days=r.randint(10, 400))).strftime("%Y-%m-%d")
            csm = CSMS[i % len(CSMS)]
            t += step
            out.append(
                f'{{"type":"group","messageId":"{self.next_id()}","userId":"{self.user_ids[users[0]]}",'
                f'"groupId":"{self.acct_ids[i]}","timestamp":"{self.ts(t)}",'
                f'"context":{{{LIBS[1]}}},"traits":{{"name":"{name}","plan":"{pname}",'
                f'"mrr":{mrr},"seats":{seats},"renewal_date":"{renewal}",'
                f'"csm_email":"{csm}@tend.example","segment":"{seg}"}}}}')
        for u, uid in enumerate(self.user_ids):
            f, la = r.choice(FIRST), r.choice(LAST)
            acct = self.acct_ids[self.user_acct[u]]
            t += step
            out.append(
                f'{{"type":"identify","messageId":"{self.next_id()}","userId":"{uid}",'
                f'"timestamp":"{self.ts(t)}","context":{{{LIBS[0]}}},'
                f'"traits":{{"email":"{f.lower()}.{la.lower()}.{u}@{acct}.example",'
                f'"name":"{f} {la}","title":"{r.choice(TITLES)}","company_id":"{acct}"}}}}')
        return out

    # ---- track events ----------------------------------------------------

    def slots(self, n):
        """Yields (hour start in ms from self.start, events in that hour) summing to n."""
        weights = []
        for h in range(self.a.days * 24):
            day = self.start + dt.timedelta(hours=h)
            weights.append(WEEKDAY_WEIGHTS[day.weekday()] * HOUR_WEIGHTS[day.hour])
        total = sum(weights)
        acc, done = 0, 0
        for h, w in enumerate(weights):
            acc += w
            upto = n * acc // total
            if upto > done:
                yield h * 3600000, upto - done
                done = upto

    def track_messages(self, n):
        """Yields lists of track event lines, n in all, in time order."""
        r = self.rng
        a = self.a
        # Precomputed pieces.
        day_prefix = [(self.start + dt.timedelta(days=d)).strftime("%Y-%m-%dT")
                      for d in range(a.days + 1)]
        hh = [f"{h:02d}:" for h in range(24)]
        mmss = [f"{s // 60:02d}:{s % 60:02d}." for s in range(3600)]
        msd = [f"{m:03d}Z" for m in range(1000)]
        acct_ids, user_ids, user_acct = self.acct_ids, self.user_ids, self.user_acct
        n_users = len(user_ids)
        feat_head, feat_props = [], []
        for name, product in FEATURES:
            feat_head.append(f'{{"type":"track","event":"{name}",')
            variants = []
            for v in range(64):
                inner = f'"duration_ms":{r.randint(20, 9000)}'
                if product:
                    inner = f'"product":"{product}",' + inner
                if v % 4 == 0:
                    inner += ',"source":"web"'
                elif v % 4 == 1:
                    inner += ',"source":"api"'
                variants.append(inner)
            feat_props.append(variants)
        ctx_plain = [f'"context":{{{c[1:]}}},' if c else "" for c in CTX_LIB]
        login_head = '{"type":"track","event":"Signed In",'
        login_props = ['"method":"password"', '"method":"sso"', '"method":"google"',
                       '"method":"sso","mfa":true']
        fw, kw, mw = cumulative(FEATURE_WEIGHTS), cumulative(KIND_WEIGHTS), cumulative(MODE_WEIGHTS)
        nfeat = range(len(FEATURES))
        ucum = self.user_cum
        open_tickets = []
        invoices = []
        n_ticket = n_invoice = 0
        prefix = self.id_prefix
        out = []
        for hour_ms, count in self.slots(n):
            day, hour = divmod(hour_ms // 3600000, 24)
            tsp = day_prefix[day] + hh[hour]
            users = r.choices(range(n_users), cum_weights=ucum, k=count)
            kinds = r.choices(range(8), cum_weights=kw, k=count)
            modes = r.choices(range(3), cum_weights=mw, k=count)
            feats = r.choices(nfeat, cum_weights=fw, k=count)
            rnd = r.random
            for j in range(count):
                off = (j * 3600000) // count + int(rnd() * 400)  # within the hour, ordered
                if off >= 3600000:
                    off = 3599999
                ts = f"{tsp}{mmss[off // 1000]}{msd[off % 1000]}"
                u = users[j]
                acct = acct_ids[user_acct[u]]
                kind = kinds[j]
                if kind == K_FEATURE:
                    f = feats[j]
                    head = feat_head[f]
                    props = feat_props[f][int(rnd() * 64)]
                elif kind == K_LOGIN:
                    head = login_head
                    props = login_props[int(rnd() * 4)]
                elif kind == K_NPS:
                    score = min(10, int(rnd() * 12))
                    head = '{"type":"track","event":"NPS Survey Responded",'
                    props = (f'"score":{score},"comment":"'
                             + ("Love it" if score >= 9 else "OK" if score >= 7 else "Too slow")
                             + '"')
                elif kind == K_T_OPEN or (kind == K_T_CLOSE and not open_tickets):
                    n_ticket += 1
                    tid = f"T-{a.seed}-{n_ticket}"
                    open_tickets.append((tid, u))
                    pr = ("low", "normal", "normal", "high", "urgent")[int(rnd() * 5)]
                    head = '{"type":"track","event":"Ticket Opened",'
                    props = f'"ticket_id":"{tid}","priority":"{pr}"'
                elif kind == K_T_CLOSE:
                    tid, u = open_tickets.pop(int(rnd() * len(open_tickets)))
                    acct = acct_ids[user_acct[u]]
                    head = '{"type":"track","event":"Ticket Closed",'
                    props = f'"ticket_id":"{tid}"'
                elif kind == K_INV or not invoices:
                    n_invoice += 1
                    iid = f"INV-{a.seed}-{n_invoice}"
                    invoices.append((iid, u))
                    amount = r.randint(99, 60000)
                    due = (self.start + dt.timedelta(days=day + 30)).strftime("%Y-%m-%d")
                    head = '{"type":"track","event":"Invoice Issued",'
                    props = f'"invoice_id":"{iid}","amount":{amount},"due_date":"{due}"'
                else:
                    iid, u = invoices.pop(int(rnd() * len(invoices)))
                    acct = acct_ids[user_acct[u]]
                    head = ('{"type":"track","event":"Invoice Paid",' if kind == K_INV_PAID
                            else '{"type":"track","event":"Payment Failed",')
                    props = f'"invoice_id":"{iid}"'
                    if kind == K_PAY_FAIL:
                        invoices.append((iid, u))
                self.n_msg += 1
                mode = modes[j]
                if mode == 0:
                    out.append(f'{head}"userId":"{user_ids[u]}","messageId":"{prefix}{self.n_msg:012x}",'
                               f'"timestamp":"{ts}","context":{{"groupId":"{acct}"{CTX_LIB[u & 3]}}},'
                               f'"properties":{{{props}}}}}')
                elif mode == 1:
                    out.append(f'{head}"userId":"{user_ids[u]}","messageId":"{prefix}{self.n_msg:012x}",'
                               f'"timestamp":"{ts}",{ctx_plain[u & 3]}'
                               f'"properties":{{"account_id":"{acct}",{props}}}}}')
                else:
                    out.append(f'{head}"userId":"{user_ids[u]}","messageId":"{prefix}{self.n_msg:012x}",'
                               f'"timestamp":"{ts}",{ctx_plain[u & 3]}'
                               f'"properties":{{{props}}}}}')
                if len(out) >= CHUNK:
                    yield out
                    out = []
        if out:
            yield out


def main():
    a = parse_args()
    g = Gen(a)
    write = sys.stdout.write
    pending = []  # batch mode: messages not yet in a body

    def emit(lines):
        nonlocal pending
        if not lines:
            return
        if a.batch:
            pending.extend(lines)
            k = a.batch
            full = len(pending) // k * k
            if full:
                write("".join('{"batch":[' + ",".join(pending[i:i + k]) + "]}\n"
                              for i in range(0, full, k)))
                pending = pending[full:]
        else:
            write("\n".join(lines))
            write("\n")

    setup = g.setup_messages()  # always drawn, so the event stream is the same for every --part
    if a.part == "setup":
        emit(setup)
    else:
        n_track = a.events
        if a.part == "all":
            setup = setup[:a.events]
            emit(setup)
            n_track = a.events - len(setup)
        if n_track > 0:
            for chunk in g.track_messages(n_track):
                emit(chunk)
    if a.batch and pending:
        write('{"batch":[' + ",".join(pending) + "]}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(0)
