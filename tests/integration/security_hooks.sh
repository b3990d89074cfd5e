#!/usr/bin/env bash
# The webhook and Slack endpoints attacked as an outsider would (issue 19's
# review; docs/connectors.md "Failure handling", docs/slack.md "Security"):
# real HTTP to a real tend serve on 127.0.0.1 with a Stripe connector and a
# Slack section, a stand-in Slack (receiver.py) as the response_url.
#   A. an unsigned or stale Slack request is refused on its headers alone,
#      before its body (as /hooks/ already was): 401 with no body sent;
#   B. floods of unsigned and forged requests (1 MB bodies with well-formed
#      headers) cost bounded memory and time, /healthz answers meanwhile;
#   C. slow clients on /hooks/ and /slack/ are closed by the deadlines; 1 MB
#      webhook bodies trickling in do not take the dashboard's body budget;
#   D. a signed body 1 MB deep (nesting) or wide is refused or kept fast;
#      provider text with control characters cannot forge a log line;
#   E. a response_url with a dot segment (/resp/../x, %2e%2e), another
#      host's or scheme's, userinfo, an upper-case or trailing-dot host: 400,
#      and nothing is posted outside the base; the same signed click sent
#      again within the 5 minutes is acknowledged and not acted on again;
#   F. an inbox row whose processing always fails (a store error, forced by a
#      trigger) is given up after INBOX_MAX_ERRORS attempts, failed with the
#      reason "error", and the rows behind it are processed;
#   G. Slack's work queue full: 503 and nothing queued; at SIGTERM the stop
#      is bounded and the queued requests are dropped, logged.
. "$(dirname "$0")/lib.sh"
pin_clock_at_noon

RECEIVER="$ROOT/tests/integration/receiver.py"
SEND="$ROOT/tests/integration/hooks_send.py"
HD="$DATA/hooks"
DB=$(db sechooks)
echo '{"type":"group","userId":"u1","groupId":"acme","timestamp":"2026-11-01T09:00:00Z","messageId":"g1","traits":{"name":"Acme"}}' >"$T/ev.jsonl"
echo '{"type":"group","userId":"u2","groupId":"evil<!here>","timestamp":"2026-11-01T09:00:00Z","messageId":"g2","traits":{"name":"<!channel> & <http://evil.example|click> *b*","csm_email":"x@t.test"}}' >>"$T/ev.jsonl"
"$TEND" import --db "$DB" "$T/ev.jsonl" >/dev/null || not_ok "tend import"

rm -f "$T/slack.port"
echo '{}' >"$T/slack.script.json"
$PY "$RECEIVER" http --port-file "$T/slack.port" --log "$T/slack.jsonl" \
    --script "$T/slack.script.json" 2>>"$T/slack.err" &
PIDS+=("$!")
wait_for 30 test -s "$T/slack.port" || not_ok "the stand-in Slack starts" "$(cat "$T/slack.err")"
SP=$(cat "$T/slack.port")
# /resp/hold answers only once $T/release exists (Slack's end slow or down).
echo "{\"/resp/hold\": [{\"until_file\": \"$T/release\", \"repeat\": true}]}" >"$T/slack.script.json"

HASH=$(printf 'sec-hooks-pw\n' | "$TEND" passwd 2>/dev/null | grep -o '\$argon2id\$[^[:space:]"]*' | head -1)
PORT=$(free_port)
export STRIPE_SECRET="whsec_sec_$RANDOM$RANDOM$RANDOM" SLACK_SECRET="slack-sec-$RANDOM$RANDOM"
cat >"$T/tend.yaml" <<EOF
connectors:
  stripe:
    secrets_env: STRIPE_SECRET
slack:
  signing_secret_env: SLACK_SECRET
  response_url_base: http://127.0.0.1:$SP/resp/
serve:
  users:
    - {email: ann@t.test, name: Ann Lee, password_hash: "$HASH", slack_user_id: UANN}
EOF
start_serve "$DB" "$PORT" --config "$T/tend.yaml" --no-eval || {
    not_ok "tend serve starts with a connector and a slack section" "$(cat "$T/serve.log")"
    exit 0
}
ok "tend serve starts with a connector and a slack section"

export PORT SP T DB SERVE_PID SEND HD
$PY - <<'PY'
import hashlib, hmac, http.client, json, os, socket, subprocess, threading, time, urllib.parse

PORT, SP, T = int(os.environ["PORT"]), int(os.environ["SP"]), os.environ["T"]
PID = int(os.environ["SERVE_PID"])
STRIPE, SLACK = os.environ["STRIPE_SECRET"], os.environ["SLACK_SECRET"]
OFFSET = int(os.environ.get("TEND_TEST_CLOCK_OFFSET_S", "0"))
failed = 0


def ok(name, cond, detail=""):
    global failed
    print(("ok - " if cond else "not ok - ") + name)
    if not cond:
        failed += 1
        if detail:
            print("    " + str(detail)[:2000].replace("\n", "\n    "))


def rss_mb():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


def now_s():
    return int(time.time()) + OFFSET


def slack_headers(body, ts=None, secret=SLACK):
    ts = str(now_s()) if ts is None else str(ts)
    mac = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": "v0=" + mac, "X-Slack-Request-Timestamp": ts,
            "Content-Type": "application/x-www-form-urlencoded"}


def stripe_headers(body, secret=STRIPE, t=None):
    t = str(now_s()) if t is None else str(t)
    mac = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={mac}", "Content-Type": "application/json"}


def post(path, body, headers, conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    if not conn:
        c.close()
    return r.status, data.decode("utf-8", "replace")


def headers_only(path, headers, length=60000, timeout=20):
    """Request line and headers declaring length bytes, no body: the status
    line tend answers with (or 'none') and the ms it took."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    s.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
               f"{extra}\r\n").encode())
    t0 = time.monotonic()
    try:
        line = s.recv(4096).split(b"\r\n")[0].decode() or "none"
    except socket.timeout:
        line = "none"
    s.close()
    return line, (time.monotonic() - t0) * 1000


def logged():
    try:
        with open(os.path.join(T, "slack.jsonl")) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def serve_log():
    with open(os.path.join(T, "serve.log"), encoding="utf-8", errors="replace") as f:
        return f.read()


def healthz_ms():
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    c.request("GET", "/healthz")
    st = c.getresponse().status
    c.close()
    return st, (time.monotonic() - t0) * 1000


# ---- A. Slack's headers checked before the body ------------------------------------
for path in ("/slack/actions", "/slack/commands"):
    line, ms = headers_only(path, {})
    ok(f"A: unsigned POST {path} is refused on its headers, no body sent ({line}, {ms:.0f} ms)",
       " 401 " in line + " ", line)
stale = slack_headers(b"x", ts=now_s() - 600)
line, ms = headers_only("/slack/actions", stale)
ok(f"A: a 10-minute-old X-Slack-Request-Timestamp is refused on its headers ({line}, {ms:.0f} ms)",
   " 401 " in line + " ", line)
bad = {"X-Slack-Signature": "v0=zz", "X-Slack-Request-Timestamp": str(now_s())}
line, ms = headers_only("/slack/commands", bad)
ok(f"A: a malformed X-Slack-Signature is refused on its headers ({line})", " 401 " in line + " ",
   line)
line, ms = headers_only("/hooks/stripe", {"Stripe-Signature": f"t={now_s() + 86400 * 365},v1={'0' * 64}"})
ok(f"A: Stripe t= a year in the future is refused on its headers ({line})",
   " 401 " in line + " ", line)
for sig in (f"t={now_s()},v1={'0' * 63}", f"t={now_s()},v1={'0' * 65}", f"t={now_s()} ,v1={'0' * 64}",
            f"t={now_s()}, v1={'0' * 64}", f"t=+{now_s()},v1={'0' * 64}", f"t={now_s()}000,v1={'0' * 64}"):
    line, ms = headers_only("/hooks/stripe", {"Stripe-Signature": sig})
    ok(f"A: Stripe-Signature {sig[:20]}... (odd length or whitespace) refused on headers ({line})",
       " 401 " in line + " ", line)
s = socket.create_connection(("127.0.0.1", PORT), timeout=20)
s.sendall((f"POST /hooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
           f"Stripe-Signature: t={now_s()},v1={'0' * 64}\r\n"
           f"Stripe-Signature: t={now_s()},v1={'1' * 64}\r\n\r\n").encode())
line = s.recv(4096).split(b"\r\n")[0].decode()
s.close()
ok(f"A: two Stripe-Signature headers are refused on headers ({line})", " 401 " in line + " ", line)

# ---- B. floods of unsigned and forged requests --------------------------------------
rss0 = rss_mb()
N, THREADS = 1500, 6
results = {}
lock = threading.Lock()


def flood(kind, n):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    for i in range(n):
        if kind == "unsigned-slack":
            body = b"payload=" + b"a" * 60000
            h = {"Content-Type": "application/x-www-form-urlencoded"}
            path = "/slack/actions"
        elif kind == "forged-slack":
            body = b"payload=" + b"a" * 60000
            h = slack_headers(body, secret="wrong")
            path = "/slack/commands"
        else:  # forged Stripe: well-formed, current, wrong MAC, a 1 MB body
            body = b"{" + b" " * ((1 << 20) - 2) + b"}"
            h = stripe_headers(body, secret="wrong")
            path = "/hooks/stripe"
        try:
            c.request("POST", path, body=body, headers=h)
            r = c.getresponse()
            r.read()
            st = r.status
            if r.getheader("Connection", "").lower() == "close":
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        except (OSError, http.client.HTTPException) as e:
            st = type(e).__name__
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        with lock:
            results.setdefault(kind, {}).setdefault(st, 0)
            results[kind][st] += 1
    c.close()


for kind, n in (("unsigned-slack", N), ("forged-slack", N), ("forged-stripe", 150)):
    t0 = time.monotonic()
    ths = [threading.Thread(target=flood, args=(kind, n // THREADS)) for _ in range(THREADS)]
    for th in ths:
        th.start()
    hz = healthz_ms()
    for th in ths:
        th.join()
    secs = time.monotonic() - t0
    got = results.get(kind, {})
    total = sum(got.values())
    ok(f"B: {total} {kind} requests: all 401 ({got}) in {secs:.1f} s "
       f"({total / secs:.0f}/s), /healthz meanwhile {hz[0]} in {hz[1]:.0f} ms",
       got.get(401, 0) == total and hz[0] == 200, got)
refusals = sum(1 for l in serve_log().splitlines() if "slack: /slack/" in l and "refused" in l)
ok(f"B: the {2 * N} unsigned or forged Slack requests wrote {refusals} log lines (at most 20 a "
   f"minute one by one, then a count)", refusals <= 40, refusals)
rss1 = rss_mb()
# AddressSanitizer keeps freed memory in quarantine (256 MB by default).
grow = 64 if os.environ.get("MODE", "release") != "asan" else 1024
ok(f"B: tend's RSS after the floods {rss1:.0f} MB (before {rss0:.0f} MB; bounded: < +{grow} MB)",
   rss1 - rss0 < grow, (rss0, rss1))
st, _ = post("/hooks/stripe", b"{}", stripe_headers(b"{}"))
ok(f"B: a signed request is still served after the floods ({st})", st in (200, 400), st)

# ---- C. slow clients ------------------------------------------------------------------
socks = []
for i in range(40):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=60)
    path = "/hooks/stripe" if i % 2 else "/slack/actions"
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode())
    socks.append(s)
t0 = time.monotonic()
closed = 0
deadline = t0 + 60
alive = list(socks)
while alive and time.monotonic() < deadline:
    nxt = []
    for s in alive:
        try:
            s.sendall(b"X-a: b\r\n")  # a header line a second: slowloris
            s.setblocking(False)
            try:
                d = s.recv(4096)
                if d == b"" or d:
                    closed += 1
                    s.close()
                    continue
            except BlockingIOError:
                pass
            finally:
                if s.fileno() >= 0:
                    s.setblocking(True)
            nxt.append(s)
        except OSError:
            closed += 1
            s.close()
    alive = nxt
    if alive:
        time.sleep(1)
secs = time.monotonic() - t0
hz = healthz_ms()
ok(f"C: 40 slowloris connections (a header line a second) on /hooks/ and /slack/ all ended "
   f"by the server in {secs:.0f} s (headers deadline 10 s), /healthz {hz[0]} in {hz[1]:.0f} ms",
   closed == 40 and secs < 45 and hz[0] == 200, (closed, secs))
for s in alive:
    s.close()

# ---- C. slow 1 MB webhook bodies do not crowd out the dashboard's ----------------------
held = []
for i in range(40):  # headers that look signed: current t=, 64 hex digits
    s = socket.create_connection(("127.0.0.1", PORT), timeout=60)
    s.sendall((f"POST /hooks/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
               f"Stripe-Signature: t={now_s()},v1={'ab' * 32}\r\n\r\n{{").encode())
    held.append(s)
time.sleep(0)  # the headers are read at once; the answer below waits on them
st_hook, text_hook = post("/hooks/stripe", b"{}", stripe_headers(b"{}"))
t0 = time.monotonic()
st_login, text_login = post("/login", b"email=a%40t.test&password=wrong",
                            {"Content-Type": "application/x-www-form-urlencoded"})
ms = (time.monotonic() - t0) * 1000
ok(f"C: with 40 webhook uploads of 1 MB trickling, a dashboard sign-in is answered "
   f"({st_login} in {ms:.0f} ms, not 503; a webhook meanwhile: {st_hook})", st_login != 503,
   text_login[:300])
for s in held:
    s.close()
end = time.time() + 60  # until the server has seen them go and given their budget back
while time.time() < end and post("/hooks/stripe", b"{}", stripe_headers(b"{}"))[0] == 503:
    time.sleep(0.1)

# ---- D. signed bodies built to cost ----------------------------------------------------
for label, body in (("1 MB of nesting", b"[" * 500000 + b"]" * 500000),
                    ("an object 1 MB deep in its event", b'{"id":"evt_deep","type":"invoice.paid","data":' + b'{"a":' * 100000 + b"1" + b"}" * 100001),
                    ("80,000 keys", b'{"id":"evt_wide","type":"x.y",' + b",".join(b'"k%d":1' % i for i in range(80000)) + b"}")):
    t0 = time.monotonic()
    st, text = post("/hooks/stripe", body, stripe_headers(body))
    ms = (time.monotonic() - t0) * 1000
    ok(f"D: a signed body of {label} ({len(body)} bytes): {st} in {ms:.0f} ms, RSS {rss_mb():.0f} MB",
       st in (200, 400, 413) and ms < 30000, text[:300])
st, _ = healthz_ms()
ok("D: tend serve is alive after them", st == 200)
body = json.dumps({"id": "evt_log\nFORGED tend serve: admin signed in", "type": "x\r\nFORGED-2",
                   "data": {"object": {"customer": "cus_\nFORGED-3"}}}).encode()
st, text = post("/hooks/stripe", body, stripe_headers(body))
time.sleep(0)  # the worker's log line is polled for below
end = time.time() + 30
while time.time() < end and "evt_log" not in serve_log() and "FORGED" not in serve_log():
    time.sleep(0.2)
forged = [l for l in serve_log().splitlines() if l.startswith("FORGED")]
ok(f"D: provider text with newlines cannot start a log line of its own ({st})", not forged, forged)

# ---- E. response_url outside the base ---------------------------------------------------
def click(url, user="UANN"):
    payload = {"type": "block_actions", "user": {"id": user}, "response_url": url,
               "actions": [{"value": "acknowledge:999999"}]}
    body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    return post("/slack/actions", body, slack_headers(body))


base = f"http://127.0.0.1:{SP}/resp/"
tricks = [f"http://127.0.0.1:{SP}/resp/../trap/dots", f"http://127.0.0.1:{SP}/resp/%2e%2e/trap/enc",
          f"http://127.0.0.1:{SP}/resp/.%2E/trap/mixed", f"http://127.0.0.1:{SP}/resp/x/../../trap/deep",
          f"http://127.0.0.1:{SP}/resp/./../trap/dot",
          f"http://127.0.0.1:{SP}@localhost:{SP}/trap/userinfo", f"http://127.0.0.1.:{SP}/resp/trap",
          f"HTTP://127.0.0.1:{SP}/resp/trap", f"http://127.0.0.1:{SP}/RESP/trap",
          f"gopher://127.0.0.1:{SP}/resp/trap", f"http://[::1]:{SP}/resp/trap",
          f"http://127.0.0.1:{SP}/resp/\\..\\trap", f"http://127.0.0.1:{SP}/resp/x\r\nHost: evil"]
n_before = len(logged())
statuses = [click(u)[0] for u in tricks]
ok(f"E: {len(tricks)} response_urls leading out of the base (dot segments, userinfo, trailing "
   f"dot, case, scheme, IPv6, backslash, CRLF) are all refused: {statuses}",
   all(s == 400 for s in statuses), list(zip(statuses, tricks)))
st, _ = click(base + "fine")
end = time.time() + 60
while time.time() < end and not any(r["path"] == "/resp/fine" for r in logged()):
    time.sleep(0.1)
paths = [r["path"] for r in logged()[n_before:]]
ok(f"E: only the URL under the base got a post ({st}; {paths})",
   st == 200 and paths == ["/resp/fine"], paths)

# ---- E. Slack markup in an account's name and id -----------------------------------------
body = urllib.parse.urlencode({"user_id": "UANN", "text": "evil<!here>",
                               "response_url": base + "markup"}).encode()
st = post("/slack/commands", body, slack_headers(body))[0]
end = time.time() + 60
while time.time() < end and not any(r["path"] == "/resp/markup" for r in logged()):
    time.sleep(0.1)
answer = next((r["body"] for r in logged() if r["path"] == "/resp/markup"), "")
texts = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "text" and isinstance(v, str):
                texts.append(v)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.loads(answer or "{}"))
live = [t for t in texts if "<!" in t or "<http://evil" in t]
ok(f"E: /tend on an account named '<!channel> & <http://evil.example|click>' answers with it "
   f"escaped (&lt; &gt; &amp;), no live mention or link ({st}, {len(answer)} bytes)",
   st == 200 and texts and not live and any("&lt;!channel&gt; &amp; &lt;http://evil.example|click&gt;" in t for t in texts),
   answer[:1500])

# ---- E. a replayed Slack request ------------------------------------------------------
payload = {"type": "block_actions", "user": {"id": "UANN"}, "response_url": base + "replay1",
           "actions": [{"value": "snooze:999998"}]}
body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
h = slack_headers(body)
first, again = post("/slack/actions", body, h)[0], post("/slack/actions", body, h)[0]
h["X-Slack-Signature"] = "v0=" + h["X-Slack-Signature"][3:].upper()  # the same MAC
upper = post("/slack/actions", body, h)[0]
payload["response_url"] = base + "replay2"
body2 = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
third = post("/slack/actions", body2, slack_headers(body2))[0]
end = time.time() + 60
while time.time() < end and not any(r["path"] == "/resp/replay2" for r in logged()):
    time.sleep(0.1)
n1 = sum(1 for r in logged() if r["path"] == "/resp/replay1")
ok(f"E: the same signed click sent twice within the window (and a third time with its hex in "
   f"upper case) is acted on once ({first}, {again}, {upper}, then another {third}; posts for the "
   f"first: {n1}; replays logged)",
   first == again == upper == third == 200 and n1 == 1 and
   serve_log().count("(a replay): ignored") == 2,
   (n1, [l for l in serve_log().splitlines() if "slack" in l][-6:]))
PY

# ---- F. an inbox row that always fails --------------------------------------------------
# A trigger refuses what ingest quarantines (an event of an unknown account,
# here "poison"): that row's transaction fails with a store error every time
# it is tried, as a corrupt row or a bug would.
if [ "$BACKEND" = sqlite ]; then
    dbq "$DB" "CREATE TRIGGER poison BEFORE INSERT ON quarantine
               BEGIN SELECT RAISE(ABORT, 'poison refused by the test trigger'); END" ||
        not_ok "F: the test trigger is created"
else
    dbq "$DB" "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
               RAISE EXCEPTION 'poison refused by the test trigger'; END \$\$" &&
        dbq "$DB" "CREATE TRIGGER poison BEFORE INSERT ON quarantine FOR EACH ROW
                   EXECUTE FUNCTION poison()" || not_ok "F: the test trigger is created"
fi
send() { $PY "$SEND" send --url "http://127.0.0.1:$PORT" --provider stripe --secret "$STRIPE_SECRET" "$@"; }
r1=$(send --file "$HD/stripe_invoice_paid.json" --event-id evt_poison \
    --set data.object.metadata.account_id=poison)
r2=$(send --file "$HD/stripe_invoice_paid.json" --event-id evt_after \
    --set data.object.metadata.account_id=acme)
row() { dbq "$DB" "SELECT status || '|' || reason || '|' || attempts FROM hook_inbox WHERE event_id = '$1'"; }
t0=$(date +%s%N)
after_done() { [ "$(row evt_after | cut -d'|' -f1)" = done ]; }
if wait_for 60 after_done; then
    ok "F: the row behind one that always fails is processed ($(row evt_after); $((($(date +%s%N) - t0) / 1000000)) ms; sent: ${r1%% *} ${r2%% *})"
else
    not_ok "F: the row behind one that always fails is processed" "evt_poison: $(row evt_poison)" \
        "evt_after: $(row evt_after)" "$(grep inbox "$T/serve.log" | tail -5)"
fi
p=$(row evt_poison)
detail=$(dbq "$DB" "SELECT detail FROM hook_inbox WHERE event_id = 'evt_poison'")
if [ "${p%|*}" = "failed|error" ] && [[ "$detail" == *"poison refused"* ]]; then
    ok "F: the row that always fails is given up after $(grep -c 'poison refused' "$T/serve.log") tries, failed with reason error ($p: $detail)"
else
    not_ok "F: the row that always fails is given up, failed with reason error" "$p: $detail"
fi
tries=$(grep -c 'poison refused' "$T/serve.log")
sleep_until=$(($(date +%s) + 12)) # two worker passes (HOOKS_POLL_MS 5 s): no more tries
wait_for 12 test "$(date +%s)" -ge "$sleep_until"
expect_eq "F: and it is not tried again (tries logged before and after two passes)" "$tries" \
    "$(grep -c 'poison refused' "$T/serve.log")"

# ---- G. Slack's queue full, then SIGTERM with work queued ---------------------------------
export PORT SP T SLACK_SECRET
$PY - >"$T/queue.out" <<'PY'
import hashlib, hmac, http.client, os, threading, time, urllib.parse
PORT, SP = int(os.environ["PORT"]), int(os.environ["SP"])
OFFSET = int(os.environ.get("TEND_TEST_CLOCK_OFFSET_S", "0"))
counts, lock = {}, threading.Lock()
def go(n):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    for i in range(n):
        body = urllib.parse.urlencode({"user_id": "UANN", "text": "acme", "trigger_id": f"{n}.{i}.{threading.get_ident()}",
            "response_url": f"http://127.0.0.1:{SP}/resp/hold"}).encode()
        ts = str(int(time.time()) + OFFSET)
        mac = hmac.new(os.environ["SLACK_SECRET"].encode(), b"v0:" + ts.encode() + b":" + body,
                       hashlib.sha256).hexdigest()
        c.request("POST", "/slack/commands", body=body, headers={
            "X-Slack-Signature": "v0=" + mac, "X-Slack-Request-Timestamp": ts,
            "Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse(); r.read()
        with lock:
            counts[r.status] = counts.get(r.status, 0) + 1
t0 = time.monotonic()
ths = [threading.Thread(target=go, args=(75,)) for _ in range(4)]
[t.start() for t in ths]; [t.join() for t in ths]
print(counts.get(200, 0), counts.get(503, 0), "%.0f" % ((time.monotonic() - t0) * 1000))
PY
read -r n200 n503 qms <"$T/queue.out"
if [ "${n503:-0}" -ge 30 ] && [ "${n200:-0}" -le 260 ] && [ $((n200 + n503)) = 300 ]; then
    ok "G: 300 signed commands while Slack's end hangs: $n200 queued (200), $n503 refused 503 (queue of 256, 2 workers) in $qms ms"
else
    not_ok "G: a full Slack queue answers 503" "200: $n200, 503: $n503 ($(cat "$T/queue.out"))"
fi
t0=$(date +%s%N)
kill -TERM "$SERVE_PID"
wait_for 60 bash -c "! kill -0 $SERVE_PID 2>/dev/null"
stop_ms=$((($(date +%s%N) - t0) / 1000000))
if ! kill -0 "$SERVE_PID" 2>/dev/null && serve_logged "queued requests dropped"; then
    ok "G: SIGTERM with Slack work queued stops in $stop_ms ms, the queued requests dropped and logged ($(grep -o '[0-9]* queued requests dropped' "$T/serve.log"))"
else
    not_ok "G: SIGTERM with Slack work queued stops, the queue dropped" "$stop_ms ms" "$(tail -5 "$T/serve.log")"
fi
touch "$T/release"
holds=$($PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l)['path'] == '/resp/hold'))" "$T/slack.jsonl")
if [ "$holds" -le 4 ]; then
    ok "G: only the requests in the workers' hands were posted ($holds), none of the dropped ones"
else
    not_ok "G: only the requests in the workers' hands were posted" "$holds"
fi
