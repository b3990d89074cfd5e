/* dash.h: the dashboard's HTML pages, rendered on the server.
 *
 * Every page is rendered from the same JSON views the REST API answers with
 * (docs/api.md has their shapes), so the dashboard shows nothing the API does
 * not, and each renderer is a pure function of (view, context): no store, no
 * clock. HTML and CSS only, charts as inline SVG, no JavaScript. Every string
 * that came from outside (account names, traits, reasons, owners, rule names)
 * is escaped on output (html.h). docs/dashboard.md describes the pages. */
#ifndef TEND_SERVER_DASH_H
#define TEND_SERVER_DASH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

/* What every page needs besides its view. */
struct dash_ctx {
    const char *user;      /* the signed-in user's email ("" for an API token) */
    const char *user_name; /* display name, or NULL */
    const char *csrf;      /* the token every form posts back as "csrf" */
    const char *tz;        /* the configured time zone's name, e.g. "Europe/Berlin" */
    const char *flash; /* a one-line notice after an action ("CTA 12 snoozed until ..."), or NULL */
    bool flash_error;  /* the notice reports a failure */
    const char *path;  /* the request's path and query, for the forms' "back" field */
    const char *role;  /* the signed-in person's role ("admin", ...), or NULL (a token) */
    const char *currency; /* rules.value.currency: how money is written (core/labels.h) */
};

/* The cockpit's and the portfolio's stylesheet rules (dash_cockpit.c),
 * served after dash_css at /static/tend.css. */
extern const char dash_cockpit_css[];

/* Each appends a complete HTML document to out. */

/* GET /accounts: view = GET /api/accounts's answer. */
void dash_accounts(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /accounts/{id}: view = GET /api/accounts/{id}'s answer. */
void dash_account(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /ctas (the cockpit): view = GET /api/ctas's answer. */
void dash_ctas(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /ctas/{id}: view = GET /api/ctas/{id}'s answer. */
void dash_cta(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /rules: view = GET /api/rules's answer. */
void dash_rules(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /delivery: view = GET /api/outbox's answer. */
void dash_delivery(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /reports: view = GET /api/reports's answer. */
void dash_reports(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /reports/{id}: view = GET /api/reports/{id}'s answer. Its "html", the
 * fragment tend analyze or tend backtest stored, is trusted markup written
 * by tend itself and is put in the page as it is (the CSP still forbids
 * scripts and inline styles in it); every other member is escaped. */
void dash_report(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /login: the form; error (NULL: none) says why the last attempt failed,
 * notice (NULL: none) is news such as "signed out"; next is where to go
 * after signing in (a local path, else /accounts); csrf is the form's token
 * (auth_login_csrf of the pre-session cookie), posted as "csrf". */
void dash_login(struct buf *out, const char *error, const char *notice, const char *next,
                const char *csrf);
/* The same with a link to single sign-on labelled sso_label (NULL: none). */
void dash_login_sso(struct buf *out, const char *error, const char *notice, const char *next,
                    const char *csrf, const char *sso_label);
/* GET /reports/monthly: view = analysis/monthly.h's (dash_monthly.c); ctx
 * NULL: a standalone page (tend report monthly). */
void dash_monthly(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /kpis: view = GET /api/kpis's answer (dash_kpis.c). */
void dash_kpis(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /segments: view = GET /api/segments's answer (dash_segments.c). */
void dash_segments(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /segments/{name}: view = GET /api/segments/{name}'s answer. */
void dash_segment(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* An error page (404, 400) with a link back. */
void dash_error(struct buf *out, const struct dash_ctx *ctx, int status, const char *message);

/* The stylesheet served at /static/tend.css. */
extern const char dash_css[];

#endif
