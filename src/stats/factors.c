/* factors.c: strength beside significance, and correlated factors grouped
 * (see factors.h). The grouping is union-find over the pairs with |r| at or
 * above the threshold: the connected sets are exactly single linkage's
 * clusters cut at that height, without building the dendrogram. */
#include "stats/factors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/dense.h"
#include "util/mem.h"

void stats_strength_of(const struct stats_fit *f, size_t i, struct stats_strength *out) {
    memset(out, 0, sizeof *out);
    /* The log odds with every factor at its mean. */
    double at_means = f->coefs[0].coef;
    if (f->scale == STATS_OWN_SCALE)
        for (size_t j = 1; j < f->n_coefs; j++)
            at_means += f->coefs[j].coef * f->coefs[j].mean;
    const struct stats_coef *c = &f->coefs[i];
    out->std_coef = f->scale == STATS_OWN_SCALE ? c->coef * c->std_dev : c->coef;
    out->base_rate = stats_logistic(at_means);
    out->plus_sd_rate = stats_logistic(at_means + out->std_coef);
    out->impact = out->plus_sd_rate - out->base_rate;
    out->relative = out->base_rate > 0 ? out->impact / out->base_rate : NAN;
    double rel = fabs(out->relative);
    out->significant_weak = c->p < 0.05 && rel < STATS_WEAK_RELATIVE;
    out->strong_not_significant = !(c->p < 0.05) && rel >= STATS_STRONG_RELATIVE;
}

static size_t find(size_t *parent, size_t a) {
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    return a;
}

static const struct stats_group *sort_groups;

static int by_strength(const void *a, const void *b) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = fabs(sort_groups[i].r_outcome), y = fabs(sort_groups[j].r_outcome);
    if (x != y)
        return x > y ? -1 : 1;
    return sort_groups[i].member[0] < sort_groups[j].member[0] ? -1 : 1;
}

/* Pearson's r of columns a and b of z (standardised: mean 0, sample sd 1). */
static double corr_of(const double *za, size_t sa, const double *zb, size_t sb, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += za[i * sa] * zb[i * sb];
    return s / (double)(n - 1);
}

enum tend_err stats_groups_fit(const double *x, const double *y, size_t n, size_t k,
                               const char *const *names, double threshold, size_t max_groups,
                               struct stats_groups *out, char *err) {
    if (n < 3)
        return stats_fail(err, "%zu rows: grouping needs 3 or more", n);
    if (k == 0 || k > STATS_FACTORS_MAX)
        return stats_fail(err, "%zu columns: grouping takes 1 to %d", k, STATS_FACTORS_MAX);
    /* Standardise the columns and the outcome (z[i * (k + 1) + k] is y). */
    size_t w = k + 1;
    double *z = xmalloc(n * w * sizeof *z);
    for (size_t j = 0; j < w; j++) {
        double mean = 0, ss = 0;
        for (size_t i = 0; i < n; i++)
            mean += j < k ? x[i * k + j] : y[i];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) {
            double d = (j < k ? x[i * k + j] : y[i]) - mean;
            z[i * w + j] = d;
            ss += d * d;
        }
        double sd = sqrt(ss / (double)(n - 1));
        if (!(sd > 0)) {
            free(z);
            return j < k ? stats_fail(err, "column %s is constant: it cannot be grouped", names[j])
                         : stats_fail(err, "the outcome is constant");
        }
        for (size_t i = 0; i < n; i++)
            z[i * w + j] /= sd;
    }
    struct stats_groups r = {.k = k, .n = n};
    r.corr = xmalloc(k * k * sizeof *r.corr);
    r.r_y = xmalloc(k * sizeof *r.r_y);
    size_t *parent = xmalloc(k * sizeof *parent);
    for (size_t a = 0; a < k; a++) {
        parent[a] = a;
        r.r_y[a] = corr_of(z + a, w, z + k, w, n);
        r.corr[a * k + a] = 1;
        for (size_t b = 0; b < a; b++) {
            double c = corr_of(z + a, w, z + b, w, n);
            r.corr[a * k + b] = r.corr[b * k + a] = c;
        }
    }
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < a; b++)
            if (fabs(r.corr[a * k + b]) >= threshold) {
                size_t ra = find(parent, a), rb = find(parent, b);
                if (ra != rb)
                    parent[ra > rb ? ra : rb] = ra < rb ? ra : rb;
            }
    /* One group per root, members in column order. */
    struct stats_group *all = xcalloc(k, sizeof *all);
    size_t n_all = 0;
    size_t *slot = xmalloc(k * sizeof *slot);
    for (size_t a = 0; a < k; a++) {
        size_t root = find(parent, a);
        if (root == a) {
            slot[a] = n_all++;
            all[slot[a]].member = xmalloc(k * sizeof(size_t));
            all[slot[a]].sign = xmalloc(k * sizeof(int));
        }
        struct stats_group *g = &all[slot[root]];
        g->member[g->n_members++] = a;
    }
    double *score = xcalloc(n, sizeof *score);
    for (size_t gi = 0; gi < n_all; gi++) {
        struct stats_group *g = &all[gi];
        /* The anchor: the member most correlated with the outcome. */
        size_t best = 0;
        for (size_t m = 1; m < g->n_members; m++)
            if (fabs(r.r_y[g->member[m]]) > fabs(r.r_y[g->member[best]]))
                best = m;
        size_t anchor = g->member[best];
        memmove(g->member + 1, g->member, best * sizeof *g->member);
        g->member[0] = anchor;
        for (size_t m = 0; m < g->n_members; m++)
            g->sign[m] = r.corr[anchor * k + g->member[m]] < 0 ? -1 : 1;
        /* Its correlation with the outcome, from the score. */
        double mean = 0, ss = 0, sy = 0;
        for (size_t i = 0; i < n; i++) {
            score[i] = 0;
            for (size_t m = 0; m < g->n_members; m++)
                score[i] += g->sign[m] * z[i * w + g->member[m]];
            score[i] /= (double)g->n_members;
            mean += score[i];
        }
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) {
            ss += (score[i] - mean) * (score[i] - mean);
            sy += (score[i] - mean) * z[i * w + k];
        }
        g->r_outcome = ss > 0 ? sy / sqrt(ss * (double)(n - 1)) : 0;
    }
    size_t *order = xmalloc(n_all * sizeof *order);
    for (size_t i = 0; i < n_all; i++)
        order[i] = i;
    sort_groups = all;
    qsort(order, n_all, sizeof *order, by_strength);
    sort_groups = NULL;
    r.n_all = n_all;
    r.n_groups = n_all < max_groups ? n_all : max_groups;
    r.g = xcalloc(r.n_groups ? r.n_groups : 1, sizeof *r.g);
    for (size_t i = 0; i < n_all; i++) {
        if (i < r.n_groups) {
            r.g[i] = all[order[i]];
        } else {
            free(all[order[i]].member);
            free(all[order[i]].sign);
        }
    }
    r.score = xmalloc(n * (r.n_groups ? r.n_groups : 1) * sizeof *r.score);
    for (size_t gi = 0; gi < r.n_groups; gi++) {
        const struct stats_group *g = &r.g[gi];
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t m = 0; m < g->n_members; m++)
                s += g->sign[m] * z[i * w + g->member[m]];
            r.score[i * r.n_groups + gi] = s / (double)g->n_members;
        }
    }
    free(order);
    free(all);
    free(slot);
    free(score);
    free(parent);
    free(z);
    *out = r;
    return TEND_OK;
}

void stats_groups_free(struct stats_groups *g) {
    if (!g)
        return;
    for (size_t i = 0; i < g->n_groups; i++) {
        free(g->g[i].member);
        free(g->g[i].sign);
    }
    free(g->g);
    free(g->corr);
    free(g->r_y);
    free(g->score);
    memset(g, 0, sizeof *g);
}
