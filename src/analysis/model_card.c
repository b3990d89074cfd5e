/* model_card.c: the card of a fitted churn-risk model (the JSON of tend model
 * show, stored with the model), the comparison that decided its adoption,
 * storing it, and the exported design (see model.h). Split from model.c,
 * which builds the rows and fits. */
#include "analysis/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/datetime.h"

/* ---- the card ------------------------------------------------------------------------ */

static cJSON *num(double v) {
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static void add_date(cJSON *o, const char *key, int32_t day) {
    char d[16];
    dt_format_date(day, d);
    cJSON_AddStringToObject(o, key, d);
}

static const char *basis_name(enum model_basis b) {
    static const char *const names[] = {
        [MB_NONE] = "none",
        [MB_ROWS] = "rows_unseen_by_previous",
        [MB_TOO_FEW] = "too_few_rows",
        [MB_HORIZON] = "other_horizon",
        [MB_UNREADABLE] = "previous_unreadable",
    };
    return names[b];
}

/* The comparison with the adopted model and the rule applied, as the card
 * keeps it ("comparison"). */
static cJSON *comparison(const struct model_result *r, bool adopted, const char *why) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "basis", basis_name(r->has_current ? r->basis : MB_NONE));
    if (r->has_current && r->basis != MB_UNREADABLE) {
        cJSON_AddNumberToObject(o, "previous_version", (double)r->current_version);
        cJSON_AddNumberToObject(o, "previous_horizon_days", r->current_horizon);
        if (r->current_data_end != INT32_MAX)
            add_date(o, "previous_data_end", r->current_data_end);
    }
    cJSON_AddNumberToObject(o, "rows", (double)r->cmp_rows);
    cJSON_AddNumberToObject(o, "churned_rows", (double)r->cmp_churned);
    cJSON_AddItemToObject(o, "auc_new", num(r->auc_new));
    cJSON_AddItemToObject(o, "auc_previous", num(r->auc_current));
    cJSON_AddBoolToObject(o, "adopted", adopted);
    cJSON_AddStringToObject(o, "rule", why);
    return o;
}

cJSON *model_card(const struct model_result *r, int64_t fitted_ms) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "version", 0);
    cJSON_AddBoolToObject(c, "adopted", false);
    cJSON_AddNumberToObject(c, "fitted_ms", (double)fitted_ms);
    cJSON_AddNumberToObject(c, "horizon_days", r->o.horizon_days);
    add_date(c, "trained_from", r->first_day);
    add_date(c, "trained_to", r->last_day);
    add_date(c, "data_end", r->data_end);
    add_date(c, "cut_day", r->cut_day);
    cJSON_AddNumberToObject(c, "step_days", r->step_days);
    cJSON_AddNumberToObject(c, "n_rows", (double)r->n_rows);
    cJSON_AddNumberToObject(c, "n_churns", (double)r->n_churns);
    cJSON_AddNumberToObject(c, "n_churned_rows", (double)r->n_positive);
    cJSON_AddNumberToObject(c, "censored_days", (double)r->n_censored);
    cJSON_AddNumberToObject(c, "n_train", (double)r->n_train);
    cJSON_AddNumberToObject(c, "n_train_churned", (double)r->train_pos);
    cJSON_AddNumberToObject(c, "n_test", (double)r->n_test);
    cJSON_AddNumberToObject(c, "n_test_churned", (double)r->test_pos);
    cJSON_AddNumberToObject(c, "n_gap", (double)r->n_gap);
    cJSON_AddItemToObject(c, "auc_holdout", num(r->auc_holdout));
    cJSON_AddItemToObject(c, "brier_holdout", num(r->brier_holdout));
    cJSON_AddItemToObject(c, "brier_base_rate", num(r->brier_base));
    cJSON_AddItemToObject(c, "auc_health_holdout", num(r->auc_health));
    cJSON_AddItemToObject(c, "auc_previous_holdout", num(r->auc_current));
    if (r->has_current && r->basis != MB_UNREADABLE)
        cJSON_AddNumberToObject(c, "previous_version", (double)r->current_version);
    else
        cJSON_AddNullToObject(c, "previous_version");
    cJSON_AddNumberToObject(c, "accounts", (double)r->n_accounts);
    cJSON_AddNumberToObject(c, "accounts_sampled", (double)r->n_sampled);
    cJSON_AddStringToObject(c, "health_config_version", r->health_version);
    cJSON_AddNumberToObject(c, "c", r->c);
    cJSON_AddStringToObject(c, "c_method", r->c_why[0] ? "default" : "cross-validation");
    if (r->c_why[0])
        cJSON_AddStringToObject(c, "c_note", r->c_why);
    cJSON_AddStringToObject(c, "calibration_method", r->calibration_why[0] ? "identity" : "platt");
    if (r->calibration_why[0])
        cJSON_AddStringToObject(c, "calibration_note", r->calibration_why);
    /* The validation model's (the held-out figures are its). */
    cJSON_AddStringToObject(c, "calibration_holdout_method",
                            r->calibration_holdout_why[0] ? "identity" : "platt");
    if (r->calibration_holdout_why[0])
        cJSON_AddStringToObject(c, "calibration_holdout_note", r->calibration_holdout_why);
    cJSON *cv = cJSON_AddArrayToObject(c, "cv");
    for (size_t j = 0; j < r->n_cs; j++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "c", r->cs[j]);
        cJSON_AddItemToObject(o, "log_loss", num(r->cv_loss[j]));
        cJSON_AddItemToArray(cv, o);
    }
    cJSON *cal = cJSON_AddArrayToObject(c, "calibration");
    for (size_t b = 0; b < r->n_bins; b++) {
        const struct stats_calib_bin *k = &r->calib[b];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "bin", k->bin);
        cJSON_AddNumberToObject(o, "predicted", k->predicted);
        cJSON_AddNumberToObject(o, "observed", k->observed);
        cJSON_AddNumberToObject(o, "n", (double)k->n);
        cJSON_AddNumberToObject(o, "events", (double)k->events);
        cJSON_AddNumberToObject(o, "ci_low", k->ci_low);
        cJSON_AddNumberToObject(o, "ci_high", k->ci_high);
        cJSON_AddNumberToObject(o, "p_lo", k->p_lo);
        cJSON_AddNumberToObject(o, "p_hi", k->p_hi);
        cJSON_AddItemToArray(cal, o);
    }
    /* The health bands' churn rates on the test rows. */
    cJSON *bands = cJSON_AddArrayToObject(c, "bands");
    size_t bn[4] = {0}, be[4] = {0};
    for (size_t i = 0; i < r->n_all; i++) {
        const struct model_row *row = &r->rows[i];
        if (row->role != MR_TEST)
            continue;
        int b = row->has_health ? (int)health_band_of(r->o.hc, row->health) : BAND_NONE;
        bn[b]++;
        be[b] += row->churned;
    }
    for (int b = BAND_RED; b <= BAND_GREEN; b++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "band", health_band_name((enum health_band)b));
        cJSON_AddNumberToObject(o, "n", (double)bn[b]);
        cJSON_AddItemToObject(o, "churn_rate", num(bn[b] ? (double)be[b] / (double)bn[b] : NAN));
        cJSON_AddItemToArray(bands, o);
    }
    risk_model_to_card(&r->model, &r->fit, c);
    return c;
}

cJSON *model_card_of(const struct store_model *m) {
    cJSON *c = m->card ? cJSON_Parse(m->card) : NULL;
    if (!c)
        return NULL;
    cJSON_ReplaceItemInObject(c, "version", cJSON_CreateNumber((double)m->version));
    cJSON_ReplaceItemInObject(c, "adopted", cJSON_CreateBool(m->adopted));
    return c;
}

enum tend_err model_store(struct store *s, const struct model_result *r, int64_t fitted_ms,
                          bool explicit_fit, int64_t *version, bool *adopted) {
    const char *why;
    *adopted = model_adopt(r, explicit_fit, &why);
    cJSON *card = model_card(r, fitted_ms);
    cJSON_AddItemToObject(card, "comparison", comparison(r, *adopted, why));
    char *text = cJSON_PrintUnformatted(card);
    cJSON_Delete(card);
    struct store_model m = {
        .fitted_ms = fitted_ms,
        .horizon_days = r->o.horizon_days,
        .trained_from = r->first_day,
        .trained_to = r->last_day,
        .data_end = r->data_end,
        .n_rows = (int64_t)r->n_rows,
        .n_churns = (int64_t)r->n_churns,
        .auc_holdout = r->auc_holdout,
        .brier_holdout = r->brier_holdout,
        .auc_health = r->auc_health,
        .card = text,
    };
    enum tend_err e = store_model_put(s, &m, *adopted, version);
    free(text);
    return e;
}

enum tend_err model_export(const struct model_result *r, const char *path, char *err) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, STATS_ERR_BYTES, "%s: cannot write", path);
        return TEND_ERR_IO;
    }
    const struct risk_model *mo = &r->model;
    char buf[STATS_RECIPE_NAME_BYTES + 16];
    fprintf(f, "day,account_id,role,churned");
    for (size_t j = 0; j < mo->recipe.n_out; j++)
        fprintf(f, ",%s", stats_recipe_name(&mo->recipe, j, buf));
    fprintf(f, "\n");
    double row[RISK_MAX_COLUMNS], z[2 * RISK_MAX_COLUMNS];
    for (size_t i = 0; i < r->n_all; i++) {
        const struct model_row *w = &r->rows[i];
        if (w->role == MR_UNLABELLED)
            continue;
        risk_model_row(mo, w->raw, row);
        stats_recipe_apply(&mo->recipe, row, z);
        char d[16];
        dt_format_date(w->day, d);
        static const char *const roles[] = {[MR_UNLABELLED] = "unlabelled",
                                            [MR_GAP] = "gap",
                                            [MR_TRAIN] = "train",
                                            [MR_TEST] = "test"};
        fprintf(f, "%s,%lld,%s,%d", d, (long long)w->account_id, roles[w->role],
                w->churned ? 1 : 0);
        for (size_t j = 0; j < mo->recipe.n_out; j++)
            fprintf(f, ",%.17g", z[j]);
        fprintf(f, "\n");
    }
    if (fclose(f) != 0) {
        snprintf(err, STATS_ERR_BYTES, "%s: cannot write", path);
        return TEND_ERR_IO;
    }
    return TEND_OK;
}
