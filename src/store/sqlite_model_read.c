/* sqlite_model_read.c: INTERIM reads of migration 14's tables (models,
 * risk_by_day) for the dashboard; see model_read.h for why and until when.
 *
 * The design: every call first asks sqlite_master whether the table is
 * there (a database before migration 14 has none: nothing is found, nothing
 * fails), since a statement on a missing table cannot be prepared. The
 * columns are read as the contract names them; a day stored as text
 * ("2026-12-01") is read as well as a day number. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/model_read.h"
#include "store/sqlite_int.h"
#include "util/datetime.h"

static const char q_table[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1";
static const char q_models[] =
    "SELECT version, fitted_ms, horizon_days, trained_from, trained_to, n_rows, n_churns, "
    "auc_holdout, brier_holdout, auc_health, adopted, card FROM models "
    "WHERE ?1 = 0 OR version = ?1 ORDER BY version DESC";
static const char q_current[] = "SELECT max(version) FROM models WHERE adopted = 1";
static const char q_risk_day[] = "SELECT max(day) FROM risk_by_day";
static const char q_risk[] =
    "SELECT r.day, r.account_id, a.external_id, r.p_churn, r.model_version, r.drivers "
    "FROM risk_by_day r JOIN accounts a ON a.id = r.account_id "
    "WHERE r.day = ?1 AND (?2 = 0 OR r.account_id = ?2)";

/* Whether the table name exists. */
static enum tend_err has_table(struct store *s, const char *name, bool *yes) {
    sqlite3_stmt *st = sqlite_stmt(s, q_table);
    sqlite_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? TEND_OK : sqlite_fail(s, "looking for a table");
}

static double col_num(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* A day column: a day number, or a "YYYY-MM-DD" text. */
static bool col_day(sqlite3_stmt *st, int i, int32_t *day) {
    int type = sqlite3_column_type(st, i);
    if (type == SQLITE_INTEGER) {
        *day = (int32_t)sqlite3_column_int64(st, i);
        return true;
    }
    const char *t = type == SQLITE_TEXT ? sqlite_col_text(st, i) : NULL;
    return t && dt_parse_date(t, strlen(t), day);
}

enum tend_err store_models_read(struct store *s, int64_t version,
                                void (*fn)(void *arg, const struct store_model_row *m), void *arg) {
    bool yes;
    enum tend_err e = has_table(s, "models", &yes);
    if (e)
        return e;
    if (!yes)
        return version ? TEND_ERR_NOTFOUND : TEND_OK;
    sqlite3_stmt *st = sqlite_stmt(s, q_models);
    sqlite3_bind_int64(st, 1, version);
    int rc, rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_model_row m = {
            .version = sqlite3_column_int64(st, 0),
            .fitted_ms = sqlite3_column_int64(st, 1),
            .horizon_days = sqlite3_column_int(st, 2),
            .n_rows = sqlite3_column_int64(st, 5),
            .n_churns = sqlite3_column_int64(st, 6),
            .auc_holdout = col_num(st, 7),
            .brier_holdout = col_num(st, 8),
            .auc_health = col_num(st, 9),
            .adopted = sqlite3_column_int(st, 10) != 0,
            .card = sqlite_col_text(st, 11),
        };
        m.has_from = col_day(st, 3, &m.trained_from);
        m.has_to = col_day(st, 4, &m.trained_to);
        fn(arg, &m);
        rows++;
    }
    if (rc != SQLITE_DONE)
        e = sqlite_fail(s, "reading the models");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!e && version && rows == 0)
        e = TEND_ERR_NOTFOUND;
    return e;
}

/* One integer of a one-row query; *found false when NULL. */
static enum tend_err one_int(struct store *s, const char *sql, int64_t *v, bool *found,
                             const char *what) {
    sqlite3_stmt *st = sqlite_stmt(s, sql);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (*found)
        *v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? TEND_OK : sqlite_fail(s, what);
}

enum tend_err store_model_current(struct store *s, int64_t *version, bool *found) {
    bool yes;
    enum tend_err e = has_table(s, "models", &yes);
    *found = false;
    if (e || !yes)
        return e;
    return one_int(s, q_current, version, found, "reading the current model");
}

enum tend_err store_risk_latest_day(struct store *s, int32_t *day, bool *found) {
    bool yes;
    enum tend_err e = has_table(s, "risk_by_day", &yes);
    *found = false;
    if (e || !yes)
        return e;
    int64_t v = 0;
    if ((e = one_int(s, q_risk_day, &v, found, "reading the latest risk day")))
        return e;
    *day = (int32_t)v;
    return TEND_OK;
}

enum tend_err store_risk_read(struct store *s, int32_t day, int64_t account_id,
                              void (*fn)(void *arg, const struct store_risk_row *r), void *arg) {
    bool yes;
    enum tend_err e = has_table(s, "risk_by_day", &yes);
    if (e || !yes)
        return e;
    sqlite3_stmt *st = sqlite_stmt(s, q_risk);
    sqlite3_bind_int64(st, 1, day);
    sqlite3_bind_int64(st, 2, account_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_risk_row r = {
            .account_id = sqlite3_column_int64(st, 1),
            .external_id = sqlite_col_text(st, 2),
            .p_churn = col_num(st, 3),
            .model_version = sqlite3_column_int64(st, 4),
            .drivers = sqlite_col_text(st, 5),
        };
        if (!col_day(st, 0, &r.day))
            r.day = day;
        fn(arg, &r);
    }
    if (rc != SQLITE_DONE)
        e = sqlite_fail(s, "reading the risk scores");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}
