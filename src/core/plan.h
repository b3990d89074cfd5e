/* plan.h: the CTA planner: one day's findings and the CTAs an evaluation
 * watches in, the plan out (docs/rules.md, Life cycle). Pure: no store, no
 * clock.
 *
 * The planner works in two steps, because an evaluation reads accounts one
 * at a time and the caps and the budget are about all of them:
 *
 * 1. plan_account(): one account's findings (what each rule says of each key
 *    it looked at) and its watched CTAs -> resolve, close-and-replace on a
 *    type change, raise, wake, new evidence, the start and end of a run of
 *    clear days, cleared, cool down, close as churned, expire what nobody
 *    acted on in time, and candidates to open (each with its value, its
 *    priority after value, its due day, its owner).
 * 2. plan_opens(): every account's candidates, the live counts, the opens
 *    each owner already had this (ISO) week -> open, or hold back by the
 *    budget (the lowest-value first) or by a cap (the least urgent first).
 *
 * cta_decide() (core/cta.h) is the per-key step; everything around it that
 * used to be decided among store writes lives here: findings that say the
 * same thing twice, event freshness, resolve after N clear days (and not by
 * a hair: a finding "in between" keeps a CTA alive), the type change, value,
 * priority by value, due days, caps and the budget, and their order. */
#ifndef TEND_CORE_PLAN_H
#define TEND_CORE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cta.h"
#include "core/rules.h"

/* ---- value ------------------------------------------------------------------ */

/* Fallback probabilities of churn by health band, when no model scored the
 * account (docs/rules.md, Value). */
#define PLAN_P_RED     0.5
#define PLAN_P_YELLOW  0.2
#define PLAN_P_GREEN   0.05
#define PLAN_P_UNKNOWN 0.1
/* Lifecycle CTAs protect a part of the renewal; opportunity CTAs (a
 * promoter, a spike) are worth a share of ARR in expansion and advocacy. */
#define PLAN_LIFECYCLE_FACTOR   0.2
#define PLAN_OPPORTUNITY_FACTOR 0.1
/* seat_limit: the seats an account would need to grow by this share. */
#define PLAN_SEAT_HEADROOM 0.2

/* An account's year of revenue: its arr trait when it is a number >= 0,
 * else 12 x its MRR; NaN when neither is known. The one rule for CTA values
 * and tend risk's ARR at risk alike. */
double plan_arr(double arr_trait, double mrr);

/* What a CTA's value is computed from. Unknown numbers are NaN. */
struct plan_value_input {
    enum rule_builtin kind; /* RULE_CUSTOM for a custom rule */
    enum cta_type type;
    double arr;               /* a year of revenue: the arr trait, else 12 x mrr */
    double p_churn;           /* the model's probability; NaN: fall back on the band */
    const char *band;         /* "red", "yellow", "green"; NULL unknown */
    double users, seats, mrr; /* seat_limit's price of the seats needed */
};

/* The value of a CTA, in the account's currency per year; NaN when ARR is
 * unknown. Risk: p_churn x ARR; expansion: the yearly price of the seats
 * needed (seat_limit) or ARR x the opportunity factor; lifecycle: ARR x the
 * lifecycle factor; opportunity: ARR x the opportunity factor. */
double plan_value(const struct plan_value_input *in, double *p_used);

/* A rule's priority after value: one step up at or above raise_at, one
 * step down below lower_below (0: never); NaN leaves it. */
enum cta_priority plan_priority(enum cta_priority rule_priority, double value,
                                const struct rules_config *rc);

/* A value as a CSM reads it: "$42,000 ARR at risk" (risk), "$2,400 a year
 * of expansion" (expansion, opportunity), "$20,000 ARR in play"
 * (lifecycle); "" when NaN. The amount is written as labels_money writes
 * it (core/labels.h): a symbol before, an ISO code before with a space,
 * NULL or "USD" as "$". */
void plan_value_text(double value, enum cta_type type, const char *currency, char *out,
                     size_t size);

/* ---- one account ------------------------------------------------------------- */

/* What a rule said of a key today (the caller's rule_finding, reduced). */
struct plan_finding {
    int rule; /* index into rules_config.rules */
    const char *subject;
    enum cta_type type;
    enum cta_priority priority; /* the rule's */
    bool in_between;            /* not holding, not clear by the margin */
    bool event, fresh;
    double value; /* NaN: unknown */
};

/* A CTA an evaluation watches: live, or closed and not yet cleared. */
struct plan_cta {
    int64_t id;
    const char *rule; /* name */
    const char *subject;
    enum cta_type type;
    enum cta_status status;
    enum cta_priority priority;
    int32_t snoozed_until;
    enum cta_close_reason closed_reason; /* when closed */
    int32_t closed_day;
    bool cleared;
    bool has_clear_since;
    int32_t clear_since;
    int32_t due_day;
    double value; /* as stored; NaN unknown */
    bool acted;   /* a person acted on it (snooze, assign, note...) */
};

/* A live CTA's stored value is brought up to date when today's differs by
 * more than this share (ARR and p_churn move a little every day; a write a
 * day per CTA would cost more than the order it keeps). */
#define PLAN_REVALUE_SHARE 0.1

/* The account and what is known of its rules today. */
struct plan_account {
    bool churned;
    /* Per rule index: the rule looked at the account (on, in scope, and did
     * not fail); a rule that did not leaves its CTAs alone. */
    const bool *looked;
    const struct plan_finding *f;
    size_t n_f;
    const struct plan_cta *c;
    size_t n_c;
};

enum plan_action {
    PLAN_OPEN,        /* (candidate) open a CTA for finding */
    PLAN_RAISE,       /* raise cta to priority (wakes it), new due day */
    PLAN_WAKE,        /* a snoozed cta's day came */
    PLAN_EVIDENCE,    /* a fresh event on a live cta: its reason and evidence now */
    PLAN_REVALUE,     /* a live cta's value moved by more than PLAN_REVALUE_SHARE */
    PLAN_RESOLVE,     /* close cta auto_resolved: clear for resolve_after_days */
    PLAN_REPLACE,     /* close cta auto_resolved: the type changed (a new one opens) */
    PLAN_CHURNED,     /* close cta as churned */
    PLAN_EXPIRE,      /* close cta expired: nobody acted on it by its due day and
                       * the grace after (ctas.expire_after_days) */
    PLAN_CLEAR_START, /* record clear_since on a live cta */
    PLAN_CLEAR_END,   /* it holds (or is in between) again: forget clear_since */
    PLAN_CLEARED,     /* a closed cta's condition cleared: forget it */
    PLAN_COOL_DOWN,   /* holds, quiet after a manual close */
    PLAN_HOLD_BUDGET, /* an open held back by the owner's weekly budget */
    PLAN_HOLD_CAP,    /* an open held back by a cap */
    PLAN_ACTION_COUNT,
};

/* One step of the plan. finding and cta index the input arrays (-1: none). */
struct plan_step {
    enum plan_action action;
    int finding;
    int cta;
    enum cta_priority priority; /* OPEN, RAISE: after value */
    int32_t due_day;            /* OPEN, RAISE */
    int32_t clear_since;        /* CLEAR_START, RESOLVE */
    double value;               /* OPEN, HOLD_*: the finding's */
    bool replaces;              /* OPEN: follows a PLAN_REPLACE of the same key */
};

/* A growing list of steps; plan_steps_free() frees it. */
struct plan_steps {
    struct plan_step *v;
    size_t n, cap;
};
void plan_steps_free(struct plan_steps *s);

/* Appends the account's plan for day to out, in input order of findings
 * then of unmatched CTAs (a REPLACE comes before the OPEN that follows it).
 * Findings of the same key are reduced to one (a holding finding over an
 * in-between one, then the more urgent, then the higher value). */
void plan_account(const struct rules_config *rc, int32_t day, const struct plan_account *a,
                  struct plan_steps *out);

/* ---- opens: caps and the budget ---------------------------------------------- */

/* An open candidate from plan_account(), with what the caps and the budget
 * need; the caller keeps its own data by index. */
struct plan_candidate {
    int64_t account_id;
    const char *account; /* external id: the order's last tie-break */
    const char *rule;
    const char *subject;
    const char *owner;
    enum cta_priority priority; /* after value */
    double value;
    bool replaces; /* the open of a PLAN_REPLACE: never held back */
};

/* The opens an owner had so far in the ISO week of the day. */
struct plan_owner_week {
    const char *owner;
    int64_t opened;
};

struct plan_opens_input {
    const struct plan_candidate *c;
    size_t n_c;
    const struct plan_owner_week *owners;
    size_t n_owners;
    /* Live CTAs per account before the opens: live_of(arg, account_id). */
    int64_t (*live_of)(void *arg, int64_t account_id);
    void *live_arg;
    int64_t live_total;
};

/* Decides each candidate: steps with finding = the candidate's index and
 * action OPEN, HOLD_BUDGET or HOLD_CAP, in the order to apply them: by
 * priority (high first), then value, then account, rule, subject. The caps
 * (max_open_per_account, max_open_total) take candidates in that order; the
 * budget (rules.budget.per_owner_per_week; 0: none) keeps each owner's
 * highest-value candidates among those the caps let through within what
 * is left of the week (one the caps hold back costs no budget); room the
 * budget freed goes to candidates the caps held, in order, while their
 * owner has budget. A replacement (PLAN_REPLACE's open) takes no room and
 * is never held, though it counts against the budget. */
void plan_opens(const struct rules_config *rc, int32_t day, const struct plan_opens_input *in,
                struct plan_steps *out);

/* The Monday of day's ISO week. */
int32_t plan_week_start(int32_t day);

const char *plan_action_name(enum plan_action a);

#endif
