/* process.h: the team's process metrics from tend's own records (tend
 * analyze process, docs/analysis.md "Process").
 *
 * Per ISO week (Monday to Sunday) and per owner, and for the team:
 *
 * - CTAs opened in the week (a cohort), and of them: acted on by a person
 *   (a history entry by someone other than tend: snooze, close, assign, a
 *   note), the days from the open to that first action (median and 90th
 *   percentile, numpy's linear interpolation), how they stand as of the
 *   as-of day (closed by a person with a reason, auto-resolved, expired,
 *   closed because the account churned, still live), and overdue: the due
 *   day passed before a person acted (or with nobody acting by the as-of
 *   day). Owner: the CTA's owner now.
 * - Outreach to the owner's accounts in the week: Outreach Sent events and
 *   notes of kind call, email, meeting or text ("contacts"), per account
 *   owned; coverage: the share of the owner's accounts that a person
 *   touched (a contact, any note, or an action on one of its CTAs) in the
 *   four weeks ending with this one. Owner: the account's csm_email now.
 *
 * Control limits, so a real change stands out from noise (computed over
 * the weeks shown, per owner and for the team):
 * - overdue share: a p-chart, centre p = sum(overdue) / sum(opened), the
 *   week's limits p +- 3 sqrt(p (1 - p) / n_week), within [0, 1];
 * - median days to first action and contacts per account: XmR charts,
 *   centre the mean x of the weeks with a value, limits x +- 2.66 mR where
 *   mR is the mean absolute difference of consecutive such weeks (2.66 =
 *   3 / d2, d2 = 1.128 for moving ranges of two).
 * A week outside its limits is a signal. Pure computation over plain
 * arrays (process_compute) and the store's reading (process_run). */
#ifndef TEND_ANALYSIS_PROCESS_H
#define TEND_ANALYSIS_PROCESS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define PROCESS_ERR_BYTES 256
/* Weeks a report covers, at most (two years). */
#define PROCESS_MAX_WEEKS 104
/* The group name of the whole team's rows. */
#define PROCESS_TEAM "(team)"

/* One CTA as the metrics see it. */
struct process_cta {
    int owner; /* index into the owners */
    int32_t opened_day, due_day;
    int status;               /* enum cta_status */
    int closed_reason;        /* enum cta_close_reason, when closed */
    int32_t first_action_day; /* INT32_MAX: no person acted */
};

/* A person's touch of an account: contact (outreach) or not. */
struct process_touch {
    int owner;
    int64_t account_id;
    int32_t day;
    bool contact;
};

/* A chart's value with its limits for one week. */
struct process_point {
    bool has; /* the week has a value */
    double v;
    bool has_limits; /* enough weeks for limits */
    double lcl, ucl;
    bool signal;
};

struct process_row {
    int owner; /* -1: the team */
    int32_t week;
    int64_t opened, acted, closed_by_person, auto_resolved, expired, churned, live, overdue;
    double p90_days; /* NaN when none acted */
    struct process_point median_days, overdue_share, contacts_per_account;
    int64_t contacts, accounts, accounts_touched_4w;
    double coverage_4w; /* NaN without accounts */
};

struct process_input {
    const char *const *owners; /* names, n_owners */
    int n_owners;
    const int64_t *accounts_of; /* accounts owned now, by owner */
    const struct process_cta *ctas;
    size_t n_ctas;
    const struct process_touch *touches;
    size_t n_touches;
    int32_t from_week, to_week; /* Mondays; to_week >= from_week */
    int32_t as_of;
};

/* The rows: for the team, then each owner in the input's order, each
 * group's weeks in order; *n rows, malloced (the caller frees). */
struct process_row *process_compute(const struct process_input *in, size_t *n);

struct process_report {
    int32_t as_of, from_week, to_week;
    char **owners;
    int n_owners;
    struct process_row *rows;
    size_t n_rows;
};

/* Reads the store and computes the report for the weeks of from..to (days)
 * as of as_of; on a store error returns it with the message in err. */
enum tend_err process_run(struct store *s, int32_t from, int32_t to, int32_t as_of,
                          struct process_report *out, char *err);
void process_report_free(struct process_report *r);
/* The report as JSON (docs/analysis.md); the caller owns it. */
cJSON *process_json(const struct process_report *r);
/* The CSV/table columns and a row's cells as text (NULL: empty), for the
 * CLI: cells has PROCESS_COLUMNS entries of 32 bytes. */
#define PROCESS_COLUMNS 27
extern const char *const process_columns[PROCESS_COLUMNS];
void process_row_cells(const struct process_report *r, const struct process_row *row,
                       char cells[PROCESS_COLUMNS][64], bool present[PROCESS_COLUMNS]);

#endif
