/* act.h: what a person does to a CTA: snooze, close, assign, acknowledge
 * (SPEC 5).
 *
 * The one implementation behind `tend cta` and the REST API and dashboard
 * of tend serve. An action happens on the current day of tend's timeline:
 * the day of the latest evaluation (today, where the schedule runs daily),
 * so that snoozes and cooldowns count in the same days as the rules. Each is
 * recorded in the CTA's history with who did it, in one transaction. Person
 * actions notify no one (docs/delivery.md). */
#ifndef TEND_EVAL_ACT_H
#define TEND_EVAL_ACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cta.h"
#include "store/store.h"

/* Acknowledge changes no state: it records in the history that a person has
 * seen the CTA and owns the next step (which counts as acting on it, so it
 * stops an escalation for want of action: docs/delivery.md). */
enum cta_verb { CTA_ACT_SNOOZE, CTA_ACT_CLOSE, CTA_ACT_ASSIGN, CTA_ACT_ACKNOWLEDGE };

struct cta_act {
    enum cta_verb verb;
    int32_t until;                /* snooze: a day after the action's */
    enum cta_close_reason reason; /* close: CTA_RESOLVED or CTA_NOT_RELEVANT */
    const char *owner;            /* assign */
    const char *by;               /* who: a user's email, a token's name, $USER */
    const char *note;             /* NULL: none */
    bool has_on;                  /* the action's day, instead of the current day */
    int32_t on;
};

/* The current day of tend's timeline: the latest evaluation's day, else
 * today's (UTC). */
enum tend_err eval_action_day(struct store *s, int32_t *day);

/* The verb's name ("snooze", ...). */
const char *cta_verb_name(enum cta_verb v);

/* Applies a to CTA id and records it. Returns TEND_OK with the history note
 * ("snoozed until 2026-11-07: ...") in msg; TEND_ERR_NOTFOUND when no such
 * CTA; TEND_ERR_CONFLICT when its state refuses the action (it is closed);
 * TEND_ERR_USAGE when a value is wrong (until not after the current day, an
 * empty owner, a close reason that is tend's own); msg then says why. msg
 * has size bytes. On a store error nothing is changed. */
enum tend_err eval_cta_act(struct store *s, int64_t id, const struct cta_act *a, char *msg,
                           size_t size);

/* As eval_cta_act, for a request that may arrive twice (a Slack button
 * clicked again, a retry): when the CTA is already as the action would
 * leave it (snoozed until the same day, closed with the same reason, owned
 * by the same owner, acknowledged by the same person), nothing is written,
 * msg says "already ..." and *changed is false; otherwise as eval_cta_act,
 * with *changed true on TEND_OK. The check and the change are one
 * transaction under the account's lock, so two copies at once record one. */
enum tend_err eval_cta_act_once(struct store *s, int64_t id, const struct cta_act *a, char *msg,
                                size_t size, bool *changed);

#endif
