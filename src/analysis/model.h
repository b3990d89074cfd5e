/* model.h: tend model fit, the churn-risk model learned from outcomes
 * (docs/analysis.md, "The churn-risk model").
 *
 * Training rows are weekly account snapshots: every step_days (7) back from
 * the data's last day, each account that is a customer on that day and has
 * been seen for ANALYSIS_MIN_HISTORY_DAYS, with its model inputs as of the
 * end of the day (eval/risk.h: metrics, health components, age; the same
 * code scores every evaluation). Its label: an Account Churned in (day, day
 * + horizon]. A snapshot whose horizon reaches past the data's last day is
 * censored: not labelled, not used.
 *
 * Validation is by time. The latest MODEL_TEST_SHARE of the labelled
 * snapshot days, from the cut day on, are the test rows; training rows are
 * only those whose whole horizon ends before the cut (day + horizon < cut),
 * so no label of a training row saw anything on or after the cut: no
 * account's future leaks into its past. The rows between (their horizon
 * straddles the cut) are used by neither. The penalty C is chosen by
 * forward-chaining cross-validation over the training rows in
 * MODEL_FOLDS folds of snapshot days (stats_ridge_cv); the log odds are
 * calibrated by Platt scaling fitted on the latest training fold's
 * out-of-fold scores (a model fitted on the earlier folds); the test rows
 * then give the held-out AUC, Brier score and calibration deciles, and the
 * health score's AUC (risk = 100 - overall) on the same rows.
 *
 * The production model is fitted the same way on every labelled row: the
 * recipe and the fit on all of them with the chosen C, the Platt calibration
 * on the latest labelled fold's out-of-fold scores. Its held-out figures are
 * those of the validation above (it has no rows of its own left to test on).
 *
 * Bounded: at most MODEL_MAX_ROWS snapshots (the step widens by a week at a
 * time until accounts x days fit) and RI_COUNT inputs. */
#ifndef TEND_ANALYSIS_MODEL_H
#define TEND_ANALYSIS_MODEL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/health.h"
#include "eval/risk.h"
#include "stats/ridge.h"
#include "store/store.h"

#define MODEL_MAX_ROWS     200000
#define MODEL_STEP_DAYS    7
#define MODEL_FOLDS        4
#define MODEL_TEST_SHARE   0.25
#define MODEL_MIN_CHURNS   10
#define MODEL_BINS         10
#define MODEL_HORIZON_DAYS 90

/* tend.yaml's model: section (docs/config.md): how often tend serve refits
 * (refit_days, default 7) and the horizon of a fit (horizon_days, default
 * MODEL_HORIZON_DAYS). */
struct model_config {
    int refit_days;
    int horizon_days;
};
void model_config_default(struct model_config *c);
/* Applies a model: section (NULL: none) over the defaults; on a mistake
 * TEND_ERR_INVALID with "model.KEY: ..." in err (size bytes). */
enum tend_err model_config_load(const cJSON *section, struct model_config *c, char *err,
                                size_t size);

struct model_options {
    int horizon_days;
    int32_t to; /* the data's last day; 0: the last day with events */
    enum risk_features features;
    const struct health_config *hc;
};

enum model_role { MR_UNLABELLED, MR_GAP, MR_TRAIN, MR_TEST };

/* One account snapshot. */
struct model_row {
    int32_t day;
    int64_t account_id; /* internal */
    enum model_role role;
    bool churned;      /* an Account Churned in (day, day + horizon] */
    int32_t churn_day; /* that churn's day, when churned */
    int fold;          /* training rows: 0..MODEL_FOLDS-1, oldest first */
    bool has_health;
    double health; /* overall, when has_health */
    double raw[RI_COUNT];
};

/* Labels row r: labelled when r->day + horizon <= end; churned when one of
 * the account's churn days (ascending, n) is in (day, day + horizon]. Pure. */
void model_label_row(struct model_row *r, const int32_t *churn_days, size_t n, int horizon,
                     int32_t end);

/* Gives each labelled row its role: MR_TEST from the cut day on (the first
 * of the latest test_share of the distinct labelled days), MR_TRAIN when
 * day + horizon < cut, MR_GAP otherwise; training rows get their fold
 * (n_folds groups of consecutive days). Returns the cut day (0 when no row
 * is labelled). Pure. */
int32_t model_split(struct model_row *rows, size_t n, int horizon, double test_share, int n_folds);

struct model_result {
    struct model_options o;
    int32_t data_end, first_day, last_day, cut_day; /* snapshot days */
    int step_days;
    size_t n_rows;     /* labelled */
    size_t n_censored; /* snapshot days whose horizon passes the data's end */
    size_t n_train, n_test, n_gap;
    size_t n_churns;   /* distinct churns that label a row */
    size_t n_positive; /* churned rows */
    size_t train_pos, test_pos;
    double c;
    double cs[16], cv_loss[16];
    size_t n_cs;
    double auc_holdout, brier_holdout, brier_base, auc_health, auc_current;
    bool has_current;
    int64_t current_version;
    struct stats_calib_bin calib[MODEL_BINS];
    size_t n_bins;
    struct risk_model eval_model; /* fitted on the training rows, scored the test rows */
    struct risk_model model;      /* production: every labelled row */
    struct stats_fit fit;         /* of the production model */
    struct model_row *rows;       /* all snapshots, day order */
    size_t n_all;
    char health_version[24];
};

/* Builds the rows and fits (see above). Errors: TEND_ERR_INVALID with a
 * message in err (STATS_ERR_BYTES) when the data is too little (fewer than
 * MODEL_MIN_CHURNS churns, a part lacking a class) or a fit fails; store
 * errors as they are. */
enum tend_err model_fit(struct store *s, const struct model_options *o, struct model_result *out,
                        char *err);
void model_result_free(struct model_result *r);

/* The AUC of model mo on r's test rows (comparing a model with the one just
 * fitted, on the same rows). */
double model_auc_on_test(const struct model_result *r, const struct risk_model *mo);

/* The card (the JSON of tend model show without version and adopted, which
 * model_card_of adds from the stored row). Caller deletes. */
cJSON *model_card(const struct model_result *r, int64_t fitted_ms);
/* A stored model's card with version and adopted; NULL when its card is not
 * JSON. Caller deletes. */
cJSON *model_card_of(const struct store_model *m);

/* Stores r's card as a new model; adopts it when no model is adopted or when
 * its held-out AUC is not below the adopted model's on r's test rows (which
 * model_fit worked out: r->auc_current). *version and *adopted say what
 * happened. */
enum tend_err model_store(struct store *s, const struct model_result *r, int64_t fitted_ms,
                          int64_t *version, bool *adopted);

/* tend serve's scheduled refit: when no model was fitted in the last
 * mc->refit_days days (by fitted_ms), fits one with mc->horizon_days and
 * every input, stores it and adopts it as model_store() says. *ran: a fit
 * was due and tried; msg (size bytes) then says what happened in one line:
 * the new version, its AUC against the adopted model's and whether it was
 * adopted, or why the data was refused (that is not an error: it is tried
 * again on a later day). Store errors are returned. */
enum tend_err model_refit(struct store *s, const struct model_config *mc,
                          const struct health_config *hc, int64_t now_ms, bool *ran, char *msg,
                          size_t size);

/* Writes the production design (every labelled row after the recipe: day,
 * account_id, churned, then the columns) as CSV to path. */
enum tend_err model_export(const struct model_result *r, const char *path, char *err);

#endif
