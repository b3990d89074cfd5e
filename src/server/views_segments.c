/* views_segments.c: GET /api/segments and /api/segments/{name}, the views
 * the segments pages render (views.h; docs/api.md, docs/dashboard.md
 * "Segments"). A group's figures are seg_rows_json()'s, as tend segments
 * prints them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/segments_json.h"
#include "server/views.h"
#include "util/datetime.h"

#define TREND_DAYS_DEFAULT 90
#define TREND_DAYS_MAX     730
#define SPARK_DAYS         30
#define ACCOUNTS_MAX       500 /* listed on a segment's page */

/* by= (segment, plan, owner; default segment) into *kind. */
static enum tend_err kind_param(const struct view_params *p, enum seg_kind *kind, char *err) {
    const char *by = view_param(p, "by");
    *kind = SEG_BY_SEGMENT;
    if (by && !seg_kind_parse(by, kind)) {
        snprintf(err, VIEW_ERR_BYTES, "by: must be segment, plan or owner");
        return TEND_ERR_USAGE;
    }
    return TEND_OK;
}

static enum tend_err at_param(const struct view_params *p, int32_t *day, char *err) {
    const char *at = view_param(p, "at");
    *day = INT32_MAX;
    if (at && !dt_parse_date(at, strlen(at), day)) {
        snprintf(err, VIEW_ERR_BYTES, "at: must be a date YYYY-MM-DD");
        return TEND_ERR_USAGE;
    }
    return TEND_OK;
}

static void add_day(cJSON *o, const char *key, int32_t day) {
    char d[16];
    dt_format_date(day, d);
    cJSON_AddStringToObject(o, key, d);
}

/* Each group's health mean over the last SPARK_DAYS, for its sparkline. */
struct spark {
    cJSON *groups;
    int32_t from;
};

static int on_spark_row(void *arg, const struct store_segment_row *r) {
    struct spark *sp = arg;
    const cJSON *g;
    cJSON_ArrayForEach(g, sp->groups) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");
        if (cJSON_IsString(name) && strcmp(name->valuestring, r->name) == 0) {
            cJSON *trend = cJSON_GetObjectItemCaseSensitive(g, "trend");
            /* One slot a day: a day without a row stays null. */
            double v;
            int i = r->day - sp->from;
            if (trend && i >= 0 && i < cJSON_GetArraySize(trend) &&
                seg_metric(&r->s, SEG_M_HEALTH_MEAN, &v))
                cJSON_ReplaceItemInArray(trend, i, cJSON_CreateNumber(v));
            break;
        }
    }
    return 0;
}

enum tend_err view_segments(struct store *s, const struct view_params *p, cJSON **out, char *err) {
    enum seg_kind kind;
    int32_t at, day;
    bool found;
    enum tend_err e = kind_param(p, &kind, err);
    if (!e)
        e = at_param(p, &at, err);
    if (e)
        return e;
    cJSON *rows;
    if ((e = seg_rows_json(s, (int)kind, at, &rows, &day, &found))) {
        cJSON_Delete(rows);
        snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
        return e;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "by", seg_kind_name(kind));
    if (found)
        add_day(o, "date", day);
    else
        cJSON_AddNullToObject(o, "date");
    cJSON_AddItemToObject(o, "groups", rows);
    if (found) {
        struct spark sp = {.groups = rows, .from = day - SPARK_DAYS + 1};
        const cJSON *g;
        cJSON_ArrayForEach(g, rows) {
            cJSON *trend = cJSON_AddArrayToObject((cJSON *)g, "trend");
            for (int i = 0; i < SPARK_DAYS; i++)
                cJSON_AddItemToArray(trend, cJSON_CreateNull());
        }
        if ((e = store_segment_days_each(s, (int)kind, NULL, sp.from, day, on_spark_row, &sp))) {
            snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
            cJSON_Delete(o);
            return e;
        }
    }
    *out = o;
    return TEND_OK;
}

/* The group's accounts, from the day's briefs. */
struct members {
    enum seg_kind kind;
    const char *name;
    cJSON *list;
    int64_t n;
};

static void on_brief(void *arg, const struct store_account_brief *b) {
    struct members *m = arg;
    const char *v = m->kind == SEG_BY_SEGMENT ? b->segment : b->owner;
    if (!v || !v[0])
        v = SEG_NONE;
    if (strcmp(v, m->name) != 0)
        return;
    if (m->n++ >= ACCOUNTS_MAX)
        return;
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "id", b->external_id);
    if (b->name)
        cJSON_AddStringToObject(a, "name", b->name);
    else
        cJSON_AddNullToObject(a, "name");
    if (b->owner)
        cJSON_AddStringToObject(a, "owner", b->owner);
    else
        cJSON_AddNullToObject(a, "owner");
    if (b->has_overall)
        cJSON_AddNumberToObject(a, "health", b->overall);
    else
        cJSON_AddNullToObject(a, "health");
    cJSON_AddStringToObject(a, "band", b->band ? b->band : "none");
    cJSON_AddNumberToObject(a, "open_ctas", (double)b->live_ctas);
    cJSON_AddItemToArray(m->list, a);
}

static int on_cta(void *arg, const struct store_cta *c) {
    struct members *m = arg;
    if (!c->subject || strcmp(c->subject, m->name) != 0 || c->account_id != STORE_SEGMENTS_ACCOUNT)
        return 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)c->id);
    cJSON_AddStringToObject(o, "title", c->title ? c->title : "");
    cJSON_AddStringToObject(o, "reason", c->reason ? c->reason : "");
    cJSON_AddStringToObject(o, "priority", cta_priority_name((enum cta_priority)c->priority));
    cJSON_AddStringToObject(o, "status", cta_status_name((enum cta_status)c->status));
    cJSON_AddStringToObject(o, "owner", c->owner ? c->owner : "");
    add_day(o, "opened", c->opened_day);
    cJSON_AddItemToArray(m->list, o);
    return 0;
}

enum tend_err view_segment(struct store *s, const char *name, const struct view_params *p,
                           cJSON **out, char *err) {
    enum seg_kind kind;
    int32_t at, day;
    bool found;
    enum tend_err e = kind_param(p, &kind, err);
    if (!e)
        e = at_param(p, &at, err);
    if (e)
        return e;
    int days = TREND_DAYS_DEFAULT;
    const char *d = view_param(p, "days");
    if (d) {
        char *end;
        long v = strtol(d, &end, 10);
        if (*end || !*d || v < 1 || v > TREND_DAYS_MAX) {
            snprintf(err, VIEW_ERR_BYTES, "days: must be a number from 1 to %d", TREND_DAYS_MAX);
            return TEND_ERR_USAGE;
        }
        days = (int)v;
    }
    if ((e = store_segment_latest_day(s, at, &day, &found))) {
        snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
        return e;
    }
    cJSON *trend = NULL;
    if (found && (e = seg_trend_json(s, (int)kind, name, day - days + 1, day, &trend))) {
        cJSON_Delete(trend);
        snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
        return e;
    }
    if (!found || cJSON_GetArraySize(trend) == 0) {
        cJSON_Delete(trend);
        snprintf(err, VIEW_ERR_BYTES, "no %s named \"%.80s\" in the stored days",
                 seg_kind_name(kind), name);
        return TEND_ERR_NOTFOUND;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "by", seg_kind_name(kind));
    cJSON_AddStringToObject(o, "name", name);
    add_day(o, "date", day);
    cJSON *latest = cJSON_GetArrayItem(trend, cJSON_GetArraySize(trend) - 1);
    cJSON_AddItemToObject(o, "latest", cJSON_Duplicate(latest, true));
    cJSON_AddItemToObject(o, "trend", trend);
    struct members m = {.kind = kind, .name = name};
    if (kind != SEG_BY_PLAN) { /* the day's briefs know segment and owner */
        m.list = cJSON_AddArrayToObject(o, "accounts");
        int32_t sday;
        bool sfound;
        e = store_scores_latest_day(s, &sday, &sfound);
        if (!e && sfound)
            e = store_account_briefs(s, sday < day ? sday : day, on_brief, &m);
        cJSON_AddNumberToObject(o, "accounts_total", (double)m.n);
    } else {
        cJSON_AddNullToObject(o, "accounts");
    }
    if (!e && kind == SEG_BY_SEGMENT) {
        m.list = cJSON_AddArrayToObject(o, "ctas");
        struct store_cta_filter f = {.rule = "segment_shift"};
        e = store_ctas_each(s, &f, on_cta, &m);
    }
    if (e) {
        snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
        cJSON_Delete(o);
        return e;
    }
    *out = o;
    return TEND_OK;
}
