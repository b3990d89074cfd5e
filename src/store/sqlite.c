/* sqlite.c: the SQLite backend of store.h: the connection, its
 * transactions, the statement cache, errors, and the operations table.
 *
 * One connection per struct sqlite_store, WAL journal, synchronous=FULL so
 * that a commit is on disk before store_commit() returns (an acknowledged
 * message survives kill -9 and power loss). Every statement is prepared once,
 * on first use, and kept for the life of the connection (sqlite_stmt). The
 * page cache is capped (STORE_CACHE_KIB), so memory stays flat however large
 * the database grows. The tables' statements live in the sqlite_*.c file of
 * their group (sqlite_int.h lists them); this file ties them into
 * sqlite_ops, the table store.c dispatches through (backend.h).
 *
 * SQLite result codes never leave the backend: they become TEND_ERR_DB with
 * the message kept for store_last_error(). */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/backend.h"
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

enum tend_err sqlite_fail(struct sqlite_store *s, const char *what) {
    snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
    return TEND_ERR_DB;
}

int sqlite_step(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        store_rows_add(1);
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

sqlite3_stmt *sqlite_stmt(struct sqlite_store *s, const char *sql) {
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

sqlite3_stmt *sqlite_span_stmt(struct sqlite_store *s, const struct store_span *sp, const char *q,
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

enum tend_err sqlite_done(struct sqlite_store *s, sqlite3_stmt *st, const char *what) {
    int rc = sqlite_step(st);
    while (rc == SQLITE_ROW)
        rc = sqlite_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, what);
}

enum tend_err sqlite_step_int(struct sqlite_store *s, sqlite3_stmt *st, int64_t *out,
                              const char *what) {
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

int64_t sqlite_changes(struct sqlite_store *s) {
    return sqlite3_changes64(s->db);
}

/* ---- the connection and its transactions ---------------------------------- */

static enum tend_err exec(struct sqlite_store *s, const char *sql, const char *what) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->err, sizeof s->err, "%s: %s", what, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return TEND_ERR_DB;
    }
    return TEND_OK;
}

static unsigned data_version(struct sqlite_store *s) {
    unsigned v = 0;
    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_DATA_VERSION, &v);
    return v;
}

/* The schema version the database has, read without a write lock; false
 * when it cannot tell (no schema_migrations yet: a new database). */
static bool schema_version_read(struct sqlite_store *s, int64_t *have) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1,
                           &st, NULL) != SQLITE_OK)
        return false;
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *have = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ok;
}

/* Applies the migrations this database has not had, in one transaction.
 *
 * A database already up to date (every connection but the first after an
 * upgrade) is only read: the write lock is taken only when a migration is
 * owed. Taking it on every open made each new connection wait behind the
 * writers: during back-to-back write transactions (tend serve's catch-up
 * evaluations) SQLite's busy handler polls and can miss every gap, so a
 * new connection of the web pool or a read-only CLI command (tend model
 * show) failed after STORE_BUSY_MS with "database is locked". */
static enum tend_err migrate(struct sqlite_store *s) {
    int64_t known = 0;
    int latest_known = store_schema_latest();
    if (schema_version_read(s, &known) && known >= latest_known) {
        if (known > latest_known) {
            snprintf(s->err, sizeof s->err,
                     "the database has schema version %lld, newer than this tend knows (%d): "
                     "upgrade tend",
                     (long long)known, latest_known);
            return TEND_ERR_DB;
        }
        s->schema_version = latest_known;
        return TEND_OK;
    }
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

/* A new connection with no database yet, of this backend. */
static struct sqlite_store *sqlite_new(void) {
    struct sqlite_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    s->stale_day = INT32_MIN;
    return s;
}

enum tend_err sqlite_open_with(const char *path, unsigned flags, struct store **out, char *err) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite);
    struct sqlite_store *s = sqlite_new();
    s->stale_day = INT32_MIN;
    enum tend_err e;
    /* NOMUTEX: a struct store is used by one thread at a time (the writer),
     * so SQLite's per-call connection mutex is pure cost. */
    /* Without SQLITE_OPEN_CREATE, SQLite itself refuses a missing file: no
     * window between a check and the open in which a file could appear. */
    int create = flags & STORE_OPEN_EXISTING ? 0 : SQLITE_OPEN_CREATE;
    /* A `file:` location is a URI (its query may set mode, cache, vfs); any
     * other is a file name, whatever characters it holds. */
    int uri = strncmp(path, "file:", 5) == 0 ? SQLITE_OPEN_URI : 0;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | create | uri | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
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
    *out = &s->base;
    return TEND_OK;
fail:
    sqlite_close(&s->base);
    return e;
}

enum tend_err sqlite_open_again(struct store *base, struct store **out, char *err) {
    struct sqlite_store *s = sqlite_of(base);
    const char *path = sqlite3_db_filename(s->db, "main");
    if (!path || !*path) {
        snprintf(err, STORE_ERR_BYTES, "the database has no file to open again");
        return TEND_ERR_IO;
    }
    /* Read-only, and no migrations: s has brought the schema up to date, and
     * s may hold the write lock while this connection reads. */
    struct sqlite_store *r = sqlite_new();
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
        sqlite_close(&r->base);
        return e;
    }
    *out = &r->base;
    return TEND_OK;
}

void sqlite_set_error(struct store *base, const char *msg) {
    struct sqlite_store *s = sqlite_of(base);
    snprintf(s->err, sizeof s->err, "%s", msg);
}

void sqlite_close(struct store *base) {
    struct sqlite_store *s = sqlite_of(base);
    if (!s) /* store_close() passes none, sqlite_open_with() may */
        return;
    for (int i = 0; i < SQLITE_STMT_SLOTS; i++)
        sqlite3_finalize(s->stmts[i].st);
    sqlite3_close(s->db);
    free(s->ids);
    free(s->products_seen);
    free(s);
}

int sqlite_schema_version(struct store *base) {
    struct sqlite_store *s = sqlite_of(base);
    return s->schema_version;
}

int store_schema_latest(void) {
    return schema_migrations[schema_migration_count - 1].version;
}

const char *sqlite_last_error(struct store *base) {
    struct sqlite_store *s = sqlite_of(base);
    return s->err;
}

enum tend_err sqlite_begin(struct store *base, bool *changed_elsewhere) {
    struct sqlite_store *s = sqlite_of(base);
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

enum tend_err sqlite_commit(struct store *base) {
    struct sqlite_store *s = sqlite_of(base);
    enum tend_err err = exec(s, "COMMIT", "committing");
    if (err) {
        sqlite_rollback(base);
        return err;
    }
    s->data_version = data_version(s);
    return TEND_OK;
}

void sqlite_rollback(struct store *base) {
    struct sqlite_store *s = sqlite_of(base);
    s->stale_day = INT32_MIN;
    if (s->products_seen) /* what was written is gone */
        memset(s->products_seen, 0, PRODUCTS_SEEN * sizeof *s->products_seen);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- a copy of the whole database ---------------------------------------- */

static const char q_copy[] = "VACUUM INTO ?1";

enum tend_err sqlite_copy_to(struct store *base, const char *path) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_copy);
    sqlite_bind_text(st, 1, path);
    return sqlite_done(s, st, "copying the database");
}

/* ---- the operations table (backend.h) ------------------------------------- */

const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .open_again = sqlite_open_again,
    .set_error = sqlite_set_error,
    .close = sqlite_close,
    .schema_version = sqlite_schema_version,
    .last_error = sqlite_last_error,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .account_find = sqlite_account_find,
    .account_ensure = sqlite_account_ensure,
    .account_seen = sqlite_account_seen,
    .user_ensure = sqlite_user_ensure,
    .name_ensure = sqlite_name_ensure,
    .trait_merge = sqlite_trait_merge,
    .traits_each = sqlite_traits_each,
    .account_set_fields = sqlite_account_set_fields,
    .user_set_fields = sqlite_user_set_fields,
    .user_memberships = sqlite_user_memberships,
    .membership_start = sqlite_membership_start,
    .membership_end = sqlite_membership_end,
    .removal_after = sqlite_removal_after,
    .event_exists = sqlite_event_exists,
    .event_keys_prefetch = sqlite_event_keys_prefetch,
    .event_put = sqlite_event_put,
    .quarantine_put = sqlite_quarantine_put,
    .quarantine_by_account = sqlite_quarantine_by_account,
    .quarantine_by_user = sqlite_quarantine_by_user,
    .quarantine_attach = sqlite_quarantine_attach,
    .login_day_add = sqlite_login_day_add,
    .login_day_last = sqlite_login_day_last,
    .activity_each = sqlite_activity_each,
    .activity_refresh = sqlite_activity_refresh,
    .activity_stale_each = sqlite_activity_stale_each,
    .activity_days_each = sqlite_activity_days_each,
    .activity_windows_pending = sqlite_activity_windows_pending,
    .activity_window_put = sqlite_activity_window_put,
    .activity_windows_each = sqlite_activity_windows_each,
    .activity_windows_done = sqlite_activity_windows_done,
    .activity_windows_ready = sqlite_activity_windows_ready,
    .facts_each = sqlite_facts_each,
    .memberships_each = sqlite_memberships_each,
    .score_put = sqlite_score_put,
    .score_get = sqlite_score_get,
    .score_history = sqlite_score_history,
    .scores_of_day = sqlite_scores_of_day,
    .product_used = sqlite_product_used,
    .last_ticket_before = sqlite_last_ticket_before,
    .user_label = sqlite_user_label,
    .ctas_lock = sqlite_ctas_lock,
    .ctas_watched_each = sqlite_ctas_watched_each,
    .ctas_live_count = sqlite_ctas_live_count,
    .cta_insert = sqlite_cta_insert,
    .cta_update = sqlite_cta_update,
    .cta_forget_closed = sqlite_cta_forget_closed,
    .cta_get = sqlite_cta_get,
    .ctas_each = sqlite_ctas_each,
    .cta_held_put = sqlite_cta_held_put,
    .ctas_held_each = sqlite_ctas_held_each,
    .ctas_held_count = sqlite_ctas_held_count,
    .ctas_opened_by_owner = sqlite_ctas_opened_by_owner,
    .cta_history_add = sqlite_cta_history_add,
    .cta_history_each = sqlite_cta_history_each,
    .eval_run_put = sqlite_eval_run_put,
    .ctas_reset = sqlite_ctas_reset,
    .eval_run_before = sqlite_eval_run_before,
    .scores_of_day_version = sqlite_scores_of_day_version,
    .scores_of_day_ids = sqlite_scores_of_day_ids,
    .notification_add = sqlite_notification_add,
    .outbox_add = sqlite_outbox_add,
    .outbox_recover = sqlite_outbox_recover,
    .outbox_claim = sqlite_outbox_claim,
    .outbox_lease_renew = sqlite_outbox_lease_renew,
    .outbox_due_targets = sqlite_outbox_due_targets,
    .outbox_due = sqlite_outbox_due,
    .outbox_next_due = sqlite_outbox_next_due,
    .outbox_set = sqlite_outbox_set,
    .outbox_hold_set = sqlite_outbox_hold_set,
    .outbox_holds_each = sqlite_outbox_holds_each,
    .outbox_holds_prune = sqlite_outbox_holds_prune,
    .outbox_each = sqlite_outbox_each,
    .outbox_get = sqlite_outbox_get,
    .outbox_counts = sqlite_outbox_counts,
    .outbox_retry = sqlite_outbox_retry,
    .outbox_retry_dead = sqlite_outbox_retry_dead,
    .outbox_held_groups = sqlite_outbox_held_groups,
    .outbox_digest_make = sqlite_outbox_digest_make,
    .outbox_items_each = sqlite_outbox_items_each,
    .counter_add = sqlite_counter_add,
    .account_count_events = sqlite_account_count_events,
    .accounts_each = sqlite_accounts_each,
    .account_get = sqlite_account_get,
    .accounts_brief_each = sqlite_accounts_brief_each,
    .accounts_brief_of = sqlite_accounts_brief_of,
    .status_get = sqlite_status_get,
    .counters_each = sqlite_counters_each,
    .quarantine_reasons = sqlite_quarantine_reasons,
    .account_briefs = sqlite_account_briefs,
    .scores_latest_day = sqlite_scores_latest_day,
    .account_facts_recent = sqlite_account_facts_recent,
    .rule_counts_each = sqlite_rule_counts_each,
    .outbox_oldest_pending = sqlite_outbox_oldest_pending,
    .outcomes_each = sqlite_outcomes_each,
    .copy_to = sqlite_copy_to,
    .report_put = sqlite_report_put,
    .reports_each = sqlite_reports_each,
    .report_get = sqlite_report_get,
    .model_put = sqlite_model_put,
    .model_get = sqlite_model_get,
    .model_for_day = sqlite_model_for_day,
    .models_each = sqlite_models_each,
    .last_event_day = sqlite_last_event_day,
    .risk_put = sqlite_risk_put,
    .risk_clear_day = sqlite_risk_clear_day,
    .risk_put_many = sqlite_risk_put_many,
    .risk_latest_day = sqlite_risk_latest_day,
    .risk_of_day = sqlite_risk_of_day,
    .risk_of_account = sqlite_risk_of_account,
    .session_epoch = sqlite_session_epoch,
    .session_epoch_bump = sqlite_session_epoch_bump,
    .inbox_put = sqlite_inbox_put,
    .inbox_next = sqlite_inbox_next,
    .inbox_finish = sqlite_inbox_finish,
    .inbox_each = sqlite_inbox_each,
    .inbox_requeue = sqlite_inbox_requeue,
    .inbox_prune = sqlite_inbox_prune,
    .inbox_counts = sqlite_inbox_counts,
    .hook_account_put = sqlite_hook_account_put,
    .hook_account_get = sqlite_hook_account_get,
    .lease_acquire = sqlite_lease_acquire,
    .lease_release = sqlite_lease_release,
    .run_create = sqlite_run_create,
    .run_latest = sqlite_run_latest,
    .run_get = sqlite_run_get,
    .bucket_claim = sqlite_bucket_claim,
    .bucket_done = sqlite_bucket_done,
    .account_ids_between = sqlite_account_ids_between,
    .eval_lock_opens = sqlite_eval_lock_opens,
    .notify = sqlite_notify,
    .listen = sqlite_listen,
    .notify_wait = sqlite_notify_wait,
    .customer_message_claim = sqlite_customer_message_claim,
    .customer_message_link = sqlite_customer_message_link,
    .customer_messages_each = sqlite_customer_messages_each,
    .customer_unsubscribe = sqlite_customer_unsubscribe,
    .customer_unsubscribes_each = sqlite_customer_unsubscribes_each,
    .customer_contacts_each = sqlite_customer_contacts_each,

    .members_each = sqlite_members_each,
    .user_logins_each = sqlite_user_logins_each,

    .segment_days_put = sqlite_segment_days_put,
    .segment_part_put = sqlite_segment_part_put,
    .segment_parts_take = sqlite_segment_parts_take,
    .segment_days_each = sqlite_segment_days_each,
    .segment_latest_day = sqlite_segment_latest_day,

    .escalation_candidates = sqlite_escalation_candidates,
    .escalation_put = sqlite_escalation_put,

    .data_version = sqlite_data_version,
    .account_summary = sqlite_account_summary,
    .account_count = sqlite_account_count,
    .account_rows = sqlite_account_rows,
    .account_rows_of = sqlite_account_rows_of,
    .team_user_add = sqlite_team_user_add,
    .team_user_get = sqlite_team_user_get,
    .team_user_set = sqlite_team_user_set,
    .team_users_each = sqlite_team_users_each,
    .invite_add = sqlite_invite_add,
    .invite_take = sqlite_invite_take,
    .audit_append = sqlite_audit_append,
    .audit_page = sqlite_audit_page,
    .audit_count = sqlite_audit_count,
    .token_add = sqlite_token_add,
    .token_find = sqlite_token_find,
    .token_revoke = sqlite_token_revoke,
    .tokens_each = sqlite_tokens_each,
    .revenue_each = sqlite_revenue_each,

    .note_add = sqlite_note_add,
    .notes_each = sqlite_notes_each,
    .holdout_put = sqlite_holdout_put,
    .holdout_get = sqlite_holdout_get,
    .holdouts_each = sqlite_holdouts_each,
    .cta_actions_each = sqlite_cta_actions_each,
    .outreach_each = sqlite_outreach_each,

    .cta_step_set = sqlite_cta_step_set,
    .cta_steps_each = sqlite_cta_steps_each,

    .account_costs_each = sqlite_account_costs_each,
};
