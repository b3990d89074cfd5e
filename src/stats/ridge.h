/* ridge.h: L2-penalised logistic regression, its time-ordered cross-validation,
 * calibration of a score into a probability (Platt, isotonic) and the measures
 * of a probability forecast (calibration table, Brier score, log loss). Pure:
 * no store, no I/O, no clock.
 *
 * The penalised fit follows scikit-learn's LogisticRegression(penalty="l2", C)
 * exactly: it minimises
 *     C * sum_i logloss_i + 0.5 * sum_{j >= 1} beta_j^2
 * (the intercept beta_0 is not penalised) on the columns as given: the caller
 * standardises them first (stats/transform.h), so that one C means the same
 * for every column. tests/integration/ridge_oracle.sh holds tend to
 * scikit-learn on the coefficients to 1e-4.
 *
 * What this is not: a general GLM (no weights, no offsets, no L1), nor a
 * column screen (stats_logit_fit drops constant and collinear columns; under a
 * penalty neither is needed: a constant column's coefficient is 0 and
 * collinear ones share the weight). */
#ifndef TEND_STATS_RIDGE_H
#define TEND_STATS_RIDGE_H

#include <stddef.h>

#include "stats/logit.h"
#include "util/err.h"

/* Log loss clips a probability to [STATS_P_EPS, 1 - STATS_P_EPS]. */
#define STATS_P_EPS 1e-15

/* Fits y on the k columns of d (d->drop_separating is ignored) with penalty
 * strength 1/c, by Newton's method (IRLS) on the penalised objective, halving
 * a step that does not lower it, until every component of the gradient is
 * below 1e-10 relative to its scale (the sum of |x| over the rows of its
 * column, at least 1), at most 100 iterations.
 *
 * On success *out owns its memory (stats_fit_free): scale STATS_OWN_SCALE,
 * every column kept in order (column[m] = m - 1, no dropped), mean and std_dev
 * of each column over the rows, log_lik the unpenalised log-likelihood at the
 * optimum, cov the inverse of the penalised Hessian X'WX + diag(0, 1/c, ...),
 * and se, z, p, ci from it as usual. Under a penalty these are approximate
 * (the estimate is biased towards 0; the interval is the Bayesian one of a
 * normal prior with variance c), so read p as a guide, not a test.
 * No separation error: the penalty keeps the optimum finite.
 *
 * Errors (TEND_ERR_INVALID, message in err, STATS_ERR_BYTES): no rows, an
 * outcome other than 0/1 or without both classes, a non-finite x, c not a
 * finite positive number, no convergence. d is not kept. */
enum tend_err stats_ridge_fit(const struct stats_data *d, double c, struct stats_fit *out,
                              char *err);

/* Forward-chaining (time-ordered) cross-validation of the penalty. Row i of d
 * carries fold[i] in 0..n_folds-1 (0 the oldest). For each split f = 1 ..
 * n_folds - 1, each cs[j] is fitted on the rows with fold < f and scored by
 * the mean log loss on the rows with fold == f; cv_loss[j] (n_cs, the
 * caller's array) is the mean over the splits, *best_c the cs[j] with the
 * smallest cv_loss (on a tie the smaller C: the stronger penalty).
 *
 * A split is skipped, for every C alike, when its training rows lack a class
 * or its test fold has no rows (an early fold without a churn is common);
 * when no split is left it is an error. Errors (TEND_ERR_INVALID): n_folds <
 * 2, a fold outside 0..n_folds-1, n_cs = 0, a C not finite positive, no
 * usable split, a fit that fails (its message). Outputs untouched on error. */
enum tend_err stats_ridge_cv(const struct stats_data *d, const int *fold, int n_folds,
                             const double *cs, size_t n_cs, double *best_c, double *cv_loss,
                             char *err);
/* stats_ridge_cv with a gap in time between each split's training and test
 * rows, for rows whose outcome is observed over a window: t[i] is row i's
 * time (a snapshot day) and its outcome covers (t[i], t[i] + gap]. A split f
 * trains only on the rows with fold < f and t[i] + gap < the earliest t of
 * fold f, so that no training row's outcome window reaches the time of the
 * rows it is scored on (it would have seen their future). t NULL: no gap, as
 * stats_ridge_cv. A split left without both classes is skipped as above. */
enum tend_err stats_ridge_cv_gap(const struct stats_data *d, const int *fold, int n_folds,
                                 const double *t, double gap, const double *cs, size_t n_cs,
                                 double *best_c, double *cv_loss, char *err);

/* ---- calibration ---------------------------------------------------------- */

/* Platt scaling: p = 1 / (1 + exp(-(a * s + b))). */
struct stats_platt {
    double a, b;
};

/* Fits a and b by maximum likelihood (unpenalised logistic regression of y on
 * s, as statsmodels' Logit; no target smoothing) on n pairs (s = a model's log
 * odds, y 0/1). A constant s gives a = 0 and b the log odds of the base rate.
 * Errors (TEND_ERR_INVALID, err): y not 0/1 or one class only, a non-finite s,
 * s separating y (no maximum). *out untouched on error. */
enum tend_err stats_platt_fit(const double *s, const double *y, size_t n, struct stats_platt *out,
                              char *err);
/* The calibrated probability of score s. */
double stats_platt_apply(const struct stats_platt *m, double s);

/* Isotonic calibration: a non-decreasing step function through (x[i], y[i]),
 * interpolated linearly between the points and clipped outside them. */
struct stats_isotonic {
    size_t n;  /* points, at least 1 */
    double *x; /* n, strictly increasing */
    double *y; /* n, non-decreasing */
};

/* Fits scikit-learn's IsotonicRegression(increasing=True,
 * out_of_bounds="clip") to n pairs (s, y): rows with equal s (as
 * scikit-learn: within 1e-15, absolute, of the smallest of the group) are
 * merged into one point at that smallest s (their mean y, weighted by their
 * count), then pool adjacent
 * violators (weighted least squares, non-decreasing). y may be any finite
 * value (0/1 for a calibration). On success *out owns malloced arrays
 * (stats_isotonic_free). Errors (TEND_ERR_INVALID, err): n = 0, a non-finite
 * s or y. */
enum tend_err stats_isotonic_fit(const double *s, const double *y, size_t n,
                                 struct stats_isotonic *out, char *err);
/* The fitted value at s: the points' y interpolated linearly (numpy.interp),
 * y[0] below x[0] and y[n-1] above x[n-1]. NaN for a NaN s. */
double stats_isotonic_apply(const struct stats_isotonic *m, double s);
/* Frees what m owns and zeroes it; accepts NULL and a zeroed model. */
void stats_isotonic_free(struct stats_isotonic *m);

/* ---- measures of a probability forecast ----------------------------------- */

/* One bin of a calibration table. */
struct stats_calib_bin {
    int bin;           /* 1 .. bins, lowest predictions first */
    double p_lo, p_hi; /* the smallest and largest p in the bin */
    double predicted;  /* mean p */
    double observed;   /* mean y (the event rate) */
    double ci_low;     /* the 95% interval of the observed rate if predicted */
    double ci_high;    /*   were true: predicted +- 1.96 sqrt(pred (1 - pred) / n), in [0, 1] */
    size_t n, events;
};

/* The calibration table of probabilities p against outcomes y (1 an event,
 * anything else not): the rows sorted by p, cut into `bins` groups of equal
 * count (the first n % bins groups one row larger; rows tied on p may fall
 * in neighbouring bins so the counts stay equal), deciles for bins = 10.
 * Writes min(bins, n) bins to out (the caller's array of bins) and returns
 * that count; 0 for n = 0, bins < 1 or a NaN p. Allocates a sorted copy. */
size_t stats_calibration(const double *p, const double *y, size_t n, int bins,
                         struct stats_calib_bin *out);

/* The Brier score: mean (p - y)^2, y 1 an event, anything else 0. NaN for n = 0. */
double stats_brier(const double *p, const double *y, size_t n);

/* The mean log loss -mean(y log p + (1 - y) log(1 - p)), p clipped to
 * [STATS_P_EPS, 1 - STATS_P_EPS] (scikit-learn's log_loss). NaN for n = 0. */
double stats_log_loss(const double *p, const double *y, size_t n);

#endif
