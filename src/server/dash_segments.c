/* dash_segments.c: the segments pages (see dash.h, docs/dashboard.md
 * "Segments"): every segment (or plan, or owner) of the latest evaluated day
 * with its figures and a 30-day sparkline of its health mean
 * (GET /segments), and one group's trends over 90 days as SVG charts, its
 * accounts and its segment_shift CTAs (GET /segments/{name}). Pure: a
 * function of the view (GET /api/segments...) and the context. */
#include "server/dash.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/labels.h"
#include "server/dash_int.h"
#include "server/html.h"

#define SVG_W 640.0
#define SVG_H 150.0
#define PAD_L 44.0
#define PAD_R 12.0
#define PAD_T 10.0
#define PAD_B 22.0

static const char *const kinds[3] = {"segment", "plan", "owner"};

/* Appends "/segments/NAME?by=KIND" (NAME percent-encoded). */
static void put_group_href(struct buf *b, const char *name, const char *by) {
    buf_puts(b, "/segments/");
    html_url_part(b, name);
    if (by && strcmp(by, "segment") != 0) {
        buf_puts(b, "?by=");
        html_url_part(b, by);
    }
}

static void put_num(struct buf *b, const cJSON *o, const char *key, int decimals) {
    buf_puts(b, "<td class=\"num\">");
    html_json_number(b, get(o, key), decimals);
    buf_puts(b, "</td>");
}

/* A cell of money with its currency (core/labels.h); a dash when unknown. */
static void put_money(struct buf *b, const cJSON *o, const char *key, const char *currency) {
    const cJSON *v = get(o, key);
    buf_puts(b, "<td class=\"num\">");
    if (cJSON_IsNumber(v)) {
        char money[64];
        labels_money(v->valuedouble, currency, money, sizeof money);
        html_esc(b, money);
    } else {
        buf_puts(b, HTML_DASH);
    }
    buf_puts(b, "</td>");
}

/* The choice of grouping, as links. */
static void put_kinds(struct buf *b, const char *by) {
    buf_puts(b, "<p class=\"filters\">Group by: ");
    for (int i = 0; i < 3; i++) {
        if (i)
            buf_puts(b, MIDDOT);
        if (by && strcmp(by, kinds[i]) == 0)
            buf_printf(b, "<strong>%s</strong>", kinds[i]);
        else
            buf_printf(b, "<a href=\"/segments?by=%s\">%s</a>", kinds[i], kinds[i]);
    }
    buf_puts(b, "</p>\n");
}

void dash_segments(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    const char *by = get_str(view, "by");
    dash_page_open(out, ctx, "Segments", NAV_SEGMENTS);
    buf_puts(out, "<div class=\"head\"><h1>Segments</h1>");
    const char *date = get_str(view, "date");
    if (date) {
        buf_puts(out, "<p class=\"sub\">as of ");
        html_date(out, date);
        buf_puts(out, "</p>");
    }
    buf_puts(out, "</div>\n");
    put_kinds(out, by);
    const cJSON *groups = get(view, "groups");
    if (!cJSON_IsArray(groups) || cJSON_GetArraySize(groups) == 0) {
        dash_put_empty(out, "No segments yet",
                       "The daily evaluation stores each segment's figures; run "
                       "<code>tend eval</code> or wait for <code>tend serve</code>'s.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid segments\"><thead><tr>"
                  "<th>Name</th><th>Health, 30 days</th><th class=\"num\">Accounts</th>"
                  "<th class=\"num\">ARR</th><th class=\"num\">Health</th>"
                  "<th class=\"num\">Red</th><th class=\"num\">Yellow</th>"
                  "<th class=\"num\">Green</th><th class=\"num\">Logins / user</th>"
                  "<th class=\"num\">Features / user</th><th class=\"num\">NPS</th>"
                  "<th class=\"num\">Tickets 30d</th><th class=\"num\">CTAs</th>"
                  "</tr></thead>\n<tbody>\n");
    const cJSON *g;
    cJSON_ArrayForEach(g, groups) {
        const char *name = get_str(g, "name");
        double health = get_num(g, "health_mean");
        buf_puts(out, "<tr><td><a href=\"");
        put_group_href(out, name ? name : "", by);
        buf_puts(out, "\">");
        html_esc_cut(out, name ? name : "", CAP_NAME);
        buf_puts(out, "</a></td><td>");
        html_sparkline(out, get(g, "trend"), isnan(health) ? NULL : html_band_of(health));
        buf_puts(out, "</td>");
        put_num(out, g, "accounts", 0);
        put_money(out, g, "arr", ctx ? ctx->currency : NULL);
        put_num(out, g, "health_mean", 1);
        put_num(out, g, "red", 0);
        put_num(out, g, "yellow", 0);
        put_num(out, g, "green", 0);
        put_num(out, g, "logins_per_active_user", 2);
        put_num(out, g, "feature_events_per_active_user", 2);
        put_num(out, g, "nps", 1);
        put_num(out, g, "tickets_30d", 0);
        put_num(out, g, "open_ctas", 0);
        buf_puts(out, "</tr>\n");
    }
    buf_puts(out, "</tbody></table></div>\n");
    dash_put_export(out, ctx);
    dash_page_close(out, ctx);
}

/* ---- one group ------------------------------------------------------------- */

/* Appends a line chart of key over trend (rows with "day", oldest first): a
 * polyline per run of known values, the range on the left, the first and
 * last day below. */
static void line_chart(struct buf *b, const cJSON *trend, const char *key, const char *label) {
    int n = cJSON_GetArraySize(trend);
    double lo = INFINITY, hi = -INFINITY;
    const cJSON *r;
    cJSON_ArrayForEach(r, trend) {
        const cJSON *v = get(r, key);
        if (cJSON_IsNumber(v)) {
            lo = fmin(lo, v->valuedouble);
            hi = fmax(hi, v->valuedouble);
        }
    }
    buf_printf(b,
               "<svg class=\"chart segchart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
               "font-size=\"11\" fill=\"currentColor\" aria-label=\"",
               SVG_W, SVG_H);
    html_esc(b, label);
    if (isinf(lo)) {
        buf_printf(b,
                   ": no values\"><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">No values "
                   "yet</text></svg>",
                   SVG_W / 2, SVG_H / 2);
        return;
    }
    buf_printf(b, ": from %.2f to %.2f\">", lo, hi);
    if (hi - lo < 1e-9) {
        lo -= 1;
        hi += 1;
    }
    double pw = SVG_W - PAD_L - PAD_R, ph = SVG_H - PAD_T - PAD_B;
    buf_printf(b,
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#cbd2d9\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>",
               PAD_L, PAD_T + ph, PAD_L + pw, PAD_T + ph, PAD_L - 4, PAD_T + 8, hi, PAD_L - 4,
               PAD_T + ph, lo);
    buf_puts(b, "<g fill=\"none\" stroke=\"#2f6fdb\" stroke-width=\"2\">");
    bool open = false;
    int i = 0;
    cJSON_ArrayForEach(r, trend) {
        const cJSON *v = get(r, key);
        double x = PAD_L + (n > 1 ? pw * i / (n - 1) : pw / 2);
        if (cJSON_IsNumber(v)) {
            double y = PAD_T + ph * (1 - (v->valuedouble - lo) / (hi - lo));
            buf_printf(b, "%s%.1f,%.1f", open ? " " : "<polyline points=\"", x, y);
            open = true;
        } else if (open) {
            buf_puts(b, "\"/>");
            open = false;
        }
        i++;
    }
    if (open)
        buf_puts(b, "\"/>");
    buf_puts(b, "</g>");
    const char *from = get_str(cJSON_GetArrayItem(trend, 0), "day");
    const char *to = get_str(cJSON_GetArrayItem(trend, n - 1), "day");
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", PAD_L, SVG_H - 6);
    html_esc(b, from ? from : "");
    buf_printf(b, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", PAD_L + pw, SVG_H - 6);
    html_esc(b, to ? to : "");
    buf_puts(b, "</text></svg>");
}

static void put_accounts(struct buf *b, const cJSON *accounts, long long total) {
    buf_puts(b, "<section class=\"card\"><h2>Accounts</h2>");
    if (!cJSON_IsArray(accounts)) {
        buf_puts(b, "<p class=\"muted\">Listed by segment and by owner.</p></section>\n");
        return;
    }
    if (cJSON_GetArraySize(accounts) == 0) {
        buf_puts(b, "<p class=\"muted\">No accounts.</p></section>\n");
        return;
    }
    buf_puts(b, "<div class=\"table-wrap\"><table class=\"grid\"><thead><tr><th>Account</th>"
                "<th>Band</th><th class=\"num\">Health</th><th>Owner</th>"
                "<th class=\"num\">Open CTAs</th></tr></thead>\n<tbody>\n");
    const cJSON *a;
    cJSON_ArrayForEach(a, accounts) {
        buf_puts(b, "<tr><td>");
        dash_put_account_link(b, get_str(a, "id"), get_str(a, "name"));
        buf_puts(b, "</td><td>");
        dash_put_band_pill(b, get_str(a, "band"));
        buf_puts(b, "</td>");
        put_num(b, a, "health", 1);
        buf_puts(b, "<td>");
        html_esc_cut(b, get_str(a, "owner") ? get_str(a, "owner") : "", CAP_SHORT);
        buf_puts(b, "</td>");
        put_num(b, a, "open_ctas", 0);
        buf_puts(b, "</tr>\n");
    }
    buf_puts(b, "</tbody></table></div>");
    if (total > cJSON_GetArraySize(accounts))
        buf_printf(b, "<p class=\"muted\">%d of %lld shown.</p>", cJSON_GetArraySize(accounts),
                   total);
    buf_puts(b, "</section>\n");
}

static void put_ctas(struct buf *b, const cJSON *ctas) {
    if (!cJSON_IsArray(ctas))
        return;
    buf_puts(b, "<section class=\"card\"><h2>Segment alerts</h2>");
    if (cJSON_GetArraySize(ctas) == 0) {
        buf_puts(b, "<p class=\"muted\">segment_shift has raised nothing for this segment.</p>"
                    "</section>\n");
        return;
    }
    buf_puts(b, "<ul class=\"seg-ctas\">");
    const cJSON *c;
    cJSON_ArrayForEach(c, ctas) {
        buf_printf(b, "<li><a href=\"/ctas/%lld\">", get_int(c, "id"));
        html_esc_cut(b, get_str(c, "title"), CAP_NAME);
        buf_puts(b, "</a> <span class=\"muted\">");
        html_esc_cut(b, get_str(c, "priority"), CAP_SHORT);
        buf_puts(b, MIDDOT);
        html_esc_cut(b, get_str(c, "status"), CAP_SHORT);
        buf_puts(b, MIDDOT);
        html_esc_cut(b, get_str(c, "owner"), CAP_SHORT);
        buf_puts(b, MIDDOT "opened ");
        html_date(b, get_str(c, "opened"));
        buf_puts(b, "</span><br>");
        html_esc_cut(b, get_str(c, "reason"), CAP_REASON);
        buf_puts(b, "</li>");
    }
    buf_puts(b, "</ul></section>\n");
}

void dash_segment(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    const char *name = get_str(view, "name");
    const char *by = get_str(view, "by");
    dash_page_open(out, ctx, name ? name : "Segment", NAV_SEGMENTS);
    buf_puts(out, "<p class=\"crumbs\"><a href=\"/segments");
    if (by && strcmp(by, "segment") != 0) {
        buf_puts(out, "?by=");
        html_url_part(out, by);
    }
    buf_puts(out, "\">Segments</a> / ");
    html_esc_cut(out, by ? by : "", CAP_SHORT);
    buf_puts(out, "</p>\n<div class=\"head\"><h1>");
    html_esc_cut(out, name ? name : "", CAP_NAME);
    buf_puts(out, "</h1><p class=\"sub\">");
    const cJSON *latest = get(view, "latest");
    html_json_number(out, get(latest, "accounts"), 0);
    buf_puts(out, " accounts" MIDDOT "ARR ");
    const cJSON *arr = get(latest, "arr");
    if (cJSON_IsNumber(arr)) {
        char money[64];
        labels_money(arr->valuedouble, ctx ? ctx->currency : NULL, money, sizeof money);
        html_esc(out, money);
    } else {
        buf_puts(out, HTML_DASH);
    }
    buf_puts(out, MIDDOT "health ");
    html_json_number(out, get(latest, "health_mean"), 1);
    buf_puts(out, MIDDOT "as of ");
    html_date(out, get_str(view, "date"));
    buf_puts(out, "</p></div>\n");
    const cJSON *trend = get(view, "trend");
    /* The health mean on the score chart (its bands), the rest on their own. */
    cJSON *history = cJSON_CreateArray();
    const cJSON *r;
    cJSON_ArrayForEach(r, trend) {
        cJSON *h = cJSON_CreateObject();
        const char *day = get_str(r, "day");
        cJSON_AddStringToObject(h, "date", day ? day : "");
        const cJSON *v = get(r, "health_mean");
        if (cJSON_IsNumber(v))
            cJSON_AddNumberToObject(h, "overall", v->valuedouble);
        else
            cJSON_AddNullToObject(h, "overall");
        cJSON_AddItemToArray(history, h);
    }
    buf_puts(out, "<div class=\"cols\"><section class=\"card\"><h2>Health mean</h2>");
    html_chart(out, history, false);
    cJSON_Delete(history);
    buf_puts(out, "</section><section class=\"card\"><h2>Logins per active user, 7 days</h2>");
    line_chart(out, trend, "logins_per_active_user", "logins per active user");
    buf_puts(out, "</section></div>\n<div class=\"cols\"><section class=\"card\"><h2>Feature "
                  "events per active user, 7 days</h2>");
    line_chart(out, trend, "feature_events_per_active_user", "feature events per active user");
    buf_puts(out, "</section><section class=\"card\"><h2>Tickets opened, 30 days</h2>");
    line_chart(out, trend, "tickets_30d", "tickets opened in 30 days");
    buf_puts(out, "</section></div>\n");
    put_ctas(out, get(view, "ctas"));
    put_accounts(out, get(view, "accounts"), get_int(view, "accounts_total"));
    dash_put_export(out, ctx); /* the accounts' table */
    dash_page_close(out, ctx);
}
