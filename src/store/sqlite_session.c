/* sqlite_session.c: the dashboard's session epochs in SQLite (see store.h,
 * "session epochs", and docs/store.md).
 *
 * One row per user who ever signed out: (lowercased email, epoch). A read is
 * one primary-key lookup, made on every request that carries a session, so
 * a sign-out holds in every process that serves the database and across
 * restarts. A bump is one upsert. */
#include <glib.h>
#include <string.h>

#include "store/sqlite_int.h"

static const char q_get[] = "SELECT epoch FROM session_epochs WHERE email = ?1";
static const char q_bump[] =
    "INSERT INTO session_epochs (email, epoch, changed_ms) VALUES (?1, 1, ?2) "
    "ON CONFLICT (email) DO UPDATE SET epoch = epoch + 1, changed_ms = ?2 RETURNING epoch";

/* email lowercased (g_free it), or NULL with the error recorded. */
static char *email_key(struct sqlite_store *s, const char *email) {
    if (!email || strlen(email) > STORE_EMAIL_MAX_BYTES) {
        store_set_error(&s->base, "session epoch: the email is missing or over 320 bytes");
        return NULL;
    }
    return g_ascii_strdown(email, -1);
}

enum tend_err sqlite_session_epoch(struct store *base, const char *email, int64_t *epoch) {
    struct sqlite_store *s = sqlite_of(base);
    char *key = email_key(s, email);
    if (!key)
        return TEND_ERR_LIMIT;
    sqlite3_stmt *st = sqlite_stmt(s, q_get);
    sqlite_bind_text(st, 1, key);
    int rc = sqlite_step(st);
    enum tend_err e = TEND_OK;
    if (rc == SQLITE_ROW)
        *epoch = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        *epoch = 0;
    else
        e = sqlite_fail(s, "reading a session epoch");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    g_free(key);
    return e;
}

enum tend_err sqlite_session_epoch_bump(struct store *base, const char *email, int64_t now_ms,
                                        int64_t *epoch) {
    struct sqlite_store *s = sqlite_of(base);
    char *key = email_key(s, email);
    if (!key)
        return TEND_ERR_LIMIT;
    sqlite3_stmt *st = sqlite_stmt(s, q_bump);
    sqlite_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, now_ms);
    int64_t v = 0;
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
        rc = sqlite_step(st);
    }
    enum tend_err e = rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "signing out (session epoch)");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    g_free(key);
    if (!e)
        *epoch = v;
    return e;
}
