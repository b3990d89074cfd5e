/* web.c: the dashboard, the REST API and /metrics (see web.h). */
#include "server/web.h"

#include <cjson/cJSON.h>
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/act.h"
#include "eval/notes.h"
#include "eval/playbook.h"
#include "server/bulk.h"
#include "server/csv.h"
#include "server/dash.h"
#include "server/dash_model.h"
#include "server/hooks.h"
#include "server/html.h"
#include "server/http.h"
#include "server/status.h"
#include "server/unsubscribe.h"
#include "server/views_model.h"
#include "server/views_users.h"
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
#define MAX_FORM             256 /* a bulk action: an id= per CTA (bulk.h) */
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

/* Who is asking and what they sent. */
struct req {
    struct web *w;
    struct MHD_Connection *c;
    const char *url, *method;
    const char *cookie;              /* the session cookie's value, or NULL */
    const struct serve_user *user;   /* signed in */
    const struct serve_token *token; /* by API token */
    char csrf[AUTH_CSRF_BYTES];
    struct view_params query;
    struct view_params form; /* a POST's form or JSON fields (strings) */
    char *form_buf[MAX_FORM * 2];
    int n_form_buf;
    cJSON *json;     /* a JSON body, kept for its strings */
    struct buf path; /* url and query, re-encoded: the forms' "back" */
    char flash[200];
    bool flash_error;
};

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

/* ---- CTA actions ---------------------------------------------------------------------------- */

/* Applies POST .../ctas/{id}/{verb} with the fields in r->form. */
static enum tend_err cta_action(struct req *r, struct store *s, int64_t id, const char *verb,
                                char *msg, size_t size) {
    struct cta_act a = {.by = r->user ? r->user->email : r->token ? r->token->name : "api"};
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
        return eval_cta_step(s, r->w->o.env->rc->playbooks, id, view_param(&r->form, "step"), !undo,
                             a.by, msg, size);
    } else {
        snprintf(msg, size,
                 "no such action \"%.40s\" (snooze, close, assign, acknowledge, note, step)", verb);
        return TEND_ERR_NOTFOUND;
    }
    return eval_cta_act(s, id, &a, msg, size);
}

/* /accounts/{id}/notes: POST records a note on the account (eval/notes.h),
 * then answers the account's notes (API) or goes back to the page with a
 * notice; GET (API) lists them. */
static enum MHD_Result account_notes(struct req *r, struct store *s, bool api, bool post,
                                     const char *account);

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
    dash_login(&b, error, notice, next, token);
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
        return login_form(r, MHD_HTTP_OK, NULL,
                          out ? "You are signed out in every browser and on every device." : NULL,
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
    const struct serve_user *u = NULL;
    int retry_s = 0;
    enum auth_result res = auth_login(w->o.auth, &t, &u, &retry_s);
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
    char err[STORE_ERR_BYTES];
    struct store *s = pool_get(w, err);
    int64_t epoch = 0;
    enum tend_err e = s ? store_session_epoch(s, u->email, &epoch) : TEND_ERR_DB;
    if (e && s)
        snprintf(err, sizeof err, "%s", store_last_error(s));
    if (s)
        pool_put(w, s);
    if (e)
        return login_form(r, MHD_HTTP_SERVICE_UNAVAILABLE, err, NULL, next, pre, made,
                          MHD_HTTP_HEADER_RETRY_AFTER, "5");
    char *session = auth_session_new(w->o.auth, u, epoch, dt_now_ms());
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
static enum MHD_Result logout(struct req *r, struct store *s) {
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
    const struct serve_user *u = auth_session_claim(r->w->o.auth, r->cookie, now);
    if (!u)
        return true;
    if (!*s && !(*s = pool_get(r->w, err)))
        return false;
    int64_t epoch;
    if (store_session_epoch(*s, u->email, &epoch)) {
        snprintf(err, STORE_ERR_BYTES, "%s", store_last_error(*s));
        return false;
    }
    r->user = auth_session_user(r->w->o.auth, r->cookie, epoch, now);
    return true;
}

/* ---- routing ----------------------------------------------------------------------------------
 */

static bool is_api(const char *url) {
    return strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0;
}

/* Answers a view's table as CSV (csv.h), an attachment named after it;
 * takes view. */
static enum MHD_Result send_csv(struct req *r, bool api, cJSON *view) {
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
        return api ? json_error(r->w, r->c, MHD_HTTP_BAD_REQUEST, "this view has no table")
                   : page_error(r, MHD_HTTP_BAD_REQUEST, "This page has no table to export.");
    }
    const char *h[] = {"Content-Disposition", disposition};
    size_t len = b.len;
    char *body = buf_steal(&b);
    if (!body)
        body = xstrdup("");
    return send_body(r->w, r->c, api ? R_API : R_PAGE, MHD_HTTP_OK, "text/csv; charset=utf-8", body,
                     len, h, 2);
}

/* POST /ctas/bulk and /api/ctas/bulk (bulk.h): the API answers the outcome
 * as JSON; the page goes back with it as a notice. */
static enum MHD_Result bulk_action(struct req *r, struct store *s, bool api) {
    if (strcmp(r->method, "POST") != 0)
        return api ? json_error(r->w, r->c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST")
                   : page_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Use the form's button.");
    char msg[500];
    cJSON *result = NULL;
    const char *by = r->user ? r->user->email : r->token ? r->token->name : "api";
    enum tend_err e = bulk_apply(s, &r->form, by, &result, msg, sizeof msg);
    if (api) {
        if (e)
            return json_error(r->w, r->c, http_status_of(e), msg);
        cJSON_AddStringToObject(result, "message", msg);
        return send_json(r->w, r->c, R_API, MHD_HTTP_OK, result);
    }
    bool failed = e || cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(result, "failed")) > 0;
    cJSON_Delete(result);
    char flash[700];
    flash_header(msg, failed, flash, sizeof flash);
    const char *h[] = {MHD_HTTP_HEADER_SET_COOKIE, flash};
    return redirect(r->w, r->c, R_PAGE, local_path(view_param(&r->form, "back"), "/ctas"), h, 2);
}

/* Answers a view as JSON (api) or as its page. */
typedef void (*render_fn)(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);

static enum MHD_Result answer_view(struct req *r, bool api, enum tend_err e, cJSON *view,
                                   const char *err, render_fn render) {
    if (e)
        return api ? json_error(r->w, r->c, http_status_of(e), err)
                   : page_error(r, http_status_of(e), err);
    const char *format = view_param(&r->query, "format");
    if (format && strcmp(format, "csv") == 0)
        return send_csv(r, api, view);
    if (api)
        return send_json(r->w, r->c, R_API, MHD_HTTP_OK, view);
    struct dash_ctx ctx;
    ctx_of(r, &ctx);
    struct buf b;
    buf_init(&b, 0);
    render(&b, &ctx, view);
    cJSON_Delete(view);
    const char *clear[] = {MHD_HTTP_HEADER_SET_COOKIE,
                           FLASH_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"};
    return send_html(r->w, r->c, MHD_HTTP_OK, &b, clear, r->flash[0] ? 2 : 0);
}

static enum MHD_Result route(struct req *r, struct store *s) {
    const char *url = r->url;
    bool api = is_api(url);
    bool post = strcmp(r->method, "POST") == 0;
    const char *path = api ? url + 4 : url; /* "/accounts..." */
    char err[VIEW_ERR_BYTES] = "";
    cJSON *view = NULL;
    enum tend_err e;
    const char *me = r->user ? r->user->email : NULL;

    if (!post && strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        return api ? json_error(r->w, r->c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET or POST")
                   : page_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Use GET or POST.");
    if (strcmp(path, "/ctas/bulk") == 0)
        return bulk_action(r, s, api);
    if (strncmp(path, "/ctas/", 6) == 0) {
        int64_t id;
        const char *verb;
        if (!cta_path(path + 6, &id, &verb))
            return api ? json_error(r->w, r->c, MHD_HTTP_BAD_REQUEST,
                                    "the CTA id must be a positive number")
                       : page_error(r, MHD_HTTP_NOT_FOUND, "No such page.");
        if (verb) {
            if (!post)
                return api ? json_error(r->w, r->c, MHD_HTTP_METHOD_NOT_ALLOWED,
                                        "use POST for an action")
                           : page_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Use the form's button.");
            char msg[400];
            e = cta_action(r, s, id, verb, msg, sizeof msg);
            if (api) {
                if (e)
                    return json_error(r->w, r->c, http_status_of(e), msg);
                e = view_cta(s, r->w->o.env, id, &view, err);
                return answer_view(r, true, e, view, err, NULL);
            }
            char flash[600], text[500];
            if (e)
                snprintf(text, sizeof text, "CTA %lld: %s", (long long)id, msg);
            else
                snprintf(text, sizeof text, "CTA %lld %s", (long long)id, msg);
            flash_header(text, e != TEND_OK, flash, sizeof flash);
            const char *h[] = {MHD_HTTP_HEADER_SET_COOKIE, flash};
            return redirect(r->w, r->c, R_PAGE, local_path(view_param(&r->form, "back"), "/ctas"),
                            h, 2);
        }
        if (post)
            goto method;
        e = view_cta(s, r->w->o.env, id, &view, err);
        return answer_view(r, api, e, view, err, dash_cta);
    }
    size_t nlen = strlen(path);
    if (nlen > 16 && strncmp(path, "/accounts/", 10) == 0 &&
        strcmp(path + nlen - 6, "/notes") == 0 && (api || post)) {
        char *account = g_strndup(path + 10, nlen - 16);
        enum MHD_Result ret = account_notes(r, s, api, post, account);
        g_free(account);
        return ret;
    }
    if (api && !post && strcmp(path, "/notes") == 0) { /* views_notes.c */
        e = view_notes(s, &r->query, &view, err);
        return answer_view(r, true, e, view, err, NULL);
    }
    if (post)
        goto method;
    if (strcmp(path, "/accounts") == 0) {
        e = view_accounts(s, r->w->o.env, &r->query, &view, err);
        cJSON *portfolio = NULL; /* the page's header (views_portfolio.c) */
        if (!e && !api && !view_param(&r->query, "format") &&
            !(e = view_portfolio(s, r->w->o.env, &portfolio, err)))
            cJSON_AddItemToObject(view, "portfolio", portfolio);
        else if (e)
            cJSON_Delete(view);
        return answer_view(r, api, e, view, err, dash_accounts);
    }
    if (api && strcmp(path, "/labels") == 0) {
        e = view_labels(r->w->o.env, &view);
        return answer_view(r, true, e, view, err, NULL);
    }
    if (api && strcmp(path, "/portfolio") == 0) {
        e = view_portfolio(s, r->w->o.env, &view, err);
        return answer_view(r, true, e, view, err, NULL);
    }
    size_t plen = strlen(path);
    if (api && plen > 16 && strncmp(path, "/accounts/", 10) == 0 &&
        strcmp(path + plen - 6, "/users") == 0) { /* an account's users (views_users.c) */
        char *account = g_strndup(path + 10, plen - 16);
        e = view_account_users(s, r->w->o.env, account, &view, err);
        g_free(account);
        return answer_view(r, true, e, view, err, NULL);
    }
    if (strncmp(path, "/accounts/", 10) == 0 && path[10]) {
        e = view_account(s, r->w->o.env, path + 10, &r->query, &view, err);
        if (!e && (e = view_account_risk(s, path + 10, view, err)))
            cJSON_Delete(view);
        else if (!e && (e = view_account_users_add(s, r->w->o.env, path + 10, view, err)))
            cJSON_Delete(view);
        return answer_view(r, api, e, view, err, dash_account);
    }
    if (strcmp(path, "/risk") == 0) { /* the churn-risk model (views_model.c) */
        struct view_params q = r->query;
        /* The page: 50 rows a page unless said otherwise (the API: every row). */
        if (!api && !view_param(&q, "per_page") && !view_param(&q, "limit") &&
            q.n < VIEW_MAX_PARAMS) {
            q.keys[q.n] = "per_page";
            q.values[q.n++] = "50";
        }
        e = view_risk(s, &q, me, &view, err);
        return answer_view(r, api, e, view, err, dash_risk);
    }
    if (strcmp(path, "/model") == 0) {
        e = view_model(s, &r->query, &view, err);
        if (!api && e == TEND_ERR_NOTFOUND && !view_param(&r->query, "version"))
            return answer_view(r, false, TEND_OK, NULL, err, dash_model); /* how to fit one */
        return answer_view(r, api, e, view, err, dash_model);
    }
    if (strcmp(path, "/models") == 0) {
        e = view_models(s, &view, err);
        return answer_view(r, api, e, view, err, dash_models);
    }
    if (strcmp(path, "/ctas") == 0) {
        struct view_params q = r->query;
        /* The cockpit: my CTAs unless said otherwise. */
        if (!api && !view_param(&q, "owner") && me && q.n < VIEW_MAX_PARAMS) {
            q.keys[q.n] = "owner";
            q.values[q.n++] = "me";
        }
        /* The cockpit leaves out what the randomised holdout keeps from
         * delivery: a CSM who saw them would undo the experiment. */
        if (!api && !view_param(&q, "holdout") && q.n < VIEW_MAX_PARAMS) {
            q.keys[q.n] = "holdout";
            q.values[q.n++] = "hide";
        }
        /* The page: 50 rows a page unless said otherwise (the API: 200). */
        if (!api && !view_param(&q, "per_page") && !view_param(&q, "limit") &&
            q.n < VIEW_MAX_PARAMS) {
            q.keys[q.n] = "per_page";
            q.values[q.n++] = "50";
        }
        e = view_ctas(s, r->w->o.env, &q, me, &view, err);
        return answer_view(r, api, e, view, err, dash_ctas);
    }
    if (strcmp(path, "/rules") == 0) {
        e = view_rules(s, r->w->o.env, &view, err);
        return answer_view(r, api, e, view, err, dash_rules);
    }
    if (strcmp(path, "/reports") == 0) {
        e = view_reports(s, &r->query, &view, err);
        return answer_view(r, api, e, view, err, dash_reports);
    }
    if (strcmp(path, "/reports/monthly") == 0) { /* the monthly CS report (views_kpis.c) */
        e = view_monthly(s, r->w->o.env, &r->query, &view, err);
        return answer_view(r, api, e, view, err, dash_monthly);
    }
    if (strncmp(path, "/reports/", 9) == 0) {
        int64_t id;
        if (!report_id(path + 9, &id))
            return api ? json_error(r->w, r->c, MHD_HTTP_BAD_REQUEST,
                                    "the report id must be a positive number")
                       : page_error(r, MHD_HTTP_BAD_REQUEST,
                                    "The report id must be a positive number.");
        e = view_report(s, id, &view, err);
        return answer_view(r, api, e, view, err, dash_report);
    }
    if (strcmp(path, "/kpis") == 0) { /* the KPI board (views_kpis.c) */
        e = view_kpis(s, r->w->o.env, &r->query, &view, err);
        return answer_view(r, api, e, view, err, dash_kpis);
    }
    if (strcmp(path, "/segments") == 0) { /* views_segments.c */
        e = view_segments(s, &r->query, &view, err);
        return answer_view(r, api, e, view, err, dash_segments);
    }
    if (strncmp(path, "/segments/", 10) == 0 && path[10]) {
        e = view_segment(s, path + 10, &r->query, &view, err);
        return answer_view(r, api, e, view, err, dash_segment);
    }
    if (api && strcmp(path, "/inbox") == 0) { /* the webhook inbox (server/hooks.h) */
        e = hooks_inbox_view(s, view_param(&r->query, "provider"), view_param(&r->query, "status"),
                             view_param(&r->query, "limit"), &view, err, sizeof err);
        return answer_view(r, true, e, view, err, NULL);
    }
    if ((api && strcmp(path, "/outbox") == 0) || (!api && strcmp(path, "/delivery") == 0)) {
        e = view_outbox(s, &r->query, &view, err);
        return answer_view(r, api, e, view, err, dash_delivery);
    }
    return api ? json_error(r->w, r->c, MHD_HTTP_NOT_FOUND, "no such endpoint")
               : page_error(r, MHD_HTTP_NOT_FOUND, "No such page.");
method:
    return api ? json_error(r->w, r->c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET")
               : page_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "Use GET.");
}

static enum MHD_Result account_notes(struct req *r, struct store *s, bool api, bool post,
                                     const char *account) {
    char err[VIEW_ERR_BYTES] = "", msg[400] = "";
    cJSON *view = NULL;
    enum tend_err e = TEND_OK;
    if (post) {
        struct note_input n = {
            .account = account,
            .kind = view_param(&r->form, "kind"),
            .body = view_param(&r->form, "text"),
            .by = r->user    ? r->user->email
                  : r->token ? r->token->name
                             : "api",
        };
        int64_t id;
        e = eval_note_add(s, &n, &id, msg, sizeof msg);
        if (!api) {
            char flash[600];
            flash_header(msg, e != TEND_OK, flash, sizeof flash);
            const char *h[] = {MHD_HTTP_HEADER_SET_COOKIE, flash};
            return redirect(r->w, r->c, R_PAGE,
                            local_path(view_param(&r->form, "back"), "/accounts"), h, 2);
        }
        if (e)
            return json_error(r->w, r->c, http_status_of(e), msg);
    }
    struct view_params q = {.n = 2, .keys = {"account", "limit"}, .values = {account, "100"}};
    e = view_notes(s, &q, &view, err);
    return answer_view(r, true, e, view, err, NULL);
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

/* POST /hooks/PROVIDER: the provider's signature is its authentication. */
static enum MHD_Result hook_answer(struct web *w, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *body, size_t len) {
    unsigned status;
    cJSON *answer;
    hooks_receive(w->o.hooks, c, url, method, body, len, &status, &answer);
    return send_json(w, c, R_HOOKS, status, answer);
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

enum MHD_Result web_answer(struct web *w, struct MHD_Connection *c, const char *url,
                           const char *method, const char *body, size_t len) {
    struct req r = {.w = w, .c = c, .url = url, .method = method};
    struct store *s = NULL; /* a pooled connection, taken when first needed */
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_arg, &r.query);
    path_of(&r);
    enum MHD_Result ret;
    bool post = strcmp(method, "POST") == 0;
    if (w->o.hooks && strncmp(url, "/hooks/", 7) == 0) { /* the raw body, signed (hooks.h) */
        ret = hook_answer(w, c, url, method, body, len);
        goto done;
    }
    if (post) {
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

    if (strcmp(url, "/static/tend.css") == 0) {
        const char *h[] = {MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=3600"};
        char *css = g_strconcat(dash_css, dash_model_css, dash_cockpit_css, NULL);
        size_t css_len = strlen(css);
        ret = send_body(w, c, R_STATIC, MHD_HTTP_OK, "text/css; charset=utf-8", xstrdup(css),
                        css_len, h, 2);
        g_free(css);
        goto done;
    }
    if (strcmp(url, "/login") == 0) {
        ret = login(&r);
        goto done;
    }
    if (strncmp(url, "/unsubscribe/", 13) == 0) { /* a customer's link: no sign-in */
        ret = unsubscribe(w, c, url + 13);
        goto done;
    }
    if (strncmp(url, "/slack/", 7) == 0) { /* Slack's signature, not a session */
        ret = slack_http(w->o.slack, c, url, method, body, len);
        goto done;
    }

    /* Who is asking: a session cookie, or an API token. */
    const char *authz = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    int64_t now = dt_now_ms();
    char err[STORE_ERR_BYTES];
    r.cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
    if (authz && g_ascii_strncasecmp(authz, "Bearer ", 7) == 0) {
        /* A token speaks for itself, whatever the cookie: no CSRF, no "me". */
        r.token = auth_token(w->o.auth, authz + 7);
        if (!r.token) {
            ret = json_error(w, c, MHD_HTTP_UNAUTHORIZED, "unknown API token");
            goto done;
        }
    } else if (!session_of(&r, &s, now, err)) {
        ret = is_api(url) ? json_error(w, c, MHD_HTTP_SERVICE_UNAVAILABLE, err)
                          : page_error(&r, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        goto done;
    }
    bool api = is_api(url) || strcmp(url, "/metrics") == 0;
    if (!r.user && !r.token) {
        if (api) {
            ret = json_error(w, c, MHD_HTTP_UNAUTHORIZED, "sign in or send an API token");
        } else {
            char *next = g_uri_escape_string(buf_str(&r.path), NULL, false);
            char to[2048];
            snprintf(to, sizeof to, "/login?next=%.1900s", next);
            g_free(next);
            ret = redirect(w, c, R_PAGE, strlen(to) < sizeof to - 1 ? to : "/login", NULL, 0);
        }
        goto done;
    }
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
    if (!s && !(s = pool_get(w, err))) {
        ret = api ? json_error(w, c, MHD_HTTP_SERVICE_UNAVAILABLE, err)
                  : page_error(&r, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        goto done;
    }
    if (strcmp(url, "/logout") == 0) {
        ret = logout(&r, s);
        goto done;
    }
    if (strcmp(url, "/") == 0) {
        ret = redirect(w, c, R_PAGE, "/accounts", NULL, 0);
        goto done;
    }
    const char *flash = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, FLASH_COOKIE);
    if (flash && flash[0]) {
        char *text = g_uri_unescape_string(flash + 1, NULL);
        if (text)
            snprintf(r.flash, sizeof r.flash, "%s", text);
        r.flash_error = flash[0] == 'E';
        g_free(text);
    }
    if (strcmp(url, "/metrics") == 0 && strcmp(method, "GET") != 0) {
        ret = json_error(w, c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET /metrics");
    } else if (strcmp(url, "/metrics") == 0) {
        struct buf b;
        buf_init(&b, 0);
        if (metrics_text(w, s, &b)) {
            buf_free(&b);
            ret = json_error(w, c, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(s));
        } else {
            size_t n = b.len;
            char *text = buf_steal(&b);
            ret = send_body(w, c, R_METRICS, MHD_HTTP_OK, "text/plain; version=0.0.4", text, n,
                            NULL, 0);
        }
    } else {
        ret = route(&r, s);
    }
done:
    if (s)
        pool_put(w, s);
    req_free(&r);
    return ret;
}
