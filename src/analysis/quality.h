/* quality.h: how good a rule's warnings are, counted over a replay's alerts
 * and the churns (docs/rules.md, "Quality"), pure: no store, no clock.
 *
 * The backtest (analysis/backtest.c) replays evaluation and hands these
 * functions plain arrays; tend tune (analysis/tune.c) hands them the alerts
 * of candidate thresholds. Keeping the arithmetic here lets it be tested on
 * hand cases (tests/unit/test_quality.c) apart from any replay.
 *
 * Definitions (days are days since 1970-01-01, UTC):
 * - an alert "hit" when its account churned on a day in (day, day + horizon];
 *   precision = hits / alerts raised on days [from, to];
 * - lift = precision / base rate (the precision of an alert raised at random);
 *   a rule whose lift is finite and under QUALITY_NOISY_LIFT is "noisy";
 * - the churners are the accounts that churned on a day in (from, to + 1];
 *   one is "warned" by an alert on a day in [churn - horizon, churn); recall
 *   = warned / churners; its lead time = churn day - the earliest such alert;
 * - a CTA "flaps" when it is closed (any reason) within QUALITY_FLAP_DAYS
 *   days of opening: closed_day - opened_day <= QUALITY_FLAP_DAYS;
 * - the CTAs per owner per ISO week (Monday to Sunday) are counted over the
 *   whole ISO weeks inside [from, to] (all weeks touching it when none is
 *   whole), for every owner with at least one CTA in the period, zero weeks
 *   included. */
#ifndef TEND_ANALYSIS_QUALITY_H
#define TEND_ANALYSIS_QUALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUALITY_NOISY_LIFT 1.2
#define QUALITY_FLAP_DAYS  3

/* A churn: sorted by account, then day, for the functions below. */
struct quality_churn {
    int64_t account;
    int32_t day;
};

/* An alert (a CTA opened, a band entered): sorted by account, then day. */
struct quality_alert {
    int64_t account;
    int32_t day;
};

struct quality_score {
    int64_t raised, raised_churned;
    double precision; /* NaN when nothing was raised */
    int64_t churners, warned;
    double recall;      /* NaN when no churner */
    double median_lead; /* NaN when none was warned */
    double *leads;      /* malloced, one per warned churner in churn order; free() it */
    size_t n_leads;
};

/* Whether account churned on a day in (day, day + horizon]; churns sorted. */
bool quality_churned_within(const struct quality_churn *churns, size_t n, int64_t account,
                            int32_t day, int horizon);
/* Scores alerts (sorted by account and day) against churns (sorted) over
 * [from, to] and the horizon, as defined above. out->leads is malloced. */
void quality_score(const struct quality_alert *alerts, size_t n_alerts,
                   const struct quality_churn *churns, size_t n_churns, int32_t from, int32_t to,
                   int horizon, struct quality_score *out);
/* precision / base_rate; NaN when either is NaN or the base rate is not
 * positive. */
double quality_lift(double precision, double base_rate);
/* True when lift is finite and under QUALITY_NOISY_LIFT. */
bool quality_noisy(double lift);
/* The median of v (sorted in place); NaN when n is 0. */
double quality_median(double *v, size_t n);
/* The nearest-rank percentile p (0 < p <= 100) of v (sorted in place): the
 * smallest value with at least p% of the values at or below it; NaN when n
 * is 0. */
double quality_percentile(double *v, size_t n, double p);

/* A CTA opened by the replay and how it ended. */
struct quality_cta {
    int32_t opened_day;
    bool closed; /* by the end of the replay */
    int32_t closed_day;
    bool auto_resolved; /* closed because its condition cleared */
};

struct quality_flaps {
    int64_t opened;             /* CTAs opened on days [from, to] */
    int64_t closed;             /* of those, closed by the end */
    int64_t auto_resolved;      /* of those, closed by auto-resolve */
    int64_t closed_fast;        /* closed within QUALITY_FLAP_DAYS of opening */
    int64_t auto_resolved_fast; /* auto-resolved within QUALITY_FLAP_DAYS */
    double fast_share;          /* closed_fast / opened; NaN when none opened */
    double auto_share;          /* auto_resolved / closed; NaN when none closed */
};

/* Counts the flapping of the CTAs opened on days [from, to]. */
void quality_flapping(const struct quality_cta *v, size_t n, int32_t from, int32_t to,
                      struct quality_flaps *out);

/* A CTA opened on day for owner (an index below n_owners). */
struct quality_open {
    size_t owner;
    int32_t day;
};

struct quality_weeks {
    int64_t owners; /* with a CTA in the period */
    int64_t weeks;  /* ISO weeks counted */
    int32_t first_monday;
    double median, p90, max, mean; /* CTAs per owner per week; NaN when no owner */
};

/* The distribution of CTAs per owner per ISO week over [from, to], as
 * defined above. v need not be sorted; days outside the counted weeks are
 * ignored. */
void quality_owner_weeks(const struct quality_open *v, size_t n, size_t n_owners, int32_t from,
                         int32_t to, struct quality_weeks *out);

#endif
