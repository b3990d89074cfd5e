/* hooks_map.h: the providers' webhook events as tend's events
 * (docs/connectors.md, the mapping tables).
 *
 * Two steps, both pure apart from one injected look-up:
 *   hook_split()  a verified request body into its events (Stripe and
 *                 Zendesk send one event a request, HubSpot an array): each
 *                 with the provider's event id, its type and its own JSON,
 *                 which is what the inbox keeps;
 *   hook_map()    one kept event into Segment-shaped track messages (the
 *                 ordinary ingest path then validates, deduplicates and
 *                 stores them) and account traits, or a reason it maps to
 *                 nothing. The messages' messageId is derived from the
 *                 provider's event id ("stripe:evt_1..."), so a replay of the
 *                 same event is a duplicate at ingest, never a second event.
 * Which tend account an event belongs to: an id the payload carries (a
 * Stripe object's metadata[account_id_key]), else the provider's own id of
 * the customer, organisation or company looked up in the mapping table
 * (hook_lookup: the store's hook_accounts, filled from a CSV or learned).
 * Events that teach such a pair (a Stripe customer with the metadata key, a
 * Zendesk organisation with an external id, a HubSpot company's
 * account_id_property) return it in learn_*.
 *
 * Never a crash or an error on a payload: what does not read is a result
 * with status "failed" and the reason; only the look-up's own failure (the
 * store) is an error, and the row is then processed again later. */
#ifndef TEND_INGEST_HOOKS_MAP_H
#define TEND_INGEST_HOOKS_MAP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/connectors.h"
#include "util/err.h"

#define HOOK_ID_BYTES     256 /* STORE_INBOX_ID_BYTES */
#define HOOK_DETAIL_BYTES 512 /* STORE_INBOX_DETAIL_BYTES */
/* HubSpot sends up to 100 events a request; more is refused. */
#define HOOK_MAX_EVENTS 1000

/* Reasons (codes: stable, counted in /metrics per provider). */
#define HOOK_UNKNOWN_ACCOUNT "unknown_account" /* no account for the customer/org/company */
#define HOOK_UNHANDLED_TYPE  "unhandled_type"  /* an event type tend does not map */
#define HOOK_NO_CHANGE       "no_change"       /* a type tend maps, nothing it reads changed */
#define HOOK_UNKNOWN_OWNER   "unknown_owner"   /* a HubSpot owner id not in hubspot.owners */
#define HOOK_BAD_PAYLOAD     "bad_payload"     /* the event is not the provider's shape */
#define HOOK_REJECTED        "rejected"        /* ingest refused a mapped message */

/* One event of a request: strings malloced (hook_split_free). */
struct hook_split_event {
    char *event_id, *event_type;
    char *payload; /* the event's JSON, as it is kept in the inbox */
};

/* Splits a verified body (len bytes) into its events (*out, *n; at least
 * one). TEND_ERR_INVALID with the reason in err (HOOK_DETAIL_BYTES) when the
 * body is not the provider's JSON: not JSON, no event id, over
 * HOOK_MAX_EVENTS events. */
enum tend_err hook_split(enum hook_provider p, const char *body, size_t len,
                         struct hook_split_event **out, size_t *n, char *err);
void hook_split_free(struct hook_split_event *ev, size_t n);

/* The mapping table's look-up: the account of the provider's id, *found
 * false when unknown. An error is the store's (the row stays pending). */
struct hook_lookup {
    enum tend_err (*account_of)(void *arg, enum hook_provider p, const char *provider_id,
                                char account[HOOK_ID_BYTES], bool *found);
    void *arg;
};

struct hook_result {
    const char *status;             /* "done", "unmapped" or "failed" (static) */
    char reason[64];                /* one of HOOK_* above, or "" */
    char detail[HOOK_DETAIL_BYTES]; /* for a person: "Stripe customer cus_9 has no account ..." */
    char account[HOOK_ID_BYTES];    /* the account, when known; "" otherwise */
    cJSON *messages;                /* an array of Segment track messages (owned) */
    cJSON *traits;                  /* account traits to apply, or NULL (owned) */
    int64_t ts_ms;                  /* the event's time (traits and messages) */
    char learn_id[HOOK_ID_BYTES];   /* a provider id -> account pair learnt, or "" */
    char learn_account[HOOK_ID_BYTES];
};

/* Maps one inbox event (payload: its JSON) of provider p under c. Fills
 * *r (hook_result_free it); errors only from the look-up. */
enum tend_err hook_map(enum hook_provider p, const struct conn_provider *c, const char *payload,
                       const struct hook_lookup *look, struct hook_result *r);
void hook_result_free(struct hook_result *r);

/* ---- shared by the providers' files (hooks_stripe.c, hooks_map.c) -------- */

/* A track message for the account at ts_ms, named event, with props
 * (taken), messageId PROVIDER:EVENT_ID (suffix appended after ":" when not
 * NULL), appended to r->messages. */
void hook_add_track(struct hook_result *r, enum hook_provider p, const char *event_id,
                    const char *suffix, const char *event, cJSON *props);
/* Sets r to status/reason with a printf detail. */
void hook_set(struct hook_result *r, const char *status, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A string member (NULL when absent or not a string); a number or numeric
 * string member as text into buf (NULL when neither). */
const char *hook_str(const cJSON *o, const char *key);
const char *hook_id_text(const cJSON *o, const char *key, char *buf, size_t size);
/* Resolves the account of the provider's id into r->account: TEND_OK with
 * *found. */
enum tend_err hook_resolve(const struct hook_lookup *look, enum hook_provider p, const char *id,
                           struct hook_result *r, bool *found);

/* Stripe (hooks_stripe.c). */
enum tend_err hook_map_stripe(const struct conn_provider *c, cJSON *ev,
                              const struct hook_lookup *look, struct hook_result *r);
/* Money in a currency's minor units as its major unit (JPY 500 -> 500,
 * USD 500 -> 5.00, KWD 500 -> 0.5). */
double hook_stripe_major(int64_t minor, const char *currency);
/* A subscription's MRR (major units a month) from its items: each price's
 * unit_amount x quantity, normalised by the price's interval and
 * interval_count. *ok false when an item lacks a price. */
double hook_stripe_mrr(const cJSON *items, const char *currency, bool *ok);

#endif
