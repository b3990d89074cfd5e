/* risk.h: the churn-risk model as evaluation applies it (docs/analysis.md,
 * "The churn-risk model").
 *
 * One definition of an account's model inputs as of an instant, from its
 * metrics (SPEC 3), its health components and its age, shared by the fit
 * (analysis/model.c builds its training rows with risk_inputs()) and by every
 * evaluation (eval.c scores each account with the adopted model), so the
 * model sees at scoring time exactly what it was fitted on. Every input is a
 * function of the account's state as of T only: nothing from a later day, no
 * current field (the ARR, name and owner shown next to a score are today's).
 *
 * A model is a column recipe (stats/transform.h: log1p for counts, standardise
 * with the training rows' mean and sd, a NAME_missing indicator where an input
 * was missing in training), a penalised logistic regression on those columns
 * (stats/ridge.h) and a Platt calibration of its log odds. It is stored as
 * part of the model card (the JSON of `tend model show --format json`, key
 * "recipe" and "coefficients" and "platt") and read back from it here.
 *
 * The drivers of a score are the columns' signed contributions coef x value
 * (log odds, relative to an account at the training means), summed per
 * input (a value and its missing indicator) and then per concept (enum
 * risk_group: the NPS and the sentiment component are one driver, so that
 * correlated inputs pulling apart do not read as contradictions), the three
 * largest in absolute value, each shown by the member pulling hardest the
 * group's way, in words a CSM reads ("logins down 60% vs the previous 4
 * weeks"). */
#ifndef TEND_EVAL_RISK_H
#define TEND_EVAL_RISK_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/health.h"
#include "core/metrics.h"
#include "stats/ridge.h"
#include "stats/transform.h"
#include "store/store.h"

/* Which inputs a model uses (tend model fit --features). */
enum risk_features { RISK_F_METRICS = 1, RISK_F_COMPONENTS = 2, RISK_F_BOTH = 3 };

/* Every input any model may use, in this order. */
enum risk_input {
    RI_LOGINS_7D,
    RI_LOGINS_PREV_28D,
    RI_LOGIN_TREND,
    RI_DAYS_SINCE_LOGIN,
    RI_ACTIVE_USER_RATIO,
    RI_USERS,
    RI_FEATURE_EVENTS_7D,
    RI_FEATURE_EVENTS_PREV_28D,
    RI_USAGE_TREND,
    RI_FEATURES_USED_30D,
    RI_NPS,
    RI_NPS_RESPONSES_90D,
    RI_TICKETS_OPEN,
    RI_TICKETS_30D,
    RI_OVERDUE_INVOICES,
    RI_MAX_DAYS_OVERDUE,
    RI_OVERDUE_AMOUNT,
    RI_CARD_DAYS_LEFT,
    RI_RENEWAL_DAYS_LEFT,
    RI_SEAT_UTILIZATION,
    RI_OUTREACH_UNANSWERED,
    RI_DAYS_SINCE_REPLY,
    RI_MRR,
    RI_AGE_DAYS,
    RI_C_LOGINS, /* the five health components, 0-100 */
    RI_C_ADOPTION,
    RI_C_SENTIMENT,
    RI_C_SUPPORT,
    RI_C_FINANCIAL,
    RI_COUNT
};

#define RISK_MAX_COLUMNS  STATS_RECIPE_MAX_COLUMNS
#define RISK_DRIVERS      3
#define RISK_WORDS_BYTES  96
#define RISK_DRIVERS_JSON 320 /* the stored drivers of one score, at most */

/* The input's name (the recipe's column name); its transform. */
const char *risk_input_name(enum risk_input i);
enum stats_xform risk_input_xform(enum risk_input i);
/* True when a model of features f uses input i. */
bool risk_input_used(enum risk_features f, enum risk_input i);
/* "metrics", "components", "both"; parse: false when none of those. */
const char *risk_features_name(enum risk_features f);
bool risk_features_parse(const char *s, enum risk_features *out);

/* The raw value of every input (RI_COUNT values, NaN: missing) for an account
 * with metrics m, health score h (computed from m) and first seen at
 * first_seen_ms, as of t_ms. Pure. */
void risk_inputs(const struct metrics *m, const struct health_score *h, int64_t first_seen_ms,
                 int64_t t_ms, double *raw);

/* A fitted model, ready to score. */
struct risk_model {
    int64_t version;  /* 0 until stored */
    int32_t data_end; /* the last day of data its labels saw (from the store) */
    int horizon_days;
    enum risk_features features;
    struct stats_recipe recipe;
    int input_of[RISK_MAX_COLUMNS]; /* recipe input column -> enum risk_input */
    double intercept;
    double coef[RISK_MAX_COLUMNS]; /* per output column of the recipe */
    struct stats_platt platt;
};

/* The inputs of model mo from all the raw inputs (raw: RI_COUNT values) into
 * row (mo->recipe.n_in values). */
void risk_model_row(const struct risk_model *mo, const double *raw, double *row);

/* What a driver is about: inputs that measure the same thing form a group
 * (risk_score_raw sums a group's contributions). */
enum risk_group {
    RISK_G_LOGINS,
    RISK_G_USAGE,
    RISK_G_SENTIMENT,
    RISK_G_SUPPORT,
    RISK_G_BILLING,
    RISK_G_OUTREACH,
    RISK_G_SEATS,
    RISK_G_RENEWAL,
    RISK_G_ACCOUNT, /* size and age */
    RISK_GROUP_COUNT
};
int risk_group_of(enum risk_input in);

struct risk_driver {
    enum risk_input input;
    double contribution; /* log odds */
    double value;        /* the input's raw value (NaN: unknown) */
    double typical;      /* the model's training rows' typical raw value (NaN: none) */
    char words[RISK_WORDS_BYTES];
};

struct risk_score {
    double log_odds;
    double p_churn; /* calibrated */
    struct risk_driver drivers[RISK_DRIVERS];
    int n_drivers;
    char stored[RISK_DRIVERS_JSON]; /* the drivers as stored (risk_drivers_json) */
};

/* Scores raw inputs (RI_COUNT values) with mo, the drivers' stored form
 * included. words: also write the drivers' words (false: contributions and
 * values only; risk_drivers_words makes them when the rows are read). */
void risk_score_raw(const struct risk_model *mo, const double *raw, bool words,
                    struct risk_score *out);
/* The drivers as stored (risk_by_day.drivers): a JSON array of up to three
 * [feature, contribution, value] (value null when unknown) into buf
 * (RISK_DRIVERS_JSON bytes), then the input's typical value in the
 * model's training rows (the inverse transform of their mean; null: none;
 * rows stored before it have three elements). The words are made from
 * feature, value and typical value
 * when the rows are read (risk_rows_json): a third of the bytes a day's rows
 * would take with them, and the wording can improve without a migration. */
void risk_drivers_json(const struct risk_score *sc, char *buf, size_t size);
/* The stored drivers (text as above) as the JSON array the CLI and the API
 * show: [{feature, contribution, words}] (an empty array for text it cannot
 * read). */
cJSON *risk_drivers_words(const char *stored);

/* An evaluation's risk rows, kept until it stores them all at once
 * (store_risk_put_many): the drivers' text is copied in. */
struct risk_batch {
    struct store_risk *rows;
    char (*drivers)[RISK_DRIVERS_JSON];
    size_t n, cap;
};
void risk_batch_add(struct risk_batch *b, int32_t day, int64_t account_id, int64_t version,
                    const struct risk_score *sc);
/* Stores the rows and empties b (its memory kept for reuse). */
enum tend_err risk_batch_flush(struct store *s, struct risk_batch *b);
void risk_batch_free(struct risk_batch *b);

/* The model's parameters as the card keeps them ("features", "recipe",
 * "coefficients", "platt", "horizon_days") added to card; and read back
 * from a card (TEND_ERR_INVALID with a message in err, STATS_ERR_BYTES, when
 * the card does not describe a model this build can apply). */
void risk_model_to_card(const struct risk_model *mo, const struct stats_fit *fit, cJSON *card);
enum tend_err risk_model_from_card(const cJSON *card, struct risk_model *out, char *err);

/* The adopted model of store s into *out (malloced; the caller frees), NULL
 * when none is adopted. A stored card that cannot be read is an error
 * (TEND_ERR_INVALID, the store's message says which model). */
enum tend_err risk_model_load_adopted(struct store *s, struct risk_model **out);
/* The model that scores day (store_model_for_day: the most recently adopted
 * model whose data end on or before day, so that a replay of a past day never
 * uses a model fitted on that day's future) into *out as above; NULL when
 * there is none (the day is scored without p_churn). */
enum tend_err risk_model_load_for_day(struct store *s, int32_t day, struct risk_model **out);

/* ---- the rows of tend risk and GET /api/risk ------------------------------ */

/* The scored accounts of day (the latest day with stored scores on or before
 * day when exact is false) as a JSON array, by arr_at_risk descending
 * (accounts without an ARR last, then by p_churn): each {account_id, name,
 * owner, p_churn, arr, arr_at_risk, band, model_version, drivers: [{feature,
 * contribution, words}]}; limit > 0 keeps that many. *day_out: the day read;
 * *found false (and an empty array) when no day has scores. */
enum tend_err risk_rows_json(struct store *s, int32_t day, int64_t limit, cJSON **out,
                             int32_t *day_out, bool *found);

/* The risk row of one account (its external id) on the latest complete day,
 * as one element of risk_rows_json's array, into *out (NULL when the account
 * has none that day); *day_out the day read. Reads that account's row only. */
enum tend_err risk_account_json(struct store *s, const char *external_id, cJSON **out,
                                int32_t *day_out);

#endif
