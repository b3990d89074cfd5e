/* customer_plan.c: which customer messages are due (see customer_plan.h). */
#include "core/customer_plan.h"

#include <stdio.h>
#include <string.h>

#include "util/datetime.h"

static const char *const kind_names[CUST_KIND_COUNT] = {"card_expiry", "renewal", "payment_failed"};

const char *cust_kind_name(enum cust_kind k) {
    return k >= 0 && k < CUST_KIND_COUNT ? kind_names[k] : "unknown";
}

bool cust_kind_parse(const char *name, enum cust_kind *out) {
    for (int k = 0; name && k < CUST_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (enum cust_kind)k;
            return true;
        }
    return false;
}

void cust_card_ref(int year, int month, const char *last4, char *ref) {
    if (last4 && last4[0])
        snprintf(ref, CUST_REF_BYTES, "%04d-%02d *%.4s", year, month, last4);
    else
        snprintf(ref, CUST_REF_BYTES, "%04d-%02d", year, month);
}

static bool decided(const struct cust_plan_input *in, enum cust_kind k, const char *ref,
                    int64_t step) {
    for (size_t i = 0; i < in->n_decided; i++)
        if (in->decided[i].kind == k && in->decided[i].step == step && in->decided[i].ref &&
            strcmp(in->decided[i].ref, ref) == 0)
            return true;
    return false;
}

/* A dated kind (card, renewal): the latest due step, unless it or a later
 * one was decided. */
static size_t dated(const struct cust_plan_config *c, const struct cust_plan_input *in,
                    enum cust_kind k, int32_t date, const char *ref, struct cust_due *out,
                    size_t max) {
    int32_t left = date - in->today;
    if (left < 0 || max == 0)
        return 0;
    int latest = -1;
    for (int i = 0; i < c->n_steps[k]; i++)
        if (c->steps[k][i] >= left && (latest < 0 || c->steps[k][i] < latest))
            latest = c->steps[k][i];
    if (latest < 0)
        return 0;
    for (int i = 0; i < c->n_steps[k]; i++) /* this step, or one nearer the date, was decided */
        if (c->steps[k][i] <= latest && decided(in, k, ref, c->steps[k][i]))
            return 0;
    out->kind = k;
    snprintf(out->ref, sizeof out->ref, "%s", ref);
    out->step = latest;
    out->days_left = left;
    out->failure = 0;
    out->unsubscribed = in->unsubscribed[k];
    return 1;
}

size_t cust_plan(const struct cust_plan_config *c, const struct cust_plan_input *in,
                 struct cust_due *out, size_t max) {
    size_t n = 0;
    if (c->enabled[CUST_CARD_EXPIRY] && in->has_card) {
        char ref[CUST_REF_BYTES];
        cust_card_ref(in->card_year, in->card_month, in->card_last4, ref);
        n += dated(c, in, CUST_CARD_EXPIRY, in->card_last_day, ref, out + n, max - n);
    }
    if (c->enabled[CUST_RENEWAL] && in->has_renewal) {
        char ref[CUST_REF_BYTES];
        dt_format_date(in->renewal_day, ref); /* the renewal date: a new date, new steps */
        n += dated(c, in, CUST_RENEWAL, in->renewal_day, ref, out + n, max - n);
    }
    if (c->enabled[CUST_PAYMENT_FAILED]) {
        for (size_t i = 0; i < in->n_failures && n < max; i++) {
            const struct cust_failure *f = &in->failures[i];
            if (!f->invoice || f->paid || f->day > in->today ||
                in->today - f->day > c->payment_max_age_days ||
                decided(in, CUST_PAYMENT_FAILED, f->invoice, 0))
                continue;
            bool again = false; /* the same invoice failed twice: one notice */
            for (size_t j = 0; j < n; j++)
                again |= out[j].kind == CUST_PAYMENT_FAILED && strcmp(out[j].ref, f->invoice) == 0;
            if (again || strlen(f->invoice) >= CUST_REF_BYTES)
                continue;
            out[n] = (struct cust_due){.kind = CUST_PAYMENT_FAILED,
                                       .failure = i,
                                       .unsubscribed = in->unsubscribed[CUST_PAYMENT_FAILED]};
            snprintf(out[n].ref, sizeof out[n].ref, "%s", f->invoice);
            n++;
        }
    }
    return n;
}

bool cust_address_ok(const char *s) {
    if (!s || !s[0] || strlen(s) > 254)
        return false;
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@') || !strchr(at + 1, '.'))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 127 || strchr("<>,;:\"()[]\\", *p))
            return false;
    return true;
}

const char *cust_recipient(const char *billing_email, const char *const *emails,
                           const char *const *roles, size_t n, const char **rule) {
    if (cust_address_ok(billing_email)) {
        *rule = "billing_email";
        return billing_email;
    }
    static const char *const want[2] = {"billing", "admin"};
    static const char *const rules[2] = {"billing_user", "admin_user"};
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < n; i++)
            if (roles[i] && strcmp(roles[i], want[w]) == 0 && cust_address_ok(emails[i])) {
                *rule = rules[w];
                return emails[i];
            }
    *rule = "none";
    return NULL;
}
