#!/usr/bin/env bash
# The loop of issue 16 (§2, docs/analysis.md "Bands from outcomes"): tend
# analyze suggests weights and band thresholds as a tend.yaml snippet; the
# snippet loads as it is printed; the re-run with it reports, as its current
# weights' held-out AUC, the figure the first run gave for the snippet's
# weights (same held-out rows), its current bands are the suggested ones
# with the same counts, and the suggestion is a fixed point. Each band's
# churn rate is printed, before and after.
. "$(dirname "$0")/lib.sh"

DB="$T/a.db"
"$TEND" generate --accounts 600 --days 365 --seed 1 --end 2026-11-01 --out "$T/saas.jsonl" 2>/dev/null
"$TEND" import --db "$DB" "$T/saas.jsonl" >/dev/null

if "$TEND" analyze --db "$DB" --lead 21 >"$T/before.txt" 2>"$T/before.err" &&
    "$TEND" analyze --db "$DB" --lead 21 --format json >"$T/before.json" 2>/dev/null; then
    ok "analyze --lead 21 runs (table and json)"
else
    not_ok "analyze --lead 21 runs" "$(cat "$T/before.err")"
fi
expect_contains "the table reports each band's churn rate now" "Bands now (red below 40, green from 70)" \
    "$(cat "$T/before.txt")"
expect_contains "and the suggested bands" "Suggested bands (red: churn at least twice the base rate" \
    "$(cat "$T/before.txt")"

# The snippet, exactly as printed: everything from "health:" to the end.
sed -n '/^health:$/,$p' "$T/before.txt" >"$T/loop.yaml"
check "the snippet has weights and bands" grep -q '^  bands: {red_below: [0-9.]*, green_from: [0-9.]*}$' \
    "$T/loop.yaml"

if "$TEND" analyze --db "$DB" --lead 21 --config "$T/loop.yaml" --format json >"$T/after.json" \
    2>"$T/after.err"; then
    ok "the snippet loads as it is (analyze --config)"
else
    not_ok "the snippet loads as it is (analyze --config)" "$(cat "$T/after.err")"
fi
"$TEND" analyze --db "$DB" --lead 21 --config "$T/loop.yaml" >"$T/after.txt" 2>/dev/null

out=$($PY - "$T/before.json" "$T/after.json" <<'PY'
import json, sys
b, a = (json.load(open(p)) for p in sys.argv[1:3])
bb, ab = b["bands"], a["bands"]
# The re-run uses the snippet's weights and bands.
assert a["current_weights"] == bb["snippet_weights"], (a["current_weights"], bb["snippet_weights"])
assert (ab["current"]["red_below"], ab["current"]["green_from"]) == \
    (bb["suggested"]["red_below"], bb["suggested"]["green_from"]), (ab["current"], bb["suggested"])
# Same held-out rows, and the AUC the first run promised for these weights.
hb, ha = b["holdout"], a["holdout"]
assert (hb["split"], hb["train"], hb["test"], hb["test_churned"]) == \
    (ha["split"], ha["train"], ha["test"], ha["test_churned"]), (hb, ha)
assert ha["auc_current_weights"] == hb["auc_snippet_weights"], (ha, hb)
# The model does not depend on the weights: same fit, same suggestion (a fixed point).
assert ha["auc_model"] == hb["auc_model"] and ha["auc_suggested_weights"] == hb["auc_suggested_weights"]
assert ab["suggested"] == bb["suggested"] and ab["current"] == bb["suggested"], (ab, bb)
# The bands mean what the method says: red churns at least twice the base
# rate, yellow above it, green below it (on these outcomes).
base = bb["base_rate"]
s = bb["suggested"]
assert s["red"]["n"] >= bb["min_rows"] and s["red"]["churn_rate"] >= 2 * base, (s, base)
assert s["yellow"]["n"] == 0 or s["yellow"]["churn_rate"] > base, (s, base)
assert s["green"]["churn_rate"] < base, (s, base)
assert sum(s[k]["n"] for k in ("red", "yellow", "green")) == bb["n"]
def rates(x):
    return ", ".join("%s %d/%d" % (k, x[k]["churned"], x[k]["n"]) for k in ("red", "yellow", "green"))
print("AUC held out: current %.3f -> %.3f with the snippet (suggested from the first 70%%: %s); "
      "base rate %.3f; bands before (%g/%g): %s; after (%g/%g): %s" % (
      hb["auc_current_weights"], ha["auc_current_weights"],
      "%.3f" % hb["auc_suggested_weights"] if hb["auc_suggested_weights"] is not None else "none",
      base, bb["current"]["red_below"], bb["current"]["green_from"], rates(bb["current"]),
      s["red_below"], s["green_from"], rates(ab["current"])))
PY
)
rc=$?
if [ "$rc" -eq 0 ]; then
    ok "loop: $out"
else
    not_ok "loop: the re-run reports what the suggestion promised" "$out"
fi
held=$(grep -o 'they score AUC [0-9.]*' "$T/before.txt" | cut -d' ' -f4)
expect_contains "the re-run's table shows the promised AUC as the current weights'" \
    "current weights $held" "$(cat "$T/after.txt")"
expect_contains "and the bands it applied, with their churn rates" \
    "$(sed -n 's/^  bands: {red_below: \([0-9.]*\), green_from: \([0-9.]*\)}$/Bands now (red below \1, green from \2)/p' "$T/loop.yaml")" \
    "$(cat "$T/after.txt")"

# A snippet that does not hold is refused with the path.
printf 'health:\n  bands: {red_below: 80, green_from: 60}\n' >"$T/bad.yaml"
out=$("$TEND" analyze --db "$DB" --lead 21 --config "$T/bad.yaml" 2>&1)
expect_contains "bands out of order are refused, naming health.bands" "health.bands" "$out"
