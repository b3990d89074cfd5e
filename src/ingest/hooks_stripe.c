/* hooks_stripe.c: Stripe's events as tend's (see hooks_map.h; the table in
 * docs/connectors.md, "Stripe").
 *
 * Stripe sends an Event: {"id": "evt_...", "type": "invoice.paid",
 * "created": SECONDS, "data": {"object": {...}, "previous_attributes":
 * {...}}}. The object is the invoice, subscription, payment method or
 * customer as it is after the change; previous_attributes holds the old
 * values of the fields that changed (updates only). Amounts are integers in
 * the currency's minor unit (cents; yen have none), converted here to the
 * major unit tend stores. MRR is computed from a subscription's items
 * (price x quantity, normalised to a month by the price's interval);
 * discounts, taxes and metered prices are not in it. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ingest/hooks_map.h"
#include "util/datetime.h"

/* Stripe's zero-decimal and three-decimal currencies (its "Currencies"
 * page); every other currency has two decimals. */
static const char *const zero_decimal[] = {"bif", "clp", "djf", "gnf", "jpy", "kmf",
                                           "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                                           "vuv", "xaf", "xof", "xpf", NULL};
static const char *const three_decimal[] = {"bhd", "jod", "kwd", "omr", "tnd", NULL};

static bool listed(const char *const *list, const char *currency) {
    for (size_t i = 0; currency && list[i]; i++)
        if (strcasecmp(list[i], currency) == 0)
            return true;
    return false;
}

static double scale_of(const char *currency) {
    return listed(zero_decimal, currency) ? 1.0 : listed(three_decimal, currency) ? 1000.0 : 100.0;
}

/* Rounded to the currency's smallest unit, as a double of the major unit. */
static double major_rounded(double minor, const char *currency) {
    double s = scale_of(currency);
    return round(minor) / s;
}

double hook_stripe_major(int64_t minor, const char *currency) {
    return major_rounded((double)minor, currency);
}

/* A whole number member as int64 (default when absent or null). */
static bool int_of(const cJSON *o, const char *key, int64_t dflt, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        *out = dflt;
        return true;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        fabs(v->valuedouble) > 1e15)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

double hook_stripe_mrr(const cJSON *items, const char *currency, bool *ok) {
    *ok = cJSON_IsArray(items);
    double minor_month = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items) {
        const cJSON *price = cJSON_GetObjectItemCaseSensitive(it, "price");
        const char *amount_key = "unit_amount";
        const cJSON *recurring;
        if (cJSON_IsObject(price)) {
            recurring = cJSON_GetObjectItemCaseSensitive(price, "recurring");
        } else { /* the older API: a plan with amount and interval */
            price = cJSON_GetObjectItemCaseSensitive(it, "plan");
            amount_key = "amount";
            recurring = price;
        }
        int64_t amount, quantity, count;
        const char *interval = hook_str(recurring, "interval");
        if (!cJSON_IsObject(price) || !interval || !int_of(price, amount_key, -1, &amount) ||
            amount < 0 || !int_of(it, "quantity", 1, &quantity) || quantity < 0 ||
            !int_of(recurring, "interval_count", 1, &count) || count < 1) {
            *ok = false;
            continue;
        }
        double per_month = strcmp(interval, "month") == 0  ? 1.0
                           : strcmp(interval, "year") == 0 ? 1.0 / 12.0
                           : strcmp(interval, "week") == 0 ? 52.0 / 12.0
                           : strcmp(interval, "day") == 0  ? 365.0 / 12.0
                                                           : -1.0;
        if (per_month < 0) {
            *ok = false;
            continue;
        }
        minor_month += (double)amount * (double)quantity * per_month / (double)count;
    }
    return major_rounded(minor_month, currency);
}

/* The object's customer id: its own id for a customer, else its customer
 * field (an id, or the expanded customer). *expanded: that customer
 * object when expanded. */
static const char *customer_of(const cJSON *obj, const cJSON **expanded) {
    *expanded = NULL;
    const char *type = hook_str(obj, "object");
    if (type && strcmp(type, "customer") == 0) {
        *expanded = obj;
        return hook_str(obj, "id");
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, "customer");
    if (cJSON_IsObject(c)) {
        *expanded = c;
        return hook_str(c, "id");
    }
    return cJSON_IsString(c) ? c->valuestring : NULL;
}

/* metadata[key] of o when a usable account id. */
static const char *metadata_account(const cJSON *o, const char *key) {
    const char *v = hook_str(cJSON_GetObjectItemCaseSensitive(o, "metadata"), key);
    return v && v[0] && strlen(v) < HOOK_ID_BYTES ? v : NULL;
}

/* The account of obj into r->account: the object's metadata, its expanded
 * customer's metadata (learnt for the customer), the mapping table. */
static enum tend_err stripe_account(const struct conn_provider *c, const cJSON *obj,
                                    const struct hook_lookup *look, struct hook_result *r,
                                    bool *found) {
    const cJSON *cust;
    const char *customer = customer_of(obj, &cust);
    const char *meta = metadata_account(obj, c->account_id_key);
    if (!meta && cust)
        meta = metadata_account(cust, c->account_id_key);
    if (meta) {
        snprintf(r->account, sizeof r->account, "%s", meta);
        if (customer && strlen(customer) < HOOK_ID_BYTES) {
            snprintf(r->learn_id, sizeof r->learn_id, "%s", customer);
            snprintf(r->learn_account, sizeof r->learn_account, "%s", meta);
        }
        *found = true;
        return TEND_OK;
    }
    enum tend_err e = hook_resolve(look, HOOK_STRIPE, customer, r, found);
    if (!e && !*found)
        hook_set(r, "unmapped", HOOK_UNKNOWN_ACCOUNT,
                 "Stripe customer %.100s has no metadata.%s and is not in the mapping table "
                 "(tend inbox map --provider stripe)",
                 customer ? customer : "(none)", c->account_id_key);
    return e;
}

/* A date of Unix seconds (a member of o), else of fallback_ms. */
static void date_of(const cJSON *o, const char *key, int64_t fallback_ms, char out[16]) {
    int64_t s;
    if (int_of(o, key, -1, &s) && s > 0)
        dt_format_date(dt_day_of_ms(s * 1000), out);
    else
        dt_format_date(dt_day_of_ms(fallback_ms), out);
}

/* The card of a customer.updated: its default PaymentMethod (expanded), or
 * its default source among its sources (the legacy Card objects). */
static const cJSON *customer_card(const cJSON *cust) {
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(cust, "invoice_settings");
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(settings, "default_payment_method");
    if (cJSON_IsObject(pm) && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(pm, "card")))
        return cJSON_GetObjectItemCaseSensitive(pm, "card");
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(cust, "default_source");
    if (cJSON_IsObject(src) && cJSON_GetObjectItemCaseSensitive(src, "exp_month"))
        return src;
    const char *src_id = cJSON_IsString(src) ? src->valuestring : NULL;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(cust, "sources"), "data")) {
        const char *id = hook_str(s, "id");
        if (src_id && id && strcmp(id, src_id) == 0 &&
            cJSON_GetObjectItemCaseSensitive(s, "exp_month"))
            return s;
    }
    return NULL;
}

/* Payment Method Updated from a card object (exp_month, exp_year, last4). */
static void card_event(struct hook_result *r, const char *event_id, const cJSON *card) {
    int64_t month, year;
    if (!int_of(card, "exp_month", -1, &month) || !int_of(card, "exp_year", -1, &year) ||
        month < 1 || year < 1) {
        hook_set(r, "failed", HOOK_BAD_PAYLOAD, "the card has no exp_month and exp_year");
        return;
    }
    cJSON *props = cJSON_CreateObject();
    cJSON_AddNumberToObject(props, "card_exp_month", (double)month);
    cJSON_AddNumberToObject(props, "card_exp_year", (double)year);
    const char *last4 = hook_str(card, "last4"), *brand = hook_str(card, "brand");
    if (last4)
        cJSON_AddStringToObject(props, "card_last4", last4);
    if (brand)
        cJSON_AddStringToObject(props, "card_brand", brand);
    hook_add_track(r, HOOK_STRIPE, event_id, NULL, "Payment Method Updated", props);
    hook_set(r, "done", "", "card expiring %02d/%lld", (int)month, (long long)year);
}

enum tend_err hook_map_stripe(const struct conn_provider *c, cJSON *ev,
                              const struct hook_lookup *look, struct hook_result *r) {
    const char *type = hook_str(ev, "type"), *event_id = hook_str(ev, "id");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(ev, "data");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(data, "object");
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(data, "previous_attributes");
    int64_t created;
    if (!type || !event_id || !cJSON_IsObject(obj) || !int_of(ev, "created", -1, &created) ||
        created <= 0) {
        hook_set(r, "failed", HOOK_BAD_PAYLOAD,
                 "not a Stripe event: id, type, created and data.object needed");
        return TEND_OK;
    }
    r->ts_ms = created * 1000;
    bool invoice_issued =
        strcmp(type, "invoice.created") == 0 || strcmp(type, "invoice.finalized") == 0;
    bool invoice = invoice_issued || strcmp(type, "invoice.paid") == 0 ||
                   strcmp(type, "invoice.payment_failed") == 0;
    bool sub_updated = strcmp(type, "customer.subscription.updated") == 0;
    bool sub_deleted = strcmp(type, "customer.subscription.deleted") == 0;
    bool pm_attached = strcmp(type, "payment_method.attached") == 0;
    bool cust_changed =
        strcmp(type, "customer.updated") == 0 || strcmp(type, "customer.created") == 0;
    if (!invoice && !sub_updated && !sub_deleted && !pm_attached && !cust_changed) {
        hook_set(r, "ignored", HOOK_UNHANDLED_TYPE, "%s is not mapped", type);
        return TEND_OK;
    }
    bool found;
    enum tend_err e = stripe_account(c, obj, look, r, &found);
    if (e || !found)
        return e;
    const char *id = hook_str(obj, "id");
    const char *currency = hook_str(obj, "currency");
    if (invoice) {
        if (!id) {
            hook_set(r, "failed", HOOK_BAD_PAYLOAD, "data.object.id: the invoice's id is missing");
            return TEND_OK;
        }
        cJSON *props = cJSON_CreateObject();
        cJSON_AddStringToObject(props, "invoice_id", id);
        const char *event = invoice_issued                      ? "Invoice Issued"
                            : strcmp(type, "invoice.paid") == 0 ? "Invoice Paid"
                                                                : "Payment Failed";
        if (invoice_issued) {
            int64_t due;
            if (!int_of(obj, "amount_due", 0, &due) || due < 0) {
                cJSON_Delete(props);
                hook_set(r, "failed", HOOK_BAD_PAYLOAD, "amount_due is not an amount");
                return TEND_OK;
            }
            char date[16];
            date_of(obj, "due_date", r->ts_ms, date);
            cJSON_AddNumberToObject(props, "amount", hook_stripe_major(due, currency));
            cJSON_AddStringToObject(props, "due_date", date);
        }
        if (currency)
            cJSON_AddStringToObject(props, "currency", currency);
        hook_add_track(r, HOOK_STRIPE, event_id, NULL, event, props);
        hook_set(r, "done", "", "%s %s", event, id);
        return TEND_OK;
    }
    if (sub_updated || sub_deleted) {
        bool ok_after, ok_before = true;
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(obj, "items"), "data");
        double after = hook_stripe_mrr(items, currency, &ok_after);
        cJSON *props = cJSON_CreateObject();
        if (id)
            cJSON_AddStringToObject(props, "subscription_id", id);
        if (currency)
            cJSON_AddStringToObject(props, "currency", currency);
        if (sub_deleted) {
            const cJSON *why = cJSON_GetObjectItemCaseSensitive(obj, "cancellation_details");
            const char *reason = hook_str(why, "feedback");
            if (!reason)
                reason = hook_str(why, "reason");
            cJSON_AddStringToObject(props, "reason", reason ? reason : "subscription canceled");
            if (ok_after)
                cJSON_AddNumberToObject(props, "arr", round(after * 12 * 100) / 100);
            hook_add_track(r, HOOK_STRIPE, event_id, NULL, "Account Churned", props);
            hook_set(r, "done", "", "subscription %s canceled", id ? id : "?");
            return TEND_OK;
        }
        const cJSON *old_items = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(prev, "items"), "data");
        double before = old_items ? hook_stripe_mrr(old_items, currency, &ok_before) : after;
        if (!ok_after || !ok_before) {
            cJSON_Delete(props);
            hook_set(r, "failed", HOOK_BAD_PAYLOAD,
                     "the subscription's items have no price with unit_amount and a recurring "
                     "interval");
            return TEND_OK;
        }
        if (fabs(after - before) < 0.005) {
            cJSON_Delete(props);
            hook_set(r, "ignored", HOOK_NO_CHANGE, "the subscription's MRR did not change");
            return TEND_OK;
        }
        cJSON_AddNumberToObject(props, "mrr_before", before);
        cJSON_AddNumberToObject(props, "mrr_after", after);
        /* What changed, where the payload says: the prices, or only the
         * quantities of the same prices. */
        bool same_prices = cJSON_GetArraySize(old_items) == cJSON_GetArraySize(items);
        for (int i = 0; same_prices && i < cJSON_GetArraySize(items); i++) {
            const char *a = hook_str(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, i), "price"), "id");
            const char *b = hook_str(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(old_items, i), "price"), "id");
            same_prices = a && b && strcmp(a, b) == 0;
        }
        cJSON_AddStringToObject(props, "reason", same_prices ? "quantity" : "price");
        hook_add_track(r, HOOK_STRIPE, event_id, NULL, "Subscription Changed", props);
        hook_set(r, "done", "", "MRR %.2f -> %.2f", before, after);
        return TEND_OK;
    }
    if (pm_attached) {
        const cJSON *card = cJSON_GetObjectItemCaseSensitive(obj, "card");
        if (!cJSON_IsObject(card)) {
            hook_set(r, "ignored", HOOK_NO_CHANGE, "the payment method is not a card");
            return TEND_OK;
        }
        card_event(r, event_id, card);
        return TEND_OK;
    }
    /* customer.created / customer.updated: what it teaches of the account,
     * and a card when the default payment method or source changed. */
    bool card_changed = cJSON_GetObjectItemCaseSensitive(prev, "default_source") ||
                        cJSON_GetObjectItemCaseSensitive(prev, "invoice_settings") ||
                        cJSON_GetObjectItemCaseSensitive(prev, "sources");
    const cJSON *card = customer_card(obj);
    if (card && (card_changed || strcmp(type, "customer.created") == 0)) {
        card_event(r, event_id, card);
        return TEND_OK;
    }
    if (r->learn_id[0])
        hook_set(r, "done", "", "Stripe customer %s is account %s", r->learn_id, r->account);
    else
        hook_set(r, "ignored", HOOK_NO_CHANGE, "no new card and nothing to learn");
    return TEND_OK;
}
