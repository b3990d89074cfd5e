/* cohort.c: quantile cohorts and their outcome rates (see cohort.h). */
#include "stats/cohort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/dense.h"
#include "util/mem.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy's linear quantile of the sorted values v (n >= 1) at p in [0, 1]. */
static double quantile(const double *v, size_t n, double p) {
    double pos = p * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    if (lo >= n - 1)
        return v[n - 1];
    double t = pos - (double)lo, a = v[lo], b = v[lo + 1];
    /* numpy's _lerp: exact at both ends. */
    return t < 0.5 ? a + (b - a) * t : b - (b - a) * (1 - t);
}

enum tend_err stats_cohorts_fit(const double *x, const double *y, size_t n, int q,
                                struct stats_cohorts *out, char *err) {
    if (n == 0)
        return stats_fail(err, "no rows");
    if (q < 2 || q > STATS_COHORT_MAX_Q)
        return stats_fail(err, "%d cohorts: give 2 to %d", q, STATS_COHORT_MAX_Q);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return stats_fail(err, "row %zu: not a finite number", i + 1);
    double *v = xmalloc(n * sizeof *v);
    memcpy(v, x, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    double *edge = xmalloc(((size_t)q + 1) * sizeof *edge);
    size_t n_edges = 0;
    for (int i = 0; i <= q; i++) {
        double e = quantile(v, n, (double)i / q);
        if (n_edges == 0 || e != edge[n_edges - 1])
            edge[n_edges++] = e;
    }
    free(v);
    struct stats_cohorts r = {.n = n};
    /* All values equal: one cohort holding them. */
    r.n_cohorts = n_edges > 1 ? n_edges - 1 : 1;
    r.c = xcalloc(r.n_cohorts, sizeof *r.c);
    for (size_t c = 0; c < r.n_cohorts; c++) {
        r.c[c].lo = edge[c];
        r.c[c].hi = n_edges > 1 ? edge[c + 1] : edge[0];
        r.c[c].min = INFINITY;
        r.c[c].max = -INFINITY;
    }
    for (size_t i = 0; i < n; i++) {
        /* The first cohort whose upper edge is at least the value. */
        size_t lo = 0, hi = r.n_cohorts - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (x[i] <= r.c[mid].hi)
                hi = mid;
            else
                lo = mid + 1;
        }
        struct stats_cohort *c = &r.c[lo];
        c->n++;
        c->events += y[i] == 1;
        c->mean += x[i];
        c->min = fmin(c->min, x[i]);
        c->max = fmax(c->max, x[i]);
        r.events += y[i] == 1;
    }
    /* An interval between two interpolated edges can hold no value (edges
     * 1, 1.4, 2 over whole numbers): it is left out, as pandas' groupby
     * (observed=True) leaves it. */
    size_t kept = 0;
    for (size_t c = 0; c < r.n_cohorts; c++)
        if (r.c[c].n)
            r.c[kept++] = r.c[c];
    r.n_cohorts = kept;
    for (size_t c = 0; c < r.n_cohorts; c++) {
        struct stats_cohort *k = &r.c[c];
        k->rate = k->n ? (double)k->events / (double)k->n : NAN;
        k->mean = k->n ? k->mean / (double)k->n : NAN;
        k->small = k->n < STATS_COHORT_MIN_ROWS;
    }
    r.rate = (double)r.events / (double)n;
    free(edge);
    *out = r;
    return TEND_OK;
}

void stats_cohorts_free(struct stats_cohorts *c) {
    if (!c)
        return;
    free(c->c);
    memset(c, 0, sizeof *c);
}
