#!/usr/bin/env bash
# Bad data at ingest (issue 15, part 4; docs/ingest.md "Text" and "Time windows"),
# against the real tend serve on 127.0.0.1 and the real tend import:
# - invalid UTF-8, NUL and control characters: a single call gets 400 naming the
#   field, a batch stores its valid items and names the rejected indexes, and
#   /api/accounts (read with an API token) still parses as strict UTF-8 JSON;
# - far timestamps (0001, 9999, now + 2 days) are refused, now + 1 h is accepted,
#   and no_login does not fire from a login dated 0001; far stated dates too;
# - a batch whose context is large does not multiply it into each item (RSS);
# - tend import names FILE:LINE and the field, and keeps the valid lines (JSONL
#   and the accounts CSV).
# The HTTP checks are Python (written to $T/sd.py below).
. "$(dirname "$0")/lib.sh"

export TEND T
TODAY=$(date -u +%F)
DB="$(db data)"
PORT=$(free_port)
export DB PORT TODAY

# ---- an API token for /api reads (independent of sign-in) ----------------------------
TOKEN_OUT=$("$TEND" token data 2>&1)
TOKEN=$(printf '%s\n' "$TOKEN_OUT" | sed -n 's/^token: *//p' | head -1)
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
if [ -z "$TOKEN" ] || [[ "$TOKEN_OUT" != *"$TOKEN_SHA"* ]]; then
    not_ok "tend token prints a token and its SHA-256" "$TOKEN_OUT"
    exit 1
fi
export TOKEN
cat >"$T/tend.yaml" <<EOF
serve:
  tokens:
    - name: data
      sha256: "$TOKEN_SHA"
EOF

start_serve "$DB" "$PORT" --config "$T/tend.yaml" || {
    not_ok "tend serve starts"
    exit 1
}
export SERVE_PID

cat >"$T/sd.py" <<'PY'
import base64, json, os, sys, time, urllib.error, urllib.request
from datetime import datetime, timedelta, timezone

PORT, TOKEN, SERVE_PID = os.environ["PORT"], os.environ["TOKEN"], os.environ["SERVE_PID"]
URL = f"http://127.0.0.1:{PORT}"
BASIC = "Basic " + base64.b64encode(b"testkey:").decode()

def ok(name): print(f"ok - {name}")
def not_ok(name, *detail):
    print(f"not ok - {name}")
    for d in detail: print(f"    {d}")
def check(name, cond, *detail):
    ok(name) if cond else not_ok(name, *detail)

def request(method, path, body=None, headers=None):
    """(status, raw bytes of the answer)."""
    req = urllib.request.Request(URL + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def strict(raw):
    """Parses raw as JSON the way a strict client does: UTF-8 decode first."""
    return json.loads(raw.decode("utf-8", errors="strict"))

def post(path, body):
    """body: bytes (sent as they are) or an object (JSON). (status, answer)."""
    if not isinstance(body, bytes):
        body = json.dumps(body, ensure_ascii=False).encode()
    st, raw = request("POST", path, body, {"Content-Type": "application/json",
                                           "Authorization": BASIC})
    try:
        return st, strict(raw)
    except (UnicodeDecodeError, ValueError) as e:
        return st, {"unparsable": repr(raw[:200]), "why": str(e)}

def api(path):
    return request("GET", path, None, {"Authorization": f"Bearer {TOKEN}"})

def iso(dt): return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
now = datetime.now(timezone.utc)
def ago(**kw): return iso(now - timedelta(**kw))

# ---- text ------------------------------------------------------------------------------
st, r = post("/v1/group", {"userId": "u-utf", "groupId": "utf-co", "timestamp": ago(days=2),
                           "messageId": "utf-1",
                           "traits": {"name": "Caf\u00e9 \u2713 \U0001F600", "plan": "pro"}})
check("valid UTF-8 of every length is accepted", st == 200 and r.get("accepted") == 1, f"{st} {r}")

bad_name = (b'{"userId":"u-bad","groupId":"bad-name-co","messageId":"utf-2",'
            b'"traits":{"name":"ab\xffc"}}')
st, r = post("/v1/group", bad_name)
check("invalid UTF-8 in traits.name: 400 naming the field and the byte",
      st == 400 and r.get("error") == "traits.name: invalid UTF-8 at byte 3", f"{st} {r}")

st, r = post("/v1/identify", b'{"userId":"u\xc3\x28x","messageId":"utf-3"}')
check("invalid UTF-8 in userId: 400 naming userId",
      st == 400 and r.get("error", "").startswith("userId: invalid UTF-8 at byte 2"), f"{st} {r}")

st, r = post("/v1/group", b'{"userId":"u-k","groupId":"bad-key-co","traits":{"re\xedgion":"eu"}}')
check("invalid UTF-8 in a trait key: 400 naming the key",
      st == 400 and 'traits: the key starting "re": invalid UTF-8 at byte 3' in r.get("error", ""),
      f"{st} {r}")

st, r = post("/v1/group", {"userId": "u-n", "groupId": "nul\u0000co", "messageId": "utf-4"})
check("a NUL (\\u0000) in groupId: 400, not an account cut to \"nul\"",
      st == 400 and "groupId: a NUL character" in r.get("error", ""), f"{st} {r}")

st, r = post("/v1/group", {"userId": "u-c", "groupId": "ctl-co\n2026-01-01 FAKE LOG LINE",
                           "messageId": "utf-5"})
check("a newline in groupId: 400 naming the control character",
      st == 400 and "groupId: a control character (U+000A) at byte 7" in r.get("error", ""),
      f"{st} {r}")

st, r = post("/v1/track", {"userId": "u-utf", "event": "NPS Survey Responded",
                           "timestamp": ago(hours=30), "messageId": "utf-6",
                           "context": {"groupId": "utf-co"},
                           "properties": {"score": 4, "comment": "slow\n\tsearch \u00e9"}})
check("a newline and a tab in an NPS comment (free text) are kept",
      st == 200 and r.get("accepted") == 1, f"{st} {r}")

batch = (b'{"batch":['
         b'{"type":"group","userId":"u-b1","groupId":"batch-ok-1","messageId":"b-1"},'
         b'{"type":"group","userId":"u-b2","groupId":"batch-bad-1","messageId":"b-2",'
         b'"traits":{"name":"\xe2\x82"}},'
         b'{"type":"group","userId":"u-b3","groupId":"batch-ok-2","messageId":"b-3"},'
         b'{"type":"group","userId":"u-b4","groupId":"batch-bad\\u0000-2","messageId":"b-4"},'
         b'{"type":"track","userId":"u-b1","event":"x","messageId":"b-5",'
         b'"properties":{"deep":{"\xf0\x9f":1}}}]}')
st, r = post("/v1/batch", batch)
rej = [(x.get("index"), x.get("error", "")) for x in r.get("rejected", [])]
check("a batch stores its valid items (200) and names each rejected index with the field",
      st == 200 and r.get("accepted") == 2 and [i for i, _ in rej] == [1, 3, 4]
      and rej[0][1] == "traits.name: invalid UTF-8 at byte 1"
      and rej[1][1].startswith("groupId: a NUL character")
      and rej[2][1] == "properties.deep: a key: invalid UTF-8 at byte 1",
      f"{st} {r}")

st, raw = api("/api/accounts?per_page=500")
try:
    accounts = strict(raw)
    ids = sorted(a["id"] for a in accounts["accounts"])
    names = {a["id"]: a["name"] for a in accounts["accounts"]}
    check("/api/accounts parses as strict UTF-8 JSON and lists exactly the valid accounts",
          st == 200 and ids == ["batch-ok-1", "batch-ok-2", "utf-co"]
          and names["utf-co"] == "Caf\u00e9 \u2713 \U0001F600", f"{st} {ids} {names}")
except (UnicodeDecodeError, ValueError, KeyError) as e:
    not_ok("/api/accounts parses as strict UTF-8 JSON and lists exactly the valid accounts",
           f"{st} {e}", repr(raw[:300]))
st, raw = api("/api/accounts/utf-co")
try:
    a = strict(raw)
    check("/api/accounts/utf-co parses strictly, traits included",
          st == 200 and a["traits"]["name"] == "Caf\u00e9 \u2713 \U0001F600", f"{st} {a}")
except (UnicodeDecodeError, ValueError, KeyError) as e:
    not_ok("/api/accounts/utf-co parses strictly, traits included", f"{st} {e}", repr(raw[:300]))

# ---- time windows -------------------------------------------------------------------------
for acc in ("far-old", "far-new"):
    post("/v1/group", {"userId": f"u-{acc}", "groupId": acc, "timestamp": ago(days=3),
                       "messageId": f"{acc}-g", "traits": {"name": acc}})
def login(acc, ts, mid):
    return post("/v1/track", {"userId": f"u-{acc}", "event": "Signed In", "timestamp": ts,
                              "messageId": mid, "context": {"groupId": acc}})
for ts, what in (("0001-01-01T00:00:00Z", "0001"), ("9999-12-31T23:59:59Z", "9999"),
                 (iso(now + timedelta(days=2)), "now + 2 days")):
    st, r = login("far-old", ts, f"far-{what}")
    e = r.get("error", "")
    check(f"a login dated {what}: 400 naming timestamp and the window",
          st == 400 and e.startswith("timestamp: ") and "outside the accepted window" in e
          and "2000-01-01T00:00:00.000Z" in e and "1 day after tend received" in e, f"{st} {r}")
st, r = login("far-new", iso(now + timedelta(hours=1)), "far-now+1h")
check("a login dated now + 1 h is accepted (clocks run a little ahead)",
      st == 200 and r.get("accepted") == 1, f"{st} {r}")
st, r = post("/v1/batch", {"batch": [
    {"type": "track", "userId": "u-far-old", "event": "Signed In", "messageId": "far-b1",
     "timestamp": "0001-01-01T00:00:00Z", "context": {"groupId": "far-old"}},
    {"type": "track", "userId": "u-far-new", "event": "Report Exported", "messageId": "far-b2",
     "timestamp": ago(hours=2), "context": {"groupId": "far-new"}}]})
check("in a batch the far login is rejected by index, the other stored",
      st == 200 and r.get("accepted") == 1 and [x["index"] for x in r.get("rejected", [])] == [0]
      and r["rejected"][0]["error"].startswith("timestamp: 0001-01-01"), f"{st} {r}")

cases = [
    ("/v1/track", {"userId": "u-far-new", "event": "Invoice Issued", "messageId": "d-1",
                   "context": {"groupId": "far-new"},
                   "properties": {"invoice_id": "I-1", "amount": 10, "due_date": "2150-01-01"}},
     "properties.due_date: \"2150-01-01\" is outside the accepted window"),
    ("/v1/group", {"userId": "u-far-new", "groupId": "far-new", "messageId": "d-2",
                   "traits": {"renewal_date": "2150-01-01"}},
     "traits.renewal_date: \"2150-01-01\" is outside the accepted window"),
    ("/v1/track", {"userId": "u-far-new", "event": "Payment Method Updated", "messageId": "d-3",
                   "context": {"groupId": "far-new"},
                   "properties": {"card_exp_month": 5, "card_exp_year": 1970}},
     "properties.card_exp_year: 1970 is outside the accepted years"),
    ("/v1/group", {"userId": "u-far-new", "groupId": "far-new", "messageId": "d-4",
                   "traits": {"created_at": "0001-01-01"}},
     "traits.created_at: \"0001-01-01\" is outside the accepted window 1970-01-01"),
]
for path, body, want in cases:
    st, r = post(path, body)
    check(f"{want.split(':')[0]} far off: 400 naming it and its window",
          st == 400 and r.get("error", "").startswith(want), f"{st} {r}")

# ---- hostile but valid: deep nesting, many trait keys ------------------------------------
deep = b'{"userId":"u-utf","event":"Deep","messageId":"deep-1","context":{"groupId":"utf-co"},' \
       b'"properties":{"a":' + b"[" * 990 + b'"x"' + b"]" * 990 + b"}}"
st, r = post("/v1/track", deep)
check("properties nested 990 deep (cJSON's limit is 1,000) are accepted",
      st == 200 and r.get("accepted") == 1, f"{st} {str(r)[:200]}")
st, r = post("/v1/track", deep.replace(b'"x"', b'"\xff"'))
check("an invalid byte 990 levels deep is found; the path in the error is cut to fit",
      st == 400 and r.get("error", "").startswith("properties.a[0][0]")
      and r["error"].endswith("...: invalid UTF-8 at byte 1") and len(r["error"]) < 320,
      f"{st} {str(r)[:200]}")
times = []
for k in range(3):
    traits = {f"t{k}_{i:04d}": 1 for i in range(2600)}
    traits["plan"] = f"plan-{k}"
    body = json.dumps({"userId": "u-keys", "groupId": "keys-co", "messageId": f"keys-{k}",
                       "timestamp": ago(hours=5 - k), "traits": traits},
                      separators=(",", ":")).encode()
    t0 = time.monotonic()
    st, r = post("/v1/group", body)
    times.append(time.monotonic() - t0)
    if st != 200:
        not_ok(f"a group call of {len(body) // 1024} KB with 2,600 new trait keys is accepted",
               f"{st} {str(r)[:200]}")
st, raw = api("/api/accounts/keys-co")
try:
    t = strict(raw)["traits"]
    check(f"3 group calls of 2,600 new trait keys each: the account keeps 1,000 free keys and "
          f"the known ones ({len(t)} in all; calls took "
          + ", ".join(f"{x * 1000:.0f}" for x in times) + " ms)",
          st == 200 and len(t) == 1001 and t.get("plan") == "plan-2", f"{st} {len(t)}")
except (UnicodeDecodeError, ValueError, KeyError) as e:
    not_ok("the account with many trait keys reads back", f"{st} {e}", repr(raw[:200]))

# ---- a large batch context is not copied into each item ----------------------------------
def hwm_kib():
    with open(f"/proc/{SERVE_PID}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
post("/v1/group", {"userId": "u-ctx", "groupId": "ctx-co", "messageId": "ctx-g",
                   "timestamp": ago(days=1)})
items = [{"type": "track", "userId": "u-ctx", "event": "Report Exported",
          "messageId": f"ctx-{i:04d}", "timestamp": ago(hours=1)} for i in range(1000)]
body = {"batch": items, "context": {"groupId": "ctx-co"}}
pad = 500 * 1024 - 2048 - len(json.dumps(body, separators=(",", ":")))
body["context"]["pad"] = "x" * pad
raw = json.dumps(body, separators=(",", ":")).encode()
before = hwm_kib()
t0 = time.monotonic()
st, r = post("/v1/batch", raw)
secs = time.monotonic() - t0
grew = (hwm_kib() - before) / 1024
check(f"a {len(raw) // 1024} KB batch of 1000 items with a {pad // 1024} KB context: all stored "
      f"under its groupId, peak RSS grew {grew:.1f} MiB (< 64), {secs:.2f} s",
      st == 200 and r.get("accepted") == 1000 and r.get("quarantined") == 0 and grew < 64,
      f"{st} {str(r)[:300]}", f"peak RSS grew {grew:.1f} MiB")
PY
$PY "$T/sd.py"

# ---- what the far timestamps did to the rules -------------------------------------------
kill -TERM "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID" 2>/dev/null
out=$("$TEND" eval --db "$DB" --at "$TODAY" 2>&1) || not_ok "tend eval --at today runs" "$out"
ctas=$("$TEND" ctas --db "$DB" --status all --rule no_login --format csv 2>&1)
rows=$(printf '%s\n' "$ctas" | grep -c -E '(^|,)far-(old|new),' || true)
expect_eq "no_login fired for no account: the refused 0001 login set no days_since_login" 0 "$rows"
metrics=$("$TEND" metrics --db "$DB" --at "$TODAY" --format csv 2>&1)
col=$(printf '%s\n' "$metrics" | head -1 | tr ',' '\n' | grep -n '^days_since_login$' | cut -d: -f1)
old_days=$(printf '%s\n' "$metrics" | awk -F, -v c="$col" '$1 == "far-old" { print $c }')
expect_eq "far-old has no login (days_since_login empty, not 739,000)" "" "$old_days"

expect_eq "tend status counts the trait keys not merged" 6800 "$(status_count "$DB" traits.over_limit)"

# ---- tend import: FILE:LINE, the field, the valid lines kept -----------------------------------
IDB="$(db import)"
F="$T/bad.jsonl"
TS=$(date -u -d "$TODAY - 2 days" +%FT09:00:00Z)
FAR=$(date -u -d "$TODAY + 3 days" +%FT09:00:00Z)
{
    printf '{"type":"group","userId":"i-u1","groupId":"imp-co","timestamp":"%s","messageId":"i1","traits":{"name":"Imp \xc3\xa9"}}\n' "$TS"
    printf '{"type":"group","userId":"i-u2","groupId":"imp-bad","timestamp":"%s","messageId":"i2","traits":{"name":"ab\xffc"}}\n' "$TS"
    printf '{"type":"track","userId":"i-u1","event":"Signed In","timestamp":"%s","messageId":"i3","context":{"groupId":"imp-co"}}\n' "$TS"
    printf '{"type":"identify","userId":"i-\\u0000u3","timestamp":"%s","messageId":"i4"}\n' "$TS"
    printf '{"batch":[{"type":"track","userId":"i-u1","event":"x","timestamp":"%s","messageId":"i5","context":{"groupId":"imp-co"}},{"type":"track","userId":"i-u1","event":"x\\ty","timestamp":"%s","messageId":"i6"}]}\n' "$TS" "$TS"
    printf '{"type":"track","userId":"i-u1","event":"Signed In","timestamp":"0001-01-01T00:00:00Z","messageId":"i7","context":{"groupId":"imp-co"}}\n'
    printf '{"type":"track","userId":"i-u1","event":"Signed In","timestamp":"%s","messageId":"i8","context":{"groupId":"imp-co"}}\n' "$FAR"
} >"$F"
out=$("$TEND" import --db "$IDB" "$F" 2>"$T/imp.err")
rc=$?
err=$(cat "$T/imp.err")
expect_eq "tend import of a file with bad lines exits 1" 1 "$rc"
expect_contains "it names FILE:LINE and the field of invalid UTF-8" "$F:2: traits.name: invalid UTF-8 at byte 3" "$err"
expect_contains "and of a NUL" "$F:4: userId: a NUL character (\\u0000) at byte 3" "$err"
expect_contains "and of a control character in a batch item's event name" "$F:5: batch[1]: event: a control character (U+0009) at byte 2" "$err"
expect_contains "and of a timestamp dated 0001" "$F:6: timestamp: 0001-01-01T00:00:00.000Z is outside the accepted window" "$err"
expect_contains "and of one 3 days ahead" "$F:7: timestamp: " "$err"
expect_contains "and keeps the valid lines" "3 accepted, 0 duplicates, 0 quarantined, 5 rejected" "$out"
if $PY -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' <"$T/imp.err"; then
    ok "its error lines are valid UTF-8 (the bad bytes are never echoed)"
else
    not_ok "its error lines are valid UTF-8 (the bad bytes are never echoed)" "$err"
fi

CSV="$T/accounts.csv"
{
    printf 'account_id,name,plan,renewal_date,as_of\n'
    printf 'csv-ok,Good \xc3\xa9,pro,2027-01-31,\n'
    printf 'csv\xff,Bad Id,pro,,\n'
    printf 'csv-name,Bad \xe2\x82,pro,,\n'
    printf '"csv\nnl",Newline Id,pro,,\n'
    printf 'csv-far,Far,pro,2150-01-01,\n'
    printf 'csv-asof,Old,pro,,1999-12-31\n'
    printf 'csv-ok2,"Two\nLines",pro,,\n'
    printf 'csv\0nul,Nul,pro,,\n'
} >"$CSV"
out=$("$TEND" import --db "$IDB" --accounts "$CSV" 2>"$T/csv.err")
rc=$?
err=$(cat "$T/csv.err")
expect_eq "tend import --accounts with bad rows exits 1" 1 "$rc"
expect_contains "it names FILE:LINE: account_id of invalid UTF-8" "$CSV:3: account_id: invalid UTF-8 at byte 4" "$err"
expect_contains "a name cell of invalid UTF-8" "$CSV:4: name: invalid UTF-8 at byte 5" "$err"
# (The record starts on line 5; the line named is where its first field ends.)
expect_contains "a newline in account_id" "account_id: a control character (U+000A) at byte 4" "$err"
expect_contains "a renewal_date in 2150" "$CSV:7: renewal_date: \"2150-01-01\" is outside the accepted window" "$err"
expect_contains "an as_of before 2000" "$CSV:8: as_of: 1999-12-31T00:00:00.000Z is outside the accepted window" "$err"
expect_contains "a NUL byte in account_id (not an account cut to \"csv\")" "$CSV:11: account_id: a NUL character (\\u0000) at byte 4" "$err"
expect_contains "and keeps the valid rows (a name on two lines is free text)" "2 accounts, 6 rejected" "$out"
json=$("$TEND" accounts --db "$IDB" --format json)
got=$(printf '%s' "$json" | $PY -c '
import json, sys
rows = json.loads(sys.stdin.buffer.read().decode("utf-8"))
print(" ".join(sorted(r.get("account_id") or r.get("id") for r in rows)))' 2>&1)
expect_eq "tend accounts --format json parses strictly and lists only the valid accounts" \
    "csv-ok csv-ok2 imp-co" "$got"
