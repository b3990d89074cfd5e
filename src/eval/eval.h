/* eval.h: evaluation as of an instant: from the store to core/.
 *
 * core/ computes metrics (and, later, scores and rules) from plain data and
 * never touches the store; this module is the one that reads what core needs
 * for a day and feeds it in. For every account at once it makes one pass
 * over each of: the memberships, the facts that still matter at T, and the
 * activity window, which as of a midnight is one precomputed row per account
 * and otherwise comes from the daily rollups and, for stale or split days,
 * the day-first events index (docs/store.md). */
#ifndef TEND_EVAL_EVAL_H
#define TEND_EVAL_EVAL_H

#include <stdint.h>

#include "core/metrics.h"
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

/* Rebuilds the activity rollups of every stale day (store_activity_refresh),
 * a few days per transaction so that writers wait little; *days tells how
 * many. Metrics are right without it, only slower over stale days. */
enum tend_err eval_refresh_rollups(struct store *s, int *days);

#endif
