/* test_store_accounts_nodes.c: the accounts group of the store with
 * several nodes writing one database at once, on whichever backend
 * test_db.h opens (SQLite in the plain unit pass, PostgreSQL under
 * tests/integration/store_pg.sh); each operation's own contract is
 * test_store_accounts.c.
 *
 * Two threads, each with its own connection (its own store_open of the
 * same database), in transactions. Where a race needs one connection to be
 * inside another's window, the first holds its transaction open until the
 * server shows the second waiting on a lock (pg_stat_activity, polled with
 * a deadline), so the path is taken every run, not by chance. SQLite takes
 * one writer at a time (BEGIN IMMEDIATE): there the second simply waits, and
 * the same checks hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "test_db.h"

/* How long a thread waits for the other to reach a point: a deadline for a
 * broken case only, never a guess at a speed. */
#define WAIT_DEADLINE_S 60

static struct {
    char dir[256];
    char path[300];
    struct store *s;
} fx;

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx.dir, sizeof fx.dir, "%s/tend-test-nodes-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.path, sizeof fx.path, "%s/tend.db", fx.dir);
    char err[STORE_ERR_BYTES];
    if (test_db_open(fx.path, &fx.s, err) != TEND_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
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

/* Another connection to the fixture's database, as another node has. */
static struct store *open_other(void) {
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (test_db_open(fx.path, &s, err) != TEND_OK)
        fail_msg("store_open (a second connection): %s", err);
    return s;
}

#define ok(call)                                                                                   \
    do {                                                                                           \
        enum tend_err e_ = (call);                                                                 \
        if (e_ != TEND_OK)                                                                         \
            fail_msg("%s: %s (%s)", #call, tend_strerror(e_), store_last_error(fx.s));             \
    } while (0)

/* What the checks read of an account. */
struct acct {
    int64_t events;
    char plan[32], traits[512];
};

static int on_acct(void *arg, const struct store_account_row *r) {
    struct acct *a = arg;
    a->events = r->events;
    snprintf(a->plan, sizeof a->plan, "%s", r->f.plan ? r->f.plan : "");
    snprintf(a->traits, sizeof a->traits, "%s", r->traits_json ? r->traits_json : "");
    return 0;
}

static struct acct get_account(struct store *s, int64_t id) {
    struct acct a = {0};
    if (store_account_get(s, id, on_acct, &a) != TEND_OK)
        fail_msg("store_account_get(%lld): %s", (long long)id, store_last_error(s));
    return a;
}

/* Traits as "key=value;..." in the order given. */
static void on_trait(void *arg, const char *key, const char *value_json) {
    char *out = arg;
    size_t len = strlen(out);
    snprintf(out + len, 512 - len, "%s=%s;", key, value_json);
}

static void traits_of(struct store *s, enum store_entity e, int64_t id, char out[512]) {
    out[0] = '\0';
    if (store_traits_each(s, e, id, on_trait, out) != TEND_OK)
        fail_msg("store_traits_each: %s", store_last_error(s));
}

/* The counters: how many, and the value of "race". */
struct counters {
    int n;
    int64_t race;
};

static void on_counter(void *arg, const char *name, int64_t value) {
    struct counters *c = arg;
    c->n++;
    if (strcmp(name, "race") == 0)
        c->race = value;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pause_ms(int ms) {
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits until *flag is at least value; false after the deadline. */
static bool wait_flag(atomic_int *flag, int value) {
    double end = seconds() + WAIT_DEADLINE_S;
    while (atomic_load(flag) < value) {
        if (seconds() > end)
            return false;
        pause_ms(1);
    }
    return true;
}

/* Waits until another connection of the server waits on a lock (a row, a
 * key being inserted, an advisory lock), or until *other (may be NULL) is
 * at least value: the other connection went through without waiting. True
 * at once on SQLite, where a second writer cannot start its transaction
 * before the first commits. False after the deadline. */
static bool wait_for_waiter(atomic_int *other, int value) {
    if (!test_db_pg_url())
        return true;
    PGconn *c = PQconnectdb(test_db_pg_url());
    bool seen = false;
    double end = seconds() + WAIT_DEADLINE_S;
    while (PQstatus(c) == CONNECTION_OK && seconds() < end) {
        PGresult *r = PQexec(c, "SELECT count(*) FROM pg_stat_activity "
                                "WHERE wait_event_type = 'Lock' AND datname = current_database()");
        seen = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
        PQclear(r);
        if (seen || (other && atomic_load(other) >= value))
            break;
        pause_ms(2);
    }
    PQfinish(c);
    return seen || (other && atomic_load(other) >= value);
}

/* What one thread did, checked by the main thread (cmocka's asserts
 * belong to it). */
struct outcome {
    enum tend_err err;
    char msg[STORE_ERR_BYTES + 64];
};

static bool failed(struct outcome *o, struct store *s, const char *what, enum tend_err e) {
    if (e != TEND_OK && o->err == TEND_OK) {
        o->err = e;
        snprintf(o->msg, sizeof o->msg, "%s: %s (%s)", what, tend_strerror(e), store_last_error(s));
    }
    return e != TEND_OK;
}

static void check(const struct outcome *o, const char *who) {
    if (o->err != TEND_OK)
        fail_msg("%s: %s", who, o->msg);
}

enum kind { ACCOUNT, USER, NAME };

static enum tend_err ensure_kind(struct store *s, enum kind k, const char *key, int64_t *id,
                                 bool *created) {
    *created = false;
    switch (k) {
    case ACCOUNT:
        return store_account_ensure(s, key, 1000, id, created);
    case USER:
        return store_user_ensure(s, key, false, 1000, id);
    default:
        return store_name_ensure(s, key, id);
    }
}

/* Two connections ensuring one key: the first holds its new row
 * uncommitted until the second waits for it. */
struct ensure_race {
    enum kind kind;
    const char *key;
    struct store *s[2];
    int64_t id[2];
    bool created[2];
    bool waited;
    atomic_int step; /* 1: the first has its row */
    struct outcome out[2];
};

static void *ensure_first(void *arg) {
    struct ensure_race *r = arg;
    struct outcome *o = &r->out[0];
    if (failed(o, r->s[0], "begin", store_begin(r->s[0], NULL)))
        return NULL;
    failed(o, r->s[0], "ensure", ensure_kind(r->s[0], r->kind, r->key, &r->id[0], &r->created[0]));
    atomic_store(&r->step, 1);
    r->waited = wait_for_waiter(NULL, 0);
    failed(o, r->s[0], "commit", store_commit(r->s[0]));
    return NULL;
}

static void *ensure_second(void *arg) {
    struct ensure_race *r = arg;
    struct outcome *o = &r->out[1];
    if (!wait_flag(&r->step, 1)) {
        snprintf(o->msg, sizeof o->msg, "the first connection never ensured");
        o->err = TEND_ERR_IO;
        return NULL;
    }
    if (failed(o, r->s[1], "begin", store_begin(r->s[1], NULL)))
        return NULL;
    if (!failed(o, r->s[1], "ensure",
                ensure_kind(r->s[1], r->kind, r->key, &r->id[1], &r->created[1])))
        failed(o, r->s[1], "commit", store_commit(r->s[1]));
    else
        store_rollback(r->s[1]);
    return NULL;
}

/* An account, a user and a name ensured by two connections at once, the
 * second while the first's new row is not committed: one row each, both
 * connections get its id, and only the first created it. */
static void two_connections_ensure_one_row_each(void **state) {
    (void)state;
    const enum kind kinds[] = {ACCOUNT, USER, NAME};
    const char *const names[] = {"account", "user", "name"};
    for (int k = 0; k < 3; k++) {
        struct ensure_race r = {.kind = kinds[k], .key = "same-key"};
        r.s[0] = open_other();
        r.s[1] = open_other();
        pthread_t t[2];
        double t0 = seconds();
        pthread_create(&t[0], NULL, ensure_first, &r);
        pthread_create(&t[1], NULL, ensure_second, &r);
        pthread_join(t[0], NULL);
        pthread_join(t[1], NULL);
        double took = seconds() - t0;
        check(&r.out[0], "first connection");
        check(&r.out[1], "second connection");
        store_close(r.s[0]);
        store_close(r.s[1]);
        if (!r.waited)
            fail_msg("%s: the second connection was never seen waiting", names[k]);
        assert_true(r.id[0] > 0);
        assert_int_equal(r.id[1], r.id[0]);
        if (kinds[k] == ACCOUNT) {
            assert_true(r.created[0]);
            assert_false(r.created[1]);
        }
        int64_t again;
        bool created;
        ok(ensure_kind(fx.s, kinds[k], "same-key", &again, &created));
        assert_int_equal(again, r.id[0]);
        assert_false(created);
        print_message("ok: %s: one row (id %lld) for both connections, in %.3f s\n", names[k],
                      (long long)again, took);
    }
    struct store_status st;
    ok(store_status_get(fx.s, &st));
    assert_int_equal(st.accounts, 1);
    assert_int_equal(st.users, 1);
}

#define MANY 100

/* Two connections ensuring the same MANY keys of each kind, in one
 * transaction each, started together. */
struct many_race {
    struct store *s;
    pthread_barrier_t *go;
    int64_t ids[3][MANY];
    struct outcome out;
};

static void *ensure_many(void *arg) {
    struct many_race *r = arg;
    pthread_barrier_wait(r->go);
    if (failed(&r->out, r->s, "begin", store_begin(r->s, NULL)))
        return NULL;
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < MANY; i++) {
            char key[32];
            bool created;
            snprintf(key, sizeof key, "key-%d", i);
            if (failed(&r->out, r->s, "ensure",
                       ensure_kind(r->s, (enum kind)k, key, &r->ids[k][i], &created))) {
                store_rollback(r->s);
                return NULL;
            }
        }
    }
    failed(&r->out, r->s, "commit", store_commit(r->s));
    return NULL;
}

static void two_connections_ensure_the_same_keys_together(void **state) {
    (void)state;
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct many_race *r = calloc(2, sizeof *r);
    pthread_t t[2];
    double t0 = seconds();
    for (int i = 0; i < 2; i++) {
        r[i].s = open_other();
        r[i].go = &go;
        pthread_create(&t[i], NULL, ensure_many, &r[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double took = seconds() - t0;
    for (int i = 0; i < 2; i++) {
        store_close(r[i].s);
        check(&r[i].out, i ? "second connection" : "first connection");
    }
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < MANY; i++)
            assert_int_equal(r[0].ids[k][i], r[1].ids[k][i]);
    struct store_status st;
    ok(store_status_get(fx.s, &st));
    assert_int_equal(st.accounts, MANY);
    assert_int_equal(st.users, MANY);
    print_message("ok: %d keys of each kind by two connections: %d rows each, %.3f s\n", MANY, MANY,
                  took);
    free(r);
    pthread_barrier_destroy(&go);
}

#define ADDS 100

/* One connection's transactions, each adding 1 to a counter, to an
 * account's event count and to a session epoch. */
struct add_race {
    struct store *s;
    pthread_barrier_t *go;
    int64_t account;
    int64_t epochs[ADDS];
    struct outcome out;
};

static void *add_many(void *arg) {
    struct add_race *r = arg;
    pthread_barrier_wait(r->go);
    for (int i = 0; i < ADDS; i++) {
        if (failed(&r->out, r->s, "begin", store_begin(r->s, NULL)))
            return NULL;
        if (failed(&r->out, r->s, "counter_add", store_counter_add(r->s, "race", 1)) ||
            failed(&r->out, r->s, "account_count_events",
                   store_account_count_events(r->s, r->account, 1)) ||
            failed(&r->out, r->s, "session_epoch_bump",
                   store_session_epoch_bump(r->s, "ada@example.com", i, &r->epochs[i])) ||
            failed(&r->out, r->s, "commit", store_commit(r->s))) {
            store_rollback(r->s);
            return NULL;
        }
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Counters, event counts and session epochs added to by two connections
 * at once add up exactly, and every sign-out gets an epoch of its own. */
static void two_connections_add_up_exactly(void **state) {
    (void)state;
    int64_t a;
    bool created;
    ok(store_account_ensure(fx.s, "acme", 1, &a, &created));
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    struct add_race *r = calloc(2, sizeof *r);
    pthread_t t[2];
    double t0 = seconds();
    for (int i = 0; i < 2; i++) {
        r[i].s = open_other();
        r[i].go = &go;
        r[i].account = a;
        pthread_create(&t[i], NULL, add_many, &r[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double took = seconds() - t0;
    for (int i = 0; i < 2; i++) {
        store_close(r[i].s);
        check(&r[i].out, i ? "second connection" : "first connection");
    }
    struct counters c = {0};
    ok(store_counters_each(fx.s, on_counter, &c));
    assert_int_equal(c.n, 1);
    assert_int_equal(c.race, 2 * ADDS);
    assert_int_equal(get_account(fx.s, a).events, 2 * ADDS);
    int64_t all[2 * ADDS];
    memcpy(all, r[0].epochs, sizeof r[0].epochs);
    memcpy(all + ADDS, r[1].epochs, sizeof r[1].epochs);
    qsort(all, 2 * ADDS, sizeof all[0], cmp_i64);
    for (int i = 0; i < 2 * ADDS; i++)
        assert_int_equal(all[i], i + 1);
    int64_t epoch;
    ok(store_session_epoch(fx.s, "ada@example.com", &epoch));
    assert_int_equal(epoch, 2 * ADDS);
    print_message("ok: 2 x %d transactions: counter %lld, events %lld, epochs 1..%d, %.0f tx/s\n",
                  ADDS, (long long)c.race, (long long)(2 * ADDS), 2 * ADDS, 2 * ADDS / took);
    free(r);
    pthread_barrier_destroy(&go);
}

/* Two connections starting one membership: the first holds its new row
 * uncommitted until the second waits. */
struct member_race {
    struct store *s[2];
    int64_t account, user;
    bool started[2];
    bool waited;
    atomic_int step;
    struct outcome out[2];
};

static void *member_first(void *arg) {
    struct member_race *r = arg;
    struct outcome *o = &r->out[0];
    if (failed(o, r->s[0], "begin", store_begin(r->s[0], NULL)))
        return NULL;
    failed(o, r->s[0], "membership_start",
           store_membership_start(r->s[0], r->account, r->user, 1000, &r->started[0]));
    atomic_store(&r->step, 1);
    r->waited = wait_for_waiter(&r->step, 2);
    failed(o, r->s[0], "commit", store_commit(r->s[0]));
    return NULL;
}

static void *member_second(void *arg) {
    struct member_race *r = arg;
    struct outcome *o = &r->out[1];
    if (!wait_flag(&r->step, 1) || failed(o, r->s[1], "begin", store_begin(r->s[1], NULL)))
        return NULL;
    failed(o, r->s[1], "membership_start",
           store_membership_start(r->s[1], r->account, r->user, 1000, &r->started[1]));
    atomic_store(&r->step, 2);
    failed(o, r->s[1], "commit", store_commit(r->s[1]));
    return NULL;
}

/* A user joining an account on two nodes at once is one membership. */
static void two_connections_start_one_membership(void **state) {
    (void)state;
    struct member_race r = {0};
    bool created;
    ok(store_account_ensure(fx.s, "acme", 1, &r.account, &created));
    ok(store_user_ensure(fx.s, "u", false, 1, &r.user));
    r.s[0] = open_other();
    r.s[1] = open_other();
    pthread_t t[2];
    pthread_create(&t[0], NULL, member_first, &r);
    pthread_create(&t[1], NULL, member_second, &r);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    check(&r.out[0], "first connection");
    check(&r.out[1], "second connection");
    store_close(r.s[0]);
    store_close(r.s[1]);
    assert_true(r.started[0]);
    assert_false(r.started[1]);
    struct store_membership *m;
    size_t n;
    ok(store_user_memberships(fx.s, r.user, &m, &n));
    free(m);
    assert_int_equal(n, 1);
    print_message("ok: one membership; the second connection %s\n",
                  r.waited ? "waited for the first" : "went first");
}

/* Two connections changing one account in opposite orders: the first a
 * membership then a trait, the second a trait then a membership (two
 * messages of a batch, on two nodes), of one user. Both finish, neither
 * deadlocked: the membership's lock is the account row the trait merge
 * locks too (a lock of its own, taken in the other order by the other
 * connection, would make a cycle). */
struct order_race {
    struct store *s[2];
    int64_t account, user;
    bool waited;
    atomic_int first, second; /* 1: first step done */
    struct outcome out[2];
};

static void *order_first(void *arg) {
    struct order_race *r = arg;
    struct outcome *o = &r->out[0];
    struct store *s = r->s[0];
    bool started;
    if (!failed(o, s, "begin", store_begin(s, NULL)) &&
        !failed(o, s, "membership_start",
                store_membership_start(s, r->account, r->user, 1000, &started))) {
        atomic_store(&r->first, 1);
        r->waited = wait_for_waiter(&r->second, 1);
        failed(o, s, "trait_merge", store_trait_merge(s, STORE_ACCOUNT, r->account, "a", "1", 5));
    }
    if (o->err == TEND_OK)
        failed(o, s, "commit", store_commit(s));
    else
        store_rollback(s);
    return NULL;
}

static void *order_second(void *arg) {
    struct order_race *r = arg;
    struct outcome *o = &r->out[1];
    struct store *s = r->s[1];
    bool started;
    if (!wait_flag(&r->first, 1))
        return NULL;
    if (!failed(o, s, "begin", store_begin(s, NULL)) &&
        !failed(o, s, "trait_merge",
                store_trait_merge(s, STORE_ACCOUNT, r->account, "b", "2", 5))) {
        atomic_store(&r->second, 1);
        failed(o, s, "membership_start",
               store_membership_start(s, r->account, r->user, 2000, &started));
    }
    if (o->err == TEND_OK)
        failed(o, s, "commit", store_commit(s));
    else
        store_rollback(s);
    return NULL;
}

static void two_connections_change_one_account_in_opposite_orders(void **state) {
    (void)state;
    struct order_race r = {0};
    bool created;
    ok(store_account_ensure(fx.s, "acme", 1, &r.account, &created));
    ok(store_user_ensure(fx.s, "u1", false, 1, &r.user));
    r.s[0] = open_other();
    r.s[1] = open_other();
    pthread_t t[2];
    pthread_create(&t[0], NULL, order_first, &r);
    pthread_create(&t[1], NULL, order_second, &r);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    check(&r.out[0], "first connection");
    check(&r.out[1], "second connection");
    store_close(r.s[0]);
    store_close(r.s[1]);
    char got[512];
    traits_of(fx.s, STORE_ACCOUNT, r.account, got);
    assert_string_equal(got, "a=1;b=2;");
    struct store_status st;
    ok(store_status_get(fx.s, &st));
    assert_int_equal(st.memberships_open, 1);
}

/* Two connections merging different traits of one account, each then
 * writing the merged object (as ingest does): the second's merge reads
 * the first's key. */
struct trait_race {
    struct store *s[2];
    int64_t account;
    atomic_int first;  /* 1: merged; 2: committed */
    atomic_int second; /* 1: read the traits back */
    struct outcome out[2];
};

struct object {
    char text[512];
};

static void on_member(void *arg, const char *key, const char *value_json) {
    struct object *o = arg;
    size_t len = strlen(o->text);
    snprintf(o->text + len, sizeof o->text - len, "%s\"%s\":%s", len > 1 ? "," : "", key,
             value_json);
}

/* Reads the account's traits back into one object, as ingest does. */
static enum tend_err merged(struct store *s, int64_t id, struct object *o) {
    snprintf(o->text, sizeof o->text, "{");
    enum tend_err e = store_traits_each(s, STORE_ACCOUNT, id, on_member, o);
    size_t len = strlen(o->text);
    snprintf(o->text + len, sizeof o->text - len, "}");
    return e;
}

static void *traits_first(void *arg) {
    struct trait_race *r = arg;
    struct outcome *o = &r->out[0];
    struct store *s = r->s[0];
    struct object obj;
    struct store_account_fields f = {.plan = "first"};
    if (!failed(o, s, "begin", store_begin(s, NULL)) &&
        !failed(o, s, "trait_merge",
                store_trait_merge(s, STORE_ACCOUNT, r->account, "k1", "1", 5))) {
        atomic_store(&r->first, 1);
        wait_for_waiter(&r->second, 1);
        if (!failed(o, s, "traits_each", merged(s, r->account, &obj)))
            failed(o, s, "set_fields", store_account_set_fields(s, r->account, &f, obj.text));
    }
    if (o->err == TEND_OK)
        failed(o, s, "commit", store_commit(s));
    else
        store_rollback(s);
    atomic_store(&r->first, 2);
    return NULL;
}

static void *traits_second(void *arg) {
    struct trait_race *r = arg;
    struct outcome *o = &r->out[1];
    struct store *s = r->s[1];
    struct object obj;
    struct store_account_fields f = {.plan = "second"};
    if (!wait_flag(&r->first, 1))
        return NULL;
    if (!failed(o, s, "begin", store_begin(s, NULL)) &&
        !failed(o, s, "trait_merge",
                store_trait_merge(s, STORE_ACCOUNT, r->account, "k2", "2", 5)) &&
        !failed(o, s, "traits_each", merged(s, r->account, &obj))) {
        atomic_store(&r->second, 1);
        wait_flag(&r->first, 2);
        failed(o, s, "set_fields", store_account_set_fields(s, r->account, &f, obj.text));
    }
    if (o->err == TEND_OK)
        failed(o, s, "commit", store_commit(s));
    else
        store_rollback(s);
    atomic_store(&r->second, 1);
    return NULL;
}

static void two_connections_merge_traits_without_losing_one(void **state) {
    (void)state;
    struct trait_race r = {0};
    bool created;
    ok(store_account_ensure(fx.s, "acme", 1, &r.account, &created));
    r.s[0] = open_other();
    r.s[1] = open_other();
    pthread_t t[2];
    pthread_create(&t[0], NULL, traits_first, &r);
    pthread_create(&t[1], NULL, traits_second, &r);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    check(&r.out[0], "first connection");
    check(&r.out[1], "second connection");
    store_close(r.s[0]);
    store_close(r.s[1]);
    struct acct a = get_account(fx.s, r.account);
    assert_string_equal(a.plan, "second");
    assert_string_equal(a.traits, "{\"k1\":1,\"k2\":2}");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(two_connections_ensure_one_row_each, setup, teardown),
        cmocka_unit_test_setup_teardown(two_connections_ensure_the_same_keys_together, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(two_connections_add_up_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(two_connections_start_one_membership, setup, teardown),
        cmocka_unit_test_setup_teardown(two_connections_merge_traits_without_losing_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(two_connections_change_one_account_in_opposite_orders,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
