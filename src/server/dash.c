/* dash.c: the frame of the dashboard's pages and the pieces they share
 * (see dash.h, dash_int.h and docs/dashboard.md), and the sign-in and error
 * pages.
 *
 * What it is not: no routing, no sessions, no store access; the server reads
 * the view (the REST API's JSON) and the request's context and hands both here.
 * The pages live by area: the accounts (dash_accounts.c), the cockpit and a
 * CTA (dash_ctas.c), the rules, delivery and reports (dash_admin.c), the
 * churn-risk model (dash_model.c); the stylesheet is dash_css.c.
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

#include <glib.h>
#include <string.h>

#include "core/labels.h"
#include "core/segments.h"
#include "server/dash_int.h"
#include "server/html.h"
#include "util/version.h"

#define MAX_KV 200 /* traits or evidence rows shown */

/* ---- reading the view ----------------------------------------------------- */

/* The nth value of key in the request's query, as a malloced string (free()),
 * or NULL. */
char *dash_query_value(const struct dash_ctx *ctx, const char *key, size_t nth) {
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
void dash_put_class_word(struct buf *b, const char *word) {
    size_t n = word ? strlen(word) : 0;
    bool ok = n > 0 && n <= 24 && strspn(word, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
    buf_puts(b, ok ? word : "other");
}

/* Appends a pill naming band. */
void dash_put_band_pill(struct buf *b, const char *band) {
    const char *cls = html_band_class(band);
    buf_printf(b, "<span class=\"pill %s\">%s</span>", cls, strcmp(cls, "none") ? cls : "no score");
}

/* Appends "/accounts/ID" (ID percent-encoded); a segment's CTA's account
 * ("segment:NAME", store.h) is its segment's page. */
static void put_account_href(struct buf *b, const char *id) {
    if (strncmp(id, SEG_CTA_PREFIX, strlen(SEG_CTA_PREFIX)) == 0) {
        buf_puts(b, "/segments/");
        html_url_part(b, id + strlen(SEG_CTA_PREFIX));
        return;
    }
    buf_puts(b, "/accounts/");
    html_url_part(b, id);
}

/* Appends a link to the account: its name, or its id when it has none. */
void dash_put_account_link(struct buf *b, const char *id, const char *name) {
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
void dash_put_href_query(struct buf *b, const char *base, const struct dash_ctx *ctx,
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

void dash_put_csrf(struct buf *b, const struct dash_ctx *ctx) {
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
void dash_page_open(struct buf *b, const struct dash_ctx *ctx, const char *title,
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
        nav_link(b, "/segments", "Segments", at == NAV_SEGMENTS);
        nav_link(b, "/ctas", "My CTAs", at == NAV_CTAS);
        nav_link(b, "/rules", "Rules", at == NAV_RULES);
        nav_link(b, "/model", "Model", at == NAV_MODEL);
        nav_link(b, "/delivery", "Delivery", at == NAV_DELIVERY);
        nav_link(b, "/reports", "Reports", at == NAV_REPORTS);
        nav_link(b, "/kpis", "KPIs", at == NAV_KPIS);
        if (ctx->role && strcmp(ctx->role, "admin") == 0) {
            nav_link(b, "/users", "Users", at == NAV_USERS);
            nav_link(b, "/audit", "Audit", at == NAV_AUDIT);
        }
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
        dash_put_csrf(b, ctx);
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

void dash_page_close(struct buf *b, const struct dash_ctx *ctx) {
    buf_puts(b, "</main>\n");
    if (ctx) {
        buf_puts(b, "<footer class=\"foot\">Times in ");
        html_esc_cut(b, ctx->tz && *ctx->tz ? ctx->tz : "UTC", CAP_SHORT);
        buf_puts(b, "; dates are UTC days.<span class=\"version\">tend ");
        html_esc_cut(b, tend_version(), CAP_SHORT);
        buf_puts(b, "</span></footer>\n");
    }
    buf_puts(b, "</body>\n</html>\n");
}

/* Appends an empty state: a title and a sentence (both trusted markup). */
void dash_put_empty(struct buf *b, const char *title, const char *html) {
    buf_printf(b, "<div class=\"empty\"><h2>%s</h2><p>%s</p></div>\n", title, html);
}

/* Appends a two-column table of an object's members (traits, evidence,
 * metrics): each name as its label and each number in its unit where the
 * table of labels has it (core/labels.h), money with ctx's currency. */
void dash_put_kv_table(struct buf *b, const struct dash_ctx *ctx, const cJSON *obj,
                       const char *empty) {
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
        html_esc_cut(b, labels_text(v->string), CAP_SHORT);
        buf_puts(b, "</th><td>");
        if (cJSON_IsNumber(v) && labels_find(v->string)) {
            char text[96];
            labels_value(v->string, v->valuedouble, ctx ? ctx->currency : NULL, text, sizeof text);
            html_esc(b, text);
        } else {
            html_json_value(b, v);
        }
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</tbody></table>");
    if (n > MAX_KV)
        buf_printf(b, "<p class=\"muted\">and %d more</p>", n - MAX_KV);
}

/* ---- sign-in and errors --------------------------------------------------- */

void dash_login(struct buf *out, const char *error, const char *notice, const char *next,
                const char *csrf) {
    dash_login_sso(out, error, notice, next, csrf, NULL);
}

void dash_login_sso(struct buf *out, const char *error, const char *notice, const char *next,
                    const char *csrf, const char *sso_label) {
    bool local = html_local_path(next);
    dash_page_open(out, NULL, "Sign in", NAV_NONE);
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
                  "<button type=\"submit\" class=\"primary\">Sign in</button>");
    if (sso_label) { /* single sign-on: a link, so that the provider's page opens */
        buf_puts(out, "<p class=\"sso\"><a class=\"button\" href=\"/sso/start?next=");
        char *enc = g_uri_escape_string(local ? next : "/accounts", NULL, false);
        html_esc(out, enc);
        g_free(enc);
        buf_puts(out, "\">");
        html_esc_cut(out, sso_label, CAP_SHORT);
        buf_puts(out, "</a></p>");
    }
    buf_puts(out, "</form>\n");
    dash_page_close(out, NULL);
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
    dash_page_open(out, ctx, title, NAV_NONE);
    buf_printf(out, "<div class=\"empty error-page\"><p class=\"code\">%d</p><h1>%s</h1><p>",
               status, title);
    html_esc_cut(out, message && *message ? message : title, CAP_REASON);
    buf_puts(out, "</p><p><a href=\"/accounts\">Back to the accounts</a></p></div>\n");
    dash_page_close(out, ctx);
}
