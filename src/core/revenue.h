/* revenue.h: an account's revenue movements, and the retention of a period
 * (docs/analysis.md, "Revenue movements" and "Retention").
 *
 * What an account pays is known three ways: `Subscription Changed` events
 * (mrr_before, mrr_after, reason), the outcomes `Account Renewed` and
 * `Account Churned` (arr, reason), and the dated values of its `mrr` trait
 * (group calls). They often say the same thing twice: a billing system sends
 * the change and the CRM updates the trait the same afternoon. This module
 * turns them into one MRR path per account, a step function, and names each
 * step: new, expansion, contraction, churn, reactivation (and renewals,
 * which are dated but move nothing by themselves).
 *
 * The one reconciliation rule: within a UTC day, an account's events apply
 * first, in time order; then the day's LAST mrr trait value, when it differs
 * from the trait's previous value, which moves the MRR only by what it says
 * beyond the events. A trait that echoes an event (whenever in the day it
 * arrived) is no second movement; a trait without an event is a movement
 * without a reason; a trait repeated unchanged (a CRM nobody zeroed after a
 * churn) is no news. Amounts within half a cent are equal
 * (REVENUE_EQUAL_MRR).
 *
 * Pure: no I/O, no clock. The caller reads the inputs from the store. */
#ifndef TEND_CORE_REVENUE_H
#define TEND_CORE_REVENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Two amounts of MRR closer than this are the same amount. */
#define REVENUE_EQUAL_MRR 0.005

enum rev_input_kind {
    REV_IN_TRAIT,   /* a group call's mrr trait: mrr */
    REV_IN_CHANGE,  /* Subscription Changed: mrr_before -> mrr, reason */
    REV_IN_RENEWED, /* Account Renewed: arr (when has_arr), reason */
    REV_IN_CHURNED, /* Account Churned: arr (when has_arr), reason */
};

/* One thing known about an account's revenue. reason is borrowed: it must
 * outlive the movements made from it. */
struct rev_input {
    enum rev_input_kind kind;
    int64_t ts_ms;
    double mrr;        /* trait: its value; change: mrr_after */
    double mrr_before; /* change only */
    bool has_arr;      /* outcomes: arr given */
    double arr;
    const char *reason; /* change and outcomes; NULL when none */
};

enum rev_kind {
    REV_NEW,          /* first revenue of an account (or first known) */
    REV_EXPANSION,    /* mrr up */
    REV_CONTRACTION,  /* mrr down, not to zero */
    REV_CHURN,        /* mrr to zero, or Account Churned */
    REV_REACTIVATION, /* from zero back up after a churn */
    REV_RENEWAL,      /* a renewal: amount is the MRR renewed; moves nothing */
};
#define REV_KIND_COUNT 6

/* One step of an account's MRR path. amount is |mrr_after - mrr_before|
 * (renewal: the MRR renewed). reason is borrowed from the inputs. */
struct rev_movement {
    enum rev_kind kind;
    int64_t ts_ms;
    double mrr_before, mrr_after, amount;
    const char *reason;
};

/* "expansion", "contraction", ... */
const char *revenue_kind_name(enum rev_kind kind);

/* The movements of one account from its n inputs (any order; in is sorted
 * in place into the order they apply). Returns how many, in *out (malloced,
 * the caller frees; at most 3 per input). */
size_t revenue_movements(struct rev_input *in, size_t n, struct rev_movement **out);

/* The MRR after the movements before instant t (0 when none: an account
 * not yet known pays nothing). */
double revenue_mrr_at(const struct rev_movement *mv, size_t n, int64_t t);

/* A period's figures over accounts (sums; add accounts one by one). The
 * cohort is the accounts paying at the period's start; their movements
 * count until their first churn in the period. What new accounts and
 * reactivated ones pay at the end is new_mrr, outside the cohort. */
struct rev_figures {
    size_t accounts_start, logos_churned, accounts_end;
    double mrr_start, expansion, contraction, churned, mrr_end, new_mrr;
};

/* Adds one account's part of period [from_ms, to_ms) to f. */
void revenue_period_add(const struct rev_movement *mv, size_t n, int64_t from_ms, int64_t to_ms,
                        struct rev_figures *f);

/* The rates of f over a period of days days (docs/analysis.md, "Retention"):
 * GRR, NRR and logo churn, and each annualised (compounded to 365 days).
 * NaN when the cohort is empty. */
struct rev_rates {
    double grr, nrr, logo_churn;
    double grr_annual, nrr_annual, logo_churn_annual;
};
void revenue_rates(const struct rev_figures *f, int days, struct rev_rates *out);

#endif
