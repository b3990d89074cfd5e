/* buf.c: capped growable buffer (see buf.h). */
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

#include "util/mem.h"

void buf_init(struct buf *b, size_t max_bytes) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max_bytes = max_bytes;
}

void buf_free(struct buf *b) {
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b) {
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for n more bytes plus the NUL. */
static enum tend_err buf_reserve(struct buf *b, size_t n) {
    if (b->max_bytes && (n > b->max_bytes || b->len > b->max_bytes - n))
        return TEND_ERR_LIMIT;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return TEND_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    return TEND_OK;
}

enum tend_err buf_append(struct buf *b, const void *p, size_t n) {
    enum tend_err err = buf_reserve(b, n);
    if (err)
        return err;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return TEND_OK;
}

enum tend_err buf_puts(struct buf *b, const char *s) {
    return buf_append(b, s, strlen(s));
}

enum tend_err buf_putc(struct buf *b, char c) {
    return buf_append(b, &c, 1);
}

enum tend_err buf_vprintf(struct buf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return TEND_ERR_INVALID;
    enum tend_err err = buf_reserve(b, (size_t)n);
    if (err)
        return err;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return TEND_OK;
}

enum tend_err buf_printf(struct buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    enum tend_err err = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return err;
}

const char *buf_str(const struct buf *b) {
    return b->data ? b->data : "";
}

char *buf_steal(struct buf *b) {
    char *s = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}
