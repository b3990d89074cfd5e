#!/usr/bin/env python3
"""analyze_outcome_check.py: tend analyze --outcome contraction|expansion held
to statsmodels and scikit-learn, and its rows' labels to the pandas oracle of
the revenue movements (retention_oracle.py).

  analyze_outcome_check.py KIND LEAD TEND.json ROWS.csv FILE.jsonl[,FILE2...]

- the fit: coefficients and standard errors equal statsmodels' Logit on the
  exported rows standardised as tend says (1e-4 relative), p-values and 95 %
  intervals (1e-4), the in-sample AUC scikit-learn's (1e-6);
- the labels: each exported row (account, outcome day D) is 1 exactly when
  the oracle's movements of the account have one of KIND in
  [00:00 of D - LEAD + 1, 00:00 of D + 1), and the account paid then.
Prints what it checked; exits 1 with the differences otherwise.
"""
import json
import sys

import pandas as pd
import statsmodels.api as sm
from sklearn.metrics import roc_auc_score

import retention_oracle as ro

DAY = 86_400_000


def main(kind, lead, tend_json, rows_csv, files):
    lead = int(lead)
    r = json.load(open(tend_json))
    rows = pd.read_csv(rows_csv, dtype={"account_id": str})
    bad = []
    if r["outcome"] != kind:
        bad.append("outcome %r" % r["outcome"])
    if len(rows) != r["n"]:
        bad.append("rows %d, n %d" % (len(rows), r["n"]))
    feats = [k["name"] for k in r["coefficients"][1:]]
    X = rows[feats].astype(float)
    sd = pd.Series({k["name"]: k["std_dev"] for k in r["coefficients"][1:]})
    Z = (X - X.mean()) / sd
    fit = sm.Logit(rows["churned"].astype(float), sm.add_constant(Z)).fit(
        method="newton", tol=1e-12, maxiter=100, disp=0)
    for k, n in zip(r["coefficients"], ["const"] + feats):
        for what, ours, theirs in (("coef", k["coef"], fit.params[n]), ("se", k["se"], fit.bse[n])):
            if abs(ours - theirs) > 1e-4 * abs(theirs):
                bad.append("%s %s: tend %r, statsmodels %r" % (k["name"], what, ours, theirs))
        if abs(k["p"] - fit.pvalues[n]) > 1e-4:
            bad.append("%s p: tend %r, statsmodels %r" % (k["name"], k["p"], fit.pvalues[n]))
        lo, hi = fit.conf_int().loc[n]
        if abs(k["ci_low"] - lo) > 1e-4 * max(1, abs(lo)) or \
                abs(k["ci_high"] - hi) > 1e-4 * max(1, abs(hi)):
            bad.append("%s interval: tend %r, statsmodels %r" % (
                k["name"], (k["ci_low"], k["ci_high"]), (lo, hi)))
    auc = roc_auc_score(rows["churned"], fit.predict())
    if abs(r["auc"] - auc) > 1e-6:
        bad.append("AUC: tend %r, scikit-learn %r" % (r["auc"], auc))

    df, _ = ro.load(files.split(","))
    mv = {acc: ro.movements(ev) for acc, ev in df.groupby("account", sort=False)}
    wrong = 0
    for row in rows.itertuples():
        day = pd.Timestamp(row.outcome_date).value // 1_000_000 // DAY
        t, end = (day - lead + 1) * DAY, (day + 1) * DAY
        m = mv.get(row.account_id, [])
        paying = ro.level_at(m, t) > 0
        label = any(k == kind and t <= ts < end for k, ts, *_ in m)
        if not paying or int(label) != int(row.churned):
            wrong += 1
            if wrong <= 5:
                bad.append("row %s %s: tend %d, oracle %d (paying %s)" % (
                    row.account_id, row.outcome_date, row.churned, label, paying))
    if wrong:
        bad.append("%d of %d labels differ" % (wrong, len(rows)))
    if bad:
        print("\n".join(bad))
        sys.exit(1)
    print("%d rows, %d with %s; %d coefficients equal statsmodels', AUC %.4f; every label "
          "equals the oracle's" % (len(rows), int(rows["churned"].sum()), kind,
                                   len(r["coefficients"]), auc))


if __name__ == "__main__":
    main(*sys.argv[1:6])
