/* pg.h: a connection to PostgreSQL and its schema migrations (store/ only).
 *
 * The foundation of the PostgreSQL backend of store.h: it connects with libpq
 * to a postgresql:// URL and brings the schema up to date
 * (pg_schema.c, docs/store.md). The store operations are pg_store.c's and
 * the pg_*.c files' (pg_int.h).
 *
 * A struct pg_conn is libpq's PGconn (libpq-fe.h declares
 * `typedef struct pg_conn PGconn`), so callers that run SQL include
 * libpq-fe.h and the rest need not. libpq's messages never leave store/: each
 * function writes what failed into err (PG_ERR_BYTES), without the URL's
 * password. */
#ifndef TEND_STORE_PG_H
#define TEND_STORE_PG_H

#include <stdbool.h>

#include "util/err.h"

#define PG_ERR_BYTES 512

struct pg_conn;

/* Whether s names a PostgreSQL database (postgresql:// or postgres://),
 * as opposed to a SQLite path or file: URL. */
bool pg_is_url(const char *s);

/* Connects to url (postgresql://[user[:password]@]host[:port]/db[?param=...],
 * libpq's URI form) and stores the connection, which the caller closes with
 * pg_disconnect(), in *conn. A connect_timeout of 10 s applies unless the URL
 * sets one. Refuses servers older than PostgreSQL 13 (the schema uses
 * gen_random_uuid()). On failure *conn is untouched and err says why:
 * TEND_ERR_USAGE for a URL that is not postgresql://, TEND_ERR_IO when the
 * server cannot be reached or refuses the connection, TEND_ERR_DB for a
 * server too old. */
enum tend_err pg_connect(const char *url, struct pg_conn **conn, char *err);

/* Applies the migrations the database has not had, each in a transaction of
 * its own, and records each in schema_migrations (version, name,
 * applied_at). Under a session advisory lock (PG_LOCK_MIGRATE), so nodes
 * that migrate one database at once take turns: the first applies, the
 * others find nothing left to do. The connection must be a session of its
 * own (direct, or PgBouncer in session mode): under transaction pooling the
 * lock would not hold. A database newer than this build is refused
 * (TEND_ERR_DB, "upgrade tend"); any other failure rolls back the migration
 * it happened in, names it in err, and returns TEND_ERR_DB. */
enum tend_err pg_migrate(struct pg_conn *conn, char *err);

/* The schema version of the database (0: none yet, no schema_migrations). */
enum tend_err pg_read_schema_version(struct pg_conn *conn, int *version, char *err);

/* The newest schema version this build knows (the same numbers as SQLite's,
 * pg_schema.h). */
int pg_schema_latest(void);

/* Closes the connection; accepts NULL. */
void pg_disconnect(struct pg_conn *conn);

#endif
