/* connectors.c: the connectors: section (see connectors.h).
 *
 * Every key is checked against the list its mapping allows, so a typo
 * ("secret_env", "zendsk") is refused with its path rather than leaving a
 * provider silently off. Secrets come from the environment only. */
#include "ingest/connectors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/text.h"
#include "util/mem.h"

static const char *const provider_names[HOOK_PROVIDERS] = {"stripe", "zendesk", "hubspot"};

static enum tend_err fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum tend_err fail(char *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, CONN_ERR_BYTES, fmt, ap);
    va_end(ap);
    return TEND_ERR_INVALID;
}

const char *hook_provider_name(enum hook_provider p) {
    return p < HOOK_PROVIDERS ? provider_names[p] : "unknown";
}

bool hook_provider_of(const char *name, enum hook_provider *p) {
    for (int i = 0; i < HOOK_PROVIDERS; i++)
        if (strcmp(name, provider_names[i]) == 0) {
            *p = (enum hook_provider)i;
            return true;
        }
    return false;
}

void connectors_config_default(struct connectors_config *c) {
    memset(c, 0, sizeof *c);
    c->retention_days = CONN_DEFAULT_RETENTION;
    snprintf(c->p[HOOK_STRIPE].account_id_key, CONN_NAME_BYTES, "account_id");
    snprintf(c->p[HOOK_HUBSPOT].account_id_property, CONN_NAME_BYTES, "tend_account_id");
    snprintf(c->p[HOOK_HUBSPOT].renewal_date_property, CONN_NAME_BYTES, "renewal_date");
    snprintf(c->p[HOOK_HUBSPOT].arr_property, CONN_NAME_BYTES, "arr");
}

void connectors_config_release(struct connectors_config *c) {
    for (int i = 0; i < HOOK_PROVIDERS; i++) {
        struct conn_provider *p = &c->p[i];
        for (size_t k = 0; k < p->n_secrets; k++)
            free(p->secrets[k]);
        free(p->url);
        for (size_t k = 0; k < p->n_owners; k++) {
            free(p->owners[k].id);
            free(p->owners[k].email);
        }
        free(p->owners);
    }
    connectors_config_default(c);
}

bool connectors_any(const struct connectors_config *c) {
    for (int i = 0; i < HOOK_PROVIDERS; i++)
        if (c->p[i].enabled)
            return true;
    return false;
}

const char *connectors_owner_email(const struct conn_provider *p, const char *owner_id) {
    for (size_t i = 0; owner_id && i < p->n_owners; i++)
        if (strcmp(p->owners[i].id, owner_id) == 0)
            return p->owners[i].email;
    return NULL;
}

/* Refuses a key of o not in allowed (NULL-terminated). */
static enum tend_err known_keys(const cJSON *o, const char *path, const char *const *allowed,
                                const char *list, char *err) {
    const cJSON *kv;
    cJSON_ArrayForEach(kv, o) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], kv->string) != 0)
            i++;
        if (!allowed[i])
            return fail(err, "%s.%s: unknown key (known: %s)", path, kv->string, list);
    }
    return TEND_OK;
}

/* A name (metadata key, property): a non-empty string of at most
 * CONN_NAME_BYTES - 1 bytes without control characters, into out. */
static enum tend_err load_name(const cJSON *v, const char *path, char out[CONN_NAME_BYTES],
                               char *err) {
    if (!v)
        return TEND_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return fail(err, "%s: must be a non-empty string", path);
    if (strlen(v->valuestring) >= CONN_NAME_BYTES)
        return fail(err, "%s: longer than %d bytes", path, CONN_NAME_BYTES - 1);
    if (!text_check_id(v->valuestring, path, err, CONN_ERR_BYTES))
        return TEND_ERR_INVALID;
    snprintf(out, CONN_NAME_BYTES, "%s", v->valuestring);
    return TEND_OK;
}

/* secrets_env: one variable name or a list of them; each must be set. */
static enum tend_err load_secrets(const cJSON *v, const char *path, struct conn_provider *p,
                                  char *err) {
    if (!v)
        return fail(err,
                    "%s: missing: name the environment variable(s) holding the signing "
                    "secret",
                    path);
    const cJSON *one = cJSON_IsString(v) ? v : NULL;
    int n = one ? 1 : cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n < 1 || n > CONN_MAX_SECRETS)
        return fail(err, "%s: must be a variable name or a list of 1 to %d of them", path,
                    CONN_MAX_SECRETS);
    for (int i = 0; i < n; i++) {
        const cJSON *name = one ? one : cJSON_GetArrayItem(v, i);
        if (!cJSON_IsString(name) || !name->valuestring[0])
            return fail(err, "%s[%d]: must be an environment variable's name", path, i);
        const char *secret = getenv(name->valuestring);
        if (!secret || !secret[0])
            return fail(err, "%s: %.100s is not set (or empty) in the environment", path,
                        name->valuestring);
        if (strlen(secret) > 1024)
            return fail(err, "%s: %.100s is over 1,024 bytes", path, name->valuestring);
        p->secrets[p->n_secrets++] = xstrdup(secret);
    }
    return TEND_OK;
}

static enum tend_err load_owners(const cJSON *v, const char *path, struct conn_provider *p,
                                 char *err) {
    if (!v)
        return TEND_OK;
    if (!cJSON_IsObject(v))
        return fail(err, "%s: must be a mapping of HubSpot owner ids to emails", path);
    int n = cJSON_GetArraySize(v);
    if (n > CONN_MAX_OWNERS)
        return fail(err, "%s: %d owners, over the limit of %d", path, n, CONN_MAX_OWNERS);
    p->owners = xcalloc((size_t)n + 1, sizeof *p->owners);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, v) {
        const char *email = cJSON_IsString(kv) ? kv->valuestring : NULL;
        if (!email || !strchr(email, '@') || strlen(email) > 320 ||
            !text_check_id(email, path, err, CONN_ERR_BYTES))
            return fail(err, "%s.\"%.100s\": must be an email address", path, kv->string);
        p->owners[p->n_owners].id = xstrdup(kv->string);
        p->owners[p->n_owners].email = xstrdup(email);
        p->n_owners++;
    }
    return TEND_OK;
}

static enum tend_err load_provider(const cJSON *o, enum hook_provider which,
                                   struct conn_provider *p, char *err) {
    static const char *const stripe_keys[] = {"secrets_env", "account_id_key", NULL};
    static const char *const zendesk_keys[] = {"secrets_env", NULL};
    static const char *const hubspot_keys[] = {
        "secrets_env",           "url", "owners", "account_id_property", "arr_property",
        "renewal_date_property", NULL};
    char path[64];
    snprintf(path, sizeof path, "connectors.%s", provider_names[which]);
    if (!cJSON_IsObject(o))
        return fail(err, "%s: must be a mapping (secrets_env, ...)", path);
    enum tend_err e;
    const char *const *keys = which == HOOK_STRIPE    ? stripe_keys
                              : which == HOOK_ZENDESK ? zendesk_keys
                                                      : hubspot_keys;
    const char *list = which == HOOK_STRIPE ? "secrets_env, account_id_key"
                       : which == HOOK_ZENDESK
                           ? "secrets_env"
                           : "secrets_env, url, owners, account_id_property, arr_property, "
                             "renewal_date_property";
    if ((e = known_keys(o, path, keys, list, err)))
        return e;
    char sub[96];
    snprintf(sub, sizeof sub, "%s.secrets_env", path);
    if ((e = load_secrets(cJSON_GetObjectItemCaseSensitive(o, "secrets_env"), sub, p, err)))
        return e;
    snprintf(sub, sizeof sub, "%s.account_id_key", path);
    if ((e = load_name(cJSON_GetObjectItemCaseSensitive(o, "account_id_key"), sub,
                       p->account_id_key, err)))
        return e;
    snprintf(sub, sizeof sub, "%s.account_id_property", path);
    if ((e = load_name(cJSON_GetObjectItemCaseSensitive(o, "account_id_property"), sub,
                       p->account_id_property, err)))
        return e;
    snprintf(sub, sizeof sub, "%s.arr_property", path);
    if ((e = load_name(cJSON_GetObjectItemCaseSensitive(o, "arr_property"), sub, p->arr_property,
                       err)))
        return e;
    snprintf(sub, sizeof sub, "%s.renewal_date_property", path);
    if ((e = load_name(cJSON_GetObjectItemCaseSensitive(o, "renewal_date_property"), sub,
                       p->renewal_date_property, err)))
        return e;
    snprintf(sub, sizeof sub, "%s.owners", path);
    if ((e = load_owners(cJSON_GetObjectItemCaseSensitive(o, "owners"), sub, p, err)))
        return e;
    if (which == HOOK_HUBSPOT) {
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(o, "url");
        if (!cJSON_IsString(url) || (strncmp(url->valuestring, "https://", 8) != 0 &&
                                     strncmp(url->valuestring, "http://", 7) != 0))
            return fail(err,
                        "%s.url: missing or not an http(s) URL: give the target URL set in "
                        "HubSpot (it is part of what HubSpot signs)",
                        path);
        if (strlen(url->valuestring) > 2048 || strchr(url->valuestring, '?') ||
            !text_check_id(url->valuestring, "url", err, CONN_ERR_BYTES))
            return fail(err, "%s.url: at most 2,048 bytes, without a query string", path);
        p->url = xstrdup(url->valuestring);
    }
    p->enabled = true;
    return TEND_OK;
}

enum tend_err connectors_config_load(const cJSON *section, struct connectors_config *c, char *err) {
    static const char *const keys[] = {"retention_days", "stripe", "zendesk", "hubspot", NULL};
    connectors_config_default(c);
    if (!section || cJSON_IsNull(section))
        return TEND_OK;
    enum tend_err e;
    if (!cJSON_IsObject(section))
        return fail(err, "connectors: must be a mapping (retention_days, stripe, zendesk, "
                         "hubspot)");
    if ((e = known_keys(section, "connectors", keys, "retention_days, stripe, zendesk, hubspot",
                        err)))
        return e;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(section, "retention_days");
    if (r) {
        if (!cJSON_IsNumber(r) || r->valuedouble != (int)r->valuedouble || r->valueint < 1 ||
            r->valueint > CONN_MAX_RETENTION_DAYS)
            return fail(err,
                        "connectors.retention_days: must be a whole number of days from 1 "
                        "to %d",
                        CONN_MAX_RETENTION_DAYS);
        c->retention_days = r->valueint;
    }
    for (int i = 0; i < HOOK_PROVIDERS; i++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(section, provider_names[i]);
        if (o && (e = load_provider(o, (enum hook_provider)i, &c->p[i], err))) {
            connectors_config_release(c);
            return e;
        }
    }
    return TEND_OK;
}
