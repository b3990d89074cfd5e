/* views_model.c: the churn-risk model's JSON views (views.h; docs/api.md):
 * GET /api/model (a card, as tend model show --format json prints it),
 * GET /api/models (the history) and GET /api/risk (tend risk's rows).
 *
 * The field names are those of the CLI's JSON, because both come from the
 * same code: the stored card (analysis/model.c) and risk_rows_json()
 * (eval/risk.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/model.h"
#include "eval/risk.h"
#include "server/views.h"
#include "util/datetime.h"

#define RISK_LIMIT_MAX 100000

static enum tend_err version_param(const struct view_params *p, int64_t *version, char *err) {
    const char *v = view_param(p, "version");
    *version = 0;
    if (!v)
        return TEND_OK;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!v[0] || *end || n < 1) {
        snprintf(err, VIEW_ERR_BYTES, "version: must be a number >= 1");
        return TEND_ERR_USAGE;
    }
    *version = n;
    return TEND_OK;
}

static void on_card(void *arg, const struct store_model *m) {
    *(cJSON **)arg = model_card_of(m);
}

enum tend_err view_model(struct store *s, const struct view_params *p, cJSON **out, char *err) {
    int64_t version;
    enum tend_err e = version_param(p, &version, err);
    if (e)
        return e;
    cJSON *card = NULL;
    e = store_model_get(s, version, on_card, &card);
    if (e == TEND_ERR_NOTFOUND) {
        if (version)
            snprintf(err, VIEW_ERR_BYTES, "no model version %lld", (long long)version);
        else
            snprintf(err, VIEW_ERR_BYTES, "no adopted model yet (tend model fit)");
        return e;
    }
    if (!e && !card) {
        snprintf(err, VIEW_ERR_BYTES, "the stored card is not JSON");
        return TEND_ERR_DB;
    }
    if (e) {
        snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
        return e;
    }
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
    cJSON_AddNumberToObject(o, "fitted_ms", (double)m->fitted_ms);
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
        snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
        return e;
    }
    *out = o;
    return TEND_OK;
}

enum tend_err view_risk(struct store *s, const struct view_params *p, cJSON **out, char *err) {
    int32_t day = INT32_MAX;
    const char *at = view_param(p, "at");
    if (at && !dt_parse_date(at, strlen(at), &day)) {
        snprintf(err, VIEW_ERR_BYTES, "at: must be a date YYYY-MM-DD");
        return TEND_ERR_USAGE;
    }
    const char *l = view_param(p, "limit");
    long long limit = 0;
    if (l) {
        char *end;
        limit = strtoll(l, &end, 10);
        if (!l[0] || *end || limit < 0 || limit > RISK_LIMIT_MAX) {
            snprintf(err, VIEW_ERR_BYTES, "limit: must be a number from 0 to %d", RISK_LIMIT_MAX);
            return TEND_ERR_USAGE;
        }
    }
    cJSON *rows;
    int32_t got;
    bool found;
    enum tend_err e = risk_rows_json(s, day, limit, &rows, &got, &found);
    if (e) {
        snprintf(err, VIEW_ERR_BYTES, "%s", store_last_error(s));
        return e;
    }
    cJSON *o = cJSON_CreateObject();
    if (found) {
        char d[16];
        dt_format_date(got, d);
        cJSON_AddStringToObject(o, "day", d);
    } else {
        cJSON_AddNullToObject(o, "day");
    }
    cJSON_AddItemToObject(o, "rows", rows);
    *out = o;
    return TEND_OK;
}
