/* log.c: one escaped line per call (see log.h). */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Writes ch's form in the log into e (at most 4 bytes); returns its length. */
static size_t escape_byte(unsigned char ch, char *e) {
    static const char hex[] = "0123456789abcdef";
    switch (ch) {
    case '\n':
        memcpy(e, "\\n", 2);
        return 2;
    case '\r':
        memcpy(e, "\\r", 2);
        return 2;
    case '\t':
        memcpy(e, "\\t", 2);
        return 2;
    case '\\':
        memcpy(e, "\\\\", 2);
        return 2;
    }
    if (ch < 0x20 || ch == 0x7f) {
        e[0] = '\\';
        e[1] = 'x';
        e[2] = hex[ch >> 4];
        e[3] = hex[ch & 15];
        return 4;
    }
    e[0] = (char)ch;
    return 1;
}

size_t log_escape(const char *in, size_t n, char *out, size_t size) {
    if (size == 0)
        return 0;
    size_t room = size - 1, o = 0, i = 0, k;
    size_t keep = room >= 3 ? room - 3 : 0; /* what may be used while "..." may follow */
    char e[4];
    for (; i < n; i++) {
        k = escape_byte((unsigned char)in[i], e);
        if (o + k > keep)
            break;
        memcpy(out + o, e, k);
        o += k;
    }
    if (i < n) {
        size_t rest = 0;
        for (size_t j = i; j < n && o + rest <= room; j++)
            rest += escape_byte((unsigned char)in[j], e);
        if (o + rest <= room) { /* the rest fits whole: no cut */
            for (; i < n; i++) {
                k = escape_byte((unsigned char)in[i], e);
                memcpy(out + o, e, k);
                o += k;
            }
        } else {
            size_t dots = room - o < 3 ? room - o : 3;
            memcpy(out + o, "...", dots);
            o += dots;
        }
    }
    out[o] = '\0';
    return o;
}

void log_printf(const char *fmt, ...) {
    char raw[LOG_MAX_LINE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n;
    if (len >= sizeof raw) { /* cut by the formatting: say so */
        len = sizeof raw - 1;
        memcpy(raw + len - 3, "...", 3);
    }
    char line[LOG_MAX_LINE_BYTES + 1];
    size_t out = log_escape(raw, len, line, LOG_MAX_LINE_BYTES);
    line[out++] = '\n';
    /* One write: lines of concurrent threads never interleave. */
    const char *p = line;
    while (out > 0) {
        ssize_t w = write(STDERR_FILENO, p, out);
        if (w <= 0)
            return;
        p += w;
        out -= (size_t)w;
    }
}
