/* test_revenue.c: core/revenue on hand cases: each kind of movement, the
 * reconciliation of a trait and an event on the same day (no double
 * counting), a change that starts off the known level, outcomes with and
 * without arr, and a period's GRR, NRR and logo churn counted on paper. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/revenue.h"
#include "util/datetime.h"

#define EPS  1e-9
#define DAY  DT_MS_PER_DAY
#define HOUR 3600000LL

static struct rev_input trait(int64_t ts, double mrr) {
    return (struct rev_input){.kind = REV_IN_TRAIT, .ts_ms = ts, .mrr = mrr};
}

static struct rev_input change(int64_t ts, double before, double after, const char *reason) {
    return (struct rev_input){
        .kind = REV_IN_CHANGE, .ts_ms = ts, .mrr_before = before, .mrr = after, .reason = reason};
}

static struct rev_input outcome(enum rev_input_kind kind, int64_t ts, double arr,
                                const char *reason) {
    return (struct rev_input){
        .kind = kind, .ts_ms = ts, .has_arr = arr >= 0, .arr = arr, .reason = reason};
}

static void expect(const struct rev_movement *m, enum rev_kind kind, double before, double after,
                   const char *reason) {
    if (m->kind != kind)
        fail_msg("kind %s, want %s", revenue_kind_name(m->kind), revenue_kind_name(kind));
    assert_true(fabs(m->mrr_before - before) < EPS);
    assert_true(fabs(m->mrr_after - after) < EPS);
    if (!reason)
        assert_null(m->reason);
    else {
        assert_non_null(m->reason);
        assert_string_equal(m->reason, reason);
    }
}

static void each_kind_of_movement_from_traits_and_events(void **state) {
    (void)state;
    struct rev_input in[] = {
        trait(10 * DAY, 100),                                 /* new */
        change(20 * DAY + HOUR, 100, 150, "seats added"),     /* expansion */
        change(30 * DAY, 150, 120, "downgrade"),              /* contraction */
        outcome(REV_IN_RENEWED, 40 * DAY, 1440, NULL),        /* renewal at 120 */
        outcome(REV_IN_CHURNED, 50 * DAY, -1, "budget cuts"), /* churn */
        trait(60 * DAY, 80),                                  /* reactivation */
    };
    struct rev_movement *mv;
    size_t n = revenue_movements(in, 6, &mv);
    assert_int_equal(n, 6);
    expect(&mv[0], REV_NEW, 0, 100, NULL);
    expect(&mv[1], REV_EXPANSION, 100, 150, "seats added");
    expect(&mv[2], REV_CONTRACTION, 150, 120, "downgrade");
    expect(&mv[3], REV_RENEWAL, 120, 120, NULL);
    assert_true(fabs(mv[3].amount - 120) < EPS);
    expect(&mv[4], REV_CHURN, 120, 0, "budget cuts");
    assert_true(fabs(mv[4].amount - 120) < EPS);
    expect(&mv[5], REV_REACTIVATION, 0, 80, NULL);
    assert_true(fabs(revenue_mrr_at(mv, n, 50 * DAY) - 120) < EPS);
    assert_true(fabs(revenue_mrr_at(mv, n, 50 * DAY + 1) - 0) < EPS);
    free(mv);
}

/* The CRM's trait arrives at 09:00, the billing event at 10:00, the same
 * change: one movement, with the event's reason. Before the rule the trait
 * made +50 without a reason and the event nothing, or both counted. */
static void a_trait_echoing_an_event_the_same_day_is_not_counted_twice(void **state) {
    (void)state;
    struct rev_input in[] = {
        trait(1 * DAY, 100),
        trait(5 * DAY + 9 * HOUR, 150),
        change(5 * DAY + 10 * HOUR, 100, 150, "upgrade"),
        trait(5 * DAY + 11 * HOUR, 150),
    };
    struct rev_movement *mv;
    size_t n = revenue_movements(in, 4, &mv);
    assert_int_equal(n, 2);
    expect(&mv[0], REV_NEW, 0, 100, NULL);
    expect(&mv[1], REV_EXPANSION, 100, 150, "upgrade");
    free(mv);
}

/* Only the day's last trait counts: a correction within the day (100, 0,
 * 100) is no churn and no reactivation. A trait beyond what the day's
 * event says moves the rest, without a reason. */
static void the_days_last_trait_moves_only_what_events_did_not(void **state) {
    (void)state;
    struct rev_input in[] = {
        trait(1 * DAY, 100),
        trait(2 * DAY + HOUR, 0),
        trait(2 * DAY + 2 * HOUR, 100),
        change(3 * DAY + HOUR, 100, 130, "seats added"),
        trait(3 * DAY + 2 * HOUR, 140),
    };
    struct rev_movement *mv;
    size_t n = revenue_movements(in, 5, &mv);
    assert_int_equal(n, 3);
    expect(&mv[0], REV_NEW, 0, 100, NULL);
    expect(&mv[1], REV_EXPANSION, 100, 130, "seats added");
    expect(&mv[2], REV_EXPANSION, 130, 140, NULL);
    free(mv);
}

/* The CRM's mrr still says 100 after Account Churned: group calls that
 * repeat it are no reactivation; a real change of it (to 0, then a new
 * sale at 120) is. */
static void a_stale_trait_after_a_churn_is_no_reactivation(void **state) {
    (void)state;
    struct rev_input in[] = {
        trait(1 * DAY, 100),  outcome(REV_IN_CHURNED, 10 * DAY, -1, "budget cuts"),
        trait(20 * DAY, 100), trait(30 * DAY, 100),
        trait(40 * DAY, 0),   trait(50 * DAY, 120),
    };
    struct rev_movement *mv;
    size_t n = revenue_movements(in, 6, &mv);
    assert_int_equal(n, 3);
    expect(&mv[0], REV_NEW, 0, 100, NULL);
    expect(&mv[1], REV_CHURN, 100, 0, "budget cuts");
    expect(&mv[2], REV_REACTIVATION, 0, 120, NULL);
    free(mv);
}

/* A change from 120 when tend knew 100: +20 without a reason, then the
 * change's own +30. Start + movements = end, always. */
static void a_change_off_the_known_level_leaves_the_gap_unexplained(void **state) {
    (void)state;
    struct rev_input in[] = {trait(1 * DAY, 100), change(4 * DAY, 120, 150, "upgrade")};
    struct rev_movement *mv;
    size_t n = revenue_movements(in, 2, &mv);
    assert_int_equal(n, 3);
    expect(&mv[1], REV_EXPANSION, 100, 120, NULL);
    expect(&mv[2], REV_EXPANSION, 120, 150, "upgrade");
    free(mv);
}

/* A change to 0 and Account Churned the same day: one churn, which takes
 * the outcome's reason. Account Churned of an account tend never saw pay:
 * its arr says what it paid. */
static void a_churn_reported_twice_is_one_churn(void **state) {
    (void)state;
    struct rev_input in[] = {
        trait(1 * DAY, 100),
        change(9 * DAY + HOUR, 100, 0, NULL),
        outcome(REV_IN_CHURNED, 9 * DAY + 2 * HOUR, 1200, "switched to competitor"),
        trait(9 * DAY + 3 * HOUR, 0),
    };
    struct rev_movement *mv;
    size_t n = revenue_movements(in, 4, &mv);
    assert_int_equal(n, 2);
    expect(&mv[1], REV_CHURN, 100, 0, "switched to competitor");
    free(mv);
    struct rev_input only[] = {outcome(REV_IN_CHURNED, 9 * DAY, 2400, "budget cuts")};
    n = revenue_movements(only, 1, &mv);
    assert_int_equal(n, 2);
    expect(&mv[0], REV_NEW, 0, 200, NULL);
    expect(&mv[1], REV_CHURN, 200, 0, "budget cuts");
    free(mv);
}

/* A renewal at four times the MRR is an expansion at the renewal; half of
 * it a contraction. Both were ignored before (issue 20). */
static void a_renewal_at_another_amount_moves_the_mrr(void **state) {
    (void)state;
    struct rev_input in[] = {trait(1 * DAY, 100), outcome(REV_IN_RENEWED, 30 * DAY, 4800, NULL),
                             outcome(REV_IN_RENEWED, 60 * DAY, 2400, "budget cuts")};
    struct rev_movement *mv;
    size_t n = revenue_movements(in, 3, &mv);
    assert_int_equal(n, 5);
    expect(&mv[1], REV_RENEWAL, 100, 100, NULL);
    expect(&mv[2], REV_EXPANSION, 100, 400, "renewal");
    expect(&mv[3], REV_RENEWAL, 400, 400, "budget cuts");
    expect(&mv[4], REV_CONTRACTION, 400, 200, "budget cuts");
    free(mv);
}

/* Period [10, 40) days. A: 100 at start, +50, -30: in the cohort. B: 200,
 * churns on day 20 and comes back at 90 on day 30: churn 200, and 90 new.
 * C: new on day 15 at 70. D: churned before the start: not in the cohort.
 * start 300; expansion 50; contraction 30; churn 200; GRR (300-30-200)/300,
 * NRR (300+50-30-200)/300; logo churn 1/2; end 120 + 90 + 70 = 280, of
 * which new 160. */
static void a_period_counts_the_cohort_and_leaves_new_business_out(void **state) {
    (void)state;
    struct rev_input a[] = {trait(1 * DAY, 100), change(12 * DAY, 100, 150, "seats added"),
                            change(14 * DAY, 150, 120, "seats removed")};
    struct rev_input b[] = {trait(1 * DAY, 200), outcome(REV_IN_CHURNED, 20 * DAY, -1, "price"),
                            trait(30 * DAY, 90)};
    struct rev_input c[] = {trait(15 * DAY, 70)};
    struct rev_input d[] = {trait(1 * DAY, 50), trait(5 * DAY, 0)};
    struct rev_input *all[] = {a, b, c, d};
    size_t len[] = {3, 3, 1, 2};
    struct rev_figures f = {0};
    for (int i = 0; i < 4; i++) {
        struct rev_movement *mv;
        size_t n = revenue_movements(all[i], len[i], &mv);
        revenue_period_add(mv, n, 10 * DAY, 40 * DAY, &f);
        free(mv);
    }
    assert_int_equal(f.accounts_start, 2);
    assert_int_equal(f.logos_churned, 1);
    assert_int_equal(f.accounts_end, 3);
    assert_true(fabs(f.mrr_start - 300) < EPS);
    assert_true(fabs(f.expansion - 50) < EPS);
    assert_true(fabs(f.contraction - 30) < EPS);
    assert_true(fabs(f.churned - 200) < EPS);
    assert_true(fabs(f.mrr_end - 280) < EPS);
    assert_true(fabs(f.new_mrr - 160) < EPS);
    struct rev_rates r;
    revenue_rates(&f, 30, &r);
    assert_true(fabs(r.grr - 70.0 / 300) < EPS);
    assert_true(fabs(r.nrr - 120.0 / 300) < EPS);
    assert_true(fabs(r.logo_churn - 0.5) < EPS);
    assert_true(fabs(r.grr_annual - pow(70.0 / 300, 365.0 / 30)) < EPS);
    assert_true(fabs(r.logo_churn_annual - (1 - pow(0.5, 365.0 / 30))) < EPS);
    struct rev_figures empty = {0};
    revenue_rates(&empty, 30, &r);
    assert_true(isnan(r.grr) && isnan(r.nrr));
}

int main(void) {
#define T(name) cmocka_unit_test(name)
    const struct CMUnitTest tests[] = {
        T(each_kind_of_movement_from_traits_and_events),
        T(a_trait_echoing_an_event_the_same_day_is_not_counted_twice),
        T(the_days_last_trait_moves_only_what_events_did_not),
        T(a_stale_trait_after_a_churn_is_no_reactivation),
        T(a_change_off_the_known_level_leaves_the_gap_unexplained),
        T(a_churn_reported_twice_is_one_churn),
        T(a_renewal_at_another_amount_moves_the_mrr),
        T(a_period_counts_the_cohort_and_leaves_new_business_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
