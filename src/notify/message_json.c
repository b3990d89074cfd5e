/* message_json.c: the machine-readable media (see message.h): a webhook's
 * JSON body (the snapshot's members as they are, with the dashboard links)
 * and the log's JSON line (the plain-text rendering with its key, owner,
 * event and CTA id). */
#include "notify/message.h"

#include "notify/message_int.h"

static void add_string_or_null(cJSON *o, const char *name, const char *s) {
    if (s)
        cJSON_AddStringToObject(o, name, s);
    else
        cJSON_AddNullToObject(o, name);
}

static void add_copy_or_null(cJSON *o, const char *name, const cJSON *member) {
    cJSON_AddItemToObject(o, name, member ? cJSON_Duplicate(member, true) : cJSON_CreateNull());
}

/* Adds "type", "cta", "account", "health" and "links" of one snapshot; an
 * unknown event's type is null. */
static void add_webhook_members(cJSON *o, const struct view *v) {
    /* By enum event, every one named: an index past the end read memory
     * that was not the array's (held and expire had no entry). */
    static const char *const types[] = {NULL,        "cta.opened", "cta.raised",  "cta.resolved",
                                        "cta.woken", "cta.held",   "cta.expired", "cta.escalated"};
    _Static_assert(sizeof types / sizeof types[0] == EV_ESCALATE + 1, "a type per event");
    add_string_or_null(o, "type", types[v->event]);
    add_copy_or_null(o, "cta", v->cta);
    add_copy_or_null(o, "account", v->account);
    add_copy_or_null(o, "health", v->health);
    cJSON *links = cJSON_AddObjectToObject(o, "links");
    add_string_or_null(links, "account", v->account_url);
    add_string_or_null(links, "cta", v->cta_url);
}

char *message_webhook(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    struct view v;
    msg_view_init(&v, snapshot, ctx);
    cJSON *root = cJSON_CreateObject();
    add_string_or_null(root, "key", ctx->key);
    add_webhook_members(root, &v);
    msg_view_free(&v);
    return msg_print_json(root);
}

char *message_webhook_digest(const cJSON *snapshots, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    cJSON *root = cJSON_CreateObject();
    add_string_or_null(root, "key", ctx->key);
    cJSON_AddStringToObject(root, "type", "digest");
    add_string_or_null(root, "owner", ctx->owner);
    cJSON *items = cJSON_AddArrayToObject(root, "items");
    FOR_EACH_ITEM(s, snapshots) {
        struct view v;
        msg_view_init(&v, s, ctx);
        cJSON *item = cJSON_CreateObject();
        add_webhook_members(item, &v);
        cJSON_AddItemToArray(items, item);
        msg_view_free(&v);
    }
    return msg_print_json(root);
}

/* {"key", "owner", "event", "text", "cta"}; takes text's buffer. */
static char *log_line(const struct message_ctx *ctx, const char *owner, const char *event,
                      struct out *text, const struct view *v) {
    cJSON *root = cJSON_CreateObject();
    add_string_or_null(root, "key", ctx->key);
    add_string_or_null(root, "owner", ctx->owner ? ctx->owner : owner);
    add_string_or_null(root, "event", event);
    cJSON_AddStringToObject(root, "text", buf_str(&text->b));
    if (v && v->has_id)
        cJSON_AddNumberToObject(root, "cta", (double)v->id);
    else
        cJSON_AddNullToObject(root, "cta");
    buf_free(&text->b);
    return msg_print_json(root);
}

char *message_log(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    struct view v;
    msg_view_init(&v, snapshot, ctx);
    struct out text;
    msg_out_init(&text, ESC_PLAIN, "\n");
    msg_put_body(&text, &v, ctx);
    char *line = log_line(ctx, v.owner, v.event_name, &text, &v);
    msg_view_free(&v);
    return line;
}

char *message_log_digest(const cJSON *snapshots, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    struct out text;
    msg_out_init(&text, ESC_PLAIN, "\n");
    msg_put_digest(&text, snapshots, ctx, EMAIL_MAX_ITEMS);
    return log_line(ctx, NULL, "digest", &text, NULL);
}

char *message_log_customer(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(snapshot, "customer");
    cJSON *o = cJSON_CreateObject();
    if (ctx->key)
        cJSON_AddStringToObject(o, "key", ctx->key);
    cJSON_AddStringToObject(o, "event", "customer");
    static const char *const names[] = {"kind", "to", "subject", "text", "unsubscribe_url"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, names[i]);
        if (cJSON_IsString(v))
            cJSON_AddStringToObject(o, names[i], v->valuestring);
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "account");
    if (cJSON_IsObject(a))
        cJSON_AddItemToObject(o, "account", cJSON_Duplicate(a, true));
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return line;
}
