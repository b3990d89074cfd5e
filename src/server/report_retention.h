/* report_retention.h: the HTML report of tend analyze retention (pure, made
 * of report.h's pieces; report_retention.c). */
#ifndef TEND_SERVER_REPORT_RETENTION_H
#define TEND_SERVER_REPORT_RETENTION_H

#include "analysis/retention.h"
#include "util/buf.h"

/* Appends the report of r to b: what the figures mean, the periods' table,
 * and the reasons of expansion, contraction and churn by MRR. */
void retention_report(struct buf *b, const struct retention_result *r);
/* The reasons by NRR impact (by: the reasons, largest MRR first) with their
 * cost to serve, for tend analyze --reasons. */
void retention_reasons_report(struct buf *b, const struct retention_result *r,
                              const struct retention_reason *const *by);

#endif
