/* outbox.h: writing a CTA event's notifications, inside the transaction
 * that changes the CTA.
 *
 * notify_enqueue() routes the event (config.h), stores one snapshot of it
 * (message.h describes the document) and one outbox row per (channel,
 * target): pending, held for a digest, or dead when no address exists. It
 * is called by the evaluation between store_begin() and store_commit(), so
 * the CTA change and its rows commit together or not at all: the outbox's
 * first guarantee (docs/delivery.md). Nothing is sent here. */
#ifndef TEND_NOTIFY_OUTBOX_H
#define TEND_NOTIFY_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "notify/config.h"
#include "store/store.h"

/* What a message says of the account; strings borrowed, any may be NULL. */
struct notify_account {
    int64_t id; /* internal, for its earlier scores */
    const char *external_id;
    const char *name, *segment, *plan, *renewal_date;
    const char *csm_email, *csm_slack;
    bool has_mrr;
    double mrr;
    bool has_score;
    double score;
    const char *band;
};

/* One CTA event. */
struct notify_cta_event {
    enum notify_event event;
    int32_t day;                   /* the evaluated day */
    int64_t now_ms;                /* when, for the rows */
    const struct store_cta *cta;   /* as after the change */
    const char *previous_priority; /* raise */
    const char *note;              /* resolve: why */
    const char *currency;          /* values are printed in (rules.value.currency); NULL: "$" */
    const struct notify_account *account;
    /* NOTIFY_ESCALATE: who is told (the owner's manager) instead of the
     * owner, and the level escalated; NULL/0 otherwise. */
    const char *recipient;
    int level;
};

/* Whether an evaluation of day, run on today, notifies at all: channels are
 * configured and day is within max_age_days of today. */
bool notify_wanted(const struct notify_config *c, int32_t day, int32_t today);

/* Routes and writes the event's rows; *rows (may be NULL) gets how many. */
enum tend_err notify_enqueue(struct store *s, const struct notify_config *c,
                             const struct notify_cta_event *e, int64_t *rows);

#endif
