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

# start_serve DB PORT [ARGS...]: starts tend serve and waits until /healthz
# answers (at most 10 s). Sets SERVE_PID.
start_serve() {
    local db=$1 port=$2
    shift 2
    "$TEND" serve --db "$db" --listen "127.0.0.1:$port" --write-key testkey "$@" \
        >>"$T/serve.log" 2>&1 &
    SERVE_PID=$!
    PIDS+=("$SERVE_PID")
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
        sleep 0.1
    done
    echo "tend serve did not start:" >&2
    cat "$T/serve.log" >&2
    return 1
}

# status_count DB WHAT: one count from tend status (0 when absent).
status_count() {
    local v
    v=$("$TEND" status --db "$1" --format csv | awk -F, -v k="$2" '$1 == k { print $2 }')
    echo "${v:-0}"
}
