/* pg_model.c: churn-risk models and the daily risk scores in PostgreSQL
 * (pg_int.h); the contracts are store.h's ("churn-risk models"), the
 * reference is sqlite_model.c.
 *
 * What it is not: no model logic; a card is JSON written once by tend model
 * fit (or the serve refit) and handed back as JSON (jsonb: the same values,
 * keys in jsonb's order and its spacing).
 *
 * Models: a new version is the highest plus one (SQLite's rowid), and
 * adopting one un-adopts the rest, in one unit: a savepoint inside the
 * caller's transaction, a transaction of its own outside one. Two nodes
 * storing models at once are serialised by a table lock that only writers
 * of models take (SHARE ROW EXCLUSIVE conflicts with itself, not with
 * readers), taken before the statements that read the versions and the
 * adopted one, so the second sees the first's model and un-adopts it: never
 * two adopted (models_adopted would refuse the second), never one version
 * twice.
 *
 * Risk rows: store_risk_put_many writes up to PG_RISK_ROWS rows with one
 * statement (INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE),
 * the later of two rows for one account and day winning, as SQLite's INSERT
 * OR REPLACE; rows go in key order, so two nodes writing the same day lock
 * them in the same order. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"
#include "util/datetime.h"
#include "util/mem.h"

/* Rows of one store_risk_put_many statement, at most. */
#define PG_RISK_ROWS 1000

static const char q_lock[] = "LOCK TABLE models IN SHARE ROW EXCLUSIVE MODE";
static const char q_unadopt[] = "UPDATE models SET adopted = false WHERE adopted";
static const char q_put[] =
    "INSERT INTO models (version, fitted_ms, horizon_days, trained_from, trained_to, n_rows, "
    "n_churns, auc_holdout, brier_holdout, auc_health, adopted, card, data_end, adopted_ms) "
    "SELECT coalesce(max(version), 0) + 1, $1::bigint, $2::integer, $3::integer, $4::integer, "
    "$5::bigint, $6::bigint, $7::float8, $8::float8, $9::float8, $10::boolean, $11::jsonb, "
    "$12::integer, $13::bigint FROM models RETURNING version";
#define MODEL_COLS                                                                                 \
    "version, fitted_ms, horizon_days, trained_from, trained_to, n_rows, n_churns, auc_holdout, "  \
    "brier_holdout, auc_health, adopted, data_end, adopted_ms"
static const char q_get[] = "SELECT " MODEL_COLS ", card FROM models WHERE version = $1::bigint";
static const char q_get_adopted[] = "SELECT " MODEL_COLS ", card FROM models WHERE adopted";
/* A model without a known data_end (NULL) is never used for a day. */
static const char q_for_day[] = "SELECT " MODEL_COLS ", card FROM models "
                                "WHERE adopted_ms IS NOT NULL AND data_end <= $1::integer "
                                "ORDER BY adopted_ms DESC, version DESC LIMIT 1";
static const char q_each[] = "SELECT " MODEL_COLS ", NULL FROM models ORDER BY version DESC";

#define RISK_SET                                                                                   \
    " ON CONFLICT (account_id, day) DO UPDATE SET p_churn = excluded.p_churn, "                    \
    "model_version = excluded.model_version, drivers = excluded.drivers"
static const char q_risk_put[] =
    "INSERT INTO risk_by_day (account_id, day, p_churn, model_version, drivers) "
    "VALUES ($1::bigint, $2::integer, $3::float8, $4::bigint, $5::jsonb)" RISK_SET;
static const char q_risk_put_many[] =
    "INSERT INTO risk_by_day (account_id, day, p_churn, model_version, drivers) "
    "SELECT DISTINCT ON (a, d) a, d, p, v, dr::jsonb "
    "FROM unnest($1::bigint[], $2::integer[], $3::float8[], $4::bigint[], $5::text[]) "
    "WITH ORDINALITY AS u (a, d, p, v, dr, o) ORDER BY a, d, o DESC" RISK_SET;
static const char q_risk_clear[] = "DELETE FROM risk_by_day WHERE day = $1::integer";
/* The latest COMPLETE day: one a full evaluation recorded (sqlite_model.c). */
static const char q_risk_latest[] =
    "SELECT t_ms / 86400000 - 1 FROM eval_runs e "
    "WHERE t_ms <= ($1::bigint + 1) * 86400000 AND t_ms % 86400000 = 0 "
    "AND EXISTS (SELECT 1 FROM risk_by_day r WHERE r.day = e.t_ms / 86400000 - 1) "
    "ORDER BY t_ms DESC LIMIT 1";
/* The account's arr trait when it is a number that a double holds (SQLite's
 * json_type integer or real; beyond a double, none rather than an error). */
#define ARR_TRAIT                                                                                  \
    "CASE WHEN jsonb_typeof(a.traits -> 'arr') = 'number' "                                        \
    "AND abs((a.traits ->> 'arr')::numeric) <= 1.7976931348623157e308 "                            \
    "THEN (a.traits ->> 'arr')::float8 END"
#define RISK_ROW_COLS                                                                              \
    "SELECT r.day, r.account_id, r.p_churn, r.model_version, r.drivers, a.external_id, a.name, "   \
    "a.csm_email, a.mrr, s.band, " ARR_TRAIT " "
static const char q_risk_day[] =
    RISK_ROW_COLS "FROM risk_by_day r JOIN accounts a ON a.id = r.account_id "
                  "LEFT JOIN scores s ON s.account_id = r.account_id AND s.day = r.day "
                  "WHERE r.day = $1::integer ORDER BY r.account_id";
static const char q_risk_account[] = RISK_ROW_COLS
    "FROM accounts a JOIN risk_by_day r ON r.account_id = a.id AND r.day = $1::integer "
    "LEFT JOIN scores s ON s.account_id = r.account_id AND s.day = r.day "
    "WHERE a.external_id = $2";

/* max(ts_ms / 86400000) is max(ts_ms) / 86400000 (truncation keeps order);
 * every event counts, with an account or without (0), as SQLite's. events
 * has no b-tree on ts_ms alone (its key leads with the account), so the
 * recent events ($1: 35 days before now) are asked first, a few pages of the
 * newest partitions through the BRIN index; only a database without any
 * reads the whole table. */
static const char q_last_event_day[] =
    "SELECT coalesce((SELECT max(ts_ms) FROM events WHERE ts_ms >= $1::bigint), "
    "(SELECT max(ts_ms) FROM events)) / 86400000";

enum tend_err pg_last_event_day(struct store *base, int32_t *day, bool *found) {
    struct pg_params p = {0};
    pg_p_i64(&p, dt_now_ms() - 35 * DT_MS_PER_DAY);
    PGresult *r;
    enum tend_err err =
        pg_query(pg_of(base), q_last_event_day, &p, "reading the last event day", &r);
    if (err)
        return err;
    *found = PQntuples(r) == 1 && !pg_null(r, 0, 0);
    if (*found)
        *day = (int32_t)pg_i64(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}

/* ---- one write as a unit ------------------------------------------------------ */

/* Starts a unit of writes: a savepoint named by sp inside the caller's
 * transaction (*own false), else a transaction of its own (*own true). */
static enum tend_err unit_begin(struct pg_store *s, const char *savepoint, const char *what,
                                bool *own) {
    *own = PQtransactionStatus(s->conn) == PQTRANS_IDLE;
    return pg_exec(s, *own ? "BEGIN" : savepoint, what);
}

/* Ends the unit: keeps it when err is TEND_OK (the commit's or release's
 * error otherwise), else undoes it and returns err with its message kept. */
static enum tend_err unit_end(struct pg_store *s, bool own, const char *release,
                              const char *rollback, enum tend_err err, const char *what) {
    if (!err) {
        err = pg_exec(s, own ? "COMMIT" : release, what);
        if (!err || !own)
            return err;
    }
    char msg[STORE_ERR_BYTES];
    snprintf(msg, sizeof msg, "%s", s->err);
    pg_exec(s, own ? "ROLLBACK" : rollback, what);
    snprintf(s->err, sizeof s->err, "%s", msg);
    return err;
}

/* ---- models ------------------------------------------------------------------- */

static void p_real(struct pg_params *p, double v) {
    pg_p_f64_or_null(p, isfinite(v), v);
}

static double col_real(const PGresult *r, int i, int col) {
    return pg_null(r, i, col) ? NAN : pg_f64(r, i, col);
}

enum tend_err pg_model_put(struct store *base, const struct store_model *m, bool adopt,
                           int64_t *version) {
    struct pg_store *s = pg_of(base);
    if (!m->card || strlen(m->card) > STORE_MODEL_CARD_MAX_BYTES) {
        snprintf(s->err, sizeof s->err, "model card: %s", m->card ? "over 4 MiB" : "missing");
        return m->card ? TEND_ERR_LIMIT : TEND_ERR_INVALID;
    }
    bool own;
    enum tend_err err = unit_begin(s, "SAVEPOINT store_model_put", "storing a model", &own);
    if (err)
        return err;
    err = pg_run(s, q_lock, NULL, "storing a model");
    if (!err && adopt)
        err = pg_run(s, q_unadopt, NULL, "adopting a model");
    int64_t v = 0;
    if (!err) {
        struct pg_params p = {0};
        pg_p_i64(&p, m->fitted_ms);
        pg_p_int(&p, m->horizon_days);
        pg_p_int(&p, m->trained_from);
        pg_p_int(&p, m->trained_to);
        pg_p_i64(&p, m->n_rows);
        pg_p_i64(&p, m->n_churns);
        p_real(&p, m->auc_holdout);
        p_real(&p, m->brier_holdout);
        p_real(&p, m->auc_health);
        pg_p_bool(&p, adopt);
        pg_p_text(&p, m->card);
        pg_p_int(&p, m->data_end);
        if (adopt)
            pg_p_i64(&p, m->fitted_ms);
        else
            pg_p_null(&p);
        err = pg_int(s, q_put, &p, "storing a model", &v);
    }
    err = unit_end(s, own, "RELEASE SAVEPOINT store_model_put",
                   "ROLLBACK TO SAVEPOINT store_model_put; RELEASE SAVEPOINT store_model_put", err,
                   "storing a model");
    if (!err)
        *version = v;
    return err;
}

static void read_model(const PGresult *r, int i, struct store_model *m) {
    *m = (struct store_model){
        .version = pg_i64(r, i, 0),
        .fitted_ms = pg_i64(r, i, 1),
        .horizon_days = (int)pg_i64(r, i, 2),
        .trained_from = (int32_t)pg_i64(r, i, 3),
        .trained_to = (int32_t)pg_i64(r, i, 4),
        .n_rows = pg_i64(r, i, 5),
        .n_churns = pg_i64(r, i, 6),
        .auc_holdout = col_real(r, i, 7),
        .brier_holdout = col_real(r, i, 8),
        .auc_health = col_real(r, i, 9),
        .adopted = pg_bool(r, i, 10),
        .data_end = pg_null(r, i, 11) ? INT32_MAX : (int32_t)pg_i64(r, i, 11),
        .adopted_ms = pg_i64(r, i, 12),
        .card = pg_text(r, i, 13),
    };
}

/* Runs q (one model at most) and calls fn with it, or TEND_ERR_NOTFOUND. */
static enum tend_err one_model(struct pg_store *s, const char *q, struct pg_params *p,
                               void (*fn)(void *arg, const struct store_model *m), void *arg,
                               const char *what) {
    PGresult *r;
    enum tend_err err = pg_query(s, q, p, what, &r);
    if (err)
        return err;
    if (PQntuples(r) == 0) {
        err = TEND_ERR_NOTFOUND;
    } else {
        struct store_model m;
        read_model(r, 0, &m);
        fn(arg, &m);
    }
    PQclear(r);
    return err;
}

enum tend_err pg_model_get(struct store *base, int64_t version,
                           void (*fn)(void *arg, const struct store_model *m), void *arg) {
    struct pg_params p = {0};
    if (version)
        pg_p_i64(&p, version);
    return one_model(pg_of(base), version ? q_get : q_get_adopted, version ? &p : NULL, fn, arg,
                     "reading a model");
}

enum tend_err pg_model_for_day(struct store *base, int32_t day,
                               void (*fn)(void *arg, const struct store_model *m), void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    return one_model(pg_of(base), q_for_day, &p, fn, arg, "reading the model of a day");
}

enum tend_err pg_models_each(struct store *base, void (*fn)(void *arg, const struct store_model *m),
                             void *arg) {
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_each, NULL, "reading the models", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_model m;
        read_model(r, i, &m);
        m.card = NULL;
        fn(arg, &m);
    }
    PQclear(r);
    return TEND_OK;
}

/* ---- risk scores -------------------------------------------------------------- */

enum tend_err pg_risk_put(struct store *base, const struct store_risk *r) {
    struct pg_params p = {0};
    pg_p_i64(&p, r->account_id);
    pg_p_int(&p, r->day);
    pg_p_f64(&p, r->p_churn);
    pg_p_i64(&p, r->model_version);
    pg_p_text(&p, r->drivers ? r->drivers : "[]");
    return pg_run(pg_of(base), q_risk_put, &p, "storing a risk score");
}

enum tend_err pg_risk_clear_day(struct store *base, int32_t day) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    return pg_run(pg_of(base), q_risk_clear, &p, "clearing a day's risk scores");
}

/* A growing text: an array literal being written. */
struct lit {
    char *v;
    size_t len, cap;
};

static void lit_put(struct lit *b, const char *text, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->v = xrealloc(b->v, b->cap);
    }
    memcpy(b->v + b->len, text, n);
    b->len += n;
    b->v[b->len] = '\0';
}

static void lit_str(struct lit *b, const char *text) {
    lit_put(b, text, strlen(text));
}

/* Appends text as a quoted element of an array literal ("..." with " and \
 * escaped). */
static void lit_quoted(struct lit *b, const char *text) {
    lit_put(b, "\"", 1);
    for (const char *c = text; *c;) {
        size_t run = strcspn(c, "\"\\");
        lit_put(b, c, run);
        c += run;
        if (*c) {
            lit_put(b, "\\", 1);
            lit_put(b, c++, 1);
        }
    }
    lit_put(b, "\"", 1);
}

/* Hands b's text to p as its next parameter; p frees it after the
 * statement (pg_int.h). */
static void p_owned(struct pg_params *p, struct lit *b) {
    if (p->n >= PG_MAX_PARAMS) {
        fprintf(stderr, "tend: store: more than %d parameters\n", PG_MAX_PARAMS);
        abort();
    }
    p->owned[p->n_owned++] = b->v;
    p->v[p->n++] = b->v;
    *b = (struct lit){0};
}

/* Stores rows r[0..n), n <= PG_RISK_ROWS, with one statement. */
static enum tend_err risk_put_rows(struct pg_store *s, const struct store_risk *r, size_t n) {
    struct lit a[5] = {0};
    for (int k = 0; k < 5; k++)
        lit_str(&a[k], "{");
    char num[40];
    for (size_t i = 0; i < n; i++) {
        const char *sep = i ? "," : "";
        snprintf(num, sizeof num, "%s%" PRId64, sep, r[i].account_id);
        lit_str(&a[0], num);
        snprintf(num, sizeof num, "%s%" PRId32, sep, r[i].day);
        lit_str(&a[1], num);
        if (isnan(r[i].p_churn))
            snprintf(num, sizeof num, "%sNaN", sep);
        else if (isinf(r[i].p_churn))
            snprintf(num, sizeof num, "%s%sInfinity", sep, r[i].p_churn > 0 ? "" : "-");
        else
            snprintf(num, sizeof num, "%s%.17g", sep, r[i].p_churn);
        lit_str(&a[2], num);
        snprintf(num, sizeof num, "%s%" PRId64, sep, r[i].model_version);
        lit_str(&a[3], num);
        lit_str(&a[4], sep);
        lit_quoted(&a[4], r[i].drivers ? r[i].drivers : "[]");
    }
    struct pg_params p = {0};
    for (int k = 0; k < 5; k++) {
        lit_str(&a[k], "}");
        p_owned(&p, &a[k]);
    }
    return pg_run(s, q_risk_put_many, &p, "storing risk scores");
}

enum tend_err pg_risk_put_many(struct store *base, const struct store_risk *r, size_t n) {
    struct pg_store *s = pg_of(base);
    enum tend_err err = TEND_OK;
    for (size_t i = 0; !err && i < n; i += PG_RISK_ROWS)
        err = risk_put_rows(s, r + i, n - i < PG_RISK_ROWS ? n - i : PG_RISK_ROWS);
    return err;
}

enum tend_err pg_risk_latest_day(struct store *base, int32_t max_day, int32_t *day, bool *found) {
    struct pg_params p = {0};
    pg_p_int(&p, max_day);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_risk_latest, &p, "reading the risk days", &r);
    if (err)
        return err;
    *found = PQntuples(r) == 1 && !pg_null(r, 0, 0);
    if (*found)
        *day = (int32_t)pg_i64(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}

struct risk_scan {
    void (*fn)(void *arg, const struct store_risk_row *r);
    void *arg;
};

static void on_risk_row(void *arg, PGresult *res, int i) {
    struct risk_scan *x = arg;
    struct store_risk_row r = {
        .r =
            {
                .day = (int32_t)pg_i64(res, i, 0),
                .account_id = pg_i64(res, i, 1),
                .p_churn = pg_f64(res, i, 2),
                .model_version = pg_i64(res, i, 3),
                .drivers = pg_text(res, i, 4),
            },
        .external_id = pg_text(res, i, 5),
        .name = pg_text(res, i, 6),
        .owner = pg_text(res, i, 7),
        .has_mrr = !pg_null(res, i, 8),
        .mrr = pg_f64(res, i, 8),
        .band = pg_text(res, i, 9),
        .arr_trait = col_real(res, i, 10),
    };
    x->fn(x->arg, &r);
}

enum tend_err pg_risk_of_day(struct store *base, int32_t day,
                             void (*fn)(void *arg, const struct store_risk_row *r), void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    struct risk_scan x = {fn, arg};
    return pg_stream(pg_of(base), q_risk_day, &p, "reading the risk scores", on_risk_row, &x);
}

enum tend_err pg_risk_of_account(struct store *base, int32_t day, const char *external_id,
                                 void (*fn)(void *arg, const struct store_risk_row *r), void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    pg_p_text(&p, external_id);
    PGresult *res;
    enum tend_err err =
        pg_query(pg_of(base), q_risk_account, &p, "reading an account's risk score", &res);
    if (err)
        return err;
    struct risk_scan x = {fn, arg};
    for (int i = 0; i < PQntuples(res); i++)
        on_risk_row(&x, res, i);
    PQclear(res);
    return TEND_OK;
}
