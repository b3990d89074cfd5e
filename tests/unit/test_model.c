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
#include <unistd.h>

#include <cmocka.h>

#include "test_db.h"
#include "analysis/model.h"
#include "eval/eval.h"
#include "eval/risk.h"
#include "gen/generate.h"
#include "ingest/ingest.h"
#include "ingest/segment.h"
#include "util/datetime.h"

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
        if (sc.drivers[k].input == RI_TICKETS_OPEN) {
            /* Typical: the inverse of the log1p mean of the training values
             * 0, 2, 1, 5, 0: expm1(mean(log1p)) = 1.05. */
            double t = expm1((log1p(0) + log1p(2) + log1p(1) + log1p(5) + log1p(0)) / 5);
            assert_true(fabs(sc.drivers[k].typical - t) < 1e-12);
            assert_string_equal(sc.drivers[k].words, "3 open tickets, typical 1");
        }
        if (sc.drivers[k].input == RI_LOGIN_TREND) /* a trend has no typical in words */
            assert_null(strstr(sc.drivers[k].words, "typical"));
        if (sc.drivers[k].input == RI_NPS)
            assert_string_equal(sc.drivers[k].words, "no NPS answer in a year");
    }
    /* Stored as [feature, contribution, value, typical]; read back with the
     * same words; a row stored before typical (three elements) reads without. */
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
    a = risk_drivers_words("[[\"tickets_open\",0.5,3]]");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "words")->valuestring,
                        "3 open tickets");
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

#define assert_near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* ---- adoption: compared only on rows the adopted model never saw -------------------- */

/* A new fit's labelled rows on days 200 (in the adopted model's window: 200 +
 * 30 <= its data_end 240) and 250 (after it). Churn follows a low login
 * trend on both days; the adopted model ranks the other way round. */
enum { IN_WINDOW = 60, UNSEEN = 40 };

static void comparison_rows(struct model_result *r, struct risk_model *cur) {
    memset(r, 0, sizeof *r);
    r->o.horizon_days = 30;
    r->o.features = RISK_F_METRICS;
    r->c = 1;
    r->data_end = 280;
    small_model(cur);
    cur->horizon_days = 30;
    cur->version = 3;
    cur->data_end = 240;
    for (size_t j = 0; j < cur->recipe.n_out; j++) /* the opposite ranking */
        cur->coef[j] = -cur->coef[j];
    r->n_all = IN_WINDOW + UNSEEN;
    r->rows = calloc(r->n_all, sizeof *r->rows);
    for (size_t i = 0; i < r->n_all; i++) {
        struct model_row *w = &r->rows[i];
        w->day = i < IN_WINDOW ? 200 : 250;
        w->role = i < IN_WINDOW ? MR_TRAIN : MR_TEST;
        w->account_id = (int64_t)i + 1;
        raw_of((double)(i % 20) / 10, 0, 0, w->raw);
        w->churned = i % 20 < 10; /* trend below 1 */
    }
}

static void test_compare_on_rows_the_adopted_model_never_saw(void **state) {
    (void)state;
    struct model_result r;
    struct risk_model cur;
    comparison_rows(&r, &cur);
    model_compare(&r, &cur);
    assert_int_equal(r.basis, MB_ROWS);
    /* Only the day-250 rows: the adopted model may have trained on the
     * others (their windows end within its data). */
    assert_int_equal(r.cmp_rows, UNSEEN);
    assert_int_equal(r.cmp_churned, UNSEEN / 2);
    /* The challenger learnt the trend from the day-200 rows alone. */
    assert_near(r.auc_new, 1, 1e-12);
    assert_near(r.auc_current, 0, 1e-12);
    const char *why;
    assert_true(model_adopt(&r, false, &why));
    assert_non_null(strstr(why, "never saw"));
    /* The challenger never saw the day-250 labels: reversed there, they
     * reverse its AUC (a challenger fitted on them would not be at 0). */
    for (size_t i = IN_WINDOW; i < r.n_all; i++)
        r.rows[i].churned = !r.rows[i].churned;
    model_compare(&r, &cur);
    assert_near(r.auc_new, 0, 1e-12);
    assert_near(r.auc_current, 1, 1e-12);
    assert_false(model_adopt(&r, false, &why));
    free(r.rows);
}

static void test_adopt_rules_too_few_rows_and_another_horizon(void **state) {
    (void)state;
    struct model_result r;
    struct risk_model cur;
    const char *why;
    /* Every test row inside the adopted model's window: nothing to compare
     * on; the newer data win. */
    comparison_rows(&r, &cur);
    cur.data_end = 280;
    model_compare(&r, &cur);
    assert_int_equal(r.basis, MB_TOO_FEW);
    assert_int_equal(r.cmp_rows, 0);
    assert_true(isnan(r.auc_new) && isnan(r.auc_current));
    assert_int_equal(r.current_data_end, 280);
    r.data_end = 281;
    assert_true(model_adopt(&r, false, &why));
    assert_non_null(strstr(why, "newer data"));
    r.data_end = 280;
    assert_false(model_adopt(&r, true, &why));
    free(r.rows);
    /* Another horizon: not compared; only an explicit fit adopts it. */
    comparison_rows(&r, &cur);
    cur.horizon_days = 90;
    model_compare(&r, &cur);
    assert_int_equal(r.basis, MB_HORIZON);
    assert_int_equal(r.cmp_rows, 0);
    assert_false(model_adopt(&r, false, &why));
    assert_true(model_adopt(&r, true, &why));
    assert_non_null(strstr(why, "another horizon"));
    free(r.rows);
    /* No adopted model: the first is adopted. */
    memset(&r, 0, sizeof r);
    assert_true(model_adopt(&r, false, &why));
}

/* ---- sampling accounts ------------------------------------------------------------ */

static void test_sample_accounts_by_hash(void **state) {
    (void)state;
    enum { N = 1000 };
    uint64_t hash[N], rev_hash[N];
    int64_t id[N], rev_id[N];
    bool keep[N], rev_keep[N];
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "acct-%04d", i);
        hash[i] = model_account_hash(name);
        id[i] = i + 1;
        rev_hash[N - 1 - i] = hash[i];
        rev_id[N - 1 - i] = id[i];
    }
    /* Everything fits: all kept. */
    assert_int_equal(model_sample(hash, id, N, 30, 30 * N, keep), N);
    for (int i = 0; i < N; i++)
        assert_true(keep[i]);
    /* A cap of 3,000 rows over 30 snapshot days: 100 accounts, every day
     * kept; the same ones whatever the order they come in. */
    size_t k = model_sample(hash, id, N, 30, 3000, keep);
    assert_int_equal(k, 100);
    assert_int_equal(model_sample(rev_hash, rev_id, N, 30, 3000, rev_keep), 100);
    size_t kept = 0, first_half = 0;
    for (int i = 0; i < N; i++) {
        kept += keep[i];
        assert_int_equal(keep[i], rev_keep[N - 1 - i]);
        if (keep[i] && i < N / 2)
            first_half++;
    }
    assert_int_equal(kept, 100);
    /* Spread over the accounts, not the first ones (a truncation would). */
    print_message("sample: 100 of 1000 accounts, %zu from the first half\n", first_half);
    assert_true(first_half > 25 && first_half < 75);
    /* A cap below one account's days keeps one. */
    assert_int_equal(model_sample(hash, id, N, 30, 10, keep), 1);
}

/* ---- calibration that cannot be fitted ---------------------------------------------- */

static void test_platt_separable_falls_back_to_identity(void **state) {
    (void)state;
    double sc[] = {-3, -2, -1.5, -1, 1, 1.5, 2, 3};
    double y[] = {0, 0, 0, 0, 1, 1, 1, 1};
    struct stats_platt p;
    char why[256];
    /* stats_platt_fit has no maximum here; the fit goes on with the model's
     * own probabilities, and says so. */
    char err[STATS_ERR_BYTES];
    assert_int_equal(stats_platt_fit(sc, y, 8, &p, err), TEND_ERR_INVALID);
    assert_int_equal(model_platt(sc, y, 8, &p, why, sizeof why), TEND_OK);
    assert_near(p.a, 1, 0);
    assert_near(p.b, 0, 0);
    assert_non_null(strstr(why, "identity"));
    /* Overlapping scores: Platt as usual, no note. */
    double y2[] = {0, 1, 0, 0, 1, 0, 1, 1};
    assert_int_equal(model_platt(sc, y2, 8, &p, why, sizeof why), TEND_OK);
    assert_string_equal(why, "");
    assert_true(p.a > 0);
}

/* ---- the store: the model of a day, the latest complete day ------------------------ */

static struct store *temp_store(char *dir, size_t size) {
    snprintf(dir, size, "/tmp/tend-test-model.XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[300], err[STORE_ERR_BYTES];
    snprintf(path, sizeof path, "%s/m.db", dir);
    struct store *s;
    assert_int_equal(test_db_open(path, &s, err), TEND_OK);
    return s;
}

static void temp_store_close(struct store *s, const char *dir) {
    char path[300];
    store_close(s);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/m.db%s", dir, suffix[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void on_version(void *arg, const struct store_model *m) {
    *(int64_t *)arg = m->version;
}

static int64_t model_of_day(struct store *s, int32_t day) {
    int64_t v = 0;
    enum tend_err e = store_model_for_day(s, day, on_version, &v);
    assert_true(e == TEND_OK || e == TEND_ERR_NOTFOUND);
    return e ? 0 : v;
}

/* A replay of day D scores with the most recently adopted model whose data
 * end on or before D: never one fitted on D's future, never one that was
 * not adopted. */
static void test_model_of_a_day_has_no_look_ahead(void **state) {
    (void)state;
    char dir[64];
    struct store *s = temp_store(dir, sizeof dir);
    struct store_model m = {.horizon_days = 90, .card = "{}"};
    int64_t v;
    m.fitted_ms = 1000, m.data_end = 100;
    assert_int_equal(store_model_put(s, &m, true, &v), TEND_OK); /* v1, adopted */
    m.fitted_ms = 2000, m.data_end = 150;
    assert_int_equal(store_model_put(s, &m, false, &v), TEND_OK); /* v2, kept */
    m.fitted_ms = 3000, m.data_end = 200;
    assert_int_equal(store_model_put(s, &m, true, &v), TEND_OK); /* v3, adopted */
    assert_int_equal(model_of_day(s, 99), 0);                    /* before any model's data end */
    assert_int_equal(model_of_day(s, 100), 1);                   /* v1's data end that day */
    assert_int_equal(model_of_day(s, 160), 1);                   /* v2 was never adopted */
    assert_int_equal(model_of_day(s, 199), 1);                   /* v3 saw day 200 */
    assert_int_equal(model_of_day(s, 200), 3);
    assert_int_equal(model_of_day(s, 10000), 3);
    /* And the loader evaluations use: NULL (no p_churn) before day 100. */
    struct risk_model *mo;
    assert_int_equal(risk_model_load_for_day(s, 99, &mo), TEND_OK);
    assert_null(mo);
    temp_store_close(s, dir);
}

/* An evaluation of a few accounts after their events, on a day the daily
 * run has not reached, writes those accounts' rows only: tend risk and /risk
 * read the latest day a full evaluation recorded, not that partial day. */
static void test_risk_reads_the_latest_complete_day(void **state) {
    (void)state;
    char dir[64];
    struct store *s = temp_store(dir, sizeof dir);
    int64_t day_ms = 86400000;
    for (int64_t a = 1; a <= 5; a++) {
        struct store_risk r = {.day = 100, .account_id = a, .p_churn = 0.1, .model_version = 1};
        assert_int_equal(store_risk_put(s, &r), TEND_OK);
    }
    assert_int_equal(store_eval_run_put(s, 101 * day_ms, 5, 0, 0, 0, 0), TEND_OK);
    /* Day 101: one account's event run (no eval_runs row: not a full one). */
    struct store_risk r = {.day = 101, .account_id = 3, .p_churn = 0.4, .model_version = 1};
    assert_int_equal(store_risk_put(s, &r), TEND_OK);
    int32_t day;
    bool found;
    assert_int_equal(store_risk_latest_day(s, INT32_MAX, &day, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(day, 100);
    /* The daily run of day 101 completes it. */
    assert_int_equal(store_eval_run_put(s, 102 * day_ms, 5, 0, 0, 0, 0), TEND_OK);
    assert_int_equal(store_risk_latest_day(s, INT32_MAX, &day, &found), TEND_OK);
    assert_int_equal(day, 101);
    /* --at an earlier day: the latest complete one on or before it. */
    assert_int_equal(store_risk_latest_day(s, 100, &day, &found), TEND_OK);
    assert_int_equal(day, 100);
    assert_int_equal(store_risk_latest_day(s, 99, &day, &found), TEND_OK);
    assert_false(found);
    temp_store_close(s, dir);
}

/* A generated SaaS (gen/generate.c) imported into s, as tend generate |
 * tend import would. */
static void import_generated(struct store *s, int64_t accounts, int32_t days, int32_t end_day) {
    FILE *f = tmpfile();
    assert_non_null(f);
    struct gen_options o = {.accounts = accounts, .days = days, .seed = 16, .end_day = end_day};
    struct gen_totals totals;
    assert_int_equal(gen_write(f, &o, &totals), TEND_OK);
    rewind(f);
    struct ingest *ig = ingest_new(s);
    assert_int_equal(ingest_begin(ig), TEND_OK);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t now = (int64_t)end_day * DT_MS_PER_DAY;
    while ((len = getline(&line, &cap, f)) > 0) {
        cJSON *item = cJSON_ParseWithLength(line, (size_t)len);
        struct seg_msg m;
        char err[SEG_ERR_BYTES];
        if (item && segment_parse_msg(item, NULL, now, line, (size_t)len, &m, err) == TEND_OK) {
            segment_serialize_body(&m);
            enum ingest_outcome out;
            assert_int_equal(ingest_message(ig, &m, &out), TEND_OK);
            cJSON_free(m.body_json);
        }
        cJSON_Delete(item);
    }
    assert_int_equal(ingest_commit(ig), TEND_OK);
    ingest_free(ig);
    free(line);
    fclose(f);
    int refreshed;
    assert_int_equal(eval_refresh_rollups(s, &refreshed), TEND_OK);
}

/* At a small cap the fit keeps every weekly snapshot day and samples the
 * accounts (it used to widen the step to 14, 21, ... days, leaving the
 * cross-validation too few days). */
static void test_fit_samples_accounts_not_days(void **state) {
    (void)state;
    char dir[64];
    struct store *s = temp_store(dir, sizeof dir);
    int32_t end = dt_day_of_ms(1793491200000LL); /* 2026-11-01 */
    import_generated(s, 120, 365, end);
    struct health_config hc;
    health_config_default(&hc);
    struct model_options o = {.horizon_days = 90, .features = RISK_F_BOTH, .hc = &hc};
    struct model_result all, cap;
    char err[STATS_ERR_BYTES];
    model_fit(s, &o, &all, err); /* too little data is fine: the rows are counted first */
    o.max_rows = 1500;
    model_fit(s, &o, &cap, err);
    size_t days_all = 0, days_cap = 0;
    for (size_t i = 0; i < all.n_all; i++)
        days_all += i == 0 || all.rows[i].day != all.rows[i - 1].day;
    for (size_t i = 0; i < cap.n_all; i++)
        days_cap += i == 0 || cap.rows[i].day != cap.rows[i - 1].day;
    print_message("sample: uncapped %zu rows of %zu accounts over %zu days (step %d); capped at "
                  "1500: %zu rows of %zu sampled accounts over %zu days (step %d)\n",
                  all.n_all, all.n_sampled, days_all, all.step_days, cap.n_all, cap.n_sampled,
                  days_cap, cap.step_days);
    assert_true(all.n_all > 1500);
    assert_int_equal(all.n_sampled, all.n_accounts);
    assert_int_equal(cap.step_days, MODEL_STEP_DAYS);
    assert_int_equal(days_cap, days_all);
    assert_true(cap.n_all <= 1500 && cap.n_all > 0);
    assert_int_equal(cap.n_accounts, all.n_accounts);
    assert_true(cap.n_sampled < cap.n_accounts && cap.n_sampled * days_all <= 1500);
    /* Each sampled account's rows are exactly its uncapped rows: every capped
     * row is an uncapped one, and the uncapped rows of the sampled accounts
     * are as many. */
    size_t matched = 0, of_sampled = 0;
    for (size_t i = 0; i < cap.n_all; i++)
        for (size_t j = 0; j < all.n_all; j++)
            if (all.rows[j].day == cap.rows[i].day &&
                all.rows[j].account_id == cap.rows[i].account_id) {
                matched++;
                break;
            }
    for (size_t j = 0; j < all.n_all; j++)
        for (size_t i = 0; i < cap.n_all; i++)
            if (cap.rows[i].account_id == all.rows[j].account_id) {
                of_sampled++;
                break;
            }
    assert_int_equal(of_sampled, cap.n_all);
    assert_int_equal(matched, cap.n_all);
    model_result_free(&all);
    model_result_free(&cap);
    temp_store_close(s, dir);
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
        cmocka_unit_test(test_compare_on_rows_the_adopted_model_never_saw),
        cmocka_unit_test(test_adopt_rules_too_few_rows_and_another_horizon),
        cmocka_unit_test(test_sample_accounts_by_hash),
        cmocka_unit_test(test_platt_separable_falls_back_to_identity),
        cmocka_unit_test(test_fit_samples_accounts_not_days),
        cmocka_unit_test(test_model_of_a_day_has_no_look_ahead),
        cmocka_unit_test(test_risk_reads_the_latest_complete_day),
        cmocka_unit_test(test_model_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
