/* test_analyze.c: band thresholds from outcomes (analysis/analyze.c,
 * analysis_suggest_bands): hand-counted cases for the red and yellow rules,
 * the minimum rows, no red band when nothing churns at twice the base rate,
 * and rows without a score. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "analysis/analyze.h"

#define N 100

/* Scores 0..99, one row each; churned where pick says so. */
static void rows(bool (*pick)(int), double *score, bool *has, bool *churned) {
    for (int i = 0; i < N; i++) {
        score[i] = i;
        has[i] = true;
        churned[i] = pick(i);
    }
}

/* 10 churns: 6 among scores 0-9, 2 among 10-29, 2 among 30-99. Base rate
 * 0.10. Below 10: 6/10 = 0.6. Below t for t in 11..: the highest t with at
 * least twice the base rate (0.2): below 40 there are 8 churns in 40 rows =
 * 0.2 exactly (kept: "at least"), below 41 8/41 < 0.2. So red_below = 40.
 * Yellow: from 40 up to t, above 0.1 with at least 10 rows (t >= 50): one
 * churn (45) in 10+ rows is at most 0.1, two (45, 80) need t >= 81 and give
 * at most 2/41: no yellow band, green from 40. */
static bool case_a(int i) {
    return i < 6 || i == 12 || i == 25 || i == 45 || i == 80;
}

static void suggests_red_and_yellow_as_counted_by_hand(void **state) {
    (void)state;
    double score[N];
    bool has[N], churned[N];
    rows(case_a, score, has, churned);
    struct analysis_bands b;
    analysis_suggest_bands(score, has, churned, N, &b);
    assert_int_equal(b.n, 100);
    assert_int_equal(b.churned, 10);
    assert_true(fabs(b.base_rate - 0.1) < 1e-12);
    assert_true(b.red_below == 40);
    assert_true(b.green_from == 40);
    assert_int_equal(b.band[BAND_RED].n, 40);
    assert_int_equal(b.band[BAND_RED].churned, 8);
    assert_int_equal(b.band[BAND_YELLOW].n, 0);
    assert_int_equal(b.band[BAND_GREEN].n, 60);
    assert_int_equal(b.band[BAND_GREEN].churned, 2);
    assert_true(fabs(b.band[BAND_RED].rate - 0.2) < 1e-12);
}

/* Churn spread evenly: nothing churns at twice the base rate, so no red
 * band; and nothing above the base rate with 10 rows, so no yellow. */
static bool every_tenth(int i) {
    return i % 10 == 5;
}

static void no_red_band_when_nothing_churns_twice_the_base_rate(void **state) {
    (void)state;
    double score[N];
    bool has[N], churned[N];
    rows(every_tenth, score, has, churned);
    struct analysis_bands b;
    analysis_suggest_bands(score, has, churned, N, &b);
    /* Below 6: 1/6 = 0.167 < 0.2; below 10: 1/10. Red needs twice 0.1. */
    assert_true(b.red_below == 0);
    /* From 0 up to t: above 0.1 with at least 10 rows. The highest such t:
     * 99 (10/99 = 0.101); t = 100 gives 10/100, not above. */
    assert_true(b.green_from == 99);
    assert_int_equal(b.band[BAND_RED].n, 0);
}

/* 3 churns among scores 0-2 and 1 at 70 (base 0.04): below 3 the rate is
 * 1.0 but 3 rows are too few for a band; the highest t with 3/t >= 0.08 is
 * 37. */
static bool three_low(int i) {
    return i < 3 || i == 70;
}

static void a_band_needs_enough_rows(void **state) {
    (void)state;
    double score[N];
    bool has[N], churned[N];
    rows(three_low, score, has, churned);
    struct analysis_bands b;
    analysis_suggest_bands(score, has, churned, N, &b);
    assert_true(b.red_below == 37); /* 3/37 = 0.081 >= 0.08; 3/38 = 0.079 */
    assert_true(b.band[BAND_RED].n >= ANALYSIS_BAND_MIN_ROWS);
    /* Above it the churn at 70 is 1 in 34 or more rows: no yellow band. */
    assert_true(b.green_from == 37);
}

/* Rows without a score are counted apart and stay out of the base rate. */
static void rows_without_a_score_are_apart(void **state) {
    (void)state;
    double score[N];
    bool has[N], churned[N];
    rows(case_a, score, has, churned);
    has[0] = has[1] = false;
    struct analysis_bands b;
    analysis_band_rates(score, has, churned, N, 40, 70, &b);
    assert_int_equal(b.n, 98);
    assert_int_equal(b.churned, 8);
    assert_int_equal(b.band[BAND_NONE].n, 2);
    assert_int_equal(b.band[BAND_NONE].churned, 2);
    assert_int_equal(b.band[BAND_RED].n, 38);
    assert_int_equal(b.band[BAND_YELLOW].n, 30);
    assert_int_equal(b.band[BAND_GREEN].n, 30);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(suggests_red_and_yellow_as_counted_by_hand),
        cmocka_unit_test(no_red_band_when_nothing_churns_twice_the_base_rate),
        cmocka_unit_test(a_band_needs_enough_rows),
        cmocka_unit_test(rows_without_a_score_are_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
