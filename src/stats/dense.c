/* dense.c: small dense algebra and the logistic function for the fits of
 * stats/ (see dense.h). Cholesky rather than a general LU: every matrix here
 * is a (penalised) information matrix, symmetric and positive definite unless
 * the columns are degenerate, which the failed pivot then reports. */
#include "stats/dense.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

#define CHOLESKY_REL_TOL 1e-13

/* log(1 + exp(t)) without overflow or loss of digits. */
double stats_log1pexp(double t) {
    return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

/* The logistic function 1 / (1 + exp(-t)), for either sign of t. */
double stats_logistic(double t) {
    if (t >= 0)
        return 1.0 / (1.0 + exp(-t));
    double e = exp(t);
    return e / (1.0 + e);
}

/* Factors the symmetric positive definite p x p matrix a (row-major; only the
 * lower triangle is read) into L L' in place (L in the lower triangle). False
 * when a pivot falls below CHOLESKY_REL_TOL of its diagonal entry: the matrix
 * is singular as far as double precision can tell. */
bool stats_cholesky(double *a, size_t p) {
    for (size_t j = 0; j < p; j++) {
        double diag = a[j * p + j];
        double s = diag;
        for (size_t k = 0; k < j; k++)
            s -= a[j * p + k] * a[j * p + k];
        if (!(diag > 0) || !(s > CHOLESKY_REL_TOL * diag))
            return false;
        double l = sqrt(s);
        a[j * p + j] = l;
        for (size_t i = j + 1; i < p; i++) {
            double t = a[i * p + j];
            for (size_t k = 0; k < j; k++)
                t -= a[i * p + k] * a[j * p + k];
            a[i * p + j] = t / l;
        }
    }
    return true;
}

/* Solves L L' x = b in place (b becomes x), L from cholesky(). */
void stats_cholesky_solve(const double *l, size_t p, double *b) {
    for (size_t i = 0; i < p; i++) {
        double t = b[i];
        for (size_t k = 0; k < i; k++)
            t -= l[i * p + k] * b[k];
        b[i] = t / l[i * p + i];
    }
    for (size_t i = p; i-- > 0;) {
        double t = b[i];
        for (size_t k = i + 1; k < p; k++)
            t -= l[k * p + i] * b[k];
        b[i] = t / l[i * p + i];
    }
}

/* The inverse of L L' into inv (p x p, full, symmetric), column by column. */
void stats_cholesky_inverse(const double *l, size_t p, double *inv) {
    double *col = xmalloc(p * sizeof *col);
    for (size_t j = 0; j < p; j++) {
        memset(col, 0, p * sizeof *col);
        col[j] = 1;
        stats_cholesky_solve(l, p, col);
        for (size_t i = 0; i < p; i++)
            inv[i * p + j] = col[i];
    }
    /* Symmetrise away rounding, so variances and covariances agree exactly. */
    for (size_t i = 0; i < p; i++) {
        for (size_t j = 0; j < i; j++) {
            double m = 0.5 * (inv[i * p + j] + inv[j * p + i]);
            inv[i * p + j] = inv[j * p + i] = m;
        }
    }
    free(col);
}

enum tend_err stats_fail(char *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, STATS_ERR_BYTES, fmt, ap);
    va_end(ap);
    return TEND_ERR_INVALID;
}

enum tend_err stats_check_data(const struct stats_data *d, size_t *events, char *err) {
    if (d->n == 0)
        return stats_fail(err, "no rows to fit");
    if (d->k > 0 && (!d->x || !d->names))
        return stats_fail(err, "columns without values or names");
    size_t ev = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->y[i] != 0 && d->y[i] != 1)
            return stats_fail(err, "row %zu: the outcome is %g, not 0 or 1", i + 1, d->y[i]);
        ev += d->y[i] == 1;
        for (size_t j = 0; j < d->k; j++) {
            if (!isfinite(d->x[i * d->k + j]))
                return stats_fail(err, "row %zu, column %s: the value is not a finite number",
                                  i + 1, d->names[j]);
        }
    }
    if (ev == 0 || ev == d->n)
        return stats_fail(err, "the outcome is %d on every row (%zu rows): both classes are needed",
                          ev ? 1 : 0, d->n);
    if (events)
        *events = ev;
    return TEND_OK;
}
