#!/usr/bin/env bash
# tend serve's REST API, /metrics, /login, /logout, /healthz and the pages'
# access rules (docs/api.md "REST API (JSON)", docs/dashboard.md "Security"),
# against real HTTP on 127.0.0.1: a generated SaaS of 60 accounts over 120
# days ending today, evaluated day by day, plus two hostile accounts.
# The checks are Python (written to $T/sv.py below); this script prepares
# the data, the users and the token, and starts and stops the server.
. "$(dirname "$0")/lib.sh"

# tend's clock at noon UTC of today (lib.sh): no day ends and no daily_at
# (06:00 Berlin) passes while the test runs, whenever it runs.
pin_clock_at_noon
export TEND T
TODAY=$(date -u +%F)
TOMORROW=$(date -u -d "$TODAY + 1 day" +%F)
YESTERDAY=$(date -u -d "$TODAY - 1 day" +%F)
FROM=$(date -u -d "$TODAY - 100 days" +%F)
DB="$(db serve)"
PORT=$(free_port)
ANA_PW='correct horse battery 1'
BOB_PW='bob password 2'
CY_PW='cy password 4'
export TODAY YESTERDAY FROM DB PORT ANA_PW BOB_PW CY_PW

# ---- users and the API token ------------------------------------------------------
hash_of() { printf '%s\n' "$1" | "$TEND" passwd 2>"$T/passwd.err" | grep -o '\$argon2id\$[^[:space:]"]*' | head -1; }
ANA_HASH=$(hash_of "$ANA_PW")
BOB_HASH=$(hash_of "$BOB_PW")
CY_HASH=$(hash_of "$CY_PW")
CY_HASH2=$(hash_of 'a new password 3')
if [[ "$ANA_HASH" == '$argon2id$'* && "$BOB_HASH" == '$argon2id$'* && "$ANA_HASH" != "$BOB_HASH" ]]; then
    ok "tend passwd prints an argon2id hash of the password read from stdin"
else
    not_ok "tend passwd prints an argon2id hash of the password read from stdin" "got: $ANA_HASH" "$(cat "$T/passwd.err")"
    exit 1
fi

# tend token NAME prints the token and its tokens: entry; find the 64-hex
# SHA-256 and the word of the output that hashes to it.
TOKEN_OUT=$("$TEND" token ci 2>&1)
read -r TOKEN TOKEN_SHA < <($PY - "$TOKEN_OUT" <<'PY'
import hashlib, re, sys
out = sys.argv[1]
hashes = re.findall(r"(?<![0-9a-fA-F])[0-9a-f]{64}(?![0-9a-fA-F])", out)
words = set(re.split(r"[\s\"':,=]+", out)) | set(out.split())
for h in hashes:
    for w in words:
        if w and w != h and hashlib.sha256(w.encode()).hexdigest() == h:
            print(w, h)
            sys.exit(0)
print("- -")
PY
)
if [ "$TOKEN" != - ] && [[ "$TOKEN_OUT" == *tokens:* || "$TOKEN_OUT" == *sha256* ]]; then
    ok "tend token prints a token and the tokens: entry with its SHA-256"
else
    not_ok "tend token prints a token and the tokens: entry with its SHA-256" "$TOKEN_OUT"
    TOKEN="tok-$RANDOM-$RANDOM-$RANDOM-fallback"
    TOKEN_SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
fi
export TOKEN

# ---- data --------------------------------------------------------------------------
# The generated SaaS, plus: "xss-co" named <script>alert(1)</script>, owned by
# ana@example.com, with a detractor yesterday (so it has a CTA); and an account
# whose id needs percent-encoding and whose name needs escaping, without owner.
"$TEND" generate --accounts 60 --days 120 --end "$TOMORROW" --out "$T/gen.jsonl" 2>"$T/gen.err" || {
    not_ok "tend generate" "$(cat "$T/gen.err")"
    exit 1
}
cat >"$T/extra.jsonl" <<EOF
{"type":"group","userId":"xss-u1","groupId":"xss-co","timestamp":"${FROM}T09:00:00Z","messageId":"x1","traits":{"name":"<script>alert(1)</script>","csm_email":"ana@example.com","segment":"smb","plan":"starter","mrr":90,"seats":3}}
{"type":"identify","userId":"xss-u1","timestamp":"${FROM}T09:00:01Z","messageId":"x2","traits":{"email":"eve@xss.example","name":"Eve <b>Bold</b>","company_id":"xss-co"}}
{"type":"track","userId":"xss-u1","event":"Signed In","timestamp":"${YESTERDAY}T09:30:00Z","messageId":"x3","context":{"groupId":"xss-co"}}
{"type":"track","userId":"xss-u1","event":"NPS Survey Responded","timestamp":"${YESTERDAY}T10:00:00Z","messageId":"x4","properties":{"score":2,"comment":"<img src=x onerror=alert(2)>"},"context":{"groupId":"xss-co"}}
{"type":"group","userId":"w-u1","groupId":"we/ird &id","timestamp":"${FROM}T09:00:00Z","messageId":"w1","traits":{"name":"Weird & Co \"quoted\" 'x'","segment":"smb","mrr":10,"seats":2}}
{"type":"identify","userId":"w-u1","timestamp":"${FROM}T09:00:01Z","messageId":"w2","traits":{"email":"w@weird.example","company_id":"we/ird &id"}}
EOF
out=$("$TEND" import --db "$DB" "$T/gen.jsonl" "$T/extra.jsonl" 2>&1) || {
    not_ok "tend import of the test data" "$out"
    exit 1
}

# Rules as configured for both evaluation and serve: card_expiring off, a
# custom rule that never fires. A log channel, so the outbox has rows.
RULES="rules:
  card_expiring: false
  custom:
    - name: never_fires
      when: health ~= nil and health < 0
      title: Never fires
      type: risk"
CHANNELS="delivery:
  base_url: http://127.0.0.1:$PORT
  max_age_days: 5
channels:
  audit:
    type: log
    path: $T/notifications.log"
printf '%s\n%s\n' "$RULES" "$CHANNELS" >"$T/eval.yaml"
out=$("$TEND" eval --db "$DB" --config "$T/eval.yaml" --from "$FROM" --to "$TODAY" --quiet 2>&1) || {
    not_ok "tend eval of the test data" "$out"
    exit 1
}

# write_config CY_HASH: tend.yaml for serve.
write_config() {
    cat >"$T/tend.yaml" <<EOF
serve:
  timezone: Europe/Berlin
  daily_at: "06:00"
  session_hours: 12
  users:
    - email: ana@example.com
      name: Ana Ortiz
      password_hash: "$ANA_HASH"
    - email: bob@example.com
      name: Bob Lee
      password_hash: "$BOB_HASH"
    - email: cy@example.com
      name: Cy Young
      password_hash: "$1"
  tokens:
    - name: ci
      sha256: "$TOKEN_SHA"
$RULES
$CHANNELS
EOF
}
# Two stored reports, as tend analyze and tend backtest store them (migration 10),
# the newer with a hostile title; written with SQL (lib.sh's dbq), so the test
# does not depend on those commands.
dbq "$DB" "INSERT INTO reports (kind, title, created_ms, summary, body) VALUES
  ('analyze', 'Churn drivers', 1793432400000, 'AUC 0.81 on 60 accounts',
   '<figure class=\"report-fig\"><figcaption>Coefficients</figcaption><p id=\"report-body-1\">BODY ONE</p></figure>'),
  ('backtest', '<script>alert(1)</script> rules', 1793436000000, 'precision & recall <b>',
   '<p id=\"report-body-2\">BODY TWO</p>');" 2>"$T/reports.err" || {
    not_ok "SQL inserts two reports into the test database" "$(cat "$T/reports.err")"
    exit 1
}

write_config "$CY_HASH"
start_serve "$DB" "$PORT" --config "$T/tend.yaml" || {
    not_ok "tend serve --config starts" "$(cat "$T/serve.log")"
    exit 1
}

cat >"$T/sv.py" <<'PY'
"""The checks of serve.sh; each prints "ok - ..." or "not ok - ..."."""
import datetime as dt
import html
import html.parser
import http.client
import json
import math
import os
import re
import subprocess
import sys
import time
import traceback
import urllib.parse

import testdb

TEND, T, DB = os.environ["TEND"], os.environ["T"], os.environ["DB"]
PORT = int(os.environ["PORT"])
TODAY, YESTERDAY = os.environ["TODAY"], os.environ["YESTERDAY"]
TOKEN = os.environ["TOKEN"]
ANA_PW, BOB_PW = os.environ["ANA_PW"], os.environ["BOB_PW"]
STAGE = sys.argv[1] if len(sys.argv) > 1 else "main"
TODAY_D = dt.date.fromisoformat(TODAY)
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'")
FIVE = {"logins", "adoption", "sentiment", "support", "financial"}
CS_EVENTS = {"NPS Survey Responded", "Ticket Opened", "Ticket Closed", "Invoice Issued",
             "Invoice Paid", "Payment Failed", "Payment Method Updated", "Outreach Sent",
             "Outreach Replied", "Goal Set", "Onboarding Milestone Due",
             "Onboarding Milestone Completed", "Account Renewed", "Account Churned",
             "Account Removed User"}
FAILED = 0


def report(name, good, *details):
    global FAILED
    print(("ok - " if good else "not ok - ") + name)
    if not good:
        FAILED += 1
        for d in details:
            text = d if isinstance(d, str) else repr(d)
            if len(text) > 2500:
                text = text[:2500] + " ..."
            print("    " + text.replace("\n", "\n    "))
    sys.stdout.flush()
    return good


def eq(name, expected, actual, *details):
    return report(name, expected == actual, f"expected: {expected!r}", f"actual:   {actual!r}", *details)


# ---- HTTP -------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def h(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def cookie(self, name):
        """The value the answer sets for cookie name (None: not set), and its attributes."""
        for v in self.all("Set-Cookie"):
            parts = [p.strip() for p in v.split(";")]
            k, _, val = parts[0].partition("=")
            if k.strip() == name:
                return val, parts[1:]
        return None, []

    def __repr__(self):
        return f"HTTP {self.status} {self.headers!r} {self.text[:600]!r}"


def req(method, path, body=None, headers=None, cookie=None, token=None, ctype=None):
    h = dict(headers or {})
    if cookie:
        h["Cookie"] = cookie if "=" in cookie else f"tend_session={cookie}"
    if token:
        h["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8")
    if ctype:
        h["Content-Type"] = ctype
    for attempt in range(3):
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return Resp(r.status, r.getheaders(), data)
        except (ConnectionError, http.client.RemoteDisconnected) as e:
            if attempt == 2:
                return Resp(0, [], f"connection failed: {e}".encode())
            time.sleep(0.2)
        finally:
            c.close()


def api(path, **kw):
    return req("GET", path, token=TOKEN, **kw)


def q(s):
    return urllib.parse.quote(s, safe="")


class Page(html.parser.HTMLParser):
    """Forms (with their fields and the ids of their ancestors), script
    elements, ids and text of an HTML page."""
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.forms, self.scripts, self.ids, self.links, self.texts = [], 0, set(), [], []
        self.stack = []  # (tag, id)
        self.form = None
        self.select = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "script":
            self.scripts += 1
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "link":
            self.links.append(a.get("href", ""))
            if "stylesheet" in a.get("rel", ""):
                self.stylesheet = a.get("href")
        if tag == "form":
            self.form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                         "ancestors": [i for _, i in self.stack if i], "fields": []}
            self.forms.append(self.form)
        if self.form is not None:
            if tag == "input":
                self.form["fields"].append({"tag": "input", "type": a.get("type", "text").lower(),
                                            "name": a.get("name"), "value": a.get("value", "")})
            elif tag == "button":
                self.form["fields"].append({"tag": "button", "type": a.get("type", "submit").lower(),
                                            "name": a.get("name"), "value": a.get("value", "")})
            elif tag == "select":
                self.select = {"tag": "select", "type": "select", "name": a.get("name"), "options": []}
                self.form["fields"].append(self.select)
            elif tag == "option" and self.select is not None:
                self.select["options"].append(a.get("value"))
            elif tag == "textarea":
                self.form["fields"].append({"tag": "textarea", "type": "textarea",
                                            "name": a.get("name"), "value": ""})
        if tag not in self.VOID:
            self.stack.append((tag, a.get("id")))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        if tag == "select":
            self.select = None
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        self.texts.append(data)

    @property
    def text(self):
        return " ".join(self.texts)


def hidden(form):
    return {f["name"]: f["value"] for f in form["fields"] if f["type"] == "hidden" and f["name"]}


def csrf_field(form):
    for f in form["fields"]:
        if f["type"] == "hidden" and f["name"] and "csrf" in f["name"].lower():
            return f["name"], f["value"]
    return None, None


def form_post(form, fields, cookie):
    action = form["action"] or "/"
    path = urllib.parse.urlsplit(action)
    target = path.path + ("?" + path.query if path.query else "")
    if not target.startswith("/"):
        target = "/" + target
    return req("POST", target, body=urllib.parse.urlencode(fields), cookie=cookie,
               ctype="application/x-www-form-urlencoded")


def login(email, password, extra=None):
    """Signs in through the login form (its hidden fields and any cookie it
    sets, as a browser would). Returns (answer, session cookie or None)."""
    page = req("GET", "/login")
    forms = [f for f in Page(page.text).forms if any(x["type"] == "password" for x in f["fields"])]
    pre = "; ".join(v.split(";")[0] for v in page.all("Set-Cookie"))
    if not forms:
        form = {"action": "/login", "fields": []}
        fields = {"email": email, "password": password}
    else:
        form = forms[0]
        fields = hidden(form)
        pw = [x["name"] for x in form["fields"] if x["type"] == "password"][0]
        em = [x["name"] for x in form["fields"] if x["name"] and x["type"] in ("email", "text")
              and x["name"] != pw]
        fields[(em or ["email"])[0]] = email
        fields[pw] = password
    fields.update(extra or {})
    if not form["action"]:
        form = dict(form, action="/login")
    r = form_post(form, fields, pre or None)
    val, _ = r.cookie("tend_session")
    return r, (val or None)


def csp_ok(value):
    """value has every directive of the documented policy, as documented
    (further directives only restrict more)."""
    def parse(v):
        return {d.split()[0]: d.split()[1:] for d in (v or "").split(";") if d.strip()}
    got, want = parse(value), parse(CSP)
    return all(got.get(k) == v for k, v in want.items())


def location_path(r):
    loc = r.h("Location")
    return urllib.parse.urlsplit(loc).path if loc else None


def err_names(r, param):
    """A 4xx JSON error naming param."""
    j = r.json()
    return isinstance(j, dict) and isinstance(j.get("error"), str) and param in j["error"]


def tend(*args):
    r = subprocess.run([TEND, *args, "--db", DB], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"tend {' '.join(args)}: exit {r.returncode}: {r.stderr}")
    return r.stdout


def cli_ctas(*args):
    return json.loads(tend("ctas", "--status", "all", "--format", "json", "--limit", "1000000", *args))


def cli_cta(i):
    return json.loads(tend("cta", "show", str(i), "--format", "json"))


def cli_outbox():
    data = json.loads(tend("outbox", "--format", "json", "--limit", "1000000"))
    return data.get("rows") if isinstance(data, dict) else data


def db():
    return testdb.connect(DB, timeout=60)


def day_num(s):
    return (dt.date.fromisoformat(s) - dt.date(1970, 1, 1)).days


def day_str(n):
    return (dt.date(1970, 1, 1) + dt.timedelta(days=n)).isoformat()


def r1(x):
    return None if x is None else round(x + 1e-9, 1)


def close_to(a, b, tol=0.0501):
    """a (an API value, one decimal) is b (stored, exact) rounded either way."""
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol


def stored_scores(day):
    """{external id: (overall, band, {component: value})} of a day's stored scores."""
    with db() as c:
        rows = c.execute("SELECT a.external_id, s.overall, s.band, s.logins, s.adoption, s.sentiment,"
                         " s.support, s.financial FROM scores s JOIN accounts a ON a.id = s.account_id"
                         " WHERE s.day = ?", (day,)).fetchall()
    return {r[0]: (r[1], r[2], dict(zip(["logins", "adoption", "sentiment", "support", "financial"], r[3:])))
            for r in rows}


def all_accounts(**params):
    params.setdefault("per_page", 500)
    r = api("/api/accounts?" + urllib.parse.urlencode(params, doseq=True))
    if r.status != 200:
        raise RuntimeError(f"/api/accounts {params}: {r!r}")
    return r.json()


def section(fn):
    try:
        fn()
    except Exception:
        report(f"{fn.__name__} ran to the end", False, traceback.format_exc())


# ---- public paths, no auth ---------------------------------------------------------

def public_and_unauthenticated():
    r = req("GET", "/healthz")
    eq("GET /healthz answers 200 {\"ok\":true} without signing in", (200, {"ok": True}), (r.status, r.json()))
    for path in ["/api/accounts", "/api/accounts/acc_00001", "/api/ctas", "/api/ctas/1", "/api/rules",
                 "/api/outbox", "/api/reports", "/api/reports/1", "/metrics"]:
        r = req("GET", path)
        eq(f"GET {path} without a session or token: 401 {{\"error\":\"sign in or send an API token\"}}",
           (401, {"error": "sign in or send an API token"}), (r.status, r.json()), r)
    r = req("GET", "/api/accounts")
    report("the 401 is JSON (Content-Type application/json)",
           (r.h("Content-Type") or "").startswith("application/json"), r)
    r = req("POST", "/api/ctas/1/close", body={"reason": "resolved"})
    eq("POST /api/ctas/1/close without auth: 401", 401, r.status, r)
    for path in ["/accounts", "/accounts/acc_00001", "/ctas", "/ctas/1", "/rules", "/delivery", "/reports",
                 "/reports/1"]:
        r = req("GET", path)
        report(f"GET {path} without a session redirects 303 to /login",
               r.status == 303 and location_path(r) == "/login", r)
    # docs/dashboard.md: a token opens the pages too (read as its own name, no CSRF).
    r = req("GET", "/accounts", token=TOKEN)
    report("a page with only a valid bearer token (no session) renders, signed in as the token",
           r.status == 200 and "<table" in r.text and ">ci<" in r.text, r)
    r = req("GET", "/accounts", token="not-a-token-" + "x" * 30)
    report("a page with a bad bearer token: 401, not the page",
           r.status == 401 and "<table" not in r.text, r)
    r = req("GET", "/api/accounts", token="not-a-token-" + "x" * 30)
    report("a bad bearer token: 401 with a JSON error",
           r.status == 401 and isinstance((r.json() or {}).get("error"), str), r)
    r = req("GET", "/metrics", token=TOKEN[:-1] + ("A" if TOKEN[-1] != "A" else "B"))
    eq("/metrics with a token one character off: 401", 401, r.status, r)
    r = req("GET", "/api/accounts", headers={"Authorization": "Basic dGVzdGtleTo="})  # testkey:
    eq("the ingest write key is not an API token: 401", 401, r.status, r)
    r = req("GET", "/api/accounts", cookie="tend_session=forged.value.abc")
    eq("a forged session cookie: 401", 401, r.status, r)
    r = req("GET", "/login")
    page = Page(r.text)
    report("GET /login is public: 200 HTML with a form for email and password",
           r.status == 200 and (r.h("Content-Type") or "").startswith("text/html")
           and any(any(f["type"] == "password" for f in fm["fields"]) for fm in page.forms), r)
    report("answers carry the documented Content-Security-Policy (every directive of it)",
           csp_ok(r.h("Content-Security-Policy")), r.h("Content-Security-Policy"))
    eq("answers carry X-Content-Type-Options: nosniff", "nosniff", r.h("X-Content-Type-Options"))
    eq("answers carry Referrer-Policy: same-origin", "same-origin", r.h("Referrer-Policy"))
    eq("the login page has no <script> (no JavaScript)", 0, page.scripts)
    css = getattr(page, "stylesheet", None)
    if css:
        s = req("GET", urllib.parse.urlsplit(css).path)
        report(f"the stylesheet {css} is public (200 text/css without a session)",
               s.status == 200 and (s.h("Content-Type") or "").startswith("text/css"), s)
    else:
        report("the login page links a stylesheet (style-src 'self')", False, r.text[:1500])


# ---- sign-in, sessions, lockout ----------------------------------------------------

SESSION = None
CSRF = None  # (field name, value) from the dashboard's forms
CY = []  # another user's session


def signin():
    global SESSION
    bad, c1 = login("ana@example.com", "wrong password")
    report("a wrong password signs no one in (no tend_session cookie, no redirect into the app)",
           not c1 and bad.status < 500 and bad.status != 429
           and (bad.status not in (301, 302, 303, 307) or location_path(bad) == "/login"), bad)
    unk, c2 = login("nobody@example.com", "wrong password")
    report("an unknown email signs no one in", not c2 and unk.status < 500 and unk.status != 429, unk)

    def norm(r, email):
        t = r.text.replace(email, "EMAIL")
        t = re.sub(r'value="[^"]*"', 'value=""', t)
        return (r.status, location_path(r), t)
    eq("the answer is the same for an unknown email and a wrong password",
       norm(bad, "ana@example.com"), norm(unk, "nobody@example.com"))

    r, SESSION = login("ana@example.com", ANA_PW)
    report("the right password signs in: 303 into the app with a tend_session cookie",
           bool(SESSION) and r.status in (302, 303) and location_path(r) != "/login", r)
    _, attrs = r.cookie("tend_session")
    low = [a.lower() for a in attrs]
    report("the session cookie is HttpOnly; SameSite=Strict; Path=/ (no Secure on http)",
           "httponly" in low and "samesite=strict" in low and "path=/" in low and "secure" not in low, attrs)
    if SESSION:
        a = req("GET", "/api/accounts", cookie=SESSION)
        eq("the session opens /api/accounts", 200, a.status, a)
        p = req("GET", "/accounts", cookie=SESSION)
        eq("the session opens /accounts", 200, p.status, p)
        bad_mac = SESSION[:-2] + ("AA" if not SESSION.endswith("AA") else "BB")
        a = req("GET", "/api/accounts", cookie=bad_mac)
        eq("a session cookie with a changed MAC: 401", 401, a.status, a)
        p = req("GET", "/accounts", cookie=bad_mac)
        report("a page with a changed session cookie redirects 303 to /login",
               p.status == 303 and location_path(p) == "/login", p)

    # Lockout: 5 failures for bob, then even the right password is refused (429).
    codes = [login("bob@example.com", f"wrong {i}")[0].status for i in range(5)]
    report("five wrong passwords are refused, none yet with 429", 429 not in codes and all(c < 500 for c in codes),
           codes)
    r, c = login("bob@example.com", BOB_PW)
    report("the sixth attempt, with the right password, is refused with 429 (locked for 15 minutes)",
           r.status == 429 and not c, r)
    codes = [login("ghost@example.com", f"x{i}")[0].status for i in range(5)]
    r, c = login("ghost@example.com", "x")
    report("an unknown email is locked out the same way after 5 failures (429)",
           r.status == 429 and 429 not in codes and not c, codes, r)
    r, c = login("ana@example.com", ANA_PW)
    report("another email is not locked: ana still signs in", bool(c) and r.status in (302, 303), r)
    for nxt in ("https://evil.example/x", "//evil.example/x", "/\\evil.example/x", "javascript:alert(1)"):
        r, c = login("ana@example.com", ANA_PW, {"next": nxt})
        loc = r.h("Location") or ""
        sp = urllib.parse.urlsplit(loc)
        report(f"after sign-in, next={nxt} does not redirect off the site",
               bool(c) and r.status in (302, 303) and sp.netloc in ("", f"127.0.0.1:{PORT}")
               and sp.scheme in ("", "http") and sp.path.startswith("/") and not loc.startswith("//")
               and "evil" not in loc and "javascript" not in loc, r)
    r = req("GET", "/login?next=" + q('"><script>alert(1)</script>'))
    report("a hostile next= on the login page is not reflected raw", Page(r.text).scripts == 0
           and '"><script>' not in r.text, r)


def csrf_token():
    """The CSRF token from the cockpit's forms."""
    global CSRF
    r = req("GET", "/ctas?owner=all", cookie=SESSION)
    page = Page(r.text)
    for f in page.forms:
        n, v = csrf_field(f)
        if n:
            CSRF = (n, v)
            break
    report("the cockpit's forms carry a CSRF token (a hidden field)", CSRF is not None and bool(CSRF[1]),
           r.status, [f["fields"] for f in page.forms][:3])


# ---- /api/accounts -----------------------------------------------------------------

def accounts_api():
    with db() as c:
        latest = c.execute("SELECT max(day) FROM scores").fetchone()[0]
        n_accounts = c.execute("SELECT count(*) FROM accounts").fetchone()[0]
        owners = {r[0] for r in c.execute("SELECT DISTINCT csm_email FROM accounts WHERE csm_email IS NOT NULL")}
        segments = {r[0] for r in c.execute("SELECT DISTINCT segment FROM accounts WHERE segment IS NOT NULL")}
        traits = {r[0]: r[1:] for r in c.execute("SELECT external_id, name, segment, csm_email, mrr FROM accounts")}
    eq("the latest evaluation's day is today (test setup)", TODAY, day_str(latest))
    stored = stored_scores(latest)
    r = api("/api/accounts")
    d = r.json() or {}
    eq("GET /api/accounts: 200 JSON", 200, r.status, r)
    eq("date is the latest evaluation's day", TODAY, d.get("date"))
    eq("total counts every account", n_accounts, d.get("total"))
    eq("page 1, per_page 50 by default", (1, 50), (d.get("page"), d.get("per_page")))
    eq("the first page has 50 accounts", 50, len(d.get("accounts") or []))
    eq("owners lists every CSM email", sorted(owners), sorted(d.get("owners") or []))
    eq("segments lists every segment", sorted(segments), sorted(d.get("segments") or []))
    bands = {"red": 0, "yellow": 0, "green": 0, "none": 0}
    for ext in traits:
        s = stored.get(ext)
        bands[s[1] if s and s[0] is not None and s[1] in bands else "none"] += 1
    eq("bands counts every account by its band (none: no score)", bands, d.get("bands"))

    full = all_accounts()
    accs = full.get("accounts") or []
    eq("per_page=500 returns every account on one page", n_accounts, len(accs))
    ids = [a.get("id") for a in accs]
    eq("each account once", len(set(ids)), len(ids))
    keys = {"id", "name", "segment", "owner", "mrr", "score", "band", "score_30d_ago", "change_30d",
            "open_ctas", "trend"}
    missing = [(a.get("id"), sorted(keys - set(a))) for a in accs if keys - set(a)]
    report("every account has id, name, segment, owner, mrr, score, band, score_30d_ago, change_30d, open_ctas, trend",
           not missing, missing[:5])
    scores = [a.get("score") for a in accs]
    known = [s for s in scores if s is not None]
    nulls_contiguous = scores == known + [None] * (len(scores) - len(known)) or \
        scores == [None] * (len(scores) - len(known)) + known
    report("ranked worst first: scores ascend (accounts without a score together at one end)",
           known == sorted(known) and nulls_contiguous, scores)
    bad = []
    for a in accs:
        s = stored.get(a["id"])
        want = (s[0], s[1]) if s and s[0] is not None else (None, "none")
        if not close_to(a.get("score"), want[0]) or a.get("band") != want[1]:
            bad.append((a["id"], a.get("score"), a.get("band"), want))
    report("each score and band is the stored score of the latest day (one decimal)", not bad, bad[:8])
    bad = []
    for a in accs:
        t = traits.get(a["id"])
        if t is None or (a.get("name"), a.get("segment"), a.get("owner")) != (t[0], t[1], t[2]) \
                or not close_to(a.get("mrr"), t[3], 0.005):
            bad.append((a["id"], a.get("name"), a.get("segment"), a.get("owner"), a.get("mrr"), t))
    report("name, segment, owner and mrr are the account's traits", not bad, bad[:5])

    # trend and 30-day change against the stored scores.
    with db() as c:
        rows = c.execute("SELECT a.external_id, s.day, s.overall FROM scores s JOIN accounts a ON a.id = s.account_id"
                         " WHERE s.day > ?", (latest - 90,)).fetchall()
    per = {}
    for ext, day, overall in rows:
        per.setdefault(ext, {})[day] = overall
    bad_trend, bad_change = [], []
    for a in accs:
        want = [per.get(a["id"], {}).get(day) for day in range(latest - 89, latest + 1)]
        got = a.get("trend")
        if not isinstance(got, list) or len(got) != 90 or not all(close_to(x, y) for x, y in zip(got, want)):
            bad_trend.append((a["id"], got, want))
        s30 = per.get(a["id"], {}).get(latest - 30)
        if not close_to(a.get("score_30d_ago"), s30):
            bad_change.append((a["id"], "score_30d_ago", a.get("score_30d_ago"), s30))
        elif a.get("score") is not None and s30 is not None and not close_to(a.get("change_30d"), a["score"] - s30, 0.11):
            bad_change.append((a["id"], "change_30d", a.get("change_30d"), a["score"] - s30))
        elif (a.get("score") is None or s30 is None) and a.get("change_30d") is not None:
            bad_change.append((a["id"], "change_30d without both scores", a.get("change_30d")))
    report("trend: 90 daily scores ending on date, oldest first, null where none", not bad_trend, bad_trend[:3])
    many = [(a["id"], k, v) for a in accs for k, v in
            [("score", a.get("score")), ("score_30d_ago", a.get("score_30d_ago")), ("change_30d", a.get("change_30d"))]
            + [("trend", x) for x in a.get("trend") or []]
            if v is not None and (not isinstance(v, (int, float)) or abs(round(v, 1) - v) > 1e-9)]
    report("scores have one decimal at most", not many, many[:5])
    report("score_30d_ago is the stored score 30 days earlier, change_30d the difference", not bad_change,
           bad_change[:5])

    live = {}
    for cta in cli_ctas():
        if cta["status"] in ("open", "snoozed"):
            live[cta["account_id"]] = live.get(cta["account_id"], 0) + 1
    bad = [(a["id"], a.get("open_ctas"), live.get(a["id"], 0)) for a in accs if a.get("open_ctas") != live.get(a["id"], 0)]
    report("open_ctas is the account's count of open CTAs (tend ctas)", not bad, bad[:5])

    # Paging.
    p1 = api("/api/accounts?per_page=25&page=1").json() or {}
    p2 = api("/api/accounts?per_page=25&page=2").json() or {}
    p3 = api("/api/accounts?per_page=25&page=3").json() or {}
    got = [a["id"] for p in (p1, p2, p3) for a in p.get("accounts") or []]
    eq("pages of 25 concatenate to the full ranking", ids, got)
    eq("the last page holds the rest", n_accounts - 50, len(p3.get("accounts") or []))
    eq("page and per_page are echoed", (3, 25), (p3.get("page"), p3.get("per_page")))
    p9 = api("/api/accounts?page=9").json() or {}
    eq("a page past the end is empty (total still counts)", (0, n_accounts),
       (len(p9.get("accounts") or []), p9.get("total")))
    one = api("/api/accounts?per_page=1").json() or {}
    eq("per_page=1 is allowed", 1, len(one.get("accounts") or []))

    # Sorts.
    xs = [a.get("score") for a in all_accounts(sort="-score")["accounts"]]
    k = [x for x in xs if x is not None]
    report("sort=-score: best first", k == sorted(k, reverse=True), xs)
    xs = [a.get("change_30d") for a in all_accounts(sort="change")["accounts"]]
    k = [x for x in xs if x is not None]
    report("sort=change: biggest 30-day fall first (unknown changes last)",
           k == sorted(k) and xs[:len(k)] == k, xs)
    xs = [a.get("mrr") for a in all_accounts(sort="mrr")["accounts"]]
    k = [x for x in xs if x is not None]
    report("sort=mrr: largest first", k == sorted(k, reverse=True) and xs[:len(k)] == k, xs)
    xs = [a.get("name") or "" for a in all_accounts(sort="name")["accounts"]]
    report("sort=name: by name", xs == sorted(xs, key=str.casefold) or xs == sorted(xs), xs)
    xs = [a.get("open_ctas") for a in all_accounts(sort="ctas")["accounts"]]
    report("sort=ctas: most open CTAs first", xs == sorted(xs, reverse=True), xs)
    eq("sort=score is the default", ids, [a["id"] for a in all_accounts(sort="score")["accounts"]])

    # Filters.
    owner = sorted(owners - {"ana@example.com"})[0]
    f = all_accounts(owner=owner)
    want = sorted(i for i, t in traits.items() if t[2] == owner)
    eq(f"owner={owner}: exactly that CSM's accounts", want, sorted(a["id"] for a in f["accounts"]))
    eq("filtered total counts the matches", len(want), f.get("total"))
    eq("owners, segments and bands are counted before filters", (full.get("bands"), full.get("owners")),
       (f.get("bands"), f.get("owners")))
    f = all_accounts(owner="none")
    want = sorted(i for i, t in traits.items() if t[2] is None)
    eq("owner=none: the accounts without csm_email", want, sorted(a["id"] for a in f["accounts"]))
    f = all_accounts(segment="enterprise")
    want = sorted(i for i, t in traits.items() if t[1] == "enterprise")
    eq("segment=enterprise: exactly those accounts", want, sorted(a["id"] for a in f["accounts"]))
    f = all_accounts(band="red")
    eq("band=red: only red accounts, as many as bands.red", (bands["red"], {"red"} if bands["red"] else set()),
       (f.get("total"), {a["band"] for a in f["accounts"]}))
    f = all_accounts(band="red,yellow")
    g = all_accounts(band=["red", "yellow"])
    eq("band=red,yellow (comma-separated): red and yellow accounts", bands["red"] + bands["yellow"], f.get("total"))
    eq("band=red&band=yellow (repeated) is the same", [a["id"] for a in f["accounts"]],
       [a["id"] for a in g["accounts"]])
    report("band=red,yellow keeps the worst-first order",
           [a["score"] for a in f["accounts"]] == sorted(a["score"] for a in f["accounts"]))
    f = all_accounts(band="none")
    eq("band=none: the accounts without a score", (bands["none"], {None}),
       (f.get("total"), {a["score"] for a in f["accounts"]} or {None}))
    f = all_accounts(q="ACC_0000")
    want = sorted(i for i in traits if "acc_0000" in i.lower())
    eq("q matches ids, case-insensitively", want, sorted(a["id"] for a in f["accounts"]))
    name = next(t[0] for i, t in sorted(traits.items()) if i.startswith("acc_") and t[0] and len(t[0]) > 5)
    frag = name[1:5].upper()
    f = all_accounts(q=frag)
    want = sorted(i for i, t in traits.items() if frag.lower() in i.lower() or frag.lower() in (t[0] or "").lower())
    eq(f"q={frag!r} matches names, case-insensitively", want, sorted(a["id"] for a in f["accounts"]))
    f = all_accounts(q="<script>")
    eq("q=<script> finds the account named <script>alert(1)</script>", ["xss-co"], [a["id"] for a in f["accounts"]])
    f = all_accounts(owner=owner, segment="smb", band="red,yellow,green")
    want = sorted(i for i, t in traits.items() if t[2] == owner and t[1] == "smb" and stored.get(i) and
                  stored[i][0] is not None)
    eq("filters combine (owner, segment and band)", want, sorted(a["id"] for a in f["accounts"]))

    # Bad parameters.
    for query, param in [("per_page=0", "per_page"), ("per_page=501", "per_page"), ("per_page=abc", "per_page"),
                         ("page=0", "page"), ("page=x", "page"), ("band=purple", "band"),
                         ("band=red,purple", "band"), ("sort=bogus", "sort")]:
        r = api("/api/accounts?" + query)
        report(f"/api/accounts?{query}: 400 naming {param}", r.status == 400 and err_names(r, param), r)


# ---- /api/accounts/{id} ------------------------------------------------------------

def account_detail():
    with db() as c:
        latest = c.execute("SELECT max(day) FROM scores").fetchone()[0]
    stored = stored_scores(latest)
    ranked = all_accounts()["accounts"]
    worst = next(a for a in ranked if a["id"].startswith("acc_") and a.get("score") is not None)
    aid = worst["id"]
    r = api("/api/accounts/" + q(aid))
    d = r.json() or {}
    eq(f"GET /api/accounts/{aid}: 200", 200, r.status, r)
    keys = {"id", "name", "segment", "plan", "owner", "csm_slack", "mrr", "seats", "renewal_date", "first_seen",
            "churned", "users", "traits", "score", "weights", "metrics", "history", "ctas", "timeline"}
    eq("the account has every documented field", [], sorted(keys - set(d)))
    sc = d.get("score") or {}
    eq("score.date is the latest evaluation's day", TODAY, sc.get("date"))
    eq("score.components has the five components", sorted(FIVE), sorted((sc.get("components") or {}).keys()))
    s = stored.get(aid)
    report("score.overall, band and components are the stored ones",
           s and close_to(sc.get("overall"), s[0]) and sc.get("band") == s[1]
           and all(close_to((sc.get("components") or {}).get(k), v) for k, v in s[2].items()), sc, s)
    report("score.config_version is given", isinstance(sc.get("config_version"), str) and sc["config_version"] != "")
    w = d.get("weights") or {}
    report("weights: the five components, summing to 1",
           set(w) == FIVE and abs(sum(w.values()) - 1) < 1e-6, w)
    hist = d.get("history") or []
    eq("history: 90 days by default", 90, len(hist))
    eq("history is oldest first, one per day, ending on the latest day",
       [day_str(n) for n in range(latest - 89, latest + 1)], [h.get("date") for h in hist])
    with db() as c:
        rows = {r[0]: r[1:] for r in c.execute(
            "SELECT s.day, s.overall, s.band, s.logins, s.adoption, s.sentiment, s.support, s.financial"
            " FROM scores s JOIN accounts a ON a.id = s.account_id WHERE a.external_id = ?", (aid,))}
    bad = []
    for h in hist:
        st = rows.get(day_num(h["date"]))
        comps = ["logins", "adoption", "sentiment", "support", "financial"]
        if st is None or not close_to(h.get("overall"), st[0]) or h.get("band") != st[1] or \
                not all(close_to(h.get(k), v) for k, v in zip(comps, st[2:])):
            bad.append((h, st))
    report("each history day is the stored score with its band and components", not bad, bad[:3])
    h30 = api(f"/api/accounts/{q(aid)}?days=30").json() or {}
    eq("?days=30: 30 days of history", [day_str(n) for n in range(latest - 29, latest + 1)],
       [h.get("date") for h in h30.get("history") or []])
    h730 = api(f"/api/accounts/{q(aid)}?days=730")
    eq("?days=730 is allowed", 200, h730.status, h730)
    for query in ["days=0", "days=731", "days=ninety"]:
        r = api(f"/api/accounts/{q(aid)}?{query}")
        report(f"?{query}: 400 naming days", r.status == 400 and err_names(r, "days"), r)

    cli = json.loads(tend("metrics", "--account", aid, "--format", "json"))[0]
    cli.pop("account_id", None)
    m = d.get("metrics") or {}
    eq("metrics has exactly the columns of tend metrics", sorted(cli), sorted(m))
    stable = ["users", "seats", "mrr", "renewal_days_left", "card_days_left", "nps", "tickets_open", "overdue_invoices"]
    eq("metrics agree with tend metrics", {k: cli.get(k) for k in stable}, {k: m.get(k) for k in stable})

    ctas = d.get("ctas") or []
    cli_all = cli_ctas("--account", aid)
    eq("ctas are every CTA of the account", sorted(c["id"] for c in cli_all), sorted(c.get("id") for c in ctas))
    st = [c.get("status") for c in ctas]
    live_n = sum(1 for x in st if x in ("open", "snoozed"))
    report("the account's ctas list live ones first", all(x in ("open", "snoozed") for x in st[:live_n]), st)

    tl = d.get("timeline") or []
    ats = [e.get("at") for e in tl]
    report("timeline is newest first", ats == sorted(ats, reverse=True), ats[:20])
    feats = set()
    with open(os.path.join(T, "gen.jsonl")) as f:
        for line in f:
            if '"track"' in line:
                ev = json.loads(line).get("event")
                if ev not in CS_EVENTS:
                    feats.add(ev)
    listed = [e for e in tl if e.get("kind") == "event"]
    noisy = [e for e in listed if e.get("what") in feats]
    report("the timeline lists no logins or feature events", not noisy, noisy[:5])
    report("at most 100 events in the timeline", len(listed) <= 100, len(listed))
    hists = {c["id"]: cli_cta(c["id"]).get("history") or [] for c in cli_all}
    n_hist = sum(len(h) for h in hists.values())
    n_tl = sum(1 for e in tl if e.get("kind") == "cta")
    eq("the timeline has every change of the account's CTAs", n_hist, n_tl)
    misplaced = []
    for e in tl:
        if e.get("kind") != "cta":
            continue
        at_day = str(e.get("at"))[:10]
        days = [h["date"] for h in hists.get(e.get("cta"), []) if h["action"] == e.get("what")]
        if not any(at_day in (d, (dt.date.fromisoformat(d) + dt.timedelta(days=1)).isoformat()) for d in days):
            misplaced.append((e, days))
    report("a CTA change is placed in the timeline on its day (a replayed September change is not shown as today)",
           not misplaced, f"{len(misplaced)} of {n_tl} misplaced", *misplaced[:4])
    report("timeline entries have at, kind, what",
           all({"at", "kind", "what"} <= set(e) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", e["at"] or "")
               for e in tl), tl[:3])

    # The hostile accounts.
    x = api("/api/accounts/xss-co").json() or {}
    eq("the account named <script> comes back as JSON text, unchanged", "<script>alert(1)</script>", x.get("name"))
    nps = [e for e in x.get("timeline") or [] if e.get("what") == "NPS Survey Responded"]
    report("its timeline has the NPS answer with its user and score",
           len(nps) == 1 and "2" in str(nps[0].get("detail")) and
           ("eve@xss.example" in str(nps[0].get("user")) or "xss-u1" in str(nps[0].get("user"))), nps)
    report("and the opening of its nps_response CTA",
           any(e.get("kind") == "cta" and e.get("what") == "open" for e in x.get("timeline") or []), x.get("timeline"))
    w = api("/api/accounts/" + q("we/ird &id"))
    eq("an id with / & and a space, percent-encoded, finds its account", (200, "we/ird &id"),
       (w.status, (w.json() or {}).get("id")), w)
    r = api("/api/accounts/no-such-account")
    report("an unknown account: 404 JSON error", r.status == 404 and isinstance((r.json() or {}).get("error"), str), r)


# ---- /api/ctas ---------------------------------------------------------------------

PRI = {"high": 0, "medium": 1, "low": 2}


def ctas_api():
    cli = cli_ctas()
    live = [c for c in cli if c["status"] in ("open", "snoozed")]
    r = api("/api/ctas")
    d = r.json() or {}
    eq("GET /api/ctas: 200", 200, r.status, r)
    eq("default status live: total counts open and snoozed CTAs (tend ctas)", len(live), d.get("total"))
    ctas = d.get("ctas") or []
    eq("every live CTA listed (under the default limit of 200)", sorted(c["id"] for c in live),
       sorted(c.get("id") for c in ctas))
    keys = {"id", "account_id", "account_name", "rule", "subject", "type", "priority", "status", "owner", "title",
            "reason", "evidence", "opened_date", "due_date", "snoozed_until", "closed_reason", "closed_date", "overdue"}
    missing = [(c.get("id"), sorted(keys - set(c))) for c in ctas if keys - set(c)]
    report("each CTA has every documented field", not missing, missing[:3])
    by_id = {c["id"]: c for c in cli}
    bad = [(c["id"], k, c.get(k), by_id[c["id"]].get(k)) for c in ctas if c.get("id") in by_id
           for k in ("account_id", "rule", "subject", "type", "priority", "status", "owner", "title", "reason",
                     "due_date", "opened_date", "evidence")
           if c.get(k) != by_id[c["id"]].get(k)]
    report("each CTA's fields agree with tend ctas", not bad, bad[:5])
    names = {a["id"]: a["name"] for a in all_accounts()["accounts"]}
    bad = [(c["id"], c.get("account_name")) for c in ctas if c.get("account_name") != names.get(c.get("account_id"))]
    report("account_name is the account's name", not bad, bad[:5])
    bad = [(c["id"], c.get("due_date"), c.get("overdue")) for c in ctas
           if c.get("overdue") is not (c["due_date"] < TODAY)]
    report("overdue is true exactly for live CTAs due before today", not bad, bad[:5])

    def order_key(c):
        return (0 if c["status"] in ("open", "snoozed") else 1, PRI[c["priority"]], -(c.get("value") or 0),
                c["due_date"] or "9999", c["id"])
    all_ = api("/api/ctas?status=all&limit=1000").json() or {}
    lst = all_.get("ctas") or []
    eq("status=all: every CTA", len(cli), all_.get("total"))
    eq("order: live first, then priority (high first), value (highest first), due date, id",
       sorted(lst, key=order_key), lst)
    for status in ("open", "snoozed", "closed"):
        want = sorted(c["id"] for c in cli if c["status"] == status)
        got = api(f"/api/ctas?status={status}&limit=1000").json() or {}
        eq(f"status={status}: exactly those CTAs", want, sorted(c["id"] for c in got.get("ctas") or []))
    owner = live[0]["owner"]
    got = api("/api/ctas?owner=" + q(owner)).json() or {}
    eq("owner=EMAIL: that owner's live CTAs", sorted(c["id"] for c in live if c["owner"] == owner),
       sorted(c["id"] for c in got.get("ctas") or []))
    acc = live[0]["account_id"]
    got = api("/api/ctas?status=all&account=" + q(acc)).json() or {}
    eq("account=ID: that account's CTAs", sorted(c["id"] for c in cli if c["account_id"] == acc),
       sorted(c["id"] for c in got.get("ctas") or []))
    got = api("/api/ctas?status=all&limit=1000&rule=nps_response").json() or {}
    eq("rule=nps_response: that rule's CTAs", sorted(c["id"] for c in cli if c["rule"] == "nps_response"),
       sorted(c["id"] for c in got.get("ctas") or []))
    got = api("/api/ctas?status=all&rule=nps_response&account=xss-co").json() or {}
    # A detractor is high, one step lower for a CTA worth under 1,000 a year
    # (docs/rules.md, Value).
    eq("filters combine: the detractor CTA of xss-co",
       [(c["id"], "high" if (c.get("value") or 0) >= 1000 else "medium") for c in cli
        if c["rule"] == "nps_response" and c["account_id"] == "xss-co"],
       [(c["id"], c["priority"]) for c in got.get("ctas") or []])
    got = api("/api/ctas?status=all&limit=5").json() or {}
    eq("limit=5: 5 CTAs, total still counts every match", (5, len(cli)), (len(got.get("ctas") or []), got.get("total")))
    for query, param in [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=many", "limit"),
                         ("status=bogus", "status")]:
        r = api("/api/ctas?" + query)
        report(f"/api/ctas?{query}: 400 naming {param}", r.status == 400 and err_names(r, param), r)

    one = live[0]["id"]
    r = api(f"/api/ctas/{one}")
    d = r.json() or {}
    hist = cli_cta(one).get("history") or []
    eq(f"GET /api/ctas/{one}: the CTA with its history", (200, one), (r.status, d.get("id")), r)
    eq("its history has seq, date, action, actor, status, priority as tend cta show does",
       [(h["seq"], h["date"], h["action"], h["actor"], h["status"], h["priority"]) for h in hist],
       [(h.get("seq"), h.get("date"), h.get("action"), h.get("actor"), h.get("status"), h.get("priority"))
        for h in d.get("history") or []])
    report("history rows carry an instant (at, ISO-8601 UTC) and a note",
           all("note" in h and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", str(h.get("at")))
               for h in d.get("history") or []), d.get("history"))
    r = api("/api/ctas/999999")
    report("an unknown CTA id: 404 JSON error", r.status == 404 and isinstance((r.json() or {}).get("error"), str), r)
    r = api("/api/ctas/abc")
    report("a non-numeric CTA id: 400 naming id", r.status == 400 and err_names(r, "id"), r)


# ---- /api/rules --------------------------------------------------------------------

BUILTIN = ["health_drop", "nps_response", "card_expiring", "renewal_upcoming", "payment_overdue", "no_login",
           "login_change", "usage_dip", "intended_adoption", "onboarding_stalled", "outreach_unresponsive",
           "seat_limit", "premium_unused", "support_tickets", "champion_risk", "nps_change",
           "segment_shift"]


def rules_api():
    cli = cli_ctas()
    r = api("/api/rules")
    d = r.json() or {}
    rules = d.get("rules") or []
    eq("GET /api/rules: 200", 200, r.status, r)
    names = [x.get("name") for x in rules]
    eq("every configured rule: the 17 built-in ones, then the custom one", BUILTIN + ["never_fires"], names)
    by = {x.get("name"): x for x in rules}
    eq("built-in flags", [True] * len(BUILTIN) + [False], [by.get(n, {}).get("builtin") for n in BUILTIN + ["never_fires"]])
    eq("card_expiring is shown disabled, the others enabled",
       [n != "card_expiring" for n in BUILTIN + ["never_fires"]],
       [by.get(n, {}).get("enabled") for n in BUILTIN + ["never_fires"]])
    bad = []
    d30 = {(TODAY_D - dt.timedelta(days=k)).isoformat() for k in range(30)}
    d31 = d30 | {(TODAY_D - dt.timedelta(days=30)).isoformat()}
    for n in BUILTIN + ["never_fires"]:
        mine = [c for c in cli if c["rule"] == n]
        x = by.get(n, {})
        want = {"fired_total": len(mine),
                "open": sum(c["status"] == "open" for c in mine),
                "snoozed": sum(c["status"] == "snoozed" for c in mine),
                "closed": sum(c["status"] == "closed" for c in mine),
                "auto_resolved": sum(c.get("closed_reason") == "auto_resolved" for c in mine),
                "last_fired": max((c["opened_date"] for c in mine), default=None)}
        got = {k: x.get(k) for k in want}
        if got != want:
            bad.append((n, got, want))
        f30 = x.get("fired_30d")
        if f30 not in (sum(c["opened_date"] in d30 for c in mine), sum(c["opened_date"] in d31 for c in mine)):
            bad.append((n, "fired_30d", f30, sum(c["opened_date"] in d30 for c in mine)))
    report("fire counts, open/snoozed/closed, auto_resolved and last_fired per rule match tend ctas --status all",
           not bad, *bad[:6])
    types = {"health_drop": "risk", "renewal_upcoming": "lifecycle", "seat_limit": "expansion",
             "never_fires": "risk"}
    eq("each rule's type", types, {n: by.get(n, {}).get("type") for n in types})


# ---- /api/outbox -------------------------------------------------------------------

def outbox_api():
    deadline = time.monotonic() + 60
    while True:
        d = api("/api/outbox").json() or {}
        if (d.get("counts") or {}).get("pending") == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    rows = cli_outbox()
    eq("the dispatcher sent every due row (no pending left)", 0, (d.get("counts") or {}).get("pending"), d.get("counts"))
    report("the test has outbox rows, sent by serve's dispatcher to the log channel",
           any(x["status"] == "sent" for x in rows), [x["status"] for x in rows])
    want = {s: sum(1 for x in rows if x["status"] == s) for s in ("pending", "sending", "sent", "dead", "held", "digested")}
    eq("counts per status are those of tend outbox", want, d.get("counts"))
    report("oldest_pending_s is a number (0 or null with nothing pending)",
           d.get("oldest_pending_s") in (0, 0.0, None), d.get("oldest_pending_s"))
    lines = open(os.path.join(T, "notifications.log")).read().splitlines() if os.path.exists(
        os.path.join(T, "notifications.log")) else []
    eq("the log channel got one line per sent row", want["sent"], len(lines))
    got = d.get("rows") or []
    eq("rows: the latest, newest first (default limit 100)", [x["id"] for x in sorted(rows, key=lambda x: -x["id"])][:100],
       [x.get("id") for x in got])
    keys = {"id", "cta", "event", "channel", "target", "owner", "status", "attempts", "resends", "created", "next_at",
            "sent", "last_error", "key"}
    missing = [(x.get("id"), sorted(keys - set(x))) for x in got if keys - set(x)]
    report("rows have every documented field", not missing, missing[:3])
    by = {x["id"]: x for x in rows}
    bad = [(x.get("id"), k, x.get(k), by[x["id"]].get(k)) for x in got if x.get("id") in by
           for k in ("status", "channel", "owner", "event", "key", "attempts") if k in by[x["id"]] and x.get(k) != by[x["id"]][k]]
    report("rows agree with tend outbox", not bad, bad[:5])
    g = api("/api/outbox?status=sent&limit=1000").json() or {}
    eq("status=sent: only sent rows", sorted(x["id"] for x in rows if x["status"] == "sent"),
       sorted(x.get("id") for x in g.get("rows") or []))
    g = api("/api/outbox?channel=audit&limit=2").json() or {}
    eq("channel=audit&limit=2: two rows of that channel", (2, {"audit"}),
       (len(g.get("rows") or []), {x.get("channel") for x in g.get("rows") or []}))
    g = api("/api/outbox?channel=nosuch").json() or {}
    eq("an unknown channel matches no row", [], g.get("rows"))
    for query, param in [("limit=0", "limit"), ("limit=1001", "limit"), ("status=bogus", "status")]:
        r = api("/api/outbox?" + query)
        report(f"/api/outbox?{query}: 400 naming {param}", r.status == 400 and err_names(r, param), r)


# ---- CTA actions -------------------------------------------------------------------

def actions():
    after = (TODAY_D + dt.timedelta(days=7)).isoformat()
    outbox_before = len(cli_outbox())
    live = [c for c in cli_ctas() if c["status"] == "open" and c["account_id"].startswith("acc_")]
    a, b, c_, e = live[0]["id"], live[1]["id"], live[2]["id"], live[3]["id"]

    # snooze with the bearer token (no CSRF needed)
    r = req("POST", f"/api/ctas/{a}/snooze", body={"until": after, "note": "back from holiday"}, token=TOKEN)
    d = r.json() or {}
    eq("POST snooze with a bearer token and no CSRF header: 200", 200, r.status, r)
    eq("the answer is the CTA, snoozed until the date", (a, "snoozed", after),
       (d.get("id"), d.get("status"), d.get("snoozed_until")))
    h = (d.get("history") or [{}])[-1]
    eq("its history ends with the snooze, today, by the token's name, with the note",
       ("snooze", TODAY, "ci", True), (h.get("action"), h.get("date"), h.get("actor"),
                                       "back from holiday" in str(h.get("note"))), h)
    cli = cli_cta(a)
    eq("tend cta show agrees (status, snoozed_until, last history actor)", ("snoozed", after, "ci"),
       (cli.get("status"), cli.get("snoozed_until"), (cli.get("history") or [{}])[-1].get("actor")))
    g = api(f"/api/ctas?status=snoozed").json() or {}
    report("it is listed under status=snoozed, not under status=open",
           a in [x["id"] for x in g.get("ctas") or []] and
           a not in [x["id"] for x in (api("/api/ctas?status=open&limit=1000").json() or {}).get("ctas") or []])
    g = api("/api/ctas").json() or {}
    report("and is still live (the default list)", a in [x["id"] for x in g.get("ctas") or []])
    snoozed = [x for x in g.get("ctas") or [] if x["id"] == a]
    report("a snoozed CTA is not marked overdue while it sleeps (its due date "
           f"{snoozed[0]['due_date'] if snoozed else '?'} is past)",
           snoozed and snoozed[0].get("overdue") is False, snoozed)

    for body, param, why in [({"until": TODAY}, "until", "until today (not after the current day)"),
                             ({"until": YESTERDAY}, "until", "until in the past"),
                             ({"until": "next week"}, "until", "until not a date"),
                             ({"until": f"{TODAY_D.year + 1}-02-30"}, "until", "until not a calendar date"),
                             ({}, "until", "no until")]:
        r = req("POST", f"/api/ctas/{b}/snooze", body=body, token=TOKEN)
        report(f"snooze with {why}: 400 naming until", r.status == 400 and err_names(r, param), r)
    r = req("POST", f"/api/ctas/{b}/close", body={"reason": "churned"}, token=TOKEN)
    report("close with reason=churned: 400 naming reason", r.status == 400 and err_names(r, "reason"), r)
    r = req("POST", f"/api/ctas/{b}/close", body={}, token=TOKEN)
    report("close without a reason: 400 naming reason", r.status == 400 and err_names(r, "reason"), r)
    r = req("POST", f"/api/ctas/{b}/assign", body={"note": "x"}, token=TOKEN)
    report("assign without an owner: 400 naming owner", r.status == 400 and err_names(r, "owner"), r)
    r = req("POST", f"/api/ctas/{b}/snooze", body="{\"until\":", token=TOKEN, ctype="application/json")
    eq("invalid JSON body: 400", 400, r.status, r)
    eq("the refused actions left the CTA open", "open", cli_cta(b).get("status"))

    # close, then the state refuses snooze and close (409)
    r = req("POST", f"/api/ctas/{c_}/close", body={"reason": "resolved", "note": "called them"}, token=TOKEN)
    d = r.json() or {}
    eq("close reason=resolved: 200, closed today as resolved", (200, "closed", "resolved", TODAY),
       (r.status, d.get("status"), d.get("closed_reason"), d.get("closed_date")), r)
    r = req("POST", f"/api/ctas/{c_}/snooze", body={"until": after}, token=TOKEN)
    report("snoozing a closed CTA: 409 JSON error", r.status == 409 and isinstance((r.json() or {}).get("error"), str), r)
    r = req("POST", f"/api/ctas/{c_}/close", body={"reason": "not_relevant"}, token=TOKEN)
    eq("closing a closed CTA again: 409", 409, r.status, r)
    eq("the closed CTA stays resolved", ("closed", "resolved"),
       (cli_cta(c_).get("status"), cli_cta(c_).get("closed_reason")))
    r = req("POST", f"/api/ctas/{a}/close", body={"reason": "not_relevant"}, token=TOKEN)
    eq("a snoozed CTA can be closed as not_relevant", (200, "closed", "not_relevant"),
       (r.status, (r.json() or {}).get("status"), (r.json() or {}).get("closed_reason")), r)

    r = req("POST", "/api/ctas/999999/snooze", body={"until": after}, token=TOKEN)
    eq("an action on an unknown CTA id: 404", 404, r.status, r)
    r = req("POST", "/api/ctas/abc/close", body={"reason": "resolved"}, token=TOKEN)
    report("an action on a non-numeric id: 400 naming id", r.status == 400 and err_names(r, "id"), r)
    r = req("POST", f"/api/ctas/{b}/explode", body={}, token=TOKEN)
    eq("an unknown action: 404", 404, r.status, r)

    # CSRF: the session needs its token for a POST.
    hist_b = len(cli_cta(b).get("history") or [])
    r = req("POST", f"/api/ctas/{b}/assign", body={"owner": "ana@example.com"}, cookie=SESSION)
    report("a POST with the session cookie and no X-CSRF-Token: 403", r.status == 403, r)
    r = req("POST", f"/api/ctas/{b}/assign", body={"owner": "ana@example.com"}, cookie=SESSION,
            headers={"X-CSRF-Token": "0" * 64})
    report("a POST with the session cookie and a wrong X-CSRF-Token: 403", r.status == 403, r)
    if CSRF and CY:
        r = req("POST", f"/api/ctas/{b}/assign", body={"owner": "ana@example.com"}, cookie=CY[0],
                headers={"X-CSRF-Token": CSRF[1]})
        report("a POST with another session's CSRF token: 403", r.status == 403, r)
    eq("the refused POSTs changed nothing", hist_b, len(cli_cta(b).get("history") or []))
    if CSRF:
        r = req("POST", f"/api/ctas/{b}/assign", body={"owner": "ana@example.com", "note": "mine now"},
                cookie=SESSION, headers={"X-CSRF-Token": CSRF[1]})
        d = r.json() or {}
        eq("with the session's CSRF token the POST is taken: 200, the owner changed", (200, "ana@example.com"),
           (r.status, d.get("owner")), r)
        h = (d.get("history") or [{}])[-1]
        report("the assignment is in the history with the signed-in user as actor",
               h.get("action") == "assign" and h.get("actor") in ("ana@example.com", "Ana Ortiz")
               and "mine now" in str(h.get("note")), h)
        eq("tend ctas shows the new owner", "ana@example.com", cli_cta(b).get("owner"))
        got = req("GET", "/api/ctas?owner=me", cookie=SESSION).json() or {}
        ids = [x["id"] for x in got.get("ctas") or []]
        report("owner=me: the signed-in user's live CTAs (the assigned one and xss-co's)",
               b in ids and all(x.get("owner") == "ana@example.com" for x in got.get("ctas") or [])
               and any(x.get("account_id") == "xss-co" for x in got.get("ctas") or []), got)

        # The CTA page's snooze form, posted as the browser would (the cockpit's
        # compact rows act through its bulk form: browser_cockpit.sh).
        page = Page(req("GET", f"/ctas/{b}", cookie=SESSION).text)
        forms = [f for f in page.forms if f"cta-{b}" in f["ancestors"] and f["method"] == "post"
                 and any(x["name"] == "until" or x["type"] == "date" for x in f["fields"])]
        report(f"the page of CTA {b} (#cta-{b}) has a snooze form", bool(forms), sorted(page.ids)[:40])
        if forms:
            f = forms[0]
            until = [x["name"] for x in f["fields"] if x["name"] == "until" or x["type"] == "date"][0]
            fields = hidden(f)
            fields[until] = (TODAY_D + dt.timedelta(days=3)).isoformat()
            no_csrf = {k: v for k, v in fields.items() if "csrf" not in k.lower()}
            r = form_post(f, no_csrf, SESSION)
            eq("the snooze form without its CSRF field: 403", 403, r.status, r)
            r = form_post(f, fields, SESSION)
            report("the snooze form with its CSRF field: taken (303 back or 200)", r.status in (200, 303), r)
            eq("the form snoozed the CTA", ("snoozed", fields[until]),
               (cli_cta(b).get("status"), cli_cta(b).get("snoozed_until")))
    r = req("POST", f"/api/ctas/{e}/assign", body={"owner": "sam@example.com"}, token=TOKEN,
            headers={"X-CSRF-Token": "wrong"})
    eq("a bearer POST is not subject to CSRF (a stray header is ignored)", 200, r.status, r)
    eq("person actions notify no one: the outbox did not grow", outbox_before, len(cli_outbox()))


# ---- methods, unknown paths --------------------------------------------------------

def methods():
    for m, path in [("GET", "/api/ctas/1/snooze"), ("POST", "/api/accounts"), ("DELETE", "/api/ctas/1"),
                    ("PUT", "/api/rules"), ("POST", "/api/outbox"), ("POST", "/metrics"),
                    ("PATCH", "/api/accounts/acc_00001")]:
        r = req(m, path, token=TOKEN, body={} if m != "GET" else None)
        report(f"{m} {path}: 405 JSON error", r.status == 405 and isinstance((r.json() or {}).get("error"), str), r)
    r = api("/api/nothing")
    report("an unknown /api path: 404 JSON error", r.status == 404 and isinstance((r.json() or {}).get("error"), str), r)


# ---- pages with a session ------------------------------------------------------------

def pages():
    cta = (cli_ctas("--account", "xss-co") or [{}])[0].get("id", 1)
    for path in ["/accounts", "/accounts?q=xss", "/accounts/xss-co", "/ctas?owner=all", f"/ctas/{cta}", "/rules",
                 "/delivery"]:
        r = req("GET", path, cookie=SESSION)
        page = Page(r.text)
        report(f"GET {path} with the session: 200 HTML with the security headers",
               r.status == 200 and (r.h("Content-Type") or "").startswith("text/html")
               and csp_ok(r.h("Content-Security-Policy")) and r.h("X-Content-Type-Options") == "nosniff", r)
        eq(f"{path} has no <script> element", 0, page.scripts)
        if path in ("/accounts?q=xss", "/accounts/xss-co", "/ctas?owner=all", f"/ctas/{cta}"):
            report(f"{path} shows the name <script>alert(1)</script> escaped",
                   "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert(1)" not in r.text
                   and "<script>alert(1)</script>" in page.text, r.text[:1500])
    r = req("GET", "/accounts/xss-co", cookie=SESSION)
    report("the NPS comment <img onerror> is escaped too", "<img src=x" not in r.text, r.text[:1500])
    r = req("GET", "/accounts?q=weird", cookie=SESSION)
    report("an account name with & \" ' is escaped in HTML",
           "Weird &amp; Co &quot;quoted&quot;" in r.text and 'Co "quoted"' not in r.text
           and "'x'" not in r.text, r.text[:1500])
    report("its id is percent-encoded in links (/accounts/we%2Fird%20%26id)",
           re.search(r'href="[^"]*/accounts/we%2Fird%20%26id"', r.text, re.I) is not None,
           re.findall(r'href="[^"]*"', r.text)[:30])
    r = req("GET", "/accounts/" + q("we/ird &id"), cookie=SESSION)
    eq("the percent-encoded account page opens", 200, r.status, r)
    for path in ["/accounts?q=" + q('"><script>alert(1)</script>'), "/accounts?owner=" + q("<script>x</script>"),
                 "/ctas?owner=" + q('"><script>alert(1)</script>')]:
        r = req("GET", path, cookie=SESSION)
        report(f"a hostile query string is not reflected raw ({path.split('?')[0]}?{path.split('?')[1].split('=')[0]}=)",
               r.status in (200, 400) and Page(r.text).scripts == 0 and '"><script>' not in r.text
               and "<script>x" not in r.text, r)
    r = req("GET", "/accounts/no-such-account", cookie=SESSION)
    eq("an unknown account's page: 404", 404, r.status, r)
    mine = sorted(c["id"] for c in (req("GET", "/api/ctas?owner=me", cookie=SESSION).json() or {}).get("ctas") or [])
    shown = sorted(int(i[4:]) for i in Page(req("GET", "/ctas", cookie=SESSION).text).ids if re.fullmatch(r"cta-\d+", i))
    eq("the cockpit shows my live CTAs (those of owner=me)", mine, shown)
    live = sorted(c["id"] for c in (api("/api/ctas?limit=1000").json() or {}).get("ctas") or [])
    shown = sorted(int(i[4:]) for i in Page(req("GET", "/ctas?owner=all", cookie=SESSION).text).ids
                   if re.fullmatch(r"cta-\d+", i))
    eq("/ctas?owner=all shows everyone's live CTAs", live, shown)
    t = Page(req("GET", "/rules", cookie=SESSION).text).text
    eq("/rules names every rule", [], [n for n in BUILTIN + ["never_fires"] if n not in t])
    r = req("GET", "/accounts", cookie=SESSION)
    rows = len(re.findall(r"<tr[\s>]", r.text))
    report("/accounts shows a page of 50 accounts", 50 <= rows <= 52, rows)


# ---- stored reports: /reports, /reports/{id}, /api/reports -------------------------

def reports():
    with db() as c:
        rows = c.execute("SELECT id, kind, title, created_ms, summary, body FROM reports"
                         " ORDER BY created_ms DESC, id DESC").fetchall()
    eq("the test database holds the two reports", 2, len(rows))
    (new_id, _, new_title, _, _, new_body), (old_id, _, _, old_ms, old_summary, old_body) = rows[:2]
    r = req("GET", "/reports", cookie=SESSION)
    page = Page(r.text)
    report("GET /reports with the session: 200 HTML with the security headers",
           r.status == 200 and (r.h("Content-Type") or "").startswith("text/html")
           and csp_ok(r.h("Content-Security-Policy")), r)
    eq("/reports has no <script> element", 0, page.scripts)
    report("the top navigation links Reports, marked current on /reports",
           re.search(r'<a href="/reports" aria-current="page">Reports</a>', r.text) is not None, r.text[:1500])
    report("/reports shows the title <script>alert(1)</script> escaped",
           "&lt;script&gt;alert(1)&lt;/script&gt; rules" in r.text and "<script>alert(1)" not in r.text
           and "<script>alert(1)</script> rules" in page.text, r.text[:3000])
    report("the summary is escaped too", "precision &amp; recall &lt;b&gt;" in r.text, r.text[:3000])
    links = [l for l in page.links if re.fullmatch(r"/reports/\d+", l)]
    eq("/reports links each report, newest first", [f"/reports/{new_id}", f"/reports/{old_id}"], links)
    report("/reports shows the creation time in serve.timezone (Europe/Berlin)",
           "31 Oct 2026 08:40" in page.text and "AUC 0.81 on 60 accounts" in page.text, page.text[-1500:])
    r = req("GET", f"/reports/{old_id}", cookie=SESSION)
    page = Page(r.text)
    report(f"GET /reports/{old_id}: 200 HTML, the stored body inside the layout",
           r.status == 200 and "report-body-1" in page.ids and '<header class="top">' in r.text
           and '<div class="report">' in r.text and r.text.index('<div class="report">') < r.text.index("BODY ONE")
           and csp_ok(r.h("Content-Security-Policy")), r)
    report("the report page links back to the list and shows its title and summary",
           "/reports" in page.links and "Churn drivers" in page.text and "AUC 0.81 on 60 accounts" in page.text,
           page.links)
    r = req("GET", f"/reports/{new_id}", cookie=SESSION)
    report("the hostile title is escaped on its report page (no <script> element)",
           r.status == 200 and Page(r.text).scripts == 0 and "<h1>&lt;script&gt;alert(1)&lt;/script&gt; rules</h1>"
           in r.text, r)
    r = req("GET", f"/reports/{new_id}", token=TOKEN)
    eq("a report page opens with the API token alone", 200, r.status, r)
    r = req("GET", "/reports/999999", cookie=SESSION)
    report("an unknown report's page: 404 HTML", r.status == 404 and "<html" in r.text, r)
    for bad in ["abc", "-1", "0", "1x", "%201"]:
        r = req("GET", f"/reports/{bad}", cookie=SESSION)
        eq(f"/reports/{bad}: 400", 400, r.status, r)

    r = api("/api/reports")
    j = r.json() or {}
    eq("GET /api/reports: 200 JSON", (200, True), (r.status, (r.h("Content-Type") or "").startswith("application/json")), r)
    got = j.get("reports") or []
    eq("/api/reports lists both, newest first", [new_id, old_id], [x.get("id") for x in got])
    eq("each has id, kind, title, created, summary, url (no html)",
       [sorted(["id", "kind", "title", "created", "summary", "url"])] * 2, [sorted(x) for x in got])
    if len(got) == 2:
        eq("the older report as stored, created as ISO-8601 UTC",
           {"id": old_id, "kind": "analyze", "title": "Churn drivers", "summary": old_summary,
            "url": f"/reports/{old_id}",
            "created": dt.datetime.fromtimestamp(old_ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")},
           got[1])
        eq("the title is JSON, not HTML", new_title, got[0].get("title"))
    r = api("/api/reports?limit=1")
    eq("/api/reports?limit=1 gives the newest only", [new_id], [x.get("id") for x in (r.json() or {}).get("reports") or []], r)
    r = api("/api/reports?limit=0")
    report("/api/reports?limit=0: 400 naming limit", r.status == 400 and err_names(r, "limit"), r)
    r = api(f"/api/reports/{old_id}")
    j = r.json() or {}
    eq(f"GET /api/reports/{old_id}: the report and its html", (200, old_body, "analyze"),
       (r.status, j.get("html"), j.get("kind")), r)
    r = req("GET", f"/api/reports/{new_id}", cookie=SESSION)
    eq("the session opens /api/reports/{id} too", (200, new_body), (r.status, (r.json() or {}).get("html")), r)
    r = api("/api/reports/999999")
    eq("an unknown report: 404 {\"error\": \"no report 999999\"}", (404, {"error": "no report 999999"}),
       (r.status, r.json()), r)
    r = api("/api/reports/abc")
    report("a non-numeric report id: 400 JSON error", r.status == 400 and isinstance((r.json() or {}).get("error"), str), r)
    r = req("POST", "/api/reports", body={}, token=TOKEN)
    eq("POST /api/reports: 405", 405, r.status, r)


# ---- /v1 ingest keeps its write key ------------------------------------------------

def ingest_keys():
    msg = {"userId": "w-u1", "event": "Ticket Opened", "properties": {"ticket_id": "T-serve-1", "priority": "low"},
           "context": {"groupId": "we/ird &id"}, "messageId": "serve-v1-1"}
    r = req("POST", "/v1/track", body=msg, token=TOKEN)
    eq("/v1/track with an API bearer token instead of a write key: 401", 401, r.status, r)
    r = req("POST", "/v1/track", body=msg, cookie=SESSION)
    eq("/v1/track with a session cookie instead of a write key: 401", 401, r.status, r)
    if CSRF:
        r = req("POST", "/v1/track", body=msg, cookie=SESSION, headers={"X-CSRF-Token": CSRF[1]})
        eq("... even with the CSRF token: 401", 401, r.status, r)
    r = req("POST", "/v1/track", body=msg, headers={"Authorization": "Basic d3Jvbmc6"})  # wrong:
    eq("/v1/track with a wrong write key: 401 unknown write key",
       (401, {"success": False, "error": "unknown write key"}), (r.status, r.json()), r)
    r = req("POST", "/v1/track", body=msg, headers={"Authorization": "Basic dGVzdGtleTo="})  # testkey:
    eq("/v1/track with the write key: 200, stored, no session needed (no CSRF)",
       (200, 1), (r.status, (r.json() or {}).get("accepted")), r)
    r = req("POST", "/v1/track", body=dict(msg, writeKey="testkey"))
    eq("/v1/track with writeKey in the body: 200 (a duplicate)", (200, 1), (r.status, (r.json() or {}).get("duplicates")), r)


# ---- /metrics -----------------------------------------------------------------------

METRIC_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$")
LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')


def parse_prom(text):
    """Prometheus text format 0.0.4: {family: {"type", "help", "samples": [(labels, value)]}}
    and the problems found."""
    fams, problems, seen_samples, order = {}, [], set(), []
    if text and not text.endswith("\n"):
        problems.append("does not end with a newline")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line == "":
            continue
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$", line)
            if not m:
                continue
            kind, name, rest = m.groups()
            f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            if kind == "TYPE":
                if f["type"] is not None:
                    problems.append(f"line {n}: second TYPE for {name}")
                if name in seen_samples:
                    problems.append(f"line {n}: TYPE for {name} after its samples")
                if rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                    problems.append(f"line {n}: bad type {rest!r}")
                f["type"] = rest
            else:
                f["help"] = rest
            continue
        m = METRIC_RE.match(line)
        if not m:
            problems.append(f"line {n}: not a sample: {line!r}")
            continue
        name, _, labels, value, _ = m.groups()
        lab = {}
        if labels:
            pos = 0
            while pos < len(labels):
                lm = LABEL_RE.match(labels, pos)
                if not lm or lm.end() == pos:
                    problems.append(f"line {n}: bad labels {labels!r}")
                    break
                lab[lm.group(1)] = lm.group(2)
                pos = lm.end()
        try:
            v = float(value)
        except ValueError:
            problems.append(f"line {n}: bad value {value!r}")
            continue
        fam = name
        for suf in ("_bucket", "_sum", "_count"):
            if name not in fams and name.endswith(suf) and name[: -len(suf)] in fams:
                fam = name[: -len(suf)]
        if order and order[-1] != fam and fam in order:
            problems.append(f"line {n}: samples of {fam} are not together")
        if not order or order[-1] != fam:
            order.append(fam)
        seen_samples.add(fam)
        fams.setdefault(fam, {"type": None, "help": None, "samples": []})["samples"].append((lab, v))
    return fams, problems


DOCUMENTED = {"tend_ingest_messages_total": "counter", "tend_http_requests_total": "counter",
              "tend_eval_runs_total": "counter", "tend_eval_duration_seconds": "gauge",
              "tend_eval_last_success_timestamp_seconds": "gauge", "tend_eval_failures_total": "counter",
              "tend_ctas": "gauge", "tend_outbox_rows": "gauge", "tend_outbox_oldest_pending_seconds": "gauge",
              "tend_deliveries_total": "counter", "tend_accounts": "gauge"}


def sample(fams, name, **labels):
    for lab, v in (fams.get(name) or {}).get("samples", []):
        if all(lab.get(k) == x for k, x in labels.items()):
            return v
    return None


def metrics():
    deadline = time.monotonic() + 60
    while True:  # the ticket of ingest_keys triggers an evaluation of its account
        r = api("/metrics")
        fams, problems = parse_prom(r.text)
        if (sample(fams, "tend_eval_runs_total", kind="event") or 0) >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    eq("GET /metrics with the token: 200", 200, r.status, r)
    ct = r.h("Content-Type") or ""
    report("Content-Type is text/plain; version=0.0.4", ct.startswith("text/plain") and "version=0.0.4" in ct, ct)
    report("the body parses as the Prometheus text format", not problems and bool(fams), *problems[:10])
    types = {n: (fams.get(n) or {}).get("type") for n in DOCUMENTED}
    eq("every documented metric is there with its type", DOCUMENTED, types)
    for n in ("tend_ingest_messages_total", "tend_ctas", "tend_outbox_rows", "tend_accounts",
              "tend_outbox_oldest_pending_seconds", "tend_http_requests_total", "tend_eval_runs_total",
              "tend_eval_failures_total"):
        report(f"{n} has samples", bool((fams.get(n) or {}).get("samples")), fams.get(n))
    report("every documented metric has HELP", all((fams.get(n) or {}).get("help") for n in DOCUMENTED))
    with db() as c:
        n_acc = c.execute("SELECT count(*) FROM accounts").fetchone()[0]
    eq("tend_accounts counts the accounts", float(n_acc), sample(fams, "tend_accounts"))
    st = subprocess.run([TEND, "status", "--db", DB, "--format", "csv"], capture_output=True, text=True).stdout
    cnt = dict(l.split(",", 1) for l in st.splitlines() if "," in l)
    eq("tend_ingest_messages_total by outcome is tend status's lifetime counters",
       {o: float(cnt.get(k, 0)) for o, k in [("accepted", "messages.accepted"), ("duplicate", "messages.duplicates"),
                                              ("quarantined", "messages.quarantined"), ("rejected", "messages.rejected")]},
       {o: sample(fams, "tend_ingest_messages_total", outcome=o) for o in ("accepted", "duplicate", "quarantined",
                                                                          "rejected")})
    cli = cli_ctas()
    eq("tend_ctas{status} counts CTAs open, snoozed, closed",
       {s: float(sum(c["status"] == s for c in cli)) for s in ("open", "snoozed", "closed")},
       {s: sample(fams, "tend_ctas", status=s) for s in ("open", "snoozed", "closed")})
    rows = cli_outbox()
    eq("tend_outbox_rows{status} counts the outbox",
       {s: float(sum(x["status"] == s for x in rows)) for s in ("sent", "held")},
       {s: sample(fams, "tend_outbox_rows", status=s) for s in ("sent", "held")})
    report("tend_eval_runs_total{kind=\"event\"} counts the ticket's evaluation",
           (sample(fams, "tend_eval_runs_total", kind="event") or 0) >= 1, fams.get("tend_eval_runs_total"))
    eq("no daily evaluation ran (today was evaluated before the start)", 0.0,
       sample(fams, "tend_eval_runs_total", kind="daily") or 0.0)
    eq("no evaluation failed", 0.0, sample(fams, "tend_eval_failures_total"))
    codes = {lab.get("code") for lab, _ in (fams.get("tend_http_requests_total") or {}).get("samples", [])}
    report("tend_http_requests_total has route and code labels, 401s among them",
           {"200", "401", "400"} <= codes and all("route" in lab for lab, _ in fams["tend_http_requests_total"]["samples"]),
           fams.get("tend_http_requests_total"))
    routes = {lab.get("route") for lab, _ in fams["tend_http_requests_total"]["samples"]}
    report("routes are templates, not raw paths (no CTA ids or account ids)",
           not any(re.search(r"acc_\d|/\d+(/|$)|\?", r or "") for r in routes), sorted(map(str, routes)))
    r = req("GET", "/metrics", cookie=SESSION)
    eq("/metrics also takes the session", 200, r.status, r)


def logout():
    global SESSION
    page = Page(req("GET", "/accounts", cookie=SESSION).text)
    forms = [f for f in page.forms if "/logout" in f["action"]]
    report("pages have a sign-out form (POST /logout)", bool(forms) and forms[0]["method"] == "post",
           [f["action"] for f in page.forms])
    r = req("POST", "/logout", cookie=SESSION, body="", ctype="application/x-www-form-urlencoded")
    eq("POST /logout with the session but without the CSRF token: 403", 403, r.status, r)
    if forms:
        r = form_post(forms[0], hidden(forms[0]), SESSION)
    else:
        r = req("POST", "/logout", cookie=SESSION, headers={"X-CSRF-Token": CSRF[1] if CSRF else ""})
    val, attrs = r.cookie("tend_session")
    expired = any(a.lower().startswith("max-age=0") or a.lower().startswith("max-age=-") or
                  ("expires=" in a.lower() and "1970" in a) for a in attrs)
    report("signing out redirects 303 to /login and clears the cookie",
           r.status == 303 and location_path(r) == "/login" and val is not None and (val == "" or expired), r)
    a = req("GET", "/api/accounts", cookie=SESSION)
    eq("the signed-out session cookie no longer opens /api/accounts (sign-out ends the session)", 401, a.status, a)


def after_restart():
    sess = open(os.path.join(T, "session")).read().strip()
    r = req("GET", "/api/accounts", cookie=sess)
    eq("a session survives a restart of tend serve (key kept in DB.session-key)", 200, r.status, r)


def after_new_password():
    sess = open(os.path.join(T, "session")).read().strip()
    r = req("GET", "/api/accounts", cookie=sess)
    eq("changing a user's password_hash ends their sessions", 401, r.status, r)
    r, c = login("cy@example.com", "a new password 3")
    report("the new password signs in", bool(c) and r.status in (302, 303), r)
    r, c = login("ana@example.com", ANA_PW)
    report("another user's sign-in is unaffected", bool(c) and r.status in (302, 303), r)


if STAGE == "main":
    section(public_and_unauthenticated)
    section(signin)
    if SESSION:
        section(csrf_token)
    r, cy = login("cy@example.com", os.environ["CY_PW"])
    if cy:
        open(os.path.join(T, "session"), "w").write(cy)
        CY.append(cy)
    section(accounts_api)
    section(account_detail)
    section(ctas_api)
    section(rules_api)
    section(outbox_api)
    section(actions)
    section(methods)
    if SESSION:
        section(pages)
        section(reports)
    section(ingest_keys)
    section(metrics)
    if SESSION:
        section(logout)
elif STAGE == "restart":
    section(after_restart)
elif STAGE == "password":
    section(after_new_password)
PY

timeout 600 $PY "$T/sv.py" main || not_ok "sv.py main ran to the end" "exit $?"

stop_serve() {
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID"
    expect_eq "$1" 0 "$?"
}
stop_serve "SIGTERM stops tend serve with status 0"
# SQLite's key file; on PostgreSQL the key is the configuration's
# (serve.session_key_env, which lib.sh's start_serve sets there).
if [ "$BACKEND" = sqlite ]; then
    mode=$(stat -c %a "$DB.session-key" 2>/dev/null)
    expect_eq "the session key is kept in DB.session-key, mode 0600" 600 "$mode"
fi

if [ -s "$T/session" ]; then
    start_serve "$DB" "$PORT" --config "$T/tend.yaml" || exit 1
    timeout 300 $PY "$T/sv.py" restart || not_ok "sv.py restart ran to the end" "exit $?"
    stop_serve "SIGTERM stops the restarted tend serve with status 0"
    write_config "$CY_HASH2"
    start_serve "$DB" "$PORT" --config "$T/tend.yaml" || exit 1
    timeout 300 $PY "$T/sv.py" password || not_ok "sv.py password ran to the end" "exit $?"
    stop_serve "and once more with status 0"
fi
if [ -n "${TEND_TEST_ARTIFACTS:-}" ]; then
    mkdir -p "$TEND_TEST_ARTIFACTS/serve"
    cp "$T/serve.log" "$T/tend.yaml" "$TEND_TEST_ARTIFACTS/serve/" 2>/dev/null
fi
