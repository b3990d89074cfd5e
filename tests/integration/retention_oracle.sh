#!/usr/bin/env bash
# tend analyze retention against an independent computation in Python
# (retention_oracle.py, pandas) over the same Segment JSON Lines: a generated
# SaaS with subscription changes (expansion: seats added, upgrades;
# contraction: seats removed, downgrades; churns, renewals) plus hand-made
# accounts for each rule of docs/analysis.md, "Revenue movements". Every
# figure of every row (by month, by quarter per plan, the whole window per
# segment and per owner), the movements by kind and the reasons are equal to
# 1e-9; then the errors of the command's options.
. "$(dirname "$0")/lib.sh"

ORACLE="$ROOT/tests/integration/retention_oracle.py"
db=$(db retention)
"$TEND" generate --accounts 150 --days 500 --end 2026-12-01 --seed 20 --out "$T/gen.jsonl" \
    2>"$T/gen.err"
$PY "$ORACLE" extra "$T/extra.jsonl"
changes=$(grep -c '"event":"Subscription Changed"' "$T/gen.jsonl")
reasons=$(grep -o '"reason":"\(seats added\|upgrade\|seats removed\|downgrade\)"' "$T/gen.jsonl" |
    sort -u | wc -l)
if [ "$changes" -ge 30 ] && [ "$reasons" -eq 4 ]; then
    ok "the generator writes subscription changes ($changes, all 4 reasons)"
else
    not_ok "the generator writes subscription changes" "$changes changes, $reasons reasons"
fi
out=$("$TEND" import --db "$db" "$T/gen.jsonl" "$T/extra.jsonl" 2>&1)
expect_contains "both files import with nothing rejected or quarantined" \
    "0 quarantined, 0 rejected" "$out"

# run NAME FROM TO BY GROUP [options]: tend's JSON into $T/NAME.json, and the
# comparison's spec for the oracle, which then checks them all in one run.
specs=()
run() {
    local name=$1 from=$2 to=$3 by=$4 group=$5 t0 t1
    shift 5
    t0=$(date +%s%N)
    if ! "$TEND" analyze retention --db "$db" --from "$from" --to "$to" --format json "$@" \
        >"$T/$name.json" 2>"$T/$name.err"; then
        not_ok "$name: tend analyze retention runs" "$(cat "$T/$name.err")"
        return
    fi
    t1=$(date +%s%N)
    specs+=("$name (tend $(((t1 - t0) / 1000000)) ms)|$from|$to|$by|$group|$T/$name.json")
}
run "by month" 2025-12-01 2026-11-30 month all --by month
run "by quarter, per plan" 2025-08-15 2026-11-30 quarter plan --by quarter --plan
run "the window, per segment" 2026-01-01 2026-11-30 whole segment --segment
run "the window, per owner" 2025-12-01 2026-11-30 whole owner --owner
run "a window ending mid-month, by month" 2026-02-10 2026-07-19 month all --by month
$PY "$ORACLE" compare "$T/gen.jsonl,$T/extra.jsonl" "${specs[@]}" >"$T/oracle.out" 2>&1
echo "exit $?" >>"$T/oracle.out"
n_ok=$(grep -c '^ok ' "$T/oracle.out")
if [ "$n_ok" = "${#specs[@]}" ] && grep -q '^exit 0$' "$T/oracle.out"; then
    while read -r line; do ok "equal to the pandas oracle: ${line#ok }"; done < <(grep '^ok ' "$T/oracle.out")
else
    not_ok "every comparison equal to the pandas oracle ($n_ok of ${#specs[@]})" \
        "$(head -40 "$T/oracle.out")"
fi

# The hand-made accounts, read from the table: the echo counted once.
"$TEND" analyze retention --db "$db" --from 2026-03-01 --to 2026-03-31 --format json \
    >"$T/march.json" 2>/dev/null
upgrade=$($PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
print([(r["count"], r["mrr"]) for r in d["reasons"] if r["reason"] == "upgrade" and r["kind"] == "expansion"])
' "$T/march.json")
[[ "$upgrade" == "[("*", "* ]] && ok "upgrades are reasons of expansion: $upgrade" ||
    not_ok "upgrades are reasons of expansion" "$upgrade"

# Each movement, one by one.
"$TEND" analyze retention --db "$db" --from 2025-12-01 --to 2026-11-30 --movements \
    --format json >"$T/movements.json" 2>/dev/null
if res=$($PY "$ORACLE" movements "$T/gen.jsonl,$T/extra.jsonl" 2025-12-01 2026-11-30 \
    "$T/movements.json" 2>&1); then
    ok "analyze retention --movements equals the oracle: $res"
else
    not_ok "analyze retention --movements equals the oracle" "$res"
fi

# tend analyze --reasons: churn, contraction and expansion reasons by MRR, their
# NRR impact and cost to serve, after a real evaluation has opened CTAs.
"$TEND" eval --db "$db" --from 2026-09-01 --to 2026-11-30 --quiet >/dev/null 2>&1
if "$TEND" analyze --db "$db" --reasons --movements --from 2025-12-01 --to 2026-11-30 \
    --format json >"$T/reasons.json" 2>"$T/reasons.err"; then
    if res=$($PY "$ORACLE" reasons "$T/gen.jsonl,$T/extra.jsonl" 2025-12-01 2026-11-30 "$db" \
        "$T/reasons.json" 2>&1); then
        ok "analyze --reasons --movements equals the oracle: $res"
    else
        not_ok "analyze --reasons --movements equals the oracle" "$res"
    fi
else
    not_ok "analyze --reasons --movements runs" "$(cat "$T/reasons.err")"
fi
out=$("$TEND" analyze --db "$db" --reasons --from 2025-12-01 --to 2026-11-30 2>/dev/null)
expect_contains "analyze --reasons (table) lists the churns, then every movement by NRR impact" \
    "Revenue movements by reason, 2025-12-01 to 2026-11-30" "$out"

# The table and CSV forms, and the options' errors.
csv=$("$TEND" analyze retention --db "$db" --from 2026-01-01 --to 2026-06-30 --by quarter \
    --format csv 2>/dev/null)
expect_eq "CSV: a header and one row a quarter" \
    "period,from,to,group,accounts_start,mrr_start,arr_start,expansion,contraction,churned,new_mrr,mrr_end,logos_churned,logo_churn,grr,nrr,grr_annual,nrr_annual,logo_churn_annual 3" \
    "$(echo "$csv" | head -1) $(echo "$csv" | wc -l)"
bad() {
    local want=$1
    shift
    local err rc
    err=$("$TEND" analyze retention --db "$db" "$@" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" = 2 ] && [[ "$err" == *"$want"* ]]; then
        ok "analyze retention $*: exit 2, \"$want\""
    else
        not_ok "analyze retention $*: exit 2, \"$want\"" "exit $rc: $err"
    fi
}
bad "--by must be month or quarter" --by week
bad "give one of --segment, --plan and --owner" --plan --owner
bad "--from must not be after --to" --from 2026-05-01 --to 2026-04-01
bad "--from must be a date YYYY-MM-DD" --from yesterday
bad "more than 600 periods" --from 1970-01-01 --to 2026-01-01 --by month
out=$("$TEND" analyze retention --db "$T/none.db" 2>&1)
expect_contains "a missing database is refused, not created" "no such database" "$out"
