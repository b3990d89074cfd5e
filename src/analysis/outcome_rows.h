/* outcome_rows.h: the rows of tend analyze --outcome contraction|expansion
 * (docs/analysis.md, "Other outcomes: contraction and expansion").
 *
 * Churn has its own rows, the renewals and churns. Buying less or more has
 * no such moment: the rows are observations. Every lead_days, counted back
 * from the period's last day, each account that pays then (MRR above 0 at
 * the end of the observation day, core/revenue.h) is a row; its outcome day
 * is lead_days later, and it is positive when the account has a movement of
 * the outcome's kind in between: (observation day, outcome day]. Its
 * features are taken as of the observation day, as churn's are lead_days
 * before the outcome. The same account is a row of every observation at
 * which it pays; the horizons do not overlap. */
#ifndef TEND_ANALYSIS_OUTCOME_ROWS_H
#define TEND_ANALYSIS_OUTCOME_ROWS_H

#include "analysis/analyze.h"

/* Calls fn with each row as a struct store_outcome (churned: positive;
 * ts_ms: 00:00 of the outcome day), outcome days from o->from to o->to, in
 * time order then account order. o->outcome is AO_CONTRACTION or
 * AO_EXPANSION. Store errors as they are. */
enum tend_err analysis_movement_rows(struct store *s, const struct analysis_options *o,
                                     void (*fn)(void *arg, const struct store_outcome *row),
                                     void *arg);

#endif
