/* test_store_users.c: store_members_each (store.h), the members of the
 * span's accounts with their user and role trait, on whichever backend
 * test_db.h opens: SQLite in the plain unit pass, PostgreSQL under
 * tests/integration/store_pg.sh. The same calls must give the same rows,
 * in the same order, on both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/users.h"
#include "store/store.h"
#include "test_db.h"

static struct {
    char dir[256];
    char path[300];
    struct store *s;
    int64_t a, b, c;      /* accounts */
    int64_t ann, bob, cy; /* users */
} fx;

#define ok(call)                                                                                   \
    do {                                                                                           \
        enum tend_err e_ = (call);                                                                 \
        if (e_ != TEND_OK)                                                                         \
            fail_msg("%s: %s (%s)", #call, tend_strerror(e_), store_last_error(fx.s));             \
    } while (0)

static int64_t user(const char *id, const char *email, const char *role_json) {
    int64_t u;
    ok(store_user_ensure(fx.s, id, false, 1000, &u));
    ok(store_user_set_fields(fx.s, u, email, NULL, NULL, "{}"));
    if (role_json)
        ok(store_trait_merge(fx.s, STORE_USER, u, "role", role_json, 1000));
    return u;
}

/* Accounts a (ann: champion, left at 5000; bob: no role), b (ann from
 * 3000: she moved there), c (cy: admin, under the trait "persona"). */
static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx.dir, sizeof fx.dir, "%s/tend-test-users-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.path, sizeof fx.path, "%s/tend.db", fx.dir);
    char err[STORE_ERR_BYTES];
    if (test_db_open(fx.path, &fx.s, err) != TEND_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    bool b;
    ok(store_begin(fx.s, NULL));
    ok(store_account_ensure(fx.s, "a", 1000, &fx.a, &b));
    ok(store_account_ensure(fx.s, "b", 1000, &fx.b, &b));
    ok(store_account_ensure(fx.s, "c", 1000, &fx.c, &b));
    fx.ann = user("ann", "ann@a.io", "\"champion\"");
    fx.bob = user("bob", NULL, NULL);
    fx.cy = user("cy", "cy@c.io", NULL);
    ok(store_trait_merge(fx.s, STORE_USER, fx.cy, "persona", "[\"billing\",\"admin\"]", 1000));
    ok(store_membership_start(fx.s, fx.a, fx.ann, 1000, &b));
    ok(store_membership_end(fx.s, fx.a, fx.ann, 5000, &b));
    ok(store_membership_start(fx.s, fx.a, fx.bob, 2000, &b));
    ok(store_membership_start(fx.s, fx.b, fx.ann, 3000, &b));
    ok(store_membership_start(fx.s, fx.c, fx.cy, 1000, &b));
    ok(store_commit(fx.s));
    return 0;
}

static int teardown(void **state) {
    (void)state;
    store_close(fx.s);
    fx.s = NULL;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The rows read, one line each: "account user start end label role elsewhere". */
struct rows {
    char text[2048];
    size_t len;
};

static void on_member(void *arg, const struct store_member *m) {
    struct rows *r = arg;
    int n = snprintf(
        r->text + r->len, sizeof r->text - r->len, "%lld %lld %lld %lld %s %s %s %lld\n",
        (long long)m->account_id, (long long)m->user_id, (long long)m->start_ms,
        m->end_ms == STORE_OPEN_END ? -1LL : (long long)m->end_ms,
        m->email ? m->email : m->external_id, user_role_name(user_role_of_json(m->role_json)),
        m->role_json ? "has-trait" : "no-trait", (long long)m->elsewhere_ms);
    if (n > 0)
        r->len += (size_t)n;
}

static void read_rows(const struct store_span *sp, const char *key, bool role_only, int64_t before,
                      struct rows *out) {
    memset(out, 0, sizeof *out);
    ok(store_members_each(fx.s, sp, key, role_only, before, on_member, out));
}

static void every_member_with_user_role_and_elsewhere(void **state) {
    (void)state;
    struct store_span every = {.first = 1, .last = STORE_LAST_ID};
    struct rows r;
    read_rows(&every, "role", false, 10000, &r);
    char want[1024];
    snprintf(want, sizeof want,
             "%lld %lld 1000 5000 ann@a.io champion has-trait 3000\n"
             "%lld %lld 2000 -1 bob  no-trait 0\n"
             "%lld %lld 3000 -1 ann@a.io champion has-trait 1000\n"
             "%lld %lld 1000 -1 cy@c.io  no-trait 0\n",
             (long long)fx.a, (long long)fx.ann, (long long)fx.a, (long long)fx.bob,
             (long long)fx.b, (long long)fx.ann, (long long)fx.c, (long long)fx.cy);
    assert_string_equal(r.text, want);
}

static void elsewhere_counts_only_starts_before_the_instant(void **state) {
    (void)state;
    struct store_span one = {.first = fx.a, .last = fx.a, .ids = &fx.a, .n = 1};
    struct rows r;
    read_rows(&one, "role", false, 3000, &r); /* b's membership starts at 3000: not before */
    assert_non_null(strstr(r.text, "ann@a.io champion has-trait 0\n"));
    read_rows(&one, "role", false, 3001, &r);
    assert_non_null(strstr(r.text, "ann@a.io champion has-trait 3000\n"));
}

static void role_only_reads_the_users_with_the_trait(void **state) {
    (void)state;
    struct store_span every = {.first = 1, .last = STORE_LAST_ID};
    struct rows r;
    read_rows(&every, "role", true, 10000, &r);
    char want[512];
    snprintf(want, sizeof want,
             "%lld %lld 1000 5000 ann@a.io champion has-trait 3000\n"
             "%lld %lld 3000 -1 ann@a.io champion has-trait 1000\n",
             (long long)fx.a, (long long)fx.ann, (long long)fx.b, (long long)fx.ann);
    assert_string_equal(r.text, want);
    /* Another trait name: the configured one. */
    read_rows(&every, "persona", true, 10000, &r);
    snprintf(want, sizeof want, "%lld %lld 1000 -1 cy@c.io admin has-trait 0\n", (long long)fx.c,
             (long long)fx.cy);
    assert_string_equal(r.text, want);
}

static void listed_accounts_read_the_same_rows_as_a_range(void **state) {
    (void)state;
    int64_t ids[] = {fx.a, fx.c};
    struct store_span listed = {.first = fx.a, .last = fx.c, .ids = ids, .n = 2};
    struct store_span range = {.first = fx.a, .last = fx.c};
    for (int role_only = 0; role_only <= 1; role_only++) {
        struct rows x, y, b;
        read_rows(&listed, "role", role_only, 10000, &x);
        read_rows(&range, "role", role_only, 10000, &y);
        /* The range has b too: drop its rows to compare. */
        struct store_span only_b = {.first = fx.b, .last = fx.b, .ids = &fx.b, .n = 1};
        read_rows(&only_b, "role", role_only, 10000, &b);
        char *at = strstr(y.text, b.text);
        assert_non_null(at);
        memmove(at, at + b.len, strlen(at + b.len) + 1);
        assert_string_equal(x.text, y.text);
    }
}

static void an_account_without_members_reads_nothing(void **state) {
    (void)state;
    int64_t none = fx.c + 100;
    struct store_span one = {.first = none, .last = none, .ids = &none, .n = 1};
    struct rows r;
    read_rows(&one, "role", false, 10000, &r);
    assert_int_equal(r.len, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_member_with_user_role_and_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(elsewhere_counts_only_starts_before_the_instant, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(role_only_reads_the_users_with_the_trait, setup, teardown),
        cmocka_unit_test_setup_teardown(listed_accounts_read_the_same_rows_as_a_range, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_account_without_members_reads_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
