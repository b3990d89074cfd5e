/* test_routes.c: the route table of tend serve (server/routes.h, web_routes.c):
 * every route declares what it needs (a route added without a need fails
 * here, before any request), a handler, a method and a pattern that a
 * request can reach; and the patterns' matcher splits paths as the
 * handlers expect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "server/routes.h"

static void every_route_declares_what_it_needs(void **state) {
    (void)state;
    size_t n = 0;
    const struct web_route *t = web_routes(&n);
    assert_true(n > 20);
    for (size_t i = 0; i < n; i++) {
        const struct web_route *r = &t[i];
        if (r->need == PERM_UNSET || (unsigned)r->need >= PERM_N_NEEDS)
            fail_msg("route %s %s has no permission: give it a need (core/permissions.h)",
                     r->method, r->pattern);
        assert_non_null(r->handler);
        assert_non_null(r->what);
        assert_true(r->where >= ROUTE_PAGE && r->where <= ROUTE_BOTH);
        assert_true(r->pattern[0] == '/');
        assert_true(strcmp(r->method, "GET") == 0 || strcmp(r->method, "POST") == 0 ||
                    strcmp(r->method, "*") == 0);
        /* A route about one account or CTA names it with its first '*'. */
        if (r->about == ROUTE_ABOUT_ACCOUNT || r->about == ROUTE_ABOUT_CTA)
            assert_non_null(strchr(r->pattern, '*'));
        /* Acting and changing are POSTs (or checked by the handler). */
        if (r->need == PERM_ACT)
            assert_string_not_equal(r->method, "GET");
    }
}

/* No route is unreachable: its own pattern (each '*' as "x") is answered by
 * itself, not by an earlier route of the same place and method. */
static void no_route_is_shadowed(void **state) {
    (void)state;
    size_t n = 0;
    const struct web_route *t = web_routes(&n);
    for (size_t i = 0; i < n; i++) {
        char path[256];
        size_t k = 0;
        for (const char *c = t[i].pattern; *c && k < sizeof path - 2; c++)
            path[k++] = *c == '*' ? 'x' : *c;
        path[k] = '\0';
        for (size_t j = 0; j < i; j++) {
            bool same_place = (t[i].where & t[j].where) != 0;
            bool same_method =
                strcmp(t[i].method, t[j].method) == 0 || strcmp(t[j].method, "*") == 0;
            if (same_place && same_method && route_match(t[j].pattern, path, NULL, NULL))
                fail_msg("%s %s is shadowed by %s", t[i].method, t[i].pattern, t[j].pattern);
        }
    }
}

static void patterns_match_and_capture(void **state) {
    (void)state;
    char *caps[ROUTE_MAX_CAPS] = {0};
    int n = 0;
    assert_true(route_match("/accounts", "/accounts", caps, &n));
    assert_int_equal(n, 0);
    assert_false(route_match("/accounts", "/accounts/", caps, &n));
    assert_false(route_match("/accounts/*", "/accounts/", caps, &n));
    assert_true(route_match("/accounts/*", "/accounts/a/b", caps, &n));
    assert_int_equal(n, 1);
    assert_string_equal(caps[0], "a/b");
    g_free(caps[0]);
    assert_true(route_match("/accounts/*/users", "/accounts/a/b/users", caps, &n));
    assert_string_equal(caps[0], "a/b");
    g_free(caps[0]);
    assert_true(route_match("/ctas/*/*", "/ctas/12/snooze", caps, &n));
    assert_int_equal(n, 2);
    assert_string_equal(caps[0], "12");
    assert_string_equal(caps[1], "snooze");
    g_free(caps[0]);
    g_free(caps[1]);
    assert_false(route_match("/ctas/*/*", "/ctas/12", caps, &n));
    assert_false(route_match("/ctas/*/*", "/ctas/12/", caps, &n));
    assert_false(route_match("/x", "/xy", NULL, NULL));
    assert_false(route_match("/x*", "/x", NULL, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_declares_what_it_needs),
        cmocka_unit_test(no_route_is_shadowed),
        cmocka_unit_test(patterns_match_and_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
