#!/usr/bin/env bash
# Strength beside significance and correlated factors grouped (issue 20,
# part 2), in tend analyze's regression reports: the standardised
# coefficient, the "+1 SD impact" and the flags held to statsmodels' Logit;
# the groups held to scipy's single linkage on 1 - |r| cut at 0.5 (Carl
# Gold's method), the group scores to numpy, and the fit on them to
# statsmodels; on a generated table with planted correlated factors and on
# the store's metrics (tend analyze --lead --features metrics).
. "$(dirname "$0")/lib.sh"

CHECK="$ROOT/tests/integration/survival_check.py"

oracle() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name: ${out#ok: }"; else not_ok "$name" "$out"; fi
}

$PY "$CHECK" gen-factors "$T/f.csv"
"$TEND" analyze --table "$T/f.csv" --outcome churned --format json >"$T/f.json" 2>"$T/f.err"
expect_eq "a table with correlated factors: exit 0" 0 "$?"
oracle "1500 rows: strength, groups and the group fit as statsmodels and scipy" \
    $PY "$CHECK" factors "$T/f.csv" churned "$T/f.json"
groups=$($PY -c 'import json,sys; print(";".join(",".join(g["members"]) for g in json.load(open(sys.argv[1]))["groups"]))' "$T/f.json")
expect_eq "the planted groups are found, the negatively linked member inside its group" \
    "logins,active_days,days_since_login;tickets,escalations;seats;noise" "$groups"
signs=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["groups"][0]["signs"])' "$T/f.json")
expect_eq "and it enters the group's score with its sign flipped" "[1, 1, -1]" "$signs"

# 124 rows of the same: wide intervals, so strong effects stop being significant.
head -125 "$T/f.csv" >"$T/small.csv"
"$TEND" analyze --table "$T/small.csv" --outcome churned --format json >"$T/small.json" 2>/dev/null
oracle "124 rows: the same checks" $PY "$CHECK" factors "$T/small.csv" churned "$T/small.json"
flagged=$($PY -c 'import json,sys; print(",".join(s["name"] for s in json.load(open(sys.argv[1]))["strength"] if s["strong_not_significant"]))' "$T/small.json")
expect_eq "strong but not significant: flagged on the small table" "logins,seats,noise" "$flagged"
"$TEND" analyze --table "$T/small.csv" --outcome churned >"$T/small.txt" 2>/dev/null
expect_contains "the table format names the flag" "strong but not significant" "$(cat "$T/small.txt")"
expect_contains "and explains it" "Strong but not significant (p >= 0.05" "$(cat "$T/small.txt")"
expect_contains "and lists the independent predictors" "stands for: logins, active_days, -days_since_login" \
    "$(cat "$T/small.txt")"

# A factor with a real but tiny effect on many rows: significant but weak.
$PY - "$T/weak.csv" <<'PY'
import sys
import numpy as np
import pandas as pd
rng = np.random.default_rng(5)
n = 60000
x = rng.normal(0, 1, n)
z = rng.normal(0, 1, n)
lp = -1 + 0.06 * x + 0.8 * z
y = (rng.uniform(size=n) < 1 / (1 + np.exp(-lp))).astype(int)
pd.DataFrame({"churned": y, "tiny": x, "big": z}).to_csv(sys.argv[1], index=False)
PY
"$TEND" analyze --table "$T/weak.csv" --outcome churned --format json >"$T/weak.json" 2>/dev/null
oracle "60,000 rows: the same checks" $PY "$CHECK" factors "$T/weak.csv" churned "$T/weak.json"
weak=$($PY -c 'import json,sys; print(",".join(s["name"] for s in json.load(open(sys.argv[1]))["strength"] if s["significant_weak"]))' "$T/weak.json")
expect_eq "significant but weak: the tiny effect on many rows is flagged" "tiny" "$weak"

# More than 12 groups: the 12 most related to the outcome are kept.
$PY - "$T/many.csv" <<'PY'
import sys
import numpy as np
import pandas as pd
rng = np.random.default_rng(9)
n = 3000
d = pd.DataFrame({f"m{j:02d}": rng.normal(0, 1, n) for j in range(16)})
lp = -1 + sum(0.1 * (j + 1) / 16 * d[f"m{j:02d}"] for j in range(16))
d.insert(0, "churned", (rng.uniform(size=n) < 1 / (1 + np.exp(-lp))).astype(int))
d.to_csv(sys.argv[1], index=False)
PY
"$TEND" analyze --table "$T/many.csv" --outcome churned --format json >"$T/many.json" 2>/dev/null
check "16 independent factors: 16 groups found, the 12 most related to churn kept, by |r|" \
    $PY - "$T/many.json" "$T/many.csv" <<'PY'
import json, sys
import numpy as np
import pandas as pd
r = json.load(open(sys.argv[1]))
d = pd.read_csv(sys.argv[2])
assert r["groups_found"] == 16 and len(r["groups"]) == 12, (r["groups_found"], len(r["groups"]))
ry = {c: abs(np.corrcoef(d[c], d.churned)[0, 1]) for c in d.columns[1:]}
want = sorted(ry, key=lambda c: -ry[c])[:12]
assert [g["name"] for g in r["groups"]] == want, ([g["name"] for g in r["groups"]], want)
PY

# The store: tend analyze --lead --features metrics reports the same, on its
# own rows (the ones --export writes).
DB=$(db factors)
"$TEND" generate --accounts 300 --days 365 --seed 1 --end 2026-11-01 --out "$T/saas.jsonl" 2>/dev/null
"$TEND" import --db "$DB" "$T/saas.jsonl" >/dev/null
"$TEND" analyze --db "$DB" --lead 21 --features metrics --format json --export "$T/rows.csv" \
    >"$T/store.json" 2>"$T/store.err"
expect_eq "tend analyze --features metrics: exit 0" 0 "$?"
oracle "the store's metrics: strength and groups as statsmodels and scipy" \
    $PY "$CHECK" factors "$T/rows.csv" churned "$T/store.json"
"$TEND" analyze --db "$DB" --lead 21 >"$T/store.txt" 2>/dev/null
expect_contains "the components' report shows strength too" "Strength beside significance" "$(cat "$T/store.txt")"
expect_contains "and the independent predictors" "Independent predictors: 5 factors" "$(cat "$T/store.txt")"
