/* test_stats.c: logistic regression, ROC/AUC (stats/logit.c) and CSV tables
 * (stats/table.c): closed-form and published results, statsmodels to full
 * precision, dropped columns, separation, ties, and the table rules. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stats/logit.h"
#include "stats/table.h"

/* |a - b| <= rel |b| (and a tiny absolute floor for zeros). */
static void assert_close(double a, double b, double rel) {
    if (!(fabs(a - b) <= rel * fabs(b) + 1e-300)) {
        print_error("%.17g is not within %g (relative) of %.17g\n", a, rel, b);
        fail();
    }
}

/* Fits, asserting success, with the message on failure. */
static void fit_ok(const struct stats_data *d, enum stats_scale scale, struct stats_fit *f) {
    char err[STATS_ERR_BYTES] = "";
    enum tend_err e = stats_logit_fit(d, scale, f, err);
    if (e) {
        print_error("fit failed: %s\n", err);
        fail();
    }
}

/* ---- closed form and published results ------------------------------------ */

/* A 2x2 table: x = 1 has 30 events and 10 non-events, x = 0 has 20 and 40.
 * The MLE is the log odds ratio with Woolf's standard error, exactly. */
static void two_by_two_table_gives_log_odds_ratio_and_woolf_se(void **state) {
    enum { N = 100 };
    double x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = i < 40;
        y[i] = i < 30 || (i >= 40 && i < 60);
    }
    const char *names[] = {"premium"};
    struct stats_data d = {N, 1, x, y, names, false};
    struct stats_fit f;
    fit_ok(&d, STATS_OWN_SCALE, &f);
    assert_int_equal(f.n, N);
    assert_int_equal(f.n_events, 50);
    assert_int_equal(f.n_coefs, 2);
    assert_string_equal(f.coefs[0].name, "(intercept)");
    assert_string_equal(f.coefs[1].name, "premium");
    assert_close(f.coefs[0].coef, log(20.0 / 40.0), 1e-10);
    assert_close(f.coefs[0].se, sqrt(1.0 / 20 + 1.0 / 40), 1e-10);
    double b = log((30.0 / 10.0) / (20.0 / 40.0));
    double se = sqrt(1.0 / 30 + 1.0 / 10 + 1.0 / 20 + 1.0 / 40);
    assert_close(f.coefs[1].coef, b, 1e-10);
    assert_close(f.coefs[1].se, se, 1e-10);
    assert_close(f.coefs[1].z, b / se, 1e-10);
    assert_close(f.coefs[1].p, erfc(fabs(b / se) / sqrt(2)), 1e-9);
    assert_close(f.coefs[1].ci_low, b - STATS_Z975 * se, 1e-10);
    assert_close(f.coefs[1].ci_high, b + STATS_Z975 * se, 1e-10);
    assert_close(f.coefs[1].odds_ratio, 6.0, 1e-10);
    assert_int_equal(f.n_dropped, 0);
    /* The saturated model's log-likelihood is sum n log(p) over the cells. */
    double ll = 30 * log(0.75) + 10 * log(0.25) + 20 * log(1.0 / 3) + 40 * log(2.0 / 3);
    assert_close(f.log_lik, ll, 1e-12);
    assert_close(f.null_log_lik, 100 * log(0.5), 1e-12);
    stats_fit_free(&f);
}

/* The Challenger O-ring data (Dalal, Fowlkes and Hoadley 1989: a thermal
 * distress incident in 23 flights against launch temperature, F). The
 * textbook fit: 15.0429 (se 7.3786) - 0.2322 (se 0.1082) temperature. */
static void challenger_o_rings_match_the_published_fit(void **state) {
    static const double temp[] = {66, 70, 69, 68, 67, 72, 73, 70, 57, 63, 70, 78,
                                  67, 53, 67, 75, 70, 81, 76, 79, 75, 76, 58};
    static const double failed[] = {0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0,
                                    0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1};
    const char *names[] = {"temperature"};
    struct stats_data d = {23, 1, temp, failed, names, false};
    struct stats_fit f;
    fit_ok(&d, STATS_OWN_SCALE, &f);
    assert_true(fabs(f.coefs[0].coef - 15.0429) < 5e-5);
    assert_true(fabs(f.coefs[0].se - 7.3786) < 5e-5);
    assert_true(fabs(f.coefs[1].coef - -0.2322) < 5e-5);
    assert_true(fabs(f.coefs[1].se - 0.1082) < 5e-5);
    /* statsmodels 0.13 to full precision */
    assert_close(f.coefs[0].coef, 15.042901647702454, 1e-9);
    assert_close(f.coefs[0].se, 7.378636384916659, 1e-9);
    assert_close(f.coefs[1].coef, -0.23216274421859667, 1e-9);
    assert_close(f.coefs[1].se, 0.10823652164928677, 1e-9);
    assert_close(f.coefs[0].p, 0.041478953911341356, 1e-8);
    assert_close(f.coefs[1].p, 0.03195624124945347, 1e-8);
    assert_close(f.log_lik, -10.157596343933415, 1e-12);
    assert_true(f.iterations > 2 && f.iterations < 20);
    stats_fit_free(&f);
}

/* 40 accounts: MRR in dollars (hundreds to thousands), a 0/1 plan flag and
 * NPS (-100..100): columns on very different scales. Reference values from
 * statsmodels 0.13, Logit(...).fit(method="newton", tol=1e-12). */
static const double mixed_rows[40][4] = {
    {1097.31, 1, -11, 0}, {1273.31, 1, 28, 0},  {956.17, 0, 9, 1},    {702.54, 1, 35, 0},
    {873.64, 1, 92, 0},   {667.93, 1, -70, 1},  {1130.11, 1, 12, 1},  {2143.31, 1, -12, 1},
    {857.39, 0, -29, 1},  {804.13, 1, -52, 1},  {1400.97, 0, -90, 0}, {1310.87, 0, -20, 0},
    {1155.98, 0, 66, 0},  {688.67, 1, -81, 1},  {1080.71, 1, -19, 0}, {1552.55, 1, 94, 1},
    {559.98, 1, 91, 0},   {872.35, 1, -57, 1},  {423.85, 1, -99, 1},  {575.5, 0, 35, 0},
    {436.65, 1, -98, 1},  {975.02, 1, -40, 1},  {581.89, 0, -1, 0},   {1255.93, 0, 75, 0},
    {1186.04, 1, -82, 1}, {998.78, 0, 33, 0},   {311.57, 1, 7, 0},    {837.69, 0, -74, 1},
    {1070.36, 0, 69, 0},  {1160.56, 0, 69, 0},  {510.27, 0, -3, 0},   {863.61, 1, 89, 1},
    {672.32, 0, 21, 0},   {731.85, 0, 81, 1},   {1863.94, 1, 93, 0},  {732.33, 1, 14, 0},
    {1078.95, 0, -44, 1}, {1706.49, 1, -71, 1}, {819.09, 0, 13, 0},   {1037.06, 1, -62, 1},
};

struct mixed {
    double x[40 * 4]; /* room for a 4th column */
    double y[40];
};

/* The mixed data with k columns: mrr, pro, nps, then extra(i) if k == 4. */
static void mixed_data(struct mixed *m, size_t k, double (*extra)(size_t i)) {
    for (size_t i = 0; i < 40; i++) {
        for (size_t j = 0; j < 3; j++)
            m->x[i * k + j] = mixed_rows[i][j];
        if (k == 4)
            m->x[i * k + 3] = extra(i);
        m->y[i] = mixed_rows[i][3];
    }
}

static void mixed_scales_match_statsmodels(void **state) {
    static const double coef[] = {-1.3987239904167397, 0.0006423884490615727, 1.1404494614238092,
                                  -0.01909699846903394};
    static const double se[] = {1.1164148189818157, 0.0010113961050508432, 0.7747868067654993,
                                0.006978738426738224};
    static const double p[] = {0.21025257919716744, 0.5253304523410295, 0.1410336755856757,
                               0.006210522891300084};
    struct mixed m;
    mixed_data(&m, 3, NULL);
    const char *names[] = {"mrr", "pro", "nps"};
    struct stats_data d = {40, 3, m.x, m.y, names, false};
    struct stats_fit f;
    fit_ok(&d, STATS_OWN_SCALE, &f);
    assert_int_equal(f.n_coefs, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_close(f.coefs[i].coef, coef[i], 1e-8);
        assert_close(f.coefs[i].se, se[i], 1e-8);
        assert_close(f.coefs[i].p, p[i], 1e-7);
        assert_close(f.cov[i * 4 + i], se[i] * se[i], 1e-8);
    }
    assert_close(f.log_lik, -20.94047726943493, 1e-12);
    /* The in-sample AUC of the linear predictor, from scikit-learn. */
    double score[40];
    for (size_t i = 0; i < 40; i++)
        score[i] = stats_logit_predict(&f, m.x + i * 3);
    assert_close(stats_auc(score, m.y, 40), 0.8195488721804511, 1e-12);
    stats_fit_free(&f);
}

/* Per standard deviation and own scale are one fit seen two ways: slopes
 * differ by the column's sd, z and p do not, the intercepts differ by the
 * means, the covariances by T C T', and predictions agree. */
static void per_sd_and_own_scale_are_the_same_fit(void **state) {
    struct mixed m;
    mixed_data(&m, 3, NULL);
    const char *names[] = {"mrr", "pro", "nps"};
    struct stats_data d = {40, 3, m.x, m.y, names, false};
    struct stats_fit own, sd;
    fit_ok(&d, STATS_OWN_SCALE, &own);
    fit_ok(&d, STATS_PER_STD_DEV, &sd);
    assert_int_equal(own.scale, STATS_OWN_SCALE);
    assert_int_equal(sd.scale, STATS_PER_STD_DEV);
    double b0 = sd.coefs[0].coef;
    for (size_t j = 1; j < 4; j++) {
        const struct stats_coef *a = &own.coefs[j], *b = &sd.coefs[j];
        /* sample standard deviation of the column, computed here */
        double mean = 0, ss = 0;
        for (size_t i = 0; i < 40; i++)
            mean += m.x[i * 3 + j - 1] / 40;
        for (size_t i = 0; i < 40; i++)
            ss += (m.x[i * 3 + j - 1] - mean) * (m.x[i * 3 + j - 1] - mean);
        double s = sqrt(ss / 39);
        assert_close(b->std_dev, s, 1e-12);
        assert_close(b->mean, mean, 1e-12);
        assert_close(a->coef * s, b->coef, 1e-9);
        assert_close(a->se * s, b->se, 1e-9);
        assert_close(a->z, b->z, 1e-9);
        assert_close(a->p, b->p, 1e-8);
        b0 -= b->coef * mean / s;
    }
    assert_close(own.coefs[0].coef, b0, 1e-9);
    assert_close(own.log_lik, sd.log_lik, 1e-14);
    for (size_t i = 0; i < 40; i++)
        assert_close(stats_logit_predict(&own, m.x + i * 3), stats_logit_predict(&sd, m.x + i * 3),
                     1e-9);
    /* cov(b_mrr, b_nps) on the own scale is the per-SD one over both sds. */
    double s1 = sd.coefs[1].std_dev, s3 = sd.coefs[3].std_dev;
    assert_close(own.cov[1 * 4 + 3], sd.cov[1 * 4 + 3] / (s1 * s3), 1e-8);
    assert_close(own.cov[3 * 4 + 1], own.cov[1 * 4 + 3], 1e-15);
    stats_fit_free(&own);
    stats_fit_free(&sd);
}

/* ---- dropped columns ------------------------------------------------------ */

static double constant_one(size_t i) {
    return 1;
}

static double mrr_plus_nps(size_t i) {
    return 2 * mixed_rows[i][0] - 3 * mixed_rows[i][2] + 7; /* an affine combination */
}

static double pro_copy(size_t i) {
    return mixed_rows[i][1];
}

/* With a 4th column that must be dropped, the fit is the 3-column one. */
static void assert_same_as_three_columns(const struct stats_fit *f) {
    struct mixed m;
    mixed_data(&m, 3, NULL);
    const char *names[] = {"mrr", "pro", "nps"};
    struct stats_data d = {40, 3, m.x, m.y, names, false};
    struct stats_fit ref;
    fit_ok(&d, STATS_OWN_SCALE, &ref);
    assert_int_equal(f->n_coefs, ref.n_coefs);
    for (size_t i = 0; i < ref.n_coefs; i++) {
        assert_string_equal(f->coefs[i].name, ref.coefs[i].name);
        assert_close(f->coefs[i].coef, ref.coefs[i].coef, 1e-9);
        assert_close(f->coefs[i].se, ref.coefs[i].se, 1e-9);
    }
    stats_fit_free(&ref);
}

static void constant_column_is_dropped_with_its_value(void **state) {
    struct mixed m;
    mixed_data(&m, 4, constant_one);
    const char *names[] = {"mrr", "pro", "nps", "active"};
    struct stats_data d = {40, 4, m.x, m.y, names, false};
    struct stats_fit f;
    fit_ok(&d, STATS_OWN_SCALE, &f);
    assert_int_equal(f.n_dropped, 1);
    assert_string_equal(f.dropped[0].name, "active");
    assert_string_equal(f.dropped[0].why, "constant (every row is 1)");
    assert_same_as_three_columns(&f);
    /* predict ignores the dropped column, whatever its value */
    double row[4] = {1000, 1, 10, 12345};
    double row2[4] = {1000, 1, 10, 0};
    assert_true(stats_logit_predict(&f, row) == stats_logit_predict(&f, row2));
    assert_int_equal(f.column[1], 0);
    assert_int_equal(f.column[3], 2);
    stats_fit_free(&f);
}

static void collinear_column_is_dropped_naming_what_it_combines(void **state) {
    struct mixed m;
    mixed_data(&m, 4, mrr_plus_nps);
    const char *names[] = {"mrr", "pro", "nps", "blend"};
    struct stats_data d = {40, 4, m.x, m.y, names, false};
    struct stats_fit f;
    fit_ok(&d, STATS_OWN_SCALE, &f);
    assert_int_equal(f.n_dropped, 1);
    assert_string_equal(f.dropped[0].name, "blend");
    assert_string_equal(f.dropped[0].why, "collinear with the columns before it (mrr, nps)");
    assert_same_as_three_columns(&f);
    stats_fit_free(&f);
}

/* Of two equal columns the later one goes, whichever name sorts first. */
static void duplicate_column_drops_the_later_one(void **state) {
    struct mixed m;
    mixed_data(&m, 4, pro_copy);
    const char *names[] = {"mrr", "pro", "nps", "a_pro_again"};
    struct stats_data d = {40, 4, m.x, m.y, names, false};
    struct stats_fit f;
    fit_ok(&d, STATS_OWN_SCALE, &f);
    assert_int_equal(f.n_dropped, 1);
    assert_string_equal(f.dropped[0].name, "a_pro_again");
    assert_string_equal(f.dropped[0].why, "collinear with the columns before it (pro)");
    assert_same_as_three_columns(&f);
    stats_fit_free(&f);
}

/* ---- separation and bad data ---------------------------------------------- */

static void expect_error(const struct stats_data *d, const char *needle1, const char *needle2) {
    char err[STATS_ERR_BYTES] = "";
    struct stats_fit f;
    memset(&f, 0, sizeof f);
    assert_int_equal(stats_logit_fit(d, STATS_OWN_SCALE, &f, err), TEND_ERR_INVALID);
    if (!strstr(err, needle1) || (needle2 && !strstr(err, needle2))) {
        print_error("error \"%s\" lacks \"%s\" / \"%s\"\n", err, needle1, needle2 ? needle2 : "");
        fail();
    }
    assert_null(f.coefs); /* untouched */
}

static void a_separating_column_is_named(void **state) {
    /* days_overdue > 30 exactly when the account churned. */
    struct mixed m;
    mixed_data(&m, 3, NULL);
    double x[40 * 2];
    for (size_t i = 0; i < 40; i++) {
        x[i * 2] = mixed_rows[i][2];
        x[i * 2 + 1] = m.y[i] ? 31 + (double)i : (double)(i % 30);
    }
    const char *names[] = {"nps", "days_overdue"};
    struct stats_data d = {40, 2, x, m.y, names, false};
    expect_error(&d, "perfect separation: column days_overdue alone", "> 29");
    /* Quasi-complete: a dummy that is 1 on some churned rows only. */
    for (size_t i = 0; i < 40; i++)
        x[i * 2 + 1] = m.y[i] && i % 2;
    expect_error(&d, "perfect separation: column days_overdue alone", NULL);
    /* Reversed: the column is 1 on some renewed rows only. */
    for (size_t i = 0; i < 40; i++)
        x[i * 2 + 1] = !m.y[i] && i % 2;
    expect_error(&d, "perfect separation: column days_overdue alone",
                 "days_overdue > 0 has outcome 0");
}

/* With drop_separating the column is dropped and named, and the fit is the
 * fit without it. */
static void a_separating_column_can_be_dropped(void **state) {
    struct mixed m;
    mixed_data(&m, 3, NULL);
    double x[40 * 2], nps[40];
    for (size_t i = 0; i < 40; i++) {
        nps[i] = x[i * 2] = mixed_rows[i][2];
        x[i * 2 + 1] = m.y[i] ? 31 + (double)i : (double)(i % 30);
    }
    const char *names[] = {"nps", "days_overdue"};
    struct stats_data d = {40, 2, x, m.y, names, true}, alone = {40, 1, nps, m.y, names, false};
    struct stats_fit f, g;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_logit_fit(&d, STATS_OWN_SCALE, &f, err), TEND_OK);
    assert_int_equal(stats_logit_fit(&alone, STATS_OWN_SCALE, &g, err), TEND_OK);
    assert_int_equal(f.n_dropped, 1);
    assert_string_equal(f.dropped[0].name, "days_overdue");
    assert_non_null(strstr(f.dropped[0].why, "separates the outcome by itself"));
    assert_int_equal(f.n_coefs, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_float_equal(f.coefs[i].coef, g.coefs[i].coef, 1e-12);
        assert_float_equal(f.coefs[i].se, g.coefs[i].se, 1e-12);
    }
    assert_int_equal(f.column[1], 0);
    stats_fit_free(&f);
    stats_fit_free(&g);
}

/* No column separates alone, but a + b > 0 exactly when churned; a third
 * column, unrelated, is not blamed. Then quasi-complete: rows with a + b = 0
 * have either outcome, the others are still predicted exactly. */
static void separation_by_a_combination_is_detected(void **state) {
    enum { N = 90 };
    double x[N * 3], y[N];
    for (int i = 0; i < N; i++) {
        double a = (i * 37 % 61) - 30.0, b = (i * 53 % 67) - 33.0;
        if (fabs(a + b) < 1)
            b += 2;
        x[i * 3] = a;
        x[i * 3 + 1] = b;
        x[i * 3 + 2] = (i * 29 % 31) / 31.0;
        y[i] = a + b > 0;
    }
    const char *names[] = {"a", "b", "noise"};
    struct stats_data d = {N, 3, x, y, names, false};
    expect_error(&d, "perfect separation: a combination of the columns", NULL);
    char err[STATS_ERR_BYTES];
    struct stats_fit f;
    assert_int_equal(stats_logit_fit(&d, STATS_OWN_SCALE, &f, err), TEND_ERR_INVALID);
    assert_true(strstr(err, "the largest are on a, b)") || strstr(err, "the largest are on b, a)"));
    for (int i = 0; i < N; i += 3) {
        x[i * 3 + 1] = -x[i * 3];
        y[i] = i % 2;
    }
    expect_error(&d, "perfect separation: a combination of the columns", NULL);
}

static void bad_data_is_refused(void **state) {
    double x[4] = {1, 2, 3, 4}, y[4] = {0, 1, 0, 2};
    const char *names[] = {"x"};
    struct stats_data d = {4, 1, x, y, names, false};
    expect_error(&d, "row 4: the outcome is 2", NULL);
    y[3] = 0;
    y[1] = 0;
    expect_error(&d, "the outcome is 0 on every row", NULL);
    y[1] = 1;
    x[2] = NAN;
    expect_error(&d, "row 3, column x: the value is not a finite number", NULL);
    x[2] = 3;
    d.n = 2;
    expect_error(&d, "2 rows for 2 coefficients", NULL);
}

/* ---- AUC and ROC ---------------------------------------------------------- */

static void auc_counts_ties_as_one_half(void **state) {
    double s1[] = {0.1, 0.4, 0.35, 0.8}, y1[] = {0, 0, 1, 1};
    assert_true(stats_auc(s1, y1, 4) == 0.75); /* scikit-learn's own example */
    double s2[] = {1, 1, 1, 1}, y2[] = {0, 1, 0, 1};
    assert_true(stats_auc(s2, y2, 4) == 0.5);
    double s3[] = {0.5, 0.5, 0.9, 0.1}, y3[] = {1, 0, 1, 0};
    assert_true(stats_auc(s3, y3, 4) == 0.875);
    double s4[] = {0.5, 0.5, 0.9, 0.1, 0.9, 0.2}, y4[] = {0, 1, 0, 1, 1, 0};
    assert_close(stats_auc(s4, y4, 6), 4.0 / 9, 1e-15); /* roc_auc_score: 0.4444444444444444 */
    double y5[] = {1, 1, 1, 1};
    assert_true(isnan(stats_auc(s1, y5, 4)));
    double s6[] = {0.1, NAN, 0.3, 0.2};
    assert_true(isnan(stats_auc(s6, y1, 4)));
}

/* Against the O(n^2) definition, with many ties. */
static void auc_agrees_with_counting_every_pair(void **state) {
    enum { N = 500 };
    double s[N], y[N];
    srand(7);
    for (int i = 0; i < N; i++) {
        s[i] = rand() % 12;
        y[i] = (rand() % 10) < 3 + s[i] / 3;
    }
    double wins = 0, pairs = 0;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            if (y[i] == 1 && y[j] == 0) {
                pairs++;
                wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
            }
        }
    }
    assert_close(stats_auc(s, y, N), wins / pairs, 1e-14);
}

static void roc_points_follow_scikit_learn(void **state) {
    double s[] = {0.5, 0.5, 0.9, 0.1, 0.9, 0.2}, y[] = {0, 1, 0, 1, 1, 0};
    double *fpr, *tpr;
    size_t len;
    assert_true(stats_roc(s, y, 6, &fpr, &tpr, &len));
    /* roc_curve(drop_intermediate=False): thresholds 1.9, 0.9, 0.5, 0.2, 0.1 */
    static const double want_fpr[] = {0, 1.0 / 3, 2.0 / 3, 1, 1};
    static const double want_tpr[] = {0, 1.0 / 3, 2.0 / 3, 2.0 / 3, 1};
    assert_int_equal(len, 5);
    double area = 0;
    for (size_t i = 0; i < len; i++) {
        assert_close(fpr[i], want_fpr[i], 1e-15);
        assert_close(tpr[i], want_tpr[i], 1e-15);
        if (i)
            area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
    }
    assert_close(area, stats_auc(s, y, 6), 1e-15);
    free(fpr);
    free(tpr);
    double s2[] = {0.1, 0.4, 0.35, 0.8}, y2[] = {0, 0, 1, 1};
    assert_true(stats_roc(s2, y2, 4, &fpr, &tpr, &len));
    assert_int_equal(len, 5);
    assert_true(fpr[0] == 0 && tpr[0] == 0 && fpr[4] == 1 && tpr[4] == 1);
    assert_true(tpr[1] == 0.5 && fpr[1] == 0 && fpr[2] == 0.5 && tpr[2] == 0.5);
    free(fpr);
    free(tpr);
    double y3[] = {0, 0, 0, 0};
    fpr = tpr = NULL;
    assert_false(stats_roc(s2, y3, 4, &fpr, &tpr, &len));
    assert_null(fpr);
}

static void p_value_is_two_sided_normal(void **state) {
    assert_close(stats_p_two_sided(STATS_Z975), 0.05, 1e-13);
    assert_close(stats_p_two_sided(-STATS_Z975), 0.05, 1e-13);
    assert_true(stats_p_two_sided(0) == 1);
    assert_close(stats_p_two_sided(10), 1.523970604832094e-23, 1e-12);
}

/* ---- tables --------------------------------------------------------------- */

static char tmp_dir[] = "/tmp/test_stats.XXXXXX";
static int n_files;

/* Writes text to a new file in the test's directory; returns its path (static
 * buffer, valid until the next call). */
static const char *write_csv(const char *text) {
    static char path[256];
    snprintf(path, sizeof path, "%s/t%d.csv", tmp_dir, n_files++);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int setup_dir(void **state) {
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int remove_dir(void **state) {
    char path[300];
    for (int i = 0; i < n_files; i++) {
        snprintf(path, sizeof path, "%s/t%d.csv", tmp_dir, i);
        unlink(path);
    }
    rmdir(tmp_dir);
    return 0;
}

static void load_ok(const char *path, const char *outcome, const char *const *cols, size_t n,
                    struct stats_table *t) {
    char err[STATS_ERR_BYTES] = "";
    if (stats_table_load(path, outcome, cols, n, t, err)) {
        print_error("load failed: %s\n", err);
        fail();
    }
}

/* Loads, expecting e and a message with every needle (NULL-terminated). */
static void load_fails(const char *path, const char *outcome, const char *const *cols, size_t n,
                       enum tend_err want, ...) {
    char err[STATS_ERR_BYTES] = "";
    struct stats_table t;
    memset(&t, 0, sizeof t);
    assert_int_equal(stats_table_load(path, outcome, cols, n, &t, err), want);
    assert_null(t.x);
    va_list ap;
    va_start(ap, want);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
        if (!strstr(err, s)) {
            print_error("error \"%s\" lacks \"%s\"\n", err, s);
            fail();
        }
    }
    va_end(ap);
}

static bool has_note(const struct stats_table *t, const char *needle) {
    for (size_t i = 0; i < t->n_notes; i++) {
        if (strstr(t->notes[i], needle))
            return true;
    }
    return false;
}

/* Quoted fields (commas, doubled quotes, a line break) and one-hot coding
 * against the most frequent level, the others in sorted order. */
static void table_reads_quoted_fields_and_codes_text_against_the_most_frequent(void **state) {
    const char *path = write_csv("id,plan,region,mrr,churned\n"
                                 "a1,Pro,\"North, East\",100,yes\n"
                                 "a2,Basic,\"South \"\"Coast\"\"\",250.5,No\n"
                                 "a3,Pro,West,1e3,TRUE\n"
                                 "a4,Enterprise,\"North, East\", 75 ,false\n"
                                 "a5,Pro,\"We\nst\",80,churned\n"
                                 "a6,Basic,West,90,renewed\n");
    struct stats_table t;
    load_ok(path, "churned", NULL, 0, &t);
    assert_int_equal(t.rows_read, 6);
    assert_int_equal(t.n, 6);
    assert_int_equal(t.rows_dropped, 0);
    /* id skipped; plan: Pro (3) is the reference; region: "North, East" and
     * West tie at 2, the first sorted wins */
    static const char *const want[] = {"plan=Basic",    "plan=Enterprise", "region=South \"Coast\"",
                                       "region=We\nst", "region=West",     "mrr"};
    assert_int_equal(t.k, 6);
    for (size_t j = 0; j < 6; j++)
        assert_string_equal(t.names[j], want[j]);
    assert_int_equal(t.n_skipped, 1);
    assert_string_equal(t.skipped[0], "id");
    assert_true(has_note(&t, "skipped id: text with a different value on each of its 6 rows"));
    assert_true(has_note(&t, "plan: 3 levels, against \"Pro\" (the most frequent, 3 rows)"));
    assert_true(has_note(&t, "region: 4 levels, against \"North, East\""));
    static const double y[] = {1, 0, 1, 0, 1, 0};
    static const double x[6][6] = {
        {0, 0, 0, 0, 0, 100}, {1, 0, 1, 0, 0, 250.5}, {0, 0, 0, 0, 1, 1000},
        {0, 1, 0, 0, 0, 75},  {0, 0, 0, 1, 0, 80},    {1, 0, 0, 0, 1, 90},
    };
    for (size_t i = 0; i < 6; i++) {
        assert_true(t.y[i] == y[i]);
        for (size_t j = 0; j < 6; j++)
            assert_true(t.x[i * 6 + j] == x[i][j]);
    }
    struct stats_data d;
    stats_table_data(&t, &d);
    assert_int_equal(d.n, 6);
    assert_int_equal(d.k, 6);
    assert_ptr_equal(d.x, t.x);
    assert_string_equal(d.names[5], "mrr");
    stats_table_free(&t);
    stats_table_free(&t); /* zeroed: a second free is harmless */
}

static void table_drops_blank_rows_counting_per_column(void **state) {
    const char *path = write_csv("tenure,charges,plan,out\n"
                                 "1,10,A,1\n"
                                 "2, ,A,0\n"
                                 "3,30,,1\n"
                                 "4,,B,\n"
                                 "5,50,B,0\n"
                                 "6,60,A,1\n");
    struct stats_table t;
    load_ok(path, "out", NULL, 0, &t);
    assert_int_equal(t.rows_read, 6);
    assert_int_equal(t.rows_dropped, 3);
    assert_int_equal(t.n, 3);
    assert_true(
        has_note(&t, "dropped 3 of 6 rows for a blank value (out: 1, charges: 2, plan: 1)"));
    assert_int_equal(t.k, 3);
    assert_string_equal(t.names[2], "plan=B");
    assert_true(t.x[0] == 1 && t.x[3] == 5 && t.x[6] == 6);
    assert_true(t.x[1 * 3 + 2] == 1);
    stats_table_free(&t);
    /* A blank in a column not chosen drops nothing. */
    const char *const cols[] = {"plan", "tenure"};
    load_ok(path, "out", cols, 2, &t);
    assert_int_equal(t.rows_dropped, 2);
    assert_int_equal(t.k, 2);
    assert_string_equal(t.names[0], "plan=B");
    assert_string_equal(t.names[1], "tenure");
    stats_table_free(&t);
}

/* Numbers as people write them are numeric; hex, nan, inf, thousands
 * separators make a column text. */
static void table_detects_numeric_columns_strictly(void **state) {
    const char *path = write_csv("a,b,c,d,y\n"
                                 "1e3,0x10,1,\"1,000\",0\n"
                                 "-.5,3,nan,\"2,500\",1\n"
                                 "+2.,3,1,\"3,000\",1\n"
                                 "7,0x10,inf,\"4,000\",0\n");
    struct stats_table t;
    load_ok(path, "y", NULL, 0, &t);
    assert_int_equal(t.k, 4);
    assert_string_equal(t.names[0], "a");
    assert_string_equal(t.names[1], "b=3");
    assert_string_equal(t.names[2], "c=inf");
    assert_string_equal(t.names[3], "c=nan");
    assert_true(t.x[0] == 1000 && t.x[4] == -0.5 && t.x[8] == 2);
    assert_int_equal(t.n_skipped, 1);
    assert_string_equal(t.skipped[0], "d"); /* text, one value per row: an id */
    stats_table_free(&t);
}

static void table_errors_name_file_line_and_column(void **state) {
    const char *path = write_csv("id,note,status\n"
                                 "a,\"two\nlines\",yes\n"
                                 "b,x,no\n"
                                 "c,y,maybe\n");
    load_fails(path, "status", NULL, 0, TEND_ERR_INVALID, path, ":5: column status: \"maybe\"",
               NULL);
    /* A record that spans lines is named by the line it starts on. */
    const char *spanning = write_csv("id,note,status\n\na,\"two\nlines\",maybe\n");
    load_fails(spanning, "status", NULL, 0, TEND_ERR_INVALID, ":3: column status: \"maybe\"", NULL);
    load_fails(path, "churn", NULL, 0, TEND_ERR_INVALID, "no column \"churn\" for the outcome",
               "the columns are: id, note, status", NULL);
    const char *const unknown[] = {"note", "nope"};
    load_fails(path, "status", unknown, 2, TEND_ERR_INVALID, path, "no column \"nope\"",
               "id, note, status", NULL);
    const char *const outcome[] = {"status"};
    load_fails(path, "status", outcome, 1, TEND_ERR_INVALID, "is the outcome", NULL);
    const char *const twice[] = {"note", "note"};
    load_fails(path, "status", twice, 2, TEND_ERR_INVALID, "\"note\" is chosen twice", NULL);
    const char *const id[] = {"id"};
    path = write_csv("id,status\na,1\nb,0\nc,1\n");
    load_fails(path, "status", id, 1, TEND_ERR_INVALID, "column id: text with a different value",
               NULL);
    path = write_csv("a,b,y\n1,2,0\n3,1\n");
    load_fails(path, "y", NULL, 0, TEND_ERR_INVALID, ":3: 2 fields, the header has 3", NULL);
    path = write_csv("a,a,y\n1,2,0\n");
    load_fails(path, "y", NULL, 0, TEND_ERR_INVALID, ":1: column \"a\" appears twice", NULL);
    path = write_csv("a,y\n1,0\n\"2,1\n3,0\n4,1\n");
    load_fails(path, "y", NULL, 0, TEND_ERR_INVALID,
               ":3: 1 fields, the header has 2 (a quoted field that is not closed?)", NULL);
    path = write_csv("");
    load_fails(path, "y", NULL, 0, TEND_ERR_INVALID, "no header row", NULL);
    load_fails("/nonexistent/t.csv", "y", NULL, 0, TEND_ERR_IO, "cannot open /nonexistent/t.csv",
               NULL);
}

/* A text column with one level in the rows used cannot vary: skipped. A BOM
 * is not part of the first name. */
static void table_skips_a_text_column_with_one_level(void **state) {
    const char *path = write_csv("\xEF\xBB\xBF"
                                 "x,region,y\n1,EU,0\n2,EU,1\n3,,1\n4,EU,0\n");
    struct stats_table t;
    load_ok(path, "y", NULL, 0, &t);
    assert_int_equal(t.k, 1);
    assert_string_equal(t.names[0], "x");
    assert_int_equal(t.n_skipped, 1);
    assert_string_equal(t.skipped[0], "region");
    assert_true(has_note(&t, "skipped region: one value (\"EU\")"));
    stats_table_free(&t);
}

/* The whole path: the table's fit equals the one from arrays. */
static void table_feeds_the_fit(void **state) {
    char text[4096] = "mrr,plan,nps,churn\n";
    size_t len = strlen(text);
    for (size_t i = 0; i < 40; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%.2f,%s,%d,%s\n", mixed_rows[i][0],
                                mixed_rows[i][1] ? "pro" : "basic", (int)mixed_rows[i][2],
                                mixed_rows[i][3] ? "Yes" : "No");
    struct stats_table t;
    load_ok(write_csv(text), "churn", NULL, 0, &t);
    /* pro is the more frequent plan (22 of 40), so the dummy is plan=basic */
    assert_string_equal(t.names[1], "plan=basic");
    struct stats_data d;
    stats_table_data(&t, &d);
    struct stats_fit f;
    fit_ok(&d, STATS_OWN_SCALE, &f);
    assert_close(f.coefs[1].coef, 0.0006423884490615727, 1e-8);
    assert_close(f.coefs[2].coef, -1.1404494614238092, 1e-8); /* the flag flipped */
    assert_close(f.coefs[2].se, 0.7747868067654993, 1e-8);
    assert_close(f.log_lik, -20.94047726943493, 1e-12);
    stats_fit_free(&f);
    stats_table_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_by_two_table_gives_log_odds_ratio_and_woolf_se),
        cmocka_unit_test(challenger_o_rings_match_the_published_fit),
        cmocka_unit_test(mixed_scales_match_statsmodels),
        cmocka_unit_test(per_sd_and_own_scale_are_the_same_fit),
        cmocka_unit_test(constant_column_is_dropped_with_its_value),
        cmocka_unit_test(collinear_column_is_dropped_naming_what_it_combines),
        cmocka_unit_test(duplicate_column_drops_the_later_one),
        cmocka_unit_test(a_separating_column_is_named),
        cmocka_unit_test(a_separating_column_can_be_dropped),
        cmocka_unit_test(separation_by_a_combination_is_detected),
        cmocka_unit_test(bad_data_is_refused),
        cmocka_unit_test(auc_counts_ties_as_one_half),
        cmocka_unit_test(auc_agrees_with_counting_every_pair),
        cmocka_unit_test(roc_points_follow_scikit_learn),
        cmocka_unit_test(p_value_is_two_sided_normal),
        cmocka_unit_test(table_reads_quoted_fields_and_codes_text_against_the_most_frequent),
        cmocka_unit_test(table_drops_blank_rows_counting_per_column),
        cmocka_unit_test(table_detects_numeric_columns_strictly),
        cmocka_unit_test(table_errors_name_file_line_and_column),
        cmocka_unit_test(table_skips_a_text_column_with_one_level),
        cmocka_unit_test(table_feeds_the_fit),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
