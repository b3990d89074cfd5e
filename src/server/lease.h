/* lease.h: a node's lease keeper (docs/operations.md, "Several nodes").
 *
 * A thread with its own database connection that takes, and keeps
 * renewing, the scheduler's lease (store_lease_acquire): the node that
 * holds it plans the daily evaluations (server/sched.h), every node
 * evaluates their buckets. It renews every third of the lease's time; a
 * node that dies stops renewing, and another takes over (with the next
 * term) once the time has run out. Between renewals it listens for
 * wake-ups (store_notify_wait) and passes them on. On stop it gives the
 * lease up, so the next node takes over at once.
 *
 * The lease's time is LEASE_TTL_MS, or TEND_TEST_LEASE_MS from the
 * environment (tests kill nodes and wait for a takeover). */
#ifndef TEND_SERVER_LEASE_H
#define TEND_SERVER_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

#define LEASE_TTL_MS    15000
#define LEASE_ERR_BYTES 320

struct lease_options {
    const char *db;
    const char *node_id; /* unique per process (node.c): host, pid, random */
    /* Hears of each wake-up (channel: STORE_CHANNEL_*) and of each change
     * of the lease (channel NULL); called on the keeper's thread. */
    void (*woken)(void *arg, const char *channel);
    void *arg;
};

struct lease;

/* Starts the keeper (o's strings must outlive it). */
enum tend_err lease_start(const struct lease_options *o, struct lease **out, char *err);
/* True while this node holds the lease with time to spare, its term in
 * *term. Thread-safe. */
bool lease_held(struct lease *l, int64_t *term);
/* The lease's time in ms. */
int64_t lease_ttl_ms(void);
/* Stops the keeper, gives the lease up and frees. NULL is a no-op. */
void lease_stop(struct lease *l);

#endif
