/* cta.c: the CTA life cycle (see cta.h). */
#include "core/cta.h"

#include <stddef.h>

static bool manual(enum cta_close_reason r) {
    return r == CTA_RESOLVED || r == CTA_NOT_RELEVANT;
}

enum cta_action cta_decide(const struct cta_state *st, const struct cta_condition *c, int32_t day,
                           int cooldown_days) {
    if (st->live) {
        if (!c->holds)
            return CTA_DO_RESOLVE;
        if (c->priority > st->priority)
            return CTA_DO_RAISE;
        if (st->status == CTA_SNOOZED && day >= st->snoozed_until)
            return CTA_DO_WAKE;
        return CTA_NOTHING;
    }
    if (!c->holds)
        return st->has_closed && !st->cleared_since_close ? CTA_DO_CLEARED : CTA_NOTHING;
    if (st->has_closed && manual(st->closed_reason) && !st->cleared_since_close &&
        day - st->closed_day < cooldown_days)
        return CTA_DO_COOL_DOWN;
    return CTA_DO_OPEN;
}

/* Day numbers count from 1970-01-01, a Thursday: (day + 3) % 7 is 0 on Monday. */
static int weekday(int32_t day) {
    int w = (int)((day + 3) % 7);
    return w < 0 ? w + 7 : w;
}

int32_t cta_due_day(int32_t day, int days_to_due) {
    int32_t d = day;
    for (int left = days_to_due; left > 0;) {
        d++;
        if (weekday(d) < 5)
            left--;
    }
    while (weekday(d) >= 5)
        d++;
    return d;
}

const char *cta_status_name(enum cta_status s) {
    static const char *const names[] = {"open", "snoozed", "closed"};
    return (size_t)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const char *cta_priority_name(enum cta_priority p) {
    static const char *const names[] = {"low", "medium", "high"};
    return (size_t)p < sizeof names / sizeof names[0] ? names[p] : "?";
}

const char *cta_close_reason_name(enum cta_close_reason r) {
    static const char *const names[] = {"resolved", "auto_resolved", "not_relevant", "churned"};
    return (size_t)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *cta_action_name(enum cta_action a) {
    static const char *const names[] = {"nothing", "open",      "raise",  "wake",
                                        "resolve", "cool_down", "cleared"};
    return (size_t)a < sizeof names / sizeof names[0] ? names[a] : "?";
}
