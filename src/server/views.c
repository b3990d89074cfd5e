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

/* Money keeps its cents (an MRR of 162.72 is not 162.7). */
static void add_money(cJSON *o, const char *key, bool has, double v) {
    if (has && isfinite(v))
        cJSON_AddNumberToObject(o, key, round(v * 100) / 100);
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

static const char *const sort_names[] = {"score", "-score", "change", "mrr", "name", "ctas"};
static const char *const band_names[] = {"red", "yellow", "green", "none"};

/* The band filter: every band value, repeated or comma-separated, as
 * STORE_BAND_* bits (0: any). */
static enum tend_err band_filter(const struct view_params *p, unsigned *bands, char *err) {
    *bands = 0;
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
            *bands |= 1u << k; /* STORE_BAND_RED << k */
        }
        g_strfreev(parts);
    }
    return TEND_OK;
}

static cJSON *string_array(const char *const *v, size_t n) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
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

/* A search: q case folded once (g_utf8_casefold), and whether that is
 * ASCII, when an ASCII text folds by ASCII lowering without an allocation
 * (g_utf8_casefold of ASCII is exactly that); other texts fold as
 * the dashboard has always folded them. */
struct search {
    char *folded;
    bool ascii;
};

static bool is_ascii(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

static bool folded_contains(const struct search *q, const char *hay) {
    if (!hay)
        return false;
    if (q->ascii && is_ascii(hay)) {
        size_t n = strlen(q->folded);
        for (const char *h = hay; *h; h++)
            if (g_ascii_strncasecmp(h, q->folded, n) == 0)
                return true;
        return n == 0;
    }
    char *h = g_utf8_casefold(hay, -1);
    bool found = strstr(h, q->folded) != NULL;
    g_free(h);
    return found;
}

/* A search's match: q in the external id or the name, case folded. */
static bool matches(void *arg, const char *external_id, const char *name) {
    return folded_contains(arg, external_id) || folded_contains(arg, name);
}

/* The page's rows as the store lists them, and their ids for the trends. */
struct page_rows {
    cJSON *arr;
    int64_t ids[PER_PAGE_MAX];
    int n;
};

static void on_row(void *arg, const struct store_account_brief *b) {
    struct page_rows *pr = arg;
    if (pr->n >= PER_PAGE_MAX)
        return;
    pr->ids[pr->n++] = b->id;
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "id", b->external_id);
    view_add_str(a, "name", b->name);
    view_add_str(a, "segment", b->segment);
    view_add_str(a, "owner", b->owner);
    add_money(a, "mrr", b->has_mrr, b->mrr);
    add_num(a, "score", b->has_overall, b->overall);
    cJSON_AddStringToObject(a, "band", b->band);
    add_num(a, "score_30d_ago", b->has_before, b->before);
    add_num(a, "change_30d", b->has_overall && b->has_before, b->overall - b->before);
    cJSON_AddNumberToObject(a, "open_ctas", (double)b->live_ctas);
    cJSON_AddItemToArray(pr->arr, a);
}

/* The list from the store a page at a time (store_account_list: the
 * sort's index, the counts and facets kept per data version); a search (q)
 * has the store walk the filtered list's ids and names in order and match
 * them here, where the case folding is glib's. */
enum tend_err view_accounts(struct store *s, const struct view_env *env,
                            const struct view_params *p, cJSON **out, char *err) {
    (void)env;
    long page, per_page;
    enum tend_err e;
    if ((e = view_int_param(p, "page", 1, 1000000, 1, &page, err)) ||
        (e = view_int_param(p, "per_page", 1, PER_PAGE_MAX, PER_PAGE_DEFAULT, &per_page, err)))
        return e;
    unsigned bands;
    if ((e = band_filter(p, &bands, err)))
        return e;
    const char *sort = view_param(p, "sort");
    enum store_account_sort key = STORE_SORT_SCORE;
    if (sort && sort[0]) {
        size_t k;
        for (k = 0; k < sizeof sort_names / sizeof sort_names[0]; k++)
            if (strcmp(sort, sort_names[k]) == 0)
                break;
        if (k == sizeof sort_names / sizeof sort_names[0])
            return view_bad(err, "sort: must be score, -score, change, mrr, name or ctas", sort);
        key = (enum store_account_sort)k;
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
    int64_t from = (int64_t)(page - 1) * per_page;
    struct search search = {0};
    struct store_account_query sq = {
        .day = scored ? day : INT32_MIN,
        .owner = owner,
        .segment = segment,
        .bands = bands,
        .sort = key,
        .offset = from,
        .limit = per_page,
        .match = q ? matches : NULL,
        .match_arg = &search,
    };
    if (q) {
        search.folded = g_utf8_casefold(q, -1);
        search.ascii = is_ascii(search.folded);
    }
    struct page_rows *pr = xcalloc(1, sizeof *pr);
    pr->arr = cJSON_CreateArray();
    struct store_account_summary sum;
    e = store_account_list(s, &sq, &sum, on_row, pr);
    g_free(search.folded);
    if (e) {
        cJSON_Delete(pr->arr);
        free(pr);
        return view_store_err(s, e, err);
    }
    cJSON *o = cJSON_CreateObject();
    view_add_date(o, "date", scored, day);
    cJSON_AddItemToObject(o, "owners", string_array(sum.owners, sum.n_owners));
    cJSON_AddItemToObject(o, "segments", string_array(sum.segments, sum.n_segments));
    cJSON *bc = cJSON_AddObjectToObject(o, "bands");
    for (int k = 0; k < 4; k++)
        cJSON_AddNumberToObject(bc, band_names[k], (double)sum.bands[k]);
    cJSON_AddNumberToObject(o, "total", (double)sum.total);
    cJSON_AddNumberToObject(o, "page", (double)page);
    cJSON_AddNumberToObject(o, "per_page", (double)per_page);
    cJSON_AddItemToObject(o, "accounts", pr->arr);
    /* The trends after the list: a backend may not be read during its scan. */
    cJSON *a = pr->arr->child;
    for (int i = 0; !e && a && i < pr->n; i++, a = a->next)
        cJSON_AddItemToObject(a, "trend",
                              scored ? trend_of(s, pr->ids[i], day, &e) : cJSON_CreateArray());
    free(pr);
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
    add_money(o, "mrr", r->f.has_mrr, r->f.mrr);
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
    if ((e = view_account_notes(s, id, o, timeline_put, &t))) /* views_notes.c */
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
