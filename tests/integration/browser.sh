#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium driven by playwright-core
# (pinned in tests/browser/package.json) through tests/browser/dashboard.mjs:
# sign in through the form, the ranking against the API, an account's SVG
# chart, snoozing a CTA from the cockpit, and an account named
# <script>alert(1)</script> shown as text. Screenshots go to
# $TEND_TEST_ARTIFACTS/browser/.
. "$(dirname "$0")/lib.sh"

# tend's clock at noon UTC of today (lib.sh): no day ends and no daily_at
# passes while the test runs. Chromium keeps its own clock: the session
# cookie's lifetime is a Max-Age, so the shift does not matter to it.
pin_clock_at_noon
TODAY=$(date -u +%F)
TOMORROW=$(date -u -d "$TODAY + 1 day" +%F)
YESTERDAY=$(date -u -d "$TODAY - 1 day" +%F)
FROM=$(date -u -d "$TODAY - 100 days" +%F)
DB="$T/browser.db"
PORT=$(free_port)
BROWSER_DIR="$ROOT/tests/browser"
SHOTS="${TEND_TEST_ARTIFACTS:-$T/artifacts}/browser"
EMAIL=ana@example.com
PASSWORD='correct horse battery 1'

# ---- playwright-core --------------------------------------------------------------
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

# ---- data, a user and a token ------------------------------------------------------
HASH=$(printf '%s\n' "$PASSWORD" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
[ -n "$HASH" ] || {
    not_ok "tend passwd prints a hash" "$(cat "$T/passwd.err")"
    exit 1
}
TOKEN="browser-token-$RANDOM$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
"$TEND" generate --accounts 60 --days 120 --end "$TOMORROW" --out "$T/gen.jsonl" 2>"$T/gen.err" || {
    not_ok "tend generate" "$(cat "$T/gen.err")"
    exit 1
}
cat >"$T/extra.jsonl" <<EOF
{"type":"group","userId":"xss-u1","groupId":"xss-co","timestamp":"${FROM}T09:00:00Z","messageId":"x1","traits":{"name":"<script>alert(1)</script>","csm_email":"$EMAIL","segment":"smb","plan":"starter","mrr":90,"seats":3}}
{"type":"identify","userId":"xss-u1","timestamp":"${FROM}T09:00:01Z","messageId":"x2","traits":{"email":"eve@xss.example","name":"<b>Eve</b>","company_id":"xss-co"}}
{"type":"track","userId":"xss-u1","event":"NPS Survey Responded","timestamp":"${YESTERDAY}T10:00:00Z","messageId":"x3","properties":{"score":2,"comment":"<img src=x onerror=alert(2)>"},"context":{"groupId":"xss-co"}}
EOF
out=$("$TEND" import --db "$DB" "$T/gen.jsonl" "$T/extra.jsonl" 2>&1) || {
    not_ok "tend import" "$out"
    exit 1
}
out=$("$TEND" eval --db "$DB" --from "$FROM" --to "$TODAY" --quiet 2>&1) || {
    not_ok "tend eval" "$out"
    exit 1
}
cat >"$T/tend.yaml" <<EOF
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
EOF
start_serve "$DB" "$PORT" --config "$T/tend.yaml" || exit 1

# A CTA of someone else's, assigned to ana through the API: the one to snooze.
SNOOZE_ID=$("$TEND" ctas --db "$DB" --status open --format json --limit 1000000 | $PY -c '
import json, sys
print(next(c["id"] for c in json.load(sys.stdin) if c["account_id"].startswith("acc_")))')
code=$(curl -s -o "$T/assign.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data "{\"owner\":\"$EMAIL\",\"note\":\"for the browser test\"}" \
    "http://127.0.0.1:$PORT/api/ctas/$SNOOZE_ID/assign")
expect_eq "setup: CTA $SNOOZE_ID assigned to $EMAIL through the API" 200 "$code"

# ---- the browser ---------------------------------------------------------------------
mkdir -p "$SHOTS"
(cd "$BROWSER_DIR" && BASE="http://127.0.0.1:$PORT" EMAIL="$EMAIL" PASSWORD="$PASSWORD" TOKEN="$TOKEN" \
    SNOOZE_ID="$SNOOZE_ID" UNTIL=$(date -u -d "$TODAY + 7 days" +%F) XSS_ID=xss-co SHOTS="$SHOTS" \
    timeout 300 node dashboard.mjs >"$T/results.jsonl" 2>"$T/node.err")
rc=$?
browser_report dashboard.mjs "$rc"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
cp "$T/serve.log" "$SHOTS/serve.log" 2>/dev/null
true
