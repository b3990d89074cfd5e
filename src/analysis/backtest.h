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
 * - the alert volume per CSM (the CTA's owner) per week of the period;
 * - the rule quality of docs/rules.md (analysis/quality.h): lift, "any risk
 *   CTA" (every CTA of type risk together), flapping (CTAs closed within 3
 *   days of opening), the CTAs per owner per ISO week (median, p90, max) and
 *   the CTAs held back.
 *
 * backtest_json() gives all of it as the JSON of `tend backtest --format
 * json`; the stored report carries that JSON (backtest_embed), so `tend
 * rules` and the rules page read the latest backtest's quality without
 * replaying (backtest_latest). */
#ifndef TEND_ANALYSIS_BACKTEST_H
#define TEND_ANALYSIS_BACKTEST_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "analysis/quality.h"
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
    /* Keep every alert of a rule in the result (tend tune combines them). */
    bool keep_alerts;
};

/* A CTA the replay opened (kept with keep_alerts). */
struct backtest_alert {
    size_t row; /* index into backtest_result.rows */
    size_t owner;
    int64_t account;
    bool risk; /* of type risk */
    struct quality_cta cta;
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
    double lift;                /* precision / base rate; NaN when either is unknown */
    bool risk;                  /* a rule whose CTAs are (some of them) of type risk */
    bool noisy;                 /* risk, and lift under QUALITY_NOISY_LIFT */
    struct quality_flaps flaps; /* of a rule's CTAs (zero for the bands) */
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
    struct backtest_row risk;      /* every CTA of type risk together */
    struct backtest_owner *owners; /* most alerts first */
    size_t n_owners;
    struct quality_weeks per_owner_week; /* every rule's CTAs */
    /* CTAs that would have opened but were held back (backtest_held_back()),
     * over the days of the period. */
    int64_t held_back;
    int64_t run_ms;
    /* With keep_alerts: every CTA opened (warm-up included), by account and
     * day, the owners' names by index, and the churns. */
    struct backtest_alert *alerts;
    size_t n_alerts;
    char **owner_names;
    size_t n_owner_names;
    struct quality_churn *churns;
    size_t n_churns;
};

/* Runs the backtest; the copy is made in $TMPDIR (default /tmp) and removed.
 * Errors name what failed in err (BACKTEST_ERR_BYTES). */
enum tend_err backtest_run(struct store *s, const struct backtest_options *o,
                           struct backtest_result *out, char *err);
void backtest_result_free(struct backtest_result *r);

/* The result as the JSON of `tend backtest --format json` (caller frees);
 * with_leads adds each row's lead_days. */
cJSON *backtest_json(const struct backtest_result *r, bool with_leads);
/* Row named name, or NULL. */
const struct backtest_row *backtest_row_named(const struct backtest_result *r, const char *name);

/* The stored report carries the result's JSON in its body, in a
 * <script type="application/json" id="tend-backtest"> element (a data
 * block: never run, allowed by the dashboard's Content-Security-Policy),
 * with <, > and & escaped. backtest_embed appends it to b. */
struct buf;
void backtest_embed(struct buf *b, const cJSON *json);
/* Reads the newest stored backtest report's JSON into *out (caller frees),
 * its id and created_ms; *out NULL when there is no backtest report, or the
 * newest was stored before reports carried it. */
enum tend_err backtest_latest(struct store *s, cJSON **out, int64_t *id, int64_t *created_ms);

/* A rule as `tend rules` and the rules page show it: its settings, and its
 * quality from a backtest's JSON. */
struct backtest_rule_view {
    const char *name; /* borrowed from the rules_config */
    bool enabled;
    const char *type, *priority;
    char thresholds[256]; /* "days=14", "min_baseline=20 dip_ratio=0.6"; "" for none */
    char scope[280];      /* "every account", "segments: a, b; plans: c" */
    bool measured;        /* the backtest has a row for it */
    double raised, precision, lift, recall, median_lead, closed_fast; /* NaN: unknown */
    bool noisy;
};

/* Fills views (RULES_MAX of them) with every rule of rc, in rc's order, and
 * their quality from json (a backtest's, may be NULL); returns how many. */
size_t backtest_rule_views(const struct rules_config *rc, const cJSON *json,
                           struct backtest_rule_view *views);

#endif
