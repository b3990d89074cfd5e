/* sqlite_team.c: the people of the team, their one-time links and the audit
 * log in SQLite (see store.h, "people of the team and the audit log").
 *
 * Every write is one statement, so two processes on one file never lose
 * each other's change: adding a person is an INSERT that the key refuses a
 * second time, a change is one UPDATE of one field, a one-time link is used
 * by an UPDATE ... WHERE used_ms IS NULL that only one caller can win. The
 * audit log has INSERT only here (and triggers refuse anything else). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"

static const char q_add[] =
    "INSERT INTO team_users (email, name, hash, role, disabled, created_ms, changed_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (email) DO NOTHING";
static const char q_get[] = "SELECT email, name, hash, role, disabled, created_ms, changed_ms "
                            "FROM team_users WHERE email = ?1";
static const char q_each[] = "SELECT email, name, hash, role, disabled, created_ms, changed_ms "
                             "FROM team_users ORDER BY email";
static const char q_set_role[] =
    "UPDATE team_users SET role = ?2, changed_ms = ?3 WHERE email = ?1";
static const char q_set_hash[] =
    "UPDATE team_users SET hash = ?2, changed_ms = ?3 WHERE email = ?1";
static const char q_set_disabled[] =
    "UPDATE team_users SET disabled = ?2, changed_ms = ?3 WHERE email = ?1";
static const char q_invite_add[] =
    "INSERT INTO team_invites (hash, email, created_by, created_ms, expires_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char q_invite_take[] = "UPDATE team_invites SET used_ms = ?2 "
                                    "WHERE hash = ?1 AND used_ms IS NULL AND expires_ms > ?2 "
                                    "RETURNING email";
static const char q_invite_peek[] = "SELECT email FROM team_invites "
                                    "WHERE hash = ?1 AND used_ms IS NULL AND expires_ms > ?2";
static const char q_audit_add[] =
    "INSERT INTO audit_log (at_ms, actor, action, target, before_json, after_json) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
static const char q_audit_page[] =
    "SELECT id, at_ms, actor, action, target, before_json, after_json FROM audit_log "
    "WHERE id < ?1 ORDER BY id DESC LIMIT ?2";
static const char q_audit_count[] = "SELECT count(*) FROM audit_log";

/* Refuses a field over its bound, naming it. */
static bool too_long(struct sqlite_store *s, const char *what, const char *v, size_t max) {
    if (v && strlen(v) > max) {
        char msg[120];
        snprintf(msg, sizeof msg, "%s: over %zu bytes", what, max);
        store_set_error(&s->base, msg);
        return true;
    }
    return false;
}

static void row_of(sqlite3_stmt *st, struct store_team_user *u) {
    memset(u, 0, sizeof *u);
    snprintf(u->email, sizeof u->email, "%s", sqlite_col_text(st, 0) ? sqlite_col_text(st, 0) : "");
    snprintf(u->name, sizeof u->name, "%s", sqlite_col_text(st, 1) ? sqlite_col_text(st, 1) : "");
    snprintf(u->hash, sizeof u->hash, "%s", sqlite_col_text(st, 2) ? sqlite_col_text(st, 2) : "");
    snprintf(u->role, sizeof u->role, "%s", sqlite_col_text(st, 3) ? sqlite_col_text(st, 3) : "");
    u->disabled = sqlite3_column_int(st, 4) != 0;
    u->created_ms = sqlite3_column_int64(st, 5);
    u->changed_ms = sqlite3_column_int64(st, 6);
}

enum tend_err sqlite_team_user_add(struct store *base, const struct store_team_user *u) {
    struct sqlite_store *s = sqlite_of(base);
    if (!u->email[0] || !u->role[0]) {
        store_set_error(base, "a person needs an email and a role");
        return TEND_ERR_INVALID;
    }
    char *key = g_ascii_strdown(u->email, -1);
    sqlite3_stmt *st = sqlite_stmt(s, q_add);
    sqlite_bind_text(st, 1, key);
    sqlite_bind_text(st, 2, u->name[0] ? u->name : key);
    sqlite_bind_text(st, 3, u->hash);
    sqlite_bind_text(st, 4, u->role);
    sqlite3_bind_int(st, 5, u->disabled);
    sqlite3_bind_int64(st, 6, u->created_ms);
    enum tend_err e = sqlite_done(s, st, "adding a person");
    g_free(key);
    if (!e && sqlite_changes(s) == 0) {
        store_set_error(base, "a person with this email exists already");
        e = TEND_ERR_CONFLICT;
    }
    return e;
}

enum tend_err sqlite_team_user_get(struct store *base, const char *email,
                                   struct store_team_user *out, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    *found = false;
    if (!email || too_long(s, "email", email, STORE_EMAIL_MAX_BYTES))
        return email ? TEND_ERR_LIMIT : TEND_OK;
    char *key = g_ascii_strdown(email, -1);
    sqlite3_stmt *st = sqlite_stmt(s, q_get);
    sqlite_bind_text(st, 1, key);
    int rc = sqlite_step(st);
    enum tend_err e = TEND_OK;
    if (rc == SQLITE_ROW) {
        row_of(st, out);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        e = sqlite_fail(s, "reading a person");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    g_free(key);
    return e;
}

enum tend_err sqlite_team_user_set(struct store *base, const char *email, const char *field,
                                   const char *value, int64_t now_ms) {
    struct sqlite_store *s = sqlite_of(base);
    const char *q = strcmp(field, "role") == 0   ? q_set_role
                    : strcmp(field, "hash") == 0 ? q_set_hash
                                                 : q_set_disabled;
    if (!email || too_long(s, "email", email, STORE_EMAIL_MAX_BYTES) ||
        too_long(s, field, value, STORE_TEAM_HASH_MAX_BYTES))
        return TEND_ERR_LIMIT;
    char *key = g_ascii_strdown(email, -1);
    sqlite3_stmt *st = sqlite_stmt(s, q);
    sqlite_bind_text(st, 1, key);
    if (q == q_set_disabled)
        sqlite3_bind_int(st, 2, strcmp(value, "1") == 0);
    else
        sqlite_bind_text(st, 2, value ? value : "");
    sqlite3_bind_int64(st, 3, now_ms);
    enum tend_err e = sqlite_done(s, st, "changing a person");
    g_free(key);
    if (!e && sqlite_changes(s) == 0) {
        store_set_error(base, "no such person");
        e = TEND_ERR_NOTFOUND;
    }
    return e;
}

enum tend_err sqlite_team_users_each(struct store *base,
                                     void (*fn)(void *arg, const struct store_team_user *u),
                                     void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_each);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_team_user u;
        row_of(st, &u);
        fn(arg, &u);
    }
    enum tend_err e = rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing people");
    sqlite3_reset(st);
    return e;
}

enum tend_err sqlite_invite_add(struct store *base, const char *hash, const char *email,
                                int64_t expires_ms, const char *by, int64_t now_ms) {
    struct sqlite_store *s = sqlite_of(base);
    if (!hash || strlen(hash) != STORE_INVITE_HASH_BYTES || !email ||
        too_long(s, "email", email, STORE_EMAIL_MAX_BYTES) ||
        too_long(s, "by", by, STORE_AUDIT_TEXT_MAX)) {
        if (!hash || strlen(hash) != STORE_INVITE_HASH_BYTES || !email)
            store_set_error(base, "a one-time link needs a SHA-256 (64 hex digits) and an email");
        return TEND_ERR_LIMIT;
    }
    char *key = g_ascii_strdown(email, -1);
    sqlite3_stmt *st = sqlite_stmt(s, q_invite_add);
    sqlite_bind_text(st, 1, hash);
    sqlite_bind_text(st, 2, key);
    sqlite_bind_text(st, 3, by ? by : "");
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_int64(st, 5, expires_ms);
    enum tend_err e = sqlite_done(s, st, "storing a one-time link");
    g_free(key);
    return e;
}

enum tend_err sqlite_invite_take(struct store *base, const char *hash, int64_t now_ms, bool take,
                                 char *email, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    *found = false;
    if (!hash || strlen(hash) != STORE_INVITE_HASH_BYTES)
        return TEND_OK;
    sqlite3_stmt *st = sqlite_stmt(s, take ? q_invite_take : q_invite_peek);
    sqlite_bind_text(st, 1, hash);
    sqlite3_bind_int64(st, 2, now_ms);
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(email, STORE_EMAIL_MAX_BYTES + 1, "%s", sqlite_col_text(st, 0));
        *found = true;
        rc = sqlite_step(st);
    }
    enum tend_err e = rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "using a one-time link");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (e)
        *found = false;
    return e;
}

enum tend_err sqlite_audit_append(struct store *base, const struct store_audit *a, int64_t *id) {
    struct sqlite_store *s = sqlite_of(base);
    if (!a->actor || !a->action || !a->target) {
        store_set_error(base, "an audit entry needs an actor, an action and a target");
        return TEND_ERR_INVALID;
    }
    if (too_long(s, "audit actor", a->actor, STORE_AUDIT_TEXT_MAX) ||
        too_long(s, "audit action", a->action, STORE_AUDIT_TEXT_MAX) ||
        too_long(s, "audit target", a->target, STORE_AUDIT_TEXT_MAX) ||
        too_long(s, "audit before", a->before, STORE_AUDIT_JSON_MAX) ||
        too_long(s, "audit after", a->after, STORE_AUDIT_JSON_MAX))
        return TEND_ERR_LIMIT;
    sqlite3_stmt *st = sqlite_stmt(s, q_audit_add);
    sqlite3_bind_int64(st, 1, a->at_ms);
    sqlite_bind_text(st, 2, a->actor);
    sqlite_bind_text(st, 3, a->action);
    sqlite_bind_text(st, 4, a->target);
    sqlite_bind_text(st, 5, a->before);
    sqlite_bind_text(st, 6, a->after);
    int64_t v = 0;
    enum tend_err e = sqlite_step_int(s, st, &v, "writing the audit log");
    sqlite3_clear_bindings(st);
    if (!e)
        *id = v;
    return e;
}

enum tend_err sqlite_audit_page(struct store *base, int64_t before_id, int limit,
                                void (*fn)(void *arg, const struct store_audit *a), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_audit_page);
    sqlite3_bind_int64(st, 1, before_id > 0 ? before_id : INT64_MAX);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : 0);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_audit a = {
            .id = sqlite3_column_int64(st, 0),
            .at_ms = sqlite3_column_int64(st, 1),
            .actor = sqlite_col_text(st, 2),
            .action = sqlite_col_text(st, 3),
            .target = sqlite_col_text(st, 4),
            .before = sqlite_col_text(st, 5),
            .after = sqlite_col_text(st, 6),
        };
        fn(arg, &a);
    }
    enum tend_err e = rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the audit log");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

enum tend_err sqlite_audit_count(struct store *base, int64_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    return sqlite_step_int(s, sqlite_stmt(s, q_audit_count), n, "counting the audit log");
}

/* ---- API tokens made in the app ----------------------------------------------- */

static const char q_token_add[] =
    "INSERT INTO team_tokens (sha256, name, scope, created_by, created_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";
static const char q_token_find[] =
    "SELECT sha256, name, scope, created_by, created_ms, revoked_ms FROM team_tokens "
    "WHERE sha256 = ?1 AND revoked_ms IS NULL";
static const char q_token_revoke[] =
    "UPDATE team_tokens SET revoked_ms = ?2 WHERE name = ?1 AND revoked_ms IS NULL";
static const char q_tokens_each[] =
    "SELECT sha256, name, scope, created_by, created_ms, revoked_ms FROM team_tokens "
    "ORDER BY name";

static void token_of(sqlite3_stmt *st, struct store_token *t) {
    memset(t, 0, sizeof *t);
    const char *v;
    snprintf(t->sha256, sizeof t->sha256, "%s", (v = sqlite_col_text(st, 0)) ? v : "");
    snprintf(t->name, sizeof t->name, "%s", (v = sqlite_col_text(st, 1)) ? v : "");
    snprintf(t->scope, sizeof t->scope, "%s", (v = sqlite_col_text(st, 2)) ? v : "");
    snprintf(t->created_by, sizeof t->created_by, "%s", (v = sqlite_col_text(st, 3)) ? v : "");
    t->created_ms = sqlite3_column_int64(st, 4);
    t->revoked_ms = sqlite3_column_int64(st, 5);
}

enum tend_err sqlite_token_add(struct store *base, const struct store_token *t) {
    struct sqlite_store *s = sqlite_of(base);
    if (strlen(t->sha256) != 64 || !t->name[0] || !t->scope[0]) {
        store_set_error(base, "a token needs a SHA-256 (64 hex digits), a name and a scope");
        return TEND_ERR_INVALID;
    }
    sqlite3_stmt *st = sqlite_stmt(s, q_token_add);
    sqlite_bind_text(st, 1, t->sha256);
    sqlite_bind_text(st, 2, t->name);
    sqlite_bind_text(st, 3, t->scope);
    sqlite_bind_text(st, 4, t->created_by);
    sqlite3_bind_int64(st, 5, t->created_ms);
    enum tend_err e = sqlite_done(s, st, "adding a token");
    if (!e && sqlite_changes(s) == 0) {
        store_set_error(base, "a token with this name exists already");
        e = TEND_ERR_CONFLICT;
    }
    return e;
}

enum tend_err sqlite_token_find(struct store *base, const char *sha256, struct store_token *out,
                                bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    *found = false;
    if (!sha256 || strlen(sha256) != 64)
        return TEND_OK;
    sqlite3_stmt *st = sqlite_stmt(s, q_token_find);
    sqlite_bind_text(st, 1, sha256);
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW) {
        token_of(st, out);
        *found = true;
    }
    enum tend_err e =
        rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading a token");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

enum tend_err sqlite_token_revoke(struct store *base, const char *name, int64_t now_ms) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_token_revoke);
    sqlite_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, now_ms);
    enum tend_err e = sqlite_done(s, st, "revoking a token");
    if (!e && sqlite_changes(s) == 0) {
        store_set_error(base, "no such token in use");
        e = TEND_ERR_NOTFOUND;
    }
    return e;
}

enum tend_err sqlite_tokens_each(struct store *base,
                                 void (*fn)(void *arg, const struct store_token *t), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_tokens_each);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_token t;
        token_of(st, &t);
        fn(arg, &t);
    }
    enum tend_err e = rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing tokens");
    sqlite3_reset(st);
    return e;
}
