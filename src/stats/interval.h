/* interval.h: confidence intervals for rates and their differences, pure
 * (docs/analysis.md, "Impact" and "Process"): the ones tend analyze impact
 * and process report.
 *
 * - Wilson's score interval for one proportion k/n (Wilson 1927): unlike
 *   the Wald interval p +- z sqrt(p(1-p)/n) it stays inside [0, 1] and keeps
 *   its coverage for small n or rates near 0 or 1, which CS data has (a
 *   churn rate of 3% over 40 accounts).
 * - Newcombe's hybrid score interval for a difference of two proportions
 *   (Newcombe 1998, method 10): the two Wilson intervals combined,
 *     d = p1 - p0,
 *     lo = d - sqrt((p1 - l1)^2 + (u0 - p0)^2),
 *     hi = d + sqrt((u1 - p1)^2 + (p0 - l0)^2),
 *   equal to statsmodels' confint_proportions_2indep(method="newcomb"),
 *   which the tests check.
 * - A difference of two means by the normal approximation with each arm's
 *   own variance (Welch's standard error), for many observations each.
 * Every interval here is 95% (z = 1.959963984540054). */
#ifndef TEND_STATS_INTERVAL_H
#define TEND_STATS_INTERVAL_H

#include <stdint.h>

#define STATS_Z95 1.959963984540054

/* Wilson's 95% interval of k successes in n (n > 0) into *lo, *hi. */
void stats_wilson(int64_t k, int64_t n, double *lo, double *hi);
/* Newcombe's 95% interval of k1/n1 - k0/n0 (n1, n0 > 0): the difference
 * into *d, the interval into *lo, *hi. */
void stats_newcombe_diff(int64_t k1, int64_t n1, int64_t k0, int64_t n0, double *d, double *lo,
                         double *hi);
/* The 95% interval of mean1 - mean0 from each arm's sum and sum of squares
 * (n1, n0 >= 2): the difference into *d, the interval into *lo, *hi. */
void stats_mean_diff(double sum1, double sq1, int64_t n1, double sum0, double sq0, int64_t n0,
                     double *d, double *lo, double *hi);

#endif
