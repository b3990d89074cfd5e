#!/usr/bin/env python3
"""analyze_check.py: the oracle of tests/integration/analyze_table.sh.

  analyze_check.py generate OUT.csv KIND   writes a table with a known model
                                           (KIND: main, collinear, separation)
  analyze_check.py compare TABLE OUTCOME TEND.json [A,B,...]
                                           rebuilds the design from the table on
                                           its own (pandas), fits it with statsmodels
                                           and checks tend's JSON against it

The design is built here independently of tend, following the documented rules
(stats/table.h): values trimmed; a column is numeric when every non-blank value is
a plain decimal number; text columns one-hot against their most frequent level
(ties: the first in sorted order), other levels sorted; text columns that are ids
(one value per row), have over 100 levels or no value are skipped; rows with a
blank in the outcome or a used column dropped. tend's coefficient names must
equal this design's, less the columns tend reports as dropped, and those must be
exactly the ones that add nothing to the rank of the design.
"""
import json
import re
import sys

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.metrics import roc_auc_score

NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
ONE = {"1", "yes", "true", "churned"}
ZERO = {"0", "no", "false", "renewed"}
MAX_LEVELS = 100


def generate(path, kind):
    rng = np.random.default_rng(20240611)
    n = 3000
    age = np.round(rng.normal(40, 10, n), 1)
    mrr = np.round(rng.lognormal(5, 0.6, n), 2)
    seats = rng.poisson(12, n)
    plan = rng.choice(["Basic", "Pro", "Enterprise"], n, p=[0.3, 0.5, 0.2])
    region = rng.choice(['North, East', 'South "Coast"', "West"], n, p=[0.4, 0.35, 0.25])
    touched = rng.choice(["yes", "no"], n, p=[0.45, 0.55])
    eta = (-0.5 + 0.03 * (age - 40) - 0.002 * mrr + 0.04 * seats + 0.8 * (plan == "Basic")
           - 0.5 * (plan == "Enterprise") + 0.4 * (region == "West") - 0.7 * (touched == "yes"))
    churned = rng.random(n) < 1 / (1 + np.exp(-eta))
    df = pd.DataFrame({
        "account_id": ["acct-%05d" % i for i in range(n)],
        "age": age,
        "mrr": mrr.astype(object),
        "seats": seats,
        "plan": plan,
        "region": region.astype(object),
        "csm_touch": touched,
        "outcome": np.where(churned, "churned", "renewed").astype(object),
    })
    # Blanks to drop, spread over columns; case variants of the outcome.
    df.loc[rng.choice(n, 40, replace=False), "mrr"] = ""
    df.loc[rng.choice(n, 25, replace=False), "region"] = "  "
    df.loc[rng.choice(n, 10, replace=False), "outcome"] = ""
    up = rng.choice(n, 100, replace=False)
    df.loc[up, "outcome"] = df.loc[up, "outcome"].str.upper()
    if kind == "collinear":
        # Exactly 2 age + 3: it adds nothing to age and must be dropped.
        df.insert(2, "age_score", np.round(2 * age + 3, 1))
    if kind == "separation":
        # 1 on some churned rows only: alone it predicts churn where it is 1.
        cancel = np.zeros(n, dtype=int)
        cancel[np.flatnonzero(churned)[::3]] = 1
        df["cancel_requested"] = cancel
    df.to_csv(path, index=False)


def outcome_value(s):
    low = s.lower()
    if low in ONE:
        return 1.0
    if low in ZERO:
        return 0.0
    if NUMBER.match(s) and float(s) in (0.0, 1.0):
        return float(s)
    raise ValueError("bad outcome %r" % s)


def design(path, outcome, columns):
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = raw.apply(lambda c: c.str.strip(" \t"))
    factors = columns if columns else [c for c in raw.columns if c != outcome]
    blank = raw == ""
    skipped, kinds = [], {}
    for c in factors:
        vals = raw.loc[~blank[c], c]
        if len(vals) and vals.map(lambda s: bool(NUMBER.match(s))).all():
            kinds[c] = "numeric"
            continue
        distinct = vals.nunique()
        if len(vals) == 0 or (distinct == len(vals) and len(vals) > 1) or distinct > MAX_LEVELS:
            skipped.append(c)
        else:
            kinds[c] = "text"
    used = [c for c in factors if c in kinds]
    keep = ~blank[outcome]
    for c in used:
        keep &= ~blank[c]
    df = raw[keep]
    y = df[outcome].map(outcome_value).to_numpy()
    cols, names = [], []
    for c in used:
        if kinds[c] == "numeric":
            cols.append(df[c].astype(float).to_numpy())
            names.append(c)
            continue
        counts = df[c].value_counts()
        levels = sorted(counts.index)
        if len(levels) < 2:
            skipped.append(c)
            continue
        ref = sorted([v for v in levels if counts[v] == counts.max()])[0]
        for v in levels:
            if v != ref:
                cols.append((df[c] == v).astype(float).to_numpy())
                names.append("%s=%s" % (c, v))
    x = np.column_stack(cols) if cols else np.zeros((len(df), 0))
    return {"rows_read": len(raw), "n": len(df), "x": x, "y": y, "names": names,
            "skipped": skipped}


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(b), 1e-300)


def compare(path, outcome, tend_json, columns):
    t = json.load(open(tend_json))
    d = design(path, outcome, columns.split(",") if columns else None)
    problems = []

    def expect(cond, msg):
        if not cond:
            problems.append(msg)

    expect(t["n"] == d["n"], "n: tend %s, pandas %s" % (t["n"], d["n"]))
    expect(t["rows_read"] == d["rows_read"], "rows_read %s vs %s" % (t["rows_read"], d["rows_read"]))
    dropped = t["dropped"]
    tend_skipped = [c for c in dropped if c not in d["names"]]
    expect(sorted(tend_skipped) == sorted(d["skipped"]),
           "skipped columns: tend %s, pandas %s" % (tend_skipped, d["skipped"]))
    # The design columns tend dropped must add nothing to the rank, and what is
    # left must have full rank: dropped exactly what had to go.
    names = d["names"]
    keep_idx = [i for i, c in enumerate(names) if c not in dropped]
    x = d["x"]
    std = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1)
    const = np.ones((len(x), 1))
    kept = np.hstack([const, std[:, keep_idx]])
    expect(np.linalg.matrix_rank(kept) == kept.shape[1], "the kept columns are not of full rank")
    for i, c in enumerate(names):
        if c in dropped:
            with_it = np.hstack([kept, std[:, [i]]])
            expect(np.linalg.matrix_rank(with_it) == kept.shape[1],
                   "%s was dropped but adds to the rank" % c)
    expected_names = ["(intercept)"] + [names[i] for i in keep_idx]
    got_names = [c["name"] for c in t["coefficients"]]
    expect(got_names == expected_names,
           "coefficient names:\n  tend   %s\n  pandas %s" % (got_names, expected_names))
    if problems:
        return problems

    xs = sm.add_constant(x[:, keep_idx], has_constant="add")
    res = sm.Logit(d["y"], xs).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    params, bse, pvalues = np.asarray(res.params), np.asarray(res.bse), np.asarray(res.pvalues)
    ci = np.asarray(res.conf_int())
    worst = {"coef": 0.0, "se": 0.0, "p": 0.0}
    for i, c in enumerate(t["coefficients"]):
        name = c["name"]
        for key, ref, rel in (("coef", params[i], 1e-4), ("se", bse[i], 1e-4),
                              ("z", params[i] / bse[i], 1e-4), ("ci_low", ci[i][0], 1e-4),
                              ("ci_high", ci[i][1], 1e-4),
                              ("odds_ratio", np.exp(params[i]), 1e-4)):
            if key in worst:
                worst[key] = max(worst[key], abs(c[key] - ref) / max(abs(ref), 1e-300))
            expect(close(c[key], ref, rel), "%s %s: tend %r, statsmodels %r" % (name, key, c[key], ref))
        worst["p"] = max(worst["p"], abs(c["p"] - pvalues[i]))
        expect(abs(c["p"] - pvalues[i]) <= 1e-4,
               "%s p: tend %r, statsmodels %r" % (name, c["p"], pvalues[i]))
    auc = roc_auc_score(d["y"], res.fittedvalues)
    expect(abs(t["auc"] - auc) <= 1e-6, "auc: tend %r, sklearn %r" % (t["auc"], auc))
    expect(abs(t["log_lik"] - res.llf) <= 1e-6 * abs(res.llf),
           "log_lik: tend %r, statsmodels %r" % (t["log_lik"], res.llf))
    if not problems:
        print("n=%d k=%d auc=%.6f; largest differences: coef %.1e rel, se %.1e rel, p %.1e abs"
              % (d["n"], len(params), auc, worst["coef"], worst["se"], worst["p"]))
    return problems


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "generate":
        generate(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) in (5, 6) and sys.argv[1] == "compare":
        problems = compare(sys.argv[2], sys.argv[3], sys.argv[4],
                           sys.argv[5] if len(sys.argv) == 6 else None)
        for p in problems:
            print(p)
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
