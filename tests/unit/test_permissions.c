/* test_permissions.c: core/permissions over every combination of who asks
 * (nobody, each role with and without own-book mode, each token scope),
 * every need and every target, against the rules of docs/dashboard.md
 * written out as a table of expected verdicts, one line per role and need. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/permissions.h"

/* Expected verdicts per target, in the order NONE LIST UNKNOWN MINE OTHERS:
 * A allow, O allow own, ? ask the owner, S sign in (401), D deny (403). */
struct row {
    const char *who; /* "nobody", a role ("csm", "csm/own"), or "token:SCOPE" */
    enum perm_need need;
    const char *verdicts;
};

static const struct row rows[] = {
    {"nobody", PERM_UNSET, "DDDDD"},
    {"nobody", PERM_PUBLIC, "AAAAA"},
    {"nobody", PERM_SIGNED_IN, "SSSSS"},
    {"nobody", PERM_READ_BOOK, "SSSSS"},
    {"nobody", PERM_READ, "SSSSS"},
    {"nobody", PERM_ACT, "SSSSS"},
    {"nobody", PERM_LEAD, "SSSSS"},
    {"nobody", PERM_ADMIN, "SSSSS"},
    {"nobody", PERM_INGEST, "SSSSS"},

    {"viewer", PERM_UNSET, "DDDDD"},
    {"viewer", PERM_PUBLIC, "AAAAA"},
    {"viewer", PERM_SIGNED_IN, "AAAAA"},
    {"viewer", PERM_READ_BOOK, "AAAAA"},
    {"viewer", PERM_READ, "AAAAA"},
    {"viewer", PERM_ACT, "DDDDD"},
    {"viewer", PERM_LEAD, "DDDDD"},
    {"viewer", PERM_ADMIN, "DDDDD"},
    {"viewer", PERM_INGEST, "DDDDD"},

    {"csm", PERM_UNSET, "DDDDD"},
    {"csm", PERM_PUBLIC, "AAAAA"},
    {"csm", PERM_SIGNED_IN, "AAAAA"},
    {"csm", PERM_READ_BOOK, "AAAAA"},
    {"csm", PERM_READ, "AAAAA"},
    {"csm", PERM_ACT, "OO?AD"},
    {"csm", PERM_LEAD, "DDDDD"},
    {"csm", PERM_ADMIN, "DDDDD"},
    {"csm", PERM_INGEST, "DDDDD"},

    {"csm/own", PERM_UNSET, "DDDDD"},
    {"csm/own", PERM_PUBLIC, "AAAAA"},
    {"csm/own", PERM_SIGNED_IN, "AAAAA"},
    {"csm/own", PERM_READ_BOOK, "OO?AD"},
    {"csm/own", PERM_READ, "DDDDD"},
    {"csm/own", PERM_ACT, "OO?AD"},
    {"csm/own", PERM_LEAD, "DDDDD"},
    {"csm/own", PERM_ADMIN, "DDDDD"},
    {"csm/own", PERM_INGEST, "DDDDD"},

    {"lead", PERM_UNSET, "DDDDD"},
    {"lead", PERM_PUBLIC, "AAAAA"},
    {"lead", PERM_SIGNED_IN, "AAAAA"},
    {"lead", PERM_READ_BOOK, "AAAAA"},
    {"lead", PERM_READ, "AAAAA"},
    {"lead", PERM_ACT, "AAAAA"},
    {"lead", PERM_LEAD, "AAAAA"},
    {"lead", PERM_ADMIN, "DDDDD"},
    {"lead", PERM_INGEST, "DDDDD"},

    {"admin", PERM_UNSET, "DDDDD"},
    {"admin", PERM_PUBLIC, "AAAAA"},
    {"admin", PERM_SIGNED_IN, "AAAAA"},
    {"admin", PERM_READ_BOOK, "AAAAA"},
    {"admin", PERM_READ, "AAAAA"},
    {"admin", PERM_ACT, "AAAAA"},
    {"admin", PERM_LEAD, "AAAAA"},
    {"admin", PERM_ADMIN, "AAAAA"},
    {"admin", PERM_INGEST, "DDDDD"},

    {"token:ingest", PERM_UNSET, "DDDDD"},
    {"token:ingest", PERM_PUBLIC, "AAAAA"},
    {"token:ingest", PERM_SIGNED_IN, "AAAAA"},
    {"token:ingest", PERM_READ_BOOK, "DDDDD"},
    {"token:ingest", PERM_READ, "DDDDD"},
    {"token:ingest", PERM_ACT, "DDDDD"},
    {"token:ingest", PERM_LEAD, "DDDDD"},
    {"token:ingest", PERM_ADMIN, "DDDDD"},
    {"token:ingest", PERM_INGEST, "AAAAA"},

    {"token:read", PERM_UNSET, "DDDDD"},
    {"token:read", PERM_PUBLIC, "AAAAA"},
    {"token:read", PERM_SIGNED_IN, "AAAAA"},
    {"token:read", PERM_READ_BOOK, "AAAAA"},
    {"token:read", PERM_READ, "AAAAA"},
    {"token:read", PERM_ACT, "DDDDD"},
    {"token:read", PERM_LEAD, "DDDDD"},
    {"token:read", PERM_ADMIN, "DDDDD"},
    {"token:read", PERM_INGEST, "DDDDD"},

    {"token:act", PERM_UNSET, "DDDDD"},
    {"token:act", PERM_PUBLIC, "AAAAA"},
    {"token:act", PERM_SIGNED_IN, "AAAAA"},
    {"token:act", PERM_READ_BOOK, "AAAAA"},
    {"token:act", PERM_READ, "AAAAA"},
    {"token:act", PERM_ACT, "AAAAA"},
    {"token:act", PERM_LEAD, "AAAAA"},
    {"token:act", PERM_ADMIN, "DDDDD"},
    {"token:act", PERM_INGEST, "DDDDD"},

    {"token:admin", PERM_UNSET, "DDDDD"},
    {"token:admin", PERM_PUBLIC, "AAAAA"},
    {"token:admin", PERM_SIGNED_IN, "AAAAA"},
    {"token:admin", PERM_READ_BOOK, "AAAAA"},
    {"token:admin", PERM_READ, "AAAAA"},
    {"token:admin", PERM_ACT, "AAAAA"},
    {"token:admin", PERM_LEAD, "AAAAA"},
    {"token:admin", PERM_ADMIN, "AAAAA"},
    {"token:admin", PERM_INGEST, "AAAAA"},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

static struct perm_who who_of(const char *name) {
    struct perm_who w = {.kind = PERM_PERSON};
    if (strcmp(name, "nobody") == 0) {
        w.kind = PERM_NOBODY;
    } else if (strncmp(name, "token:", 6) == 0) {
        w.kind = PERM_TOKEN;
        assert_true(perm_scope_parse(name + 6, &w.scope));
    } else {
        char role[16];
        snprintf(role, sizeof role, "%s", name);
        char *slash = strchr(role, '/');
        if (slash) {
            *slash = '\0';
            w.csm_own_book_only = true;
        }
        assert_true(perm_role_parse(role, &w.role));
    }
    return w;
}

static char letter(enum perm_verdict v) {
    switch (v) {
    case PERM_ALLOW:
        return 'A';
    case PERM_ALLOW_OWN:
        return 'O';
    case PERM_ASK_OWNER:
        return '?';
    case PERM_DENY_SIGN_IN:
        return 'S';
    case PERM_DENY:
        return 'D';
    }
    return 'x';
}

static void every_combination_matches_the_table(void **state) {
    (void)state;
    int checked = 0;
    for (size_t i = 0; i < N_ROWS; i++) {
        struct perm_who w = who_of(rows[i].who);
        for (int t = 0; t < PERM_N_TARGETS; t++) {
            char got = letter(perm_decide(&w, rows[i].need, (enum perm_target)t));
            if (got != rows[i].verdicts[t])
                fail_msg("%s, need %s, target %d: got %c, want %c", rows[i].who,
                         perm_need_name(rows[i].need), t, got, rows[i].verdicts[t]);
            checked++;
        }
    }
    assert_int_equal(checked, (int)N_ROWS * PERM_N_TARGETS);
}

/* The table above covers every asker and every need: nothing is left to
 * the code's default. */
static void the_table_covers_every_asker_and_need(void **state) {
    (void)state;
    const char *askers[] = {"nobody", "viewer",       "csm",        "csm/own",   "lead",
                            "admin",  "token:ingest", "token:read", "token:act", "token:admin"};
    for (size_t a = 0; a < sizeof askers / sizeof askers[0]; a++)
        for (int n = 0; n < PERM_N_NEEDS; n++) {
            int found = 0;
            for (size_t i = 0; i < N_ROWS; i++)
                found += strcmp(rows[i].who, askers[a]) == 0 && (int)rows[i].need == n;
            if (found != 1)
                fail_msg("%s, need %s: %d rows", askers[a], perm_need_name((enum perm_need)n),
                         found);
        }
    /* Own-book mode changes nothing for roles other than csm, and tokens have no book. */
    const enum perm_role others[] = {PERM_ROLE_VIEWER, PERM_ROLE_LEAD, PERM_ROLE_ADMIN};
    for (size_t r = 0; r < 3; r++)
        for (int n = 0; n < PERM_N_NEEDS; n++)
            for (int t = 0; t < PERM_N_TARGETS; t++) {
                struct perm_who a = {.kind = PERM_PERSON, .role = others[r]};
                struct perm_who b = a;
                b.csm_own_book_only = true;
                assert_int_equal(perm_decide(&a, (enum perm_need)n, (enum perm_target)t),
                                 perm_decide(&b, (enum perm_need)n, (enum perm_target)t));
            }
}

static void out_of_range_values_are_refused(void **state) {
    (void)state;
    struct perm_who w = {.kind = PERM_PERSON, .role = PERM_ROLE_ADMIN};
    assert_int_equal(perm_decide(&w, (enum perm_need)PERM_N_NEEDS, PERM_T_NONE), PERM_DENY);
    assert_int_equal(perm_decide(&w, PERM_READ, (enum perm_target)PERM_N_TARGETS), PERM_DENY);
    w.role = (enum perm_role)PERM_N_ROLES;
    assert_int_equal(perm_decide(&w, PERM_READ, PERM_T_NONE), PERM_DENY);
    assert_int_equal(perm_decide(NULL, PERM_PUBLIC, PERM_T_NONE), PERM_DENY);
}

static void names_round_trip_and_refusals_explain(void **state) {
    (void)state;
    for (int r = 0; r < PERM_N_ROLES; r++) {
        enum perm_role got;
        assert_true(perm_role_parse(perm_role_name((enum perm_role)r), &got));
        assert_int_equal(got, r);
    }
    for (int s = 0; s < PERM_N_SCOPES; s++) {
        enum perm_scope got;
        assert_true(perm_scope_parse(perm_scope_name((enum perm_scope)s), &got));
        assert_int_equal(got, s);
    }
    enum perm_role r;
    assert_false(perm_role_parse("Admin", &r));
    assert_false(perm_role_parse(NULL, &r));
    char msg[300];
    struct perm_who v = {.kind = PERM_PERSON, .role = PERM_ROLE_VIEWER};
    perm_explain(&v, PERM_ACT, PERM_T_MINE, msg, sizeof msg);
    assert_non_null(strstr(msg, "viewer"));
    struct perm_who c = {.kind = PERM_PERSON, .role = PERM_ROLE_CSM};
    perm_explain(&c, PERM_ACT, PERM_T_OTHERS, msg, sizeof msg);
    assert_non_null(strstr(msg, "own book"));
    struct perm_who t = {.kind = PERM_TOKEN, .scope = PERM_SCOPE_READ};
    perm_explain(&t, PERM_ADMIN, PERM_T_NONE, msg, sizeof msg);
    assert_non_null(strstr(msg, "scope (read)"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_combination_matches_the_table),
        cmocka_unit_test(the_table_covers_every_asker_and_need),
        cmocka_unit_test(out_of_range_values_are_refused),
        cmocka_unit_test(names_round_trip_and_refusals_explain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
