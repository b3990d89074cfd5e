/* kpi.h: the KPI board's configuration, pure (tend.yaml's `kpis:`,
 * docs/analysis.md "The KPI board").
 *
 * The team picks at most KPI_MAX KPIs (Ed Powers: "max 10-12": a board of
 * forty numbers is read by no one) from two families: the team's process
 * metrics (analysis/process.h), and the health score's predictors, the
 * daily sums of the accounts' health and usage (core/segments.h):
 *
 *   kpis:
 *     - overdue_share
 *     - median_days_to_action
 *     - {kpi: health_mean, title: "Average health"}
 *
 * Each KPI is a weekly value for the team and for each owner; the board
 * shows its trend and how it moves with churn (analysis/kpis.h). Without
 * the section the board shows the default set below. */
#ifndef TEND_CORE_KPI_H
#define TEND_CORE_KPI_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "util/err.h"

#define KPI_MAX         12
#define KPI_TITLE_BYTES 80
#define KPI_ERR_BYTES   512

enum kpi_id {
    /* the team's process (analysis/process.h) */
    KPI_CTAS_OPENED,
    KPI_ACTED_SHARE,
    KPI_MEDIAN_DAYS_TO_ACTION,
    KPI_P90_DAYS_TO_ACTION,
    KPI_OVERDUE_SHARE,
    KPI_CLOSED_BY_PERSON_SHARE,
    KPI_EXPIRED_SHARE,
    KPI_CONTACTS_PER_ACCOUNT,
    KPI_COVERAGE_4W,
    /* the health score's predictors (core/segments.h), on the week's last
     * evaluated day */
    KPI_HEALTH_MEAN,
    KPI_RED_SHARE,
    KPI_LOGINS_PER_ACTIVE_USER,
    KPI_NPS_MEAN,
    KPI_TICKETS_PER_ACCOUNT,
    KPI_OPEN_CTAS_PER_ACCOUNT,
    KPI_COUNT
};

struct kpi_entry {
    enum kpi_id id;
    char title[KPI_TITLE_BYTES];
};

struct kpi_config {
    struct kpi_entry v[KPI_MAX];
    int n;
};

/* The KPI's name in tend.yaml ("overdue_share"), its default title, and
 * whether a higher value is better (for the board's arrows). */
const char *kpi_name(enum kpi_id id);
const char *kpi_default_title(enum kpi_id id);
bool kpi_higher_is_better(enum kpi_id id);
/* Whether the KPI is one of the process metrics (else a health predictor). */
bool kpi_is_process(enum kpi_id id);

/* The default board: overdue share, median days to action, contacts per
 * account, coverage, health mean, red share. */
void kpi_config_default(struct kpi_config *c);
/* Loads `kpis:` (a list; NULL: the default). On a mistake returns
 * TEND_ERR_INVALID with err naming the path: "kpis: at most 12 KPIs (13
 * given)", "kpis[2]: unknown KPI \"x\" (known: ...)", "kpis[4]: overdue_share
 * is listed twice". */
enum tend_err kpi_config_load(const cJSON *section, struct kpi_config *c, char *err);

#endif
