/* test_report_survival.c: the HTML report of tend analyze survival
 * (server/report_survival.c): the curves inlined as SVG with the report's
 * class and an accessible title and no XML prolog, the curves' table with
 * only the checkpoints inside the follow-up, the Cox table, its caution and
 * the fallbacks (no fit, a median not reached, a p not finite), every name
 * from data escaped, and no script, style attribute or non-finite number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "html_check.h"
#include "server/report_survival.h"

#define XSS         "<script>alert(1)</script>"
#define XSS_ESCAPED "&lt;script&gt;alert(1)&lt;/script&gt;"

static void assert_contains(const char *haystack, const char *needle) {
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" not found in:\n%s", needle,
                 strstr(haystack, "<table") ? strstr(haystack, "<table") : haystack);
}

static void assert_lacks(const char *haystack, const char *needle) {
    if (strstr(haystack, needle))
        fail_msg("\"%s\" found in:\n%s", needle, haystack);
}

/* A result by segment: "smb" with churns, XSS with none (median not
 * reached); followed 100 days. */
static void make_result(struct survival_result *r, bool with_cox) {
    memset(r, 0, sizeof *r);
    r->o.landmark = 20000;
    r->o.end = 20100;
    char err[STATS_ERR_BYTES];
    static const double t1[] = {10, 20, 20, 40, 100, 100};
    static const bool e1[] = {true, true, true, true, false, false};
    static const double t2[] = {100, 100, 100};
    static const bool e2[] = {false, false, false};
    r->curves[SURV_BY_SEGMENT] = calloc(2, sizeof *r->curves[SURV_BY_SEGMENT]);
    r->n_curves[SURV_BY_SEGMENT] = 2;
    r->curves[SURV_BY_SEGMENT][0].name = strdup("smb");
    r->curves[SURV_BY_SEGMENT][1].name = strdup(XSS);
    assert_int_equal(stats_km_fit(t1, e1, 6, &r->curves[SURV_BY_SEGMENT][0].km, err), 0);
    assert_int_equal(stats_km_fit(t2, e2, 3, &r->curves[SURV_BY_SEGMENT][1].km, err), 0);
    r->n_rows = 9;
    r->n_churned = 4;
    r->not_customer = 2;
    if (with_cox) {
        r->has_cox = true;
        r->cox.n = 9;
        r->cox.n_events = 4;
        r->cox.k = 2;
        r->cox.coefs = calloc(2, sizeof *r->cox.coefs);
        r->cox.coefs[0] = (struct stats_cox_coef){.name = XSS,
                                                  .coef = log(1.23456),
                                                  .se = 0.1,
                                                  .p = 0.00001,
                                                  .hazard_ratio = 1.23456,
                                                  .hr_low = 1.1,
                                                  .hr_high = 1.4,
                                                  .std_dev = 2};
        r->cox.coefs[1] = (struct stats_cox_coef){.name = "tenure_days",
                                                  .coef = 0,
                                                  .se = NAN,
                                                  .p = NAN,
                                                  .hazard_ratio = 1,
                                                  .hr_low = NAN,
                                                  .hr_high = NAN,
                                                  .std_dev = 1};
    } else {
        snprintf(r->cox_error, sizeof r->cox_error, "no churn orders " XSS);
    }
}

static void free_result(struct survival_result *r) {
    for (size_t i = 0; i < r->n_curves[SURV_BY_SEGMENT]; i++) {
        free(r->curves[SURV_BY_SEGMENT][i].name);
        stats_km_free(&r->curves[SURV_BY_SEGMENT][i].km);
    }
    free(r->curves[SURV_BY_SEGMENT]);
    free(r->cox.coefs);
}

static void check_fragment(const char *html) {
    check_tags(html);
    assert_lacks(html, "<script");
    assert_lacks(html, " style=");
    assert_lacks(html, "<?xml");
    assert_lacks(html, "nan");
    assert_lacks(html, "inf");
}

static void test_report_with_cox(void **state) {
    (void)state;
    struct survival_result r;
    make_result(&r, true);
    struct buf b;
    buf_init(&b, 0);
    survival_report(&b, &r, SURV_BY_SEGMENT);
    const char *h = buf_str(&b);
    check_fragment(h);
    assert_int_equal(count(h, "<svg class=\"report-chart\" role=\"img\" xmlns="), 1);
    assert_contains(h, "<title>Accounts not yet churned by segment on 2024-10-04</title>");
    /* The XSS group: escaped in the legend and in its row, median not reached. */
    assert_true(count(h, XSS_ESCAPED) >= 3); /* legend, curve row, Cox factor */
    assert_contains(h, "<td>" XSS_ESCAPED "</td><td class=\"num\">3</td><td class=\"num\">0</td>"
                       "<td>not reached</td>");
    /* Checkpoints within the 100 days only. */
    assert_contains(h, "left at 90 days");
    assert_lacks(h, "left at 180 days");
    /* smb: half left from day 20, below half from day 40 (the median). */
    assert_contains(h, "<td>smb</td><td class=\"num\">6</td><td class=\"num\">4</td>"
                       "<td class=\"num\">40</td><td>50.0% (11.1 to 80.4%)</td>");
    /* The Cox table: 4 significant digits, a tiny p, what is not finite a dash. */
    assert_contains(h, "<td class=\"num\">1.235</td><td>1.1 to 1.4</td>");
    assert_contains(h, "&lt; 0.0001");
    assert_contains(h, "<td>tenure_days</td><td class=\"num\">1</td><td>\xe2\x80\x94</td>");
    assert_contains(h, "fewer than 10 per factor");
    assert_contains(h, "Left out: 2 no longer customers then");
    char title[200], summary[256];
    survival_report_title(&r, SURV_BY_SEGMENT, title, sizeof title, summary, sizeof summary);
    assert_string_equal(title, "Survival by segment, 2024-10-04 to 2025-01-12");
    assert_string_equal(summary, "9 accounts (customers on 2024-10-04, the landmark) followed to "
                                 "2025-01-12: 4 churned");
    buf_free(&b);
    free_result(&r);
}

static void test_report_without_cox(void **state) {
    (void)state;
    struct survival_result r;
    make_result(&r, false);
    struct buf b;
    buf_init(&b, 0);
    survival_report(&b, &r, SURV_BY_SEGMENT);
    const char *h = buf_str(&b);
    check_fragment(h);
    assert_contains(h, "No Cox fit: no churn orders " XSS_ESCAPED ".");
    assert_lacks(h, "hazard ratio</th>");
    buf_free(&b);
    free_result(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_with_cox),
        cmocka_unit_test(test_report_without_cox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
