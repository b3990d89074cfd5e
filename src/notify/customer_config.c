/* customer_config.c: the customer_messages section and its templates (see
 * customer_config.h). */
#include "notify/customer_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/yaml.h"

static const char *const var_names[] = {
    "account_name", "account_id", "card_last4", "expiry_date",        "expiry_month",
    "renewal_date", "invoice_id", "days_left",  "update_payment_url", "unsubscribe_url"};
enum { N_VARS = sizeof var_names / sizeof var_names[0] };

static const char *const defaults[CUST_KIND_COUNT][CUST_PART_COUNT] = {
    [CUST_CARD_EXPIRY] =
        {"Your card ending {card_last4} expires on {expiry_date}",
         "Hello {account_name},\n\nThe card on file for your account (ending {card_last4}) "
         "expires on {expiry_date}, in {days_left} days. To keep your subscription running, "
         "please update your payment details:\n\n{update_payment_url}\n\nThank you.",
         "<p>Hello {account_name},</p><p>The card on file for your account (ending "
         "{card_last4}) expires on <b>{expiry_date}</b>, in {days_left} days. To keep your "
         "subscription running, please <a href=\"{update_payment_url}\">update your payment "
         "details</a>.</p><p>Thank you.</p>"},
    [CUST_RENEWAL] =
        {"Your subscription renews on {renewal_date}",
         "Hello {account_name},\n\nYour subscription renews on {renewal_date}, in {days_left} "
         "days. To review your payment details:\n\n{update_payment_url}\n\nThank you.",
         "<p>Hello {account_name},</p><p>Your subscription renews on <b>{renewal_date}</b>, in "
         "{days_left} days. To review your payment details: <a "
         "href=\"{update_payment_url}\">{update_payment_url}</a>.</p><p>Thank you.</p>"},
    [CUST_PAYMENT_FAILED] =
        {"We could not take the payment for invoice {invoice_id}",
         "Hello {account_name},\n\nThe payment for invoice {invoice_id} failed. Please update "
         "your payment details:\n\n{update_payment_url}\n\nThank you.",
         "<p>Hello {account_name},</p><p>The payment for invoice <b>{invoice_id}</b> failed. "
         "Please <a href=\"{update_payment_url}\">update your payment details</a>.</p>"
         "<p>Thank you.</p>"},
};
static const char *const part_names[CUST_PART_COUNT] = {"subject", "text", "html"};
static const int default_steps[CUST_KIND_COUNT][3] = {{30, 14, 7}, {30}, {0}};
static const int default_n_steps[CUST_KIND_COUNT] = {3, 1, 0};

void customer_config_default(struct customer_config *c) {
    *c = (struct customer_config){.plan.payment_max_age_days = 7};
    for (int k = 0; k < CUST_KIND_COUNT; k++) {
        c->plan.n_steps[k] = default_n_steps[k];
        for (int i = 0; i < default_n_steps[k]; i++)
            c->plan.steps[k][i] = default_steps[k][i];
    }
}

void customer_config_release(struct customer_config *c) {
    free(c->from);
    free(c->update_payment_url);
    for (int k = 0; k < CUST_KIND_COUNT; k++)
        for (int p = 0; p < CUST_PART_COUNT; p++)
            free(c->tmpl[k][p]);
    customer_config_default(c);
}

static const char *var_value(const struct cust_vars *v, int i, char num[24]) {
    switch (i) {
    case 0:
        return v->account_name;
    case 1:
        return v->account_id;
    case 2:
        return v->card_last4;
    case 3:
        return v->expiry_date;
    case 4:
        return v->expiry_month;
    case 5:
        return v->renewal_date;
    case 6:
        return v->invoice_id;
    case 7:
        snprintf(num, 24, "%d", v->days_left);
        return num;
    case 8:
        return v->update_payment_url;
    default:
        return v->unsubscribe_url;
    }
}

void customer_html_escape(struct buf *out, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(out, "&amp;");
            break;
        case '<':
            buf_puts(out, "&lt;");
            break;
        case '>':
            buf_puts(out, "&gt;");
            break;
        case '"':
            buf_puts(out, "&quot;");
            break;
        case '\'':
            buf_puts(out, "&#39;");
            break;
        default:
            buf_putc(out, *s);
        }
    }
}

static void put_escaped(struct buf *out, const char *s, bool html) {
    if (html)
        customer_html_escape(out, s);
    else if (s)
        buf_puts(out, s);
}

/* The variable named by t[0..n), or -1. */
static int var_of(const char *t, size_t n) {
    for (int i = 0; i < N_VARS; i++)
        if (strlen(var_names[i]) == n && strncmp(var_names[i], t, n) == 0)
            return i;
    return -1;
}

void customer_render(const char *t, const struct cust_vars *v, bool html, struct buf *out) {
    char num[24];
    while (t && *t) {
        if ((t[0] == '{' && t[1] == '{') || (t[0] == '}' && t[1] == '}')) {
            buf_putc(out, t[0]);
            t += 2;
        } else if (t[0] == '{' && strchr(t, '}')) {
            size_t n = strcspn(t + 1, "}");
            int i = var_of(t + 1, n);
            if (i >= 0)
                put_escaped(out, var_value(v, i, num), html);
            t += n + 2;
        } else {
            buf_putc(out, *t++);
        }
    }
}

/* A template: text, known variables, closed braces. */
static enum tend_err check_template(const cJSON *v, const char *path, char **out, char *err) {
    if (!cJSON_IsString(v))
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "must be text");
    const char *t = v->valuestring;
    if (strlen(t) > CUSTOMER_TEMPLATE_BYTES)
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "longer than the limit of %d bytes",
                          CUSTOMER_TEMPLATE_BYTES);
    for (const char *p = t; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            p++;
        } else if (*p == '{') {
            size_t n = strcspn(p + 1, "{}");
            if (p[1 + n] != '}')
                return yaml_error(err, NOTIFY_ERR_BYTES, path,
                                  "a \"{\" is not closed (write {{ for a brace)");
            if (var_of(p + 1, n) < 0)
                return yaml_error(err, NOTIFY_ERR_BYTES, path,
                                  "unknown variable {%.*s} (known: account_name, account_id, "
                                  "card_last4, expiry_date, expiry_month, renewal_date, "
                                  "invoice_id, days_left, update_payment_url, unsubscribe_url)",
                                  (int)(n > 40 ? 40 : n), p + 1);
            p += n + 1;
        } else if (*p == '}') {
            return yaml_error(err, NOTIFY_ERR_BYTES, path, "a \"}\" without its \"{\" (write }})");
        }
    }
    *out = xstrdup(t);
    return TEND_OK;
}

static enum tend_err load_steps(const cJSON *v, const char *path, int *steps, int *n, char *err) {
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > CUST_MAX_STEPS)
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "must be a list of 1 to %d days",
                          CUST_MAX_STEPS);
    int k = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, v) {
        char p[128];
        snprintf(p, sizeof p, "%s[%d]", path, k);
        double x;
        enum tend_err e = yaml_number(d, p, 0, 366, &x, err, NOTIFY_ERR_BYTES);
        if (e)
            return e;
        if (x != (int)x)
            return yaml_error(err, NOTIFY_ERR_BYTES, p, "must be a whole number of days");
        for (int i = 0; i < k; i++)
            if (steps[i] == (int)x)
                return yaml_error(err, NOTIFY_ERR_BYTES, p, "%d is listed twice", (int)x);
        steps[k++] = (int)x;
    }
    for (int i = 1; i < k; i++) /* descending */
        for (int j = i; j > 0 && steps[j] > steps[j - 1]; j--) {
            int t = steps[j];
            steps[j] = steps[j - 1];
            steps[j - 1] = t;
        }
    *n = k;
    return TEND_OK;
}

static enum tend_err load_kind(const cJSON *o, enum cust_kind k, struct customer_config *c,
                               char *err) {
    char path[96];
    snprintf(path, sizeof path, "customer_messages.%s", cust_kind_name(k));
    if (cJSON_IsNull(o))
        return TEND_OK;
    if (!cJSON_IsObject(o))
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "must be a mapping");
    static const char *const dated[] = {"enabled", "days", "subject", "text", "html", NULL};
    static const char *const failed[] = {"enabled", "max_age_days", "subject",
                                         "text",    "html",         NULL};
    enum tend_err e =
        yaml_known_keys(o, path, k == CUST_PAYMENT_FAILED ? failed : dated, err, NOTIFY_ERR_BYTES);
    if (e)
        return e;
    char p[128];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "enabled");
    if (v && !cJSON_IsBool(v)) {
        snprintf(p, sizeof p, "%s.enabled", path);
        return yaml_error(err, NOTIFY_ERR_BYTES, p, "must be true or false");
    }
    c->plan.enabled[k] = !v || cJSON_IsTrue(v);
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "days"))) {
        snprintf(p, sizeof p, "%s.days", path);
        if ((e = load_steps(v, p, c->plan.steps[k], &c->plan.n_steps[k], err)))
            return e;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "max_age_days"))) {
        snprintf(p, sizeof p, "%s.max_age_days", path);
        double x;
        if ((e = yaml_number(v, p, 0, 365, &x, err, NOTIFY_ERR_BYTES)))
            return e;
        c->plan.payment_max_age_days = (int)x;
    }
    for (int i = 0; i < CUST_PART_COUNT; i++) {
        if (!(v = cJSON_GetObjectItemCaseSensitive(o, part_names[i])))
            continue;
        snprintf(p, sizeof p, "%s.%s", path, part_names[i]);
        free(c->tmpl[k][i]);
        c->tmpl[k][i] = NULL;
        if ((e = check_template(v, p, &c->tmpl[k][i], err)))
            return e;
    }
    return TEND_OK;
}

static enum tend_err load(const cJSON *o, const struct notify_config *nc, struct customer_config *c,
                          char *err) {
    const char *path = "customer_messages";
    if (!cJSON_IsObject(o))
        return yaml_error(err, NOTIFY_ERR_BYTES, path, "must be a mapping");
    static const char *const keys[] = {
        "enabled",     "channel", "from",           "update_payment_url",
        "card_expiry", "renewal", "payment_failed", NULL};
    enum tend_err e = yaml_known_keys(o, path, keys, err, NOTIFY_ERR_BYTES);
    if (e)
        return e;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "enabled");
    if (v && !cJSON_IsBool(v))
        return yaml_error(err, NOTIFY_ERR_BYTES, "customer_messages.enabled",
                          "must be true or false");
    c->enabled = !v || cJSON_IsTrue(v);
    c->plan.enabled[CUST_CARD_EXPIRY] = true;
    v = cJSON_GetObjectItemCaseSensitive(o, "channel");
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return yaml_error(err, NOTIFY_ERR_BYTES, "customer_messages.channel",
                          "must name a channel of type email (or log) from channels");
    const struct notify_channel *ch = notify_channel_find(nc, v->valuestring);
    if (!ch)
        return yaml_error(err, NOTIFY_ERR_BYTES, "customer_messages.channel", "no channel \"%s\"",
                          v->valuestring);
    if (ch->kind != NOTIFY_EMAIL && ch->kind != NOTIFY_LOG)
        return yaml_error(err, NOTIFY_ERR_BYTES, "customer_messages.channel",
                          "channel \"%s\" is of type %s: customers are written to by email "
                          "(or a log, to watch)",
                          v->valuestring, notify_kind_name(ch->kind));
    snprintf(c->channel, sizeof c->channel, "%s", ch->name);
    if (!nc->base_url)
        return yaml_error(err, NOTIFY_ERR_BYTES, "customer_messages",
                          "needs delivery.base_url: every message carries an unsubscribe link "
                          "to tend");
    static const char *const texts[] = {"from", "update_payment_url"};
    char **dst[] = {&c->from, &c->update_payment_url};
    for (int i = 0; i < 2; i++) {
        if (!(v = cJSON_GetObjectItemCaseSensitive(o, texts[i])))
            continue;
        char p[64];
        snprintf(p, sizeof p, "customer_messages.%s", texts[i]);
        if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > 1000 ||
            strpbrk(v->valuestring, "\r\n"))
            return yaml_error(err, NOTIFY_ERR_BYTES, p,
                              "must be one line of text (1000 bytes "
                              "at most)");
        *dst[i] = xstrdup(v->valuestring);
    }
    for (int k = 0; k < CUST_KIND_COUNT; k++) {
        v = cJSON_GetObjectItemCaseSensitive(o, cust_kind_name((enum cust_kind)k));
        if (v && (e = load_kind(v, (enum cust_kind)k, c, err)))
            return e;
    }
    for (int k = 0; k < CUST_KIND_COUNT; k++)
        for (int p = 0; p < CUST_PART_COUNT; p++)
            if (!c->tmpl[k][p])
                c->tmpl[k][p] = xstrdup(defaults[k][p]);
    return TEND_OK;
}

enum tend_err customer_config_load(const cJSON *o, const struct notify_config *nc,
                                   struct customer_config *c, char *err) {
    customer_config_default(c);
    if (!o)
        return TEND_OK;
    enum tend_err e = load(o, nc, c, err);
    if (e)
        customer_config_release(c);
    return e;
}
