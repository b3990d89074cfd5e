/* act.c: a person's action on a CTA (see act.h). */
#include "eval/act.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/audit.h"
#include "eval/ctas.h"
#include "util/datetime.h"
#include "util/mem.h"

static const char *const verb_names[] = {"snooze", "close", "assign", "acknowledge"};

const char *cta_verb_name(enum cta_verb v) {
    return verb_names[v];
}

enum tend_err eval_action_day(struct store *s, int32_t *day) {
    int64_t latest;
    bool found;
    enum tend_err err = store_eval_run_before(s, INT64_MAX, &latest, &found);
    if (!err)
        *day = found ? dt_day_of_ms(latest - 1) : dt_day_of_ms(dt_now_ms());
    return err;
}

/* Changes x as a asks, or says in msg why not: TEND_ERR_CONFLICT when x's
 * state refuses the action (a closed CTA), TEND_ERR_USAGE for a bad value. */
static enum tend_err apply(struct store_cta *x, const struct cta_act *a, int32_t day, char *msg,
                           size_t size) {
    const char *sep = a->note ? ": " : "", *note = a->note ? a->note : "";
    if (x->status == CTA_CLOSED && a->verb != CTA_ACT_ASSIGN) {
        snprintf(msg, size, "CTA %lld is closed already", (long long)x->id);
        return TEND_ERR_CONFLICT;
    }
    switch (a->verb) {
    case CTA_ACT_SNOOZE: {
        char d[16], u[16];
        dt_format_date(day, d);
        dt_format_date(a->until, u);
        if (a->until <= day) {
            snprintf(msg, size, "until must be after %s (the current day)", d);
            return TEND_ERR_USAGE;
        }
        x->status = CTA_SNOOZED;
        x->snoozed_until = a->until;
        x->due_day = cta_due_after_snooze(x->due_day, day, a->until);
        snprintf(msg, size, "snoozed until %s%s%s", u, sep, note);
        return TEND_OK;
    }
    case CTA_ACT_CLOSE:
        if (a->reason != CTA_RESOLVED && a->reason != CTA_NOT_RELEVANT) {
            snprintf(msg, size,
                     "reason must be resolved or not_relevant (auto_resolved and "
                     "churned are tend's own)");
            return TEND_ERR_USAGE;
        }
        x->status = CTA_CLOSED;
        x->has_closed = true;
        x->closed_reason = a->reason;
        x->closed_day = day;
        x->cleared = false; /* the cooldown watches it */
        snprintf(msg, size, "closed as %s%s%s", cta_close_reason_name(a->reason), sep, note);
        return TEND_OK;
    case CTA_ACT_ASSIGN:
        if (!a->owner || !a->owner[0]) {
            snprintf(msg, size, "owner must not be empty");
            return TEND_ERR_USAGE;
        }
        snprintf(msg, size, "%s -> %s%s%s", x->owner, a->owner, sep, note);
        free((char *)x->owner);
        x->owner = xstrdup(a->owner);
        return TEND_OK;
    case CTA_ACT_ACKNOWLEDGE:
        snprintf(msg, size, "acknowledged%s%s", sep, note);
        return TEND_OK;
    }
    return TEND_ERR_USAGE;
}

/* What the audit log keeps of a CTA before and after an action. */
static cJSON *audit_state(const struct store_cta *x) {
    cJSON *o = cJSON_CreateObject();
    char d[16];
    cJSON_AddStringToObject(o, "status", cta_status_name((enum cta_status)x->status));
    cJSON_AddStringToObject(o, "owner", x->owner ? x->owner : "");
    if (x->status == CTA_SNOOZED) {
        dt_format_date(x->snoozed_until, d);
        cJSON_AddStringToObject(o, "snoozed_until", d);
    }
    if (x->has_closed && x->status == CTA_CLOSED)
        cJSON_AddStringToObject(o, "closed_reason",
                                cta_close_reason_name((enum cta_close_reason)x->closed_reason));
    dt_format_date(x->due_day, d);
    cJSON_AddStringToObject(o, "due", d);
    return o;
}

struct ack_seen {
    const char *by;
    bool seen;
};

static void on_change(void *arg, const struct store_cta_change *ch) {
    struct ack_seen *k = arg;
    if (ch->action && strcmp(ch->action, "acknowledge") == 0 && ch->actor &&
        strcmp(ch->actor, k->by) == 0)
        k->seen = true;
}

/* Whether x is already as a would leave it (eval_cta_act_once); says so in
 * msg. */
static enum tend_err already(struct store *s, const struct store_cta *x, const struct cta_act *a,
                             bool *same, char *msg, size_t size) {
    char d[16];
    *same = false;
    switch (a->verb) {
    case CTA_ACT_SNOOZE:
        *same = x->status == CTA_SNOOZED && x->snoozed_until == a->until;
        dt_format_date(a->until, d);
        snprintf(msg, size, "already snoozed until %s", d);
        return TEND_OK;
    case CTA_ACT_CLOSE:
        *same = x->status == CTA_CLOSED && x->has_closed && x->closed_reason == (int)a->reason;
        snprintf(msg, size, "already closed as %s", cta_close_reason_name(a->reason));
        return TEND_OK;
    case CTA_ACT_ASSIGN:
        *same = a->owner && x->owner && strcmp(x->owner, a->owner) == 0;
        snprintf(msg, size, "already owned by %s", a->owner ? a->owner : "");
        return TEND_OK;
    case CTA_ACT_ACKNOWLEDGE: {
        struct ack_seen k = {.by = a->by && a->by[0] ? a->by : "unknown"};
        enum tend_err err = store_cta_history_each(s, x->id, on_change, &k);
        *same = k.seen && x->status != CTA_CLOSED;
        snprintf(msg, size, "already acknowledged by %s", k.by);
        return err;
    }
    }
    return TEND_OK;
}

/* eval_cta_act, and with once the check of eval_cta_act_once. */
static enum tend_err act(struct store *s, int64_t id, const struct cta_act *a, char *msg,
                         size_t size, bool once, bool *changed) {
    struct store_cta c;
    bool found = false;
    int32_t day = a->on;
    msg[0] = '\0';
    enum tend_err err = store_begin(s, NULL);
    if (!err)
        found = !(err = eval_cta_get(s, id, &c));
    if (!err) {
        /* Its account's lock (store_ctas_lock), then a fresh read: an
         * evaluation of the account on another node commits first, and this
         * action applies to what it wrote instead of being overwritten. */
        int64_t ids[] = {c.account_id};
        struct store_span span = {.ids = ids, .n = 1};
        err = store_ctas_lock(s, &span);
        if (!err && store_shared(s)) {
            eval_cta_release(&c);
            found = !(err = eval_cta_get(s, id, &c));
        }
    }
    if (!err && !a->has_on)
        err = eval_action_day(s, &day);
    if (err == TEND_ERR_NOTFOUND)
        snprintf(msg, size, "no CTA %lld", (long long)id);
    bool same = false;
    if (!err && once)
        err = already(s, &c, a, &same, msg, size);
    if (!err && same) {
        store_rollback(s); /* nothing was written: the lock is let go */
        eval_cta_release(&c);
        return TEND_OK;
    }
    cJSON *before = !err ? audit_state(&c) : NULL;
    if (!err)
        err = apply(&c, a, day, msg, size);
    if (!err) {
        c.updated_ms = dt_now_ms();
        err = store_cta_update(s, &c);
    }
    if (!err) {
        struct store_cta_change ch = {
            .day = day,
            .at_ms = c.updated_ms,
            .action = cta_verb_name(a->verb),
            .actor = a->by && a->by[0] ? a->by : "unknown",
            .status = c.status,
            .priority = c.priority,
            .note = msg,
        };
        err = store_cta_history_add(s, c.id, &ch);
    }
    if (!err) { /* in the same transaction: the action and its entry commit together */
        char action[32], target[32];
        snprintf(action, sizeof action, "cta.%s", cta_verb_name(a->verb));
        snprintf(target, sizeof target, "cta:%lld", (long long)c.id);
        cJSON *after = audit_state(&c);
        if (a->note)
            cJSON_AddStringToObject(after, "note", a->note);
        err = audit_record(s, c.updated_ms, a->by, action, target, before, after);
        cJSON_Delete(after);
    }
    cJSON_Delete(before);
    if (!err)
        err = store_commit(s);
    if (!err && changed)
        *changed = true;
    if (err) {
        store_rollback(s);
        if (!msg[0] || err == TEND_ERR_DB)
            snprintf(msg, size, "%s", store_last_error(s));
    }
    if (found)
        eval_cta_release(&c);
    return err;
}

enum tend_err eval_cta_act(struct store *s, int64_t id, const struct cta_act *a, char *msg,
                           size_t size) {
    return act(s, id, a, msg, size, false, NULL);
}

enum tend_err eval_cta_act_once(struct store *s, int64_t id, const struct cta_act *a, char *msg,
                                size_t size, bool *changed) {
    *changed = false;
    return act(s, id, a, msg, size, true, changed);
}
