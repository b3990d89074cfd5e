/* mapping.c: the events: section (see mapping.h).
 *
 * The loader gathers one entry per event name (aliases, renames and the
 * ignore list all say something of a name), checks each against tend's
 * vocabulary and the bounds, then sorts the entries so that applying the map
 * to a message is one binary search on its name: the common unmapped event
 * costs about log2(entries) string comparisons. */
#include "ingest/mapping.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/vocab.h"
#include "ingest/segment.h"
#include "ingest/text.h"
#include "util/mem.h"

static enum tend_err fail(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum tend_err fail(char *err, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return TEND_ERR_INVALID;
}

void event_map_default(struct event_map *m) {
    memset(m, 0, sizeof *m);
}

bool event_map_empty(const struct event_map *m) {
    return m->n_entries == 0;
}

void event_map_release(struct event_map *m) {
    for (size_t i = 0; i < m->n_entries; i++) {
        struct map_entry *e = &m->entries[i];
        for (size_t k = 0; k < e->n_renames; k++) {
            free(e->renames[k].from);
            free(e->renames[k].to);
        }
        free(e->renames);
        free(e->name);
    }
    free(m->entries);
    event_map_default(m);
}

/* The entry of name, added when missing (loading only: linear). */
static struct map_entry *entry_for(struct event_map *m, const char *name) {
    for (size_t i = 0; i < m->n_entries; i++) {
        if (strcmp(m->entries[i].name, name) == 0)
            return &m->entries[i];
    }
    m->entries = xrealloc(m->entries, (m->n_entries + 1) * sizeof *m->entries);
    struct map_entry *e = &m->entries[m->n_entries++];
    memset(e, 0, sizeof *e);
    e->name = xstrdup(name);
    return e;
}

/* Checks a name from the section: a non-empty string of at most MAP_MAX_NAME
 * bytes without control characters. what names it in the error ("alias
 * target"); path is its place ("events.aliases.\"Logged In\""). */
static enum tend_err check_name(const cJSON *v, const char *what, const char *path, char *err) {
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return fail(err, MAP_ERR_BYTES, "%s: the %s must be a non-empty string", path, what);
    size_t len = strlen(v->valuestring);
    if (len > MAP_MAX_NAME)
        return fail(err, MAP_ERR_BYTES, "%s: the %s is %zu bytes, over the limit of %d", path, what,
                    len, MAP_MAX_NAME);
    if (!text_check_id(v->valuestring, path, err, MAP_ERR_BYTES))
        return TEND_ERR_INVALID;
    return TEND_OK;
}

/* Checks a key (an event or property name) the same way as check_name. */
static enum tend_err check_key(const char *key, const char *what, const char *path, char *err) {
    cJSON v = {0};
    v.type = cJSON_String;
    v.valuestring = (char *)key;
    return check_name(&v, what, path, err);
}

/* "events.aliases.\"Logged In\"", the key quoted and cut (text_quote). */
static void key_path(char *out, size_t n, const char *prefix, const char *key) {
    char q[160];
    snprintf(out, n, "%s.%s", prefix, text_quote(key, 60, q, sizeof q));
}

/* The tend event name spelt like s but for case, or NULL (for a hint). */
static const char *vocab_like(const char *s) {
    for (int k = EV_LOGIN; k <= EV_TRACK_LAST; k++) {
        const char *name = vocab_kind_name((enum event_kind)k);
        if (strcasecmp(name, s) == 0)
            return name;
    }
    return NULL;
}

static bool is_vocab(const char *s) {
    return vocab_kind_of(s, strlen(s)) != EV_FEATURE;
}

/* events.aliases: "team name": "tend name". */
static enum tend_err load_aliases(const cJSON *a, struct event_map *m, char *err) {
    if (!cJSON_IsObject(a))
        return fail(err, MAP_ERR_BYTES,
                    "events.aliases: must be a mapping of your event names to tend's "
                    "(\"Logged In\": \"Signed In\")");
    char path[256], q[160];
    const cJSON *kv;
    cJSON_ArrayForEach(kv, a) {
        key_path(path, sizeof path, "events.aliases", kv->string);
        if (++m->n_aliases > MAP_MAX_ALIASES)
            return fail(err, MAP_ERR_BYTES, "events.aliases: more than the limit of %d aliases",
                        MAP_MAX_ALIASES);
        enum tend_err e;
        if ((e = check_key(kv->string, "event name", path, err)) ||
            (e = check_name(kv, "alias target", path, err)))
            return e;
        const char *to = kv->valuestring;
        if (is_vocab(kv->string))
            return fail(err, MAP_ERR_BYTES,
                        "%s: is one of tend's own event names; an alias maps one of your "
                        "names to tend's, so tend's names cannot be aliased (no chains or swaps)",
                        path);
        static const char *const types[] = {"identify", "group", "page",
                                            "screen",   "alias", "track"};
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            if (strcasecmp(to, types[i]) == 0)
                return fail(err, MAP_ERR_BYTES,
                            "%s: %s is a message type, not a track event; aliases map track "
                            "events to tend's track events only (docs/events.md)",
                            path, text_quote(to, 60, q, sizeof q));
        }
        if (!is_vocab(to)) {
            const char *like = vocab_like(to);
            if (like)
                return fail(err, MAP_ERR_BYTES,
                            "%s: %s is not a tend event name (names are case-sensitive: did you "
                            "mean \"%s\"?)",
                            path, text_quote(to, 60, q, sizeof q), like);
            return fail(err, MAP_ERR_BYTES,
                        "%s: %s is not a tend event name (the names are listed in "
                        "docs/events.md: Signed In, NPS Survey Responded, Ticket Opened, ...)",
                        path, text_quote(to, 60, q, sizeof q));
        }
        struct map_entry *e2 = entry_for(m, kv->string);
        e2->alias_to = vocab_kind_name(vocab_kind_of(to, strlen(to)));
    }
    return TEND_OK;
}

/* events.ignore: a list of event names. */
static enum tend_err load_ignore(const cJSON *a, struct event_map *m, char *err) {
    if (!cJSON_IsArray(a))
        return fail(err, MAP_ERR_BYTES,
                    "events.ignore: must be a list of event names ([\"Page Viewed\"])");
    char path[64];
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, a) {
        snprintf(path, sizeof path, "events.ignore[%d]", i++);
        if (++m->n_ignored > MAP_MAX_IGNORED)
            return fail(err, MAP_ERR_BYTES, "events.ignore: more than the limit of %d names",
                        MAP_MAX_IGNORED);
        enum tend_err e;
        if ((e = check_name(v, "event name", path, err)))
            return e;
        for (size_t k = 0; k < m->n_entries; k++) {
            const struct map_entry *x = &m->entries[k];
            if (x->alias_to && strcmp(x->alias_to, v->valuestring) == 0)
                return fail(err, MAP_ERR_BYTES,
                            "%s: \"%s\" is the target of events.aliases.\"%s\"; an alias to an "
                            "ignored event would be stored all the same: drop one of the two",
                            path, x->alias_to, x->name);
        }
        struct map_entry *en = entry_for(m, v->valuestring);
        if (en->alias_to)
            return fail(err, MAP_ERR_BYTES,
                        "%s: \"%s\" is also in events.aliases; an event is either mapped or "
                        "ignored",
                        path, en->name);
        en->ignore = true;
    }
    return TEND_OK;
}

/* events.properties: "event name": {from: to, ...}. */
static enum tend_err load_renames(const cJSON *a, struct event_map *m, char *err) {
    if (!cJSON_IsObject(a))
        return fail(err, MAP_ERR_BYTES,
                    "events.properties: must be a mapping of event names to property renames "
                    "(\"NPS Submitted\": {nps_score: score})");
    char path[256], ppath[512];
    const cJSON *ev;
    cJSON_ArrayForEach(ev, a) {
        key_path(path, sizeof path, "events.properties", ev->string);
        enum tend_err e;
        if ((e = check_key(ev->string, "event name", path, err)))
            return e;
        if (!cJSON_IsObject(ev) || !ev->child)
            return fail(err, MAP_ERR_BYTES,
                        "%s: must be a mapping of your property names to tend's "
                        "(nps_score: score)",
                        path);
        struct map_entry *en = entry_for(m, ev->string);
        if (en->ignore)
            return fail(err, MAP_ERR_BYTES,
                        "%s: the event is in events.ignore; an ignored event is not stored, so "
                        "its properties are never renamed",
                        path);
        const cJSON *kv;
        cJSON_ArrayForEach(kv, ev) {
            key_path(ppath, sizeof ppath, path, kv->string);
            if (++m->n_renames > MAP_MAX_RENAMES)
                return fail(err, MAP_ERR_BYTES,
                            "events.properties: more than the limit of %d renames",
                            MAP_MAX_RENAMES);
            if ((e = check_key(kv->string, "property name", ppath, err)) ||
                (e = check_name(kv, "new property name", ppath, err)))
                return e;
            if (strcmp(kv->string, kv->valuestring) == 0)
                return fail(err, MAP_ERR_BYTES, "%s: renames the property to itself", ppath);
            for (size_t k = 0; k < en->n_renames; k++) {
                if (strcmp(en->renames[k].to, kv->valuestring) == 0)
                    return fail(err, MAP_ERR_BYTES,
                                "%s: %s and %s would both become \"%s\"; a property gets one "
                                "source",
                                ppath, en->renames[k].from, kv->string, kv->valuestring);
                if (strcmp(en->renames[k].to, kv->string) == 0 ||
                    strcmp(en->renames[k].from, kv->valuestring) == 0)
                    return fail(err, MAP_ERR_BYTES,
                                "%s: chains or swaps of properties are refused (%s -> %s, "
                                "%s -> %s): rename each of your properties to tend's directly",
                                ppath, en->renames[k].from, en->renames[k].to, kv->string,
                                kv->valuestring);
            }
            en->renames = xrealloc(en->renames, (en->n_renames + 1) * sizeof *en->renames);
            en->renames[en->n_renames++] =
                (struct map_rename){xstrdup(kv->string), xstrdup(kv->valuestring)};
        }
    }
    return TEND_OK;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct map_entry *)a)->name, ((const struct map_entry *)b)->name);
}

enum tend_err event_map_load(const cJSON *events, struct event_map *m, char *err) {
    event_map_default(m);
    if (!events || cJSON_IsNull(events))
        return TEND_OK;
    if (!cJSON_IsObject(events))
        return fail(err, MAP_ERR_BYTES,
                    "events: must be a mapping with aliases, properties and ignore");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, events) {
        if (strcmp(kv->string, "aliases") && strcmp(kv->string, "properties") &&
            strcmp(kv->string, "ignore")) {
            char q[160];
            return fail(err, MAP_ERR_BYTES,
                        "events.%s: unknown key (known: aliases, properties, ignore)",
                        text_quote(kv->string, 60, q, sizeof q));
        }
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(events, "aliases");
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(events, "ignore");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(events, "properties");
    enum tend_err e = TEND_OK;
    if (a && !cJSON_IsNull(a))
        e = load_aliases(a, m, err);
    if (!e && i && !cJSON_IsNull(i))
        e = load_ignore(i, m, err);
    if (!e && p && !cJSON_IsNull(p))
        e = load_renames(p, m, err);
    if (e) {
        event_map_release(m);
        return e;
    }
    if (m->n_entries)
        qsort(m->entries, m->n_entries, sizeof *m->entries, by_name);
    return TEND_OK;
}

static const struct map_entry *find(const struct event_map *m, const char *name) {
    if (!m->n_entries)
        return NULL;
    struct map_entry key = {.name = (char *)name};
    return bsearch(&key, m->entries, m->n_entries, sizeof *m->entries, by_name);
}

/* Applies en's renames to the properties object p; counts them in r. */
static enum tend_err rename_props(const struct map_entry *en, cJSON *p, struct map_result *r,
                                  char *err) {
    for (size_t k = 0; k < en->n_renames; k++) {
        const struct map_rename *rn = &en->renames[k];
        if (!cJSON_GetObjectItemCaseSensitive(p, rn->from))
            continue;
        if (cJSON_GetObjectItemCaseSensitive(p, rn->to))
            return fail(err, SEG_ERR_BYTES,
                        "properties.%s: renamed to %s by events.properties, but the message "
                        "has properties.%s too",
                        rn->from, rn->to, rn->to);
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(p, rn->from);
        cJSON_AddItemToObject(p, rn->to, v);
        r->renamed++;
    }
    return TEND_OK;
}

enum tend_err event_map_apply(const struct event_map *m, cJSON *item, struct map_result *r,
                              char *err) {
    memset(r, 0, sizeof *r);
    if (!m || !m->n_entries || !cJSON_IsObject(item))
        return TEND_OK;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
    cJSON *event = cJSON_GetObjectItemCaseSensitive(item, "event");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "track") != 0 || !cJSON_IsString(event))
        return TEND_OK;
    const struct map_entry *en = find(m, event->valuestring);
    if (!en)
        return TEND_OK;
    if (en->ignore) {
        r->action = MAP_IGNORED;
        return TEND_OK;
    }
    const struct map_entry *then = NULL;
    if (en->alias_to) {
        cJSON_SetValuestring(event, en->alias_to);
        r->aliased = true;
        then = find(m, en->alias_to);
    }
    cJSON *p = cJSON_GetObjectItemCaseSensitive(item, "properties");
    if (cJSON_IsObject(p)) {
        enum tend_err e = rename_props(en, p, r, err);
        if (!e && then)
            e = rename_props(then, p, r, err);
        if (e)
            return e;
    }
    r->action = r->aliased || r->renamed ? MAP_MAPPED : MAP_KEPT;
    return TEND_OK;
}
