/* views_admin.c: the views of tend itself rather than of customers (see
 * views.h): the rules with their settings, how often each fired and its
 * quality in the latest backtest (GET /api/rules), the outbox of delivery
 * (GET /api/outbox), and the stored reports of tend analyze and tend
 * backtest (GET /api/reports, GET /api/reports/{id}). */
#include "server/views.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/backtest.h"
#include "server/views_int.h"
#include "util/datetime.h"
#include "util/mem.h"

#define OUTBOX_LIMIT      100
#define OUTBOX_LIMIT_MAX  1000
#define FIRED_RECENT_DAYS 30
#define REPORTS_LIMIT     STORE_REPORTS_KEPT

struct rule_counts {
    struct store_rule_counts *v;
    char **names;
    size_t n;
};

static void on_rule_counts(void *arg, const struct store_rule_counts *c) {
    struct rule_counts *r = arg;
    r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
    r->names = xrealloc(r->names, (r->n + 1) * sizeof *r->names);
    r->v[r->n] = *c;
    r->names[r->n++] = xstrdup(c->rule);
}

/* A rule's quality from the latest backtest (docs/rules.md, "Quality"), or
 * null when there is none. */
static void add_quality(cJSON *x, const struct backtest_rule_view *v, bool have) {
    cJSON_AddStringToObject(x, "priority", v->priority);
    cJSON_AddStringToObject(x, "thresholds", v->thresholds);
    cJSON_AddStringToObject(x, "scope", v->scope);
    if (!have || !v->measured) {
        cJSON_AddNullToObject(x, "quality");
        return;
    }
    cJSON *q = cJSON_AddObjectToObject(x, "quality");
    const double f[] = {v->raised, v->precision,   v->lift,
                        v->recall, v->median_lead, v->closed_fast};
    static const char *const k[] = {"raised", "precision",        "lift",
                                    "recall", "median_lead_days", "closed_within_3_days"};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        cJSON_AddItemToObject(q, k[i],
                              isfinite(f[i]) ? cJSON_CreateNumber(f[i]) : cJSON_CreateNull());
    cJSON_AddBoolToObject(q, "noisy", v->noisy);
}

/* The latest backtest's period, or null. */
static void add_backtest(cJSON *o, const cJSON *json, int64_t id) {
    if (!json) {
        cJSON_AddNullToObject(o, "backtest");
        return;
    }
    cJSON *b = cJSON_AddObjectToObject(o, "backtest");
    cJSON_AddNumberToObject(b, "report", (double)id);
    static const char *const keys[] = {"from", "to", "horizon_days", "base_rate",
                                       "noisy_below_lift"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, keys[i]);
        cJSON_AddItemToObject(b, keys[i], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    }
}

enum tend_err view_rules(struct store *s, const struct view_env *env, cJSON **out, char *err) {
    struct rule_counts r = {0};
    int32_t today = view_timeline_day(s);
    enum tend_err e = store_rule_counts_each(s, today - FIRED_RECENT_DAYS + 1, on_rule_counts, &r);
    cJSON *latest = NULL;
    int64_t latest_id = 0, latest_ms = 0;
    if (!e)
        e = backtest_latest(s, &latest, &latest_id, &latest_ms);
    if (e) {
        free(r.v);
        free(r.names);
        return view_store_err(s, e, err);
    }
    cJSON *o = cJSON_CreateObject();
    add_backtest(o, latest, latest_id);
    static _Thread_local struct backtest_rule_view views[RULES_MAX];
    backtest_rule_views(env->rc, latest, views);
    cJSON *arr = cJSON_AddArrayToObject(o, "rules");
    for (int i = 0; i < env->rc->n_rules; i++) {
        const struct rule_settings *rs = &env->rc->rules[i];
        const struct store_rule_counts *c = NULL;
        static const struct store_rule_counts zero = {0};
        for (size_t k = 0; k < r.n; k++)
            if (strcmp(r.names[k], rs->name) == 0)
                c = &r.v[k];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", rs->name);
        cJSON_AddBoolToObject(x, "builtin", rs->kind != RULE_CUSTOM);
        cJSON_AddBoolToObject(x, "enabled", rs->enabled);
        cJSON_AddStringToObject(x, "type", cta_type_name(rs->type));
        if (!c)
            c = &zero;
        cJSON_AddNumberToObject(x, "fired_total", (double)c->total);
        cJSON_AddNumberToObject(x, "fired_30d", (double)c->since);
        cJSON_AddNumberToObject(x, "open", (double)c->open);
        cJSON_AddNumberToObject(x, "snoozed", (double)c->snoozed);
        cJSON_AddNumberToObject(x, "closed", (double)c->closed);
        cJSON_AddNumberToObject(x, "auto_resolved", (double)c->auto_resolved);
        view_add_date(x, "last_fired", c->total > 0, c->last_opened_day);
        add_quality(x, &views[i], latest != NULL);
        cJSON_AddItemToArray(arr, x);
    }
    cJSON_Delete(latest);
    for (size_t k = 0; k < r.n; k++)
        free(r.names[k]);
    free(r.names);
    free(r.v);
    *out = o;
    return TEND_OK;
}

/* ---- GET /api/outbox ------------------------------------------------------------------- */

static void on_count(void *arg, const char *status, int64_t rows, int64_t resends) {
    cJSON_AddNumberToObject(arg, status, (double)rows);
}

static void on_outbox_row(void *arg, const struct store_outbox *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    if (r->cta_id)
        cJSON_AddNumberToObject(o, "cta", (double)r->cta_id);
    else
        cJSON_AddNullToObject(o, "cta");
    view_add_str(o, "event", r->event);
    view_add_str(o, "channel", r->channel);
    view_add_str(o, "target", r->target);
    view_add_str(o, "owner", r->owner);
    view_add_str(o, "status", r->status);
    cJSON_AddNumberToObject(o, "attempts", (double)r->attempts);
    cJSON_AddNumberToObject(o, "resends", (double)r->resends);
    view_add_instant(o, "created", r->created_ms);
    view_add_instant(o, "next_at", r->next_at_ms);
    view_add_instant(o, "sent", r->sent_ms);
    view_add_str(o, "last_error", r->last_error && r->last_error[0] ? r->last_error : NULL);
    view_add_str(o, "key", r->key);
    cJSON_AddItemToArray(arg, o);
}

enum tend_err view_outbox(struct store *s, const struct view_params *p, cJSON **out, char *err) {
    long limit;
    enum tend_err e;
    if ((e = view_int_param(p, "limit", 1, OUTBOX_LIMIT_MAX, OUTBOX_LIMIT, &limit, err)))
        return e;
    static const char *const statuses[] = {"held",    "digested", "pending",
                                           "sending", "sent",     "dead"};
    const char *status = view_param(p, "status"), *channel = view_param(p, "channel");
    if (status && status[0]) {
        size_t k;
        for (k = 0; k < sizeof statuses / sizeof statuses[0]; k++)
            if (strcmp(status, statuses[k]) == 0)
                break;
        if (k == sizeof statuses / sizeof statuses[0])
            return view_bad(err, "status: must be held, digested, pending, sending, sent or dead",
                            status);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *counts = cJSON_AddObjectToObject(o, "counts");
    for (size_t k = 0; k < sizeof statuses / sizeof statuses[0]; k++)
        cJSON_AddNumberToObject(counts, statuses[k], 0);
    cJSON *tmp = cJSON_CreateObject();
    int64_t oldest = 0;
    bool found = false;
    e = store_outbox_counts(s, on_count, tmp);
    if (!e)
        e = store_outbox_oldest_pending(s, &oldest, &found);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, tmp)
        cJSON_ReplaceItemInObject(counts, kv->string, cJSON_CreateNumber(kv->valuedouble));
    cJSON_Delete(tmp);
    cJSON_AddNumberToObject(o, "oldest_pending_s",
                            found ? (double)(dt_now_ms() - oldest) / 1000.0 : 0);
    struct store_outbox_filter f = {
        .status = status && status[0] ? status : NULL,
        .channel = channel && channel[0] ? channel : NULL,
        .limit = limit,
    };
    if (!e)
        e = store_outbox_each(s, &f, on_outbox_row, cJSON_AddArrayToObject(o, "rows"));
    if (e) {
        cJSON_Delete(o);
        return view_store_err(s, e, err);
    }
    *out = o;
    return TEND_OK;
}

/* ---- GET /api/reports ------------------------------------------------------------------ */

/* A report's members but its HTML; url is its dashboard page. */
static cJSON *report_json(const struct store_report *r) {
    cJSON *o = cJSON_CreateObject();
    char url[48];
    cJSON_AddNumberToObject(o, "id", (double)r->id);
    view_add_str(o, "kind", r->kind);
    view_add_str(o, "title", r->title);
    view_add_instant(o, "created", r->created_ms);
    view_add_str(o, "summary", r->summary);
    snprintf(url, sizeof url, "/reports/%lld", (long long)r->id);
    cJSON_AddStringToObject(o, "url", url);
    return o;
}

static void on_report_row(void *arg, const struct store_report *r) {
    cJSON_AddItemToArray(arg, report_json(r));
}

enum tend_err view_reports(struct store *s, const struct view_params *p, cJSON **out, char *err) {
    long limit;
    enum tend_err e;
    if ((e = view_int_param(p, "limit", 1, REPORTS_LIMIT, REPORTS_LIMIT, &limit, err)))
        return e;
    cJSON *o = cJSON_CreateObject();
    if ((e = store_reports_each(s, (int)limit, on_report_row,
                                cJSON_AddArrayToObject(o, "reports")))) {
        cJSON_Delete(o);
        return view_store_err(s, e, err);
    }
    *out = o;
    return TEND_OK;
}

static void on_report(void *arg, const struct store_report *r) {
    cJSON *o = report_json(r);
    view_add_str(o, "html", r->body);
    *(cJSON **)arg = o;
}

enum tend_err view_report(struct store *s, int64_t id, cJSON **out, char *err) {
    cJSON *o = NULL;
    enum tend_err e = store_report_get(s, id, on_report, &o);
    if (e == TEND_ERR_NOTFOUND) {
        snprintf(err, VIEW_ERR_BYTES, "no report %lld", (long long)id);
        return e;
    }
    if (e)
        return view_store_err(s, e, err);
    *out = o;
    return TEND_OK;
}
