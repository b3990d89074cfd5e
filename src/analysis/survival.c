/* survival.c: the landmark cohort, its Kaplan-Meier curves and its Cox fit
 * (see survival.h). Three reads of the store: the accounts (start, segment,
 * plan), their metrics as of the landmark (one pass of eval_metrics over
 * every account), and the churns after it. */
#include "analysis/survival.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "util/datetime.h"
#include "util/mem.h"

static const char *const by_names[SURV_BY_COUNT] = {"band", "segment", "plan"};

const char *survival_by_name(enum survival_by by) {
    return by < SURV_BY_COUNT ? by_names[by] : "?";
}

struct acct {
    char *id;
    int64_t first_seen_ms;
    int32_t start_day;
    char *segment, *plan;
    int32_t churn_day; /* the first churn after the landmark; INT32_MAX none */
};

struct gather {
    struct survival_result *r;
    struct acct *v;
    size_t n, cap;
    const char *const *metrics;
    size_t n_metrics;
    size_t rows_cap;
};

static int cmp_acct(const void *a, const void *b) {
    return strcmp(((const struct acct *)a)->id, ((const struct acct *)b)->id);
}

static struct acct *find_acct(struct gather *g, const char *id) {
    struct acct key = {.id = (char *)id};
    return bsearch(&key, g->v, g->n, sizeof *g->v, cmp_acct);
}

static char *or_none(const char *s) {
    return xstrdup(s && *s ? s : "(none)");
}

static int on_account(void *arg, const struct store_account_row *row) {
    struct gather *g = arg;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 256;
        g->v = xrealloc(g->v, g->cap * sizeof *g->v);
    }
    struct acct *a = &g->v[g->n++];
    a->id = xstrdup(row->external_id);
    a->first_seen_ms = row->first_seen_ms;
    a->start_day = dt_day_of_ms(row->first_seen_ms);
    int32_t created;
    const char *c = row->f.created_at;
    /* created_at counts only when it is not after tend first saw the account. */
    if (c && strlen(c) >= 10 && dt_parse_date(c, 10, &created) && created < a->start_day)
        a->start_day = created;
    a->segment = or_none(row->f.segment);
    a->plan = or_none(row->f.plan);
    a->churn_day = INT32_MAX;
    return 0;
}

static void on_churn(void *arg, const struct store_outcome *o) {
    struct gather *g = arg;
    if (!o->churned)
        return;
    struct acct *a = find_acct(g, o->external_id);
    int32_t day = dt_day_of_ms(o->ts_ms);
    if (a && day < a->churn_day)
        a->churn_day = day;
}

static int on_metrics(void *arg, int64_t id, const char *account_id, const struct metrics *m) {
    struct gather *g = arg;
    struct survival_result *r = g->r;
    r->accounts++;
    struct acct *a = find_acct(g, account_id);
    if (!a)
        return 0;
    if (m->churned) {
        r->not_customer++;
        return 0;
    }
    int64_t t = (int64_t)(r->o.landmark + 1) * DT_MS_PER_DAY;
    if (t - a->first_seen_ms < (int64_t)ANALYSIS_MIN_HISTORY_DAYS * DT_MS_PER_DAY) {
        r->short_history++;
        return 0;
    }
    if (r->n_rows == g->rows_cap) {
        g->rows_cap = g->rows_cap ? g->rows_cap * 2 : 256;
        r->rows = xrealloc(r->rows, g->rows_cap * sizeof *r->rows);
    }
    struct survival_row *row = &r->rows[r->n_rows++];
    memset(row, 0, sizeof *row);
    row->account_id = xstrdup(account_id);
    bool churned = a->churn_day <= r->o.end;
    row->churned = churned;
    row->time = (double)((churned ? a->churn_day : r->o.end) - r->o.landmark);
    r->n_churned += churned;
    struct health_score h;
    health_compute(r->o.hc, m, &h);
    row->band = h.has_score ? h.band : BAND_NONE;
    row->score = h.has_score ? h.overall : NAN;
    row->group[SURV_BY_BAND] = xstrdup(health_band_name(row->band));
    row->group[SURV_BY_SEGMENT] = xstrdup(a->segment);
    row->group[SURV_BY_PLAN] = xstrdup(a->plan);
    for (size_t j = 0; j < g->n_metrics; j++)
        row->known[j] = health_input(m, g->metrics[j], &row->x[j]);
    row->x[g->n_metrics] = (double)(r->o.landmark - a->start_day);
    row->known[g->n_metrics] = true;
    return 0;
}

/* ---- curves ------------------------------------------------------------------ */

struct name_count {
    const char *name;
    size_t n;
};

static int by_count(const void *a, const void *b) {
    const struct name_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct name_count *)a)->name, ((const struct name_count *)b)->name);
}

/* The curve of the rows whose group by is name (NULL: every row). */
static void curve_of(const struct survival_result *r, enum survival_by by, const char *name,
                     struct stats_km *km) {
    double *t = xmalloc(r->n_rows * sizeof *t);
    bool *e = xmalloc(r->n_rows * sizeof *e);
    size_t n = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        if (!name || strcmp(r->rows[i].group[by], name) == 0) {
            t[n] = r->rows[i].time;
            e[n++] = r->rows[i].churned;
        }
    char err[STATS_ERR_BYTES];
    if (stats_km_fit(t, e, n, km, err)) /* cannot fail: n > 0, times >= 0 */
        memset(km, 0, sizeof *km);
    free(t);
    free(e);
}

/* The groups of by: bands in their order (red, yellow, green, no score);
 * segments and plans by name, the most frequent SURVIVAL_MAX_GROUPS - 1 kept
 * and the rest relabelled "(other)". */
static void curves(struct survival_result *r, enum survival_by by) {
    struct name_count *nc = xcalloc(r->n_rows, sizeof *nc);
    size_t k = 0;
    if (by == SURV_BY_BAND) {
        static const enum health_band order[] = {BAND_RED, BAND_YELLOW, BAND_GREEN, BAND_NONE};
        for (size_t b = 0; b < 4; b++)
            for (size_t i = 0; i < r->n_rows; i++)
                if (r->rows[i].band == order[b]) {
                    nc[k++] = (struct name_count){health_band_name(order[b]), 1};
                    break;
                }
    } else {
        for (size_t i = 0; i < r->n_rows; i++) {
            size_t j = 0;
            while (j < k && strcmp(nc[j].name, r->rows[i].group[by]) != 0)
                j++;
            if (j == k)
                nc[k++] = (struct name_count){r->rows[i].group[by], 0};
            nc[j].n++;
        }
        if (k > SURVIVAL_MAX_GROUPS) {
            qsort(nc, k, sizeof *nc, by_count);
            for (size_t i = 0; i < r->n_rows; i++) {
                size_t j = 0;
                while (j < SURVIVAL_MAX_GROUPS - 1 && strcmp(nc[j].name, r->rows[i].group[by]))
                    j++;
                if (j == SURVIVAL_MAX_GROUPS - 1) {
                    free(r->rows[i].group[by]);
                    r->rows[i].group[by] = xstrdup("(other)");
                }
            }
            k = SURVIVAL_MAX_GROUPS - 1;
            nc[k++] = (struct name_count){"(other)", 0};
        }
        qsort(nc, k, sizeof *nc, by_name);
    }
    r->curves[by] = xcalloc(k ? k : 1, sizeof *r->curves[by]);
    r->n_curves[by] = k;
    for (size_t j = 0; j < k; j++) {
        r->curves[by][j].name = xstrdup(nc[j].name);
        curve_of(r, by, r->curves[by][j].name, &r->curves[by][j].km);
    }
    free(nc);
}

/* ---- Cox ------------------------------------------------------------------------ */

/* Fills unknowns with the mean of the rows, leaves constant columns out,
 * and fits. */
static void cox(struct survival_result *r) {
    size_t n = r->n_rows, k = r->n_columns;
    for (size_t j = 0; j < k; j++) {
        double sum = 0;
        size_t known = 0;
        for (size_t i = 0; i < n; i++)
            if (r->rows[i].known[j]) {
                sum += r->rows[i].x[j];
                known++;
            }
        double mean = known ? sum / (double)known : 0;
        for (size_t i = 0; i < n; i++)
            if (!r->rows[i].known[j]) {
                r->rows[i].x[j] = mean;
                r->missing[j]++;
            }
    }
    size_t use[SURVIVAL_MAX_COLUMNS], m = 0;
    for (size_t j = 0; j < k; j++) {
        bool constant = true;
        for (size_t i = 1; i < n && constant; i++)
            constant = r->rows[i].x[j] == r->rows[0].x[j];
        if (constant)
            r->left_out[r->n_left_out++] = r->names[j];
        else
            use[m++] = j;
    }
    if (m == 0) {
        snprintf(r->cox_error, sizeof r->cox_error, "every column is constant over the cohort");
        return;
    }
    double *x = xmalloc(n * m * sizeof *x), *t = xmalloc(n * sizeof *t);
    bool *e = xmalloc(n * sizeof *e);
    const char *names[SURVIVAL_MAX_COLUMNS];
    for (size_t c = 0; c < m; c++)
        names[c] = r->names[use[c]];
    for (size_t i = 0; i < n; i++) {
        t[i] = r->rows[i].time;
        e[i] = r->rows[i].churned;
        for (size_t c = 0; c < m; c++)
            x[i * m + c] = r->rows[i].x[use[c]];
    }
    r->has_cox = stats_cox_fit(t, e, x, n, m, names, &r->cox, r->cox_error) == TEND_OK;
    free(x);
    free(t);
    free(e);
}

/* ---- the analysis --------------------------------------------------------------- */

enum tend_err survival_run(struct store *s, const struct survival_options *o,
                           struct survival_result *out, char *err) {
    struct survival_result *r = out;
    memset(r, 0, sizeof *r);
    r->o = *o;
    struct gather g = {.r = r};
    g.n_metrics = analysis_metric_names(&g.metrics);
    for (size_t j = 0; j < g.n_metrics; j++)
        r->names[j] = g.metrics[j];
    r->names[g.n_metrics] = "tenure_days";
    r->n_columns = g.n_metrics + 1;
    enum tend_err e = store_accounts_each(s, on_account, &g);
    if (!e) {
        if (g.n > 1)
            qsort(g.v, g.n, sizeof *g.v, cmp_acct);
        e = store_outcomes_each(s, (int64_t)(o->landmark + 1) * DT_MS_PER_DAY,
                                (int64_t)(o->end + 1) * DT_MS_PER_DAY, on_churn, &g);
    }
    if (!e)
        e = eval_metrics(s, (int64_t)(o->landmark + 1) * DT_MS_PER_DAY, NULL, on_metrics, &g);
    for (size_t i = 0; i < g.n; i++) {
        free(g.v[i].id);
        free(g.v[i].segment);
        free(g.v[i].plan);
    }
    free(g.v);
    if (e) {
        snprintf(err, STATS_ERR_BYTES, "%s", store_last_error(s));
        return e;
    }
    if (r->n_rows == 0) {
        char d[16];
        dt_format_date(o->landmark, d);
        snprintf(err, STATS_ERR_BYTES,
                 "no account was a customer with %d days of history on %s (the landmark): "
                 "give a later --landmark",
                 ANALYSIS_MIN_HISTORY_DAYS, d);
        return TEND_ERR_INVALID;
    }
    curve_of(r, SURV_BY_BAND, NULL, &r->all);
    for (int by = 0; by < SURV_BY_COUNT; by++)
        curves(r, (enum survival_by)by);
    cox(r);
    return TEND_OK;
}

void survival_result_free(struct survival_result *r) {
    for (size_t i = 0; i < r->n_rows; i++) {
        free(r->rows[i].account_id);
        for (int by = 0; by < SURV_BY_COUNT; by++)
            free(r->rows[i].group[by]);
    }
    free(r->rows);
    for (int by = 0; by < SURV_BY_COUNT; by++) {
        for (size_t j = 0; j < r->n_curves[by]; j++) {
            free(r->curves[by][j].name);
            stats_km_free(&r->curves[by][j].km);
        }
        free(r->curves[by]);
    }
    stats_km_free(&r->all);
    if (r->has_cox)
        stats_cox_free(&r->cox);
    memset(r, 0, sizeof *r);
}

/* Writes s as a CSV field (quoted, quotes doubled). */
static void csv_field(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

enum tend_err survival_export(const struct survival_result *r, const char *path, char *err) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, STATS_ERR_BYTES, "%s: cannot write: %m", path);
        return TEND_ERR_IO;
    }
    fputs("account_id,time_days,churned,band,segment,plan", f);
    for (size_t j = 0; j < r->n_columns; j++)
        fprintf(f, ",%s", r->names[j]);
    fputc('\n', f);
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct survival_row *row = &r->rows[i];
        csv_field(f, row->account_id);
        fprintf(f, ",%g,%d", row->time, row->churned ? 1 : 0);
        for (int by = 0; by < SURV_BY_COUNT; by++) {
            fputc(',', f);
            csv_field(f, row->group[by]);
        }
        for (size_t j = 0; j < r->n_columns; j++)
            fprintf(f, ",%.17g", row->x[j]);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        snprintf(err, STATS_ERR_BYTES, "%s: write failed: %m", path);
        return TEND_ERR_IO;
    }
    return TEND_OK;
}
