/* dense.h: small dense algebra and the logistic function, shared by the fits
 * of stats/ (logit.c, ridge.c). Internal to stats/: nothing outside it
 * includes this header. Pure. */
#ifndef TEND_STATS_DENSE_H
#define TEND_STATS_DENSE_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
