/* test_cta.c: the CTA life cycle of core/cta (SPEC 5) over sequences of
 * daily evaluations: no duplicate under repeated evaluation, a snooze wakes
 * once, the cooldown after a manual close, a new CTA when a condition clears
 * and returns, priority raised on the same CTA, and due days that skip
 * weekends. A small driver applies each action to the key's state as the
 * store will. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/cta.h"
#include "util/datetime.h"

#define COOLDOWN 14

/* One key's state and how many CTAs were opened for it. */
struct key {
    struct cta_state st;
    int opened;
};

static enum cta_action step(struct key *k, int32_t day, bool holds, enum cta_priority prio) {
    struct cta_condition c = {.holds = holds, .priority = prio};
    enum cta_action a = cta_decide(&k->st, &c, day, COOLDOWN);
    switch (a) {
    case CTA_DO_OPEN:
        k->st.live = true;
        k->st.status = CTA_OPEN;
        k->st.priority = prio;
        k->st.has_closed = false;
        k->opened++;
        break;
    case CTA_DO_RAISE:
        k->st.priority = prio;
        k->st.status = CTA_OPEN;
        break;
    case CTA_DO_WAKE:
        k->st.status = CTA_OPEN;
        break;
    case CTA_DO_RESOLVE:
        k->st.live = false;
        k->st.has_closed = true;
        k->st.closed_reason = CTA_AUTO_RESOLVED;
        k->st.closed_day = day;
        k->st.cleared_since_close = true;
        break;
    case CTA_DO_CLEARED:
        k->st.cleared_since_close = true;
        break;
    case CTA_NOTHING:
    case CTA_DO_COOL_DOWN:
        break;
    }
    return a;
}

static void close_by_hand(struct key *k, int32_t day, enum cta_close_reason r) {
    k->st.live = false;
    k->st.has_closed = true;
    k->st.closed_reason = r;
    k->st.closed_day = day;
    k->st.cleared_since_close = false;
}

static void snooze(struct key *k, int32_t until) {
    k->st.status = CTA_SNOOZED;
    k->st.snoozed_until = until;
}

static const int32_t D = 20000; /* any day */

static void test_no_duplicate_under_repeated_evaluation(void **state) {
    (void)state;
    struct key k = {0};
    assert_int_equal(step(&k, D, true, CTA_MEDIUM), CTA_DO_OPEN);
    for (int i = 0; i < 5; i++) /* the same day again, and the days after */
        assert_int_equal(step(&k, D + i, true, CTA_MEDIUM), CTA_NOTHING);
    assert_int_equal(k.opened, 1);
    assert_int_equal(step(&k, D + 5, false, CTA_MEDIUM), CTA_DO_RESOLVE);
    assert_int_equal(step(&k, D + 5, false, CTA_MEDIUM), CTA_NOTHING);
    assert_false(k.st.live);
}

static void test_snooze_wakes_once(void **state) {
    (void)state;
    struct key k = {0};
    step(&k, D, true, CTA_MEDIUM);
    snooze(&k, D + 7);
    assert_int_equal(step(&k, D + 6, true, CTA_MEDIUM), CTA_NOTHING);
    assert_int_equal(step(&k, D + 7, true, CTA_MEDIUM), CTA_DO_WAKE);
    assert_int_equal(k.st.status, CTA_OPEN);
    assert_int_equal(step(&k, D + 7, true, CTA_MEDIUM), CTA_NOTHING);
    assert_int_equal(step(&k, D + 8, true, CTA_MEDIUM), CTA_NOTHING);
    assert_int_equal(k.opened, 1);
}

static void test_snoozed_cta_resolves_when_condition_clears(void **state) {
    (void)state;
    struct key k = {0};
    step(&k, D, true, CTA_LOW);
    snooze(&k, D + 30);
    assert_int_equal(step(&k, D + 3, false, CTA_LOW), CTA_DO_RESOLVE);
    assert_false(k.st.live);
}

static void test_cooldown_after_manual_close(void **state) {
    (void)state;
    struct key k = {0};
    step(&k, D, true, CTA_MEDIUM);
    close_by_hand(&k, D + 1, CTA_NOT_RELEVANT);
    for (int i = 1; i < COOLDOWN; i++)
        assert_int_equal(step(&k, D + 1 + i, true, CTA_MEDIUM), CTA_DO_COOL_DOWN);
    assert_int_equal(step(&k, D + 1 + COOLDOWN, true, CTA_MEDIUM), CTA_DO_OPEN);
    assert_int_equal(k.opened, 2);
}

static void test_reopen_after_clear_and_return(void **state) {
    (void)state;
    /* After a manual close: the condition clears, then returns within the
     * cooldown: a new CTA at once. */
    struct key k = {0};
    step(&k, D, true, CTA_MEDIUM);
    close_by_hand(&k, D + 1, CTA_RESOLVED);
    assert_int_equal(step(&k, D + 2, false, CTA_MEDIUM), CTA_DO_CLEARED);
    assert_int_equal(step(&k, D + 3, false, CTA_MEDIUM), CTA_NOTHING);
    assert_int_equal(step(&k, D + 4, true, CTA_MEDIUM), CTA_DO_OPEN);
    /* After an auto-resolve: no cooldown either. */
    assert_int_equal(step(&k, D + 5, false, CTA_MEDIUM), CTA_DO_RESOLVE);
    assert_int_equal(step(&k, D + 6, true, CTA_MEDIUM), CTA_DO_OPEN);
    assert_int_equal(k.opened, 3);
}

static void test_priority_raised_on_the_same_cta(void **state) {
    (void)state;
    /* card_expiring: 30 days -> low, 14 -> medium, 7 -> high. */
    struct key k = {0};
    assert_int_equal(step(&k, D, true, CTA_LOW), CTA_DO_OPEN);
    assert_int_equal(step(&k, D + 16, true, CTA_MEDIUM), CTA_DO_RAISE);
    assert_int_equal(step(&k, D + 17, true, CTA_MEDIUM), CTA_NOTHING);
    snooze(&k, D + 40);
    assert_int_equal(step(&k, D + 23, true, CTA_HIGH), CTA_DO_RAISE); /* wakes it */
    assert_int_equal(k.st.status, CTA_OPEN);
    assert_int_equal(k.st.priority, CTA_HIGH);
    assert_int_equal(step(&k, D + 24, true, CTA_MEDIUM), CTA_NOTHING); /* never lowered */
    assert_int_equal(k.opened, 1);
}

static int32_t date(const char *s) {
    int32_t d;
    assert_true(dt_parse_date(s, 10, &d));
    return d;
}

static void test_due_days_skip_weekends(void **state) {
    (void)state;
    /* 2026-11-20 is a Friday. */
    assert_int_equal(cta_due_day(date("2026-11-20"), 1), date("2026-11-23"));
    assert_int_equal(cta_due_day(date("2026-11-20"), 0), date("2026-11-20"));
    assert_int_equal(cta_due_day(date("2026-11-21"), 0), date("2026-11-23")); /* Saturday */
    assert_int_equal(cta_due_day(date("2026-11-22"), 2), date("2026-11-24")); /* Sunday */
    assert_int_equal(cta_due_day(date("2026-11-18"), 5), date("2026-11-25")); /* Wednesday */
    assert_int_equal(cta_due_day(date("2026-11-18"), 10), date("2026-12-02"));
    assert_int_equal(cta_due_day(date("1969-12-31"), 1), date("1970-01-01")); /* before day 0 */
}

/* A snooze moves the due day: the days left count from the wake day, on a
 * weekday, never earlier than before. */
static void test_snooze_moves_the_due_day(void **state) {
    (void)state;
    /* Due 2026-11-25 (Wednesday), snoozed on Wednesday 11-18 until 12-01
     * (Tuesday): 7 days left -> 12-08 (Tuesday). */
    assert_int_equal(
        cta_due_after_snooze(date("2026-11-25"), date("2026-11-18"), date("2026-12-01")),
        date("2026-12-08"));
    /* Overdue when snoozed: one day after waking, not overdue on waking. */
    assert_int_equal(
        cta_due_after_snooze(date("2026-11-10"), date("2026-11-18"), date("2026-11-20")),
        date("2026-11-23")); /* Friday + 1 = Saturday -> Monday */
    /* A short snooze before the due day leaves it later, never earlier. */
    assert_int_equal(
        cta_due_after_snooze(date("2026-12-31"), date("2026-11-18"), date("2026-11-19")),
        date("2027-01-01")); /* 43 days from 11-19: a Friday */
    assert_true(cta_due_after_snooze(date("2026-12-31"), date("2026-11-18"), date("2026-11-19")) >=
                date("2026-12-31"));
}

static void test_names(void **state) {
    (void)state;
    assert_string_equal(cta_status_name(CTA_SNOOZED), "snoozed");
    assert_string_equal(cta_priority_name(CTA_HIGH), "high");
    assert_string_equal(cta_close_reason_name(CTA_AUTO_RESOLVED), "auto_resolved");
    assert_string_equal(cta_action_name(CTA_DO_COOL_DOWN), "cool_down");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_duplicate_under_repeated_evaluation),
        cmocka_unit_test(test_snooze_wakes_once),
        cmocka_unit_test(test_snoozed_cta_resolves_when_condition_clears),
        cmocka_unit_test(test_cooldown_after_manual_close),
        cmocka_unit_test(test_reopen_after_clear_and_return),
        cmocka_unit_test(test_priority_raised_on_the_same_cta),
        cmocka_unit_test(test_due_days_skip_weekends),
        cmocka_unit_test(test_snooze_moves_the_due_day),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests_name("cta", tests, NULL, NULL);
}
