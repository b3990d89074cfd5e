/* schema.h: the numbered migrations of the SQLite schema (private to store/).
 *
 * Migration N brings the schema from version N-1 to N. Applied migrations are
 * recorded in schema_migrations; a database newer than this build is refused.
 * Never edit a released migration: add the next one. */
#ifndef TEND_STORE_SCHEMA_H
#define TEND_STORE_SCHEMA_H

#include "store/codes.h"

struct migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct migration schema_migrations[];
extern const int schema_migration_count;

/* Fact lifetimes: SQL expressions for a fact's settled_ms and until_ms, one
 * definition for migration 6 (over the facts rows) and for the statements
 * that store a fact (over their parameters). until_ms is when the
 * fact stops mattering to metrics as of T (NULL here, SCHEMA_NEVER stored:
 * never): NPS answers after 365
 * days, a ticket's open once settled and 30 days old, an invoice once paid,
 * an outreach once answered, a card, reply or outcome once another follows;
 * Ticket Closed, Invoice Paid, Payment Failed and Account Removed User at once
 * (their effect is in settled_ms or in memberships).
 *
 * KIND, ACCOUNT, SUBJECT and TS are SQL for the fact's kind, account_id,
 * subject and ts_ms; SETTLED for its settled_ms. */
// clang-format off
#define SCHEMA_MS_30_DAYS  "2592000000"
#define SCHEMA_MS_365_DAYS "31536000000"
#define SCHEMA_FACT_ROWS   "(kind BETWEEN " SQL_EV_NPS " AND " SQL_EV_USER_REMOVED " OR kind = " SQL_EV_GROUP ")"
#define SCHEMA_NEVER       "9223372036854775807" /* until_ms of a fact that never stops mattering */
/* The first time of the account's facts meeting COND (alias c). */
#define SCHEMA_FIRST(ACCOUNT, COND) \
    "(SELECT MIN(c.ts_ms) FROM facts c WHERE c.account_id = " ACCOUNT " AND " COND ")"
/* Each kind's part, for a statement that knows the kind. */
#define SCHEMA_SETTLED_TICKET(ACCOUNT, SUBJECT, TS) \
    SCHEMA_FIRST(ACCOUNT, "c.kind = " SQL_EV_TICKET_CLOSED " AND c.subject = " SUBJECT " AND c.ts_ms >= " TS)
#define SCHEMA_SETTLED_INVOICE(ACCOUNT, SUBJECT) \
    SCHEMA_FIRST(ACCOUNT, "c.kind = " SQL_EV_INVOICE_PAID " AND c.subject = " SUBJECT)
#define SCHEMA_SETTLED_OUTREACH(ACCOUNT, TS) \
    SCHEMA_FIRST(ACCOUNT, "c.kind = " SQL_EV_OUTREACH_REPLIED " AND c.ts_ms >= " TS)
#define SCHEMA_UNTIL_NPS(TS)              TS " + " SCHEMA_MS_365_DAYS
#define SCHEMA_UNTIL_TICKET(TS, SETTLED)  "max(" TS " + " SCHEMA_MS_30_DAYS ", " SETTLED ")"
#define SCHEMA_UNTIL_CARD(ACCOUNT, TS)    SCHEMA_FIRST(ACCOUNT, "c.kind = " SQL_EV_CARD_UPDATED " AND c.ts_ms > " TS)
#define SCHEMA_UNTIL_REPLY(ACCOUNT, TS)   SCHEMA_FIRST(ACCOUNT, "c.kind = " SQL_EV_OUTREACH_REPLIED " AND c.ts_ms > " TS)
#define SCHEMA_UNTIL_OUTCOME(ACCOUNT, TS) \
    SCHEMA_FIRST(ACCOUNT, "c.kind IN (" SQL_EV_RENEWED ", " SQL_EV_CHURNED ") AND c.ts_ms > " TS)
/* Any kind. */
#define SCHEMA_SETTLED(KIND, ACCOUNT, SUBJECT, TS) \
    "CASE " KIND \
    " WHEN " SQL_EV_TICKET_OPENED " THEN " SCHEMA_SETTLED_TICKET(ACCOUNT, SUBJECT, TS) \
    " WHEN " SQL_EV_INVOICE_ISSUED " THEN " SCHEMA_SETTLED_INVOICE(ACCOUNT, SUBJECT) \
    " WHEN " SQL_EV_OUTREACH_SENT " THEN " SCHEMA_SETTLED_OUTREACH(ACCOUNT, TS) \
    " END"
#define SCHEMA_UNTIL(KIND, ACCOUNT, TS, SETTLED) \
    "CASE WHEN " KIND " = " SQL_EV_NPS " THEN " SCHEMA_UNTIL_NPS(TS) \
    " WHEN " KIND " = " SQL_EV_TICKET_OPENED " THEN " SCHEMA_UNTIL_TICKET(TS, SETTLED) \
    " WHEN " KIND " IN (" SQL_EV_INVOICE_ISSUED ", " SQL_EV_OUTREACH_SENT ") THEN " SETTLED \
    " WHEN " KIND " = " SQL_EV_CARD_UPDATED " THEN " SCHEMA_UNTIL_CARD(ACCOUNT, TS) \
    " WHEN " KIND " = " SQL_EV_OUTREACH_REPLIED " THEN " SCHEMA_UNTIL_REPLY(ACCOUNT, TS) \
    " WHEN " KIND " IN (" SQL_EV_RENEWED ", " SQL_EV_CHURNED ") THEN " SCHEMA_UNTIL_OUTCOME(ACCOUNT, TS) \
    " WHEN " KIND " IN (" SQL_EV_TICKET_CLOSED ", " SQL_EV_INVOICE_PAID ", " SQL_EV_PAYMENT_FAILED ", " SQL_EV_USER_REMOVED ") THEN " TS \
    " END"
/* Of a stored facts row, in an UPDATE of facts. */
#define SCHEMA_ROW_SETTLED \
    SCHEMA_SETTLED("facts.kind", "facts.account_id", "facts.subject", "facts.ts_ms")
#define SCHEMA_ROW_UNTIL \
    SCHEMA_UNTIL("facts.kind", "facts.account_id", "facts.ts_ms", "facts.settled_ms")
// clang-format on

#endif
