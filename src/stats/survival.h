/* survival.h: time-to-event statistics, pure (no store, no I/O): the
 * Kaplan-Meier estimate of a survival curve with Greenwood's standard errors
 * and pointwise confidence bands, and the Cox proportional-hazards model with
 * Efron's handling of tied event times.
 *
 * The definitions are the ones statsmodels uses (SurvfuncRight, and
 * PHReg(ties="efron")), and tests/integration/survival_oracle.sh holds tend
 * to them to 1e-4: the curve is kept at the distinct times at which an event
 * happened; the standard error at time t is S(t) sqrt(sum d / (n (n - d)))
 * over the event times up to t (n at risk just before, d events), undefined
 * (NaN) from a time at which every account at risk had the event; the Cox
 * standard errors are the square roots of the inverse of the observed
 * information at the maximum of the partial likelihood.
 *
 * The confidence band is pointwise, on the log(-log S) scale (so it stays
 * within 0 and 1): S^exp(+-z se / (S |log S|)); it is not a simultaneous
 * band over the whole curve. */
#ifndef TEND_STATS_SURVIVAL_H
#define TEND_STATS_SURVIVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "stats/logit.h"
#include "util/err.h"

/* The most covariates a Cox fit takes. */
#define STATS_COX_MAX_COLUMNS 64

struct stats_km_point {
    double time;
    size_t at_risk, events;
    double surv, se;        /* se NaN when undefined (see above) */
    double ci_low, ci_high; /* the 95% pointwise band; NaN where se is */
};

struct stats_km {
    size_t n, n_events;        /* observations and events */
    struct stats_km_point *pt; /* n_points, by time */
    size_t n_points;
    double median; /* the first time S <= 0.5; NaN when the curve stays above */
};

/* The Kaplan-Meier curve of n observations: time[i] >= 0 the time to the
 * event or to censoring, event[i] true for an event. *out owns its points
 * (stats_km_free). Errors (TEND_ERR_INVALID, message in err,
 * STATS_ERR_BYTES): no observation, a negative or non-finite time. */
enum tend_err stats_km_fit(const double *time, const bool *event, size_t n, struct stats_km *out,
                           char *err);
void stats_km_free(struct stats_km *km);
/* S(t) of the curve: 1 before the first event time. */
double stats_km_at(const struct stats_km *km, double t);

struct stats_cox_coef {
    char *name;
    double coef, se, z, p;                /* log hazard ratio per unit of the column */
    double hazard_ratio, hr_low, hr_high; /* exp(coef) and its 95% interval */
    double mean, std_dev;                 /* of the column; hr per sd = exp(coef sd) */
};

struct stats_cox {
    size_t n, n_events;
    struct stats_cox_coef *coefs; /* k, in the columns' order (no intercept) */
    size_t k;
    double log_lik, null_log_lik; /* partial, Efron */
    int iterations;
};

/* Fits the Cox model of n observations (time, event as for stats_km_fit) on
 * k columns x (row-major, x[i * k + j], named names[j]) by Newton's method on
 * the centred and scaled columns, mapped back to the columns' own scale.
 * *out owns its memory (stats_cox_free). Errors (TEND_ERR_INVALID, message in
 * err): no column or more than STATS_COX_MAX_COLUMNS, no event, a non-finite
 * value, a constant column (named), columns that are collinear or a partial
 * likelihood without a maximum (a column that orders the events perfectly),
 * no convergence in 100 iterations. */
enum tend_err stats_cox_fit(const double *time, const bool *event, const double *x, size_t n,
                            size_t k, const char *const *names, struct stats_cox *out, char *err);
void stats_cox_free(struct stats_cox *c);

#endif
