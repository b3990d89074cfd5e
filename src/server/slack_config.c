/* slack_config.c: tend.yaml's slack section (see slack_config.h). */
#include "server/slack_config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/yaml.h"

void slack_config_default(struct slack_config *c) {
    memset(c, 0, sizeof *c);
}

static void wipe_free(char *s) {
    if (s)
        sodium_memzero(s, strlen(s));
    free(s);
}

void slack_config_release(struct slack_config *c) {
    for (size_t i = 0; i < c->n_secrets; i++)
        wipe_free(c->secrets[i]);
    wipe_free(c->bot_token);
    free(c->api_url);
    free(c->response_url_base);
    free(c->unset);
    slack_config_default(c);
}

/* An environment variable's name: letters, digits and '_', not empty. */
static bool env_name_ok(const char *s) {
    if (!s[0] || strlen(s) > 128)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

/* Reads the variable named by v (path names it in errors) into *out
 * (malloced), or notes in c->unset that it is not set. */
static enum tend_err read_env(const cJSON *v, const char *path, struct slack_config *c, char **out,
                              char *err) {
    if (!cJSON_IsString(v) || !env_name_ok(v->valuestring))
        return yaml_error(err, SLACK_ERR_BYTES, path,
                          "must name an environment variable (letters, digits and _)");
    const char *val = getenv(v->valuestring);
    if (!val || !val[0]) {
        if (!c->unset) {
            char msg[SLACK_ERR_BYTES];
            snprintf(msg, sizeof msg, "%s: the environment variable %s is not set", path,
                     v->valuestring);
            c->unset = xstrdup(msg);
        }
        return TEND_OK;
    }
    *out = xstrdup(val);
    return TEND_OK;
}

/* An http(s) URL of at most SLACK_MAX_URL_BYTES without spaces, quotes or
 * control characters; with slash, one that ends with '/' after its host (so
 * that a prefix test pins the host: "https://hooks.slack.com/" is not a
 * prefix of "https://hooks.slack.com.example/"). */
static bool url_ok(const char *u, bool slash) {
    size_t n = strlen(u), scheme;
    if (strncmp(u, "https://", 8) == 0)
        scheme = 8;
    else if (strncmp(u, "http://", 7) == 0)
        scheme = 7;
    else
        return false;
    if (n <= scheme || n > SLACK_MAX_URL_BYTES)
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
            return false;
    const char *host_end = strchr(u + scheme, '/');
    if (host_end == u + scheme)
        return false;
    return !slash || (host_end && u[n - 1] == '/');
}

static enum tend_err url(const cJSON *o, const char *key, const char *def, bool slash, char **out,
                         char *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char path[64];
    snprintf(path, sizeof path, "slack.%s", key);
    if (!v) {
        *out = xstrdup(def);
        return TEND_OK;
    }
    if (!cJSON_IsString(v) || !url_ok(v->valuestring, slash))
        return yaml_error(err, SLACK_ERR_BYTES, path,
                          slash ? "must be an http(s) URL ending with / after the host, at most "
                                  "%d bytes"
                                : "must be an http(s) URL, at most %d bytes",
                          SLACK_MAX_URL_BYTES);
    *out = xstrdup(v->valuestring);
    size_t n = strlen(*out);
    while (!slash && n > 0 && (*out)[n - 1] == '/')
        (*out)[--n] = '\0';
    return TEND_OK;
}

static enum tend_err load(const cJSON *o, struct slack_config *c, char *err) {
    static const char *const keys[] = {"signing_secret_env", "bot_token_env", "api_url",
                                       "response_url_base", NULL};
    enum tend_err e;
    if (!cJSON_IsObject(o))
        return yaml_error(err, SLACK_ERR_BYTES, "slack",
                          "must be a mapping (signing_secret_env, bot_token_env, ...)");
    if ((e = yaml_known_keys(o, "slack", keys, err, SLACK_ERR_BYTES)))
        return e;
    c->enabled = true;
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "signing_secret_env");
    if (!s)
        return yaml_error(err, SLACK_ERR_BYTES, "slack",
                          "needs signing_secret_env (the variable holding the app's signing "
                          "secret)");
    if (cJSON_IsArray(s)) {
        int n = cJSON_GetArraySize(s);
        if (n < 1 || n > SLACK_MAX_SECRETS)
            return yaml_error(err, SLACK_ERR_BYTES, "slack.signing_secret_env",
                              "must list 1 to %d variable names", SLACK_MAX_SECRETS);
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, s) {
            char path[64];
            snprintf(path, sizeof path, "slack.signing_secret_env[%d]", i++);
            char *val = NULL;
            if ((e = read_env(v, path, c, &val, err)))
                return e;
            if (val)
                c->secrets[c->n_secrets++] = val;
        }
    } else {
        char *val = NULL;
        if ((e = read_env(s, "slack.signing_secret_env", c, &val, err)))
            return e;
        if (val)
            c->secrets[c->n_secrets++] = val;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "bot_token_env");
    if (t && (e = read_env(t, "slack.bot_token_env", c, &c->bot_token, err)))
        return e;
    if ((e = url(o, "api_url", SLACK_DEFAULT_API_URL, false, &c->api_url, err)) ||
        (e = url(o, "response_url_base", SLACK_DEFAULT_RESPONSE, true, &c->response_url_base, err)))
        return e;
    return TEND_OK;
}

enum tend_err slack_config_load(const cJSON *section, struct slack_config *c, char *err) {
    slack_config_default(c);
    if (!section)
        return TEND_OK;
    enum tend_err e = load(section, c, err);
    if (e)
        slack_config_release(c);
    return e;
}

enum tend_err slack_config_ready(const struct slack_config *c, char *err) {
    if (c->enabled && c->unset) {
        snprintf(err, SLACK_ERR_BYTES, "%s", c->unset);
        return TEND_ERR_INVALID;
    }
    return TEND_OK;
}
