/* config.c: the delivery, channels and routes sections, and routing (see
 * config.h). */
#include "notify/config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cta.h"
#include "util/datetime.h"
#include "util/mem.h"
#include "util/yaml.h"

static const char *const event_names[NOTIFY_EVENT_COUNT] = {"open", "raise",  "resolve", "wake",
                                                            "held", "expire", "escalate"};
static const char *const kind_names[] = {"slack", "email", "webhook", "log"};
static const char *const match_keys[MATCH_KEYS] = {"priority", "type", "rule", "segment", "event"};

const char *notify_event_name(enum notify_event e) {
    return event_names[e];
}

const char *notify_kind_name(enum notify_kind k) {
    return kind_names[k];
}

void notify_config_default(struct notify_config *c) {
    memset(c, 0, sizeof *c);
    c->events[NOTIFY_OPEN] = c->events[NOTIFY_RAISE] = c->events[NOTIFY_RESOLVE] = true;
    c->events[NOTIFY_HELD] = c->events[NOTIFY_EXPIRE] = true;
    c->max_age_days = 2;
    c->digest_hour = 8;
    c->max_attempts = 10;
    c->retry_base_ms = 30 * 1000;
    c->retry_max_ms = 3600 * 1000;
    c->timeout_ms = 20 * 1000;
    c->data_timeout_ms = 600 * 1000;
    c->slack_interval_ms = 1000;
}

static void free_pairs(struct notify_pair *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

void notify_config_release(struct notify_config *c) {
    for (int i = 0; i < c->n_channels; i++) {
        struct notify_channel *ch = &c->channels[i];
        char *s[] = {ch->url,      ch->from,   ch->to,   ch->username,
                     ch->password, ch->secret, ch->path, ch->unset};
        for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
            free(s[k]);
        free_pairs(ch->owners, ch->n_owners);
    }
    for (int i = 0; i < c->n_routes; i++)
        for (int k = 0; k < MATCH_KEYS; k++)
            for (int v = 0; v < c->routes[i].n_match[k]; v++)
                free(c->routes[i].match[k][v]);
    free(c->base_url);
    free(c->fallback_owner);
    free(c->digest_timezone);
    free_pairs(c->slack_users, c->n_slack_users);
    notify_config_default(c);
}

/* ---- loading ------------------------------------------------------------------ */

/* One plain address (addr@host): what a recipient and the fallback owner are. */
static bool is_address(const char *s) {
    return s && strchr(s, '@') && !strpbrk(s, "\r\n<> ,");
}

static enum tend_err text(const cJSON *v, const char *path, char **out, char *err) {
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "must be text");
    free(*out);
    *out = xstrdup(v->valuestring);
    return TEND_OK;
}

/* key or key_env: the value itself, or the environment variable it names.
 * An unset variable is not a mistake of the file: the commands that only
 * route (tend eval) do not need it, so it is noted in ch->unset and
 * notify_config_ready() refuses to send with it. */
static enum tend_err secret(const cJSON *o, const char *key, const char *path, char **out,
                            struct notify_channel *ch, char *err) {
    char env_key[64], p[160];
    snprintf(env_key, sizeof env_key, "%s_env", key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, env_key);
    if (v && e)
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "give %s or %s, not both", key, env_key);
    if (v) {
        snprintf(p, sizeof p, "%s.%s", path, key);
        return text(v, p, out, err);
    }
    if (!e)
        return TEND_OK;
    snprintf(p, sizeof p, "%s.%s", path, env_key);
    if (!cJSON_IsString(e) || !e->valuestring[0])
        return yaml_error(err, NOTIFY_ERR_BYTES, p, "must name an environment variable");
    const char *value = getenv(e->valuestring);
    if (!value || !value[0]) {
        if (!ch->unset) {
            char msg[NOTIFY_ERR_BYTES];
            snprintf(msg, sizeof msg, "%s: the environment variable %s is not set", p,
                     e->valuestring);
            ch->unset = xstrdup(msg);
        }
        return TEND_OK;
    }
    *out = xstrdup(value);
    return TEND_OK;
}

/* Refuses keys of o not in known (NULL-terminated). */
static bool has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum tend_err pairs(const cJSON *o, const char *path, struct notify_pair **out, size_t *n,
                           char *err) {
    if (!cJSON_IsObject(o))
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "must map names to values");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, o) {
        if (!cJSON_IsString(kv) || !kv->valuestring[0])
            return yaml_error(err, NOTIFY_ERR_BYTES, path, "%s: must be text", kv->string);
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[*n].name = xstrdup(kv->string);
        (*out)[*n].value = xstrdup(kv->valuestring);
        (*n)++;
    }
    return TEND_OK;
}

static enum tend_err http_url(const char *url, const char *path, char *err) {
    if (!has_prefix(url, "https://") && !has_prefix(url, "http://"))
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "must be an http:// or https:// URL");
    return TEND_OK;
}

/* url (smtp:// or smtps://) with an optional ?tls=required|try|off. */
static enum tend_err smtp_url(struct notify_channel *ch, const char *path, char *err) {
    if (!has_prefix(ch->url, "smtp://") && !has_prefix(ch->url, "smtps://"))
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "must be an smtp:// or smtps:// URL");
    char *q = strchr(ch->url, '?');
    if (!q)
        return TEND_OK;
    if (strcmp(q, "?tls=required") == 0)
        ch->tls = NOTIFY_TLS_REQUIRED;
    else if (strcmp(q, "?tls=try") == 0)
        ch->tls = NOTIFY_TLS_TRY;
    else if (strcmp(q, "?tls=off") == 0)
        ch->tls = NOTIFY_TLS_OFF;
    else
        return yaml_error(err, NOTIFY_ERR_BYTES, path,
                          "the only query it takes is ?tls=required, ?tls=try or ?tls=off");
    if (ch->tls != NOTIFY_TLS_REQUIRED && has_prefix(ch->url, "smtps://"))
        return yaml_error(err, NOTIFY_ERR_BYTES, path,
                          "smtps:// is TLS from the start; ?tls= is for smtp://");
    *q = '\0';
    return TEND_OK;
}

static enum tend_err load_channel(const cJSON *o, const char *name, struct notify_channel *ch,
                                  char *err) {
    char path[160], p[200];
    snprintf(path, sizeof path, "channels.%s", name);
    if (strlen(name) >= NOTIFY_NAME_BYTES || !name[0])
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "a channel name is 1 to %d bytes",
                          NOTIFY_NAME_BYTES - 1);
    snprintf(ch->name, sizeof ch->name, "%s", name);
    if (!cJSON_IsObject(o))
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "must be a mapping with a type");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    size_t k;
    for (k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
        if (cJSON_IsString(type) && strcmp(type->valuestring, kind_names[k]) == 0)
            break;
    if (k == sizeof kind_names / sizeof kind_names[0])
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "type must be slack, email, webhook or log");
    ch->kind = (enum notify_kind)k;
    static const char *const slack_keys[] = {"type", "url", "url_env", "owners", NULL};
    static const char *const email_keys[] = {"type",     "url",      "url_env",      "from", "to",
                                             "username", "password", "password_env", NULL};
    static const char *const webhook_keys[] = {"type",   "url",        "url_env",
                                               "secret", "secret_env", NULL};
    static const char *const log_keys[] = {"type", "path", NULL};
    static const char *const *const keys[] = {slack_keys, email_keys, webhook_keys, log_keys};
    enum tend_err e = yaml_known_keys(o, path, keys[ch->kind], err, NOTIFY_ERR_BYTES);
    if (e)
        return e;
    if (ch->kind != NOTIFY_LOG && (e = secret(o, "url", path, &ch->url, ch, err)))
        return e;
    bool url_later = !ch->url && cJSON_GetObjectItemCaseSensitive(o, "url_env");
    snprintf(p, sizeof p, "%s.url", path);
    switch (ch->kind) {
    case NOTIFY_SLACK: {
        const cJSON *owners = cJSON_GetObjectItemCaseSensitive(o, "owners");
        snprintf(p, sizeof p, "%s.owners", path);
        if (owners && (e = pairs(owners, p, &ch->owners, &ch->n_owners, err)))
            return e;
        if (!ch->url && !url_later && !ch->n_owners)
            return yaml_error(err, NOTIFY_ERR_BYTES, path, "needs a url (or url_env), or owners");
        for (size_t i = 0; i < ch->n_owners; i++) {
            snprintf(p, sizeof p, "%s.owners.%s", path, ch->owners[i].name);
            if ((e = http_url(ch->owners[i].value, p, err)))
                return e;
        }
        snprintf(p, sizeof p, "%s.url", path);
        return ch->url ? http_url(ch->url, p, err) : TEND_OK;
    }
    case NOTIFY_EMAIL:
        if (!ch->url && !url_later)
            return yaml_error(err, NOTIFY_ERR_BYTES, path,
                              "needs a url (or url_env): smtp://host:587 or smtps://host:465");
        if (ch->url && (e = smtp_url(ch, p, err)))
            return e;
        snprintf(p, sizeof p, "%s.from", path);
        if ((e = text(cJSON_GetObjectItemCaseSensitive(o, "from"), p, &ch->from, err)))
            return e;
        if (strchr(ch->from, '\r') || strchr(ch->from, '\n') || !strchr(ch->from, '@'))
            return yaml_error(err, NOTIFY_ERR_BYTES, p,
                              "must be an address, optionally with a name: Name <addr@host>");
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "to"))) {
            snprintf(p, sizeof p, "%s.to", path);
            if ((e = text(cJSON_GetObjectItemCaseSensitive(o, "to"), p, &ch->to, err)))
                return e;
            if (!is_address(ch->to))
                return yaml_error(err, NOTIFY_ERR_BYTES, p,
                                  "must be one plain address (addr@host)");
        }
        if (cJSON_GetObjectItemCaseSensitive(o, "username")) {
            snprintf(p, sizeof p, "%s.username", path);
            if ((e = text(cJSON_GetObjectItemCaseSensitive(o, "username"), p, &ch->username, err)))
                return e;
        }
        if ((e = secret(o, "password", path, &ch->password, ch, err)))
            return e;
        snprintf(p, sizeof p, "%s.url", path);
        if (ch->tls != NOTIFY_TLS_REQUIRED && cJSON_GetObjectItemCaseSensitive(o, "username"))
            return yaml_error(err, NOTIFY_ERR_BYTES, p,
                              "?tls=try or ?tls=off would send the password in clear; use STARTTLS "
                              "(the default) or smtps://");
        return TEND_OK;
    case NOTIFY_WEBHOOK:
        if (!ch->url && !url_later)
            return yaml_error(err, NOTIFY_ERR_BYTES, path, "needs a url (or url_env)");
        if (ch->url && (e = http_url(ch->url, p, err)))
            return e;
        return secret(o, "secret", path, &ch->secret, ch, err);
    case NOTIFY_LOG:
        snprintf(p, sizeof p, "%s.path", path);
        return text(cJSON_GetObjectItemCaseSensitive(o, "path"), p, &ch->path, err);
    }
    return TEND_OK;
}

const struct notify_channel *notify_channel_find(const struct notify_config *c, const char *name) {
    for (int i = 0; i < c->n_channels; i++)
        if (strcmp(c->channels[i].name, name) == 0)
            return &c->channels[i];
    return NULL;
}

/* Checks a match value against the names its key allows. */
static bool match_value_ok(int key, const char *v) {
    enum cta_priority p;
    enum cta_type t;
    switch (key) {
    case MATCH_PRIORITY:
        return cta_priority_parse(v, &p);
    case MATCH_TYPE:
        return cta_type_parse(v, &t);
    case MATCH_EVENT:
        for (int i = 0; i < NOTIFY_EVENT_COUNT; i++)
            if (strcmp(v, event_names[i]) == 0)
                return true;
        return false;
    default:
        return true;
    }
}

static enum tend_err load_match(const cJSON *m, const char *path, struct notify_route *r,
                                char *err) {
    if (!cJSON_IsObject(m))
        return yaml_error(err, NOTIFY_ERR_BYTES, path,
                          "must map priority, type, rule, segment or event to values");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, m) {
        char p[200];
        snprintf(p, sizeof p, "%s.%s", path, kv->string);
        int key;
        for (key = 0; key < MATCH_KEYS; key++)
            if (strcmp(kv->string, match_keys[key]) == 0)
                break;
        if (key == MATCH_KEYS)
            return yaml_error(err, NOTIFY_ERR_BYTES, path,
                              "unknown condition \"%s\" (priority, type, rule, segment, event)",
                              kv->string);
        const cJSON *one = kv, *x;
        bool list = cJSON_IsArray(kv);
        if (list && (cJSON_GetArraySize(kv) == 0 || cJSON_GetArraySize(kv) > NOTIFY_MAX_MATCH))
            return yaml_error(err, NOTIFY_ERR_BYTES, p, "must list 1 to %d values",
                              NOTIFY_MAX_MATCH);
        for (x = list ? kv->child : one; x; x = list ? x->next : NULL) {
            if (!cJSON_IsString(x) || !match_value_ok(key, x->valuestring))
                return yaml_error(
                    err, NOTIFY_ERR_BYTES, p,
                    key == MATCH_PRIORITY ? "values are high, medium or low"
                    : key == MATCH_TYPE   ? "values are risk, opportunity, lifecycle or "
                                            "expansion"
                    : key == MATCH_EVENT  ? "values are open, raise, resolve, wake or held"
                                          : "values are names (text)");
            r->match[key][r->n_match[key]++] = xstrdup(x->valuestring);
        }
    }
    return TEND_OK;
}

static enum tend_err load_route(const cJSON *o, int index, struct notify_config *c,
                                struct notify_route *r, char *err) {
    char path[64], p[96];
    snprintf(path, sizeof path, "routes[%d]", index);
    if (!cJSON_IsObject(o))
        return yaml_error(err, NOTIFY_ERR_BYTES, path,
                          "must be a mapping with match (optional), to and digest (optional)");
    static const char *const keys[] = {"match", "to", "digest", "name", NULL};
    enum tend_err e = yaml_known_keys(o, path, keys, err, NOTIFY_ERR_BYTES);
    if (e)
        return e;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "match");
    snprintf(p, sizeof p, "%s.match", path);
    if (m && (e = load_match(m, p, r, err)))
        return e;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "digest");
    if (d && !cJSON_IsBool(d))
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "digest: must be true or false");
    r->digest = cJSON_IsTrue(d);
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(o, "to");
    snprintf(p, sizeof p, "%s.to", path);
    if (!to || (!cJSON_IsString(to) && !(cJSON_IsArray(to) && cJSON_GetArraySize(to) > 0)))
        return yaml_error(err, NOTIFY_ERR_BYTES, p, "must name a channel or list channels");
    bool list = cJSON_IsArray(to);
    int i = 0;
    for (const cJSON *x = list ? to->child : to; x; x = list ? x->next : NULL, i++) {
        char q[112];
        snprintf(q, sizeof q, list ? "%s[%d]" : "%s", p, i);
        const struct notify_channel *ch =
            cJSON_IsString(x) ? notify_channel_find(c, x->valuestring) : NULL;
        if (!ch)
            return yaml_error(err, NOTIFY_ERR_BYTES, q, "no channel \"%s\"",
                              cJSON_IsString(x) ? x->valuestring : "?");
        if (r->n_channels < NOTIFY_MAX_CHANNELS)
            r->channels[r->n_channels++] = (int)(ch - c->channels);
    }
    return TEND_OK;
}

static enum tend_err load_delivery(const cJSON *d, struct notify_config *c, char *err) {
    if (!cJSON_IsObject(d))
        return yaml_error(err, NOTIFY_ERR_BYTES, "delivery", "must be a mapping of settings");
    static const char *const keys[] = {"base_url",
                                       "events",
                                       "fallback_owner",
                                       "slack_users",
                                       "max_age_days",
                                       "digest",
                                       "retry",
                                       "timeout_seconds",
                                       "slack_interval_seconds",
                                       "smtp_data_timeout_seconds",
                                       NULL};
    enum tend_err e = yaml_known_keys(d, "delivery", keys, err, NOTIFY_ERR_BYTES);
    if (e)
        return e;
    const cJSON *v;
    double x = 0;
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "base_url"))) {
        if ((e = text(v, "delivery.base_url", &c->base_url, err)) ||
            (e = http_url(c->base_url, "delivery.base_url", err)))
            return e;
        size_t n = strlen(c->base_url);
        while (n > 0 && c->base_url[n - 1] == '/')
            c->base_url[--n] = '\0';
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "events"))) {
        bool list = cJSON_IsArray(v);
        memset(c->events, 0, sizeof c->events);
        for (const cJSON *y = list ? v->child : v; y; y = list ? y->next : NULL) {
            int k = NOTIFY_EVENT_COUNT;
            if (cJSON_IsString(y))
                for (k = 0; k < NOTIFY_EVENT_COUNT; k++)
                    if (strcmp(y->valuestring, event_names[k]) == 0)
                        break;
            if (k == NOTIFY_EVENT_COUNT)
                return yaml_error(err, NOTIFY_ERR_BYTES, "delivery.events",
                                  "values are open, raise, resolve, wake or held");
            c->events[k] = true;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "fallback_owner"))) {
        if ((e = text(v, "delivery.fallback_owner", &c->fallback_owner, err)))
            return e;
        if (!is_address(c->fallback_owner))
            return yaml_error(err, NOTIFY_ERR_BYTES, "delivery.fallback_owner",
                              "must be one plain address (addr@host)");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "slack_users")) &&
        (e = pairs(v, "delivery.slack_users", &c->slack_users, &c->n_slack_users, err)))
        return e;
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "max_age_days"))) {
        if ((e = yaml_number(v, "delivery.max_age_days", 0, 1e6, &x, err, NOTIFY_ERR_BYTES)))
            return e;
        c->max_age_days = (int32_t)x;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "digest"))) {
        static const char *const dkeys[] = {"hour", "timezone", NULL};
        if (!cJSON_IsObject(v))
            return yaml_error(err, NOTIFY_ERR_BYTES, "delivery.digest",
                              "must be a mapping: hour, timezone");
        if ((e = yaml_known_keys(v, "delivery.digest", dkeys, err, NOTIFY_ERR_BYTES)))
            return e;
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(v, "hour");
        if (h) {
            if ((e = yaml_number(h, "delivery.digest.hour", 0, 23, &x, err, NOTIFY_ERR_BYTES)))
                return e;
            c->digest_hour = (int)x;
        }
        const cJSON *tz = cJSON_GetObjectItemCaseSensitive(v, "timezone");
        if (tz) {
            if ((e = text(tz, "delivery.digest.timezone", &c->digest_timezone, err)))
                return e;
            GTimeZone *z = g_time_zone_new_identifier(c->digest_timezone);
            if (!z)
                return yaml_error(err, NOTIFY_ERR_BYTES, "delivery.digest.timezone",
                                  "unknown time zone \"%s\" (an IANA name such as Europe/Berlin)",
                                  c->digest_timezone);
            g_time_zone_unref(z);
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "retry"))) {
        static const char *const rkeys[] = {"max_attempts", "base_seconds", "max_seconds", NULL};
        if (!cJSON_IsObject(v))
            return yaml_error(err, NOTIFY_ERR_BYTES, "delivery.retry",
                              "must be a mapping: max_attempts, base_seconds, "
                              "max_seconds");
        if ((e = yaml_known_keys(v, "delivery.retry", rkeys, err, NOTIFY_ERR_BYTES)))
            return e;
        const cJSON *y;
        if ((y = cJSON_GetObjectItemCaseSensitive(v, "max_attempts"))) {
            if ((e = yaml_number(y, "delivery.retry.max_attempts", 1, 100, &x, err,
                                 NOTIFY_ERR_BYTES)))
                return e;
            c->max_attempts = (int)x;
        }
        if ((y = cJSON_GetObjectItemCaseSensitive(v, "base_seconds"))) {
            if ((e = yaml_number(y, "delivery.retry.base_seconds", 0.01, 86400, &x, err,
                                 NOTIFY_ERR_BYTES)))
                return e;
            c->retry_base_ms = (int64_t)(x * 1000);
        }
        if ((y = cJSON_GetObjectItemCaseSensitive(v, "max_seconds"))) {
            if ((e = yaml_number(y, "delivery.retry.max_seconds", 0.01, 7 * 86400, &x, err,
                                 NOTIFY_ERR_BYTES)))
                return e;
            c->retry_max_ms = (int64_t)(x * 1000);
        }
        if (c->retry_max_ms < c->retry_base_ms)
            return yaml_error(err, NOTIFY_ERR_BYTES, "delivery.retry",
                              "max_seconds must be at least base_seconds");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "timeout_seconds"))) {
        if ((e = yaml_number(v, "delivery.timeout_seconds", 1, 600, &x, err, NOTIFY_ERR_BYTES)))
            return e;
        c->timeout_ms = (int64_t)(x * 1000);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "smtp_data_timeout_seconds"))) {
        if ((e = yaml_number(v, "delivery.smtp_data_timeout_seconds", 1, 3600, &x, err,
                             NOTIFY_ERR_BYTES)))
            return e;
        c->data_timeout_ms = (int64_t)(x * 1000);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "slack_interval_seconds"))) {
        if ((e = yaml_number(v, "delivery.slack_interval_seconds", 0, 60, &x, err,
                             NOTIFY_ERR_BYTES)))
            return e;
        c->slack_interval_ms = (int64_t)(x * 1000);
    }
    return TEND_OK;
}

static enum tend_err load(const cJSON *delivery, const cJSON *channels, const cJSON *routes,
                          struct notify_config *c, char *err) {
    enum tend_err e;
    if (delivery && (e = load_delivery(delivery, c, err)))
        return e;
    if (channels) {
        if (!cJSON_IsObject(channels))
            return yaml_error(err, NOTIFY_ERR_BYTES, "channels",
                              "must map channel names to their settings");
        const cJSON *kv;
        cJSON_ArrayForEach(kv, channels) {
            if (c->n_channels == NOTIFY_MAX_CHANNELS)
                return yaml_error(err, NOTIFY_ERR_BYTES, "channels", "at most %d channels",
                                  NOTIFY_MAX_CHANNELS);
            if ((e = load_channel(kv, kv->string, &c->channels[c->n_channels++], err)))
                return e;
        }
    }
    if (routes) {
        if (!cJSON_IsArray(routes))
            return yaml_error(err, NOTIFY_ERR_BYTES, "routes", "must be a list of routes");
        if (cJSON_GetArraySize(routes) > NOTIFY_MAX_ROUTES)
            return yaml_error(err, NOTIFY_ERR_BYTES, "routes", "at most %d routes",
                              NOTIFY_MAX_ROUTES);
        c->has_routes = true;
        const cJSON *r;
        cJSON_ArrayForEach(r, routes) {
            if ((e = load_route(r, c->n_routes, c, &c->routes[c->n_routes], err))) {
                c->n_routes++; /* released with the rest */
                return e;
            }
            c->n_routes++;
        }
    }
    return TEND_OK;
}

enum tend_err notify_config_load(const cJSON *delivery, const cJSON *channels, const cJSON *routes,
                                 struct notify_config *c, char *err) {
    enum tend_err e = load(delivery, channels, routes, c, err);
    if (e)
        notify_config_release(c);
    return e;
}

/* ---- routing ------------------------------------------------------------------ */

static bool route_matches(const struct notify_route *r, const struct notify_subject *s) {
    const char *have[MATCH_KEYS] = {s->priority, s->type, s->rule, s->segment,
                                    event_names[s->event]};
    for (int k = 0; k < MATCH_KEYS; k++) {
        if (!r->n_match[k])
            continue;
        int i;
        for (i = 0; i < r->n_match[k]; i++)
            if (have[k] && strcmp(have[k], r->match[k][i]) == 0)
                break;
        if (i == r->n_match[k])
            return false;
    }
    return true;
}

const char *notify_slack_url(const struct notify_channel *ch, const char *target) {
    for (size_t i = 0; target[0] && i < ch->n_owners; i++)
        if (strcmp(ch->owners[i].name, target) == 0)
            return ch->owners[i].value;
    return ch->url;
}

const char *notify_slack_user(const struct notify_config *c, const char *owner,
                              const char *account_slack) {
    for (size_t i = 0; owner && i < c->n_slack_users; i++)
        if (strcmp(c->slack_users[i].name, owner) == 0)
            return c->slack_users[i].value;
    return account_slack && account_slack[0] ? account_slack : NULL;
}

const char *notify_email_to(const struct notify_config *c, const struct notify_channel *ch,
                            const char *owner) {
    return ch->to              ? ch->to
           : is_address(owner) ? owner
           : c->fallback_owner ? c->fallback_owner
                               : NULL;
}

enum tend_err notify_config_ready(const struct notify_config *c, char *err) {
    for (int i = 0; i < c->n_channels; i++) {
        if (c->channels[i].unset) {
            snprintf(err, NOTIFY_ERR_BYTES, "%s", c->channels[i].unset);
            return TEND_ERR_INVALID;
        }
    }
    return TEND_OK;
}

/* Where in channel ch the event goes. */
static void target_of(const struct notify_config *c, const struct notify_channel *ch,
                      const struct notify_subject *s, struct notify_target *t) {
    t->target[0] = '\0';
    t->error = NULL;
    const char *owner = s->owner ? s->owner : "";
    switch (ch->kind) {
    case NOTIFY_EMAIL: {
        const char *to = notify_email_to(c, ch, owner);
        if (to)
            snprintf(t->target, sizeof t->target, "%s", to);
        else
            t->error = "no email address for the owner and no delivery.fallback_owner";
        break;
    }
    case NOTIFY_SLACK:
        for (size_t i = 0; i < ch->n_owners; i++)
            if (strcmp(ch->owners[i].name, owner) == 0)
                snprintf(t->target, sizeof t->target, "%s", owner);
        if (!t->target[0] && !ch->url)
            t->error = "the owner has no webhook in owners and the channel has no url";
        break;
    default:
        break;
    }
}

int notify_route(const struct notify_config *c, const struct notify_subject *s,
                 struct notify_target *out) {
    if (s->event != NOTIFY_ESCALATE && !c->events[s->event])
        return 0;
    /* mode per channel: 0 not reached, 1 digest, 2 at once */
    int mode[NOTIFY_MAX_CHANNELS] = {0};
    if (!c->has_routes) {
        bool low = s->priority && strcmp(s->priority, "low") == 0;
        for (int i = 0; i < c->n_channels; i++)
            mode[i] = low ? 1 : 2;
    }
    for (int r = 0; r < c->n_routes; r++) {
        const struct notify_route *rt = &c->routes[r];
        if (!route_matches(rt, s))
            continue;
        for (int i = 0; i < rt->n_channels; i++) {
            int m = rt->digest ? 1 : 2;
            if (m > mode[rt->channels[i]])
                mode[rt->channels[i]] = m;
        }
    }
    int n = 0;
    for (int i = 0; i < c->n_channels; i++) {
        if (!mode[i])
            continue;
        out[n].channel = i;
        out[n].digest = mode[i] == 1;
        target_of(c, &c->channels[i], s, &out[n]);
        n++;
    }
    return n;
}

/* ---- time ----------------------------------------------------------------------- */

int64_t notify_backoff_ms(const struct notify_config *c, int failures, double random01) {
    double cap = (double)c->retry_base_ms;
    for (int i = 1; i < failures && cap < (double)c->retry_max_ms; i++)
        cap *= 2;
    if (cap > (double)c->retry_max_ms)
        cap = (double)c->retry_max_ms;
    return (int64_t)(cap / 2 + cap / 2 * random01);
}

int notify_rank(const char *priority, bool backfill) {
    int p = 1;
    if (priority && strcmp(priority, "high") == 0)
        p = 0;
    else if (priority && strcmp(priority, "low") == 0)
        p = 2;
    return backfill ? NOTIFY_RANK_DIGEST + 1 + p : p;
}

int64_t notify_digest_cutoff_ms(const struct notify_config *c, int64_t now_ms) {
    GTimeZone *tz = c->digest_timezone ? g_time_zone_new_identifier(c->digest_timezone) : NULL;
    if (!tz)
        tz = g_time_zone_new_utc();
    GDateTime *now = g_date_time_new_from_unix_utc(now_ms / 1000);
    GDateTime *local = g_date_time_to_timezone(now, tz);
    int y, m, d;
    g_date_time_get_ymd(local, &y, &m, &d);
    GDateTime *at = g_date_time_new(tz, y, m, d, c->digest_hour, 0, 0);
    int64_t at_ms = g_date_time_to_unix(at) * 1000;
    if (at_ms > now_ms) { /* today's is still to come: yesterday's */
        GDateTime *before = g_date_time_add_days(at, -1);
        g_date_time_get_ymd(before, &y, &m, &d);
        g_date_time_unref(before);
        g_date_time_unref(at);
        at = g_date_time_new(tz, y, m, d, c->digest_hour, 0, 0);
        at_ms = g_date_time_to_unix(at) * 1000;
    }
    g_date_time_unref(at);
    g_date_time_unref(local);
    g_date_time_unref(now);
    g_time_zone_unref(tz);
    return at_ms;
}
