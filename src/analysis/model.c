/* model.c: the snapshots, their labels, the time split, the fits, the
 * comparison with the adopted model and the scheduled refit of tend model fit
 * (see model.h; the card, storing and the export are in model_card.c). */
#include "analysis/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analyze.h"
#include "eval/eval.h"
#include "stats/logit.h"
#include "util/datetime.h"
#include "util/mem.h"
#include "util/yaml.h"

/* The penalties tried by cross-validation (scikit-learn's C: smaller is a
 * stronger penalty), on standardised columns. */
static const double model_cs[] = {0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0};

/* ---- the model: section --------------------------------------------------------------- */

void model_config_default(struct model_config *c) {
    c->refit_days = 7;
    c->horizon_days = MODEL_HORIZON_DAYS;
}

enum tend_err model_config_load(const cJSON *section, struct model_config *c, char *err,
                                size_t size) {
    model_config_default(c);
    if (!section)
        return TEND_OK;
    if (!cJSON_IsObject(section))
        return yaml_error(err, size, "model", "must be a mapping (refit_days, horizon_days)");
    static const char *const keys[] = {"refit_days", "horizon_days", NULL};
    enum tend_err e = yaml_known_keys(section, "model", keys, err, size);
    if (e)
        return e;
    static const struct {
        const char *key;
        int max;
    } limits[] = {{"refit_days", 365}, {"horizon_days", 730}};
    int *dst[] = {&c->refit_days, &c->horizon_days};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(section, limits[i].key);
        if (!v)
            continue;
        char path[32];
        snprintf(path, sizeof path, "model.%s", limits[i].key);
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
            v->valuedouble > limits[i].max)
            return yaml_error(err, size, path, "must be a whole number of days from 1 to %d",
                              limits[i].max);
        *dst[i] = (int)v->valuedouble;
    }
    return TEND_OK;
}

/* ---- labels and the split (pure) ------------------------------------------------ */

void model_label_row(struct model_row *r, const int32_t *churn_days, size_t n, int horizon,
                     int32_t end) {
    r->churned = false;
    r->churn_day = 0;
    if (r->day + horizon > end) {
        r->role = MR_UNLABELLED;
        return;
    }
    r->role = MR_GAP; /* labelled; model_split decides */
    for (size_t i = 0; i < n; i++) {
        if (churn_days[i] > r->day && churn_days[i] <= r->day + horizon) {
            r->churned = true;
            r->churn_day = churn_days[i];
            return;
        }
    }
}

static int cmp_day(const void *x, const void *y) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

int32_t model_split(struct model_row *rows, size_t n, int horizon, double test_share, int n_folds) {
    int32_t *days = xmalloc((n ? n : 1) * sizeof *days);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].role != MR_UNLABELLED)
            days[k++] = rows[i].day;
    qsort(days, k, sizeof *days, cmp_day);
    size_t d = 0; /* distinct */
    for (size_t i = 0; i < k; i++)
        if (d == 0 || days[i] != days[d - 1])
            days[d++] = days[i];
    if (d == 0) {
        free(days);
        return 0;
    }
    size_t n_test = (size_t)ceil((double)d * test_share);
    if (n_test < 1)
        n_test = 1;
    if (n_test > d)
        n_test = d;
    int32_t cut = days[d - n_test];
    /* The training days, for the folds. */
    size_t n_train_days = 0;
    for (size_t i = 0; i < d; i++)
        if (days[i] + horizon < cut)
            n_train_days++;
    for (size_t i = 0; i < n; i++) {
        struct model_row *r = &rows[i];
        if (r->role == MR_UNLABELLED)
            continue;
        if (r->day >= cut) {
            r->role = MR_TEST;
        } else if (r->day + horizon < cut) {
            r->role = MR_TRAIN;
            /* The rank of its day among the training days, into n_folds
             * groups of consecutive days. */
            size_t rank = 0;
            while (days[rank] != r->day)
                rank++;
            r->fold = (int)(rank * (size_t)n_folds / (n_train_days ? n_train_days : 1));
        } else {
            r->role = MR_GAP;
        }
    }
    free(days);
    return cut;
}

/* ---- sampling accounts (pure) ------------------------------------------------------ */

uint64_t model_account_hash(const char *external_id) {
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)external_id; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    /* FNV's high bits barely move between ids that differ in their last
     * characters ("acct-0001", "acct-0002"): mix every bit into every other
     * (MurmurHash3's 64-bit finaliser) so that the smallest hashes are a
     * spread of the accounts, not a run of neighbours. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

struct hashed {
    uint64_t hash;
    int64_t id;
    size_t at;
};

static int by_hash(const void *x, const void *y) {
    const struct hashed *a = x, *b = y;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

size_t model_sample(const uint64_t *hash, const int64_t *id, size_t n, size_t days, size_t max_rows,
                    bool *keep) {
    size_t k = days == 0 || n * days <= max_rows ? n : max_rows / days;
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    struct hashed *h = xmalloc((n ? n : 1) * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = (struct hashed){hash[i], id[i], i};
    qsort(h, n, sizeof *h, by_hash);
    for (size_t i = 0; i < n; i++)
        keep[h[i].at] = i < k;
    free(h);
    return k;
}

/* ---- gathering the snapshots ------------------------------------------------------ */

struct churn {
    int64_t account_id;
    int32_t day;
};

struct gather {
    struct model_result *r;
    /* first seen by internal id */
    int64_t *first_seen;
    size_t first_len;
    struct churn *churns; /* by account, then day */
    size_t n_churns, cap_churns;
    int32_t *churn_days; /* scratch */
    int32_t day;
    int64_t t_ms;
    size_t cap_rows, max_rows;
    int64_t accounts;
    /* Every account's hash and id, for the sample. */
    uint64_t *hash;
    int64_t *ids;
    size_t n_ids, cap_ids;
};

static int on_brief(void *arg, const struct store_account_row *row) {
    struct gather *g = arg;
    if ((size_t)row->id >= g->first_len) {
        size_t len = g->first_len ? g->first_len : 1024;
        while (len <= (size_t)row->id)
            len *= 2;
        g->first_seen = xrealloc(g->first_seen, len * sizeof *g->first_seen);
        for (size_t i = g->first_len; i < len; i++)
            g->first_seen[i] = INT64_MAX;
        g->first_len = len;
    }
    g->first_seen[row->id] = row->first_seen_ms;
    g->accounts++;
    if (g->n_ids == g->cap_ids) {
        g->cap_ids = g->cap_ids ? g->cap_ids * 2 : 1024;
        g->hash = xrealloc(g->hash, g->cap_ids * sizeof *g->hash);
        g->ids = xrealloc(g->ids, g->cap_ids * sizeof *g->ids);
    }
    g->hash[g->n_ids] = model_account_hash(row->external_id);
    g->ids[g->n_ids++] = row->id;
    return 0;
}

static void on_outcome(void *arg, const struct store_outcome *o) {
    struct gather *g = arg;
    if (!o->churned)
        return;
    if (g->n_churns == g->cap_churns) {
        g->cap_churns = g->cap_churns ? g->cap_churns * 2 : 256;
        g->churns = xrealloc(g->churns, g->cap_churns * sizeof *g->churns);
    }
    g->churns[g->n_churns++] = (struct churn){o->account_id, dt_day_of_ms(o->ts_ms)};
}

static int by_account_day(const void *x, const void *y) {
    const struct churn *a = x, *b = y;
    if (a->account_id != b->account_id)
        return a->account_id < b->account_id ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

static int on_snapshot(void *arg, int64_t id, const char *account_id, const struct metrics *m) {
    struct gather *g = arg;
    struct model_result *r = g->r;
    if (m->churned || id < 0 || (size_t)id >= g->first_len)
        return 0; /* not a customer on the day */
    int64_t first = g->first_seen[id];
    if (first == INT64_MAX || g->t_ms - first < (int64_t)ANALYSIS_MIN_HISTORY_DAYS * DT_MS_PER_DAY)
        return 0; /* not sampled, or too new */
    if (r->n_all == g->max_rows)
        return 1; /* cannot happen: the sample was chosen to fit */
    if (r->n_all == g->cap_rows) {
        g->cap_rows = g->cap_rows ? g->cap_rows * 2 : 4096;
        r->rows = xrealloc(r->rows, g->cap_rows * sizeof *r->rows);
    }
    struct model_row *row = &r->rows[r->n_all++];
    memset(row, 0, sizeof *row);
    row->day = g->day;
    row->account_id = id;
    struct health_score h;
    health_compute(r->o.hc, m, &h);
    row->has_health = h.has_score;
    row->health = h.overall;
    risk_inputs(m, &h, first, g->t_ms, row->raw);
    /* The account's churn days. */
    struct churn key = {id, INT32_MIN};
    size_t lo = 0, hi = g->n_churns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (by_account_day(&g->churns[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t n = 0;
    for (size_t i = lo; i < g->n_churns && g->churns[i].account_id == id; i++)
        g->churn_days[n++] = g->churns[i].day;
    model_label_row(row, g->churn_days, n, r->o.horizon_days, r->data_end);
    return 0;
}

static enum tend_err gather(struct store *s, struct model_result *r, char *err) {
    struct gather g = {.r = r, .max_rows = r->o.max_rows ? r->o.max_rows : MODEL_MAX_ROWS};
    enum tend_err e = store_accounts_brief_each(s, on_brief, &g);
    if (!e)
        e = store_outcomes_each(s, 0, (int64_t)(r->data_end + 1) * DT_MS_PER_DAY, on_outcome, &g);
    if (!e && g.n_churns)
        qsort(g.churns, g.n_churns, sizeof *g.churns, by_account_day);
    g.churn_days = xmalloc((g.n_churns ? g.n_churns : 1) * sizeof *g.churn_days);
    /* Snapshot days: data_end - k x step (k = 0, 1, ...), the labelled ones
     * those whose horizon ends within the data (k x step >= horizon); a wider
     * step when accounts x days would pass the cap. */
    int64_t earliest = INT64_MAX;
    for (size_t i = 0; i < g.first_len; i++)
        if (g.first_seen[i] < earliest)
            earliest = g.first_seen[i];
    int32_t first =
        earliest == INT64_MAX ? INT32_MAX : dt_day_of_ms(earliest) + ANALYSIS_MIN_HISTORY_DAYS;
    r->step_days = MODEL_STEP_DAYS;
    int k_steps = (r->o.horizon_days + r->step_days - 1) / r->step_days;
    int32_t last = r->data_end - k_steps * r->step_days;
    /* Too many accounts x days: every snapshot day stays (the folds need
     * them) and a sample of the accounts is taken. */
    size_t n_days = last < first ? 0 : (size_t)((last - first) / r->step_days + 1);
    bool *keep = xmalloc((g.n_ids ? g.n_ids : 1) * sizeof *keep);
    r->n_accounts = g.n_ids;
    r->n_sampled = model_sample(g.hash, g.ids, g.n_ids, n_days, g.max_rows, keep);
    for (size_t i = 0; i < g.n_ids; i++)
        if (!keep[i])
            g.first_seen[g.ids[i]] = INT64_MAX;
    free(keep);
    if (!e && last < first) {
        char end[16];
        dt_format_date(r->data_end, end);
        snprintf(err, STATS_ERR_BYTES,
                 "too little data: no snapshot day has both %d days of an account's history "
                 "and a %d-day horizon inside the data (up to %s)",
                 ANALYSIS_MIN_HISTORY_DAYS, r->o.horizon_days, end);
        e = TEND_ERR_INVALID;
    }
    int32_t start = e ? last + 1 : last - (last - first) / r->step_days * r->step_days;
    for (int32_t day = start; !e && day <= last; day += r->step_days) {
        g.day = day;
        g.t_ms = (int64_t)(day + 1) * DT_MS_PER_DAY;
        e = eval_metrics(s, g.t_ms, NULL, on_snapshot, &g);
    }
    /* Censored: the snapshot days after last, which would have no full horizon. */
    for (int32_t day = last + r->step_days; day <= r->data_end; day += r->step_days)
        r->n_censored++;
    free(g.first_seen);
    free(g.churns);
    free(g.churn_days);
    free(g.hash);
    free(g.ids);
    return e;
}

/* ---- fitting ------------------------------------------------------------------------ */

/* The rows of r with role (or every labelled row when role is MR_UNLABELLED),
 * fold < fold_lt and fold == fold_eq (each when >= 0) and day + horizon <
 * label_before (the gap: a row whose label window reaches label_before is
 * left out) as model inputs (n x n_in) and labels, into x and y (malloced). */
static size_t pick(const struct model_result *r, const struct risk_model *mo, enum model_role role,
                   int fold_lt, int fold_eq, int32_t label_before, double **x, double **y,
                   size_t **index) {
    size_t n = 0, k = mo->recipe.n_in;
    *x = xmalloc((r->n_all ? r->n_all : 1) * k * sizeof **x);
    *y = xmalloc((r->n_all ? r->n_all : 1) * sizeof **y);
    if (index)
        *index = xmalloc((r->n_all ? r->n_all : 1) * sizeof **index);
    for (size_t i = 0; i < r->n_all; i++) {
        const struct model_row *row = &r->rows[i];
        bool take = role == MR_UNLABELLED ? row->role != MR_UNLABELLED : row->role == role;
        if (take && fold_lt >= 0)
            take = row->fold < fold_lt;
        if (take && fold_eq >= 0)
            take = row->fold == fold_eq;
        if (take && label_before != INT32_MAX)
            take = (int64_t)row->day + r->o.horizon_days < label_before;
        if (!take)
            continue;
        risk_model_row(mo, row->raw, *x + n * k);
        (*y)[n] = row->churned;
        if (index)
            (*index)[n] = i;
        n++;
    }
    return n;
}

/* The recipe of model mo (its inputs set) fitted on n rows x. */
static enum tend_err fit_recipe(struct risk_model *mo, const double *x, size_t n, char *err) {
    struct stats_xform_col cols[RISK_MAX_COLUMNS];
    for (size_t j = 0; j < mo->recipe.n_in; j++)
        cols[j] =
            (struct stats_xform_col){risk_input_name((enum risk_input)mo->input_of[j]),
                                     risk_input_xform((enum risk_input)mo->input_of[j]), true};
    size_t n_in = mo->recipe.n_in;
    enum tend_err e = stats_recipe_fit(cols, n_in, x, n, &mo->recipe, err);
    mo->recipe.n_in = n_in;
    return e;
}

/* Column names of the recipe's output, for stats_data (static buffer per
 * call site: names[j] points into buf). */
static void out_names(const struct stats_recipe *rc, char (*buf)[STATS_RECIPE_NAME_BYTES + 16],
                      const char **names) {
    for (size_t j = 0; j < rc->n_out; j++)
        names[j] = stats_recipe_name(rc, j, buf[j]);
}

/* Fits mo's coefficients (recipe already fitted) on n rows x (raw inputs)
 * with labels y and penalty c; the fit into *fit when not NULL. */
static enum tend_err fit_coefs(struct risk_model *mo, const double *x, const double *y, size_t n,
                               double c, struct stats_fit *fit_out, char *err) {
    size_t k = mo->recipe.n_out;
    double *z = xmalloc((n ? n : 1) * k * sizeof *z);
    stats_recipe_apply_rows(&mo->recipe, x, n, z);
    char buf[RISK_MAX_COLUMNS][STATS_RECIPE_NAME_BYTES + 16];
    const char *names[RISK_MAX_COLUMNS];
    out_names(&mo->recipe, buf, names);
    struct stats_data d = {.n = n, .k = k, .x = z, .y = y, .names = names};
    struct stats_fit fit = {0};
    enum tend_err e = stats_ridge_fit(&d, c, &fit, err);
    if (!e) {
        mo->intercept = fit.coefs[0].coef;
        for (size_t j = 0; j < k; j++)
            mo->coef[j] = fit.coefs[j + 1].coef;
    }
    if (!e && fit_out)
        *fit_out = fit;
    else
        stats_fit_free(&fit);
    free(z);
    return e;
}

static double log_odds(const struct risk_model *mo, const double *row_raw_inputs) {
    double z[2 * RISK_MAX_COLUMNS];
    stats_recipe_apply(&mo->recipe, row_raw_inputs, z);
    double lo = mo->intercept;
    for (size_t j = 0; j < mo->recipe.n_out; j++)
        lo += mo->coef[j] * z[j];
    return lo;
}

enum tend_err model_platt(const double *s, const double *y, size_t n, struct stats_platt *out,
                          char *why, size_t size) {
    char err[STATS_ERR_BYTES];
    why[0] = 0;
    if (stats_platt_fit(s, y, n, out, err) == TEND_OK)
        return TEND_OK;
    /* No maximum (the scores separate the outcomes) or a degenerate fold:
     * the model's own probabilities, which its penalised fit already keeps
     * from the extremes. */
    *out = (struct stats_platt){.a = 1, .b = 0};
    snprintf(why, size, "identity: the calibration rows could not be fitted (%s)", err);
    return TEND_OK;
}

/* Platt calibration of mo: a model with mo's recipe and penalty fitted on
 * the rows of role with fold < last whose label window ends before fold last
 * starts (the same gap as the split's), scored on fold == last (out of
 * fold). r->calibration says how it ended (model_platt). */
static enum tend_err calibrate(struct model_result *r, struct risk_model *mo, enum model_role role,
                               int last, char *err) {
    struct risk_model early = *mo;
    r->calibration_why[0] = 0;
    double *x, *y, *xc, *yc;
    size_t *idx;
    size_t nc = pick(r, mo, role, -1, last, INT32_MAX, &xc, &yc, &idx);
    int32_t first = INT32_MAX;
    for (size_t i = 0; i < nc; i++)
        if (r->rows[idx[i]].day < first)
            first = r->rows[idx[i]].day;
    free(idx);
    size_t n = pick(r, mo, role, last, -1, first, &x, &y, NULL);
    enum tend_err e = TEND_OK;
    size_t ev = 0, evc = 0;
    for (size_t i = 0; i < n; i++)
        ev += y[i] != 0;
    for (size_t i = 0; i < nc; i++)
        evc += yc[i] != 0;
    if (ev == 0 || ev == n || evc == 0 || evc == nc) {
        /* Too little history for a calibration fold with the gap before it
         * (a year of data and a 90-day horizon leave none for the
         * validation model): the model's own probabilities, said. */
        mo->platt = (struct stats_platt){.a = 1, .b = 0};
        snprintf(r->calibration_why, sizeof r->calibration_why,
                 "identity: no calibration fold: the latest fold has %zu rows (%zu churned), "
                 "the rows before it whose horizon ends before it %zu (%zu churned); both need "
                 "churned and retained rows",
                 nc, evc, n, ev);
    } else {
        e = fit_coefs(&early, x, y, n, r->c, NULL, err);
    }
    if (!e && !r->calibration_why[0]) {
        size_t k = mo->recipe.n_in;
        double *s = xmalloc(nc * sizeof *s);
        for (size_t i = 0; i < nc; i++)
            s[i] = log_odds(&early, xc + i * k);
        e = model_platt(s, yc, nc, &mo->platt, r->calibration_why, sizeof r->calibration_why);
        free(s);
    }
    free(x);
    free(y);
    free(xc);
    free(yc);
    return e;
}

static void model_inputs(struct risk_model *mo, const struct model_options *o) {
    memset(mo, 0, sizeof *mo);
    mo->horizon_days = o->horizon_days;
    mo->features = o->features;
    for (int i = 0; i < RI_COUNT; i++)
        if (risk_input_used(o->features, (enum risk_input)i))
            mo->input_of[mo->recipe.n_in++] = i;
}

static size_t distinct_days(const double *t, size_t n) {
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || t[i] != t[i - 1])
            d++;
    return d;
}

static size_t distinct_churns(const struct model_result *r) {
    /* (account, churn day) pairs of churned labelled rows; rows are in day
     * order, so sort a copy. */
    struct churn *c = xmalloc((r->n_all ? r->n_all : 1) * sizeof *c);
    size_t n = 0, d = 0;
    for (size_t i = 0; i < r->n_all; i++)
        if (r->rows[i].role != MR_UNLABELLED && r->rows[i].churned)
            c[n++] = (struct churn){r->rows[i].account_id, r->rows[i].churn_day};
    qsort(c, n, sizeof *c, by_account_day);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || by_account_day(&c[i], &c[i - 1]) != 0)
            d++;
    free(c);
    return d;
}

/* True when some split f of the n rows (fold, day t, label y) has training
 * rows (fold < f, t + horizon < fold f's first day) with both outcomes: what
 * stats_ridge_cv_gap needs. */
static bool cv_feasible(const int *fold, const double *t, const double *y, size_t n, int n_folds,
                        int horizon) {
    for (int f = 1; f < n_folds; f++) {
        double start = INFINITY;
        for (size_t i = 0; i < n; i++)
            if (fold[i] == f && t[i] < start)
                start = t[i];
        size_t m = 0, ev = 0;
        for (size_t i = 0; i < n; i++)
            if (fold[i] < f && t[i] + horizon < start) {
                m++;
                ev += y[i] != 0;
            }
        if (isfinite(start) && ev > 0 && ev < m)
            return true;
    }
    return false;
}

static enum tend_err validate(struct model_result *r, char *err) {
    struct risk_model *mo = &r->eval_model;
    model_inputs(mo, &r->o);
    double *x, *y;
    size_t n = pick(r, mo, MR_TRAIN, -1, -1, INT32_MAX, &x, &y, NULL);
    enum tend_err e = fit_recipe(mo, x, n, err);
    int *fold = xmalloc((n ? n : 1) * sizeof *fold);
    double *t = xmalloc((n ? n : 1) * sizeof *t);
    double *z = NULL;
    int max_fold = 0;
    for (size_t i = 0, j = 0; i < r->n_all; i++)
        if (r->rows[i].role == MR_TRAIN) {
            t[j] = r->rows[i].day;
            fold[j++] = r->rows[i].fold;
            if (r->rows[i].fold > max_fold)
                max_fold = r->rows[i].fold;
        }
    if (!e) {
        size_t k = mo->recipe.n_out;
        z = xmalloc((n ? n : 1) * k * sizeof *z);
        stats_recipe_apply_rows(&mo->recipe, x, n, z);
        char buf[RISK_MAX_COLUMNS][STATS_RECIPE_NAME_BYTES + 16];
        const char *names[RISK_MAX_COLUMNS];
        out_names(&mo->recipe, buf, names);
        struct stats_data d = {.n = n, .k = k, .x = z, .y = y, .names = names};
        r->n_cs = sizeof model_cs / sizeof model_cs[0];
        memcpy(r->cs, model_cs, sizeof model_cs);
        /* The gap: a training row's label window must end before the
         * validation fold's first day, as the split's training rows end
         * before the cut. Too short a history for any such split: the
         * default penalty, said in the card. */
        if (cv_feasible(fold, t, y, n, max_fold + 1, r->o.horizon_days)) {
            e = stats_ridge_cv_gap(&d, fold, max_fold + 1, t, r->o.horizon_days, r->cs, r->n_cs,
                                   &r->c, r->cv_loss, err);
        } else {
            r->c = MODEL_DEFAULT_C;
            for (size_t j = 0; j < r->n_cs; j++)
                r->cv_loss[j] = NAN;
            snprintf(r->c_why, sizeof r->c_why,
                     "default: no cross-validation split has training rows whose %d-day "
                     "horizon ends before its validation fold (the training rows span %zu "
                     "snapshot days; a longer history allows one)",
                     r->o.horizon_days, distinct_days(t, n));
        }
    }
    if (!e)
        e = fit_coefs(mo, x, y, n, r->c, NULL, err);
    if (!e)
        e = calibrate(r, mo, MR_TRAIN, max_fold, err);
    snprintf(r->calibration_holdout_why, sizeof r->calibration_holdout_why, "%s",
             r->calibration_why);
    free(x);
    free(y);
    free(z);
    free(fold);
    free(t);
    if (e)
        return e;
    /* The test rows. */
    size_t *idx;
    size_t nt = pick(r, mo, MR_TEST, -1, -1, INT32_MAX, &x, &y, &idx);
    double *p = xmalloc((nt ? nt : 1) * sizeof *p), *hr = xmalloc((nt ? nt : 1) * sizeof *hr);
    double base = 0;
    for (size_t i = 0; i < nt; i++) {
        p[i] = stats_platt_apply(&mo->platt, log_odds(mo, x + i * mo->recipe.n_in));
        const struct model_row *row = &r->rows[idx[i]];
        /* The health score's risk; an account without a score ranks in the middle. */
        hr[i] = row->has_health ? 100 - row->health : 50;
        base += y[i];
    }
    r->auc_holdout = stats_auc(p, y, nt);
    r->brier_holdout = stats_brier(p, y, nt);
    r->auc_health = stats_auc(hr, y, nt);
    base = nt ? base / (double)nt : NAN;
    for (size_t i = 0; i < nt; i++)
        hr[i] = base;
    r->brier_base = stats_brier(hr, y, nt);
    r->n_bins = stats_calibration(p, y, nt, MODEL_BINS, r->calib);
    free(p);
    free(hr);
    free(x);
    free(y);
    free(idx);
    return TEND_OK;
}

static enum tend_err produce(struct model_result *r, char *err) {
    struct risk_model *mo = &r->model;
    model_inputs(mo, &r->o);
    /* Folds over every labelled row, by day, for the calibration. */
    int32_t *days = xmalloc((r->n_all ? r->n_all : 1) * sizeof *days);
    size_t d = 0;
    for (size_t i = 0; i < r->n_all; i++)
        if (r->rows[i].role != MR_UNLABELLED && (d == 0 || days[d - 1] != r->rows[i].day))
            days[d++] = r->rows[i].day;
    int *saved = xmalloc((r->n_all ? r->n_all : 1) * sizeof *saved);
    for (size_t i = 0, k = 0; i < r->n_all; i++) {
        saved[i] = r->rows[i].fold;
        if (r->rows[i].role == MR_UNLABELLED)
            continue;
        while (days[k] != r->rows[i].day)
            k++;
        r->rows[i].fold = (int)(k * MODEL_FOLDS / d);
    }
    double *x, *y;
    size_t n = pick(r, mo, MR_UNLABELLED, -1, -1, INT32_MAX, &x, &y, NULL);
    enum tend_err e = fit_recipe(mo, x, n, err);
    if (!e)
        e = fit_coefs(mo, x, y, n, r->c, &r->fit, err);
    if (!e)
        e = calibrate(r, mo, MR_UNLABELLED, MODEL_FOLDS - 1, err);
    for (size_t i = 0; i < r->n_all; i++)
        r->rows[i].fold = saved[i];
    free(saved);
    free(days);
    free(x);
    free(y);
    return e;
}

enum tend_err model_fit(struct store *s, const struct model_options *o, struct model_result *out,
                        char *err) {
    memset(out, 0, sizeof *out);
    out->o = *o;
    out->auc_current = out->auc_new = NAN;
    snprintf(out->health_version, sizeof out->health_version, "%s", o->hc->version);
    enum tend_err e = TEND_OK;
    if (o->to) {
        out->data_end = o->to;
    } else {
        bool found;
        e = store_last_event_day(s, &out->data_end, &found);
        if (!e && !found) {
            snprintf(err, STATS_ERR_BYTES, "too little data: no events stored");
            return TEND_ERR_INVALID;
        }
    }
    if (!e)
        e = gather(s, out, err);
    if (e)
        return e;
    out->cut_day =
        model_split(out->rows, out->n_all, o->horizon_days, MODEL_TEST_SHARE, MODEL_FOLDS);
    out->first_day = INT32_MAX;
    for (size_t i = 0; i < out->n_all; i++) {
        const struct model_row *r = &out->rows[i];
        if (r->role == MR_UNLABELLED)
            continue;
        out->n_rows++;
        out->n_positive += r->churned;
        if (r->day < out->first_day)
            out->first_day = r->day;
        if (r->day > out->last_day)
            out->last_day = r->day;
        if (r->role == MR_TRAIN) {
            out->n_train++;
            out->train_pos += r->churned;
        } else if (r->role == MR_TEST) {
            out->n_test++;
            out->test_pos += r->churned;
        } else {
            out->n_gap++;
        }
    }
    out->n_churns = distinct_churns(out);
    char from[16] = "-", to[16] = "-";
    if (out->n_rows) {
        dt_format_date(out->first_day, from);
        dt_format_date(out->last_day, to);
    }
    if (out->n_churns < MODEL_MIN_CHURNS) {
        snprintf(err, STATS_ERR_BYTES,
                 "too little data: %zu churns (Account Churned) within %d days of the %zu "
                 "labelled snapshots from %s to %s; the model needs at least %d (more history, "
                 "or a shorter --horizon)",
                 out->n_churns, o->horizon_days, out->n_rows, from, to, MODEL_MIN_CHURNS);
        return TEND_ERR_INVALID;
    }
    if (out->train_pos == 0 || out->train_pos == out->n_train || out->test_pos == 0 ||
        out->test_pos == out->n_test) {
        char cut[16];
        dt_format_date(out->cut_day, cut);
        snprintf(err, STATS_ERR_BYTES,
                 "too little data: the training rows (horizon ending before %s) have %zu rows, "
                 "%zu churned; the test rows (from %s) %zu rows, %zu churned; each part needs "
                 "churned and retained rows (more history, or a shorter --horizon)",
                 cut, out->n_train, out->train_pos, cut, out->n_test, out->test_pos);
        return TEND_ERR_INVALID;
    }
    if ((e = validate(out, err)))
        return e;
    if ((e = produce(out, err)))
        return e;
    /* The adopted model, if any, on the test rows it never saw. */
    struct risk_model *cur = NULL;
    e = risk_model_load_adopted(s, &cur);
    if (e == TEND_ERR_INVALID) { /* unreadable: this fit replaces it */
        out->has_current = true;
        out->basis = MB_UNREADABLE;
        e = TEND_OK;
    }
    if (e)
        return e;
    if (cur) {
        model_compare(out, cur);
        free(cur);
    }
    return TEND_OK;
}

void model_result_free(struct model_result *r) {
    free(r->rows);
    stats_fit_free(&r->fit);
    memset(r, 0, sizeof *r);
}

void model_compare(struct model_result *r, const struct risk_model *cur) {
    r->has_current = true;
    r->current_version = cur->version;
    r->current_horizon = cur->horizon_days;
    r->current_data_end = cur->data_end;
    r->cmp_rows = r->cmp_churned = 0;
    r->auc_new = r->auc_current = NAN;
    r->basis = MB_TOO_FEW;
    if (cur->horizon_days != r->o.horizon_days) {
        r->basis = MB_HORIZON;
        return;
    }
    /* The challenger: this fit's inputs, transforms and penalty fitted on the
     * rows whose label window ends within the adopted model's data (day +
     * horizon <= its data_end), so that both sides know the same past and
     * the comparison is of the models, not of how recent their data are
     * (this fit's own model has seen the comparison rows; its validation
     * model is months older than the adopted one). */
    struct risk_model ch;
    model_inputs(&ch, &r->o);
    double *x, *y;
    int32_t before = cur->data_end == INT32_MAX ? INT32_MAX : cur->data_end + 1;
    size_t n = pick(r, &ch, MR_UNLABELLED, -1, -1, before, &x, &y, NULL);
    size_t ev = 0;
    for (size_t i = 0; i < n; i++)
        ev += y[i] != 0;
    char err[STATS_ERR_BYTES];
    bool fitted = ev > 0 && ev < n && fit_recipe(&ch, x, n, err) == TEND_OK &&
                  fit_coefs(&ch, x, y, n, r->c, NULL, err) == TEND_OK;
    free(x);
    free(y);
    /* The rows neither saw as labels: day + horizon after the adopted
     * model's data end. */
    double *pn = xmalloc((r->n_all ? r->n_all : 1) * sizeof *pn);
    double *pc = xmalloc((r->n_all ? r->n_all : 1) * sizeof *pc);
    double *yy = xmalloc((r->n_all ? r->n_all : 1) * sizeof *yy);
    double row[RISK_MAX_COLUMNS];
    size_t m = 0;
    for (size_t i = 0; i < r->n_all; i++) {
        const struct model_row *w = &r->rows[i];
        if (w->role == MR_UNLABELLED || (int64_t)w->day + r->o.horizon_days <= cur->data_end)
            continue;
        if (fitted) {
            risk_model_row(&ch, w->raw, row);
            pn[m] = log_odds(&ch, row);
        }
        risk_model_row(cur, w->raw, row);
        pc[m] = log_odds(cur, row);
        yy[m] = w->churned;
        r->cmp_churned += w->churned;
        m++;
    }
    r->cmp_rows = m;
    if (fitted && r->cmp_churned >= MODEL_MIN_CHURNS && r->cmp_churned < m) {
        r->basis = MB_ROWS;
        r->auc_new = stats_auc(pn, yy, m);
        r->auc_current = stats_auc(pc, yy, m);
    }
    free(pn);
    free(pc);
    free(yy);
}

bool model_adopt(const struct model_result *r, bool explicit_fit, const char **why) {
    if (!r->has_current) {
        *why = "the first model";
        return true;
    }
    switch (r->basis) {
    case MB_NONE:
    case MB_UNREADABLE:
        *why = "the adopted model's card cannot be read: this one replaces it";
        return true;
    case MB_HORIZON:
        *why = explicit_fit ? "another horizon than the adopted model's: not compared; adopted "
                              "because tend model fit asked for it"
                            : "another horizon than the adopted model's: not compared; a "
                              "scheduled refit does not replace it (tend model fit does)";
        return explicit_fit;
    case MB_ROWS:
        if (r->auc_new < r->auc_current) {
            *why = "its AUC is below the adopted model's on the rows the adopted model never saw";
            return false;
        }
        *why = "its AUC is not below the adopted model's on the rows the adopted model never saw";
        return true;
    case MB_TOO_FEW:
        if (r->data_end > r->current_data_end) {
            *why = "too few rows the adopted model never saw to compare on: the newer data win";
            return true;
        }
        *why = "too few rows the adopted model never saw to compare on, and its data are not "
               "newer than the adopted model's";
        return false;
    }
    return false;
}

/* ---- the scheduled refit ------------------------------------------------------------ */

static void on_latest(void *arg, const struct store_model *m) {
    int64_t *latest = arg;
    if (m->fitted_ms > *latest)
        *latest = m->fitted_ms;
}

enum tend_err model_refit(struct store *s, const struct model_config *mc,
                          const struct health_config *hc, int64_t now_ms, bool *ran, char *msg,
                          size_t size) {
    *ran = false;
    int64_t latest = INT64_MIN;
    enum tend_err e = store_models_each(s, on_latest, &latest);
    if (e)
        return e;
    if (latest != INT64_MIN && now_ms - latest < (int64_t)mc->refit_days * DT_MS_PER_DAY)
        return TEND_OK;
    *ran = true;
    struct model_options o = {.horizon_days = mc->horizon_days, .features = RISK_F_BOTH, .hc = hc};
    struct model_result r;
    char err[STATS_ERR_BYTES];
    e = model_fit(s, &o, &r, err);
    if (e == TEND_ERR_INVALID) {
        snprintf(msg, size, "model refit: not fitted: %s", err);
        model_result_free(&r);
        return TEND_OK;
    }
    int64_t version = 0;
    bool adopted = false;
    if (!e)
        e = model_store(s, &r, now_ms, false, &version, &adopted);
    const char *why = "";
    if (!e)
        model_adopt(&r, false, &why);
    if (!e) {
        int n = snprintf(msg, size,
                         "model refit: v%lld fitted and %s: %s; held-out AUC %.3f (health score "
                         "%.3f), %zu rows, %zu churns",
                         (long long)version, adopted ? "adopted" : "not adopted", why,
                         r.auc_holdout, r.auc_health, r.n_rows, r.n_churns);
        if (r.basis == MB_ROWS && n > 0 && (size_t)n < size)
            snprintf(msg + n, size - (size_t)n,
                     "; against v%lld on the %zu rows it never saw (%zu churned): AUC %.3f vs "
                     "%.3f",
                     (long long)r.current_version, r.cmp_rows, r.cmp_churned, r.auc_new,
                     r.auc_current);
    }
    model_result_free(&r);
    return e;
}
