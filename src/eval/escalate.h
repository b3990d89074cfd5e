/* escalate.h: escalating the CTAs nobody acts on (docs/delivery.md,
 * Escalation), against the store.
 *
 * eval_escalate() lists the open CTAs (store_escalation_candidates), asks
 * core/escalate.h which escalations are due at now, and applies each CTA's
 * in one transaction of its own: under its account's lock
 * (store_ctas_lock), on a fresh read of the CTA and its history (a person
 * who acted meanwhile wins), it records the level (store_escalation_put:
 * once per CTA and level, whoever tries), raises the priority one step,
 * writes an "escalate" entry in the CTA's history, and the message to the
 * owner's manager into the outbox (notify/outbox.h), all committed together
 * or not at all. tend serve's scheduler runs it every minute on the node
 * that holds the scheduler's lease; `tend escalate [--at TIME]` runs it
 * once. */
#ifndef TEND_EVAL_ESCALATE_H
#define TEND_EVAL_ESCALATE_H

#include <stdint.h>

#include "core/escalate.h"
#include "notify/config.h"
#include "store/store.h"

/* One escalation done, for printing; strings live for the call. */
struct eval_escalation {
    int64_t cta_id;
    const char *account; /* external id */
    enum esc_level level;
    enum cta_priority from, to;
    const char *manager; /* NULL: nobody to tell */
    const char *note;    /* the history entry's */
};

struct eval_esc_summary {
    int64_t open;          /* open CTAs looked at */
    int64_t escalated;     /* escalations recorded by this run */
    int64_t notifications; /* outbox rows written */
    int64_t deferred;      /* CTAs due past max_per_pass: the next pass's */
};

/* Escalates what is due at now_ms (at most ec->max_per_pass CTAs, most
 * urgent first: priority, then the earliest deadline; the rest count as
 * deferred and wait for the next pass), timezone (an IANA name; NULL: UTC)
 * giving the business hours' local time. nc (may be NULL) routes the
 * messages. fn (may be NULL) hears of each escalation. A CTA whose
 * transaction fails is left for the next run (the error is returned after
 * the others are done). */
enum tend_err eval_escalate(struct store *s, const struct esc_config *ec,
                            const struct notify_config *nc, const char *timezone, int64_t now_ms,
                            void (*fn)(void *arg, const struct eval_escalation *e), void *arg,
                            struct eval_esc_summary *out);

#endif
