/* pg_team.c: the people of the team, their one-time links and the audit log
 * in PostgreSQL (see store.h); the results those of sqlite_team.c.
 *
 * Each write is one statement, safe with several nodes at once: adding a
 * person is INSERT ... ON CONFLICT DO NOTHING (the key decides), a change is
 * one UPDATE of one field, a one-time link is used by one UPDATE ... WHERE
 * used_ms IS NULL RETURNING (a second node's UPDATE waits for the first's
 * commit, then finds the row used). The audit log has INSERT only (and a
 * trigger refuses anything else). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "store/pg_int.h"

static const char q_add[] =
    "INSERT INTO team_users (email, name, hash, role, disabled, created_ms, changed_ms) "
    "VALUES ($1, $2, $3, $4, $5::boolean, $6::bigint, $6::bigint) ON CONFLICT (email) DO NOTHING";
static const char q_get[] = "SELECT email, name, hash, role, disabled, created_ms, changed_ms "
                            "FROM team_users WHERE email = $1";
static const char q_each[] = "SELECT email, name, hash, role, disabled, created_ms, changed_ms "
                             "FROM team_users ORDER BY email COLLATE \"C\"";
static const char q_set_role[] =
    "UPDATE team_users SET role = $2, changed_ms = $3::bigint WHERE email = $1";
static const char q_set_hash[] =
    "UPDATE team_users SET hash = $2, changed_ms = $3::bigint WHERE email = $1";
static const char q_set_disabled[] =
    "UPDATE team_users SET disabled = $2::boolean, changed_ms = $3::bigint WHERE email = $1";
static const char q_invite_add[] =
    "INSERT INTO team_invites (hash, email, created_by, created_ms, expires_ms) "
    "VALUES ($1, $2, $3, $4::bigint, $5::bigint)";
static const char q_invite_take[] =
    "UPDATE team_invites SET used_ms = $2::bigint "
    "WHERE hash = $1 AND used_ms IS NULL AND expires_ms > $2::bigint RETURNING email";
static const char q_invite_peek[] =
    "SELECT email FROM team_invites "
    "WHERE hash = $1 AND used_ms IS NULL AND expires_ms > $2::bigint";
static const char q_audit_add[] =
    "INSERT INTO audit_log (at_ms, actor, action, target, before_json, after_json) "
    "VALUES ($1::bigint, $2, $3, $4, $5, $6) RETURNING id";
static const char q_audit_page[] =
    "SELECT id, at_ms, actor, action, target, before_json, after_json FROM audit_log "
    "WHERE id < $1::bigint ORDER BY id DESC LIMIT $2::bigint";
static const char q_audit_count[] = "SELECT count(*) FROM audit_log";

static bool too_long(struct pg_store *s, const char *what, const char *v, size_t max) {
    if (v && strlen(v) > max) {
        snprintf(s->err, sizeof s->err, "%s: over %zu bytes", what, max);
        return true;
    }
    return false;
}

static void row_of(const PGresult *r, int i, struct store_team_user *u) {
    memset(u, 0, sizeof *u);
    snprintf(u->email, sizeof u->email, "%s", pg_text(r, i, 0) ? pg_text(r, i, 0) : "");
    snprintf(u->name, sizeof u->name, "%s", pg_text(r, i, 1) ? pg_text(r, i, 1) : "");
    snprintf(u->hash, sizeof u->hash, "%s", pg_text(r, i, 2) ? pg_text(r, i, 2) : "");
    snprintf(u->role, sizeof u->role, "%s", pg_text(r, i, 3) ? pg_text(r, i, 3) : "");
    u->disabled = pg_bool(r, i, 4);
    u->created_ms = pg_i64(r, i, 5);
    u->changed_ms = pg_i64(r, i, 6);
}

enum tend_err pg_team_user_add(struct store *base, const struct store_team_user *u) {
    struct pg_store *s = pg_of(base);
    if (!u->email[0] || !u->role[0]) {
        snprintf(s->err, sizeof s->err, "a person needs an email and a role");
        return TEND_ERR_INVALID;
    }
    char *key = g_ascii_strdown(u->email, -1);
    struct pg_params p = {0};
    pg_p_text(&p, key);
    pg_p_text(&p, u->name[0] ? u->name : key);
    pg_p_text(&p, u->hash);
    pg_p_text(&p, u->role);
    pg_p_bool(&p, u->disabled);
    pg_p_i64(&p, u->created_ms);
    enum tend_err e = pg_run(s, q_add, &p, "adding a person");
    g_free(key);
    if (!e && s->changes == 0) {
        snprintf(s->err, sizeof s->err, "a person with this email exists already");
        e = TEND_ERR_CONFLICT;
    }
    return e;
}

enum tend_err pg_team_user_get(struct store *base, const char *email, struct store_team_user *out,
                               bool *found) {
    struct pg_store *s = pg_of(base);
    *found = false;
    if (!email || too_long(s, "email", email, STORE_EMAIL_MAX_BYTES))
        return email ? TEND_ERR_LIMIT : TEND_OK;
    char *key = g_ascii_strdown(email, -1);
    struct pg_params p = {0};
    pg_p_text(&p, key);
    PGresult *r = NULL;
    enum tend_err e = pg_query(s, q_get, &p, "reading a person", &r);
    g_free(key);
    if (!e && PQntuples(r) == 1) {
        row_of(r, 0, out);
        *found = true;
    }
    PQclear(r);
    return e;
}

enum tend_err pg_team_user_set(struct store *base, const char *email, const char *field,
                               const char *value, int64_t now_ms) {
    struct pg_store *s = pg_of(base);
    const char *q = strcmp(field, "role") == 0   ? q_set_role
                    : strcmp(field, "hash") == 0 ? q_set_hash
                                                 : q_set_disabled;
    if (!email || too_long(s, "email", email, STORE_EMAIL_MAX_BYTES) ||
        too_long(s, field, value, STORE_TEAM_HASH_MAX_BYTES))
        return TEND_ERR_LIMIT;
    char *key = g_ascii_strdown(email, -1);
    struct pg_params p = {0};
    pg_p_text(&p, key);
    if (q == q_set_disabled)
        pg_p_bool(&p, strcmp(value, "1") == 0);
    else
        pg_p_text(&p, value ? value : "");
    pg_p_i64(&p, now_ms);
    enum tend_err e = pg_run(s, q, &p, "changing a person");
    g_free(key);
    if (!e && s->changes == 0) {
        snprintf(s->err, sizeof s->err, "no such person");
        e = TEND_ERR_NOTFOUND;
    }
    return e;
}

enum tend_err pg_team_users_each(struct store *base,
                                 void (*fn)(void *arg, const struct store_team_user *u),
                                 void *arg) {
    struct pg_store *s = pg_of(base);
    PGresult *r = NULL;
    enum tend_err e = pg_query(s, q_each, NULL, "listing people", &r);
    for (int i = 0; !e && i < PQntuples(r); i++) {
        struct store_team_user u;
        row_of(r, i, &u);
        fn(arg, &u);
    }
    PQclear(r);
    return e;
}

enum tend_err pg_invite_add(struct store *base, const char *hash, const char *email,
                            int64_t expires_ms, const char *by, int64_t now_ms) {
    struct pg_store *s = pg_of(base);
    if (!hash || strlen(hash) != STORE_INVITE_HASH_BYTES || !email) {
        snprintf(s->err, sizeof s->err,
                 "a one-time link needs a SHA-256 (64 hex digits) and an email");
        return TEND_ERR_LIMIT;
    }
    if (too_long(s, "email", email, STORE_EMAIL_MAX_BYTES) ||
        too_long(s, "by", by, STORE_AUDIT_TEXT_MAX))
        return TEND_ERR_LIMIT;
    char *key = g_ascii_strdown(email, -1);
    struct pg_params p = {0};
    pg_p_text(&p, hash);
    pg_p_text(&p, key);
    pg_p_text(&p, by ? by : "");
    pg_p_i64(&p, now_ms);
    pg_p_i64(&p, expires_ms);
    enum tend_err e = pg_run(s, q_invite_add, &p, "storing a one-time link");
    g_free(key);
    return e;
}

enum tend_err pg_invite_take(struct store *base, const char *hash, int64_t now_ms, bool take,
                             char *email, bool *found) {
    struct pg_store *s = pg_of(base);
    *found = false;
    if (!hash || strlen(hash) != STORE_INVITE_HASH_BYTES)
        return TEND_OK;
    struct pg_params p = {0};
    pg_p_text(&p, hash);
    pg_p_i64(&p, now_ms);
    PGresult *r = NULL;
    enum tend_err e =
        pg_query(s, take ? q_invite_take : q_invite_peek, &p, "using a one-time link", &r);
    if (!e && PQntuples(r) == 1) {
        snprintf(email, STORE_EMAIL_MAX_BYTES + 1, "%s", pg_text(r, 0, 0));
        *found = true;
    }
    PQclear(r);
    return e;
}

enum tend_err pg_audit_append(struct store *base, const struct store_audit *a, int64_t *id) {
    struct pg_store *s = pg_of(base);
    if (!a->actor || !a->action || !a->target) {
        snprintf(s->err, sizeof s->err, "an audit entry needs an actor, an action and a target");
        return TEND_ERR_INVALID;
    }
    if (too_long(s, "audit actor", a->actor, STORE_AUDIT_TEXT_MAX) ||
        too_long(s, "audit action", a->action, STORE_AUDIT_TEXT_MAX) ||
        too_long(s, "audit target", a->target, STORE_AUDIT_TEXT_MAX) ||
        too_long(s, "audit before", a->before, STORE_AUDIT_JSON_MAX) ||
        too_long(s, "audit after", a->after, STORE_AUDIT_JSON_MAX))
        return TEND_ERR_LIMIT;
    struct pg_params p = {0};
    pg_p_i64(&p, a->at_ms);
    pg_p_text(&p, a->actor);
    pg_p_text(&p, a->action);
    pg_p_text(&p, a->target);
    pg_p_text(&p, a->before);
    pg_p_text(&p, a->after);
    int64_t v = 0;
    enum tend_err e = pg_int(s, q_audit_add, &p, "writing the audit log", &v);
    if (!e)
        *id = v;
    return e;
}

enum tend_err pg_audit_page(struct store *base, int64_t before_id, int limit,
                            void (*fn)(void *arg, const struct store_audit *a), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, before_id > 0 ? before_id : INT64_MAX);
    pg_p_int(&p, limit > 0 ? limit : 0);
    PGresult *r = NULL;
    enum tend_err e = pg_query(s, q_audit_page, &p, "reading the audit log", &r);
    for (int i = 0; !e && i < PQntuples(r); i++) {
        struct store_audit a = {
            .id = pg_i64(r, i, 0),
            .at_ms = pg_i64(r, i, 1),
            .actor = pg_text(r, i, 2),
            .action = pg_text(r, i, 3),
            .target = pg_text(r, i, 4),
            .before = pg_text(r, i, 5),
            .after = pg_text(r, i, 6),
        };
        fn(arg, &a);
    }
    PQclear(r);
    return e;
}

enum tend_err pg_audit_count(struct store *base, int64_t *n) {
    return pg_int(pg_of(base), q_audit_count, NULL, "counting the audit log", n);
}

/* ---- API tokens made in the app ----------------------------------------------- */

static const char q_token_add[] =
    "INSERT INTO team_tokens (sha256, name, scope, created_by, created_ms) "
    "VALUES ($1, $2, $3, $4, $5::bigint) ON CONFLICT DO NOTHING";
static const char q_token_find[] =
    "SELECT sha256, name, scope, created_by, created_ms, revoked_ms FROM team_tokens "
    "WHERE sha256 = $1 AND revoked_ms IS NULL";
static const char q_token_revoke[] =
    "UPDATE team_tokens SET revoked_ms = $2::bigint WHERE name = $1 AND revoked_ms IS NULL";
static const char q_tokens_each[] =
    "SELECT sha256, name, scope, created_by, created_ms, revoked_ms FROM team_tokens "
    "ORDER BY name COLLATE \"C\"";

static void token_of(const PGresult *r, int i, struct store_token *t) {
    memset(t, 0, sizeof *t);
    const char *v;
    snprintf(t->sha256, sizeof t->sha256, "%s", (v = pg_text(r, i, 0)) ? v : "");
    snprintf(t->name, sizeof t->name, "%s", (v = pg_text(r, i, 1)) ? v : "");
    snprintf(t->scope, sizeof t->scope, "%s", (v = pg_text(r, i, 2)) ? v : "");
    snprintf(t->created_by, sizeof t->created_by, "%s", (v = pg_text(r, i, 3)) ? v : "");
    t->created_ms = pg_i64(r, i, 4);
    t->revoked_ms = pg_i64(r, i, 5);
}

enum tend_err pg_token_add(struct store *base, const struct store_token *t) {
    struct pg_store *s = pg_of(base);
    if (strlen(t->sha256) != 64 || !t->name[0] || !t->scope[0]) {
        snprintf(s->err, sizeof s->err,
                 "a token needs a SHA-256 (64 hex digits), a name and a scope");
        return TEND_ERR_INVALID;
    }
    struct pg_params p = {0};
    pg_p_text(&p, t->sha256);
    pg_p_text(&p, t->name);
    pg_p_text(&p, t->scope);
    pg_p_text(&p, t->created_by);
    pg_p_i64(&p, t->created_ms);
    enum tend_err e = pg_run(s, q_token_add, &p, "adding a token");
    if (!e && s->changes == 0) {
        snprintf(s->err, sizeof s->err, "a token with this name exists already");
        e = TEND_ERR_CONFLICT;
    }
    return e;
}

enum tend_err pg_token_find(struct store *base, const char *sha256, struct store_token *out,
                            bool *found) {
    struct pg_store *s = pg_of(base);
    *found = false;
    if (!sha256 || strlen(sha256) != 64)
        return TEND_OK;
    struct pg_params p = {0};
    pg_p_text(&p, sha256);
    PGresult *r = NULL;
    enum tend_err e = pg_query(s, q_token_find, &p, "reading a token", &r);
    if (!e && PQntuples(r) == 1) {
        token_of(r, 0, out);
        *found = true;
    }
    PQclear(r);
    return e;
}

enum tend_err pg_token_revoke(struct store *base, const char *name, int64_t now_ms) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, name);
    pg_p_i64(&p, now_ms);
    enum tend_err e = pg_run(s, q_token_revoke, &p, "revoking a token");
    if (!e && s->changes == 0) {
        snprintf(s->err, sizeof s->err, "no such token in use");
        e = TEND_ERR_NOTFOUND;
    }
    return e;
}

enum tend_err pg_tokens_each(struct store *base, void (*fn)(void *arg, const struct store_token *t),
                             void *arg) {
    struct pg_store *s = pg_of(base);
    PGresult *r = NULL;
    enum tend_err e = pg_query(s, q_tokens_each, NULL, "listing tokens", &r);
    for (int i = 0; !e && i < PQntuples(r); i++) {
        struct store_token t;
        token_of(r, i, &t);
        fn(arg, &t);
    }
    PQclear(r);
    return e;
}
