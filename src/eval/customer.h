/* customer.h: a day's messages to customers, decided and queued
 * (docs/delivery.md, "Messages to the customer").
 *
 * For each account (or the listed ones): the card on file, failed payments
 * and the renewal date as of the day, what was already decided for it, its
 * billing contact and their unsubscribes -> core/customer_plan.h's due
 * messages -> each claimed in the store (store_customer_message_claim: once
 * per account, kind, ref and step, however many runs and nodes) and, when
 * the claim is ours and the contact may be written to, rendered
 * (notify/customer_config.h) into a notification and an outbox row of the
 * configured channel, in the same transaction. The dispatcher sends it like
 * any other row: durable, retried, recovered after kill -9. */
#ifndef TEND_EVAL_CUSTOMER_H
#define TEND_EVAL_CUSTOMER_H

#include <stdint.h>

#include "notify/config.h"
#include "notify/customer_config.h"
#include "store/store.h"

#define CUSTOMER_FACTS_READ   1000 /* an account's newest facts read for its card and payments */
#define CUSTOMER_DECIDED_READ 1000

struct customer_summary {
    int64_t queued, unsubscribed, no_recipient;
};

/* Decides and queues day's customer messages (now_ms: when, for the rows;
 * only/n_only: these internal account ids, NULL: every account) in one
 * transaction of its own. Nothing when cc is off, or day is older than
 * delivery.max_age_days (a replay of history writes to no customer). key:
 * the unsubscribe key (notify/unsub.h). TEND_ERR_DB from the store. */
enum tend_err customer_eval(struct store *s, const struct customer_config *cc,
                            const struct notify_config *nc, const unsigned char *key, int32_t day,
                            int64_t now_ms, const int64_t *only, size_t n_only,
                            struct customer_summary *out);

#endif
