/* dash_int.h: what the dashboard's page files share, and nobody else.
 *
 * dash.c holds the frame of every page (head, navigation, flash notice,
 * footer) and the small pieces several pages write (links, pills, tables of
 * members, the CSRF field); the page files (dash_accounts.c, dash_ctas.c,
 * dash_admin.c, dash_model.c) draw their pages inside the same frame through
 * these calls, and read their views with the same defensive readers. */
#ifndef TEND_SERVER_DASH_INT_H
#define TEND_SERVER_DASH_INT_H

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "server/dash.h"
#include "util/buf.h"

/* Display caps, in characters, so a hostile 30 KB trait cannot stretch a page. */
#define CAP_NAME   120 /* an account name or id, a title */
#define CAP_SHORT  80  /* an owner, a rule, a segment, a status */
#define CAP_REASON 600 /* a reason, a detail, a note, an error */

#define ARROW_DOWN "\xe2\x96\xbc" /* ▼ */
#define ARROW_UP   "\xe2\x96\xb2" /* ▲ */
#define MIDDOT     " \xc2\xb7 "   /* · */

/* The navigation entry a page is under (aria-current in the top bar). */
enum dash_nav {
    NAV_NONE,
    NAV_ACCOUNTS,
    NAV_RISK,
    NAV_CTAS,
    NAV_RULES,
    NAV_MODEL,
    NAV_DELIVERY,
    NAV_REPORTS,
    NAV_SEGMENTS,
    NAV_USERS,
    NAV_AUDIT,
    NAV_KPIS
};

/* Appends the document's head, the top navigation (when ctx is set) and the
 * flash notice, up to the open <main>. title is outside text (escaped). */
void dash_page_open(struct buf *b, const struct dash_ctx *ctx, const char *title, enum dash_nav at);
/* Closes <main>, appends the footer (when ctx is set) and ends the document. */
void dash_page_close(struct buf *b, const struct dash_ctx *ctx);
/* dash_accounts.c: "Previous / 1-50 of 300 / page 1 of 6 / Next" under a
 * paged list at base (/accounts, /ctas), keeping every filter of the query. */
void dash_put_pages(struct buf *b, const struct dash_ctx *ctx, const char *base, long long total,
                    long long page, long long per_page, long long shown);
/* Appends an empty state: a title and a sentence, both trusted markup. */
void dash_put_empty(struct buf *b, const char *title, const char *html);

/* ---- reading a view: any member may be missing, null or of the wrong type -- */

/* The member key of o when o is an object, or NULL. */
static inline const cJSON *get(const cJSON *o, const char *key) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* The string member key of o, or NULL. */
static inline const char *get_str(const cJSON *o, const char *key) {
    const cJSON *v = get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number member key of o, or NAN. */
static inline double get_num(const cJSON *o, const char *key) {
    const cJSON *v = get(o, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

/* The integral member key of o (an id or a count), or -1. */
static inline long long get_int(const cJSON *o, const char *key) {
    double v = get_num(o, key);
    return isnan(v) || v < 0 || v > 9e15 ? -1 : (long long)v;
}

/* The nth value of key in the request's query (ctx->path), as a malloced
 * string the caller frees, or NULL. */
char *dash_query_value(const struct dash_ctx *ctx, const char *key, size_t nth);

/* ---- pieces several pages write --------------------------------------------- */

/* Appends word if it is a short [a-z0-9_-] word (safe as a class), else "other". */
void dash_put_class_word(struct buf *b, const char *word);
/* Appends a pill naming band ("no score" for none or an unknown band). */
void dash_put_band_pill(struct buf *b, const char *band);
/* Appends a link to the account: its name, or its id when it has none ("—"
 * without an id). */
void dash_put_account_link(struct buf *b, const char *id, const char *name);
/* Appends an href value: base, then ctx->path's query without the keys in
 * drop (NULL-terminated) and with extra (already encoded, "k=v"; NULL: none). */
void dash_put_href_query(struct buf *b, const char *base, const struct dash_ctx *ctx,
                         const char *const *drop, const char *extra);
/* Appends the hidden CSRF field every POST form carries. */
void dash_put_csrf(struct buf *b, const struct dash_ctx *ctx);
/* Appends a two-column table of an object's members (traits, evidence,
 * metrics), at most 200 rows; empty (trusted markup) when there are none. */
void dash_put_kv_table(struct buf *b, const struct dash_ctx *ctx, const cJSON *obj,
                       const char *empty);
/* Appends the status of a CTA: "open", "snoozed until ...", "closed
 * (resolved) on ..." (dash_ctas.c; the account page lists CTAs too). */
void dash_cta_status(struct buf *b, const cJSON *c);

/* dash_customer.c: the account's customer messages and unsubscribes. */
void dash_account_customer(struct buf *b, const struct dash_ctx *ctx, const cJSON *view);

/* dash_kpis.c: the KPI cards of a board (GET /api/kpis's answer), shared
 * by the KPI page and the monthly report. */
void dash_kpi_cards(struct buf *b, const cJSON *board);

/* dash_notes.c: the notes section with its form, of an account (cta_id 0)
 * or of CTA cta_id; notes: the view's "notes" array. */
void dash_notes_section(struct buf *b, const struct dash_ctx *ctx, const cJSON *notes,
                        const char *account, long long cta_id);

/* dash_cockpit.c: the cockpit's filters, bulk form, compact rows, pages and
 * CSV link for a GET /api/ctas view. */
void dash_cockpit_list(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* Appends an "Export CSV" link: base (NULL: the page's own path) with the
 * page's query and format=csv, so the file holds what the page shows. */
void dash_put_csv_link(struct buf *b, const struct dash_ctx *ctx, const char *base);
/* The same link on a line of its own, under a table. */
void dash_put_export(struct buf *b, const struct dash_ctx *ctx);
/* dash_portfolio.c: the accounts page's portfolio header from
 * view.portfolio (nothing when absent). */
void dash_portfolio(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* The CTA view's playbook as a checklist, each step a small POST form
 * (/ctas/{id}/step) that ticks or unticks it; nothing when it has none. */
void dash_cta_playbook(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);

#endif
