/* permissions.c: the one decision of who may do what (see permissions.h).
 *
 * Two tables and a few lines for the book: a token's scope caps what it may
 * do (scope_allows), a person's role likewise (role_allows); a csm's reach
 * into books is decided last, from the target. Everything not allowed is
 * refused: a new need is denied until these tables name it. */
#include "core/permissions.h"

#include <stdio.h>
#include <string.h>

static const char *const role_names[PERM_N_ROLES] = {"viewer", "csm", "lead", "admin"};
static const char *const scope_names[PERM_N_SCOPES] = {"ingest", "read", "act", "admin"};
static const char *const need_names[PERM_N_NEEDS] = {
    "unset", "public", "signed_in", "read_book", "read", "act", "lead", "admin", "ingest"};

/* What each scope allows, by need (PERM_PUBLIC and PERM_SIGNED_IN: always). */
static const bool scope_allows[PERM_N_SCOPES][PERM_N_NEEDS] = {
    [PERM_SCOPE_INGEST] = {[PERM_INGEST] = true},
    [PERM_SCOPE_READ] = {[PERM_READ_BOOK] = true, [PERM_READ] = true},
    [PERM_SCOPE_ACT] =
        {[PERM_READ_BOOK] = true, [PERM_READ] = true, [PERM_ACT] = true, [PERM_LEAD] = true},
    [PERM_SCOPE_ADMIN] = {[PERM_READ_BOOK] = true,
                          [PERM_READ] = true,
                          [PERM_ACT] = true,
                          [PERM_LEAD] = true,
                          [PERM_ADMIN] = true,
                          [PERM_INGEST] = true},
};

/* What each role allows, by need, before the book (a csm's ACT and a csm's
 * reading in own-book mode are narrowed below). People never ingest. */
static const bool role_allows[PERM_N_ROLES][PERM_N_NEEDS] = {
    [PERM_ROLE_VIEWER] = {[PERM_READ_BOOK] = true, [PERM_READ] = true},
    [PERM_ROLE_CSM] = {[PERM_READ_BOOK] = true, [PERM_READ] = true, [PERM_ACT] = true},
    [PERM_ROLE_LEAD] =
        {[PERM_READ_BOOK] = true, [PERM_READ] = true, [PERM_ACT] = true, [PERM_LEAD] = true},
    [PERM_ROLE_ADMIN] = {[PERM_READ_BOOK] = true,
                         [PERM_READ] = true,
                         [PERM_ACT] = true,
                         [PERM_LEAD] = true,
                         [PERM_ADMIN] = true},
};

static bool valid(const struct perm_who *w, enum perm_need need, enum perm_target t) {
    return w && (unsigned)need < PERM_N_NEEDS && (unsigned)t < PERM_N_TARGETS &&
           (unsigned)w->kind <= PERM_TOKEN && (unsigned)w->role < PERM_N_ROLES &&
           (unsigned)w->scope < PERM_N_SCOPES;
}

/* A csm limited to a book: what target allows. */
static enum perm_verdict book_only(enum perm_target t) {
    switch (t) {
    case PERM_T_LIST:
    case PERM_T_NONE:
        return PERM_ALLOW_OWN;
    case PERM_T_UNKNOWN:
        return PERM_ASK_OWNER;
    case PERM_T_MINE:
        return PERM_ALLOW;
    case PERM_T_OTHERS:
        return PERM_DENY;
    }
    return PERM_DENY;
}

enum perm_verdict perm_decide(const struct perm_who *who, enum perm_need need,
                              enum perm_target target) {
    if (!valid(who, need, target) || need == PERM_UNSET)
        return PERM_DENY;
    if (need == PERM_PUBLIC)
        return PERM_ALLOW;
    if (who->kind == PERM_NOBODY)
        return PERM_DENY_SIGN_IN;
    if (need == PERM_SIGNED_IN)
        return PERM_ALLOW;
    if (who->kind == PERM_TOKEN)
        return scope_allows[who->scope][need] ? PERM_ALLOW : PERM_DENY;
    if (!role_allows[who->role][need])
        return PERM_DENY;
    if (who->role != PERM_ROLE_CSM)
        return PERM_ALLOW;
    /* A csm: acting is limited to their book; reading too in own-book mode,
     * where team-wide pages (which list every book) are refused. */
    if (need == PERM_ACT)
        return book_only(target);
    if (!who->csm_own_book_only)
        return PERM_ALLOW;
    if (need == PERM_READ)
        return PERM_DENY;
    return book_only(target);
}

void perm_explain(const struct perm_who *who, enum perm_need need, enum perm_target target,
                  char *out, unsigned long size) {
    if (!valid(who, need, target) || need == PERM_UNSET) {
        snprintf(out, size, "This route has no permission declared; it is refused to everyone.");
        return;
    }
    if (who->kind == PERM_NOBODY) {
        snprintf(out, size, "Sign in, or send an API token.");
        return;
    }
    if (who->kind == PERM_TOKEN) {
        snprintf(out, size,
                 "This API token's scope (%s) does not allow this (it needs %s); an admin can "
                 "give a token another scope in tend.yaml (serve.tokens[].scope).",
                 scope_names[who->scope], need_names[need]);
        return;
    }
    const char *role = role_names[who->role];
    switch (need) {
    case PERM_ADMIN:
        snprintf(out, size, "Only an admin may do this; your role is %s.", role);
        return;
    case PERM_LEAD:
        snprintf(out, size, "Only a lead or an admin may do this; your role is %s.", role);
        return;
    case PERM_INGEST:
        snprintf(out, size,
                 "Events are sent with a write key or an ingest token, not by a person.");
        return;
    case PERM_ACT:
        if (who->role == PERM_ROLE_VIEWER)
            snprintf(out, size, "Your role (viewer) reads only; a csm, lead or admin can act.");
        else
            snprintf(out, size,
                     "As a csm you act on the CTAs of your own book (accounts whose CSM you are) "
                     "and the CTAs assigned to you; this one is someone else's. A lead can "
                     "reassign it to you.");
        return;
    case PERM_READ:
    case PERM_READ_BOOK:
        snprintf(out, size,
                 "As a csm you see only your own book here (serve.csm_reads: own_book); this "
                 "is someone else's or shows every book.");
        return;
    default:
        snprintf(out, size, "You may not do this.");
        return;
    }
}

const char *perm_role_name(enum perm_role r) {
    return (unsigned)r < PERM_N_ROLES ? role_names[r] : "?";
}

const char *perm_scope_name(enum perm_scope s) {
    return (unsigned)s < PERM_N_SCOPES ? scope_names[s] : "?";
}

const char *perm_need_name(enum perm_need n) {
    return (unsigned)n < PERM_N_NEEDS ? need_names[n] : "?";
}

bool perm_role_parse(const char *name, enum perm_role *out) {
    for (int i = 0; name && i < PERM_N_ROLES; i++)
        if (strcmp(name, role_names[i]) == 0) {
            *out = (enum perm_role)i;
            return true;
        }
    return false;
}

bool perm_scope_parse(const char *name, enum perm_scope *out) {
    for (int i = 0; name && i < PERM_N_SCOPES; i++)
        if (strcmp(name, scope_names[i]) == 0) {
            *out = (enum perm_scope)i;
            return true;
        }
    return false;
}
