"""Local stand-ins for Slack, webhook consumers and a mail server, for the
delivery tests (tests/integration/delivery.sh). They listen on 127.0.0.1 only.

usage:
  receiver.py http --port-file F --log L.jsonl [--script S.json] [--port P]
  receiver.py smtp --port-file F --log L.jsonl [--script S.json] [--port P]

Both pick a free port (or listen on P: a receiver stopped and started again
on its old port plays a destination that was down and is back), write it to
F (atomically, once listening), append one JSON line per request to L
(flushed and fsynced before answering) and exit cleanly on SIGTERM or SIGINT. The script is re-read when its file changes
(mtime, size or inode) or on SIGHUP; a new script starts its lists afresh.

http: every request is logged as
  {"t": time received, "method", "path", "headers": {...}, "body": text,
   "status": what was answered}
("incomplete": true when the client went away before sending its whole body;
"body_b64": the exact bytes when the body is not valid UTF-8).
Script: {"/path": [ANSWER, ...], "default_delay_ms": N, "batch": N}; with
"batch", requests are held until N of them wait, then answered together. A
path's answers are
used in order, then (and for paths not in the script) 200 "ok". An ANSWER is
{"status": 500, "headers": {"Retry-After": "3"}, "body": "invalid_payload",
 "delay_ms": 50, "drop": true (close the connection without answering),
 "until_file": PATH (answer only once PATH exists, at most 120 s: an answer the
 test releases; PATH.waiting is created once the request has been read whole)};
every member is optional (status 200, body "ok" for 2xx, else "error").
The path matched is the request's path without its query string. A delay is
in milliseconds, or [MIN, MAX] for a random one each time.

smtp: an aiosmtpd server without STARTTLS or AUTH. Script:
  {"rcpt": {"addr@x": ["450 4.2.0 mailbox busy", "250 OK"]},
   "data": {"addr@x": ["451 4.3.0 try later", "550 5.7.1 rejected"]},
   "default_delay_ms": N}
answers used in order per recipient at the RCPT or DATA stage (an answer may
also be {"status": "451 ...", "delay_ms": N}), then "250 OK". Every message
reaching DATA is logged, accepted or not, before the delay (a message
received whole counts even when the client leaves before the answer):
  {"t", "stage": "data", "mail_from", "rcpt_tos", "data": the raw message as
   text, "status"}
and every rejected RCPT as {"t", "stage": "rcpt", "mail_from", "rcpt_tos":
[address], "status"}. The delay applies before answering DATA (and RCPT when
the answer says so)."""
import argparse
import base64
import json
import os
import random
import signal
import socket
import sys
import threading
import time

_barriers = {}
_barriers_lock = threading.Lock()


def batch_wait(n):
    """Holds a request until n requests wait, then lets them all answer at
    once (script "batch": N): answers that reach the client together."""
    if not isinstance(n, int) or n < 2:
        return
    with _barriers_lock:
        b = _barriers.get(n)
        if b is None or b.broken:
            b = _barriers[n] = threading.Barrier(n)
    try:
        b.wait(timeout=5)
    except threading.BrokenBarrierError:
        pass


class Log:
    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8")
        self.lock = threading.Lock()

    def write(self, rec):
        line = json.dumps(rec, ensure_ascii=False) + "\n"
        with self.lock:
            self.f.write(line)
            self.f.flush()
            os.fsync(self.f.fileno())

    def close(self):
        with self.lock:
            self.f.close()


class Script:
    """The answers to give, re-read when the file changes or on SIGHUP."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.sig = None
        self.data = {}
        self.used = {}  # (section, name) -> how many answers were used
        self.force = False
        self._reload()

    def _stamp(self):
        try:
            st = os.stat(self.path)
            return (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            return None

    def _reload(self):
        if not self.path:
            return
        stamp = self._stamp()
        if stamp == self.sig and not self.force:
            return
        self.force = False
        data = {}
        if stamp is not None:
            try:
                with open(self.path, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as e:
                # Half-written file: keep the old script, try again next time.
                print(f"receiver: cannot read script {self.path}: {e}", file=sys.stderr)
                return
        self.sig = stamp
        self.data = data if isinstance(data, dict) else {}
        self.used = {}

    def hup(self, *_):
        self.force = True

    def next(self, section, name):
        """The next answer for name (in section, or top level when None)."""
        with self.lock:
            self._reload()
            table = self.data if section is None else self.data.get(section) or {}
            answers = table.get(name)
            if not isinstance(answers, list):
                return None
            i = self.used.get((section, name), 0)
            if i >= len(answers):
                return None
            self.used[(section, name)] = i + 1
            return answers[i]

    def get(self, key, default=None):
        with self.lock:
            self._reload()
            return self.data.get(key, default)


def delay_s(v):
    """A delay in ms (a number, or [min, max] for a random one) as seconds."""
    if isinstance(v, list) and len(v) == 2:
        return random.uniform(float(v[0]), float(v[1])) / 1000.0
    try:
        return max(0.0, float(v or 0)) / 1000.0
    except (TypeError, ValueError):
        return 0.0


def write_port(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def wait_for_signal(stop):
    """Blocks the main thread until SIGTERM or SIGINT."""
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.2)


# ---- http ------------------------------------------------------------------------

def run_http(args):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    log = Log(args.log)
    script = Script(args.script)
    signal.signal(signal.SIGHUP, script.hup)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "tend-test-receiver/1"

        def log_message(self, fmt, *a):  # quiet
            pass

        def _body(self):
            """The request body as bytes, and whether it arrived whole."""
            te = (self.headers.get("Transfer-Encoding") or "").lower()
            if "chunked" in te:
                out = b""
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return out, False
                    try:
                        n = int(line.split(b";")[0].strip() or b"0", 16)
                    except ValueError:
                        return out, False
                    if n == 0:
                        while True:  # trailers
                            t = self.rfile.readline()
                            if not t:
                                return out, False
                            if t in (b"\r\n", b"\n"):
                                return out, True
                    chunk = self.rfile.read(n)
                    out += chunk
                    if len(chunk) < n:
                        return out, False
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n else b""
            return data, len(data) == n

        def _handle(self):
            t = time.time()
            path = self.path.split("?", 1)[0]
            try:
                body, whole = self._body()
            except (OSError, ValueError):
                body, whole = b"", False
            rec = {"t": t, "method": self.command, "path": self.path,
                   "headers": {k: v for k, v in self.headers.items()},
                   "body": body.decode("utf-8", "replace")}
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                rec["body_b64"] = base64.b64encode(body).decode("ascii")
            if not whole:
                rec["incomplete"] = True
                rec["status"] = None
                log.write(rec)
                self.close_connection = True
                return
            ans = script.next(None, path)
            if not isinstance(ans, dict):
                ans = {}
            delay = delay_s(ans.get("delay_ms", script.get("default_delay_ms", 0)))
            if delay:
                time.sleep(delay)
            release = ans.get("until_file")
            if release:
                with open(release + ".waiting", "w"):
                    pass
                end = time.time() + 120
                while not os.path.exists(release) and time.time() < end:
                    time.sleep(0.02)
            batch_wait(script.get("batch", 0))
            if ans.get("drop"):
                rec["status"] = "dropped"
                log.write(rec)
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            status = int(ans.get("status", 200))
            text = ans.get("body", "ok" if 200 <= status < 300 else "error")
            out = str(text).encode("utf-8")
            rec["status"] = status
            log.write(rec)
            try:
                self.send_response(status)
                for k, v in (ans.get("headers") or {}).items():
                    self.send_header(k, str(v))
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)
                self.wfile.flush()
            except OSError:
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
                super().handle_error(request, client_address)

    httpd = Server(("127.0.0.1", args.port), Handler)
    port = httpd.server_address[1]
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    write_port(args.port_file, port)
    stop = threading.Event()
    wait_for_signal(stop)
    httpd.shutdown()
    httpd.server_close()
    log.close()


# ---- smtp ------------------------------------------------------------------------

def run_smtp(args):
    import asyncio

    from aiosmtpd.controller import Controller

    log = Log(args.log)
    script = Script(args.script)
    signal.signal(signal.SIGHUP, script.hup)

    def answer(stage, addr):
        a = script.next(stage, addr)
        if a is None:
            return "250 OK", None
        if isinstance(a, dict):
            return str(a.get("status", "250 OK")), a.get("delay_ms")
        return str(a), None

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            t = time.time()
            status, delay = answer("rcpt", address)
            if status.startswith("2"):
                envelope.rcpt_tos.append(address)
            else:
                log.write({"t": t, "stage": "rcpt", "mail_from": envelope.mail_from,
                           "rcpt_tos": [address], "status": status})
            wait = delay_s(delay)
            if wait:
                await asyncio.sleep(wait)
            return status

        async def handle_DATA(self, server, session, envelope):
            t = time.time()
            status, delay = None, None
            for r in envelope.rcpt_tos:
                a = script.next("data", r)
                if a is not None:
                    if isinstance(a, dict):
                        status, delay = str(a.get("status", "250 OK")), a.get("delay_ms")
                    else:
                        status = str(a)
                    break
            status = status or "250 OK"
            if delay is None:
                delay = script.get("default_delay_ms", 0)
            content = envelope.original_content or envelope.content or b""
            if isinstance(content, bytes):
                content = content.decode("utf-8", "replace")
            # Logged before the delay: aiosmtpd cancels this coroutine when
            # the client goes away, and a message received whole counts as
            # arrived (as it may for a real server) even if the answer is lost.
            log.write({"t": t, "stage": "data", "mail_from": envelope.mail_from,
                       "rcpt_tos": list(envelope.rcpt_tos), "data": content, "status": status,
                       "mail_options": list(envelope.mail_options or [])})
            wait = delay_s(delay)
            if wait:
                await asyncio.sleep(wait)
            return status

    # A free port: bind to 0, note it, release it for aiosmtpd (a short race,
    # retried).
    last = None
    for _ in range(1 if args.port else 20):
        port = args.port
        if not port:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
        ctl = Controller(Handler(), hostname="127.0.0.1", port=port, ready_timeout=10,
                         data_size_limit=10 * 1024 * 1024, enable_SMTPUTF8=True)
        try:
            ctl.start()
            break
        except Exception as e:  # port taken meanwhile
            last = e
            try:
                ctl.stop()
            except Exception:
                pass
    else:
        raise SystemExit(f"receiver: cannot start the SMTP server: {last}")
    write_port(args.port_file, port)
    stop = threading.Event()
    wait_for_signal(stop)
    ctl.stop()
    log.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("kind", choices=["http", "smtp"])
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--script")
    p.add_argument("--verbose", action="store_true", help="aiosmtpd's session log on stderr")
    p.add_argument("--port", type=int, default=0,
                   help="listen on this port instead of a free one (to come back on the same port)")
    args = p.parse_args()
    if args.verbose:
        import logging
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                            format="%(asctime)s %(name)s %(message)s")
    (run_http if args.kind == "http" else run_smtp)(args)


if __name__ == "__main__":
    main()
