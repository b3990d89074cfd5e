/* analyze.h: does the health score predict churn? (SPEC 8, docs/analysis.md)
 *
 * For every account outcome (Account Renewed / Account Churned) in a period,
 * the account's features as of the end of the day lead_days before it: the
 * five health components, or the metrics the score is made of. A logistic
 * regression of churn on them (stats/logit.h) on standardised features says
 * which covary with churn; a fit on the earliest 70% of the outcomes, scored
 * on the latest 30%, says how well the model, the current weights and the
 * suggested weights would have ranked the accounts that went on to churn.
 *
 * A feature unknown as of the lead day (no NPS answer, no card on file) is
 * filled with the mean of the rows fitted, and counted; a row with no known
 * feature at all, an account seen for less than ANALYSIS_MIN_HISTORY_DAYS or
 * not a customer on the lead day is left out, and counted. Churn reasons as a Pareto by lost ARR
 * come from the same outcomes. */
#ifndef TEND_ANALYSIS_ANALYZE_H
#define TEND_ANALYSIS_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/health.h"
#include "stats/logit.h"
#include "store/store.h"

#define ANALYSIS_MAX_FEATURES 16
#define ANALYSIS_TRAIN_SHARE  0.7
/* The metrics compare the last 7 days with the 28 before: an account seen for
 * less than this on the lead day has no history to speak of yet. */
#define ANALYSIS_MIN_HISTORY_DAYS 35

enum analysis_features { AF_COMPONENTS, AF_METRICS };
/* What the rows are labelled by: churn (the renewals and churns), or a
 * contraction or expansion within lead_days (analysis/outcome_rows.h). */
enum analysis_outcome { AO_CHURN, AO_CONTRACTION, AO_EXPANSION };

struct analysis_options {
    int lead_days;
    int32_t from, to; /* outcome days, inclusive */
    enum analysis_features features;
    const struct health_config *hc;
    enum analysis_outcome outcome;
};

/* "churn", "contraction", "expansion". */
const char *analysis_outcome_name(enum analysis_outcome o);

/* One outcome with its features as of the lead day. */
struct analysis_row {
    char *account_id;
    int32_t outcome_day;
    bool churned;
    double x[ANALYSIS_MAX_FEATURES]; /* unknown ones filled with the mean */
    bool known[ANALYSIS_MAX_FEATURES];
    double comp[HC_COUNT]; /* the health components, to score with other weights */
    bool comp_known[HC_COUNT];
};

struct analysis_holdout {
    bool done;           /* false: too few outcomes, or a part lacks a class */
    char why[160];       /* when not done */
    int32_t split_day;   /* the first outcome day of the test part */
    size_t train, test;  /* rows */
    size_t test_churned; /* churned rows in the test part */
    double auc_model, auc_current, auc_suggested; /* on the test part; NaN if none */
};

/* Band thresholds from outcomes (docs/analysis.md, "Bands from outcomes").
 * Over the rows with a score, the base rate is the share that churned at
 * the outcome, lead_days after the score. red_below is the highest whole
 * score t at which the accounts scoring below t churned at least
 * ANALYSIS_RED_LIFT times the base rate (at least ANALYSIS_BAND_MIN_ROWS of
 * them); green_from the highest t above it at which those from red_below up
 * to t churned above the base rate (as many rows at least). No red band
 * (red_below 0) when no score range churns at twice the base rate; no
 * yellow band (green_from = red_below) when none above red churns above it. */
#define ANALYSIS_RED_LIFT      2.0
#define ANALYSIS_BAND_MIN_ROWS 10

struct analysis_band_count {
    size_t n, churned;
    double rate; /* churned / n; NaN when n is 0 */
};

struct analysis_bands {
    double red_below, green_from;
    struct analysis_band_count
        band[4];       /* by enum health_band: none (no score), red, yellow, green */
    size_t n, churned; /* rows with a score */
    double base_rate;  /* churned / n */
};

/* Suggests thresholds from scores and outcomes (n rows; has_score false
 * where a row has none) into out, with each band's churn rate. Pure. */
void analysis_suggest_bands(const double *score, const bool *has_score, const bool *churned,
                            size_t n, struct analysis_bands *out);
/* Counts each band's rows and churns under thresholds red_below, green_from. */
void analysis_band_rates(const double *score, const bool *has_score, const bool *churned, size_t n,
                         double red_below, double green_from, struct analysis_bands *out);

struct analysis_result {
    struct analysis_options o;
    size_t n_features;
    const char *names[ANALYSIS_MAX_FEATURES];
    size_t missing[ANALYSIS_MAX_FEATURES]; /* rows where the feature was filled */
    /* Outcomes in the period and why some were left out. */
    size_t outcomes, churned, short_history, not_customer, no_data;
    struct analysis_row *rows; /* in outcome order */
    size_t n_rows;
    struct stats_fit fit; /* on every row, per standard deviation */
    double auc;           /* in-sample, of the fit */
    double *fpr, *tpr;    /* its ROC curve */
    size_t roc_len;
    struct analysis_holdout holdout;
    double *hold_fpr[3], *hold_tpr[3]; /* model, current, suggested on the test part */
    size_t hold_len[3];
    bool has_suggested;
    double suggested[HC_COUNT]; /* components only; sum to 1 */
    /* The tend.yaml snippet (components only): the suggested weights as
     * printed (two decimals), else the current ones; the held-out AUC of
     * exactly those weights on the test part (what a re-run with them
     * reports as "current weights"; fitted on every outcome, so not an
     * independent estimate: auc_suggested is), and bands suggested on the
     * scores they give every row. bands_current: the current weights and
     * thresholds, with each band's churn rate. */
    double snippet_weights[HC_COUNT];
    double auc_snippet; /* NaN when the held-out check was not done */
    struct analysis_bands bands_current, bands_suggested;
};

/* Runs the analysis. Errors: TEND_ERR_INVALID with a message in err
 * (STATS_ERR_BYTES) when there are too few outcomes or the regression cannot
 * be fitted (separation, no churn in the period); store errors as they are. */
enum tend_err analysis_run(struct store *s, const struct analysis_options *o,
                           struct analysis_result *out, char *err);
void analysis_result_free(struct analysis_result *r);

/* The factors with p >= 0.05 (they do not covary with churn), into names
 * (at most ANALYSIS_MAX_FEATURES); returns how many. */
size_t analysis_not_covarying(const struct analysis_result *r, const char **names);

/* True when the weights suggested by the training part ranked the held-out
 * outcomes worse than the current weights did: a warning not to adopt them
 * yet. */
bool analysis_suggestion_worse(const struct analysis_result *r);

/* Writes the rows as a CSV (account_id, outcome_date, churned, the features
 * as fitted) to path. */
enum tend_err analysis_export(const struct analysis_result *r, const char *path, char *err);

/* Churn reasons by lost ARR, largest first. */
struct analysis_reason {
    char *reason; /* "(none given)" for a churn without one */
    int64_t churned;
    double lost_arr;
    double share, cumulative; /* of the lost ARR, 0-1 (0 when none was lost) */
};
struct analysis_reasons {
    struct analysis_reason *v;
    size_t n;
    int64_t churned;
    int32_t first_day, last_day; /* of the churns counted, when churned > 0 */
    double lost_arr;
    int64_t arr_from_mrr; /* churns without arr, counted at 12 x the account's mrr */
};
/* The churns of days from..to (from 0: every churn up to to). */
enum tend_err analysis_reasons(struct store *s, int32_t from, int32_t to,
                               struct analysis_reasons *out);
void analysis_reasons_free(struct analysis_reasons *r);

/* The metrics --features metrics fits (the inputs of the score, and two the
 * rules read), in their order; *names points at a static array. */
size_t analysis_metric_names(const char *const **names);

#endif
