/* cta.c: the CTA life cycle (see cta.h). */
#include "core/cta.h"

#include <stddef.h>
#include <string.h>

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
    /* After an expiry the key is quiet for as long as the condition holds:
     * its owner was told twice (at the open and the expiry); asking again
     * every cooldown would spend the weekly budget on work no one takes up. */
    if (st->has_closed && !st->cleared_since_close &&
        (st->closed_reason == CTA_EXPIRED ||
         (manual(st->closed_reason) && day - st->closed_day < cooldown_days)))
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

int32_t cta_due_after_snooze(int32_t due, int32_t day, int32_t until) {
    int32_t left = due > day ? due - day : 1;
    int32_t d = until + left;
    while (weekday(d) >= 5)
        d++;
    return d > due ? d : due;
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
    static const char *const names[] = {"resolved", "auto_resolved", "not_relevant", "churned",
                                        "expired"};
    return (size_t)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *cta_action_name(enum cta_action a) {
    static const char *const names[] = {"nothing", "open",      "raise",  "wake",
                                        "resolve", "cool_down", "cleared"};
    return (size_t)a < sizeof names / sizeof names[0] ? names[a] : "?";
}

const char *cta_type_name(enum cta_type t) {
    static const char *const names[] = {"risk", "opportunity", "lifecycle", "expansion"};
    return (size_t)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* The index of name among n names printed by name_of, or -1. */
static int parse_name(const char *name, int n, const char *(*name_of)(int)) {
    for (int i = 0; name && i < n; i++)
        if (strcmp(name, name_of(i)) == 0)
            return i;
    return -1;
}

static const char *priority_at(int i) {
    return cta_priority_name((enum cta_priority)i);
}
static const char *type_at(int i) {
    return cta_type_name((enum cta_type)i);
}
static const char *status_at(int i) {
    return cta_status_name((enum cta_status)i);
}
static const char *reason_at(int i) {
    return cta_close_reason_name((enum cta_close_reason)i);
}

bool cta_priority_parse(const char *name, enum cta_priority *out) {
    int i = parse_name(name, 3, priority_at);
    if (i >= 0)
        *out = (enum cta_priority)i;
    return i >= 0;
}

bool cta_type_parse(const char *name, enum cta_type *out) {
    int i = parse_name(name, CTA_TYPE_COUNT, type_at);
    if (i >= 0)
        *out = (enum cta_type)i;
    return i >= 0;
}

bool cta_status_parse(const char *name, enum cta_status *out) {
    int i = parse_name(name, 3, status_at);
    if (i >= 0)
        *out = (enum cta_status)i;
    return i >= 0;
}

bool cta_status_filter_parse(const char *name, const char **filter) {
    enum cta_status st;
    if (strcmp(name, "all") == 0)
        *filter = NULL;
    else if (strcmp(name, "live") == 0 || cta_status_parse(name, &st))
        *filter = name;
    else
        return false;
    return true;
}

bool cta_close_reason_parse(const char *name, enum cta_close_reason *out) {
    int i = parse_name(name, 5, reason_at);
    if (i >= 0)
        *out = (enum cta_close_reason)i;
    return i >= 0;
}
