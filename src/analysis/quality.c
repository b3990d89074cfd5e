/* quality.c: precision, lift, recall, lead time, flapping and the CTAs per
 * owner per week over plain arrays (see quality.h). Pure. */
#include "analysis/quality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

static int by_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double quality_median(double *v, size_t n) {
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double quality_percentile(double *v, size_t n, double p) {
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, by_double);
    size_t rank = (size_t)ceil(p / 100.0 * (double)n); /* 1-based */
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

double quality_lift(double precision, double base_rate) {
    if (!isfinite(precision) || !isfinite(base_rate) || base_rate <= 0)
        return NAN;
    return precision / base_rate;
}

bool quality_noisy(double lift) {
    return isfinite(lift) && lift < QUALITY_NOISY_LIFT;
}

static int churn_cmp(int64_t account, int32_t day, const struct quality_churn *c) {
    if (account != c->account)
        return account < c->account ? -1 : 1;
    return (day > c->day) - (day < c->day);
}

bool quality_churned_within(const struct quality_churn *churns, size_t n, int64_t account,
                            int32_t day, int horizon) {
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first churn at or after (account, day + 1) */
        size_t mid = (lo + hi) / 2;
        if (churn_cmp(account, day + 1, &churns[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && churns[lo].account == account && churns[lo].day <= day + horizon;
}

/* The first alert of account in alerts (sorted by account and day). */
static size_t first_alert(const struct quality_alert *alerts, size_t n, int64_t account) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (alerts[mid].account < account)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void quality_score(const struct quality_alert *alerts, size_t n_alerts,
                   const struct quality_churn *churns, size_t n_churns, int32_t from, int32_t to,
                   int horizon, struct quality_score *out) {
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n_alerts; i++) {
        if (alerts[i].day < from || alerts[i].day > to)
            continue;
        out->raised++;
        out->raised_churned +=
            quality_churned_within(churns, n_churns, alerts[i].account, alerts[i].day, horizon);
    }
    out->precision = out->raised ? (double)out->raised_churned / (double)out->raised : NAN;
    out->leads = xmalloc((n_churns ? n_churns : 1) * sizeof *out->leads);
    for (size_t c = 0; c < n_churns; c++) {
        const struct quality_churn *ch = &churns[c];
        if (ch->day <= from || ch->day > to + 1)
            continue;
        out->churners++;
        /* The account's alerts in day order: the first in the horizon before
         * the churn is the earliest warning. */
        for (size_t i = first_alert(alerts, n_alerts, ch->account);
             i < n_alerts && alerts[i].account == ch->account && alerts[i].day < ch->day; i++) {
            if (alerts[i].day >= ch->day - horizon) {
                out->warned++;
                out->leads[out->n_leads++] = ch->day - alerts[i].day;
                break;
            }
        }
    }
    out->recall = out->churners ? (double)out->warned / (double)out->churners : NAN;
    double *sorted = xmalloc((out->n_leads ? out->n_leads : 1) * sizeof *sorted);
    memcpy(sorted, out->leads, out->n_leads * sizeof *sorted);
    out->median_lead = quality_median(sorted, out->n_leads);
    free(sorted);
}

void quality_flapping(const struct quality_cta *v, size_t n, int32_t from, int32_t to,
                      struct quality_flaps *out) {
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        if (v[i].opened_day < from || v[i].opened_day > to)
            continue;
        out->opened++;
        if (!v[i].closed)
            continue;
        bool fast = v[i].closed_day - v[i].opened_day <= QUALITY_FLAP_DAYS;
        out->closed++;
        out->closed_fast += fast;
        out->auto_resolved += v[i].auto_resolved;
        out->auto_resolved_fast += fast && v[i].auto_resolved;
    }
    out->fast_share = out->opened ? (double)out->closed_fast / (double)out->opened : NAN;
    out->auto_share = out->closed ? (double)out->auto_resolved / (double)out->closed : NAN;
}

/* The ISO week of day: Monday-based, 1970-01-01 (day 0) being a Thursday. */
static int64_t iso_week(int32_t day) {
    int64_t d = (int64_t)day + 3; /* day 4 (1970-01-05) is a Monday: week 1 */
    return d >= 0 ? d / 7 : -((-d + 6) / 7);
}

void quality_owner_weeks(const struct quality_open *v, size_t n, size_t n_owners, int32_t from,
                         int32_t to, struct quality_weeks *out) {
    memset(out, 0, sizeof *out);
    out->median = out->p90 = out->max = out->mean = NAN;
    if (to < from)
        return;
    /* Whole weeks: from the first Monday on or after from to the last Sunday
     * on or before to. */
    int64_t w0 = iso_week(from) + (iso_week(from - 1) == iso_week(from));
    int64_t w1 = iso_week(to) - (iso_week(to + 1) == iso_week(to));
    if (w1 < w0) {
        w0 = iso_week(from);
        w1 = iso_week(to);
    }
    size_t weeks = (size_t)(w1 - w0 + 1);
    out->weeks = (int64_t)weeks;
    out->first_monday = (int32_t)(w0 * 7 - 3);
    if (n_owners == 0)
        return;
    double *count = xcalloc(n_owners * weeks, sizeof *count);
    bool *seen = xcalloc(n_owners, sizeof *seen);
    for (size_t i = 0; i < n; i++) {
        int64_t w = iso_week(v[i].day);
        if (v[i].owner >= n_owners || w < w0 || w > w1 || v[i].day < from || v[i].day > to)
            continue;
        count[v[i].owner * weeks + (size_t)(w - w0)] += 1;
        seen[v[i].owner] = true;
    }
    /* Keep the rows of owners seen, in place. */
    size_t m = 0;
    for (size_t o = 0; o < n_owners; o++) {
        if (!seen[o])
            continue;
        memmove(&count[m * weeks], &count[o * weeks], weeks * sizeof *count);
        m++;
    }
    out->owners = (int64_t)m;
    if (m > 0) {
        size_t cells = m * weeks;
        double sum = 0;
        for (size_t i = 0; i < cells; i++)
            sum += count[i];
        out->mean = sum / (double)cells;
        out->p90 = quality_percentile(count, cells, 90);
        out->max = count[cells - 1]; /* sorted by the percentile */
        out->median = quality_median(count, cells);
    }
    free(seen);
    free(count);
}
