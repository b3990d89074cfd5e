#!/usr/bin/env bash
# tend score: stored daily scores, history, purity of past days, explanations
# that add up, configuration (SPEC 4; issue 3 must show 2).
. "$(dirname "$0")/lib.sh"

DB="$(db s)"
"$TEND" import --db "$DB" --accounts "$ROOT/examples/accounts.csv" "$ROOT/examples/saas.jsonl" >/dev/null

out=$("$TEND" score --db "$DB" --at 2026-09-30 --format csv)
expect_eq "score --at prints one row per account, riskiest first" \
    "account_id,score,band,logins,adoption,sentiment,support,financial,trend_7d,trend_30d,weakest" \
    "$(echo "$out" | head -1)"
expect_eq "three accounts scored" 3 "$(echo "$out" | tail -n +2 | wc -l)"
sorted=$(echo "$out" | tail -n +2 | cut -d, -f2 | sort -g | paste -sd,)
expect_eq "rows are ordered by score, lowest first" "$sorted" "$(echo "$out" | tail -n +2 | cut -d, -f2 | paste -sd,)"
stored=$(dbq "$DB" "SELECT COUNT(*) FROM scores WHERE day = $(day_num 2026-09-30)")
expect_eq "and stored per account for the day" 3 "$stored"
inrange=$(dbq "$DB" "SELECT COUNT(*) FROM scores WHERE overall < 0 OR overall > 100 OR band NOT IN ('red','yellow','green')")
expect_eq "stored scores are within 0-100 with a band" 0 "$inrange"

# The explanation adds up, and names what it used.
"$TEND" score --db "$DB" --account globex --explain --at 2026-09-30 --format json >"$T/explain.json"
check "the explanation's contributions add up to the score" $PY - "$T/explain.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
total = sum(c["contribution"] for c in e["components"])
assert abs(total - e["score"]) < 1e-9, (total, e["score"])
weights = sum(c["effective_weight"] for c in e["components"] if c["has_data"])
assert abs(weights - 1) < 1e-12, weights
for c in e["components"]:
    if c["has_data"]:
        known = [f for f in c["inputs"] if f["value"] is not None]
        s = sum(f["score"] * f["weight"] for f in known) / sum(f["weight"] for f in known)
        assert abs(s - c["score"]) < 1e-9, (c["name"], s, c["score"])
    else:
        assert all(f["value"] is None for f in c["inputs"]), c
PY
dropped=$($PY -c 'import json,sys; e=json.load(open(sys.argv[1])); print(",".join(c["name"] for c in e["components"] if not c["has_data"]))' "$T/explain.json")
expect_eq "components without data drop out (globex sends no product data)" "logins,adoption" "$dropped"
stored_score=$(printf '%.6f' "$(dbq "$DB" "SELECT overall FROM scores s JOIN accounts a ON a.id = s.account_id WHERE a.external_id = 'globex'")")
explained=$($PY -c 'import json,sys; print("%.6f" % json.load(open(sys.argv[1]))["score"])' "$T/explain.json")
expect_eq "the explained score is the stored one" "$stored_score" "$explained"
text=$("$TEND" score --db "$DB" --account globex --explain --at 2026-09-30)
expect_contains "the text explanation shows the trend against 7 days earlier" "7 days earlier:" "$text"
expect_contains "and each input with its value and curve score" "max_days_overdue" "$text"

# Purity: a past day recomputes to the same value, whatever arrived later.
# every stored score (of 2026-09-30), to 9 decimals, by account
scores_9() { dbq "$DB" "SELECT overall FROM scores ORDER BY account_id, day" | awk '{ printf "%.9f\n", $1 }' | paste -sd,; }
before=$(scores_9)
cat >"$T/later.jsonl" <<'JSONL'
{"type":"track","userId":"u-cy","event":"NPS Survey Responded","timestamp":"2026-10-05T00:00:00Z","messageId":"later-1","properties":{"score":10}}
{"type":"group","userId":"u-cy","groupId":"globex","timestamp":"2026-10-06T00:00:00Z","messageId":"later-2","traits":{"mrr":99999,"seats":1}}
{"type":"track","userId":"u-ada","event":"Ticket Opened","timestamp":"2026-10-07T00:00:00Z","messageId":"later-3","properties":{"ticket_id":"X"}}
JSONL
"$TEND" import --db "$DB" "$T/later.jsonl" >/dev/null
"$TEND" score --db "$DB" --at 2026-09-30 >/dev/null
after=$(scores_9)
expect_eq "rescoring a past day after later events gives the same scores" "$before" "$after"

# History: --from/--to stores every day; the 7-day trend then comes from it.
out=$("$TEND" score --db "$DB" --from 2026-09-01 --to 2026-09-30)
expect_contains "--from/--to reports what it did" "scored 3 accounts for 30 days" "$out"
# initech first appears on 09-10: no score before it exists (30 + 30 + 21 days).
expect_eq "it stores a score per account per day it exists" 81 "$(dbq "$DB" 'SELECT COUNT(*) FROM scores')"
expect_eq "and none for an account before it was known" 0 \
    "$(dbq "$DB" "SELECT COUNT(*) FROM scores s JOIN accounts a ON a.id = s.account_id WHERE a.external_id = 'initech' AND s.day < $(day_num 2026-09-10)")"
trend=$("$TEND" score --db "$DB" --at 2026-09-30 --format csv | grep '^globex,' | cut -d, -f9)
want=$(printf '%.4f' "$(dbq "$DB" "SELECT a.overall - b.overall FROM scores a JOIN scores b ON a.account_id = b.account_id AND b.day = a.day - 7 JOIN accounts x ON x.id = a.account_id WHERE x.external_id = 'globex' AND a.day = $(day_num 2026-09-30)")")
expect_eq "trend_7d is the score minus the stored score 7 days earlier" "$(printf '%g' "$want")" "$(printf '%g' "$trend")"
versions=$(dbq "$DB" "SELECT COUNT(DISTINCT config_version) FROM scores")
expect_eq "every stored score names its configuration" 1 "$versions"

# globex churns on 2026-10-15 (examples/saas.jsonl): scored the day before, not after.
rows=$("$TEND" score --db "$DB" --at 2026-10-14 --format csv | grep -c '^globex,')
expect_eq "an account is scored up to the day before its churn" 1 "$rows"
rows=$("$TEND" score --db "$DB" --at 2026-10-15 --format csv | grep -c '^globex,')
expect_eq "and not from the day of its churn on" 0 "$rows"
printf '%s\n' '{"type":"track","userId":"u-cy","event":"Account Renewed","timestamp":"2026-10-20T00:00:00Z","messageId":"back-1","context":{"groupId":"globex"},"properties":{"arr":1}}' >"$T/back.jsonl"
"$TEND" import --db "$DB" "$T/back.jsonl" >/dev/null
rows=$("$TEND" score --db "$DB" --at 2026-10-20 --format csv | grep -c '^globex,')
expect_eq "a renewal after a churn makes it a customer again" 1 "$rows"

# Configuration.
cat >"$T/tend.yaml" <<'YAML'
health:
  weights: {logins: 0, adoption: 0, sentiment: 0, support: 1, financial: 0}
YAML
"$TEND" score --db "$DB" --config "$T/tend.yaml" --at 2026-09-30 --account acme --format csv >"$T/one.csv"
expect_eq "a configured weight changes the score (support only)" "100" "$(tail -1 "$T/one.csv" | cut -d, -f2)"
expect_eq "and the stored version" 2 "$(dbq "$DB" 'SELECT COUNT(DISTINCT config_version) FROM scores')"
printf 'helth:\n  weights: {logins: 1}\n' >"$T/bad.yaml"
"$TEND" score --db "$DB" --config "$T/bad.yaml" --at 2026-09-30 >/dev/null 2>"$T/err"
expect_eq "an unknown section exits 2" 2 "$?"
expect_contains "and is named" 'unknown section "helth"' "$(cat "$T/err")"
printf 'health:\n  weights: {logins: lots}\n' >"$T/bad2.yaml"
"$TEND" score --db "$DB" --config "$T/bad2.yaml" --at 2026-09-30 >/dev/null 2>"$T/err"
expect_contains "a bad value names its path" "health.weights.logins: must be a number" "$(cat "$T/err")"
"$TEND" score --db "$DB" --account nope --explain --at 2026-09-30 >/dev/null 2>"$T/err"
expect_eq "explaining an unknown account exits 2" 2 "$?"

# Weight 0 takes a component out of the overall score, not out of the
# computation: it is still scored, stored and explained (issue 15).
W0="$(db w0)"
"$TEND" import --db "$W0" --accounts "$ROOT/examples/accounts.csv" "$ROOT/examples/saas.jsonl" >/dev/null
"$TEND" score --db "$W0" --at 2026-09-30 >/dev/null
# every account's five stored components of 2026-09-30
components() { dbq "$W0" "SELECT account_id, logins, adoption, sentiment, support, financial FROM scores WHERE day = $(day_num 2026-09-30) ORDER BY account_id" | paste -sd' '; }
default_components=$(components)
printf 'health:\n  weights: {logins: 0.5, adoption: 0, sentiment: 0.5, support: 0, financial: 0}\n' >"$T/w0.yaml"
"$TEND" score --db "$W0" --config "$T/w0.yaml" --at 2026-09-30 >/dev/null
zero_components=$(components)
expect_eq "components of weight 0 are stored, the same as under the default weights" \
    "$default_components" "$zero_components"
"$TEND" score --db "$W0" --config "$T/w0.yaml" --account acme --explain --at 2026-09-30 \
    --format json >"$T/w0.json"
check "explain: weight-0 components have data and a score, no share; the rest add up" \
    $PY - "$T/w0.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
c = {k["name"]: k for k in e["components"]}
for name in ("adoption", "support", "financial"):
    k = c[name]
    assert k["weight"] == 0 and k["has_data"] and k["score"] is not None, k
    assert k["effective_weight"] == 0 and k["contribution"] == 0, k
want = (c["logins"]["score"] + c["sentiment"]["score"]) / 2
assert abs(e["score"] - want) < 1e-9, (e["score"], want)
PY
text=$("$TEND" score --db "$W0" --config "$T/w0.yaml" --account acme --explain --at 2026-09-30)
expect_contains "the text explanation says weight 0, not no data" "weight 0: scored, not counted" "$text"
[[ "$text" == *"no data"* ]] && not_ok "and no component is called no data" "$text" ||
    ok "and no component is called no data"
