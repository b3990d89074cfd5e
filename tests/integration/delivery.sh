#!/usr/bin/env bash
# Delivery (issue 6, docs/delivery.md): the outbox and the dispatcher against
# local stand-ins on 127.0.0.1 (tests/integration/receiver.py): an SMTP
# server (aiosmtpd, no TLS) and HTTP receivers playing Slack and a webhook
# consumer. The issue's acceptance criteria:
#   A. every message arrives once and is well-formed (email parsed by Python's
#      email package, Slack Block Kit within limits for a huge hostile account
#      name, webhook HMAC and Idempotency-Key), and the log channel;
#   B. failures: 500 then 200, 429 + Retry-After, 400 invalid_payload (dead,
#      never retried), SMTP 4xx (retried), SMTP 5xx (dead), Slack down while
#      email works, tend outbox retry --dead, STARTTLS required by default;
#   C. kill -9 of tend deliver, many times at random: nothing lost, and every
#      duplicate accounted for by resends;
#   D. the daily digest: one per owner, no item twice, also across restarts.
# The checks themselves are Python (written to $T/dc.py below); this script
# starts the receivers and runs tend. DELIVERY_SEED=N replays C's kill times;
# DELIVERY_VERBOSE=1 has the SMTP receivers log their sessions (*.err, saved
# with the receivers' logs under $TEND_TEST_ARTIFACTS/delivery).
. "$(dirname "$0")/lib.sh"

D=2026-06-10   # the evaluated day (max_age_days is set large: old dates notify)
D1=2026-06-11
export TEND T
export TEND_TEST_HOOK_SECRET='s3cret-ключ'
RECEIVER="$ROOT/tests/integration/receiver.py"
# Delivery is about the messages of the CTAs that open: no weekly budget
# (docs/rules.md, Budget), so that every account's CTA opens.
RULES_OFF='"rules": {"health_drop": false, "nps_response": false, "renewal_upcoming": false,
  "payment_overdue": false, "login_change": false, "usage_dip": false, "intended_adoption": false,
  "onboarding_stalled": false, "outreach_unresponsive": false, "seat_limit": false,
  "premium_unused": false, "support_tickets": false, "budget": {"per_owner_per_week": 0}}'

# ---- receivers -------------------------------------------------------------------
# start_receiver KIND NAME [PORT]: receiver.py KIND with $T/NAME.{port,jsonl,
# script.json,err}; sets RPORT. NAME is an identifier.
declare -A RPID=()
start_receiver() {
    local kind=$1 name=$2 port=${3:-0} pid
    rm -f "$T/$name.port"
    [ -f "$T/$name.script.json" ] || echo '{}' >"$T/$name.script.json"
    $PY "$RECEIVER" "$kind" --port-file "$T/$name.port" --log "$T/$name.jsonl" \
        --script "$T/$name.script.json" --port "$port" ${DELIVERY_VERBOSE:+--verbose} 2>>"$T/$name.err" &
    pid=$!
    RPID[$name]=$pid
    for _ in $(seq 100); do
        if [ -s "$T/$name.port" ]; then
            RPORT=$(cat "$T/$name.port")
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "receiver $name did not start:" >&2
    cat "$T/$name.err" >&2
    return 1
}
# stop_receiver NAME: SIGTERM, at most 5 s, then SIGKILL.
stop_receiver() {
    local pid=${RPID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "RPID[$1]"
}
# set_script NAME JSON: the receiver's new script (atomic: it re-reads it).
set_script() {
    printf '%s\n' "$2" >"$T/$1.script.json.new"
    mv "$T/$1.script.json.new" "$T/$1.script.json"
}
BG_PID= # a tend deliver run in the background (to be killed), while it runs
# alive PID: the process runs (not ended, not a zombie waiting to be reaped).
alive() {
    local st
    st=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ]
}
stop_all() {
    [ -n "$BG_PID" ] && kill -9 "$BG_PID" 2>/dev/null
    for n in "${!RPID[@]}"; do stop_receiver "$n"; done
}
# The receivers' logs and the outboxes, for a failure's post-mortem.
save_artifacts() {
    [ -n "${TEND_TEST_ARTIFACTS:-}" ] || return 0
    local dir="$TEND_TEST_ARTIFACTS/delivery"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$T"/*.jsonl "$T"/*.yaml "$T"/*.log "$T"/*.err "$dir/" 2>/dev/null
    local name
    for name in $(db_names); do
        timeout 30 "$TEND" outbox --db "$(db "$name")" >"$dir/$name.outbox.txt" 2>&1
    done
}
trap 'stop_all; save_artifacts; cleanup' EXIT

# ---- tend ------------------------------------------------------------------------
# deliver DB CONFIG ARGS...: tend deliver, given its --wait and 15 s more
# (a hang is a failure of its own); sets DOUT (stdout and stderr) and DRC.
deliver() {
    local db=$1 cfg=$2 w=0 a prev=
    shift 2
    for a in "$@"; do
        [ "$prev" = --wait ] && w=$a
        prev=$a
    done
    DOUT=$(timeout $((w + 15)) "$TEND" deliver --db "$db" --config "$cfg" "$@" 2>&1)
    DRC=$?
    if [ "$DRC" -eq 124 ]; then
        not_ok "tend deliver --db $(basename "$db") $* ends within --wait + 15 s" "killed after $((w + 15)) s: $DOUT"
    fi
    return 0
}
# setup NAME SPEC CONFIG: imports the accounts of SPEC (JSON, see dc.py
# events) into the database NAME (lib.sh's db) and evaluates day D with CONFIG.
setup() {
    local name=$1 spec=$2 cfg=$3 out
    $PY "$T/dc.py" events "$T/$name.jsonl.in" "$D" "$spec" || return 1
    out=$(timeout 60 "$TEND" import --db "$(db "$name")" "$T/$name.jsonl.in" 2>&1) || {
        not_ok "$name: import" "$out"
        return 1
    }
    out=$(timeout 60 "$TEND" eval --db "$(db "$name")" --config "$cfg" --at "$D" 2>&1) || {
        not_ok "$name: eval --at $D" "$out"
        return 1
    }
}
dc() { timeout 120 $PY "$T/dc.py" "$@" || not_ok "dc.py $1 ran to the end" "exit $?"; }
# after_kill COMMAND...: COMMAND as the run after a kill -9 of tend deliver.
# On SQLite that run takes the dispatcher's lock and puts back at once what
# the dead one left `sending`. On PostgreSQL there is no lock: a dead
# dispatcher's rows are taken back once their lease (dispatch.c's LEASE_MS,
# 60 s) has ended (docs/delivery.md, "Several nodes on one PostgreSQL
# database"), so the run goes on a clock past the lease instead of waiting
# a minute. A run without it, right after the kill, leaves them alone.
after_kill() {
    if [ "$BACKEND" = pg ]; then
        TEND_TEST_CLOCK_OFFSET_S=61 "$@"
    else
        "$@"
    fi
}

cat >"$T/dc.py" <<'PY'
"""The checks of delivery.sh; each prints "ok - ..." or "not ok - ..."."""
import base64
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time

TEND, T = os.environ["TEND"], os.environ["T"]
HOOK_SECRET = os.environ["TEND_TEST_HOOK_SECRET"]


def report(name, good, *details):
    print(("ok - " if good else "not ok - ") + name)
    if not good:
        for d in details:
            text = str(d)
            if len(text) > 3000:
                text = text[:3000] + " ..."
            print("    " + text.replace("\n", "\n    "))
    sys.stdout.flush()
    return good


def tend(*args):
    return subprocess.run([TEND, *args], capture_output=True, text=True, timeout=60)


def outbox(db):
    """Every outbox row (tend outbox --format json), oldest first."""
    r = tend("outbox", "--db", db, "--format", "json", "--limit", "100000")
    if r.returncode != 0:
        raise RuntimeError(f"tend outbox --db {db} --format json: exit {r.returncode}: {r.stderr}")
    data = json.loads(r.stdout)
    if isinstance(data, dict):  # {"rows": [...], "counts": {...}}?
        data = data.get("rows")
    return sorted(data, key=lambda x: x["id"])


def jl(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def hdr(e, name):
    for k, v in (e.get("headers") or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def body_bytes(e):
    return base64.b64decode(e["body_b64"]) if "body_b64" in e else e["body"].encode("utf-8")


def when(v):
    """next_at as unix seconds: an ISO 8601 string or a number (s or ms)."""
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)):
        return v / 1000.0 if v > 1e11 else float(v)
    return dt.datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()


def has_key(text, key):
    return re.search(r"(?<![A-Za-z0-9_.:/-])" + re.escape(key) + r"(?![A-Za-z0-9_.:/-])", text) is not None


def context_texts(doc):
    out = []
    for b in doc.get("blocks") or [] if isinstance(doc, dict) else []:
        if isinstance(b, dict) and b.get("type") == "context":
            for el in b.get("elements") or []:
                if isinstance(el, dict) and isinstance(el.get("text"), str):
                    out.append(el["text"])
    return out


def parse_mail(data):
    return email.message_from_bytes(data.encode("utf-8"), policy=email.policy.default)


def mail_key(data):
    mid = parse_mail(data).get("Message-ID")
    m = re.fullmatch(r"\s*<([^<>@\s]+)@([A-Za-z0-9.-]+)>\s*", str(mid or ""))
    return m.group(1) if m else None


def arrivals(rows, kinds, http_log=None, smtp_log=None):
    """Every arrival at the receivers by outbox key: {key: [(accepted, entry)]},
    and the arrivals that match no row (or several)."""
    by_key = {r["key"]: [] for r in rows}
    slack_keys = [r["key"] for r in rows if kinds.get(r["channel"]) == "slack"]
    stray = []
    for e in jl(http_log) if http_log else []:
        if e.get("incomplete"):
            continue
        good = isinstance(e.get("status"), int) and 200 <= e["status"] < 300
        k = hdr(e, "Idempotency-Key")
        if k is None:
            try:
                doc = json.loads(e["body"])
            except ValueError:
                stray.append(e)
                continue
            ks = [k for k in slack_keys if any(has_key(t, k) for t in context_texts(doc))]
            if len(ks) != 1:
                stray.append(e)
                continue
            k = ks[0]
        if k in by_key:
            by_key[k].append((good, e))
        else:
            stray.append(e)
    for e in jl(smtp_log) if smtp_log else []:
        if e.get("stage") != "data":
            continue
        k = mail_key(e["data"])
        if k in by_key:
            by_key[k].append((str(e["status"]).startswith("2"), e))
        else:
            stray.append(e)
    return by_key, stray


def brief(e):
    e = dict(e)
    for f in ("body", "data"):
        if f in e and len(e[f]) > 300:
            e[f] = e[f][:300] + "..."
    e.pop("headers", None)
    return json.dumps(e, ensure_ascii=False)


def rows_brief(rows):
    return "\n".join(json.dumps({k: r.get(k) for k in ("id", "status", "channel", "target", "event",
                                                        "attempts", "resends", "next_at",
                                                        "last_error", "key")}) for r in rows)


# ---- test data --------------------------------------------------------------------

def cmd_events(out, day, spec):
    """Segment messages for accounts [{"id", "name", "owner", "slack", "segment", "mrr",
    "renewal_date", "kind": "no_login" (medium) | "card" (low: the card expires 2026-06-30)
    | "detractor" (high: an NPS answer of 2 on the day)}]."""
    day = dt.date.fromisoformat(day)
    accounts = json.loads(spec)
    n = [0]

    def msg(kind, user, d, **fields):
        n[0] += 1
        m = {"type": kind, "userId": user, "timestamp": f"{d.isoformat()}T12:00:00Z",
             "messageId": f"{os.path.basename(out)}-{n[0]}"}
        m.update(fields)
        return m

    lines = []
    for a in accounts:
        traits = {"csm_email": a["owner"]}
        for k, t in (("name", "name"), ("slack", "csm_slack"), ("segment", "segment"),
                     ("mrr", "mrr"), ("renewal_date", "renewal_date")):
            if a.get(k):
                traits[t] = a[k]
        u = "u-" + a["id"]
        lines.append(msg("group", u, day - dt.timedelta(days=60), groupId=a["id"], traits=traits))
        if a["kind"] == "no_login":
            lines.append(msg("track", u, day - dt.timedelta(days=20), event="Signed In",
                             context={"groupId": a["id"]}))
        elif a["kind"] == "detractor":
            lines.append(msg("track", u, day, event="NPS Survey Responded",
                             context={"groupId": a["id"]}, properties={"score": 2}))
        else:
            lines.append(msg("track", u, day - dt.timedelta(days=30), event="Payment Method Updated",
                             context={"groupId": a["id"]},
                             properties={"card_exp_month": 6, "card_exp_year": 2026}))
    with open(out, "w", encoding="utf-8") as f:
        for m in lines:
            line = json.dumps(m, ensure_ascii=False)
            assert len(line.encode()) < 32 * 1024, "a message over Segment's 32 KiB"
            f.write(line + "\n")


def hostile_name():
    """About 20,000 characters of what a Slack message must not interpret."""
    seg = "<!channel> & <http://x|y> <!here> <@U0BAD> *bold* Ünïcödé 🔥\n"
    return ("Evil Corp " + seg * 400)[:20000]


def cmd_hostile():
    print(json.dumps(hostile_name(), ensure_ascii=False))


# ---- A: every message arrives once and is well-formed -----------------------------

SLACK_LIMITS = {"blocks": 50, "section": 3000, "header": 150, "field": 2000, "button": 75}


def slack_problems(doc):
    """Block Kit and Slack's limits; returns (problems, mrkdwn texts)."""
    p, mrkdwn = [], []
    if not isinstance(doc, dict):
        return ["the body is not a JSON object"], mrkdwn
    if not isinstance(doc.get("text"), str) or not doc["text"].strip():
        p.append("no plain \"text\" fallback")
    else:
        mrkdwn.append(("text", doc["text"]))
        if len(doc["text"]) > 40000:
            p.append(f"text fallback of {len(doc['text'])} characters (Slack truncates at 40,000)")
    blocks = doc.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return p + ["no blocks"], mrkdwn
    if len(blocks) > SLACK_LIMITS["blocks"]:
        p.append(f"{len(blocks)} blocks (at most 50)")

    def text_obj(t, where, limit, kinds=("plain_text", "mrkdwn")):
        if not isinstance(t, dict) or t.get("type") not in kinds or not isinstance(t.get("text"), str):
            p.append(f"{where}: not a text object of type {'/'.join(kinds)}: {str(t)[:200]}")
            return
        if not t["text"]:
            p.append(f"{where}: empty text")
        if len(t["text"]) > limit:
            p.append(f"{where}: {len(t['text'])} characters (at most {limit})")
        if t["type"] == "mrkdwn":
            mrkdwn.append((where, t["text"]))

    for i, b in enumerate(blocks):
        where = f"blocks[{i}]"
        kind = b.get("type") if isinstance(b, dict) else None
        if kind == "header":
            text_obj(b.get("text"), where + ".text", SLACK_LIMITS["header"], ("plain_text",))
        elif kind == "section":
            if "text" not in b and "fields" not in b:
                p.append(f"{where}: a section without text or fields")
            if "text" in b:
                text_obj(b["text"], where + ".text", SLACK_LIMITS["section"])
            fields = b.get("fields", [])
            if len(fields) > 10:
                p.append(f"{where}: {len(fields)} fields (at most 10)")
            for j, f in enumerate(fields):
                text_obj(f, f"{where}.fields[{j}]", SLACK_LIMITS["field"])
        elif kind == "context":
            els = b.get("elements") or []
            if not els or len(els) > 10:
                p.append(f"{where}: {len(els)} context elements (1 to 10)")
            for j, el in enumerate(els):
                if isinstance(el, dict) and el.get("type") == "image":
                    continue
                text_obj(el, f"{where}.elements[{j}]", SLACK_LIMITS["section"])
        elif kind == "actions":
            els = b.get("elements") or []
            if not els or len(els) > 25:
                p.append(f"{where}: {len(els)} actions elements (1 to 25)")
            for j, el in enumerate(els):
                if isinstance(el, dict) and el.get("type") == "button":
                    text_obj(el.get("text"), f"{where}.elements[{j}].text", SLACK_LIMITS["button"],
                             ("plain_text",))
                    if len(str(el.get("url", ""))) > 3000:
                        p.append(f"{where}.elements[{j}].url: over 3000 characters")
        elif kind == "divider":
            pass
        else:
            p.append(f"{where}: unexpected block type {kind!r}")
    return p, mrkdwn


def mrkdwn_problems(texts):
    """Raw control sequences of user text: nothing pings, every & is an entity."""
    p = []
    for where, t in texts:
        for bad in ("<!channel>", "<!here>", "<http://x|y>", "<@U0BAD>"):
            if bad in t:
                p.append(f"{where}: raw {bad}")
        m = re.search(r"&(?!amp;|lt;|gt;)", t)
        if m:
            p.append(f"{where}: an unescaped & at {m.start()}: {t[max(0, m.start() - 20):m.start() + 20]!r}")
    return p


def mail_problems(data, key, owner, sender):
    p = []
    for n, line in enumerate(data.split("\n")):
        if len(line.rstrip("\r").encode("utf-8")) > 998:
            p.append(f"line {n + 1} is {len(line.encode())} bytes (RFC 5322: at most 998)")
            break
    msg = parse_mail(data)
    for h in ("From", "To", "Subject", "Date", "Message-ID"):
        if msg.get(h) is None:
            p.append(f"no {h} header")
    if p:
        return p, msg
    for h in set(msg.keys()):
        if msg[h].defects:
            p.append(f"{h}: defects {msg[h].defects}")
    if msg.defects:
        p.append(f"message defects: {msg.defects}")
    subj = str(msg["Subject"])
    if re.search(r"[\x00-\x1f\x7f]", subj):
        p.append(f"Subject has CR, LF or another control character: {subj[:200]!r}")
    if not subj.strip():
        p.append("empty Subject")
    if str(msg["Message-ID"]).strip() != f"<{key}@{str(msg['Message-ID']).strip()[1:-1].rsplit('@', 1)[-1]}>" \
            or mail_key(data) != key:
        p.append(f"Message-ID {msg['Message-ID']} is not <{key}@domain>")
    if str(msg.get("X-Tend-Key", "")).strip() != key:
        p.append(f"X-Tend-Key {msg.get('X-Tend-Key')!r} is not {key}")
    if msg["Date"].datetime is None:
        p.append(f"Date {msg['Date']!r} does not parse")
    tos = [a.addr_spec for a in msg["To"].addresses]
    if tos != [owner]:
        p.append(f"To is {tos}, expected [{owner}]")
    froms = [a.addr_spec for a in msg["From"].addresses]
    if froms != [sender]:
        p.append(f"From is {froms}, expected [{sender}]")
    if msg.get_content_type() != "multipart/alternative":
        p.append(f"Content-Type {msg.get_content_type()}, expected multipart/alternative")
        return p, msg
    parts = list(msg.iter_parts())
    types = [x.get_content_type() for x in parts]
    if types != ["text/plain", "text/html"]:
        p.append(f"parts {types}, expected text/plain then text/html")
        return p, msg
    for x in parts:
        if (x.get_content_charset() or "").lower() != "utf-8":
            p.append(f"{x.get_content_type()} charset {x.get_content_charset()}, expected utf-8")
        if x.defects:
            p.append(f"{x.get_content_type()}: defects {x.defects}")
        try:
            x.get_content()
        except Exception as e:  # undecodable part
            p.append(f"{x.get_content_type()}: {e!r}")
    return p, msg


def cmd_formed(params):
    a = json.loads(params)
    db, kinds = a["db"], a["kinds"]
    rows = outbox(db)
    n = a["accounts"]
    by_ch = {}
    for r in rows:
        by_ch.setdefault(r["channel"], []).append(r)
    report("A: one outbox row per event and channel (slack, mail, hook, audit)",
           len(rows) == 4 * n and all(len(by_ch.get(c, [])) == n for c in kinds),
           f"{len(rows)} rows for {n} events", rows_brief(rows))
    report("A: tend deliver sent every row at the first attempt",
           all(r["status"] == "sent" and r["attempts"] == 1 and r["resends"] == 0 for r in rows),
           rows_brief(r for r in rows if r["status"] != "sent" or r["attempts"] != 1 or r["resends"]))
    keys = [r["key"] for r in rows]
    report("A: every row has its own non-empty key", len(set(keys)) == len(keys) and all(keys), keys)

    sent = [r for r in rows if kinds[r["channel"]] != "log"]
    by_key, stray = arrivals(sent, kinds, a["http_log"], a["smtp_log"])
    wrong = {k: [brief(e) for _, e in v] for k, v in by_key.items()
             if len(v) != 1 or not v[0][0]}
    report("A: every message arrived exactly once, accepted, and nothing else arrived",
           not wrong and not stray, f"per key: {wrong}", "unmatched: " + "\n".join(brief(e) for e in stray))

    hostile = hostile_name()
    # Slack
    slack = [(r, by_key[r["key"]][0][1]) for r in sent if kinds[r["channel"]] == "slack" and by_key[r["key"]]]
    probs, esc, ctx = [], [], []
    for r, e in slack:
        try:
            doc = json.loads(e["body"])
        except ValueError as x:
            probs.append(f"{r['key']}: not JSON: {x}")
            continue
        if not str(hdr(e, "Content-Type") or "").startswith("application/json"):
            probs.append(f"{r['key']}: Content-Type {hdr(e, 'Content-Type')}")
        if e["method"] != "POST":
            probs.append(f"{r['key']}: {e['method']}")
        p, texts = slack_problems(doc)
        probs += [f"{r['key']}: {x}" for x in p]
        esc += [f"{r['key']}: {x}" for x in mrkdwn_problems(texts)]
        if not any(has_key(t, r["key"]) for t in context_texts(doc)):
            ctx.append(r["key"])
        if r["owner"] == a["hostile_owner"]:
            hostile_doc = doc
    report("A: Slack bodies are Block Kit within Slack's limits (<= 50 blocks, sections <= 3000, "
           "header <= 150, a text fallback)", len(slack) == n and not probs,
           f"{len(slack)} Slack messages for {n} events", *probs)
    report("A: each Slack message carries its key on the context line", len(slack) == n and not ctx, ctx)
    report("A: the hostile account name is escaped in every mrkdwn text and the fallback "
           "(no raw <!channel>, <http://x|y>, every & an entity)", len(slack) == n and not esc, *esc)
    if len(slack) == n:
        flat = json.dumps(hostile_doc, ensure_ascii=False)
        report("A: ... and it is shown (as &lt;!channel&gt;), not dropped", "&lt;!channel&gt;" in flat,
               flat[:1500])
        report("A: the owner is mentioned with the account's csm_slack (<@U024BE7LH>)",
               "<@U024BE7LH>" in flat, flat[:1500])
    ts = sorted(e["t"] for _, e in slack)
    gaps = [round(b - x, 3) for x, b in zip(ts, ts[1:])]
    report("A: Slack messages to one webhook are paced (>= 1 s apart, slack_interval_seconds 1)",
           len(ts) == n and all(g >= 0.9 for g in gaps), f"gaps between arrivals: {gaps}")

    # Email
    mails = [(r, by_key[r["key"]][0][1]) for r in sent if kinds[r["channel"]] == "email" and by_key[r["key"]]]
    probs = []
    for r, e in mails:
        owner = r["owner"]
        p, msg = mail_problems(e["data"], r["key"], owner, a["from"])
        probs += [f"{r['key']}: {x}" for x in p]
        if e["rcpt_tos"] != [owner]:
            probs.append(f"{r['key']}: envelope recipients {e['rcpt_tos']}, expected [{owner}]")
        if not p and r["owner"] == a["hostile_owner"]:
            html = list(msg.iter_parts())[1].get_content()
            plain = list(msg.iter_parts())[0].get_content()
            for bad in ("<!channel>", "<http://x|y>", "<@U0BAD>"):
                if bad in html:
                    probs.append(f"{r['key']}: raw {bad} in the HTML part")
            if "&lt;!channel&gt;" not in html:
                probs.append(f"{r['key']}: the HTML part does not show the name escaped")
            if "Evil Corp" not in plain:
                probs.append(f"{r['key']}: the plain text does not name the account")
    report("A: emails are well-formed: parse with email.policy.default, multipart/alternative "
           "(text/plain, text/html, UTF-8), From/To/Subject/Date/Message-ID, Message-ID <KEY@domain>, "
           "X-Tend-Key, Subject without CR/LF, lines <= 998 bytes, HTML escaped",
           len(mails) == n and not probs, f"{len(mails)} emails for {n} events", *probs)

    # Webhook
    hooks = [(r, by_key[r["key"]][0][1]) for r in sent if kinds[r["channel"]] == "webhook" and by_key[r["key"]]]
    probs = []
    for r, e in hooks:
        k = r["key"]
        body = body_bytes(e)
        try:
            doc = json.loads(body)
        except ValueError as x:
            probs.append(f"{k}: body is not JSON: {x}")
            doc = {}
        if e["method"] != "POST":
            probs.append(f"{k}: {e['method']}")
        if not str(hdr(e, "Content-Type") or "").startswith("application/json"):
            probs.append(f"{k}: Content-Type {hdr(e, 'Content-Type')}")
        if hdr(e, "Idempotency-Key") != k or hdr(e, "X-Tend-Key") != k:
            probs.append(f"{k}: Idempotency-Key {hdr(e, 'Idempotency-Key')!r}, X-Tend-Key {hdr(e, 'X-Tend-Key')!r}")
        if doc.get("key") != k or doc.get("type") != "cta.opened":
            probs.append(f"{k}: body key {doc.get('key')!r}, type {doc.get('type')!r} (expected cta.opened)")
        for f in ("cta", "account", "health", "links"):
            if f not in doc:
                probs.append(f"{k}: no {f!r} in the body")
        stamp = hdr(e, "X-Tend-Timestamp") or ""
        if not re.fullmatch(r"\d+", stamp) or abs(int(stamp) - e["t"]) > 300:
            probs.append(f"{k}: X-Tend-Timestamp {stamp!r}, received at {e['t']:.0f}")
        want = "sha256=" + hmac.new(HOOK_SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if hdr(e, "X-Tend-Signature") != want:
            probs.append(f"{k}: X-Tend-Signature {hdr(e, 'X-Tend-Signature')!r}, HMAC-SHA256 says {want}")
    report("A: webhooks are JSON, signed (X-Tend-Signature = sha256=HMAC-SHA256(secret, timestamp.body)) "
           "with Idempotency-Key = the outbox key", len(hooks) == n and not probs,
           f"{len(hooks)} webhooks for {n} events", *probs)
    # The account as tend accounts shows it: its mrr and renewal date in the body.
    for owner, want in a.get("account", {}).items():
        got = [json.loads(body_bytes(e)).get("account", {}) for r, e in hooks if r["owner"] == owner]
        bad = [g for g in got if any(g.get(k) != v for k, v in want.items())]
        report(f"A: the webhook body's account carries its traits {want} (as tend accounts shows them)",
               len(got) == 1 and not bad, f"account objects: {got}")

    # Log
    logged = [r for r in rows if kinds[r["channel"]] == "log"]
    try:
        lines = [json.loads(l) for l in open(a["audit"], encoding="utf-8")]
        probs = [f"line without {f}: {str(x)[:200]}" for x in lines for f in ("key", "owner", "event", "cta", "text")
                 if f not in x]
        got = sorted(x.get("key") for x in lines)
    except (OSError, ValueError) as x:
        probs, got = [repr(x)], []
    report("A: the log channel wrote one JSON line per message (key, owner, event, cta, text)",
           not probs and got == sorted(r["key"] for r in logged), *probs,
           f"keys logged {got}, rows {sorted(r['key'] for r in logged)}")


# ---- B: failures --------------------------------------------------------------------

def cmd_expect(params):
    """Per channel of a scenario's rows: status, attempts, what arrived.
    {"label", "db", "http_log", "smtp_log", "since": unix s,
     "expect": {CHANNEL: {"why", "status", "attempts", "resends", "http": PATH, "codes": [...],
                          "rcpt": ADDR, "rcpt_codes": [...], "data_codes": [...],
                          "gap": seconds between the first two arrivals at least,
                          "error": substring of last_error (any case), "next_after": unix s}}}"""
    a = json.loads(params)
    rows = outbox(a["db"])
    http = jl(a["http_log"]) if a.get("http_log") else []
    smtp = jl(a["smtp_log"]) if a.get("smtp_log") else []
    for ch, x in a["expect"].items():
        mine = [r for r in rows if r["channel"] == ch]
        p = []
        if len(mine) != 1:
            report(f"{a['label']}: {ch}: {x['why']}", False, f"{len(mine)} rows", rows_brief(rows))
            continue
        r = mine[0]
        for f in ("status", "attempts", "resends"):
            if f in x and r.get(f) != x[f]:
                p.append(f"{f} is {r.get(f)!r}, expected {x[f]!r}")
        if "error" in x and x["error"].lower() not in str(r.get("last_error") or "").lower():
            p.append(f"last_error {r.get('last_error')!r} does not mention {x['error']!r}")
        if "next_after" in x:
            n = when(r.get("next_at"))
            if n is None or n <= x["next_after"]:
                p.append(f"next_at {r.get('next_at')!r} is not after {x['next_after']:.3f}")
        got = []
        if "http" in x:
            got = [e for e in http if e["path"].split("?")[0] == x["http"] and not e.get("incomplete")]
            codes = [e["status"] for e in got]
            if codes != x["codes"]:
                p.append(f"answers {codes} at {x['http']}, expected {x['codes']}")
            keys = {hdr(e, "Idempotency-Key") for e in got}
            if got and "Idempotency-Key" in (got[0].get("headers") or {}) and keys != {r["key"]}:
                p.append(f"Idempotency-Keys {keys}, expected {r['key']}")
        if "rcpt" in x:
            rc = [e["status"][:3] for e in smtp if e["stage"] == "rcpt" and e["rcpt_tos"] == [x["rcpt"]]]
            dc = [e["status"][:3] for e in smtp if e["stage"] == "data" and x["rcpt"] in e["rcpt_tos"]]
            if rc != [str(c) for c in x.get("rcpt_codes", [])]:
                p.append(f"RCPT rejections {rc}, expected {x.get('rcpt_codes', [])}")
            if dc != [str(c) for c in x.get("data_codes", [])]:
                p.append(f"DATA answers {dc}, expected {x.get('data_codes', [])}")
            bad = [mail_key(e["data"]) for e in smtp if e["stage"] == "data" and x["rcpt"] in e["rcpt_tos"]
                   and mail_key(e["data"]) != r["key"]]
            if bad:
                p.append(f"messages with keys {bad}, expected {r['key']}")
            got = [e for e in smtp if x["rcpt"] in e["rcpt_tos"]]
        if "gap" in x:
            ts = [e["t"] for e in got]
            if len(ts) < 2 or ts[1] - ts[0] < x["gap"]:
                p.append(f"arrivals at {[round(t - ts[0], 3) for t in ts]} s: the retry came "
                         f"{round(ts[1] - ts[0], 3) if len(ts) > 1 else None} s after, expected >= {x['gap']}")
        report(f"{a['label']}: {ch}: {x['why']}", not p, *p, "row: " + rows_brief([r]),
               *[brief(e) for e in got])


# ---- C: kill -9 ---------------------------------------------------------------------

def cmd_crash(params):
    a = json.loads(params)
    rows = outbox(a["db"])
    kinds = a["kinds"]
    by_key, stray = arrivals(rows, kinds, a["http_log"], a["smtp_log"])
    resends = sum(r["resends"] for r in rows)
    arrived = {k: sum(1 for good, _ in v if good) for k, v in by_key.items()}
    dups = sum(max(0, n - 1) for n in arrived.values())
    multi = {r["key"]: (arrived[r["key"]], r["resends"]) for r in rows if arrived[r["key"]] > 1}
    print(f"# crash test: {len(rows)} rows, {sum(arrived.values())} arrivals, {dups} duplicates, "
          f"{resends} resends (rows re-sent: {sum(1 for r in rows if r['resends'])}), "
          f"{len([r for r in rows if r['status'] == 'sent'])} sent; "
          f"duplicated keys (arrivals, resends): {multi}")
    report("C: every outbox row is sent after the kills and a final run",
           len(rows) == a["rows"] and all(r["status"] == "sent" for r in rows),
           f"{len(rows)} rows, expected {a['rows']}", rows_brief(r for r in rows if r["status"] != "sent"))
    missing = [k for k, n in arrived.items() if n == 0]
    report("C: every key arrived at least once", not missing and not stray, f"missing: {missing}",
           "unmatched: " + "\n".join(brief(e) for e in stray))
    bad = {k: v for k, v in multi.items() if v[1] == 0}
    report("C: every key that arrived more than once belongs to a row with resends > 0", not bad,
           f"(arrivals, resends): {bad}")
    over = {k: v for k, v in multi.items() if v[0] - 1 > v[1]}
    report("C: no row arrived more often than 1 + its resends", not over, f"(arrivals, resends): {over}")
    report("C: duplicate arrivals <= the sum of resends", dups <= resends, f"{dups} duplicates, {resends} resends")
    first = next((e for e in jl(a["smtp_log"]) if e["stage"] == "data" and e["rcpt_tos"] == ["csm0@c.test"]), None)
    k = mail_key(first["data"]) if first else None
    row = next((r for r in rows if r["key"] == k), None)
    report("C: the message killed after it arrived (before its answer) was sent again with the same key, "
           "counted in resends", row is not None and row["resends"] >= 1 and arrived.get(k, 0) >= 2,
           f"key {k}: row {rows_brief([row]) if row else None}, arrivals {arrived.get(k)}")


# ---- D: digest ----------------------------------------------------------------------

def digest_state(a):
    rows = outbox(a["db"])
    first = {r["id"] for r in json.load(open(a["rows0"]))}
    items = [r for r in rows if r["id"] in first and r["status"] in ("held", "digested")]
    digests = [r for r in rows if r["id"] not in first]
    mails = [e for e in jl(a["smtp_log"]) if e["stage"] == "data" and e["status"].startswith("2")]
    return rows, items, digests, mails


def plain_of(data):
    msg = parse_mail(data)
    try:
        body = msg.get_body(preferencelist=("plain",))
        return str(msg["Subject"]) + "\n" + (body.get_content() if body else "")
    except Exception as e:
        return f"(unparsable: {e!r})"


def cmd_digest(params):
    """{"label", "db", "smtp_log", "rows0", "names": {owner: [names in the digest]},
        "absent": {owner: [names not in it]}, "held": N, "new_mails": N, "mails_before": N,
        "no_digest": bool}"""
    a = json.loads(params)
    rows, items, digests, mails = digest_state(a)
    held = [r for r in items if r["status"] == "held"]
    new = mails[a["mails_before"]:]
    lab = a["label"]
    report(f"{lab}: {a['held']} items held", len(held) == a["held"], rows_brief(rows))
    if a.get("new_mails") is not None:
        report(f"{lab}: {a['new_mails']} new emails arrived", len(new) == a["new_mails"],
               *[brief(e) for e in new])
    if a.get("no_digest"):
        report(f"{lab}: no digest row written", not digests, rows_brief(digests))
        return
    distinct = {mail_key(e["data"]) for e in new}
    report(f"{lab}: {len(a['names'])} digest rows written, and the new emails are those digests",
           len(digests) == len(a["names"]) and distinct == {r["key"] for r in digests},
           "new rows: " + rows_brief(digests), f"keys of the new emails: {distinct}")
    for owner, names in a["names"].items():
        got = [e for e in new if e["rcpt_tos"] == [owner]]
        distinct = {mail_key(e["data"]) for e in got}
        dig = [r for r in digests if r["key"] in distinct]
        texts = [plain_of(e["data"]) for e in got]
        p = []
        if len(distinct) != 1:
            p.append(f"{len(distinct)} distinct messages (keys {distinct}) to {owner}, expected one digest")
        if len(got) > 1 + sum(r["resends"] for r in dig):
            p.append(f"{len(got)} copies of it, resends {[r['resends'] for r in dig]}")
        if len(dig) != len(distinct) or any(r["status"] != "sent" for r in dig):
            p.append("its outbox row: " + rows_brief(dig))
        for t in texts:
            miss = [x for x in names if x not in t]
            extra = [x for x in a["absent"].get(owner, []) if x in t]
            if miss:
                p.append(f"does not list {miss}")
            if extra:
                p.append(f"lists {extra}, which are not its held items")
        report(f"{lab}: {owner} got exactly one digest listing {', '.join(names)}", not p, *p,
               *[x[:1500] for x in texts[:1]])
    # Each digested item names its digest: a row to the same target.
    digested = [r for r in rows if r["status"] == "digested"]
    if digested and "digest" in digested[0]:
        by_id = {r["id"]: r for r in rows if r["status"] not in ("held", "digested")}
        bad = [r for r in digested if r.get("digest") not in by_id or
               by_id[r["digest"]]["target"] != r["target"] or by_id[r["digest"]]["channel"] != r["channel"]]
        report(f"{lab}: every digested item names its digest row (same channel and target)", not bad,
               "\n".join(json.dumps(r) for r in bad))


# ---- G: a Retry-After holds the webhook in every process ---------------------------

def cmd_count(log, path, status=None):
    """Prints how many requests reached path (with that status, if given)."""
    print(sum(1 for e in jl(log) if e["path"].split("?")[0] == path and not e.get("incomplete")
              and (status is None or str(e.get("status")) == status)))


def cmd_held(params):
    """{"label", "db", "http_log", "path", "channel", "arrivals": N}: the held
    webhook got exactly its N earlier requests, and its rows all wait (none
    sending or sent)."""
    a = json.loads(params)
    got = [e for e in jl(a["http_log"]) if e["path"].split("?")[0] == a["path"] and not e.get("incomplete")]
    rows = [r for r in outbox(a["db"]) if r["channel"] == a["channel"]]
    report(f"{a['label']}: nothing more reached {a['path']} during the Retry-After "
           f"({len(got)} requests, all before it)", len(got) == a["arrivals"],
           *[brief(e) for e in got])
    report(f"{a['label']}: every {a['channel']} row is pending, none sent or sending",
           rows and all(r["status"] == "pending" for r in rows), rows_brief(rows))


def cmd_after_hold(params):
    """{"db", "http_log", "path", "channel", "t429": unix s of the 429s, "hold": s, "since": unix s
    the run after the hold started, "rows": N}"""
    a = json.loads(params)
    got = [e for e in jl(a["http_log"]) if e["path"].split("?")[0] == a["path"] and not e.get("incomplete")]
    ok_ = [e for e in got if e["status"] == 200]
    early = [e for e in got if e["status"] != 429 and e["t"] < a["since"]]
    rows = [r for r in outbox(a["db"]) if r["channel"] == a["channel"]]
    print(f"# Retry-After: {len(got) - len(ok_)} requests answered 429 (Retry-After {a['hold']} s), "
          f"then {len(ok_)} sent by the run whose clock reads {a['hold'] + 1} s later")
    report("G: no request reached the webhook between its 429 and the end of the Retry-After, "
           "in any process", not early, *[brief(e) for e in early])
    report(f"G: after the hold every {a['channel']} row is sent, each once",
           len(rows) == a["rows"] and all(r["status"] == "sent" for r in rows) and len(ok_) == a["rows"],
           f"{len(ok_)} accepted requests", rows_brief(rows))


# ---- H: a slow mail server beside a healthy webhook --------------------------------

def overlap(spans):
    """The most spans [start, end) open at once."""
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    most = cur = 0
    for _, d in edges:
        cur += d
        most = max(most, cur)
    return most


def cmd_slow(params):
    """{"db", "http_log", "smtp_log", "start": unix s, "rows": N (per channel), "busy": address}"""
    a = json.loads(params)
    rows = outbox(a["db"])
    hooks = [e for e in jl(a["http_log"]) if not e.get("incomplete")]
    mails = [e for e in jl(a["smtp_log"]) if e["stage"] == "data"]
    n = a["rows"]
    t0 = a["start"]
    first_answer = min((e["t"] + e.get("delay_s", 0) for e in mails), default=None)
    last_hook = max((e["t"] for e in hooks), default=None)
    spans = [(e["t"], e["t"] + e.get("delay_s", 0)) for e in mails]
    busy = [(e["t"], e["t"] + e.get("delay_s", 0)) for e in mails if a["busy"] in e["rcpt_tos"]]
    done = max((x for _, x in spans), default=t0)
    fig = (f"last of {len(hooks)} webhook rows {last_hook - t0:.2f} s after tend deliver started; "
           f"the mail server answered its first message at {first_answer - t0:.2f} s; "
           f"{len(mails)} mails for {n} rows done at {done - t0:.1f} s (serial: {3 * n} s); "
           f"at most {overlap(spans)} mails at once, {overlap(busy)} to {a['busy']}"
           if hooks and mails else f"{len(hooks)} webhooks, {len(mails)} mails")
    print("# slow mail server: " + fig)
    report(f"H: every webhook row arrived while the mail server still held its first message ({fig})",
           len(hooks) == n and first_answer is not None and last_hook < first_answer,
           *[brief(e) for e in hooks[-3:]])
    by_key = {}
    for e in mails:
        by_key.setdefault(mail_key(e["data"]), []).append(e)
    mail_rows = {r["key"]: r for r in rows if r["channel"] == "mail"}
    over = {k: (len(v), mail_rows[k]["resends"] if k in mail_rows else None) for k, v in by_key.items()
            if k not in mail_rows or len(v) > 1 + mail_rows[k]["resends"]}
    report("H: no mail arrived more often than 1 + its row's resends (counted per Message-ID)",
           not over and len(by_key) == n, f"(copies, resends) per key: {over}", f"{len(by_key)} distinct of {n}")
    report("H: every row of both channels sent at the first attempt (no DATA out of step, no timeout)",
           len(rows) == 2 * n and all(r["status"] == "sent" and r["attempts"] == 1 and r["resends"] == 0
                                      for r in rows),
           rows_brief(r for r in rows if r["status"] != "sent" or r["attempts"] != 1 or r["resends"]))
    report(f"H: mail goes out in parallel (at least 4 at once, in less than half the serial time) "
           f"within the limits (8 per channel, 4 per address): "
           f"{overlap(spans)} at once, {overlap(busy)} to {a['busy']}",
           4 <= overlap(spans) <= 8 and 1 <= overlap(busy) <= 4 and done - t0 < 1.5 * n, fig)


def cmd_copies(params):
    """{"label", "db", "smtp_log", "rcpt": address, "copies": N, "attempts": N, "resends": N}"""
    a = json.loads(params)
    rows = outbox(a["db"])
    mails = [e for e in jl(a["smtp_log"]) if e["stage"] == "data" and a["rcpt"] in e["rcpt_tos"]]
    keys = {mail_key(e["data"]) for e in mails}
    row = next((r for r in rows if r["key"] in keys), None)
    report(f"{a['label']}: {a['rcpt']} got {a['copies']} copies of one message, its row sent with "
           f"attempts {a['attempts']} and resends {a['resends']} (copies <= 1 + resends)",
           len(mails) == a["copies"] and len(keys) == 1 and row is not None and row["status"] == "sent"
           and row["attempts"] == a["attempts"] and row["resends"] == a["resends"]
           and len(mails) <= 1 + row["resends"],
           f"{len(mails)} copies, keys {keys}", rows_brief(rows))
    others = [r for r in rows if r is not row]
    report(f"{a['label']}: the other messages on the same server are sent at the first attempt",
           others and all(r["status"] == "sent" and r["attempts"] == 1 for r in others), rows_brief(others))


# ---- I: Slack pacing ------------------------------------------------------------------

def cmd_pace(params):
    """{"http_log", "path", "arrivals": N, "interval": s}: consecutive arrivals at one webhook
    at least the interval apart, across runs, channels and a kill -9."""
    a = json.loads(params)
    ts = sorted(e["t"] for e in jl(a["http_log"]) if e["path"].split("?")[0] == a["path"]
                and not e.get("incomplete"))
    gaps = [round(b - x, 3) for x, b in zip(ts, ts[1:])]
    print(f"# Slack pacing: {len(ts)} arrivals, gaps {gaps}, shortest {min(gaps) if gaps else None} s")
    report(f"I: {len(ts)} Slack messages to one webhook never less than {a['interval']} s apart "
           f"(shortest gap {min(gaps) if gaps else None} s) across two channels, four runs and a kill -9",
           len(ts) >= a["arrivals"] and all(g >= a["interval"] - 0.002 for g in gaps),
           f"{len(ts)} arrivals (expected at least {a['arrivals']})", f"gaps: {gaps}")


# ---- J: urgent before bulk --------------------------------------------------------------

def cmd_urgent(params):
    """{"db", "http_log", "backlog": N}: the last row written (the detractor, after the
    backlog) is the first to arrive."""
    a = json.loads(params)
    rows = outbox(a["db"])
    got = sorted((e for e in jl(a["http_log"]) if not e.get("incomplete")), key=lambda e: e["t"])
    urgent = rows[-1] if rows else None
    order = []
    for e in got:
        try:
            texts = context_texts(json.loads(e["body"]))
        except ValueError:
            texts = []
        order.append(next((r["id"] for r in rows if any(has_key(t, r["key"]) for t in texts)), None))
    pos = order.index(urgent["id"]) + 1 if urgent and urgent["id"] in order else None
    print(f"# urgent before bulk: the detractor's message was number {pos} of {len(order)} sent "
          f"with {a['backlog']} low rows queued before it")
    report(f"J: a detractor queued behind {a['backlog']} low-priority rows goes out first",
           len(rows) == a["backlog"] + 1 and pos == 1, f"arrival order (row ids): {order[:10]}",
           rows_brief(rows[-2:]))


# ---- K: no copy behind tend's back ------------------------------------------------

def cmd_nocopy(params):
    """{"db", "http_log", "rows": N} (one Slack channel): every request that arrived whole,
    answered or not, counts; none may arrive more often than 1 + its row's resends."""
    a = json.loads(params)
    rows = outbox(a["db"])
    by_key, stray = arrivals(rows, {"slack": "slack"}, a["http_log"])
    copies = {r["key"]: (len(by_key[r["key"]]), r["resends"]) for r in rows}
    print(f"# K: (arrivals, resends) per row: {list(copies.values())}")
    report("K: a request dropped on a connection is retried by tend, counted in resends, and "
           "never re-sent behind its back (arrivals <= 1 + resends)",
           len(rows) == a["rows"] and all(r["status"] == "sent" for r in rows) and not stray
           and all(n <= 1 + res for n, res in copies.values())
           and any(res == 1 for _, res in copies.values()),
           f"(arrivals, resends) per key: {copies}", rows_brief(rows))


def main():
    cmd, *args = sys.argv[1:]
    globals()["cmd_" + cmd](*args)


main()
PY

RULES_JSON="{$RULES_OFF}"

# ---- max_age_days ------------------------------------------------------------------
# An old day with the default max_age_days (2) notifies no one: no outbox rows.
cat >"$T/age.yaml" <<EOF
{"channels": {"audit": {"type": "log", "path": "$T/age.log"}}, $RULES_OFF}
EOF
if setup age '[{"id": "old", "name": "Old Co", "owner": "old@age.test", "kind": "no_login"}]' "$T/age.yaml"; then
    n=$(timeout 30 "$TEND" outbox --db "$(db age)" --format json 2>/dev/null | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d.get("rows", d) if isinstance(d, dict) else d; print(len(d))' 2>&1)
    expect_eq "max_age_days: evaluating a day long past (default max_age_days 2) writes no outbox rows" 0 "$n"
fi

# ---- A: well-formed, once ----------------------------------------------------------
start_receiver http a_http || exit 1
A_HTTP=$RPORT
start_receiver smtp a_smtp || exit 1
A_SMTP=$RPORT
cat >"$T/a.yaml" <<EOF
{"delivery": {"base_url": "http://tend.test", "max_age_days": 100000, "timeout_seconds": 10,
              "retry": {"base_seconds": 1, "max_seconds": 2}},
 "channels": {
   "slack": {"type": "slack", "url": "http://127.0.0.1:$A_HTTP/slack/T000/B000/XXXX"},
   "mail": {"type": "email", "url": "smtp://127.0.0.1:$A_SMTP?tls=off", "from": "tend <tend@tend.test>"},
   "hook": {"type": "webhook", "url": "http://127.0.0.1:$A_HTTP/hook/crm", "secret_env": "TEND_TEST_HOOK_SECRET"},
   "audit": {"type": "log", "path": "$T/a_audit.log"}},
 $RULES_OFF}
EOF
HOSTILE=$($PY "$T/dc.py" hostile)
A_SPEC='[{"id": "evil", "name": '"$HOSTILE"', "owner": "owner-a@a.test", "slack": "U024BE7LH", "kind": "no_login"},
         {"id": "plain", "name": "Plain Co", "owner": "owner-b@a.test", "kind": "no_login",
          "mrr": 2000, "renewal_date": "2027-02-01"},
         {"id": "ünï", "name": "Zoë & Söhne <GmbH>", "owner": "owner-c@a.test", "kind": "no_login"}]'
if setup a "$A_SPEC" "$T/a.yaml"; then
    deliver "$(db a)" "$T/a.yaml" --wait 10
    expect_eq "A: tend deliver exits 0 when everything is sent" 0 "$DRC"
    expect_contains "A: and says what it did" "sent 12," "$DOUT"
    dc formed '{"db": "'"$(db a)"'", "http_log": "'"$T/a_http.jsonl"'", "smtp_log": "'"$T/a_smtp.jsonl"'",
        "kinds": {"slack": "slack", "mail": "email", "hook": "webhook", "audit": "log"}, "accounts": 3,
        "hostile_owner": "owner-a@a.test", "from": "tend@tend.test", "audit": "'"$T/a_audit.log"'",
        "account": {"owner-b@a.test": {"mrr": 2000, "renewal_date": "2027-02-01"}}}'
    before=$(cat "$T/a_http.jsonl" "$T/a_smtp.jsonl" | wc -l)
    deliver "$(db a)" "$T/a.yaml" --wait 2
    after=$(cat "$T/a_http.jsonl" "$T/a_smtp.jsonl" | wc -l)
    expect_eq "A: a second tend deliver sends nothing again" "$before" "$after"
fi
stop_receiver a_http
stop_receiver a_smtp

# ---- B: failures ---------------------------------------------------------------------
start_receiver http b_http || exit 1
B_HTTP=$RPORT
start_receiver smtp b_smtp || exit 1
B_SMTP=$RPORT
set_script b_http '{"/hook/500": [{"status": 500}], "/hook/429": [{"status": 429, "headers": {"Retry-After": "3"}}],
                    "/hook/400": [{"status": 400, "body": "invalid_payload"}], "/hook/drop": [{"drop": true}]}'
set_script b_smtp '{"rcpt": {"busy@b.test": ["450 4.2.0 mailbox busy"]},
                    "data": {"later@b.test": ["451 4.3.0 try later"], "reject@b.test": ["550 5.7.1 rejected"]}}'
MAILB="smtp://127.0.0.1:$B_SMTP?tls=off"
cat >"$T/b.yaml" <<EOF
{"delivery": {"base_url": "http://tend.test", "max_age_days": 100000, "timeout_seconds": 5,
              "retry": {"max_attempts": 5, "base_seconds": 1, "max_seconds": 2}},
 "channels": {
   "hook500": {"type": "webhook", "url": "http://127.0.0.1:$B_HTTP/hook/500", "secret": "k"},
   "hook429": {"type": "webhook", "url": "http://127.0.0.1:$B_HTTP/hook/429", "secret": "k"},
   "hook400": {"type": "webhook", "url": "http://127.0.0.1:$B_HTTP/hook/400", "secret": "k"},
   "hookdrop": {"type": "webhook", "url": "http://127.0.0.1:$B_HTTP/hook/drop", "secret": "k"},
   "mail450": {"type": "email", "url": "$MAILB", "from": "tend@tend.test", "to": "busy@b.test"},
   "mail451": {"type": "email", "url": "$MAILB", "from": "tend@tend.test", "to": "later@b.test"},
   "mail550": {"type": "email", "url": "$MAILB", "from": "tend@tend.test", "to": "reject@b.test"}},
 $RULES_OFF}
EOF
B_PARAMS='"db": "'"$(db b)"'", "http_log": "'"$T/b_http.jsonl"'", "smtp_log": "'"$T/b_smtp.jsonl"'"'
if setup b '[{"id": "bee", "name": "Bee Co", "owner": "owner@b.test", "kind": "no_login"}]' "$T/b.yaml"; then
    # --wait covers every retry here (backoff <= 2 s, Retry-After 3 s) however
    # slow the machine: the run ends as soon as nothing is left to retry.
    deliver "$(db b)" "$T/b.yaml" --wait 60
    expect_eq "B: tend deliver exits 1 when a row went dead" 1 "$DRC"
    expect_contains "B: and counts them" "dead 2" "$DOUT"
    dc expect '{"label": "B", '"$B_PARAMS"', "expect": {
      "hook500": {"why": "500 then 200: retried, delivered exactly once, sent with attempts 2",
                  "status": "sent", "attempts": 2, "http": "/hook/500", "codes": [500, 200]},
      "hook429": {"why": "429 with Retry-After: 3: the next try >= 3 s later, then sent",
                  "status": "sent", "attempts": 2, "http": "/hook/429", "codes": [429, 200], "gap": 3.0},
      "hook400": {"why": "400 invalid_payload: dead after one attempt", "status": "dead", "attempts": 1,
                  "http": "/hook/400", "codes": [400], "error": "400"},
      "hookdrop": {"why": "the connection closed after the whole request, no answer: retried, and counted in resends (it may have arrived)",
                   "status": "sent", "attempts": 2, "resends": 1, "http": "/hook/drop", "codes": ["dropped", 200]},
      "mail450": {"why": "SMTP 450 at RCPT, then delivered", "status": "sent", "attempts": 2,
                  "rcpt": "busy@b.test", "rcpt_codes": [450], "data_codes": [250]},
      "mail451": {"why": "SMTP 451 at DATA, then delivered", "status": "sent", "attempts": 2,
                  "rcpt": "later@b.test", "data_codes": [451, 250]},
      "mail550": {"why": "SMTP 550: dead after one attempt", "status": "dead", "attempts": 1,
                  "rcpt": "reject@b.test", "data_codes": [550], "error": "550"}}}'
    # A day later by the dispatcher's clock: anything still pending would be
    # due (and sent); nothing may be.
    DOUT=$(TEND_TEST_CLOCK_OFFSET_S=86400 timeout 30 "$TEND" deliver --db "$(db b)" --config "$T/b.yaml" 2>&1)
    DRC=$?
    expect_eq "B: a later tend deliver with nothing due exits 0" 0 "$DRC"
    dc expect '{"label": "B, after waiting and running deliver again", '"$B_PARAMS"', "expect": {
      "hook400": {"why": "the 400 is not retried", "status": "dead", "attempts": 1, "http": "/hook/400", "codes": [400]},
      "mail550": {"why": "the 550 is not retried", "status": "dead", "attempts": 1, "rcpt": "reject@b.test", "data_codes": [550]},
      "hook500": {"why": "a sent row is not sent again", "status": "sent", "http": "/hook/500", "codes": [500, 200]},
      "mail450": {"why": "a sent email is not sent again", "status": "sent", "rcpt": "busy@b.test",
                  "rcpt_codes": [450], "data_codes": [250]}}}'
    # The receivers fixed (a new script: no more failures), retry --dead.
    set_script b_http '{}'
    set_script b_smtp '{}'
    out=$(timeout 30 "$TEND" outbox retry --dead --db "$(db b)" 2>&1)
    expect_eq "B: tend outbox retry --dead exits 0" 0 "$?"
    dc expect '{"label": "B, after retry --dead", '"$B_PARAMS"', "expect": {
      "hook400": {"why": "back to pending, attempts reset", "status": "pending", "attempts": 0},
      "mail550": {"why": "back to pending, attempts reset", "status": "pending", "attempts": 0},
      "hook500": {"why": "a sent row stays sent", "status": "sent", "attempts": 2}}}'
    deliver "$(db b)" "$T/b.yaml" --wait 5
    expect_eq "B: tend deliver after retry --dead exits 0" 0 "$DRC"
    dc expect '{"label": "B, retried and delivered", '"$B_PARAMS"', "expect": {
      "hook400": {"why": "delivered once the receiver is fixed", "status": "sent", "attempts": 1,
                  "http": "/hook/400", "codes": [400, 200]},
      "mail550": {"why": "delivered once the server is fixed", "status": "sent", "attempts": 1,
                  "rcpt": "reject@b.test", "data_codes": [550, 250]},
      "hook429": {"why": "untouched", "status": "sent", "http": "/hook/429", "codes": [429, 200]}}}'
    sent_id=$(timeout 30 "$TEND" outbox --db "$(db b)" --format json | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d.get("rows", d) if isinstance(d, dict) else d; print([r["id"] for r in d if r["channel"] == "hook500"][0])')
    timeout 30 "$TEND" outbox retry "$sent_id" --db "$(db b)" >"$T/out" 2>&1
    rc=$?
    check "B: tend outbox retry of a sent row is refused" test "$rc" -ne 0
fi
stop_receiver b_http

# Slack down (connection refused) while email works, then back on its port.
# A third channel, a webhook answering after 2.5 s, keeps the first run busy
# longer than the Slack row's first backoff (1 to 2 s): a run without --wait
# must still not retry it (a loaded machine made CI fail this way: "attempts
# is 2, expected 1").
start_receiver http down_http || exit 1
DOWN_PORT=$RPORT
stop_receiver down_http
start_receiver http slow_http || exit 1
set_script slow_http '{"default_delay_ms": 2500}'
cat >"$T/down.yaml" <<EOF
{"delivery": {"max_age_days": 100000, "timeout_seconds": 5, "retry": {"base_seconds": 2, "max_seconds": 4}},
 "channels": {
   "slack": {"type": "slack", "url": "http://127.0.0.1:$DOWN_PORT/slack/down"},
   "mail": {"type": "email", "url": "$MAILB", "from": "tend@tend.test"},
   "slow": {"type": "webhook", "url": "http://127.0.0.1:$RPORT/hook/slow"}},
 $RULES_OFF}
EOF
DOWN_PARAMS='"db": "'"$(db down)"'", "http_log": "'"$T/down_http.jsonl"'", "smtp_log": "'"$T/b_smtp.jsonl"'"'
if setup down '[{"id": "dn", "name": "Down Co", "owner": "csm@down.test", "kind": "no_login"}]' "$T/down.yaml"; then
    start=$($PY -c 'import time; print(time.time())')
    deliver "$(db down)" "$T/down.yaml"
    expect_eq "B, Slack down: tend deliver exits 0 (a transient failure is no dead row)" 0 "$DRC"
    expect_contains "B, Slack down: it says one message is retrying after one failed attempt" \
        "retrying 1 message (1 failed attempt)" "$DOUT"
    dc expect '{"label": "B, Slack down", '"$DOWN_PARAMS"', "expect": {
      "mail": {"why": "the email is sent", "status": "sent", "attempts": 1, "rcpt": "csm@down.test", "data_codes": [250]},
      "slow": {"why": "the slow webhook is sent", "status": "sent", "attempts": 1},
      "slack": {"why": "the Slack row is pending with a later next attempt, not retried within the run",
                "status": "pending", "attempts": 1, "next_after": '"$start"'}}}'
    start_receiver http down_http "$DOWN_PORT" || exit 1
    # The retry is due within base_seconds (2) of the failure: --wait covers it.
    deliver "$(db down)" "$T/down.yaml" --wait 30
    expect_eq "B, Slack back: tend deliver exits 0" 0 "$DRC"
    dc expect '{"label": "B, Slack back", '"$DOWN_PARAMS"', "expect": {
      "slack": {"why": "a later tend deliver sends it, once", "status": "sent", "attempts": 2, "http": "/slack/down", "codes": [200]},
      "mail": {"why": "the email is not sent again", "status": "sent", "rcpt": "csm@down.test", "data_codes": [250]}}}'
    stop_receiver down_http
fi
stop_receiver slow_http

# The default email channel requires STARTTLS: against a server without it,
# the row is dead with a clear error and nothing is sent in clear.
cat >"$T/tls.yaml" <<EOF
{"delivery": {"max_age_days": 100000, "timeout_seconds": 5},
 "channels": {"mail": {"type": "email", "url": "smtp://127.0.0.1:$B_SMTP", "from": "tend@tend.test", "to": "tls@b.test"}},
 $RULES_OFF}
EOF
if setup tls '[{"id": "tl", "name": "TLS Co", "owner": "csm@tls.test", "kind": "no_login"}]' "$T/tls.yaml"; then
    deliver "$(db tls)" "$T/tls.yaml" --wait 3
    expect_eq "B, STARTTLS: tend deliver exits 1 (dead)" 1 "$DRC"
    dc expect '{"label": "B, STARTTLS required by default", "db": "'"$(db tls)"'", "smtp_log": "'"$T/b_smtp.jsonl"'", "expect": {
      "mail": {"why": "dead at once with a STARTTLS error, nothing sent in clear", "status": "dead", "attempts": 1,
               "error": "STARTTLS", "rcpt": "tls@b.test", "data_codes": []}}}'
fi
stop_receiver b_smtp

# ---- C: kill -9, many times --------------------------------------------------------
start_receiver http c_http || exit 1
C_HTTP=$RPORT
start_receiver smtp c_smtp || exit 1
C_SMTP=$RPORT
set_script c_http '{"default_delay_ms": [30, 80]}'
# The first message to csm0 is answered after 60 s: the first run is killed
# once it has arrived, a crash in exactly the window where a duplicate is
# allowed (the answer waits far longer than the kill can take).
set_script c_smtp '{"default_delay_ms": [30, 80], "data": {"csm0@c.test": [{"status": "250 OK", "delay_ms": 60000}]}}'
cat >"$T/c.yaml" <<EOF
{"delivery": {"max_age_days": 100000, "timeout_seconds": 5, "retry": {"base_seconds": 1, "max_seconds": 2},
              "slack_interval_seconds": 0.2},
 "channels": {
   "slack": {"type": "slack", "url": "http://127.0.0.1:$C_HTTP/slack/crash"},
   "mail": {"type": "email", "url": "smtp://127.0.0.1:$C_SMTP?tls=off", "from": "tend@tend.test"},
   "hook": {"type": "webhook", "url": "http://127.0.0.1:$C_HTTP/hook/crash", "secret": "k"}},
 $RULES_OFF}
EOF
C_SPEC=$($PY -c 'import json; print(json.dumps([{"id": "c%02d" % i, "name": "Crash %d" % i, "owner": "csm%d@c.test" % (i % 4),
    "kind": "no_login"} for i in range(20)]))')
C_ROWS=60 # 20 events x (slack, mail, hook)
if setup c "$C_SPEC" "$T/c.yaml"; then
    "$TEND" deliver --db "$(db c)" --config "$T/c.yaml" --wait 5 >>"$T/c_runs.log" 2>&1 &
    pid=$!
    BG_PID=$pid
    for _ in $(seq 600); do
        grep -q '"rcpt_tos": \["csm0@c.test"\]' "$T/c_smtp.jsonl" 2>/dev/null && break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    BG_PID=
    set_script c_smtp '{"default_delay_ms": [30, 80]}'
    SEED=${DELIVERY_SEED:-$(($(date +%s) % 10000))}
    RANDOM=$SEED
    echo "# crash test: DELIVERY_SEED=$SEED"
    # Each run is killed right after its K-th new arrival at the receivers (K
    # random, 1 to 4): in the window between a message's arrival and the
    # commit of its answer, whatever the machine's speed. A run that ends by
    # itself (nothing left to send) ends the loop.
    arrivals() { cat "$T/c_http.jsonl" "$T/c_smtp.jsonl" 2>/dev/null | wc -l; }
    RUNS=20
    killed=0
    for i in $(seq "$RUNS"); do
        want=$(($(arrivals) + 1 + RANDOM % 4))
        # Not under timeout(1): kill -9 must hit tend itself.
        "$TEND" deliver --db "$(db c)" --config "$T/c.yaml" --wait 5 >>"$T/c_runs.log" 2>&1 &
        pid=$!
        BG_PID=$pid
        hit=0
        for _ in $(seq 3000); do
            [ "$(arrivals)" -ge "$want" ] && { hit=1; break; }
            alive "$pid" || break
            sleep 0.02
        done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        BG_PID=
        [ "$hit" -eq 1 ] || break
        killed=$((killed + 1))
    done
    echo "# crash test: $killed runs killed by kill -9 right after an arrival"
    after_kill deliver "$(db c)" "$T/c.yaml" --wait 10
    echo "# final run: $DOUT"
    expect_eq "C: the final uninterrupted tend deliver exits 0" 0 "$DRC"
    dc crash '{"db": "'"$(db c)"'", "http_log": "'"$T/c_http.jsonl"'", "smtp_log": "'"$T/c_smtp.jsonl"'",
        "kinds": {"slack": "slack", "mail": "email", "hook": "webhook"}, "rows": '"$C_ROWS"'}'
fi
stop_receiver c_http
stop_receiver c_smtp

# ---- D: the daily digest -----------------------------------------------------------
start_receiver smtp d_smtp || exit 1
D_SMTP=$RPORT
HOUR=$(( ($(date -u +%-H) + 12) % 24 )) # the digest hour is 12 hours away
cat >"$T/d.yaml" <<EOF
{"delivery": {"max_age_days": 100000, "timeout_seconds": 10, "digest": {"hour": $HOUR, "timezone": "UTC"},
              "retry": {"base_seconds": 1, "max_seconds": 2}},
 "channels": {"mail": {"type": "email", "url": "smtp://127.0.0.1:$D_SMTP?tls=off", "from": "tend@tend.test"}},
 "routes": [{"match": {"priority": "low"}, "to": ["mail"], "digest": true},
            {"match": {"priority": ["high", "medium"]}, "to": ["mail"]}],
 $RULES_OFF}
EOF
D_SPEC='[{"id": "d1", "name": "Alder Ltd", "owner": "o1@d.test", "kind": "card"},
         {"id": "d2", "name": "Birch Ltd", "owner": "o1@d.test", "kind": "card"},
         {"id": "d3", "name": "Cedar Ltd", "owner": "o1@d.test", "kind": "card"},
         {"id": "d4", "name": "Dogwood Ltd", "owner": "o2@d.test", "kind": "card"},
         {"id": "d5", "name": "Elm Ltd", "owner": "o2@d.test", "kind": "card"},
         {"id": "d6", "name": "Fir Ltd", "owner": "o1@d.test", "kind": "no_login"}]'
D_PARAMS='"db": "'"$(db d)"'", "smtp_log": "'"$T/d_smtp.jsonl"'", "rows0": "'"$T/d_rows0.json"'"'
mails() { $PY -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["stage"] == "data"))' "$T/d_smtp.jsonl" 2>/dev/null || echo 0; }
if setup d "$D_SPEC" "$T/d.yaml"; then
    timeout 30 "$TEND" outbox --db "$(db d)" --format json | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d.get("rows", d) if isinstance(d, dict) else d; json.dump(d, open(sys.argv[1], "w"))' "$T/d_rows0.json"
    n=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted((r["status"], r["owner"]) for r in d))' "$T/d_rows0.json")
    expect_eq "D: the low events are held, the medium one pending" \
        "[('held', 'o1@d.test'), ('held', 'o1@d.test'), ('held', 'o1@d.test'), ('held', 'o2@d.test'), ('held', 'o2@d.test'), ('pending', 'o1@d.test')]" "$n"
    deliver "$(db d)" "$T/d.yaml" --wait 3
    expect_eq "D: tend deliver before the digest hour exits 0" 0 "$DRC"
    dc digest '{"label": "D, before the hour", '"$D_PARAMS"', "held": 5, "new_mails": 1, "mails_before": 0, "no_digest": true}'
    # --digest-now, killed while the digests are being sent, then again.
    set_script d_smtp '{"default_delay_ms": 60000}' # answered long after the kill
    m0=$(mails)
    "$TEND" deliver --db "$(db d)" --config "$T/d.yaml" --digest-now >"$T/d_kill.log" 2>&1 &
    pid=$!
    BG_PID=$pid
    for _ in $(seq 600); do [ "$(mails)" -gt "$m0" ] && break; sleep 0.1; done
    # While it runs (a digest in flight), a second dispatcher says who holds
    # the lock and exits; on PostgreSQL, with no lock, it shares the outbox:
    # it leaves the digests under way alone (no second copy, checked below)
    # and ends.
    out=$(timeout 10 "$TEND" deliver --db "$(db d)" --config "$T/d.yaml" --digest-now 2>&1)
    rc=$?
    if kill -0 "$pid" 2>/dev/null && [ "$BACKEND" = pg ]; then
        expect_eq "D: a second tend deliver while one runs ends by itself, exit 0 ($out)" 0 "$rc"
    elif kill -0 "$pid" 2>/dev/null; then
        check "D: a second tend deliver while one runs exits at once" test "$rc" -ne 124
        expect_contains "D: ... and says who holds the lock (pid $pid)" "$pid" "$out"
    else
        not_ok "D: the first tend deliver --digest-now was still running for the lock check" "$(cat "$T/d_kill.log")"
    fi
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    BG_PID=
    set_script d_smtp '{}'
    after_kill deliver "$(db d)" "$T/d.yaml" --digest-now --wait 5
    expect_eq "D: tend deliver --digest-now after a kill -9 exits 0" 0 "$DRC"
    dc digest '{"label": "D, --digest-now (once killed, then run again)", '"$D_PARAMS"', "held": 0, "mails_before": 1,
        "names": {"o1@d.test": ["Alder Ltd", "Birch Ltd", "Cedar Ltd"], "o2@d.test": ["Dogwood Ltd", "Elm Ltd"]},
        "absent": {"o1@d.test": ["Dogwood Ltd", "Elm Ltd", "Fir Ltd"], "o2@d.test": ["Alder Ltd", "Birch Ltd", "Cedar Ltd", "Fir Ltd"]}}'
    m1=$(mails)
    r1=$(timeout 30 "$TEND" outbox --db "$(db d)" --format json | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d.get("rows", d) if isinstance(d, dict) else d; print(len(d))')
    deliver "$(db d)" "$T/d.yaml" --digest-now --wait 2
    deliver "$(db d)" "$T/d.yaml" --digest-now --wait 2
    r2=$(timeout 30 "$TEND" outbox --db "$(db d)" --format json | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d.get("rows", d) if isinstance(d, dict) else d; print(len(d))')
    expect_eq "D: --digest-now twice more sends no second digest" "$m1" "$(mails)"
    expect_eq "D: ... and writes no digest row" "$r1" "$r2"
    # A new low event the next day: the next digest has it and nothing else.
    $PY "$T/dc.py" events "$T/d2.jsonl.in" "$D" '[{"id": "d7", "name": "Ginkgo Ltd", "owner": "o1@d.test", "kind": "card"}]'
    timeout 60 "$TEND" import --db "$(db d)" "$T/d2.jsonl.in" >/dev/null 2>&1
    out=$(timeout 60 "$TEND" eval --db "$(db d)" --config "$T/d.yaml" --at "$D1" 2>&1) || not_ok "D: eval --at $D1" "$out"
    timeout 30 "$TEND" outbox --db "$(db d)" --format json | $PY -c 'import json,sys; d=json.load(sys.stdin); d=d.get("rows", d) if isinstance(d, dict) else d; json.dump(d, open(sys.argv[1], "w"))' "$T/d_rows0.json"
    deliver "$(db d)" "$T/d.yaml" --digest-now --wait 5
    dc digest '{"label": "D, the next day", '"$D_PARAMS"', "held": 0, "new_mails": 1, "mails_before": '"$m1"',
        "names": {"o1@d.test": ["Ginkgo Ltd"]},
        "absent": {"o1@d.test": ["Alder Ltd", "Birch Ltd", "Cedar Ltd", "Dogwood Ltd", "Elm Ltd", "Fir Ltd"]}}'
fi
stop_receiver d_smtp

# ---- E: tend serve sends continuously and stops cleanly ---------------------------
# tend serve --config runs the dispatcher: a row committed after it started is
# sent without a tend deliver, and SIGTERM during a transfer waits for its
# answer and records it (sent, not left `sending` to be re-sent). The answer
# is held until the test releases it, after tend serve said it got SIGTERM.
start_receiver http e_http || exit 1
E_HTTP=$RPORT
set_script e_http '{"/slack/e": [{"until_file": "'"$T/e.release"'"}]}'
cat >"$T/e.yaml" <<EOF2
{"delivery": {"max_age_days": 100000, "timeout_seconds": 60},
 "channels": {"slack": {"type": "slack", "url": "http://127.0.0.1:$E_HTTP/slack/e"}},
 $RULES_OFF}
EOF2
$PY "$T/dc.py" events "$T/e.jsonl.in" "$D" '[{"id": "e1", "name": "Eucalyptus", "owner": "o@e.test", "kind": "no_login"},
                                            {"id": "e2", "name": "Fig", "owner": "o@e.test", "kind": "no_login"}]'
timeout 60 "$TEND" import --db "$(db e)" "$T/e.jsonl.in" >/dev/null 2>&1
E_PORT=$(free_port)
# --no-eval: this evaluation is the test's own (tend eval --at, in the past).
if start_serve "$(db e)" "$E_PORT" --config "$T/e.yaml" --no-eval; then
    out=$(timeout 60 "$TEND" eval --db "$(db e)" --config "$T/e.yaml" --at "$D" 2>&1) || not_ok "E: eval --at $D" "$out"
    # The receiver logs a request when it answers (4 s later): watch the
    # outbox for the attempt under way instead.
    sending=0
    for _ in $(seq 600); do
        n=$("$TEND" outbox --db "$(db e)" --status sending --format json 2>/dev/null |
            $PY -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)
        [ "${n:-0}" -ge 1 ] && sending=1 && break
        sleep 0.1
    done
    expect_eq "E: tend serve started sending a row committed after it started" 1 "$sending"
    kill -TERM "$SERVE_PID"
    for _ in $(seq 600); do
        grep -q 'SIGTERM received' "$T/serve.log" && break
        sleep 0.1
    done
    touch "$T/e.release" # the answer comes now, while tend serve is stopping
    stopped=0
    for _ in $(seq 600); do
        kill -0 "$SERVE_PID" 2>/dev/null || { stopped=1; break; }
        sleep 0.1
    done
    expect_eq "E: SIGTERM stops tend serve with a transfer in flight (within 60 s)" 1 "$stopped"
    wait "$SERVE_PID" 2>/dev/null
    st=$(timeout 30 "$TEND" outbox --db "$(db e)" --format json 2>/dev/null |
        $PY -c 'import json,sys; print(" ".join(sorted(r["status"] + "/" + str(r["resends"]) for r in json.load(sys.stdin))))')
    expect_eq "E: the transfer in flight at SIGTERM is recorded sent; the other waits, nothing re-sent" "pending/0 sent/0" "$st"
    got=$($PY -c 'import sys; print(sum(1 for _ in open(sys.argv[1])))' "$T/e_http.jsonl")
    expect_eq "E: no attempt started after SIGTERM" 1 "$got"
else
    not_ok "E: tend serve starts on e" "$(tail -c +$((SERVE_LOG_AT + 1)) "$T/serve.log" | tail -5)"
fi
stop_receiver e_http

# An email waiting for the server's answer when SIGTERM comes: tend serve
# gives it timeout_seconds (2), then stops it; the attempt is ambiguous (the
# server has the message): pending, counted in resends, not lost. The server
# answers 120 s after the message, far beyond the stop allowed (timeout_seconds
# + a 30 s margin for a loaded machine): tend serve must not wait for the
# server (it once did: the abandoned connection's QUIT waited for the answer,
# 60 s with a 60 s delay).
start_receiver smtp e2_smtp || exit 1
set_script e2_smtp '{"default_delay_ms": 120000}'
cat >"$T/e2.yaml" <<EOF2
{"delivery": {"max_age_days": 100000, "timeout_seconds": 2},
 "channels": {"mail": {"type": "email", "url": "smtp://127.0.0.1:$RPORT?tls=off", "from": "tend@tend.test"}},
 $RULES_OFF}
EOF2
$PY "$T/dc.py" events "$T/e2.jsonl.in" "$D" '[{"id": "e3", "name": "Elder", "owner": "o@e2.test", "kind": "no_login"}]'
timeout 60 "$TEND" import --db "$(db e2)" "$T/e2.jsonl.in" >/dev/null 2>&1
timeout 60 "$TEND" eval --db "$(db e2)" --config "$T/e2.yaml" --at "$D" >/dev/null 2>&1
E2_PORT=$(free_port)
if start_serve "$(db e2)" "$E2_PORT" --config "$T/e2.yaml" --no-eval; then
    for _ in $(seq 600); do
        grep -q '"stage": "data"' "$T/e2_smtp.jsonl" 2>/dev/null && break
        sleep 0.1
    done
    kill -TERM "$SERVE_PID"
    e2_t0=$(date +%s.%N)
    e2_end=$(($(date +%s) + 2 + 30))
    stopped=0
    while [ "$(date +%s)" -le "$e2_end" ]; do
        kill -0 "$SERVE_PID" 2>/dev/null || { stopped=1; break; }
        sleep 0.1
    done
    e2_took=$($PY -c 'import sys,time; print("%.1f" % (time.time() - float(sys.argv[1])))' "$e2_t0")
    expect_eq "E: SIGTERM with an email waiting for its answer (held 120 s) stops tend serve within timeout_seconds + 30 s (took ${e2_took} s)" 1 "$stopped"
    [ "$stopped" = 1 ] || kill -KILL "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
    st=$(timeout 30 "$TEND" outbox --db "$(db e2)" --format json 2>/dev/null |
        $PY -c 'import json,sys; print(" ".join(r["status"] + "/" + str(r["resends"]) + "/" + (r["last_error"] or "")[:40].strip() for r in json.load(sys.stdin)))')
    expect_eq "E: ... and records it as ambiguous: pending, counted in resends" \
        "pending/1/stopped while waiting for the answer to" "$st"
else
    not_ok "E: tend serve starts on e2" "$(tail -c +$((SERVE_LOG_AT + 1)) "$T/serve.log" | tail -5)"
fi
stop_receiver e2_smtp

# ---- F: answers that come back together -------------------------------------------
# A target's transfers (4 at once) answered in the same instant: the one-shot
# run must go on with the rest, not take "nothing started" for "done".
start_receiver http f_http || exit 1
F_HTTP=$RPORT
set_script f_http '{"batch": 4}'
cat >"$T/f.yaml" <<EOF2
{"delivery": {"max_age_days": 100000, "timeout_seconds": 10},
 "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:$F_HTTP/hook/f"}},
 $RULES_OFF}
EOF2
F_SPEC=$($PY -c 'import json; print(json.dumps([{"id": "f%02d" % i, "name": "F %d" % i, "owner": "o@f.test",
    "kind": "no_login"} for i in range(12)]))')
if setup f "$F_SPEC" "$T/f.yaml"; then
    deliver "$(db f)" "$T/f.yaml"
    expect_contains "F: tend deliver (no --wait) sends all 12 rows of one target answered in batches" "sent 12," "$DOUT"
    got=$($PY -c 'import sys; print(sum(1 for _ in open(sys.argv[1])))' "$T/f_http.jsonl")
    expect_eq "F: ... each once" 12 "$got"
fi
stop_receiver f_http

# ---- G: a Retry-After holds the webhook in every process -------------------------
# A webhook answers 429 with Retry-After: 600 to its first four requests (one
# target: four at once). The hold is kept in the store: the run that got the
# 429s is killed -9, then a plain tend deliver (cron mode), tend serve, and
# tend serve again after a kill -9 send nothing to it; a run whose clock reads
# 601 s later sends every row. A canary webhook (its first answer held, then
# 500 for ever, retried every second) proves each dispatcher was making passes.
start_receiver http g_http || exit 1
G_HTTP=$RPORT
set_script g_http '{"/hook/ra": [{"status": 429, "headers": {"Retry-After": "600"}},
                                 {"status": 429, "headers": {"Retry-After": "600"}},
                                 {"status": 429, "headers": {"Retry-After": "600"}},
                                 {"status": 429, "headers": {"Retry-After": "600"}}],
                    "/hook/canary": [{"delay_ms": 60000}, {"status": 500, "repeat": true}]}'
cat >"$T/g.yaml" <<EOF2
{"delivery": {"max_age_days": 100000, "timeout_seconds": 120,
              "retry": {"max_attempts": 100, "base_seconds": 1, "max_seconds": 1}},
 "channels": {"ra": {"type": "webhook", "url": "http://127.0.0.1:$G_HTTP/hook/ra"},
              "canary": {"type": "webhook", "url": "http://127.0.0.1:$G_HTTP/hook/canary"}},
 $RULES_OFF}
EOF2
G_SPEC=$($PY -c 'import json; print(json.dumps([{"id": "g%d" % i, "name": "G %d" % i, "owner": "o@g.test",
    "kind": "no_login"} for i in range(6)]))')
G_PARAMS='"db": "'"$(db g)"'", "http_log": "'"$T/g_http.jsonl"'", "path": "/hook/ra", "channel": "ra"'
ra429() { timeout 30 "$TEND" outbox --db "$(db g)" --channel ra --format json 2>/dev/null |
    $PY -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if "429" in (r["last_error"] or "") and r["status"] == "pending"))' 2>/dev/null || echo 0; }
canaries() { $PY "$T/dc.py" count "$T/g_http.jsonl" /hook/canary; }
# wait_canaries N: until N more canary requests arrived (at most 60 s).
wait_canaries() {
    local want=$(($(canaries) + $1))
    for _ in $(seq 600); do
        [ "$(canaries)" -ge "$want" ] && return 0
        sleep 0.1
    done
    return 1
}
if setup g "$G_SPEC" "$T/g.yaml"; then
    "$TEND" deliver --db "$(db g)" --config "$T/g.yaml" --wait 5 >"$T/g_run1.log" 2>&1 &
    pid=$!
    BG_PID=$pid
    for _ in $(seq 600); do
        [ "$(ra429)" -ge 4 ] && break
        sleep 0.1
    done
    expect_eq "G: the first run got four 429s and committed them (then it is killed -9)" 4 "$(ra429)"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    BG_PID=
    deliver "$(db g)" "$T/g.yaml"
    echo "# G, tend deliver after the kill: $DOUT"
    dc held '{"label": "G, a tend deliver after kill -9 (cron mode)", '"$G_PARAMS"', "arrivals": 4}'
    out=$(timeout 30 "$TEND" outbox --db "$(db g)" 2>&1 >/dev/null)
    expect_contains "G: tend outbox says the webhook is held back, and why" "Retry-After 600 s" "$out"
    G_PORT=$(free_port)
    if start_serve "$(db g)" "$G_PORT" --config "$T/g.yaml" --no-eval; then
        check "G: tend serve's dispatcher makes passes (3 canary retries)" wait_canaries 3
        dc held '{"label": "G, tend serve", '"$G_PARAMS"', "arrivals": 4}'
        kill -9 "$SERVE_PID"
        wait "$SERVE_PID" 2>/dev/null
        if start_serve "$(db g)" "$G_PORT" --config "$T/g.yaml" --no-eval; then
            check "G: tend serve restarted after kill -9 makes passes (3 canary retries)" wait_canaries 3
            dc held '{"label": "G, tend serve after kill -9", '"$G_PARAMS"', "arrivals": 4}'
            kill -TERM "$SERVE_PID"
            wait "$SERVE_PID" 2>/dev/null
        else
            not_ok "G: tend serve starts again on g after kill -9" "$(tail -c +$((SERVE_LOG_AT + 1)) "$T/serve.log" | tail -5)"
        fi
    else
        not_ok "G: tend serve starts on g" "$(tail -c +$((SERVE_LOG_AT + 1)) "$T/serve.log" | tail -5)"
    fi
    since=$($PY -c 'import time; print(time.time())')
    DOUT=$(TEND_TEST_CLOCK_OFFSET_S=601 timeout 60 "$TEND" deliver --db "$(db g)" --config "$T/g.yaml" 2>&1)
    dc after_hold '{'"$G_PARAMS"', "hold": 600, "since": '"$since"', "rows": 6}'
fi
stop_receiver g_http

# ---- H: a slow mail server beside a healthy webhook ----------------------------------
# The mail server takes 3 s to answer each message (at the end of DATA). The
# webhook rows must all arrive while it still holds its first message, mail
# must go out in parallel within the documented limits, and no mail may arrive
# more often than its resends allow.
start_receiver http h_http || exit 1
H_HTTP=$RPORT
start_receiver smtp h_smtp || exit 1
H_SMTP=$RPORT
set_script h_smtp '{"default_delay_ms": 3000}'
cat >"$T/h.yaml" <<EOF2
{"delivery": {"max_age_days": 100000, "timeout_seconds": 10},
 "channels": {"mail": {"type": "email", "url": "smtp://127.0.0.1:$H_SMTP?tls=off", "from": "tend@tend.test"},
              "hook": {"type": "webhook", "url": "http://127.0.0.1:$H_HTTP/hook/h"}},
 $RULES_OFF}
EOF2
H_SPEC=$($PY -c 'import json; print(json.dumps([{"id": "h%02d" % i, "name": "H %d" % i,
    "owner": "busy@h.test" if i < 6 else "csm%d@h.test" % i, "kind": "no_login"} for i in range(27)]))')
if setup h "$H_SPEC" "$T/h.yaml"; then
    start=$($PY -c 'import time; print(time.time())')
    deliver "$(db h)" "$T/h.yaml" --wait 120
    echo "# H: $DOUT"
    dc slow '{"db": "'"$(db h)"'", "http_log": "'"$T/h_http.jsonl"'", "smtp_log": "'"$T/h_smtp.jsonl"'",
        "start": '"$start"', "rows": 27, "busy": "busy@h.test"}'
fi
# No answer to the end of a message within smtp_data_timeout_seconds (1 s; the
# server answers after 5 s): the attempt is ambiguous (counted in resends),
# retried after its backoff, and the connection that timed out is never
# reused (a late "250" would answer the next message's command).
set_script h_smtp '{"data": {"slow@h2.test": [{"status": "250 OK", "delay_ms": 5000}]}}'
cat >"$T/h2.yaml" <<EOF2
{"delivery": {"max_age_days": 100000, "timeout_seconds": 10, "smtp_data_timeout_seconds": 1,
              "retry": {"base_seconds": 1, "max_seconds": 1}},
 "channels": {"mail": {"type": "email", "url": "smtp://127.0.0.1:$H_SMTP?tls=off", "from": "tend@tend.test"}},
 $RULES_OFF}
EOF2
H2_SPEC='[{"id": "s1", "name": "Slow", "owner": "slow@h2.test", "kind": "no_login"},
          {"id": "s2", "name": "Quick 1", "owner": "q1@h2.test", "kind": "no_login"},
          {"id": "s3", "name": "Quick 2", "owner": "q2@h2.test", "kind": "no_login"},
          {"id": "s4", "name": "Quick 3", "owner": "q3@h2.test", "kind": "no_login"}]'
if setup h2 "$H2_SPEC" "$T/h2.yaml"; then
    deliver "$(db h2)" "$T/h2.yaml" --wait 60
    expect_contains "H: a timeout at the end of DATA is reported as such" "no answer to the end of the message within 1 s" "$DOUT"
    expect_eq "H: ... and no reply was read out of step (no \"DATA failed\")" "" "$(grep -o 'DATA failed[^;]*' <<<"$DOUT")"
    dc copies '{"label": "H, SMTP data timeout", "db": "'"$(db h2)"'", "smtp_log": "'"$T/h_smtp.jsonl"'",
        "rcpt": "slow@h2.test", "copies": 2, "attempts": 2, "resends": 1}'
fi
stop_receiver h_http
stop_receiver h_smtp

# ---- I: Slack pacing: one message per second per webhook, always ----------------------
# Two channels share one webhook. Requests take 0 to 0.9 s to arrive (the
# receiver waits before reading them), so pacing counted from the start of a
# transfer would let the next one arrive within milliseconds. Four processes
# send in turn: run 1, run 2 (its rows written while run 1 ran) started the
# moment run 1 ended, run 3 killed -9 while its message is in flight, run 4
# at once after the kill.
start_receiver http i_http || exit 1
I_HTTP=$RPORT
set_script i_http '{"default_arrival_delay_ms": [0, 900]}'
cat >"$T/i.yaml" <<EOF2
{"delivery": {"max_age_days": 100000, "timeout_seconds": 120},
 "channels": {"s1": {"type": "slack", "url": "http://127.0.0.1:$I_HTTP/slack/pace"},
              "s2": {"type": "slack", "url": "http://127.0.0.1:$I_HTTP/slack/pace"}},
 $RULES_OFF}
EOF2
if setup i '[{"id": "i1", "name": "I 1", "owner": "o@i.test", "kind": "no_login"},
             {"id": "i2", "name": "I 2", "owner": "o@i.test", "kind": "no_login"}]' "$T/i.yaml"; then
    "$TEND" deliver --db "$(db i)" --config "$T/i.yaml" >"$T/i_run1.log" 2>&1 &
    pid=$!
    BG_PID=$pid
    $PY "$T/dc.py" events "$T/i2.jsonl.in" "$D" '[{"id": "i3", "name": "I 3", "owner": "o@i.test", "kind": "no_login"}]'
    timeout 60 "$TEND" import --db "$(db i)" "$T/i2.jsonl.in" >/dev/null 2>&1
    timeout 60 "$TEND" eval --db "$(db i)" --config "$T/i.yaml" --at "$D" >/dev/null 2>&1
    wait "$pid"
    BG_PID=
    deliver "$(db i)" "$T/i.yaml" # run 2, right after run 1
    $PY "$T/dc.py" events "$T/i3.jsonl.in" "$D" '[{"id": "i4", "name": "I 4", "owner": "o@i.test", "kind": "no_login"}]'
    timeout 60 "$TEND" import --db "$(db i)" "$T/i3.jsonl.in" >/dev/null 2>&1
    timeout 60 "$TEND" eval --db "$(db i)" --config "$T/i.yaml" --at "$D" >/dev/null 2>&1
    set_script i_http '{"/slack/pace": [{"until_file": "'"$T/i.release"'", "arrival_delay_ms": 0}], "default_arrival_delay_ms": [0, 900]}'
    "$TEND" deliver --db "$(db i)" --config "$T/i.yaml" >"$T/i_run3.log" 2>&1 &
    pid=$!
    BG_PID=$pid
    # Once the receiver has read run 3's first request whole (its answer
    # held), the message has arrived and is in flight: kill -9 then.
    for _ in $(seq 600); do
        [ -e "$T/i.release.waiting" ] && break
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    BG_PID=
    touch "$T/i.release"
    after_kill deliver "$(db i)" "$T/i.yaml" # run 4, at once after the kill
    dc pace '{"http_log": "'"$T/i_http.jsonl"'", "path": "/slack/pace", "arrivals": 9, "interval": 1.0}'
fi
stop_receiver i_http

# ---- J: urgent before bulk ---------------------------------------------------------
# 200 low-priority rows (cards expiring; routed at once, not to the digest)
# wait for one paced Slack webhook; an NPS detractor answers the next day.
# Its message is the first to go out.
start_receiver http j_http || exit 1
J_HTTP=$RPORT
RULES_J=${RULES_OFF/\"nps_response\": false, /}
cat >"$T/j.yaml" <<EOF2
{"delivery": {"max_age_days": 100000, "timeout_seconds": 10},
 "channels": {"slack": {"type": "slack", "url": "http://127.0.0.1:$J_HTTP/slack/urgent"}},
 "routes": [{"to": ["slack"]}],
 $RULES_J}
EOF2
J_SPEC=$($PY -c 'import json; print(json.dumps([{"id": "j%03d" % i, "name": "J %d" % i, "owner": "o@j.test",
    "kind": "card"} for i in range(200)]))')
if setup j "$J_SPEC" "$T/j.yaml"; then
    $PY "$T/dc.py" events "$T/j2.jsonl.in" "$D1" '[{"id": "jz", "name": "Unhappy Co", "owner": "o@j.test", "kind": "detractor"}]'
    timeout 60 "$TEND" import --db "$(db j)" "$T/j2.jsonl.in" >/dev/null 2>&1
    out=$(timeout 60 "$TEND" eval --db "$(db j)" --config "$T/j.yaml" --at "$D1" 2>&1)
    expect_contains "J: the detractor's CTA is high priority, opened the day after the backlog" "nps_response" "$out"
    "$TEND" deliver --db "$(db j)" --config "$T/j.yaml" >"$T/j_run.log" 2>&1 &
    pid=$!
    BG_PID=$pid
    for _ in $(seq 600); do
        [ "$($PY "$T/dc.py" count "$T/j_http.jsonl" /slack/urgent)" -ge 2 ] && break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    BG_PID=
    dc urgent '{"db": "'"$(db j)"'", "http_log": "'"$T/j_http.jsonl"'", "backlog": 200}'
fi
stop_receiver j_http

# ---- K: no copy behind tend's back -----------------------------------------------
# A Slack webhook (unpaced here) takes the first message, then closes the
# connection after reading the second without answering. libcurl would send a
# request again by itself on a new connection when a reused one closes like
# that, a copy no resends count shows; tend uses a connection per request, so
# the second message is an ambiguous attempt, retried and counted.
start_receiver http k_http || exit 1
K_HTTP=$RPORT
set_script k_http '{"/slack/k": [{}, {"drop": true}]}'
cat >"$T/k.yaml" <<EOF2
{"delivery": {"max_age_days": 100000, "timeout_seconds": 30, "slack_interval_seconds": 0,
              "retry": {"base_seconds": 1, "max_seconds": 1}},
 "channels": {"slack": {"type": "slack", "url": "http://127.0.0.1:$K_HTTP/slack/k"}},
 $RULES_OFF}
EOF2
if setup k '[{"id": "k1", "name": "K 1", "owner": "o@k.test", "kind": "no_login"},
             {"id": "k2", "name": "K 2", "owner": "o@k.test", "kind": "no_login"}]' "$T/k.yaml"; then
    deliver "$(db k)" "$T/k.yaml" --wait 60
    dc nocopy '{"db": "'"$(db k)"'", "http_log": "'"$T/k_http.jsonl"'", "rows": 2}'
fi
stop_receiver k_http
