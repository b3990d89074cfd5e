/* segments.h: the day's segment, plan and owner groups, and segment_shift's
 * CTAs (docs/dashboard.md "Segments", docs/rules.md "segment_shift").
 *
 * The daily evaluation adds each account it scores to a struct seg_agg
 * (core/segments.h) from what it already has in memory, and then, in the
 * same transaction:
 * - a full evaluation (one node: eval_ctas_day) writes the day's groups
 *   and runs segment_shift at once (eval_segments_day);
 * - a bucket of a scheduled run (several nodes) writes its part
 *   (eval_segments_part), and the node whose bucket completes the run sums
 *   the parts into the day's groups and runs segment_shift, once
 *   (eval_segments_finish, from server/sched.c);
 * - an evaluation of the accounts events touched writes nothing: the day's
 *   groups are the daily run's.
 *
 * segment_shift's CTAs are keyed by segment: account STORE_SEGMENTS_ACCOUNT
 * (no account row) and subject the segment's name, so that one open per
 * key, snooze, close, expiry, auto-resolve, history and delivery are the
 * CTA life cycle of every other rule (core/plan.h decides). They go to the
 * segment's owner (segments.NAME.owner, else ctas.cs_lead, else
 * ctas.default_owner) and, one per segment at most, skip the CSMs' weekly
 * budget and the per-account caps. */
#ifndef TEND_EVAL_SEGMENTS_H
#define TEND_EVAL_SEGMENTS_H

#include "core/health.h"
#include "core/segments.h"
#include "eval/ctas.h"
#include "eval/eval.h"

/* Adds a customer's day to agg: its metrics, score, ARR (NaN: unknown) and
 * the live CTAs it has after its evaluation. */
void eval_segments_add(struct seg_agg *agg, const struct eval_account *a,
                       const struct health_score *h, double arr, int64_t open_ctas);

/* A full evaluation's groups: stores them as day's and runs segment_shift
 * (changes to fn, counts into sum), in the caller's transaction. */
enum tend_err eval_segments_day(struct store *s, const struct rules_config *rc,
                                const struct notify_config *nc, int32_t day, int64_t now_ms,
                                const struct seg_agg *agg, eval_change_fn fn, void *arg,
                                struct eval_summary *sum);
/* A bucket's groups: part `part` of scheduled run due_ms. */
enum tend_err eval_segments_part(struct store *s, int64_t due_ms, int part,
                                 const struct seg_agg *agg);
/* The run due_ms of day is complete: its parts summed are the day's groups
 * (then forgotten), and segment_shift runs, in the caller's transaction. */
enum tend_err eval_segments_finish(struct store *s, const struct rules_config *rc,
                                   const struct notify_config *nc, int32_t day, int64_t due_ms,
                                   int64_t now_ms, eval_change_fn fn, void *arg,
                                   struct eval_summary *sum);

#endif
