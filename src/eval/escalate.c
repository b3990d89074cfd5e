/* escalate.c: escalating CTAs against the store (see escalate.h).
 *
 * The time zone is glib's GTimeZone of serve.timezone, handed to the pure
 * planner as an offset function; the planner decides, this file only reads
 * and writes. A CTA's escalation is decided twice: once from the listing
 * (cheap, every open CTA), then again on a fresh read under the account's
 * lock, so a snooze or close that committed in between wins, and the
 * level's record (store_escalation_put) settles a race between two nodes
 * or two runs: only the transaction that recorded it writes anything. */
#include "eval/escalate.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/ctas.h"
#include "notify/outbox.h"
#include "util/datetime.h"
#include "util/mem.h"

static int32_t zone_offset(void *arg, int64_t utc_ms) {
    GTimeZone *tz = arg;
    int64_t s = utc_ms >= 0 ? utc_ms / 1000 : -((-utc_ms + 999) / 1000);
    int iv = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, s);
    return iv < 0 ? 0 : g_time_zone_get_offset(tz, iv);
}

struct listing {
    struct store_esc_candidate *c;
    size_t n, cap;
};

static void on_candidate(void *arg, const struct store_esc_candidate *c) {
    struct listing *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->c = xrealloc(l->c, l->cap * sizeof *l->c);
    }
    l->c[l->n++] = *c;
}

struct due {
    const struct store_esc_candidate *c;
    int64_t deadline_ms;
};

/* Higher priority first, then the earliest deadline, then the oldest id. */
static int by_urgency(const void *a, const void *b) {
    const struct due *x = a, *y = b;
    if (x->c->priority != y->c->priority)
        return y->c->priority - x->c->priority;
    if (x->deadline_ms != y->deadline_ms)
        return x->deadline_ms < y->deadline_ms ? -1 : 1;
    return (x->c->cta_id > y->c->cta_id) - (x->c->cta_id < y->c->cta_id);
}

static struct esc_cta planned_of(const struct store_esc_candidate *c) {
    return (struct esc_cta){.id = c->cta_id,
                            .priority = (enum cta_priority)c->priority,
                            .opened_day = c->opened_day,
                            .due_day = c->due_day,
                            .open_ms = c->open_ms,
                            .first_act_ms = c->first_act_ms,
                            .levels_done = c->levels};
}

/* The first "open" and first person's entry of a CTA's history. */
struct times {
    int64_t open_ms, first_act_ms;
};

static void on_change(void *arg, const struct store_cta_change *ch) {
    struct times *t = arg;
    if (!t->open_ms && strcmp(ch->action, "open") == 0)
        t->open_ms = ch->at_ms;
    if (!t->first_act_ms && strcmp(ch->actor, STORE_ACTOR_TEND) != 0)
        t->first_act_ms = ch->at_ms;
}

struct run {
    struct store *s;
    const struct esc_config *ec;
    const struct notify_config *nc;
    const struct esc_zone *z;
    int64_t now_ms;
    void (*fn)(void *arg, const struct eval_escalation *e);
    void *arg;
    struct eval_esc_summary *sum;
};

/* Records and announces one due escalation of c (fresh, under its lock). */
static enum tend_err escalate_one(struct run *r, struct store_cta *c, const struct esc_due *d,
                                  bool *done) {
    const char *manager = esc_manager_of(r->ec, c->owner);
    bool is_new = false;
    *done = false;
    enum tend_err err = store_escalation_put(r->s, c->id, d->level, r->now_ms, manager, &is_new);
    if (err || !is_new)
        return err; /* escalated already, by another run or node */
    c->priority = d->to;
    c->updated_ms = r->now_ms;
    err = store_cta_update(r->s, c);
    int32_t day = dt_day_of_ms(r->now_ms);
    int64_t rows = 0;
    if (!err && manager && r->nc && r->nc->n_channels > 0) {
        struct notify_account a = {
            .id = c->account_id, .external_id = c->account, .name = c->account_name};
        char reason[sizeof d->reason + 1];
        snprintf(reason, sizeof reason, "%s", d->reason);
        struct notify_cta_event x = {.event = NOTIFY_ESCALATE,
                                     .day = day,
                                     .now_ms = r->now_ms,
                                     .cta = c,
                                     .previous_priority =
                                         d->to != d->from ? cta_priority_name(d->from) : NULL,
                                     .note = reason,
                                     .account = &a,
                                     .recipient = manager,
                                     .level = (int)d->level};
        err = notify_enqueue(r->s, r->nc, &x, &rows);
        r->sum->notifications += rows;
    }
    /* The history says who was told, or why nobody was. */
    char note[600], change[64], told[400];
    if (d->to != d->from)
        snprintf(change, sizeof change, "%s -> %s", cta_priority_name(d->from),
                 cta_priority_name(d->to));
    else
        snprintf(change, sizeof change, "stays %s", cta_priority_name(d->to));
    if (!manager)
        snprintf(told, sizeof told,
                 "nobody told (no escalation.managers entry for the owner and "
                 "no escalation.contact)");
    else if (rows > 0)
        snprintf(told, sizeof told, "told %s", manager);
    else
        snprintf(told, sizeof told, "%s not told: %s", manager,
                 r->nc && r->nc->n_channels > 0 ? "no route sends escalate to a channel"
                                                : "no channels configured");
    snprintf(note, sizeof note, "level %d (%s): %s; %s; %s", (int)d->level,
             esc_level_name(d->level), d->reason, change, told);
    if (!err) {
        struct store_cta_change ch = {
            .day = day,
            .at_ms = r->now_ms,
            .action = "escalate",
            .actor = STORE_ACTOR_TEND,
            .status = c->status,
            .priority = c->priority,
            .note = note,
        };
        err = store_cta_history_add(r->s, c->id, &ch);
    }
    if (!err) {
        *done = true;
        r->sum->escalated++;
        if (r->fn) {
            struct eval_escalation e = {.cta_id = c->id,
                                        .account = c->account,
                                        .level = d->level,
                                        .from = d->from,
                                        .to = d->to,
                                        .manager = manager,
                                        .note = note};
            r->fn(r->arg, &e);
        }
    }
    return err;
}

/* One CTA's escalations in one transaction. */
static enum tend_err escalate_cta(struct run *r, const struct store_esc_candidate *cand) {
    struct store_cta c;
    bool got = false, any = false;
    enum tend_err err = store_begin(r->s, NULL);
    if (!err) {
        int64_t ids[] = {cand->account_id};
        struct store_span span = {.ids = ids, .n = 1};
        err = store_ctas_lock(r->s, &span);
    }
    if (!err)
        got = !(err = eval_cta_get(r->s, cand->cta_id, &c));
    struct times t = {0};
    if (!err)
        err = store_cta_history_each(r->s, cand->cta_id, on_change, &t);
    if (!err && c.status == CTA_OPEN) {
        struct esc_cta x = planned_of(cand);
        x.priority = (enum cta_priority)c.priority;
        x.due_day = c.due_day;
        x.opened_day = c.opened_day;
        x.open_ms = t.open_ms;
        x.first_act_ms = t.first_act_ms;
        struct esc_due d[2];
        int n = esc_plan(r->ec, r->z, &x, r->now_ms, d);
        for (int i = 0; !err && i < n; i++) {
            bool done;
            /* The first level's raise is the second's starting point. */
            d[i].from = (enum cta_priority)c.priority;
            d[i].to = c.priority < CTA_HIGH ? (enum cta_priority)(c.priority + 1) : CTA_HIGH;
            err = escalate_one(r, &c, &d[i], &done);
            any = any || done;
        }
    }
    if (!err && any && r->nc && r->nc->n_channels > 0)
        err = store_notify(r->s, STORE_CHANNEL_OUTBOX); /* at the commit */
    if (err == TEND_ERR_NOTFOUND)
        err = TEND_OK; /* gone meanwhile (a replay's reset) */
    if (!err)
        err = store_commit(r->s);
    else
        store_rollback(r->s);
    if (got)
        eval_cta_release(&c);
    return err;
}

enum tend_err eval_escalate(struct store *s, const struct esc_config *ec,
                            const struct notify_config *nc, const char *timezone, int64_t now_ms,
                            void (*fn)(void *arg, const struct eval_escalation *e), void *arg,
                            struct eval_esc_summary *out) {
    struct eval_esc_summary sum = {0};
    if (!ec->enabled) {
        *out = sum;
        return TEND_OK;
    }
    GTimeZone *tz = timezone ? g_time_zone_new_identifier(timezone) : NULL;
    if (!tz)
        tz = g_time_zone_new_utc();
    struct esc_zone z = {zone_offset, tz};
    struct listing l = {0};
    enum tend_err err = store_escalation_candidates(s, on_candidate, &l);
    struct run r = {
        .s = s, .ec = ec, .nc = nc, .z = &z, .now_ms = now_ms, .fn = fn, .arg = arg, .sum = &sum};
    enum tend_err first = err;
    /* The due ones, most urgent first, max_per_pass of them: a pass stays
     * short (each is a transaction of its own) however many fell due at
     * once (escalation just turned on, tend serve down for a week). */
    struct due *due = xmalloc((l.n ? l.n : 1) * sizeof *due);
    size_t n_due = 0;
    for (size_t i = 0; !err && i < l.n; i++) {
        sum.open++;
        struct esc_due d[2];
        struct esc_cta x = planned_of(&l.c[i]);
        if (esc_plan(ec, &z, &x, now_ms, d) > 0)
            due[n_due++] = (struct due){.c = &l.c[i], .deadline_ms = d[0].deadline_ms};
    }
    qsort(due, n_due, sizeof *due, by_urgency);
    for (size_t i = 0; i < n_due; i++) {
        if ((int64_t)i >= ec->max_per_pass) {
            sum.deferred = (int64_t)(n_due - i);
            break;
        }
        enum tend_err e = escalate_cta(&r, due[i].c);
        if (e && !first)
            first = e;
        if (e == TEND_ERR_DB && store_shared(s) == false)
            break; /* SQLite: a failing database fails the rest too */
    }
    free(due);
    free(l.c);
    g_time_zone_unref(tz);
    *out = sum;
    return first;
}
