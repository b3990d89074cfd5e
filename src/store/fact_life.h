/* fact_life.h: which stored facts an event ends or changes (store/ only).
 *
 * A fact has a lifetime (facts.until_ms, settled_ms): a closed ticket ends
 * its open ticket, a paid invoice its unpaid one, and so on. Which event
 * touches which lifetimes is one rule for every backend; each backend maps
 * an effect to its own statement (sqlite_events.c, pg_events.c). */
#ifndef TEND_STORE_FACT_LIFE_H
#define TEND_STORE_FACT_LIFE_H

#include "core/vocab.h"

enum fact_life {
    FACT_LIFE_CLOSE,   /* a ticket closed: its open ticket (by subject) */
    FACT_LIFE_PAID,    /* an invoice paid: its invoice (by subject) */
    FACT_LIFE_CARD,    /* a card updated: the card facts before it */
    FACT_LIFE_REPLY,   /* an outreach answered: the replies before it */
    FACT_LIFE_ANSWER,  /* and the outreach it answers, settled */
    FACT_LIFE_OUTCOME, /* a renewal or churn: the outcomes before it */
    FACT_LIFE_COUNT
};

/* The effects of an event of kind, in the order they apply, into out;
 * returns how many (0 to 2). */
static inline int fact_life_effects(enum event_kind kind, enum fact_life out[2]) {
    switch (kind) {
    case EV_TICKET_CLOSED:
        out[0] = FACT_LIFE_CLOSE;
        return 1;
    case EV_INVOICE_PAID:
        out[0] = FACT_LIFE_PAID;
        return 1;
    case EV_CARD_UPDATED:
        out[0] = FACT_LIFE_CARD;
        return 1;
    case EV_OUTREACH_REPLIED:
        out[0] = FACT_LIFE_REPLY;
        out[1] = FACT_LIFE_ANSWER;
        return 2;
    case EV_RENEWED:
    case EV_CHURNED:
        out[0] = FACT_LIFE_OUTCOME;
        return 1;
    default:
        return 0;
    }
}

#endif
