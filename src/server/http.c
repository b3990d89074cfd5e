/* http.c: Segment-compatible ingest over libmicrohttpd (see http.h).
 *
 * A request goes through three steps: the body is collected into a capped
 * buffer (over SEG_MAX_REQUEST_BYTES it is discarded as it arrives and the
 * answer is 413), then parsed and validated on the connection's thread, then
 * handed to the writer and answered once the writer has committed it. Errors
 * map to status codes in one place, status_of(). */
#include "server/http.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ingest/segment.h"
#include "ingest/text.h"
#include "server/writer.h"
#include "util/buf.h"
#include "util/datetime.h"
#include "util/mem.h"

#define HTTP_DEFAULT_CONNECTIONS 512
#define HTTP_TIMEOUT_S           60

struct http_server {
    struct MHD_Daemon *daemon;
    struct writer *writer;
    const struct http_config *cfg;
    atomic_int in_flight; /* requests between their first byte and their answer */
};

/* Per-request state, kept in MHD's con_cls. */
struct request {
    struct buf body;
    bool too_large;
    size_t body_bytes;
};

/* ---- answers -------------------------------------------------------------- */

/* The one table from tend errors to HTTP status codes. */
static unsigned status_of(enum tend_err err) {
    switch (err) {
    case TEND_OK:
        return MHD_HTTP_OK;
    case TEND_ERR_INVALID:
    case TEND_ERR_USAGE:
        return MHD_HTTP_BAD_REQUEST;
    case TEND_ERR_LIMIT:
        return MHD_HTTP_CONTENT_TOO_LARGE;
    case TEND_ERR_AUTH:
        return MHD_HTTP_UNAUTHORIZED;
    case TEND_ERR_NOTFOUND:
        return MHD_HTTP_NOT_FOUND;
    case TEND_ERR_IO:
    case TEND_ERR_DB:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    }
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, cJSON *body) {
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    size_t len = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_COPY);
    cJSON_free(text);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"tend\"");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, enum tend_err err, const char *msg) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "success", false);
    cJSON_AddStringToObject(o, "error", msg);
    return send_json(c, status_of(err), o);
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

/* ---- ingest --------------------------------------------------------------- */

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

/* Answers a parsed, authorised request: validates each message, stores the
 * valid ones and reports the rejected. */
static enum MHD_Result ingest(struct http_server *h, struct MHD_Connection *c, cJSON *root,
                              const char *type) {
    int64_t now = dt_now_ms();
    cJSON *items = NULL, *first;
    const cJSON *context = NULL;
    size_t n;
    if (type) {
        /* Segment's HTTP API takes the type from the path. */
        cJSON_DeleteItemFromObjectCaseSensitive(root, "type");
        cJSON_AddStringToObject(root, "type", type);
        cJSON_DeleteItemFromObjectCaseSensitive(root, "writeKey");
        first = root;
        n = 1;
    } else {
        cJSON *batch = cJSON_GetObjectItemCaseSensitive(root, "batch");
        if (!cJSON_IsArray(batch))
            return send_error(c, TEND_ERR_INVALID, "batch: must be an array of messages");
        context = cJSON_GetObjectItemCaseSensitive(root, "context");
        n = (size_t)cJSON_GetArraySize(batch);
        items = batch;
        first = batch->child;
    }

    struct seg_msg *msgs = xcalloc(n ? n : 1, sizeof *msgs);
    enum ingest_outcome *outcomes = xcalloc(n ? n : 1, sizeof *outcomes);
    cJSON *rejected = cJSON_CreateArray();
    char err[SEG_ERR_BYTES];
    size_t valid = 0, i = 0;
    for (cJSON *item = first; item && i < n; item = items ? item->next : NULL, i++) {
        if (segment_parse_msg(item, context, now, NULL, 0, &msgs[valid], err)) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddNumberToObject(r, "index", (double)i);
            cJSON_AddStringToObject(r, "error", err);
            cJSON_AddItemToArray(rejected, r);
            continue;
        }
        segment_serialize_body(&msgs[valid]); /* here, in parallel, not in the writer */
        valid++;
    }
    size_t n_rejected = n - valid;
    enum MHD_Result ret;
    if (type && n_rejected) {
        /* A single call that is invalid or over 32 KB: 400 (SPEC 1). */
        ret = send_error(c, TEND_ERR_INVALID, err);
        cJSON_Delete(rejected);
        goto done;
    }
    enum tend_err e = TEND_OK;
    if (valid || n_rejected)
        e = writer_submit(h->writer, msgs, valid, n_rejected, outcomes);
    if (e) {
        ret = send_error(c, e, "the database failed; nothing of this request was stored");
        cJSON_Delete(rejected);
        goto done;
    }
    if (n_rejected && !valid) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "success", false);
        cJSON_AddStringToObject(o, "error", "no message of the batch is valid");
        cJSON_AddItemToObject(o, "rejected", rejected);
        ret = send_json(c, MHD_HTTP_BAD_REQUEST, o);
        goto done;
    }
    size_t counts[3] = {0};
    for (size_t k = 0; k < valid; k++)
        counts[outcomes[k]]++;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "success", true);
    cJSON_AddNumberToObject(o, "accepted", (double)counts[INGEST_ACCEPTED]);
    cJSON_AddNumberToObject(o, "duplicates", (double)counts[INGEST_DUPLICATE]);
    cJSON_AddNumberToObject(o, "quarantined", (double)counts[INGEST_QUARANTINED]);
    cJSON_AddItemToObject(o, "rejected", rejected);
    ret = send_json(c, MHD_HTTP_OK, o);
done:
    for (size_t k = 0; k < valid; k++)
        cJSON_free(msgs[k].body_json);
    free(msgs);
    free(outcomes);
    return ret;
}

/* Handles a complete request. */
static enum MHD_Result answer(struct http_server *h, struct MHD_Connection *c, const char *url,
                              const char *method, struct request *rq) {
    if (strcmp(url, "/healthz") == 0) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
            return send_error(c, TEND_ERR_INVALID, "use GET /healthz");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "ok", true);
        return send_json(c, MHD_HTTP_OK, o);
    }
    const char *type = path_type(url);
    if (!type && !is_batch_path(url)) {
        if (h->cfg->web && strncmp(url, "/v1/", 4) != 0) {
            if (rq->too_large)
                return send_error(c, TEND_ERR_LIMIT, "request body too large");
            return web_answer(h->cfg->web, c, url, method, buf_str(&rq->body), rq->body.len);
        }
        return send_error(c, TEND_ERR_NOTFOUND, "no such endpoint");
    }
    if (strcmp(method, "POST") != 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "success", false);
        cJSON_AddStringToObject(o, "error", "use POST");
        return send_json(c, MHD_HTTP_METHOD_NOT_ALLOWED, o);
    }

    char *user = basic_user(c);
    bool header_auth = user != NULL;
    bool authorised = header_auth && known_key(h->cfg, user);
    if (user)
        MHD_free(user);
    if (header_auth && !authorised)
        return send_error(c, TEND_ERR_AUTH, "unknown write key");

    if (rq->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body is %zu bytes, over the limit of %d", rq->body_bytes,
                 SEG_MAX_REQUEST_BYTES);
        return send_error(c, TEND_ERR_LIMIT, msg);
    }
    const char *end = NULL;
    cJSON *root = text_parse_json(buf_str(&rq->body), rq->body.len, &end);
    if (!root || !cJSON_IsObject(root)) {
        char msg[96];
        if (root)
            snprintf(msg, sizeof msg, "the body must be a JSON object");
        else
            snprintf(msg, sizeof msg, "invalid JSON at byte %zu",
                     end ? (size_t)(end - buf_str(&rq->body)) + 1 : (size_t)1);
        cJSON_Delete(root);
        if (!authorised)
            return send_error(c, TEND_ERR_AUTH, "missing write key");
        return send_error(c, TEND_ERR_INVALID, msg);
    }
    if (!authorised) {
        cJSON *wk = cJSON_GetObjectItemCaseSensitive(root, "writeKey");
        if (!cJSON_IsString(wk) || !known_key(h->cfg, wk->valuestring)) {
            cJSON_Delete(root);
            return send_error(c, TEND_ERR_AUTH,
                              cJSON_IsString(wk) ? "unknown write key" : "missing write key");
        }
    }
    enum MHD_Result ret = ingest(h, c, root, type);
    cJSON_Delete(root);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    struct http_server *h = cls;
    struct request *rq = *con_cls;
    if (!rq) {
        rq = xcalloc(1, sizeof *rq);
        buf_init(&rq->body, SEG_MAX_REQUEST_BYTES);
        *con_cls = rq;
        atomic_fetch_add(&h->in_flight, 1);
        return MHD_YES;
    }
    if (*upload_data_size) {
        rq->body_bytes += *upload_data_size;
        if (!rq->too_large && buf_append(&rq->body, upload_data, *upload_data_size)) {
            rq->too_large = true;
            buf_free(&rq->body); /* the rest is counted, not kept */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(h, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    struct http_server *h = cls;
    struct request *rq = *con_cls;
    if (!rq)
        return;
    buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&h->in_flight, 1);
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

enum tend_err http_start(struct store *s, const struct http_config *cfg, struct http_server **out,
                         char *err) {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    enum tend_err e = parse_listen(cfg->listen, &addr, &addr_len, err);
    if (e)
        return e;
    struct http_server *h = xcalloc(1, sizeof *h);
    h->cfg = cfg;
    h->writer = writer_start(s, cfg->touched, cfg->touched_arg);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_CONNECTION_LIMIT,
        cfg->max_connections ? cfg->max_connections : HTTP_DEFAULT_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S, MHD_OPTION_END);
    if (!h->daemon) {
        snprintf(err, HTTP_ERR_BYTES, "cannot listen on %s (in use, or not an address here?)",
                 cfg->listen);
        writer_stop(h->writer);
        free(h);
        return TEND_ERR_IO;
    }
    *out = h;
    return TEND_OK;
}

void http_stop(struct http_server *h, int timeout_ms) {
    if (!h)
        return;
    MHD_quiesce_daemon(h->daemon); /* no new connections */
    for (int waited = 0; atomic_load(&h->in_flight) > 0 && waited < timeout_ms; waited += 10)
        usleep(10000);
    MHD_stop_daemon(h->daemon);
    writer_stop(h->writer);
    free(h);
}
