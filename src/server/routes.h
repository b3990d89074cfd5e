/* routes.h: the route table's types and its pattern matcher.
 *
 * Every request of the dashboard and the REST API is answered by the one
 * route it matches in web_routes.c's table (web_routes()), and every route says
 * what it needs (core/permissions.h): the dispatcher asks perm_decide()
 * before a handler runs, for the API and the pages alike. A route without a
 * need (PERM_UNSET, the zero of the enum) is refused to everyone, and
 * tests/unit/test_routes.c fails on it; tests/integration/permissions.sh
 * reads the table (GET /api/routes) and tries every route as every role and
 * token scope. docs/api.md lists the routes and what each needs.
 *
 * A pattern is a path where '*' stands for a non-empty part (which may hold
 * '/', as an account's id may); the table is tried in order and the first
 * route whose pattern and method match answers, so a longer pattern comes
 * before a shorter one it would shadow ("/ctas/STAR/STAR" before
 * "/ctas/STAR"). Pure.
 *
 * Adding a route: a row of web_routes.c's table with its method, pattern,
 * where, need and what it is about; a handler of web_int.h's web_handler.
 * A note on a CTA is PERM_ACT about ROUTE_ABOUT_CTA (the dispatcher checks a
 * csm's book before the handler runs); a bulk action over several CTAs is
 * PERM_ACT about ROUTE_ABOUT_LIST: for a csm the dispatcher sets
 * r->own_only and the handler must check each CTA (web_cta_is_mine) and
 * refuse the others; a page of figures (KPIs) is PERM_READ; a webhook that
 * proves itself by a signature (/hooks/, /slack/) is PERM_PUBLIC and checks
 * the signature in its handler. A pattern with a '*' needs an example in
 * tests/integration/permissions_check.py (examples()), or the matrix fails. */
#ifndef TEND_SERVER_ROUTES_H
#define TEND_SERVER_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/permissions.h"

#define ROUTE_MAX_CAPS 2

/* Where a route answers: /PATH (a page), /api/PATH (JSON), or both. */
enum route_where { ROUTE_PAGE = 1, ROUTE_API = 2, ROUTE_BOTH = 3 };

/* What a route is about, for the book check of a csm (perm_target). */
enum route_about {
    ROUTE_ABOUT_NOTHING, /* PERM_T_NONE */
    ROUTE_ABOUT_LIST,    /* PERM_T_LIST: a list the handler narrows to the asker's own */
    ROUTE_ABOUT_ACCOUNT, /* the account whose external id is the first '*' */
    ROUTE_ABOUT_CTA      /* the CTA whose id is the first '*' */
};

/* One route. handler is a web_handler (web_int.h; an opaque pointer here, so that this
 * header needs nothing of the server). */
struct web_route {
    const char *method; /* "GET" (HEAD too), "POST", or "*": the handler checks */
    const char *pattern;
    enum route_where where;
    enum perm_need need;
    enum route_about about;
    const void *handler;
    const char *what; /* a few words for docs and GET /api/routes */
    bool raw_body;    /* the body is not parsed (a signed webhook verifies it as sent) */
};

/* Whether path matches pattern; each '*' part is copied (malloced, g_free
 * them) into caps (at most ROUTE_MAX_CAPS; NULL: not kept). *n_caps is set
 * to the number copied. */
bool route_match(const char *pattern, const char *path, char **caps, int *n_caps);

/* The table of web_routes.c, in order (n rows). */
const struct web_route *web_routes(size_t *n);

#endif
