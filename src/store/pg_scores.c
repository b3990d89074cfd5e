/* pg_scores.c: health scores by day and account, in the PostgreSQL backend
 * (pg_int.h); the contracts are store.h's, the reference is sqlite_scores.c.
 *
 * scores' key is (account_id, day) and scores_day (day, account_id) serves a
 * day of every account, so the day's reads come in account order from the
 * index. A score is written with INSERT ... ON CONFLICT DO UPDATE, so two
 * nodes scoring the same account and day leave one row, the later one's.
 * The day's reads stream (pg_stream): their callers (eval/eval.c,
 * eval/ctas.c) only note the scores in memory. */
#include <stdio.h>
#include <string.h>

#include "store/pg_int.h"
#include "util/datetime.h"

static const char q_score_put[] =
    "INSERT INTO scores (account_id, day, overall, band, logins, adoption, sentiment, support, "
    "financial, config_version, computed_ms) VALUES ($1::bigint, $2::integer, $3::float8, $4, "
    "$5::float8, $6::float8, $7::float8, $8::float8, $9::float8, $10, $11::bigint) "
    "ON CONFLICT (account_id, day) DO UPDATE SET overall = excluded.overall, "
    "band = excluded.band, logins = excluded.logins, adoption = excluded.adoption, "
    "sentiment = excluded.sentiment, support = excluded.support, "
    "financial = excluded.financial, config_version = excluded.config_version, "
    "computed_ms = excluded.computed_ms";
#define SCORE_COLS                                                                                 \
    "SELECT day, overall, band, logins, adoption, sentiment, support, financial, "                 \
    "config_version FROM scores "
static const char q_score_get[] = SCORE_COLS "WHERE account_id = $1::bigint AND day = $2::integer";
static const char q_score_history[] = SCORE_COLS "WHERE account_id = $1::bigint "
                                                 "AND day BETWEEN $2::integer AND $3::integer "
                                                 "ORDER BY day";
static const char q_scores_of_day[] =
    "SELECT account_id, overall FROM scores WHERE day = $1::integer ORDER BY account_id";
static const char q_scores_of_day_version[] = "SELECT account_id, overall FROM scores "
                                              "WHERE day = $1::integer AND config_version = $2 "
                                              "ORDER BY account_id";
static const char q_scores_day_any[] = "SELECT EXISTS (SELECT 1 FROM scores "
                                       "WHERE day = $1::integer AND config_version = $2)";
static const char q_scores_of_day_ids[] =
    "SELECT account_id, overall FROM scores WHERE day = $1::integer AND config_version = $2 "
    "AND account_id = ANY ($3::bigint[]) ORDER BY account_id";
static const char q_latest_day[] = "SELECT max(day) FROM scores";

enum tend_err pg_score_put(struct store *base, int64_t account_id, const struct store_score *sc) {
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_int(&p, sc->day);
    pg_p_f64_or_null(&p, sc->has_overall, sc->overall);
    pg_p_text(&p, sc->band);
    for (int i = 0; i < STORE_COMPONENTS; i++)
        pg_p_f64_or_null(&p, sc->has[i], sc->components[i]);
    pg_p_text(&p, sc->config_version);
    pg_p_i64(&p, dt_now_ms());
    return pg_run(pg_of(base), q_score_put, &p, "storing a score");
}

static void read_score(const PGresult *r, int i, struct store_score *sc) {
    memset(sc, 0, sizeof *sc);
    sc->day = (int32_t)pg_i64(r, i, 0);
    sc->has_overall = !pg_null(r, i, 1);
    sc->overall = pg_f64(r, i, 1);
    snprintf(sc->band, sizeof sc->band, "%s", pg_text(r, i, 2) ? pg_text(r, i, 2) : "none");
    for (int k = 0; k < STORE_COMPONENTS; k++) {
        sc->has[k] = !pg_null(r, i, 3 + k);
        sc->components[k] = pg_f64(r, i, 3 + k);
    }
    snprintf(sc->config_version, sizeof sc->config_version, "%s",
             pg_text(r, i, 8) ? pg_text(r, i, 8) : "");
}

enum tend_err pg_score_get(struct store *base, int64_t account_id, int32_t day,
                           struct store_score *out, bool *found) {
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_int(&p, day);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_score_get, &p, "reading a score", &r);
    if (err)
        return err;
    *found = PQntuples(r) == 1;
    if (*found)
        read_score(r, 0, out);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_score_history(struct store *base, int64_t account_id, int32_t from, int32_t to,
                               void (*fn)(void *arg, const struct store_score *sc), void *arg) {
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_int(&p, from);
    pg_p_int(&p, to);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_score_history, &p, "reading score history", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_score sc;
        read_score(r, i, &sc);
        fn(arg, &sc);
    }
    PQclear(r);
    return TEND_OK;
}

struct score_scan {
    void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall);
    void *arg;
};

static void on_score_row(void *arg, PGresult *r, int i) {
    struct score_scan *x = arg;
    x->fn(x->arg, pg_i64(r, i, 0), !pg_null(r, i, 1), pg_f64(r, i, 1));
}

enum tend_err pg_scores_of_day(struct store *base, int32_t day,
                               void (*fn)(void *arg, int64_t account_id, bool has_overall,
                                          double overall),
                               void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    struct score_scan x = {fn, arg};
    return pg_stream(pg_of(base), q_scores_of_day, &p, "reading scores", on_score_row, &x);
}

enum tend_err pg_scores_of_day_version(struct store *base, int32_t day, const char *version,
                                       void (*fn)(void *arg, int64_t account_id, bool has_overall,
                                                  double overall),
                                       void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    pg_p_text(&p, version);
    struct score_scan x = {fn, arg};
    return pg_stream(pg_of(base), q_scores_of_day_version, &p, "reading scores", on_score_row, &x);
}

enum tend_err pg_scores_of_day_ids(
    struct store *base, int32_t day, const char *version, const int64_t *ids, size_t n, bool *any,
    void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, day);
    pg_p_text(&p, version);
    PGresult *r;
    enum tend_err err = pg_query(s, q_scores_day_any, &p, "reading scores", &r);
    if (err)
        return err;
    *any = PQntuples(r) == 1 && pg_bool(r, 0, 0);
    PQclear(r);
    if (!*any || !n)
        return TEND_OK;
    struct pg_params q = {0};
    pg_p_int(&q, day);
    pg_p_text(&q, version);
    pg_p_ids(&q, ids, n);
    if ((err = pg_query(s, q_scores_of_day_ids, &q, "reading scores", &r)))
        return err;
    struct score_scan x = {fn, arg};
    for (int i = 0; i < PQntuples(r); i++)
        on_score_row(&x, r, i);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_scores_latest_day(struct store *base, int32_t *day, bool *found) {
    PGresult *r;
    enum tend_err err =
        pg_query(pg_of(base), q_latest_day, NULL, "reading the latest scores' day", &r);
    if (err)
        return err;
    *found = PQntuples(r) == 1 && !pg_null(r, 0, 0);
    *day = (int32_t)(*found ? pg_i64(r, 0, 0) : 0);
    PQclear(r);
    return TEND_OK;
}
