/* http.c: tend serve's HTTP transport and the Segment-compatible ingest (see http.h).
 *
 * The server model. libmicrohttpd runs HTTP_IO_THREADS epoll event loops (its
 * internal thread pool). A connection costs a descriptor and its buffers
 * (HTTP_CONNECTION_MEMORY), never a thread, so a thousand idle or slow clients
 * cost memory, not the threads everyone else needs. The loops only move bytes
 * and answer /healthz; the work of a request runs off them, on worker threads,
 * with the connection suspended (MHD_suspend_connection) meanwhile:
 *   - ingest is parsed and validated on the ingest workers (one per CPU, 2 to
 *     8), then handed to the group-commit writer (server/writer.h) without
 *     waiting: the writer's commit callback makes the answer and resumes the
 *     connection, so no thread sits waiting for an fsync, however many wait;
 *   - the dashboard, REST API and /metrics run on HTTP_WEB_WORKERS threads
 *     (as many as web.c's store connections): they may block on the
 *     database or on a sign-in's password hash without stalling anyone's bytes.
 * A worker never queues a response itself: it keeps it in the request and
 * resumes the connection; MHD then calls the handler again on the loop, which
 * queues it (MHD's documented flow), so a connection is only ever touched by
 * one thread at a time.
 *
 * What bounds a hostile client (docs/api.md, "Limits"):
 *   - time: absolute deadlines per connection (server/guard.h), where MHD only
 *     has an idle timeout that any byte resets;
 *   - connections: HTTP_DEFAULT_MAX_CONNECTIONS in all (the open-file limit is
 *     raised to fit), HTTP_DEFAULT_MAX_PER_ADDRESS from one address;
 *   - memory: bodies are kept within three budgets (with and without a known
 *     Basic key, checked before the body is read; webhooks' apart), parsed requests within
 *     another (HTTP_PARSE_BYTES); a body writeKey is checked and a batch's
 *     messages counted by a scan that builds nothing (server/prescan.h)
 *     before anything is parsed; the answer lists at most
 *     HTTP_MAX_REJECTED_LISTED rejected messages.
 * Errors map to status codes in one table (server/status.h). */
#include "server/http.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingest/segment.h"
#include "ingest/text.h"
#include "ingest/verify.h"
#include "server/guard.h"
#include "server/hooks.h"
#include "server/prescan.h"
#include "server/slack.h"
#include "server/status.h"
#include "server/workers.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"

#define HTTP_IO_THREADS     2
#define HTTP_WEB_WORKERS    16  /* web.c's POOL_MAX: a worker never waits for a connection */
#define HTTP_FD_RESERVE     256 /* descriptors kept for the database, logs, delivery */
#define HTTP_LOG_PER_MIN    20  /* libmicrohttpd's own messages shown per minute */
#define HTTP_LISTEN_BACKLOG 1024
/* The deadline of an idle connection: a second after MHD's own idle timeout
 * (HTTP_IDLE_S), which closes a silent one; this closes one that trickles. */
#define HTTP_IDLE_DEADLINE_MS (HTTP_IDLE_S * 1000 + 1000)

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

struct http_server {
    struct MHD_Daemon *daemon;
    struct writer *writer;
    const struct http_config *cfg;
    struct guard *guard;
    struct workers *ingest_workers, *web_workers;
    struct budget *keyed_bodies, *open_bodies, *hook_bodies, *parses;
    atomic_int in_flight; /* requests between their request line and their end */
    atomic_bool stopping;
    pthread_mutex_t log_lock; /* MHD's messages, rate-limited */
    int64_t log_window_ms;
    int log_shown, log_dropped;
};

enum rq_state {
    RQ_RECEIVING, /* headers and body arriving */
    RQ_WORKING,   /* suspended: a worker (then maybe the writer) has it */
    RQ_ANSWERED,  /* a response is queued */
};

/* One connection (MHD's socket context), from its accept to its close. */
struct conn {
    struct guard_conn *gc; /* its deadlines */
    struct request *rq;    /* the request under way, or NULL */
};

/* One request, from its request line to its end (MHD's con_cls). */
struct request {
    struct http_server *h;
    struct MHD_Connection *c;
    struct conn *conn;     /* NULL: none (MHD had no socket context) */
    struct guard_conn *gc; /* the connection's deadlines */
    int64_t started_ms;    /* the request line arrived (monotonic) */
    bool headers_done;
    bool may_suspend; /* the loop has seen the request complete (on_complete) */
    enum rq_state state;
    bool web;           /* for web.c; else ingest */
    const char *url;    /* MHD's, valid for the request */
    const char *method; /* likewise */
    const char *type;   /* ingest: the /v1/TYPE, or NULL for a batch */
    bool keyed;         /* ingest: a known write key in the Basic header */
    char *body;         /* NUL-terminated; NULL until the first byte */
    size_t len, cap;    /* body bytes kept, allocated */
    size_t max_body;    /* over this: 413 */
    size_t received;    /* bytes received, kept or not */
    bool too_large;     /* over max_body: the rest is counted, not kept */
    bool over_budget;   /* the body budget was spent: 503 */
    struct budget *body_budget;
    /* The answer a worker made, queued by the loop on resumption. */
    unsigned status;
    struct MHD_Response *response;
    /* Off the loop. */
    struct work work;
    struct writer_job job;
    cJSON *root;
    struct seg_msg *msgs;
    enum ingest_outcome *outcomes;
    cJSON *rejected; /* the first HTTP_MAX_REJECTED_LISTED */
    size_t n_rejected;
    size_t parse_taken; /* from h->parses */
};

/* The request a worker thread is answering now (for http_reply). */
static _Thread_local struct request *tls_working;

/* ---- answers -------------------------------------------------------------- */

/* Queues r on the loop, or keeps it for the loop when a worker made it. */
static enum MHD_Result reply(struct request *rq, unsigned status, struct MHD_Response *r) {
    if (rq->state == RQ_WORKING) {
        if (rq->response) { /* answered twice: keep the first */
            MHD_destroy_response(r);
            return MHD_NO;
        }
        rq->status = status;
        rq->response = r;
        return MHD_YES;
    }
    enum MHD_Result ret = MHD_queue_response(rq->c, status, r);
    MHD_destroy_response(r);
    rq->state = RQ_ANSWERED;
    guard_set_deadline(rq->gc, guard_now_ms() + HTTP_ANSWER_S * 1000);
    return ret;
}

enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, struct MHD_Response *r) {
    struct request *rq = tls_working;
    if (rq && rq->c == c)
        return reply(rq, status, r);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct request *rq, unsigned status, cJSON *body) {
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    size_t len = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_COPY);
    cJSON_free(text);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"tend\"");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, HTTP_RETRY_AFTER_S);
    return reply(rq, status, r);
}

static enum MHD_Result send_error(struct request *rq, enum tend_err err, const char *msg) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "success", false);
    cJSON_AddStringToObject(o, "error", msg);
    return send_json(rq, http_status_of(err), o);
}

/* ---- write keys ----------------------------------------------------------- */

/* Compares in time independent of where the strings differ. */
static bool same_key(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static bool known_key(const struct http_config *cfg, const char *key) {
    bool ok = false;
    for (size_t i = 0; key && i < cfg->n_write_keys; i++)
        ok |= same_key(cfg->write_keys[i], key);
    return ok;
}

/* The Basic-auth user name (malloced by MHD, MHD_free it), or NULL. */
static char *basic_user(struct MHD_Connection *c) {
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    if (pass)
        MHD_free(pass);
    return user;
}

/* ---- paths ---------------------------------------------------------------- */

/* The message type a /v1/TYPE path names, or NULL for /v1/batch and others. */
static const char *path_type(const char *url) {
    static const char *const types[] = {"track", "identify", "group", "page", "screen", "alias"};
    if (strncmp(url, "/v1/", 4) != 0)
        return NULL;
    const char *t = url + 4;
    size_t len = strcspn(t, "/");
    if (t[len] == '/' && t[len + 1])
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strlen(types[i]) == len && strncmp(types[i], t, len) == 0)
            return types[i];
    }
    return NULL;
}

static bool is_batch_path(const char *url) {
    return strcmp(url, "/v1/batch") == 0 || strcmp(url, "/v1/batch/") == 0 ||
           strcmp(url, "/v1/import") == 0;
}

/* ---- the body ------------------------------------------------------------- */

/* Frees the body and gives its bytes back to its budget. */
static void body_release(struct request *rq) {
    free(rq->body);
    rq->body = NULL;
    if (rq->cap)
        budget_give(rq->body_budget, rq->cap);
    rq->len = rq->cap = 0;
}

/* Makes room for need bytes (the NUL included) within the body's budget. */
static bool body_grow(struct request *rq, size_t need) {
    if (need <= rq->cap)
        return true;
    size_t cap = rq->cap ? rq->cap : 1024;
    while (cap < need)
        cap *= 2;
    if (cap > rq->max_body + 1)
        cap = rq->max_body + 1;
    if (cap < need || !budget_take(rq->body_budget, cap - rq->cap, 0))
        return false;
    rq->body = xrealloc(rq->body, cap);
    rq->cap = cap;
    return true;
}

static void on_body(struct request *rq, const char *data, size_t n) {
    rq->received += n;
    if (rq->too_large || rq->over_budget)
        return; /* counted, not kept */
    if (n > rq->max_body - rq->len) {
        rq->too_large = true;
        body_release(rq);
    } else if (!body_grow(rq, rq->len + n + 1)) {
        rq->over_budget = true;
        body_release(rq);
    } else {
        memcpy(rq->body + rq->len, data, n);
        rq->len += n;
        rq->body[rq->len] = '\0';
    }
}

/* ---- ingest, on a worker --------------------------------------------------- */

/* Frees what the request holds off the loop and resumes its connection; the
 * last touch of rq on this thread (the loop may end it at once). */
static void finish_work(struct request *rq) {
    struct http_server *h = rq->h;
    for (size_t k = 0; rq->msgs && k < rq->job.n; k++)
        cJSON_free(rq->msgs[k].body_json);
    free(rq->msgs);
    rq->msgs = NULL;
    free(rq->outcomes);
    rq->outcomes = NULL;
    cJSON_Delete(rq->rejected);
    rq->rejected = NULL;
    cJSON_Delete(rq->root);
    rq->root = NULL;
    if (rq->parse_taken)
        budget_give(h->parses, rq->parse_taken);
    rq->parse_taken = 0;
    body_release(rq);
    if (!rq->response) /* a handler that answered nothing */
        send_error(rq, TEND_ERR_IO, "the server could not answer this request");
    MHD_resume_connection(rq->c);
}

/* Checks a body writeKey from the scan, before anything is parsed. */
static enum tend_err scanned_key(const struct http_config *cfg, const struct prescan *ps, char *msg,
                                 size_t size) {
    char key[1024];
    if (!ps->object || !ps->write_key ||
        !prescan_string(ps->write_key, ps->write_key_len, key, sizeof key)) {
        bool present = ps->write_key && ps->write_key[0] == '"';
        snprintf(msg, size, present ? "unknown write key" : "missing write key");
        return TEND_ERR_AUTH;
    }
    if (!known_key(cfg, key)) {
        snprintf(msg, size, "unknown write key");
        return TEND_ERR_AUTH;
    }
    return TEND_OK;
}

/* Validates the request's messages into rq->msgs (and rq->job); on an error
 * returns it with msg saying why. */
static enum tend_err prepare(struct request *rq, char *msg, size_t size) {
    struct http_server *h = rq->h;
    const char *body = rq->body ? rq->body : "";
    struct prescan ps;
    prescan_body(body, rq->len, &ps);
    enum tend_err e = rq->keyed ? TEND_OK : scanned_key(h->cfg, &ps, msg, size);
    if (e)
        return e;
    if (!rq->type && ps.batch_array && ps.batch_items > HTTP_MAX_BATCH_MESSAGES) {
        snprintf(msg, size, "batch: %zu messages, over the limit of %d a request", ps.batch_items,
                 HTTP_MAX_BATCH_MESSAGES);
        return TEND_ERR_LIMIT;
    }
    size_t cost = (rq->len + 1) * HTTP_PARSE_COST_PER_BYTE;
    if (!budget_take(h->parses, cost, HTTP_PARSE_WAIT_MS)) {
        snprintf(msg, size,
                 "the server holds as many requests as it may (%u MiB being parsed and "
                 "stored); try again",
                 HTTP_PARSE_BYTES >> 20);
        return TEND_ERR_BUSY;
    }
    rq->parse_taken = cost;

    const char *end = NULL;
    rq->root = text_parse_json(body, rq->len, &end);
    if (!rq->root || !cJSON_IsObject(rq->root)) {
        if (rq->root)
            snprintf(msg, size, "the body must be a JSON object");
        else
            snprintf(msg, size, "invalid JSON at byte %zu",
                     end ? (size_t)(end - body) + 1 : (size_t)1);
        return TEND_ERR_INVALID;
    }
    if (!rq->keyed) { /* the tree decides, as before the scan */
        cJSON *wk = cJSON_GetObjectItemCaseSensitive(rq->root, "writeKey");
        if (!cJSON_IsString(wk) || !known_key(h->cfg, wk->valuestring)) {
            snprintf(msg, size, cJSON_IsString(wk) ? "unknown write key" : "missing write key");
            return TEND_ERR_AUTH;
        }
    }

    cJSON *first;
    const cJSON *context = NULL;
    size_t n;
    bool batch = rq->type == NULL;
    if (!batch) {
        /* Segment's HTTP API takes the type from the path. */
        cJSON_DeleteItemFromObjectCaseSensitive(rq->root, "type");
        cJSON_AddStringToObject(rq->root, "type", rq->type);
        cJSON_DeleteItemFromObjectCaseSensitive(rq->root, "writeKey");
        first = rq->root;
        n = 1;
    } else {
        cJSON *items = cJSON_GetObjectItemCaseSensitive(rq->root, "batch");
        if (!cJSON_IsArray(items)) {
            snprintf(msg, size, "batch: must be an array of messages");
            return TEND_ERR_INVALID;
        }
        n = (size_t)cJSON_GetArraySize(items);
        if (n > HTTP_MAX_BATCH_MESSAGES) {
            snprintf(msg, size, "batch: %zu messages, over the limit of %d a request", n,
                     HTTP_MAX_BATCH_MESSAGES);
            return TEND_ERR_LIMIT;
        }
        context = cJSON_GetObjectItemCaseSensitive(rq->root, "context");
        first = items->child;
    }

    int64_t now = dt_now_ms();
    rq->msgs = xcalloc(n ? n : 1, sizeof *rq->msgs);
    rq->outcomes = xcalloc(n ? n : 1, sizeof *rq->outcomes);
    rq->rejected = cJSON_CreateArray();
    char err[SEG_ERR_BYTES];
    size_t valid = 0, i = 0;
    for (cJSON *item = first; item && i < n; item = batch ? item->next : NULL, i++) {
        /* events: of tend.yaml first, so that validation sees tend's names. */
        struct map_result mr;
        enum tend_err me = event_map_apply(rq->h->cfg->events, item, &mr, err);
        if (!me && mr.action == MAP_IGNORED) {
            rq->job.ignored++;
            continue;
        }
        if (me || segment_parse_msg(item, context, now, NULL, 0, &rq->msgs[valid], err)) {
            if (rq->n_rejected++ < HTTP_MAX_REJECTED_LISTED) {
                cJSON *r = cJSON_CreateObject();
                cJSON_AddNumberToObject(r, "index", (double)i);
                cJSON_AddStringToObject(r, "error", err);
                cJSON_AddItemToArray(rq->rejected, r);
            }
            continue;
        }
        rq->job.aliased += mr.aliased;
        rq->job.renamed += mr.renamed > 0;
        segment_serialize_body(&rq->msgs[valid]); /* here, in parallel, not in the writer */
        rq->job.n = ++valid;
    }
    if (!batch && rq->n_rejected) {
        /* A single call that is invalid or over 32 KB: 400 (SPEC 1). */
        snprintf(msg, size, "%s", err);
        return TEND_ERR_INVALID;
    }
    rq->job.msgs = rq->msgs;
    rq->job.rejected = rq->n_rejected;
    rq->job.outcomes = rq->outcomes;
    return TEND_OK;
}

/* Adds the rejected list (taken from rq) and, when it was cut, the total. */
static void add_rejected(struct request *rq, cJSON *o) {
    cJSON_AddItemToObject(o, "rejected", rq->rejected);
    rq->rejected = NULL;
    if (rq->n_rejected > HTTP_MAX_REJECTED_LISTED)
        cJSON_AddNumberToObject(o, "rejected_total", (double)rq->n_rejected);
}

/* The writer's callback: the request's messages are committed (or not). */
static void on_committed(struct writer_job *job, enum tend_err result) {
    struct request *rq = container_of(job, struct request, job);
    if (result) {
        send_error(rq, result, "the database failed; nothing of this request was stored");
    } else if (rq->n_rejected && !job->n && !job->ignored) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "success", false);
        cJSON_AddStringToObject(o, "error", "no message of the batch is valid");
        add_rejected(rq, o);
        send_json(rq, http_status_of(TEND_ERR_INVALID), o);
    } else {
        size_t counts[3] = {0};
        for (size_t k = 0; k < job->n; k++)
            counts[job->outcomes[k]]++;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "success", true);
        cJSON_AddNumberToObject(o, "accepted", (double)counts[INGEST_ACCEPTED]);
        cJSON_AddNumberToObject(o, "duplicates", (double)counts[INGEST_DUPLICATE]);
        cJSON_AddNumberToObject(o, "quarantined", (double)counts[INGEST_QUARANTINED]);
        if (job->ignored)
            cJSON_AddNumberToObject(o, "ignored", (double)job->ignored);
        add_rejected(rq, o);
        send_json(rq, MHD_HTTP_OK, o);
    }
    finish_work(rq);
}

static void run_ingest(struct work *w) {
    struct request *rq = container_of(w, struct request, work);
    char msg[SEG_ERR_BYTES + 64];
    enum tend_err e = prepare(rq, msg, sizeof msg);
    if (e) {
        send_error(rq, e, msg);
        finish_work(rq);
    } else if (!rq->job.n && !rq->job.rejected && !rq->job.ignored) {
        on_committed(&rq->job, TEND_OK); /* an empty batch: nothing to store */
    } else {
        rq->job.done = on_committed;
        writer_submit(rq->h->writer, &rq->job);
    }
}

/* ---- the dashboard, on a worker -------------------------------------------- */

static void run_web(struct work *w) {
    struct request *rq = container_of(w, struct request, work);
    tls_working = rq;
    web_answer(rq->h->cfg->web, rq->c, rq->url, rq->method, rq->body ? rq->body : "", rq->len);
    tls_working = NULL;
    finish_work(rq);
}

/* ---- the event loop's callbacks ---------------------------------------------- */

/* Frees rq and what it holds, and ends its count; on the loop, when no
 * worker has it. */
static void request_free(struct request *rq) {
    body_release(rq);
    if (rq->response)
        MHD_destroy_response(rq->response);
    if (rq->conn)
        rq->conn->rq = NULL;
    atomic_fetch_sub(&rq->h->in_flight, 1);
    free(rq);
}

/* The request line arrived: a request begins (MHD's URI log callback; what it
 * returns is the request's con_cls). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    struct http_server *h = cls;
    struct request *rq = xcalloc(1, sizeof *rq);
    rq->h = h;
    rq->c = c;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    rq->conn = ci ? ci->socket_context : NULL;
    if (rq->conn) {
        if (rq->conn->rq) /* one MHD dropped without its end (see on_connection) */
            request_free(rq->conn->rq);
        rq->conn->rq = rq;
        rq->gc = rq->conn->gc;
    }
    rq->started_ms = guard_now_ms();
    guard_set_deadline(rq->gc, rq->started_ms + HTTP_HEADERS_S * 1000);
    atomic_fetch_add(&h->in_flight, 1);
    return rq;
}

/* The headers are in: decide what the request is, and refuse early what can
 * be refused without its body. */
static enum MHD_Result on_headers(struct http_server *h, struct request *rq, const char *url,
                                  const char *method) {
    struct MHD_Connection *c = rq->c;
    rq->headers_done = true;
    rq->url = url;
    rq->method = method;
    guard_set_deadline(rq->gc, rq->started_ms + HTTP_REQUEST_S * 1000);
    if (strcmp(url, "/healthz") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return send_error(rq, TEND_ERR_INVALID, "use GET /healthz");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "ok", true);
        return send_json(rq, MHD_HTTP_OK, o);
    }
    if (atomic_load(&h->stopping))
        return send_error(rq, TEND_ERR_BUSY, "the server is stopping");
    rq->type = path_type(url);
    if (rq->type || is_batch_path(url)) {
        if (strcmp(method, "POST") != 0) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddBoolToObject(o, "success", false);
            cJSON_AddStringToObject(o, "error", "use POST");
            return send_json(rq, MHD_HTTP_METHOD_NOT_ALLOWED, o);
        }
        char *user = basic_user(c);
        if (user) {
            rq->keyed = known_key(h->cfg, user);
            MHD_free(user);
            if (!rq->keyed) /* before the body: a wrong key costs no memory */
                return send_error(rq, TEND_ERR_AUTH, "unknown write key");
        }
        rq->max_body = SEG_MAX_REQUEST_BYTES;
        rq->body_budget = rq->keyed ? h->keyed_bodies : h->open_bodies;
    } else if (h->cfg->web && strncmp(url, "/v1/", 4) != 0) {
        rq->web = true;
        rq->max_body = HTTP_WEB_MAX_BODY;
        rq->body_budget = h->open_bodies;
        if (h->cfg->hooks && strncmp(url, "/hooks/", 7) == 0) { /* refused on headers alone */
            char msg[HOOKS_ERR_BYTES];
            enum tend_err e = hooks_precheck(h->cfg->hooks, c, url, method, msg, sizeof msg);
            if (e)
                return send_error(rq, e, msg);
            rq->max_body = HOOKS_MAX_BODY;
            rq->body_budget = h->hook_bodies; /* its own: cannot crowd out the dashboard's */
        }
        if (h->cfg->slack && strncmp(url, "/slack/", 7) == 0) { /* likewise (slack.h) */
            char msg[VERIFY_MSG_BYTES];
            enum tend_err e = slack_precheck(h->cfg->slack, c, url, method, msg, sizeof msg);
            if (e)
                return send_error(rq, e, msg);
        }
    } else {
        return send_error(rq, TEND_ERR_NOTFOUND, "no such endpoint");
    }
    /* A declared length is taken from the budget at once, in one piece. */
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *cl_end;
    unsigned long long declared = cl ? strtoull(cl, &cl_end, 10) : 0;
    if (declared && declared <= rq->max_body && !body_grow(rq, (size_t)declared + 1))
        rq->over_budget = true;
    return MHD_YES;
}

/* The whole request is in: answer a refusal, or hand it to a worker. */
static enum MHD_Result on_complete(struct http_server *h, struct request *rq) {
    if (rq->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body is %zu bytes, over the limit of %zu", rq->received,
                 rq->max_body);
        return send_error(rq, TEND_ERR_LIMIT, msg);
    }
    if (rq->over_budget) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "the server is receiving as many request bodies as it may hold (%u MiB); "
                 "try again",
                 (rq->body_budget == h->keyed_bodies  ? HTTP_KEYED_BODIES_BYTES
                  : rq->body_budget == h->hook_bodies ? HTTP_HOOK_BODIES_BYTES
                                                      : HTTP_OPEN_BODIES_BYTES) >>
                     20);
        return send_error(rq, TEND_ERR_BUSY, msg);
    }
    /* MHD 0.9.75 does not update what it waits for on a connection (to
     * read, to write, nothing) while the connection is suspended, and on
     * resumption it reads before it answers if it was waiting to read. Here,
     * in the pass that received the request, it still is: suspended now, a
     * client that half-closed after its request (whose end of file is there
     * by then) would be closed unanswered ("closed with an error") unless
     * this connection happened to be its loop's oldest. So the first call
     * only returns: MHD records that the connection waits for nothing and
     * calls again on its next pass, at once (tests/integration/
     * security_http.sh, E). */
    if (!rq->may_suspend) {
        rq->may_suspend = true;
        return MHD_YES;
    }
    struct MHD_Connection *c = rq->c;
    rq->state = RQ_WORKING;
    guard_set_deadline(rq->gc, 0); /* our own work: bounded by our code */
    rq->work.run = rq->web ? run_web : run_ingest;
    MHD_suspend_connection(c);
    /* Once queued, a worker may resume c and the loop end rq: touch neither
     * (refused: still ours). */
    if (!workers_submit(rq->web ? h->web_workers : h->ingest_workers, &rq->work)) {
        send_error(rq, TEND_ERR_BUSY, "the server is stopping");
        MHD_resume_connection(c);
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    struct http_server *h = cls;
    struct request *rq = *con_cls;
    if (!rq) /* no request line callback: cannot happen with MHD 0.9.75 */
        rq = *con_cls = on_uri(h, url, c);
    if (!rq->headers_done)
        return on_headers(h, rq, url, method);
    if (*upload_data_size) {
        on_body(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->state == RQ_WORKING) { /* resumed: queue what the worker made */
        struct MHD_Response *r = rq->response;
        rq->response = NULL;
        rq->state = RQ_RECEIVING;
        return reply(rq, rq->status, r);
    }
    return on_complete(h, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    struct request *rq = *con_cls;
    if (!rq)
        return;
    /* Keep-alive: the next request line is due within the idle time. */
    guard_set_deadline(rq->gc, guard_now_ms() + HTTP_IDLE_DEADLINE_MS);
    request_free(rq);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
    struct http_server *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci) {
            struct conn *cn = xcalloc(1, sizeof *cn);
            cn->gc = guard_open(h->guard, ci->connect_fd, guard_now_ms() + HTTP_IDLE_DEADLINE_MS);
            *socket_context = cn;
        }
    } else if (*socket_context) {
        struct conn *cn = *socket_context;
        /* MHD 0.9.75 closes some connections without telling the request's
         * end (on_completed): for a request line with more query arguments
         * than the connection's buffers hold, it queues a 431, fails again
         * on the next header and sets the connection closed directly. The
         * request ends here instead (no worker has it: a suspended
         * connection is not closed). */
        if (cn->rq)
            request_free(cn->rq);
        /* Before MHD closes the socket: the reaper must not touch it after. */
        guard_close(h->guard, cn->gc);
        free(cn);
        *socket_context = NULL;
    }
}

/* libmicrohttpd's own messages, escaped and at most HTTP_LOG_PER_MIN a
 * minute (under attack it would write one per refused connection). */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    struct http_server *h = cls;
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    pthread_mutex_lock(&h->log_lock);
    int64_t now = guard_now_ms();
    int dropped = 0;
    if (now - h->log_window_ms >= 60000) {
        dropped = h->log_dropped;
        h->log_window_ms = now;
        h->log_shown = h->log_dropped = 0;
    }
    bool show = h->log_shown < HTTP_LOG_PER_MIN;
    if (show)
        h->log_shown++;
    else
        h->log_dropped++;
    pthread_mutex_unlock(&h->log_lock);
    if (dropped)
        log_printf("tend serve: http: %d more messages of the HTTP library in the last minute "
                   "not shown",
                   dropped);
    if (show)
        log_printf("tend serve: http: %s", text);
}

/* ---- life cycle ----------------------------------------------------------- */

/* Resolves "HOST:PORT" / "[V6]:PORT" into *addr. */
static enum tend_err parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
                                  char *err) {
    char host[256];
    const char *port;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof host)
            goto bad;
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host)
            goto bad;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port = colon + 1;
    }
    if (!*port)
        goto bad;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc) {
        snprintf(err, HTTP_ERR_BYTES, "--listen %s: %s", listen, gai_strerror(rc));
        return TEND_ERR_USAGE;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return TEND_OK;
bad:
    snprintf(err, HTTP_ERR_BYTES, "--listen must be HOST:PORT or [IPV6]:PORT, not \"%s\"", listen);
    return TEND_ERR_USAGE;
}

enum tend_err http_listen(const char *address, int *fd, char *err) {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    enum tend_err e = parse_listen(address, &addr, &addr_len, err);
    if (e)
        return e;
    int s = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        snprintf(err, HTTP_ERR_BYTES, "cannot listen on %s: %s", address, strerror(errno));
        return TEND_ERR_IO;
    }
    int on = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on); /* restart over TIME_WAIT */
    if (addr.ss_family == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (bind(s, (struct sockaddr *)&addr, addr_len) != 0 || listen(s, HTTP_LISTEN_BACKLOG) != 0) {
        int eno = errno;
        close(s);
        if (eno == EADDRINUSE)
            snprintf(err, HTTP_ERR_BYTES,
                     "%s is already in use (another tend serve or another program listens "
                     "there; choose another with --listen)",
                     address);
        else if (eno == EADDRNOTAVAIL)
            snprintf(err, HTTP_ERR_BYTES, "cannot listen on %s: not an address of this machine",
                     address);
        else if (eno == EACCES)
            snprintf(err, HTTP_ERR_BYTES,
                     "cannot listen on %s: permission denied (ports below 1024 need privileges)",
                     address);
        else
            snprintf(err, HTTP_ERR_BYTES, "cannot listen on %s: %s", address, strerror(eno));
        return TEND_ERR_IO;
    }
    *fd = s;
    return TEND_OK;
}

/* Raises the open-file limit for want connections; returns how many
 * connections the limit allows (want, or fewer when the hard limit is lower). */
static unsigned fit_descriptors(unsigned want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    rlim_t need = (rlim_t)want + HTTP_FD_RESERVE;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        unsigned fit =
            rl.rlim_cur > HTTP_FD_RESERVE + 16 ? (unsigned)(rl.rlim_cur - HTTP_FD_RESERVE) : 16;
        log_printf("tend serve: the open-file limit is %llu (ulimit -n): serving at most %u "
                   "connections instead of %u",
                   (unsigned long long)rl.rlim_cur, fit, want);
        return fit;
    }
    return want;
}

/* CPUs, for the ingest workers: 2 to 8. */
static int ingest_worker_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 2 ? 2 : n > 8 ? 8 : (int)n;
}

enum tend_err http_start(struct store *s, const struct http_config *cfg, int fd,
                         struct http_server **out, char *err) {
    struct http_server *h = xcalloc(1, sizeof *h);
    h->cfg = cfg;
    pthread_mutex_init(&h->log_lock, NULL);
    h->log_window_ms = guard_now_ms();
    h->guard = guard_start();
    h->keyed_bodies = budget_new(HTTP_KEYED_BODIES_BYTES);
    h->open_bodies = budget_new(HTTP_OPEN_BODIES_BYTES);
    h->hook_bodies = budget_new(HTTP_HOOK_BODIES_BYTES);
    h->parses = budget_new(HTTP_PARSE_BYTES);
    h->writer = writer_start(s, cfg->touched, cfg->touched_arg);
    h->ingest_workers = workers_start(ingest_worker_count(), "tend-ingest");
    h->web_workers = workers_start(HTTP_WEB_WORKERS, "tend-web");
    unsigned max_conn =
        fit_descriptors(cfg->max_connections ? cfg->max_connections : HTTP_DEFAULT_MAX_CONNECTIONS);
    unsigned per_address = cfg->max_per_address == UINT_MAX ? 0
                           : cfg->max_per_address           ? cfg->max_per_address
                                                            : HTTP_DEFAULT_MAX_PER_ADDRESS;
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof addr;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (getsockname(fd, (struct sockaddr *)&addr, &addr_len) == 0 && addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_IO_THREADS,
        MHD_OPTION_CONNECTION_LIMIT, max_conn, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HTTP_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_END);
    if (!h->daemon) {
        snprintf(err, HTTP_ERR_BYTES, "cannot start the HTTP server on %s", cfg->listen);
        /* fd is left open: MHD 0.9.75 closes it on some failure paths and
         * not on others, and a double close could hit another descriptor.
         * tend serve exits at once. */
        workers_stop(h->ingest_workers);
        workers_stop(h->web_workers);
        writer_stop(h->writer);
        guard_stop(h->guard);
        budget_free(h->keyed_bodies);
        budget_free(h->open_bodies);
        budget_free(h->hook_bodies);
        budget_free(h->parses);
        pthread_mutex_destroy(&h->log_lock);
        free(h);
        return TEND_ERR_IO;
    }
    *out = h;
    return TEND_OK;
}

void http_stop(struct http_server *h, int timeout_ms) {
    if (!h)
        return;
    atomic_store(&h->stopping, true);                    /* new requests on open connections: 503 */
    MHD_socket quiesced = MHD_quiesce_daemon(h->daemon); /* no new connections */
    for (int waited = 0; atomic_load(&h->in_flight) > 0 && waited < timeout_ms; waited += 10)
        usleep(10000);
    /* What is still queued runs (or is refused); then every suspended
     * connection has been resumed, as MHD_stop_daemon requires. */
    workers_stop(h->ingest_workers);
    workers_stop(h->web_workers);
    writer_stop(h->writer);
    MHD_stop_daemon(h->daemon);
    if (quiesced != MHD_INVALID_SOCKET)
        close(quiesced);
    guard_stop(h->guard);
    budget_free(h->keyed_bodies);
    budget_free(h->open_bodies);
    budget_free(h->hook_bodies);
    budget_free(h->parses);
    pthread_mutex_destroy(&h->log_lock);
    free(h);
}
