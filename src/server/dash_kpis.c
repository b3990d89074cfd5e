/* dash_kpis.c: the KPI board's page (GET /kpis; docs/dashboard.md "KPIs"):
 * a card per KPI with its latest weekly value, a small SVG of its weekly
 * trend (scaled to its own range, a gap where a week has no value), and how
 * it moves with churn (Pearson's r over owner-weeks, with their number, in
 * words). Pure: renders GET /api/kpis's answer. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "server/dash.h"
#include "server/dash_int.h"
#include "server/html.h"

#define SPARK_W 220
#define SPARK_H 48

/* Whether the KPI is a share (shown as a percentage). */
static bool is_share(const char *kpi) {
    return kpi && (strstr(kpi, "_share") || strcmp(kpi, "coverage_4w") == 0);
}

static void value_text(struct buf *b, const char *kpi, double v) {
    if (isnan(v))
        buf_puts(b, HTML_DASH);
    else if (is_share(kpi))
        buf_printf(b, "%.1f%%", v * 100);
    else
        buf_printf(b, "%.2f", v);
}

/* The weekly values as a polyline per run of known weeks. */
static void spark(struct buf *b, const cJSON *weeks, const char *title) {
    int n = cJSON_GetArraySize(weeks);
    double lo = INFINITY, hi = -INFINITY;
    const cJSON *w;
    cJSON_ArrayForEach(w, weeks) {
        double v = get_num(w, "value");
        if (!isnan(v)) {
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
    }
    buf_printf(b,
               "<svg class=\"kpi-spark\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
               "role=\"img\" aria-label=\"",
               SPARK_W, SPARK_H, SPARK_W, SPARK_H);
    html_esc(b, title);
    buf_puts(b, ", weekly, oldest first:");
    cJSON_ArrayForEach(w, weeks) {
        double v = get_num(w, "value");
        if (isnan(v))
            buf_puts(b, " none");
        else
            buf_printf(b, " %.3g", v);
    }
    buf_puts(b, "\">");
    if (!isfinite(lo)) {
        buf_puts(b, "</svg>");
        return;
    }
    double span = hi > lo ? hi - lo : 1;
    /* A polyline per run of weeks with a value, then a dot on each. */
    for (int pass = 0; pass < 2; pass++) {
        bool open = false;
        int i = 0;
        cJSON_ArrayForEach(w, weeks) {
            double v = get_num(w, "value");
            double x = n > 1 ? 4 + (double)i++ * (SPARK_W - 8) / (n - 1) : SPARK_W / 2.0;
            double y = SPARK_H - 4 - (hi > lo ? (v - lo) / span : 0.5) * (SPARK_H - 8);
            if (isnan(v)) {
                if (open)
                    buf_puts(b, "\"/>");
                open = false;
            } else if (pass == 1) {
                buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#1570ef\"/>", x, y);
            } else {
                if (!open)
                    buf_puts(b, "<polyline fill=\"none\" stroke=\"#1570ef\" stroke-width=\"2\" "
                                "points=\"");
                buf_printf(b, "%.1f,%.1f ", x, y);
                open = true;
            }
        }
        if (open)
            buf_puts(b, "\"/>");
    }
    buf_puts(b, "</svg>");
}

/* "moves with churn: r = -0.42 over 36 owner-weeks (more X, less churn)". */
static void churn_words(struct buf *b, const cJSON *k) {
    double r = get_num(k, "churn_r");
    long long n = get_int(k, "churn_pairs");
    if (isnan(r)) {
        buf_printf(b,
                   "<p class=\"muted\">Not enough owner-weeks with their next four weeks "
                   "passed to relate it to churn yet (%lld).</p>",
                   n < 0 ? 0 : n);
        return;
    }
    const char *strength = fabs(r) >= 0.5 ? "strongly" : fabs(r) >= 0.3 ? "moderately" : "weakly";
    buf_printf(b,
               "<p class=\"kpi-r\">With churn in the next 4 weeks: <b>r = %.2f</b> over %lld "
               "owner-weeks (%s: ",
               r, n, strength);
    buf_puts(b, r < 0 ? "higher values, less churn" : "higher values, more churn");
    buf_puts(b, ")</p>");
}

void dash_kpi_cards(struct buf *out, const cJSON *board) {
    buf_puts(out, "<div class=\"kpi-grid\">");
    const cJSON *k;
    cJSON_ArrayForEach(k, get(board, "kpis")) {
        const char *kpi = get_str(k, "kpi");
        buf_puts(out, "<section class=\"card kpi\"><h2>");
        html_esc_cut(out, get_str(k, "title"), CAP_NAME);
        buf_puts(out, "</h2><p class=\"kpi-value\">");
        value_text(out, kpi, get_num(k, "latest"));
        buf_puts(out, " <span class=\"muted\">");
        html_esc_cut(out, kpi, CAP_SHORT);
        buf_puts(out, cJSON_IsTrue(get(k, "higher_is_better")) ? ", higher is better"
                                                               : ", lower is better");
        buf_puts(out, "</span></p>");
        spark(out, get(k, "weeks"), get_str(k, "title"));
        churn_words(out, k);
        buf_puts(out, "</section>\n");
    }
    buf_puts(out, "</div>\n");
}

void dash_kpis(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    dash_page_open(out, ctx, "KPIs", NAV_KPIS);
    buf_puts(out, "<h1>KPIs</h1><p class=\"sub\">The team's KPIs (tend.yaml <code>kpis:</code>), "
                  "week by week for the team, from ");
    html_date(out, get_str(view, "from_week"));
    buf_puts(out, " to the week of ");
    html_date(out, get_str(view, "as_of"));
    buf_puts(out, ". How each moves with churn is a correlation over owners and weeks: a hint "
                  "of what to watch, not a cause (docs/analysis.md). "
                  "<a href=\"/reports/monthly\">Monthly CS report</a></p>\n");
    dash_kpi_cards(out, view);
    dash_page_close(out, ctx);
}
