/* kpis.h: the KPI board (tend kpis, GET /kpis, docs/analysis.md "The KPI
 * board"): each configured KPI (core/kpi.h) as a weekly series for the
 * team, and how it moves with churn.
 *
 * Process KPIs come from analysis/process.h's rows; health predictors from
 * the daily sums of the accounts by owner (the segments' owner groups, the
 * week's last evaluated day). "How it moves with churn": over every (owner,
 * week) with a value whose next four weeks have passed by the as-of day,
 * Pearson's r between the KPI and the share of the owner's accounts that
 * churned in those four weeks (owner: the account's csm_email now). A
 * correlation, weekly and over few owners: a hint of which KPIs move with
 * churn, not a cause; the board shows n beside r. */
#ifndef TEND_ANALYSIS_KPIS_H
#define TEND_ANALYSIS_KPIS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "analysis/process.h"
#include "core/kpi.h"
#include "store/store.h"

/* Weeks after a KPI's week in which churn is counted. */
#define KPI_OUTCOME_WEEKS 4

struct kpi_series {
    enum kpi_id id;
    char title[KPI_TITLE_BYTES];
    bool has[PROCESS_MAX_WEEKS];
    double team[PROCESS_MAX_WEEKS]; /* the team's value of each week */
    int64_t pairs;                  /* owner-weeks in the correlation */
    bool has_r;
    double r;
};

struct kpi_board {
    int32_t as_of, from_week, to_week;
    int weeks;
    struct kpi_series v[KPI_MAX];
    int n;
};

/* Computes the board of c's KPIs for the weeks of from..to as of as_of; on
 * a store error returns it with the message in err (PROCESS_ERR_BYTES). */
enum tend_err kpi_board_run(struct store *s, const struct kpi_config *c, int32_t from, int32_t to,
                            int32_t as_of, struct kpi_board *out, char *err);
/* Pearson's r of n pairs (NaN when n < 3 or a side does not vary). */
double kpi_pearson(const double *x, const double *y, int64_t n);
/* The board as JSON (docs/api.md, GET /api/kpis); the caller owns it. */
cJSON *kpi_board_json(const struct kpi_board *b);

#endif
