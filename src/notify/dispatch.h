/* dispatch.h: the dispatcher that sends the outbox (docs/delivery.md).
 *
 * It takes the due rows of each destination most urgent first (rank: high,
 * medium, low, then digests, then replays of past days), marks each
 * `sending` (committed) before the attempt and records the answer after
 * (committed), so a crash between the two leaves the row `sending`, to be
 * sent again with the same key: at least once, and a duplicate is
 * recognisable. HTTP transfers share one libcurl multi handle and mail runs
 * on threads of its own (send.h), so channels proceed side by side and one
 * that hangs or fails delays only its own rows. Slack webhooks are paced (one
 * message per interval each, counted from the previous answer); a 429's
 * Retry-After holds the whole destination; both holds are kept in the store
 * and honoured by every dispatcher process. Failures are classified as
 * transient (retried with backoff and jitter) or permanent (dead at once).
 * Digests are made here, at the configured hour.
 *
 * One dispatcher per SQLite database: dispatch_lock() takes an flock on
 * DB.deliver.lock, which the kernel releases when the process dies. On
 * PostgreSQL every node runs one; they share the outbox through the database
 * (claims under leases, shared holds: dispatch.c) and need no lock.
 *
 * Tests shift tend's clock with TEND_TEST_CLOCK_OFFSET_S (util/datetime.h),
 * to see a hold or a retry fall due without sleeping for it. */
#ifndef TEND_NOTIFY_DISPATCH_H
#define TEND_NOTIFY_DISPATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "notify/config.h"
#include "store/store.h"

#define DISPATCH_ERR_BYTES 320

struct dispatch_options {
    int64_t wait_ms;  /* one run: also wait for retries due within this */
    bool digest_now;  /* make every digest now, whatever the hour */
    atomic_int *stop; /* non-NULL: run until *stop (tend serve) */
    /* Hears of each attempt's outcome (may be NULL): status is "sent",
     * "pending" (will retry) or "dead"; error NULL when sent. */
    void (*outcome)(void *arg, const struct store_outbox *row, const char *status,
                    const char *error);
    void *arg;
};

/* What a run did. Every count but failed_attempts counts rows (messages). */
struct dispatch_summary {
    int64_t sent, dead, digests, recovered;
    int64_t retrying;        /* rows whose latest attempt in this run failed: to be retried */
    int64_t failed_attempts; /* attempts that failed in this run (a row can fail several) */
    int64_t held;            /* rows waiting for a digest at the end */
    bool has_next;           /* pending rows remain: the earliest is due at next_at_ms */
    int64_t next_at_ms;
};

/* Takes the dispatcher lock of the database at db_path; *fd gets the lock's
 * file descriptor (closing it releases the lock; -1 for a postgresql:// URL,
 * which needs none). TEND_ERR_USAGE with who
 * holds it in err when another dispatcher runs; TEND_ERR_IO when the lock
 * file cannot be made. */
enum tend_err dispatch_lock(const char *db_path, int *fd, char *err);

/* Runs the dispatcher on s (the caller holds the lock): once, or until
 * *stop. Once: it sends the rows due by its start plus wait_ms, waiting for
 * Slack pacing as needed, and ends when nothing more of them can go (a row
 * that falls due after that, a retry among them, is the next run's; so is a
 * destination held longer than that by a Retry-After).
 * TEND_ERR_DB when the store fails; failed sends are outcomes, not errors. */
enum tend_err dispatch_run(struct store *s, const struct notify_config *c,
                           const struct dispatch_options *o, struct dispatch_summary *out);

/* Renders row as it would be sent now (the email message, the JSON body, or
 * the log line); a malloced string in *out. TEND_ERR_NOTFOUND when its
 * channel is not configured. */
enum tend_err dispatch_render(struct store *s, const struct notify_config *c,
                              const struct store_outbox *row, int64_t now_ms, char **out);

#endif
