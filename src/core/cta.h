/* cta.h: the life cycle of a call to action (SPEC 5), as pure decisions.
 *
 * A CTA is kept per key (rule, account, subject). Each evaluation asks, for
 * every key a rule looked at: does the condition hold today, and at which
 * priority? cta_decide() turns that and what is stored for the key into one
 * action; the caller (eval/, later) applies it to the store and records it in
 * the CTA's history. Nothing here reads a clock or the store.
 *
 * The rules of the life cycle (docs/rules.md):
 * - open -> snoozed (until a day) -> open ...; closed with a reason.
 * - While a CTA is open or snoozed for a key, no second one is opened.
 * - The condition clears: the CTA closes itself (auto_resolved), snoozed or
 *   not.
 * - A later stage of the same condition (card 30 -> 14 -> 7 days) raises the
 *   priority of the same CTA; a raise wakes a snoozed CTA, since it is more
 *   urgent than when it was put off.
 * - A snoozed CTA whose day has come wakes once, if the condition still holds.
 * - After a manual close (resolved, not_relevant) the key stays quiet while
 *   the condition holds, for the cooldown; after it, a CTA opens again.
 *   After an expiry (no one acted on it in time: core/plan.h) it stays quiet
 *   while the condition holds. A condition that clears and returns opens a
 *   new CTA at once. */
#ifndef TEND_CORE_CTA_H
#define TEND_CORE_CTA_H

#include <stdbool.h>
#include <stdint.h>

enum cta_status { CTA_OPEN, CTA_SNOOZED, CTA_CLOSED };

enum cta_priority { CTA_LOW, CTA_MEDIUM, CTA_HIGH };

/* What kind of work a CTA asks for (SPEC 5). */
enum cta_type { CTA_RISK, CTA_OPPORTUNITY, CTA_LIFECYCLE, CTA_EXPANSION, CTA_TYPE_COUNT };

enum cta_close_reason {
    CTA_RESOLVED,      /* closed by a person: done */
    CTA_AUTO_RESOLVED, /* the condition cleared */
    CTA_NOT_RELEVANT,  /* closed by a person: not worth doing */
    CTA_CHURNED,       /* the account churned */
    CTA_EXPIRED,       /* nobody acted on it by its due day and the grace after
                        * (ctas.expire_after_days); quiet while it holds */
};

/* What is stored for one key. */
struct cta_state {
    bool live; /* an open or snoozed CTA exists */
    enum cta_status status;
    enum cta_priority priority;
    int32_t snoozed_until; /* day it wakes on (CTA_SNOOZED) */
    /* The latest close of a CTA for the key, if any. */
    bool has_closed;
    enum cta_close_reason closed_reason;
    int32_t closed_day;
    /* The condition was seen not to hold since that close. */
    bool cleared_since_close;
};

/* What the rule says of the key today. */
struct cta_condition {
    bool holds;
    enum cta_priority priority;
};

enum cta_action {
    CTA_NOTHING,      /* no change */
    CTA_DO_OPEN,      /* open a new CTA at the condition's priority */
    CTA_DO_RAISE,     /* raise the live CTA's priority (and wake it if snoozed) */
    CTA_DO_WAKE,      /* a snoozed CTA's day has come: open again */
    CTA_DO_RESOLVE,   /* close the live CTA as auto_resolved */
    CTA_DO_COOL_DOWN, /* the condition holds but a manual close keeps it quiet */
    CTA_DO_CLEARED,   /* the condition cleared after a close: record it (ends a cooldown) */
};

/* The action for a key on day, with the cooldown after a manual close. */
enum cta_action cta_decide(const struct cta_state *st, const struct cta_condition *c, int32_t day,
                           int cooldown_days);

/* The due day of a CTA opened (or raised) on day: days_to_due working days
 * later, skipping Saturdays and Sundays; a due day never falls on a weekend. */
int32_t cta_due_day(int32_t day, int days_to_due);

/* The due day of a CTA snoozed on day until a later day: the time it had
 * left (calendar days to due, at least 1) counts from the day it wakes, on
 * a weekday; a snooze never brings a due day forward. A snoozed CTA is not
 * overdue, and waking does not make it overdue at once. */
int32_t cta_due_after_snooze(int32_t due, int32_t day, int32_t until);

/* Names as stored and printed: "open", "high", "auto_resolved", "raise" ... */
const char *cta_status_name(enum cta_status s);
const char *cta_priority_name(enum cta_priority p);
const char *cta_close_reason_name(enum cta_close_reason r);
const char *cta_action_name(enum cta_action a);
const char *cta_type_name(enum cta_type t);
/* Parses a name as printed; false when it is none of them. */
bool cta_priority_parse(const char *name, enum cta_priority *out);
bool cta_type_parse(const char *name, enum cta_type *out);
bool cta_status_parse(const char *name, enum cta_status *out);
/* A listing's status filter (store_cta_filter.status): "all" gives NULL,
 * "live" and a status name give themselves; false for anything else. */
bool cta_status_filter_parse(const char *name, const char **filter);
bool cta_close_reason_parse(const char *name, enum cta_close_reason *out);

#endif
