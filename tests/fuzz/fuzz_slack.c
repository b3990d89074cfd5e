/* fuzz_slack.c: Slack's requests as tend reads them (server/slack_msg.h).
 *
 * The input is a form body as Slack posts it to /slack/actions or
 * /slack/commands. Invariants besides no sanitizer report:
 * - an accepted click or command has a response_url under the base (the
 *   only place tend will post to) without spaces or control characters, a
 *   user id of capital letters and digits, and a click a CTA id above 0;
 * - the answers built from what it holds (the replaced message, the state
 *   line with the user's name, an ephemeral echo of a command's text) are
 *   JSON, within Slack's 50 blocks, and never carry the marker unescaped. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/slack_msg.h"

#define BASE "https://hooks.slack.com/"

static void check_url(const char *url) {
    if (strncmp(url, BASE, strlen(BASE)) != 0)
        fuzz_fail("accepted a response_url outside the base: \"%s\"", url);
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= ' ' || *c == 0x7f)
            fuzz_fail("accepted a response_url with byte 0x%02x: \"%s\"", *c, url);
}

static void check_id(const char *id) {
    if (strlen(id) < 2)
        fuzz_fail("accepted a user id too short: \"%s\"", id);
    for (const char *c = id; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            fuzz_fail("accepted a user id with '%c': \"%s\"", *c, id);
}

/* out is JSON, at most 50 blocks, without the marker; freed. */
static void check_answer(char *out) {
    cJSON *j = cJSON_Parse(out);
    if (!j)
        fuzz_fail("an answer that is not JSON: %.300s", out);
    if (cJSON_GetArraySize(cJSON_GetObjectItem(j, "blocks")) > 50)
        fuzz_fail("an answer of more than 50 blocks");
    cJSON_Delete(j);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *body = (const char *)data;
    char err[SLACK_MSG_ERR_BYTES];
    char *payload = slack_form_field(body, size, "payload");
    struct slack_click c;
    if (payload && !slack_click_parse(payload, BASE, &c, err)) {
        check_url(c.response_url);
        check_id(c.user_id);
        if (c.cta_id <= 0)
            fuzz_fail("accepted CTA id %lld", (long long)c.cta_id);
        char *line = slack_state_line(c.verb, c.user_name, c.user_name);
        if (strstr(line, FUZZ_MARKER))
            fuzz_fail("the state line carries the marker unescaped: %s", line);
        check_answer(slack_msg_replace(c.message, line, c.verb != CTA_ACT_CLOSE));
        free(line);
        slack_click_release(&c);
    }
    free(payload);
    struct slack_command m;
    if (!slack_command_parse(body, size, BASE, &m, err)) {
        check_url(m.response_url);
        check_id(m.user_id);
        char *out = slack_msg_ephemeral(m.text);
        if (strstr(out, FUZZ_MARKER))
            fuzz_fail("an echo of the text carries the marker unescaped: %s", out);
        check_answer(out);
        slack_command_release(&m);
    }
    return 0;
}
