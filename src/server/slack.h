/* slack.h: tend serve's Slack app endpoints (docs/slack.md).
 *
 *   POST /slack/actions    a click on a CTA message's button (block_actions)
 *   POST /slack/commands   the slash command `/tend ACCOUNT`
 *
 * Both are verified first, on the request's thread, from the raw body:
 * X-Slack-Signature over v0:X-Slack-Request-Timestamp:body with the signing
 * secret(s) of tend.yaml's slack section, within 5 minutes (ingest/verify.h);
 * a forged, stale or malformed request gets 401 (or 400) and changes
 * nothing. A verified request is queued and answered 200 at once (Slack
 * waits 3 seconds, then shows the user an error); the queue's workers do
 * the rest: find the tend user of the Slack user (serve.users'
 * slack_user_id, else by email through Slack's users.info with the bot
 * token, cached), decide whether they may act (slack_may_act), apply the
 * action through the dashboard's own person actions (eval/act.h: history
 * with the actor, idempotent for a repeated click), and post the result to
 * the request's response_url, which must lie under
 * slack.response_url_base (no request to anywhere else: no SSRF).
 *
 * The queue holds SLACK_QUEUE_MAX requests; when full, 503 (Slack shows the
 * user an error; nothing changed). The same signed request received again
 * within SLACK_REPLAY_MS (a replay) is answered 200 and does nothing. Workers hold a store
 * connection each. */
#ifndef TEND_SERVER_SLACK_H
#define TEND_SERVER_SLACK_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "eval/act.h"
#include "server/config.h"
#include "server/slack_config.h"
#include "server/views.h"

#define SLACK_QUEUE_MAX       256
#define SLACK_WORKERS         2
#define SLACK_HTTP_TIMEOUT_MS 10000   /* a users.info look-up or a response_url post */
#define SLACK_CACHE_MAX       10000   /* Slack users remembered (then forgotten all at once) */
#define SLACK_CACHE_HIT_MS    3600000 /* a Slack user's email, remembered for an hour */
#define SLACK_CACHE_MISS_MS   300000  /* a user without one (or unknown), for 5 minutes */
/* A verified request's signature is remembered this long (twice Slack's
 * 5-minute window, which admits timestamps up to 5 minutes ahead too): the
 * same signed bytes sent again are acknowledged and ignored, so a captured
 * click cannot be replayed to undo a later change. At most SLACK_REPLAY_MAX
 * remembered (about 100 bytes each); only a valid signature adds one. */
#define SLACK_REPLAY_MS  (2 * 5 * 60 * 1000)
#define SLACK_REPLAY_MAX 100000
/* Requests refused for their signature logged one by one per minute; the
 * rest are counted in one line. */
#define SLACK_REFUSALS_LOGGED 20

struct slack_options {
    const char *db;
    const struct slack_config *cfg;   /* enabled */
    const struct serve_config *serve; /* its users */
    const struct view_env *env;
    const char *base_url; /* the dashboard's (delivery.base_url), for links; may be NULL */
};

struct slack;

/* Starts the workers. Options and what they point to must outlive it. */
struct slack *slack_new(const struct slack_options *o);
/* Lets the workers finish the request each is doing (its posts bounded by
 * SLACK_HTTP_TIMEOUT_MS), drops what is queued and not begun (logged: none
 * of it applied), then frees. Accepts NULL. */
void slack_free(struct slack *k);

/* Answers a request under /slack/ (url is the path) with the raw body (len
 * bytes) through http_reply. k NULL (no slack section): 404. */
enum MHD_Result slack_http(struct slack *k, struct MHD_Connection *c, const char *url,
                           const char *method, const char *body, size_t len);

/* The check of a request under /slack/ on its headers alone, before its
 * body is read (server/http.c): TEND_ERR_AUTH with the reason in msg when
 * its X-Slack-Signature or X-Slack-Request-Timestamp is missing, malformed
 * or outside the 5 minutes (an unsigned or replayed request then costs no
 * body); TEND_OK for everything else (k NULL, another path or method: the
 * answer is slack_http's), the signature itself checked by slack_http. */
enum tend_err slack_precheck(struct slack *k, struct MHD_Connection *c, const char *url,
                             const char *method, char *msg, size_t size);

/* THE decision whether tend user u may do verb to a CTA from Slack, through
 * the dashboard's own (core/permissions.h: perm_decide, PERM_ACT) with u's
 * role and whether the CTA is theirs (mine: eval/owner.h): a viewer may
 * not, a csm only on their own book's or assigned CTAs, a lead or an admin
 * on any. u NULL (an unmapped Slack user) or disabled: false. */
bool slack_may_act(const struct serve_user *u, bool mine, enum cta_verb verb);

#endif
