/* test_store_slack.c: the person actions a Slack click applies
 * (eval_cta_act_once, eval/act.h), on the backend under test (test_db.h:
 * store_pg.sh runs this on PostgreSQL too):
 *
 * - acknowledge records who, changes no state, and a closed CTA refuses it;
 * - each action repeated by the same person records nothing the second
 *   time and says "already";
 * - the same acknowledge from two connections at once records one entry
 *   (the check and the write are one transaction under the account's lock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "core/cta.h"
#include "eval/act.h"
#include "store/store.h"
#include "test_db.h"

static char dir[256];
static int n_db;

static struct store *open_path(const char *path) {
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open %s: %s", path, err);
    return s;
}

/* A fresh store with one open CTA of owner csm@x; its id in *id. */
static struct store *fresh(char *path, size_t size, int64_t *id) {
    snprintf(path, size, "%s/slack-%d.db", dir, ++n_db);
    struct store *s = open_path(path);
    int64_t account = 0;
    bool created = false;
    assert_int_equal(store_account_ensure(s, "acme", 1000, &account, &created), TEND_OK);
    struct store_cta c = {.account_id = account,
                          .rule = "no_login",
                          .subject = "",
                          .type = "risk",
                          .priority = CTA_MEDIUM,
                          .status = CTA_OPEN,
                          .owner = "csm@x",
                          .title = "No logins",
                          .reason = "14 days",
                          .evidence = "{}",
                          .opened_day = 100,
                          .due_day = 107,
                          .updated_ms = 5000};
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_cta_insert(s, &c, id), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    return s;
}

static void count_one(void *arg, const struct store_cta_change *ch) {
    (void)ch;
    (*(int *)arg)++;
}

static int history_len(struct store *s, int64_t id) {
    int n = 0;
    assert_int_equal(store_cta_history_each(s, id, count_one, &n), TEND_OK);
    return n;
}

struct got {
    int status;
    int32_t until;
    char owner[64];
};

static void on_cta(void *arg, const struct store_cta *c) {
    struct got *g = arg;
    g->status = c->status;
    g->until = c->snoozed_until;
    snprintf(g->owner, sizeof g->owner, "%s", c->owner);
}

static struct got read_cta(struct store *s, int64_t id) {
    struct got g = {0};
    assert_int_equal(store_cta_get(s, id, on_cta, &g), TEND_OK);
    return g;
}

static void test_acknowledge_records_who_and_changes_nothing_else(void **state) {
    (void)state;
    char path[320], msg[400];
    int64_t id;
    struct store *s = fresh(path, sizeof path, &id);
    struct cta_act a = {.verb = CTA_ACT_ACKNOWLEDGE, .by = "ann@x", .has_on = true, .on = 101};
    bool changed = false;
    assert_int_equal(eval_cta_act_once(s, id, &a, msg, sizeof msg, &changed), TEND_OK);
    assert_true(changed);
    assert_string_equal(msg, "acknowledged");
    assert_int_equal(history_len(s, id), 1);
    struct got g = read_cta(s, id);
    assert_int_equal(g.status, CTA_OPEN);
    assert_string_equal(g.owner, "csm@x");
    /* Another person's acknowledge is theirs: recorded too. */
    a.by = "bob@x";
    assert_int_equal(eval_cta_act_once(s, id, &a, msg, sizeof msg, &changed), TEND_OK);
    assert_true(changed);
    assert_int_equal(history_len(s, id), 2);
    /* Closed: refused. */
    struct cta_act close = {
        .verb = CTA_ACT_CLOSE, .reason = CTA_RESOLVED, .by = "ann@x", .has_on = true, .on = 101};
    assert_int_equal(eval_cta_act(s, id, &close, msg, sizeof msg), TEND_OK);
    a.by = "carl@x";
    assert_int_equal(eval_cta_act_once(s, id, &a, msg, sizeof msg, &changed), TEND_ERR_CONFLICT);
    assert_false(changed);
    assert_int_equal(history_len(s, id), 3);
    store_close(s);
}

static void test_each_action_repeated_records_nothing(void **state) {
    (void)state;
    char path[320], msg[400];
    int64_t id;
    struct store *s = fresh(path, sizeof path, &id);
    struct cta_act acts[] = {
        {.verb = CTA_ACT_ACKNOWLEDGE, .by = "ann@x", .has_on = true, .on = 101},
        {.verb = CTA_ACT_ASSIGN, .owner = "ann@x", .by = "ann@x", .has_on = true, .on = 101},
        {.verb = CTA_ACT_SNOOZE, .until = 108, .by = "ann@x", .has_on = true, .on = 101},
        {.verb = CTA_ACT_CLOSE, .reason = CTA_RESOLVED, .by = "ann@x", .has_on = true, .on = 101},
    };
    const char *already[] = {"already acknowledged by ann@x", "already owned by ann@x",
                             "already snoozed until", "already closed as resolved"};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        bool changed = false;
        assert_int_equal(eval_cta_act_once(s, id, &acts[i], msg, sizeof msg, &changed), TEND_OK);
        assert_true(changed);
        int n = history_len(s, id);
        assert_int_equal(n, (int)i + 1);
        assert_int_equal(eval_cta_act_once(s, id, &acts[i], msg, sizeof msg, &changed), TEND_OK);
        assert_false(changed);
        assert_non_null(strstr(msg, already[i]));
        assert_int_equal(history_len(s, id), n);
    }
    struct got g = read_cta(s, id);
    assert_int_equal(g.status, CTA_CLOSED);
    assert_string_equal(g.owner, "ann@x");
    /* A snooze to another day is a change, not a repeat (on a live CTA). */
    store_close(s);
    s = fresh(path, sizeof path, &id);
    bool changed;
    assert_int_equal(eval_cta_act_once(s, id, &acts[2], msg, sizeof msg, &changed), TEND_OK);
    struct cta_act later = acts[2];
    later.until = 110;
    assert_int_equal(eval_cta_act_once(s, id, &later, msg, sizeof msg, &changed), TEND_OK);
    assert_true(changed);
    assert_int_equal(read_cta(s, id).until, 110);
    assert_int_equal(history_len(s, id), 2);
    store_close(s);
}

struct clicker {
    const char *path;
    int64_t id;
    pthread_barrier_t *start;
    enum tend_err err;
    char msg[400];
};

static void *click(void *arg) {
    struct clicker *c = arg;
    struct store *s = open_path(c->path);
    struct cta_act a = {.verb = CTA_ACT_ACKNOWLEDGE, .by = "ann@x", .has_on = true, .on = 101};
    bool changed;
    pthread_barrier_wait(c->start);
    /* SQLite may answer busy to the second writer: it retries as Slack's
     * user would, a bounded number of times. */
    for (int i = 0; i < 50; i++) {
        c->err = eval_cta_act_once(s, c->id, &a, c->msg, sizeof c->msg, &changed);
        if (c->err != TEND_ERR_DB)
            break;
        usleep(20000);
    }
    store_close(s);
    return NULL;
}

static void test_two_identical_clicks_at_once_record_one(void **state) {
    (void)state;
    for (int round = 0; round < 5; round++) {
        char path[320];
        int64_t id;
        struct store *s = fresh(path, sizeof path, &id);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        struct clicker c[2] = {{.path = path, .id = id, .start = &start},
                               {.path = path, .id = id, .start = &start}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, click, &c[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        if (c[0].err || c[1].err)
            fail_msg("round %d: %s / %s", round, c[0].msg, c[1].msg);
        assert_int_equal(history_len(s, id), 1);
        store_close(s);
    }
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-store-slack-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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
        cmocka_unit_test(test_acknowledge_records_who_and_changes_nothing_else),
        cmocka_unit_test(test_each_action_repeated_records_nothing),
        cmocka_unit_test(test_two_identical_clicks_at_once_record_one),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
