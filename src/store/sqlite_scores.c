/* sqlite_scores.c: health scores by day and account, in the SQLite backend
 * (sqlite_int.h).
 *
 * scores is day first, so a day's scores are appended together and a day of
 * every account is one range; one account's history is read through its
 * (account, day) index. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/codes.h"
#include "store/sqlite_int.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/mem.h"

static const char q_scores_of_day_ids[] =
    "SELECT s.account_id, s.overall FROM json_each(?3) j "
    "CROSS JOIN scores s ON s.account_id = j.value AND s.day = ?1 "
    "AND s.config_version = ?2";
static const char q_scores_day_any[] = "SELECT EXISTS (SELECT 1 FROM scores WHERE day = ?1 "
                                       "AND config_version = ?2)";
static const char q_score_put[] =
    "INSERT INTO scores (account_id, day, overall, band, logins, adoption, "
    "sentiment, support, financial, config_version, computed_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, day) DO "
    "UPDATE SET overall = excluded.overall, band = excluded.band, "
    "logins = excluded.logins, adoption = excluded.adoption, "
    "sentiment = excluded.sentiment, support = excluded.support, "
    "financial = excluded.financial, config_version = excluded.config_version, "
    "computed_ms = excluded.computed_ms";
static const char q_score_get[] =
    "SELECT day, overall, band, logins, adoption, sentiment, support, financial, "
    "config_version FROM scores WHERE account_id = ? AND day = ?";
/* One seek per day. */
static const char q_score_history[] =
    "WITH RECURSIVE days (d) AS (SELECT ?2 UNION ALL SELECT d + 1 FROM days "
    "WHERE d < ?3) "
    "SELECT s.day, s.overall, s.band, s.logins, s.adoption, s.sentiment, "
    "s.support, s.financial, s.config_version FROM days "
    "JOIN scores s ON s.day = days.d AND s.account_id = ?1 ORDER BY s.day";
static const char q_scores_of_day[] = "SELECT account_id, overall FROM scores WHERE day = ?";
static const char q_scores_of_day_version[] =
    "SELECT account_id, overall FROM scores WHERE day = ? "
    "AND config_version = ?";

enum tend_err sqlite_score_put(struct store *base, int64_t account_id,
                               const struct store_score *sc) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_score_put);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, sc->day);
    if (sc->has_overall)
        sqlite3_bind_double(st, 3, sc->overall);
    sqlite_bind_text(st, 4, sc->band);
    for (int i = 0; i < STORE_COMPONENTS; i++) {
        if (sc->has[i])
            sqlite3_bind_double(st, 5 + i, sc->components[i]);
    }
    sqlite_bind_text(st, 10, sc->config_version);
    sqlite3_bind_int64(st, 11, dt_now_ms());
    return sqlite_done(s, st, "storing a score");
}

static void read_score(sqlite3_stmt *st, struct store_score *sc) {
    memset(sc, 0, sizeof *sc);
    sc->day = sqlite3_column_int(st, 0);
    sc->has_overall = sqlite3_column_type(st, 1) != SQLITE_NULL;
    sc->overall = sqlite3_column_double(st, 1);
    snprintf(sc->band, sizeof sc->band, "%s",
             sqlite_col_text(st, 2) ? sqlite_col_text(st, 2) : "none");
    for (int i = 0; i < STORE_COMPONENTS; i++) {
        sc->has[i] = sqlite3_column_type(st, 3 + i) != SQLITE_NULL;
        sc->components[i] = sqlite3_column_double(st, 3 + i);
    }
    snprintf(sc->config_version, sizeof sc->config_version, "%s",
             sqlite_col_text(st, 8) ? sqlite_col_text(st, 8) : "");
}

enum tend_err sqlite_score_get(struct store *base, int64_t account_id, int32_t day,
                               struct store_score *out, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_score_get);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, day);
    int rc = sqlite_step(st);
    *found = rc == SQLITE_ROW;
    if (*found)
        read_score(st, out);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading a score");
}

enum tend_err sqlite_score_history(struct store *base, int64_t account_id, int32_t from, int32_t to,
                                   void (*fn)(void *arg, const struct store_score *sc), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_score_history);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, from);
    sqlite3_bind_int(st, 3, to);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_score sc;
        read_score(st, &sc);
        fn(arg, &sc);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading score history");
}

/* Steps st (bound) to its end, calling fn with each row's account id and
 * overall score (NULL: none), then resets it. */
static enum tend_err
each_score(struct sqlite_store *s, sqlite3_stmt *st,
           void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg) {
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_type(st, 1) != SQLITE_NULL,
           sqlite3_column_double(st, 1));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading scores");
}

enum tend_err sqlite_scores_of_day(struct store *base, int32_t day,
                                   void (*fn)(void *arg, int64_t account_id, bool has_overall,
                                              double overall),
                                   void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_scores_of_day);
    sqlite3_bind_int(st, 1, day);
    return each_score(s, st, fn, arg);
}

enum tend_err sqlite_scores_of_day_version(struct store *base, int32_t day, const char *version,
                                           void (*fn)(void *arg, int64_t account_id,
                                                      bool has_overall, double overall),
                                           void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_scores_of_day_version);
    sqlite3_bind_int(st, 1, day);
    sqlite_bind_text(st, 2, version);
    return each_score(s, st, fn, arg);
}

enum tend_err sqlite_scores_of_day_ids(
    struct store *base, int32_t day, const char *version, const int64_t *ids, size_t n, bool *any,
    void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_scores_day_any);
    sqlite3_bind_int(st, 1, day);
    sqlite_bind_text(st, 2, version);
    int rc = sqlite_step(st);
    *any = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW)
        return sqlite_fail(s, "reading scores");
    if (!*any || !n)
        return TEND_OK;
    st = sqlite_stmt(s, q_scores_of_day_ids);
    sqlite3_bind_int(st, 1, day);
    sqlite_bind_text(st, 2, version);
    sqlite_bind_ids(st, 3, ids, n);
    return each_score(s, st, fn, arg);
}

static const char q_latest_day[] = "SELECT max(day) FROM scores";

enum tend_err sqlite_scores_latest_day(struct store *base, int32_t *day, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_latest_day);
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        *day = sqlite3_column_int(st, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the latest scores' day");
}
