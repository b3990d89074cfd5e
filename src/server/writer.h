/* writer.h: the single writer of the HTTP ingest path, with group commit.
 *
 * HTTP requests are parsed and validated on the ingest workers, in parallel;
 * the validated messages are then handed to one writer thread, the only one
 * that touches the store. The writer takes every request waiting at that
 * moment, applies them all in one transaction, commits once (one fsync) and
 * tells each request its result. Under load many requests share a commit, so
 * durability (a 200 means on disk) costs one fsync per batch of requests
 * instead of one per request; an idle server commits each request at once, so
 * a lone request waits no longer than its own commit.
 *
 * Submission does not wait: a request hands over a job and its thread goes
 * on; the job's done callback runs on the writer thread after the commit (the
 * HTTP server answers and resumes the connection from there). So no thread is
 * spent per request waiting for an fsync, however many requests wait. */
#ifndef TEND_SERVER_WRITER_H
#define TEND_SERVER_WRITER_H

#include <stddef.h>

#include "ingest/ingest.h"
#include "store/store.h"

struct writer;

/* Hears, after each commit, of the accounts (internal ids, maybe repeated)
 * that got a meaningful event: one rules read at once (the CS vocabulary and
 * group calls, not logins, feature events, pages or identifies). */
typedef void (*writer_touched_fn)(void *arg, const int64_t *accounts, size_t n);

/* Starts the writer thread on s (borrowed; must outlive the writer).
 * touched may be NULL. */
struct writer *writer_start(struct store *s, writer_touched_fn touched, void *arg);
/* Applies what is queued, then stops the thread and frees the writer. */
void writer_stop(struct writer *w);

/* One request's messages for the next commit. The caller fills msgs, n,
 * rejected (a count of invalid messages, for the counters), outcomes (n
 * slots) and done, and owns the job and what it points to until done. */
struct writer_job {
    const struct seg_msg *msgs;
    size_t n;
    size_t rejected;
    size_t ignored, aliased, renamed; /* by events: (ingest/mapping.h), for the counters */
    enum ingest_outcome *outcomes;    /* outcomes[i]: what became of msgs[i] */
    /* Called once on the writer thread after the commit, with TEND_OK (then
     * durable) or TEND_ERR_DB (the transaction failed: nothing of it was
     * stored). Keep it short: the next commit waits for it. */
    void (*done)(struct writer_job *job, enum tend_err result);
    struct writer_job *next; /* the writer's */
};

/* Queues job for the next commit and returns at once. Thread-safe. Must not
 * be called after writer_stop. */
void writer_submit(struct writer *w, struct writer_job *job);

#endif
