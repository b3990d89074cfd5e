#!/usr/bin/env bash
# Notes and activities (issue 20, part 3; docs/api.md "Notes", docs/cli.md
# "tend notes"), recorded through the CLI and the REST API of a real tend
# serve: a note on a CTA is in the CTA's history by its author (the token's
# name, $USER or --by) and on the account's timeline; a note on an account
# too; bad notes are refused with the reason and store nothing. And the
# randomised holdout's flag on the CTAs of the API and the CLI.
. "$(dirname "$0")/lib.sh"

pin_clock_at_noon
TODAY=$(date -u +%F)
YESTERDAY=$(date -u -d "$TODAY - 1 day" +%F)
LOGIN=$(date -u -d "$TODAY - 21 days" +%F)
DB="$(db n)"
$PY - "$T/events.jsonl" "$LOGIN" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(12):
        acct = "acme" if i == 0 else f"acc{i:02d}"
        f.write(json.dumps({"type": "group", "userId": f"u{i}", "groupId": acct,
                            "timestamp": "2026-01-01T00:00:00Z", "messageId": f"g{i}",
                            "traits": {"name": f"Account {i}", "mrr": 100,
                                       "csm_email": "ann@x.io"}}) + "\n")
        f.write(json.dumps({"type": "track", "userId": f"u{i}", "event": "Signed In",
                            "timestamp": sys.argv[2] + "T12:00:00Z", "messageId": f"l{i}",
                            "context": {"groupId": acct}}) + "\n")
PY
"$TEND" import --db "$DB" "$T/events.jsonl" >/dev/null || not_ok "import"
TOKEN="notes-token-$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat >"$T/tend.yaml" <<EOF0
rules:
  health_drop: false
  budget: {per_owner_per_week: 0}
  no_login: {holdout: "50%", holdout_seed: 3}
serve:
  timezone: UTC
  daily_at: "00:01"
  tokens:
    - name: crm-sync
      sha256: "$TOKEN_SHA"
EOF0
"$TEND" eval --db "$DB" --config "$T/tend.yaml" --at "$YESTERDAY" >/dev/null 2>&1 || not_ok "eval"

# The holdout's flag: the CLI's listing and tend cta show.
ctas=$("$TEND" ctas --db "$DB" --format json)
read -r n held first_delivered first_held ACCT < <($PY -c '
import json, sys
r = json.loads(sys.argv[1])
held = [c for c in r if c["held_out"]]
deliv = [c for c in r if not c["held_out"]]
print(len(r), len(held), deliv[0]["id"], held[0]["id"] if held else 0, deliv[0]["account_id"])' "$ctas")
if [ "$n" = 12 ] && [ "$held" -gt 0 ] && [ "$held" -lt 12 ]; then
    ok "tend ctas --format json flags the held-out CTAs ($held of $n at 50%)"
else
    not_ok "tend ctas flags the held-out CTAs" "$ctas"
fi
out=$("$TEND" cta show "$first_held" --db "$DB")
expect_contains "tend cta show says a held-out CTA was not delivered" "held out: created, not delivered" "$out"

# The CLI.
CTA=$first_delivered
out=$(USER=ann@x.io "$TEND" notes add --db "$DB" --cta "$CTA" --kind call --text "Spoke with Dana: renewal on track")
expect_contains "tend notes add records a call on a CTA" "call recorded" "$out"
out=$("$TEND" cta show "$CTA" --db "$DB")
expect_contains "the CTA's history has the note, by \$USER" "note     open    low    by ann@x.io: call: Spoke with Dana" "$out"
out=$("$TEND" notes add --db "$DB" --account acc02 --kind meeting --text "QBR booked" --by bob@x.io)
expect_contains "tend notes add records a meeting on an account" "meeting recorded on account acc02" "$out"
csv=$("$TEND" notes list --db "$DB" --format csv)
expect_eq "tend notes list: newest first, with account, CTA, kind, author" \
    "acc02,,meeting,bob@x.io,QBR booked|$ACCT,$CTA,call,ann@x.io,Spoke with Dana: renewal on track" \
    "$(printf '%s\n' "$csv" | tail -n +2 | cut -d, -f3- | paste -sd'|')"
out=$("$TEND" notes add --db "$DB" --account acc02 --kind fax --text x 2>&1)
rc=$?
expect_eq "a bad kind exits 1" 1 "$rc"
expect_contains "and says which kinds there are" "kind must be call, email, meeting, text or note" "$out"
out=$("$TEND" notes add --db "$DB" --cta 999999 --kind call --text x 2>&1)
expect_contains "an unknown CTA is named" "no CTA 999999" "$out"
long=$(head -c 2001 /dev/zero | tr '\0' x)
out=$("$TEND" notes add --db "$DB" --account acc02 --kind note --text "$long" 2>&1)
expect_contains "a text over 2000 bytes is refused with the limit" "at most 2000 bytes (it has 2001)" "$out"
n=$("$TEND" notes list --db "$DB" --format csv | tail -n +2 | wc -l)
expect_eq "refused notes store nothing" 2 "$n"

# The REST API.
PORT=$(free_port)
start_serve "$DB" "$PORT" --config "$T/tend.yaml" || exit 1
api() { curl -s --max-time 30 -H "Authorization: Bearer $TOKEN" "$@"; }
code() { curl -s -o "$T/body" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $TOKEN" "$@"; }
c=$(code -H 'Content-Type: application/json' -d '{"kind":"email","text":"Sent the onboarding deck"}' \
    "http://127.0.0.1:$PORT/api/ctas/$CTA/note")
got=$($PY -c '
import json, sys
r = json.load(open(sys.argv[1]))
n, h = r["notes"][0], r["history"][-1]
print(n["kind"], n["by"], h["action"], h["actor"], r["held_out"])' "$T/body")
expect_eq "POST /api/ctas/ID/note: $c, the CTA with the note by the token's name and its history entry" \
    "email crm-sync note crm-sync False" "$got"
c=$(code -d 'kind=text&text=Texted+the+champion' "http://127.0.0.1:$PORT/api/accounts/acc03/notes")
got=$($PY -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["notes"]), r["notes"][0]["kind"], r["notes"][0]["cta_id"])' "$T/body")
expect_eq "POST /api/accounts/ID/notes (a form body): $c, the account's notes" "1 text None" "$got"
got=$(api "http://127.0.0.1:$PORT/api/accounts/acc03" | $PY -c '
import json, sys
r = json.load(sys.stdin)
t = [e for e in r["timeline"] if e["kind"] == "note"]
print(len(r["notes"]), t[0]["what"], t[0]["user"], t[0]["detail"])')
expect_eq "the account's view lists the note and puts it on the timeline" \
    "1 text crm-sync Texted the champion" "$got"
got=$(api "http://127.0.0.1:$PORT/api/accounts/$ACCT" | $PY -c '
import json, sys
r = json.load(sys.stdin)
print(len(r["notes"]), sum(e["kind"] == "cta" and e["what"] == "note" for e in r["timeline"]))')
expect_eq "a CTA's notes are on its account's timeline once, as the CTA's history" "2 2" "$got"
got=$(api "http://127.0.0.1:$PORT/api/notes?limit=2" | $PY -c 'import json,sys; print([n["kind"] for n in json.load(sys.stdin)["notes"]])')
expect_eq "GET /api/notes: newest first, limited" "['text', 'email']" "$got"
got=$(api "http://127.0.0.1:$PORT/api/notes?cta=$CTA" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["notes"]))')
expect_eq "GET /api/notes?cta=ID" 2 "$got"
c=$(code -H 'Content-Type: application/json' -d '{"kind":"fax","text":"x"}' "http://127.0.0.1:$PORT/api/accounts/acc03/notes")
expect_eq "a bad kind: 400" 400 "$c"
expect_contains "with the reason" "kind must be call, email, meeting, text or note" "$(cat "$T/body")"
c=$(code -H 'Content-Type: application/json' -d '{"kind":"call","text":"x"}' "http://127.0.0.1:$PORT/api/accounts/nope/notes")
expect_eq "an unknown account: 404" 404 "$c"
c=$(code "http://127.0.0.1:$PORT/api/notes?account=nope")
expect_eq "GET /api/notes?account=nope: 404" 404 "$c"
c=$(code -H 'Content-Type: application/json' -d '{"kind":"call"}' "http://127.0.0.1:$PORT/api/ctas/$CTA/note")
expect_eq "a note without text: 400" 400 "$c"
got=$(api "http://127.0.0.1:$PORT/api/ctas" | $PY -c '
import json, sys
r = json.load(sys.stdin)["ctas"]
print(len(r), sum(c["held_out"] for c in r))')
expect_eq "GET /api/ctas lists every CTA with held_out" "12 $held" "$got"
got=$(api "http://127.0.0.1:$PORT/api/ctas?holdout=hide" | $PY -c 'import json,sys; r=json.load(sys.stdin); print(r["total"], any(c["held_out"] for c in r["ctas"]))')
expect_eq "GET /api/ctas?holdout=hide leaves them out" "$((12 - held)) False" "$got"
got=$(api "http://127.0.0.1:$PORT/api/ctas/$first_held" | $PY -c 'import json,sys; r=json.load(sys.stdin); print(r["held_out"], r["holdout"]["share"])')
expect_eq "GET /api/ctas/ID: held_out and the draw's share" "True 0.5" "$got"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "SIGTERM stops tend serve with status 0" 0 "$?"
true
