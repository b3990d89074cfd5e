/* ctas_int.h: what ctas.c (a day's evaluation of accounts) and ctas_open.c
 * (the opens held until every account is done: the owners' weekly budget and
 * the published caps) share, and nobody else. */
#ifndef TEND_EVAL_CTAS_INT_H
#define TEND_EVAL_CTAS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cta.h"
#include "core/plan.h"
#include "core/rules.h"
#include "eval/ctas.h"
#include "eval/eval.h"
#include "eval/risk.h"
#include "eval/segments.h"
#include "eval/users.h"
#include "notify/outbox.h"

/* A CTA an evaluation watches (store_ctas_watched_each), owned here. */
struct watched {
    struct store_cta c; /* strings malloced */
};

/* A finding kept until the account's decisions are made. */
struct found {
    struct rule_finding f; /* evidence malloced */
    double value;          /* NaN: unknown */
};

/* An open waiting for the budget and the caps. */
struct pending_open {
    int64_t account_id;
    char *account;
    char *owner;
    struct rule_finding f;      /* evidence malloced */
    const char *rule;           /* borrowed from the configuration */
    enum cta_priority priority; /* after value */
    int32_t due_day;
    double value;
    bool replaces;              /* follows the close of its key's CTA of another type */
    struct notify_account acct; /* strings malloced; when notifying */
};

struct engine {
    struct store *s;
    const struct health_config *hc;
    const struct rules_config *rc;
    const struct notify_config *nc; /* NULL or nothing to notify: no outbox rows */
    int32_t day;
    int64_t t_ms, since_ms, now_ms;
    const int64_t *only; /* NULL: every account; else ascending, distinct */
    size_t n_only;
    eval_change_fn fn;
    void *arg;
    struct eval_summary *sum;
    enum tend_err err;
    /* Watched CTAs by account (sorted by account id). */
    struct watched *w;
    size_t n_w, cap_w;
    /* Live CTAs per account (by id; with only, by position in only, so
     * that memory follows the accounts evaluated, not the largest id), and
     * in all. */
    int64_t *live;
    size_t live_len;
    int64_t live_total;
    /* health_drop's earlier day: every account's by id, or with only, the
     * listed accounts' by position (known[i]: a score is stored). */
    struct eval_day_scores before;
    double *before_only;
    bool *before_known;
    /* Today's findings of the account at hand. */
    struct found *found;
    size_t n_found, cap_found;
    struct pending_open *opens;
    size_t n_opens, cap_opens;
    const char *account;        /* the account at hand (external id) */
    struct notify_account acct; /* the account at hand, for its messages */
    bool failed[RULES_MAX];     /* the account at hand's rules that failed today */
    /* Custom rules that ran out of time on RULE_TIMEOUTS_SUSPEND accounts of
     * this run: not asked again until the next run, which tries them afresh. */
    int timeouts[RULES_MAX];
    bool suspended[RULES_MAX];
    char label[160];             /* the user_label() answer */
    struct risk_model *risk;     /* the adopted churn-risk model, NULL when none */
    struct risk_batch risk_rows; /* its scores, stored after the accounts */
    struct eval_roles *roles;    /* members with a role (champion_risk), NULL: not read */

    struct seg_agg *agg; /* the day's groups (eval/segments.h); NULL: none */
};

/* Writes the outbox rows of a change (notify/outbox.h), in this transaction. */
enum tend_err ctas_notify(struct engine *e, enum notify_event ev, const struct store_cta *c,
                          const struct notify_account *a, const char *previous, const char *note);
/* Tells the caller's eval_change_fn of a change (none: nothing). */
void ctas_tell(struct engine *e, const char *action, const struct store_cta *c);
/* Adds an entry by tend to a CTA's history, as of the evaluation. */
enum tend_err ctas_history(struct engine *e, const struct store_cta *c, const char *action,
                           const char *note);
/* The count of an account's live CTAs, kept as the evaluation changes them. */
int64_t *ctas_live_slot(struct engine *e, int64_t account_id);
/* Sets a CTA's value (NaN: unknown). */
void ctas_set_value(struct store_cta *c, double value);

/* ctas_open.c: queues an open the plan decided for account a (its finding
 * f, step p), and applies every queued open once the accounts are done:
 * plan_opens() with the owners' weeks and the caps; the held ones stored. */
void ctas_queue_open(struct engine *e, const struct eval_account *a, const struct found *f,
                     const struct plan_step *p);
enum tend_err ctas_apply_opens(struct engine *e);
/* Frees a notify_account's strings. */
void ctas_free_acct(struct notify_account *a);

/* ctas_holdout.c: records the holdout draw of CTA c (just inserted, of
 * account, its external id) when its rule has a holdout; and whether a CTA
 * is held out (created, not delivered): its record, or for a CTA without
 * an id (held back by the budget), its draw. */
enum tend_err ctas_holdout_record(struct engine *e, const struct store_cta *c, const char *account);
enum tend_err ctas_holdout_of(struct engine *e, const struct store_cta *c, const char *account,
                              bool *held);

#endif
