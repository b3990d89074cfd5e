/* dense.h: small dense algebra and the logistic function, shared by the fits
 * of stats/ (logit.c, ridge.c). Internal to stats/: nothing outside it
 * includes this header. Pure. */
#ifndef TEND_STATS_DENSE_H
#define TEND_STATS_DENSE_H

#include <stdbool.h>
#include <stddef.h>

#include "stats/logit.h"
#include "util/err.h"

/* log(1 + exp(t)) without overflow or loss of digits. */
double stats_log1pexp(double t);

/* The logistic function 1 / (1 + exp(-t)), for either sign of t. */
double stats_logistic(double t);

/* Factors the symmetric positive definite p x p matrix a (row-major; only the
 * lower triangle is read) into L L' in place (L in the lower triangle). False
 * when a pivot falls below 1e-13 of its diagonal entry: the matrix is
 * singular as far as double precision can tell. */
bool stats_cholesky(double *a, size_t p);

/* Solves L L' x = b in place (b becomes x), L from stats_cholesky(). */
void stats_cholesky_solve(const double *l, size_t p, double *b);

/* The inverse of L L' into inv (p x p, full, exactly symmetric). */
void stats_cholesky_inverse(const double *l, size_t p, double *inv);

/* Writes the formatted message into err (STATS_ERR_BYTES); returns
 * TEND_ERR_INVALID, so callers can return it directly. */
enum tend_err stats_fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checks the data of a fit: rows, named columns, y 0 or 1 with both classes,
 * every x finite; *events (may be NULL) gets the count of y = 1. Errors:
 * TEND_ERR_INVALID with the row and column in err. */
enum tend_err stats_check_data(const struct stats_data *d, size_t *events, char *err);

#endif
