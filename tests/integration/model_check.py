#!/usr/bin/env python3
"""model_check.py: the oracle of tests/integration/ridge_oracle.sh: tend's
penalised fit and calibrations against scikit-learn and statsmodels.

  model_check.py generate OUT.csv         a table with a known model: numeric
                                          columns on very different scales, a
                                          0/1 column and a constant column
  model_check.py generate-calib OUT.csv   a miscalibrated score (log odds,
                                          rounded so that scores tie) and its
                                          outcome; the later rows spread wider
  model_check.py ridge TABLE OUTCOME C TEND.json [A,B,...]
        builds the design with analyze_check.py's pandas code (numeric columns,
        text one-hot), standardises its columns with pandas (mean, sample sd; a
        constant column's sd taken as 1, as tend documents), fits
        sklearn LogisticRegression(C, l2) with newton-cg and with lbfgs
        (tol 1e-12, max_iter 10000), and requires tend's coefficients to equal
        both to 1e-4 (absolute, or relative above 1); the standard errors to
        1e-4 relative against numpy's inverse of X'WX + diag(0, 1/C, ...) at
        scikit-learn's optimum
  model_check.py platt TABLE OUTCOME SCORE N TEND.csv
        statsmodels Logit of the outcome on the score over the first N rows,
        predicted on every row, against tend's calibrated column (1e-7)
  model_check.py isotonic TABLE OUTCOME SCORE N TEND.csv
        sklearn IsotonicRegression(out_of_bounds="clip") fitted on the first N
        rows, predicted on every row (interpolating and clipping), against
        tend's calibrated column (1e-9)

Everything is computed here from the CSV on its own (pandas reads it; rows
with a blank in a used column are dropped, as stats/table.h says); nothing is
taken from tend but the numbers compared.
"""
import json
import sys
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

import analyze_check

ONE = {"1", "yes", "true", "churned"}
ZERO = {"0", "no", "false", "renewed"}


def generate(path):
    rng = np.random.default_rng(20261207)
    n = 4000
    logins = rng.poisson(30, n).astype(float)
    arr = np.round(rng.lognormal(9, 1.0, n), 2)  # money, in the thousands
    tickets = rng.poisson(2, n).astype(float)
    annual = (rng.random(n) < 0.4).astype(float)
    nps = np.round(rng.normal(7, 2, n), 1)
    eta = (-1.2 - 0.05 * (logins - 30) - 0.2 * (np.log(arr) - 9) + 0.3 * tickets
           - 0.9 * annual - 0.15 * (nps - 7))
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    pd.DataFrame({"logins": logins, "arr": arr, "tickets": tickets, "annual": annual,
                  "nps": nps, "region_code": np.full(n, 3.0), "churned": y}).to_csv(
                      path, index=False)


def generate_calib(path):
    rng = np.random.default_rng(7)
    n = 3000
    s = rng.normal(-1, 1.2, n)
    s[2000:] = rng.normal(-1, 2.5, n - 2000)  # later rows reach beyond the fitted range
    s = np.round(s, 2)  # ties
    p = 1 / (1 + np.exp(-(0.6 * s - 0.4)))  # the score is overconfident
    y = (rng.random(n) < p).astype(int)
    pd.DataFrame({"score": s, "churned": y}).to_csv(path, index=False)


def outcome_value(s):
    low = s.lower()
    if low in ONE:
        return 1.0
    if low in ZERO:
        return 0.0
    return float(s)


def load(path, outcome, columns):
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = raw.apply(lambda c: c.str.strip(" \t"))
    keep = raw[outcome] != ""
    for c in columns:
        keep &= raw[c] != ""
    df = raw[keep]
    y = df[outcome].map(outcome_value).to_numpy()
    x = np.column_stack([df[c].astype(float).to_numpy() for c in columns])
    return x, y


def close(a, b, tol):
    return abs(a - b) <= tol * max(1.0, abs(b))


def ridge(path, outcome, c, tend_json, columns):
    t = json.load(open(tend_json))
    names = [k["name"] for k in t["coefficients"]][1:]
    # The design (numeric columns as they are, text one-hot against its most
    # frequent value, blank rows dropped), built by analyze_check.py's pandas
    # code; under a penalty nothing is dropped, so the names must be all of it.
    d = analyze_check.design(path, outcome, columns.split(",") if columns else None)
    if names != d["names"]:
        return ["columns: tend %s, pandas %s" % (names, d["names"])]
    x, y = d["x"], d["y"]
    frame = pd.DataFrame(x, columns=names)
    sd = frame.std(ddof=1).replace(0, 1.0)
    z = ((frame - frame.mean()) / sd).to_numpy()
    problems = []
    if t["n"] != len(y):
        problems.append("n: tend %s, pandas %s" % (t["n"], len(y)))
    if t.get("l2") != c or t.get("scale") != "per_sd":
        problems.append("l2/scale: tend %s/%s" % (t.get("l2"), t.get("scale")))
    got = np.array([k["coef"] for k in t["coefficients"]])
    xd = np.hstack([np.ones((len(y), 1)), z])

    def gradient(b):
        """The max-norm of the gradient of C sum logloss + ||b[1:]||^2 / 2."""
        g = c * xd.T @ (1 / (1 + np.exp(-(xd @ b))) - y)
        g[1:] += b[1:]
        return np.abs(g).max()

    def objective(b):
        """C sum logloss + ||b[1:]||^2 / 2, scikit-learn's."""
        eta = xd @ b
        return c * np.sum(np.logaddexp(0, eta) - y * eta) + 0.5 * np.sum(b[1:] ** 2)

    worst = {}
    for solver in ("newton-cg", "lbfgs"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # newton-cg's line search at tol 1e-12
            m = LogisticRegression(C=c, penalty="l2", solver=solver, tol=1e-12,
                                   max_iter=10000).fit(z, y)
        ref = np.concatenate([m.intercept_, m.coef_[0]])
        worst[solver] = (max(abs(got[i] - ref[i]) / max(1.0, abs(ref[i]))
                             for i in range(len(ref))), gradient(ref))
        if solver == "lbfgs":
            # L-BFGS-B ends after a few iterations here, at a gradient of
            # 1e-6 to 1e-3 (it stops on the relative change of the objective
            # too, not only on tol): it is the weaker oracle. tend must reach an objective
            # at least as low; the coefficients are held to newton-cg.
            if objective(got) > objective(ref) + 1e-12 * abs(objective(ref)):
                problems.append("C=%g: tend's objective %r is above lbfgs's %r"
                                % (c, objective(got), objective(ref)))
            continue
        for i, name in enumerate(["(intercept)"] + names):
            if not close(got[i], ref[i], 1e-4):
                problems.append("%s coef (C=%g, %s): tend %r, sklearn %r"
                                % (name, c, solver, got[i], ref[i]))
        if solver == "newton-cg":
            mu = 1 / (1 + np.exp(-(xd @ ref)))
            h = xd.T @ (xd * (mu * (1 - mu))[:, None])
            h[np.arange(1, len(ref)), np.arange(1, len(ref))] += 1 / c
            se = np.sqrt(np.diag(np.linalg.inv(h)))
            constant = [False] + list(frame.std(ddof=1) == 0)
            for i, name in enumerate(["(intercept)"] + names):
                s_got = t["coefficients"][i]["se"]
                if constant[i]:
                    # A constant column says nothing: its inverse-Hessian
                    # "standard error" is sqrt(C), the penalty's alone; tend
                    # reports none.
                    if s_got is not None or t["coefficients"][i]["p"] is not None:
                        problems.append("%s (constant): tend se %r, expected none" % (name, s_got))
                    continue
                if abs(s_got - se[i]) > 1e-4 * se[i]:
                    problems.append("%s se (C=%g): tend %r, numpy %r" % (name, c, s_got, se[i]))
    if not problems:
        print("C=%g n=%d k=%d: largest coefficient difference %.1e vs newton-cg, %.1e vs "
              "lbfgs; gradient max-norm tend %.0e, newton-cg %.0e, lbfgs %.0e"
              % (c, len(y), len(names), worst["newton-cg"][0], worst["lbfgs"][0],
                 gradient(got), worst["newton-cg"][1], worst["lbfgs"][1]))
    return problems


def calibrated(tend_csv):
    return pd.read_csv(tend_csv)["calibrated"].to_numpy()


def platt(path, outcome, score, n_fit, tend_csv):
    x, y = load(path, outcome, [score])
    s = x[:, 0]
    res = sm.Logit(y[:n_fit], sm.add_constant(s[:n_fit])).fit(method="newton", tol=1e-12,
                                                                maxiter=100, disp=0)
    ref = res.predict(sm.add_constant(s))
    got = calibrated(tend_csv)
    if len(got) != len(ref):
        return ["rows: tend %d, pandas %d" % (len(got), len(ref))]
    diff = np.max(np.abs(got - ref))
    if diff > 1e-7:
        return ["platt: largest difference %.3g (a, b = %s)" % (diff, res.params)]
    print("platt on %d rows, applied to %d: a=%.6f b=%.6f, largest difference %.1e"
          % (n_fit, len(y), res.params[1], res.params[0], diff))
    return []


def isotonic(path, outcome, score, n_fit, tend_csv):
    x, y = load(path, outcome, [score])
    s = x[:, 0]
    m = IsotonicRegression(out_of_bounds="clip").fit(s[:n_fit], y[:n_fit])
    ref = m.predict(s)
    got = calibrated(tend_csv)
    if len(got) != len(ref):
        return ["rows: tend %d, pandas %d" % (len(got), len(ref))]
    diff = np.max(np.abs(got - ref))
    outside = int(np.sum((s < s[:n_fit].min()) | (s > s[:n_fit].max())))
    unseen = int(np.sum(~np.isin(s, s[:n_fit])))
    if diff > 1e-9:
        bad = int(np.argmax(np.abs(got - ref)))
        return ["isotonic: largest difference %.3g at row %d (score %r: tend %r, sklearn %r)"
                % (diff, bad + 1, s[bad], got[bad], ref[bad])]
    print("isotonic on %d rows, applied to %d (%d scores not fitted, %d outside the range): "
          "largest difference %.1e" % (n_fit, len(y), unseen, outside, diff))
    return []


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "generate":
        generate(a[1])
        return 0
    if len(a) == 2 and a[0] == "generate-calib":
        generate_calib(a[1])
        return 0
    if len(a) in (5, 6) and a[0] == "ridge":
        problems = ridge(a[1], a[2], float(a[3]), a[4], a[5] if len(a) == 6 else None)
    elif len(a) == 6 and a[0] in ("platt", "isotonic"):
        problems = (platt if a[0] == "platt" else isotonic)(a[1], a[2], a[3], int(a[4]), a[5])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
