/* sqlite_facts.c: what evaluation reads of facts, memberships and product
 * use, in the SQLite backend (sqlite_int.h).
 *
 * Facts are read only while they matter (until_ms >= T), one range of each
 * account's rows; memberships from memberships_by_account alone. Each read
 * has a form for a range of account ids and one for listed ids
 * (sqlite_span_stmt), so a few accounts cost a few index seeks. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "store/codes.h"
#include "store/sqlite_int.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/mem.h"

/* The facts that matter as of T (?3): until_ms >= T, one range of each
 * account's rows (CROSS JOIN keeps account order). */
static const char q_facts[] =
    "SELECT e.account_id, e.kind, e.ts_ms, e.user_id, e.subject, e.detail, e.num, "
    "e.day, e.settled_ms, e.props FROM accounts a CROSS JOIN facts e "
    "ON e.account_id = a.id AND e.until_ms >= ?3 AND e.ts_ms < ?3 "
    "WHERE a.id BETWEEN ?1 AND ?2";
static const char q_memberships[] = "SELECT account_id, user_id, start_ms, end_ms FROM memberships "
                                    "WHERE account_id BETWEEN ? AND ?";
static const char q_facts_ids[] =
    "SELECT e.account_id, e.kind, e.ts_ms, e.user_id, e.subject, e.detail, e.num, "
    "e.day, e.settled_ms, e.props FROM json_each(?1) j CROSS JOIN facts e "
    "ON e.account_id = j.value AND e.until_ms >= ?2 AND e.ts_ms < ?2";
static const char q_memberships_ids[] = "SELECT m.account_id, m.user_id, m.start_ms, m.end_ms "
                                        "FROM json_each(?1) j CROSS JOIN memberships m "
                                        "ON m.account_id = j.value";
static const char q_product_used[] =
    "SELECT 1 FROM product_days WHERE account_id = ? AND product = ? "
    "AND day BETWEEN ? AND ? LIMIT 1";
static const char q_last_ticket[] =
    "SELECT max(ts_ms) FROM facts WHERE account_id = ? AND kind = " SQL_EV_TICKET_OPENED " "
    "AND ts_ms < ?";

enum tend_err sqlite_facts_each(struct store *base, const struct store_span *sp, int64_t before_ms,
                                void (*fn)(void *arg, const struct store_fact *f), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_span_stmt(s, sp, q_facts, 1, q_facts_ids, 1);
    sqlite3_bind_int64(st, sp->ids ? 2 : 3, before_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_fact f = {
            .account_id = sqlite3_column_int64(st, 0),
            .kind = sqlite3_column_int(st, 1),
            .ts_ms = sqlite3_column_int64(st, 2),
            .user_id = sqlite3_column_int64(st, 3),
            .subject = sqlite_col_text(st, 4),
            .detail = sqlite_col_text(st, 5),
            .has_num = sqlite3_column_type(st, 6) != SQLITE_NULL,
            .num = sqlite3_column_double(st, 6),
            .has_day = sqlite3_column_type(st, 7) != SQLITE_NULL,
            .day = sqlite3_column_int(st, 7),
            .settled_ms =
                sqlite3_column_type(st, 8) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 8),
            .props = sqlite_col_text(st, 9),
        };
        fn(arg, &f);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading facts");
}

enum tend_err sqlite_memberships_each(struct store *base, const struct store_span *sp,
                                      void (*fn)(void *arg, const struct store_membership *m),
                                      void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_span_stmt(s, sp, q_memberships, 1, q_memberships_ids, 1);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
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
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading memberships");
}

enum tend_err sqlite_product_used(struct store *base, int64_t account_id, const char *product,
                                  int32_t first_day, int32_t last_day, bool *used) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_product_used);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite_bind_text(st, 2, product);
    sqlite3_bind_int(st, 3, first_day);
    sqlite3_bind_int(st, 4, last_day);
    int rc = sqlite_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_fail(s, "reading product use");
    *used = rc == SQLITE_ROW;
    return TEND_OK;
}

enum tend_err sqlite_last_ticket_before(struct store *base, int64_t account_id, int64_t before_ms,
                                        int64_t *ts_ms, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_last_ticket);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, before_ms);
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        if (*found)
            *ts_ms = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? TEND_OK : sqlite_fail(s, "reading facts");
}

static const char q_facts_recent[] =
    "SELECT f.kind, f.ts_ms, f.user_id, f.subject, f.detail, f.num, f.day, f.props, "
    "coalesce(u.email, u.external_id) FROM facts f LEFT JOIN users u ON u.id = f.user_id "
    "WHERE f.account_id = ?1 ORDER BY f.ts_ms DESC LIMIT ?2";

/* Outcomes are rare facts; the scan of facts by kind is cheap next to the
 * evaluation that follows it. */
static const char q_outcomes[] =
    "SELECT f.account_id, a.external_id, a.csm_email, f.kind, f.ts_ms, f.num, f.detail, a.mrr, "
    "a.first_seen_ms "
    "FROM facts f JOIN accounts a ON a.id = f.account_id "
    "WHERE f.kind IN (" SQL_EV_RENEWED ", " SQL_EV_CHURNED
    ") AND f.ts_ms >= ?1 AND f.ts_ms < ?2 ORDER BY f.ts_ms, f.account_id";
_Static_assert(EV_RENEWED == 14 && EV_CHURNED == 15, "q_outcomes names the kinds");

enum tend_err sqlite_account_facts_recent(struct store *base, int64_t account_id, int limit,
                                          void (*fn)(void *arg, const struct store_fact *f,
                                                     const char *user),
                                          void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_facts_recent);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, limit);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
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

enum tend_err sqlite_outcomes_each(struct store *base, int64_t from_ms, int64_t to_ms,
                                   void (*fn)(void *arg, const struct store_outcome *o),
                                   void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_outcomes);
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_outcome o = {
            .account_id = sqlite3_column_int64(st, 0),
            .external_id = sqlite_col_text(st, 1),
            .owner = sqlite_col_text(st, 2),
            .churned = sqlite3_column_int(st, 3) == EV_CHURNED,
            .ts_ms = sqlite3_column_int64(st, 4),
            .has_arr = sqlite3_column_type(st, 5) != SQLITE_NULL,
            .arr = sqlite3_column_double(st, 5),
            .reason = sqlite_col_text(st, 6),
            .has_mrr = sqlite3_column_type(st, 7) != SQLITE_NULL,
            .mrr = sqlite3_column_double(st, 7),
            .first_seen_ms = sqlite3_column_int64(st, 8),
        };
        fn(arg, &o);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the outcomes");
}
