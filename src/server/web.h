/* web.h: the dashboard, the REST API and /metrics of tend serve.
 *
 * http.c hands every request that is not ingest (/v1/) or /healthz to
 * web_answer(), on one of its web worker threads, with the connection
 * suspended; answers go through http_reply() (server/http.h), never
 * MHD_queue_response. Errors map to statuses by the one table of
 * server/status.h. This layer decides who is
 * asking (auth.h), whether they may (the route table of web_routes.c, each
 * route with its need, decided by core/permissions.h), reads through a pool of store connections
 * (views.h), answers JSON or renders HTML (dash.h), and applies a person's actions to CTAs
 * (eval/act.h). docs/dashboard.md and docs/api.md describe it. */
#ifndef TEND_SERVER_WEB_H
#define TEND_SERVER_WEB_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "server/auth.h"
#include "server/sched.h"
#include "server/slack.h"
#include "server/views.h"
#include "util/err.h"

#define WEB_ERR_BYTES 256

struct web_options {
    const char *db;
    struct auth *auth;              /* borrowed */
    const struct view_env *env;     /* borrowed */
    const char *timezone;           /* NULL: UTC */
    bool secure_cookies;            /* the dashboard is served over https */
    struct sched *sched;            /* for /metrics; may be NULL */
    const unsigned char *unsub_key; /* customer messages' unsubscribe links (notify/unsub.h) */
    bool csm_own_book_only;         /* serve.csm_reads: own_book */
    const char *base_url;           /* delivery.base_url: one-time links; NULL: relative */
    const struct serve_sso *sso;    /* serve.sso, or NULL: no single sign-on */
    struct hooks *hooks;            /* /hooks/ (server/hooks.h); NULL: none */
    struct slack *slack;            /* POST /slack/... (server/slack.h); NULL: 404 */
};

struct web;

struct web *web_new(const struct web_options *o);
void web_free(struct web *w);

/* Counts a delivery attempt's outcome ("sent", "pending", "dead") for /metrics. */
void web_count_delivery(struct web *w, const char *channel, const char *status);

/* Writes a "config.load" entry to the audit log (actor "tend serve"): the
 * people and roles, tokens and scopes, csm_reads and single sign-on of c, as
 * a node starts with them. A failure is logged, not fatal. */
void web_audit_config(struct store *s, const struct serve_config *c, int64_t now_ms);

/* Answers a complete request; body is the request body (len bytes). */
enum MHD_Result web_answer(struct web *w, struct MHD_Connection *c, const char *url,
                           const char *method, const char *body, size_t len);

#endif
