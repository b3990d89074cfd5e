#!/usr/bin/env bash
# The churn-risk views over real HTTP (server/views_model.c): /api/risk,
# /api/model, /api/models, an account's "risk", and the pages' answers, on a
# database without a model (the empty states) and with one (model_seed.py
# stands in for tend model fit: the contract's tables). Bad parameters are
# refused with a message naming them.
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
FROM=$(date -u -d "$TODAY - 3 days" +%F)
DB="$T/http_model.db"
PORT=$(free_port)
TOKEN="hm-token-$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
"$TEND" generate --accounts 40 --days 60 --end "$TODAY" --out "$T/gen.jsonl" 2>"$T/gen.err" || {
    not_ok "tend generate" "$(cat "$T/gen.err")"
    exit 1
}
out=$("$TEND" import --db "$DB" "$T/gen.jsonl" 2>&1) || {
    not_ok "tend import" "$out"
    exit 1
}
out=$("$TEND" eval --db "$DB" --from "$FROM" --to "$TODAY" --quiet 2>&1) || {
    not_ok "tend eval" "$out"
    exit 1
}
cat >"$T/tend.yaml" <<EOT
serve:
  tokens:
    - name: hm
      sha256: "$TOKEN_SHA"
EOT
start_serve "$DB" "$PORT" --config "$T/tend.yaml" --no-eval || exit 1
B="http://127.0.0.1:$PORT"

# get PATH: "STATUS BODY" of a GET with the token.
get() {
    curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$B$1"
    printf ' %s' "$(head -c 2000 "$T/body")"
}
json_field() { $PY -c "import json,sys; d=json.load(open('$T/body')); print($1)"; }

# ---- no model yet ----------------------------------------------------------------------
r=$(get /api/model)
expect_eq "GET /api/model without a model: 404 saying how to fit one" \
    '404 {"error":"no adopted model yet (tend model fit)"}' "$r"
r=$(get /model)
expect_contains "GET /model without a model: the page says how to fit one (200)" "200 " "${r:0:4}"
expect_contains "  with tend model fit in it" "<code>tend model fit</code>" "$r"
r=$(get /api/risk)
expect_eq "GET /api/risk without scores: 200, no day, nothing scored" "200 None 0 0 []" \
    "${r:0:3} $(json_field 'd["day"], d["accounts_scored"], d["arr_at_risk_total"], d["rows"]' | tr -d '(),')"
r=$(get /api/models)
expect_eq "GET /api/models without a model: an empty list" "200 []" "${r:0:3} $(json_field 'd["models"]')"
r=$(get /api/accounts/acc_00001)
expect_eq "GET /api/accounts/{id} without scores: risk is null" "None" "$(json_field 'd["risk"]')"

# ---- bad parameters --------------------------------------------------------------------
r=$(get '/api/model?version=abc')
expect_eq "version=abc: 400 naming the parameter" '400 {"error":"version: must be a number >= 1"}' "$r"
r=$(get '/api/risk?per_page=501')
expect_eq "per_page=501: 400 naming the limit" '400 {"error":"per_page: must be a number from 1 to 500"}' "$r"
r=$(get '/api/risk?owner=me')
expect_eq "owner=me with an API token: 400" '400 {"error":"owner: me needs a signed-in user, not an API token"}' "$r"
r=$(get '/api/model?version=7')
expect_eq "an unknown version: 404" '404 {"error":"no model version 7"}' "$r"
r=$(get '/model?version=7')
expect_eq "the page of an unknown version: 404" "404" "${r:0:3}"

# ---- with a model ------------------------------------------------------------------------
out=$($PY "$ROOT/tests/integration/model_seed.py" "$DB" 2>&1) || {
    not_ok "model_seed.py" "$out"
    exit 1
}
r=$(get /api/model)
expect_eq "GET /api/model: the adopted model's card as stored (v2, adopted, nothing added)" "200 2 True True 10" \
    "${r:0:3} $(json_field 'd["version"], d["adopted"], "current" not in d, len(d["calibration"])' | tr -d '(),')"
r=$(get '/api/model?version=1')
expect_eq "GET /api/model?version=1: the older card, not adopted" "200 1 False" \
    "${r:0:3} $(json_field 'd["version"], d["adopted"]' | tr -d '(),')"
r=$(get /api/models)
expect_eq "GET /api/models: both, newest first, the current marked" "200 [(2, True), (1, False)]" \
    "${r:0:3} $(json_field '[(m["version"], m["current"]) for m in d["models"]]')"
r=$(get '/api/risk')
check_risk=$($PY - "$T/body" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
bad = [r for r in rows if r["arr"] is not None and abs(r["arr_at_risk"] - r["p_churn"] * r["arr"]) > 1e-4 * r["arr"] + 0.01]
order = [r["arr_at_risk"] for r in rows if r["arr_at_risk"] is not None]
total = round(sum(order), 2)
ok = (len(rows) == d["accounts_scored"] == d["total"] > 0 and not bad and order == sorted(order, reverse=True)
      and abs(total - d["arr_at_risk_total"]) < 0.01 * len(rows) + 0.01 and d["model"]["version"] == 2
      and all(len(r["drivers"]) <= 3 for r in rows))
print("ok" if ok else "bad: %d rows, scored %s, total %s vs %s, %d off" % (len(rows), d["accounts_scored"], total, d["arr_at_risk_total"], len(bad)))
PY
)
expect_eq "GET /api/risk: every scored account, by ARR at risk = p_churn x ARR, the total their sum, model v2" "ok" "$check_risk"
first=$(json_field 'd["rows"][0]["account_id"]')
owner=$(json_field 'd["rows"][0]["owner"] or ""')
p=$(json_field 'd["rows"][0]["p_churn"]')
get "/api/accounts/$first" >/dev/null
expect_eq "GET /api/accounts/{id}: its risk equals the ranking's" "$p 90 2" \
    "$(json_field 'd["risk"]["p_churn"], d["risk"]["horizon_days"], d["risk"]["model_version"]' | tr -d '(),')"
if [ -n "$owner" ]; then
    get "/api/risk?owner=$owner" >/dev/null
    expect_eq "owner=EMAIL keeps that owner's accounts only" "True" \
        "$(json_field "d['total'] > 0 and all(r['owner'] == '$owner' for r in d['rows'])")"
fi
r=$(get '/risk')
expect_contains "GET /risk: the page, with the model's link" '<a href="/model?version=2">v2</a>' "$r"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
