/* hooks.c: the webhook endpoints and the inbox worker (see hooks.h). */
#include "server/hooks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/hooks_map.h"
#include "ingest/inbox.h"
#include "ingest/ingest.h"
#include "ingest/verify.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"

#define MAX_HEADERS 64 /* request headers read for a signature */

/* Requests by outcome, per provider, since the start (for /metrics). */
enum outcome { O_ACCEPTED, O_DUPLICATE, O_UNAUTHORIZED, O_INVALID, O_UNAVAILABLE, O_COUNT };
static const char *const outcome_names[O_COUNT] = {"accepted", "duplicate", "unauthorized",
                                                   "invalid", "unavailable"};

struct hooks {
    struct hooks_options o;
    /* Receiving: one connection, one request at a time on it. */
    pthread_mutex_t recv_lock;
    struct store *recv;
    /* The worker. */
    pthread_t thread;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool woken;
    volatile bool stop;
    struct store *work;
    struct ingest *ig;
    atomic_llong counts[HOOK_PROVIDERS][O_COUNT];
};

/* "/hooks/NAME" -> the provider; false for any other path. */
static bool provider_of_url(const char *url, enum hook_provider *p) {
    return strncmp(url, "/hooks/", 7) == 0 && hook_provider_of(url + 7, p);
}

struct headers {
    struct verify_header h[MAX_HEADERS];
    size_t n;
};

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value) {
    (void)kind;
    struct headers *hs = cls;
    if (hs->n < MAX_HEADERS && key && value)
        hs->h[hs->n++] = (struct verify_header){key, value};
    return MHD_YES;
}

/* Checks the request's signature against p's secrets. */
static enum verify_result check(struct hooks *h, enum hook_provider p, struct MHD_Connection *c,
                                const char *method, const char *body, size_t len, char *msg,
                                size_t size) {
    static const enum verify_provider vp[HOOK_PROVIDERS] = {VERIFY_STRIPE, VERIFY_ZENDESK,
                                                            VERIFY_HUBSPOT};
    const struct conn_provider *cp = &h->o.cc->p[p];
    struct headers hs = {.n = 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, on_header, &hs);
    struct verify_request req = {(const unsigned char *)body, len, hs.h, hs.n, method, cp->url};
    return verify_check(vp[p], &req, (const char *const *)cp->secrets, cp->n_secrets, dt_now_ms(),
                        0, NULL, msg, size);
}

enum tend_err hooks_precheck(struct hooks *h, struct MHD_Connection *c, const char *url,
                             const char *method, char *msg, size_t size) {
    enum hook_provider p;
    if (!provider_of_url(url, &p) || !h->o.cc->p[p].enabled) {
        snprintf(msg, size, "no such webhook endpoint (connectors: in tend.yaml turns one on)");
        return TEND_ERR_NOTFOUND;
    }
    if (strcmp(method, "POST") != 0) {
        snprintf(msg, size, "use POST");
        return TEND_ERR_INVALID;
    }
    /* With an empty body the MAC cannot match; anything else the header
     * says (absent, malformed, stale) is final already. */
    enum verify_result r = check(h, p, c, method, NULL, 0, msg, size);
    if (r == VERIFY_MISSING_HEADER || r == VERIFY_MALFORMED_HEADER || r == VERIFY_STALE_TIMESTAMP) {
        atomic_fetch_add(&h->counts[p][O_UNAUTHORIZED], 1);
        return TEND_ERR_AUTH;
    }
    return TEND_OK;
}

static cJSON *answer_of(bool ok, const char *error) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "success", ok);
    if (error)
        cJSON_AddStringToObject(o, "error", error);
    return o;
}

void hooks_receive(struct hooks *h, struct MHD_Connection *c, const char *url, const char *method,
                   const char *body, size_t len, unsigned *status, cJSON **answer) {
    char msg[HOOK_DETAIL_BYTES];
    enum hook_provider p;
    enum tend_err pre = hooks_precheck(h, c, url, method, msg, sizeof msg);
    if (pre) { /* the HTTP layer checked already; a direct caller too */
        *status = pre == TEND_ERR_NOTFOUND ? MHD_HTTP_NOT_FOUND
                  : pre == TEND_ERR_AUTH   ? MHD_HTTP_UNAUTHORIZED
                                           : MHD_HTTP_BAD_REQUEST;
        *answer = answer_of(false, msg);
        return;
    }
    provider_of_url(url, &p);
    const char *name = hook_provider_name(p);
    if (check(h, p, c, method, body, len, msg, sizeof msg) != VERIFY_OK) {
        atomic_fetch_add(&h->counts[p][O_UNAUTHORIZED], 1);
        *status = MHD_HTTP_UNAUTHORIZED;
        *answer = answer_of(false, msg);
        return;
    }
    struct hook_split_event *ev;
    size_t n;
    if (hook_split(p, body, len, &ev, &n, msg)) {
        atomic_fetch_add(&h->counts[p][O_INVALID], 1);
        log_printf("tend serve: /hooks/%s: a signed body tend cannot read: %s", name, msg);
        *status = MHD_HTTP_BAD_REQUEST;
        *answer = answer_of(false, msg);
        return;
    }
    int64_t now = dt_now_ms();
    size_t kept = 0, duplicates = 0;
    pthread_mutex_lock(&h->recv_lock);
    enum tend_err e = store_begin(h->recv, NULL);
    for (size_t i = 0; !e && i < n; i++) {
        bool inserted = false;
        e = store_inbox_put(h->recv, name, ev[i].event_id, ev[i].event_type, now, ev[i].payload,
                            &inserted);
        if (!e && inserted)
            kept++;
        else if (!e)
            duplicates++;
    }
    if (!e)
        e = store_commit(h->recv);
    if (e) {
        snprintf(msg, sizeof msg, "%s", store_last_error(h->recv));
        store_rollback(h->recv);
    }
    pthread_mutex_unlock(&h->recv_lock);
    hook_split_free(ev, n);
    if (e) {
        atomic_fetch_add(&h->counts[p][O_UNAVAILABLE], 1);
        log_printf("tend serve: /hooks/%s: not kept: %s", name, msg);
        *status = MHD_HTTP_SERVICE_UNAVAILABLE;
        *answer = answer_of(false, "the inbox cannot be written now; send it again");
        return;
    }
    atomic_fetch_add(&h->counts[p][kept ? O_ACCEPTED : O_DUPLICATE], 1);
    if (kept) {
        pthread_mutex_lock(&h->lock);
        h->woken = true;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->lock);
    }
    *status = MHD_HTTP_OK;
    *answer = answer_of(true, NULL);
    cJSON_AddNumberToObject(*answer, "kept", (double)kept);
    cJSON_AddNumberToObject(*answer, "duplicates", (double)duplicates);
}

/* ---- the worker ---------------------------------------------------------- */

static void prune(struct hooks *h) {
    int64_t n = 0;
    int64_t before = dt_now_ms() - (int64_t)h->o.cc->retention_days * 86400000LL;
    if (store_inbox_prune(h->work, before, &n))
        log_printf("tend serve: inbox: pruning: %s", store_last_error(h->work));
    else if (n)
        log_printf("tend serve: inbox: %lld events older than %d days pruned", (long long)n,
                   h->o.cc->retention_days);
}

static void *worker_main(void *arg) {
    struct hooks *h = arg;
    int64_t pruned_ms = 0, error_row = 0;
    int errors = 0;
    while (!h->stop) {
        struct inbox_run run = {.error_row = error_row, .errors = errors};
        enum tend_err e = inbox_process(h->ig, h->work, h->o.cc, 0, &h->stop, h->o.touched,
                                        h->o.touched_arg, &run);
        error_row = run.error_row;
        errors = run.errors;
        if (e)
            log_printf("tend serve: inbox: %s; again in %d s", store_last_error(h->work),
                       HOOKS_POLL_MS / 1000);
        else if (run.rows)
            log_printf("tend serve: inbox: %lld processed: %lld done, %lld unmapped, %lld "
                       "ignored, %lld failed",
                       (long long)run.rows, (long long)run.done, (long long)run.unmapped,
                       (long long)run.ignored, (long long)run.failed);
        if (dt_now_ms() - pruned_ms >= HOOKS_PRUNE_MS) {
            prune(h);
            pruned_ms = dt_now_ms();
        }
        pthread_mutex_lock(&h->lock);
        if (!h->woken && !h->stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += HOOKS_POLL_MS / 1000;
            pthread_cond_timedwait(&h->wake, &h->lock, &until);
        }
        h->woken = false;
        pthread_mutex_unlock(&h->lock);
    }
    return NULL;
}

struct hooks *hooks_start(const struct hooks_options *o, char *err) {
    struct hooks *h = xcalloc(1, sizeof *h);
    h->o = *o;
    pthread_mutex_init(&h->recv_lock, NULL);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    char serr[STORE_ERR_BYTES];
    if (store_open(o->db, &h->recv, serr) || store_open(o->db, &h->work, serr)) {
        snprintf(err, HOOKS_ERR_BYTES, "webhooks: %s", serr);
        hooks_stop(h);
        return NULL;
    }
    h->ig = ingest_new(h->work);
    if (pthread_create(&h->thread, NULL, worker_main, h) != 0) {
        snprintf(err, HOOKS_ERR_BYTES, "webhooks: cannot start the inbox worker");
        hooks_stop(h);
        return NULL;
    }
    h->running = true;
    return h;
}

void hooks_stop(struct hooks *h) {
    if (!h)
        return;
    if (h->running) {
        pthread_mutex_lock(&h->lock);
        h->stop = true;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->thread, NULL);
    }
    ingest_free(h->ig);
    if (h->work)
        store_close(h->work);
    if (h->recv)
        store_close(h->recv);
    pthread_mutex_destroy(&h->recv_lock);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    free(h);
}

/* ---- /metrics and /api/inbox --------------------------------------------- */

static void on_counter(void *arg, const char *name, int64_t value) {
    if (strncmp(name, "hooks.", 6) != 0)
        return;
    char provider[32] = "", status[32] = "", reason[64] = "";
    if (sscanf(name + 6, "%31[^.].%31[^.].%63s", provider, status, reason) < 2)
        return;
    buf_printf(arg, "tend_hooks_events_total{provider=\"%s\",status=\"%s\",reason=\"%s\"} %lld\n",
               provider, status, reason, (long long)value);
}

static void on_rows(void *arg, const char *provider, const char *status, const char *reason,
                    int64_t rows) {
    buf_printf(arg, "tend_hooks_inbox_rows{provider=\"%s\",status=\"%s\",reason=\"%s\"} %lld\n",
               provider, status, reason, (long long)rows);
}

enum tend_err hooks_metrics(struct hooks *h, struct store *s, struct buf *b) {
    buf_puts(b, "# HELP tend_hooks_requests_total Webhook requests by provider and outcome "
                "(this process).\n# TYPE tend_hooks_requests_total counter\n");
    for (int p = 0; h && p < HOOK_PROVIDERS; p++) {
        if (!h->o.cc->p[p].enabled)
            continue;
        for (int k = 0; k < O_COUNT; k++)
            buf_printf(b, "tend_hooks_requests_total{provider=\"%s\",outcome=\"%s\"} %lld\n",
                       hook_provider_name((enum hook_provider)p), outcome_names[k],
                       (long long)atomic_load(&h->counts[p][k]));
    }
    buf_puts(b, "# HELP tend_hooks_events_total Webhook events processed, by provider, status "
                "and reason (lifetime).\n# TYPE tend_hooks_events_total counter\n");
    enum tend_err e = store_counters_each(s, on_counter, b);
    if (e)
        return e;
    buf_puts(b, "# HELP tend_hooks_inbox_rows Webhook events kept in the inbox, by provider, "
                "status and reason.\n# TYPE tend_hooks_inbox_rows gauge\n");
    return store_inbox_counts(s, on_rows, b);
}

static void on_view_row(void *arg, const struct store_inbox_row *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    cJSON_AddStringToObject(o, "provider", r->provider);
    cJSON_AddStringToObject(o, "event_id", r->event_id);
    cJSON_AddStringToObject(o, "type", r->event_type);
    char at[32];
    dt_format_instant(r->received_ms, at);
    cJSON_AddStringToObject(o, "received_at", at);
    if (r->processed_ms) {
        dt_format_instant(r->processed_ms, at);
        cJSON_AddStringToObject(o, "processed_at", at);
    } else {
        cJSON_AddNullToObject(o, "processed_at");
    }
    cJSON_AddStringToObject(o, "status", r->status);
    cJSON_AddStringToObject(o, "reason", r->reason);
    cJSON_AddStringToObject(o, "detail", r->detail);
    cJSON_AddStringToObject(o, "account", r->account);
    cJSON_AddNumberToObject(o, "events", r->events);
    cJSON_AddNumberToObject(o, "attempts", r->attempts);
    cJSON_AddItemToArray(arg, o);
}

static void on_view_count(void *arg, const char *provider, const char *status, const char *reason,
                          int64_t rows) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "provider", provider);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "reason", reason);
    cJSON_AddNumberToObject(o, "rows", (double)rows);
    cJSON_AddItemToArray(arg, o);
}

enum tend_err hooks_inbox_view(struct store *s, const char *provider, const char *status,
                               const char *limit, cJSON **out, char *err, size_t size) {
    static const char *const statuses[] = {"pending", "done", "unmapped", "ignored", "failed"};
    enum hook_provider p;
    if (provider && !hook_provider_of(provider, &p)) {
        snprintf(err, size, "provider: must be stripe, zendesk or hubspot");
        return TEND_ERR_INVALID;
    }
    bool known = !status;
    for (size_t i = 0; !known && i < sizeof statuses / sizeof statuses[0]; i++)
        known = strcmp(status, statuses[i]) == 0;
    if (!known) {
        snprintf(err, size, "status: must be pending, done, unmapped, ignored or failed");
        return TEND_ERR_INVALID;
    }
    long n = 100;
    if (limit) {
        char *end;
        n = strtol(limit, &end, 10);
        if (*end || n < 1 || n > 1000) {
            snprintf(err, size, "limit: must be a whole number from 1 to 1000");
            return TEND_ERR_INVALID;
        }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    cJSON *counts = cJSON_AddArrayToObject(o, "counts");
    enum tend_err e = store_inbox_each(s, provider, status, n, on_view_row, rows);
    if (!e)
        e = store_inbox_counts(s, on_view_count, counts);
    if (e) {
        snprintf(err, size, "%s", store_last_error(s));
        cJSON_Delete(o);
        return e;
    }
    *out = o;
    return TEND_OK;
}
