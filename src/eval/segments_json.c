/* segments_json.c: the stored groups as JSON rows, the one view of them that
 * tend segments, GET /v1/segments and the segments page share (see
 * segments_json.h). */
#include "eval/segments_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/datetime.h"

/* A number, or null when not known; rounded to 4 decimals (JSON readers
 * and tables see the same figure). */
static void add_num(cJSON *o, const char *key, double v, bool known) {
    if (known && isfinite(v))
        cJSON_AddNumberToObject(o, key, round(v * 10000) / 10000);
    else
        cJSON_AddNullToObject(o, key);
}

cJSON *seg_row_json(const struct store_segment_row *r) {
    cJSON *o = cJSON_CreateObject();
    const struct seg_sums *s = &r->s;
    char d[16];
    dt_format_date(r->day, d);
    cJSON_AddStringToObject(o, "by", seg_kind_name((enum seg_kind)r->kind));
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "day", d);
    cJSON_AddNumberToObject(o, "accounts", (double)s->accounts);
    double v;
    add_num(o, "arr", s->arr, s->arr_accounts > 0);
    add_num(o, "health_mean", seg_metric(s, SEG_M_HEALTH_MEAN, &v) ? v : NAN, true);
    cJSON_AddNumberToObject(o, "red", (double)s->red);
    cJSON_AddNumberToObject(o, "yellow", (double)s->yellow);
    cJSON_AddNumberToObject(o, "green", (double)s->green);
    cJSON_AddNumberToObject(o, "unscored", (double)(s->accounts - s->scored));
    cJSON_AddNumberToObject(o, "active_users", (double)s->active_users);
    add_num(o, "logins_per_active_user", seg_metric(s, SEG_M_LOGINS_PER_ACTIVE, &v) ? v : NAN,
            true);
    add_num(o, "feature_events_per_active_user",
            seg_metric(s, SEG_M_FEATURES_PER_ACTIVE, &v) ? v : NAN, true);
    add_num(o, "nps", seg_metric(s, SEG_M_NPS, &v) ? v : NAN, true);
    cJSON_AddNumberToObject(o, "nps_accounts", (double)s->nps_accounts);
    cJSON_AddNumberToObject(o, "tickets_30d", (double)s->tickets_30d);
    cJSON_AddNumberToObject(o, "tickets_open", (double)s->tickets_open);
    cJSON_AddNumberToObject(o, "open_ctas", (double)s->open_ctas);
    return o;
}

static int on_row(void *arg, const struct store_segment_row *r) {
    cJSON_AddItemToArray(arg, seg_row_json(r));
    return 0;
}

enum tend_err seg_rows_json(struct store *st, int kind, int32_t at, cJSON **rows, int32_t *day,
                            bool *found) {
    *rows = cJSON_CreateArray();
    enum tend_err err = store_segment_latest_day(st, at, day, found);
    if (!err && *found)
        err = store_segment_days_each(st, kind, NULL, *day, *day, on_row, *rows);
    return err;
}

enum tend_err seg_trend_json(struct store *st, int kind, const char *name, int32_t from, int32_t to,
                             cJSON **days) {
    *days = cJSON_CreateArray();
    return store_segment_days_each(st, kind, name, from, to, on_row, *days);
}
