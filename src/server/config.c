/* config.c: the serve section of tend.yaml (see config.h). */
#include "server/config.h"

#include <glib.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/yaml.h"

#define MAX_USERS  1000
#define MAX_TOKENS 100
#define MAX_KEYS   64

void serve_config_default(struct serve_config *c) {
    memset(c, 0, sizeof *c);
    c->daily_minute = 6 * 60;
    c->session_hours = 12;
    c->sign_in_per_minute = SERVE_SIGN_IN_PER_MINUTE;
}

void serve_config_add_key(struct serve_config *c, const char *key) {
    c->write_keys = xrealloc(c->write_keys, (c->n_write_keys + 1) * sizeof *c->write_keys);
    c->write_keys[c->n_write_keys++] = xstrdup(key);
}

void serve_config_release(struct serve_config *c) {
    free(c->listen);
    free(c->timezone);
    for (size_t i = 0; i < c->n_write_keys; i++)
        free(c->write_keys[i]);
    free(c->write_keys);
    for (size_t i = 0; i < c->n_users; i++) {
        free(c->users[i].email);
        free(c->users[i].name);
        free(c->users[i].hash);
        free(c->users[i].slack_user_id);
    }
    free(c->users);
    for (size_t i = 0; i < c->n_tokens; i++)
        free(c->tokens[i].name);
    free(c->tokens);
    if (c->sso) {
        free(c->sso->issuer);
        free(c->sso->client_id);
        if (c->sso->client_secret)
            sodium_memzero(c->sso->client_secret, strlen(c->sso->client_secret));
        free(c->sso->client_secret);
        free(c->sso->redirect_url);
        free(c->sso->label);
        free(c->sso);
    }
    if (c->session_key)
        sodium_memzero(c->session_key, strlen(c->session_key));
    free(c->session_key);
    serve_config_default(c);
}

/* A non-empty text setting, or NULL when absent. */
static enum tend_err text(const cJSON *o, const char *key, const char *path, const char **out,
                          char *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v)
        return TEND_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return yaml_error(err, SERVE_ERR_BYTES, path, "%s: must be text", key);
    *out = v->valuestring;
    return TEND_OK;
}

/* A secret given as KEY or as KEY_env (the name of an environment
 * variable); exactly one, unless optional and neither. */
static enum tend_err secret(const cJSON *o, const char *key, const char *path, bool optional,
                            const char **out, char *err) {
    char env_key[64];
    snprintf(env_key, sizeof env_key, "%s_env", key);
    const char *direct, *env;
    enum tend_err e;
    if ((e = text(o, key, path, &direct, err)) || (e = text(o, env_key, path, &env, err)))
        return e;
    if (direct && env)
        return yaml_error(err, SERVE_ERR_BYTES, path, "give %s or %s, not both", key, env_key);
    if (env) {
        direct = getenv(env);
        if (!direct || !direct[0])
            return yaml_error(err, SERVE_ERR_BYTES, path,
                              "%s: the environment variable %s is not set", env_key, env);
    }
    if (!direct && !optional)
        return yaml_error(err, SERVE_ERR_BYTES, path, "needs %s (or %s)", key, env_key);
    *out = direct;
    return TEND_OK;
}

/* A Slack member id: U or W, then capital letters and digits. */
static bool slack_id_ok(const char *id) {
    size_t n = strlen(id);
    if (n < 2 || n > 32 || (id[0] != 'U' && id[0] != 'W'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9')))
            return false;
    return true;
}

static enum tend_err load_user(const cJSON *o, size_t i, struct serve_config *c, char *err) {
    char path[64];
    snprintf(path, sizeof path, "serve.users[%zu]", i);
    static const char *const keys[] = {
        "email", "name",          "password_hash", "password_hash_env",
        "role",  "slack_user_id", "disabled",      NULL};
    enum tend_err e;
    if (!cJSON_IsObject(o))
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "must be a mapping with email and password_hash");
    if ((e = yaml_known_keys(o, path, keys, err, SERVE_ERR_BYTES)))
        return e;
    const char *email, *name, *hash, *role;
    if ((e = text(o, "email", path, &email, err)) || (e = text(o, "name", path, &name, err)) ||
        (e = secret(o, "password_hash", path, false, &hash, err)) ||
        (e = text(o, "role", path, &role, err)))
        return e;
    enum perm_role r = SERVE_DEFAULT_ROLE;
    if (role && !perm_role_parse(role, &r))
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "role: \"%s\" is not a role (admin, lead, csm or viewer)", role);
    if (!email || !strchr(email, '@') || strlen(email) > SERVE_EMAIL_MAX_BYTES)
        return yaml_error(err, SERVE_ERR_BYTES, path, "email: must be an email address");
    if (strncmp(hash, "$argon2id$", 10) != 0 || strlen(hash) >= crypto_pwhash_STRBYTES)
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "password_hash: must be an argon2id hash (make one with tend passwd)");
    for (size_t k = 0; k < c->n_users; k++)
        if (g_ascii_strcasecmp(c->users[k].email, email) == 0)
            return yaml_error(err, SERVE_ERR_BYTES, path, "email: %s is listed twice", email);
    const char *slack;
    if ((e = text(o, "slack_user_id", path, &slack, err)))
        return e;
    if (slack && !slack_id_ok(slack))
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "slack_user_id: must be a Slack member id such as U012AB3CD (capital "
                          "letters and digits, at most 32)");
    for (size_t k = 0; slack && k < c->n_users; k++)
        if (c->users[k].slack_user_id && strcmp(c->users[k].slack_user_id, slack) == 0)
            return yaml_error(err, SERVE_ERR_BYTES, path,
                              "slack_user_id: %s is given to %s already", slack, c->users[k].email);
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(o, "disabled");
    if (off && !cJSON_IsBool(off))
        return yaml_error(err, SERVE_ERR_BYTES, path, "disabled: must be true or false");
    struct serve_user *u = &c->users[c->n_users++];
    u->slack_user_id = slack ? xstrdup(slack) : NULL;
    u->disabled = cJSON_IsTrue(off);
    u->email = xstrdup(email);
    u->name = xstrdup(name ? name : email);
    u->hash = xstrdup(hash);
    u->role = r;
    return TEND_OK;
}

static enum tend_err load_token(const cJSON *o, size_t i, struct serve_config *c, char *err) {
    char path[64];
    snprintf(path, sizeof path, "serve.tokens[%zu]", i);
    static const char *const keys[] = {"name", "sha256", "sha256_env", "scope", NULL};
    enum tend_err e;
    if (!cJSON_IsObject(o))
        return yaml_error(err, SERVE_ERR_BYTES, path, "must be a mapping with name and sha256");
    if ((e = yaml_known_keys(o, path, keys, err, SERVE_ERR_BYTES)))
        return e;
    const char *name, *hex, *scope;
    if ((e = text(o, "name", path, &name, err)) ||
        (e = secret(o, "sha256", path, false, &hex, err)) ||
        (e = text(o, "scope", path, &scope, err)))
        return e;
    enum perm_scope sc = SERVE_DEFAULT_SCOPE;
    if (scope && !perm_scope_parse(scope, &sc))
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "scope: \"%s\" is not a scope (ingest, read, act or admin)", scope);
    if (!name)
        return yaml_error(err, SERVE_ERR_BYTES, path, "needs a name (shown as the actor)");
    struct serve_token *t = &c->tokens[c->n_tokens];
    size_t len = 0;
    if (strlen(hex) != 2 * SERVE_HASH_BYTES ||
        sodium_hex2bin(t->sha256, sizeof t->sha256, hex, strlen(hex), NULL, &len, NULL) ||
        len != SERVE_HASH_BYTES)
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "sha256: must be 64 hex digits (make a token with tend token)");
    t->name = xstrdup(name);
    t->scope = sc;
    c->n_tokens++;
    return TEND_OK;
}

/* Whether url is https://..., or http:// on a loopback host (a provider on
 * the same machine, as in tests). */
static bool url_ok(const char *url) {
    if (strncmp(url, "https://", 8) == 0)
        return url[8] != '\0';
    static const char *const local[] = {"http://127.0.0.1:", "http://127.0.0.1/",
                                        "http://localhost:", "http://localhost/", "http://[::1]:"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if (strncmp(url, local[i], strlen(local[i])) == 0)
            return true;
    return strcmp(url, "http://127.0.0.1") == 0 || strcmp(url, "http://localhost") == 0;
}

static enum tend_err load_sso(const cJSON *o, struct serve_config *c, char *err) {
    static const char *const keys[] = {
        "issuer",       "client_id",    "client_secret", "client_secret_env",
        "redirect_url", "default_role", "label",         NULL};
    const char *path = "serve.sso";
    enum tend_err e;
    if (!cJSON_IsObject(o))
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "must be a mapping with issuer, client_id, client_secret and "
                          "redirect_url");
    if ((e = yaml_known_keys(o, path, keys, err, SERVE_ERR_BYTES)))
        return e;
    const char *issuer, *client_id, *secret_v, *redirect, *role, *label;
    if ((e = text(o, "issuer", path, &issuer, err)) ||
        (e = text(o, "client_id", path, &client_id, err)) ||
        (e = secret(o, "client_secret", path, false, &secret_v, err)) ||
        (e = text(o, "redirect_url", path, &redirect, err)) ||
        (e = text(o, "default_role", path, &role, err)) ||
        (e = text(o, "label", path, &label, err)))
        return e;
    if (!issuer || !url_ok(issuer) || strlen(issuer) > 500)
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "issuer: must be the provider's https:// URL (http:// only on "
                          "127.0.0.1 or localhost)");
    if (!client_id || strlen(client_id) > 500)
        return yaml_error(err, SERVE_ERR_BYTES, path, "client_id: needed, at most 500 bytes");
    size_t rl = redirect ? strlen(redirect) : 0;
    if (!redirect || !url_ok(redirect) || rl > 500 || rl < 13 ||
        strcmp(redirect + rl - 13, "/sso/callback") != 0)
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "redirect_url: must be tend's own URL ending in /sso/callback, as "
                          "registered with the provider");
    struct serve_sso *sso = xcalloc(1, sizeof *sso);
    if (role && !perm_role_parse(role, &sso->default_role)) {
        free(sso);
        return yaml_error(err, SERVE_ERR_BYTES, path,
                          "default_role: \"%s\" is not a role (admin, lead, csm or viewer)", role);
    }
    sso->has_default_role = role != NULL;
    sso->issuer = xstrdup(issuer);
    sso->client_id = xstrdup(client_id);
    sso->client_secret = xstrdup(secret_v);
    sso->redirect_url = xstrdup(redirect);
    sso->label = xstrdup(label ? label : "Sign in with single sign-on");
    c->sso = sso;
    return TEND_OK;
}

/* "HH:MM" -> minutes after midnight. */
static bool parse_hhmm(const char *s, int *out) {
    int h, m;
    char end;
    if (sscanf(s, "%2d:%2d%c", &h, &m, &end) != 2 || strlen(s) != 5 || h < 0 || h > 23 || m < 0 ||
        m > 59)
        return false;
    *out = h * 60 + m;
    return true;
}

static enum tend_err load(const cJSON *o, struct serve_config *c, char *err) {
    static const char *const keys[] = {"listen",
                                       "timezone",
                                       "daily_at",
                                       "write_keys",
                                       "write_keys_env",
                                       "users",
                                       "tokens",
                                       "session_hours",
                                       "session_key_env",
                                       "sign_in_per_minute",
                                       "csm_reads",
                                       "sso",
                                       NULL};
    enum tend_err e;
    if (!cJSON_IsObject(o))
        return yaml_error(err, SERVE_ERR_BYTES, "serve", "must be a mapping of settings");
    if ((e = yaml_known_keys(o, "serve", keys, err, SERVE_ERR_BYTES)))
        return e;
    const char *s;
    if ((e = text(o, "listen", "serve", &s, err)))
        return e;
    c->listen = s ? xstrdup(s) : NULL;
    if ((e = text(o, "timezone", "serve", &s, err)))
        return e;
    if (s) {
        GTimeZone *z = g_time_zone_new_identifier(s);
        if (!z)
            return yaml_error(err, SERVE_ERR_BYTES, "serve.timezone",
                              "\"%s\" is not a time zone (an IANA name such as Europe/Berlin)", s);
        g_time_zone_unref(z);
        c->timezone = xstrdup(s);
    }
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "daily_at");
    if (at && (!cJSON_IsString(at) || !parse_hhmm(at->valuestring, &c->daily_minute)))
        return yaml_error(err, SERVE_ERR_BYTES, "serve.daily_at",
                          "must be a time \"HH:MM\" (quoted), e.g. \"06:00\"");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "session_hours");
    if (h) {
        double v;
        if ((e = yaml_number(h, "serve.session_hours", 1, 24 * 90, &v, err, SERVE_ERR_BYTES)))
            return e;
        c->session_hours = (int)v;
    }
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(o, "sign_in_per_minute");
    if (rate) {
        double v;
        if ((e = yaml_number(rate, "serve.sign_in_per_minute", 0, 100000, &v, err,
                             SERVE_ERR_BYTES)))
            return e;
        c->sign_in_per_minute = (int)v;
    }
    if ((e = text(o, "csm_reads", "serve", &s, err)))
        return e;
    if (s && strcmp(s, "all") != 0 && strcmp(s, "own_book") != 0)
        return yaml_error(err, SERVE_ERR_BYTES, "serve.csm_reads",
                          "must be all (a csm reads every book) or own_book (only theirs)");
    c->csm_own_book_only = s && strcmp(s, "own_book") == 0;
    const cJSON *sso = cJSON_GetObjectItemCaseSensitive(o, "sso");
    if (sso && (e = load_sso(sso, c, err)))
        return e;
    const cJSON *sk = cJSON_GetObjectItemCaseSensitive(o, "session_key_env");
    if (sk) {
        const char *v = cJSON_IsString(sk) ? getenv(sk->valuestring) : NULL;
        if (!v || strlen(v) < 32)
            return yaml_error(err, SERVE_ERR_BYTES, "serve.session_key_env",
                              "must name an environment variable holding at least 32 characters");
        c->session_key = xstrdup(v);
    }
    const char *lists[] = {"write_keys", "write_keys_env"};
    for (int k = 0; k < 2; k++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, lists[k]), *v;
        char path[64];
        snprintf(path, sizeof path, "serve.%s", lists[k]);
        if (l && !cJSON_IsArray(l))
            return yaml_error(err, SERVE_ERR_BYTES, path, "must be a list");
        cJSON_ArrayForEach(v, l) {
            if (!cJSON_IsString(v) || !v->valuestring[0])
                return yaml_error(err, SERVE_ERR_BYTES, path, "must list text");
            const char *key = k == 0 ? v->valuestring : getenv(v->valuestring);
            if (!key || !key[0])
                return yaml_error(err, SERVE_ERR_BYTES, path,
                                  "the environment variable %s is not set", v->valuestring);
            if (c->n_write_keys == MAX_KEYS)
                return yaml_error(err, SERVE_ERR_BYTES, path, "at most %d write keys", MAX_KEYS);
            serve_config_add_key(c, key);
        }
    }
    const cJSON *users = cJSON_GetObjectItemCaseSensitive(o, "users");
    if (users) {
        if (!cJSON_IsArray(users) || cJSON_GetArraySize(users) > MAX_USERS)
            return yaml_error(err, SERVE_ERR_BYTES, "serve.users",
                              "must be a list of up to %d users", MAX_USERS);
        c->users = xcalloc((size_t)cJSON_GetArraySize(users) + 1, sizeof *c->users);
        const cJSON *u;
        size_t i = 0;
        cJSON_ArrayForEach(u, users) {
            if ((e = load_user(u, i++, c, err)))
                return e;
        }
    }
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(o, "tokens");
    if (tokens) {
        if (!cJSON_IsArray(tokens) || cJSON_GetArraySize(tokens) > MAX_TOKENS)
            return yaml_error(err, SERVE_ERR_BYTES, "serve.tokens",
                              "must be a list of up to %d tokens", MAX_TOKENS);
        c->tokens = xcalloc((size_t)cJSON_GetArraySize(tokens) + 1, sizeof *c->tokens);
        const cJSON *t;
        size_t i = 0;
        cJSON_ArrayForEach(t, tokens) {
            if ((e = load_token(t, i++, c, err)))
                return e;
        }
    }
    return TEND_OK;
}

enum tend_err serve_config_load(const cJSON *section, struct serve_config *c, char *err) {
    serve_config_default(c);
    if (!section)
        return TEND_OK;
    enum tend_err e = load(section, c, err);
    if (e)
        serve_config_release(c);
    return e;
}
