/* http.h: tend's HTTP server: the Segment-compatible ingest API.
 *
 * Endpoints (docs/api.md):
 *   POST /v1/track|identify|group|page|screen|alias   one message
 *   POST /v1/batch                                     {"batch":[...],"context":{...}}
 *   GET  /healthz                                      liveness (200 when serving)
 * and, with cfg->web, everything else: the dashboard, /api/ and /metrics
 * (server/web.h).
 * Write key: the HTTP Basic user name (empty password, Segment's convention)
 * or "writeKey" in the JSON body; 401 otherwise. Limits: SEG_MAX_REQUEST_BYTES
 * per request (413), SEG_MAX_MESSAGE_BYTES per message (400 for a single call,
 * a rejected index in a batch). A 200 is sent only after the messages are
 * committed to disk (server/writer.h).
 *
 * Built on libmicrohttpd, one thread per connection: validation runs on the
 * connection threads in parallel; only the writer thread touches the store. */
#ifndef TEND_SERVER_HTTP_H
#define TEND_SERVER_HTTP_H

#include <stddef.h>

#include "server/web.h"
#include "server/writer.h"
#include "store/store.h"
#include "util/err.h"

#define HTTP_ERR_BYTES 256

struct http_config {
    const char *listen;            /* "HOST:PORT" or "[V6]:PORT" */
    const char *const *write_keys; /* accepted write keys */
    size_t n_write_keys;
    unsigned max_connections;  /* 0: default */
    struct web *web;           /* the dashboard and REST API, or NULL: ingest only */
    writer_touched_fn touched; /* hears of accounts with new events; may be NULL */
    void *touched_arg;
};

struct http_server;

/* Starts serving on cfg->listen with the store s (borrowed; must outlive the
 * server). On failure returns TEND_ERR_USAGE or TEND_ERR_IO with the reason in
 * err (HTTP_ERR_BYTES). cfg's strings must outlive the server. */
enum tend_err http_start(struct store *s, const struct http_config *cfg, struct http_server **out,
                         char *err);
/* Graceful stop: stops accepting connections, lets requests in flight finish
 * (at most timeout_ms), commits what they sent, then frees the server. */
void http_stop(struct http_server *h, int timeout_ms);

#endif
