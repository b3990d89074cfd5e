/* segments.h: accounts in groups, day by day, and the segment_shift rule;
 * pure (docs/dashboard.md "Segments", docs/rules.md "segment_shift").
 *
 * Every day the evaluation adds each customer (a churned account is not
 * one) to three groups: its `segment` trait, its plan and its owner (the
 * csm_email trait); an account without the trait counts under "(none)".
 * A group's day is a row of sums (struct seg_sums), not of means, so that
 * the parts of a day evaluated by several nodes add up exactly
 * (seg_sums_add), and so that a metric over a window of days is the ratio
 * of the window's sums: the health mean over 7 days is every scored
 * account-day's score averaged, not a mean of daily means.
 *
 * segment_shift (seg_shift_evaluate) compares a segment's metrics over the
 * recent days (7) against the days before them (8 weeks): a move of at
 * least `change` (20%) in the bad direction, in a segment of at least
 * `min_accounts` (10) accounts, is a finding keyed by the segment's name.
 *
 * tend.yaml's `segments:` section names each segment's owner
 * (segments.NAME.owner); a segment without one goes to ctas.cs_lead, else
 * ctas.default_owner. Bounded: SEG_MAX_GROUPS groups of a kind a day (the
 * accounts of any further group count under "(other)"), names of at most
 * SEG_NAME_BYTES - 1 bytes (a longer one is "(other)" too). */
#ifndef TEND_CORE_SEGMENTS_H
#define TEND_CORE_SEGMENTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cta.h"
#include "util/err.h"

#define SEG_MAX_GROUPS  256 /* of one kind, a day */
#define SEG_NAME_BYTES  128
#define SEG_EMAIL_BYTES 160
#define SEG_MAX_OWNERS  256 /* segments.NAME.owner entries in tend.yaml */
#define SEG_ERR_BYTES   320
#define SEG_NONE        "(none)"
#define SEG_OTHER       "(other)"
#define SEG_CTA_ACCOUNT 0 /* the account id segment CTAs are stored under */
#define SEG_CTA_PREFIX  "segment:"

enum seg_kind { SEG_BY_SEGMENT, SEG_BY_PLAN, SEG_BY_OWNER, SEG_KIND_COUNT };

/* "segment", "plan", "owner"; seg_kind_parse: false for another name. */
const char *seg_kind_name(enum seg_kind k);
bool seg_kind_parse(const char *name, enum seg_kind *out);

/* One group's day, as sums over its accounts. */
struct seg_sums {
    int64_t accounts;
    int64_t arr_accounts; /* accounts whose ARR is known */
    double arr;
    int64_t scored; /* accounts with a health score */
    double health_sum;
    int64_t red, yellow, green;
    int64_t active_users; /* active_users_30d, summed */
    int64_t logins_7d, feature_events_7d;
    int64_t nps_accounts; /* accounts with an NPS */
    double nps_sum;
    int64_t tickets_30d, tickets_open;
    int64_t open_ctas; /* live CTAs of the accounts after the day's evaluation */
};

void seg_sums_add(struct seg_sums *dst, const struct seg_sums *src);

/* What one account brings to its groups (strings borrowed; NULL or "":
 * none). band: 1 red, 2 yellow, 3 green (enum health_band), 0 none. */
struct seg_account {
    const char *segment, *plan, *owner;
    bool has_arr;
    double arr;
    bool has_score;
    double score;
    int band;
    int64_t active_users_30d, logins_7d, feature_events_7d;
    bool has_nps;
    double nps;
    int64_t tickets_30d, tickets_open;
    int64_t open_ctas;
};

struct seg_group {
    enum seg_kind kind;
    char name[SEG_NAME_BYTES];
    struct seg_sums s;
};

/* The day's groups, built one account at a time. */
struct seg_agg;
struct seg_agg *seg_agg_new(void);
void seg_agg_free(struct seg_agg *a);
void seg_agg_add(struct seg_agg *a, const struct seg_account *x);
/* Adds a group's sums as they are (a part of the day another node
 * aggregated, or a stored row). */
void seg_agg_add_sums(struct seg_agg *a, enum seg_kind kind, const char *name,
                      const struct seg_sums *s);
/* The groups, by kind then name (bytewise); valid until the next add or
 * the free. */
const struct seg_group *seg_agg_groups(const struct seg_agg *a, size_t *n);

/* ---- metrics ------------------------------------------------------------------ */

enum seg_metric {
    SEG_M_HEALTH_MEAN,       /* mean health score of the scored accounts */
    SEG_M_LOGINS_PER_ACTIVE, /* logins in 7 days per user active in 30 */
    SEG_M_FEATURES_PER_ACTIVE,
    SEG_M_NPS,                 /* mean of the accounts' NPS */
    SEG_M_TICKETS_PER_ACCOUNT, /* tickets opened in 30 days per account */
    SEG_M_ARR,
    SEG_M_RED_SHARE, /* share of scored accounts in the red band */
    SEG_M_OPEN_CTAS,
    SEG_M_COUNT
};

const char *seg_metric_name(enum seg_metric m);
/* The metric of sums (a day's, or a window's added up); false when it has
 * no value (no scored account, no active user, no NPS). */
bool seg_metric(const struct seg_sums *s, enum seg_metric m, double *out);

/* ---- tend.yaml's segments: ---------------------------------------------------- */

struct seg_owner {
    char segment[SEG_NAME_BYTES];
    char owner[SEG_EMAIL_BYTES];
};

struct seg_config {
    struct seg_owner owners[SEG_MAX_OWNERS];
    int n_owners;
    char cs_lead[SEG_EMAIL_BYTES]; /* ctas.cs_lead: a segment without an owner */
};

/* Loads `segments:` (a mapping of segment names to {owner: EMAIL}; NULL:
 * none). TEND_ERR_INVALID with err (SEG_ERR_BYTES) naming the path. */
enum tend_err seg_config_load(const cJSON *segments, struct seg_config *c, char *err);
/* A segment's owner: its own, else cs_lead, else fallback, else
 * "unassigned". */
const char *seg_owner_of(const struct seg_config *c, const char *segment, const char *fallback);

/* ---- segment_shift ------------------------------------------------------------- */

/* The rule's settings (rules.segment_shift in tend.yaml). */
struct seg_shift_settings {
    double change;        /* relative move that fires (0.2: 20%) */
    int64_t min_accounts; /* today's accounts in the segment */
    int recent_days;      /* 7: D-6..D */
    int baseline_days;    /* 56: the days before the recent ones */
    double nps_points;    /* NPS moves by points, not by a ratio */
    double clear_margin;  /* clears below change - clear_margin */
    enum cta_priority priority;
};

/* A segment's days: sums by day, day ascending, at most one per day. */
struct seg_day {
    int32_t day;
    struct seg_sums s;
};

/* One metric's comparison. */
struct seg_shift_metric {
    enum seg_metric metric;
    double recent, baseline;
    double change; /* signed: (recent - baseline) / |baseline|; NPS: points */
    bool fires;    /* beyond the threshold in the bad direction */
    bool between;  /* not beyond it, not under it by the clear margin */
};

struct seg_shift_result {
    bool eligible; /* enough accounts today and days of baseline */
    int64_t accounts;
    int baseline_days_seen;
    struct seg_shift_metric m[SEG_M_COUNT];
    int n_m;
    bool fires, between;
    enum cta_priority priority;
    char title[200];
    char reason[480];
    char evidence[1024]; /* JSON object */
};

/* Evaluates segment_shift for one segment as of day from its days (any
 * range; those outside the windows are ignored). */
void seg_shift_evaluate(const struct seg_shift_settings *st, const char *segment, int32_t day,
                        const struct seg_day *days, size_t n, struct seg_shift_result *out);

#endif
