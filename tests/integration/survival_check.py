#!/usr/bin/env python3
"""The independent side of survival_oracle.sh, cohorts.sh and factors.sh:
statsmodels, pandas, numpy and scipy compute what tend analyze survival,
cohorts and the factor groups print, from the same CSV.

  survival_check.py gen-surv OUT.csv SEED        times with ties, 3 covariates
  survival_check.py heart OUT.csv                statsmodels' Stanford heart data
  survival_check.py surv CSV TIME EVENT OUT.json [COLS]
  survival_check.py surv-store EXPORT.csv OUT.json
  survival_check.py gen-cohorts OUT.csv          metrics with heavy ties
  survival_check.py cohorts CSV OUTCOME OUT.json Q
  survival_check.py gen-factors OUT.csv          correlated factors
  survival_check.py factors CSV OUTCOME OUT.json
"""
import json
import math
import sys

import numpy as np
import pandas as pd

TOL = 1e-4


def close(what, a, b, tol=TOL):
    """a (tend) within tol of b (the oracle), relative to max(1, |b|)."""
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        assert (a is None or (isinstance(a, float) and math.isnan(a))) and (
            b is None or math.isnan(b)), f"{what}: tend {a}, oracle {b}"
        return
    assert abs(a - b) <= tol * max(1.0, abs(b)), f"{what}: tend {a!r}, oracle {b!r}"


def gen_surv(out, seed):
    rng = np.random.default_rng(int(seed))
    n = 400
    x1 = rng.normal(0, 1, n)
    x2 = rng.normal(5, 2, n)
    x3 = rng.binomial(1, 0.4, n)
    hazard = 0.01 * np.exp(0.6 * x1 - 0.15 * (x2 - 5) + 0.5 * x3)
    t = rng.exponential(1 / hazard)
    c = rng.uniform(20, 200, n)
    # Whole days: many ties among event times and between events and censoring.
    time = np.ceil(np.minimum(t, c))
    event = (t <= c).astype(int)
    pd.DataFrame({"days": time, "churned": event, "x1": x1, "x2": x2, "x3": x3}).to_csv(
        out, index=False)


def heart(out):
    import statsmodels.api as sm
    d = sm.datasets.heart.load_pandas().data
    d.to_csv(out, index=False)


def check_km(what, km, time, event):
    from statsmodels.duration.survfunc import SurvfuncRight
    sf = SurvfuncRight(np.asarray(time, float), np.asarray(event, float))
    pts = km["points"]
    assert len(pts) == len(sf.surv_times), f"{what}: {len(pts)} points, oracle {len(sf.surv_times)}"
    z = 1.959963984540054
    for p, t, s, se, nr, ne in zip(pts, sf.surv_times, sf.surv_prob, sf.surv_prob_se,
                                   sf.n_risk, sf.n_events):
        close(f"{what} time", p["time"], float(t))
        assert p["at_risk"] == nr and p["events"] == ne, (what, p, nr, ne)
        close(f"{what} S({t})", p["surv"], float(s))
        close(f"{what} se({t})", p["se"], float(se))
        # The pointwise band on log(-log S), from the oracle's S and se.
        if np.isfinite(se) and 0 < s < 1:
            w = z * se / (s * abs(math.log(s)))
            close(f"{what} ci_low({t})", p["ci_low"], float(s ** math.exp(w)))
            close(f"{what} ci_high({t})", p["ci_high"], float(s ** math.exp(-w)))
        else:
            assert p["ci_low"] is None, (what, p)
    close(f"{what} median", km["median"], float(sf.quantile(0.5)))


def check_cox(what, cox, df, time, event, cols, scaled=False):
    """PHReg on the columns as they are, or (scaled) divided by their sample
    sd and the coefficients and se mapped back (the Cox model is equivariant
    to scaling; statsmodels' Newton from 0 overflows on raw columns of
    hundreds, such as card_days_left)."""
    import statsmodels.api as sm
    X = df[cols].astype(float)
    sd = X.std(ddof=1) if scaled else pd.Series(1.0, index=cols)
    model = sm.PHReg(df[time].astype(float), X / sd, status=df[event].astype(float),
                     ties="efron")
    try:
        m = model.fit()
    except np.linalg.LinAlgError:
        # statsmodels' Newton has no step control and can run away from 0 on
        # a small, many-column cohort; BFGS finds the (unique: the partial
        # likelihood is concave) maximum, which Newton then polishes.
        start = model.fit(method="bfgs", maxiter=2000, disp=0).params
        m = model.fit(start_params=start)
    got = {c["name"]: c for c in cox["coefficients"]}
    assert list(got) == cols, (what, list(got), cols)
    for i, name in enumerate(cols):
        close(f"{what} coef {name}", got[name]["coef"], float(m.params[i] / sd[name]))
        close(f"{what} se {name}", got[name]["se"], float(m.bse[i] / sd[name]))
        close(f"{what} p {name}", got[name]["p"], float(m.pvalues[i]))
    close(f"{what} log-likelihood", cox["log_lik"], float(m.llf))
    return m


def surv(csv, time, event, out, cols=None):
    df = pd.read_csv(csv)
    r = json.load(open(out))
    cols = cols.split(",") if cols else [c for c in df.columns if c not in (time, event)]
    check_km("km", r["km"], df[time], df[event])
    m = check_cox("cox", r["cox"], df, time, event, cols)
    print(f"ok: {len(r['km']['points'])} KM points and {len(cols)} Cox coefficients match "
          f"statsmodels (max |coef| diff "
          f"{max(abs(c['coef'] - p) for c, p in zip(r['cox']['coefficients'], m.params)):.2e})")


def surv_store(export, out):
    df = pd.read_csv(export, keep_default_na=False, na_values=[])
    r = json.load(open(out))
    assert r["accounts"] == len(df) and r["churned"] == int(df.churned.sum()), r
    check_km("all", r["all"], df.time_days, df.churned)
    curves = 0
    for by in ("band", "segment", "plan"):
        assert sorted(r[by]) == sorted(df[by].unique()), (by, sorted(r[by]), df[by].unique())
        for name, km in r[by].items():
            sub = df[df[by] == name]
            check_km(f"{by}={name}", km, sub.time_days, sub.churned)
            curves += 1
    first = list(df.columns).index("plan") + 1
    cols = [c for c in df.columns[first:] if c not in r["cox_left_out"]]
    check_cox("cox", r["cox"], df, "time_days", "churned", cols, scaled=True)
    print(f"ok: {curves} curves and {len(cols)} Cox coefficients match statsmodels")


def gen_cohorts(out):
    rng = np.random.default_rng(7)
    n = 1000
    tickets = rng.poisson(0.6, n)            # mostly 0: merged deciles
    logins = rng.integers(0, 30, n)          # whole numbers: ties at the edges
    usage = rng.normal(0, 1, n).round(2)
    nps = rng.choice([0, 5, 7, 9, 10], n)    # five values
    lp = -2 + 0.5 * tickets - 0.05 * logins - 0.4 * usage
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-lp))).astype(int)
    pd.DataFrame({"churned": y, "tickets": tickets, "logins": logins, "usage": usage,
                  "nps": nps}).to_csv(out, index=False)


def cohorts(csv, outcome, out, q):
    df = pd.read_csv(csv)
    r = json.load(open(out))
    q = int(q)
    for m in r["metrics"]:
        name = m["name"]
        cut = pd.qcut(df[name], q, duplicates="drop")
        g = df.groupby(cut, observed=True)[outcome].agg(["count", "sum", "mean"])
        x = df.groupby(cut, observed=True)[name].agg(["min", "max"])
        got = m["cohorts"]
        assert len(got) == len(g), f"{name}: {len(got)} cohorts, pandas {len(g)}"
        for c, (iv, row), (_, xr) in zip(got, g.iterrows(), x.iterrows()):
            assert c["n"] == row["count"] and c["events"] == row["sum"], (name, c, row)
            close(f"{name} rate", c["rate"], float(row["mean"]))
            close(f"{name} hi", c["hi"], float(iv.right))
            close(f"{name} min", c["min"], float(xr["min"]))
            close(f"{name} max", c["max"], float(xr["max"]))
            assert c["small"] == (row["count"] < r["min_rows"]), (name, c)
    print("ok: " + ", ".join(f"{m['name']} {len(m['cohorts'])}" for m in r["metrics"]) +
          " cohorts as pandas.qcut")


def gen_factors(out):
    rng = np.random.default_rng(11)
    n = 1500
    a = rng.normal(0, 1, n)
    b = rng.normal(0, 1, n)
    c = rng.normal(0, 1, n)
    d = pd.DataFrame({
        "logins": a + rng.normal(0, 0.5, n),
        "active_days": a + rng.normal(0, 0.6, n),
        "days_since_login": -a + rng.normal(0, 0.7, n),   # negatively linked
        "tickets": b + rng.normal(0, 0.5, n),
        "escalations": b + rng.normal(0, 0.6, n),
        "seats": c,
        "noise": rng.normal(0, 1, n),
    })
    lp = -1.5 - 0.8 * a + 0.5 * b + 0.05 * c
    d.insert(0, "churned", (rng.uniform(size=n) < 1 / (1 + np.exp(-lp))).astype(int))
    d.to_csv(out, index=False)


def factors(csv, outcome, out):
    import statsmodels.api as sm
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    df = pd.read_csv(csv)
    r = json.load(open(out))
    # The numeric columns (tend analyze --export adds the account and date).
    cols = [c for c in df.columns if c != outcome and pd.api.types.is_numeric_dtype(df[c])]
    X = df[cols].to_numpy(float)
    y = df[outcome].to_numpy(float)
    # Strength beside significance, from statsmodels' Logit on the columns the
    # fit kept (tend drops a column that separates the outcome, and names it).
    kept = [s["name"] for s in r["strength"]]
    Xk = df[kept].to_numpy(float)
    m = sm.Logit(y, sm.add_constant(Xk)).fit(disp=0)
    means, sds = Xk.mean(0), Xk.std(0, ddof=1)
    eta0 = m.params[0] + (m.params[1:] * means).sum()
    base = 1 / (1 + math.exp(-eta0))
    for j, s in enumerate(r["strength"]):
        std = m.params[j + 1] * sds[j]
        plus = 1 / (1 + math.exp(-(eta0 + std)))
        close(f"{kept[j]} std_coef", s["std_coef"], std)
        close(f"{kept[j]} base_rate", s["base_rate"], base)
        close(f"{kept[j]} +1sd rate", s["plus_sd_rate"], plus)
        rel = (plus - base) / base
        assert s["significant_weak"] == bool(m.pvalues[j + 1] < 0.05 and abs(rel) < 0.10), s
        assert s["strong_not_significant"] == bool(m.pvalues[j + 1] >= 0.05 and abs(rel) >= 0.25), s
    means, sds = X.mean(0), X.std(0, ddof=1)
    # Groups: single linkage on 1 - |r|, cut at 0.5 (Gold's method, on |r|).
    corr = np.corrcoef(X, rowvar=False)
    diss = 1 - np.abs(corr)
    np.fill_diagonal(diss, 0)
    labels = fcluster(linkage(squareform(diss, checks=False), method="single"), 0.5,
                      criterion="distance")
    want = sorted(sorted(cols[i] for i in np.flatnonzero(labels == lab)) for lab in set(labels))
    got = sorted(sorted(g["members"]) for g in r["groups"])
    assert got == want, f"groups: tend {got}, scipy {want}"
    # The scores: members standardised, signed against the anchor (the member
    # most correlated with the outcome), averaged; then Logit on the scores.
    Z = (X - means) / sds
    ry = np.array([np.corrcoef(X[:, j], y)[0, 1] for j in range(len(cols))])
    scores, names = [], []
    for g in r["groups"]:
        idx = [cols.index(mm) for mm in g["members"]]
        anchor = max(idx, key=lambda j: (abs(ry[j]), -j))
        assert cols[anchor] == g["members"][0], (g, cols[anchor])
        sign = [(-1 if corr[anchor, j] < 0 else 1) for j in idx]
        assert sign == g["signs"], (g, sign)
        s = sum(sg * Z[:, j] for sg, j in zip(sign, idx)) / len(idx)
        close(f"{g['name']} r with the outcome", g["r_outcome"], float(np.corrcoef(s, y)[0, 1]))
        scores.append(s)
        names.append(g["name"])
    order = sorted(range(len(scores)), key=lambda i: -abs(np.corrcoef(scores[i], y)[0, 1]))
    assert order == list(range(len(scores))), "groups ordered by |r| with the outcome"
    gm = sm.Logit(y, sm.add_constant(np.column_stack(scores))).fit(disp=0)
    fit = r["group_fit"]
    assert [f["name"] for f in fit[1:]] == names, (fit, names)
    for f, p, se in zip(fit, gm.params, gm.bse):
        close(f"group fit {f['name']} coef", f["coef"], float(p))
        close(f"group fit {f['name']} se", f["se"], float(se))
    print(f"ok: {len(cols)} factors in {len(want)} groups as scipy's single linkage; strength and "
          f"the fit on the group scores as statsmodels")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"gen-surv": gen_surv, "heart": heart, "surv": surv, "surv-store": surv_store,
     "gen-cohorts": gen_cohorts, "cohorts": cohorts, "gen-factors": gen_factors,
     "factors": factors}[cmd](*args)
