"""The checks of permissions.sh; each prints "ok - ..." or "not ok - ...".

The expected verdicts come from RULES below, the rules of docs/dashboard.md
("Roles and permissions") written out again, apart from the server's code:
the server's answer must agree with them for every route and every asker."""
import hashlib
import http.client
import json
import os
import re
import sys
import time
import urllib.parse

PORT = int(os.environ["PORT"])
PORT_OWN = int(os.environ["PORT_OWN"])
OIDC_PORT = int(os.environ["OIDC_PORT"])
PW = os.environ["PW"]
T = os.environ["T"]
TOKENS = {s: os.environ["TOKEN_" + s.upper()] for s in ("ingest", "read", "act", "admin", "none")}
FAILED = 0
COUNTS = {"allowed": 0, "refused": 0}


def report(name, good, *details):
    global FAILED
    print(("ok - " if good else "not ok - ") + name)
    if not good:
        FAILED += 1
        for d in details:
            text = d if isinstance(d, str) else repr(d)
            print("    " + text[:2000].replace("\n", "\n    "))
    sys.stdout.flush()
    return good


def eq(name, expected, actual, *details):
    return report(name, expected == actual, f"expected: {expected!r}", f"actual:   {actual!r}", *details)


# ---- HTTP ------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def cookies(self):
        out = {}
        for k, v in self.headers:
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                out[name] = rest.split(";")[0]
        return out

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def request(method, path, port=PORT, headers=None, body=None, host="127.0.0.1"):
    c = http.client.HTTPConnection(host, port, timeout=60)
    h = dict(headers or {})
    if body is not None and not isinstance(body, bytes):
        body = body.encode()
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    out = Resp(r.status, r.getheaders(), r.read().decode("utf-8", "replace"))
    c.close()
    return out


class Asker:
    """Who asks: nobody, a person with a session, or a token."""

    def __init__(self, name, kind, role=None, scope=None, email=None, port=PORT, own_book=False):
        self.name, self.kind, self.role, self.scope = name, kind, role, scope
        self.email, self.port, self.own_book = email, port, own_book
        self.session = self.csrf = None

    def headers(self, api_post=False):
        h = {}
        if self.kind == "token":
            h["Authorization"] = "Bearer " + TOKENS[self.scope if self.scope != "act*" else "none"]
        elif self.kind == "person" and self.session:
            h["Cookie"] = "tend_session=" + self.session
            if api_post:
                h["X-CSRF-Token"] = self.csrf
        return h

    def get(self, path):
        return request("GET", path, self.port, self.headers())

    def post_form(self, path, fields):
        f = dict(fields)
        if self.kind == "person" and self.csrf:
            f["csrf"] = self.csrf
        h = self.headers()
        h["Content-Type"] = "application/x-www-form-urlencoded"
        return request("POST", path, self.port, h, urllib.parse.urlencode(f))

    def post_json(self, path, fields):
        h = self.headers(api_post=True)
        h["Content-Type"] = "application/json"
        return request("POST", path, self.port, h, json.dumps(fields))


def login_form(port=PORT, path="/login"):
    r = request("GET", path, port)
    pre = r.cookies().get("tend_login")
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', r.body)
    return pre, m.group(1) if m else None


def sign_in(email, password, port=PORT):
    pre, csrf = login_form(port)
    body = urllib.parse.urlencode({"email": email, "password": password, "csrf": csrf, "next": "/accounts"})
    r = request("POST", "/login", port, {"Cookie": "tend_login=" + pre,
                                         "Content-Type": "application/x-www-form-urlencoded"}, body)
    return r, r.cookies().get("tend_session")


def page_csrf(port, session):
    r = request("GET", "/accounts", port, {"Cookie": "tend_session=" + session})
    m = re.search(r'name="csrf" value="([0-9a-f]+)"', r.body)
    return m.group(1) if m else None


def signed_in(a):
    r, session = sign_in(a.email, PW, a.port)
    if not report(f"{a.name} signs in", r.status == 303 and bool(session), r.status, r.body[:300]):
        sys.exit(1)
    a.session = session
    a.csrf = page_csrf(a.port, session)
    return a


# ---- the rules, written out again --------------------------------------------------------

ROLE_ALLOWS = {
    "viewer": {"read_book", "read"},
    "csm": {"read_book", "read", "act"},
    "lead": {"read_book", "read", "act", "lead"},
    "admin": {"read_book", "read", "act", "lead", "admin"},
}
SCOPE_ALLOWS = {
    "ingest": {"ingest"},
    "read": {"read_book", "read"},
    "act": {"read_book", "read", "act", "lead"},
    "act*": {"read_book", "read", "act", "lead"},  # a token without scope: act
    "admin": {"read_book", "read", "act", "lead", "admin", "ingest"},
}


def expected(a, needs, target):
    """'allow', 'deny' or 'signin' for asker a, a route's need, and target
    'none', 'list', 'mine' or 'others'."""
    if needs == "public":
        return "allow"
    if a.kind == "nobody":
        return "signin"
    if needs == "signed_in":
        return "allow"
    if a.kind == "token":
        return "allow" if needs in SCOPE_ALLOWS[a.scope] else "deny"
    if needs not in ROLE_ALLOWS[a.role]:
        return "deny"
    if a.role != "csm":
        return "allow"
    if needs == "act" or (a.own_book and needs == "read_book"):
        return "deny" if target == "others" else "allow"
    if a.own_book and needs == "read":
        return "deny"
    return "allow"


# ---- what each route is tried with -------------------------------------------------------

def examples(route, ids):
    """(path, method, fields, target) of each request for a route: a new
    pattern without an example here fails the matrix."""
    p, m = route["pattern"], route["method"]
    own, other = ids["own_cta"], ids["other_cta"]
    table = {
        "/static/tend.css": [("/static/tend.css", "GET", None, "none")],
        "/login": [("/login", "GET", None, "none")],
        "/unsubscribe/*": [("/unsubscribe/not-a-token", "GET", None, "none")],
        "/invite/*": [("/invite/" + "0" * 64, "GET", None, "none")],
        "/sso/start": [("/sso/start", "GET", None, "none")],
        "/sso/callback": [("/sso/callback?state=x&code=y", "GET", None, "none")],
        "/logout": [],  # tried last, by each asker (it ends the asker's sessions)
        "/": [("/", "GET", None, "none")],
        "/accounts": [("/accounts", "GET", None, "list")],
        "/accounts/*/users": [("/accounts/own-co/users", "GET", None, "mine"),
                              ("/accounts/other-co/users", "GET", None, "others")],
        "/accounts/*": [("/accounts/own-co", "GET", None, "mine"),
                        ("/accounts/other-co", "GET", None, "others")],
        "/ctas": [("/ctas", "GET", None, "list")],
        "/ctas/*/*": [(f"/ctas/{own}/assign", "POST", {"owner": "csm@example.com"}, "mine"),
                      (f"/ctas/{other}/assign", "POST", {"owner": "lead@example.com"}, "others")],
        "/ctas/*": [(f"/ctas/{own}", "GET", None, "mine"), (f"/ctas/{other}", "GET", None, "others")],
        "/reports/*": [("/reports/1", "GET", None, "none")],
        "/segments/*": [("/segments/smb", "GET", None, "none")],
        "/users/*/*": [("/users/target@example.com/role", "POST", {"role": "viewer"}, "none")],
        "/tokens/*/revoke": [("/tokens/no-such-token/revoke", "POST", {}, "none")],
        # Signed by their sender: public at the table, the handler checks the
        # signature (a GET is refused by the handler, not by the table).
        "/hooks/*": [("/hooks/stripe", "GET", None, "none")],
        "/slack/*": [("/slack/actions", "GET", None, "none")],
    }
    if p == "/accounts/*/notes" and m == "POST":
        return [("/accounts/own-co/notes", "POST", {"kind": "call", "text": "matrix"}, "mine"),
                ("/accounts/other-co/notes", "POST", {"kind": "call", "text": "matrix"}, "others")]
    if p == "/accounts/*/notes":
        return [("/accounts/own-co/notes", "GET", None, "mine"),
                ("/accounts/other-co/notes", "GET", None, "others")]
    if p == "/ctas/bulk":  # allowed to a csm: each CTA is then checked (bulk_checks)
        return [("/ctas/bulk", "POST", {"action": "assign", "owner": "csm@example.com",
                                        "ids": str(own)}, "list")]
    if p == "/tokens" and m == "POST":
        ids["n_invites"] += 1
        return [("/tokens", "POST", {"name": f"matrix-{ids['n_invites']}", "scope": "read"}, "none")]
    if p == "/users" and m == "POST":
        ids["n_invites"] += 1
        return [("/users", "POST", {"email": f"invitee{ids['n_invites']}@example.com",
                                    "role": "viewer"}, "none")]
    if p in table:
        return table[p]
    if "*" not in p:
        return [(p, m if m != "*" else "GET", None, "none")]
    return None


def outcome(a, r, api, path):
    """What the answer says: 'allow', 'deny' or 'signin'."""
    json_errors = api or path == "/metrics"
    if r.status == 401 and json_errors:
        return "signin"
    if r.status == 303 and not json_errors and (r.header("Location") or "").startswith("/login?next="):
        return "signin"
    if r.status == 403 and "did not start here" in r.body:
        return "allow"  # /sso/callback's handler: no sign-in was started
    if r.status == 403:
        return "deny"
    if r.status in (401, 403) or r.status >= 500:
        return f"status {r.status}"
    return "allow"


def matrix(askers, routes, ids):
    for a in askers:
        for route in routes:
            ex = examples(route, ids)
            if ex is None:
                report(f"the matrix has an example of {route['method']} {route['pattern']}", False,
                       "add one to examples() in permissions_check.py")
                continue
            for api in (False, True):
                if not route["api" if api else "page"]:
                    continue
                for path, method, fields, target in ex:
                    full = ("/api" + path) if api else path
                    if method == "POST":
                        r = a.post_json(full, fields or {}) if api else a.post_form(full, fields or {})
                    else:
                        r = a.get(full)
                    want = expected(a, route["needs"], target)
                    got = outcome(a, r, api, path)
                    COUNTS["allowed" if got == "allow" else "refused"] += 1
                    ok = got == want
                    if ok and want == "deny":
                        msg = (r.json() or {}).get("error") if api or path == "/metrics" else r.body
                        ok = bool(msg) and ("role" in msg or "scope" in msg or "csm" in msg)
                    report(f"{a.name}: {method} {full} ({route['needs']}, {target}) -> {want} "
                           f"[{r.status}]", ok, f"got {got}: {r.status} {r.body[:300]}")


# ---- the checks --------------------------------------------------------------------------

def cta_ids(admin):
    r = admin.get("/api/ctas?status=open")
    ctas = (r.json() or {}).get("ctas") or []
    by = {}
    for c in ctas:
        by.setdefault(c.get("account_id"), c.get("id"))
    return by


def audit_entries(admin):
    """Every entry, newest first, a page of 500 at a time."""
    out, before = [], ""
    while True:
        page = admin.get(f"/api/audit?limit=500{before}").json() or {}
        out += page.get("entries") or []
        if not page.get("next_before"):
            return out
        before = f"&before={page['next_before']}"


def main():
    nobody = Asker("nobody", "nobody")
    admin = signed_in(Asker("admin", "person", "admin", email="admin@example.com"))
    lead = signed_in(Asker("lead", "person", "lead", email="lead@example.com"))
    csm = signed_in(Asker("csm", "person", "csm", email="csm@example.com"))
    viewer = signed_in(Asker("viewer", "person", "viewer", email="viewer@example.com"))
    legacy = signed_in(Asker("a tend.yaml user without role (lead)", "person", "lead",
                             email="legacy@example.com"))
    csm_own = signed_in(Asker("csm (own_book)", "person", "csm", email="csm@example.com",
                              port=PORT_OWN, own_book=True))
    tokens = [Asker(f"token {s}", "token", scope=s) for s in ("ingest", "read", "act", "admin")]
    tokens.append(Asker("token without scope (act)", "token", scope="act*"))

    r = admin.get("/api/routes")
    routes = (r.json() or {}).get("routes") or []
    report(f"GET /api/routes lists the route table ({len(routes)} routes, each with a need)",
           len(routes) > 20 and all(x.get("needs") not in (None, "", "unset") for x in routes),
           r.status, r.body[:500])
    eq("a token of scope read may not read the route table", 403,
       tokens[1].get("/api/routes").status)

    by = cta_ids(admin)
    if not report("each account has an open CTA", all(by.get(k) for k in ("own-co", "other-co", "third-co")), by):
        sys.exit(1)
    ids = {"own_cta": by["own-co"], "other_cta": by["other-co"], "n_invites": 0}
    # A CTA of another book assigned to the csm is theirs to act on.
    r = lead.post_json(f"/api/ctas/{by['third-co']}/assign", {"owner": "csm@example.com"})
    eq("a lead assigns a CTA of their book to the csm", 200, r.status, r.body[:300])
    r = csm.post_json(f"/api/ctas/{by['third-co']}/snooze", {"until": "2099-01-01"})
    eq("the csm acts on a CTA assigned to them, of another's account", 200, r.status, r.body[:300])
    r = csm.post_json(f"/api/ctas/{by['other-co']}/snooze", {"until": "2099-01-01"})
    eq("the csm may not act on a CTA of another's book", 403, r.status, r.body[:300])
    report("the refusal says why, in words", "own book" in ((r.json() or {}).get("error") or ""), r.body)
    r = viewer.post_form(f"/ctas/{by['own-co']}/snooze", {"until": "2099-01-01"})
    eq("a viewer's action on a page is refused with a readable 403 page", 403, r.status)
    report("the page says the viewer reads only", "reads only" in r.body and "<html" in r.body, r.body[:500])
    # The person to change in the matrix.
    r = admin.post_json("/api/users", {"email": "target@example.com", "role": "csm"})
    eq("an admin invites a person (API)", 200, r.status, r.body[:300])

    askers = [nobody, viewer, csm, csm_own, lead, legacy, admin] + tokens
    matrix(askers, routes, ids)
    report(f"the matrix: {COUNTS['allowed']} allowed, {COUNTS['refused']} refused answers", True)

    # Own book: lists are narrowed to the csm's own.
    r = csm_own.get("/api/accounts")
    accounts = [x.get("id") for x in (r.json() or {}).get("accounts", [])]
    eq("in own-book mode the csm's account list is their book", ["own-co"], accounts, r.body[:300])
    r = csm_own.get("/api/accounts?owner=lead@example.com")
    eq("asking for another owner's accounts does not widen it", ["own-co"],
       [x.get("id") for x in (r.json() or {}).get("accounts", [])], r.body[:300])
    r = csm_own.get("/api/ctas?owner=all&status=all")
    owners = sorted({c.get("owner") for c in (r.json() or {}).get("ctas", [])})
    eq("in own-book mode the csm's CTA list is the CTAs assigned to them", ["csm@example.com"], owners,
       r.body[:300])
    eq("in own-book mode another book's account answers 403", 403, csm_own.get("/api/accounts/other-co").status)
    eq("and its page a readable 403", 403, csm_own.get("/accounts/other-co").status)
    eq("and team-wide pages (segments) answer 403", 403, csm_own.get("/api/segments").status)
    r = csm.get("/api/accounts")
    n_all = len((r.json() or {}).get("accounts", []))
    eq("otherwise the csm reads every account", 3, n_all)

    audit_checks(admin, lead, csm, by)
    cockpit_checks(admin, lead, csm, viewer, by)
    token_checks(admin, lead, by)
    people_checks(admin, csm)
    oidc_checks(admin)

    # Signing out, last: every person and token may.
    for a in [viewer, csm, lead, legacy, admin] + tokens:
        r = a.post_form("/logout", {})
        eq(f"{a.name}: POST /logout -> allowed [303]", 303, r.status, r.body[:200])
    r = nobody.post_form("/logout", {})
    eq("nobody: POST /logout -> sign in first [303 to /login]", True,
       r.status == 303 and (r.header("Location") or "").startswith("/login"))
    print(f"{COUNTS['allowed'] + COUNTS['refused']} requests of the matrix")
    sys.exit(1 if FAILED else 0)


def audit_checks(admin, lead, csm, by):
    entries = audit_entries(admin)
    snooze = [e for e in entries if e["action"] == "cta.snooze" and e["actor"] == "csm@example.com"
              and e["target"] == f"cta:{by['third-co']}"]
    report("the audit log has the csm's snooze: actor, target, time, before and after", bool(snooze)
           and snooze[-1]["before"]["status"] == "open" and snooze[-1]["after"]["status"] == "snoozed"
           and snooze[-1]["after"].get("snoozed_until") == "2099-01-01"
           and re.match(r"\d{4}-\d\d-\d\dT", snooze[-1]["at"]), snooze[-1:] or entries[:5])
    assign = [e for e in entries if e["action"] == "cta.assign" and e["actor"] == "lead@example.com"]
    report("the audit log has the lead's reassignment with the owner before and after", bool(assign)
           and assign[-1]["before"]["owner"] == "lead@example.com"
           and assign[-1]["after"]["owner"] == "csm@example.com", assign[-1:])
    loads = [e for e in entries if e["action"] == "config.load"]
    roles = {u["email"]: u["role"] for u in (loads[-1]["after"]["users"] if loads else [])}
    scopes = {t["name"]: t["scope"] for t in (loads[-1]["after"]["tokens"] if loads else [])}
    report("the audit log has each node's start with the roles and scopes it loaded",
           len(loads) == 2 and loads[-1]["actor"] == "tend serve" and roles.get("admin@example.com") == "admin"
           and roles.get("legacy@example.com") == "lead" and scopes.get("t-none") == "act"
           and scopes.get("t-ingest") == "ingest", loads[-1:])
    refused = [e for e in entries if e["target"] == f"cta:{by['other-co']}" and e["actor"] == "csm@example.com"]
    eq("a refused action leaves no audit entry", [], refused)
    invite = [e for e in entries if e["action"] == "user.invite" and e["target"] == "user:target@example.com"]
    report("the audit log has the invitation, by the admin, with the person after", bool(invite)
           and invite[0]["actor"] == "admin@example.com" and invite[0]["after"]["role"] == "csm", invite)
    role = [e for e in entries if e["action"] == "user.role" and e["target"] == "user:target@example.com"]
    report("the audit log has the role change with the role before and after", bool(role)
           and role[-1]["before"]["role"] == "csm" and role[-1]["after"]["role"] == "viewer", role[-1:])
    # Paging: newest first, each page older than the last.
    r = admin.get("/api/audit?limit=2")
    page1 = r.json() or {}
    nb = page1.get("next_before")
    r2 = admin.get(f"/api/audit?limit=2&before={nb}")
    page2 = r2.json() or {}
    ids1 = [e["id"] for e in page1.get("entries", [])]
    ids2 = [e["id"] for e in page2.get("entries", [])]
    report("the audit log pages newest first (API)", len(ids1) == 2 and ids2 and max(ids2) < min(ids1)
           and ids1 == sorted(ids1, reverse=True), ids1, ids2)
    r = admin.get("/audit?limit=2")
    report("the audit page shows a page and a link to older entries", r.status == 200
           and "Audit log" in r.body and "before=" in r.body, r.status)
    for a in (lead, csm):
        eq(f"{a.name} may not read the audit log", 403, a.get("/api/audit").status)
    eq("there is no way to change an entry: POST /api/audit is refused", 405,
       admin.post_json("/api/audit", {}).status)


def cockpit_checks(admin, lead, csm, viewer, by):
    """Bulk actions decided CTA by CTA; notes, playbook steps and bulk actions
    in the audit log (main's routes, merged into the route table)."""
    own, other = by["own-co"], by["other-co"]
    status_other = (admin.get(f"/api/ctas/{other}").json() or {}).get("status")
    # Assignments that keep every CTA open and whose it is (the checks after
    # these read the open CTAs), told apart in the log by their note.
    third = by["third-co"]
    r = csm.post_json("/api/ctas/bulk", {"action": "assign", "owner": "csm@example.com", "note": "bulk-csm",
                                         "ids": f"{own},{other}"})
    j = r.json() or {}
    failed = j.get("failed") or []
    eq("a csm's bulk assign over their CTA and another book's: 200, theirs done", (200, [own]),
       (r.status, j.get("done")), r.body[:500])
    report("... the other book's CTA refused alone, with the reason", len(failed) == 1
           and failed[0].get("id") == other and "own book" in (failed[0].get("error") or ""), failed)
    c = admin.get(f"/api/ctas/{other}").json() or {}
    eq("... and left as it was", (status_other, "lead@example.com"), (c.get("status"), c.get("owner")), c)
    r = viewer.post_json("/api/ctas/bulk", {"action": "assign", "owner": "viewer@example.com", "ids": str(own)})
    eq("a viewer's bulk action: 403", 403, r.status, r.body[:300])
    r = lead.post_json("/api/ctas/bulk", {"action": "assign", "owner": "csm@example.com", "note": "bulk-lead",
                                          "ids": f"{own},{third}"})
    eq("a lead's bulk assign over the csm's book and their own: both done", (200, sorted([own, third])),
       (r.status, sorted((r.json() or {}).get("done") or [])), r.body[:300])
    r = csm.post_json("/api/accounts/own-co/notes", {"kind": "call", "text": "audited account note"})
    eq("a csm records a note on their book's account", 200, r.status, r.body[:300])
    r = csm.post_json(f"/api/ctas/{own}/note", {"kind": "email", "text": "audited CTA note"})
    eq("a csm records a note on their CTA", 200, r.status, r.body[:300])
    r = csm.post_json(f"/api/ctas/{own}/step", {"step": "call"})
    eq("a csm ticks a playbook step of their CTA", 200, r.status, r.body[:300])
    r = csm.post_json(f"/api/ctas/{own}/step", {"step": "call", "done": "0"})
    eq("... and unticks it", 200, r.status, r.body[:300])
    r = csm.post_json(f"/api/ctas/{other}/step", {"step": "call"})
    eq("a csm's step on another book's CTA: 403", 403, r.status, r.body[:300])
    entries = audit_entries(admin)

    def find(action, actor, target):
        return [e for e in entries if e["action"] == action and e["actor"] == actor and e["target"] == target]

    bulk = [e for e in entries if e["actor"] == "csm@example.com" and (e.get("after") or {}).get("note") == "bulk-csm"]
    eq("the csm's bulk assign is in the audit log for their CTA alone (nothing for the refused one)",
       [("cta.assign", f"cta:{own}")], [(e["action"], e["target"]) for e in bulk], bulk)
    lead_bulk = [e for e in entries if e["action"] == "cta.assign" and e["actor"] == "lead@example.com"
                 and (e.get("after") or {}).get("note") == "bulk-lead"]
    eq("the lead's bulk assign: an audit entry per CTA", sorted([f"cta:{own}", f"cta:{third}"]),
       sorted(e["target"] for e in lead_bulk))
    n = find("account.note", "csm@example.com", "account:own-co")
    report("the account note is in the audit log with its kind and text", any(
        (e.get("after") or {}).get("text") == "audited account note"
        and e["after"].get("kind") == "call" for e in n), n[:3])
    n = find("cta.note", "csm@example.com", f"cta:{own}")
    report("the CTA note is in the audit log with its kind and text", any(
        (e.get("after") or {}).get("text") == "audited CTA note" for e in n), n[:3])
    steps = find("cta.step", "csm@example.com", f"cta:{own}")
    report("the playbook step ticked and unticked: two audit entries (newest first) with done before and after",
           [((e.get("before") or {}).get("done"), (e.get("after") or {}).get("done")) for e in steps]
           == [(True, False), (False, True)]
           and all((e.get("after") or {}).get("step") == "call" for e in steps), steps)
    report("the refused step left no audit entry", not find("cta.step", "csm@example.com", f"cta:{other}"))


def token_checks(admin, lead, by):
    r = admin.post_json("/api/tokens", {"name": "grafana", "scope": "read"})
    tok = (r.json() or {}).get("token") or ""
    report("an admin makes an API token in the app; it is shown once", r.status == 200
           and tok.startswith("tend_") and len(tok) == 69, r.status, r.body[:300])
    t = Asker("token made in the app (read)", "token", scope="read")
    h = {"Authorization": "Bearer " + tok}
    eq("the new token reads", 200, request("GET", "/api/accounts", PORT, h).status)
    eq("on the other node too (the same database)", 200, request("GET", "/api/accounts", PORT_OWN, h).status)
    h2 = dict(h, **{"Content-Type": "application/json"})
    r = request("POST", f"/api/ctas/{by['own-co']}/snooze", PORT, h2, json.dumps({"until": "2099-01-01"}))
    eq("its scope (read) refuses an action", 403, r.status)
    report("naming the scope", "scope (read)" in ((r.json() or {}).get("error") or ""), r.body)
    listed = (admin.get("/api/tokens").json() or {}).get("tokens", [])
    report("the tokens list has tend.yaml's and the app's, never the token itself",
           any(x["name"] == "grafana" and x["source"] == "app" for x in listed)
           and any(x["name"] == "t-read" and x["source"] == "tend.yaml" for x in listed)
           and tok not in json.dumps(listed), listed)
    eq("a second token of the same name is refused (409)", 409,
       admin.post_json("/api/tokens", {"name": "grafana", "scope": "act"}).status)
    eq("nor a name of tend.yaml's (409)", 409, admin.post_json("/api/tokens", {"name": "t-read", "scope": "act"}).status)
    eq("an unknown scope is refused (400)", 400, admin.post_json("/api/tokens", {"name": "x", "scope": "all"}).status)
    eq("a lead may not make tokens", 403, lead.post_json("/api/tokens", {"name": "y", "scope": "read"}).status)
    eq("an admin revokes it", 200, admin.post_json("/api/tokens/grafana/revoke", {}).status)
    eq("a revoked token is refused at once (401)", 401, request("GET", "/api/accounts", PORT, h).status)
    entries = audit_entries(admin)
    create = [e for e in entries if e["action"] == "token.create" and e["target"] == "token:grafana"]
    report("the audit log has the token's creation, by the admin, with its scope", bool(create)
           and create[0]["actor"] == "admin@example.com" and create[0]["after"]["scope"] == "read", create)
    report("and its revocation", any(e["action"] == "token.revoke" and e["target"] == "token:grafana"
                                     for e in entries))


def people_checks(admin, csm):
    # Invitation, one-time link.
    r = admin.post_json("/api/users", {"email": "Newbie@Example.com", "name": "New Bie", "role": "csm"})
    link = (r.json() or {}).get("link") or ""
    report("an invitation answers a one-time link", r.status == 200 and "/invite/" in link, r.body[:300])
    path = urllib.parse.urlparse(link).path
    token = path.rsplit("/", 1)[-1]
    r = request("GET", path)
    report("the link shows the form to choose a password", r.status == 200 and "newbie@example.com" in r.body,
           r.status)
    db = os.environ.get("DB", "")
    db_text = b"".join(open(f, "rb").read() for f in (db, db + "-wal") if os.path.exists(f))
    if db_text:  # SQLite (on PostgreSQL the store's tests check it)
        report("the link's token is not stored, only its SHA-256", token.encode() not in db_text
               and hashlib.sha256(token.encode()).hexdigest().encode() in db_text)
    form = {"password": "short", "password2": "short"}
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    r = request("POST", path, PORT, h, urllib.parse.urlencode(form))
    eq("a password under 10 characters is refused", 400, r.status)
    r = request("POST", path, PORT, h, urllib.parse.urlencode({"password": "x" * 1025, "password2": "x" * 1025}))
    eq("a password over 1024 bytes is refused", 400, r.status)
    newpw = "newbie password 1"
    r = request("POST", path, PORT, h, urllib.parse.urlencode({"password": newpw, "password2": newpw}))
    report("the link sets the password once", r.status == 303 and "/login" in (r.header("Location") or ""),
           r.status, r.body[:300])
    r = request("POST", path, PORT, h, urllib.parse.urlencode({"password": "other pass 99", "password2": "other pass 99"}))
    eq("the link works once: a second use is refused", 404, r.status)
    eq("and its page says it is not valid", True, "not valid" in request("GET", path).body)
    r, session = sign_in("newbie@example.com", newpw)
    report("the invited person signs in", r.status == 303 and bool(session), r.status)
    newbie = Asker("newbie", "person", "csm", email="newbie@example.com")
    newbie.session, newbie.csrf = session, page_csrf(PORT, session)
    eq("the invited person reads as a csm", 200, newbie.get("/api/accounts").status)
    eq("the invited person may not manage people", 403, newbie.get("/api/users").status)
    users = {u["email"]: u for u in (admin.get("/api/users").json() or {}).get("users", [])}
    report("the users list has tend.yaml's people and the app's, with their roles",
           users.get("newbie@example.com", {}).get("role") == "csm"
           and users.get("admin@example.com", {}).get("source") == "tend.yaml"
           and users.get("legacy@example.com", {}).get("role") == "lead", users)

    # A role change holds at once.
    r = admin.post_json("/api/users/newbie@example.com/role", {"role": "viewer"})
    eq("an admin changes a role", 200, r.status, r.body[:300])
    own = cta_ids(admin)["own-co"]
    eq("the new role holds on the next request (viewer: no action)", 403,
       newbie.post_json(f"/api/ctas/{own}/snooze", {"until": "2099-01-01"}).status)
    # Disabling ends the sessions at once.
    r = admin.post_form("/users/newbie@example.com/disable", {})
    eq("an admin disables a person (page)", 303, r.status, r.body[:300])
    eq("the disabled person's session stops at once", 401, newbie.get("/api/accounts").status)
    r, session = sign_in("newbie@example.com", newpw)
    eq("a disabled person cannot sign in", 401, r.status)
    eq("enabling them again", 200, admin.post_json("/api/users/newbie@example.com/enable", {}).status)
    r, session = sign_in("newbie@example.com", newpw)
    eq("an enabled person signs in again", 303, r.status)
    # Reset: a new link; the old password works until it is used.
    r = admin.post_json("/api/users/newbie@example.com/reset", {})
    link2 = (r.json() or {}).get("link") or ""
    report("a reset answers a new one-time link", r.status == 200 and "/invite/" in link2, r.body[:300])
    p2 = urllib.parse.urlparse(link2).path
    r = request("POST", p2, PORT, h, urllib.parse.urlencode({"password": "reset password 2", "password2": "reset password 2"}))
    eq("the reset link sets a new password", 303, r.status)
    eq("the old password no longer works", 401, sign_in("newbie@example.com", newpw)[0].status)
    eq("the new one does", 303, sign_in("newbie@example.com", "reset password 2")[0].status)
    entries = audit_entries(admin)
    acts = [e["action"] for e in entries if e["target"] == "user:newbie@example.com"]
    for a in ("user.invite", "user.password_set", "user.role", "user.disable", "user.enable", "user.reset"):
        report(f"the audit log has {a} of the person", a in acts, acts)
    dis = [e for e in entries if e["action"] == "user.disable"]
    report("the disable entry has disabled false before and true after", dis
           and dis[0]["before"]["disabled"] is False and dis[0]["after"]["disabled"] is True, dis[:1])

    # An admin of the app cannot demote or disable themselves (no lock-out by a slip).
    r = admin.post_json("/api/users", {"email": "admin2@example.com", "role": "admin"})
    p3 = urllib.parse.urlparse((r.json() or {}).get("link") or "").path
    request("POST", p3, PORT, h, urllib.parse.urlencode({"password": "admin2 password", "password2": "admin2 password"}))
    r, s3 = sign_in("admin2@example.com", "admin2 password")
    admin2 = Asker("admin2", "person", "admin", email="admin2@example.com")
    admin2.session, admin2.csrf = s3, page_csrf(PORT, s3 or "")
    eq("an invited admin manages people", 200, admin2.get("/api/users").status)
    r = admin2.post_json("/api/users/admin2@example.com/disable", {})
    eq("but cannot disable themselves (409)", 409, r.status, r.body[:200])
    eq("nor change their own role (409)", 409,
       admin2.post_json("/api/users/admin2@example.com/role", {"role": "viewer"}).status)

    # tend.yaml's people are not changed in the app; bounds.
    eq("a tend.yaml person cannot be changed in the app (409)", 409,
       admin.post_json("/api/users/csm@example.com/role", {"role": "admin"}).status)
    eq("nor invited again (409)", 409, admin.post_json("/api/users", {"email": "CSM@example.com", "role": "csm"}).status)
    eq("an invitation twice is refused (409)", 409,
       admin.post_json("/api/users", {"email": "newbie@example.com", "role": "csm"}).status)
    eq("an email over 320 bytes is refused (400)", 400,
       admin.post_json("/api/users", {"email": "a" * 320 + "@x.example", "role": "csm"}).status)
    eq("a name over 200 bytes is refused (400)", 400,
       admin.post_json("/api/users", {"email": "n@x.example", "name": "n" * 201, "role": "csm"}).status)
    eq("an unknown role is refused (400)", 400,
       admin.post_json("/api/users", {"email": "r@x.example", "role": "owner"}).status)
    r = admin.post_json("/api/users", {"email": "r@x.example", "role": "owner"})
    report("the refusal names the field", "role" in ((r.json() or {}).get("error") or ""), r.body)


def oidc_checks(admin):
    import oidc_client  # the browser's part of the flow, in tests/integration
    oidc_client.run(report, eq, request, PORT, OIDC_PORT, T, admin)


if __name__ == "__main__":
    main()
