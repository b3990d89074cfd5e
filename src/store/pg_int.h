/* pg_int.h: what the PostgreSQL backend's files share, and nobody else.
 *
 * The backend mirrors the SQLite one file for file (docs/store.md): pg_store.c
 * holds the connection, its transactions, the statement cache, parameters,
 * results and errors, and the operations table; pg_accounts.c, pg_events.c,
 * pg_activity.c, pg_facts.c, pg_scores.c, pg_ctas.c, pg_held.c,
 * pg_outbox.c, pg_report.c, pg_model.c and pg_session.c hold the statements
 * of their tables, each a `static const char q_name[]` beside the functions
 * that run it, with the contract store.h states for the operation.
 *
 * Statements: pg_query(s, q_name, &p, ...) prepares q_name on first use
 * (PQprepare, named after its slot) and keeps it for the life of the
 * connection, found again by the address of its SQL, as sqlite_stmt() does.
 * Parameters travel as text ($1, $2, ...), so a statement casts where the
 * type is not plain from the SQL ($1::bigint, $2::jsonb).
 *
 * Events are staged, not inserted one by one (pg_events.c): store_event_put()
 * appends to the connection's staging buffer, and the buffer is written
 * with one COPY and one INSERT ... ON CONFLICT DO NOTHING before any
 * statement of the connection that reads or writes the tables it goes to
 * (pg_query calls pg_events_flush_before) and at commit, so every read sees
 * every event written before it. */
#ifndef TEND_STORE_PG_INT_H
#define TEND_STORE_PG_INT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/backend.h"
#include "store/store.h"

/* Slots of a connection's statement cache: a power of two, at most three
 * quarters full (the backend has about 200 statements). */
#define PG_STMT_SLOTS 512
/* Parameters of one statement, at most. */
#define PG_MAX_PARAMS 32
/* Statements queued in a pipeline (pg_run_later), at most. */
#define PG_PIPE_MAX 256

struct pg_staged;   /* pg_events.c: events written, not yet flushed */
struct pg_deferred; /* pg_batch.c: scores and activity windows not yet written */
struct pg_ingest;   /* pg_ingest.c: what this transaction knows of its own rows */

/* A connection of the PostgreSQL backend: a struct store (backend.h) first. */
struct pg_store {
    struct store base; /* ops: pg_ops */
    PGconn *conn;
    char *url; /* for store_open_again() */
    bool read_only;
    bool in_tx;
    bool unnamed; /* TEND_PG_POOL=transaction: statements not prepared */
    /* pg_snapshot_xmax() after our last commit: a higher one at begin means
     * another connection committed a write since (store_begin's
     * changed_elsewhere). */
    uint64_t xmax;
    struct {
        const char *sql;
    } stmts[PG_STMT_SLOTS];
    int n_stmts;
    int64_t changes;          /* rows of the last command (PQcmdTuples) */
    struct pg_staged *staged; /* NULL until the first event_put */
    bool flushing;            /* inside pg_events_flush: no recursion */
    /* pg_batch.h: scores and activity windows written before the next
     * statement (NULL until the first); deferred_flushing while they are. */
    struct pg_deferred *deferred;
    bool deferred_flushing;
    int schema_version;
    /* pg_pipeline.c: statements sent and not read back (pg_run_later), and
     * what each was doing, for its error message. */
    int pipe_n;
    const char *pipe_what[PG_PIPE_MAX];
    struct pg_ingest *ingest; /* NULL until ingest's first use */
    bool ingest_flushing;     /* inside pg_ingest_flush */
    bool ingest_own;          /* a statement of ingest's own traits: no flush first */
    char err[STORE_ERR_BYTES];
};

static inline struct pg_store *pg_of(struct store *s) {
    return (struct pg_store *)s;
}

/* The parameters of one statement, as text: each pg_p_* appends one. Numbers
 * are formatted into the struct itself; texts are borrowed (they must live
 * until the statement has run); arrays (pg_p_ids) are allocated and freed by
 * the pg_query/pg_run/pg_int/pg_stream call that consumes the parameters. */
struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][32];
    char *owned[PG_MAX_PARAMS];
    int n_owned;
};

void pg_p_i64(struct pg_params *p, int64_t v);
void pg_p_int(struct pg_params *p, int v);
/* An id: 0 is NULL, as sqlite_bind_id. */
void pg_p_id(struct pg_params *p, int64_t id);
/* A double with every bit kept (%.17g); NaN and infinities as PostgreSQL
 * spells them. */
void pg_p_f64(struct pg_params *p, double v);
/* A double, or NULL when !has. */
void pg_p_f64_or_null(struct pg_params *p, bool has, double v);
void pg_p_bool(struct pg_params *p, bool v);
/* Text (NULL is NULL), borrowed. */
void pg_p_text(struct pg_params *p, const char *v);
void pg_p_null(struct pg_params *p);
/* ids as a bigint[] literal ('{1,2,3}'): cast it in SQL ($3::bigint[]) and
 * read it with unnest() or = ANY(). */
void pg_p_ids(struct pg_params *p, const int64_t *ids, size_t n);

/* Runs sql (a static string: its address is the statement's cache key) with
 * p (NULL: none), first flushing staged events. On success *out is the
 * result (rows counted for store_rows_read), which the caller PQclear()s; on
 * failure the error is recorded (store_last_error) as "what: message
 * (SQLSTATE)" and the return is TEND_ERR_DB, or TEND_ERR_CONFLICT for a
 * unique violation (23505), or TEND_ERR_BUSY for a serialization failure or
 * deadlock (40001, 40P01) that the caller may retry. */
enum tend_err pg_query(struct pg_store *s, const char *sql, struct pg_params *p, const char *what,
                       PGresult **out);
/* pg_query for a statement whose rows are not needed; s->changes is the
 * count of rows it changed. */
enum tend_err pg_run(struct pg_store *s, const char *sql, struct pg_params *p, const char *what);
/* pg_run for a statement whose failure its caller need not see at once: in a
 * transaction it is queued in the connection's pipeline (pg_pipeline.c) and
 * sent without waiting; its error, if any, is the next waiting statement's
 * (and the transaction's). Outside a transaction, pg_run. s->changes is not
 * set. */
enum tend_err pg_run_later(struct pg_store *s, const char *sql, struct pg_params *p,
                           const char *what);
/* pg_pipeline.c: reads the queued statements' results and leaves pipeline
 * mode (TEND_OK, or the first one's error); before a statement that cannot
 * be pipelined (COPY, PQexec). */
enum tend_err pg_pipeline_drain(struct pg_store *s);
/* Forgets the queued statements (rollback, a failed send), leaving pipeline
 * mode; s->err is kept. */
void pg_pipeline_discard(struct pg_store *s);
/* Queues one statement (name: prepared; NULL: sql unnamed), entering
 * pipeline mode; pg_pipeline_queued() then records it. */
enum tend_err pg_pipeline_send(struct pg_store *s, const char *sql, const char *name, int n,
                               const char *const *v);
void pg_pipeline_queued(struct pg_store *s, const char *what);
/* Sends one statement after the queued ones, syncs, and reads every result:
 * *out is its result (the caller PQclear()s) or the first error. */
enum tend_err pg_pipeline_query(struct pg_store *s, const char *sql, const char *name, int n,
                                const char *const *v, const char *what, PGresult **out);
/* Whether a statement may be queued now: inside a transaction. */
bool pg_pipeline_may_queue(struct pg_store *s);
/* pg_query of at most one integer into *out (NULL reads 0);
 * TEND_ERR_NOTFOUND if no row. */
enum tend_err pg_int(struct pg_store *s, const char *sql, struct pg_params *p, const char *what,
                     int64_t *out);
/* Runs sql in single-row mode, calling row(arg, r, 0) for each row as it
 * arrives, so that a scan of millions of rows holds one in memory. row must
 * not use the store (the connection is busy until the scan ends); a caller
 * whose callback does reads a whole result with pg_query instead. */
enum tend_err pg_stream(struct pg_store *s, const char *sql, struct pg_params *p, const char *what,
                        void (*row)(void *arg, PGresult *r, int i), void *arg);
/* Runs sql as written (no parameters, not prepared; several statements
 * allowed). */
enum tend_err pg_exec(struct pg_store *s, const char *sql, const char *what);
/* Records "what: message (SQLSTATE)" of r (or the connection's message) and
 * returns the error for its SQLSTATE, as pg_query does. */
enum tend_err pg_fail(struct pg_store *s, const char *what, const PGresult *r);

/* Columns of row i: NULL reads 0, NULL text reads NULL. */
int64_t pg_i64(const PGresult *r, int i, int col);
double pg_f64(const PGresult *r, int i, int col);
bool pg_bool(const PGresult *r, int i, int col);
const char *pg_text(const PGresult *r, int i, int col);
bool pg_null(const PGresult *r, int i, int col);

/* pg_events.c: writes the staged events (COPY into a staging table, then
 * INSERT ... ON CONFLICT DO NOTHING, and what an inserted event updates);
 * TEND_OK with nothing staged. pg_events_discard() forgets them (rollback). */
enum tend_err pg_events_flush(struct pg_store *s);
/* pg_events_flush() if sql (a statement of pg_query or pg_stream, static;
 * NULL: any other) may read or write a table the staged events go to: a
 * statement of other tables runs with the events still staged, so that the
 * ingest's own statements (users, login days, counters) do not cut its
 * batches into single rows. */
enum tend_err pg_events_flush_before(struct pg_store *s, const char *sql);
void pg_events_discard(struct pg_store *s);
/* Adds (account_id, day) to login_days with the staged rows, in a
 * transaction: written by the next flush (before a statement naming
 * login_days, at commit, or at 2,000 days). */
enum tend_err pg_events_login_day(struct pg_store *s, int64_t account_id, int32_t day);
void pg_events_free(struct pg_store *s);

/* pg_batch.c: writes the deferred rows (pg_batch.h) before another
 * statement of the connection and at commit; TEND_OK with none.
 * pg_deferred_discard() forgets them (rollback); pg_deferred_free() also
 * frees their memory (close). */
enum tend_err pg_deferred_flush(struct pg_store *s);
void pg_deferred_discard(struct pg_store *s);
void pg_deferred_free(struct pg_store *s);

/* pg_ingest.c: the traits of the entities this transaction locked, and
 * the users it inserted (see its header). Forgotten at commit and rollback
 * (pg_ingest_forget), freed at close. */
void pg_ingest_forget(struct pg_store *s);
void pg_ingest_free(struct pg_store *s);
/* Whether the entity's row is locked by this transaction. */
bool pg_ingest_locked(struct pg_store *s, enum store_entity entity, int64_t id);
/* The entity's row is locked (by a statement sent or queued); no-op outside
 * a transaction. */
void pg_ingest_lock_taken(struct pg_store *s, enum store_entity entity, int64_t id);
/* A row of a read of a locked entity's traits, then the read's end. */
void pg_ingest_trait_read(struct pg_store *s, enum store_entity entity, int64_t id, const char *key,
                          const char *value_json, int64_t ts_ms);
void pg_ingest_traits_filled(struct pg_store *s, enum store_entity entity, int64_t id);
/* A merge of an entity whose traits are kept: the copy follows it and the
 * trait waits to be written (pg_ingest_flush); true. False when they are not
 * kept: the caller sends the merge. */
bool pg_ingest_trait_merged(struct pg_store *s, enum store_entity entity, int64_t id,
                            const char *key, const char *value_json, int64_t ts_ms);
/* Writes the merged traits that wait (one statement per table and 2,000
 * rows, queued: pg_run_later); before a statement that names a traits
 * table other than ingest's own (sql NULL: any, as at commit); and when
 * 20,000 wait (pg_ingest_flush_if_full). */
enum tend_err pg_ingest_flush(struct pg_store *s);
enum tend_err pg_ingest_flush_before(struct pg_store *s, const char *sql);
enum tend_err pg_ingest_flush_if_full(struct pg_store *s);
/* Calls fn with the kept traits in key order and returns true, or false
 * when they are not kept (the caller reads them). */
bool pg_ingest_traits_each(struct pg_store *s, enum store_entity entity, int64_t id,
                           void (*fn)(void *arg, const char *key, const char *value_json),
                           void *arg);
/* A user this transaction inserted; whether it still has none of this
 * transaction's removals or quarantined events; one of them names it. */
void pg_ingest_user_created(struct pg_store *s, int64_t user_id);
bool pg_ingest_user_fresh(struct pg_store *s, int64_t user_id);
void pg_ingest_user_named(struct pg_store *s, int64_t user_id);
/* Whether a user inserted here has no membership started here yet; one
 * was started. */
bool pg_ingest_user_unjoined(struct pg_store *s, int64_t user_id);
void pg_ingest_user_joined(struct pg_store *s, int64_t user_id);

/* pg_ingest_facts.c: whether events of kind are facts; the until_ms of a
 * fact whose lifetime depends on no other fact (false for the kinds stored
 * one by one); storing one of those, with the lifetimes it changes. */
bool pg_fact_is(int kind);
bool pg_fact_until_alone(const struct store_event *ev, int64_t *until);
enum tend_err pg_fact_put(struct pg_store *s, const struct store_event *ev);

/* Fails an operation this backend does not have, naming it. */
enum tend_err pg_unbuilt(struct store *s, const char *op);

/* The PostgreSQL backend (pg_store.c): opens url, migrating its schema. */
enum tend_err pg_open_with(const char *url, unsigned flags, struct store **out, char *err);

extern const struct store_ops pg_ops;
// clang-format off
enum tend_err pg_open_again(struct store *s, struct store **out, char *err);
void pg_set_error(struct store *s, const char *msg);
void pg_close(struct store *s);
int pg_schema_version(struct store *s);
const char *pg_last_error(struct store *s);
enum tend_err pg_begin(struct store *s, bool *changed_elsewhere);
enum tend_err pg_commit(struct store *s);
void pg_rollback(struct store *s);
enum tend_err pg_account_find(struct store *s, const char *external_id, int64_t *id);
enum tend_err pg_account_ensure(struct store *s, const char *external_id, int64_t ts_ms, int64_t *id, bool *created);
enum tend_err pg_account_seen(struct store *s, int64_t id, int64_t ts_ms);
enum tend_err pg_user_ensure(struct store *s, const char *external_id, bool anonymous, int64_t ts_ms, int64_t *id);
enum tend_err pg_name_ensure(struct store *s, const char *name, int64_t *id);
enum tend_err pg_trait_merge(struct store *s, enum store_entity entity, int64_t id, const char *key, const char *value_json, int64_t ts_ms);
enum tend_err pg_traits_each(struct store *s, enum store_entity entity, int64_t id, void (*fn)(void *arg, const char *key, const char *value_json), void *arg);
enum tend_err pg_account_set_fields(struct store *s, int64_t id, const struct store_account_fields *f, const char *traits_json);
enum tend_err pg_user_set_fields(struct store *s, int64_t id, const char *email, const char *name, const char *title, const char *traits_json);
enum tend_err pg_user_memberships(struct store *s, int64_t user_id, struct store_membership **out, size_t *n);
enum tend_err pg_membership_start(struct store *s, int64_t account_id, int64_t user_id, int64_t ts_ms, bool *started);
enum tend_err pg_membership_end(struct store *s, int64_t account_id, int64_t user_id, int64_t ts_ms, bool *ended);
enum tend_err pg_removal_after(struct store *s, int64_t account_id, int64_t user_id, int64_t ts_ms, int64_t *removal_ms, bool *found);
enum tend_err pg_event_exists(struct store *s, int64_t key_ts_ms, uint64_t key_hash, bool *exists);
enum tend_err pg_event_keys_prefetch(struct store *s, const struct store_event_key *keys, size_t n);
enum tend_err pg_event_put(struct store *s, const struct store_event *ev, bool *inserted);
enum tend_err pg_quarantine_put(struct store *s, const struct store_event *ev, const char *account_external_id, const char *reason);
enum tend_err pg_quarantine_by_account(struct store *s, const char *external_id, struct store_pending **out, size_t *n);
enum tend_err pg_quarantine_by_user(struct store *s, int64_t user_id, struct store_pending **out, size_t *n);
enum tend_err pg_quarantine_attach(struct store *s, const struct store_pending *p, int64_t account_id);
enum tend_err pg_login_day_add(struct store *s, int64_t account_id, int32_t day);
enum tend_err pg_login_day_last(struct store *s, int64_t account_id, int32_t max_day, int32_t *day, bool *found);
enum tend_err pg_activity_each(struct store *s, const struct store_span *sp, int64_t from_ms, int64_t to_ms, void (*fn)(void *arg, const struct store_activity *a), void *arg);
enum tend_err pg_activity_refresh(struct store *s, int max_days, int *done);
enum tend_err pg_activity_stale_each(struct store *s, int32_t from, int32_t to, void (*fn)(void *arg, int32_t day), void *arg);
enum tend_err pg_activity_days_each(struct store *s, const struct store_span *sp, int32_t from, int32_t to, void (*fn)(void *arg, const struct store_activity_day *d), void *arg);
enum tend_err pg_activity_windows_pending(struct store *s, void (*fn)(void *arg, int32_t day), void *arg);
enum tend_err pg_activity_window_put(struct store *s, int32_t day, int64_t account_id, const struct metrics_window *w);
enum tend_err pg_activity_windows_each(struct store *s, const struct store_span *sp, int32_t day, void (*fn)(void *arg, int64_t account_id, const struct metrics_window *w), void *arg);
enum tend_err pg_activity_windows_done(struct store *s, int32_t day);
enum tend_err pg_activity_windows_ready(struct store *s, int32_t day, bool *done);
enum tend_err pg_facts_each(struct store *s, const struct store_span *sp, int64_t before_ms, void (*fn)(void *arg, const struct store_fact *f), void *arg);
enum tend_err pg_memberships_each(struct store *s, const struct store_span *sp, void (*fn)(void *arg, const struct store_membership *m), void *arg);
enum tend_err pg_score_put(struct store *s, int64_t account_id, const struct store_score *sc);
enum tend_err pg_score_get(struct store *s, int64_t account_id, int32_t day, struct store_score *out, bool *found);
enum tend_err pg_score_history(struct store *s, int64_t account_id, int32_t from, int32_t to, void (*fn)(void *arg, const struct store_score *sc), void *arg);
enum tend_err pg_scores_of_day(struct store *s, int32_t day, void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg);
enum tend_err pg_product_used(struct store *s, int64_t account_id, const char *product, int32_t first_day, int32_t last_day, bool *used);
enum tend_err pg_last_ticket_before(struct store *s, int64_t account_id, int64_t before_ms, int64_t *ts_ms, bool *found);
enum tend_err pg_user_label(struct store *s, int64_t user_id, char *buf, size_t size);
enum tend_err pg_ctas_lock(struct store *s, const struct store_span *sp);
enum tend_err pg_ctas_watched_each(struct store *s, const struct store_span *sp, void (*fn)(void *arg, const struct store_cta *c), void *arg);
enum tend_err pg_ctas_live_count(struct store *s, int64_t *n);
enum tend_err pg_cta_insert(struct store *s, const struct store_cta *c, int64_t *id);
enum tend_err pg_cta_update(struct store *s, const struct store_cta *c);
enum tend_err pg_cta_forget_closed(struct store *s, const char *rule, int64_t account_id, const char *subject);
enum tend_err pg_cta_get(struct store *s, int64_t id, void (*fn)(void *arg, const struct store_cta *c), void *arg);
enum tend_err pg_ctas_each(struct store *s, const struct store_cta_filter *f, int (*fn)(void *arg, const struct store_cta *c), void *arg);
enum tend_err pg_cta_held_put(struct store *s, const struct store_cta_held *h, bool *is_new);
enum tend_err pg_ctas_held_each(struct store *s, int32_t week, const char *owner, int (*fn)(void *arg, const struct store_cta_held *h), void *arg);
enum tend_err pg_ctas_held_count(struct store *s, int32_t week, const char *owner, int64_t *n);
enum tend_err pg_ctas_opened_by_owner(struct store *s, int32_t from, int32_t to, void (*fn)(void *arg, const char *owner, int64_t n), void *arg);
enum tend_err pg_cta_history_add(struct store *s, int64_t cta_id, const struct store_cta_change *ch);
enum tend_err pg_cta_history_each(struct store *s, int64_t cta_id, void (*fn)(void *arg, const struct store_cta_change *ch), void *arg);
enum tend_err pg_eval_run_put(struct store *s, int64_t t_ms, int64_t run_ms, int64_t opened, int64_t updated, int64_t resolved, int64_t errors);
enum tend_err pg_ctas_reset(struct store *s);
enum tend_err pg_eval_run_before(struct store *s, int64_t t_ms, int64_t *prev_ms, bool *found);
enum tend_err pg_scores_of_day_version(struct store *s, int32_t day, const char *version, void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg);
enum tend_err pg_scores_of_day_ids(struct store *s, int32_t day, const char *version, const int64_t *ids, size_t n, bool *any, void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg);
enum tend_err pg_notification_add(struct store *s, int64_t cta_id, const char *event, int32_t day, int64_t created_ms, const char *snapshot, int64_t *id);
enum tend_err pg_outbox_add(struct store *s, const struct store_outbox *row, int64_t *id);
enum tend_err pg_outbox_recover(struct store *s, int64_t before_ms, void (*fn)(void *arg, const char *channel, const char *target), void *arg, int64_t *n);
enum tend_err pg_outbox_claim(struct store *s, struct store_claim *rows, size_t n, int64_t now_ms, int64_t lease_until_ms);
enum tend_err pg_outbox_lease_renew(struct store *s, const int64_t *ids, size_t n, int64_t until_ms, int64_t *renewed);
enum tend_err pg_outbox_due_targets(struct store *s, int64_t now_ms, void (*fn)(void *arg, const char *channel, const char *target, int64_t rank), void *arg);
enum tend_err pg_outbox_due(struct store *s, int64_t now_ms, const char *channel, const char *target, int64_t limit, void (*fn)(void *arg, const struct store_outbox *row), void *arg);
enum tend_err pg_outbox_next_due(struct store *s, int64_t after_ms, int64_t *at_ms, bool *found);
enum tend_err pg_outbox_set(struct store *s, const struct store_outbox *row);
enum tend_err pg_outbox_hold_set(struct store *s, const struct store_hold *h);
enum tend_err pg_outbox_holds_each(struct store *s, int64_t after_ms, void (*fn)(void *arg, const struct store_hold *h), void *arg);
enum tend_err pg_outbox_holds_prune(struct store *s, int64_t before_ms);
enum tend_err pg_outbox_each(struct store *s, const struct store_outbox_filter *f, void (*fn)(void *arg, const struct store_outbox *row), void *arg);
enum tend_err pg_outbox_get(struct store *s, int64_t id, void (*fn)(void *arg, const struct store_outbox *row), void *arg);
enum tend_err pg_outbox_counts(struct store *s, void (*fn)(void *arg, const char *status, int64_t rows, int64_t resends), void *arg);
enum tend_err pg_outbox_retry(struct store *s, int64_t id, int64_t now_ms, bool *changed);
enum tend_err pg_outbox_retry_dead(struct store *s, int64_t now_ms, int64_t *n);
enum tend_err pg_outbox_held_groups(struct store *s, int64_t before_ms, void (*fn)(void *arg, const char *channel, const char *target, const char *owner), void *arg);
enum tend_err pg_outbox_digest_make(struct store *s, const char *channel, const char *target, const char *owner, int64_t before_ms, int64_t now_ms, int64_t rank, int64_t *digest_id, int64_t *items);
enum tend_err pg_outbox_items_each(struct store *s, int64_t digest_id, void (*fn)(void *arg, const char *snapshot), void *arg);
enum tend_err pg_counter_add(struct store *s, const char *name, int64_t delta);
enum tend_err pg_account_count_events(struct store *s, int64_t account_id, int64_t delta);
enum tend_err pg_accounts_each(struct store *s, int (*fn)(void *arg, const struct store_account_row *row), void *arg);
enum tend_err pg_account_get(struct store *s, int64_t id, int (*fn)(void *arg, const struct store_account_row *row), void *arg);
enum tend_err pg_accounts_brief_each(struct store *s, int (*fn)(void *arg, const struct store_account_row *row), void *arg);
enum tend_err pg_accounts_brief_of(struct store *s, const int64_t *ids, size_t n, int (*fn)(void *arg, const struct store_account_row *row), void *arg);
enum tend_err pg_status_get(struct store *s, struct store_status *out);
enum tend_err pg_counters_each(struct store *s, void (*fn)(void *arg, const char *name, int64_t value), void *arg);
enum tend_err pg_quarantine_reasons(struct store *s, void (*fn)(void *arg, const char *reason, int64_t n), void *arg);
enum tend_err pg_account_briefs(struct store *s, int32_t day, void (*fn)(void *arg, const struct store_account_brief *b), void *arg);
enum tend_err pg_scores_latest_day(struct store *s, int32_t *day, bool *found);
enum tend_err pg_account_facts_recent(struct store *s, int64_t account_id, int limit, void (*fn)(void *arg, const struct store_fact *f, const char *user), void *arg);
enum tend_err pg_rule_counts_each(struct store *s, int32_t since_day, void (*fn)(void *arg, const struct store_rule_counts *c), void *arg);
enum tend_err pg_outbox_oldest_pending(struct store *s, int64_t *created_ms, bool *found);
enum tend_err pg_outcomes_each(struct store *s, int64_t from_ms, int64_t to_ms, void (*fn)(void *arg, const struct store_outcome *o), void *arg);
enum tend_err pg_copy_to(struct store *s, const char *path);
enum tend_err pg_report_put(struct store *s, const struct store_report *r, int64_t *id);
enum tend_err pg_reports_each(struct store *s, int limit, void (*fn)(void *arg, const struct store_report *r), void *arg);
enum tend_err pg_report_get(struct store *s, int64_t id, void (*fn)(void *arg, const struct store_report *r), void *arg);
enum tend_err pg_model_put(struct store *s, const struct store_model *m, bool adopt, int64_t *version);
enum tend_err pg_model_get(struct store *s, int64_t version, void (*fn)(void *arg, const struct store_model *m), void *arg);
enum tend_err pg_model_for_day(struct store *s, int32_t day, void (*fn)(void *arg, const struct store_model *m), void *arg);
enum tend_err pg_models_each(struct store *s, void (*fn)(void *arg, const struct store_model *m), void *arg);
enum tend_err pg_last_event_day(struct store *s, int32_t *day, bool *found);
enum tend_err pg_risk_put(struct store *s, const struct store_risk *r);
enum tend_err pg_risk_clear_day(struct store *s, int32_t day);
enum tend_err pg_risk_put_many(struct store *s, const struct store_risk *r, size_t n);
enum tend_err pg_risk_latest_day(struct store *s, int32_t max_day, int32_t *day, bool *found);
enum tend_err pg_risk_of_day(struct store *s, int32_t day, void (*fn)(void *arg, const struct store_risk_row *r), void *arg);
enum tend_err pg_risk_of_account(struct store *s, int32_t day, const char *external_id, void (*fn)(void *arg, const struct store_risk_row *r), void *arg);
enum tend_err pg_session_epoch(struct store *s, const char *email, int64_t *epoch);
enum tend_err pg_session_epoch_bump(struct store *s, const char *email, int64_t now_ms, int64_t *epoch);
enum tend_err pg_lease_acquire(struct store *s, const char *name, const char *holder, int64_t now_ms, int64_t ttl_ms, struct store_lease *out);
enum tend_err pg_lease_release(struct store *s, const char *name, const char *holder);
enum tend_err pg_run_create(struct store *s, const char *lease, const char *holder, int64_t term, int64_t due_ms, int32_t day, int64_t bucket_ids, int64_t now_ms, bool *created);
enum tend_err pg_run_latest(struct store *s, struct store_run *out, bool *found);
enum tend_err pg_run_get(struct store *s, int64_t due_ms, struct store_run *out);
enum tend_err pg_bucket_claim(struct store *s, const char *holder, int64_t now_ms, int64_t claim_ms, struct store_bucket *out, bool *found);
enum tend_err pg_bucket_done(struct store *s, const char *holder, int64_t due_ms, int b, int64_t now_ms, const struct store_run_counts *c, bool *ours, bool *run_done, struct store_run *run);
enum tend_err pg_account_ids_between(struct store *s, int64_t first, int64_t last, int64_t **ids, size_t *n);
enum tend_err pg_eval_lock_opens(struct store *s);
enum tend_err pg_notify(struct store *s, const char *channel);
enum tend_err pg_listen(struct store *s, const char *channel);
enum tend_err pg_notify_wait(struct store *s, int timeout_ms, char *channel, size_t size, bool *got);
enum tend_err pg_customer_message_claim(struct store *s, const struct store_customer_message *m, bool *claimed);
enum tend_err pg_customer_message_link(struct store *s, const struct store_customer_message *m, int64_t notification_id);
enum tend_err pg_customer_messages_each(struct store *s, int64_t account_id, int limit, void (*fn)(void *arg, const struct store_customer_message *m), void *arg);
enum tend_err pg_customer_unsubscribe(struct store *s, int64_t account_id, const char *kind, const char *contact, int64_t now_ms);
enum tend_err pg_customer_unsubscribes_each(struct store *s, int64_t account_id, void (*fn)(void *arg, const char *kind, const char *contact, int64_t ms), void *arg);
enum tend_err pg_customer_contacts_each(struct store *s, int64_t account_id, void (*fn)(void *arg, const char *email, const char *traits), void *arg);

enum tend_err pg_user_logins_each(struct store *s, int64_t account_id, int64_t user_id, int32_t first_day, int32_t last_day, void (*fn)(void *arg, int32_t day, int64_t logins), void *arg);
enum tend_err pg_members_each(struct store *s, const struct store_span *sp, const char *role_key, bool with_role_only, int64_t before_ms, void (*fn)(void *arg, const struct store_member *m), void *arg);

enum tend_err pg_segment_days_put(struct store *s, int32_t day, const struct store_segment_row *rows, size_t n);
enum tend_err pg_segment_part_put(struct store *s, int64_t due_ms, int part, const struct store_segment_row *rows, size_t n);
enum tend_err pg_segment_parts_take(struct store *s, int64_t due_ms, bool forget, void (*fn)(void *arg, const struct store_segment_row *r), void *arg);
enum tend_err pg_segment_days_each(struct store *s, int kind, const char *name, int32_t from, int32_t to, int (*fn)(void *arg, const struct store_segment_row *r), void *arg);
enum tend_err pg_segment_latest_day(struct store *s, int32_t at, int32_t *day, bool *found);

enum tend_err pg_escalation_candidates(struct store *s, void (*fn)(void *arg, const struct store_esc_candidate *c), void *arg);
enum tend_err pg_escalation_put(struct store *s, int64_t cta_id, int level, int64_t at_ms, const char *manager, bool *is_new);

/* pg_account_list.c: the dashboard's account list (backend.h). */
enum tend_err pg_data_version(struct store *s, char *buf, size_t size);
enum tend_err pg_account_summary(struct store *s, int32_t day, int64_t *accounts, int64_t bands[4], void (*facet)(void *arg, int which, const char *v), void *arg);
enum tend_err pg_account_count(struct store *s, const struct store_account_query *q, int part, int64_t *n);
enum tend_err pg_account_rows(struct store *s, const struct store_account_query *q, int part, int64_t offset, int64_t limit, void (*fn)(void *arg, int64_t id, const char *external_id, const char *name), void *arg);
enum tend_err pg_account_rows_of(struct store *s, int32_t day, const int64_t *ids, size_t n, void (*fn)(void *arg, const struct store_account_brief *b), void *arg);
enum tend_err pg_team_user_add(struct store *s, const struct store_team_user *u);
enum tend_err pg_team_user_get(struct store *s, const char *email, struct store_team_user *out, bool *found);
enum tend_err pg_team_user_set(struct store *s, const char *email, const char *field, const char *value, int64_t now_ms);
enum tend_err pg_team_users_each(struct store *s, void (*fn)(void *arg, const struct store_team_user *u), void *arg);
enum tend_err pg_invite_add(struct store *s, const char *hash, const char *email, int64_t expires_ms, const char *by, int64_t now_ms);
enum tend_err pg_invite_take(struct store *s, const char *hash, int64_t now_ms, bool take, char *email, bool *found);
enum tend_err pg_audit_append(struct store *s, const struct store_audit *a, int64_t *id);
enum tend_err pg_audit_page(struct store *s, int64_t before_id, int limit, void (*fn)(void *arg, const struct store_audit *a), void *arg);
enum tend_err pg_audit_count(struct store *s, int64_t *n);
enum tend_err pg_token_add(struct store *s, const struct store_token *t);
enum tend_err pg_token_find(struct store *s, const char *sha256, struct store_token *out, bool *found);
enum tend_err pg_token_revoke(struct store *s, const char *name, int64_t now_ms);
enum tend_err pg_tokens_each(struct store *s, void (*fn)(void *arg, const struct store_token *t), void *arg);

/* pg_revenue.c: the revenue analysis's facts (backend.h). */
enum tend_err pg_revenue_each(struct store *s, int64_t before_ms, void (*fn)(void *arg, const struct store_revenue_fact *f), void *arg);

/* pg_notes.c: notes, the holdout and the team's records (backend.h). */
enum tend_err pg_note_add(struct store *s, const struct store_note *n, int64_t *id);
enum tend_err pg_notes_each(struct store *s, const struct store_note_filter *f, int (*fn)(void *arg, const struct store_note *n), void *arg);
enum tend_err pg_holdout_put(struct store *s, const struct store_holdout *h);
enum tend_err pg_holdout_get(struct store *s, int64_t cta_id, struct store_holdout *out, bool *found);
enum tend_err pg_holdouts_each(struct store *s, const char *rule, void (*fn)(void *arg, const struct store_holdout *h), void *arg);
enum tend_err pg_cta_actions_each(struct store *s, void (*fn)(void *arg, const struct store_cta_action *a), void *arg);
enum tend_err pg_outreach_each(struct store *s, int64_t from_ms, int64_t to_ms, void (*fn)(void *arg, int64_t account_id, int64_t ts_ms), void *arg);

enum tend_err pg_account_costs_each(struct store *s, int64_t from_ms, int64_t to_ms, void (*fn)(void *arg, const struct store_account_costs *c), void *arg);
// clang-format on

/* pg_inbox.c: the webhook inbox (store.h). */
enum tend_err pg_inbox_put(struct store *s, const char *provider, const char *event_id,
                           const char *event_type, int64_t received_ms, const char *payload,
                           bool *inserted);
enum tend_err pg_inbox_next(struct store *s, void (*fn)(void *arg, const struct store_inbox_row *r),
                            void *arg, bool *found);
enum tend_err pg_inbox_finish(struct store *s, int64_t id, const char *status, const char *reason,
                              const char *detail, const char *account, int events, int64_t now_ms);
enum tend_err pg_inbox_each(struct store *s, const char *provider, const char *status,
                            int64_t limit, void (*fn)(void *arg, const struct store_inbox_row *r),
                            void *arg);
enum tend_err pg_inbox_requeue(struct store *s, const char *provider, const char *status,
                               int64_t id, int64_t *n);
enum tend_err pg_inbox_prune(struct store *s, int64_t before_ms, int64_t *n);
enum tend_err pg_inbox_counts(struct store *s,
                              void (*fn)(void *arg, const char *provider, const char *status,
                                         const char *reason, int64_t rows),
                              void *arg);
enum tend_err pg_hook_account_put(struct store *s, const char *provider, const char *provider_id,
                                  const char *account, int64_t now_ms);
enum tend_err pg_hook_account_get(struct store *s, const char *provider, const char *provider_id,
                                  char *account, bool *found);

/* pg_playbook.c */
enum tend_err pg_cta_step_set(struct store *s, int64_t cta_id, const struct store_cta_step *st);
enum tend_err pg_cta_steps_each(struct store *s, int64_t cta_id,
                                void (*fn)(void *arg, const struct store_cta_step *st), void *arg);

#endif
