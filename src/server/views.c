/* views.c: the JSON views of the REST API and the dashboard (see views.h):
 * the accounts (GET /api/accounts, GET /api/accounts/{id}), and the small
 * helpers every views file shares (views_int.h): query parameters, null-or-
 * value members, and errors in the form the API answers with.
 *
 * The other views live by area: the CTAs (views_ctas.c), the rules, the
 * outbox and the stored reports (views_admin.c), the churn-risk model
 * (views_model.c). */
#include "server/views.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cta.h"
#include "core/vocab.h"
#include "eval/act.h"
#include "eval/eval.h"
#include "server/views_int.h"
#include "util/datetime.h"
#include "util/mem.h"

#define TREND_DAYS       90
#define PER_PAGE_DEFAULT 50
#define PER_PAGE_MAX     500
#define HISTORY_MAX_DAYS 730
#define TIMELINE_EVENTS  100

const char *view_param(const struct view_params *p, const char *key) {
    for (int i = 0; p && i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0)
            return p->values[i];
    return NULL;
}

/* "WHAT, not "VALUE"" into err. */
enum tend_err view_bad(char *err, const char *what, const char *value) {
    snprintf(err, VIEW_ERR_BYTES, "%s, not \"%.100s\"", what, value);
    return TEND_ERR_USAGE;
}

/* An integer parameter from lo to hi, def when absent. */
enum tend_err view_int_param(const struct view_params *p, const char *key, long lo, long hi,
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

void view_add_str(cJSON *o, const char *key, const char *v) {
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

void view_add_date(cJSON *o, const char *key, bool has, int32_t day) {
    char d[16];
    if (!has) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    dt_format_date(day, d);
    cJSON_AddStringToObject(o, key, d);
}

void view_add_instant(cJSON *o, const char *key, int64_t ms) {
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

enum tend_err view_store_err(struct store *s, enum tend_err e, char *err) {
    snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
    return e;
}

/* The current day of tend's timeline (eval/act.h), for "overdue"; today
 * when the store cannot tell. */
int32_t view_timeline_day(struct store *s) {
    int32_t day;
    return eval_action_day(s, &day) ? dt_day_of_ms(dt_now_ms()) : day;
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
    if ((e = view_int_param(p, "page", 1, 1000000, 1, &page, err)) ||
        (e = view_int_param(p, "per_page", 1, PER_PAGE_MAX, PER_PAGE_DEFAULT, &per_page, err)))
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
            return view_bad(err, "sort: must be score, -score, change, mrr, name or ctas", sort);
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
        return view_store_err(s, e, err);
    }
    struct eval_day_scores before = {0};
    if (scored && (e = eval_day_scores_load(s, day - 30, NULL, &before))) {
        briefs_free(&l);
        return view_store_err(s, e, err);
    }
    int64_t band_counts[4] = {0};
    size_t kept = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct brief *b = &l.v[i];
        b->has_before = eval_day_score(&before, b->id, &b->before);
        band_counts[band_index(b->band)]++;
    }
    cJSON *o = cJSON_CreateObject();
    view_add_date(o, "date", scored, day);
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
        view_add_str(a, "name", b->name);
        view_add_str(a, "segment", b->segment);
        view_add_str(a, "owner", b->owner);
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
        return view_store_err(s, e, err);
    }
    *out = o;
    return TEND_OK;
}

/* ---- GET /api/accounts/{id} -------------------------------------------------------- */

static int on_account_row(void *arg, const struct store_account_row *r) {
    cJSON *o = arg;
    cJSON_AddStringToObject(o, "id", r->external_id);
    view_add_str(o, "name", r->f.name);
    view_add_str(o, "segment", r->f.segment);
    view_add_str(o, "plan", r->f.plan);
    view_add_str(o, "owner", r->f.csm_email);
    view_add_str(o, "csm_slack", r->f.csm_slack);
    add_num(o, "mrr", r->f.has_mrr, r->f.mrr);
    if (r->f.has_seats)
        cJSON_AddNumberToObject(o, "seats", (double)r->f.seats);
    else
        cJSON_AddNullToObject(o, "seats");
    view_add_str(o, "renewal_date", r->f.renewal_date);
    view_add_instant(o, "first_seen", r->first_seen_ms);
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
    view_add_date(h, "date", true, sc->day);
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

static void timeline_put(void *arg, int64_t at_ms, cJSON *o) {
    timeline_add(arg, at_ms, o);
}

static cJSON *entry(int64_t at_ms, const char *kind, const char *what, const char *user,
                    const char *detail) {
    cJSON *o = cJSON_CreateObject();
    view_add_instant(o, "at", at_ms);
    cJSON_AddStringToObject(o, "kind", kind);
    view_add_str(o, "what", what);
    view_add_str(o, "user", user);
    view_add_str(o, "detail", detail && detail[0] ? detail : NULL);
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
    cJSON_AddItemToArray(x->arr, view_cta_json(c, x->today, x->currency));
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
    if ((e = view_int_param(p, "days", 1, HISTORY_MAX_DAYS, TREND_DAYS, &days, err)))
        return e;
    int64_t id;
    if ((e = store_account_find(s, account, &id))) {
        if (e == TEND_ERR_NOTFOUND) {
            snprintf(err, VIEW_ERR_BYTES, "no account \"%.200s\"", account);
            return e;
        }
        return view_store_err(s, e, err);
    }
    int32_t day = 0;
    bool scored;
    if ((e = latest_day(s, &day, &scored, err)))
        return e;
    cJSON *o = cJSON_CreateObject();
    struct timeline t = {0};
    struct account_ctas ac = {.today = view_timeline_day(s), .currency = env->rc->currency};
    if ((e = store_account_get(s, id, on_account_row, o)))
        goto fail;
    /* The score of the latest evaluation, and its history. */
    struct store_score sc;
    bool found = false;
    if (scored && (e = store_score_get(s, id, day, &sc, &found)))
        goto fail;
    cJSON *score = cJSON_AddObjectToObject(o, "score");
    view_add_date(score, "date", found, day);
    add_num(score, "overall", found && sc.has_overall, sc.overall);
    cJSON_AddStringToObject(score, "band", found ? sc.band : "none");
    view_add_str(score, "config_version", found ? sc.config_version : NULL);
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
    if ((e = view_account_customer(s, id, o, timeline_put, &t))) /* views_customer.c */
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
        return view_store_err(s, e, err);
    }
    *out = o;
    return TEND_OK;
}
