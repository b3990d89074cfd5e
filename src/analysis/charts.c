/* charts.c: the SVG of the survival curves and the cohort bars (see
 * charts.h). Plain SVG 1.1 text: presentation attributes rather than CSS, so
 * that any viewer draws it the same; names escaped for XML. Colours from a
 * fixed palette of eight distinguishable hues, repeated with a dash pattern
 * past eight curves. */
#include "analysis/charts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const palette[] = {"#c0392b", "#e6a700", "#27ae60", "#7f8c8d",
                                      "#2980b9", "#8e44ad", "#16a085", "#d35400"};
#define PALETTE_N (sizeof palette / sizeof *palette)

static void esc(struct buf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        default:
            buf_putc(b, *s);
        }
    }
}

static void text(struct buf *b, double x, double y, const char *anchor, int size, const char *extra,
                 const char *s) {
    buf_printf(b,
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-family=\"sans-serif\" "
               "font-size=\"%d\"%s>",
               x, y, anchor, size, extra ? extra : "");
    esc(b, s);
    buf_puts(b, "</text>\n");
}

/* A round step for an axis spanning max: 1, 2 or 5 times a power of ten. */
static double nice_step(double max, int ticks) {
    double raw = max / ticks, p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

void chart_km_svg(struct buf *b, const char *title, const char *time_origin,
                  const struct chart_curve *c, size_t n, double max_days) {
    const double W = 760, H = 460, L = 70, R = 180, T = 50, B = 60;
    const double pw = W - L - R, ph = H - T - B;
    if (!(max_days > 0))
        max_days = 1;
    buf_printf(b,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
               W, H, W, H);
    text(b, W / 2, 28, "middle", 16, " font-weight=\"bold\"", title);
    /* The y axis from the lowest point of a curve or band, rounded down to
     * 10%: with little churn the curves would otherwise hug the top. */
    double low = 1;
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < c[i].km->n_points; p++) {
            const struct stats_km_point *q = &c[i].km->pt[p];
            low = fmin(low, isfinite(q->ci_low) ? q->ci_low : q->surv);
        }
    int y0 = (int)floor(low * 10) * 10, tick = 100 - y0 > 50 ? 20 : 10;
    if (y0 % tick)
        y0 -= y0 % tick;
    /* Axes, grid and ticks. */
    for (int pct = y0; pct <= 100; pct += tick) {
        double y = T + ph * (1 - (pct - y0) / (100.0 - y0));
        buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                   L, y, L + pw, y);
        char lab[16];
        snprintf(lab, sizeof lab, "%d%%", pct);
        text(b, L - 6, y + 4, "end", 11, NULL, lab);
    }
    double step = nice_step(max_days, 6);
    for (double d = 0; d <= max_days + 1e-9; d += step) {
        double x = L + pw * d / max_days;
        buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n",
                   x, T + ph, x, T + ph + 5);
        char lab[32];
        snprintf(lab, sizeof lab, "%g", d);
        text(b, x, T + ph + 18, "middle", 11, NULL, lab);
    }
    buf_printf(b, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#333\"/>\n", L, T,
               T + ph, L + pw);
    char xl[200];
    snprintf(xl, sizeof xl, "days since %s", time_origin);
    text(b, L + pw / 2, H - 18, "middle", 12, NULL, xl);
    buf_printf(b,
               "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" font-family=\"sans-serif\" "
               "font-size=\"12\" transform=\"rotate(-90 18 %.1f)\">accounts not yet churned "
               "(%%, 95%% band shaded)</text>\n",
               T + ph / 2, T + ph / 2);
    for (size_t i = 0; i < n; i++) {
        const struct stats_km *km = c[i].km;
        /* Health bands in their own colours. */
        const char *col = palette[i % PALETTE_N];
        static const char *const bands[] = {"red", "yellow", "green", "none"};
        for (size_t k = 0; k < 4; k++)
            if (strcmp(c[i].name, bands[k]) == 0)
                col = palette[k];
        const char *dash = i >= PALETTE_N ? " stroke-dasharray=\"6 3\"" : "";
#define PX(t) (L + pw * ((t) > max_days ? max_days : (t)) / max_days)
#define PY(s) (T + ph * (1 - ((s)*100 - y0) / (100.0 - y0)))
        /* The band: the upper edge forward, the lower edge back. */
        if (km->n_points && isfinite(km->pt[0].ci_high)) {
            buf_printf(b, "<path fill=\"%s\" fill-opacity=\"0.15\" stroke=\"none\" d=\"", col);
            size_t end = 0; /* the points with a band: 0..end-1 */
            while (end < km->n_points && isfinite(km->pt[end].ci_high))
                end++;
            for (size_t p = 0; p < end; p++) {
                const struct stats_km_point *q = &km->pt[p];
                double next = p + 1 < km->n_points ? km->pt[p + 1].time : max_days;
                buf_printf(b, "%c%.1f %.1fH%.1f", p ? 'L' : 'M', PX(q->time), PY(q->ci_high),
                           PX(next));
            }
            for (size_t p = end; p-- > 0;) {
                const struct stats_km_point *q = &km->pt[p];
                double next = p + 1 < km->n_points ? km->pt[p + 1].time : max_days;
                buf_printf(b, "L%.1f %.1fH%.1f", PX(next), PY(q->ci_low), PX(q->time));
            }
            buf_puts(b, "Z\"/>\n");
        }
        buf_printf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"M%.1f %.1f", col,
                   dash, PX(0.0), PY(1.0));
        for (size_t p = 0; p < km->n_points; p++)
            buf_printf(b, "H%.1fV%.1f", PX(km->pt[p].time), PY(km->pt[p].surv));
        buf_printf(b, "H%.1f\"/>\n", PX(max_days));
#undef PX
#undef PY
        /* The legend: name, accounts, churns. */
        double ly = T + 10 + 36 * (double)i;
        buf_printf(b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                   "stroke-width=\"3\"%s/>\n",
                   L + pw + 14, ly, L + pw + 34, ly, col, dash);
        text(b, L + pw + 40, ly + 4, "start", 12, NULL, c[i].name);
        char sub[80];
        snprintf(sub, sizeof sub, "%zu accounts, %zu churned", km->n, km->n_events);
        text(b, L + pw + 40, ly + 18, "start", 10, " fill=\"#555\"", sub);
    }
    buf_puts(b, "</svg>\n");
}

void chart_cohorts_svg(struct buf *b, const char *title, const char *outcome,
                       const struct chart_cohorts *c, size_t n) {
    const double CW = 480, CH = 300, TOP = 50;
    size_t rows = (n + 1) / 2;
    double W = 2 * CW, H = TOP + CH * (double)(rows ? rows : 1) + 30;
    buf_printf(b,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\">\n"
               "<defs><pattern id=\"small\" width=\"6\" height=\"6\" "
               "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
               "<rect width=\"6\" height=\"6\" fill=\"#f3c6c0\"/>"
               "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c0392b\" "
               "stroke-width=\"2\"/></pattern></defs>\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
               W, H, W, H);
    text(b, W / 2, 26, "middle", 16, " font-weight=\"bold\"", title);
    char note[200];
    snprintf(note, sizeof note,
             "hatched: fewer than %d rows, too few to read; dashed line: the overall rate",
             STATS_COHORT_MIN_ROWS);
    text(b, W / 2, H - 10, "middle", 11, " fill=\"#555\"", note);
    for (size_t m = 0; m < n; m++) {
        const struct stats_cohorts *co = c[m].co;
        double ox = CW * (double)(m % 2), oy = TOP + CH * (double)(m / 2);
        double L = ox + 60, T = oy + 30, pw = CW - 80, ph = CH - 100;
        double max_rate = co->rate;
        for (size_t i = 0; i < co->n_cohorts; i++)
            if (isfinite(co->c[i].rate) && co->c[i].rate > max_rate)
                max_rate = co->c[i].rate;
        double step = nice_step(max_rate > 0 ? max_rate * 100 : 1, 4);
        double top = step * ceil((max_rate > 0 ? max_rate * 100 : 1) / step);
        text(b, ox + CW / 2, oy + 16, "middle", 13, " font-weight=\"bold\"", c[m].metric);
        for (double v = 0; v <= top + 1e-9; v += step) {
            double y = T + ph * (1 - v / top);
            buf_printf(b,
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
                       L, y, L + pw, y);
            char lab[24];
            snprintf(lab, sizeof lab, "%g%%", v);
            text(b, L - 5, y + 4, "end", 10, NULL, lab);
        }
        char yl[120];
        snprintf(yl, sizeof yl, "%s rate (%%)", outcome);
        buf_printf(b,
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-family=\"sans-serif\" "
                   "font-size=\"11\" transform=\"rotate(-90 %.1f %.1f)\">",
                   ox + 16, T + ph / 2, ox + 16, T + ph / 2);
        esc(b, yl);
        buf_puts(b, "</text>\n");
        double bw = pw / (double)(co->n_cohorts ? co->n_cohorts : 1);
        for (size_t i = 0; i < co->n_cohorts; i++) {
            const struct stats_cohort *k = &co->c[i];
            double rate = isfinite(k->rate) ? k->rate * 100 : 0;
            double h = ph * rate / top, x = L + bw * (double)i;
            buf_printf(b,
                       "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                       "stroke=\"white\"><title>",
                       x + 1, T + ph - h, bw - 2, h, k->small ? "url(#small)" : "#2980b9");
            char tip[160];
            snprintf(tip, sizeof tip, "%g to %g: %zu rows, %zu events, %.1f%%%s", k->min, k->max,
                     k->n, k->events, rate, k->small ? " (small cohort)" : "");
            esc(b, tip);
            buf_puts(b, "</title></rect>\n");
            char lab[64];
            snprintf(lab, sizeof lab, "%.3g", k->max);
            text(b, x + bw / 2, T + ph + 14, "middle", 9, NULL, lab);
            snprintf(lab, sizeof lab, "n=%zu%s", k->n, k->small ? "*" : "");
            text(b, x + bw / 2, T + ph + 26, "middle", 9,
                 k->small ? " fill=\"#c0392b\"" : " fill=\"#555\"", lab);
        }
        double y = T + ph * (1 - co->rate * 100 / top);
        buf_printf(b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" "
                   "stroke-dasharray=\"5 4\"/>\n",
                   L, y, L + pw, y);
        buf_printf(b, "<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#333\"/>\n", L, T,
                   T + ph, L + pw);
        char xl[200];
        snprintf(xl, sizeof xl, "%s: cohort's highest value (low to high)", c[m].metric);
        text(b, L + pw / 2, T + ph + 44, "middle", 10, NULL, xl);
    }
    buf_puts(b, "</svg>\n");
}
