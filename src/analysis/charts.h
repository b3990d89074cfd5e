/* charts.h: standalone SVG charts of the survival and cohort analyses, pure
 * (text into a buffer; the caller writes the file). Each is a complete SVG
 * document with a title, labelled axes with units and a legend, readable in
 * a browser or an image viewer without a stylesheet or script. */
#ifndef TEND_ANALYSIS_CHARTS_H
#define TEND_ANALYSIS_CHARTS_H

#include <stddef.h>

#include "stats/cohort.h"
#include "stats/survival.h"
#include "util/buf.h"

struct chart_curve {
    const char *name;
    const struct stats_km *km;
};

/* Kaplan-Meier step curves with their 95% bands (shaded), share of
 * accounts not yet churned (%) against days since time_origin; x runs to
 * max_days. */
void chart_km_svg(struct buf *b, const char *title, const char *time_origin,
                  const struct chart_curve *c, size_t n, double max_days);

struct chart_cohorts {
    const char *metric;
    const struct stats_cohorts *co;
};

/* One bar chart per metric (small multiples, two per row): the outcome rate
 * (%) of each cohort, left to right from the lowest values, each bar labelled
 * with its range of values and n; a small cohort's bar hatched and marked;
 * the overall rate as a dashed line. */
void chart_cohorts_svg(struct buf *b, const char *title, const char *outcome,
                       const struct chart_cohorts *c, size_t n);

#endif
