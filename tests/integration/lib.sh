# lib.sh: shared helpers of the integration tests (sourced, bash).
#
# Every check prints "ok - NAME" or "not ok - NAME" (tests/run counts them).
# Each script gets a private temporary directory $T, removed at exit along
# with any server it started through start_serve.
set -u
: "${TEND:?TEND must point at the tend binary (make test sets it)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/tend-test.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA="$ROOT/tests/data"
PY=/usr/bin/python3

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
start_serve() {
    local db=$1 port=$2
    shift 2
    touch "$T/serve.log"
    SERVE_LOG_AT=$(stat -c %s "$T/serve.log")
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

# status_count DB WHAT: one count from tend status (0 when absent).
status_count() {
    local v
    v=$("$TEND" status --db "$1" --format csv | awk -F, -v k="$2" '$1 == k { print $2 }')
    echo "${v:-0}"
}
