/* message_int.h: what the message files share, and nobody else.
 *
 * message.c reads a snapshot into a struct view and writes the content every
 * medium shows (headline, summary, facts, evidence, digest items);
 * message_text.c is struct out, a buffer that knows its medium's escaping,
 * line breaks, bold and links; message_slack.c, message_email.c and
 * message_json.c wrap that content in each medium's envelope. Because every
 * medium writes through the same functions, a Slack message, an email and
 * the log cannot say different things. All of it is pure: no clock, no I/O. */
#ifndef TEND_NOTIFY_MESSAGE_INT_H
#define TEND_NOTIFY_MESSAGE_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notify/message.h"
#include "util/buf.h"

#define ELLIPSIS "\xe2\x80\xa6" /* … */

/* Caps on pieces of user text, in output characters after escaping. */
#define CAP_TITLE  200
#define CAP_NAME   150 /* an account name or id */
#define CAP_REASON 800 /* a reason or a resolve note */
#define CAP_BRIEF  300 /* a reason in a digest item */
#define CAP_WORD   24  /* a priority, a band */
#define CAP_SHORT  80  /* a rule, an owner, a date, a plan, an evidence name, the key */
#define CAP_VALUE  200 /* an evidence value */

#define EMAIL_MAX_ITEMS 1000 /* the sanity cap of an email or log digest */

/* ---- a snapshot, read (message.c) ------------------------------------------ */

enum event { EV_OTHER, EV_OPEN, EV_RAISE, EV_RESOLVE, EV_WAKE, EV_HELD, EV_EXPIRE, EV_ESCALATE };

/* A snapshot's members, each NULL (or has_* false) when missing or of the wrong
 * type. Strings are borrowed from the snapshot; the URLs are owned. */
struct view {
    const cJSON *cta, *account, *health, *evidence; /* objects */
    enum event event;
    const char *event_name, *rule, *priority, *previous, *title, *reason, *owner, *opened, *due,
        *note, *value_text, *currency; /* the snapshot's: how the evidence's money is written */
    const char *account_id, *account_name, *segment, *plan, *renewal, *band;
    double esc_level;   /* escalate: the level (1 unacted, 2 overdue); 0 when missing */
    const char *esc_to; /* escalate: who was told */
    bool has_id, has_mrr, has_score, has_7d, has_30d;
    int64_t id;
    double mrr, score, change_7d, change_30d;
    char *cta_url, *account_url; /* malloced; NULL without a usable base_url */
};

/* Reads snap into *v (members borrowed from snap; the dashboard URLs built
 * from ctx->base_url and owned by v); msg_view_free releases them. */
void msg_view_init(struct view *v, const cJSON *snap, const struct message_ctx *ctx);
void msg_view_free(struct view *v);
/* A NULL ctx reads as one with every member NULL. */
const struct message_ctx *msg_ctx_or_none(const struct message_ctx *ctx);

/* A digest's snapshots are the objects of its array, anything else skipped:
 * msg_item_at(s) is the first at or after s. */
const cJSON *msg_item_at(const cJSON *s);
#define FOR_EACH_ITEM(s, snaps)                                                                    \
    for (const cJSON *s = msg_item_at(cJSON_IsArray(snaps) ? (snaps)->child : NULL); s;            \
         s = msg_item_at(s->next))
/* How many snapshots the digest snaps holds. */
int msg_digest_count(const cJSON *snaps);
/* The digest's items in the order a person reads them (most urgent first,
 * then what the budget held back); *n gets how many. Returns a malloced
 * array (NULL when none) the caller frees. */
const cJSON **msg_digest_order(const cJSON *snaps, int *n);

/* ---- the text of one medium (message_text.c) ------------------------------ */

/* ESC_LABEL is mrkdwn inside a link's label, where '|' would end the URL. */
enum esc { ESC_PLAIN, ESC_MRKDWN, ESC_LABEL, ESC_HTML };

struct out {
    struct buf b;
    enum esc esc;
    const char *nl; /* a line break: "\n", "\r\n" or "<br>\r\n" */
};

/* Starts o empty, escaping user text as esc and breaking lines with nl. */
void msg_out_init(struct out *o, enum esc esc, const char *nl);
/* Drops what was written after the first len bytes. */
void msg_out_truncate(struct out *o, size_t len);
/* Our own text or markup, as it is. */
void msg_put_raw(struct out *o, const char *s);
/* User text, escaped for o's medium and capped. */
void msg_put_text(struct out *o, const char *s, size_t max_chars);
/* User text with its first letter upper-cased ("high" -> "High"). */
void msg_put_capitalized(struct out *o, const char *s, size_t max_chars);
/* Opens or closes bold in o's medium. */
void msg_put_bold(struct out *o, bool open);
/* Starts a line (a break unless o is empty), with a bold "label: " if given. */
void msg_put_line(struct out *o, const char *label);
/* Starts a line with a bold heading of our own ("Evidence"). */
void msg_put_heading(struct out *o, const char *text);
/* label (user text) linked to url (a dashboard URL message.c built, so safe
 * as it is in every medium); just the label when url is NULL. */
void msg_put_link(struct out *o, const char *url, const char *label, size_t max_chars);
/* Cuts b to at most max_chars characters: at the last line break that leaves
 * room for "\n…", so no entity, link or markup is split; mid-line, at a
 * character boundary, only when the first line alone is too long. */
void msg_cap_lines(struct buf *b, size_t max_chars);
/* Returns a malloced copy of s made one line and cut to max_chars. */
char *msg_plain_capped(const char *s, size_t max_chars);
/* The byte length of the UTF-8 character at p (1 for a stray byte); never
 * passes a NUL. */
size_t msg_utf8_len(const char *p);
/* Prints j without whitespace and deletes it; returns a malloced string. */
char *msg_print_json(cJSON *j);

/* ---- the content, the same for every medium (message.c) ------------------- */

enum fact { FACT_OWNER, FACT_DUE, FACT_OPENED, FACT_PLAN, FACT_SEGMENT, FACT_MRR, FACT_RENEWAL };
#define FACT_COUNT 7
extern const char *const msg_fact_labels[FACT_COUNT];

/* "High: Card expires in 7 days — Acme Corp", with what the event changed;
 * links: the title linked to the CTA's page. */
void msg_put_headline(struct out *o, const struct view *v, bool links);
/* The resolve note, the account, its health and the reason, a line each. */
void msg_put_summary(struct out *o, const struct view *v);
/* Writes fact f's value; false, writing nothing, when the snapshot lacks it.
 * The owner is the CTA's, else the recipient; Slack mentions the recipient. */
bool msg_put_fact(struct out *o, const struct view *v, const struct message_ctx *ctx, enum fact f);
/* "Evidence:" and a "• name: value" line each, at most 50. */
void msg_put_evidence(struct out *o, const struct view *v);
/* "tend · rule card_expiring · ref KEY" */
void msg_put_footer(struct out *o, const char *rule, const struct message_ctx *ctx);
/* The whole of one message as lines: an email part or the log's text. */
void msg_put_body(struct out *o, const struct view *v, const struct message_ctx *ctx);
/* One CTA of a digest: the linked headline, health and due date, the reason. */
void msg_put_item(struct out *o, const struct view *v);
/* "3 CTAs for alice@example.com" */
void msg_put_digest_title(struct out *o, int n, const char *owner);
/* "…and K more", linked to the owner's list of CTAs. */
void msg_put_more(struct out *o, int more, const struct message_ctx *ctx);
/* A digest as lines: its title, then each item after a blank line, at most
 * max_items of them. */
void msg_put_digest(struct out *o, const cJSON *snaps, const struct message_ctx *ctx,
                    int max_items);

#endif
