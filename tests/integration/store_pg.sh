#!/usr/bin/env bash
# The store conformance suite on PostgreSQL: the unit binaries that exercise
# the store (their stores opened through tests/unit/test_db.h) run again on a
# throwaway cluster of this test's own (pg_lib.sh), each test in a schema of
# its own. The plain unit pass of tests/run has run them on SQLite; the
# lines here are prefixed "pg:" so the summary counts each backend.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
bins="test_ingest test_eval test_ctas test_notify test_report test_model test_views_accounts"
dir="${BUILD:-$ROOT/build/${MODE:-release}}/tests"
# Every tests/unit/test_store*.c is a conformance test of the store.
bins="$bins $(cd "$dir" && ls test_store* 2>/dev/null | tr '\n' ' ')"
if ! pg_start 2>"$T/pg_start.err"; then
    not_ok "a throwaway PostgreSQL cluster starts" "$(cat "$T/pg_start.err")"
    exit 0
fi
ok "a throwaway PostgreSQL cluster starts on 127.0.0.1:$PG_PORT"
# conform BIN: one binary's tests on the cluster, its lines into $T/BIN.out.
# Two binaries run at once (STORE_PG_JOBS): each test has a schema of its
# own, and most of their time is the server's; the lines come in bins order.
conform() {
    local b=$1 bin="$dir/$1" log t0 rc status name
    if [ ! -x "$bin" ]; then
        not_ok "pg: $b is built"
        return
    fi
    log="$T/$b.log"
    t0=$(date +%s)
    (cd "$T" && TEND_TEST_PG_URL=$PG_URL timeout 900 "$bin") >"$log" 2>&1
    rc=$?
    while read -r status name; do
        case $status in
        OK) ok "pg: $b: $name" ;;
        FAILED) not_ok "pg: $b: $name" "$(grep -B2 -A12 "^\[ RUN      \] $name\$" "$log" | head -30)" ;;
        esac
    done < <(sed -n 's/^\[ *\(OK\|FAILED\) *\] \([A-Za-z_0-9]*\)$/\1 \2/p' "$log" | sort -u)
    echo "# pg: $b took $(($(date +%s) - t0)) s"
    if [ "$rc" -ne 0 ] && ! grep -q '^\[  FAILED  \]' "$log"; then
        not_ok "pg: $b exits cleanly (exit $rc)" "$(tail -20 "$log")"
    fi
}
store_pg_jobs=${STORE_PG_JOBS:-2}
for b in $bins; do
    while [ "$(jobs -rp | wc -l)" -ge "$store_pg_jobs" ]; do wait -n; done
    conform "$b" >"$T/$b.out" 2>&1 &
done
wait
for b in $bins; do cat "$T/$b.out"; done
# Behind a pooler in transaction mode (TEND_PG_POOL=transaction) statements
# go unnamed, never prepared: the ingest and CTA tests again that way.
for b in test_ingest test_store_ctas; do
    log="$T/$b.unnamed.log"
    (cd "$T" && TEND_PG_POOL=transaction TEND_TEST_PG_URL=$PG_URL timeout 900 "$dir/$b") >"$log" 2>&1
    rc=$?
    n=$(grep -c '^\[       OK \]' "$log")
    if [ "$rc" -eq 0 ] && [ "$n" -gt 5 ]; then
        ok "pg (TEND_PG_POOL=transaction, unnamed statements): $b: $n tests pass"
    else
        not_ok "pg (TEND_PG_POOL=transaction, unnamed statements): $b passes (exit $rc)" \
            "$(grep -A8 FAILED "$log" | head -30)"
    fi
done
pg_stop
