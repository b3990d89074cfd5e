/* fuzz_path.c: where a redirect may go, and the query string of a page
 * (server/html.h: html_local_path, html_query_get, html_query_keep).
 *
 * The input is a path with its query, as a request or a "next"/"back" field
 * gives it. Invariants besides no sanitizer report:
 * - html_local_path accepts only what every browser reads as a path on this
 *   site, in a Location header: it starts with '/', has no control
 *   character (a header cannot carry one; CR and LF would split it), and
 *   once tabs are dropped and backslashes read as slashes (as browsers do,
 *   WHATWG URL) it does not start with "//" (another host);
 * - html_query_keep writes only URL-safe characters, "=" and "&amp;", so its
 *   output needs no escaping in an href; read back, it gives the same values
 *   for the parameters it kept. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/html.h"

static void check_local_path(const char *p) {
    if (!html_local_path(p))
        return;
    if (p[0] != '/')
        fuzz_fail("html_local_path accepted \"%s\", which does not start with /", p);
    for (const unsigned char *c = (const unsigned char *)p; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            fuzz_fail("html_local_path accepted the control character 0x%02x, which a Location "
                      "header cannot carry (CR, LF: a split header): \"%s\"",
                      *c, p);
    /* What a browser makes of it (WHATWG URL): tab, CR and LF removed, and
     * a backslash read as a slash. */
    char seen[3] = "";
    size_t n = 0;
    for (const char *c = p; *c && n < 2; c++)
        if (*c != '\t')
            seen[n++] = *c == '\\' ? '/' : *c;
    if (n == 2 && seen[1] == '/')
        fuzz_fail("html_local_path accepted \"%s\", which a browser reads as another host", p);
}

static const char *const keys[] = {"next", "owner", "page", "a", "", "status"};
static const char *const drop[] = {"page", "status", NULL};

static void check_query(const char *path) {
    struct buf kept;
    buf_init(&kept, 0);
    html_query_keep(&kept, path, drop);
    const char *k = buf_str(&kept);
    for (size_t i = 0; k[i]; i++) {
        char c = k[i];
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    strchr("-._~%=", c);
        if (!safe && strncmp(k + i, "&amp;", 5) != 0)
            fuzz_fail("html_query_keep wrote '%c' (0x%02x) into an href: \"%s\"", c,
                      (unsigned char)c, k);
        if (!safe)
            i += 4;
    }
    char *amp = fuzz_replace(k, "&amp;", "&");
    char *again = malloc(strlen(amp) + 3);
    strcpy(again, "/?");
    strcat(again, amp);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        bool dropped = !keys[i][0];
        for (const char *const *d = drop; *d; d++)
            dropped |= strcmp(*d, keys[i]) == 0;
        for (size_t nth = 0; nth < 3 && !dropped; nth++) {
            struct buf v1, v2;
            buf_init(&v1, 0);
            buf_init(&v2, 0);
            bool f1 = html_query_get(path, keys[i], nth, &v1);
            bool f2 = html_query_get(again, keys[i], nth, &v2);
            if (f1 != f2 || strcmp(buf_str(&v1), buf_str(&v2)) != 0)
                fuzz_fail("\"%s\"[%zu] is \"%s\" (%d) in \"%s\" but \"%s\" (%d) once kept: \"%s\"",
                          keys[i], nth, buf_str(&v1), f1, path, buf_str(&v2), f2, again);
            buf_free(&v1);
            buf_free(&v2);
        }
    }
    free(again);
    free(amp);
    buf_free(&kept);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096)
        return 0;
    char *p = fuzz_strndup(data, size);
    check_local_path(p);
    check_query(p);
    /* The value of next as a login form would get it. */
    struct buf next;
    buf_init(&next, 0);
    if (html_query_get(p, "next", 0, &next))
        check_local_path(buf_str(&next));
    buf_free(&next);
    free(p);
    return 0;
}
