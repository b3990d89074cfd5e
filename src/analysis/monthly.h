/* monthly.h: the monthly CS report for leadership (tend report monthly,
 * GET /reports/monthly; docs/analysis.md "The monthly CS report"), as a
 * view (JSON) that server/dash_monthly.c renders as a printable page.
 *
 * For one calendar month: its retention exactly as tend analyze retention
 * --from --to computes it for the month (analysis/retention.h: NRR, GRR,
 * logo churn, expansion, contraction, churned and new MRR, each also as
 * ARR), saved and lost ARR (lost: the month's contraction and churn x 12;
 * saved: the ARR the randomised holdouts show delivering CTAs kept, with
 * its interval; analysis/impact.h), the revenue at risk on the month's last
 * scored day (p_churn x ARR of the churn-risk model), the KPI board over
 * the month's weeks and the eight before (analysis/kpis.h), and the
 * churn-risk model's accuracy (held-out AUC and Brier score of the model
 * that scored the month's end, beside the health score's AUC). */
#ifndef TEND_ANALYSIS_MONTHLY_H
#define TEND_ANALYSIS_MONTHLY_H

#include <cjson/cJSON.h>

#include "core/kpi.h"
#include "store/store.h"

#define MONTHLY_ERR_BYTES 256

/* Parses "YYYY-MM" into the month's first and last day; false when not. */
bool monthly_parse(const char *s, int32_t *first, int32_t *last);
/* The report of the month first..last as a view; *out owned by the caller.
 * On a store error returns it with the message in err. */
enum tend_err monthly_report(struct store *s, const struct kpi_config *kpis, int32_t first,
                             int32_t last, cJSON **out, char *err);

#endif
