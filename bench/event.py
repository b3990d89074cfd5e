"""bench/event.py: the batches of bench/event (read that first).

usage: event.py PORT TOKEN WRITE_KEY SERVE_PID ACCOUNTS_FILE BATCHES TOUCHED DAY

Posts BATCHES batches, one at a time, each one /v1/batch request of TOUCHED
"Ticket Opened" events on DAY (YYYY-MM-DD), each event for another account
of ACCOUNTS_FILE (one external id a line; every batch takes the next
TOUCHED), so that the writer commits the batch at once and the scheduler
evaluates its TOUCHED accounts in one event-triggered evaluation. After each
post it waits (deadline 600 s) for tend_eval_runs_total{kind="event"} to grow
and no account to wait (tend_eval_events_pending 0), then reads the
evaluation's duration (tend_eval_duration_seconds{kind="event"}) and the CPU
time tend serve spent meanwhile (/proc/PID/stat: user + system, the ingest of
the batch included). Prints one line per batch:

    BATCH <tab> ACCOUNTS <tab> EVAL_WALL_MS <tab> SERVE_CPU_MS <tab> EVALUATIONS"""
import base64
import http.client
import json
import os
import sys
import time

port, token, key, pid, accounts_path, batches, touched, day = (
    int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6]),
    int(sys.argv[7]), sys.argv[8])
AUTH = "Basic " + base64.b64encode((key + ":").encode()).decode()
DEADLINE_S = 600.0
TICKS = os.sysconf("SC_CLK_TCK")


def request(method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def metrics():
    st, body = request("GET", "/metrics", headers={"Authorization": "Bearer " + token})
    if st != 200:
        raise SystemExit(f"event.py: /metrics answered {st}: {body[:200]}")
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def cpu_ms():
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 // TICKS  # utime, stime


def main():
    accounts = [line.strip() for line in open(accounts_path) if line.strip()]
    if len(accounts) < batches * touched:
        raise SystemExit(f"event.py: {len(accounts)} accounts, {batches} x {touched} needed")
    runs = metrics().get('tend_eval_runs_total{kind="event"}', 0)
    for b in range(batches):
        chosen = accounts[b * touched:(b + 1) * touched]
        body = json.dumps({"batch": [{
            "type": "track", "userId": "bench-agent", "event": "Ticket Opened",
            "timestamp": f"{day}T12:{b:02d}:{i % 60:02d}.{i // 60:03d}Z",
            "messageId": f"bench-event-{b}-{i}", "context": {"groupId": acc},
            "properties": {"ticket_id": f"bench-{b}-{i}"}} for i, acc in enumerate(chosen)]})
        cpu0 = cpu_ms()
        st, answer = request("POST", "/v1/batch", body,
                             {"Authorization": AUTH, "Content-Type": "application/json"})
        if st != 200:
            raise SystemExit(f"event.py: /v1/batch answered {st}: {answer[:300]}")
        deadline = time.monotonic() + DEADLINE_S
        while True:
            m = metrics()
            if m.get('tend_eval_runs_total{kind="event"}', 0) > runs and \
                    m.get("tend_eval_events_pending", 1) == 0:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"event.py: no event evaluation within {DEADLINE_S:.0f} s")
            time.sleep(0.05)
        cpu1 = cpu_ms()
        got = m['tend_eval_runs_total{kind="event"}'] - runs
        runs = m['tend_eval_runs_total{kind="event"}']
        if m.get("tend_eval_failures_total", 0):
            raise SystemExit("event.py: an evaluation failed (see serve.log)")
        wall_ms = m['tend_eval_duration_seconds{kind="event"}'] * 1000
        print(f"{b + 1}\t{len(chosen)}\t{wall_ms:.0f}\t{cpu1 - cpu0}\t{got:.0f}", flush=True)


main()
