/* customer_plan.h: which messages to a customer are due on a day
 * (docs/delivery.md, "Messages to the customer"). Pure: no store, no clock;
 * the day and what was already decided come in.
 *
 * Three kinds, each decided once per key (kind, ref, step):
 * - card_expiry: before the last valid day of the card on file (the last day
 *   of its expiry month), at each configured step (30, 14, 7 days by
 *   default). The card is its expiry month and last four digits (when
 *   known): a Payment Method Updated that gives another card ends the old
 *   card's steps (they are no longer asked about: only the latest card is
 *   planned) and starts the new card's afresh; re-entering the same card
 *   continues its steps. Only the LATEST due step is ever sent: a tend that
 *   starts (or comes back) 10 days before expiry sends the 14-day reminder,
 *   not the 30 and the 14 together, and the 30 is never sent afterwards. No
 *   reminder once the card has expired (the failed payments then speak).
 * - renewal: before the account's renewal date, at its steps, as cards.
 * - payment_failed: once per invoice with a Payment Failed that is not paid,
 *   when the failure is at most max_age_days old (so turning the feature on
 *   does not mail a year of old failures).
 * A due message whose recipient unsubscribed from its kind is still due, and
 * marked: the caller records it, unsent, so the CSM sees it was withheld. */
#ifndef TEND_CORE_CUSTOMER_PLAN_H
#define TEND_CORE_CUSTOMER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cust_kind { CUST_CARD_EXPIRY, CUST_RENEWAL, CUST_PAYMENT_FAILED, CUST_KIND_COUNT };

#define CUST_MAX_STEPS 8
#define CUST_REF_BYTES 80

const char *cust_kind_name(enum cust_kind k);
/* false when name is no kind. */
bool cust_kind_parse(const char *name, enum cust_kind *out);

struct cust_plan_config {
    bool enabled[CUST_KIND_COUNT];
    int steps[CUST_KIND_COUNT][CUST_MAX_STEPS]; /* days before, descending, distinct, >= 0 */
    int n_steps[CUST_KIND_COUNT];
    int payment_max_age_days;
};

struct cust_failure {
    const char *invoice;
    int32_t day; /* of the failure */
    bool paid;   /* the invoice was paid since */
};

/* A key already decided (sent, withheld or without a recipient). */
struct cust_decided {
    enum cust_kind kind;
    const char *ref;
    int64_t step;
};

struct cust_plan_input {
    int32_t today;
    bool has_card;
    int32_t card_last_day; /* the last day of its expiry month */
    int card_year, card_month;
    const char *card_last4; /* NULL: unknown */
    bool has_renewal;
    int32_t renewal_day;
    const struct cust_failure *failures;
    size_t n_failures;
    const struct cust_decided *decided;
    size_t n_decided;
    /* The recipient's unsubscribes (NULL recipient: none apply). */
    bool unsubscribed[CUST_KIND_COUNT];
};

struct cust_due {
    enum cust_kind kind;
    char ref[CUST_REF_BYTES];
    int64_t step;
    int32_t days_left; /* card_expiry, renewal: days to the date; else 0 */
    size_t failure;    /* payment_failed: index into failures */
    bool unsubscribed; /* to be recorded, not sent */
};

/* The card's ref: "YYYY-MM" and " *LAST4" when known (ref bytes). */
void cust_card_ref(int year, int month, const char *last4, char *ref);

/* Writes the due messages into out (at most max), in kind order; returns
 * how many. */
size_t cust_plan(const struct cust_plan_config *c, const struct cust_plan_input *in,
                 struct cust_due *out, size_t max);

/* The billing contact (SPEC 1): the account's billing_email trait when it is
 * an address, else the first current member whose role is billing, else the
 * first whose role is admin, else none. *rule gets "billing_email",
 * "billing_user", "admin_user" or "none"; the result is one of the inputs,
 * or NULL. roles[i] may be NULL. */
const char *cust_recipient(const char *billing_email, const char *const *emails,
                           const char *const *roles, size_t n, const char **rule);

/* Whether s looks like one mail address (local@domain, no spaces, angle
 * brackets, commas or control characters, at most 254 bytes). */
bool cust_address_ok(const char *s);

#endif
