/* mapping.h: the events: section of tend.yaml, a team's own event names.
 *
 * A team's tracking plan rarely uses tend's names: its product sends
 * "Logged In", not "Signed In", and "NPS Submitted" with nps_score, not
 * "NPS Survey Responded" with score. events: maps those names once, so the
 * plan works as it is (docs/config.md "events", docs/events.md "Your own
 * event names"):
 *
 *   events:
 *     aliases:                      # the team's name: tend's name
 *       "Logged In": "Signed In"
 *       "NPS Submitted": "NPS Survey Responded"
 *     properties:                   # per event name: property renames
 *       "NPS Submitted":
 *         nps_score: score
 *     ignore:                       # acknowledged, counted, not stored
 *       - "Page Viewed"
 *
 * Only track events are mapped (identify, group, page, ... pass as they
 * are). An alias's target must be one of tend's event names (core/vocab.h),
 * and an alias's source must not be one (no chains or swaps). Names are
 * case-sensitive, as everywhere in tend: "logged in" is not "Logged In".
 *
 * Order, for one track event: ignore is decided on the name as sent; then
 * the alias renames the event; then the property renames listed under the
 * name as sent apply, then (for an aliased event) those listed under tend's
 * name. All of it happens before validation (segment.h), so a renamed
 * property is checked as tend's own ("properties.score: must be ...").
 *
 * event_map_apply() is pure apart from editing the message's cJSON tree.
 * A loaded map is read-only and may be shared by threads. */
#ifndef TEND_INGEST_MAPPING_H
#define TEND_INGEST_MAPPING_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Bounds: a map is looked up for every message, and tend.yaml is read
 * whole; these are far above any real tracking plan. */
#define MAP_MAX_ALIASES 500  /* entries of events.aliases */
#define MAP_MAX_IGNORED 500  /* entries of events.ignore */
#define MAP_MAX_RENAMES 1000 /* property renames, all events together */
#define MAP_MAX_NAME    200  /* bytes of an event or property name */
#define MAP_ERR_BYTES   384

struct map_rename {
    char *from, *to;
};

/* What the map says of one event name (as sent, or tend's for renames). */
struct map_entry {
    char *name;
    const char *alias_to; /* tend's name (static, core/vocab.c), or NULL */
    bool ignore;
    struct map_rename *renames;
    size_t n_renames;
};

struct event_map {
    struct map_entry *entries; /* sorted by name (strcmp), for bsearch */
    size_t n_entries;
    size_t n_aliases, n_ignored, n_renames;
};

/* What event_map_apply did to one message. */
enum map_action {
    MAP_KEPT,    /* not a mapped track event: unchanged */
    MAP_MAPPED,  /* aliased and/or properties renamed (see the flags) */
    MAP_IGNORED, /* on the ignore list: acknowledge, count, do not store */
};

struct map_result {
    enum map_action action;
    bool aliased; /* the event's name was replaced by tend's */
    int renamed;  /* properties renamed */
};

/* An empty map: every message passes unchanged. */
void event_map_default(struct event_map *m);
/* Loads events: (NULL: the empty map) into *m. On a mistake returns
 * TEND_ERR_INVALID with the path and the reason in err (MAP_ERR_BYTES),
 * e.g. "events.aliases.\"Logged In\": \"Signed in\" is not a tend event
 * name (did you mean \"Signed In\"?)", and *m is left empty. */
enum tend_err event_map_load(const cJSON *events, struct event_map *m, char *err);
/* Frees what loading allocated; *m becomes the empty map. */
void event_map_release(struct event_map *m);

/* Applies m to item, one Segment message (anything else than a track event
 * with a string name passes unchanged: validation reports it). Fills *r.
 * Fails with TEND_ERR_INVALID and the field in err (SEG_ERR_BYTES of
 * segment.h) when a rename would overwrite a property the message also has
 * ("properties.nps_score: renamed to score by events.properties, but the
 * message has score too"); the item may then be partly renamed and must be
 * rejected. */
enum tend_err event_map_apply(const struct event_map *m, cJSON *item, struct map_result *r,
                              char *err);

/* True when m maps nothing (no need to call apply). */
bool event_map_empty(const struct event_map *m);

#endif
