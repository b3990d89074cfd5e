/* tune.h: suggest per-rule thresholds that keep recall while meeting the
 * noise budget (tend tune; docs/rules.md, "Tuning").
 *
 * The method, and why it costs three replays whatever the grid:
 *
 * 1. "before": the backtest of the current settings (analysis/backtest.c).
 * 2. one search replay in which every candidate threshold of the grid
 *    (tune_grid in tune.c: a few stricter values per parameter, at most
 *    RULES_MAX - the rules configured) runs as a shadow copy of its rule
 *    under its own name ("usage_dip~dip_ratio=0.4") beside the current one.
 *    Rules are cheap and the metrics of every account and day (most of a
 *    replay's cost) are computed once for all of them. The caps of ctas: are
 *    lifted in this replay, since shadows would otherwise fill them.
 * 3. a greedy search over the shadows' CTAs, kept with the account, day,
 *    owner, type and how each ended: starting from the current settings, it
 *    repeatedly takes the one change (a stricter candidate, or switching a
 *    noisy rule off) that removes the most CTAs per point of recall lost,
 *    never going below the floor (the recall of churners by any risk CTA
 *    minus recall_slack), until the p90 of CTAs per owner per ISO week is
 *    within the budget or no change helps.
 * 4. "after": the backtest of the suggested settings, so the figures printed
 *    are measured, not estimated.
 *
 * Rules read by position elsewhere (health_drop's days, nps_response's
 * windows) are not varied: only the thresholds in tune_grid. */
#ifndef TEND_ANALYSIS_TUNE_H
#define TEND_ANALYSIS_TUNE_H

#include "analysis/backtest.h"

#define TUNE_DEFAULT_BUDGET 10
#define TUNE_RECALL_SLACK   0.05

struct tune_options {
    struct backtest_options bt; /* from, to, horizon, hc, rc: the current settings */
    int budget;                 /* CTAs per owner per week */
    double recall_slack;        /* how much recall may be given up (0.05: 5 points) */
};

/* What tune changed in one rule. */
struct tune_change {
    int rule; /* index into the current rules_config */
    bool off;
    int param; /* when !off: index into rules_param_names() */
    double from_value, to_value;
};

struct tune_figures {
    double per_week_median, per_week_p90, per_week_max;
    int64_t raised;                              /* CTAs opened in the period, every rule */
    double recall, median_lead, precision, lift; /* of any risk CTA */
    int64_t closed_fast;
    double fast_share;
    int64_t held_back;
};

struct tune_result {
    struct tune_change changes[RULES_MAX];
    size_t n_changes;
    struct tune_figures before, after;
    double recall_floor;
    /* What the search replay predicted for the suggestion: equal to the
     * after figures unless the caps (lifted in the search) bind. */
    int64_t estimated_raised;
    double estimated_recall;
    bool budget_met; /* after.per_week_p90 <= budget */
    int candidates;  /* shadow rules replayed */
    int skipped;     /* grid candidates left out for want of rule slots */
    int64_t run_ms;
};

/* Runs the method above on s. *after_rc gets the suggested settings (a copy
 * of the current ones with the changes; caller keeps it, shares custom
 * rules with o->bt.rc: do not release it). Errors in err
 * (BACKTEST_ERR_BYTES). */
enum tend_err tune_run(struct store *s, const struct tune_options *o, struct tune_result *out,
                       struct rules_config *after_rc, char *err);

#endif
