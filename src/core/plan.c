/* plan.c: the CTA planner (see plan.h, docs/rules.md). */
#include "core/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/labels.h"
#include "util/mem.h"

/* ---- value ------------------------------------------------------------------ */

static double band_probability(const char *band) {
    if (!band)
        return PLAN_P_UNKNOWN;
    if (strcmp(band, "red") == 0)
        return PLAN_P_RED;
    if (strcmp(band, "yellow") == 0)
        return PLAN_P_YELLOW;
    if (strcmp(band, "green") == 0)
        return PLAN_P_GREEN;
    return PLAN_P_UNKNOWN;
}

double plan_arr(double arr_trait, double mrr) {
    if (!isnan(arr_trait) && arr_trait >= 0)
        return arr_trait;
    return !isnan(mrr) && mrr >= 0 ? 12 * mrr : NAN;
}

double plan_value(const struct plan_value_input *in, double *p_used) {
    double p = isnan(in->p_churn) ? band_probability(in->band) : in->p_churn;
    if (p_used)
        *p_used = p;
    if (in->kind == RULE_SEAT_LIMIT && in->seats > 0 && in->mrr > 0 && !isnan(in->users)) {
        /* The seats they would need to grow by the headroom, at their price. */
        double need = ceil(in->users * (1 + PLAN_SEAT_HEADROOM)) - in->seats;
        if (need < 1)
            need = 1;
        return need * (in->mrr / in->seats) * 12;
    }
    if (isnan(in->arr) || in->arr < 0)
        return NAN;
    switch (in->type) {
    case CTA_RISK:
        return p * in->arr;
    case CTA_LIFECYCLE:
        return PLAN_LIFECYCLE_FACTOR * in->arr;
    case CTA_OPPORTUNITY:
    case CTA_EXPANSION:
    case CTA_TYPE_COUNT:
        break;
    }
    return PLAN_OPPORTUNITY_FACTOR * in->arr;
}

enum cta_priority plan_priority(enum cta_priority rule_priority, double value,
                                const struct rules_config *rc) {
    if (isnan(value))
        return rule_priority;
    if (rc->value_raise_at > 0 && value >= rc->value_raise_at && rule_priority < CTA_HIGH)
        return (enum cta_priority)(rule_priority + 1);
    if (rc->value_lower_below > 0 && value < rc->value_lower_below && rule_priority > CTA_LOW)
        return (enum cta_priority)(rule_priority - 1);
    return rule_priority;
}

void plan_value_text(double value, enum cta_type type, const char *currency, char *out,
                     size_t size) {
    if (!size)
        return;
    out[0] = '\0';
    if (isnan(value) || value < 0 || value > 1e15)
        return;
    /* Whole units with thousands separators and the currency, as every page
     * writes money (core/labels.h): 42000 -> "$42,000", "EUR 42,000". */
    char money[64];
    labels_money(value, currency, money, sizeof money);
    const char *what = type == CTA_RISK        ? "ARR at risk"
                       : type == CTA_LIFECYCLE ? "ARR in play"
                                               : "a year of expansion";
    snprintf(out, size, "%s %s", money, what);
}

/* ---- steps ------------------------------------------------------------------ */

void plan_steps_free(struct plan_steps *s) {
    free(s->v);
    memset(s, 0, sizeof *s);
}

static struct plan_step *push(struct plan_steps *s, enum plan_action a, int finding, int cta) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    struct plan_step *x = &s->v[s->n++];
    *x = (struct plan_step){.action = a, .finding = finding, .cta = cta, .value = NAN};
    return x;
}

/* ---- one account ------------------------------------------------------------- */

/* Which finding stands for a key when several say something of it. */
static bool better(const struct plan_finding *a, const struct plan_finding *b) {
    if (a->in_between != b->in_between)
        return !a->in_between;
    if (a->priority != b->priority)
        return a->priority > b->priority;
    double va = isnan(a->value) ? -1 : a->value, vb = isnan(b->value) ? -1 : b->value;
    return va > vb;
}

static bool same_key(const struct plan_finding *f, const struct plan_finding *g) {
    return f->rule == g->rule && strcmp(f->subject, g->subject) == 0;
}

static struct cta_state state_of(const struct plan_cta *c) {
    struct cta_state st = {0};
    if (!c)
        return st;
    if (c->status != CTA_CLOSED) {
        st.live = true;
        st.status = c->status;
        st.priority = c->priority;
        st.snoozed_until = c->snoozed_until;
    } else {
        st.has_closed = true;
        st.closed_reason = c->closed_reason;
        st.closed_day = c->closed_day;
        st.cleared_since_close = c->cleared;
    }
    return st;
}

static int rule_index(const struct rules_config *rc, const char *name) {
    for (int i = 0; i < rc->n_rules; i++)
        if (strcmp(rc->rules[i].name, name) == 0)
            return i;
    return -1;
}

/* Whether a stored value is to be brought up to date with today's. */
static bool revalue(double stored, double now) {
    if (isnan(now))
        return false;
    if (isnan(stored))
        return true;
    return fabs(now - stored) > PLAN_REVALUE_SHARE * fabs(stored);
}

/* Whether a live CTA nobody acted on is past its due day and the grace
 * after it: tend closes it as expired rather than leave it overdue for
 * good (docs/rules.md, Due dates). A snoozed CTA was acted on. */
static bool expired(const struct rules_config *rc, int32_t day, const struct plan_cta *c) {
    return rc->expire_after_days > 0 && c->status == CTA_OPEN && !c->acted &&
           day > cta_due_day(c->due_day, rc->expire_after_days);
}

/* Plans what one (reduced) finding means for its key; matched marks the
 * account's CTAs of the key. */
static void plan_finding(const struct rules_config *rc, int32_t day, const struct plan_account *a,
                         int fi, bool *matched, struct plan_steps *out) {
    const struct plan_finding *f = &a->f[fi];
    const struct rule_settings *r = &rc->rules[f->rule];
    int live = -1, closed = -1;
    for (size_t i = 0; i < a->n_c; i++) {
        const struct plan_cta *c = &a->c[i];
        if (strcmp(c->rule, r->name) != 0 || strcmp(c->subject, f->subject) != 0)
            continue;
        /* The margin of another kind of trouble (a spike's, for a drop's
         * CTA) says nothing of this CTA's condition. */
        if (f->in_between && c->type != f->type)
            continue;
        matched[i] = true;
        if (c->status != CTA_CLOSED)
            live = (int)i;
        else if (closed < 0 || c->id > a->c[closed].id)
            closed = (int)i;
    }
    if (f->in_between) {
        /* Not clear by the margin: a live CTA stays, its clear days stop;
         * nothing opens, and a cooldown is not ended. */
        if (live >= 0 && expired(rc, day, &a->c[live]))
            push(out, PLAN_EXPIRE, fi, live);
        else if (live >= 0 && a->c[live].has_clear_since)
            push(out, PLAN_CLEAR_END, fi, live);
        return;
    }
    /* A different kind of trouble on the same key (a login drop turned
     * spike): the old CTA is done, and the new condition is a new CTA. */
    bool replaced = false;
    if (live >= 0 && a->c[live].type != f->type) {
        push(out, PLAN_REPLACE, fi, live);
        live = closed = -1;
        replaced = true;
    }
    if (live >= 0 && a->c[live].has_clear_since)
        push(out, PLAN_CLEAR_END, fi, live);
    enum cta_priority prio = plan_priority(f->priority, f->value, rc);
    struct cta_state st = state_of(live >= 0 ? &a->c[live] : closed >= 0 ? &a->c[closed] : NULL);
    struct cta_condition cond = {.holds = true, .priority = prio};
    struct plan_step *s;
    enum cta_action act = cta_decide(&st, &cond, day, r->cooldown_days);
    /* No one took up the expired CTA; a more urgent stage of a risk (a card
     * at 7 days, not 30) is news, and opens. A renewal drawing nearer is
     * not: reopening lifecycle stages spent the weekly budget that risk
     * CTAs needed (docs/rules.md, Expiry). */
    if (act == CTA_DO_COOL_DOWN && a->c[closed].closed_reason == CTA_EXPIRED &&
        f->type == CTA_RISK && prio > a->c[closed].priority)
        act = CTA_DO_OPEN;
    if (live >= 0 && act != CTA_DO_RAISE && expired(rc, day, &a->c[live])) {
        /* A raise is a new stage with a due day of its own. */
        push(out, PLAN_EXPIRE, fi, live);
        return;
    }
    switch (act) {
    case CTA_DO_OPEN:
        /* An event's finding opens only when its event is new; an old one
         * only keeps a CTA alive. */
        if (!f->event || f->fresh) {
            s = push(out, PLAN_OPEN, fi, -1);
            s->priority = prio;
            s->due_day = cta_due_day(day, rc->due_days[prio]);
            s->value = f->value;
            s->replaces = replaced;
        }
        break;
    case CTA_DO_RAISE: {
        s = push(out, PLAN_RAISE, fi, live);
        s->priority = prio;
        /* The new stage's due day, from today; a pending due day that is
         * earlier stays (a raise never gives more time), a past one does not
         * (the new stage is new work: an overdue CTA is not overdue forever
         * for its first stage's date). */
        int32_t due = cta_due_day(day, rc->due_days[prio]), old = a->c[live].due_day;
        s->due_day = old >= day && old < due ? old : due;
        s->value = f->value;
        break;
    }
    case CTA_DO_WAKE:
        push(out, PLAN_WAKE, fi, live)->value = f->value;
        break;
    case CTA_DO_COOL_DOWN:
        push(out, PLAN_COOL_DOWN, fi, closed);
        break;
    case CTA_NOTHING:
        if (live >= 0 && f->event && f->fresh)
            push(out, PLAN_EVIDENCE, fi, live)->value = f->value;
        else if (live >= 0 && revalue(a->c[live].value, f->value))
            push(out, PLAN_REVALUE, fi, live)->value = f->value;
        break;
    case CTA_DO_RESOLVE:
    case CTA_DO_CLEARED:
        break; /* not for a condition that holds */
    }
}

/* A watched CTA no finding of today matched: its condition does not hold. */
static void plan_unmatched(const struct rules_config *rc, int32_t day, const struct plan_account *a,
                           int ci, struct plan_steps *out) {
    const struct plan_cta *c = &a->c[ci];
    int ri = rule_index(rc, c->rule);
    if (ri < 0 || !a->looked[ri] || !rules_owns_subject(&rc->rules[ri], c->subject))
        return; /* off, out of scope, failed, or a key the rule no longer keeps */
    struct cta_state st = state_of(c);
    struct cta_condition cond = {.holds = false};
    switch (cta_decide(&st, &cond, day, rc->rules[ri].cooldown_days)) {
    case CTA_DO_RESOLVE: {
        /* Resolved once the condition has not held for resolve_after_days
         * days in a row; until then the first such day is kept. */
        int32_t since = c->has_clear_since ? c->clear_since : day;
        if (day - since + 1 >= rc->rules[ri].resolve_after_days)
            push(out, PLAN_RESOLVE, -1, ci)->clear_since = since;
        else if (expired(rc, day, c))
            push(out, PLAN_EXPIRE, -1, ci);
        else if (!c->has_clear_since)
            push(out, PLAN_CLEAR_START, -1, ci)->clear_since = day;
        break;
    }
    case CTA_DO_CLEARED:
        push(out, PLAN_CLEARED, -1, ci);
        break;
    default:
        break;
    }
}

void plan_account(const struct rules_config *rc, int32_t day, const struct plan_account *a,
                  struct plan_steps *out) {
    if (a->churned) {
        /* A former customer: what was open is over; a cooldown no longer
         * matters. */
        for (size_t i = 0; i < a->n_c; i++)
            push(out, a->c[i].status != CTA_CLOSED ? PLAN_CHURNED : PLAN_CLEARED, -1, (int)i);
        return;
    }
    bool *matched = xcalloc(a->n_c ? a->n_c : 1, sizeof *matched);
    for (size_t i = 0; i < a->n_f; i++) {
        /* The data can say the same thing twice (a goal set again, a product
         * listed twice): one finding per key, the one that says most. */
        bool stands = true;
        for (size_t j = 0; stands && j < a->n_f; j++)
            if (j != i && same_key(&a->f[i], &a->f[j]) &&
                (better(&a->f[j], &a->f[i]) || (j < i && !better(&a->f[i], &a->f[j]))))
                stands = false;
        if (stands)
            plan_finding(rc, day, a, (int)i, matched, out);
    }
    for (size_t i = 0; i < a->n_c; i++)
        if (!matched[i])
            plan_unmatched(rc, day, a, (int)i, out);
    free(matched);
}

/* ---- opens ------------------------------------------------------------------ */

struct order {
    const struct plan_candidate *c;
    size_t i;
};

static double value_or_zero(double v) {
    return isnan(v) ? 0 : v;
}

static int by_owner_value(const void *a, const void *b) {
    const struct order *x = a, *y = b;
    int c = strcmp(x->c->owner, y->c->owner);
    if (c)
        return c;
    double vx = value_or_zero(x->c->value), vy = value_or_zero(y->c->value);
    if (vx != vy)
        return vx > vy ? -1 : 1;
    if (x->c->priority != y->c->priority)
        return x->c->priority > y->c->priority ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int by_urgency(const void *a, const void *b) {
    const struct order *x = a, *y = b;
    if (x->c->priority != y->c->priority)
        return x->c->priority > y->c->priority ? -1 : 1;
    double vx = value_or_zero(x->c->value), vy = value_or_zero(y->c->value);
    if (vx != vy)
        return vx > vy ? -1 : 1;
    int c = strcmp(x->c->account, y->c->account);
    if (!c)
        c = strcmp(x->c->rule, y->c->rule);
    return c ? c : strcmp(x->c->subject, y->c->subject);
}

static int64_t opened_this_week(const struct plan_opens_input *in, const char *owner) {
    for (size_t i = 0; i < in->n_owners; i++)
        if (strcmp(in->owners[i].owner, owner) == 0)
            return in->owners[i].opened;
    return 0;
}

/* A candidate's account, for a dense slot per account (the opens each
 * account gets today, against the per-account cap). */
struct acct_of {
    int64_t account_id;
    size_t i;
};

static int by_account_id(const void *a, const void *b) {
    const struct acct_of *x = a, *y = b;
    return x->account_id < y->account_id ? -1 : x->account_id > y->account_id;
}

void plan_opens(const struct rules_config *rc, int32_t day, const struct plan_opens_input *in,
                struct plan_steps *out) {
    (void)day;
    if (!in->n_c)
        return;
    size_t n = in->n_c;
    struct order *o = xcalloc(n, sizeof *o);
    enum plan_action *fate = xcalloc(n, sizeof *fate);
    for (size_t i = 0; i < n; i++) {
        o[i] = (struct order){.c = &in->c[i], .i = i};
        fate[i] = PLAN_OPEN;
    }
    /* slot[i]: candidate i's account's index among the distinct accounts. */
    struct acct_of *idx = xcalloc(n, sizeof *idx);
    size_t *slot = xcalloc(n, sizeof *slot);
    int64_t *added = xcalloc(n, sizeof *added);
    for (size_t i = 0; i < n; i++)
        idx[i] = (struct acct_of){.account_id = in->c[i].account_id, .i = i};
    qsort(idx, n, sizeof *idx, by_account_id);
    for (size_t i = 0, k = 0; i < n; i++) {
        if (i && idx[i].account_id != idx[i - 1].account_id)
            k++;
        slot[idx[i].i] = k;
    }
    /* 1. The caps, most urgent first. A replacement takes no room: the CTA
     * it replaces closes as it opens. */
    qsort(o, n, sizeof *o, by_urgency);
    int64_t total = in->live_total;
    for (size_t i = 0; i < n; i++) {
        const struct plan_candidate *c = o[i].c;
        if (c->replaces)
            continue;
        int64_t *k = &added[slot[o[i].i]];
        int64_t live = (in->live_of ? in->live_of(in->live_arg, c->account_id) : 0) + *k;
        if (live >= rc->max_open_per_account || total >= rc->max_open_total) {
            fate[o[i].i] = PLAN_HOLD_CAP;
            continue;
        }
        (*k)++;
        total++;
    }
    /* 2. The budget, among what the caps let through: per owner, the
     * highest values take what is left of the week. A candidate the caps
     * hold back costs no budget; a replacement costs budget but is never
     * held (its key had a CTA: closing it without a new one would drop
     * the work). */
    int64_t budget = rc->budget_per_owner_week;
    /* left[group[i]]: what candidate i's owner has left of the week. */
    size_t *group = xcalloc(n, sizeof *group);
    int64_t *left = xcalloc(n, sizeof *left);
    if (budget > 0) {
        qsort(o, n, sizeof *o, by_owner_value);
        size_t g = 0;
        for (size_t i = 0; i < n; i++) {
            if (i && strcmp(o[i].c->owner, o[i - 1].c->owner) != 0)
                g++;
            if (i == 0 || g != group[o[i - 1].i])
                left[g] = budget - opened_this_week(in, o[i].c->owner);
            group[o[i].i] = g;
            if (fate[o[i].i] == PLAN_HOLD_CAP)
                continue;
            if (left[g] > 0)
                left[g]--;
            else if (!o[i].c->replaces)
                fate[o[i].i] = PLAN_HOLD_BUDGET;
        }
        qsort(o, n, sizeof *o, by_urgency);
    }
    /* 3. What the budget held back took room in step 1: counted again
     * without it, a candidate the caps held opens where there is room now
     * and its owner has budget left. (Room only grows: no open of step 1
     * loses its place.) */
    memset(added, 0, n * sizeof *added);
    total = in->live_total;
    for (size_t i = 0; i < n; i++) {
        const struct plan_candidate *c = o[i].c;
        size_t k = o[i].i;
        if (fate[k] == PLAN_HOLD_BUDGET || c->replaces)
            continue;
        int64_t *a = &added[slot[k]];
        if (fate[k] == PLAN_HOLD_CAP) {
            int64_t live = (in->live_of ? in->live_of(in->live_arg, c->account_id) : 0) + *a;
            if (live >= rc->max_open_per_account || total >= rc->max_open_total ||
                (budget > 0 && left[group[k]] <= 0))
                continue;
            fate[k] = PLAN_OPEN;
            if (budget > 0)
                left[group[k]]--;
        }
        (*a)++;
        total++;
    }
    free(left);
    free(group);
    for (size_t i = 0; i < n; i++) {
        const struct plan_candidate *c = o[i].c;
        struct plan_step *s = push(out, fate[o[i].i], (int)o[i].i, -1);
        s->value = c->value;
        if (fate[o[i].i] == PLAN_OPEN)
            s->priority = c->priority;
    }
    free(added);
    free(slot);
    free(idx);
    free(fate);
    free(o);
}

int32_t plan_week_start(int32_t day) {
    /* Day 0, 1970-01-01, was a Thursday: (day + 3) % 7 is 0 on a Monday. */
    int w = (int)((day + 3) % 7);
    if (w < 0)
        w += 7;
    return day - w;
}

const char *plan_action_name(enum plan_action a) {
    static const char *const names[PLAN_ACTION_COUNT] = {
        "open",      "raise",   "wake",      "evidence",    "revalue",
        "resolve",   "replace", "churned",   "expire",      "clear_start",
        "clear_end", "cleared", "cool_down", "hold_budget", "hold_cap"};
    return (size_t)a < PLAN_ACTION_COUNT ? names[a] : "?";
}
