#!/usr/bin/env bash
# migrate.sh: tend migrate --from tend.db --to postgresql://... (issue 17;
# docs/cli.md, docs/operations.md "Moving from SQLite to PostgreSQL") on a
# throwaway PostgreSQL cluster (pg_lib.sh), and db: in tend.yaml.
#
# A demo database (tend generate, imported, evaluated over a month, with a
# quarantined event and text that COPY must escape) is copied; the counts the
# command prints are checked against the sqlite3 CLI and psql on their own,
# values that COPY could mangle are read back, identities continue past the
# copied ids, the metrics comparison passes, and tend serve on the URL serves
# the accounts. Then what must be refused: a second copy without --force
# (nothing changed), a missing or broken source, an unreachable target
# (its password not shown), a copy that fails in its last table (the
# target left empty), and a column the copy does not know.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
cd "$T" || exit 1

# ---- db: in tend.yaml: --db > TEND_DB > db: > ./tend.db (no server needed) ----
# Each level names a database that does not exist; the error names the one
# chosen.
printf 'db: from-yaml.db\n' >yaml-db.yaml
pick() { env -u TEND_DB "$@" "$TEND" score --config yaml-db.yaml --at 2026-01-01 2>&1 >/dev/null; }
expect_contains "db: in tend.yaml is the database when neither --db nor TEND_DB is given" \
    "from-yaml.db: no such database" "$(pick)"
expect_contains "TEND_DB wins over db:" "from-env.db: no such database" "$(pick TEND_DB=from-env.db)"
expect_contains "--db wins over TEND_DB and db:" "from-flag.db: no such database" \
    "$(TEND_DB=from-env.db "$TEND" score --config yaml-db.yaml --db from-flag.db --at 2026-01-01 2>&1)"
printf 'health: {}\n' >no-db.yaml
expect_contains "without db:, ./tend.db" "tend.db: no such database" \
    "$(env -u TEND_DB "$TEND" score --config no-db.yaml --at 2026-01-01 2>&1)"
printf 'db: [a, b]\n' >bad-db.yaml
out=$("$TEND" score --config bad-db.yaml --at 2026-01-01 2>&1)
rc=$?
expect_eq "db: that is not text exits 2" 2 "$rc"
expect_contains "and is named" "bad-db.yaml: db: must be text" "$out"

# ---- the source: a demo installation ------------------------------------------
"$TEND" generate --accounts 40 --days 90 --end 2026-11-01 --out demo.jsonl 2>/dev/null
# A quarantined event (its account never arrives), and a user whose traits
# hold what COPY's text format escapes (tab, newline, backslash), a double
# of 17 digits and non-ASCII text.
cat >extra.jsonl <<'EOF'
{"type":"track","event":"Ticket Opened","userId":"usr_1","messageId":"m-orphan-1","timestamp":"2026-10-30T10:00:00.000Z","context":{"groupId":"acc_never"},"properties":{"ticket_id":"T-1"}}
{"type":"group","groupId":"acc_00001","userId":"usr_1","messageId":"m-grp-odd","timestamp":"2026-10-31T10:00:00.000Z","traits":{"note":"tab\there\nline two \\ back","mrr":1234.5678901234567,"city":"Zürich"}}
EOF
"$TEND" import --db demo.db demo.jsonl extra.jsonl >import.out 2>&1
"$TEND" eval --db demo.db --from 2026-10-01 --to 2026-10-31 --quiet >eval.out 2>&1
n_events=$(sqlite3 demo.db "SELECT count(*) FROM events")
n_quarantine=$(sqlite3 demo.db "SELECT count(*) FROM quarantine")
n_ctas=$(sqlite3 demo.db "SELECT count(*) FROM ctas")
if [ "$n_events" -gt 10000 ] && [ "$n_quarantine" -ge 1 ] && [ "$n_ctas" -gt 0 ]; then
    ok "the demo database: $n_events events, $n_quarantine quarantined, $n_ctas CTAs"
else
    not_ok "the demo database: events, a quarantined one, CTAs" "$(cat import.out eval.out)"
fi

start=$(date +%s%N)
if ! pg_start 2>pg_start.err; then
    not_ok "a throwaway PostgreSQL cluster starts" "$(cat pg_start.err)"
    exit 0
fi
ok "a throwaway PostgreSQL $(pg_psql 'SHOW server_version') cluster starts in $((($(date +%s%N) - start) / 1000000)) ms"
URL=$PG_URL

# ---- the copy --------------------------------------------------------------------
start=$(date +%s%N)
# The peak RSS of the command, from the kernel's accounting of children.
$PY -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' migrate.rss "$TEND" migrate --from demo.db --to "$URL" --format csv >counts.csv 2>migrate.err
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
rss_mb=$(($(tail -1 migrate.rss) / 1024))
copied=$(grep -o 'tend migrate: [0-9]* rows of [0-9]* tables copied' migrate.err)
if grep -q "row counts equal" migrate.err && [ "$(grep -c ',yes$' counts.csv)" -ge 29 ] &&
    ! grep -q ',NO$' counts.csv; then
    ok "tend migrate copies every table, counts equal ($copied; $ms ms in all, verification included; max RSS $rss_mb MB)"
else
    not_ok "tend migrate copies every table, counts equal" "exit $rc" "$(cat counts.csv migrate.err)"
fi
if [ "$rc" -eq 0 ] && grep -q "metrics as of 2026-10-31: 40 accounts x 23 columns equal" migrate.err &&
    grep -q "stored scores of 2026-10-31: .* equal" migrate.err; then
    ok "and verifies the metrics of every account and the stored scores through the store: $(grep -o 'metrics as of.*' migrate.err)"
else
    not_ok "and verifies the metrics of every account and the stored scores through the store (exit 0)" \
        "exit $rc" "$(tail -5 migrate.err)"
fi
if grep -q "tend migrate: events: $n_events rows in" migrate.err; then
    ok "progress on stderr, a line per table: $(grep 'tend migrate: events:' migrate.err)"
else
    not_ok "progress on stderr, a line per table" "$(cat migrate.err)"
fi

# The counts, read on each side on its own.
same=1
diffs=""
for pair in accounts:accounts users:users memberships:memberships names:names \
    events:events quarantine:quarantine facts:facts scores:scores ctas:ctas \
    cta_history:cta_history activity_windows:activity_windows counters:counters; do
    a=$(sqlite3 demo.db "SELECT count(*) FROM ${pair%%:*}")
    b=$(pg_psql "SELECT count(*) FROM ${pair##*:}")
    [ "$a" = "$b" ] || {
        same=0
        diffs+="${pair%%:*} $a/$b "
    }
done
a=$(sqlite3 demo.db "SELECT count(*) FROM traits")
b=$(pg_psql "SELECT (SELECT count(*) FROM account_traits) + (SELECT count(*) FROM user_traits)")
[ "$a" = "$b" ] || {
    same=0
    diffs+="traits $a/$b "
}
a=$(sqlite3 demo.db "SELECT count(*) FROM events WHERE account_id IS NULL")
b=$(pg_psql "SELECT count(*) FROM events WHERE account_id = 0")
[ "$a" = "$b" ] && [ "$a" -ge 1 ] || {
    same=0
    diffs+="events without account $a/$b "
}
b=$(pg_psql "SELECT count(*) FROM event_keys")
[ "$n_events" = "$b" ] || {
    same=0
    diffs+="event_keys $n_events/$b "
}
if [ "$same" = 1 ]; then
    ok "counts read with sqlite3 and psql agree (traits split in two, events without an account as 0, one key per event)"
else
    not_ok "counts read with sqlite3 and psql agree" "$diffs"
fi

# Values COPY's text format could mangle, and every bit of a double.
a=$(sqlite3 demo.db "SELECT json_extract(traits, '$.note') || '|' || json_extract(traits, '$.city') FROM accounts WHERE external_id = 'acc_00001'")
b=$(pg_psql "SELECT (traits->>'note') || '|' || (traits->>'city') FROM accounts WHERE external_id = 'acc_00001'")
expect_eq "text with a tab, a newline, a backslash and non-ASCII arrives unchanged" "$a" "$b"
a=$(python3 -c "import sqlite3; print(repr(sqlite3.connect('demo.db').execute(\"SELECT mrr FROM accounts WHERE external_id = 'acc_00001'\").fetchone()[0]))")
b=$(pg_psql "SELECT mrr FROM accounts WHERE external_id = 'acc_00001'")
expect_eq "a double keeps every bit (1234.5678901234567)" "$a" "$b"
a=$(sqlite3 demo.db "SELECT sum(cleared), sum(length(evidence)) FROM ctas")
b=$(pg_psql "SELECT sum(cleared::int), sum(length(evidence::text) - (SELECT 0)) FROM ctas" | cut -d'|' -f1)
expect_eq "booleans arrive as booleans (cleared CTAs)" "${a%%|*}" "$b"
a=$(sqlite3 demo.db "SELECT count(*) FROM events e JOIN accounts a ON a.id = e.account_id WHERE a.external_id = 'acc_00007'")
b=$(pg_psql "SELECT count(*) FROM events e JOIN accounts a ON a.id = e.account_id WHERE a.external_id = 'acc_00007'")
expect_eq "ids are kept: an account's events by its id" "$a" "$b"
months=$(pg_psql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")
in_default=$(pg_psql "SELECT count(*) FROM events_default")
if [ "$in_default" = 0 ] && [ "$months" -ge 4 ]; then
    ok "events land in their months' partitions ($months partitions, none in the default)"
else
    not_ok "events land in their months' partitions" "$months partitions, $in_default in the default"
fi
bad=""
for t in accounts users memberships names ctas; do
    max=$(pg_psql "SELECT coalesce(max(id), 0) FROM $t")
    next=$(pg_psql "SELECT nextval(pg_get_serial_sequence('$t', 'id'))")
    [ "$next" -gt "$max" ] || bad+="$t: next $next, max $max; "
done
if [ -z "$bad" ]; then
    ok "identities continue past the copied ids (accounts, users, memberships, names, ctas)"
else
    not_ok "identities continue past the copied ids" "$bad"
fi

# ---- refused: a second copy without --force ------------------------------------
before=$(pg_psql "SELECT count(*) FROM events")
out=$("$TEND" migrate --from demo.db --to "$URL" 2>&1)
rc=$?
after=$(pg_psql "SELECT count(*) FROM events")
if [ "$rc" -eq 2 ] && [[ "$out" == *"the target already holds data (accounts 40, "* ]] &&
    [[ "$out" == *"--force replaces"* ]] && [ "$before" = "$after" ]; then
    ok "a second copy without --force is refused, naming what the target holds, and changes nothing"
else
    not_ok "a second copy without --force is refused, naming what the target holds" "exit $rc" "$out"
fi
"$TEND" migrate --from demo.db --to "$URL" --force >force.out 2>force.err
rc=$?
# (The copy's own verdict; the verification after it is checked once, above.)
if grep -q "row counts equal, replacing what the target held (--force)" force.err &&
    [ "$(pg_psql 'SELECT count(*) FROM events')" = "$n_events" ]; then
    ok "--force replaces it: same counts again"
else
    not_ok "--force replaces it: same counts again" "exit $rc" "$(tail -5 force.err)"
fi

# ---- refused: bad locations ---------------------------------------------------
out=$("$TEND" migrate --from nope.db --to "$URL" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"nope.db: no such database"* ]] && [ ! -e nope.db ]; then
    ok "a missing source is named, exit 2, nothing created"
else
    not_ok "a missing source is named, exit 2, nothing created" "exit $rc" "$out"
fi
echo "not a database" >junk.db
out=$("$TEND" migrate --from junk.db --to "$(pg_createdb junk)" 2>&1)
rc=$?
expect_eq "a source that is not a database exits 2" 2 "$rc"
expect_contains "and is named" "junk.db" "$out"
port=$(free_port)
out=$("$TEND" migrate --from demo.db --to "postgresql://tend:s3cret@127.0.0.1:$port/tend?connect_timeout=10" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"cannot connect to PostgreSQL"*"$port"* ]] &&
    [[ "$out" != *s3cret* ]] && [[ "$out" == *"tend:***@"* ]]; then
    ok "an unreachable target is named with its port, its password not shown"
else
    not_ok "an unreachable target is named with its port, its password not shown" "exit $rc" "$out"
fi
out=$("$TEND" migrate --from demo.db --to other.db 2>&1)
rc=$?
expect_eq "--to that is not a PostgreSQL URL exits 2" 2 "$rc"
expect_contains "and says so" "--to must be a PostgreSQL URL" "$out"
out=$("$TEND" migrate --from demo.db 2>&1)
expect_contains "--to is required" "are both required" "$out"

# ---- a copy that fails late leaves the target empty ---------------------------
cp demo.db late.db
sqlite3 late.db "INSERT INTO risk_by_day (day, account_id, p_churn, model_version, drivers) VALUES (20000, 1, 0.5, 1, 'not json')"
LATE=$(pg_createdb late)
out=$("$TEND" migrate --from late.db --to "$LATE" 2>&1)
rc=$?
left=$("$(pg_bindir)/psql" -X -q -A -t -d "$LATE" -c "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM accounts) + (SELECT count(*) FROM event_keys)")
if [ "$rc" -eq 2 ] && [[ "$out" == *"copying risk_by_day into PostgreSQL: invalid input syntax for type json"* ]] &&
    [[ "$out" == *"line 1"* ]] && [ "$left" = 0 ]; then
    ok "a row PostgreSQL refuses in the last table is named (table, line) and nothing is kept"
else
    not_ok "a row PostgreSQL refuses in the last table is named (table, line) and nothing is kept" \
        "exit $rc, $left rows left" "$out"
fi
out=$("$TEND" migrate --from demo.db --to "$LATE" 2>&1)
expect_eq "the same target then takes a good copy without --force" "row counts equal 40" \
    "$(grep -o 'row counts equal' <<<"$out") $("$(pg_bindir)/psql" -X -q -A -t -d "$LATE" -c 'SELECT count(*) FROM accounts')"

# ---- --verify: an earlier copy checked again, and a difference named ----------
lpsql() { "$(pg_bindir)/psql" -X -q -A -t -d "$LATE" -c "$1"; }
"$TEND" migrate --from demo.db --to "$LATE" --verify >verify.out 2>verify.err
rc=$?
if [ "$rc" -eq 0 ] && grep -q "row counts equal" verify.err && grep -q "40 accounts x 23 columns equal" verify.err; then
    ok "--verify checks an earlier copy: counts and metrics equal, exit 0"
else
    not_ok "--verify checks an earlier copy: counts and metrics equal, exit 0" "exit $rc" "$(cat verify.err)"
fi
# A value that changed after the copy: the metrics read from it differ.
lpsql "UPDATE activity_windows SET logins_7d = logins_7d + 1 WHERE day = (SELECT max(day) FROM activity_windows)"
out=$("$TEND" migrate --from demo.db --to "$LATE" --verify 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" =~ account\ acc_[0-9]+,\ logins_7d:\ ([0-9]+)\ in\ SQLite,\ ([0-9]+)\ in\ PostgreSQL ]] &&
    [ "${BASH_REMATCH[2]}" -eq $((BASH_REMATCH[1] + 1)) ] && [[ "$out" == *"the metrics as of 2026-10-31 differ"* ]]; then
    ok "a metric that differs is named (account, column, both values), exit 2: ${BASH_REMATCH[0]}"
else
    not_ok "a metric that differs is named (account, column, both values), exit 2" "exit $rc" "$out"
fi
# A stored score that changed after the copy.
lpsql "UPDATE activity_windows SET logins_7d = logins_7d - 1 WHERE day = (SELECT max(day) FROM activity_windows)"
acc=$(lpsql "SELECT account_id FROM scores WHERE day = (SELECT max(day) FROM scores) AND overall IS NOT NULL ORDER BY account_id LIMIT 1")
lpsql "UPDATE scores SET overall = overall + 1 WHERE account_id = $acc AND day = (SELECT max(day) FROM scores)"
out=$("$TEND" migrate --from demo.db --to "$LATE" --verify 2>&1 >/dev/null)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"stored score of account id $acc: "*" in SQLite, "*" in PostgreSQL"* ]] &&
    [[ "$out" == *"the stored scores of 2026-10-31 differ"* ]] && [[ "$out" == *"40 accounts x 23 columns equal"* ]]; then
    ok "a stored score that differs is named (account id, both values), exit 2"
else
    not_ok "a stored score that differs is named (account id, both values), exit 2" "exit $rc" "$out"
fi
# A row missing: the counts differ, the table is named.
n=$(sqlite3 demo.db "SELECT count(*) FROM ctas")
lpsql "DELETE FROM ctas WHERE id = (SELECT max(id) FROM ctas)"
out=$("$TEND" migrate --from demo.db --to "$LATE" --verify --format csv 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"the row counts differ (ctas: $n in SQLite, $((n - 1)) in PostgreSQL)"* ]] &&
    [[ "$out" == *"ctas,$n,$((n - 1)),NO"* ]]; then
    ok "a table whose rows differ is named in the counts and the message, exit 2"
else
    not_ok "a table whose rows differ is named in the counts and the message, exit 2" "exit $rc" "$out"
fi

# ---- a column the copy does not know is refused ---------------------------------
cp demo.db newer.db
sqlite3 newer.db "ALTER TABLE outbox ADD COLUMN not_in_the_list INTEGER"
NEWER=$(pg_createdb newer)
out=$("$TEND" migrate --from newer.db --to "$NEWER" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"SQLite's column outbox.not_in_the_list is not in tend migrate's table list (src/store/move.c)"* ]]; then
    ok "a column the copy's table list lacks refuses the copy, naming it"
else
    not_ok "a column the copy's table list lacks refuses the copy, naming it" "exit $rc" "$out"
fi

# The same on the target's side: a table, or an identity, the list lacks.
"$TEND" import --db empty.db /dev/null >/dev/null 2>&1
SIDE=$(pg_createdb side)
"$TEND" migrate --from empty.db --to "$SIDE" >/dev/null 2>&1 # the schema, no rows
"$(pg_bindir)/psql" -X -q -d "$SIDE" -c "CREATE TABLE scheduler_lease (name text PRIMARY KEY, term bigint)"
out=$("$TEND" migrate --from demo.db --to "$SIDE" 2>&1)
rc=$?
expect_contains "a table of the target the list lacks refuses the copy, naming it (exit $rc)" \
    "PostgreSQL's table scheduler_lease is not in tend migrate's table list" "$out"
"$(pg_bindir)/psql" -X -q -d "$SIDE" -c "DROP TABLE scheduler_lease" \
    -c "ALTER TABLE models ALTER COLUMN version ADD GENERATED BY DEFAULT AS IDENTITY"
out=$("$TEND" migrate --from demo.db --to "$SIDE" 2>&1)
rc=$?
expect_contains "an identity the list does not set refuses the copy, naming it (exit $rc)" \
    "PostgreSQL's identity column models.version is not an identity of tend migrate's table list" "$out"

# ---- tend serve on the PostgreSQL database, named by db: in tend.yaml -------------
TOKEN=migrate-test-token-0123456789
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
# On PostgreSQL there is no file beside the database to keep a session key
# in (docs/dashboard.md): the key comes from the environment.
export MIGRATE_SESSION_KEY=0123456789abcdef0123456789abcdef0123456789abcdef
# The URL carries a password (trust authentication ignores it): the log
# names the database without it.
case $URL in *\?*) SERVE_URL="$URL&password=pw-n0t-in-log" ;; *) SERVE_URL="$URL?password=pw-n0t-in-log" ;; esac
cat >serve.yaml <<EOF
db: "$SERVE_URL"
serve:
  session_key_env: MIGRATE_SESSION_KEY
  tokens:
    - name: ci
      sha256: "$TOKEN_SHA"
EOF
PORT=$(free_port)
pin_clock_at_noon
if env -u TEND_DB "$TEND" serve --config serve.yaml --listen "127.0.0.1:$PORT" --write-key testkey \
    >serve.log 2>&1 &
then
    SERVE_PID=$!
    PIDS+=("$SERVE_PID")
fi
# Up, or exited (then at once, not after the deadline).
serve_up() { curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" || ! kill -0 "$SERVE_PID" 2>/dev/null; }
if wait_for 60 serve_up && kill -0 "$SERVE_PID" 2>/dev/null; then
    total=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/accounts?per_page=1" |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["total"])' 2>/dev/null)
    if [ "$total" = 40 ] && grep -q "database postgresql://" serve.log; then
        ok "tend serve on the migrated database (db: in tend.yaml) serves the 40 accounts"
    else
        not_ok "tend serve on the migrated database (db: in tend.yaml) serves the 40 accounts" \
            "total: $total" "$(tail -5 serve.log)"
    fi
    if grep -q "password=\*\*\*" serve.log && ! grep -q "pw-n0t-in-log" serve.log; then
        ok "tend serve logs the database URL without its password"
    else
        not_ok "tend serve logs the database URL without its password" "$(grep database serve.log)"
    fi
else
    not_ok "tend serve starts on the migrated database (db: in tend.yaml)" "$(tail -5 serve.log)"
fi
