/* vocab.h: the customer-success event vocabulary of SPEC 1.
 *
 * A track event's name decides what it means: a login, an NPS answer, a ticket,
 * a bill, ... or, for any other name, a feature event. The kind is decided once,
 * at ingest, and stored with the event (as its integer code), so a metric query
 * asks for "logins of account A in [t0, t1)" through an index instead of
 * comparing names. The codes are persisted: never renumber, only append.
 * Names are case-sensitive, as in the spec. This module is pure. */
#ifndef TEND_CORE_VOCAB_H
#define TEND_CORE_VOCAB_H

#include <stddef.h>

/* The last track kind with a meaning: the track kinds are 1..EV_TRACK_LAST. */
#define EV_TRACK_LAST EV_SUB_CHANGED

enum event_kind {
    EV_FEATURE = 0,           /* any track event without a meaning of its own */
    EV_LOGIN = 1,             /* Signed In */
    EV_NPS = 2,               /* NPS Survey Responded */
    EV_TICKET_OPENED = 3,     /* Ticket Opened */
    EV_TICKET_CLOSED = 4,     /* Ticket Closed */
    EV_INVOICE_ISSUED = 5,    /* Invoice Issued */
    EV_INVOICE_PAID = 6,      /* Invoice Paid */
    EV_PAYMENT_FAILED = 7,    /* Payment Failed */
    EV_CARD_UPDATED = 8,      /* Payment Method Updated */
    EV_OUTREACH_SENT = 9,     /* Outreach Sent */
    EV_OUTREACH_REPLIED = 10, /* Outreach Replied */
    EV_GOAL_SET = 11,         /* Goal Set */
    EV_MILESTONE_DUE = 12,    /* Onboarding Milestone Due */
    EV_MILESTONE_DONE = 13,   /* Onboarding Milestone Completed */
    EV_RENEWED = 14,          /* Account Renewed */
    EV_CHURNED = 15,          /* Account Churned */
    EV_USER_REMOVED = 16,     /* Account Removed User */
    EV_SUB_CHANGED = 17,      /* Subscription Changed */
    /* Messages that are not track events are stored with these kinds. */
    EV_IDENTIFY = 64,
    EV_GROUP = 65,
    EV_PAGE = 66,
    EV_SCREEN = 67,
    EV_ALIAS = 68,
};

/* The kind of a track event named by the len bytes at name. */
enum event_kind vocab_kind_of(const char *name, size_t len);
/* The canonical name of a kind ("Signed In", ...; "feature" for EV_FEATURE,
 * "identify" ... for message kinds). Never NULL. */
const char *vocab_kind_name(enum event_kind kind);
/* A short key for listings: "login", "nps", "feature", "identify", ... */
const char *vocab_kind_key(enum event_kind kind);

#endif
