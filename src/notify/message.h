/* message.h: what a CSM reads, rendered for each kind of channel.
 *
 * A notification is stored once, when the CTA changes, as a snapshot (the
 * JSON document below), and rendered when it is sent, so a resend after a
 * crash or a retry renders the same message (only the email Date differs).
 * Every renderer is pure: no clock, no I/O; the send time comes in ctx.
 *
 * The snapshot (eval/ writes it, docs/delivery.md documents it):
 *   {"event": "open" | "raise" | "resolve" | "wake",
 *    "day": "YYYY-MM-DD",                     the evaluated day
 *    "cta": {"id": 12, "rule": "card_expiring", "subject": "", "type": "risk",
 *            "priority": "high", "previous_priority": "medium" (raise only),
 *            "status": "open" | "snoozed" | "closed",
 *            "title": "...", "reason": "...", "evidence": {name: number|string|null},
 *            "owner": "alice@example.com", "owner_slack": "U123" (when known;
 *            the sender passes it as ctx->owner_slack), "opened": "YYYY-MM-DD",
 *            "due": "YYYY-MM-DD", "note": "..." (resolve: why, in numbers)},
 *    "account": {"id": "acme", "name": "Acme Corp" | null, "segment": ... | null,
 *                "plan": ... | null, "mrr": number | null, "renewal_date": ... | null},
 *    "health": {"score": 42.5 | null, "band": "red" | null,
 *               "change_7d": -8.0 | null, "change_30d": -15.2 | null}}
 * Any member may be missing or of the wrong type (an old snapshot, a hand
 * edit): renderers then leave that line out; they never fail on content.
 *
 * A digest is a JSON array of such snapshots, in the order they happened.
 *
 * Limits kept (SPEC 6): Slack at most 50 blocks, a section's text at most
 * 3,000 characters, a header's 150, a button's 75, a text fallback always
 * present; user text escaped for mrkdwn (& < >), for HTML, and for email
 * headers (no CR/LF or other control characters; RFC 2047 when not ASCII).
 * Truncation never splits a UTF-8 character and says so with an ellipsis. */
#ifndef TEND_NOTIFY_MESSAGE_H
#define TEND_NOTIFY_MESSAGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* Where and when a message goes; strings borrowed, any may be NULL (a NULL
 * ctx reads as all of them NULL). */
struct message_ctx {
    const char *key;         /* the stable key: Slack context line, email Message-ID, webhook */
    const char *base_url;    /* dashboard links: {base_url}/accounts/{id}, {base_url}/ctas/{id};
                                only an http(s) URL without characters that need escaping,
                                else messages go without links */
    const char *owner;       /* the recipient CSM (digests: whose digest) */
    const char *owner_slack; /* a Slack user id to mention (<@U123>); letters and digits only,
                                else the owner is written as text */
    const char *from;        /* email From: "Name <addr>" or "addr" */
    const char *to;          /* email To: an address */
    int64_t now_ms;          /* the email Date */
    bool slack_actions;      /* Slack: the CTA's action buttons (tend.yaml has a slack: section,
                                so Slack sends the clicks to POST /slack/actions) */
};

/* Each returns a malloced NUL-terminated string the caller frees. snapshot is
 * one snapshot object (above), or for the *_digest variants an array of them. */

/* Slack incoming-webhook body: {"text": fallback, "blocks": [...]}. Slack
 * formats the fallback as mrkdwn too, so it is escaped like the blocks.
 * With ctx->slack_actions, a live CTA's message (not a resolve or an
 * expire, which close it) gets an actions block (block_id
 * MESSAGE_SLACK_ACTIONS_BLOCK) of four buttons whose values are
 * "VERB:CTA_ID": acknowledge, snooze (7 days), close (as resolved), assign
 * (to the one who clicks); docs/slack.md. */
#define MESSAGE_SLACK_ACTIONS_BLOCK "tend_actions"
#define MESSAGE_SLACK_SNOOZE_DAYS   7
char *message_slack(const cJSON *snapshot, const struct message_ctx *ctx);
char *message_slack_digest(const cJSON *snapshots, const struct message_ctx *ctx);

/* A whole RFC 5322 message with CRLF line ends: From, To, Subject, Date,
 * Message-ID (<KEY@domain of From>, tend.localhost without one; bytes of the
 * key other than letters, digits, '-', '_' and inner single dots written =XX,
 * so distinct keys give distinct ids), X-Tend-Key, MIME-Version,
 * multipart/alternative with text/plain then text/html, both UTF-8 in base64,
 * lines within 998 bytes. */
char *message_email(const cJSON *snapshot, const struct message_ctx *ctx);
char *message_email_digest(const cJSON *snapshots, const struct message_ctx *ctx);
/* A message to a customer (eval/customer.c writes the snapshot: {"event":
 * "customer", "customer": {"kind", "subject", "text", "html",
 * "unsubscribe_url", "from" (optional), "to", "account": {"id", "name"}}}):
 * the rendered subject and bodies as they are, with List-Unsubscribe and
 * List-Unsubscribe-Post (RFC 8058) headers. */
char *message_email_customer(const cJSON *snapshot, const struct message_ctx *ctx);
/* The log line of a customer message: {"key", "event": "customer", "kind",
 * "to", "account", "subject", "text"}. */
char *message_log_customer(const cJSON *snapshot, const struct message_ctx *ctx);

/* Generic webhook body: {"key", "type": "cta.opened" | "cta.raised" |
 * "cta.resolved" | "cta.woken" | null (no known event), "cta", "account",
 * "health" (the snapshot's objects as they are, or null), "links":
 * {"account": url | null, "cta": url | null}} (digest: {"key", "type":
 * "digest", "owner", "items": [{"type", "cta", "account", "health",
 * "links"}, ...]}). Deterministic for a snapshot, so its signature is too. */
char *message_webhook(const cJSON *snapshot, const struct message_ctx *ctx);
char *message_webhook_digest(const cJSON *snapshots, const struct message_ctx *ctx);

/* One line of JSON (no newline) for the log channel: {"key", "owner" (ctx's,
 * else the CTA's), "event", "text": the plain-text rendering, "cta": id |
 * null} (digest: "event": "digest", "cta": null). */
char *message_log(const cJSON *snapshot, const struct message_ctx *ctx);
char *message_log_digest(const cJSON *snapshots, const struct message_ctx *ctx);

#endif
