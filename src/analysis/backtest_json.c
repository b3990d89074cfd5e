/* backtest_json.c: the backtest's result as JSON, carried in its stored
 * report and read back (see backtest.h).
 *
 * Why in the report: the reports table (migration 10) keeps the newest 100
 * backtests with their HTML; the quality of the rules is a few kilobytes of
 * the same run, so it travels in the same row as a JSON data block rather
 * than in a table of its own (no migration), and "the latest backtest" of
 * `tend rules` and the rules page is the newest backtest report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/backtest.h"
#include "core/cta.h"
#include "util/buf.h"
#include "util/datetime.h"

#define EMBED_OPEN  "<script type=\"application/json\" id=\"tend-backtest\">"
#define EMBED_CLOSE "</script>"

/* A number, or null for NaN and the infinities. */
static cJSON *number(double v) {
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static void add_flaps(cJSON *e, const struct quality_flaps *f) {
    cJSON_AddNumberToObject(e, "opened", (double)f->opened);
    cJSON_AddNumberToObject(e, "closed", (double)f->closed);
    cJSON_AddNumberToObject(e, "auto_resolved", (double)f->auto_resolved);
    cJSON_AddNumberToObject(e, "closed_within_3_days", (double)f->closed_fast);
    cJSON_AddNumberToObject(e, "auto_resolved_within_3_days", (double)f->auto_resolved_fast);
    cJSON_AddItemToObject(e, "closed_within_3_days_share", number(f->fast_share));
    cJSON_AddItemToObject(e, "auto_resolved_share", number(f->auto_share));
}

static cJSON *row_json(const struct backtest_row *w, bool with_leads) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", w->name);
    cJSON_AddNumberToObject(e, "raised", (double)w->raised);
    cJSON_AddNumberToObject(e, "raised_churned", (double)w->raised_churned);
    cJSON_AddItemToObject(e, "precision", number(w->precision));
    cJSON_AddItemToObject(e, "lift", number(w->lift));
    cJSON_AddBoolToObject(e, "risk", w->risk);
    cJSON_AddBoolToObject(e, "noisy", w->noisy);
    cJSON_AddNumberToObject(e, "churners", (double)w->churners);
    cJSON_AddNumberToObject(e, "warned", (double)w->warned);
    cJSON_AddItemToObject(e, "recall", number(w->recall));
    cJSON_AddItemToObject(e, "median_lead_days", number(w->median_lead));
    if (with_leads) {
        cJSON *leads = cJSON_AddArrayToObject(e, "lead_days");
        for (size_t k = 0; k < w->n_leads; k++)
            cJSON_AddItemToArray(leads, cJSON_CreateNumber(w->leads[k]));
    }
    add_flaps(e, &w->flaps);
    return e;
}

cJSON *backtest_json(const struct backtest_result *r, bool with_leads) {
    char d[16];
    cJSON *o = cJSON_CreateObject();
    dt_format_date(r->o.from, d);
    cJSON_AddStringToObject(o, "from", d);
    dt_format_date(r->o.to, d);
    cJSON_AddStringToObject(o, "to", d);
    cJSON_AddNumberToObject(o, "horizon_days", r->o.horizon);
    cJSON_AddNumberToObject(o, "warmup_days", BACKTEST_WARMUP_DAYS);
    cJSON_AddNumberToObject(o, "accounts", (double)r->accounts);
    cJSON_AddNumberToObject(o, "churners", (double)r->churners);
    cJSON_AddItemToObject(o, "base_rate", number(r->base_rate));
    cJSON_AddNumberToObject(o, "weeks", r->weeks);
    cJSON_AddNumberToObject(o, "noisy_below_lift", QUALITY_NOISY_LIFT);
    cJSON *rows = cJSON_AddArrayToObject(o, "alerts");
    for (size_t i = 0; i < r->n_rows; i++)
        cJSON_AddItemToArray(rows, row_json(&r->rows[i], with_leads));
    if (r->risk.name)
        cJSON_AddItemToObject(o, "any_risk_cta", row_json(&r->risk, with_leads));
    cJSON *w = cJSON_AddObjectToObject(o, "per_owner_week");
    cJSON_AddNumberToObject(w, "owners", (double)r->per_owner_week.owners);
    cJSON_AddNumberToObject(w, "weeks", (double)r->per_owner_week.weeks);
    cJSON_AddItemToObject(w, "median", number(r->per_owner_week.median));
    cJSON_AddItemToObject(w, "p90", number(r->per_owner_week.p90));
    cJSON_AddItemToObject(w, "max", number(r->per_owner_week.max));
    cJSON_AddItemToObject(w, "mean", number(r->per_owner_week.mean));
    cJSON_AddNumberToObject(o, "held_back", (double)r->held_back);
    cJSON *owners = cJSON_AddArrayToObject(o, "owners");
    for (size_t i = 0; i < r->n_owners; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "owner", r->owners[i].owner);
        cJSON_AddNumberToObject(e, "ctas", (double)r->owners[i].raised);
        cJSON_AddNumberToObject(e, "per_week", r->owners[i].per_week);
        cJSON_AddItemToArray(owners, e);
    }
    return o;
}

const struct backtest_row *backtest_row_named(const struct backtest_result *r, const char *name) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (strcmp(r->rows[i].name, name) == 0)
            return &r->rows[i];
    return r->risk.name && strcmp(r->risk.name, name) == 0 ? &r->risk : NULL;
}

void backtest_embed(struct buf *b, const cJSON *json) {
    char *s = cJSON_PrintUnformatted(json);
    buf_puts(b, EMBED_OPEN);
    /* <, > and & occur only inside JSON strings, where \u escapes mean the
     * same: no "</script>" can end the block early. */
    for (const char *c = s; *c; c++) {
        if (*c == '<')
            buf_puts(b, "\\u003c");
        else if (*c == '>')
            buf_puts(b, "\\u003e");
        else if (*c == '&')
            buf_puts(b, "\\u0026");
        else
            buf_putc(b, *c);
    }
    buf_puts(b, EMBED_CLOSE "\n");
    free(s);
}

struct latest {
    int64_t id, created_ms;
    cJSON *json;
};

static void on_report(void *arg, const struct store_report *r) {
    struct latest *l = arg;
    if (l->id == 0 && strcmp(r->kind, "backtest") == 0) {
        l->id = r->id;
        l->created_ms = r->created_ms;
    }
}

static void on_body(void *arg, const struct store_report *r) {
    struct latest *l = arg;
    const char *open = r->body ? strstr(r->body, EMBED_OPEN) : NULL;
    if (!open)
        return;
    open += strlen(EMBED_OPEN);
    const char *close = strstr(open, EMBED_CLOSE);
    if (close)
        l->json = cJSON_ParseWithLength(open, (size_t)(close - open));
}

enum tend_err backtest_latest(struct store *s, cJSON **out, int64_t *id, int64_t *created_ms) {
    struct latest l = {0};
    enum tend_err e = store_reports_each(s, 0, on_report, &l);
    if (!e && l.id)
        e = store_report_get(s, l.id, on_body, &l);
    if (e) {
        cJSON_Delete(l.json);
        return e;
    }
    *out = l.json;
    *id = l.id;
    *created_ms = l.created_ms;
    return TEND_OK;
}

/* A number of obj, NaN when absent or null. */
static double get_number(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void join_list(char *out, size_t cap, const char *label, char list[][RULES_NAME_BYTES],
                      int n) {
    size_t len = strlen(out);
    len += (size_t)snprintf(out + len, cap - len, "%s%s: ", len ? "; " : "", label);
    for (int i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", list[i]);
}

size_t backtest_rule_views(const struct rules_config *rc, const cJSON *json,
                           struct backtest_rule_view *views) {
    const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(json, "alerts");
    for (int i = 0; i < rc->n_rules; i++) {
        const struct rule_settings *r = &rc->rules[i];
        struct backtest_rule_view *v = &views[i];
        memset(v, 0, sizeof *v);
        v->name = r->name;
        v->enabled = r->enabled;
        v->type = cta_type_name(r->type);
        v->priority = cta_priority_name(r->priority);
        if (r->kind != RULE_CUSTOM) {
            const char *const *names = rules_param_names(r->kind);
            size_t len = 0;
            for (int k = 0; k < RULES_MAX_PARAMS && names[k]; k++)
                len += (size_t)snprintf(v->thresholds + len, sizeof v->thresholds - len, "%s%s=%g",
                                        k ? " " : "", names[k], r->params[k]);
        }
        if (r->n_segments)
            join_list(v->scope, sizeof v->scope, "segments", (char(*)[RULES_NAME_BYTES])r->segments,
                      r->n_segments);
        if (r->n_plans)
            join_list(v->scope, sizeof v->scope, "plans", (char(*)[RULES_NAME_BYTES])r->plans,
                      r->n_plans);
        if (!*v->scope)
            snprintf(v->scope, sizeof v->scope, "every account");
        v->raised = v->precision = v->lift = v->recall = v->median_lead = v->closed_fast = NAN;
        const cJSON *row = NULL;
        cJSON_ArrayForEach(row, alerts) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(row, "name");
            if (cJSON_IsString(name) && strcmp(name->valuestring, r->name) == 0)
                break;
        }
        if (json && !row) { /* in the backtest, but it raised nothing */
            v->measured = true;
            v->raised = 0;
            v->closed_fast = 0;
            continue;
        }
        if (!row)
            continue;
        v->measured = true;
        v->raised = get_number(row, "raised");
        v->precision = get_number(row, "precision");
        v->lift = get_number(row, "lift");
        v->recall = get_number(row, "recall");
        v->median_lead = get_number(row, "median_lead_days");
        v->closed_fast = get_number(row, "closed_within_3_days");
        v->noisy = r->type == CTA_RISK && quality_noisy(v->lift);
    }
    return (size_t)rc->n_rules;
}
