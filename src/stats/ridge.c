/* ridge.c: the L2-penalised logistic fit, its forward-chaining
 * cross-validation, Platt and isotonic calibration, and the measures of a
 * probability forecast (see ridge.h).
 *
 * The fit is Newton's method on the penalised objective
 *     F(b) = sum_i [log(1 + exp(eta_i)) - y_i eta_i] + sum_{j>=1} b_j^2 / (2C),
 * which is scikit-learn's C * sum logloss + ||b||^2 / 2 divided by C (the same
 * minimiser). Its gradient is X'(mu - y) + b/C and its Hessian X'WX +
 * diag(0, 1/C, ...), positive definite whenever the intercept column is (both
 * classes present), so every step is a Cholesky solve and the optimum is
 * unique and finite: no separation error, no column screen. Unlike
 * stats_logit_fit this does not standardise internally: the penalty depends
 * on the columns' scale, so they are fitted as given (the caller
 * standardises, stats/transform.h). The iteration starts at the intercept of
 * the base rate with the other coefficients 0 and needs 5 to 8 steps on a
 * churn table (telco, 7,032 rows, 6 columns).
 *
 * Isotonic regression is pool-adjacent-violators on the distinct scores
 * (ties merged first, as scikit-learn's _make_unique), O(n log n) for the sort
 * and O(n) for the pooling; prediction is a binary search and a linear
 * interpolation. */
#include "stats/ridge.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/dense.h"
#include "util/mem.h"

#define MAX_ITERATIONS 100
#define GRAD_REL_TOL   1e-10
#define MAX_HALVINGS   60
#define ISOTONIC_TIE   1e-15 /* numpy.finfo(float64).resolution */

/* ---- the penalised fit ---------------------------------------------------- */

/* The penalised objective F at b (p = k + 1), filling eta; *ll the
 * unpenalised log-likelihood. */
static double objective(const struct stats_data *d, double inv_c, const double *b, double *eta,
                        double *ll) {
    size_t p = d->k + 1;
    double nll = 0;
    for (size_t i = 0; i < d->n; i++) {
        const double *row = d->x + i * d->k;
        double e = b[0];
        for (size_t j = 0; j < d->k; j++)
            e += row[j] * b[j + 1];
        eta[i] = e;
        nll += stats_log1pexp(e) - d->y[i] * e;
    }
    double pen = 0;
    for (size_t m = 1; m < p; m++)
        pen += b[m] * b[m];
    *ll = -nll;
    return nll + 0.5 * inv_c * pen;
}

/* The gradient of F and its Hessian (lower triangle) at eta and b. The
 * rank-one updates are the cost: O(n p^2 / 2) per iteration, on a row copied
 * with its leading 1 so the inner loop is a plain multiply-add. */
static void gradient_and_hessian(const struct stats_data *d, double inv_c, const double *b,
                                 const double *eta, double *grad, double *hess, double *row) {
    size_t p = d->k + 1;
    memset(grad, 0, p * sizeof *grad);
    memset(hess, 0, p * p * sizeof *hess);
    row[0] = 1;
    for (size_t i = 0; i < d->n; i++) {
        memcpy(row + 1, d->x + i * d->k, d->k * sizeof *row);
        double mu = stats_logistic(eta[i]);
        double wt = mu * (1 - mu), res = mu - d->y[i];
        for (size_t a = 0; a < p; a++) {
            grad[a] += row[a] * res;
            double wa = wt * row[a];
            double *h = hess + a * p;
            for (size_t c = 0; c <= a; c++)
                h[c] += wa * row[c];
        }
    }
    for (size_t m = 1; m < p; m++) {
        grad[m] += inv_c * b[m];
        hess[m * p + m] += inv_c;
    }
}

/* Fills out from the optimum b with covariance cov (p x p, taken over). */
static void fill_fit(const struct stats_data *d, size_t events, const double *b, double *cov,
                     double ll, int iterations, struct stats_fit *out) {
    size_t p = d->k + 1;
    memset(out, 0, sizeof *out);
    out->n = d->n;
    out->n_events = events;
    out->scale = STATS_OWN_SCALE;
    out->log_lik = ll;
    double ybar = (double)events / (double)d->n;
    out->null_log_lik = (double)d->n * (ybar * log(ybar) + (1 - ybar) * log(1 - ybar));
    out->iterations = iterations;
    out->n_coefs = p;
    out->coefs = xcalloc(p, sizeof *out->coefs);
    out->column = xmalloc(p * sizeof *out->column);
    out->cov = cov;
    for (size_t m = 0; m < p; m++) {
        struct stats_coef *c = &out->coefs[m];
        if (m == 0) {
            c->name = xstrdup("(intercept)");
            out->column[m] = SIZE_MAX;
        } else {
            size_t j = m - 1;
            c->name = xstrdup(d->names[j]);
            double sum = 0, ss = 0;
            for (size_t i = 0; i < d->n; i++)
                sum += d->x[i * d->k + j];
            c->mean = sum / (double)d->n;
            for (size_t i = 0; i < d->n; i++) {
                double e = d->x[i * d->k + j] - c->mean;
                ss += e * e;
            }
            c->std_dev = d->n > 1 ? sqrt(ss / (double)(d->n - 1)) : 0;
            out->column[m] = j;
        }
        c->coef = b[m];
        c->odds_ratio = exp(c->coef);
        if (m > 0 && c->std_dev == 0) {
            /* A column constant in these rows says nothing: its coefficient is
             * the penalty's doing (0 for a column of zeros, as a constant one
             * is after standardising), and the "standard error" the inverse
             * Hessian gives (sqrt(C) then) is the penalty's, not an estimate. */
            c->se = c->z = c->p = c->ci_low = c->ci_high = NAN;
            continue;
        }
        c->se = sqrt(cov[m * p + m]);
        c->z = c->coef / c->se;
        c->p = stats_p_two_sided(c->z);
        c->ci_low = c->coef - STATS_Z975 * c->se;
        c->ci_high = c->coef + STATS_Z975 * c->se;
    }
}

/* Newton's method with step halving. Converged when every gradient
 * component is below GRAD_REL_TOL times its scale; a step that changes no
 * coefficient, or that no halving makes acceptable, ends the iteration
 * (converged only if the gradient is within 1e3 of the tolerance). */
enum tend_err stats_ridge_fit(const struct stats_data *d, double c, struct stats_fit *out,
                              char *err) {
    if (!(c > 0) || !isfinite(c))
        return stats_fail(err, "the penalty C is %g: it must be a finite positive number", c);
    size_t events = 0;
    enum tend_err e = stats_check_data(d, &events, err);
    if (e)
        return e;
    size_t p = d->k + 1, n = d->n;
    double inv_c = 1 / c;
    double *b = xcalloc(p, sizeof *b), *trial = xmalloc(p * sizeof *trial);
    double *eta = xmalloc(n * sizeof *eta), *trial_eta = xmalloc(n * sizeof *trial_eta);
    double *grad = xmalloc(p * sizeof *grad), *hess = xmalloc(p * p * sizeof *hess);
    double *step = xmalloc(p * sizeof *step), *scale = xmalloc(p * sizeof *scale);
    double *row = xmalloc(p * sizeof *row);
    double *cov = NULL;
    /* Each gradient component's scale: the sum of |x| over its column. */
    scale[0] = (double)n;
    for (size_t m = 1; m < p; m++)
        scale[m] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d->k; j++)
            scale[j + 1] += fabs(d->x[i * d->k + j]);
    }
    for (size_t m = 0; m < p; m++)
        scale[m] = scale[m] > 1 ? scale[m] : 1;
    b[0] = log((double)events / (double)(n - events));
    double ll, f = objective(d, inv_c, b, eta, &ll);
    int iterations = 0;
    bool converged = false;
    for (;;) {
        gradient_and_hessian(d, inv_c, b, eta, grad, hess, row);
        double worst = 0;
        for (size_t m = 0; m < p; m++)
            worst = fmax(worst, fabs(grad[m]) / scale[m]);
        if (worst < GRAD_REL_TOL) {
            converged = true;
            break;
        }
        if (iterations == MAX_ITERATIONS)
            break;
        if (!stats_cholesky(hess, p))
            break;
        for (size_t m = 0; m < p; m++)
            step[m] = -grad[m];
        stats_cholesky_solve(hess, p, step);
        iterations++;
        double t = 1, ft = f, llt = ll;
        int h = 0;
        for (; h <= MAX_HALVINGS; h++, t /= 2) {
            for (size_t m = 0; m < p; m++)
                trial[m] = b[m] + t * step[m];
            ft = objective(d, inv_c, trial, trial_eta, &llt);
            /* Near the optimum a Newton step lowers F by less than F's
             * rounding (g'H^-1 g / 2 against 1e-16 |F|): accept a step that
             * does not raise F beyond that, or the gradient would stall at
             * 1e-7 instead of converging quadratically. */
            if (ft <= f + 1e-12 * fabs(f))
                break;
        }
        if (h > MAX_HALVINGS) {
            /* No step lowers F: at the rounding floor of the objective. Accept
             * when the gradient is near the tolerance (within 1e3), else fail. */
            converged = worst < GRAD_REL_TOL * 1e3;
            break;
        }
        bool moved = false;
        for (size_t m = 0; m < p; m++)
            moved |= trial[m] != b[m];
        memcpy(b, trial, p * sizeof *b);
        double *swap = eta;
        eta = trial_eta;
        trial_eta = swap;
        f = ft;
        ll = llt;
        if (!moved) {
            converged = worst < GRAD_REL_TOL * 1e3;
            break;
        }
    }
    if (!converged) {
        e = stats_fail(err,
                       "the penalised fit did not converge in %d iterations (C = %g); the columns "
                       "may be on wildly different scales: standardise them",
                       iterations, c);
        goto cleanup;
    }
    gradient_and_hessian(d, inv_c, b, eta, grad, hess, row);
    if (!stats_cholesky(hess, p)) {
        e = stats_fail(err, "the penalised Hessian is singular at the optimum (C = %g)", c);
        goto cleanup;
    }
    cov = xmalloc(p * p * sizeof *cov);
    stats_cholesky_inverse(hess, p, cov);
    fill_fit(d, events, b, cov, ll, iterations, out);
    cov = NULL;
cleanup:
    free(b);
    free(trial);
    free(eta);
    free(trial_eta);
    free(grad);
    free(hess);
    free(step);
    free(scale);
    free(row);
    free(cov);
    return e;
}

/* ---- cross-validation ----------------------------------------------------- */

/* The mean log loss of fit on the rows of d with fold == f, computed from the
 * log odds (exact, no clipping needed): log(1 + exp(eta)) - y eta. */
static double fold_loss(const struct stats_fit *fit, const struct stats_data *d, const int *fold,
                        int f) {
    double sum = 0;
    size_t count = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (fold[i] != f)
            continue;
        double eta = stats_logit_predict(fit, d->x + i * d->k);
        sum += stats_log1pexp(eta) - (d->y[i] == 1 ? eta : 0);
        count++;
    }
    return sum / (double)count;
}

enum tend_err stats_ridge_cv(const struct stats_data *d, const int *fold, int n_folds,
                             const double *cs, size_t n_cs, double *best_c, double *cv_loss,
                             char *err) {
    return stats_ridge_cv_gap(d, fold, n_folds, NULL, 0, cs, n_cs, best_c, cv_loss, err);
}

enum tend_err stats_ridge_cv_gap(const struct stats_data *d, const int *fold, int n_folds,
                                 const double *t, double gap, const double *cs, size_t n_cs,
                                 double *best_c, double *cv_loss, char *err) {
    if (n_folds < 2)
        return stats_fail(err, "%d folds: forward-chaining validation needs at least 2", n_folds);
    if (n_cs == 0)
        return stats_fail(err, "no penalty values to compare");
    for (size_t j = 0; j < n_cs; j++) {
        if (!(cs[j] > 0) || !isfinite(cs[j]))
            return stats_fail(err,
                              "penalty C number %zu is %g: it must be a finite positive number",
                              j + 1, cs[j]);
    }
    for (size_t i = 0; i < d->n; i++) {
        if (fold[i] < 0 || fold[i] >= n_folds)
            return stats_fail(err, "row %zu: fold %d is outside 0..%d", i + 1, fold[i],
                              n_folds - 1);
    }
    /* Per fold: rows and the earliest time, to know which splits are usable. */
    size_t *rows = xcalloc((size_t)n_folds, sizeof *rows);
    double *start = xmalloc((size_t)n_folds * sizeof *start);
    for (int f = 0; f < n_folds; f++)
        start[f] = INFINITY;
    for (size_t i = 0; i < d->n; i++) {
        rows[fold[i]]++;
        if (t && t[i] < start[fold[i]])
            start[fold[i]] = t[i];
    }
    double *sum = xcalloc(n_cs, sizeof *sum);
    double *x = xmalloc((d->n ? d->n : 1) * (d->k ? d->k : 1) * sizeof *x);
    double *y = xmalloc((d->n ? d->n : 1) * sizeof *y);
    enum tend_err e = TEND_OK;
    size_t splits = 0;
    for (int f = 1; f < n_folds; f++) {
        /* The training rows: fold < f (and, with times, outcome windows that
         * end before fold f starts), in their order. */
        size_t m = 0, events = 0;
        for (size_t i = 0; rows[f] > 0 && i < d->n; i++) {
            if (fold[i] >= f || (t && !(t[i] + gap < start[f])))
                continue;
            memcpy(x + m * d->k, d->x + i * d->k, d->k * sizeof *x);
            y[m] = d->y[i];
            events += y[m] == 1;
            m++;
        }
        if (rows[f] == 0 || events == 0 || events == m)
            continue;
        struct stats_data train = *d;
        train.n = m;
        train.x = x;
        train.y = y;
        for (size_t j = 0; j < n_cs; j++) {
            struct stats_fit fit;
            char why[STATS_ERR_BYTES];
            e = stats_ridge_fit(&train, cs[j], &fit, why);
            if (e) {
                stats_fail(err, "fold %d, C = %g: %s", f, cs[j], why);
                goto cleanup;
            }
            sum[j] += fold_loss(&fit, d, fold, f);
            stats_fit_free(&fit);
        }
        splits++;
    }
    if (splits == 0) {
        e = stats_fail(
            err,
            "no usable split among %d folds: each needs training rows (the earlier folds) "
            "with both outcomes and a non-empty test fold",
            n_folds);
        goto cleanup;
    }
    size_t best = 0;
    for (size_t j = 0; j < n_cs; j++) {
        sum[j] /= (double)splits;
        if (sum[j] < sum[best] || (sum[j] == sum[best] && cs[j] < cs[best]))
            best = j;
    }
    memcpy(cv_loss, sum, n_cs * sizeof *cv_loss);
    *best_c = cs[best];
cleanup:
    free(rows);
    free(start);
    free(sum);
    free(x);
    free(y);
    return e;
}

/* ---- Platt scaling -------------------------------------------------------- */

/* An unpenalised logistic regression of y on s: stats_logit_fit does the
 * checks (0/1 outcome, both classes, separation) and drops a constant s. */
enum tend_err stats_platt_fit(const double *s, const double *y, size_t n, struct stats_platt *out,
                              char *err) {
    const char *names[] = {"score"};
    struct stats_data d = {.n = n, .k = 1, .x = s, .y = y, .names = names};
    struct stats_fit fit;
    enum tend_err e = stats_logit_fit(&d, STATS_OWN_SCALE, &fit, err);
    if (e)
        return e;
    out->b = fit.coefs[0].coef;
    out->a = fit.n_coefs > 1 ? fit.coefs[1].coef : 0;
    stats_fit_free(&fit);
    return TEND_OK;
}

double stats_platt_apply(const struct stats_platt *m, double s) {
    return stats_logistic(m->a * s + m->b);
}

/* ---- isotonic regression -------------------------------------------------- */

struct pair {
    double s, y;
};

/* By score, then by outcome (the order of numpy.lexsort((y, X))). */
static int by_score(const void *a, const void *b) {
    const struct pair *p = a, *q = b;
    if (p->s != q->s)
        return p->s < q->s ? -1 : 1;
    return p->y < q->y ? -1 : p->y > q->y ? 1 : 0;
}

enum tend_err stats_isotonic_fit(const double *s, const double *y, size_t n,
                                 struct stats_isotonic *out, char *err) {
    if (n == 0)
        return stats_fail(err, "no rows to fit");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(s[i]) || !isfinite(y[i]))
            return stats_fail(err, "row %zu: the %s is not a finite number", i + 1,
                              isfinite(s[i]) ? "outcome" : "score");
    }
    struct pair *r = xmalloc(n * sizeof *r);
    for (size_t i = 0; i < n; i++)
        r[i] = (struct pair){s[i], y[i]};
    qsort(r, n, sizeof *r, by_score);
    /* Distinct scores with the mean y and the count of their rows. As
     * scikit-learn's _make_unique, a score less than ISOTONIC_TIE (absolute)
     * above the first of a group joins that group, at the first's score. */
    double *x = xmalloc(n * sizeof *x), *v = xmalloc(n * sizeof *v), *w = xmalloc(n * sizeof *w);
    size_t u = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double sum = 0;
        for (; j < n && r[j].s - r[i].s < ISOTONIC_TIE; j++)
            sum += r[j].y;
        x[u] = r[i].s;
        w[u] = (double)(j - i);
        v[u] = sum / w[u];
        u++;
        i = j;
    }
    free(r);
    /* Pool adjacent violators: blocks on a stack, each with its weighted mean,
     * weight and first point; a new point merges backwards while it is below
     * the block before it. */
    double *bv = xmalloc(u * sizeof *bv), *bw = xmalloc(u * sizeof *bw);
    size_t *start = xmalloc(u * sizeof *start), nb = 0;
    for (size_t i = 0; i < u; i++) {
        bv[nb] = v[i];
        bw[nb] = w[i];
        start[nb] = i;
        nb++;
        while (nb > 1 && bv[nb - 2] >= bv[nb - 1]) {
            double tw = bw[nb - 2] + bw[nb - 1];
            bv[nb - 2] = (bw[nb - 2] * bv[nb - 2] + bw[nb - 1] * bv[nb - 1]) / tw;
            bw[nb - 2] = tw;
            nb--;
        }
    }
    for (size_t b = 0; b < nb; b++) {
        size_t end = b + 1 < nb ? start[b + 1] : u;
        for (size_t i = start[b]; i < end; i++)
            v[i] = bv[b];
    }
    free(bv);
    free(bw);
    free(start);
    free(w);
    out->n = u;
    out->x = xrealloc(x, u * sizeof *x);
    out->y = xrealloc(v, u * sizeof *v);
    return TEND_OK;
}

double stats_isotonic_apply(const struct stats_isotonic *m, double s) {
    if (isnan(s))
        return NAN;
    if (s <= m->x[0])
        return m->y[0];
    if (s >= m->x[m->n - 1])
        return m->y[m->n - 1];
    /* The last point at or below s: x[lo] <= s < x[hi]. */
    size_t lo = 0, hi = m->n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->x[mid] <= s)
            lo = mid;
        else
            hi = mid;
    }
    double t = (s - m->x[lo]) / (m->x[hi] - m->x[lo]);
    return m->y[lo] + t * (m->y[hi] - m->y[lo]);
}

void stats_isotonic_free(struct stats_isotonic *m) {
    if (!m)
        return;
    free(m->x);
    free(m->y);
    memset(m, 0, sizeof *m);
}

/* ---- measures ------------------------------------------------------------- */

size_t stats_calibration(const double *p, const double *y, size_t n, int bins,
                         struct stats_calib_bin *out) {
    if (n == 0 || bins < 1)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(p[i]))
            return 0;
    }
    struct pair *r = xmalloc(n * sizeof *r);
    for (size_t i = 0; i < n; i++)
        r[i] = (struct pair){p[i], y[i] == 1 ? 1 : 0};
    qsort(r, n, sizeof *r, by_score);
    size_t nb = (size_t)bins < n ? (size_t)bins : n;
    size_t base = n / nb, extra = n % nb, at = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t count = base + (b < extra ? 1 : 0);
        struct stats_calib_bin *c = &out[b];
        double sp = 0;
        size_t ev = 0;
        for (size_t i = at; i < at + count; i++) {
            sp += r[i].s;
            ev += r[i].y == 1;
        }
        c->bin = (int)b + 1;
        c->p_lo = r[at].s;
        c->p_hi = r[at + count - 1].s;
        c->n = count;
        c->events = ev;
        c->predicted = sp / (double)count;
        c->observed = (double)ev / (double)count;
        double pr = fmin(fmax(c->predicted, 0), 1);
        double half = STATS_Z975 * sqrt(pr * (1 - pr) / (double)count);
        c->ci_low = fmax(0, pr - half);
        c->ci_high = fmin(1, pr + half);
        at += count;
    }
    free(r);
    return nb;
}

double stats_brier(const double *p, const double *y, size_t n) {
    if (n == 0)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double e = p[i] - (y[i] == 1 ? 1 : 0);
        s += e * e;
    }
    return s / (double)n;
}

double stats_log_loss(const double *p, const double *y, size_t n) {
    if (n == 0)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double q = fmin(fmax(p[i], STATS_P_EPS), 1 - STATS_P_EPS);
        s -= y[i] == 1 ? log(q) : log1p(-q);
    }
    return s / (double)n;
}
