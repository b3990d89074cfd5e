/* pg_session.c: the dashboard's session epochs in PostgreSQL (see store.h,
 * "session epochs", and docs/store.md); the results those of
 * sqlite_session.c.
 *
 * One row per user who ever signed out: (lowercased email, epoch). A read is
 * one primary-key lookup, made on every request that carries a session, so
 * a sign-out on one node holds on every node that serves the database. A
 * bump is one upsert that adds one to the stored epoch and returns it: two
 * nodes signing the same user out at once get two epochs, one after the
 * other, and neither is lost. */
#include <glib.h>
#include <string.h>

#include "store/pg_int.h"

static const char q_get[] = "SELECT epoch FROM session_epochs WHERE email = $1";
static const char q_bump[] =
    "INSERT INTO session_epochs (email, epoch, changed_ms) VALUES ($1, 1, $2) "
    "ON CONFLICT (email) DO UPDATE SET epoch = session_epochs.epoch + 1, "
    "changed_ms = excluded.changed_ms RETURNING epoch";

/* email lowercased (g_free it), or NULL with the error recorded. */
static char *email_key(struct pg_store *s, const char *email) {
    if (!email || strlen(email) > STORE_EMAIL_MAX_BYTES) {
        store_set_error(&s->base, "session epoch: the email is missing or over 320 bytes");
        return NULL;
    }
    return g_ascii_strdown(email, -1);
}

enum tend_err pg_session_epoch(struct store *base, const char *email, int64_t *epoch) {
    struct pg_store *s = pg_of(base);
    char *key = email_key(s, email);
    if (!key)
        return TEND_ERR_LIMIT;
    struct pg_params p = {0};
    pg_p_text(&p, key);
    int64_t v = 0;
    enum tend_err e = pg_int(s, q_get, &p, "reading a session epoch", &v);
    g_free(key);
    if (e == TEND_ERR_NOTFOUND) {
        v = 0;
        e = TEND_OK;
    }
    if (!e)
        *epoch = v;
    return e;
}

enum tend_err pg_session_epoch_bump(struct store *base, const char *email, int64_t now_ms,
                                    int64_t *epoch) {
    struct pg_store *s = pg_of(base);
    char *key = email_key(s, email);
    if (!key)
        return TEND_ERR_LIMIT;
    struct pg_params p = {0};
    pg_p_text(&p, key);
    pg_p_i64(&p, now_ms);
    int64_t v = 0;
    enum tend_err e = pg_int(s, q_bump, &p, "signing out (session epoch)", &v);
    g_free(key);
    if (!e)
        *epoch = v;
    return e;
}
