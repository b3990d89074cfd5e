/* test_customer_plan.c: which customer messages are due (core/customer_plan.h):
 * each card step on its day and not the day before, once; a card updated
 * after a step ends the steps ahead; a late start sends the latest due step
 * only; unsubscribes mark a message withheld; failed payments once per
 * invoice; the billing contact's rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/customer_plan.h"
#include "util/datetime.h"

static struct cust_plan_config cfg(void) {
    struct cust_plan_config c = {.payment_max_age_days = 7};
    c.enabled[CUST_CARD_EXPIRY] = true;
    c.steps[CUST_CARD_EXPIRY][0] = 30;
    c.steps[CUST_CARD_EXPIRY][1] = 14;
    c.steps[CUST_CARD_EXPIRY][2] = 7;
    c.n_steps[CUST_CARD_EXPIRY] = 3;
    return c;
}

/* A card expiring in March 2027: its last valid day is 2027-03-31. */
static struct cust_plan_input card(int32_t today) {
    return (struct cust_plan_input){.today = today,
                                    .has_card = true,
                                    .card_last_day = dt_days_from_civil(2027, 3, 31),
                                    .card_year = 2027,
                                    .card_month = 3,
                                    .card_last4 = "4242"};
}

/* Plans every day from first to last, recording each due step as decided
 * (as the store's claim does); returns how many were due and their steps. */
static size_t walk(const struct cust_plan_config *c, struct cust_plan_input in, int32_t first,
                   int32_t last, int64_t *steps, int32_t *days, struct cust_decided *dec,
                   size_t *n_dec) {
    size_t n = 0;
    static char refs[16][CUST_REF_BYTES];
    for (int32_t d = first; d <= last; d++) {
        in.today = d;
        in.decided = dec;
        in.n_decided = *n_dec;
        struct cust_due out[4];
        size_t k = cust_plan(c, &in, out, 4);
        for (size_t i = 0; i < k; i++) {
            steps[n] = out[i].step;
            days[n++] = d;
            snprintf(refs[*n_dec], CUST_REF_BYTES, "%s", out[i].ref);
            dec[*n_dec] = (struct cust_decided){out[i].kind, refs[*n_dec], out[i].step};
            (*n_dec)++;
        }
    }
    return n;
}

static void test_each_step_once_on_its_day(void **state) {
    (void)state;
    struct cust_plan_config c = cfg();
    int32_t last = dt_days_from_civil(2027, 3, 31);
    int64_t steps[8];
    int32_t days[8];
    struct cust_decided dec[16];
    size_t n_dec = 0;
    size_t n = walk(&c, card(0), last - 60, last + 5, steps, days, dec, &n_dec);
    assert_int_equal(n, 3);
    assert_int_equal(steps[0], 30);
    assert_int_equal(days[0], last - 30); /* 2027-03-01: not the day before */
    assert_int_equal(steps[1], 14);
    assert_int_equal(days[1], last - 14);
    assert_int_equal(steps[2], 7);
    assert_int_equal(days[2], last - 7);
    assert_string_equal(dec[0].ref, "2027-03 *4242");
    /* A rerun of any day (a restart) decides nothing more. */
    n = walk(&c, card(0), last - 60, last + 5, steps, days, dec, &n_dec);
    assert_int_equal(n, 0);
}

static void test_day_edges(void **state) {
    (void)state;
    struct cust_plan_config c = cfg();
    /* February of a leap year: the card's last day is the 29th. */
    struct cust_plan_input in = card(0);
    in.card_year = 2028;
    in.card_month = 2;
    in.card_last_day = dt_days_from_civil(2028, 2, 29);
    struct cust_due out[4];
    in.today = dt_days_from_civil(2028, 1, 29); /* 31 days left */
    assert_int_equal(cust_plan(&c, &in, out, 4), 0);
    in.today++; /* 30 */
    assert_int_equal(cust_plan(&c, &in, out, 4), 1);
    assert_int_equal(out[0].days_left, 30);
    /* The last valid day itself is still before expiry (7-day step due with 0
     * left when nothing was sent); the day after, nothing. */
    in.today = in.card_last_day;
    assert_int_equal(cust_plan(&c, &in, out, 4), 1);
    assert_int_equal(out[0].step, 7);
    in.today = in.card_last_day + 1;
    assert_int_equal(cust_plan(&c, &in, out, 4), 0);
}

static void test_late_start_sends_latest_only(void **state) {
    (void)state;
    struct cust_plan_config c = cfg();
    int32_t last = dt_days_from_civil(2027, 3, 31);
    int64_t steps[8];
    int32_t days[8];
    struct cust_decided dec[16];
    size_t n_dec = 0;
    /* Turned on 10 days before expiry: the 14-day reminder, then the 7. */
    size_t n = walk(&c, card(0), last - 10, last, steps, days, dec, &n_dec);
    assert_int_equal(n, 2);
    assert_int_equal(steps[0], 14);
    assert_int_equal(days[0], last - 10);
    assert_int_equal(steps[1], 7);
    /* Sent the 30, then off until 5 days before: the 7 only, never the 14. */
    n_dec = 0;
    n = walk(&c, card(0), last - 30, last - 30, steps, days, dec, &n_dec);
    assert_int_equal(n, 1);
    n = walk(&c, card(0), last - 5, last, steps, days, dec, &n_dec);
    assert_int_equal(n, 1);
    assert_int_equal(steps[0], 7);
}

static void test_card_updated_cancels_steps_ahead(void **state) {
    (void)state;
    struct cust_plan_config c = cfg();
    int32_t last = dt_days_from_civil(2027, 3, 31);
    int64_t steps[8];
    int32_t days[8];
    struct cust_decided dec[16];
    size_t n_dec = 0;
    assert_int_equal(walk(&c, card(0), last - 31, last - 20, steps, days, dec, &n_dec), 1);
    /* A new card (2029-03, another last four) from then on. */
    struct cust_plan_input nw = card(0);
    nw.card_year = 2029;
    nw.card_last_day = dt_days_from_civil(2029, 3, 31);
    nw.card_last4 = "1881";
    assert_int_equal(walk(&c, nw, last - 19, last + 10, steps, days, dec, &n_dec), 0);
    /* The same card entered again: its steps continue (14, 7). */
    assert_int_equal(walk(&c, card(0), last - 19, last + 10, steps, days, dec, &n_dec), 2);
    assert_int_equal(steps[0], 14);
}

static void test_unsubscribed_is_marked(void **state) {
    (void)state;
    struct cust_plan_config c = cfg();
    struct cust_plan_input in = card(dt_days_from_civil(2027, 3, 1));
    in.unsubscribed[CUST_CARD_EXPIRY] = true;
    struct cust_due out[4];
    assert_int_equal(cust_plan(&c, &in, out, 4), 1);
    assert_true(out[0].unsubscribed);
    in.unsubscribed[CUST_CARD_EXPIRY] = false;
    in.unsubscribed[CUST_PAYMENT_FAILED] = true; /* another kind: not this one */
    assert_int_equal(cust_plan(&c, &in, out, 4), 1);
    assert_false(out[0].unsubscribed);
}

static void test_failed_payment_once_per_invoice(void **state) {
    (void)state;
    struct cust_plan_config c = cfg();
    c.enabled[CUST_CARD_EXPIRY] = false;
    c.enabled[CUST_PAYMENT_FAILED] = true;
    int32_t today = dt_days_from_civil(2027, 5, 10);
    struct cust_failure f[] = {
        {"inv-1", today - 1, false}, {"inv-1", today, false}, /* failed twice */
        {"inv-2", today - 2, true},                           /* paid since */
        {"inv-3", today - 8, false},                          /* too old */
        {"inv-4", today, false},
    };
    struct cust_plan_input in = {.today = today, .failures = f, .n_failures = 5};
    struct cust_due out[8];
    size_t n = cust_plan(&c, &in, out, 8);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].ref, "inv-1");
    assert_string_equal(out[1].ref, "inv-4");
    struct cust_decided d[] = {{CUST_PAYMENT_FAILED, "inv-1", 0}};
    in.decided = d;
    in.n_decided = 1;
    n = cust_plan(&c, &in, out, 8);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].ref, "inv-4");
}

static void test_renewal_steps(void **state) {
    (void)state;
    struct cust_plan_config c = cfg();
    c.enabled[CUST_CARD_EXPIRY] = false;
    c.enabled[CUST_RENEWAL] = true;
    c.steps[CUST_RENEWAL][0] = 30;
    c.n_steps[CUST_RENEWAL] = 1;
    int32_t renewal = dt_days_from_civil(2027, 6, 30);
    struct cust_plan_input in = {
        .today = renewal - 31, .has_renewal = true, .renewal_day = renewal};
    struct cust_due out[4];
    assert_int_equal(cust_plan(&c, &in, out, 4), 0);
    in.today++;
    assert_int_equal(cust_plan(&c, &in, out, 4), 1);
    assert_int_equal(out[0].kind, CUST_RENEWAL);
    assert_string_equal(out[0].ref, "2027-06-30");
    assert_int_equal(out[0].days_left, 30);
    struct cust_decided d[] = {{CUST_RENEWAL, "2027-06-30", 30}};
    in.decided = d;
    in.n_decided = 1;
    assert_int_equal(cust_plan(&c, &in, out, 4), 0);
    in.renewal_day = dt_days_from_civil(2028, 6, 30); /* renewed: next year's date, new steps */
    in.today = in.renewal_day - 30;
    assert_int_equal(cust_plan(&c, &in, out, 4), 1);
}

static void test_recipient_rule(void **state) {
    (void)state;
    const char *emails[] = {"u@x.com", "admin@x.com", "pay@x.com"};
    const char *roles[] = {"user", "admin", "billing"};
    const char *rule;
    assert_string_equal(cust_recipient("bill@x.com", emails, roles, 3, &rule), "bill@x.com");
    assert_string_equal(rule, "billing_email");
    assert_string_equal(cust_recipient("not an address", emails, roles, 3, &rule), "pay@x.com");
    assert_string_equal(rule, "billing_user");
    assert_string_equal(cust_recipient(NULL, emails, roles, 2, &rule), "admin@x.com");
    assert_string_equal(rule, "admin_user");
    assert_null(cust_recipient(NULL, emails, roles, 1, &rule));
    assert_string_equal(rule, "none");
    assert_false(cust_address_ok("a@b.com\r\nBcc: x@y.com"));
    assert_false(cust_address_ok("<a@b.com>"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_step_once_on_its_day),
        cmocka_unit_test(test_day_edges),
        cmocka_unit_test(test_late_start_sends_latest_only),
        cmocka_unit_test(test_card_updated_cancels_steps_ahead),
        cmocka_unit_test(test_unsubscribed_is_marked),
        cmocka_unit_test(test_failed_payment_once_per_invoice),
        cmocka_unit_test(test_renewal_steps),
        cmocka_unit_test(test_recipient_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
