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
out=$("$TEND" import --db "$T/g.db" "$T/g.jsonl" 2>&1)
expect_contains "the generated history imports whole" " 0 rejected" "$out"

for at in 2026-10-31 2026-09-16; do
    "$TEND" metrics --db "$T/g.db" --at "$at" --format csv >"$T/tend-$at.csv"
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
$PY - "$ROOT/bench" "$T" "$DATA"/metrics/*.test <<'PY'
import csv, io, os, sys
sys.path.insert(0, sys.argv[1])
import metrics_pandas as mp

tmp = sys.argv[2]
for path in sys.argv[3:]:
    name = os.path.basename(path)
    sections, cur = [], None
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if line.startswith("@"):
            word, _, arg = line[1:].partition(" ")
            cur = [word, arg.strip(), []]
            sections.append(cur)
        elif cur is not None and line.strip() and not line.startswith("#"):
            cur[2].append(line)
    if any(s[0] == "accounts" for s in sections):
        continue  # the peer does not read an accounts CSV
    events = os.path.join(tmp, name + ".jsonl")
    open(events, "w").write("\n".join(l for s in sections if s[0] == "events" for l in s[2]) + "\n")
    at = columns = None
    block = 0
    for word, arg, lines in sections:
        if word == "at":
            at = arg
        elif word == "columns":
            columns = [c.strip() for c in arg.split(",") if c.strip()]
        elif word == "expect":
            block += 1
            t, d = mp.parse_at(at)
            r = mp.Reader(t, 1000)
            r.run(events)
            buf = io.StringIO()
            mp.write_csv(mp.compute(r, t, d), buf)
            rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
            cols = ["account_id"] + (columns or mp.COLUMNS)
            actual = [",".join(row[c] for c in cols) for row in rows]
            expected = [l.strip() for l in lines]
            if arg != "all":
                ids = {e.split(",")[0] for e in expected}
                actual = [a for a in actual if a.split(",")[0] in ids]
            label = f"the pandas peer gives the expected rows of {name} #{block} (at {at})"
            if actual == expected:
                print(f"ok - {label}")
            else:
                print(f"not ok - {label}")
                print("    expected: " + " | ".join(expected))
                print("    actual:   " + " | ".join(actual))
PY
