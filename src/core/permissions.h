/* permissions.h: who may do what: roles of people, scopes of API tokens,
 * and the one decision every route of tend serve goes through (SPEC-level
 * rules in docs/dashboard.md, "Roles and permissions").
 *
 * A route says what it needs (enum perm_need) and, for a route about one
 * account or CTA, whose it is (enum perm_target); perm_decide() answers for
 * one asker. The server never decides on its own: the route table
 * (server/web_routes.c) gives every route a need, and the dispatcher asks here
 * before a handler runs, for the API and the pages alike. Pure: no I/O, no
 * clock; unit-tested over every combination (tests/unit/test_permissions.c).
 *
 * The roles, from least to most: viewer reads; csm reads and acts on the
 * CTAs of their own book (accounts whose csm_email is theirs) and the CTAs
 * assigned to them, and reads the rest (or, with serve.csm_reads:
 * own_book, nothing of other books); lead reads and acts on everything of
 * the customers (all accounts, CTAs, segments, reports); admin also
 * manages people, tokens, the audit log and the configuration. A token's
 * scope: ingest sends events only; read reads as a lead; act reads and acts
 * as a lead; admin does what an admin does. A token has no book. */
#ifndef TEND_CORE_PERMISSIONS_H
#define TEND_CORE_PERMISSIONS_H

#include <stdbool.h>

enum perm_role { PERM_ROLE_VIEWER, PERM_ROLE_CSM, PERM_ROLE_LEAD, PERM_ROLE_ADMIN };
#define PERM_N_ROLES 4

enum perm_scope { PERM_SCOPE_INGEST, PERM_SCOPE_READ, PERM_SCOPE_ACT, PERM_SCOPE_ADMIN };
#define PERM_N_SCOPES 4

/* What a route needs. PERM_UNSET is 0 on purpose: a route table entry that
 * forgets its need is refused to everyone, and test_routes fails. */
enum perm_need {
    PERM_UNSET = 0,
    PERM_PUBLIC,    /* anyone, signed in or not: sign-in, the stylesheet, unsubscribe */
    PERM_SIGNED_IN, /* any person or token: the front page, signing out */
    PERM_READ_BOOK, /* an account, a CTA, or lists of them (a csm in own-book mode: theirs) */
    PERM_READ,      /* team-wide reading: rules, risk, segments, reports, models, metrics */
    PERM_ACT,       /* acting on a CTA or an account (a csm: their own book or assigned) */
    PERM_LEAD,      /* lead work across every book (delivery, bulk work over all owners) */
    PERM_ADMIN,     /* people, tokens, the audit log, the configuration */
    PERM_INGEST     /* sending events (tokens of scope ingest or admin) */
};
#define PERM_N_NEEDS 9

/* Whose thing a route is about, as far as the dispatcher knows. */
enum perm_target {
    PERM_T_NONE,    /* nothing of a book (a team-wide page, a form) */
    PERM_T_LIST,    /* a list of accounts or CTAs (may be narrowed to the asker's own) */
    PERM_T_UNKNOWN, /* one account or CTA, its owner not looked up yet */
    PERM_T_MINE,    /* one account or CTA of the asker's book, or assigned to them */
    PERM_T_OTHERS   /* one account or CTA of someone else's */
};
#define PERM_N_TARGETS 5

enum perm_kind { PERM_NOBODY, PERM_PERSON, PERM_TOKEN };

/* Who asks. role counts for a person, scope for a token. */
struct perm_who {
    enum perm_kind kind;
    enum perm_role role;
    enum perm_scope scope;
    bool csm_own_book_only; /* serve.csm_reads: own_book */
};

enum perm_verdict {
    PERM_ALLOW,
    PERM_ALLOW_OWN,    /* allowed, narrowed to the asker's own book (a list) or checked per item */
    PERM_ASK_OWNER,    /* look up the target's owner and ask again with MINE or OTHERS */
    PERM_DENY_SIGN_IN, /* 401: nobody is signed in */
    PERM_DENY          /* 403 */
};

/* The decision for who asking for need about target. Never PERM_ASK_OWNER
 * when target is MINE or OTHERS. */
enum perm_verdict perm_decide(const struct perm_who *who, enum perm_need need,
                              enum perm_target target);

/* A sentence for a refusal ("Your role (viewer) reads only: ..."), into out
 * (size bytes), for the 403 page and the API's error. */
void perm_explain(const struct perm_who *who, enum perm_need need, enum perm_target target,
                  char *out, unsigned long size);

/* Names, as in tend.yaml and the API: "viewer", "csm", "lead", "admin";
 * "ingest", "read", "act", "admin"; the needs' names ("read_book", ...). */
const char *perm_role_name(enum perm_role r);
const char *perm_scope_name(enum perm_scope s);
const char *perm_need_name(enum perm_need n);
/* Parses a name; false when it is none of them. */
bool perm_role_parse(const char *name, enum perm_role *out);
bool perm_scope_parse(const char *name, enum perm_scope *out);

#endif
