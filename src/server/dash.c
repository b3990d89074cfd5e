/* dash.c: the dashboard's pages (see dash.h and docs/dashboard.md).
 *
 * What it is not: no routing, no sessions, no store access; the server reads
 * the view (the REST API's JSON) and the request's context and hands both here.
 *
 * The design: each page is a pure function of (view, context) that reads the
 * view defensively (any member may be missing, null or of the wrong type, and
 * is then shown as "—" or left out) and writes every piece of outside text
 * through html.h's escaper or URL encoder, never raw. The pages are plain
 * HTML5 with one stylesheet and inline SVG: no JavaScript and no style=""
 * attributes, as the Content-Security-Policy allows neither. Filters are GET
 * forms and links; the cockpit's actions are small POST forms carrying the
 * session's CSRF token and the page to come back to.
 *
 * The views do not echo the request's filters, so the current filters (to
 * preselect the controls and keep them in pagination links) are read back from
 * ctx->path's query. Text is cut for display (a name at 120 characters, a
 * reason at 600) so a hostile 30 KB trait cannot stretch a table. */
#include "server/dash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/dash_int.h"
#include "server/dash_model.h"
#include "server/html.h"
#include "util/datetime.h"

#define CAP_NAME   120 /* an account name or id, a title */
#define CAP_SHORT  80  /* an owner, a rule, a segment, a status */
#define CAP_REASON 600 /* a reason, a detail, a note, an error */
#define MAX_KV     200 /* traits or evidence rows shown */

#define ARROW_DOWN "\xe2\x96\xbc" /* ▼ */
#define ARROW_UP   "\xe2\x96\xb2" /* ▲ */
#define MIDDOT     " \xc2\xb7 "   /* · */

/* ---- reading the view ----------------------------------------------------- */

static const cJSON *get(const cJSON *o, const char *key) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* The string member key of o, or NULL. */
static const char *get_str(const cJSON *o, const char *key) {
    const cJSON *v = get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number member key of o, or NAN. */
static double get_num(const cJSON *o, const char *key) {
    const cJSON *v = get(o, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

/* The integral member key of o (an id or a count), or -1. */
static long long get_int(const cJSON *o, const char *key) {
    double v = get_num(o, key);
    return isnan(v) || v < 0 || v > 9e15 ? -1 : (long long)v;
}

/* The nth value of key in the request's query, as a malloced string (free()),
 * or NULL. */
static char *query_value(const struct dash_ctx *ctx, const char *key, size_t nth) {
    struct buf v;
    buf_init(&v, 0);
    if (!ctx || !html_query_get(ctx->path, key, nth, &v)) {
        buf_free(&v);
        return NULL;
    }
    return buf_steal(&v);
}

/* ---- small pieces --------------------------------------------------------- */

/* Appends word if it is a short [a-z0-9_-] word (safe as a class), else "other". */
static void put_class_word(struct buf *b, const char *word) {
    size_t n = word ? strlen(word) : 0;
    bool ok = n > 0 && n <= 24 && strspn(word, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
    buf_puts(b, ok ? word : "other");
}

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

/* Appends a pill naming band. */
static void put_band_pill(struct buf *b, const char *band) {
    const char *cls = html_band_class(band);
    buf_printf(b, "<span class=\"pill %s\">%s</span>", cls, strcmp(cls, "none") ? cls : "no score");
}

/* Appends "/accounts/ID" (ID percent-encoded). */
static void put_account_href(struct buf *b, const char *id) {
    buf_puts(b, "/accounts/");
    html_url_part(b, id);
}

/* Appends a link to the account: its name, or its id when it has none. */
static void put_account_link(struct buf *b, const char *id, const char *name) {
    if (!id) {
        buf_puts(b, HTML_DASH);
        return;
    }
    buf_puts(b, "<a href=\"");
    put_account_href(b, id);
    buf_puts(b, "\">");
    html_esc_cut(b, name && *name ? name : id, CAP_NAME);
    buf_puts(b, "</a>");
}

/* Appends an href value: base, then ctx->path's query without drop and with
 * extra (already encoded, "k=v"; NULL: none). */
static void put_href_query(struct buf *b, const char *base, const struct dash_ctx *ctx,
                           const char *const *drop, const char *extra) {
    struct buf kept;
    buf_init(&kept, 0);
    html_query_keep(&kept, ctx ? ctx->path : NULL, drop);
    buf_puts(b, base);
    if (kept.len || extra)
        buf_putc(b, '?');
    buf_puts(b, buf_str(&kept));
    if (kept.len && extra)
        buf_puts(b, "&amp;");
    if (extra)
        buf_puts(b, extra);
    buf_free(&kept);
}

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

static void put_csrf(struct buf *b, const struct dash_ctx *ctx) {
    buf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
    html_esc(b, ctx ? ctx->csrf : NULL);
    buf_puts(b, "\">");
}

/* ---- the frame of every page ---------------------------------------------- */

static void nav_link(struct buf *b, const char *href, const char *label, bool current) {
    buf_printf(b, "<a href=\"%s\"%s>%s</a>", href, current ? " aria-current=\"page\"" : "", label);
}

/* Appends the document's head, the top navigation (when ctx is set) and the
 * flash notice, up to the open <main>. title is outside text. */
static void page_open(struct buf *b, const struct dash_ctx *ctx, const char *title,
                      enum dash_nav at) {
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<title>");
    html_esc_cut(b, title, CAP_NAME);
    buf_puts(b, " \xc2\xb7 tend</title>\n<link rel=\"stylesheet\" href=\"/static/tend.css\">\n"
                "</head>\n<body>\n");
    if (ctx) {
        buf_puts(b, "<header class=\"top\"><nav class=\"nav\" aria-label=\"Main\">"
                    "<a class=\"brand\" href=\"/accounts\">tend</a>");
        nav_link(b, "/accounts", "Accounts", at == NAV_ACCOUNTS);
        nav_link(b, "/risk", "Risk", at == NAV_RISK);
        nav_link(b, "/ctas", "My CTAs", at == NAV_CTAS);
        nav_link(b, "/rules", "Rules", at == NAV_RULES);
        nav_link(b, "/model", "Model", at == NAV_MODEL);
        nav_link(b, "/delivery", "Delivery", at == NAV_DELIVERY);
        nav_link(b, "/reports", "Reports", at == NAV_REPORTS);
        buf_puts(b, "<span class=\"spacer\"></span><span class=\"who\"");
        if (ctx->user && *ctx->user) {
            buf_puts(b, " title=\"");
            html_esc(b, ctx->user);
            buf_putc(b, '"');
        }
        buf_putc(b, '>');
        const char *who = ctx->user_name && *ctx->user_name ? ctx->user_name : ctx->user;
        html_esc_cut(b, who && *who ? who : "API token", CAP_SHORT);
        buf_puts(b, "</span><form class=\"signout\" method=\"post\" action=\"/logout\">");
        put_csrf(b, ctx);
        buf_puts(b, "<button type=\"submit\" class=\"link\" title=\"Ends your sessions in every "
                    "browser and device\">Sign out</button></form>"
                    "</nav></header>\n");
    }
    buf_puts(b, "<main>\n");
    if (ctx && ctx->flash && *ctx->flash) {
        buf_puts(b, ctx->flash_error ? "<p class=\"flash error\" role=\"alert\">"
                                     : "<p class=\"flash\" role=\"status\">");
        html_esc_cut(b, ctx->flash, CAP_REASON);
        buf_puts(b, "</p>\n");
    }
}

static void page_close(struct buf *b, const struct dash_ctx *ctx) {
    buf_puts(b, "</main>\n");
    if (ctx) {
        buf_puts(b, "<footer class=\"foot\">Times in ");
        html_esc_cut(b, ctx->tz && *ctx->tz ? ctx->tz : "UTC", CAP_SHORT);
        buf_puts(b, "; dates are UTC days.</footer>\n");
    }
    buf_puts(b, "</body>\n</html>\n");
}

/* Appends an empty state: a title and a sentence (both trusted markup). */
static void put_empty(struct buf *b, const char *title, const char *html) {
    buf_printf(b, "<div class=\"empty\"><h2>%s</h2><p>%s</p></div>\n", title, html);
}

void dash_page_open(struct buf *b, const struct dash_ctx *ctx, const char *title,
                    enum dash_nav at) {
    page_open(b, ctx, title, at);
}

void dash_page_close(struct buf *b, const struct dash_ctx *ctx) {
    page_close(b, ctx);
}

void dash_put_empty(struct buf *b, const char *title, const char *html) {
    put_empty(b, title, html);
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
    f->owner = query_value(ctx, "owner", 0);
    f->segment = query_value(ctx, "segment", 0);
    f->q = query_value(ctx, "q", 0);
    f->sort = query_value(ctx, "sort", 0);
    f->per_page = query_value(ctx, "per_page", 0);
    for (size_t nth = 0; nth < 16; nth++) {
        char *v = query_value(ctx, "band", nth);
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
        put_href_query(b, "/accounts", ctx, drop, extra);
        buf_printf(b, "\"><span class=\"n\">%lld</span> %s</a></li>", n < 0 ? 0 : n,
                   i < 3 ? band_names[i] : "no score");
    }
    buf_puts(b, "</ul>\n");
}

static void accounts_row(struct buf *b, const cJSON *a, long long rank) {
    const char *id = get_str(a, "id");
    const char *band = get_str(a, "band");
    double score = get_num(a, "score");
    buf_printf(b, "<tr><td class=\"num rank\">%lld</td><td class=\"name\">", rank);
    put_account_link(b, id, get_str(a, "name"));
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
    put_band_pill(b, band);
    buf_puts(b, "</td><td class=\"num\">");
    put_change(b, get_num(a, "change_30d"));
    buf_puts(b, "</td><td class=\"num\">");
    html_json_number(b, get(a, "mrr"), 2);
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

/* Appends "Previous / page N of M / Next" keeping the filters. */
static void accounts_pages(struct buf *b, const struct dash_ctx *ctx, long long total,
                           long long page, long long per_page, long long shown) {
    static const char *const drop[] = {"page", NULL};
    long long pages = (total + per_page - 1) / per_page;
    long long from = (page - 1) * per_page + 1;
    buf_puts(b, "<nav class=\"pages\" aria-label=\"Pages\">");
    char extra[40];
    if (page > 1) {
        snprintf(extra, sizeof extra, "page=%lld", page - 1);
        buf_puts(b, "<a rel=\"prev\" href=\"");
        put_href_query(b, "/accounts", ctx, drop, extra);
        buf_puts(b, "\">\xe2\x86\x90 Previous</a>");
    }
    buf_printf(b, "<span>%lld\xe2\x80\x93%lld of %lld", shown ? from : 0, from + shown - 1, total);
    if (pages > 1)
        buf_printf(b, MIDDOT "page %lld of %lld", page, pages);
    buf_puts(b, "</span>");
    if (page < pages) {
        snprintf(extra, sizeof extra, "page=%lld", page + 1);
        buf_puts(b, "<a rel=\"next\" href=\"");
        put_href_query(b, "/accounts", ctx, drop, extra);
        buf_puts(b, "\">Next \xe2\x86\x92</a>");
    }
    buf_puts(b, "</nav>\n");
}

void dash_accounts(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    struct account_filters f;
    filters_read(ctx, &f);
    page_open(out, ctx, "Accounts", NAV_ACCOUNTS);
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
        put_empty(out, "No scores yet",
                  "tend has not evaluated any account yet. Scores, trends and CTAs appear "
                  "after the first evaluation: the daily run (<code>serve.daily_at</code>), "
                  "or <code>tend eval</code> to replay the history you imported.");
        page_close(out, ctx);
        filters_free(&f);
        return;
    }
    accounts_bands(out, ctx, get(view, "bands"));
    accounts_filters(out, ctx, view, &f);

    const cJSON *accounts = get(view, "accounts");
    int shown = cJSON_IsArray(accounts) ? cJSON_GetArraySize(accounts) : 0;
    if (shown == 0) {
        if (f.any)
            put_empty(out, "No account matches",
                      "Nothing matches these filters. <a href=\"/accounts\">Show every "
                      "account</a>.");
        else
            put_empty(out, "No accounts yet",
                      "Accounts appear once tend receives Segment <code>group</code> calls "
                      "(or <code>tend import</code>) and evaluates them.");
        page_close(out, ctx);
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
        accounts_row(out, a, rank++);
    }
    buf_puts(out, "</tbody></table></div>\n");
    accounts_pages(out, ctx, total, page, per_page, shown);
    page_close(out, ctx);
    filters_free(&f);
}

/* ---- CTAs ----------------------------------------------------------------- */

/* Appends the action forms of a live CTA, each posting back to ctx->path. */
static void cta_forms(struct buf *b, const struct dash_ctx *ctx, long long id, const char *owner) {
    static const char *const actions[] = {"snooze", "close", "assign"};
    buf_puts(b, "<div class=\"actions\">");
    for (size_t i = 0; i < 3; i++) {
        buf_printf(b, "<form class=\"act %s\" method=\"post\" action=\"/ctas/%lld/%s\">",
                   actions[i], id, actions[i]);
        put_csrf(b, ctx);
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
static void cta_status(struct buf *b, const cJSON *c) {
    const char *status = get_str(c, "status");
    buf_puts(b, "<span class=\"status ");
    put_class_word(b, status);
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
    put_class_word(b, priority);
    buf_printf(b, "%s\" id=\"cta-%lld\"><div class=\"cta-top\"><span class=\"prio ",
               overdue ? " overdue" : "", id);
    put_class_word(b, priority);
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
    cta_status(b, c);
    buf_puts(b, "</div>\n<p class=\"cta-meta\">");
    put_account_link(b, get_str(c, "account_id"), get_str(c, "account_name"));
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
    put_href_query(b, "/ctas", ctx, drop_owner, NULL);
    buf_printf(b, "\"%s>Mine</a><a href=\"", mine ? " aria-current=\"page\"" : "");
    put_href_query(b, "/ctas", ctx, drop_owner, "owner=all");
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
        put_href_query(b, "/ctas", ctx, drop_status, i == 0 ? NULL : extra);
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
        put_empty(out, "Nothing held back", "The budget held back no CTA here.");
        return;
    }
    buf_puts(out, "<div class=\"ctas\">\n");
    const cJSON *h;
    cJSON_ArrayForEach(h, held) {
        buf_puts(out, "<article class=\"cta held\"><div class=\"cta-top\"><span class=\"prio ");
        put_class_word(out, get_str(h, "priority"));
        buf_puts(out, "\">");
        html_esc_cut(out, get_str(h, "priority") ? get_str(h, "priority") : "?", CAP_SHORT);
        buf_puts(out, "</span><h2>");
        html_esc_cut(out, get_str(h, "title") ? get_str(h, "title") : "", CAP_NAME * 2);
        buf_puts(out, "</h2></div>\n<p class=\"cta-meta\">");
        put_account_link(out, get_str(h, "account_id"), get_str(h, "account_name"));
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

void dash_ctas(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    char *owner = query_value(ctx, "owner", 0);
    char *status = query_value(ctx, "status", 0);
    char *account = query_value(ctx, "account", 0);
    char *rule = query_value(ctx, "rule", 0);
    bool mine = !owner || !*owner || !strcmp(owner, "me");
    bool all = owner && !strcmp(owner, "all");
    page_open(out, ctx, mine ? "My CTAs" : "CTAs", NAV_CTAS);
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
        put_account_link(out, account, NULL);
    }
    if (rule && *rule) {
        buf_puts(out, " from rule ");
        html_esc_cut(out, rule, CAP_SHORT);
    }
    buf_puts(out, ", most urgent first (priority, then value)");
    if (total > shown)
        buf_printf(out, "; showing the first %lld", shown);
    long long held = get_int(view, "held_this_week");
    if (held > 0) {
        static const char *const drop_status[] = {"status", NULL};
        buf_puts(out, ". <a class=\"held-count\" href=\"");
        char extra[48];
        snprintf(extra, sizeof extra, "status=held&amp;week=%.10s",
                 get_str(view, "week") ? get_str(view, "week") : "all");
        put_href_query(out, "/ctas", ctx, drop_status, extra);
        buf_printf(out, "\">%lld held back by the budget this week</a>", held);
    }
    buf_puts(out, "</p></div>\n");
    ctas_tabs(out, ctx, owner, status);
    if (shown == 0) {
        if (mine)
            put_empty(out, "Nothing to do",
                      "No CTAs here are assigned to you. <a href=\"/ctas?owner=all\">See "
                      "everyone&#39;s CTAs</a>.");
        else
            put_empty(out, "No CTAs", "No CTA matches these filters.");
    } else {
        buf_puts(out, "<div class=\"ctas\">\n");
        const cJSON *c;
        cJSON_ArrayForEach(c, ctas) {
            cta_card(out, ctx, c, true, true);
        }
        buf_puts(out, "</div>\n");
    }
done:
    page_close(out, ctx);
    free(owner);
    free(status);
    free(account);
    free(rule);
}

/* Appends a two-column table of an object's members (traits, evidence, metrics). */
static void put_kv_table(struct buf *b, const cJSON *obj, const char *empty) {
    int n = cJSON_IsObject(obj) ? cJSON_GetArraySize(obj) : 0;
    if (n == 0) {
        buf_printf(b, "<p class=\"muted\">%s</p>", empty);
        return;
    }
    buf_puts(b, "<table class=\"kv\"><tbody>");
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) {
        if (i++ == MAX_KV)
            break;
        buf_puts(b, "<tr><th scope=\"row\">");
        html_esc_cut(b, v->string, CAP_SHORT);
        buf_puts(b, "</th><td>");
        html_json_value(b, v);
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</tbody></table>");
    if (n > MAX_KV)
        buf_printf(b, "<p class=\"muted\">and %d more</p>", n - MAX_KV);
}

void dash_cta(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    long long id = get_int(view, "id");
    char title[48];
    snprintf(title, sizeof title, "CTA %lld", id);
    page_open(out, ctx, title, NAV_CTAS);
    buf_printf(out, "<p class=\"crumbs\"><a href=\"/ctas\">My CTAs</a> / CTA %lld</p>\n", id);
    cta_card(out, ctx, view, false, true);
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
    put_kv_table(out, get(view, "evidence"), "No evidence recorded.");
    buf_puts(out, "</section></div>\n<section class=\"card\"><h2>History</h2>");
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
    page_close(out, ctx);
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
        put_class_word(b, priority);
        buf_puts(b, "\">");
        html_esc_cut(b, priority ? priority : "?", CAP_SHORT);
        buf_printf(b, "</span></td><td><a href=\"/ctas/%lld\">", id);
        const char *title = get_str(c, "title");
        html_esc_cut(b, title && *title ? title : get_str(c, "rule"), CAP_NAME);
        buf_puts(b, "</a></td><td>");
        cta_status(b, c);
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
        put_class_word(b, kind);
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
    page_open(out, ctx, shown, NAV_ACCOUNTS);
    buf_puts(out, "<p class=\"crumbs\"><a href=\"/accounts\">Accounts</a> / ");
    html_esc_cut(out, id, CAP_NAME);
    buf_puts(out, "</p>\n<div class=\"account-head\"><div><h1>");
    html_esc_cut(out, shown, CAP_NAME);
    buf_puts(out, "</h1> ");
    put_band_pill(out, band);
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
    buf_puts(out, "<div class=\"cols\"><section class=\"card\"><h2>Metrics</h2>");
    put_kv_table(out, get(view, "metrics"), "No metrics yet.");
    buf_puts(out, "</section><section class=\"card\"><h2>Traits</h2>");
    put_kv_table(out, get(view, "traits"), "No traits.");
    buf_puts(out, "</section></div>\n");
    account_timeline(out, ctx, get(view, "timeline"));
    page_close(out, ctx);
}

/* ---- rules and delivery --------------------------------------------------- */

/* A rule's settings and its quality from the latest backtest (docs/rules.md,
 * "Quality"): the columns of `tend rules`, noisy marked. */
static void rule_quality_cells(struct buf *out, const cJSON *r) {
    static const char *const settings[] = {"priority", "thresholds", "scope"};
    for (size_t i = 0; i < 3; i++) {
        buf_puts(out, "</td><td>");
        html_esc_cut(out, get_str(r, settings[i]), CAP_SHORT);
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
    page_open(out, ctx, "Rules", NAV_RULES);
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
        put_empty(out, "No rules", "No rule is configured.");
        page_close(out, ctx);
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
    page_close(out, ctx);
}

void dash_delivery(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    static const char *const statuses[] = {"pending", "sending", "sent",
                                           "dead",    "held",    "digested"};
    page_open(out, ctx, "Delivery", NAV_DELIVERY);
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
        put_empty(out, "Nothing sent yet",
                  "No message is in the outbox. Messages are queued when a CTA opens, "
                  "changes or is due, for the channels configured under "
                  "<code>delivery</code> in tend.yaml.");
        page_close(out, ctx);
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
        put_class_word(out, status);
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
    page_close(out, ctx);
}

/* ---- reports -------------------------------------------------------------- */

/* Appends the kind of a report as a tag: analyze, backtest or other. */
static void put_report_kind(struct buf *b, const char *kind) {
    buf_puts(b, "<span class=\"tag kind-");
    put_class_word(b, kind);
    buf_puts(b, "\">");
    html_esc_cut(b, kind && *kind ? kind : "report", CAP_SHORT);
    buf_puts(b, "</span>");
}

void dash_reports(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    page_open(out, ctx, "Reports", NAV_REPORTS);
    buf_puts(out, "<div class=\"head\"><h1>Reports</h1><p class=\"sub\">What "
                  "<code>tend analyze</code> and <code>tend backtest</code> found, newest "
                  "first (the latest 100 are kept).</p></div>\n");
    const cJSON *rows = get(view, "reports");
    if (!cJSON_IsArray(rows) || cJSON_GetArraySize(rows) == 0) {
        put_empty(out, "No reports yet",
                  "Run <code>tend analyze</code> (which health components predict churn) or "
                  "<code>tend backtest</code> (how early each rule warned) and the report "
                  "appears here.");
        page_close(out, ctx);
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
    page_close(out, ctx);
}

void dash_report(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    const char *title = get_str(view, "title");
    page_open(out, ctx, title && *title ? title : "Report", NAV_REPORTS);
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
    page_close(out, ctx);
}

/* ---- sign-in and errors --------------------------------------------------- */

void dash_login(struct buf *out, const char *error, const char *notice, const char *next,
                const char *csrf) {
    bool local = html_local_path(next);
    page_open(out, NULL, "Sign in", NAV_NONE);
    buf_puts(out, "<form class=\"card login\" method=\"post\" action=\"/login\">"
                  "<h1><span class=\"brand\">tend</span> Sign in</h1>");
    if (error && *error) {
        buf_puts(out, "<p class=\"flash error\" role=\"alert\">");
        html_esc_cut(out, error, CAP_REASON);
        buf_puts(out, "</p>");
    } else if (notice && *notice) {
        buf_puts(out, "<p class=\"flash\" role=\"status\">");
        html_esc_cut(out, notice, CAP_REASON);
        buf_puts(out, "</p>");
    }
    buf_puts(out, "<input type=\"hidden\" name=\"csrf\" value=\"");
    html_esc(out, csrf ? csrf : "");
    buf_puts(out, "\"><input type=\"hidden\" name=\"next\" value=\"");
    html_esc(out, local ? next : "/accounts");
    buf_puts(out, "\"><label>Email <input type=\"email\" name=\"email\" autocomplete=\"username\" "
                  "required autofocus></label><label>Password <input type=\"password\" "
                  "name=\"password\" autocomplete=\"current-password\" required></label>"
                  "<button type=\"submit\" class=\"primary\">Sign in</button></form>\n");
    page_close(out, NULL);
}

void dash_error(struct buf *out, const struct dash_ctx *ctx, int status, const char *message) {
    const char *title = status == 400   ? "Bad request"
                        : status == 403 ? "Not allowed"
                        : status == 404 ? "Not found"
                        : status == 405 ? "Method not allowed"
                        : status == 409 ? "Not possible now"
                        : status == 429 ? "Too many attempts"
                        : status == 503 ? "Temporarily unavailable"
                                        : "Something went wrong";
    page_open(out, ctx, title, NAV_NONE);
    buf_printf(out, "<div class=\"empty error-page\"><p class=\"code\">%d</p><h1>%s</h1><p>",
               status, title);
    html_esc_cut(out, message && *message ? message : title, CAP_REASON);
    buf_puts(out, "</p><p><a href=\"/accounts\">Back to the accounts</a></p></div>\n");
    page_close(out, ctx);
}

/* ---- the stylesheet ------------------------------------------------------- */

/* Served at /static/tend.css. The band colours match html.c's palette; text
 * colours keep a contrast of at least 4.5:1 on their backgrounds. */
const char dash_css[] =
    "/* tend.css: the dashboard's one stylesheet. No web fonts, no images. */\n"
    ":root {\n"
    "  --bg: #f7f8fa; --surface: #fff; --line: #e4e7ec; --text: #101828; --muted: #667085;\n"
    "  --link: #175cd3; --focus: #84adff;\n"
    "  --red: #b42318; --red-bg: #fef3f2; --red-line: #fecdca;\n"
    "  --yellow: #93370d; --yellow-bg: #fffaeb; --yellow-line: #fedf89;\n"
    "  --green: #067647; --green-bg: #ecfdf3; --green-line: #abefc6;\n"
    "  --none: #475467; --none-bg: #f2f4f7;\n"
    "}\n"
    "* { box-sizing: border-box; }\n"
    "html { -webkit-text-size-adjust: 100%; }\n"
    "body {\n"
    "  margin: 0; background: var(--bg); color: var(--text); line-height: 1.45;\n"
    "  font: 14px/1.45 system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, "
    "sans-serif;\n"
    "}\n"
    "a { color: var(--link); text-decoration: none; }\n"
    "a:hover { text-decoration: underline; }\n"
    ":focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }\n"
    "code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;\n"
    "  background: var(--none-bg); padding: 1px 4px; border-radius: 4px; }\n"
    "h1 { font-size: 22px; margin: 0; font-weight: 650; }\n"
    "h2 { font-size: 15px; margin: 0 0 12px; font-weight: 600; }\n"
    ".muted, .sub { color: var(--muted); }\n"
    ".sub { margin: 4px 0 0; }\n"
    "\n"
    "/* top bar */\n"
    ".top { background: var(--surface); border-bottom: 1px solid var(--line); }\n"
    ".nav { max-width: 1240px; margin: 0 auto; padding: 0 24px; display: flex; align-items: "
    "center;\n"
    "  gap: 4px; height: 52px; }\n"
    ".nav a { color: var(--none); padding: 6px 10px; border-radius: 6px; font-weight: 500; }\n"
    ".nav a:hover { background: var(--none-bg); text-decoration: none; }\n"
    ".nav a[aria-current] { color: var(--text); background: var(--none-bg); }\n"
    ".nav .brand, .brand { font-weight: 700; color: var(--green); letter-spacing: -0.02em;\n"
    "  font-size: 17px; margin-right: 12px; }\n"
    ".spacer { flex: 1; }\n"
    ".who { color: var(--muted); margin-right: 8px; }\n"
    ".signout { margin: 0; }\n"
    "button.link { background: none; border: 0; color: var(--link); padding: 6px 4px; font: "
    "inherit;\n"
    "  cursor: pointer; }\n"
    "button.link:hover { text-decoration: underline; background: none; }\n"
    "\n"
    "main { max-width: 1240px; margin: 0 auto; padding: 24px; }\n"
    ".foot { max-width: 1240px; margin: 0 auto; padding: 8px 24px 32px; color: var(--muted);\n"
    "  font-size: 12px; }\n"
    ".head { margin-bottom: 16px; }\n"
    ".crumbs { margin: 0 0 8px; color: var(--muted); }\n"
    "\n"
    "/* notices and empty states */\n"
    ".flash { margin: 0 0 16px; padding: 10px 14px; border-radius: 8px; background: "
    "var(--green-bg);\n"
    "  border: 1px solid var(--green-line); color: var(--green); }\n"
    ".flash.error { background: var(--red-bg); border-color: var(--red-line); color: var(--red); "
    "}\n"
    ".empty { background: var(--surface); border: 1px dashed #d0d5dd; border-radius: 10px;\n"
    "  padding: 40px 24px; text-align: center; color: var(--muted); }\n"
    ".empty h2, .empty h1 { color: var(--text); font-size: 17px; margin-bottom: 6px; }\n"
    ".empty p { max-width: 560px; margin: 6px auto; }\n"
    ".error-page .code { font-size: 40px; font-weight: 700; color: #98a2b3; margin: 0; }\n"
    "\n"
    "/* cards and columns */\n"
    ".card { background: var(--surface); border: 1px solid var(--line); border-radius: 10px;\n"
    "  padding: 16px 18px; margin-bottom: 16px; min-width: 0; }\n"
    ".cols { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }\n"
    ".cols.wide-left { grid-template-columns: 2fr 1fr; }\n"
    "@media (max-width: 900px) { .cols, .cols.wide-left { grid-template-columns: 1fr; } }\n"
    "\n"
    "/* pills, tags, bands */\n"
    ".pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px;\n"
    "  font-weight: 600; border: 1px solid transparent; vertical-align: middle; white-space: "
    "nowrap; }\n"
    ".pill.red { color: var(--red); background: var(--red-bg); border-color: var(--red-line); }\n"
    ".pill.yellow { color: var(--yellow); background: var(--yellow-bg); border-color: "
    "var(--yellow-line); }\n"
    ".pill.green { color: var(--green); background: var(--green-bg); border-color: "
    "var(--green-line); }\n"
    ".pill.none, .pill.churned { color: var(--none); background: var(--none-bg); border-color: "
    "var(--line); }\n"
    ".tag { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 11.5px;\n"
    "  color: var(--none); background: var(--none-bg); }\n"
    ".tag.off { color: var(--red); background: var(--red-bg); }\n"
    ".tag.noisy { color: var(--red); background: var(--red-bg); }\n"
    ".bands { list-style: none; display: flex; flex-wrap: wrap; gap: 8px; padding: 0; margin: 0 0 "
    "14px; }\n"
    ".band-count { display: inline-flex; align-items: baseline; gap: 6px; padding: 6px 12px;\n"
    "  border-radius: 8px; border: 1px solid var(--line); background: var(--surface); color: "
    "var(--none); }\n"
    ".band-count .n { font-size: 17px; font-weight: 650; }\n"
    ".band-count.red .n { color: var(--red); }\n"
    ".band-count.yellow .n { color: var(--yellow); }\n"
    ".band-count.green .n { color: var(--green); }\n"
    ".band-count:hover { text-decoration: none; border-color: #98a2b3; }\n"
    "\n"
    "/* forms */\n"
    "input, select, button { font: inherit; color: inherit; }\n"
    "input[type=text], input[type=search], input[type=email], input[type=password], "
    "input[type=date],\n"
    "select { border: 1px solid #d0d5dd; border-radius: 6px; padding: 5px 8px; background: #fff;\n"
    "  min-height: 32px; }\n"
    "button { border: 1px solid #d0d5dd; border-radius: 6px; padding: 5px 12px; background: #fff;\n"
    "  cursor: pointer; min-height: 32px; font-weight: 500; }\n"
    "button:hover { background: var(--none-bg); }\n"
    "button.primary { background: #155eef; border-color: #155eef; color: #fff; }\n"
    "button.primary:hover { background: #004eeb; }\n"
    ".filters { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 10px 14px;\n"
    "  background: var(--surface); border: 1px solid var(--line); border-radius: 10px;\n"
    "  padding: 12px 14px; margin-bottom: 14px; }\n"
    ".filters label, .filters legend { display: flex; flex-direction: column; gap: 3px;\n"
    "  font-size: 12px; color: var(--muted); }\n"
    ".filters .grow { flex: 1 1 200px; }\n"
    ".filters fieldset { border: 0; padding: 0; margin: 0; display: flex; gap: 10px; align-items: "
    "center; }\n"
    ".filters legend { float: left; margin-right: 4px; }\n"
    ".filters label.check { flex-direction: row; align-items: center; gap: 4px; font-size: 13px;\n"
    "  color: var(--text); }\n"
    ".filters .clear { align-self: center; }\n"
    "\n"
    "/* tables */\n"
    ".table-wrap { overflow-x: auto; background: var(--surface); border: 1px solid var(--line);\n"
    "  border-radius: 10px; }\n"
    ".card .table-wrap { border: 0; border-radius: 0; }\n"
    "table { border-collapse: collapse; width: 100%; }\n"
    ".grid th, .grid td { padding: 8px 12px; border-bottom: 1px solid var(--line); text-align: "
    "left;\n"
    "  vertical-align: middle; }\n"
    ".grid thead th { font-size: 12px; font-weight: 600; color: var(--muted); background: "
    "#fcfcfd;\n"
    "  white-space: nowrap; }\n"
    ".grid tbody tr:last-child td { border-bottom: 0; }\n"
    ".grid tbody tr:hover { background: #fafbfc; }\n"
    ".num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }\n"
    ".grid .num { text-align: right; }\n"
    "time { white-space: nowrap; }\n"
    ".rank { color: var(--muted); width: 1%; }\n"
    ".name a { font-weight: 600; }\n"
    ".name .sub { display: block; font-size: 12px; margin: 0; overflow-wrap: anywhere; }\n"
    ".name { max-width: 320px; overflow-wrap: anywhere; }\n"
    ".trend { width: 1%; padding-top: 4px; padding-bottom: 4px; }\n"
    ".spark, .bar { display: block; }\n"
    ".score strong { font-size: 15px; margin-right: 4px; }\n"
    ".change.down { color: var(--red); font-weight: 600; }\n"
    ".change.up { color: var(--green); }\n"
    ".change.flat { color: var(--muted); }\n"
    ".owner { color: var(--none); }\n"
    ".count { font-weight: 600; }\n"
    ".pages { display: flex; align-items: center; justify-content: center; gap: 16px; margin: 14px "
    "0;\n"
    "  color: var(--muted); }\n"
    ".kv th { text-align: left; font-weight: 500; color: var(--muted); padding: 5px 12px 5px 0;\n"
    "  width: 40%; vertical-align: top; overflow-wrap: anywhere; }\n"
    ".kv td { padding: 5px 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }\n"
    ".kv tr + tr th, .kv tr + tr td { border-top: 1px solid #f2f4f7; }\n"
    "tr.has-error td { background: #fffbfa; }\n"
    "td.error { color: var(--red); max-width: 360px; overflow-wrap: anywhere; }\n"
    "tr.disabled td { color: var(--muted); }\n"
    ".share { white-space: nowrap; }\n"
    ".share .bar { display: inline-block; vertical-align: middle; }\n"
    "\n"
    "/* account */\n"
    ".account-head { display: flex; justify-content: space-between; align-items: flex-start; gap: "
    "16px;\n"
    "  margin-bottom: 14px; }\n"
    ".account-head h1 { display: inline; margin-right: 6px; overflow-wrap: anywhere; }\n"
    ".bigscore { text-align: right; }\n"
    ".bigscore .n { display: block; font-size: 40px; font-weight: 700; line-height: 1;\n"
    "  font-variant-numeric: tabular-nums; }\n"
    ".bigscore .l { color: var(--muted); font-size: 12px; }\n"
    ".bigscore.red .n { color: var(--red); }\n"
    ".bigscore.yellow .n { color: var(--yellow); }\n"
    ".bigscore.green .n { color: var(--green); }\n"
    ".facts { display: flex; flex-wrap: wrap; gap: 8px 32px; margin: 0 0 16px; padding: 12px "
    "18px;\n"
    "  background: var(--surface); border: 1px solid var(--line); border-radius: 10px; }\n"
    ".facts dt { font-size: 12px; color: var(--muted); }\n"
    ".facts dd { margin: 0; font-weight: 500; }\n"
    ".chart { display: block; width: 100%; height: auto; }\n"
    ".components th, .components td { padding: 6px 8px 6px 0; text-align: left; }\n"
    ".components th[scope=row] { font-weight: 500; text-transform: capitalize; }\n"
    ".components thead th { font-size: 12px; color: var(--muted); font-weight: 600; }\n"
    ".components .num { text-align: right; }\n"
    ".timeline { list-style: none; margin: 0; padding: 0; }\n"
    ".timeline li { display: grid; grid-template-columns: 150px 1fr; gap: 2px 14px; padding: 7px "
    "0;\n"
    "  border-top: 1px solid #f2f4f7; }\n"
    ".timeline li:first-child { border-top: 0; }\n"
    ".timeline .when { color: var(--muted); grid-row: span 2; font-variant-numeric: tabular-nums; "
    "}\n"
    ".timeline .what { font-weight: 500; }\n"
    ".timeline .by { color: var(--muted); font-size: 12.5px; }\n"
    ".timeline .by::before { content: \"by \"; }\n"
    ".timeline .detail { grid-column: 2; color: var(--none); overflow-wrap: anywhere; }\n"
    ".timeline .kind-cta .what a { font-weight: 600; }\n"
    "\n"
    "/* cockpit */\n"
    ".tabs-row { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 14px; }\n"
    ".tabs { display: inline-flex; background: var(--surface); border: 1px solid var(--line);\n"
    "  border-radius: 8px; padding: 3px; }\n"
    ".tabs a { padding: 4px 12px; border-radius: 6px; color: var(--none); font-weight: 500; }\n"
    ".tabs a:hover { text-decoration: none; background: var(--none-bg); }\n"
    ".tabs a[aria-current] { background: #eff4ff; color: #004eeb; }\n"
    ".ctas { display: grid; gap: 10px; }\n"
    ".cta { background: var(--surface); border: 1px solid var(--line); border-left: 4px solid "
    "#d0d5dd;\n"
    "  border-radius: 10px; padding: 12px 16px; margin-bottom: 0; }\n"
    ".cta.prio-high { border-left-color: #f04438; }\n"
    ".cta.prio-medium { border-left-color: #f79009; }\n"
    ".cta.prio-low { border-left-color: #98a2b3; }\n"
    "main > .cta { margin-bottom: 16px; }\n"
    ".cta-top { display: flex; align-items: center; flex-wrap: wrap; gap: 8px; }\n"
    ".cta-top h2, .cta-top h1 { font-size: 15px; margin: 0; flex: 1 1 auto; overflow-wrap: "
    "anywhere; }\n"
    ".cta-top h1 { font-size: 19px; }\n"
    ".prio { font-size: 11.5px; font-weight: 700; text-transform: uppercase; letter-spacing: "
    "0.03em;\n"
    "  color: var(--none); }\n"
    ".prio.high { color: var(--red); }\n"
    ".prio.medium { color: #b54708; }\n"
    ".status { font-size: 12.5px; color: var(--none); white-space: nowrap; }\n"
    ".status.open { color: var(--link); font-weight: 500; }\n"
    ".status.closed { color: var(--muted); }\n"
    ".st-dead { color: var(--red); font-weight: 600; }\n"
    ".st-sent { color: var(--green); }\n"
    ".st-pending, .st-sending { color: #b54708; }\n"
    ".cta-meta { margin: 4px 0 0; color: var(--muted); font-size: 13px; overflow-wrap: anywhere; "
    "}\n"
    ".due.overdue, td.due.overdue { color: var(--red); }\n"
    ".reason { margin: 6px 0 0; overflow-wrap: anywhere; }\n"
    ".actions { display: flex; flex-wrap: wrap; gap: 8px 16px; margin-top: 10px; padding-top: "
    "10px;\n"
    "  border-top: 1px solid #f2f4f7; }\n"
    ".act { display: flex; align-items: center; gap: 6px; margin: 0; font-size: 13px; color: "
    "var(--none); }\n"
    ".act label { display: flex; align-items: center; gap: 6px; }\n"
    ".act input[type=text] { width: 120px; }\n"
    ".act.assign input[type=text] { width: 180px; }\n"
    "\n"
    "/* delivery */\n"
    ".tiles { list-style: none; display: flex; flex-wrap: wrap; gap: 10px; padding: 0; margin: 0 0 "
    "20px; }\n"
    ".tile { background: var(--surface); border: 1px solid var(--line); border-radius: 10px;\n"
    "  padding: 10px 16px; min-width: 110px; color: var(--muted); font-size: 12.5px; }\n"
    ".tile .n { display: block; font-size: 22px; font-weight: 650; color: var(--text); }\n"
    ".tile.zero .n { color: #98a2b3; }\n"
    ".tile.st-dead .n { color: var(--red); }\n"
    ".tile.st-dead.zero .n { color: #98a2b3; }\n"
    "\n"
    "/* reports (also embedded in the standalone file of tend analyze --html) */\n"
    ".report-page { max-width: 1000px; }\n"
    ".report-page h1 { margin-bottom: 12px; }\n"
    ".report { max-width: 1000px; }\n"
    ".report h2.report-h { margin: 24px 0 8px; }\n"
    ".report .report-text { margin: 0 0 12px; max-width: 760px; }\n"
    ".report-fig { margin: 0 0 16px; background: var(--surface); border: 1px solid "
    "var(--line);\n"
    "  border-radius: 10px; padding: 12px 16px; }\n"
    ".report-fig figcaption { font-weight: 600; margin-bottom: 8px; }\n"
    ".report-chart { display: block; width: 100%; max-width: 760px; height: auto; }\n"
    ".report-note { color: var(--muted); margin: 4px 0; }\n"
    ".report .table-wrap { margin-bottom: 16px; }\n"
    "table.data th, table.data td { padding: 6px 12px; border-bottom: 1px solid var(--line);\n"
    "  text-align: left; vertical-align: top; }\n"
    "table.data thead th { font-size: 12px; font-weight: 600; color: var(--muted);\n"
    "  background: #fcfcfd; white-space: nowrap; }\n"
    "table.data tbody tr:last-child td { border-bottom: 0; }\n"
    "table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }\n"
    ".reports .summary { color: var(--none); max-width: 520px; overflow-wrap: anywhere; }\n"
    ".tag.kind-analyze { color: #175cd3; background: #eff4ff; }\n"
    ".tag.kind-backtest { color: #6927da; background: #f4f3ff; }\n"
    "@media print { .top, .foot { display: none; } .report-fig { break-inside: avoid; } }\n"
    "\n"
    "/* sign-in */\n"
    ".login { max-width: 360px; margin: 10vh auto 0; display: flex; flex-direction: column; gap: "
    "12px;\n"
    "  padding: 24px; }\n"
    ".login h1 { font-size: 19px; display: flex; align-items: baseline; gap: 10px; }\n"
    ".login label { display: flex; flex-direction: column; gap: 4px; color: var(--none); "
    "font-size: 13px; }\n"
    ".login .flash { margin: 0; }\n";
