/* test_store_events.c: the store's events group on either backend
 * (test_db.h): store_event_put and its deduplication within and across
 * transactions, with and without store_event_keys_prefetch; a rollback
 * forgetting what it staged; reads in the transaction that wrote (facts,
 * product use, tickets, the quarantine); quarantine and attachment; two
 * connections putting the same keys at once, each event stored once and
 * reported inserted once; and the rate of a large batch, printed.
 *
 * On PostgreSQL events are staged and written in batches (pg_events.c), so
 * these are the checks that a staged event behaves as a stored one. Checks
 * read through the store API; only the count of event rows per key, which
 * the API does not expose, is read with SQL (events_of_key). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
    snprintf(fx.dir, sizeof fx.dir, "%s/tend-test-events-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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

static void begin(struct store *s) {
    assert_int_equal(store_begin(s, NULL), TEND_OK);
}

static void commit(struct store *s) {
    if (store_commit(s) != TEND_OK)
        fail_msg("commit: %s", store_last_error(s));
}

/* An event of account (0: none) with key (ts, n). */
static struct store_event event(int kind, int64_t account, int64_t ts, uint64_t n) {
    struct store_event ev = {
        .key_ts_ms = ts, .key_hash = n, .ts_ms = ts, .kind = kind, .account_id = account};
    return ev;
}

static bool put(struct store *s, const struct store_event *ev) {
    bool inserted = false;
    enum tend_err err = store_event_put(s, ev, &inserted);
    if (err)
        fail_msg("event_put: %s", store_last_error(s));
    return inserted;
}

static bool exists(struct store *s, int64_t ts, uint64_t n) {
    bool e = false;
    assert_int_equal(store_event_exists(s, ts, n, &e), TEND_OK);
    return e;
}

static int64_t account(struct store *s, const char *name) {
    int64_t id = 0;
    bool created;
    if (store_account_ensure(s, name, T0, &id, &created))
        fail_msg("account_ensure: %s", store_last_error(s));
    return id;
}

/* How many rows of events hold the key: SQL, as the store has no such
 * question (on SQLite the key is the primary key). */
static int64_t events_of_key(int64_t ts, uint64_t n) {
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM events WHERE key_ts_ms = %lld AND key_hash = %lld",
             (long long)ts, (long long)(int64_t)n);
    int64_t count = -1;
    if (test_db_pg_url()) {
        char url[1024];
        assert_int_equal(test_db_pg_schema(fx.path, url, sizeof url), 0);
        PGconn *c = PQconnectdb(url);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            count = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
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

/* ---- deduplication -------------------------------------------------------- */

static void duplicates_within_and_across_transactions_are_not_inserted(void **state) {
    (void)state;
    struct store_event a = event(EV_FEATURE, 0, T0, 1), b = event(EV_LOGIN, 0, T0, 2);
    begin(fx.s);
    assert_false(exists(fx.s, T0, 1));
    assert_true(put(fx.s, &a));
    assert_true(exists(fx.s, T0, 1)); /* staged is stored, for the transaction */
    assert_false(put(fx.s, &a));
    assert_true(put(fx.s, &b));
    commit(fx.s);
    /* Same hash, other timestamp: another key. */
    struct store_event c = event(EV_FEATURE, 0, T0 + 1, 1);
    begin(fx.s);
    assert_false(put(fx.s, &a));
    assert_false(put(fx.s, &b));
    assert_true(put(fx.s, &c));
    commit(fx.s);
    /* Another connection knows nothing staged or cached here. */
    struct store *o = open_db();
    begin(o);
    assert_true(exists(o, T0, 1));
    assert_true(exists(o, T0 + 1, 1));
    assert_false(exists(o, T0, 3));
    assert_false(put(o, &a));
    commit(o);
    store_close(o);
    assert_int_equal(events_of_key(T0, 1), 1);
    assert_int_equal(events_of_key(T0 + 1, 1), 1);
}

static void prefetched_keys_answer_as_looked_up_ones(void **state) {
    (void)state;
    begin(fx.s);
    for (uint64_t n = 1; n <= 50; n++) {
        struct store_event ev = event(EV_FEATURE, 0, T0, n);
        assert_true(put(fx.s, &ev));
    }
    commit(fx.s);
    /* A batch of 100 keys: 50 stored, 50 new, one of them twice. */
    struct store_event_key keys[101];
    for (uint64_t n = 1; n <= 100; n++)
        keys[n - 1] = (struct store_event_key){T0, n};
    keys[100] = keys[99];
    begin(fx.s);
    assert_int_equal(store_event_keys_prefetch(fx.s, keys, 101), TEND_OK);
    int inserted = 0;
    for (int i = 0; i < 101; i++) {
        struct store_event ev = event(EV_FEATURE, 0, keys[i].key_ts_ms, keys[i].key_hash);
        inserted += put(fx.s, &ev);
    }
    assert_int_equal(inserted, 50);
    /* A prefetch inside the transaction sees what it staged. */
    assert_int_equal(store_event_keys_prefetch(fx.s, keys, 101), TEND_OK);
    assert_true(exists(fx.s, T0, 100));
    commit(fx.s);
    for (uint64_t n = 1; n <= 100; n++)
        assert_true(exists(fx.s, T0, n));
    assert_int_equal(events_of_key(T0, 100), 1);
}

static void a_rollback_forgets_what_it_staged(void **state) {
    (void)state;
    struct store_event a = event(EV_FEATURE, 0, T0, 7);
    struct store_event_key k = {T0, 7};
    begin(fx.s);
    assert_int_equal(store_event_keys_prefetch(fx.s, &k, 1), TEND_OK);
    assert_true(put(fx.s, &a));
    store_rollback(fx.s);
    begin(fx.s);
    assert_false(exists(fx.s, T0, 7));
    assert_true(put(fx.s, &a)); /* not a duplicate of the rolled-back one */
    commit(fx.s);
    assert_int_equal(events_of_key(T0, 7), 1);
    /* A rollback after a flush inside the transaction (a read flushes). */
    struct store_event b = event(EV_FEATURE, 0, T0, 8);
    begin(fx.s);
    assert_true(put(fx.s, &b));
    bool used;
    assert_int_equal(store_product_used(fx.s, 1, "x", DAY0, DAY0, &used), TEND_OK);
    store_rollback(fx.s);
    assert_false(exists(fx.s, T0, 8));
    assert_int_equal(events_of_key(T0, 8), 0);
}

/* ---- reads in the transaction that wrote ---------------------------------- */

struct facts_seen {
    int n;
    int kinds[16];
    int64_t settled[16];
    char subjects[16][16];
};

static void fact_seen(void *arg, const struct store_fact *f) {
    struct facts_seen *fs = arg;
    if (fs->n < 16) {
        fs->kinds[fs->n] = f->kind;
        fs->settled[fs->n] = f->settled_ms;
        snprintf(fs->subjects[fs->n], sizeof fs->subjects[0], "%s", f->subject ? f->subject : "");
    }
    fs->n++;
}

static void recent_seen(void *arg, const struct store_fact *f, const char *user) {
    (void)user;
    fact_seen(arg, f);
}

static void reads_in_the_same_transaction_see_the_events_put(void **state) {
    (void)state;
    begin(fx.s);
    int64_t acme = account(fx.s, "acme");
    struct store_event feat = event(EV_FEATURE, acme, T0, 1);
    feat.subject = "analytics_pro";
    struct store_event opened = event(EV_TICKET_OPENED, acme, T0 + 1000, 2);
    opened.subject = "T-1";
    struct store_event closed = event(EV_TICKET_CLOSED, acme, T0 + 5000, 3);
    closed.subject = "T-1";
    struct store_event nps = event(EV_NPS, acme, T0 + 2000, 4);
    nps.num = 9;
    nps.has_num = true;
    nps.props = "{\"score\":9,\"comment\":\"tab\\there, \\\\ and\\nnewline\"}";
    struct store_event group = event(EV_GROUP, acme, T0 + 3000, 5);
    group.props = "{\"plan\":\"growth\"}";
    assert_true(put(fx.s, &feat));
    assert_true(put(fx.s, &opened));
    assert_true(put(fx.s, &nps));
    assert_true(put(fx.s, &group));
    bool used = false;
    assert_int_equal(store_product_used(fx.s, acme, "analytics_pro", DAY0, DAY0, &used), TEND_OK);
    assert_true(used);
    assert_int_equal(store_product_used(fx.s, acme, "analytics_pro", DAY0 + 1, DAY0 + 9, &used),
                     TEND_OK);
    assert_false(used);
    int64_t ticket = 0;
    bool found = false;
    assert_int_equal(store_last_ticket_before(fx.s, acme, T0 + 1001, &ticket, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(ticket, T0 + 1000);
    assert_int_equal(store_last_ticket_before(fx.s, acme, T0 + 1000, &ticket, &found), TEND_OK);
    assert_false(found);
    /* The close settles the opening, stored before it. */
    assert_true(put(fx.s, &closed));
    struct facts_seen fs = {0};
    struct store_span all = {1, STORE_LAST_ID, NULL, 0};
    assert_int_equal(store_facts_each(fx.s, &all, T0 + 10000, fact_seen, &fs), TEND_OK);
    /* The NPS answer, the group call and the ticket's opening matter; the
     * close is spent at once. */
    assert_int_equal(fs.n, 3);
    bool saw_open = false;
    for (int i = 0; i < fs.n; i++) {
        if (fs.kinds[i] == EV_TICKET_OPENED) {
            saw_open = true;
            assert_int_equal(fs.settled[i], T0 + 5000);
        }
    }
    assert_true(saw_open);
    struct facts_seen recent = {0};
    assert_int_equal(store_account_facts_recent(fx.s, acme, 10, recent_seen, &recent), TEND_OK);
    assert_int_equal(recent.n, 4);
    assert_int_equal(recent.kinds[0], EV_TICKET_CLOSED);
    assert_int_equal(recent.kinds[3], EV_TICKET_OPENED);
    commit(fx.s);
    /* Listed ids read the same facts as the range. */
    struct facts_seen listed = {0};
    struct store_span one = {1, STORE_LAST_ID, &acme, 1};
    assert_int_equal(store_facts_each(fx.s, &one, T0 + 10000, fact_seen, &listed), TEND_OK);
    assert_int_equal(listed.n, 3);
}

/* ---- the quarantine ------------------------------------------------------- */

struct reasons {
    int n;
    char reason[4][32];
    int64_t count[4];
};

static void reason_seen(void *arg, const char *reason, int64_t n) {
    struct reasons *r = arg;
    if (r->n < 4) {
        snprintf(r->reason[r->n], sizeof r->reason[0], "%s", reason);
        r->count[r->n] = n;
    }
    r->n++;
}

static void quarantined_events_wait_and_attach_with_what_they_derive(void **state) {
    (void)state;
    begin(fx.s);
    struct store_event feat = event(EV_FEATURE, 0, T0, 11);
    feat.subject = "api";
    feat.user_id = 42;
    struct store_event renewed = event(EV_RENEWED, 0, T0 + 1000, 12);
    renewed.num = 1200;
    renewed.has_num = true;
    struct store_event login = event(EV_LOGIN, 0, T0 + 2000, 13);
    login.user_id = 42;
    assert_true(put(fx.s, &feat));
    assert_int_equal(store_quarantine_put(fx.s, &feat, "globex", "unknown account"), TEND_OK);
    assert_true(put(fx.s, &renewed));
    assert_int_equal(store_quarantine_put(fx.s, &renewed, "globex", "unknown account"), TEND_OK);
    assert_true(put(fx.s, &login));
    assert_int_equal(store_quarantine_put(fx.s, &login, NULL, "user belongs to no account"),
                     TEND_OK);
    /* A duplicate is not quarantined twice. */
    assert_false(put(fx.s, &feat));
    struct reasons r = {0};
    assert_int_equal(store_quarantine_reasons(fx.s, reason_seen, &r), TEND_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.reason[0], "unknown account");
    assert_int_equal(r.count[0], 2);
    assert_string_equal(r.reason[1], "user belongs to no account");
    struct store_pending *p = NULL;
    size_t n = 0;
    assert_int_equal(store_quarantine_by_account(fx.s, "globex", &p, &n), TEND_OK);
    assert_int_equal(n, 2);
    assert_int_equal(p[0].key_hash, 11); /* in time order */
    assert_int_equal(p[1].kind, EV_RENEWED);
    int64_t globex = account(fx.s, "globex");
    for (size_t i = 0; i < n; i++)
        assert_int_equal(store_quarantine_attach(fx.s, &p[i], globex), TEND_OK);
    free(p);
    commit(fx.s);
    /* Attached: the product's day, the outcome as a fact; out of the
     * quarantine; the user's login still waits. */
    bool used = false;
    assert_int_equal(store_product_used(fx.s, globex, "api", DAY0, DAY0, &used), TEND_OK);
    assert_true(used);
    struct facts_seen fs = {0};
    struct store_span one = {1, STORE_LAST_ID, &globex, 1};
    assert_int_equal(store_facts_each(fx.s, &one, T0 + 5000, fact_seen, &fs), TEND_OK);
    assert_int_equal(fs.n, 1);
    assert_int_equal(fs.kinds[0], EV_RENEWED);
    assert_int_equal(store_quarantine_by_account(fx.s, "globex", &p, &n), TEND_OK);
    assert_int_equal(n, 0);
    free(p);
    assert_int_equal(store_quarantine_by_user(fx.s, 42, &p, &n), TEND_OK);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].key_hash, 13);
    free(p);
    memset(&r, 0, sizeof r);
    assert_int_equal(store_quarantine_reasons(fx.s, reason_seen, &r), TEND_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(events_of_key(T0, 11), 1);
}

/* ---- two connections at once ---------------------------------------------- */

#define RACE_KEYS 3000
#define RACE_TX   300

struct racer {
    struct store *s;
    pthread_barrier_t *both; /* both have prefetched a transaction's keys (NULL: no wait) */
    int64_t inserted;        /* in committed transactions */
    int busy;                /* transactions retried */
    enum tend_err err;
    char msg[STORE_ERR_BYTES];
};

/* Puts every key, RACE_TX a transaction (retried when busy), as the writer
 * does: prefetch, put, commit. */
static void *race(void *arg) {
    struct racer *r = arg;
    for (int first = 0; first < RACE_KEYS; first += RACE_TX) {
        if (r->err) { /* failed: still meet the other at each barrier */
            if (r->both)
                pthread_barrier_wait(r->both);
            continue;
        }
        for (int attempt = 0;; attempt++) {
            struct store_event_key keys[RACE_TX];
            for (int i = 0; i < RACE_TX; i++) {
                int k = first + i;
                keys[i] = (struct store_event_key){T0 + k, (uint64_t)k + 1};
            }
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
    return NULL;
}

static void two_connections_putting_the_same_keys_store_each_once(void **state) {
    (void)state;
    /* The same keys, (T0 + k, k + 1), in the same transactions: both look
     * each transaction's keys up before either puts them, so both hear
     * "not stored" and one of the two must find out at its flush. */
    pthread_barrier_t both;
    pthread_barrier_init(&both, NULL, 2);
    /* (On SQLite a transaction holds the write lock from its start, so the
     * two take turns and must not wait for each other.) */
    pthread_barrier_t *wait = test_db_pg_url() ? &both : NULL;
    struct racer a = {.s = open_db(), .both = wait}, b = {.s = open_db(), .both = wait};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    if (a.err || b.err)
        fail_msg("racers failed: %s / %s", a.msg, b.msg);
    pthread_barrier_destroy(&both);
    store_close(a.s);
    store_close(b.s);
    print_message("two connections, %d keys each: %lld + %lld inserted, %d + %d transactions "
                  "retried busy\n",
                  RACE_KEYS, (long long)a.inserted, (long long)b.inserted, a.busy, b.busy);
    assert_int_equal(a.inserted + b.inserted, RACE_KEYS);
    /* PostgreSQL: a transaction that heard "not stored" for a key the other
     * committed first fails busy and is retried (SQLite's writers take
     * turns before they look). */
    if (test_db_pg_url())
        assert_true(a.busy + b.busy >= RACE_KEYS / RACE_TX);
    for (int k = 0; k < RACE_KEYS; k += 97)
        assert_int_equal(events_of_key(T0 + k, (uint64_t)(k + 1)), 1);
}

/* ---- a large batch -------------------------------------------------------- */

#define BATCH_EVENTS 200000
#define BATCH_TX     20000

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void a_large_batch_is_stored_whole_and_its_rate_printed(void **state) {
    (void)state;
    static const char *const products[] = {NULL, "analytics_pro", NULL, "api", NULL};
    struct store_event_key *keys = malloc(BATCH_TX * sizeof *keys);
    double t0 = now_s();
    int64_t inserted = 0;
    for (int first = 0; first < BATCH_EVENTS; first += BATCH_TX) {
        begin(fx.s);
        for (int i = 0; i < BATCH_TX; i++)
            keys[i] =
                (struct store_event_key){T0 + (first + i) * 1000LL, (uint64_t)(first + i) * 7919};
        assert_int_equal(store_event_keys_prefetch(fx.s, keys, BATCH_TX), TEND_OK);
        for (int i = 0; i < BATCH_TX; i++) {
            int k = first + i;
            struct store_event ev = event(k % 9 == 0 ? EV_LOGIN : EV_FEATURE, 1 + k % 500,
                                          keys[i].key_ts_ms, keys[i].key_hash);
            ev.user_id = 1 + k % 5000;
            ev.name_id = 1 + k % 12;
            ev.subject = ev.kind == EV_FEATURE ? products[k % 5] : NULL;
            ev.props = "{\"path\":\"/reports\",\"n\":3}";
            inserted += put(fx.s, &ev);
        }
        commit(fx.s);
    }
    double secs = now_s() - t0;
    free(keys);
    print_message("%s: %d events stored in transactions of %d: %.2f s, %.0f events/s\n",
                  test_db_backend(), BATCH_EVENTS, BATCH_TX, secs, BATCH_EVENTS / secs);
    assert_int_equal(inserted, BATCH_EVENTS);
    assert_true(
        exists(fx.s, T0 + (BATCH_EVENTS - 1) * 1000LL, (uint64_t)(BATCH_EVENTS - 1) * 7919));
    bool used = false;
    assert_int_equal(store_product_used(fx.s, 2, "analytics_pro", DAY0, DAY0 + 3, &used), TEND_OK);
    assert_true(used);
    assert_int_equal(events_of_key(T0 + 123 * 1000LL, 123 * 7919), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(duplicates_within_and_across_transactions_are_not_inserted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(prefetched_keys_answer_as_looked_up_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(a_rollback_forgets_what_it_staged, setup, teardown),
        cmocka_unit_test_setup_teardown(reads_in_the_same_transaction_see_the_events_put, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(quarantined_events_wait_and_attach_with_what_they_derive,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(two_connections_putting_the_same_keys_store_each_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_large_batch_is_stored_whole_and_its_rate_printed, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
