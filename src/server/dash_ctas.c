/* dash_ctas.c: the cockpit (GET /ctas: a person's CTAs as cards with their
 * actions, and what the weekly budget held back) and one CTA with its
 * evidence and history (GET /ctas/{id}); see dash.h, docs/dashboard.md.
 * The actions are small POST forms carrying the CSRF token and the page to
 * come back to. */
#include "server/dash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/dash_int.h"
#include "server/html.h"

/* Appends s with '_' shown as a space ("not_relevant" -> "not relevant"), escaped. */
static void put_words(struct buf *b, const char *s) {
    struct buf t;
    buf_init(&t, 0);
    html_esc_cut(&t, s, CAP_SHORT);
    for (size_t i = 0; i < t.len; i++)
        if (t.data[i] == '_')
            t.data[i] = ' ';
    buf_puts(b, buf_str(&t));
    buf_free(&t);
}

/* ---- CTAs ----------------------------------------------------------------- */

/* Appends the action forms of a live CTA, each posting back to ctx->path. */
static void cta_forms(struct buf *b, const struct dash_ctx *ctx, long long id, const char *owner) {
    static const char *const actions[] = {"snooze", "close", "assign"};
    buf_puts(b, "<div class=\"actions\">");
    for (size_t i = 0; i < 3; i++) {
        buf_printf(b, "<form class=\"act %s\" method=\"post\" action=\"/ctas/%lld/%s\">",
                   actions[i], id, actions[i]);
        dash_put_csrf(b, ctx);
        buf_puts(b, "<input type=\"hidden\" name=\"back\" value=\"");
        html_esc(b, ctx && ctx->path ? ctx->path : "/ctas");
        buf_puts(b, "\">");
        switch (i) {
        case 0:
            buf_printf(b,
                       "<label>Snooze until <input type=\"date\" name=\"until\" required></label>"
                       "<input type=\"text\" name=\"note\" maxlength=\"500\" "
                       "placeholder=\"note (optional)\" aria-label=\"Snooze note\">"
                       "<button type=\"submit\">Snooze</button>");
            break;
        case 1:
            buf_puts(b, "<label>Close as <select name=\"reason\">"
                        "<option value=\"resolved\">resolved</option>"
                        "<option value=\"not_relevant\">not relevant</option></select></label>"
                        "<input type=\"text\" name=\"note\" maxlength=\"500\" "
                        "placeholder=\"note (optional)\" aria-label=\"Close note\">"
                        "<button type=\"submit\">Close</button>");
            break;
        default:
            buf_puts(b, "<label>Assign to <input type=\"text\" name=\"owner\" inputmode=\"email\" "
                        "required placeholder=\"email\" value=\"");
            html_esc(b, owner);
            buf_puts(b, "\"></label><button type=\"submit\">Assign</button>");
        }
        buf_puts(b, "</form>");
    }
    buf_puts(b, "</div>");
}

static bool cta_is_live(const cJSON *c) {
    const char *status = get_str(c, "status");
    return status && (!strcmp(status, "open") || !strcmp(status, "snoozed"));
}

/* Appends the status of c: "open", "snoozed until ...", "closed (resolved) on ...". */
void dash_cta_status(struct buf *b, const cJSON *c) {
    const char *status = get_str(c, "status");
    buf_puts(b, "<span class=\"status ");
    dash_put_class_word(b, status);
    buf_puts(b, "\">");
    put_words(b, status ? status : "unknown");
    if (status && !strcmp(status, "snoozed") && get_str(c, "snoozed_until")) {
        buf_puts(b, " until ");
        html_date(b, get_str(c, "snoozed_until"));
    } else if (status && !strcmp(status, "closed")) {
        if (get_str(c, "closed_reason")) {
            buf_puts(b, " (");
            put_words(b, get_str(c, "closed_reason"));
            buf_putc(b, ')');
        }
        if (get_str(c, "closed_date")) {
            buf_puts(b, " on ");
            html_date(b, get_str(c, "closed_date"));
        }
    }
    buf_puts(b, "</span>");
}

/* Appends one CTA as a card (id "cta-ID"); with_forms: the actions of a live one. */
static void cta_card(struct buf *b, const struct dash_ctx *ctx, const cJSON *c, bool heading_link,
                     bool with_forms) {
    long long id = get_int(c, "id");
    const char *priority = get_str(c, "priority");
    bool overdue = cJSON_IsTrue(get(c, "overdue"));
    buf_puts(b, "<article class=\"cta prio-");
    dash_put_class_word(b, priority);
    buf_printf(b, "%s\" id=\"cta-%lld\"><div class=\"cta-top\"><span class=\"prio ",
               overdue ? " overdue" : "", id);
    dash_put_class_word(b, priority);
    buf_puts(b, "\">");
    html_esc_cut(b, priority ? priority : "?", CAP_SHORT);
    buf_puts(b, "</span>");
    if (get_str(c, "type")) {
        buf_puts(b, "<span class=\"tag\">");
        html_esc_cut(b, get_str(c, "type"), CAP_SHORT);
        buf_puts(b, "</span>");
    }
    buf_puts(b, heading_link ? "<h2>" : "<h1>");
    if (heading_link)
        buf_printf(b, "<a href=\"/ctas/%lld\">", id);
    const char *title = get_str(c, "title");
    html_esc_cut(b, title && *title ? title : get_str(c, "rule"), CAP_NAME * 2);
    if (heading_link)
        buf_puts(b, "</a>");
    buf_puts(b, heading_link ? "</h2>" : "</h1>");
    dash_cta_status(b, c);
    buf_puts(b, "</div>\n<p class=\"cta-meta\">");
    dash_put_account_link(b, get_str(c, "account_id"), get_str(c, "account_name"));
    buf_puts(b, MIDDOT);
    const char *owner = get_str(c, "owner");
    if (owner && *owner)
        html_esc_cut(b, owner, CAP_SHORT);
    else
        buf_puts(b, "<span class=\"muted\">unassigned</span>");
    buf_puts(b, MIDDOT "opened ");
    html_date(b, get_str(c, "opened_date"));
    if (get_str(c, "due_date")) {
        buf_printf(b, MIDDOT "<span class=\"due%s\">due ", overdue ? " overdue" : "");
        html_date(b, get_str(c, "due_date"));
        if (overdue)
            buf_puts(b, " <strong>overdue</strong>");
        buf_puts(b, "</span>");
    }
    if (get_str(c, "value_text")) {
        buf_puts(b, MIDDOT "<span class=\"value\">");
        html_esc_cut(b, get_str(c, "value_text"), CAP_SHORT);
        buf_puts(b, "</span>");
    }
    buf_puts(b, "</p>\n");
    const char *reason = get_str(c, "reason");
    if (reason && *reason) {
        buf_puts(b, "<p class=\"reason\">");
        html_esc_cut(b, reason, CAP_REASON);
        buf_puts(b, "</p>\n");
    }
    if (with_forms && id >= 0 && cta_is_live(c))
        cta_forms(b, ctx, id, owner);
    buf_puts(b, "</article>\n");
}

/* Appends the cockpit's filter links: whose CTAs, and which statuses. */
static void ctas_tabs(struct buf *b, const struct dash_ctx *ctx, const char *owner,
                      const char *status) {
    static const char *const drop_owner[] = {"owner", NULL};
    static const char *const drop_status[] = {"status", NULL};
    bool mine = !owner || !*owner || !strcmp(owner, "me");
    bool all = owner && !strcmp(owner, "all");
    buf_puts(b, "<div class=\"tabs-row\"><nav class=\"tabs\" aria-label=\"Owner\"><a href=\"");
    dash_put_href_query(b, "/ctas", ctx, drop_owner, NULL);
    buf_printf(b, "\"%s>Mine</a><a href=\"", mine ? " aria-current=\"page\"" : "");
    dash_put_href_query(b, "/ctas", ctx, drop_owner, "owner=all");
    buf_printf(b, "\"%s>All owners</a></nav>", all ? " aria-current=\"page\"" : "");

    static const char *const statuses[][2] = {{"live", "Live"},       {"open", "Open"},
                                              {"snoozed", "Snoozed"}, {"closed", "Closed"},
                                              {"all", "All"},         {"held", "Held back"}};
    const char *current = status && *status ? status : "live";
    buf_puts(b, "<nav class=\"tabs\" aria-label=\"Status\">");
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char extra[32];
        snprintf(extra, sizeof extra, "status=%s", statuses[i][0]);
        buf_puts(b, "<a href=\"");
        dash_put_href_query(b, "/ctas", ctx, drop_status, i == 0 ? NULL : extra);
        buf_printf(b, "\"%s>%s</a>",
                   !strcmp(current, statuses[i][0]) ? " aria-current=\"page\"" : "",
                   statuses[i][1]);
    }
    buf_puts(b, "</nav></div>\n");
}

/* The CTAs the weekly budget held back (status=held): each as a card
 * without actions, most valuable first. */
static void held_list(struct buf *out, const cJSON *view) {
    const cJSON *held = get(view, "held");
    long long n = cJSON_IsArray(held) ? cJSON_GetArraySize(held) : 0;
    buf_printf(out,
               "<p class=\"sub\">%lld held back by the budget (at most %lld new CTAs per owner "
               "a week); they are in the owner&#39;s digest and open on a later day once there "
               "is room, most valuable first.</p>\n",
               (long long)get_int(view, "total"),
               (long long)get_int(view, "budget_per_owner_per_week"));
    if (!n) {
        dash_put_empty(out, "Nothing held back", "The budget held back no CTA here.");
        return;
    }
    buf_puts(out, "<div class=\"ctas\">\n");
    const cJSON *h;
    cJSON_ArrayForEach(h, held) {
        buf_puts(out, "<article class=\"cta held\"><div class=\"cta-top\"><span class=\"prio ");
        dash_put_class_word(out, get_str(h, "priority"));
        buf_puts(out, "\">");
        html_esc_cut(out, get_str(h, "priority") ? get_str(h, "priority") : "?", CAP_SHORT);
        buf_puts(out, "</span><h2>");
        html_esc_cut(out, get_str(h, "title") ? get_str(h, "title") : "", CAP_NAME * 2);
        buf_puts(out, "</h2></div>\n<p class=\"cta-meta\">");
        dash_put_account_link(out, get_str(h, "account_id"), get_str(h, "account_name"));
        buf_puts(out, MIDDOT);
        html_esc_cut(out, get_str(h, "owner") ? get_str(h, "owner") : "", CAP_SHORT);
        buf_puts(out, MIDDOT "held back on ");
        html_date(out, get_str(h, "day"));
        if (get_str(h, "value_text")) {
            buf_puts(out, MIDDOT "<span class=\"value\">");
            html_esc_cut(out, get_str(h, "value_text"), CAP_SHORT);
            buf_puts(out, "</span>");
        }
        buf_puts(out, "</p>\n<p class=\"reason\">");
        html_esc_cut(out, get_str(h, "reason") ? get_str(h, "reason") : "", CAP_REASON);
        buf_puts(out, "</p></article>\n");
    }
    buf_puts(out, "</div>\n");
}

/* How the list is sorted, in words, from the page's sort= parameter. */
static const char *sort_words(const struct dash_ctx *ctx) {
    char *sort = dash_query_value(ctx, "sort", 0);
    const char *w = ", most urgent first (priority, then value)";
    if (sort && !strcmp(sort, "value"))
        w = ", highest value first";
    else if (sort && !strcmp(sort, "-value"))
        w = ", lowest value first";
    else if (sort && !strcmp(sort, "due"))
        w = ", due soonest first";
    else if (sort && !strcmp(sort, "-due"))
        w = ", due latest first";
    else if (sort && !strcmp(sort, "age"))
        w = ", oldest first";
    else if (sort && !strcmp(sort, "-age"))
        w = ", newest first";
    free(sort);
    return w;
}

void dash_ctas(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    char *owner = dash_query_value(ctx, "owner", 0);
    char *status = dash_query_value(ctx, "status", 0);
    char *account = dash_query_value(ctx, "account", 0);
    char *rule = dash_query_value(ctx, "rule", 0);
    bool mine = !owner || !*owner || !strcmp(owner, "me");
    bool all = owner && !strcmp(owner, "all");
    dash_page_open(out, ctx, mine ? "My CTAs" : "CTAs", NAV_CTAS);
    buf_puts(out, "<div class=\"head\"><h1>");
    if (mine) {
        buf_puts(out, "My CTAs");
    } else if (all) {
        buf_puts(out, "All CTAs");
    } else {
        buf_puts(out, "CTAs of ");
        html_esc_cut(out, owner, CAP_SHORT);
    }
    buf_puts(out, "</h1>");
    if (status && !strcmp(status, "held")) {
        buf_puts(out, "</div>\n");
        ctas_tabs(out, ctx, owner, status);
        held_list(out, view);
        goto done;
    }
    buf_puts(out, "<p class=\"sub\">");
    const cJSON *ctas = get(view, "ctas");
    long long shown = cJSON_IsArray(ctas) ? cJSON_GetArraySize(ctas) : 0;
    long long total = get_int(view, "total");
    if (total < shown)
        total = shown;
    buf_printf(out, "%lld ", total);
    if (!status || !*status)
        buf_puts(out, "live ");
    else if (strcmp(status, "all")) {
        put_words(out, status);
        buf_putc(out, ' ');
    }
    buf_printf(out, "CTA%s", total == 1 ? "" : "s");
    if (account && *account) {
        buf_puts(out, " of ");
        dash_put_account_link(out, account, NULL);
    }
    if (rule && *rule) {
        buf_puts(out, " from rule ");
        html_esc_cut(out, rule, CAP_SHORT);
    }
    buf_puts(out, sort_words(ctx));
    long long held = get_int(view, "held_this_week");
    if (held > 0) {
        static const char *const drop_status[] = {"status", NULL};
        buf_puts(out, ". <a class=\"held-count\" href=\"");
        char extra[48];
        snprintf(extra, sizeof extra, "status=held&amp;week=%.10s",
                 get_str(view, "week") ? get_str(view, "week") : "all");
        dash_put_href_query(out, "/ctas", ctx, drop_status, extra);
        buf_printf(out, "\">%lld held back by the budget this week</a>", held);
    }
    buf_puts(out, "</p></div>\n");
    ctas_tabs(out, ctx, owner, status);
    dash_cockpit_list(out, ctx, view);
done:
    dash_page_close(out, ctx);
    free(owner);
    free(status);
    free(account);
    free(rule);
}

void dash_cta(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    long long id = get_int(view, "id");
    char title[48];
    snprintf(title, sizeof title, "CTA %lld", id);
    dash_page_open(out, ctx, title, NAV_CTAS);
    buf_printf(out, "<p class=\"crumbs\"><a href=\"/ctas\">My CTAs</a> / CTA %lld</p>\n", id);
    cta_card(out, ctx, view, false, true);
    if (cJSON_IsTrue(get(view, "held_out")))
        buf_puts(out, "<p class=\"notice\">Held out: this CTA is part of its rule's randomised "
                      "holdout and was not delivered (docs/analysis.md, Impact).</p>\n");
    buf_puts(out, "<div class=\"cols\"><section class=\"card\"><h2>Details</h2>"
                  "<table class=\"kv\"><tbody>");
    static const char *const fields[][2] = {
        {"rule", "Rule"}, {"subject", "Subject"}, {"type", "Type"}, {"priority", "Priority"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        buf_printf(out, "<tr><th scope=\"row\">%s</th><td>", fields[i][1]);
        const char *v = get_str(view, fields[i][0]);
        if (v && *v)
            html_esc_cut(out, v, CAP_SHORT);
        else
            buf_puts(out, HTML_DASH);
        buf_puts(out, "</td></tr>");
    }
    static const char *const dates[][2] = {{"opened_date", "Opened"},
                                           {"due_date", "Due"},
                                           {"snoozed_until", "Snoozed until"},
                                           {"closed_date", "Closed"}};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        buf_printf(out, "<tr><th scope=\"row\">%s</th><td>", dates[i][1]);
        html_date(out, get_str(view, dates[i][0]));
        buf_puts(out, "</td></tr>");
    }
    buf_puts(out, "</tbody></table></section>\n<section class=\"card\"><h2>Evidence</h2>");
    dash_put_kv_table(out, ctx, get(view, "evidence"), "No evidence recorded.");
    buf_puts(out, "</section></div>\n");
    dash_cta_playbook(out, ctx, view);
    buf_puts(out, "<section class=\"card\"><h2>History</h2>");
    const cJSON *history = get(view, "history");
    if (!cJSON_IsArray(history) || cJSON_GetArraySize(history) == 0) {
        buf_puts(out, "<p class=\"muted\">No changes recorded.</p>");
    } else {
        buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid\"><thead><tr><th>Day</th>"
                      "<th>When</th><th>Action</th><th>By</th><th>Status</th><th>Priority</th>"
                      "<th>Note</th></tr></thead><tbody>");
        const cJSON *h;
        cJSON_ArrayForEach(h, history) {
            buf_puts(out, "<tr><td>");
            html_date(out, get_str(h, "date"));
            buf_puts(out, "</td><td>");
            html_time(out, get_str(h, "at"), ctx ? ctx->tz : NULL);
            static const char *const cols[] = {"action", "actor", "status", "priority", "note"};
            for (size_t i = 0; i < 5; i++) {
                buf_puts(out, "</td><td>");
                const char *v = get_str(h, cols[i]);
                if (v && *v)
                    html_esc_cut(out, v, i == 4 ? CAP_REASON : CAP_SHORT);
                else
                    buf_puts(out, "<span class=\"muted\">" HTML_DASH "</span>");
            }
            buf_puts(out, "</td></tr>\n");
        }
        buf_puts(out, "</tbody></table></div>");
    }
    buf_puts(out, "</section>\n");
    dash_notes_section(out, ctx, get(view, "notes"), NULL, id); /* dash_notes.c */
    dash_page_close(out, ctx);
}
