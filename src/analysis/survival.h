/* survival.h: time to churn from the store (docs/analysis.md, "Survival").
 *
 * A landmark analysis: every account that is a customer at the end of the
 * landmark day L (seen for at least ANALYSIS_MIN_HISTORY_DAYS by then) is
 * followed from L to its first Account Churned after L, or censored at the
 * end of the analysis day E when it has not churned by then. Its covariates
 * are taken as of L, for every account at the same instant: the health score
 * and band, the metrics the score is made of, and its tenure then (days
 * since its start: the created_at field when it is set and not after it was
 * first seen, else the day tend first saw it); its segment and plan are the
 * account's fields now.
 *
 * Why not time from the account's start: tend sees an account from its first
 * event only; a created_at years before that leaves the years between
 * unobserved (the accounts that churned then never reached tend: left
 * truncation), and a health band at an account's start means nothing (no
 * history yet). The landmark measures everybody at once and the account's
 * age enters the Cox fit as tenure_days instead.
 *
 * From the rows: Kaplan-Meier curves per health band, segment and plan, and
 * a Cox fit of the hazard of churn on the metrics and tenure (stats/
 * survival.h); a metric unknown at L is filled with the mean of the rows
 * (counted); a metric constant over the rows is left out (named). */
#ifndef TEND_ANALYSIS_SURVIVAL_H
#define TEND_ANALYSIS_SURVIVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "analysis/analyze.h"
#include "core/health.h"
#include "stats/survival.h"
#include "store/store.h"

#define SURVIVAL_MAX_COLUMNS (ANALYSIS_MAX_FEATURES + 1) /* the metrics and tenure */
#define SURVIVAL_MAX_GROUPS  64 /* segments or plans shown; the rest as "(other)" */

enum survival_by { SURV_BY_BAND, SURV_BY_SEGMENT, SURV_BY_PLAN, SURV_BY_COUNT };

struct survival_options {
    int32_t landmark, end; /* days */
    const struct health_config *hc;
};

struct survival_row {
    char *account_id;
    double time; /* days from the landmark to the churn or the end */
    bool churned;
    enum health_band band;
    double score;               /* NaN when no score */
    char *group[SURV_BY_COUNT]; /* the band's name, the segment, the plan ("(none)") */
    double x[SURVIVAL_MAX_COLUMNS];
    bool known[SURVIVAL_MAX_COLUMNS];
};

struct survival_curve {
    char *name;
    struct stats_km km;
};

struct survival_result {
    struct survival_options o;
    size_t accounts; /* known at the landmark */
    size_t not_customer, short_history;
    struct survival_row *rows; /* the cohort, by account id */
    size_t n_rows, n_churned;
    size_t n_columns;
    const char *names[SURVIVAL_MAX_COLUMNS];
    size_t missing[SURVIVAL_MAX_COLUMNS];
    struct survival_curve *curves[SURV_BY_COUNT]; /* by group name */
    size_t n_curves[SURV_BY_COUNT];
    struct stats_km all;
    bool has_cox;
    struct stats_cox cox;
    char cox_error[STATS_ERR_BYTES];            /* when not has_cox */
    const char *left_out[SURVIVAL_MAX_COLUMNS]; /* constant columns, not fitted */
    size_t n_left_out;
};

const char *survival_by_name(enum survival_by by);

/* Runs the analysis. Errors: TEND_ERR_INVALID with a message in err
 * (STATS_ERR_BYTES) for an empty cohort; store errors as they are. The Cox
 * fit failing is not an error: has_cox false and cox_error say why. */
enum tend_err survival_run(struct store *s, const struct survival_options *o,
                           struct survival_result *out, char *err);
void survival_result_free(struct survival_result *r);

/* Writes the cohort as CSV (account_id, time_days, churned, band, segment,
 * plan, then the Cox columns as fitted, unknowns filled) to path. */
enum tend_err survival_export(const struct survival_result *r, const char *path, char *err);

#endif
