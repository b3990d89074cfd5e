/* interval.c: confidence intervals for rates and differences (see
 * interval.h). */
#include "stats/interval.h"

#include <math.h>

void stats_wilson(int64_t k, int64_t n, double *lo, double *hi) {
    double z = STATS_Z95, p = (double)k / (double)n, z2n = z * z / (double)n;
    double centre = (p + z2n / 2) / (1 + z2n);
    double half = z * sqrt(p * (1 - p) / (double)n + z2n / (4 * (double)n)) / (1 + z2n);
    *lo = fmax(0, centre - half);
    *hi = fmin(1, centre + half);
}

void stats_newcombe_diff(int64_t k1, int64_t n1, int64_t k0, int64_t n0, double *d, double *lo,
                         double *hi) {
    double p1 = (double)k1 / (double)n1, p0 = (double)k0 / (double)n0;
    double l1, u1, l0, u0;
    stats_wilson(k1, n1, &l1, &u1);
    stats_wilson(k0, n0, &l0, &u0);
    *d = p1 - p0;
    *lo = *d - sqrt((p1 - l1) * (p1 - l1) + (u0 - p0) * (u0 - p0));
    *hi = *d + sqrt((u1 - p1) * (u1 - p1) + (p0 - l0) * (p0 - l0));
}

void stats_mean_diff(double sum1, double sq1, int64_t n1, double sum0, double sq0, int64_t n0,
                     double *d, double *lo, double *hi) {
    double m1 = sum1 / (double)n1, m0 = sum0 / (double)n0;
    double v1 = (sq1 - (double)n1 * m1 * m1) / (double)(n1 - 1);
    double v0 = (sq0 - (double)n0 * m0 * m0) / (double)(n0 - 1);
    double se = sqrt(fmax(0, v1) / (double)n1 + fmax(0, v0) / (double)n0);
    *d = m1 - m0;
    *lo = *d - STATS_Z95 * se;
    *hi = *d + STATS_Z95 * se;
}
