/* analyze.c: outcomes, their features as of the lead day, the regression,
 * the held-out check and the suggested weights (see analyze.h). */
#include "analysis/analyze.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/outcome_rows.h"
#include "eval/eval.h"
#include "util/datetime.h"
#include "util/mem.h"

/* The metrics the score is made of (docs/health.md), and two the rules read. */
static const char *const metric_features[] = {
    "days_since_login",  "active_user_ratio", "login_trend",
    "features_used_30d", "usage_trend",       "nps",
    "tickets_open",      "tickets_30d",       "max_days_overdue",
    "card_days_left",    "seat_utilization",  "outreach_unanswered",
};
_Static_assert(sizeof metric_features / sizeof *metric_features <= ANALYSIS_MAX_FEATURES,
               "room for the metrics");

/* ---- outcomes and their features ------------------------------------------ */

struct outcome {
    int64_t ts_ms, first_seen_ms;
    bool churned;
    char *account_id;
};

struct outcomes {
    struct outcome *v;
    size_t n, cap;
};

static void on_outcome(void *arg, const struct store_outcome *o) {
    struct outcomes *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] =
        (struct outcome){o->ts_ms, o->first_seen_ms, o->churned, xstrdup(o->external_id)};
}

/* What the metrics callback fills for one outcome. */
struct probe {
    const struct analysis_result *r;
    struct analysis_row *row;
    bool seen, customer;
};

static int on_metrics(void *arg, int64_t id, const char *account_id, const struct metrics *m) {
    struct probe *p = arg;
    const struct analysis_result *r = p->r;
    p->seen = true;
    p->customer = !m->churned;
    if (m->churned)
        return 0;
    struct health_score h;
    health_compute(r->o.hc, m, &h);
    struct analysis_row *row = p->row;
    for (int c = 0; c < HC_COUNT; c++) {
        row->comp_known[c] = h.components[c].has_data;
        row->comp[c] = h.components[c].score;
    }
    for (size_t j = 0; j < r->n_features; j++) {
        if (r->o.features == AF_COMPONENTS) {
            row->known[j] = row->comp_known[j];
            row->x[j] = row->comp[j];
        } else {
            row->known[j] = health_input(m, r->names[j], &row->x[j]);
        }
    }
    return 0;
}

static bool any_known(const struct analysis_row *row, size_t k) {
    for (size_t j = 0; j < k; j++)
        if (row->known[j])
            return true;
    return false;
}

/* Reads the outcomes of the period and each one's features. */
static enum tend_err gather(struct store *s, struct analysis_result *r) {
    struct outcomes l = {0};
    int64_t from_ms = (int64_t)r->o.from * DT_MS_PER_DAY,
            to_ms = (int64_t)(r->o.to + 1) * DT_MS_PER_DAY;
    enum tend_err err = r->o.outcome == AO_CHURN
                            ? store_outcomes_each(s, from_ms, to_ms, on_outcome, &l)
                            : analysis_movement_rows(s, &r->o, on_outcome, &l);
    r->rows = xcalloc(l.n ? l.n : 1, sizeof *r->rows);
    for (size_t i = 0; !err && i < l.n; i++) {
        struct outcome *o = &l.v[i];
        r->outcomes++;
        r->churned += o->churned;
        struct analysis_row *row = &r->rows[r->n_rows];
        memset(row, 0, sizeof *row);
        row->outcome_day = dt_day_of_ms(o->ts_ms);
        row->churned = o->churned;
        struct probe p = {.r = r, .row = row};
        int64_t t = (int64_t)(row->outcome_day - r->o.lead_days + 1) * DT_MS_PER_DAY;
        if (t - o->first_seen_ms < (int64_t)ANALYSIS_MIN_HISTORY_DAYS * DT_MS_PER_DAY) {
            r->short_history++;
            continue;
        }
        err = eval_metrics(s, t, o->account_id, on_metrics, &p);
        if (err == TEND_ERR_NOTFOUND) /* gone since (cannot happen: accounts stay) */
            err = TEND_OK;
        if (err)
            break;
        if (!p.seen)
            r->short_history++;
        else if (!p.customer)
            r->not_customer++;
        else if (!any_known(row, r->n_features))
            r->no_data++;
        else {
            row->account_id = o->account_id;
            o->account_id = NULL;
            r->n_rows++;
        }
    }
    /* The period as the outcomes span it, not as asked ("all": since 1970). */
    if (l.n) {
        int32_t first = dt_day_of_ms(l.v[0].ts_ms), last = dt_day_of_ms(l.v[l.n - 1].ts_ms);
        r->o.from = first > r->o.from ? first : r->o.from;
        r->o.to = last < r->o.to ? last : r->o.to;
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].account_id);
    free(l.v);
    return err;
}

/* ---- the design ------------------------------------------------------------ */

/* Fills every row's unknown features with the mean of rows lo..hi-1 (0 when
 * none of them knows it); counts the fills in missing when not NULL. */
static void fill_means(struct analysis_row *rows, size_t n, size_t lo, size_t hi, size_t k,
                       size_t *missing) {
    for (size_t j = 0; j < k; j++) {
        double sum = 0;
        size_t known = 0;
        for (size_t i = lo; i < hi; i++)
            if (rows[i].known[j]) {
                sum += rows[i].x[j];
                known++;
            }
        double mean = known ? sum / (double)known : 0;
        for (size_t i = 0; i < n; i++)
            if (!rows[i].known[j]) {
                rows[i].x[j] = mean;
                if (missing && i >= lo && i < hi)
                    missing[j]++;
            }
    }
}

struct design {
    double *x, *y;
    struct stats_data d;
};

static void design_make(struct design *ds, const struct analysis_result *r, size_t lo, size_t hi) {
    size_t n = hi - lo, k = r->n_features;
    ds->x = xmalloc((n ? n : 1) * k * sizeof *ds->x);
    ds->y = xmalloc((n ? n : 1) * sizeof *ds->y);
    for (size_t i = 0; i < n; i++) {
        memcpy(ds->x + i * k, r->rows[lo + i].x, k * sizeof *ds->x);
        ds->y[i] = r->rows[lo + i].churned;
    }
    /* A component on which no churned (or no renewed) account fell short is
     * worth knowing, not a reason to stop: it is dropped and named. */
    ds->d = (struct stats_data){
        .n = n, .k = k, .x = ds->x, .y = ds->y, .names = r->names, .drop_separating = true};
}

static void design_free(struct design *ds) {
    free(ds->x);
    free(ds->y);
}

/* ---- weights ---------------------------------------------------------------- */

/* Suggested component weights from a fit on the components: a component
 * that covaries with churn (p < 0.05) the right way (a higher score, less
 * churn) weighs in proportion to how much a point of it lowers the log odds
 * of churn (its coefficient over its standard deviation); the others weigh 0.
 * False when none qualifies. */
static bool suggest(const struct stats_fit *f, double w[HC_COUNT]) {
    double sum = 0;
    memset(w, 0, HC_COUNT * sizeof *w);
    for (size_t i = 1; i < f->n_coefs; i++) {
        const struct stats_coef *c = &f->coefs[i];
        size_t j = f->column[i];
        if (j < HC_COUNT && c->p < 0.05 && c->coef < 0 && c->std_dev > 0) {
            w[j] = -c->coef / c->std_dev;
            sum += w[j];
        }
    }
    if (!(sum > 0))
        return false;
    for (int j = 0; j < HC_COUNT; j++)
        w[j] /= sum;
    return true;
}

/* The overall score of a row's components under weights w, renormalised over
 * the components with data, as tend scores; false when none has weight. */
static bool weighted(const struct analysis_row *row, const double w[HC_COUNT], double *score) {
    double sum = 0, wsum = 0;
    for (int c = 0; c < HC_COUNT; c++)
        if (row->comp_known[c]) {
            sum += w[c] * row->comp[c];
            wsum += w[c];
        }
    if (!(wsum > 0))
        return false;
    *score = sum / wsum;
    return true;
}

/* ---- the held-out check ------------------------------------------------------ */

/* The AUC and ROC of risk = 100 - score under weights w on rows lo..hi-1
 * (a row without a score counts as 50, neither healthy nor not). */
static double weights_auc(const struct analysis_row *rows, size_t lo, size_t hi,
                          const double w[HC_COUNT], double **fpr, double **tpr, size_t *len) {
    size_t n = hi - lo;
    double *risk = xmalloc((n ? n : 1) * sizeof *risk), *y = xmalloc((n ? n : 1) * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        double score = 50;
        weighted(&rows[lo + i], w, &score);
        risk[i] = 100 - score;
        y[i] = rows[lo + i].churned;
    }
    double auc = stats_auc(risk, y, n);
    if (!stats_roc(risk, y, n, fpr, tpr, len))
        *len = 0;
    free(risk);
    free(y);
    return auc;
}

static bool has_both(const struct analysis_row *rows, size_t lo, size_t hi) {
    size_t churned = 0;
    for (size_t i = lo; i < hi; i++)
        churned += rows[i].churned;
    return churned > 0 && churned < hi - lo;
}

static void holdout(struct analysis_result *r) {
    struct analysis_holdout *h = &r->holdout;
    h->auc_model = h->auc_current = h->auc_suggested = NAN;
    size_t n = r->n_rows, train = (size_t)((double)n * ANALYSIS_TRAIN_SHARE);
    /* The split falls between days: outcomes of one day stay on one side. */
    while (train > 0 && train < n && r->rows[train].outcome_day == r->rows[train - 1].outcome_day)
        train++;
    if (train >= n || !has_both(r->rows, 0, train) || !has_both(r->rows, train, n)) {
        snprintf(h->why, sizeof h->why,
                 "too few outcomes to hold some out: both parts (the first 70%% of %zu "
                 "outcomes and the rest) need churned and renewed accounts",
                 n);
        return;
    }
    h->train = train;
    h->test = n - train;
    h->split_day = r->rows[train].outcome_day;
    for (size_t i = train; i < n; i++)
        h->test_churned += r->rows[i].churned;
    /* Unknown features take the training part's means, as a model fitted then
     * would have. */
    fill_means(r->rows, n, 0, train, r->n_features, NULL);
    struct design ds;
    design_make(&ds, r, 0, train);
    struct stats_fit f;
    char err[STATS_ERR_BYTES];
    if (stats_logit_fit(&ds.d, STATS_PER_STD_DEV, &f, err)) {
        snprintf(h->why, sizeof h->why, "the fit on the first %zu outcomes failed: %s", train, err);
        design_free(&ds);
        return;
    }
    design_free(&ds);
    h->done = true;
    size_t m = n - train;
    double *lp = xmalloc(m * sizeof *lp), *y = xmalloc(m * sizeof *y);
    for (size_t i = 0; i < m; i++) {
        lp[i] = stats_logit_predict(&f, r->rows[train + i].x);
        y[i] = r->rows[train + i].churned;
    }
    h->auc_model = stats_auc(lp, y, m);
    if (!stats_roc(lp, y, m, &r->hold_fpr[0], &r->hold_tpr[0], &r->hold_len[0]))
        r->hold_len[0] = 0;
    free(lp);
    free(y);
    h->auc_current = weights_auc(r->rows, train, n, r->o.hc->weights, &r->hold_fpr[1],
                                 &r->hold_tpr[1], &r->hold_len[1]);
    double w[HC_COUNT];
    if (r->o.features == AF_COMPONENTS && r->o.outcome == AO_CHURN && suggest(&f, w))
        h->auc_suggested =
            weights_auc(r->rows, train, n, w, &r->hold_fpr[2], &r->hold_tpr[2], &r->hold_len[2]);
    stats_fit_free(&f);
}

/* ---- bands from outcomes ------------------------------------------------------ */

void analysis_band_rates(const double *score, const bool *has_score, const bool *churned, size_t n,
                         double red_below, double green_from, struct analysis_bands *out) {
    memset(out, 0, sizeof *out);
    out->red_below = red_below;
    out->green_from = green_from;
    for (size_t i = 0; i < n; i++) {
        int b = BAND_NONE;
        if (has_score[i]) {
            b = score[i] < red_below ? BAND_RED : score[i] < green_from ? BAND_YELLOW : BAND_GREEN;
            out->n++;
            out->churned += churned[i];
        }
        out->band[b].n++;
        out->band[b].churned += churned[i];
    }
    for (int b = 0; b < 4; b++)
        out->band[b].rate =
            out->band[b].n ? (double)out->band[b].churned / (double)out->band[b].n : NAN;
    out->base_rate = out->n ? (double)out->churned / (double)out->n : NAN;
}

/* Rows with a score in [lo, hi) and how many of them churned. */
static void count_range(const double *score, const bool *has_score, const bool *churned, size_t n,
                        double lo, double hi, size_t *rows, size_t *events) {
    *rows = *events = 0;
    for (size_t i = 0; i < n; i++)
        if (has_score[i] && score[i] >= lo && score[i] < hi) {
            (*rows)++;
            *events += churned[i];
        }
}

void analysis_suggest_bands(const double *score, const bool *has_score, const bool *churned,
                            size_t n, struct analysis_bands *out) {
    analysis_band_rates(score, has_score, churned, n, 0, 0, out);
    double base = out->base_rate;
    int red = 0, green;
    size_t rows, events;
    for (int t = 100; t >= 1 && isfinite(base) && !red; t--) {
        count_range(score, has_score, churned, n, -INFINITY, t, &rows, &events);
        if (rows >= ANALYSIS_BAND_MIN_ROWS && (double)events >= ANALYSIS_RED_LIFT * base * rows)
            red = t;
    }
    green = red;
    for (int t = 100; t > red && isfinite(base); t--) {
        count_range(score, has_score, churned, n, red, t, &rows, &events);
        if (rows >= ANALYSIS_BAND_MIN_ROWS && (double)events > base * rows) {
            green = t;
            break;
        }
    }
    analysis_band_rates(score, has_score, churned, n, red, green, out);
}

/* The weights as the snippet prints them ("%.2f"), read back. */
static double two_decimals(double w) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.2f", w);
    return strtod(buf, NULL);
}

/* Fills the snippet's weights, their held-out AUC and the bands. */
static void bands(struct analysis_result *r) {
    const struct health_config *hc = r->o.hc;
    for (int c = 0; c < HC_COUNT; c++)
        r->snippet_weights[c] = r->has_suggested ? two_decimals(r->suggested[c]) : hc->weights[c];
    r->auc_snippet = NAN;
    const struct analysis_holdout *h = &r->holdout;
    if (h->done) {
        double *fpr = NULL, *tpr = NULL;
        size_t len = 0;
        r->auc_snippet =
            weights_auc(r->rows, h->train, r->n_rows, r->snippet_weights, &fpr, &tpr, &len);
        free(fpr);
        free(tpr);
    }
    size_t n = r->n_rows;
    double *score = xmalloc((n ? n : 1) * sizeof *score);
    bool *has = xmalloc((n ? n : 1) * sizeof *has), *y = xmalloc((n ? n : 1) * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        y[i] = r->rows[i].churned;
        has[i] = weighted(&r->rows[i], hc->weights, &score[i]);
    }
    analysis_band_rates(score, has, y, n, hc->red_below, hc->green_from, &r->bands_current);
    for (size_t i = 0; i < n; i++)
        has[i] = weighted(&r->rows[i], r->snippet_weights, &score[i]);
    analysis_suggest_bands(score, has, y, n, &r->bands_suggested);
    free(score);
    free(has);
    free(y);
}

/* ---- the analysis ------------------------------------------------------------ */

enum tend_err analysis_run(struct store *s, const struct analysis_options *o,
                           struct analysis_result *out, char *err) {
    struct analysis_result *r = out;
    memset(r, 0, sizeof *r);
    r->o = *o;
    if (o->features == AF_COMPONENTS) {
        r->n_features = HC_COUNT;
        for (int c = 0; c < HC_COUNT; c++)
            r->names[c] = health_component_name((enum health_component)c);
    } else {
        r->n_features = sizeof metric_features / sizeof *metric_features;
        memcpy(r->names, metric_features, sizeof metric_features);
    }
    enum tend_err e = gather(s, r);
    if (e) {
        snprintf(err, STATS_ERR_BYTES, "%s", store_last_error(s));
        return e;
    }
    size_t churned = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        churned += r->rows[i].churned;
    if (churned == 0 || churned == r->n_rows) {
        if (o->outcome != AO_CHURN)
            snprintf(err, STATS_ERR_BYTES,
                     "%zu rows with features %d days before them, %zu of them with %s: the "
                     "analysis needs rows with and without one in the period",
                     r->n_rows, o->lead_days, churned, analysis_outcome_name(o->outcome));
        else
            snprintf(err, STATS_ERR_BYTES,
                     "%zu outcomes with features %d days before them, %zu of them churned: the "
                     "analysis needs both churned and renewed accounts in the period",
                     r->n_rows, o->lead_days, churned);
        return TEND_ERR_INVALID;
    }
    holdout(r);
    /* The fit on every row, unknown features at the mean of all. */
    fill_means(r->rows, r->n_rows, 0, r->n_rows, r->n_features, r->missing);
    struct design ds;
    design_make(&ds, r, 0, r->n_rows);
    e = stats_logit_fit(&ds.d, STATS_PER_STD_DEV, &r->fit, err);
    if (!e) {
        double *lp = xmalloc(r->n_rows * sizeof *lp);
        for (size_t i = 0; i < r->n_rows; i++)
            lp[i] = stats_logit_predict(&r->fit, r->rows[i].x);
        r->auc = stats_auc(lp, ds.y, r->n_rows);
        if (!stats_roc(lp, ds.y, r->n_rows, &r->fpr, &r->tpr, &r->roc_len))
            r->roc_len = 0;
        free(lp);
        /* Weights and bands are about churn: a score that predicts
         * expansion is not the one to alert on. */
        if (o->features == AF_COMPONENTS && o->outcome == AO_CHURN) {
            r->has_suggested = suggest(&r->fit, r->suggested);
            bands(r);
        }
    }
    design_free(&ds);
    return e;
}

void analysis_result_free(struct analysis_result *r) {
    for (size_t i = 0; i < r->n_rows; i++)
        free(r->rows[i].account_id);
    free(r->rows);
    if (r->fit.coefs)
        stats_fit_free(&r->fit);
    free(r->fpr);
    free(r->tpr);
    for (int i = 0; i < 3; i++) {
        free(r->hold_fpr[i]);
        free(r->hold_tpr[i]);
    }
    memset(r, 0, sizeof *r);
}

const char *analysis_outcome_name(enum analysis_outcome o) {
    return o == AO_CONTRACTION ? "contraction" : o == AO_EXPANSION ? "expansion" : "churn";
}

size_t analysis_not_covarying(const struct analysis_result *r, const char **names) {
    size_t n = 0;
    for (size_t i = 1; i < r->fit.n_coefs && n < ANALYSIS_MAX_FEATURES; i++)
        if (!(r->fit.coefs[i].p < 0.05))
            names[n++] = r->fit.coefs[i].name;
    return n;
}

bool analysis_suggestion_worse(const struct analysis_result *r) {
    const struct analysis_holdout *h = &r->holdout;
    return h->done && isfinite(h->auc_suggested) && h->auc_suggested < h->auc_current;
}

enum tend_err analysis_export(const struct analysis_result *r, const char *path, char *err) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, STATS_ERR_BYTES, "%s: cannot write: %m", path);
        return TEND_ERR_IO;
    }
    fputs("account_id,outcome_date,churned", f);
    for (size_t j = 0; j < r->n_features; j++)
        fprintf(f, ",%s", r->names[j]);
    fputc('\n', f);
    for (size_t i = 0; i < r->n_rows; i++) {
        char date[16];
        dt_format_date(r->rows[i].outcome_day, date);
        /* Account ids are the customer's; quote them as CSV wants. */
        fputc('"', f);
        for (const char *p = r->rows[i].account_id; *p; p++) {
            if (*p == '"')
                fputc('"', f);
            fputc(*p, f);
        }
        fprintf(f, "\",%s,%d", date, r->rows[i].churned ? 1 : 0);
        for (size_t j = 0; j < r->n_features; j++)
            fprintf(f, ",%.17g", r->rows[i].x[j]);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        snprintf(err, STATS_ERR_BYTES, "%s: write failed: %m", path);
        return TEND_ERR_IO;
    }
    return TEND_OK;
}

/* ---- churn reasons ------------------------------------------------------------ */

struct reasons_acc {
    struct analysis_reasons *r;
    size_t cap;
};

static void on_churn(void *arg, const struct store_outcome *o) {
    struct reasons_acc *a = arg;
    struct analysis_reasons *r = a->r;
    if (!o->churned)
        return;
    const char *reason = o->reason && *o->reason ? o->reason : "(none given)";
    double arr = 0;
    if (o->has_arr && o->arr > 0)
        arr = o->arr;
    else if (o->has_mrr && o->mrr > 0) {
        arr = 12 * o->mrr;
        r->arr_from_mrr++;
    }
    size_t i = 0;
    while (i < r->n && strcmp(r->v[i].reason, reason) != 0)
        i++;
    if (i == r->n) {
        if (r->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 16;
            r->v = xrealloc(r->v, a->cap * sizeof *r->v);
        }
        r->v[r->n++] = (struct analysis_reason){.reason = xstrdup(reason)};
    }
    r->v[i].churned++;
    r->v[i].lost_arr += arr;
    int32_t day = dt_day_of_ms(o->ts_ms);
    if (!r->churned || day < r->first_day)
        r->first_day = day;
    if (!r->churned || day > r->last_day)
        r->last_day = day;
    r->churned++;
    r->lost_arr += arr;
}

static int by_lost_arr(const void *x, const void *y) {
    const struct analysis_reason *a = x, *b = y;
    if (a->lost_arr != b->lost_arr)
        return a->lost_arr > b->lost_arr ? -1 : 1;
    if (a->churned != b->churned)
        return a->churned > b->churned ? -1 : 1;
    return strcmp(a->reason, b->reason);
}

enum tend_err analysis_reasons(struct store *s, int32_t from, int32_t to,
                               struct analysis_reasons *out) {
    memset(out, 0, sizeof *out);
    struct reasons_acc a = {.r = out};
    enum tend_err err = store_outcomes_each(s, (int64_t)from * DT_MS_PER_DAY,
                                            (int64_t)(to + 1) * DT_MS_PER_DAY, on_churn, &a);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, by_lost_arr);
    double cumulative = 0;
    for (size_t i = 0; i < out->n; i++) {
        out->v[i].share = out->lost_arr > 0 ? out->v[i].lost_arr / out->lost_arr : 0;
        cumulative += out->v[i].share;
        out->v[i].cumulative = cumulative;
    }
    return err;
}

void analysis_reasons_free(struct analysis_reasons *r) {
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].reason);
    free(r->v);
    memset(r, 0, sizeof *r);
}

/* ---- shared with survival and cohorts ------------------------------------------ */

size_t analysis_metric_names(const char *const **names) {
    *names = metric_features;
    return sizeof metric_features / sizeof *metric_features;
}
