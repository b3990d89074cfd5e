/* log.h: the server's log: one line per call, control characters escaped.
 *
 * tend serve writes its log to stderr, and parts of the lines come from
 * outside (an account's groupId, a webhook's error text, a rule's message).
 * A newline inside such a part would start a second line that a reader, or
 * a log shipper, takes for one tend wrote: a forged line. log_printf formats
 * the whole line, escapes every C0 control character, DEL and the backslash
 * (\n \r \t \\, others \xNN), so one call is always exactly one line, and
 * an escape in the log always means the byte was in the data. The line is
 * written with one write so lines of different threads never interleave. It
 * is not a logging framework: no levels, no timestamps (the service manager
 * adds those). */
#ifndef TEND_UTIL_LOG_H
#define TEND_UTIL_LOG_H

#include <stddef.h>

/* Longest line written, escapes included; a longer one is cut and ends in
 * "...". */
#define LOG_MAX_LINE_BYTES 4096

/* Formats fmt and writes it to stderr as one line (the newline is added). */
void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Escapes the n bytes at in into out (size bytes, NUL-terminated) as
 * log_printf does; a text that does not fit is cut at a whole escape and
 * ends in "...". Returns the length written. */
size_t log_escape(const char *in, size_t n, char *out, size_t size);

#endif
