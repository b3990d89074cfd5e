# lib.sh: shared helpers of the integration tests (sourced, bash).
#
# Every check prints "ok - NAME" or "not ok - NAME" (tests/run counts them).
# Each script gets a private temporary directory $T, removed at exit along
# with any server it started through start_serve.
#
# The backend under test: TEND_TEST_BACKEND=sqlite (the default) or pg. A
# script names each database it uses with `db NAME` (never a path of its
# own), reads one with `dbq LOCATION SQL` (not the sqlite3 CLI) and copies
# one with `db_copy FROM TO`, so the same script runs on either backend;
# tests/run runs the store-touching scripts a second time with
# TEND_TEST_BACKEND=pg (docs/development.md, "Both backends"). On pg, lib.sh
# starts a throwaway PostgreSQL cluster of the script's own (pg_lib.sh) when
# it is sourced, and stops it at exit with the rest of cleanup.
set -u
: "${TEND:?TEND must point at the tend binary (make test sets it)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/tend-test.XXXXXX")
export T # for testdb.py
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    [ "${BACKEND:-}" = pg ] && [ -n "${PG_DIR:-}" ] && pg_checks
    # After the servers: a tend process still connected would hold the
    # cluster's stop (immediate, so it would not wait long) for nothing.
    [ -n "${PG_DIR:-}" ] && pg_stop
    rm -rf "$T"
}
trap cleanup EXIT
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA="$ROOT/tests/data"
PY=/usr/bin/python3
# testdb.py (the Python side of db/dbq) for the scripts' Python checks.
export PYTHONPATH="$ROOT/tests/integration${PYTHONPATH:+:$PYTHONPATH}"
case "${TEND_TEST_BACKEND:-sqlite}" in
sqlite) BACKEND=sqlite ;;
pg | postgresql) BACKEND=pg ;;
*)
    echo "lib.sh: TEND_TEST_BACKEND=$TEND_TEST_BACKEND: expected sqlite or pg" >&2
    exit 2
    ;;
esac
export BACKEND

ok() { echo "ok - $1"; }
not_ok() {
    echo "not ok - $1"
    shift
    [ $# -gt 0 ] && printf '    %s\n' "$@"
    return 0
}

# check NAME COMMAND...: passes when COMMAND exits 0.
check() {
    local name=$1
    shift
    local out
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [ "$2" == "$3" ]; then
        ok "$1"
    else
        not_ok "$1" "expected: $2" "actual:   $3"
    fi
}

# expect_contains NAME NEEDLE HAYSTACK
expect_contains() {
    if [[ "$3" == *"$2"* ]]; then
        ok "$1"
    else
        not_ok "$1" "expected to contain: $2" "actual: $3"
    fi
}

# free_port: a TCP port nobody listens on, on 127.0.0.1.
free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds;
# false when SECONDS pass first. Tests wait for what they can observe (a log
# line, a file, a counter), never for a time that assumes a speed; SECONDS is
# a deadline for a broken case, generous enough for a loaded 2-core machine.
wait_for() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# start_serve DB PORT [ARGS...]: starts tend serve and waits until /healthz
# answers (at most 60 s; at once an error if it exits). Sets SERVE_PID and
# SERVE_LOG_AT, the size of $T/serve.log before this server wrote to it (see
# serve_logged).
#
# On PostgreSQL every node signs sessions with the key its configuration
# names (serve.session_key_env; there is no key file beside a database
# there, docs/operations.md): start_serve gives tend serve a copy of the
# --config file (or, without one, a file) that sets it, naming
# TEND_TEST_SESSION_KEY, a key of this script's (testdb.py with-session-key:
# the rest of the file as written), as the operator of several nodes would.
start_serve() {
    local db=$1 port=$2
    shift 2
    touch "$T/serve.log"
    SERVE_LOG_AT=$(stat -c %s "$T/serve.log")
    if [[ "$db" == postgresql://* ]]; then
        local args=() src="" next=0 a cfg
        for a in "$@"; do
            if [ "$next" = 1 ]; then
                src=$a
                next=0
            elif [ "$a" = --config ]; then
                next=1
            else
                args+=("$a")
            fi
        done
        cfg=$(mktemp "$T/serve-pg.XXXXXX.yaml")
        $PY "$ROOT/tests/integration/testdb.py" with-session-key "$src" "$cfg" TEND_TEST_SESSION_KEY ||
            return 1
        set -- "${args[@]}" --config "$cfg"
    fi
    "$TEND" serve --db "$db" --listen "127.0.0.1:$port" --write-key testkey "$@" \
        >>"$T/serve.log" 2>&1 &
    SERVE_PID=$!
    PIDS+=("$SERVE_PID")
    local deadline=$(($(date +%s) + 60))
    while kill -0 "$SERVE_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
        if curl -s -o /dev/null --max-time 10 "http://127.0.0.1:$port/healthz"; then
            # Answered by this server, not by another one on a reused port.
            kill -0 "$SERVE_PID" 2>/dev/null && return 0
            break
        fi
        sleep 0.1
    done
    echo "tend serve did not start:" >&2
    tail -c +$((SERVE_LOG_AT + 1)) "$T/serve.log" >&2
    return 1
}

# serve_logged TEXT: whether the server started last has logged a line
# containing TEXT (fixed string).
serve_logged() {
    tail -c +$((SERVE_LOG_AT + 1)) "$T/serve.log" | grep -qF -- "$1"
}

# wait_serve_log TEXT [SECONDS]: waits (default at most 60 s) until the server
# started last logs a line containing TEXT.
wait_serve_log() {
    wait_for "${2:-60}" serve_logged "$1"
}

# pin_clock_at_noon: every tend process started from here on runs on a clock
# shifted to 12:00:00 UTC of today's date (TEND_TEST_CLOCK_OFFSET_S,
# util/datetime.h), time advancing at its real pace: a test that starts at
# 23:59 sees no day end, and no serve.daily_at passes while it runs. Sets
# CLOCK_OFFSET_S (also for the test's own checks of times tend reports).
pin_clock_at_noon() {
    local now
    now=$(date -u +%s)
    CLOCK_OFFSET_S=$(($(date -u -d "$(date -u -d "@$now" +%F)T12:00:00Z" +%s) - now))
    export TEND_TEST_CLOCK_OFFSET_S=$CLOCK_OFFSET_S CLOCK_OFFSET_S
}

# day_num DATE: the day number of DATE (YYYY-MM-DD; days since 1970-01-01),
# as the store keeps days.
day_num() {
    echo $(($(date -u -d "$1" +%s) / 86400))
}

# status_count DB WHAT: one count from tend status (0 when absent).
status_count() {
    local v
    v=$("$TEND" status --db "$1" --format csv | awk -F, -v k="$2" '$1 == k { print $2 }')
    echo "${v:-0}"
}

# ---- databases on either backend --------------------------------------------------

# db NAME: the location of the test's database NAME (letters, digits, ., _
# and -), to pass as --db, TEND_DB or start_serve's DB: "$T/NAME.db" on SQLite;
# on PostgreSQL the URL of the cluster's database NAME, created empty on the
# first call (tend migrates it on first open, as it creates a SQLite file).
# The same NAME gives the same location every time, in any subshell.
db() {
    local name=$1
    if ! [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]]; then
        echo "db: a database name is letters, digits, ., _ and -: '$name'" >&2
        return 1
    fi
    if [ "$BACKEND" = sqlite ]; then
        echo "$T/$name.db"
        return 0
    fi
    # A marker file per database made, so that a later call (in another
    # subshell, as $(db NAME) is) neither asks the server nor creates twice.
    if [ ! -e "$T/pg-db.$name" ]; then
        pg_admin "CREATE DATABASE \"$name\" TEMPLATE $PG_TEMPLATE" || return 1
        : >"$T/pg-db.$name"
    fi
    echo "postgresql://tend@127.0.0.1:$PG_PORT/$name"
}

# db_names: the NAMEs of the databases this test has made so far, one a line
# (on SQLite the files $T/*.db), for a post-mortem that dumps each.
db_names() {
    local f
    if [ "$BACKEND" = sqlite ]; then
        for f in "$T"/*.db; do [ -f "$f" ] && basename "$f" .db; done
    else
        for f in "$T"/pg-db.*; do [ -e "$f" ] && echo "${f##*/pg-db.}"; done
    fi
    return 0
}

# db_copy FROM TO: database TO becomes a copy of database FROM (names, as db
# takes them; TO must not exist yet), with nobody connected to FROM: a copy
# of the file on SQLite, CREATE DATABASE TO TEMPLATE FROM on PostgreSQL.
db_copy() {
    if [ "$BACKEND" = sqlite ]; then
        cp "$(db "$1")" "$T/$2.db"
        return
    fi
    db "$1" >/dev/null || return 1
    pg_admin "CREATE DATABASE \"$2\" TEMPLATE \"$1\"" || return 1
    : >"$T/pg-db.$2"
}

# dbq LOCATION SQL: runs SQL (one statement) on the database at LOCATION
# (what db printed), with the sqlite3 CLI or psql by the location's form, and
# prints the rows as the sqlite3 CLI does: columns separated by |, no
# header, NULL as nothing. The SQL is the test's and must mean the same on
# both (the schemas differ a little: src/store/pg_schema.c); a boolean
# column prints 1/0 on SQLite and t/f on PostgreSQL, a double as each prints
# it (compare numbers after rounding them in the query or in the script).
dbq() {
    case $1 in
    postgresql://* | postgres://*)
        "$(pg_bindir)/psql" -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$1" -c "$2"
        ;;
    *) sqlite3 -bail "$1" "$2" ;;
    esac
}

# pg_checks: at the end of a script's PostgreSQL run, that it ran there: it
# made its databases with db (none is a SQLite file in $T, which would mean
# a path of its own, run on SQLite twice), and made at least one.
pg_checks() {
    local stray made
    stray=$(find "$T" \( -name '*.db' -o -name '*.db-wal' \) -printf '%P\n' 2>/dev/null | head -5)
    made=$(db_names | wc -l)
    if [ -z "$stray" ] && [ "$made" -gt 0 ]; then
        ok "its databases ($made) were on PostgreSQL ($(pg_bindir | sed 's|.*/postgresql/\([0-9]*\)/bin|PostgreSQL \1|') on 127.0.0.1:$PG_PORT), none a SQLite file"
    else
        not_ok "its databases were on PostgreSQL, none a SQLite file (lib.sh's db NAME)" \
            "made on PostgreSQL: $made" "SQLite files in \$T: ${stray:-none}"
    fi
}

# pg_admin SQL: SQL on the cluster's maintenance database (postgres).
pg_admin() {
    "$(pg_bindir)/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U tend -d postgres -v ON_ERROR_STOP=1 \
        -c "$1" >/dev/null
}

# The template of every database db makes on PostgreSQL: an empty database
# that tend has migrated once (its first open does), so that each of a
# script's databases starts as a new SQLite file does, without migrating
# again (about 0.6 s each; import.sh makes 17, rules.sh 40). The migrations
# themselves are pg_schema's and store_pg's subject.
PG_TEMPLATE=tend_template
export PG_TEMPLATE # for testdb.py
if [ "$BACKEND" = pg ]; then
    . "$ROOT/tests/integration/pg_lib.sh"
    trap cleanup EXIT # pg_lib.sh's would stop the cluster before pg_checks
    if ! pg_start 2>"$T/pg_start.err"; then
        not_ok "a throwaway PostgreSQL cluster starts for this test" "$(cat "$T/pg_start.err")"
        exit 0
    fi
    TEND_TEST_SESSION_KEY=$(head -c 32 /dev/urandom | base64)
    export TEND_TEST_SESSION_KEY
    if ! pg_admin "CREATE DATABASE $PG_TEMPLATE" 2>"$T/pg_start.err" ||
        ! "$TEND" status --db "postgresql://tend@127.0.0.1:$PG_PORT/$PG_TEMPLATE" >/dev/null 2>>"$T/pg_start.err"; then
        not_ok "tend migrates a new PostgreSQL database (the template of this test's)" "$(cat "$T/pg_start.err")"
        exit 0
    fi
fi

# browser_report SCRIPT.mjs RC: the checks a browser script (tests/browser/)
# wrote as JSON lines ({"name", "ok", "detail"}) to $T/results.jsonl, one
# ok/not ok line each; a line that is not JSON, no check at all, or a non-zero
# exit RC (its stderr, $T/node.err, shown) is a failure.
browser_report() {
    local script=$1 rc=$2
    $PY - "$T/results.jsonl" "$script" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        r = json.loads(line)
    except ValueError:
        print(f"not ok - {sys.argv[2]} printed JSON lines", "    " + line.rstrip()[:500], sep="\n")
        continue
    n += 1
    print(("ok - " if r.get("ok") else "not ok - ") + "browser: " + r.get("name", "?"))
    if not r.get("ok") and r.get("detail") is not None:
        d = r["detail"] if isinstance(r["detail"], str) else json.dumps(r["detail"])
        print("    " + d[:3000].replace("\n", "\n    "))
if n == 0:
    print(f"not ok - {sys.argv[2]} reported its checks")
PY
    expect_eq "node $script exits 0" 0 "$rc"
    [ "$rc" -ne 0 ] && sed 's/^/    /' "$T/node.err" | tail -20
    return 0
}
