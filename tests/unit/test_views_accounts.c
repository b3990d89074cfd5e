/* test_views_accounts.c: GET /api/accounts's search (view_accounts, q) on
 * either backend (test_db.h). The store walks the list's names and the view
 * matches them with glib's case folding, ASCII texts without an allocation
 * (server/views.c, struct search): what matches is what g_utf8_casefold
 * matches, non-ASCII names and needles included (ß folds to "ss", the
 * Kelvin sign to "k"), and a search pages and counts its matches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "server/views.h"
#include "store/store.h"
#include "test_db.h"

static char dir[256];

static void check(struct store *s, enum tend_err e, const char *what) {
    if (e != TEND_OK)
        fail_msg("%s: %s", what, store_last_error(s));
}

static void account(struct store *s, const char *ext, const char *name) {
    int64_t id = 0;
    bool created = false;
    check(s, store_account_ensure(s, ext, 1000, &id, &created), "account_ensure");
    struct store_account_fields f = {.name = name};
    check(s, store_account_set_fields(s, id, &f, "{}"), "account_set_fields");
}

/* The ids view_accounts lists for q (page and per_page), comma-separated
 * into out, and its total. */
static long long search(struct store *s, const char *q, const char *page, const char *per_page,
                        char *out, size_t size) {
    struct view_params p = {.n = 0};
    p.keys[p.n] = "q";
    p.values[p.n++] = q;
    if (page) {
        p.keys[p.n] = "page";
        p.values[p.n++] = page;
    }
    if (per_page) {
        p.keys[p.n] = "per_page";
        p.values[p.n++] = per_page;
    }
    cJSON *o = NULL;
    char err[VIEW_ERR_BYTES];
    if (view_accounts(s, &(struct view_env){0}, &p, &o, err) != TEND_OK)
        fail_msg("view_accounts q=%s: %s", q, err);
    out[0] = '\0';
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(o, "accounts")) {
        const char *id = cJSON_GetObjectItem(a, "id")->valuestring;
        snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? "," : "", id);
    }
    long long total = (long long)cJSON_GetObjectItem(o, "total")->valuedouble;
    cJSON_Delete(o);
    return total;
}

static void test_a_search_matches_as_glib_folds_and_pages_its_matches(void **state) {
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/views.db", dir);
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open: %s", err);
    account(s, "s1",
            "Stra\xc3\x9f"
            "e GmbH"); /* Straße */
    account(s, "k1",
            "\xe2\x84\xaa"
            "elvin Co");                 /* the Kelvin sign */
    account(s, "u1", "\xc3\xa4rger AG"); /* ärger */
    account(s, "a1", "Plain ACME");
    account(s, "a2", "acme two");
    account(s, "ACME-3", NULL); /* no name: the id */
    char ids[256];
    struct {
        const char *q, *want;
        long long total;
    } cases[] = {
        {"STRASSE", "s1", 1},        /* ß folds to ss */
        {"kelvin", "k1", 1},         /* the Kelvin sign folds to k */
        {"\xc3\x84RGER", "u1", 1},   /* ÄRGER */
        {"acme", "a2,ACME-3,a1", 3}, /* by label: "acme two", "ACME-3", "Plain ACME" */
        {"nothing", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long total = search(s, cases[i].q, NULL, NULL, ids, sizeof ids);
        if (strcmp(ids, cases[i].want) != 0 || total != cases[i].total)
            fail_msg("q=%s: [%s] of %lld, not [%s] of %lld", cases[i].q, ids, total, cases[i].want,
                     cases[i].total);
    }
    long long total = search(s, "acme", "2", "1", ids, sizeof ids);
    assert_string_equal(ids, "ACME-3");
    assert_int_equal(total, 3);
    total = search(s, "acme", "4", "1", ids, sizeof ids);
    assert_string_equal(ids, "");
    assert_int_equal(total, 3);
    print_message("ok: a search folds as glib does (ss, Kelvin, umlauts) and pages its matches "
                  "on %s\n",
                  test_db_backend());
    store_close(s);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-views-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_search_matches_as_glib_folds_and_pages_its_matches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
