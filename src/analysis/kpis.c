/* kpis.c: the KPI board (see kpis.h). */
#include "analysis/kpis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "core/segments.h"
#include "util/datetime.h"
#include "util/mem.h"

double kpi_pearson(const double *x, const double *y, int64_t n) {
    if (n < 3)
        return NAN;
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int64_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

/* A process KPI's value of a row; false when it has none. */
static bool process_value(enum kpi_id id, const struct process_row *r, double *v) {
    double opened = (double)r->opened;
    switch (id) {
    case KPI_CTAS_OPENED:
        *v = opened;
        return true;
    case KPI_ACTED_SHARE:
        *v = opened ? (double)r->acted / opened : NAN;
        break;
    case KPI_MEDIAN_DAYS_TO_ACTION:
        *v = r->median_days.has ? r->median_days.v : NAN;
        break;
    case KPI_P90_DAYS_TO_ACTION:
        *v = r->p90_days;
        break;
    case KPI_OVERDUE_SHARE:
        *v = r->overdue_share.has ? r->overdue_share.v : NAN;
        break;
    case KPI_CLOSED_BY_PERSON_SHARE:
        *v = opened ? (double)r->closed_by_person / opened : NAN;
        break;
    case KPI_EXPIRED_SHARE:
        *v = opened ? (double)r->expired / opened : NAN;
        break;
    case KPI_CONTACTS_PER_ACCOUNT:
        *v = r->contacts_per_account.has ? r->contacts_per_account.v : NAN;
        break;
    case KPI_COVERAGE_4W:
        *v = r->coverage_4w;
        break;
    default:
        return false;
    }
    return !isnan(*v);
}

/* A health predictor's value of a day's sums; false when it has none. */
static bool health_value(enum kpi_id id, const struct seg_sums *s, double *v) {
    switch (id) {
    case KPI_HEALTH_MEAN:
        *v = s->scored ? s->health_sum / (double)s->scored : NAN;
        break;
    case KPI_RED_SHARE:
        *v = s->scored ? (double)s->red / (double)s->scored : NAN;
        break;
    case KPI_LOGINS_PER_ACTIVE_USER:
        *v = s->active_users ? (double)s->logins_7d / (double)s->active_users : NAN;
        break;
    case KPI_NPS_MEAN:
        *v = s->nps_accounts ? s->nps_sum / (double)s->nps_accounts : NAN;
        break;
    case KPI_TICKETS_PER_ACCOUNT:
        *v = s->accounts ? (double)s->tickets_30d / (double)s->accounts : NAN;
        break;
    case KPI_OPEN_CTAS_PER_ACCOUNT:
        *v = s->accounts ? (double)s->open_ctas / (double)s->accounts : NAN;
        break;
    default:
        return false;
    }
    return !isnan(*v);
}

/* The owners' day sums, each (owner, week) the week's last day with data. */
struct owner_weeks {
    char **names;
    int n;
    struct seg_sums *sums; /* [owner * weeks + week] */
    int32_t *day;          /* the day kept, 0: none */
    int weeks;
    int32_t from_week;
    struct seg_sums team[PROCESS_MAX_WEEKS];
    int32_t team_day[PROCESS_MAX_WEEKS];
};

static int owner_slot(struct owner_weeks *o, const char *name) {
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->names[i], name) == 0)
            return i;
    o->names = xrealloc(o->names, (size_t)(o->n + 1) * sizeof *o->names);
    o->names[o->n] = xstrdup(name);
    o->sums = xrealloc(o->sums, (size_t)(o->n + 1) * (size_t)o->weeks * sizeof *o->sums);
    o->day = xrealloc(o->day, (size_t)(o->n + 1) * (size_t)o->weeks * sizeof *o->day);
    memset(&o->sums[(size_t)o->n * (size_t)o->weeks], 0, (size_t)o->weeks * sizeof *o->sums);
    memset(&o->day[(size_t)o->n * (size_t)o->weeks], 0, (size_t)o->weeks * sizeof *o->day);
    return o->n++;
}

static int on_segment_day(void *arg, const struct store_segment_row *r) {
    struct owner_weeks *o = arg;
    int w = (plan_week_start(r->day) - o->from_week) / 7;
    if (w < 0 || w >= o->weeks)
        return 0;
    size_t k = (size_t)owner_slot(o, r->name) * (size_t)o->weeks + (size_t)w;
    if (r->day >= o->day[k]) {
        o->day[k] = r->day;
        o->sums[k] = r->s;
    }
    if (r->day > o->team_day[w]) {
        o->team_day[w] = r->day;
        memset(&o->team[w], 0, sizeof o->team[w]);
    }
    if (r->day == o->team_day[w])
        seg_sums_add(&o->team[w], &r->s);
    return 0;
}

/* Churned accounts by owner and week of churn. */
struct churns {
    char **owners;
    int n;
    int64_t *count; /* [owner * span + week offset] */
    int span;       /* weeks + KPI_OUTCOME_WEEKS + 1 */
    int32_t from_week;
    struct owner_weeks *ow;
};

static void on_outcome(void *arg, const struct store_outcome *o) {
    struct churns *c = arg;
    if (!o->churned)
        return;
    int w = (plan_week_start(dt_day_of_ms(o->ts_ms)) - c->from_week) / 7;
    if (w < 0 || w >= c->span)
        return;
    const char *owner = o->owner && o->owner[0] ? o->owner : "(none)";
    int i;
    for (i = 0; i < c->n && strcmp(c->owners[i], owner) != 0; i++)
        ;
    if (i == c->n) {
        c->owners = xrealloc(c->owners, (size_t)(c->n + 1) * sizeof *c->owners);
        c->count = xrealloc(c->count, (size_t)(c->n + 1) * (size_t)c->span * sizeof *c->count);
        memset(&c->count[(size_t)c->n * (size_t)c->span], 0, (size_t)c->span * sizeof *c->count);
        c->owners[c->n++] = xstrdup(owner);
    }
    c->count[(size_t)i * (size_t)c->span + (size_t)w]++;
}

/* The share of owner's accounts (accounts) that churned in the weeks after
 * week w; false when those weeks have not passed. */
static bool churn_after(const struct churns *c, const char *owner, int w, int64_t accounts,
                        int32_t as_of, double *share) {
    int32_t week = c->from_week + 7 * w;
    if (week + 7 * (KPI_OUTCOME_WEEKS + 1) - 1 > as_of || accounts <= 0)
        return false;
    int64_t n = 0;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->owners[i], owner) == 0)
            for (int k = w + 1; k <= w + KPI_OUTCOME_WEEKS && k < c->span; k++)
                n += c->count[(size_t)i * (size_t)c->span + (size_t)k];
    *share = (double)n / (double)accounts;
    return true;
}

enum tend_err kpi_board_run(struct store *s, const struct kpi_config *c, int32_t from, int32_t to,
                            int32_t as_of, struct kpi_board *out, char *err) {
    memset(out, 0, sizeof *out);
    struct process_report pr;
    enum tend_err e = process_run(s, from, to, as_of, &pr, err);
    if (e)
        return e;
    out->as_of = as_of;
    out->from_week = pr.from_week;
    out->to_week = pr.to_week;
    out->weeks = (pr.to_week - pr.from_week) / 7 + 1;
    struct owner_weeks ow = {.weeks = out->weeks, .from_week = pr.from_week};
    struct churns ch = {.span = out->weeks + KPI_OUTCOME_WEEKS + 1, .from_week = pr.from_week};
    e = store_segment_days_each(s, SEG_BY_OWNER, NULL, pr.from_week, pr.to_week + 6, on_segment_day,
                                &ow);
    if (!e)
        e = store_outcomes_each(s, (int64_t)pr.from_week * DT_MS_PER_DAY,
                                (int64_t)(pr.from_week + 7 * ch.span) * DT_MS_PER_DAY, on_outcome,
                                &ch);
    if (e) {
        snprintf(err, PROCESS_ERR_BYTES, "%s", store_last_error(s));
        goto cleanup;
    }
    size_t max_pairs = pr.n_rows + (size_t)ow.n * (size_t)out->weeks + 1;
    double *x = xcalloc(max_pairs, sizeof *x), *y = xcalloc(max_pairs, sizeof *y);
    for (int k = 0; k < c->n; k++) {
        struct kpi_series *ks = &out->v[out->n++];
        ks->id = c->v[k].id;
        snprintf(ks->title, sizeof ks->title, "%s", c->v[k].title);
        int64_t n = 0;
        if (kpi_is_process(ks->id)) {
            for (size_t i = 0; i < pr.n_rows; i++) {
                const struct process_row *r = &pr.rows[i];
                int w = (r->week - pr.from_week) / 7;
                double v, share;
                if (!process_value(ks->id, r, &v))
                    continue;
                if (r->owner < 0) {
                    ks->has[w] = true;
                    ks->team[w] = v;
                } else if (churn_after(&ch, pr.owners[r->owner], w, r->accounts, as_of, &share)) {
                    x[n] = v;
                    y[n++] = share;
                }
            }
        } else {
            for (int w = 0; w < out->weeks; w++)
                if (ow.team_day[w] && health_value(ks->id, &ow.team[w], &ks->team[w]))
                    ks->has[w] = true;
            for (int o = 0; o < ow.n; o++)
                for (int w = 0; w < out->weeks; w++) {
                    size_t at = (size_t)o * (size_t)out->weeks + (size_t)w;
                    double v, share;
                    if (ow.day[at] && health_value(ks->id, &ow.sums[at], &v) &&
                        churn_after(&ch, ow.names[o], w, ow.sums[at].accounts, as_of, &share)) {
                        x[n] = v;
                        y[n++] = share;
                    }
                }
        }
        ks->pairs = n;
        ks->r = kpi_pearson(x, y, n);
        ks->has_r = !isnan(ks->r);
    }
    free(x);
    free(y);
cleanup:
    for (int i = 0; i < ow.n; i++)
        free(ow.names[i]);
    free(ow.names);
    free(ow.sums);
    free(ow.day);
    for (int i = 0; i < ch.n; i++)
        free(ch.owners[i]);
    free(ch.owners);
    free(ch.count);
    process_report_free(&pr);
    return e;
}

cJSON *kpi_board_json(const struct kpi_board *b) {
    cJSON *o = cJSON_CreateObject();
    char d[16];
    dt_format_date(b->as_of, d);
    cJSON_AddStringToObject(o, "as_of", d);
    dt_format_date(b->from_week, d);
    cJSON_AddStringToObject(o, "from_week", d);
    dt_format_date(b->to_week, d);
    cJSON_AddStringToObject(o, "to_week", d);
    cJSON_AddNumberToObject(o, "outcome_weeks", KPI_OUTCOME_WEEKS);
    cJSON *arr = cJSON_AddArrayToObject(o, "kpis");
    for (int k = 0; k < b->n; k++) {
        const struct kpi_series *s = &b->v[k];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "kpi", kpi_name(s->id));
        cJSON_AddStringToObject(j, "title", s->title);
        cJSON_AddStringToObject(j, "family", kpi_is_process(s->id) ? "process" : "health");
        cJSON_AddBoolToObject(j, "higher_is_better", kpi_higher_is_better(s->id));
        cJSON *weeks = cJSON_AddArrayToObject(j, "weeks");
        double latest = NAN;
        for (int w = 0; w < b->weeks; w++) {
            cJSON *p = cJSON_CreateObject();
            dt_format_date(b->from_week + 7 * w, d);
            cJSON_AddStringToObject(p, "week", d);
            if (s->has[w]) {
                cJSON_AddNumberToObject(p, "value", s->team[w]);
                latest = s->team[w];
            } else {
                cJSON_AddNullToObject(p, "value");
            }
            cJSON_AddItemToArray(weeks, p);
        }
        if (isnan(latest))
            cJSON_AddNullToObject(j, "latest");
        else
            cJSON_AddNumberToObject(j, "latest", latest);
        cJSON_AddNumberToObject(j, "churn_pairs", (double)s->pairs);
        if (s->has_r)
            cJSON_AddNumberToObject(j, "churn_r", s->r);
        else
            cJSON_AddNullToObject(j, "churn_r");
        cJSON_AddItemToArray(arr, j);
    }
    return o;
}
