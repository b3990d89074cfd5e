#!/usr/bin/env bash
# A csm in a real browser (headless Chromium, playwright-core,
# tests/browser/csm.mjs), on the cockpit's data (300+ live CTAs: tend generate,
# then tend eval with the weekly budget off): the user signs in with
# `role: csm` (docs/dashboard.md "Roles and permissions"), is the csm_email of
# the largest book, and reads the whole team's list (serve.csm_reads: all).
# csm.mjs checks what the role allows (no Users/Audit links, /users and /audit
# 403 pages, another book's CTA refused with 403 and unchanged, their own CTA's
# form works), pages a filtered list and compares each page with the API
# called with the same session, adds a note, ticks a playbook step (recorded
# with their email) and exports the filtered page's CSV equal to the API's.
# Screenshots go to $TEND_TEST_ARTIFACTS/csm/.
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
TOMORROW=$(date -u -d "$TODAY + 1 day" +%F)
FROM=$(date -u -d "$TODAY - 100 days" +%F)
DB="$T/csm.db"
PORT=$(free_port)
BROWSER_DIR="$ROOT/tests/browser"
SHOTS="${TEND_TEST_ARTIFACTS:-$T/artifacts}/csm"
PASSWORD='correct horse battery 3'

if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ]; then
    not_ok "node and /usr/bin/chromium are installed" "node: $(command -v node), chromium: $(ls /usr/bin/chromium 2>&1)"
    exit 1
fi
if ! (cd "$BROWSER_DIR" && flock . sh -c '[ -d node_modules/playwright-core ] ||
    npm ci --no-audit --no-fund --loglevel=error' >"$T/npm.log" 2>&1); then
    not_ok "playwright-core could be installed from npm (npm ci in tests/browser)" "$(cat "$T/npm.log" 2>/dev/null)"
    exit 1
fi

# ---- 300 live CTAs, as browser_cockpit.sh seeds them -------------------------------------
HASH=$(printf '%s\n' "$PASSWORD" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
[ -n "$HASH" ] || {
    not_ok "tend passwd prints a hash" "$(cat "$T/passwd.err")"
    exit 1
}
printf 'rules:\n  budget:\n    per_owner_per_week: 0\n' >"$T/eval.yaml"
"$TEND" generate --accounts 520 --days 200 --end "$TOMORROW" --out "$T/gen.jsonl" 2>"$T/gen.err" || {
    not_ok "tend generate" "$(cat "$T/gen.err")"
    exit 1
}
out=$("$TEND" import --db "$DB" "$T/gen.jsonl" 2>&1) || {
    not_ok "tend import" "$out"
    exit 1
}
out=$("$TEND" eval --db "$DB" --config "$T/eval.yaml" --from "$FROM" --to "$TODAY" --quiet 2>&1) || {
    not_ok "tend eval" "$out"
    exit 1
}
"$TEND" ctas --db "$DB" --status live --format json --limit 1000000 >"$T/live.json"
# The csm: the owner (csm_email) with the most live CTAs; the playbook on the
# rule most common in their book.
read -r LIVE CSM MINE PB_RULE <<<"$($PY - "$T/live.json" <<'PY'
import collections, json, sys
ctas = json.load(open(sys.argv[1]))
owner, mine = collections.Counter(c["owner"] for c in ctas).most_common(1)[0]
rule = collections.Counter(c["rule"] for c in ctas if c["owner"] == owner).most_common(1)[0][0]
print(len(ctas), owner, mine, rule)
PY
)"
if [ "${LIVE:-0}" -ge 300 ] && [ "${MINE:-0}" -ge 3 ]; then
    ok "setup: $LIVE live CTAs (at least 300), $MINE in the book of $CSM, the playbook on $PB_RULE"
else
    not_ok "setup: at least 300 live CTAs, 3 in the csm's book" "live: $LIVE, csm: $CSM ($MINE)"
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
serve:
  csm_reads: all
  users:
    - email: $CSM
      name: Cass Csm
      role: csm
      password_hash: "$HASH"
EOF2
start_serve "$DB" "$PORT" --config "$T/tend.yaml" --no-eval || exit 1

# ---- the browser ---------------------------------------------------------------------------
mkdir -p "$SHOTS"
(cd "$BROWSER_DIR" && BASE="http://127.0.0.1:$PORT" EMAIL="$CSM" PASSWORD="$PASSWORD" \
    UNTIL=$(date -u -d "$TODAY + 9 days" +%F) PB_RULE="$PB_RULE" SHOTS="$SHOTS" \
    timeout 600 node csm.mjs >"$T/results.jsonl" 2>"$T/node.err")
rc=$?
browser_report csm.mjs "$rc"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
cp "$T/serve.log" "$SHOTS/serve.log" 2>/dev/null
true
