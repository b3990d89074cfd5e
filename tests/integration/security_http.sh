#!/usr/bin/env bash
# Attacks on tend serve's HTTP transport (issue 15), against the real server on
# 127.0.0.1, with the figures printed in the ok lines:
#   A. slow clients: 1,000 slowloris connections (from 127.0.0.2 and up) while
#      ingest, /healthz and the API answer from 127.0.0.1; connections closed at
#      their absolute deadlines; the per-address limit; /metrics under --no-eval;
#   B. batch amplification: 32 concurrent 500 KB bodies with and without a
#      valid key, RSS of tend serve (/proc/PID/status) and answer sizes bounded;
#      a wrong Basic key refused before the body is sent (Expect: 100-continue);
#   C. a port in use: exit code, message, the database untouched;
#   D. log injection: ids with control characters are refused at ingest
#      (docs/ingest.md), so the attack goes through free text that reaches a
#      log line (a trait a custom rule's error quotes); one status table (400,
#      409, 413);
#   E. clients that stop sending: incomplete requests half-closed or closed are
#      closed at once (not at a deadline), complete ones half-closed are
#      answered, slow open clients are kept; a request libmicrohttpd drops
#      without its end does not stay in flight.
. "$(dirname "$0")/lib.sh"

# Peak resident memory allowed to tend serve under each attack. AddressSanitizer
# keeps freed memory in quarantine and shadow memory beside it: its builds get
# a looser bound; the release build is the product's figure.
if [ "${MODE:-release}" = asan ]; then RSS_LIMIT_MIB=1200; else RSS_LIMIT_MIB=300; fi
HEADERS_S=10 # HTTP_HEADERS_S of src/server/http.h
REQUEST_S=30 # HTTP_REQUEST_S
SLACK_S=5    # the reaper's tick and a loaded machine

TOKEN="sec-$RANDOM$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)

# rss_mib PID: "VmHWM VmRSS" of the process, in MiB.
rss_mib() {
    awk '/^VmHWM:/ { h = int($2 / 1024) } /^VmRSS:/ { r = int($2 / 1024) } END { print h, r }' \
        "/proc/$1/status"
}

# timed URL [CURL ARGS...]: prints "STATUS SECONDS".
timed() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 20 "$@"
}

# median of numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ---- A. slow clients -------------------------------------------------------------
DB_A="$T/a.db"
PORT_A=$(free_port)
URL_A="http://127.0.0.1:$PORT_A"
cat >"$T/a.yaml" <<EOF
serve:
  tokens:
    - name: sec
      sha256: "$TOKEN_SHA"
EOF
start_serve "$DB_A" "$PORT_A" --no-eval --config "$T/a.yaml" || exit 1
PID_A=$SERVE_PID

metrics=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL_A/metrics")
missing=""
for m in 'tend_eval_runs_total{kind="daily"} 0' 'tend_eval_runs_total{kind="event"} 0' \
    'tend_eval_failures_total 0' 'tend_eval_duration_seconds{kind="daily"} 0' \
    'tend_eval_last_success_timestamp_seconds 0' 'tend_eval_events_pending 0'; do
    [[ "$metrics" == *"$m"* ]] || missing="$missing [$m]"
done
if [ -z "$missing" ]; then
    ok "/metrics under --no-eval lists the tend_eval_* series of docs/api.md, at zero"
else
    not_ok "/metrics under --no-eval lists the tend_eval_* series of docs/api.md, at zero" \
        "missing:$missing"
fi

# One address may hold at most 64 connections (HTTP_DEFAULT_MAX_PER_ADDRESS).
$PY "$ROOT/tests/integration/slow_client.py" "$PORT_A" "$T/per-address.json" --connections 100 \
    --addresses 1 --base 127.0.0.250 --duration 6 >"$T/per-address.out" 2>&1
read -r held refused < <($PY -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["held_max"], s["refused"])' "$T/per-address.out" 2>/dev/null || echo "? ?")
if [ "$held" != "?" ] && [ "$held" -le 64 ] && [ "$held" -ge 32 ] && [ "$refused" -gt 0 ]; then
    ok "one address holds at most 64 connections (100 tried: $held held, $refused refused)"
else
    not_ok "one address holds at most 64 connections" "held $held, refused $refused" "$(cat "$T/per-address.out")"
fi

# 1,000 slow connections trickling headers (32 addresses) and 20 trickling a body.
ATTACK_S=45
$PY "$ROOT/tests/integration/slow_client.py" "$PORT_A" "$T/slow.json" --connections 1000 \
    --addresses 32 --base 127.0.0.2 --duration "$ATTACK_S" --mode headers >"$T/slow.out" 2>&1 &
SLOW=$!
$PY "$ROOT/tests/integration/slow_client.py" "$PORT_A" "$T/slowbody.json" --connections 20 \
    --addresses 2 --base 127.0.0.100 --duration "$ATTACK_S" --mode body >"$T/slowbody.out" 2>&1 &
SLOWBODY=$!
PIDS+=("$SLOW" "$SLOWBODY")
open=0
for _ in $(seq 120); do
    open=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["open"])' "$T/slow.json" 2>/dev/null || echo 0)
    [ "$open" -ge 1000 ] && break
    sleep 0.5
done
if [ "$open" -ge 1000 ]; then
    ok "the attacker holds 1,000 slow connections ($open open)"
else
    not_ok "the attacker holds 1,000 slow connections" "only $open open: $(cat "$T/slow.json" 2>/dev/null)"
fi

ingest_ok=0
ingest_times=""
health_times=""
api_ok=0
for i in 1 2 3 4 5; do
    read -r code secs < <(timed -u testkey: -X POST "$URL_A/v1/track" -H 'Content-Type: application/json' \
        --data-binary "{\"userId\":\"sl-u\",\"event\":\"Probe\",\"messageId\":\"sl-$i\"}")
    [ "$code" = 200 ] && ingest_ok=$((ingest_ok + 1))
    ingest_times="$ingest_times $secs"
    read -r code secs < <(timed "$URL_A/healthz")
    [ "$code" = 200 ] || secs=99
    health_times="$health_times $secs"
    read -r code _ < <(timed -H "Authorization: Bearer $TOKEN" "$URL_A/api/accounts")
    [ "$code" = 200 ] && api_ok=$((api_ok + 1))
done
during=$(cat "$T/slow.json" 2>/dev/null)
read -r hwm rss < <(rss_mib "$PID_A")
expect_eq "ingest from 127.0.0.1 answers 200 during the attack (5 of 5; seconds:$ingest_times)" 5 "$ingest_ok"
health_median=$(printf '%s\n' $health_times | median)
if awk -v m="$health_median" 'BEGIN { exit !(m < 1.0) }'; then
    ok "/healthz answers within 1 s during the attack (median $health_median s of:$health_times)"
else
    not_ok "/healthz answers within 1 s during the attack" "median $health_median s of:$health_times"
fi
expect_eq "the REST API answers 200 during the attack (5 of 5)" 5 "$api_ok"
if [ "$hwm" -lt "$RSS_LIMIT_MIB" ]; then
    ok "tend serve holds 1,000 slow connections in $rss MiB (peak $hwm MiB, limit $RSS_LIMIT_MIB)"
else
    not_ok "tend serve holds 1,000 slow connections under $RSS_LIMIT_MIB MiB" "peak $hwm MiB, now $rss MiB"
fi

wait "$SLOW" "$SLOWBODY"
read -r age cut life_max < <($PY -c 'import json,sys; s=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(s["age_max"], s["cut"], s["life_max"])' "$T/slow.out" 2>/dev/null || echo "999 0 0")
# Closed at the deadline: none older than it (plus slack), and closed ones lived to it.
if awk -v a="$age" -v m="$life_max" -v l="$HEADERS_S" -v s="$SLACK_S" 'BEGIN { exit !(a <= l + s && m >= l - 1) }' && [ "$cut" -gt 0 ]; then
    ok "a connection trickling its headers is closed at the ${HEADERS_S} s deadline (oldest $age s, $cut closed, longest $life_max s)"
else
    not_ok "a connection trickling its headers is closed at the ${HEADERS_S} s deadline" \
        "oldest connection $age s, $cut closed by the server" "during the attack: $during" "$(cat "$T/slow.out")"
fi
read -r age cut life_max < <($PY -c 'import json,sys; s=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(s["age_max"], s["cut"], s["life_max"])' "$T/slowbody.out" 2>/dev/null || echo "999 0 0")
if awk -v a="$age" -v m="$life_max" -v l="$REQUEST_S" -v s="$SLACK_S" 'BEGIN { exit !(a <= l + s && m >= l - 1) }' && [ "$cut" -gt 0 ]; then
    ok "a connection trickling its body is closed at the ${REQUEST_S} s deadline (oldest $age s, $cut closed, longest $life_max s)"
else
    not_ok "a connection trickling its body is closed at the ${REQUEST_S} s deadline" \
        "oldest connection $age s, $cut closed" "$(cat "$T/slowbody.out")"
fi
r=$(curl -s -u testkey: -X POST "$URL_A/v1/track" -H 'Content-Type: application/json' \
    --data-binary '{"userId":"sl-u","event":"After","messageId":"sl-after"}' --max-time 20)
expect_contains "ingest answers after the attack" '"success":true' "$r"
lines=$(grep -c 'tend serve: http:' "$T/serve.log")
if [ "$lines" -le 60 ]; then
    ok "the HTTP library's messages about the attack are rate-limited ($lines lines)"
else
    not_ok "the HTTP library's messages about the attack are rate-limited" "$lines lines"
fi
kill -TERM "$PID_A"
wait "$PID_A"
expect_eq "tend serve stops with status 0 after the attack" 0 "$?"

# ---- B. batch amplification --------------------------------------------------------
DB_B="$T/b.db"
PORT_B=$(free_port)
URL_B="http://127.0.0.1:$PORT_B"
start_serve "$DB_B" "$PORT_B" --no-eval || exit 1
PID_B=$SERVE_PID

cat >"$T/amplify.py" <<'PY'
"""32 concurrent 500 KB bodies of one kind against tend serve; prints one JSON
line: the statuses, the largest answer, the slowest request, and one answer."""
import base64, http.client, json, sys, threading, time

port, kind, auth = int(sys.argv[1]), sys.argv[2], sys.argv[3]
N = 32
LIMIT = 512000


def zeros(prefix):
    head = '{' + prefix + '"batch":['
    n = (LIMIT - len(head) - 1) // 2
    return head + ",".join(["0"] * n) + "]}"


def fat(prefix):
    # 10,000 invalid messages (no type), each a small array: the most JSON
    # values a batch within the item limit can hold.
    item = '{"x":[' + ",".join(["0"] * 20) + ']}'
    return '{' + prefix + '"batch":[' + ",".join([item] * 10000) + "]}"


def valid(t):
    pad = "p" * 100
    msgs = [{"type": "track", "userId": f"amp-{t}-{i % 50}", "event": "Amplified",
             "messageId": f"amp-{t}-{i}", "properties": {"pad": pad},
             "timestamp": "2026-01-02T03:04:05Z"} for i in range(2000)]
    return json.dumps({"batch": msgs}, separators=(",", ":"))


prefix = '"writeKey":"not-a-key",' if auth == "bodykey" else ""
bodies = [(valid(t) if kind == "valid" else zeros(prefix) if kind == "zeros" else fat(prefix))
          for t in range(N)]
assert all(len(b) <= LIMIT for b in bodies), max(len(b) for b in bodies)
results = [None] * N
go = threading.Event()


def worker(t):
    headers = {"Content-Type": "application/json"}
    if auth == "basic":
        headers["Authorization"] = "Basic " + base64.b64encode(b"testkey:").decode()
    go.wait()
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("POST", "/v1/batch", body=bodies[t].encode(), headers=headers)
        r = c.getresponse()
        data = r.read()
        results[t] = (r.status, len(data), time.monotonic() - t0, data.decode(errors="replace"),
                      r.getheader("Retry-After"))
        c.close()
    except Exception as e:
        results[t] = (0, 0, time.monotonic() - t0, repr(e), None)


threads = [threading.Thread(target=worker, args=(t,)) for t in range(N)]
for th in threads:
    th.start()
go.set()
for th in threads:
    th.join()
statuses = {}
for r in results:
    statuses[str(r[0])] = statuses.get(str(r[0]), 0) + 1
sample = next((r for r in results if r[0] not in (0, 503)), results[0])
print(json.dumps({"statuses": statuses, "max_bytes": max(r[1] for r in results),
                  "max_s": round(max(r[2] for r in results), 2), "body_bytes": len(bodies[0]),
                  "busy_without_retry_after": sum(1 for r in results if r[0] == 503 and not r[4]),
                  "sample": sample[3][:100000]}))
PY

# amplify KIND AUTH: runs 32 at once; sets STATUSES, MAX_BYTES, MAX_S, SAMPLE.
amplify() {
    local out
    out=$($PY "$T/amplify.py" "$PORT_B" "$1" "$2" 2>&1)
    echo "$out" >>"$T/amplify.log"
    read -r STATUSES MAX_BYTES MAX_S BUSY_NO_RA < <($PY -c 'import json,sys; s=json.loads(sys.argv[1]); print(",".join(f"{k}x{v}" for k,v in sorted(s["statuses"].items())), s["max_bytes"], s["max_s"], s["busy_without_retry_after"])' "$out" 2>/dev/null || echo "error 0 0 0")
    SAMPLE=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["sample"])' "$out" 2>/dev/null || echo "$out")
}

amplify zeros basic
expect_eq "32 x 256,000 zero items with a valid key: all 413 (answers of $MAX_BYTES bytes, slowest $MAX_S s)" "413x32" "$STATUSES"
expect_contains "the 413 names the item limit" 'over the limit of 10000 a request' "${SAMPLE:0:400}"
amplify zeros none
expect_eq "32 x 256,000 zero items without a key: all 401 (answers of $MAX_BYTES bytes, slowest $MAX_S s)" "401x32" "$STATUSES"
amplify fat bodykey
expect_eq "32 x 10,000-item batches with a wrong body writeKey: all 401, nothing parsed (slowest $MAX_S s)" "401x32" "$STATUSES"
amplify fat basic
if [[ "$STATUSES" =~ ^(400x[0-9]+)(,503x[0-9]+)?$ ]] && [ "$BUSY_NO_RA" = 0 ]; then
    ok "32 x 10,000 invalid messages with a valid key: 400, or 503 with Retry-After when the parse budget is spent ($STATUSES, slowest $MAX_S s)"
else
    not_ok "32 x 10,000 invalid messages with a valid key: 400 or 503 with Retry-After" "$STATUSES" "${SAMPLE:0:400}"
fi
if [ "$MAX_BYTES" -gt 0 ] && [ "$MAX_BYTES" -lt 65536 ]; then
    ok "the answer to 10,000 rejected messages stays small ($MAX_BYTES bytes)"
else
    not_ok "the answer to 10,000 rejected messages stays small" "$MAX_BYTES bytes"
fi
listed=$($PY -c 'import json,sys; o=json.loads(sys.argv[1]); print(len(o["rejected"]), o.get("rejected_total"))' "$SAMPLE" 2>/dev/null)
expect_eq "it lists the first 100 rejected and says how many in all" "100 10000" "$listed"
amplify valid basic
if [[ "$STATUSES" =~ ^(200x[0-9]+)(,503x[0-9]+)?$ ]] && [ "$BUSY_NO_RA" = 0 ]; then
    ok "32 x 2,000 valid messages at once: 200, or 503 with Retry-After ($STATUSES, slowest $MAX_S s)"
else
    not_ok "32 x 2,000 valid messages at once: 200, or 503 with Retry-After" "$STATUSES" "${SAMPLE:0:400}"
fi
n200=$(grep -o '^200x[0-9]*' <<<"$STATUSES" | cut -dx -f2)
expect_eq "and every message of the 200s is stored" "$((${n200:-0} * 2000))" "$(($(status_count "$DB_B" messages.accepted) + $(status_count "$DB_B" messages.quarantined)))"
read -r hwm rss < <(rss_mib "$PID_B")
if [ "$hwm" -lt "$RSS_LIMIT_MIB" ]; then
    ok "tend serve peaks at $hwm MiB under the batch attacks (limit $RSS_LIMIT_MIB MiB; $rss MiB after)"
else
    not_ok "tend serve stays under $RSS_LIMIT_MIB MiB under the batch attacks" "peak $hwm MiB, now $rss MiB"
fi

# A wrong key in the Basic header is refused before the body: with
# Expect: 100-continue the client never sends it.
$PY -c 'print("{\"batch\":[" + ",".join(["0"]*200000) + "]}")' >"$T/zeros.json"
r=$(curl -s -o "$T/early.out" -w '%{http_code} %{size_upload}' -u wrongkey: -X POST "$URL_B/v1/batch" \
    -H 'Content-Type: application/json' -H 'Expect: 100-continue' --expect100-timeout 10 \
    --data-binary "@$T/zeros.json" --max-time 20)
expect_eq "a wrong Basic key gets 401 before the body is sent (status, bytes uploaded)" "401 0" "$r"
r=$(curl -s -w ' %{http_code}' -u wrongkey: -X POST "$URL_B/v1/batch" -H 'Content-Type: application/json' \
    --data-binary '{"batch":[]}' --max-time 20)
expect_eq "and a small body with a wrong Basic key still reads its 401" '{"success":false,"error":"unknown write key"} 401' "$r"

# One status table: INVALID 400, LIMIT 413 on ingest.
r=$(curl -s -o /dev/null -w '%{http_code}' -u testkey: -X POST "$URL_B/v1/track" --data-binary '{"userId":' --max-time 20)
expect_eq "ingest: invalid JSON (INVALID) is 400" 400 "$r"
$PY -c 'import json; print(json.dumps({"batch":[{"type":"track","userId":"u","event":"e","properties":{"p":"x"*1000}}]*600}))' >"$T/over.json"
r=$(curl -s -o /dev/null -w '%{http_code}' -u testkey: -X POST "$URL_B/v1/batch" --data-binary "@$T/over.json" --max-time 20)
expect_eq "ingest: a body over 500 KB (LIMIT) is 413" 413 "$r"

# ---- C. a port in use ---------------------------------------------------------------
"$TEND" generate --accounts 8 --days 40 --end "$(date -u -d tomorrow +%F)" --out "$T/gen.jsonl" 2>"$T/gen.err" &&
    "$TEND" import --db "$T/c.db" "$T/gen.jsonl" >"$T/import.out" 2>&1 ||
    not_ok "test data for the port check" "$(cat "$T/gen.err" "$T/import.out")"
cat >"$T/c.yaml" <<EOF
channels:
  audit:
    type: log
    path: $T/c-notifications.log
EOF
before=$(sha256sum "$T/c.db" | cut -d' ' -f1)
"$TEND" serve --db "$T/c.db" --listen "127.0.0.1:$PORT_B" --write-key k --config "$T/c.yaml" >"$T/c.out" 2>&1
rc=$?
expect_eq "tend serve on a port in use exits 2" 2 "$rc"
expect_contains "it names the address in use" "127.0.0.1:$PORT_B is already in use" "$(cat "$T/c.out")"
if grep -qi 'failed to bind\|port 0' "$T/c.out"; then
    not_ok "without the HTTP library's bind noise" "$(cat "$T/c.out")"
else
    ok "without the HTTP library's bind noise"
fi
after=$(sha256sum "$T/c.db" | cut -d' ' -f1)
runs=$(sqlite3 "$T/c.db" 'SELECT count(*) FROM eval_runs')
rows=$(sqlite3 "$T/c.db" 'SELECT count(*) FROM outbox')
expect_eq "the database is untouched: same bytes, no evaluation, no outbox rows" "$before 0 0" "$after $runs $rows"
"$TEND" serve --db "$T/none.db" --listen "127.0.0.1:$PORT_B" --write-key k >/dev/null 2>&1
if [ -e "$T/none.db" ]; then
    not_ok "no database is created when the port is in use"
else
    ok "no database is created when the port is in use"
fi
kill -TERM "$PID_B"
wait "$PID_B"

# ---- D. log injection; one status table on the API -----------------------------------
DB_D="$T/d.db"
PORT_D=$(free_port)
URL_D="http://127.0.0.1:$PORT_D"
cat >"$T/d.yaml" <<EOF
serve:
  tokens:
    - name: sec
      sha256: "$TOKEN_SHA"
rules:
  custom:
    - name: always
      when: 1 == 1
      title: Always
      type: risk
    - name: broken
      when: trait_nothing > 1
      title: Broken
      type: risk
    - name: quoting
      when: error(trait_note)
      title: Quoting
      type: risk
EOF
start_serve "$DB_D" "$PORT_D" --config "$T/d.yaml" || exit 1
forged='evil\ntend serve: FORGED by a client\r\u001b[2J'
r=$(curl -s -w ' %{http_code}' -u testkey: -X POST "$URL_D/v1/group" -H 'Content-Type: application/json' \
    --data-binary "{\"userId\":\"li-u\",\"groupId\":\"$forged\",\"traits\":{\"name\":\"Injected\"},\"messageId\":\"li-0\"}")
expect_contains "a groupId with a newline is refused, naming the field" 'groupId' "$r"
expect_contains "with 400" ' 400' "$r"
r=$(curl -s -u testkey: -X POST "$URL_D/v1/group" -H 'Content-Type: application/json' \
    --data-binary "{\"userId\":\"li-u\",\"groupId\":\"li-acct\",\"traits\":{\"name\":\"Injected\",\"note\":\"$forged\"},\"messageId\":\"li-1\"}")
expect_contains "a free-text trait with a newline is accepted" '"accepted":1' "$r"
seen=0
for _ in $(seq 300); do
    grep -qF 'evil\ntend serve: FORGED by a client\r\x1b[2J' "$T/serve.log" && seen=1 && break
    sleep 0.1
done
if [ "$seen" = 1 ]; then
    ok "the log shows the trait, quoted by a rule's error, escaped on its line: $(grep -F 'FORGED' "$T/serve.log" | head -1 | cut -c1-160)"
else
    not_ok "the log shows the trait, quoted by a rule's error, escaped on its line" "$(tail -5 "$T/serve.log")"
fi
if grep -q '^tend serve: FORGED' "$T/serve.log" || grep -q $'\x1b' "$T/serve.log"; then
    not_ok "no forged line and no control character in the log" "$(grep -n 'FORGED' "$T/serve.log")"
else
    ok "no forged line and no control character in the log"
fi

cta=""
for _ in $(seq 300); do
    cta=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL_D/api/ctas?status=open" |
        $PY -c 'import json,sys; c=json.load(sys.stdin).get("ctas",[]); print(next((x["id"] for x in c if x.get("rule")=="always"), ""))' 2>/dev/null)
    [ -n "$cta" ] && break
    sleep 0.1
done
if [ -n "$cta" ]; then
    r=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -X POST "$URL_D/api/ctas/$cta/close" -d reason=resolved)
    expect_eq "API: closing an open CTA is 200" 200 "$r"
    r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $TOKEN" -X POST "$URL_D/api/ctas/$cta/close" -d reason=resolved)
    expect_contains "API: closing it again (CONFLICT) is 409" "is closed already\"} 409" "$r"
else
    not_ok "the custom rule opened a CTA to act on" "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL_D/api/ctas?status=all")"
fi
r=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -X POST "$URL_D/api/ctas/1/close" \
    -H 'Content-Type: application/json' --data-binary '{"reason":')
expect_eq "API: an invalid JSON body is 400" 400 "$r"
head -c 70000 /dev/zero | tr '\0' 'x' >"$T/big-form"
r=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -X POST "$URL_D/api/ctas/1/close" \
    --data-binary "@$T/big-form")
expect_eq "API: a body over 64 KiB (LIMIT) is 413, as on ingest" 413 "$r"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"

# ---- E. clients that stop sending ------------------------------------------------------
# A client that sends part of a request and then half-closes (shutdown(SHUT_WR))
# or closes can never finish it: the server closes such a connection at once,
# as it notices the end of the client's stream, not at the request's deadline
# (10-30 s later), so a peer that goes away does not hold a connection slot.
# Each case is sent twice: written and then half-closed (two TCP segments), and
# corked so that the last bytes and the FIN arrive in one segment (the case the
# HTTP library's edge-triggered event loop misses on its own). A client that is
# only slow keeps its connection, and is answered when it finishes.
DB_E="$T/e.db"
PORT_E=$(free_port)
start_serve "$DB_E" "$PORT_E" --no-eval || exit 1
cat >"$T/halfclose.py" <<'PY'
"""Half-closed and closed requests against tend serve: prints one line per
case, "KIND|CASE|MODE|OUTCOME|SECONDS|ANSWER". KIND incomplete: OUTCOME is
"ended" when the server closed within LIMIT_S, else "open"; complete:
"answered N" (N 200 answers) when it closed within LIMIT_S, else "open"; slow
(clients that stay open): "open, then answered" when still open after LIMIT_S
+ 1 s and answered once they finish (MODE: the age then)."""
import socket, sys, threading, time

port, LIMIT_S = int(sys.argv[1]), float(sys.argv[2])
INCOMPLETE = [
    ("request line", b"GET /heal"),
    ("headers of a sign-in", b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: app"),
    ("headers of /healthz", b"GET /healthz HTTP/1.1\r\nHost: x"),
    ("ingest body, 1 of 100 bytes", b"POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"),
    ("ingest body, none of 100 bytes", b"POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"),
    ("chunked body, cut in a chunk", b"POST /v1/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n{\"type\""),
]
COMPLETE = [
    ("GET /healthz", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("an ingest POST", b"POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dGVzdGtleTo=\r\n"
     b"Content-Type: application/json\r\nContent-Length: 55\r\n\r\n"
     b'{"userId":"hc-u","event":"HalfClosed","messageId":"hc"}'),
]


def connect():
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def send_and_end(s, data, mode):
    if mode == "corked":  # the data and the FIN leave in one segment
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    s.sendall(data)
    if mode == "client-closed":
        s.close()
    else:
        s.shutdown(socket.SHUT_WR)


def read_to_close(s, limit):
    """(closed by the server?, bytes answered) within limit seconds."""
    s.settimeout(0.05)
    got, until = b"", time.monotonic() + limit
    while time.monotonic() < until:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True, got
        if not d:
            return True, got
        got += d
    return False, got


def server_side_open(client_port):
    """Whether the server still holds its end of the connection from client_port
    (/proc/net/tcp: local PORT, remote client_port, any state but TIME_WAIT)."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if (int(f[1].split(":")[1], 16) == port and int(f[2].split(":")[1], 16) == client_port
                    and f[3] != "06"):
                return True
    return False


# Slow clients that stay open, started first; a thread judges them LIMIT_S + 1
# seconds later, while the cases below come and go beside them.
slow = []
for name, first, rest in [
        ("request line", b"GET /heal", b"thz HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("ingest body", b"POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dGVzdGtleTo=\r\n"
         b"Content-Type: application/json\r\nContent-Length: 51\r\n\r\n{\"userId\":\"hc-s\",",
         b'"event":"Slow","messageId":"hc-s"}')]:
    s = connect()
    s.sendall(first)
    slow.append((name, s, rest, time.monotonic()))
slow_results = []


def judge_slow():
    for name, s, rest, t0 in slow:
        while time.monotonic() - t0 < LIMIT_S + 1:
            time.sleep(0.05)
        s.setblocking(False)
        try:
            s.recv(1, socket.MSG_PEEK)  # data or end of file: the server acted
            still = False
        except BlockingIOError:
            still = True
        except OSError:
            still = False
        age = time.monotonic() - t0
        got = b""
        if still:
            s.setblocking(True)
            s.settimeout(30)
            s.sendall(rest)
            try:
                got = s.recv(65536)
            except OSError:
                pass
            outcome = "open, then answered" if got.startswith(b"HTTP/1.1 200 ") else "open, no answer"
        else:
            outcome = "closed early"
        s.close()
        slow_results.append(f"slow|{name}|{age:.3f}|{outcome}|{age:.3f}|{got[:60]!r}")


judge = threading.Thread(target=judge_slow)
judge.start()

for name, data in INCOMPLETE:
    for mode in ("written", "corked", "client-closed"):
        s = connect()
        client_port = s.getsockname()[1]
        t0 = time.monotonic()
        send_and_end(s, data, mode)
        if mode == "client-closed":
            closed = False
            while time.monotonic() - t0 < LIMIT_S:
                if not server_side_open(client_port):
                    closed = True
                    break
                time.sleep(0.02)
            got = b""
        else:
            closed, got = read_to_close(s, LIMIT_S)
            s.close()
        print(f"incomplete|{name}|{mode}|{'ended' if closed else 'open'}|{time.monotonic() - t0:.3f}|"
              f"{got[:60]!r}", flush=True)

for name, data in COMPLETE:
    for mode in ("written", "corked"):
        s = connect()
        t0 = time.monotonic()
        send_and_end(s, data, mode)
        closed, got = read_to_close(s, LIMIT_S)
        s.close()
        outcome = f"answered {got.count(b'HTTP/1.1 200 ')}" if closed else "open"
        print(f"complete|{name}|{mode}|{outcome}|{time.monotonic() - t0:.3f}|{got[:60]!r}", flush=True)

judge.join()
for line in slow_results:
    print(line, flush=True)
PY
LIMIT_E=3
$PY "$T/halfclose.py" "$PORT_E" "$LIMIT_E" >"$T/halfclose.out" 2>&1
# field LINES N: the Nth |-separated field of each line, on one line.
fields() { cut -d'|' -f"$1" | tr '\n' ' '; }
closed=$(grep -c '^incomplete|.*|ended|' "$T/halfclose.out")
times=$(grep '^incomplete|.*|ended|' "$T/halfclose.out" | fields 5)
slowest=$(printf '%s\n' $times | sort -g | tail -1)
if [ "$closed" = 18 ]; then
    ok "6 incomplete requests x (half-closed, half-closed in one segment, closed): each connection closed within $LIMIT_E s (slowest ${slowest:-?} s; seconds: $times)"
else
    not_ok "6 incomplete requests x (half-closed, half-closed in one segment, closed): each connection closed within $LIMIT_E s" \
        "$closed of 18 closed; open after $LIMIT_E s:" "$(grep '^incomplete|.*|open|' "$T/halfclose.out")"
fi
answered=$(grep -c '^complete|.*|answered 1|' "$T/halfclose.out")
if [ "$answered" = 4 ]; then
    ok "a complete request (GET /healthz, an ingest POST), then half-closed: answered 200 and closed (seconds: $(grep '^complete|' "$T/halfclose.out" | fields 5))"
else
    not_ok "a complete request (GET /healthz, an ingest POST), then half-closed: answered 200 and closed" \
        "$answered of 4:" "$(grep '^complete|' "$T/halfclose.out")"
fi
slow_ok=$(grep -c '^slow|.*|open, then answered|' "$T/halfclose.out")
if [ "$slow_ok" = 2 ]; then
    ok "slow clients that stay open (request line, ingest body) are not closed early: open after $(grep '^slow|' "$T/halfclose.out" | fields 3)s, then answered 200"
else
    not_ok "slow clients that stay open (request line, ingest body) are not closed early" \
        "$(grep '^slow|' "$T/halfclose.out")" "all: $(cat "$T/halfclose.out")"
fi
# A request line with 3,000 query arguments: more than a connection's 32 KiB of
# buffers hold. libmicrohttpd queues a 431, fails again on the next header, and
# closes the connection without telling tend that the request ended; the
# request (and its count of requests in flight) must end anyway, or it stays
# in memory and tend serve waits for it at shutdown (30 s).
flood=$($PY - "$PORT_E" <<'PY'
import socket, sys
for i in range(3):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /healthz?" + b"a&" * 3000 + b" HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n")
    s.shutdown(socket.SHUT_WR)
    s.settimeout(30)
    try:
        while s.recv(65536):
            pass
        print("closed", end=" ")
    except OSError as e:
        print(repr(e), end=" ")
PY
)
expect_eq "3 request lines with 3,000 query arguments: closed" "closed closed closed " "$flood"
stop_start=$(date +%s.%N)
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
rc=$?
stop_s=$(awk -v a="$stop_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
expect_eq "tend serve stops with status 0 after the half-closed clients" 0 "$rc"
# Nothing is in flight any more: the stop does not wait for requests that
# ended unannounced (it would wait its 30 s for them).
if awk -v s="$stop_s" 'BEGIN { exit !(s < 15) }'; then
    ok "and at once, no request left in flight ($stop_s s)"
else
    not_ok "and at once, no request left in flight" "it took $stop_s s" "$(tail -5 "$T/serve.log")"
fi
