#!/usr/bin/python3
"""csv_diff.py: compares two metric CSVs cell by cell (exact strings).

  csv_diff.py A.csv B.csv [--names A,B] [--show 20]

Rows are matched by their first column (account_id), columns by the header.
Prints "equal: R rows x C columns" and exits 0, or the number of differing
cells (a missing row or column counts each of its cells), the first --show
differences with account and column, and exits 1.
"""
import argparse
import csv
import sys


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return [], {}
    header, body = rows[0], rows[1:]
    return header, {r[0]: r for r in body}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--names", default="tend,pandas")
    p.add_argument("--show", type=int, default=20)
    args = p.parse_args()
    na, nb = args.names.split(",")
    ha, ra = load(args.a)
    hb, rb = load(args.b)
    diffs = []
    if ha != hb:
        diffs.append(("(header)", "", ",".join(ha), ",".join(hb)))
    cols = [c for c in ha if c in hb][1:]
    ia = {c: i for i, c in enumerate(ha)}
    ib = {c: i for i, c in enumerate(hb)}
    ncells = 0
    for acct in sorted(set(ra) | set(rb)):
        x, y = ra.get(acct), rb.get(acct)
        for c in cols:
            ncells += 1
            vx = x[ia[c]] if x is not None and ia[c] < len(x) else "(no row)"
            vy = y[ib[c]] if y is not None and ib[c] < len(y) else "(no row)"
            if vx != vy:
                diffs.append((acct, c, vx, vy))
    order_a, order_b = list(ra), list(rb)
    if not diffs and order_a != order_b:
        diffs.append(("(row order)", "", " ".join(order_a[:5]), " ".join(order_b[:5])))
    if not diffs:
        print(f"equal: {len(ra)} rows x {len(cols)} columns")
        return 0
    print(f"DIFFERENT: {len(diffs)} of {ncells} cells differ ({len(ra)} rows in {na}, {len(rb)} in {nb})")
    for acct, c, vx, vy in diffs[:args.show]:
        print(f"  {acct} {c}: {na}={vx!r} {nb}={vy!r}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
