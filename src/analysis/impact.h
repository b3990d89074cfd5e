/* impact.h: what acting on CTAs is worth (tend analyze impact,
 * docs/analysis.md "Impact").
 *
 * Two views of one question, "does the team's work on CTAs keep customers":
 *
 * - The experiment. For a rule with a randomised holdout (core/holdout.h),
 *   each account's first CTA of the rule (the store's holdout record) is a
 *   unit, delivered or held out by a draw the team did not choose. Its
 *   outcome: the account churned within the horizon after the CTA opened.
 *   Units whose horizon has not ended by the as-of day are left out (and
 *   counted as pending). The difference of the churn rates (delivered minus
 *   held out) with Newcombe's 95% interval (stats/interval.h) is the
 *   effect of delivering the rule's CTAs; times the ARR of the delivered
 *   accounts, the ARR it kept (negative difference: churn went down). Also
 *   the health score's change over the 30 days after the open, by arm
 *   (when both days were scored), and contraction (a place left: the
 *   Subscription Changed outcome is another part's).
 * - The observation. Every delivered CTA whose horizon has ended, acted on
 *   by a person (a history entry by someone other than tend: a snooze, a
 *   close, an assign, a note) within N days of opening or not, stratified
 *   by the account's health band on the day it opened; per band the
 *   difference in churn with Newcombe's interval, and the bands' differences
 *   weighted by their sizes (Wald interval). CSMs choose which CTAs to act
 *   on, so this is an association, not an effect: the report says so.
 *
 * Reads the store (holdout records, CTAs, their histories, outcomes,
 * scores, accounts' mrr); computes in memory, a few numbers per CTA. */
#ifndef TEND_ANALYSIS_IMPACT_H
#define TEND_ANALYSIS_IMPACT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define IMPACT_ERR_BYTES  256
#define IMPACT_RULE_BYTES 64

struct impact_options {
    const char *rule;      /* NULL: every rule with holdout records */
    int horizon_days;      /* churn counted within this many days of the open */
    int acted_within_days; /* the observation: a person's action within this */
    int32_t as_of;         /* the last day of data counted */
};

/* One arm: delivered (0) or held out (1). */
struct impact_arm {
    int64_t accounts, churned;
    double rate;
    double arr;                   /* the arm's accounts' ARR (mrr x 12), known ones */
    int64_t health_n;             /* accounts scored on the open day and 30 days later */
    double health_sum, health_sq; /* of the change */
};

struct impact_rule {
    char rule[IMPACT_RULE_BYTES];
    double share;    /* the holdout share of its latest record */
    int64_t pending; /* units whose horizon has not ended */
    struct impact_arm arm[2];
    bool has_diff;                             /* both arms have accounts */
    double diff, lo, hi;                       /* delivered minus held out, Newcombe 95% */
    double relative_risk;                      /* NaN when the held-out rate is 0 */
    double arr_kept, arr_kept_lo, arr_kept_hi; /* -(diff) x the delivered ARR */
    bool has_health;
    double health_diff, health_lo, health_hi;
};

/* The observation's strata: the health band on the open day. */
enum { IMPACT_BANDS = 4 }; /* red, yellow, green, none */
struct impact_stratum {
    int64_t n[2], churned[2]; /* 0: acted on within N days; 1: not */
    bool has_diff;
    double diff, lo, hi;
};

struct impact_report {
    int32_t as_of;
    int horizon_days, acted_within_days;
    struct impact_rule *rules;
    size_t n_rules;
    struct impact_stratum strata[IMPACT_BANDS];
    int64_t obs_n;
    bool has_obs;
    double obs_diff, obs_lo, obs_hi; /* size-weighted over the strata, Wald 95% */
};

/* The band names of the strata, in order. */
extern const char *const impact_band_names[IMPACT_BANDS];
/* The report's plain-words warning about the observation. */
extern const char impact_observation_warning[];

/* Computes the report into *out (impact_report_free releases it). On a
 * store error returns it with the store's message in err; TEND_ERR_NOTFOUND
 * when o->rule has no holdout records. */
enum tend_err impact_run(struct store *s, const struct impact_options *o, struct impact_report *out,
                         char *err);
void impact_report_free(struct impact_report *r);
/* The report as JSON (docs/analysis.md); the caller owns it. */
cJSON *impact_json(const struct impact_report *r);

#endif
