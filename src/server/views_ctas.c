/* views_ctas.c: the CTAs' views (see views.h): the cockpit's list
 * (GET /api/ctas, with the CTAs the weekly budget held back under
 * status=held) and one CTA with its history (GET /api/ctas/{id}).
 * view_cta_json, the JSON of one CTA, is shared with the account's view. */
#include "server/views.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cta.h"
#include "core/plan.h"
#include "core/playbook.h"
#include "server/views_int.h"
#include "util/datetime.h"

#define CTAS_LIMIT     200
#define CTAS_LIMIT_MAX 1000

/* A value as a number (null: unknown) and as words ("$42,000 ARR at risk"). */
static void add_value(cJSON *o, bool has, double value, const char *type, const char *currency) {
    if (has)
        cJSON_AddNumberToObject(o, "value", round(value * 100) / 100);
    else
        cJSON_AddNullToObject(o, "value");
    enum cta_type ty = CTA_RISK;
    cta_type_parse(type, &ty);
    char text[64];
    plan_value_text(has ? value : NAN, ty, currency, text, sizeof text);
    view_add_str(o, "value_text", text[0] ? text : NULL);
}

cJSON *view_cta_json(const struct store_cta *c, int32_t today, const char *currency) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)c->id);
    view_add_str(o, "account_id", c->account);
    view_add_str(o, "account_name", c->account_name);
    view_add_str(o, "rule", c->rule);
    view_add_str(o, "subject", c->subject);
    view_add_str(o, "type", c->type);
    cJSON_AddStringToObject(o, "priority", cta_priority_name((enum cta_priority)c->priority));
    cJSON_AddStringToObject(o, "status", cta_status_name((enum cta_status)c->status));
    view_add_str(o, "owner", c->owner);
    view_add_str(o, "title", c->title);
    view_add_str(o, "reason", c->reason);
    cJSON *ev = c->evidence ? cJSON_Parse(c->evidence) : NULL;
    cJSON_AddItemToObject(o, "evidence", ev ? ev : cJSON_CreateObject());
    view_add_date(o, "opened_date", true, c->opened_day);
    view_add_date(o, "due_date", true, c->due_day);
    view_add_date(o, "snoozed_until", c->status == CTA_SNOOZED, c->snoozed_until);
    bool closed = c->status == CTA_CLOSED && c->has_closed;
    view_add_str(o, "closed_reason",
                 closed ? cta_close_reason_name((enum cta_close_reason)c->closed_reason) : NULL);
    view_add_date(o, "closed_date", closed, c->closed_day);
    /* A snoozed CTA sleeps: it is not overdue until it wakes. */
    cJSON_AddBoolToObject(o, "overdue", c->status == CTA_OPEN && c->due_day < today);
    add_value(o, c->has_value, c->value, c->type, currency);
    return o;
}

struct cta_list {
    cJSON *arr;
    int32_t today;
    long limit, n;
    const char *currency;
    int64_t *held; /* the held-out CTAs' ids, ascending (views_notes.c) */
    size_t n_held;
    bool hide_held; /* holdout=hide: leave them out */
};

static int on_held(void *arg, const struct store_cta_held *h) {
    struct cta_list *l = arg;
    if (l->n++ >= l->limit)
        return 0;
    cJSON *o = cJSON_CreateObject();
    view_add_date(o, "week", true, h->week);
    view_add_date(o, "first_day", true, h->first_day);
    view_add_date(o, "day", true, h->day);
    view_add_str(o, "account_id", h->account);
    view_add_str(o, "account_name", h->account_name);
    view_add_str(o, "rule", h->rule);
    view_add_str(o, "subject", h->subject);
    view_add_str(o, "type", h->type);
    cJSON_AddStringToObject(o, "priority", cta_priority_name((enum cta_priority)h->priority));
    view_add_str(o, "owner", h->owner);
    view_add_str(o, "title", h->title);
    view_add_str(o, "reason", h->reason);
    add_value(o, h->has_value, h->value, h->type, l->currency);
    cJSON_AddItemToArray(l->arr, o);
    return 0;
}

/* GET /api/ctas?status=held: what the weekly budget held back, newest week
 * first, then by value; week=DATE (its ISO week) or all (the default). */
static enum tend_err view_held(struct store *s, const struct view_env *env, const char *owner,
                               const struct view_params *p, long limit, cJSON **out, char *err) {
    const char *week = view_param(p, "week");
    int32_t w = 0;
    if (week && week[0] && strcmp(week, "all") != 0) {
        if (!dt_parse_date(week, strlen(week), &w))
            return view_bad(err, "week: must be a date (YYYY-MM-DD) or all", week);
        w = plan_week_start(w);
    }
    struct cta_list l = {
        .today = view_timeline_day(s), .limit = limit, .currency = env->rc->currency};
    l.arr = cJSON_CreateArray();
    enum tend_err e = store_ctas_held_each(s, w, owner, on_held, &l);
    if (e) {
        cJSON_Delete(l.arr);
        return view_store_err(s, e, err);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "total", (double)l.n);
    view_add_date(o, "week", w != 0, w);
    cJSON_AddNumberToObject(o, "budget_per_owner_per_week", env->rc->budget_per_owner_week);
    cJSON_AddItemToObject(o, "held", l.arr);
    *out = o;
    return TEND_OK;
}

enum tend_err view_ctas(struct store *s, const struct view_env *env, const struct view_params *p,
                        const char *me, cJSON **out, char *err) {
    long limit;
    enum tend_err e;
    if ((e = view_int_param(p, "limit", 1, CTAS_LIMIT_MAX, CTAS_LIMIT, &limit, err)))
        return e;
    struct store_cta_filter f = {.status = "live"};
    const char *status = view_param(p, "status");
    bool held = status && strcmp(status, "held") == 0;
    if (status && status[0] && !held && !cta_status_filter_parse(status, &f.status))
        return view_bad(err, "status: must be live, open, snoozed, closed, all or held", status);
    const char *owner = view_param(p, "owner");
    if (owner && strcmp(owner, "me") == 0) {
        if (!me || !me[0])
            return view_bad(err, "owner: me needs a signed-in user, not an API token", owner);
        owner = me;
    }
    f.owner = owner && owner[0] && strcmp(owner, "all") != 0 ? owner : NULL;
    if (held)
        return view_held(s, env, f.owner, p, limit, out, err);
    const char *account = view_param(p, "account"), *rule = view_param(p, "rule");
    f.account = account && account[0] ? account : NULL;
    f.rule = rule && rule[0] ? rule : NULL;
    cJSON *o = NULL;
    if ((e = view_ctas_list(s, env, p, &f, &o, err)))
        return e;
    /* What the budget held back this week, for the cockpit's count. */
    int64_t n_held = 0;
    int32_t week = plan_week_start(view_timeline_day(s));
    if ((e = store_ctas_held_count(s, week, f.owner, &n_held))) {
        cJSON_Delete(o);
        return view_store_err(s, e, err);
    }
    cJSON_AddNumberToObject(o, "held_this_week", (double)n_held);
    view_add_date(o, "week", true, week);
    *out = o;
    return TEND_OK;
}

static void on_history(void *arg, const struct store_cta_change *ch) {
    cJSON *h = cJSON_CreateObject();
    cJSON_AddNumberToObject(h, "seq", (double)ch->seq);
    view_add_date(h, "date", true, ch->day);
    view_add_instant(h, "at", ch->at_ms);
    view_add_str(h, "action", ch->action);
    view_add_str(h, "actor", ch->actor);
    cJSON_AddStringToObject(h, "status", cta_status_name((enum cta_status)ch->status));
    cJSON_AddStringToObject(h, "priority", cta_priority_name((enum cta_priority)ch->priority));
    view_add_str(h, "note", ch->note && ch->note[0] ? ch->note : NULL);
    cJSON_AddItemToArray(arg, h);
}

struct step_states {
    cJSON *steps; /* the playbook's steps, in its order */
};

static void on_step(void *arg, const struct store_cta_step *st) {
    struct step_states *x = arg;
    cJSON *o;
    cJSON_ArrayForEach(o, x->steps) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        if (!cJSON_IsString(id) || strcmp(id->valuestring, st->step) != 0)
            continue;
        cJSON_ReplaceItemInObject(o, "done", cJSON_CreateBool(st->done));
        cJSON_ReplaceItemInObject(o, "by", cJSON_CreateString(st->actor ? st->actor : ""));
        cJSON_DeleteItemFromObject(o, "at");
        view_add_instant(o, "at", st->at_ms);
    }
}

/* Adds the playbook of the CTA's rule to o ("playbook": null when none):
 * its steps in the playbook's order, each with done, by and at (who ticked
 * or unticked it last, and when; null when never), and the count done. */
enum tend_err view_cta_playbook(struct store *s, const struct view_env *env, int64_t id, cJSON *o) {
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(o, "rule");
    const struct playbook *pb =
        playbook_of(env->rc->playbooks, cJSON_IsString(rule) ? rule->valuestring : NULL);
    if (!pb) {
        cJSON_AddNullToObject(o, "playbook");
        return TEND_OK;
    }
    cJSON *p = cJSON_AddObjectToObject(o, "playbook");
    struct step_states x = {.steps = cJSON_AddArrayToObject(p, "steps")};
    for (int i = 0; i < pb->n_steps; i++) {
        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "id", pb->steps[i].id);
        cJSON_AddStringToObject(st, "title", pb->steps[i].title);
        cJSON_AddFalseToObject(st, "done");
        cJSON_AddNullToObject(st, "by");
        cJSON_AddNullToObject(st, "at");
        cJSON_AddItemToArray(x.steps, st);
    }
    enum tend_err e = store_cta_steps_each(s, id, on_step, &x);
    int done = 0;
    const cJSON *st;
    cJSON_ArrayForEach(st, x.steps) {
        done += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "done"));
    }
    cJSON_AddNumberToObject(p, "done", done);
    cJSON_AddNumberToObject(p, "total", pb->n_steps);
    return e;
}

struct one_cta {
    cJSON *o;
    int32_t today;
    const char *currency;
};

static void on_one_cta(void *arg, const struct store_cta *c) {
    struct one_cta *x = arg;
    x->o = view_cta_json(c, x->today, x->currency);
}

enum tend_err view_cta(struct store *s, const struct view_env *env, int64_t id, cJSON **out,
                       char *err) {
    struct one_cta x = {.today = view_timeline_day(s), .currency = env->rc->currency};
    enum tend_err e = store_cta_get(s, id, on_one_cta, &x);
    if (e == TEND_ERR_NOTFOUND) {
        snprintf(err, VIEW_ERR_BYTES, "no CTA %lld", (long long)id);
        return e;
    }
    if (!e)
        e = store_cta_history_each(s, id, on_history, cJSON_AddArrayToObject(x.o, "history"));
    if (!e)
        e = view_cta_notes(s, id, x.o); /* views_notes.c */
    if (!e)
        e = view_cta_playbook(s, env, id, x.o);
    if (e) {
        cJSON_Delete(x.o);
        return view_store_err(s, e, err);
    }
    *out = x.o;
    return TEND_OK;
}
