/* fuzz.c: the harnesses' shared helpers (see fuzz.h). */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sanitizer/common_interface_defs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_fail(const char *fmt, ...) {
    char msg[4096] = "tend fuzz invariant: ";
    size_t n = strlen(msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - n, fmt, ap);
    va_end(ap);
    /* Printed where the sanitizers print (libFuzzer's copy of stderr). */
    __sanitizer_report_error_summary(msg);
    abort();
}

static char dir[4096];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)flag, (void)f;
    remove(path);
    return 0;
}

static void remove_dir(void) {
    if (dir[0])
        nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_path(const char *name) {
    if (!dir[0]) {
        const char *base = getenv("FUZZ_TMPDIR");
        if (!base || !base[0])
            base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        if (!base || !base[0])
            base = "/tmp";
        snprintf(dir, sizeof dir, "%s/tend-fuzz.XXXXXX", base);
        if (!mkdtemp(dir)) {
            fprintf(stderr, "fuzz: cannot make a directory in %s: %s\n", base, strerror(errno));
            abort();
        }
        atexit(remove_dir);
    }
    static char path[sizeof dir + 256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

void fuzz_write_file(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        fuzz_fail("cannot write %s: %s", path, strerror(errno));
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w <= 0)
            fuzz_fail("cannot write %s: %s", path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    close(fd);
}

char *fuzz_strndup(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

bool fuzz_split(const uint8_t *data, size_t size, char **a, char **b) {
    const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
    size_t n = nul ? (size_t)(nul - data) : size;
    *a = fuzz_strndup(data, n);
    *b = nul ? fuzz_strndup(nul + 1, size - n - 1) : fuzz_strndup(data, 0);
    return nul != NULL;
}

bool fuzz_utf8_valid(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= len) /* a sequence cut short */
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

size_t fuzz_utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

char *fuzz_replace(const char *s, const char *from, const char *to) {
    size_t nf = strlen(from), nt = strlen(to), count = 0;
    if (!nf)
        abort();
    for (const char *p = s; (p = strstr(p, from)); p += nf)
        count++;
    char *out = malloc(strlen(s) + count * nt + 1);
    if (!out)
        abort();
    char *o = out;
    for (const char *p = s;;) {
        const char *q = strstr(p, from);
        if (!q) {
            strcpy(o, p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, nt);
        o += nt;
        p = q + nf;
    }
    return out;
}

bool fuzz_json_utf8(const cJSON *j) {
    for (; j; j = j->next) {
        if (j->string && !fuzz_utf8_valid(j->string, strlen(j->string)))
            return false;
        if (cJSON_IsString(j) && !fuzz_utf8_valid(j->valuestring, strlen(j->valuestring)))
            return false;
        if (j->child && !fuzz_json_utf8(j->child))
            return false;
    }
    return true;
}

static bool listed(const char *key, const char *const *list, size_t n) {
    for (size_t i = 0; key && i < n; i++)
        if (strcmp(key, list[i]) == 0)
            return true;
    return false;
}

char *fuzz_concat(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    char *t = malloc(a + b + 1);
    if (!t)
        abort();
    memcpy(t, s, a);
    memcpy(t + a, suffix, b + 1);
    return t;
}

void fuzz_json_hostile(cJSON *j, const struct fuzz_hostile *h, bool names) {
    for (; j; j = j->next) {
        if (names && j->string) {
            char *t = fuzz_concat(j->string, h->suffix);
            if (!(j->type & cJSON_StringIsConst))
                cJSON_free(j->string);
            j->string = t;
            j->type &= ~cJSON_StringIsConst;
        }
        if (cJSON_IsString(j) && !listed(j->string, h->words, h->n_words)) {
            char *t = fuzz_concat(j->valuestring, h->suffix);
            cJSON_SetValuestring(j, t);
            free(t);
        }
        if (j->child)
            fuzz_json_hostile(j->child, h, listed(j->string, h->maps, h->n_maps));
    }
}
