/* views_model.c: the JSON views of the churn-risk model (see views_model.h).
 *
 * The store is m-model's (store.h, "churn-risk models and scores",
 * migration 14): the models with their cards, and the risk rows of a day with
 * the account's name, owner, MRR and band.
 *
 * The design: the numbers are the store's, with ARR = 12 x MRR of the
 * account and ARR at risk = p_churn x ARR computed here once, so the ranking,
 * its totals and the account's page agree to the cent. p_churn is given to
 * four decimals (a hundredth of a percentage point), money to the cent; the
 * pages round further for reading. Every list is bounded: a page of at most
 * 500 rows, at most three drivers per account, the card's JSON as stored. */
#include "server/views_model.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/datetime.h"
#include "util/mem.h"

#define RISK_PER_PAGE     50
#define RISK_PER_PAGE_MAX 500
#define MAX_DRIVERS       3
#define VERSION_MAX       1000000000LL

/* ---- small pieces ---------------------------------------------------------- */

static enum tend_err store_err(struct store *s, enum tend_err e, char *err) {
    snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
    return e;
}

static void add_num_or_null(cJSON *o, const char *key, double v, double unit) {
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, round(v / unit) * unit);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_day(cJSON *o, const char *key, bool has, int32_t day) {
    char d[16];
    if (!has) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    dt_format_date(day, d);
    cJSON_AddStringToObject(o, key, d);
}

static void add_str_or_null(cJSON *o, const char *key, const char *v) {
    if (v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* An integer parameter from lo to hi, def when absent. */
static enum tend_err int_param(const struct view_params *p, const char *key, long long lo,
                               long long hi, long long def, long long *out, char *err) {
    const char *v = view_param(p, key);
    *out = def;
    if (!v)
        return TEND_OK;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!v[0] || *end || n < lo || n > hi) {
        snprintf(err, VIEW_ERR_BYTES, "%s: must be a number from %lld to %lld", key, lo, hi);
        return TEND_ERR_USAGE;
    }
    *out = n;
    return TEND_OK;
}

/* The stored drivers (JSON text) as an array of at most MAX_DRIVERS
 * {feature, contribution, words}; an empty array when not readable. */
static cJSON *drivers_of(const char *text) {
    cJSON *out = cJSON_CreateArray();
    cJSON *in = text ? cJSON_Parse(text) : NULL;
    const cJSON *list = cJSON_IsArray(in) ? in : NULL, *d;
    int n = 0;
    cJSON_ArrayForEach(d, list) {
        if (!cJSON_IsObject(d) || n == MAX_DRIVERS)
            continue;
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(d, "feature");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "contribution");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(d, "words");
        cJSON *x = cJSON_CreateObject();
        add_str_or_null(x, "feature", cJSON_IsString(f) ? f->valuestring : NULL);
        add_num_or_null(x, "contribution", cJSON_IsNumber(c) ? c->valuedouble : NAN, 1e-4);
        add_str_or_null(x, "words", cJSON_IsString(w) ? w->valuestring : NULL);
        cJSON_AddItemToArray(out, x);
        n++;
    }
    cJSON_Delete(in);
    return out;
}

/* ---- models ------------------------------------------------------------------ */

/* The columns of a model row as the card's top-level members (those the
 * card itself does not have), plus adopted, current and fitted_at. */
static void model_columns(cJSON *o, const struct store_model *m, int64_t current) {
    static const char *const keys[] = {
        "version",     "horizon_days",  "trained_from",       "trained_to", "n_rows",  "n_churns",
        "auc_holdout", "brier_holdout", "auc_health_holdout", "adopted",    "current", "fitted_at"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(o, keys[i]);
    cJSON_AddNumberToObject(o, "version", (double)m->version);
    cJSON_AddNumberToObject(o, "horizon_days", m->horizon_days);
    add_day(o, "trained_from", true, m->trained_from);
    add_day(o, "trained_to", true, m->trained_to);
    cJSON_AddNumberToObject(o, "n_rows", (double)m->n_rows);
    cJSON_AddNumberToObject(o, "n_churns", (double)m->n_churns);
    add_num_or_null(o, "auc_holdout", m->auc_holdout, 1e-4);
    add_num_or_null(o, "brier_holdout", m->brier_holdout, 1e-5);
    add_num_or_null(o, "auc_health_holdout", m->auc_health, 1e-4);
    cJSON_AddBoolToObject(o, "adopted", m->adopted);
    cJSON_AddBoolToObject(o, "current", m->version == current);
    char t[32];
    if (m->fitted_ms > 0) {
        dt_format_instant(m->fitted_ms, t);
        cJSON_AddStringToObject(o, "fitted_at", t);
    } else {
        cJSON_AddNullToObject(o, "fitted_at");
    }
}

struct model_read {
    cJSON *out; /* the card (one model) or the list */
    int64_t current;
    bool full; /* with the card's tables */
};

static void on_model(void *arg, const struct store_model *m) {
    struct model_read *x = arg;
    cJSON *o = NULL;
    if (x->full && m->card) {
        o = cJSON_Parse(m->card);
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            o = NULL;
        }
    }
    if (!o)
        o = cJSON_CreateObject();
    /* The columns are the store's word on the numbers (the card may be older). */
    model_columns(o, m, x->current);
    if (cJSON_IsArray(x->out))
        cJSON_AddItemToArray(x->out, o);
    else if (!x->out)
        x->out = o;
    else
        cJSON_Delete(o);
}

static void on_newest(void *arg, const struct store_model *m) {
    int64_t *v = arg;
    if (*v == 0)
        *v = m->version;
}

/* The version of the adopted model (*adopted), and the one to show when no
 * version is asked for: the adopted one, else the newest; 0 when none. */
static enum tend_err current_version(struct store *s, int64_t *adopted, int64_t *shown) {
    *adopted = *shown = 0;
    enum tend_err e = store_model_get(s, 0, on_newest, adopted);
    if (e == TEND_ERR_NOTFOUND)
        e = store_models_each(s, on_newest, shown);
    else if (!e)
        *shown = *adopted;
    return e;
}

enum tend_err view_model(struct store *s, const struct view_params *p, cJSON **out, char *err) {
    long long version;
    enum tend_err e;
    if ((e = int_param(p, "version", 1, VERSION_MAX, 0, &version, err)))
        return e;
    struct model_read x = {.full = true};
    int64_t shown;
    if ((e = current_version(s, &x.current, &shown)))
        return store_err(s, e, err);
    int64_t want = version ? version : shown;
    if (want == 0) {
        snprintf(err, VIEW_ERR_BYTES, "no model yet: fit one with tend model fit");
        return TEND_ERR_NOTFOUND;
    }
    e = store_model_get(s, want, on_model, &x);
    if (e == TEND_ERR_NOTFOUND) {
        snprintf(err, VIEW_ERR_BYTES, "no model version %lld", (long long)want);
        return e;
    }
    if (e) {
        cJSON_Delete(x.out);
        return store_err(s, e, err);
    }
    *out = x.out;
    return TEND_OK;
}

enum tend_err view_models(struct store *s, cJSON **out, char *err) {
    struct model_read x = {.out = cJSON_CreateArray()};
    int64_t shown;
    enum tend_err e = current_version(s, &x.current, &shown);
    if (!e)
        e = store_models_each(s, on_model, &x);
    if (e) {
        cJSON_Delete(x.out);
        return store_err(s, e, err);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "current", (double)x.current);
    cJSON_AddItemToObject(o, "models", x.out);
    *out = o;
    return TEND_OK;
}

/* ---- risk -------------------------------------------------------------------- */

struct risk {
    int64_t account_id;
    char *external_id, *name, *owner, *band, *drivers;
    double p_churn, arr, at_risk; /* NAN when unknown */
    int64_t model_version;
};

struct risks {
    struct risk *v;
    size_t n, cap;
    int64_t only; /* one account's id; 0: every account */
};

static char *dup_or_null(const char *s) {
    return s ? xstrdup(s) : NULL;
}

static void on_risk(void *arg, const struct store_risk_row *r) {
    struct risks *l = arg;
    if (l->only && r->r.account_id != l->only)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    double p = r->r.p_churn;
    struct risk *x = &l->v[l->n++];
    *x = (struct risk){
        .account_id = r->r.account_id,
        .external_id = xstrdup(r->external_id ? r->external_id : ""),
        .name = dup_or_null(r->name),
        .owner = dup_or_null(r->owner),
        .band = xstrdup(r->band ? r->band : "none"),
        .drivers = dup_or_null(r->r.drivers),
        .p_churn = isfinite(p) && p >= 0 && p <= 1 ? p : NAN,
        .arr = NAN,
        .at_risk = NAN,
        .model_version = r->r.model_version,
    };
    if (r->has_mrr && isfinite(r->mrr)) {
        x->arr = round(12 * r->mrr * 100) / 100;
        if (!isnan(x->p_churn))
            x->at_risk = round(x->p_churn * x->arr * 100) / 100;
    }
}

static void risks_free(struct risks *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].external_id);
        free(l->v[i].name);
        free(l->v[i].owner);
        free(l->v[i].band);
        free(l->v[i].drivers);
    }
    free(l->v);
}

/* The latest day with risk scores and its rows (of account only, when not 0). */
static enum tend_err risks_read(struct store *s, int64_t account, struct risks *l, int32_t *day,
                                bool *found) {
    l->only = account;
    enum tend_err e = store_risk_latest_day(s, INT32_MAX, day, found);
    if (!e && *found)
        e = store_risk_of_day(s, *day, on_risk, l);
    return e;
}

/* Known before unknown; larger first. */
static int cmp_desc(double a, double b) {
    if (isnan(a) != isnan(b))
        return isnan(a) ? 1 : -1;
    if (isnan(a) || a == b)
        return 0;
    return a > b ? -1 : 1;
}

/* ARR at risk, then the probability, then the name, then the id. */
static int by_risk(const void *pa, const void *pb) {
    const struct risk *a = pa, *b = pb;
    int c = cmp_desc(a->at_risk, b->at_risk);
    if (!c)
        c = cmp_desc(a->p_churn, b->p_churn);
    if (!c)
        c = g_ascii_strcasecmp(a->name ? a->name : a->external_id,
                               b->name ? b->name : b->external_id);
    return c ? c : strcmp(a->external_id, b->external_id);
}

static cJSON *risk_json(const struct risk *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "account_id", r->external_id);
    add_str_or_null(o, "name", r->name);
    add_str_or_null(o, "owner", r->owner);
    add_num_or_null(o, "p_churn", r->p_churn, 1e-4);
    add_num_or_null(o, "arr", r->arr, 0.01);
    add_num_or_null(o, "arr_at_risk", r->at_risk, 0.01);
    cJSON_AddStringToObject(o, "band", r->band ? r->band : "none");
    cJSON_AddNumberToObject(o, "model_version", (double)r->model_version);
    cJSON_AddItemToObject(o, "drivers", drivers_of(r->drivers));
    return o;
}

/* The summary of the model that scored the day: version, horizon, AUCs. */
static enum tend_err risk_model(struct store *s, int64_t version, cJSON *o) {
    if (version <= 0) {
        cJSON_AddNullToObject(o, "model");
        return TEND_OK;
    }
    struct model_read x = {0};
    enum tend_err e = store_model_get(s, version, on_model, &x);
    if (e == TEND_ERR_NOTFOUND) {
        cJSON *m = cJSON_AddObjectToObject(o, "model");
        cJSON_AddNumberToObject(m, "version", (double)version);
        return TEND_OK;
    }
    if (e)
        return e;
    cJSON *m = cJSON_AddObjectToObject(o, "model");
    static const char *const keys[] = {"version",     "horizon_days",       "trained_to",
                                       "auc_holdout", "auc_health_holdout", "brier_holdout"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(x.out, keys[i]);
        cJSON_AddItemToObject(m, keys[i], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    }
    cJSON_Delete(x.out);
    return TEND_OK;
}

enum tend_err view_risk(struct store *s, const struct view_params *p, const char *me, cJSON **out,
                        char *err) {
    long long page, per_page;
    enum tend_err e;
    if ((e = int_param(p, "page", 1, 1000000, 1, &page, err)) ||
        (e = int_param(p, "per_page", 1, RISK_PER_PAGE_MAX, RISK_PER_PAGE, &per_page, err)))
        return e;
    const char *owner = view_param(p, "owner");
    if (owner && strcmp(owner, "me") == 0) {
        if (!me || !me[0]) {
            snprintf(err, VIEW_ERR_BYTES, "owner: me needs a signed-in user, not an API token");
            return TEND_ERR_USAGE;
        }
        owner = me;
    }
    if (owner && (!owner[0] || strcmp(owner, "all") == 0))
        owner = NULL;

    int32_t day = 0;
    bool found;
    struct risks l = {0};
    if ((e = risks_read(s, 0, &l, &day, &found))) {
        risks_free(&l);
        return store_err(s, e, err);
    }
    size_t kept = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct risk *r = &l.v[i];
        bool keep = true;
        if (owner)
            keep =
                strcmp(owner, "none") == 0 ? !r->owner : r->owner && strcmp(r->owner, owner) == 0;
        if (keep) {
            struct risk tmp = l.v[kept];
            l.v[kept++] = *r;
            *r = tmp;
        }
    }
    if (kept)
        qsort(l.v, kept, sizeof *l.v, by_risk);
    double total_at_risk = 0, total_arr = 0;
    int64_t version = 0;
    for (size_t i = 0; i < kept; i++) {
        if (!isnan(l.v[i].at_risk))
            total_at_risk += l.v[i].at_risk;
        if (!isnan(l.v[i].arr))
            total_arr += l.v[i].arr;
    }
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].model_version > version)
            version = l.v[i].model_version;
    cJSON *o = cJSON_CreateObject();
    add_day(o, "date", found, day);
    if ((e = risk_model(s, version, o))) {
        cJSON_Delete(o);
        risks_free(&l);
        return store_err(s, e, err);
    }
    cJSON_AddNumberToObject(o, "accounts_scored", (double)kept);
    add_num_or_null(o, "arr_at_risk_total", total_at_risk, 0.01);
    add_num_or_null(o, "arr_total", total_arr, 0.01);
    cJSON_AddNumberToObject(o, "total", (double)kept);
    cJSON_AddNumberToObject(o, "page", (double)page);
    cJSON_AddNumberToObject(o, "per_page", (double)per_page);
    cJSON *arr = cJSON_AddArrayToObject(o, "accounts");
    size_t from = (size_t)((page - 1) * per_page);
    for (size_t i = from; i < kept && i < from + (size_t)per_page; i++)
        cJSON_AddItemToArray(arr, risk_json(&l.v[i]));
    risks_free(&l);
    *out = o;
    return TEND_OK;
}

enum tend_err view_account_risk(struct store *s, const char *external_id, cJSON *account,
                                char *err) {
    int64_t id;
    enum tend_err e = store_account_find(s, external_id, &id);
    if (e == TEND_ERR_NOTFOUND) {
        snprintf(err, VIEW_ERR_BYTES, "no account \"%.200s\"", external_id);
        return e;
    }
    int32_t day = 0;
    bool found = false;
    struct risks l = {0};
    if (!e)
        e = risks_read(s, id, &l, &day, &found);
    if (e) {
        risks_free(&l);
        return store_err(s, e, err);
    }
    if (l.n == 0 || isnan(l.v[0].p_churn)) {
        risks_free(&l);
        cJSON_AddNullToObject(account, "risk");
        return TEND_OK;
    }
    const struct risk *r = &l.v[0];
    cJSON *o = cJSON_AddObjectToObject(account, "risk");
    add_day(o, "date", true, day);
    add_num_or_null(o, "p_churn", r->p_churn, 1e-4);
    add_num_or_null(o, "arr", r->arr, 0.01);
    add_num_or_null(o, "arr_at_risk", r->at_risk, 0.01);
    cJSON_AddNumberToObject(o, "model_version", (double)r->model_version);
    struct model_read x = {0};
    e = r->model_version > 0 ? store_model_get(s, r->model_version, on_model, &x)
                             : TEND_ERR_NOTFOUND;
    const cJSON *h = x.out ? cJSON_GetObjectItemCaseSensitive(x.out, "horizon_days") : NULL;
    if (cJSON_IsNumber(h))
        cJSON_AddNumberToObject(o, "horizon_days", h->valuedouble);
    else
        cJSON_AddNullToObject(o, "horizon_days");
    cJSON_Delete(x.out);
    cJSON_AddItemToObject(o, "drivers", drivers_of(r->drivers));
    risks_free(&l);
    if (e && e != TEND_ERR_NOTFOUND)
        return store_err(s, e, err);
    return TEND_OK;
}
