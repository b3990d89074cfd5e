/* pg_segments.c: segments' daily sums and a run's parts in the PostgreSQL
 * backend (pg_int.h); the reference is sqlite_segments.c. Keys lead with
 * the group (kind, name): pg_schema.c, migration 21, says why. */
#include <stdint.h>

#include "store/pg_int.h"

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
#define SUMS_PARAMS "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19"

static const char q_days_clear[] = "DELETE FROM segment_days WHERE day = $1";
static const char q_days_put[] =
    "INSERT INTO segment_days (kind, name, day, " SUMS ") VALUES ($1, $2, $3, " SUMS_PARAMS
    ") ON CONFLICT (kind, name, day) DO UPDATE SET " SUMS_SET;
static const char q_part_clear[] = "DELETE FROM segment_parts WHERE due_ms = $1 AND part = $2";
static const char q_part_put[] = "INSERT INTO segment_parts (due_ms, part, kind, name, " SUMS
                                 ") VALUES ($20, $3, $1, $2, " SUMS_PARAMS
                                 ") ON CONFLICT (due_ms, part, kind, name) DO UPDATE SET " SUMS_SET;
static const char q_parts_each[] =
    "SELECT kind, name, 0, " SUMS " FROM segment_parts WHERE due_ms = $1 "
    "ORDER BY part, kind, name COLLATE \"C\"";
static const char q_parts_forget[] = "DELETE FROM segment_parts WHERE due_ms = $1";
static const char q_days_each[] =
    "SELECT kind, name, day, " SUMS " FROM segment_days "
    "WHERE ($1 < 0 OR kind = $1) AND ($2::text IS NULL OR name = $2) AND day BETWEEN $3 AND $4 "
    "ORDER BY kind, name COLLATE \"C\", day";
static const char q_latest_day[] = "SELECT max(day) FROM segment_days WHERE day <= $1";

/* A row as $1 kind, $2 name, $3 day (or part), $4..$19 its sums. */
static void params_row(struct pg_params *p, const struct store_segment_row *r, int32_t day) {
    const struct seg_sums *x = &r->s;
    pg_p_int(p, r->kind);
    pg_p_text(p, r->name);
    pg_p_int(p, day);
    pg_p_i64(p, x->accounts);
    pg_p_i64(p, x->arr_accounts);
    pg_p_f64(p, x->arr);
    pg_p_i64(p, x->scored);
    pg_p_f64(p, x->health_sum);
    pg_p_i64(p, x->red);
    pg_p_i64(p, x->yellow);
    pg_p_i64(p, x->green);
    pg_p_i64(p, x->active_users);
    pg_p_i64(p, x->logins_7d);
    pg_p_i64(p, x->feature_events_7d);
    pg_p_i64(p, x->nps_accounts);
    pg_p_f64(p, x->nps_sum);
    pg_p_i64(p, x->tickets_30d);
    pg_p_i64(p, x->tickets_open);
    pg_p_i64(p, x->open_ctas);
}

static void read_row(const PGresult *r, int i, struct store_segment_row *o) {
    struct seg_sums *x = &o->s;
    o->kind = (int)pg_i64(r, i, 0);
    o->name = pg_text(r, i, 1);
    o->day = (int32_t)pg_i64(r, i, 2);
    x->accounts = pg_i64(r, i, 3);
    x->arr_accounts = pg_i64(r, i, 4);
    x->arr = pg_f64(r, i, 5);
    x->scored = pg_i64(r, i, 6);
    x->health_sum = pg_f64(r, i, 7);
    x->red = pg_i64(r, i, 8);
    x->yellow = pg_i64(r, i, 9);
    x->green = pg_i64(r, i, 10);
    x->active_users = pg_i64(r, i, 11);
    x->logins_7d = pg_i64(r, i, 12);
    x->feature_events_7d = pg_i64(r, i, 13);
    x->nps_accounts = pg_i64(r, i, 14);
    x->nps_sum = pg_f64(r, i, 15);
    x->tickets_30d = pg_i64(r, i, 16);
    x->tickets_open = pg_i64(r, i, 17);
    x->open_ctas = pg_i64(r, i, 18);
}

enum tend_err pg_segment_days_put(struct store *base, int32_t day,
                                  const struct store_segment_row *rows, size_t n) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, day);
    enum tend_err err = pg_run(s, q_days_clear, &p, "replacing a day's segments");
    for (size_t i = 0; !err && i < n; i++) {
        struct pg_params q = {0};
        params_row(&q, &rows[i], day);
        err = pg_run(s, q_days_put, &q, "storing a segment's day");
    }
    return err;
}

enum tend_err pg_segment_part_put(struct store *base, int64_t due_ms, int part,
                                  const struct store_segment_row *rows, size_t n) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, due_ms);
    pg_p_int(&p, part);
    enum tend_err err = pg_run(s, q_part_clear, &p, "replacing a run's part of segments");
    for (size_t i = 0; !err && i < n; i++) {
        struct pg_params q = {0};
        params_row(&q, &rows[i], part);
        pg_p_i64(&q, due_ms);
        err = pg_run(s, q_part_put, &q, "storing a run's part of segments");
    }
    return err;
}

enum tend_err pg_segment_parts_take(struct store *base, int64_t due_ms, bool forget,
                                    void (*fn)(void *arg, const struct store_segment_row *r),
                                    void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, due_ms);
    PGresult *r;
    enum tend_err err = pg_query(s, q_parts_each, &p, "reading a run's parts of segments", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_segment_row row;
        read_row(r, i, &row);
        fn(arg, &row);
    }
    PQclear(r);
    if (!forget)
        return TEND_OK;
    struct pg_params q = {0};
    pg_p_i64(&q, due_ms);
    return pg_run(s, q_parts_forget, &q, "forgetting a run's parts of segments");
}

enum tend_err pg_segment_days_each(struct store *base, int kind, const char *name, int32_t from,
                                   int32_t to,
                                   int (*fn)(void *arg, const struct store_segment_row *r),
                                   void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, kind);
    pg_p_text(&p, name);
    pg_p_int(&p, from);
    pg_p_int(&p, to);
    PGresult *r;
    enum tend_err err = pg_query(s, q_days_each, &p, "reading segments", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_segment_row row;
        read_row(r, i, &row);
        if (fn(arg, &row))
            break;
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_segment_latest_day(struct store *base, int32_t at, int32_t *day, bool *found) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, at);
    PGresult *r;
    enum tend_err err = pg_query(s, q_latest_day, &p, "reading the latest segments", &r);
    if (err)
        return err;
    *found = PQntuples(r) > 0 && !pg_null(r, 0, 0);
    if (*found)
        *day = (int32_t)pg_i64(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}
