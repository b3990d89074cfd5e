#!/usr/bin/env bash
# The scikit-learn oracle of the risk model's fit (stats/ridge.c) and its
# calibrations, through tend analyze --table:
# - --l2 C: the L2-penalised fit on the columns standardised by
#   stats/transform.c must equal sklearn's LogisticRegression(C, l2) on the
#   same columns standardised by pandas on its own, to 1e-4 on every
#   coefficient (newton-cg and lbfgs, tol 1e-12), with the standard errors
#   equal to numpy's inverse penalised Hessian; on a generated table with a
#   known model (money in the thousands next to 0/1 columns, and a constant
#   column) and on IBM's telco table's numeric columns, each for three C;
# - --calibrate platt: statsmodels' Logit of the outcome on the score;
# - --calibrate isotonic: sklearn's IsotonicRegression(out_of_bounds="clip"),
#   fitted on the first 2,000 rows and applied to all 3,000, so that tied
#   scores, interpolation between fitted scores and clipping beyond them are
#   all compared.
# The calibrations go through the CLI, not through expected values committed
# next to a unit test: the reference is computed afresh from the CSV by the
# libraries themselves on every run (model_check.py).
. "$(dirname "$0")/lib.sh"

CHECK="$ROOT/tests/integration/model_check.py"
TELCO="$DATA/analysis/telco-churn.csv"
$PY "$CHECK" generate "$T/known.csv"
$PY "$CHECK" generate-calib "$T/calib.csv"

# measure NAME COMMAND...: check, with the checker's figures (its last line)
# in the ok line.
measure() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name: $(tail -1 <<<"$out")"; else not_ok "$name" "$out"; fi
}

# run NAME ARGS...: tend analyze --table ARGS, stdout to $T/NAME.out, stderr
# to $T/NAME.err; sets RC.
run() {
    local name=$1
    shift
    "$TEND" analyze --table "$@" >"$T/$name.out" 2>"$T/$name.err"
    RC=$?
}

for c in 0.01 0.3 10; do
    run "known-$c" "$T/known.csv" --outcome churned --l2 "$c" --format json
    expect_eq "generated table, C=$c: exit 0" 0 "$RC"
    measure "generated table, C=$c: coefficients equal scikit-learn's to 1e-4" \
        $PY "$CHECK" ridge "$T/known.csv" churned "$c" "$T/known-$c.out"
done
expect_contains "the constant column is named" "region_code is constant: 0 after standardising" \
    "$(cat "$T/known-0.3.err")"
coef=$($PY -c 'import json,sys; print([c["coef"] for c in json.load(open(sys.argv[1]))["coefficients"] if c["name"] == "region_code"][0])' "$T/known-0.3.out")
expect_eq "and its coefficient is 0 under the penalty" "0" "$coef"

cols=SeniorCitizen,tenure,MonthlyCharges,TotalCharges
for c in 0.001 0.05 1; do
    run "telco-$c" "$TELCO" --outcome Churn --columns "$cols" --l2 "$c" --format json
    expect_eq "telco numeric columns, C=$c: exit 0" 0 "$RC"
    measure "telco numeric columns, C=$c: coefficients equal scikit-learn's to 1e-4" \
        $PY "$CHECK" ridge "$TELCO" Churn "$c" "$T/telco-$c.out" "$cols"
done

# A stronger penalty shrinks every coefficient towards 0.
shrunk=$($PY -c '
import json, sys
a = json.load(open(sys.argv[1]))["coefficients"][1:]
b = json.load(open(sys.argv[2]))["coefficients"][1:]
print(all(abs(x["coef"]) < abs(y["coef"]) for x, y in zip(a, b)))' "$T/telco-0.001.out" "$T/telco-1.out")
expect_eq "C=0.001 shrinks every telco coefficient below C=1's" True "$shrunk"

run platt "$T/calib.csv" --outcome churned --calibrate platt --score score --calibrate-on 2000
expect_eq "--calibrate platt exits 0" 0 "$RC"
expect_eq "and prints a row per table row" 3001 "$(wc -l <"$T/platt.out")"
measure "Platt scaling equals statsmodels' Logit on the score" \
    $PY "$CHECK" platt "$T/calib.csv" churned score 2000 "$T/platt.out"

run iso "$T/calib.csv" --outcome churned --calibrate isotonic --score score --calibrate-on 2000
expect_eq "--calibrate isotonic exits 0" 0 "$RC"
measure "isotonic regression equals scikit-learn's (ties, interpolation, clipping)" \
    $PY "$CHECK" isotonic "$T/calib.csv" churned score 2000 "$T/iso.out"
run isoall "$T/calib.csv" --outcome churned --calibrate isotonic --score score
measure "and fitted on every row" $PY "$CHECK" isotonic "$T/calib.csv" churned score 3000 "$T/isoall.out"

# Usage errors name the problem.
run badc "$T/known.csv" --outcome churned --l2 0
expect_eq "--l2 0 exits 2" 2 "$RC"
expect_contains "saying what is wanted" '--l2 "0": give a positive number (C)' "$(cat "$T/badc.err")"
run nokind "$T/calib.csv" --outcome churned --score score
expect_eq "--score without --calibrate exits 2" 2 "$RC"
run toomany "$T/calib.csv" --outcome churned --calibrate platt --score score --calibrate-on 5000
expect_eq "--calibrate-on beyond the table exits 2" 2 "$RC"
expect_contains "naming the row count" "--calibrate-on 5000: the table has 3000 rows" \
    "$(cat "$T/toomany.err")"
