/* sqlite_node.c: several nodes on one database, as SQLite has them: one
 * node (see store.h, "several nodes", and docs/operations.md).
 *
 * The tables are migration 18's: leases, sched_runs, sched_buckets. The
 * statements are the PostgreSQL backend's (pg_node.c) without what only
 * several processes need: SQLite's write transactions (BEGIN IMMEDIATE)
 * already run one at a time, so a claim is a plain UPDATE of the first free
 * bucket in one, the evaluation locks are the write lock the evaluation
 * holds anyway, and a wake-up has nobody else to wake. The lease is kept
 * all the same, so that `tend serve` runs the same scheduler on both
 * backends, and a second process on one file (a mistake, but a possible
 * one) still plans each scheduled time once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite_int.h"

static const char q_lease_take[] =
    "INSERT INTO leases (name, holder, term, expires_ms) VALUES (?1, ?2, 1, ?3 + ?4) "
    "ON CONFLICT (name) DO UPDATE SET "
    "term = CASE WHEN holder = excluded.holder THEN term ELSE term + 1 END, "
    "holder = excluded.holder, expires_ms = excluded.expires_ms "
    "WHERE holder = excluded.holder OR expires_ms <= ?3";
static const char q_lease_get[] = "SELECT holder, term, expires_ms FROM leases WHERE name = ?1";
static const char q_lease_release[] =
    "UPDATE leases SET expires_ms = 0 WHERE name = ?1 AND holder = ?2";
static const char q_lease_held[] = "SELECT count(*) FROM leases WHERE name = ?1 AND holder = ?2 "
                                   "AND term = ?3 AND expires_ms > ?4";
static const char q_max_account[] = "SELECT coalesce(max(id), 0) FROM accounts";
static const char q_run_insert[] =
    "INSERT INTO sched_runs (due_ms, day, n_buckets, term, holder, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (due_ms) DO NOTHING";
static const char q_bucket_insert[] = "INSERT INTO sched_buckets (due_ms, bucket, day, first_id, "
                                      "last_id) VALUES (?1, ?2, ?3, ?4, ?5)";
#define RUN_COLUMNS                                                                                \
    "due_ms, day, n_buckets, term, created_ms, done_ms, accounts, opened, updated, resolved, "     \
    "errors, notifications, "                                                                      \
    "(SELECT count(*) FROM sched_buckets b WHERE b.due_ms = r.due_ms AND b.done_ms IS NOT NULL)"
static const char q_run_latest[] =
    "SELECT " RUN_COLUMNS " FROM sched_runs r ORDER BY due_ms DESC LIMIT 1";
static const char q_run_get[] = "SELECT " RUN_COLUMNS " FROM sched_runs r WHERE due_ms = ?1";
static const char q_bucket_claim[] =
    "UPDATE sched_buckets SET claimed_by = ?1, claimed_until = ?2 + ?3, attempts = attempts + 1 "
    "WHERE (due_ms, bucket) = (SELECT due_ms, bucket FROM sched_buckets "
    "  WHERE done_ms IS NULL AND (claimed_until IS NULL OR claimed_until <= ?2) "
    "  ORDER BY due_ms, bucket LIMIT 1) "
    "RETURNING due_ms, day, bucket, first_id, last_id, attempts, "
    "(SELECT n_buckets FROM sched_runs r WHERE r.due_ms = sched_buckets.due_ms)";
static const char q_bucket_done[] =
    "UPDATE sched_buckets SET done_ms = ?4, accounts = ?5, opened = ?6, updated = ?7, "
    "resolved = ?8, errors = ?9, notifications = ?10 "
    "WHERE due_ms = ?1 AND bucket = ?2 AND claimed_by = ?3 AND done_ms IS NULL";
static const char q_buckets_left[] =
    "SELECT count(*) FROM sched_buckets WHERE due_ms = ?1 AND done_ms IS NULL";
static const char q_run_complete[] =
    "UPDATE sched_runs SET done_ms = ?2, "
    "accounts = (SELECT sum(accounts) FROM sched_buckets b WHERE b.due_ms = ?1), "
    "opened = (SELECT sum(opened) FROM sched_buckets b WHERE b.due_ms = ?1), "
    "updated = (SELECT sum(updated) FROM sched_buckets b WHERE b.due_ms = ?1), "
    "resolved = (SELECT sum(resolved) FROM sched_buckets b WHERE b.due_ms = ?1), "
    "errors = (SELECT sum(errors) FROM sched_buckets b WHERE b.due_ms = ?1), "
    "notifications = (SELECT sum(notifications) FROM sched_buckets b WHERE b.due_ms = ?1) "
    "WHERE due_ms = ?1 AND done_ms IS NULL";
static const char q_ids_between[] =
    "SELECT id FROM accounts WHERE id BETWEEN ?1 AND ?2 ORDER BY id";

/* Begins a transaction when the caller has none; *own tells which. */
static enum tend_err begin_own(struct sqlite_store *s, bool *own) {
    *own = sqlite3_get_autocommit(s->db) != 0;
    return *own ? sqlite_begin(&s->base, NULL) : TEND_OK;
}

/* Ends what begin_own began: commits on success, rolls back on failure. */
static enum tend_err end_own(struct sqlite_store *s, bool own, enum tend_err err) {
    if (!own)
        return err;
    if (err) {
        sqlite_rollback(&s->base);
        return err;
    }
    return sqlite_commit(&s->base);
}

enum tend_err sqlite_lease_acquire(struct store *base, const char *name, const char *holder,
                                   int64_t now_ms, int64_t ttl_ms, struct store_lease *out) {
    struct sqlite_store *s = sqlite_of(base);
    memset(out, 0, sizeof *out);
    bool own;
    enum tend_err err = begin_own(s, &own);
    if (err)
        return err;
    sqlite3_stmt *st = sqlite_stmt(s, q_lease_take);
    sqlite_bind_text(st, 1, name);
    sqlite_bind_text(st, 2, holder);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, ttl_ms);
    err = sqlite_done(s, st, "taking the lease");
    if (!err) {
        st = sqlite_stmt(s, q_lease_get);
        sqlite_bind_text(st, 1, name);
        int rc = sqlite_step(st);
        if (rc == SQLITE_ROW) {
            const char *h = sqlite_col_text(st, 0);
            snprintf(out->holder, sizeof out->holder, "%s", h ? h : "");
            out->term = sqlite3_column_int64(st, 1);
            out->expires_ms = sqlite3_column_int64(st, 2);
            out->held = strcmp(out->holder, holder) == 0 && out->expires_ms > now_ms;
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_ROW)
            err = sqlite_fail(s, "reading the lease");
    }
    return end_own(s, own, err);
}

enum tend_err sqlite_lease_release(struct store *base, const char *name, const char *holder) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_lease_release);
    sqlite_bind_text(st, 1, name);
    sqlite_bind_text(st, 2, holder);
    return sqlite_done(s, st, "giving the lease up");
}

/* How many buckets of width ids the accounts up to max_id make (at least 1). */
static int buckets_for(int64_t max_id, int64_t width) {
    if (width <= 0 || max_id <= width)
        return 1;
    int64_t n = (max_id + width - 1) / width;
    return n > 1000000 ? 1000000 : (int)n;
}

enum tend_err sqlite_run_create(struct store *base, const char *lease, const char *holder,
                                int64_t term, int64_t due_ms, int32_t day, int64_t bucket_ids,
                                int64_t now_ms, bool *created) {
    struct sqlite_store *s = sqlite_of(base);
    *created = false;
    bool own;
    enum tend_err err = begin_own(s, &own);
    if (err)
        return err;
    int64_t held = 0, max_id = 0;
    sqlite3_stmt *st = sqlite_stmt(s, q_lease_held);
    sqlite_bind_text(st, 1, lease);
    sqlite_bind_text(st, 2, holder);
    sqlite3_bind_int64(st, 3, term);
    sqlite3_bind_int64(st, 4, now_ms);
    err = sqlite_step_int(s, st, &held, "checking the lease");
    if (!err && held)
        err = sqlite_step_int(s, sqlite_stmt(s, q_max_account), &max_id, "counting accounts");
    int n = buckets_for(max_id, bucket_ids);
    if (!err && held) {
        st = sqlite_stmt(s, q_run_insert);
        sqlite3_bind_int64(st, 1, due_ms);
        sqlite3_bind_int(st, 2, day);
        sqlite3_bind_int(st, 3, n);
        sqlite3_bind_int64(st, 4, term);
        sqlite_bind_text(st, 5, holder);
        sqlite3_bind_int64(st, 6, now_ms);
        err = sqlite_done(s, st, "planning a run");
        *created = !err && sqlite_changes(s) == 1;
    }
    for (int k = 0; !err && *created && k < n; k++) {
        st = sqlite_stmt(s, q_bucket_insert);
        sqlite3_bind_int64(st, 1, due_ms);
        sqlite3_bind_int(st, 2, k);
        sqlite3_bind_int(st, 3, day);
        sqlite3_bind_int64(st, 4, (int64_t)k * bucket_ids + 1);
        sqlite3_bind_int64(st, 5, k == n - 1 ? STORE_LAST_ID : (int64_t)(k + 1) * bucket_ids);
        err = sqlite_done(s, st, "planning a run's buckets");
    }
    if (err)
        *created = false;
    return end_own(s, own, err);
}

/* Reads a run row of RUN_COLUMNS from st, stepped to a row. */
static void run_of(sqlite3_stmt *st, struct store_run *r) {
    memset(r, 0, sizeof *r);
    r->due_ms = sqlite3_column_int64(st, 0);
    r->day = sqlite3_column_int(st, 1);
    r->n_buckets = sqlite3_column_int(st, 2);
    r->term = sqlite3_column_int64(st, 3);
    r->created_ms = sqlite3_column_int64(st, 4);
    r->done_ms = sqlite3_column_int64(st, 5);
    r->c.accounts = sqlite3_column_int64(st, 6);
    r->c.opened = sqlite3_column_int64(st, 7);
    r->c.updated = sqlite3_column_int64(st, 8);
    r->c.resolved = sqlite3_column_int64(st, 9);
    r->c.errors = sqlite3_column_int64(st, 10);
    r->c.notifications = sqlite3_column_int64(st, 11);
    r->done_buckets = sqlite3_column_int(st, 12);
}

/* Runs a read of one run; *found false when none. */
static enum tend_err read_run(struct sqlite_store *s, sqlite3_stmt *st, struct store_run *out,
                              bool *found) {
    int rc = sqlite_step(st);
    *found = rc == SQLITE_ROW;
    if (*found)
        run_of(st, out);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading runs");
}

enum tend_err sqlite_run_latest(struct store *base, struct store_run *out, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    return read_run(s, sqlite_stmt(s, q_run_latest), out, found);
}

enum tend_err sqlite_run_get(struct store *base, int64_t due_ms, struct store_run *out) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_run_get);
    sqlite3_bind_int64(st, 1, due_ms);
    bool found;
    enum tend_err err = read_run(s, st, out, &found);
    return err ? err : found ? TEND_OK : TEND_ERR_NOTFOUND;
}

enum tend_err sqlite_bucket_claim(struct store *base, const char *holder, int64_t now_ms,
                                  int64_t claim_ms, struct store_bucket *out, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    *found = false;
    memset(out, 0, sizeof *out);
    bool own;
    enum tend_err err = begin_own(s, &own);
    if (err)
        return err;
    sqlite3_stmt *st = sqlite_stmt(s, q_bucket_claim);
    sqlite_bind_text(st, 1, holder);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, claim_ms);
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW) {
        *found = true;
        out->due_ms = sqlite3_column_int64(st, 0);
        out->day = sqlite3_column_int(st, 1);
        out->bucket = sqlite3_column_int(st, 2);
        out->first_id = sqlite3_column_int64(st, 3);
        out->last_id = sqlite3_column_int64(st, 4);
        out->attempts = sqlite3_column_int(st, 5);
        out->n_buckets = sqlite3_column_int(st, 6);
        rc = sqlite_step(st);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        err = sqlite_fail(s, "claiming a bucket");
    return end_own(s, own, err);
}

enum tend_err sqlite_bucket_done(struct store *base, const char *holder, int64_t due_ms, int b,
                                 int64_t now_ms, const struct store_run_counts *c, bool *ours,
                                 bool *run_done, struct store_run *run) {
    struct sqlite_store *s = sqlite_of(base);
    *ours = *run_done = false;
    sqlite3_stmt *st = sqlite_stmt(s, q_bucket_done);
    sqlite3_bind_int64(st, 1, due_ms);
    sqlite3_bind_int(st, 2, b);
    sqlite_bind_text(st, 3, holder);
    sqlite3_bind_int64(st, 4, now_ms);
    const int64_t v[] = {c->accounts, c->opened, c->updated,
                         c->resolved, c->errors, c->notifications};
    for (int i = 0; i < 6; i++)
        sqlite3_bind_int64(st, 5 + i, v[i]);
    enum tend_err err = sqlite_done(s, st, "marking a bucket done");
    if (err || sqlite_changes(s) != 1)
        return err;
    *ours = true;
    int64_t left = 0;
    st = sqlite_stmt(s, q_buckets_left);
    sqlite3_bind_int64(st, 1, due_ms);
    if ((err = sqlite_step_int(s, st, &left, "counting a run's buckets")) || left)
        return err;
    st = sqlite_stmt(s, q_run_complete);
    sqlite3_bind_int64(st, 1, due_ms);
    sqlite3_bind_int64(st, 2, now_ms);
    if ((err = sqlite_done(s, st, "completing a run")))
        return err;
    *run_done = sqlite_changes(s) == 1;
    return *run_done && run ? sqlite_run_get(base, due_ms, run) : TEND_OK;
}

enum tend_err sqlite_account_ids_between(struct store *base, int64_t first, int64_t last,
                                         int64_t **ids, size_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    *ids = NULL;
    *n = 0;
    size_t cap = 0;
    sqlite3_stmt *st = sqlite_stmt(s, q_ids_between);
    sqlite3_bind_int64(st, 1, first);
    sqlite3_bind_int64(st, 2, last);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            *ids = realloc(*ids, cap * sizeof **ids);
            if (!*ids)
                abort();
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE)
        return TEND_OK;
    free(*ids);
    *ids = NULL;
    *n = 0;
    return sqlite_fail(s, "listing a bucket's accounts");
}

/* One writer at a time: the evaluation's write transaction is its lock. */
enum tend_err sqlite_eval_lock_opens(struct store *base) {
    (void)base;
    return TEND_OK;
}

/* One node: nobody to wake. */
enum tend_err sqlite_notify(struct store *base, const char *channel) {
    (void)base;
    (void)channel;
    return TEND_OK;
}

enum tend_err sqlite_listen(struct store *base, const char *channel) {
    (void)base;
    (void)channel;
    return TEND_OK;
}

enum tend_err sqlite_notify_wait(struct store *base, int timeout_ms, char *channel, size_t size,
                                 bool *got) {
    (void)base;
    *got = false;
    if (size)
        channel[0] = '\0';
    if (timeout_ms > 0)
        usleep((useconds_t)timeout_ms * 1000);
    return TEND_OK;
}
