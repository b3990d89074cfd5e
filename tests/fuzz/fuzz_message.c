/* fuzz_message.c: the messages for Slack, email, webhooks and the log
 * (notify/message.h), fed hostile snapshots.
 *
 * The input is JSON: a snapshot object (what eval/ stores for a CTA
 * change), or an array of them (a digest), or {"_digest": [...]}; an
 * "_ctx" member of the root sets the message context (key, base_url, owner,
 * owner_slack, from, to), as data-derived owners and keys would. Each input
 * is rendered twice: as it is, and with FUZZ_MARKER ("<x>"), quotes, & and
 * CR/LF appended to every string (and to the evidence names): hostile data.
 * Invariants, for every message:
 * - Slack: valid JSON with a "text" fallback (at most 3,000 characters) and
 *   at most 50 blocks: sections at most 3,000 characters, fields at most
 *   2,000, headers 150, buttons 75; the marker never appears in what Slack
 *   reads as mrkdwn (user text is escaped, "<x>" must have become
 *   "&lt;x&gt;"; plain_text shows as it is);
 * - email: the header block is CRLF lines of "Name: value" (or folded
 *   continuations) with only the headers tend writes, each once, no bare CR
 *   or LF and no control character (so data cannot add a header); every line
 *   within 998 bytes; both MIME parts decode, and the HTML part holds no
 *   marker;
 * - webhook and log: valid JSON; the log line is one line;
 * - when every string given is valid UTF-8, so is every output (truncation
 *   never splits a character). */
#include <cjson/cJSON.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "notify/message.h"

#define NOW_MS  1767225600000LL /* 2026-01-01T00:00:00Z */
#define HOSTILE " " FUZZ_MARKER "&amp;\"'\r\nBcc: evil@example.com\r\n"

/* ---- the input ------------------------------------------------------------------------------ */

/* Members whose value is a word the renderers match on are left alone by the
 * hostile pass so that it reaches the same branches; the names of evidence
 * get the suffix too. */
static const char *const words[] = {"event",  "type", "priority", "previous_priority",
                                    "status", "band", "base_url"};
static const char *const maps[] = {"evidence"};
static const struct fuzz_hostile hostile = {HOSTILE, words, sizeof words / sizeof words[0], maps,
                                            sizeof maps / sizeof maps[0]};

struct ctx_strings {
    char *key, *base_url, *owner, *owner_slack, *from, *to;
};

static char *ctx_string(const cJSON *c, const char *name, const char *def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);
    if (cJSON_IsNull(v))
        return NULL;
    return strdup(cJSON_IsString(v) ? v->valuestring : def);
}

static void ctx_load(const cJSON *c, struct ctx_strings *s) {
    s->key = ctx_string(c, "key", "cta-12-open-2026-01-01");
    s->base_url = ctx_string(c, "base_url", "https://tend.example.com");
    s->owner = ctx_string(c, "owner", "csm@example.com");
    s->owner_slack = ctx_string(c, "owner_slack", "U024BE7LH");
    s->from = ctx_string(c, "from", "tend <tend@example.com>");
    s->to = ctx_string(c, "to", "csm@example.com");
}

static void ctx_free(struct ctx_strings *s) {
    free(s->key), free(s->base_url), free(s->owner), free(s->owner_slack), free(s->from),
        free(s->to);
}

static void ctx_hostile(struct ctx_strings *s) {
    char **all[] = {&s->key, &s->owner, &s->owner_slack, &s->from, &s->to};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i]) {
            char *t = fuzz_concat(*all[i], HOSTILE);
            free(*all[i]);
            *all[i] = t;
        }
}

static bool ctx_utf8(const struct ctx_strings *s) {
    const char *all[] = {s->key, s->base_url, s->owner, s->owner_slack, s->from, s->to};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] && !fuzz_utf8_valid(all[i], strlen(all[i])))
            return false;
    return true;
}

/* ---- the checks ----------------------------------------------------------------------------- */

static void check_utf8(const char *what, const char *s, size_t len, bool utf8_in) {
    if (utf8_in && !fuzz_utf8_valid(s, len))
        fuzz_fail("%s: invalid UTF-8 out of valid input: %.300s", what, s);
}

static const char *text_of(const cJSON *o) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
    if (cJSON_IsObject(t))
        t = cJSON_GetObjectItemCaseSensitive(t, "text");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* A text of a Slack element: present, within max characters, and when Slack
 * reads it as mrkdwn (the fallback, and text objects of type mrkdwn) without
 * the marker: "<x>" there would be live markup. plain_text shows as it is. */
static void check_text(const char *what, const cJSON *o, size_t max, const char *all) {
    const char *text = text_of(o);
    if (!text)
        fuzz_fail("Slack %s without text: %.500s", what, all);
    if (fuzz_utf8_chars(text) > max)
        fuzz_fail("Slack %s of %zu characters, over %zu", what, fuzz_utf8_chars(text), max);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(cJSON_IsObject(t) ? t : o, "type");
    bool plain = cJSON_IsString(type) && strcmp(type->valuestring, "plain_text") == 0;
    if (!plain && strstr(text, FUZZ_MARKER))
        fuzz_fail("Slack %s with data's \"" FUZZ_MARKER "\" unescaped in mrkdwn: %.2000s", what,
                  all);
}

static void check_slack(const char *out, bool utf8_in) {
    check_utf8("Slack", out, strlen(out), utf8_in);
    cJSON *root = cJSON_Parse(out);
    if (!cJSON_IsObject(root))
        fuzz_fail("Slack body is not a JSON object: %.500s", out);
    check_text("fallback", root, 3000, out);
    if (!text_of(root)[0])
        fuzz_fail("Slack message with an empty fallback text");
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(root, "blocks");
    if (!cJSON_IsArray(blocks) || cJSON_GetArraySize(blocks) > 50)
        fuzz_fail("Slack blocks: not an array of at most 50 (%d)", cJSON_GetArraySize(blocks));
    const cJSON *b;
    cJSON_ArrayForEach(b, blocks) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(b, "type");
        const char *t = cJSON_IsString(type) ? type->valuestring : "";
        if (strcmp(t, "section") == 0) {
            const cJSON *fields = cJSON_GetObjectItemCaseSensitive(b, "fields"), *f;
            if (fields) {
                if (cJSON_GetArraySize(fields) > 10)
                    fuzz_fail("Slack section with %d fields", cJSON_GetArraySize(fields));
                cJSON_ArrayForEach(f, fields) check_text("field", f, 2000, out);
            }
            if (!fields || cJSON_GetObjectItemCaseSensitive(b, "text"))
                check_text("section", b, 3000, out);
        } else if (strcmp(t, "header") == 0) {
            check_text("header", b, 150, out);
        } else if (strcmp(t, "actions") == 0 || strcmp(t, "context") == 0) {
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(b, "elements")) {
                bool button = strcmp(t, "actions") == 0;
                check_text(button ? "button" : "context", e, button ? 75 : 3000, out);
            }
        } else if (strcmp(t, "divider") != 0) {
            fuzz_fail("Slack block of unknown type \"%s\"", t);
        }
    }
    cJSON_Delete(root);
}

static const char *const email_headers[] = {
    "From", "To", "Subject", "Date", "Message-ID", "X-Tend-Key", "MIME-Version", "Content-Type"};
#define N_EMAIL_HEADERS (sizeof email_headers / sizeof email_headers[0])

/* The decoded body of the MIME part of type (malloced), or NULL. Looked
 * for after the message's header block (where data may say anything). */
static char *email_part(const char *mail, const char *type) {
    char want[64];
    snprintf(want, sizeof want, "\r\nContent-Type: %s; charset=utf-8\r\n", type);
    const char *p = strstr(strstr(mail, "\r\n\r\n"), want);
    const char *body = p ? strstr(p, "\r\n\r\n") : NULL;
    if (!body)
        return NULL;
    body += 4;
    const char *end = strstr(body, "\r\n--");
    if (!end)
        return NULL;
    char *b64 = g_strndup(body, (size_t)(end - body));
    gsize n = 0;
    guchar *raw = g_base64_decode(b64, &n);
    g_free(b64);
    char *s = malloc(n + 1);
    memcpy(s, raw, n);
    s[n] = '\0';
    g_free(raw);
    return s;
}

static void check_email(const char *mail, bool utf8_in) {
    const char *end = strstr(mail, "\r\n\r\n");
    if (!end)
        fuzz_fail("email without a header block: %.500s", mail);
    int seen[N_EMAIL_HEADERS] = {0};
    for (const char *line = mail; line <= end;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = (size_t)(eol - line);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)line[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                fuzz_fail("email header line with the control character 0x%02x: %.*s", c, (int)len,
                          line);
        }
        if (line[0] != ' ' && line[0] != '\t') {
            size_t i;
            for (i = 0; i < N_EMAIL_HEADERS; i++) {
                size_t n = strlen(email_headers[i]);
                if (len > n && strncmp(line, email_headers[i], n) == 0 && line[n] == ':')
                    break;
            }
            if (i == N_EMAIL_HEADERS)
                fuzz_fail("email header line tend does not write: %.*s", (int)len, line);
            if (++seen[i] > 1)
                fuzz_fail("email header %s twice", email_headers[i]);
        }
        line = eol + 2;
    }
    for (size_t i = 0; i < N_EMAIL_HEADERS; i++)
        if (!seen[i] && strcmp(email_headers[i], "X-Tend-Key") != 0)
            fuzz_fail("email without %s", email_headers[i]);
    for (const char *p = mail; *p;) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            fuzz_fail("email not ending in CRLF");
        if (memchr(p, '\n', (size_t)(eol - p)) || memchr(p, '\r', (size_t)(eol - p)))
            fuzz_fail("email with a bare CR or LF");
        if (eol - p > 998)
            fuzz_fail("email line of %zu bytes", (size_t)(eol - p));
        p = eol + 2;
    }
    char *text = email_part(mail, "text/plain"), *html = email_part(mail, "text/html");
    if (!text || !html)
        fuzz_fail("email without its text and HTML parts");
    if (strstr(html, FUZZ_MARKER))
        fuzz_fail("email HTML with data's \"" FUZZ_MARKER "\" unescaped: %.2000s", html);
    check_utf8("email text", text, strlen(text), utf8_in);
    check_utf8("email HTML", html, strlen(html), utf8_in);
    free(text);
    free(html);
}

static void check_json(const char *what, const char *out, bool utf8_in) {
    cJSON *j = cJSON_Parse(out);
    if (!cJSON_IsObject(j))
        fuzz_fail("%s is not a JSON object: %.500s", what, out);
    cJSON_Delete(j);
    check_utf8(what, out, strlen(out), utf8_in);
}

/* ---- the harness ---------------------------------------------------------------------------- */

static void render(const cJSON *snap, bool digest, const struct ctx_strings *cs, bool utf8_in) {
    struct message_ctx ctx = {.key = cs->key,
                              .base_url = cs->base_url,
                              .owner = cs->owner,
                              .owner_slack = cs->owner_slack,
                              .from = cs->from,
                              .to = cs->to,
                              .now_ms = NOW_MS};
    char *out = digest ? message_slack_digest(snap, &ctx) : message_slack(snap, &ctx);
    check_slack(out, utf8_in);
    free(out);
    out = digest ? message_email_digest(snap, &ctx) : message_email(snap, &ctx);
    check_email(out, utf8_in);
    free(out);
    out = digest ? message_webhook_digest(snap, &ctx) : message_webhook(snap, &ctx);
    check_json("webhook body", out, utf8_in);
    free(out);
    out = digest ? message_log_digest(snap, &ctx) : message_log(snap, &ctx);
    check_json("log line", out, utf8_in);
    if (strpbrk(out, "\r\n"))
        fuzz_fail("log line with a line break: %.500s", out);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024)
        return 0;
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (!root)
        return 0;
    struct ctx_strings cs;
    ctx_load(cJSON_GetObjectItemCaseSensitive(root, "_ctx"), &cs);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "_ctx");
    cJSON *snap = root;
    bool digest = cJSON_IsArray(root);
    cJSON *inner = cJSON_GetObjectItemCaseSensitive(root, "_digest");
    if (cJSON_IsArray(inner)) {
        snap = inner;
        digest = true;
    }
    render(snap, digest, &cs, fuzz_json_utf8(root) && ctx_utf8(&cs));
    fuzz_json_hostile(root->child, &hostile, false);
    ctx_hostile(&cs);
    render(snap, digest, &cs, fuzz_json_utf8(root) && ctx_utf8(&cs));
    ctx_free(&cs);
    cJSON_Delete(root);
    return 0;
}
