/* sqlite_analysis.c: the reads behind tend analyze and tend backtest
 * (store.h, "analysis"): the outcomes, and a copy of the database that a
 * backtest replays evaluation in without touching the real CTAs. */
#include <stdint.h>

#include "core/vocab.h"
#include "store/codes.h"
#include "store/sqlite_int.h"

/* Outcomes are rare facts; the scan of facts by kind is cheap next to the
 * evaluation that follows it. */
static const char q_outcomes[] =
    "SELECT f.account_id, a.external_id, a.csm_email, f.kind, f.ts_ms, f.num, f.detail, a.mrr, "
    "a.first_seen_ms "
    "FROM facts f JOIN accounts a ON a.id = f.account_id "
    "WHERE f.kind IN (" SQL_EV_RENEWED ", " SQL_EV_CHURNED
    ") AND f.ts_ms >= ?1 AND f.ts_ms < ?2 ORDER BY f.ts_ms, f.account_id";
_Static_assert(EV_RENEWED == 14 && EV_CHURNED == 15, "q_outcomes names the kinds");

static const char q_copy[] = "VACUUM INTO ?1";

enum tend_err sqlite_outcomes_each(struct store *base, int64_t from_ms, int64_t to_ms,
                                   void (*fn)(void *arg, const struct store_outcome *o),
                                   void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_outcomes);
    sqlite3_bind_int64(st, 1, from_ms);
    sqlite3_bind_int64(st, 2, to_ms);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
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

enum tend_err sqlite_copy_to(struct store *base, const char *path) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_copy);
    sqlite_bind_text(st, 1, path);
    return sqlite_done(s, st, "copying the database");
}
