/* html_check.h: what the unit tests of the HTML renderers (test_dash.c,
 * test_dash_model.c, test_report.c) check of a page's markup, shared.
 * Include after <cmocka.h> and <string.h>. */
#ifndef TEND_TESTS_HTML_CHECK_H
#define TEND_TESTS_HTML_CHECK_H

/* How often needle occurs in haystack (overlaps counted). */
static inline size_t count(const char *haystack, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static inline bool is_void_element(const char *name, size_t n) {
    static const char *const names[] = {"meta", "link", "input", "br", "hr", "img", "col"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && !strncmp(name, names[i], n))
            return true;
    return false;
}

/* Fails unless the tags of html nest properly (so no text from outside
 * opened or closed one); the CSS inside <style> is skipped. */
static inline void check_tags(const char *html) {
    const char *stack[256];
    size_t lens[256], depth = 0;
    for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
        if (!strncmp(p, "<!DOCTYPE", 9))
            continue;
        const char *end = strchr(p, '>');
        assert_non_null(end);
        bool closing = p[1] == '/';
        const char *name = p + (closing ? 2 : 1);
        size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (n == 0)
            fail_msg("not a tag at: %.80s", p);
        if (closing) {
            if (depth == 0 || lens[depth - 1] != n || strncmp(stack[depth - 1], name, n))
                fail_msg("</%.*s> does not close <%.*s> at: %.120s", (int)n, name,
                         depth ? (int)lens[depth - 1] : 0, depth ? stack[depth - 1] : "", p);
            depth--;
        } else if (end[-1] != '/' && !is_void_element(name, n)) {
            assert_true(depth < 256);
            stack[depth] = name;
            lens[depth++] = n;
            if (n == 5 && !strncmp(name, "style", 5)) {
                const char *close = strstr(end, "</style>");
                assert_non_null(close);
                p = close - 1;
            }
        }
    }
    if (depth != 0)
        fail_msg("<%.*s> never closed", (int)lens[depth - 1], stack[depth - 1]);
}

#endif
