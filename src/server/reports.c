/* reports.c: the HTML reports of tend analyze and tend backtest, made of
 * report.h's pieces: what each number means is said next to it, as in
 * docs/analysis.md. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analyze.h"
#include "analysis/backtest.h"
#include "core/labels.h"
#include "server/report.h"
#include "util/datetime.h"
#include "util/mem.h"

/* Cells are formatted into one arena per table, then handed over. */
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

static void cell_num(struct cells *c, double v, int decimals) {
    if (isfinite(v))
        cell(c, "%.*f", decimals, v);
    else
        cell(c, "\xe2\x80\x94");
}

static void cells_table(struct buf *b, const char *const *header, size_t cols, struct cells *c) {
    report_table(b, header, cols, (const char *const *)c->v, c->n / cols);
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* ---- tend analyze --lead ------------------------------------------------------ */

/* The coefficient plot and table of a fit per standard deviation; missing:
 * the fills per data column, or NULL. */
static void coefficients(struct buf *b, const struct stats_fit *f, const size_t *missing) {
    struct report_coef *rc = xcalloc(f->n_coefs, sizeof *rc);
    size_t n = 0;
    for (size_t i = 1; i < f->n_coefs; i++)
        rc[n++] = (struct report_coef){f->coefs[i].name, f->coefs[i].coef, f->coefs[i].ci_low,
                                       f->coefs[i].ci_high, f->coefs[i].p};
    report_coef_plot(b,
                     "Change in the log odds of churn per standard deviation, with 95% intervals",
                     "log odds of churn per standard deviation", rc, n);
    free(rc);
    static const char *const head[] = {"factor", "coef per SD",  "std. error", "z",
                                       "p",      "95% interval", "odds ratio", "filled (no data)"};
    size_t cols = sizeof head / sizeof *head - (missing ? 0 : 1);
    struct cells c = {0};
    for (size_t i = 0; i < f->n_coefs; i++) {
        const struct stats_coef *k = &f->coefs[i];
        cell(&c, "%s%s", k->name, i > 0 && k->p < 0.05 ? " *" : "");
        cell_num(&c, k->coef, 3);
        cell_num(&c, k->se, 3);
        cell_num(&c, k->z, 2);
        cell_num(&c, k->p, 4);
        cell(&c, "%.3f to %.3f", k->ci_low, k->ci_high);
        cell_num(&c, k->odds_ratio, 3);
        if (missing && i == 0)
            cell(&c, "%s", "");
        else if (missing)
            cell(&c, "%zu", missing[f->column[i]]);
    }
    cells_table(b, head, cols, &c);
}

void analysis_report(struct buf *b, const struct analysis_result *r) {
    char from[16], to[16], text[1024];
    dt_format_date(r->o.from, from);
    dt_format_date(r->o.to, to);
    snprintf(text, sizeof text,
             "%zu outcomes (Account Renewed / Account Churned) from %s to %s, %zu of them "
             "churned. Features: the %s as of the end of the day %d days before each outcome. "
             "Left out: %zu accounts with less than %d days of history then, %zu not customers "
             "then, %zu without data. "
             "Fitted on %zu outcomes (%zu churned).",
             r->outcomes, from, to, r->churned,
             r->o.features == AF_COMPONENTS ? "five health components" : "metrics", r->o.lead_days,
             r->short_history, ANALYSIS_MIN_HISTORY_DAYS, r->not_customer, r->no_data, r->fit.n,
             r->fit.n_events);
    report_section(b, "Outcomes", text);
    if (r->o.outcome != AO_CHURN) {
        /* The rows are observations: say so, and read "churn" below as it. */
        snprintf(text, sizeof text,
                 "Outcome: %s. The rows are the accounts paying every %d days; \"churned\" "
                 "counts those with %s in the %d days after (docs/analysis.md, \"Other "
                 "outcomes\"); read \"churn\" below as %s.",
                 analysis_outcome_name(r->o.outcome), r->o.lead_days,
                 analysis_outcome_name(r->o.outcome), r->o.lead_days,
                 analysis_outcome_name(r->o.outcome));
        report_section(b, NULL, text);
    }
    report_section(b, "Which factors covary with churn",
                   "A logistic regression of churn on the standardised factors. A negative "
                   "coefficient means a higher value goes with less churn; an interval that "
                   "does not cross 0 (p < 0.05, marked *) is a factor that covaries with churn. "
                   "Odds ratio: how the odds of churn change with one standard deviation more.");
    coefficients(b, &r->fit, r->missing);
    for (size_t i = 0; i < r->fit.n_dropped; i++) {
        snprintf(text, sizeof text, "Dropped %s: %s.", r->fit.dropped[i].name,
                 r->fit.dropped[i].why);
        report_section(b, NULL, text);
    }
    const char *names[ANALYSIS_MAX_FEATURES];
    size_t n = analysis_not_covarying(r, names);
    if (n) {
        size_t len = (size_t)snprintf(text, sizeof text,
                                      "Do not covary with churn at the 5%% level, candidates to "
                                      "leave the score:");
        for (size_t i = 0; i < n && len < sizeof text; i++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s %s", i ? "," : "", names[i]);
        report_section(b, NULL, text);
    }
    struct report_curve curves[3];
    size_t nc = 0;
    const struct analysis_holdout *h = &r->holdout;
    if (h->done) {
        char split[16];
        dt_format_date(h->split_day, split);
        char suggested[64] = "";
        if (isfinite(h->auc_suggested))
            snprintf(suggested, sizeof suggested, ", of the suggested weights %.3f",
                     h->auc_suggested);
        snprintf(text, sizeof text,
                 "Fitted on the %zu outcomes before %s, scored on the %zu from then (%zu "
                 "churned), which the fit never saw: AUC of the model %.3f, of the current "
                 "weights %.3f%s (0.5 is a coin toss, 1 a perfect ranking of churners above "
                 "renewals). In sample, on every outcome: %.3f.",
                 h->train, split, h->test, h->test_churned, h->auc_model, h->auc_current, suggested,
                 r->auc);
        static const char *const labels[3] = {"model (held out)", "current weights",
                                              "suggested weights"};
        double aucs[3] = {h->auc_model, h->auc_current, h->auc_suggested};
        for (int i = 0; i < 3; i++)
            if (r->hold_len[i])
                curves[nc++] = (struct report_curve){labels[i], r->hold_fpr[i], r->hold_tpr[i],
                                                     r->hold_len[i], aucs[i]};
    } else {
        snprintf(text, sizeof text, "No held-out check: %s. In sample AUC: %.3f.", h->why, r->auc);
        if (r->roc_len)
            curves[nc++] =
                (struct report_curve){"model (in sample)", r->fpr, r->tpr, r->roc_len, r->auc};
    }
    report_section(b, "Does it rank the churners first?", text);
    report_roc(b, "ROC curve: churners caught against renewals flagged", curves, nc);
    if (r->o.features != AF_COMPONENTS || r->o.outcome != AO_CHURN)
        return;
    if (!r->has_suggested) {
        report_section(b, "Suggested weights",
                       "None: no component covaries with churn the right way at the 5% level. "
                       "Keep the current weights and gather more outcomes.");
        return;
    }
    report_section(b, "Suggested weights",
                   "Each component that covaries with churn the right way weighs in proportion "
                   "to how much one point of it lowers the odds of churn; the others weigh 0. "
                   "Put them under health.weights in tend.yaml (docs/health.md).");
    if (analysis_suggestion_worse(r))
        report_section(b, NULL,
                       "Caution: the weights suggested by the first 70% of the outcomes ranked "
                       "the held-out outcomes worse than the current weights. Keep the current "
                       "weights, or gather more outcomes before changing them.");
    static const char *const head[] = {"component", "current weight", "suggested weight"};
    struct cells c = {0};
    double sum = 0;
    for (int k = 0; k < HC_COUNT; k++)
        sum += r->o.hc->weights[k];
    for (int k = 0; k < HC_COUNT; k++) {
        cell(&c, "%s", health_component_name((enum health_component)k));
        cell(&c, "%.2f", sum > 0 ? r->o.hc->weights[k] / sum : 0);
        cell(&c, "%.2f", r->suggested[k]);
    }
    cells_table(b, head, sizeof head / sizeof *head, &c);
}

/* ---- tend analyze --table ------------------------------------------------------ */

void table_report(struct buf *b, const char *path, const char *outcome, const struct stats_table *t,
                  const struct stats_fit *fit_per_sd, double auc, const double *fpr,
                  const double *tpr, size_t roc_len) {
    char text[1024];
    snprintf(text, sizeof text,
             "%zu rows of %s (%zu read, %zu dropped for a blank), %zu with %s = 1. A logistic "
             "regression of %s on the other columns, standardised so that the factors compare "
             "(tend analyze --table prints the coefficients on the columns' own scale). "
             "Text columns are one-hot against their most frequent value.",
             t->n, path, t->rows_read, t->rows_dropped, fit_per_sd->n_events, outcome, outcome);
    report_section(b, "The table", text);
    for (size_t i = 0; i < t->n_notes; i++)
        report_section(b, NULL, t->notes[i]);
    report_section(b, "Which factors covary with the outcome",
                   "A negative coefficient means a higher value goes with the outcome less "
                   "often; an interval that does not cross 0 (p < 0.05, marked *) is a factor "
                   "that covaries with it.");
    coefficients(b, fit_per_sd, NULL);
    for (size_t i = 0; i < fit_per_sd->n_dropped; i++) {
        snprintf(text, sizeof text, "Dropped %s: %s.", fit_per_sd->dropped[i].name,
                 fit_per_sd->dropped[i].why);
        report_section(b, NULL, text);
    }
    snprintf(text, sizeof text, "AUC in sample: %.3f (0.5 is a coin toss).", auc);
    report_section(b, "How well it ranks", text);
    struct report_curve curve = {"model (in sample)", fpr, tpr, roc_len, auc};
    report_roc(b, "ROC curve", &curve, roc_len ? 1 : 0);
}

/* ---- tend analyze --reasons --------------------------------------------------- */

void analysis_reasons_report(struct buf *b, const struct analysis_reasons *r, int32_t from,
                             int32_t to) {
    char f[16], t[16], period[96], text[640];
    dt_format_date(to, t);
    if (from > 0) {
        dt_format_date(from, f);
        snprintf(period, sizeof period, "from %s to %s", f, t);
    } else if (r->churned > 0) { /* no start given: say where the churns start */
        dt_format_date(r->first_day, f);
        snprintf(period, sizeof period, "up to %s (all churns; the first on %s)", t, f);
    } else {
        snprintf(period, sizeof period, "up to %s (all churns)", t);
    }
    char lost[64], churned[64];
    labels_money(r->lost_arr, NULL, lost, sizeof lost);
    labels_count((long long)r->churned, "account", "accounts", churned, sizeof churned);
    snprintf(text, sizeof text,
             "%s churned %s, %s ARR lost. Reasons as given on Account "
             "Churned, largest loss first; %lld churns without an arr are counted at 12 x "
             "the account's mrr.",
             churned, period, lost, (long long)r->arr_from_mrr);
    report_section(b, "Churn reasons by lost ARR", text);
    struct report_bar *bars = xcalloc(r->n ? r->n : 1, sizeof *bars);
    for (size_t i = 0; i < r->n; i++)
        bars[i] = (struct report_bar){r->v[i].reason, r->v[i].lost_arr, r->v[i].churned};
    report_pareto(b, "Lost ARR by churn reason", "lost ARR", bars, r->n);
    free(bars);
    static const char *const head[] = {"reason", "churned", "lost ARR", "share", "cumulative"};
    struct cells c = {0};
    for (size_t i = 0; i < r->n; i++) {
        cell(&c, "%s", r->v[i].reason);
        cell(&c, "%lld", (long long)r->v[i].churned);
        char lost_arr[64];
        labels_money(r->v[i].lost_arr, NULL, lost_arr, sizeof lost_arr);
        cell(&c, "%s", lost_arr);
        cell(&c, "%.1f%%", r->v[i].share * 100);
        cell(&c, "%.1f%%", r->v[i].cumulative * 100);
    }
    cells_table(b, head, sizeof head / sizeof *head, &c);
}

/* ---- tend backtest ------------------------------------------------------------ */

void backtest_report(struct buf *b, const struct backtest_result *r) {
    char f[16], t[16], text[1024];
    dt_format_date(r->o.from, f);
    dt_format_date(r->o.to, t);
    snprintf(text, sizeof text,
             "Evaluation replayed every day from %s to %s (after %d days of warm-up) with the "
             "current rules and weights, in a copy of the database. %lld accounts, %lld "
             "churned in the period. Precision: the share of alerts after which the account "
             "churned within %d days; lift: the precision over the base rate (%.1f%% of the "
             "scored accounts, on a day of the period, churned within %d days: an alert raised "
             "at random). Recall: the share of churners warned within %d days before their "
             "churn. Lead time: days from the earliest such warning to the churn.",
             f, t, BACKTEST_WARMUP_DAYS, (long long)r->accounts, (long long)r->churners,
             r->o.horizon, r->base_rate * 100, r->o.horizon, r->o.horizon);
    report_section(b, "Backtest", text);
    static const char *const head[] = {"alert",    "raised", "precision %", "lift",
                                       "churners", "warned", "recall %",    "median lead (days)"};
    struct cells c = {0};
    for (size_t i = 0; i <= r->n_rows; i++) {
        const struct backtest_row *w = i < r->n_rows ? &r->rows[i] : &r->risk;
        if (!w->name)
            continue;
        cell(&c, "%s", w->name);
        cell(&c, "%lld", (long long)w->raised);
        cell_num(&c, w->precision * 100, 1);
        cell_num(&c, w->lift, 2);
        cell(&c, "%lld", (long long)w->churners);
        cell(&c, "%lld", (long long)w->warned);
        cell_num(&c, w->recall * 100, 1);
        cell_num(&c, w->median_lead, 1);
    }
    cells_table(b, head, sizeof head / sizeof *head, &c);
    report_section(b, "Lead times",
                   "How many days before the churn each warned churner was first warned.");
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct backtest_row *w = &r->rows[i];
        if (!w->n_leads)
            continue;
        char title[200];
        snprintf(title, sizeof title, "%s: %zu churners warned, median %.1f days ahead", w->name,
                 w->n_leads, w->median_lead);
        report_histogram(b, title, "days before the churn", w->leads, w->n_leads, 7);
    }
    snprintf(text, sizeof text,
             "Alerts a CSM would have received (CTAs opened, as owner) per week over %.1f weeks.",
             r->weeks);
    report_section(b, "Alert volume per CSM", text);
    static const char *const ohead[] = {"CSM", "CTAs", "per week"};
    for (size_t i = 0; i < r->n_owners; i++) {
        cell(&c, "%s", r->owners[i].owner);
        cell(&c, "%lld", (long long)r->owners[i].raised);
        cell(&c, "%.1f", r->owners[i].per_week);
    }
    cells_table(b, ohead, sizeof ohead / sizeof *ohead, &c);
}
