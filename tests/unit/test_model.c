/* test_model.c: the churn-risk model's snapshot labels, censoring and time
 * split (analysis/model.c), and the scoring, drivers and card round trip of
 * eval/risk.c. The fit itself is the stats layer's (test_ridge.c) and
 * scikit-learn's (tests/integration/model.sh). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/model.h"
#include "eval/risk.h"

/* ---- labels and censoring ---------------------------------------------------------- */

static void test_label_window_is_after_the_day_to_the_horizon(void **state) {
    (void)state;
    struct model_row r = {.day = 100};
    int32_t on_day[] = {100};
    model_label_row(&r, on_day, 1, 90, 400);
    assert_true(r.role != MR_UNLABELLED);
    assert_false(r.churned); /* a churn on the snapshot day itself is the past */
    int32_t last[] = {190};
    model_label_row(&r, last, 1, 90, 400);
    assert_true(r.churned);
    assert_int_equal(r.churn_day, 190);
    int32_t after[] = {191};
    model_label_row(&r, after, 1, 90, 400);
    assert_false(r.churned);
    int32_t two[] = {50, 150};
    model_label_row(&r, two, 2, 90, 400);
    assert_true(r.churned);
    assert_int_equal(r.churn_day, 150);
    model_label_row(&r, NULL, 0, 90, 400);
    assert_false(r.churned);
}

static void test_censoring(void **state) {
    (void)state;
    int32_t churn[] = {150};
    /* The horizon ends on the data's last day: labelled. */
    struct model_row r = {.day = 110};
    model_label_row(&r, churn, 1, 90, 200);
    assert_int_not_equal(r.role, MR_UNLABELLED);
    assert_true(r.churned);
    /* One day later it would reach past the data: unlabelled, even with a
     * churn already seen inside the window (its retained twin could not be
     * told apart). */
    r = (struct model_row){.day = 111};
    model_label_row(&r, churn, 1, 90, 200);
    assert_int_equal(r.role, MR_UNLABELLED);
    assert_false(r.churned);
}

/* ---- the time split ------------------------------------------------------------------ */

enum { ACCOUNTS = 5, DAYS = 52, HORIZON = 90 };

/* Weekly snapshots of ACCOUNTS accounts over a year; account a churns on day
 * 40 + 70 a (some before, some after any cut). */
static struct model_row *year_of_rows(size_t *n) {
    struct model_row *rows = calloc(ACCOUNTS * DAYS, sizeof *rows);
    size_t k = 0;
    int32_t end = 7 * (DAYS - 1);
    for (int d = 0; d < DAYS; d++) {
        for (int a = 0; a < ACCOUNTS; a++) {
            struct model_row *r = &rows[k++];
            r->day = 7 * d;
            r->account_id = a + 1;
            int32_t churn = 40 + 70 * a;
            if (r->day < churn) /* a customer until it churns */
                model_label_row(r, &churn, 1, HORIZON, end);
            else
                k--;
        }
    }
    *n = k;
    return rows;
}

static void test_split_no_leak(void **state) {
    (void)state;
    size_t n;
    struct model_row *rows = year_of_rows(&n);
    int32_t cut = model_split(rows, n, HORIZON, 0.25, 4);
    assert_true(cut > 0);
    size_t train = 0, test = 0, gap = 0;
    for (size_t i = 0; i < n; i++) {
        const struct model_row *r = &rows[i];
        switch (r->role) {
        case MR_TRAIN:
            train++;
            /* The whole horizon window ends before the cut: the label saw
             * nothing on or after it. */
            assert_true(r->day + HORIZON < cut);
            if (r->churned)
                assert_true(r->churn_day < cut);
            break;
        case MR_TEST:
            test++;
            assert_true(r->day >= cut);
            break;
        case MR_GAP:
            gap++;
            assert_true(r->day < cut && r->day + HORIZON >= cut);
            break;
        case MR_UNLABELLED:
            assert_true(r->day + HORIZON > 7 * (DAYS - 1));
            break;
        }
    }
    assert_true(train > 0 && test > 0 && gap > 0);
    /* No account's future leaks into its past: every snapshot day of the
     * test part comes after every label window of the training part. */
    int32_t last_train_window = INT32_MIN, first_test = INT32_MAX;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].role == MR_TRAIN && rows[i].day + HORIZON > last_train_window)
            last_train_window = rows[i].day + HORIZON;
        if (rows[i].role == MR_TEST && rows[i].day < first_test)
            first_test = rows[i].day;
    }
    assert_true(last_train_window < first_test);
    free(rows);
}

static void test_split_test_share_and_folds(void **state) {
    (void)state;
    size_t n;
    struct model_row *rows = year_of_rows(&n);
    int32_t cut = model_split(rows, n, HORIZON, 0.25, 4);
    /* Labelled days: 0..266 weekly (day + 90 <= 357): 39 days; the latest
     * ceil(39 / 4) = 10 are the test part, from day 7 x 29 = 203. */
    assert_int_equal(cut, 203);
    /* Folds: training days 0..112 (day + 90 < 203), 17 days in 4 groups of
     * consecutive days, the oldest fold 0. */
    int prev_fold = 0;
    int32_t prev_day = -1;
    size_t per_fold[4] = {0};
    for (size_t i = 0; i < n; i++) {
        const struct model_row *r = &rows[i];
        if (r->role != MR_TRAIN)
            continue;
        assert_true(r->fold >= 0 && r->fold < 4);
        if (r->day > prev_day)
            assert_true(r->fold >= prev_fold);
        else if (r->day == prev_day)
            assert_int_equal(r->fold, prev_fold);
        prev_fold = r->fold;
        prev_day = r->day;
        per_fold[r->fold]++;
    }
    for (int f = 0; f < 4; f++)
        assert_true(per_fold[f] > 0);
    free(rows);
}

static void test_split_nothing_labelled(void **state) {
    (void)state;
    struct model_row r = {.day = 10, .role = MR_UNLABELLED};
    assert_int_equal(model_split(&r, 1, HORIZON, 0.25, 4), 0);
    assert_int_equal(r.role, MR_UNLABELLED);
}

/* ---- scoring, drivers and the card ------------------------------------------------------ */

/* A model on three inputs fitted on a few rows by hand: login_trend,
 * tickets_open (log1p), nps (missing in some rows). */
static void small_model(struct risk_model *mo) {
    memset(mo, 0, sizeof *mo);
    mo->horizon_days = 90;
    mo->features = RISK_F_METRICS;
    enum risk_input in[] = {RI_LOGIN_TREND, RI_TICKETS_OPEN, RI_NPS};
    struct stats_xform_col cols[3];
    for (int j = 0; j < 3; j++) {
        mo->input_of[j] = in[j];
        cols[j] = (struct stats_xform_col){risk_input_name(in[j]), risk_input_xform(in[j]), true};
    }
    double x[] = {1.0, 0, 9, 0.5, 2, NAN, 1.2, 1, 7, 0.2, 5, 2, 0.9, 0, NAN};
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_recipe_fit(cols, 3, x, 5, &mo->recipe, err), TEND_OK);
    assert_int_equal(mo->recipe.n_out, 4); /* nps_missing */
    mo->intercept = -3;
    double coef[] = {-1.0, 0.8, -0.5, 0.3};
    memcpy(mo->coef, coef, sizeof coef);
    mo->platt = (struct stats_platt){0.9, -0.2};
}

static void raw_of(double trend, double tickets, double nps, double *raw) {
    for (int i = 0; i < RI_COUNT; i++)
        raw[i] = 0;
    raw[RI_LOGIN_TREND] = trend;
    raw[RI_TICKETS_OPEN] = tickets;
    raw[RI_NPS] = nps;
}

/* Correlated inputs of one concept pulling apart make one driver: the NPS
 * and the sentiment component are summed, shown by the one that pulls the
 * sum's way; an input of another concept stands alone. */
static void test_drivers_grouped(void **state) {
    (void)state;
    struct risk_model mo;
    memset(&mo, 0, sizeof mo);
    mo.horizon_days = 90;
    mo.features = RISK_F_BOTH;
    enum risk_input in[] = {RI_NPS, RI_C_SENTIMENT, RI_TICKETS_OPEN};
    struct stats_xform_col cols[3];
    for (int j = 0; j < 3; j++) {
        mo.input_of[j] = in[j];
        cols[j] = (struct stats_xform_col){risk_input_name(in[j]), STATS_X_IDENTITY, false};
    }
    /* Means 0, 50, 1; sample sds 50, 25, 1 (three rows). */
    double x[] = {-50, 25, 0, 0, 50, 1, 50, 75, 2};
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_recipe_fit(cols, 3, x, 3, &mo.recipe, err), TEND_OK);
    mo.intercept = -3;
    double coef[] = {-1.0, 0.4, 0.1}; /* the component pulls against the NPS */
    memcpy(mo.coef, coef, sizeof coef);
    mo.platt = (struct stats_platt){1, 0};
    double raw[RI_COUNT];
    for (int i = 0; i < RI_COUNT; i++)
        raw[i] = NAN;
    raw[RI_NPS] = -50;        /* z -1: contributes +1.0 */
    raw[RI_C_SENTIMENT] = 25; /* z -1: contributes -0.4 */
    raw[RI_TICKETS_OPEN] = 2; /* z +1: contributes +0.1 */
    struct risk_score sc;
    risk_score_raw(&mo, raw, true, &sc);
    assert_int_equal(sc.n_drivers, 2);
    assert_int_equal(sc.drivers[0].input, RI_NPS);
    assert_true(fabs(sc.drivers[0].contribution - 0.6) < 1e-12);
    assert_int_equal(sc.drivers[1].input, RI_TICKETS_OPEN);
    assert_true(fabs(sc.drivers[1].contribution - 0.1) < 1e-12);
}

static void test_score_and_drivers(void **state) {
    (void)state;
    struct risk_model mo;
    small_model(&mo);
    double raw[RI_COUNT];
    raw_of(0.4, 3, NAN, raw);
    struct risk_score sc;
    risk_score_raw(&mo, raw, true, &sc);
    /* The log odds by hand from the recipe's means and sds. */
    const struct stats_recipe_col *c = mo.recipe.col;
    double z0 = (0.4 - c[0].mean) / c[0].sd, z1 = (log1p(3) - c[1].mean) / c[1].sd;
    double lo = -3 + -1.0 * z0 + 0.8 * z1 + -0.5 * 0 + 0.3 * 1;
    assert_true(fabs(sc.log_odds - lo) < 1e-12);
    assert_true(fabs(sc.p_churn - 1 / (1 + exp(-(0.9 * lo - 0.2)))) < 1e-12);
    /* Drivers: each input's contribution (nps: its value 0 and its
     * indicator 0.3), largest in absolute value first. */
    double want[3] = {-1.0 * z0, 0.8 * z1, 0.3};
    assert_int_equal(sc.n_drivers, 3);
    for (int k = 0; k < 3; k++) {
        double v = sc.drivers[k].contribution;
        int j = sc.drivers[k].input == RI_LOGIN_TREND    ? 0
                : sc.drivers[k].input == RI_TICKETS_OPEN ? 1
                                                         : 2;
        assert_true(fabs(v - want[j]) < 1e-12);
        if (k)
            assert_true(fabs(v) <= fabs(sc.drivers[k - 1].contribution));
    }
    for (int k = 0; k < 3; k++) {
        if (sc.drivers[k].input == RI_LOGIN_TREND)
            assert_string_equal(sc.drivers[k].words, "logins down 60% vs the previous 4 weeks");
        if (sc.drivers[k].input == RI_TICKETS_OPEN)
            assert_string_equal(sc.drivers[k].words, "3 open tickets");
        if (sc.drivers[k].input == RI_NPS)
            assert_string_equal(sc.drivers[k].words, "no NPS answer in a year");
    }
    /* Stored as [feature, contribution, value]; read back with the same words. */
    char json[RISK_DRIVERS_JSON];
    risk_drivers_json(&sc, json, sizeof json);
    cJSON *a = risk_drivers_words(json);
    assert_int_equal(cJSON_GetArraySize(a), 3);
    for (int k = 0; k < 3; k++) {
        const cJSON *d = cJSON_GetArrayItem(a, k);
        assert_string_equal(cJSON_GetObjectItem(d, "feature")->valuestring,
                            risk_input_name(sc.drivers[k].input));
        assert_string_equal(cJSON_GetObjectItem(d, "words")->valuestring, sc.drivers[k].words);
        assert_true(fabs(cJSON_GetObjectItem(d, "contribution")->valuedouble -
                         sc.drivers[k].contribution) < 1e-4);
    }
    cJSON_Delete(a);
    a = risk_drivers_words("not json");
    assert_int_equal(cJSON_GetArraySize(a), 0);
    cJSON_Delete(a);
}

static void test_card_round_trip(void **state) {
    (void)state;
    struct risk_model mo;
    small_model(&mo);
    /* A fit as the card's coefficients come from. */
    struct stats_fit fit = {0};
    fit.n_coefs = 5;
    fit.coefs = calloc(5, sizeof *fit.coefs);
    const char *names[] = {"(intercept)", "login_trend", "tickets_open", "nps", "nps_missing"};
    double coefs[] = {-3, -1.0, 0.8, -0.5, 0.3};
    for (int i = 0; i < 5; i++) {
        fit.coefs[i].name = (char *)names[i];
        fit.coefs[i].coef = coefs[i];
        fit.coefs[i].se = 0.1;
        fit.coefs[i].p = 0.5;
    }
    cJSON *card = cJSON_CreateObject();
    cJSON_AddNumberToObject(card, "horizon_days", 90);
    risk_model_to_card(&mo, &fit, card);
    free(fit.coefs);
    char *text = cJSON_PrintUnformatted(card);
    cJSON_Delete(card);
    card = cJSON_Parse(text);
    free(text);
    struct risk_model back;
    char err[STATS_ERR_BYTES];
    assert_int_equal(risk_model_from_card(card, &back, err), TEND_OK);
    cJSON_Delete(card);
    double raws[][3] = {{0.4, 3, NAN}, {1.5, 0, 8}, {NAN, 12, 2}};
    for (size_t i = 0; i < 3; i++) {
        double raw[RI_COUNT];
        raw_of(raws[i][0], raws[i][1], raws[i][2], raw);
        struct risk_score a, b;
        risk_score_raw(&mo, raw, false, &a);
        risk_score_raw(&back, raw, false, &b);
        assert_true(fabs(a.p_churn - b.p_churn) < 1e-12);
    }
    /* A card naming an input this build does not know is refused. */
    card = cJSON_Parse("{\"horizon_days\":90,\"features\":\"both\",\"recipe\":[{\"name\":"
                       "\"shoe_size\",\"xform\":\"identity\",\"mean\":0,\"sd\":1}],"
                       "\"coefficients\":[{\"coef\":0},{\"coef\":1}],\"platt\":{\"a\":1,\"b\":0}}");
    assert_int_equal(risk_model_from_card(card, &back, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "recipe input 1"));
    cJSON_Delete(card);
}

static void test_features(void **state) {
    (void)state;
    enum risk_features f;
    assert_true(risk_features_parse("both", &f) && f == RISK_F_BOTH);
    assert_true(risk_features_parse("components", &f) && f == RISK_F_COMPONENTS);
    assert_false(risk_features_parse("all", &f));
    assert_true(risk_input_used(RISK_F_COMPONENTS, RI_C_SUPPORT));
    assert_false(risk_input_used(RISK_F_COMPONENTS, RI_NPS));
    assert_true(risk_input_used(RISK_F_METRICS, RI_NPS));
    assert_false(risk_input_used(RISK_F_METRICS, RI_C_SUPPORT));
}

static void test_model_config(void **state) {
    (void)state;
    struct model_config c;
    char err[256];
    assert_int_equal(model_config_load(NULL, &c, err, sizeof err), TEND_OK);
    assert_int_equal(c.refit_days, 7);
    assert_int_equal(c.horizon_days, 90);
    cJSON *s = cJSON_Parse("{\"refit_days\": 14, \"horizon_days\": 60}");
    assert_int_equal(model_config_load(s, &c, err, sizeof err), TEND_OK);
    assert_int_equal(c.refit_days, 14);
    assert_int_equal(c.horizon_days, 60);
    cJSON_Delete(s);
    s = cJSON_Parse("{\"refit_days\": 0}");
    assert_int_equal(model_config_load(s, &c, err, sizeof err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "model.refit_days"));
    cJSON_Delete(s);
    s = cJSON_Parse("{\"refit\": 7}");
    assert_int_equal(model_config_load(s, &c, err, sizeof err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "refit"));
    cJSON_Delete(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_window_is_after_the_day_to_the_horizon),
        cmocka_unit_test(test_censoring),
        cmocka_unit_test(test_split_no_leak),
        cmocka_unit_test(test_split_test_share_and_folds),
        cmocka_unit_test(test_split_nothing_labelled),
        cmocka_unit_test(test_score_and_drivers),
        cmocka_unit_test(test_drivers_grouped),
        cmocka_unit_test(test_card_round_trip),
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_model_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
