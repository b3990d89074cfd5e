/* test_ridge.c: the penalised logistic fit, its forward-chaining
 * cross-validation, Platt and isotonic calibration, the calibration table,
 * Brier and log loss (stats/ridge.c) and the column recipe
 * (stats/transform.c).
 *
 * Expected values come from closed forms worked out in the comments, from
 * conditions the optimum must satisfy (checked here, not copied from tend),
 * or from the unpenalised fit of stats/logit.c, itself held to statsmodels.
 * The isotonic cases were also run through scikit-learn 1.2.1
 * (IsotonicRegression(out_of_bounds="clip").fit(s, y), then predict(t) and
 * X_thresholds_/y_thresholds_), which gave the values in their comments.
 * scikit-learn itself is the oracle of tests/integration/ridge_oracle.sh. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats/logit.h"
#include "stats/ridge.h"
#include "stats/transform.h"

/* |a - b| <= tol (absolute). */
static void assert_near(double a, double b, double tol) {
    if (!(fabs(a - b) <= tol)) {
        print_error("%.17g is not within %g of %.17g\n", a, tol, b);
        fail();
    }
}

static double logistic(double t) {
    return 1 / (1 + exp(-t));
}

/* Fits, asserting success, with the message on failure. */
static void ridge_ok(const struct stats_data *d, double c, struct stats_fit *f) {
    char err[STATS_ERR_BYTES] = "";
    enum tend_err e = stats_ridge_fit(d, c, f, err);
    if (e) {
        print_error("ridge fit failed: %s\n", err);
        fail();
    }
}

/* A deterministic uniform in [0, 1) (xorshift64*), so tests need no libc
 * random state. */
static double uniform(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* A standard normal by Box-Muller. */
static double normal(uint64_t *s) {
    double u = uniform(s), v = uniform(s);
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* ---- the penalised fit ---------------------------------------------------- */

/* x = +1 on m rows (k events) and -1 on m rows (m - k events): by symmetry
 * the intercept is 0 and mu = sigma(b) on one side, sigma(-b) on the other.
 * The stationarity condition of C sum logloss + b^2/2 for b is then
 * 2 (k - m sigma(b)) = b / C, solved here by bisection; the Hessian is
 * diagonal: 2 m s(1-s) for the intercept and 2 m s(1-s) + 1/C for b, so the
 * standard errors are their inverse square roots. */
static void symmetric_case_matches_its_closed_form(void **state) {
    (void)state;
    enum { M = 20, K = 15, N = 2 * M };
    const double c = 0.1;
    double x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = i < M ? 1 : -1;
        y[i] = i < K || (i >= M && i < M + (M - K));
    }
    double lo = 0, hi = 10;
    for (int it = 0; it < 200; it++) {
        double mid = (lo + hi) / 2;
        if (2 * (K - M * logistic(mid)) - mid / c > 0)
            lo = mid;
        else
            hi = mid;
    }
    double b = (lo + hi) / 2, s = logistic(b), w = 2 * M * s * (1 - s);
    const char *names[] = {"side"};
    struct stats_data d = {N, 1, x, y, names, false};
    struct stats_fit f;
    ridge_ok(&d, c, &f);
    assert_int_equal(f.n_coefs, 2);
    assert_int_equal(f.scale, STATS_OWN_SCALE);
    assert_string_equal(f.coefs[1].name, "side");
    assert_near(f.coefs[0].coef, 0, 1e-12);
    assert_near(f.coefs[1].coef, b, 1e-10);
    assert_near(f.coefs[0].se, 1 / sqrt(w), 1e-10);
    assert_near(f.coefs[1].se, 1 / sqrt(w + 1 / c), 1e-10);
    assert_near(f.coefs[1].z, f.coefs[1].coef / f.coefs[1].se, 1e-12);
    /* The unpenalised estimate is log(15/5) = 1.0986: the penalty shrinks it. */
    assert_true(b < log(3.0) && b > 0);
    stats_fit_free(&f);
}

/* Correlated columns on different scales: at the optimum the gradient of
 * the penalised objective vanishes, X'(y - mu) = b / C for every penalised
 * column and sum (y - mu) = 0 for the intercept, computed here from the
 * returned coefficients. */
static void optimum_satisfies_the_penalised_score_equations(void **state) {
    (void)state;
    enum { N = 500, K = 3 };
    double x[N * K], y[N];
    uint64_t seed = 42;
    for (int i = 0; i < N; i++) {
        double a = normal(&seed), b = 0.6 * a + 0.8 * normal(&seed);
        x[i * K] = a;
        x[i * K + 1] = 3 * b;
        x[i * K + 2] = uniform(&seed) < 0.3;
        double eta = -0.5 + 0.8 * a - 0.3 * b + 0.7 * x[i * K + 2];
        y[i] = uniform(&seed) < logistic(eta);
    }
    const char *names[] = {"a", "b", "flag"};
    struct stats_data d = {N, K, x, y, names, false};
    const double cs[] = {0.001, 0.05, 1, 100};
    for (size_t t = 0; t < sizeof cs / sizeof cs[0]; t++) {
        struct stats_fit f;
        ridge_ok(&d, cs[t], &f);
        double g[K + 1] = {0};
        for (int i = 0; i < N; i++) {
            double eta = stats_logit_predict(&f, x + i * K);
            double r = y[i] - logistic(eta);
            g[0] += r;
            for (int j = 0; j < K; j++)
                g[j + 1] += x[i * K + j] * r;
        }
        assert_near(g[0], 0, 1e-8);
        for (int j = 0; j < K; j++)
            assert_near(g[j + 1], f.coefs[j + 1].coef / cs[t], 1e-8 * (1 + 1 / cs[t]));
        assert_true(f.iterations < 30);
        stats_fit_free(&f);
    }
}

/* With a negligible penalty the fit is the maximum likelihood one, which
 * stats_logit_fit computes by another path (on standardised columns). */
static void huge_c_gives_the_unpenalised_fit(void **state) {
    (void)state;
    enum { N = 400, K = 2 };
    double x[N * K], y[N];
    uint64_t seed = 7;
    for (int i = 0; i < N; i++) {
        x[i * K] = normal(&seed);
        x[i * K + 1] = normal(&seed);
        y[i] = uniform(&seed) < logistic(0.3 + x[i * K] - 0.5 * x[i * K + 1]);
    }
    const char *names[] = {"u", "v"};
    struct stats_data d = {N, K, x, y, names, false};
    struct stats_fit r, m;
    char err[STATS_ERR_BYTES];
    ridge_ok(&d, 1e9, &r);
    assert_int_equal(stats_logit_fit(&d, STATS_OWN_SCALE, &m, err), TEND_OK);
    for (size_t j = 0; j < 3; j++) {
        assert_near(r.coefs[j].coef, m.coefs[j].coef, 1e-6);
        assert_near(r.coefs[j].se, m.coefs[j].se, 1e-6);
    }
    assert_near(r.log_lik, m.log_lik, 1e-8);
    stats_fit_free(&r);
    stats_fit_free(&m);
}

/* A column that separates the outcome has no maximum likelihood estimate;
 * under a penalty it has a finite one. A constant column is kept, with
 * coefficient 0: its gradient is const * sum(mu - y) + b / C, and the
 * intercept's equation makes the sum 0. */
static void separation_and_constant_columns_fit_under_a_penalty(void **state) {
    (void)state;
    enum { N = 40, K = 2 };
    double x[N * K], y[N];
    for (int i = 0; i < N; i++) {
        x[i * K] = i < 20 ? -1 - i * 0.1 : 1 + i * 0.1;
        x[i * K + 1] = 0;
        y[i] = i >= 20;
    }
    const char *names[] = {"separates", "zero"};
    struct stats_data d = {N, K, x, y, names, false};
    struct stats_fit f;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_logit_fit(&d, STATS_OWN_SCALE, &f, err), TEND_ERR_INVALID);
    ridge_ok(&d, 1, &f);
    assert_int_equal(f.n_coefs, 3);
    assert_int_equal(f.n_dropped, 0);
    assert_true(isfinite(f.coefs[1].coef) && f.coefs[1].coef > 0);
    assert_near(f.coefs[2].coef, 0, 1e-12);
    stats_fit_free(&f);
}

static void ridge_errors_say_what_is_wrong(void **state) {
    (void)state;
    double x[4] = {1, 2, 3, 4}, y[4] = {0, 0, 0, 0};
    const char *names[] = {"a"};
    struct stats_data d = {4, 1, x, y, names, false};
    struct stats_fit f;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_ridge_fit(&d, 1, &f, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "both classes are needed"));
    y[1] = 1;
    assert_int_equal(stats_ridge_fit(&d, 0, &f, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "the penalty C is 0"));
    assert_int_equal(stats_ridge_fit(&d, NAN, &f, err), TEND_ERR_INVALID);
    x[2] = INFINITY;
    assert_int_equal(stats_ridge_fit(&d, 1, &f, err), TEND_ERR_INVALID);
    assert_string_equal(err, "row 3, column a: the value is not a finite number");
    x[2] = 3;
    y[3] = 2;
    assert_int_equal(stats_ridge_fit(&d, 1, &f, err), TEND_ERR_INVALID);
    assert_string_equal(err, "row 4: the outcome is 2, not 0 or 1");
}

/* ---- cross-validation ----------------------------------------------------- */

/* Rows in time order: fold = i * folds / n. */
static void time_folds(int *fold, size_t n, int folds) {
    for (size_t i = 0; i < n; i++)
        fold[i] = (int)(i * (size_t)folds / n);
}

/* The mean log loss of C on the rows with fold == f, fitted on fold < f
 * (and, with times t, t[i] + gap < the first t of fold f), computed here
 * from stats_ridge_fit on a copy of those rows. */
static double split_loss_gap(const double *x, const double *y, size_t n, size_t k, const int *fold,
                             int f, double c, const double *t, double gap) {
    size_t m = 0;
    double start = INFINITY;
    for (size_t i = 0; t && i < n; i++)
        if (fold[i] == f && t[i] < start)
            start = t[i];
    double *tx = malloc(n * k * sizeof *tx), *ty = malloc(n * sizeof *ty);
    for (size_t i = 0; i < n; i++) {
        if (fold[i] < f && (!t || t[i] + gap < start)) {
            memcpy(tx + m * k, x + i * k, k * sizeof *tx);
            ty[m++] = y[i];
        }
    }
    const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    struct stats_data d = {m, k, tx, ty, names, false};
    struct stats_fit fit;
    ridge_ok(&d, c, &fit);
    double loss = 0;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (fold[i] != f)
            continue;
        double p = logistic(stats_logit_predict(&fit, x + i * k));
        loss -= y[i] == 1 ? log(p) : log(1 - p);
        count++;
    }
    stats_fit_free(&fit);
    free(tx);
    free(ty);
    return loss / (double)count;
}

static double split_loss(const double *x, const double *y, size_t n, size_t k, const int *fold,
                         int f, double c) {
    return split_loss_gap(x, y, n, k, fold, f, c, NULL, 0);
}

/* The horizon gap (issue 16): rows are weekly snapshots whose outcome covers
 * (t, t + 30]; a split trains only on rows whose window ends before its
 * validation fold's first day. The losses equal those computed from the
 * gapped training rows alone, and differ from the ungapped CV's, which
 * trained on rows whose outcome windows overlap the validation days. */
static void cv_gap_drops_training_rows_whose_window_reaches_the_fold(void **state) {
    (void)state;
    enum { N = 800, K = 2, FOLDS = 4 };
    double *x = malloc(N * K * sizeof *x), y[N], t[N];
    int fold[N];
    uint64_t seed = 16;
    for (int i = 0; i < N; i++) {
        t[i] = 7.0 * (i / 20); /* 20 accounts a week, 40 weeks */
        x[i * K] = normal(&seed);
        x[i * K + 1] = normal(&seed);
        y[i] = uniform(&seed) < logistic(-1 + 1.2 * x[i * K] - 0.4 * x[i * K + 1]);
    }
    time_folds(fold, N, FOLDS);
    const char *names[] = {"a", "b"};
    struct stats_data d = {N, K, x, y, names, false};
    const double cs[] = {0.001, 0.1, 10};
    double best = 0, loss[3], plain[3], best_plain;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_ridge_cv_gap(&d, fold, FOLDS, t, 30, cs, 3, &best, loss, err), TEND_OK);
    assert_int_equal(stats_ridge_cv(&d, fold, FOLDS, cs, 3, &best_plain, plain, err), TEND_OK);
    double most = 0;
    for (int j = 0; j < 3; j++) {
        double want = 0;
        for (int f = 1; f < FOLDS; f++)
            want += split_loss_gap(x, y, N, K, fold, f, cs[j], t, 30) / (FOLDS - 1);
        assert_near(loss[j], want, 1e-12);
        if (fabs(loss[j] - plain[j]) > most)
            most = fabs(loss[j] - plain[j]);
    }
    print_message("cv gap: largest loss difference against the ungapped CV %.2e\n", most);
    assert_true(most > 1e-6);
    /* A gap longer than the data leaves no split: an error, not a guess. */
    assert_int_equal(stats_ridge_cv_gap(&d, fold, FOLDS, t, 1000, cs, 3, &best, loss, err),
                     TEND_ERR_INVALID);
    assert_non_null(strstr(err, "no usable split"));
    free(x);
}

/* A real effect and plenty of rows: a tiny C shrinks it away and loses; the
 * losses equal the forward-chaining ones computed split by split (a k-fold
 * CV that trained on later folds too would not). */
static void cv_picks_a_weak_penalty_for_a_real_effect_by_forward_chaining(void **state) {
    (void)state;
    enum { N = 1200, K = 2, FOLDS = 4 };
    double *x = malloc(N * K * sizeof *x), y[N];
    int fold[N];
    uint64_t seed = 2026;
    for (int i = 0; i < N; i++) {
        x[i * K] = normal(&seed);
        x[i * K + 1] = normal(&seed);
        /* The effect grows over time: a fit that peeked at later folds would
         * score differently from one that only saw the past. */
        double drift = 1 + 2.0 * i / N;
        y[i] = uniform(&seed) < logistic(-0.5 + drift * x[i * K] + 0.5 * x[i * K + 1]);
    }
    time_folds(fold, N, FOLDS);
    const char *names[] = {"a", "b"};
    struct stats_data d = {N, K, x, y, names, false};
    const double cs[] = {0.0001, 0.01, 1, 100};
    double best = 0, loss[4];
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_ridge_cv(&d, fold, FOLDS, cs, 4, &best, loss, err), TEND_OK);
    for (int j = 0; j < 4; j++) {
        double want = 0;
        for (int f = 1; f < FOLDS; f++)
            want += split_loss(x, y, N, K, fold, f, cs[j]) / (FOLDS - 1);
        assert_near(loss[j], want, 1e-12);
    }
    assert_true(best >= 1);
    assert_true(loss[0] > loss[2] + 0.05);
    free(x);
}

/* Many noise columns, few rows, an outcome unrelated to them: the strongest
 * penalty (the base rate alone, nearly) predicts the later folds best. */
static void cv_picks_a_strong_penalty_for_noise(void **state) {
    (void)state;
    enum { N = 150, K = 8, FOLDS = 5 };
    double x[N * K], y[N];
    int fold[N];
    uint64_t seed = 99;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < K; j++)
            x[i * K + j] = normal(&seed);
        y[i] = uniform(&seed) < 0.3;
    }
    time_folds(fold, N, FOLDS);
    const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    struct stats_data d = {N, K, x, y, names, false};
    const double cs[] = {100, 1, 0.001};
    double best = 0, loss[3];
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_ridge_cv(&d, fold, FOLDS, cs, 3, &best, loss, err), TEND_OK);
    assert_true(best == 0.001);
    assert_true(loss[2] < loss[1] && loss[1] < loss[0]);
}

/* Columns that say nothing (all 0): every C gives the same loss exactly,
 * and the tie goes to the smaller C, in whatever order they are given. */
static void cv_breaks_a_tie_towards_the_smaller_c(void **state) {
    (void)state;
    enum { N = 60, FOLDS = 3 };
    double x[N] = {0}, y[N];
    int fold[N];
    for (int i = 0; i < N; i++)
        y[i] = i % 3 == 0;
    time_folds(fold, N, FOLDS);
    const char *names[] = {"nothing"};
    struct stats_data d = {N, 1, x, y, names, false};
    const double cs[] = {10, 0.5, 3};
    double best = 0, loss[3];
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_ridge_cv(&d, fold, FOLDS, cs, 3, &best, loss, err), TEND_OK);
    assert_true(loss[0] == loss[1] && loss[1] == loss[2]);
    assert_true(best == 0.5);
}

/* Fold 0 has no event: split 1 cannot be trained and is skipped; the loss
 * is the mean over splits 2 and 3 only. Bad folds are errors. */
static void cv_skips_a_split_without_both_classes_and_checks_folds(void **state) {
    (void)state;
    enum { N = 400, FOLDS = 4 };
    double x[N], y[N];
    int fold[N];
    uint64_t seed = 5;
    time_folds(fold, N, FOLDS);
    for (int i = 0; i < N; i++) {
        x[i] = normal(&seed);
        y[i] = fold[i] > 0 && uniform(&seed) < logistic(x[i]);
    }
    const char *names[] = {"a"};
    struct stats_data d = {N, 1, x, y, names, false};
    const double cs[] = {1};
    double best = 0, loss[1];
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_ridge_cv(&d, fold, FOLDS, cs, 1, &best, loss, err), TEND_OK);
    double want = (split_loss(x, y, N, 1, fold, 2, 1) + split_loss(x, y, N, 1, fold, 3, 1)) / 2;
    assert_near(loss[0], want, 1e-12);
    fold[7] = FOLDS;
    assert_int_equal(stats_ridge_cv(&d, fold, FOLDS, cs, 1, &best, loss, err), TEND_ERR_INVALID);
    assert_string_equal(err, "row 8: fold 4 is outside 0..3");
    fold[7] = 0;
    assert_int_equal(stats_ridge_cv(&d, fold, 1, cs, 1, &best, loss, err), TEND_ERR_INVALID);
    /* Only fold 0 and 1, and fold 0 without an event: no usable split. */
    for (int i = 0; i < N; i++)
        fold[i] = i >= 100;
    assert_int_equal(stats_ridge_cv(&d, fold, 2, cs, 1, &best, loss, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "no usable split"));
}

/* ---- Platt ---------------------------------------------------------------- */

/* A 0/1 score: the maximum likelihood fit reproduces each group's rate, so
 * b = logit(rate at s = 0) and a + b = logit(rate at s = 1). */
static void platt_on_a_binary_score_gives_the_group_rates(void **state) {
    (void)state;
    enum { N = 100 };
    double s[N], y[N];
    for (int i = 0; i < N; i++) {
        s[i] = i < 40;
        y[i] = i < 10 || (i >= 40 && i < 52); /* 10 of 40, 12 of 60 */
    }
    struct stats_platt m;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_platt_fit(s, y, N, &m, err), TEND_OK);
    assert_near(m.b, log(12.0 / 48.0), 1e-10);
    assert_near(m.a + m.b, log(10.0 / 30.0), 1e-10);
    assert_near(stats_platt_apply(&m, 1), 0.25, 1e-10);
    assert_near(stats_platt_apply(&m, 0), 0.2, 1e-10);
}

/* A constant score carries no information: a = 0, b the base rate's log
 * odds. A score that separates the outcome has no maximum: an error. */
static void platt_constant_score_and_separation(void **state) {
    (void)state;
    double s[6] = {2, 2, 2, 2, 2, 2}, y[6] = {1, 0, 0, 1, 0, 0};
    struct stats_platt m;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_platt_fit(s, y, 6, &m, err), TEND_OK);
    assert_near(m.a, 0, 1e-12);
    assert_near(m.b, log(2.0 / 4.0), 1e-10);
    double s2[6] = {-3, -2, -1, 1, 2, 3}, y2[6] = {0, 0, 0, 1, 1, 1};
    assert_int_equal(stats_platt_fit(s2, y2, 6, &m, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "perfect separation"));
}

/* ---- isotonic ------------------------------------------------------------- */

/* s = 1..6, y = 0 1 0 0 1 1: the violators 1 0 0 pool to 1/3, so the fit is
 * 0, 1/3, 1/3, 1/3, 1, 1; between 4 and 5 it interpolates (4.5 -> 2/3),
 * outside [1, 6] it clips. (scikit-learn: the same.) */
static void isotonic_pools_violators_interpolates_and_clips(void **state) {
    (void)state;
    double s[6] = {4, 1, 6, 2, 5, 3}, y[6] = {0, 0, 1, 1, 1, 0}; /* shuffled */
    struct stats_isotonic m;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_isotonic_fit(s, y, 6, &m, err), TEND_OK);
    const double at[] = {0, 1, 2, 2.5, 4, 4.5, 6, 10};
    const double want[] = {0, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 2.0 / 3, 1, 1};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        assert_near(stats_isotonic_apply(&m, at[i]), want[i], 1e-15);
    assert_true(isnan(stats_isotonic_apply(&m, NAN)));
    for (size_t i = 1; i < m.n; i++)
        assert_true(m.x[i] > m.x[i - 1] && m.y[i] >= m.y[i - 1]);
    stats_isotonic_free(&m);
    stats_isotonic_free(&m); /* zeroed: a second free is harmless */
}

/* Tied scores are one point with their mean: s = 1 1 2 2 3, y = 1 0 0 0 1
 * gives points (1, 1/2, weight 2), (2, 0, weight 2), (3, 1); the first two
 * pool to 1/4 (weighted), so the fit is 1/4, 1/4, 1 and 2.5 -> 5/8.
 * (scikit-learn: 0.25 0.25 0.625 1.) A decreasing outcome pools into one
 * block: the mean everywhere. */
static void isotonic_merges_ties_and_pools_a_decreasing_run(void **state) {
    (void)state;
    double s[5] = {1, 1, 2, 2, 3}, y[5] = {1, 0, 0, 0, 1};
    struct stats_isotonic m;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_isotonic_fit(s, y, 5, &m, err), TEND_OK);
    assert_int_equal(m.n, 3);
    assert_near(stats_isotonic_apply(&m, 1), 0.25, 1e-15);
    assert_near(stats_isotonic_apply(&m, 2), 0.25, 1e-15);
    assert_near(stats_isotonic_apply(&m, 2.5), 0.625, 1e-15);
    assert_near(stats_isotonic_apply(&m, 3), 1, 1e-15);
    stats_isotonic_free(&m);
    double s2[4] = {1, 2, 3, 4}, y2[4] = {1, 1, 0, 0};
    assert_int_equal(stats_isotonic_fit(s2, y2, 4, &m, err), TEND_OK);
    for (double t = 0; t <= 5; t += 0.5)
        assert_near(stats_isotonic_apply(&m, t), 0.5, 1e-15);
    stats_isotonic_free(&m);
    double one = 3, yes = 1;
    assert_int_equal(stats_isotonic_fit(&one, &yes, 1, &m, err), TEND_OK);
    assert_near(stats_isotonic_apply(&m, -7), 1, 0);
    stats_isotonic_free(&m);
    /* Scores within 1e-15 of the first of a group are one point, at the
     * first's score, as scikit-learn's _make_unique (1.2.1 gives
     * X_thresholds_ [0, 2], y_thresholds_ [2/3, 1] here). */
    double s3[4] = {0, 5e-16, 9e-16, 2}, y3[4] = {0, 1, 1, 1};
    assert_int_equal(stats_isotonic_fit(s3, y3, 4, &m, err), TEND_OK);
    assert_int_equal(m.n, 2);
    assert_near(m.x[0], 0, 0);
    assert_near(m.y[0], 2.0 / 3, 1e-15);
    stats_isotonic_free(&m);
    double bad = NAN;
    assert_int_equal(stats_isotonic_fit(&bad, &yes, 1, &m, err), TEND_ERR_INVALID);
    assert_string_equal(err, "row 1: the score is not a finite number");
    assert_int_equal(stats_isotonic_fit(s, y, 0, &m, err), TEND_ERR_INVALID);
}

/* ---- calibration table, Brier, log loss ----------------------------------- */

/* 10 rows into 5 bins of 2, sorted by p whatever the input order; each
 * bin's predicted and observed means and the interval pred +- 1.96
 * sqrt(pred (1 - pred) / n), clipped to [0, 1]. */
static void calibration_cuts_equal_count_bins_with_intervals(void **state) {
    (void)state;
    double p[10] = {0.9, 0.1, 0.3, 0.2, 0.5, 0.4, 0.7, 0.6, 0.05, 0.8};
    double y[10] = {1, 0, 1, 0, 1, 0, 1, 0, 0, 1};
    struct stats_calib_bin b[5];
    assert_int_equal(stats_calibration(p, y, 10, 5, b), 5);
    /* Sorted: (0.05,0) (0.1,0) | (0.2,0) (0.3,1) | (0.4,0) (0.5,1) |
     * (0.6,0) (0.7,1) | (0.8,1) (0.9,1). */
    const double pred[5] = {0.075, 0.25, 0.45, 0.65, 0.85};
    const double obs[5] = {0, 0.5, 0.5, 0.5, 1};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(b[i].bin, i + 1);
        assert_int_equal(b[i].n, 2);
        assert_near(b[i].predicted, pred[i], 1e-15);
        assert_near(b[i].observed, obs[i], 1e-15);
        double half = 1.959963984540054 * sqrt(pred[i] * (1 - pred[i]) / 2);
        assert_near(b[i].ci_low, fmax(0, pred[i] - half), 1e-15);
        assert_near(b[i].ci_high, fmin(1, pred[i] + half), 1e-15);
    }
    assert_near(b[0].p_lo, 0.05, 0);
    assert_near(b[0].p_hi, 0.1, 0);
    assert_int_equal(b[4].events, 2);
    assert_near(b[0].ci_low, 0, 0); /* 0.075 - 0.365: clipped */
    assert_near(b[4].ci_high, 1, 0);
}

/* 7 rows into 3 bins: 3, 2, 2 (the first n % bins one larger); more bins
 * than rows: one row each; nothing for no rows, no bins or a NaN. */
static void calibration_spreads_remainders_and_refuses_nonsense(void **state) {
    (void)state;
    double p[7] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7}, y[7] = {0, 0, 1, 0, 1, 1, 1};
    struct stats_calib_bin b[10];
    assert_int_equal(stats_calibration(p, y, 7, 3, b), 3);
    assert_int_equal(b[0].n, 3);
    assert_int_equal(b[1].n, 2);
    assert_int_equal(b[2].n, 2);
    assert_int_equal(b[0].events, 1);
    assert_near(b[2].predicted, 0.65, 1e-15);
    assert_int_equal(stats_calibration(p, y, 7, 10, b), 7);
    assert_int_equal(b[6].n, 1);
    assert_int_equal(stats_calibration(p, y, 0, 10, b), 0);
    assert_int_equal(stats_calibration(p, y, 7, 0, b), 0);
    p[3] = NAN;
    assert_int_equal(stats_calibration(p, y, 7, 3, b), 0);
}

static void brier_and_log_loss_by_hand(void **state) {
    (void)state;
    double p[2] = {0.8, 0.3}, y[2] = {1, 0};
    assert_near(stats_brier(p, y, 2), (0.04 + 0.09) / 2, 1e-15);
    assert_near(stats_log_loss(p, y, 2), -(log(0.8) + log(0.7)) / 2, 1e-15);
    /* A certain and wrong forecast is clipped to 1e-15, not infinite. */
    double q[1] = {0}, one[1] = {1};
    assert_near(stats_log_loss(q, one, 1), -log(1e-15), 1e-9);
    assert_true(isnan(stats_brier(p, y, 0)));
    assert_true(isnan(stats_log_loss(p, y, 0)));
}

/* ---- the column recipe ---------------------------------------------------- */

static void recipe_ok(const struct stats_xform_col *cols, size_t k, const double *x, size_t n,
                      struct stats_recipe *r) {
    char err[STATS_ERR_BYTES] = "";
    enum tend_err e = stats_recipe_fit(cols, k, x, n, r, err);
    if (e) {
        print_error("recipe failed: %s\n", err);
        fail();
    }
}

/* log1p of 0, e - 1, e^2 - 1 is 0, 1, 2: mean 1, sample sd 1, so the
 * standardised values are -1, 0, 1. An identity column alongside. */
static void log1p_then_standardise_with_sample_sd(void **state) {
    (void)state;
    const struct stats_xform_col cols[] = {{"logins", STATS_X_LOG1P, false},
                                           {"nps", STATS_X_IDENTITY, false}};
    double e = exp(1);
    double x[] = {0, 2, e - 1, 4, e * e - 1, 9};
    struct stats_recipe r;
    recipe_ok(cols, 2, x, 3, &r);
    assert_int_equal(r.n_in, 2);
    assert_int_equal(r.n_out, 2);
    assert_near(r.col[0].mean, 1, 1e-15);
    assert_near(r.col[0].sd, 1, 1e-15);
    assert_near(r.col[1].mean, 5, 1e-15);
    assert_near(r.col[1].sd, sqrt((9 + 1 + 16) / 2.0), 1e-15);
    double out[6];
    assert_int_equal(stats_recipe_apply_rows(&r, x, 3, out), 0);
    assert_near(out[0], -1, 1e-15);
    assert_near(out[2], 0, 1e-15);
    assert_near(out[4], 1, 1e-15);
    assert_near(out[5], 4 / r.col[1].sd, 1e-15);
}

/* Fitted on training rows 1, 2, 3 (mean 2, sd 1), applied to test rows 10,
 * 20, 30: 8, 18, 28. Standardising the test rows with their own statistics
 * (a leak) would give -1, 0, 1. */
static void apply_uses_the_training_statistics_only(void **state) {
    (void)state;
    const struct stats_xform_col cols[] = {{"tickets", STATS_X_IDENTITY, false}};
    double train[] = {1, 2, 3}, test[] = {10, 20, 30}, out[3];
    struct stats_recipe r;
    recipe_ok(cols, 1, train, 3, &r);
    assert_int_equal(stats_recipe_apply_rows(&r, test, 3, out), 0);
    assert_near(out[0], 8, 1e-15);
    assert_near(out[1], 18, 1e-15);
    assert_near(out[2], 28, 1e-15);
    /* Refitting on the test rows is what would differ. */
    struct stats_recipe leak;
    recipe_ok(cols, 1, test, 3, &leak);
    stats_recipe_apply_rows(&leak, test, 3, out);
    assert_near(out[0], -1, 1e-15);
}

/* A column missing in training gets "NAME_missing" right after it; the mean
 * and sd come from the present values; a missing value is 0 with the
 * indicator 1, and is not counted as unusable (the indicator says it). */
static void missing_values_get_an_indicator_column(void **state) {
    (void)state;
    const struct stats_xform_col cols[] = {{"nps", STATS_X_IDENTITY, true},
                                           {"seats", STATS_X_IDENTITY, true}};
    double x[] = {6, 1, NAN, 2, 10, 3, NAN, 4}; /* nps: 6, -, 10, -; seats 1..4 */
    struct stats_recipe r;
    recipe_ok(cols, 2, x, 4, &r);
    assert_int_equal(r.n_out, 3);
    assert_true(r.col[0].has_indicator);
    assert_false(r.col[1].has_indicator);
    assert_int_equal(r.col[0].n_missing, 2);
    assert_near(r.col[0].mean, 8, 1e-15);
    assert_near(r.col[0].sd, sqrt(8.0), 1e-15);
    char buf[STATS_RECIPE_NAME_BYTES + sizeof STATS_MISSING_SUFFIX];
    assert_string_equal(stats_recipe_name(&r, 0, buf), "nps");
    assert_string_equal(stats_recipe_name(&r, 1, buf), "nps_missing");
    assert_string_equal(stats_recipe_name(&r, 2, buf), "seats");
    double out[12];
    assert_int_equal(stats_recipe_apply_rows(&r, x, 4, out), 0);
    assert_near(out[0], -2 / sqrt(8.0), 1e-15);
    assert_near(out[1], 0, 0);
    assert_near(out[3], 0, 0); /* missing: 0, the training mean */
    assert_near(out[4], 1, 0); /* and the indicator says so */
}

/* At apply time, a value missing in a column that had none in training, an
 * infinity, or log1p of a value <= -1: 0 and counted. */
static void unusable_values_at_apply_time_are_zero_and_counted(void **state) {
    (void)state;
    const struct stats_xform_col cols[] = {{"logins", STATS_X_LOG1P, false},
                                           {"arr", STATS_X_IDENTITY, false}};
    double x[] = {0, 100, 3, 200, 7, 300};
    struct stats_recipe r;
    recipe_ok(cols, 2, x, 3, &r);
    double row[2] = {NAN, INFINITY}, out[2] = {9, 9};
    assert_int_equal(stats_recipe_apply(&r, row, out), 2);
    assert_near(out[0], 0, 0);
    assert_near(out[1], 0, 0);
    double row2[2] = {-2, 200};
    assert_int_equal(stats_recipe_apply(&r, row2, out), 1);
    assert_near(out[1], 0, 1e-15);
}

/* A constant column: sd taken as 1, flagged, 0 on the training rows and
 * x - mean elsewhere. A column missing on every training row: mean 0, sd 1. */
static void constant_and_all_missing_columns(void **state) {
    (void)state;
    const struct stats_xform_col cols[] = {{"plan", STATS_X_IDENTITY, false},
                                           {"nps", STATS_X_IDENTITY, true}};
    double x[] = {5, NAN, 5, NAN};
    struct stats_recipe r;
    recipe_ok(cols, 2, x, 2, &r);
    assert_true(r.col[0].constant);
    assert_near(r.col[0].sd, 1, 0);
    assert_true(r.col[1].constant);
    assert_near(r.col[1].mean, 0, 0);
    assert_int_equal(r.n_out, 3);
    double row[2] = {7, 4}, out[3];
    assert_int_equal(stats_recipe_apply(&r, row, out), 0);
    assert_near(out[0], 2, 0);
    assert_near(out[1], 4, 0);
    assert_near(out[2], 0, 0);
}

static void recipe_errors_name_row_column_and_limit(void **state) {
    (void)state;
    char err[STATS_ERR_BYTES];
    struct stats_recipe r;
    const struct stats_xform_col strict[] = {{"arr", STATS_X_IDENTITY, false}};
    double x[] = {1, NAN};
    assert_int_equal(stats_recipe_fit(strict, 1, x, 2, &r, err), TEND_ERR_INVALID);
    assert_string_equal(err, "row 2, column arr: the value is missing and the column does not "
                             "allow missing values");
    const struct stats_xform_col logc[] = {{"logins", STATS_X_LOG1P, true}};
    double neg[] = {3, -1};
    assert_int_equal(stats_recipe_fit(logc, 1, neg, 2, &r, err), TEND_ERR_INVALID);
    assert_string_equal(
        err, "row 2, column logins: the value -1 is outside the log1p transform's domain");
    const struct stats_xform_col dup[] = {{"a", STATS_X_IDENTITY, false},
                                          {"a", STATS_X_IDENTITY, false}};
    double two[] = {1, 2};
    assert_int_equal(stats_recipe_fit(dup, 2, two, 1, &r, err), TEND_ERR_INVALID);
    assert_string_equal(err, "column a appears twice");
    enum { MANY = STATS_RECIPE_MAX_COLUMNS + 1 };
    struct stats_xform_col many[MANY];
    char names[MANY][8];
    double row[MANY];
    for (int j = 0; j < MANY; j++) {
        snprintf(names[j], sizeof names[j], "c%d", j);
        many[j] = (struct stats_xform_col){names[j], STATS_X_IDENTITY, false};
        row[j] = j;
    }
    assert_int_equal(stats_recipe_fit(many, MANY - 1, row, 1, &r, err), TEND_OK);
    assert_int_equal(stats_recipe_fit(many, MANY, row, 1, &r, err), TEND_ERR_LIMIT);
    assert_string_equal(err, "65 columns: a recipe holds at most 64");
    char longname[STATS_RECIPE_NAME_BYTES + 1];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const struct stats_xform_col lng[] = {{longname, STATS_X_IDENTITY, false}};
    assert_int_equal(stats_recipe_fit(lng, 1, two, 1, &r, err), TEND_ERR_LIMIT);
    assert_int_equal(stats_recipe_fit(strict, 0, x, 1, &r, err), TEND_ERR_INVALID);
}

/* A column constant in the rows says nothing: its coefficient is the
 * penalty's (0 for zeros, as after standardising), and no standard error, z, p or interval is
 * reported (the inverse Hessian would say sqrt(C), the penalty's alone); the others are estimated
 * as without it. */
static void constant_column_has_no_standard_error(void **state) {
    (void)state;
    enum { N = 200 };
    double x[N * 2], y[N], x1[N];
    uint64_t seed = 7;
    for (int i = 0; i < N; i++) {
        double a = normal(&seed);
        x[i * 2] = x1[i] = a;
        x[i * 2 + 1] = 0.0; /* constant, as a constant column is after standardising */
        y[i] = uniform(&seed) < logistic(0.8 * a) ? 1 : 0;
    }
    const char *names[] = {"a", "flat"}, *one[] = {"a"};
    struct stats_data d = {.n = N, .k = 2, .x = x, .y = y, .names = names};
    struct stats_data d1 = {.n = N, .k = 1, .x = x1, .y = y, .names = one};
    struct stats_fit f, f1;
    ridge_ok(&d, 0.5, &f);
    ridge_ok(&d1, 0.5, &f1);
    assert_int_equal(f.n_coefs, 3);
    assert_near(f.coefs[2].coef, 0, 1e-12);
    assert_true(isnan(f.coefs[2].se) && isnan(f.coefs[2].p) && isnan(f.coefs[2].z));
    assert_true(isnan(f.coefs[2].ci_low) && isnan(f.coefs[2].ci_high));
    for (int m = 0; m < 2; m++) {
        assert_near(f.coefs[m].coef, f1.coefs[m].coef, 1e-9);
        assert_near(f.coefs[m].se, f1.coefs[m].se, 1e-9);
    }
    stats_fit_free(&f);
    stats_fit_free(&f1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(symmetric_case_matches_its_closed_form),
        cmocka_unit_test(constant_column_has_no_standard_error),
        cmocka_unit_test(optimum_satisfies_the_penalised_score_equations),
        cmocka_unit_test(huge_c_gives_the_unpenalised_fit),
        cmocka_unit_test(separation_and_constant_columns_fit_under_a_penalty),
        cmocka_unit_test(ridge_errors_say_what_is_wrong),
        cmocka_unit_test(cv_picks_a_weak_penalty_for_a_real_effect_by_forward_chaining),
        cmocka_unit_test(cv_gap_drops_training_rows_whose_window_reaches_the_fold),
        cmocka_unit_test(cv_picks_a_strong_penalty_for_noise),
        cmocka_unit_test(cv_breaks_a_tie_towards_the_smaller_c),
        cmocka_unit_test(cv_skips_a_split_without_both_classes_and_checks_folds),
        cmocka_unit_test(platt_on_a_binary_score_gives_the_group_rates),
        cmocka_unit_test(platt_constant_score_and_separation),
        cmocka_unit_test(isotonic_pools_violators_interpolates_and_clips),
        cmocka_unit_test(isotonic_merges_ties_and_pools_a_decreasing_run),
        cmocka_unit_test(calibration_cuts_equal_count_bins_with_intervals),
        cmocka_unit_test(calibration_spreads_remainders_and_refuses_nonsense),
        cmocka_unit_test(brier_and_log_loss_by_hand),
        cmocka_unit_test(log1p_then_standardise_with_sample_sd),
        cmocka_unit_test(apply_uses_the_training_statistics_only),
        cmocka_unit_test(missing_values_get_an_indicator_column),
        cmocka_unit_test(unusable_values_at_apply_time_are_zero_and_counted),
        cmocka_unit_test(constant_and_all_missing_columns),
        cmocka_unit_test(recipe_errors_name_row_column_and_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
