/* test_customer_config.c: the customer_messages section (notify/
 * customer_config.h): defaults, refusals with their path, templates with
 * HTML escaping; and the signed unsubscribe tokens (notify/unsub.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "notify/customer_config.h"
#include "notify/unsub.h"
#include "util/yaml.h"

/* Loads yaml (channels and delivery for notify, customer_messages for us);
 * returns the error (err gets its text). */
static enum tend_err load(const char *yaml, struct notify_config *nc, struct customer_config *cc,
                          char *err) {
    cJSON *root;
    assert_int_equal(yaml_load_string(yaml, strlen(yaml), "t.yaml", &root, err), TEND_OK);
    notify_config_default(nc);
    enum tend_err e =
        notify_config_load(cJSON_GetObjectItemCaseSensitive(root, "delivery"),
                           cJSON_GetObjectItemCaseSensitive(root, "channels"), NULL, nc, err);
    assert_int_equal(e, TEND_OK);
    e = customer_config_load(cJSON_GetObjectItemCaseSensitive(root, "customer_messages"), nc, cc,
                             err);
    cJSON_Delete(root);
    return e;
}

#define BASE                                                                                       \
    "delivery: {base_url: https://tend.example}\n"                                                 \
    "channels: {mail: {type: email, url: 'smtp://m.example', from: a@b.example},\n"                \
    "           hook: {type: webhook, url: 'https://h.example'}}\n"

static void refused(const char *section, const char *want) {
    char yaml[2048], err[NOTIFY_ERR_BYTES] = "";
    snprintf(yaml, sizeof yaml, BASE "customer_messages: %s\n", section);
    struct notify_config nc;
    struct customer_config cc;
    assert_int_equal(load(yaml, &nc, &cc, err), TEND_ERR_INVALID);
    if (!strstr(err, want))
        fail_msg("%s: got \"%s\", want \"%s\"", section, err, want);
    notify_config_release(&nc);
}

static void test_defaults_and_off(void **state) {
    (void)state;
    struct notify_config nc;
    struct customer_config cc;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load(BASE, &nc, &cc, err), TEND_OK);
    assert_false(cc.enabled); /* no section: off */
    customer_config_release(&cc);
    notify_config_release(&nc);
    assert_int_equal(
        load(BASE "customer_messages: {channel: mail, renewal: {days: [7, 60]}}\n", &nc, &cc, err),
        TEND_OK);
    assert_true(cc.enabled);
    assert_true(cc.plan.enabled[CUST_CARD_EXPIRY]);
    assert_true(cc.plan.enabled[CUST_RENEWAL]);         /* listed */
    assert_false(cc.plan.enabled[CUST_PAYMENT_FAILED]); /* not listed */
    assert_int_equal(cc.plan.n_steps[CUST_CARD_EXPIRY], 3);
    assert_int_equal(cc.plan.steps[CUST_CARD_EXPIRY][0], 30);
    assert_int_equal(cc.plan.steps[CUST_CARD_EXPIRY][2], 7);
    assert_int_equal(cc.plan.steps[CUST_RENEWAL][0], 60); /* sorted, nearest last */
    assert_int_equal(cc.plan.steps[CUST_RENEWAL][1], 7);
    customer_config_release(&cc);
    notify_config_release(&nc);
}

static void test_refusals(void **state) {
    (void)state;
    refused("{channel: mail, colour: red}", "customer_messages: unknown setting \"colour\"");
    refused("{channel: nope}", "customer_messages.channel: no channel \"nope\"");
    refused("{channel: hook}", "channel \"hook\" is of type webhook");
    refused("{channel: mail, card_expiry: {days: [30, 30]}}",
            "customer_messages.card_expiry.days[1]: 30 is listed twice");
    refused("{channel: mail, card_expiry: {days: [400]}}", "customer_messages.card_expiry.days[0]");
    refused("{channel: mail, card_expiry: {subject: 'Hi {name}'}}",
            "customer_messages.card_expiry.subject: unknown variable {name}");
    refused("{channel: mail, payment_failed: {html: '<p>{invoice_id</p>'}}",
            "customer_messages.payment_failed.html: a \"{\" is not closed");
    refused("{channel: mail, renewal: {text: 'a } b'}}", "customer_messages.renewal.text: a \"}\"");
    refused("{channel: mail, from: \"a\\nBcc: x@y\"}", "customer_messages.from: must be one line");
    /* No base_url: no unsubscribe link, so no customer messages. */
    char err[NOTIFY_ERR_BYTES];
    struct notify_config nc;
    struct customer_config cc;
    assert_int_equal(load("channels: {mail: {type: log, path: x.log}}\n"
                          "customer_messages: {channel: mail}\n",
                          &nc, &cc, err),
                     TEND_ERR_INVALID);
    assert_non_null(strstr(err, "needs delivery.base_url"));
    notify_config_release(&nc);
}

static void test_render_escapes_html(void **state) {
    (void)state;
    { /* the one escape for templates and for the unsubscribe link tend appends */
        struct buf e;
        buf_init(&e, 0);
        customer_html_escape(&e, "https://t.example/o'k?a=1&b=\"<x>\"");
        customer_html_escape(&e, NULL);
        assert_string_equal(buf_str(&e),
                            "https://t.example/o&#39;k?a=1&amp;b=&quot;&lt;x&gt;&quot;");
        buf_free(&e);
    }
    struct cust_vars v = {.account_name = "Acme <script>alert(1)</script> & \"Co\"",
                          .card_last4 = "4242",
                          .days_left = 14,
                          .update_payment_url = "https://x.example/?a=1&b=2"};
    struct buf b;
    buf_init(&b, 0);
    const char *t = "<p>{account_name}: {card_last4} in {days_left} days "
                    "<a href=\"{update_payment_url}\">x</a> {{literal}} {expiry_date}.</p>";
    customer_render(t, &v, true, &b);
    assert_string_equal(
        buf_str(&b), "<p>Acme &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;: 4242 "
                     "in 14 days <a href=\"https://x.example/?a=1&amp;b=2\">x</a> {literal} .</p>");
    buf_reset(&b);
    customer_render("{account_name} {update_payment_url}", &v, false, &b);
    assert_string_equal(buf_str(&b),
                        "Acme <script>alert(1)</script> & \"Co\" https://x.example/?a=1&b=2");
    buf_free(&b);
}

static void test_unsub_tokens(void **state) {
    (void)state;
    unsigned char key[UNSUB_KEY_BYTES], other[UNSUB_KEY_BYTES];
    char err[UNSUB_ERR_BYTES];
    assert_int_equal(unsub_key_load("secret one", NULL, key, err), TEND_OK);
    assert_int_equal(unsub_key_load("secret two", NULL, other, err), TEND_OK);
    assert_int_equal(unsub_key_load(NULL, "postgresql://x/y", other, err), TEND_ERR_USAGE);
    char tok[UNSUB_TOKEN_BYTES];
    assert_true(unsub_token(key, 42, CUST_RENEWAL, "pay@acme.example", tok));
    assert_int_equal(
        strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
        strlen(tok)); /* safe in a URL path as it is */
    int64_t id;
    enum cust_kind k;
    char contact[256];
    assert_true(unsub_parse(key, tok, &id, &k, contact));
    assert_int_equal(id, 42);
    assert_int_equal(k, CUST_RENEWAL);
    assert_string_equal(contact, "pay@acme.example");
    assert_false(unsub_parse(other, tok, &id, &k, contact)); /* another key */
    /* Another account with the same signature: refused. */
    char forged[UNSUB_TOKEN_BYTES], good[UNSUB_TOKEN_BYTES];
    assert_true(unsub_token(key, 43, CUST_RENEWAL, "pay@acme.example", good));
    const char *dot = strchr(tok, '.');
    snprintf(forged, sizeof forged, "%.*s%s", (int)(strchr(good, '.') - good), good, dot);
    assert_false(unsub_parse(key, forged, &id, &k, contact));
    assert_false(unsub_parse(key, "", &id, &k, contact));
    assert_false(unsub_parse(key, "abc", &id, &k, contact));
    assert_false(unsub_parse(key, "abc.def", &id, &k, contact));
    char longc[400];
    memset(longc, 'a', sizeof longc - 1);
    longc[sizeof longc - 1] = '\0';
    assert_false(unsub_token(key, 1, CUST_CARD_EXPIRY, longc, tok)); /* bounded */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_off),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_render_escapes_html),
        cmocka_unit_test(test_unsub_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
