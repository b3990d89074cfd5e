/* report_survival.c: the HTML report of tend analyze survival (see
 * report_survival.h; docs/analysis.md, "Survival"). The curves are
 * charts.c's SVG, the same drawing as --svg, inlined into the fragment: its
 * XML prolog dropped and the report's class added, so the dashboard's CSS
 * scales it (it uses presentation attributes only, no style, allowed under
 * the dashboard's CSP). Figures are rounded for people: shares to 0.1%,
 * days whole, hazard ratios to 4 significant digits; the JSON keeps them
 * exact. */
#include "server/report_survival.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/charts.h"
#include "server/html.h"
#include "server/report.h"
#include "util/datetime.h"
#include "util/mem.h"

/* The days the table shows each curve at (as the CLI's table). */
static const int checkpoints[] = {30, 90, 180, 365};
#define N_CHECKPOINTS (sizeof checkpoints / sizeof *checkpoints)
#define DASH          "\xe2\x80\x94"

struct cells {
    char **v;
    size_t n, cap;
};

static void cell(struct cells *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cell(struct cells *c, const char *fmt, ...) {
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&c->v[c->n], fmt, ap) < 0)
        c->v[c->n] = xstrdup("");
    va_end(ap);
    c->n++;
}

/* A number to 4 significant digits, a dash when not finite. */
static void cell_g4(struct cells *c, double v) {
    if (isfinite(v))
        cell(c, "%.4g", v);
    else
        cell(c, DASH);
}

static void cells_table(struct buf *b, const char *const *header, size_t cols, struct cells *c) {
    report_table(b, header, cols, (const char *const *)c->v, c->n / cols);
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    memset(c, 0, sizeof *c);
}

void survival_report_title(const struct survival_result *r, enum survival_by by, char *title,
                           size_t title_len, char *summary, size_t summary_len) {
    char from[16], to[16];
    dt_format_date(r->o.landmark, from);
    dt_format_date(r->o.end, to);
    snprintf(title, title_len, "Survival by %s, %s to %s", survival_by_name(by), from, to);
    snprintf(summary, summary_len,
             "%zu accounts (customers on %s, the landmark) followed to %s: %zu churned", r->n_rows,
             from, to, r->n_churned);
}

/* The curves as inline SVG inside a report figure. */
static void curves_figure(struct buf *b, const struct chart_curve *c, size_t n, double max_days,
                          const char *title, const char *origin) {
    struct buf svg;
    buf_init(&svg, 0);
    chart_km_svg(&svg, title, origin, c, n, max_days);
    const char *s = buf_str(&svg), *open = strstr(s, "<svg ");
    buf_puts(b, "<figure class=\"report-fig\"><figcaption>");
    html_esc(b, title);
    buf_puts(b, "</figcaption>");
    const char *gt = open ? strchr(open, '>') : NULL;
    if (gt) {
        /* The report's class and an accessible <title>, then the drawing. */
        buf_puts(b, "<svg class=\"report-chart\" role=\"img\" ");
        buf_append(b, open + strlen("<svg "), (size_t)(gt + 1 - open) - strlen("<svg "));
        buf_puts(b, "<title>");
        html_esc(b, title);
        buf_puts(b, "</title>");
        buf_puts(b, gt + 1);
    }
    buf_puts(b, "</figure>\n");
    buf_free(&svg);
}

/* A curve's share left at day d (the step in force then), with its band. */
static void cell_share(struct cells *c, const struct stats_km *km, double d) {
    const struct stats_km_point *p = NULL;
    for (size_t q = 0; q < km->n_points && km->pt[q].time <= d; q++)
        p = &km->pt[q];
    if (!p)
        cell(c, "100.0%%");
    else if (isfinite(p->ci_low) && isfinite(p->ci_high))
        cell(c, "%.1f%% (%.1f to %.1f%%)", 100 * p->surv, 100 * p->ci_low, 100 * p->ci_high);
    else
        cell(c, "%.1f%%", 100 * p->surv);
}

/* The curves' table: a column per checkpoint within the follow-up. */
static void curves_table(struct buf *b, const struct chart_curve *cv, size_t n, double max_days) {
    const char *head[4 + N_CHECKPOINTS] = {"group", "accounts", "churned", "median (days)"};
    static const char *const left[N_CHECKPOINTS] = {"left at 30 days", "left at 90 days",
                                                    "left at 180 days", "left at 365 days"};
    size_t cols = 4;
    for (size_t j = 0; j < N_CHECKPOINTS; j++)
        if (checkpoints[j] <= max_days)
            head[cols++] = left[j];
    struct cells c = {0};
    for (size_t i = 0; i < n; i++) {
        const struct stats_km *km = cv[i].km;
        cell(&c, "%s", cv[i].name);
        cell(&c, "%zu", km->n);
        cell(&c, "%zu", km->n_events);
        if (isfinite(km->median))
            cell(&c, "%.0f", km->median);
        else
            cell(&c, "not reached");
        for (size_t j = 0; j < N_CHECKPOINTS; j++)
            if (checkpoints[j] <= max_days)
                cell_share(&c, km, checkpoints[j]);
    }
    cells_table(b, head, cols, &c);
}

static void cox_section(struct buf *b, const struct survival_result *r) {
    char text[1024];
    if (!r->has_cox) {
        snprintf(text, sizeof text, "No Cox fit: %s.", r->cox_error);
        report_section(b, "What raises the hazard of churn", text);
        return;
    }
    const struct stats_cox *x = &r->cox;
    snprintf(text, sizeof text,
             "A Cox proportional-hazards fit (Efron ties) of churn on each account's metrics at "
             "the landmark and its tenure, over %zu accounts of which %zu churned. The hazard "
             "ratio is per unit of the factor (a day, a point of the metric): above 1 churns "
             "sooner, below 1 later, holding the other factors equal. Per SD: the ratio for one "
             "standard deviation of the factor, to compare factors. SE is the standard error of "
             "the log hazard ratio; p < 0.05 is marked significant.",
             x->n, x->n_events);
    report_section(b, "What raises the hazard of churn", text);
    static const char *const head[] = {
        "factor", "hazard ratio", "95% interval", "per SD", "SE (log)", "p", "significant"};
    struct cells c = {0};
    for (size_t j = 0; j < x->k; j++) {
        const struct stats_cox_coef *k = &x->coefs[j];
        cell(&c, "%s", k->name);
        cell_g4(&c, k->hazard_ratio);
        if (isfinite(k->hr_low) && isfinite(k->hr_high))
            cell(&c, "%.4g to %.4g", k->hr_low, k->hr_high);
        else
            cell(&c, "%s", DASH);
        cell_g4(&c, exp(k->coef * k->std_dev));
        cell_g4(&c, k->se);
        if (!isfinite(k->p))
            cell(&c, "%s", DASH);
        else if (k->p < 0.0001)
            cell(&c, "< 0.0001");
        else
            cell(&c, "%.4f", k->p);
        cell(&c, "%s", k->p < 0.05 ? "yes" : "no");
    }
    cells_table(b, head, sizeof head / sizeof *head, &c);
    if (x->n_events < 10 * x->k) {
        snprintf(text, sizeof text,
                 "Caution: %zu churns for %zu factors, fewer than 10 per factor: the estimates "
                 "are unstable and the intervals wide; follow more accounts for longer (an "
                 "earlier landmark) or read only the strongest ratios.",
                 x->n_events, x->k);
        report_section(b, NULL, text);
    }
}

void survival_report(struct buf *b, const struct survival_result *r, enum survival_by by) {
    char from[16], to[16], text[1024];
    dt_format_date(r->o.landmark, from);
    dt_format_date(r->o.end, to);
    double max_days = r->o.end - r->o.landmark;
    int off = snprintf(text, sizeof text,
                       "%zu accounts were customers at the end of %s (the landmark) with at "
                       "least %d days of history; each is followed to its first churn after "
                       "it, or to %s (%.0f days): %zu churned.",
                       r->n_rows, from, ANALYSIS_MIN_HISTORY_DAYS, to, max_days, r->n_churned);
    if (r->not_customer + r->short_history && off > 0 && (size_t)off < sizeof text)
        snprintf(text + off, sizeof text - (size_t)off,
                 " Left out: %zu no longer customers then, %zu with less history.", r->not_customer,
                 r->short_history);
    report_section(b, "Who was followed", text);

    size_t nc = r->n_curves[by];
    struct chart_curve *cv = xcalloc(nc ? nc : 1, sizeof *cv);
    for (size_t i = 0; i < nc; i++)
        cv[i] = (struct chart_curve){r->curves[by][i].name, &r->curves[by][i].km};
    char title[200], origin[64], head[200];
    snprintf(head, sizeof head, "Accounts not yet churned by %s", survival_by_name(by));
    snprintf(text, sizeof text,
             "Kaplan-Meier curves: the share of each group (by its %s on the landmark) not yet "
             "churned, day by day after the landmark, with its 95%% band (Greenwood, log-log). "
             "The median is the day half the group had churned; \"not reached\" when fewer "
             "did.",
             survival_by_name(by));
    report_section(b, head, text);
    snprintf(title, sizeof title, "Accounts not yet churned by %s on %s", survival_by_name(by),
             from);
    snprintf(origin, sizeof origin, "%s (the landmark)", from);
    curves_figure(b, cv, nc, max_days, title, origin);
    curves_table(b, cv, nc, max_days);
    free(cv);

    cox_section(b, r);
    if (r->n_left_out) {
        struct buf l;
        buf_init(&l, 0);
        buf_puts(&l, "Left out of the fit (the same for every account): ");
        for (size_t i = 0; i < r->n_left_out; i++)
            buf_printf(&l, "%s%s", i ? ", " : "", r->left_out[i]);
        buf_puts(&l, ".");
        report_section(b, NULL, buf_str(&l));
        buf_free(&l);
    }
    struct buf m;
    buf_init(&m, 0);
    for (size_t i = 0; i < r->n_columns; i++)
        if (r->missing[i])
            buf_printf(&m, "%s%s: %zu", m.len ? ", " : "", r->names[i], r->missing[i]);
    if (m.len) {
        snprintf(text, sizeof text,
                 "Unknown on the landmark and filled with the cohort's mean (accounts): %s.",
                 buf_str(&m));
        report_section(b, NULL, text);
    }
    buf_free(&m);
}
