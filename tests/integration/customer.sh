#!/usr/bin/env bash
# Messages to the customer (issue 18 part 1, docs/delivery.md "Messages to
# the customer"): card expiry reminders reach a real SMTP server
# (receiver.py) for each account's billing contact at exactly 30, 14 and 7
# days before the card's last valid day, once each, across a kill -9 of tend
# deliver in the middle of a send; a card updated after the 30-day reminder
# cancels the 14 and the 7; the unsubscribe link (curl GET, RFC 8058
# one-click POST, and a real Chromium) stops the next one, and a forged token
# changes nothing; List-Unsubscribe is present; a customer named
# "<script>..." is escaped in the HTML part; an account without a billing
# contact is recorded, not sent; the account page (API and Chromium) shows
# what the customer was told. Days are tend eval --at days (2027-02/03), so
# no clock is moved; delivery.max_age_days lets those days notify.
. "$(dirname "$0")/lib.sh"

RECEIVER="$ROOT/tests/integration/receiver.py"
DB=$(db customer)
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
SHOTS="${TEND_TEST_ARTIFACTS:-$T/artifacts}/customer"
mkdir -p "$SHOTS"

# ---- the mail server -----------------------------------------------------------------
echo '{}' >"$T/smtp.script.json"
$PY "$RECEIVER" smtp --port-file "$T/smtp.port" --log "$T/smtp.jsonl" --script "$T/smtp.script.json" \
    2>>"$T/smtp.err" &
SMTP_PID=$!
PIDS+=("$SMTP_PID")
wait_for 30 test -s "$T/smtp.port" || {
    not_ok "the SMTP receiver starts" "$(cat "$T/smtp.err")"
    exit 1
}
SMTP=$(cat "$T/smtp.port")
set_script() {
    printf '%s\n' "$1" >"$T/smtp.script.json.new"
    mv "$T/smtp.script.json.new" "$T/smtp.script.json"
}

# ---- configuration, a dashboard user ------------------------------------------------------
EMAIL=csm@tend.test
PASSWORD='correct horse battery 1'
HASH=$(printf '%s\n' "$PASSWORD" | "$TEND" passwd 2>/dev/null | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
TOKEN="customer-token-$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
export CUSTOMER_SESSION_KEY="customer-session-key-$RANDOM$RANDOM$RANDOM$RANDOM"
cat >"$T/tend.yaml" <<EOF
delivery:
  base_url: $BASE
  max_age_days: 100000
  retry: {base_seconds: 1, max_seconds: 2}
channels:
  mail:
    type: email
    url: smtp://127.0.0.1:$SMTP?tls=off
    from: "tend <tend@tend.test>"
  audit:
    type: log
    path: $T/audit.log
routes:
  - to: [audit]          # the CSMs' CTAs: to a log; customers are written to by mail
customer_messages:
  channel: mail
  from: "Acme Billing <billing@vendor.test>"
  update_payment_url: https://vendor.test/billing?from=mail&x=1
serve:
  session_key_env: CUSTOMER_SESSION_KEY   # tend eval signs the links, tend serve checks them
  users:
    - email: $EMAIL
      name: Cy
      password_hash: "$HASH"
  tokens:
    - name: test
      sha256: "$TOKEN_SHA"
EOF
echo '{"type":"group","groupId":"x","userId":"x","timestamp":"2026-12-01T00:00:00Z","messageId":"x"}' >"$T/x.jsonl"
"$TEND" import --db "$(db bad)" "$T/x.jsonl" >/dev/null 2>&1
out=$("$TEND" eval --db "$(db bad)" --config "$T/tend.yaml" --at 2027-01-01 2>&1)
expect_eq "setup: the configuration loads (tend eval of a day)" 0 "$?"

# A customer_messages mistake is refused with its path.
sed 's/^  update_payment_url:/  card_expiry: {subject: "Card {nope}"}\n&/' "$T/tend.yaml" >"$T/bad.yaml"
out=$("$TEND" eval --db "$(db bad)" --config "$T/bad.yaml" --at 2027-01-01 2>&1)
expect_contains "a template naming an unknown variable is refused with its path" \
    'customer_messages.card_expiry.subject: unknown variable {nope}' "$out"
sed 's/^  channel: mail/  channel: mail\n  colour: red/' "$T/tend.yaml" >"$T/bad2.yaml"
out=$("$TEND" eval --db "$(db bad)" --config "$T/bad2.yaml" --at 2027-01-01 2>&1)
expect_contains "an unknown key is refused with its path" 'customer_messages: unknown setting "colour"' "$out"

# ---- data: six accounts with a card expiring in March 2027 ------------------------------------
card() { # ACCOUNT USER MONTH YEAR [LAST4] [TS]
    local l4=""
    [ -n "${5:-}" ] && l4=",\"card_last4\":\"$5\""
    echo "{\"type\":\"track\",\"userId\":\"$2\",\"event\":\"Payment Method Updated\",\"timestamp\":\"${6:-2026-12-01T10:00:00Z}\",\"messageId\":\"card-$1-$4-$3\",\"context\":{\"groupId\":\"$1\"},\"properties\":{\"card_exp_month\":$3,\"card_exp_year\":$4$l4}}"
}
user() { # ID ACCOUNT EMAIL ROLE
    echo "{\"type\":\"identify\",\"userId\":\"$1\",\"timestamp\":\"2026-12-01T09:00:01Z\",\"messageId\":\"id-$1\",\"traits\":{\"email\":\"$3\",\"role\":\"$4\",\"company_id\":\"$2\"}}"
}
group() { # ID USER TRAITS-JSON
    echo "{\"type\":\"group\",\"userId\":\"$2\",\"groupId\":\"$1\",\"timestamp\":\"2026-12-01T09:00:00Z\",\"messageId\":\"g-$1\",\"traits\":$3}"
}
{
    group acme u-pay "{\"name\":\"Acme <script>alert(1)</script> & Co\",\"csm_email\":\"$EMAIL\"}"
    user u-pay acme pay@acme.test billing
    user u-adm acme admin@acme.test admin
    card acme u-pay 3 2027 4242
    group beta u-b "{\"name\":\"Beta Ltd\",\"billing_email\":\"bill@beta.test\",\"csm_email\":\"$EMAIL\"}"
    user u-b beta user@beta.test user
    card beta u-b 3 2027 1111
    group gamma u-g "{\"name\":\"Gamma\",\"csm_email\":\"$EMAIL\"}"
    user u-g gamma adm@gamma.test admin
    card gamma u-g 3 27
    group delta u-d "{\"name\":\"Delta\",\"csm_email\":\"$EMAIL\"}"
    user u-d delta pay@delta.test billing
    card delta u-d 3 2027 2222
    group eps u-e "{\"name\":\"Eps\",\"billing_email\":\"one@eps.test\",\"csm_email\":\"$EMAIL\"}"
    user u-e eps e@eps.test user
    card eps u-e 3 2027 3333
    group nobody u-n "{\"name\":\"Nobody Inc\",\"csm_email\":\"$EMAIL\"}"
    user u-n nobody n@nobody.test user
    card nobody u-n 3 2027 4444
} >"$T/events.jsonl"
out=$("$TEND" import --db "$DB" "$T/events.jsonl" 2>&1) || {
    not_ok "tend import" "$out"
    exit 1
}
ev() { "$TEND" eval --db "$DB" --config "$T/tend.yaml" --quiet "$@" 2>&1; }
deliver() { timeout 120 "$TEND" deliver --db "$DB" --config "$T/tend.yaml" --wait 5 2>&1; }
decided() { dbq "$DB" "SELECT count(*) FROM customer_messages $1"; }
mails() {
    $PY -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e.get("stage") == "data" and (len(sys.argv) < 3 or sys.argv[2] in e["rcpt_tos"]):
        n += 1
print(n)' "$T/smtp.jsonl" "$@"
}
touch "$T/smtp.jsonl"

# ---- 30 days before: one reminder each, across a kill -9 of tend deliver ---------------------------
out=$(ev --from 2027-02-27 --to 2027-02-28)
expect_eq "31 days before the card's last valid day (2027-03-31) nothing is decided" 0 "$(decided "")"
out=$(ev --at 2027-03-01)
expect_contains "30 days before: tend eval queues five reminders and records one without a recipient" \
    "customer messages: 5 queued, 0 withheld (unsubscribed), 1 without a recipient" "$out"
expect_eq "the no-recipient case is recorded (account nobody: no billing_email, billing or admin user)" 1 \
    "$(decided "WHERE status = 'no_recipient'")"
# The billing contact: billing_email trait, else a billing user, else an admin.
got=$(dbq "$DB" "SELECT a.external_id || '=' || m.recipient || '/' || m.rule FROM customer_messages m JOIN accounts a ON a.id = m.account_id WHERE m.recipient IS NOT NULL ORDER BY a.external_id")
expect_eq "each account's recipient and why" \
    "acme=pay@acme.test/billing_user beta=bill@beta.test/billing_email delta=pay@delta.test/billing_user eps=one@eps.test/billing_email gamma=adm@gamma.test/admin_user" \
    "$(echo $got)"

# kill -9 in the middle of acme's send: the server holds RCPT TO for 120 s.
set_script '{"rcpt": {"pay@acme.test": [{"status": "250 OK", "delay_ms": 120000}]}}'
"$TEND" deliver --db "$DB" --config "$T/tend.yaml" --wait 60 >"$T/deliver1.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
# The kill comes once the other four are sent (their answers recorded), so
# that acme's is the only message in flight: a message whose whole text
# went out before a kill may arrive twice (docs/delivery.md).
sending() {
    [ "$(dbq "$DB" "SELECT count(*) FROM outbox WHERE (target = 'pay@acme.test' AND status = 'sending') OR (target <> 'pay@acme.test' AND status = 'sent' AND notification_id IN (SELECT notification_id FROM customer_messages))")" = 5 ]
}
if wait_for 60 sending; then
    kill -9 "$DPID"
    wait "$DPID" 2>/dev/null
    ok "tend deliver killed with -9 while acme's reminder was being sent (row 'sending')"
else
    not_ok "acme's reminder reached 'sending'" "$(cat "$T/deliver1.log")"
fi
expect_eq "the killed attempt delivered nothing to pay@acme.test" 0 "$(mails pay@acme.test)"
set_script '{}'
# The next run: on PostgreSQL a dead node's claims are taken over once their
# 60 s lease ends (docs/delivery.md), so that run's clock is 61 s on.
out=$(TEND_TEST_CLOCK_OFFSET_S=61 deliver)
expect_eq "the next tend deliver exits 0 (and re-sends the interrupted row)" 0 "$?"
for r in pay@acme.test bill@beta.test adm@gamma.test pay@delta.test one@eps.test; do
    expect_eq "30-day reminder: exactly one message for $r" 1 "$(mails $r)"
done
expect_eq "no message for the account without a billing contact (n@nobody.test, a plain user)" 0 "$(mails n@nobody.test)"

# The messages as they arrived: headers, escaping, the links.
$PY - "$T/smtp.jsonl" "$BASE" <<'PY'
import email, json, sys
from email import policy
base = sys.argv[2]
msgs = {}
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e.get("stage") == "data":
        msgs.setdefault(e["rcpt_tos"][0], []).append(email.message_from_string(e["data"], policy=policy.default))
def report(name, ok, detail=""):
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        print("    " + str(detail)[:2000].replace("\n", "\n    "))
m = msgs["pay@acme.test"][0]
text = m.get_body(("plain",)).get_content()
html = m.get_body(("html",)).get_content()
lu = str(m["List-Unsubscribe"])
report("List-Unsubscribe names tend's /unsubscribe/ link", lu.startswith("<" + base + "/unsubscribe/") and lu.endswith(">"), lu)
report("List-Unsubscribe-Post asks for one-click (RFC 8058)", m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", m["List-Unsubscribe-Post"])
report("From is customer_messages.from, To the billing contact",
       "billing@vendor.test" in str(m["From"]) and str(m["To"]) == "pay@acme.test", (m["From"], m["To"]))
report("the subject names the card's last four and its last valid day",
       str(m["Subject"]) == "Your card ending 4242 expires on 2027-03-31", m["Subject"])
report("the text says 30 days and carries the update link and the unsubscribe link",
       "in 30 days" in text and "https://vendor.test/billing?from=mail&x=1" in text and lu[1:-1] in text, text)
report("the HTML escapes the customer's name (&lt;script&gt; ... &amp; Co), no raw <script>",
       "Acme &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html and "<script" not in html.lower(), html)
report("the HTML escapes the url's & in href and carries the unsubscribe link",
       'href="https://vendor.test/billing?from=mail&amp;x=1"' in html and lu[1:-1] in html, html)
report("the plain text keeps the name as written", "Acme <script>alert(1)</script> & Co" in text, text)
g = msgs["adm@gamma.test"][0]
report("a card without last four digits says ---- (two-digit year read as 2027)",
       str(g["Subject"]) == "Your card ending ---- expires on 2027-03-31", g["Subject"])
for r in ("adm@gamma.test", "one@eps.test", "pay@delta.test"):
    u = str(msgs[r][0]["List-Unsubscribe"])[1:-1]
    open(sys.argv[1] + "." + r + ".unsub", "w").write(u)
PY

# ---- between the steps: beta updates its card, three contacts unsubscribe ----------------------
card beta u-b 3 2029 9999 2027-03-05T10:00:00Z >"$T/update.jsonl"
# Sent on 2027-03-05, so tend's clock is then (a timestamp may not lie in the future).
out=$(TEND_TEST_CLOCK_OFFSET_S=$(($(date -u -d 2027-03-05T12:00:00Z +%s) - $(date -u +%s))) \
    "$TEND" import --db "$DB" "$T/update.jsonl" 2>&1) || not_ok "import beta's new card" "$out"
start_serve "$DB" "$PORT" --config "$T/tend.yaml" --no-eval || exit 1
U_GAMMA=$(cat "$T/smtp.jsonl.adm@gamma.test.unsub")
U_EPS=$(cat "$T/smtp.jsonl.one@eps.test.unsub")
U_DELTA=$(cat "$T/smtp.jsonl.pay@delta.test.unsub")
bad="${U_GAMMA%?}A"
[ "$bad" = "$U_GAMMA" ] && bad="${U_GAMMA%?}B"
code=$(curl -s -o "$T/bad.html" -w '%{http_code}' "$bad")
expect_eq "a token with one character changed is refused (404) without signing in" 404 "$code"
expect_eq "and records nothing" 0 "$(dbq "$DB" "SELECT count(*) FROM customer_unsubscribes")"
code=$(curl -s -o "$T/unsub.html" -w '%{http_code}' "$U_GAMMA")
expect_eq "curl GET of gamma's unsubscribe link: 200 without signing in" 200 "$code"
expect_contains "and the page confirms it" "adm@gamma.test</b> will receive no more card expiry reminders" "$(cat "$T/unsub.html")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'List-Unsubscribe=One-Click' "$U_EPS")
expect_eq "RFC 8058 one-click POST of eps's link: 200" 200 "$code"
browser() { # MODE ENV...: customer.mjs, its lines as ok/not ok
    local mode=$1
    shift
    (cd "$ROOT/tests/browser" && env MODE="$mode" BASE="$BASE" SHOTS="$SHOTS" "$@" \
        timeout 300 node customer.mjs >"$T/b-$mode.jsonl" 2>"$T/b-$mode.err")
    $PY -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); print(("ok - " if r["ok"] else "not ok - ") + "chromium: " + r["name"])
    if not r["ok"]: print("    " + json.dumps(r.get("detail"))[:2000])' "$T/b-$mode.jsonl"
    [ -s "$T/b-$mode.jsonl" ] || not_ok "customer.mjs ($mode) reported its checks" "$(tail -20 "$T/b-$mode.err")"
}
HAVE_BROWSER=0
if command -v node >/dev/null && [ -x /usr/bin/chromium ] &&
    (cd "$ROOT/tests/browser" && { [ -d node_modules/playwright-core ] ||
        npm ci --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1; }); then
    HAVE_BROWSER=1
    browser unsubscribe UNSUB_URL="$U_DELTA" CONTACT=pay@delta.test
else
    not_ok "node and /usr/bin/chromium are installed (with playwright-core)" "$(cat "$T/npm.log" 2>/dev/null)"
fi
expect_eq "three unsubscribes recorded (gamma, eps, delta), each at once" 3 \
    "$(dbq "$DB" "SELECT count(*) FROM customer_unsubscribes WHERE kind = 'card_expiry'")"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null

# ---- 14 days before: acme only -----------------------------------------------------------------
out=$(ev --from 2027-03-02 --to 2027-03-17)
expect_contains "14 days before: one queued (acme), three withheld, one without a recipient" \
    "customer messages: 1 queued, 3 withheld (unsubscribed), 1 without a recipient" "$out"
expect_eq "nothing was decided on the days between the steps" 0 \
    "$(decided "WHERE day NOT IN ($(day_num 2027-03-01), $(day_num 2027-03-17))")"
out=$(deliver)
expect_eq "14-day reminder: acme has its second message" 2 "$(mails pay@acme.test)"
expect_eq "beta's card was updated after the 30-day reminder: no 14-day reminder" 1 "$(mails bill@beta.test)"
for r in adm@gamma.test one@eps.test pay@delta.test; do
    expect_eq "$r unsubscribed: no 14-day reminder" 1 "$(mails $r)"
done

# ---- 7 days before ------------------------------------------------------------------------------
out=$(ev --from 2027-03-18 --to 2027-03-31)
out=$(deliver)
expect_eq "7-day reminder: acme has exactly three messages in all" 3 "$(mails pay@acme.test)"
expect_eq "beta: still only the 30-day reminder (the 7 is cancelled too)" 1 "$(mails bill@beta.test)"
got=$($PY -c '
import email, json, sys
from email import policy
days, ids = [], set()
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e.get("stage") == "data" and e["rcpt_tos"] == ["pay@acme.test"]:
        m = email.message_from_string(e["data"], policy=policy.default)
        t = m.get_body(("plain",)).get_content()
        days.append(t.split("in ", 1)[1].split(" days")[0])
        ids.add(str(m["Message-ID"]))
print(" ".join(days), len(ids))' "$T/smtp.jsonl")
expect_eq "acme's reminders said 30, 14 and 7 days, with three distinct Message-IDs" "30 14 7 3" "$got"
got=$(dbq "$DB" "SELECT m.step || ':' || m.day FROM customer_messages m JOIN accounts a ON a.id = m.account_id WHERE a.external_id = 'acme' ORDER BY m.step DESC")
expect_eq "each decided on exactly its day (30: 2027-03-01, 14: 2027-03-17, 7: 2027-03-24)" \
    "30:$(day_num 2027-03-01) 14:$(day_num 2027-03-17) 7:$(day_num 2027-03-24)" "$(echo $got)"
out=$(deliver)
expect_eq "a further tend deliver sends nothing again" 3 "$(mails pay@acme.test)"

# ---- a failed payment: one notice per invoice, another kind than the one unsubscribed ------------
sed 's/^  update_payment_url:/  payment_failed: {max_age_days: 7}\n&/' "$T/tend.yaml" >"$T/pay.yaml"
track() { # ACCOUNT USER EVENT ID TS PROPS
    echo "{\"type\":\"track\",\"userId\":\"$2\",\"event\":\"$3\",\"timestamp\":\"$5\",\"messageId\":\"$4\",\"context\":{\"groupId\":\"$1\"},\"properties\":$6}"
}
{
    track delta u-d "Invoice Issued" i1 2027-03-20T10:00:00Z '{"invoice_id":"inv-1","amount":500,"due_date":"2027-03-25"}'
    track delta u-d "Payment Failed" f1 2027-03-25T10:00:00Z '{"invoice_id":"inv-1"}'
    track delta u-d "Payment Failed" f2 2027-03-28T10:00:00Z '{"invoice_id":"inv-1"}'
    track acme u-pay "Invoice Issued" i2 2027-03-20T10:00:00Z '{"invoice_id":"inv-2","amount":900,"due_date":"2027-03-25"}'
    track acme u-pay "Payment Failed" f3 2027-03-25T10:00:00Z '{"invoice_id":"inv-2"}'
    track acme u-pay "Invoice Paid" p3 2027-03-26T10:00:00Z '{"invoice_id":"inv-2"}'
} >"$T/pay.jsonl"
out=$(TEND_TEST_CLOCK_OFFSET_S=$(($(date -u -d 2027-04-01T12:00:00Z +%s) - $(date -u +%s))) \
    "$TEND" import --db "$DB" "$T/pay.jsonl" 2>&1) || not_ok "import the invoices" "$out"
out=$("$TEND" eval --db "$DB" --config "$T/pay.yaml" --quiet --from 2027-04-01 --to 2027-04-02 2>&1)
expect_contains "payment_failed: one notice (delta's unpaid inv-1, failed twice; acme's inv-2 was paid)" \
    "customer messages: 1 queued, 0 withheld (unsubscribed), 0 without a recipient" "$out"
out=$(deliver)
got=$($PY -c '
import email, json, sys
from email import policy
s = []
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e.get("stage") == "data" and e["rcpt_tos"] == ["pay@delta.test"]:
        s.append(str(email.message_from_string(e["data"], policy=policy.default)["Subject"]))
print(" | ".join(s))' "$T/smtp.jsonl")
expect_eq "delta (unsubscribed from card reminders only) gets the failed-payment notice, once" \
    "Your card ending 2222 expires on 2027-03-31 | We could not take the payment for invoice inv-1" "$got"

# ---- what the CSM sees -----------------------------------------------------------------------------
start_serve "$DB" "$PORT" --config "$T/tend.yaml" --no-eval || exit 1
curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/accounts/acme" >"$T/acme.json"
got=$($PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s/%s/%s" % (m["step"], m["state"], m["to"]) for m in d["customer_messages"]),
      sum(1 for t in d["timeline"] if t["kind"] == "customer"))' "$T/acme.json" 2>&1)
expect_eq "the API's account lists its customer messages and puts them on its timeline" \
    "7/sent/pay@acme.test 14/sent/pay@acme.test 30/sent/pay@acme.test 3" "$got"
got=$(curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/accounts/gamma" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(u["contact"] + "/" + u["kind"] for u in d["unsubscribes"]), " ".join(m["status"] for m in d["customer_messages"]))' 2>&1)
expect_eq "gamma's unsubscribe and its withheld reminders are on its account" \
    "adm@gamma.test/card_expiry unsubscribed unsubscribed queued" "$got"
[ "$HAVE_BROWSER" = 1 ] &&
    browser account EMAIL="$EMAIL" PASSWORD="$PASSWORD" ACCOUNT=acme CONTACT=pay@acme.test
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
cp "$T/smtp.jsonl" "$T/serve.log" "$SHOTS/" 2>/dev/null
if grep -q "Sanitizer\|runtime error" "$T/serve.log"; then
    not_ok "tend serve ran clean (no sanitizer report)" "$(grep -m5 "Sanitizer\|runtime error" "$T/serve.log")"
fi
true
