/* report_survival.h: the HTML report of tend analyze survival (pure, made of
 * report.h's pieces and analysis/charts.h's curves; report_survival.c). */
#ifndef TEND_SERVER_REPORT_SURVIVAL_H
#define TEND_SERVER_REPORT_SURVIVAL_H

#include "analysis/survival.h"
#include "util/buf.h"

/* Appends the report of r to b: who was followed and for how long, the
 * Kaplan-Meier curves by `by` (inline SVG), their medians and the share left
 * at 30, 90, 180 and 365 days, and the Cox table (hazard ratios, standard
 * errors, p-values) with its cautions. Every name from data is escaped. */
void survival_report(struct buf *b, const struct survival_result *r, enum survival_by by);

/* The report's title and one-line summary (cohort, churns, landmark, end),
 * into title (title_len) and summary (summary_len). */
void survival_report_title(const struct survival_result *r, enum survival_by by, char *title,
                           size_t title_len, char *summary, size_t summary_len);

#endif
