/* sqlite_dash.c: the reads behind the dashboard and the REST API (store.h,
 * "the dashboard's reads"). Each is one statement over an index: the ranked
 * list reads every account with one seek into its day's scores and one into
 * its live CTAs (ctas_account). */
#include <stdint.h>
#include <string.h>

#include "store/codes.h"
#include "store/sqlite_int.h"

static const char q_briefs[] =
    "SELECT a.id, a.external_id, a.name, a.segment, a.csm_email, a.mrr, s.day, s.overall, "
    "s.band, (SELECT count(*) FROM ctas c WHERE c.account_id = a.id AND c.status IN "
    "(" SQL_CTA_OPEN ", " SQL_CTA_SNOOZED
    ")) FROM accounts a LEFT JOIN scores s ON s.day = ?1 AND s.account_id = a.id";
static const char q_latest_day[] = "SELECT max(day) FROM scores";
static const char q_facts_recent[] =
    "SELECT f.kind, f.ts_ms, f.user_id, f.subject, f.detail, f.num, f.day, f.props, "
    "coalesce(u.email, u.external_id) FROM facts f LEFT JOIN users u ON u.id = f.user_id "
    "WHERE f.account_id = ?1 ORDER BY f.ts_ms DESC LIMIT ?2";
static const char q_rule_counts[] =
    "SELECT rule, count(*), sum(opened_day >= ?1), sum(status = " SQL_CTA_OPEN
    "), sum(status = " SQL_CTA_SNOOZED "), "
    "sum(status = " SQL_CTA_CLOSED "), sum(closed_reason = " SQL_CTA_AUTO_RESOLVED
    "), max(opened_day) FROM ctas "
    "GROUP BY rule";
static const char q_oldest_pending[] =
    "SELECT min(created_ms) FROM outbox WHERE status = 'pending'";

enum tend_err sqlite_account_briefs(struct store *base, int32_t day,
                                    void (*fn)(void *arg, const struct store_account_brief *b),
                                    void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_briefs);
    sqlite3_bind_int(st, 1, day);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_account_brief b = {
            .id = sqlite3_column_int64(st, 0),
            .external_id = sqlite_col_text(st, 1),
            .name = sqlite_col_text(st, 2),
            .segment = sqlite_col_text(st, 3),
            .owner = sqlite_col_text(st, 4),
            .has_mrr = sqlite3_column_type(st, 5) != SQLITE_NULL,
            .mrr = sqlite3_column_double(st, 5),
            .has_score = sqlite3_column_type(st, 6) != SQLITE_NULL,
            .has_overall = sqlite3_column_type(st, 7) != SQLITE_NULL,
            .overall = sqlite3_column_double(st, 7),
            .band = sqlite3_column_type(st, 8) != SQLITE_NULL ? sqlite_col_text(st, 8) : "none",
            .live_ctas = sqlite3_column_int64(st, 9),
        };
        fn(arg, &b);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing accounts with their scores");
}

enum tend_err sqlite_scores_latest_day(struct store *base, int32_t *day, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_latest_day);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        *day = sqlite3_column_int(st, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the latest scores' day");
}

enum tend_err sqlite_account_facts_recent(struct store *base, int64_t account_id, int limit,
                                          void (*fn)(void *arg, const struct store_fact *f,
                                                     const char *user),
                                          void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_facts_recent);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_fact f = {
            .account_id = account_id,
            .kind = sqlite3_column_int(st, 0),
            .ts_ms = sqlite3_column_int64(st, 1),
            .user_id = sqlite3_column_int64(st, 2),
            .subject = sqlite_col_text(st, 3),
            .detail = sqlite_col_text(st, 4),
            .has_num = sqlite3_column_type(st, 5) != SQLITE_NULL,
            .num = sqlite3_column_double(st, 5),
            .has_day = sqlite3_column_type(st, 6) != SQLITE_NULL,
            .day = sqlite3_column_int(st, 6),
            .settled_ms = INT64_MAX,
            .props = sqlite_col_text(st, 7),
        };
        fn(arg, &f, sqlite_col_text(st, 8));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading an account's events");
}

enum tend_err sqlite_rule_counts_each(struct store *base, int32_t since_day,
                                      void (*fn)(void *arg, const struct store_rule_counts *c),
                                      void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_rule_counts);
    sqlite3_bind_int(st, 1, since_day);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_rule_counts c = {
            .rule = sqlite_col_text(st, 0),
            .total = sqlite3_column_int64(st, 1),
            .since = sqlite3_column_int64(st, 2),
            .open = sqlite3_column_int64(st, 3),
            .snoozed = sqlite3_column_int64(st, 4),
            .closed = sqlite3_column_int64(st, 5),
            .auto_resolved = sqlite3_column_int64(st, 6),
            .last_opened_day = sqlite3_column_int(st, 7),
        };
        fn(arg, &c);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "counting CTAs per rule");
}

enum tend_err sqlite_outbox_oldest_pending(struct store *base, int64_t *created_ms, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_oldest_pending);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        *created_ms = sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the outbox");
}
