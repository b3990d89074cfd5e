/* dash_admin.c: the pages about tend itself rather than the customers (see
 * dash.h, docs/dashboard.md): the rules with their settings and their
 * quality in the latest backtest (GET /rules), delivery's outbox
 * (GET /delivery), and the reports of tend analyze and tend backtest
 * (GET /reports, GET /reports/{id}). */
#include "server/dash.h"

#include <math.h>
#include <string.h>

#include "server/dash_int.h"
#include "server/html.h"

/* ---- rules and delivery --------------------------------------------------- */

/* A rule's settings and its quality from the latest backtest (docs/rules.md,
 * "Quality"): the columns of `tend rules`, noisy marked. */
static void rule_quality_cells(struct buf *out, const cJSON *r) {
    static const char *const settings[] = {"priority", "thresholds", "scope"};
    for (size_t i = 0; i < 3; i++) {
        /* the thresholds are tend.yaml's settings, shown as written there */
        const char *v = get_str(r, settings[i]);
        buf_puts(out, "</td><td>");
        if (i == 1 && v && *v)
            buf_puts(out, "<code>");
        html_esc_cut(out, v, CAP_SHORT);
        if (i == 1 && v && *v)
            buf_puts(out, "</code>");
    }
    const cJSON *q = get(r, "quality");
    static const char *const keys[] = {"raised", "precision",        "lift",
                                       "recall", "median_lead_days", "closed_within_3_days"};
    static const int decimals[] = {0, 3, 2, 3, 1, 0};
    for (size_t i = 0; i < 6; i++) {
        buf_puts(out, "</td><td class=\"num\">");
        html_json_number(out, get(q, keys[i]), decimals[i]);
        if (i == 2 && cJSON_IsTrue(get(q, "noisy")))
            buf_puts(out, " <span class=\"tag noisy\">noisy</span>");
    }
}

void dash_rules(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    dash_page_open(out, ctx, "Rules", NAV_RULES);
    const cJSON *rules = get(view, "rules");
    int n = cJSON_IsArray(rules) ? cJSON_GetArraySize(rules) : 0;
    buf_printf(out,
               "<div class=\"head\"><h1>Rules</h1><p class=\"sub\">%d rule%s, in "
               "configuration order. Auto-resolved: the share of closed CTAs whose "
               "condition cleared by itself.</p></div>\n",
               n, n == 1 ? "" : "s");
    const cJSON *bt = get(view, "backtest");
    if (cJSON_IsObject(bt)) {
        buf_puts(out, "<p class=\"sub\">Quality from the latest backtest, ");
        html_esc_cut(out, get_str(bt, "from"), CAP_SHORT);
        buf_puts(out, " to ");
        html_esc_cut(out, get_str(bt, "to"), CAP_SHORT);
        buf_printf(out, " (report %lld): a rule whose lift is under %.1f is marked noisy.</p>\n",
                   get_int(bt, "report"), get_num(bt, "noisy_below_lift"));
    } else {
        buf_puts(out, "<p class=\"sub\">No backtest yet: run tend backtest to measure each "
                      "rule's precision, lift, recall and lead time.</p>\n");
    }
    if (n == 0) {
        dash_put_empty(out, "No rules", "No rule is configured.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid rules\"><thead><tr>"
                  "<th>Rule</th><th>Type</th><th class=\"num\">Fired</th>"
                  "<th class=\"num\">Last 30 days</th><th class=\"num\">Open</th>"
                  "<th class=\"num\">Snoozed</th><th class=\"num\">Closed</th>"
                  "<th>Auto-resolved</th><th>Last fired</th>"
                  "<th>Priority</th><th>Thresholds</th><th>Scope</th>"
                  "<th class=\"num\">Backtest CTAs</th><th class=\"num\">Precision</th>"
                  "<th class=\"num\">Lift</th><th class=\"num\">Recall</th>"
                  "<th class=\"num\">Lead (days)</th><th class=\"num\">Closed in 3 days</th>"
                  "</tr></thead>\n<tbody>\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, rules) {
        const char *name = get_str(r, "name");
        bool enabled = !cJSON_IsFalse(get(r, "enabled"));
        buf_printf(out, "<tr%s><td class=\"name\">", enabled ? "" : " class=\"disabled\"");
        if (name) {
            buf_puts(out, "<a href=\"/ctas?owner=all&amp;status=all&amp;rule=");
            html_url_part(out, name);
            buf_puts(out, "\">");
            html_esc_cut(out, name, CAP_SHORT);
            buf_puts(out, "</a>");
        }
        buf_printf(out, " <span class=\"tag\">%s</span>",
                   cJSON_IsTrue(get(r, "builtin")) ? "built-in" : "custom");
        if (!enabled)
            buf_puts(out, " <span class=\"tag off\">off</span>");
        buf_puts(out, "</td><td>");
        html_esc_cut(out, get_str(r, "type"), CAP_SHORT);
        static const char *const counts[] = {"fired_total", "fired_30d", "open", "snoozed",
                                             "closed"};
        for (size_t i = 0; i < 5; i++) {
            buf_puts(out, "</td><td class=\"num\">");
            html_json_number(out, get(r, counts[i]), 0);
        }
        buf_puts(out, "</td><td class=\"share\">");
        double closed = get_num(r, "closed"), auto_resolved = get_num(r, "auto_resolved");
        if (closed > 0 && !isnan(auto_resolved)) {
            html_bar(out, auto_resolved, closed, "blue");
            buf_printf(out, " %.0f%%", 100 * auto_resolved / closed);
        } else {
            buf_puts(out, "<span class=\"muted\">" HTML_DASH "</span>");
        }
        buf_puts(out, "</td><td>");
        html_date(out, get_str(r, "last_fired"));
        rule_quality_cells(out, r);
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</tbody></table></div>\n");
    dash_put_export(out, ctx);
    dash_page_close(out, ctx);
}

void dash_delivery(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    static const char *const statuses[] = {"pending", "sending", "sent",
                                           "dead",    "held",    "digested"};
    dash_page_open(out, ctx, "Delivery", NAV_DELIVERY);
    buf_puts(out, "<div class=\"head\"><h1>Delivery</h1><p class=\"sub\">The outbox of "
                  "Slack, email and webhook messages.</p></div>\n<ul class=\"tiles\">");
    const cJSON *counts = get(view, "counts");
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        long long n = get_int(counts, statuses[i]);
        buf_printf(out, "<li class=\"tile st-%s%s\"><span class=\"n\">%lld</span>%s</li>",
                   statuses[i], n > 0 ? "" : " zero", n < 0 ? 0 : n, statuses[i]);
    }
    double oldest = get_num(view, "oldest_pending_s");
    buf_puts(out, "<li class=\"tile\"><span class=\"n\">");
    if (isnan(oldest) || oldest <= 0)
        buf_puts(out, "none");
    else
        html_duration(out, oldest);
    buf_puts(out, "</span>oldest pending</li></ul>\n");

    const cJSON *rows = get(view, "rows");
    if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) == 0) {
        dash_put_empty(out, "Nothing sent yet",
                       "No message is in the outbox. Messages are queued when a CTA opens, "
                       "changes or is due, for the channels configured under "
                       "<code>delivery</code> in tend.yaml.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<h2>Latest messages</h2><div class=\"table-wrap\"><table class=\"grid "
                  "outbox\"><thead><tr><th class=\"num\">#</th><th>Created</th><th>Channel</th>"
                  "<th>To</th><th>Event</th><th>CTA</th><th>Status</th>"
                  "<th class=\"num\">Attempts</th><th>Sent / next try</th><th>Error</th>"
                  "</tr></thead>\n<tbody>\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        const char *error = get_str(r, "last_error");
        const char *status = get_str(r, "status");
        const char *tz = ctx ? ctx->tz : NULL;
        buf_printf(out, "<tr%s><td class=\"num\">", error && *error ? " class=\"has-error\"" : "");
        html_json_number(out, get(r, "id"), 0);
        buf_puts(out, "</td><td>");
        html_time(out, get_str(r, "created"), tz);
        buf_puts(out, "</td><td>");
        html_esc_cut(out, get_str(r, "channel"), CAP_SHORT);
        buf_puts(out, "</td><td>");
        const char *target = get_str(r, "target");
        html_esc_cut(out, target && *target ? target : get_str(r, "owner"), CAP_SHORT);
        buf_puts(out, "</td><td>");
        html_esc_cut(out, get_str(r, "event"), CAP_SHORT);
        buf_puts(out, "</td><td>");
        long long cta = get_int(r, "cta");
        if (cta >= 0)
            buf_printf(out, "<a href=\"/ctas/%lld\">%lld</a>", cta, cta);
        else
            buf_puts(out, "<span class=\"muted\">digest</span>");
        buf_puts(out, "</td><td><span class=\"status st-");
        dash_put_class_word(out, status);
        buf_puts(out, "\">");
        html_esc_cut(out, status ? status : "?", CAP_SHORT);
        buf_puts(out, "</span></td><td class=\"num\">");
        html_json_number(out, get(r, "attempts"), 0);
        buf_puts(out, "</td><td>");
        if (get_str(r, "sent"))
            html_time(out, get_str(r, "sent"), tz);
        else if (status && (!strcmp(status, "pending") || !strcmp(status, "sending")))
            html_time(out, get_str(r, "next_at"), tz);
        else
            buf_puts(out, "<span class=\"muted\">" HTML_DASH "</span>");
        buf_puts(out, "</td><td class=\"error\">");
        if (error && *error)
            html_esc_cut(out, error, CAP_REASON);
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</tbody></table></div>\n");
    dash_put_export(out, ctx);
    dash_page_close(out, ctx);
}

/* ---- reports -------------------------------------------------------------- */

/* Appends the kind of a report as a tag: analyze, backtest or other. */
static void put_report_kind(struct buf *b, const char *kind) {
    buf_puts(b, "<span class=\"tag kind-");
    dash_put_class_word(b, kind);
    buf_puts(b, "\">");
    html_esc_cut(b, kind && *kind ? kind : "report", CAP_SHORT);
    buf_puts(b, "</span>");
}

void dash_reports(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    dash_page_open(out, ctx, "Reports", NAV_REPORTS);
    buf_puts(out, "<div class=\"head\"><h1>Reports</h1><p class=\"sub\">What "
                  "<code>tend analyze</code> and <code>tend backtest</code> found, newest "
                  "first (the latest 100 are kept).</p></div>\n");
    const cJSON *rows = get(view, "reports");
    if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) == 0) {
        dash_put_empty(out, "No reports yet",
                       "Run <code>tend analyze</code> (which health components predict churn) or "
                       "<code>tend backtest</code> (how early each rule warned) and the report "
                       "appears here.");
        dash_page_close(out, ctx);
        return;
    }
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid reports\"><thead><tr>"
                  "<th>Report</th><th>Kind</th><th>Created</th><th>Summary</th>"
                  "</tr></thead>\n<tbody>\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        long long id = get_int(r, "id");
        const char *title = get_str(r, "title");
        buf_puts(out, "<tr><td class=\"name\">");
        if (id > 0)
            buf_printf(out, "<a href=\"/reports/%lld\">", id);
        html_esc_cut(out, title && *title ? title : "(untitled)", CAP_NAME);
        if (id > 0)
            buf_puts(out, "</a>");
        buf_puts(out, "</td><td>");
        put_report_kind(out, get_str(r, "kind"));
        buf_puts(out, "</td><td>");
        html_time(out, get_str(r, "created"), ctx ? ctx->tz : NULL);
        buf_puts(out, "</td><td class=\"summary\">");
        html_esc_cut(out, get_str(r, "summary"), CAP_REASON);
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</tbody></table></div>\n");
    dash_put_export(out, ctx);
    dash_page_close(out, ctx);
}

void dash_report(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    const char *title = get_str(view, "title");
    dash_page_open(out, ctx, title && *title ? title : "Report", NAV_REPORTS);
    buf_puts(out, "<div class=\"head\"><p class=\"crumbs\"><a href=\"/reports\">Reports</a>"
                  "</p><h1>");
    html_esc_cut(out, title && *title ? title : "(untitled)", CAP_NAME);
    buf_puts(out, "</h1><p class=\"sub\">");
    put_report_kind(out, get_str(view, "kind"));
    buf_puts(out, MIDDOT);
    html_time(out, get_str(view, "created"), ctx ? ctx->tz : NULL);
    const char *summary = get_str(view, "summary");
    if (summary && *summary) {
        buf_puts(out, MIDDOT);
        html_esc_cut(out, summary, CAP_REASON);
    }
    buf_puts(out, "</p></div>\n<div class=\"report\">\n");
    const char *html = get_str(view, "html");
    buf_puts(out, html ? html : "");
    buf_puts(out, "\n</div>\n<p><a href=\"/reports\">All reports</a></p>\n");
    dash_page_close(out, ctx);
}
