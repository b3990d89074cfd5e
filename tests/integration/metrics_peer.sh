#!/usr/bin/env bash
# SPEC 3 metrics against an independent oracle: bench/metrics_pandas.py computes
# every metric with pandas straight from the generator's JSONL, as
# docs/metrics.md defines them; `tend metrics --format csv` must print exactly
# the same CSV (every cell, as a string) at the last day and 45 days earlier.
# bench/metrics_run does the same at full size. Last, the peer itself must give
# the expected rows of the hand-written cases of tests/data/metrics.
. "$(dirname "$0")/lib.sh"

if ! $PY -c 'import pandas' 2>/dev/null; then
    not_ok "pandas is installed (scripts/install-deps installs python3-pandas)"
    exit 0
fi

"$TEND" generate --accounts 40 --days 120 --seed 7 --end 2026-11-01 --out "$T/g.jsonl" 2>/dev/null
out=$("$TEND" import --db "$(db g)" "$T/g.jsonl" 2>&1)
expect_contains "the generated history imports whole" " 0 rejected" "$out"

for at in 2026-10-31 2026-09-16; do
    "$TEND" metrics --db "$(db g)" --at "$at" --format csv >"$T/tend-$at.csv"
    if ! $PY "$ROOT/bench/metrics_pandas.py" --at "$at" --out "$T/pandas-$at.csv" "$T/g.jsonl" \
        2>"$T/pandas-$at.err"; then
        not_ok "metrics_pandas.py runs at $at" "$(tail -5 "$T/pandas-$at.err")"
        continue
    fi
    rows=$(($(wc -l <"$T/tend-$at.csv") - 1))
    if [ "$rows" -lt 30 ]; then
        not_ok "tend metrics lists the generated accounts at $at" "only $rows rows"
        continue
    fi
    if diff=$($PY "$ROOT/bench/csv_diff.py" "$T/tend-$at.csv" "$T/pandas-$at.csv"); then
        ok "tend metrics equals the pandas peer at $at ($rows accounts, every cell)"
    else
        not_ok "tend metrics equals the pandas peer at $at" "$diff"
    fi
done

# The comparison means something only if every metric is exercised: each
# column must be non-empty and non-zero in some row at one of the dates.
idle=$($PY - "$T"/tend-*.csv <<'PY'
import csv, sys
seen = set()
for path in sys.argv[1:]:
    for row in csv.DictReader(open(path)):
        seen.update(c for c, v in row.items() if v not in ("", "0"))
cols = next(csv.reader(open(sys.argv[1])))
print(" ".join(c for c in cols if c not in seen))
PY
)
expect_eq "every metric has a non-zero value somewhere in the compared data" "" "$idle"

# The oracle itself answers to the hand-written definitions: the pandas peer
# must give the expected rows of every data-driven case (tests/data/metrics,
# format in tests/integration/metrics_cases.py), window edges, offsets,
# duplicates, removed users and leap days included.
$PY "$ROOT/tests/integration/metrics_cases.py" --peer "$ROOT/bench/metrics_pandas.py" \
    "$TEND" "$T" "$DATA"/metrics/*.test
