/* labels.c: the one table of human labels and units (see labels.h).
 *
 * A column is looked up by a linear scan of about 80 entries: the pages
 * label at most a few hundred cells each, and a scan keeps the table one
 * readable list (a test checks every name appears once). */
#include "core/labels.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct label table[] = {
    /* SPEC 3 metrics (docs/metrics.md) */
    {"users", "Users", "user", "users", LU_COUNT},
    {"active_users_30d", "Active users, last 30 days", "user", "users", LU_COUNT},
    {"logins_7d", "Logins, last 7 days", "login", "logins", LU_COUNT},
    {"logins_prev_28d", "Logins, previous 28 days", "login", "logins", LU_COUNT},
    {"days_since_login", "Days since the last login", "day", "days", LU_DAYS},
    {"feature_events_7d", "Feature events, last 7 days", "event", "events", LU_COUNT},
    {"feature_events_prev_28d", "Feature events, previous 28 days", "event", "events", LU_COUNT},
    {"features_used_30d", "Features used, last 30 days", "feature", "features", LU_COUNT},
    {"nps", "NPS", "", "", LU_NUMBER},
    {"nps_responses_90d", "NPS answers, last 90 days", "answer", "answers", LU_COUNT},
    {"tickets_open", "Open support tickets", "ticket", "tickets", LU_COUNT},
    {"tickets_30d", "Support tickets, last 30 days", "ticket", "tickets", LU_COUNT},
    {"overdue_invoices", "Overdue invoices", "invoice", "invoices", LU_COUNT},
    {"overdue_amount", "Amount overdue", "", "", LU_MONEY},
    {"max_days_overdue", "Longest overdue invoice", "day", "days", LU_DAYS},
    {"card_days_left", "Days until the card expires", "day", "days", LU_DAYS},
    {"renewal_days_left", "Days until renewal", "day", "days", LU_DAYS},
    {"seats", "Seats", "seat", "seats", LU_COUNT},
    {"seat_utilization", "Seat utilization", "", "", LU_PERCENT},
    {"outreach_unanswered", "Outreach unanswered", "message", "messages", LU_COUNT},
    {"days_since_reply", "Days since the last reply", "day", "days", LU_DAYS},
    {"mrr", "MRR", "", "", LU_MONEY},
    /* health components (docs/health.md) and scores */
    {"logins", "Logins", "", "", LU_SCORE},
    {"adoption", "Adoption", "", "", LU_SCORE},
    {"sentiment", "Sentiment", "", "", LU_SCORE},
    {"support", "Support", "", "", LU_SCORE},
    {"financial", "Financial", "", "", LU_SCORE},
    {"overall", "Health score", "", "", LU_SCORE},
    {"score", "Health score", "", "", LU_SCORE},
    {"health", "Health score", "", "", LU_SCORE},
    {"score_before", "Health score before", "", "", LU_SCORE},
    {"change_30d", "Change, last 30 days", "", "", LU_SCORE},
    {"band", "Health band", "", "", LU_TEXT},
    {"health_band", "Health band", "", "", LU_TEXT},
    {"arr", "ARR", "", "", LU_MONEY},
    {"arr_at_risk", "ARR at risk", "", "", LU_MONEY},
    {"value", "Value", "", "", LU_MONEY},
    {"p_churn", "Churn risk", "", "", LU_PERCENT},
    {"risk", "Churn risk", "", "", LU_PERCENT},
    {"trend_7d", "Change, last 7 days", "", "", LU_SCORE},
    {"trend_30d", "Change, last 30 days", "", "", LU_SCORE},
    {"weakest", "Weakest component", "", "", LU_TEXT},
    {"account_id", "Account", "", "", LU_TEXT},
    {"open_ctas", "Open CTAs", "CTA", "CTAs", LU_COUNT},
    {"live_ctas", "Live CTAs", "CTA", "CTAs", LU_COUNT},
    /* CTA evidence (docs/rules.md) */
    {"account_age_days", "Account age", "day", "days", LU_DAYS},
    {"answers", "Answers", "", "", LU_TEXT},
    {"answers_90d", "Answers, last 90 days", "answer", "answers", LU_COUNT},
    {"answers_before", "Answers before", "answer", "answers", LU_COUNT},
    {"answers_count", "Number of answers", "answer", "answers", LU_COUNT},
    {"baseline_per_week", "Usual logins a week", "login", "logins", LU_COUNT},
    {"champion", "Champion", "", "", LU_TEXT},
    {"days", "Days", "day", "days", LU_DAYS},
    {"days_overdue", "Days overdue", "day", "days", LU_DAYS},
    {"drop_ratio", "Drop threshold", "", "", LU_PERCENT},
    {"due_date", "Due", "", "", LU_DATE},
    {"engaged_admins", "Engaged admins", "admin", "admins", LU_COUNT},
    {"expires", "Expires", "", "", LU_DATE},
    {"feature", "Feature", "", "", LU_TEXT},
    {"goal_id", "Goal", "", "", LU_TEXT},
    {"joined_elsewhere_on", "Joined another account on", "", "", LU_DATE},
    {"last_login", "Last login", "", "", LU_DATE},
    {"last_ticket", "Last ticket", "", "", LU_DATE},
    {"logins_4w", "Logins, last 4 weeks", "login", "logins", LU_COUNT},
    {"logins_prev_4w", "Logins, previous 4 weeks", "login", "logins", LU_COUNT},
    {"milestone", "Milestone", "", "", LU_TEXT},
    {"nps_before", "NPS before", "", "", LU_NUMBER},
    {"oldest_sent", "Oldest unanswered message", "", "", LU_DATE},
    {"product", "Product", "", "", LU_TEXT},
    {"removed_on", "Removed on", "", "", LU_DATE},
    {"renewal_date", "Renewal date", "", "", LU_DATE},
    {"role", "Role", "", "", LU_TEXT},
};

#define N_LABELS (sizeof table / sizeof table[0])

const struct label *labels_find(const char *column) {
    if (!column)
        return NULL;
    for (size_t i = 0; i < N_LABELS; i++)
        if (strcmp(table[i].column, column) == 0)
            return &table[i];
    return NULL;
}

const char *labels_text(const char *column) {
    const struct label *l = labels_find(column);
    return l ? l->text : column;
}

const struct label *labels_all(size_t *n) {
    *n = N_LABELS;
    return table;
}

void labels_feature(const char *name, char *out, size_t size) {
    static const char missing[] = "_missing", component[] = "component_";
    if (!size)
        return;
    if (!name) {
        out[0] = '\0';
        return;
    }
    char base[128];
    snprintf(base, sizeof base, "%s", name);
    size_t n = strlen(base), m = sizeof missing - 1;
    bool unknown = n > m && strcmp(base + n - m, missing) == 0;
    if (unknown)
        base[n - m] = '\0';
    const char *what = base;
    bool is_component = strncmp(base, component, sizeof component - 1) == 0 &&
                        labels_find(base + sizeof component - 1);
    if (is_component)
        what = base + sizeof component - 1;
    if (!labels_find(what)) {
        snprintf(out, size, "%s", name);
        return;
    }
    snprintf(out, size, "%s%s%s", labels_text(what), is_component ? " (health component)" : "",
             unknown ? ": unknown" : "");
}

void labels_number(double v, int decimals, char *out, size_t size) {
    if (!size)
        return;
    if (!isfinite(v)) {
        snprintf(out, size, "%s", "");
        return;
    }
    if (decimals < 0)
        decimals = 0;
    if (decimals > 3)
        decimals = 3;
    double scale = pow(10, decimals);
    double r = round(v * scale) / scale;
    if (r == 0)
        r = 0; /* never "-0" */
    char digits[64];
    snprintf(digits, sizeof digits, "%.*f", decimals, fabs(r));
    const char *dot = strchr(digits, '.');
    size_t whole = dot ? (size_t)(dot - digits) : strlen(digits);
    char grouped[96];
    size_t k = 0;
    if (r < 0)
        grouped[k++] = '-';
    for (size_t i = 0; i < whole; i++) {
        if (i && (whole - i) % 3 == 0)
            grouped[k++] = ',';
        grouped[k++] = digits[i];
    }
    grouped[k] = '\0';
    snprintf(out, size, "%s%s", grouped, dot ? dot : "");
}

void labels_count(long long n, const char *one, const char *many, char *out, size_t size) {
    char num[48];
    labels_number((double)n, 0, num, sizeof num);
    snprintf(out, size, "%s %s", num, n == 1 || n == -1 ? one : many);
}

void labels_money(double v, const char *currency, char *out, size_t size) {
    if (!size)
        return;
    if (!isfinite(v)) {
        out[0] = '\0';
        return;
    }
    char num[64];
    labels_number(fabs(v), 0, num, sizeof num);
    const char *sign = round(v) < 0 ? "-" : "";
    if (!currency || !currency[0] || strcmp(currency, "USD") == 0)
        currency = "$";
    bool code = strlen(currency) == 3 && strspn(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
    snprintf(out, size, "%s%s%s%s", sign, currency, code ? " " : "", num);
}

void labels_value(const char *column, double v, const char *currency, char *out, size_t size) {
    const struct label *l = labels_find(column);
    if (!size)
        return;
    if (!isfinite(v)) {
        out[0] = '\0';
        return;
    }
    char num[64];
    if (!l) {
        labels_number(v, v == floor(v) ? 0 : 2, out, size);
        return;
    }
    switch (l->kind) {
    case LU_MONEY:
        labels_money(v, currency, out, size);
        return;
    case LU_PERCENT:
        labels_number(v * 100, 1, num, sizeof num);
        snprintf(out, size, "%s%%", num);
        return;
    case LU_SCORE:
        labels_number(v, 1, out, size);
        return;
    case LU_COUNT:
    case LU_DAYS:
        if (v == floor(v) && fabs(v) < 1e15 && l->unit[0]) {
            labels_count((long long)v, l->unit, l->units, out, size);
            return;
        }
        labels_number(v, 1, num, sizeof num);
        snprintf(out, size, "%s%s%s", num, l->units[0] ? " " : "", l->units);
        return;
    case LU_NUMBER:
    case LU_DATE:
    case LU_TEXT:
        labels_number(v, v == floor(v) ? 0 : 1, out, size);
        return;
    }
}
