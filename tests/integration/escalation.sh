#!/usr/bin/env bash
# Escalation (issue 18 part 5, docs/delivery.md "Escalation"), against the
# real binary, with an injected clock (TEND_TEST_CLOCK_OFFSET_S: each command
# runs as of a chosen instant) and serve.timezone Europe/Berlin. Three
# accounts whose no_login CTA opens on Friday 2026-04-24 at 20:00 local, at
# medium (16 business hours, 09:00-17:00 Monday to Friday):
#   acc1, planted: nobody acts; it escalates at Tuesday 17:00 local (15:00Z)
#        and not a minute before (not over the weekend), once: priority
#        medium -> high, history "escalate" with its level and why; then
#        overdue at high (1 wall-clock day after its due date), level 2, once;
#   acc2, control: its owner reassigns it on Monday morning: never escalated;
#   acc3, cleared: a login on Monday resolves it: never escalated.
# Then tend serve (its scheduler's pass every second here) escalates acc1 on
# a copy of the database, killed with -9 right after the escalation and
# again after the email reached a real SMTP server on 127.0.0.1
# (receiver.py): the manager gets one email (a copy only for a send a kill
# interrupted, counted in the outbox's resends, with the same Message-ID), naming the CTA, the account, why, with its link,
# and the store holds one escalation, one history entry, one outbox row.
. "$(dirname "$0")/lib.sh"

RECEIVER="$ROOT/tests/integration/receiver.py"
# at_clock TIME CMD...: runs CMD with tend's clock at TIME (then advancing).
at_clock() {
    local t=$1
    shift
    TEND_TEST_CLOCK_OFFSET_S=$(($(date -u -d "$t" +%s) - $(date -u +%s))) "$@"
}

DB="$(db esc)"
$PY - "$T/events.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 4):
        acct = f"acc{i}"
        f.write(json.dumps({"type": "group", "userId": f"u{i}", "groupId": acct,
                            "timestamp": "2026-04-01T00:00:00Z", "messageId": f"g{i}",
                            "traits": {"name": f"Account {i} <&>", "mrr": 2000,
                                       "csm_email": "ann@esc.test"}}) + "\n")
        f.write(json.dumps({"type": "track", "userId": f"u{i}", "event": "Signed In",
                            "timestamp": "2026-04-10T12:00:00Z", "messageId": f"l{i}",
                            "context": {"groupId": acct}}) + "\n")
PY
"$TEND" import --db "$DB" "$T/events.jsonl" >/dev/null || not_ok "import"

# The SMTP receiver, for the serve part.
rm -f "$T/smtp.port"
echo '{}' >"$T/smtp.script.json"
$PY "$RECEIVER" smtp --port-file "$T/smtp.port" --log "$T/smtp.jsonl" \
    --script "$T/smtp.script.json" 2>>"$T/smtp.err" &
SMTP_PID=$!
PIDS+=("$SMTP_PID")
wait_for 30 test -s "$T/smtp.port" || not_ok "the SMTP receiver starts" "$(cat "$T/smtp.err")"
SMTP=$(cat "$T/smtp.port")

cat >"$T/tend.yaml" <<EOF0
rules:
  health_drop: false
  budget: {per_owner_per_week: 0}
delivery:
  base_url: http://tend.test
  max_age_days: 100000
  retry: {base_seconds: 1, max_seconds: 2}
channels:
  mail: {type: email, url: "smtp://127.0.0.1:$SMTP?tls=off", from: "tend <tend@tend.test>"}
routes:
  - {match: {event: escalate}, to: mail}
serve:
  timezone: Europe/Berlin
escalation:
  managers: {ann@esc.test: boss@esc.test}
  contact: lead@esc.test
EOF0
CFG=(--config "$T/tend.yaml")

# Friday 2026-04-24 20:00 CEST: the CTAs open (14 days without a login).
at_clock 2026-04-24T18:00:00Z "$TEND" eval --db "$DB" "${CFG[@]}" --at 2026-04-24 --quiet >/dev/null ||
    not_ok "eval 2026-04-24"
ids=$("$TEND" ctas --db "$DB" --rule no_login --format json | $PY -c '
import json, sys
print(" ".join(str(c["id"]) for c in sorted(json.load(sys.stdin), key=lambda c: c["account_id"])))')
read -r id1 id2 id3 <<<"$ids"
check "each account has a no_login CTA" test -n "$id3"
# Monday 10:00 CEST: acc2's owner hands it over (a person's action).
at_clock 2026-04-27T08:00:00Z "$TEND" cta assign "$id2" carol@esc.test --db "$DB" --by ann@esc.test \
    >/dev/null || not_ok "assign acc2"
# Monday: acc3 logs in; the evaluation resolves its CTA.
echo '{"type": "track", "userId": "u3", "event": "Signed In", "timestamp": "2026-04-27T09:00:00Z",
  "messageId": "l3b", "context": {"groupId": "acc3"}}' | tr -d '\n' >"$T/login.jsonl"
echo >>"$T/login.jsonl"
"$TEND" import --db "$DB" "$T/login.jsonl" >/dev/null || not_ok "import acc3's login"
at_clock 2026-04-27T12:00:00Z "$TEND" eval --db "$DB" "${CFG[@]}" --at 2026-04-27 --quiet >/dev/null ||
    not_ok "eval 2026-04-27"
db_copy esc served

esc() { "$TEND" escalate --db "$DB" "${CFG[@]}" --at "$1" 2>&1; }
escalated() { sed -n 's/.* \([0-9]*\) escalated.*/\1/p' <<<"$1"; }

# ---- A: the CLI pass as of chosen instants ----------------------------------------
early=""
for t in 2026-04-25T18:00:00Z 2026-04-26T23:00:00Z 2026-04-27T06:59:00Z 2026-04-28T14:59:59Z; do
    out=$(esc "$t")
    [ "$(escalated "$out")" = 0 ] || early+="$t: $out "
done
if [ -z "$early" ]; then
    ok "a Friday-evening medium CTA does not escalate over the weekend nor before its 16 business hours (Saturday, Sunday, Monday 08:59, Tuesday 16:59:59 CEST)"
else
    not_ok "nothing escalates before Tuesday 17:00 CEST" "$early"
fi
out=$(esc 2026-04-28T15:00:00Z)
if [ "$(escalated "$out")" = 1 ] && grep -q "^CTA $id1 (acc1): escalated: level 1 (unacted): not acted on for 16 business hours since it opened; medium -> high; told boss@esc.test" <<<"$out"; then
    ok "acc1 escalates at Tuesday 17:00 CEST exactly: level 1, medium -> high, its manager told"
else
    not_ok "acc1 escalates at Tuesday 17:00 CEST exactly" "$out"
fi
out=$(esc 2026-04-28T15:00:00Z; esc 2026-04-30T12:00:00Z)
n=$(grep -c ' 0 escalated' <<<"$out")
expect_eq_ok() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected $2, got $3" "${4:-}"; fi; }
expect_eq_ok "the same level never escalates twice; the control (assigned on Monday) and the cleared CTA (resolved on Monday) never do" 2 "$n" "$out"

show() { "$TEND" cta show "$1" --db "$DB" --format json; }
show "$id1" >"$T/c1.json"
show "$id2" >"$T/c2.json"
show "$id3" >"$T/c3.json"
got=$($PY - "$T/c1.json" "$T/c2.json" "$T/c3.json" <<'PY'
import json, sys
c1, c2, c3 = (json.load(open(p)) for p in sys.argv[1:])
e1 = [h for h in c1["history"] if h["action"] == "escalate"]
assert len(e1) == 1 and e1[0]["actor"] == "tend" and e1[0]["priority"] == "high", e1
assert e1[0]["note"].startswith("level 1 (unacted): not acted on for 16 business hours"), e1
assert c1["priority"] == "high" and c1["status"] == "open", c1
for c in (c2, c3):
    assert not [h for h in c["history"] if h["action"] == "escalate"], c["history"]
    assert c["priority"] == "medium", c["priority"]
assert c3["status"] == "closed" and c3["closed_reason"] == "auto_resolved", c3["status"]
print("ok")
PY
)
expect_eq_ok "the escalation is in acc1's history (tend cta show, the API's document), acc2's and acc3's have none" ok "$got"

# Level 2: acc1 is now high (1 wall-clock day overdue): due 2026-05-08, so
# at local midnight starting 2026-05-10 (2026-05-09T22:00Z).
due=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["due_date"])' "$T/c1.json")
out=$(esc 2026-05-09T21:59:59Z)
n1=$(escalated "$out")
out2=$(esc 2026-05-09T22:00:00Z)
n2=$(escalated "$out2")
out3=$(esc 2026-05-11T12:00:00Z)
if [ "$due" = 2026-05-08 ] && [ "$n1" = 0 ] && [ "$n2" = 1 ] && [ "$(escalated "$out3")" = 0 ] &&
    grep -q "level 2 (overdue): overdue by 1 day (due 2026-05-08); stays high; told boss@esc.test" <<<"$out2"; then
    ok "overdue by 1 day at high: level 2 at local midnight after the day, once, priority stays high"
else
    not_ok "overdue by 1 day at high: level 2 once" "due $due" "$out" "$out2" "$out3"
fi
# The control was acted on (no level 1), but it is overdue in its turn:
# medium, 2 business days after 2026-05-08 (Friday): Tuesday 17:00 CEST. Its
# new owner has no managers entry: escalation.contact is told.
out=$(esc 2026-05-12T14:59:59Z; esc 2026-05-12T15:00:00Z)
if [ "$(grep -c ' 1 escalated' <<<"$out")" = 1 ] &&
    grep -q "^CTA $id2 (acc2): escalated: level 2 (overdue): overdue by 2 business days (due 2026-05-08); medium -> high; told lead@esc.test" <<<"$out"; then
    ok "the control, acted on, still escalates when overdue by 2 business days (Tuesday 17:00 CEST), to escalation.contact for an owner without a manager"
else
    not_ok "the control escalates when overdue, to the contact" "$out"
fi
rows=$(dbq "$DB" "SELECT count(*) FROM outbox o JOIN notifications n ON n.id = o.notification_id WHERE n.event = 'escalate'")
expect_eq_ok "three escalations, three outbox rows (the route sends escalate to mail)" 3 "$rows"

# ---- B: tend serve, kill -9, a real SMTP server ---------------------------------------
SDB="$(db served)"
# An API token, to read the CTA's page and document from tend serve.
TOKEN=$("$TEND" token ci 2>/dev/null | sed -n 's/^token: //p')
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
sed "s/^  timezone: Europe\/Berlin$/  timezone: Europe\/Berlin\n  tokens: [{name: ci, sha256: \"$TOKEN_SHA\"}]/" \
    "$T/tend.yaml" >"$T/serve.yaml"
grep -q "tokens: \[{name: ci, sha256: \"$TOKEN_SHA\"}\]" "$T/serve.yaml" || not_ok "serve.yaml has the token"
CFG=(--config "$T/serve.yaml")
PORT=$(free_port)
export TEND_TEST_ESCALATE_EVERY_S=1
export TEND_TEST_CLOCK_OFFSET_S=$(($(date -u -d 2026-04-28T15:00:05Z +%s) - $(date -u +%s)))
escalate_entries() { dbq "$SDB" "SELECT count(*) FROM cta_history WHERE action = 'escalate'"; }
has_escalation() { [ "$(escalate_entries)" -ge 1 ]; }
mails_to_boss() {
    $PY - "$T/smtp.jsonl" <<'PY'
import json, sys
try:
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
except FileNotFoundError:
    rows = []
print(sum(1 for r in rows if r.get("stage") == "data" and "boss@esc.test" in r["rcpt_tos"]))
PY
}
mailed() { [ "$(mails_to_boss)" -ge 1 ]; }
start_serve "$SDB" "$PORT" "${CFG[@]}" || not_ok "tend serve starts"
wait_for 60 has_escalation || not_ok "tend serve escalates acc1" "$(tail -20 "$T/serve.log")"
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
start_serve "$SDB" "$PORT" "${CFG[@]}" || not_ok "tend serve starts again"
wait_for 60 mailed || not_ok "the manager's email arrives" "$(tail -20 "$T/serve.log")" "$(cat "$T/smtp.err")"
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
start_serve "$SDB" "$PORT" "${CFG[@]}" || not_ok "tend serve starts a third time"
# The scheduler's first pass after a start precedes its announcement.
wait_serve_log "scheduler: next daily evaluation" 60 || not_ok "the scheduler runs" "$(tail -20 "$T/serve.log")"
drained() { [ "$(dbq "$SDB" "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")" = 0 ]; }
wait_for 60 drained || not_ok "the outbox drains"
api=$(curl -s --max-time 30 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/ctas/$id1")
page=$(curl -s --max-time 30 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/ctas/$id1")
got=$($PY -c '
import json, sys
c = json.loads(sys.argv[1])
e = [h for h in c["history"] if h["action"] == "escalate"]
assert len(e) == 1 and e[0]["note"].startswith("level 1 (unacted): not acted on for 16 business hours"), c["history"]
assert c["priority"] == "high", c["priority"]
print("ok")' "$api" 2>&1)
if [ "$got" = ok ] && grep -q ">escalate<" <<<"$page" &&
    grep -qF "level 1 (unacted): not acted on for 16 business hours since it opened; medium -&gt; high; told boss@esc.test" <<<"$page"; then
    ok "the escalation shows in the CTA's history on its page (/ctas/$id1) and in the API (/api/ctas/$id1)"
else
    not_ok "the escalation shows on the CTA's page and in the API" "$got" "$(grep -n escalat <<<"$page" | head -5)"
fi
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null
got=$($PY - "$T/smtp.jsonl" "$id1" <<PY
import email, email.policy, json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mails = [r for r in rows if r.get("stage") == "data" and "boss@esc.test" in r["rcpt_tos"]]
keys = set()
for r in mails:
    m = email.message_from_string(r["data"], policy=email.policy.default)
    keys.add(m["Message-ID"])
    subj = m["Subject"]
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    assert subj.startswith("[tend] Escalated, not acted on (High): No logins"), subj
    assert "Account 1 <&>" in subj, subj
    assert "not acted on for 16 business hours since it opened" in text, text
    assert "Escalated to: boss@esc.test" in text, text
    assert "http://tend.test/ctas/" + sys.argv[2] in html, html
    assert "Account 1 &lt;&amp;&gt;" in html and "Account 1 <&>" not in html, html
assert len(keys) == 1, keys
print(len(mails), "ok")
PY
)
resends=$(dbq "$SDB" "SELECT coalesce(sum(o.resends), 0) FROM outbox o JOIN notifications n ON n.id = o.notification_id WHERE n.event = 'escalate'")
levels=$(dbq "$SDB" "SELECT count(*) FROM cta_escalations")
entries=$(escalate_entries)
rows=$(dbq "$SDB" "SELECT count(*) FROM outbox o JOIN notifications n ON n.id = o.notification_id WHERE n.event = 'escalate'")
n_mails=${got%% *}
if [ "${got#* }" = ok ] && [ "$levels" = 1 ] && [ "$entries" = 1 ] && [ "$rows" = 1 ] &&
    [ "$n_mails" -ge 1 ] && [ "$n_mails" -le $((1 + resends)) ]; then
    ok "tend serve escalated acc1 once across two kill -9s: 1 record, 1 history entry, 1 outbox row, $n_mails email(s) to the manager, one Message-ID ($resends resent after a crash), naming the CTA, the account (escaped), why, with its link"
else
    not_ok "tend serve escalated acc1 once across two kill -9s" "mails: $got, resends $resends, records $levels, history $entries, rows $rows" "$(tail -20 "$T/serve.log")"
fi
kill -TERM "$SMTP_PID" 2>/dev/null
wait "$SMTP_PID" 2>/dev/null
