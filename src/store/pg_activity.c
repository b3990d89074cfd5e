/* pg_activity.c: daily activity rollups, their windows and the login days,
 * in the PostgreSQL backend (pg_int.h); the contracts are store.h's, the
 * reference is sqlite_activity.c, whose rows these are, value for value.
 *
 * A day's rollup is one INSERT ... SELECT ... GROUP BY account_id over the
 * day's events, with the distinct users and feature names as ascending,
 * comma-separated id lists (array_agg(DISTINCT ... ORDER BY ...)), so
 * nothing of the events crosses the network; SQLite builds the same rows in
 * C. A day is the events' ts_ms / 86400000 (truncated, as SQLite's integer
 * division), read through a ts_ms range so that the BRIN index and the
 * monthly partitions keep it to the day's pages.
 *
 * Several nodes: a refresh takes its stale days with DELETE ... WHERE day IN
 * (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING day before it reads their
 * events, so two refreshes never rebuild the same day, and an event whose
 * stale mark waits on the deleted row marks the day stale again once the
 * refresh commits. That holds when the mark takes the row's lock (pg_events.c:
 * INSERT ... ON CONFLICT (day) DO UPDATE): a mark that DOes NOTHING on a
 * row about to be deleted would be lost with the event it marks.
 *
 * Reads: the large ones (activity_each over the events, activity_days_each,
 * activity_windows_each) stream (pg_stream): their callers (eval/eval.c)
 * only count into memory. Order: activity_days_each by day then account
 * (sliders need each account's days in order), activity_windows_each by
 * account, as SQLite's indexes give them; activity_each in no order (SQLite's
 * is its index's; store.h promises none and metrics_add_activity counts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "store/codes.h"
#include "store/pg_batch.h"
#include "store/pg_int.h"
#include "util/datetime.h"
#include "util/mem.h"

#define PG_DAY_MS "86400000"

static const char q_login_day_add[] = "INSERT INTO login_days (account_id, day) "
                                      "VALUES ($1::bigint, $2::integer) ON CONFLICT DO NOTHING";
static const char q_login_day_last[] =
    "SELECT max(day) FROM login_days WHERE account_id = $1::bigint AND day <= $2::integer";

#define ACTIVITY_COLS "SELECT account_id, kind, ts_ms, user_id, name_id FROM events "
static const char q_activity[] = ACTIVITY_COLS
    "WHERE account_id BETWEEN $1::bigint AND $2::bigint AND account_id <> 0 "
    "AND kind IN " SQL_EV_ACTIVITY_KINDS " AND ts_ms >= $3::bigint AND ts_ms < $4::bigint";
static const char q_activity_ids[] = ACTIVITY_COLS
    "WHERE account_id = ANY ($1::bigint[]) AND account_id <> 0 "
    "AND kind IN " SQL_EV_ACTIVITY_KINDS " AND ts_ms >= $2::bigint AND ts_ms < $3::bigint";

/* The events of day D (column C: their ts_ms) as SQLite counts days (ts_ms /
 * 86400000, truncated towards zero: day 0 holds a day on each side of the
 * epoch, a day before it ends on its midnight), through the range of ts_ms
 * that is exactly that day, so that the BRIN index and the partitions keep
 * the scan to it. */
#define EVENTS_OF_DAY(C, D)                                                                        \
    C " >= CASE WHEN " D " > 0 THEN " D " * " PG_DAY_MS " ELSE (" D " - 1) * " PG_DAY_MS           \
      " + 1 END AND " C " < CASE WHEN " D " >= 0 THEN (" D " + 1) * " PG_DAY_MS " ELSE " D         \
      " * " PG_DAY_MS " + 1 END AND " C " / " PG_DAY_MS " = " D

/* Takes up to $1 stale days, skipping those another refresh holds. */
static const char q_stale_take[] =
    "DELETE FROM activity_stale WHERE day IN (SELECT day FROM activity_stale "
    "ORDER BY day LIMIT $1::integer FOR UPDATE SKIP LOCKED) RETURNING day";
static const char q_rollup_clear[] = "DELETE FROM activity_days WHERE day = $1::integer";
/* One day's rollups; a login without a user counts as user 0. */
static const char q_rollup_build[] =
    "INSERT INTO activity_days (account_id, day, logins, features, users, names) "
    "SELECT account_id, $1::integer, count(*) FILTER (WHERE kind = " SQL_EV_LOGIN "), "
    "count(*) FILTER (WHERE kind = " SQL_EV_FEATURE "), "
    "array_to_string(array_agg(DISTINCT coalesce(user_id, 0) ORDER BY coalesce(user_id, 0)) "
    "FILTER (WHERE kind = " SQL_EV_LOGIN "), ','), "
    "array_to_string(array_agg(DISTINCT coalesce(name_id, 0) ORDER BY coalesce(name_id, 0)) "
    "FILTER (WHERE kind = " SQL_EV_FEATURE "), ',') "
    "FROM events WHERE account_id <> 0 AND kind IN " SQL_EV_ACTIVITY_KINDS
    " AND " EVENTS_OF_DAY("ts_ms", "$1::bigint") " GROUP BY account_id";
/* Goals met on day $1 (sqlite_activity.c, meet_goals): a goal set before the
 * day ends whose feature the account used that day is met at the later of
 * the day's start and the goal's own time, unless it was met no later. */
static const char q_goals_meet[] =
    "UPDATE facts f SET settled_ms = greatest($1::bigint * " PG_DAY_MS ", f.ts_ms) "
    "FROM names n WHERE f.kind = " SQL_EV_GOAL_SET " AND n.name = f.detail "
    "AND f.ts_ms < ($1::bigint + 1) * " PG_DAY_MS " "
    "AND greatest($1::bigint * " PG_DAY_MS ", f.ts_ms) < "
    "coalesce(f.settled_ms, 9223372036854775807) "
    "AND EXISTS (SELECT 1 FROM events e WHERE e.account_id = f.account_id "
    "AND e.kind = " SQL_EV_FEATURE
    " AND e.name_id = n.id AND " EVENTS_OF_DAY("e.ts_ms", "$1::bigint") ")";
static const char q_counted_undo[] = "UPDATE activity_counted SET done = false "
                                     "WHERE day BETWEEN $1::integer AND $1::integer + 34";
static const char q_counted_reset[] = "INSERT INTO activity_counted (day, done) "
                                      "VALUES ($1::integer, false) "
                                      "ON CONFLICT (day) DO UPDATE SET done = false";
static const char q_stale_range[] = "SELECT day FROM activity_stale "
                                    "WHERE day BETWEEN $1::integer AND $2::integer ORDER BY day";

#define ROLLUP_COLS "SELECT account_id, day, logins, features, users, names FROM activity_days "
static const char q_rollup[] =
    ROLLUP_COLS "WHERE day BETWEEN $1::integer AND $2::integer "
                "AND account_id BETWEEN $3::bigint AND $4::bigint ORDER BY day, account_id";
static const char q_rollup_ids[] = ROLLUP_COLS "WHERE day BETWEEN $1::integer AND $2::integer "
                                               "AND account_id = ANY ($3::bigint[]) "
                                               "ORDER BY day, account_id";

static const char q_counted_pending[] =
    "SELECT day FROM activity_counted WHERE NOT done ORDER BY day";
static const char q_counted_get[] = "SELECT done FROM activity_counted WHERE day = $1::integer";
static const char q_counted_done[] =
    "UPDATE activity_counted SET done = true WHERE day = $1::integer";
static const char q_window_put[] =
    "INSERT INTO activity_windows (account_id, day, logins_7d, logins_28d, features_7d, "
    "features_28d, users_30d, names_30d, last_login) VALUES ($1::bigint, $2::integer, "
    "$3::integer, $4::integer, $5::integer, $6::integer, $7::integer, $8::integer, $9::integer) "
    "ON CONFLICT (account_id, day) DO UPDATE SET logins_7d = excluded.logins_7d, "
    "logins_28d = excluded.logins_28d, features_7d = excluded.features_7d, "
    "features_28d = excluded.features_28d, users_30d = excluded.users_30d, "
    "names_30d = excluded.names_30d, last_login = excluded.last_login";
/* A batch of deferred windows (pg_batch.h): the later of two for one account
 * and day wins. */
static const char q_windows_put_many[] =
    "INSERT INTO activity_windows (account_id, day, logins_7d, logins_28d, features_7d, "
    "features_28d, users_30d, names_30d, last_login) "
    "SELECT DISTINCT ON (a, d) a, d, l7, l28, f7, f28, u30, n30, ll FROM unnest($1::bigint[], "
    "$2::integer[], $3::integer[], $4::integer[], $5::integer[], $6::integer[], $7::integer[], "
    "$8::integer[], $9::integer[]) WITH ORDINALITY AS u (a, d, l7, l28, f7, f28, u30, n30, ll, n) "
    "ORDER BY a, d, n DESC "
    "ON CONFLICT (account_id, day) DO UPDATE SET logins_7d = excluded.logins_7d, "
    "logins_28d = excluded.logins_28d, features_7d = excluded.features_7d, "
    "features_28d = excluded.features_28d, users_30d = excluded.users_30d, "
    "names_30d = excluded.names_30d, last_login = excluded.last_login";
#define WINDOW_COLS                                                                                \
    "SELECT account_id, logins_7d, logins_28d, features_7d, features_28d, users_30d, names_30d, "  \
    "last_login FROM activity_windows "
static const char q_windows[] = WINDOW_COLS "WHERE day = $1::integer "
                                            "AND account_id BETWEEN $2::bigint AND $3::bigint "
                                            "ORDER BY account_id";
static const char q_windows_ids[] = WINDOW_COLS "WHERE day = $1::integer "
                                                "AND account_id = ANY ($2::bigint[]) "
                                                "ORDER BY account_id";

/* Appends the span's parameters: first and last, or the ids as one array. */
static void p_span(struct pg_params *p, const struct store_span *sp) {
    if (sp->ids) {
        pg_p_ids(p, sp->ids, sp->n);
    } else {
        pg_p_i64(p, sp->first);
        pg_p_i64(p, sp->last);
    }
}

enum tend_err pg_login_day_add(struct store *base, int64_t account_id, int32_t day) {
    struct pg_store *s = pg_of(base);
    if (s->in_tx && !s->flushing)
        return pg_events_login_day(s, account_id, day); /* a statement per 2,000 */
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_int(&p, day);
    return pg_run_later(pg_of(base), q_login_day_add, &p, "recording a login day");
}

enum tend_err pg_login_day_last(struct store *base, int64_t account_id, int32_t max_day,
                                int32_t *day, bool *found) {
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_int(&p, max_day);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_login_day_last, &p, "reading login days", &r);
    if (err)
        return err;
    *found = PQntuples(r) == 1 && !pg_null(r, 0, 0);
    if (*found)
        *day = (int32_t)pg_i64(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}

struct activity_scan {
    void (*fn)(void *arg, const struct store_activity *a);
    void *arg;
};

static void on_activity_row(void *arg, PGresult *r, int i) {
    struct activity_scan *x = arg;
    struct store_activity a = {
        .account_id = pg_i64(r, i, 0),
        .kind = (int)pg_i64(r, i, 1),
        .ts_ms = pg_i64(r, i, 2),
        .user_id = pg_i64(r, i, 3),
        .name_id = pg_i64(r, i, 4),
    };
    x->fn(x->arg, &a);
}

enum tend_err pg_activity_each(struct store *base, const struct store_span *sp, int64_t from_ms,
                               int64_t to_ms, void (*fn)(void *arg, const struct store_activity *a),
                               void *arg) {
    struct pg_params p = {0};
    p_span(&p, sp);
    pg_p_i64(&p, from_ms);
    pg_p_i64(&p, to_ms);
    struct activity_scan x = {fn, arg};
    return pg_stream(pg_of(base), sp->ids ? q_activity_ids : q_activity, &p, "reading activity",
                     on_activity_row, &x);
}

static int cmp_day(const void *x, const void *y) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* Rebuilds day's rollups (taken from activity_stale by the caller), marks the
 * goals its feature events meet, and sets its windows and the 34 days' after
 * it to be done again. */
/* Each user's logins of day $1 (user_login_days, migration 20). A day's
 * events only ever grow, so its rows are replaced, never deleted. */
static const char q_user_logins_build[] =
    "INSERT INTO user_login_days (account_id, user_id, day, logins) "
    "SELECT account_id, user_id, $1::integer, count(*) FROM events "
    "WHERE account_id <> 0 AND kind = " SQL_EV_LOGIN " AND user_id IS NOT NULL AND " EVENTS_OF_DAY(
        "ts_ms", "$1::bigint") " GROUP BY account_id, user_id "
                               "ON CONFLICT (account_id, user_id, day) DO UPDATE SET logins = "
                               "excluded.logins";

static enum tend_err refresh_day(struct pg_store *s, int32_t day) {
    static const char *const steps[] = {q_rollup_clear, q_rollup_build,      q_goals_meet,
                                        q_counted_undo, q_user_logins_build, q_counted_reset};
    enum tend_err err = TEND_OK;
    for (size_t i = 0; !err && i < sizeof steps / sizeof steps[0]; i++) {
        struct pg_params p = {0};
        pg_p_int(&p, day);
        err = pg_run(s, steps[i], &p, "rebuilding activity rollups");
    }
    return err;
}

enum tend_err pg_activity_refresh(struct store *base, int max_days, int *done) {
    struct pg_store *s = pg_of(base);
    *done = 0;
    if (max_days <= 0)
        return TEND_OK;
    struct pg_params p = {0};
    pg_p_int(&p, max_days);
    PGresult *r;
    enum tend_err err = pg_query(s, q_stale_take, &p, "listing stale days", &r);
    if (err)
        return err;
    int n = PQntuples(r);
    int32_t *days = xmalloc((size_t)(n ? n : 1) * sizeof *days);
    for (int i = 0; i < n; i++)
        days[i] = (int32_t)pg_i64(r, i, 0);
    PQclear(r);
    qsort(days, (size_t)n, sizeof *days, cmp_day); /* oldest first: goals are met earliest */
    for (int i = 0; !err && i < n; i++)
        err = refresh_day(s, days[i]);
    free(days);
    if (!err)
        *done = n;
    return err;
}

struct day_scan {
    void (*fn)(void *arg, int32_t day);
    void *arg;
};

static void on_day_row(void *arg, PGresult *r, int i) {
    struct day_scan *x = arg;
    x->fn(x->arg, (int32_t)pg_i64(r, i, 0));
}

/* Calls fn for each day of q's rows (a whole result: small). */
static enum tend_err each_day(struct pg_store *s, const char *q, struct pg_params *p,
                              const char *what, void (*fn)(void *arg, int32_t day), void *arg) {
    PGresult *r;
    enum tend_err err = pg_query(s, q, p, what, &r);
    if (err)
        return err;
    struct day_scan x = {fn, arg};
    for (int i = 0; i < PQntuples(r); i++)
        on_day_row(&x, r, i);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_activity_stale_each(struct store *base, int32_t from, int32_t to,
                                     void (*fn)(void *arg, int32_t day), void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, from);
    pg_p_int(&p, to);
    return each_day(pg_of(base), q_stale_range, &p, "reading stale days", fn, arg);
}

/* A streamed scan of rollups, with the buffer their id lists are parsed
 * into. */
struct rollup_scan {
    void (*fn)(void *arg, const struct store_activity_day *d);
    void *arg;
    int64_t *ids;
    size_t cap;
};

/* Parses a comma-separated id list into x->ids from index at; returns how
 * many. */
static size_t parse_ids(struct rollup_scan *x, const char *text, size_t at) {
    size_t n = 0;
    for (const char *p = text; p && *p;) {
        int64_t id = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9')
            id = id * 10 + (*p++ - '0');
        if (p == start)
            break; /* not a list of ours */
        if (at + n == x->cap) {
            x->cap = x->cap ? x->cap * 2 : 256;
            x->ids = xrealloc(x->ids, x->cap * sizeof *x->ids);
        }
        x->ids[at + n++] = id;
        p += *p == ',';
    }
    return n;
}

static void on_rollup_row(void *arg, PGresult *r, int i) {
    struct rollup_scan *x = arg;
    size_t n_users = parse_ids(x, pg_text(r, i, 4), 0);
    size_t n_names = parse_ids(x, pg_text(r, i, 5), n_users);
    struct store_activity_day d = {
        .account_id = pg_i64(r, i, 0),
        .day =
            {
                .day = (int32_t)pg_i64(r, i, 1),
                .logins = pg_i64(r, i, 2),
                .features = pg_i64(r, i, 3),
                .users = x->ids,
                .n_users = n_users,
                .names = x->ids + n_users,
                .n_names = n_names,
            },
    };
    x->fn(x->arg, &d);
}

enum tend_err pg_activity_days_each(struct store *base, const struct store_span *sp, int32_t from,
                                    int32_t to,
                                    void (*fn)(void *arg, const struct store_activity_day *d),
                                    void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, from);
    pg_p_int(&p, to);
    p_span(&p, sp);
    struct rollup_scan x = {.fn = fn, .arg = arg};
    enum tend_err err = pg_stream(pg_of(base), sp->ids ? q_rollup_ids : q_rollup, &p,
                                  "reading activity rollups", on_rollup_row, &x);
    free(x.ids);
    return err;
}

enum tend_err pg_activity_windows_pending(struct store *base, void (*fn)(void *arg, int32_t day),
                                          void *arg) {
    return each_day(pg_of(base), q_counted_pending, NULL, "listing activity windows to do", fn,
                    arg);
}

enum tend_err pg_windows_flush(struct pg_store *s, struct pg_batch *b) {
    return pg_batch_write(s, b, q_windows_put_many, "storing activity windows");
}

/* Inside a transaction the window waits in the connection's batch
 * (pg_batch.h); outside one it is written at once. */
enum tend_err pg_activity_window_put(struct store *base, int32_t day, int64_t account_id,
                                     const struct metrics_window *w) {
    struct pg_store *s = pg_of(base);
    if (pg_deferred_may_wait(s)) {
        struct pg_batch *b = &pg_deferred_of(s)->windows;
        const int64_t v[] = {
            account_id,           day,          w->logins_7d,   w->logins_prev_28d, w->features_7d,
            w->features_prev_28d, w->users_30d, w->features_30d};
        for (int i = 0; i < 8; i++)
            pg_batch_i64(b, i, v[i]);
        if (w->has_last_login)
            pg_batch_i64(b, 8, w->last_login_day);
        else
            pg_batch_null(b, 8);
        pg_batch_row_end(b);
        return b->rows >= PG_BATCH_ROWS ? pg_deferred_flush(s) : TEND_OK;
    }
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_int(&p, day);
    pg_p_i64(&p, w->logins_7d);
    pg_p_i64(&p, w->logins_prev_28d);
    pg_p_i64(&p, w->features_7d);
    pg_p_i64(&p, w->features_prev_28d);
    pg_p_i64(&p, w->users_30d);
    pg_p_i64(&p, w->features_30d);
    if (w->has_last_login)
        pg_p_int(&p, w->last_login_day);
    else
        pg_p_null(&p);
    return pg_run(s, q_window_put, &p, "storing activity windows");
}

struct window_scan {
    void (*fn)(void *arg, int64_t account_id, const struct metrics_window *w);
    void *arg;
};

static void on_window_row(void *arg, PGresult *r, int i) {
    struct window_scan *x = arg;
    struct metrics_window w = {
        .logins_7d = pg_i64(r, i, 1),
        .logins_prev_28d = pg_i64(r, i, 2),
        .features_7d = pg_i64(r, i, 3),
        .features_prev_28d = pg_i64(r, i, 4),
        .users_30d = pg_i64(r, i, 5),
        .features_30d = pg_i64(r, i, 6),
        .has_last_login = !pg_null(r, i, 7),
        .last_login_day = (int32_t)pg_i64(r, i, 7),
    };
    x->fn(x->arg, pg_i64(r, i, 0), &w);
}

enum tend_err pg_activity_windows_each(struct store *base, const struct store_span *sp, int32_t day,
                                       void (*fn)(void *arg, int64_t account_id,
                                                  const struct metrics_window *w),
                                       void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    p_span(&p, sp);
    struct window_scan x = {fn, arg};
    return pg_stream(pg_of(base), sp->ids ? q_windows_ids : q_windows, &p,
                     "reading activity windows", on_window_row, &x);
}

enum tend_err pg_activity_windows_done(struct store *base, int32_t day) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    return pg_run(pg_of(base), q_counted_done, &p, "storing activity windows");
}

enum tend_err pg_activity_windows_ready(struct store *base, int32_t day, bool *done) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_counted_get, &p, "reading counted days", &r);
    if (err)
        return err;
    *done = PQntuples(r) == 1 && pg_bool(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}

/* ---- users' login days (migration 20) ------------------------------------------------ */

static const char q_user_logins[] =
    "SELECT day, logins FROM user_login_days WHERE account_id = $1::bigint AND user_id = "
    "$2::bigint AND day BETWEEN $3::integer AND $4::integer ORDER BY day";

enum tend_err pg_user_logins_each(struct store *base, int64_t account_id, int64_t user_id,
                                  int32_t first_day, int32_t last_day,
                                  void (*fn)(void *arg, int32_t day, int64_t logins), void *arg) {
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_i64(&p, user_id);
    pg_p_int(&p, first_day);
    pg_p_int(&p, last_day);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_user_logins, &p, "reading a user's login days", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, (int32_t)pg_i64(r, i, 0), pg_i64(r, i, 1));
    PQclear(r);
    return TEND_OK;
}
