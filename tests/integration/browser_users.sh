#!/usr/bin/env bash
# The users section of an account's page in a real browser (issue 18, Must
# show 3, the users half): headless Chromium driven by tests/browser/users.mjs
# signs in, opens /accounts/acme, takes screenshots (users.png and
# users-section.png) into $TEND_TEST_ARTIFACTS/browser/, and checks each row
# against GET /api/accounts/acme/users: role, name, last login, logins and the
# 12-week bars. The data is users.sh's (tests/integration/users_data.py).
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
YESTERDAY=$(date -u -d "$TODAY - 1 day" +%F)
export TODAY
DB="$(db users)"
PORT=$(free_port)
BROWSER_DIR="$ROOT/tests/browser"
SHOTS="${TEND_TEST_ARTIFACTS:-$T/artifacts}/browser"
EMAIL=ana@example.com
PASSWORD='correct horse battery 1'

if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ]; then
    not_ok "node and /usr/bin/chromium are installed" "node: $(command -v node), chromium: $(ls /usr/bin/chromium 2>&1)"
    exit 1
fi
if ! (cd "$BROWSER_DIR" && { [ -d node_modules/playwright-core ] ||
    npm ci --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1; }); then
    not_ok "playwright-core could be installed from npm (npm ci in tests/browser)" "$(cat "$T/npm.log" 2>/dev/null)"
    exit 1
fi

$PY "$ROOT/tests/integration/users_data.py" "$T/data.jsonl"
out=$("$TEND" import --db "$DB" "$T/data.jsonl" 2>&1) || {
    not_ok "tend import" "$out"
    exit 1
}
out=$("$TEND" eval --db "$DB" --at "$YESTERDAY" 2>&1) || {
    not_ok "tend eval --at $YESTERDAY" "$out"
    exit 1
}
HASH=$(printf '%s\n' "$PASSWORD" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
[ -n "$HASH" ] || {
    not_ok "tend passwd prints a hash" "$(cat "$T/passwd.err")"
    exit 1
}
TOKEN="users-token-$RANDOM$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat >"$T/tend.yaml" <<EOT
serve:
  timezone: UTC
  daily_at: "00:01"
  users:
    - email: $EMAIL
      name: Ana Ortiz
      password_hash: "$HASH"
  tokens:
    - name: browser
      sha256: "$TOKEN_SHA"
EOT
start_serve "$DB" "$PORT" --config "$T/tend.yaml" || exit 1

mkdir -p "$SHOTS"
(cd "$BROWSER_DIR" && BASE="http://127.0.0.1:$PORT" EMAIL="$EMAIL" PASSWORD="$PASSWORD" TOKEN="$TOKEN" \
    ACCOUNT=acme SHOTS="$SHOTS" timeout 300 node users.mjs >"$T/results.jsonl" 2>"$T/node.err")
rc=$?
browser_report users.mjs "$rc"
check "the screenshot of the users section was taken" test -s "$SHOTS/users-section.png"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
true
