/* report_retention.c: the HTML report of tend analyze retention (see
 * report_retention.h): the formulas said next to the figures, as in
 * docs/analysis.md, "Retention". */
#include "server/report_retention.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/labels.h"
#include "server/report.h"
#include "util/datetime.h"
#include "util/mem.h"

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

static void cell_pct(struct cells *c, double v) {
    if (isfinite(v))
        cell(c, "%.1f%%", 100 * v);
    else
        cell(c, "\xe2\x80\x94");
}

/* Money for people: whole units, thousands separators, the currency
 * (core/labels.h); the CSV and JSON keep the cents. */
static void cell_money(struct cells *c, double v) {
    char m[64];
    labels_money(v, NULL, m, sizeof m);
    cell(c, "%s", m[0] ? m : "\xe2\x80\x94");
}

static void cells_table(struct buf *b, const char *const *header, size_t cols, struct cells *c) {
    report_table(b, header, cols, (const char *const *)c->v, c->n / cols);
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    memset(c, 0, sizeof *c);
}

void retention_report(struct buf *b, const struct retention_result *r) {
    char f[16], t[16], text[1024];
    dt_format_date(r->o.from, f);
    dt_format_date(r->o.to, t);
    snprintf(text, sizeof text,
             "%zu accounts with revenue from %s to %s: %lld expansions, %lld contractions, "
             "%lld churns, %lld new, %lld reactivations, %lld renewals. Each period's cohort is "
             "the accounts paying at its start; GRR = (start - contraction - churn) / start, "
             "NRR = (start + expansion - contraction - churn) / start; an account's movements "
             "count until it churns. New and reactivated accounts are new business (new MRR), "
             "not in GRR or NRR. Annualised: GRR and NRR to the power 365 / days, logo churn "
             "1 - (1 - rate) to the power 365 / days.",
             r->accounts, f, t, (long long)r->movements[REV_EXPANSION],
             (long long)r->movements[REV_CONTRACTION], (long long)r->movements[REV_CHURN],
             (long long)r->movements[REV_NEW], (long long)r->movements[REV_REACTIVATION],
             (long long)r->movements[REV_RENEWAL]);
    report_section(b, "Revenue retention", text);
    static const char *const head[] = {"period",        "group",       "accounts",    "start MRR",
                                       "expansion",     "contraction", "churned MRR", "new MRR",
                                       "logos churned", "GRR",         "NRR",         "logo churn",
                                       "GRR / year",    "NRR / year"};
    struct cells c = {0};
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct retention_row *row = &r->rows[i];
        char period[RETENTION_PERIOD_BYTES];
        cell(&c, "%s", retention_period_name(r, row, period));
        cell(&c, "%s", row->group);
        cell(&c, "%zu", row->f.accounts_start);
        cell_money(&c, row->f.mrr_start);
        cell_money(&c, row->f.expansion);
        cell_money(&c, row->f.contraction);
        cell_money(&c, row->f.churned);
        cell_money(&c, row->f.new_mrr);
        cell(&c, "%zu", row->f.logos_churned);
        cell_pct(&c, row->r.grr);
        cell_pct(&c, row->r.nrr);
        cell_pct(&c, row->r.logo_churn);
        cell_pct(&c, row->r.grr_annual);
        cell_pct(&c, row->r.nrr_annual);
    }
    cells_table(b, head, sizeof head / sizeof *head, &c);

    report_section(b, "Reasons of expansion, contraction and churn",
                   "Every movement in the window by its reason (Subscription Changed, Account "
                   "Churned or Account Renewed; a change of the mrr trait alone has none), by "
                   "the MRR it moved: the NRR impact of each reason is its MRR over the "
                   "window's starting MRR.");
    struct report_bar *bars = xcalloc(r->n_reasons ? r->n_reasons : 1, sizeof *bars);
    char **labels = xcalloc(r->n_reasons ? r->n_reasons : 1, sizeof *labels);
    size_t n = 0;
    for (size_t i = 0; i < r->n_reasons; i++)
        if (r->reasons[i].kind != REV_EXPANSION) {
            if (asprintf(&labels[n], "%s: %s", revenue_kind_name(r->reasons[i].kind),
                         r->reasons[i].reason) < 0)
                labels[n] = xstrdup("");
            bars[n] = (struct report_bar){labels[n], r->reasons[i].mrr, r->reasons[i].count};
            n++;
        }
    /* Largest loss first, whichever the kind. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && bars[j].value > bars[j - 1].value; j--) {
            struct report_bar x = bars[j];
            bars[j] = bars[j - 1];
            bars[j - 1] = x;
        }
    report_pareto(b, "Lost MRR by reason (contraction and churn)", "MRR lost", bars, n);
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    free(bars);
    static const char *const rhead[] = {"movement", "reason", "count", "MRR", "NRR impact"};
    double start = r->n_rows ? r->rows[0].f.mrr_start : 0;
    for (size_t i = 0; i < r->n_reasons; i++) {
        const struct retention_reason *x = &r->reasons[i];
        cell(&c, "%s", revenue_kind_name(x->kind));
        cell(&c, "%s", x->reason);
        cell(&c, "%lld", (long long)x->count);
        cell_money(&c, x->mrr);
        cell_pct(&c, start > 0 ? (x->kind == REV_EXPANSION ? 1 : -1) * x->mrr / start : NAN);
    }
    cells_table(b, rhead, sizeof rhead / sizeof *rhead, &c);
}

void retention_reasons_report(struct buf *b, const struct retention_result *r,
                              const struct retention_reason *const *by) {
    char f[16], t[16], text[768];
    dt_format_date(r->o.from, f);
    dt_format_date(r->o.to, t);
    double start = r->n_rows ? r->rows[0].f.mrr_start : 0;
    char money[64];
    labels_money(start, NULL, money, sizeof money);
    snprintf(text, sizeof text,
             "Every churn, contraction and expansion from %s to %s by its reason, largest MRR "
             "first. NRR impact: the MRR it moved over the %s of MRR paying on %s (negative for "
             "churn and contraction). Cost to serve: tickets opened, CSM outreach sent and CTAs "
             "opened in the window, per account that had such a movement.",
             f, t, money, f);
    report_section(b, "Revenue movements by reason: NRR impact and cost to serve", text);
    struct report_bar *bars = xcalloc(r->n_reasons ? r->n_reasons : 1, sizeof *bars);
    char **labels = xcalloc(r->n_reasons ? r->n_reasons : 1, sizeof *labels);
    for (size_t i = 0; i < r->n_reasons; i++) {
        if (asprintf(&labels[i], "%s: %s", revenue_kind_name(by[i]->kind), by[i]->reason) < 0)
            labels[i] = xstrdup("");
        bars[i] = (struct report_bar){labels[i], by[i]->mrr, by[i]->count};
    }
    report_pareto(b, "MRR moved by reason (churn, contraction, expansion)", "MRR", bars,
                  r->n_reasons);
    for (size_t i = 0; i < r->n_reasons; i++)
        free(labels[i]);
    free(labels);
    free(bars);
    static const char *const head[] = {
        "movement",           "reason",        "accounts", "MRR", "NRR impact", "tickets / account",
        "outreach / account", "CTAs / account"};
    struct cells c = {0};
    for (size_t i = 0; i < r->n_reasons; i++) {
        const struct retention_reason *x = by[i];
        cell(&c, "%s", revenue_kind_name(x->kind));
        cell(&c, "%s", x->reason);
        cell(&c, "%zu", x->n_ids);
        cell_money(&c, x->mrr);
        cell_pct(&c, x->nrr_impact);
        const double cost[] = {x->tickets, x->outreach, x->ctas};
        for (int k = 0; k < 3; k++) {
            if (isfinite(cost[k]))
                cell(&c, "%.1f", cost[k]);
            else
                cell(&c, "\xe2\x80\x94");
        }
    }
    cells_table(b, head, sizeof head / sizeof *head, &c);
}
