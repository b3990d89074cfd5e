/* report.h: the HTML reports of `tend analyze` and `tend backtest`: inline
 * SVG charts and the page around them, pure (appends to a struct buf).
 *
 * A report is an HTML fragment (no <html>, no <head>, no <style>, no script,
 * no inline style attributes: the dashboard serves it under a CSP of
 * style-src 'self', inside its own layout, with /static/tend.css) built from
 * these pieces. report_document() wraps a fragment into a standalone page with
 * the same stylesheet embedded, for the file written with --html. Every text
 * that comes from data (names, reasons, CSMs) is escaped; non-finite numbers
 * are drawn as absent, never as NaN coordinates. Charts have a <title> and
 * axis labels, so they read without colour.
 *
 * Each chart is a <figure class="report-fig"> with the title as its caption
 * and one <svg class="report-chart"> (fixed viewBox width, scaled by CSS);
 * with nothing finite to draw it is the caption and a <p class="report-note">
 * instead of an empty axis. The fragment carries no <h1>: the dashboard's
 * page and report_document() show the report's title as its heading. The
 * classes are styled in dash_css (server/dash_css.c). Every function appends and
 * cannot fail (allocation failure aborts). */
#ifndef TEND_SERVER_REPORT_H
#define TEND_SERVER_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/analyze.h"
#include "analysis/backtest.h"
#include "stats/table.h"
#include "util/buf.h"

/* A coefficient with its 95% interval (forest plot: one row per coefficient,
 * in the given order, a dashed vertical line at 0; significant ones, p < 0.05,
 * drawn solid with a filled marker, the others dashed with a hollow one; the
 * value and interval printed on the right). A coefficient that is not finite
 * keeps its row, marked "not estimated"; an interval with a non-finite end is
 * left out. name is borrowed. */
struct report_coef {
    const char *name;
    double coef, ci_low, ci_high, p;
};
void report_coef_plot(struct buf *b, const char *title, const char *x_label,
                      const struct report_coef *c, size_t n);

/* ROC curves on one chart with the diagonal; the legend gives each curve's
 * label and AUC. Points (fpr[k], tpr[k]) that are not finite are skipped, the
 * others clamped to [0, 1]; curves differ in colour and dash pattern. At most
 * 12 curves are drawn (the legend says how many more). Arrays are borrowed. */
struct report_curve {
    const char *label;
    const double *fpr, *tpr;
    size_t n;
    double auc;
};
void report_roc(struct buf *b, const char *title, const struct report_curve *c, size_t n);

/* A Pareto chart: bars in the given order (the caller sorts, largest first)
 * and the cumulative share as a line on a 0-100% axis, with a dotted line at
 * 80%. value is the bar's height (value_label names it on the left axis);
 * count (e.g. accounts) is shown in the bar's tooltip. A value that is not
 * finite or is negative is absent (no bar, adds nothing). At most 40 bars are
 * drawn, with a note; the shares are of all n. */
struct report_bar {
    const char *label;
    double value;
    int64_t count;
};
void report_pareto(struct buf *b, const char *title, const char *value_label,
                   const struct report_bar *bars, size_t n);

/* A histogram of values (lead times in days) in bins of bin_width from 0
 * (from further left if a value is negative); a vertical marker at the
 * median, labelled with it and the number of values. Values that are not
 * finite are skipped. A bin_width that is not positive is chosen (about 10
 * bins); one giving more than 120 bins is doubled until it does not. Nothing
 * but a note when no value is finite. */
void report_histogram(struct buf *b, const char *title, const char *x_label, const double *values,
                      size_t n, double bin_width);

/* A calibration plot: per bin (e.g. a decile of the predicted probability)
 * the observed rate against the predicted one, on one percentage range for
 * both axes with the diagonal of perfect calibration; a vertical bar shows
 * [ci_low, ci_high], the 95% interval of the observed rate if the prediction
 * were true. A point inside its interval is a filled circle, one outside a
 * hollow red square, so it reads without colour; the legend counts the bins
 * inside. Rates are clamped to [0, 1]; a bin whose predicted rate is not
 * finite is left out, one without an observed rate or interval keeps what it
 * has. At most 100 bins are drawn. The array is borrowed. */
struct report_calib {
    int bin;
    double predicted, observed, ci_low, ci_high;
    int64_t n;
};
void report_calibration(struct buf *b, const char *title, const struct report_calib *c, size_t n);

/* A <table class="data"> from a header and rows of already formatted cells
 * (escaped here), rows * cols of them, row by row. header may be NULL (no
 * <thead>), a NULL cell shows as a dash; a cell that reads as a number
 * ("1,204", "-0.35", "42%") is right-aligned. */
void report_table(struct buf *b, const char *const *header, size_t cols, const char *const *cells,
                  size_t rows);

/* Starts a section: <h2>title</h2> and an optional paragraph (escaped).
 * title NULL or "": the paragraph alone (a note inside the current section). */
void report_section(struct buf *b, const char *title, const char *text);

/* A standalone page: doctype, <title>, the dashboard's stylesheet embedded,
 * the title as <h1> (escaped) and the fragment body (trusted markup, as
 * built with the functions above). */
void report_document(struct buf *out, const char *title, const char *body);

/* The reports themselves (reports.c): tend analyze --lead, --reasons, and
 * tend backtest, each a fragment for store_report_put(). */
void analysis_report(struct buf *b, const struct analysis_result *r);
/* from 0: no start was given (every churn up to to). */
void analysis_reasons_report(struct buf *b, const struct analysis_reasons *r, int32_t from,
                             int32_t to);
void backtest_report(struct buf *b, const struct backtest_result *r);
/* tend analyze --table: fit_per_sd is the fit per standard deviation (the
 * plot compares factors), the ROC curve that of the fitted model. */
void table_report(struct buf *b, const char *path, const char *outcome, const struct stats_table *t,
                  const struct stats_fit *fit_per_sd, double auc, const double *fpr,
                  const double *tpr, size_t roc_len);

#endif
