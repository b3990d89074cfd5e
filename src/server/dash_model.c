/* dash_model.c: the pages of the churn-risk model (see dash_model.h and
 * docs/dashboard.md): the ranking by revenue at risk, the model card with its
 * calibration plot, the history of models, and an account's risk.
 *
 * What it is not: no statistics and no store access. The numbers come from
 * the views as they are (p_churn, arr_at_risk, the AUCs, the calibration
 * bins); this file only rounds them for reading, names their units, and puts
 * words on them ("which to trust"), so the page shows exactly what the API
 * answers.
 *
 * The design: the same frame, escaping and defensive reading as dash.c (any
 * member may be missing, null or of the wrong type, and is then shown as "—"
 * or left out). Rounding is one rule per kind of number, in one function
 * each: a probability as a percentage (dash_percent), money in whole units
 * with its currency (dash_money), an AUC with two decimals, a Brier score with
 * three, a coefficient with three. The browser test reads the pages back and
 * compares them with the API's numbers under the same rules. */
#include "server/dash_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/labels.h"
#include "server/dash_int.h"
#include "server/html.h"
#include "server/report.h"
#include "util/datetime.h"

#define CAP_WORDS   200 /* a driver in words */
#define MAX_DRIVERS 3   /* drivers shown per account */
#define MAX_COEFS   200 /* coefficients listed */
#define MAX_BINS    100 /* calibration bins drawn and listed */
#define MAX_ROWS    500 /* risk rows or models listed */

/* Two AUCs closer than this are "about the same" (the held-out AUC's own
 * sampling error on a few hundred rows is of this order). */
#define AUC_SAME 0.02
/* Below this, a ranking is close to chance (0.5). */
#define AUC_WEAK 0.6

/* ---- reading the view ----------------------------------------------------- */

/* The first of two names a member may have (the contract's and an older one). */
static double get_num2(const cJSON *o, const char *key, const char *alt) {
    double v = get_num(o, key);
    return isnan(v) ? get_num(o, alt) : v;
}

/* The array member key of o, or the first of alt that is one, or NULL. */
static const cJSON *get_array(const cJSON *o, const char *key, const char *alt) {
    const cJSON *v = get(o, key);
    if (!cJSON_IsArray(v) && alt)
        v = get(o, alt);
    return cJSON_IsArray(v) ? v : NULL;
}

/* ---- numbers with their units ---------------------------------------------- */

void dash_percent(struct buf *b, double p) {
    if (!isfinite(p) || p < 0 || p > 1) {
        buf_puts(b, HTML_DASH);
        return;
    }
    /* round() (halves away from zero) before printing, not printf's own
     * rounding of the binary value, so the rule is one a reader (and the
     * browser test) can apply: 2.25% shows as 2.3%. */
    double v = 100 * p;
    if (v == 0)
        buf_puts(b, "0%");
    else if (v < 0.05)
        buf_puts(b, "&lt;0.1%");
    else if (v < 9.95)
        buf_printf(b, "%.1f%%", round(v * 10) / 10);
    else if (v >= 99.5 && p < 1)
        buf_puts(b, "&gt;99%");
    else
        buf_printf(b, "%.0f%%", round(v));
}

/* Appends v with decimals, rounded half away from zero first (see dash_percent). */
static void put_fixed(struct buf *b, double v, int decimals) {
    double scale = pow(10, decimals);
    double r = round(v * scale) / scale;
    buf_printf(b, "%.*f", decimals, r == 0 ? 0.0 : r); /* never "-0.000" */
}

void dash_money(struct buf *b, double v, const char *currency) {
    if (!isfinite(v)) {
        buf_puts(b, HTML_DASH);
        return;
    }
    bool code = currency && strlen(currency) == 3 && strcmp(currency, "USD") != 0 &&
                strspn(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
    double r = round(v);
    if (r < 0)
        buf_putc(b, '-');
    if (code)
        buf_printf(b, "%s&#160;", currency);
    else
        buf_putc(b, '$');
    html_number(b, fabs(r), 0);
}

/* An AUC with two decimals, a dash when unknown. */
static void put_auc(struct buf *b, double auc) {
    if (isnan(auc))
        buf_puts(b, HTML_DASH);
    else
        put_fixed(b, auc, 2);
}

/* A p-value: "<0.001" or three decimals. */
static void put_p(struct buf *b, double p) {
    if (isnan(p))
        buf_puts(b, HTML_DASH);
    else if (p < 0.001)
        buf_puts(b, "&lt;0.001");
    else
        put_fixed(b, p, 3);
}

/* When the model was fitted: fitted_at (ISO-8601), else fitted_ms, as
 * <time> in the configured zone; a dash when neither. */
static void put_fitted(struct buf *b, const struct dash_ctx *ctx, const cJSON *m) {
    const char *iso = get_str(m, "fitted_at");
    char t[32];
    double ms = get_num(m, "fitted_ms");
    if (!iso && !isnan(ms) && ms > 0 && ms < 9e15) {
        dt_format_instant((int64_t)ms, t);
        iso = t;
    }
    html_time(b, iso, ctx ? ctx->tz : NULL);
}

/* Whether m is the current model: "current", else "adopted" (one at a time). */
static bool is_current(const cJSON *m) {
    const cJSON *c = get(m, "current");
    return cJSON_IsBool(c) ? cJSON_IsTrue(c) : cJSON_IsTrue(get(m, "adopted"));
}

/* A date member ("YYYY-MM-DD") as <time>, or a dash. */
static void put_date(struct buf *b, const cJSON *o, const char *key) {
    html_date(b, get_str(o, key));
}

static void put_account_link(struct buf *b, const char *id, const char *name) {
    if (!id) {
        html_esc_cut(b, name ? name : HTML_DASH, CAP_NAME);
        return;
    }
    buf_puts(b, "<a href=\"/accounts/");
    html_url_part(b, id);
    buf_puts(b, "\">");
    html_esc_cut(b, name && *name ? name : id, CAP_NAME);
    buf_puts(b, "</a>");
}

/* A link to the card of model version v: "v3". */
static void put_version(struct buf *b, long long v) {
    if (v <= 0)
        buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span>");
    else
        buf_printf(b, "<a href=\"/model?version=%lld\">v%lld</a>", v, v);
}

/* A tile: a figure and what it is (label is trusted markup). */
static void tile_open(struct buf *b, const char *cls) {
    buf_printf(b, "<li class=\"tile%s%s\"><span class=\"n\">", cls ? " " : "", cls ? cls : "");
}

static void tile_close(struct buf *b, const char *label) {
    buf_printf(b, "</span>%s</li>", label);
}

/* ---- drivers ---------------------------------------------------------------- */

/* Appends the drivers of a score as a list: each in words, with an arrow up
 * (raises the risk) or down (lowers it) and the feature and its contribution
 * in the tooltip. At most MAX_DRIVERS. */
static void put_drivers(struct buf *b, const cJSON *drivers) {
    int n = cJSON_IsArray(drivers) ? cJSON_GetArraySize(drivers) : 0;
    if (n == 0) {
        buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span>");
        return;
    }
    buf_puts(b, "<ul class=\"drivers\">");
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, drivers) {
        if (i++ == MAX_DRIVERS)
            break;
        const char *feature = get_str(d, "feature"), *words = get_str(d, "words");
        double c = get_num(d, "contribution");
        const char *dir = isnan(c) || c == 0 ? "flat" : c > 0 ? "up" : "down";
        buf_printf(b, "<li class=\"driver %s\"", dir);
        if (feature || !isnan(c)) {
            buf_puts(b, " title=\"");
            html_esc_cut(b, feature ? feature : "", CAP_SHORT);
            if (!isnan(c))
                buf_printf(b, "%s%+.2f to the log odds", feature ? ": " : "", c);
            buf_putc(b, '"');
        }
        buf_puts(b, "><span class=\"arrow\" aria-hidden=\"true\">");
        buf_puts(b, c > 0 ? ARROW_UP : c < 0 ? ARROW_DOWN : "");
        buf_puts(b, "</span> ");
        char label[160];
        labels_feature(feature, label, sizeof label);
        html_esc_cut(b, words && *words ? words : feature ? label : HTML_DASH, CAP_WORDS);
        if (c > 0)
            buf_puts(b, "<span class=\"sr\"> (raises the risk)</span>");
        else if (c < 0)
            buf_puts(b, "<span class=\"sr\"> (lowers the risk)</span>");
        buf_puts(b, "</li>");
    }
    buf_puts(b, "</ul>");
}

/* ---- the risk ranking --------------------------------------------------------- */

/* "Previous / N-M of T / Next", keeping the other parameters. */
static void risk_pages(struct buf *b, const struct dash_ctx *ctx, long long total, long long page,
                       long long per_page, long long shown) {
    static const char *const drop[] = {"page", NULL};
    long long pages = per_page > 0 ? (total + per_page - 1) / per_page : 1;
    long long from = (page - 1) * per_page + 1;
    struct buf kept;
    buf_init(&kept, 0);
    html_query_keep(&kept, ctx ? ctx->path : NULL, drop);
    buf_puts(b, "<nav class=\"pages\" aria-label=\"Pages\">");
    if (page > 1)
        buf_printf(b, "<a rel=\"prev\" href=\"/risk?%s%spage=%lld\">\xe2\x86\x90 Previous</a>",
                   buf_str(&kept), kept.len ? "&amp;" : "", page - 1);
    buf_printf(b, "<span>%lld\xe2\x80\x93%lld of %lld", shown ? from : 0, from + shown - 1, total);
    if (pages > 1)
        buf_printf(b, MIDDOT "page %lld of %lld", page, pages);
    buf_puts(b, "</span>");
    if (page < pages)
        buf_printf(b, "<a rel=\"next\" href=\"/risk?%s%spage=%lld\">Next \xe2\x86\x92</a>",
                   buf_str(&kept), kept.len ? "&amp;" : "", page + 1);
    buf_puts(b, "</nav>\n");
    buf_free(&kept);
}

static void risk_row(struct buf *b, const cJSON *r, long long rank, const char *currency) {
    const char *id = get_str(r, "account_id");
    const char *name = get_str(r, "name");
    double p = get_num(r, "p_churn");
    buf_printf(b, "<tr><td class=\"num rank\">%lld</td><td class=\"name\">", rank);
    put_account_link(b, id, name);
    if (id && name && *name) {
        buf_puts(b, "<span class=\"sub\">");
        html_esc_cut(b, id, CAP_SHORT);
        buf_puts(b, "</span>");
    }
    buf_puts(b, "</td><td class=\"num p-churn\">");
    dash_percent(b, p);
    buf_puts(b, "</td><td class=\"risk-bar\">");
    html_bar(b, isnan(p) ? -1 : p, 1, "red");
    buf_puts(b, "</td><td class=\"num arr\">");
    dash_money(b, get_num(r, "arr"), currency);
    buf_puts(b, "</td><td class=\"num arr-at-risk\"><strong>");
    dash_money(b, get_num(r, "arr_at_risk"), currency);
    buf_puts(b, "</strong></td><td>");
    dash_put_band_pill(b, get_str(r, "band"));
    buf_puts(b, "</td><td class=\"owner\">");
    const char *owner = get_str(r, "owner");
    if (owner && *owner)
        html_esc_cut(b, owner, CAP_SHORT);
    else
        buf_puts(b, "<span class=\"muted\">unassigned</span>");
    buf_puts(b, "</td><td class=\"why\">");
    put_drivers(b, get(r, "drivers"));
    buf_puts(b, "</td><td class=\"num model-version\">");
    put_version(b, get_int(r, "model_version"));
    buf_puts(b, "</td></tr>\n");
}

/* The owner tabs: every account, or the signed-in user's book. */
static void risk_tabs(struct buf *b, bool mine) {
    buf_printf(b,
               "<div class=\"tabs-row\"><nav class=\"tabs\" aria-label=\"Owner\">"
               "<a href=\"/risk\"%s>All accounts</a><a href=\"/risk?owner=me\"%s>My book</a>"
               "</nav></div>\n",
               mine ? "" : " aria-current=\"page\"", mine ? " aria-current=\"page\"" : "");
}

void dash_risk(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    char *owner = dash_query_value(ctx, "owner", 0);
    bool mine = owner && !strcmp(owner, "me");
    free(owner);
    const cJSON *rows = cJSON_IsArray(view) ? view : get_array(view, "rows", "accounts");
    const char *day = get_str(view, "day") ? get_str(view, "day") : get_str(view, "date");
    const cJSON *model = get(view, "model");
    const char *currency = get_str(view, "currency");
    long long version = get_int(model, "version");
    if (version < 0)
        version = get_int(view, "model_version");
    double horizon = get_num(model, "horizon_days");
    if (isnan(horizon))
        horizon = get_num(view, "horizon_days");
    long long shown = rows ? cJSON_GetArraySize(rows) : 0;
    long long total = get_int(view, "total");
    if (total < shown)
        total = shown;

    dash_page_open(out, ctx, "Churn risk", NAV_RISK);
    buf_puts(out, "<div class=\"head\"><h1>Churn risk</h1><p class=\"sub\">");
    if (day) {
        buf_puts(out, "Scored on ");
        html_date(out, day);
        if (version > 0) {
            buf_puts(out, " by model ");
            put_version(out, version);
        }
        buf_puts(out, ". ");
    }
    buf_puts(out, "The probability of churning within ");
    if (isnan(horizon))
        buf_puts(out, "the model&#39;s horizon");
    else
        buf_printf(out, "%.0f days", horizon);
    buf_puts(out, "; accounts ranked by ARR at risk (probability &#215; ARR).</p></div>\n");

    if (!day && shown == 0) {
        dash_put_empty(out, "No risk scores yet",
                       "No churn-risk model has scored the accounts. Fit one on your history "
                       "with <code>tend model fit</code>; the next evaluation (the daily run, "
                       "or <code>tend eval</code>) scores every account, and the ranking "
                       "appears here. <a href=\"/model\">About the model</a>.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<ul class=\"tiles risk-summary\">");
    tile_open(out, "money");
    dash_money(out, get_num2(view, "arr_at_risk_total", "total_arr_at_risk"), currency);
    tile_close(out, mine ? "ARR at risk in my book" : "ARR at risk");
    tile_open(out, NULL);
    long long scored = get_int(view, "accounts_scored");
    buf_printf(out, "%lld", scored < 0 ? total : scored);
    tile_close(out, mine ? "accounts of mine scored" : "accounts scored");
    tile_open(out, NULL);
    put_version(out, version);
    tile_close(out, "model");
    tile_open(out, NULL);
    put_auc(out, get_num(model, "auc_holdout"));
    tile_close(out, "held-out AUC");
    double health_auc = get_num2(model, "auc_health_holdout", "auc_health");
    if (!isnan(health_auc)) {
        tile_open(out, "muted-n");
        put_auc(out, health_auc);
        tile_close(out, "health score&#39;s AUC, same rows");
    }
    buf_puts(out, "</ul>\n");
    risk_tabs(out, mine);
    if (shown == 0) {
        if (mine)
            dash_put_empty(out, "No scored account in your book",
                           "None of the accounts you own has a risk score. <a "
                           "href=\"/risk\">See every account</a>.");
        else
            dash_put_empty(out, "No account scored", "The model scored no account on this day.");
        dash_page_close(out, ctx);
        return;
    }
    long long page = get_int(view, "page"), per_page = get_int(view, "per_page");
    if (page < 1)
        page = 1;
    if (per_page < 1)
        per_page = shown;
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid risk\"><thead><tr>"
                  "<th class=\"num\">#</th><th>Account</th>"
                  "<th class=\"num\" colspan=\"2\">Churn risk</th><th class=\"num\">ARR</th>"
                  "<th class=\"num\">ARR at risk</th><th>Band</th><th>Owner</th>"
                  "<th>Why <span class=\"legend\">(" ARROW_UP " raises the risk, " ARROW_DOWN
                  " lowers it)</span></th><th class=\"num\">Model</th></tr></thead>\n<tbody>\n");
    long long rank = (page - 1) * per_page + 1, i = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        if (i++ == MAX_ROWS)
            break;
        risk_row(out, r, rank++, currency);
    }
    buf_puts(out, "</tbody></table></div>\n");
    risk_pages(out, ctx, total, page, per_page, shown < MAX_ROWS ? shown : MAX_ROWS);
    dash_put_export(out, ctx);
    dash_page_close(out, ctx);
}

/* ---- the model card ------------------------------------------------------------- */

/* The verdict of the two held-out AUCs, in words (trusted markup). */
static void put_verdict(struct buf *b, double model, double health) {
    /* the AUCs as the page shows them (two decimals, rounded half up) */
    model = round(model * 100) / 100;
    health = round(health * 100) / 100;
    buf_puts(b, "<p class=\"verdict\">");
    if (isnan(model)) {
        buf_puts(b, "This model has no held-out AUC: it was not tested on accounts it did not "
                    "learn from, so its ranking has not earned trust yet.</p>");
        return;
    }
    if (isnan(health)) {
        buf_printf(b,
                   "On accounts it did not learn from, the model ranks a churner above a "
                   "customer who stays %.0f%% of the time (AUC %.2f; 50%% is chance). ",
                   100 * model, model);
    } else if (model - health >= AUC_SAME - 1e-9) {
        buf_printf(b,
                   "<strong>Trust the risk model first.</strong> On the same held-out "
                   "accounts it ranks churners better than the health score (AUC %.2f "
                   "against %.2f). ",
                   model, health);
    } else if (health - model >= AUC_SAME - 1e-9) {
        buf_printf(b,
                   "<strong>Trust the health score first.</strong> On the same held-out "
                   "accounts it ranks churners better than this model (AUC %.2f against "
                   "%.2f); a refit with more history may change that. ",
                   health, model);
    } else {
        buf_printf(b,
                   "<strong>The two rank churners about as well</strong> on the same "
                   "held-out accounts (model AUC %.2f, health score %.2f); the model adds "
                   "a calibrated probability and revenue at risk. ",
                   model, health);
    }
    if (model < AUC_WEAK)
        buf_puts(b, "Its AUC is close to chance (0.5): do not act on its ranking alone.");
    buf_puts(b, "</p>");
}

/* The facts of the card as a definition list. */
static void card_facts(struct buf *b, const struct dash_ctx *ctx, const cJSON *v) {
    long long rows = get_int(v, "n_rows"), churns = get_int(v, "n_churns");
    buf_puts(b, "<dl class=\"facts card-facts\"><div><dt>Held-out AUC</dt><dd class=\"auc\">");
    put_auc(b, get_num(v, "auc_holdout"));
    buf_puts(b,
             "</dd></div><div><dt>Health score&#39;s AUC, same rows</dt><dd class=\"auc-health\">");
    put_auc(b, get_num2(v, "auc_health_holdout", "auc_health"));
    buf_puts(b, "</dd></div><div><dt>Brier score (held out; lower is better)</dt>"
                "<dd class=\"brier\">");
    double brier = get_num(v, "brier_holdout");
    if (isnan(brier))
        buf_puts(b, HTML_DASH);
    else
        put_fixed(b, brier, 3);
    double base = get_num(v, "brier_base_rate");
    if (!isnan(base)) {
        buf_puts(b, " <span class=\"muted\">(the base rate alone: ");
        put_fixed(b, base, 3);
        buf_puts(b, ")</span>");
    }
    buf_puts(b, "</dd></div><div><dt>Training rows</dt><dd class=\"n-rows\">");
    html_json_number(b, get(v, "n_rows"), 0);
    buf_puts(b, "</dd></div><div><dt>Churns among them</dt><dd class=\"n-churns\">");
    html_json_number(b, get(v, "n_churns"), 0);
    /* n_churns counts churns (accounts); a churn labels every snapshot of its
     * account within the horizon before it: the share of rows labelled
     * churned is n_churned_rows / n_rows, not n_churns / n_rows. */
    long long labelled = get_int(v, "n_churned_rows");
    if (rows > 0 && churns >= 0 && labelled >= 0) {
        buf_puts(b, " <span class=\"muted\">(");
        dash_percent(b, (double)labelled / (double)rows);
        buf_puts(b, " of rows labelled churned)</span>");
    }
    long long n_test = get_int(v, "n_test"), test_churned = get_int(v, "n_test_churned");
    if (n_test >= 0) {
        buf_puts(b, "</dd></div><div><dt>Held-out rows (tested on)</dt><dd class=\"n-test\">");
        html_number(b, (double)n_test, 0);
        if (test_churned >= 0) {
            buf_puts(b, " <span class=\"muted\">(");
            html_number(b, (double)test_churned, 0);
            buf_puts(b, " churned)</span>");
        }
    }
    buf_puts(b, "</dd></div><div><dt>Horizon</dt><dd>");
    double horizon = get_num(v, "horizon_days");
    if (isnan(horizon))
        buf_puts(b, HTML_DASH);
    else
        buf_printf(b, "churn within %.0f days", horizon);
    buf_puts(b, "</dd></div><div><dt>Training window</dt><dd>");
    if (get_str(v, "trained_from")) {
        put_date(b, v, "trained_from");
        buf_puts(b, " \xe2\x80\x93 ");
    } else {
        buf_puts(b, "up to ");
    }
    put_date(b, v, "trained_to");
    buf_puts(b, "</dd></div>");
    if (get_str(v, "fitted_at") || !isnan(get_num(v, "fitted_ms"))) {
        buf_puts(b, "<div><dt>Fitted</dt><dd>");
        put_fitted(b, ctx, v);
        buf_puts(b, "</dd></div>");
    }
    buf_puts(b, "</dl>\n");
}

/* The calibration bins of the card, for the plot (at most MAX_BINS). */
static size_t card_bins(const cJSON *calibration, struct report_calib *out) {
    size_t n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, calibration) {
        if (n == MAX_BINS)
            break;
        long long bin = get_int(c, "bin"), rows = get_int(c, "n");
        out[n] = (struct report_calib){
            .bin = bin >= 0 && bin < 100000 ? (int)bin : (int)n + 1,
            .predicted = get_num(c, "predicted"),
            .observed = get_num(c, "observed"),
            .ci_low = get_num(c, "ci_low"),
            .ci_high = get_num(c, "ci_high"),
            .n = rows < 0 ? 0 : rows,
        };
        n++;
    }
    return n;
}

static void card_calibration(struct buf *b, const cJSON *calibration) {
    buf_puts(b, "<section class=\"card\"><h2>Calibration</h2>");
    int total = cJSON_IsArray(calibration) ? cJSON_GetArraySize(calibration) : 0;
    if (total == 0) {
        buf_puts(b, "<p class=\"muted\">No calibration table was stored with this model.</p>"
                    "</section>\n");
        return;
    }
    buf_puts(b, "<p class=\"sub\">Held-out rows cut into bins by predicted probability. In a "
                "calibrated model each bin&#39;s observed churn rate lies inside its 95% "
                "interval: of the accounts given 20%, about one in five churns.</p>");
    struct report_calib bins[MAX_BINS];
    size_t n = card_bins(calibration, bins);
    buf_puts(b, "<div class=\"cols calibration-cols\"><div>");
    report_calibration(b, "Predicted against observed churn rate", bins, n);
    buf_puts(b, "</div><div class=\"table-wrap\"><table class=\"grid calibration\"><thead><tr>"
                "<th class=\"num\">Bin</th><th class=\"num\">Rows</th>"
                "<th class=\"num\">Predicted</th><th class=\"num\">Observed</th>"
                "<th class=\"num\">95% interval</th><th>Inside</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const struct report_calib *c = &bins[i];
        buf_printf(b, "<tr><td class=\"num\">%d</td><td class=\"num\">", c->bin);
        html_number(b, (double)c->n, 0);
        buf_puts(b, "</td><td class=\"num predicted\">");
        dash_percent(b, c->predicted);
        buf_puts(b, "</td><td class=\"num observed\">");
        dash_percent(b, c->observed);
        buf_puts(b, "</td><td class=\"num\">");
        if (isnan(c->ci_low) || isnan(c->ci_high)) {
            buf_puts(b, HTML_DASH);
        } else {
            dash_percent(b, c->ci_low);
            buf_puts(b, " \xe2\x80\x93 ");
            dash_percent(b, c->ci_high);
        }
        buf_puts(b, "</td><td>");
        if (isnan(c->observed) || isnan(c->ci_low) || isnan(c->ci_high))
            buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span>");
        else if (c->observed >= c->ci_low - 1e-12 && c->observed <= c->ci_high + 1e-12)
            buf_puts(b, "yes");
        else
            buf_puts(b, "<strong class=\"off\">no</strong>");
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</tbody></table></div></div>");
    if (total > (int)n)
        buf_printf(b, "<p class=\"muted\">and %d more bins</p>", total - (int)n);
    buf_puts(b, "</section>\n");
}

static void card_coefficients(struct buf *b, const cJSON *coefs) {
    buf_puts(b, "<section class=\"card\"><h2>Coefficients</h2>");
    int total = cJSON_IsArray(coefs) ? cJSON_GetArraySize(coefs) : 0;
    if (total == 0) {
        buf_puts(b, "<p class=\"muted\">No coefficients were stored with this model.</p>"
                    "</section>\n");
        return;
    }
    buf_puts(b, "<p class=\"sub\">On the log odds of churning, per standard deviation of "
                "each (transformed) feature; positive raises the risk. Standard errors and "
                "p-values are approximate under the penalty.</p>"
                "<div class=\"table-wrap\"><table class=\"grid coefficients\"><thead><tr>"
                "<th>Feature</th><th class=\"num\">Coefficient</th>"
                "<th class=\"num\">Std. error</th><th class=\"num\">p</th><th>Effect</th>"
                "</tr></thead><tbody>");
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, coefs) {
        if (i++ == MAX_COEFS)
            break;
        double coef = get_num(c, "coef"), se = get_num(c, "se"), p = get_num(c, "p");
        /* the label; the model's own name (tend model show, the card) on hover */
        char label[160];
        labels_feature(get_str(c, "name"), label, sizeof label);
        buf_puts(b, "<tr><td class=\"feature\" title=\"");
        html_esc_cut(b, get_str(c, "name"), CAP_SHORT);
        buf_puts(b, "\">");
        html_esc_cut(b, label, CAP_SHORT);
        buf_puts(b, "</td><td class=\"num\">");
        if (isnan(coef)) {
            buf_puts(b, HTML_DASH);
        } else {
            if (round(coef * 1000) > 0)
                buf_putc(b, '+');
            put_fixed(b, coef, 3);
        }
        buf_puts(b, "</td><td class=\"num\">");
        if (isnan(se))
            buf_puts(b, HTML_DASH);
        else
            put_fixed(b, se, 3);
        buf_puts(b, "</td><td class=\"num\">");
        put_p(b, p);
        buf_puts(b, "</td><td>");
        const char *name = get_str(c, "name");
        if (name && !strcmp(name, "(intercept)"))
            buf_puts(b, "<span class=\"muted\">the baseline log odds</span>");
        else if (isnan(coef) || coef == 0)
            buf_puts(b, "<span class=\"muted\">none</span>");
        else
            buf_printf(b, "<span class=\"driver %s\">%s %s</span>", coef > 0 ? "up" : "down",
                       coef > 0 ? ARROW_UP : ARROW_DOWN, coef > 0 ? "raises risk" : "lowers risk");
        if (!isnan(p) && p >= 0.05 && !(name && !strcmp(name, "(intercept)")))
            buf_puts(b, " <span class=\"muted\">(not significant)</span>");
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</tbody></table></div>");
    if (total > MAX_COEFS)
        buf_printf(b, "<p class=\"muted\">and %d more</p>", total - MAX_COEFS);
    buf_puts(b, "</section>\n");
}

/* The churn rate of each health band on the held-out rows, when the card has it. */
static void card_bands(struct buf *b, const cJSON *bands) {
    if (!cJSON_IsArray(bands) || cJSON_GetArraySize(bands) == 0)
        return;
    buf_puts(b, "<section class=\"card\"><h2>Churn rate by health band</h2>"
                "<div class=\"table-wrap\"><table class=\"grid bands-rate\"><thead><tr>"
                "<th>Band</th><th class=\"num\">Rows</th><th class=\"num\">Churn rate</th>"
                "</tr></thead><tbody>");
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, bands) {
        if (i++ == 8)
            break;
        buf_puts(b, "<tr><td>");
        dash_put_band_pill(b, get_str(x, "band"));
        buf_puts(b, "</td><td class=\"num\">");
        html_json_number(b, get(x, "n"), 0);
        buf_puts(b, "</td><td class=\"num\">");
        dash_percent(b, get_num2(x, "churn_rate", "rate"));
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</tbody></table></div></section>\n");
}

void dash_model(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    long long version = get_int(view, "version");
    char title[48];
    if (version > 0)
        snprintf(title, sizeof title, "Churn model v%lld", version);
    else
        snprintf(title, sizeof title, "Churn model");
    dash_page_open(out, ctx, title, NAV_MODEL);
    if (!cJSON_IsObject(view)) {
        buf_puts(out, "<div class=\"head\"><h1>Churn model</h1></div>\n");
        dash_put_empty(out, "No model yet",
                       "No churn-risk model is adopted on this database. Run "
                       "<code>tend model fit</code>: it learns from your accounts&#39; history "
                       "which of them churned (it needs about ten churns), tests itself on "
                       "later accounts it did not learn from, and stores its card here. "
                       "<a href=\"/models\">History of models</a>.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<p class=\"crumbs\"><a href=\"/models\">Models</a> / ");
    buf_puts(out, title + 6);
    buf_printf(out, "</p>\n<div class=\"head\"><h1>%s</h1> ", title);
    const cJSON *adopted = get(view, "adopted");
    if (is_current(view))
        buf_puts(out, "<span class=\"pill green\">current</span>");
    else if (cJSON_IsBool(adopted))
        buf_puts(out, "<span class=\"pill yellow\" title=\"Evaluations score with the adopted "
                      "model, not with this one\">not current</span>");
    buf_puts(out, "<p class=\"sub\">The probability that an account churns within ");
    double horizon = get_num(view, "horizon_days");
    if (isnan(horizon))
        buf_puts(out, "the horizon");
    else
        buf_printf(out, "%.0f days", horizon);
    buf_puts(out, " of a day, learned from which accounts churned (penalised logistic "
                  "regression, calibrated on held-out rows).</p></div>\n");
    buf_puts(out, "<section class=\"card trust\"><h2>Which to trust</h2>");
    put_verdict(out, get_num(view, "auc_holdout"),
                get_num2(view, "auc_health_holdout", "auc_health"));
    buf_puts(out, "<p class=\"muted\">AUC: the chance that a churner is ranked above an account "
                  "that stays, on accounts the model did not learn from (0.5 is chance, 1 is "
                  "perfect). Brier score: the mean squared error of the probabilities.</p>"
                  "</section>\n");
    card_facts(out, ctx, view);
    card_calibration(out, get(view, "calibration"));
    card_coefficients(out, get(view, "coefficients"));
    card_bands(out, get(view, "bands"));
    buf_puts(out, "<p><a href=\"/models\">All models</a>" MIDDOT
                  "<a href=\"/risk\">Accounts by revenue at risk</a></p>\n");
    dash_page_close(out, ctx);
}

/* ---- the history of models ------------------------------------------------------- */

void dash_models(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    const cJSON *models = cJSON_IsArray(view) ? view : get_array(view, "models", NULL);
    int n = models ? cJSON_GetArraySize(models) : 0;
    dash_page_open(out, ctx, "Models", NAV_MODEL);
    buf_printf(out,
               "<div class=\"head\"><h1>Models</h1><p class=\"sub\">%d model%s, newest first. "
               "A refit is adopted only when its held-out AUC is not worse than the current "
               "model&#39;s on the same rows; every model keeps its card.</p></div>\n",
               n, n == 1 ? "" : "s");
    if (n == 0) {
        dash_put_empty(out, "No model yet",
                       "Fit the first with <code>tend model fit</code>; <code>tend serve</code> "
                       "refits on a schedule after that.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid models\"><thead><tr>"
                  "<th>Model</th><th>Fitted</th><th>Training window</th>"
                  "<th class=\"num\">Horizon</th><th class=\"num\">Rows</th>"
                  "<th class=\"num\">Churns</th><th class=\"num\">Held-out AUC</th>"
                  "<th class=\"num\">Health score AUC</th><th class=\"num\">Brier</th>"
                  "<th>Status</th></tr></thead>\n<tbody>\n");
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, models) {
        if (i++ == MAX_ROWS)
            break;
        buf_puts(out, "<tr><td>");
        put_version(out, get_int(m, "version"));
        buf_puts(out, "</td><td>");
        put_fitted(out, ctx, m);
        buf_puts(out, "</td><td>");
        if (get_str(m, "trained_from")) {
            put_date(out, m, "trained_from");
            buf_puts(out, " \xe2\x80\x93 ");
        }
        put_date(out, m, "trained_to");
        buf_puts(out, "</td><td class=\"num\">");
        double horizon = get_num(m, "horizon_days");
        if (isnan(horizon))
            buf_puts(out, HTML_DASH);
        else
            buf_printf(out, "%.0f days", horizon);
        buf_puts(out, "</td><td class=\"num\">");
        html_json_number(out, get(m, "n_rows"), 0);
        buf_puts(out, "</td><td class=\"num\">");
        html_json_number(out, get(m, "n_churns"), 0);
        buf_puts(out, "</td><td class=\"num\">");
        put_auc(out, get_num(m, "auc_holdout"));
        buf_puts(out, "</td><td class=\"num\">");
        put_auc(out, get_num2(m, "auc_health_holdout", "auc_health"));
        buf_puts(out, "</td><td class=\"num\">");
        double brier = get_num(m, "brier_holdout");
        if (isnan(brier))
            buf_puts(out, HTML_DASH);
        else
            put_fixed(out, brier, 3);
        buf_puts(out, "</td><td>");
        if (is_current(m))
            buf_puts(out, "<span class=\"pill green\">current</span>");
        else
            buf_puts(out, "<span class=\"pill none\">not current</span>");
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</tbody></table></div>\n");
    dash_put_export(out, ctx);
    dash_page_close(out, ctx);
}

/* ---- an account's risk -------------------------------------------------------------- */

void dash_account_risk(struct buf *out, const cJSON *risk) {
    if (!risk)
        return;
    buf_puts(out, "<section class=\"card account-risk\"><h2>Churn risk</h2>");
    if (!cJSON_IsObject(risk) || isnan(get_num(risk, "p_churn"))) {
        buf_puts(out, "<p class=\"muted\">No churn-risk score for this account: no model has "
                      "scored it (<a href=\"/model\">about the model</a>).</p></section>\n");
        return;
    }
    const char *currency = get_str(risk, "currency");
    buf_puts(out, "<div class=\"risk-top\"><p class=\"risk-figure\"><span class=\"n p-churn\">");
    dash_percent(out, get_num(risk, "p_churn"));
    buf_puts(out, "</span> chance of churning within ");
    double horizon = get_num(risk, "horizon_days");
    if (isnan(horizon))
        buf_puts(out, "the model&#39;s horizon");
    else
        buf_printf(out, "%.0f days", horizon);
    buf_puts(out, "</p><p class=\"risk-figure\"><span class=\"n arr-at-risk\">");
    dash_money(out, get_num(risk, "arr_at_risk"), currency);
    buf_puts(out, "</span> ARR at risk, of ");
    dash_money(out, get_num(risk, "arr"), currency);
    buf_puts(out, "</p></div><p class=\"sub\">Scored");
    if (get_str(risk, "date")) {
        buf_puts(out, " on ");
        put_date(out, risk, "date");
    }
    buf_puts(out, " by model ");
    put_version(out, get_int(risk, "model_version"));
    buf_puts(out, ". What drives it:</p>");
    put_drivers(out, get(risk, "drivers"));
    buf_puts(out, "</section>\n");
}

/* ---- the stylesheet ----------------------------------------------------------------- */

const char dash_model_css[] =
    "\n/* risk and the model (dash_model.c) */\n"
    ".risk-summary .tile.money .n { color: var(--red); }\n"
    ".risk-summary .tile.muted-n .n { color: var(--muted); }\n"
    ".grid.risk td.why { max-width: 360px; }\n"
    ".grid.risk td.name { min-width: 180px; }\n"
    ".grid.risk td.risk-bar { width: 1%; padding-left: 0; }\n"
    ".drivers { list-style: none; margin: 0; padding: 0; font-size: 12.5px; }\n"
    ".drivers li + li { margin-top: 2px; }\n"
    ".driver .arrow { font-size: 10px; }\n"
    ".driver.up .arrow, span.driver.up { color: var(--red); }\n"
    ".driver.down .arrow, span.driver.down { color: var(--green); }\n"
    ".sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); "
    "}\n"
    ".trust .verdict { font-size: 15px; margin: 0 0 8px; }\n"
    ".card-facts dd { font-variant-numeric: tabular-nums; }\n"
    ".card-facts dd.auc { font-size: 20px; font-weight: 650; }\n"
    ".card-facts dd.auc-health { font-size: 20px; font-weight: 650; color: var(--muted); }\n"
    "strong.off { color: var(--red); }\n"
    "td.feature { white-space: nowrap; font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, "
    "monospace; }\n"
    "th .legend { font-weight: 400; }\n"
    ".calibration-cols { align-items: start; }\n"
    ".calibration-cols .report-fig { margin: 0; border: 0; padding: 0; }\n"
    ".account-risk .risk-top { display: flex; flex-wrap: wrap; gap: 8px 40px; }\n"
    ".account-risk .risk-figure { margin: 0; color: var(--muted); }\n"
    ".account-risk .risk-figure .n { font-size: 24px; font-weight: 700; color: var(--text); }\n"
    ".account-risk .risk-figure .arr-at-risk { color: var(--red); }\n"
    ".account-risk .sub { margin: 8px 0 4px; }\n";
