"""Runs the data-driven metric cases in tests/data/metrics/*.test.

A case file is text:

    # comments
    @events                 Segment JSON Lines until the next @ line
    {...}
    @accounts               optional: an accounts CSV
    account_id,name,...
    @at 2026-09-30          the --at of the next expectation (date or instant)
    @columns logins_7d,...  the columns compared (account_id is always first)
    @expect                 expected rows, CSV, account_id first, until the next @
    acme,3                  (other accounts' rows are not compared...)
    @expect all             (...unless the block says all: then they must be exactly these)
    @at ...                 more expectations against the same data

Each @expect block is one check: "ok - FILE: at AT" or "not ok - ..." with
the difference. Every file gets a fresh database.

With --peer SCRIPT the metrics come from SCRIPT (bench/metrics_pandas.py, the
independent oracle) run on the case's events instead of from tend; cases with
an accounts CSV are skipped then (the peer reads only Segment messages).
usage: metrics_cases.py [--peer SCRIPT] TEND TMPDIR FILE..."""
import csv
import io
import os
import subprocess
import sys

import testdb

args = sys.argv[1:]
peer = None
if args[:1] == ["--peer"]:
    peer, args = args[1], args[2:]
tend, tmp, files = args[0], args[1], args[2:]


def metrics_csv(db, events, at):
    """The metrics CSV as of at, from tend or the peer; None and a message on failure."""
    if peer:
        cmd = [sys.executable, peer, "--at", at, events]
    else:
        cmd = [tend, "metrics", "--db", db, "--at", at, "--format", "csv"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return r.stdout, None


def parse(path):
    sections, cur = [], None
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if line.startswith("#") and cur is not None and cur[0] not in ("events", "accounts"):
            continue
        if line.startswith("@"):
            word, _, arg = line[1:].partition(" ")
            cur = [word, arg.strip(), []]
            sections.append(cur)
        elif cur is not None and (line.strip() or cur[0] in ("events", "accounts")):
            if cur[0] == "events" and line.startswith("#"):
                continue
            cur[2].append(line)
    return sections


def run_case(path):
    name = os.path.basename(path)
    db = testdb.db(name, fresh=True, tmp=tmp)
    sections = parse(path)
    events = [l for s in sections if s[0] == "events" for l in s[2]]
    accounts = [l for s in sections if s[0] == "accounts" for l in s[2]]
    if peer and accounts:
        return
    args = [tend, "import", "--db", db]
    if accounts:
        apath = os.path.join(tmp, name + ".csv")
        open(apath, "w").write("\n".join(accounts) + "\n")
        args += ["--accounts", apath]
    epath = os.path.join(tmp, name + ".jsonl")
    open(epath, "w").write("\n".join(events) + "\n")
    args.append(epath)
    if not peer:
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"not ok - {name}: import failed ({r.returncode})")
            print("    " + (r.stdout + r.stderr).replace("\n", "\n    "))
            return
    at, columns = None, None
    for kind, arg, lines in sections:
        if kind == "at":
            at = arg
        elif kind == "columns":
            columns = [c.strip() for c in arg.split(",") if c.strip()]
        elif kind == "expect":
            out, err = metrics_csv(db, epath, at)
            if out is None:
                print(f"not ok - {name}: at {at}: {'the peer' if peer else 'tend metrics'} failed: {err}")
                continue
            rows = list(csv.DictReader(io.StringIO(out)))
            cols = ["account_id"] + (columns or [c for c in rows[0].keys() if c != "account_id"])
            missing = [c for c in cols if rows and c not in rows[0]]
            if missing:
                print(f"not ok - {name}: at {at}: no such column {missing}")
                continue
            actual = [",".join(row[c] for c in cols) for row in rows]
            expected = [l.strip() for l in lines]
            if arg != "all":
                ids = {e.split(",")[0] for e in expected}
                actual = [a for a in actual if a.split(",")[0] in ids]
            label = f"{'peer: ' if peer else ''}{name}: at {at}: {','.join(cols[1:])}"
            if actual == expected:
                print(f"ok - {label}")
            else:
                print(f"not ok - {label}")
                print("    expected: " + " | ".join(expected))
                print("    actual:   " + " | ".join(actual))


for f in files:
    run_case(f)
