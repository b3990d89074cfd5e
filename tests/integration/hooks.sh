#!/usr/bin/env bash
# Webhooks from the systems of record (issue 19 part 2, docs/connectors.md):
# real HTTP to tend serve on 127.0.0.1 with payloads shaped like Stripe's,
# Zendesk's and HubSpot's (tests/data/hooks/, fresh ids and times) signed by
# a Python helper with hmac (hooks_send.py):
#   - each maps to the right events on the right account (invoices, MRR
#     change, churn, cards; tickets; the CSM, renewal date and ARR traits);
#   - a duplicate (a provider's retry) is acknowledged and ignored;
#   - a wrong secret, a stale or missing signature, a body changed after
#     signing: 401 and nothing stored; a second secret (rotation) verifies;
#   - an unmapped Stripe customer is kept in the inbox with the reason,
#     shown by tend inbox list, GET /api/inbox and /metrics; after tend inbox
#     map, tend inbox replay attaches it;
#   - a card added through Stripe leads to the card_expiring CTA and the
#     customer's reminders at 30, 14 and 7 days before its last day (tend
#     eval --at those days, as tests/integration/customer.sh).
# tend's clock is pinned at today's noon (pin_clock_at_noon): the events'
# times are today, the cards' expiry dates are fixed months ahead.
. "$(dirname "$0")/lib.sh"
pin_clock_at_noon

SEND="$ROOT/tests/integration/hooks_send.py"
HD="$DATA/hooks"
DB=$(db hooks)
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
export STRIPE_NEW="whsec_new_$RANDOM$RANDOM$RANDOM" STRIPE_OLD="whsec_old_$RANDOM$RANDOM"
export ZENDESK_SECRET="zd_$RANDOM$RANDOM$RANDOM" HUBSPOT_SECRET="hs-$RANDOM$RANDOM-$RANDOM"
export HOOKS_SESSION_KEY="hooks-session-key-$RANDOM$RANDOM$RANDOM$RANDOM"
TOKEN="hooks-token-$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat >"$T/tend.yaml" <<EOF
connectors:
  retention_days: 30
  stripe:
    secrets_env: [STRIPE_NEW, STRIPE_OLD]
  zendesk:
    secrets_env: ZENDESK_SECRET
  hubspot:
    secrets_env: HUBSPOT_SECRET
    url: $URL/hooks/hubspot
    owners: {"31337": owner@vendor.test}
serve:
  session_key_env: HOOKS_SESSION_KEY   # tend eval signs the reminders' links (docs/operations.md)
  tokens:
    - name: test
      sha256: "$TOKEN_SHA"
delivery:
  base_url: $URL
  max_age_days: 100000
channels:
  mail:
    type: email
    url: smtp://127.0.0.1:9?tls=off
    from: "tend <tend@tend.test>"
  audit:
    type: log
    path: $T/audit.log
routes:
  - to: [audit]
customer_messages:
  channel: mail
  from: "Acme Billing <billing@vendor.test>"
  update_payment_url: https://vendor.test/billing
EOF

# ---- configuration mistakes ----------------------------------------------------------
sed 's/    secrets_env: ZENDESK_SECRET/    secret_env: ZENDESK_SECRET/' "$T/tend.yaml" >"$T/bad1.yaml"
out=$("$TEND" inbox list --db "$(db bad)" --config "$T/bad1.yaml" 2>&1)
expect_contains "an unknown key is refused with its path" \
    'connectors.zendesk.secret_env: unknown key' "$out"
out=$(env -u ZENDESK_SECRET "$TEND" inbox list --db "$(db bad)" --config "$T/tend.yaml" 2>&1)
expect_contains "a secret's variable that is not set is refused, named" \
    'connectors.zendesk.secrets_env: ZENDESK_SECRET is not set' "$out"

# ---- accounts, the first mapping row, tend serve ----------------------------------------
{
    echo '{"type":"group","userId":"u-acme","groupId":"acme","timestamp":"2026-11-01T09:00:00Z","messageId":"g-acme","traits":{"name":"Acme","billing_email":"bill@acme.test","csm_email":"old@vendor.test"}}'
    echo '{"type":"group","userId":"u-globex","groupId":"globex","timestamp":"2026-11-01T09:00:00Z","messageId":"g-globex","traits":{"name":"Globex","billing_email":"ap@globex.test"}}'
    echo '{"type":"group","userId":"u-initech","groupId":"initech","timestamp":"2026-11-01T09:00:00Z","messageId":"g-initech","traits":{"name":"Initech"}}'
} >"$T/accounts.jsonl"
check "setup: the accounts import" "$TEND" import --db "$DB" "$T/accounts.jsonl"
printf 'provider_id,account_id\ncus_AcmeCorp0001,acme\n' >"$T/map1.csv"
out=$("$TEND" inbox map --db "$DB" --provider stripe --csv "$T/map1.csv" 2>&1)
expect_contains "tend inbox map fills the mapping table from a CSV" "1 stripe ids mapped" "$out"
printf 'provider_id,account_id\ncus_1,\n' >"$T/bad.csv"
out=$("$TEND" inbox map --db "$DB" --provider stripe --csv "$T/bad.csv" 2>&1)
expect_contains "a bad CSV row is refused with its line" "bad.csv:2: expected two non-empty fields" "$out"
start_serve "$DB" "$PORT" --no-eval --config "$T/tend.yaml" || exit 1

send() { $PY "$SEND" send --url "$URL" "$@"; }
rows() { dbq "$DB" "SELECT count(*) FROM hook_inbox"; }
row_status() { dbq "$DB" "SELECT status || '/' || reason FROM hook_inbox WHERE event_id = '$1'"; }
processed() { case "$(row_status "$1")" in pending* | "") return 1 ;; *) return 0 ;; esac; }
answer() { echo "${1%% *}"; } # the HTTP status of a send
ms() { echo "$1" | awk '{print $2}'; }
evs() { $PY "$SEND" events --db "$DB"; }

# ---- Stripe: an invoice, signed with the older of two secrets --------------------------
r=$(send --provider stripe --file "$HD/stripe_invoice_finalized.json" --secret "$STRIPE_OLD" --event-id evt_inv_1)
expect_eq "Stripe invoice.finalized signed with the second secret (rotation): 200 ($(ms "$r") ms)" 200 "$(answer "$r")"
wait_for 60 processed evt_inv_1 || not_ok "the inbox worker processes it" "$(tail -5 "$T/serve.log")"
expect_eq "its inbox row is done" "done/" "$(row_status evt_inv_1)"
expect_contains "it is an Invoice Issued on acme: 1299 USD (129900 cents), due the invoice's due_date" \
    'acme|Invoice Issued|in_1QAcmeInvoice0001|{"amount": 1299, "currency": "usd", "due_date": "2026-12-20", "invoice_id": "in_1QAcmeInvoice0001"}' "$(evs)"
before_rows=$(rows)
before_events=$(evs | wc -l)
r=$(send --provider stripe --file "$HD/stripe_invoice_finalized.json" --secret "$STRIPE_NEW" --event-id evt_inv_1)
expect_eq "the same event again (a provider's retry): 200" 200 "$(answer "$r")"
expect_contains "... acknowledged as a duplicate" '"kept":0,"duplicates":1' "$r"
expect_eq "... no second inbox row" "$before_rows" "$(rows)"

# ---- refused: 401 and nothing stored ----------------------------------------------------
r=$(send --provider stripe --file "$HD/stripe_invoice_paid.json" --secret whsec_wrong --event-id evt_bad_1)
expect_eq "a wrong secret: 401" 401 "$(answer "$r")"
expect_contains "... naming the header, not the signature" "Stripe-Signature: no configured secret (of 2)" "$r"
r=$(send --provider stripe --file "$HD/stripe_invoice_paid.json" --secret "$STRIPE_NEW" --event-id evt_bad_2 --skew -600)
expect_eq "a signature 10 minutes old (a replay): 401" 401 "$(answer "$r")"
expect_contains "... as stale" "over the 300 s tolerance" "$r"
r=$(send --provider stripe --file "$HD/stripe_invoice_paid.json" --secret "$STRIPE_NEW" --event-id evt_bad_3 --drop Stripe-Signature)
expect_eq "no signature header: 401" 401 "$(answer "$r")"
r=$(send --provider stripe --file "$HD/stripe_invoice_paid.json" --secret "$STRIPE_NEW" --event-id evt_bad_4 --tamper)
expect_eq "a body changed after signing: 401" 401 "$(answer "$r")"
r=$(send --provider zendesk --file "$HD/zendesk_ticket_created.json" --secret "$STRIPE_NEW" --event-id zd_bad)
expect_eq "Zendesk with another provider's secret: 401" 401 "$(answer "$r")"
r=$(send --provider hubspot --file "$HD/hubspot_company_changes.json" --secret "$HUBSPOT_SECRET" --signed-url "http://elsewhere.test/hooks/hubspot")
expect_eq "HubSpot signed for another URL: 401" 401 "$(answer "$r")"
r=$(send --provider stripe --file "$HD/stripe_invoice_paid.json" --secret "$STRIPE_NEW" --event-id evt_big --pad 1100000)
expect_eq "a signed body over 1 MiB: 413" 413 "$(answer "$r")"
# The headers alone decide these: tend answers before any body byte arrives
# (a client that declares 1 MiB and sends nothing is not waited for).
r=$($PY "$SEND" headers-only --url "$URL" --provider stripe)
expect_contains "no signature header, 1 MiB declared and no body sent: 401 at once (${r#*|} ms)" "401" "${r%|*}"
stale=$(($(date +%s) + CLOCK_OFFSET_S - 3600))
r=$($PY "$SEND" headers-only --url "$URL" --provider stripe --header "Stripe-Signature: t=$stale,v1=$(printf '%064d' 0)")
expect_contains "a stale signature header, no body sent: 401 at once (${r#*|} ms)" "401" "${r%|*}"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/hooks/paypal" -d '{}')
expect_eq "a provider tend does not have: 404" 404 "$code"
expect_eq "after all the refusals, no inbox row was added" "$before_rows" "$(rows)"
expect_eq "... and no event stored" "$before_events" "$(evs | wc -l)"

# ---- Stripe: the rest of the table ----------------------------------------------------
send --provider stripe --file "$HD/stripe_invoice_payment_failed.json" --secret "$STRIPE_NEW" --event-id evt_fail_1 >/dev/null
send --provider stripe --file "$HD/stripe_subscription_updated.json" --secret "$STRIPE_NEW" --event-id evt_sub_1 >/dev/null
send --provider stripe --file "$HD/stripe_customer_updated.json" --secret "$STRIPE_NEW" --event-id evt_cust_1 >/dev/null
wait_for 60 processed evt_cust_1
send --provider stripe --file "$HD/stripe_subscription_deleted.json" --secret "$STRIPE_NEW" --event-id evt_del_1 \
    --set data.object.customer=cus_Globex0001 >/dev/null
r=$(send --provider stripe --file "$HD/stripe_payment_method_attached.json" --secret "$STRIPE_NEW" --event-id evt_pm_1)
expect_eq "payment_method.attached: 200 ($(ms "$r") ms)" 200 "$(answer "$r")"
wait_for 60 processed evt_pm_1 && wait_for 60 processed evt_del_1
out=$(evs)
expect_contains "invoice.payment_failed is a Payment Failed on acme" \
    'acme|Payment Failed|in_1QAcmeInvoice0002|' "$out"
expect_contains "customer.subscription.updated (seats 5 -> 8) is a Subscription Changed on acme, MRR 200 -> 260" \
    '"mrr_after": 260, "mrr_before": 200, "reason": "quantity", "subscription_id": "sub_1QAcmeSub0001"}' "$out"
expect_contains "... stored under that name" 'acme|Subscription Changed|' "$out"
expect_contains "customer.updated with a new default card is a Payment Method Updated on the account of its metadata.account_id" \
    'globex|Payment Method Updated|2027-01|{"card_brand": "MasterCard", "card_exp_month": 1, "card_exp_year": 2027, "card_last4": "4444"}' "$out"
expect_contains "the customer's account is learnt: its subscription's deletion is an Account Churned on globex" \
    'globex|Account Churned||{"arr": 1920, "currency": "usd", "reason": "too_expensive", "subscription_id": "sub_1QAcmeSub0001"}' "$out"
expect_contains "payment_method.attached is a Payment Method Updated on acme (03/2027, ending 4242)" \
    'acme|Payment Method Updated|2027-03|{"card_brand": "visa", "card_exp_month": 3, "card_exp_year": 2027, "card_last4": "4242"}' "$out"

# ---- an unmapped customer: kept, shown, replayed --------------------------------------
r=$(send --provider stripe --file "$HD/stripe_invoice_paid.json" --secret "$STRIPE_NEW" --event-id evt_initech_1 \
    --set data.object.customer=cus_Initech01 --set data.object.id=in_Initech01)
expect_eq "an invoice of a customer tend cannot place: still 200 (no retry loop)" 200 "$(answer "$r")"
wait_for 60 processed evt_initech_1
expect_eq "it is kept in the inbox as unmapped, with the reason" "unmapped/unknown_account" "$(row_status evt_initech_1)"
out=$("$TEND" inbox list --db "$DB" --status unmapped 2>&1)
expect_contains "tend inbox list shows it with what to do" "Stripe customer cus_Initech01 has no metadata.account_id" "$out"
api=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/inbox?status=unmapped")
expect_contains "GET /api/inbox shows it" '"event_id":"evt_initech_1","type":"invoice.paid"' "$api"
expect_contains "... with its reason" '"status":"unmapped","reason":"unknown_account"' "$api"
metrics=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics")
expect_contains "/metrics counts it by provider and reason" \
    'tend_hooks_events_total{provider="stripe",status="unmapped",reason="unknown_account"} 1' "$metrics"
expect_contains "/metrics counts the refused requests" \
    'tend_hooks_requests_total{provider="stripe",outcome="unauthorized"} 6' "$metrics"
expect_contains "/metrics counts the duplicates" \
    'tend_hooks_requests_total{provider="stripe",outcome="duplicate"} 1' "$metrics"
expect_eq "nothing of it is stored yet" "" "$(evs | grep '^initech|')"
printf 'provider_id,account_id\n"cus_Initech01",initech\n' >"$T/map2.csv"
"$TEND" inbox map --db "$DB" --provider stripe --csv "$T/map2.csv" >/dev/null
# tend serve's worker runs meanwhile: it may take a row replay put back
# before replay does, so the outcome is checked, not who processed it.
out=$("$TEND" inbox replay --db "$DB" --config "$T/tend.yaml" 2>&1)
expect_contains "tend inbox replay after the mapping fix puts it back and processes it" "1 put back;" "$out"
wait_for 60 processed evt_initech_1
expect_eq "its row is done now" "done/" "$(row_status evt_initech_1)"
expect_contains "... and it is attached to initech" 'initech|Invoice Paid|in_Initech01|' "$(evs)"
id=$(dbq "$DB" "SELECT id FROM hook_inbox WHERE event_id = 'evt_initech_1'")
out=$("$TEND" inbox replay --db "$DB" --config "$T/tend.yaml" --id "$id" 2>&1)
expect_contains "replaying a done event again (--id)" "1 put back;" "$out"
wait_for 60 processed evt_initech_1
expect_eq "... done again, its third processing (unmapped, replayed, replayed)" "done/|3" \
    "$(row_status evt_initech_1)|$(dbq "$DB" "SELECT attempts FROM hook_inbox WHERE event_id = 'evt_initech_1'")"
expect_eq "... stores nothing twice (its messageId is the event's): one Invoice Paid on initech" 1 \
    "$(evs | grep -c '^initech|Invoice Paid|')"

# ---- Zendesk ------------------------------------------------------------------------
send --provider zendesk --file "$HD/zendesk_ticket_created.json" --secret "$ZENDESK_SECRET" --event-id zd_t1 >/dev/null
wait_for 60 processed zd_t1
expect_eq "a ticket of an organisation tend does not know yet: unmapped" "unmapped/unknown_account" "$(row_status zd_t1)"
r=$(send --provider zendesk --file "$HD/zendesk_organization_created.json" --secret "$ZENDESK_SECRET" --event-id zd_org)
expect_eq "Zendesk organization.created: 200 ($(ms "$r") ms)" 200 "$(answer "$r")"
wait_for 60 processed zd_org
send --provider zendesk --file "$HD/zendesk_ticket_solved.json" --secret "$ZENDESK_SECRET" --event-id zd_t2 >/dev/null
wait_for 60 processed zd_t2
"$TEND" inbox replay --db "$DB" --config "$T/tend.yaml" --provider zendesk >/dev/null 2>&1
wait_for 60 processed zd_t1
out=$(evs)
expect_contains "the organisation's external id maps it (replayed): Ticket Opened on acme, priority high" \
    'acme|Ticket Opened|5150|{"priority": "high", "subject": "Exports time out", "ticket_id": "5150"}' "$out"
expect_contains "a solved ticket is a Ticket Closed" 'acme|Ticket Closed|5150|' "$out"

# ---- HubSpot ------------------------------------------------------------------------
r=$(send --provider hubspot --file "$HD/hubspot_company_changes.json" --secret "$HUBSPOT_SECRET" --event-id 500)
expect_eq "HubSpot's four company changes in one request: 200 ($(ms "$r") ms)" 200 "$(answer "$r")"
expect_contains "... four inbox rows" '"kept":4' "$r"
wait_for 60 processed 62515-503-8800001
acc=$("$TEND" accounts --db "$DB" --format csv | grep '^acme,')
expect_contains "the owner change sets csm_email (owner 31337 in hubspot.owners)" "owner@vendor.test" "$acc"
expect_contains "the renewal date property sets renewal_date" "2027-02-02" "$acc"

# ---- the card added through Stripe: CTAs and the customer's reminders -------------------
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
ev() { "$TEND" eval --db "$DB" --config "$T/tend.yaml" --quiet "$@" 2>&1; }
reminders() { dbq "$DB" "SELECT count(*) FROM customer_messages m JOIN accounts a ON a.id = m.account_id WHERE a.external_id = 'acme' AND m.kind = 'card_expiry'"; }
card_cta() { dbq "$DB" "SELECT c.priority FROM ctas c JOIN accounts a ON a.id = c.account_id WHERE a.external_id = 'acme' AND c.rule = 'card_expiring' AND c.status IN ('open', 'snoozed')"; }
ev --at 2027-02-28 >/dev/null
expect_eq "31 days before the card's last day (2027-03-31): no reminder" 0 "$(reminders)"
out=$(ev --at 2027-03-01)
expect_eq "30 days before: one reminder to the customer" 1 "$(reminders)" || true
[ "$(reminders)" = 1 ] || echo "    tend eval: $out"
expect_eq "... and the card_expiring CTA is open for the CSM" 1 "$(card_cta | grep -c .)"
expect_eq "... to the billing contact of acme" "bill@acme.test" \
    "$(dbq "$DB" "SELECT m.recipient FROM customer_messages m JOIN accounts a ON a.id = m.account_id WHERE a.external_id = 'acme' ORDER BY m.day LIMIT 1")"
ev --at 2027-03-16 >/dev/null
expect_eq "15 days before: still one" 1 "$(reminders)"
ev --at 2027-03-17 >/dev/null
expect_eq "14 days before: the second" 2 "$(reminders)"
ev --at 2027-03-24 >/dev/null
expect_eq "7 days before: the third" 3 "$(reminders)"
expect_eq "... the CTA's priority raised to high (2) at 7 days" 2 "$(card_cta)"

# ---- retention: a month later the payloads are pruned ---------------------------------
kept=$(rows)
TEND_TEST_CLOCK_OFFSET_S=$((CLOCK_OFFSET_S + 31 * 86400)) start_serve "$DB" "$PORT" --no-eval --config "$T/tend.yaml" || exit 1
if wait_serve_log "events older than 30 days pruned"; then
    ok "31 days later tend serve prunes the kept payloads past connectors.retention_days ($kept rows)"
else
    not_ok "tend serve prunes the inbox" "$(tail -5 "$T/serve.log")"
fi
expect_eq "... none is left (none was pending)" 0 "$(rows)"
