/* http.h: tend's HTTP server: the Segment-compatible ingest API.
 *
 * Endpoints (docs/api.md):
 *   POST /v1/track|identify|group|page|screen|alias   one message
 *   POST /v1/batch                                     {"batch":[...],"context":{...}}
 *   GET  /healthz                                      liveness (200 when serving)
 * and, with cfg->web, everything else: the dashboard, /api/ and /metrics
 * (server/web.h).
 * Write key: the HTTP Basic user name (empty password, Segment's convention)
 * or "writeKey" in the JSON body; 401 otherwise. A 200 is sent only after the
 * messages are committed to disk (server/writer.h).
 *
 * Built on libmicrohttpd's epoll event loops with the work of each request on
 * worker threads (http.c says how); the limits below keep it answering while
 * clients are slow, many or hostile (docs/api.md, "Limits"). */
#ifndef TEND_SERVER_HTTP_H
#define TEND_SERVER_HTTP_H

#include <microhttpd.h>
#include <stddef.h>

#include "ingest/mapping.h"
#include "server/web.h"
#include "server/writer.h"
#include "store/store.h"
#include "util/err.h"

#define HTTP_ERR_BYTES 256

/* ---- limits (docs/api.md, "Limits") --------------------------------------- */

/* Connections open at once, and from one client address (0: no per-address
 * limit, e.g. behind a reverse proxy that has its own). */
#define HTTP_DEFAULT_MAX_CONNECTIONS 4096
#define HTTP_DEFAULT_MAX_PER_ADDRESS 64
/* Memory of one connection's buffers (request line, headers, a body chunk),
 * libmicrohttpd's default made explicit: ~14 KiB of headers (cookies count
 * twice: raw and parsed); more is refused with 431. 4,096 connections hold
 * at most 128 MiB of it; an idle one touches a page or two. */
#define HTTP_CONNECTION_MEMORY (32 * 1024)
/* Absolute deadlines, whatever the client sends: the request line within
 * HTTP_IDLE_S of the connection (or of the previous answer, keep-alive), the
 * headers within HTTP_HEADERS_S of the request line, the whole request (with
 * its body) within HTTP_REQUEST_S of it, the answer read within
 * HTTP_ANSWER_S. A connection past its deadline is closed. */
#define HTTP_IDLE_S    15
#define HTTP_HEADERS_S 10
#define HTTP_REQUEST_S 30
#define HTTP_ANSWER_S  30
/* A dashboard or REST request's body (forms, JSON actions); ingest bodies
 * have Segment's SEG_MAX_REQUEST_BYTES. */
#define HTTP_WEB_MAX_BODY (64 * 1024)
/* Bytes of request bodies held at once while they arrive: with a known write
 * key in the Basic header, and without one (the rest: body writeKey, the
 * dashboard), so clients without a key cannot crowd out those with one. */
#define HTTP_KEYED_BODIES_BYTES (64u << 20)
#define HTTP_OPEN_BODIES_BYTES  (32u << 20)
/* Bytes of webhook bodies (/hooks/, up to 1 MiB each, HOOKS_MAX_BODY) held at
 * once, apart from the others: a header that looks signed is enough to send
 * one, so a flood of them must not crowd out the dashboard's sign-ins. */
#define HTTP_HOOK_BODIES_BYTES (16u << 20)
/* Parsed ingest requests held at once (JSON trees and messages, from the
 * parse until their commit), counted at HTTP_PARSE_COST_PER_BYTE per body
 * byte: the measured worst case of cJSON, a body of `0,0,0,...` (a 64-byte
 * value every 2 bytes: 40 bytes of tree per body byte with glibc's malloc,
 * 32 with jemalloc; strings 37, arrays 27, object members 14); a valid batch's
 * messages take far less. So 96 MiB holds four 500 KB worst cases at once, or
 * hundreds of ordinary requests. A request waits at most HTTP_PARSE_WAIT_MS
 * for room, then gets 503 with Retry-After. */
#define HTTP_PARSE_BYTES         (96u << 20)
#define HTTP_PARSE_COST_PER_BYTE 40
#define HTTP_PARSE_WAIT_MS       5000
/* Messages in one /v1/batch: the smallest useful message (type, userId and
 * event: ~50 bytes) fills 500 KB with ~10,000; more is not a real batch. */
#define HTTP_MAX_BATCH_MESSAGES 10000
/* Rejected messages listed in an answer (the first ones by index); the
 * answer says how many there were in all ("rejected_total"). */
#define HTTP_MAX_REJECTED_LISTED 100

struct http_config {
    const char *listen;            /* "HOST:PORT" or "[V6]:PORT" */
    const char *const *write_keys; /* accepted write keys */
    size_t n_write_keys;
    unsigned max_connections;  /* 0: HTTP_DEFAULT_MAX_CONNECTIONS */
    unsigned max_per_address;  /* 0: HTTP_DEFAULT_MAX_PER_ADDRESS; UINT_MAX: none */
    struct web *web;           /* the dashboard and REST API, or NULL: ingest only */
    writer_touched_fn touched; /* hears of accounts with new events; may be NULL */
    void *touched_arg;
    const struct event_map *events; /* events: of tend.yaml; NULL: none */
    struct hooks *hooks;            /* /hooks/ (server/hooks.h); NULL: none */
    struct slack *slack;            /* /slack/ (server/slack.h): its header check; NULL: none */
};

struct http_server;
struct slack;

/* Binds and listens on listen ("HOST:PORT" or "[V6]:PORT") and returns the
 * socket in *fd: tend serve does this first, so a busy port is reported before
 * the database is touched. TEND_ERR_USAGE for a malformed address,
 * TEND_ERR_IO when the address cannot be bound ("127.0.0.1:8088 is already in
 * use"), with the reason in err (HTTP_ERR_BYTES). */
enum tend_err http_listen(const char *listen, int *fd, char *err);

/* Starts serving on the listening socket fd (from http_listen; taken: the
 * server closes it) with the store s (borrowed; must outlive the server).
 * Raises the open-file limit as far as the connections need. On failure
 * returns TEND_ERR_IO with the reason in err (HTTP_ERR_BYTES). cfg and its
 * strings must outlive the server. */
enum tend_err http_start(struct store *s, const struct http_config *cfg, int fd,
                         struct http_server **out, char *err);
/* Graceful stop: stops accepting connections, lets requests in flight finish
 * (at most timeout_ms), commits what they sent, then frees the server.
 * Accepts NULL. */
void http_stop(struct http_server *h, int timeout_ms);

/* Answers the request on connection c with status and r (taken: the caller
 * must not use or destroy r). Handlers (web.c) answer through this, never
 * MHD_queue_response: on a worker thread the answer is kept and queued by the
 * connection's event loop when the request resumes. */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, struct MHD_Response *r);

#endif
