/* web.c: the dashboard, the REST API and /metrics (see web.h). */
#include "server/web.h"

#include <cjson/cJSON.h>
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/csv.h"
#include "server/dash.h"
#include "server/dash_model.h"
#include "server/hooks.h"
#include "server/html.h"
#include "server/http.h"
#include "server/routes.h"
#include "server/status.h"
#include "server/unsubscribe.h"
#include "server/web_int.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/version.h"

#define POOL_MAX             16 /* store connections for requests */
#define SESSION_COOKIE       "tend_session"
#define LOGIN_COOKIE         "tend_login" /* the sign-in form's pre-session cookie (login CSRF) */
#define LOGIN_COOKIE_SECONDS 3600
#define FLASH_COOKIE         "tend_flash"
#define MAX_FORM             WEB_MAX_FORM
#define SECURITY_CSP                                                                               \
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "             \
    "frame-ancestors 'none'; base-uri 'none'"

/* /metrics counters kept by this process. */
#define MAX_CHANNELS 32
/* /unsubscribe/ is public: requests a minute per client address (bursts of as
 * many), addresses remembered, and requests a second of all together. A
 * person clicks a link once; a mail provider's one-click POST is one more. */
#define UNSUB_PER_MINUTE  30
#define UNSUB_ADDRESSES   16384
#define UNSUB_ALL_PER_SEC 50
struct delivery_count {
    char channel[64];
    atomic_llong sent, retry, dead;
};

enum route { R_PAGE, R_API, R_METRICS, R_LOGIN, R_STATIC, R_HOOKS, R_COUNT };
static const char *const route_names[] = {"page", "api", "metrics", "login", "static", "hooks"};
static const unsigned code_list[] = {200, 303, 400, 401, 403, 404, 405, 409, 413, 429, 503};
#define N_CODES (sizeof code_list / sizeof code_list[0])

struct web {
    struct web_options o;
    pthread_mutex_t lock;
    pthread_cond_t returned;
    struct store *idle[POOL_MAX];
    int n_idle, n_open;
    struct delivery_count deliveries[MAX_CHANNELS];
    int n_deliveries;
    atomic_llong requests[R_COUNT][N_CODES + 1];
    struct unsub_gate *unsub_gate; /* /unsubscribe/'s rate limit */
    struct sso_cache *sso_cache;   /* the provider's metadata and keys (web_sso.c) */
};

/* ---- the connection pool ----------------------------------------------------------- */

static struct store *pool_get(struct web *w, char *err) {
    pthread_mutex_lock(&w->lock);
    while (!w->n_idle && w->n_open >= POOL_MAX)
        pthread_cond_wait(&w->returned, &w->lock);
    struct store *s = NULL;
    if (w->n_idle) {
        s = w->idle[--w->n_idle];
    } else {
        w->n_open++;
        pthread_mutex_unlock(&w->lock);
        if (store_open(w->o.db, &s, err)) {
            pthread_mutex_lock(&w->lock);
            w->n_open--;
            pthread_cond_signal(&w->returned);
            s = NULL;
        } else {
            return s;
        }
    }
    pthread_mutex_unlock(&w->lock);
    return s;
}

static void pool_put(struct web *w, struct store *s) {
    pthread_mutex_lock(&w->lock);
    w->idle[w->n_idle++] = s;
    pthread_cond_signal(&w->returned);
    pthread_mutex_unlock(&w->lock);
}

struct web *web_new(const struct web_options *o) {
    struct web *w = xcalloc(1, sizeof *w);
    w->o = *o;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->returned, NULL);
    w->unsub_gate = unsubscribe_gate_new();
    w->sso_cache = web_sso_cache_new();
    return w;
}

void web_free(struct web *w) {
    if (!w)
        return;
    for (int i = 0; i < w->n_idle; i++)
        store_close(w->idle[i]);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->returned);
    unsubscribe_gate_free(w->unsub_gate);
    web_sso_cache_free(w->sso_cache);
    free(w);
}

/* ---- counters -------------------------------------------------------------------------- */

void web_count_delivery(struct web *w, const char *channel, const char *status) {
    pthread_mutex_lock(&w->lock);
    struct delivery_count *d = NULL;
    for (int i = 0; i < w->n_deliveries && !d; i++)
        if (strcmp(w->deliveries[i].channel, channel) == 0)
            d = &w->deliveries[i];
    if (!d && w->n_deliveries < MAX_CHANNELS) {
        d = &w->deliveries[w->n_deliveries++];
        snprintf(d->channel, sizeof d->channel, "%s", channel);
    }
    pthread_mutex_unlock(&w->lock);
    if (!d)
        return;
    if (strcmp(status, "sent") == 0)
        atomic_fetch_add(&d->sent, 1);
    else if (strcmp(status, "dead") == 0)
        atomic_fetch_add(&d->dead, 1);
    else
        atomic_fetch_add(&d->retry, 1);
}

static void count(struct web *w, enum route r, unsigned status) {
    size_t k;
    for (k = 0; k < N_CODES; k++)
        if (code_list[k] == status)
            break;
    atomic_fetch_add(&w->requests[r][k], 1);
}

/* ---- answers ----------------------------------------------------------------------------- */

static void security_headers(struct MHD_Response *r) {
    MHD_add_response_header(r, "Content-Security-Policy", SECURITY_CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

/* Queues body (taken: freed here) with status; extra headers in pairs. */
static enum MHD_Result send_body(struct web *w, struct MHD_Connection *c, enum route route,
                                 unsigned status, const char *type, char *body, size_t len,
                                 const char *const *headers, size_t n_headers) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    security_headers(r);
    for (size_t i = 0; i + 1 < n_headers; i += 2)
        MHD_add_response_header(r, headers[i], headers[i + 1]);
    enum MHD_Result ret = http_reply(c, status, r); /* takes r */
    count(w, route, status);
    return ret;
}

static enum MHD_Result send_json(struct web *w, struct MHD_Connection *c, enum route route,
                                 unsigned status, cJSON *o) {
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *body = xstrdup(text);
    cJSON_free(text);
    return send_body(w, c, route, status, "application/json", body, strlen(body), NULL, 0);
}

static enum MHD_Result json_error(struct web *w, struct MHD_Connection *c, unsigned status,
                                  const char *msg) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    return send_json(w, c, R_API, status, o);
}

static enum MHD_Result send_html(struct web *w, struct MHD_Connection *c, unsigned status,
                                 struct buf *b, const char *const *headers, size_t n) {
    size_t len = b->len;
    char *body = buf_steal(b);
    if (!body)
        body = xstrdup("");
    return send_body(w, c, R_PAGE, status, "text/html; charset=utf-8", body, len, headers, n);
}

static enum MHD_Result redirect(struct web *w, struct MHD_Connection *c, enum route route,
                                const char *to, const char *const *headers, size_t n) {
    const char *h[8];
    size_t k = 0;
    h[k++] = MHD_HTTP_HEADER_LOCATION;
    h[k++] = to;
    for (size_t i = 0; i < n && k < 8; i++)
        h[k++] = headers[i];
    return send_body(w, c, route, MHD_HTTP_SEE_OTHER, "text/plain", xstrdup(""), 0, h, k);
}

/* p when it is a path on this site, else fallback. */
static const char *local_path(const char *p, const char *fallback) {
    return html_local_path(p) ? p : fallback;
}

/* ---- requests ----------------------------------------------------------------------------- */

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value) {
    struct view_params *p = cls;
    if (p->n < VIEW_MAX_PARAMS && key) {
        p->keys[p->n] = key;
        p->values[p->n++] = value ? value : "";
    }
    return MHD_YES;
}

/* Decodes an application/x-www-form-urlencoded body into r->form. */
static void parse_form(struct req *r, const char *body, size_t len) {
    char *copy = g_strndup(body, len);
    gchar **pairs = g_strsplit(copy, "&", MAX_FORM + 1);
    for (gchar **p = pairs; *p && r->form.n < MAX_FORM; p++) {
        if (!**p)
            continue;
        for (char *q = *p; *q; q++)
            if (*q == '+')
                *q = ' ';
        char *eq = strchr(*p, '=');
        if (eq)
            *eq = '\0';
        char *k = g_uri_unescape_string(*p, NULL);
        char *v = g_uri_unescape_string(eq ? eq + 1 : "", NULL);
        if (!k || !v) {
            g_free(k);
            g_free(v);
            continue;
        }
        r->form_buf[r->n_form_buf++] = k;
        r->form_buf[r->n_form_buf++] = v;
        r->form.keys[r->form.n] = k;
        r->form.values[r->form.n++] = v;
    }
    g_strfreev(pairs);
    g_free(copy);
}

/* A JSON object body's string (and number) fields into r->form. */
static bool parse_json(struct req *r, const char *body, size_t len) {
    r->json = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(r->json))
        return false;
    cJSON *kv;
    cJSON_ArrayForEach(kv, r->json) {
        if (r->form.n == MAX_FORM || !cJSON_IsString(kv))
            continue;
        r->form.keys[r->form.n] = kv->string;
        r->form.values[r->form.n++] = kv->valuestring;
    }
    return true;
}

static void req_free(struct req *r) {
    for (int i = 0; i < r->n_form_buf; i++)
        g_free(r->form_buf[i]);
    cJSON_Delete(r->json);
    buf_free(&r->path);
}

static const char *header(struct MHD_Connection *c, const char *name) {
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- pages ---------------------------------------------------------------------------------- */

static void ctx_of(const struct req *r, struct dash_ctx *ctx) {
    *ctx = (struct dash_ctx){
        .user = r->user ? r->user->email : "",
        .role = r->user ? perm_role_name(r->user->role) : NULL,
        .user_name = r->user    ? r->user->name
                     : r->token ? r->token->name
                                : NULL,
        .csrf = r->csrf,
        .tz = r->w->o.timezone ? r->w->o.timezone : "UTC",
        .flash = r->flash[0] ? r->flash : NULL,
        .flash_error = r->flash_error,
        .path = buf_str(&r->path),
        .currency = r->w->o.env ? r->w->o.env->rc->currency : NULL,
    };
}

static enum MHD_Result page_error(struct req *r, unsigned status, const char *msg) {
    struct dash_ctx ctx;
    ctx_of(r, &ctx);
    struct buf b;
    buf_init(&b, 0);
    dash_error(&b, &ctx, (int)status, msg);
    return send_html(r->w, r->c, status, &b, NULL, 0);
}

/* Sets the flash cookie for the next page. */
static void flash_header(const char *msg, bool error, char *out, size_t size) {
    char *enc = g_uri_escape_string(msg, NULL, false);
    snprintf(out, size, FLASH_COOKIE "=%c%s; Path=/; Max-Age=60; HttpOnly; SameSite=Strict",
             error ? 'E' : 'I', enc);
    g_free(enc);
}

/* ---- /metrics -------------------------------------------------------------------------------- */

static const char *const ingest_outcomes[][2] = {{"messages.accepted", "accepted"},
                                                 {"messages.duplicates", "duplicate"},
                                                 {"messages.quarantined", "quarantined"},
                                                 {"messages.rejected", "rejected"},
                                                 {"messages.ignored", "ignored"}};
#define N_OUTCOMES (sizeof ingest_outcomes / sizeof ingest_outcomes[0])

static void on_counter(void *arg, const char *name, int64_t value) {
    int64_t *v = arg;
    for (size_t i = 0; i < N_OUTCOMES; i++)
        if (strcmp(name, ingest_outcomes[i][0]) == 0)
            v[i] = value;
}

/* mapping.aliased and mapping.renamed into v[0] and v[1]. */
static void on_mapping_counter(void *arg, const char *name, int64_t value) {
    int64_t *v = arg;
    if (strcmp(name, "mapping.aliased") == 0)
        v[0] = value;
    else if (strcmp(name, "mapping.renamed") == 0)
        v[1] = value;
}

static void on_rule_totals(void *arg, const struct store_rule_counts *c) {
    int64_t *t = arg;
    t[0] += c->open;
    t[1] += c->snoozed;
    t[2] += c->closed;
}

static void on_outbox_count(void *arg, const char *status, int64_t rows, int64_t resends) {
    buf_printf(arg, "tend_outbox_rows{status=\"%s\"} %lld\n", status, (long long)rows);
}

/* Appends v as a Prometheus label value: backslash, quote and newline escaped. */
static void label_value(struct buf *b, const char *v) {
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            buf_putc(b, '\\');
        if (*v == '\n')
            buf_puts(b, "\\n");
        else
            buf_putc(b, *v);
    }
}

static enum tend_err metrics_text(struct web *w, struct store *s, struct buf *b) {
    enum tend_err e;
    buf_puts(b, "# HELP tend_build_info The running tend's version (tend --version).\n"
                "# TYPE tend_build_info gauge\ntend_build_info{version=\"");
    label_value(b, tend_version());
    buf_puts(b, "\"} 1\n");
    buf_puts(b, "# HELP tend_ingest_messages_total Messages ingested, by outcome (lifetime).\n"
                "# TYPE tend_ingest_messages_total counter\n");
    int64_t outcomes[N_OUTCOMES] = {0};
    if ((e = store_counters_each(s, on_counter, outcomes)))
        return e;
    for (size_t i = 0; i < N_OUTCOMES; i++)
        buf_printf(b, "tend_ingest_messages_total{outcome=\"%s\"} %lld\n", ingest_outcomes[i][1],
                   (long long)outcomes[i]);
    int64_t mapped[2] = {0};
    if ((e = store_counters_each(s, on_mapping_counter, mapped)))
        return e;
    buf_printf(b,
               "# HELP tend_ingest_mapped_total Track events mapped by events: in tend.yaml "
               "(lifetime).\n"
               "# TYPE tend_ingest_mapped_total counter\n"
               "tend_ingest_mapped_total{mapping=\"aliased\"} %lld\n"
               "tend_ingest_mapped_total{mapping=\"renamed\"} %lld\n",
               (long long)mapped[0], (long long)mapped[1]);
    struct store_status st;
    if ((e = store_status_get(s, &st)))
        return e;
    buf_printf(b,
               "# HELP tend_accounts Accounts known.\n# TYPE tend_accounts gauge\n"
               "tend_accounts %lld\n",
               (long long)st.accounts);
    int64_t ctas[3] = {0};
    if ((e = store_rule_counts_each(s, 0, on_rule_totals, ctas)))
        return e;
    buf_printf(b,
               "# HELP tend_ctas CTAs by status.\n# TYPE tend_ctas gauge\n"
               "tend_ctas{status=\"open\"} %lld\ntend_ctas{status=\"snoozed\"} %lld\n"
               "tend_ctas{status=\"closed\"} %lld\n",
               (long long)ctas[0], (long long)ctas[1], (long long)ctas[2]);
    buf_puts(b, "# HELP tend_outbox_rows Outbox rows by status.\n# TYPE tend_outbox_rows gauge\n");
    if ((e = store_outbox_counts(s, on_outbox_count, b)))
        return e;
    int64_t oldest = 0;
    bool found = false;
    if ((e = store_outbox_oldest_pending(s, &oldest, &found)))
        return e;
    buf_printf(b,
               "# HELP tend_outbox_oldest_pending_seconds Age of the oldest pending row.\n"
               "# TYPE tend_outbox_oldest_pending_seconds gauge\n"
               "tend_outbox_oldest_pending_seconds %.3f\n",
               found ? (double)(dt_now_ms() - oldest) / 1000.0 : 0.0);
    buf_puts(b, "# HELP tend_deliveries_total Delivery attempts by this process.\n"
                "# TYPE tend_deliveries_total counter\n");
    pthread_mutex_lock(&w->lock);
    int n = w->n_deliveries;
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < n; i++) {
        struct delivery_count *d = &w->deliveries[i];
        buf_printf(b,
                   "tend_deliveries_total{channel=\"%s\",outcome=\"sent\"} %lld\n"
                   "tend_deliveries_total{channel=\"%s\",outcome=\"retry\"} %lld\n"
                   "tend_deliveries_total{channel=\"%s\",outcome=\"dead\"} %lld\n",
                   d->channel, (long long)atomic_load(&d->sent), d->channel,
                   (long long)atomic_load(&d->retry), d->channel, (long long)atomic_load(&d->dead));
    }
    buf_puts(b, "# HELP tend_http_requests_total Requests answered by this process.\n"
                "# TYPE tend_http_requests_total counter\n");
    for (int r = 0; r < R_COUNT; r++)
        for (size_t k = 0; k <= N_CODES; k++) {
            long long v = atomic_load(&w->requests[r][k]);
            if (v)
                buf_printf(b, "tend_http_requests_total{route=\"%s\",code=\"%s%u\"} %lld\n",
                           route_names[r], k < N_CODES ? "" : "other",
                           k < N_CODES ? code_list[k] : 0, v);
        }
    enum tend_err he = hooks_metrics(w->o.hooks, s, b); /* the connectors (server/hooks.h) */
    if (he)
        return he;
    /* Under --no-eval the series are there with zeros: a dashboard or an
     * alert on them must not see them vanish. */
    struct sched_stats ss = {0};
    if (w->o.sched)
        sched_stats(w->o.sched, &ss);
    buf_printf(b,
               "# HELP tend_eval_runs_total Evaluations by this process.\n"
               "# TYPE tend_eval_runs_total counter\n"
               "tend_eval_runs_total{kind=\"daily\"} %lld\n"
               "tend_eval_runs_total{kind=\"event\"} %lld\n"
               "# HELP tend_eval_failures_total Evaluations that failed.\n"
               "# TYPE tend_eval_failures_total counter\n"
               "tend_eval_failures_total %lld\n"
               "# HELP tend_eval_duration_seconds The last evaluation's duration.\n"
               "# TYPE tend_eval_duration_seconds gauge\n"
               "tend_eval_duration_seconds{kind=\"daily\"} %.3f\n"
               "tend_eval_duration_seconds{kind=\"event\"} %.3f\n"
               "# HELP tend_eval_last_success_timestamp_seconds When the last daily "
               "evaluation finished.\n"
               "# TYPE tend_eval_last_success_timestamp_seconds gauge\n"
               "tend_eval_last_success_timestamp_seconds %.3f\n"
               "# HELP tend_eval_events_pending Accounts waiting for an event evaluation.\n"
               "# TYPE tend_eval_events_pending gauge\n"
               "tend_eval_events_pending %lld\n",
               (long long)ss.daily_runs, (long long)ss.event_runs, (long long)ss.failures,
               ss.last_daily_s, ss.last_event_s, (double)ss.last_daily_ok_ms / 1000.0,
               (long long)ss.events_pending);
    return TEND_OK;
}

/* ---- sign-in --------------------------------------------------------------------------------- */

/* The sign-in form (status, with error or notice), with a fresh pre-session
 * cookie when fresh is true. extra: one more header pair, or NULL. */
static enum MHD_Result login_form(struct req *r, unsigned status, const char *error,
                                  const char *notice, const char *next, const char *pre, bool fresh,
                                  const char *extra_name, const char *extra_value) {
    char token[AUTH_CSRF_BYTES];
    auth_login_csrf(r->w->o.auth, pre, token);
    struct buf b;
    buf_init(&b, 0);
    dash_login_sso(&b, error, notice, next, token, r->w->o.sso ? r->w->o.sso->label : NULL);
    char cookie[200];
    snprintf(cookie, sizeof cookie,
             LOGIN_COOKIE "=%s; Path=/login; Max-Age=%d; HttpOnly; SameSite=Strict%s", pre,
             LOGIN_COOKIE_SECONDS, r->w->o.secure_cookies ? "; Secure" : "");
    const char *h[4];
    size_t n = 0;
    if (fresh) {
        h[n++] = MHD_HTTP_HEADER_SET_COOKIE;
        h[n++] = cookie;
    }
    if (extra_name) {
        h[n++] = extra_name;
        h[n++] = extra_value;
    }
    return send_html(r->w, r->c, status, &b, h, n);
}

/* GET /login shows the form; POST /login signs in. The form carries the
 * HMAC of a random pre-session cookie (SameSite=Strict), and a POST needs
 * both: a form on another site can neither read the token nor send the
 * cookie, so it cannot sign a victim in as the attacker (login CSRF). */
static enum MHD_Result login(struct req *r) {
    struct web *w = r->w;
    bool post = strcmp(r->method, "POST") == 0;
    const char *next = local_path(view_param(post ? &r->form : &r->query, "next"), "/accounts");
    const char *pre = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, LOGIN_COOKIE);
    char fresh[AUTH_LOGIN_COOKIE_BYTES];
    bool made = !auth_login_cookie_ok(pre);
    if (made) {
        auth_login_cookie_new(fresh);
        pre = fresh;
    }
    if (!post) {
        const char *out = view_param(&r->query, "signed_out");
        const char *set = view_param(&r->query, "password_set");
        return login_form(r, MHD_HTTP_OK, NULL,
                          out   ? "You are signed out in every browser and on every device."
                          : set ? "Your password is set: sign in with it."
                                : NULL,
                          next, pre, made, NULL, NULL);
    }
    if (made || !auth_login_csrf_ok(w->o.auth, pre, view_param(&r->form, "csrf")))
        return login_form(r, MHD_HTTP_FORBIDDEN,
                          "This sign-in form has expired or did not come from tend: "
                          "sign in again with this one.",
                          NULL, next, pre, made, NULL, NULL);

    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct auth_attempt t = {
        .email = view_param(&r->form, "email"),
        .password = view_param(&r->form, "password"),
        .from = ci ? ci->client_addr : NULL,
        .now_ms = dt_now_ms(),
    };
    struct auth_user found;
    const struct auth_user *u = &found;
    int retry_s = 0;
    char err[STORE_ERR_BYTES];
    struct store *s = pool_get(w, err);
    if (!s)
        return login_form(r, MHD_HTTP_SERVICE_UNAVAILABLE, err, NULL, next, pre, made,
                          MHD_HTTP_HEADER_RETRY_AFTER, "5");
    if (t.email && strlen(t.email) > SERVE_EMAIL_MAX_BYTES)
        t.email = ""; /* never a person: the same answer as an unknown one */
    if (t.password && strlen(t.password) > WEB_PASSWORD_MAX_BYTES)
        t.password = NULL;
    enum auth_result res = auth_login_user(w->o.auth, &t, web_find_person, s, &found, &retry_s);
    pool_put(w, s);
    if (res != AUTH_OK) {
        char msg[200], after[16];
        unsigned status = MHD_HTTP_TOO_MANY_REQUESTS;
        snprintf(after, sizeof after, "%d", retry_s);
        if (res == AUTH_BAD) {
            status = MHD_HTTP_UNAUTHORIZED;
            snprintf(msg, sizeof msg, "Wrong email or password.");
        } else if (res == AUTH_LOCKED) {
            snprintf(msg, sizeof msg,
                     "Too many failed sign-ins for this email: try again in %d minutes.",
                     (retry_s + 59) / 60);
        } else if (res == AUTH_LIMITED) {
            snprintf(msg, sizeof msg,
                     "Too many sign-in attempts from your address: try again in %d seconds.",
                     retry_s);
        } else {
            status = MHD_HTTP_SERVICE_UNAVAILABLE;
            snprintf(msg, sizeof msg, "Sign-in is busy: try again in a moment.");
        }
        return login_form(r, status, msg, NULL, next, pre, made,
                          res == AUTH_BAD ? NULL : MHD_HTTP_HEADER_RETRY_AFTER, after);
    }
    s = pool_get(w, err);
    int64_t epoch = 0;
    enum tend_err e = s ? store_session_epoch(s, u->email, &epoch) : TEND_ERR_DB;
    if (e && s)
        snprintf(err, sizeof err, "%s", store_last_error(s));
    if (s)
        pool_put(w, s);
    if (e)
        return login_form(r, MHD_HTTP_SERVICE_UNAVAILABLE, err, NULL, next, pre, made,
                          MHD_HTTP_HEADER_RETRY_AFTER, "5");
    char *session = auth_session_make(w->o.auth, u, epoch, dt_now_ms());
    char cookie[1400];
    snprintf(cookie, sizeof cookie,
             SESSION_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", session,
             (long long)auth_session_seconds(w->o.auth), w->o.secure_cookies ? "; Secure" : "");
    free(session);
    const char *h[] = {MHD_HTTP_HEADER_SET_COOKIE, cookie, MHD_HTTP_HEADER_SET_COOKIE,
                       LOGIN_COOKIE "=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict"};
    return redirect(w, r->c, R_LOGIN, next, h, 4);
}

/* POST /logout: ends every session of the user (a new session epoch in the
 * store, so in every process and browser), then clears the cookie. */
enum MHD_Result web_h_logout(struct req *r, struct store *s) {
    if (strcmp(r->method, "POST") != 0)
        return page_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Sign out with the button.");
    if (r->user) {
        int64_t epoch;
        if (store_session_epoch_bump(s, r->user->email, dt_now_ms(), &epoch))
            return page_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(s));
    }
    const char *h[] = {MHD_HTTP_HEADER_SET_COOKIE,
                       SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"};
    return redirect(r->w, r->c, R_LOGIN, "/login?signed_out=1", h, 2);
}

/* The user of the request's session cookie (r->cookie), checked against the
 * user's session epoch in the store: NULL when there is none or it is not
 * valid. Takes a store connection into *s when needed (and none is there
 * yet); false when the store cannot be read (err set). */
static bool session_of(struct req *r, struct store **s, int64_t now, char *err) {
    r->user = NULL;
    char email[SERVE_EMAIL_MAX_BYTES + 1];
    if (!auth_session_email(r->w->o.auth, r->cookie, now, email))
        return true;
    if (!*s && !(*s = pool_get(r->w, err)))
        return false;
    /* The person as they are now: a disabled one is not found, so every
     * session of theirs stops at once; a changed role holds at once. */
    if (!auth_user_find(r->w->o.auth, email, web_find_person, *s, &r->user_buf))
        return true;
    int64_t epoch;
    if (store_session_epoch(*s, r->user_buf.email, &epoch)) {
        snprintf(err, STORE_ERR_BYTES, "%s", store_last_error(*s));
        return false;
    }
    if (auth_session_valid(r->w->o.auth, r->cookie, &r->user_buf, epoch, now))
        r->user = &r->user_buf;
    return true;
}

/* ---- routing ----------------------------------------------------------------------------------
 */

static bool is_api(const char *url) {
    return strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0;
}

/* Answers a view's table as CSV (csv.h), an attachment named after it;
 * takes view. */
enum MHD_Result web_send_csv(struct req *r, cJSON *view) {
    struct buf b;
    buf_init(&b, 0);
    const char *name = NULL;
    bool ok = csv_of_view(view, &b, &name);
    char disposition[96];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"tend-%.40s.csv\"",
             name ? name : "table");
    cJSON_Delete(view);
    if (!ok) {
        buf_free(&b);
        return r->api ? json_error(r->w, r->c, MHD_HTTP_BAD_REQUEST, "this view has no table")
                      : page_error(r, MHD_HTTP_BAD_REQUEST, "This page has no table to export.");
    }
    const char *h[] = {"Content-Disposition", disposition};
    size_t len = b.len;
    char *body = buf_steal(&b);
    if (!body)
        body = xstrdup("");
    return send_body(r->w, r->c, r->api ? R_API : R_PAGE, MHD_HTTP_OK, "text/csv; charset=utf-8",
                     body, len, h, 2);
}

enum MHD_Result web_h_metrics(struct req *r, struct store *s) {
    struct buf b;
    buf_init(&b, 0);
    if (metrics_text(r->w, s, &b)) {
        buf_free(&b);
        return json_error(r->w, r->c, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(s));
    }
    size_t n = b.len;
    char *text = buf_steal(&b);
    return send_body(r->w, r->c, R_METRICS, MHD_HTTP_OK, "text/plain; version=0.0.4", text, n, NULL,
                     0);
}

enum MHD_Result web_h_static(struct req *r, struct store *s) {
    (void)s;
    const char *h[] = {MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=3600"};
    char *css = g_strconcat(dash_css, dash_model_css, dash_cockpit_css, NULL);
    size_t css_len = strlen(css);
    enum MHD_Result ret = send_body(r->w, r->c, R_STATIC, MHD_HTTP_OK, "text/css; charset=utf-8",
                                    xstrdup(css), css_len, h, 2);
    g_free(css);
    return ret;
}

enum MHD_Result web_h_login(struct req *r, struct store *s) {
    (void)s;
    return login(r);
}

static enum MHD_Result unsubscribe(struct web *w, struct MHD_Connection *c, const char *token);

enum MHD_Result web_h_unsubscribe(struct req *r, struct store *s) {
    (void)s;
    return unsubscribe(r->w, r->c, r->cap[0]);
}

/* Whether the one account or CTA a route is about is the asker's: an
 * account whose csm_email is theirs, a CTA assigned to them or of such an
 * account. *found false when there is no such thing (the handler then says
 * so). */
static enum tend_err owner_check(struct req *r, struct store *s, bool *mine, bool *found) {
    *mine = *found = false;
    return r->route->about == ROUTE_ABOUT_CTA
               ? web_cta_is_mine(s, r->cap[0], r->user->email, mine, found)
               : web_account_is_mine(s, r->cap[0], r->user->email, mine, found);
}

/* Rebuilds "url?query" with each part percent-encoded. */
static void path_of(struct req *r) {
    buf_init(&r->path, 0);
    char *u = g_uri_escape_string(r->url, "/", false);
    buf_puts(&r->path, u);
    g_free(u);
    for (int i = 0; i < r->query.n; i++) {
        char *k = g_uri_escape_string(r->query.keys[i], NULL, false);
        char *v = g_uri_escape_string(r->query.values[i], NULL, false);
        buf_printf(&r->path, "%c%s=%s", i ? '&' : '?', k, v);
        g_free(k);
        g_free(v);
    }
}

/* POST /hooks/PROVIDER (server/hooks.h): the provider's signature over the
 * raw body is its authentication (a PERM_PUBLIC route of the table with
 * raw_body: the body is not parsed before). No hooks configured: 404. */
enum MHD_Result web_h_hooks(struct req *r, struct store *s) {
    (void)s;
    if (!r->w->o.hooks)
        return json_error(r->w, r->c, MHD_HTTP_NOT_FOUND, "no such endpoint");
    unsigned status;
    cJSON *answer;
    hooks_receive(r->w->o.hooks, r->c, r->url, r->method, r->body, r->body_len, &status, &answer);
    return send_json(r->w, r->c, R_HOOKS, status, answer);
}

/* POST /slack/... (server/slack.h): Slack's signature over the raw body,
 * not a session, is its authentication; slack.c decides, per request, what
 * the mapped tend user may do (slack_may_act, through core/permissions). */
enum MHD_Result web_h_slack(struct req *r, struct store *s) {
    (void)s;
    return slack_http(r->w->o.slack, r->c, r->url, r->method, r->body, r->body_len);
}

/* GET or POST /unsubscribe/TOKEN (server/unsubscribe.h): limited per client
 * address first, then the token verified, and only a valid one takes a store
 * connection. */
static enum MHD_Result unsubscribe(struct web *w, struct MHD_Connection *c, const char *token) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct buf b;
    buf_init(&b, 0);
    unsigned status;
    int retry_s;
    if (!unsubscribe_gate_take(w->unsub_gate, ci ? ci->client_addr : NULL, dt_now_ms(), &retry_s)) {
        char after[16];
        snprintf(after, sizeof after, "%d", retry_s);
        const char *h[] = {MHD_HTTP_HEADER_RETRY_AFTER, after};
        unsubscribe_limited(retry_s, &b, &status);
        return send_html(w, c, status, &b, h, 2);
    }
    struct unsub_request req;
    if (!unsubscribe_parse(w->o.unsub_key, token, &req, &b, &status))
        return send_html(w, c, status, &b, NULL, 0);
    char err[STORE_ERR_BYTES];
    struct store *s = pool_get(w, err);
    if (!s) /* the store's words are for the log, not for a customer */
        log_printf("tend serve: unsubscribe: %s", err);
    unsubscribe_answer(s, &req, dt_now_ms(), &b, &status);
    if (s)
        pool_put(w, s);
    return send_html(w, c, status, &b, NULL, 0);
}

/* The decision for r on its route (core/permissions.h), with the owner
 * looked up when the answer depends on it; takes a store connection into
 * *s then. Answers a refusal itself (*answered) with 401 or 403 and the
 * reason; sets r->own_only for a list to narrow. */
static enum MHD_Result authorize(struct req *r, struct store **s, bool *allowed) {
    struct web *w = r->w;
    *allowed = false;
    static const enum perm_target targets[] = {PERM_T_NONE, PERM_T_LIST, PERM_T_UNKNOWN,
                                               PERM_T_UNKNOWN};
    enum perm_target t = targets[r->route->about];
    enum perm_verdict v = perm_decide(&r->who, r->route->need, t);
    if (v == PERM_ASK_OWNER) {
        char err[STORE_ERR_BYTES];
        if (!*s && !(*s = pool_get(w, err)))
            return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        bool mine = false, found = false;
        if (owner_check(r, *s, &mine, &found))
            return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(*s));
        /* Nothing there: the handler says "no such ..." to everyone alike. */
        t = !found || mine ? PERM_T_MINE : PERM_T_OTHERS;
        v = perm_decide(&r->who, r->route->need, t);
    }
    if (v == PERM_ALLOW || v == PERM_ALLOW_OWN) {
        r->own_only = v == PERM_ALLOW_OWN;
        *allowed = true;
        return MHD_YES;
    }
    if (v == PERM_DENY_SIGN_IN) {
        if (r->json_errors)
            return json_error(w, r->c, MHD_HTTP_UNAUTHORIZED, "sign in or send an API token");
        char *next = g_uri_escape_string(buf_str(&r->path), NULL, false);
        char to[2048];
        snprintf(to, sizeof to, "/login?next=%.1900s", next);
        g_free(next);
        return redirect(w, r->c, R_PAGE, strlen(to) < sizeof to - 1 ? to : "/login", NULL, 0);
    }
    char why[400];
    perm_explain(&r->who, r->route->need, t, why, sizeof why);
    return r->json_errors ? json_error(w, r->c, MHD_HTTP_FORBIDDEN, why)
                          : page_error(r, MHD_HTTP_FORBIDDEN, why);
}

enum MHD_Result web_answer(struct web *w, struct MHD_Connection *c, const char *url,
                           const char *method, const char *body, size_t len) {
    struct req r = {.w = w, .c = c, .url = url, .method = method, .api = is_api(url)};
    r.json_errors = r.api || strcmp(url, "/metrics") == 0;
    struct store *s = NULL; /* a pooled connection, taken when first needed */
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_arg, &r.query);
    path_of(&r);
    enum MHD_Result ret;
    bool post = strcmp(method, "POST") == 0;
    /* Which route answers (web_routes.c's table), and what it needs. */
    bool path_known = false;
    r.route = web_route_find(&r, r.api ? url + 4 : url, &path_known);
    r.body = body;
    r.body_len = len;
    if (post && !(r.route && r.route->raw_body)) {
        const char *type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (type && strncmp(type, "application/json", 16) == 0) {
            if (!parse_json(&r, body, len)) {
                ret = json_error(w, c, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
                goto done;
            }
        } else {
            parse_form(&r, body, len);
        }
    }

    if (!(r.route && r.route->raw_body) && !post && strcmp(method, "GET") != 0 &&
        strcmp(method, "HEAD") != 0) {
        ret = web_error(&r, MHD_HTTP_METHOD_NOT_ALLOWED,
                        r.api ? "use GET or POST" : "Use GET or POST.");
        goto done;
    }
    if (!r.route) {
        if (path_known)
            ret = web_error(&r, MHD_HTTP_METHOD_NOT_ALLOWED,
                            strcmp(url, "/metrics") == 0 ? "use GET /metrics"
                            : r.api ? (post ? "use GET" : "use POST for an action")
                                    : (post ? "Use GET." : "Use the form's button."));
        else
            ret = web_error(&r, MHD_HTTP_NOT_FOUND, r.api ? "no such endpoint" : "No such page.");
        goto done;
    }
    web_handler handler = (web_handler)r.route->handler;
    if (r.route->need == PERM_PUBLIC) {
        ret = handler(&r, NULL);
        goto done;
    }

    /* Who is asking: a session cookie, or an API token. */
    const char *authz = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    int64_t now = dt_now_ms();
    char err[STORE_ERR_BYTES];
    r.cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
    if (authz && g_ascii_strncasecmp(authz, "Bearer ", 7) == 0) {
        /* A token speaks for itself, whatever the cookie: no CSRF, no "me". */
        if (!web_token_of(&r, &s, authz + 7, err)) {
            ret = json_error(w, c, MHD_HTTP_SERVICE_UNAVAILABLE, err);
            goto done;
        }
        if (!r.token) {
            ret = json_error(w, c, MHD_HTTP_UNAUTHORIZED, "unknown API token");
            goto done;
        }
    } else if (!session_of(&r, &s, now, err)) {
        ret = web_error(&r, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        goto done;
    }
    r.who = (struct perm_who){
        .kind = r.token  ? PERM_TOKEN
                : r.user ? PERM_PERSON
                         : PERM_NOBODY,
        .role = r.user ? r.user->role : PERM_ROLE_VIEWER,
        .scope = r.token ? r.token->scope : PERM_SCOPE_READ,
        .csm_own_book_only = w->o.csm_own_book_only,
    };
    bool api = r.api || strcmp(url, "/metrics") == 0;
    if (r.user)
        auth_csrf(w->o.auth, r.cookie, r.csrf);
    if (post && r.user) {
        const char *token = header(c, "X-CSRF-Token");
        if (!token)
            token = view_param(&r.form, "csrf");
        if (!auth_csrf_ok(w->o.auth, r.cookie, token)) {
            ret = api ? json_error(w, c, MHD_HTTP_FORBIDDEN,
                                   "missing or wrong CSRF token (X-CSRF-Token)")
                      : page_error(&r, MHD_HTTP_FORBIDDEN,
                                   "This form has expired or did not come from tend: go back, "
                                   "reload the page and try again.");
            goto done;
        }
    }
    const char *flash = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, FLASH_COOKIE);
    if (flash && flash[0]) {
        char *text = g_uri_unescape_string(flash + 1, NULL);
        if (text)
            snprintf(r.flash, sizeof r.flash, "%s", text);
        r.flash_error = flash[0] == 'E';
        g_free(text);
    }
    bool allowed;
    ret = authorize(&r, &s, &allowed);
    if (!allowed)
        goto done;
    if (!s && !(s = pool_get(w, err))) {
        ret = web_error(&r, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        goto done;
    }
    ret = handler(&r, s);
done:
    if (s)
        pool_put(w, s);
    for (int i = 0; i < r.n_cap; i++)
        g_free(r.cap[i]);
    req_free(&r);
    return ret;
}

/* ---- what web_int.h shares with web_team.c and web_sso.c ------------------------------------ */

const char *web_actor(const struct req *r) {
    return r->user ? r->user->email : r->token ? r->token->name : "api";
}

struct auth *web_auth(const struct req *r) {
    return r->w->o.auth;
}

const struct view_env *web_env(const struct req *r) {
    return r->w->o.env;
}

const char *web_base_url(const struct req *r) {
    return r->w->o.base_url;
}

bool web_secure_cookies(const struct req *r) {
    return r->w->o.secure_cookies;
}

struct store *web_pool_get(struct req *r, char *err) {
    return pool_get(r->w, err);
}

void web_pool_put(struct req *r, struct store *s) {
    pool_put(r->w, s);
}

enum MHD_Result web_send_json(struct req *r, unsigned status, cJSON *o) {
    return send_json(r->w, r->c, R_API, status, o);
}

enum MHD_Result web_json_error(struct req *r, unsigned status, const char *msg) {
    return json_error(r->w, r->c, status, msg);
}

enum MHD_Result web_page_error(struct req *r, unsigned status, const char *msg) {
    return page_error(r, status, msg);
}

enum MHD_Result web_error(struct req *r, unsigned status, const char *msg) {
    return r->json_errors ? json_error(r->w, r->c, status, msg) : page_error(r, status, msg);
}

enum MHD_Result web_send_page(struct req *r, unsigned status, struct buf *b) {
    const char *clear[] = {MHD_HTTP_HEADER_SET_COOKIE,
                           FLASH_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"};
    return send_html(r->w, r->c, status, b, clear, r->flash[0] ? 2 : 0);
}

enum MHD_Result web_redirect(struct req *r, const char *to, const char *flash, bool flash_error) {
    if (!flash)
        return redirect(r->w, r->c, R_PAGE, local_path(to, "/"), NULL, 0);
    char cookie[600];
    flash_header(flash, flash_error, cookie, sizeof cookie);
    const char *h[] = {MHD_HTTP_HEADER_SET_COOKIE, cookie};
    return redirect(r->w, r->c, R_PAGE, local_path(to, "/"), h, 2);
}

const struct serve_sso *web_sso_config(const struct req *r) {
    return r->w->o.sso;
}

struct sso_cache *web_sso_cache(const struct req *r) {
    return r->w->sso_cache;
}

enum MHD_Result web_session_redirect(struct req *r, const struct auth_user *u, int64_t epoch,
                                     const char *next, const char *extra_cookie) {
    char *session = auth_session_make(r->w->o.auth, u, epoch, dt_now_ms());
    char cookie[1400];
    snprintf(cookie, sizeof cookie,
             SESSION_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s", session,
             (long long)auth_session_seconds(r->w->o.auth),
             r->w->o.secure_cookies ? "; Secure" : "");
    free(session);
    const char *h[] = {MHD_HTTP_HEADER_SET_COOKIE, cookie, MHD_HTTP_HEADER_SET_COOKIE,
                       extra_cookie};
    return redirect(r->w, r->c, R_LOGIN, local_path(next, "/accounts"), h, extra_cookie ? 4 : 2);
}

enum MHD_Result web_redirect_to(struct req *r, const char *url, const char *cookie) {
    const char *h[] = {MHD_HTTP_HEADER_SET_COOKIE, cookie};
    return redirect(r->w, r->c, R_LOGIN, url, h, cookie ? 2 : 0);
}

void web_ctx(const struct req *r, struct dash_ctx *ctx) {
    ctx_of(r, ctx);
}
