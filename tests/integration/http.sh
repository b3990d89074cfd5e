#!/usr/bin/env bash
# HTTP ingest: tend serve against real HTTP on 127.0.0.1 (issue 2, must show 4).
. "$(dirname "$0")/lib.sh"

DB="$(db http)"
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
start_serve "$DB" "$PORT" || exit 1

# post PATH BODY [CURL ARGS...]: prints "STATUS BODY".
post() {
    local path=$1 body=$2
    shift 2
    curl -s -o "$T/resp" -w '%{http_code}' -X POST "$URL$path" -H 'Content-Type: application/json' \
        --data-binary "$body" "$@"
    echo " $(cat "$T/resp")"
}

# The account first, so the events below attach.
r=$(post /v1/group '{"userId":"h-u1","groupId":"h-acme","timestamp":"2026-09-01T00:00:00Z","messageId":"h1","traits":{"name":"HTTP Acme","mrr":100}}' -u testkey:)
expect_eq "group call with Basic auth is stored" '200 {"success":true,"accepted":1,"duplicates":0,"quarantined":0,"rejected":[]}' "$r"

r=$(post /v1/track '{"userId":"h-u1","event":"Signed In","timestamp":"2026-09-02T00:00:00Z","messageId":"h2"}' -u testkey:)
expect_eq "single track call is accepted and attached through membership" '200 {"success":true,"accepted":1,"duplicates":0,"quarantined":0,"rejected":[]}' "$r"

r=$(post /v1/track '{"userId":"h-u1","event":"Signed In","timestamp":"2026-09-02T00:00:00Z","messageId":"h2"}' -u testkey:)
expect_eq "the same messageId again is a duplicate, still 200" '200 {"success":true,"accepted":0,"duplicates":1,"quarantined":0,"rejected":[]}' "$r"

for t in identify page screen alias; do
    case $t in
    identify) b='{"userId":"h-u1","traits":{"email":"u1@h.example"},"messageId":"h-id"}' ;;
    page) b='{"userId":"h-u1","name":"Home","messageId":"h-page"}' ;;
    screen) b='{"anonymousId":"anon-1","name":"Home","context":{"groupId":"h-acme"},"messageId":"h-screen"}' ;;
    alias) b='{"userId":"h-u1","previousId":"anon-1","messageId":"h-alias"}' ;;
    esac
    r=$(post "/v1/$t" "$b" -u testkey:)
    expect_contains "/v1/$t is accepted" '200 {"success":true,"accepted":1' "$r"
done

# writeKey in the body instead of the header, batch-level context merged.
r=$(post /v1/batch '{"writeKey":"testkey","context":{"groupId":"h-acme"},"batch":[
  {"type":"track","userId":"h-u2","event":"Report Exported","messageId":"h3","timestamp":"2026-09-03T00:00:00Z"},
  {"type":"track","event":"No User","messageId":"h4"},
  {"type":"track","userId":"h-u2","event":"NPS Survey Responded","properties":{"score":"ten"},"messageId":"h5"},
  {"type":"identify","userId":"h-u2","traits":{"company_id":"h-acme"},"messageId":"h6"}]}')
expect_eq "batch stores the valid messages and names each rejected index" \
    '200 {"success":true,"accepted":2,"duplicates":0,"quarantined":0,"rejected":[{"index":1,"error":"userId: a userId or an anonymousId is required"},{"index":2,"error":"properties.score: must be an integer from 0 to 10, got \"ten\""}]}' "$r"

r=$(post /v1/batch '{"batch":[]}' -u wrongkey:)
expect_eq "wrong write key gets 401" '401 {"success":false,"error":"unknown write key"}' "$r"
r=$(post /v1/batch '{"batch":[]}')
expect_eq "missing write key gets 401" '401 {"success":false,"error":"missing write key"}' "$r"
r=$(post /v1/batch '{"writeKey":"nope","batch":[]}')
expect_eq "wrong writeKey in the body gets 401" '401 {"success":false,"error":"unknown write key"}' "$r"

$PY - "$T/big.json" 600000 <<'PY'
import json, sys
path, size = sys.argv[1], int(sys.argv[2])
msgs, n = [], 0
while n < size:
    m = {"type": "track", "userId": "big", "event": "Big", "messageId": f"big-{len(msgs)}",
         "properties": {"pad": "x" * 1000}}
    msgs.append(m)
    n += 1100
open(path, "w").write(json.dumps({"batch": msgs}))
PY
r=$(post /v1/batch "@$T/big.json" -u testkey:)
expect_contains "a request over 500 KB gets 413 naming the limit" '413 {"success":false,"error":"request body is' "$r"
expect_contains "the 413 names the limit" 'over the limit of 512000' "$r"

big_msg=$($PY -c 'import json; print(json.dumps({"userId":"big","event":"Big","properties":{"pad":"x"*40000}}))')
r=$(post /v1/track "$big_msg" -u testkey:)
expect_eq "a single message over 32 KB gets 400" '400 {"success":false,"error":"message: over the limit of 32768 bytes"}' "$r"

r=$(post /v1/track '{"userId":"h-u1","event":' -u testkey:)
expect_contains "invalid JSON gets 400 naming the position" '400 {"success":false,"error":"invalid JSON at byte' "$r"
r=$(post /v1/track '{"userId":"h-u1","event":"X","timestamp":"yesterday"}' -u testkey:)
expect_eq "a bad timestamp gets 400 naming the field" '400 {"success":false,"error":"timestamp: not an ISO-8601 date-time: \"yesterday\""}' "$r"
r=$(post /v1/nothing '{}' -u testkey:)
expect_eq "an unknown endpoint gets 404" '404 {"success":false,"error":"no such endpoint"}' "$r"
r=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/batch")
expect_eq "GET on an ingest endpoint gets 405" "405" "$r"
r=$(curl -s "$URL/healthz")
expect_eq "healthz answers" '{"ok":true}' "$r"

# Quarantine over HTTP: an unknown user's event waits, a later group call attaches it.
r=$(post /v1/track '{"userId":"h-late","event":"Signed In","messageId":"h7","timestamp":"2026-09-04T00:00:00Z"}' -u testkey:)
expect_contains "an event of an unknown user is quarantined" '"quarantined":1' "$r"
expect_eq "status shows it in quarantine" 1 "$(status_count "$DB" quarantine)"
r=$(post /v1/group '{"userId":"h-late","groupId":"h-late-co","messageId":"h8","timestamp":"2026-09-05T00:00:00Z"}' -u testkey:)
expect_eq "a later group call empties the quarantine" 0 "$(status_count "$DB" quarantine)"
expect_eq "and counts the attachment" 1 "$(status_count "$DB" messages.attached)"
events=$("$TEND" accounts --db "$DB" --format csv | awk -F, '$1 == "h-late-co" { print $NF }')
expect_eq "the attached event counts for its account" 2 "$events"

# Graceful stop.
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
expect_contains "and it says so" "tend serve: stopped" "$(cat "$T/serve.log")"

# Segment's official Node library, unchanged, with its host pointed at tend.
NODE_DIR="$ROOT/tests/integration/segment-node"
# One install at a time: tests/run runs this script on both backends at once.
if command -v node >/dev/null && (cd "$NODE_DIR" && flock . sh -c '[ -d node_modules/@segment/analytics-node ] ||
    npm ci --no-audit --no-fund --loglevel=error' >"$T/npm.log" 2>&1); then
    DB2="$(db sdk)"
    PORT2=$(free_port)
    start_serve "$DB2" "$PORT2" || exit 1
    out=$(cd "$NODE_DIR" && timeout 300 node send.js "http://127.0.0.1:$PORT2" testkey 2>&1)
    expect_eq "Segment's Node library delivers without errors" flushed "$(echo "$out" | tail -1)"
    # The library sends its batches side by side: a track may commit before the
    # group call that makes its user a member, wait in quarantine, and be attached
    # when the group call comes. Stored is accepted or quarantined, none left waiting.
    stored=$(($(status_count "$DB2" messages.accepted) + $(status_count "$DB2" messages.quarantined)))
    expect_eq "every message it sent is stored (accepted, or attached after its group call)" \
        "20 0" "$stored $(status_count "$DB2" quarantine)"
    row=$("$TEND" accounts --db "$DB2" --format csv | grep '^sdk-acme,')
    expect_eq "its group call made the account" "sdk-acme,SDK Acme,growth,990,10,,,,,,,1,19" "$row"
    r=$(cd "$NODE_DIR" && timeout 300 node send.js "http://127.0.0.1:$PORT2" wrongkey 2>&1 | tail -1)
    expect_eq "with a wrong write key the library reports failure" failed "$r"
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID"
else
    not_ok "Segment's Node library could be installed from npm" "$(cat "$T/npm.log" 2>/dev/null)"
fi

# kill -9 under a stream of requests: nothing that got a 200 is lost. Each
# round kills the server once the client has had a chosen number of messages
# answered 200 in it (300 to 1,100, at random), so every kill lands in the
# middle of the stream, whatever the machine's speed.
DB3="$(db kill)"
: >"$T/acked"
# stream_reached N CLIENT: the acked file has N lines, or the client ended.
stream_reached() {
    [ "$(wc -l <"$T/acked")" -ge "$1" ] || ! kill -0 "$2" 2>/dev/null
}
rounds_ok=0
for round in 1 2 3 4 5; do
    PORT3=$(free_port)
    start_serve "$DB3" "$PORT3" || exit 1
    want=$(($(wc -l <"$T/acked") + 300 + RANDOM % 801))
    $PY "$ROOT/tests/integration/stream_client.py" "$PORT3" testkey "$T/acked" 600 "r$round" &
    client=$!
    wait_for 120 stream_reached "$want" "$client"
    alive=0
    kill -0 "$client" 2>/dev/null && alive=1
    kill -9 "$SERVE_PID" 2>/dev/null
    wait "$client"
    wait "$SERVE_PID" 2>/dev/null || true
    got=$(wc -l <"$T/acked")
    echo "# round $round: kill -9 with the stream running after $got messages acked in all (wanted $want)"
    [ "$alive" = 1 ] && [ "$got" -ge "$want" ] && rounds_ok=$((rounds_ok + 1))
done
expect_eq "each kill -9 came while the stream was running, after its round's 200s" 5 "$rounds_ok"
# Each stored track event's properties.seq (events.props: JSON text on
# SQLite, jsonb on PostgreSQL).
if [ "$BACKEND" = sqlite ]; then
    seq_sql="SELECT json_extract(props, '$.seq') FROM events WHERE kind = 0"
else
    seq_sql="SELECT props->>'seq' FROM events WHERE kind = 0"
fi
dbq "$DB3" "$seq_sql" | sort >"$T/stored"
sort -u "$T/acked" >"$T/acked.sorted"
acked_n=$(wc -l <"$T/acked.sorted")
lost=$(comm -23 "$T/acked.sorted" "$T/stored" | wc -l)
expect_eq "kill -9 of tend serve loses none of the $acked_n messages that got a 200 (5 rounds)" 0 "$lost"
dups=$(sort "$T/stored" | uniq -d | wc -l)
expect_eq "and stores none twice" 0 "$dups"
if [ "$BACKEND" = sqlite ]; then
    check "the database is intact after kill -9" test "$(sqlite3 "$DB3" 'PRAGMA integrity_check')" = ok
else
    # The server, not tend, keeps the files: what a killed client leaves is
    # at most an aborted transaction. Every events row reads back whole.
    check "the database answers after kill -9, every stored event readable" \
        test "$(dbq "$DB3" "SELECT count(*) FROM events WHERE props IS NOT NULL")" -ge "$acked_n"
fi
