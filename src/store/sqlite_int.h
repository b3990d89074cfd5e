/* sqlite_int.h: what the SQLite backend's files share, and nobody else.
 *
 * The backend is one file per group of tables (docs/store.md, "The SQLite
 * backend"): sqlite.c holds the connection, its transactions, the statement
 * cache and the errors; sqlite_accounts.c, sqlite_events.c,
 * sqlite_activity.c, sqlite_facts.c, sqlite_scores.c, sqlite_ctas.c and the
 * other sqlite_*.c files hold the statements of their tables, each as a
 * `static const char q_name[]` beside the functions that run it.
 *
 * One way of keeping prepared statements: sqlite_stmt(s, q_name) prepares a
 * statement on first use and keeps it for the life of the connection, found
 * again by the address of its SQL in a small hash table (an array index
 * would need one central list of every statement of every file). */
#ifndef TEND_STORE_SQLITE_INT_H
#define TEND_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* Slots of the cache of product_days rows written (note_product_day): 8,192
 * of 32 bytes, 256 KiB per connection that stores events, enough for a
 * day's (account, product) pairs of 8,000 accounts without eviction. */
#define PRODUCTS_SEEN 8192

struct product_seen {
    int64_t account_id; /* 0: empty */
    int32_t day;
    char product[20];
};

/* Slots of a connection's statement cache: a power of two, at most three
 * quarters full (the backend has about 200 statements). */
#define SQLITE_STMT_SLOTS 512

struct store {
    sqlite3 *db;
    /* The prepared statements, by the address of their SQL (sqlite_stmt):
     * open addressing, linear probing, never deleted. */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } stmts[SQLITE_STMT_SLOTS];
    int n_stmts;
    unsigned data_version; /* as of the end of our last transaction */
    int32_t stale_day;     /* the day last marked stale in this transaction */
    int64_t *ids;          /* parsed id lists of a rollup row */
    size_t ids_cap;
    /* The (account, product, day) rows of product_days this connection has
     * written, so that storing a day's events writes each row once
     * (note_product_day); PRODUCTS_SEEN slots, NULL until the first. */
    struct product_seen *products_seen;
    int schema_version;
    char err[STORE_ERR_BYTES];
};

/* The statement for sql, prepared on first use and kept for the life of the
 * connection, reset and without bindings. sql must be a string with static
 * storage: its address is the cache key. A statement of ours that does not
 * prepare is a bug or a corrupt schema: it aborts. */
sqlite3_stmt *sqlite_stmt(struct store *s, const char *sql);
/* The statement of a span's read: q for a range (its ids bound at first_at and
 * first_at + 1), q_ids for a listed span (the ids bound at ids_at). */
sqlite3_stmt *sqlite_span_stmt(struct store *s, const struct store_span *sp, const char *q,
                               int first_at, const char *q_ids, int ids_at);
/* Records the connection's error message with what; returns TEND_ERR_DB. */
enum tend_err sqlite_fail(struct store *s, const char *what);
/* sqlite3_step(), counting each row it returns (store_rows_read). */
int sqlite_step(sqlite3_stmt *st);
/* Steps a statement that returns no rows (or none needed), then resets it. */
enum tend_err sqlite_done(struct store *s, sqlite3_stmt *st, const char *what);
/* Runs a statement expected to return at most one integer into *out;
 * TEND_ERR_NOTFOUND if none. Resets it. */
enum tend_err sqlite_step_int(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what);
/* Binds text (NULL binds NULL), an id (0 binds NULL), ids as one JSON array
 * (for json_each); reads a text column. */
void sqlite_bind_text(sqlite3_stmt *st, int i, const char *v);
void sqlite_bind_id(sqlite3_stmt *st, int i, int64_t id);
void sqlite_bind_ids(sqlite3_stmt *st, int i, const int64_t *ids, size_t n);
const char *sqlite_col_text(sqlite3_stmt *st, int i);
/* Rows changed by the connection's last statement. */
int64_t sqlite_changes(struct store *s);

#endif
