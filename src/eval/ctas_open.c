/* ctas_open.c: the opens of a day's evaluation, held until every account is
 * done (see ctas.c): then plan_opens() (core/plan.h) applies the owners'
 * weekly budget and the published caps, the CTAs it keeps are inserted and
 * notified, and the rest are held back (stored, counted and listed, never
 * dropped). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/ctas_int.h"
#include "util/datetime.h"
#include "util/mem.h"

void ctas_queue_open(struct engine *e, const struct eval_account *a, const struct found *f,
                     const struct plan_step *p) {
    if (e->n_opens == e->cap_opens) {
        e->cap_opens = e->cap_opens ? e->cap_opens * 2 : 256;
        e->opens = xrealloc(e->opens, e->cap_opens * sizeof *e->opens);
    }
    struct pending_open *o = &e->opens[e->n_opens++];
    o->account_id = a->id;
    o->account = xstrdup(a->account_id);
    const char *owner = a->f->csm_email && a->f->csm_email[0] ? a->f->csm_email
                        : e->rc->default_owner[0]             ? e->rc->default_owner
                                                              : "unassigned";
    o->owner = xstrdup(owner);
    o->f = f->f;
    o->f.evidence = xstrdup(f->f.evidence ? f->f.evidence : "{}");
    o->rule = e->rc->rules[f->f.rule].name;
    o->priority = p->priority;
    o->due_day = p->due_day;
    o->value = f->value;
    o->replaces = p->replaces;
    memset(&o->acct, 0, sizeof o->acct);
    if (e->nc) { /* the account as of now, for the open's message later */
        o->acct = e->acct;
        const char **str[] = {&o->acct.external_id, &o->acct.name,         &o->acct.segment,
                              &o->acct.plan,        &o->acct.renewal_date, &o->acct.csm_email,
                              &o->acct.csm_slack};
        for (size_t i = 0; i < sizeof str / sizeof str[0]; i++)
            *str[i] = *str[i] ? xstrdup(*str[i]) : NULL;
    }
}

void ctas_free_acct(struct notify_account *a) {
    const char *str[] = {a->external_id,  a->name,      a->segment,  a->plan,
                         a->renewal_date, a->csm_email, a->csm_slack};
    for (size_t i = 0; i < sizeof str / sizeof str[0]; i++)
        free((char *)str[i]);
}

static int64_t live_of(void *arg, int64_t account_id) {
    return *ctas_live_slot(arg, account_id);
}

struct owners {
    struct plan_owner_week *v;
    size_t n, cap;
};

static void on_owner(void *arg, const char *owner, int64_t n) {
    struct owners *o = arg;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->v = xrealloc(o->v, o->cap * sizeof *o->v);
    }
    o->v[o->n++] = (struct plan_owner_week){.owner = xstrdup(owner ? owner : ""), .opened = n};
}

static void owners_free(struct owners *o) {
    for (size_t i = 0; i < o->n; i++)
        free((char *)o->v[i].owner);
    free(o->v);
}

/* The CTA a pending open would be, as of the evaluation (no id yet); its
 * strings are the pending open's. */
static struct store_cta cta_of_open(const struct engine *e, const struct pending_open *o) {
    struct store_cta c = {
        .account_id = o->account_id,
        .account = o->account,
        .rule = o->rule,
        .subject = o->f.subject,
        .type = cta_type_name(o->f.type),
        .priority = o->priority,
        .status = CTA_OPEN,
        .owner = o->owner,
        .title = o->f.title,
        .reason = o->f.reason,
        .evidence = o->f.evidence,
        .opened_day = e->day,
        .due_day = o->due_day,
        .updated_ms = e->now_ms,
    };
    ctas_set_value(&c, o->value);
    return c;
}

/* Stores a candidate the budget held back: it goes to the owner's digest
 * and the held-back list instead of opening. */
static enum tend_err hold(struct engine *e, const struct pending_open *o) {
    struct store_cta_held h = {
        .week = plan_week_start(e->day),
        .day = e->day,
        .account_id = o->account_id,
        .rule = o->rule,
        .subject = o->f.subject,
        .type = cta_type_name(o->f.type),
        .owner = o->owner,
        .title = o->f.title,
        .reason = o->f.reason,
        .priority = o->priority,
        .has_value = !isnan(o->value),
        .value = isnan(o->value) ? 0 : o->value,
    };
    bool is_new = false;
    enum tend_err err = store_cta_held_put(e->s, &h, &is_new);
    if (err || !is_new)
        return err; /* held again on a later day of the week: in the digest once */
    e->sum->held_budget_new++;
    /* The owner's digest lists it (a CTA that is not one: no id). */
    struct store_cta c = cta_of_open(e, o);
    if (!err)
        err = ctas_notify(e, NOTIFY_HELD, &c, &o->acct, NULL, NULL);
    return err;
}

static enum tend_err open_one(struct engine *e, struct pending_open *o) {
    struct store_cta c = cta_of_open(e, o);
    enum tend_err err = store_cta_forget_closed(e->s, c.rule, c.account_id, c.subject);
    if (!err)
        err = store_cta_insert(e->s, &c, &c.id);
    if (!err)
        err = ctas_holdout_record(e, &c, o->account);
    if (!err)
        err = ctas_history(e, &c, "open", c.reason);
    if (!err)
        err = ctas_notify(e, NOTIFY_OPEN, &c, &o->acct, NULL, NULL);
    if (!err) {
        (*ctas_live_slot(e, o->account_id))++;
        e->live_total++;
        e->sum->opened++;
        ctas_tell(e, "open", &c);
    }
    return err;
}

/* The day's opens: plan_opens() decides (budget, caps, order); this writes. */
enum tend_err ctas_apply_opens(struct engine *e) {
    if (!e->n_opens)
        return TEND_OK;
    struct plan_candidate *cand = xcalloc(e->n_opens, sizeof *cand);
    for (size_t i = 0; i < e->n_opens; i++) {
        const struct pending_open *o = &e->opens[i];
        cand[i] = (struct plan_candidate){.account_id = o->account_id,
                                          .account = o->account,
                                          .rule = o->rule,
                                          .subject = o->f.subject,
                                          .owner = o->owner,
                                          .priority = o->priority,
                                          .value = o->value,
                                          .replaces = o->replaces};
    }
    struct owners owners = {0};
    int32_t week = plan_week_start(e->day);
    /* Opens take turns across nodes (store_eval_lock_opens): the caps and
     * the budget count every account's CTAs, read again under the lock. */
    enum tend_err err = store_eval_lock_opens(e->s);
    if (!err && e->only)
        err = store_ctas_live_count(e->s, &e->live_total);
    if (!err && e->rc->budget_per_owner_week > 0)
        err = store_ctas_opened_by_owner(e->s, week, week + 6, on_owner, &owners);
    struct plan_opens_input in = {.c = cand,
                                  .n_c = e->n_opens,
                                  .owners = owners.v,
                                  .n_owners = owners.n,
                                  .live_of = live_of,
                                  .live_arg = e,
                                  .live_total = e->live_total};
    struct plan_steps steps = {0};
    if (!err)
        plan_opens(e->rc, e->day, &in, &steps);
    for (size_t i = 0; !err && i < steps.n; i++) {
        struct pending_open *o = &e->opens[steps.v[i].finding];
        switch (steps.v[i].action) {
        case PLAN_OPEN:
            err = open_one(e, o);
            break;
        case PLAN_HOLD_BUDGET:
            err = hold(e, o);
            e->sum->held_budget++;
            break;
        default: /* PLAN_HOLD_CAP: opens on a later day once there is room */
            e->sum->held_back++;
            break;
        }
    }
    plan_steps_free(&steps);
    owners_free(&owners);
    free(cand);
    return err;
}
