/* web_tokens.c: API tokens an admin makes in the app (routes in web_routes.c's
 * table, PERM_ADMIN), beside tend.yaml's serve.tokens.
 *
 * A token is 32 random bytes as "tend_" and 64 hex digits, shown once when it
 * is made; the store keeps its SHA-256 only, with its name (unique, and not
 * one of tend.yaml's), its scope and who made it. A bearer value is looked
 * up in tend.yaml first, then in the store; a revoked token is refused at
 * once (401 unknown API token). Making and revoking are written to the audit
 * log in their transaction. */
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "eval/audit.h"
#include "server/dash_team.h"
#include "server/status.h"
#include "server/web_int.h"
#include "util/datetime.h"

#define BEARER_MAX_BYTES 200

static void sha256_hex(const char *text, char hex[65]) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(hex, 65, h, sizeof h);
}

bool web_token_of(struct req *r, struct store **s, const char *bearer, char *err) {
    r->token = NULL;
    if (!bearer || !bearer[0] || strlen(bearer) > BEARER_MAX_BYTES)
        return true;
    if ((r->token = auth_token(web_auth(r), bearer)))
        return true;
    if (!*s && !(*s = web_pool_get(r, err)))
        return false;
    char hex[65];
    sha256_hex(bearer, hex);
    struct store_token t;
    bool found = false;
    if (store_token_find(*s, hex, &t, &found)) {
        snprintf(err, STORE_ERR_BYTES, "%s", store_last_error(*s));
        return false;
    }
    enum perm_scope scope;
    if (!found || !perm_scope_parse(t.scope, &scope))
        return true;
    snprintf(r->token_name, sizeof r->token_name, "%s", t.name);
    r->token_buf = (struct serve_token){.name = r->token_name, .scope = scope};
    r->token = &r->token_buf;
    return true;
}

static void on_token(void *arg, const struct store_token *t) {
    cJSON *o = cJSON_CreateObject();
    char when[32];
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "scope", t->scope);
    cJSON_AddStringToObject(o, "created_by", t->created_by);
    dt_format_instant(t->created_ms, when);
    cJSON_AddStringToObject(o, "created", when);
    if (t->revoked_ms) {
        dt_format_instant(t->revoked_ms, when);
        cJSON_AddStringToObject(o, "revoked", when);
    } else {
        cJSON_AddNullToObject(o, "revoked");
    }
    cJSON_AddStringToObject(o, "source", "app");
    cJSON_AddItemToArray(arg, o);
}

static enum tend_err tokens_view(struct req *r, struct store *s, cJSON **out) {
    const struct serve_config *c = auth_config(web_auth(r));
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < c->n_tokens; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->tokens[i].name);
        cJSON_AddStringToObject(o, "scope", perm_scope_name(c->tokens[i].scope));
        cJSON_AddNullToObject(o, "revoked");
        cJSON_AddStringToObject(o, "source", "tend.yaml");
        cJSON_AddItemToArray(arr, o);
    }
    enum tend_err e = store_tokens_each(s, on_token, arr);
    if (e) {
        cJSON_Delete(arr);
        return e;
    }
    *out = cJSON_CreateObject();
    cJSON_AddItemToObject(*out, "tokens", arr);
    return TEND_OK;
}

/* The tokens page or list, with a token just made (shown once; NULL: none)
 * and a notice. */
static enum MHD_Result tokens_answer(struct req *r, struct store *s, const char *made,
                                     const char *notice) {
    cJSON *view = NULL;
    if (tokens_view(r, s, &view))
        return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, store_last_error(s));
    if (r->api) {
        if (made)
            cJSON_AddStringToObject(view, "token", made);
        if (notice)
            cJSON_AddStringToObject(view, "message", notice);
        return web_send_json(r, MHD_HTTP_OK, view);
    }
    struct dash_ctx ctx;
    web_ctx(r, &ctx);
    if (notice) {
        ctx.flash = notice;
        ctx.flash_error = false;
    }
    struct buf b;
    buf_init(&b, 0);
    dash_tokens_page(&b, &ctx, view, made);
    cJSON_Delete(view);
    return web_send_page(r, MHD_HTTP_OK, &b);
}

enum MHD_Result web_h_tokens(struct req *r, struct store *s) {
    return tokens_answer(r, s, NULL, NULL);
}

static bool name_ok(const char *n) {
    if (!n || !n[0] || strlen(n) > STORE_TOKEN_NAME_MAX_BYTES)
        return false;
    for (const char *c = n; *c; c++)
        if (!g_ascii_isalnum(*c) && !strchr("._-@", *c))
            return false;
    return true;
}

static enum MHD_Result refused(struct req *r, unsigned status, const char *msg) {
    return r->api ? web_json_error(r, status, msg) : web_redirect(r, "/tokens", msg, true);
}

/* POST /tokens {name, scope}. */
enum MHD_Result web_h_token_add(struct req *r, struct store *s) {
    const char *name = view_param(&r->form, "name"), *scope = view_param(&r->form, "scope");
    enum perm_scope sc;
    if (!name_ok(name))
        return refused(r, MHD_HTTP_BAD_REQUEST,
                       "name: 1 to 100 letters, digits, '.', '_', '-' or '@'");
    if (!scope || !perm_scope_parse(scope, &sc))
        return refused(r, MHD_HTTP_BAD_REQUEST, "scope: must be ingest, read, act or admin");
    const struct serve_config *c = auth_config(web_auth(r));
    for (size_t i = 0; i < c->n_tokens; i++)
        if (strcmp(c->tokens[i].name, name) == 0)
            return refused(r, MHD_HTTP_CONFLICT, "a token of tend.yaml has this name");
    unsigned char raw[32];
    char token[5 + 64 + 1] = "tend_";
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(token + 5, sizeof token - 5, raw, sizeof raw);
    int64_t now = dt_now_ms();
    struct store_token t = {.created_ms = now};
    sha256_hex(token, t.sha256);
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.scope, sizeof t.scope, "%s", perm_scope_name(sc));
    snprintf(t.created_by, sizeof t.created_by, "%s", web_actor(r));
    enum tend_err e = store_begin(s, NULL);
    if (!e)
        e = store_token_add(s, &t);
    if (!e) {
        cJSON *after = cJSON_CreateObject();
        cJSON_AddStringToObject(after, "name", t.name);
        cJSON_AddStringToObject(after, "scope", t.scope);
        char target[160];
        snprintf(target, sizeof target, "token:%s", t.name);
        e = audit_record(s, now, web_actor(r), "token.create", target, NULL, after);
        cJSON_Delete(after);
    }
    if (!e)
        e = store_commit(s);
    if (e) {
        store_rollback(s);
        sodium_memzero(token, sizeof token);
        return refused(r, e == TEND_ERR_CONFLICT ? MHD_HTTP_CONFLICT : http_status_of(e),
                       e == TEND_ERR_CONFLICT ? "a token with this name exists already"
                                              : store_last_error(s));
    }
    char msg[300];
    snprintf(msg, sizeof msg, "Token %s (scope %s) made: copy it now, it is shown only this once.",
             t.name, t.scope);
    enum MHD_Result ret = tokens_answer(r, s, token, msg);
    sodium_memzero(token, sizeof token);
    return ret;
}

/* POST /tokens/{name}/revoke. */
enum MHD_Result web_h_token_revoke(struct req *r, struct store *s) {
    const char *name = r->cap[0];
    if (!name_ok(name))
        return refused(r, MHD_HTTP_NOT_FOUND, "no such token");
    int64_t now = dt_now_ms();
    enum tend_err e = store_begin(s, NULL);
    if (!e)
        e = store_token_revoke(s, name, now);
    if (!e) {
        cJSON *before = cJSON_CreateObject(), *after = cJSON_CreateObject();
        cJSON_AddBoolToObject(before, "revoked", false);
        cJSON_AddBoolToObject(after, "revoked", true);
        char target[160];
        snprintf(target, sizeof target, "token:%s", name);
        e = audit_record(s, now, web_actor(r), "token.revoke", target, before, after);
        cJSON_Delete(before);
        cJSON_Delete(after);
    }
    if (!e)
        e = store_commit(s);
    if (e) {
        store_rollback(s);
        return refused(r, http_status_of(e),
                       e == TEND_ERR_NOTFOUND ? "no such token in use (tend.yaml's are "
                                                "removed from the file)"
                                              : store_last_error(s));
    }
    char msg[200];
    snprintf(msg, sizeof msg, "Token %s is revoked: it is refused from now on.", name);
    if (!r->api)
        return web_redirect(r, "/tokens", msg, false);
    return tokens_answer(r, s, NULL, msg);
}
