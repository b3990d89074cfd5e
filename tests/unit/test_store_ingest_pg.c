/* test_store_ingest_pg.c: the ingest's promises on the backend under test
 * (test_db.h: PostgreSQL under tests/integration/store_pg.sh, SQLite
 * otherwise), against SQLite's results for the same messages.
 *
 * The PostgreSQL backend answers some of ingest's reads from what the
 * transaction itself wrote (pg_ingest.c: the traits of a locked entity,
 * the users it inserted) and queues its writes in a pipeline
 * (pg_pipeline.c). These tests put identify, group and track calls
 * interleaved in one transaction — traits overwritten within it, in and out
 * of time order, a user moving accounts, a removal, duplicates within and
 * across transactions, events quarantined and re-attached — into a SQLite
 * store and into the store under test, and compare what each reads back
 * through the store API: accounts (typed columns, traits, members, events),
 * users' traits, labels and memberships, the quarantine and the counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ingest/ingest.h"
#include "ingest/segment.h"
#include "store/store.h"
#include "test_db.h"

#define RECEIVED_MS 1717200000000LL /* 2024-06-01T00:00:00Z */
#define T1          "2024-05-01T10:00:00Z"
#define T2          "2024-05-02T10:00:00Z"
#define T3          "2024-05-03T10:00:00Z"
#define T4          "2024-05-04T10:00:00Z"

static struct {
    char dir[256];
    char ref_path[300], test_path[300];
} fx;

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx.dir, sizeof fx.dir, "%s/tend-test-ingest-pg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.ref_path, sizeof fx.ref_path, "%s/ref.db", fx.dir);
    snprintf(fx.test_path, sizeof fx.test_path, "%s/test.db", fx.dir);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    const char *paths[] = {fx.ref_path, fx.test_path};
    for (size_t p = 0; p < 2; p++)
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
            char f[320];
            snprintf(f, sizeof f, "%s%s", paths[p], suffixes[i]);
            unlink(f);
        }
    return rmdir(fx.dir);
}

/* Applies json in ig's open transaction; returns its outcome. */
static enum ingest_outcome apply(struct ingest *ig, struct store *s, const char *json) {
    cJSON *tree = cJSON_Parse(json);
    if (!tree)
        fail_msg("test JSON does not parse: %s", json);
    struct seg_msg m;
    char err[SEG_ERR_BYTES] = "";
    enum tend_err e = segment_parse_msg(tree, NULL, RECEIVED_MS, json, strlen(json), &m, err);
    if (e != TEND_OK)
        fail_msg("segment_parse_msg rejected (%d) %s: %s", (int)e, json, err);
    enum ingest_outcome outcome = (enum ingest_outcome) - 1;
    e = ingest_message(ig, &m, &outcome);
    cJSON_Delete(tree);
    if (e != TEND_OK)
        fail_msg("ingest_message failed (%d): %s", (int)e, store_last_error(s));
    return outcome;
}

/* A growing text of what a store reads back. */
struct dump {
    char v[16384];
    size_t len;
};

static void say(struct dump *d, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->v + d->len, sizeof d->v - d->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof d->v - d->len)
        fail_msg("dump too long");
    d->len += (size_t)n;
}

static int on_account(void *arg, const struct store_account_row *r) {
    say(arg, "account %s: name=%s plan=%s mrr=%s%g seats=%lld members=%lld events=%lld traits=%s\n",
        r->external_id, r->f.name ? r->f.name : "-", r->f.plan ? r->f.plan : "-",
        r->f.has_mrr ? "" : "none:", r->f.has_mrr ? r->f.mrr : 0.0,
        (long long)(r->f.has_seats ? r->f.seats : -1), (long long)r->members, (long long)r->events,
        r->traits_json ? r->traits_json : "-");
    return 0;
}

static void on_trait(void *arg, const char *key, const char *value) {
    say(arg, " %s=%s", key, value);
}

static void on_counter(void *arg, const char *name, int64_t value) {
    say(arg, "counter %s=%lld\n", name, (long long)value);
}

/* The ids of accounts in the dump are the store's own: each store numbers its
 * rows, so memberships are shown by external id. */
static const char *const accounts[] = {"acc_a", "acc_b", "acc_c", "acc_d"};
static const char *const users[] = {"u1", "u2", "u3", "u4", "u5"};

static const char *account_name(struct store *s, int64_t id) {
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++) {
        int64_t a;
        if (store_account_find(s, accounts[i], &a) == TEND_OK && a == id)
            return accounts[i];
    }
    return "?";
}

static void dump_store(struct store *s, struct dump *d) {
    assert_int_equal(store_accounts_each(s, on_account, d), TEND_OK);
    for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++) {
        int64_t id;
        if (store_account_find(s, accounts[i], &id) != TEND_OK)
            continue;
        say(d, "account %s traits:", accounts[i]);
        assert_int_equal(store_traits_each(s, STORE_ACCOUNT, id, on_trait, d), TEND_OK);
        say(d, "\n");
    }
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        int64_t id;
        assert_int_equal(store_begin(s, NULL), TEND_OK);
        assert_int_equal(store_user_ensure(s, users[i], false, 0, &id), TEND_OK);
        char label[128];
        assert_int_equal(store_user_label(s, id, label, sizeof label), TEND_OK);
        say(d, "user %s label=%s traits:", users[i], label);
        assert_int_equal(store_traits_each(s, STORE_USER, id, on_trait, d), TEND_OK);
        struct store_membership *m = NULL;
        size_t n = 0;
        assert_int_equal(store_user_memberships(s, id, &m, &n), TEND_OK);
        for (size_t j = 0; j < n; j++)
            say(d, " member(%s %lld..%lld)", account_name(s, m[j].account_id),
                (long long)m[j].start_ms, (long long)m[j].end_ms);
        free(m);
        say(d, "\n");
        store_rollback(s); /* the ensure of a user the messages never named */
    }
    struct store_status st;
    assert_int_equal(store_status_get(s, &st), TEND_OK);
    say(d, "status accounts=%lld users=%lld open=%lld ended=%lld quarantined=%lld\n",
        (long long)st.accounts, (long long)st.users, (long long)st.memberships_open,
        (long long)st.memberships_ended, (long long)st.quarantined);
    assert_int_equal(store_counters_each(s, on_counter, d), TEND_OK);
}

/* The messages, in transactions (NULL ends one). */
static const char *const script[] = {
    /* u1's event for an account nobody knows yet: quarantined. */
    "{\"type\":\"track\",\"messageId\":\"m01\",\"userId\":\"u1\",\"event\":\"Report "
    "Exported\",\"context\":{\"groupId\":\"acc_b\"},\"timestamp\":\"" T2 "\"}",
    /* u1's traits, overwritten within the transaction: the later time wins,
     * whatever the order of arrival. */
    "{\"type\":\"identify\",\"messageId\":\"m02\",\"userId\":\"u1\",\"traits\":{\"email\":"
    "\"new@u1.example\",\"name\":\"One\",\"title\":\"CTO\"},\"timestamp\":\"" T3 "\"}",
    "{\"type\":\"identify\",\"messageId\":\"m03\",\"userId\":\"u1\",\"traits\":{\"email\":"
    "\"old@u1.example\",\"title\":\"Dev\",\"nick\":\"o\"},\"timestamp\":\"" T1 "\"}",
    "{\"type\":\"identify\",\"messageId\":\"m04\",\"userId\":\"u1\",\"traits\":{\"title\":"
    "\"CEO\",\"nick\":\"n\"},\"timestamp\":\"" T4 "\"}",
    /* The same message again within the transaction: a duplicate. */
    "{\"type\":\"identify\",\"messageId\":\"m02\",\"userId\":\"u1\",\"traits\":{\"email\":"
    "\"new@u1.example\",\"name\":\"One\",\"title\":\"CTO\"},\"timestamp\":\"" T3 "\"}",
    /* u2 (new) does something before belonging anywhere: quarantined. */
    "{\"type\":\"track\",\"messageId\":\"m05\",\"userId\":\"u2\",\"event\":\"Report "
    "Exported\",\"timestamp\":\"" T2 "\"}",
    /* acc_a created by u1's group call, traits overwritten out of order. */
    "{\"type\":\"group\",\"messageId\":\"m06\",\"userId\":\"u1\",\"groupId\":\"acc_a\",\"traits\":"
    "{\"name\":\"Acme\",\"plan\":\"enterprise\",\"mrr\":900,\"seats\":9},\"timestamp\":\"" T3 "\"}",
    "{\"type\":\"group\",\"messageId\":\"m07\",\"userId\":\"u1\",\"groupId\":\"acc_a\",\"traits\":"
    "{\"plan\":\"starter\",\"mrr\":100,\"segment\":\"smb\"},\"timestamp\":\"" T1 "\"}",
    /* u2 joins acc_a: its quarantined event is attached. */
    "{\"type\":\"group\",\"messageId\":\"m08\",\"userId\":\"u2\",\"groupId\":\"acc_a\","
    "\"timestamp\":\"" T1 "\"}",
    /* acc_b appears: u1's first event is attached; u1 is in two accounts. */
    "{\"type\":\"group\",\"messageId\":\"m09\",\"userId\":\"u1\",\"groupId\":\"acc_b\",\"traits\":"
    "{\"name\":\"Bee\"},\"timestamp\":\"" T2 "\"}",
    /* u2 moves: removed from acc_a, joins acc_c. */
    "{\"type\":\"track\",\"messageId\":\"m10\",\"userId\":\"u2\",\"event\":\"Account Removed "
    "User\",\"context\":{\"groupId\":\"acc_a\"},\"timestamp\":\"" T3 "\"}",
    "{\"type\":\"group\",\"messageId\":\"m11\",\"userId\":\"u2\",\"groupId\":\"acc_c\","
    "\"timestamp\":\"" T3 "\"}",
    /* u3 (new) identified with its company in the same transaction. */
    "{\"type\":\"identify\",\"messageId\":\"m12\",\"userId\":\"u3\",\"traits\":{\"email\":"
    "\"u3@c.example\",\"company\":{\"id\":\"acc_c\"}},\"timestamp\":\"" T2 "\"}",
    "{\"type\":\"track\",\"messageId\":\"m13\",\"userId\":\"u3\",\"event\":\"Signed "
    "In\",\"timestamp\":\"" T4 "\"}",
    NULL,
    /* Duplicates of the first transaction's messages. */
    "{\"type\":\"group\",\"messageId\":\"m06\",\"userId\":\"u1\",\"groupId\":\"acc_a\",\"traits\":"
    "{\"name\":\"Acme\",\"plan\":\"enterprise\",\"mrr\":900,\"seats\":9},\"timestamp\":\"" T3 "\"}",
    "{\"type\":\"track\",\"messageId\":\"m05\",\"userId\":\"u2\",\"event\":\"Report "
    "Exported\",\"timestamp\":\"" T2 "\"}",
    /* u2 now belongs to acc_c only at T4. */
    "{\"type\":\"track\",\"messageId\":\"m14\",\"userId\":\"u2\",\"event\":\"Report "
    "Exported\",\"timestamp\":\"" T4 "\"}",
    /* A new user's event waits for acc_d, which its group call creates. */
    "{\"type\":\"track\",\"messageId\":\"m15\",\"userId\":\"u4\",\"event\":\"Signed "
    "In\",\"timestamp\":\"" T2 "\"}",
    "{\"type\":\"identify\",\"messageId\":\"m16\",\"userId\":\"u4\",\"traits\":{\"email\":"
    "\"u4@d.example\"},\"timestamp\":\"" T2 "\"}",
    "{\"type\":\"group\",\"messageId\":\"m17\",\"userId\":\"u4\",\"groupId\":\"acc_d\",\"traits\":"
    "{\"name\":\"Dee\"},\"timestamp\":\"" T1 "\"}",
    /* u1's traits again, an earlier time than what is stored: kept out. */
    "{\"type\":\"identify\",\"messageId\":\"m18\",\"userId\":\"u1\",\"traits\":{\"email\":"
    "\"older@u1.example\",\"title\":\"Intern\"},\"timestamp\":\"" T1 "\"}",
    /* A new user's removal that arrives before its (earlier) group call: the
     * membership starts and ends at the removal. */
    "{\"type\":\"track\",\"messageId\":\"m19\",\"userId\":\"u5\",\"event\":\"Account Removed "
    "User\",\"context\":{\"groupId\":\"acc_a\"},\"timestamp\":\"" T4 "\"}",
    "{\"type\":\"group\",\"messageId\":\"m20\",\"userId\":\"u5\",\"groupId\":\"acc_a\","
    "\"timestamp\":\"" T2 "\"}",
    NULL,
};

/* Runs the script on s, returning the outcomes as text. */
static void run_script(struct store *s, struct dump *outcomes) {
    struct ingest *ig = ingest_new(s);
    assert_int_equal(ingest_begin(ig), TEND_OK);
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        if (!script[i]) {
            assert_int_equal(ingest_commit(ig), TEND_OK);
            if (i + 1 < sizeof script / sizeof script[0])
                assert_int_equal(ingest_begin(ig), TEND_OK);
            continue;
        }
        say(outcomes, "%zu:%d ", i, (int)apply(ig, s, script[i]));
    }
    ingest_free(ig);
}

static void interleaved_batches_read_back_as_on_sqlite(void **state) {
    (void)state;
    char err[STORE_ERR_BYTES];
    struct store *ref, *s;
    if (store_open(fx.ref_path, &ref, err) != TEND_OK)
        fail_msg("store_open (SQLite): %s", err);
    if (test_db_open(fx.test_path, &s, err) != TEND_OK)
        fail_msg("test_db_open: %s", err);
    static struct dump ref_out, out, ref_dump, dump;
    memset(&ref_out, 0, sizeof ref_out);
    memset(&out, 0, sizeof out);
    memset(&ref_dump, 0, sizeof ref_dump);
    memset(&dump, 0, sizeof dump);
    run_script(ref, &ref_out);
    run_script(s, &out);
    dump_store(ref, &ref_dump);
    dump_store(s, &dump);
    assert_string_equal(out.v, ref_out.v);
    assert_string_equal(dump.v, ref_dump.v);
    /* And what SQLite gives is what the rules say (so that two wrong
     * answers cannot agree): the later time's traits, both duplicates
     * skipped, every quarantined event attached. */
    assert_non_null(strstr(dump.v, "user u1 label=new@u1.example traits:"));
    assert_non_null(strstr(dump.v, " nick=\"n\""));
    assert_non_null(strstr(dump.v, " title=\"CEO\""));
    assert_non_null(strstr(dump.v, "account acc_a: name=Acme plan=enterprise mrr=900"));
    assert_non_null(strstr(dump.v, "quarantined=0"));
    assert_non_null(strstr(dump.v, "counter messages.duplicates=3"));
    if (getenv("TEND_TEST_DUMP"))
        fputs(dump.v, stderr);
    print_message("    ok: %s, %zu bytes read back equal to SQLite's\n", test_db_backend(),
                  dump.len);
    store_close(ref);
    store_close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(interleaved_batches_read_back_as_on_sqlite, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
