/* views_customer.c: what an account's customers were told (docs/delivery.md,
 * "Messages to the customer"): the account's customer_messages and
 * unsubscribes in its JSON (GET /api/accounts/ID), and each on its timeline,
 * so the CSM sees what the customer was told, when, and who asked for no
 * more. */
#include <stdio.h>
#include <string.h>

#include "core/customer_plan.h"
#include "server/views_int.h"
#include "util/datetime.h"

#define CUSTOMER_MESSAGES_SHOWN 100

struct cm {
    cJSON *arr;
    void (*add)(void *arg, int64_t at_ms, cJSON *entry);
    void *arg;
};

static const char *kind_title(const char *kind) {
    return !kind                                 ? "Message"
           : strcmp(kind, "card_expiry") == 0    ? "Card expiry reminder"
           : strcmp(kind, "renewal") == 0        ? "Renewal reminder"
           : strcmp(kind, "payment_failed") == 0 ? "Failed payment notice"
                                                 : kind;
}

/* What became of a message, in words: sent, on its way, withheld. */
static const char *state_of(const struct store_customer_message *m) {
    if (strcmp(m->status, "no_recipient") == 0)
        return "not sent: no billing contact (billing_email, a billing or admin user)";
    if (strcmp(m->status, "unsubscribed") == 0)
        return "not sent: the contact unsubscribed";
    if (!m->delivery)
        return "queued";
    if (strcmp(m->delivery, "sent") == 0)
        return "sent";
    if (strcmp(m->delivery, "dead") == 0)
        return "failed (see Delivery)";
    return "queued";
}

/* When a message belongs on the timeline: when it was sent (else decided);
 * one decided by a replay (tend eval --from, its day not the day it ran)
 * on its day, at noon UTC, as CTA changes of a replay are (views.c). */
static int64_t placed_at(const struct store_customer_message *m) {
    if (dt_day_of_ms(m->created_ms) != m->day)
        return (int64_t)m->day * DT_MS_PER_DAY + DT_MS_PER_DAY / 2;
    return m->sent_ms ? m->sent_ms : m->created_ms;
}

static void on_message(void *arg, const struct store_customer_message *m) {
    struct cm *x = arg;
    int64_t at = placed_at(m);
    cJSON *o = cJSON_CreateObject();
    view_add_instant(o, "at", at);
    view_add_str(o, "kind", m->kind);
    view_add_str(o, "title", kind_title(m->kind)); /* the kind in words */
    view_add_str(o, "ref", m->ref);
    cJSON_AddNumberToObject(o, "step", (double)m->step);
    view_add_date(o, "day", true, m->day);
    view_add_instant(o, "decided_at", m->created_ms);
    view_add_str(o, "to", m->recipient);
    view_add_str(o, "recipient_rule", m->rule);
    view_add_str(o, "status", m->status);
    view_add_str(o, "delivery", m->delivery);
    if (m->sent_ms)
        view_add_instant(o, "sent_at", m->sent_ms);
    else
        cJSON_AddNullToObject(o, "sent_at");
    view_add_str(o, "subject", m->subject);
    view_add_str(o, "state", state_of(m));
    cJSON_AddItemToArray(x->arr, o);

    char what[200], detail[600];
    if (strcmp(m->kind, "payment_failed") == 0)
        snprintf(what, sizeof what, "Customer told: %s", kind_title(m->kind));
    else
        snprintf(what, sizeof what, "Customer told: %s (%lld days before)", kind_title(m->kind),
                 (long long)m->step);
    snprintf(detail, sizeof detail, "to %s: \"%s\": %s", m->recipient ? m->recipient : "nobody",
             m->subject ? m->subject : "", state_of(m));
    cJSON *e = cJSON_CreateObject();
    view_add_instant(e, "at", at);
    cJSON_AddStringToObject(e, "kind", "customer");
    cJSON_AddStringToObject(e, "what", what);
    cJSON_AddNullToObject(e, "user");
    cJSON_AddStringToObject(e, "detail", detail);
    x->add(x->arg, at, e);
}

static void on_unsub(void *arg, const char *kind, const char *contact, int64_t ms) {
    struct cm *x = arg;
    cJSON *o = cJSON_CreateObject();
    view_add_str(o, "kind", kind);
    view_add_str(o, "title", kind_title(kind));
    view_add_str(o, "contact", contact);
    view_add_instant(o, "at", ms);
    cJSON_AddItemToArray(x->arr, o);
    char what[200];
    snprintf(what, sizeof what, "Customer unsubscribed from %s messages", kind_title(kind));
    cJSON *e = cJSON_CreateObject();
    view_add_instant(e, "at", ms);
    cJSON_AddStringToObject(e, "kind", "unsubscribe");
    cJSON_AddStringToObject(e, "what", what);
    view_add_str(e, "user", contact);
    cJSON_AddNullToObject(e, "detail");
    x->add(x->arg, ms, e);
}

enum tend_err view_account_customer(struct store *s, int64_t account_id, cJSON *o,
                                    void (*add)(void *arg, int64_t at_ms, cJSON *entry),
                                    void *arg) {
    struct cm x = {.arr = cJSON_AddArrayToObject(o, "customer_messages"), .add = add, .arg = arg};
    enum tend_err e =
        store_customer_messages_each(s, account_id, CUSTOMER_MESSAGES_SHOWN, on_message, &x);
    if (!e) {
        x.arr = cJSON_AddArrayToObject(o, "unsubscribes");
        e = store_customer_unsubscribes_each(s, account_id, on_unsub, &x);
    }
    return e;
}
