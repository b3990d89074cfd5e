/* test_labels.c: the table of human labels (core/labels): every metric
 * column and health component has a label, no name twice, and numbers read
 * as a person reads them (money with its currency and separators, plural
 * forms, percentages and scores rounded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/health.h"
#include "core/labels.h"
#include "core/metrics.h"

static void test_every_metric_and_component_has_a_label(void **state) {
    (void)state;
    for (int i = 0; i < metrics_column_count; i++) {
        const struct label *l = labels_find(metrics_columns[i]);
        assert_non_null(l);
        assert_string_not_equal(l->text, metrics_columns[i]);
    }
    for (int c = 0; c < HC_COUNT; c++)
        assert_non_null(labels_find(health_component_name((enum health_component)c)));
    assert_string_equal(labels_text("feature_events_prev_28d"), "Feature events, previous 28 days");
    assert_string_equal(labels_find("feature_events_prev_28d")->units, "events");
    assert_string_equal(labels_text("no_such_column"), "no_such_column");
}

static void test_no_name_twice(void **state) {
    (void)state;
    size_t n;
    const struct label *all = labels_all(&n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(all[i].column, all[j].column);
}

static void test_money_has_its_currency_and_separators(void **state) {
    (void)state;
    char out[64];
    labels_money(503340.0, NULL, out, sizeof out);
    assert_string_equal(out, "$503,340");
    labels_money(503340.4, "USD", out, sizeof out);
    assert_string_equal(out, "$503,340");
    labels_money(1234567.5, "EUR", out, sizeof out);
    assert_string_equal(out, "EUR 1,234,568");
    labels_money(999, "\xe2\x82\xac", out, sizeof out);
    assert_string_equal(out, "\xe2\x82\xac"
                             "999");
    labels_money(-1200, "$", out, sizeof out);
    assert_string_equal(out, "-$1,200");
    labels_value("arr_at_risk", 42000, "$", out, sizeof out);
    assert_string_equal(out, "$42,000");
}

static void test_plurals_percent_and_scores(void **state) {
    (void)state;
    char out[64];
    labels_count(1, "notification", "notifications", out, sizeof out);
    assert_string_equal(out, "1 notification");
    labels_count(0, "notification", "notifications", out, sizeof out);
    assert_string_equal(out, "0 notifications");
    labels_count(12345, "event", "events", out, sizeof out);
    assert_string_equal(out, "12,345 events");
    labels_value("feature_events_prev_28d", 1, NULL, out, sizeof out);
    assert_string_equal(out, "1 event");
    labels_value("seat_utilization", 0.666667, NULL, out, sizeof out);
    assert_string_equal(out, "66.7%");
    labels_value("overall", 66.6667, NULL, out, sizeof out);
    assert_string_equal(out, "66.7");
    labels_value("days_since_login", 12, NULL, out, sizeof out);
    assert_string_equal(out, "12 days");
    labels_number(-0.0001, 2, out, sizeof out);
    assert_string_equal(out, "0.00");
    labels_number(1234.5678, 2, out, sizeof out);
    assert_string_equal(out, "1,234.57");
}

static void model_features_read_as_labels(void **state) {
    (void)state;
    char out[160];
    labels_feature("logins_7d", out, sizeof out);
    assert_string_equal(out, "Logins, last 7 days");
    labels_feature("component_support", out, sizeof out);
    assert_string_equal(out, "Support (health component)");
    labels_feature("days_since_login_missing", out, sizeof out);
    assert_string_equal(out, "Days since the last login: unknown");
    labels_feature("(intercept)", out, sizeof out);
    assert_string_equal(out, "(intercept)");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_metric_and_component_has_a_label),
        cmocka_unit_test(test_no_name_twice),
        cmocka_unit_test(test_money_has_its_currency_and_separators),
        cmocka_unit_test(test_plurals_percent_and_scores),
        cmocka_unit_test(model_features_read_as_labels),
    };
    return cmocka_run_group_tests_name("labels", tests, NULL, NULL);
}
