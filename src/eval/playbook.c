/* playbook.c: ticking a playbook step of a CTA (see playbook.h). */
#include "eval/playbook.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "eval/act.h"
#include "eval/audit.h"
#include "eval/ctas.h"
#include "util/datetime.h"

struct step_seen {
    const char *id;
    bool found, done;
};

static void on_step(void *arg, const struct store_cta_step *st) {
    struct step_seen *k = arg;
    if (strcmp(st->step, k->id) == 0) {
        k->found = true;
        k->done = st->done;
    }
}

/* What the audit log keeps of a step: its id and whether it is done. */
static cJSON *step_state(const char *id, bool done) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "step", id);
    cJSON_AddBoolToObject(o, "done", done);
    return o;
}

enum tend_err eval_cta_step(struct store *s, const struct playbook_set *set, int64_t id,
                            const char *step_id, bool done, const char *by, char *msg,
                            size_t size) {
    struct store_cta c;
    bool found = false;
    msg[0] = '\0';
    enum tend_err err = store_begin(s, NULL);
    if (!err)
        found = !(err = eval_cta_get(s, id, &c));
    if (!err) {
        /* The account's lock, as a person action takes it (act.c). */
        int64_t ids[] = {c.account_id};
        struct store_span span = {.ids = ids, .n = 1};
        err = store_ctas_lock(s, &span);
        if (!err && store_shared(s)) {
            eval_cta_release(&c);
            found = !(err = eval_cta_get(s, id, &c));
        }
    }
    if (err == TEND_ERR_NOTFOUND)
        snprintf(msg, size, "no CTA %lld", (long long)id);
    const struct playbook *pb = NULL;
    const struct playbook_step *step = NULL;
    if (!err) {
        pb = playbook_of(set, c.rule);
        step = playbook_step(pb, step_id);
        if (!pb) {
            snprintf(msg, size, "rule %.60s has no playbook (tend.yaml playbooks:)", c.rule);
            err = TEND_ERR_NOTFOUND;
        } else if (!step) {
            snprintf(msg, size, "step: the playbook of %.60s has no step \"%.40s\"", c.rule,
                     step_id ? step_id : "");
            err = TEND_ERR_NOTFOUND;
        } else if (c.status == CTA_CLOSED) {
            snprintf(msg, size, "CTA %lld is closed already", (long long)id);
            err = TEND_ERR_CONFLICT;
        }
    }
    int32_t day = 0;
    if (!err)
        err = eval_action_day(s, &day);
    int64_t now = dt_now_ms();
    const char *actor = by && by[0] ? by : "unknown";
    struct step_seen was = {.id = step ? step->id : ""};
    if (!err) /* the step before, for the audit log (under the account's lock) */
        err = store_cta_steps_each(s, id, on_step, &was);
    if (!err) {
        struct store_cta_step st = {.step = step->id, .done = done, .actor = actor, .at_ms = now};
        err = store_cta_step_set(s, id, &st);
    }
    if (!err) {
        snprintf(msg, size, "%s: %s", done ? "step done" : "step not done", step->title);
        struct store_cta_change ch = {
            .day = day,
            .at_ms = now,
            .action = done ? "step_done" : "step_undone",
            .actor = actor,
            .status = c.status,
            .priority = c.priority,
            .note = msg,
        };
        err = store_cta_history_add(s, id, &ch);
    }
    if (!err) { /* in the same transaction: the step and its audit entry commit together */
        char target[32];
        snprintf(target, sizeof target, "cta:%lld", (long long)id);
        cJSON *before = step_state(step->id, was.found && was.done);
        cJSON *after = step_state(step->id, done);
        err = audit_record(s, now, actor, "cta.step", target, before, after);
        cJSON_Delete(before);
        cJSON_Delete(after);
    }
    if (!err)
        err = store_commit(s);
    if (err) {
        store_rollback(s);
        if (!msg[0] || err == TEND_ERR_DB)
            snprintf(msg, size, "%s", store_last_error(s));
    }
    if (found)
        eval_cta_release(&c);
    return err;
}
