/* test_store_ingest_copy.c: the store's large ingest batches on either
 * backend (test_db.h; PostgreSQL under tests/integration/store_pg.sh).
 *
 * On PostgreSQL a flush of 500 staged events or more goes by COPY into a
 * staging table and one statement whose key insert has no ON CONFLICT
 * (pg_events.c); fewer go as arrays with ON CONFLICT. Login days wait with
 * the staged rows and go 2,000 a statement. Accounts' event counts
 * wait in a batch and are added by one statement per 2,000 accounts before
 * the next statement or the commit (pg_accounts.c). A statement that names
 * none of the tables the staged rows will change runs before they are
 * written. These tests hold each path to the results SQLite gives:
 *
 * - a batch of thousands with duplicates inside it and of keys stored
 *   before: each key stored once, each put told the truth;
 * - a batch's keys looked up by their range of times (few stored there)
 *   and key by key (many stored there, or a key without timestamp): the
 *   same answers;
 * - a quarantined event inside a large batch: it waits in the quarantine,
 *   is read back by its account (before and after the commit), and the rest
 *   of the batch is stored;
 * - two connections putting the same large batches at once: each key once,
 *   the loser of each race told busy and its retry finding the keys stored;
 * - event counts of more accounts than one batch holds, an account twice,
 *   read in the transaction that added them and after it;
 * - login days (written with the staged rows on PostgreSQL, 2,000 a
 *   statement): read back in their transaction and after, gone after a
 *   rollback. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/vocab.h"
#include "store/store.h"
#include "test_db.h"
#include "util/datetime.h"

#define DAY0 19875 /* 2024-06-01 */
#define T0   ((int64_t)DAY0 * DT_MS_PER_DAY + 36000000)

static struct {
    char dir[256];
    char path[300];
    struct store *s;
} fx;

static struct store *open_db(void) {
    char err[STORE_ERR_BYTES];
    struct store *s = NULL;
    if (test_db_open(fx.path, &s, err) != TEND_OK)
        fail_msg("store_open: %s", err);
    return s;
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx.dir, sizeof fx.dir, "%s/tend-test-copy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.path, sizeof fx.path, "%s/tend.db", fx.dir);
    fx.s = open_db();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    store_close(fx.s);
    fx.s = NULL;
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[320];
        snprintf(p, sizeof p, "%s%s", fx.path, suffixes[i]);
        unlink(p);
    }
    return rmdir(fx.dir);
}

static void ok(enum tend_err e, struct store *s) {
    if (e != TEND_OK)
        fail_msg("%s: %s", tend_strerror(e), store_last_error(s));
}

static struct store_event event(int kind, int64_t account, int64_t ts, uint64_t n) {
    struct store_event ev = {
        .key_ts_ms = ts, .key_hash = n, .ts_ms = ts, .kind = kind, .account_id = account};
    return ev;
}

static bool put(struct store *s, const struct store_event *ev) {
    bool inserted = false;
    ok(store_event_put(s, ev, &inserted), s);
    return inserted;
}

static int64_t account(struct store *s, const char *name) {
    int64_t id = 0;
    bool created;
    ok(store_account_ensure(s, name, T0, &id, &created), s);
    return id;
}

/* One SQL count over the database (the store has no such question). */
static int64_t count_sql(const char *sql) {
    int64_t count = -1;
    if (test_db_pg_url()) {
        char url[1024];
        assert_int_equal(test_db_pg_schema(fx.path, url, sizeof url), 0);
        PGconn *c = PQconnectdb(url);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        else
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
    } else {
        sqlite3 *db;
        assert_int_equal(sqlite3_open_v2(fx.path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        if (sqlite3_step(st) == SQLITE_ROW)
            count = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    return count;
}

/* Event rows, and rows with more than one event per key (must be 0). */
static int64_t event_rows(void) {
    return count_sql("SELECT count(*) FROM events");
}
static int64_t keys_twice(void) {
    return count_sql("SELECT count(*) FROM (SELECT key_ts_ms, key_hash FROM events "
                     "GROUP BY key_ts_ms, key_hash HAVING count(*) > 1) d");
}

/* ---- duplicates in a large batch ------------------------------------------ */

#define STORED 1000 /* keys 0..999, stored first */
#define BATCH  3000 /* then keys 500..3499, with every seventh put twice */

static void a_large_batch_stores_each_key_once_against_itself_and_stored_rows(void **state) {
    (void)state;
    int64_t a = account(fx.s, "acme");
    ok(store_begin(fx.s, NULL), fx.s);
    for (int k = 0; k < STORED; k++) {
        struct store_event ev = event(EV_FEATURE, a, T0 + k, (uint64_t)k + 1);
        assert_true(put(fx.s, &ev));
    }
    ok(store_commit(fx.s), fx.s);

    struct store_event_key *keys = malloc(BATCH * sizeof *keys);
    for (int i = 0; i < BATCH; i++)
        keys[i] = (struct store_event_key){T0 + 500 + i, (uint64_t)(500 + i) + 1};
    int64_t inserted = 0, repeated = 0, stored_before = 0;
    ok(store_begin(fx.s, NULL), fx.s);
    ok(store_event_keys_prefetch(fx.s, keys, BATCH), fx.s);
    for (int i = 0; i < BATCH; i++) {
        int k = 500 + i;
        struct store_event ev =
            event(k % 3 ? EV_FEATURE : EV_LOGIN, a, keys[i].key_ts_ms, keys[i].key_hash);
        ev.subject = k % 5 ? NULL : "api";
        ev.props = "{\"path\":\"/r\\tx\"}";
        bool ins = put(fx.s, &ev);
        if (k < STORED)
            stored_before += !ins;
        inserted += ins;
        if (i % 7 == 0)
            repeated += !put(fx.s, &ev); /* the same message again, in the batch */
    }
    ok(store_commit(fx.s), fx.s);
    free(keys);
    print_message("%s: %d puts, %lld inserted, %lld found stored, %lld repeats refused\n",
                  test_db_backend(), BATCH, (long long)inserted, (long long)stored_before,
                  (long long)repeated);
    assert_int_equal(stored_before, STORED - 500);
    assert_int_equal(inserted, BATCH - (STORED - 500));
    assert_int_equal(repeated, (BATCH + 6) / 7);
    assert_int_equal(event_rows(), 500 + BATCH);
    assert_int_equal(keys_twice(), 0);
    bool used = false;
    ok(store_product_used(fx.s, a, "api", DAY0, DAY0 + 1, &used), fx.s);
    assert_true(used);
}

/* ---- look-ups by range of times, and key by key ------------------------------ */

/* Prefetches the n keys on a connection of its own (which knows nothing of
 * what fx.s stored), then puts each: whether it was new must be expect(i). */
static void prefetch_and_put(const struct store_event_key *keys, size_t n,
                             bool (*expect)(size_t i)) {
    struct store *s = open_db();
    ok(store_begin(s, NULL), s);
    ok(store_event_keys_prefetch(s, keys, n), s);
    for (size_t i = 0; i < n; i++) {
        struct store_event ev = event(EV_FEATURE, 0, keys[i].key_ts_ms, keys[i].key_hash);
        if (put(s, &ev) != expect(i))
            fail_msg("key %zu (%lld, %llu): inserted %d", i, (long long)keys[i].key_ts_ms,
                     (unsigned long long)keys[i].key_hash, !expect(i));
    }
    ok(store_commit(s), s);
    store_close(s);
}

static bool even_new(size_t i) {
    return i % 2 == 1; /* the even ones were stored before */
}

static void lookups_by_range_and_by_key_answer_alike(void **state) {
    (void)state;
    enum { STORED_KEYS = 1000, ASKED = 100 };
    ok(store_begin(fx.s, NULL), fx.s);
    for (int k = 0; k < STORED_KEYS; k++) {
        struct store_event ev = event(EV_FEATURE, 0, T0 + 10 * k, (uint64_t)k + 1);
        assert_true(put(fx.s, &ev));
    }
    struct store_event none = event(EV_FEATURE, 0, 0, 424242); /* no timestamp: key time 0 */
    assert_true(put(fx.s, &none));
    ok(store_commit(fx.s), fx.s);

    struct store_event_key keys[ASKED];
    /* Few stored keys in the range (the even ones of 100 at the end). */
    for (int i = 0; i < ASKED; i++) {
        int k = STORED_KEYS - ASKED + i;
        keys[i] = i % 2 ? (struct store_event_key){T0 + 10 * k + 5, 900000u + (unsigned)i}
                        : (struct store_event_key){T0 + 10 * k, (uint64_t)k + 1};
    }
    prefetch_and_put(keys, ASKED, even_new);
    /* A range holding ten times more stored keys than asked: key by key. */
    for (int i = 0; i < ASKED; i++) {
        int k = i * 10;
        keys[i] = i % 2 ? (struct store_event_key){T0 + 10 * k + 3, 800000u + (unsigned)i}
                        : (struct store_event_key){T0 + 10 * k, (uint64_t)k + 1};
    }
    prefetch_and_put(keys, ASKED, even_new);
    /* Key time 0 (no timestamp) among others: the range spans everything. */
    for (int i = 0; i < ASKED; i++)
        keys[i] = i == 0  ? (struct store_event_key){0, 424242}
                  : i % 2 ? (struct store_event_key){T0 + 7 + i, 700000u + (unsigned)i}
                          : (struct store_event_key){T0 + 10 * (i + 1), (uint64_t)(i + 1) + 1};
    prefetch_and_put(keys, ASKED, even_new);
    assert_int_equal(event_rows(), STORED_KEYS + 1 + 3 * ASKED / 2);
    assert_int_equal(keys_twice(), 0);
}

/* ---- a quarantined event inside a large batch ----------------------------- */

static int64_t pending_of(struct store *s, const char *external_id, int64_t *ts) {
    struct store_pending *p = NULL;
    size_t n = 0;
    ok(store_quarantine_by_account(s, external_id, &p, &n), s);
    if (n == 1)
        *ts = p[0].ts_ms;
    free(p);
    return (int64_t)n;
}

static void a_quarantined_event_in_a_large_batch_waits_and_the_rest_are_kept(void **state) {
    (void)state;
    enum { N = 1200, BAD = 777 };
    int64_t a = account(fx.s, "acme");
    int64_t ts = 0;
    ok(store_begin(fx.s, NULL), fx.s);
    /* Before anything is quarantined: a read of the quarantine, staged rows
     * or not, finds nothing. */
    for (int k = 0; k < N; k++) {
        bool bad = k == BAD;
        struct store_event ev = event(EV_FEATURE, bad ? 0 : a, T0 + k, (uint64_t)k + 1);
        assert_true(put(fx.s, &ev));
        if (bad)
            ok(store_quarantine_put(fx.s, &ev, "not-yet", "account unknown"), fx.s);
        if (k == BAD - 1)
            assert_int_equal(pending_of(fx.s, "not-yet", &ts), 0);
    }
    /* Staged, quarantined: the read in the transaction sees it. */
    assert_int_equal(pending_of(fx.s, "not-yet", &ts), 1);
    assert_int_equal(ts, T0 + BAD);
    ok(store_commit(fx.s), fx.s);
    assert_int_equal(pending_of(fx.s, "not-yet", &ts), 1);
    assert_int_equal(event_rows(), N);
    assert_int_equal(count_sql("SELECT count(*) FROM events WHERE account_id IS NULL OR "
                               "account_id = 0"),
                     1);
    /* Attached when its account comes. */
    ok(store_begin(fx.s, NULL), fx.s);
    int64_t b = account(fx.s, "not-yet");
    struct store_pending *p = NULL;
    size_t n = 0;
    ok(store_quarantine_by_account(fx.s, "not-yet", &p, &n), fx.s);
    assert_int_equal(n, 1);
    ok(store_quarantine_attach(fx.s, &p[0], b), fx.s);
    free(p);
    ok(store_commit(fx.s), fx.s);
    assert_int_equal(pending_of(fx.s, "not-yet", &ts), 0);
    char sql[120];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM events WHERE account_id = %lld", (long long)b);
    assert_int_equal(count_sql(sql), 1);
}

/* ---- two connections, large batches ----------------------------------------- */

#define RACE_KEYS 6000
#define RACE_TX   1500 /* a COPY flush on PostgreSQL */

struct racer {
    struct store *s;
    pthread_barrier_t *both;
    int64_t inserted;
    int busy;
    enum tend_err err;
    char msg[STORE_ERR_BYTES];
};

static void *race(void *arg) {
    struct racer *r = arg;
    struct store_event_key *keys = malloc(RACE_TX * sizeof *keys);
    for (int first = 0; first < RACE_KEYS; first += RACE_TX) {
        if (r->err) {
            if (r->both)
                pthread_barrier_wait(r->both);
            continue;
        }
        for (int attempt = 0;; attempt++) {
            for (int i = 0; i < RACE_TX; i++)
                keys[i] = (struct store_event_key){T0 + first + i, (uint64_t)(first + i) + 1};
            int64_t inserted = 0;
            enum tend_err err = store_begin(r->s, NULL);
            if (!err)
                err = store_event_keys_prefetch(r->s, keys, RACE_TX);
            if (attempt == 0 && r->both)
                pthread_barrier_wait(r->both);
            for (int i = 0; !err && i < RACE_TX; i++) {
                struct store_event ev = event(EV_FEATURE, 0, keys[i].key_ts_ms, keys[i].key_hash);
                bool ins = false;
                err = store_event_put(r->s, &ev, &ins);
                inserted += ins;
            }
            if (!err)
                err = store_commit(r->s);
            else
                store_rollback(r->s);
            if (!err) {
                r->inserted += inserted;
                break;
            }
            if (err != TEND_ERR_BUSY || attempt == 20) {
                r->err = err;
                snprintf(r->msg, sizeof r->msg, "%s", store_last_error(r->s));
                break;
            }
            r->busy++;
        }
    }
    free(keys);
    return NULL;
}

static void two_connections_racing_with_large_batches_store_each_key_once(void **state) {
    (void)state;
    pthread_barrier_t both;
    pthread_barrier_init(&both, NULL, 2);
    /* SQLite's writers take turns from their first statement: no barrier. */
    pthread_barrier_t *wait = test_db_pg_url() ? &both : NULL;
    struct racer a = {.s = open_db(), .both = wait}, b = {.s = open_db(), .both = wait};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&both);
    store_close(a.s);
    store_close(b.s);
    if (a.err || b.err)
        fail_msg("racers failed: %s / %s", a.msg, b.msg);
    print_message("%s: two connections, %d keys each in batches of %d: %lld + %lld inserted, "
                  "%d + %d transactions retried busy\n",
                  test_db_backend(), RACE_KEYS, RACE_TX, (long long)a.inserted,
                  (long long)b.inserted, a.busy, b.busy);
    assert_int_equal(a.inserted + b.inserted, RACE_KEYS);
    /* PostgreSQL: both heard "not stored" for each batch's keys, so the one
     * that flushed second is told busy once per batch and retries. */
    if (test_db_pg_url())
        assert_true(a.busy + b.busy >= RACE_KEYS / RACE_TX);
    assert_int_equal(event_rows(), RACE_KEYS);
    assert_int_equal(keys_twice(), 0);
}

/* ---- event counts ------------------------------------------------------------ */

struct events_of {
    int64_t n;
};

static int on_row(void *arg, const struct store_account_row *row) {
    ((struct events_of *)arg)->n = row->events;
    return 0;
}

static int64_t events_of(struct store *s, int64_t id) {
    struct events_of e = {-1};
    ok(store_account_get(s, id, on_row, &e), s);
    return e.n;
}

static void event_counts_of_more_accounts_than_a_batch_add_up(void **state) {
    (void)state;
    enum { ACCOUNTS = 4500 }; /* over two batches of 2,000 */
    int64_t *id = malloc(ACCOUNTS * sizeof *id);
    ok(store_begin(fx.s, NULL), fx.s);
    for (int i = 0; i < ACCOUNTS; i++) {
        char name[32];
        snprintf(name, sizeof name, "acc-%05d", i);
        id[i] = account(fx.s, name);
    }
    ok(store_commit(fx.s), fx.s);
    for (int round = 0; round < 2; round++) {
        ok(store_begin(fx.s, NULL), fx.s);
        for (int i = 0; i < ACCOUNTS; i++)
            ok(store_account_count_events(fx.s, id[i], i % 10 + 1), fx.s);
        ok(store_account_count_events(fx.s, id[7], 100), fx.s); /* an account again */
        /* Read in the transaction that added them. */
        assert_int_equal(events_of(fx.s, id[7]), (round + 1) * (8 + 100));
        ok(store_commit(fx.s), fx.s);
    }
    for (int i = 0; i < ACCOUNTS; i += 499)
        assert_int_equal(events_of(fx.s, id[i]), 2 * (i % 10 + 1));
    assert_int_equal(events_of(fx.s, id[7]), 2 * 8 + 200);
    assert_int_equal(events_of(fx.s, id[ACCOUNTS - 1]), 2 * ((ACCOUNTS - 1) % 10 + 1));
    assert_int_equal(count_sql("SELECT sum(event_count) FROM accounts"),
                     2 * (ACCOUNTS / 10) * 55 + 200);
    free(id);
}

/* ---- login days ------------------------------------------------------------ */

static int32_t last_login(struct store *s, int64_t account, int32_t max_day) {
    int32_t day = -1;
    bool found = false;
    ok(store_login_day_last(s, account, max_day, &day, &found), s);
    return found ? day : -1;
}

static void login_days_of_a_large_transaction_are_read_back_and_rolled_back(void **state) {
    (void)state;
    enum { ACCOUNTS = 1300, DAYS = 3 }; /* 3,900 days: over a batch of 2,000 */
    int64_t *id = malloc(ACCOUNTS * sizeof *id);
    ok(store_begin(fx.s, NULL), fx.s);
    for (int i = 0; i < ACCOUNTS; i++) {
        char name[32];
        snprintf(name, sizeof name, "acc-%05d", i);
        id[i] = account(fx.s, name);
    }
    for (int d = 0; d < DAYS; d++)
        for (int i = 0; i < ACCOUNTS; i++) {
            ok(store_login_day_add(fx.s, id[i], DAY0 + 2 * d + i % 2), fx.s);
            ok(store_login_day_add(fx.s, id[i], DAY0 + 2 * d + i % 2), fx.s); /* again */
        }
    /* Read in the transaction that added them. */
    assert_int_equal(last_login(fx.s, id[0], DAY0 + 100), DAY0 + 4);
    assert_int_equal(last_login(fx.s, id[1], DAY0 + 100), DAY0 + 5);
    assert_int_equal(last_login(fx.s, id[1], DAY0 + 4), DAY0 + 3);
    ok(store_commit(fx.s), fx.s);
    assert_int_equal(count_sql("SELECT count(*) FROM login_days"), ACCOUNTS * DAYS);
    assert_int_equal(last_login(fx.s, id[ACCOUNTS - 1], DAY0 + 100), DAY0 + 5);
    /* Added, then rolled back: gone, also for the next transaction. */
    ok(store_begin(fx.s, NULL), fx.s);
    ok(store_login_day_add(fx.s, id[0], DAY0 + 50), fx.s);
    assert_int_equal(last_login(fx.s, id[0], DAY0 + 100), DAY0 + 50);
    store_rollback(fx.s);
    ok(store_begin(fx.s, NULL), fx.s);
    ok(store_login_day_add(fx.s, id[2], DAY0 + 60), fx.s);
    ok(store_commit(fx.s), fx.s);
    assert_int_equal(last_login(fx.s, id[0], DAY0 + 100), DAY0 + 4);
    assert_int_equal(last_login(fx.s, id[2], DAY0 + 100), DAY0 + 60);
    assert_int_equal(count_sql("SELECT count(*) FROM login_days"), ACCOUNTS * DAYS + 1);
    free(id);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_large_batch_stores_each_key_once_against_itself_and_stored_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(lookups_by_range_and_by_key_answer_alike, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_quarantined_event_in_a_large_batch_waits_and_the_rest_are_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(
            two_connections_racing_with_large_batches_store_each_key_once, setup, teardown),
        cmocka_unit_test_setup_teardown(event_counts_of_more_accounts_than_a_batch_add_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            login_days_of_a_large_transaction_are_read_back_and_rolled_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
