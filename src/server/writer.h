/* writer.h: the single writer of the HTTP ingest path, with group commit.
 *
 * HTTP requests are parsed and validated on their own connection threads, in
 * parallel; the validated messages are then handed to one writer thread, the
 * only one that touches the store. The writer takes every request waiting at
 * that moment, applies them all in one transaction, commits once (one fsync)
 * and wakes each request with its result. Under load many requests share a
 * commit, so durability (a 200 means on disk) costs one fsync per batch of
 * requests instead of one per request; an idle server commits each request at
 * once, so a lone request waits no longer than its own commit. */
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

/* Applies n messages (borrowed for the call) plus a count of rejected ones in
 * the next commit and blocks until it is durable. outcomes[i] gets what became
 * of msgs[i]. Returns TEND_OK once committed, or TEND_ERR_DB when the
 * transaction failed (then nothing of it was stored). Thread-safe. */
enum tend_err writer_submit(struct writer *w, const struct seg_msg *msgs, size_t n, size_t rejected,
                            enum ingest_outcome *outcomes);

#endif
