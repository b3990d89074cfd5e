/* lines.h: reading a file line by line with a cap on the line length.
 *
 * Memory stays at one buffer of max_line_bytes whatever the file holds: a line
 * longer than that is skipped to its end and reported as too long, never
 * buffered. Lines end at '\n'; a '\r' before it is removed. */
#ifndef TEND_UTIL_LINES_H
#define TEND_UTIL_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct line_reader;

/* Reads from f (borrowed), lines of at most max_line_bytes. */
struct line_reader *lines_new(FILE *f, size_t max_line_bytes);
void lines_free(struct line_reader *r);

/* The next line: *line (owned by r, valid until the next call; NUL-terminated),
 * *len, and *too_long (then *line is empty and *len is the true length, or at
 * least max_line_bytes + 1). Returns TEND_ERR_NOTFOUND at the end of the file,
 * TEND_ERR_IO on a read error. *lineno counts from 1. */
enum tend_err lines_next(struct line_reader *r, const char **line, size_t *len, bool *too_long,
                         int64_t *lineno);
/* Bytes consumed so far (for progress). */
uint64_t lines_offset(const struct line_reader *r);

#endif
