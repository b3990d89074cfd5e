#!/usr/bin/env python3
"""model_seed.py DB: a stand-in for `tend model fit` + `tend eval` in the
tests of the model views (http_model.sh: a small database on which a fit
would be refused). browser_model.sh never uses it: it needs a fitted model.

It writes the tables of migration 14 as the issue's contract declares them
(models; risk_by_day) when they are missing, two models (v1 not adopted, v2
adopted, each with its card) and a risk score for every account scored on
the latest day: p_churn from the health score (lower score, higher risk),
deterministic, with three drivers in words. The numbers are not a model's;
they exercise the pages and the API with the contract's shapes."""
import datetime
import json
import math
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE IF NOT EXISTS models (version INTEGER PRIMARY KEY, fitted_ms INTEGER NOT NULL,
  horizon_days INTEGER NOT NULL, trained_from INTEGER, trained_to INTEGER, n_rows INTEGER,
  n_churns INTEGER, auc_holdout REAL, brier_holdout REAL, auc_health REAL,
  adopted INTEGER NOT NULL DEFAULT 0, card TEXT);
CREATE TABLE IF NOT EXISTS risk_by_day (day INTEGER NOT NULL, account_id INTEGER NOT NULL,
  p_churn REAL, model_version INTEGER, drivers TEXT, PRIMARY KEY (day, account_id)) WITHOUT ROWID;
""")
day = db.execute("SELECT max(day) FROM scores").fetchone()[0]
if day is None:
    sys.exit("model_seed.py: no scores: run tend eval first")

coefs = [("logins_28d_log1p", -0.612, 0.081, 1e-6), ("logins_trend", -0.405, 0.092, 2e-5),
         ("tickets_open", 0.331, 0.077, 3e-4), ("nps_last", -0.214, 0.101, 0.034),
         ("payments_failed_90d", 0.52, 0.12, 1e-5), ("seats_used_share", -0.05, 0.09, 0.58)]
def day_text(d):
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=d)).isoformat()


calib = []
for b in range(1, 11):
    pred = 0.01 * b * b / 2 + 0.005
    n = 120
    se = math.sqrt(pred * (1 - pred) / n)
    obs = round(pred + (0.3 if b % 3 == 0 else -0.2) * se, 4)
    calib.append({"bin": b, "predicted": round(pred, 4), "observed": obs, "n": n,
                  "ci_low": round(max(0, pred - 1.96 * se), 4),
                  "ci_high": round(min(1, pred + 1.96 * se), 4)})
calib[9]["observed"] = round(calib[9]["ci_high"] + 0.03, 4)  # one bin outside its interval
for version, adopted, auc, brier, auc_h in ((1, 0, 0.781, 0.0712, 0.702), (2, 1, 0.834, 0.0655, 0.701)):
    card = {"version": 0, "adopted": False, "horizon_days": 90, "n_rows": 12000 + version,
            "fitted_ms": 1_700_000_000_000 + version * 86_400_000,
            "trained_from": day_text(day - 365), "trained_to": day_text(day - 91 + version),
            "n_test": 3000, "n_test_churned": 61, "brier_base_rate": 0.0714,
            "n_churns": 210 + version, "auc_holdout": auc, "brier_holdout": brier,
            "auc_health_holdout": auc_h, "calibration": calib,
            "coefficients": [{"name": n, "coef": c, "se": s, "p": p} for n, c, s, p in coefs]}
    db.execute("INSERT OR REPLACE INTO models (version, fitted_ms, horizon_days, trained_from, "
               "trained_to, n_rows, n_churns, auc_holdout, brier_holdout, auc_health, adopted, card, "
               "data_end, adopted_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (version, 1_700_000_000_000 + version * 86_400_000, 90, day - 365, day - 91 + version,
                12000 + version, 210 + version, auc, brier, auc_h, adopted, json.dumps(card),
                day - 1 + version, 1_700_000_000_000 + version * 86_400_000))
rows = db.execute("SELECT account_id, overall FROM scores WHERE day = ?", (day,)).fetchall()
for account, overall in rows:
    s = 50.0 if overall is None else overall
    p = 1 / (1 + math.exp((s - 45) / 8))
    drivers = [{"feature": "logins_trend", "contribution": round(1.2 - s / 50, 3),
                "words": "logins down %d%% vs the previous 4 weeks" % int(abs(60 - s) % 90)},
               {"feature": "tickets_open", "contribution": 0.21,
                "words": "3 support tickets open for over a week"},
               {"feature": "nps_last", "contribution": -0.12, "words": "last NPS answer 9 <promoter>"}]
    db.execute("INSERT OR REPLACE INTO risk_by_day VALUES (?,?,?,?,?)",
               (day, account, round(p, 6), 2, json.dumps(drivers)))
db.commit()
print("model_seed.py: 2 models, %d risk scores on day %d" % (len(rows), day))
