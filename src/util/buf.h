/* buf.h: a growable byte buffer with a hard cap.
 *
 * Every string whose size comes from input (a request body, a line of a file,
 * an error list) is built in a struct buf whose max_bytes is set from the
 * published limit, so a hostile input gets TEND_ERR_LIMIT instead of memory.
 * The content is always NUL-terminated (data[len] == 0) once anything was added. */
#ifndef TEND_UTIL_BUF_H
#define TEND_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util/err.h"

struct buf {
    char *data;       /* malloced; NULL until the first append */
    size_t len;       /* bytes used, not counting the NUL */
    size_t cap;       /* bytes allocated */
    size_t max_bytes; /* appends that would exceed this fail; 0 means no cap */
};

/* Initialises b empty with the given cap (0: none). Allocates nothing. */
void buf_init(struct buf *b, size_t max_bytes);
/* Frees the content; b may be reused after buf_init. Accepts NULL. */
void buf_free(struct buf *b);
/* Empties b, keeping its memory. */
void buf_reset(struct buf *b);
/* Appends n bytes; TEND_ERR_LIMIT (b unchanged) when the cap would be passed. */
enum tend_err buf_append(struct buf *b, const void *p, size_t n);
enum tend_err buf_puts(struct buf *b, const char *s);
enum tend_err buf_putc(struct buf *b, char c);
enum tend_err buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum tend_err buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Returns the content as a C string ("" when empty); owned by b. */
const char *buf_str(const struct buf *b);
/* Takes the content: returns a malloced string the caller frees, leaves b empty. */
char *buf_steal(struct buf *b);

#endif
