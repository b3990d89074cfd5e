/* segments.c: groups of accounts by day and segment_shift (see segments.h). */
#include "core/segments.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

static const char *const kind_names[SEG_KIND_COUNT] = {"segment", "plan", "owner"};

const char *seg_kind_name(enum seg_kind k) {
    return k < SEG_KIND_COUNT ? kind_names[k] : "?";
}

bool seg_kind_parse(const char *name, enum seg_kind *out) {
    for (int k = 0; k < SEG_KIND_COUNT; k++) {
        if (name && strcmp(name, kind_names[k]) == 0) {
            *out = (enum seg_kind)k;
            return true;
        }
    }
    return false;
}

void seg_sums_add(struct seg_sums *d, const struct seg_sums *s) {
    d->accounts += s->accounts;
    d->arr_accounts += s->arr_accounts;
    d->arr += s->arr;
    d->scored += s->scored;
    d->health_sum += s->health_sum;
    d->red += s->red;
    d->yellow += s->yellow;
    d->green += s->green;
    d->active_users += s->active_users;
    d->logins_7d += s->logins_7d;
    d->feature_events_7d += s->feature_events_7d;
    d->nps_accounts += s->nps_accounts;
    d->nps_sum += s->nps_sum;
    d->tickets_30d += s->tickets_30d;
    d->tickets_open += s->tickets_open;
    d->open_ctas += s->open_ctas;
}

/* ---- the day's groups ---------------------------------------------------------- */

struct seg_agg {
    struct seg_group *g; /* sorted by kind, name */
    size_t n, cap;
    size_t per_kind[SEG_KIND_COUNT];
};

struct seg_agg *seg_agg_new(void) {
    return xcalloc(1, sizeof(struct seg_agg));
}

void seg_agg_free(struct seg_agg *a) {
    if (!a)
        return;
    free(a->g);
    free(a);
}

static int cmp_key(enum seg_kind k, const char *name, const struct seg_group *g) {
    if (k != g->kind)
        return k < g->kind ? -1 : 1;
    return strcmp(name, g->name);
}

/* The group (kind, name), made when new; a name too long, or a new group
 * beyond SEG_MAX_GROUPS of its kind, is "(other)". */
static struct seg_group *group(struct seg_agg *a, enum seg_kind k, const char *name) {
    if (!name || !name[0])
        name = SEG_NONE;
    if (strlen(name) >= SEG_NAME_BYTES)
        name = SEG_OTHER;
    for (;;) {
        size_t lo = 0, hi = a->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int c = cmp_key(k, name, &a->g[mid]);
            if (c == 0)
                return &a->g[mid];
            if (c < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        /* Room for (other) always: the limit counts the named groups. */
        if (a->per_kind[k] >= SEG_MAX_GROUPS && strcmp(name, SEG_OTHER) != 0) {
            name = SEG_OTHER;
            continue;
        }
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 32;
            a->g = xrealloc(a->g, a->cap * sizeof *a->g);
        }
        memmove(&a->g[lo + 1], &a->g[lo], (a->n - lo) * sizeof *a->g);
        memset(&a->g[lo], 0, sizeof a->g[lo]);
        a->g[lo].kind = k;
        snprintf(a->g[lo].name, sizeof a->g[lo].name, "%s", name);
        a->n++;
        if (strcmp(name, SEG_OTHER) != 0)
            a->per_kind[k]++;
        return &a->g[lo];
    }
}

void seg_agg_add(struct seg_agg *a, const struct seg_account *x) {
    struct seg_sums s = {.accounts = 1};
    if (x->has_arr && isfinite(x->arr)) {
        s.arr_accounts = 1;
        s.arr = x->arr;
    }
    if (x->has_score && isfinite(x->score)) {
        s.scored = 1;
        s.health_sum = x->score;
        s.red = x->band == 1;
        s.yellow = x->band == 2;
        s.green = x->band == 3;
    }
    s.active_users = x->active_users_30d;
    s.logins_7d = x->logins_7d;
    s.feature_events_7d = x->feature_events_7d;
    if (x->has_nps && isfinite(x->nps)) {
        s.nps_accounts = 1;
        s.nps_sum = x->nps;
    }
    s.tickets_30d = x->tickets_30d;
    s.tickets_open = x->tickets_open;
    s.open_ctas = x->open_ctas;
    const char *names[SEG_KIND_COUNT] = {x->segment, x->plan, x->owner};
    for (int k = 0; k < SEG_KIND_COUNT; k++)
        seg_sums_add(&group(a, (enum seg_kind)k, names[k])->s, &s);
}

void seg_agg_add_sums(struct seg_agg *a, enum seg_kind kind, const char *name,
                      const struct seg_sums *s) {
    seg_sums_add(&group(a, kind, name)->s, s);
}

const struct seg_group *seg_agg_groups(const struct seg_agg *a, size_t *n) {
    *n = a->n;
    return a->g;
}

/* ---- metrics ---------------------------------------------------------------- */

static const char *const metric_names[SEG_M_COUNT] = {"health_mean",
                                                      "logins_per_active_user",
                                                      "feature_events_per_active_user",
                                                      "nps",
                                                      "tickets_per_account",
                                                      "arr",
                                                      "red_share",
                                                      "open_ctas"};

const char *seg_metric_name(enum seg_metric m) {
    return m < SEG_M_COUNT ? metric_names[m] : "?";
}

static bool ratio(double num, double den, double *out) {
    if (den <= 0)
        return false;
    *out = num / den;
    return true;
}

bool seg_metric(const struct seg_sums *s, enum seg_metric m, double *out) {
    switch (m) {
    case SEG_M_HEALTH_MEAN:
        return ratio(s->health_sum, (double)s->scored, out);
    case SEG_M_LOGINS_PER_ACTIVE:
        return ratio((double)s->logins_7d, (double)s->active_users, out);
    case SEG_M_FEATURES_PER_ACTIVE:
        return ratio((double)s->feature_events_7d, (double)s->active_users, out);
    case SEG_M_NPS:
        return ratio(s->nps_sum, (double)s->nps_accounts, out);
    case SEG_M_TICKETS_PER_ACCOUNT:
        return ratio((double)s->tickets_30d, (double)s->accounts, out);
    case SEG_M_ARR:
        *out = s->arr;
        return s->arr_accounts > 0;
    case SEG_M_RED_SHARE:
        return ratio((double)s->red, (double)s->scored, out);
    case SEG_M_OPEN_CTAS:
        *out = (double)s->open_ctas;
        return true;
    case SEG_M_COUNT:
        break;
    }
    return false;
}

/* ---- segments: ----------------------------------------------------------------- */

enum tend_err seg_config_load(const cJSON *segments, struct seg_config *c, char *err) {
    c->n_owners = 0;
    if (!segments || cJSON_IsNull(segments))
        return TEND_OK;
    if (!cJSON_IsObject(segments)) {
        snprintf(err, SEG_ERR_BYTES,
                 "segments: must be a mapping of segment names to {owner: EMAIL}");
        return TEND_ERR_INVALID;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, segments) {
        if (!kv->string[0] || strlen(kv->string) >= SEG_NAME_BYTES) {
            snprintf(err, SEG_ERR_BYTES, "segments: a segment name must be 1 to %d bytes",
                     SEG_NAME_BYTES - 1);
            return TEND_ERR_INVALID;
        }
        if (!cJSON_IsObject(kv)) {
            snprintf(err, SEG_ERR_BYTES, "segments.%.*s: must be a mapping (owner)", 120,
                     kv->string);
            return TEND_ERR_INVALID;
        }
        if (c->n_owners == SEG_MAX_OWNERS) {
            snprintf(err, SEG_ERR_BYTES, "segments: more than the limit of %d segments",
                     SEG_MAX_OWNERS);
            return TEND_ERR_INVALID;
        }
        struct seg_owner *o = &c->owners[c->n_owners];
        memset(o, 0, sizeof *o);
        snprintf(o->segment, sizeof o->segment, "%s", kv->string);
        const cJSON *f;
        cJSON_ArrayForEach(f, kv) {
            if (strcmp(f->string, "owner") != 0) {
                snprintf(err, SEG_ERR_BYTES, "segments.%.*s.%.*s: unknown setting (known: owner)",
                         120, kv->string, 60, f->string);
                return TEND_ERR_INVALID;
            }
            if (!cJSON_IsString(f) || !f->valuestring[0] ||
                strlen(f->valuestring) >= SEG_EMAIL_BYTES) {
                snprintf(err, SEG_ERR_BYTES,
                         "segments.%.*s.owner: must be an email address of 1 to %d bytes", 120,
                         kv->string, SEG_EMAIL_BYTES - 1);
                return TEND_ERR_INVALID;
            }
            snprintf(o->owner, sizeof o->owner, "%s", f->valuestring);
        }
        c->n_owners++;
    }
    return TEND_OK;
}

const char *seg_owner_of(const struct seg_config *c, const char *segment, const char *fallback) {
    for (int i = 0; segment && i < c->n_owners; i++)
        if (strcmp(c->owners[i].segment, segment) == 0 && c->owners[i].owner[0])
            return c->owners[i].owner;
    if (c->cs_lead[0])
        return c->cs_lead;
    return fallback && fallback[0] ? fallback : "unassigned";
}

/* ---- segment_shift ----------------------------------------------------------- */

/* The metrics the rule watches, and the direction that is bad (-1: down). */
static const struct {
    enum seg_metric m;
    int bad;
    const char *label;
} watched[] = {
    {SEG_M_HEALTH_MEAN, -1, "health mean"},
    {SEG_M_LOGINS_PER_ACTIVE, -1, "logins per active user"},
    {SEG_M_FEATURES_PER_ACTIVE, -1, "feature use per active user"},
    {SEG_M_NPS, -1, "NPS"},
    {SEG_M_TICKETS_PER_ACCOUNT, +1, "tickets per account"},
};

static int append(char *buf, size_t size, int len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends to buf at len (capped); the new length. */
static int append(char *buf, size_t size, int len, const char *fmt, ...) {
    if (len < 0 || (size_t)len >= size)
        return len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, size - (size_t)len, fmt, ap);
    va_end(ap);
    return n < 0 ? len : len + n;
}

void seg_shift_evaluate(const struct seg_shift_settings *st, const char *segment, int32_t day,
                        const struct seg_day *days, size_t n, struct seg_shift_result *out) {
    memset(out, 0, sizeof *out);
    struct seg_sums recent = {0}, base = {0};
    int32_t recent_from = day - st->recent_days + 1;
    int32_t base_from = recent_from - st->baseline_days;
    bool today = false;
    for (size_t i = 0; i < n; i++) {
        if (days[i].day == day) {
            today = true;
            out->accounts = days[i].s.accounts;
        }
        if (days[i].day >= recent_from && days[i].day <= day)
            seg_sums_add(&recent, &days[i].s);
        else if (days[i].day >= base_from && days[i].day < recent_from) {
            seg_sums_add(&base, &days[i].s);
            out->baseline_days_seen++;
        }
    }
    /* A baseline of at least half its days: a segment tend has watched
     * for a week has no "usual" yet. */
    out->eligible = today && out->accounts >= st->min_accounts &&
                    out->baseline_days_seen * 2 >= st->baseline_days;
    int len = 0, rlen = 0;
    double worst = 0;
    int firing = 0;
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "segment", segment);
    cJSON_AddNumberToObject(ev, "accounts", (double)out->accounts);
    cJSON_AddNumberToObject(ev, "baseline_days", out->baseline_days_seen);
    for (size_t w = 0; out->eligible && w < sizeof watched / sizeof watched[0]; w++) {
        double r, b;
        if (!seg_metric(&recent, watched[w].m, &r) || !seg_metric(&base, watched[w].m, &b))
            continue;
        struct seg_shift_metric *m = &out->m[out->n_m++];
        m->metric = watched[w].m;
        m->recent = r;
        m->baseline = b;
        bool points = watched[w].m == SEG_M_NPS;
        double threshold = points ? st->nps_points : st->change;
        double margin = points ? st->clear_margin * 100 : st->clear_margin;
        if (points)
            m->change = r - b;
        else if (b != 0)
            m->change = (r - b) / fabs(b);
        else
            continue;                            /* no relative move from nothing */
        double bad = m->change * watched[w].bad; /* > 0: the bad way */
        m->fires = bad >= threshold;
        m->between = !m->fires && bad > threshold - margin;
        char key[64];
        snprintf(key, sizeof key, "%s", metric_names[watched[w].m]);
        cJSON_AddNumberToObject(ev, key, round(r * 1000) / 1000);
        snprintf(key, sizeof key, "%s_baseline", metric_names[watched[w].m]);
        cJSON_AddNumberToObject(ev, key, round(b * 1000) / 1000);
        if (m->fires) {
            firing++;
            double rel = bad / threshold;
            if (rel > worst)
                worst = rel;
            if (points)
                rlen = append(out->reason, sizeof out->reason, rlen,
                              "%s%s %.1f over the last %d days against %.1f over the %d days "
                              "before (%+.1f points)",
                              firing > 1 ? "; " : "", watched[w].label, r, st->recent_days, b,
                              st->baseline_days, m->change);
            else
                rlen = append(out->reason, sizeof out->reason, rlen,
                              "%s%s %.2f over the last %d days against %.2f over the %d days "
                              "before (%+.0f%%)",
                              firing > 1 ? "; " : "", watched[w].label, r, st->recent_days, b,
                              st->baseline_days, m->change * 100);
            if (firing == 1)
                len = append(out->title, sizeof out->title, 0, "Segment %s: %s %s", segment,
                             watched[w].label, watched[w].bad < 0 ? "down" : "up");
        }
        if (m->between)
            out->between = true;
    }
    if (firing > 1)
        append(out->title, sizeof out->title, len, " (and %d more)", firing - 1);
    out->fires = firing > 0;
    if (out->fires)
        out->between = false;
    out->priority = st->priority;
    if (out->fires && (firing > 1 || worst >= 2) && out->priority < CTA_HIGH)
        out->priority = (enum cta_priority)(out->priority + 1);
    char *text = cJSON_PrintUnformatted(ev);
    if (text && strlen(text) < sizeof out->evidence)
        snprintf(out->evidence, sizeof out->evidence, "%s", text);
    else
        snprintf(out->evidence, sizeof out->evidence, "{}");
    free(text);
    cJSON_Delete(ev);
}
