/* sqlite_model.c: churn-risk models and the daily risk scores in SQLite (see
 * store.h, "churn-risk models", and docs/store.md, migration 14).
 *
 * What it is not: no model logic; a card is JSON text written once by tend
 * model fit (or the serve refit) and handed back as it is.
 *
 * The design: a model is never changed after it is written but for its
 * adopted flag, and adopting one un-adopts the rest under one savepoint, so
 * inside a caller's transaction or alone there is always at most one adopted
 * model (the unique partial index models_adopted would refuse a second). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"

static const char q_savepoint[] = "SAVEPOINT store_model_put";
static const char q_release[] = "RELEASE store_model_put";
static const char q_rollback[] = "ROLLBACK TO store_model_put";
static const char q_unadopt[] = "UPDATE models SET adopted = 0 WHERE adopted = 1";
static const char q_put[] =
    "INSERT INTO models (fitted_ms, horizon_days, trained_from, trained_to, n_rows, n_churns, "
    "auc_holdout, brier_holdout, auc_health, adopted, card, data_end, adopted_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING version";
#define MODEL_COLS                                                                                 \
    "version, fitted_ms, horizon_days, trained_from, trained_to, n_rows, n_churns, auc_holdout, "  \
    "brier_holdout, auc_health, adopted, data_end, adopted_ms"
static const char q_get[] = "SELECT " MODEL_COLS ", card FROM models WHERE version = ?1";
static const char q_get_adopted[] = "SELECT " MODEL_COLS ", card FROM models WHERE adopted = 1";
/* A handful of models a year: no index needed. A model without a known
 * data_end (NULL) is never used for a day. */
static const char q_for_day[] = "SELECT " MODEL_COLS ", card FROM models "
                                "WHERE adopted_ms IS NOT NULL AND data_end <= ?1 "
                                "ORDER BY adopted_ms DESC, version DESC LIMIT 1";
static const char q_each[] = "SELECT " MODEL_COLS ", NULL FROM models ORDER BY version DESC";

static const char q_risk_put[] = "INSERT OR REPLACE INTO risk_by_day "
                                 "(day, account_id, p_churn, model_version, drivers) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5)";
#define RISK_ROW    "(?, ?, ?, ?, ?)"
#define RISK_ROWS4  RISK_ROW ", " RISK_ROW ", " RISK_ROW ", " RISK_ROW
#define RISK_ROWS16 RISK_ROWS4 ", " RISK_ROWS4 ", " RISK_ROWS4 ", " RISK_ROWS4
static const char q_risk_put_many[] = "INSERT OR REPLACE INTO risk_by_day "
                                      "(day, account_id, p_churn, model_version, drivers) "
                                      "VALUES " RISK_ROWS16 ", " RISK_ROWS16;
_Static_assert(STORE_RISK_BATCH == 32, "q_risk_put_many has 32 rows");
/* The latest COMPLETE day: one a full evaluation recorded (eval_runs.t_ms is
 * the end of the day it evaluated; an evaluation of a few accounts after
 * their events records none), newest first from eval_runs' primary key, each
 * checked for risk rows by one seek. */
static const char q_risk_latest[] =
    "SELECT t_ms / 86400000 - 1 FROM eval_runs e "
    "WHERE t_ms <= (?1 + 1) * 86400000 AND t_ms % 86400000 = 0 "
    "AND EXISTS (SELECT 1 FROM risk_by_day r WHERE r.day = e.t_ms / 86400000 - 1) "
    "ORDER BY t_ms DESC LIMIT 1";
/* The account's arr trait when it is a number (plan_arr() decides). */
#define ARR_TRAIT                                                                                  \
    "CASE WHEN json_type(a.traits, '$.arr') IN ('integer', 'real') "                               \
    "THEN json_extract(a.traits, '$.arr') END"
static const char q_risk_day[] =
    "SELECT r.day, r.account_id, r.p_churn, r.model_version, r.drivers, a.external_id, a.name, "
    "a.csm_email, a.mrr, s.band, " ARR_TRAIT " FROM risk_by_day r "
    "JOIN accounts a ON a.id = r.account_id "
    "LEFT JOIN scores s ON s.day = r.day AND s.account_id = r.account_id "
    "WHERE r.day = ?1 ORDER BY r.account_id";

static const char q_risk_clear[] = "DELETE FROM risk_by_day WHERE day = ?1";
static const char q_risk_account[] =
    "SELECT r.day, r.account_id, r.p_churn, r.model_version, r.drivers, a.external_id, a.name, "
    "a.csm_email, a.mrr, s.band, " ARR_TRAIT " FROM accounts a "
    "JOIN risk_by_day r ON r.account_id = a.id "
    "AND r.day = ?1 LEFT JOIN scores s ON s.day = r.day AND s.account_id = r.account_id "
    "WHERE a.external_id = ?2";

/* The events index leads with the day (events_account), so this is one seek. */
static const char q_last_event_day[] = "SELECT MAX(ts_ms / 86400000) FROM events";

enum tend_err sqlite_last_event_day(struct store *base, int32_t *day, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_last_event_day);
    int rc = sqlite_step(st);
    *found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (*found)
        *day = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK
                                                 : sqlite_fail(s, "reading the last event day");
}

static void bind_real(sqlite3_stmt *st, int i, double v) {
    if (isfinite(v))
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static double col_real(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

enum tend_err sqlite_model_put(struct store *base, const struct store_model *m, bool adopt,
                               int64_t *version) {
    struct sqlite_store *s = sqlite_of(base);
    if (!m->card || strlen(m->card) > STORE_MODEL_CARD_MAX_BYTES) {
        char msg[96];
        snprintf(msg, sizeof msg, "model card: %s", m->card ? "over 4 MiB" : "missing");
        store_set_error(&s->base, msg);
        return m->card ? TEND_ERR_LIMIT : TEND_ERR_INVALID;
    }
    enum tend_err e = sqlite_done(s, sqlite_stmt(s, q_savepoint), "storing a model");
    if (e)
        return e;
    if (adopt)
        e = sqlite_done(s, sqlite_stmt(s, q_unadopt), "adopting a model");
    if (!e) {
        sqlite3_stmt *st = sqlite_stmt(s, q_put);
        sqlite3_bind_int64(st, 1, m->fitted_ms);
        sqlite3_bind_int(st, 2, m->horizon_days);
        sqlite3_bind_int(st, 3, m->trained_from);
        sqlite3_bind_int(st, 4, m->trained_to);
        sqlite3_bind_int64(st, 5, m->n_rows);
        sqlite3_bind_int64(st, 6, m->n_churns);
        bind_real(st, 7, m->auc_holdout);
        bind_real(st, 8, m->brier_holdout);
        bind_real(st, 9, m->auc_health);
        sqlite3_bind_int(st, 10, adopt ? 1 : 0);
        sqlite3_bind_text(st, 11, m->card, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 12, m->data_end);
        if (adopt)
            sqlite3_bind_int64(st, 13, m->fitted_ms);
        else
            sqlite3_bind_null(st, 13);
        int rc = sqlite_step(st);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int64(st, 0);
            rc = sqlite_step(st);
        }
        if (rc != SQLITE_DONE)
            e = sqlite_fail(s, "storing a model");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    if (!e)
        return sqlite_done(s, sqlite_stmt(s, q_release), "storing a model");
    /* Keep the first error's message: the rollback's own cannot be more useful. */
    char msg[STORE_ERR_BYTES];
    snprintf(msg, sizeof msg, "%s", store_last_error(&s->base));
    sqlite_done(s, sqlite_stmt(s, q_rollback), "undoing a model");
    sqlite_done(s, sqlite_stmt(s, q_release), "undoing a model");
    store_set_error(&s->base, msg);
    return e;
}

static void read_model(sqlite3_stmt *st, struct store_model *m) {
    *m = (struct store_model){
        .version = sqlite3_column_int64(st, 0),
        .fitted_ms = sqlite3_column_int64(st, 1),
        .horizon_days = sqlite3_column_int(st, 2),
        .trained_from = sqlite3_column_int(st, 3),
        .trained_to = sqlite3_column_int(st, 4),
        .n_rows = sqlite3_column_int64(st, 5),
        .n_churns = sqlite3_column_int64(st, 6),
        .auc_holdout = col_real(st, 7),
        .brier_holdout = col_real(st, 8),
        .auc_health = col_real(st, 9),
        .adopted = sqlite3_column_int(st, 10) != 0,
        .data_end =
            sqlite3_column_type(st, 11) == SQLITE_NULL ? INT32_MAX : sqlite3_column_int(st, 11),
        .adopted_ms = sqlite3_column_int64(st, 12),
        .card = sqlite_col_text(st, 13),
    };
}

/* Steps st (bound) once: calls fn with the model it reads, or
 * TEND_ERR_NOTFOUND when none; what names the read in an error. */
static enum tend_err one_model(struct sqlite_store *s, sqlite3_stmt *st,
                               void (*fn)(void *arg, const struct store_model *m), void *arg,
                               const char *what) {
    int rc = sqlite_step(st);
    enum tend_err e = TEND_OK;
    if (rc == SQLITE_ROW) {
        struct store_model m;
        read_model(st, &m);
        fn(arg, &m);
    } else if (rc == SQLITE_DONE) {
        e = TEND_ERR_NOTFOUND;
    } else {
        e = sqlite_fail(s, what);
    }
    sqlite3_reset(st);
    return e;
}

enum tend_err sqlite_model_get(struct store *base, int64_t version,
                               void (*fn)(void *arg, const struct store_model *m), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, version ? q_get : q_get_adopted);
    if (version)
        sqlite3_bind_int64(st, 1, version);
    return one_model(s, st, fn, arg, "reading a model");
}

enum tend_err sqlite_model_for_day(struct store *base, int32_t day,
                                   void (*fn)(void *arg, const struct store_model *m), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_for_day);
    sqlite3_bind_int(st, 1, day);
    return one_model(s, st, fn, arg, "reading the model of a day");
}

enum tend_err sqlite_models_each(struct store *base,
                                 void (*fn)(void *arg, const struct store_model *m), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_each);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_model m;
        read_model(st, &m);
        m.card = NULL;
        fn(arg, &m);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the models");
}

static void bind_risk(sqlite3_stmt *st, int i, const struct store_risk *r) {
    sqlite3_bind_int(st, i + 1, r->day);
    sqlite3_bind_int64(st, i + 2, r->account_id);
    sqlite3_bind_double(st, i + 3, r->p_churn);
    sqlite3_bind_int64(st, i + 4, r->model_version);
    sqlite3_bind_text(st, i + 5, r->drivers ? r->drivers : "[]", -1, SQLITE_STATIC);
}

enum tend_err sqlite_risk_put(struct store *base, const struct store_risk *r) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_risk_put);
    bind_risk(st, 0, r);
    enum tend_err e = sqlite_done(s, st, "storing a risk score");
    sqlite3_clear_bindings(st);
    return e;
}

enum tend_err sqlite_risk_clear_day(struct store *base, int32_t day) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_risk_clear);
    sqlite3_bind_int(st, 1, day);
    return sqlite_done(s, st, "clearing a day's risk scores");
}

enum tend_err sqlite_risk_put_many(struct store *base, const struct store_risk *r, size_t n) {
    struct sqlite_store *s = sqlite_of(base);
    enum tend_err e = TEND_OK;
    size_t i = 0;
    for (; !e && i + STORE_RISK_BATCH <= n; i += STORE_RISK_BATCH) {
        sqlite3_stmt *st = sqlite_stmt(s, q_risk_put_many);
        for (int k = 0; k < STORE_RISK_BATCH; k++)
            bind_risk(st, 5 * k, &r[i + (size_t)k]);
        e = sqlite_done(s, st, "storing risk scores");
        sqlite3_clear_bindings(st);
    }
    for (; !e && i < n; i++)
        e = sqlite_risk_put(base, &r[i]);
    return e;
}

enum tend_err sqlite_risk_latest_day(struct store *base, int32_t max_day, int32_t *day,
                                     bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_risk_latest);
    sqlite3_bind_int64(st, 1, max_day);
    int rc = sqlite_step(st);
    *found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (*found)
        *day = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK
                                                 : sqlite_fail(s, "reading the risk days");
}

static void read_risk_row(sqlite3_stmt *st, struct store_risk_row *r) {
    *r = (struct store_risk_row){
        .r =
            {
                .day = sqlite3_column_int(st, 0),
                .account_id = sqlite3_column_int64(st, 1),
                .p_churn = sqlite3_column_double(st, 2),
                .model_version = sqlite3_column_int64(st, 3),
                .drivers = sqlite_col_text(st, 4),
            },
        .external_id = sqlite_col_text(st, 5),
        .name = sqlite_col_text(st, 6),
        .owner = sqlite_col_text(st, 7),
        .has_mrr = sqlite3_column_type(st, 8) != SQLITE_NULL,
        .mrr = sqlite3_column_double(st, 8),
        .band = sqlite_col_text(st, 9),
        .arr_trait =
            sqlite3_column_type(st, 10) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 10),
    };
}

enum tend_err sqlite_risk_of_day(struct store *base, int32_t day,
                                 void (*fn)(void *arg, const struct store_risk_row *r), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_risk_day);
    sqlite3_bind_int(st, 1, day);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_risk_row r;
        read_risk_row(st, &r);
        fn(arg, &r);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the risk scores");
}

enum tend_err sqlite_risk_of_account(struct store *base, int32_t day, const char *external_id,
                                     void (*fn)(void *arg, const struct store_risk_row *r),
                                     void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_risk_account);
    sqlite3_bind_int(st, 1, day);
    sqlite3_bind_text(st, 2, external_id, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_risk_row r;
        read_risk_row(st, &r);
        fn(arg, &r);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading an account's risk score");
}
