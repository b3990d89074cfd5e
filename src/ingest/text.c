/* text.c: what text ingest accepts (see text.h).
 *
 * UTF-8 is checked with glib's g_utf8_validate (RFC 3629), the control
 * characters of ids by a byte scan (in valid UTF-8, U+0080-U+009F are exactly
 * the pairs C2 80-C2 9F).
 *
 * NUL needs the JSON text: cJSON decodes "a\u0000b" (and a raw NUL byte inside
 * a string) into the C string "a", so the tree alone cannot tell "a" from
 * "a\u0000b". text_parse_json() scans the text for strings holding a NUL
 * (only when the text holds a NUL byte or the six bytes \u0000 at all, so the
 * common case costs two memchr-speed passes), numbers them in document order
 * (keys and values, as cJSON keeps them), and appends the invalid pair C0 80
 * to the same strings of the tree: a cut string then fails the UTF-8 check
 * with its path and the byte where it was cut, in the one walk that checks
 * everything else. */
#include "ingest/text.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

#define TEXT_PATH_BYTES  128
#define TEXT_QUOTE_BYTES 40

enum text_problem { TEXT_OK, TEXT_BAD_UTF8, TEXT_NUL, TEXT_CONTROL, TEXT_DEEP };

/* The first problem of s, at byte *at (0-based); for a control character
 * its code point in *cp. Controls count only when id is set. ASCII, the
 * common case, is checked byte by byte; glib validates from the first byte
 * above 0x7F. */
static enum text_problem problem_of(const char *s, bool id, size_t *at, unsigned *cp) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;
    if (id) {
        for (;; i++) {
            unsigned char c = u[i];
            if (c == 0)
                return TEXT_OK;
            if (c >= 0x80)
                break;
            if (c < 0x20 || c == 0x7F) {
                *at = i;
                *cp = c;
                return TEXT_CONTROL;
            }
        }
        n = i + strlen(s + i);
    } else {
        /* Free text can be long: eight bytes at a time up to the first one
         * with the high bit set. */
        n = strlen(s);
        for (; i + 8 <= n; i += 8) {
            uint64_t x;
            memcpy(&x, u + i, 8);
            if (x & 0x8080808080808080ULL)
                break;
        }
        while (i < n && u[i] < 0x80)
            i++;
        if (i == n)
            return TEXT_OK;
    }
    const char *end;
    if (!g_utf8_validate(s + i, (gssize)(n - i), &end)) {
        *at = (size_t)(end - s);
        /* end[0] is not the terminator here, so end[1] is readable. */
        if ((unsigned char)end[0] == 0xC0 && (unsigned char)end[1] == 0x80)
            return TEXT_NUL;
        return TEXT_BAD_UTF8;
    }
    if (!id)
        return TEXT_OK;
    for (; i < n; i++) {
        unsigned char c = u[i];
        if (c < 0x20 || c == 0x7F) {
            *at = i;
            *cp = c;
            return TEXT_CONTROL;
        }
        if (c == 0xC2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F) {
            *at = i;
            *cp = u[i + 1];
            return TEXT_CONTROL;
        }
    }
    return TEXT_OK;
}

/* Writes the reason for problem p at byte at (0-based) after prefix. */
static void explain(char *err, size_t errlen, const char *prefix, enum text_problem p, size_t at,
                    unsigned cp) {
    switch (p) {
    case TEXT_BAD_UTF8:
        snprintf(err, errlen, "%s: invalid UTF-8 at byte %zu", prefix, at + 1);
        break;
    case TEXT_NUL:
        snprintf(err, errlen, "%s: a NUL character (\\u0000) at byte %zu; no text may contain one",
                 prefix, at + 1);
        break;
    case TEXT_CONTROL:
        snprintf(err, errlen,
                 "%s: a control character (U+%04X) at byte %zu; ids and keys may not contain "
                 "one",
                 prefix, cp, at + 1);
        break;
    case TEXT_OK:
    case TEXT_DEEP:
        break;
    }
}

bool text_check_id(const char *s, const char *path, char *err, size_t errlen) {
    size_t at = 0;
    unsigned cp = 0;
    enum text_problem p = problem_of(s, true, &at, &cp);
    if (p == TEXT_OK)
        return true;
    explain(err, errlen, path, p, at, cp);
    return false;
}

/* Length of the valid UTF-8 character at s (n bytes left), 0 when there is
 * none. */
static size_t char_len(const char *s, size_t n) {
    gunichar c = g_utf8_get_char_validated(s, (gssize)n);
    if (c == (gunichar)-1 || c == (gunichar)-2)
        return 0;
    return (size_t)g_utf8_skip[(unsigned char)s[0]];
}

const char *text_quote(const char *s, size_t max_bytes, char *out, size_t n) {
    size_t o = 0, i = 0, len = strlen(s);
    bool cut = false;
    if (n < 8) {
        if (n)
            out[0] = '\0';
        return out;
    }
    out[o++] = '"';
    while (i < len) {
        char piece[16];
        size_t used = 1;
        unsigned char c = (unsigned char)s[i];
        size_t cl = c < 0x80 ? 1 : char_len(s + i, len - i);
        if (c == '"' || c == '\\') {
            snprintf(piece, sizeof piece, "\\%c", c);
        } else if (c == '\n') {
            snprintf(piece, sizeof piece, "\\n");
        } else if (c == '\t') {
            snprintf(piece, sizeof piece, "\\t");
        } else if (c < 0x20 || c == 0x7F) {
            snprintf(piece, sizeof piece, "\\u%04X", c);
        } else if (c < 0x80) {
            piece[0] = (char)c;
            piece[1] = '\0';
        } else if (cl == 0) {
            snprintf(piece, sizeof piece, "\\x%02X", c);
        } else if (c == 0xC2 && (unsigned char)s[i + 1] <= 0x9F) {
            snprintf(piece, sizeof piece, "\\u%04X", (unsigned char)s[i + 1]);
            used = 2;
        } else {
            memcpy(piece, s + i, cl);
            piece[cl] = '\0';
            used = cl;
        }
        size_t pl = strlen(piece);
        /* Room for the piece, then "...", the quote and the NUL. */
        if (i + used > max_bytes || o + pl + 5 > n) {
            cut = true;
            break;
        }
        memcpy(out + o, piece, pl);
        o += pl;
        i += used;
    }
    if (cut) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* ---- the walk -------------------------------------------------------------
 *
 * The walk finds the first problem without building any path: it keeps the
 * chain of nodes from the top down (cJSON parses at most 1,000 levels, so a
 * fixed stack holds it) and writes the path only for the error. */

#define TEXT_MAX_DEPTH 1024

struct walk {
    const cJSON *chain[TEXT_MAX_DEPTH]; /* chain[0] the top; chain[depth] the node */
    size_t depth;
    bool in_key; /* the problem is in chain[depth]'s key, not its value */
    enum text_problem problem;
    size_t at;
    unsigned cp;
};

/* Finds the first problem at or under v (chain[w->depth]); false when found,
 * the chain then ending at the node that has it. */
static bool walk(struct walk *w, const cJSON *v) {
    if (cJSON_IsString(v)) {
        w->problem = problem_of(v->valuestring, false, &w->at, &w->cp);
        return w->problem == TEXT_OK;
    }
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return true;
    if (w->depth + 1 >= TEXT_MAX_DEPTH) {
        w->problem = TEXT_DEEP;
        return false;
    }
    w->depth++;
    for (const cJSON *c = v->child; c; c = c->next) {
        w->chain[w->depth] = c;
        if (c->string) {
            w->problem = problem_of(c->string, true, &w->at, &w->cp);
            if (w->problem != TEXT_OK) {
                w->in_key = true;
                return false;
            }
        }
        if (!walk(w, c))
            return false;
    }
    w->depth--;
    return true;
}

/* Appends s to path (len bytes used of TEXT_PATH_BYTES); when it would not
 * fit, as much as fits, cut at a character boundary, then "..." and nothing
 * more. s is valid UTF-8 (a key on the way to a problem is a good one). */
static void path_add(char *path, size_t *len, bool *full, const char *s) {
    if (*full)
        return;
    const size_t limit = TEXT_PATH_BYTES - 4; /* room for "..." and the NUL */
    size_t n = strlen(s);
    if (*len + n > limit) {
        n = limit - *len;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        *full = true;
    }
    memcpy(path + *len, s, n);
    *len += n;
    if (*full) {
        memcpy(path + *len, "...", 3);
        *len += 3;
    }
    path[*len] = '\0';
}

/* Writes the error of the problem w found, its path starting with top. */
static void explain_walk(const struct walk *w, const char *top, char *err, size_t errlen) {
    char path[TEXT_PATH_BYTES];
    size_t len = 0;
    bool full = false;
    path[0] = '\0';
    path_add(path, &len, &full, top);
    /* A key's problem is shown at the object that holds it. */
    size_t last = w->in_key ? w->depth - 1 : w->depth;
    for (size_t k = 1; k <= last; k++) {
        const cJSON *c = w->chain[k];
        if (c->string) {
            if (len)
                path_add(path, &len, &full, ".");
            path_add(path, &len, &full, c->string);
        } else {
            size_t i = 0;
            for (const cJSON *x = w->chain[k - 1]->child; x && x != c; x = x->next)
                i++;
            char index[24];
            snprintf(index, sizeof index, "[%zu]", i);
            path_add(path, &len, &full, index);
        }
    }
    const char *where = len ? path : "message";
    if (w->problem == TEXT_DEEP) {
        snprintf(err, errlen, "%s: nested more than %d levels deep", where, TEXT_MAX_DEPTH);
        return;
    }
    if (!w->in_key) {
        explain(err, errlen, where, w->problem, w->at, w->cp);
        return;
    }
    /* Only the part of the key before the problem is shown: it is valid. */
    const char *key = w->chain[w->depth]->string;
    char head[TEXT_QUOTE_BYTES + 1], quoted[TEXT_QUOTE_BYTES * 6 + 8],
        prefix[TEXT_PATH_BYTES + 400];
    size_t hn = w->at < TEXT_QUOTE_BYTES ? w->at : TEXT_QUOTE_BYTES;
    memcpy(head, key, hn);
    head[hn] = '\0';
    if (hn)
        snprintf(prefix, sizeof prefix, "%s: the key starting %s", where,
                 text_quote(head, TEXT_QUOTE_BYTES, quoted, sizeof quoted));
    else
        snprintf(prefix, sizeof prefix, "%s: a key", where);
    explain(err, errlen, prefix, w->problem, w->at, w->cp);
}

bool text_check_tree(const cJSON *v, const char *path, char *err, size_t errlen) {
    /* 8 KiB on the stack, not zeroed: only chain[0..depth] is ever read. */
    struct walk w;
    w.depth = 0;
    w.in_key = false;
    w.problem = TEXT_OK;
    w.chain[0] = v;
    if (walk(&w, v))
        return true;
    explain_walk(&w, path, err, errlen);
    return false;
}

/* ---- NUL ------------------------------------------------------------------ */

/* Ordinals (in document order, keys and values alike) of the strings of
 * the JSON text that hold a NUL, raw or as \u0000. The text is valid JSON
 * (cJSON parsed it), so outside strings there are no backslashes and every
 * double quote opens a string. */
struct nul_marks {
    size_t *ord;
    size_t n, cap;
};

static void find_nul_strings(const char *t, size_t len, struct nul_marks *m) {
    size_t ord = 0;
    bool in = false, has = false;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (!in) {
            if (c == '"') {
                in = true;
                has = false;
            }
            continue;
        }
        if (c == '\\') {
            if (i + 5 < len && t[i + 1] == 'u' && memcmp(t + i + 2, "0000", 4) == 0)
                has = true;
            i++; /* the escaped character; hex digits need no skipping */
        } else if (c == '\0') {
            has = true;
        } else if (c == '"') {
            if (has) {
                if (m->n == m->cap) {
                    m->cap = m->cap ? m->cap * 2 : 8;
                    m->ord = xrealloc(m->ord, m->cap * sizeof *m->ord);
                }
                m->ord[m->n++] = ord;
            }
            ord++;
            in = false;
        }
    }
}

/* Appends C0 80 to the cJSON-allocated string *s. */
static void append_marker(char **s) {
    size_t n = strlen(*s);
    char *p = cJSON_malloc(n + 3);
    if (!p)
        abort();
    memcpy(p, *s, n);
    p[n] = (char)0xC0;
    p[n + 1] = (char)0x80;
    p[n + 2] = '\0';
    cJSON_free(*s);
    *s = p;
}

struct marking {
    const struct nul_marks *m;
    size_t next; /* the next mark to place */
    size_t ord;  /* the ordinal of the next string of the tree */
};

static bool take(struct marking *k) {
    bool hit = k->next < k->m->n && k->m->ord[k->next] == k->ord;
    if (hit)
        k->next++;
    k->ord++;
    return hit;
}

static void mark_tree(cJSON *v, struct marking *k) {
    for (cJSON *c = v->child; c && k->next < k->m->n; c = c->next) {
        if (c->string && take(k) && !(c->type & cJSON_StringIsConst))
            append_marker(&c->string);
        if (cJSON_IsString(c)) {
            if (take(k))
                append_marker(&c->valuestring);
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            mark_tree(c, k);
        }
    }
}

char *text_copy_marking_nul(const char *s, size_t len) {
    const char *nul = memchr(s, '\0', len);
    if (!nul)
        return xstrndup(s, len);
    size_t n = (size_t)(nul - s);
    char *p = xmalloc(n + 3);
    memcpy(p, s, n);
    p[n] = (char)0xC0;
    p[n + 1] = (char)0x80;
    p[n + 2] = '\0';
    return p;
}

cJSON *text_parse_json(const char *text, size_t len, const char **end) {
    cJSON *root = cJSON_ParseWithLengthOpts(text, len + 1, end, true);
    if (!root)
        return NULL;
    /* Most texts hold no backslash at all, which rules out \u0000 cheaply. */
    if (!memchr(text, '\0', len) && !(memchr(text, '\\', len) && memmem(text, len, "\\u0000", 6)))
        return root;
    struct nul_marks m = {0};
    find_nul_strings(text, len, &m);
    if (m.n) {
        struct marking k = {.m = &m};
        if (cJSON_IsString(root)) {
            if (take(&k))
                append_marker(&root->valuestring);
        } else {
            mark_tree(root, &k);
        }
    }
    free(m.ord);
    return root;
}
