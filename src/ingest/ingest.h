/* ingest.h: from validated Segment messages to stored facts (SPEC 1).
 *
 * ingest_message() takes one struct seg_msg (see segment.h) and does what the
 * spec says a message means: deduplicates it by its key, resolves its account
 * (context.groupId, then properties.account_id, then the one account its user
 * belongs to), stores it, merges traits, starts and ends memberships, and puts
 * the events it cannot resolve in quarantine, attaching earlier quarantined
 * events as soon as a group or identify call resolves them.
 *
 * It is the single writer's view of the store: it caches ids and memberships
 * in memory (bounded, dropped whenever another process changed the database),
 * and it counts what it did in the open transaction so the counters commit
 * with the data. Callers own the transaction: ingest_begin(), any number of
 * ingest_message(), ingest_commit(). Not thread-safe: one thread uses it. */
#ifndef TEND_INGEST_INGEST_H
#define TEND_INGEST_INGEST_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "ingest/segment.h"
#include "store/store.h"

struct ingest;

/* Most trait keys an account or a user keeps besides the known traits
 * (name, plan, mrr, ...; email, title); see merge_traits in ingest.c. */
#define INGEST_MAX_TRAIT_KEYS 1000

enum ingest_outcome {
    INGEST_ACCEPTED,    /* stored and attached to its account (or needs none) */
    INGEST_DUPLICATE,   /* a message with this key was stored before: ignored */
    INGEST_QUARANTINED, /* stored, waiting for its account */
};

/* Totals since ingest_open(), updated at each commit. */
struct ingest_totals {
    int64_t accepted;
    int64_t duplicates;
    int64_t quarantined;
    int64_t attached; /* earlier quarantined events attached */
    int64_t rejected;
    /* events: of tend.yaml (ingest/mapping.h): messages on the ignore list
     * (acknowledged, not stored), and messages aliased or with properties
     * renamed (stored, counted as accepted too). */
    int64_t ignored;
    int64_t aliased;
    int64_t renamed;
};

/* Creates an ingest writer on s (borrowed: s must outlive it). */
struct ingest *ingest_new(struct store *s);
/* Frees it; accepts NULL. Rolls back an open transaction. */
void ingest_free(struct ingest *ig);

enum tend_err ingest_begin(struct ingest *ig);
/* Writes the transaction's counters and commits durably. */
enum tend_err ingest_commit(struct ingest *ig);
/* Rolls back and forgets the transaction's counts and caches. */
void ingest_rollback(struct ingest *ig);

/* Applies one message inside the open transaction; *outcome says what became of
 * it. Fails only on a store error (the transaction must then be rolled back). */
enum tend_err ingest_message(struct ingest *ig, const struct seg_msg *m,
                             enum ingest_outcome *outcome);

/* Tells the store the keys of the n messages about to be applied in the open
 * transaction (store_event_keys_prefetch), so that on PostgreSQL their
 * deduplication costs one query for the batch instead of one per message.
 * Optional: every outcome is the same without it. */
enum tend_err ingest_prefetch(struct ingest *ig, const struct seg_msg *msgs, size_t n);

/* The account (internal id) the last ingest_message() stored its message
 * for, when accepted; 0 otherwise. */
int64_t ingest_last_account(const struct ingest *ig);

/* Applies account traits that do not come from a group call (the accounts CSV
 * of `tend import --accounts`): like a group call for external_id without a
 * user, traits at ts_ms (the row's as_of). traits is a cJSON object; it is
 * validated like a group call's, external_id like a groupId and ts_ms like a
 * timestamp received now (err, SEG_ERR_BYTES, gets the reason, naming
 * account_id, as_of or the column, for TEND_ERR_INVALID). */
enum tend_err ingest_account_traits(struct ingest *ig, const char *external_id, cJSON *traits,
                                    int64_t ts_ms, char *err);

/* Counts n rejected messages in the open transaction. */
void ingest_count_rejected(struct ingest *ig, int64_t n);

/* Counts, in the open transaction, messages the events: map ignored,
 * aliased and renamed (counters messages.ignored, mapping.aliased and
 * mapping.renamed; /metrics shows them). */
void ingest_count_mapped(struct ingest *ig, int64_t ignored, int64_t aliased, int64_t renamed);

/* Totals of committed work since ingest_new(). */
struct ingest_totals ingest_totals(const struct ingest *ig);

#endif
