/* codes.h: the codes the store keeps in its tables, as SQL literals (private
 * to store/).
 *
 * The store keeps enums as their values (an event's kind is an integer) or,
 * for CTAs, as core's names. A statement that selects by such a code is built
 * from these constants, never from a number typed into the SQL: each integer
 * is tied to its enum by a static assertion, so renumbering an enum breaks
 * the build instead of the data already stored (stored codes never change;
 * a new value takes a new number). Names are strings, so they cannot be
 * asserted at compile time: tests/unit/test_store.c checks them against
 * core's cta_status_name() and cta_close_reason_name().
 *
 * Backend-neutral: SQLite and PostgreSQL store the same codes. */
#ifndef TEND_STORE_CODES_H
#define TEND_STORE_CODES_H

#include "core/vocab.h"

/* Event kinds (core/vocab.h), in events.kind, facts.kind, quarantine.kind. */
#define SQL_EV_FEATURE          "0"
#define SQL_EV_LOGIN            "1"
#define SQL_EV_NPS              "2"
#define SQL_EV_TICKET_OPENED    "3"
#define SQL_EV_TICKET_CLOSED    "4"
#define SQL_EV_INVOICE_ISSUED   "5"
#define SQL_EV_INVOICE_PAID     "6"
#define SQL_EV_PAYMENT_FAILED   "7"
#define SQL_EV_CARD_UPDATED     "8"
#define SQL_EV_OUTREACH_SENT    "9"
#define SQL_EV_OUTREACH_REPLIED "10"
#define SQL_EV_GOAL_SET         "11"
#define SQL_EV_RENEWED          "14"
#define SQL_EV_CHURNED          "15"
#define SQL_EV_USER_REMOVED     "16"
#define SQL_EV_SUB_CHANGED      "17"
#define SQL_EV_GROUP            "65"

_Static_assert(EV_FEATURE == 0, "SQL_EV_FEATURE");
_Static_assert(EV_LOGIN == 1, "SQL_EV_LOGIN");
_Static_assert(EV_NPS == 2, "SQL_EV_NPS");
_Static_assert(EV_TICKET_OPENED == 3, "SQL_EV_TICKET_OPENED");
_Static_assert(EV_TICKET_CLOSED == 4, "SQL_EV_TICKET_CLOSED");
_Static_assert(EV_INVOICE_ISSUED == 5, "SQL_EV_INVOICE_ISSUED");
_Static_assert(EV_INVOICE_PAID == 6, "SQL_EV_INVOICE_PAID");
_Static_assert(EV_PAYMENT_FAILED == 7, "SQL_EV_PAYMENT_FAILED");
_Static_assert(EV_CARD_UPDATED == 8, "SQL_EV_CARD_UPDATED");
_Static_assert(EV_OUTREACH_SENT == 9, "SQL_EV_OUTREACH_SENT");
_Static_assert(EV_OUTREACH_REPLIED == 10, "SQL_EV_OUTREACH_REPLIED");
_Static_assert(EV_GOAL_SET == 11, "SQL_EV_GOAL_SET");
_Static_assert(EV_RENEWED == 14, "SQL_EV_RENEWED");
_Static_assert(EV_CHURNED == 15, "SQL_EV_CHURNED");
_Static_assert(EV_USER_REMOVED == 16, "SQL_EV_USER_REMOVED");
_Static_assert(EV_SUB_CHANGED == 17, "SQL_EV_SUB_CHANGED");
_Static_assert(EV_GROUP == 65, "SQL_EV_GROUP");

/* The kinds kept as facts: SQL_EV_NPS to SQL_EV_SUB_CHANGED and group
 * calls (is_fact() in sqlite_events.c says the same in C). */
#define SQL_EV_FACT_KINDS(KIND)                                                                    \
    "(" KIND " BETWEEN " SQL_EV_NPS " AND " SQL_EV_SUB_CHANGED " OR " KIND " = " SQL_EV_GROUP ")"
/* The kinds an activity rollup counts (features and logins). */
#define SQL_EV_ACTIVITY_KINDS "(" SQL_EV_FEATURE ", " SQL_EV_LOGIN ")"
/* Outcomes: renewals and churns. */
#define SQL_EV_OUTCOME_KINDS "(" SQL_EV_RENEWED ", " SQL_EV_CHURNED ")"

/* CTA statuses and close reasons (core/cta.h), stored by core's names in
 * ctas.status and ctas.closed_reason. */
#define SQL_CTA_OPEN          "'open'"
#define SQL_CTA_SNOOZED       "'snoozed'"
#define SQL_CTA_CLOSED        "'closed'"
#define SQL_CTA_AUTO_RESOLVED "'auto_resolved'"

#endif
