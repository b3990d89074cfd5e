/* web_int.h: what web.c shares with the handlers in its sibling files
 * (web_team.c: people, one-time links and the audit log; web_sso.c: single
 * sign-on), and nobody else. */
#ifndef TEND_SERVER_WEB_INT_H
#define TEND_SERVER_WEB_INT_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "core/permissions.h"
#include "server/auth.h"
#include "server/dash.h"
#include "server/routes.h"
#include "server/views.h"
#include "store/store.h"
#include "util/buf.h"

#define WEB_MAX_FORM           256  /* a bulk action: an id= per CTA (bulk.h) */
#define WEB_PASSWORD_MAX_BYTES 1024 /* a password typed or set, at most */
#define WEB_PASSWORD_MIN_BYTES 10

struct web;

/* Who is asking and what they sent. */
struct req {
    struct web *w;
    struct MHD_Connection *c;
    const char *url, *method;
    bool api;                        /* /api/...: answers are JSON */
    bool json_errors;                /* errors are JSON (the API and /metrics) */
    const char *cookie;              /* the session cookie's value, or NULL */
    struct auth_user user_buf;       /* the person signed in, when user is set */
    const struct auth_user *user;    /* signed in, or NULL */
    const struct serve_token *token; /* by API token */
    struct serve_token token_buf;    /* a token made in the app, when token points here */
    char token_name[STORE_TOKEN_NAME_MAX_BYTES + 1];
    struct perm_who who;           /* user or token as core/permissions.h sees them */
    bool own_only;                 /* narrow lists (and actions) to the asker's own book */
    const struct web_route *route; /* the route answering */
    char *cap[ROUTE_MAX_CAPS];     /* its pattern's '*' parts (g_free'd) */
    int n_cap;
    char csrf[AUTH_CSRF_BYTES];
    struct view_params query;
    struct view_params form; /* a POST's form or JSON fields (strings) */
    char *form_buf[WEB_MAX_FORM * 2];
    int n_form_buf;
    cJSON *json;     /* a JSON body, kept for its strings */
    struct buf path; /* url and query, re-encoded: the forms' "back" */
    char flash[200];
    bool flash_error;
    const char *body; /* the raw body (len bytes): a raw_body route's to verify */
    size_t body_len;
};

/* A route's handler: answers r with s (a pooled store connection, borrowed;
 * NULL for PERM_PUBLIC routes, which take one themselves if they need it). */
typedef enum MHD_Result (*web_handler)(struct req *r, struct store *s);

/* The actor written to the audit log and CTA history for r: the person's
 * email, "token:NAME", or "api". */
const char *web_actor(const struct req *r);
/* The server's sign-in (auth.h), whether its cookies are Secure. */
struct auth *web_auth(const struct req *r);
bool web_secure_cookies(const struct req *r);
/* A pooled store connection (NULL with err set, STORE_ERR_BYTES), and its
 * return. */
struct store *web_pool_get(struct req *r, char *err);
void web_pool_put(struct req *r, struct store *s);

/* Answers: JSON (taken), a JSON error, an error page, a page built in b
 * (taken), a 303 to a local path with a flash notice (NULL: none). */
enum MHD_Result web_send_json(struct req *r, unsigned status, cJSON *o);
enum MHD_Result web_json_error(struct req *r, unsigned status, const char *msg);
enum MHD_Result web_page_error(struct req *r, unsigned status, const char *msg);
enum MHD_Result web_error(struct req *r, unsigned status, const char *msg); /* either, by r->api */
enum MHD_Result web_send_page(struct req *r, unsigned status, struct buf *b);
enum MHD_Result web_redirect(struct req *r, const char *to, const char *flash, bool flash_error);
/* A 303 to url, which may be another site's (single sign-on's provider),
 * with one Set-Cookie (NULL: none). */
enum MHD_Result web_redirect_to(struct req *r, const char *url, const char *cookie);
/* The page context of r. */
void web_ctx(const struct req *r, struct dash_ctx *ctx);

/* auth_find_fn over a store (arg): a person the admin manages, unless
 * disabled. */
bool web_find_person(void *arg, const char *email, struct auth_user *out);

/* What the views read of the configuration (views.h). */
const struct view_env *web_env(const struct req *r);
/* delivery.base_url, or NULL. */
const char *web_base_url(const struct req *r);

/* Whether CTA id_text (digits) is email's: assigned to them, or of an
 * account whose csm_email is theirs; *found false when no such CTA. */
enum tend_err web_cta_is_mine(struct store *s, const char *id_text, const char *email, bool *mine,
                              bool *found);
/* Whether the account of external id is email's (its csm_email). */
enum tend_err web_account_is_mine(struct store *s, const char *external_id, const char *email,
                                  bool *mine, bool *found);

/* Signs u in: a session cookie at epoch, and a 303 to next (a local path;
 * else /accounts), with one more Set-Cookie (NULL: none). */
enum MHD_Result web_session_redirect(struct req *r, const struct auth_user *u, int64_t epoch,
                                     const char *next, const char *extra_cookie);

/* Single sign-on (web_sso.c): serve.sso (NULL: off) and the provider's
 * cached metadata and keys, one per server. */
struct sso_cache;
const struct serve_sso *web_sso_config(const struct req *r);
struct sso_cache *web_sso_cache(const struct req *r);
struct sso_cache *web_sso_cache_new(void);
void web_sso_cache_free(struct sso_cache *c);
enum MHD_Result web_h_sso_start(struct req *r, struct store *s);
enum MHD_Result web_h_sso_callback(struct req *r, struct store *s);

/* The API token of a bearer value: tend.yaml's (auth_token), else one made
 * in the app (the store's, into r->token_buf); NULL when neither. Takes a
 * store connection into *s when needed; false when the store failed. */
bool web_token_of(struct req *r, struct store **s, const char *bearer, char *err);

/* The route of r (its captures set into r->cap), or NULL with *path_known
 * true when a route has the path but not the method (web_routes.c). */
const struct web_route *web_route_find(struct req *r, const char *path, bool *path_known);

/* web.c's handlers: the stylesheet, signing in and out, a customer's
 * unsubscribe link, /metrics. */
enum MHD_Result web_h_static(struct req *r, struct store *s);
enum MHD_Result web_h_login(struct req *r, struct store *s);
enum MHD_Result web_h_logout(struct req *r, struct store *s);
enum MHD_Result web_h_unsubscribe(struct req *r, struct store *s);
enum MHD_Result web_h_metrics(struct req *r, struct store *s);
/* Signed webhooks (server/hooks.h) and Slack's app (server/slack.h): public
 * at the table, the signature over r->body checked by the handler. */
enum MHD_Result web_h_hooks(struct req *r, struct store *s);
enum MHD_Result web_h_slack(struct req *r, struct store *s);
/* Answers view's table as CSV (server/csv.h; ?format=csv); takes view. */
enum MHD_Result web_send_csv(struct req *r, cJSON *view);

/* web_tokens.c's handlers. */
enum MHD_Result web_h_tokens(struct req *r, struct store *s);
enum MHD_Result web_h_token_add(struct req *r, struct store *s);
enum MHD_Result web_h_token_revoke(struct req *r, struct store *s);

/* web_team.c's handlers (routes in web_routes.c's table). */
enum MHD_Result web_h_users(struct req *r, struct store *s);
enum MHD_Result web_h_user_add(struct req *r, struct store *s);
enum MHD_Result web_h_user_change(struct req *r, struct store *s);
enum MHD_Result web_h_audit(struct req *r, struct store *s);
enum MHD_Result web_h_invite(struct req *r, struct store *s);

#endif
