"""A stand-in OpenID Connect provider for tests (permissions.sh), on 127.0.0.1.

    oidc_provider.py PORT DIR

Serves the discovery document, /authorize (approves at once, as the person
the test chose), /token (the authorization code grant with PKCE S256 and the
client's secret, each code once), and /jwks (one RSA key, kid "k1"). Signs
ID tokens RS256 with python3-cryptography. POST /control {"email": ...,
"mode": ...} sets who signs in next and how the next ID token is spoiled:
"good", "forged" (signed by another key under kid k1), "wrong_nonce",
"wrong_aud", "expired", "alg_none", "wrong_iss". Writes DIR/ready when it
listens, and logs each request's outcome to stdout."""
import base64
import hashlib
import http.server
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PORT, DIR = int(sys.argv[1]), sys.argv[2]
ISSUER = f"http://127.0.0.1:{PORT}"
CLIENT_ID, CLIENT_SECRET = "tend-test", "oidc-client-secret-for-tests"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LOCK = threading.Lock()
STATE = {"email": "sso.person@example.com", "name": "Sso Person", "mode": "good"}
CODES = {}  # code -> (client_id, redirect_uri, challenge, nonce, email, name, mode)
SEEN = {"token_ok": 0, "pkce_refused": 0, "secret_refused": 0, "code_reused": 0}


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_int(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def id_token(nonce, email, name, mode):
    # tend's clock in the test (lib.sh's pin_clock_at_noon): a provider and
    # tend agree on the time, as NTP makes them in production.
    now = int(time.time()) + int(os.environ.get("TEND_TEST_CLOCK_OFFSET_S", "0"))
    header = {"alg": "RS256", "typ": "JWT", "kid": "k1"}
    claims = {"iss": ISSUER, "sub": "sub-" + hashlib.sha256(email.encode()).hexdigest()[:16],
              "aud": CLIENT_ID, "exp": now + 300, "iat": now, "nonce": nonce, "email": email,
              "email_verified": True, "name": name}
    if mode == "wrong_nonce":
        claims["nonce"] = "not-the-nonce"
    elif mode == "wrong_aud":
        claims["aud"] = "another-client"
    elif mode == "expired":
        claims["exp"], claims["iat"] = now - 3600, now - 7200
    elif mode == "wrong_iss":
        claims["iss"] = "http://127.0.0.1:1"
    if mode == "alg_none":
        header["alg"] = "none"
        return b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode()) + "."
    signing = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())
    key = OTHER if mode == "forged" else KEY
    sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing + "." + b64u(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stdout.write("provider: " + (fmt % args) + "\n")
        sys.stdout.flush()

    def send(self, status, body, ctype="application/json", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/.well-known/openid-configuration":
            return self.send(200, json.dumps({
                "issuer": ISSUER, "authorization_endpoint": ISSUER + "/authorize",
                "token_endpoint": ISSUER + "/token", "jwks_uri": ISSUER + "/jwks",
                "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"]}))
        if u.path == "/jwks":
            pub = KEY.public_key().public_numbers()
            return self.send(200, json.dumps({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256",
                                                        "kid": "k1", "n": b64u_int(pub.n),
                                                        "e": b64u_int(pub.e)}]}))
        if u.path == "/seen":
            with LOCK:
                return self.send(200, json.dumps(SEEN))
        if u.path == "/authorize":
            if (q.get("response_type") != "code" or q.get("client_id") != CLIENT_ID
                    or q.get("code_challenge_method") != "S256" or not q.get("code_challenge")
                    or not q.get("state") or not q.get("nonce") or "openid" not in q.get("scope", "")):
                return self.send(400, json.dumps({"error": "invalid_request", "got": q}))
            code = secrets.token_urlsafe(24)
            with LOCK:
                CODES[code] = (q["client_id"], q["redirect_uri"], q["code_challenge"], q["nonce"],
                               STATE["email"], STATE["name"], STATE["mode"])
            sep = "&" if "?" in q["redirect_uri"] else "?"
            to = q["redirect_uri"] + sep + urllib.parse.urlencode({"code": code, "state": q["state"]})
            return self.send(302, "", "text/plain", [("Location", to)])
        return self.send(404, json.dumps({"error": "not_found"}))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        u = urllib.parse.urlparse(self.path)
        if u.path == "/control":
            with LOCK:
                STATE.update(json.loads(body))
            return self.send(200, "{}")
        if u.path != "/token":
            return self.send(404, "{}")
        f = dict(urllib.parse.parse_qsl(body))
        with LOCK:
            entry = CODES.pop(f.get("code", ""), None)
            if entry is None:
                SEEN["code_reused"] += 1
                return self.send(400, json.dumps({"error": "invalid_grant"}))
            client, redirect, challenge, nonce, email, name, mode = entry
            if f.get("client_id") != client or f.get("client_secret") != CLIENT_SECRET:
                SEEN["secret_refused"] += 1
                return self.send(401, json.dumps({"error": "invalid_client"}))
            verifier = f.get("code_verifier", "")
            if b64u(hashlib.sha256(verifier.encode()).digest()) != challenge:
                SEEN["pkce_refused"] += 1
                return self.send(400, json.dumps({"error": "invalid_grant", "why": "pkce"}))
            if f.get("grant_type") != "authorization_code" or f.get("redirect_uri") != redirect:
                return self.send(400, json.dumps({"error": "invalid_grant"}))
            SEEN["token_ok"] += 1
        return self.send(200, json.dumps({"access_token": secrets.token_urlsafe(16),
                                          "token_type": "Bearer", "expires_in": 300,
                                          "id_token": id_token(nonce, email, name, mode)}))


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
os.makedirs(DIR, exist_ok=True)
with open(os.path.join(DIR, "ready"), "w") as f:
    f.write(ISSUER + "\n")
server.serve_forever()
