/* sqlite_held.c: the CTAs the weekly budget held back (store.h, "the
 * budget"), and each owner's opens of a week that the budget counts. */
#include <stdint.h>

#include "store/sqlite_int.h"

static const char q_held_put[] =
    "INSERT INTO cta_held (week, account_id, rule, subject, first_day, day, type, priority, owner, "
    "value, title, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
    "ON CONFLICT (week, account_id, rule, subject) DO UPDATE SET "
    "day = max(day, excluded.day), type = excluded.type, priority = excluded.priority, "
    "owner = excluded.owner, value = excluded.value, title = excluded.title, "
    "reason = excluded.reason";

static const char q_held_exists[] =
    "SELECT 1 FROM cta_held WHERE week = ?1 AND account_id = ?2 AND rule = ?3 AND subject = ?4";

static const char q_held_each[] =
    "SELECT h.week, h.first_day, h.day, h.account_id, a.external_id, a.name, h.rule, h.subject, "
    "h.type, h.owner, h.title, h.reason, h.priority, h.value "
    "FROM cta_held h JOIN accounts a ON a.id = h.account_id "
    "WHERE (?1 = 0 OR h.week = ?1) AND (?2 IS NULL OR h.owner = ?2) "
    "ORDER BY h.week DESC, coalesce(h.value, 0) DESC, h.priority DESC, a.external_id, h.rule, "
    "h.subject";

static const char q_held_count[] =
    "SELECT count(*) FROM cta_held WHERE week = ?1 AND (?2 IS NULL OR owner = ?2)";

static const char q_opened_by_owner[] =
    "SELECT owner, count(*) FROM ctas WHERE opened_day BETWEEN ?1 AND ?2 GROUP BY owner";

enum tend_err sqlite_cta_held_put(struct store *base, const struct store_cta_held *h,
                                  bool *is_new) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_held_exists);
    sqlite3_bind_int(st, 1, h->week);
    sqlite3_bind_int64(st, 2, h->account_id);
    sqlite_bind_text(st, 3, h->rule);
    sqlite_bind_text(st, 4, h->subject ? h->subject : "");
    int rc = sqlite_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sqlite_fail(s, "reading held-back CTAs");
    if (is_new)
        *is_new = rc == SQLITE_DONE;
    st = sqlite_stmt(s, q_held_put);
    sqlite3_bind_int(st, 1, h->week);
    sqlite3_bind_int64(st, 2, h->account_id);
    sqlite_bind_text(st, 3, h->rule);
    sqlite_bind_text(st, 4, h->subject ? h->subject : "");
    sqlite3_bind_int(st, 5, h->day);
    sqlite_bind_text(st, 6, h->type);
    sqlite3_bind_int(st, 7, h->priority);
    sqlite_bind_text(st, 8, h->owner);
    if (h->has_value)
        sqlite3_bind_double(st, 9, h->value);
    else
        sqlite3_bind_null(st, 9);
    sqlite_bind_text(st, 10, h->title);
    sqlite_bind_text(st, 11, h->reason);
    return sqlite_done(s, st, "storing a held-back CTA");
}

enum tend_err sqlite_ctas_held_each(struct store *base, int32_t week, const char *owner,
                                    int (*fn)(void *arg, const struct store_cta_held *h),
                                    void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_held_each);
    sqlite3_bind_int(st, 1, week);
    sqlite_bind_text(st, 2, owner);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_cta_held h = {
            .week = sqlite3_column_int(st, 0),
            .first_day = sqlite3_column_int(st, 1),
            .day = sqlite3_column_int(st, 2),
            .account_id = sqlite3_column_int64(st, 3),
            .account = sqlite_col_text(st, 4),
            .account_name = sqlite_col_text(st, 5),
            .rule = sqlite_col_text(st, 6),
            .subject = sqlite_col_text(st, 7),
            .type = sqlite_col_text(st, 8),
            .owner = sqlite_col_text(st, 9),
            .title = sqlite_col_text(st, 10),
            .reason = sqlite_col_text(st, 11),
            .priority = sqlite3_column_int(st, 12),
            .has_value = sqlite3_column_type(st, 13) != SQLITE_NULL,
            .value = sqlite3_column_double(st, 13),
        };
        if (fn(arg, &h)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing held-back CTAs");
}

enum tend_err sqlite_ctas_held_count(struct store *base, int32_t week, const char *owner,
                                     int64_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_held_count);
    sqlite3_bind_int(st, 1, week);
    sqlite_bind_text(st, 2, owner);
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? TEND_OK : sqlite_fail(s, "counting held-back CTAs");
}

enum tend_err sqlite_ctas_opened_by_owner(struct store *base, int32_t from, int32_t to,
                                          void (*fn)(void *arg, const char *owner, int64_t n),
                                          void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_opened_by_owner);
    sqlite3_bind_int(st, 1, from);
    sqlite3_bind_int(st, 2, to);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "counting opened CTAs");
}
