/* slack_msg.h: what tend reads from Slack's requests and what it writes
 * back, pure (docs/slack.md).
 *
 * In: the application/x-www-form-urlencoded body Slack posts (a
 * block_actions interaction carries one field, payload, holding JSON; a
 * slash command carries user_id, text, response_url and more as fields).
 * Out: the JSON bodies tend posts to a response_url: the original message
 * with its state line (who did what), an ephemeral refusal or error, the
 * answer to `/tend ACCOUNT`.
 *
 * No I/O, no clock: server/slack.c does the checks that need the network,
 * the store and the time. Every size is capped: a field over
 * SLACK_MSG_MAX_FIELD bytes, a user id that is not a Slack id, a
 * response_url over SLACK_MAX_URL_BYTES, are refused with a message. */
#ifndef TEND_SERVER_SLACK_MSG_H
#define TEND_SERVER_SLACK_MSG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval/act.h"

#define SLACK_MSG_ERR_BYTES  200
#define SLACK_MSG_MAX_FIELD  (64 * 1024) /* the HTTP layer's body limit, decoded */
#define SLACK_MSG_ID_BYTES   33          /* a Slack user or team id, with its NUL */
#define SLACK_MSG_TEXT_BYTES 201         /* a slash command's text, with its NUL */

/* The value of field key in a form body (len bytes), decoded (+ as space,
 * %XX), as a malloced NUL-terminated string; NULL when absent, malformed
 * (a bad %XX, a NUL byte) or longer than SLACK_MSG_MAX_FIELD. */
char *slack_form_field(const char *body, size_t len, const char *key);

/* A click on one of a CTA message's buttons. */
struct slack_click {
    char user_id[SLACK_MSG_ID_BYTES];
    char user_name[SLACK_MSG_ID_BYTES * 2]; /* the Slack user name, for the log; may be "" */
    enum cta_verb verb;
    int64_t cta_id;
    char *response_url; /* malloced */
    cJSON *message;     /* the message clicked (owned), or NULL when Slack sent none */
};

/* Reads a block_actions payload (JSON text). TEND_OK, or TEND_ERR_INVALID
 * with the reason in err (SLACK_MSG_ERR_BYTES): not JSON, another type, no
 * user id, no tend button ("VERB:ID" value of acknowledge, snooze, close or
 * assign), no response_url, or one outside response_base (a prefix that
 * ends with '/' after the host: slack_config.h). On error *out is cleared. */
enum tend_err slack_click_parse(const char *payload, const char *response_base,
                                struct slack_click *out, char *err);
void slack_click_release(struct slack_click *c);

/* A slash command. */
struct slack_command {
    char user_id[SLACK_MSG_ID_BYTES];
    char text[SLACK_MSG_TEXT_BYTES]; /* trimmed; "" when none */
    char *response_url;              /* malloced */
};
/* Reads a slash command's form body; as slack_click_parse. */
enum tend_err slack_command_parse(const char *body, size_t len, const char *response_base,
                                  struct slack_command *out, char *err);
void slack_command_release(struct slack_command *c);

/* The body that replaces the clicked message: its blocks with tend's state
 * line (a context block, block_id "tend_state") in place of any earlier
 * one, the buttons kept while the CTA is live and left out once closed,
 * its text fallback. state is mrkdwn-safe text of ours (slack_state_line).
 * Without the original message: an ephemeral message of the line alone.
 * Returns a malloced string. */
char *slack_msg_replace(const cJSON *message, const char *state, bool live);
/* "*Snoozed until 2026-12-15* by Ann Lee · via Slack" and the like, from
 * the action's history note (eval_cta_act's msg) and who did it; user text
 * escaped for mrkdwn. Malloced. */
char *slack_state_line(enum cta_verb verb, const char *note, const char *who);
/* {"response_type": "ephemeral", "replace_original": false, "text": text}
 * with text escaped for mrkdwn. Malloced. */
char *slack_msg_ephemeral(const char *text);

/* The answer to `/tend ACCOUNT` for one account: account is the JSON of GET
 * /api/accounts/{id} (views.h), base_url the dashboard's (NULL: no link).
 * An ephemeral message with blocks: the name and id, health (score, band,
 * 30-day change), churn risk, live CTAs (at most 10, then "and N more"),
 * the link. Malloced. */
char *slack_msg_account(const cJSON *account, const char *base_url);
/* The answer when text matched several accounts: matches is the "accounts"
 * array of GET /api/accounts, total how many matched; at most 10 listed.
 * Malloced. */
char *slack_msg_matches(const char *text, const cJSON *matches, int total);

#endif
