/* model_read.h: INTERIM reads of the churn-risk model's tables for the
 * dashboard (issue 16, branch d-dash).
 *
 * m-model owns the tables (migration 14: models, risk_by_day) and their store
 * functions; until those land, the dashboard's views (server/views_model.c)
 * read the tables through these few calls, written against the schema the
 * issue's contract declares. On a database without the tables (before
 * migration 14) every call finds nothing: no model, no scores. When m-model's
 * store functions are merged, the lead points views_model.c at them and
 * deletes this header and sqlite_model_read.c. */
#ifndef TEND_STORE_MODEL_READ_H
#define TEND_STORE_MODEL_READ_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* A row of `models`. Days are tend's UTC day numbers; unknown numbers are
 * NAN, an unknown day has_* false. card is the JSON text of `tend model show
 * --format json` (NULL when none); strings live for the callback. */
struct store_model_row {
    int64_t version, fitted_ms;
    int horizon_days;
    bool has_from, has_to;
    int32_t trained_from, trained_to;
    int64_t n_rows, n_churns;
    double auc_holdout, brier_holdout, auc_health;
    bool adopted;
    const char *card;
};
/* Calls fn for the model of version (0: every model, newest first).
 * TEND_ERR_NOTFOUND (fn not called) for a version that is not there. */
enum tend_err store_models_read(struct store *s, int64_t version,
                                void (*fn)(void *arg, const struct store_model_row *m), void *arg);
/* The version of the current model: the adopted one with the highest
 * version; *found false when none is adopted (or there is no table). */
enum tend_err store_model_current(struct store *s, int64_t *version, bool *found);

/* A row of `risk_by_day`, with its account's external id. drivers is the
 * stored JSON text (NULL when none); strings live for the callback. */
struct store_risk_row {
    int32_t day;
    int64_t account_id;
    const char *external_id;
    double p_churn;
    int64_t model_version;
    const char *drivers;
};
/* The latest day with risk scores; *found false when none. */
enum tend_err store_risk_latest_day(struct store *s, int32_t *day, bool *found);
/* Calls fn for every score of day (account_id 0), or the one of that account. */
enum tend_err store_risk_read(struct store *s, int32_t day, int64_t account_id,
                              void (*fn)(void *arg, const struct store_risk_row *r), void *arg);

#endif
