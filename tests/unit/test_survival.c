/* test_survival.c: Kaplan-Meier and Cox (stats/survival.c), quantile
 * cohorts (stats/cohort.c), strength and correlation groups
 * (stats/factors.c).
 *
 * The Kaplan-Meier, cohort and strength cases are worked by hand in the
 * comments. The Cox case's expected values came from statsmodels 0.13.5
 * (PHReg(t, x, status=e, ties="efron").fit(): params, bse, llf), the oracle
 * of tests/integration/survival_oracle.sh, which checks many more. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats/cohort.h"
#include "stats/factors.h"
#include "stats/survival.h"

static void assert_near(double a, double b, double tol) {
    if (!(fabs(a - b) <= tol)) {
        print_error("%.17g is not within %g of %.17g\n", a, tol, b);
        fail();
    }
}

/* Times 1, 2, 2, 3, 4+, 5 (4 censored). S: 5/6 at 1; 5/6 * 3/5 = 1/2 at 2;
 * 1/2 * 2/3 = 1/3 at 3; 0 at 5 (one at risk, it churns). Greenwood at 2:
 * (1/2)^2 (1/(6*5) + 2/(5*3)) = 1/24. The median: the first time S falls
 * below 1/2 (statsmodels' strict rule): 3. */
static void km_by_hand(void **state) {
    (void)state;
    const double t[] = {2, 1, 4, 2, 5, 3};
    const bool e[] = {true, true, false, true, true, true};
    struct stats_km km;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_km_fit(t, e, 6, &km, err), TEND_OK);
    assert_int_equal(km.n_points, 4); /* the censored time 4 is no point */
    assert_int_equal(km.n_events, 5);
    assert_near(km.pt[0].surv, 5.0 / 6, 1e-15);
    assert_int_equal(km.pt[1].at_risk, 5);
    assert_int_equal(km.pt[1].events, 2);
    assert_near(km.pt[1].surv, 0.5, 1e-15);
    assert_near(km.pt[1].se, sqrt(1.0 / 24), 1e-15);
    /* The band on log(-log S): S^exp(+-1.96 se / (S |log S|)). */
    double w = STATS_Z975 * sqrt(1.0 / 24) / (0.5 * log(2));
    assert_near(km.pt[1].ci_low, pow(0.5, exp(w)), 1e-15);
    assert_near(km.pt[1].ci_high, pow(0.5, exp(-w)), 1e-15);
    assert_near(km.pt[2].surv, 1.0 / 3, 1e-15);
    assert_near(km.pt[3].surv, 0, 0);
    assert_true(isnan(km.pt[3].se)); /* every one at risk churned: undefined */
    assert_near(km.median, 3, 0);
    assert_near(stats_km_at(&km, 0.5), 1, 0);
    assert_near(stats_km_at(&km, 4), 1.0 / 3, 1e-15);
    stats_km_free(&km);
}

static void km_rejects_bad_times(void **state) {
    (void)state;
    const double t[] = {1, -2};
    const bool e[] = {true, true};
    struct stats_km km;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_km_fit(t, e, 2, &km, err), TEND_ERR_INVALID);
    assert_string_equal(err, "row 2: time -2: a time must be a finite number >= 0");
    assert_int_equal(stats_km_fit(t, e, 0, &km, err), TEND_ERR_INVALID);
}

static const double cox_t[] = {2, 3, 3, 5, 5, 5, 7, 8, 8, 10, 12, 12};
static const bool cox_e[] = {1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0};
static const double cox_x[] = {1.2, 0, 0.4,  1, 2.0, 0, 0.1,  1, 1.5, 1, 0.3,  0,
                               0.9, 0, -0.2, 1, 0.5, 0, -1.0, 1, 0.0, 0, -0.5, 1};

/* Ties at 3, 5, 8 and 12, between events and with censoring. */
static void cox_matches_statsmodels_efron(void **state) {
    (void)state;
    const char *names[] = {"usage", "trial"};
    struct stats_cox c;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_cox_fit(cox_t, cox_e, cox_x, 12, 2, names, &c, err), TEND_OK);
    assert_int_equal(c.n_events, 8);
    assert_string_equal(c.coefs[0].name, "usage");
    assert_near(c.coefs[0].coef, 1.50322741, 1e-7);
    assert_near(c.coefs[1].coef, 0.6650144, 1e-7);
    assert_near(c.coefs[0].se, 0.63354765, 1e-7);
    assert_near(c.coefs[1].se, 0.77380401, 1e-7);
    assert_near(c.log_lik, -11.551815048853143, 1e-9);
    assert_near(c.coefs[0].hazard_ratio, exp(1.50322741), 1e-6);
    assert_true(c.null_log_lik < c.log_lik);
    stats_cox_free(&c);
}

static void cox_names_what_cannot_be_fitted(void **state) {
    (void)state;
    char err[STATS_ERR_BYTES];
    struct stats_cox c;
    /* The earlier time always has the lower x: no maximum. */
    const double t[] = {1, 2, 3, 4}, x[] = {0, 1, 2, 3};
    const bool e[] = {1, 1, 1, 1};
    const char *names[] = {"x", "x2"};
    assert_int_equal(stats_cox_fit(t, e, x, 4, 1, names, &c, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "column x orders the events"));
    const double k[] = {5, 5, 5, 5};
    assert_int_equal(stats_cox_fit(t, e, k, 4, 1, names, &c, err), TEND_ERR_INVALID);
    assert_string_equal(err, "column x is constant: it cannot explain the hazard");
    const bool none[] = {0, 0, 0, 0};
    assert_int_equal(stats_cox_fit(t, none, x, 4, 1, names, &c, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "no event"));
    /* x2 = 2 x: collinear. */
    const double xx[] = {1.2, 2.4, 0.4, 0.8, 2.0, 4.0, 0.1, 0.2, 1.5, 3.0, 0.3, 0.6};
    assert_int_equal(stats_cox_fit(cox_t, cox_e, xx, 6, 2, names, &c, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "collinear"));
}

/* Values 0 x6, 1 x2, 2, 3 in quarters: the quantiles at 0, .25, .5, .75, 1
 * are 0, 0 (position 2.25), 0 (4.5), 1 (6.75), 3; the equal edges merge into
 * 0, 1, 3: cohorts [0, 1] (eight rows) and (1, 3] (two). */
static void cohorts_merge_tied_edges(void **state) {
    (void)state;
    const double x[] = {3, 0, 0, 1, 0, 2, 0, 1, 0, 0};
    const double y[] = {1, 0, 1, 0, 0, 1, 0, 0, 0, 0};
    struct stats_cohorts co;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_cohorts_fit(x, y, 10, 4, &co, err), TEND_OK);
    assert_int_equal(co.n_cohorts, 2);
    assert_near(co.c[0].lo, 0, 0);
    assert_near(co.c[0].hi, 1, 0);
    assert_int_equal(co.c[0].n, 8);
    assert_int_equal(co.c[0].events, 1);
    assert_near(co.c[1].rate, 1, 0);
    assert_true(co.c[0].small && co.c[1].small); /* under 30 rows each */
    assert_near(co.rate, 0.3, 1e-15);
    stats_cohorts_free(&co);
    assert_int_equal(stats_cohorts_fit(x, y, 10, 1, &co, err), TEND_ERR_INVALID);
}

/* At the means the log odds are -2 + 0.5 * 3 = -0.5; one sd (2) up adds
 * 0.5 * 2 = 1: the rate goes from logistic(-0.5) to logistic(0.5), +65%
 * of itself; with p 0.2 that is strong but not significant. */
static void strength_by_hand(void **state) {
    (void)state;
    struct stats_coef coefs[2] = {{.coef = -2}, {.coef = 0.5, .p = 0.2, .mean = 3, .std_dev = 2}};
    struct stats_fit f = {.coefs = coefs, .n_coefs = 2, .scale = STATS_OWN_SCALE};
    struct stats_strength s;
    stats_strength_of(&f, 1, &s);
    assert_near(s.std_coef, 1, 0);
    assert_near(s.base_rate, 1 / (1 + exp(0.5)), 1e-15);
    assert_near(s.plus_sd_rate, 1 / (1 + exp(-0.5)), 1e-15);
    assert_true(s.strong_not_significant && !s.significant_weak);
    /* The same fit per sd: the intercept is the log odds at the means. */
    struct stats_coef per_sd[2] = {{.coef = -0.5}, {.coef = 0.04, .p = 0.001, .std_dev = 2}};
    f = (struct stats_fit){.coefs = per_sd, .n_coefs = 2, .scale = STATS_PER_STD_DEV};
    stats_strength_of(&f, 1, &s);
    assert_near(s.std_coef, 0.04, 0);
    assert_true(s.significant_weak && !s.strong_not_significant);
}

/* Walsh functions u, v, w (orthogonal, mean 0): a = u, b = u + v, c = v +
 * w / 2 give r(a, b) = 0.707 and r(b, c) = 0.632 but r(a, c) = 0: single
 * linkage chains all three into one group; d = q, a fourth Walsh function,
 * is orthogonal to all three and stays alone. */
static void groups_chain_by_single_linkage(void **state) {
    (void)state;
    const double u[] = {1, -1, 1, -1, 1, -1, 1, -1}, v[] = {1, 1, -1, -1, 1, 1, -1, -1},
                 w[] = {1, -1, -1, 1, 1, -1, -1, 1}, q[] = {1, 1, 1, 1, -1, -1, -1, -1};
    double x[8 * 4];
    for (int i = 0; i < 8; i++) {
        x[i * 4 + 0] = u[i];
        x[i * 4 + 1] = u[i] + v[i];
        x[i * 4 + 2] = v[i] + w[i] / 2;
        x[i * 4 + 3] = q[i];
    }
    const double y[] = {1, 0, 0, 1, 0, 0, 1, 0};
    const char *names[] = {"a", "b", "c", "d"};
    struct stats_groups g;
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_groups_fit(x, y, 8, 4, names, 0.5, 12, &g, err), TEND_OK);
    assert_near(g.corr[0 * 4 + 2], 0, 1e-15);
    assert_int_equal(g.n_all, 2);
    size_t big = g.g[0].n_members == 3 ? 0 : 1;
    assert_int_equal(g.g[big].n_members, 3);
    assert_int_equal(g.g[1 - big].n_members, 1);
    assert_int_equal(g.g[1 - big].member[0], 3);
    /* At most one group kept: the one more correlated with y. */
    stats_groups_free(&g);
    assert_int_equal(stats_groups_fit(x, y, 8, 4, names, 0.5, 1, &g, err), TEND_OK);
    assert_int_equal(g.n_groups, 1);
    assert_int_equal(g.n_all, 2);
    stats_groups_free(&g);
    const double k[] = {1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(stats_groups_fit(k, y, 8, 1, names, 0.5, 12, &g, err), TEND_ERR_INVALID);
    assert_string_equal(err, "column a is constant: it cannot be grouped");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(km_by_hand),
        cmocka_unit_test(km_rejects_bad_times),
        cmocka_unit_test(cox_matches_statsmodels_efron),
        cmocka_unit_test(cox_names_what_cannot_be_fitted),
        cmocka_unit_test(cohorts_merge_tied_edges),
        cmocka_unit_test(strength_by_hand),
        cmocka_unit_test(groups_chain_by_single_linkage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
