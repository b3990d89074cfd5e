#!/usr/bin/env bash
# cluster.sh: three `tend serve` nodes on one PostgreSQL database
# (docs/operations.md, "Several nodes"), clients streaming batches to all
# three, the schedule forced every few seconds, and kill -9 of the nodes
# (the scheduler lease's holder every other time) with restarts. Then:
#   - every message that got a 200 is stored exactly once;
#   - no two live CTAs share a key;
#   - every scheduled time got exactly one run, each run completed once,
#     its buckets all done (some claimed again after a node died);
#   - every outbox row was sent, and a message arrived twice only under one
#     key with a resend recorded;
#   - after each kill of the holder another node held the lease within the
#     lease's time (and its renewal period).
# Test hooks (announced in each node's log): TEND_TEST_SCHEDULE_EVERY_S (a
# scheduled time every few seconds instead of once a day),
# TEND_TEST_LEASE_MS (a short lease), TEND_TEST_BUCKET_IDS (small buckets).
# Nothing waits for a time that assumes a speed: each step waits for what
# it can observe (messages acknowledged, a new lease term, runs done), with
# deadlines for a broken case only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

if ! pg_start 2>"$T/pg_start.err"; then
    not_ok "a throwaway PostgreSQL cluster starts" "$(cat "$T/pg_start.err")"
    exit 0
fi
ok "a throwaway PostgreSQL cluster starts on 127.0.0.1:$PG_PORT"
DB=$PG_URL
sql() { pg_psql "$1"; }

PERIOD_S=12       # a scheduled time every 12 s
LEASE_MS=3000     # the lease's time
KILLS=12          # kill -9 of a node, half of them the lease's holder
ACCOUNTS=60       # accounts the clients write to
export TEND_CLUSTER_SESSION_KEY=cluster-test-session-key-of-every-node
export TEND_TEST_SCHEDULE_EVERY_S=$PERIOD_S TEND_TEST_LEASE_MS=$LEASE_MS TEND_TEST_BUCKET_IDS=8
pin_clock_at_noon

# ---- the webhook receiver --------------------------------------------------------------
echo '{}' >"$T/hook.script.json"
$PY "$ROOT/tests/integration/receiver.py" http --port-file "$T/hook.port" --log "$T/hook.jsonl" \
    --script "$T/hook.script.json" 2>>"$T/hook.err" &
PIDS+=($!)
wait_for 60 test -s "$T/hook.port"
HOOK_PORT=$(cat "$T/hook.port" 2>/dev/null)
[ -n "$HOOK_PORT" ] || {
    not_ok "the webhook receiver starts" "$(cat "$T/hook.err")"
    exit 0
}
: >>"$T/hook.jsonl"

cat >"$T/tend.yaml" <<EOF
serve:
  timezone: UTC
  daily_at: "00:01"
  session_key_env: TEND_CLUSTER_SESSION_KEY
delivery:
  timeout_seconds: 30
channels:
  crm:
    type: webhook
    url: http://127.0.0.1:$HOOK_PORT/hook
    secret: cluster-test-secret
routes:
  - to: [crm]
EOF

# ---- the nodes -------------------------------------------------------------------------
# Every node must sign sessions with the same key: without serve.session_key_env a
# node on PostgreSQL refuses to start (a key file of its own would sign sessions the
# others reject).
sed '/session_key_env/d' "$T/tend.yaml" >"$T/nokey.yaml"
out=$(timeout 60 "$TEND" serve --db "$DB" --listen "127.0.0.1:$(free_port)" --write-key testkey \
    --config "$T/nokey.yaml" 2>&1)
rc=$?
expect_eq "a node on PostgreSQL without serve.session_key_env refuses to start, saying why" \
    "2 yes" "$rc $([[ "$out" == *"set serve.session_key_env"* ]] && echo yes || echo "no: $out")"

PORTS=()
NODE_PID=()
for i in 0 1 2; do PORTS[$i]=$(free_port); done

# start_node I: starts node I and waits until it answers /healthz.
start_node() {
    local i=$1 port=${PORTS[$1]}
    "$TEND" serve --db "$DB" --listen "127.0.0.1:$port" --write-key testkey \
        --config "$T/tend.yaml" >>"$T/node$i.log" 2>&1 &
    NODE_PID[$i]=$!
    PIDS+=("${NODE_PID[$i]}")
    local deadline=$(($(date +%s) + 60))
    while kill -0 "${NODE_PID[$i]}" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
        curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$port/healthz" && return 0
        sleep 0.1
    done
    echo "node $i did not start:" >&2
    tail -20 "$T/node$i.log" >&2
    return 1
}

for i in 0 1 2; do
    if ! start_node "$i" 2>"$T/start.err"; then
        not_ok "three tend serve nodes start on one PostgreSQL database" "$(cat "$T/start.err")"
        exit 0
    fi
done
ok "three tend serve nodes start on one PostgreSQL database"

# ---- the clients ------------------------------------------------------------------------
cat >"$T/client.py" <<'PY'
"""Streams batches to the nodes (each thread starting at another, moving on
to the next node when one fails or answers other than 200, with the same
batch: dedup keeps it once) until STOP_FILE exists; appends every message
of a batch answered 200 to ACKED. Every 8th batch carries an NPS detractor
for one account (an event rule: a CTA and its notification).

usage: client.py PORTS(a,b,c) KEY ACKED STOP_FILE ACCOUNTS"""
import base64
import http.client
import json
import os
import random
import sys
import threading
import time

ports = [int(p) for p in sys.argv[1].split(",")]
key, acked_path, stop_file, accounts = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
auth = "Basic " + base64.b64encode((key + ":").encode()).decode()
lock = threading.Lock()
acked = open(acked_path, "a")
deadline = time.time() + 900  # a bound for a broken case


def send(node, body):
    try:
        c = http.client.HTTPConnection("127.0.0.1", ports[node], timeout=60)
        c.request("POST", "/v1/batch", body, {"Authorization": auth,
                                              "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status
    except OSError:
        return None


def worker(tid):
    rnd = random.Random(tid)
    node, n, b = tid % len(ports), 0, 0
    while not os.path.exists(stop_file) and time.time() < deadline:
        seqs, batch = [], []
        for _ in range(20):
            seq = f"c{tid}-{n}"
            n += 1
            a = rnd.randrange(accounts)
            seqs.append(seq)
            batch.append({"type": "track", "userId": f"cl-u{a}", "event": "Cluster Event",
                          "messageId": "m-" + seq, "context": {"groupId": f"cl-acct-{a}"},
                          "properties": {"seq": seq}})
        b += 1
        if b % 8 == 0:
            a = rnd.randrange(accounts)
            batch.append({"type": "track", "userId": f"cl-u{a}", "event": "NPS Survey Responded",
                          "messageId": f"nps-{tid}-{b}", "context": {"groupId": f"cl-acct-{a}"},
                          "properties": {"score": 2, "comment": "slow exports"}})
        body = json.dumps({"batch": batch})
        for attempt in range(60):
            status = send(node, body)
            if status == 200:
                with lock:
                    acked.write("\n".join(seqs) + "\n")
                    acked.flush()
                break
            node = (node + 1) % len(ports)  # this one is down: the next
            if attempt >= len(ports) - 1:
                time.sleep(0.2)  # all down at once: wait for a restart
        node = (node + 1) % len(ports)


# The accounts first (a track of an account not known yet is quarantined),
# ten to a CSM: the weekly budget (10 new CTAs per owner) holds none back.
groups = [{"type": "group", "userId": f"cl-u{a}", "groupId": f"cl-acct-{a}",
           "messageId": f"grp-{a}", "traits": {"name": f"Cluster {a}", "plan": "pro",
                                                  "csm_email": f"csm{a % 6}@cluster.test"}}
          for a in range(accounts)]
while send(0, json.dumps({"batch": groups})) != 200 and time.time() < deadline:
    time.sleep(0.2)

threads = [threading.Thread(target=worker, args=(t,)) for t in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
acked.close()
PY
: >"$T/acked"
$PY "$T/client.py" "${PORTS[0]},${PORTS[1]},${PORTS[2]}" testkey "$T/acked" "$T/stop" "$ACCOUNTS" \
    2>"$T/client.err" &
CLIENT=$!
PIDS+=("$CLIENT")

acked_at_least() { [ "$(wc -l <"$T/acked")" -ge "$1" ]; }
# holder_pid: the pid of the lease's holder now (its node id is host:pid:random), or empty.
holder_pid() {
    sql "SELECT split_part(holder, ':', 2) FROM leases WHERE name = 'scheduler'
         AND expires_ms > (extract(epoch FROM clock_timestamp()) * 1000)::bigint
                          + ${TEND_TEST_CLOCK_OFFSET_S:-0} * 1000" 2>/dev/null
}
lease_term() { sql "SELECT coalesce(max(term), 0) FROM leases WHERE name = 'scheduler'" 2>/dev/null; }
# a new holder with a term above $1, alive
taken_over() {
    local t
    t=$(lease_term)
    [ -n "$t" ] && [ "$t" -gt "$1" ] && [ -n "$(holder_pid)" ]
}
runs_done() { sql "SELECT count(*) FROM sched_runs WHERE done_ms IS NOT NULL" 2>/dev/null || echo 0; }
runs_done_above() { [ "$(runs_done)" -gt "$1" ]; }

wait_for 120 acked_at_least 200 || not_ok "the clients' first messages are acknowledged" "$(tail -5 "$T/client.err")"
wait_for 120 taken_over 0 || not_ok "a node takes the scheduler lease" "$(tail -5 "$T/node0.log")"

# ---- kill -9, restart --------------------------------------------------------------------
kills=0
holder_kills=0
max_takeover_ms=0
takeovers=""
for k in $(seq 1 $KILLS); do
    # progress first: some messages and, every third kill, a run completed
    want=$(($(wc -l <"$T/acked") + 100 + RANDOM % 300))
    wait_for 120 acked_at_least "$want" || true
    if [ $((k % 3)) = 0 ]; then
        wait_for 120 runs_done_above "$(runs_done)" || true
    fi
    victim=$((RANDOM % 3))
    term=$(lease_term)
    if [ $((k % 2)) = 1 ]; then
        hp=$(holder_pid)
        for i in 0 1 2; do [ "${NODE_PID[$i]}" = "$hp" ] && victim=$i; done
    fi
    was_holder=0
    [ "${NODE_PID[$victim]}" = "$(holder_pid)" ] && was_holder=1
    t0=$(date +%s%N)
    kill -9 "${NODE_PID[$victim]}" 2>/dev/null && kills=$((kills + 1))
    wait "${NODE_PID[$victim]}" 2>/dev/null
    if [ "$was_holder" = 1 ]; then
        holder_kills=$((holder_kills + 1))
        if wait_for 60 taken_over "$term"; then
            ms=$((($(date +%s%N) - t0) / 1000000))
            takeovers="$takeovers $ms"
            [ "$ms" -gt "$max_takeover_ms" ] && max_takeover_ms=$ms
        else
            takeovers="$takeovers never"
            max_takeover_ms=999999
        fi
    fi
    echo "# kill $k: node $victim (pid ${NODE_PID[$victim]}$([ "$was_holder" = 1 ] && echo ", the lease's holder")), $(wc -l <"$T/acked") messages acked so far"
    start_node "$victim" 2>>"$T/start.err" || not_ok "node $victim restarts after kill $k" "$(tail -5 "$T/start.err")"
done
touch "$T/stop"
wait "$CLIENT"
expect_eq "kill -9 of a node, $KILLS times, with restarts (the lease's holder $holder_kills times)" \
    "$KILLS" "$kills"

# ---- the last scheduled time after the stream, then everything settles ------------------------
last_due=$(sql "SELECT coalesce(max(due_ms), 0) FROM sched_runs")
newer_run() { [ "$(sql "SELECT count(*) FROM sched_runs WHERE due_ms > $last_due")" -gt 0 ]; }
wait_for $((PERIOD_S * 5 + 60)) newer_run || not_ok "a scheduled time after the stream gets its run"
all_done() {
    [ "$(sql "SELECT count(*) FROM sched_buckets WHERE done_ms IS NULL")" = 0 ] &&
        [ "$(sql "SELECT count(*) FROM sched_runs WHERE done_ms IS NULL")" = 0 ]
}
wait_for 180 all_done || not_ok "every planned run is complete" \
    "$(sql "SELECT due_ms, bucket, claimed_by, claimed_until, attempts FROM sched_buckets WHERE done_ms IS NULL LIMIT 10")"
outbox_settled() {
    [ "$(sql "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")" = 0 ]
}
wait_for 180 outbox_settled || not_ok "the outbox is drained" \
    "$(sql "SELECT status, count(*) FROM outbox GROUP BY status")"

# ---- every acknowledged message stored exactly once ------------------------------------------
sql "SELECT props->>'seq' FROM events WHERE kind = 0 AND props ? 'seq'" | sort >"$T/stored"
sort -u "$T/acked" >"$T/acked.sorted"
acked_n=$(wc -l <"$T/acked.sorted")
stored_n=$(wc -l <"$T/stored")
lost=$(comm -23 "$T/acked.sorted" "$T/stored" | wc -l)
dups=$(uniq -d "$T/stored" | wc -l)
expect_eq "every acknowledged message is stored ($acked_n acknowledged, $stored_n stored; lost)" 0 "$lost"
expect_eq "and none twice" 0 "$dups"

# ---- CTAs -------------------------------------------------------------------------------------
live=$(sql "SELECT count(*) FROM ctas WHERE status IN ('open', 'snoozed')")
dup_live=$(sql "SELECT count(*) FROM (SELECT 1 FROM ctas WHERE status IN ('open', 'snoozed')
                GROUP BY account_id, rule, subject HAVING count(*) > 1) d")
expect_eq "zero duplicate open CTAs ($live open or snoozed)" 0 "$dup_live"
check "the detractors opened CTAs" test "${live:-0}" -gt 0

# ---- one full evaluation per scheduled time ----------------------------------------------------
period_ms=$((PERIOD_S * 1000))
read -r runs first_due last_due2 <<<"$(sql "SELECT count(*), min(due_ms), max(due_ms) FROM sched_runs" | tr '|' ' ')"
expected=$(((last_due2 - first_due) / period_ms + 1))
off_grid=$(sql "SELECT count(*) FROM sched_runs WHERE due_ms % $period_ms <> 0")
read -r buckets reclaimed <<<"$(sql "SELECT count(*), coalesce(sum(attempts - 1), 0) FROM sched_buckets" | tr '|' ' ')"
expect_eq "one run per scheduled time, none missed ($runs runs, every $PERIOD_S s, the schedule forced $runs times)" \
    "$expected 0" "$runs $off_grid"
check "the schedule was forced several times" test "$runs" -ge 5
done_runs=$(runs_done)
expect_eq "every run completed ($buckets buckets, $reclaimed claimed again after a node died or its claim ran out)" \
    "$runs" "$done_runs"
# each completion logged once, by the node that completed it
cat "$T"/node*.log | sed -n 's/.*tend serve: evaluated .* (run \([0-9-]*T[0-9:.]*Z\)).*/\1/p' | sort >"$T/completed"
twice=$(uniq -d "$T/completed" | wc -l)
expect_eq "no run completed twice ($(wc -l <"$T/completed") completions logged)" 0 "$twice"
bad_counts=$(sql "SELECT count(*) FROM sched_runs r WHERE accounts <> (SELECT sum(accounts) FROM sched_buckets b WHERE b.due_ms = r.due_ms)")
expect_eq "each run's counts are its buckets' once each" 0 "$bad_counts"

# ---- the outbox -------------------------------------------------------------------------------
"$TEND" outbox --db "$DB" --format json >"$T/outbox.json" 2>"$T/outbox.err" ||
    not_ok "tend outbox --format json" "$(cat "$T/outbox.err")"
$PY - "$T/outbox.json" "$T/hook.jsonl" >"$T/outbox.check" 2>&1 <<'PY'
import json
import sys

rows = json.load(open(sys.argv[1]))
rows = rows if isinstance(rows, list) else rows.get("rows", [])
arrived = {}
for line in open(sys.argv[2]):
    e = json.loads(line)
    if e.get("incomplete"):
        continue
    h = {k.lower(): v for k, v in (e.get("headers") or {}).items()}
    arrived.setdefault(h.get("idempotency-key"), []).append(e)
unsent = [r for r in rows if r.get("status") != "sent"]
missing = [r["key"] for r in rows if r.get("status") == "sent" and not arrived.get(r["key"])]
keys = {r["key"]: r for r in rows}
twice = [k for k, v in arrived.items() if len(v) > 1]
unexplained = [k for k in twice if k not in keys or not (keys[k].get("resends") or 0)
               and (keys[k].get("attempts") or 0) < 2]
stray = [k for k in arrived if k not in keys]
print(len(rows), len(unsent), len(missing), len(twice), len(unexplained), len(stray))
PY
read -r o_rows o_unsent o_missing o_twice o_unexplained o_stray <"$T/outbox.check"
if [ "${o_unsent:-?} ${o_missing:-?}" = "0 0" ]; then
    ok "every outbox row is sent and arrived (${o_rows:-?} rows)"
else
    not_ok "every outbox row is sent and arrived (${o_rows:-?} rows; unsent, never arrived)" \
        "expected: 0 0" "actual:   ${o_unsent:-?} ${o_missing:-?}" \
        "$(sql "SELECT status, count(*), max(last_error), max(attempts) FROM outbox GROUP BY status")" \
        "$(grep -h "delivery" "$T"/node*.log | sort | uniq -c | sort -rn | head -5)"
fi
expect_eq "duplicates only under one key with a resend recorded (${o_twice:-?} keys arrived twice; unexplained, stray)" \
    "0 0" "${o_unexplained:-?} ${o_stray:-?}"
check "the detractors' notifications were sent" test "${o_rows:-0}" -gt 0

# ---- the scheduler back within the lease's time -------------------------------------------------
limit_ms=$((LEASE_MS + LEASE_MS / 3 + 2000))
echo "# takeovers after kill -9 of the holder (ms):$takeovers"
check "after each kill of the holder another node held the lease within ${limit_ms} ms (the lease ${LEASE_MS} ms, renewed every $((LEASE_MS / 3)) ms, 2 s for a loaded machine; slowest ${max_takeover_ms} ms of $holder_kills)" \
    test "$max_takeover_ms" -le "$limit_ms" -a "$holder_kills" -ge $((KILLS / 2))

errors=$(cat "$T"/node*.log | grep -c "failed" || true)
echo "# node log lines with 'failed': $errors"
for i in 0 1 2; do kill "${NODE_PID[$i]}" 2>/dev/null; done
for i in 0 1 2; do wait "${NODE_PID[$i]}" 2>/dev/null; done
pg_stop
