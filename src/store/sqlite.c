/* sqlite.c: the SQLite backend of store.h.
 *
 * One connection per struct store, WAL journal, synchronous=FULL so that a
 * commit is on disk before store_commit() returns (an acknowledged message
 * survives kill -9 and power loss). Every statement is prepared once, on first
 * use, and kept for the life of the connection. The page cache is capped
 * (STORE_CACHE_KIB), so memory stays flat however large the database grows.
 *
 * SQLite result codes never leave this file: they become TEND_ERR_DB with the
 * message kept for store_last_error(). */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cta.h"
#include "core/vocab.h"
#include "store/schema.h"
#include "store/sqlite_int.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/mem.h"

#define STORE_CACHE_KIB 131072 /* 128 MiB of page cache */
/* A reader (store_open_again) scans once: a small cache recycles its pages
 * instead of faulting in fresh memory for each (measured: the facts scan of
 * 10,000 accounts 105 -> 70 ms). */
#define STORE_READER_CACHE_KIB 8192
#define STORE_BUSY_MS          10000
/* Slots of the cache of product_days rows written (note_product_day): 8,192
 * of 32 bytes, 256 KiB per connection that stores events, enough for a
 * day's (account, product) pairs of 8,000 accounts without eviction. */
#define PRODUCTS_SEEN 8192

struct product_seen {
    int64_t account_id; /* 0: empty */
    int32_t day;
    char product[20];
};

enum stmt_id {
    Q_ACCOUNT_FIND,
    Q_ACCOUNT_INSERT,
    Q_ACCOUNT_SEEN,
    Q_USER_FIND,
    Q_USER_INSERT,
    Q_NAME_FIND,
    Q_NAME_INSERT,
    Q_TRAIT_MERGE,
    Q_TRAITS_EACH,
    Q_ACCOUNT_SET,
    Q_USER_SET,
    Q_MEMBERSHIPS_OF_USER,
    Q_MEMBERSHIP_OPEN_FIND,
    Q_MEMBERSHIP_INSERT,
    Q_MEMBERSHIP_COVERING,
    Q_MEMBERSHIP_END,
    Q_REMOVAL_AFTER,
    Q_EVENT_EXISTS,
    Q_EVENT_INSERT,
    Q_FACT_INSERT,
    Q_FACT_NPS,
    Q_FACT_TICKET,
    Q_FACT_INVOICE,
    Q_FACT_OUTREACH,
    Q_FACT_CARD,
    Q_FACT_REPLY,
    Q_FACT_OUTCOME,
    Q_FACT_SPENT,
    Q_EVENT_FACT,
    Q_QUARANTINE_INSERT,
    Q_QUARANTINE_BY_ACCOUNT,
    Q_QUARANTINE_BY_USER,
    Q_EVENT_ATTACH,
    Q_QUARANTINE_DELETE,
    Q_COUNTER_ADD,
    Q_ACCOUNT_COUNT_EVENTS,
    Q_ACCOUNTS_EACH,
    Q_ACCOUNT_GET,
    Q_ACCOUNTS_BRIEF,
    Q_COUNTERS_EACH,
    Q_QUARANTINE_REASONS,
    Q_LOGIN_DAY_ADD,
    Q_LOGIN_DAY_LAST,
    Q_ACTIVITY,
    Q_FACTS,
    Q_LIFE_CLOSE,
    Q_LIFE_PAID,
    Q_LIFE_CARD,
    Q_LIFE_REPLY,
    Q_LIFE_ANSWER,
    Q_LIFE_OUTCOME,
    Q_MEMBERSHIPS,
    Q_STALE_MARK,
    Q_STALE_NEXT,
    Q_STALE_RANGE,
    Q_STALE_CLEAR,
    Q_ROLLUP_CLEAR,
    Q_COUNTED_RESET,
    Q_COUNTED_UNDO,
    Q_COUNTED_PENDING,
    Q_COUNTED_GET,
    Q_COUNTED_DONE,
    Q_COUNTS_PUT,
    Q_WINDOWS,
    Q_ROLLUP_SCAN,
    Q_ROLLUP_PUT,
    Q_ROLLUP,
    Q_SCORE_PUT,
    Q_SCORE_GET,
    Q_SCORE_HISTORY,
    Q_SCORES_OF_DAY,
    Q_SCORES_OF_DAY_VERSION,
    Q_PRODUCT_DAY,
    Q_PRODUCT_DAY_ATTACHED,
    Q_PRODUCT_USED,
    Q_GOAL_STALE,
    Q_GOALS,
    Q_GOAL_MET,
    Q_LAST_TICKET,
    Q_USER_LABEL,
    Q_CTAS_WATCHED,
    Q_CTA_INSERT,
    Q_CTA_UPDATE,
    Q_CTA_FORGET,
    Q_CTA_GET,
    Q_CTAS_EACH,
    Q_CTAS_OF_ACCOUNT,
    Q_CTA_HISTORY_ADD,
    Q_CTA_HISTORY,
    Q_EVAL_RUN_PUT,
    Q_EVAL_RUN_BEFORE,
    Q_EVAL_RUN_LAST,
    /* The same reads for a listed span (store_span.ids): the ids come as one
     * JSON array (?ids) that json_each turns into rows, in array order, each
     * joined by one index seek. */
    Q_ACCOUNTS_BRIEF_IDS,
    Q_ACTIVITY_IDS,
    Q_FACTS_IDS,
    Q_MEMBERSHIPS_IDS,
    Q_WINDOWS_IDS,
    Q_ROLLUP_IDS,
    Q_SCORES_OF_DAY_IDS,
    Q_SCORES_DAY_ANY,
    Q_CTAS_WATCHED_IDS,
    Q_CTAS_LIVE_COUNT,
    Q_COUNT
};

/* A CTA as read (read_cta). */
#define CTA_COLUMNS CTA_COLUMNS_WITH("a.external_id") ", a.name"
/* What an evaluation reads of a watched CTA: no account id or name (it has
 * them), and whether a person acted on it (column 22: core/plan.h, expiry). */
#define CTA_WATCHED_COLUMNS                                                                        \
    CTA_COLUMNS_WITH("NULL")                                                                       \
    ", NULL, EXISTS (SELECT 1 FROM cta_history h WHERE h.cta_id = c.id "                           \
    "AND h.actor <> '" STORE_ACTOR_TEND "')"
#define CTA_COLUMNS_WITH(ACCOUNT)                                                                  \
    "c.id, c.account_id, " ACCOUNT ", c.rule, c.subject, c.type, c.priority, c.status, "           \
    "c.snoozed_until, c.closed_reason, c.closed_day, c.cleared, c.owner, c.title, c.reason, "      \
    "c.evidence, c.opened_day, c.due_day, c.updated_ms, c.clear_since, c.value"

/* Storing a fact, with its lifetime (schema.h) worked out as it is stored:
 * one statement per kind, so only its own look-up runs (?1 account_id,
 * ?3 ts_ms, ?7 subject). */
#define INSERT_FACT(SETTLED, UNTIL)                                                                \
    "INSERT INTO facts (account_id, kind, ts_ms, key_ts_ms, key_hash, user_id, subject, detail, "  \
    "num, day, props, settled_ms, until_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "     \
    "?11, " SETTLED ", coalesce(" UNTIL ", " SCHEMA_NEVER ")) ON CONFLICT DO NOTHING"

static const char *const stmt_sql[Q_COUNT] = {
    [Q_ACCOUNT_FIND] = "SELECT id FROM accounts WHERE external_id = ?",
    [Q_ACCOUNT_INSERT] = "INSERT INTO accounts (external_id, first_seen_ms) VALUES (?, ?) "
                         "RETURNING id",
    [Q_ACCOUNT_SEEN] =
        "UPDATE accounts SET first_seen_ms = ?1 WHERE id = ?2 AND first_seen_ms > ?1",
    [Q_USER_FIND] = "SELECT id FROM users WHERE external_id = ? AND anonymous = ?",
    [Q_USER_INSERT] = "INSERT INTO users (external_id, anonymous, first_seen_ms) VALUES (?, ?, ?) "
                      "RETURNING id",
    [Q_NAME_FIND] = "SELECT id FROM names WHERE name = ?",
    [Q_NAME_INSERT] = "INSERT INTO names (name) VALUES (?) RETURNING id",
    [Q_TRAIT_MERGE] = "INSERT INTO traits (entity, entity_id, key, value, ts_ms) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (entity, entity_id, key) DO UPDATE "
                      "SET value = excluded.value, ts_ms = excluded.ts_ms "
                      "WHERE excluded.ts_ms >= traits.ts_ms",
    [Q_TRAITS_EACH] = "SELECT key, value FROM traits WHERE entity = ? AND entity_id = ? "
                      "ORDER BY key",
    [Q_ACCOUNT_SET] = "UPDATE accounts SET name = ?, plan = ?, mrr = ?, seats = ?, "
                      "renewal_date = ?, csm_email = ?, csm_slack = ?, segment = ?, "
                      "premium_products = ?, created_at = ?, traits = ? WHERE id = ?",
    [Q_USER_SET] = "UPDATE users SET email = ?, name = ?, title = ?, traits = ? WHERE id = ?",
    [Q_MEMBERSHIPS_OF_USER] = "SELECT account_id, start_ms, end_ms FROM memberships "
                              "WHERE user_id = ? ORDER BY start_ms",
    [Q_MEMBERSHIP_OPEN_FIND] = "SELECT id FROM memberships WHERE account_id = ? AND user_id = ? "
                               "AND (end_ms IS NULL OR end_ms > ?) LIMIT 1",
    [Q_MEMBERSHIP_INSERT] = "INSERT INTO memberships (account_id, user_id, start_ms) "
                            "VALUES (?, ?, ?)",
    [Q_MEMBERSHIP_COVERING] = "SELECT id FROM memberships WHERE account_id = ? AND user_id = ? "
                              "AND start_ms <= ? AND (end_ms IS NULL OR end_ms > ?) "
                              "ORDER BY start_ms DESC LIMIT 1",
    [Q_MEMBERSHIP_END] = "UPDATE memberships SET end_ms = ? WHERE id = ?",
    [Q_REMOVAL_AFTER] = "SELECT MIN(ts_ms) FROM facts WHERE account_id = ? AND kind = 16 "
                        "AND user_id = ? AND ts_ms > ?",
    [Q_EVENT_EXISTS] = "SELECT 1 FROM events WHERE key_ts_ms = ? AND key_hash = ?",
    [Q_EVENT_INSERT] = "INSERT INTO events (key_ts_ms, key_hash, ts_ms, kind, account_id, "
                       "user_id, name_id, subject, detail, num, day, props) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    [Q_FACT_INSERT] = INSERT_FACT("NULL", "NULL"),
    [Q_FACT_NPS] = INSERT_FACT("NULL", SCHEMA_UNTIL_NPS("?3")),
    [Q_FACT_TICKET] =
        INSERT_FACT(SCHEMA_SETTLED_TICKET("?1", "?7", "?3"),
                    SCHEMA_UNTIL_TICKET("?3", SCHEMA_SETTLED_TICKET("?1", "?7", "?3"))),
    [Q_FACT_INVOICE] =
        INSERT_FACT(SCHEMA_SETTLED_INVOICE("?1", "?7"), SCHEMA_SETTLED_INVOICE("?1", "?7")),
    [Q_FACT_OUTREACH] =
        INSERT_FACT(SCHEMA_SETTLED_OUTREACH("?1", "?3"), SCHEMA_SETTLED_OUTREACH("?1", "?3")),
    [Q_FACT_CARD] = INSERT_FACT("NULL", SCHEMA_UNTIL_CARD("?1", "?3")),
    [Q_FACT_REPLY] = INSERT_FACT("NULL", SCHEMA_UNTIL_REPLY("?1", "?3")),
    [Q_FACT_OUTCOME] = INSERT_FACT("NULL", SCHEMA_UNTIL_OUTCOME("?1", "?3")),
    [Q_FACT_SPENT] = INSERT_FACT("NULL", "?3"),
    /* An attached event, to store as a fact. */
    [Q_EVENT_FACT] = "SELECT user_id, subject, detail, num, day, props FROM events "
                     "WHERE key_ts_ms = ? AND key_hash = ?",
    [Q_QUARANTINE_INSERT] = "INSERT INTO quarantine (key_ts_ms, key_hash, ts_ms, kind, user_id, "
                            "account_external_id, reason, since_ms) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    [Q_QUARANTINE_BY_ACCOUNT] = "SELECT key_ts_ms, key_hash, ts_ms, kind, user_id "
                                "FROM quarantine WHERE account_external_id = ? "
                                "ORDER BY ts_ms",
    [Q_QUARANTINE_BY_USER] = "SELECT key_ts_ms, key_hash, ts_ms, kind, user_id FROM quarantine "
                             "WHERE user_id = ? AND account_external_id IS NULL ORDER BY ts_ms",
    [Q_EVENT_ATTACH] = "UPDATE events SET account_id = ? WHERE key_ts_ms = ? AND key_hash = ?",
    [Q_QUARANTINE_DELETE] = "DELETE FROM quarantine WHERE key_ts_ms = ? AND key_hash = ?",
    [Q_COUNTER_ADD] = "INSERT INTO counters (name, value) VALUES (?, ?) "
                      "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
    [Q_ACCOUNT_COUNT_EVENTS] = "UPDATE accounts SET event_count = event_count + ? WHERE id = ?",
    [Q_ACCOUNTS_EACH] =
        "SELECT a.id, a.external_id, a.name, a.plan, a.mrr, a.seats, a.renewal_date, a.csm_email, "
        "a.csm_slack, a.segment, a.premium_products, a.created_at, a.traits, "
        "(SELECT COUNT(*) FROM memberships m WHERE m.account_id = a.id AND m.end_ms IS NULL), "
        "a.event_count, a.first_seen_ms FROM accounts a ORDER BY a.external_id",
    [Q_ACCOUNT_GET] =
        "SELECT a.id, a.external_id, a.name, a.plan, a.mrr, a.seats, a.renewal_date, a.csm_email, "
        "a.csm_slack, a.segment, a.premium_products, a.created_at, a.traits, "
        "(SELECT COUNT(*) FROM memberships m WHERE m.account_id = a.id AND m.end_ms IS NULL), "
        "a.event_count, a.first_seen_ms FROM accounts a WHERE a.id = ?",
    [Q_ACCOUNTS_BRIEF] = "SELECT id, external_id, name, plan, mrr, seats, renewal_date, csm_email, "
                         "csm_slack, segment, premium_products, created_at, traits, -1, -1, "
                         "first_seen_ms FROM accounts",
    [Q_COUNTERS_EACH] = "SELECT name, value FROM counters ORDER BY name",
    [Q_LOGIN_DAY_ADD] = "INSERT INTO login_days (account_id, day) VALUES (?, ?) "
                        "ON CONFLICT DO NOTHING",
    [Q_LOGIN_DAY_LAST] = "SELECT MAX(day) FROM login_days WHERE account_id = ? AND day <= ?",
    /* One seek per day of the window into the day-first index; the
     * expression and the partial-index condition are spelt as in the index. */
    [Q_ACTIVITY] = "WITH RECURSIVE days (d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days "
                   "WHERE d < ?2) "
                   "SELECT e.account_id, e.kind, e.ts_ms, e.user_id, e.name_id "
                   "FROM days JOIN events e ON (e.ts_ms / 86400000) = days.d "
                   "AND e.account_id BETWEEN ?5 AND ?6 AND e.account_id IS NOT NULL "
                   "AND e.kind IN (0, 1) WHERE e.ts_ms >= ?3 AND e.ts_ms < ?4",
    /* The facts that matter as of T (?3): until_ms >= T, one range of each
     * account's rows (CROSS JOIN keeps account order). */
    [Q_FACTS] = "SELECT e.account_id, e.kind, e.ts_ms, e.user_id, e.subject, e.detail, e.num, "
                "e.day, e.settled_ms, e.props FROM accounts a CROSS JOIN facts e "
                "ON e.account_id = a.id AND e.until_ms >= ?3 AND e.ts_ms < ?3 "
                "WHERE a.id BETWEEN ?1 AND ?2",
    /* Fact lifetimes (schema.h): what a new fact settles or follows among
     * the account's earlier facts. ?1 account, ?2 time, ?3 subject. */
    [Q_LIFE_CLOSE] = "UPDATE facts SET settled_ms = ?2, until_ms = max(ts_ms + " SCHEMA_MS_30_DAYS
                     ", ?2) WHERE account_id = ?1 AND kind = 3 AND ts_ms <= ?2 AND subject = ?3 "
                     "AND (settled_ms IS NULL OR settled_ms > ?2)",
    [Q_LIFE_PAID] = "UPDATE facts SET settled_ms = ?2, until_ms = ?2 WHERE account_id = ?1 "
                    "AND kind = 5 AND subject = ?3 AND (settled_ms IS NULL OR settled_ms > ?2)",
    [Q_LIFE_CARD] = "UPDATE facts SET until_ms = ?2 WHERE account_id = ?1 AND kind = 8 "
                    "AND ts_ms < ?2 AND until_ms > ?2",
    [Q_LIFE_REPLY] = "UPDATE facts SET until_ms = ?2 WHERE account_id = ?1 AND kind = 10 "
                     "AND ts_ms < ?2 AND until_ms > ?2",
    [Q_LIFE_ANSWER] = "UPDATE facts SET settled_ms = ?2, until_ms = ?2 WHERE account_id = ?1 "
                      "AND kind = 9 AND ts_ms <= ?2 AND (settled_ms IS NULL OR settled_ms > ?2)",
    [Q_LIFE_OUTCOME] = "UPDATE facts SET until_ms = ?2 WHERE account_id = ?1 AND kind IN (14, 15) "
                       "AND ts_ms < ?2 AND until_ms > ?2",
    [Q_MEMBERSHIPS] = "SELECT account_id, user_id, start_ms, end_ms FROM memberships "
                      "WHERE account_id BETWEEN ? AND ?",
    [Q_STALE_MARK] = "INSERT INTO activity_stale (day) VALUES (?) ON CONFLICT DO NOTHING",
    [Q_STALE_NEXT] = "SELECT day FROM activity_stale ORDER BY day LIMIT ?",
    [Q_STALE_RANGE] = "SELECT day FROM activity_stale WHERE day BETWEEN ? AND ? ORDER BY day",
    [Q_STALE_CLEAR] = "DELETE FROM activity_stale WHERE day = ?",
    [Q_ROLLUP_CLEAR] = "DELETE FROM activity_days WHERE day = ?",
    [Q_COUNTED_RESET] = "INSERT INTO activity_counted (day, done) VALUES (?, 0) "
                        "ON CONFLICT (day) DO UPDATE SET done = 0",
    [Q_COUNTED_UNDO] = "UPDATE activity_counted SET done = 0 WHERE day BETWEEN ?1 AND ?1 + 34",
    [Q_COUNTED_PENDING] = "SELECT day FROM activity_counted WHERE done = 0 ORDER BY day",
    [Q_COUNTED_GET] = "SELECT done FROM activity_counted WHERE day = ?",
    [Q_COUNTED_DONE] = "UPDATE activity_counted SET done = 1 WHERE day = ?",
    [Q_COUNTS_PUT] = "INSERT OR REPLACE INTO activity_windows (day, account_id, logins_7d, "
                     "logins_28d, features_7d, features_28d, users_30d, names_30d, last_login) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [Q_WINDOWS] = "SELECT account_id, logins_7d, logins_28d, features_7d, features_28d, "
                  "users_30d, names_30d, last_login FROM activity_windows "
                  "WHERE day = ?1 AND account_id BETWEEN ?2 AND ?3",
    /* One day of the day-first index, in account order; a login without a
     * user counts as user 0, as metrics do. */
    [Q_ROLLUP_SCAN] = "SELECT account_id, kind, coalesce(user_id, 0), coalesce(name_id, 0) "
                      "FROM events WHERE (ts_ms / 86400000) = ?1 AND account_id IS NOT NULL "
                      "AND kind IN (0, 1)",
    [Q_ROLLUP_PUT] = "INSERT INTO activity_days (day, account_id, logins, features, users, names) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
    /* One seek per day. */
    [Q_ROLLUP] = "WITH RECURSIVE days (d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days "
                 "WHERE d < ?2) "
                 "SELECT r.account_id, r.day, r.logins, r.features, r.users, r.names "
                 "FROM days JOIN activity_days r ON r.day = days.d "
                 "AND r.account_id BETWEEN ?3 AND ?4",
    /* The listed spans' reads (json_each yields the ids in array order; CROSS
     * JOIN keeps it the outer loop, so each id is one seek). */
    [Q_ACCOUNTS_BRIEF_IDS] = "SELECT a.id, a.external_id, a.name, a.plan, a.mrr, a.seats, "
                             "a.renewal_date, a.csm_email, a.csm_slack, a.segment, "
                             "a.premium_products, a.created_at, a.traits, -1, -1, a.first_seen_ms "
                             "FROM json_each(?1) j CROSS JOIN accounts a ON a.id = j.value",
    [Q_ACTIVITY_IDS] = "WITH RECURSIVE days (d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days "
                       "WHERE d < ?2) "
                       "SELECT e.account_id, e.kind, e.ts_ms, e.user_id, e.name_id "
                       "FROM days CROSS JOIN json_each(?5) j CROSS JOIN events e "
                       "ON (e.ts_ms / 86400000) = days.d AND e.account_id = j.value "
                       "AND e.account_id IS NOT NULL AND e.kind IN (0, 1) "
                       "WHERE e.ts_ms >= ?3 AND e.ts_ms < ?4",
    [Q_FACTS_IDS] = "SELECT e.account_id, e.kind, e.ts_ms, e.user_id, e.subject, e.detail, e.num, "
                    "e.day, e.settled_ms, e.props FROM json_each(?1) j CROSS JOIN facts e "
                    "ON e.account_id = j.value AND e.until_ms >= ?2 AND e.ts_ms < ?2",
    [Q_MEMBERSHIPS_IDS] = "SELECT m.account_id, m.user_id, m.start_ms, m.end_ms "
                          "FROM json_each(?1) j CROSS JOIN memberships m "
                          "ON m.account_id = j.value",
    [Q_WINDOWS_IDS] = "SELECT w.account_id, w.logins_7d, w.logins_28d, w.features_7d, "
                      "w.features_28d, w.users_30d, w.names_30d, w.last_login "
                      "FROM json_each(?2) j CROSS JOIN activity_windows w "
                      "ON w.day = ?1 AND w.account_id = j.value",
    [Q_ROLLUP_IDS] = "WITH RECURSIVE days (d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days "
                     "WHERE d < ?2) "
                     "SELECT r.account_id, r.day, r.logins, r.features, r.users, r.names "
                     "FROM days CROSS JOIN json_each(?3) j CROSS JOIN activity_days r "
                     "ON r.day = days.d AND r.account_id = j.value",
    [Q_SCORES_OF_DAY_IDS] = "SELECT s.account_id, s.overall FROM json_each(?3) j "
                            "CROSS JOIN scores s ON s.account_id = j.value AND s.day = ?1 "
                            "AND s.config_version = ?2",
    [Q_SCORES_DAY_ANY] = "SELECT EXISTS (SELECT 1 FROM scores WHERE day = ?1 "
                         "AND config_version = ?2)",
    [Q_SCORE_PUT] = "INSERT INTO scores (account_id, day, overall, band, logins, adoption, "
                    "sentiment, support, financial, config_version, computed_ms) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, day) DO "
                    "UPDATE SET overall = excluded.overall, band = excluded.band, "
                    "logins = excluded.logins, adoption = excluded.adoption, "
                    "sentiment = excluded.sentiment, support = excluded.support, "
                    "financial = excluded.financial, config_version = excluded.config_version, "
                    "computed_ms = excluded.computed_ms",
    [Q_SCORE_GET] = "SELECT day, overall, band, logins, adoption, sentiment, support, financial, "
                    "config_version FROM scores WHERE account_id = ? AND day = ?",
    /* One seek per day. */
    [Q_SCORE_HISTORY] = "WITH RECURSIVE days (d) AS (SELECT ?2 UNION ALL SELECT d + 1 FROM days "
                        "WHERE d < ?3) "
                        "SELECT s.day, s.overall, s.band, s.logins, s.adoption, s.sentiment, "
                        "s.support, s.financial, s.config_version FROM days "
                        "JOIN scores s ON s.day = days.d AND s.account_id = ?1 ORDER BY s.day",
    [Q_SCORES_OF_DAY] = "SELECT account_id, overall FROM scores WHERE day = ?",
    [Q_SCORES_OF_DAY_VERSION] = "SELECT account_id, overall FROM scores WHERE day = ? "
                                "AND config_version = ?",
    [Q_PRODUCT_DAY] = "INSERT INTO product_days (account_id, product, day) VALUES (?, ?, ?) "
                      "ON CONFLICT DO NOTHING",
    /* An attached event's product, from its own row. */
    [Q_PRODUCT_DAY_ATTACHED] = "INSERT INTO product_days (account_id, product, day) "
                               "SELECT ?1, subject, ts_ms / 86400000 FROM events "
                               "WHERE key_ts_ms = ?2 AND key_hash = ?3 AND kind = 0 "
                               "AND subject IS NOT NULL ON CONFLICT DO NOTHING",
    [Q_PRODUCT_USED] = "SELECT 1 FROM product_days WHERE account_id = ? AND product = ? "
                       "AND day BETWEEN ? AND ? LIMIT 1",
    /* A goal that arrives after its days were rolled up: rebuild them, which
     * marks it met (refresh_day). */
    [Q_GOAL_STALE] = "INSERT INTO activity_stale (day) SELECT day FROM activity_counted "
                     "WHERE day >= ? ON CONFLICT DO NOTHING",
    [Q_GOALS] = "SELECT f.account_id, f.ts_ms, f.key_ts_ms, f.key_hash, f.until_ms, "
                "coalesce(f.settled_ms, 9223372036854775807), n.id FROM facts f "
                "JOIN names n ON n.name = f.detail WHERE f.kind = 11 ORDER BY f.account_id",
    [Q_GOAL_MET] = "UPDATE facts SET settled_ms = ?6 WHERE account_id = ?1 AND until_ms = ?2 "
                   "AND kind = 11 AND ts_ms = ?3 AND key_ts_ms = ?4 AND key_hash = ?5",
    [Q_LAST_TICKET] = "SELECT max(ts_ms) FROM facts WHERE account_id = ? AND kind = 3 "
                      "AND ts_ms < ?",
    [Q_USER_LABEL] = "SELECT coalesce(email, external_id) FROM users WHERE id = ?",
    /* Without the account's external id (NULL): evaluation has it. */
    [Q_CTAS_WATCHED] = "SELECT " CTA_WATCHED_COLUMNS " FROM ctas c "
                       "WHERE (c.status <> 'closed' OR c.cleared = 0) "
                       "AND c.account_id BETWEEN ? AND ?",
    [Q_CTAS_WATCHED_IDS] = "SELECT " CTA_WATCHED_COLUMNS
                           " FROM json_each(?1) j CROSS JOIN ctas c ON c.account_id = j.value "
                           "WHERE (c.status <> 'closed' OR c.cleared = 0)",
    [Q_CTAS_LIVE_COUNT] = "SELECT COUNT(*) FROM ctas WHERE status <> 'closed'",
    [Q_CTA_INSERT] =
        "INSERT INTO ctas (account_id, rule, subject, type, priority, status, "
        "snoozed_until, closed_reason, closed_day, cleared, owner, title, reason, "
        "evidence, opened_day, due_day, updated_ms, value) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    [Q_CTA_UPDATE] = "UPDATE ctas SET type = ?2, priority = ?3, status = ?4, snoozed_until = ?5, "
                     "closed_reason = ?6, closed_day = ?7, cleared = ?8, owner = ?9, title = ?10, "
                     "reason = ?11, evidence = ?12, due_day = ?13, updated_ms = ?14, "
                     "clear_since = ?15, value = ?16 WHERE id = ?1",
    [Q_CTA_FORGET] = "UPDATE ctas SET cleared = 1 WHERE rule = ?1 AND account_id = ?2 "
                     "AND subject = ?3 AND status = 'closed' AND cleared = 0",
    [Q_CTA_GET] = "SELECT " CTA_COLUMNS " FROM ctas c JOIN accounts a ON a.id = c.account_id "
                  "WHERE c.id = ?",
    [Q_CTAS_EACH] = "SELECT " CTA_COLUMNS " FROM ctas c JOIN accounts a ON a.id = c.account_id "
                    "WHERE (?1 IS NULL OR c.status = ?1 OR (?1 = 'live' AND c.status <> 'closed')) "
                    "AND (?2 IS NULL OR c.owner = ?2) AND (?3 IS NULL OR a.external_id = ?3) "
                    "AND (?4 IS NULL OR c.rule = ?4) "
                    "ORDER BY c.status = 'closed', c.priority DESC, coalesce(c.value, 0) DESC, "
                    "c.due_day, c.id",
    /* The same for one account: its few CTAs through ctas_account, where the
     * general form above reads and sorts every CTA. */
    [Q_CTAS_OF_ACCOUNT] =
        "SELECT " CTA_COLUMNS " FROM accounts a JOIN ctas c ON c.account_id = a.id "
        "WHERE a.external_id = ?3 "
        "AND (?1 IS NULL OR c.status = ?1 OR (?1 = 'live' AND c.status <> 'closed')) "
        "AND (?2 IS NULL OR c.owner = ?2) AND (?4 IS NULL OR c.rule = ?4) "
        "ORDER BY c.status = 'closed', c.priority DESC, coalesce(c.value, 0) DESC, "
        "c.due_day, c.id",
    [Q_CTA_HISTORY_ADD] = "INSERT INTO cta_history (cta_id, seq, day, at_ms, action, actor, "
                          "status, priority, note) SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, "
                          "?4, ?5, ?6, ?7, ?8 FROM cta_history WHERE cta_id = ?1",
    [Q_CTA_HISTORY] = "SELECT seq, day, at_ms, action, actor, status, priority, note "
                      "FROM cta_history WHERE cta_id = ? ORDER BY seq",
    [Q_EVAL_RUN_PUT] = "INSERT INTO eval_runs (t_ms, run_ms, opened, updated, resolved, errors) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (t_ms) DO UPDATE SET "
                       "run_ms = excluded.run_ms, opened = opened + excluded.opened, "
                       "updated = updated + excluded.updated, "
                       "resolved = resolved + excluded.resolved, errors = excluded.errors",
    [Q_EVAL_RUN_BEFORE] = "SELECT max(t_ms) FROM eval_runs WHERE t_ms < ?",
    [Q_EVAL_RUN_LAST] = "SELECT max(t_ms) FROM eval_runs",
    [Q_QUARANTINE_REASONS] = "SELECT reason, COUNT(*) AS n FROM quarantine GROUP BY reason "
                             "ORDER BY n DESC, reason",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[Q_COUNT];
    unsigned data_version; /* as of the end of our last transaction */
    int32_t stale_day;     /* the day last marked stale in this transaction */
    int64_t *ids;          /* parsed id lists of a rollup row */
    size_t ids_cap;
    /* The (account, product, day) rows of product_days this connection has
     * written, so that storing a day's events writes each row once
     * (note_product_day); PRODUCTS_SEEN slots, NULL until the first. */
    struct product_seen *products_seen;
    /* Statements of the other sqlite_*.c files, by their SQL's address. */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } extra[64];
    int n_extra;
    int schema_version;
    char err[STORE_ERR_BYTES];
};

/* Records the connection's error message; returns TEND_ERR_DB. */
static enum tend_err db_fail(struct store *s, const char *what) {
    snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
    return TEND_ERR_DB;
}

/* Returns the prepared statement id, reset and with no bindings. */
/* Rows read (store_rows_read), of every connection: relaxed, a count only. */
static _Atomic uint64_t rows_read;

uint64_t store_rows_read(void) {
    return atomic_load_explicit(&rows_read, memory_order_relaxed);
}

/* sqlite3_step(), counting each row it returns. */
static int db_step(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        atomic_fetch_add_explicit(&rows_read, 1, memory_order_relaxed);
    return rc;
}

/* Binds ids at parameter i as one JSON array, for json_each. */
static void bind_ids(sqlite3_stmt *st, int i, const int64_t *ids, size_t n) {
    size_t cap = n * 21 + 3, len = 0;
    char *j = xmalloc(cap);
    j[len++] = '[';
    for (size_t k = 0; k < n; k++)
        len += (size_t)snprintf(j + len, cap - len, k ? ",%lld" : "%lld", (long long)ids[k]);
    j[len++] = ']';
    sqlite3_bind_text(st, i, j, (int)len, free);
}

static sqlite3_stmt *stmt(struct store *s, enum stmt_id id) {
    if (!s->stmt[id]) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
                               NULL) != SQLITE_OK) {
            /* A statement of ours that does not prepare is a bug or a corrupt schema. */
            fprintf(stderr, "tend: store: cannot prepare \"%s\": %s\n", stmt_sql[id],
                    sqlite3_errmsg(s->db));
            abort();
        }
    }
    return s->stmt[id];
}

/* The statement of a span's read: q for a range (its ids bound at first_at and
 * first_at + 1), q_ids for a listed span (the ids bound at ids_at). */
static sqlite3_stmt *span_stmt(struct store *s, const struct store_span *sp, enum stmt_id q,
                               int first_at, enum stmt_id q_ids, int ids_at) {
    sqlite3_stmt *st;
    if (sp->ids) {
        st = stmt(s, q_ids);
        bind_ids(st, ids_at, sp->ids, sp->n);
    } else {
        st = stmt(s, q);
        sqlite3_bind_int64(st, first_at, sp->first);
        sqlite3_bind_int64(st, first_at + 1, sp->last);
    }
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_id(sqlite3_stmt *st, int i, int64_t id) {
    if (id)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i) {
    return (const char *)sqlite3_column_text(st, i);
}

/* Runs a statement that returns no rows (or whose rows are not needed). */
static enum tend_err step_done(struct store *s, sqlite3_stmt *st, const char *what) {
    int rc = db_step(st);
    while (rc == SQLITE_ROW)
        rc = db_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, what);
}

/* Runs a statement expected to return at most one integer; NOTFOUND if none. */
static enum tend_err step_int(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what) {
    int rc = db_step(st);
    enum tend_err err;
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        err = TEND_OK;
    } else if (rc == SQLITE_DONE) {
        err = TEND_ERR_NOTFOUND;
    } else {
        err = db_fail(s, what);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

/* ---- sqlite_int.h ---------------------------------------------------------- */

sqlite3_stmt *sqlite_stmt(struct store *s, const char *sql) {
    for (int i = 0; i < s->n_extra; i++)
        if (s->extra[i].sql == sql)
            return s->extra[i].st;
    if (s->n_extra == (int)(sizeof s->extra / sizeof s->extra[0])) {
        fprintf(stderr, "tend: store: more statements than slots; raise extra[]\n");
        abort();
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "tend: store: cannot prepare \"%s\": %s\n", sql, sqlite3_errmsg(s->db));
        abort();
    }
    s->extra[s->n_extra].sql = sql;
    s->extra[s->n_extra].st = st;
    s->n_extra++;
    return st;
}

enum tend_err sqlite_fail(struct store *s, const char *what) {
    return db_fail(s, what);
}

enum tend_err sqlite_done(struct store *s, sqlite3_stmt *st, const char *what) {
    return step_done(s, st, what);
}

void sqlite_bind_text(sqlite3_stmt *st, int i, const char *v) {
    bind_text(st, i, v);
}

void sqlite_bind_id(sqlite3_stmt *st, int i, int64_t id) {
    bind_id(st, i, id);
}

const char *sqlite_col_text(sqlite3_stmt *st, int i) {
    return col_text(st, i);
}

int64_t sqlite_changes(struct store *s) {
    return sqlite3_changes64(s->db);
}

static enum tend_err exec(struct store *s, const char *sql, const char *what) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->err, sizeof s->err, "%s: %s", what, msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return TEND_ERR_DB;
    }
    return TEND_OK;
}

static unsigned data_version(struct store *s) {
    unsigned v = 0;
    sqlite3_file_control(s->db, "main", SQLITE_FCNTL_DATA_VERSION, &v);
    return v;
}

/* Applies the migrations this database has not had, in one transaction. */
static enum tend_err migrate(struct store *s) {
    enum tend_err err = exec(s,
                             "BEGIN IMMEDIATE;"
                             "CREATE TABLE IF NOT EXISTS schema_migrations ("
                             "  version INTEGER PRIMARY KEY,"
                             "  name TEXT NOT NULL,"
                             "  applied_at TEXT NOT NULL)",
                             "creating schema_migrations");
    if (err)
        return err;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(s->db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1, &st,
                       NULL);
    int64_t have = 0;
    err = step_int(s, st, &have, "reading the schema version");
    sqlite3_finalize(st);
    if (err)
        goto fail;
    int latest = store_schema_latest();
    if (have > latest) {
        snprintf(s->err, sizeof s->err,
                 "the database has schema version %lld, newer than this tend knows (%d): "
                 "upgrade tend",
                 (long long)have, latest);
        err = TEND_ERR_DB;
        goto fail;
    }
    for (int i = 0; i < schema_migration_count; i++) {
        const struct migration *m = &schema_migrations[i];
        if (m->version <= have)
            continue;
        char what[96];
        snprintf(what, sizeof what, "migration %d", m->version);
        if ((err = exec(s, m->sql, what)))
            goto fail;
        char now[32];
        dt_format_instant(dt_now_ms(), now);
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO schema_migrations (version, name, applied_at) "
                           "VALUES (?, ?, ?)",
                           -1, &st, NULL);
        sqlite3_bind_int(st, 1, m->version);
        sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
        err = step_done(s, st, what);
        sqlite3_finalize(st);
        if (err)
            goto fail;
    }
    s->schema_version = latest > have ? latest : (int)have;
    return exec(s, "COMMIT", "committing migrations");
fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

/* Process-wide SQLite settings, applied once before the first connection:
 * no memory statistics (they take a global mutex on every allocation). */
static void configure_sqlite(void) {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum tend_err store_open(const char *path, struct store **out, char *err) {
    return store_open_with(path, 0, out, err);
}

enum tend_err store_open_with(const char *path, unsigned flags, struct store **out, char *err) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite);
    struct store *s = xcalloc(1, sizeof *s);
    s->stale_day = INT32_MIN;
    enum tend_err e;
    /* NOMUTEX: a struct store is used by one thread at a time (the writer),
     * so SQLite's per-call connection mutex is pure cost. */
    /* Without SQLITE_OPEN_CREATE, SQLite itself refuses a missing file: no
     * window between a check and the open in which a file could appear. */
    int create = flags & STORE_OPEN_EXISTING ? 0 : SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | create | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        if (!create && access(path, F_OK) != 0 && errno == ENOENT) {
            snprintf(err, STORE_ERR_BYTES, "%s: no such database", path);
            e = TEND_ERR_NOTFOUND;
        } else {
            snprintf(err, STORE_ERR_BYTES, "cannot open database %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
            e = TEND_ERR_IO;
        }
        goto fail;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    /* 16 KiB pages: measured 21% faster ingest than 4 KiB on event rows with
     * an account index (docs/benchmarks.md); only takes effect on a new file. */
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA page_size = 16384;"
             "PRAGMA journal_mode = WAL;"
             "PRAGMA synchronous = FULL;"
             "PRAGMA cache_size = -%d;"
             "PRAGMA temp_store = MEMORY;",
             STORE_CACHE_KIB);
    if ((e = exec(s, pragmas, "configuring the database")) || (e = migrate(s))) {
        snprintf(err, STORE_ERR_BYTES, "%s: %s", path, s->err);
        goto fail;
    }
    s->data_version = data_version(s);
    *out = s;
    return TEND_OK;
fail:
    store_close(s);
    return e;
}

enum tend_err store_open_again(struct store *s, struct store **out, char *err) {
    const char *path = sqlite3_db_filename(s->db, "main");
    if (!path || !*path) {
        snprintf(err, STORE_ERR_BYTES, "the database has no file to open again");
        return TEND_ERR_IO;
    }
    /* Read-only, and no migrations: s has brought the schema up to date, and
     * s may hold the write lock while this connection reads. */
    struct store *r = xcalloc(1, sizeof *r);
    r->stale_day = INT32_MIN;
    r->schema_version = s->schema_version;
    enum tend_err e = TEND_OK;
    char pragmas[128];
    snprintf(pragmas, sizeof pragmas, "PRAGMA cache_size = -%d; PRAGMA temp_store = MEMORY;",
             STORE_READER_CACHE_KIB);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, STORE_ERR_BYTES, "cannot open database %s: %s", path,
                 r->db ? sqlite3_errmsg(r->db) : "out of memory");
        e = TEND_ERR_IO;
    } else {
        sqlite3_busy_timeout(r->db, STORE_BUSY_MS);
        if ((e = exec(r, pragmas, "configuring the database")))
            snprintf(err, STORE_ERR_BYTES, "%s: %s", path, r->err);
    }
    if (e) {
        store_close(r);
        return e;
    }
    *out = r;
    return TEND_OK;
}

void store_set_error(struct store *s, const char *msg) {
    snprintf(s->err, sizeof s->err, "%s", msg);
}

void store_close(struct store *s) {
    if (!s)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    for (int i = 0; i < s->n_extra; i++)
        sqlite3_finalize(s->extra[i].st);
    sqlite3_close(s->db);
    free(s->ids);
    free(s->products_seen);
    free(s);
}

int store_schema_version(struct store *s) {
    return s->schema_version;
}

int store_schema_latest(void) {
    return schema_migrations[schema_migration_count - 1].version;
}

const char *store_last_error(struct store *s) {
    return s->err;
}

enum tend_err store_begin(struct store *s, bool *changed_elsewhere) {
    /* IMMEDIATE takes the write lock now, so a busy database waits here (busy
     * timeout) instead of failing halfway through a batch. */
    enum tend_err err = exec(s, "BEGIN IMMEDIATE", "starting a transaction");
    if (err)
        return err;
    s->stale_day = INT32_MIN;
    unsigned v = data_version(s);
    if (changed_elsewhere)
        *changed_elsewhere = v != s->data_version;
    s->data_version = v;
    return TEND_OK;
}

enum tend_err store_commit(struct store *s) {
    enum tend_err err = exec(s, "COMMIT", "committing");
    if (err) {
        store_rollback(s);
        return err;
    }
    s->data_version = data_version(s);
    return TEND_OK;
}

void store_rollback(struct store *s) {
    s->stale_day = INT32_MIN;
    if (s->products_seen) /* what was written is gone */
        memset(s->products_seen, 0, PRODUCTS_SEEN * sizeof *s->products_seen);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- accounts, users, names ---------------------------------------------- */

enum tend_err store_account_find(struct store *s, const char *external_id, int64_t *id) {
    sqlite3_stmt *st = stmt(s, Q_ACCOUNT_FIND);
    bind_text(st, 1, external_id);
    return step_int(s, st, id, "finding an account");
}

enum tend_err store_account_ensure(struct store *s, const char *external_id, int64_t ts_ms,
                                   int64_t *id, bool *created) {
    enum tend_err err = store_account_find(s, external_id, id);
    if (err != TEND_ERR_NOTFOUND) {
        if (!err)
            *created = false;
        return err;
    }
    sqlite3_stmt *st = stmt(s, Q_ACCOUNT_INSERT);
    bind_text(st, 1, external_id);
    sqlite3_bind_int64(st, 2, ts_ms);
    err = step_int(s, st, id, "creating an account");
    if (!err)
        *created = true;
    return err;
}

enum tend_err store_account_seen(struct store *s, int64_t id, int64_t ts_ms) {
    sqlite3_stmt *st = stmt(s, Q_ACCOUNT_SEEN);
    sqlite3_bind_int64(st, 1, ts_ms);
    sqlite3_bind_int64(st, 2, id);
    return step_done(s, st, "dating an account");
}

enum tend_err store_user_ensure(struct store *s, const char *external_id, bool anonymous,
                                int64_t ts_ms, int64_t *id) {
    sqlite3_stmt *st = stmt(s, Q_USER_FIND);
    bind_text(st, 1, external_id);
    sqlite3_bind_int(st, 2, anonymous);
    enum tend_err err = step_int(s, st, id, "finding a user");
    if (err != TEND_ERR_NOTFOUND)
        return err;
    st = stmt(s, Q_USER_INSERT);
    bind_text(st, 1, external_id);
    sqlite3_bind_int(st, 2, anonymous);
    sqlite3_bind_int64(st, 3, ts_ms);
    return step_int(s, st, id, "creating a user");
}

enum tend_err store_name_ensure(struct store *s, const char *name, int64_t *id) {
    sqlite3_stmt *st = stmt(s, Q_NAME_FIND);
    bind_text(st, 1, name);
    enum tend_err err = step_int(s, st, id, "finding a name");
    if (err != TEND_ERR_NOTFOUND)
        return err;
    st = stmt(s, Q_NAME_INSERT);
    bind_text(st, 1, name);
    return step_int(s, st, id, "adding a name");
}

enum tend_err store_trait_merge(struct store *s, enum store_entity entity, int64_t id,
                                const char *key, const char *value_json, int64_t ts_ms) {
    sqlite3_stmt *st = stmt(s, Q_TRAIT_MERGE);
    sqlite3_bind_int(st, 1, entity);
    sqlite3_bind_int64(st, 2, id);
    bind_text(st, 3, key);
    bind_text(st, 4, value_json);
    sqlite3_bind_int64(st, 5, ts_ms);
    return step_done(s, st, "merging a trait");
}

enum tend_err store_traits_each(struct store *s, enum store_entity entity, int64_t id,
                                void (*fn)(void *arg, const char *key, const char *value_json),
                                void *arg) {
    sqlite3_stmt *st = stmt(s, Q_TRAITS_EACH);
    sqlite3_bind_int(st, 1, entity);
    sqlite3_bind_int64(st, 2, id);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        fn(arg, col_text(st, 0), col_text(st, 1));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading traits");
}

enum tend_err store_account_set_fields(struct store *s, int64_t id,
                                       const struct store_account_fields *f,
                                       const char *traits_json) {
    sqlite3_stmt *st = stmt(s, Q_ACCOUNT_SET);
    bind_text(st, 1, f->name);
    bind_text(st, 2, f->plan);
    if (f->has_mrr)
        sqlite3_bind_double(st, 3, f->mrr);
    if (f->has_seats)
        sqlite3_bind_int64(st, 4, f->seats);
    bind_text(st, 5, f->renewal_date);
    bind_text(st, 6, f->csm_email);
    bind_text(st, 7, f->csm_slack);
    bind_text(st, 8, f->segment);
    bind_text(st, 9, f->premium_products);
    bind_text(st, 10, f->created_at);
    bind_text(st, 11, traits_json);
    sqlite3_bind_int64(st, 12, id);
    return step_done(s, st, "updating an account");
}

enum tend_err store_user_set_fields(struct store *s, int64_t id, const char *email,
                                    const char *name, const char *title, const char *traits_json) {
    sqlite3_stmt *st = stmt(s, Q_USER_SET);
    bind_text(st, 1, email);
    bind_text(st, 2, name);
    bind_text(st, 3, title);
    bind_text(st, 4, traits_json);
    sqlite3_bind_int64(st, 5, id);
    return step_done(s, st, "updating a user");
}

/* ---- memberships ---------------------------------------------------------- */

enum tend_err store_user_memberships(struct store *s, int64_t user_id,
                                     struct store_membership **out, size_t *n) {
    sqlite3_stmt *st = stmt(s, Q_MEMBERSHIPS_OF_USER);
    sqlite3_bind_int64(st, 1, user_id);
    struct store_membership *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[len].account_id = sqlite3_column_int64(st, 0);
        v[len].user_id = user_id;
        v[len].start_ms = sqlite3_column_int64(st, 1);
        v[len].end_ms = sqlite3_column_type(st, 2) == SQLITE_NULL ? STORE_OPEN_END
                                                                  : sqlite3_column_int64(st, 2);
        len++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return db_fail(s, "reading memberships");
    }
    *out = v;
    *n = len;
    return TEND_OK;
}

enum tend_err store_membership_start(struct store *s, int64_t account_id, int64_t user_id,
                                     int64_t ts_ms, bool *started) {
    sqlite3_stmt *st = stmt(s, Q_MEMBERSHIP_OPEN_FIND);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, ts_ms);
    int64_t found;
    enum tend_err err = step_int(s, st, &found, "finding a membership");
    if (err != TEND_ERR_NOTFOUND) {
        if (!err)
            *started = false;
        return err;
    }
    st = stmt(s, Q_MEMBERSHIP_INSERT);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, ts_ms);
    err = step_done(s, st, "adding a membership");
    if (!err)
        *started = true;
    return err;
}

enum tend_err store_membership_end(struct store *s, int64_t account_id, int64_t user_id,
                                   int64_t ts_ms, bool *ended) {
    sqlite3_stmt *st = stmt(s, Q_MEMBERSHIP_COVERING);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, ts_ms);
    sqlite3_bind_int64(st, 4, ts_ms);
    int64_t id;
    enum tend_err err = step_int(s, st, &id, "finding a membership");
    if (err == TEND_ERR_NOTFOUND) {
        *ended = false;
        return TEND_OK;
    }
    if (err)
        return err;
    st = stmt(s, Q_MEMBERSHIP_END);
    sqlite3_bind_int64(st, 1, ts_ms);
    sqlite3_bind_int64(st, 2, id);
    err = step_done(s, st, "ending a membership");
    if (!err)
        *ended = true;
    return err;
}

enum tend_err store_removal_after(struct store *s, int64_t account_id, int64_t user_id,
                                  int64_t ts_ms, int64_t *removal_ms, bool *found) {
    sqlite3_stmt *st = stmt(s, Q_REMOVAL_AFTER);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, ts_ms);
    int rc = db_step(st);
    enum tend_err err = TEND_OK;
    *found = false;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *found = true;
        *removal_ms = sqlite3_column_int64(st, 0);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = db_fail(s, "looking for a removal");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

/* ---- events and quarantine ------------------------------------------------ */

/* Marks the day of a login or feature event of an account stale (see
 * store_activity_refresh). Events mostly arrive in time order, so one insert
 * per day and transaction does it. */
static enum tend_err mark_stale(struct store *s, int kind, int64_t account_id, int64_t ts_ms) {
    if ((kind != EV_LOGIN && kind != EV_FEATURE) || !account_id)
        return TEND_OK;
    int32_t day = (int32_t)(ts_ms / DT_MS_PER_DAY); /* as the index counts days */
    if (day == s->stale_day && !sqlite3_get_autocommit(s->db))
        return TEND_OK;
    sqlite3_stmt *st = stmt(s, Q_STALE_MARK);
    sqlite3_bind_int(st, 1, day);
    enum tend_err err = step_done(s, st, "marking a day's activity rollups stale");
    if (!err)
        s->stale_day = day;
    return err;
}

enum tend_err store_event_exists(struct store *s, int64_t key_ts_ms, uint64_t key_hash,
                                 bool *exists) {
    sqlite3_stmt *st = stmt(s, Q_EVENT_EXISTS);
    sqlite3_bind_int64(st, 1, key_ts_ms);
    sqlite3_bind_int64(st, 2, (int64_t)key_hash);
    int64_t one;
    enum tend_err err = step_int(s, st, &one, "looking up an event");
    if (err == TEND_ERR_NOTFOUND) {
        *exists = false;
        return TEND_OK;
    }
    if (!err)
        *exists = true;
    return err;
}

static bool is_fact(int kind) {
    return (kind >= EV_NPS && kind <= EV_USER_REMOVED) || kind == EV_GROUP;
}

/* The statement that stores a fact of this kind (see INSERT_FACT). */
static enum stmt_id fact_insert_for(int kind) {
    switch (kind) {
    case EV_NPS:
        return Q_FACT_NPS;
    case EV_TICKET_OPENED:
        return Q_FACT_TICKET;
    case EV_INVOICE_ISSUED:
        return Q_FACT_INVOICE;
    case EV_OUTREACH_SENT:
        return Q_FACT_OUTREACH;
    case EV_CARD_UPDATED:
        return Q_FACT_CARD;
    case EV_OUTREACH_REPLIED:
        return Q_FACT_REPLY;
    case EV_RENEWED:
    case EV_CHURNED:
        return Q_FACT_OUTCOME;
    case EV_TICKET_CLOSED:
    case EV_INVOICE_PAID:
    case EV_PAYMENT_FAILED:
    case EV_USER_REMOVED:
        return Q_FACT_SPENT;
    default:
        return Q_FACT_INSERT; /* goals, milestones, group calls: never spent */
    }
}

/* Stores a fact of an account (ev->account_id set) with its lifetime, and
 * keeps the lifetimes (schema.h) of the earlier facts it settles or follows. */
static enum tend_err put_fact(struct store *s, const struct store_event *ev) {
    sqlite3_stmt *st = stmt(s, fact_insert_for(ev->kind));
    sqlite3_bind_int64(st, 1, ev->account_id);
    sqlite3_bind_int(st, 2, ev->kind);
    sqlite3_bind_int64(st, 3, ev->ts_ms);
    sqlite3_bind_int64(st, 4, ev->key_ts_ms);
    sqlite3_bind_int64(st, 5, (int64_t)ev->key_hash);
    bind_id(st, 6, ev->user_id);
    bind_text(st, 7, ev->subject);
    bind_text(st, 8, ev->detail);
    if (ev->has_num)
        sqlite3_bind_double(st, 9, ev->num);
    if (ev->has_day)
        sqlite3_bind_int(st, 10, ev->day);
    bind_text(st, 11, ev->props);
    enum tend_err err = step_done(s, st, "storing a fact");
    if (!err && ev->kind == EV_GOAL_SET) {
        st = stmt(s, Q_GOAL_STALE);
        sqlite3_bind_int(st, 1, (int32_t)(ev->ts_ms / DT_MS_PER_DAY));
        err = step_done(s, st, "marking a goal's days stale");
    }
    enum stmt_id effects[2];
    int n = 0;
    switch (ev->kind) {
    case EV_TICKET_CLOSED:
        effects[n++] = Q_LIFE_CLOSE;
        break;
    case EV_INVOICE_PAID:
        effects[n++] = Q_LIFE_PAID;
        break;
    case EV_CARD_UPDATED:
        effects[n++] = Q_LIFE_CARD;
        break;
    case EV_OUTREACH_REPLIED:
        effects[n++] = Q_LIFE_REPLY;
        effects[n++] = Q_LIFE_ANSWER;
        break;
    case EV_RENEWED:
    case EV_CHURNED:
        effects[n++] = Q_LIFE_OUTCOME;
        break;
    default:
        break;
    }
    for (int i = 0; !err && i < n; i++) {
        st = stmt(s, effects[i]);
        sqlite3_bind_int64(st, 1, ev->account_id);
        sqlite3_bind_int64(st, 2, ev->ts_ms);
        bind_text(st, 3, ev->subject);
        err = step_done(s, st, "keeping fact lifetimes");
    }
    return err;
}

/* Records that the account used product on day (product_days: a feature
 * event with that `product`). A day's events of one account and product are
 * many and the row is one: a direct-mapped cache of the rows this connection
 * wrote skips the repeats, and a miss (an evicted slot, a product name too
 * long to cache) only costs an INSERT that changes nothing. The cache holds
 * exact keys, so it never skips a row that is not there. */
static enum tend_err note_product_day(struct store *s, int64_t account_id, const char *product,
                                      int32_t day) {
    size_t len = strlen(product);
    uint64_t h = (uint64_t)account_id * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)(uint32_t)day;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)product[i]) * UINT64_C(1099511628211);
    struct product_seen *slot = NULL;
    if (len < sizeof slot->product) {
        if (!s->products_seen)
            s->products_seen = xcalloc(PRODUCTS_SEEN, sizeof *s->products_seen);
        slot = &s->products_seen[(h ^ h >> 29) & (PRODUCTS_SEEN - 1)];
        if (slot->account_id == account_id && slot->day == day &&
            strcmp(slot->product, product) == 0)
            return TEND_OK;
    }
    sqlite3_stmt *st = stmt(s, Q_PRODUCT_DAY);
    sqlite3_bind_int64(st, 1, account_id);
    bind_text(st, 2, product);
    sqlite3_bind_int(st, 3, day);
    enum tend_err err = step_done(s, st, "recording a product's use");
    if (!err && slot) {
        slot->account_id = account_id;
        slot->day = day;
        memcpy(slot->product, product, len + 1);
    }
    return err;
}

enum tend_err store_event_put(struct store *s, const struct store_event *ev, bool *inserted) {
    sqlite3_stmt *st = stmt(s, Q_EVENT_INSERT);
    sqlite3_bind_int64(st, 1, ev->key_ts_ms);
    sqlite3_bind_int64(st, 2, (int64_t)ev->key_hash);
    sqlite3_bind_int64(st, 3, ev->ts_ms);
    sqlite3_bind_int(st, 4, ev->kind);
    bind_id(st, 5, ev->account_id);
    bind_id(st, 6, ev->user_id);
    bind_id(st, 7, ev->name_id);
    bind_text(st, 8, ev->subject);
    bind_text(st, 9, ev->detail);
    if (ev->has_num)
        sqlite3_bind_double(st, 10, ev->num);
    if (ev->has_day)
        sqlite3_bind_int(st, 11, ev->day);
    bind_text(st, 12, ev->props);
    enum tend_err err = step_done(s, st, "storing an event");
    if (err)
        return err;
    *inserted = sqlite3_changes(s->db) > 0;
    if (!*inserted)
        return TEND_OK;
    err = mark_stale(s, ev->kind, ev->account_id, ev->ts_ms);
    if (!err && ev->kind == EV_FEATURE && ev->subject && ev->account_id)
        err = note_product_day(s, ev->account_id, ev->subject, dt_day_of_ms(ev->ts_ms));
    if (!err && ev->account_id && is_fact(ev->kind))
        err = put_fact(s, ev);
    return err;
}

enum tend_err store_quarantine_put(struct store *s, const struct store_event *ev,
                                   const char *account_external_id, const char *reason) {
    sqlite3_stmt *st = stmt(s, Q_QUARANTINE_INSERT);
    sqlite3_bind_int64(st, 1, ev->key_ts_ms);
    sqlite3_bind_int64(st, 2, (int64_t)ev->key_hash);
    sqlite3_bind_int64(st, 3, ev->ts_ms);
    sqlite3_bind_int(st, 4, ev->kind);
    bind_id(st, 5, ev->user_id);
    bind_text(st, 6, account_external_id);
    bind_text(st, 7, reason);
    sqlite3_bind_int64(st, 8, dt_now_ms());
    return step_done(s, st, "quarantining an event");
}

static enum tend_err read_pending(struct store *s, sqlite3_stmt *st, struct store_pending **out,
                                  size_t *n) {
    struct store_pending *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[len].key_ts_ms = sqlite3_column_int64(st, 0);
        v[len].key_hash = (uint64_t)sqlite3_column_int64(st, 1);
        v[len].ts_ms = sqlite3_column_int64(st, 2);
        v[len].kind = sqlite3_column_int(st, 3);
        v[len].user_id = sqlite3_column_int64(st, 4);
        len++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return db_fail(s, "reading the quarantine");
    }
    *out = v;
    *n = len;
    return TEND_OK;
}

enum tend_err store_quarantine_by_account(struct store *s, const char *external_id,
                                          struct store_pending **out, size_t *n) {
    sqlite3_stmt *st = stmt(s, Q_QUARANTINE_BY_ACCOUNT);
    bind_text(st, 1, external_id);
    return read_pending(s, st, out, n);
}

enum tend_err store_quarantine_by_user(struct store *s, int64_t user_id, struct store_pending **out,
                                       size_t *n) {
    sqlite3_stmt *st = stmt(s, Q_QUARANTINE_BY_USER);
    sqlite3_bind_int64(st, 1, user_id);
    return read_pending(s, st, out, n);
}

enum tend_err store_quarantine_attach(struct store *s, const struct store_pending *p,
                                      int64_t account_id) {
    sqlite3_stmt *st = stmt(s, Q_EVENT_ATTACH);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, p->key_ts_ms);
    sqlite3_bind_int64(st, 3, (int64_t)p->key_hash);
    enum tend_err err = step_done(s, st, "attaching an event");
    if (!err)
        err = mark_stale(s, p->kind, account_id, p->ts_ms);
    if (!err && p->kind == EV_FEATURE) {
        st = stmt(s, Q_PRODUCT_DAY_ATTACHED);
        sqlite3_bind_int64(st, 1, account_id);
        sqlite3_bind_int64(st, 2, p->key_ts_ms);
        sqlite3_bind_int64(st, 3, (int64_t)p->key_hash);
        err = step_done(s, st, "recording an attached event's product");
    }
    if (!err && is_fact(p->kind)) {
        /* Now an account's fact: stored as one, from the event's columns. */
        st = stmt(s, Q_EVENT_FACT);
        sqlite3_bind_int64(st, 1, p->key_ts_ms);
        sqlite3_bind_int64(st, 2, (int64_t)p->key_hash);
        int rc = db_step(st);
        if (rc == SQLITE_ROW) {
            char *text[3];
            for (int i = 0; i < 3; i++) {
                const char *t = col_text(st, i == 2 ? 5 : i + 1);
                text[i] = t ? xstrdup(t) : NULL;
            }
            struct store_event ev = {
                .key_ts_ms = p->key_ts_ms,
                .key_hash = p->key_hash,
                .ts_ms = p->ts_ms,
                .kind = p->kind,
                .account_id = account_id,
                .user_id = sqlite3_column_int64(st, 0),
                .subject = text[0],
                .detail = text[1],
                .has_num = sqlite3_column_type(st, 3) != SQLITE_NULL,
                .num = sqlite3_column_double(st, 3),
                .has_day = sqlite3_column_type(st, 4) != SQLITE_NULL,
                .day = sqlite3_column_int(st, 4),
                .props = text[2],
            };
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            err = put_fact(s, &ev);
            for (int i = 0; i < 3; i++)
                free(text[i]);
        } else {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            if (rc != SQLITE_DONE)
                err = db_fail(s, "attaching an event");
        }
    }
    if (err)
        return err;
    st = stmt(s, Q_QUARANTINE_DELETE);
    sqlite3_bind_int64(st, 1, p->key_ts_ms);
    sqlite3_bind_int64(st, 2, (int64_t)p->key_hash);
    return step_done(s, st, "leaving the quarantine");
}

/* ---- counters ------------------------------------------------------------- */

enum tend_err store_counter_add(struct store *s, const char *name, int64_t delta) {
    sqlite3_stmt *st = stmt(s, Q_COUNTER_ADD);
    bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, delta);
    return step_done(s, st, "counting");
}

enum tend_err store_account_count_events(struct store *s, int64_t account_id, int64_t delta) {
    sqlite3_stmt *st = stmt(s, Q_ACCOUNT_COUNT_EVENTS);
    sqlite3_bind_int64(st, 1, delta);
    sqlite3_bind_int64(st, 2, account_id);
    return step_done(s, st, "counting events");
}

/* ---- reading -------------------------------------------------------------- */

/* id 0: every row of q; otherwise q takes the id and *rows counts. */
static enum tend_err accounts_each(struct store *s, enum stmt_id q, int64_t id, int *rows,
                                   int (*fn)(void *arg, const struct store_account_row *row),
                                   void *arg) {
    sqlite3_stmt *st = stmt(s, q);
    if (id)
        sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        struct store_account_row r;
        memset(&r, 0, sizeof r);
        r.id = sqlite3_column_int64(st, 0);
        r.external_id = col_text(st, 1);
        r.f.name = col_text(st, 2);
        r.f.plan = col_text(st, 3);
        r.f.has_mrr = sqlite3_column_type(st, 4) != SQLITE_NULL;
        r.f.mrr = sqlite3_column_double(st, 4);
        r.f.has_seats = sqlite3_column_type(st, 5) != SQLITE_NULL;
        r.f.seats = sqlite3_column_int64(st, 5);
        r.f.renewal_date = col_text(st, 6);
        r.f.csm_email = col_text(st, 7);
        r.f.csm_slack = col_text(st, 8);
        r.f.segment = col_text(st, 9);
        r.f.premium_products = col_text(st, 10);
        r.f.created_at = col_text(st, 11);
        r.traits_json = col_text(st, 12);
        r.members = sqlite3_column_int64(st, 13);
        r.events = sqlite3_column_int64(st, 14);
        r.first_seen_ms = sqlite3_column_int64(st, 15);
        if (rows)
            (*rows)++;
        if (fn(arg, &r))
            break;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? TEND_OK : db_fail(s, "listing accounts");
}

enum tend_err store_accounts_each(struct store *s,
                                  int (*fn)(void *arg, const struct store_account_row *row),
                                  void *arg) {
    return accounts_each(s, Q_ACCOUNTS_EACH, 0, NULL, fn, arg);
}

enum tend_err store_accounts_brief_each(struct store *s,
                                        int (*fn)(void *arg, const struct store_account_row *row),
                                        void *arg) {
    return accounts_each(s, Q_ACCOUNTS_BRIEF, 0, NULL, fn, arg);
}

enum tend_err store_accounts_brief_of(struct store *s, const int64_t *ids, size_t n,
                                      int (*fn)(void *arg, const struct store_account_row *row),
                                      void *arg) {
    if (!n)
        return TEND_OK;
    bind_ids(stmt(s, Q_ACCOUNTS_BRIEF_IDS), 1, ids, n);
    enum tend_err err = accounts_each(s, Q_ACCOUNTS_BRIEF_IDS, 0, NULL, fn, arg);
    sqlite3_clear_bindings(stmt(s, Q_ACCOUNTS_BRIEF_IDS));
    return err;
}

enum tend_err store_account_get(struct store *s, int64_t id,
                                int (*fn)(void *arg, const struct store_account_row *row),
                                void *arg) {
    int rows = 0;
    enum tend_err err = accounts_each(s, Q_ACCOUNT_GET, id, &rows, fn, arg);
    sqlite3_clear_bindings(stmt(s, Q_ACCOUNT_GET));
    return err ? err : rows ? TEND_OK : TEND_ERR_NOTFOUND;
}

static enum tend_err count(struct store *s, const char *sql, int64_t *out) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(s, "counting");
    enum tend_err err = step_int(s, st, out, "counting");
    sqlite3_finalize(st);
    return err;
}

enum tend_err store_status_get(struct store *s, struct store_status *out) {
    struct store_status r;
    memset(&r, 0, sizeof r);
    enum tend_err err;
    if ((err = count(s, "SELECT COUNT(*) FROM accounts", &r.accounts)) ||
        (err = count(s, "SELECT COUNT(*) FROM users", &r.users)) ||
        (err = count(s, "SELECT COUNT(*) FROM memberships WHERE end_ms IS NULL",
                     &r.memberships_open)) ||
        (err = count(s, "SELECT COUNT(*) FROM memberships WHERE end_ms IS NOT NULL",
                     &r.memberships_ended)) ||
        (err = count(s, "SELECT COUNT(*) FROM quarantine", &r.quarantined)))
        return err;
    *out = r;
    return TEND_OK;
}

enum tend_err store_counters_each(struct store *s,
                                  void (*fn)(void *arg, const char *name, int64_t value),
                                  void *arg) {
    sqlite3_stmt *st = stmt(s, Q_COUNTERS_EACH);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        fn(arg, col_text(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading counters");
}

enum tend_err store_quarantine_reasons(struct store *s,
                                       void (*fn)(void *arg, const char *reason, int64_t n),
                                       void *arg) {
    sqlite3_stmt *st = stmt(s, Q_QUARANTINE_REASONS);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        fn(arg, col_text(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading the quarantine");
}

/* ---- what metrics read ---------------------------------------------------- */

enum tend_err store_login_day_add(struct store *s, int64_t account_id, int32_t day) {
    sqlite3_stmt *st = stmt(s, Q_LOGIN_DAY_ADD);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, day);
    return step_done(s, st, "recording a login day");
}

enum tend_err store_login_day_last(struct store *s, int64_t account_id, int32_t max_day,
                                   int32_t *day, bool *found) {
    sqlite3_stmt *st = stmt(s, Q_LOGIN_DAY_LAST);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, max_day);
    int rc = db_step(st);
    enum tend_err err = TEND_OK;
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        if (*found)
            *day = sqlite3_column_int(st, 0);
    } else {
        err = db_fail(s, "reading login days");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum tend_err store_activity_each(struct store *s, const struct store_span *sp, int64_t from_ms,
                                  int64_t to_ms,
                                  void (*fn)(void *arg, const struct store_activity *a),
                                  void *arg) {
    sqlite3_stmt *st = span_stmt(s, sp, Q_ACTIVITY, 5, Q_ACTIVITY_IDS, 5);
    /* Day numbers as the index computes them (integer division). */
    sqlite3_bind_int64(st, 1, from_ms / DT_MS_PER_DAY);
    sqlite3_bind_int64(st, 2, (to_ms - 1) / DT_MS_PER_DAY);
    sqlite3_bind_int64(st, 3, from_ms);
    sqlite3_bind_int64(st, 4, to_ms);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        struct store_activity a = {
            .account_id = sqlite3_column_int64(st, 0),
            .kind = sqlite3_column_int(st, 1),
            .ts_ms = sqlite3_column_int64(st, 2),
            .user_id = sqlite3_column_int64(st, 3),
            .name_id = sqlite3_column_int64(st, 4),
        };
        fn(arg, &a);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading activity");
}

/* ---- activity rollups ---------------------------------------------------- */

static int cmp_id(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Writes the distinct ids of v[0..n) (sorted here) as a comma-separated list
 * into buf (NULL when none). */
static const char *id_list(int64_t *v, size_t n, char **buf, size_t *cap) {
    if (n == 0)
        return NULL;
    qsort(v, n, sizeof *v, cmp_id);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && v[i] == v[i - 1])
            continue;
        if (len + 22 > *cap) {
            *cap = (len + 22) * 2;
            *buf = xrealloc(*buf, *cap);
        }
        len += (size_t)snprintf(*buf + len, *cap - len, len ? ",%lld" : "%lld", (long long)v[i]);
    }
    return *buf;
}

/* One account's day being rolled up. */
struct rollup {
    int64_t account_id;
    int64_t logins, features;
    int64_t *users, *names;
    size_t n_users, n_names, cap_users, cap_names;
    char *text[2];
    size_t text_cap[2];
};

static void push_id(int64_t **v, size_t *n, size_t *cap, int64_t id) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = id;
}

/* The goals (Goal Set facts), by account, as a rebuild marks them met. */
struct goal {
    int64_t account_id, ts_ms, key_ts_ms, key_hash, until_ms;
    int64_t met_ms; /* INT64_MAX: not yet */
    int64_t name_id;
};

struct goals {
    struct goal *v;
    size_t n, cap;
};

static enum tend_err load_goals(struct store *s, struct goals *g) {
    sqlite3_stmt *st = stmt(s, Q_GOALS);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        if (g->n == g->cap) {
            g->cap = g->cap ? g->cap * 2 : 64;
            g->v = xrealloc(g->v, g->cap * sizeof *g->v);
        }
        struct goal *x = &g->v[g->n++];
        x->account_id = sqlite3_column_int64(st, 0);
        x->ts_ms = sqlite3_column_int64(st, 1);
        x->key_ts_ms = sqlite3_column_int64(st, 2);
        x->key_hash = sqlite3_column_int64(st, 3);
        x->until_ms = sqlite3_column_int64(st, 4);
        x->met_ms = sqlite3_column_int64(st, 5);
        x->name_id = sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading goals");
}

/* Marks met the account's goals whose feature is among the day's names: the
 * first day on or after the goal's with a feature event of its feature
 * (never before the goal's own instant). */
static enum tend_err meet_goals(struct store *s, struct goals *g, int32_t day,
                                const struct rollup *r) {
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->v[mid].account_id < r->account_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    enum tend_err err = TEND_OK;
    int64_t start = (int64_t)day * DT_MS_PER_DAY;
    for (size_t i = lo; !err && i < g->n && g->v[i].account_id == r->account_id; i++) {
        struct goal *x = &g->v[i];
        int64_t met = start > x->ts_ms ? start : x->ts_ms;
        if (x->ts_ms >= start + DT_MS_PER_DAY || met >= x->met_ms)
            continue;
        bool used = false;
        for (size_t k = 0; !used && k < r->n_names; k++)
            used = r->names[k] == x->name_id;
        if (!used)
            continue;
        sqlite3_stmt *st = stmt(s, Q_GOAL_MET);
        sqlite3_bind_int64(st, 1, x->account_id);
        sqlite3_bind_int64(st, 2, x->until_ms);
        sqlite3_bind_int64(st, 3, x->ts_ms);
        sqlite3_bind_int64(st, 4, x->key_ts_ms);
        sqlite3_bind_int64(st, 5, x->key_hash);
        sqlite3_bind_int64(st, 6, met);
        err = step_done(s, st, "marking a goal met");
        x->met_ms = met;
    }
    return err;
}

static enum tend_err put_rollup(struct store *s, int32_t day, struct rollup *r, struct goals *g) {
    if (!r->account_id)
        return TEND_OK;
    enum tend_err gerr = g->n ? meet_goals(s, g, day, r) : TEND_OK;
    if (gerr)
        return gerr;
    sqlite3_stmt *st = stmt(s, Q_ROLLUP_PUT);
    sqlite3_bind_int(st, 1, day);
    sqlite3_bind_int64(st, 2, r->account_id);
    sqlite3_bind_int64(st, 3, r->logins);
    sqlite3_bind_int64(st, 4, r->features);
    bind_text(st, 5, id_list(r->users, r->n_users, &r->text[0], &r->text_cap[0]));
    bind_text(st, 6, id_list(r->names, r->n_names, &r->text[1], &r->text_cap[1]));
    enum tend_err err = step_done(s, st, "rebuilding activity rollups");
    r->logins = r->features = 0;
    r->n_users = r->n_names = 0;
    return err;
}

/* Rebuilds one day's rollup rows from its slice of events_account (in
 * account order), then marks it fresh and its windows to be done again. */
static enum tend_err refresh_day(struct store *s, int32_t day, struct goals *g) {
    sqlite3_stmt *st = stmt(s, Q_ROLLUP_CLEAR);
    sqlite3_bind_int(st, 1, day);
    enum tend_err err = step_done(s, st, "rebuilding activity rollups");
    struct rollup r = {0};
    st = stmt(s, Q_ROLLUP_SCAN);
    sqlite3_bind_int(st, 1, day);
    int rc = SQLITE_DONE;
    while (!err && (rc = db_step(st)) == SQLITE_ROW) {
        int64_t account = sqlite3_column_int64(st, 0);
        if (account != r.account_id) {
            err = put_rollup(s, day, &r, g);
            r.account_id = account;
        }
        if (sqlite3_column_int(st, 1) == EV_LOGIN) {
            r.logins++;
            push_id(&r.users, &r.n_users, &r.cap_users, sqlite3_column_int64(st, 2));
        } else {
            r.features++;
            push_id(&r.names, &r.n_names, &r.cap_names, sqlite3_column_int64(st, 3));
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!err && rc != SQLITE_DONE)
        err = db_fail(s, "rebuilding activity rollups");
    if (!err)
        err = put_rollup(s, day, &r, g);
    free(r.users);
    free(r.names);
    free(r.text[0]);
    free(r.text[1]);
    static const enum stmt_id after[] = {Q_STALE_CLEAR, Q_COUNTED_UNDO, Q_COUNTED_RESET};
    for (size_t i = 0; !err && i < sizeof after / sizeof after[0]; i++) {
        st = stmt(s, after[i]);
        sqlite3_bind_int(st, 1, day);
        err = step_done(s, st, "rebuilding activity rollups");
    }
    return err;
}

enum tend_err store_activity_refresh(struct store *s, int max_days, int *done) {
    *done = 0;
    if (max_days <= 0)
        return TEND_OK;
    int32_t *days = xmalloc((size_t)max_days * sizeof *days);
    int n = 0, rc;
    sqlite3_stmt *st = stmt(s, Q_STALE_NEXT);
    sqlite3_bind_int(st, 1, max_days);
    while (n < max_days && (rc = db_step(st)) == SQLITE_ROW)
        days[n++] = sqlite3_column_int(st, 0);
    enum tend_err err =
        rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK : db_fail(s, "listing stale days");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    struct goals g = {0};
    if (!err && n > 0)
        err = load_goals(s, &g);
    for (int i = 0; !err && i < n; i++)
        err = refresh_day(s, days[i], &g);
    free(g.v);
    free(days);
    if (!err)
        *done = n;
    return err;
}

enum tend_err store_activity_stale_each(struct store *s, int32_t from, int32_t to,
                                        void (*fn)(void *arg, int32_t day), void *arg) {
    sqlite3_stmt *st = stmt(s, Q_STALE_RANGE);
    sqlite3_bind_int(st, 1, from);
    sqlite3_bind_int(st, 2, to);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int(st, 0));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading stale days");
}

/* Parses a comma-separated id list (group_concat) into s->ids from index at;
 * returns how many. */
static size_t parse_ids(struct store *s, const char *text, size_t at) {
    size_t n = 0;
    for (const char *p = text; p && *p;) {
        /* Non-negative decimal ids, as group_concat writes them. */
        int64_t id = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9')
            id = id * 10 + (*p++ - '0');
        if (p == start)
            break; /* not a list of ours */
        if (at + n == s->ids_cap) {
            s->ids_cap = s->ids_cap ? s->ids_cap * 2 : 256;
            s->ids = xrealloc(s->ids, s->ids_cap * sizeof *s->ids);
        }
        s->ids[at + n++] = id;
        p += *p == ',';
    }
    return n;
}

enum tend_err store_activity_days_each(struct store *s, const struct store_span *sp, int32_t from,
                                       int32_t to,
                                       void (*fn)(void *arg, const struct store_activity_day *d),
                                       void *arg) {
    sqlite3_stmt *st = span_stmt(s, sp, Q_ROLLUP, 3, Q_ROLLUP_IDS, 3);
    sqlite3_bind_int(st, 1, from);
    sqlite3_bind_int(st, 2, to);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        size_t n_users = parse_ids(s, col_text(st, 4), 0);
        size_t n_names = parse_ids(s, col_text(st, 5), n_users);
        struct store_activity_day d = {
            .account_id = sqlite3_column_int64(st, 0),
            .day =
                {
                    .day = sqlite3_column_int(st, 1),
                    .logins = sqlite3_column_int64(st, 2),
                    .features = sqlite3_column_int64(st, 3),
                    .users = s->ids,
                    .n_users = n_users,
                    .names = s->ids + n_users,
                    .n_names = n_names,
                },
        };
        fn(arg, &d);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading activity rollups");
}

enum tend_err store_activity_windows_pending(struct store *s, void (*fn)(void *arg, int32_t day),
                                             void *arg) {
    sqlite3_stmt *st = stmt(s, Q_COUNTED_PENDING);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "listing activity windows to do");
}

enum tend_err store_activity_window_put(struct store *s, int32_t day, int64_t account_id,
                                        const struct metrics_window *w) {
    sqlite3_stmt *st = stmt(s, Q_COUNTS_PUT);
    sqlite3_bind_int(st, 1, day);
    sqlite3_bind_int64(st, 2, account_id);
    sqlite3_bind_int64(st, 3, w->logins_7d);
    sqlite3_bind_int64(st, 4, w->logins_prev_28d);
    sqlite3_bind_int64(st, 5, w->features_7d);
    sqlite3_bind_int64(st, 6, w->features_prev_28d);
    sqlite3_bind_int64(st, 7, w->users_30d);
    sqlite3_bind_int64(st, 8, w->features_30d);
    if (w->has_last_login)
        sqlite3_bind_int(st, 9, w->last_login_day);
    else
        sqlite3_bind_null(st, 9);
    return step_done(s, st, "storing activity windows");
}

enum tend_err store_activity_windows_each(struct store *s, const struct store_span *sp, int32_t day,
                                          void (*fn)(void *arg, int64_t account_id,
                                                     const struct metrics_window *w),
                                          void *arg) {
    sqlite3_stmt *st = span_stmt(s, sp, Q_WINDOWS, 2, Q_WINDOWS_IDS, 2);
    sqlite3_bind_int(st, 1, day);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        struct metrics_window w = {
            .logins_7d = sqlite3_column_int64(st, 1),
            .logins_prev_28d = sqlite3_column_int64(st, 2),
            .features_7d = sqlite3_column_int64(st, 3),
            .features_prev_28d = sqlite3_column_int64(st, 4),
            .users_30d = sqlite3_column_int64(st, 5),
            .features_30d = sqlite3_column_int64(st, 6),
            .has_last_login = sqlite3_column_type(st, 7) != SQLITE_NULL,
            .last_login_day = sqlite3_column_int(st, 7),
        };
        fn(arg, sqlite3_column_int64(st, 0), &w);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading activity windows");
}

enum tend_err store_activity_windows_done(struct store *s, int32_t day) {
    sqlite3_stmt *st = stmt(s, Q_COUNTED_DONE);
    sqlite3_bind_int(st, 1, day);
    return step_done(s, st, "storing activity windows");
}

enum tend_err store_activity_windows_ready(struct store *s, int32_t day, bool *done) {
    sqlite3_stmt *st = stmt(s, Q_COUNTED_GET);
    sqlite3_bind_int(st, 1, day);
    int rc = db_step(st);
    *done = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading counted days");
}

/* ---- facts and memberships ------------------------------------------------ */

enum tend_err store_facts_each(struct store *s, const struct store_span *sp, int64_t before_ms,
                               void (*fn)(void *arg, const struct store_fact *f), void *arg) {
    sqlite3_stmt *st = span_stmt(s, sp, Q_FACTS, 1, Q_FACTS_IDS, 1);
    sqlite3_bind_int64(st, sp->ids ? 2 : 3, before_ms);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        struct store_fact f = {
            .account_id = sqlite3_column_int64(st, 0),
            .kind = sqlite3_column_int(st, 1),
            .ts_ms = sqlite3_column_int64(st, 2),
            .user_id = sqlite3_column_int64(st, 3),
            .subject = col_text(st, 4),
            .detail = col_text(st, 5),
            .has_num = sqlite3_column_type(st, 6) != SQLITE_NULL,
            .num = sqlite3_column_double(st, 6),
            .has_day = sqlite3_column_type(st, 7) != SQLITE_NULL,
            .day = sqlite3_column_int(st, 7),
            .settled_ms =
                sqlite3_column_type(st, 8) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 8),
            .props = col_text(st, 9),
        };
        fn(arg, &f);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading facts");
}

enum tend_err store_memberships_each(struct store *s, const struct store_span *sp,
                                     void (*fn)(void *arg, const struct store_membership *m),
                                     void *arg) {
    sqlite3_stmt *st = span_stmt(s, sp, Q_MEMBERSHIPS, 1, Q_MEMBERSHIPS_IDS, 1);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        struct store_membership m = {
            .account_id = sqlite3_column_int64(st, 0),
            .user_id = sqlite3_column_int64(st, 1),
            .start_ms = sqlite3_column_int64(st, 2),
            .end_ms = sqlite3_column_type(st, 3) == SQLITE_NULL ? STORE_OPEN_END
                                                                : sqlite3_column_int64(st, 3),
        };
        fn(arg, &m);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading memberships");
}

/* ---- scores --------------------------------------------------------------- */

enum tend_err store_score_put(struct store *s, int64_t account_id, const struct store_score *sc) {
    sqlite3_stmt *st = stmt(s, Q_SCORE_PUT);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, sc->day);
    if (sc->has_overall)
        sqlite3_bind_double(st, 3, sc->overall);
    bind_text(st, 4, sc->band);
    for (int i = 0; i < STORE_COMPONENTS; i++) {
        if (sc->has[i])
            sqlite3_bind_double(st, 5 + i, sc->components[i]);
    }
    bind_text(st, 10, sc->config_version);
    sqlite3_bind_int64(st, 11, dt_now_ms());
    return step_done(s, st, "storing a score");
}

static void read_score(sqlite3_stmt *st, struct store_score *sc) {
    memset(sc, 0, sizeof *sc);
    sc->day = sqlite3_column_int(st, 0);
    sc->has_overall = sqlite3_column_type(st, 1) != SQLITE_NULL;
    sc->overall = sqlite3_column_double(st, 1);
    snprintf(sc->band, sizeof sc->band, "%s", col_text(st, 2) ? col_text(st, 2) : "none");
    for (int i = 0; i < STORE_COMPONENTS; i++) {
        sc->has[i] = sqlite3_column_type(st, 3 + i) != SQLITE_NULL;
        sc->components[i] = sqlite3_column_double(st, 3 + i);
    }
    snprintf(sc->config_version, sizeof sc->config_version, "%s",
             col_text(st, 8) ? col_text(st, 8) : "");
}

enum tend_err store_score_get(struct store *s, int64_t account_id, int32_t day,
                              struct store_score *out, bool *found) {
    sqlite3_stmt *st = stmt(s, Q_SCORE_GET);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, day);
    int rc = db_step(st);
    *found = rc == SQLITE_ROW;
    if (*found)
        read_score(st, out);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading a score");
}

enum tend_err store_score_history(struct store *s, int64_t account_id, int32_t from, int32_t to,
                                  void (*fn)(void *arg, const struct store_score *sc), void *arg) {
    sqlite3_stmt *st = stmt(s, Q_SCORE_HISTORY);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, from);
    sqlite3_bind_int(st, 3, to);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        struct store_score sc;
        read_score(st, &sc);
        fn(arg, &sc);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading score history");
}

enum tend_err store_scores_of_day(struct store *s, int32_t day,
                                  void (*fn)(void *arg, int64_t account_id, bool has_overall,
                                             double overall),
                                  void *arg) {
    sqlite3_stmt *st = stmt(s, Q_SCORES_OF_DAY);
    sqlite3_bind_int(st, 1, day);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_type(st, 1) != SQLITE_NULL,
           sqlite3_column_double(st, 1));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading scores");
}

/* ---- rule inputs beyond metrics -------------------------------------------- */

enum tend_err store_product_used(struct store *s, int64_t account_id, const char *product,
                                 int32_t first_day, int32_t last_day, bool *used) {
    sqlite3_stmt *st = stmt(s, Q_PRODUCT_USED);
    sqlite3_bind_int64(st, 1, account_id);
    bind_text(st, 2, product);
    sqlite3_bind_int(st, 3, first_day);
    sqlite3_bind_int(st, 4, last_day);
    int rc = db_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(s, "reading product use");
    *used = rc == SQLITE_ROW;
    return TEND_OK;
}

enum tend_err store_last_ticket_before(struct store *s, int64_t account_id, int64_t before_ms,
                                       int64_t *ts_ms, bool *found) {
    sqlite3_stmt *st = stmt(s, Q_LAST_TICKET);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, before_ms);
    int rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        if (*found)
            *ts_ms = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? TEND_OK : db_fail(s, "reading facts");
}

enum tend_err store_user_label(struct store *s, int64_t user_id, char *buf, size_t size) {
    sqlite3_stmt *st = stmt(s, Q_USER_LABEL);
    sqlite3_bind_int64(st, 1, user_id);
    int rc = db_step(st);
    enum tend_err err = TEND_OK;
    if (rc == SQLITE_ROW)
        snprintf(buf, size, "%s", col_text(st, 0) ? col_text(st, 0) : "");
    else if (rc == SQLITE_DONE)
        err = TEND_ERR_NOTFOUND;
    else
        err = db_fail(s, "reading a user");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

/* ---- CTAs ----------------------------------------------------------------- */

/* Statuses and close reasons are stored by core's names (core/cta.h); a
 * name this tend does not know reads as the first of its kind. */
static int status_of(const char *name) {
    enum cta_status v = CTA_OPEN;
    return name && cta_status_parse(name, &v) ? (int)v : CTA_OPEN;
}

static int reason_of(const char *name) {
    enum cta_close_reason v = CTA_RESOLVED;
    return name && cta_close_reason_parse(name, &v) ? (int)v : CTA_RESOLVED;
}

/* Reads a row of CTA_COLUMNS. */
static void read_cta(sqlite3_stmt *st, struct store_cta *c) {
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    c->account_id = sqlite3_column_int64(st, 1);
    c->account = col_text(st, 2);
    c->rule = col_text(st, 3);
    c->subject = col_text(st, 4);
    c->type = col_text(st, 5);
    c->priority = sqlite3_column_int(st, 6);
    c->status = status_of(col_text(st, 7));
    c->snoozed_until = sqlite3_column_int(st, 8);
    c->has_closed = sqlite3_column_type(st, 9) != SQLITE_NULL;
    c->closed_reason = reason_of(col_text(st, 9));
    c->closed_day = sqlite3_column_int(st, 10);
    c->cleared = sqlite3_column_int(st, 11) != 0;
    c->owner = col_text(st, 12);
    c->title = col_text(st, 13);
    c->reason = col_text(st, 14);
    c->evidence = col_text(st, 15);
    c->opened_day = sqlite3_column_int(st, 16);
    c->due_day = sqlite3_column_int(st, 17);
    c->updated_ms = sqlite3_column_int64(st, 18);
    c->has_clear_since = sqlite3_column_type(st, 19) != SQLITE_NULL;
    c->clear_since = sqlite3_column_int(st, 19);
    c->has_value = sqlite3_column_type(st, 20) != SQLITE_NULL;
    c->value = sqlite3_column_double(st, 20);
    c->account_name = sqlite3_column_count(st) > 21 ? col_text(st, 21) : NULL;
}

enum tend_err store_ctas_live_count(struct store *s, int64_t *n) {
    enum tend_err err = step_int(s, stmt(s, Q_CTAS_LIVE_COUNT), n, "counting live CTAs");
    return err == TEND_ERR_NOTFOUND ? (*n = 0, TEND_OK) : err;
}

enum tend_err store_ctas_watched_each(struct store *s, const struct store_span *sp,
                                      void (*fn)(void *arg, const struct store_cta *c), void *arg) {
    sqlite3_stmt *st = span_stmt(s, sp, Q_CTAS_WATCHED, 1, Q_CTAS_WATCHED_IDS, 1);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        struct store_cta c;
        read_cta(st, &c);
        c.acted = sqlite3_column_int(st, 22) != 0;
        fn(arg, &c);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading CTAs");
}

/* Binds the changeable fields of c from index at on, in CTA_UPDATE's order:
 * type, priority, status, snoozed_until, closed_reason, closed_day, cleared,
 * owner, title, reason, evidence, due_day, updated_ms, clear_since. */
static void bind_cta_fields(sqlite3_stmt *st, int at, const struct store_cta *c) {
    bind_text(st, at, c->type);
    sqlite3_bind_int(st, at + 1, c->priority);
    sqlite3_bind_text(st, at + 2, cta_status_name((enum cta_status)c->status), -1, SQLITE_STATIC);
    if (c->status == 1)
        sqlite3_bind_int(st, at + 3, c->snoozed_until);
    if (c->has_closed) {
        sqlite3_bind_text(st, at + 4,
                          cta_close_reason_name((enum cta_close_reason)c->closed_reason), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, at + 5, c->closed_day);
    }
    sqlite3_bind_int(st, at + 6, c->cleared);
    bind_text(st, at + 7, c->owner);
    bind_text(st, at + 8, c->title);
    bind_text(st, at + 9, c->reason);
    bind_text(st, at + 10, c->evidence ? c->evidence : "{}");
    sqlite3_bind_int(st, at + 11, c->due_day);
    sqlite3_bind_int64(st, at + 12, c->updated_ms);
    if (c->has_clear_since && c->status != 2)
        sqlite3_bind_int(st, at + 13, c->clear_since);
    if (c->has_value)
        sqlite3_bind_double(st, at + 14, c->value);
}

/* A step that may break the one-live-CTA-per-key index. */
static enum tend_err step_cta(struct store *s, sqlite3_stmt *st, int *rc) {
    *rc = db_step(st);
    if (*rc == SQLITE_CONSTRAINT) {
        snprintf(s->err, sizeof s->err,
                 "an open or snoozed CTA exists for that rule, account "
                 "and subject already");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return TEND_ERR_INVALID;
    }
    return TEND_OK;
}

enum tend_err store_cta_insert(struct store *s, const struct store_cta *c, int64_t *id) {
    sqlite3_stmt *st = stmt(s, Q_CTA_INSERT);
    sqlite3_bind_int64(st, 1, c->account_id);
    bind_text(st, 2, c->rule);
    bind_text(st, 3, c->subject ? c->subject : "");
    /* INSERT's columns 4..: type, priority, status, snoozed_until,
     * closed_reason, closed_day, cleared, owner, title, reason, evidence;
     * then opened_day, due_day, updated_ms. */
    bind_text(st, 4, c->type);
    sqlite3_bind_int(st, 5, c->priority);
    sqlite3_bind_text(st, 6, cta_status_name((enum cta_status)c->status), -1, SQLITE_STATIC);
    if (c->status == 1)
        sqlite3_bind_int(st, 7, c->snoozed_until);
    if (c->has_closed) {
        sqlite3_bind_text(st, 8, cta_close_reason_name((enum cta_close_reason)c->closed_reason), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 9, c->closed_day);
    }
    sqlite3_bind_int(st, 10, c->cleared);
    bind_text(st, 11, c->owner);
    bind_text(st, 12, c->title);
    bind_text(st, 13, c->reason);
    bind_text(st, 14, c->evidence ? c->evidence : "{}");
    sqlite3_bind_int(st, 15, c->opened_day);
    sqlite3_bind_int(st, 16, c->due_day);
    sqlite3_bind_int64(st, 17, c->updated_ms);
    if (c->has_value)
        sqlite3_bind_double(st, 18, c->value);
    int rc;
    enum tend_err err = step_cta(s, st, &rc);
    if (err)
        return err;
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else
        err = db_fail(s, "storing a CTA");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum tend_err store_cta_update(struct store *s, const struct store_cta *c) {
    sqlite3_stmt *st = stmt(s, Q_CTA_UPDATE);
    sqlite3_bind_int64(st, 1, c->id);
    bind_cta_fields(st, 2, c);
    int rc;
    enum tend_err err = step_cta(s, st, &rc);
    if (err)
        return err;
    err = rc == SQLITE_DONE ? TEND_OK : db_fail(s, "updating a CTA");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum tend_err store_cta_forget_closed(struct store *s, const char *rule, int64_t account_id,
                                      const char *subject) {
    sqlite3_stmt *st = stmt(s, Q_CTA_FORGET);
    bind_text(st, 1, rule);
    sqlite3_bind_int64(st, 2, account_id);
    bind_text(st, 3, subject ? subject : "");
    return step_done(s, st, "updating CTAs");
}

enum tend_err store_cta_get(struct store *s, int64_t id,
                            void (*fn)(void *arg, const struct store_cta *c), void *arg) {
    sqlite3_stmt *st = stmt(s, Q_CTA_GET);
    sqlite3_bind_int64(st, 1, id);
    int rc = db_step(st);
    enum tend_err err = TEND_OK;
    if (rc == SQLITE_ROW) {
        struct store_cta c;
        read_cta(st, &c);
        fn(arg, &c);
    } else {
        err = rc == SQLITE_DONE ? TEND_ERR_NOTFOUND : db_fail(s, "reading a CTA");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum tend_err store_ctas_each(struct store *s, const struct store_cta_filter *f,
                              int (*fn)(void *arg, const struct store_cta *c), void *arg) {
    sqlite3_stmt *st = stmt(s, f->account ? Q_CTAS_OF_ACCOUNT : Q_CTAS_EACH);
    bind_text(st, 1, f->status);
    bind_text(st, 2, f->owner);
    bind_text(st, 3, f->account);
    bind_text(st, 4, f->rule);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        struct store_cta c;
        read_cta(st, &c);
        if (fn(arg, &c)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "listing CTAs");
}

enum tend_err store_cta_history_add(struct store *s, int64_t cta_id,
                                    const struct store_cta_change *ch) {
    sqlite3_stmt *st = stmt(s, Q_CTA_HISTORY_ADD);
    sqlite3_bind_int64(st, 1, cta_id);
    sqlite3_bind_int(st, 2, ch->day);
    sqlite3_bind_int64(st, 3, ch->at_ms);
    bind_text(st, 4, ch->action);
    bind_text(st, 5, ch->actor);
    sqlite3_bind_text(st, 6, cta_status_name((enum cta_status)ch->status), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, ch->priority);
    bind_text(st, 8, ch->note);
    return step_done(s, st, "recording a CTA's history");
}

enum tend_err store_cta_history_each(struct store *s, int64_t cta_id,
                                     void (*fn)(void *arg, const struct store_cta_change *ch),
                                     void *arg) {
    sqlite3_stmt *st = stmt(s, Q_CTA_HISTORY);
    sqlite3_bind_int64(st, 1, cta_id);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW) {
        struct store_cta_change ch = {
            .seq = sqlite3_column_int64(st, 0),
            .day = sqlite3_column_int(st, 1),
            .at_ms = sqlite3_column_int64(st, 2),
            .action = col_text(st, 3),
            .actor = col_text(st, 4),
            .status = status_of(col_text(st, 5)),
            .priority = sqlite3_column_int(st, 6),
            .note = col_text(st, 7),
        };
        fn(arg, &ch);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading a CTA's history");
}

enum tend_err store_eval_run_put(struct store *s, int64_t t_ms, int64_t run_ms, int64_t opened,
                                 int64_t updated, int64_t resolved, int64_t errors) {
    sqlite3_stmt *st = stmt(s, Q_EVAL_RUN_PUT);
    sqlite3_bind_int64(st, 1, t_ms);
    sqlite3_bind_int64(st, 2, run_ms);
    sqlite3_bind_int64(st, 3, opened);
    sqlite3_bind_int64(st, 4, updated);
    sqlite3_bind_int64(st, 5, resolved);
    sqlite3_bind_int64(st, 6, errors);
    return step_done(s, st, "recording an evaluation");
}

enum tend_err store_eval_run_before(struct store *s, int64_t t_ms, int64_t *prev_ms, bool *found) {
    sqlite3_stmt *st = stmt(s, t_ms == INT64_MAX ? Q_EVAL_RUN_LAST : Q_EVAL_RUN_BEFORE);
    if (t_ms != INT64_MAX)
        sqlite3_bind_int64(st, 1, t_ms);
    int rc = db_step(st);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        if (*found)
            *prev_ms = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? TEND_OK : db_fail(s, "reading evaluations");
}

enum tend_err store_ctas_reset(struct store *s) {
    if (sqlite3_exec(s->db,
                     "DELETE FROM cta_history; DELETE FROM ctas; DELETE FROM eval_runs; "
                     "DELETE FROM cta_held;",
                     NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(s, "forgetting CTAs");
    return TEND_OK;
}

enum tend_err store_scores_of_day_version(struct store *s, int32_t day, const char *version,
                                          void (*fn)(void *arg, int64_t account_id,
                                                     bool has_overall, double overall),
                                          void *arg) {
    sqlite3_stmt *st = stmt(s, Q_SCORES_OF_DAY_VERSION);
    sqlite3_bind_int(st, 1, day);
    bind_text(st, 2, version);
    int rc;
    while ((rc = db_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_type(st, 1) != SQLITE_NULL,
           sqlite3_column_double(st, 1));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading scores");
}

enum tend_err store_scores_of_day_ids(
    struct store *s, int32_t day, const char *version, const int64_t *ids, size_t n, bool *any,
    void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg) {
    sqlite3_stmt *st = stmt(s, Q_SCORES_DAY_ANY);
    sqlite3_bind_int(st, 1, day);
    bind_text(st, 2, version);
    int rc = db_step(st);
    *any = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW)
        return db_fail(s, "reading scores");
    if (!*any || !n)
        return TEND_OK;
    st = stmt(s, Q_SCORES_OF_DAY_IDS);
    sqlite3_bind_int(st, 1, day);
    bind_text(st, 2, version);
    bind_ids(st, 3, ids, n);
    while ((rc = db_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_type(st, 1) != SQLITE_NULL,
           sqlite3_column_double(st, 1));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : db_fail(s, "reading scores");
}
