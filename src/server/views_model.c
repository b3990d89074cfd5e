/* views_model.c: the churn-risk model's JSON views (views_model.h;
 * docs/api.md): GET /api/model (a card, as tend model show --format json
 * prints it), GET /api/models (the history), GET /api/risk (tend risk's rows)
 * and an account's risk on GET /api/accounts/{id}.
 *
 * The field names are those of the CLI's JSON, because both come from the
 * same code: the stored card (analysis/model.c) and risk_rows_json()
 * (eval/risk.c). What the dashboard needs besides is added around them, never
 * instead of them (the card stays exactly tend model show's): in the history
 * which model is current and when it was fitted as an instant; for the ranking an owner filter,
 * pages, the totals over the filtered accounts and a summary of the model that scored the day. The
 * numbers are not rounded here (the pages round them for reading, the same
 * way for every number of a kind: server/dash_model.c). */
#include "server/views_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/model.h"
#include "eval/risk.h"
#include "util/datetime.h"

#define RISK_LIMIT_MAX    100000
#define RISK_PER_PAGE_MAX 500
#define RISK_PAGE_MAX     1000000

/* ---- small pieces ------------------------------------------------------------- */

static enum tend_err store_err(struct store *s, enum tend_err e, char *err) {
    snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
    return e;
}

/* An integer parameter from lo to hi; *given false (and *out def) when absent. */
static enum tend_err int_param(const struct view_params *p, const char *key, long long lo,
                               long long hi, long long def, long long *out, bool *given,
                               char *err) {
    const char *v = view_param(p, key);
    *out = def;
    if (given)
        *given = v != NULL;
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

static void add_instant(cJSON *o, const char *key, int64_t ms) {
    char t[32];
    if (ms <= 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    dt_format_instant(ms, t);
    cJSON_AddStringToObject(o, key, t);
}

static double num_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- models ---------------------------------------------------------------------- */

/* The card exactly as tend model show prints it (the dashboard reads
 * "adopted" as current and "fitted_ms" as the time it was fitted). */
static void on_card(void *arg, const struct store_model *m) {
    *(cJSON **)arg = model_card_of(m);
}

enum tend_err view_model(struct store *s, const struct view_params *p, cJSON **out, char *err) {
    long long version;
    enum tend_err e = int_param(p, "version", 1, INT64_MAX, 0, &version, NULL, err);
    if (e) {
        snprintf(err, VIEW_ERR_BYTES, "version: must be a number >= 1");
        return e;
    }
    cJSON *card = NULL;
    e = store_model_get(s, version, on_card, &card);
    if (e == TEND_ERR_NOTFOUND) {
        if (version)
            snprintf(err, VIEW_ERR_BYTES, "no model version %lld", version);
        else
            snprintf(err, VIEW_ERR_BYTES, "no adopted model yet (tend model fit)");
        return e;
    }
    if (!e && !card) {
        snprintf(err, VIEW_ERR_BYTES, "the stored card is not JSON");
        return TEND_ERR_DB;
    }
    if (e)
        return store_err(s, e, err);
    *out = card;
    return TEND_OK;
}

static cJSON *num_or_null(double v) {
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static void on_model_row(void *arg, const struct store_model *m) {
    cJSON *o = cJSON_CreateObject();
    char d[16];
    cJSON_AddNumberToObject(o, "version", (double)m->version);
    cJSON_AddBoolToObject(o, "adopted", m->adopted);
    cJSON_AddBoolToObject(o, "current", m->adopted);
    cJSON_AddNumberToObject(o, "fitted_ms", (double)m->fitted_ms);
    add_instant(o, "fitted_at", m->fitted_ms);
    cJSON_AddNumberToObject(o, "horizon_days", m->horizon_days);
    dt_format_date(m->trained_from, d);
    cJSON_AddStringToObject(o, "trained_from", d);
    dt_format_date(m->trained_to, d);
    cJSON_AddStringToObject(o, "trained_to", d);
    cJSON_AddNumberToObject(o, "n_rows", (double)m->n_rows);
    cJSON_AddNumberToObject(o, "n_churns", (double)m->n_churns);
    cJSON_AddItemToObject(o, "auc_holdout", num_or_null(m->auc_holdout));
    cJSON_AddItemToObject(o, "brier_holdout", num_or_null(m->brier_holdout));
    cJSON_AddItemToObject(o, "auc_health_holdout", num_or_null(m->auc_health));
    cJSON_AddItemToArray((cJSON *)arg, o);
}

enum tend_err view_models(struct store *s, cJSON **out, char *err) {
    cJSON *o = cJSON_CreateObject();
    enum tend_err e = store_models_each(s, on_model_row, cJSON_AddArrayToObject(o, "models"));
    if (e) {
        cJSON_Delete(o);
        return store_err(s, e, err);
    }
    *out = o;
    return TEND_OK;
}

/* ---- risk -------------------------------------------------------------------------- */

/* "model": the summary of model version's card (null for version 0; the
 * version alone when its card is gone). */
static enum tend_err add_model_summary(struct store *s, cJSON *o, int64_t version) {
    static const char *const keys[] = {"version",     "horizon_days",       "trained_to",
                                       "auc_holdout", "auc_health_holdout", "brier_holdout"};
    if (version <= 0) {
        cJSON_AddNullToObject(o, "model");
        return TEND_OK;
    }
    cJSON *card = NULL;
    enum tend_err e = store_model_get(s, version, on_card, &card);
    if (e && e != TEND_ERR_NOTFOUND)
        return e;
    cJSON *m = cJSON_AddObjectToObject(o, "model");
    cJSON_AddNumberToObject(m, "version", (double)version);
    for (size_t i = 1; card && i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(card, keys[i]);
        cJSON_AddItemToObject(m, keys[i], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    }
    cJSON_Delete(card);
    return TEND_OK;
}

enum tend_err view_risk(struct store *s, const struct view_params *p, const char *me, cJSON **out,
                        char *err) {
    int32_t day = INT32_MAX;
    const char *at = view_param(p, "at");
    if (at && !dt_parse_date(at, strlen(at), &day)) {
        snprintf(err, VIEW_ERR_BYTES, "at: must be a date YYYY-MM-DD");
        return TEND_ERR_USAGE;
    }
    long long limit, page, per_page;
    bool paged_p, paged_pp;
    enum tend_err e;
    if ((e = int_param(p, "limit", 0, RISK_LIMIT_MAX, 0, &limit, NULL, err)) ||
        (e = int_param(p, "page", 1, RISK_PAGE_MAX, 1, &page, &paged_p, err)) ||
        (e = int_param(p, "per_page", 1, RISK_PER_PAGE_MAX, 50, &per_page, &paged_pp, err)))
        return e;
    bool paged = paged_p || paged_pp;
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

    /* Every row of the day (the totals are over all of them), then the
     * filter, then the page: the rows stay in risk_rows_json's order. */
    cJSON *all;
    int32_t got;
    bool found;
    if ((e = risk_rows_json(s, day, 0, &all, &got, &found)))
        return store_err(s, e, err);
    cJSON *rows = cJSON_CreateArray();
    double at_risk = 0, arr = 0;
    long long kept = 0, from = paged ? (page - 1) * per_page : 0;
    long long upto = paged ? from + per_page : limit > 0 ? limit : RISK_LIMIT_MAX + 1LL;
    int64_t version = 0;
    cJSON *r;
    while ((r = cJSON_DetachItemFromArray(all, 0))) {
        const char *o = str_of(r, "owner");
        bool keep = !owner || (strcmp(owner, "none") == 0 ? !o : o && strcmp(o, owner) == 0);
        double v = num_of(r, "model_version");
        if (isfinite(v) && v > (double)version)
            version = (int64_t)v;
        if (keep) {
            if (isfinite(num_of(r, "arr_at_risk")))
                at_risk += num_of(r, "arr_at_risk");
            if (isfinite(num_of(r, "arr")))
                arr += num_of(r, "arr");
        }
        if (keep && kept >= from && kept < upto) {
            cJSON_AddItemToArray(rows, r);
            r = NULL;
        }
        kept += keep;
        cJSON_Delete(r);
    }
    cJSON_Delete(all);
    cJSON *o = cJSON_CreateObject();
    if (found) {
        char d[16];
        dt_format_date(got, d);
        cJSON_AddStringToObject(o, "day", d);
    } else {
        cJSON_AddNullToObject(o, "day");
    }
    cJSON_AddItemToObject(o, "rows", rows);
    if ((e = add_model_summary(s, o, version))) {
        cJSON_Delete(o);
        return store_err(s, e, err);
    }
    cJSON_AddNumberToObject(o, "accounts_scored", (double)kept);
    cJSON_AddNumberToObject(o, "arr_at_risk_total", round(at_risk * 100) / 100);
    cJSON_AddNumberToObject(o, "arr_total", round(arr * 100) / 100);
    cJSON_AddNumberToObject(o, "total", (double)kept);
    if (paged) {
        cJSON_AddNumberToObject(o, "page", (double)page);
        cJSON_AddNumberToObject(o, "per_page", (double)per_page);
    }
    *out = o;
    return TEND_OK;
}

enum tend_err view_account_risk(struct store *s, const char *external_id, cJSON *account,
                                char *err) {
    cJSON *mine;
    int32_t got;
    enum tend_err e = risk_account_json(s, external_id, &mine, &got);
    if (e)
        return store_err(s, e, err);
    if (!mine) {
        cJSON_AddNullToObject(account, "risk");
        return TEND_OK;
    }
    cJSON *o = cJSON_CreateObject();
    char d[16];
    dt_format_date(got, d);
    cJSON_AddStringToObject(o, "date", d);
    static const char *const keys[] = {"p_churn", "arr", "arr_at_risk", "model_version", "drivers"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(mine, keys[i]);
        cJSON_AddItemToObject(o, keys[i], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    }
    double version = num_of(mine, "model_version");
    cJSON_Delete(mine);
    cJSON *card = NULL;
    e = isfinite(version) && version > 0 ? store_model_get(s, (int64_t)version, on_card, &card)
                                         : TEND_ERR_NOTFOUND;
    double horizon = num_of(card, "horizon_days");
    cJSON_AddItemToObject(o, "horizon_days", num_or_null(horizon));
    cJSON_Delete(card);
    cJSON_AddItemToObject(account, "risk", o);
    if (e && e != TEND_ERR_NOTFOUND)
        return store_err(s, e, err);
    return TEND_OK;
}
