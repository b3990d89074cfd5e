#!/usr/bin/env bash
# Delivery by several dispatchers on one PostgreSQL database (issue 17,
# docs/delivery.md "Several nodes"): two `tend deliver` processes started at
# the same moment on one outbox, against local receivers (receiver.py):
#   - every row is sent once (no request twice, none missing), whichever
#     process took it;
#   - one Slack webhook gets its messages at least slack_interval_seconds
#     apart although two processes send to it;
#   - a row left `sending` by a node that died (its lease over) is re-sent,
#     counted in resends; one under a live lease (a node still sending it) is
#     left alone.
# The rows are written with psql (the outbox is this test's subject, not how
# evaluations fill it). Skipped (not_ok) when no PostgreSQL server is
# installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
RECEIVER="$ROOT/tests/integration/receiver.py"
INTERVAL=0.2

if ! pg_start 2>"$T/pg_start.err"; then
    not_ok "a throwaway PostgreSQL cluster starts" "$(cat "$T/pg_start.err")"
    exit 0
fi
URL=$PG_URL

echo '{"default_delay_ms": [20, 60]}' >"$T/http.script.json"
$PY "$RECEIVER" http --port-file "$T/http.port" --log "$T/http.jsonl" \
    --script "$T/http.script.json" 2>>"$T/http.err" &
RPID=$!
PIDS+=("$RPID")
for _ in $(seq 100); do
    [ -s "$T/http.port" ] && break
    sleep 0.1
done
if [ ! -s "$T/http.port" ]; then
    not_ok "the HTTP receiver starts" "$(cat "$T/http.err")"
    exit 0
fi
HTTP=$(cat "$T/http.port")

cat >"$T/pg.yaml" <<EOF
{"delivery": {"max_age_days": 100000, "timeout_seconds": 5, "slack_interval_seconds": $INTERVAL},
 "channels": {
   "slack": {"type": "slack", "url": "http://127.0.0.1:$HTTP/slack/pg"},
   "hook": {"type": "webhook", "url": "http://127.0.0.1:$HTTP/hook/pg", "secret": "k"}}}
EOF

# The schema: any command that opens the store migrates it.
if out=$("$TEND" outbox --db "$URL" 2>&1); then
    ok "tend outbox opens a PostgreSQL database (schema made)"
else
    not_ok "tend outbox opens a PostgreSQL database (schema made)" "$out"
    exit 0
fi

SLACK_ROWS=8
HOOK_ROWS=16
NOW_MS=$($PY -c 'import time; print(int(time.time() * 1000))')
SNAP='{"cta": {"id": 1, "title": "Usage fell", "priority": "high", "owner": "o@x"}, "account": {"id": "acme", "name": "Acme"}}'
if ! pg_psql "
    INSERT INTO notifications (cta_id, event, day, created_ms, snapshot)
      SELECT g, 'open', 20000, 1000, '$SNAP'::jsonb FROM generate_series(1, $HOOK_ROWS + 2) g;
    INSERT INTO outbox (notification_id, channel, target, owner, status, next_at_ms, created_ms, rank)
      SELECT id, 'slack', '', 'o@x', 'pending', 1000, 1000, 0 FROM notifications WHERE cta_id <= $SLACK_ROWS;
    INSERT INTO outbox (notification_id, channel, target, owner, status, next_at_ms, created_ms, rank)
      SELECT id, 'hook', '', 'o@x', 'pending', 1000, 1000, 1 FROM notifications WHERE cta_id <= $HOOK_ROWS;
    INSERT INTO outbox (notification_id, channel, target, owner, status, attempts, next_at_ms, created_ms,
                        rank, locked_until_ms, gate)
      SELECT id, 'hook', '', 'o@x', 'sending', 1, 1000, 1000, 1,
             CASE cta_id WHEN $HOOK_ROWS + 1 THEN 2000 ELSE $NOW_MS + 3600000 END, 'hook '
        FROM notifications WHERE cta_id > $HOOK_ROWS;" >"$T/psql.out" 2>&1; then
    not_ok "the outbox rows are written" "$(cat "$T/psql.out")"
    exit 0
fi
DEAD_ID=$(pg_psql "SELECT o.id FROM outbox o JOIN notifications n ON n.id = o.notification_id WHERE n.cta_id = $HOOK_ROWS + 1")
LIVE_ID=$(pg_psql "SELECT o.id FROM outbox o JOIN notifications n ON n.id = o.notification_id WHERE n.cta_id = $HOOK_ROWS + 2")

# Two dispatchers at once.
"$TEND" deliver --db "$URL" --config "$T/pg.yaml" --wait 2 >"$T/a.out" 2>"$T/a.err" &
A=$!
"$TEND" deliver --db "$URL" --config "$T/pg.yaml" --wait 2 >"$T/b.out" 2>"$T/b.err" &
B=$!
wait "$A"
RA=$?
wait "$B"
RB=$?
if [ "$RA" -eq 0 ] && [ "$RB" -eq 0 ]; then
    ok "two tend deliver at once on one PostgreSQL outbox both end well ($(cat "$T/a.out") | $(cat "$T/b.out"))"
else
    not_ok "two tend deliver at once on one PostgreSQL outbox both end well" \
        "exit $RA: $(cat "$T/a.out" "$T/a.err")" "exit $RB: $(cat "$T/b.out" "$T/b.err")"
fi

pg_psql "SELECT id, status, attempts, resends FROM outbox ORDER BY id" >"$T/rows.txt"
$PY - "$T/http.jsonl" "$T/rows.txt" "$SLACK_ROWS" "$HOOK_ROWS" "$INTERVAL" "$DEAD_ID" "$LIVE_ID" \
    "$T/a.out" "$T/b.out" <<'PY'
import json, re, sys
log, rows_txt, slack_rows, hook_rows, interval, dead_id, live_id, a_out, b_out = sys.argv[1:]
slack_rows, hook_rows, interval = int(slack_rows), int(hook_rows), float(interval)
reqs = [json.loads(l) for l in open(log) if l.strip()]
rows = {}
for line in open(rows_txt):
    i, status, attempts, resends = line.strip().split("|")
    rows[int(i)] = (status, int(attempts), int(resends))

def report(name, good, detail=""):
    print(("ok - " if good else "not ok - ") + name)
    if not good and detail:
        print("    " + str(detail))

slack = sorted((r for r in reqs if r["path"] == "/slack/pg"), key=lambda r: r["t"])
hooks = [r for r in reqs if r["path"] == "/hook/pg"]
keys = lambda rs: [m for r in rs for m in set(re.findall(r"tend-\d+-[0-9a-f]{8}", r.get("body", "")))]
slack_keys = keys(slack)
hook_keys = [ {k.lower(): v for k, v in r["headers"].items()}.get("idempotency-key") for r in hooks]
report(f"each of the {slack_rows} Slack rows reached the webhook exactly once across both dispatchers",
       len(slack) == slack_rows and len(set(slack_keys)) == slack_rows, slack_keys)
report(f"each of the {hook_rows + 1} webhook rows (one recovered) arrived exactly once",
       len(hooks) == hook_rows + 1 and len(set(hook_keys)) == hook_rows + 1, hook_keys)
gaps = [round(b["t"] - a["t"], 3) for a, b in zip(slack, slack[1:])]
report(f"one Slack webhook, two dispatchers: arrivals never less than {interval} s apart "
       f"(shortest {min(gaps) if gaps else None} s, gaps {gaps})",
       bool(gaps) and min(gaps) >= interval - 0.002, gaps)
live = rows.get(int(live_id))
dead = rows.get(int(dead_id))
report("a row under a live lease (a node still sending it) is left alone", live == ("sending", 1, 0), live)
report("a row whose lease ended (its node died) is re-sent, counted in resends",
       dead is not None and dead[0] == "sent" and dead[2] == 1, dead)
others = {i: r for i, r in rows.items() if i not in (int(live_id), int(dead_id))}
report(f"every other row is sent once ({len(others)} rows, one attempt each, no resend)",
       all(r == ("sent", 1, 0) for r in others.values()),
       {i: r for i, r in others.items() if r != ("sent", 1, 0)})
sent = [int(m.group(1)) if m else -1
        for m in (re.search(r"sent (\d+)", open(f).read()) for f in (a_out, b_out))]
print(f"# rows sent by each dispatcher: {sent}")
report("the two dispatchers' counts add up to the rows sent",
       sum(sent) == slack_rows + hook_rows + 1, sent)
PY
kill "$RPID" 2>/dev/null
wait "$RPID" 2>/dev/null
pg_stop
