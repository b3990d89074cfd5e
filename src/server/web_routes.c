/* web_routes.c: the route table of the dashboard and the REST API, and the
 * handlers of the pages and endpoints that answer a view (see routes.h for
 * how a route is matched and why each declares a permission; web.c decides
 * who asks and whether they may, then calls the handler). A handler reads
 * its '*' parts from r->cap and answers through web_int.h. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/act.h"
#include "eval/notes.h"
#include "eval/playbook.h"
#include "server/bulk.h"
#include "server/dash.h"
#include "server/dash_model.h"
#include "server/hooks.h"
#include "server/html.h"
#include "server/routes.h"
#include "server/status.h"
#include "server/views_model.h"
#include "server/views_users.h"
#include "server/web_int.h"
#include "util/datetime.h"

/* ---- CTA actions ---------------------------------------------------------------------------- */

/* Applies POST .../ctas/{id}/{verb} with the fields in r->form. */
static enum tend_err cta_action(struct req *r, struct store *s, int64_t id, const char *verb,
                                char *msg, size_t size) {
    struct cta_act a = {.by = web_actor(r)};
    const char *note = view_param(&r->form, "note");
    a.note = note && note[0] ? note : NULL;
    if (strcmp(verb, "snooze") == 0) {
        a.verb = CTA_ACT_SNOOZE;
        const char *until = view_param(&r->form, "until");
        if (!until || !dt_parse_date(until, strlen(until), &a.until)) {
            snprintf(msg, size, "until: must be a date YYYY-MM-DD");
            return TEND_ERR_USAGE;
        }
    } else if (strcmp(verb, "close") == 0) {
        a.verb = CTA_ACT_CLOSE;
        const char *reason = view_param(&r->form, "reason");
        if (!reason || !cta_close_reason_parse(reason, &a.reason) ||
            (a.reason != CTA_RESOLVED && a.reason != CTA_NOT_RELEVANT)) {
            snprintf(msg, size, "reason: must be resolved or not_relevant");
            return TEND_ERR_USAGE;
        }
    } else if (strcmp(verb, "assign") == 0) {
        a.verb = CTA_ACT_ASSIGN;
        a.owner = view_param(&r->form, "owner");
        if (!a.owner || !a.owner[0]) {
            snprintf(msg, size, "owner: must not be empty");
            return TEND_ERR_USAGE;
        }
    } else if (strcmp(verb, "acknowledge") == 0) {
        a.verb = CTA_ACT_ACKNOWLEDGE;
    } else if (strcmp(verb, "note") == 0) { /* a note or activity (eval/notes.h) */
        struct note_input n = {.cta_id = id,
                               .kind = view_param(&r->form, "kind"),
                               .body = view_param(&r->form, "text"),
                               .by = a.by};
        int64_t note_id;
        return eval_note_add(s, &n, &note_id, msg, size);
    } else if (strcmp(verb, "step") == 0) { /* a playbook step (eval/playbook.h) */
        const char *done = view_param(&r->form, "done");
        bool undo = done && (!strcmp(done, "0") || !strcmp(done, "false"));
        return eval_cta_step(s, web_env(r)->rc->playbooks, id, view_param(&r->form, "step"), !undo,
                             a.by, msg, size);
    } else {
        snprintf(msg, size,
                 "no such action \"%.40s\" (snooze, close, assign, acknowledge, note, step)", verb);
        return TEND_ERR_NOTFOUND;
    }
    return eval_cta_act(s, id, &a, msg, size);
}

/* "/ctas/12/snooze" after the prefix: the id and the verb (NULL: none). */
static bool cta_path(const char *rest, int64_t *id, const char **verb) {
    char *end;
    long long n = strtoll(rest, &end, 10);
    if (end == rest || n <= 0 || (*end && *end != '/'))
        return false;
    *id = n;
    *verb = *end == '/' && end[1] ? end + 1 : NULL;
    return *end != '/' || end[1];
}

/* "12" after "/reports/": a report id, digits only (no sign, no spaces). */
static bool report_id(const char *rest, int64_t *id) {
    size_t n = strspn(rest, "0123456789");
    if (n == 0 || n > 15 || rest[n])
        return false;
    long long v = strtoll(rest, NULL, 10);
    if (v <= 0)
        return false;
    *id = v;
    return true;
}

/* Answers a view as JSON (api) or as its page. */
typedef void (*render_fn)(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);

static enum MHD_Result answer_view(struct req *r, bool api, enum tend_err e, cJSON *view,
                                   const char *err, render_fn render) {
    if (e)
        return api ? web_json_error(r, http_status_of(e), err)
                   : web_page_error(r, http_status_of(e), err);
    /* CSV export (server/csv.h): the rows the page or the API shows, with
     * the same route, need and narrowing. */
    const char *format = view_param(&r->query, "format");
    if (format && strcmp(format, "csv") == 0)
        return web_send_csv(r, view);
    if (api)
        return web_send_json(r, MHD_HTTP_OK, view);
    struct dash_ctx ctx;
    web_ctx(r, &ctx);
    struct buf b;
    buf_init(&b, 0);
    render(&b, &ctx, view);
    cJSON_Delete(view);
    return web_send_page(r, MHD_HTTP_OK, &b);
}

/* ---- the handlers of the route table ------------------------------------------------------ */

/* Adds key=value to q (a list narrowed to the asker's own book replaces
 * whatever the asker gave for key). */
static void force_param(struct view_params *q, const char *key, const char *value) {
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->keys[i], key) == 0) {
            q->values[i] = value;
            return;
        }
    if (q->n < VIEW_MAX_PARAMS) {
        q->keys[q->n] = key;
        q->values[q->n++] = value;
    }
}

static enum MHD_Result h_front(struct req *r, struct store *s) {
    (void)s;
    return web_redirect(r, "/accounts", NULL, false);
}

static enum MHD_Result h_cta_action(struct req *r, struct store *s) {
    int64_t id;
    const char *verb;
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    /* "12" and "snooze": the id alone (cta_path: no verb), then the verb. */
    bool ok = cta_path(r->cap[0], &id, &verb) && !verb && !strchr(r->cap[1], '/');
    verb = r->cap[1];
    if (!ok)
        return r->api
                   ? web_json_error(r, MHD_HTTP_BAD_REQUEST, "the CTA id must be a positive number")
                   : web_page_error(r, MHD_HTTP_NOT_FOUND, "No such page.");
    char msg[400];
    enum tend_err e = cta_action(r, s, id, verb, msg, sizeof msg);
    if (r->api) {
        if (e)
            return web_json_error(r, http_status_of(e), msg);
        e = view_cta(s, web_env(r), id, &view, err);
        return answer_view(r, true, e, view, err, NULL);
    }
    char text[500];
    if (e)
        snprintf(text, sizeof text, "CTA %lld: %s", (long long)id, msg);
    else
        snprintf(text, sizeof text, "CTA %lld %s", (long long)id, msg);
    const char *back = view_param(&r->form, "back");
    return web_redirect(r, html_local_path(back) ? back : "/ctas", text, e != TEND_OK);
}

static enum MHD_Result h_cta(struct req *r, struct store *s) {
    int64_t id;
    const char *verb;
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    if (!cta_path(r->cap[0], &id, &verb) || verb)
        return r->api
                   ? web_json_error(r, MHD_HTTP_BAD_REQUEST, "the CTA id must be a positive number")
                   : web_page_error(r, MHD_HTTP_NOT_FOUND, "No such page.");
    enum tend_err e = view_cta(s, web_env(r), id, &view, err);
    return answer_view(r, r->api, e, view, err, dash_cta);
}

static enum MHD_Result h_accounts(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    struct view_params q = r->query;
    if (r->own_only)
        force_param(&q, "owner", r->user->email);
    enum tend_err e = view_accounts(s, web_env(r), &q, &view, err);
    /* The page's portfolio header (views_portfolio.c): team-wide figures, so
     * not for a csm who reads only their own book. */
    cJSON *portfolio = NULL;
    if (!e && !r->api && !r->own_only && !view_param(&r->query, "format") &&
        !(e = view_portfolio(s, web_env(r), &portfolio, err)))
        cJSON_AddItemToObject(view, "portfolio", portfolio);
    else if (e)
        cJSON_Delete(view);
    return answer_view(r, r->api, e, view, err, dash_accounts);
}

static enum MHD_Result h_account_users(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_account_users(s, web_env(r), r->cap[0], &view, err);
    return answer_view(r, true, e, view, err, NULL);
}

static enum MHD_Result h_account(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    const char *id = r->cap[0];
    enum tend_err e = view_account(s, web_env(r), id, &r->query, &view, err);
    if (!e && (e = view_account_risk(s, id, view, err)))
        cJSON_Delete(view);
    else if (!e && (e = view_account_users_add(s, web_env(r), id, view, err)))
        cJSON_Delete(view);
    return answer_view(r, r->api, e, view, err, dash_account);
}

static enum MHD_Result h_risk(struct req *r, struct store *s) { /* views_model.c */
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    struct view_params q = r->query;
    /* The page: 50 rows a page unless said otherwise (the API: every row). */
    if (!r->api && !view_param(&q, "per_page") && !view_param(&q, "limit") &&
        q.n < VIEW_MAX_PARAMS) {
        q.keys[q.n] = "per_page";
        q.values[q.n++] = "50";
    }
    if (r->own_only)
        force_param(&q, "owner", "me");
    enum tend_err e = view_risk(s, &q, r->user ? r->user->email : NULL, &view, err);
    return answer_view(r, r->api, e, view, err, dash_risk);
}

static enum MHD_Result h_model(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_model(s, &r->query, &view, err);
    if (!r->api && e == TEND_ERR_NOTFOUND && !view_param(&r->query, "version"))
        return answer_view(r, false, TEND_OK, NULL, err, dash_model); /* how to fit one */
    return answer_view(r, r->api, e, view, err, dash_model);
}

static enum MHD_Result h_models(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_models(s, &view, err);
    return answer_view(r, r->api, e, view, err, dash_models);
}

static enum MHD_Result h_ctas(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    const char *me = r->user ? r->user->email : NULL;
    struct view_params q = r->query;
    /* The cockpit: my CTAs unless said otherwise. */
    if (!r->api && !view_param(&q, "owner") && me && q.n < VIEW_MAX_PARAMS) {
        q.keys[q.n] = "owner";
        q.values[q.n++] = "me";
    }
    /* The cockpit leaves out what the randomised holdout keeps from
     * delivery: a CSM who saw them would undo the experiment. */
    if (!r->api && !view_param(&q, "holdout") && q.n < VIEW_MAX_PARAMS) {
        q.keys[q.n] = "holdout";
        q.values[q.n++] = "hide";
    }
    /* The page: 50 rows a page unless said otherwise (the API: 200). */
    if (!r->api && !view_param(&q, "per_page") && !view_param(&q, "limit") &&
        q.n < VIEW_MAX_PARAMS) {
        q.keys[q.n] = "per_page";
        q.values[q.n++] = "50";
    }
    if (r->own_only)
        force_param(&q, "owner", "me");
    enum tend_err e = view_ctas(s, web_env(r), &q, me, &view, err);
    return answer_view(r, r->api, e, view, err, dash_ctas);
}

static enum MHD_Result h_rules(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_rules(s, web_env(r), &view, err);
    return answer_view(r, r->api, e, view, err, dash_rules);
}

static enum MHD_Result h_reports(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_reports(s, &r->query, &view, err);
    return answer_view(r, r->api, e, view, err, dash_reports);
}

static enum MHD_Result h_report(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    int64_t id;
    if (!report_id(r->cap[0], &id))
        return r->api ? web_json_error(r, MHD_HTTP_BAD_REQUEST,
                                       "the report id must be a positive number")
                      : web_page_error(r, MHD_HTTP_BAD_REQUEST,
                                       "The report id must be a positive number.");
    enum tend_err e = view_report(s, id, &view, err);
    return answer_view(r, r->api, e, view, err, dash_report);
}

static enum MHD_Result h_segments(struct req *r, struct store *s) { /* views_segments.c */
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_segments(s, &r->query, &view, err);
    return answer_view(r, r->api, e, view, err, dash_segments);
}

static enum MHD_Result h_segment(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_segment(s, r->cap[0], &r->query, &view, err);
    return answer_view(r, r->api, e, view, err, dash_segment);
}

static enum MHD_Result h_outbox(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_outbox(s, &r->query, &view, err);
    return answer_view(r, r->api, e, view, err, dash_delivery);
}

/* Whether the asker may act on CTA id in a bulk action (bulk.h's check):
 * for a csm (r->own_only), CTA by CTA, the decision of core/permissions
 * with its owner looked up, as for one CTA's action. */
static enum tend_err bulk_may(void *arg, struct store *s, int64_t id, bool *may, char *why,
                              size_t size) {
    struct req *r = arg;
    *may = true;
    if (!r->own_only)
        return TEND_OK;
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)id);
    bool mine = false, found = false;
    enum tend_err e = web_cta_is_mine(s, text, r->user->email, &mine, &found);
    if (e)
        return e;
    /* No such CTA: the action says so, to everyone alike. */
    enum perm_target t = !found || mine ? PERM_T_MINE : PERM_T_OTHERS;
    *may = perm_decide(&r->who, PERM_ACT, t) == PERM_ALLOW;
    if (!*may)
        perm_explain(&r->who, PERM_ACT, t, why, size);
    return TEND_OK;
}

/* POST /ctas/bulk and /api/ctas/bulk (bulk.h): the API answers the outcome
 * as JSON; the page goes back with it as a notice. Each CTA is checked on
 * its own (bulk_may) and goes through the audited action of one CTA. */
static enum MHD_Result h_bulk(struct req *r, struct store *s) {
    char msg[500];
    cJSON *result = NULL;
    struct bulk_check check = {.may = bulk_may, .arg = r};
    enum tend_err e = bulk_apply(s, &r->form, web_actor(r), &check, &result, msg, sizeof msg);
    if (r->api) {
        if (e)
            return web_json_error(r, http_status_of(e), msg);
        cJSON_AddStringToObject(result, "message", msg);
        return web_send_json(r, MHD_HTTP_OK, result);
    }
    bool failed = e || cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(result, "failed")) > 0;
    cJSON_Delete(result);
    const char *back = view_param(&r->form, "back");
    return web_redirect(r, html_local_path(back) ? back : "/ctas", msg, failed);
}

/* /accounts/{id}/notes: POST records a note on the account (eval/notes.h),
 * then answers the account's notes (API) or goes back to the page with a
 * notice; GET (API) lists them. */
static enum MHD_Result h_account_notes(struct req *r, struct store *s) {
    char err[VIEW_ERR_BYTES] = "", msg[400] = "";
    cJSON *view = NULL;
    const char *account = r->cap[0];
    if (strcmp(r->method, "POST") == 0) {
        struct note_input n = {
            .account = account,
            .kind = view_param(&r->form, "kind"),
            .body = view_param(&r->form, "text"),
            .by = web_actor(r),
        };
        int64_t id;
        enum tend_err e = eval_note_add(s, &n, &id, msg, sizeof msg);
        if (!r->api) {
            const char *back = view_param(&r->form, "back");
            return web_redirect(r, html_local_path(back) ? back : "/accounts", msg, e != TEND_OK);
        }
        if (e)
            return web_json_error(r, http_status_of(e), msg);
    }
    struct view_params q = {.n = 2, .keys = {"account", "limit"}, .values = {account, "100"}};
    enum tend_err e = view_notes(s, &q, &view, err);
    return answer_view(r, true, e, view, err, NULL);
}

static enum MHD_Result h_notes(struct req *r, struct store *s) { /* views_notes.c */
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_notes(s, &r->query, &view, err);
    return answer_view(r, true, e, view, err, NULL);
}

static enum MHD_Result h_labels(struct req *r, struct store *s) {
    (void)s;
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_labels(web_env(r), &view);
    return answer_view(r, true, e, view, err, NULL);
}

static enum MHD_Result h_portfolio(struct req *r, struct store *s) { /* views_portfolio.c */
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_portfolio(s, web_env(r), &view, err);
    return answer_view(r, true, e, view, err, NULL);
}

static enum MHD_Result h_monthly(struct req *r, struct store *s) { /* views_kpis.c */
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_monthly(s, web_env(r), &r->query, &view, err);
    return answer_view(r, r->api, e, view, err, dash_monthly);
}

static enum MHD_Result h_kpis(struct req *r, struct store *s) { /* views_kpis.c */
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e = view_kpis(s, web_env(r), &r->query, &view, err);
    return answer_view(r, r->api, e, view, err, dash_kpis);
}

static enum MHD_Result h_inbox(struct req *r, struct store *s) { /* server/hooks.h */
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e =
        hooks_inbox_view(s, view_param(&r->query, "provider"), view_param(&r->query, "status"),
                         view_param(&r->query, "limit"), &view, err, sizeof err);
    return answer_view(r, true, e, view, err, NULL);
}

static enum MHD_Result h_routes(struct req *r, struct store *s);

/* ---- the route table ------------------------------------------------------------------------ */

/* Every route of the dashboard and the API, with what it needs
 * (core/permissions.h; routes.h says how patterns match). A new route goes
 * here with its need: one without (PERM_UNSET) is refused to everyone and
 * fails tests/unit/test_routes.c; tests/integration/permissions.sh tries each
 * one as each role and scope (it learns them from GET /api/routes). */
#define H(f) ((const void *)(web_handler)(f))
static const struct web_route routes[] = {
    /* signing in, and what needs no one signed in */
    {"GET", "/static/tend.css", ROUTE_PAGE, PERM_PUBLIC, ROUTE_ABOUT_NOTHING, H(web_h_static),
     "the stylesheet", false},
    {"*", "/login", ROUTE_PAGE, PERM_PUBLIC, ROUTE_ABOUT_NOTHING, H(web_h_login), "sign in", false},
    {"*", "/unsubscribe/*", ROUTE_PAGE, PERM_PUBLIC, ROUTE_ABOUT_NOTHING, H(web_h_unsubscribe),
     "a customer's unsubscribe link", false},
    {"*", "/invite/*", ROUTE_PAGE, PERM_PUBLIC, ROUTE_ABOUT_NOTHING, H(web_h_invite),
     "a one-time link: choose a password", false},
    {"GET", "/sso/start", ROUTE_PAGE, PERM_PUBLIC, ROUTE_ABOUT_NOTHING, H(web_h_sso_start),
     "single sign-on: to the provider", false},
    {"GET", "/sso/callback", ROUTE_PAGE, PERM_PUBLIC, ROUTE_ABOUT_NOTHING, H(web_h_sso_callback),
     "single sign-on: back from the provider", false},
    {"*", "/logout", ROUTE_PAGE, PERM_SIGNED_IN, ROUTE_ABOUT_NOTHING, H(web_h_logout), "sign out",
     false},
    {"GET", "/", ROUTE_PAGE, PERM_SIGNED_IN, ROUTE_ABOUT_NOTHING, H(h_front), "the front page",
     false},
    /* signed by their sender, not a session: the handler checks the signature over the raw body */
    {"*", "/hooks/*", ROUTE_PAGE, PERM_PUBLIC, ROUTE_ABOUT_NOTHING, H(web_h_hooks),
     "a signed webhook (Stripe, Zendesk, HubSpot)", true},
    {"*", "/slack/*", ROUTE_PAGE, PERM_PUBLIC, ROUTE_ABOUT_NOTHING, H(web_h_slack),
     "Slack's signed button clicks and slash command", true},
    {"GET", "/labels", ROUTE_API, PERM_SIGNED_IN, ROUTE_ABOUT_NOTHING, H(h_labels),
     "the labels and units of metrics", false},
    /* the customers: accounts and CTAs */
    {"GET", "/accounts", ROUTE_BOTH, PERM_READ_BOOK, ROUTE_ABOUT_LIST, H(h_accounts), "accounts",
     false},
    {"POST", "/accounts/*/notes", ROUTE_BOTH, PERM_ACT, ROUTE_ABOUT_ACCOUNT, H(h_account_notes),
     "record a note on an account", false},
    {"GET", "/accounts/*/notes", ROUTE_API, PERM_READ_BOOK, ROUTE_ABOUT_ACCOUNT, H(h_account_notes),
     "an account's notes", false},
    {"GET", "/accounts/*/users", ROUTE_API, PERM_READ_BOOK, ROUTE_ABOUT_ACCOUNT, H(h_account_users),
     "an account's users", false},
    {"GET", "/accounts/*", ROUTE_BOTH, PERM_READ_BOOK, ROUTE_ABOUT_ACCOUNT, H(h_account),
     "an account", false},
    {"GET", "/ctas", ROUTE_BOTH, PERM_READ_BOOK, ROUTE_ABOUT_LIST, H(h_ctas), "CTAs", false},
    {"POST", "/ctas/bulk", ROUTE_BOTH, PERM_ACT, ROUTE_ABOUT_LIST, H(h_bulk),
     "snooze or assign several CTAs (a csm: each checked as theirs)", false},
    {"POST", "/ctas/*/*", ROUTE_BOTH, PERM_ACT, ROUTE_ABOUT_CTA, H(h_cta_action),
     "snooze, close, assign, acknowledge a CTA; a note or a playbook step on it", false},
    {"GET", "/ctas/*", ROUTE_BOTH, PERM_READ_BOOK, ROUTE_ABOUT_CTA, H(h_cta), "a CTA", false},
    {"GET", "/risk", ROUTE_BOTH, PERM_READ_BOOK, ROUTE_ABOUT_LIST, H(h_risk),
     "churn risk by account", false},
    /* team-wide pages */
    {"GET", "/model", ROUTE_BOTH, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_model),
     "the churn-risk model", false},
    {"GET", "/models", ROUTE_BOTH, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_models), "models", false},
    {"GET", "/rules", ROUTE_BOTH, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_rules), "rules", false},
    {"GET", "/reports", ROUTE_BOTH, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_reports), "reports", false},
    {"GET", "/reports/monthly", ROUTE_BOTH, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_monthly),
     "the monthly CS report", false},
    {"GET", "/reports/*", ROUTE_BOTH, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_report), "a report",
     false},
    {"GET", "/segments", ROUTE_BOTH, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_segments), "segments",
     false},
    {"GET", "/segments/*", ROUTE_BOTH, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_segment), "a segment",
     false},
    {"GET", "/kpis", ROUTE_BOTH, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_kpis), "the team's KPIs",
     false},
    {"GET", "/portfolio", ROUTE_API, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_portfolio),
     "ARR by band and at risk", false},
    {"GET", "/notes", ROUTE_API, PERM_READ, ROUTE_ABOUT_NOTHING, H(h_notes),
     "notes of every account", false},
    {"GET", "/metrics", ROUTE_PAGE, PERM_READ, ROUTE_ABOUT_NOTHING, H(web_h_metrics),
     "Prometheus metrics", false},
    /* lead work */
    {"GET", "/outbox", ROUTE_API, PERM_LEAD, ROUTE_ABOUT_NOTHING, H(h_outbox), "the outbox", false},
    {"GET", "/delivery", ROUTE_PAGE, PERM_LEAD, ROUTE_ABOUT_NOTHING, H(h_outbox), "delivery",
     false},
    {"GET", "/inbox", ROUTE_API, PERM_LEAD, ROUTE_ABOUT_NOTHING, H(h_inbox), "the webhook inbox",
     false},
    /* admin: people, the audit log, the routes */
    {"GET", "/users", ROUTE_BOTH, PERM_ADMIN, ROUTE_ABOUT_NOTHING, H(web_h_users), "people", false},
    {"POST", "/users", ROUTE_BOTH, PERM_ADMIN, ROUTE_ABOUT_NOTHING, H(web_h_user_add),
     "invite a person", false},
    {"POST", "/users/*/*", ROUTE_BOTH, PERM_ADMIN, ROUTE_ABOUT_NOTHING, H(web_h_user_change),
     "change a person: role, disable, enable, reset", false},
    {"GET", "/audit", ROUTE_BOTH, PERM_ADMIN, ROUTE_ABOUT_NOTHING, H(web_h_audit), "the audit log",
     false},
    {"GET", "/tokens", ROUTE_BOTH, PERM_ADMIN, ROUTE_ABOUT_NOTHING, H(web_h_tokens), "API tokens",
     false},
    {"POST", "/tokens", ROUTE_BOTH, PERM_ADMIN, ROUTE_ABOUT_NOTHING, H(web_h_token_add),
     "make an API token", false},
    {"POST", "/tokens/*/revoke", ROUTE_BOTH, PERM_ADMIN, ROUTE_ABOUT_NOTHING, H(web_h_token_revoke),
     "revoke an API token", false},
    {"GET", "/routes", ROUTE_API, PERM_ADMIN, ROUTE_ABOUT_NOTHING, H(h_routes), "this table",
     false},
};
#undef H
#define N_ROUTES (sizeof routes / sizeof routes[0])

const struct web_route *web_routes(size_t *n) {
    *n = N_ROUTES;
    return routes;
}

/* GET /api/routes: the table, for tests/integration/permissions.sh and
 * whoever audits who may do what. */
static enum MHD_Result h_routes(struct req *r, struct store *s) {
    (void)s;
    cJSON *arr = cJSON_CreateArray();
    static const char *const about[] = {"nothing", "list", "account", "cta"};
    for (size_t i = 0; i < N_ROUTES; i++) {
        const struct web_route *x = &routes[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "method", x->method);
        cJSON_AddStringToObject(o, "pattern", x->pattern);
        cJSON_AddBoolToObject(o, "page", (x->where & ROUTE_PAGE) != 0);
        cJSON_AddBoolToObject(o, "api", (x->where & ROUTE_API) != 0);
        cJSON_AddStringToObject(o, "needs", perm_need_name(x->need));
        cJSON_AddStringToObject(o, "about", about[x->about]);
        cJSON_AddStringToObject(o, "what", x->what);
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemToObject(out, "routes", arr);
    return web_send_json(r, MHD_HTTP_OK, out);
}

static bool method_fits(const char *want, const char *method) {
    return strcmp(want, "*") == 0 || strcmp(want, method) == 0 ||
           (strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

const struct web_route *web_route_find(struct req *r, const char *path, bool *path_known) {
    *path_known = false;
    const char *first = NULL; /* the first pattern the path matched: only its routes answer */
    for (size_t i = 0; i < N_ROUTES; i++) {
        const struct web_route *x = &routes[i];
        if (!(x->where & (r->api ? ROUTE_API : ROUTE_PAGE)) ||
            (first && strcmp(first, x->pattern) != 0))
            continue;
        char *caps[ROUTE_MAX_CAPS] = {0};
        int n = 0;
        if (!route_match(x->pattern, path, caps, &n))
            continue;
        if (!method_fits(x->method, r->method)) {
            for (int k = 0; k < n; k++)
                g_free(caps[k]);
            *path_known = true;
            first = x->pattern;
            continue;
        }
        for (int k = 0; k < n; k++)
            r->cap[k] = caps[k];
        r->n_cap = n;
        return x;
    }
    return NULL;
}
