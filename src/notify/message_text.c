/* message_text.c: struct out, the text of one medium (see message_int.h):
 * how it escapes user text (mrkdwn, HTML, plain), breaks a line, makes a
 * label bold and writes a link, with every cap counted in output characters
 * after escaping so that a cut never splits a UTF-8 character, an entity or
 * a link and always ends in "…". Also print_json, the one way a medium's
 * JSON document is printed. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/message_int.h"
#include "util/mem.h"

#define BROKEN_BAR "\xc2\xa6" /* ¦ stands for | in a Slack link label */

void msg_out_init(struct out *o, enum esc esc, const char *nl) {
    buf_init(&o->b, 0); /* bounded by the caps of what is written */
    o->esc = esc;
    o->nl = nl;
}

/* The byte length of the UTF-8 character at p (1 for a stray byte); never
 * passes a NUL. */
size_t msg_utf8_len(const char *p) {
    unsigned char c = (unsigned char)*p;
    size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 1;
    for (size_t i = 1; i < n; i++)
        if (((unsigned char)p[i] & 0xc0) != 0x80)
            return i;
    return n;
}

static size_t utf8_count(const char *s, size_t n) {
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    return chars;
}

/* What the character at p becomes in mode m, or NULL when it stays as it is.
 * Control characters become spaces everywhere: user text is one line. */
static const char *esc_of(enum esc m, const char *p) {
    unsigned char c = (unsigned char)*p;
    if (c < ' ' || c == 0x7f)
        return " ";
    bool markup = m != ESC_PLAIN;
    switch (c) {
    case '&':
        return markup ? "&amp;" : NULL;
    case '<':
        return markup ? "&lt;" : NULL;
    case '>':
        return markup ? "&gt;" : NULL;
    case '"':
        return m == ESC_HTML ? "&quot;" : NULL;
    case '\'':
        return m == ESC_HTML ? "&#39;" : NULL;
    case '|':
        return m == ESC_LABEL ? BROKEN_BAR : NULL;
    default:
        return NULL;
    }
}

/* Appends s escaped for m, at most max_chars (>= 1) characters of output; when
 * s does not fit, as much as fits whole followed by "…". */
static void put_esc(struct buf *b, enum esc m, const char *s, size_t max_chars) {
    size_t total = 0, used = 0;
    for (const char *p = s; *p && total <= max_chars; p += msg_utf8_len(p)) {
        const char *e = esc_of(m, p);
        total += e ? utf8_count(e, strlen(e)) : 1;
    }
    size_t room = total <= max_chars ? total : max_chars - 1;
    for (const char *p = s; *p; p += msg_utf8_len(p)) {
        const char *e = esc_of(m, p);
        size_t c = e ? utf8_count(e, strlen(e)) : 1;
        if (used + c > room)
            break;
        if (e)
            buf_puts(b, e);
        else
            buf_append(b, p, msg_utf8_len(p));
        used += c;
    }
    if (total > max_chars)
        buf_puts(b, ELLIPSIS);
}

/* Returns a malloced copy of s made one line and cut to max_chars. */
char *msg_plain_capped(const char *s, size_t max_chars) {
    struct buf b;
    buf_init(&b, 0);
    put_esc(&b, ESC_PLAIN, s, max_chars);
    return buf_steal(&b);
}

/* Cuts b to at most max_chars characters: at the last line break that leaves
 * room for "\n…", so no entity, link or markup is split; mid-line, at a
 * character boundary, only when the first line alone is too long. */
void msg_cap_lines(struct buf *b, size_t max_chars) {
    if (utf8_count(b->data, b->len) <= max_chars)
        return;
    size_t off = 0;
    for (size_t chars = 0; chars + 2 < max_chars && off < b->len; chars++)
        off += msg_utf8_len(b->data + off);
    size_t cut = off;
    while (cut > 0 && b->data[cut] != '\n')
        cut--;
    b->len = cut > 0 ? cut : off;
    b->data[b->len] = '\0';
    buf_puts(b, cut > 0 ? "\n" ELLIPSIS : ELLIPSIS);
}

/* Drops what was written after the first len bytes. */
void msg_out_truncate(struct out *o, size_t len) {
    o->b.len = len;
    if (o->b.data)
        o->b.data[len] = '\0';
}

void msg_put_raw(struct out *o, const char *s) {
    buf_puts(&o->b, s);
}

/* User text, escaped for o's medium and capped. */
void msg_put_text(struct out *o, const char *s, size_t max_chars) {
    put_esc(&o->b, o->esc, s, max_chars);
}

/* User text with its first letter upper-cased ("high" -> "High"). */
void msg_put_capitalized(struct out *o, const char *s, size_t max_chars) {
    if (g_ascii_islower(*s)) {
        buf_putc(&o->b, g_ascii_toupper(*s++));
        max_chars--;
    }
    msg_put_text(o, s, max_chars);
}

void msg_put_bold(struct out *o, bool open) {
    if (o->esc == ESC_HTML)
        msg_put_raw(o, open ? "<b>" : "</b>");
    else if (o->esc != ESC_PLAIN)
        msg_put_raw(o, "*");
}

/* Starts a line (a break unless o is empty), with a bold "label: " if given. */
void msg_put_line(struct out *o, const char *label) {
    if (o->b.len)
        msg_put_raw(o, o->nl);
    if (label) {
        msg_put_bold(o, true);
        msg_put_raw(o, label);
        msg_put_raw(o, ":");
        msg_put_bold(o, false);
        msg_put_raw(o, " ");
    }
}

/* Starts a line with a bold heading of our own ("Evidence"). */
void msg_put_heading(struct out *o, const char *text) {
    msg_put_line(o, NULL);
    msg_put_bold(o, true);
    msg_put_raw(o, text);
    msg_put_bold(o, false);
}

/* label (user text) linked to url (from make_url, so safe as it is in every
 * medium); just the label when url is NULL. */
void msg_put_link(struct out *o, const char *url, const char *label, size_t max_chars) {
    if (!url) {
        msg_put_text(o, label, max_chars);
    } else if (o->esc == ESC_HTML) {
        buf_printf(&o->b, "<a href=\"%s\">", url);
        msg_put_text(o, label, max_chars);
        msg_put_raw(o, "</a>");
    } else if (o->esc == ESC_PLAIN) {
        msg_put_text(o, label, max_chars);
        buf_printf(&o->b, " <%s>", url);
    } else {
        buf_printf(&o->b, "<%s|", url);
        put_esc(&o->b, ESC_LABEL, label, max_chars);
        msg_put_raw(o, ">");
    }
}

/* Prints j without whitespace and deletes it; returns a malloced string. */
char *msg_print_json(cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s)
        abort(); /* out of memory, as xmalloc */
    char *r = xstrdup(s);
    cJSON_free(s);
    return r;
}
