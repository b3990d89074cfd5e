#!/usr/bin/env bash
# events: in tend.yaml (docs/config.md "events", docs/events.md "Your own
# event names"): a Segment tracking plan with a team's own names ("Logged
# In", "NPS Submitted" with nps_score, "Ticket Created" with id, noisy "Page
# Viewed") is imported by file and posted over HTTP to tend serve; the
# metrics and CTAs equal those of the same data written with tend's names,
# the ignored events are counted (import's summary, /metrics) and never
# stored, and a mistake in the section is refused with its path.
. "$(dirname "$0")/lib.sh"

read -r n_ignored n_aliased n_renamed < <($PY "$ROOT/tests/integration/aliases_plan.py" "$T")
TOKEN="alias-$RANDOM$RANDOM$RANDOM$RANDOM"
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
cat >"$T/team.yaml" <<YAML
serve:
  tokens:
    - name: metrics
      sha256: "$TOKEN_SHA"
events:
  aliases:
    "Logged In": "Signed In"
    "NPS Submitted": "NPS Survey Responded"
    "Ticket Created": "Ticket Opened"
  properties:
    "NPS Submitted":
      nps_score: score
    "Ticket Created":
      id: ticket_id
  ignore:
    - "Page Viewed"
YAML
AT=2026-11-30

# ---- by file -----------------------------------------------------------------
"$TEND" import --db "$(db names)" "$T/tend.jsonl" >"$T/names.out" 2>&1
expect_eq "the data with tend's names imports whole" 0 "$?"
out=$("$TEND" import --db "$(db team)" --config "$T/team.yaml" "$T/team.jsonl" 2>&1)
expect_eq "the team's tracking plan imports whole with events: (exit 0)" 0 "$?"
expect_contains "import's summary counts the ignored events" \
    "0 rejected, $n_ignored ignored (events: $n_aliased aliased, $n_renamed with properties renamed)" "$out"
accepted_tend=$(grep -o '[0-9]* accepted' "$T/names.out")
case $accepted_tend in [1-9]*) ;; *) not_ok "import's summary of tend's names" "$(cat "$T/names.out")" ;; esac
expect_contains "and accepts as many messages as the data with tend's names ($accepted_tend)" \
    "$accepted_tend," "$out"
out=$("$TEND" import --db "$(db plain)" "$T/team.jsonl" 2>&1)
expect_contains "without events:, the same file is accepted as feature events (and Page Viewed stored)" \
    "$(($(wc -l <"$T/team.jsonl"))) accepted" "$out"

# ---- over HTTP ---------------------------------------------------------------
port=$(free_port)
start_serve "$(db http)" "$port" --no-eval --config "$T/team.yaml" || exit 1
URL="http://127.0.0.1:$port"
posted=$($PY - "$URL" "$T/team.jsonl" <<'PYEOF'
import base64, json, sys, urllib.request
url, path = sys.argv[1], sys.argv[2]
auth = "Basic " + base64.b64encode(b"testkey:").decode()
msgs = [json.loads(l) for l in open(path)]
tot = {"accepted": 0, "duplicates": 0, "quarantined": 0, "ignored": 0, "rejected": 0}
def post(p, body):
    rq = urllib.request.Request(url + p, json.dumps(body).encode(),
                                {"Content-Type": "application/json", "Authorization": auth})
    with urllib.request.urlopen(rq, timeout=60) as r:
        o = json.load(r)
    for k in tot:
        tot[k] += len(o[k]) if k == "rejected" else o.get(k, 0)
i = 0
while i < len(msgs):
    if 400 <= i < 460:  # some one by one, as /v1/track and /v1/group
        m = dict(msgs[i])
        post("/v1/" + m.pop("type"), m)
        i += 1
    else:
        post("/v1/batch", {"batch": msgs[i:min(i + 200, 400 if i < 400 else len(msgs))]})
        i = min(i + 200, 400 if i < 400 else len(msgs))
print(tot["accepted"], tot["ignored"], tot["rejected"])
PYEOF
)
read -r h_accepted h_ignored h_rejected <<<"$posted"
expect_eq "over HTTP the answers count every Page Viewed as ignored, none rejected" \
    "$n_ignored 0" "$h_ignored $h_rejected"
expect_eq "and accept as many messages as the import did" "${accepted_tend% accepted}" "$h_accepted"
m=$(curl -s --max-time 30 -H "Authorization: Bearer $TOKEN" "$URL/metrics")
expect_contains "/metrics counts the ignored events" \
    "tend_ingest_messages_total{outcome=\"ignored\"} $n_ignored" "$m"
expect_contains "/metrics counts the aliased events" \
    "tend_ingest_mapped_total{mapping=\"aliased\"} $n_aliased" "$m"
expect_contains "/metrics counts the events with properties renamed" \
    "tend_ingest_mapped_total{mapping=\"renamed\"} $n_renamed" "$m"
r=$(curl -s --max-time 30 -u testkey: -H 'Content-Type: application/json' "$URL/v1/track" \
    -d '{"userId":"acme-u0","event":"NPS Submitted","properties":{"nps_score":12}}')
expect_contains "a renamed property is validated as tend's own (HTTP)" \
    'properties.score: must be an integer from 0 to 10' "$r"
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null

# ---- the same metrics and CTAs -------------------------------------------------
for d in names team http; do
    "$TEND" metrics --db "$(db $d)" --at $AT --format csv >"$T/metrics.$d"
    "$TEND" eval --db "$(db $d)" --at $AT >/dev/null 2>"$T/eval.$d" ||
        not_ok "tend eval of $d" "$(cat "$T/eval.$d")"
    "$TEND" ctas --db "$(db $d)" --status all --format csv >"$T/ctas.$d"
done
check "the metrics are not trivial (logins, NPS, tickets)" \
    $PY -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert len(r)==6 and all(int(x["logins_prev_28d"])>0 for x in r) and any(x["nps"] not in ("","100") for x in r) and any(int(x["tickets_30d"])>0 for x in r), r' \
    "$T/metrics.names"
check "tend metrics of the imported team plan equal those of tend's names" \
    diff "$T/metrics.names" "$T/metrics.team"
check "tend metrics of the team plan posted over HTTP equal those of tend's names" \
    diff "$T/metrics.names" "$T/metrics.http"
n_ctas=$(($(wc -l <"$T/ctas.names") - 1))
if [ "$n_ctas" -gt 0 ]; then ok "the data opens CTAs ($n_ctas)"; else not_ok "the data opens CTAs" "$(cat "$T/ctas.names")"; fi
check "the CTAs of the imported team plan equal those of tend's names" \
    diff "$T/ctas.names" "$T/ctas.team"
check "the CTAs of the team plan posted over HTTP equal those of tend's names" \
    diff "$T/ctas.names" "$T/ctas.http"
"$TEND" metrics --db "$(db plain)" --at $AT --format csv >"$T/metrics.plain"
if diff -q "$T/metrics.names" "$T/metrics.plain" >/dev/null; then
    not_ok "without events: the metrics differ (the comparison can fail)"
else
    ok "without events: the metrics differ (the comparison can fail)"
fi
for d in team http; do
    stored=$(dbq "$(db $d)" "SELECT count(*) FROM events e JOIN names n ON n.id = e.name_id WHERE n.name IN ('Page Viewed', 'Logged In', 'NPS Submitted', 'Ticket Created')" 2>&1)
    expect_eq "no event is stored under the team's names ($d)" 0 "$stored"
done

# ---- mistakes ------------------------------------------------------------------
printf 'events:\n  aliases:\n    "Logged In": "signed in"\n' >"$T/bad.yaml"
"$TEND" import --db "$(db bad)" --config "$T/bad.yaml" "$T/team.jsonl" >/dev/null 2>"$T/err"
expect_eq "a wrong alias target stops tend import (exit 2)" 2 "$?"
expect_contains "naming the path and the right name" \
    'bad.yaml: events.aliases."Logged In": "signed in" is not a tend event name (names are case-sensitive: did you mean "Signed In"?)' \
    "$(cat "$T/err")"
printf 'events:\n  alias:\n    "Logged In": "Signed In"\n' >"$T/bad.yaml"
"$TEND" serve --db "$(db bad)" --listen "127.0.0.1:$(free_port)" --write-key k \
    --config "$T/bad.yaml" >/dev/null 2>"$T/err"
expect_eq "an unknown key stops tend serve (exit 2)" 2 "$?"
expect_contains "naming it" 'events."alias": unknown key (known: aliases, properties, ignore)' "$(cat "$T/err")"
