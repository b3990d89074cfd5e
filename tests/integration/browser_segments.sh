#!/usr/bin/env bash
# The segments pages in a real browser: headless Chromium driven by
# playwright-core (tests/browser/segments.mjs): the list against
# GET /api/segments, by plan, one segment's SVG trend charts, its accounts
# and its segment_shift alert (planted: the 12 accounts of "retail" stop
# logging in for the last week), the alert's CTA page linking back to the
# segment. Screenshots go to $TEND_TEST_ARTIFACTS/browser/.
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
TOMORROW=$(date -u -d "$TODAY + 1 day" +%F)
FROM=$(date -u -d "$TODAY - 70 days" +%F)
DB=$(db browser_segments)
PORT=$(free_port)
BROWSER_DIR="$ROOT/tests/browser"
SHOTS="${TEND_TEST_ARTIFACTS:-$T/artifacts}/browser"
EMAIL=lead@example.com
PASSWORD='correct horse battery 2'

if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ]; then
    not_ok "node and /usr/bin/chromium are installed" "node: $(command -v node), chromium: $(ls /usr/bin/chromium 2>&1)"
    exit 1
fi
if ! (cd "$BROWSER_DIR" && { [ -d node_modules/playwright-core ] ||
    npm ci --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1; }); then
    not_ok "playwright-core could be installed from npm (npm ci in tests/browser)" "$(cat "$T/npm.log" 2>/dev/null)"
    exit 1
fi

HASH=$(printf '%s\n' "$PASSWORD" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
[ -n "$HASH" ] || {
    not_ok "tend passwd prints a hash" "$(cat "$T/passwd.err")"
    exit 1
}
TOKEN="seg-token-$RANDOM$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
"$TEND" generate --accounts 40 --days 100 --end "$TOMORROW" --out "$T/gen.jsonl" 2>"$T/gen.err" || {
    not_ok "tend generate" "$(cat "$T/gen.err")"
    exit 1
}
# retail: 12 accounts, 3 users each, logging in every day for 9 weeks, then
# not at all in the last 7 days: logins per active user fall 100%.
$PY - "$TODAY" >"$T/retail.jsonl" <<'PY'
import datetime as dt, json, sys
today = dt.date.fromisoformat(sys.argv[1])
n = 0
def msg(**m):
    global n
    n += 1
    m["messageId"] = f"r{n}"
    print(json.dumps(m))
for a in range(12):
    acct = f"retail-{a:02d}"
    for u in range(3):
        msg(type="group", userId=f"{acct}-u{u}", groupId=acct,
            timestamp=f"{today - dt.timedelta(days=70)}T08:00:00Z",
            traits={"name": f"Retail {a}", "segment": "retail", "plan": "growth", "mrr": 500,
                    "seats": 5, "csm_email": "sam@example.com"})
    for back in range(70, 6, -1):
        day = today - dt.timedelta(days=back)
        for u in range(3):
            msg(type="track", userId=f"{acct}-u{u}", event="Signed In",
                timestamp=f"{day}T09:{u:02d}:00Z", context={"groupId": acct})
PY
out=$("$TEND" import --db "$DB" "$T/gen.jsonl" "$T/retail.jsonl" 2>&1) || {
    not_ok "tend import" "$out"
    exit 1
}
cat >"$T/tend.yaml" <<EOF
segments:
  retail: {owner: $EMAIL}
delivery: {base_url: "http://tend.test", max_age_days: 100000}
channels:
  audit: {type: log, path: "$T/notify.log"}
serve:
  timezone: Europe/Berlin
  daily_at: "06:00"
  users:
    - email: $EMAIL
      name: Lea Lead
      password_hash: "$HASH"
  tokens:
    - name: browser
      sha256: "$TOKEN_SHA"
EOF
out=$("$TEND" eval --db "$DB" --config "$T/tend.yaml" --from "$FROM" --to "$TODAY" --quiet 2>&1) || {
    not_ok "tend eval" "$out"
    exit 1
}
alert=$("$TEND" ctas --db "$DB" --rule segment_shift --format json | $PY -c '
import json, sys
print(" ".join(c["account_id"] + ":" + c["owner"] for c in json.load(sys.stdin) if c["subject"] == "retail"))')
expect_eq "setup: segment_shift opened retail's CTA for the segment's owner" "segment:retail:$EMAIL" "$alert"
# Its message names the segment's owner and links to the segment's page.
"$TEND" deliver --db "$DB" --config "$T/tend.yaml" >"$T/deliver.out" 2>&1
line=$(grep -F 'Segment retail' "$T/notify.log" | grep -F '"event":"open"' | head -1)
expect_contains "the segment CTA's message links to its segment's page" "http://tend.test/segments/retail" "$line"
expect_contains "and goes to the segment's owner" "$EMAIL" "$line"
start_serve "$DB" "$PORT" --config "$T/tend.yaml" || exit 1

code=$(curl -s -o "$T/api.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/segments")
expect_eq "GET /api/segments answers 200" 200 "$code"
"$TEND" segments --db "$DB" --format json >"$T/cli.json"
same=$($PY -c '
import json, sys
a = json.load(open(sys.argv[1]))["groups"]; b = json.load(open(sys.argv[2]))
for g in a: g.pop("trend", None)
print("same" if a == b else f"differ: {a[:1]} {b[:1]}")' "$T/api.json" "$T/cli.json")
expect_eq "GET /api/segments has the groups tend segments prints" same "$same"
code=$(curl -s -o "$T/bad.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/segments?by=region")
expect_eq "GET /api/segments?by=region is a 400" 400 "$code"
expect_contains "naming by=" "by: must be segment, plan or owner" "$(cat "$T/bad.json")"

mkdir -p "$SHOTS"
(cd "$BROWSER_DIR" && BASE="http://127.0.0.1:$PORT" EMAIL="$EMAIL" PASSWORD="$PASSWORD" TOKEN="$TOKEN" \
    SEGMENT=retail SHOTS="$SHOTS" timeout 300 node segments.mjs >"$T/results.jsonl" 2>"$T/node.err")
rc=$?
browser_report segments.mjs "$rc"

kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
true
