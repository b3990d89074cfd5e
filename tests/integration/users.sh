#!/usr/bin/env bash
# An account's users (issue 18, part 2; docs/rules.md champion_risk, docs/cli.md
# tend users, docs/api.md): roles from the `role` trait, each user's
# engagement as of a day, the same in `tend users` (table, csv, json), GET
# /api/accounts/ID/users and the account view; champion_risk and nps_change
# through tend serve's event-triggered evaluation (a removal, an NPS answer
# posted to /v1/track), as the daily run finds them. The page in a browser is
# browser_users.sh.
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
YESTERDAY=$(date -u -d "$TODAY - 1 day" +%F)
ago() { date -u -d "$TODAY - $1 days" +%F; }
DB="$(db users)"
export TEND T TODAY

# ---- data: acme with a champion going quiet, an admin, a billing contact, a user with no
# role and a former member; beta with users and no roles; gamma's NPS ------------------------
$PY "$ROOT/tests/integration/users_data.py" "$T/data.jsonl"
out=$("$TEND" import --db "$DB" "$T/data.jsonl" 2>&1) || {
    not_ok "tend import" "$out"
    exit 1
}
out=$("$TEND" eval --db "$DB" --at "$YESTERDAY" 2>&1) || {
    not_ok "tend eval --at $YESTERDAY" "$out"
    exit 1
}

# ---- tend users ---------------------------------------------------------------------------
"$TEND" users --db "$DB" --account acme --format json >"$T/users.json" 2>"$T/users.err"
expect_eq "tend users --account acme --format json exits 0" 0 "$?"
check "tend users: roles, engagement, NPS and replies as of the latest scored day ($YESTERDAY)" \
    $PY - "$T/users.json" "$YESTERDAY" <<'PY'
import datetime as dt, json, sys
users = {u["user"]: u for u in json.load(open(sys.argv[1]))}
D = dt.date.fromisoformat(sys.argv[2])
def day(k): return (D + dt.timedelta(days=1) - dt.timedelta(days=k)).isoformat()
order = list(users)
assert order == ["ann@acme.io", "bob@acme.io", "cy@acme.io", "dee@acme.io", "eve@acme.io"], order
ann, bob, cy, dee, eve = (users[k] for k in order)
assert (ann["role"], bob["role"], cy["role"], dee["role"], eve["role"]) == \
    ("champion", "admin", "billing", None, "user"), [u["role"] for u in users.values()]
assert ann["name"] == "Ann <b>Lee</b>", ann["name"]
# ann: daily from 70 to 30 days before today, i.e. her last login 29 days before D
assert ann["last_login"] == day(30) and ann["days_since_login"] == 29, ann
assert ann["logins_30d"] == 1 and ann["logins_4w"] == 0, ann
assert sum(ann["weeks"]) == 41, ann["weeks"]
assert ann["nps"] == 9 and ann["nps_date"] == day(50), ann
# bob: two a day in the 4 weeks to today: as of D, days 1..28 before today
assert bob["logins_4w"] == 2 * 27 + 1, bob
assert bob["logins_prev_4w"] == 28, bob
assert abs(bob["trend"] - (55 - 28) / 28) < 0.001, bob
assert len(bob["weeks"]) == 12 and bob["weeks"][-1] == 14, bob["weeks"]
assert bob["replies_90d"] == 1, bob
assert dee["features_30d"] == 2 and dee["nps"] == 3, dee
assert dee["last_login"] == day(40), dee
assert eve["member"] is False and eve["left"] == day(50) and ann["member"] is True, eve
assert cy["last_login"] is None and cy["days_since_login"] is None and cy["trend"] is None, cy
PY
out=$("$TEND" users --db "$DB" --account acme --format csv)
expect_contains "tend users --format csv: its header" \
    "user,name,role,member,joined,left,last_login,days_since_login,logins_30d,logins_4w,logins_prev_4w,trend,weeks,features_30d,nps,nps_date,replies_90d" "$out"
out=$("$TEND" users --db "$DB" --account acme)
expect_contains "tend users (table): the 12 weeks as a sparkline" "$(printf '\u2588')" "$out"
out=$("$TEND" users --db "$DB" --account beta --format json)
check "tend users --account beta: a user without a role" $PY -c '
import json, sys; u = json.loads(sys.argv[1]); assert len(u) == 1 and u[0]["role"] is None, u' "$out"
out=$("$TEND" users --db "$DB" 2>&1)
expect_eq "tend users without --account exits 2" 2 "$?"
expect_contains "naming the missing option" "--account ID is required" "$out"
out=$("$TEND" users --db "$DB" --account nope 2>&1)
expect_eq "tend users --account nope exits 2" 2 "$?"
expect_contains "naming the account" 'no account "nope"' "$out"

# ---- the daily run: champion_risk on acme only ---------------------------------------------
ctas() { "$TEND" ctas --db "$DB" --status all --rule "$1" --format json; }
check "tend eval: acme's champion going quiet (29 days), medium while bob is engaged; beta has no roles" \
    $PY -c '
import json, sys
cs = json.loads(sys.argv[1])
assert [(c["account_id"], c["subject"], c["priority"], c["status"]) for c in cs] == \
    [("acme", "champion:quiet", "medium", "open")], cs
assert "champion ann@acme.io has not signed in for 29 days" in cs[0]["reason"], cs[0]["reason"]' "$(ctas champion_risk)"

# ---- tend serve: the API, and the event-triggered path ---------------------------------------
TOKEN="users-token-$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat >"$T/tend.yaml" <<EOF
serve:
  timezone: UTC
  daily_at: "00:01"
  tokens:
    - name: users
      sha256: "$TOKEN_SHA"
EOF
PORT=$(free_port)
start_serve "$DB" "$PORT" --config "$T/tend.yaml" || exit 1
api() { curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1"; }
# serve caught up today's daily evaluation on start: the latest scored day is today.
today_scored() { api /api/accounts/acme/users | grep -q "\"date\":[[:space:]]*\"$TODAY\""; }
wait_for 60 today_scored || not_ok "tend serve evaluates today on start" "$(api /api/accounts/acme/users | head -c 300)"
api /api/accounts/acme/users >"$T/api-users.json"
api /api/accounts/acme >"$T/api-account.json"
"$TEND" users --db "$DB" --account acme --format json >"$T/users-now.json"
check "GET /api/accounts/acme/users and the account view carry the users of tend users (as of the same day)" \
    $PY - "$T/users-now.json" "$T/api-users.json" "$T/api-account.json" "$TODAY" <<'PY'
import json, sys
cli = json.load(open(sys.argv[1]))
api = json.load(open(sys.argv[2]))
def no_repeats(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "a key given twice: %s" % keys
    return dict(pairs)
acct = json.load(open(sys.argv[3]), object_pairs_hook=no_repeats)
assert api["account"] == "acme" and api["date"] == sys.argv[4] and api["role_trait"] == "role", api
assert api["users"] == cli, (api["users"], cli)
assert acct["user_engagement"] == cli and acct["users"] == 4, acct.get("user_engagement")
PY
code=$(curl -s -o "$T/nope.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/api/accounts/nope/users")
expect_eq "GET /api/accounts/nope/users is 404" 404 "$code"
expect_contains "naming the account" 'no account' "$(cat "$T/nope.json")"

post() { # post JSON: /v1/track with the write key; prints the status
    curl -s -o /dev/null -w '%{http_code}' -u testkey: -H 'Content-Type: application/json' \
        --data "$1" "http://127.0.0.1:$PORT/v1/track"
}
NOW="${TODAY}T12:00:00Z"
# ann leaves acme: the removal is an event that evaluates acme at once.
st=$(post "{\"userId\":\"ann\",\"event\":\"Account Removed User\",\"timestamp\":\"$NOW\",\"messageId\":\"rm-ann\",\"context\":{\"groupId\":\"acme\"}}")
expect_eq "POST /v1/track Account Removed User: 200" 200 "$st"
left() { ctas champion_risk | $PY -c '
import json, sys
cs = json.load(sys.stdin)
want = {("champion:quiet", "closed"), ("champion:left", "open")}
sys.exit(0 if {(c["subject"], c["status"]) for c in cs} == want else 1)'; }
if wait_for 60 left; then
    ok "event-triggered: the removal resolves acme's quiet-champion CTA and opens \"New champion needed\""
else
    not_ok "event-triggered: the removal opens \"New champion needed\"" "$(ctas champion_risk)"
fi
check "its reason names the champion who left, today" $PY -c '
import json, sys
c = [c for c in json.loads(sys.argv[1]) if c["subject"] == "champion:left"][0]
assert c["title"] == "New champion needed" and "ann@acme.io left the account on " + sys.argv[2] in c["reason"], c' \
    "$(ctas champion_risk)" "$TODAY"
# gamma: a fifth detractor in 90 days: nps_change now compares (5 promoters before).
st=$(post "{\"userId\":\"gd4\",\"event\":\"NPS Survey Responded\",\"timestamp\":\"$NOW\",\"messageId\":\"nps-gd4\",\"properties\":{\"score\":0},\"context\":{\"groupId\":\"gamma\"}}")
expect_eq "POST /v1/track NPS Survey Responded: 200" 200 "$st"
fell() { ctas nps_change | $PY -c '
import json, sys
cs = json.load(sys.stdin)
sys.exit(0 if [(c["account_id"], c["status"], c["title"]) for c in cs] == [("gamma", "open", "Account NPS fell")] else 1)'; }
if wait_for 60 fell; then
    ok "event-triggered: a fifth detractor opens gamma's nps_change (NPS 100 -> 0)"
else
    not_ok "event-triggered: a fifth detractor opens gamma's nps_change" "$(ctas nps_change)"
fi
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"

# The daily run of the same day finds the same.
"$TEND" eval --db "$DB" --at "$TODAY" >/dev/null 2>&1
check "tend eval --at $TODAY (the daily run) keeps the same CTAs" $PY -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert sorted((c["account_id"], c["subject"], c["status"]) for c in a) == \
    [("acme", "champion:left", "open"), ("acme", "champion:quiet", "closed")], a
assert [(c["account_id"], c["status"]) for c in b] == [("gamma", "open")], b' \
    "$(ctas champion_risk)" "$(ctas nps_change)"
true
