/* sqlite_segments.c: segments' daily sums and a run's parts (store.h,
 * "segments"; the tables of migration 21). */
#include <stdint.h>

#include "store/sqlite_int.h"

#define SUMS                                                                                       \
    "accounts, arr_accounts, arr, scored, health_sum, red, yellow, green, active_users, "          \
    "logins_7d, feature_events_7d, nps_accounts, nps_sum, tickets_30d, tickets_open, open_ctas"
#define SUMS_SET                                                                                   \
    "accounts = excluded.accounts, arr_accounts = excluded.arr_accounts, arr = excluded.arr, "     \
    "scored = excluded.scored, health_sum = excluded.health_sum, red = excluded.red, "             \
    "yellow = excluded.yellow, green = excluded.green, active_users = excluded.active_users, "     \
    "logins_7d = excluded.logins_7d, feature_events_7d = excluded.feature_events_7d, "             \
    "nps_accounts = excluded.nps_accounts, nps_sum = excluded.nps_sum, "                           \
    "tickets_30d = excluded.tickets_30d, tickets_open = excluded.tickets_open, "                   \
    "open_ctas = excluded.open_ctas"
#define SUMS_PARAMS "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19"

static const char q_days_clear[] = "DELETE FROM segment_days WHERE day = ?1";
static const char q_days_put[] =
    "INSERT INTO segment_days (kind, name, day, " SUMS ") VALUES (?1, ?2, ?3, " SUMS_PARAMS
    ") ON CONFLICT (kind, name, day) DO UPDATE SET " SUMS_SET;
static const char q_part_clear[] = "DELETE FROM segment_parts WHERE due_ms = ?1 AND part = ?2";
static const char q_part_put[] = "INSERT INTO segment_parts (due_ms, part, kind, name, " SUMS
                                 ") VALUES (?20, ?3, ?1, ?2, " SUMS_PARAMS
                                 ") ON CONFLICT (due_ms, part, kind, name) DO UPDATE SET " SUMS_SET;
static const char q_parts_each[] =
    "SELECT kind, name, 0, " SUMS " FROM segment_parts WHERE due_ms = ?1 ORDER BY part, kind, name";
static const char q_parts_forget[] = "DELETE FROM segment_parts WHERE due_ms = ?1";
static const char q_days_each[] =
    "SELECT kind, name, day, " SUMS " FROM segment_days "
    "WHERE (?1 < 0 OR kind = ?1) AND (?2 IS NULL OR name = ?2) AND day BETWEEN ?3 AND ?4 "
    "ORDER BY kind, name, day";
static const char q_latest_day[] = "SELECT max(day) FROM segment_days WHERE day <= ?1";

/* Binds a row as ?1 kind, ?2 name, ?3 day (or part), ?4..?19 its sums. */
static void bind_row(sqlite3_stmt *st, const struct store_segment_row *r, int32_t day) {
    const struct seg_sums *x = &r->s;
    sqlite3_bind_int(st, 1, r->kind);
    sqlite_bind_text(st, 2, r->name);
    sqlite3_bind_int(st, 3, day);
    const int64_t ints[] = {x->accounts,
                            x->arr_accounts,
                            0,
                            x->scored,
                            0,
                            x->red,
                            x->yellow,
                            x->green,
                            x->active_users,
                            x->logins_7d,
                            x->feature_events_7d,
                            x->nps_accounts,
                            0,
                            x->tickets_30d,
                            x->tickets_open,
                            x->open_ctas};
    for (int i = 0; i < 16; i++)
        sqlite3_bind_int64(st, 4 + i, ints[i]);
    sqlite3_bind_double(st, 6, x->arr);
    sqlite3_bind_double(st, 8, x->health_sum);
    sqlite3_bind_double(st, 16, x->nps_sum);
}

static void read_row(sqlite3_stmt *st, struct store_segment_row *r) {
    struct seg_sums *x = &r->s;
    r->kind = sqlite3_column_int(st, 0);
    r->name = sqlite_col_text(st, 1);
    r->day = sqlite3_column_int(st, 2);
    x->accounts = sqlite3_column_int64(st, 3);
    x->arr_accounts = sqlite3_column_int64(st, 4);
    x->arr = sqlite3_column_double(st, 5);
    x->scored = sqlite3_column_int64(st, 6);
    x->health_sum = sqlite3_column_double(st, 7);
    x->red = sqlite3_column_int64(st, 8);
    x->yellow = sqlite3_column_int64(st, 9);
    x->green = sqlite3_column_int64(st, 10);
    x->active_users = sqlite3_column_int64(st, 11);
    x->logins_7d = sqlite3_column_int64(st, 12);
    x->feature_events_7d = sqlite3_column_int64(st, 13);
    x->nps_accounts = sqlite3_column_int64(st, 14);
    x->nps_sum = sqlite3_column_double(st, 15);
    x->tickets_30d = sqlite3_column_int64(st, 16);
    x->tickets_open = sqlite3_column_int64(st, 17);
    x->open_ctas = sqlite3_column_int64(st, 18);
}

enum tend_err sqlite_segment_days_put(struct store *base, int32_t day,
                                      const struct store_segment_row *rows, size_t n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_days_clear);
    sqlite3_bind_int(st, 1, day);
    enum tend_err err = sqlite_done(s, st, "replacing a day's segments");
    for (size_t i = 0; !err && i < n; i++) {
        st = sqlite_stmt(s, q_days_put);
        bind_row(st, &rows[i], day);
        err = sqlite_done(s, st, "storing a segment's day");
    }
    return err;
}

enum tend_err sqlite_segment_part_put(struct store *base, int64_t due_ms, int part,
                                      const struct store_segment_row *rows, size_t n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_part_clear);
    sqlite3_bind_int64(st, 1, due_ms);
    sqlite3_bind_int(st, 2, part);
    enum tend_err err = sqlite_done(s, st, "replacing a run's part of segments");
    for (size_t i = 0; !err && i < n; i++) {
        st = sqlite_stmt(s, q_part_put);
        bind_row(st, &rows[i], part);
        sqlite3_bind_int64(st, 20, due_ms);
        err = sqlite_done(s, st, "storing a run's part of segments");
    }
    return err;
}

enum tend_err sqlite_segment_parts_take(struct store *base, int64_t due_ms, bool forget,
                                        void (*fn)(void *arg, const struct store_segment_row *r),
                                        void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_parts_each);
    sqlite3_bind_int64(st, 1, due_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_segment_row r;
        read_row(st, &r);
        fn(arg, &r);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sqlite_fail(s, "reading a run's parts of segments");
    if (!forget)
        return TEND_OK;
    st = sqlite_stmt(s, q_parts_forget);
    sqlite3_bind_int64(st, 1, due_ms);
    return sqlite_done(s, st, "forgetting a run's parts of segments");
}

enum tend_err sqlite_segment_days_each(struct store *base, int kind, const char *name, int32_t from,
                                       int32_t to,
                                       int (*fn)(void *arg, const struct store_segment_row *r),
                                       void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_days_each);
    sqlite3_bind_int(st, 1, kind);
    sqlite_bind_text(st, 2, name);
    sqlite3_bind_int(st, 3, from);
    sqlite3_bind_int(st, 4, to);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_segment_row r;
        read_row(st, &r);
        if (fn(arg, &r)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading segments");
}

enum tend_err sqlite_segment_latest_day(struct store *base, int32_t at, int32_t *day, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_latest_day);
    sqlite3_bind_int(st, 1, at);
    int rc = sqlite_step(st);
    *found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (*found)
        *day = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK
                                                 : sqlite_fail(s, "reading the latest segments");
}
