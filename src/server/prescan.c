/* prescan.c: the top level of a JSON body in one pass (see prescan.h). */
#include "server/prescan.h"

#include <string.h>

struct cur {
    const char *p, *end;
};

static bool is_ws(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static void skip_ws(struct cur *c) {
    while (c->p < c->end && is_ws(*c->p))
        c->p++;
}

/* Skips the string token at c->p (a '"'); false when it does not end. */
static bool skip_string(struct cur *c) {
    c->p++;
    while (c->p < c->end) {
        char ch = *c->p++;
        if (ch == '\\') {
            if (c->p == c->end)
                return false;
            c->p++;
        } else if (ch == '"') {
            return true;
        }
    }
    return false;
}

/* Skips one value; when it is an array or object, *items gets the number of
 * its elements (members). Nesting is counted, not stacked: no recursion. */
static bool skip_value(struct cur *c, size_t *items) {
    if (c->p == c->end)
        return false;
    char ch = *c->p;
    if (ch == '"')
        return skip_string(c);
    if (ch == '[' || ch == '{') {
        size_t depth = 0, commas = 0;
        bool any = false;
        while (c->p < c->end) {
            ch = *c->p;
            if (ch == '"') {
                any |= depth == 1;
                if (!skip_string(c))
                    return false;
                continue;
            }
            if (ch == '[' || ch == '{') {
                any |= depth == 1;
                depth++;
            } else if (ch == ']' || ch == '}') {
                depth--;
            } else if (depth == 1 && ch == ',') {
                commas++;
            } else if (depth == 1 && !is_ws(ch)) {
                any = true;
            }
            c->p++;
            if (depth == 0) {
                *items = any ? commas + 1 : 0;
                return true;
            }
        }
        return false;
    }
    const char *start = c->p;
    while (c->p < c->end && *c->p != ',' && *c->p != ']' && *c->p != '}' && !is_ws(*c->p))
        c->p++;
    return c->p > start;
}

static int hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Appends code point cp as UTF-8 to out; false when it does not fit. */
static bool put_utf8(unsigned long cp, char *out, size_t size, size_t *o) {
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | cp >> 18);
        b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (*o + n >= size)
        return false;
    memcpy(out + *o, b, n);
    *o += n;
    return true;
}

bool prescan_string(const char *tok, size_t len, char *out, size_t size) {
    if (size == 0 || len < 2 || tok[0] != '"' || tok[len - 1] != '"')
        return false;
    size_t o = 0;
    bool ended = false; /* a decoded NUL ended the C string */
    const char *p = tok + 1, *end = tok + len - 1;
    while (p < end) {
        unsigned long cp = (unsigned char)*p++;
        if (cp == '"')
            return false; /* a quote inside: not one token */
        if (cp == '\\') {
            if (p == end)
                return false;
            char e = *p++;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                cp = (unsigned char)e;
                break;
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u': {
                int u = end - p >= 4 ? hex4(p) : -1;
                if (u < 0)
                    return false;
                p += 4;
                cp = (unsigned long)u;
                if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair */
                    int lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return false;
                    p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return false;
                }
                break;
            }
            default:
                return false;
            }
            if (cp == 0)
                ended = true;
            if (!ended && !put_utf8(cp, out, size, &o))
                return false;
            continue;
        }
        if (!ended) {
            if (o + 1 >= size)
                return false;
            out[o++] = (char)cp;
        }
    }
    out[o] = '\0';
    return true;
}

void prescan_body(const char *s, size_t len, struct prescan *out) {
    *out = (struct prescan){0};
    struct cur c = {s, s + len};
    struct prescan r = {0};
    bool seen_key = false, seen_batch = false;
    skip_ws(&c);
    if (c.p == c.end || *c.p != '{')
        return;
    c.p++;
    skip_ws(&c);
    if (c.p < c.end && *c.p == '}') {
        out->object = true;
        return;
    }
    for (;;) {
        skip_ws(&c);
        if (c.p == c.end || *c.p != '"')
            return;
        const char *k = c.p;
        if (!skip_string(&c))
            return;
        char name[16];
        bool named = prescan_string(k, (size_t)(c.p - k), name, sizeof name);
        skip_ws(&c);
        if (c.p == c.end || *c.p != ':')
            return;
        c.p++;
        skip_ws(&c);
        const char *v = c.p;
        bool array = c.p < c.end && *c.p == '[';
        size_t items = 0;
        if (!skip_value(&c, &items))
            return;
        if (named && !seen_key && strcmp(name, "writeKey") == 0) {
            seen_key = true;
            r.write_key = v;
            r.write_key_len = (size_t)(c.p - v);
        } else if (named && !seen_batch && strcmp(name, "batch") == 0) {
            seen_batch = true;
            r.batch_array = array;
            r.batch_items = array ? items : 0;
        }
        skip_ws(&c);
        if (c.p < c.end && *c.p == ',') {
            c.p++;
            continue;
        }
        if (c.p < c.end && *c.p == '}') {
            r.object = true;
            *out = r;
        }
        return;
    }
}
