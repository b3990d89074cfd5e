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
usage: metrics_cases.py TEND TMPDIR FILE..."""
import csv
import io
import os
import subprocess
import sys

tend, tmp, files = sys.argv[1], sys.argv[2], sys.argv[3:]


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
    db = os.path.join(tmp, name + ".db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    sections = parse(path)
    events = [l for s in sections if s[0] == "events" for l in s[2]]
    accounts = [l for s in sections if s[0] == "accounts" for l in s[2]]
    args = [tend, "import", "--db", db]
    if accounts:
        apath = os.path.join(tmp, name + ".csv")
        open(apath, "w").write("\n".join(accounts) + "\n")
        args += ["--accounts", apath]
    epath = os.path.join(tmp, name + ".jsonl")
    open(epath, "w").write("\n".join(events) + "\n")
    args.append(epath)
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
            r = subprocess.run([tend, "metrics", "--db", db, "--at", at, "--format", "csv"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"not ok - {name}: at {at}: tend metrics failed: {r.stderr.strip()}")
                continue
            rows = list(csv.DictReader(io.StringIO(r.stdout)))
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
            label = f"{name}: at {at}: {','.join(cols[1:])}"
            if actual == expected:
                print(f"ok - {label}")
            else:
                print(f"not ok - {label}")
                print("    expected: " + " | ".join(expected))
                print("    actual:   " + " | ".join(actual))


for f in files:
    run_case(f)
