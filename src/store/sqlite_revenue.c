/* sqlite_revenue.c: what the revenue analysis reads of facts, in the SQLite
 * backend (store.h, store_revenue_each; pg_revenue.c is the same in
 * PostgreSQL).
 *
 * An account's revenue is in four kinds of facts: group calls that set the
 * mrr trait (the value in the stored traits), Subscription Changed (mrr_after
 * as num, mrr_before in the stored properties) and the outcomes (arr as
 * num). One scan of facts by kind, like the outcomes' (sqlite_facts.c):
 * analysis reads them once per run. Besides, the cost to serve accounts in a
 * window (tickets opened, outreach sent, CTAs opened), for the reasons
 * Pareto of tend analyze --reasons. */
#include <sqlite3.h>

#include "core/vocab.h"
#include "store/codes.h"
#include "store/sqlite_int.h"
#include "store/store.h"

static const char q_revenue[] =
    "SELECT f.account_id, a.external_id, a.segment, a.plan, a.csm_email, f.kind, f.ts_ms, "
    "CASE WHEN f.kind = " SQL_EV_GROUP " THEN json_extract(f.props, '$.mrr') ELSE f.num END, "
    "CASE WHEN f.kind = " SQL_EV_SUB_CHANGED " THEN json_extract(f.props, '$.mrr_before') END, "
    "CASE WHEN f.kind = " SQL_EV_GROUP " THEN NULL ELSE f.detail END, a.first_seen_ms "
    "FROM facts f JOIN accounts a ON a.id = f.account_id "
    "WHERE f.kind IN (" SQL_EV_RENEWED ", " SQL_EV_CHURNED ", " SQL_EV_SUB_CHANGED ", " SQL_EV_GROUP
    ") AND f.ts_ms < ?1 "
    "AND (f.kind <> " SQL_EV_GROUP " OR json_extract(f.props, '$.mrr') IS NOT NULL) "
    "ORDER BY f.account_id, f.ts_ms, f.kind";

enum tend_err sqlite_revenue_each(struct store *base, int64_t before_ms,
                                  void (*fn)(void *arg, const struct store_revenue_fact *f),
                                  void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_revenue);
    sqlite3_bind_int64(st, 1, before_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        /* A number stored as text ("49.90", as billing exports write it)
         * reads as its value. */
        struct store_revenue_fact f = {
            .account_id = sqlite3_column_int64(st, 0),
            .external_id = sqlite_col_text(st, 1),
            .segment = sqlite_col_text(st, 2),
            .plan = sqlite_col_text(st, 3),
            .owner = sqlite_col_text(st, 4),
            .kind = sqlite3_column_int(st, 5),
            .ts_ms = sqlite3_column_int64(st, 6),
            .has_num = sqlite3_column_type(st, 7) != SQLITE_NULL,
            .num = sqlite3_column_double(st, 7),
            .has_before = sqlite3_column_type(st, 8) != SQLITE_NULL,
            .mrr_before = sqlite3_column_double(st, 8),
            .reason = sqlite_col_text(st, 9),
            .first_seen_ms = sqlite3_column_int64(st, 10),
        };
        fn(arg, &f);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading revenue facts");
}

/* Tickets and outreach are facts (kept for good; their lifetimes only say
 * when evaluation stops reading them); CTAs by the day they opened. */
static const char q_costs[] =
    "SELECT account_id, sum(t), sum(o), sum(c) FROM ("
    "SELECT account_id, kind = " SQL_EV_TICKET_OPENED " AS t, kind = " SQL_EV_OUTREACH_SENT
    " AS o, 0 AS c FROM facts WHERE kind IN (" SQL_EV_TICKET_OPENED ", " SQL_EV_OUTREACH_SENT
    ") AND ts_ms >= ?1 AND ts_ms < ?2 "
    "UNION ALL SELECT account_id, 0, 0, 1 FROM ctas WHERE opened_day >= ?1 / 86400000 "
    "AND opened_day < ?2 / 86400000) GROUP BY account_id ORDER BY account_id";

enum tend_err sqlite_account_costs_each(struct store *base, int64_t from_ms, int64_t to_ms,
                                        void (*fn)(void *arg, const struct store_account_costs *c),
                                        void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_costs);
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_account_costs c = {
            .account_id = sqlite3_column_int64(st, 0),
            .tickets = sqlite3_column_int64(st, 1),
            .outreach = sqlite3_column_int64(st, 2),
            .ctas = sqlite3_column_int64(st, 3),
        };
        fn(arg, &c);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading tickets, outreach and CTAs");
}
