/* monthly.c: the monthly CS report's view (see monthly.h). */
#include "analysis/monthly.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/impact.h"
#include "analysis/kpis.h"
#include "util/datetime.h"
#include "util/mem.h"

bool monthly_parse(const char *s, int32_t *first, int32_t *last) {
    int y, m;
    char tail;
    if (!s || strlen(s) != 7 || sscanf(s, "%4d-%2d%c", &y, &m, &tail) != 2 || m < 1 || m > 12 ||
        y < 1970 || y > 9998)
        return false;
    char d[16];
    snprintf(d, sizeof d, "%04d-%02d-01", y, m);
    if (!dt_parse_date(d, strlen(d), first))
        return false;
    snprintf(d, sizeof d, "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
    if (!dt_parse_date(d, strlen(d), last))
        return false;
    (*last)--;
    return true;
}

struct lost {
    int64_t logos;
    double arr;
};

static void on_outcome(void *arg, const struct store_outcome *o) {
    struct lost *l = arg;
    if (!o->churned)
        return;
    l->logos++;
    if (o->has_arr)
        l->arr += o->arr;
    else if (o->has_mrr)
        l->arr += o->mrr * 12;
}

struct at_risk {
    int64_t accounts;
    double arr, arr_at_risk;
};

static void on_risk(void *arg, const struct store_risk_row *r) {
    struct at_risk *x = arg;
    double arr = !isnan(r->arr_trait) ? r->arr_trait : r->has_mrr ? r->mrr * 12 : NAN;
    x->accounts++;
    if (!isnan(arr)) {
        x->arr += arr;
        x->arr_at_risk += r->r.p_churn * arr;
    }
}

static void on_model(void *arg, const struct store_model *m) {
    cJSON *o = arg;
    cJSON_AddNumberToObject(o, "version", (double)m->version);
    cJSON_AddNumberToObject(o, "horizon_days", m->horizon_days);
    if (!isnan(m->auc_holdout))
        cJSON_AddNumberToObject(o, "auc_holdout", m->auc_holdout);
    if (!isnan(m->brier_holdout))
        cJSON_AddNumberToObject(o, "brier_holdout", m->brier_holdout);
    if (!isnan(m->auc_health))
        cJSON_AddNumberToObject(o, "auc_health", m->auc_health);
    cJSON_AddNumberToObject(o, "rows", (double)m->n_rows);
    cJSON_AddNumberToObject(o, "churns", (double)m->n_churns);
}

static void add_date(cJSON *o, const char *key, int32_t day) {
    char d[16];
    dt_format_date(day, d);
    cJSON_AddStringToObject(o, key, d);
}

enum tend_err monthly_report(struct store *s, const struct kpi_config *kpis, int32_t first,
                             int32_t last, cJSON **out, char *err) {
    cJSON *o = cJSON_CreateObject();
    char month[8];
    char d[16];
    dt_format_date(first, d);
    snprintf(month, sizeof month, "%.7s", d);
    cJSON_AddStringToObject(o, "month", month);
    add_date(o, "from", first);
    add_date(o, "to", last);
    /* Lost: the month's churns. */
    struct lost lost = {0};
    enum tend_err e = store_outcomes_each(s, (int64_t)first * DT_MS_PER_DAY,
                                          (int64_t)(last + 1) * DT_MS_PER_DAY, on_outcome, &lost);
    if (e)
        goto store_fail;
    cJSON *ret = cJSON_AddObjectToObject(o, "retention");
    cJSON_AddNumberToObject(ret, "churned_logos", (double)lost.logos);
    cJSON_AddNumberToObject(ret, "churned_arr", round(lost.arr * 100) / 100);
    /* NRR and GRR: the revenue outcomes' (tend analyze retention). */
    cJSON_AddNullToObject(ret, "nrr");
    cJSON_AddNullToObject(ret, "grr");
    cJSON_AddStringToObject(ret, "nrr_grr_note",
                            "NRR and GRR come from the revenue outcomes (Subscription Changed, "
                            "tend analyze retention), not part of this build yet");
    /* Revenue at risk on the month's last scored day. */
    int32_t rday = 0;
    bool found = false;
    if ((e = store_risk_latest_day(s, last, &rday, &found)))
        goto store_fail;
    cJSON *risk = cJSON_AddObjectToObject(o, "revenue_at_risk");
    if (found && rday >= first) {
        struct at_risk ar = {0};
        if ((e = store_risk_of_day(s, rday, on_risk, &ar)))
            goto store_fail;
        add_date(risk, "date", rday);
        cJSON_AddNumberToObject(risk, "accounts", (double)ar.accounts);
        cJSON_AddNumberToObject(risk, "arr", round(ar.arr * 100) / 100);
        cJSON_AddNumberToObject(risk, "arr_at_risk", round(ar.arr_at_risk * 100) / 100);
    } else {
        cJSON_AddNullToObject(risk, "date");
    }
    /* Saved: what the randomised holdout measured, as of the month's end. */
    struct impact_options io = {.horizon_days = 90, .acted_within_days = 7, .as_of = last};
    struct impact_report ir;
    char ierr[IMPACT_ERR_BYTES];
    if ((e = impact_run(s, &io, &ir, ierr))) {
        snprintf(err, MONTHLY_ERR_BYTES, "%s", ierr);
        cJSON_Delete(o);
        return e;
    }
    cJSON *saved = cJSON_AddArrayToObject(o, "saved");
    for (size_t i = 0; i < ir.n_rules; i++) {
        const struct impact_rule *x = &ir.rules[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "rule", x->rule);
        cJSON_AddNumberToObject(j, "delivered", (double)x->arm[0].accounts);
        cJSON_AddNumberToObject(j, "held_out", (double)x->arm[1].accounts);
        if (x->has_diff) {
            cJSON_AddNumberToObject(j, "difference", x->diff);
            cJSON_AddNumberToObject(j, "ci_low", x->lo);
            cJSON_AddNumberToObject(j, "ci_high", x->hi);
            cJSON_AddNumberToObject(j, "arr_kept", round(x->arr_kept));
            cJSON_AddNumberToObject(j, "arr_kept_low", round(x->arr_kept_lo));
            cJSON_AddNumberToObject(j, "arr_kept_high", round(x->arr_kept_hi));
        }
        cJSON_AddItemToArray(saved, j);
    }
    impact_report_free(&ir);
    /* The KPIs: the month's weeks and the eight before. */
    struct kpi_board *b = xcalloc(1, sizeof *b);
    char kerr[PROCESS_ERR_BYTES];
    if ((e = kpi_board_run(s, kpis, first - 56, last, last, b, kerr))) {
        free(b);
        snprintf(err, MONTHLY_ERR_BYTES, "%s", kerr);
        cJSON_Delete(o);
        return e;
    }
    cJSON_AddItemToObject(o, "kpis", kpi_board_json(b));
    free(b);
    /* The model that scored the month's end. */
    cJSON *model = cJSON_AddObjectToObject(o, "model");
    e = store_model_for_day(s, last, on_model, model);
    if (e == TEND_ERR_NOTFOUND)
        e = TEND_OK;
    if (e)
        goto store_fail;
    *out = o;
    return TEND_OK;
store_fail:
    snprintf(err, MONTHLY_ERR_BYTES, "%s", store_last_error(s));
    cJSON_Delete(o);
    return e;
}
