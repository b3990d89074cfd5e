#!/usr/bin/env bash
# The PostgreSQL schema and its migrations (tests/unit/test_pg_schema.c) on a
# throwaway cluster of this test's own (pg_lib.sh): initdb, start on
# 127.0.0.1 at a free port, run the unit binary with TEND_TEST_PG_URL, stop.
# The plain unit pass of tests/run runs the same binary without the URL, and
# it skips what needs a server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
bin="${BUILD:-$ROOT/build/${MODE:-release}}/tests/test_pg_schema"
if [ ! -x "$bin" ]; then
    not_ok "the unit binary $bin is built (make test builds it)"
    exit 0
fi
start=$(date +%s%N)
if ! pg_start 2>"$T/pg_start.err"; then
    not_ok "a throwaway PostgreSQL cluster starts" "$(cat "$T/pg_start.err")"
    exit 0
fi
ok "a throwaway PostgreSQL $(pg_psql 'SHOW server_version') cluster starts as $(pg_user) on 127.0.0.1:$PG_PORT in $((($(date +%s%N) - start) / 1000000)) ms"

TEND_TEST_PG_URL=$PG_URL "$bin" >"$T/unit.log" 2>&1
rc=$?
# One line per test of the binary, so the summary counts them.
while read -r status name; do
    case $status in
    OK) ok "pg: $name" ;;
    FAILED) not_ok "pg: $name" "$(grep -B1 -A12 "^\[ RUN      \] $name\$" "$T/unit.log" | head -30)" ;;
    SKIPPED) not_ok "pg: $name ran (skipped with TEND_TEST_PG_URL set)" ;;
    esac
done < <(sed -n 's/^\[ *\(OK\|FAILED\|SKIPPED\) *\] \([a-z_0-9]*\)$/\1 \2/p' "$T/unit.log" | sort -u)
figures=$(sed -n 's/^# //p' "$T/unit.log" | tr '\n' ';' | sed 's/;$//; s/;/; /g')
n_ok=$(grep -c '^\[       OK \]' "$T/unit.log")
if [ "$rc" -eq 0 ] && [ "$n_ok" -gt 1 ]; then
    ok "test_pg_schema on the cluster exits 0 ($figures)"
else
    not_ok "test_pg_schema on the cluster exits 0 (exit $rc)" "$(tail -40 "$T/unit.log")"
fi

# Without the URL the binary skips, and says so.
out=$(env -u TEND_TEST_PG_URL "$bin" 2>&1)
if [[ $? -eq 0 && "$out" == *"TEND_TEST_PG_URL is not set"* && "$out" == *"SKIPPED"* ]]; then
    ok "without TEND_TEST_PG_URL the server tests are skipped and the run says so"
else
    not_ok "without TEND_TEST_PG_URL the server tests are skipped and the run says so" "$out"
fi

dir=$PG_DIR
pg_stop
if [ ! -e "$dir" ] && ! pgrep -f -- "-D $dir/data" >/dev/null; then
    ok "pg_stop stops the server and removes its directory"
else
    not_ok "pg_stop stops the server and removes its directory" "$(ls -la "$dir" 2>&1)"
fi
