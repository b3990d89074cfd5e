/* retention.h: tend analyze retention: GRR, NRR, logo churn and the split of
 * the revenue movement into expansion, contraction and churn, per period and
 * per group (docs/analysis.md, "Retention").
 *
 * Reads every revenue fact up to the window's end (store_revenue_each), makes
 * each account's MRR path (core/revenue.h) and adds it to each period: one
 * account at a time, so memory is one account's facts plus the table of
 * periods x groups, both bounded (RETENTION_MAX_PERIODS, _MAX_GROUPS).
 * Groups are the account's segment, plan or owner as tend knows them now.
 * Besides the periods, each reason's movements over the whole window (the
 * reasons Pareto of expansion, contraction and churn), with their NRR
 * impact and, read on demand (retention_costs), what serving those accounts
 * cost: tickets, outreach and CTAs per account. */
#ifndef TEND_ANALYSIS_RETENTION_H
#define TEND_ANALYSIS_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/revenue.h"
#include "store/store.h"

#define RETENTION_MAX_PERIODS  600  /* 50 years by month */
#define RETENTION_MAX_GROUPS   1000 /* distinct segments, plans or owners */
#define RETENTION_ERR_BYTES    256
#define RETENTION_PERIOD_BYTES 40

enum retention_by { RETENTION_WHOLE, RETENTION_MONTH, RETENTION_QUARTER };
enum retention_group { RETENTION_ALL, RETENTION_SEGMENT, RETENTION_PLAN, RETENTION_OWNER };

struct retention_options {
    int32_t from, to; /* days, inclusive */
    enum retention_by by;
    enum retention_group group;
    bool list_movements; /* keep every movement of the window (movements below) */
};

/* One movement of one account in the window (--movements). */
struct retention_movement {
    const char *account;   /* external id; owned by the result */
    const char *group;     /* the account's group ("all" without one); owned by the result */
    struct rev_movement m; /* m.reason owned by the result */
};

/* One period of one group ("all": every account). */
struct retention_row {
    int32_t first_day, last_day;
    const char *group; /* owned by the result */
    struct rev_figures f;
    struct rev_rates r;
};

/* The window's movements of one kind and reason (the reasons Pareto):
 * expansion, contraction, churn; count and MRR. */
struct retention_reason {
    enum rev_kind kind;
    const char *reason; /* owned by the result; "(none given)" when none */
    int64_t count;
    double mrr;
    double nrr_impact; /* signed mrr over the window's starting MRR (NaN: none) */
    /* The accounts with such a movement, and what serving them cost in the
     * window per account (retention_costs; NaN before). */
    int64_t *ids; /* owned by the result, ascending */
    size_t n_ids, cap_ids;
    double tickets, outreach, ctas;
};

struct retention_result {
    struct retention_options o;
    struct retention_row *rows; /* by period, "all" first, then groups by name */
    size_t n_rows;
    struct retention_reason *reasons; /* by kind, then MRR, largest first */
    size_t n_reasons;
    size_t accounts; /* accounts with a revenue fact up to the end */
    int64_t movements[REV_KIND_COUNT];
    struct retention_movement *list; /* with list_movements: by account, then time */
    size_t n_list, cap_list;
    char **strings; /* what rows and reasons point at */
    size_t n_strings;
};

/* Runs the analysis. TEND_ERR_INVALID with a message in err when the window
 * has too many periods or groups; store errors as they are (message in
 * err). */
enum tend_err retention_run(struct store *s, const struct retention_options *o,
                            struct retention_result *out, char *err);
void retention_result_free(struct retention_result *r);

/* Fills each reason's cost to serve: the tickets opened, outreach sent and
 * CTAs opened in the window, per account that had such a movement. Store
 * errors as they are (message in err). */
enum tend_err retention_costs(struct store *s, struct retention_result *r, char *err);

/* The reasons by |NRR impact|, largest first, into out (r->n_reasons
 * pointers, borrowed): the Pareto of what moved the revenue most. */
void retention_reasons_by_impact(const struct retention_result *r,
                                 const struct retention_reason **out);

/* "2024-03", "2024-Q1", or "2024-01-01..2024-12-31" for the whole window,
 * into buf (RETENTION_PERIOD_BYTES). */
const char *retention_period_name(const struct retention_result *r, const struct retention_row *row,
                                  char *buf);

#endif
