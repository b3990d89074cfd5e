/* escalate.c: escalation decisions and business hours (see escalate.h).
 *
 * Local time is reached through the zone's offset function only: a local
 * instant L (ms since 1970-01-01 00:00 local) is the UTC instant u with
 * u + offset(u) = L. Around a DST change there are none (a gap) or two (a
 * repeat); we try the offsets in force a day before and a day after (a zone
 * changes at most once in two days) and keep, as glib does, the earlier of
 * a repeat and, for a gap, the instant the clock jumps to. */
#include "core/escalate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/datetime.h"
#include "util/mem.h"
#include "util/yaml.h"

#define MS_PER_MIN  60000LL
#define MS_PER_HOUR 3600000LL
#define SEARCH_DAYS 3660 /* ten years of local days, at most */

void esc_config_default(struct esc_config *c) {
    memset(c, 0, sizeof *c);
    c->prio[CTA_HIGH] =
        (struct esc_priority){.unacted_hours = 4, .overdue_days = 1, .wall_clock = true};
    c->prio[CTA_MEDIUM] = (struct esc_priority){.unacted_hours = 16, .overdue_days = 2};
    c->prio[CTA_LOW] = (struct esc_priority){.unacted_hours = -1, .overdue_days = 5};
    c->max_per_pass = ESC_PER_PASS;
    c->start_minute = 9 * 60;
    c->end_minute = 17 * 60;
    for (int i = 0; i < 5; i++)
        c->days[i] = true;
}

void esc_config_release(struct esc_config *c) {
    if (!c)
        return;
    for (size_t i = 0; i < c->n_managers; i++) {
        free(c->managers[i].owner);
        free(c->managers[i].manager);
    }
    free(c->managers);
    free(c->holidays);
    free(c->contact);
    esc_config_default(c);
}

const char *esc_manager_of(const struct esc_config *c, const char *owner) {
    for (size_t i = 0; owner && i < c->n_managers; i++)
        if (strcmp(c->managers[i].owner, owner) == 0)
            return c->managers[i].manager;
    return c->contact;
}

const char *esc_level_name(enum esc_level l) {
    return l == ESC_UNACTED ? "unacted" : l == ESC_OVERDUE ? "overdue" : "?";
}

/* ---- loading ---------------------------------------------------------------------- */

/* Text of at most 320 bytes, not empty, without control characters. */
static enum tend_err name_text(const cJSON *v, const char *path, char **out, char *err) {
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > 320)
        return yaml_error(err, ESC_ERR_BYTES, path, "must be text of 1 to 320 bytes");
    for (const unsigned char *p = (const unsigned char *)v->valuestring; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return yaml_error(err, ESC_ERR_BYTES, path, "must not hold control characters");
    *out = xstrdup(v->valuestring);
    return TEND_OK;
}

/* "HH:MM" into minutes after midnight, 00:00 to 24:00. */
static bool parse_hhmm(const char *s, int *minute) {
    int h, m;
    char tail;
    if (!s || strlen(s) != 5 || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || s[2] != ':')
        return false;
    if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0))
        return false;
    *minute = h * 60 + m;
    return true;
}

static enum tend_err load_priority(const cJSON *o, const char *name, struct esc_priority *p,
                                   char *err) {
    char path[96];
    snprintf(path, sizeof path, "escalation.%s", name);
    if (!cJSON_IsObject(o))
        return yaml_error(err, ESC_ERR_BYTES, path,
                          "must be a mapping of unacted_hours, overdue_days and clock");
    static const char *const keys[] = {"unacted_hours", "overdue_days", "clock", NULL};
    enum tend_err e = yaml_known_keys(o, path, keys, err, ESC_ERR_BYTES);
    if (e)
        return e;
    const cJSON *v;
    char p2[128];
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "unacted_hours"))) {
        snprintf(p2, sizeof p2, "%s.unacted_hours", path);
        if (cJSON_IsFalse(v) || cJSON_IsNull(v))
            p->unacted_hours = -1;
        else if ((e = yaml_number(v, p2, 0, ESC_MAX_HOURS, &p->unacted_hours, err, ESC_ERR_BYTES)))
            return e;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "overdue_days"))) {
        snprintf(p2, sizeof p2, "%s.overdue_days", path);
        double d;
        if (cJSON_IsFalse(v) || cJSON_IsNull(v))
            p->overdue_days = -1;
        else if ((e = yaml_number(v, p2, 0, ESC_MAX_DAYS, &d, err, ESC_ERR_BYTES)))
            return e;
        else if (d != floor(d))
            return yaml_error(err, ESC_ERR_BYTES, p2, "must be a whole number of days");
        else
            p->overdue_days = (int)d;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "clock"))) {
        snprintf(p2, sizeof p2, "%s.clock", path);
        if (!cJSON_IsString(v) ||
            (strcmp(v->valuestring, "wall") != 0 && strcmp(v->valuestring, "business") != 0))
            return yaml_error(err, ESC_ERR_BYTES, p2, "must be wall or business");
        p->wall_clock = strcmp(v->valuestring, "wall") == 0;
    }
    return TEND_OK;
}

static int cmp_day(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static enum tend_err load_hours(const cJSON *o, struct esc_config *c, char *err) {
    const char *path = "escalation.business_hours";
    if (!cJSON_IsObject(o))
        return yaml_error(err, ESC_ERR_BYTES, path,
                          "must be a mapping of start, end, days and holidays");
    static const char *const keys[] = {"start", "end", "days", "holidays", NULL};
    enum tend_err e = yaml_known_keys(o, path, keys, err, ESC_ERR_BYTES);
    if (e)
        return e;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "start")) &&
        !(cJSON_IsString(v) && parse_hhmm(v->valuestring, &c->start_minute)))
        return yaml_error(err, ESC_ERR_BYTES, "escalation.business_hours.start",
                          "must be a local time HH:MM (quote it: \"09:00\")");
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "end")) &&
        !(cJSON_IsString(v) && parse_hhmm(v->valuestring, &c->end_minute)))
        return yaml_error(err, ESC_ERR_BYTES, "escalation.business_hours.end",
                          "must be a local time HH:MM (quote it: \"17:00\")");
    if (c->end_minute <= c->start_minute)
        return yaml_error(err, ESC_ERR_BYTES, "escalation.business_hours.end",
                          "must be after start (business hours within one day)");
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "days"))) {
        static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0 || cJSON_GetArraySize(v) > 7)
            return yaml_error(err, ESC_ERR_BYTES, "escalation.business_hours.days",
                              "must list 1 to 7 days (mon, tue, wed, thu, fri, sat, sun)");
        memset(c->days, 0, sizeof c->days);
        int i = 0;
        for (const cJSON *d = v->child; d; d = d->next, i++) {
            int k = 7;
            for (k = 0; cJSON_IsString(d) && k < 7; k++)
                if (strcmp(d->valuestring, names[k]) == 0)
                    break;
            if (!cJSON_IsString(d) || k == 7) {
                char p[96];
                snprintf(p, sizeof p, "escalation.business_hours.days[%d]", i);
                return yaml_error(err, ESC_ERR_BYTES, p,
                                  "must be mon, tue, wed, thu, fri, sat or sun");
            }
            c->days[k] = true;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "holidays"))) {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > ESC_MAX_HOLIDAYS)
            return yaml_error(err, ESC_ERR_BYTES, "escalation.business_hours.holidays",
                              "must list at most %d dates YYYY-MM-DD", ESC_MAX_HOLIDAYS);
        c->holidays = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *c->holidays);
        int i = 0;
        for (const cJSON *d = v->child; d; d = d->next, i++) {
            int32_t day;
            if (!cJSON_IsString(d) ||
                !dt_parse_date(d->valuestring, strlen(d->valuestring), &day)) {
                char p[96];
                snprintf(p, sizeof p, "escalation.business_hours.holidays[%d]", i);
                return yaml_error(err, ESC_ERR_BYTES, p, "must be a date YYYY-MM-DD");
            }
            c->holidays[c->n_holidays++] = day;
        }
        qsort(c->holidays, c->n_holidays, sizeof *c->holidays, cmp_day);
    }
    return TEND_OK;
}

static enum tend_err load_managers(const cJSON *o, struct esc_config *c, char *err) {
    const char *path = "escalation.managers";
    if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) > ESC_MAX_MANAGERS)
        return yaml_error(err, ESC_ERR_BYTES, path,
                          "must map at most %d owners to their manager (owner: manager)",
                          ESC_MAX_MANAGERS);
    c->managers = xcalloc((size_t)cJSON_GetArraySize(o) + 1, sizeof *c->managers);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, o) {
        char p[400];
        snprintf(p, sizeof p, "%s.%s", path, kv->string);
        struct esc_manager *m = &c->managers[c->n_managers];
        enum tend_err e = name_text(kv, p, &m->manager, err);
        if (e)
            return e;
        m->owner = xstrdup(kv->string);
        c->n_managers++;
    }
    return TEND_OK;
}

enum tend_err esc_config_load(const cJSON *section, struct esc_config *c, char *err) {
    esc_config_default(c);
    if (!section)
        return TEND_OK;
    enum tend_err e = TEND_OK;
    if (!cJSON_IsObject(section)) {
        e = yaml_error(err, ESC_ERR_BYTES, "escalation",
                       "must be a mapping (enabled, high, medium, low, business_hours, managers, "
                       "contact)");
        goto done;
    }
    static const char *const keys[] = {"enabled", "high",           "medium",
                                       "low",     "business_hours", "managers",
                                       "contact", "max_per_pass",   NULL};
    if ((e = yaml_known_keys(section, "escalation", keys, err, ESC_ERR_BYTES)))
        goto done;
    c->enabled = true;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(section, "enabled"))) {
        if (!cJSON_IsBool(v)) {
            e = yaml_error(err, ESC_ERR_BYTES, "escalation.enabled", "must be true or false");
            goto done;
        }
        c->enabled = cJSON_IsTrue(v);
    }
    static const char *const prios[] = {"low", "medium", "high"};
    for (int p = 0; p < 3; p++)
        if ((v = cJSON_GetObjectItemCaseSensitive(section, prios[p])) &&
            (e = load_priority(v, prios[p], &c->prio[p], err)))
            goto done;
    if ((v = cJSON_GetObjectItemCaseSensitive(section, "business_hours")) &&
        (e = load_hours(v, c, err)))
        goto done;
    if ((v = cJSON_GetObjectItemCaseSensitive(section, "managers")) &&
        (e = load_managers(v, c, err)))
        goto done;
    if ((v = cJSON_GetObjectItemCaseSensitive(section, "contact")) &&
        (e = name_text(v, "escalation.contact", &c->contact, err)))
        goto done;
    if ((v = cJSON_GetObjectItemCaseSensitive(section, "max_per_pass"))) {
        double n;
        if ((e = yaml_number(v, "escalation.max_per_pass", 1, 100000, &n, err, ESC_ERR_BYTES)))
            goto done;
        if (n != floor(n)) {
            e = yaml_error(err, ESC_ERR_BYTES, "escalation.max_per_pass", "must be a whole number");
            goto done;
        }
        c->max_per_pass = (int)n;
    }
done:
    if (e)
        esc_config_release(c);
    return e;
}

/* ---- local time ------------------------------------------------------------------- */

static int64_t offset_ms(const struct esc_zone *z, int64_t utc_ms) {
    return z && z->offset_s ? (int64_t)z->offset_s(z->arg, utc_ms) * 1000 : 0;
}

int32_t esc_local_day(const struct esc_zone *z, int64_t utc_ms) {
    return dt_day_of_ms(utc_ms + offset_ms(z, utc_ms));
}

/* The UTC instant of local instant local_ms (see the file's header). */
static int64_t from_local(const struct esc_zone *z, int64_t local_ms) {
    int64_t before = offset_ms(z, local_ms - DT_MS_PER_DAY - offset_ms(z, local_ms));
    int64_t after = offset_ms(z, local_ms + DT_MS_PER_DAY - offset_ms(z, local_ms));
    int64_t u1 = local_ms - before, u2 = local_ms - after;
    bool ok1 = offset_ms(z, u1) == before, ok2 = offset_ms(z, u2) == after;
    if (ok1 && ok2)
        return u1 < u2 ? u1 : u2;
    if (ok1)
        return u1;
    if (ok2)
        return u2;
    /* A gap: the local time does not exist; read with the offset before
     * it, it lands as far past the jump as it was past the gap's start
     * (02:30 on a spring-forward night at 02:00 is 03:30). */
    return u1;
}

int64_t esc_local_instant(const struct esc_zone *z, int32_t day, int minute) {
    return from_local(z, (int64_t)day * DT_MS_PER_DAY + (int64_t)minute * MS_PER_MIN);
}

/* Monday 0 ... Sunday 6 of a day number (1970-01-01 was a Thursday). */
static int weekday(int32_t day) {
    int w = (int)((day + 3) % 7);
    return w < 0 ? w + 7 : w;
}

static bool working_day(const struct esc_config *c, int32_t day) {
    if (!c->days[weekday(day)])
        return false;
    return !(c->n_holidays &&
             bsearch(&day, c->holidays, c->n_holidays, sizeof day, cmp_day) != NULL);
}

int64_t esc_business_add(const struct esc_config *c, const struct esc_zone *z, int64_t from_ms,
                         double hours) {
    int64_t left = (int64_t)llround(hours * (double)MS_PER_HOUR);
    int32_t day = esc_local_day(z, from_ms);
    for (int i = 0; i < SEARCH_DAYS; i++, day++) {
        if (!working_day(c, day))
            continue;
        int64_t open = esc_local_instant(z, day, c->start_minute);
        int64_t close = esc_local_instant(z, day, c->end_minute);
        int64_t at = from_ms > open ? from_ms : open;
        if (at >= close)
            continue;
        if (left <= close - at)
            return at + left;
        left -= close - at;
    }
    return INT64_MAX;
}

/* ---- the plan --------------------------------------------------------------------- */

static enum cta_priority raised(enum cta_priority p) {
    return p < CTA_HIGH ? (enum cta_priority)(p + 1) : p;
}

/* The deadline of level l for a CTA at priority p; INT64_MAX: never. */
static int64_t deadline(const struct esc_config *c, const struct esc_zone *z,
                        const struct esc_cta *x, enum cta_priority p, enum esc_level l,
                        char *reason, size_t size) {
    const struct esc_priority *t = &c->prio[p];
    const char *clock = t->wall_clock ? "" : "business ";
    if (l == ESC_UNACTED) {
        if (t->unacted_hours < 0)
            return INT64_MAX;
        int64_t open = x->open_ms;
        int64_t end_of_day = (int64_t)(x->opened_day + 1) * DT_MS_PER_DAY;
        if (!open || open > end_of_day) /* a replay of a past day: as of its end */
            open = end_of_day;
        snprintf(reason, size, "not acted on for %g %shour%s since it opened", t->unacted_hours,
                 clock, t->unacted_hours == 1 ? "" : "s");
        return t->wall_clock ? open + (int64_t)llround(t->unacted_hours * (double)MS_PER_HOUR)
                             : esc_business_add(c, z, open, t->unacted_hours);
    }
    if (t->overdue_days < 0)
        return INT64_MAX;
    char due[16];
    dt_format_date(x->due_day, due);
    snprintf(reason, size, "overdue by %d %sday%s (due %s)", t->overdue_days, clock,
             t->overdue_days == 1 ? "" : "s", due);
    /* The due date ends at local midnight; then overdue_days more days,
     * calendar days on the wall clock, business days' hours otherwise. */
    if (t->wall_clock)
        return esc_local_instant(z, x->due_day + 1 + t->overdue_days, 0);
    int64_t ends = esc_local_instant(z, x->due_day + 1, 0);
    double day_hours = (double)(c->end_minute - c->start_minute) / 60.0;
    return esc_business_add(c, z, ends, day_hours * t->overdue_days);
}

int esc_plan(const struct esc_config *c, const struct esc_zone *z, const struct esc_cta *x,
             int64_t now_ms, struct esc_due out[2]) {
    if (!c->enabled)
        return 0;
    int n = 0;
    enum cta_priority p = x->priority;
    static const enum esc_level levels[] = {ESC_UNACTED, ESC_OVERDUE};
    for (int i = 0; i < 2; i++) {
        enum esc_level l = levels[i];
        if (x->levels_done & (1u << l))
            continue;
        /* Someone acted on it (by now): it is not "unacted", whenever that was. */
        if (l == ESC_UNACTED && x->first_act_ms && x->first_act_ms <= now_ms)
            continue;
        char reason[sizeof out[0].reason];
        int64_t d = deadline(c, z, x, p, l, reason, sizeof reason);
        if (d == INT64_MAX || d > now_ms)
            continue;
        out[n].level = l;
        out[n].deadline_ms = d;
        out[n].from = p;
        out[n].to = raised(p);
        snprintf(out[n].reason, sizeof out[n].reason, "%s", reason);
        p = out[n].to;
        n++;
    }
    return n;
}
