/* segments.c: the day's groups and segment_shift's CTAs (see segments.h). */
#include "eval/segments.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "notify/outbox.h"
#include "util/datetime.h"
#include "util/mem.h"

void eval_segments_add(struct seg_agg *agg, const struct eval_account *a,
                       const struct health_score *h, double arr, int64_t open_ctas) {
    const struct metrics *m = a->m;
    struct seg_account x = {
        .segment = a->f->segment,
        .plan = a->f->plan,
        .owner = a->f->csm_email,
        .has_arr = !isnan(arr),
        .arr = arr,
        .has_score = h->has_score,
        .score = h->overall,
        .band = h->has_score ? (int)h->band : 0,
        .active_users_30d = m->active_users_30d,
        .logins_7d = m->logins_7d,
        .feature_events_7d = m->feature_events_7d,
        .has_nps = m->has_nps,
        .nps = m->nps,
        .tickets_30d = m->tickets_30d,
        .tickets_open = m->tickets_open,
        .open_ctas = open_ctas,
    };
    seg_agg_add(agg, &x);
}

/* agg's groups as store rows (malloced; names borrowed from agg). */
static struct store_segment_row *rows_of(const struct seg_agg *agg, int32_t day, size_t *n) {
    const struct seg_group *g = seg_agg_groups(agg, n);
    struct store_segment_row *rows = xcalloc(*n ? *n : 1, sizeof *rows);
    for (size_t i = 0; i < *n; i++)
        rows[i] = (struct store_segment_row){
            .kind = (int)g[i].kind, .name = g[i].name, .day = day, .s = g[i].s};
    return rows;
}

enum tend_err eval_segments_part(struct store *s, int64_t due_ms, int part,
                                 const struct seg_agg *agg) {
    size_t n;
    struct store_segment_row *rows = rows_of(agg, 0, &n);
    enum tend_err err = store_segment_part_put(s, due_ms, part, rows, n);
    free(rows);
    return err;
}

/* ---- segment_shift --------------------------------------------------------------- */

/* One segment's days, read from the store. */
struct seg_series {
    char name[SEG_NAME_BYTES];
    struct seg_day *d;
    size_t n, cap;
};

struct shift {
    struct store *s;
    const struct rules_config *rc;
    const struct notify_config *nc; /* NULL: no messages */
    int32_t day;
    int64_t now_ms;
    eval_change_fn fn;
    void *arg;
    struct eval_summary *sum;
    struct seg_series *series;
    size_t n_series, cap_series;
    struct store_cta *w; /* watched segment CTAs */
    size_t n_w, cap_w;
};

static struct seg_series *series_of(struct shift *x, const char *name) {
    for (size_t i = 0; i < x->n_series; i++)
        if (strcmp(x->series[i].name, name) == 0)
            return &x->series[i];
    if (x->n_series == x->cap_series) {
        x->cap_series = x->cap_series ? x->cap_series * 2 : 16;
        x->series = xrealloc(x->series, x->cap_series * sizeof *x->series);
    }
    struct seg_series *g = &x->series[x->n_series++];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    return g;
}

static int on_day(void *arg, const struct store_segment_row *r) {
    struct seg_series *g = series_of(arg, r->name);
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->d = xrealloc(g->d, g->cap * sizeof *g->d);
    }
    g->d[g->n++] = (struct seg_day){.day = r->day, .s = r->s};
    return 0;
}

static void on_watched(void *arg, const struct store_cta *c) {
    struct shift *x = arg;
    if (x->n_w == x->cap_w) {
        x->cap_w = x->cap_w ? x->cap_w * 2 : 16;
        x->w = xrealloc(x->w, x->cap_w * sizeof *x->w);
    }
    eval_cta_copy(&x->w[x->n_w++], c);
    series_of(x, c->subject); /* a segment gone still gets its CTA resolved */
}

static void shift_free(struct shift *x) {
    for (size_t i = 0; i < x->n_series; i++)
        free(x->series[i].d);
    free(x->series);
    for (size_t i = 0; i < x->n_w; i++)
        eval_cta_release(&x->w[i]);
    free(x->w);
}

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

/* The segment as an account, for its messages (notify/outbox.h). */
static struct notify_account acct_of(const char *account, const char *name, const char *segment,
                                     const char *owner) {
    return (struct notify_account){
        .external_id = account, .name = name, .segment = segment, .csm_email = owner};
}

/* Records a change: history, message, summary and fn. */
static enum tend_err changed(struct shift *x, struct store_cta *c, const char *action,
                             enum notify_event ev, const char *previous, const char *note) {
    struct store_cta_change ch = {.day = x->day,
                                  .at_ms = x->now_ms,
                                  .action = action,
                                  .actor = STORE_ACTOR_TEND,
                                  .status = c->status,
                                  .priority = c->priority,
                                  .note = note};
    enum tend_err err = store_cta_history_add(x->s, c->id, &ch);
    char account[SEG_NAME_BYTES + 16], name[SEG_NAME_BYTES + 16];
    snprintf(account, sizeof account, SEG_CTA_PREFIX "%s", c->subject);
    snprintf(name, sizeof name, "Segment %s", c->subject);
    struct notify_account a = acct_of(account, name, c->subject, c->owner);
    if (!err && x->nc) {
        struct notify_cta_event e = {.event = ev,
                                     .day = x->day,
                                     .now_ms = x->now_ms,
                                     .cta = c,
                                     .previous_priority = previous,
                                     .note = note,
                                     .currency = x->rc->currency,
                                     .account = &a};
        int64_t rows = 0;
        err = notify_enqueue(x->s, x->nc, &e, &rows);
        x->sum->notifications += rows;
    }
    if (!err && x->fn) {
        struct store_cta shown = *c;
        shown.account = account;
        struct eval_change change = {
            .action = action, .cta_id = c->id, .account = account, .cta = &shown};
        x->fn(x->arg, &change, NULL, NULL);
    }
    return err;
}

static void set_text(const char **dst, const char *src) {
    free((char *)*dst);
    *dst = xstrdup(src);
}

/* Applies a step of a segment's plan (w: its CTA, f: today's finding). */
static enum tend_err apply(struct shift *x, const struct plan_step *p, struct store_cta *w,
                           const struct seg_shift_result *f, const char *segment) {
    const struct rule_settings *r = &x->rc->rules[RULE_SEGMENT_SHIFT];
    enum tend_err err = TEND_OK;
    char note[600];
    switch (p->action) {
    case PLAN_OPEN: {
        const char *owner = seg_owner_of(&x->rc->segments, segment, x->rc->default_owner);
        struct store_cta c = {.account_id = STORE_SEGMENTS_ACCOUNT,
                              .rule = r->name,
                              .subject = segment,
                              .type = cta_type_name(r->type),
                              .priority = p->priority,
                              .status = CTA_OPEN,
                              .owner = owner,
                              .title = f->title,
                              .reason = f->reason,
                              .evidence = f->evidence,
                              .opened_day = x->day,
                              .due_day = p->due_day,
                              .updated_ms = x->now_ms};
        err = store_cta_forget_closed(x->s, r->name, STORE_SEGMENTS_ACCOUNT, segment);
        if (!err)
            err = store_cta_insert(x->s, &c, &c.id);
        if (!err)
            err = changed(x, &c, "open", NOTIFY_OPEN, NULL, c.reason);
        if (!err)
            x->sum->opened++;
        return err;
    }
    case PLAN_RAISE:
    case PLAN_WAKE: {
        bool raise = p->action == PLAN_RAISE;
        const char *before = cta_priority_name((enum cta_priority)w->priority);
        if (raise) {
            snprintf(note, sizeof note, "%s -> %s: %s", before, cta_priority_name(p->priority),
                     f->reason);
            w->priority = p->priority;
            w->due_day = p->due_day;
            set_text(&w->title, f->title);
            set_text(&w->reason, f->reason);
            set_text(&w->evidence, f->evidence);
        } else {
            snprintf(note, sizeof note, "the snooze ended and the condition still holds: %s",
                     f->reason);
        }
        w->status = CTA_OPEN;
        w->updated_ms = x->now_ms;
        err = store_cta_update(x->s, w);
        if (!err)
            err = changed(x, w, raise ? "raise" : "wake", raise ? NOTIFY_RAISE : NOTIFY_WAKE,
                          raise ? before : NULL, note);
        if (!err && raise)
            x->sum->raised++;
        else if (!err)
            x->sum->woken++;
        return err;
    }
    case PLAN_RESOLVE:
    case PLAN_REPLACE:
    case PLAN_EXPIRE: {
        bool expire = p->action == PLAN_EXPIRE;
        w->status = CTA_CLOSED;
        w->has_closed = true;
        w->closed_reason = expire ? CTA_EXPIRED : CTA_AUTO_RESOLVED;
        w->closed_day = x->day;
        w->cleared = !expire;
        w->updated_ms = x->now_ms;
        char date[16];
        if (expire) {
            dt_format_date(w->due_day, date);
            snprintf(note, sizeof note,
                     "no one acted on it within %d working days of its due date (%s); tend "
                     "does not open it again while the condition holds, unless it becomes "
                     "more urgent",
                     x->rc->expire_after_days, date);
        } else {
            dt_format_date(w->has_clear_since ? w->clear_since : x->day, date);
            snprintf(note, sizeof note,
                     "the condition no longer holds as of %s: the segment's metrics are back "
                     "within %.0f%% of its baseline",
                     date, rules_param(r, RP_SEGMENT_CHANGE) * 100);
        }
        err = store_cta_update(x->s, w);
        if (!err)
            err = changed(x, w, expire ? "expire" : "resolve",
                          expire ? NOTIFY_EXPIRE : NOTIFY_RESOLVE, NULL, note);
        if (!err && expire)
            x->sum->expired++;
        else if (!err)
            x->sum->resolved++;
        return err;
    }
    case PLAN_REVALUE:
    case PLAN_EVIDENCE:
        return TEND_OK; /* segment CTAs have no value and no event */
    case PLAN_CLEAR_START:
        w->has_clear_since = true;
        w->clear_since = p->clear_since;
        return store_cta_update(x->s, w);
    case PLAN_CLEAR_END:
        w->has_clear_since = false;
        return store_cta_update(x->s, w);
    case PLAN_CLEARED:
        w->cleared = true;
        return store_cta_forget_closed(x->s, w->rule, w->account_id, w->subject);
    case PLAN_CHURNED:
    case PLAN_COOL_DOWN:
    case PLAN_HOLD_BUDGET:
    case PLAN_HOLD_CAP:
    case PLAN_ACTION_COUNT:
        break;
    }
    return TEND_OK;
}

/* One segment's day: its finding, its CTAs, the plan, applied. */
static enum tend_err segment_day(struct shift *x, const struct seg_series *g, bool looked_rule) {
    const struct rule_settings *r = &x->rc->rules[RULE_SEGMENT_SHIFT];
    struct seg_shift_settings st = {
        .change = rules_param(r, RP_SEGMENT_CHANGE),
        .min_accounts = (int64_t)rules_param(r, RP_SEGMENT_MIN_ACCOUNTS),
        .recent_days = (int)rules_param(r, RP_SEGMENT_RECENT_DAYS),
        .baseline_days = (int)rules_param(r, RP_SEGMENT_BASELINE_DAYS),
        .nps_points = rules_param(r, RP_SEGMENT_NPS_POINTS),
        .clear_margin = rules_param(r, RP_SEGMENT_CLEAR_MARGIN),
        .priority = r->priority,
    };
    struct seg_shift_result res;
    seg_shift_evaluate(&st, g->name, x->day, g->d, g->n, &res);
    /* "(none)" and "(other)" are not segments: they never fire. */
    bool named = strcmp(g->name, SEG_NONE) != 0 && strcmp(g->name, SEG_OTHER) != 0;
    struct plan_finding pf = {.rule = RULE_SEGMENT_SHIFT,
                              .subject = g->name,
                              .type = r->type,
                              .priority = res.priority,
                              .in_between = !res.fires && res.between,
                              .value = NAN};
    size_t n_f = named && (res.fires || res.between) ? 1 : 0;
    struct plan_cta *pc = xcalloc(x->n_w ? x->n_w : 1, sizeof *pc);
    size_t *at = xcalloc(x->n_w ? x->n_w : 1, sizeof *at);
    size_t n_c = 0;
    for (size_t i = 0; i < x->n_w; i++) {
        if (strcmp(x->w[i].subject, g->name) == 0) {
            at[n_c] = i;
            pc[n_c++] = plan_cta_of(&x->w[i]);
        }
    }
    bool looked[RULES_MAX] = {false};
    looked[RULE_SEGMENT_SHIFT] = looked_rule && rules_applies(r, g->name, NULL);
    struct plan_account pa = {.looked = looked, .f = &pf, .n_f = n_f, .c = pc, .n_c = n_c};
    struct plan_steps steps = {0};
    plan_account(x->rc, x->day, &pa, &steps);
    enum tend_err err = TEND_OK;
    for (size_t i = 0; !err && i < steps.n; i++) {
        const struct plan_step *p = &steps.v[i];
        err = apply(x, p, p->cta >= 0 ? &x->w[at[p->cta]] : NULL, &res, g->name);
    }
    plan_steps_free(&steps);
    free(pc);
    free(at);
    return err;
}

/* segment_shift as of day, over the stored days of segments. */
static enum tend_err shift_run(struct store *s, const struct rules_config *rc,
                               const struct notify_config *nc, int32_t day, int64_t now_ms,
                               eval_change_fn fn, void *arg, struct eval_summary *sum) {
    const struct rule_settings *r = &rc->rules[RULE_SEGMENT_SHIFT];
    struct shift x = {
        .s = s, .rc = rc, .nc = nc, .day = day, .now_ms = now_ms, .fn = fn, .arg = arg, .sum = sum};
    int64_t ids[] = {STORE_SEGMENTS_ACCOUNT};
    struct store_span span = {
        .first = STORE_SEGMENTS_ACCOUNT, .last = STORE_SEGMENTS_ACCOUNT, .ids = ids, .n = 1};
    /* Another node's segment step (a second run of the day) waits. */
    enum tend_err err = store_ctas_lock(s, &span);
    if (!err)
        err = store_ctas_watched_each(s, &span, on_watched, &x);
    int32_t from = day - (int32_t)rules_param(r, RP_SEGMENT_RECENT_DAYS) -
                   (int32_t)rules_param(r, RP_SEGMENT_BASELINE_DAYS) + 1;
    if (!err && r->enabled)
        err = store_segment_days_each(s, SEG_BY_SEGMENT, NULL, from, day, on_day, &x);
    for (size_t i = 0; !err && i < x.n_series; i++)
        err = segment_day(&x, &x.series[i], r->enabled);
    shift_free(&x);
    return err;
}

enum tend_err eval_segments_day(struct store *s, const struct rules_config *rc,
                                const struct notify_config *nc, int32_t day, int64_t now_ms,
                                const struct seg_agg *agg, eval_change_fn fn, void *arg,
                                struct eval_summary *sum) {
    size_t n;
    struct store_segment_row *rows = rows_of(agg, day, &n);
    enum tend_err err = store_segment_days_put(s, day, rows, n);
    free(rows);
    return err ? err : shift_run(s, rc, nc, day, now_ms, fn, arg, sum);
}

static void on_part(void *arg, const struct store_segment_row *r) {
    if (r->kind >= 0 && r->kind < SEG_KIND_COUNT)
        seg_agg_add_sums(arg, (enum seg_kind)r->kind, r->name, &r->s);
}

enum tend_err eval_segments_finish(struct store *s, const struct rules_config *rc,
                                   const struct notify_config *nc, int32_t day, int64_t due_ms,
                                   int64_t now_ms, eval_change_fn fn, void *arg,
                                   struct eval_summary *sum) {
    struct seg_agg *agg = seg_agg_new();
    enum tend_err err = store_segment_parts_take(s, due_ms, true, on_part, agg);
    if (!err)
        err = eval_segments_day(s, rc, notify_wanted(nc, day, dt_day_of_ms(now_ms)) ? nc : NULL,
                                day, now_ms, agg, fn, arg, sum);
    seg_agg_free(agg);
    return err;
}
