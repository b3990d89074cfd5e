/* inbox.h: processing the webhook inbox (docs/connectors.md, "Failure
 * handling").
 *
 * A provider's event is first kept in the inbox (store_inbox_put: the
 * request is answered as soon as that commits), then processed here, by
 * tend serve's inbox worker or by `tend inbox replay`: one row per
 * transaction, taken with store_inbox_next (FOR UPDATE SKIP LOCKED on
 * PostgreSQL, so several nodes share the work), mapped by hook_map
 * (ingest/hooks_map.h), its messages validated and ingested through the
 * ordinary path (segment_parse_msg, ingest_message: deduplication,
 * quarantine and facts as for any Segment message), its traits applied
 * (ingest_account_traits), a learnt provider id recorded in the mapping
 * table, and the row finished with its status and reason, all in the one
 * transaction. A store error rolls the transaction back and leaves the row
 * pending, to be tried again; the same row failing INBOX_MAX_ERRORS times in
 * a row is finished "failed" with the reason "error" (the error as its
 * detail; `tend inbox replay` takes it again), so that a row that always
 * fails neither loops forever nor holds up the rows behind it. A payload
 * that does not map is a status, never an error. */
#ifndef TEND_INGEST_INBOX_H
#define TEND_INGEST_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/connectors.h"
#include "ingest/ingest.h"
#include "store/store.h"

/* What a run did. */
struct inbox_run {
    int64_t rows;     /* rows processed */
    int64_t done;     /* mapped (or learnt from) */
    int64_t unmapped; /* kept for a replay: unknown account or owner */
    int64_t ignored;  /* types or changes tend does not map */
    int64_t failed;   /* unreadable payloads, messages ingest refused */
    int64_t events;   /* messages ingested (accepted, quarantined or duplicate) */
    /* The caller keeps these two from one run to the next (tend serve's
     * worker does): the row whose store error happened last, and how many
     * times in a row it did. */
    int64_t error_row;
    int errors;
};

/* Store errors in a row on the same inbox row before it is finished as
 * failed (reason "error"). */
#define INBOX_MAX_ERRORS 3

/* Hears of the accounts (internal ids) a committed row stored events for. */
typedef void (*inbox_touched_fn)(void *arg, const int64_t *accounts, size_t n);

/* Processes pending rows on ig's store until none is left, max_rows are
 * done (<= 0: no limit) or *stop becomes true (may be NULL). Adds to *run.
 * Counts each row in the store's counters, in its transaction:
 * hooks.PROVIDER.STATUS[.REASON] (/metrics shows them). Returns the store's
 * error (the row in hand stays pending), TEND_OK otherwise. */
enum tend_err inbox_process(struct ingest *ig, struct store *s, const struct connectors_config *c,
                            int max_rows, const volatile bool *stop, inbox_touched_fn touched,
                            void *arg, struct inbox_run *run);

#endif
