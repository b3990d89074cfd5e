/* pg_batch.h: rows written many at a time in the PostgreSQL backend (private to
 * store/, beside pg_int.h).
 *
 * A statement per row costs a round trip: about 50-70 us on a loopback
 * connection, a millisecond or more across a network, and the daily
 * evaluation writes a score and an activity window per account. A batch
 * keeps rows as one array literal per column ('{1,2,3}', '{"a","b"}') and
 * writes them with one INSERT ... SELECT FROM unnest($1::type[], ...) ON
 * CONFLICT DO UPDATE (the later of two rows with one key winning, as
 * SQLite's replacing inserts).
 *
 * Deferred writes (store_score_put, store_activity_window_put): inside a
 * transaction the rows wait in the connection's batch and are written
 * before any other statement of the connection runs and before its commit
 * (pg_deferred_flush, called where pg_query flushes staged events), so
 * every read of the connection sees them and a commit keeps them; a
 * rollback forgets them (pg_deferred_discard). A batch is written when it
 * holds PG_BATCH_ROWS rows, so its memory is bounded. An error of a
 * deferred row is the error of the statement that flushed it. Outside a
 * transaction a row is written at once. */
#ifndef TEND_STORE_PG_BATCH_H
#define TEND_STORE_PG_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "store/pg_int.h"

/* Rows of a batch written by one statement, at most. */
#define PG_BATCH_ROWS 2000
/* Columns of a batch, at most. */
#define PG_BATCH_COLS 12

/* One column's array literal being written. */
struct pg_lit {
    char *v;
    size_t len, cap;
};

/* Rows of n_cols columns as array literals; zeroed: empty. */
struct pg_batch {
    int n_cols;
    size_t rows;
    struct pg_lit col[PG_BATCH_COLS];
};

/* Appends to column c of the current row: a number, a double (every bit;
 * NaN and infinities as PostgreSQL spells them), NULL, or a text quoted
 * for an array literal. Call each column once per row, in order, then
 * pg_batch_row_end(). */
void pg_batch_i64(struct pg_batch *b, int c, int64_t v);
void pg_batch_f64(struct pg_batch *b, int c, double v);
void pg_batch_null(struct pg_batch *b, int c);
void pg_batch_text(struct pg_batch *b, int c, const char *v);
void pg_batch_row_end(struct pg_batch *b);

/* Runs sql (its $1..$n_cols: the columns' arrays) with b's rows and empties
 * b (rows 0), whether or not it succeeds; TEND_OK when b is empty. */
enum tend_err pg_batch_write(struct pg_store *s, struct pg_batch *b, const char *sql,
                             const char *what);
/* pg_batch_write with pg_run_later (pg_int.h): queued in a transaction. */
enum tend_err pg_batch_write_later(struct pg_store *s, struct pg_batch *b, const char *sql,
                                   const char *what);
/* Frees b's memory and empties it. */
void pg_batch_free(struct pg_batch *b);

/* The connection's deferred rows (pg_int.h: pg_store.deferred). */
struct pg_deferred {
    struct pg_batch scores;  /* pg_scores.c */
    struct pg_batch windows; /* pg_activity.c */
    struct pg_batch counts;  /* pg_accounts.c: accounts' event counts to add */
};

/* The connection's deferred batches, made on first use. */
struct pg_deferred *pg_deferred_of(struct pg_store *s);
/* Whether a row written now may wait: inside a transaction, not while the
 * deferred rows are being written. */
bool pg_deferred_may_wait(struct pg_store *s);
/* The writers of each table's deferred rows (pg_scores.c, pg_activity.c). */
enum tend_err pg_scores_flush(struct pg_store *s, struct pg_batch *b);
enum tend_err pg_windows_flush(struct pg_store *s, struct pg_batch *b);
enum tend_err pg_counts_flush(struct pg_store *s, struct pg_batch *b);

#endif
