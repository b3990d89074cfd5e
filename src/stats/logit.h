/* logit.h: logistic regression by maximum likelihood, and the ROC/AUC of a
 * score, pure (no store, no I/O).
 *
 * The fit is Newton's method (IRLS) on standardised columns (each centred on
 * its mean and divided by its standard deviation), which keeps the Hessian
 * well conditioned whatever the columns' scales; the results are then mapped
 * back exactly, so a caller can ask for coefficients per standard deviation
 * or on the columns' own scale. Standard errors come from the inverse of the
 * observed information at the optimum; z = coef / se; p is two-sided from
 * the normal distribution; the 95% interval is coef +- 1.959963984540054 se;
 * odds_ratio = exp(coef). These are the definitions statsmodels' Logit uses,
 * and tests/integration/analyze_table.sh holds tend to it.
 *
 * Before fitting, constant columns and columns that are (numerically) a linear
 * combination of the columns before them are dropped, each with a message
 * naming it. Perfect or quasi-perfect separation (the likelihood has no
 * maximum: some combination of columns predicts the outcome exactly) is an
 * error that says so, naming a single column when one alone separates. */
#ifndef TEND_STATS_LOGIT_H
#define TEND_STATS_LOGIT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define STATS_ERR_BYTES 512
#define STATS_Z975      1.959963984540054

enum stats_scale {
    STATS_OWN_SCALE,   /* a coefficient per unit of the column */
    STATS_PER_STD_DEV, /* a coefficient per standard deviation of the column (the
                        * sample one, n - 1); the intercept is then the log odds
                        * at the columns' means */
};

/* The data: n rows of k columns, row-major (x[i * k + j]), without an
 * intercept column (the fit adds one); y[i] is 0 or 1. names[j] names
 * column j. */
struct stats_data {
    size_t n, k;
    const double *x;
    const double *y;
    const char *const *names;
    /* A column that separates the outcome by itself is dropped (named in
     * stats_fit.dropped) instead of failing the fit. */
    bool drop_separating;
};

struct stats_coef {
    char *name; /* "(intercept)" first, then the kept columns in their order */
    double coef, se, z, p, ci_low, ci_high, odds_ratio;
    double mean, std_dev; /* of the column over the rows fitted (0, 0 for the intercept) */
};

struct stats_dropped {
    char *name;
    char *why; /* "constant (every row is 1)", "collinear with the columns before it
                * (InternetService=No)": a column that the columns before it explain
                * to R^2 >= 1 - 1e-9, with the ones it is a combination of */
};

struct stats_fit {
    size_t n;                 /* rows fitted */
    size_t n_events;          /* rows with y = 1 */
    struct stats_coef *coefs; /* n_coefs, the intercept first */
    size_t n_coefs;
    struct stats_dropped *dropped;
    size_t n_dropped;
    enum stats_scale scale;
    double log_lik, null_log_lik;
    int iterations;
    /* Maps kept coefficient i (i >= 1) back to its column in the data;
     * column[0] (the intercept) is SIZE_MAX. */
    size_t *column;
    /* The covariance of the coefficients on the fit's scale, n_coefs *
     * n_coefs, row-major: the se are the square roots of its diagonal. */
    double *cov;
};

/* Fits y on x. On success *out owns its memory (stats_fit_free); names are
 * copied, d is not kept. Errors, with a message in err (STATS_ERR_BYTES):
 * TEND_ERR_INVALID for no more rows than coefficients, an outcome without
 * both classes, a value of y other than 0 or 1, a non-finite x, separation
 * ("perfect separation: column NAME alone predicts the outcome ..." or "...: a
 * combination of the columns ..."), or no convergence in 100 iterations. */
enum tend_err stats_logit_fit(const struct stats_data *d, enum stats_scale scale,
                              struct stats_fit *out, char *err);
/* Frees what f owns and zeroes it; accepts NULL and a zeroed fit. */
void stats_fit_free(struct stats_fit *f);

/* The linear predictor (log odds) of one row of the data's k columns under
 * fit f (dropped columns are ignored). */
double stats_logit_predict(const struct stats_fit *f, const double *row);

/* The area under the ROC curve of score for outcome y (1 positive, anything
 * else negative): the probability that a random positive scores above a random
 * negative, ties counting one half (what scikit-learn's roc_auc_score
 * computes). O(n log n). NaN when y lacks a class or a score is NaN. */
double stats_auc(const double *score, const double *y, size_t n);

/* The ROC curve: (0,0), then one point per distinct score from the highest
 * down, ending at (1,1): false positive rate and true positive rate, as
 * scikit-learn's roc_curve(drop_intermediate=False). *fpr and *tpr are
 * malloced (the caller frees), *len points. Returns false (nothing allocated)
 * when y lacks a class or a score is NaN. */
bool stats_roc(const double *score, const double *y, size_t n, double **fpr, double **tpr,
               size_t *len);

/* The two-sided p-value of a standard normal z. */
double stats_p_two_sided(double z);

#endif
