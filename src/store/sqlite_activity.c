/* sqlite_activity.c: daily activity rollups, their windows and the login
 * days, in the SQLite backend (sqlite_int.h).
 *
 * activity_days holds one row per day and account (logins, feature events,
 * distinct users and feature names); activity_stale lists the days to
 * rebuild from the events; activity_counted which days have windows worked
 * out. A stale day is read from the events until it is rebuilt, so a rollup
 * costs speed, never correctness (docs/store.md, "What metrics read"). */
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

static const char q_login_day_add[] = "INSERT INTO login_days (account_id, day) VALUES (?, ?) "
                                      "ON CONFLICT DO NOTHING";
static const char q_login_day_last[] =
    "SELECT MAX(day) FROM login_days WHERE account_id = ? AND day <= ?";
/* One seek per day of the window into the day-first index; the
 * expression and the partial-index condition are spelt as in the index. */
static const char q_activity[] =
    "WITH RECURSIVE days (d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days "
    "WHERE d < ?2) "
    "SELECT e.account_id, e.kind, e.ts_ms, e.user_id, e.name_id "
    "FROM days JOIN events e ON (e.ts_ms / 86400000) = days.d "
    "AND e.account_id BETWEEN ?5 AND ?6 AND e.account_id IS NOT NULL "
    "AND e.kind IN (" SQL_EV_FEATURE ", " SQL_EV_LOGIN ") WHERE e.ts_ms >= ?3 AND e.ts_ms < ?4";
static const char q_stale_next[] = "SELECT day FROM activity_stale ORDER BY day LIMIT ?";
static const char q_stale_range[] =
    "SELECT day FROM activity_stale WHERE day BETWEEN ? AND ? ORDER BY day";
static const char q_stale_clear[] = "DELETE FROM activity_stale WHERE day = ?";
static const char q_rollup_clear[] = "DELETE FROM activity_days WHERE day = ?";
static const char q_counted_reset[] = "INSERT INTO activity_counted (day, done) VALUES (?, 0) "
                                      "ON CONFLICT (day) DO UPDATE SET done = 0";
static const char q_counted_undo[] =
    "UPDATE activity_counted SET done = 0 WHERE day BETWEEN ?1 AND ?1 + 34";
static const char q_counted_pending[] =
    "SELECT day FROM activity_counted WHERE done = 0 ORDER BY day";
static const char q_counted_get[] = "SELECT done FROM activity_counted WHERE day = ?";
static const char q_counted_done[] = "UPDATE activity_counted SET done = 1 WHERE day = ?";
static const char q_counts_put[] =
    "INSERT OR REPLACE INTO activity_windows (day, account_id, logins_7d, "
    "logins_28d, features_7d, features_28d, users_30d, names_30d, last_login) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char q_windows[] =
    "SELECT account_id, logins_7d, logins_28d, features_7d, features_28d, "
    "users_30d, names_30d, last_login FROM activity_windows "
    "WHERE day = ?1 AND account_id BETWEEN ?2 AND ?3";
/* One day of the day-first index, in account order; a login without a
 * user counts as user 0, as metrics do. */
static const char q_rollup_scan[] =
    "SELECT account_id, kind, coalesce(user_id, 0), coalesce(name_id, 0) "
    "FROM events WHERE (ts_ms / 86400000) = ?1 AND account_id IS NOT NULL "
    "AND kind IN (" SQL_EV_FEATURE ", " SQL_EV_LOGIN ")";
static const char q_rollup_put[] =
    "INSERT INTO activity_days (day, account_id, logins, features, users, names) "
    "VALUES (?, ?, ?, ?, ?, ?)";
/* One seek per day. */
static const char q_rollup[] =
    "WITH RECURSIVE days (d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days "
    "WHERE d < ?2) "
    "SELECT r.account_id, r.day, r.logins, r.features, r.users, r.names "
    "FROM days JOIN activity_days r ON r.day = days.d "
    "AND r.account_id BETWEEN ?3 AND ?4";
static const char q_activity_ids[] =
    "WITH RECURSIVE days (d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days "
    "WHERE d < ?2) "
    "SELECT e.account_id, e.kind, e.ts_ms, e.user_id, e.name_id "
    "FROM days CROSS JOIN json_each(?5) j CROSS JOIN events e "
    "ON (e.ts_ms / 86400000) = days.d AND e.account_id = j.value "
    "AND e.account_id IS NOT NULL AND e.kind IN (" SQL_EV_FEATURE ", " SQL_EV_LOGIN ") "
    "WHERE e.ts_ms >= ?3 AND e.ts_ms < ?4";
static const char q_windows_ids[] =
    "SELECT w.account_id, w.logins_7d, w.logins_28d, w.features_7d, "
    "w.features_28d, w.users_30d, w.names_30d, w.last_login "
    "FROM json_each(?2) j CROSS JOIN activity_windows w "
    "ON w.day = ?1 AND w.account_id = j.value";
static const char q_rollup_ids[] =
    "WITH RECURSIVE days (d) AS (SELECT ?1 UNION ALL SELECT d + 1 FROM days "
    "WHERE d < ?2) "
    "SELECT r.account_id, r.day, r.logins, r.features, r.users, r.names "
    "FROM days CROSS JOIN json_each(?3) j CROSS JOIN activity_days r "
    "ON r.day = days.d AND r.account_id = j.value";
static const char q_goals[] =
    "SELECT f.account_id, f.ts_ms, f.key_ts_ms, f.key_hash, f.until_ms, "
    "coalesce(f.settled_ms, 9223372036854775807), n.id FROM facts f "
    "JOIN names n ON n.name = f.detail WHERE f.kind = " SQL_EV_GOAL_SET " ORDER BY f.account_id";
static const char q_goal_met[] =
    "UPDATE facts SET settled_ms = ?6 WHERE account_id = ?1 AND until_ms = ?2 "
    "AND kind = " SQL_EV_GOAL_SET " AND ts_ms = ?3 AND key_ts_ms = ?4 AND key_hash = ?5";

enum tend_err sqlite_login_day_add(struct store *base, int64_t account_id, int32_t day) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_login_day_add);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, day);
    return sqlite_done(s, st, "recording a login day");
}

enum tend_err sqlite_login_day_last(struct store *base, int64_t account_id, int32_t max_day,
                                    int32_t *day, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_login_day_last);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, max_day);
    int rc = sqlite_step(st);
    enum tend_err err = TEND_OK;
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        if (*found)
            *day = sqlite3_column_int(st, 0);
    } else {
        err = sqlite_fail(s, "reading login days");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum tend_err sqlite_activity_each(struct store *base, const struct store_span *sp, int64_t from_ms,
                                   int64_t to_ms,
                                   void (*fn)(void *arg, const struct store_activity *a),
                                   void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_span_stmt(s, sp, q_activity, 5, q_activity_ids, 5);
    /* Day numbers as the index computes them (integer division). */
    sqlite3_bind_int64(st, 1, from_ms / DT_MS_PER_DAY);
    sqlite3_bind_int64(st, 2, (to_ms - 1) / DT_MS_PER_DAY);
    sqlite3_bind_int64(st, 3, from_ms);
    sqlite3_bind_int64(st, 4, to_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
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
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading activity");
}

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

static enum tend_err load_goals(struct sqlite_store *s, struct goals *g) {
    sqlite3_stmt *st = sqlite_stmt(s, q_goals);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
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
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading goals");
}

/* Marks met the account's goals whose feature is among the day's names: the
 * first day on or after the goal's with a feature event of its feature
 * (never before the goal's own instant). */
static enum tend_err meet_goals(struct sqlite_store *s, struct goals *g, int32_t day,
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
        sqlite3_stmt *st = sqlite_stmt(s, q_goal_met);
        sqlite3_bind_int64(st, 1, x->account_id);
        sqlite3_bind_int64(st, 2, x->until_ms);
        sqlite3_bind_int64(st, 3, x->ts_ms);
        sqlite3_bind_int64(st, 4, x->key_ts_ms);
        sqlite3_bind_int64(st, 5, x->key_hash);
        sqlite3_bind_int64(st, 6, met);
        err = sqlite_done(s, st, "marking a goal met");
        x->met_ms = met;
    }
    return err;
}

static enum tend_err put_rollup(struct sqlite_store *s, int32_t day, struct rollup *r,
                                struct goals *g) {
    if (!r->account_id)
        return TEND_OK;
    enum tend_err gerr = g->n ? meet_goals(s, g, day, r) : TEND_OK;
    if (gerr)
        return gerr;
    sqlite3_stmt *st = sqlite_stmt(s, q_rollup_put);
    sqlite3_bind_int(st, 1, day);
    sqlite3_bind_int64(st, 2, r->account_id);
    sqlite3_bind_int64(st, 3, r->logins);
    sqlite3_bind_int64(st, 4, r->features);
    sqlite_bind_text(st, 5, id_list(r->users, r->n_users, &r->text[0], &r->text_cap[0]));
    sqlite_bind_text(st, 6, id_list(r->names, r->n_names, &r->text[1], &r->text_cap[1]));
    enum tend_err err = sqlite_done(s, st, "rebuilding activity rollups");
    r->logins = r->features = 0;
    r->n_users = r->n_names = 0;
    return err;
}

/* Rebuilds one day's rollup rows from its slice of events_account (in
 * account order), then marks it fresh and its windows to be done again. */
/* Each user's logins of day ?1 (user_login_days, migration 20). A day's
 * events only ever grow, so its rows are replaced, never deleted. */
static const char q_user_logins_build[] =
    "INSERT OR REPLACE INTO user_login_days (account_id, user_id, day, logins) "
    "SELECT account_id, user_id, ?1, count(*) FROM events WHERE (ts_ms / 86400000) = ?1 "
    "AND account_id IS NOT NULL AND kind = " SQL_EV_LOGIN " AND user_id IS NOT NULL "
    "GROUP BY account_id, user_id";

static enum tend_err refresh_day(struct sqlite_store *s, int32_t day, struct goals *g) {
    sqlite3_stmt *st = sqlite_stmt(s, q_user_logins_build);
    sqlite3_bind_int(st, 1, day);
    enum tend_err err = sqlite_done(s, st, "rebuilding users' login days");
    st = sqlite_stmt(s, q_rollup_clear);
    sqlite3_bind_int(st, 1, day);
    if (!err)
        err = sqlite_done(s, st, "rebuilding activity rollups");
    struct rollup r = {0};
    st = sqlite_stmt(s, q_rollup_scan);
    sqlite3_bind_int(st, 1, day);
    int rc = SQLITE_DONE;
    while (!err && (rc = sqlite_step(st)) == SQLITE_ROW) {
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
        err = sqlite_fail(s, "rebuilding activity rollups");
    if (!err)
        err = put_rollup(s, day, &r, g);
    free(r.users);
    free(r.names);
    free(r.text[0]);
    free(r.text[1]);
    static const char *const after[] = {q_stale_clear, q_counted_undo, q_counted_reset};
    for (size_t i = 0; !err && i < sizeof after / sizeof after[0]; i++) {
        st = sqlite_stmt(s, after[i]);
        sqlite3_bind_int(st, 1, day);
        err = sqlite_done(s, st, "rebuilding activity rollups");
    }
    return err;
}

enum tend_err sqlite_activity_refresh(struct store *base, int max_days, int *done) {
    struct sqlite_store *s = sqlite_of(base);
    *done = 0;
    if (max_days <= 0)
        return TEND_OK;
    int32_t *days = xmalloc((size_t)max_days * sizeof *days);
    int n = 0, rc;
    sqlite3_stmt *st = sqlite_stmt(s, q_stale_next);
    sqlite3_bind_int(st, 1, max_days);
    while (n < max_days && (rc = sqlite_step(st)) == SQLITE_ROW)
        days[n++] = sqlite3_column_int(st, 0);
    enum tend_err err =
        rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing stale days");
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

enum tend_err sqlite_activity_stale_each(struct store *base, int32_t from, int32_t to,
                                         void (*fn)(void *arg, int32_t day), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_stale_range);
    sqlite3_bind_int(st, 1, from);
    sqlite3_bind_int(st, 2, to);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int(st, 0));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading stale days");
}

/* Parses a comma-separated id list (group_concat) into s->ids from index at;
 * returns how many. */
static size_t parse_ids(struct sqlite_store *s, const char *text, size_t at) {
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

enum tend_err sqlite_activity_days_each(struct store *base, const struct store_span *sp,
                                        int32_t from, int32_t to,
                                        void (*fn)(void *arg, const struct store_activity_day *d),
                                        void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_span_stmt(s, sp, q_rollup, 3, q_rollup_ids, 3);
    sqlite3_bind_int(st, 1, from);
    sqlite3_bind_int(st, 2, to);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        size_t n_users = parse_ids(s, sqlite_col_text(st, 4), 0);
        size_t n_names = parse_ids(s, sqlite_col_text(st, 5), n_users);
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
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading activity rollups");
}

enum tend_err sqlite_activity_windows_pending(struct store *base,
                                              void (*fn)(void *arg, int32_t day), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_counted_pending);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing activity windows to do");
}

enum tend_err sqlite_activity_window_put(struct store *base, int32_t day, int64_t account_id,
                                         const struct metrics_window *w) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_counts_put);
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
    return sqlite_done(s, st, "storing activity windows");
}

enum tend_err sqlite_activity_windows_each(
    struct store *base, const struct store_span *sp, int32_t day,
    void (*fn)(void *arg, int64_t account_id, const struct metrics_window *w), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_span_stmt(s, sp, q_windows, 2, q_windows_ids, 2);
    sqlite3_bind_int(st, 1, day);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
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
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading activity windows");
}

enum tend_err sqlite_activity_windows_done(struct store *base, int32_t day) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_counted_done);
    sqlite3_bind_int(st, 1, day);
    return sqlite_done(s, st, "storing activity windows");
}

enum tend_err sqlite_activity_windows_ready(struct store *base, int32_t day, bool *done) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_counted_get);
    sqlite3_bind_int(st, 1, day);
    int rc = sqlite_step(st);
    *done = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading counted days");
}

/* ---- users' login days (migration 20) ------------------------------------------------ */

static const char q_user_logins[] =
    "SELECT day, logins FROM user_login_days WHERE account_id = ? AND user_id = ? "
    "AND day BETWEEN ? AND ? ORDER BY day";

enum tend_err sqlite_user_logins_each(struct store *base, int64_t account_id, int64_t user_id,
                                      int32_t first_day, int32_t last_day,
                                      void (*fn)(void *arg, int32_t day, int64_t logins),
                                      void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_user_logins);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int(st, 3, first_day);
    sqlite3_bind_int(st, 4, last_day);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading a user's login days");
}
