#!/usr/bin/env bash
# The weekly noise budget and CTA value (issue 16, docs/rules.md "Value" and
# "Budget"), against the real binary: 14 accounts whose no_login condition
# holds, owned by ann (12) and bob (2), worth 1..14 x 1,200 a year. With the
# default budget (10 new CTAs per owner per ISO week) ann's two lowest-value
# CTAs are held back: counted in the summary, stored, listed by `tend ctas
# --held` and GET /api/ctas?status=held, in the listing's held_this_week,
# never silently dropped; they open the next week. The listing sorts by
# priority, then value, and every CTA carries its value in words.
. "$(dirname "$0")/lib.sh"

DB="$(db b)"
$PY - "$T/events.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 15):
        acct, owner = f"acc{i:02d}", ("ann@x.io" if i <= 12 else "bob@x.io")
        f.write(json.dumps({"type": "group", "userId": f"u{i}", "groupId": acct,
                            "timestamp": "2026-05-01T00:00:00Z", "messageId": f"g{i}",
                            "traits": {"name": f"Account {i}", "mrr": 100 * i,
                                       "csm_email": owner}}) + "\n")
        f.write(json.dumps({"type": "track", "userId": f"u{i}", "event": "Signed In",
                            "timestamp": "2026-05-10T12:00:00Z", "messageId": f"l{i}",
                            "context": {"groupId": acct}}) + "\n")
PY
"$TEND" import --db "$DB" "$T/events.jsonl" >/dev/null || not_ok "import"
# One rule fires per account: health_drop (the scores fall too) is off. A
# log channel: what was held back goes to the owner's digest.
cat >"$T/tend.yaml" <<EOF0
rules:
  health_drop: false
delivery:
  max_age_days: 100000
channels:
  log:
    type: log
    path: $T/notifications.log
EOF0
CFG=(--config "$T/tend.yaml")

# 2026-06-03 is a Wednesday: its ISO week starts on Monday 2026-06-01.
out=$("$TEND" eval --db "$DB" "${CFG[@]}" --at 2026-06-03 2>&1)
expect_contains "the summary counts what the budget held back" "2 held back by the budget" "$out"
expect_contains "and what opened" "opened 12," "$out"

json() { "$TEND" ctas --db "$DB" "$@" --format json; }
got=$(json --rule no_login | $PY -c '
import json, sys
r = json.load(sys.stdin)
print(" ".join(c["account_id"] for c in r if c["owner"] == "ann@x.io"))')
expect_eq "ann's ten highest-value CTAs opened, most valuable first" \
    "acc12 acc11 acc10 acc09 acc08 acc07 acc06 acc05 acc04 acc03" "$got"
got=$(json --rule no_login | $PY -c '
import json, sys
r = json.load(sys.stdin)
v = [c["value"] for c in r]
assert all(isinstance(x, (int, float)) for x in v), v
assert v == sorted(v, reverse=True), v
c = [c for c in r if c["account_id"] == "acc14"][0]
print(c["value_text"], "|", len(r))')
expect_contains "every CTA has a value (p_churn x ARR), the listing sorted by it; in words" "ARR at risk | 12" "$got"
expect_contains "with its currency" '$' "$got"

held=$(json --held | $PY -c '
import json, sys
r = json.load(sys.stdin)
print(" ".join(":".join((h["account_id"], h["owner"], h["week"], h["rule"])) for h in r),
      all(h["value"] > 0 and "ARR at risk" in h["value_text"] for h in r))')
expect_eq "tend ctas --held lists the two lowest-value ones, with owner, week and value" \
    "acc02:ann@x.io:2026-06-01:no_login acc01:ann@x.io:2026-06-01:no_login True" "$held"
n=$("$TEND" ctas --db "$DB" --held --week 2026-06-05 --owner bob@x.io --format csv | tail -n +2 | wc -l)
expect_eq "--held --owner filters (bob stayed within his budget)" 0 "$n"
out=$("$TEND" ctas --db "$DB" --held)
expect_contains "the held-back table shows the value in words" "ARR at risk" "$out"

# The next day of the same week: ann's budget is spent; the held ones stay
# held (one row per key and week), nothing opens.
out=$("$TEND" eval --db "$DB" "${CFG[@]}" --at 2026-06-04 2>&1)
expect_contains "the next day of the week opens nothing" "opened 0," "$out"
expect_contains "and holds the two back again" "2 held back by the budget" "$out"
n=$("$TEND" ctas --db "$DB" --held --format csv | tail -n +2 | wc -l)
expect_eq "still two held-back rows for the week (not one a day)" 2 "$n"
got=$("$TEND" outbox --db "$DB" --format json --limit 1000 | $PY -c '
import json, sys
d = json.load(sys.stdin)
rows = d.get("rows") if isinstance(d, dict) else d
held = [r for r in rows if r["event"] == "held"]
print(len(held), sorted(set(r["status"] for r in held)))')
expect_eq "each held-back CTA is in the owner's digest once a week (outbox rows held for the digest)" \
    "2 ['held']" "$got"

# The REST API and the count for the cockpit.
PORT=$(free_port)
TOKEN="budget-token-$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat >"$T/serve.yaml" <<EOF2
serve:
  tokens:
    - name: bt
      sha256: "$TOKEN_SHA"
EOF2
if start_serve "$DB" "$PORT" --config "$T/serve.yaml" --no-eval; then
    api() { curl -s --max-time 30 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1"; }
    got=$(api "/api/ctas?status=held&owner=ann@x.io" | $PY -c '
import json, sys
r = json.load(sys.stdin)
print(r["total"], r["budget_per_owner_per_week"], " ".join(h["account_id"] for h in r["held"]))')
    expect_eq "GET /api/ctas?status=held lists them, with the budget" "2 10 acc02 acc01" "$got"
    got=$(api "/api/ctas?owner=ann@x.io&limit=3" | $PY -c '
import json, sys
r = json.load(sys.stdin)
print(r["held_this_week"], r["week"], [c["account_id"] for c in r["ctas"]], r["ctas"][0]["value_text"] is not None)')
    expect_eq "GET /api/ctas says how many were held back this week, and sorts by value" \
        "2 2026-06-01 ['acc12', 'acc11', 'acc10'] True" "$got"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$PORT/api/ctas?status=held&week=June")
    expect_eq "a bad week is a 400" 400 "$code"
    kill "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
else
    not_ok "tend serve starts for the REST checks" "$(tail -c +$((SERVE_LOG_AT + 1)) "$T/serve.log" | tail -5)"
fi

# A new ISO week: the budget starts again, and the held ones open.
out=$("$TEND" eval --db "$DB" "${CFG[@]}" --at 2026-06-08 2>&1)
expect_contains "a new week opens what was held back" "opened 2," "$out"
n=$("$TEND" ctas --db "$DB" --held --week 2026-06-08 --format csv | tail -n +2 | wc -l)
expect_eq "and holds nothing back that week" 0 "$n"

# budget 0: no budget; a mistake names its path.
D2="$(db b2)"
"$TEND" import --db "$D2" "$T/events.jsonl" >/dev/null
printf 'rules:\n  health_drop: false\n  budget: {per_owner_per_week: 0}\n' >"$T/nobudget.yaml"
out=$("$TEND" eval --db "$D2" --config "$T/nobudget.yaml" --at 2026-06-03 2>&1)
expect_contains "per_owner_per_week 0: no budget, all 14 open" "opened 14," "$out"
printf 'rules:\n  budget: {per_owner_per_week: -1}\n' >"$T/bad.yaml"
out=$("$TEND" eval --db "$D2" --config "$T/bad.yaml" --at 2026-06-03 2>&1)
expect_contains "a bad budget is refused with its path" "rules.budget.per_owner_per_week" "$out"
printf 'rules:\n  budget: {per_owner: 3}\n' >"$T/bad2.yaml"
out=$("$TEND" eval --db "$D2" --config "$T/bad2.yaml" --at 2026-06-03 2>&1)
expect_contains "an unknown budget setting is refused" "rules.budget.per_owner: unknown setting" "$out"
