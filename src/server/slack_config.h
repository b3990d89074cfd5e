/* slack_config.h: tend.yaml's slack section: the Slack app that lets a CSM
 * act on a CTA from its message and ask `/tend ACCOUNT` (docs/slack.md).
 *
 *   slack:
 *     signing_secret_env: TEND_SLACK_SIGNING_SECRET   # or a list of names:
 *                                                     # old and new while rotating
 *     bot_token_env: TEND_SLACK_BOT_TOKEN   # optional: users.info, to find a
 *                                           # Slack user's tend user by email
 *     api_url: https://slack.com/api        # the default
 *     response_url_base: https://hooks.slack.com/   # the default
 *
 * With the section, Slack messages carry the CTA's action buttons and tend
 * serve answers POST /slack/actions and /slack/commands; without it, neither
 * (a button whose clicks no app receives shows an error in Slack). Loaded
 * and checked as a whole; a mistake is named by its path. The secrets are
 * read from the environment at load; one not set is left for
 * slack_config_ready() (tend serve refuses to start; other commands, which
 * only render messages, do not need it). */
#ifndef TEND_SERVER_SLACK_CONFIG_H
#define TEND_SERVER_SLACK_CONFIG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define SLACK_ERR_BYTES        320
#define SLACK_MAX_SECRETS      4 /* signing secrets at once (rotation) */
#define SLACK_DEFAULT_API_URL  "https://slack.com/api"
#define SLACK_DEFAULT_RESPONSE "https://hooks.slack.com/"
#define SLACK_MAX_URL_BYTES    512

struct slack_config {
    bool enabled; /* the section is there */
    char *secrets[SLACK_MAX_SECRETS];
    size_t n_secrets;
    char *bot_token;         /* NULL: no users.info look-ups (slack_user_id only) */
    char *api_url;           /* without a trailing slash */
    char *response_url_base; /* a response_url must start with this */
    char *unset; /* "slack.signing_secret_env: X is not set": what slack_config_ready refuses */
};

/* The defaults: disabled. */
void slack_config_default(struct slack_config *c);
/* Loads the section (NULL: defaults). On a mistake returns TEND_ERR_INVALID
 * with "slack.PATH: problem" in err (SLACK_ERR_BYTES); c is then released. */
enum tend_err slack_config_load(const cJSON *section, struct slack_config *c, char *err);
/* TEND_ERR_INVALID with the reason in err when an enabled section lacks a
 * secret it names (an environment variable not set). */
enum tend_err slack_config_ready(const struct slack_config *c, char *err);
/* Frees what loading allocated (secrets wiped); accepts a defaulted config. */
void slack_config_release(struct slack_config *c);

#endif
