/* survival.c: Kaplan-Meier curves and the Cox proportional-hazards fit (see
 * survival.h).
 *
 * Both walk the observations sorted by time. The Cox fit walks them from the
 * latest time down, so the risk set at a time (everyone whose time is at
 * least it) only grows: its sums of exp(x b), exp(x b) x and exp(x b) x x'
 * are kept running, and one pass of O(n k^2) gives the partial likelihood,
 * its gradient and its Hessian. Tied event times use Efron's approximation:
 * the d accounts that churned on one day leave the risk set's sums a d-th at
 * a time, as if they had churned one after another in an unknown order.
 * Newton's method runs on the columns centred and divided by their standard
 * deviations (the Hessian stays well conditioned whatever the units); a
 * step that lowers the likelihood is halved. */
#include "stats/survival.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/dense.h"
#include "util/mem.h"

#define COX_MAX_ITERATIONS 100
/* A coefficient beyond this many log-hazard units per standard deviation
 * means the likelihood keeps rising without a maximum. */
#define COX_MAX_COEF_PER_SD 25.0

/* qsort has no context argument: the indices sort against this array. */
static const double *sort_time;

static int cmp_index(const void *a, const void *b) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (sort_time[i] != sort_time[j])
        return sort_time[i] < sort_time[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Indices 0..n-1 sorted by time (ascending; stable by index). Malloced. */
static size_t *order_by_time(const double *time, size_t n) {
    size_t *ix = xmalloc((n ? n : 1) * sizeof *ix);
    for (size_t i = 0; i < n; i++)
        ix[i] = i;
    sort_time = time;
    qsort(ix, n, sizeof *ix, cmp_index);
    sort_time = NULL;
    return ix;
}

static enum tend_err check_times(const double *time, size_t n, char *err) {
    if (n == 0)
        return stats_fail(err, "no observations");
    for (size_t i = 0; i < n; i++)
        if (!isfinite(time[i]) || time[i] < 0)
            return stats_fail(err, "row %zu: time %g: a time must be a finite number >= 0", i + 1,
                              time[i]);
    return TEND_OK;
}

/* ---- Kaplan-Meier -------------------------------------------------------- */

enum tend_err stats_km_fit(const double *time, const bool *event, size_t n, struct stats_km *out,
                           char *err) {
    enum tend_err e = check_times(time, n, err);
    if (e)
        return e;
    size_t *ix = order_by_time(time, n);
    struct stats_km km = {.n = n, .median = NAN};
    km.pt = xmalloc((n ? n : 1) * sizeof *km.pt);
    double s = 1, greenwood = 0;
    bool undefined = false;
    for (size_t i = 0; i < n;) {
        size_t j = i, d = 0;
        while (j < n && time[ix[j]] == time[ix[i]])
            d += event[ix[j++]];
        size_t at_risk = n - i;
        if (d > 0) {
            km.n_events += d;
            s *= 1 - (double)d / (double)at_risk;
            if (d == at_risk)
                undefined = true; /* Greenwood's term divides by zero from here on */
            else
                greenwood += (double)d / ((double)at_risk * (double)(at_risk - d));
            struct stats_km_point *p = &km.pt[km.n_points++];
            p->time = time[ix[i]];
            p->at_risk = at_risk;
            p->events = d;
            p->surv = s;
            p->se = undefined || s <= 0 ? NAN : s * sqrt(greenwood);
            p->ci_low = p->ci_high = NAN;
            if (isfinite(p->se) && s < 1) {
                /* log(-log S) has standard error se / (S |log S|). */
                double w = STATS_Z975 * p->se / (s * fabs(log(s)));
                p->ci_low = pow(s, exp(w));
                p->ci_high = pow(s, exp(-w));
            }
            if (isnan(km.median) && s < 0.5)
                km.median = p->time;
        }
        i = j;
    }
    free(ix);
    *out = km;
    return TEND_OK;
}

void stats_km_free(struct stats_km *km) {
    if (!km)
        return;
    free(km->pt);
    memset(km, 0, sizeof *km);
}

double stats_km_at(const struct stats_km *km, double t) {
    double s = 1;
    for (size_t i = 0; i < km->n_points && km->pt[i].time <= t; i++)
        s = km->pt[i].surv;
    return s;
}

/* ---- Cox ------------------------------------------------------------------ */

struct cox_work {
    size_t n, k;
    const double *time;
    const bool *event;
    double *z;  /* n * k, standardised */
    size_t *ix; /* by time, ascending */
    /* Scratch for one pass: the risk set's and the tied events' sums. */
    double *s1, *s2, *e1, *e2, *xd, *num;
};

/* The Efron partial log-likelihood at beta (standardised scale) into *ll;
 * with grad and info not NULL, its gradient and the observed information
 * (minus the Hessian, k x k). False when a term is not finite. */
static bool cox_pass(struct cox_work *w, const double *beta, double *ll, double *grad,
                     double *info) {
    size_t k = w->k;
    double s0 = 0, loglik = 0;
    memset(w->s1, 0, k * sizeof *w->s1);
    memset(w->s2, 0, k * k * sizeof *w->s2);
    if (grad) {
        memset(grad, 0, k * sizeof *grad);
        memset(info, 0, k * k * sizeof *info);
    }
    for (size_t hi = w->n; hi > 0;) {
        /* The rows lo..hi-1 of the order share one time. */
        size_t lo = hi - 1;
        double t = w->time[w->ix[lo]];
        while (lo > 0 && w->time[w->ix[lo - 1]] == t)
            lo--;
        double e0 = 0;
        size_t d = 0;
        memset(w->e1, 0, k * sizeof *w->e1);
        memset(w->e2, 0, k * k * sizeof *w->e2);
        memset(w->xd, 0, k * sizeof *w->xd);
        for (size_t r = lo; r < hi; r++) {
            size_t i = w->ix[r];
            const double *zi = w->z + i * k;
            double eta = 0;
            for (size_t a = 0; a < k; a++)
                eta += zi[a] * beta[a];
            double ex = exp(eta);
            s0 += ex;
            for (size_t a = 0; a < k; a++) {
                w->s1[a] += ex * zi[a];
                for (size_t b = 0; b <= a; b++)
                    w->s2[a * k + b] += ex * zi[a] * zi[b];
            }
            if (!w->event[i])
                continue;
            d++;
            loglik += eta;
            e0 += ex;
            for (size_t a = 0; a < k; a++) {
                w->xd[a] += zi[a];
                w->e1[a] += ex * zi[a];
                for (size_t b = 0; b <= a; b++)
                    w->e2[a * k + b] += ex * zi[a] * zi[b];
            }
        }
        for (size_t l = 0; l < d; l++) {
            double f = (double)l / (double)d;
            double den = s0 - f * e0;
            if (!(den > 0) || !isfinite(den))
                return false;
            loglik -= log(den);
            if (!grad)
                continue;
            for (size_t a = 0; a < k; a++)
                w->num[a] = (w->s1[a] - f * w->e1[a]) / den;
            for (size_t a = 0; a < k; a++) {
                grad[a] -= w->num[a];
                for (size_t b = 0; b <= a; b++)
                    info[a * k + b] +=
                        (w->s2[a * k + b] - f * w->e2[a * k + b]) / den - w->num[a] * w->num[b];
            }
        }
        if (grad)
            for (size_t a = 0; a < k; a++)
                grad[a] += w->xd[a];
        hi = lo;
    }
    if (info)
        for (size_t a = 0; a < k; a++)
            for (size_t b = a + 1; b < k; b++)
                info[a * k + b] = info[b * k + a];
    *ll = loglik;
    return isfinite(loglik);
}

static void cox_work_free(struct cox_work *w) {
    free(w->z);
    free(w->ix);
    free(w->s1);
    free(w->s2);
    free(w->e1);
    free(w->e2);
    free(w->xd);
    free(w->num);
}

/* Newton's method from beta = 0; beta and cov (k x k, on the standardised
 * scale) filled on success. */
static enum tend_err cox_newton(struct cox_work *w, const char *const *names, double *beta,
                                double *cov, double *ll, double *ll0, int *iterations, char *err) {
    size_t k = w->k;
    double *grad = xmalloc(k * sizeof *grad), *info = xmalloc(k * k * sizeof *info);
    double *step = xmalloc(k * sizeof *step), *trial = xmalloc(k * sizeof *trial);
    enum tend_err e = TEND_OK;
    memset(beta, 0, k * sizeof *beta);
    double cur;
    if (!cox_pass(w, beta, &cur, NULL, NULL)) {
        e = stats_fail(err, "the partial likelihood cannot be computed");
        goto cleanup;
    }
    *ll0 = cur;
    int it;
    for (it = 1; it <= COX_MAX_ITERATIONS; it++) {
        double ignored;
        cox_pass(w, beta, &ignored, grad, info);
        if (!stats_cholesky(info, k)) {
            e = stats_fail(err, "the columns are collinear (the information matrix is "
                                "singular): leave one of the related columns out");
            goto cleanup;
        }
        memcpy(step, grad, k * sizeof *step);
        stats_cholesky_solve(info, k, step);
        double next = -INFINITY, scale = 1;
        for (int halve = 0; halve < 30; halve++, scale /= 2) {
            for (size_t a = 0; a < k; a++)
                trial[a] = beta[a] + scale * step[a];
            if (cox_pass(w, trial, &next, NULL, NULL) && next >= cur - 1e-12 * fabs(cur))
                break;
            next = -INFINITY;
        }
        if (!isfinite(next)) {
            e = stats_fail(err, "the fit does not converge (no step raises the likelihood)");
            goto cleanup;
        }
        double max_step = 0;
        for (size_t a = 0; a < k; a++) {
            max_step = fmax(max_step, fabs(trial[a] - beta[a]));
            beta[a] = trial[a];
            if (fabs(beta[a]) > COX_MAX_COEF_PER_SD) {
                e = stats_fail(err,
                               "column %s orders the events (almost) perfectly: the partial "
                               "likelihood has no maximum",
                               names[a]);
                goto cleanup;
            }
        }
        double change = next - cur;
        cur = next;
        if (max_step < 1e-10 || (fabs(change) < 1e-12 * (1 + fabs(cur)) && max_step < 1e-7))
            break;
    }
    if (it > COX_MAX_ITERATIONS) {
        e = stats_fail(err, "the fit does not converge in %d iterations", COX_MAX_ITERATIONS);
        goto cleanup;
    }
    /* The covariance at the optimum. */
    cox_pass(w, beta, &cur, grad, info);
    if (!stats_cholesky(info, k)) {
        e = stats_fail(err, "the information matrix is singular at the optimum");
        goto cleanup;
    }
    stats_cholesky_inverse(info, k, cov);
    *ll = cur;
    *iterations = it > COX_MAX_ITERATIONS ? COX_MAX_ITERATIONS : it;
cleanup:
    free(grad);
    free(info);
    free(step);
    free(trial);
    return e;
}

enum tend_err stats_cox_fit(const double *time, const bool *event, const double *x, size_t n,
                            size_t k, const char *const *names, struct stats_cox *out, char *err) {
    enum tend_err e = check_times(time, n, err);
    if (e)
        return e;
    if (k == 0 || k > STATS_COX_MAX_COLUMNS)
        return stats_fail(err, "%zu columns: a Cox fit takes 1 to %d", k, STATS_COX_MAX_COLUMNS);
    size_t events = 0;
    for (size_t i = 0; i < n; i++)
        events += event[i];
    if (events == 0)
        return stats_fail(err, "no event among the %zu observations: nothing to fit", n);
    if (n <= k)
        return stats_fail(err, "%zu observations for %zu columns: too few", n, k);
    double *mean = xcalloc(k, sizeof *mean), *sd = xcalloc(k, sizeof *sd);
    for (size_t j = 0; j < k; j++) {
        for (size_t i = 0; i < n; i++) {
            double v = x[i * k + j];
            if (!isfinite(v)) {
                free(mean);
                free(sd);
                return stats_fail(err, "row %zu, column %s: not a finite number", i + 1, names[j]);
            }
            mean[j] += v;
        }
        mean[j] /= (double)n;
        for (size_t i = 0; i < n; i++)
            sd[j] += (x[i * k + j] - mean[j]) * (x[i * k + j] - mean[j]);
        sd[j] = sqrt(sd[j] / (double)(n - 1));
        if (!(sd[j] > 0)) {
            free(mean);
            free(sd);
            return stats_fail(err, "column %s is constant: it cannot explain the hazard", names[j]);
        }
    }
    struct cox_work w = {.n = n, .k = k, .time = time, .event = event};
    w.z = xmalloc(n * k * sizeof *w.z);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            w.z[i * k + j] = (x[i * k + j] - mean[j]) / sd[j];
    w.ix = order_by_time(time, n);
    w.s1 = xmalloc(k * sizeof *w.s1);
    w.e1 = xmalloc(k * sizeof *w.e1);
    w.xd = xmalloc(k * sizeof *w.xd);
    w.num = xmalloc(k * sizeof *w.num);
    w.s2 = xmalloc(k * k * sizeof *w.s2);
    w.e2 = xmalloc(k * k * sizeof *w.e2);
    double *beta = xmalloc(k * sizeof *beta), *cov = xmalloc(k * k * sizeof *cov);
    struct stats_cox c = {.n = n, .n_events = events, .k = k};
    e = cox_newton(&w, names, beta, cov, &c.log_lik, &c.null_log_lik, &c.iterations, err);
    if (!e) {
        c.coefs = xcalloc(k, sizeof *c.coefs);
        for (size_t j = 0; j < k; j++) {
            struct stats_cox_coef *cf = &c.coefs[j];
            cf->name = xstrdup(names[j]);
            cf->coef = beta[j] / sd[j];
            cf->se = sqrt(cov[j * k + j]) / sd[j];
            cf->z = cf->coef / cf->se;
            cf->p = stats_p_two_sided(cf->z);
            cf->hazard_ratio = exp(cf->coef);
            cf->hr_low = exp(cf->coef - STATS_Z975 * cf->se);
            cf->hr_high = exp(cf->coef + STATS_Z975 * cf->se);
            cf->mean = mean[j];
            cf->std_dev = sd[j];
        }
        *out = c;
    }
    cox_work_free(&w);
    free(beta);
    free(cov);
    free(mean);
    free(sd);
    return e;
}

void stats_cox_free(struct stats_cox *c) {
    if (!c)
        return;
    for (size_t j = 0; j < c->k && c->coefs; j++)
        free(c->coefs[j].name);
    free(c->coefs);
    memset(c, 0, sizeof *c);
}
