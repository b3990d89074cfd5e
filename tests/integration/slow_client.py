"""Slow HTTP clients (slowloris) for tests/integration/security_http.sh.

Holds CONNECTIONS connections to 127.0.0.1:PORT from the source addresses
BASE, BASE+1, ... (ADDRESSES of them, round robin), for DURATION seconds. Each
connection starts a request and then trickles it, one piece every INTERVAL
seconds, never finishing:
  headers: "POST /v1/batch HTTP/1.1" and then one header line at a time;
  body:    complete headers with a Content-Length, then one body byte at a time.
When the server closes a connection, the client opens another at once, so the
attack keeps up its count. It measures what the server does to it:
  open       connections open now;
  held_max   the most connections open for more than a second at once;
  lifetimes  how long the server let each (closed) connection live, by mode;
  age_max    the oldest connection seen open (a server without deadlines lets
             it reach DURATION);
  refused    connections the server closed within half a second of opening.
A status line (JSON) is rewritten to STATUS_FILE every half second and the
final figures are printed to stdout as JSON.

Usage: slow_client.py PORT STATUS_FILE [--connections N] [--addresses N]
       [--base 127.0.0.2] [--interval S] [--duration S] [--mode headers|body]
"""

import argparse
import asyncio
import ipaddress
import json
import os
import resource
import time

p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("status")
p.add_argument("--connections", type=int, default=1000)
p.add_argument("--addresses", type=int, default=32)
p.add_argument("--base", default="127.0.0.2")
p.add_argument("--interval", type=float, default=1.0)
p.add_argument("--duration", type=float, default=45.0)
p.add_argument("--mode", choices=["headers", "body"], default="headers")
a = p.parse_args()

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = a.connections + 256
if soft != resource.RLIM_INFINITY and soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

base = ipaddress.ip_address(a.base)
start = time.monotonic()
stats = {"open": 0, "opened": 0, "held_max": 0, "age_max": 0.0, "refused": 0, "cut": 0,
         "errors": 0, "lifetimes": []}
opened_at = {}  # id -> monotonic time the connection opened


def request_start():
    if a.mode == "headers":
        return b"POST /v1/batch HTTP/1.1\r\nHost: tend\r\nContent-Type: application/json\r\n"
    return (b"POST /v1/batch HTTP/1.1\r\nHost: tend\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n{")


def piece(n):
    return b"X-Slow-%d: x\r\n" % n if a.mode == "headers" else b" "


async def hold(k):
    src = str(base + (k % a.addresses))
    while time.monotonic() - start < a.duration:
        try:
            r, w = await asyncio.open_connection("127.0.0.1", a.port, local_addr=(src, 0))
        except OSError:
            stats["errors"] += 1
            await asyncio.sleep(0.2)
            continue
        t0 = time.monotonic()
        stats["open"] += 1
        stats["opened"] += 1
        opened_at[k] = t0
        closed_by_server = False
        try:
            w.write(request_start())
            await w.drain()
            n = 0
            while time.monotonic() - start < a.duration:
                try:
                    data = await asyncio.wait_for(r.read(4096), timeout=a.interval)
                except asyncio.TimeoutError:
                    n += 1
                    w.write(piece(n))
                    await w.drain()
                    continue
                if not data:  # the server closed it
                    closed_by_server = True
                    break
                # An answer (e.g. 431, 503): keep reading until it closes.
        except (ConnectionError, OSError):
            closed_by_server = True
        finally:
            life = time.monotonic() - t0
            stats["open"] -= 1
            opened_at.pop(k, None)
            w.close()
        if closed_by_server:
            if life < 0.5:
                stats["refused"] += 1
                await asyncio.sleep(0.2)
            else:
                stats["cut"] += 1
                stats["lifetimes"].append(life)


def status():
    now = time.monotonic()
    held = sum(1 for t in opened_at.values() if now - t > 1.0)
    stats["held_max"] = max(stats["held_max"], held)
    if opened_at:
        stats["age_max"] = max(stats["age_max"], now - min(opened_at.values()))
    lt = stats["lifetimes"]
    return {"t": round(now - start, 1), "open": stats["open"], "held": held,
            "held_max": stats["held_max"], "age_max": round(stats["age_max"], 1),
            "opened": stats["opened"],
            "refused": stats["refused"], "cut": stats["cut"], "errors": stats["errors"],
            "life_max": round(max(lt), 1) if lt else 0,
            "life_min": round(min(lt), 1) if lt else 0}


async def report():
    while time.monotonic() - start < a.duration + 1:
        tmp = a.status + ".tmp"
        with open(tmp, "w") as f:
            json.dump(status(), f)
        os.replace(tmp, a.status)
        await asyncio.sleep(0.5)


async def main():
    tasks = [asyncio.create_task(hold(k)) for k in range(a.connections)]
    rep = asyncio.create_task(report())
    await asyncio.gather(*tasks)
    await rep
    print(json.dumps(status()))


asyncio.run(main())
