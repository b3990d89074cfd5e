#!/usr/bin/env bash
# tend analyze --table: logistic regression of a CSV table, held to statsmodels
# (coefficients and standard errors to 1e-4 relative, p-values to 1e-4
# absolute) and scikit-learn (AUC to 1e-6), on a generated table with a known
# model and on IBM's telco churn table. analyze_check.py builds the design on
# its own with pandas, so the encoding (one-hot references, blank rows, id
# columns, dropped collinear columns) is checked, not copied.
. "$(dirname "$0")/lib.sh"

CHECK="$ROOT/tests/integration/analyze_check.py"
TELCO="$DATA/analysis/telco-churn.csv"
for kind in main collinear separation; do
    $PY "$CHECK" generate "$T/$kind.csv" "$kind"
done

# analyze NAME ARGS...: runs tend analyze, stdout to $T/NAME.out, stderr to
# $T/NAME.err; sets RC.
analyze() {
    local name=$1
    shift
    "$TEND" analyze "$@" >"$T/$name.out" 2>"$T/$name.err"
    RC=$?
}

# A generated table: numbers, text with commas and quotes, blanks, an id.
analyze main --table "$T/main.csv" --outcome outcome --format json
expect_eq "a generated table is analysed (exit 0)" 0 "$RC"
check "it matches statsmodels and scikit-learn, with the design built by pandas" \
    $PY "$CHECK" compare "$T/main.csv" outcome "$T/main.out"
err=$(cat "$T/main.err")
expect_contains "the id column is skipped with a note" \
    "tend analyze: skipped account_id: text with a different value on each of its 3000 rows" "$err"
expect_contains "blank rows are dropped, counted per column" \
    "tend analyze: dropped 75 of 3000 rows for a blank value (outcome: 10, mrr: 40, region: 25)" "$err"
expect_contains "text columns are coded against their most frequent value" \
    'plan: 3 levels, against "Pro"' "$err"

# IBM's telco churn table: 7,043 customers, 11 blank TotalCharges.
analyze telco --table "$TELCO" --outcome Churn --format json
expect_eq "the telco table is analysed (exit 0)" 0 "$RC"
check "telco: it matches statsmodels and scikit-learn" \
    $PY "$CHECK" compare "$TELCO" Churn "$T/telco.out"
n=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["n"])' "$T/telco.out")
expect_eq "telco: 7032 rows used (11 blank TotalCharges dropped)" 7032 "$n"
expect_contains "telco: the services' 'No internet service' levels are collinear with InternetService=No" \
    "dropped OnlineSecurity=No internet service: collinear with the columns before it (InternetService=No)" \
    "$(cat "$T/telco.err")"

# A column that is an exact combination of another is dropped, by name.
analyze collinear --table "$T/collinear.csv" --outcome outcome --format json
expect_eq "a table with a collinear column is analysed (exit 0)" 0 "$RC"
dropped=$($PY -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["dropped"]))' "$T/collinear.out")
expect_eq "the collinear column is named in \"dropped\"" "account_id,age_score" "$dropped"
expect_contains "and on stderr" "tend analyze: dropped age_score: collinear with the columns before it (age)" \
    "$(cat "$T/collinear.err")"
check "and the rest matches statsmodels" $PY "$CHECK" compare "$T/collinear.csv" outcome "$T/collinear.out"

# --columns picks the factors, in its order.
analyze picked --table "$T/main.csv" --outcome outcome --columns plan,age --format json
names=$($PY -c 'import json,sys; print(",".join(c["name"] for c in json.load(open(sys.argv[1]))["coefficients"]))' "$T/picked.out")
expect_eq "--columns picks the factors in its order" "(intercept),plan=Basic,plan=Enterprise,age" "$names"
check "--columns: it matches statsmodels" $PY "$CHECK" compare "$T/main.csv" outcome "$T/picked.out" plan,age

# Errors: exit 2 with a message naming what is wrong.
analyze unknown --table "$T/main.csv" --outcome outcome --columns age,nope
expect_eq "an unknown column exits 2" 2 "$RC"
expect_contains "naming it and listing the columns" \
    "no column \"nope\"; the columns are: account_id, age, mrr" "$(cat "$T/unknown.err")"
analyze named_id --table "$T/main.csv" --outcome outcome --columns age,account_id
expect_eq "an id column named in --columns exits 2" 2 "$RC"
expect_contains "saying why" "column account_id: text with a different value" "$(cat "$T/named_id.err")"

sed '42s/,[^,]*$/,maybe/' "$T/main.csv" >"$T/bad.csv"
analyze bad --table "$T/bad.csv" --outcome outcome
expect_eq "a bad outcome value exits 2" 2 "$RC"
expect_contains "naming the file, line, column and value" \
    "$T/bad.csv:42: column outcome: \"maybe\" is not an outcome" "$(cat "$T/bad.err")"

analyze sep --table "$T/separation.csv" --outcome outcome --format json
expect_eq "a separating column exits 2" 2 "$RC"
expect_contains "with the separation message naming the column" \
    "perfect separation: column cancel_requested alone predicts the outcome" "$(cat "$T/sep.err")"
expect_eq "and prints nothing on stdout" "" "$(cat "$T/sep.out")"

analyze nofile --table "$T/missing.csv" --outcome outcome
expect_eq "a missing file exits 2" 2 "$RC"
expect_contains "naming it" "cannot open $T/missing.csv" "$(cat "$T/nofile.err")"
analyze nooutcome --table "$T/main.csv"
expect_eq "--table without --outcome exits 2" 2 "$RC"

# The table format: aligned rows, significance marks, the n/AUC line and the
# factors that do not covary with churn.
analyze text --table "$T/main.csv" --outcome outcome
out=$(cat "$T/text.out")
expect_eq "the table format exits 0" 0 "$RC"
expect_contains "it has a header" "factor" "$(head -1 "$T/text.out")"
expect_contains "a row per coefficient, * when p < 0.05" "csm_touch=yes" "$(grep '  \*$' "$T/text.out")"
expect_contains "the n and AUC line" "n = 2925 rows (3000 read, 75 dropped for blanks)" "$out"
expect_contains "and the factors that do not covary with churn" \
    "Factors that do not covary with churn at the 5% level: region=South \"Coast\"" "$out"
csv=$("$TEND" analyze --table "$T/main.csv" --outcome outcome --format csv 2>/dev/null | head -1)
expect_eq "--format csv has a header row" "name,coef,se,z,p,ci_low,ci_high,odds_ratio" "$csv"
