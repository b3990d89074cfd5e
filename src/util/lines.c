/* lines.c: capped line reader (see lines.h).
 *
 * Reads the file in 256 KiB blocks into a buffer of max_line_bytes + a block,
 * and hands out lines in place; a line that does not fit is consumed and
 * counted without being kept. */
#include "util/lines.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

#define LINES_BLOCK (256 * 1024)

struct line_reader {
    FILE *f;
    size_t max;
    char *buf;
    size_t cap;
    size_t start, end; /* unread bytes are buf[start, end) */
    bool eof;
    int64_t lineno;
    uint64_t offset;
};

struct line_reader *lines_new(FILE *f, size_t max_line_bytes) {
    struct line_reader *r = xcalloc(1, sizeof *r);
    r->f = f;
    r->max = max_line_bytes;
    r->cap = max_line_bytes + LINES_BLOCK + 1;
    r->buf = xmalloc(r->cap);
    return r;
}

void lines_free(struct line_reader *r) {
    if (!r)
        return;
    free(r->buf);
    free(r);
}

uint64_t lines_offset(const struct line_reader *r) {
    return r->offset;
}

/* Moves unread bytes to the front and reads more; false at EOF or error. */
static bool fill(struct line_reader *r) {
    if (r->eof)
        return false;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    size_t room = r->cap - 1 - r->end;
    if (room == 0)
        return false;
    size_t n = fread(r->buf + r->end, 1, room < LINES_BLOCK ? room : LINES_BLOCK, r->f);
    if (n == 0) {
        r->eof = true;
        return false;
    }
    r->end += n;
    return true;
}

enum tend_err lines_next(struct line_reader *r, const char **line, size_t *len, bool *too_long,
                         int64_t *lineno) {
    size_t scanned = 0;
    for (;;) {
        char *nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
        if (nl) {
            size_t n = (size_t)(nl - (r->buf + r->start));
            char *s = r->buf + r->start;
            r->start += n + 1;
            r->offset += n + 1;
            r->lineno++;
            if (n > 0 && s[n - 1] == '\r')
                n--;
            s[n] = '\0';
            if (n > r->max) {
                *line = "";
                *too_long = true;
            } else {
                *line = s;
                *too_long = false;
            }
            *len = n;
            *lineno = r->lineno;
            return TEND_OK;
        }
        scanned = r->end - r->start;
        if (scanned > r->max) {
            /* Too long: consume through the end of the line without keeping it,
             * remembering the byte before '\n' to leave a CR out of the length. */
            size_t total = scanned;
            char last = r->buf[r->end - 1];
            r->offset += scanned;
            r->start = r->end = 0;
            for (;;) {
                if (!fill(r))
                    break;
                nl = memchr(r->buf, '\n', r->end);
                if (nl) {
                    size_t n = (size_t)(nl - r->buf);
                    if (n > 0)
                        last = r->buf[n - 1];
                    total += n;
                    r->start = n + 1;
                    r->offset += n + 1;
                    break;
                }
                total += r->end;
                r->offset += r->end;
                last = r->buf[r->end - 1];
                r->start = r->end = 0;
            }
            if (last == '\r')
                total--;
            r->lineno++;
            *line = "";
            *len = total;
            *too_long = true;
            *lineno = r->lineno;
            return ferror(r->f) ? TEND_ERR_IO : TEND_OK;
        }
        if (!fill(r)) {
            if (ferror(r->f))
                return TEND_ERR_IO;
            if (r->end > r->start) { /* a last line without '\n' */
                size_t n = r->end - r->start;
                char *s = r->buf + r->start;
                r->offset += n;
                r->start = r->end;
                r->lineno++;
                if (n > 0 && s[n - 1] == '\r')
                    n--;
                s[n] = '\0';
                *line = s;
                *len = n;
                *too_long = false;
                *lineno = r->lineno;
                return TEND_OK;
            }
            return TEND_ERR_NOTFOUND;
        }
    }
}
