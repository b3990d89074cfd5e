/* node.h: one tend serve node: its parts started and stopped together.
 *
 * A node is the listening socket and the HTTP server (ingest, dashboard,
 * REST API; server/http.h, server/web.h) with its group-commit writer, the
 * lease keeper (server/lease.h: the scheduler lease and wake-ups from other
 * nodes), the evaluation scheduler (server/sched.h) and, when tend.yaml configures
 * channels, the outbox's dispatcher (notify/dispatch.h): each in threads of
 * its own with its own database connections. node_start() binds the port
 * first, before the database is opened, so that a port in use stops tend
 * serve before it evaluates or queues anything; node_stop() stops them in
 * the order that loses nothing: no new attempt at delivery, the HTTP server
 * finishes the requests in flight and commits them, the scheduler finishes
 * its evaluation (after the writer: no more events to hear of), the lease
 * keeper gives the lease up (the next node takes over at once), the
 * dispatcher finishes its transfers and records their outcome. The threads
 * of a node live here, in one place; the command only reads options and
 * waits for a signal (cli/cmd_serve.c). */
#ifndef TEND_SERVER_NODE_H
#define TEND_SERVER_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis/model.h"
#include "core/escalate.h"
#include "core/health.h"
#include "core/kpi.h"
#include "core/rules.h"
#include "ingest/connectors.h"
#include "ingest/mapping.h"
#include "notify/config.h"
#include "notify/customer_config.h"
#include "server/config.h"
#include "server/slack_config.h"
#include "util/err.h"

#define NODE_ERR_BYTES 512
#define NODE_STOP_MS   30000 /* how long requests in flight may take to finish */

struct node_options {
    const char *db;
    unsigned store_flags; /* store_open_with(): 0 creates the database */
    const char *listen;   /* HOST:PORT */
    const char *const *write_keys;
    size_t n_write_keys;
    unsigned max_connections, max_per_address; /* 0: the defaults (server/http.h) */
    bool evaluate;                             /* false: no scheduler */
    const struct serve_config *serve;
    const struct health_config *hc;
    const struct rules_config *rc;
    const struct kpi_config *kpis;  /* the KPI board (core/kpi.h); NULL: the default */
    const struct notify_config *nc; /* no channels: no dispatcher */
    const struct model_config *model;
    const struct customer_config *cc; /* messages to customers; NULL or off: none */

    const struct esc_config *escalation;        /* NULL or off: no escalation */
    const struct event_map *events;             /* events: of tend.yaml; NULL: none */
    const struct connectors_config *connectors; /* connectors:; NULL or none on: no /hooks/ */
    const struct slack_config *slack;           /* slack: of tend.yaml; NULL or off: no /slack/ */
};

/* What a running node does, for its start-up line. */
struct node_info {
    bool evaluating, delivering;
};

struct node;

/* Starts a node; the options' configuration must outlive it, and its
 * channels must have passed notify_config_ready(). On failure
 * writes why into err (NODE_ERR_BYTES), with everything started stopped. */
enum tend_err node_start(const struct node_options *o, struct node **out, struct node_info *info,
                         char *err);
/* Stops a node gracefully (see above) and frees it. NULL is a no-op. */
void node_stop(struct node *n);

#endif
