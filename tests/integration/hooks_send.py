#!/usr/bin/env python3
"""hooks_send.py: the providers' side of tests/integration/hooks.sh.

  send    rewrites a recorded payload of tests/data/hooks/ (fresh ids and
          times on tend's test clock, fields set with --set PATH=JSON),
          signs it as Stripe, Zendesk or HubSpot does (Python's hmac, apart
          from tend's C) and POSTs it; prints "STATUS MS BODY".
  events  the stored events of a database with their account, as lines
          "account|kind|name|subject|props" (props as sorted JSON).

The signatures: Stripe "t=SECONDS,v1=HEX(HMAC(secret, t + '.' + body))";
Zendesk base64(HMAC(secret, timestamp + body)) with the ISO timestamp in
X-Zendesk-Webhook-Signature-Timestamp; HubSpot v3
base64(HMAC(secret, 'POST' + url + body + timestamp_ms)).
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request

import testdb


def now_s():
    """tend's clock: the real one shifted by TEND_TEST_CLOCK_OFFSET_S."""
    return time.time() + int(os.environ.get("TEND_TEST_CLOCK_OFFSET_S", "0") or 0)


def set_path(obj, path, value):
    keys = path.split(".")
    for k in keys[:-1]:
        obj = obj[int(k)] if isinstance(obj, list) else obj.setdefault(k, {})
    last = keys[-1]
    if isinstance(obj, list):
        obj[int(last)] = value
    else:
        obj[last] = value


def send(a):
    data = json.load(open(a.file, encoding="utf-8"))
    t = now_s() + a.skew
    if a.provider == "stripe":
        data["id"] = a.event_id or data["id"]
        data["created"] = int(t)
    elif a.provider == "zendesk":
        data["id"] = a.event_id or data["id"]
        data["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    else:
        for i, e in enumerate(data):
            e["eventId"] = int(a.event_id or e["eventId"]) + i * (1 if a.event_id else 0)
            e["occurredAt"] = int(t * 1000) + i
    for s in a.set or []:
        path, _, raw = s.partition("=")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        set_path(data, path, value)
    body = json.dumps(data).encode()
    if a.pad:
        body = body + b" " * a.pad
    secret = a.secret.encode()
    headers = {"Content-Type": "application/json"}
    if a.provider == "stripe":
        ts = str(int(t))
        sig = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers["Stripe-Signature"] = "t=%s,v1=%s,v0=%s" % (ts, sig, "0" * 64)
    elif a.provider == "zendesk":
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        sig = base64.b64encode(hmac.new(secret, ts.encode() + body, hashlib.sha256).digest())
        headers["X-Zendesk-Webhook-Signature"] = sig.decode()
        headers["X-Zendesk-Webhook-Signature-Timestamp"] = ts
    else:
        ts = str(int(t * 1000))
        signed_url = a.signed_url or (a.url + "/hooks/hubspot")
        msg = b"POST" + signed_url.encode() + body + ts.encode()
        sig = base64.b64encode(hmac.new(secret, msg, hashlib.sha256).digest())
        headers["X-HubSpot-Signature-v3"] = sig.decode()
        headers["X-HubSpot-Request-Timestamp"] = ts
    for h in a.drop or []:
        headers.pop(h, None)
    if a.tamper:
        body = body.replace(b"usd", b"eur", 1) if b"usd" in body else body + b" "
    rq = urllib.request.Request(a.url + "/hooks/" + a.provider, body, headers, method="POST")
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(rq, timeout=60) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    ms = (time.monotonic() - t0) * 1000
    print(status, "%.1f" % ms, text.replace("\n", " "))


def headers_only(a):
    """Sends a request line and headers declaring a body of --length bytes,
    and no body: prints the status line tend answers with, or "none"."""
    import socket
    host, port = a.url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=a.timeout)
    extra = "".join("%s\r\n" % h for h in a.header or [])
    s.sendall(("POST /hooks/%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n%s\r\n" % (a.provider, host, a.length, extra)).encode())
    t0 = time.monotonic()
    try:
        line = s.recv(4096).split(b"\r\n")[0].decode()
    except socket.timeout:
        line = "none"
    print("%s|%.1f" % (line or "none", (time.monotonic() - t0) * 1000))


KINDS = {3: "Ticket Opened", 4: "Ticket Closed", 5: "Invoice Issued", 6: "Invoice Paid",
         7: "Payment Failed", 8: "Payment Method Updated", 15: "Account Churned"}


def events(a):
    c = testdb.connect(a.db)
    rows = c.execute(
        "SELECT a.external_id, e.kind, n.name, e.subject, e.props FROM events e "
        "JOIN accounts a ON a.id = e.account_id LEFT JOIN names n ON n.id = e.name_id "
        "WHERE e.kind < 64 ORDER BY e.ts_ms, e.kind").fetchall()
    for acc, kind, name, subject, props in rows:
        if isinstance(props, str):
            props = json.loads(props) if props else {}
        name = KINDS.get(int(kind), name or "")
        print("%s|%s|%s|%s" % (acc, name, subject or "", json.dumps(props, sort_keys=True)))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--url", required=True)
    s.add_argument("--provider", required=True, choices=["stripe", "zendesk", "hubspot"])
    s.add_argument("--file", required=True)
    s.add_argument("--secret", required=True)
    s.add_argument("--event-id")
    s.add_argument("--set", action="append")
    s.add_argument("--skew", type=float, default=0.0, help="seconds added to the signed time")
    s.add_argument("--signed-url", help="HubSpot: the URL signed (default URL/hooks/hubspot)")
    s.add_argument("--drop", action="append", help="a header not to send")
    s.add_argument("--tamper", action="store_true", help="change the body after signing")
    s.add_argument("--pad", type=int, default=0, help="spaces appended to the body (signed)")
    h = sub.add_parser("headers-only")
    h.add_argument("--url", required=True)
    h.add_argument("--provider", required=True)
    h.add_argument("--length", type=int, default=1 << 20)
    h.add_argument("--header", action="append")
    h.add_argument("--timeout", type=float, default=20.0)
    e = sub.add_parser("events")
    e.add_argument("--db", required=True)
    a = p.parse_args()
    {"send": send, "events": events, "headers-only": headers_only}[a.cmd](a)


if __name__ == "__main__":
    main()
