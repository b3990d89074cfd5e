#!/usr/bin/env bash
# Slack actions (issue 19 part 3, docs/slack.md), against the real binary:
# tend deliver sends the CTA messages to a stand-in Slack webhook
# (receiver.py), whose buttons carry the CTA and the action; a Python sender
# signs block_actions payloads as Slack does (hmac over v0:timestamp:body)
# and posts them to tend serve's POST /slack/actions on 127.0.0.1; the same
# receiver plays the response_url and Slack's users.info (api_url). Checked:
#   - acknowledge, snooze 7 days, close as done and assign to me change the
#     CTA through the person actions, with the actor in its history (GET
#     /api/ctas/{id}), and the response_url gets the message with its new
#     state and who did it; the 200 comes within Slack's 3 seconds;
#   - a user found by email through users.info (Bearer bot token; cached:
#     asked once), one by slack_user_id, a rotated (second) signing secret;
#   - the same click twice changes nothing the second time;
#   - forged (wrong secret), stale (6 minutes old) and unsigned requests: 401,
#     nothing changes, nothing posted; a response_url outside the configured
#     base: 400, nothing changes (no request to it);
#   - an unmapped and a disabled Slack user get an ephemeral refusal and
#     nothing changes;
#   - roles (issue 21): a viewer, and a csm on another book's CTA, get the
#     dashboard's refusal (ephemeral) and nothing changes; the book's csm
#     acts; every Slack action is in the audit log with the tend user as
#     actor, a repeated click or a refused one adds none;
#   - /tend NAME answers with the account's health, risk, open CTAs and link
#     (the figures of GET /api/accounts/{id}); several matches listed; an
#     unknown name answered helpfully; an unsigned command refused.
. "$(dirname "$0")/lib.sh"

RECEIVER="$ROOT/tests/integration/receiver.py"
pin_clock_at_noon

DB="$(db slack)"
$PY - "$T/events.jsonl" <<'PY'
import json, sys
accounts = [("acme", "Acme Corp"), ("acmex", "Acme Labs <&>"), ("globex", "Globex"),
            ("initech", "Initech")]
with open(sys.argv[1], "w") as f:
    for i, (acct, name) in enumerate(accounts, 1):
        f.write(json.dumps({"type": "group", "userId": f"u{i}", "groupId": acct,
                            "timestamp": "2026-04-01T00:00:00Z", "messageId": f"g{i}",
                            "traits": {"name": name, "mrr": 1000 * i,
                                       "csm_email": "carol@t.test"}}) + "\n")
        f.write(json.dumps({"type": "track", "userId": f"u{i}", "event": "Signed In",
                            "timestamp": "2026-04-10T12:00:00Z", "messageId": f"l{i}",
                            "context": {"groupId": acct}}) + "\n")
PY
"$TEND" import --db "$DB" "$T/events.jsonl" >/dev/null || not_ok "tend import of the test data"

# The stand-in Slack: webhook, response_url and users.info.
rm -f "$T/slack.port"
echo '{}' >"$T/slack.script.json"
$PY "$RECEIVER" http --port-file "$T/slack.port" --log "$T/slack.jsonl" \
    --script "$T/slack.script.json" 2>>"$T/slack.err" &
PIDS+=("$!")
wait_for 30 test -s "$T/slack.port" || not_ok "the stand-in Slack starts" "$(cat "$T/slack.err")"
SP=$(cat "$T/slack.port")
set_script() {
    printf '%s\n' "$1" >"$T/slack.script.json.new"
    mv "$T/slack.script.json.new" "$T/slack.script.json"
}
# users.info knows Bob by his email (in another case than tend.yaml's).
set_script '{"/api/users.info": [{"status": 200, "headers": {"Content-Type": "application/json"},
  "body": "{\"ok\": true, \"user\": {\"id\": \"UBOB\", \"deleted\": false, \"profile\": {\"email\": \"Bob@T.test\"}}}",
  "repeat": true}]}'

HASH=$(printf 'slack-test-pw\n' | "$TEND" passwd 2>/dev/null | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
export TEND_SLACK_OLD='old-secret-8f2c' TEND_SLACK_NEW='new-secret-ключ-41'
export TEND_SLACK_BOT='xoxb-test-token'
cat >"$T/tend.yaml" <<EOF
rules:
  health_drop: false
  budget: {per_owner_per_week: 0}
delivery:
  base_url: http://tend.test
  max_age_days: 100000
  retry: {base_seconds: 1, max_seconds: 2}
  slack_interval_seconds: 0
channels:
  cs: {type: slack, url: "http://127.0.0.1:$SP/hook"}
slack:
  signing_secret_env: [TEND_SLACK_NEW, TEND_SLACK_OLD]
  bot_token_env: TEND_SLACK_BOT
  api_url: http://127.0.0.1:$SP/api
  response_url_base: http://127.0.0.1:$SP/resp/
serve:
  users:
    - {email: ann@t.test, name: Ann Lee, password_hash: "$HASH", slack_user_id: UANN}
    - {email: bob@t.test, name: Bob Stone, password_hash: "$HASH"}
    - {email: dis@t.test, name: Dis Abled, password_hash: "$HASH", slack_user_id: UDIS, disabled: true}
    - {email: vic@t.test, name: Vic Viewer, password_hash: "$HASH", slack_user_id: UVIEW, role: viewer}
    - {email: dan@t.test, name: Dan Csm, password_hash: "$HASH", slack_user_id: UDAN, role: csm}
    - {email: carol@t.test, name: Carol Csm, password_hash: "$HASH", slack_user_id: UCAROL, role: csm}
  tokens:
    - {name: ci, sha256: "$TOKEN_SHA", scope: admin}
EOF

out=$("$TEND" eval --db "$DB" --config "$T/tend.yaml" --at 2026-04-24 --quiet 2>&1) ||
    not_ok "tend eval 2026-04-24" "$out"
out=$(timeout 60 "$TEND" deliver --db "$DB" --config "$T/tend.yaml" 2>&1) ||
    not_ok "tend deliver sends the CTA messages" "$out"

PORT=$(free_port)
start_serve "$DB" "$PORT" --config "$T/tend.yaml" --no-eval || {
    not_ok "tend serve starts with the slack section" "$(cat "$T/serve.log")"
    exit 0
}
ok "tend serve starts with the slack section"

export PORT SP TOKEN T DB TEND
$PY - <<'PY'
import hashlib, hmac, http.client, json, os, subprocess, sys, time, urllib.parse

PORT, SP, TOKEN, T = int(os.environ["PORT"]), int(os.environ["SP"]), os.environ["TOKEN"], os.environ["T"]
NEW, OLD = os.environ["TEND_SLACK_NEW"], os.environ["TEND_SLACK_OLD"]
LOG = os.path.join(T, "slack.jsonl")
failed = 0


def ok(name, cond, detail=""):
    global failed
    print(("ok - " if cond else "not ok - ") + name)
    if not cond:
        failed += 1
        if detail:
            print("    " + str(detail)[:3000].replace("\n", "\n    "))


def requests_logged():
    try:
        with open(LOG, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def wait_logged(path, deadline_s=60):
    end = time.time() + deadline_s
    while time.time() < end:
        for r in requests_logged():
            if r["path"] == path:
                return r
        time.sleep(0.1)
    return None


def api(path):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    c.request("GET", path, headers={"Authorization": "Bearer " + TOKEN})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, json.loads(body)


def post(path, body, secret=NEW, ts=None, sign=True, sig=None):
    ts = str(int(time.time() + int(os.environ.get("TEND_TEST_CLOCK_OFFSET_S", "0")))) if ts is None else ts
    raw = body.encode()
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        mac = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256).hexdigest()
        h["X-Slack-Signature"] = sig or "v0=" + mac
        h["X-Slack-Request-Timestamp"] = ts
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    t0 = time.monotonic()
    c.request("POST", path, body=raw, headers=h)
    r = c.getresponse()
    data = r.read()
    ms = (time.monotonic() - t0) * 1000
    c.close()
    return r.status, data.decode(), ms


n_resp = 0


def click(user, verb, cta_id, message, **kw):
    """Posts a block_actions payload; returns (status, ms, response_url path)."""
    global n_resp
    n_resp += 1
    path = kw.pop("path", f"/resp/{n_resp}")
    payload = {"type": "block_actions", "user": {"id": user, "username": user.lower()},
               "team": {"id": "T1"}, "api_app_id": "A1", "trigger_id": "1.2.3",
               "response_url": f"http://127.0.0.1:{SP}{path}" if path.startswith("/") else path,
               "container": {"type": "message", "message_ts": "1.1"},
               "actions": [{"type": "button", "action_id": f"tend_{verb}",
                            "block_id": "tend_actions", "value": f"{verb}:{cta_id}",
                            "action_ts": "1.5"}]}
    if message is not None:
        payload["message"] = message
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    st, text, ms = post("/slack/actions", body, **kw)
    return st, ms, path, text


def history(cta_id):
    st, j = api(f"/api/ctas/{cta_id}")
    return j


# ---- the delivered messages carry the buttons ---------------------------------------
hooks = [r for r in requests_logged() if r["path"] == "/hook"]
ok(f"tend deliver posted the CTA messages to the stand-in webhook ({len(hooks)})", len(hooks) >= 4,
   [r["path"] for r in requests_logged()])
by_cta = {}
for r in hooks:
    m = json.loads(r["body"])
    acts = [b for b in m.get("blocks", []) if b.get("block_id") == "tend_actions"]
    if acts:
        vals = [e.get("value") for e in acts[0]["elements"]]
        cid = int(vals[0].split(":")[1])
        by_cta[cid] = (m, vals, [e["text"]["text"] for e in acts[0]["elements"]])
ok("each message has an actions block of Acknowledge, Snooze 7 days, Close as done, Assign to me "
   "whose values name the action and the CTA",
   len(by_cta) == len(hooks) and all(
       labels == ["Acknowledge", "Snooze 7 days", "Close as done", "Assign to me"] and
       vals == [f"{v}:{cid}" for v in ("acknowledge", "snooze", "close", "assign")]
       for cid, (m, vals, labels) in by_cta.items()), by_cta)

st, lst = api("/api/ctas?status=all")
ctas = {c["account_id"]: c for c in lst["ctas"]}
ok("each account has a live no_login CTA", set(ctas) == {"acme", "acmex", "globex", "initech"} and
   all(c["status"] == "open" for c in ctas.values()), lst)
A, B, C, D = (ctas[a]["id"] for a in ("acme", "acmex", "globex", "initech"))
msg = {cid: by_cta[cid][0] if cid in by_cta else None for cid in (A, B, C, D)}
day = lst["today"]


def person_entries(cid):
    return [h for h in history(cid)["history"] if h["actor"] != "tend"]


def state_line(body):
    m = json.loads(body)
    for b in m.get("blocks", []):
        if b.get("block_id") == "tend_state":
            return b["elements"][0]["text"]
    return m.get("text", "")


# ---- acknowledge, snooze, close, assign --------------------------------------------
st, ms, path, _ = click("UANN", "acknowledge", A, msg[A])
r = wait_logged(path)
h = person_entries(A)
ok(f"acknowledge: 200 in {ms:.0f} ms (Slack's limit 3,000)", st == 200 and ms < 3000, (st, ms))
ok("acknowledge: the history has it with the actor ann@t.test, the CTA stays open",
   [(e["action"], e["actor"]) for e in h] == [("acknowledge", "ann@t.test")] and
   history(A)["status"] == "open", h)
ok("acknowledge: the response_url gets the message replaced, buttons kept, with who did it",
   r is not None and json.loads(r["body"]).get("replace_original") is True and
   "Acknowledged* by Ann Lee" in state_line(r["body"]) and
   any(b.get("block_id") == "tend_actions" for b in json.loads(r["body"])["blocks"]),
   r and r["body"])

st, ms, path, _ = click("UANN", "snooze", B, msg[B])
r = wait_logged(path)
c = history(B)
import datetime
until = (datetime.date.fromisoformat(day) + datetime.timedelta(days=7)).isoformat()
ok(f"snooze: 200 in {ms:.0f} ms; snoozed until {until} (7 days after {day}) by ann@t.test",
   st == 200 and c["status"] == "snoozed" and c["snoozed_until"] == until and
   [(e["action"], e["actor"]) for e in person_entries(B)] == [("snooze", "ann@t.test")], c)
ok("snooze: the response_url shows the new state",
   r is not None and f"Snoozed until {until}* by Ann Lee" in state_line(r["body"]), r and r["body"])

# Bob has no slack_user_id: users.info (with the bot token) gives his email.
st, ms, path, _ = click("UBOB", "close", C, msg[C])
r = wait_logged(path)
c = history(C)
ok(f"close (a user found by email through users.info): 200 in {ms:.0f} ms; closed as resolved by bob@t.test",
   st == 200 and c["status"] == "closed" and c["closed_reason"] == "resolved" and
   [(e["action"], e["actor"]) for e in person_entries(C)] == [("close", "bob@t.test")], c)
ok("close: the response_url shows it closed, by Bob Stone, and the buttons are gone",
   r is not None and "Closed as resolved* by Bob Stone" in state_line(r["body"]) and
   not any(b.get("block_id") == "tend_actions" for b in json.loads(r["body"])["blocks"]),
   r and r["body"])
infos = [x for x in requests_logged() if x["path"].split("?")[0] == "/api/users.info"]
ok("users.info was asked with the bot token, for UBOB",
   len(infos) == 1 and infos[0]["headers"].get("Authorization") == "Bearer xoxb-test-token",
   infos)

# Signed with the older of the two secrets (rotation).
st, ms, path, _ = click("UBOB", "assign", A, msg[A], secret=OLD)
r = wait_logged(path)
c = history(A)
ok(f"assign to me (signed with the second secret): 200 in {ms:.0f} ms; owner bob@t.test, by bob@t.test",
   st == 200 and c["owner"] == "bob@t.test" and
   [(e["action"], e["actor"]) for e in person_entries(A)][-1] == ("assign", "bob@t.test"), c)
ok("assign: the response_url shows who it went to",
   r is not None and "Assigned to bob@t.test* (was carol@t.test) by Bob Stone" in state_line(r["body"]),
   r and r["body"])
infos = [x for x in requests_logged() if x["path"].split("?")[0] == "/api/users.info"]
ok("Bob's email came from the cache the second time (users.info asked once)", len(infos) == 1, infos)

# ---- the same click again: nothing changes -------------------------------------------
before = {cid: len(history(cid)["history"]) for cid in (A, B, C)}
for who, verb, cid in (("UANN", "snooze", B), ("UBOB", "close", C), ("UBOB", "assign", A),
                       ("UANN", "acknowledge", A)):
    st, ms, path, _ = click(who, verb, cid, msg[cid])
    r = wait_logged(path)
    ok(f"{verb} clicked again: 200, the message says already, nothing recorded",
       st == 200 and r is not None and "Already" in state_line(r["body"]) and
       len(history(cid)["history"]) == before[cid], (st, r and r["body"], history(cid)))

# ---- forged, stale, unsigned, off-base response_url: 401/400, nothing changes -------
before = {cid: (len(history(cid)["history"]), history(cid)["status"]) for cid in (D,)}
n_logged = len(requests_logged())
st1, _, _, t1 = click("UANN", "close", D, msg[D], path="/resp/forged", secret="not-the-secret")
st2, _, _, t2 = click("UANN", "close", D, msg[D], path="/resp/stale",
                      ts=str(int(time.time() + int(os.environ["TEND_TEST_CLOCK_OFFSET_S"])) - 360))
st3, _, _, t3 = click("UANN", "close", D, msg[D], path="/resp/unsigned", sign=False)
st4, _, _, t4 = click("UANN", "close", D, msg[D], path="/resp/trunc", sig="v0=abc")
st5, _, _, t5 = click("UANN", "close", D, msg[D], path=f"http://127.0.0.1:{SP}/elsewhere")
st6, _, _, t6 = click("UANN", "close", D, msg[D], path=f"http://127.0.0.1:{SP}/resp.evil/x")
ok("a forged signature: 401", st1 == 401, (st1, t1))
ok("a request signed 6 minutes ago: 401 (stale)", st2 == 401, (st2, t2))
ok("an unsigned request: 401", st3 == 401, (st3, t3))
ok("a truncated signature: 401", st4 == 401, (st4, t4))
ok("a response_url outside slack.response_url_base: 400", st5 == 400 and st6 == 400, (st5, t5, st6, t6))
ok("after them the CTA is unchanged (status, history)",
   (len(history(D)["history"]), history(D)["status"]) == before[D], history(D))

# ---- an unmapped and a disabled user: ephemeral refusal, nothing changes ----------
set_script = os.path.join(T, "slack.script.json")
with open(set_script + ".new", "w") as f:
    json.dump({"/api/users.info": [{"status": 200, "headers": {"Content-Type": "application/json"},
                                    "body": json.dumps({"ok": False, "error": "user_not_found"}),
                                    "repeat": True}]}, f)
os.replace(set_script + ".new", set_script)
for who in ("UNOBODY", "UDIS"):
    st, ms, path, _ = click(who, "close", D, msg[D])
    r = wait_logged(path)
    body = json.loads(r["body"]) if r else {}
    ok(f"{who}: 200, an ephemeral refusal ({body.get('text', '')[:60]}...), nothing changes",
       st == 200 and body.get("response_type") == "ephemeral" and body.get("replace_original") is False and
       (len(history(D)["history"]), history(D)["status"]) == before[D], (st, r, history(D)))
infos = [x for x in requests_logged() if x["path"].split("?")[0] == "/api/users.info"]
ok("the unmapped user was looked up in users.info (the disabled one has a slack_user_id)",
   [x["path"] for x in infos] == ["/api/users.info?user=UBOB", "/api/users.info?user=UNOBODY"],
   infos)

# Slack's users.info failing (500): told to try again, nothing changes, and
# the failure is not remembered (the next click asks again).
with open(set_script + ".new", "w") as f:
    json.dump({"/api/users.info": [{"status": 500, "body": "oops", "repeat": True}]}, f)
os.replace(set_script + ".new", set_script)
for attempt in (1, 2):
    st, ms, path, _ = click("UFAIL", "close", D, msg[D])
    r = wait_logged(path)
    ok(f"users.info failing (attempt {attempt}): an ephemeral 'could not reach Slack', nothing changes",
       st == 200 and r is not None and "could not reach Slack" in r["body"] and
       (len(history(D)["history"]), history(D)["status"]) == before[D], (st, r and r["body"]))
asked = [x["path"] for x in requests_logged() if x["path"] == "/api/users.info?user=UFAIL"]
ok("... and asked Slack each time (a failure is not cached)", len(asked) == 2, asked)

# ---- roles (issue 21): a viewer, and a csm on another book's CTA, are refused with the
# dashboard's reason; the csm of the book acts; each Slack action is in the audit log,
# with the tend user as its actor ---------------------------------------------------------
before_roles = (len(history(D)["history"]), history(D)["status"])
for who, verb, why in (("UVIEW", "close", "viewer"), ("UDAN", "snooze", "own book")):
    st, ms, path, _ = click(who, verb, D, msg[D])
    r = wait_logged(path)
    body = json.loads(r["body"]) if r else {}
    ok(f"{who} ({why}): 200, an ephemeral refusal saying why ({body.get('text', '')[:70]}...), "
       "nothing changes",
       st == 200 and body.get("response_type") == "ephemeral" and why in body.get("text", "") and
       (len(history(D)["history"]), history(D)["status"]) == before_roles, (st, r, history(D)))
st, ms, path, _ = click("UCAROL", "acknowledge", D, msg[D])
r = wait_logged(path)
ok("a csm acknowledges a CTA of their own book from Slack (by carol@t.test)",
   st == 200 and [(e["action"], e["actor"]) for e in person_entries(D)][-1:] ==
   [("acknowledge", "carol@t.test")], (st, r, history(D)))
st, au = api("/api/audit?limit=500")
entries = au.get("entries") or []


def audited(action, actor, cid):
    return [e for e in entries if e["action"] == action and e["actor"] == actor and
            e["target"] == f"cta:{cid}"]


ok("the audit log has the Slack actions, actor the tend user: ann's acknowledge, ann's snooze, "
   "bob's close, bob's assign, carol's acknowledge",
   st == 200 and audited("cta.acknowledge", "ann@t.test", A) and audited("cta.snooze", "ann@t.test", B)
   and audited("cta.close", "bob@t.test", C) and audited("cta.assign", "bob@t.test", A)
   and audited("cta.acknowledge", "carol@t.test", D), (st, entries[:8]))
ok("a click that changed nothing (again) added no audit entry",
   len(audited("cta.snooze", "ann@t.test", B)) == 1 and len(audited("cta.close", "bob@t.test", C)) == 1,
   entries[:12])
ok("the refused clicks left no audit entry",
   not [e for e in entries if e["actor"] in ("vic@t.test", "dan@t.test", "dis@t.test")], entries[:8])

refused = [x["path"] for x in requests_logged() if x["path"] in
           ("/resp/forged", "/resp/stale", "/resp/unsigned", "/resp/trunc", "/elsewhere", "/resp.evil/x")]
ok("nothing was posted for the refused requests (to their response_url or elsewhere)", not refused, refused)

# ---- a body over tend serve's 64 KiB: 413, nothing changes -------------------------
big = urllib.parse.urlencode({"payload": "x" * (70 * 1024)})
st, text, ms = post("/slack/actions", big)
ok(f"a body of {len(big)} bytes (over 64 KiB): 413", st == 413, (st, text[:200]))

# ---- the API acknowledges as Slack does -------------------------------------------
c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
c.request("POST", f"/api/ctas/{D}/acknowledge", body="{}",
          headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
r = c.getresponse()
r.read()
c.close()
h = history(D)["history"]
ok("POST /api/ctas/{id}/acknowledge: 200, recorded with the token's name, the CTA still open",
   r.status == 200 and (h[-1]["action"], h[-1]["actor"]) == ("acknowledge", "ci") and
   history(D)["status"] == "open", (r.status, h))

# ---- the slash command ------------------------------------------------------------
def command(text, user="UANN", path=None, **kw):
    global n_resp
    n_resp += 1
    path = path or f"/resp/cmd{n_resp}"
    body = urllib.parse.urlencode({"token": "x", "team_id": "T1", "command": "/tend", "text": text,
                                   "user_id": user, "user_name": "u",
                                   "response_url": f"http://127.0.0.1:{SP}{path}",
                                   "trigger_id": "1.2"})
    st, t, ms = post("/slack/commands", body, **kw)
    return st, ms, path


st, ms, path = command("init")
r = wait_logged(path)
_, acct = api("/api/accounts/initech")
body = json.loads(r["body"]) if r else {}
txt = json.dumps(body, ensure_ascii=False)
score = acct["score"]["overall"] if acct.get("score") else None
live = [c for c in acct["ctas"] if c["status"] != "closed"]
ok(f"/tend init: 200 in {ms:.0f} ms; an ephemeral answer for Initech", st == 200 and
   body.get("response_type") == "ephemeral" and "Initech" in txt, (st, r))
ok(f"/tend init: health {score:.0f} ({acct['score']['band']}), risk, {len(live)} open CTA with its link and "
   "the account's link, as the API says",
   len(live) == 1 and f"*Health:* {score:.0f} ({acct['score']['band']})" in txt and "Churn risk" in txt and
   f"*Open CTAs:* 1" in txt and f"http://tend.test/ctas/{D}|" in txt and live[0]["title"] in txt and
   "http://tend.test/accounts/initech|" in txt, txt)
st, ms, path = command("Ac")
r = wait_logged(path)
txt = r["body"] if r else ""
ok("/tend Ac: both accounts whose name starts with it listed (names escaped)",
   "2 accounts match" in txt and "`acme`" in txt and "`acmex`" in txt and "&lt;&amp;&gt;" in txt, txt)
st, ms, path = command("ACME")
r = wait_logged(path)
ok("/tend ACME: the account whose id is that (case-insensitive) answers alone, though acmex starts with it too",
   r is not None and "Acme Corp" in r["body"] and "*Health:*" in r["body"] and "accounts match" not in r["body"],
   r and r["body"])
st, ms, path = command("acme labs <&>")
r = wait_logged(path)
ok("/tend with a whole name (case-insensitive): that account",
   r is not None and "acmex" in r["body"] and "*Health:*" in r["body"], r and r["body"])
st, ms, path = command("zzz")
r = wait_logged(path)
ok("/tend zzz: answered helpfully", r is not None and "No account" in r["body"] and "/tend acme" in r["body"],
   r and r["body"])
st, ms, path = command("globex", user="UNOBODY")
r = wait_logged(path)
ok("/tend from an unmapped user: refused, ephemeral", r is not None and "not a tend user" in r["body"],
   r and r["body"])
st, ms, path = command("globex", secret="wrong")
ok("/tend with a forged signature: 401", st == 401, st)
sys.exit(1 if failed else 0)
PY

# A graceful stop: the workers and their connections end (under MODE=asan a
# leak or a use after free would be reported here).
kill -TERM "$SERVE_PID"
rc=0
timeout 60 tail --pid="$SERVE_PID" -f /dev/null || rc=124
wait "$SERVE_PID"
rc2=$?
[ "$rc" = 0 ] && rc=$rc2
if [ "$rc" = 0 ] && ! grep -q "Sanitizer" "$T/serve.log"; then
    ok "SIGTERM stops tend serve with status 0, no sanitizer report"
else
    not_ok "SIGTERM stops tend serve with status 0, no sanitizer report" "exit $rc" "$(grep -A20 Sanitizer "$T/serve.log" | head -40)"
fi

# tend cta acknowledge: the same person action from the command line.
D_ID=$(dbq "$DB" "SELECT id FROM ctas WHERE account_id = (SELECT id FROM accounts WHERE external_id = 'initech')")
out=$("$TEND" cta acknowledge "$D_ID" --db "$DB" --by dana@t.test 2>&1)
expect_contains "tend cta acknowledge ID records it" "CTA $D_ID: acknowledged" "$out"
hist=$("$TEND" cta show "$D_ID" --db "$DB" --format json 2>&1)
expect_contains "... in the history, by the --by person" '"actor":"dana@t.test"' "$(tr -d ' \n\t' <<<"$hist")"

# The signing secret's variable not set: tend serve refuses to start, saying which.
out=$(env -u TEND_SLACK_NEW timeout 60 "$TEND" serve --db "$DB" --listen "127.0.0.1:$(free_port)" \
    --write-key k --config "$T/tend.yaml" 2>&1)
rc=$?
expect_eq "without TEND_SLACK_NEW tend serve exits 2" 2 "$rc"
expect_contains "... naming the variable" \
    "slack.signing_secret_env[0]: the environment variable TEND_SLACK_NEW is not set" "$out"
