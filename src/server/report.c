/* report.c: the HTML of tend analyze's and tend backtest's reports (see
 * report.h): four inline SVG charts, tables, sections, and the standalone page.
 *
 * What it is not: no statistics (the callers compute coefficients, curves,
 * shares and lead times), no I/O, no clock.
 *
 * The design: every chart is a <figure> with a caption and one SVG whose
 * viewBox is fixed in width (720 or 640 units, scaled by CSS to the column) and
 * whose height follows the rows it draws, so a coordinate is always inside the
 * viewBox: values are mapped through an axis whose range covers every finite
 * value drawn, and what lies outside a fixed range (a ROC point past 1) is
 * clamped. Colours are presentation attributes (the dashboard's CSP allows no
 * style attribute), and every chart reads without colour too: significance is
 * a filled versus a hollow marker, ROC curves differ in dash pattern as well.
 * Outside text goes through html.h's escaper, cut to a length that fits its
 * place, with the full text in the element's <title> tooltip. A chart with
 * nothing finite to draw is a caption and a sentence, never an empty axis. */
#include "server/report.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "server/dash.h"
#include "server/html.h"

#define CAP_LABEL  28 /* characters of a row name or legend label */
#define CAP_CAT    20 /* characters of a bar's label under the axis */
#define MAX_BARS   40 /* bars drawn in a Pareto chart; the rest are counted */
#define MAX_BINS   120
#define MAX_CURVES 12
#define MAX_ABS    1e12 /* larger coefficients and lead times are drawn as absent */

/* The palette of html.c and dash_css. */
#define COLOR_TEXT  "#475467"
#define COLOR_AXIS  "#98a2b3"
#define COLOR_GRID  "#eaecf0"
#define COLOR_MAIN  "#175cd3"
#define COLOR_LIGHT "#98a2b3"
#define COLOR_BAR   "#84adff"
#define COLOR_MARK  "#d92d20"

static const char *const curve_colors[] = {"#175cd3", "#dd2590", "#0e9384",
                                           "#a15c07", "#7a5af8", "#d92d20"};
static const char *const curve_dashes[] = {"", "6 3", "2 3", "8 3 2 3"};

/* ---- pieces ---------------------------------------------------------------- */

/* Whether v can be drawn: finite and not so large that an axis over it
 * would overflow (a coefficient of 1e12 is a separated fit, not a value). */
static bool usable(double v) {
    return isfinite(v) && fabs(v) < MAX_ABS;
}

/* The axis of a chart: a value range mapped onto [px_lo, px_hi]. */
struct axis {
    double lo, hi, step;
    double px_lo, px_hi;
    int decimals; /* of the tick labels */
};

/* A step of 1, 2 or 5 times a power of ten that cuts span into about n parts. */
static double nice_step(double span, int n) {
    if (!(span > 0) || !isfinite(span))
        return 1;
    double raw = span / n;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* An axis over [lo, hi] widened to whole steps, about n ticks. */
static void axis_fit(struct axis *a, double lo, double hi, int n, double px_lo, double px_hi) {
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    a->step = nice_step(hi - lo, n);
    a->lo = floor(lo / a->step + 1e-9) * a->step;
    a->hi = ceil(hi / a->step - 1e-9) * a->step;
    if (!(a->hi > a->lo))
        a->hi = a->lo + a->step;
    a->px_lo = px_lo;
    a->px_hi = px_hi;
    double d = -floor(log10(a->step) + 1e-9);
    a->decimals = d < 0 ? 0 : d > 6 ? 6 : (int)d;
}

/* The pixel of value v, clamped to the axis. */
static double axis_px(const struct axis *a, double v) {
    double t = (v - a->lo) / (a->hi - a->lo);
    t = !(t > 0) ? 0 : t > 1 ? 1 : t;
    return a->px_lo + t * (a->px_hi - a->px_lo);
}

/* The ticks of a, as values, in *n (at most 64). */
static size_t axis_ticks(const struct axis *a, double *out) {
    size_t n = 0;
    for (double v = a->lo; v <= a->hi + a->step * 1e-6 && n < 64; v = a->lo + a->step * (double)n)
        out[n++] = fabs(v) < a->step * 1e-9 ? 0 : v;
    return n;
}

/* Opens the figure and its SVG: caption, viewBox, <title> (all outside text). */
static void fig_open(struct buf *b, const char *title, double w, double h) {
    buf_puts(b, "<figure class=\"report-fig\"><figcaption>");
    html_esc(b, title);
    buf_printf(b,
               "</figcaption><svg class=\"report-chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
               "font-size=\"11\" fill=\"" COLOR_TEXT "\"><title>",
               w, h);
    html_esc(b, title);
    buf_puts(b, "</title>");
}

static void fig_close(struct buf *b) {
    buf_puts(b, "</svg></figure>\n");
}

/* A chart with nothing to draw: the caption and why (trusted text). */
static void fig_note(struct buf *b, const char *title, const char *why) {
    buf_puts(b, "<figure class=\"report-fig\"><figcaption>");
    html_esc(b, title);
    buf_printf(b, "</figcaption><p class=\"report-note\">%s</p></figure>\n", why);
}

static void line(struct buf *b, double x1, double y1, double x2, double y2, const char *color,
                 const char *extra) {
    buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"%s%s/>", x1,
               y1, x2, y2, color, extra ? " " : "", extra ? extra : "");
}

/* Appends <text> at (x, y) with anchor, its content the number v with
 * decimals and suffix (NULL: none) after it. */
static void text_number(struct buf *b, double x, double y, const char *anchor, double v,
                        int decimals, const char *suffix) {
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x, y, anchor);
    html_number(b, v, decimals);
    buf_printf(b, "%s</text>", suffix ? suffix : "");
}

/* A vertical axis at x (labels to its left when left, else right) with a
 * grid line across [x_from, x_to] at each tick. */
static void y_axis(struct buf *b, const struct axis *a, double x, bool left, double x_from,
                   double x_to, const char *suffix, double scale) {
    double t[64];
    size_t n = axis_ticks(a, t);
    for (size_t i = 0; i < n; i++) {
        double y = axis_px(a, t[i]);
        if (left)
            line(b, x_from, y, x_to, y, COLOR_GRID, NULL);
        /* scale 100 shows shares as percentages: two decimals fewer */
        int decimals = scale == 100 ? (a->decimals > 2 ? a->decimals - 2 : 0) : a->decimals;
        text_number(b, left ? x - 6 : x + 6, y + 4, left ? "end" : "start", t[i] * scale, decimals,
                    suffix);
    }
    line(b, x, axis_px(a, a->lo), x, axis_px(a, a->hi), COLOR_AXIS, NULL);
}

/* A horizontal axis at y with tick labels under it and grid lines up to y_top. */
static void x_axis(struct buf *b, const struct axis *a, double y, double y_top) {
    double t[64];
    size_t n = axis_ticks(a, t);
    for (size_t i = 0; i < n; i++) {
        double x = axis_px(a, t[i]);
        line(b, x, y_top, x, y, COLOR_GRID, NULL);
        text_number(b, x, y + 15, "middle", t[i], a->decimals, NULL);
    }
    line(b, axis_px(a, a->lo), y, axis_px(a, a->hi), y, COLOR_AXIS, NULL);
}

/* An axis label (outside text): centred at (x, y), turned by rotate degrees. */
static void axis_label(struct buf *b, double x, double y, int rotate, const char *label) {
    if (!label || !*label)
        return;
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"600\"", x, y);
    if (rotate)
        buf_printf(b, " transform=\"rotate(%d %.1f %.1f)\"", rotate, x, y);
    buf_putc(b, '>');
    html_esc_cut(b, label, 60);
    buf_puts(b, "</text>");
}

/* ---- the forest plot ------------------------------------------------------- */

#define COEF_W     720.0
#define COEF_LEFT  200.0 /* names */
#define COEF_RIGHT 180.0 /* "0.42 [0.10, 0.74]" */
#define COEF_TOP   12.0
#define COEF_ROW   26.0
#define COEF_FOOT  64.0 /* tick labels, x label, legend */

static bool significant(const struct report_coef *c) {
    return isfinite(c->p) && c->p < 0.05;
}

/* Appends "p = 0.012" or "p < 0.001". */
static void put_p(struct buf *b, double p) {
    if (!isfinite(p))
        return;
    if (p < 0.001) {
        buf_puts(b, "p &lt; 0.001");
    } else {
        buf_puts(b, "p = ");
        html_number(b, p, 3);
    }
}

void report_coef_plot(struct buf *b, const char *title, const char *x_label,
                      const struct report_coef *c, size_t n) {
    double lo = 0, hi = 0;
    size_t drawn = 0;
    for (size_t i = 0; i < n; i++) {
        if (!usable(c[i].coef))
            continue;
        drawn++;
        double v[3] = {c[i].coef, c[i].ci_low, c[i].ci_high};
        for (size_t k = 0; k < 3; k++)
            if (usable(v[k])) {
                lo = fmin(lo, v[k]);
                hi = fmax(hi, v[k]);
            }
    }
    if (drawn == 0) {
        fig_note(b, title, "No coefficient could be estimated.");
        return;
    }
    double plot_bottom = COEF_TOP + (double)n * COEF_ROW;
    double h = plot_bottom + COEF_FOOT;
    struct axis x;
    axis_fit(&x, lo, hi, 6, COEF_LEFT, COEF_W - COEF_RIGHT);
    fig_open(b, title, COEF_W, h);
    x_axis(b, &x, plot_bottom, COEF_TOP);
    line(b, axis_px(&x, 0), COEF_TOP, axis_px(&x, 0), plot_bottom, COLOR_TEXT,
         "stroke-dasharray=\"4 3\" class=\"zero\"");
    for (size_t i = 0; i < n; i++) {
        double y = COEF_TOP + ((double)i + 0.5) * COEF_ROW;
        bool sig = significant(&c[i]);
        const char *color = sig ? COLOR_MAIN : COLOR_LIGHT;
        buf_puts(b, "<g class=\"coef\"><title>");
        html_esc(b, c[i].name);
        buf_puts(b, ": ");
        html_number(b, c[i].coef, 3);
        if (usable(c[i].ci_low) && usable(c[i].ci_high)) {
            buf_puts(b, " (95% CI ");
            html_number(b, c[i].ci_low, 3);
            buf_puts(b, " to ");
            html_number(b, c[i].ci_high, 3);
            buf_putc(b, ')');
        }
        if (isfinite(c[i].p)) {
            buf_puts(b, ", ");
            put_p(b, c[i].p);
        }
        buf_printf(b, "</title><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", COEF_LEFT - 10,
                   y + 4);
        html_esc_cut(b, c[i].name, CAP_LABEL);
        buf_puts(b, "</text>");
        if (usable(c[i].coef)) {
            if (usable(c[i].ci_low) && usable(c[i].ci_high)) {
                double x1 = axis_px(&x, c[i].ci_low), x2 = axis_px(&x, c[i].ci_high);
                const char *dash = sig ? "stroke-width=\"2\""
                                       : "stroke-width=\"1.5\" "
                                         "stroke-dasharray=\"3 2\"";
                line(b, x1, y, x2, y, color, dash);
                line(b, x1, y - 4, x1, y + 4, color, NULL);
                line(b, x2, y - 4, x2, y + 4, color, NULL);
            }
            double cx = axis_px(&x, c[i].coef);
            if (sig)
                buf_printf(b,
                           "<rect class=\"sig\" x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" "
                           "fill=\"%s\"/>",
                           cx - 4.5, y - 4.5, color);
            else
                buf_printf(b,
                           "<circle class=\"nonsig\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" "
                           "fill=\"#fff\" stroke=\"%s\" stroke-width=\"1.5\"/>",
                           cx, y, color);
        }
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", COEF_W - COEF_RIGHT + 12, y + 4);
        if (!usable(c[i].coef)) {
            buf_puts(b, "not estimated");
        } else {
            html_number(b, c[i].coef, 2);
            if (usable(c[i].ci_low) && usable(c[i].ci_high)) {
                buf_puts(b, " [");
                html_number(b, c[i].ci_low, 2);
                buf_puts(b, ", ");
                html_number(b, c[i].ci_high, 2);
                buf_putc(b, ']');
            }
        }
        buf_puts(b, "</text></g>");
    }
    axis_label(b, (COEF_LEFT + COEF_W - COEF_RIGHT) / 2, plot_bottom + 34, 0, x_label);
    double ly = plot_bottom + 54;
    buf_printf(b,
               "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"" COLOR_MAIN "\"/>"
               "<text x=\"%.1f\" y=\"%.1f\">p &lt; 0.05</text>"
               "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#fff\" stroke=\"" COLOR_LIGHT
               "\" stroke-width=\"1.5\"/><text x=\"%.1f\" y=\"%.1f\">not significant</text>"
               "<text x=\"%.1f\" y=\"%.1f\">lines: 95%% intervals</text>",
               COEF_LEFT, ly - 8.5, COEF_LEFT + 14, ly, COEF_LEFT + 94.5, ly - 4, COEF_LEFT + 104,
               ly, COEF_LEFT + 214, ly);
    fig_close(b);
}

/* ---- ROC curves ------------------------------------------------------------ */

#define ROC_W     640.0
#define ROC_LEFT  56.0
#define ROC_TOP   12.0
#define ROC_SIZE  320.0
#define ROC_FOOT  44.0
#define ROC_LEG_X (ROC_LEFT + ROC_SIZE + 28.0)
#define ROC_LEG_H 20.0

void report_roc(struct buf *b, const char *title, const struct report_curve *c, size_t n) {
    size_t curves = n > MAX_CURVES ? MAX_CURVES : n, with_points = 0;
    for (size_t i = 0; i < curves; i++) {
        for (size_t k = 0; c[i].fpr && c[i].tpr && k < c[i].n; k++)
            if (isfinite(c[i].fpr[k]) && isfinite(c[i].tpr[k])) {
                with_points++;
                break;
            }
    }
    if (with_points == 0) {
        fig_note(b, title, "No ROC curve to draw.");
        return;
    }
    double legend_h = ROC_TOP + ROC_LEG_H * (double)(curves + 2);
    double h = fmax(ROC_TOP + ROC_SIZE + ROC_FOOT, legend_h);
    struct axis x, y;
    axis_fit(&x, 0, 1, 5, ROC_LEFT, ROC_LEFT + ROC_SIZE);
    axis_fit(&y, 0, 1, 5, ROC_TOP + ROC_SIZE, ROC_TOP);
    fig_open(b, title, ROC_W, h);
    x_axis(b, &x, ROC_TOP + ROC_SIZE, ROC_TOP);
    y_axis(b, &y, ROC_LEFT, true, ROC_LEFT, ROC_LEFT + ROC_SIZE, NULL, 1);
    line(b, ROC_LEFT, ROC_TOP + ROC_SIZE, ROC_LEFT + ROC_SIZE, ROC_TOP, COLOR_AXIS,
         "stroke-dasharray=\"4 4\" class=\"diagonal\"");
    axis_label(b, ROC_LEFT + ROC_SIZE / 2, ROC_TOP + ROC_SIZE + 34, 0, "False positive rate");
    axis_label(b, 16, ROC_TOP + ROC_SIZE / 2, -90, "True positive rate");
    for (size_t i = 0; i < curves; i++) {
        const char *color = curve_colors[i % (sizeof curve_colors / sizeof curve_colors[0])];
        const char *dash = curve_dashes[i % (sizeof curve_dashes / sizeof curve_dashes[0])];
        buf_puts(b, "<g class=\"curve\"><title>");
        html_esc(b, c[i].label);
        buf_puts(b, ": AUC ");
        html_number(b, c[i].auc, 3);
        buf_puts(b, "</title>");
        size_t points = 0;
        for (size_t k = 0; c[i].fpr && c[i].tpr && k < c[i].n; k++) {
            if (!isfinite(c[i].fpr[k]) || !isfinite(c[i].tpr[k]))
                continue;
            if (points++ == 0)
                buf_printf(b,
                           "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                           "stroke-linejoin=\"round\"%s%s%s points=\"",
                           color, *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
            else
                buf_putc(b, ' ');
            buf_printf(b, "%.1f,%.1f", axis_px(&x, c[i].fpr[k]), axis_px(&y, c[i].tpr[k]));
        }
        if (points)
            buf_puts(b, "\"/>");
        buf_puts(b, "</g>");
        double ly = ROC_TOP + 10 + ROC_LEG_H * (double)i;
        buf_printf(b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"2\"%s%s%s/>",
                   ROC_LEG_X, ly - 4, ROC_LEG_X + 24, ly - 4, color,
                   *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", ROC_LEG_X + 30, ly);
        html_esc_cut(b, c[i].label, CAP_LABEL);
        buf_puts(b, " (AUC ");
        html_number(b, c[i].auc, 3);
        buf_puts(b, ")</text>");
    }
    double ly = ROC_TOP + 10 + ROC_LEG_H * (double)curves;
    line(b, ROC_LEG_X, ly - 4, ROC_LEG_X + 24, ly - 4, COLOR_AXIS, "stroke-dasharray=\"4 4\"");
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">chance (AUC 0.5)</text>", ROC_LEG_X + 30, ly);
    if (n > curves)
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">and %zu more not drawn</text>", ROC_LEG_X + 30,
                   ly + ROC_LEG_H, n - curves);
    fig_close(b);
}

/* ---- the Pareto chart ------------------------------------------------------ */

#define PARETO_W      720.0
#define PARETO_LEFT   72.0
#define PARETO_RIGHT  56.0
#define PARETO_TOP    12.0
#define PARETO_PLOT_H 240.0
#define PARETO_FOOT   96.0 /* turned labels */

static bool bar_known(const struct report_bar *r) {
    return isfinite(r->value) && r->value >= 0;
}

void report_pareto(struct buf *b, const char *title, const char *value_label,
                   const struct report_bar *bars, size_t n) {
    double total = 0, max = 0;
    for (size_t i = 0; i < n; i++)
        if (bar_known(&bars[i])) {
            total += bars[i].value;
            max = fmax(max, bars[i].value);
        }
    if (!(total > 0) || !isfinite(total)) {
        fig_note(b, title, "Nothing to draw.");
        return;
    }
    size_t shown = n > MAX_BARS ? MAX_BARS : n;
    double plot_right = PARETO_W - PARETO_RIGHT;
    double bottom = PARETO_TOP + PARETO_PLOT_H;
    double slot = (plot_right - PARETO_LEFT) / (double)shown;
    struct axis y, pct;
    axis_fit(&y, 0, max, 5, bottom, PARETO_TOP);
    axis_fit(&pct, 0, 1, 5, bottom, PARETO_TOP);
    fig_open(b, title, PARETO_W, bottom + PARETO_FOOT);
    y_axis(b, &y, PARETO_LEFT, true, PARETO_LEFT, plot_right, NULL, 1);
    y_axis(b, &pct, plot_right, false, 0, 0, "%", 100);
    line(b, PARETO_LEFT, bottom, plot_right, bottom, COLOR_AXIS, NULL);
    line(b, PARETO_LEFT, axis_px(&pct, 0.8), plot_right, axis_px(&pct, 0.8), COLOR_MARK,
         "stroke-dasharray=\"2 3\" class=\"p80\"");
    axis_label(b, 16, PARETO_TOP + PARETO_PLOT_H / 2, -90, value_label);
    axis_label(b, PARETO_W - 12, PARETO_TOP + PARETO_PLOT_H / 2, 90, "cumulative share");

    double cum = 0;
    struct buf pts;
    buf_init(&pts, 0);
    for (size_t i = 0; i < shown; i++) {
        double cx = PARETO_LEFT + slot * ((double)i + 0.5);
        bool known = bar_known(&bars[i]);
        if (known)
            cum += bars[i].value;
        buf_puts(b, "<g class=\"bar\"><title>");
        html_esc(b, bars[i].label);
        buf_puts(b, ": ");
        html_number(b, known ? bars[i].value : NAN, 2);
        buf_printf(b, " (%lld), cumulative ", (long long)bars[i].count);
        html_number(b, 100 * cum / total, 1);
        buf_puts(b, "%</title>");
        if (known) {
            double top = axis_px(&y, bars[i].value);
            buf_printf(b,
                       "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                       "fill=\"" COLOR_BAR "\"/>",
                       cx - slot * 0.35, top, slot * 0.7, bottom - top);
        }
        buf_puts(b, "</g>");
        double ty = bottom + 12;
        buf_printf(b,
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                   "transform=\"rotate(-40 %.1f %.1f)\">",
                   cx + 3, ty, cx + 3, ty);
        html_esc_cut(b, bars[i].label, CAP_CAT);
        buf_puts(b, "</text>");
        buf_printf(&pts, "%s%.1f,%.1f", i ? " " : "", cx, axis_px(&pct, cum / total));
    }
    buf_printf(b,
               "<polyline class=\"cumulative\" fill=\"none\" stroke=\"" COLOR_MAIN
               "\" stroke-width=\"2\" points=\"%s\"/>",
               buf_str(&pts));
    cum = 0;
    for (size_t i = 0; i < shown; i++) {
        if (bar_known(&bars[i]))
            cum += bars[i].value;
        buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"" COLOR_MAIN "\"/>",
                   PARETO_LEFT + slot * ((double)i + 0.5), axis_px(&pct, cum / total));
    }
    buf_free(&pts);
    buf_puts(b, "</svg>");
    if (n > shown)
        buf_printf(b,
                   "<p class=\"report-note\">The first %d of %zu shown; the shares are of "
                   "all.</p>",
                   MAX_BARS, n);
    buf_puts(b, "</figure>\n");
}

/* ---- the histogram --------------------------------------------------------- */

#define HIST_W      720.0
#define HIST_LEFT   56.0
#define HIST_RIGHT  24.0
#define HIST_TOP    24.0
#define HIST_PLOT_H 200.0
#define HIST_FOOT   48.0

static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

void report_histogram(struct buf *b, const char *title, const char *x_label, const double *values,
                      size_t n, double bin_width) {
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        abort();
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (usable(values[i]))
            v[m++] = values[i];
    if (m == 0) {
        free(v);
        fig_note(b, title, "No values.");
        return;
    }
    qsort(v, m, sizeof *v, cmp_double);
    double median = m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
    double lo = v[0], hi = v[m - 1];
    double w = bin_width;
    if (!isfinite(w) || w <= 0)
        w = nice_step(hi - lo, 10);
    /* Bins from 0 (from further left when a value is negative); widened until
     * there are at most MAX_BINS. */
    double start;
    size_t bins;
    for (;;) {
        start = lo < 0 ? floor(lo / w) * w : 0;
        double span = floor((hi - start) / w) + 1;
        if (span <= MAX_BINS) {
            bins = (size_t)span;
            break;
        }
        w *= 2;
    }
    size_t *counts = calloc(bins, sizeof *counts);
    if (!counts)
        abort();
    size_t most = 0;
    for (size_t i = 0; i < m; i++) {
        double k = floor((v[i] - start) / w);
        size_t at = k < 0 ? 0 : k >= (double)bins ? bins - 1 : (size_t)k;
        if (++counts[at] > most)
            most = counts[at];
    }
    double right = HIST_W - HIST_RIGHT, bottom = HIST_TOP + HIST_PLOT_H;
    struct axis x, y;
    axis_fit(&x, start, start + w * (double)bins, 8, HIST_LEFT, right);
    axis_fit(&y, 0, (double)most, 5, bottom, HIST_TOP);
    if (y.step < 1) {
        axis_fit(&y, 0, (double)(most < 1 ? 1 : most), 1, bottom, HIST_TOP);
        y.step = 1;
        y.decimals = 0;
        y.hi = ceil(y.hi);
    }
    fig_open(b, title, HIST_W, bottom + HIST_FOOT);
    x_axis(b, &x, bottom, HIST_TOP);
    y_axis(b, &y, HIST_LEFT, true, HIST_LEFT, right, NULL, 1);
    for (size_t k = 0; k < bins; k++) {
        if (!counts[k])
            continue;
        double a = start + w * (double)k;
        double x1 = axis_px(&x, a), x2 = axis_px(&x, a + w), top = axis_px(&y, (double)counts[k]);
        buf_printf(b,
                   "<rect class=\"bin\" x=\""
                   "%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"" COLOR_BAR
                   "\" stroke=\"#fff\"><title>",
                   x1, top, x2 - x1, bottom - top);
        html_number(b, a, x.decimals + 1);
        buf_puts(b, " to ");
        html_number(b, a + w, x.decimals + 1);
        buf_printf(b, ": %zu</title></rect>", counts[k]);
    }
    double mx = axis_px(&x, median);
    line(b, mx, HIST_TOP - 4, mx, bottom, COLOR_MARK,
         "stroke-width=\"2\" stroke-dasharray=\"5 3\" class=\"median\"");
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"" COLOR_MARK "\">median ",
               mx + (mx > right - 90 ? -4 : 4), HIST_TOP - 8, mx > right - 90 ? "end" : "start");
    html_number(b, median, 1);
    buf_printf(b, " (n = %zu)</text>", m);
    axis_label(b, (HIST_LEFT + right) / 2, bottom + 36, 0, x_label);
    axis_label(b, 16, HIST_TOP + HIST_PLOT_H / 2, -90, "count");
    fig_close(b);
    free(counts);
    free(v);
}

/* ---- the calibration plot ------------------------------------------------- */

#define CAL_W     640.0
#define CAL_LEFT  64.0
#define CAL_TOP   12.0
#define CAL_SIZE  320.0
#define CAL_FOOT  48.0
#define CAL_LEG_X (CAL_LEFT + CAL_SIZE + 28.0)
#define CAL_LEG_H 20.0
#define CAL_MAX   100 /* bins drawn; the rest are counted */

/* v clamped to [0, 1]: a rate. */
static double unit(double v) {
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* Appends a rate as a percentage with decimals ("4.2%"). */
static void put_rate(struct buf *b, double v, int decimals) {
    html_number(b, 100 * v, decimals);
    buf_putc(b, '%');
}

static bool calib_inside(const struct report_calib *c) {
    return isfinite(c->ci_low) && isfinite(c->ci_high) && c->observed >= c->ci_low - 1e-12 &&
           c->observed <= c->ci_high + 1e-12;
}

void report_calibration(struct buf *b, const char *title, const struct report_calib *c, size_t n) {
    size_t shown = n > CAL_MAX ? CAL_MAX : n, drawn = 0;
    double hi = 0;
    for (size_t i = 0; i < shown; i++) {
        if (!isfinite(c[i].predicted))
            continue;
        drawn++;
        double v[4] = {c[i].predicted, c[i].observed, c[i].ci_low, c[i].ci_high};
        for (size_t k = 0; k < 4; k++)
            if (isfinite(v[k]))
                hi = fmax(hi, unit(v[k]));
    }
    if (drawn == 0) {
        fig_note(b, title, "No calibration bin to draw.");
        return;
    }
    /* One range for both axes, so the diagonal is at 45 degrees; churn rates
     * are small, and a 0-100% square would crowd every point into a corner. */
    struct axis x, y;
    axis_fit(&x, 0, fmax(hi, 0.01), 5, CAL_LEFT, CAL_LEFT + CAL_SIZE);
    if (x.hi > 1)
        x.hi = 1;
    y = x;
    y.px_lo = CAL_TOP + CAL_SIZE;
    y.px_hi = CAL_TOP;
    double legend_h = CAL_TOP + CAL_LEG_H * 6;
    double h = fmax(CAL_TOP + CAL_SIZE + CAL_FOOT, legend_h);
    fig_open(b, title, CAL_W, h);
    double ticks[64];
    size_t nt = axis_ticks(&x, ticks);
    int decimals = x.decimals > 2 ? x.decimals - 2 : 0;
    for (size_t i = 0; i < nt; i++) {
        double px = axis_px(&x, ticks[i]);
        line(b, px, CAL_TOP, px, CAL_TOP + CAL_SIZE, COLOR_GRID, NULL);
        text_number(b, px, CAL_TOP + CAL_SIZE + 15, "middle", ticks[i] * 100, decimals, "%");
    }
    line(b, CAL_LEFT, CAL_TOP + CAL_SIZE, CAL_LEFT + CAL_SIZE, CAL_TOP + CAL_SIZE, COLOR_AXIS,
         NULL);
    y_axis(b, &y, CAL_LEFT, true, CAL_LEFT, CAL_LEFT + CAL_SIZE, "%", 100);
    line(b, axis_px(&x, 0), axis_px(&y, 0), axis_px(&x, x.hi), axis_px(&y, x.hi), COLOR_AXIS,
         "stroke-dasharray=\"4 4\" class=\"diagonal\"");
    axis_label(b, CAL_LEFT + CAL_SIZE / 2, CAL_TOP + CAL_SIZE + 38, 0, "Predicted churn rate");
    axis_label(b, 16, CAL_TOP + CAL_SIZE / 2, -90, "Observed churn rate");
    size_t outside = 0;
    for (size_t i = 0; i < shown; i++) {
        if (!isfinite(c[i].predicted))
            continue;
        bool inside = calib_inside(&c[i]);
        bool has_obs = isfinite(c[i].observed);
        if (has_obs && !inside && isfinite(c[i].ci_low) && isfinite(c[i].ci_high))
            outside++;
        double px = axis_px(&x, unit(c[i].predicted));
        buf_printf(b, "<g class=\"bin%s\"><title>bin %d: predicted ", inside ? "" : " outside",
                   c[i].bin);
        put_rate(b, c[i].predicted, 1);
        buf_puts(b, ", observed ");
        if (has_obs)
            put_rate(b, c[i].observed, 1);
        else
            buf_puts(b, "unknown");
        if (isfinite(c[i].ci_low) && isfinite(c[i].ci_high)) {
            buf_puts(b, " (95% interval ");
            put_rate(b, c[i].ci_low, 1);
            buf_puts(b, " to ");
            put_rate(b, c[i].ci_high, 1);
            buf_putc(b, ')');
        }
        buf_printf(b, ", %lld rows</title>", (long long)c[i].n);
        if (isfinite(c[i].ci_low) && isfinite(c[i].ci_high)) {
            double y1 = axis_px(&y, unit(c[i].ci_low)), y2 = axis_px(&y, unit(c[i].ci_high));
            line(b, px, y1, px, y2, COLOR_LIGHT, "stroke-width=\"1.5\" class=\"ci\"");
            line(b, px - 4, y1, px + 4, y1, COLOR_LIGHT, "stroke-width=\"1.5\"");
            line(b, px - 4, y2, px + 4, y2, COLOR_LIGHT, "stroke-width=\"1.5\"");
        }
        if (has_obs) {
            double py = axis_px(&y, unit(c[i].observed));
            if (inside)
                buf_printf(b,
                           "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"" COLOR_MAIN
                           "\" class=\"observed\"/>",
                           px, py);
            else
                buf_printf(b,
                           "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"#fff\" "
                           "stroke=\"" COLOR_MARK "\" stroke-width=\"2\" class=\"observed\"/>",
                           px - 4.5, py - 4.5);
        }
        buf_puts(b, "</g>");
    }
    double lx = CAL_LEG_X, ly = CAL_TOP + 10;
    line(b, lx, ly - 4, lx + 24, ly - 4, COLOR_AXIS, "stroke-dasharray=\"4 4\"");
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">perfect calibration</text>", lx + 30, ly);
    ly += CAL_LEG_H;
    buf_printf(b,
               "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"" COLOR_MAIN "\"/>"
               "<text x=\"%.1f\" y=\"%.1f\">observed, inside the interval</text>",
               lx + 12, ly - 4, lx + 30, ly);
    ly += CAL_LEG_H;
    buf_printf(
        b,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"#fff\" stroke=\"" COLOR_MARK
        "\" stroke-width=\"2\"/><text x=\"%.1f\" y=\"%.1f\">observed, outside it</text>",
        lx + 7.5, ly - 8.5, lx + 30, ly);
    ly += CAL_LEG_H;
    line(b, lx + 12, ly - 10, lx + 12, ly + 2, COLOR_LIGHT, "stroke-width=\"1.5\"");
    buf_printf(b,
               "<text x=\"%.1f\" y=\"%.1f\">bars: 95%% interval of the rate</text>"
               "<text x=\"%.1f\" y=\"%.1f\">if the prediction were true</text>",
               lx + 30, ly, lx + 30, ly + 14);
    ly += CAL_LEG_H + 14;
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"600\">%zu of %zu bins inside</text>",
               lx, ly, drawn - outside, drawn);
    if (n > shown)
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">and %zu more not drawn</text>", lx,
                   ly + CAL_LEG_H, n - shown);
    fig_close(b);
}

/* ---- tables, sections, the page -------------------------------------------- */

/* Whether a formatted cell is a number ("1,204", "-3.5", "42%"), to align right. */
static bool looks_numeric(const char *s) {
    size_t n = strlen(s);
    return n > 0 && n < 40 && strspn(s, "0123456789.,+-% ") == n && strpbrk(s, "0123456789");
}

void report_table(struct buf *b, const char *const *header, size_t cols, const char *const *cells,
                  size_t rows) {
    buf_puts(b, "<div class=\"table-wrap\"><table class=\"data\">");
    if (header) {
        buf_puts(b, "<thead><tr>");
        for (size_t c = 0; c < cols; c++) {
            buf_puts(b, "<th scope=\"col\">");
            html_esc(b, header[c]);
            buf_puts(b, "</th>");
        }
        buf_puts(b, "</tr></thead>");
    }
    buf_puts(b, "<tbody>\n");
    for (size_t r = 0; r < rows; r++) {
        buf_puts(b, "<tr>");
        for (size_t c = 0; c < cols; c++) {
            const char *cell = cells ? cells[r * cols + c] : NULL;
            buf_puts(b, cell && looks_numeric(cell) ? "<td class=\"num\">" : "<td>");
            if (cell)
                html_esc(b, cell);
            else
                buf_puts(b, HTML_DASH);
            buf_puts(b, "</td>");
        }
        buf_puts(b, "</tr>\n");
    }
    if (rows == 0)
        buf_printf(b, "<tr><td colspan=\"%zu\" class=\"muted\">None.</td></tr>\n", cols ? cols : 1);
    buf_puts(b, "</tbody></table></div>\n");
}

void report_section(struct buf *b, const char *title, const char *text) {
    if (title && *title) {
        buf_puts(b, "<h2 class=\"report-h\">");
        html_esc(b, title);
        buf_puts(b, "</h2>\n");
    }
    if (text && *text) {
        buf_puts(b, "<p class=\"report-text\">");
        html_esc(b, text);
        buf_puts(b, "</p>\n");
    }
}

void report_document(struct buf *out, const char *title, const char *body) {
    buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>");
    html_esc(out, title);
    buf_puts(out, " \xc2\xb7 tend</title>\n<style>\n");
    buf_puts(out, dash_css);
    buf_puts(out, "</style>\n</head>\n<body>\n<main class=\"report-page\">\n<h1>");
    html_esc(out, title);
    buf_puts(out, "</h1>\n<div class=\"report\">\n");
    buf_puts(out, body ? body : "");
    buf_puts(out, "</div>\n</main>\n</body>\n</html>\n");
}
