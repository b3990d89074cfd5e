/* message_email.c: a CTA or a digest as an email (see message.h): the
 * headers (RFC 5322, with RFC 2047 encoded words when not ASCII, no CR/LF
 * from user text), a stable Message-ID from the key, and a
 * multipart/alternative body of a plain text and an HTML part, both base64
 * and both written from the same content. */
#include "notify/message.h"

#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/message_int.h"
#include "util/datetime.h"
#include "util/mem.h"

#define EMAIL_MAX_SUBJECT 200 /* characters, before RFC 2047 encoding */
#define EMAIL_MAX_ADDRESS 300
#define EMAIL_LINE        76  /* base64 lines, and lines holding encoded words */
#define MESSAGE_ID_BYTES  200 /* a longer key is hashed */
/* Base64 text is [A-Za-z0-9+/] with '=' only at its end, so "=_" never occurs in a part. */
#define EMAIL_BOUNDARY "=_tend_alt"

static bool is_ascii(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* Returns s malloced as one header-safe line: control characters made spaces,
 * runs of spaces made one, trimmed, cut to max_chars. */
static char *header_clean(const char *s, size_t max_chars) {
    char *t = msg_plain_capped(s, max_chars);
    size_t n = 0;
    for (const char *p = t; *p; p++)
        if (*p != ' ' || (n > 0 && t[n - 1] != ' '))
            t[n++] = *p;
    while (n > 0 && t[n - 1] == ' ')
        n--;
    t[n] = '\0';
    return t;
}

/* Appends s as RFC 2047 encoded words (=?UTF-8?B?...?=), col being the
 * length of the line so far: each word within 75 characters and its line
 * within EMAIL_LINE, a new folded line per word, no character split. */
static void put_encoded_words(struct buf *b, size_t col, const char *s) {
    size_t len = strlen(s);
    for (size_t i = 0; i < len; col = 1) {
        if (i > 0)
            buf_puts(b, "\r\n ");
        size_t room = (EMAIL_LINE - col - 12) / 4 * 3; /* raw bytes; 12: =?UTF-8?B? ?= */
        size_t n = 0;
        while (i + n < len && n + msg_utf8_len(s + i + n) <= room)
            n += msg_utf8_len(s + i + n);
        gchar *enc = g_base64_encode((const guchar *)s + i, n);
        buf_printf(b, "=?UTF-8?B?%s?=", enc);
        g_free(enc);
        i += n;
    }
}

/* Appends printable ASCII folded before a space where a line would pass 78. */
static void put_folded(struct buf *b, size_t col, const char *s) {
    while (*s) {
        size_t n = strcspn(s + 1, " ") + 1; /* a word, with its leading space */
        if (*s == ' ' && col + n > 78) {
            buf_puts(b, "\r\n");
            col = 0;
        }
        buf_append(b, s, n);
        col += n;
        s += n;
    }
}

/* "Name: value\r\n" for an unstructured header (Subject, X-Tend-Key). */
static void put_header(struct buf *b, const char *name, const char *value) {
    char *t = header_clean(value, EMAIL_MAX_SUBJECT);
    buf_printf(b, "%s: ", name);
    if (is_ascii(t))
        put_folded(b, strlen(name) + 2, t);
    else
        put_encoded_words(b, strlen(name) + 2, t);
    buf_puts(b, "\r\n");
    free(t);
}

/* "From: ..." or "To: ..." with an address from the configuration; a non-ASCII
 * display name ("Zoë <z@example.com>") is encoded. */
static void put_address(struct buf *b, const char *name, const char *addr) {
    char *t = header_clean(addr, EMAIL_MAX_ADDRESS);
    const char *lt = strrchr(t, '<');
    buf_printf(b, "%s: ", name);
    if (is_ascii(t) || !lt || lt == t || !is_ascii(lt)) {
        buf_puts(b, t);
    } else {
        size_t n = (size_t)(lt - t);
        while (n > 0 && t[n - 1] == ' ')
            n--;
        char *display = xstrndup(t, n);
        put_encoded_words(b, strlen(name) + 2, display);
        buf_printf(b, " %s", lt);
        free(display);
    }
    buf_puts(b, "\r\n");
    free(t);
}

/* The domain of the From address ("tend <t@example.com>" -> example.com), or
 * tend.localhost when it has none that is a plain host name. */
static void from_domain(const char *from, char out[256]) {
    const char *at = from ? strrchr(from, '@') : NULL;
    size_t n = at ? strcspn(at + 1, "> \t") : 0;
    bool ok = n > 0 && n < 256 && at[1] != '.';
    for (size_t i = 0; ok && i < n; i++)
        ok = g_ascii_isalnum(at[1 + i]) || at[1 + i] == '.' || at[1 + i] == '-';
    snprintf(out, 256, "%.*s", ok ? (int)n : 14, ok ? at + 1 : "tend.localhost");
}

/* "Message-ID: <KEY@domain>": the key's letters, digits, '-', '_' and inner
 * single dots kept, every other byte written =XX (so two keys never share an
 * id); a key too long for that is replaced by its SHA-256. */
static void put_message_id(struct buf *b, const struct message_ctx *ctx, const char *domain) {
    struct buf id;
    buf_init(&id, MESSAGE_ID_BYTES);
    const char *k = ctx->key;
    enum tend_err err = k ? TEND_OK : buf_printf(&id, "tend.%" PRId64, ctx->now_ms);
    for (size_t i = 0; !err && k && k[i]; i++) {
        unsigned char c = (unsigned char)k[i];
        bool dot = c == '.' && i > 0 && k[i + 1] && k[i - 1] != '.';
        err = g_ascii_isalnum(c) || c == '-' || c == '_' || dot ? buf_putc(&id, (char)c)
                                                                : buf_printf(&id, "=%02X", c);
    }
    if (err) {
        gchar *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, k, -1);
        buf_reset(&id);
        buf_printf(&id, "sha256.%s", sum);
        g_free(sum);
    }
    buf_printf(b, "Message-ID: <%s@%s>\r\n", buf_str(&id), domain);
    buf_free(&id);
}

/* "Date: Thu, 19 Nov 2026 09:00:00 +0000" */
static void put_date(struct buf *b, int64_t ms) {
    static const char *const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int32_t day = dt_day_of_ms(ms);
    int64_t s = (ms - (int64_t)day * DT_MS_PER_DAY) / 1000;
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[((day % 7) + 7) % 7], d,
               months[m - 1], y, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

/* One MIME part, base64 in lines of EMAIL_LINE. */
static void put_part(struct buf *b, const char *type, const char *body) {
    buf_printf(b,
               "--" EMAIL_BOUNDARY "\r\nContent-Type: %s; charset=utf-8\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n",
               type);
    gchar *enc = g_base64_encode((const guchar *)body, strlen(body));
    for (size_t i = 0, n = strlen(enc); i < n; i += EMAIL_LINE) {
        buf_append(b, enc + i, n - i < EMAIL_LINE ? n - i : EMAIL_LINE);
        buf_puts(b, "\r\n");
    }
    g_free(enc);
}

/* The whole message around a plain subject, a text body (CRLF) and a whole
 * HTML page; unsubscribe (NULL: none) adds List-Unsubscribe and its RFC 8058
 * one-click List-Unsubscribe-Post. */
static char *email_assemble(const struct message_ctx *ctx, const char *subject, const char *text,
                            const char *page, const char *unsubscribe) {
    char domain[256];
    from_domain(ctx->from, domain);
    struct buf b;
    buf_init(&b, 0);
    if (ctx->from)
        put_address(&b, "From", ctx->from);
    else
        buf_printf(&b, "From: tend <tend@%s>\r\n", domain);
    if (ctx->to)
        put_address(&b, "To", ctx->to);
    else
        buf_puts(&b, "To: undisclosed-recipients:;\r\n");
    put_header(&b, "Subject", subject);
    put_date(&b, ctx->now_ms);
    put_message_id(&b, ctx, domain);
    if (ctx->key)
        put_header(&b, "X-Tend-Key", ctx->key);
    if (unsubscribe) {
        buf_printf(&b, "List-Unsubscribe: <%s>\r\n", unsubscribe);
        buf_puts(&b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    }
    buf_puts(&b, "MIME-Version: 1.0\r\n"
                 "Content-Type: multipart/alternative; boundary=\"" EMAIL_BOUNDARY "\"\r\n"
                 "\r\n");
    put_part(&b, "text/plain", text);
    put_part(&b, "text/html", page);
    buf_puts(&b, "--" EMAIL_BOUNDARY "--\r\n");
    return buf_steal(&b);
}

/* The whole message around a plain subject and the two rendered bodies (text
 * with CRLF, an HTML fragment); frees both bodies' buffers. */
static char *email_build(const struct message_ctx *ctx, const char *subject, struct out *text,
                         struct out *html) {
    char *page = g_strdup_printf("<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"></head>"
                                 "\r\n<body><p>%s</p></body></html>\r\n",
                                 buf_str(&html->b));
    char *msg = email_assemble(ctx, subject, buf_str(&text->b), page, NULL);
    g_free(page);
    buf_free(&text->b);
    buf_free(&html->b);
    return msg;
}

/* A text with bare LF line ends made CRLF. */
static char *crlf(const char *s) {
    struct buf b;
    buf_init(&b, 0);
    for (; *s; s++) {
        if (*s == '\n' && (b.len == 0 || buf_str(&b)[b.len - 1] != '\r'))
            buf_putc(&b, '\r');
        buf_putc(&b, *s);
    }
    return buf_steal(&b);
}

static const char *member_text(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *message_email_customer(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(snapshot, "customer");
    const char *subject = member_text(c, "subject"), *text = member_text(c, "text"),
               *html = member_text(c, "html"), *unsub = member_text(c, "unsubscribe_url");
    struct message_ctx x = *ctx;
    if (member_text(c, "from"))
        x.from = member_text(c, "from");
    char *body = crlf(text ? text : "");
    char *page = g_strdup_printf("<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"></head>"
                                 "\r\n<body>%s</body></html>\r\n",
                                 html ? html : "");
    /* the url is tend's own (base_url, a base64url token): no spaces or brackets */
    bool ok = unsub && !strpbrk(unsub, " <>\r\n\t");
    char *msg = email_assemble(&x, subject ? subject : "", body, page, ok ? unsub : NULL);
    g_free(page);
    free(body);
    return msg;
}

char *message_email(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    struct view v;
    msg_view_init(&v, snapshot, ctx);
    struct out subject, text, html;
    msg_out_init(&subject, ESC_PLAIN, " ");
    msg_put_raw(&subject, "[tend] ");
    msg_put_headline(&subject, &v, false);
    msg_out_init(&text, ESC_PLAIN, "\r\n");
    msg_put_body(&text, &v, ctx);
    msg_out_init(&html, ESC_HTML, "<br>\r\n");
    msg_put_body(&html, &v, ctx);
    msg_view_free(&v);
    char *msg = email_build(ctx, buf_str(&subject.b), &text, &html);
    buf_free(&subject.b);
    return msg;
}

char *message_email_digest(const cJSON *snapshots, const struct message_ctx *ctx) {
    ctx = msg_ctx_or_none(ctx);
    struct out subject, text, html;
    msg_out_init(&subject, ESC_PLAIN, " ");
    msg_put_raw(&subject, "[tend] Daily digest: ");
    msg_put_digest_title(&subject, msg_digest_count(snapshots), ctx->owner);
    msg_out_init(&text, ESC_PLAIN, "\r\n");
    msg_put_digest(&text, snapshots, ctx, EMAIL_MAX_ITEMS);
    msg_out_init(&html, ESC_HTML, "<br>\r\n");
    msg_put_digest(&html, snapshots, ctx, EMAIL_MAX_ITEMS);
    char *msg = email_build(ctx, buf_str(&subject.b), &text, &html);
    buf_free(&subject.b);
    return msg;
}
