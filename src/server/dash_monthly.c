/* dash_monthly.c: the monthly CS report as a printable page (GET
 * /reports/monthly?month=YYYY-MM, and tend report monthly's file; docs/
 * analysis.md "The monthly CS report"). Pure: renders analysis/monthly.h's
 * view. The print stylesheet (dash_css.c) drops the navigation and forms
 * and keeps each card on one page. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "server/dash.h"
#include "server/dash_int.h"
#include "server/html.h"

static void money(struct buf *b, double v) {
    if (isnan(v)) {
        buf_puts(b, HTML_DASH);
        return;
    }
    html_number(b, round(v), 0);
}

static void kv_row(struct buf *b, const char *label) {
    buf_printf(b, "<tr><th scope=\"row\">%s</th><td>", label);
}

void dash_monthly(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    const char *month = get_str(view, "month");
    char title[64];
    snprintf(title, sizeof title, "CS report %s", month ? month : "");
    dash_page_open(out, ctx, title, NAV_KPIS);
    buf_puts(out, "<h1>Customer success report, ");
    html_esc_cut(out, month, CAP_SHORT);
    buf_puts(out, "</h1><p class=\"sub\">From ");
    html_date(out, get_str(view, "from"));
    buf_puts(out, " to ");
    html_date(out, get_str(view, "to"));
    buf_puts(out, ". Amounts are ARR (MRR x 12).</p>\n");
    if (ctx) { /* another month */
        buf_puts(out, "<form class=\"act\" method=\"get\" action=\"/reports/monthly\">"
                      "<label>Month <input type=\"month\" name=\"month\" value=\"");
        html_esc(out, month);
        buf_puts(out, "\"></label><button type=\"submit\">Show</button></form>\n");
    }

    const cJSON *ret = get(view, "retention");
    buf_puts(out, "<div class=\"cols\"><section class=\"card\"><h2>Retention</h2>"
                  "<table class=\"kv\"><tbody>");
    kv_row(out, "NRR, GRR");
    if (get(ret, "nrr") && cJSON_IsNumber(get(ret, "nrr")))
        buf_printf(out, "%.1f%%, %.1f%%", get_num(ret, "nrr") * 100, get_num(ret, "grr") * 100);
    else {
        buf_puts(out, "<span class=\"muted\">");
        html_esc_cut(out, get_str(ret, "nrr_grr_note"), CAP_REASON);
        buf_puts(out, "</span>");
    }
    buf_puts(out, "</td></tr>");
    kv_row(out, "Accounts churned");
    html_number(out, get_num(ret, "churned_logos"), 0);
    buf_puts(out, "</td></tr>");
    kv_row(out, "ARR lost to churn");
    money(out, get_num(ret, "churned_arr"));
    buf_puts(out, "</td></tr></tbody></table></section>\n");

    const cJSON *risk = get(view, "revenue_at_risk");
    buf_puts(out, "<section class=\"card\"><h2>Revenue at risk</h2>");
    if (!get_str(risk, "date")) {
        buf_puts(out, "<p class=\"muted\">No churn-risk scores this month (tend model fit, then "
                      "an evaluation).</p>");
    } else {
        buf_puts(out, "<table class=\"kv\"><tbody>");
        kv_row(out, "On");
        html_date(out, get_str(risk, "date"));
        buf_puts(out, "</td></tr>");
        kv_row(out, "ARR at risk (p_churn x ARR)");
        money(out, get_num(risk, "arr_at_risk"));
        buf_puts(out, "</td></tr>");
        kv_row(out, "of ARR scored");
        money(out, get_num(risk, "arr"));
        buf_puts(out, "</td></tr></tbody></table>");
    }
    buf_puts(out, "</section></div>\n");

    buf_puts(out, "<section class=\"card\"><h2>ARR kept by the team's CTAs</h2>"
                  "<p class=\"sub\">Measured by each rule's randomised holdout: churn within 90 "
                  "days, delivered against held out, 95% interval (Newcombe), as of the month's "
                  "end.</p>");
    const cJSON *saved = get(view, "saved");
    if (!cJSON_IsArray(saved) || cJSON_GetArraySize(saved) == 0) {
        buf_puts(out, "<p class=\"muted\">No rule has a holdout (rules.NAME.holdout: 10% in "
                      "tend.yaml): nothing measures it yet.</p>");
    } else {
        buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid\"><thead><tr><th>Rule</th>"
                      "<th>Delivered</th><th>Held out</th><th>Churn difference</th>"
                      "<th>ARR kept</th><th>95% interval</th></tr></thead><tbody>");
        const cJSON *x;
        cJSON_ArrayForEach(x, saved) {
            buf_puts(out, "<tr><td>");
            html_esc_cut(out, get_str(x, "rule"), CAP_SHORT);
            buf_puts(out, "</td><td>");
            html_number(out, get_num(x, "delivered"), 0);
            buf_puts(out, "</td><td>");
            html_number(out, get_num(x, "held_out"), 0);
            buf_puts(out, "</td><td>");
            double d = get_num(x, "difference");
            if (isnan(d))
                buf_puts(out, "not yet");
            else
                buf_printf(out, "%+.1f points (%+.1f to %+.1f)", d * 100,
                           get_num(x, "ci_low") * 100, get_num(x, "ci_high") * 100);
            buf_puts(out, "</td><td>");
            money(out, get_num(x, "arr_kept"));
            buf_puts(out, "</td><td>");
            money(out, get_num(x, "arr_kept_low"));
            buf_puts(out, " to ");
            money(out, get_num(x, "arr_kept_high"));
            buf_puts(out, "</td></tr>\n");
        }
        buf_puts(out, "</tbody></table></div>");
    }
    buf_puts(out, "</section>\n<h2>KPIs</h2>");
    dash_kpi_cards(out, get(view, "kpis"));

    const cJSON *m = get(view, "model");
    buf_puts(out, "<section class=\"card\"><h2>The churn-risk model's accuracy</h2>");
    if (get_int(m, "version") < 0) {
        buf_puts(out, "<p class=\"muted\">No model scored the month's end (tend model "
                      "fit).</p>");
    } else {
        buf_puts(out, "<table class=\"kv\"><tbody>");
        kv_row(out, "Model");
        buf_printf(out, "version %lld, %lld-day horizon", get_int(m, "version"),
                   get_int(m, "horizon_days"));
        buf_puts(out, "</td></tr>");
        kv_row(out, "AUC held out (the health score's)");
        html_number(out, get_num(m, "auc_holdout"), 3);
        buf_puts(out, " (");
        html_number(out, get_num(m, "auc_health"), 3);
        buf_puts(out, ")</td></tr>");
        kv_row(out, "Brier score held out");
        html_number(out, get_num(m, "brier_holdout"), 4);
        buf_puts(out, "</td></tr></tbody></table>");
    }
    buf_puts(out, "</section>\n");
    dash_page_close(out, ctx);
}
