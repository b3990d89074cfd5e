/* views.c: the JSON views of the REST API and the dashboard (see views.h). */
#include "server/views.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/backtest.h"
#include "core/cta.h"
#include "core/plan.h"
#include "core/vocab.h"
#include "eval/act.h"
#include "eval/eval.h"
#include "util/datetime.h"
#include "util/mem.h"

#define TREND_DAYS        90
#define PER_PAGE_DEFAULT  50
#define PER_PAGE_MAX      500
#define HISTORY_MAX_DAYS  730
#define TIMELINE_EVENTS   100
#define CTAS_LIMIT        200
#define CTAS_LIMIT_MAX    1000
#define OUTBOX_LIMIT      100
#define OUTBOX_LIMIT_MAX  1000
#define FIRED_RECENT_DAYS 30
#define REPORTS_LIMIT     STORE_REPORTS_KEPT

const char *view_param(const struct view_params *p, const char *key) {
    for (int i = 0; p && i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0)
            return p->values[i];
    return NULL;
}

/* "WHAT, not "VALUE"" into err. */
static enum tend_err bad(char *err, const char *what, const char *value) {
    snprintf(err, VIEW_ERR_BYTES, "%s, not \"%.100s\"", what, value);
    return TEND_ERR_USAGE;
}

/* An integer parameter from lo to hi, def when absent. */
static enum tend_err int_param(const struct view_params *p, const char *key, long lo, long hi,
                               long def, long *out, char *err) {
    const char *v = view_param(p, key);
    *out = def;
    if (!v)
        return TEND_OK;
    char *end;
    long n = strtol(v, &end, 10);
    if (!v[0] || *end || n < lo || n > hi) {
        snprintf(err, VIEW_ERR_BYTES, "%s: must be a number from %ld to %ld", key, lo, hi);
        return TEND_ERR_USAGE;
    }
    *out = n;
    return TEND_OK;
}

static void add_str(cJSON *o, const char *key, const char *v) {
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_num(cJSON *o, const char *key, bool has, double v) {
    if (has && isfinite(v))
        cJSON_AddNumberToObject(o, key, round(v * 10) / 10);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_date(cJSON *o, const char *key, bool has, int32_t day) {
    char d[16];
    if (!has) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    dt_format_date(day, d);
    cJSON_AddStringToObject(o, key, d);
}

static void add_instant(cJSON *o, const char *key, int64_t ms) {
    char t[32];
    if (ms <= 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    dt_format_instant(ms, t);
    cJSON_AddStringToObject(o, key, t);
}

static enum tend_err latest_day(struct store *s, int32_t *day, bool *found, char *err) {
    enum tend_err e = store_scores_latest_day(s, day, found);
    if (e)
        snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
    return e;
}

static enum tend_err store_err(struct store *s, enum tend_err e, char *err) {
    snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
    return e;
}

/* ---- GET /api/accounts ---------------------------------------------------------- */

struct brief {
    int64_t id;
    char *external_id, *name, *segment, *owner;
    bool has_mrr, has_overall, has_before;
    double mrr, overall, before;
    char band[8];
    int64_t live;
};

struct briefs {
    struct brief *v;
    size_t n, cap;
};

static char *dup_or_null(const char *s) {
    return s ? xstrdup(s) : NULL;
}

static void on_brief(void *arg, const struct store_account_brief *b) {
    struct briefs *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    struct brief *x = &l->v[l->n++];
    *x = (struct brief){
        .id = b->id,
        .external_id = xstrdup(b->external_id),
        .name = dup_or_null(b->name),
        .segment = dup_or_null(b->segment),
        .owner = dup_or_null(b->owner),
        .has_mrr = b->has_mrr,
        .mrr = b->mrr,
        .has_overall = b->has_overall,
        .overall = b->overall,
        .live = b->live_ctas,
    };
    snprintf(x->band, sizeof x->band, "%s", b->band);
}

static void briefs_free(struct briefs *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].external_id);
        free(l->v[i].name);
        free(l->v[i].segment);
        free(l->v[i].owner);
    }
    free(l->v);
}

enum sort_key { SORT_SCORE, SORT_SCORE_DESC, SORT_CHANGE, SORT_MRR, SORT_NAME, SORT_CTAS };
static const char *const sort_names[] = {"score", "-score", "change", "mrr", "name", "ctas"};

static const char *label(const struct brief *b) {
    return b->name ? b->name : b->external_id;
}

/* Known values first; then a, b by the key; ties by name. */
static int cmp_known(bool ha, double a, bool hb, double b, bool ascending) {
    if (ha != hb)
        return ha ? -1 : 1;
    if (!ha || a == b)
        return 0;
    return (a < b) == ascending ? -1 : 1;
}

static int by_sort(const void *pa, const void *pb, void *key) {
    const struct brief *a = pa, *b = pb;
    int c = 0;
    switch (*(const enum sort_key *)key) {
    case SORT_SCORE:
        c = cmp_known(a->has_overall, a->overall, b->has_overall, b->overall, true);
        break;
    case SORT_SCORE_DESC:
        c = cmp_known(a->has_overall, a->overall, b->has_overall, b->overall, false);
        break;
    case SORT_CHANGE:
        c = cmp_known(a->has_overall && a->has_before, a->overall - a->before,
                      b->has_overall && b->has_before, b->overall - b->before, true);
        break;
    case SORT_MRR:
        c = cmp_known(a->has_mrr, a->mrr, b->has_mrr, b->mrr, false);
        break;
    case SORT_CTAS:
        c = cmp_known(true, (double)a->live, true, (double)b->live, false);
        break;
    case SORT_NAME:
        break;
    }
    if (!c)
        c = g_ascii_strcasecmp(label(a), label(b));
    return c ? c : strcmp(a->external_id, b->external_id);
}

static bool contains_ci(const char *hay, const char *needle) {
    if (!hay)
        return false;
    char *h = g_utf8_casefold(hay, -1), *n = g_utf8_casefold(needle, -1);
    bool found = strstr(h, n) != NULL;
    g_free(h);
    g_free(n);
    return found;
}

static const char *const band_names[] = {"red", "yellow", "green", "none"};

static int band_index(const char *b) {
    for (int i = 0; i < 4; i++)
        if (strcmp(b, band_names[i]) == 0)
            return i;
    return 3;
}

/* The band filter: every band value, repeated or comma-separated. */
static enum tend_err band_filter(const struct view_params *p, bool want[4], bool *any, char *err) {
    *any = false;
    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->keys[i], "band") != 0 || !p->values[i][0])
            continue;
        gchar **parts = g_strsplit(p->values[i], ",", -1);
        for (gchar **q = parts; *q; q++) {
            int k;
            for (k = 0; k < 4; k++)
                if (strcmp(*q, band_names[k]) == 0)
                    break;
            if (k == 4) {
                snprintf(err, VIEW_ERR_BYTES,
                         "band: must be red, yellow, green or none, not \"%s\"", *q);
                g_strfreev(parts);
                return TEND_ERR_USAGE;
            }
            want[k] = true;
            *any = true;
        }
        g_strfreev(parts);
    }
    return TEND_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct non-NULL values of a field, sorted, as a JSON array. */
static cJSON *facet(const struct briefs *l, size_t field_offset) {
    char **v = xcalloc(l->n + 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        char *s = *(char **)((char *)&l->v[i] + field_offset);
        if (s)
            v[n++] = s;
    }
    qsort(v, n, sizeof *v, cmp_str);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
            cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    free(v);
    return a;
}

struct trend {
    double *v;
    bool *has;
    int32_t first;
    int days;
};

static void on_trend(void *arg, const struct store_score *sc) {
    struct trend *t = arg;
    int i = sc->day - t->first;
    if (i >= 0 && i < t->days && sc->has_overall) {
        t->v[i] = sc->overall;
        t->has[i] = true;
    }
}

static cJSON *trend_of(struct store *s, int64_t id, int32_t day, enum tend_err *e) {
    double v[TREND_DAYS];
    bool has[TREND_DAYS] = {false};
    struct trend t = {.v = v, .has = has, .first = day - TREND_DAYS + 1, .days = TREND_DAYS};
    *e = store_score_history(s, id, t.first, day, on_trend, &t);
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < TREND_DAYS; i++)
        cJSON_AddItemToArray(a, has[i] ? cJSON_CreateNumber(round(v[i] * 10) / 10)
                                       : cJSON_CreateNull());
    return a;
}

enum tend_err view_accounts(struct store *s, const struct view_env *env,
                            const struct view_params *p, cJSON **out, char *err) {
    long page, per_page;
    enum tend_err e;
    if ((e = int_param(p, "page", 1, 1000000, 1, &page, err)) ||
        (e = int_param(p, "per_page", 1, PER_PAGE_MAX, PER_PAGE_DEFAULT, &per_page, err)))
        return e;
    bool bands[4] = {false}, any_band;
    if ((e = band_filter(p, bands, &any_band, err)))
        return e;
    const char *sort = view_param(p, "sort");
    enum sort_key key = SORT_SCORE;
    if (sort && sort[0]) {
        size_t k;
        for (k = 0; k < sizeof sort_names / sizeof sort_names[0]; k++)
            if (strcmp(sort, sort_names[k]) == 0)
                break;
        if (k == sizeof sort_names / sizeof sort_names[0])
            return bad(err, "sort: must be score, -score, change, mrr, name or ctas", sort);
        key = (enum sort_key)k;
    }
    const char *owner = view_param(p, "owner"), *segment = view_param(p, "segment"),
               *q = view_param(p, "q");
    if (owner && !owner[0])
        owner = NULL;
    if (segment && !segment[0])
        segment = NULL;
    if (q && !q[0])
        q = NULL;

    int32_t day = 0;
    bool scored;
    if ((e = latest_day(s, &day, &scored, err)))
        return e;
    struct briefs l = {0};
    if ((e = store_account_briefs(s, scored ? day : INT32_MIN, on_brief, &l))) {
        briefs_free(&l);
        return store_err(s, e, err);
    }
    struct eval_day_scores before = {0};
    if (scored && (e = eval_day_scores_load(s, day - 30, NULL, &before))) {
        briefs_free(&l);
        return store_err(s, e, err);
    }
    int64_t band_counts[4] = {0};
    size_t kept = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct brief *b = &l.v[i];
        b->has_before = eval_day_score(&before, b->id, &b->before);
        band_counts[band_index(b->band)]++;
    }
    cJSON *o = cJSON_CreateObject();
    add_date(o, "date", scored, day);
    cJSON_AddItemToObject(o, "owners", facet(&l, offsetof(struct brief, owner)));
    cJSON_AddItemToObject(o, "segments", facet(&l, offsetof(struct brief, segment)));
    cJSON *bc = cJSON_AddObjectToObject(o, "bands");
    for (int k = 0; k < 4; k++)
        cJSON_AddNumberToObject(bc, band_names[k], (double)band_counts[k]);
    /* Filter in place: matching rows to the front, the rest freed later. */
    for (size_t i = 0; i < l.n; i++) {
        struct brief *b = &l.v[i];
        bool keep = true;
        if (owner)
            keep =
                strcmp(owner, "none") == 0 ? !b->owner : b->owner && strcmp(b->owner, owner) == 0;
        if (keep && segment)
            keep = b->segment && strcmp(b->segment, segment) == 0;
        if (keep && any_band)
            keep = bands[band_index(b->band)];
        if (keep && q)
            keep = contains_ci(b->external_id, q) || contains_ci(b->name, q);
        if (keep) {
            struct brief tmp = l.v[kept];
            l.v[kept++] = *b;
            *b = tmp;
        }
    }
    if (kept) /* l.v is NULL without accounts, and qsort's array must not be */
        qsort_r(l.v, kept, sizeof *l.v, by_sort, &key);
    cJSON_AddNumberToObject(o, "total", (double)kept);
    cJSON_AddNumberToObject(o, "page", (double)page);
    cJSON_AddNumberToObject(o, "per_page", (double)per_page);
    cJSON *arr = cJSON_AddArrayToObject(o, "accounts");
    size_t from = (size_t)((page - 1) * per_page);
    for (size_t i = from; !e && i < kept && i < from + (size_t)per_page; i++) {
        const struct brief *b = &l.v[i];
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "id", b->external_id);
        add_str(a, "name", b->name);
        add_str(a, "segment", b->segment);
        add_str(a, "owner", b->owner);
        add_num(a, "mrr", b->has_mrr, b->mrr);
        add_num(a, "score", b->has_overall, b->overall);
        cJSON_AddStringToObject(a, "band", b->band);
        add_num(a, "score_30d_ago", b->has_before, b->before);
        add_num(a, "change_30d", b->has_overall && b->has_before, b->overall - b->before);
        cJSON_AddNumberToObject(a, "open_ctas", (double)b->live);
        if (scored)
            cJSON_AddItemToObject(a, "trend", trend_of(s, b->id, day, &e));
        else
            cJSON_AddItemToObject(a, "trend", cJSON_CreateArray());
        cJSON_AddItemToArray(arr, a);
    }
    eval_day_scores_free(&before);
    briefs_free(&l);
    if (e) {
        cJSON_Delete(o);
        return store_err(s, e, err);
    }
    *out = o;
    return TEND_OK;
}

/* ---- CTAs ---------------------------------------------------------------------- */

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
    add_str(o, "value_text", text[0] ? text : NULL);
}

static cJSON *cta_json(const struct store_cta *c, int32_t today, const char *currency) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)c->id);
    add_str(o, "account_id", c->account);
    add_str(o, "account_name", c->account_name);
    add_str(o, "rule", c->rule);
    add_str(o, "subject", c->subject);
    add_str(o, "type", c->type);
    cJSON_AddStringToObject(o, "priority", cta_priority_name((enum cta_priority)c->priority));
    cJSON_AddStringToObject(o, "status", cta_status_name((enum cta_status)c->status));
    add_str(o, "owner", c->owner);
    add_str(o, "title", c->title);
    add_str(o, "reason", c->reason);
    cJSON *ev = c->evidence ? cJSON_Parse(c->evidence) : NULL;
    cJSON_AddItemToObject(o, "evidence", ev ? ev : cJSON_CreateObject());
    add_date(o, "opened_date", true, c->opened_day);
    add_date(o, "due_date", true, c->due_day);
    add_date(o, "snoozed_until", c->status == CTA_SNOOZED, c->snoozed_until);
    bool closed = c->status == CTA_CLOSED && c->has_closed;
    add_str(o, "closed_reason",
            closed ? cta_close_reason_name((enum cta_close_reason)c->closed_reason) : NULL);
    add_date(o, "closed_date", closed, c->closed_day);
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
};

static int on_cta(void *arg, const struct store_cta *c) {
    struct cta_list *l = arg;
    if (l->n++ < l->limit)
        cJSON_AddItemToArray(l->arr, cta_json(c, l->today, l->currency));
    return 0;
}

/* The current day of tend's timeline (eval/act.h), for "overdue"; today
 * when the store cannot tell. */
static int32_t timeline_day(struct store *s) {
    int32_t day;
    return eval_action_day(s, &day) ? dt_day_of_ms(dt_now_ms()) : day;
}

static int on_held(void *arg, const struct store_cta_held *h) {
    struct cta_list *l = arg;
    if (l->n++ >= l->limit)
        return 0;
    cJSON *o = cJSON_CreateObject();
    add_date(o, "week", true, h->week);
    add_date(o, "first_day", true, h->first_day);
    add_date(o, "day", true, h->day);
    add_str(o, "account_id", h->account);
    add_str(o, "account_name", h->account_name);
    add_str(o, "rule", h->rule);
    add_str(o, "subject", h->subject);
    add_str(o, "type", h->type);
    cJSON_AddStringToObject(o, "priority", cta_priority_name((enum cta_priority)h->priority));
    add_str(o, "owner", h->owner);
    add_str(o, "title", h->title);
    add_str(o, "reason", h->reason);
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
            return bad(err, "week: must be a date (YYYY-MM-DD) or all", week);
        w = plan_week_start(w);
    }
    struct cta_list l = {.today = timeline_day(s), .limit = limit, .currency = env->rc->currency};
    l.arr = cJSON_CreateArray();
    enum tend_err e = store_ctas_held_each(s, w, owner, on_held, &l);
    if (e) {
        cJSON_Delete(l.arr);
        return store_err(s, e, err);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "total", (double)l.n);
    add_date(o, "week", w != 0, w);
    cJSON_AddNumberToObject(o, "budget_per_owner_per_week", env->rc->budget_per_owner_week);
    cJSON_AddItemToObject(o, "held", l.arr);
    *out = o;
    return TEND_OK;
}

enum tend_err view_ctas(struct store *s, const struct view_env *env, const struct view_params *p,
                        const char *me, cJSON **out, char *err) {
    long limit;
    enum tend_err e;
    if ((e = int_param(p, "limit", 1, CTAS_LIMIT_MAX, CTAS_LIMIT, &limit, err)))
        return e;
    struct store_cta_filter f = {.status = "live"};
    const char *status = view_param(p, "status");
    bool held = status && strcmp(status, "held") == 0;
    if (status && status[0] && !held && !cta_status_filter_parse(status, &f.status))
        return bad(err, "status: must be live, open, snoozed, closed, all or held", status);
    const char *owner = view_param(p, "owner");
    if (owner && strcmp(owner, "me") == 0) {
        if (!me || !me[0])
            return bad(err, "owner: me needs a signed-in user, not an API token", owner);
        owner = me;
    }
    f.owner = owner && owner[0] && strcmp(owner, "all") != 0 ? owner : NULL;
    if (held)
        return view_held(s, env, f.owner, p, limit, out, err);
    const char *account = view_param(p, "account"), *rule = view_param(p, "rule");
    f.account = account && account[0] ? account : NULL;
    f.rule = rule && rule[0] ? rule : NULL;
    cJSON *o = cJSON_CreateObject();
    struct cta_list l = {.today = timeline_day(s), .limit = limit, .currency = env->rc->currency};
    cJSON *arr = cJSON_CreateArray();
    l.arr = arr;
    if ((e = store_ctas_each(s, &f, on_cta, &l))) {
        cJSON_Delete(o);
        cJSON_Delete(arr);
        return store_err(s, e, err);
    }
    cJSON_AddNumberToObject(o, "total", (double)l.n);
    add_date(o, "today", true, l.today);
    /* What the budget held back this week, for the cockpit's count. */
    int64_t n_held = 0;
    int32_t week = plan_week_start(l.today);
    if ((e = store_ctas_held_count(s, week, f.owner, &n_held))) {
        cJSON_Delete(o);
        cJSON_Delete(arr);
        return store_err(s, e, err);
    }
    cJSON_AddNumberToObject(o, "held_this_week", (double)n_held);
    add_date(o, "week", true, week);
    cJSON_AddItemToObject(o, "ctas", arr);
    *out = o;
    return TEND_OK;
}

static void on_history(void *arg, const struct store_cta_change *ch) {
    cJSON *h = cJSON_CreateObject();
    cJSON_AddNumberToObject(h, "seq", (double)ch->seq);
    add_date(h, "date", true, ch->day);
    add_instant(h, "at", ch->at_ms);
    add_str(h, "action", ch->action);
    add_str(h, "actor", ch->actor);
    cJSON_AddStringToObject(h, "status", cta_status_name((enum cta_status)ch->status));
    cJSON_AddStringToObject(h, "priority", cta_priority_name((enum cta_priority)ch->priority));
    add_str(h, "note", ch->note && ch->note[0] ? ch->note : NULL);
    cJSON_AddItemToArray(arg, h);
}

struct one_cta {
    cJSON *o;
    int32_t today;
    const char *currency;
};

static void on_one_cta(void *arg, const struct store_cta *c) {
    struct one_cta *x = arg;
    x->o = cta_json(c, x->today, x->currency);
}

enum tend_err view_cta(struct store *s, const struct view_env *env, int64_t id, cJSON **out,
                       char *err) {
    struct one_cta x = {.today = timeline_day(s), .currency = env->rc->currency};
    enum tend_err e = store_cta_get(s, id, on_one_cta, &x);
    if (e == TEND_ERR_NOTFOUND) {
        snprintf(err, VIEW_ERR_BYTES, "no CTA %lld", (long long)id);
        return e;
    }
    if (!e)
        e = store_cta_history_each(s, id, on_history, cJSON_AddArrayToObject(x.o, "history"));
    if (e) {
        cJSON_Delete(x.o);
        return store_err(s, e, err);
    }
    *out = x.o;
    return TEND_OK;
}

/* ---- GET /api/accounts/{id} -------------------------------------------------------- */

static int on_account_row(void *arg, const struct store_account_row *r) {
    cJSON *o = arg;
    cJSON_AddStringToObject(o, "id", r->external_id);
    add_str(o, "name", r->f.name);
    add_str(o, "segment", r->f.segment);
    add_str(o, "plan", r->f.plan);
    add_str(o, "owner", r->f.csm_email);
    add_str(o, "csm_slack", r->f.csm_slack);
    add_num(o, "mrr", r->f.has_mrr, r->f.mrr);
    if (r->f.has_seats)
        cJSON_AddNumberToObject(o, "seats", (double)r->f.seats);
    else
        cJSON_AddNullToObject(o, "seats");
    add_str(o, "renewal_date", r->f.renewal_date);
    add_instant(o, "first_seen", r->first_seen_ms);
    cJSON_AddNumberToObject(o, "users", (double)r->members);
    cJSON *traits = r->traits_json ? cJSON_Parse(r->traits_json) : NULL;
    cJSON_AddItemToObject(o, "traits", traits ? traits : cJSON_CreateObject());
    return 0;
}

static void add_components(cJSON *o, const struct store_score *sc) {
    for (int k = 0; k < STORE_COMPONENTS; k++)
        add_num(o, health_component_name((enum health_component)k), sc->has[k], sc->components[k]);
}

static void on_history_score(void *arg, const struct store_score *sc) {
    cJSON *h = cJSON_CreateObject();
    add_date(h, "date", true, sc->day);
    add_num(h, "overall", sc->has_overall, sc->overall);
    cJSON_AddStringToObject(h, "band", sc->band);
    add_components(h, sc);
    cJSON_AddItemToArray(arg, h);
}

static int on_metrics(void *arg, int64_t id, const char *account_id, const struct metrics *m) {
    cJSON *o = arg;
    cJSON_AddBoolToObject(o, "churned", m->churned);
    cJSON *mj = cJSON_AddObjectToObject(o, "metrics");
    for (int i = 0; i < metrics_column_count; i++) {
        double v;
        if (health_input(m, metrics_columns[i], &v) && isfinite(v))
            cJSON_AddNumberToObject(mj, metrics_columns[i], v);
        else
            cJSON_AddNullToObject(mj, metrics_columns[i]);
    }
    return 0;
}

/* A timeline entry; at_ms kept for ordering. */
struct entry {
    int64_t at_ms;
    cJSON *o;
};

struct timeline {
    struct entry *v;
    size_t n, cap;
};

static void timeline_add(struct timeline *t, int64_t at_ms, cJSON *o) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = (struct entry){at_ms, o};
}

static cJSON *entry(int64_t at_ms, const char *kind, const char *what, const char *user,
                    const char *detail) {
    cJSON *o = cJSON_CreateObject();
    add_instant(o, "at", at_ms);
    cJSON_AddStringToObject(o, "kind", kind);
    add_str(o, "what", what);
    add_str(o, "user", user);
    add_str(o, "detail", detail && detail[0] ? detail : NULL);
    return o;
}

static void on_fact(void *arg, const struct store_fact *f, const char *user) {
    char detail[256] = "";
    size_t n = 0;
    if (f->kind == EV_NPS && f->has_num)
        n += (size_t)snprintf(detail, sizeof detail, "score %g", f->num);
    else if (f->has_num)
        n += (size_t)snprintf(detail, sizeof detail, "%g", f->num);
    if (f->subject && n < sizeof detail)
        n += (size_t)snprintf(detail + n, sizeof detail - n, "%s%s", n ? ", " : "", f->subject);
    if (f->detail && n < sizeof detail)
        n += (size_t)snprintf(detail + n, sizeof detail - n, "%s%s", n ? ", " : "", f->detail);
    if (f->has_day && n < sizeof detail) {
        char d[16];
        dt_format_date(f->day, d);
        snprintf(detail + n, sizeof detail - n, "%s%s", n ? ", " : "", d);
    }
    const char *what =
        f->kind == EV_GROUP ? "Account traits updated" : vocab_kind_name((enum event_kind)f->kind);
    timeline_add(arg, f->ts_ms, entry(f->ts_ms, "event", what, user, detail));
}

struct cta_changes {
    struct timeline *t;
    int64_t cta_id;
    const char *title;
};

static void on_cta_change(void *arg, const struct store_cta_change *ch) {
    struct cta_changes *x = arg;
    char detail[512];
    snprintf(detail, sizeof detail, "%s%s%s", x->title, ch->note && ch->note[0] ? ": " : "",
             ch->note ? ch->note : "");
    /* A change made by a replay (tend eval --from) was recorded when the
     * replay ran: place it on its day (at noon UTC, which is that date in
     * every time zone within 12 hours of UTC). */
    int64_t at = dt_day_of_ms(ch->at_ms) == ch->day
                     ? ch->at_ms
                     : (int64_t)ch->day * DT_MS_PER_DAY + DT_MS_PER_DAY / 2;
    cJSON *o = entry(at, "cta", ch->action, ch->actor, detail);
    cJSON_AddNumberToObject(o, "cta", (double)x->cta_id);
    timeline_add(x->t, at, o);
}

static int by_time_desc(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    return x->at_ms < y->at_ms ? 1 : x->at_ms > y->at_ms ? -1 : 0;
}

struct account_ctas {
    cJSON *arr;
    int32_t today;
    const char *currency;
    int64_t *ids;
    char **titles;
    size_t n;
};

static int on_account_cta(void *arg, const struct store_cta *c) {
    struct account_ctas *x = arg;
    cJSON_AddItemToArray(x->arr, cta_json(c, x->today, x->currency));
    x->ids = xrealloc(x->ids, (x->n + 1) * sizeof *x->ids);
    x->titles = xrealloc(x->titles, (x->n + 1) * sizeof *x->titles);
    x->ids[x->n] = c->id;
    x->titles[x->n++] = xstrdup(c->title ? c->title : "");
    return 0;
}

enum tend_err view_account(struct store *s, const struct view_env *env, const char *account,
                           const struct view_params *p, cJSON **out, char *err) {
    long days;
    enum tend_err e;
    if ((e = int_param(p, "days", 1, HISTORY_MAX_DAYS, TREND_DAYS, &days, err)))
        return e;
    int64_t id;
    if ((e = store_account_find(s, account, &id))) {
        if (e == TEND_ERR_NOTFOUND) {
            snprintf(err, VIEW_ERR_BYTES, "no account \"%.200s\"", account);
            return e;
        }
        return store_err(s, e, err);
    }
    int32_t day = 0;
    bool scored;
    if ((e = latest_day(s, &day, &scored, err)))
        return e;
    cJSON *o = cJSON_CreateObject();
    struct timeline t = {0};
    struct account_ctas ac = {.today = timeline_day(s), .currency = env->rc->currency};
    if ((e = store_account_get(s, id, on_account_row, o)))
        goto fail;
    /* The score of the latest evaluation, and its history. */
    struct store_score sc;
    bool found = false;
    if (scored && (e = store_score_get(s, id, day, &sc, &found)))
        goto fail;
    cJSON *score = cJSON_AddObjectToObject(o, "score");
    add_date(score, "date", found, day);
    add_num(score, "overall", found && sc.has_overall, sc.overall);
    cJSON_AddStringToObject(score, "band", found ? sc.band : "none");
    add_str(score, "config_version", found ? sc.config_version : NULL);
    cJSON *comps = cJSON_AddObjectToObject(score, "components");
    if (found) {
        add_components(comps, &sc);
    } else {
        for (int k = 0; k < STORE_COMPONENTS; k++)
            cJSON_AddNullToObject(comps, health_component_name((enum health_component)k));
    }
    cJSON *w = cJSON_AddObjectToObject(o, "weights");
    for (int k = 0; k < HC_COUNT; k++)
        cJSON_AddNumberToObject(w, health_component_name((enum health_component)k),
                                env->hc->weights[k]);
    /* Metrics as of the end of the score's day (as of now before any). */
    int64_t t_ms = scored ? (int64_t)(day + 1) * DT_MS_PER_DAY : dt_now_ms();
    if ((e = eval_metrics(s, t_ms, account, on_metrics, o)))
        goto fail;
    if (!cJSON_GetObjectItemCaseSensitive(o, "metrics")) { /* not known yet at t_ms */
        cJSON_AddBoolToObject(o, "churned", false);
        cJSON_AddObjectToObject(o, "metrics");
    }
    cJSON *hist = cJSON_AddArrayToObject(o, "history");
    if (scored &&
        (e = store_score_history(s, id, day - (int32_t)days + 1, day, on_history_score, hist)))
        goto fail;
    ac.arr = cJSON_AddArrayToObject(o, "ctas");
    struct store_cta_filter f = {.account = account};
    if ((e = store_ctas_each(s, &f, on_account_cta, &ac)))
        goto fail;
    if ((e = store_account_facts_recent(s, id, TIMELINE_EVENTS, on_fact, &t)))
        goto fail;
    for (size_t i = 0; !e && i < ac.n; i++) {
        struct cta_changes cc = {.t = &t, .cta_id = ac.ids[i], .title = ac.titles[i]};
        e = store_cta_history_each(s, ac.ids[i], on_cta_change, &cc);
    }
    if (e)
        goto fail;
    if (t.n)
        qsort(t.v, t.n, sizeof *t.v, by_time_desc);
    cJSON *tl = cJSON_AddArrayToObject(o, "timeline");
    for (size_t i = 0; i < t.n; i++)
        cJSON_AddItemToArray(tl, t.v[i].o);
    t.n = 0;
fail:
    for (size_t i = 0; i < t.n; i++)
        cJSON_Delete(t.v[i].o);
    free(t.v);
    for (size_t i = 0; i < ac.n; i++)
        free(ac.titles[i]);
    free(ac.titles);
    free(ac.ids);
    if (e) {
        cJSON_Delete(o);
        return store_err(s, e, err);
    }
    *out = o;
    return TEND_OK;
}

/* ---- GET /api/rules ------------------------------------------------------------------ */

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
    int32_t today = timeline_day(s);
    enum tend_err e = store_rule_counts_each(s, today - FIRED_RECENT_DAYS + 1, on_rule_counts, &r);
    cJSON *latest = NULL;
    int64_t latest_id = 0, latest_ms = 0;
    if (!e)
        e = backtest_latest(s, &latest, &latest_id, &latest_ms);
    if (e) {
        free(r.v);
        free(r.names);
        return store_err(s, e, err);
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
        add_date(x, "last_fired", c->total > 0, c->last_opened_day);
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
    add_str(o, "event", r->event);
    add_str(o, "channel", r->channel);
    add_str(o, "target", r->target);
    add_str(o, "owner", r->owner);
    add_str(o, "status", r->status);
    cJSON_AddNumberToObject(o, "attempts", (double)r->attempts);
    cJSON_AddNumberToObject(o, "resends", (double)r->resends);
    add_instant(o, "created", r->created_ms);
    add_instant(o, "next_at", r->next_at_ms);
    add_instant(o, "sent", r->sent_ms);
    add_str(o, "last_error", r->last_error && r->last_error[0] ? r->last_error : NULL);
    add_str(o, "key", r->key);
    cJSON_AddItemToArray(arg, o);
}

enum tend_err view_outbox(struct store *s, const struct view_params *p, cJSON **out, char *err) {
    long limit;
    enum tend_err e;
    if ((e = int_param(p, "limit", 1, OUTBOX_LIMIT_MAX, OUTBOX_LIMIT, &limit, err)))
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
            return bad(err, "status: must be held, digested, pending, sending, sent or dead",
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
        return store_err(s, e, err);
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
    add_str(o, "kind", r->kind);
    add_str(o, "title", r->title);
    add_instant(o, "created", r->created_ms);
    add_str(o, "summary", r->summary);
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
    if ((e = int_param(p, "limit", 1, REPORTS_LIMIT, REPORTS_LIMIT, &limit, err)))
        return e;
    cJSON *o = cJSON_CreateObject();
    if ((e = store_reports_each(s, (int)limit, on_report_row,
                                cJSON_AddArrayToObject(o, "reports")))) {
        cJSON_Delete(o);
        return store_err(s, e, err);
    }
    *out = o;
    return TEND_OK;
}

static void on_report(void *arg, const struct store_report *r) {
    cJSON *o = report_json(r);
    add_str(o, "html", r->body);
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
        return store_err(s, e, err);
    *out = o;
    return TEND_OK;
}
