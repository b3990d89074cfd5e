/* outbox.c: a CTA event's snapshot and outbox rows (see outbox.h). */
#include "notify/outbox.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cta.h"
#include "core/plan.h"
#include "util/datetime.h"

bool notify_wanted(const struct notify_config *c, int32_t day, int32_t today) {
    return c && c->n_channels > 0 && today - day <= c->max_age_days;
}

static void add_text(cJSON *o, const char *name, const char *v) {
    if (v)
        cJSON_AddStringToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

static void add_day(cJSON *o, const char *name, int32_t day) {
    char d[16];
    dt_format_date(day, d);
    cJSON_AddStringToObject(o, name, d);
}

/* The score change since days earlier, when a score was stored then. */
static void add_change(struct store *s, cJSON *o, const char *name, const struct notify_account *a,
                       int32_t day, int days) {
    struct store_score then;
    bool found = false;
    if (a->has_score && store_score_get(s, a->id, day - days, &then, &found) == TEND_OK && found &&
        then.has_overall)
        cJSON_AddNumberToObject(o, name, a->score - then.overall);
    else
        cJSON_AddNullToObject(o, name);
}

/* The snapshot document (message.h); a malloced string. */
static char *snapshot(struct store *s, const struct notify_cta_event *e, const char *owner_slack) {
    const struct store_cta *c = e->cta;
    const struct notify_account *a = e->account;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "event", notify_event_name(e->event));
    add_day(root, "day", e->day);

    cJSON *cta = cJSON_AddObjectToObject(root, "cta");
    if (c->id > 0) /* a held-back CTA has no id, and no page of its own */
        cJSON_AddNumberToObject(cta, "id", (double)c->id);
    add_text(cta, "rule", c->rule);
    add_text(cta, "subject", c->subject ? c->subject : "");
    add_text(cta, "type", c->type);
    cJSON_AddStringToObject(cta, "priority", cta_priority_name((enum cta_priority)c->priority));
    if (e->previous_priority)
        cJSON_AddStringToObject(cta, "previous_priority", e->previous_priority);
    cJSON_AddStringToObject(cta, "status", cta_status_name((enum cta_status)c->status));
    if (c->has_value) {
        cJSON_AddNumberToObject(cta, "value", round(c->value * 100) / 100);
        enum cta_type ty = CTA_RISK;
        cta_type_parse(c->type, &ty);
        char text[64];
        plan_value_text(c->value, ty, e->currency ? e->currency : "$", text, sizeof text);
        cJSON_AddStringToObject(cta, "value_text", text);
    }
    /* How the evidence's money is written in the message (core/labels.h). */
    cJSON_AddStringToObject(cta, "currency", e->currency ? e->currency : "$");
    add_text(cta, "title", c->title);
    add_text(cta, "reason", c->reason);
    cJSON *ev = c->evidence ? cJSON_Parse(c->evidence) : NULL;
    cJSON_AddItemToObject(cta, "evidence", ev ? ev : cJSON_CreateObject());
    add_text(cta, "owner", c->owner);
    if (owner_slack)
        cJSON_AddStringToObject(cta, "owner_slack", owner_slack);
    if (e->event != NOTIFY_HELD) { /* a held-back CTA was not opened: no dates */
        add_day(cta, "opened", c->opened_day);
        add_day(cta, "due", c->due_day);
    }
    if (e->note)
        cJSON_AddStringToObject(cta, "note", e->note);
    if (e->event == NOTIFY_ESCALATE) {
        cJSON *esc = cJSON_AddObjectToObject(root, "escalation");
        cJSON_AddNumberToObject(esc, "level", e->level);
        add_text(esc, "to", e->recipient);
    }

    cJSON *acc = cJSON_AddObjectToObject(root, "account");
    add_text(acc, "id", a->external_id);
    add_text(acc, "name", a->name);
    add_text(acc, "segment", a->segment);
    add_text(acc, "plan", a->plan);
    if (a->has_mrr)
        cJSON_AddNumberToObject(acc, "mrr", a->mrr);
    else
        cJSON_AddNullToObject(acc, "mrr");
    add_text(acc, "renewal_date", a->renewal_date);

    cJSON *h = cJSON_AddObjectToObject(root, "health");
    if (a->has_score) {
        cJSON_AddNumberToObject(h, "score", a->score);
        add_text(h, "band", a->band);
    } else {
        cJSON_AddNullToObject(h, "score");
        cJSON_AddNullToObject(h, "band");
    }
    add_change(s, h, "change_7d", a, e->day, 7);
    add_change(s, h, "change_30d", a, e->day, 30);

    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

enum tend_err notify_enqueue(struct store *s, const struct notify_config *c,
                             const struct notify_cta_event *e, int64_t *rows) {
    const struct store_cta *cta = e->cta;
    const struct notify_account *a = e->account;
    const char *to = e->recipient ? e->recipient : cta->owner;
    bool owns = a->csm_email && cta->owner && strcmp(a->csm_email, cta->owner) == 0;
    struct notify_subject subj = {
        .event = e->event,
        .priority = cta_priority_name((enum cta_priority)cta->priority),
        .type = cta->type,
        .rule = cta->rule,
        .segment = a->segment,
        .owner = to,
    };
    struct notify_target t[NOTIFY_TARGETS_MAX];
    int n = notify_route(c, &subj, t);
    if (rows)
        *rows = n;
    if (n == 0)
        return TEND_OK;
    char *snap = snapshot(s, e, notify_slack_user(c, cta->owner, owns ? a->csm_slack : NULL));
    /* An evaluation of a day before today (a replay, a catch-up) is backfill:
     * it waits behind today's news. */
    int rank = notify_rank(subj.priority, e->day < dt_day_of_ms(e->now_ms));
    int64_t nid;
    enum tend_err err = store_notification_add(s, cta->id, notify_event_name(e->event), e->day,
                                               e->now_ms, snap, &nid);
    free(snap);
    for (int i = 0; !err && i < n; i++) {
        if (e->event == NOTIFY_HELD)
            t[i].digest = true; /* held back: the owner's digest, not a message of its own */
        if (e->event == NOTIFY_ESCALATE)
            t[i].digest = false; /* a manager is told at once */
        struct store_outbox row = {
            .notification_id = nid,
            .channel = c->channels[t[i].channel].name,
            .target = t[i].target,
            .owner = to,
            .status = t[i].error    ? "dead"
                      : t[i].digest ? "held"
                                    : "pending",
            .rank = rank,
            .next_at_ms = e->now_ms,
            .created_ms = e->now_ms,
            .last_error = t[i].error,
        };
        int64_t id;
        err = store_outbox_add(s, &row, &id);
    }
    return err;
}
