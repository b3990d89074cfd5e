/* schema.h: the numbered migrations of the SQLite schema (private to store/).
 *
 * Migration N brings the schema from version N-1 to N. Applied migrations are
 * recorded in schema_migrations; a database newer than this build is refused.
 * Never edit a released migration: add the next one. */
#ifndef TEND_STORE_SCHEMA_H
#define TEND_STORE_SCHEMA_H

struct migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct migration schema_migrations[];
extern const int schema_migration_count;

/* Fact lifetimes: SQL expressions over an events row for its settled_ms and
 * (given settled_ms) its until_ms, shared by migration 6 and the statements
 * that keep them as facts arrive. until_ms is when the fact stops mattering
 * to metrics as of T (NULL: never): NPS answers after 365 days, a ticket's
 * open once settled and 30 days old, an invoice once paid, an outreach once
 * answered, a card, reply or outcome once another follows; Ticket Closed,
 * Invoice Paid, Payment Failed and Account Removed User at once (their effect
 * is in settled_ms or in memberships). */
#define SCHEMA_MS_30_DAYS  "2592000000"
#define SCHEMA_MS_365_DAYS "31536000000"
#define SCHEMA_FACT_ROWS   "(kind BETWEEN 2 AND 16 OR kind = 65)"
#define SCHEMA_OTHER(cond)                                                                         \
    "(SELECT MIN(c.ts_ms) FROM events c WHERE c.account_id = events.account_id "                   \
    "AND (c.kind BETWEEN 2 AND 16 OR c.kind = 65) AND " cond ")"
#define SCHEMA_FACT_SETTLED_SQL                                                                     \
    "CASE kind WHEN 3 THEN " SCHEMA_OTHER(                                                          \
        "c.kind = 4 AND c.subject = events.subject AND "                                            \
        "c.ts_ms >= events.ts_ms") " WHEN 5 THEN " SCHEMA_OTHER("c.kind = 6 AND c.subject = "       \
                                                                "events.subject") " WHEN 9 "        \
                                                                                  "THEN"            \
                                                                                  " " SCHEMA_OTHER( \
                                                                                      "c.kind = "   \
                                                                                      "10 AND "     \
                                                                                      "c.ts_ms "    \
                                                                                      ">= "         \
                                                                                      "events.ts_"  \
                                                                                      "ms") " END"
#define SCHEMA_FACT_UNTIL_SQL                                                                      \
    "CASE WHEN kind = 2 THEN ts_ms + " SCHEMA_MS_365_DAYS                                          \
    " WHEN kind = 3 THEN CASE WHEN settled_ms IS NULL THEN NULL ELSE"                              \
    " max(ts_ms + " SCHEMA_MS_30_DAYS ", settled_ms) END"                                          \
    " WHEN kind IN (5, 9) THEN settled_ms"                                                         \
    " WHEN kind = 8 THEN " SCHEMA_OTHER(                                                           \
        "c.kind = 8 AND c.ts_ms > events.ts_ms") " WHEN kind = "                                   \
                                                 "10 "                                             \
                                                 "THEN"                                            \
                                                 " " SCHEMA_OTHER(                                 \
                                                     "c.kind = "                                   \
                                                     "10 AND "                                     \
                                                     "c.ts_ms > "                                  \
                                                     "events.ts_"                                  \
                                                     "ms") " WHEN"                                 \
                                                           " kind"                                 \
                                                           " IN "                                  \
                                                           "(14, "                                 \
                                                           "15) "                                  \
                                                           "THEN"                                  \
                                                           " " SCHEMA_OTHER(                       \
                                                               "c.kind IN (14, 15) AND c.ts_ms > " \
                                                               "events.ts_ms") " WHEN kind IN "    \
                                                                               "(4, 6, 7, 16) "    \
                                                                               "THEN ts_ms ELSE "  \
                                                                               "NULL END"

#endif
