/* impact.c: what acting on CTAs is worth (see impact.h).
 *
 * The store is read in a few passes (accounts' mrr, churns, holdout
 * records, CTAs, histories), each into a plain array sorted by id, then
 * joined by binary search: memory in proportion to CTAs and accounts, no
 * per-row query except the two scores of each unit. */
#include "analysis/impact.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/interval.h"
#include "util/datetime.h"
#include "util/mem.h"

const char *const impact_band_names[IMPACT_BANDS] = {"red", "yellow", "green", "none"};

const char impact_observation_warning[] =
    "CSMs choose which CTAs to act on, and they may act first where the account can still be "
    "saved, or where it is already lost: the difference between acted-on and ignored CTAs is an "
    "association, not the effect of acting. Comparing within health bands removes only the part "
    "of that choice the band explains. The randomised holdout above is the measure of the effect.";

/* ---- id-keyed arrays -------------------------------------------------------- */

struct keyed {
    int64_t id;
    double v; /* ARR, a day, ... */
};

struct keyed_list {
    struct keyed *v;
    size_t n, cap;
};

static void keyed_add(struct keyed_list *l, int64_t id, double v) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (struct keyed){id, v};
}

/* By id, then value ascending: the first of an id is its smallest value. */
static int keyed_cmp(const void *a, const void *b) {
    const struct keyed *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

static void keyed_sort(struct keyed_list *l) {
    if (l->n)
        qsort(l->v, l->n, sizeof *l->v, keyed_cmp);
}

/* The smallest value of id, or NAN. */
static double keyed_get(const struct keyed_list *l, int64_t id) {
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->v[lo].id == id ? l->v[lo].v : NAN;
}

/* ---- reading ------------------------------------------------------------------ */

static int on_account(void *arg, const struct store_account_row *row) {
    if (row->f.has_mrr)
        keyed_add(arg, row->id, row->f.mrr * 12);
    return 0;
}

static void on_outcome(void *arg, const struct store_outcome *o) {
    if (o->churned)
        keyed_add(arg, o->account_id, (double)(o->ts_ms / 86400000));
}

/* A holdout record, the unit of the experiment once it is its (rule,
 * account)'s first. */
struct unit {
    int rule;
    int64_t cta_id, account_id;
    int32_t day;
    double share;
    bool held_out;
};

struct reading {
    char (*rules)[IMPACT_RULE_BYTES];
    int n_rules;
    struct unit *u;
    size_t n, cap;
    struct keyed_list held; /* every held-out CTA, for the observation */
};

static int rule_index(struct reading *r, const char *name) {
    for (int i = 0; i < r->n_rules; i++)
        if (strcmp(r->rules[i], name) == 0)
            return i;
    r->rules = xrealloc(r->rules, (size_t)(r->n_rules + 1) * sizeof *r->rules);
    snprintf(r->rules[r->n_rules], IMPACT_RULE_BYTES, "%s", name);
    return r->n_rules++;
}

static void on_holdout(void *arg, const struct store_holdout *h) {
    struct reading *r = arg;
    if (h->held_out)
        keyed_add(&r->held, h->cta_id, 1);
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->u = xrealloc(r->u, r->cap * sizeof *r->u);
    }
    r->u[r->n++] = (struct unit){.rule = rule_index(r, h->rule),
                                 .cta_id = h->cta_id,
                                 .account_id = h->account_id,
                                 .day = h->day,
                                 .share = h->share,
                                 .held_out = h->held_out};
}

static int unit_cmp(const void *a, const void *b) {
    const struct unit *x = a, *y = b;
    if (x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    if (x->account_id != y->account_id)
        return x->account_id < y->account_id ? -1 : 1;
    return x->cta_id < y->cta_id ? -1 : x->cta_id > y->cta_id;
}

struct cta_row {
    int64_t id, account_id;
    int32_t opened_day;
};

struct cta_rows {
    struct cta_row *v;
    size_t n, cap;
};

static int on_cta(void *arg, const struct store_cta *c) {
    struct cta_rows *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (struct cta_row){c->id, c->account_id, c->opened_day};
    return 0;
}

static void on_action(void *arg, const struct store_cta_action *a) {
    if (a->actor && strcmp(a->actor, STORE_ACTOR_TEND) != 0)
        keyed_add(arg, a->cta_id, a->day);
}

/* The account's overall score and band on day; false when none. */
static enum tend_err score_on(struct store *s, int64_t account_id, int32_t day, double *overall,
                              int *band, bool *found) {
    struct store_score sc;
    enum tend_err e = store_score_get(s, account_id, day, &sc, found);
    if (e)
        return e;
    *band = IMPACT_BANDS - 1;
    *found = *found && sc.has_overall;
    if (!*found)
        return TEND_OK;
    *overall = sc.overall;
    for (int b = 0; b < IMPACT_BANDS - 1; b++)
        if (strcmp(sc.band, impact_band_names[b]) == 0)
            *band = b;
    return TEND_OK;
}

/* ---- the experiment ---------------------------------------------------------- */

static void finish_rule(struct impact_rule *r) {
    struct impact_arm *d = &r->arm[0], *h = &r->arm[1];
    for (int a = 0; a < 2; a++)
        r->arm[a].rate =
            r->arm[a].accounts ? (double)r->arm[a].churned / (double)r->arm[a].accounts : NAN;
    r->has_diff = d->accounts > 0 && h->accounts > 0;
    r->relative_risk = NAN;
    if (r->has_diff) {
        stats_newcombe_diff(d->churned, d->accounts, h->churned, h->accounts, &r->diff, &r->lo,
                            &r->hi);
        if (h->rate > 0)
            r->relative_risk = d->rate / h->rate;
        r->arr_kept = -r->diff * d->arr;
        r->arr_kept_lo = -r->hi * d->arr;
        r->arr_kept_hi = -r->lo * d->arr;
    }
    r->has_health = d->health_n >= 2 && h->health_n >= 2;
    if (r->has_health)
        stats_mean_diff(d->health_sum, d->health_sq, d->health_n, h->health_sum, h->health_sq,
                        h->health_n, &r->health_diff, &r->health_lo, &r->health_hi);
}

static enum tend_err experiment(struct store *s, const struct impact_options *o, struct reading *rd,
                                const struct keyed_list *arr, const struct keyed_list *churn,
                                struct impact_report *out) {
    out->n_rules = (size_t)rd->n_rules;
    out->rules = xcalloc(out->n_rules ? out->n_rules : 1, sizeof *out->rules);
    for (int i = 0; i < rd->n_rules; i++)
        snprintf(out->rules[i].rule, IMPACT_RULE_BYTES, "%s", rd->rules[i]);
    if (rd->n)
        qsort(rd->u, rd->n, sizeof *rd->u, unit_cmp);
    for (size_t i = 0; i < rd->n; i++) {
        const struct unit *u = &rd->u[i];
        if (i > 0 && rd->u[i - 1].rule == u->rule && rd->u[i - 1].account_id == u->account_id)
            continue; /* the account's later CTAs of the rule: same arm, not a new unit */
        struct impact_rule *r = &out->rules[u->rule];
        r->share = u->share;
        double churn_day = keyed_get(churn, u->account_id);
        if (!isnan(churn_day) && churn_day < u->day)
            continue; /* churned before the CTA: no outcome to change */
        if (u->day + o->horizon_days - 1 > o->as_of) {
            r->pending++;
            continue;
        }
        struct impact_arm *a = &r->arm[u->held_out ? 1 : 0];
        a->accounts++;
        if (!isnan(churn_day) && churn_day < u->day + o->horizon_days)
            a->churned++;
        double v = keyed_get(arr, u->account_id);
        if (!isnan(v))
            a->arr += v;
        if (u->day + 30 > o->as_of)
            continue;
        double h0, h30;
        int band;
        bool f0 = false, f30 = false;
        enum tend_err e = score_on(s, u->account_id, u->day, &h0, &band, &f0);
        if (!e && f0)
            e = score_on(s, u->account_id, u->day + 30, &h30, &band, &f30);
        if (e)
            return e;
        if (f0 && f30) {
            a->health_n++;
            a->health_sum += h30 - h0;
            a->health_sq += (h30 - h0) * (h30 - h0);
        }
    }
    for (size_t i = 0; i < out->n_rules; i++)
        finish_rule(&out->rules[i]);
    return TEND_OK;
}

/* ---- the observation ---------------------------------------------------------- */

static enum tend_err observation(struct store *s, const struct impact_options *o,
                                 const struct cta_rows *ctas, const struct keyed_list *held,
                                 const struct keyed_list *acted, const struct keyed_list *churn,
                                 struct impact_report *out) {
    for (size_t i = 0; i < ctas->n; i++) {
        const struct cta_row *c = &ctas->v[i];
        if (!isnan(keyed_get(held, c->id)))
            continue; /* held out: nobody was told */
        if (c->opened_day + o->horizon_days - 1 > o->as_of)
            continue;
        double churn_day = keyed_get(churn, c->account_id);
        if (!isnan(churn_day) && churn_day < c->opened_day)
            continue;
        double first = keyed_get(acted, c->id);
        bool on_time = !isnan(first) && first <= c->opened_day + o->acted_within_days;
        double h0;
        int band = IMPACT_BANDS - 1;
        bool found = false;
        enum tend_err e = score_on(s, c->account_id, c->opened_day, &h0, &band, &found);
        if (e)
            return e;
        struct impact_stratum *st = &out->strata[band];
        st->n[on_time ? 0 : 1]++;
        if (!isnan(churn_day) && churn_day < c->opened_day + o->horizon_days)
            st->churned[on_time ? 0 : 1]++;
        out->obs_n++;
    }
    /* Each band's difference, and their mean weighted by the band's size
     * over the bands with both groups (Wald). */
    double sum = 0, var = 0;
    int64_t weight = 0;
    for (int b = 0; b < IMPACT_BANDS; b++) {
        struct impact_stratum *st = &out->strata[b];
        st->has_diff = st->n[0] > 0 && st->n[1] > 0;
        if (st->has_diff)
            stats_newcombe_diff(st->churned[0], st->n[0], st->churned[1], st->n[1], &st->diff,
                                &st->lo, &st->hi);
        if (st->has_diff)
            weight += st->n[0] + st->n[1];
    }
    for (int b = 0; b < IMPACT_BANDS && weight > 0; b++) {
        const struct impact_stratum *st = &out->strata[b];
        if (!st->has_diff)
            continue;
        double w = (double)(st->n[0] + st->n[1]) / (double)weight;
        double p1 = (double)st->churned[0] / (double)st->n[0];
        double p0 = (double)st->churned[1] / (double)st->n[1];
        sum += w * (p1 - p0);
        var += w * w * (p1 * (1 - p1) / (double)st->n[0] + p0 * (1 - p0) / (double)st->n[1]);
    }
    out->has_obs = weight > 0;
    if (out->has_obs) {
        out->obs_diff = sum;
        out->obs_lo = sum - STATS_Z95 * sqrt(var);
        out->obs_hi = sum + STATS_Z95 * sqrt(var);
    }
    return TEND_OK;
}

enum tend_err impact_run(struct store *s, const struct impact_options *o, struct impact_report *out,
                         char *err) {
    memset(out, 0, sizeof *out);
    out->as_of = o->as_of;
    out->horizon_days = o->horizon_days;
    out->acted_within_days = o->acted_within_days;
    struct keyed_list arr = {0}, churn = {0}, acted = {0};
    struct reading rd = {0};
    struct cta_rows ctas = {0};
    struct store_cta_filter all = {0};
    enum tend_err e = store_accounts_brief_each(s, on_account, &arr);
    if (!e)
        e = store_outcomes_each(s, INT64_MIN, INT64_MAX, on_outcome, &churn);
    if (!e)
        e = store_holdouts_each(s, o->rule, on_holdout, &rd);
    if (!e)
        e = store_ctas_each(s, &all, on_cta, &ctas);
    if (!e)
        e = store_cta_actions_each(s, on_action, &acted);
    if (e) {
        snprintf(err, IMPACT_ERR_BYTES, "%s", store_last_error(s));
        goto cleanup;
    }
    keyed_sort(&arr);
    keyed_sort(&churn);
    keyed_sort(&acted);
    keyed_sort(&rd.held);
    if (o->rule && rd.n == 0) {
        snprintf(err, IMPACT_ERR_BYTES,
                 "rule %s has no CTAs in a holdout (set rules.%s.holdout in tend.yaml, then "
                 "evaluate)",
                 o->rule, o->rule);
        e = TEND_ERR_NOTFOUND;
        goto cleanup;
    }
    e = experiment(s, o, &rd, &arr, &churn, out);
    if (!e)
        e = observation(s, o, &ctas, &rd.held, &acted, &churn, out);
    if (e)
        snprintf(err, IMPACT_ERR_BYTES, "%s", store_last_error(s));
cleanup:
    free(arr.v);
    free(churn.v);
    free(acted.v);
    free(rd.held.v);
    free(rd.u);
    free(rd.rules);
    free(ctas.v);
    if (e)
        impact_report_free(out);
    return e;
}

void impact_report_free(struct impact_report *r) {
    if (!r)
        return;
    free(r->rules);
    r->rules = NULL;
    r->n_rules = 0;
}

/* ---- JSON ---------------------------------------------------------------------- */

static void add_num(cJSON *o, const char *key, bool has, double v) {
    if (has && isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_day(cJSON *o, const char *key, int32_t day) {
    char d[16];
    dt_format_date(day, d);
    cJSON_AddStringToObject(o, key, d);
}

static cJSON *arm_json(const struct impact_arm *a) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "accounts", (double)a->accounts);
    cJSON_AddNumberToObject(o, "churned", (double)a->churned);
    add_num(o, "churn_rate", a->accounts > 0, a->rate);
    cJSON_AddNumberToObject(o, "arr", round(a->arr * 100) / 100);
    cJSON_AddNumberToObject(o, "health_scored", (double)a->health_n);
    add_num(o, "health_change_30d", a->health_n > 0,
            a->health_n ? a->health_sum / (double)a->health_n : NAN);
    return o;
}

cJSON *impact_json(const struct impact_report *r) {
    cJSON *o = cJSON_CreateObject();
    add_day(o, "as_of", r->as_of);
    cJSON_AddNumberToObject(o, "horizon_days", r->horizon_days);
    cJSON_AddStringToObject(o, "interval",
                            "95%; difference of proportions: Newcombe's hybrid score (Wilson) "
                            "interval; health change: normal approximation, Welch's error");
    cJSON *rules = cJSON_AddArrayToObject(o, "rules");
    for (size_t i = 0; i < r->n_rules; i++) {
        const struct impact_rule *x = &r->rules[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "rule", x->rule);
        cJSON_AddNumberToObject(j, "holdout_share", x->share);
        cJSON_AddNumberToObject(j, "pending", (double)x->pending);
        cJSON_AddItemToObject(j, "delivered", arm_json(&x->arm[0]));
        cJSON_AddItemToObject(j, "held_out", arm_json(&x->arm[1]));
        add_num(j, "difference", x->has_diff, x->diff);
        add_num(j, "ci_low", x->has_diff, x->lo);
        add_num(j, "ci_high", x->has_diff, x->hi);
        add_num(j, "relative_risk", x->has_diff, x->relative_risk);
        add_num(j, "arr_kept", x->has_diff, x->arr_kept);
        add_num(j, "arr_kept_low", x->has_diff, x->arr_kept_lo);
        add_num(j, "arr_kept_high", x->has_diff, x->arr_kept_hi);
        add_num(j, "health_change_difference", x->has_health, x->health_diff);
        add_num(j, "health_change_ci_low", x->has_health, x->health_lo);
        add_num(j, "health_change_ci_high", x->has_health, x->health_hi);
        /* Contraction (Subscription Changed) is counted by the revenue
         * outcomes' part (docs/analysis.md): not on this branch yet. */
        cJSON_AddNullToObject(j, "contraction");
        cJSON_AddItemToArray(rules, j);
    }
    cJSON *obs = cJSON_AddObjectToObject(o, "observational");
    cJSON_AddNumberToObject(obs, "acted_within_days", r->acted_within_days);
    cJSON_AddNumberToObject(obs, "ctas", (double)r->obs_n);
    cJSON *strata = cJSON_AddArrayToObject(obs, "strata");
    for (int b = 0; b < IMPACT_BANDS; b++) {
        const struct impact_stratum *st = &r->strata[b];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "band", impact_band_names[b]);
        cJSON_AddNumberToObject(j, "acted", (double)st->n[0]);
        cJSON_AddNumberToObject(j, "acted_churned", (double)st->churned[0]);
        cJSON_AddNumberToObject(j, "not_acted", (double)st->n[1]);
        cJSON_AddNumberToObject(j, "not_acted_churned", (double)st->churned[1]);
        add_num(j, "difference", st->has_diff, st->diff);
        add_num(j, "ci_low", st->has_diff, st->lo);
        add_num(j, "ci_high", st->has_diff, st->hi);
        cJSON_AddItemToArray(strata, j);
    }
    add_num(obs, "difference", r->has_obs, r->obs_diff);
    add_num(obs, "ci_low", r->has_obs, r->obs_lo);
    add_num(obs, "ci_high", r->has_obs, r->obs_hi);
    cJSON_AddStringToObject(obs, "warning", impact_observation_warning);
    return o;
}
