/* ctas.c: a day's evaluation, from metrics to CTAs (see ctas.h).
 *
 * The order within a day: every account's metrics (eval_accounts, in
 * parallel), then, on this thread, its score (stored), its rules, and the
 * planner's (core/plan.h) account plan. This file only reads what the
 * planner needs (plan inputs: findings with their value, watched CTAs) and
 * writes what it decided: resolves, raises, wakes and new evidence apply as
 * they are planned; opens wait until every account is done, when
 * plan_opens() applies the owners' weekly budget and the published caps and
 * the rest are held back (stored, counted and listed, never dropped). */
#include "eval/ctas.h"
#include "eval/ctas_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "core/cta.h"
#include "core/plan.h"
#include "eval/eval.h"
#include "eval/users.h"

#include "eval/segments.h"
#include "notify/outbox.h"
#include "util/datetime.h"
#include "util/mem.h"

void eval_cta_copy(struct store_cta *dst, const struct store_cta *src) {
    *dst = *src;
    const char **s[] = {&dst->account, &dst->rule,   &dst->subject,  &dst->type,        &dst->owner,
                        &dst->title,   &dst->reason, &dst->evidence, &dst->account_name};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        *s[i] = *s[i] ? xstrdup(*s[i]) : NULL;
}

void eval_cta_release(struct store_cta *c) {
    const char *s[] = {c->account, c->rule,   c->subject,  c->type,        c->owner,
                       c->title,   c->reason, c->evidence, c->account_name};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        free((char *)s[i]);
}

static void on_got(void *arg, const struct store_cta *c) {
    eval_cta_copy(arg, c);
}

enum tend_err eval_cta_get(struct store *s, int64_t id, struct store_cta *out) {
    return store_cta_get(s, id, on_got, out);
}

static void on_watched(void *arg, const struct store_cta *c) {
    struct engine *e = arg;
    if (e->n_w == e->cap_w) {
        e->cap_w = e->cap_w ? e->cap_w * 2 : 256;
        e->w = xrealloc(e->w, e->cap_w * sizeof *e->w);
    }
    struct watched *x = &e->w[e->n_w++];
    eval_cta_copy(&x->c, c);
}

static int by_account(const void *a, const void *b) {
    const struct watched *x = a, *y = b;
    if (x->c.account_id != y->c.account_id)
        return x->c.account_id < y->c.account_id ? -1 : 1;
    return x->c.id < y->c.id ? -1 : x->c.id > y->c.id;
}

static int cmp_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The position of a listed account in only, or n_only when not listed. */
static size_t only_pos(const struct engine *e, int64_t account_id) {
    const int64_t *hit = bsearch(&account_id, e->only, e->n_only, sizeof *hit, cmp_id);
    return hit ? (size_t)(hit - e->only) : e->n_only;
}

int64_t *ctas_live_slot(struct engine *e, int64_t account_id) {
    if (e->only) { /* one slot per listed account, and one for any other */
        if (!e->live) {
            e->live_len = e->n_only + 1;
            e->live = xcalloc(e->live_len, sizeof *e->live);
        }
        return &e->live[only_pos(e, account_id)];
    }
    if ((size_t)account_id >= e->live_len) {
        size_t len = (size_t)account_id * 2 + 16;
        e->live = xrealloc(e->live, len * sizeof *e->live);
        memset(e->live + e->live_len, 0, (len - e->live_len) * sizeof *e->live);
        e->live_len = len;
    }
    return &e->live[account_id];
}

/* Records an account's score of the earlier day (has false: none). */
static void before_put(struct engine *e, int64_t account_id, bool has, double overall) {
    if (!e->only) {
        eval_day_scores_put(&e->before, account_id, has, overall);
        return;
    }
    e->before.rows++;
    size_t i = only_pos(e, account_id);
    if (has && i < e->n_only) {
        e->before_only[i] = overall;
        e->before_known[i] = true;
    }
}

/* The account's score of the earlier day, false when none. */
static bool before_get(const struct engine *e, int64_t account_id, double *overall) {
    if (!e->only)
        return eval_day_score(&e->before, account_id, overall);
    size_t i = only_pos(e, account_id);
    if (i == e->n_only || !e->before_known[i])
        return false;
    *overall = e->before_only[i];
    return true;
}

/* Scores one account for the earlier day when none are stored for it. */
struct backfill {
    struct store *s; /* NULL: keep the scores in memory only */
    const struct health_config *hc;
    int32_t day;
    struct engine *e;
    enum tend_err err;
};

static int on_backfill(void *arg, int64_t id, const char *account_id, const struct metrics *m) {
    struct backfill *b = arg;
    struct health_score h;
    health_compute(b->hc, m, &h);
    if (m->churned)
        return 0;
    before_put(b->e, id, h.has_score, h.overall);
    if (!b->s)
        return 0;
    struct store_score sc;
    eval_score_row(b->hc, b->day, &h, &sc);
    b->err = store_score_put(b->s, id, &sc);
    return b->err != TEND_OK;
}

static void on_score_before(void *arg, int64_t account_id, bool has, double overall) {
    before_put(arg, account_id, has, overall);
}

/* The overall scores as of the day health_drop compares with: stored with
 * the same health configuration, or computed (and stored) when that day has
 * none: a score under other weights is not comparable. An evaluation of a
 * few accounts reads theirs alone; when the day has none for any account,
 * it computes theirs without storing them (stored for a few, they would
 * keep the next full evaluation from computing the others'). */
static enum tend_err load_scores_before(struct engine *e) {
    int32_t day =
        e->day - (int32_t)rules_param(&e->rc->rules[RULE_HEALTH_DROP], RP_HEALTH_DROP_DAYS);
    int64_t t_ms = (int64_t)(day + 1) * DT_MS_PER_DAY;
    struct backfill b = {.s = e->s, .hc = e->hc, .day = day, .e = e};
    enum tend_err err;
    if (e->only) {
        bool any = false;
        memset(&e->before, 0, sizeof e->before);
        e->before_only = xcalloc(e->n_only ? e->n_only : 1, sizeof *e->before_only);
        e->before_known = xcalloc(e->n_only ? e->n_only : 1, sizeof *e->before_known);
        err = store_scores_of_day_ids(e->s, day, e->hc->version, e->only, e->n_only, &any,
                                      on_score_before, e);
        if (err || any)
            return err;
        b.s = NULL;
        err = eval_metrics_of(e->s, t_ms, e->only, e->n_only, on_backfill, &b);
        return err ? err : b.err;
    }
    err = eval_day_scores_load(e->s, day, e->hc->version, &e->before);
    if (err || e->before.rows > 0)
        return err;
    err = eval_metrics(e->s, t_ms, NULL, on_backfill, &b);
    return err ? err : b.err;
}

/* ---- applying decisions ------------------------------------------------------ */

/* Writes the outbox rows of a change (notify/outbox.h), in this transaction. */
enum tend_err ctas_notify(struct engine *e, enum notify_event ev, const struct store_cta *c,
                          const struct notify_account *a, const char *previous, const char *note) {
    if (!e->nc)
        return TEND_OK;
    bool held = false; /* the randomised holdout: created, not delivered */
    enum tend_err herr = ctas_holdout_of(e, c, c->account ? c->account : e->account, &held);
    if (herr || held)
        return herr;
    struct notify_cta_event x = {.event = ev,
                                 .day = e->day,
                                 .now_ms = e->now_ms,
                                 .cta = c,
                                 .previous_priority = previous,
                                 .note = note,
                                 .currency = e->rc->currency,
                                 .account = a};
    int64_t rows = 0;
    enum tend_err err = notify_enqueue(e->s, e->nc, &x, &rows);
    e->sum->notifications += rows;
    return err;
}

void ctas_tell(struct engine *e, const char *action, const struct store_cta *c) {
    if (!e->fn)
        return;
    /* Watched CTAs are read without their account's external id: it is the
     * account at hand's. */
    struct store_cta shown = *c;
    if (!shown.account)
        shown.account = e->account;
    struct eval_change ch = {
        .action = action, .cta_id = c->id, .account = shown.account, .cta = &shown};
    e->fn(e->arg, &ch, NULL, NULL);
}

enum tend_err ctas_history(struct engine *e, const struct store_cta *c, const char *action,
                           const char *note) {
    struct store_cta_change ch = {
        .day = e->day,
        .at_ms = e->now_ms,
        .action = action,
        .actor = STORE_ACTOR_TEND,
        .status = c->status,
        .priority = c->priority,
        .note = note,
    };
    return store_cta_history_add(e->s, c->id, &ch);
}

/* The current values of the metrics a CTA's evidence named, against the
 * values it was raised with: why it resolved, in numbers. */
static void clearing_note(const struct store_cta *c, const struct metrics *m, int32_t day,
                          char *out, size_t size) {
    char date[16];
    dt_format_date(c->has_clear_since ? c->clear_since : day, date);
    int len = snprintf(out, size, "the condition no longer holds as of %s", date);
    cJSON *ev = m && c->evidence ? cJSON_Parse(c->evidence) : NULL;
    const cJSON *kv;
    const char *sep = ": ";
    cJSON_ArrayForEach(kv, ev) {
        double now;
        if (!cJSON_IsNumber(kv) || !health_input(m, kv->string, &now) || len < 0 ||
            (size_t)len >= size)
            continue;
        len += snprintf(out + len, size - (size_t)len, "%s%s %g (was %g)", sep, kv->string, now,
                        kv->valuedouble);
        sep = ", ";
    }
    cJSON_Delete(ev);
}

static enum tend_err resolve(struct engine *e, struct watched *w, enum cta_close_reason why,
                             const struct metrics *m) {
    struct store_cta *c = &w->c;
    c->status = CTA_CLOSED;
    c->has_closed = true;
    c->closed_reason = why;
    c->closed_day = e->day;
    /* Cleared (or churned): nothing to cool down. An expired CTA's
     * condition may still hold: the cooldown keeps the key quiet. */
    c->cleared = why != CTA_EXPIRED;
    c->updated_ms = e->now_ms;
    char note[480];
    if (why == CTA_CHURNED) {
        snprintf(note, sizeof note, "the account churned");
    } else if (why == CTA_EXPIRED) {
        char due[16];
        dt_format_date(c->due_day, due);
        snprintf(note, sizeof note,
                 "no one acted on it within %d working days of its due date (%s); tend does "
                 "not open it again while the condition holds, unless it becomes more urgent",
                 e->rc->expire_after_days, due);
    } else {
        clearing_note(c, m, e->day, note, sizeof note);
    }
    const char *action = why == CTA_CHURNED ? "close" : why == CTA_EXPIRED ? "expire" : "resolve";
    enum tend_err err = store_cta_update(e->s, c);
    if (!err)
        err = ctas_history(e, c, action, note);
    if (!err && why != CTA_CHURNED)
        err = ctas_notify(e, why == CTA_EXPIRED ? NOTIFY_EXPIRE : NOTIFY_RESOLVE, c, &e->acct, NULL,
                          note);
    if (!err) {
        (*ctas_live_slot(e, c->account_id))--;
        e->live_total--;
        if (why == CTA_CHURNED)
            e->sum->closed_churned++;
        else if (why == CTA_EXPIRED)
            e->sum->expired++;
        else
            e->sum->resolved++;
        ctas_tell(e, action, c);
    }
    return err;
}

void ctas_set_value(struct store_cta *c, double value) {
    c->has_value = !isnan(value);
    c->value = c->has_value ? value : 0;
}

/* Raises (and wakes) or wakes a live CTA with today's finding, as the plan
 * step says (its priority and due day). */
static enum tend_err raise_or_wake(struct engine *e, struct watched *w, const struct found *f,
                                   const struct plan_step *p) {
    struct store_cta *c = &w->c;
    char note[600];
    bool raise = p->action == PLAN_RAISE;
    const char *action = raise ? "raise" : "wake";
    enum cta_priority before = (enum cta_priority)c->priority;
    ctas_set_value(c, f->value);
    if (raise) {
        snprintf(note, sizeof note, "%s -> %s: %s", cta_priority_name(c->priority),
                 cta_priority_name(p->priority), f->f.reason);
        c->priority = p->priority;
        c->due_day = p->due_day;
        free((char *)c->title);
        free((char *)c->reason);
        free((char *)c->evidence);
        c->title = xstrdup(f->f.title);
        c->reason = xstrdup(f->f.reason);
        c->evidence = xstrdup(f->f.evidence ? f->f.evidence : "{}");
    } else {
        snprintf(note, sizeof note, "the snooze ended and the condition still holds: %s",
                 f->f.reason);
    }
    c->status = CTA_OPEN;
    c->updated_ms = e->now_ms;
    enum tend_err err = store_cta_update(e->s, c);
    if (!err)
        err = ctas_history(e, c, action, note);
    if (!err)
        err = ctas_notify(e, raise ? NOTIFY_RAISE : NOTIFY_WAKE, c, &e->acct,
                          raise ? cta_priority_name(before) : NULL, NULL);
    if (!err) {
        if (raise)
            e->sum->raised++;
        else
            e->sum->woken++;
        ctas_tell(e, action, c);
    }
    return err;
}

/* A fresh event on a live CTA (another NPS answer): its reason and
 * evidence now say it, and its history records it. */
static enum tend_err new_evidence(struct engine *e, struct watched *w, const struct found *f) {
    struct store_cta *c = &w->c;
    if (c->reason && strcmp(c->reason, f->f.reason) == 0)
        return TEND_OK;
    free((char *)c->title);
    free((char *)c->reason);
    free((char *)c->evidence);
    c->title = xstrdup(f->f.title);
    c->reason = xstrdup(f->f.reason);
    c->evidence = xstrdup(f->f.evidence ? f->f.evidence : "{}");
    ctas_set_value(c, f->value);
    c->updated_ms = e->now_ms;
    enum tend_err err = store_cta_update(e->s, c);
    if (!err)
        err = ctas_history(e, c, "evidence", f->f.reason);
    if (!err)
        ctas_tell(e, "evidence", c);
    return err;
}

/* ---- one account --------------------------------------------------------------- */

static void on_finding(void *arg, const struct rule_finding *f) {
    struct engine *e = arg;
    if (e->n_found == e->cap_found) {
        e->cap_found = e->cap_found ? e->cap_found * 2 : 16;
        e->found = xrealloc(e->found, e->cap_found * sizeof *e->found);
    }
    struct found *x = &e->found[e->n_found++];
    x->f = *f;
    x->f.evidence = xstrdup(f->evidence ? f->evidence : "{}");
}

static void on_rule_error(void *arg, int rule, const char *message, bool timed_out) {
    struct engine *e = arg;
    e->sum->rule_errors++;
    if (e->fn)
        e->fn(e->arg, NULL, message, e->account);
    if (rule < 0 || rule >= RULES_MAX)
        return;
    e->failed[rule] = true;
    if (timed_out && ++e->timeouts[rule] == RULE_TIMEOUTS_SUSPEND) {
        /* One hostile or runaway rule must not cost the time limit on every
         * account: 10,000 accounts x 250 ms is 42 minutes of evaluation. */
        e->suspended[rule] = true;
        e->sum->rules_suspended++;
        if (e->fn) {
            char msg[400];
            snprintf(msg, sizeof msg,
                     "rule %s: ran out of time on %d accounts; not evaluated for the rest of "
                     "this run (their CTAs are kept as they are)",
                     e->rc->rules[rule].name, RULE_TIMEOUTS_SUSPEND);
            e->fn(e->arg, NULL, msg, e->account);
        }
    }
}

/* The watched CTAs of an account: [*first, *end). */
static void watched_of(const struct engine *e, int64_t account_id, size_t *first, size_t *end) {
    size_t lo = 0, hi = e->n_w;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e->w[mid].c.account_id < account_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = lo;
    while (lo < e->n_w && e->w[lo].c.account_id == account_id)
        lo++;
    *end = lo;
}

/* The planner's view of a watched CTA. */
static struct plan_cta plan_cta_of(const struct store_cta *c) {
    enum cta_type type = CTA_RISK;
    cta_type_parse(c->type, &type);
    return (struct plan_cta){.id = c->id,
                             .rule = c->rule,
                             .subject = c->subject,
                             .type = type,
                             .status = (enum cta_status)c->status,
                             .priority = (enum cta_priority)c->priority,
                             .snoozed_until = c->snoozed_until,
                             .closed_reason = (enum cta_close_reason)c->closed_reason,
                             .closed_day = c->closed_day,
                             .cleared = c->cleared,
                             .has_clear_since = c->has_clear_since,
                             .clear_since = c->clear_since,
                             .due_day = c->due_day,
                             .value = c->has_value ? c->value : NAN,
                             .acted = c->acted};
}

/* Applies one step of an account's plan. */
static enum tend_err apply_step(struct engine *e, const struct eval_account *a,
                                const struct plan_step *p, struct watched *w, struct found *f) {
    switch (p->action) {
    case PLAN_OPEN:
        ctas_queue_open(e, a, f, p);
        return TEND_OK;
    case PLAN_RAISE:
    case PLAN_WAKE:
        return raise_or_wake(e, w, f, p);
    case PLAN_EVIDENCE:
        return new_evidence(e, w, f);
    case PLAN_REVALUE:
        ctas_set_value(&w->c, f->value);
        return store_cta_update(e->s, &w->c);
    case PLAN_RESOLVE:
    case PLAN_REPLACE:
        return resolve(e, w, CTA_AUTO_RESOLVED, a->m);
    case PLAN_CHURNED:
        return resolve(e, w, CTA_CHURNED, NULL);
    case PLAN_EXPIRE:
        return resolve(e, w, CTA_EXPIRED, NULL);
    case PLAN_CLEAR_START:
        w->c.has_clear_since = true;
        w->c.clear_since = p->clear_since;
        return store_cta_update(e->s, &w->c);
    case PLAN_CLEAR_END:
        w->c.has_clear_since = false;
        return store_cta_update(e->s, &w->c);
    case PLAN_CLEARED:
        w->c.cleared = true;
        return store_cta_forget_closed(e->s, w->c.rule, w->c.account_id, w->c.subject);
    case PLAN_COOL_DOWN:
    case PLAN_HOLD_BUDGET:
    case PLAN_HOLD_CAP:
    case PLAN_ACTION_COUNT:
        break;
    }
    return TEND_OK;
}

/* Plans the account's day (core/plan.h) from its findings and watched CTAs
 * [first, end), and applies the plan; opens are queued. */
static enum tend_err plan_and_apply(struct engine *e, const struct eval_account *a, bool churned,
                                    size_t first, size_t end) {
    size_t n_c = end - first;
    struct plan_cta *pc = xcalloc(n_c ? n_c : 1, sizeof *pc);
    struct plan_finding *pf = xcalloc(e->n_found ? e->n_found : 1, sizeof *pf);
    bool looked[RULES_MAX];
    for (size_t i = 0; i < n_c; i++)
        pc[i] = plan_cta_of(&e->w[first + i].c);
    for (size_t i = 0; i < e->n_found; i++) {
        const struct rule_finding *f = &e->found[i].f;
        pf[i] = (struct plan_finding){.rule = f->rule,
                                      .subject = f->subject,
                                      .type = f->type,
                                      .priority = f->priority,
                                      .in_between = f->in_between,
                                      .event = f->event,
                                      .fresh = f->fresh,
                                      .value = e->found[i].value};
    }
    for (int r = 0; r < e->rc->n_rules; r++)
        looked[r] =
            !churned && rules_applies(&e->rc->rules[r], a->f->segment, a->f->plan) && !e->failed[r];
    struct plan_account pa = {
        .churned = churned, .looked = looked, .f = pf, .n_f = e->n_found, .c = pc, .n_c = n_c};
    struct plan_steps steps = {0};
    plan_account(e->rc, e->day, &pa, &steps);
    enum tend_err err = TEND_OK;
    for (size_t i = 0; !err && i < steps.n; i++) {
        const struct plan_step *p = &steps.v[i];
        err = apply_step(e, a, p, p->cta >= 0 ? &e->w[first + (size_t)p->cta] : NULL,
                         p->finding >= 0 ? &e->found[p->finding] : NULL);
    }
    plan_steps_free(&steps);
    free(pf);
    free(pc);
    return err;
}

static const char *user_label(void *arg, int64_t user_id) {
    struct engine *e = arg;
    if (!user_id || store_user_label(e->s, user_id, e->label, sizeof e->label) != TEND_OK)
        return NULL;
    return e->label;
}

/* The account's age in days as of D: from its created_at trait, else from
 * when tend first saw it. */
static bool account_age(const struct eval_account *a, int32_t day, int64_t *out) {
    int64_t ms;
    const char *c = a->f->created_at;
    if (!(c && dt_parse_instant(c, strlen(c), &ms)))
        ms = a->first_seen_ms;
    *out = day - dt_day_of_ms(ms);
    return true;
}

static void free_found(struct engine *e) {
    for (size_t i = 0; i < e->n_found; i++)
        free((char *)e->found[i].f.evidence);
    e->n_found = 0;
}

/* The account's ARR: its arr trait, else 12 x its MRR as of the day, else
 * as stored; NaN when none is known. */
static double account_arr(const struct eval_account *a, const cJSON *traits) {
    cJSON *parsed = NULL;
    if (!traits && a->traits_json && strstr(a->traits_json, "\"arr\""))
        traits = parsed = cJSON_Parse(a->traits_json);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(traits, "arr");
    double v = cJSON_IsNumber(arr) ? arr->valuedouble : NAN;
    cJSON_Delete(parsed);
    double mrr = a->m->has_mrr ? a->m->mrr : a->f->has_mrr ? a->f->mrr : NAN;
    return plan_arr(v, mrr);
}

/* Gives each of today's findings its value (core/plan.h, docs/rules.md). */
static void value_findings(struct engine *e, const struct eval_account *a,
                           const struct health_score *h, const cJSON *traits) {
    if (!e->n_found)
        return;
    const struct metrics *m = a->m;
    struct plan_value_input in = {
        .arr = account_arr(a, traits),
        /* NaN without an adopted model: the band fallback (docs/rules.md, Value) */
        .p_churn = a->p_churn,
        .band = h->has_score ? health_band_name(h->band) : NULL,
        .users = (double)m->users,
        .seats = m->seats > 0 ? (double)m->seats : NAN,
        .mrr = m->has_mrr      ? m->mrr
               : a->f->has_mrr ? a->f->mrr
                               : NAN,
    };
    for (size_t i = 0; i < e->n_found; i++) {
        const struct rule_finding *f = &e->found[i].f;
        in.kind = e->rc->rules[f->rule].kind;
        in.type = f->type;
        e->found[i].value = plan_value(&in, NULL);
    }
}

/* The account's CTAs [first, end) live after its plan and opened before
 * the day: its open CTAs for the day's groups (a second evaluation of the
 * day counts the same, its own opens of the day aside). */
static int64_t live_before(const struct engine *e, size_t first, size_t end) {
    int64_t n = 0;
    for (size_t i = first; i < end; i++)
        n += e->w[i].c.status != CTA_CLOSED && e->w[i].c.opened_day < e->day;
    return n;
}

static int on_account(void *arg, const struct eval_account *a) {
    struct engine *e = arg;
    size_t first, end;
    watched_of(e, a->id, &first, &end);
    e->sum->accounts++;
    e->account = a->account_id;
    if (a->m->churned) {
        /* A former customer: no score, no rules; what was open is over. */
        e->err = plan_and_apply(e, a, true, first, end);
        return e->err != TEND_OK;
    }
    struct health_score h;
    health_compute(e->hc, a->m, &h);
    e->acct = (struct notify_account){
        .id = a->id,
        .external_id = a->account_id,
        .name = a->f->name,
        .segment = a->f->segment,
        .plan = a->f->plan,
        .renewal_date = a->f->renewal_date,
        .csm_email = a->f->csm_email,
        .csm_slack = a->f->csm_slack,
        .has_mrr = a->f->has_mrr,
        .mrr = a->f->mrr,
        .has_score = h.has_score,
        .score = h.overall,
        .band = h.has_score ? health_band_name(h.band) : NULL,
    };
    struct store_score sc;
    eval_score_row(e->hc, e->day, &h, &sc);
    e->err = store_score_put(e->s, a->id, &sc);
    if (a->risk) /* p_churn, stored in the evaluation's transaction (run) */
        risk_batch_add(&e->risk_rows, e->day, a->id, a->model_version, a->risk);
    if (e->err)
        return 1;

    struct rule_input in = {
        .t_ms = e->t_ms,
        .day = e->day,
        .m = a->m,
        .h = &h,
        .segment = a->f->segment,
        .plan = a->f->plan,
        .since_ms = e->since_ms,
        .has_last_ticket = a->has_last_ticket,
        .last_ticket_ms = a->last_ticket_ms,
    };
    in.has_score_before = before_get(e, a->id, &in.score_before);
    in.has_age = account_age(a, e->day, &in.age_days);
    rules_facts_finish(a->facts, &in);
    in.user_label = user_label;
    in.label_arg = e;
    /* Premium products: the trait's list, each used or not in 30 days. */
    cJSON *products = a->f->premium_products && e->rc->rules[RULE_PREMIUM_UNUSED].enabled
                          ? cJSON_Parse(a->f->premium_products)
                          : NULL;
    struct rule_product prods[16];
    size_t n_prods = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, products) {
        if (n_prods < 16 && cJSON_IsString(p) && !e->err) {
            /* Used: a feature event with that product in days D-29..D
             * (docs/rules.md), not merely a feature name once seen with it. */
            prods[n_prods].name = p->valuestring;
            e->err = store_product_used(e->s, a->id, p->valuestring, e->day - 29, e->day,
                                        &prods[n_prods].used_30d);
            n_prods++;
        }
    }
    if (e->err) {
        cJSON_Delete(products);
        return 1;
    }
    in.products = prods;
    in.n_products = n_prods;
    /* Traits are for custom rules only. */
    cJSON *traits =
        e->rc->n_rules > RULE_BUILTIN_COUNT && a->traits_json ? cJSON_Parse(a->traits_json) : NULL;
    in.traits = traits;

    memcpy(e->failed, e->suspended, sizeof e->failed); /* a suspended rule keeps its CTAs */
    in.suspended = e->suspended;
    struct users_acc users = {0};
    bool any_users = false;
    if (e->roles && !e->err)
        e->err = eval_roles_account(e->s, e->roles, a->id, &users, &any_users);
    in.users = any_users ? &users : NULL;
    if (!e->err)
        rules_evaluate(e->rc, &in, on_finding, on_rule_error, e);
    users_free(&users);
    value_findings(e, a, &h, traits);
    if (!e->err)
        e->err = plan_and_apply(e, a, false, first, end);
    if (!e->err && e->agg)
        eval_segments_add(e->agg, a, &h, account_arr(a, traits), live_before(e, first, end));
    free_found(e);
    cJSON_Delete(products);
    cJSON_Delete(traits);
    return e->err != TEND_OK;
}

/* ---- the day ------------------------------------------------------------------- */

static void engine_free(struct engine *e) {
    for (size_t i = 0; i < e->n_w; i++)
        eval_cta_release(&e->w[i].c);
    free(e->w);
    free(e->live);
    eval_day_scores_free(&e->before);
    free(e->before_only);
    free(e->before_known);
    free_found(e);
    free(e->found);
    for (size_t i = 0; i < e->n_opens; i++) {
        free(e->opens[i].account);
        free(e->opens[i].owner);
        free((char *)e->opens[i].f.evidence);
        ctas_free_acct(&e->opens[i].acct);
    }
    free(e->opens);
    free(e->risk);
    risk_batch_free(&e->risk_rows);
    eval_roles_free(e->roles);

    seg_agg_free(e->agg);
}

static enum tend_err run(struct engine *e) {
    const struct rules_config *rc = e->rc;
    int64_t prev;
    bool found;
    enum tend_err err = store_eval_run_before(e->s, e->t_ms, &prev, &found);
    if (err)
        return err;
    /* Event rules fire for what arrived since the previous evaluation; on
     * the first, for the last days of first_lookback_days. */
    e->since_ms = found ? prev
                        : e->t_ms - (int64_t)rules_param(&rc->rules[RULE_NPS_RESPONSE],
                                                         RP_NPS_FIRST_LOOKBACK_DAYS) *
                                        DT_MS_PER_DAY;
    /* Every account's watched CTAs, or the listed accounts' alone; the caps
     * weigh opens against every account's live CTAs, counted in the store. */
    struct store_span span = {.first = 1, .last = STORE_LAST_ID, .ids = e->only, .n = e->n_only};
    if ((err = store_ctas_watched_each(e->s, &span, on_watched, e)))
        return err;
    if (e->n_w)
        qsort(e->w, e->n_w, sizeof *e->w, by_account);
    for (size_t i = 0; i < e->n_w; i++) {
        if (e->w[i].c.status != CTA_CLOSED) {
            (*ctas_live_slot(e, e->w[i].c.account_id))++;
            e->live_total++;
        }
    }
    if (e->only && (err = store_ctas_live_count(e->s, &e->live_total)))
        return err;
    if ((err = load_scores_before(e)))
        return err;
    struct eval_options o = {0};
    const struct rule_settings *tickets = &rc->rules[RULE_SUPPORT_TICKETS];
    if (tickets->enabled)
        o.last_ticket_min_users = (int64_t)rules_param(tickets, RP_TICKETS_QUIET_MIN_USERS);
    if (rc->rules[RULE_CHAMPION_RISK].enabled &&
        (err = eval_roles_load(e->s, &span, rc->role_trait, e->t_ms, &e->roles)))
        return err;
    o.risk = e->risk;
    o.hc = e->hc;
    o.ids = e->only; /* NULL: every account */
    o.n_ids = e->n_only;
    err = eval_accounts(e->s, e->t_ms, NULL, &o, on_account, e);
    if (!err)
        err = e->err;
    if (!err)
        err = risk_batch_flush(e->s, &e->risk_rows);
    if (!err)
        err = ctas_apply_opens(e);
    return err;
}

/* A bucket of a scheduled run: its groups are the run's part (NULL: not a
 * bucket). */
struct eval_part {
    int64_t due_ms;
    int part;
};

static enum tend_err evaluate(struct store *s, const struct health_config *hc,
                              const struct rules_config *rc, const struct notify_config *nc,
                              int32_t day, const int64_t *only, size_t n_only,
                              const struct eval_part *part, eval_change_fn fn, void *arg,
                              struct eval_summary *out) {
    struct eval_summary sum = {.day = day};
    int64_t started = dt_now_ms();
    struct engine e = {
        .s = s,
        .hc = hc,
        .rc = rc,
        .nc = notify_wanted(nc, day, dt_day_of_ms(started)) ? nc : NULL,
        .day = day,
        .t_ms = (int64_t)(day + 1) * DT_MS_PER_DAY,
        .now_ms = started,
        .only = only,
        .n_only = n_only,
        .fn = fn,
        .arg = arg,
        .sum = &sum,
        .agg = !only || part ? seg_agg_new() : NULL,
    };
    enum tend_err err = store_begin(s, NULL);
    /* First, before any write: another node's evaluation of these accounts
     * waits for this one's commit and then reads its CTAs (store.h). */
    struct store_span span = {.first = 1, .last = STORE_LAST_ID, .ids = only, .n = n_only};
    if (!err)
        err = store_ctas_lock(s, &span);
    if (!err) { /* read once per run: every account is scored by the same model,
                 * one whose data end on or before the day (no look-ahead) */
        err = risk_model_load_for_day(s, day, &e.risk);
        if (err == TEND_ERR_INVALID) {
            /* A card this tend cannot read (a newer tend's, a damaged row):
             * the evaluation goes on without p_churn, and says so; it never
             * stops the scores and CTAs. A new fit replaces the model. */
            char msg[STORE_ERR_BYTES + 64];
            snprintf(msg, sizeof msg, "%s; scoring without a risk model (tend model fit)",
                     store_last_error(s));
            if (fn)
                fn(arg, NULL, msg, "(every account)");
            err = TEND_OK;
        }
        if (!err && !only) /* a full evaluation rewrites the day's scores */
            err = store_risk_clear_day(s, day);
    }
    if (!err)
        err = run(&e);
    if (!err && !only) /* the day's groups, and segment_shift */
        err = eval_segments_day(s, rc, e.nc, day, e.now_ms, e.agg, fn, arg, &sum);
    else if (!err && part)
        err = eval_segments_part(s, part->due_ms, part->part, e.agg);
    if (!err) {
        sum.live_total = e.live_total;
        for (size_t i = 0; i < e.live_len; i++)
            if (e.live[i] > sum.busiest_account_live)
                sum.busiest_account_live = e.live[i];
        sum.run_ms = dt_now_ms() - started;
        /* Only a full evaluation moves the event rules' "since": one of a
         * few accounts must not hide the others' events from the next. */
        if (!only)
            err = store_eval_run_put(s, e.t_ms, sum.run_ms, sum.opened, sum.raised + sum.woken,
                                     sum.resolved + sum.closed_churned + sum.expired,
                                     sum.rule_errors);
    }
    if (!err)
        err = store_commit(s);
    else
        store_rollback(s);
    engine_free(&e);
    if (!err)
        *out = sum;
    return err;
}

enum tend_err eval_ctas_day(struct store *s, const struct health_config *hc,
                            const struct rules_config *rc, const struct notify_config *nc,
                            int32_t day, eval_change_fn fn, void *arg, struct eval_summary *out) {
    return evaluate(s, hc, rc, nc, day, NULL, 0, NULL, fn, arg, out);
}

/* eval_ctas_accounts and eval_ctas_bucket (part: NULL or the bucket's). */
static enum tend_err evaluate_ids(struct store *s, const struct health_config *hc,
                                  const struct rules_config *rc, const struct notify_config *nc,
                                  int32_t day, const int64_t *ids, size_t n,
                                  const struct eval_part *part, eval_change_fn fn, void *arg,
                                  struct eval_summary *out) {
    /* The store reads a listed span's ids ascending and distinct. */
    int64_t *only = xmalloc((n ? n : 1) * sizeof *only);
    memcpy(only, ids, n * sizeof *only);
    qsort(only, n, sizeof *only, cmp_id);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (only[i] > 0 && (k == 0 || only[i] != only[k - 1]))
            only[k++] = only[i];
    enum tend_err err = evaluate(s, hc, rc, nc, day, only, k, part, fn, arg, out);
    free(only);
    return err;
}

enum tend_err eval_ctas_accounts(struct store *s, const struct health_config *hc,
                                 const struct rules_config *rc, const struct notify_config *nc,
                                 int32_t day, const int64_t *ids, size_t n, eval_change_fn fn,
                                 void *arg, struct eval_summary *out) {
    return evaluate_ids(s, hc, rc, nc, day, ids, n, NULL, fn, arg, out);
}

enum tend_err eval_ctas_bucket(struct store *s, const struct health_config *hc,
                               const struct rules_config *rc, const struct notify_config *nc,
                               int32_t day, const int64_t *ids, size_t n, int64_t due_ms,
                               int bucket, eval_change_fn fn, void *arg, struct eval_summary *out) {
    struct eval_part part = {.due_ms = due_ms, .part = bucket};
    return evaluate_ids(s, hc, rc, nc, day, ids, n, &part, fn, arg, out);
}
