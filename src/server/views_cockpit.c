/* views_cockpit.c: the cockpit's list of CTAs (GET /api/ctas and GET /ctas,
 * see views.h and docs/api.md "CTAs"): filters, a sort and pages.
 *
 * The store lists the CTAs its own filter keeps (status, owner, account,
 * rule), most urgent first. The cockpit's other filters (priority, type,
 * segment, overdue, a value range) and its sorts (value, due, age) are
 * applied here in two passes, because a backend may not be read during its
 * scan and a page must not hold every CTA:
 *   1. the scan keeps, for each CTA that passes, a 40-byte key (id and what
 *      the sorts read), at most COCKPIT_MATCH_MAX of them (8 MB), and
 *      counts the facets (owners, rules, types) the filter menus offer;
 *   2. the keys are sorted, and only the page's CTAs (at most
 *      COCKPIT_PER_PAGE_MAX) are read again by id, each with its account's
 *      segment, health score and churn risk for the compact row.
 * A page of 50 out of 300 live CTAs costs one scan of the live CTAs and 50
 * reads by id; a query matching more than COCKPIT_MATCH_MAX CTAs is refused
 * with a message asking for a narrower filter rather than sorted in memory
 * without a bound. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cta.h"
#include "core/plan.h"
#include "server/views.h"
#include "server/views_int.h"
#include "util/mem.h"

#define COCKPIT_MATCH_MAX    200000
#define COCKPIT_PER_PAGE_MAX 500
#define COCKPIT_LIMIT_MAX    1000 /* the older limit= parameter's bound */
#define COCKPIT_FACETS_MAX   200  /* distinct owners, rules, types offered */

/* What a sort reads of one CTA; ord is the store's (most urgent) order. */
struct cta_key {
    int64_t id;
    double value; /* -1: unknown (sorted last by value) */
    int32_t due, opened;
    uint32_t ord;
};

enum cockpit_sort { SORT_URGENT, SORT_VALUE, SORT_DUE, SORT_AGE };

/* The filters applied after the store's. */
struct cockpit_filter {
    unsigned priorities;         /* bit per enum cta_priority; 0: any */
    unsigned types;              /* bit per enum cta_type; 0: any */
    int overdue;                 /* -1 any, 0 not overdue, 1 overdue */
    double value_min, value_max; /* NaN: no bound */
    const int64_t *in_segment;   /* sorted account ids of the segment; NULL: any */
    size_t n_in_segment;
    const int64_t *held; /* ids the randomised holdout keeps from delivery (views_notes.c) */
    size_t n_held;
    bool hide_held; /* holdout=hide */
    int32_t today;
};

struct scan {
    const struct cockpit_filter *f;
    struct cta_key *keys;
    size_t n, cap;
    uint32_t seen;
    bool too_many;
    GHashTable *owners, *rules, *types; /* name -> count (GINT_TO_POINTER) */
};

static int cmp_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void facet_add(GHashTable *h, const char *name) {
    if (!name || !name[0])
        return;
    gpointer v = g_hash_table_lookup(h, name);
    if (v)
        g_hash_table_insert(h, g_strdup(name), GINT_TO_POINTER(GPOINTER_TO_INT(v) + 1));
    else if (g_hash_table_size(h) < COCKPIT_FACETS_MAX)
        g_hash_table_insert(h, g_strdup(name), GINT_TO_POINTER(1));
}

/* True when c passes the cockpit's own filters. */
static bool passes(const struct cockpit_filter *f, const struct store_cta *c) {
    if (f->priorities && !(f->priorities & (1u << c->priority)))
        return false;
    if (f->types) {
        enum cta_type t;
        if (!c->type || !cta_type_parse(c->type, &t) || !(f->types & (1u << t)))
            return false;
    }
    if (f->overdue >= 0) {
        bool overdue = c->status == CTA_OPEN && c->due_day < f->today;
        if (overdue != (f->overdue == 1))
            return false;
    }
    if (!isnan(f->value_min) && (!c->has_value || c->value < f->value_min))
        return false;
    if (!isnan(f->value_max) && (!c->has_value || c->value > f->value_max))
        return false;
    if (f->in_segment &&
        !bsearch(&c->account_id, f->in_segment, f->n_in_segment, sizeof *f->in_segment, cmp_id))
        return false;
    if (f->hide_held && view_held_out(f->held, f->n_held, c->id))
        return false;
    return true;
}

static int on_scan(void *arg, const struct store_cta *c) {
    struct scan *sc = arg;
    uint32_t ord = sc->seen++;
    if (!passes(sc->f, c))
        return 0;
    facet_add(sc->owners, c->owner);
    facet_add(sc->rules, c->rule);
    facet_add(sc->types, c->type);
    if (sc->n == COCKPIT_MATCH_MAX) {
        sc->too_many = true;
        return 1;
    }
    if (sc->n == sc->cap) {
        sc->cap = sc->cap ? sc->cap * 2 : 256;
        sc->keys = xrealloc(sc->keys, sc->cap * sizeof *sc->keys);
    }
    sc->keys[sc->n++] = (struct cta_key){
        .id = c->id,
        .value = c->has_value ? c->value : -1,
        .due = c->due_day,
        .opened = c->opened_day,
        .ord = ord,
    };
    return 0;
}

struct sort_by {
    enum cockpit_sort key;
    bool desc;
};

static gint cmp_key(gconstpointer a, gconstpointer b, gpointer arg) {
    const struct cta_key *x = a, *y = b;
    const struct sort_by *by = arg;
    int r = 0;
    switch (by->key) {
    case SORT_VALUE: /* highest first; unknown last whatever the direction */
        if ((x->value < 0) != (y->value < 0))
            return x->value < 0 ? 1 : -1;
        r = (x->value < y->value) - (x->value > y->value);
        break;
    case SORT_DUE: /* soonest first */
        r = (x->due > y->due) - (x->due < y->due);
        break;
    case SORT_AGE: /* oldest first */
        r = (x->opened > y->opened) - (x->opened < y->opened);
        break;
    case SORT_URGENT:
        break;
    }
    if (by->desc)
        r = -r;
    if (r)
        return r;
    return (x->ord > y->ord) - (x->ord < y->ord);
}

/* Parses a comma-separated list of names into bits (parse: name -> index). */
static bool parse_set(const char *list, bool (*parse)(const char *, int *), unsigned *bits) {
    *bits = 0;
    if (!list || !list[0])
        return true;
    gchar **parts = g_strsplit(list, ",", 8);
    bool ok = true;
    for (gchar **p = parts; *p && ok; p++) {
        int v;
        g_strstrip(*p);
        if (!**p)
            continue;
        ok = parse(*p, &v);
        if (ok)
            *bits |= 1u << v;
    }
    g_strfreev(parts);
    return ok;
}

static bool parse_priority(const char *s, int *v) {
    enum cta_priority p;
    if (!cta_priority_parse(s, &p))
        return false;
    *v = (int)p;
    return true;
}

static bool parse_type(const char *s, int *v) {
    enum cta_type t;
    if (!cta_type_parse(s, &t))
        return false;
    *v = (int)t;
    return true;
}

/* A non-negative amount parameter into *out (NaN when absent). */
static enum tend_err amount_param(const struct view_params *p, const char *key, double *out,
                                  char *err) {
    const char *v = view_param(p, key);
    *out = NAN;
    if (!v || !v[0])
        return TEND_OK;
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || !isfinite(d) || d < 0 || d > 1e15) {
        char what[64];
        snprintf(what, sizeof what, "%s: must be an amount from 0", key);
        return view_bad(err, what, v);
    }
    *out = d;
    return TEND_OK;
}

struct seg_ids {
    const char *segment;
    int64_t *ids;
    size_t n, cap;
};

static int on_account(void *arg, const struct store_account_row *row) {
    struct seg_ids *g = arg;
    if (!row->f.segment || strcmp(row->f.segment, g->segment) != 0)
        return 0;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->ids = xrealloc(g->ids, g->cap * sizeof *g->ids);
    }
    g->ids[g->n++] = row->id;
    return 0;
}

/* The facet table as a JSON array of {name, count}, by name. */
static cJSON *facet_json(GHashTable *h) {
    GList *names = g_list_sort(g_hash_table_get_keys(h), (GCompareFunc)strcmp);
    cJSON *arr = cJSON_CreateArray();
    for (GList *l = names; l; l = l->next) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", l->data);
        cJSON_AddNumberToObject(o, "count", GPOINTER_TO_INT(g_hash_table_lookup(h, l->data)));
        cJSON_AddItemToArray(arr, o);
    }
    g_list_free(names);
    return arr;
}

struct one {
    cJSON *o;
    int64_t account_id;
    int32_t today;
    const char *currency;
};

static void on_one(void *arg, const struct store_cta *c) {
    struct one *x = arg;
    x->o = view_cta_json(c, x->today, x->currency);
    x->account_id = c->account_id;
}

static int on_brief(void *arg, const struct store_account_row *row) {
    cJSON *o = arg;
    view_add_str(o, "segment", row->f.segment && row->f.segment[0] ? row->f.segment : NULL);
    return 0;
}

static void on_risk(void *arg, const struct store_risk_row *r) {
    cJSON_ReplaceItemInObject(arg, "risk", cJSON_CreateNumber(round(r->r.p_churn * 1000) / 1000));
}

/* Adds the account's segment, health (score and band of day) and churn risk
 * (of risk_day) to the CTA's JSON o; nulls when unknown. */
static enum tend_err add_account(struct store *s, cJSON *o, int64_t account_id, bool scored,
                                 int32_t day, bool risked, int32_t risk_day) {
    enum tend_err e;
    cJSON_AddNullToObject(o, "segment");
    cJSON_AddNullToObject(o, "health");
    cJSON_AddNullToObject(o, "health_band");
    cJSON_AddNullToObject(o, "risk");
    if (account_id <= 0)
        return TEND_OK;
    cJSON_DeleteItemFromObject(o, "segment");
    if ((e = store_accounts_brief_of(s, &account_id, 1, on_brief, o)))
        return e;
    if (!cJSON_GetObjectItemCaseSensitive(o, "segment"))
        cJSON_AddNullToObject(o, "segment");
    if (scored) {
        struct store_score sc;
        bool found = false;
        if ((e = store_score_get(s, account_id, day, &sc, &found)))
            return e;
        if (found && sc.has_overall)
            cJSON_ReplaceItemInObject(o, "health", cJSON_CreateNumber(round(sc.overall * 10) / 10));
        if (found && sc.band[0] && strcmp(sc.band, "none") != 0)
            cJSON_ReplaceItemInObject(o, "health_band", cJSON_CreateString(sc.band));
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "account_id");
    const char *ext = cJSON_IsString(id) ? id->valuestring : NULL;
    if (risked && ext && (e = store_risk_of_account(s, risk_day, ext, on_risk, o)))
        return e;
    return TEND_OK;
}

enum tend_err view_ctas_list(struct store *s, const struct view_env *env,
                             const struct view_params *p, struct store_cta_filter *sf, cJSON **out,
                             char *err) {
    enum tend_err e;
    long page, per_page;
    const char *limit = view_param(p, "limit");
    if ((e = view_int_param(p, "page", 1, 1000000, 1, &page, err)))
        return e;
    if (limit && !view_param(p, "per_page")) { /* the older name: one page */
        if ((e = view_int_param(p, "limit", 1, COCKPIT_LIMIT_MAX, 200, &per_page, err)))
            return e;
    } else if ((e = view_int_param(p, "per_page", 1, COCKPIT_PER_PAGE_MAX, 200, &per_page, err))) {
        return e;
    }
    struct cockpit_filter f = {.overdue = -1, .today = view_timeline_day(s)};
    const char *v;
    if (!parse_set(view_param(p, "priority"), parse_priority, &f.priorities))
        return view_bad(err, "priority: must be high, medium or low (or several, by commas)",
                        view_param(p, "priority"));
    if (!parse_set(view_param(p, "type"), parse_type, &f.types))
        return view_bad(err,
                        "type: must be risk, opportunity, lifecycle or expansion (or several, "
                        "by commas)",
                        view_param(p, "type"));
    if ((v = view_param(p, "overdue")) && v[0]) {
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
            f.overdue = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
            f.overdue = 0;
        else if (strcmp(v, "any") != 0)
            return view_bad(err, "overdue: must be yes, no or any", v);
    }
    if ((e = amount_param(p, "value_min", &f.value_min, err)) ||
        (e = amount_param(p, "value_max", &f.value_max, err)))
        return e;
    enum cockpit_sort sort = SORT_URGENT;
    bool desc = false;
    if ((v = view_param(p, "sort")) && v[0]) {
        const char *name = v[0] == '-' ? v + 1 : v;
        desc = v[0] == '-';
        if (!strcmp(name, "urgent"))
            sort = SORT_URGENT;
        else if (!strcmp(name, "value"))
            sort = SORT_VALUE;
        else if (!strcmp(name, "due"))
            sort = SORT_DUE;
        else if (!strcmp(name, "age"))
            sort = SORT_AGE;
        else
            return view_bad(err, "sort: must be urgent, value, due or age (- before: reversed)", v);
    }
    const char *holdout = view_param(p, "holdout");
    if (holdout && holdout[0] && strcmp(holdout, "hide") != 0 && strcmp(holdout, "show") != 0)
        return view_bad(err, "holdout: must be show or hide", holdout);
    f.hide_held = holdout && strcmp(holdout, "hide") == 0;
    int64_t *held = NULL;
    if ((e = view_held_out_ids(s, &held, &f.n_held)))
        return view_store_err(s, e, err);
    f.held = held;
    struct seg_ids seg = {.segment = view_param(p, "segment")};
    if (seg.segment && seg.segment[0]) {
        if ((e = store_accounts_brief_each(s, on_account, &seg))) {
            free(seg.ids);
            free(held);
            return view_store_err(s, e, err);
        }
        qsort(seg.ids, seg.n, sizeof *seg.ids, cmp_id);
        f.in_segment = seg.ids ? seg.ids : (const int64_t[]){0};
        f.n_in_segment = seg.n;
    }

    struct scan sc = {.f = &f};
    sc.owners = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sc.rules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    sc.types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    cJSON *o = NULL;
    e = store_ctas_each(s, sf, on_scan, &sc);
    free(seg.ids);
    if (e) {
        view_store_err(s, e, err);
        goto cleanup;
    }
    if (sc.too_many) {
        snprintf(err, VIEW_ERR_BYTES,
                 "more than %d CTAs match: narrow the filters (status, owner, rule, priority)",
                 COCKPIT_MATCH_MAX);
        e = TEND_ERR_USAGE;
        goto cleanup;
    }
    if (sort != SORT_URGENT || desc) {
        struct sort_by by = {.key = sort, .desc = desc};
        g_qsort_with_data(sc.keys, (gint)sc.n, sizeof *sc.keys, cmp_key, &by);
    }

    int32_t day = 0, risk_day = 0;
    bool scored = false, risked = false;
    if ((e = store_scores_latest_day(s, &day, &scored)) ||
        (e = store_risk_latest_day(s, f.today, &risk_day, &risked))) {
        view_store_err(s, e, err);
        goto cleanup;
    }
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "total", (double)sc.n);
    cJSON_AddNumberToObject(o, "page", (double)page);
    cJSON_AddNumberToObject(o, "per_page", (double)per_page);
    cJSON_AddNumberToObject(o, "pages", (double)((sc.n + (size_t)per_page - 1) / (size_t)per_page));
    view_add_date(o, "today", true, f.today);
    view_add_str(o, "currency", env->rc->currency);
    cJSON *facets = cJSON_AddObjectToObject(o, "facets");
    cJSON_AddItemToObject(facets, "owners", facet_json(sc.owners));
    cJSON_AddItemToObject(facets, "rules", facet_json(sc.rules));
    cJSON_AddItemToObject(facets, "types", facet_json(sc.types));
    cJSON *arr = cJSON_AddArrayToObject(o, "ctas");
    size_t from = (size_t)(page - 1) * (size_t)per_page;
    for (size_t i = from; i < sc.n && i < from + (size_t)per_page; i++) {
        struct one x = {.today = f.today, .currency = env->rc->currency};
        if ((e = store_cta_get(s, sc.keys[i].id, on_one, &x)) == TEND_ERR_NOTFOUND)
            continue; /* gone since the scan (tend cta reset) */
        if (!e)
            e = add_account(s, x.o, x.account_id, scored, day, risked, risk_day);
        if (x.o)
            cJSON_AddBoolToObject(x.o, "held_out", view_held_out(held, f.n_held, sc.keys[i].id));
        if (x.o)
            cJSON_AddItemToArray(arr, x.o);
        if (e) {
            view_store_err(s, e, err);
            cJSON_Delete(o);
            o = NULL;
            goto cleanup;
        }
    }
cleanup:
    free(held);
    g_hash_table_destroy(sc.owners);
    g_hash_table_destroy(sc.rules);
    g_hash_table_destroy(sc.types);
    free(sc.keys);
    if (!e)
        *out = o;
    return e;
}
