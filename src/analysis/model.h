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
 * Bounded: at most MODEL_MAX_ROWS snapshots and RI_COUNT inputs. When
 * accounts x snapshot days would pass the cap, a fit keeps every weekly
 * snapshot day (cross-validation needs the days) and samples the accounts
 * instead: the max_rows / days accounts with the smallest hash of their
 * external id (model_sample), the same ones on every fit; the card says how
 * many of how many.
 *
 * Adoption (model_compare, model_adopt): a new model is compared with the
 * adopted one only on the labelled rows the adopted model never saw as labels
 * (day + horizon after the adopted model's data_end), the new fit's side
 * fitted on the adopted model's window (model_compare), both AUCs on those
 * rows; with too few of them (fewer than MODEL_MIN_CHURNS
 * churned rows, or no retained one) the newer data win: the new model is
 * adopted when its data end later than the adopted one's. A model of another
 * horizon is not compared: only an explicit tend model fit adopts it (the
 * user asked for that horizon); the scheduled refit keeps the adopted one. */
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
#define MODEL_DEFAULT_C    1.0 /* when no cross-validation split is possible */

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
    size_t max_rows; /* the snapshot cap; 0: MODEL_MAX_ROWS */
};

enum model_role { MR_UNLABELLED, MR_GAP, MR_TRAIN, MR_TEST };

/* What a new model was compared with the adopted one on. */
enum model_basis {
    MB_NONE,      /* no adopted model */
    MB_ROWS,      /* test rows the adopted model never saw as labels */
    MB_TOO_FEW,   /* too few such rows: the newer data decide */
    MB_HORIZON,   /* another horizon: not compared */
    MB_UNREADABLE /* the adopted model's card cannot be read: replaced */
};

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

/* The hash by which a fit samples accounts (FNV-1a, 64 bits, of the external
 * id, then mixed): the same accounts on every fit and after a re-import.
 * Pure. */
uint64_t model_account_hash(const char *external_id);
/* Sampling: of n accounts (hash[i], and id[i] to break ties) keeps in keep[]
 * the max_rows / days ones (at least 1) with the smallest hash, or all when
 * n x days fits max_rows; returns how many it kept. Pure. */
size_t model_sample(const uint64_t *hash, const int64_t *id, size_t n, size_t days, size_t max_rows,
                    bool *keep);

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
    double auc_holdout, brier_holdout, brier_base, auc_health;
    size_t n_accounts, n_sampled; /* accounts known; those the snapshots were taken of */
    char calibration_why[STATS_ERR_BYTES + 80];         /* empty: Platt */
    char c_why[STATS_ERR_BYTES];                        /* empty: C by cross-validation */
    char calibration_holdout_why[STATS_ERR_BYTES + 80]; /* the validation model's */
    /* The comparison with the adopted model (model_compare). */
    bool has_current;
    int64_t current_version;
    int current_horizon;
    int32_t current_data_end;
    enum model_basis basis;
    size_t cmp_rows, cmp_churned; /* the rows compared on */
    double auc_new, auc_current;  /* on those rows; NaN when not compared */
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

/* Platt calibration of scores s (log odds) against outcomes y, as
 * stats_platt_fit; when that has no answer (the scores separate churned from
 * retained rows: no maximum) the identity (a = 1, b = 0: the model's own
 * probabilities) and why (size bytes) says so; why is empty after a Platt
 * fit. Never fails. Pure. */
enum tend_err model_platt(const double *s, const double *y, size_t n, struct stats_platt *out,
                          char *why, size_t size);

/* Compares this fit with cur (the adopted model, its data_end and horizon
 * set) on r's labelled rows with day + horizon > cur->data_end, the rows cur
 * never saw as labels. This fit's side is its challenger: its inputs,
 * transforms and penalty (r->c) fitted on the rows cur could have seen (day +
 * horizon <= cur->data_end), so that both know the same past and a refit that
 * changes nothing ties. Fills r->has_current .. r->auc_current (see enum
 * model_basis; MB_TOO_FEW also when the challenger's rows lack a class). No
 * store, no I/O. */
void model_compare(struct model_result *r, const struct risk_model *cur);
/* Whether r's model is adopted (the rule above); explicit: a user's tend
 * model fit (adopts a model of another horizon), not the scheduled refit.
 * *why: one line saying why, for the CLI, the log and the card. Pure. */
bool model_adopt(const struct model_result *r, bool explicit_fit, const char **why);

/* The card (the JSON of tend model show without version and adopted, which
 * model_card_of adds from the stored row). Caller deletes. */
cJSON *model_card(const struct model_result *r, int64_t fitted_ms);
/* A stored model's card with version and adopted; NULL when its card is not
 * JSON. Caller deletes. */
cJSON *model_card_of(const struct store_model *m);

/* Stores r's card as a new model and adopts it as model_adopt says (the
 * card carries the comparison and the rule applied). *version and *adopted
 * say what happened. */
enum tend_err model_store(struct store *s, const struct model_result *r, int64_t fitted_ms,
                          bool explicit_fit, int64_t *version, bool *adopted);

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
 * account_id, role (train, gap, test: the validation split's), churned, then
 * the columns) as CSV to path. */
enum tend_err model_export(const struct model_result *r, const char *path, char *err);

#endif
