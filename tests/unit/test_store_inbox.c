/* test_store_inbox.c: the webhook inbox and the providers' ids of accounts
 * on either backend (test_db.h: SQLite, or PostgreSQL under
 * tests/integration/store_pg.sh):
 *
 * - an event is kept once per (provider, event id): a retry is told it was
 *   there and changes nothing;
 * - a worker takes the oldest pending row with its payload and finishes it
 *   in its transaction; a rolled-back transaction leaves it pending;
 * - on PostgreSQL two workers at once (two nodes) take two different rows:
 *   the one being processed is skipped, not waited for (SKIP LOCKED);
 * - replay puts unmapped and failed rows back (or one row by id), never
 *   ignored or done ones unless asked; pruning deletes old rows but never
 *   pending ones; counts per provider, status and reason;
 * - the mapping table is an upsert; bounds are refused with the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static struct store *fresh(char *path, size_t size) {
    snprintf(path, size, "%s/inbox-%d.db", dir, ++n_db);
    return open_path(path);
}

static bool put(struct store *s, const char *provider, const char *id, int64_t at) {
    bool inserted = false;
    char payload[128];
    snprintf(payload, sizeof payload, "{\"id\":\"%s\"}", id);
    if (store_inbox_put(s, provider, id, "invoice.paid", at, payload, &inserted))
        fail_msg("inbox_put: %s", store_last_error(s));
    return inserted;
}

struct taken {
    int64_t id;
    char event_id[64], payload[128], status[16];
    int n;
};

static void on_row(void *arg, const struct store_inbox_row *r) {
    struct taken *t = arg;
    t->id = r->id;
    snprintf(t->event_id, sizeof t->event_id, "%s", r->event_id);
    snprintf(t->payload, sizeof t->payload, "%s", r->payload ? r->payload : "(null)");
    snprintf(t->status, sizeof t->status, "%s", r->status);
    t->n++;
}

/* The status of the row with event id (listed), or "" when gone. */
struct find {
    const char *event_id;
    char status[16], reason[64], account[64];
    int attempts, events;
};
static void on_find(void *arg, const struct store_inbox_row *r) {
    struct find *f = arg;
    if (strcmp(r->event_id, f->event_id) == 0) {
        snprintf(f->status, sizeof f->status, "%s", r->status);
        snprintf(f->reason, sizeof f->reason, "%s", r->reason);
        snprintf(f->account, sizeof f->account, "%s", r->account);
        f->attempts = r->attempts;
        f->events = r->events;
        assert_null(r->payload); /* the list does not carry payloads */
    }
}
static struct find status_of(struct store *s, const char *event_id) {
    struct find f = {.event_id = event_id};
    assert_int_equal(store_inbox_each(s, NULL, NULL, 1000, on_find, &f), TEND_OK);
    return f;
}

/* Takes and finishes the next row in a transaction of its own. */
static struct taken take(struct store *s, const char *status, const char *reason) {
    struct taken t = {0};
    bool found;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_inbox_next(s, on_row, &t, &found), TEND_OK);
    if (found)
        assert_int_equal(store_inbox_finish(s, t.id, status, reason, "why", "acme", 1, 5000),
                         TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    return t;
}

static void kept_once_taken_oldest_first(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    assert_true(put(s, "stripe", "evt_1", 1000));
    assert_false(put(s, "stripe", "evt_1", 2000)); /* a retry */
    assert_true(put(s, "zendesk", "evt_1", 1000)); /* another provider's id space */
    assert_true(put(s, "stripe", "evt_2", 3000));
    struct taken t = take(s, "done", "");
    assert_int_equal(t.n, 1);
    assert_string_equal(t.event_id, "evt_1");
    assert_string_equal(t.payload, "{\"id\":\"evt_1\"}");
    assert_string_equal(t.status, "pending");
    struct find f = status_of(s, "evt_1");
    assert_int_equal(f.attempts, 1);
    assert_int_equal(f.events, 1);
    assert_string_equal(f.account, "acme");
    /* A rolled-back transaction leaves its row pending. */
    struct taken u = {0};
    bool found;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_inbox_next(s, on_row, &u, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(store_inbox_finish(s, u.id, "done", "", "", "", 0, 6000), TEND_OK);
    store_rollback(s);
    t = take(s, "unmapped", "unknown_account");
    assert_int_equal(t.id, u.id);
    t = take(s, "ignored", "unhandled_type");
    assert_int_equal(t.n, 1);
    t = take(s, "done", "");
    assert_int_equal(t.n, 0); /* nothing pending */
    store_close(s);
}

static void replay_prune_and_counts(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    put(s, "stripe", "a", 1000);
    put(s, "stripe", "b", 2000);
    put(s, "stripe", "c", 3000);
    put(s, "hubspot", "d", 4000);
    take(s, "unmapped", "unknown_account"); /* a */
    take(s, "ignored", "unhandled_type");   /* b */
    take(s, "failed", "bad_payload");       /* c */
    take(s, "unmapped", "unknown_owner");   /* d */
    int64_t n = 0;
    assert_int_equal(store_inbox_requeue(s, "stripe", NULL, 0, &n), TEND_OK);
    assert_int_equal(n, 2); /* a and c, not the ignored b, not hubspot's d */
    assert_string_equal(status_of(s, "a").status, "pending");
    assert_string_equal(status_of(s, "b").status, "ignored");
    assert_string_equal(status_of(s, "c").status, "pending");
    assert_string_equal(status_of(s, "d").status, "unmapped");
    /* One row by id, whatever its status. */
    struct taken t = {0};
    bool found;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_inbox_next(s, on_row, &t, &found), TEND_OK);
    store_rollback(s);
    take(s, "done", "");
    take(s, "done", "");
    assert_int_equal(store_inbox_requeue(s, NULL, "ignored", 0, &n), TEND_OK);
    assert_int_equal(n, 1);
    take(s, "ignored", "unhandled_type");
    assert_int_equal(store_inbox_requeue(s, NULL, NULL, t.id, &n), TEND_OK);
    assert_int_equal(n, 1);
    assert_string_equal(status_of(s, t.event_id).status, "pending");
    /* Pruning: rows received before 2500 that are not pending. */
    assert_int_equal(store_inbox_prune(s, 2500, &n), TEND_OK);
    assert_int_equal(n, 1); /* b; a is pending again */
    assert_string_equal(status_of(s, "b").status, "");
    assert_string_equal(status_of(s, "a").status, "pending");
    store_close(s);
}

struct counts {
    int64_t unknown_owner, pending, total;
};
static void on_count(void *arg, const char *provider, const char *status, const char *reason,
                     int64_t rows) {
    struct counts *c = arg;
    c->total += rows;
    if (strcmp(provider, "hubspot") == 0 && strcmp(status, "unmapped") == 0 &&
        strcmp(reason, "unknown_owner") == 0)
        c->unknown_owner += rows;
    if (strcmp(status, "pending") == 0)
        c->pending += rows;
}

static void counts_by_provider_status_and_reason(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    put(s, "hubspot", "x", 1000);
    put(s, "hubspot", "y", 1000);
    put(s, "stripe", "z", 1000);
    take(s, "unmapped", "unknown_owner");
    take(s, "unmapped", "unknown_owner");
    struct counts c = {0};
    if (store_inbox_counts(s, on_count, &c))
        fail_msg("inbox_counts: %s", store_last_error(s));
    assert_int_equal(c.unknown_owner, 2);
    assert_int_equal(c.pending, 1);
    assert_int_equal(c.total, 3);
    store_close(s);
}

static void two_workers_take_two_rows(void **state) {
    (void)state;
    char path[300];
    struct store *a = fresh(path, sizeof path);
    struct store *b = open_path(path);
    put(a, "stripe", "one", 1000);
    put(a, "stripe", "two", 2000);
    struct taken ta = {0}, tb = {0};
    bool found;
    assert_int_equal(store_begin(a, NULL), TEND_OK);
    assert_int_equal(store_inbox_next(a, on_row, &ta, &found), TEND_OK);
    assert_string_equal(ta.event_id, "one");
    if (strcmp(test_db_backend(), "postgresql") == 0) {
        /* Another node's worker skips the row being processed. */
        assert_int_equal(store_begin(b, NULL), TEND_OK);
        assert_int_equal(store_inbox_next(b, on_row, &tb, &found), TEND_OK);
        assert_true(found);
        assert_string_equal(tb.event_id, "two");
        assert_int_equal(store_inbox_finish(b, tb.id, "done", "", "", "", 0, 9), TEND_OK);
        assert_int_equal(store_commit(b), TEND_OK);
    }
    assert_int_equal(store_inbox_finish(a, ta.id, "done", "", "", "", 0, 9), TEND_OK);
    assert_int_equal(store_commit(a), TEND_OK);
    if (strcmp(test_db_backend(), "postgresql") != 0) /* SQLite: one writer at a time */
        tb = take(b, "done", "");
    assert_string_equal(tb.event_id, "two");
    assert_int_equal(status_of(a, "one").attempts, 1);
    assert_int_equal(status_of(a, "two").attempts, 1);
    store_close(a);
    store_close(b);
}

static void mapping_table_and_bounds(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    char account[STORE_INBOX_ID_BYTES];
    bool found = true;
    assert_int_equal(store_hook_account_get(s, "stripe", "cus_1", account, &found), TEND_OK);
    assert_false(found);
    assert_int_equal(store_hook_account_put(s, "stripe", "cus_1", "acme", 1), TEND_OK);
    assert_int_equal(store_hook_account_put(s, "stripe", "cus_1", "globex", 2), TEND_OK);
    assert_int_equal(store_hook_account_get(s, "stripe", "cus_1", account, &found), TEND_OK);
    assert_true(found);
    assert_string_equal(account, "globex");
    assert_int_equal(store_hook_account_get(s, "zendesk", "cus_1", account, &found), TEND_OK);
    assert_false(found);
    char long_id[400];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    bool inserted;
    assert_int_equal(store_inbox_put(s, "stripe", long_id, "t", 1, "{}", &inserted),
                     TEND_ERR_LIMIT);
    assert_non_null(strstr(store_last_error(s), "event id"));
    assert_int_equal(store_hook_account_put(s, "stripe", "", "acme", 1), TEND_ERR_INVALID);
    store_close(s);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-store-inbox-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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
        cmocka_unit_test(kept_once_taken_oldest_first),
        cmocka_unit_test(replay_prune_and_counts),
        cmocka_unit_test(counts_by_provider_status_and_reason),
        cmocka_unit_test(two_workers_take_two_rows),
        cmocka_unit_test(mapping_table_and_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
