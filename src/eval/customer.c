/* customer.c: a day's messages to customers (see customer.h). */
#include "eval/customer.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/vocab.h"
#include "notify/unsub.h"
#include "util/buf.h"
#include "util/datetime.h"
#include "util/mem.h"

#define MAX_FAILURES 64
#define MAX_CONTACTS 256

struct acct {
    int64_t id;
    char *external_id, *name, *billing_email;
    bool has_renewal;
    int32_t renewal_day;
};

struct accts {
    struct acct *v;
    size_t n, cap;
    const int64_t *only;
    size_t n_only;
};

static int cmp_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int on_account(void *arg, const struct store_account_row *r) {
    struct accts *a = arg;
    if (a->only && !bsearch(&r->id, a->only, a->n_only, sizeof *a->only, cmp_id))
        return 0;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    struct acct *x = &a->v[a->n++];
    *x = (struct acct){.id = r->id,
                       .external_id = xstrdup(r->external_id),
                       .name = r->f.name ? xstrdup(r->f.name) : NULL};
    if (r->f.renewal_date)
        x->has_renewal =
            dt_parse_date(r->f.renewal_date, strlen(r->f.renewal_date), &x->renewal_day);
    cJSON *t = r->traits_json ? cJSON_Parse(r->traits_json) : NULL;
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(t, "billing_email");
    if (cJSON_IsString(b))
        x->billing_email = xstrdup(b->valuestring);
    cJSON_Delete(t);
    return 0;
}

/* What an account's facts say as of t_ms. */
struct facts {
    int64_t t_ms;
    bool done_card, has_card, churned, done_outcome;
    int card_year, card_month;
    int32_t card_last_day;
    char last4[8];
    struct cust_failure failures[MAX_FAILURES];
    char *invoices[MAX_FAILURES];
    size_t n_failures;
    char **paid;
    size_t n_paid;
};

static void last4_of(const char *props, char out[8]) {
    out[0] = '\0';
    cJSON *p = props ? cJSON_Parse(props) : NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "card_last4");
    char d[32] = "";
    if (cJSON_IsString(v))
        snprintf(d, sizeof d, "%s", v->valuestring);
    else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 10000)
        snprintf(d, sizeof d, "%04d", (int)v->valuedouble);
    cJSON_Delete(p);
    if (strlen(d) == 4 && strspn(d, "0123456789") == 4) /* anything else is not a card's end */
        snprintf(out, 8, "%s", d);
}

static void on_fact(void *arg, const struct store_fact *f, const char *user) {
    (void)user;
    struct facts *x = arg;
    if (f->ts_ms >= x->t_ms)
        return; /* newest first: after the day evaluated */
    switch (f->kind) {
    case EV_CARD_UPDATED:
        if (!x->done_card && f->has_day && f->has_num) {
            x->done_card = x->has_card = true;
            x->card_year = (int)(f->num / 100);
            x->card_month = (int)f->num % 100;
            x->card_last_day = f->day;
            last4_of(f->props, x->last4);
        }
        break;
    case EV_PAYMENT_FAILED:
        if (f->subject && x->n_failures < MAX_FAILURES) {
            size_t i = x->n_failures++;
            x->invoices[i] = xstrdup(f->subject);
            x->failures[i] =
                (struct cust_failure){.invoice = x->invoices[i], .day = dt_day_of_ms(f->ts_ms)};
        }
        break;
    case EV_INVOICE_PAID:
        if (f->subject) {
            x->paid = xrealloc(x->paid, (x->n_paid + 1) * sizeof *x->paid);
            x->paid[x->n_paid++] = xstrdup(f->subject);
        }
        break;
    case EV_RENEWED:
    case EV_CHURNED:
        if (!x->done_outcome) {
            x->done_outcome = true;
            x->churned = f->kind == EV_CHURNED;
        }
        break;
    default:
        break;
    }
}

static void facts_free(struct facts *x) {
    for (size_t i = 0; i < x->n_failures; i++)
        free(x->invoices[i]);
    for (size_t i = 0; i < x->n_paid; i++)
        free(x->paid[i]);
    free(x->paid);
}

/* Keys decided before, copied. */
struct decided {
    struct cust_decided *v;
    size_t n;
};

static void on_decided(void *arg, const struct store_customer_message *m) {
    struct decided *d = arg;
    enum cust_kind k;
    if (!cust_kind_parse(m->kind, &k) || !m->ref)
        return;
    d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
    d->v[d->n++] = (struct cust_decided){k, xstrdup(m->ref), m->step};
}

struct contacts {
    char *email[MAX_CONTACTS], *role[MAX_CONTACTS];
    size_t n;
};

static void on_contact(void *arg, const char *email, const char *traits) {
    struct contacts *c = arg;
    if (c->n >= MAX_CONTACTS || !email)
        return;
    cJSON *t = traits ? cJSON_Parse(traits) : NULL;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(t, "role");
    c->email[c->n] = xstrdup(email);
    c->role[c->n++] = cJSON_IsString(r) ? xstrdup(r->valuestring) : NULL;
    cJSON_Delete(t);
}

struct unsubs {
    const char *contact;
    bool *out; /* [CUST_KIND_COUNT] */
};

static void on_unsub(void *arg, const char *kind, const char *contact, int64_t ms) {
    (void)ms;
    struct unsubs *u = arg;
    enum cust_kind k;
    if (u->contact && contact && strcasecmp(contact, u->contact) == 0 && cust_kind_parse(kind, &k))
        u->out[k] = true;
}

struct run {
    struct store *s;
    const struct customer_config *cc;
    const struct notify_config *nc;
    const unsigned char *key;
    int32_t day;
    int64_t now_ms;
    struct customer_summary *sum;
};

/* Renders, claims and (when ours and wanted) queues one due message. */
static enum tend_err decide(struct run *r, const struct acct *a, const struct facts *f,
                            const struct cust_due *d, const char *to, const char *rule) {
    const struct customer_config *cc = r->cc;
    char expiry[16] = "", month[16] = "", renewal[16] = "", unsub[UNSUB_TOKEN_BYTES + 600] = "";
    if (d->kind == CUST_CARD_EXPIRY) {
        dt_format_date(f->card_last_day, expiry);
        snprintf(month, sizeof month, "%04d-%02d", f->card_year, f->card_month);
    }
    if (d->kind == CUST_RENEWAL)
        dt_format_date(a->renewal_day, renewal);
    char token[UNSUB_TOKEN_BYTES];
    if (to && unsub_token(r->key, a->id, d->kind, to, token))
        snprintf(unsub, sizeof unsub, "%s/unsubscribe/%s", r->nc->base_url, token);
    struct cust_vars v = {
        .account_name = a->name ? a->name : a->external_id,
        .account_id = a->external_id,
        .card_last4 = f->last4[0] ? f->last4 : "----",
        .expiry_date = expiry,
        .expiry_month = month,
        .renewal_date = renewal,
        .invoice_id = d->kind == CUST_PAYMENT_FAILED ? d->ref : "",
        .days_left = d->days_left,
        .update_payment_url = cc->update_payment_url,
        .unsubscribe_url = unsub,
    };
    struct buf subject, text, html;
    buf_init(&subject, 0);
    buf_init(&text, 0);
    buf_init(&html, 0);
    customer_render(cc->tmpl[d->kind][CUST_SUBJECT], &v, false, &subject);
    for (char *p = (char *)buf_str(&subject); *p; p++)
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    customer_render(cc->tmpl[d->kind][CUST_TEXT], &v, false, &text);
    customer_render(cc->tmpl[d->kind][CUST_HTML], &v, true, &html);
    /* Every message says how to stop it, whatever the template says. */
    if (unsub[0]) {
        buf_printf(&text, "\n\n--\nTo stop these messages: %s\n", unsub);
        buf_puts(&html, "<hr><p style=\"font-size:smaller\">Don't want these messages? <a href=\"");
        customer_html_escape(&html, unsub);
        buf_puts(&html, "\">Unsubscribe</a>.</p>");
    }
    const char *status = !to ? "no_recipient" : d->unsubscribed ? "unsubscribed" : "queued";
    struct store_customer_message m = {
        .account_id = a->id,
        .kind = cust_kind_name(d->kind),
        .ref = d->ref,
        .step = d->step,
        .day = r->day,
        .created_ms = r->now_ms,
        .recipient = to,
        .rule = rule,
        .status = status,
        .subject = buf_str(&subject),
    };
    bool claimed;
    enum tend_err err = store_customer_message_claim(r->s, &m, &claimed);
    if (!err && claimed && strcmp(status, "queued") == 0) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "event", "customer");
        char dd[16];
        dt_format_date(r->day, dd);
        cJSON_AddStringToObject(root, "day", dd);
        cJSON *c = cJSON_AddObjectToObject(root, "customer");
        cJSON_AddStringToObject(c, "kind", m.kind);
        cJSON_AddStringToObject(c, "ref", m.ref);
        cJSON_AddNumberToObject(c, "step", (double)m.step);
        cJSON_AddStringToObject(c, "to", to);
        if (cc->from)
            cJSON_AddStringToObject(c, "from", cc->from);
        cJSON_AddStringToObject(c, "subject", buf_str(&subject));
        cJSON_AddStringToObject(c, "text", buf_str(&text));
        cJSON_AddStringToObject(c, "html", buf_str(&html));
        cJSON_AddStringToObject(c, "unsubscribe_url", unsub);
        cJSON *ac = cJSON_AddObjectToObject(c, "account");
        cJSON_AddStringToObject(ac, "id", a->external_id);
        if (a->name)
            cJSON_AddStringToObject(ac, "name", a->name);
        char *snap = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        int64_t nid, oid;
        err = store_notification_add(r->s, 0, "customer", r->day, r->now_ms, snap, &nid);
        free(snap);
        struct store_outbox row = {
            .notification_id = nid,
            .channel = cc->channel,
            .target = to,
            .owner = to,
            .status = "pending",
            .rank = notify_rank("high", r->day < dt_day_of_ms(r->now_ms)),
            .next_at_ms = r->now_ms,
            .created_ms = r->now_ms,
        };
        if (!err)
            err = store_outbox_add(r->s, &row, &oid);
        if (!err)
            err = store_customer_message_link(r->s, &m, nid);
    }
    if (!err && claimed) {
        if (!to)
            r->sum->no_recipient++;
        else if (d->unsubscribed)
            r->sum->unsubscribed++;
        else
            r->sum->queued++;
    }
    buf_free(&subject);
    buf_free(&text);
    buf_free(&html);
    return err;
}

static enum tend_err one_account(struct run *r, const struct acct *a) {
    struct facts f = {.t_ms = (int64_t)(r->day + 1) * DT_MS_PER_DAY};
    enum tend_err err = store_account_facts_recent(r->s, a->id, CUSTOMER_FACTS_READ, on_fact, &f);
    for (size_t i = 0; i < f.n_failures; i++)
        for (size_t j = 0; j < f.n_paid; j++)
            if (strcmp(f.failures[i].invoice, f.paid[j]) == 0)
                f.failures[i].paid = true;
    const struct cust_plan_config *pc = &r->cc->plan;
    bool any = (pc->enabled[CUST_CARD_EXPIRY] && f.has_card) ||
               (pc->enabled[CUST_RENEWAL] && a->has_renewal) ||
               (pc->enabled[CUST_PAYMENT_FAILED] && f.n_failures);
    if (err || !any || f.churned) {
        facts_free(&f);
        return err;
    }
    struct decided dec = {0};
    struct contacts con = {0};
    err = store_customer_messages_each(r->s, a->id, CUSTOMER_DECIDED_READ, on_decided, &dec);
    if (!err)
        err = store_customer_contacts_each(r->s, a->id, on_contact, &con);
    const char *rule = "none";
    const char *to = err ? NULL
                         : cust_recipient(a->billing_email, (const char *const *)con.email,
                                          (const char *const *)con.role, con.n, &rule);
    struct cust_plan_input in = {
        .today = r->day,
        .has_card = f.has_card,
        .card_last_day = f.card_last_day,
        .card_year = f.card_year,
        .card_month = f.card_month,
        .card_last4 = f.last4[0] ? f.last4 : NULL,
        .has_renewal = a->has_renewal,
        .renewal_day = a->renewal_day,
        .failures = f.failures,
        .n_failures = f.n_failures,
        .decided = dec.v,
        .n_decided = dec.n,
    };
    struct unsubs u = {.contact = to, .out = in.unsubscribed};
    if (!err && to)
        err = store_customer_unsubscribes_each(r->s, a->id, on_unsub, &u);
    struct cust_due due[MAX_FAILURES + 2];
    size_t n = err ? 0 : cust_plan(pc, &in, due, sizeof due / sizeof due[0]);
    for (size_t i = 0; !err && i < n; i++)
        err = decide(r, a, &f, &due[i], to, rule);
    for (size_t i = 0; i < dec.n; i++)
        free((char *)dec.v[i].ref);
    free(dec.v);
    for (size_t i = 0; i < con.n; i++) {
        free(con.email[i]);
        free(con.role[i]);
    }
    facts_free(&f);
    return err;
}

enum tend_err customer_eval(struct store *s, const struct customer_config *cc,
                            const struct notify_config *nc, const unsigned char *key, int32_t day,
                            int64_t now_ms, const int64_t *only, size_t n_only,
                            struct customer_summary *out) {
    *out = (struct customer_summary){0};
    if (!cc || !cc->enabled || dt_day_of_ms(now_ms) - day > nc->max_age_days)
        return TEND_OK;
    int64_t *sorted = NULL;
    if (only) {
        sorted = xmalloc((n_only ? n_only : 1) * sizeof *sorted);
        memcpy(sorted, only, n_only * sizeof *sorted);
        qsort(sorted, n_only, sizeof *sorted, cmp_id);
    }
    struct accts a = {.only = sorted, .n_only = n_only};
    struct run r = {
        .s = s, .cc = cc, .nc = nc, .key = key, .day = day, .now_ms = now_ms, .sum = out};
    enum tend_err err = store_begin(s, NULL);
    /* The listed accounts (an event's, a bucket's) one by one: the cost
     * follows them, not every account. */
    for (size_t i = 0; !err && sorted && i < n_only; i++)
        if (i == 0 || sorted[i] != sorted[i - 1]) {
            err = store_account_get(s, sorted[i], on_account, &a);
            if (err == TEND_ERR_NOTFOUND)
                err = TEND_OK;
        }
    if (!err && !sorted)
        err = store_accounts_brief_each(s, on_account, &a);
    for (size_t i = 0; !err && i < a.n; i++)
        err = one_account(&r, &a.v[i]);
    if (!err)
        err = store_commit(s);
    else
        store_rollback(s);
    for (size_t i = 0; i < a.n; i++) {
        free(a.v[i].external_id);
        free(a.v[i].name);
        free(a.v[i].billing_email);
    }
    free(a.v);
    free(sorted);
    if (err)
        *out = (struct customer_summary){0};
    return err;
}
