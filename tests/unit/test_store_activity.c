/* test_store_activity.c: the contracts of the store's activity, score, model,
 * risk and report operations (store.h), on the backend test_db.h opens: SQLite
 * here, PostgreSQL under tests/integration/store_pg.sh, with the same
 * expected values, so that both backends give the same rows.
 *
 * The rollup tests write their events with store_event_put; a PostgreSQL
 * check writes the same events with SQL of its own (events and their stale
 * days as pg_events.c stores them), so that the rollups are checked on
 * PostgreSQL without the events' operations, and checks what only several
 * connections on one server can show (two refreshes, two adoptions at once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include "core/metrics.h"
#include "core/vocab.h"
#include "eval/eval.h"
#include "store/store.h"
#include "test_db.h"
#include "util/datetime.h"

#define DAY_MS INT64_C(86400000)
#define D0     20000 /* the first day of the test's activity */

/* ---- a store of the test's own ------------------------------------------------ */

struct fixture {
    char dir[64];
    char path[300];
    struct store *s;
};

static void open_store(struct fixture *fx) {
    snprintf(fx->dir, sizeof fx->dir, "/tmp/tend-test-act.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/t.db", fx->dir);
    char err[STORE_ERR_BYTES];
    assert_int_equal(test_db_open(fx->path, &fx->s, err), TEND_OK);
}

static struct store *open_again(struct fixture *fx) {
    struct store *s;
    char err[STORE_ERR_BYTES];
    assert_int_equal(test_db_open(fx->path, &s, err), TEND_OK);
    return s;
}

static void close_store(struct fixture *fx) {
    store_close(fx->s);
    const char *suffix[] = {"", "-wal", "-shm"};
    char path[320];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", fx->path, suffix[i]);
        unlink(path);
    }
    rmdir(fx->dir);
}

static bool on_pg(void) {
    return test_db_pg_url() != NULL;
}

/* A connection of the test's own to fx's PostgreSQL schema. */
static PGconn *pg_connect_raw(struct fixture *fx) {
    char url[1024];
    assert_int_equal(test_db_pg_schema(fx->path, url, sizeof url), 0);
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    return c;
}

static void pg_sql(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* ---- the activity of the rollup tests ------------------------------------------- */

/* One login or feature event (or another kind, which rollups leave out). */
struct act {
    int64_t account_id; /* 0: none */
    int kind;
    int32_t day;
    int64_t ms_in_day;
    int64_t user_id; /* 0: none */
    int64_t name_id; /* 0: none */
};

static const struct act acts[] = {
    {3, EV_LOGIN, D0, 1000, 11, 0},
    {3, EV_LOGIN, D0, 2000, 11, 0},
    {3, EV_LOGIN, D0, 3000, 0, 0}, /* a login without a user: user 0 */
    {3, EV_FEATURE, D0, 4000, 11, 102},
    {3, EV_FEATURE, D0, 5000, 11, 101},
    {3, EV_FEATURE, D0, 6000, 12, 101},
    {3, EV_NPS, D0, 7000, 11, 0}, /* not activity */
    {5, EV_FEATURE, D0, 0, 13, 103},
    {0, EV_LOGIN, D0, 8000, 0, 0}, /* no account: no rollup */
    {3, EV_LOGIN, D0 + 1, 10, 12, 0},
    {9, EV_LOGIN, D0 + 1, DAY_MS - 1, 14, 0},
    {5, EV_LOGIN, D0 + 2, 0, 13, 0},
    {1000000, EV_FEATURE, D0 + 2, 50, 0, 104}, /* a large id, a feature without user */
    /* Days as the store counts them (ts_ms / 86400000, truncated): day 0
     * holds the day before the epoch too; day -1 ends on its midnight. */
    {20, EV_LOGIN, 0, -5000, 21, 0},
    {20, EV_LOGIN, 0, 5000, 22, 0},
    {20, EV_FEATURE, -1, -1, 0, 105},
    {20, EV_FEATURE, -1, 0, 0, 106},
};
#define N_ACTS (sizeof acts / sizeof acts[0])

/* The rollups those events make, in the order activity_days_each gives them
 * (day, then account). */
struct want_day {
    int32_t day;
    int64_t account_id, logins, features;
    int64_t users[4];
    size_t n_users;
    int64_t names[4];
    size_t n_names;
};

static const struct want_day want_days[] = {
    {-1, 20, 0, 2, {0}, 0, {105, 106}, 2},    {0, 20, 2, 0, {21, 22}, 2, {0}, 0},
    {D0, 3, 3, 3, {0, 11}, 2, {101, 102}, 2}, {D0, 5, 0, 1, {0}, 0, {103}, 1},
    {D0 + 1, 3, 1, 0, {12}, 1, {0}, 0},       {D0 + 1, 9, 1, 0, {14}, 1, {0}, 0},
    {D0 + 2, 5, 1, 0, {13}, 1, {0}, 0},       {D0 + 2, 1000000, 0, 1, {0}, 0, {104}, 1},
};
#define N_WANT (sizeof want_days / sizeof want_days[0])

static void put_acts_api(struct store *s) {
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    for (size_t i = 0; i < N_ACTS; i++) {
        const struct act *a = &acts[i];
        struct store_event ev = {
            .key_ts_ms = (int64_t)a->day * DAY_MS + a->ms_in_day,
            .key_hash = 0x9e3779b97f4a7c15ULL * (i + 1),
            .ts_ms = (int64_t)a->day * DAY_MS + a->ms_in_day,
            .kind = a->kind,
            .account_id = a->account_id,
            .user_id = a->user_id,
            .name_id = a->name_id,
        };
        bool inserted = false;
        assert_int_equal(store_event_put(s, &ev, &inserted), TEND_OK);
        assert_true(inserted);
    }
    assert_int_equal(store_commit(s), TEND_OK);
}

/* The same events as PostgreSQL's events table holds them (account 0: none;
 * NULL user and name), with their days listed stale, as ingest leaves them. */
static void put_acts_sql(PGconn *c) {
    for (size_t i = 0; i < N_ACTS; i++) {
        const struct act *a = &acts[i];
        char sql[512], user[24], name[24];
        snprintf(user, sizeof user, a->user_id ? "%lld" : "NULL", (long long)a->user_id);
        snprintf(name, sizeof name, a->name_id ? "%lld" : "NULL", (long long)a->name_id);
        int64_t ts = (int64_t)a->day * DAY_MS + a->ms_in_day;
        snprintf(sql, sizeof sql,
                 "INSERT INTO events (account_id, ts_ms, key_ts_ms, key_hash, kind, user_id, "
                 "name_id) VALUES (%lld, %lld, %lld, %lld, %d, %s, %s)",
                 (long long)a->account_id, (long long)ts, (long long)ts, (long long)i + 1, a->kind,
                 user, name);
        pg_sql(c, sql);
        if (a->account_id && (a->kind == EV_LOGIN || a->kind == EV_FEATURE)) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO activity_stale (day) VALUES (%d) ON CONFLICT DO NOTHING", a->day);
            pg_sql(c, sql);
        }
    }
}

struct got_days {
    struct want_day v[32];
    size_t n;
};

static void on_got_day(void *arg, const struct store_activity_day *d) {
    struct got_days *g = arg;
    assert_true(g->n < 32);
    struct want_day *w = &g->v[g->n++];
    memset(w, 0, sizeof *w);
    w->day = d->day.day;
    w->account_id = d->account_id;
    w->logins = d->day.logins;
    w->features = d->day.features;
    assert_true(d->day.n_users <= 4 && d->day.n_names <= 4);
    w->n_users = d->day.n_users;
    w->n_names = d->day.n_names;
    memcpy(w->users, d->day.users, d->day.n_users * sizeof *w->users);
    memcpy(w->names, d->day.names, d->day.n_names * sizeof *w->names);
}

/* Checks the rollups of days from..to of span against want_days, row for row
 * and in order; only (NULL: every row) selects the expected rows by account. */
static void check_days(struct store *s, const struct store_span *sp, int32_t from, int32_t to) {
    struct got_days g = {0};
    assert_int_equal(store_activity_days_each(s, sp, from, to, on_got_day, &g), TEND_OK);
    size_t k = 0;
    for (size_t i = 0; i < N_WANT; i++) {
        const struct want_day *w = &want_days[i];
        if (w->day < from || w->day > to || w->account_id < sp->first || w->account_id > sp->last)
            continue;
        if (sp->ids) {
            bool listed = false;
            for (size_t j = 0; j < sp->n; j++)
                listed = listed || sp->ids[j] == w->account_id;
            if (!listed)
                continue;
        }
        assert_true(k < g.n);
        const struct want_day *x = &g.v[k++];
        assert_int_equal(x->day, w->day);
        assert_int_equal(x->account_id, w->account_id);
        assert_int_equal(x->logins, w->logins);
        assert_int_equal(x->features, w->features);
        assert_int_equal(x->n_users, w->n_users);
        assert_int_equal(x->n_names, w->n_names);
        for (size_t j = 0; j < w->n_users; j++)
            assert_int_equal(x->users[j], w->users[j]);
        for (size_t j = 0; j < w->n_names; j++)
            assert_int_equal(x->names[j], w->names[j]);
    }
    assert_int_equal(g.n, k);
}

static void on_day_list(void *arg, int32_t day) {
    int32_t *v = arg;
    v[++v[0]] = day;
}

/* The rollups of every day with activity, rebuilt from the events, with
 * their windows then to be done; what a span or a list of ids reads. */
static void check_refresh(struct store *s) {
    int32_t stale[8] = {0};
    assert_int_equal(store_activity_stale_each(s, D0 - 10, D0 + 10, on_day_list, stale), TEND_OK);
    assert_int_equal(stale[0], 3);
    assert_int_equal(stale[1], D0);
    assert_int_equal(stale[3], D0 + 2);
    stale[0] = 0;
    assert_int_equal(store_activity_stale_each(s, -1, 0, on_day_list, stale), TEND_OK);
    assert_int_equal(stale[0], 2);
    /* Oldest first: days -1 and 0 in one call, then two, then the last. */
    int done = -1;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_begin(s, NULL), TEND_OK);
        assert_int_equal(store_activity_refresh(s, 2, &done), TEND_OK);
        assert_int_equal(store_commit(s), TEND_OK);
        assert_int_equal(done, 2);
    }
    stale[0] = 0;
    assert_int_equal(store_activity_stale_each(s, -10, D0 + 10, on_day_list, stale), TEND_OK);
    assert_int_equal(stale[0], 1);
    assert_int_equal(stale[1], D0 + 2);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_activity_refresh(s, 16, &done), TEND_OK);
    assert_int_equal(done, 1);
    assert_int_equal(store_activity_refresh(s, 16, &done), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_int_equal(done, 0);

    struct store_span every = {.first = 1, .last = STORE_LAST_ID};
    check_days(s, &every, -40, D0 + 40);
    check_days(s, &every, D0 + 1, D0 + 1);
    check_days(s, &every, -1, 0);
    struct store_span some = {.first = 4, .last = 9};
    check_days(s, &some, D0, D0 + 2);
    static const int64_t ids[] = {3, 1000000};
    struct store_span listed = {.first = 1, .last = STORE_LAST_ID, .ids = ids, .n = 2};
    check_days(s, &listed, D0, D0 + 2);

    /* Every rebuilt day's windows are to be done; none is ready. */
    int32_t pending[8] = {0};
    assert_int_equal(store_activity_windows_pending(s, on_day_list, pending), TEND_OK);
    assert_int_equal(pending[0], 5);
    assert_int_equal(pending[1], -1);
    assert_int_equal(pending[2], 0);
    assert_int_equal(pending[3], D0);
    assert_int_equal(pending[4], D0 + 1);
    assert_int_equal(pending[5], D0 + 2);
    bool ready = true;
    assert_int_equal(store_activity_windows_ready(s, D0 + 2, &ready), TEND_OK);
    assert_false(ready);
}

/* ---- activity_each ---------------------------------------------------------------- */

struct got_acts {
    struct store_activity v[32];
    size_t n;
};

static void on_got_act(void *arg, const struct store_activity *a) {
    struct got_acts *g = arg;
    assert_true(g->n < 32);
    g->v[g->n++] = *a;
}

static int cmp_act(const void *x, const void *y) {
    const struct store_activity *a = x, *b = y;
    if (a->ts_ms != b->ts_ms)
        return a->ts_ms < b->ts_ms ? -1 : 1;
    return (a->account_id > b->account_id) - (a->account_id < b->account_id);
}

/* activity_each gives the login and feature events of the span in [from,
 * to): every one, once (in no promised order). */
static void check_activity_each(struct store *s, const struct store_span *sp, int64_t from,
                                int64_t to) {
    struct got_acts g = {0}, want = {0};
    assert_int_equal(store_activity_each(s, sp, from, to, on_got_act, &g), TEND_OK);
    for (size_t i = 0; i < N_ACTS; i++) {
        const struct act *a = &acts[i];
        int64_t ts = (int64_t)a->day * DAY_MS + a->ms_in_day;
        if (!a->account_id || (a->kind != EV_LOGIN && a->kind != EV_FEATURE) || ts < from ||
            ts >= to || a->account_id < sp->first || a->account_id > sp->last)
            continue;
        if (sp->ids) {
            bool listed = false;
            for (size_t j = 0; j < sp->n; j++)
                listed = listed || sp->ids[j] == a->account_id;
            if (!listed)
                continue;
        }
        want.v[want.n++] =
            (struct store_activity){a->account_id, a->kind, ts, a->user_id, a->name_id};
    }
    qsort(g.v, g.n, sizeof g.v[0], cmp_act);
    qsort(want.v, want.n, sizeof want.v[0], cmp_act);
    assert_int_equal(g.n, want.n);
    for (size_t k = 0; k < g.n; k++) {
        assert_int_equal(g.v[k].ts_ms, want.v[k].ts_ms);
        assert_int_equal(g.v[k].account_id, want.v[k].account_id);
        assert_int_equal(g.v[k].kind, want.v[k].kind);
        assert_int_equal(g.v[k].user_id, want.v[k].user_id);
        assert_int_equal(g.v[k].name_id, want.v[k].name_id);
    }
}

static void check_activity(struct store *s) {
    struct store_span every = {.first = 1, .last = STORE_LAST_ID};
    check_activity_each(s, &every, (int64_t)D0 * DAY_MS, (int64_t)(D0 + 3) * DAY_MS);
    /* The edges: from inclusive, to exclusive. */
    check_activity_each(s, &every, (int64_t)D0 * DAY_MS + 2000, (int64_t)(D0 + 1) * DAY_MS + 10);
    struct store_span some = {.first = 5, .last = 9};
    check_activity_each(s, &some, (int64_t)D0 * DAY_MS, (int64_t)(D0 + 3) * DAY_MS);
    check_activity_each(s, &every, -2 * DAY_MS, DAY_MS);
    check_activity_each(s, &every, -DAY_MS, 0);
    static const int64_t ids[] = {3, 9};
    struct store_span listed = {.first = 1, .last = STORE_LAST_ID, .ids = ids, .n = 2};
    check_activity_each(s, &listed, (int64_t)D0 * DAY_MS, (int64_t)(D0 + 2) * DAY_MS);
}

/* Rollups rebuilt from events written through the store, on either backend:
 * the same rows, lists and order (PostgreSQL: once pg_events.c stores events). */
static void rollups_are_rebuilt_from_the_events(void **state) {
    (void)state;
    struct fixture fx;
    open_store(&fx);
    put_acts_api(fx.s);
    check_activity(fx.s);
    check_refresh(fx.s);
    int32_t day = 0;
    bool found = false;
    assert_int_equal(store_last_event_day(fx.s, &day, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(day, D0 + 2);
    close_store(&fx);
}

/* The same rollups on PostgreSQL from events written as pg_events.c stores
 * them, without the events' operations. */
static void pg_rollups_are_rebuilt_from_the_events(void **state) {
    (void)state;
    if (!on_pg())
        skip();
    struct fixture fx;
    open_store(&fx);
    PGconn *c = pg_connect_raw(&fx);
    put_acts_sql(c);
    /* Goals of feature 101 (used by account 3 on D0 at 5000 and 6000 ms):
     * one set that day at 500 ms, met then (not before its own time); one
     * set the next day, not met by D0's use; one already met earlier, kept;
     * one of account 5, which never used it. */
    pg_sql(c, "INSERT INTO names (id, name) OVERRIDING SYSTEM VALUE VALUES (101, 'export')");
    pg_sql(c, "INSERT INTO facts (account_id, until_ms, kind, ts_ms, key_ts_ms, key_hash, "
              "detail, settled_ms) VALUES "
              "(3, 9223372036854775807, 11, 20000 * 86400000::bigint + 500, 1, 1, 'export', NULL),"
              "(3, 9223372036854775807, 11, 20001 * 86400000::bigint, 1, 2, 'export', NULL),"
              "(3, 9223372036854775807, 11, 19990 * 86400000::bigint, 1, 3, 'export', 7),"
              "(5, 9223372036854775807, 11, 19990 * 86400000::bigint, 1, 4, 'export', NULL)");
    check_activity(fx.s);
    check_refresh(fx.s);
    PGresult *r = PQexec(c, "SELECT coalesce(settled_ms, -1) FROM facts ORDER BY key_hash");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 4);
    assert_string_equal(PQgetvalue(r, 0, 0), "1728000000500"); /* 20000 days + 500 ms */
    assert_string_equal(PQgetvalue(r, 1, 0), "-1");
    assert_string_equal(PQgetvalue(r, 2, 0), "7");
    assert_string_equal(PQgetvalue(r, 3, 0), "-1");
    PQclear(r);
    PQfinish(c);
    int32_t day = 0;
    bool found = false;
    assert_int_equal(store_last_event_day(fx.s, &day, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(day, D0 + 2);
    close_store(&fx);
}

/* The windows the evaluation works out from the rollups (eval_refresh_rollups)
 * are stored and read back as a metrics slider makes them from the same
 * days; then the days are done, and a rebuild undoes the day and the 34
 * after it. */
struct got_windows {
    int64_t ids[16];
    struct metrics_window w[16];
    size_t n;
};

static void on_got_window(void *arg, int64_t account_id, const struct metrics_window *w) {
    struct got_windows *g = arg;
    assert_true(g->n < 16);
    g->ids[g->n] = account_id;
    g->w[g->n++] = *w;
}

static void assert_window(const struct metrics_window *a, const struct metrics_window *b) {
    assert_int_equal(a->logins_7d, b->logins_7d);
    assert_int_equal(a->logins_prev_28d, b->logins_prev_28d);
    assert_int_equal(a->features_7d, b->features_7d);
    assert_int_equal(a->features_prev_28d, b->features_prev_28d);
    assert_int_equal(a->users_30d, b->users_30d);
    assert_int_equal(a->features_30d, b->features_30d);
    assert_int_equal(a->has_last_login, b->has_last_login);
    if (a->has_last_login)
        assert_int_equal(a->last_login_day, b->last_login_day);
}

static void check_windows(struct store *s) {
    int refreshed = 0;
    assert_int_equal(eval_refresh_rollups(s, &refreshed), TEND_OK);
    int32_t pending[8] = {0};
    assert_int_equal(store_activity_windows_pending(s, on_day_list, pending), TEND_OK);
    assert_int_equal(pending[0], 0);
    bool ready = false;
    assert_int_equal(store_activity_windows_ready(s, D0 + 2, &ready), TEND_OK);
    assert_true(ready);
    assert_int_equal(store_activity_windows_ready(s, D0 + 3, &ready), TEND_OK);
    assert_false(ready); /* no rollups that day: never counted */

    /* What a slider makes of the expected days, account by account. */
    struct got_windows g = {0};
    struct store_span every = {.first = 1, .last = STORE_LAST_ID};
    assert_int_equal(store_activity_windows_each(s, &every, D0 + 2, on_got_window, &g), TEND_OK);
    static const int64_t accounts[] = {3, 5, 9, 1000000};
    assert_int_equal(g.n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(g.ids[i], accounts[i]);
        struct metrics_slider *sl = metrics_slider_new();
        for (size_t k = 0; k < N_WANT; k++) {
            const struct want_day *w = &want_days[k];
            if (w->account_id != accounts[i])
                continue;
            struct metrics_day d = {w->day,     w->logins, w->features, w->users,
                                    w->n_users, w->names,  w->n_names};
            metrics_slider_add(sl, &d);
        }
        struct metrics_window want;
        assert_true(metrics_slider_window(sl, D0 + 2, &want));
        metrics_slider_free(sl);
        assert_window(&g.w[i], &want);
    }
    assert_int_equal(g.w[0].logins_7d, 4);
    assert_true(g.w[0].has_last_login);
    assert_int_equal(g.w[0].last_login_day, D0 + 1);
    assert_false(g.w[3].has_last_login);

    static const int64_t ids[] = {5, 1000000};
    struct store_span listed = {.first = 1, .last = STORE_LAST_ID, .ids = ids, .n = 2};
    struct got_windows l = {0};
    assert_int_equal(store_activity_windows_each(s, &listed, D0 + 2, on_got_window, &l), TEND_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.ids[0], 5);
    assert_window(&l.w[0], &g.w[1]);
    assert_int_equal(l.ids[1], 1000000);
}

static void windows_are_worked_out_from_the_rollups(void **state) {
    (void)state;
    struct fixture fx;
    open_store(&fx);
    put_acts_api(fx.s);
    check_windows(fx.s);
    close_store(&fx);
}

static void pg_windows_are_worked_out_from_the_rollups(void **state) {
    (void)state;
    if (!on_pg())
        skip();
    struct fixture fx;
    open_store(&fx);
    PGconn *c = pg_connect_raw(&fx);
    put_acts_sql(c);
    check_windows(fx.s);
    /* A late event of day D0 - 3 makes it stale; its rebuild undoes the
     * windows of D0 - 3 .. D0 + 31. */
    pg_sql(c, "INSERT INTO events (account_id, ts_ms, key_ts_ms, key_hash, kind, user_id) "
              "VALUES (3, 19997 * 86400000::bigint, 1, 1, 1, 11)");
    pg_sql(c, "INSERT INTO activity_stale (day) VALUES (19997)");
    PQfinish(c);
    int done = 0;
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_activity_refresh(fx.s, 16, &done), TEND_OK);
    assert_int_equal(store_commit(fx.s), TEND_OK);
    assert_int_equal(done, 1);
    int32_t pending[8] = {0};
    assert_int_equal(store_activity_windows_pending(fx.s, on_day_list, pending), TEND_OK);
    assert_int_equal(pending[0], 4);
    assert_int_equal(pending[1], D0 - 3);
    assert_int_equal(pending[4], D0 + 2);
    close_store(&fx);
}

/* A window stored twice keeps the second; NULL last login reads back as
 * none; windows_each reads one day, in account order. */
static void windows_are_replaced_and_read_by_day(void **state) {
    (void)state;
    struct fixture fx;
    open_store(&fx);
    struct metrics_window a = {1, 2, 3, 4, 5, 6, true, D0}, b = {7, 8, 9, 10, 11, 12, false, 0};
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_activity_window_put(fx.s, D0, 8, &a), TEND_OK);
    assert_int_equal(store_activity_window_put(fx.s, D0, 2, &a), TEND_OK);
    assert_int_equal(store_activity_window_put(fx.s, D0, 8, &b), TEND_OK);
    assert_int_equal(store_activity_window_put(fx.s, D0 + 1, 4, &a), TEND_OK);
    assert_int_equal(store_commit(fx.s), TEND_OK);
    struct got_windows g = {0};
    struct store_span every = {.first = 1, .last = STORE_LAST_ID};
    assert_int_equal(store_activity_windows_each(fx.s, &every, D0, on_got_window, &g), TEND_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.ids[0], 2);
    assert_window(&g.w[0], &a);
    assert_int_equal(g.ids[1], 8);
    assert_window(&g.w[1], &b);
    close_store(&fx);
}

/* ---- login days ------------------------------------------------------------------- */

static void login_days_give_the_latest_on_or_before(void **state) {
    (void)state;
    struct fixture fx;
    open_store(&fx);
    assert_int_equal(store_login_day_add(fx.s, 7, D0), TEND_OK);
    assert_int_equal(store_login_day_add(fx.s, 7, D0), TEND_OK); /* idempotent */
    assert_int_equal(store_login_day_add(fx.s, 7, D0 + 5), TEND_OK);
    assert_int_equal(store_login_day_add(fx.s, 8, D0 + 9), TEND_OK);
    int32_t day = -1;
    bool found = false;
    assert_int_equal(store_login_day_last(fx.s, 7, D0 + 4, &day, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(day, D0);
    assert_int_equal(store_login_day_last(fx.s, 7, D0 + 5, &day, &found), TEND_OK);
    assert_int_equal(day, D0 + 5);
    assert_int_equal(store_login_day_last(fx.s, 7, D0 - 1, &day, &found), TEND_OK);
    assert_false(found);
    assert_int_equal(store_login_day_last(fx.s, 9, D0 + 100, &day, &found), TEND_OK);
    assert_false(found);
    close_store(&fx);
}

/* ---- scores --------------------------------------------------------------------- */

static struct store_score score_of(int32_t day, double overall, bool has, const char *version) {
    struct store_score sc = {.day = day, .has_overall = has, .overall = overall};
    snprintf(sc.band, sizeof sc.band, "%s", has ? (overall < 40 ? "red" : "green") : "none");
    for (int i = 0; i < STORE_COMPONENTS; i++) {
        sc.has[i] = i != 2;
        sc.components[i] = i != 2 ? overall / (i + 1) : 0;
    }
    snprintf(sc.config_version, sizeof sc.config_version, "%s", version);
    return sc;
}

static void assert_score(const struct store_score *a, const struct store_score *b) {
    assert_int_equal(a->day, b->day);
    assert_int_equal(a->has_overall, b->has_overall);
    if (a->has_overall)
        assert_true(a->overall == b->overall); /* every bit */
    assert_string_equal(a->band, b->band);
    for (int i = 0; i < STORE_COMPONENTS; i++) {
        assert_int_equal(a->has[i], b->has[i]);
        if (a->has[i])
            assert_true(a->components[i] == b->components[i]);
    }
    assert_string_equal(a->config_version, b->config_version);
}

struct got_scores {
    int64_t ids[16];
    bool has[16];
    double overall[16];
    struct store_score sc[16];
    size_t n;
};

static void on_got_score(void *arg, int64_t id, bool has, double overall) {
    struct got_scores *g = arg;
    assert_true(g->n < 16);
    g->ids[g->n] = id;
    g->has[g->n] = has;
    g->overall[g->n++] = overall;
}

static void on_got_history(void *arg, const struct store_score *sc) {
    struct got_scores *g = arg;
    assert_true(g->n < 16);
    g->sc[g->n++] = *sc;
}

static int cmp_got(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* The ids a day's read gave, sorted (store.h promises no order). */
static void got_sorted(struct got_scores *g, int64_t *out) {
    memcpy(out, g->ids, g->n * sizeof *out);
    qsort(out, g->n, sizeof *out, cmp_got);
}

static void scores_are_replaced_and_read_by_day_and_account(void **state) {
    (void)state;
    struct fixture fx;
    open_store(&fx);
    struct store_score a = score_of(D0, 1.0 / 3.0, true, "v1"), b = score_of(D0, 0, false, "v1");
    struct store_score c = score_of(D0 + 1, 77.25, true, "v2");
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_score_put(fx.s, 4, &c), TEND_OK);
    assert_int_equal(store_score_put(fx.s, 4, &a), TEND_OK);
    assert_int_equal(store_score_put(fx.s, 6, &a), TEND_OK);
    assert_int_equal(store_score_put(fx.s, 6, &b), TEND_OK); /* replaces */
    assert_int_equal(store_score_put(fx.s, 2, &c), TEND_OK);
    struct store_score d = score_of(D0 + 5, 12.5, true, "v2");
    assert_int_equal(store_score_put(fx.s, 4, &d), TEND_OK);
    assert_int_equal(store_commit(fx.s), TEND_OK);

    struct store_score got;
    bool found = false;
    assert_int_equal(store_score_get(fx.s, 6, D0, &got, &found), TEND_OK);
    assert_true(found);
    assert_score(&got, &b);
    assert_int_equal(store_score_get(fx.s, 4, D0, &got, &found), TEND_OK);
    assert_score(&got, &a);
    assert_int_equal(store_score_get(fx.s, 4, D0 + 2, &got, &found), TEND_OK);
    assert_false(found);

    struct got_scores h = {0};
    assert_int_equal(store_score_history(fx.s, 4, D0, D0 + 5, on_got_history, &h), TEND_OK);
    assert_int_equal(h.n, 3);
    assert_score(&h.sc[0], &a);
    assert_score(&h.sc[1], &c);
    assert_score(&h.sc[2], &d);
    h.n = 0;
    assert_int_equal(store_score_history(fx.s, 4, D0 + 1, D0 + 4, on_got_history, &h), TEND_OK);
    assert_int_equal(h.n, 1);

    int64_t ids[16];
    struct got_scores g = {0};
    assert_int_equal(store_scores_of_day(fx.s, D0, on_got_score, &g), TEND_OK);
    assert_int_equal(g.n, 2);
    got_sorted(&g, ids);
    assert_int_equal(ids[0], 4);
    assert_int_equal(ids[1], 6);
    for (size_t i = 0; i < g.n; i++)
        assert_int_equal(g.has[i], g.ids[i] == 4);
    g.n = 0;
    assert_int_equal(store_scores_of_day_version(fx.s, D0 + 1, "v2", on_got_score, &g), TEND_OK);
    assert_int_equal(g.n, 2);
    g.n = 0;
    assert_int_equal(store_scores_of_day_version(fx.s, D0 + 1, "v1", on_got_score, &g), TEND_OK);
    assert_int_equal(g.n, 0);

    bool any = false;
    g.n = 0;
    static const int64_t only[] = {2, 3};
    assert_int_equal(store_scores_of_day_ids(fx.s, D0 + 1, "v2", only, 2, &any, on_got_score, &g),
                     TEND_OK);
    assert_true(any);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.ids[0], 2);
    assert_true(g.overall[0] == 77.25);
    g.n = 0;
    assert_int_equal(store_scores_of_day_ids(fx.s, D0 + 1, "v1", only, 2, &any, on_got_score, &g),
                     TEND_OK);
    assert_false(any);
    assert_int_equal(g.n, 0);
    assert_int_equal(store_scores_of_day_ids(fx.s, D0 + 1, "v2", NULL, 0, &any, on_got_score, &g),
                     TEND_OK);
    assert_true(any);
    assert_int_equal(g.n, 0);

    int32_t day = 0;
    assert_int_equal(store_scores_latest_day(fx.s, &day, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(day, D0 + 5);
    close_store(&fx);
}

static void no_scores_no_latest_day(void **state) {
    (void)state;
    struct fixture fx;
    open_store(&fx);
    int32_t day = 0;
    bool found = true;
    assert_int_equal(store_scores_latest_day(fx.s, &day, &found), TEND_OK);
    assert_false(found);
    assert_int_equal(store_last_event_day(fx.s, &day, &found), TEND_OK);
    assert_false(found);
    close_store(&fx);
}

/* ---- models ----------------------------------------------------------------------- */

struct got_models {
    struct store_model m[8];
    char card[8][64];
    size_t n;
};

static void on_got_model(void *arg, const struct store_model *m) {
    struct got_models *g = arg;
    assert_true(g->n < 8);
    g->m[g->n] = *m;
    snprintf(g->card[g->n], sizeof g->card[0], "%s", m->card ? m->card : "(null)");
    g->m[g->n].card = NULL;
    g->n++;
}

static void models_keep_one_adopted_and_their_fields(void **state) {
    (void)state;
    struct fixture fx;
    open_store(&fx);
    struct store_model m = {.fitted_ms = 1000,
                            .horizon_days = 90,
                            .trained_from = D0 - 200,
                            .trained_to = D0 - 90,
                            .data_end = D0,
                            .n_rows = 5000,
                            .n_churns = 40,
                            .auc_holdout = 0.75,
                            .brier_holdout = NAN,
                            .auc_health = 0.5,
                            .card = "{\"a\":[1,2]}"};
    int64_t v1 = 0, v2 = 0, v3 = 0;
    assert_int_equal(store_model_put(fx.s, &m, true, &v1), TEND_OK);
    m.fitted_ms = 2000;
    assert_int_equal(store_model_put(fx.s, &m, false, &v2), TEND_OK);
    assert_int_equal(v1, 1);
    assert_int_equal(v2, 2);
    struct got_models g = {0};
    assert_int_equal(store_model_get(fx.s, 0, on_got_model, &g), TEND_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.m[0].version, 1);
    assert_true(g.m[0].adopted);
    assert_int_equal(g.m[0].adopted_ms, 1000);
    assert_int_equal(g.m[0].data_end, D0);
    assert_int_equal(g.m[0].trained_from, D0 - 200);
    assert_int_equal(g.m[0].n_churns, 40);
    assert_true(g.m[0].auc_holdout == 0.75);
    assert_true(isnan(g.m[0].brier_holdout));
    cJSON *card = cJSON_Parse(g.card[0]), *want = cJSON_Parse(m.card);
    assert_true(cJSON_Compare(card, want, true));
    cJSON_Delete(card);
    cJSON_Delete(want);
    g.n = 0;
    assert_int_equal(store_model_get(fx.s, 2, on_got_model, &g), TEND_OK);
    assert_false(g.m[0].adopted);
    assert_int_equal(g.m[0].adopted_ms, 0);
    assert_int_equal(store_model_get(fx.s, 9, on_got_model, &g), TEND_ERR_NOTFOUND);

    /* Inside a caller's transaction, rolled back with it. */
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    m.fitted_ms = 3000;
    assert_int_equal(store_model_put(fx.s, &m, true, &v3), TEND_OK);
    assert_int_equal(v3, 3);
    store_rollback(fx.s);
    /* Committed with it: the new one adopted, the first not. */
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_model_put(fx.s, &m, true, &v3), TEND_OK);
    assert_int_equal(store_commit(fx.s), TEND_OK);
    assert_int_equal(v3, 3);
    g.n = 0;
    assert_int_equal(store_models_each(fx.s, on_got_model, &g), TEND_OK);
    assert_int_equal(g.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(g.m[i].version, 3 - (int64_t)i); /* newest first */
        assert_string_equal(g.card[i], "(null)");
        assert_int_equal(g.m[i].adopted, i == 0);
    }
    assert_int_equal(g.m[2].adopted_ms, 1000); /* adopted once */

    /* Refused: no card, a card over the cap; nothing stored. */
    m.card = NULL;
    assert_int_equal(store_model_put(fx.s, &m, true, &v3), TEND_ERR_INVALID);
    char *big = malloc(STORE_MODEL_CARD_MAX_BYTES + 2);
    memset(big, ' ', STORE_MODEL_CARD_MAX_BYTES + 1);
    big[STORE_MODEL_CARD_MAX_BYTES + 1] = '\0';
    m.card = big;
    assert_int_equal(store_model_put(fx.s, &m, true, &v3), TEND_ERR_LIMIT);
    free(big);
    g.n = 0;
    assert_int_equal(store_model_get(fx.s, 0, on_got_model, &g), TEND_OK);
    assert_int_equal(g.m[0].version, 3);
    close_store(&fx);
}

/* Two nodes adopting at once: the second waits for the first and un-adopts
 * its model; one adopted model, two versions. */
struct adopter {
    struct store *s;
    int64_t version;
    enum tend_err err;
};

static void *adopt_in_thread(void *arg) {
    struct adopter *a = arg;
    struct store_model m = {.fitted_ms = 5000, .horizon_days = 90, .data_end = D0, .card = "{}"};
    a->err = store_model_put(a->s, &m, true, &a->version);
    return NULL;
}

static void pg_two_nodes_adopting_leave_one_adopted(void **state) {
    (void)state;
    if (!on_pg())
        skip();
    struct fixture fx;
    open_store(&fx);
    struct store *other = open_again(&fx);
    struct store_model m = {.fitted_ms = 4000, .horizon_days = 90, .data_end = D0, .card = "{}"};
    int64_t v = 0;
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_model_put(fx.s, &m, true, &v), TEND_OK);
    struct adopter a = {.s = other};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, adopt_in_thread, &a), 0);
    /* The other node's put waits on our lock until we commit (a short pause
     * only makes the wait likelier; the outcome is the same either way). */
    usleep(200 * 1000);
    assert_int_equal(store_commit(fx.s), TEND_OK);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.err, TEND_OK);
    assert_int_equal(v, 1);
    assert_int_equal(a.version, 2);
    struct got_models g = {0};
    assert_int_equal(store_models_each(fx.s, on_got_model, &g), TEND_OK);
    assert_int_equal(g.n, 2);
    assert_true(g.m[0].adopted);
    assert_false(g.m[1].adopted);
    store_close(other);
    close_store(&fx);
}

/* Two refreshes at once take different stale days (SKIP LOCKED) and
 * together rebuild each once. */
static void pg_two_refreshes_take_different_days(void **state) {
    (void)state;
    if (!on_pg())
        skip();
    struct fixture fx;
    open_store(&fx);
    PGconn *c = pg_connect_raw(&fx);
    put_acts_sql(c);
    PQfinish(c);
    struct store *other = open_again(&fx);
    int a = 0, b = 0;
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_activity_refresh(fx.s, 1, &a), TEND_OK);
    assert_int_equal(store_begin(other, NULL), TEND_OK);
    assert_int_equal(store_activity_refresh(other, 16, &b), TEND_OK);
    assert_int_equal(store_commit(other), TEND_OK);
    assert_int_equal(store_commit(fx.s), TEND_OK);
    assert_int_equal(a, 1);
    assert_int_equal(b, 4);
    struct store_span every = {.first = 1, .last = STORE_LAST_ID};
    check_days(fx.s, &every, -40, D0 + 40);
    int32_t stale[8] = {0};
    assert_int_equal(store_activity_stale_each(fx.s, -10, D0 + 10, on_day_list, stale), TEND_OK);
    assert_int_equal(stale[0], 0);
    store_close(other);
    close_store(&fx);
}

/* An event stored while another node refreshes its day is never lost from
 * the rollups: either the refresh sees it, or its day is stale again after
 * both commit. The node storing it has sent it (a read flushes what is
 * staged) but not committed when the refresh takes the day. */
static void pg_an_event_stored_during_a_refresh_is_not_lost(void **state) {
    (void)state;
    if (!on_pg())
        skip();
    struct fixture fx;
    open_store(&fx);
    put_acts_api(fx.s);
    struct store *node = open_again(&fx);
    assert_int_equal(store_begin(node, NULL), TEND_OK);
    struct store_event ev = {.key_ts_ms = 77,
                             .key_hash = 77,
                             .ts_ms = (int64_t)D0 * DAY_MS + 9000,
                             .kind = EV_LOGIN,
                             .account_id = 9,
                             .user_id = 15};
    bool inserted = false, found = false;
    assert_int_equal(store_event_put(node, &ev, &inserted), TEND_OK);
    int32_t day;
    assert_int_equal(store_login_day_last(node, 9, D0, &day, &found), TEND_OK); /* sends it */
    int done = 0;
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_activity_refresh(fx.s, 16, &done), TEND_OK);
    assert_int_equal(store_commit(fx.s), TEND_OK);
    assert_int_equal(store_commit(node), TEND_OK);
    /* Whatever the refresh took, a second one leaves D0 with the login. */
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_activity_refresh(fx.s, 16, &done), TEND_OK);
    assert_int_equal(store_commit(fx.s), TEND_OK);
    struct got_days g = {0};
    static const int64_t nine[] = {9};
    struct store_span only = {.first = 1, .last = STORE_LAST_ID, .ids = nine, .n = 1};
    assert_int_equal(store_activity_days_each(fx.s, &only, D0, D0, on_got_day, &g), TEND_OK);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.v[0].logins, 1);
    assert_int_equal(g.v[0].users[0], 15);
    store_close(node);
    close_store(&fx);
}

/* ---- risk scores ------------------------------------------------------------------ */

struct got_risk {
    struct store_risk r[8];
    char drivers[8][64];
    char ext[8][16], band[8][8];
    bool has_mrr[8], has_name[8];
    double mrr[8], arr[8];
    size_t n;
};

static void on_got_risk(void *arg, const struct store_risk_row *x) {
    struct got_risk *g = arg;
    assert_true(g->n < 8);
    g->r[g->n] = x->r;
    snprintf(g->drivers[g->n], sizeof g->drivers[0], "%s", x->r.drivers);
    snprintf(g->ext[g->n], sizeof g->ext[0], "%s", x->external_id);
    snprintf(g->band[g->n], sizeof g->band[0], "%s", x->band ? x->band : "(null)");
    g->has_mrr[g->n] = x->has_mrr;
    g->has_name[g->n] = x->name != NULL;
    g->mrr[g->n] = x->mrr;
    g->arr[g->n] = x->arr_trait;
    g->n++;
}

static void assert_json_equal(const char *a, const char *b) {
    cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
    assert_non_null(x);
    assert_true(cJSON_Compare(x, y, true));
    cJSON_Delete(x);
    cJSON_Delete(y);
}

/* Rows of many accounts in one call, the later of two for one account and
 * day winning, with the accounts' fields and the day's band. */
static void check_risk_rows(struct store *s) {
    enum { N = 2500 };
    struct store_risk *rows = calloc(N + 1, sizeof *rows);
    for (int i = 0; i < N; i++)
        rows[i] = (struct store_risk){.day = D0,
                                      .account_id = i % 4 == 0 ? 1 : 10 + i,
                                      .p_churn = i / (double)N,
                                      .model_version = 7,
                                      .drivers = "[{\"f\":\"a\\\"b\\\\c\",\"c\":0.5}]"};
    rows[N] = (struct store_risk){
        .day = D0, .account_id = 2, .p_churn = 0.125, .model_version = 8, .drivers = NULL};
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_risk_put_many(s, rows, N + 1), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    /* Account 1 got every fourth row: the last one stays. */
    struct store_risk r3 = {.day = D0, .account_id = 3, .p_churn = 0.9, .model_version = 7};
    assert_int_equal(store_risk_put(s, &r3), TEND_OK);
    r3.p_churn = 0.95;
    assert_int_equal(store_risk_put(s, &r3), TEND_OK);
    struct got_risk g = {0};
    assert_int_equal(store_risk_of_day(s, D0, on_got_risk, &g), TEND_OK);
    assert_int_equal(g.n, 3); /* accounts 1, 2, 3 exist; the others do not */
    assert_int_equal(g.r[0].account_id, 1);
    assert_true(g.r[0].p_churn == (N - 4) / (double)N);
    assert_json_equal(g.drivers[0], "[{\"f\":\"a\\\"b\\\\c\",\"c\":0.5}]");
    assert_string_equal(g.ext[0], "acct-1");
    assert_true(g.has_mrr[0]);
    assert_true(g.mrr[0] == 120.5);
    assert_true(g.arr[0] == 1446);
    assert_string_equal(g.band[0], "red");
    assert_int_equal(g.r[1].account_id, 2);
    assert_json_equal(g.drivers[1], "[]");
    assert_int_equal(g.r[1].model_version, 8);
    assert_false(g.has_mrr[1]);
    assert_true(isnan(g.arr[1])); /* a text arr is none */
    assert_string_equal(g.band[1], "(null)");
    assert_false(g.has_name[1]);
    assert_true(g.r[2].p_churn == 0.95);
    g.n = 0;
    assert_int_equal(store_risk_of_account(s, D0, "acct-3", on_got_risk, &g), TEND_OK);
    assert_int_equal(g.n, 1);
    assert_true(g.r[0].p_churn == 0.95);
    g.n = 0;
    assert_int_equal(store_risk_of_account(s, D0 + 1, "acct-3", on_got_risk, &g), TEND_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(store_risk_clear_day(s, D0), TEND_OK);
    assert_int_equal(store_risk_of_day(s, D0, on_got_risk, &g), TEND_OK);
    assert_int_equal(g.n, 0);
    free(rows);
}

/* The accounts the risk rows join, through the store. */
static void risk_rows_carry_their_accounts(void **state) {
    (void)state;
    struct fixture fx;
    open_store(&fx);
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    for (int i = 1; i <= 3; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "acct-%d", i);
        int64_t id = 0;
        bool created = false;
        assert_int_equal(store_account_ensure(fx.s, ext, 1000, &id, &created), TEND_OK);
        assert_int_equal(id, i);
    }
    struct store_account_fields f1 = {.name = "One", .mrr = 120.5, .has_mrr = true};
    assert_int_equal(store_account_set_fields(fx.s, 1, &f1, "{\"arr\": 1446}"), TEND_OK);
    struct store_account_fields f2 = {.mrr = NAN};
    assert_int_equal(store_account_set_fields(fx.s, 2, &f2, "{\"arr\": \"lots\"}"), TEND_OK);
    struct store_score sc = score_of(D0, 20, true, "v1");
    assert_int_equal(store_score_put(fx.s, 1, &sc), TEND_OK);
    assert_int_equal(store_commit(fx.s), TEND_OK);
    check_risk_rows(fx.s);
    close_store(&fx);
}

/* The same on PostgreSQL, its accounts written by SQL. */
static void pg_risk_rows_carry_their_accounts(void **state) {
    (void)state;
    if (!on_pg())
        skip();
    struct fixture fx;
    open_store(&fx);
    PGconn *c = pg_connect_raw(&fx);
    pg_sql(c, "INSERT INTO accounts (id, external_id, name, mrr, traits, first_seen_ms) VALUES "
              "(1, 'acct-1', 'One', 120.5, '{\"arr\": 1446}', 1000), "
              "(2, 'acct-2', NULL, NULL, '{\"arr\": \"lots\"}', 1000), "
              "(3, 'acct-3', 'Three', NULL, '{\"arr\": 1e400}', 1000)");
    PQfinish(c);
    struct store_score sc = score_of(D0, 20, true, "v1");
    assert_int_equal(store_score_put(fx.s, 1, &sc), TEND_OK);
    check_risk_rows(fx.s);
    close_store(&fx);
}

/* ---- reports ---------------------------------------------------------------------- */

static void on_report_id(void *arg, const struct store_report *r) {
    *(int64_t *)arg = r->id;
}

static void reports_roll_back_with_their_transaction(void **state) {
    (void)state;
    struct fixture fx;
    open_store(&fx);
    struct store_report r = {.kind = "analyze", .title = "T", .body = "<p>b</p>", .created_ms = 5};
    int64_t id = 0, first = 0;
    assert_int_equal(store_report_put(fx.s, &r, &first), TEND_OK);
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_report_put(fx.s, &r, &id), TEND_OK);
    store_rollback(fx.s);
    int64_t seen = 0;
    assert_int_equal(store_report_get(fx.s, id, on_report_id, &seen), TEND_ERR_NOTFOUND);
    assert_int_equal(store_report_get(fx.s, first, on_report_id, &seen), TEND_OK);
    assert_int_equal(seen, first);
    r.kind = "other";
    assert_int_equal(store_report_put(fx.s, &r, &id), TEND_ERR_INVALID);
    close_store(&fx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rollups_are_rebuilt_from_the_events),
        cmocka_unit_test(pg_rollups_are_rebuilt_from_the_events),
        cmocka_unit_test(windows_are_worked_out_from_the_rollups),
        cmocka_unit_test(pg_windows_are_worked_out_from_the_rollups),
        cmocka_unit_test(windows_are_replaced_and_read_by_day),
        cmocka_unit_test(login_days_give_the_latest_on_or_before),
        cmocka_unit_test(scores_are_replaced_and_read_by_day_and_account),
        cmocka_unit_test(no_scores_no_latest_day),
        cmocka_unit_test(models_keep_one_adopted_and_their_fields),
        cmocka_unit_test(pg_two_nodes_adopting_leave_one_adopted),
        cmocka_unit_test(pg_two_refreshes_take_different_days),
        cmocka_unit_test(pg_an_event_stored_during_a_refresh_is_not_lost),
        cmocka_unit_test(risk_rows_carry_their_accounts),
        cmocka_unit_test(pg_risk_rows_carry_their_accounts),
        cmocka_unit_test(reports_roll_back_with_their_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
