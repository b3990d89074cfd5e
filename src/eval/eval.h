/* eval.h: evaluation as of an instant: from the store to core/.
 *
 * core/ computes metrics (and, later, scores and rules) from plain data and
 * never touches the store; this module is the one that reads what core needs
 * for a day and feeds it in. For every account at once it makes one pass
 * over each of: the memberships, the facts that still matter at T, and the
 * activity window (for a few listed accounts, one index seek per account
 * instead of a pass), which as of a midnight is one precomputed row per account
 * and otherwise comes from the daily rollups and, for stale or split days,
 * the day-first events index (docs/store.md). */
#ifndef TEND_EVAL_EVAL_H
#define TEND_EVAL_EVAL_H

#include <stdint.h>

#include "core/metrics.h"
#include "core/rules.h"
#include "eval/risk.h"
#include "store/store.h"

/* Called once per account, in external id order; returns nonzero to stop.
 * id is the internal id, account_id the external one; the pointers live for
 * the call only. */
typedef int (*eval_metrics_fn)(void *arg, int64_t id, const char *account_id,
                               const struct metrics *m);

/* Computes the SPEC 3 metrics as of t_ms for every account known at t_ms (first
 * seen before it), or for the one whose external id is account
 * (TEND_ERR_NOTFOUND if unknown; no call of fn if not known yet at t_ms). */
enum tend_err eval_metrics(struct store *s, int64_t t_ms, const char *account, eval_metrics_fn fn,
                           void *arg);

/* The same for the accounts ids (internal ids, any order; n may be 0) only,
 * reading their rows alone. */
enum tend_err eval_metrics_of(struct store *s, int64_t t_ms, const int64_t *ids, size_t n,
                              eval_metrics_fn fn, void *arg);

/* What evaluation needs of an account beyond its metrics: its fields as
 * stored (current values), the facts rules read, the latest ticket. */
struct eval_account {
    int64_t id;
    const char *account_id; /* external */
    const struct store_account_fields *f;
    const char *traits_json;
    int64_t first_seen_ms;
    const struct metrics *m;
    struct rules_facts *facts; /* feed to rules_facts_finish() */
    bool has_last_ticket;
    int64_t last_ticket_ms;
    /* The adopted churn-risk model's calibrated probability that the account
     * churns within its horizon (NaN: no adopted model, or a former
     * customer), the model's version (0: none), and the score with its
     * drivers (NULL when NaN). */
    double p_churn;
    int64_t model_version;
    const struct risk_score *risk;
};

struct eval_options {
    /* Look up the latest ticket of accounts with at least this many users
     * (support_tickets' too_quiet; 0: of none). */
    int64_t last_ticket_min_users;
    /* Non-NULL: evaluate these n_ids accounts (internal ids, any order,
     * repeats allowed) only, reading from the store their rows alone: the
     * cost, reads and memory, grows with n_ids, not with the accounts
     * stored nor with the largest account id. */
    const int64_t *ids;
    size_t n_ids;
    /* Non-NULL: score every customer with this churn-risk model (its health
     * components computed with hc) into eval_account.p_churn. */
    const struct risk_model *risk;
    const struct health_config *hc;
};

typedef int (*eval_account_fn)(void *arg, const struct eval_account *a);

/* As eval_metrics, with everything rules need; every pointer lives for the
 * call only. */
enum tend_err eval_accounts(struct store *s, int64_t t_ms, const char *account,
                            const struct eval_options *o, eval_account_fn fn, void *arg);

/* A health score as stored for day, with the configuration's version. */
void eval_score_row(const struct health_config *c, int32_t day, const struct health_score *h,
                    struct store_score *out);

/* The overall scores stored for one day, by account id (trends, and the
 * score health_drop compares with). */
struct eval_day_scores {
    double *overall;
    bool *known;
    size_t len;
    size_t rows; /* rows read, with or without a score */
};
/* Reads day's stored scores into d (zeroed first); version NULL: under any
 * configuration. */
enum tend_err eval_day_scores_load(struct store *s, int32_t day, const char *version,
                                   struct eval_day_scores *d);
/* Records an account's score (has false: no score). */
void eval_day_scores_put(struct eval_day_scores *d, int64_t account_id, bool has, double overall);
/* The account's score, false when none. */
bool eval_day_score(const struct eval_day_scores *d, int64_t account_id, double *overall);
void eval_day_scores_free(struct eval_day_scores *d);

/* Rebuilds the activity rollups of every stale day (store_activity_refresh),
 * a few days per transaction so that writers wait little; *days tells how
 * many. Metrics are right without it, only slower over stale days. */
enum tend_err eval_refresh_rollups(struct store *s, int *days);

#endif
