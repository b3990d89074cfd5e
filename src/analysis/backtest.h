/* backtest.h: how well would the rules and the health bands have warned?
 * (SPEC 8, docs/analysis.md)
 *
 * Replays evaluation day by day over a period, as the daily schedule would
 * have run it, in a copy of the database (the real CTAs, scores and outbox
 * are never touched; nothing is delivered), after a warm-up of
 * BACKTEST_WARMUP_DAYS evaluated before the period so that the first day does
 * not open every long-standing condition at once. An alert is a CTA a rule
 * opened, or an account's score entering a band: "health: red" (into red)
 * and "health: yellow or red" (out of green). For each rule, each band, and
 * any rule at all:
 *
 * - raised: alerts on days of the period;
 * - precision: the share of those after which the account churned within the
 *   horizon (churn day in (alert day, alert day + horizon]), beside the base
 *   rate: the same share over every scored account and day of the period;
 * - recall: the share of the churners (accounts churned on a day in
 *   (from, to + 1]) with an alert in the horizon before their churn (warm-up
 *   days included), and the median lead time: churn day - the earliest such
 *   alert;
 * - the alert volume per CSM (the CTA's owner) per week of the period. */
#ifndef TEND_ANALYSIS_BACKTEST_H
#define TEND_ANALYSIS_BACKTEST_H

#include <stdint.h>

#include "core/health.h"
#include "core/rules.h"
#include "store/store.h"

#define BACKTEST_WARMUP_DAYS 30
#define BACKTEST_ERR_BYTES   512

struct backtest_options {
    int32_t from, to;
    int horizon; /* days */
    const struct health_config *hc;
    const struct rules_config *rc;
};

struct backtest_row {
    char *name; /* a rule's name, "health: red", "health: yellow or red", "any rule" */
    int64_t raised, raised_churned;
    double precision; /* NaN when nothing was raised */
    int64_t churners, warned;
    double recall;      /* NaN when no churner */
    double median_lead; /* NaN when none was warned */
    double *leads;      /* days, one per warned churner */
    size_t n_leads;
};

struct backtest_owner {
    char *owner;
    int64_t raised;
    double per_week;
};

struct backtest_result {
    struct backtest_options o;
    int64_t accounts; /* evaluated on the last day */
    int64_t churners;
    /* The share of scored accounts, over the days of the period, that churned
     * within the horizon: the precision of an alert raised at random. */
    double base_rate;
    double weeks;
    struct backtest_row *rows; /* the rules by name, then the bands, then "any rule" */
    size_t n_rows;
    struct backtest_owner *owners; /* most alerts first */
    size_t n_owners;
    int64_t run_ms;
};

/* Runs the backtest; the copy is made in $TMPDIR (default /tmp) and removed.
 * Errors name what failed in err (BACKTEST_ERR_BYTES). */
enum tend_err backtest_run(struct store *s, const struct backtest_options *o,
                           struct backtest_result *out, char *err);
void backtest_result_free(struct backtest_result *r);

#endif
