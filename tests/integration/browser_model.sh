#!/usr/bin/env bash
# The churn-risk pages in a real browser (issue 16, Must-show 4's browser
# half): headless Chromium driven by tests/browser/model.mjs opens /risk,
# /risk?owner=me, an account, /model, /models and the cockpit, takes
# screenshots (risk.png, model.png, cockpit.png, ...) into
# $TEND_TEST_ARTIFACTS/browser/, and checks that every number on the pages
# equals the REST API's (/api/risk, /api/model, /api/models, /api/ctas).
#
# The model: `tend model fit` on generated data, then `tend eval --at` today
# scores every account; a tend without `tend model fit` fails the test (it
# used to get a stand-in, model_seed.py, that hid a missing model).
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
YESTERDAY=$(date -u -d "$TODAY - 1 day" +%F)
FROM=$(date -u -d "$TODAY - 30 days" +%F)
BOOK_FROM=$(date -u -d "$TODAY - 40 days" +%F)
DB="$T/model.db"
PORT=$(free_port)
BROWSER_DIR="$ROOT/tests/browser"
SHOTS="${TEND_TEST_ARTIFACTS:-$T/artifacts}/browser"
EMAIL=ana@example.com
PASSWORD='correct horse battery 1'
ACCOUNTS=${TEND_BROWSER_MODEL_ACCOUNTS:-400}

if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ]; then
    not_ok "node and /usr/bin/chromium are installed" "node: $(command -v node), chromium: $(ls /usr/bin/chromium 2>&1)"
    exit 1
fi
# One install at a time: tests/run runs the browser scripts side by side.
if ! (cd "$BROWSER_DIR" && flock . sh -c '[ -d node_modules/playwright-core ] ||
    npm ci --no-audit --no-fund --loglevel=error' >"$T/npm.log" 2>&1); then
    not_ok "playwright-core could be installed from npm (npm ci in tests/browser)" "$(cat "$T/npm.log" 2>/dev/null)"
    exit 1
fi

# ---- data: a year of history, ana's book, a hostile name ---------------------------------
HASH=$(printf '%s\n' "$PASSWORD" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
[ -n "$HASH" ] || {
    not_ok "tend passwd prints a hash" "$(cat "$T/passwd.err")"
    exit 1
}
TOKEN="model-token-$RANDOM$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
"$TEND" generate --accounts "$ACCOUNTS" --days 365 --end "$TODAY" --seed 16 --out "$T/gen.jsonl" 2>"$T/gen.err" || {
    not_ok "tend generate" "$(cat "$T/gen.err")"
    exit 1
}
# ana owns twelve accounts from before the replay on (her book and her cockpit).
for i in $(seq 1 12); do
    printf '{"type":"group","userId":"book-u","groupId":"acc_%05d","timestamp":"%sT00:00:00Z","messageId":"book-%d","traits":{"csm_email":"%s"}}\n' \
        "$i" "$BOOK_FROM" "$i" "$EMAIL"
done >"$T/book.jsonl"
cat >"$T/extra.jsonl" <<EOT
{"type":"group","userId":"xss-u1","groupId":"xss-co","timestamp":"${BOOK_FROM}T09:00:00Z","messageId":"x1","traits":{"name":"<script>alert(1)</script>","csm_email":"$EMAIL","segment":"smb","plan":"starter","mrr":90,"seats":3}}
{"type":"identify","userId":"xss-u1","timestamp":"${BOOK_FROM}T09:00:01Z","messageId":"x2","traits":{"email":"eve@xss.example","name":"<b>Eve</b>","company_id":"xss-co"}}
{"type":"track","userId":"xss-u1","event":"NPS Survey Responded","timestamp":"${YESTERDAY}T10:00:00Z","messageId":"x3","properties":{"score":2,"comment":"<img src=x onerror=alert(2)>"},"context":{"groupId":"xss-co"}}
EOT
out=$("$TEND" import --db "$DB" "$T/gen.jsonl" "$T/book.jsonl" "$T/extra.jsonl" 2>&1) || {
    not_ok "tend import" "$out"
    exit 1
}
out=$("$TEND" eval --db "$DB" --from "$FROM" --to "$YESTERDAY" --quiet 2>&1) || {
    not_ok "tend eval --from $FROM --to $YESTERDAY" "$out"
    exit 1
}

# ---- the model ------------------------------------------------------------------------------
# A tend without `tend model` fails here: no stand-in data could show that the
# pages render a fitted model's numbers.
start=$(date +%s%N)
if out=$("$TEND" model fit --db "$DB" 2>&1); then
    ok "tend model fit on $ACCOUNTS generated accounts x 365 days ($(((($(date +%s%N) - start) / 1000000))) ms)"
else
    not_ok "tend model fit on $ACCOUNTS generated accounts x 365 days" "$out"
    exit 1
fi
out=$("$TEND" eval --db "$DB" --at "$TODAY" 2>&1) || {
    not_ok "tend eval --at $TODAY after the fit" "$out"
    exit 1
}
n=$(sqlite3 "$DB" "SELECT COUNT(*) FROM risk_by_day WHERE day = CAST(julianday('$TODAY') - 2440587.5 AS INTEGER)")
if [ "${n:-0}" -gt 0 ]; then
    ok "tend eval --at $TODAY stores p_churn of $n accounts with the fitted model"
else
    not_ok "tend eval --at $TODAY stores p_churn with the fitted model" "$n rows"
    exit 1
fi

cat >"$T/tend.yaml" <<EOT
serve:
  timezone: Europe/Berlin
  daily_at: "06:00"
  users:
    - email: $EMAIL
      name: Ana Ortiz
      password_hash: "$HASH"
  tokens:
    - name: browser
      sha256: "$TOKEN_SHA"
EOT
start_serve "$DB" "$PORT" --config "$T/tend.yaml" || exit 1

n=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/risk?per_page=1" |
    $PY -c 'import json,sys; print(json.load(sys.stdin).get("accounts_scored", 0))')
if [ "${n:-0}" -gt 0 ]; then ok "setup: /api/risk has $n scored accounts"; else not_ok "setup: /api/risk has scored accounts" "$n"; fi

# ---- the browser ------------------------------------------------------------------------------
mkdir -p "$SHOTS"
(cd "$BROWSER_DIR" && BASE="http://127.0.0.1:$PORT" EMAIL="$EMAIL" PASSWORD="$PASSWORD" TOKEN="$TOKEN" \
    XSS_ID=xss-co SHOTS="$SHOTS" timeout 300 node model.mjs >"$T/results.jsonl" 2>"$T/node.err")
rc=$?
browser_report model.mjs "$rc"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
cp "$T/serve.log" "$SHOTS/serve-model.log" 2>/dev/null
true
