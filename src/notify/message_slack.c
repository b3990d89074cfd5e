/* message_slack.c: a CTA or a digest as a Slack incoming-webhook body (see
 * message.h): a header, sections, the facts as fields, buttons to the
 * dashboard, the CTA's action buttons (when Slack's interactivity is set
 * up: server/slack.c answers their clicks) and a context line, within Block Kit's limits (50
 * blocks, 3,000 characters a section, 150 a header, 75 a button), with a text fallback that is
 * always present. */
#include "notify/message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/message_int.h"
#include "util/mem.h"

/* Slack Block Kit limits, in characters (code points). */
#define SLACK_MAX_BLOCKS 50
#define SLACK_MAX_TEXT   3000 /* a section's or a context's mrkdwn, and the fallback */
#define SLACK_MAX_HEADER 150
#define SLACK_MAX_FIELD  2000 /* fields: at most 10 a section; we write at most FACT_COUNT */
#define SLACK_MAX_BUTTON 75

/* A text object. mrkdwn is verbatim: Slack then does not turn plain words into
 * links or mentions, so only our own <...> markup is live. */
static cJSON *text_object(const char *type, const char *text) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", type);
    cJSON_AddStringToObject(t, "text", text);
    if (strcmp(type, "mrkdwn") == 0)
        cJSON_AddTrueToObject(t, "verbatim");
    return t;
}

static cJSON *add_block(cJSON *blocks, const char *type) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", type);
    cJSON_AddItemToArray(blocks, b);
    return b;
}

/* Adds a header block of plain text cut to Slack's limit. */
static void add_header(cJSON *blocks, const char *plain) {
    char *t = msg_plain_capped(plain, SLACK_MAX_HEADER);
    cJSON_AddItemToObject(add_block(blocks, "header"), "text", text_object("plain_text", t));
    free(t);
}

/* Adds a section of o's mrkdwn cut to Slack's limit; nothing when o is empty.
 * Empties o for the next block. */
static void add_section(cJSON *blocks, struct out *o) {
    if (o->b.len) {
        msg_cap_lines(&o->b, SLACK_MAX_TEXT);
        cJSON_AddItemToObject(add_block(blocks, "section"), "text",
                              text_object("mrkdwn", buf_str(&o->b)));
    }
    buf_reset(&o->b);
}

static void add_button(cJSON *elements, const char *label, const char *url, const char *id) {
    char *t = msg_plain_capped(label, SLACK_MAX_BUTTON);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "button");
    cJSON_AddItemToObject(b, "text", text_object("plain_text", t));
    cJSON_AddStringToObject(b, "url", url);
    cJSON_AddStringToObject(b, "action_id", id);
    cJSON_AddItemToArray(elements, b);
    free(t);
}

/* An action button: value "VERB:ID", which POST /slack/actions reads. */
static void add_act_button(cJSON *elements, const char *label, const char *verb, int64_t id,
                           const char *style) {
    char value[64], action_id[32];
    snprintf(value, sizeof value, "%s:%lld", verb, (long long)id);
    snprintf(action_id, sizeof action_id, "tend_%s", verb);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "button");
    cJSON_AddItemToObject(b, "text", text_object("plain_text", label));
    cJSON_AddStringToObject(b, "action_id", action_id);
    cJSON_AddStringToObject(b, "value", value);
    if (style)
        cJSON_AddStringToObject(b, "style", style);
    cJSON_AddItemToArray(elements, b);
}

/* The actions block of a live CTA: what a CSM does without leaving Slack. */
static void add_actions(cJSON *blocks, const struct view *v) {
    if (!v->has_id || v->event == EV_RESOLVE || v->event == EV_EXPIRE || v->event == EV_HELD)
        return;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(v->cta, "status");
    if (cJSON_IsString(status) && strcmp(status->valuestring, "closed") == 0)
        return;
    cJSON *b = add_block(blocks, "actions");
    cJSON_AddStringToObject(b, "block_id", MESSAGE_SLACK_ACTIONS_BLOCK);
    cJSON *elements = cJSON_AddArrayToObject(b, "elements");
    add_act_button(elements, "Acknowledge", "acknowledge", v->id, "primary");
    add_act_button(elements, "Snooze 7 days", "snooze", v->id, NULL);
    add_act_button(elements, "Close as done", "close", v->id, NULL);
    add_act_button(elements, "Assign to me", "assign", v->id, NULL);
}

/* Adds the context line "tend · rule X · ref KEY". */
static void add_context(cJSON *blocks, const char *rule, const struct message_ctx *ctx) {
    struct out o;
    msg_out_init(&o, ESC_MRKDWN, "\n");
    msg_put_footer(&o, rule, ctx);
    cJSON *elements = cJSON_AddArrayToObject(add_block(blocks, "context"), "elements");
    cJSON_AddItemToArray(elements, text_object("mrkdwn", buf_str(&o.b)));
    buf_free(&o.b);
}

/* The body {"text": fallback, "blocks": [...]}; takes blocks. The fallback
 * is mrkdwn too (Slack formats it), so it is escaped the same way. */
static char *slack_body(struct out *fallback, cJSON *blocks) {
    msg_cap_lines(&fallback->b, SLACK_MAX_TEXT);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "text", buf_str(&fallback->b));
    cJSON_AddItemToObject(root, "blocks", blocks);
    buf_free(&fallback->b);
    return msg_print_json(root);
}

/* Blocks: header, summary, facts as fields, evidence, the CTA's actions,
 * links, context: at most 7 of the 50, each piece capped. */
char *message_slack(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    struct view v;
    msg_view_init(&v, snapshot, ctx);
    cJSON *blocks = cJSON_CreateArray();
    struct out o;

    msg_out_init(&o, ESC_PLAIN, "\n");
    msg_put_headline(&o, &v, false);
    add_header(blocks, buf_str(&o.b));
    buf_free(&o.b);

    msg_out_init(&o, ESC_MRKDWN, "\n");
    msg_put_summary(&o, &v);
    add_section(blocks, &o);

    cJSON *fields = cJSON_CreateArray();
    for (int f = 0; f < FACT_COUNT; f++) {
        msg_put_heading(&o, msg_fact_labels[f]);
        msg_put_raw(&o, "\n");
        if (msg_put_fact(&o, &v, ctx, (enum fact)f)) {
            msg_cap_lines(&o.b, SLACK_MAX_FIELD);
            cJSON_AddItemToArray(fields, text_object("mrkdwn", buf_str(&o.b)));
        }
        buf_reset(&o.b);
    }
    if (cJSON_GetArraySize(fields))
        cJSON_AddItemToObject(add_block(blocks, "section"), "fields", fields);
    else
        cJSON_Delete(fields);

    msg_put_evidence(&o, &v);
    add_section(blocks, &o);
    buf_free(&o.b);

    if (ctx->slack_actions)
        add_actions(blocks, &v);
    if (v.cta_url || v.account_url) {
        cJSON *elements = cJSON_AddArrayToObject(add_block(blocks, "actions"), "elements");
        if (v.cta_url)
            add_button(elements, "Open CTA", v.cta_url, "open_cta");
        if (v.account_url)
            add_button(elements, "Open account", v.account_url, "open_account");
    }
    add_context(blocks, v.rule, ctx);

    msg_out_init(&o, ESC_MRKDWN, "\n");
    msg_put_headline(&o, &v, false);
    if (v.reason) {
        msg_put_line(&o, NULL);
        msg_put_text(&o, v.reason, CAP_REASON);
    }
    msg_view_free(&v);
    return slack_body(&o, blocks);
}

/* Blocks: a header, a section per item while they fit, "…and K more", and
 * the context line: never more than 50. */
char *message_slack_digest(const cJSON *snapshots, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    int n = msg_digest_count(snapshots);
    int room = SLACK_MAX_BLOCKS - 2; /* header and context */
    int max_items = n <= room ? n : room - 1;
    cJSON *blocks = cJSON_CreateArray();
    struct out o;

    msg_out_init(&o, ESC_PLAIN, "\n");
    msg_put_digest_title(&o, n, ctx->owner);
    add_header(blocks, buf_str(&o.b));
    buf_free(&o.b);

    msg_out_init(&o, ESC_MRKDWN, "\n");
    int shown = 0, n_items;
    const cJSON **items = msg_digest_order(snapshots, &n_items);
    for (int i = 0; i < n_items; i++) {
        if (shown == max_items)
            break;
        struct view v;
        msg_view_init(&v, items[i], ctx);
        msg_put_item(&o, &v);
        add_section(blocks, &o);
        msg_view_free(&v);
        shown++;
    }
    free(items);
    if (shown < n) {
        msg_put_more(&o, n - shown, ctx);
        add_section(blocks, &o);
    }
    buf_free(&o.b);
    add_context(blocks, NULL, ctx);

    msg_out_init(&o, ESC_MRKDWN, "\n");
    msg_put_digest_title(&o, n, ctx->owner);
    return slack_body(&o, blocks);
}
