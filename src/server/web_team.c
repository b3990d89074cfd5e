/* web_team.c: the people of the team, their one-time links and the audit
 * log, as pages and API endpoints (routes in web_routes.c's table, all PERM_ADMIN
 * but /invite/, which the link's secret opens); and the lookups of whose an
 * account or a CTA is, for the book check of a csm.
 *
 * An admin invites a person by email with a role: the person is stored
 * without a password and a one-time link is made, its token shown once and
 * only its SHA-256 kept (INVITE_HOURS to use it). Resetting a password makes
 * another link (RESET_HOURS); the old password works until the link is
 * used. Disabling a person ends their sessions at once (they are no longer
 * found on the next request, and their session epoch moves on). Every
 * change is written to the audit log in the transaction of the change.
 * tend.yaml's people are shown but cannot be changed here: the file is the
 * record of an automated set-up, and on a clash of emails it wins. An admin
 * cannot change their own role or disable themselves (so that the last
 * admin cannot lock everyone out by a slip). */
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/audit.h"
#include "eval/ctas.h"
#include "eval/owner.h"
#include "server/dash_team.h"
#include "server/status.h"
#include "server/web.h"
#include "server/web_int.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"

#define INVITE_HOURS   (7 * 24)
#define RESET_HOURS    24
#define TOKEN_BYTES    32 /* random bytes of a one-time link's token (64 hex digits) */
#define AUDIT_PAGE     50
#define AUDIT_PAGE_MAX 500
#define NAME_MAX_BYTES STORE_TEAM_NAME_MAX_BYTES

/* ---- whose is it ------------------------------------------------------------ */

static bool same_email(const char *a, const char *b) {
    return a && b && a[0] && g_ascii_strcasecmp(a, b) == 0;
}

struct owner_seen {
    const char *email;
    bool mine, found;
};

static int on_account(void *arg, const struct store_account_row *row) {
    struct owner_seen *o = arg;
    o->found = true;
    o->mine = o->mine || same_email(row->f.csm_email, o->email);
    return 1;
}

enum tend_err web_account_is_mine(struct store *s, const char *external_id, const char *email,
                                  bool *mine, bool *found) {
    int64_t id = 0;
    enum tend_err e = store_account_find(s, external_id, &id);
    *mine = *found = false;
    if (e == TEND_ERR_NOTFOUND)
        return TEND_OK;
    struct owner_seen o = {.email = email};
    if (!e)
        e = store_account_get(s, id, on_account, &o);
    if (e == TEND_ERR_NOTFOUND)
        return TEND_OK;
    *mine = o.mine;
    *found = o.found;
    return e;
}

enum tend_err web_cta_is_mine(struct store *s, const char *id_text, const char *email, bool *mine,
                              bool *found) {
    *mine = *found = false;
    size_t n = strspn(id_text, "0123456789");
    if (n == 0 || n > 15 || id_text[n])
        return TEND_OK; /* the handler says what is wrong with it */
    struct store_cta c;
    enum tend_err e = eval_cta_get(s, strtoll(id_text, NULL, 10), &c);
    if (e == TEND_ERR_NOTFOUND)
        return TEND_OK;
    if (e)
        return e;
    *found = true;
    e = eval_cta_is_mine(s, &c, email, mine); /* eval/owner.h: Slack's buttons decide alike */
    eval_cta_release(&c);
    return e;
}

bool web_find_person(void *arg, const char *email, struct auth_user *out) {
    struct store *s = arg;
    struct store_team_user u;
    bool found = false;
    if (!s || store_team_user_get(s, email, &u, &found) || !found || u.disabled)
        return false;
    memset(out, 0, sizeof *out);
    snprintf(out->email, sizeof out->email, "%s", u.email);
    snprintf(out->name, sizeof out->name, "%s", u.name);
    snprintf(out->hash, sizeof out->hash, "%s", u.hash);
    if (!perm_role_parse(u.role, &out->role))
        out->role = PERM_ROLE_VIEWER; /* never more than the least */
    return true;
}

/* ---- the list of people -------------------------------------------------------- */

static cJSON *person_json(const char *email, const char *name, const char *role, bool disabled,
                          bool has_password, const char *source) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "email", email);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "role", role);
    cJSON_AddBoolToObject(o, "disabled", disabled);
    cJSON_AddBoolToObject(o, "has_password", has_password);
    cJSON_AddStringToObject(o, "source", source);
    return o;
}

static void on_person(void *arg, const struct store_team_user *u) {
    cJSON *o = person_json(u->email, u->name, u->role, u->disabled, u->hash[0] != '\0', "app");
    char when[32];
    dt_format_instant(u->changed_ms, when);
    cJSON_AddStringToObject(o, "changed", when);
    cJSON_AddItemToArray(arg, o);
}

static enum tend_err users_view(struct req *r, struct store *s, cJSON **out) {
    const struct serve_config *c = auth_config(web_auth(r));
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < c->n_users; i++)
        cJSON_AddItemToArray(arr, person_json(c->users[i].email, c->users[i].name,
                                              perm_role_name(c->users[i].role), false, true,
                                              "tend.yaml"));
    enum tend_err e = store_team_users_each(s, on_person, arr);
    if (e) {
        cJSON_Delete(arr);
        return e;
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "users", arr);
    return TEND_OK;
}

enum MHD_Result web_h_users(struct req *r, struct store *s) {
    cJSON *view = NULL;
    if (users_view(r, s, &view))
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(s));
    if (r->api)
        return web_send_json(r, MHD_HTTP_OK, view);
    struct dash_ctx ctx;
    web_ctx(r, &ctx);
    struct buf b;
    buf_init(&b, 0);
    dash_users_page(&b, &ctx, view, NULL);
    cJSON_Delete(view);
    return web_send_page(r, MHD_HTTP_OK, &b);
}

/* ---- one-time links ------------------------------------------------------------------ */

static void sha256_hex(const char *token, char hex[2 * crypto_hash_sha256_BYTES + 1]) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, 2 * crypto_hash_sha256_BYTES + 1, h, sizeof h);
}

/* Makes a link for email valid for hours: stored hashed, its URL (malloced)
 * in *url. In the caller's transaction. */
static enum tend_err link_make(struct req *r, struct store *s, const char *email, int hours,
                               int64_t now, char **url) {
    unsigned char raw[TOKEN_BYTES];
    char token[2 * TOKEN_BYTES + 1], hash[2 * crypto_hash_sha256_BYTES + 1];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token, sizeof token, raw, sizeof raw);
    sha256_hex(token, hash);
    enum tend_err e =
        store_invite_add(s, hash, email, now + (int64_t)hours * 3600000LL, web_actor(r), now);
    if (!e) {
        const char *base = web_base_url(r);
        size_t bl = base ? strlen(base) : 0;
        while (bl && base[bl - 1] == '/')
            bl--;
        *url = g_strdup_printf("%.*s/invite/%s", (int)bl, base ? base : "", token);
    }
    sodium_memzero(token, sizeof token);
    return e;
}

/* ---- bounds of what an admin types ------------------------------------------------- */

static bool email_ok(const char *e) {
    if (!e || !e[0] || strlen(e) > STORE_EMAIL_MAX_BYTES)
        return false;
    const char *at = strchr(e, '@');
    if (!at || at == e || !at[1] || strchr(at + 1, '@'))
        return false;
    for (const char *c = e; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '/' || *c == '"' || *c == '<' || *c == '>')
            return false;
    return true;
}

static bool name_ok(const char *n) {
    if (!n)
        return true;
    if (strlen(n) > NAME_MAX_BYTES || !g_utf8_validate(n, -1, NULL))
        return false;
    for (const char *c = n; *c; c++)
        if ((unsigned char)*c < ' ')
            return false;
    return true;
}

static const struct serve_user *config_user(struct req *r, const char *email) {
    const struct serve_config *c = auth_config(web_auth(r));
    for (size_t i = 0; i < c->n_users; i++)
        if (g_ascii_strcasecmp(c->users[i].email, email) == 0)
            return &c->users[i];
    return NULL;
}

/* A refusal (status, msg) of an admin's change, or its success with the
 * link made (url, NULL: none) and the person's email. */
static enum MHD_Result change_answer(struct req *r, struct store *s, unsigned status,
                                     const char *msg, const char *email, const char *url) {
    if (r->api) {
        if (status != MHD_HTTP_OK)
            return web_json_error(r, status, msg);
        cJSON *o = cJSON_CreateObject();
        struct store_team_user u;
        bool found = false;
        if (!store_team_user_get(s, email, &u, &found) && found)
            cJSON_AddItemToObject(
                o, "user",
                person_json(u.email, u.name, u.role, u.disabled, u.hash[0] != '\0', "app"));
        cJSON_AddStringToObject(o, "message", msg);
        if (url)
            cJSON_AddStringToObject(o, "link", url);
        return web_send_json(r, MHD_HTTP_OK, o);
    }
    if (status != MHD_HTTP_OK || !url)
        return web_redirect(r, "/users", msg, status != MHD_HTTP_OK);
    /* The link is shown once, on this page, and never again. */
    cJSON *view = NULL;
    if (users_view(r, s, &view))
        return web_page_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(s));
    struct dash_ctx ctx;
    web_ctx(r, &ctx);
    ctx.flash = msg;
    ctx.flash_error = false;
    struct buf b;
    buf_init(&b, 0);
    dash_users_page(&b, &ctx, view, url);
    cJSON_Delete(view);
    return web_send_page(r, MHD_HTTP_OK, &b);
}

static cJSON *state_json(const struct store_team_user *u) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "email", u->email);
    cJSON_AddStringToObject(o, "name", u->name);
    cJSON_AddStringToObject(o, "role", u->role);
    cJSON_AddBoolToObject(o, "disabled", u->disabled);
    cJSON_AddBoolToObject(o, "has_password", u->hash[0] != '\0');
    return o;
}

/* POST /users: invite {email, name, role}. */
enum MHD_Result web_h_user_add(struct req *r, struct store *s) {
    const char *email = view_param(&r->form, "email"), *name = view_param(&r->form, "name"),
               *role = view_param(&r->form, "role");
    enum perm_role pr;
    if (!email_ok(email))
        return change_answer(r, s, MHD_HTTP_BAD_REQUEST,
                             "email: must be an email address of at most 320 bytes", NULL, NULL);
    if (!name_ok(name))
        return change_answer(r, s, MHD_HTTP_BAD_REQUEST,
                             "name: at most 200 bytes of text, without control characters", NULL,
                             NULL);
    if (!role || !perm_role_parse(role, &pr))
        return change_answer(r, s, MHD_HTTP_BAD_REQUEST, "role: must be admin, lead, csm or viewer",
                             NULL, NULL);
    if (config_user(r, email))
        return change_answer(r, s, MHD_HTTP_CONFLICT,
                             "this email is a user of tend.yaml (serve.users): change it there",
                             NULL, NULL);
    int64_t now = dt_now_ms();
    struct store_team_user u = {.created_ms = now};
    char *low = g_ascii_strdown(email, -1);
    snprintf(u.email, sizeof u.email, "%s", low);
    g_free(low);
    snprintf(u.name, sizeof u.name, "%s", name && name[0] ? name : u.email);
    snprintf(u.role, sizeof u.role, "%s", perm_role_name(pr));
    char *url = NULL;
    enum tend_err e = store_begin(s, NULL);
    if (!e)
        e = store_team_user_add(s, &u);
    if (!e)
        e = link_make(r, s, u.email, INVITE_HOURS, now, &url);
    if (!e) {
        cJSON *after = state_json(&u);
        char target[400];
        snprintf(target, sizeof target, "user:%s", u.email);
        e = audit_record(s, now, web_actor(r), "user.invite", target, NULL, after);
        cJSON_Delete(after);
    }
    if (!e)
        e = store_commit(s);
    if (e) {
        store_rollback(s);
        g_free(url);
        return change_answer(r, s, e == TEND_ERR_CONFLICT ? MHD_HTTP_CONFLICT : http_status_of(e),
                             e == TEND_ERR_CONFLICT ? "a person with this email exists already"
                                                    : store_last_error(s),
                             NULL, NULL);
    }
    char msg[600];
    snprintf(msg, sizeof msg,
             "Invited %s as %s: send them the one-time link below (valid %d days, shown once).",
             u.email, u.role, INVITE_HOURS / 24);
    enum MHD_Result ret = change_answer(r, s, MHD_HTTP_OK, msg, u.email, url);
    g_free(url);
    return ret;
}

/* POST /users/{email}/{role,disable,enable,reset}. */
enum MHD_Result web_h_user_change(struct req *r, struct store *s) {
    const char *email = r->cap[0], *verb = r->cap[1];
    if (!email_ok(email))
        return change_answer(r, s, MHD_HTTP_BAD_REQUEST, "not an email address", NULL, NULL);
    if (strcmp(verb, "role") != 0 && strcmp(verb, "disable") != 0 && strcmp(verb, "enable") != 0 &&
        strcmp(verb, "reset") != 0)
        return change_answer(r, s, MHD_HTTP_NOT_FOUND,
                             "no such change (role, disable, enable, reset)", NULL, NULL);
    if (config_user(r, email))
        return change_answer(r, s, MHD_HTTP_CONFLICT,
                             "this person is a user of tend.yaml (serve.users): change them there",
                             NULL, NULL);
    bool self = r->user && g_ascii_strcasecmp(r->user->email, email) == 0;
    if (self && strcmp(verb, "reset") != 0)
        return change_answer(r, s, MHD_HTTP_CONFLICT,
                             "you cannot change your own role or disable yourself: ask another "
                             "admin",
                             NULL, NULL);
    enum perm_role pr = PERM_ROLE_VIEWER;
    const char *role = view_param(&r->form, "role");
    if (strcmp(verb, "role") == 0 && (!role || !perm_role_parse(role, &pr)))
        return change_answer(r, s, MHD_HTTP_BAD_REQUEST, "role: must be admin, lead, csm or viewer",
                             NULL, NULL);
    int64_t now = dt_now_ms();
    struct store_team_user before, after;
    bool found = false;
    char *url = NULL;
    enum tend_err e = store_begin(s, NULL);
    if (!e)
        e = store_team_user_get(s, email, &before, &found);
    if (!e && !found) {
        store_rollback(s);
        return change_answer(r, s, MHD_HTTP_NOT_FOUND, "no such person", NULL, NULL);
    }
    char action[32];
    snprintf(action, sizeof action, "user.%s", verb);
    if (!e && strcmp(verb, "role") == 0)
        e = store_team_user_set_role(s, before.email, perm_role_name(pr), now);
    else if (!e && (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0))
        e = store_team_user_set_disabled(s, before.email, verb[0] == 'd', now);
    else if (!e)
        e = link_make(r, s, before.email, RESET_HOURS, now, &url);
    if (!e && strcmp(verb, "disable") == 0) {
        int64_t epoch; /* and every session made before ends, whatever comes next */
        e = store_session_epoch_bump(s, before.email, now, &epoch);
    }
    if (!e)
        e = store_team_user_get(s, before.email, &after, &found);
    if (!e) {
        cJSON *b = state_json(&before), *a = state_json(&after);
        char target[400];
        snprintf(target, sizeof target, "user:%s", before.email);
        e = audit_record(s, now, web_actor(r), action, target, b, a);
        cJSON_Delete(b);
        cJSON_Delete(a);
    }
    if (!e)
        e = store_commit(s);
    if (e) {
        store_rollback(s);
        g_free(url);
        return change_answer(r, s, http_status_of(e), store_last_error(s), NULL, NULL);
    }
    char msg[600];
    if (url)
        snprintf(msg, sizeof msg,
                 "A password reset link for %s: send it to them (valid %d hours, shown once). "
                 "Their current password works until they use it.",
                 before.email, RESET_HOURS);
    else if (strcmp(verb, "role") == 0)
        snprintf(msg, sizeof msg, "%s is now %s.", before.email, after.role);
    else
        snprintf(msg, sizeof msg, "%s is %s.", before.email,
                 after.disabled ? "disabled: their sessions have ended" : "enabled");
    enum MHD_Result ret = change_answer(r, s, MHD_HTTP_OK, msg, before.email, url);
    g_free(url);
    return ret;
}

/* ---- the audit log --------------------------------------------------------------------- */

struct audit_rows {
    cJSON *arr;
    int64_t last_id;
    int n;
};

static void on_audit(void *arg, const struct store_audit *a) {
    struct audit_rows *rows = arg;
    cJSON *o = cJSON_CreateObject();
    char when[32];
    dt_format_instant(a->at_ms, when);
    cJSON_AddNumberToObject(o, "id", (double)a->id);
    cJSON_AddStringToObject(o, "at", when);
    cJSON_AddStringToObject(o, "actor", a->actor);
    cJSON_AddStringToObject(o, "action", a->action);
    cJSON_AddStringToObject(o, "target", a->target);
    const char *keys[] = {"before", "after"}, *vals[] = {a->before, a->after};
    for (int i = 0; i < 2; i++) {
        cJSON *v = vals[i] ? cJSON_Parse(vals[i]) : NULL;
        if (v)
            cJSON_AddItemToObject(o, keys[i], v);
        else
            cJSON_AddNullToObject(o, keys[i]);
    }
    cJSON_AddItemToArray(rows->arr, o);
    rows->last_id = a->id;
    rows->n++;
}

enum MHD_Result web_h_audit(struct req *r, struct store *s) {
    const char *before = view_param(&r->query, "before"), *limit = view_param(&r->query, "limit");
    long long b = 0, l = AUDIT_PAGE;
    char *end;
    if (before && before[0]) {
        b = strtoll(before, &end, 10);
        if (*end || b <= 0)
            return web_error(r, MHD_HTTP_BAD_REQUEST, "before: must be an entry id (a number)");
    }
    if (limit && limit[0]) {
        l = strtoll(limit, &end, 10);
        if (*end || l < 1 || l > AUDIT_PAGE_MAX)
            return web_error(r, MHD_HTTP_BAD_REQUEST, "limit: must be 1 to 500");
    }
    struct audit_rows rows = {.arr = cJSON_CreateArray()};
    int64_t total = 0;
    enum tend_err e = store_audit_page(s, b, (int)l, on_audit, &rows);
    if (!e)
        e = store_audit_count(s, &total);
    if (e) {
        cJSON_Delete(rows.arr);
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(s));
    }
    cJSON *view = cJSON_CreateObject();
    cJSON_AddItemToObject(view, "entries", rows.arr);
    cJSON_AddNumberToObject(view, "total", (double)total);
    if (rows.n == l && rows.last_id > 1)
        cJSON_AddNumberToObject(view, "next_before", (double)rows.last_id);
    else
        cJSON_AddNullToObject(view, "next_before");
    if (r->api)
        return web_send_json(r, MHD_HTTP_OK, view);
    struct dash_ctx ctx;
    web_ctx(r, &ctx);
    struct buf out;
    buf_init(&out, 0);
    dash_audit_page(&out, &ctx, view);
    cJSON_Delete(view);
    return web_send_page(r, MHD_HTTP_OK, &out);
}

/* ---- /invite/TOKEN: choosing a password ------------------------------------------------ */

static enum MHD_Result invite_page(struct req *r, unsigned status, const char *email,
                                   const char *error) {
    struct buf b;
    buf_init(&b, 0);
    dash_invite_page(&b, r->url, email, error);
    return web_send_page(r, status, &b);
}

/* GET shows the form of a valid link; POST {password, password2} sets the
 * password and uses the link up, in one transaction with its audit entry.
 * Answers the same "not valid" to an unknown, used or expired link. */
enum MHD_Result web_h_invite(struct req *r, struct store *unused) {
    (void)unused;
    const char *token = r->cap[0];
    char hash[2 * crypto_hash_sha256_BYTES + 1], email[STORE_EMAIL_MAX_BYTES + 1] = "";
    if (strlen(token) != 2 * TOKEN_BYTES || strspn(token, "0123456789abcdef") != 2 * TOKEN_BYTES)
        return invite_page(r, MHD_HTTP_NOT_FOUND, NULL, NULL);
    sha256_hex(token, hash);
    char err[STORE_ERR_BYTES];
    struct store *s = web_pool_get(r, err);
    if (!s)
        return web_page_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, err);
    int64_t now = dt_now_ms();
    bool found = false;
    enum MHD_Result ret;
    enum tend_err e = store_invite_peek(s, hash, now, email, &found);
    if (e || !found) {
        ret = e ? web_page_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(s))
                : invite_page(r, MHD_HTTP_NOT_FOUND, NULL, NULL);
        goto out;
    }
    if (strcmp(r->method, "POST") != 0) {
        ret = invite_page(r, MHD_HTTP_OK, email, NULL);
        goto out;
    }
    const char *pw = view_param(&r->form, "password"), *pw2 = view_param(&r->form, "password2");
    size_t n = pw ? strlen(pw) : 0;
    if (n < WEB_PASSWORD_MIN_BYTES || n > WEB_PASSWORD_MAX_BYTES) {
        ret = invite_page(r, MHD_HTTP_BAD_REQUEST, email,
                          "The password must be 10 to 1024 characters long.");
        goto out;
    }
    if (!pw2 || strcmp(pw, pw2) != 0) {
        ret = invite_page(r, MHD_HTTP_BAD_REQUEST, email, "The two passwords differ.");
        goto out;
    }
    char pwhash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(pwhash, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
        ret = invite_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, email,
                          "The server is short of memory: try again in a moment.");
        goto out;
    }
    char used_by[STORE_EMAIL_MAX_BYTES + 1];
    e = store_begin(s, NULL);
    if (!e)
        e = store_invite_take(s, hash, now, used_by, &found);
    if (!e && !found) { /* used a moment ago, by another request */
        store_rollback(s);
        ret = invite_page(r, MHD_HTTP_NOT_FOUND, NULL, NULL);
        goto out;
    }
    if (!e)
        e = store_team_user_set_hash(s, used_by, pwhash, now);
    if (!e) {
        char target[400];
        snprintf(target, sizeof target, "user:%s", used_by);
        e = audit_record(s, now, used_by, "user.password_set", target, NULL, NULL);
    }
    if (!e)
        e = store_commit(s);
    sodium_memzero(pwhash, sizeof pwhash);
    if (e) {
        store_rollback(s);
        ret = e == TEND_ERR_NOTFOUND ? invite_page(r, MHD_HTTP_NOT_FOUND, NULL, NULL)
                                     : web_page_error(r, http_status_of(e), store_last_error(s));
        goto out;
    }
    ret = web_redirect(r, "/login?password_set=1", NULL, false);
out:
    web_pool_put(r, s);
    return ret;
}

/* ---- the configuration, as a node starts with it -------------------------------- */

void web_audit_config(struct store *s, const struct serve_config *c, int64_t now_ms) {
    cJSON *after = cJSON_CreateObject(), *users = cJSON_CreateArray(),
          *tokens = cJSON_CreateArray();
    for (size_t i = 0; i < c->n_users; i++) {
        cJSON *u = cJSON_CreateObject();
        cJSON_AddStringToObject(u, "email", c->users[i].email);
        cJSON_AddStringToObject(u, "role", perm_role_name(c->users[i].role));
        cJSON_AddItemToArray(users, u);
    }
    for (size_t i = 0; i < c->n_tokens; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", c->tokens[i].name);
        cJSON_AddStringToObject(t, "scope", perm_scope_name(c->tokens[i].scope));
        cJSON_AddItemToArray(tokens, t);
    }
    cJSON_AddItemToObject(after, "users", users);
    cJSON_AddItemToObject(after, "tokens", tokens);
    cJSON_AddStringToObject(after, "csm_reads", c->csm_own_book_only ? "own_book" : "all");
    if (c->sso)
        cJSON_AddStringToObject(after, "sso_issuer", c->sso->issuer);
    else
        cJSON_AddNullToObject(after, "sso_issuer");
    /* A very large tend.yaml (1,000 users) is kept as its counts only. */
    char *text = cJSON_PrintUnformatted(after);
    if (strlen(text) > STORE_AUDIT_JSON_MAX) {
        cJSON_Delete(after);
        after = cJSON_CreateObject();
        cJSON_AddNumberToObject(after, "users", (double)c->n_users);
        cJSON_AddNumberToObject(after, "tokens", (double)c->n_tokens);
    }
    cJSON_free(text);
    if (audit_record(s, now_ms, "tend serve", "config.load", "tend.yaml", NULL, after))
        log_printf("tend serve: the audit log: %s", store_last_error(s));
    cJSON_Delete(after);
}
