/* test_dash_model.c: the pages of the churn-risk model (server/dash_model.c)
 * and the calibration plot (server/report.c), rendered from fixture views
 * shaped as issue 16's contract declares m-model's JSON (the card: version,
 * horizon_days, trained_to, n_rows, n_churns, auc_holdout, brier_holdout,
 * auc_health_holdout, calibration [{bin, predicted, observed, n, ci_low,
 * ci_high}], coefficients [{name, coef, se, p}]; risk rows: account_id, name,
 * owner, p_churn, arr, arr_at_risk, band, drivers [{feature, contribution,
 * words}]).
 *
 * Every page goes through check_page(): tags nest, no script, no style
 * attribute, no javascript: URL, the stylesheet linked. Hostile strings are put
 * in names, ids, owners, features, drivers' words and coefficient names; views
 * with missing members, nulls and wrong types must render without a crash.
 * With TEND_DASH_SAMPLES=DIR set, one sample of each page is written there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <math.h>

#include "html_check.h"
#include "server/dash.h"
#include "server/dash_model.h"
#include "server/report.h"

#define XSS_NAME "<script>alert(1)</script>"
#define XSS_ESC  "&lt;script&gt;alert(1)&lt;/script&gt;"

/* ---- helpers ------------------------------------------------------------------ */

/* Parses JSON written with single quotes. */
static cJSON *json(const char *text) {
    char *s = g_strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *j = cJSON_Parse(s);
    g_free(s);
    if (!j)
        fail_msg("bad fixture: %s", text);
    return j;
}

static void assert_contains(const char *haystack, const char *needle) {
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" not found in:\n%s", needle, haystack);
}

static void assert_lacks(const char *haystack, const char *needle) {
    const char *at = strstr(haystack, needle);
    if (at)
        fail_msg("\"%s\" found at: %.200s", needle, at);
}

static void check_page(const char *page) {
    assert_true(!strncmp(page, "<!DOCTYPE html>", 15));
    check_tags(page);
    assert_lacks(page, "<script");
    assert_lacks(page, " style=");
    assert_lacks(page, "javascript:");
    assert_lacks(page, "NaN");
    assert_lacks(page, "nan%");
    assert_lacks(page, "inf");
    assert_contains(page, "<link rel=\"stylesheet\" href=\"/static/tend.css\">");
}

static struct dash_ctx ctx_at(const char *path) {
    return (struct dash_ctx){.user = "ana@example.com",
                             .user_name = "Ana Ortiz",
                             .csrf = "tok&en",
                             .tz = "Europe/Berlin",
                             .path = path};
}

static void save_sample(const char *name, const char *page) {
    const char *dir = getenv("TEND_DASH_SAMPLES");
    if (!dir || !*dir)
        return;
    char *path = g_strdup_printf("%s/%s.html", dir, name);
    g_file_set_contents(path, page, -1, NULL);
    g_free(path);
}

typedef void (*page_fn)(struct buf *, const struct dash_ctx *, const cJSON *);

/* Renders view with fn at path, checks the page, returns it malloced. */
static char *render(page_fn fn, const char *path, const cJSON *view) {
    struct dash_ctx ctx = ctx_at(path);
    struct buf b;
    buf_init(&b, 0);
    fn(&b, &ctx, view);
    char *page = buf_steal(&b);
    check_page(page);
    return page;
}

/* A fragment appended by fn(b, arg), malloced. */
static char *percent_of(double p) {
    struct buf b;
    buf_init(&b, 0);
    dash_percent(&b, p);
    return buf_steal(&b);
}

static char *money_of(double v, const char *currency) {
    struct buf b;
    buf_init(&b, 0);
    dash_money(&b, v, currency);
    return buf_steal(&b);
}

/* ---- fixtures (the contract's shapes) ----------------------------------------------- */

static cJSON *risk_view(void) {
    cJSON *v = json(
        "{'day':'2026-12-06','model':{'version':3,'horizon_days':90,'trained_to':'2026-09-01',"
        "'auc_holdout':0.8349,'auc_health_holdout':0.7012,'brier_holdout':0.0655},"
        "'accounts_scored':1002,'arr_at_risk_total':1234567.49,'arr_total':9000000,"
        "'total':1002,'page':2,'per_page':3,'rows':["
        "{'account_id':'acc_1','name':'Acme Inc','owner':'ana@example.com','p_churn':0.42,"
        "'arr':100000,'arr_at_risk':42000,'band':'red','model_version':3,'drivers':["
        "{'feature':'logins_trend','contribution':0.81,'words':'logins down 60% vs the previous "
        "4 weeks'},{'feature':'tickets_open','contribution':0.3,'words':'3 tickets open'},"
        "{'feature':'nps_last','contribution':-0.2,'words':'last NPS 9'},"
        "{'feature':'extra','contribution':0.01,'words':'a fourth driver'}]},"
        "{'account_id':'a/b?c#d e','name':null,'owner':null,'p_churn':0.0425,'arr':12000,"
        "'arr_at_risk':510,'band':'yellow','model_version':3,'drivers':[]},"
        "{'account_id':'x','name':'N','owner':'o','p_churn':0.0004,'arr':null,"
        "'arr_at_risk':null,'band':'green','model_version':3}]}");
    /* hostile strings where outside text goes */
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "rows"), 0);
    cJSON_ReplaceItemInObject(first, "name", cJSON_CreateString(XSS_NAME));
    cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(first, "drivers"), 1);
    cJSON_ReplaceItemInObject(d, "words", cJSON_CreateString("<img src=x onerror=alert(2)>"));
    cJSON_ReplaceItemInObject(d, "feature", cJSON_CreateString("f\"eat<ure>"));
    cJSON *third = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "rows"), 2);
    cJSON_ReplaceItemInObject(third, "owner", cJSON_CreateString("<b>eve</b>@x.example"));
    return v;
}

/* A card: 10 bins, the last one outside its interval. */
static cJSON *card_view(double auc, double auc_health) {
    cJSON *v = json("{'version':3,'horizon_days':90,'trained_from':'2025-09-01',"
                    "'trained_to':'2026-09-01','n_rows':12002,'n_churns':212,"
                    "'brier_holdout':0.0655,'brier_base_rate':0.0714,'n_test':3000,"
                    "'n_churned_rows':1490,"
                    "'n_test_churned':61,'adopted':true,'current':true,"
                    "'fitted_at':'2026-12-01T05:00:00Z','calibration':[],'coefficients':["
                    "{'name':'(intercept)','coef':-5.054,'se':0.155,'p':0.0},"
                    "{'name':'logins_28d_log1p','coef':-0.612,'se':0.081,'p':0.0000001},"
                    "{'name':'tickets_open','coef':0.3314,'se':0.0775,'p':0.0004},"
                    "{'name':'tiny','coef':-0.0004,'se':0.09,'p':0.58}]}");
    cJSON_AddNumberToObject(v, "auc_holdout", auc);
    cJSON_AddNumberToObject(v, "auc_health_holdout", auc_health);
    cJSON *cal = cJSON_GetObjectItem(v, "calibration");
    for (int b = 1; b <= 10; b++) {
        double pred = 0.005 + 0.005 * b * b, se = sqrt(pred * (1 - pred) / 120);
        double obs = b == 10 ? pred + 3 * se : pred + 0.5 * se;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "bin", b);
        cJSON_AddNumberToObject(x, "predicted", pred);
        cJSON_AddNumberToObject(x, "observed", obs);
        cJSON_AddNumberToObject(x, "n", 120);
        cJSON_AddNumberToObject(x, "ci_low", fmax(0, pred - 1.96 * se));
        cJSON_AddNumberToObject(x, "ci_high", pred + 1.96 * se);
        cJSON_AddItemToArray(cal, x);
    }
    return v;
}

/* ---- numbers ------------------------------------------------------------------------- */

static void percent_rounds_for_reading(void **state) {
    static const struct {
        double p;
        const char *text;
    } cases[] = {
        {0, "0%"},
        {0.0004, "&lt;0.1%"},
        {0.0005, "0.1%"},
        {0.0225, "2.3%"},
        {0.04249, "4.2%"},
        {0.0994, "9.9%"},
        {0.0996, "10%"},
        {0.4251, "43%"},
        {0.42, "42%"},
        {0.9949, "99%"},
        {0.996, "&gt;99%"},
        {1, "100%"},
        {-0.01, "\xe2\x80\x94"},
        {1.5, "\xe2\x80\x94"},
        {NAN, "\xe2\x80\x94"},
        {INFINITY, "\xe2\x80\x94"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = percent_of(cases[i].p);
        if (strcmp(t, cases[i].text))
            fail_msg("p = %g: \"%s\", expected \"%s\"", cases[i].p, t, cases[i].text);
        free(t);
    }
}

static void money_has_a_currency_and_whole_units(void **state) {
    static const struct {
        double v;
        const char *currency, *text;
    } cases[] = {
        {42000, NULL, "$42,000"},
        {1234567.5, NULL, "$1,234,568"},
        {0.4, "USD", "$0"},
        {999.5, "", "$1,000"},
        {42000, "EUR", "EUR&#160;42,000"},
        {42000, "<x>", "$42,000"}, /* not a code: not shown */
        {42000, "eur", "$42,000"},
        {-1500, NULL, "-$1,500"},
        {NAN, NULL, "\xe2\x80\x94"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = money_of(cases[i].v, cases[i].currency);
        if (strcmp(t, cases[i].text))
            fail_msg("%g %s: \"%s\", expected \"%s\"", cases[i].v,
                     cases[i].currency ? cases[i].currency : "(null)", t, cases[i].text);
        free(t);
    }
}

/* ---- the risk ranking ----------------------------------------------------------------- */

static void risk_page_ranks_by_arr_at_risk_with_units(void **state) {
    cJSON *v = risk_view();
    char *page = render(dash_risk, "/risk?page=2", v);
    save_sample("risk", page);
    /* the header: total, scored, model and its AUC */
    assert_contains(page, "$1,234,567</span>ARR at risk</li>");
    assert_contains(page, "<span class=\"n\">1002</span>accounts scored");
    assert_contains(page, "<a href=\"/model?version=3\">v3</a></span>model</li>");
    assert_contains(page, "0.83</span>held-out AUC");
    assert_contains(page, "0.70</span>health score&#39;s AUC, same rows");
    assert_contains(page, "within 90 days");
    /* the rows, ranked from (page - 1) * per_page + 1 */
    assert_contains(page, "<td class=\"num rank\">4</td>");
    assert_contains(page, "<td class=\"num rank\">6</td>");
    assert_contains(page, "<td class=\"num p-churn\">42%</td>");
    assert_contains(page, "<td class=\"num p-churn\">4.3%</td>"); /* 4.25 half up */
    assert_contains(page, "<td class=\"num p-churn\">&lt;0.1%</td>");
    assert_contains(page, "<td class=\"num arr\">$100,000</td>");
    assert_contains(page, "<strong>$42,000</strong>");
    assert_contains(page, "<strong>$510</strong>");
    assert_contains(page, "<td class=\"num arr\">\xe2\x80\x94</td>"); /* no ARR */
    assert_contains(page, "<span class=\"pill red\">red</span>");
    /* links to the accounts, the id encoded */
    assert_contains(page, "<a href=\"/accounts/acc_1\">" XSS_ESC "</a>");
    assert_contains(page, "<a href=\"/accounts/a%2Fb%3Fc%23d%20e\">a/b?c#d e</a>");
    /* drivers in words, at most three, with their direction */
    assert_contains(page, "logins down 60% vs the previous 4 weeks");
    assert_contains(page, "&lt;img src=x onerror=alert(2)&gt;");
    assert_contains(page, "title=\"f&quot;eat&lt;ure&gt;: +0.30 to the log odds\"");
    assert_contains(page, "<li class=\"driver down\"");
    assert_lacks(page, "a fourth driver");
    assert_contains(page, "&lt;b&gt;eve&lt;/b&gt;@x.example");
    assert_lacks(page, XSS_NAME);
    /* paging keeps its place; the nav has Risk current and Model */
    assert_contains(page, "4\xe2\x80\x93"
                          "6 of 1002");
    assert_contains(page, "href=\"/risk?page=1\"");
    assert_contains(page, "href=\"/risk?page=3\"");
    assert_contains(page, "<a href=\"/risk\" aria-current=\"page\">Risk</a>");
    assert_contains(page, "<a href=\"/model\">Model</a>");
    assert_contains(page, "<a href=\"/risk\" aria-current=\"page\">All accounts</a>");
    free(page);
    cJSON_Delete(v);
}

static void risk_page_mine_keeps_the_filter_and_says_when_empty(void **state) {
    cJSON *v = risk_view();
    char *page = render(dash_risk, "/risk?owner=me&page=2", v);
    assert_contains(page, "ARR at risk in my book");
    assert_contains(page, "<a href=\"/risk?owner=me\" aria-current=\"page\">My book</a>");
    assert_contains(page, "href=\"/risk?owner=me&amp;page=3\"");
    free(page);
    cJSON_Delete(v);

    v = json("{'day':'2026-12-06','model':{'version':3,'auc_holdout':0.8},'accounts_scored':0,"
             "'arr_at_risk_total':0,'total':0,'page':1,'per_page':50,'rows':[]}");
    page = render(dash_risk, "/risk?owner=me", v);
    assert_contains(page, "No scored account in your book");
    assert_contains(page, "$0</span>ARR at risk in my book");
    free(page);
    cJSON_Delete(v);
}

static void risk_page_without_scores_says_how_to_get_them(void **state) {
    cJSON *v = json("{'day':null,'rows':[],'model':null,'accounts_scored':0,"
                    "'arr_at_risk_total':0,'arr_total':0,'total':0}");
    char *page = render(dash_risk, "/risk", v);
    save_sample("risk-empty", page);
    assert_contains(page, "No risk scores yet");
    assert_contains(page, "<code>tend model fit</code>");
    assert_lacks(page, "<table");
    free(page);
    cJSON_Delete(v);
    /* not even an object: the same, no crash */
    v = json("'nonsense'");
    page = render(dash_risk, "/risk", v);
    assert_contains(page, "No risk scores yet");
    free(page);
    cJSON_Delete(v);
}

static void risk_rows_of_the_wrong_types_show_dashes(void **state) {
    cJSON *v = json("{'day':'2026-12-06','rows':[{'account_id':7,'name':['x'],"
                    "'p_churn':'0.5','arr':'lots','arr_at_risk':{},'band':3,"
                    "'drivers':'none','model_version':-2},{'p_churn':1e308}]}");
    char *page = render(dash_risk, "/risk", v);
    assert_contains(page, "<td class=\"num p-churn\">\xe2\x80\x94</td>");
    assert_contains(page, "<span class=\"pill none\">no score</span>");
    free(page);
    cJSON_Delete(v);
}

/* ---- the model card --------------------------------------------------------------------- */

static void model_card_shows_numbers_with_labels_and_units(void **state) {
    cJSON *v = card_view(0.8349, 0.7012);
    char *page = render(dash_model, "/model", v);
    save_sample("model", page);
    assert_contains(page, "<h1>Churn model v3</h1>");
    assert_contains(page, "<span class=\"pill green\">current</span>");
    assert_contains(page, "<dd class=\"auc\">0.83</dd>");
    assert_contains(page, "<dd class=\"auc-health\">0.70</dd>");
    assert_contains(page, "<dd class=\"brier\">0.066 <span class=\"muted\">(the base rate "
                          "alone: 0.071)</span></dd>"); /* 0.0655 half up */
    assert_contains(page, "<dd class=\"n-test\">3,000 <span class=\"muted\">(61 churned)");
    assert_contains(page, "<dd class=\"n-rows\">12,002");
    assert_contains(page, "<dd class=\"n-churns\">212 <span class=\"muted\">(12% of rows labelled "
                          "churned)");
    assert_contains(page, "churn within 90 days");
    assert_contains(page, "datetime=\"2025-09-01\"");
    assert_contains(page, "datetime=\"2026-09-01\"");
    /* which to trust, in words */
    assert_contains(page, "Trust the risk model first.");
    assert_contains(page, "(AUC 0.83 against 0.70)");
    /* the coefficients table */
    assert_contains(page, "<td class=\"num\">-0.612</td>");
    assert_contains(page, "<td class=\"num\">+0.331</td>");
    assert_contains(page, "<td class=\"num\">0.000</td>"); /* -0.0004: no "-0.000" */
    assert_lacks(page, "-0.000");
    assert_contains(page, "&lt;0.001");
    assert_contains(page, "raises risk");
    assert_contains(page, "the baseline log odds");
    assert_contains(page, "(not significant)");
    /* the calibration plot: a bin each, the diagonal, the interval bars */
    assert_contains(page, "<svg class=\"report-chart\"");
    assert_int_equal(count(page, "<g class=\"bin"), 10);
    assert_int_equal(count(page, "<g class=\"bin outside\""), 1);
    assert_contains(page, "class=\"diagonal\"");
    assert_int_equal(count(page, "class=\"ci\""), 10);
    assert_contains(page, "9 of 10 bins inside");
    assert_contains(page, "Predicted churn rate");
    assert_contains(page, "Observed churn rate");
    /* the table of bins, as percentages */
    assert_int_equal(count(page, "<td class=\"num predicted\">"), 10);
    assert_contains(page, "<td class=\"num predicted\">1.0%</td>");
    assert_contains(page, "<strong class=\"off\">no</strong>");
    free(page);
    cJSON_Delete(v);
}

static void model_card_verdict_follows_the_aucs(void **state) {
    static const struct {
        double model, health;
        const char *says;
    } cases[] = {
        {0.83, 0.70, "Trust the risk model first."},
        {0.70, 0.83, "Trust the health score first."},
        {0.72, 0.70, "Trust the risk model first."}, /* 0.02 apart, as shown */
        {0.714, 0.70, "about as well"},              /* 0.71 as shown */
        {0.55, 0.54, "close to chance"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *v = card_view(cases[i].model, cases[i].health);
        char *page = render(dash_model, "/model", v);
        if (!strstr(page, cases[i].says))
            fail_msg("AUC %g vs %g: \"%s\" not said", cases[i].model, cases[i].health,
                     cases[i].says);
        free(page);
        cJSON_Delete(v);
    }
    /* no health AUC: the model's in words alone */
    cJSON *v = card_view(0.8, 0.7);
    cJSON_DeleteItemFromObject(v, "auc_health_holdout");
    char *page = render(dash_model, "/model", v);
    assert_contains(page, "80% of the time (AUC 0.80");
    assert_contains(page, "<dd class=\"auc-health\">\xe2\x80\x94</dd>");
    free(page);
    cJSON_Delete(v);
}

static void model_page_without_a_model_says_how_to_fit_one(void **state) {
    char *page = render(dash_model, "/model", NULL);
    save_sample("model-empty", page);
    assert_contains(page, "No model yet");
    assert_contains(page, "<code>tend model fit</code>");
    assert_contains(page, "<a href=\"/model\" aria-current=\"page\">Model</a>");
    free(page);
}

static void model_card_survives_hostile_and_missing_members(void **state) {
    cJSON *v = json("{'version':'3','calibration':[{'bin':1,'predicted':'x'},{'predicted':0.2,"
                    "'observed':null,'n':-4},{'predicted':5,'observed':-3,'ci_low':null,"
                    "'ci_high':9}],'coefficients':[{'name':null,'coef':null},{'coef':1e300}],"
                    "'adopted':false}");
    cJSON *coefs = cJSON_GetObjectItem(v, "coefficients");
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(coefs, 0), "name", cJSON_CreateString(XSS_NAME));
    char *page = render(dash_model, "/model?version=%3Cx%3E", v);
    assert_contains(page, ">not current</span>");
    assert_contains(page, XSS_ESC);
    assert_lacks(page, XSS_NAME);
    assert_contains(page, "no held-out AUC");
    free(page);
    cJSON_Delete(v);
}

static void models_page_lists_versions_newest_first(void **state) {
    cJSON *v = json("{'current':2,'models':[{'version':2,'horizon_days':90,"
                    "'trained_from':'2025-12-07','trained_to':'2026-09-09','n_rows':12002,"
                    "'n_churns':212,'auc_holdout':0.834,'brier_holdout':0.0655,"
                    "'auc_health_holdout':0.701,'adopted':true,'current':true,"
                    "'fitted_at':'2026-11-16T22:13:20.000Z'},{'version':1,'horizon_days':90,"
                    "'n_rows':12001,'n_churns':211,'auc_holdout':0.781,'adopted':false,"
                    "'current':false}]}");
    char *page = render(dash_models, "/models", v);
    save_sample("models", page);
    assert_contains(page, "2 models, newest first");
    assert_contains(page, "<a href=\"/model?version=2\">v2</a>");
    assert_contains(page, "<a href=\"/model?version=1\">v1</a>");
    assert_int_equal(count(page, "<span class=\"pill green\">current</span>"), 1);
    assert_contains(page, "<span class=\"pill none\">not current</span>");
    assert_contains(page, "<td class=\"num\">0.83</td>");
    assert_contains(page, "<td class=\"num\">12,002</td>");
    free(page);
    cJSON_Delete(v);
    /* m-model's own shape: adopted and fitted_ms, no current or fitted_at */
    v = json("{'models':[{'version':5,'adopted':true,'fitted_ms':1764565200000,"
             "'horizon_days':90,'trained_from':'2025-12-07','trained_to':'2026-08-02',"
             "'n_rows':31754,'n_churns':103,'auc_holdout':0.896,'brier_holdout':0.0295,"
             "'auc_health_holdout':0.609},{'version':4,'adopted':false,'fitted_ms':1}]}");
    page = render(dash_models, "/models", v);
    save_sample("models-mmodel", page);
    assert_int_equal(count(page, "<span class=\"pill green\">current</span>"), 1);
    assert_contains(page, "datetime=\"2025-12-01T05:00:00.000Z\" "
                          "title=\"2025-12-01T05:00:00.000Z\">1 Dec 2025 06:00</time>");
    assert_contains(page, "<td class=\"num\">0.90</td>");
    assert_contains(page, "<td class=\"num\">31,754</td>");
    free(page);
    cJSON_Delete(v);
    v = json("{'current':0,'models':[]}");
    page = render(dash_models, "/models", v);
    assert_contains(page, "No model yet");
    free(page);
    cJSON_Delete(v);
}

/* ---- the account's risk ------------------------------------------------------------------- */

static void account_page_shows_its_risk_and_drivers(void **state) {
    cJSON *v = json("{'id':'acc_1','name':'Acme','score':{'band':'red','overall':31.5},"
                    "'risk':{'date':'2026-12-06','p_churn':0.4251,'arr':100000,"
                    "'arr_at_risk':42510,'model_version':3,'horizon_days':90,'drivers':["
                    "{'feature':'logins_trend','contribution':0.8,'words':'logins down 60%'}]}}");
    char *page = render(dash_account, "/accounts/acc_1", v);
    save_sample("account-risk", page);
    assert_contains(page, "<section class=\"card account-risk\"><h2>Churn risk</h2>");
    assert_contains(page, "<span class=\"n p-churn\">43%</span> chance of churning within 90 days");
    assert_contains(page, "<span class=\"n arr-at-risk\">$42,510</span> ARR at risk, of $100,000");
    assert_contains(page, "<a href=\"/model?version=3\">v3</a>");
    assert_contains(page, "logins down 60%");
    free(page);
    cJSON_Delete(v);

    v = json("{'id':'acc_1','risk':null}");
    page = render(dash_account, "/accounts/acc_1", v);
    assert_contains(page, "No churn-risk score for this account");
    free(page);
    cJSON_Delete(v);

    v = json("{'id':'acc_1'}"); /* a view without the member: no section */
    page = render(dash_account, "/accounts/acc_1", v);
    assert_lacks(page, "account-risk");
    free(page);
    cJSON_Delete(v);
}

/* ---- the calibration plot alone ------------------------------------------------------------ */

static void calibration_plot_keeps_points_inside_its_box(void **state) {
    struct report_calib bins[] = {
        {1, 0.01, 0.02, 0.0, 0.04, 100},
        {2, 7.0, -2.0, -1.0, 3.0, 100}, /* out of range: clamped */
        {3, NAN, 0.5, 0.4, 0.6, 100},   /* no prediction: left out */
        {4, 0.3, NAN, 0.2, 0.4, 100},   /* no observed rate: the bar alone */
    };
    struct buf b;
    buf_init(&b, 0);
    report_calibration(&b, "Cal <1>", bins, 4);
    char *svg = buf_steal(&b);
    check_tags(svg);
    assert_contains(svg, "Cal &lt;1&gt;");
    assert_int_equal(count(svg, "<g class=\"bin"), 3);
    assert_lacks(svg, "nan");
    /* every coordinate inside the viewBox (640 wide) */
    for (const char *p = strstr(svg, "x=\""); p; p = strstr(p + 1, "x=\"")) {
        double x = strtod(p + 3, NULL);
        if (x < 0 || x > 640)
            fail_msg("x out of the box: %.60s", p);
    }
    free(svg);
    buf_init(&b, 0);
    struct report_calib none[] = {{1, NAN, NAN, NAN, NAN, 0}};
    report_calibration(&b, "Empty", none, 1);
    svg = buf_steal(&b);
    assert_contains(svg, "No calibration bin to draw.");
    assert_lacks(svg, "<svg");
    free(svg);
}

static void stylesheet_of_the_model_pages_has_no_imports(void **state) {
    assert_contains(dash_model_css, ".drivers");
    assert_lacks(dash_model_css, "@import");
    assert_lacks(dash_model_css, "url(");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percent_rounds_for_reading),
        cmocka_unit_test(money_has_a_currency_and_whole_units),
        cmocka_unit_test(risk_page_ranks_by_arr_at_risk_with_units),
        cmocka_unit_test(risk_page_mine_keeps_the_filter_and_says_when_empty),
        cmocka_unit_test(risk_page_without_scores_says_how_to_get_them),
        cmocka_unit_test(risk_rows_of_the_wrong_types_show_dashes),
        cmocka_unit_test(model_card_shows_numbers_with_labels_and_units),
        cmocka_unit_test(model_card_verdict_follows_the_aucs),
        cmocka_unit_test(model_page_without_a_model_says_how_to_fit_one),
        cmocka_unit_test(model_card_survives_hostile_and_missing_members),
        cmocka_unit_test(models_page_lists_versions_newest_first),
        cmocka_unit_test(account_page_shows_its_risk_and_drivers),
        cmocka_unit_test(calibration_plot_keeps_points_inside_its_box),
        cmocka_unit_test(stylesheet_of_the_model_pages_has_no_imports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
