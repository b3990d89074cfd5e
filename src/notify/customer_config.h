/* customer_config.h: the customer_messages section of tend.yaml, and its
 * templates (docs/delivery.md, "Messages to the customer").
 *
 *   customer_messages:
 *     enabled: true                 # off without the section, or with false
 *     channel: customer-mail        # a channel of type email (or log, to watch)
 *     from: "Acme Billing <billing@acme.example>"   # default: the channel's from
 *     update_payment_url: https://acme.example/billing
 *     card_expiry:                  # on whenever customer_messages is
 *       days: [30, 14, 7]
 *       subject: "..."  text: "..."  html: "..."
 *     renewal:      {days: [30], ...}          # only when listed
 *     payment_failed: {max_age_days: 7, ...}   # only when listed
 *
 * Templates name variables in braces ({account_name}); "{{" and "}}" are
 * literal braces. A variable that does not exist, or an unclosed brace, is
 * refused when tend.yaml is read, with its path. In html, every variable's
 * value is HTML-escaped; the template's own markup is the team's. Every
 * message ends with an unsubscribe line tend adds, whatever the template
 * says. */
#ifndef TEND_NOTIFY_CUSTOMER_CONFIG_H
#define TEND_NOTIFY_CUSTOMER_CONFIG_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "core/customer_plan.h"
#include "notify/config.h"
#include "util/buf.h"

#define CUSTOMER_TEMPLATE_BYTES 16384

enum cust_part { CUST_SUBJECT, CUST_TEXT, CUST_HTML, CUST_PART_COUNT };

struct customer_config {
    bool enabled;
    char channel[NOTIFY_NAME_BYTES];
    char *from;               /* NULL: the channel's */
    char *update_payment_url; /* NULL: "" in templates */
    struct cust_plan_config plan;
    char *tmpl[CUST_KIND_COUNT][CUST_PART_COUNT]; /* malloced */
};

/* The values of one message's variables; NULL reads as "". */
struct cust_vars {
    const char *account_name, *account_id, *card_last4, *expiry_date, *expiry_month, *renewal_date,
        *invoice_id, *update_payment_url, *unsubscribe_url;
    int days_left;
};

void customer_config_default(struct customer_config *c);
/* Loads the section (NULL: off) against the loaded delivery settings
 * (the channel must exist and be email or log; delivery.base_url is needed
 * for the unsubscribe link). TEND_ERR_INVALID with "customer_messages...:
 * why" in err (NOTIFY_ERR_BYTES). */
enum tend_err customer_config_load(const cJSON *o, const struct notify_config *nc,
                                   struct customer_config *c, char *err);
void customer_config_release(struct customer_config *c);

/* Appends s (NULL: nothing) to out with & < > " ' as HTML entities: safe in
 * text and in a quoted attribute. */
void customer_html_escape(struct buf *out, const char *s);

/* Renders template t with v into out: html escapes the values. */
void customer_render(const char *t, const struct cust_vars *v, bool html, struct buf *out);

#endif
