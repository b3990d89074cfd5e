/* routes.c: the route patterns' matcher (see routes.h). */
#include "server/routes.h"

#include <glib.h>
#include <string.h>

/* Whether path matches pattern from here on; caps of the '*' parts are
 * recorded as (start, length) pairs in at (k of them so far). Each '*'
 * takes the shortest part that lets the rest match, so "/a/STAR/b" splits
 * "/a/x/y/b" as "x/y". Patterns have at most a few stars: the backtracking
 * is bounded by the path's length to that power. */
static bool match_from(const char *p, const char *s, const char *base, size_t at[][2], int k) {
    while (*p && *p != '*') {
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (!*p)
        return !*s;
    /* '*': at least one character. */
    for (size_t len = 1; s[len - 1]; len++) {
        if (k < ROUTE_MAX_CAPS) {
            at[k][0] = (size_t)(s - base);
            at[k][1] = len;
        }
        if (match_from(p + 1, s + len, base, at, k + 1))
            return true;
    }
    return false;
}

bool route_match(const char *pattern, const char *path, char **caps, int *n_caps) {
    size_t at[ROUTE_MAX_CAPS][2] = {{0}};
    int stars = 0;
    for (const char *c = pattern; *c; c++)
        stars += *c == '*';
    if (n_caps)
        *n_caps = 0;
    if (!pattern || !path || !match_from(pattern, path, path, at, 0))
        return false;
    for (int i = 0; caps && i < stars && i < ROUTE_MAX_CAPS; i++) {
        caps[i] = g_strndup(path + at[i][0], at[i][1]);
        if (n_caps)
            (*n_caps)++;
    }
    return true;
}
