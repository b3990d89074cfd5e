"""Streams Segment batches to tend serve from several threads until the
server goes away (its connection fails) or SECONDS pass (a bound for a broken
case, not a duration to measure), and records every message whose request got
a 200.

usage: stream_client.py PORT KEY ACKED_FILE SECONDS RUN_ID

Each message carries properties.seq = "RUN_ID-THREAD-N" and a unique
messageId. The acked seqs are appended to ACKED_FILE (one per line) only
after the 200 arrived, so the file lists what tend promised to keep.
Connection errors (the server being killed) end the thread quietly."""
import base64
import http.client
import json
import sys
import threading
import time

port, key, acked_path, seconds, run_id = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                          float(sys.argv[4]), sys.argv[5])
auth = "Basic " + base64.b64encode((key + ":").encode()).decode()
lock = threading.Lock()
acked = open(acked_path, "a")
stop_at = time.time() + seconds


def worker(tid):
    n = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.time() < stop_at:
        seqs = []
        batch = []
        for _ in range(25):
            seq = f"{run_id}-{tid}-{n}"
            n += 1
            seqs.append(seq)
            batch.append({"type": "track", "userId": f"stream-u{tid}", "event": "Stream Event",
                          "messageId": "m-" + seq, "timestamp": "2026-10-01T00:00:00Z",
                          "context": {"groupId": "stream-acct"}, "properties": {"seq": seq}})
        body = json.dumps({"batch": batch})
        try:
            conn.request("POST", "/v1/batch", body,
                         {"Authorization": auth, "Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
        except OSError:
            return
        if resp.status == 200:
            with lock:
                acked.write("\n".join(seqs) + "\n")
                acked.flush()


threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
acked.close()
