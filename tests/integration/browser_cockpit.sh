#!/usr/bin/env bash
# The cockpit at scale in a real browser (headless Chromium, playwright-core,
# tests/browser/cockpit.mjs): more than 300 live CTAs generated (tend
# generate, then tend eval with the weekly budget off), paged through with the
# page's Next link and compared with the API; filters and sorts kept in the
# URL and equal to the API's answer; a bulk snooze and a bulk reassign; a
# playbook step ticked and recorded with who and when; a CSV export whose rows
# equal the API's; and a crawl of every page of the seeded dashboard that no
# visible text shows a raw column name where a label exists, and that money
# always has its currency. Screenshots go to $TEND_TEST_ARTIFACTS/cockpit/.
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
TOMORROW=$(date -u -d "$TODAY + 1 day" +%F)
FROM=$(date -u -d "$TODAY - 100 days" +%F)
DB="$T/cockpit.db"
PORT=$(free_port)
BROWSER_DIR="$ROOT/tests/browser"
SHOTS="${TEND_TEST_ARTIFACTS:-$T/artifacts}/cockpit"
EMAIL=lea@example.com
PASSWORD='correct horse battery 2'

if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ]; then
    not_ok "node and /usr/bin/chromium are installed" "node: $(command -v node), chromium: $(ls /usr/bin/chromium 2>&1)"
    exit 1
fi
if ! (cd "$BROWSER_DIR" && flock . sh -c '[ -d node_modules/playwright-core ] ||
    npm ci --no-audit --no-fund --loglevel=error' >"$T/npm.log" 2>&1); then
    not_ok "playwright-core could be installed from npm (npm ci in tests/browser)" "$(cat "$T/npm.log" 2>/dev/null)"
    exit 1
fi

# ---- 300 live CTAs --------------------------------------------------------------------
HASH=$(printf '%s\n' "$PASSWORD" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
[ -n "$HASH" ] || {
    not_ok "tend passwd prints a hash" "$(cat "$T/passwd.err")"
    exit 1
}
TOKEN="cockpit-token-$RANDOM$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
printf 'rules:\n  budget:\n    per_owner_per_week: 0\n' >"$T/eval.yaml"
"$TEND" generate --accounts 520 --days 200 --end "$TOMORROW" --out "$T/gen.jsonl" 2>"$T/gen.err" || {
    not_ok "tend generate" "$(cat "$T/gen.err")"
    exit 1
}
out=$("$TEND" import --db "$DB" "$T/gen.jsonl" 2>&1) || {
    not_ok "tend import" "$out"
    exit 1
}
# A churn-risk model, so that the rows show each account's risk.
out=$("$TEND" model fit --db "$DB" --horizon 60 2>&1) || not_ok "tend model fit (the rows' churn risk)" "$out"
out=$("$TEND" eval --db "$DB" --config "$T/eval.yaml" --from "$FROM" --to "$TODAY" --quiet 2>&1) || {
    not_ok "tend eval" "$out"
    exit 1
}
"$TEND" analyze --db "$DB" --reasons >/dev/null 2>"$T/analyze.err" ||
    not_ok "tend analyze --reasons stores a report (for the crawl)" "$(cat "$T/analyze.err")"
"$TEND" ctas --db "$DB" --status live --format json --limit 1000000 >"$T/live.json"
read -r LIVE PB_RULE OTHER <<<"$($PY - "$T/live.json" <<'PY'
import collections, json, sys
ctas = json.load(open(sys.argv[1]))
rules = collections.Counter(c["rule"] for c in ctas)
owners = collections.Counter(c["owner"] for c in ctas)
print(len(ctas), rules.most_common(1)[0][0], owners.most_common(1)[0][0])
PY
)"
if [ "${LIVE:-0}" -ge 300 ]; then
    ok "setup: $LIVE live CTAs (at least 300), the playbook on $PB_RULE"
else
    not_ok "setup: at least 300 live CTAs" "live: $LIVE"
    exit 1
fi
cat >"$T/tend.yaml" <<EOF2
rules:
  budget:
    per_owner_per_week: 0
playbooks:
  $PB_RULE:
    - id: call
      title: Call the champion
    - id: review
      title: Review usage with the account
    - id: plan
      title: Agree on a success plan
serve:
  timezone: Europe/Berlin
  users:
    - email: $EMAIL
      name: Lea Lead
      password_hash: "$HASH"
  tokens:
    - name: cockpit
      sha256: "$TOKEN_SHA"
EOF2
# A playbook key tend does not know is refused with its path.
sed 's/title: Agree on a success plan/titel: Agree on a success plan/' "$T/tend.yaml" >"$T/bad.yaml"
out=$("$TEND" rules --db "$DB" --config "$T/bad.yaml" 2>&1)
rc=$?
expect_eq "a playbook step with an unknown key: exit 2" 2 "$rc"
expect_contains "naming its path" "playbooks.$PB_RULE[2]: unknown setting \"titel\"" "$out"
start_serve "$DB" "$PORT" --config "$T/tend.yaml" --no-eval || exit 1

# ---- the browser ---------------------------------------------------------------------------
mkdir -p "$SHOTS"
(cd "$BROWSER_DIR" && BASE="http://127.0.0.1:$PORT" EMAIL="$EMAIL" PASSWORD="$PASSWORD" TOKEN="$TOKEN" \
    UNTIL=$(date -u -d "$TODAY + 9 days" +%F) PB_RULE="$PB_RULE" OTHER="$OTHER" SHOTS="$SHOTS" \
    timeout 600 node cockpit.mjs >"$T/results.jsonl" 2>"$T/node.err")
rc=$?
browser_report cockpit.mjs "$rc"

# ---- /metrics and the version -------------------------------------------------------------
version=$("$TEND" --version | sed 's/^tend //')
metrics=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics")
expect_contains "/metrics says the version (tend_build_info)" "tend_build_info{version=\"$version\"} 1" "$metrics"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
cp "$T/serve.log" "$SHOTS/serve.log" 2>/dev/null
true
