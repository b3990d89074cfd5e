/* test_http.c: unit tests of tend serve's transport parts: the one status
 * table (server/status), the body scan (server/prescan), the deadlines and
 * budgets (server/guard) and the worker threads (server/workers). Waits
 * poll a condition with a generous deadline; nothing assumes a speed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/guard.h"
#include "server/prescan.h"
#include "server/status.h"
#include "server/workers.h"

/* ---- the status table ------------------------------------------------------ */

static void each_error_has_one_status(void **state) {
    assert_int_equal(http_status_of(TEND_OK), 200);
    assert_int_equal(http_status_of(TEND_ERR_INVALID), 400);
    assert_int_equal(http_status_of(TEND_ERR_USAGE), 400);
    assert_int_equal(http_status_of(TEND_ERR_AUTH), 401);
    assert_int_equal(http_status_of(TEND_ERR_NOTFOUND), 404);
    assert_int_equal(http_status_of(TEND_ERR_CONFLICT), 409);
    assert_int_equal(http_status_of(TEND_ERR_LIMIT), 413);
    assert_int_equal(http_status_of(TEND_ERR_IO), 503);
    assert_int_equal(http_status_of(TEND_ERR_DB), 503);
    assert_int_equal(http_status_of(TEND_ERR_BUSY), 503);
    assert_string_equal(tend_strerror(TEND_ERR_CONFLICT), "refused by the current state");
}

/* ---- prescan ---------------------------------------------------------------- */

static void scan(const char *s, struct prescan *ps) {
    prescan_body(s, strlen(s), ps);
}

static void prescan_finds_the_key_and_counts_the_batch(void **state) {
    struct prescan ps;
    scan(" {\"writeKey\" : \"k1\", \"context\":{\"a\":[1,2]},\n "
         "\"batch\":[{\"a\":1},{\"b\":[1,2,3]},3]} ",
         &ps);
    assert_true(ps.object);
    assert_non_null(ps.write_key);
    assert_int_equal(ps.write_key_len, 4);
    assert_memory_equal(ps.write_key, "\"k1\"", 4);
    assert_true(ps.batch_array);
    assert_int_equal(ps.batch_items, 3);
}

static void prescan_counts_an_empty_batch_as_zero(void **state) {
    struct prescan ps;
    scan("{\"batch\":[ ]}", &ps);
    assert_true(ps.object);
    assert_true(ps.batch_array);
    assert_int_equal(ps.batch_items, 0);
    assert_null(ps.write_key);
    scan("{}", &ps);
    assert_true(ps.object);
    assert_false(ps.batch_array);
}

static void prescan_ignores_brackets_and_commas_inside_strings(void **state) {
    struct prescan ps;
    scan("{\"batch\":[\"a,]}[\", \"b\\\"],\", {\"k\":\"}\"}]}", &ps);
    assert_true(ps.object);
    assert_int_equal(ps.batch_items, 3);
}

static void prescan_counts_the_zeros_of_the_amplification_batch(void **state) {
    size_t n = 256000;
    char *s = malloc(n * 2 + 16);
    strcpy(s, "{\"batch\":[");
    size_t o = strlen(s);
    for (size_t i = 0; i < n; i++) {
        s[o++] = '0';
        s[o++] = i + 1 < n ? ',' : ']';
    }
    s[o++] = '}';
    s[o] = '\0';
    struct prescan ps;
    prescan_body(s, o, &ps);
    assert_true(ps.object);
    assert_int_equal(ps.batch_items, n);
    free(s);
}

static void prescan_decodes_escaped_keys_as_cjson_does(void **state) {
    struct prescan ps;
    scan("{\"b\\u0061tch\":[1,2],\"write\\u004bey\":\"k\"}", &ps);
    assert_true(ps.batch_array);
    assert_int_equal(ps.batch_items, 2);
    assert_non_null(ps.write_key);
    /* A decoded NUL ends the key, as in cJSON's C strings. */
    scan("{\"batch\\u0000junk\":[1,2,3]}", &ps);
    assert_int_equal(ps.batch_items, 3);
}

static void prescan_takes_the_first_of_duplicate_keys(void **state) {
    struct prescan ps;
    scan("{\"batch\":[1],\"batch\":[1,2,3],\"writeKey\":\"a\",\"writeKey\":\"b\"}", &ps);
    assert_int_equal(ps.batch_items, 1);
    assert_memory_equal(ps.write_key, "\"a\"", 3);
}

static void prescan_reads_no_object_from_broken_text(void **state) {
    const char *bad[] = {"",           "[1,2]",     "{\"batch\":[1,2",   "{\"a\" 1}",    "{\"a\":}",
                         "{\"a\":1,}", "{\"a\":1]", "{\"writeKey\":\"k", "{\"batch\":[}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct prescan ps;
        scan(bad[i], &ps);
        assert_false(ps.object);
        assert_null(ps.write_key);
        assert_int_equal(ps.batch_items, 0);
    }
}

static void prescan_survives_deep_nesting_without_recursion(void **state) {
    size_t depth = 400000;
    char *s = malloc(depth * 2 + 32);
    strcpy(s, "{\"batch\":");
    size_t o = strlen(s);
    memset(s + o, '[', depth);
    o += depth;
    memset(s + o, ']', depth);
    o += depth;
    s[o++] = '}';
    struct prescan ps;
    prescan_body(s, o, &ps);
    assert_true(ps.object);
    assert_int_equal(ps.batch_items, 1);
    prescan_body(s, o - 1, &ps); /* unterminated */
    assert_false(ps.object);
    free(s);
}

static void prescan_string_decodes_escapes_and_refuses_what_does_not_fit(void **state) {
    char out[32];
    const char *t = "\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\"";
    assert_true(prescan_string(t, strlen(t), out, sizeof out));
    assert_string_equal(out, "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80");
    assert_false(prescan_string("\"abc", 4, out, sizeof out));
    assert_false(prescan_string("\"a\\x\"", 5, out, sizeof out));
    assert_false(prescan_string("\"\\ud83d\"", 8, out, sizeof out)); /* a lone surrogate */
    assert_false(prescan_string("\"abcdef\"", 8, out, 4));
    assert_false(prescan_string("12", 2, out, sizeof out));
}

/* ---- budgets ------------------------------------------------------------------ */

static void budget_gives_what_it_has_and_no_more(void **state) {
    struct budget *b = budget_new(100);
    assert_true(budget_take(b, 60, 0));
    assert_false(budget_take(b, 50, 0));
    assert_true(budget_take(b, 40, 0));
    assert_int_equal(budget_used(b), 100);
    budget_give(b, 60);
    assert_true(budget_take(b, 50, 0));
    assert_false(budget_take(b, 101, 10000)); /* more than all: at once */
    budget_free(b);
}

static void budget_wait_ends_without_the_bytes(void **state) {
    struct budget *b = budget_new(10);
    assert_true(budget_take(b, 10, 0));
    assert_false(budget_take(b, 1, 20)); /* nobody gives back: the wait ends */
    budget_free(b);
}

struct giver {
    struct budget *b;
    volatile int waiting;
};

static void *give_later(void *arg) {
    struct giver *g = arg;
    while (!g->waiting)
        usleep(1000);
    usleep(20000);
    budget_give(g->b, 5);
    return NULL;
}

static void budget_waiter_gets_what_another_gives_back(void **state) {
    struct giver g = {.b = budget_new(10)};
    assert_true(budget_take(g.b, 10, 0));
    pthread_t t;
    pthread_create(&t, NULL, give_later, &g);
    g.waiting = 1;
    assert_true(budget_take(g.b, 5, 60000));
    pthread_join(t, NULL);
    assert_int_equal(budget_used(g.b), 10);
    budget_free(g.b);
}

/* ---- deadlines -------------------------------------------------------------------- */

/* Whether the peer of fd sees end of file within a minute. */
static bool peer_sees_eof(int fd) {
    for (int i = 0; i < 6000; i++) {
        char c;
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 0)
            return true;
        usleep(10000);
    }
    return false;
}

static void guard_shuts_connections_past_their_deadline_only(void **state) {
    int late[2], none[2], future[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, late), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, none), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, future), 0);
    struct guard *g = guard_start();
    struct guard_conn *c0 = guard_open(g, none[0], 0);
    struct guard_conn *c1 = guard_open(g, future[0], guard_now_ms() + 3600 * 1000);
    struct guard_conn *c2 = guard_open(g, late[0], guard_now_ms() + 3600 * 1000);
    guard_set_deadline(c2, guard_now_ms() - 1); /* moved into the past */
    assert_true(peer_sees_eof(late[1]));
    /* The reaper looked at all three in the pass that shut the late one. */
    char c;
    assert_int_equal(recv(none[1], &c, 1, MSG_DONTWAIT), -1);
    assert_int_equal(recv(future[1], &c, 1, MSG_DONTWAIT), -1);
    struct guard_stats st;
    guard_stats(g, &st);
    assert_int_equal(st.open, 3);
    assert_int_equal(st.expired, 1);
    guard_close(g, c0);
    guard_close(g, c1);
    guard_close(g, c2);
    guard_close(g, NULL);
    guard_stats(g, &st);
    assert_int_equal(st.open, 0);
    guard_stop(g);
    for (int i = 0; i < 2; i++) {
        close(late[i]);
        close(none[i]);
        close(future[i]);
    }
}

/* ---- workers ----------------------------------------------------------------------- */

struct counted {
    struct work w;
    int *runs;
    pthread_mutex_t *lock;
};

static void count_run(struct work *w) {
    struct counted *c = (struct counted *)w;
    pthread_mutex_lock(c->lock);
    (*c->runs)++;
    pthread_mutex_unlock(c->lock);
}

static void workers_run_each_queued_item_once(void **state) {
    enum { N = 500 };
    static struct counted items[N];
    int runs = 0;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct workers *ws = workers_start(3, "test-workers");
    for (int i = 0; i < N; i++) {
        items[i] = (struct counted){.w.run = count_run, .runs = &runs, .lock = &lock};
        assert_true(workers_submit(ws, &items[i].w));
    }
    workers_stop(ws); /* runs what is queued */
    assert_int_equal(runs, N);
    workers_stop(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_error_has_one_status),
        cmocka_unit_test(prescan_finds_the_key_and_counts_the_batch),
        cmocka_unit_test(prescan_counts_an_empty_batch_as_zero),
        cmocka_unit_test(prescan_ignores_brackets_and_commas_inside_strings),
        cmocka_unit_test(prescan_counts_the_zeros_of_the_amplification_batch),
        cmocka_unit_test(prescan_decodes_escaped_keys_as_cjson_does),
        cmocka_unit_test(prescan_takes_the_first_of_duplicate_keys),
        cmocka_unit_test(prescan_reads_no_object_from_broken_text),
        cmocka_unit_test(prescan_survives_deep_nesting_without_recursion),
        cmocka_unit_test(prescan_string_decodes_escapes_and_refuses_what_does_not_fit),
        cmocka_unit_test(budget_gives_what_it_has_and_no_more),
        cmocka_unit_test(budget_wait_ends_without_the_bytes),
        cmocka_unit_test(budget_waiter_gets_what_another_gives_back),
        cmocka_unit_test(guard_shuts_connections_past_their_deadline_only),
        cmocka_unit_test(workers_run_each_queued_item_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
