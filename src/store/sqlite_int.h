/* sqlite_int.h: what the SQLite backend's files share, and nobody else.
 *
 * sqlite.c holds the connection and the statements of the core tables;
 * other sqlite_*.c files (the outbox) reach the connection through these
 * few calls, with statements of their own prepared once per connection. */
#ifndef TEND_STORE_SQLITE_INT_H
#define TEND_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* The statement for sql, prepared on first use and kept for the life of the
 * connection, reset and without bindings. sql must be a string with static
 * storage: its address is the cache key. */
sqlite3_stmt *sqlite_stmt(struct store *s, const char *sql);
/* Records the connection's error message with what; returns TEND_ERR_DB. */
enum tend_err sqlite_fail(struct store *s, const char *what);
/* Steps a statement that returns no rows (or none needed), then resets it. */
enum tend_err sqlite_done(struct store *s, sqlite3_stmt *st, const char *what);
/* Binds text (NULL binds NULL), an id (0 binds NULL); reads a text column. */
void sqlite_bind_text(sqlite3_stmt *st, int i, const char *v);
void sqlite_bind_id(sqlite3_stmt *st, int i, int64_t id);
const char *sqlite_col_text(sqlite3_stmt *st, int i);
/* Rows changed by the connection's last statement. */
int64_t sqlite_changes(struct store *s);

#endif
