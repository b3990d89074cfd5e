#!/usr/bin/env bash
# SPEC 3 metrics, data-driven: tests/data/metrics/*.test (format in
# tests/integration/metrics_cases.py), plus the command's own behaviour.
. "$(dirname "$0")/lib.sh"

$PY "$ROOT/tests/integration/metrics_cases.py" "$TEND" "$T" "$DATA"/metrics/*.test

# The command itself.
"$TEND" import --db "$(db ex)" --accounts "$ROOT/examples/accounts.csv" \
    "$ROOT/examples/saas.jsonl" >/dev/null
header=$("$TEND" metrics --db "$(db ex)" --at 2026-09-30 --format csv | head -1)
expect_eq "the CSV header is account_id and the SPEC 3 columns in order" \
    "account_id,users,active_users_30d,logins_7d,logins_prev_28d,days_since_login,feature_events_7d,feature_events_prev_28d,features_used_30d,nps,nps_responses_90d,tickets_open,tickets_30d,overdue_invoices,overdue_amount,max_days_overdue,card_days_left,renewal_days_left,seats,seat_utilization,outreach_unanswered,days_since_reply,mrr" \
    "$header"
one=$("$TEND" metrics --db "$(db ex)" --at 2026-09-30 --account globex --format csv | tail -n +2)
all=$("$TEND" metrics --db "$(db ex)" --at 2026-09-30 --format csv | grep '^globex,')
expect_eq "--account gives the same row as the full listing" "$all" "$one"
json=$("$TEND" metrics --db "$(db ex)" --at 2026-09-30 --format json |
    $PY -c 'import json,sys; r=json.load(sys.stdin); print(r[1]["account_id"], r[1]["card_days_left"], r[2]["nps"])')
expect_eq "JSON has numbers as numbers and empty cells as null" "globex 92 None" "$json"
"$TEND" metrics --db "$(db ex)" --at yesterday >/dev/null 2>"$T/err"
expect_eq "a bad --at exits 2" 2 "$?"
expect_contains "and says what --at takes" "--at must be a date YYYY-MM-DD or an ISO-8601 instant" "$(cat "$T/err")"
"$TEND" metrics --db "$(db ex)" --at 2026-09-30 --account nope >/dev/null 2>"$T/err"
expect_eq "an unknown --account exits 2" 2 "$?"
expect_contains "and names it" 'no account "nope"' "$(cat "$T/err")"
