/* cohort.h: the outcome rate by quantile cohort of one metric, pure.
 *
 * The cohorts are pandas' qcut(x, q, duplicates="drop"): the edges are the
 * quantiles 0, 1/q, ..., 1 of the values, each by linear interpolation between
 * the two nearest order statistics (numpy's default: position p (n - 1) in
 * the sorted values); equal edges are merged, so a metric with many ties
 * (a count that is mostly 0) has fewer than q cohorts; a value v falls in the
 * cohort (edge[i], edge[i + 1]], the first cohort including its lower edge.
 * Equal values are therefore always in the same cohort, and a cohort's size
 * is whatever the ties make it, not n / q. A cohort no value falls in (edges
 * 1, 1.4, 2 over whole numbers leave (1, 1.4] empty) is left out. tests/integration/cohorts.sh
 * holds tend to pandas on data with heavy ties. */
#ifndef TEND_STATS_COHORT_H
#define TEND_STATS_COHORT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define STATS_COHORT_MAX_Q 100
/* A cohort with fewer rows than this is flagged: its rate is too noisy to
 * read (at a 10% rate, 30 rows give a standard error of 5.5 points). */
#define STATS_COHORT_MIN_ROWS 30

struct stats_cohort {
    double lo, hi;    /* its edges: (lo, hi], [lo, hi] for the first */
    double min, max;  /* the values in it */
    size_t n, events; /* rows, and rows with y = 1 */
    double rate;      /* events / n */
    double mean;      /* of the values in it */
    bool small;       /* n < STATS_COHORT_MIN_ROWS */
};

struct stats_cohorts {
    struct stats_cohort *c; /* n_cohorts, by value */
    size_t n_cohorts;
    size_t n, events; /* rows used */
    double rate;      /* the overall rate */
};

/* The cohorts of x (n values; y[i] 0 or 1) by q quantiles (2..
 * STATS_COHORT_MAX_Q). Errors (TEND_ERR_INVALID, message in err,
 * STATS_ERR_BYTES): no rows, a bad q, a non-finite value. *out owns its
 * cohorts (stats_cohorts_free). */
enum tend_err stats_cohorts_fit(const double *x, const double *y, size_t n, int q,
                                struct stats_cohorts *out, char *err);
void stats_cohorts_free(struct stats_cohorts *c);

#endif
