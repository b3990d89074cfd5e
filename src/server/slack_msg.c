/* slack_msg.c: Slack's requests read and tend's answers written (see
 * slack_msg.h). Answers are built as cJSON trees and printed once; user text
 * goes through mrkdwn escaping (& < >) so that only our own markup is live,
 * as in notify/message_slack.c. */
#include "server/slack_msg.h"

#include <ctype.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/message.h"
#include "util/buf.h"
#include "util/mem.h"

#define MAX_CTAS_LISTED    10
#define MAX_MATCHES_LISTED 10

/* ---- reading -------------------------------------------------------------- */

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into a malloced string; NULL on a bad escape or a NUL. */
static char *form_decode(const char *s, size_t n) {
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        *o++ = c;
    }
    *o = '\0';
    return out;
}

char *slack_form_field(const char *body, size_t len, const char *key) {
    size_t klen = strlen(key);
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq && (size_t)(eq - p) == klen && memcmp(p, key, klen) == 0) {
            size_t n = (size_t)(stop - eq - 1);
            if (n > SLACK_MSG_MAX_FIELD * 3)
                return NULL;
            char *v = form_decode(eq + 1, n);
            if (v && strlen(v) > SLACK_MSG_MAX_FIELD) {
                free(v);
                return NULL;
            }
            return v;
        }
        p = stop + 1;
    }
    return NULL;
}

/* A Slack id: capital letters and digits, 2 to 32 of them. */
static bool slack_id_ok(const char *s) {
    size_t n = strlen(s);
    if (n < 2 || n >= SLACK_MSG_ID_BYTES)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* Whether the path after the base holds a dot segment ("." or "..", also
 * percent-encoded): libcurl and servers resolve them, so that
 * BASE/../x would be posted to x, outside the base's path. */
static bool has_dot_segment(const char *rest) {
    for (const char *seg = rest; seg;) {
        const char *end = seg + strcspn(seg, "/?#");
        size_t dots = 0, other = 0;
        for (const char *p = seg; p < end;) {
            if (*p == '.') {
                dots++;
                p++;
            } else if (p[0] == '%' && p[1] == '2' && (p[2] == 'e' || p[2] == 'E')) {
                dots++;
                p += 3;
            } else {
                other++;
                p++;
            }
        }
        if (dots && !other && dots <= 2)
            return true;
        seg = *end == '/' ? end + 1 : NULL;
    }
    return false;
}

/* Whether url is under base (a prefix ending with '/' after the host, so
 * that the host is pinned), holds no byte that would change how it is read
 * (no spaces, no controls, no backslash; at most SLACK_MAX_URL_BYTES) and
 * no dot segment that would lead out of the base's path. */
static bool response_url_ok(const char *url, const char *base) {
    size_t n = strlen(url), b = base ? strlen(base) : 0;
    if (!base || n > 2048 || strncmp(url, base, b) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == '\\' || url[i] == 0x7f)
            return false;
    return !has_dot_segment(url + b);
}

static const char *str_member(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "VERB:ID" of a tend button. */
static bool parse_value(const char *value, enum cta_verb *verb, int64_t *id) {
    static const struct {
        const char *name;
        enum cta_verb verb;
    } verbs[] = {{"acknowledge", CTA_ACT_ACKNOWLEDGE},
                 {"snooze", CTA_ACT_SNOOZE},
                 {"close", CTA_ACT_CLOSE},
                 {"assign", CTA_ACT_ASSIGN}};
    const char *colon = value ? strchr(value, ':') : NULL;
    if (!colon)
        return false;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        size_t n = strlen(verbs[i].name);
        if ((size_t)(colon - value) == n && strncmp(value, verbs[i].name, n) == 0) {
            const char *d = colon + 1;
            if (!*d || strlen(d) > 18)
                return false;
            for (const char *q = d; *q; q++)
                if (!isdigit((unsigned char)*q))
                    return false;
            *id = strtoll(d, NULL, 10);
            *verb = verbs[i].verb;
            return *id > 0;
        }
    }
    return false;
}

enum tend_err slack_click_parse(const char *payload, const char *response_base,
                                struct slack_click *out, char *err) {
    memset(out, 0, sizeof *out);
    cJSON *j = payload ? cJSON_Parse(payload) : NULL;
    enum tend_err e = TEND_ERR_INVALID;
    if (!cJSON_IsObject(j)) {
        snprintf(err, SLACK_MSG_ERR_BYTES, "payload: must be a JSON object");
        goto done;
    }
    const char *type = str_member(j, "type");
    if (!type || strcmp(type, "block_actions") != 0) {
        snprintf(err, SLACK_MSG_ERR_BYTES, "payload.type: %.40s is not block_actions",
                 type ? type : "(none)");
        goto done;
    }
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(j, "user");
    const char *uid = str_member(user, "id");
    if (!uid || !slack_id_ok(uid)) {
        snprintf(err, SLACK_MSG_ERR_BYTES, "payload.user.id: must be a Slack user id");
        goto done;
    }
    const char *uname = str_member(user, "username");
    if (!uname)
        uname = str_member(user, "name");
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(j, "actions"), *a;
    bool found = false;
    cJSON_ArrayForEach(a, actions) {
        if (parse_value(str_member(a, "value"), &out->verb, &out->cta_id)) {
            found = true;
            break;
        }
    }
    if (!found) {
        snprintf(err, SLACK_MSG_ERR_BYTES,
                 "payload.actions: no tend button (a value VERB:CTA_ID of acknowledge, snooze, "
                 "close or assign)");
        goto done;
    }
    const char *url = str_member(j, "response_url");
    if (!url || !response_url_ok(url, response_base)) {
        snprintf(err, SLACK_MSG_ERR_BYTES, "payload.response_url: must start with %.100s",
                 response_base ? response_base : "(none)");
        goto done;
    }
    snprintf(out->user_id, sizeof out->user_id, "%s", uid);
    snprintf(out->user_name, sizeof out->user_name, "%s", uname ? uname : "");
    out->response_url = xstrdup(url);
    cJSON *msg = cJSON_DetachItemFromObjectCaseSensitive(j, "message");
    if (cJSON_IsObject(msg))
        out->message = msg;
    else
        cJSON_Delete(msg);
    e = TEND_OK;
done:
    cJSON_Delete(j);
    if (e)
        memset(out, 0, sizeof *out);
    return e;
}

void slack_click_release(struct slack_click *c) {
    free(c->response_url);
    cJSON_Delete(c->message);
    memset(c, 0, sizeof *c);
}

enum tend_err slack_command_parse(const char *body, size_t len, const char *response_base,
                                  struct slack_command *out, char *err) {
    memset(out, 0, sizeof *out);
    char *uid = slack_form_field(body, len, "user_id");
    char *text = slack_form_field(body, len, "text");
    char *url = slack_form_field(body, len, "response_url");
    enum tend_err e = TEND_ERR_INVALID;
    if (!uid || !slack_id_ok(uid)) {
        snprintf(err, SLACK_MSG_ERR_BYTES, "user_id: must be a Slack user id");
    } else if (text && strlen(text) >= SLACK_MSG_TEXT_BYTES) {
        snprintf(err, SLACK_MSG_ERR_BYTES, "text: longer than %d bytes", SLACK_MSG_TEXT_BYTES - 1);
    } else if (!url || !response_url_ok(url, response_base)) {
        snprintf(err, SLACK_MSG_ERR_BYTES, "response_url: must start with %.100s",
                 response_base ? response_base : "(none)");
    } else {
        snprintf(out->user_id, sizeof out->user_id, "%s", uid);
        snprintf(out->text, sizeof out->text, "%s", text ? g_strstrip(text) : "");
        out->response_url = url;
        url = NULL;
        e = TEND_OK;
    }
    free(uid);
    free(text);
    free(url);
    return e;
}

void slack_command_release(struct slack_command *c) {
    free(c->response_url);
    memset(c, 0, sizeof *c);
}

/* ---- writing -------------------------------------------------------------- */

/* Appends s escaped for mrkdwn (& < >), control characters as spaces. */
static void put_esc(struct buf *b, const char *s) {
    for (; s && *s; s++) {
        if (*s == '&')
            buf_append(b, "&amp;", 5);
        else if (*s == '<')
            buf_append(b, "&lt;", 4);
        else if (*s == '>')
            buf_append(b, "&gt;", 4);
        else if ((unsigned char)*s < ' ')
            buf_append(b, " ", 1);
        else
            buf_append(b, s, 1);
    }
}

static cJSON *mrkdwn(const char *text) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", "mrkdwn");
    cJSON_AddStringToObject(t, "text", text);
    cJSON_AddTrueToObject(t, "verbatim");
    return t;
}

static char *print(cJSON *root) {
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!s)
        abort(); /* allocation failure */
    char *out = xstrdup(s);
    cJSON_free(s);
    return out;
}

char *slack_state_line(enum cta_verb verb, const char *note, const char *who) {
    static const char *const done[] = {"Snoozed", "Closed", "Assigned", "Acknowledged"};
    struct buf b;
    buf_init(&b, 0);
    buf_printf(&b, "*");
    const char *arrow = note && verb == CTA_ACT_ASSIGN ? strstr(note, " -> ") : NULL;
    if (arrow) {
        /* eval_cta_act's "OLD -> NEW": "Assigned to NEW (was OLD)". */
        buf_printf(&b, "Assigned to ");
        put_esc(&b, arrow + 4);
        buf_printf(&b, "* (was ");
        struct buf old;
        buf_init(&old, 0);
        buf_append(&old, note, (size_t)(arrow - note));
        put_esc(&b, buf_str(&old));
        buf_free(&old);
        buf_printf(&b, ")");
    } else if (note && note[0]) {
        /* eval_cta_act's note: "snoozed until ...", "closed as ...",
         * "acknowledged", "already ..."; its first letter raised. */
        char first[2] = {(char)toupper((unsigned char)note[0]), '\0'};
        put_esc(&b, first);
        put_esc(&b, note + 1);
        buf_printf(&b, "*");
    } else {
        put_esc(&b, done[verb]);
        buf_printf(&b, "*");
    }
    buf_printf(&b, " by ");
    put_esc(&b, who);
    buf_printf(&b, " · via Slack");
    return buf_steal(&b);
}

char *slack_msg_ephemeral(const char *text) {
    struct buf b;
    buf_init(&b, 0);
    put_esc(&b, text);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "response_type", "ephemeral");
    cJSON_AddFalseToObject(root, "replace_original");
    cJSON_AddStringToObject(root, "text", buf_str(&b));
    buf_free(&b);
    return print(root);
}

char *slack_msg_replace(const cJSON *message, const char *state, bool live) {
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(message, "blocks");
    if (!cJSON_IsArray(blocks)) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "response_type", "ephemeral");
        cJSON_AddFalseToObject(root, "replace_original");
        cJSON_AddStringToObject(root, "text", state);
        return print(root);
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddTrueToObject(root, "replace_original");
    const char *text = str_member(message, "text");
    cJSON_AddStringToObject(root, "text", text ? text : state);
    cJSON *out = cJSON_AddArrayToObject(root, "blocks");
    const cJSON *blk;
    int n = 0;
    cJSON_ArrayForEach(blk, blocks) {
        const char *id = str_member(blk, "block_id");
        if (id && strcmp(id, "tend_state") == 0)
            continue;
        if (!live && id && strcmp(id, MESSAGE_SLACK_ACTIONS_BLOCK) == 0)
            continue;
        if (n == 49) /* Slack's 50 blocks, with room for the state line */
            break;
        cJSON_AddItemToArray(out, cJSON_Duplicate(blk, true));
        n++;
    }
    cJSON *ctx = cJSON_CreateObject();
    cJSON_AddStringToObject(ctx, "type", "context");
    cJSON_AddStringToObject(ctx, "block_id", "tend_state");
    cJSON *elements = cJSON_AddArrayToObject(ctx, "elements");
    cJSON_AddItemToArray(elements, mrkdwn(state));
    cJSON_AddItemToArray(out, ctx);
    return print(root);
}

/* A whole number, or "n/a". */
static void put_number(struct buf *b, const cJSON *v) {
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
        buf_printf(b, "%.0f", v->valuedouble);
    else
        buf_printf(b, "n/a");
}

static cJSON *section(cJSON *blocks, const char *text) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", "section");
    cJSON_AddItemToObject(s, "text", mrkdwn(text));
    cJSON_AddItemToArray(blocks, s);
    return s;
}

/* Appends " <URL|label>" when base_url is a plain http(s) URL. */
static void put_link(struct buf *b, const char *base_url, const char *path, const char *id,
                     const char *label) {
    if (!base_url || (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8)))
        return;
    for (const char *p = base_url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '|' || *p == '<' || *p == '>')
            return;
    char *enc = g_uri_escape_string(id, NULL, false);
    size_t n = strlen(base_url);
    buf_printf(b, "<%.*s%s%s|%s>", (int)(n && base_url[n - 1] == '/' ? n - 1 : n), base_url, path,
               enc, label);
    g_free(enc);
}

char *slack_msg_account(const cJSON *account, const char *base_url) {
    const char *id = str_member(account, "id"), *name = str_member(account, "name");
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(account, "score");
    const cJSON *risk = cJSON_GetObjectItemCaseSensitive(account, "risk");
    const cJSON *ctas = cJSON_GetObjectItemCaseSensitive(account, "ctas");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "response_type", "ephemeral");
    cJSON *blocks = cJSON_CreateArray();
    struct buf b, fb;
    buf_init(&b, 0);
    buf_init(&fb, 0);

    buf_printf(&b, "*");
    put_esc(&b, name ? name : id);
    buf_printf(&b, "* (`");
    put_esc(&b, id);
    buf_printf(&b, "`)");
    const char *owner = str_member(account, "owner");
    if (owner) {
        buf_printf(&b, " · CSM ");
        put_esc(&b, owner);
    }
    buf_printf(&fb, "%s", buf_str(&b));
    section(blocks, buf_str(&b));
    buf_reset(&b);

    buf_printf(&b, "*Health:* ");
    if (cJSON_IsObject(score)) {
        put_number(&b, cJSON_GetObjectItemCaseSensitive(score, "overall"));
        const char *band = str_member(score, "band");
        if (band) {
            buf_printf(&b, " (");
            put_esc(&b, band);
            buf_printf(&b, ")");
        }
        const char *date = str_member(score, "date");
        if (date) {
            buf_printf(&b, " on ");
            put_esc(&b, date);
        }
    } else {
        buf_printf(&b, "not scored yet");
    }
    buf_printf(&b, "\n*Churn risk:* ");
    if (cJSON_IsObject(risk)) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(risk, "p_churn");
        if (cJSON_IsNumber(p))
            buf_printf(&b, "%.0f%%", p->valuedouble * 100);
        else
            buf_printf(&b, "n/a");
        const cJSON *days = cJSON_GetObjectItemCaseSensitive(risk, "horizon_days");
        if (cJSON_IsNumber(days))
            buf_printf(&b, " within %d days", days->valueint);
        buf_printf(&b, ", ");
        put_number(&b, cJSON_GetObjectItemCaseSensitive(risk, "arr_at_risk"));
        buf_printf(&b, " ARR at risk");
    } else {
        buf_printf(&b, "no model has scored it");
    }
    const cJSON *mrr = cJSON_GetObjectItemCaseSensitive(account, "mrr");
    if (cJSON_IsNumber(mrr)) {
        buf_printf(&b, "\n*MRR:* ");
        put_number(&b, mrr);
    }
    buf_printf(&fb, "\n%s", buf_str(&b));
    section(blocks, buf_str(&b));
    buf_reset(&b);

    int live = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, ctas) {
        const char *st = str_member(c, "status");
        if (!st || strcmp(st, "closed") == 0)
            continue;
        if (live < MAX_CTAS_LISTED) {
            const cJSON *cid = cJSON_GetObjectItemCaseSensitive(c, "id");
            buf_printf(&b, "\n• ");
            put_esc(&b, str_member(c, "priority"));
            buf_printf(&b, " · ");
            put_esc(&b, str_member(c, "title"));
            buf_printf(&b, " (%s", st);
            const char *due = str_member(c, "due_date");
            if (due) {
                buf_printf(&b, ", due ");
                put_esc(&b, due);
            }
            buf_printf(&b, ")");
            if (cJSON_IsNumber(cid)) {
                char idtext[32];
                snprintf(idtext, sizeof idtext, "%lld", (long long)cid->valuedouble);
                buf_printf(&b, " ");
                put_link(&b, base_url, "/ctas/", idtext, "open");
            }
        }
        live++;
    }
    struct buf h;
    buf_init(&h, 0);
    buf_printf(&h, "*Open CTAs:* %d%s", live, buf_str(&b));
    if (live > MAX_CTAS_LISTED)
        buf_printf(&h, "\n…and %d more", live - MAX_CTAS_LISTED);
    buf_printf(&fb, "\n*Open CTAs:* %d", live);
    section(blocks, buf_str(&h));
    buf_free(&h);
    buf_reset(&b);
    put_link(&b, base_url, "/accounts/", id ? id : "", "Open the account in tend");
    if (b.len)
        section(blocks, buf_str(&b));
    buf_free(&b);
    cJSON_AddStringToObject(root, "text", buf_str(&fb));
    buf_free(&fb);
    cJSON_AddItemToObject(root, "blocks", blocks);
    return print(root);
}

char *slack_msg_matches(const char *text, const cJSON *matches, int total) {
    struct buf b;
    buf_init(&b, 0);
    buf_printf(&b, "%d accounts match \"", total);
    put_esc(&b, text);
    buf_printf(&b, "\": say which one (`/tend ID`).");
    int shown = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, matches) {
        if (shown == MAX_MATCHES_LISTED)
            break;
        buf_printf(&b, "\n• `");
        put_esc(&b, str_member(m, "id"));
        buf_printf(&b, "`");
        const char *name = str_member(m, "name");
        if (name) {
            buf_printf(&b, " ");
            put_esc(&b, name);
        }
        shown++;
    }
    if (total > shown)
        buf_printf(&b, "\n…and %d more", total - shown);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "response_type", "ephemeral");
    cJSON_AddStringToObject(root, "text", buf_str(&b));
    buf_free(&b);
    return print(root);
}
