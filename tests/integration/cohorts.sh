#!/usr/bin/env bash
# tend analyze cohorts (issue 20, part 2): the outcome rate by decile of each
# metric, held to pandas (qcut(q, duplicates="drop") and a groupby): the
# same cohorts, edges, counts and rates, on columns with heavy ties (a count
# that is mostly 0, whole numbers, five distinct values); small cohorts
# flagged; the SVG chart; and the store's metrics before each outcome.
. "$(dirname "$0")/lib.sh"

CHECK="$ROOT/tests/integration/survival_check.py"

oracle() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name: ${out#ok: }"; else not_ok "$name" "$out"; fi
}

cohorts() {
    local name=$1
    shift
    "$TEND" analyze cohorts "$@" >"$T/$name.out" 2>"$T/$name.err"
    RC=$?
}

$PY "$CHECK" gen-cohorts "$T/c.csv"
cohorts deciles --table "$T/c.csv" --outcome churned --format json --svg "$T/c.svg"
expect_eq "deciles of a table: exit 0" 0 "$RC"
oracle "deciles as pandas.qcut (ties merge cohorts, equal values stay together)" \
    $PY "$CHECK" cohorts "$T/c.csv" churned "$T/deciles.out" 10
cohorts fifths --table "$T/c.csv" --outcome churned --cohorts 5 --format json
oracle "--cohorts 5 as pandas.qcut(q=5)" $PY "$CHECK" cohorts "$T/c.csv" churned "$T/fifths.out" 5
check "a mostly-zero count has fewer cohorts, and its smallest is flagged small (n < 30)" \
    $PY - "$T/deciles.out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = {x["name"]: x for x in r["metrics"]}
t = m["tickets"]["cohorts"]
assert len(t) < 10, len(t)
assert any(c["small"] for c in t) and all(c["small"] == (c["n"] < 30) for c in t), t
assert r["min_rows"] == 30
PY
check "the SVG is well-formed: a chart per metric, the rate axis in %, small cohorts marked" \
    $PY - "$T/c.svg" <<'PY'
import sys
import xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
texts = [t.text or "" for t in root.iter(ns + "text")]
for m in ("tickets", "logins", "usage", "nps"):
    assert m in texts, (m, texts)
assert any(t == "churned rate (%)" for t in texts), texts
assert any(t.endswith("*") and t.startswith("n=") for t in texts), "a small cohort's n is starred"
assert any("fewer than 30 rows" in t for t in texts), texts
PY
cohorts text --table "$T/c.csv" --outcome churned
expect_contains "the table format: a row per cohort, small ones marked" "small" "$(cat "$T/text.out")"
expect_contains "with the rule under it" "fewer than 30 rows (small)" "$(cat "$T/text.out")"
csv=$("$TEND" analyze cohorts --table "$T/c.csv" --outcome churned --format csv 2>/dev/null | head -1)
expect_eq "--format csv has a header row" "metric,cohort,from,to,n,events,rate,mean,small" "$csv"

cohorts badq --table "$T/c.csv" --outcome churned --cohorts 1
expect_eq "--cohorts 1 exits 2" 2 "$RC"
expect_contains "saying the range" '--cohorts "1": give 2 to 100' "$(cat "$T/badq.err")"
cohorts nolead --db "$T/none.db"
expect_eq "the store's cohorts without --lead exit 2" 2 "$RC"

# The store: each metric as of 21 days before every outcome.
DB=$(db cohorts)
"$TEND" generate --accounts 300 --days 365 --seed 1 --end 2026-11-01 --out "$T/saas.jsonl" 2>/dev/null
"$TEND" import --db "$DB" "$T/saas.jsonl" >/dev/null
"$TEND" analyze --db "$DB" --lead 21 --features metrics --export "$T/rows.csv" >/dev/null 2>&1
cohorts store --db "$DB" --lead 21 --format json --svg "$T/store.svg"
expect_eq "analyze cohorts on the store: exit 0" 0 "$RC"
check "the store's cohorts are those of the rows tend analyze --export writes (the known values)" \
    $PY - "$T/store.out" "$T/rows.csv" <<'PY'
import json, sys
import pandas as pd
r = json.load(open(sys.argv[1]))
d = pd.read_csv(sys.argv[2])
m = {x["name"]: x for x in r["metrics"]}
# A metric known on every row: its cohorts are qcut's of the exported column.
for name in ("days_since_login", "active_user_ratio", "max_days_overdue"):
    g = d.groupby(pd.qcut(d[name], 10, duplicates="drop"), observed=True).churned.agg(["count", "sum"])
    got = [(c["n"], c["events"]) for c in m[name]["cohorts"]]
    assert got == [(int(a), int(b)) for a, b in g.itertuples(index=False)], (name, got, g)
# nps is unknown on some rows: those are left out, not piled into the mean's cohort.
assert m["nps"]["n"] < len(d), (m["nps"]["n"], len(d))
PY
