/* test_health.c: health scores (core/health.c): ranges, bands, dropout,
 * explanations that add up, curves, configuration. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/health.h"
#include "util/yaml.h"

/* An account with every input known and middling. */
static struct metrics typical(void) {
    struct metrics m;
    memset(&m, 0, sizeof m);
    m.users = 10;
    m.active_users_30d = 6;
    m.logins_7d = 20;
    m.logins_prev_28d = 100;
    m.has_days_since_login = true;
    m.days_since_login = 1;
    m.feature_events_7d = 50;
    m.feature_events_prev_28d = 200;
    m.features_used_30d = 5;
    m.has_nps = true;
    m.nps = 20;
    m.tickets_open = 1;
    m.tickets_30d = 2;
    m.has_card_days_left = true;
    m.card_days_left = 200;
    return m;
}

static void sum_of_contributions_is_the_overall_score(void **state) {
    struct health_config c;
    health_config_default(&c);
    struct metrics m = typical();
    struct health_score h;
    health_compute(&c, &m, &h);
    assert_true(h.has_score);
    double sum = 0, weights = 0;
    for (int i = 0; i < HC_COUNT; i++) {
        sum += h.components[i].contribution;
        weights += h.components[i].effective_weight;
    }
    assert_true(fabs(sum - h.overall) < 1e-9);
    assert_true(fabs(weights - 1) < 1e-12);
}

/* Random metrics, in and beyond every curve's range: scores stay in 0-100,
 * the band follows the thresholds, contributions add up. */
static void scores_stay_in_range_and_bands_follow_thresholds(void **state) {
    struct health_config c;
    health_config_default(&c);
    srand(42);
    for (int n = 0; n < 20000; n++) {
        struct metrics m;
        memset(&m, 0, sizeof m);
        m.users = rand() % 50;
        m.active_users_30d = rand() % 60;
        m.logins_7d = rand() % 500;
        m.logins_prev_28d = rand() % 2000;
        m.has_days_since_login = rand() % 4 != 0;
        m.days_since_login = rand() % 400;
        m.feature_events_7d = rand() % 1000;
        m.feature_events_prev_28d = rand() % 4000;
        m.features_used_30d = rand() % 20;
        m.has_nps = rand() % 2;
        m.nps = rand() % 201 - 100;
        m.tickets_open = rand() % 30;
        m.tickets_30d = rand() % 30;
        m.max_days_overdue = rand() % 200;
        m.has_card_days_left = rand() % 2;
        m.card_days_left = rand() % 800 - 400;
        struct health_score h;
        health_compute(&c, &m, &h);
        assert_true(h.has_score); /* support and financial always have data */
        assert_true(h.overall >= 0 && h.overall <= 100);
        double sum = 0;
        for (int i = 0; i < HC_COUNT; i++) {
            const struct health_component_result *r = &h.components[i];
            if (r->has_data)
                assert_true(r->score >= 0 && r->score <= 100);
            sum += r->contribution;
        }
        assert_true(fabs(sum - h.overall) < 1e-9);
        enum health_band want = h.overall < 40   ? BAND_RED
                                : h.overall < 70 ? BAND_YELLOW
                                                 : BAND_GREEN;
        assert_int_equal(h.band, want);
    }
}

static void band_edges_are_red_below_40_and_green_from_70(void **state) {
    struct health_config c;
    health_config_default(&c);
    assert_int_equal(health_band_of(&c, 39.999), BAND_RED);
    assert_int_equal(health_band_of(&c, 40), BAND_YELLOW);
    assert_int_equal(health_band_of(&c, 69.999), BAND_YELLOW);
    assert_int_equal(health_band_of(&c, 70), BAND_GREEN);
}

/* No NPS answer: sentiment drops out and its weight is spread over the rest,
 * in proportion to theirs, instead of counting as 0. */
static void component_without_data_drops_out_and_spreads_its_weight(void **state) {
    struct health_config c;
    health_config_default(&c);
    struct metrics m = typical();
    m.has_nps = false;
    struct health_score h;
    health_compute(&c, &m, &h);
    assert_false(h.components[HC_SENTIMENT].has_data);
    assert_true(h.components[HC_SENTIMENT].contribution == 0);
    double rest = 1 - c.weights[HC_SENTIMENT];
    for (int i = 0; i < HC_COUNT; i++) {
        if (i == HC_SENTIMENT)
            continue;
        assert_true(fabs(h.components[i].effective_weight - c.weights[i] / rest) < 1e-12);
    }
    /* The same account with a perfect NPS scores higher; with none it is not
     * dragged down as if it were 0. */
    struct metrics low = typical();
    low.nps = -100;
    struct health_score hl;
    health_compute(&c, &low, &hl);
    assert_true(h.overall > hl.overall);
}

/* Loads a health: section given as YAML over the defaults. */
static void load_health(const char *yaml, struct health_config *c) {
    cJSON *root;
    char err[256];
    assert_int_equal(yaml_load_string(yaml, strlen(yaml), "t.yaml", &root, err), TEND_OK);
    if (health_config_load(cJSON_GetObjectItem(root, "health"), c, err) != TEND_OK)
        fail_msg("%s", err);
    cJSON_Delete(root);
}

/* A weight of 0 (which tend analyze may suggest) takes a component out of
 * the overall score, not out of the computation: it is still scored from its
 * inputs, so it can be stored, explained and tested again. */
static void weight_zero_component_is_scored_but_not_counted(void **state) {
    struct health_config d, c;
    health_config_default(&d);
    load_health("health:\n  weights: {logins: 0.25, adoption: 0, sentiment: 0.2, support: 0,"
                " financial: 0.15}\n",
                &c);
    struct metrics m = typical();
    struct health_score hd, h;
    health_compute(&d, &m, &hd);
    health_compute(&c, &m, &h);
    assert_true(h.has_score);
    double sum = 0, weights = 0;
    for (int i = 0; i < HC_COUNT; i++) {
        const struct health_component_result *r = &h.components[i];
        assert_true(r->has_data); /* every input of typical() is known */
        /* The component's score does not depend on its weight. */
        assert_true(fabs(r->score - hd.components[i].score) < 1e-12);
        sum += r->contribution;
        weights += r->effective_weight;
    }
    for (int i = HC_ADOPTION; i <= HC_SUPPORT; i += HC_SUPPORT - HC_ADOPTION) {
        assert_true(h.components[i].weight == 0);
        assert_true(h.components[i].effective_weight == 0);
        assert_true(h.components[i].contribution == 0);
        for (int k = 0; k < h.components[i].n_factors; k++)
            assert_true(h.components[i].factors[k].known);
    }
    assert_true(fabs(sum - h.overall) < 1e-9);
    assert_true(fabs(weights - 1) < 1e-12);
    /* The overall score is the mean of the weighted components alone. */
    double want = (0.25 * h.components[HC_LOGINS].score + 0.2 * h.components[HC_SENTIMENT].score +
                   0.15 * h.components[HC_FINANCIAL].score) /
                  0.6;
    assert_true(fabs(h.overall - want) < 1e-9);
    /* The weakest component is one that counts, even when a weight-0 one is lower. */
    m.features_used_30d = 0;
    m.feature_events_7d = 0;
    health_compute(&c, &m, &h);
    assert_true(h.components[HC_ADOPTION].has_data);
    enum health_component weakest = health_weakest(&h);
    assert_true(weakest != HC_ADOPTION && weakest != HC_SUPPORT);
    /* Only weight-0 components with data: they are scored, the account is not. */
    load_health("health:\n  weights: {logins: 0, adoption: 0, sentiment: 1, support: 0,"
                " financial: 0}\n",
                &c);
    m = typical();
    m.has_nps = false;
    health_compute(&c, &m, &h);
    assert_false(h.has_score);
    assert_true(h.components[HC_LOGINS].has_data);
    assert_int_equal(health_weakest(&h), HC_COUNT);
}

/* A factor of weight 0 is scored and shown too, without a share of its
 * component. */
static void weight_zero_factor_is_scored_but_not_counted(void **state) {
    struct health_config c;
    load_health("health:\n  components:\n    support:\n"
                "      - {input: tickets_open, weight: 1, curve: [[0, 100], [10, 0]]}\n"
                "      - {input: tickets_30d, weight: 0, curve: [[0, 100], [10, 0]]}\n",
                &c);
    struct metrics m = typical();
    m.tickets_open = 2;
    m.tickets_30d = 5;
    struct health_score h;
    health_compute(&c, &m, &h);
    const struct health_component_result *r = &h.components[HC_SUPPORT];
    assert_true(r->factors[1].known);
    assert_true(fabs(r->factors[1].score - 50) < 1e-9);
    assert_true(fabs(r->score - 80) < 1e-9);
}

/* No product data at all (no login ever, no activity): logins and adoption
 * drop out; with product data but no activity they score 0. */
static void missing_product_data_is_not_zero_usage(void **state) {
    struct health_config c;
    health_config_default(&c);
    struct metrics m;
    memset(&m, 0, sizeof m);
    m.users = 5;
    struct health_score h;
    health_compute(&c, &m, &h);
    assert_false(h.components[HC_LOGINS].has_data);
    assert_false(h.components[HC_ADOPTION].has_data);
    m.has_days_since_login = true;
    m.days_since_login = 60;
    health_compute(&c, &m, &h);
    assert_true(h.components[HC_LOGINS].has_data);
    assert_true(h.components[HC_ADOPTION].has_data);
    assert_true(h.components[HC_ADOPTION].score == 0);
}

static void no_component_with_data_gives_no_score(void **state) {
    struct health_config c;
    health_config_default(&c);
    const char *yaml = "health:\n  weights: {support: 0, financial: 0}\n";
    cJSON *root;
    char err[256];
    assert_int_equal(yaml_load_string(yaml, strlen(yaml), "t.yaml", &root, err), TEND_OK);
    assert_int_equal(health_config_load(cJSON_GetObjectItem(root, "health"), &c, err), TEND_OK);
    cJSON_Delete(root);
    struct metrics m;
    memset(&m, 0, sizeof m);
    struct health_score h;
    health_compute(&c, &m, &h);
    assert_false(h.has_score);
    assert_int_equal(h.band, BAND_NONE);
}

/* A churned account is not a customer any more: no score, no band. */
static void churned_account_gets_no_score(void **state) {
    struct health_config c;
    health_config_default(&c);
    struct metrics m = typical();
    m.churned = true;
    struct health_score h;
    health_compute(&c, &m, &h);
    assert_false(h.has_score);
    assert_int_equal(h.band, BAND_NONE);
}

/* Curves interpolate linearly and are flat beyond their ends. */
static void curves_interpolate_and_clamp(void **state) {
    struct health_config c;
    health_config_default(&c);
    struct metrics m;
    memset(&m, 0, sizeof m);
    m.max_days_overdue = 15; /* between (1, 80) and (30, 30) */
    struct health_score h;
    health_compute(&c, &m, &h);
    const struct health_factor_result *f = &h.components[HC_FINANCIAL].factors[0];
    assert_string_equal(f->input, "max_days_overdue");
    assert_true(fabs(f->score - (80 + (30 - 80) * (15 - 1) / 29.0)) < 1e-9);
    m.max_days_overdue = 500;
    health_compute(&c, &m, &h);
    assert_true(h.components[HC_FINANCIAL].factors[0].score == 0);
    /* card unknown: the factor is left out, not zero */
    assert_false(h.components[HC_FINANCIAL].factors[1].known);
    assert_true(h.components[HC_FINANCIAL].score == 0);
}

static void config_changes_weights_bands_curves_and_version(void **state) {
    struct health_config d, c;
    health_config_default(&d);
    const char *yaml =
        "health:\n"
        "  weights: {logins: 1, adoption: 0, sentiment: 0, support: 0, financial: 0}\n"
        "  bands: {red_below: 50, green_from: 90}\n"
        "  components:\n"
        "    logins:\n"
        "      - input: logins_7d\n"
        "        weight: 1\n"
        "        curve: [[0, 0], [10, 100]]\n";
    cJSON *root;
    char err[256];
    assert_int_equal(yaml_load_string(yaml, strlen(yaml), "t.yaml", &root, err), TEND_OK);
    assert_int_equal(health_config_load(cJSON_GetObjectItem(root, "health"), &c, err), TEND_OK);
    cJSON_Delete(root);
    assert_string_not_equal(c.version, d.version);
    struct metrics m = typical();
    m.logins_7d = 5;
    struct health_score h;
    health_compute(&c, &m, &h);
    assert_true(fabs(h.overall - 50) < 1e-9);
    assert_int_equal(h.band, BAND_YELLOW);
    /* The defaults' version is stable: it names the configuration, not the run. */
    struct health_config d2;
    health_config_default(&d2);
    assert_string_equal(d.version, d2.version);
}

static void config_mistakes_name_the_path(void **state) {
    static const struct {
        const char *yaml;
        const char *want;
    } cases[] = {
        {"health:\n  weights: {logins: -1}\n", "health.weights.logins: must be a number"},
        {"health:\n  weights: {login: 1}\n", "health.weights.login: not a component"},
        {"health:\n  bands: {red_below: 80, green_from: 70}\n", "health.bands: red_below"},
        {"health:\n  components:\n    support:\n      - input: ticket\n        curve: [[0, 1]]\n",
         "health.components.support[0].input: must name an input"},
        {"health:\n  components:\n    support:\n      - input: tickets_open\n        curve: [[2, "
         "1], [1, 0]]\n",
         "health.components.support[0].curve[1]: x must increase"},
        {"health:\n  components:\n    support:\n      - input: tickets_open\n        curve: [[0, "
         "101]]\n",
         "health.components.support[0].curve[0]: must be a number from 0 to 100"},
        /* Unknown keys are mistakes at every level, as in every other section. */
        {"health:\n  wieghts: {logins: 1}\n",
         "health.wieghts: unknown setting (known: weights, bands, components)"},
        {"health:\n  bands: {red_blow: 50}\n",
         "health.bands.red_blow: unknown setting (known: red_below, green_from)"},
        {"health:\n  foo: 1\n", "health.foo: unknown setting"},
        {"health:\n  components:\n    support:\n      - input: tickets_open\n        weigth: 2\n"
         "        curve: [[0, 1]]\n",
         "health.components.support[0].weigth: unknown setting (known: input, weight, curve)"},
        {"health:\n  bands: 50\n", "health.bands: must be a mapping"},
        {"health:\n  components: [1]\n", "health.components: must be a mapping"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *root;
        char err[256];
        assert_int_equal(yaml_load_string(cases[i].yaml, strlen(cases[i].yaml), "t", &root, err),
                         TEND_OK);
        struct health_config c;
        assert_int_equal(health_config_load(cJSON_GetObjectItem(root, "health"), &c, err),
                         TEND_ERR_INVALID);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].want);
        cJSON_Delete(root);
    }
}

static void yaml_errors_give_file_line_and_column(void **state) {
    const char *yaml = "health:\n  weights: [1, 2\n";
    cJSON *root;
    char err[256];
    assert_int_equal(yaml_load_string(yaml, strlen(yaml), "tend.yaml", &root, err),
                     TEND_ERR_INVALID);
    assert_non_null(strstr(err, "tend.yaml:"));
}

static void yaml_scalars_become_json_types(void **state) {
    const char *yaml = "a: 1.5\nb: \"1.5\"\nc: true\nd: ~\ne: text\nf: [x, 2]\n";
    cJSON *root;
    char err[256];
    assert_int_equal(yaml_load_string(yaml, strlen(yaml), "t", &root, err), TEND_OK);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(root, "a")));
    assert_true(cJSON_IsString(cJSON_GetObjectItem(root, "b")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(root, "c")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(root, "d")));
    assert_string_equal(cJSON_GetObjectItem(root, "e")->valuestring, "text");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "f")), 2);
    cJSON_Delete(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sum_of_contributions_is_the_overall_score),
        cmocka_unit_test(scores_stay_in_range_and_bands_follow_thresholds),
        cmocka_unit_test(band_edges_are_red_below_40_and_green_from_70),
        cmocka_unit_test(component_without_data_drops_out_and_spreads_its_weight),
        cmocka_unit_test(weight_zero_component_is_scored_but_not_counted),
        cmocka_unit_test(weight_zero_factor_is_scored_but_not_counted),
        cmocka_unit_test(missing_product_data_is_not_zero_usage),
        cmocka_unit_test(no_component_with_data_gives_no_score),
        cmocka_unit_test(churned_account_gets_no_score),
        cmocka_unit_test(curves_interpolate_and_clamp),
        cmocka_unit_test(config_changes_weights_bands_curves_and_version),
        cmocka_unit_test(config_mistakes_name_the_path),
        cmocka_unit_test(yaml_errors_give_file_line_and_column),
        cmocka_unit_test(yaml_scalars_become_json_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
