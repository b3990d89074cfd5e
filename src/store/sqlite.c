/* sqlite.c: the SQLite backend of store.h.
 *
 * One connection per struct store, WAL journal, synchronous=FULL so that a
 * commit is on disk before store_commit() returns (an acknowledged message
 * survives kill -9 and power loss). Every statement is prepared once, on first
 * use, and kept for the life of the connection. The page cache is capped
 * (STORE_CACHE_KIB), so memory stays flat however large the database grows.
 *
 * SQLite result codes never leave this file: they become TEND_ERR_DB with the
 * message kept for store_last_error(). */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cta.h"
#include "core/vocab.h"
#include "store/schema.h"
#include "store/sqlite_int.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/mem.h"

#define STORE_CACHE_KIB 131072 /* 128 MiB of page cache */
/* A reader (store_open_again) scans once: a small cache recycles its pages
 * instead of faulting in fresh memory for each (measured: the facts scan of
 * 10,000 accounts 105 -> 70 ms). */
#define STORE_READER_CACHE_KIB 8192
#define STORE_BUSY_MS          10000
/* ---- errors, steps and bindings (sqlite_int.h) ---------------------------- */

enum tend_err sqlite_fail(struct store *s, const char *what) {
    snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
    return TEND_ERR_DB;
}

/* Rows read (store_rows_read), of every connection: relaxed, a count only. */
static _Atomic uint64_t rows_read;

uint64_t store_rows_read(void) {
    return atomic_load_explicit(&rows_read, memory_order_relaxed);
}

int sqlite_step(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        atomic_fetch_add_explicit(&rows_read, 1, memory_order_relaxed);
    return rc;
}

void sqlite_bind_ids(sqlite3_stmt *st, int i, const int64_t *ids, size_t n) {
    size_t cap = n * 21 + 3, len = 0;
    char *j = xmalloc(cap);
    j[len++] = '[';
    for (size_t k = 0; k < n; k++)
        len += (size_t)snprintf(j + len, cap - len, k ? ",%lld" : "%lld", (long long)ids[k]);
    j[len++] = ']';
    sqlite3_bind_text(st, i, j, (int)len, free);
}

/* ---- the statement cache -------------------------------------------------- */

/* The slot of sql's address: Fibonacci hashing of the pointer. */
static size_t stmt_slot(const char *sql) {
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (SQLITE_STMT_SLOTS - 1);
}

sqlite3_stmt *sqlite_stmt(struct store *s, const char *sql) {
    size_t i = stmt_slot(sql);
    while (s->stmts[i].sql) {
        if (s->stmts[i].sql == sql)
            return s->stmts[i].st;
        i = (i + 1) & (SQLITE_STMT_SLOTS - 1);
    }
    if (s->n_stmts >= SQLITE_STMT_SLOTS / 4 * 3) {
        fprintf(stderr, "tend: store: more statements than slots; raise SQLITE_STMT_SLOTS\n");
        abort();
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        /* A statement of ours that does not prepare is a bug or a corrupt schema. */
        fprintf(stderr, "tend: store: cannot prepare \"%s\": %s\n", sql, sqlite3_errmsg(s->db));
        abort();
    }
    s->stmts[i].sql = sql;
    s->stmts[i].st = st;
    s->n_stmts++;
    return st;
}

sqlite3_stmt *sqlite_span_stmt(struct store *s, const struct store_span *sp, const char *q,
                               int first_at, const char *q_ids, int ids_at) {
    sqlite3_stmt *st;
    if (sp->ids) {
        st = sqlite_stmt(s, q_ids);
        sqlite_bind_ids(st, ids_at, sp->ids, sp->n);
    } else {
        st = sqlite_stmt(s, q);
        sqlite3_bind_int64(st, first_at, sp->first);
        sqlite3_bind_int64(st, first_at + 1, sp->last);
    }
    return st;
}

void sqlite_bind_text(sqlite3_stmt *st, int i, const char *v) {
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void sqlite_bind_id(sqlite3_stmt *st, int i, int64_t id) {
    if (id)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

const char *sqlite_col_text(sqlite3_stmt *st, int i) {
    return (const char *)sqlite3_column_text(st, i);
}

enum tend_err sqlite_done(struct store *s, sqlite3_stmt *st, const char *what) {
    int rc = sqlite_step(st);
    while (rc == SQLITE_ROW)
        rc = sqlite_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, what);
}

enum tend_err sqlite_step_int(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what) {
    int rc = sqlite_step(st);
    enum tend_err err;
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        err = TEND_OK;
    } else if (rc == SQLITE_DONE) {
        err = TEND_ERR_NOTFOUND;
    } else {
        err = sqlite_fail(s, what);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

int64_t sqlite_changes(struct store *s) {
    return sqlite3_changes64(s->db);
}

/* ---- the connection and its transactions ---------------------------------- */

static enum tend_err exec(struct store *s, const char *sql, const char *what) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->err, sizeof s->err, "%s: %s", what, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return TEND_ERR_DB;
    }
    return TEND_OK;
}

static unsigned data_version(struct store *s) {
    unsigned v = 0;
    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_DATA_VERSION, &v);
    return v;
}

/* Applies the migrations this database has not had, in one transaction. */
static enum tend_err migrate(struct store *s) {
    enum tend_err err = exec(s,
                             "BEGIN IMMEDIATE;"
                             "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "  version INTEGER PRIMARY KEY,"
                             "  name TEXT NOT NULL,"
                             "  applied_at TEXT NOT NULL)",
                             "creating schema_migrations");
    if (err)
        return err;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(s->db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1, &st,
                       NULL);
    int64_t have = 0;
    err = sqlite_step_int(s, st, &have, "reading the schema version");
    sqlite3_finalize(st);
    if (err)
        goto fail;
    int latest = store_schema_latest();
    if (have > latest) {
        snprintf(s->err, sizeof s->err,
                 "the database has schema version %lld, newer than this tend knows (%d): "
                 "upgrade tend",
                 (long long)have, latest);
        err = TEND_ERR_DB;
        goto fail;
    }
    for (int i = 0; i < schema_migration_count; i++) {
        const struct migration *m = &schema_migrations[i];
        if (m->version <= have)
            continue;
        char what[96];
        snprintf(what, sizeof what, "migration %d", m->version);
        if ((err = exec(s, m->sql, what)))
            goto fail;
        char now[32];
        dt_format_instant(dt_now_ms(), now);
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO schema_migrations (version, name, applied_at) "
                           "VALUES (?, ?, ?)",
                           -1, &st, NULL);
        sqlite3_bind_int(st, 1, m->version);
        sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
        err = sqlite_done(s, st, what);
        sqlite3_finalize(st);
        if (err)
            goto fail;
    }
    s->schema_version = latest > have ? latest : (int)have;
    return exec(s, "COMMIT", "committing migrations");
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

/* Process-wide SQLite settings, applied once before the first connection:
 * no memory statistics (they take a global mutex on every allocation). */
static void configure_sqlite(void) {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum tend_err store_open(const char *path, struct store **out, char *err) {
    return store_open_with(path, 0, out, err);
}

enum tend_err store_open_with(const char *path, unsigned flags, struct store **out, char *err) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite);
    struct store *s = xcalloc(1, sizeof *s);
    s->stale_day = INT32_MIN;
    enum tend_err e;
    /* NOMUTEX: a struct store is used by one thread at a time (the writer),
     * so SQLite's per-call connection mutex is pure cost. */
    /* Without SQLITE_OPEN_CREATE, SQLite itself refuses a missing file: no
     * window between a check and the open in which a file could appear. */
    int create = flags & STORE_OPEN_EXISTING ? 0 : SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | create | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        if (!create && access(path, F_OK) != 0 && errno == ENOENT) {
            snprintf(err, STORE_ERR_BYTES, "%s: no such database", path);
            e = TEND_ERR_NOTFOUND;
        } else {
            snprintf(err, STORE_ERR_BYTES, "cannot open database %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
            e = TEND_ERR_IO;
        }
        goto fail;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    /* 16 KiB pages: measured 21% faster ingest than 4 KiB on event rows with
     * an account index (docs/benchmarks.md); only takes effect on a new file. */
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA page_size = 16384;"
             "PRAGMA journal_mode = WAL;"
             "PRAGMA synchronous = FULL;"
             "PRAGMA cache_size = -%d;"
             "PRAGMA temp_store = MEMORY;",
             STORE_CACHE_KIB);
    if ((e = exec(s, pragmas, "configuring the database")) || (e = migrate(s))) {
        snprintf(err, STORE_ERR_BYTES, "%s: %s", path, s->err);
        goto fail;
    }
    s->data_version = data_version(s);
    *out = s;
    return TEND_OK;
fail:
    store_close(s);
    return e;
}

enum tend_err store_open_again(struct store *s, struct store **out, char *err) {
    const char *path = sqlite3_db_filename(s->db, "main");
    if (!path || !*path) {
        snprintf(err, STORE_ERR_BYTES, "the database has no file to open again");
        return TEND_ERR_IO;
    }
    /* Read-only, and no migrations: s has brought the schema up to date, and
     * s may hold the write lock while this connection reads. */
    struct store *r = xcalloc(1, sizeof *r);
    r->stale_day = INT32_MIN;
    r->schema_version = s->schema_version;
    enum tend_err e = TEND_OK;
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas, "PRAGMA cache_size = -%d; PRAGMA temp_store = MEMORY;",
             STORE_READER_CACHE_KIB);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, STORE_ERR_BYTES, "cannot open database %s: %s", path,
                 r->db ? sqlite3_errmsg(r->db) : "out of memory");
        e = TEND_ERR_IO;
    } else {
        sqlite3_busy_timeout(r->db, STORE_BUSY_MS);
        if ((e = exec(r, pragmas, "configuring the database")))
            snprintf(err, STORE_ERR_BYTES, "%s: %s", path, r->err);
    }
    if (e) {
        store_close(r);
        return e;
    }
    *out = r;
    return TEND_OK;
}

void store_set_error(struct store *s, const char *msg) {
    snprintf(s->err, sizeof s->err, "%s", msg);
}

void store_close(struct store *s) {
    if (!s)
        return;
    for (int i = 0; i < SQLITE_STMT_SLOTS; i++)
        sqlite3_finalize(s->stmts[i].st);
    sqlite3_close(s->db);
    free(s->ids);
    free(s->products_seen);
    free(s);
}

int store_schema_version(struct store *s) {
    return s->schema_version;
}

int store_schema_latest(void) {
    return schema_migrations[schema_migration_count - 1].version;
}

const char *store_last_error(struct store *s) {
    return s->err;
}

enum tend_err store_begin(struct store *s, bool *changed_elsewhere) {
    /* IMMEDIATE takes the write lock now, so a busy database waits here (busy
     * timeout) instead of failing halfway through a batch. */
    enum tend_err err = exec(s, "BEGIN IMMEDIATE", "starting a transaction");
    if (err)
        return err;
    s->stale_day = INT32_MIN;
    unsigned v = data_version(s);
    if (changed_elsewhere)
        *changed_elsewhere = v != s->data_version;
    s->data_version = v;
    return TEND_OK;
}

enum tend_err store_commit(struct store *s) {
    enum tend_err err = exec(s, "COMMIT", "committing");
    if (err) {
        store_rollback(s);
        return err;
    }
    s->data_version = data_version(s);
    return TEND_OK;
}

void store_rollback(struct store *s) {
    s->stale_day = INT32_MIN;
    if (s->products_seen) /* what was written is gone */
        memset(s->products_seen, 0, PRODUCTS_SEEN * sizeof *s->products_seen);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}
