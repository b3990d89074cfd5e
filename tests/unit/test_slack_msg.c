/* test_slack_msg.c: Slack's requests read and tend's answers written
 * (server/slack_msg.c), and tend.yaml's slack section (server/slack_config.c):
 * form fields decoded with their limits, block_actions payloads and slash
 * commands accepted or refused with a reason, a response_url outside the
 * configured base refused (the prefix pins the host), user text escaped in
 * every answer, the replaced message's state line and buttons, the account
 * answer's figures, and the section's mistakes named by path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "notify/message.h"
#include "server/slack_config.h"
#include "server/slack_msg.h"
#include "util/yaml.h"

#define BASE "https://hooks.slack.com/"

static void assert_contains(const char *haystack, const char *needle) {
    if (!strstr(haystack, needle))
        fail_msg("expected to contain \"%s\" in:\n%s", needle, haystack);
}

/* ---- form fields ----------------------------------------------------------------- */

static void form_fields_decode_and_refuse_what_is_malformed(void **state) {
    (void)state;
    const char *body = "token=x&text=acme+corp%21&user_id=U1&empty=&bad=%4&nul=a%00b&last=z";
    char *v = slack_form_field(body, strlen(body), "text");
    assert_string_equal(v, "acme corp!");
    free(v);
    v = slack_form_field(body, strlen(body), "empty");
    assert_string_equal(v, "");
    free(v);
    v = slack_form_field(body, strlen(body), "last");
    assert_string_equal(v, "z");
    free(v);
    assert_null(slack_form_field(body, strlen(body), "bad"));  /* a cut %XX */
    assert_null(slack_form_field(body, strlen(body), "nul"));  /* a NUL byte */
    assert_null(slack_form_field(body, strlen(body), "tex"));  /* a prefix of a key */
    assert_null(slack_form_field(body, strlen(body), "none")); /* absent */
    /* Only len bytes are read: a field past them is not there. */
    assert_null(slack_form_field(body, 10, "text"));
    /* Over SLACK_MSG_MAX_FIELD decoded bytes: refused. */
    size_t n = SLACK_MSG_MAX_FIELD + 10;
    char *big = malloc(n + 9);
    memcpy(big, "payload=", 8);
    memset(big + 8, 'a', n);
    big[8 + n] = '\0';
    assert_null(slack_form_field(big, strlen(big), "payload"));
    free(big);
}

/* ---- block_actions ------------------------------------------------------------- */

static char *payload(const char *type, const char *user, const char *value, const char *url) {
    return g_strdup_printf("{\"type\":\"%s\",\"user\":{\"id\":\"%s\",\"username\":\"ann\"},"
                           "\"response_url\":\"%s\",\"actions\":[{\"action_id\":\"x\","
                           "\"value\":\"%s\"}],\"message\":{\"text\":\"t\",\"blocks\":[]}}",
                           type, user, url, value);
}

static void clicks_are_read_with_their_cta_and_action(void **state) {
    (void)state;
    const char *verbs[] = {"acknowledge", "snooze", "close", "assign"};
    enum cta_verb want[] = {CTA_ACT_ACKNOWLEDGE, CTA_ACT_SNOOZE, CTA_ACT_CLOSE, CTA_ACT_ASSIGN};
    for (int i = 0; i < 4; i++) {
        char value[40];
        snprintf(value, sizeof value, "%s:%d", verbs[i], 42 + i);
        char *p = payload("block_actions", "U012AB", value, BASE "actions/T1/1/abc");
        struct slack_click c;
        char err[SLACK_MSG_ERR_BYTES];
        assert_int_equal(slack_click_parse(p, BASE, &c, err), TEND_OK);
        assert_int_equal(c.verb, want[i]);
        assert_int_equal(c.cta_id, 42 + i);
        assert_string_equal(c.user_id, "U012AB");
        assert_string_equal(c.user_name, "ann");
        assert_string_equal(c.response_url, BASE "actions/T1/1/abc");
        assert_non_null(c.message);
        slack_click_release(&c);
        g_free(p);
    }
}

static void clicks_that_are_not_tend_s_are_refused_with_a_reason(void **state) {
    (void)state;
    struct {
        const char *type, *user, *value, *url, *why;
    } cases[] = {
        {"view_submission", "U1", "close:1", BASE "x", "block_actions"},
        {"block_actions", "u1", "close:1", BASE "x", "user.id"},
        {"block_actions", "U1\\\"", "close:1", BASE "x", "user.id"},
        {"block_actions", "U1", "delete:1", BASE "x", "no tend button"},
        {"block_actions", "U1", "close:", BASE "x", "no tend button"},
        {"block_actions", "U1", "close:0", BASE "x", "no tend button"},
        {"block_actions", "U1", "close:1x", BASE "x", "no tend button"},
        {"block_actions", "U1", "close:99999999999999999999", BASE "x", "no tend button"},
        /* Outside the base: another host, the base's host as a prefix of
         * another, a scheme change, a control character. */
        {"block_actions", "U1", "close:1", "https://evil.example/x", "response_url"},
        {"block_actions", "U1", "close:1", "https://hooks.slack.com.evil.example/x",
         "response_url"},
        {"block_actions", "U1", "close:1", "http://hooks.slack.com/x", "response_url"},
        {"block_actions", "U1", "close:1", BASE "x\\ny", "response_url"},
        {"block_actions", "U1", "close:1", BASE "a b", "response_url"},
        /* Dot segments, which libcurl resolves: out of the base's path. */
        {"block_actions", "U1", "close:1", BASE "../api/x", "response_url"},
        {"block_actions", "U1", "close:1", BASE "a/../../x", "response_url"},
        {"block_actions", "U1", "close:1", BASE "./x", "response_url"},
        {"block_actions", "U1", "close:1", BASE "%2e%2E/x", "response_url"},
        {"block_actions", "U1", "close:1", BASE ".%2e/x", "response_url"},
        {"block_actions", "U1", "close:1", BASE "a/..", "response_url"},
        {"block_actions", "U1", "close:1", BASE "a/..?x=1", "response_url"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = payload(cases[i].type, cases[i].user, cases[i].value, cases[i].url);
        struct slack_click c;
        char err[SLACK_MSG_ERR_BYTES];
        assert_int_equal(slack_click_parse(p, BASE, &c, err), TEND_ERR_INVALID);
        assert_contains(err, cases[i].why);
        assert_null(c.response_url);
        g_free(p);
    }
    /* Dots inside a segment are plain characters. */
    const char *fine[] = {BASE "a.b/c", BASE "...x/y", BASE "x/.../y", BASE "v1.2/x?q=.."};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        char *p = payload("block_actions", "U1", "close:1", fine[i]);
        struct slack_click c;
        char err[SLACK_MSG_ERR_BYTES];
        assert_int_equal(slack_click_parse(p, BASE, &c, err), TEND_OK);
        slack_click_release(&c);
        g_free(p);
    }
    struct slack_click c;
    char err[SLACK_MSG_ERR_BYTES];
    assert_int_equal(slack_click_parse("not json", BASE, &c, err), TEND_ERR_INVALID);
    assert_int_equal(slack_click_parse(NULL, BASE, &c, err), TEND_ERR_INVALID);
}

static void commands_are_read_and_checked(void **state) {
    (void)state;
    const char *body = "command=%2Ftend&text=+Acme+Corp++&user_id=U9&response_url="
                       "https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1";
    struct slack_command c;
    char err[SLACK_MSG_ERR_BYTES];
    assert_int_equal(slack_command_parse(body, strlen(body), BASE, &c, err), TEND_OK);
    assert_string_equal(c.text, "Acme Corp");
    assert_string_equal(c.user_id, "U9");
    assert_string_equal(c.response_url, "https://hooks.slack.com/commands/1");
    slack_command_release(&c);
    const char *off = "text=a&user_id=U9&response_url=https%3A%2F%2Fevil.example%2F";
    assert_int_equal(slack_command_parse(off, strlen(off), BASE, &c, err), TEND_ERR_INVALID);
    assert_contains(err, "response_url");
    const char *nouser = "text=a&response_url=https%3A%2F%2Fhooks.slack.com%2Fx";
    assert_int_equal(slack_command_parse(nouser, strlen(nouser), BASE, &c, err), TEND_ERR_INVALID);
    assert_contains(err, "user_id");
    GString *g = g_string_new("user_id=U9&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&text=");
    for (int i = 0; i < SLACK_MSG_TEXT_BYTES; i++)
        g_string_append_c(g, 'a');
    assert_int_equal(slack_command_parse(g->str, g->len, BASE, &c, err), TEND_ERR_INVALID);
    assert_contains(err, "text");
    g_string_free(g, true);
}

/* ---- answers --------------------------------------------------------------------- */

static void the_replaced_message_has_one_state_line_and_buttons_while_live(void **state) {
    (void)state;
    cJSON *msg = cJSON_Parse(
        "{\"text\":\"High: No logins\",\"blocks\":[{\"type\":\"header\",\"block_id\":\"h\"},"
        "{\"type\":\"actions\",\"block_id\":\"tend_actions\",\"elements\":[]},"
        "{\"type\":\"context\",\"block_id\":\"tend_state\",\"elements\":[]},"
        "{\"type\":\"context\",\"block_id\":\"c\"}]}");
    char *line = slack_state_line(CTA_ACT_SNOOZE, "snoozed until 2026-05-01", "Ann <&> Lee");
    assert_string_equal(line, "*Snoozed until 2026-05-01* by Ann &lt;&amp;&gt; Lee · via Slack");
    for (int live = 1; live >= 0; live--) {
        char *out = slack_msg_replace(msg, line, live);
        cJSON *j = cJSON_Parse(out);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "replace_original")));
        assert_string_equal(cJSON_GetObjectItem(j, "text")->valuestring, "High: No logins");
        const cJSON *blocks = cJSON_GetObjectItem(j, "blocks"), *b;
        int states = 0, actions = 0, n = 0;
        cJSON_ArrayForEach(b, blocks) {
            const cJSON *id = cJSON_GetObjectItem(b, "block_id");
            states += strcmp(id->valuestring, "tend_state") == 0;
            actions += strcmp(id->valuestring, "tend_actions") == 0;
            n++;
        }
        assert_int_equal(states, 1);
        assert_int_equal(actions, live);
        assert_int_equal(n, 3 + live);
        assert_contains(out, "Snoozed until 2026-05-01");
        cJSON_Delete(j);
        free(out);
    }
    /* Without the message (Slack did not send it): the line, ephemeral. */
    char *out = slack_msg_replace(NULL, line, true);
    assert_contains(out, "\"response_type\":\"ephemeral\"");
    assert_contains(out, "\"replace_original\":false");
    free(out);
    free(line);
    line = slack_state_line(CTA_ACT_ASSIGN, "carol@x -> bob@x", "Bob");
    assert_string_equal(line, "*Assigned to bob@x* (was carol@x) by Bob · via Slack");
    free(line);
    line = slack_state_line(CTA_ACT_CLOSE, "already closed as resolved", "Bob");
    assert_string_equal(line, "*Already closed as resolved* by Bob · via Slack");
    free(line);
    /* A message of 60 blocks: the answer stays within Slack's 50. */
    cJSON *big = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(big, "blocks");
    for (int i = 0; i < 60; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "type", "divider");
        cJSON_AddItemToArray(arr, b);
    }
    out = slack_msg_replace(big, "x", true);
    cJSON *j = cJSON_Parse(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "blocks")), 50);
    cJSON_Delete(j);
    free(out);
    cJSON_Delete(big);
    cJSON_Delete(msg);
}

static void an_ephemeral_refusal_escapes_its_text(void **state) {
    (void)state;
    char *out = slack_msg_ephemeral("<!channel> & you");
    assert_string_equal(out, "{\"response_type\":\"ephemeral\",\"replace_original\":false,"
                             "\"text\":\"&lt;!channel&gt; &amp; you\"}");
    free(out);
}

static void the_account_answer_has_health_risk_ctas_and_links(void **state) {
    (void)state;
    cJSON *a = cJSON_Parse(
        "{\"id\":\"acme/eu\",\"name\":\"Acme <!here>\",\"owner\":\"ann@x\",\"mrr\":1200,"
        "\"score\":{\"date\":\"2026-04-24\",\"overall\":34.6,\"band\":\"red\"},"
        "\"risk\":{\"p_churn\":0.3687,\"arr_at_risk\":5309.3,\"horizon_days\":90},"
        "\"ctas\":[{\"id\":7,\"status\":\"open\",\"priority\":\"high\",\"title\":\"No "
        "logins\",\"due_date\":\"2026-04-28\"},{\"id\":8,\"status\":\"closed\","
        "\"priority\":\"low\",\"title\":\"old\"}]}");
    char *out = slack_msg_account(a, "https://tend.example/");
    assert_contains(out, "\"response_type\":\"ephemeral\"");
    assert_contains(out, "*Acme &lt;!here&gt;* (`acme/eu`)");
    assert_contains(out, "*Health:* 35 (red) on 2026-04-24");
    assert_contains(out, "*Churn risk:* 37% within 90 days, 5309 ARR at risk");
    assert_contains(out, "*Open CTAs:* 1\\n• high · No logins (open, due 2026-04-28) "
                         "<https://tend.example/ctas/7|open>");
    assert_contains(out, "<https://tend.example/accounts/acme%2Feu|Open the account in tend>");
    assert_null(strstr(out, "old"));
    free(out);
    /* Without a usable base URL: no links. */
    out = slack_msg_account(a, "javascript:x");
    assert_null(strstr(out, "<http"));
    assert_null(strstr(out, "javascript"));
    free(out);
    cJSON_Delete(a);
    cJSON *m = cJSON_Parse("[{\"id\":\"a1\",\"name\":\"A <1>\"},{\"id\":\"a2\",\"name\":null}]");
    out = slack_msg_matches("a&", m, 12);
    assert_contains(out, "12 accounts match \\\"a&amp;\\\"");
    assert_contains(out, "• `a1` A &lt;1&gt;");
    assert_contains(out, "…and 10 more");
    free(out);
    cJSON_Delete(m);
}

/* ---- the slack section ----------------------------------------------------------- */

static enum tend_err load(const char *yaml, struct slack_config *c, char *err) {
    cJSON *root;
    char yerr[YAML_ERR_BYTES];
    assert_int_equal(yaml_load_string(yaml, strlen(yaml), "tend.yaml", &root, yerr), TEND_OK);
    enum tend_err e = slack_config_load(cJSON_GetObjectItem(root, "slack"), c, err);
    cJSON_Delete(root);
    return e;
}

static void the_section_loads_secrets_from_the_environment(void **state) {
    (void)state;
    setenv("T_SLACK_A", "secret-a", 1);
    setenv("T_SLACK_B", "secret-b", 1);
    setenv("T_SLACK_BOT", "xoxb-1", 1);
    unsetenv("T_SLACK_UNSET");
    struct slack_config c;
    char err[SLACK_ERR_BYTES];
    assert_int_equal(load("slack: {signing_secret_env: [T_SLACK_A, T_SLACK_B], bot_token_env: "
                          "T_SLACK_BOT, api_url: 'http://127.0.0.1:9/api/'}",
                          &c, err),
                     TEND_OK);
    assert_true(c.enabled);
    assert_int_equal(c.n_secrets, 2);
    assert_string_equal(c.secrets[1], "secret-b");
    assert_string_equal(c.bot_token, "xoxb-1");
    assert_string_equal(c.api_url, "http://127.0.0.1:9/api");
    assert_string_equal(c.response_url_base, SLACK_DEFAULT_RESPONSE);
    assert_int_equal(slack_config_ready(&c, err), TEND_OK);
    slack_config_release(&c);
    /* A variable not set: loads (tend eval does not need it), not ready. */
    assert_int_equal(load("slack: {signing_secret_env: T_SLACK_UNSET}", &c, err), TEND_OK);
    assert_int_equal(slack_config_ready(&c, err), TEND_ERR_INVALID);
    assert_string_equal(err, "slack.signing_secret_env: the environment variable T_SLACK_UNSET "
                             "is not set");
    slack_config_release(&c);
    /* No section: off, ready. */
    assert_int_equal(load("health: {}", &c, err), TEND_OK);
    assert_false(c.enabled);
    assert_int_equal(slack_config_ready(&c, err), TEND_OK);
    slack_config_release(&c);
}

static void the_section_s_mistakes_are_named_by_path(void **state) {
    (void)state;
    setenv("T_SLACK_A", "secret-a", 1);
    struct {
        const char *yaml, *err;
    } cases[] = {
        {"slack: {signing_secret_env: T_SLACK_A, signing_secret: x}",
         "slack: unknown setting \"signing_secret\""},
        {"slack: {bot_token_env: T_SLACK_A}", "slack: needs signing_secret_env"},
        {"slack: {signing_secret_env: 'A B'}", "slack.signing_secret_env: must name an "
                                               "environment variable"},
        {"slack: {signing_secret_env: [T_SLACK_A, 3]}", "slack.signing_secret_env[1]: must name"},
        {"slack: {signing_secret_env: []}", "slack.signing_secret_env: must list 1 to 4"},
        {"slack: {signing_secret_env: T_SLACK_A, response_url_base: 'https://hooks.slack.com'}",
         "slack.response_url_base: must be an http(s) URL ending with /"},
        {"slack: {signing_secret_env: T_SLACK_A, api_url: 'ftp://x/'}",
         "slack.api_url: must be an http(s) URL"},
        {"slack: [1]", "slack: must be a mapping"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct slack_config c;
        char err[SLACK_ERR_BYTES];
        assert_int_equal(load(cases[i].yaml, &c, err), TEND_ERR_INVALID);
        assert_contains(err, cases[i].err);
        assert_false(c.enabled); /* released */
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(form_fields_decode_and_refuse_what_is_malformed),
        cmocka_unit_test(clicks_are_read_with_their_cta_and_action),
        cmocka_unit_test(clicks_that_are_not_tend_s_are_refused_with_a_reason),
        cmocka_unit_test(commands_are_read_and_checked),
        cmocka_unit_test(the_replaced_message_has_one_state_line_and_buttons_while_live),
        cmocka_unit_test(an_ephemeral_refusal_escapes_its_text),
        cmocka_unit_test(the_account_answer_has_health_risk_ctas_and_links),
        cmocka_unit_test(the_section_loads_secrets_from_the_environment),
        cmocka_unit_test(the_section_s_mistakes_are_named_by_path),
    };
    return cmocka_run_group_tests_name("slack_msg", tests, NULL, NULL);
}
