#!/usr/bin/env bash
# Notes on the account and CTA pages in a real browser (issue 20, part 3):
# headless Chromium driven by tests/browser/notes.mjs signs in, records a
# meeting on an account and a call on a CTA through the pages' forms, checks
# them against the REST API (author, kind, text, the timeline, the CTA's
# history), and that the cockpit leaves out the CTAs the randomised holdout
# keeps from delivery. Screenshots into $TEND_TEST_ARTIFACTS/browser/.
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
YESTERDAY=$(date -u -d "$TODAY - 1 day" +%F)
LOGIN=$(date -u -d "$TODAY - 21 days" +%F)
DB="$(db bn)"
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
$PY - "$T/events.jsonl" "$LOGIN" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(8):
        acct = f"acc{i:02d}"
        f.write(json.dumps({"type": "group", "userId": f"u{i}", "groupId": acct,
                            "timestamp": "2026-01-01T00:00:00Z", "messageId": f"g{i}",
                            "traits": {"name": f"Account {i}", "mrr": 1000,
                                       "csm_email": "ana@example.com"}}) + "\n")
        f.write(json.dumps({"type": "track", "userId": f"u{i}", "event": "Signed In",
                            "timestamp": sys.argv[2] + "T12:00:00Z", "messageId": f"l{i}",
                            "context": {"groupId": acct}}) + "\n")
PY
"$TEND" import --db "$DB" "$T/events.jsonl" >/dev/null || not_ok "import"
HASH=$(printf '%s\n' "$PASSWORD" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
TOKEN="notes-token-$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat >"$T/tend.yaml" <<EOT
rules:
  health_drop: false
  budget: {per_owner_per_week: 0}
  no_login: {holdout: "50%", holdout_seed: 3}
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
"$TEND" eval --db "$DB" --config "$T/tend.yaml" --at "$YESTERDAY" >/dev/null 2>&1 || not_ok "eval"
read -r CTA ACCOUNT HELD < <("$TEND" ctas --db "$DB" --format json | $PY -c '
import json, sys
r = json.load(sys.stdin)
d = [c for c in r if not c["held_out"]]
h = [c for c in r if c["held_out"]]
print(d[0]["id"], d[0]["account_id"], h[0]["id"] if h else 0)')
start_serve "$DB" "$PORT" --config "$T/tend.yaml" || exit 1
mkdir -p "$SHOTS"
(cd "$BROWSER_DIR" && BASE="http://127.0.0.1:$PORT" EMAIL="$EMAIL" PASSWORD="$PASSWORD" TOKEN="$TOKEN" \
    ACCOUNT="$ACCOUNT" CTA="$CTA" HELD="$HELD" SHOTS="$SHOTS" timeout 300 node notes.mjs \
    >"$T/results.jsonl" 2>"$T/node.err")
rc=$?
browser_report notes.mjs "$rc"
check "the screenshot of the account's notes was taken" test -s "$SHOTS/notes-account-section.png"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
true
