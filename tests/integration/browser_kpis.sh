#!/usr/bin/env bash
# The KPI board and the monthly CS report in a real browser (issue 20, part
# 3): the world of kpis.sh (process_check.py's four owners over ten weeks,
# churns), tend serve, then tests/browser/kpis.mjs checks /kpis against GET
# /api/kpis and /reports/monthly against its API, on screen and printed.
# Screenshots into $TEND_TEST_ARTIFACTS/browser/ (kpis.png, monthly.png,
# monthly-print.pdf).
. "$(dirname "$0")/lib.sh"

DB="$(db bk)"
CHK="$ROOT/tests/integration/process_check.py"
KCHK="$ROOT/tests/integration/kpis_check.py"
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
cat >"$T/tend.yaml" <<EOF0
rules:
  health_drop: false
  outreach_unresponsive: false
  budget: {per_owner_per_week: 0}
EOF0
$PY "$CHK" drive "$DB" "$T/tend.yaml" "$TEND" "$T/events.jsonl"
"$TEND" import --db "$DB" "$T/events.jsonl" >/dev/null 2>&1 || not_ok "import"
$PY "$KCHK" churns "$DB" "$T/churns.jsonl" 5
"$TEND" import --db "$DB" "$T/churns.jsonl" >/dev/null 2>&1 || not_ok "import churns"
$PY "$CHK" drive2 "$DB" "$T/tend.yaml" "$TEND" >"$T/drive.out" 2>&1 || not_ok "the owners' weeks" "$(tail -5 "$T/drive.out")"
HASH=$(printf '%s\n' "$PASSWORD" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
TOKEN="kpis-token-$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat >>"$T/tend.yaml" <<EOT
kpis: [overdue_share, median_days_to_action, contacts_per_account, coverage_4w, health_mean, red_share, acted_share]
serve:
  timezone: UTC
  users:
    - email: $EMAIL
      name: Ana Ortiz
      password_hash: "$HASH"
  tokens:
    - name: browser
      sha256: "$TOKEN_SHA"
EOT
PORT=$(free_port)
start_serve "$DB" "$PORT" --config "$T/tend.yaml" --no-eval || exit 1
mkdir -p "$SHOTS"
(cd "$BROWSER_DIR" && BASE="http://127.0.0.1:$PORT" EMAIL="$EMAIL" PASSWORD="$PASSWORD" TOKEN="$TOKEN" \
    MONTH=2026-02 SHOTS="$SHOTS" timeout 300 node kpis.mjs >"$T/results.jsonl" 2>"$T/node.err")
rc=$?
browser_report kpis.mjs "$rc"
check "the screenshot of the KPI board was taken" test -s "$SHOTS/kpis.png"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
true
