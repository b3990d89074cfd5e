/* test_store_node.c: several nodes on one database (store.h, "several
 * nodes"; sqlite_node.c, pg_node.c), on the backend under test
 * (tests/unit/test_db.h: SQLite here, PostgreSQL in store_pg.sh).
 *
 * Each "node" is a connection of its own to one database: the lease has
 * one holder per term however they race, a run is planned once per
 * scheduled time and only under the lease, buckets are claimed disjointly,
 * a claim that ran out is claimed again and the late node's work is not
 * counted, exactly one node completes a run, opening CTAs takes turns,
 * and a transaction's wake-ups arrive as one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "store/pg_int.h"
#include "store/store.h"
#include "test_db.h"

static char dir[256];
static int seq; /* a fresh database per test */

static int dir_setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-node-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The path of this test's database; n connections to it in s[]. */
static void open_nodes(char *path, size_t size, struct store **s, int n) {
    snprintf(path, size, "%s/node-%d-%d.db", dir, (int)getpid(), ++seq);
    for (int i = 0; i < n; i++) {
        char err[STORE_ERR_BYTES];
        if (test_db_open(path, &s[i], err))
            fail_msg("opening %s: %s", path, err);
    }
}

static void close_nodes(struct store **s, int n) {
    for (int i = 0; i < n; i++)
        store_close(s[i]);
}

/* n accounts, ids 1..n. (While PostgreSQL's accounts are not built, this
 * writes their rows itself.) */
static void add_accounts(struct store *s, int n) {
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    for (int i = 1; i <= n; i++) {
        char ext[32];
        int64_t id;
        bool created;
        snprintf(ext, sizeof ext, "acct-%04d", i);
        enum tend_err err = store_account_ensure(s, ext, 1000 + i, &id, &created);
        if (err == TEND_ERR_INVALID && i == 1 &&
            strcmp(store_last_error(s),
                   "PostgreSQL: account_ensure is not available on this backend yet") == 0) {
            char sql[200];
            snprintf(sql, sizeof sql,
                     "INSERT INTO accounts (external_id, first_seen_ms) "
                     "SELECT 'acct-' || i, 1000 + i FROM generate_series(1, %d) i",
                     n);
            assert_int_equal(pg_exec(pg_of(s), sql, "adding accounts"), TEND_OK);
            break;
        }
        if (err)
            fail_msg("account_ensure: %s", store_last_error(s));
        assert_int_equal(id, i);
    }
    assert_int_equal(store_commit(s), TEND_OK);
}

/* The lease: taken when free, renewed by its holder with the same term,
 * refused to another while it lasts, taken over with the next term when it
 * runs out, and given up at once by release. */
static void the_lease_has_one_holder_per_term(void **state) {
    (void)state;
    char path[300];
    struct store *s[2];
    open_nodes(path, sizeof path, s, 2);
    struct store_lease a, b;
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "node-a", 1000, 500, &a), 0);
    assert_true(a.held);
    assert_int_equal(a.term, 1);
    assert_int_equal(a.expires_ms, 1500);
    assert_int_equal(store_lease_acquire(s[1], STORE_LEASE_SCHED, "node-b", 1200, 500, &b), 0);
    assert_false(b.held);
    assert_string_equal(b.holder, "node-a");
    assert_int_equal(b.term, 1);
    /* renewal: the same term, a later end */
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "node-a", 1400, 500, &a), 0);
    assert_true(a.held);
    assert_int_equal(a.term, 1);
    assert_int_equal(a.expires_ms, 1900);
    assert_int_equal(store_lease_acquire(s[1], STORE_LEASE_SCHED, "node-b", 1899, 500, &b), 0);
    assert_false(b.held);
    /* node-a stops renewing: node-b takes over at the end, with term 2 */
    assert_int_equal(store_lease_acquire(s[1], STORE_LEASE_SCHED, "node-b", 1900, 500, &b), 0);
    assert_true(b.held);
    assert_int_equal(b.term, 2);
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "node-a", 1950, 500, &a), 0);
    assert_false(a.held);
    assert_string_equal(a.holder, "node-b");
    /* release by a non-holder changes nothing; by the holder, it is free */
    assert_int_equal(store_lease_release(s[0], STORE_LEASE_SCHED, "node-a"), 0);
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "node-a", 2000, 500, &a), 0);
    assert_false(a.held);
    assert_int_equal(store_lease_release(s[1], STORE_LEASE_SCHED, "node-b"), 0);
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "node-a", 2001, 500, &a), 0);
    assert_true(a.held);
    assert_int_equal(a.term, 3);
    close_nodes(s, 2);
}

/* Connections racing for the lease on threads: each round the lease has
 * run out, every racer asks for it at the same instant, and exactly one
 * gets it, with a term one above the round before's. */
enum { RACERS = 3, ROUNDS = 40 };

struct racer {
    struct store *s;
    char name[16];
    pthread_barrier_t *go;
    bool held[ROUNDS];
    int64_t term[ROUNDS];
    enum tend_err err;
};

static void *race(void *arg) {
    struct racer *r = arg;
    for (int i = 0; i < ROUNDS && !r->err; i++) {
        pthread_barrier_wait(r->go);
        struct store_lease l;
        /* round i's instant is past round i-1's lease (100 ms) */
        r->err = store_lease_acquire(r->s, STORE_LEASE_SCHED, r->name, 10000 + i * 1000, 100, &l);
        r->held[i] = l.held;
        r->term[i] = l.term;
        pthread_barrier_wait(r->go);
    }
    if (r->err)
        fprintf(stderr, "%s: %s\n", r->name, store_last_error(r->s));
    return NULL;
}

static void racing_connections_get_one_holder_per_term(void **state) {
    (void)state;
    char path[300];
    struct store *s[RACERS];
    open_nodes(path, sizeof path, s, RACERS);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    struct racer r[RACERS];
    pthread_t t[RACERS];
    for (int k = 0; k < RACERS; k++) {
        memset(&r[k], 0, sizeof r[k]);
        r[k].s = s[k];
        r[k].go = &go;
        snprintf(r[k].name, sizeof r[k].name, "racer-%d", k);
        assert_int_equal(pthread_create(&t[k], NULL, race, &r[k]), 0);
    }
    for (int k = 0; k < RACERS; k++)
        pthread_join(t[k], NULL);
    pthread_barrier_destroy(&go);
    int wins[RACERS] = {0};
    for (int i = 0; i < ROUNDS; i++) {
        int holders = 0;
        for (int k = 0; k < RACERS; k++) {
            assert_int_equal(r[k].err, TEND_OK);
            holders += r[k].held[i];
            wins[k] += r[k].held[i];
            /* everyone sees the same term in a round: the winner's */
            assert_int_equal(r[k].term[i], r[0].term[i]);
        }
        assert_int_equal(holders, 1);
        /* a new holder adds one; the same holder again keeps it */
        if (i > 0)
            assert_true(r[0].term[i] == r[0].term[i - 1] || r[0].term[i] == r[0].term[i - 1] + 1);
    }
    printf("ok: %d rounds of %d racers: one holder each; wins %d/%d/%d, last term %lld\n", ROUNDS,
           RACERS, wins[0], wins[1], wins[2], (long long)r[0].term[ROUNDS - 1]);
    close_nodes(s, RACERS);
}

/* A run is planned only by the lease's holder with its current term, once
 * per scheduled time, in buckets of the accounts' ids (the last
 * open-ended). */
static void a_run_is_planned_once_and_only_under_the_lease(void **state) {
    (void)state;
    char path[300];
    struct store *s[2];
    open_nodes(path, sizeof path, s, 2);
    add_accounts(s[0], 10);
    struct store_lease l;
    bool created;
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "node-a", 1000, 5000, &l), 0);
    /* not the holder; the holder with an old term; after its lease ran out */
    assert_int_equal(
        store_run_create(s[1], STORE_LEASE_SCHED, "node-b", 1, 7000, 3, 4, 1100, &created), 0);
    assert_false(created);
    assert_int_equal(
        store_run_create(s[0], STORE_LEASE_SCHED, "node-a", 0, 7000, 3, 4, 1100, &created), 0);
    assert_false(created);
    assert_int_equal(
        store_run_create(s[0], STORE_LEASE_SCHED, "node-a", 1, 7000, 3, 4, 6000, &created), 0);
    assert_false(created);
    struct store_run run;
    bool found;
    assert_int_equal(store_run_latest(s[0], &run, &found), 0);
    assert_false(found);
    /* the holder plans it once */
    assert_int_equal(
        store_run_create(s[0], STORE_LEASE_SCHED, "node-a", 1, 7000, 3, 4, 1100, &created), 0);
    assert_true(created);
    assert_int_equal(
        store_run_create(s[0], STORE_LEASE_SCHED, "node-a", 1, 7000, 3, 4, 1200, &created), 0);
    assert_false(created);
    assert_int_equal(store_run_latest(s[1], &run, &found), 0);
    assert_true(found);
    assert_int_equal(run.due_ms, 7000);
    assert_int_equal(run.day, 3);
    assert_int_equal(run.n_buckets, 3); /* 10 ids by 4: 1-4, 5-8, 9-... */
    assert_int_equal(run.done_buckets, 0);
    assert_int_equal(run.term, 1);
    assert_int_equal(run.done_ms, 0);
    assert_int_equal(store_run_get(s[1], 9999, &run), TEND_ERR_NOTFOUND);
    /* no bucket width: one bucket of every id */
    assert_int_equal(
        store_run_create(s[0], STORE_LEASE_SCHED, "node-a", 1, 8000, 4, 0, 1300, &created), 0);
    assert_true(created);
    assert_int_equal(store_run_get(s[1], 8000, &run), 0);
    assert_int_equal(run.n_buckets, 1);
    assert_int_equal(store_run_latest(s[1], &run, &found), 0);
    assert_int_equal(run.due_ms, 8000);
    close_nodes(s, 2);
}

static void claim(struct store *s, const char *holder, int64_t now, struct store_bucket *b,
                  bool *found) {
    if (store_bucket_claim(s, holder, now, 1000, b, found))
        fail_msg("claim: %s", store_last_error(s));
}

static void done(struct store *s, const char *holder, const struct store_bucket *b, int64_t now,
                 int64_t accounts, bool *ours, bool *run_done, struct store_run *run) {
    struct store_run_counts c = {.accounts = accounts, .opened = 1, .notifications = 2};
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    if (store_bucket_done(s, holder, b->due_ms, b->bucket, now, &c, ours, run_done, run))
        fail_msg("done: %s", store_last_error(s));
    assert_int_equal(store_commit(s), TEND_OK);
}

/* Nodes claim different buckets; a claim that ran out is claimed again,
 * and the first claimer's late report is not counted; the run completes
 * once, when its last bucket is done, with the buckets' counts summed. */
static void buckets_are_claimed_disjointly_and_reclaimed_after_their_lease(void **state) {
    (void)state;
    char path[300];
    struct store *s[3];
    open_nodes(path, sizeof path, s, 3);
    add_accounts(s[0], 10);
    struct store_lease l;
    bool created, found, ours, run_done;
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "a", 1000, 60000, &l), 0);
    assert_int_equal(store_run_create(s[0], STORE_LEASE_SCHED, "a", 1, 5000, 2, 4, 1000, &created),
                     0);
    assert_true(created);
    struct store_bucket b[4];
    claim(s[0], "a", 2000, &b[0], &found);
    assert_true(found);
    claim(s[1], "b", 2000, &b[1], &found);
    assert_true(found);
    claim(s[2], "c", 2000, &b[2], &found);
    assert_true(found);
    claim(s[1], "b", 2001, &b[3], &found);
    assert_false(found); /* all three taken */
    assert_int_equal(b[0].bucket, 0);
    assert_int_equal(b[1].bucket, 1);
    assert_int_equal(b[2].bucket, 2);
    assert_int_equal(b[0].first_id, 1);
    assert_int_equal(b[0].last_id, 4);
    assert_int_equal(b[1].first_id, 5);
    assert_int_equal(b[1].last_id, 8);
    assert_int_equal(b[2].first_id, 9);
    assert_int_equal(b[2].last_id, INT64_MAX);
    assert_int_equal(b[0].n_buckets, 3);
    assert_int_equal(b[0].day, 2);
    assert_int_equal(b[0].attempts, 1);
    /* the bucket's accounts */
    int64_t *ids;
    size_t n;
    assert_int_equal(store_account_ids_between(s[1], b[1].first_id, b[1].last_id, &ids, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(ids[0], 5);
    assert_int_equal(ids[3], 8);
    free(ids);
    /* a and b finish; c dies holding bucket 2 */
    done(s[0], "a", &b[0], 2500, 4, &ours, &run_done, NULL);
    assert_true(ours);
    assert_false(run_done);
    done(s[1], "b", &b[1], 2600, 4, &ours, &run_done, NULL);
    assert_true(ours);
    assert_false(run_done);
    claim(s[0], "a", 2999, &b[3], &found);
    assert_false(found); /* c's claim lasts until 3000 */
    claim(s[0], "a", 3000, &b[3], &found);
    assert_true(found);
    assert_int_equal(b[3].bucket, 2);
    assert_int_equal(b[3].attempts, 2);
    /* c comes back late: its report is not counted */
    done(s[2], "c", &b[2], 3100, 99, &ours, &run_done, NULL);
    assert_false(ours);
    assert_false(run_done);
    struct store_run run;
    assert_int_equal(store_run_get(s[2], 5000, &run), 0);
    assert_int_equal(run.done_buckets, 2);
    assert_int_equal(run.done_ms, 0);
    done(s[0], "a", &b[3], 3200, 2, &ours, &run_done, &run);
    assert_true(ours);
    assert_true(run_done);
    assert_int_equal(run.done_ms, 3200);
    assert_int_equal(run.done_buckets, 3);
    assert_int_equal(run.c.accounts, 10);
    assert_int_equal(run.c.opened, 3);
    assert_int_equal(run.c.notifications, 6);
    /* done twice: not ours again, the run stays complete once */
    done(s[0], "a", &b[3], 3300, 2, &ours, &run_done, NULL);
    assert_false(ours);
    assert_false(run_done);
    claim(s[1], "b", 100000, &b[3], &found);
    assert_false(found);
    close_nodes(s, 3);
}

/* A claim in progress on another connection (its transaction not
 * committed yet) is skipped, not waited for: the second claimer gets the
 * next bucket at once. (SQLite: one writer at a time, nothing to skip.) */
static void a_claim_in_progress_is_skipped_not_waited_for(void **state) {
    (void)state;
    if (strcmp(test_db_backend(), "postgresql") != 0)
        skip();
    char path[300];
    struct store *s[2];
    open_nodes(path, sizeof path, s, 2);
    add_accounts(s[0], 8);
    struct store_lease l;
    bool created, found;
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "a", 1000, 60000, &l), 0);
    assert_int_equal(store_run_create(s[0], STORE_LEASE_SCHED, "a", 1, 5000, 2, 4, 1000, &created),
                     0);
    struct store_bucket a, b;
    assert_int_equal(store_begin(s[0], NULL), TEND_OK);
    claim(s[0], "a", 2000, &a, &found);
    assert_true(found);
    claim(s[1], "b", 2000, &b, &found); /* would hang here without SKIP LOCKED */
    assert_true(found);
    assert_int_equal(a.bucket, 0);
    assert_int_equal(b.bucket, 1);
    assert_int_equal(store_commit(s[0]), TEND_OK);
    close_nodes(s, 2);
}

/* Planning a run makes the months of events ahead (PostgreSQL: monthly
 * partitions), so events land in their month's partition, not the default
 * one: from the planning time's month to three months on. */
static void planning_a_run_makes_the_months_of_events_ahead(void **state) {
    (void)state;
    if (strcmp(test_db_backend(), "postgresql") != 0)
        skip();
    char path[300], url[1024];
    struct store *s[1];
    open_nodes(path, sizeof path, s, 1);
    add_accounts(s[0], 2);
    struct store_lease l;
    bool created;
    const int64_t nov_2026 = 1793491200000LL; /* 2026-11-01 */
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "a", nov_2026, 60000, &l), 0);
    assert_int_equal(
        store_run_create(s[0], STORE_LEASE_SCHED, "a", 1, nov_2026, 3, 4, nov_2026, &created), 0);
    assert_true(created);
    assert_int_equal(test_db_pg_schema(path, url, sizeof url), 0);
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, "SELECT to_regclass('events_p202611') IS NOT NULL,"
                            " to_regclass('events_p202702') IS NOT NULL,"
                            " to_regclass('event_keys_p202702') IS NOT NULL,"
                            " to_regclass('events_p202704') IS NULL");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    for (int i = 0; i < 4; i++)
        assert_string_equal(PQgetvalue(r, 0, i), "t");
    PQclear(r);
    PQfinish(c);
    close_nodes(s, 1);
}

/* Two nodes finishing a run's last two buckets at once: exactly one of
 * them completes the run. Node a marks its bucket done in a transaction it
 * keeps open while node b marks the other: were the run's row not locked
 * first, b would count a's bucket as not done (not committed), a would
 * count b's the same way, and neither would complete the run. */
struct finisher {
    struct store *s;
    const char *holder;
    struct store_bucket b;
    atomic_int finished;
    bool ours, run_done;
    enum tend_err err;
};

static void *finish(void *arg) {
    struct finisher *f = arg;
    struct store_run_counts c = {.accounts = 1};
    f->err = store_begin(f->s, NULL);
    if (!f->err)
        f->err = store_bucket_done(f->s, f->holder, f->b.due_ms, f->b.bucket, 5000, &c, &f->ours,
                                   &f->run_done, NULL);
    if (!f->err)
        f->err = store_commit(f->s);
    else
        store_rollback(f->s);
    atomic_store(&f->finished, 1);
    return NULL;
}

static void of_two_finishing_at_once_one_completes_the_run(void **state) {
    (void)state;
    char path[300];
    struct store *s[2];
    open_nodes(path, sizeof path, s, 2);
    add_accounts(s[0], 8);
    struct store_lease l;
    bool created, found;
    assert_int_equal(store_lease_acquire(s[0], STORE_LEASE_SCHED, "a", 1000, 1000000, &l), 0);
    assert_int_equal(store_run_create(s[0], STORE_LEASE_SCHED, "a", 1, 10000, 2, 4, 1000, &created),
                     0);
    assert_true(created);
    struct finisher a = {.s = s[0], .holder = "a"}, b = {.s = s[1], .holder = "b"};
    claim(s[0], "a", 2000, &a.b, &found);
    assert_true(found);
    claim(s[1], "b", 2000, &b.b, &found);
    assert_true(found);
    struct store_run_counts c = {.accounts = 1};
    assert_int_equal(store_begin(s[0], NULL), TEND_OK);
    assert_int_equal(
        store_bucket_done(s[0], "a", a.b.due_ms, a.b.bucket, 5000, &c, &a.ours, &a.run_done, NULL),
        TEND_OK);
    assert_true(a.ours);
    assert_false(a.run_done); /* b's is not done yet */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, finish, &b), 0);
    usleep(300 * 1000); /* b waits for a's commit, however long this is */
    assert_int_equal(atomic_load(&b.finished), 0);
    assert_int_equal(store_commit(s[0]), TEND_OK);
    pthread_join(t, NULL);
    assert_int_equal(b.err, TEND_OK);
    assert_true(b.ours);
    assert_true(b.run_done);
    struct store_run run;
    assert_int_equal(store_run_get(s[0], 10000, &run), 0);
    assert_int_equal(run.done_ms, 5000);
    assert_int_equal(run.c.accounts, 2);
    close_nodes(s, 2);
}

/* The lock of opening CTAs: a second node's evaluation that opens waits
 * until the first commits (then counts the caps and the budget with the
 * first's opens). (SQLite: one writer at a time already.) */
struct locker {
    struct store *s;
    atomic_int locked;
    enum tend_err err;
};

static void *lock_opens(void *arg) {
    struct locker *k = arg;
    k->err = store_begin(k->s, NULL);
    if (!k->err)
        k->err = store_eval_lock_opens(k->s);
    atomic_store(&k->locked, 1);
    if (!k->err)
        k->err = store_commit(k->s);
    return NULL;
}

static void opening_ctas_takes_turns_across_nodes(void **state) {
    (void)state;
    if (strcmp(test_db_backend(), "postgresql") != 0)
        skip();
    char path[300];
    struct store *s[2];
    open_nodes(path, sizeof path, s, 2);
    assert_int_equal(store_begin(s[0], NULL), TEND_OK);
    assert_int_equal(store_eval_lock_opens(s[0]), TEND_OK);
    struct locker second = {.s = s[1]};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, lock_opens, &second), 0);
    usleep(300 * 1000); /* it cannot have the lock however long we wait */
    assert_int_equal(atomic_load(&second.locked), 0);
    assert_int_equal(store_commit(s[0]), TEND_OK);
    pthread_join(t, NULL);
    assert_int_equal(second.err, TEND_OK);
    assert_int_equal(atomic_load(&second.locked), 1);
    /* released at commit: taken again at once */
    assert_int_equal(store_begin(s[0], NULL), TEND_OK);
    assert_int_equal(store_eval_lock_opens(s[0]), TEND_OK);
    store_rollback(s[0]);
    close_nodes(s, 2);
}

/* Wake-ups: one per committed transaction however many calls, none for a
 * transaction rolled back; on SQLite none ever (one node). */
static void wake_ups_arrive_once_per_committed_transaction(void **state) {
    (void)state;
    char path[300];
    struct store *s[2];
    open_nodes(path, sizeof path, s, 2);
    bool pg = strcmp(test_db_backend(), "postgresql") == 0;
    assert_int_equal(store_listen(s[1], STORE_CHANNEL_RUN), TEND_OK);
    assert_int_equal(store_listen(s[1], STORE_CHANNEL_OUTBOX), TEND_OK);
    assert_int_equal(store_begin(s[0], NULL), TEND_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(store_notify(s[0], STORE_CHANNEL_RUN), TEND_OK);
    assert_int_equal(store_commit(s[0]), TEND_OK);
    assert_int_equal(store_begin(s[0], NULL), TEND_OK);
    assert_int_equal(store_notify(s[0], STORE_CHANNEL_OUTBOX), TEND_OK);
    store_rollback(s[0]);
    char channel[64];
    bool got;
    /* The deadline of a wake-up that comes: generous on PostgreSQL; SQLite
     * has none to deliver (store_notify_wait only waits its time out), so
     * its "none" is as well seen in 200 ms as in 30 s. */
    int deadline_ms = pg ? 30000 : 200;
    assert_int_equal(store_notify_wait(s[1], deadline_ms, channel, sizeof channel, &got), TEND_OK);
    assert_int_equal(got, pg);
    if (pg)
        assert_string_equal(channel, STORE_CHANNEL_RUN);
    /* nothing more: the five were one, the rolled back none */
    assert_int_equal(store_notify_wait(s[1], 200, channel, sizeof channel, &got), TEND_OK);
    assert_false(got);
    /* outside a transaction: at once */
    assert_int_equal(store_notify(s[0], STORE_CHANNEL_OUTBOX), TEND_OK);
    assert_int_equal(store_notify_wait(s[1], deadline_ms, channel, sizeof channel, &got), TEND_OK);
    assert_int_equal(got, pg);
    if (pg)
        assert_string_equal(channel, STORE_CHANNEL_OUTBOX);
    assert_int_equal(store_listen(s[1], "Bad; name"), TEND_ERR_INVALID * pg);
    close_nodes(s, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_lease_has_one_holder_per_term),
        cmocka_unit_test(racing_connections_get_one_holder_per_term),
        cmocka_unit_test(a_run_is_planned_once_and_only_under_the_lease),
        cmocka_unit_test(buckets_are_claimed_disjointly_and_reclaimed_after_their_lease),
        cmocka_unit_test(a_claim_in_progress_is_skipped_not_waited_for),
        cmocka_unit_test(of_two_finishing_at_once_one_completes_the_run),
        cmocka_unit_test(opening_ctas_takes_turns_across_nodes),
        cmocka_unit_test(planning_a_run_makes_the_months_of_events_ahead),
        cmocka_unit_test(wake_ups_arrive_once_per_committed_transaction),
    };
    return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
