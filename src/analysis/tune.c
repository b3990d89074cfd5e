/* tune.c: the search of tend tune (see tune.h for the method and its cost). */
#include "analysis/tune.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/datetime.h"
#include "util/mem.h"

/* The grid: for each tunable threshold, the candidates in the order they
 * make the rule stricter (fewer CTAs). Only values stricter than the current
 * one are tried. 18 candidates in all. */
struct tune_param {
    enum rule_builtin kind;
    int param;
    int stricter; /* +1: a larger value fires less; -1: a smaller one */
    double values[4];
    int n;
};

static const struct tune_param tune_grid[] = {
    {RULE_HEALTH_DROP, 0, +1, {20, 25, 30}, 3},       /* drop_points */
    {RULE_USAGE_DIP, 1, -1, {0.5, 0.4, 0.3}, 3},      /* dip_ratio */
    {RULE_LOGIN_CHANGE, 1, -1, {0.4, 0.3}, 2},        /* drop_ratio */
    {RULE_NO_LOGIN, 0, +1, {21, 28}, 2},              /* days */
    {RULE_OUTREACH_UNRESPONSIVE, 1, +1, {21, 28}, 2}, /* days */
    {RULE_SUPPORT_TICKETS, 0, +1, {8, 12}, 2},        /* too_many */
    {RULE_PAYMENT_OVERDUE, 0, +1, {2}, 1},            /* min_invoices */
    {RULE_PREMIUM_UNUSED, 0, +1, {60, 90}, 2},        /* min_age_days */
    {RULE_NPS_RESPONSE, 0, -1, {4}, 1},               /* detractor_max */
};
#define N_GRID (sizeof tune_grid / sizeof *tune_grid)

/* One option of a rule: its current settings, a candidate, or off. */
struct option {
    char name[RULES_NAME_BYTES]; /* the row of its CTAs */
    bool off;
    int param;
    double value;
};

#define MAX_OPTIONS 6

struct slot {
    int rule; /* index into the current rules_config */
    struct option opt[MAX_OPTIONS];
    int n_opt;
    int chosen;
};

struct search {
    const struct tune_options *o;
    const struct backtest_result *r; /* the search replay's, alerts kept */
    struct slot slots[RULES_MAX];
    int n_slots;
    int *slot_of_row, *opt_of_row; /* -1: a row of no slot (always in) */
    /* scratch */
    struct quality_alert *risk;
    struct quality_open *opens;
};

struct eval {
    int64_t raised;
    double recall, p90;
};

/* Whether alert a is in the selection the slots' choices make. */
static bool selected(const struct search *s, const struct backtest_alert *a) {
    int slot = s->slot_of_row[a->row];
    return slot < 0 || s->opt_of_row[a->row] == s->slots[slot].chosen;
}

static struct eval evaluate(struct search *s) {
    const struct backtest_result *r = s->r;
    const struct backtest_options *bt = &s->o->bt;
    size_t n_risk = 0, n_opens = 0;
    struct eval e = {0};
    for (size_t i = 0; i < r->n_alerts; i++) {
        const struct backtest_alert *a = &r->alerts[i];
        if (!selected(s, a))
            continue;
        if (a->risk)
            s->risk[n_risk++] = (struct quality_alert){a->account, a->cta.opened_day};
        if (a->cta.opened_day >= bt->from && a->cta.opened_day <= bt->to) {
            s->opens[n_opens++] = (struct quality_open){a->owner, a->cta.opened_day};
            e.raised++;
        }
    }
    struct quality_score q;
    quality_score(s->risk, n_risk, r->churns, r->n_churns, bt->from, bt->to, bt->horizon, &q);
    e.recall = isfinite(q.recall) ? q.recall : 0;
    free(q.leads);
    struct quality_weeks w;
    quality_owner_weeks(s->opens, n_opens, r->n_owner_names, bt->from, bt->to, &w);
    e.p90 = isfinite(w.p90) ? w.p90 : 0;
    return e;
}

static int row_named(const struct backtest_result *r, const char *name) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (strcmp(r->rows[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Adds the shadow rules of the grid to search_rc and the options to the
 * slots; returns how many candidates were left out for want of room. */
static int add_candidates(struct search *s, const struct rules_config *rc,
                          struct rules_config *search_rc, const struct backtest_result *before) {
    int skipped = 0;
    for (int i = 0; i < rc->n_rules; i++) {
        const struct rule_settings *r = &rc->rules[i];
        if (!r->enabled)
            continue;
        struct slot *sl = &s->slots[s->n_slots];
        *sl = (struct slot){.rule = i, .n_opt = 1};
        snprintf(sl->opt[0].name, RULES_NAME_BYTES, "%s", r->name);
        for (size_t g = 0; r->kind != RULE_CUSTOM && g < N_GRID; g++) {
            const struct tune_param *p = &tune_grid[g];
            if (p->kind != r->kind)
                continue;
            const char *pname = rules_param_names(r->kind)[p->param];
            for (int k = 0; k < p->n && sl->n_opt < MAX_OPTIONS - 1; k++) {
                double v = p->values[k], cur = r->params[p->param];
                if (p->stricter * (v - cur) <= 0)
                    continue;
                if (search_rc->n_rules >= RULES_MAX) {
                    skipped++;
                    continue;
                }
                struct option *op = &sl->opt[sl->n_opt++];
                snprintf(op->name, RULES_NAME_BYTES, "%s~%s=%g", r->name, pname, v);
                op->param = p->param;
                op->value = v;
                struct rule_settings *sh = &search_rc->rules[search_rc->n_rules++];
                *sh = *r;
                snprintf(sh->name, sizeof sh->name, "%s", op->name);
                sh->params[p->param] = v;
            }
        }
        /* A noisy risk rule (lift under 1.2 in the backtest) may be switched
         * off; expansion and lifecycle rules are not there to warn of churn. */
        const struct backtest_row *row = backtest_row_named(before, r->name);
        if (row && row->noisy && r->type == CTA_RISK)
            sl->opt[sl->n_opt++] = (struct option){.off = true};
        if (sl->n_opt > 1)
            s->n_slots++;
    }
    return skipped;
}

/* The greedy search of tune.h, step 3. */
static struct eval search_greedy(struct search *s, double floor) {
    struct eval cur = evaluate(s);
    while (cur.p90 > s->o->budget) {
        int best_slot = -1, best_opt = -1;
        double best_score = 0;
        struct eval best_e = cur;
        for (int i = 0; i < s->n_slots; i++) {
            struct slot *sl = &s->slots[i];
            int was = sl->chosen;
            for (int k = was + 1; k < sl->n_opt; k++) {
                sl->chosen = k;
                struct eval e = evaluate(s);
                sl->chosen = was;
                if (e.recall < floor - 1e-12 || e.raised >= cur.raised)
                    continue;
                double lost = cur.recall - e.recall;
                double score = (double)(cur.raised - e.raised) / (lost > 0 ? lost * 100 + 1 : 1);
                if (score > best_score) {
                    best_score = score;
                    best_slot = i;
                    best_opt = k;
                    best_e = e;
                }
            }
        }
        if (best_slot < 0)
            break;
        s->slots[best_slot].chosen = best_opt;
        cur = best_e;
    }
    return cur;
}

static void figures_of(const struct backtest_result *r, struct tune_figures *f) {
    const struct backtest_row *any = backtest_row_named(r, "any rule");
    *f = (struct tune_figures){
        .per_week_median = r->per_owner_week.median,
        .per_week_p90 = r->per_owner_week.p90,
        .per_week_max = r->per_owner_week.max,
        .raised = any ? any->raised : 0,
        .recall = r->risk.recall,
        .median_lead = r->risk.median_lead,
        .precision = r->risk.precision,
        .lift = r->risk.lift,
        .closed_fast = any ? any->flaps.closed_fast : 0,
        .fast_share = any ? any->flaps.fast_share : NAN,
        .held_back = r->held_back,
    };
}

enum tend_err tune_run(struct store *st, const struct tune_options *o, struct tune_result *out,
                       struct rules_config *after_rc, char *err) {
    int64_t start = dt_now_ms();
    memset(out, 0, sizeof *out);
    struct backtest_result before = {0}, found = {0}, after = {0};
    struct rules_config *search_rc = xmalloc(sizeof *search_rc);
    struct search s = {.o = o};
    enum tend_err e = backtest_run(st, &o->bt, &before, err);
    if (e)
        goto cleanup;
    figures_of(&before, &out->before);
    out->recall_floor = (isfinite(before.risk.recall) ? before.risk.recall : 0) - o->recall_slack;

    *search_rc = *o->bt.rc;
    search_rc->max_open_per_account = INT_MAX; /* shadows would fill the caps */
    search_rc->max_open_total = INT_MAX;
    search_rc->budget_per_owner_week = 0; /* the caller lifted it for every replay */
    out->skipped = add_candidates(&s, o->bt.rc, search_rc, &before);
    out->candidates = search_rc->n_rules - o->bt.rc->n_rules;
    struct backtest_options so = o->bt;
    so.rc = search_rc;
    so.keep_alerts = true;
    if ((e = backtest_run(st, &so, &found, err)))
        goto cleanup;
    s.r = &found;
    s.slot_of_row = xmalloc((found.n_rows + 1) * sizeof *s.slot_of_row);
    s.opt_of_row = xmalloc((found.n_rows + 1) * sizeof *s.opt_of_row);
    for (size_t i = 0; i < found.n_rows; i++)
        s.slot_of_row[i] = s.opt_of_row[i] = -1;
    for (int i = 0; i < s.n_slots; i++)
        for (int k = 0; k < s.slots[i].n_opt; k++) {
            int row = s.slots[i].opt[k].off ? -1 : row_named(&found, s.slots[i].opt[k].name);
            if (row >= 0) {
                s.slot_of_row[row] = i;
                s.opt_of_row[row] = k;
            }
        }
    size_t n = found.n_alerts ? found.n_alerts : 1;
    s.risk = xmalloc(n * sizeof *s.risk);
    s.opens = xmalloc(n * sizeof *s.opens);
    struct eval est = search_greedy(&s, out->recall_floor);
    out->estimated_raised = est.raised;
    out->estimated_recall = est.recall;

    /* The suggestion, and its own backtest. */
    *after_rc = *o->bt.rc;
    for (int i = 0; i < s.n_slots; i++) {
        const struct slot *sl = &s.slots[i];
        if (sl->chosen == 0)
            continue;
        const struct option *op = &sl->opt[sl->chosen];
        struct rule_settings *r = &after_rc->rules[sl->rule];
        struct tune_change *c = &out->changes[out->n_changes++];
        *c = (struct tune_change){.rule = sl->rule, .off = op->off, .param = op->param};
        if (op->off) {
            r->enabled = false;
        } else {
            c->from_value = r->params[op->param];
            c->to_value = op->value;
            r->params[op->param] = op->value;
        }
    }
    struct backtest_options ao = o->bt;
    ao.rc = after_rc;
    if ((e = backtest_run(st, &ao, &after, err)))
        goto cleanup;
    figures_of(&after, &out->after);
    out->budget_met = out->after.per_week_p90 <= o->budget;

cleanup:
    out->run_ms = dt_now_ms() - start;
    free(s.slot_of_row);
    free(s.opt_of_row);
    free(s.risk);
    free(s.opens);
    free(search_rc);
    backtest_result_free(&before);
    backtest_result_free(&found);
    backtest_result_free(&after);
    return e;
}
