/* hooks.h: tend serve's webhook endpoints, POST /hooks/stripe, /hooks/zendesk
 * and /hooks/hubspot, and the inbox worker that processes what they keep
 * (docs/connectors.md).
 *
 * A request is answered as soon as its events are kept: the signature is
 * checked (ingest/verify.h) before anything else is read or stored, the
 * body is split into its events (ingest/hooks_map.h) and each is inserted
 * into the inbox by its provider's event id (a retry or a duplicate is
 * acknowledged and changes nothing); the answer is 200 once that commits.
 * The mapping to tend's events happens off the request, on the inbox
 * worker: a thread of its own with its own store connection, woken at once
 * by every request that kept something, and every HOOKS_POLL_MS besides
 * (rows kept by another node, or put back by `tend inbox replay`). A row
 * that does not map is acknowledged all the same (the provider never
 * retries it) and kept with the reason.
 *
 * What an unauthenticated request may cost is fixed: a provider that is off,
 * a missing, malformed or stale signature header is refused with the
 * headers alone, before the body is read (hooks_precheck); the body is
 * capped at HOOKS_MAX_BODY and held within the server's budget for bodies
 * without a key; a wrong signature costs one HMAC per configured secret
 * over the body, and nothing is parsed or stored. */
#ifndef TEND_SERVER_HOOKS_H
#define TEND_SERVER_HOOKS_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/connectors.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"

/* A webhook body's limit: Stripe's events are far below (an invoice with
 * many lines is tens of KiB); HubSpot batches up to 100 small events. */
#define HOOKS_MAX_BODY (1024 * 1024)
/* How often the worker looks for pending rows when nobody woke it. */
#define HOOKS_POLL_MS 5000
/* How often it prunes payloads past connectors.retention_days. */
#define HOOKS_PRUNE_MS  (60 * 60 * 1000)
#define HOOKS_ERR_BYTES 256

struct hooks_options {
    const char *db;
    const struct connectors_config *cc; /* borrowed; outlives the hooks */
    /* Hears of accounts with new events (the scheduler's sched_touch). */
    void (*touched)(void *arg, const int64_t *accounts, size_t n);
    void *touched_arg;
};

struct hooks;

/* Opens the store connections and starts the worker; NULL with the reason
 * in err (HOOKS_ERR_BYTES) on failure. */
struct hooks *hooks_start(const struct hooks_options *o, char *err);
/* Stops the worker (it finishes the row in hand) and frees. Accepts NULL. */
void hooks_stop(struct hooks *h);

/* With the headers only: TEND_OK to read the body, else the refusal (404
 * no such provider or off, 405 not POST, 401 a signature header missing,
 * malformed or stale) with msg (size bytes). */
enum tend_err hooks_precheck(struct hooks *h, struct MHD_Connection *c, const char *url,
                             const char *method, char *msg, size_t size);
/* Answers a complete request: *status and *answer (a JSON object, owned by
 * the caller). */
void hooks_receive(struct hooks *h, struct MHD_Connection *c, const char *url, const char *method,
                   const char *body, size_t len, unsigned *status, cJSON **answer);
/* Appends the connectors' lines of /metrics, read through s (h may be
 * NULL: no connectors, the stored counts only). */
enum tend_err hooks_metrics(struct hooks *h, struct store *s, struct buf *b);
/* GET /api/inbox: the rows of provider (NULL: all) with status (NULL: all),
 * newest first, at most limit (text; NULL: 100, at most 1,000), with the
 * counts per provider, status and reason; TEND_ERR_INVALID with the reason
 * in err (size bytes) for a bad parameter. */
enum tend_err hooks_inbox_view(struct store *s, const char *provider, const char *status,
                               const char *limit, cJSON **out, char *err, size_t size);

#endif
