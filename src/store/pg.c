/* pg.c: connecting to PostgreSQL and migrating its schema (see pg.h).
 *
 * Migrations run one transaction each, under a session advisory lock held
 * for the whole run: PostgreSQL runs DDL in transactions, so a migration
 * either is applied and recorded in schema_migrations or leaves nothing
 * behind, and two nodes started at once on an empty database do not both
 * create the tables (the second waits on the lock, then reads the version
 * the first recorded and has nothing to do). A single transaction for the
 * whole run, as on SQLite, would hold every table's lock until the last
 * migration; one per migration lets a long upgrade commit its steps.
 *
 * libpq's notices (NOTICE: relation already exists, skipping) are dropped:
 * what matters comes back as an error. */
#include "store/pg.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_schema.h"

/* Seconds libpq waits for a server that does not answer, unless the URL's
 * connect_timeout says otherwise. */
#define PG_CONNECT_TIMEOUT_S "10"
#define PG_MIN_SERVER        130000 /* gen_random_uuid() is built in from 13 */

bool pg_is_url(const char *s) {
    return s && (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0);
}

static void drop_notice(void *arg, const char *message) {
    (void)arg;
    (void)message;
}

/* Copies libpq's message msg into err after "what: ", on one line (libpq
 * ends its messages with a newline and indents hints with tabs). */
static void put_message(char *err, const char *what, const char *msg, const char *state) {
    int n = snprintf(err, PG_ERR_BYTES, "%s: %s", what, msg && *msg ? msg : "unknown error");
    if (n < 0)
        return;
    size_t len = strlen(err);
    while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
        err[--len] = '\0';
    for (char *p = err; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    if (state && len + 20 < PG_ERR_BYTES)
        snprintf(err + len, PG_ERR_BYTES - len, " (SQLSTATE %s)", state);
}

/* Runs sql (one statement or several), expecting no error; on one writes
 * "what: message (SQLSTATE)" into err and returns TEND_ERR_DB. */
static enum tend_err run(PGconn *c, const char *sql, const char *what, char *err) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    enum tend_err e = TEND_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        put_message(err, what, msg ? msg : PQerrorMessage(c),
                    r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
        e = TEND_ERR_DB;
    }
    PQclear(r);
    return e;
}

/* Runs sql, a query of one integer value, into *out. */
static enum tend_err query_int(PGconn *c, const char *sql, const char *what, long long *out,
                               char *err) {
    PGresult *r = PQexec(c, sql);
    enum tend_err e = TEND_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        put_message(err, what, msg ? msg : PQerrorMessage(c),
                    r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
        e = TEND_ERR_DB;
    } else if (PQntuples(r) != 1 || PQnfields(r) != 1) {
        snprintf(err, PG_ERR_BYTES, "%s: expected one value, got %d rows", what, PQntuples(r));
        e = TEND_ERR_DB;
    } else {
        *out = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return e;
}

enum tend_err pg_connect(const char *url, struct pg_conn **conn, char *err) {
    if (!pg_is_url(url)) {
        snprintf(err, PG_ERR_BYTES, "not a PostgreSQL URL (postgresql://...): %.60s",
                 url ? url : "(none)");
        return TEND_ERR_USAGE;
    }
    /* Later keywords win, and the URL's own (expand_dbname) come last: a
     * connect_timeout in the URL overrides the default. */
    const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *const values[] = {PG_CONNECT_TIMEOUT_S, "tend", url, NULL};
    PGconn *c = PQconnectdbParams(keys, values, 1);
    if (!c) {
        snprintf(err, PG_ERR_BYTES, "cannot connect to PostgreSQL: out of memory");
        return TEND_ERR_IO;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        /* libpq's message names the host and port, never the password. */
        put_message(err, "cannot connect to PostgreSQL", PQerrorMessage(c), NULL);
        PQfinish(c);
        return TEND_ERR_IO;
    }
    if (PQserverVersion(c) < PG_MIN_SERVER) {
        snprintf(err, PG_ERR_BYTES,
                 "PostgreSQL %d.%d is too old: tend needs PostgreSQL 13 or newer",
                 PQserverVersion(c) / 10000, PQserverVersion(c) % 10000);
        PQfinish(c);
        return TEND_ERR_DB;
    }
    PQsetNoticeProcessor(c, drop_notice, NULL);
    *conn = c;
    return TEND_OK;
}

void pg_disconnect(struct pg_conn *conn) {
    if (conn)
        PQfinish(conn);
}

int pg_schema_latest(void) {
    return pg_schema_migrations[pg_schema_migration_count - 1].version;
}

enum tend_err pg_read_schema_version(struct pg_conn *conn, int *version, char *err) {
    long long have = 0;
    enum tend_err e = query_int(conn, "SELECT (to_regclass('schema_migrations') IS NOT NULL)::int",
                                "reading the schema version", &have, err);
    if (e)
        return e;
    if (have && (e = query_int(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations",
                               "reading the schema version", &have, err)))
        return e;
    *version = (int)have;
    return TEND_OK;
}

/* Applies migration m in a transaction of its own and records it. */
static enum tend_err apply(PGconn *c, const struct pg_migration *m, char *err) {
    char what[64];
    snprintf(what, sizeof what, "migration %d", m->version);
    enum tend_err e = run(c, "BEGIN", what, err);
    if (e)
        return e;
    if ((e = run(c, m->sql, what, err)))
        goto fail;
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[] = {version, m->name};
    PGresult *r = PQexecParams(c, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                               2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        put_message(err, what, msg ? msg : PQerrorMessage(c),
                    r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
        PQclear(r);
        e = TEND_ERR_DB;
        goto fail;
    }
    PQclear(r);
    if ((e = run(c, "COMMIT", what, err)))
        goto fail;
    return TEND_OK;
fail:
    PQclear(PQexec(c, "ROLLBACK"));
    return e;
}

enum tend_err pg_migrate(struct pg_conn *conn, char *err) {
    enum tend_err e =
        run(conn, "SELECT pg_advisory_lock(" PG_LOCK_MIGRATE ")", "taking the migration lock", err);
    if (e)
        return e;
    int have = 0, latest = pg_schema_latest();
    if ((e = run(conn,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 "  version integer PRIMARY KEY,"
                 "  name text NOT NULL,"
                 "  applied_at timestamptz NOT NULL DEFAULT now())",
                 "creating schema_migrations", err)) ||
        (e = pg_read_schema_version(conn, &have, err)))
        goto cleanup;
    if (have > latest) {
        snprintf(err, PG_ERR_BYTES,
                 "the database has schema version %d, newer than this tend knows (%d): "
                 "upgrade tend",
                 have, latest);
        e = TEND_ERR_DB;
        goto cleanup;
    }
    for (int i = 0; i < pg_schema_migration_count; i++) {
        if (pg_schema_migrations[i].version <= have)
            continue;
        if ((e = apply(conn, &pg_schema_migrations[i], err)))
            goto cleanup;
    }
cleanup:
    /* A lost connection has lost its lock with it: nothing to report. */
    PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" PG_LOCK_MIGRATE ")"));
    return e;
}
