/* ctas.h: one evaluation of every account as of a day: metrics, health
 * scores, rules, and the CTAs they open, raise, wake and resolve.
 *
 * eval_ctas_day() is what the daily schedule runs, and what `tend eval`
 * replays day by day: it computes every account's metrics and score as of
 * the end of day D, stores the scores, runs the rules (core/rules.h), and
 * applies cta_decide() (core/cta.h) to each key a rule looked at, all in one
 * transaction with each change in the CTA's history. Running it again for
 * the same day changes no CTA. docs/rules.md has the life cycle and the
 * choices. */
#ifndef TEND_EVAL_CTAS_H
#define TEND_EVAL_CTAS_H

#include <stdint.h>

#include "core/health.h"
#include "core/rules.h"
#include "notify/config.h"
#include "store/store.h"

/* One change an evaluation made, for printing; strings live for the call. */
struct eval_change {
    const char *action; /* "open", "raise", "wake", "resolve", "close" (churned) */
    int64_t cta_id;
    const char *account;
    const struct store_cta *cta; /* as it is after the change */
};

/* A custom rule that runs out of time on this many accounts of one run is
 * not asked again in that run (docs/rules.md, Custom rules). */
#define RULE_TIMEOUTS_SUSPEND 3

/* What a day's evaluation did. */
struct eval_summary {
    int32_t day;
    int64_t accounts;
    int64_t opened, raised, woken, resolved, closed_churned;
    int64_t expired;         /* closed: no one acted on them in time (ctas.expire_after_days) */
    int64_t held_back;       /* opens the caps refused (they open once there is room) */
    int64_t held_budget;     /* opens the owners' weekly budget held back (stored, listed) */
    int64_t held_budget_new; /* of those, held for the first time in their ISO week */
    int64_t rule_errors;
    int64_t rules_suspended;      /* custom rules stopped after RULE_TIMEOUTS_SUSPEND time-outs */
    int64_t notifications;        /* outbox rows written */
    int64_t live_total;           /* open and snoozed CTAs after it (every account's) */
    int64_t busiest_account_live; /* the most live CTAs of one account (evaluated) */
    int64_t run_ms;
};

/* Called for each change, and for each custom rule error (change NULL,
 * error set: "rule NAME: line N: ..." and the account), and once when the
 * adopted risk model cannot be read (account "(every account)"). */
typedef void (*eval_change_fn)(void *arg, const struct eval_change *change, const char *error,
                               const char *account);

/* Copies a CTA read from the store, its strings malloced (NULL stays NULL),
 * to keep it past the read's callback; eval_cta_release() frees them. */
void eval_cta_copy(struct store_cta *dst, const struct store_cta *src);
void eval_cta_release(struct store_cta *c);
/* Reads CTA id into *out, copied as above; TEND_ERR_NOTFOUND when none. */
enum tend_err eval_cta_get(struct store *s, int64_t id, struct store_cta *out);

/* Evaluates every account as of the end of day (T = day + 1 at 00:00Z).
 * fn (may be NULL) hears of each change. nc (may be NULL) routes the
 * changes' notifications into the outbox, in the same transaction, when
 * notify_wanted() says the day is recent enough. On failure nothing of it
 * is kept. */
enum tend_err eval_ctas_day(struct store *s, const struct health_config *hc,
                            const struct rules_config *rc, const struct notify_config *nc,
                            int32_t day, eval_change_fn fn, void *arg, struct eval_summary *out);

/* The same for the accounts ids (internal ids, any order, repeats allowed)
 * only: what the events that arrived for them change, now. One run for the
 * whole set: one transaction, one read of the risk model, and from the store
 * only these accounts' rows (their data, watched CTAs and earlier scores),
 * so its cost, reads and memory, grows with n, not with the accounts stored
 * nor with the largest account id; the caps weigh
 * their opens against every account's live CTAs and the budget against
 * every owner's opens of the week, as stored. Not recorded as an evaluation
 * of the day (store_eval_run_put), so the next full one still fires the
 * event rules for every account's events since the previous full one. */
enum tend_err eval_ctas_accounts(struct store *s, const struct health_config *hc,
                                 const struct rules_config *rc, const struct notify_config *nc,
                                 int32_t day, const int64_t *ids, size_t n, eval_change_fn fn,
                                 void *arg, struct eval_summary *out);
/* eval_ctas_accounts for bucket `bucket` of the scheduled run due_ms: the
 * accounts' segment, plan and owner sums are stored as the run's part, for
 * the node that completes the run (eval/segments.h). */
enum tend_err eval_ctas_bucket(struct store *s, const struct health_config *hc,
                               const struct rules_config *rc, const struct notify_config *nc,
                               int32_t day, const int64_t *ids, size_t n, int64_t due_ms,
                               int bucket, eval_change_fn fn, void *arg, struct eval_summary *out);

#endif
