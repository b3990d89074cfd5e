/* test_store_users.c: store_members_each (store.h), the members of the
 * span's accounts with their user and role trait, and store_user_logins_each
 * (each user's logins per day, counted as stale days are rebuilt), on whichever backend
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
#include "core/vocab.h"
#include "eval/users.h"
#include "store/store.h"
#include "test_db.h"
#include "util/datetime.h"

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

/* ---- users' login days -------------------------------------------------------------- */

#define DAY DT_MS_PER_DAY
static const int32_t D = 20400; /* evaluated as of the end of day D */

static void login(int64_t account, int64_t user, int32_t day, int hour, uint64_t key) {
    struct store_event ev = {.key_ts_ms = (int64_t)day * DAY + hour * 3600000LL,
                             .key_hash = key,
                             .ts_ms = (int64_t)day * DAY + hour * 3600000LL,
                             .kind = EV_LOGIN,
                             .account_id = account,
                             .user_id = user};
    bool inserted;
    ok(store_event_put(fx.s, &ev, &inserted));
    assert_true(inserted);
}

/* ann's logins (two on some days) in a and b, bob's in a, and one day
 * outside the 12 weeks. */
static void some_logins(void) {
    ok(store_begin(fx.s, NULL));
    uint64_t key = 1;
    for (int k = 0; k < 90; k += 3)
        login(fx.a, fx.ann, D - k, 9, key++);
    login(fx.a, fx.ann, D - 9, 17, key++);
    login(fx.a, fx.ann, D - 10, 23, key++);
    login(fx.a, fx.bob, D - 1, 8, key++);
    login(fx.b, fx.ann, D - 2, 8, key++);
    ok(store_commit(fx.s));
}

struct day_rows {
    char text[2048];
    size_t len;
};

static void on_day(void *arg, int32_t day, int64_t logins) {
    struct day_rows *r = arg;
    int n = snprintf(r->text + r->len, sizeof r->text - r->len, "%d:%lld ", (int)(D - day),
                     (long long)logins);
    if (n > 0)
        r->len += (size_t)n;
}

static void login_days_are_counted_when_a_stale_day_is_rebuilt(void **state) {
    (void)state;
    some_logins();
    struct day_rows r = {0};
    ok(store_user_logins_each(fx.s, fx.a, fx.ann, D - 30, D, on_day, &r));
    assert_int_equal(r.len, 0); /* stale: not counted yet */
    int done = 0;
    ok(store_begin(fx.s, NULL));
    ok(store_activity_refresh(fx.s, 1000, &done));
    ok(store_commit(fx.s));
    assert_true(done > 0);
    ok(store_user_logins_each(fx.s, fx.a, fx.ann, D - 12, D, on_day, &r));
    assert_string_equal(r.text, "12:1 10:1 9:2 6:1 3:1 0:1 ");
    memset(&r, 0, sizeof r);
    ok(store_user_logins_each(fx.s, fx.b, fx.ann, D - 12, D, on_day, &r));
    assert_string_equal(r.text, "2:1 ");
    /* A later login of a rebuilt day: the day is stale again, then counted anew. */
    ok(store_begin(fx.s, NULL));
    login(fx.a, fx.ann, D, 20, 999);
    ok(store_activity_refresh(fx.s, 1000, &done));
    ok(store_commit(fx.s));
    memset(&r, 0, sizeof r);
    ok(store_user_logins_each(fx.s, fx.a, fx.ann, D, D, on_day, &r));
    assert_string_equal(r.text, "0:2 ");
}

/* The evaluation's reading of the members' 12 weeks (login days, stale days
 * from the events) gives what the user list counts from the events alone,
 * before and after the rollups are rebuilt. */
static void the_evaluation_counts_as_the_events_do_stale_or_not(void **state) {
    (void)state;
    some_logins();
    int64_t t_ms = (int64_t)(D + 1) * DAY;
    struct eval_users want;
    ok(eval_users_read(fx.s, fx.a, "role", t_ms, &want));
    const struct user_engagement *w = NULL;
    for (size_t i = 0; i < want.acc.n; i++)
        if (want.acc.v[i].user_id == fx.ann)
            w = &want.acc.v[i];
    assert_non_null(w);
    assert_int_equal(w->logins_4w, 12);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            int done;
            ok(store_begin(fx.s, NULL));
            ok(store_activity_refresh(fx.s, 1000, &done));
            ok(store_commit(fx.s));
        }
        struct store_span every = {.first = 1, .last = STORE_LAST_ID};
        struct eval_roles *r;
        ok(eval_roles_load(fx.s, &every, "role", t_ms, &r));
        struct users_acc got;
        bool any;
        ok(eval_roles_account(fx.s, r, fx.a, &got, &any));
        assert_true(any);
        assert_int_equal(got.n, 1); /* ann: the one with a role */
        const struct user_engagement *g = &got.v[0];
        assert_int_equal(g->user_id, fx.ann);
        assert_memory_equal(g->weeks, w->weeks, sizeof g->weeks);
        assert_int_equal(g->logins_30d, w->logins_30d);
        assert_int_equal(g->logins_4w, w->logins_4w);
        assert_int_equal(g->logins_prev_4w, w->logins_prev_4w);
        assert_int_equal(g->last_login_day, w->last_login_day);
        users_free(&got);
        eval_roles_free(r);
    }
    eval_users_free(&want);
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
        cmocka_unit_test_setup_teardown(login_days_are_counted_when_a_stale_day_is_rebuilt, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_evaluation_counts_as_the_events_do_stale_or_not, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
