/* revenue.c: an account's MRR path and the retention of a period (see
 * revenue.h; the rules in words are docs/analysis.md's). */
#include "core/revenue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/datetime.h"
#include "util/mem.h"

static const char *const kind_names[REV_KIND_COUNT] = {
    [REV_NEW] = "new",     [REV_EXPANSION] = "expansion",       [REV_CONTRACTION] = "contraction",
    [REV_CHURN] = "churn", [REV_REACTIVATION] = "reactivation", [REV_RENEWAL] = "renewal",
};

const char *revenue_kind_name(enum rev_kind kind) {
    return (unsigned)kind < REV_KIND_COUNT ? kind_names[kind] : "?";
}

/* ---- the order inputs apply in ---------------------------------------------- */

struct keyed {
    struct rev_input in;
    size_t idx;
};

/* By UTC day; within a day events before traits; then by time and by the
 * order given (a stable sort). */
static int by_application(const void *x, const void *y) {
    const struct keyed *a = x, *b = y;
    int32_t da = dt_day_of_ms(a->in.ts_ms), db = dt_day_of_ms(b->in.ts_ms);
    if (da != db)
        return da < db ? -1 : 1;
    int ca = a->in.kind == REV_IN_TRAIT, cb = b->in.kind == REV_IN_TRAIT;
    if (ca != cb)
        return ca - cb;
    if (a->in.ts_ms != b->in.ts_ms)
        return a->in.ts_ms < b->in.ts_ms ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void sort_inputs(struct rev_input *in, size_t n) {
    if (n < 2)
        return;
    struct keyed *k = xmalloc(n * sizeof *k);
    for (size_t i = 0; i < n; i++)
        k[i] = (struct keyed){in[i], i};
    qsort(k, n, sizeof *k, by_application);
    for (size_t i = 0; i < n; i++)
        in[i] = k[i].in;
    free(k);
}

/* ---- the path ------------------------------------------------------------------ */

struct path {
    struct rev_movement *v;
    size_t n;
    bool known, paid_before; /* a level is known; it has been above zero */
    double level;
};

static bool same(double a, double b) {
    return fabs(a - b) < REVENUE_EQUAL_MRR;
}

static void push(struct path *p, enum rev_kind kind, int64_t ts, double before, double after,
                 double amount, const char *reason) {
    p->v[p->n++] = (struct rev_movement){kind, ts, before, after, amount, reason};
}

/* Moves the MRR to level at ts, naming the step by where it goes from where. */
static void move_to(struct path *p, int64_t ts, double level, const char *reason) {
    if (!p->known) {
        p->known = true;
        p->level = same(level, 0) ? 0 : level;
        if (p->level > 0) {
            push(p, REV_NEW, ts, 0, level, level, reason);
            p->paid_before = true;
        }
        return;
    }
    double from = p->level;
    if (same(from, level))
        return;
    bool from_zero = same(from, 0), to_zero = same(level, 0);
    enum rev_kind kind;
    if (to_zero) {
        kind = REV_CHURN;
        level = 0;
    } else if (from_zero) {
        kind = p->paid_before ? REV_REACTIVATION : REV_NEW;
        from = 0;
    } else {
        kind = level > from ? REV_EXPANSION : REV_CONTRACTION;
    }
    push(p, kind, ts, from, level, fabs(level - from), reason);
    p->level = level;
    p->paid_before = p->paid_before || !to_zero;
}

/* What an outcome's arr says when no level is known yet: the account paid
 * arr / 12 until then. */
static void known_from_arr(struct path *p, const struct rev_input *in) {
    if (!p->known && in->has_arr)
        move_to(p, in->ts_ms, in->arr / 12, NULL);
}

static void apply_event(struct path *p, const struct rev_input *in) {
    switch (in->kind) {
    case REV_IN_CHANGE:
        /* A change that starts elsewhere than the known level: the gap is a
         * movement of its own, without the change's reason. */
        if (!p->known || !same(p->level, in->mrr_before))
            move_to(p, in->ts_ms, in->mrr_before, NULL);
        move_to(p, in->ts_ms, in->mrr, in->reason);
        break;
    case REV_IN_CHURNED:
        known_from_arr(p, in);
        if (p->known && !same(p->level, 0)) {
            move_to(p, in->ts_ms, 0, in->reason);
        } else if (p->n && p->v[p->n - 1].kind == REV_CHURN && !p->v[p->n - 1].reason &&
                   dt_day_of_ms(p->v[p->n - 1].ts_ms) == dt_day_of_ms(in->ts_ms)) {
            /* Already at zero today (a change or trait to 0): the same churn,
             * which now has a reason. */
            p->v[p->n - 1].reason = in->reason;
        }
        break;
    case REV_IN_RENEWED:
        known_from_arr(p, in);
        if (p->known)
            push(p, REV_RENEWAL, in->ts_ms, p->level, p->level, p->level, in->reason);
        /* A renewal at another amount moves the MRR there, for its reason. */
        if (in->has_arr)
            move_to(p, in->ts_ms, in->arr / 12, in->reason ? in->reason : "renewal");
        break;
    case REV_IN_TRAIT:
        break;
    }
}

size_t revenue_movements(struct rev_input *in, size_t n, struct rev_movement **out) {
    sort_inputs(in, n);
    struct path p = {.v = xmalloc((3 * n + 1) * sizeof *p.v)};
    bool has_trait = false;
    double trait = 0; /* the mrr trait's last value */
    for (size_t i = 0; i < n;) {
        int32_t day = dt_day_of_ms(in[i].ts_ms);
        size_t last_trait = n;
        for (; i < n && dt_day_of_ms(in[i].ts_ms) == day; i++) {
            if (in[i].kind == REV_IN_TRAIT)
                last_trait = i;
            else
                apply_event(&p, &in[i]);
        }
        /* A trait is news only when it changed: the CRM's mrr still says 100
         * after an Account Churned nobody copied into it, and a later group
         * call repeating it is no reactivation. */
        if (last_trait < n && (!has_trait || !same(in[last_trait].mrr, trait)))
            move_to(&p, in[last_trait].ts_ms, in[last_trait].mrr, NULL);
        if (last_trait < n) {
            has_trait = true;
            trait = in[last_trait].mrr;
        }
    }
    *out = p.v;
    return p.n;
}

double revenue_mrr_at(const struct rev_movement *mv, size_t n, int64_t t) {
    double level = 0;
    for (size_t i = 0; i < n && mv[i].ts_ms < t; i++)
        level = mv[i].mrr_after;
    return level;
}

/* ---- a period ------------------------------------------------------------------- */

void revenue_period_add(const struct rev_movement *mv, size_t n, int64_t from_ms, int64_t to_ms,
                        struct rev_figures *f) {
    double start = revenue_mrr_at(mv, n, from_ms), end = revenue_mrr_at(mv, n, to_ms);
    double cohort_end = 0;
    if (start > 0) {
        f->accounts_start++;
        f->mrr_start += start;
        cohort_end = start;
        for (size_t i = 0; i < n && mv[i].ts_ms < to_ms; i++) {
            const struct rev_movement *m = &mv[i];
            if (m->ts_ms < from_ms)
                continue;
            if (m->kind == REV_EXPANSION) {
                f->expansion += m->amount;
                cohort_end += m->amount;
            } else if (m->kind == REV_CONTRACTION) {
                f->contraction += m->amount;
                cohort_end -= m->amount;
            } else if (m->kind == REV_CHURN) {
                f->churned += m->amount;
                f->logos_churned++;
                cohort_end -= m->amount;
                break; /* what it pays again later is new business */
            }
        }
    }
    if (end > 0)
        f->accounts_end++;
    f->mrr_end += end;
    f->new_mrr += end - cohort_end;
}

void revenue_rates(const struct rev_figures *f, int days, struct rev_rates *r) {
    if (!(f->mrr_start > 0) || days <= 0) {
        *r = (struct rev_rates){NAN, NAN, NAN, NAN, NAN, NAN};
        return;
    }
    double s = f->mrr_start, years = (double)days / 365.0;
    r->grr = (s - f->contraction - f->churned) / s;
    r->nrr = (s + f->expansion - f->contraction - f->churned) / s;
    r->logo_churn = (double)f->logos_churned / (double)f->accounts_start;
    r->grr_annual = pow(r->grr, 1 / years);
    r->nrr_annual = pow(r->nrr, 1 / years);
    r->logo_churn_annual = 1 - pow(1 - r->logo_churn, 1 / years);
}
