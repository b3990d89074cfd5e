/* dash_accounts.c: the accounts' pages (see dash.h, docs/dashboard.md): the
 * list with its filters, band counts and pages (GET /accounts), and one
 * account with its facts, score components, CTAs and timeline
 * (GET /accounts/{id}), whose risk section dash_model.c draws. */
#include "server/dash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/labels.h"
#include "server/dash_int.h"
#include "server/dash_model.h"
#include "server/dash_users.h"
#include "server/html.h"
#include "util/datetime.h"

/* Appends a signed change with an arrow: red and down when falling. */
static void put_change(struct buf *b, double change) {
    if (isnan(change)) {
        buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span>");
    } else if (fabs(change) < 0.05) {
        buf_puts(b, "<span class=\"change flat\">0.0</span>");
    } else {
        buf_printf(b, "<span class=\"change %s\" title=\"%s %.1f points in 30 days\">%s ",
                   change < 0 ? "down" : "up", change < 0 ? "fell" : "rose", fabs(change),
                   change < 0 ? ARROW_DOWN : ARROW_UP);
        html_number(b, fabs(change), 1);
        buf_puts(b, "</span>");
    }
}

/* ---- accounts ------------------------------------------------------------- */

static const char *const band_names[4] = {"red", "yellow", "green", "none"};

/* The filters of the accounts page, read back from the request. */
struct account_filters {
    char *owner, *segment, *q, *sort, *per_page;
    bool band[4]; /* as band_names */
    bool any;     /* a filter (not the sort) is set */
};

static void filters_read(const struct dash_ctx *ctx, struct account_filters *f) {
    memset(f, 0, sizeof *f);
    f->owner = dash_query_value(ctx, "owner", 0);
    f->segment = dash_query_value(ctx, "segment", 0);
    f->q = dash_query_value(ctx, "q", 0);
    f->sort = dash_query_value(ctx, "sort", 0);
    f->per_page = dash_query_value(ctx, "per_page", 0);
    for (size_t nth = 0; nth < 16; nth++) {
        char *v = dash_query_value(ctx, "band", nth);
        if (!v)
            break;
        /* "red,yellow" as well as band=red&band=yellow */
        for (char *tok = v; tok;) {
            char *comma = strchr(tok, ',');
            if (comma)
                *comma = '\0';
            for (size_t i = 0; i < 4; i++)
                if (!strcmp(tok, band_names[i]))
                    f->band[i] = f->any = true;
            tok = comma ? comma + 1 : NULL;
        }
        free(v);
    }
    if ((f->owner && *f->owner) || (f->segment && *f->segment) || (f->q && *f->q))
        f->any = true;
}

static void filters_free(struct account_filters *f) {
    free(f->owner);
    free(f->segment);
    free(f->q);
    free(f->sort);
    free(f->per_page);
}

/* Appends an <option>; value and label are outside text. */
static void put_option(struct buf *b, const char *value, const char *label, const char *current) {
    buf_puts(b, "<option value=\"");
    html_esc(b, value);
    buf_putc(b, '"');
    if (current && !strcmp(current, value))
        buf_puts(b, " selected");
    buf_putc(b, '>');
    html_esc_cut(b, label, CAP_SHORT);
    buf_puts(b, "</option>");
}

/* Appends a <select> of the strings in list, with "any" first. */
static void put_select_list(struct buf *b, const char *name, const char *label, const char *any,
                            const cJSON *list, const char *current, bool with_none) {
    buf_printf(b, "<label>%s <select name=\"%s\">", label, name);
    put_option(b, "", any, current);
    if (with_none)
        put_option(b, "none", "(none)", current);
    const cJSON *items = cJSON_IsArray(list) ? list : NULL, *item;
    cJSON_ArrayForEach(item, items) {
        if (cJSON_IsString(item) && *item->valuestring)
            put_option(b, item->valuestring, item->valuestring, current);
    }
    buf_puts(b, "</select></label>");
}

static void accounts_filters(struct buf *b, const struct dash_ctx *ctx, const cJSON *view,
                             const struct account_filters *f) {
    static const char *const sorts[][2] = {{"score", "Worst first"},   {"-score", "Best first"},
                                           {"change", "Biggest fall"}, {"mrr", "Highest MRR"},
                                           {"name", "Name"},           {"ctas", "Most open CTAs"}};
    buf_puts(b, "<form class=\"filters\" method=\"get\" action=\"/accounts\" role=\"search\">");
    buf_puts(b, "<label class=\"grow\">Search <input type=\"search\" name=\"q\" "
                "placeholder=\"name or id\" value=\"");
    html_esc(b, f->q);
    buf_puts(b, "\"></label>");
    put_select_list(b, "owner", "Owner", "All owners", get(view, "owners"), f->owner, true);
    put_select_list(b, "segment", "Segment", "All segments", get(view, "segments"), f->segment,
                    false);
    buf_puts(b, "<fieldset class=\"band-pick\"><legend>Band</legend>");
    for (size_t i = 0; i < 4; i++)
        buf_printf(b,
                   "<label class=\"check\"><input type=\"checkbox\" name=\"band\" value=\"%s\"%s>"
                   " %s</label>",
                   band_names[i], f->band[i] ? " checked" : "", i < 3 ? band_names[i] : "none");
    buf_puts(b, "</fieldset><label>Sort <select name=\"sort\">");
    for (size_t i = 0; i < sizeof sorts / sizeof sorts[0]; i++)
        put_option(b, sorts[i][0], sorts[i][1], f->sort ? f->sort : "score");
    buf_puts(b, "</select></label>");
    if (f->per_page) {
        buf_puts(b, "<input type=\"hidden\" name=\"per_page\" value=\"");
        html_esc(b, f->per_page);
        buf_puts(b, "\">");
    }
    buf_puts(b, "<button type=\"submit\">Apply</button>");
    if (f->any || f->sort)
        buf_puts(b, "<a class=\"clear\" href=\"/accounts\">Clear</a>");
    buf_puts(b, "</form>\n");
}

/* Appends the band counts, each a link filtering on that band. */
static void accounts_bands(struct buf *b, const struct dash_ctx *ctx, const cJSON *bands) {
    static const char *const drop[] = {"band", "page", NULL};
    buf_puts(b, "<ul class=\"bands\">");
    for (size_t i = 0; i < 4; i++) {
        long long n = get_int(bands, band_names[i]);
        char extra[32];
        snprintf(extra, sizeof extra, "band=%s", band_names[i]);
        buf_printf(b, "<li><a class=\"band-count %s\" href=\"", band_names[i]);
        dash_put_href_query(b, "/accounts", ctx, drop, extra);
        buf_printf(b, "\"><span class=\"n\">%lld</span> %s</a></li>", n < 0 ? 0 : n,
                   i < 3 ? band_names[i] : "no score");
    }
    buf_puts(b, "</ul>\n");
}

static void accounts_row(struct buf *b, const cJSON *a, long long rank, const char *currency) {
    const char *id = get_str(a, "id");
    const char *band = get_str(a, "band");
    double score = get_num(a, "score");
    buf_printf(b, "<tr><td class=\"num rank\">%lld</td><td class=\"name\">", rank);
    dash_put_account_link(b, id, get_str(a, "name"));
    const char *segment = get_str(a, "segment");
    if ((get_str(a, "name") && id) || segment) {
        buf_puts(b, "<span class=\"sub\">");
        if (get_str(a, "name"))
            html_esc_cut(b, id, CAP_SHORT);
        if (get_str(a, "name") && id && segment)
            buf_puts(b, MIDDOT);
        html_esc_cut(b, segment, CAP_SHORT);
        buf_puts(b, "</span>");
    }
    buf_puts(b, "</td><td class=\"trend\">");
    html_sparkline(b, get(a, "trend"), band);
    buf_puts(b, "</td><td class=\"num score\">");
    if (isnan(score))
        buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span> ");
    else
        buf_printf(b, "<strong>%.1f</strong> ", score);
    dash_put_band_pill(b, band);
    buf_puts(b, "</td><td class=\"num\">");
    put_change(b, get_num(a, "change_30d"));
    buf_puts(b, "</td><td class=\"num\">");
    const cJSON *mrr = get(a, "mrr");
    if (cJSON_IsNumber(mrr)) {
        char money[64];
        labels_money(mrr->valuedouble, currency, money, sizeof money);
        html_esc(b, money);
    } else {
        buf_puts(b, "<span class=\"muted\">" HTML_DASH "</span>");
    }
    buf_puts(b, "</td><td class=\"owner\">");
    const char *owner = get_str(a, "owner");
    if (owner && *owner)
        html_esc_cut(b, owner, CAP_SHORT);
    else
        buf_puts(b, "<span class=\"muted\">unassigned</span>");
    buf_puts(b, "</td><td class=\"num\">");
    long long open = get_int(a, "open_ctas");
    if (open > 0 && id) {
        buf_puts(b, "<a class=\"count\" href=\"/ctas?owner=all&amp;account=");
        html_url_part(b, id);
        buf_printf(b, "\">%lld</a>", open);
    } else {
        buf_printf(b, "<span class=\"muted\">%lld</span>", open < 0 ? 0 : open);
    }
    buf_puts(b, "</td></tr>\n");
}

void dash_put_pages(struct buf *b, const struct dash_ctx *ctx, const char *base, long long total,
                    long long page, long long per_page, long long shown) {
    static const char *const drop[] = {"page", NULL};
    long long pages = per_page > 0 ? (total + per_page - 1) / per_page : 1;
    long long from = (page - 1) * per_page + 1;
    buf_puts(b, "<nav class=\"pages\" aria-label=\"Pages\">");
    char extra[40];
    if (page > 1) {
        snprintf(extra, sizeof extra, "page=%lld", page - 1);
        buf_puts(b, "<a rel=\"prev\" href=\"");
        dash_put_href_query(b, base, ctx, drop, extra);
        buf_puts(b, "\">\xe2\x86\x90 Previous</a>");
    }
    buf_printf(b, "<span class=\"range\">%lld\xe2\x80\x93%lld of %lld", shown ? from : 0,
               shown ? from + shown - 1 : 0, total);
    if (pages > 1)
        buf_printf(b, MIDDOT "page %lld of %lld", page, pages);
    buf_puts(b, "</span>");
    if (page < pages) {
        snprintf(extra, sizeof extra, "page=%lld", page + 1);
        buf_puts(b, "<a rel=\"next\" href=\"");
        dash_put_href_query(b, base, ctx, drop, extra);
        buf_puts(b, "\">Next \xe2\x86\x92</a>");
    }
    buf_puts(b, "</nav>\n");
}

void dash_accounts(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    struct account_filters f;
    filters_read(ctx, &f);
    dash_page_open(out, ctx, "Accounts", NAV_ACCOUNTS);
    const char *date = get_str(view, "date");
    long long total = get_int(view, "total");
    buf_puts(out, "<div class=\"head\"><h1>Accounts</h1>");
    if (date) {
        buf_puts(out, "<p class=\"sub\">Health as of ");
        html_date(out, date);
        buf_puts(out, ", worst first</p>");
    }
    buf_puts(out, "</div>\n");
    if (!date) {
        dash_put_empty(out, "No scores yet",
                       "tend has not evaluated any account yet. Scores, trends and CTAs appear "
                       "after the first evaluation: the daily run (<code>serve.daily_at</code>), "
                       "or <code>tend eval</code> to replay the history you imported.");
        dash_page_close(out, ctx);
        filters_free(&f);
        return;
    }
    dash_portfolio(out, ctx, view);
    accounts_bands(out, ctx, get(view, "bands"));
    accounts_filters(out, ctx, view, &f);

    const cJSON *accounts = get(view, "accounts");
    int shown = cJSON_IsArray(accounts) ? cJSON_GetArraySize(accounts) : 0;
    if (shown == 0) {
        if (f.any)
            dash_put_empty(out, "No account matches",
                           "Nothing matches these filters. <a href=\"/accounts\">Show every "
                           "account</a>.");
        else
            dash_put_empty(out, "No accounts yet",
                           "Accounts appear once tend receives Segment <code>group</code> calls "
                           "(or <code>tend import</code>) and evaluates them.");
        dash_page_close(out, ctx);
        filters_free(&f);
        return;
    }
    long long page = get_int(view, "page"), per_page = get_int(view, "per_page");
    if (page < 1)
        page = 1;
    if (per_page < 1)
        per_page = shown;
    if (total < shown)
        total = shown;
    buf_puts(out, "<div class=\"table-wrap\"><table class=\"grid accounts\"><thead><tr>"
                  "<th class=\"num\">#</th><th>Account</th><th>90 days</th>"
                  "<th class=\"num\">Score</th><th class=\"num\">30-day change</th>"
                  "<th class=\"num\">MRR</th><th>Owner</th><th class=\"num\">Open CTAs</th>"
                  "</tr></thead>\n<tbody>\n");
    long long rank = (page - 1) * per_page + 1;
    const cJSON *a;
    cJSON_ArrayForEach(a, accounts) {
        accounts_row(out, a, rank++, ctx ? ctx->currency : NULL);
    }
    buf_puts(out, "</tbody></table></div>\n<div class=\"under-table\">");
    dash_put_pages(out, ctx, "/accounts", total, page, per_page, shown);
    dash_put_csv_link(out, ctx, "/accounts");
    buf_puts(out, "</div>\n");
    dash_page_close(out, ctx);
    filters_free(&f);
}

/* ---- one account ---------------------------------------------------------- */

static void account_facts(struct buf *b, const struct dash_ctx *ctx, const cJSON *v) {
    buf_puts(b, "<dl class=\"facts\"><div><dt>Owner</dt><dd>");
    const char *owner = get_str(v, "owner");
    if (owner && *owner)
        html_esc_cut(b, owner, CAP_SHORT);
    else
        buf_puts(b, "<span class=\"muted\">unassigned</span>");
    buf_puts(b, "</dd></div><div><dt>MRR</dt><dd>");
    html_json_number(b, get(v, "mrr"), 2);
    buf_puts(b, "</dd></div><div><dt>Renewal</dt><dd>");
    html_date(b, get_str(v, "renewal_date"));
    buf_puts(b, "</dd></div><div><dt>Seats</dt><dd>");
    html_json_number(b, get(v, "seats"), 0);
    buf_puts(b, "</dd></div><div><dt>Users</dt><dd>");
    html_json_number(b, get(v, "users"), 0);
    buf_puts(b, "</dd></div><div><dt>First seen</dt><dd>");
    html_time(b, get_str(v, "first_seen"), ctx ? ctx->tz : NULL);
    buf_puts(b, "</dd></div></dl>\n");
}

static void account_components(struct buf *b, const cJSON *score, const cJSON *weights) {
    const cJSON *components = get(score, "components");
    buf_puts(b, "<section class=\"card\"><h2>Components</h2><table class=\"components\">"
                "<thead><tr><th>Component</th><th class=\"num\">Weight</th><th>Score</th>"
                "<th class=\"num\"></th></tr></thead><tbody>");
    for (size_t i = 0; i < 5; i++) {
        const char *name = html_components[i];
        double value = get_num(components, name), weight = get_num(weights, name);
        buf_printf(b, "<tr><th scope=\"row\">%s</th><td class=\"num muted\">", name);
        if (isnan(weight))
            buf_puts(b, HTML_DASH);
        else
            buf_printf(b, "%.0f%%", weight * 100);
        buf_puts(b, "</td><td>");
        html_bar(b, value, 100, isnan(value) ? "none" : html_band_of(value));
        buf_puts(b, "</td><td class=\"num\">");
        if (isnan(value))
            buf_puts(b, "<span class=\"muted\" title=\"no data\">" HTML_DASH "</span>");
        else
            buf_printf(b, "%.1f", value);
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</tbody></table></section>\n");
}

static void account_ctas(struct buf *b, const cJSON *ctas) {
    buf_puts(b, "<section class=\"card\"><h2>CTAs</h2>");
    if (!cJSON_IsArray(ctas) || cJSON_GetArraySize(ctas) == 0) {
        buf_puts(b, "<p class=\"muted\">No CTAs for this account.</p></section>\n");
        return;
    }
    buf_puts(b, "<div class=\"table-wrap\"><table class=\"grid\"><thead><tr><th>Priority</th>"
                "<th>CTA</th><th>Status</th><th>Owner</th><th>Due</th></tr></thead><tbody>");
    const cJSON *c;
    cJSON_ArrayForEach(c, ctas) {
        long long id = get_int(c, "id");
        const char *priority = get_str(c, "priority");
        bool overdue = cJSON_IsTrue(get(c, "overdue"));
        buf_printf(b, "<tr id=\"cta-%lld\"><td><span class=\"prio ", id);
        dash_put_class_word(b, priority);
        buf_puts(b, "\">");
        html_esc_cut(b, priority ? priority : "?", CAP_SHORT);
        buf_printf(b, "</span></td><td><a href=\"/ctas/%lld\">", id);
        const char *title = get_str(c, "title");
        html_esc_cut(b, title && *title ? title : get_str(c, "rule"), CAP_NAME);
        buf_puts(b, "</a></td><td>");
        dash_cta_status(b, c);
        buf_puts(b, "</td><td>");
        const char *owner = get_str(c, "owner");
        if (owner && *owner)
            html_esc_cut(b, owner, CAP_SHORT);
        else
            buf_puts(b, "<span class=\"muted\">unassigned</span>");
        buf_printf(b, "</td><td class=\"due%s\">", overdue ? " overdue" : "");
        html_date(b, get_str(c, "due_date"));
        if (overdue)
            buf_puts(b, " <strong>overdue</strong>");
        buf_puts(b, "</td></tr>\n");
    }
    buf_puts(b, "</tbody></table></div></section>\n");
}

static void account_timeline(struct buf *b, const struct dash_ctx *ctx, const cJSON *timeline) {
    buf_puts(b, "<section class=\"card\"><h2>Timeline</h2>");
    if (!cJSON_IsArray(timeline) || cJSON_GetArraySize(timeline) == 0) {
        buf_puts(b, "<p class=\"muted\">Nothing has happened yet.</p></section>\n");
        return;
    }
    buf_puts(b, "<ol class=\"timeline\">");
    const cJSON *t;
    cJSON_ArrayForEach(t, timeline) {
        const char *kind = get_str(t, "kind");
        buf_puts(b, "<li class=\"kind-");
        dash_put_class_word(b, kind);
        buf_puts(b, "\"><span class=\"when\">");
        html_time(b, get_str(t, "at"), ctx ? ctx->tz : NULL);
        buf_puts(b, "</span><span class=\"what\">");
        long long cta = get_int(t, "cta");
        if (kind && !strcmp(kind, "cta") && cta >= 0)
            buf_printf(b, "<a href=\"/ctas/%lld\">CTA %lld</a> ", cta, cta);
        html_esc_cut(b, get_str(t, "what"), CAP_SHORT);
        buf_puts(b, "</span>");
        const char *user = get_str(t, "user");
        if (user && *user) {
            buf_puts(b, "<span class=\"by\">");
            html_esc_cut(b, user, CAP_SHORT);
            buf_puts(b, "</span>");
        }
        const char *detail = get_str(t, "detail");
        if (detail && *detail) {
            buf_puts(b, "<span class=\"detail\">");
            html_esc_cut(b, detail, CAP_REASON);
            buf_puts(b, "</span>");
        }
        buf_puts(b, "</li>\n");
    }
    buf_puts(b, "</ol></section>\n");
}

void dash_account(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    const char *id = get_str(view, "id");
    const char *name = get_str(view, "name");
    const char *shown = name && *name ? name : id ? id : "Account";
    const cJSON *score = get(view, "score");
    const char *band = get_str(score, "band");
    double overall = get_num(score, "overall");
    dash_page_open(out, ctx, shown, NAV_ACCOUNTS);
    buf_puts(out, "<p class=\"crumbs\"><a href=\"/accounts\">Accounts</a> / ");
    html_esc_cut(out, id, CAP_NAME);
    buf_puts(out, "</p>\n<div class=\"account-head\"><div><h1>");
    html_esc_cut(out, shown, CAP_NAME);
    buf_puts(out, "</h1> ");
    dash_put_band_pill(out, band);
    if (cJSON_IsTrue(get(view, "churned")))
        buf_puts(out, " <span class=\"pill churned\">churned</span>");
    buf_puts(out, "<p class=\"sub\">");
    bool sep = false;
    static const char *const subs[] = {"id", "segment", "plan"};
    for (size_t i = 0; i < 3; i++) {
        const char *s = get_str(view, subs[i]);
        if (!s || !*s || (i == 0 && !(name && *name)))
            continue;
        if (sep)
            buf_puts(out, MIDDOT);
        html_esc_cut(out, s, CAP_SHORT);
        sep = true;
    }
    buf_puts(out, "</p></div><div class=\"bigscore ");
    buf_puts(out, html_band_class(band));
    buf_puts(out, "\"><span class=\"n\">");
    if (isnan(overall))
        buf_puts(out, HTML_DASH);
    else
        buf_printf(out, "%.1f", overall);
    buf_puts(out, "</span><span class=\"l\">health score");
    if (get_str(score, "date")) {
        buf_puts(out, " on ");
        html_date(out, get_str(score, "date"));
    }
    buf_puts(out, "</span></div></div>\n");
    account_facts(out, ctx, view);
    dash_account_risk(out, get(view, "risk")); /* dash_model.c */

    const cJSON *history = get(view, "history");
    int32_t first_day, last_day;
    int entries = cJSON_IsArray(history) ? cJSON_GetArraySize(history) : 0;
    const char *from = entries ? get_str(cJSON_GetArrayItem(history, 0), "date") : NULL;
    const char *to = entries ? get_str(cJSON_GetArrayItem(history, entries - 1), "date") : NULL;
    buf_puts(out, "<div class=\"cols wide-left\"><section class=\"card\"><h2>Health");
    if (from && to && dt_parse_date(from, strlen(from), &first_day) &&
        dt_parse_date(to, strlen(to), &last_day) && last_day > first_day)
        buf_printf(out, ", last %d days", (int)(last_day - first_day + 1));
    buf_puts(out, "</h2>");
    html_chart(out, history, true);
    buf_puts(out, "</section>\n");
    account_components(out, score, get(view, "weights"));
    buf_puts(out, "</div>\n");
    account_ctas(out, get(view, "ctas"));
    dash_account_users(out, get(view, "user_engagement")); /* dash_users.c */
    buf_puts(out, "<div class=\"cols\"><section class=\"card\"><h2>Metrics</h2>");
    dash_put_kv_table(out, ctx, get(view, "metrics"), "No metrics yet.");
    buf_puts(out, "</section><section class=\"card\"><h2>Traits</h2>");
    dash_put_kv_table(out, ctx, get(view, "traits"), "No traits.");
    buf_puts(out, "</section></div>\n");
    dash_account_customer(out, ctx, view);                   /* dash_customer.c */
    dash_notes_section(out, ctx, get(view, "notes"), id, 0); /* dash_notes.c */
    account_timeline(out, ctx, get(view, "timeline"));
    dash_page_close(out, ctx);
}
