/* monthly.h: the monthly CS report for leadership (tend report monthly,
 * GET /reports/monthly; docs/analysis.md "The monthly CS report"), as a
 * view (JSON) that server/dash_monthly.c renders as a printable page.
 *
 * For one calendar month: churned logos and ARR (lost), the ARR the
 * randomised holdout shows delivering CTAs kept (saved, with its interval;
 * analysis/impact.h), the revenue at risk on the month's last scored day
 * (p_churn x ARR of the churn-risk model), the KPI board over the month's
 * weeks and the eight before (analysis/kpis.h), and the churn-risk model's
 * accuracy (held-out AUC and Brier score of the model that scored the
 * month's end, beside the health score's AUC). NRR and GRR belong to the
 * revenue outcomes (tend analyze retention); the report keeps their place
 * and says so until they are there. */
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
