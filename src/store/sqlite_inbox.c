/* sqlite_inbox.c: the webhook inbox and the providers' ids of accounts in
 * SQLite (store.h, "the webhook inbox"; docs/connectors.md).
 *
 * A provider's event is one row keyed by (provider, event_id): the insert
 * is INSERT ... ON CONFLICT DO NOTHING, so a retry or a duplicate changes
 * nothing and the caller hears it was there. A worker takes the oldest
 * pending row inside its write transaction (SQLite has one writer at a
 * time, so no two workers take the same row) and finishes it in the same
 * transaction as the events it stored: a crash between the two leaves the
 * row pending, never half done. */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"

#define ROW_COLUMNS                                                                                \
    "id, provider, event_id, event_type, received_ms, coalesce(processed_ms, 0), status, reason, " \
    "detail, account, events, attempts"

static const char q_put[] =
    "INSERT INTO hook_inbox (provider, event_id, event_type, received_ms, status, payload) "
    "VALUES (?1, ?2, ?3, ?4, 'pending', ?5) ON CONFLICT (provider, event_id) DO NOTHING";
static const char q_next[] = "SELECT " ROW_COLUMNS ", payload FROM hook_inbox "
                             "WHERE status = 'pending' ORDER BY id LIMIT 1";
static const char q_finish[] =
    "UPDATE hook_inbox SET status = ?2, reason = ?3, detail = ?4, account = ?5, events = ?6, "
    "attempts = attempts + 1, processed_ms = ?7 WHERE id = ?1";
static const char q_each[] = "SELECT " ROW_COLUMNS " FROM hook_inbox "
                             "WHERE (?1 IS NULL OR provider = ?1) AND (?2 IS NULL OR status = ?2) "
                             "ORDER BY id DESC LIMIT ?3";
static const char q_requeue_id[] =
    "UPDATE hook_inbox SET status = 'pending' WHERE id = ?1 AND status <> 'pending'";
static const char q_requeue[] =
    "UPDATE hook_inbox SET status = 'pending' WHERE (?1 IS NULL OR provider = ?1) AND "
    "((?2 IS NULL AND status IN ('unmapped', 'failed')) OR status = ?2) AND status <> 'pending'";
static const char q_prune[] =
    "DELETE FROM hook_inbox WHERE received_ms < ?1 AND status <> 'pending'";
static const char q_counts[] = "SELECT provider, status, reason, count(*) FROM hook_inbox "
                               "GROUP BY provider, status, reason ORDER BY 1, 2, 3";
static const char q_map_put[] =
    "INSERT INTO hook_accounts (provider, provider_id, account, updated_ms) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (provider, provider_id) DO UPDATE SET "
    "account = excluded.account, updated_ms = excluded.updated_ms";
static const char q_map_get[] =
    "SELECT account FROM hook_accounts WHERE provider = ?1 AND provider_id = ?2";

enum tend_err sqlite_inbox_put(struct store *base, const char *provider, const char *event_id,
                               const char *event_type, int64_t received_ms, const char *payload,
                               bool *inserted) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_put);
    sqlite_bind_text(st, 1, provider);
    sqlite_bind_text(st, 2, event_id);
    sqlite_bind_text(st, 3, event_type);
    sqlite3_bind_int64(st, 4, received_ms);
    sqlite_bind_text(st, 5, payload);
    enum tend_err e = sqlite_done(s, st, "keeping a webhook event in the inbox");
    if (!e)
        *inserted = sqlite_changes(s) > 0;
    return e;
}

/* The row st is on. */
static void read_row(sqlite3_stmt *st, struct store_inbox_row *r, bool payload) {
    r->id = sqlite3_column_int64(st, 0);
    r->provider = sqlite_col_text(st, 1);
    r->event_id = sqlite_col_text(st, 2);
    r->event_type = sqlite_col_text(st, 3);
    r->received_ms = sqlite3_column_int64(st, 4);
    r->processed_ms = sqlite3_column_int64(st, 5);
    r->status = sqlite_col_text(st, 6);
    r->reason = sqlite_col_text(st, 7);
    r->detail = sqlite_col_text(st, 8);
    r->account = sqlite_col_text(st, 9);
    r->events = sqlite3_column_int(st, 10);
    r->attempts = sqlite3_column_int(st, 11);
    r->payload = payload ? sqlite_col_text(st, 12) : NULL;
}

enum tend_err sqlite_inbox_next(struct store *base,
                                void (*fn)(void *arg, const struct store_inbox_row *r), void *arg,
                                bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_next);
    int rc = sqlite_step(st);
    enum tend_err e = TEND_OK;
    *found = false;
    if (rc == SQLITE_ROW) {
        struct store_inbox_row r;
        read_row(st, &r, true);
        *found = true;
        fn(arg, &r);
    } else if (rc != SQLITE_DONE) {
        e = sqlite_fail(s, "taking a webhook event from the inbox");
    }
    sqlite3_reset(st);
    return e;
}

enum tend_err sqlite_inbox_finish(struct store *base, int64_t id, const char *status,
                                  const char *reason, const char *detail, const char *account,
                                  int events, int64_t now_ms) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_finish);
    sqlite3_bind_int64(st, 1, id);
    sqlite_bind_text(st, 2, status);
    sqlite_bind_text(st, 3, reason);
    sqlite_bind_text(st, 4, detail);
    sqlite_bind_text(st, 5, account);
    sqlite3_bind_int(st, 6, events);
    sqlite3_bind_int64(st, 7, now_ms);
    return sqlite_done(s, st, "recording a webhook event's outcome");
}

enum tend_err sqlite_inbox_each(struct store *base, const char *provider, const char *status,
                                int64_t limit,
                                void (*fn)(void *arg, const struct store_inbox_row *r), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_each);
    sqlite_bind_text(st, 1, provider);
    sqlite_bind_text(st, 2, status);
    sqlite3_bind_int64(st, 3, limit);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_inbox_row r;
        read_row(st, &r, false);
        fn(arg, &r);
    }
    enum tend_err e = rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing the webhook inbox");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

enum tend_err sqlite_inbox_requeue(struct store *base, const char *provider, const char *status,
                                   int64_t id, int64_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st;
    if (id > 0) {
        st = sqlite_stmt(s, q_requeue_id);
        sqlite3_bind_int64(st, 1, id);
    } else {
        st = sqlite_stmt(s, q_requeue);
        sqlite_bind_text(st, 1, provider);
        sqlite_bind_text(st, 2, status);
    }
    enum tend_err e = sqlite_done(s, st, "putting webhook events back in the inbox");
    if (!e)
        *n = sqlite_changes(s);
    return e;
}

enum tend_err sqlite_inbox_prune(struct store *base, int64_t before_ms, int64_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_prune);
    sqlite3_bind_int64(st, 1, before_ms);
    enum tend_err e = sqlite_done(s, st, "pruning the webhook inbox");
    if (!e)
        *n = sqlite_changes(s);
    return e;
}

enum tend_err sqlite_inbox_counts(struct store *base,
                                  void (*fn)(void *arg, const char *provider, const char *status,
                                             const char *reason, int64_t rows),
                                  void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_counts);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite_col_text(st, 1), sqlite_col_text(st, 2),
           sqlite3_column_int64(st, 3));
    enum tend_err e =
        rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "counting the webhook inbox's rows");
    sqlite3_reset(st);
    return e;
}

enum tend_err sqlite_hook_account_put(struct store *base, const char *provider,
                                      const char *provider_id, const char *account,
                                      int64_t now_ms) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_map_put);
    sqlite_bind_text(st, 1, provider);
    sqlite_bind_text(st, 2, provider_id);
    sqlite_bind_text(st, 3, account);
    sqlite3_bind_int64(st, 4, now_ms);
    return sqlite_done(s, st, "mapping a provider's id to an account");
}

enum tend_err sqlite_hook_account_get(struct store *base, const char *provider,
                                      const char *provider_id, char *account, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_map_get);
    sqlite_bind_text(st, 1, provider);
    sqlite_bind_text(st, 2, provider_id);
    int rc = sqlite_step(st);
    enum tend_err e = TEND_OK;
    *found = false;
    if (rc == SQLITE_ROW) {
        snprintf(account, STORE_INBOX_ID_BYTES, "%s", sqlite_col_text(st, 0));
        *found = true;
    } else if (rc != SQLITE_DONE) {
        e = sqlite_fail(s, "reading a provider's id of an account");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}
