/* test_quality.c: the rule quality arithmetic of analysis/quality on hand
 * cases: precision, lift and the noisy mark, recall and lead time, flapping,
 * and CTAs per owner per ISO week. Each case is small enough to count on
 * paper; the comments give the count. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "analysis/quality.h"

#define EPS 1e-12

/* Horizon 10 days, period [100, 130]. Churns: account 1 on day 115, account
 * 2 on day 140 (after the period: not a churner, but alerts before it hit),
 * account 3 on day 100 (not in (from, to + 1]), account 4 on day 131
 * (to + 1: a churner). */
static const struct quality_churn churns[] = {{1, 115}, {2, 140}, {3, 100}, {4, 131}};

static void precision_recall_and_lead_time_count_by_hand(void **state) {
    (void)state;
    /* Sorted by account, day. */
    static const struct quality_alert alerts[] = {
        {1, 90},  /* warm-up: not raised; before 115 - 10: no warning */
        {1, 106}, /* raised, churned on 115 within 10: hit; earliest warning, lead 9 */
        {1, 110}, /* raised, hit; later warning */
        {1, 115}, /* raised on the churn day: churn not in (115, 125]: miss */
        {2, 129}, /* raised, churn 140 in (129, 139]? no: miss */
        {2, 130}, /* raised, 140 in (130, 140]: hit */
        {5, 120}, /* raised, no churn: miss */
    };
    struct quality_score q;
    quality_score(alerts, 7, churns, 4, 100, 130, 10, &q);
    assert_int_equal(q.raised, 6);
    assert_int_equal(q.raised_churned, 3);
    assert_true(fabs(q.precision - 0.5) < EPS);
    assert_int_equal(q.churners, 2); /* accounts 1 and 4 */
    assert_int_equal(q.warned, 1);
    assert_true(fabs(q.recall - 0.5) < EPS);
    assert_int_equal(q.n_leads, 1);
    assert_true(fabs(q.leads[0] - 9) < EPS);
    assert_true(fabs(q.median_lead - 9) < EPS);
    free(q.leads);
}

static void nothing_raised_gives_unknown_precision_not_zero(void **state) {
    (void)state;
    struct quality_score q;
    quality_score(NULL, 0, churns, 4, 100, 130, 10, &q);
    assert_int_equal(q.raised, 0);
    assert_true(isnan(q.precision));
    assert_true(fabs(q.recall - 0) < EPS); /* two churners, none warned */
    assert_true(isnan(q.median_lead));
    free(q.leads);
}

static void lift_is_precision_over_base_rate_and_under_1_2_is_noisy(void **state) {
    (void)state;
    assert_true(fabs(quality_lift(0.3, 0.1) - 3.0) < EPS);
    assert_true(isnan(quality_lift(NAN, 0.1)));
    assert_true(isnan(quality_lift(0.3, 0)));
    assert_true(quality_noisy(quality_lift(0.11, 0.1))); /* 1.1 */
    assert_false(quality_noisy(quality_lift(0.12, 0.1) + 1e-9));
    assert_false(quality_noisy(quality_lift(0.3, 0.1)));
    assert_false(quality_noisy(NAN)); /* unknown is not noisy */
}

static void median_and_nearest_rank_percentile(void **state) {
    (void)state;
    double v[] = {5, 1, 4, 2, 3, 10, 0, 0, 0, 0};
    assert_true(fabs(quality_median(v, 10) - 1.5) < EPS); /* 0 0 0 0 1 | 2 3 4 5 10 */
    double w[] = {5, 1, 4, 2, 3, 10, 0, 0, 0, 0};
    assert_true(fabs(quality_percentile(w, 10, 90) - 5) < EPS); /* the 9th of 10 */
    double x[] = {7};
    assert_true(fabs(quality_percentile(x, 1, 90) - 7) < EPS);
    assert_true(isnan(quality_median(NULL, 0)));
}

static void flapping_counts_closes_within_3_days_of_opening(void **state) {
    (void)state;
    static const struct quality_cta v[] = {
        {.opened_day = 100, .closed = true, .closed_day = 103, .auto_resolved = true},  /* fast */
        {.opened_day = 100, .closed = true, .closed_day = 104, .auto_resolved = true},  /* slow */
        {.opened_day = 101, .closed = true, .closed_day = 101, .auto_resolved = false}, /* fast */
        {.opened_day = 102, .closed = false},                                           /* open */
        {.opened_day = 99, .closed = true, .closed_day = 100, .auto_resolved = true},   /* before */
    };
    struct quality_flaps f;
    quality_flapping(v, 5, 100, 130, &f);
    assert_int_equal(f.opened, 4);
    assert_int_equal(f.closed, 3);
    assert_int_equal(f.closed_fast, 2);
    assert_int_equal(f.auto_resolved, 2);
    assert_int_equal(f.auto_resolved_fast, 1);
    assert_true(fabs(f.fast_share - 0.5) < EPS);
    assert_true(fabs(f.auto_share - 2.0 / 3.0) < EPS);
}

static void owner_weeks_count_whole_iso_weeks_with_zero_weeks(void **state) {
    (void)state;
    /* 2026-01-01 is day 20454, a Thursday; the first Monday after it is
     * 2026-01-05 (20458). Period 2026-01-01 .. 2026-01-21 (20474, a
     * Wednesday): whole weeks 2026-01-05..11 and 12..18: two. */
    static const struct quality_open v[] = {
        {0, 20454},                         /* Thursday before the first whole week: not counted */
        {0, 20458}, {0, 20459}, {0, 20464}, /* owner 0, week 1: 3 */
        {1, 20465},                         /* owner 1, week 2: 1 */
        {1, 20472},                         /* week 3 is not whole: not counted */
        {2, 20454},                         /* owner 2: only outside: not an owner here */
    };
    struct quality_weeks w;
    quality_owner_weeks(v, 7, 3, 20454, 20474, &w);
    assert_int_equal(w.weeks, 2);
    assert_int_equal(w.first_monday, 20458);
    assert_int_equal(w.owners, 2);
    /* cells: owner 0: 3, 0; owner 1: 0, 1 -> 0 0 1 3 */
    assert_true(fabs(w.median - 0.5) < EPS);
    assert_true(fabs(w.p90 - 3) < EPS);
    assert_true(fabs(w.max - 3) < EPS);
    assert_true(fabs(w.mean - 1) < EPS);
}

static void a_short_period_counts_the_weeks_it_touches(void **state) {
    (void)state;
    /* Wednesday 20460 to Friday 20462: no whole week; the one it touches. */
    static const struct quality_open v[] = {{0, 20460}, {0, 20462}};
    struct quality_weeks w;
    quality_owner_weeks(v, 2, 1, 20460, 20462, &w);
    assert_int_equal(w.weeks, 1);
    assert_true(fabs(w.max - 2) < EPS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(precision_recall_and_lead_time_count_by_hand),
        cmocka_unit_test(nothing_raised_gives_unknown_precision_not_zero),
        cmocka_unit_test(lift_is_precision_over_base_rate_and_under_1_2_is_noisy),
        cmocka_unit_test(median_and_nearest_rank_percentile),
        cmocka_unit_test(flapping_counts_closes_within_3_days_of_opening),
        cmocka_unit_test(owner_weeks_count_whole_iso_weeks_with_zero_weeks),
        cmocka_unit_test(a_short_period_counts_the_weeks_it_touches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
