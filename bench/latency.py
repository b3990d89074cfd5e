"""bench/latency.py: the sampling half of bench/latency (read that first).

usage: latency.py PORT TOKEN WRITE_KEY RECEIVER_LOG ACCOUNTS_FILE SAMPLES

Posts one NPS detractor (score 2) at a time to tend serve's /v1/track, each
for another account of ACCOUNTS_FILE (one external id a line), and times the
Slack message of its nps_response CTA at the receiver (receiver.py logs the
time each request reached it). Between samples it waits until the outbox is
empty and the webhook's pacing interval (slack_interval_seconds, 1 s) has
passed since the last message, so that no sample waits behind another's
message. Prints one line per sample to stdout:

    ACCOUNT <tab> FROM_200_S <tab> FROM_SEND_S

FROM_200_S runs from the moment the 200 of /v1/track was read (the event is
stored: the accept) to the moment the webhook call reached the receiver;
FROM_SEND_S from the moment the request was sent. A sample without a message
within 60 s prints "-" for both (bench/latency reports how many)."""
import base64
import http.client
import json
import sys
import time
import urllib.parse

port, token, key, log_path, accounts_path, samples = (
    int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
AUTH = "Basic " + base64.b64encode((key + ":").encode()).decode()
PACING_S = 1.0
DEADLINE_S = 60.0


def request(method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def outbox_busy():
    """Rows pending or sending, from /metrics."""
    st, body = request("GET", "/metrics", headers={"Authorization": "Bearer " + token})
    if st != 200:
        raise SystemExit(f"latency.py: /metrics answered {st}: {body[:200]}")
    n = 0.0
    for line in body.splitlines():
        if line.startswith('tend_outbox_rows{status="pending"}') or \
                line.startswith('tend_outbox_rows{status="sending"}'):
            n += float(line.rsplit(" ", 1)[1])
    return n


class Receiver:
    """Reads the receiver's log as it grows."""

    def __init__(self, path):
        self.f = open(path, encoding="utf-8")
        self.partial = ""
        self.last_t = 0.0

    def new(self):
        out = []
        chunk = self.f.read()
        if not chunk:
            return out
        text = self.partial + chunk
        lines = text.split("\n")
        self.partial = lines.pop()
        for line in lines:
            if line.strip():
                rec = json.loads(line)
                self.last_t = max(self.last_t, rec["t"])
                out.append(rec)
        return out


def wait_quiet(rx):
    """Until no row is pending or sending and the pacing interval is over."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        rx.new()
        if outbox_busy() == 0 and time.time() >= rx.last_t + PACING_S + 0.1:
            return
        time.sleep(0.05)
    raise SystemExit("latency.py: the outbox did not empty within 60 s")


def main():
    accounts = [a.strip() for a in open(accounts_path, encoding="utf-8") if a.strip()]
    if len(accounts) < samples:
        raise SystemExit(f"latency.py: {len(accounts)} candidate accounts for {samples} samples")
    rx = Receiver(log_path)
    run = str(int(time.time()))
    for i, acct in enumerate(accounts[:samples]):
        wait_quiet(rx)
        rx.new()
        link = "/accounts/" + urllib.parse.quote(acct, safe="") + "|"
        body = json.dumps({"userId": f"bench-nps-{run}-{i}", "event": "NPS Survey Responded",
                           "properties": {"score": 2, "comment": "bench/latency"},
                           "context": {"groupId": acct}, "messageId": f"bench-nps-{run}-{i}"})
        t_send = time.time()
        st, answer = request("POST", "/v1/track", body,
                             {"Authorization": AUTH, "Content-Type": "application/json"})
        t_200 = time.time()
        if st != 200 or '"accepted":1' not in answer:
            raise SystemExit(f"latency.py: /v1/track answered {st}: {answer[:300]}")
        got = None
        deadline = time.monotonic() + DEADLINE_S
        while got is None and time.monotonic() < deadline:
            for rec in rx.new():
                b = rec.get("body") or ""
                if got is None and "Detractor" in b and link in b:
                    got = rec["t"]
            if got is None:
                time.sleep(0.002)
        if got is None:
            print(f"{acct}\t-\t-", flush=True)
        else:
            print(f"{acct}\t{got - t_200:.4f}\t{got - t_send:.4f}", flush=True)


main()
