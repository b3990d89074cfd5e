#!/usr/bin/env bash
# tend analyze --outcome contraction|expansion (issue 20, part 2): the same
# regression as churn's, the rows the accounts paying every --lead days and
# labelled by a contraction (or expansion) within them. On a generated SaaS
# with subscription changes: coefficients, standard errors, p-values and
# intervals equal statsmodels' Logit, the AUC scikit-learn's, and every row's
# label the pandas oracle's count of the revenue movements
# (analyze_outcome_check.py, retention_oracle.py); churn stays as it was;
# the option's errors.
. "$(dirname "$0")/lib.sh"

CHECK="$ROOT/tests/integration/analyze_outcome_check.py"
db=$(db outcome)
"$TEND" generate --accounts 400 --days 500 --end 2026-12-01 --seed 7 --out "$T/gen.jsonl" \
    2>/dev/null
"$TEND" import --db "$db" "$T/gen.jsonl" >/dev/null 2>&1

for kind in contraction expansion; do
    lead=45
    if "$TEND" analyze --db "$db" --lead $lead --outcome $kind --from 2025-10-01 \
        --to 2026-11-30 --format json --export "$T/$kind.csv" >"$T/$kind.json" \
        2>"$T/$kind.err"; then
        ok "analyze --outcome $kind --lead $lead runs"
    else
        not_ok "analyze --outcome $kind --lead $lead runs" "$(cat "$T/$kind.err")"
        continue
    fi
    if res=$($PY "$CHECK" $kind $lead "$T/$kind.json" "$T/$kind.csv" "$T/gen.jsonl" 2>&1); then
        ok "$kind: equal to statsmodels Logit and the oracle's labels ($res)"
    else
        not_ok "$kind: equal to statsmodels Logit and the oracle's labels" "$res"
    fi
done

# Churn is still the renewals and churns, whether named or not.
"$TEND" analyze --db "$db" --lead 21 --format json >"$T/churn0.json" 2>/dev/null
"$TEND" analyze --db "$db" --lead 21 --outcome churn --format json >"$T/churn1.json" 2>/dev/null
check "--outcome churn is the default analysis, unchanged" $PY - "$T/churn0.json" "$T/churn1.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b and a["outcome"] == "churn" and a["bands"], (a.get("outcome"), b.get("outcome"))
PY
check "contraction: no weights or bands are suggested (they are churn's)" $PY - \
    "$T/contraction.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["suggested_weights"] is None and "bands" not in r, r.keys()
PY

out=$("$TEND" analyze --db "$db" --lead 30 --outcome upsell 2>&1)
rc=$?
expect_eq "an unknown outcome: exit 2, named" \
    "2 yes" "$rc $([[ "$out" == *'--outcome must be churn, contraction or expansion, not "upsell"'* ]] && echo yes)"
