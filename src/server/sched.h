/* sched.h: tend serve's evaluation scheduler (docs/dashboard.md,
 * docs/operations.md "Several nodes").
 *
 * A thread with its own connection. On the node that holds the scheduler's
 * lease (server/lease.h) it plans an evaluation of every account once a
 * day at a configured local time, and on taking the lease the days it
 * missed, each as a run of account buckets in the store (store.h, "several
 * nodes"): one run per scheduled time, ever. On every node it claims the
 * buckets of planned runs and evaluates them, and evaluates the accounts
 * the node's ingest touched within a second of their commit. Evaluations
 * of one node run one at a time; those of several nodes take turns on the
 * accounts they share (store_eval_lock). One node (SQLite): one bucket of
 * every account, the full evaluation as before. */
#ifndef TEND_SERVER_SCHED_H
#define TEND_SERVER_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/model.h"
#include "core/escalate.h"
#include "core/health.h"
#include "core/rules.h"
#include "notify/config.h"
#include "notify/customer_config.h"
#include "util/err.h"

#define SCHED_ERR_BYTES 320

struct lease;

struct sched_options {
    const char *db;
    const struct health_config *hc;
    const struct rules_config *rc;
    const struct notify_config *nc; /* NULL: nothing to notify */
    const char *timezone;           /* IANA name; NULL: UTC */
    int daily_minute;               /* minutes after local midnight */
    /* NULL: no refits; else the churn-risk model is refitted before a daily
     * evaluation when the latest is model->refit_days old (analysis/model.h). */
    const struct model_config *model;
    /* The node's lease keeper (server/lease.h): its holder plans the daily
     * evaluations; every node evaluates their buckets. */
    struct lease *lease;
    const char *node_id; /* the node's name in claims (the keeper's) */
    /* Messages to customers (eval/customer.h), decided after each
     * evaluation; NULL: none. unsub_key signs their unsubscribe links. */
    const struct customer_config *cc;
    const unsigned char *unsub_key;

    /* NULL or off: no escalation; else the lease's holder escalates every
     * SCHED_ESCALATE_EVERY_MS (eval/escalate.h), nc routing the messages. */
    const struct esc_config *escalation;
};

/* What the scheduler did, for /metrics. */
struct sched_stats {
    int64_t daily_runs, event_runs, failures;
    double last_daily_s, last_event_s; /* durations */
    int64_t last_daily_ok_ms;          /* when the last daily run finished (0: none) */
    int64_t events_pending;            /* accounts waiting for an event evaluation */
    int64_t refits;                    /* churn-risk model fits tried */
};

struct sched;

/* Starts the thread (o and what it points to must outlive it). */
enum tend_err sched_start(const struct sched_options *o, struct sched **out, char *err);
/* Asks for the accounts (internal ids) to be evaluated now. Thread-safe;
 * fits writer_touched_fn (server/writer.h). */
void sched_touch(void *sched, const int64_t *accounts, size_t n);
void sched_stats(struct sched *s, struct sched_stats *out);
/* Asks the scheduler to look for work now: a run was planned (a wake-up
 * from another node) or the lease changed hands. Thread-safe. */
void sched_wake(void *sched);
/* Finishes the evaluation in progress, then stops the thread and frees. */
void sched_stop(struct sched *s);

/* The instant (ms) of the latest daily time at or before now_ms, and of the
 * next one after it, in time zone tz (NULL: UTC), across DST changes. A
 * local time that a DST change skips runs at the first instant after it. */
int64_t sched_last_due(int64_t now_ms, const char *tz, int daily_minute);
int64_t sched_next_due(int64_t now_ms, const char *tz, int daily_minute);

#endif
