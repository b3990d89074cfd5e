/* test_store_accounts.c: the accounts group of the store (accounts, users,
 * names, traits, memberships, counters, the account reads, session epochs)
 * as store.h states it, on whichever backend test_db.h opens: SQLite in the
 * plain unit pass, PostgreSQL under tests/integration/store_pg.sh.
 *
 * The second half is several nodes writing one database at once: two
 * threads, each with its own connection (its own store_open of the same
 * database), in transactions. Where a race needs one connection to be
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
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "core/cta.h"
#include "core/vocab.h"
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
    snprintf(fx.dir, sizeof fx.dir, "%s/tend-test-accounts-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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

static void begin(struct store *s) {
    assert_int_equal(store_begin(s, NULL), TEND_OK);
}

static void commit(struct store *s) {
    if (store_commit(s) != TEND_OK)
        fail_msg("commit: %s", store_last_error(s));
}

#define ok(call)                                                                                   \
    do {                                                                                           \
        enum tend_err e_ = (call);                                                                 \
        if (e_ != TEND_OK)                                                                         \
            fail_msg("%s: %s (%s)", #call, tend_strerror(e_), store_last_error(fx.s));             \
    } while (0)

/* ---- reading back ---------------------------------------------------------- */

/* An account row as read, copied. */
struct acct {
    int64_t id, members, events, first_seen_ms, seats;
    bool has_mrr, has_seats;
    double mrr;
    char external_id[64], name[64], plan[32], renewal[16], csm_email[64], csm_slack[64],
        segment[32], products[128], created_at[32], traits[512];
    bool name_null, renewal_null, products_null;
};

static void copy(char *to, size_t size, const char *from) {
    snprintf(to, size, "%s", from ? from : "");
}

struct accts {
    struct acct v[16];
    int n;
    int stop_after; /* 0: never */
};

static int on_acct(void *arg, const struct store_account_row *r) {
    struct accts *l = arg;
    if (l->n == 16)
        return 1;
    struct acct *a = &l->v[l->n++];
    memset(a, 0, sizeof *a);
    a->id = r->id;
    a->members = r->members;
    a->events = r->events;
    a->first_seen_ms = r->first_seen_ms;
    a->has_mrr = r->f.has_mrr;
    a->mrr = r->f.mrr;
    a->has_seats = r->f.has_seats;
    a->seats = r->f.seats;
    a->name_null = !r->f.name;
    a->renewal_null = !r->f.renewal_date;
    a->products_null = !r->f.premium_products;
    copy(a->external_id, sizeof a->external_id, r->external_id);
    copy(a->name, sizeof a->name, r->f.name);
    copy(a->plan, sizeof a->plan, r->f.plan);
    copy(a->renewal, sizeof a->renewal, r->f.renewal_date);
    copy(a->csm_email, sizeof a->csm_email, r->f.csm_email);
    copy(a->csm_slack, sizeof a->csm_slack, r->f.csm_slack);
    copy(a->segment, sizeof a->segment, r->f.segment);
    copy(a->products, sizeof a->products, r->f.premium_products);
    copy(a->created_at, sizeof a->created_at, r->f.created_at);
    copy(a->traits, sizeof a->traits, r->traits_json);
    return l->stop_after && l->n >= l->stop_after;
}

static struct acct get_account(struct store *s, int64_t id) {
    struct accts l = {0};
    enum tend_err e = store_account_get(s, id, on_acct, &l);
    if (e != TEND_OK)
        fail_msg("store_account_get(%lld): %s (%s)", (long long)id, tend_strerror(e),
                 store_last_error(s));
    assert_int_equal(l.n, 1);
    return l.v[0];
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

/* ---- one connection: each operation's contract ------------------------------- */

/* account_ensure creates once and then finds; account_find tells a missing
 * account; users are told apart by anonymity; names are interned. */
static void ensure_creates_once_then_finds(void **state) {
    (void)state;
    int64_t a, a2, b, found;
    bool created;
    begin(fx.s);
    ok(store_account_ensure(fx.s, "acme", 5000, &a, &created));
    assert_true(created);
    assert_true(a > 0);
    ok(store_account_ensure(fx.s, "acme", 9000, &a2, &created));
    assert_false(created);
    assert_int_equal(a2, a);
    ok(store_account_ensure(fx.s, "globex", 5000, &b, &created));
    assert_true(created);
    assert_int_not_equal(b, a);
    ok(store_account_find(fx.s, "acme", &found));
    assert_int_equal(found, a);
    assert_int_equal(store_account_find(fx.s, "initech", &found), TEND_ERR_NOTFOUND);
    assert_int_equal(store_account_find(fx.s, "ACME", &found), TEND_ERR_NOTFOUND);

    int64_t u, u_again, anon;
    ok(store_user_ensure(fx.s, "u1", false, 5000, &u));
    ok(store_user_ensure(fx.s, "u1", false, 6000, &u_again));
    ok(store_user_ensure(fx.s, "u1", true, 5000, &anon));
    assert_true(u > 0);
    assert_int_equal(u_again, u);
    assert_int_not_equal(anon, u);

    int64_t n1, n2, n1_again;
    ok(store_name_ensure(fx.s, "Login", &n1));
    ok(store_name_ensure(fx.s, "login", &n2));
    ok(store_name_ensure(fx.s, "Login", &n1_again));
    assert_true(n1 > 0);
    assert_int_not_equal(n1, n2);
    assert_int_equal(n1_again, n1);
    commit(fx.s);

    /* Committed: found again by a new connection. */
    struct store *other = open_other();
    ok(store_account_find(other, "globex", &found));
    assert_int_equal(found, b);
    store_close(other);
}

/* account_seen moves the first-seen time back, never forward. */
static void account_seen_moves_first_seen_back_only(void **state) {
    (void)state;
    int64_t id;
    bool created;
    ok(store_account_ensure(fx.s, "acme", 5000, &id, &created));
    assert_int_equal(get_account(fx.s, id).first_seen_ms, 5000);
    ok(store_account_seen(fx.s, id, 7000));
    assert_int_equal(get_account(fx.s, id).first_seen_ms, 5000);
    ok(store_account_seen(fx.s, id, 3000));
    assert_int_equal(get_account(fx.s, id).first_seen_ms, 3000);
}

/* A trait keeps the value of the latest message (a tie: the last merged),
 * per owner; traits_each reads them in byte order of their keys, each value
 * as compact JSON text. */
static void traits_merge_by_time_and_read_in_key_order(void **state) {
    (void)state;
    int64_t a, u;
    bool created;
    begin(fx.s);
    ok(store_account_ensure(fx.s, "acme", 1, &a, &created));
    ok(store_user_ensure(fx.s, "u1", false, 1, &u));
    ok(store_trait_merge(fx.s, STORE_ACCOUNT, a, "plan", "\"gold\"", 100));
    ok(store_trait_merge(fx.s, STORE_ACCOUNT, a, "plan", "\"bronze\"", 50)); /* older: ignored */
    ok(store_trait_merge(fx.s, STORE_ACCOUNT, a, "seats", "10", 100));
    ok(store_trait_merge(fx.s, STORE_ACCOUNT, a, "seats", "12", 100)); /* a tie: merged */
    ok(store_trait_merge(fx.s, STORE_ACCOUNT, a, "Zone", "[1,2,\"x y\"]", 100));
    ok(store_trait_merge(fx.s, STORE_ACCOUNT, a, "active", "true", 100));
    ok(store_trait_merge(fx.s, STORE_ACCOUNT, a, "note", "null", 100));
    ok(store_trait_merge(fx.s, STORE_ACCOUNT, a, "_x", "{\"k\":\"a: b, c\"}", 100));
    ok(store_trait_merge(fx.s, STORE_USER, u, "plan", "\"user's\"", 100));
    commit(fx.s);
    char got[512];
    traits_of(fx.s, STORE_ACCOUNT, a, got);
    /* Byte order: 'Z' (0x5a) < '_' (0x5f) < 'a'; a locale's order differs. */
    assert_string_equal(got, "Zone=[1,2,\"x y\"];_x={\"k\":\"a: b, c\"};active=true;note=null;"
                             "plan=\"gold\";seats=12;");
    traits_of(fx.s, STORE_USER, u, got);
    assert_string_equal(got, "plan=\"user's\";");
    traits_of(fx.s, STORE_USER, a + u + 100, got);
    assert_string_equal(got, "");
}

/* account_set_fields writes every typed column and the traits object;
 * the reads give them back as written: NULL where unknown, a NaN mrr as
 * unknown, premium_products and traits as compact JSON text with the keys
 * in the order ingest writes them (byte order). */
static void account_fields_read_back_as_written(void **state) {
    (void)state;
    int64_t a, b;
    bool created;
    begin(fx.s);
    ok(store_account_ensure(fx.s, "acme", 1000, &a, &created));
    ok(store_account_ensure(fx.s, "bare", 2000, &b, &created));
    struct store_account_fields f = {
        .name = "Acme, Inc.",
        .plan = "gold",
        .mrr = 1234.5,
        .has_mrr = true,
        .seats = 40,
        .has_seats = true,
        .renewal_date = "2025-03-01",
        .csm_email = "cs@example.com",
        .csm_slack = "U123",
        .segment = "enterprise",
        .premium_products = "[\"sso\",\"audit log\"]",
        .created_at = "2020-01-02",
    };
    const char *traits = "{\"Zone\":\"eu\",\"arr\":[1,2.5],\"mrr\":1234.5,\"name\":\"Acme, Inc.\","
                         "\"nested\":{\"a\":true}}";
    ok(store_account_set_fields(fx.s, a, &f, traits));
    struct store_account_fields nan_mrr = {.mrr = NAN, .has_mrr = true, .name = NULL};
    ok(store_account_set_fields(fx.s, b, &nan_mrr, "{}"));
    commit(fx.s);

    struct acct x = get_account(fx.s, a);
    assert_string_equal(x.external_id, "acme");
    assert_string_equal(x.name, "Acme, Inc.");
    assert_string_equal(x.plan, "gold");
    assert_true(x.has_mrr);
    assert_true(x.mrr == 1234.5);
    assert_true(x.has_seats);
    assert_int_equal(x.seats, 40);
    assert_string_equal(x.renewal, "2025-03-01");
    assert_string_equal(x.csm_email, "cs@example.com");
    assert_string_equal(x.csm_slack, "U123");
    assert_string_equal(x.segment, "enterprise");
    assert_string_equal(x.products, "[\"sso\",\"audit log\"]");
    assert_string_equal(x.created_at, "2020-01-02");
    assert_string_equal(x.traits, traits);
    assert_int_equal(x.first_seen_ms, 1000);
    assert_int_equal(x.members, 0);
    assert_int_equal(x.events, 0);

    struct acct y = get_account(fx.s, b);
    assert_false(y.has_mrr);
    assert_false(y.has_seats);
    assert_true(y.name_null);
    assert_true(y.renewal_null);
    assert_true(y.products_null);
    assert_string_equal(y.traits, "{}");

    struct accts none = {0};
    assert_int_equal(store_account_get(fx.s, a + b + 10, on_acct, &none), TEND_ERR_NOTFOUND);
    assert_int_equal(none.n, 0);
}

/* accounts_each: every account in byte order of external id, with its open
 * memberships and event count, stopping when fn says so; the brief reads:
 * id order, members and events -1, only the listed ids that exist. */
static void account_lists_in_their_orders(void **state) {
    (void)state;
    const char *names[] = {"b-corp", "B-corp", "a-corp", "_corp"};
    int64_t id[4], u;
    bool created;
    begin(fx.s);
    for (int i = 0; i < 4; i++)
        ok(store_account_ensure(fx.s, names[i], 1000 + i, &id[i], &created));
    ok(store_user_ensure(fx.s, "u1", false, 1, &u));
    ok(store_membership_start(fx.s, id[2], u, 100, &created));
    ok(store_account_count_events(fx.s, id[2], 5));
    ok(store_account_count_events(fx.s, id[2], 2));
    ok(store_account_set_fields(fx.s, id[0], &(struct store_account_fields){.plan = "p"},
                                "{\"aa\":2,\"b\":1}"));
    commit(fx.s);

    struct accts l = {0};
    ok(store_accounts_each(fx.s, on_acct, &l));
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].external_id, "B-corp");
    assert_string_equal(l.v[1].external_id, "_corp");
    assert_string_equal(l.v[2].external_id, "a-corp");
    assert_string_equal(l.v[3].external_id, "b-corp");
    assert_int_equal(l.v[2].members, 1);
    assert_int_equal(l.v[2].events, 7);
    assert_int_equal(l.v[0].members, 0);
    /* The traits text as written, in the order given (byte order here). */
    assert_string_equal(l.v[3].traits, "{\"aa\":2,\"b\":1}");

    struct accts stop = {.stop_after = 2};
    ok(store_accounts_each(fx.s, on_acct, &stop));
    assert_int_equal(stop.n, 2);

    struct accts brief = {0};
    ok(store_accounts_brief_each(fx.s, on_acct, &brief));
    assert_int_equal(brief.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(brief.v[i].id, id[i]); /* created in this order: ids ascend */
        assert_int_equal(brief.v[i].members, -1);
        assert_int_equal(brief.v[i].events, -1);
        assert_int_equal(brief.v[i].first_seen_ms, 1000 + i);
    }
    assert_string_equal(brief.v[0].plan, "p");

    int64_t ids[] = {id[1], id[3], id[3] + 1000};
    struct accts of = {0};
    ok(store_accounts_brief_of(fx.s, ids, 3, on_acct, &of));
    assert_int_equal(of.n, 2);
    assert_int_equal(of.v[0].id, id[1]);
    assert_int_equal(of.v[1].id, id[3]);
    struct accts empty = {0};
    ok(store_accounts_brief_of(fx.s, ids, 0, on_acct, &empty));
    assert_int_equal(empty.n, 0);
}

/* user_set_fields and user_label: the email, else the external id. */
static void user_fields_and_label(void **state) {
    (void)state;
    int64_t u1, u2;
    ok(store_user_ensure(fx.s, "ext-1", false, 1, &u1));
    ok(store_user_ensure(fx.s, "ext-2", false, 1, &u2));
    ok(store_user_set_fields(fx.s, u1, "ada@example.com", "Ada", "CTO", "{\"email\":\"x\"}"));
    ok(store_user_set_fields(fx.s, u2, NULL, "Bob", NULL, "{}"));
    char label[64];
    ok(store_user_label(fx.s, u1, label, sizeof label));
    assert_string_equal(label, "ada@example.com");
    ok(store_user_label(fx.s, u2, label, sizeof label));
    assert_string_equal(label, "ext-2");
    char small[4];
    ok(store_user_label(fx.s, u1, small, sizeof small));
    assert_string_equal(small, "ada");
    assert_int_equal(store_user_label(fx.s, u1 + u2 + 10, label, sizeof label), TEND_ERR_NOTFOUND);
}

/* A membership starts unless one has not ended by its time, ends where
 * one covers the time, and the user's memberships read in start order,
 * open ones with STORE_OPEN_END; status_get counts them. */
static void memberships_start_end_and_list(void **state) {
    (void)state;
    int64_t a, b, u;
    bool did;
    begin(fx.s);
    ok(store_account_ensure(fx.s, "a", 1, &a, &did));
    ok(store_account_ensure(fx.s, "b", 1, &b, &did));
    ok(store_user_ensure(fx.s, "u", false, 1, &u));
    ok(store_membership_start(fx.s, a, u, 1000, &did));
    assert_true(did);
    ok(store_membership_start(fx.s, a, u, 2000, &did));
    assert_false(did); /* open since 1000 */
    ok(store_membership_end(fx.s, a, u, 500, &did));
    assert_false(did); /* before it started */
    ok(store_membership_end(fx.s, a, u, 3000, &did));
    assert_true(did);
    ok(store_membership_end(fx.s, a, u, 4000, &did));
    assert_false(did); /* ended already */
    ok(store_membership_start(fx.s, a, u, 2000, &did));
    assert_false(did); /* 1000-3000 had not ended by 2000 */
    ok(store_membership_start(fx.s, a, u, 5000, &did));
    assert_true(did);
    ok(store_membership_start(fx.s, b, u, 4500, &did));
    assert_true(did);
    commit(fx.s);

    struct store_membership *m;
    size_t n;
    ok(store_user_memberships(fx.s, u, &m, &n));
    assert_int_equal(n, 3);
    assert_int_equal(m[0].account_id, a);
    assert_int_equal(m[0].user_id, u);
    assert_int_equal(m[0].start_ms, 1000);
    assert_int_equal(m[0].end_ms, 3000);
    assert_int_equal(m[1].account_id, b);
    assert_int_equal(m[1].start_ms, 4500);
    assert_int_equal(m[1].end_ms, STORE_OPEN_END);
    assert_int_equal(m[2].account_id, a);
    assert_int_equal(m[2].start_ms, 5000);
    assert_int_equal(m[2].end_ms, STORE_OPEN_END);
    free(m);
    ok(store_user_memberships(fx.s, u + 100, &m, &n));
    assert_int_equal(n, 0);
    free(m);

    struct store_status st;
    ok(store_status_get(fx.s, &st));
    assert_int_equal(st.accounts, 2);
    assert_int_equal(st.users, 1);
    assert_int_equal(st.memberships_open, 2);
    assert_int_equal(st.memberships_ended, 1);
    assert_int_equal(st.quarantined, 0);
}

/* removal_after: the earliest stored removal of the user from the account
 * after the time, none for another user or account or after it. */
static void removal_after_finds_the_earliest_later_removal(void **state) {
    (void)state;
    int64_t a, b, u, v, at;
    bool did, found;
    begin(fx.s);
    ok(store_account_ensure(fx.s, "a", 1, &a, &did));
    ok(store_account_ensure(fx.s, "b", 1, &b, &did));
    ok(store_user_ensure(fx.s, "u", false, 1, &u));
    ok(store_user_ensure(fx.s, "v", false, 1, &v));
    ok(store_removal_after(fx.s, a, u, 0, &at, &found));
    assert_false(found);
    const int64_t times[] = {9000, 5000};
    for (int i = 0; i < 2; i++) {
        struct store_event ev = {.key_ts_ms = times[i],
                                 .key_hash = 77 + (uint64_t)i,
                                 .ts_ms = times[i],
                                 .kind = EV_USER_REMOVED,
                                 .account_id = a,
                                 .user_id = u};
        ok(store_event_put(fx.s, &ev, &did));
        assert_true(did);
    }
    commit(fx.s);
    ok(store_removal_after(fx.s, a, u, 1000, &at, &found));
    assert_true(found);
    assert_int_equal(at, 5000);
    ok(store_removal_after(fx.s, a, u, 5000, &at, &found));
    assert_true(found);
    assert_int_equal(at, 9000);
    ok(store_removal_after(fx.s, a, u, 9000, &at, &found));
    assert_false(found);
    ok(store_removal_after(fx.s, a, v, 0, &at, &found));
    assert_false(found);
    ok(store_removal_after(fx.s, b, u, 0, &at, &found));
    assert_false(found);
}

struct counter {
    char name[32];
    int64_t value;
};
struct counters {
    struct counter v[8];
    int n;
};

static void on_counter(void *arg, const char *name, int64_t value) {
    struct counters *c = arg;
    if (c->n < 8) {
        snprintf(c->v[c->n].name, sizeof c->v[0].name, "%s", name);
        c->v[c->n++].value = value;
    }
}

/* Counters start at 0, add up, and list in byte order of their names;
 * an account's event count adds up likewise. */
static void counters_add_up_and_list_in_name_order(void **state) {
    (void)state;
    struct counters c = {0};
    ok(store_counters_each(fx.s, on_counter, &c));
    assert_int_equal(c.n, 0);
    int64_t a;
    bool created;
    begin(fx.s);
    ok(store_account_ensure(fx.s, "a", 1, &a, &created));
    ok(store_counter_add(fx.s, "messages.accepted", 3));
    ok(store_counter_add(fx.s, "messages.accepted", 4));
    ok(store_counter_add(fx.s, "Zeta", -2));
    ok(store_counter_add(fx.s, "events.login", 0));
    ok(store_account_count_events(fx.s, a, 10));
    ok(store_account_count_events(fx.s, a, -3));
    commit(fx.s);
    ok(store_counters_each(fx.s, on_counter, &c));
    assert_int_equal(c.n, 3);
    assert_string_equal(c.v[0].name, "Zeta");
    assert_int_equal(c.v[0].value, -2);
    assert_string_equal(c.v[1].name, "events.login");
    assert_int_equal(c.v[1].value, 0);
    assert_string_equal(c.v[2].name, "messages.accepted");
    assert_int_equal(c.v[2].value, 7);
    assert_int_equal(get_account(fx.s, a).events, 7);
}

/* Session epochs: 0 until bumped, then 1, 2, ...; the email without
 * regard to ASCII case; an email over 320 bytes refused. */
static void session_epochs_count_sign_outs(void **state) {
    (void)state;
    int64_t e = -1;
    ok(store_session_epoch(fx.s, "Ada@Example.com", &e));
    assert_int_equal(e, 0);
    ok(store_session_epoch_bump(fx.s, "ada@example.com", 1000, &e));
    assert_int_equal(e, 1);
    begin(fx.s);
    ok(store_session_epoch_bump(fx.s, "ADA@EXAMPLE.COM", 2000, &e));
    assert_int_equal(e, 2);
    commit(fx.s);
    ok(store_session_epoch(fx.s, "Ada@Example.com", &e));
    assert_int_equal(e, 2);
    ok(store_session_epoch(fx.s, "bob@example.com", &e));
    assert_int_equal(e, 0);
    char long_email[400];
    memset(long_email, 'a', sizeof long_email - 1);
    long_email[sizeof long_email - 1] = '\0';
    assert_int_equal(store_session_epoch(fx.s, long_email, &e), TEND_ERR_LIMIT);
    assert_int_equal(store_session_epoch_bump(fx.s, long_email, 1, &e), TEND_ERR_LIMIT);
    assert_non_null(strstr(store_last_error(fx.s), "320"));
}

struct brief {
    int64_t id, live;
    bool has_mrr, has_score, has_overall;
    double mrr, overall;
    char external_id[16], name[16], segment[16], owner[32], band[8];
    bool name_null;
};
struct briefs {
    struct brief v[4];
    int n;
};

static void on_brief(void *arg, const struct store_account_brief *b) {
    struct briefs *l = arg;
    if (l->n == 4)
        return;
    struct brief *x = &l->v[l->n++];
    *x = (struct brief){.id = b->id,
                        .live = b->live_ctas,
                        .has_mrr = b->has_mrr,
                        .mrr = b->mrr,
                        .has_score = b->has_score,
                        .has_overall = b->has_overall,
                        .overall = b->overall,
                        .name_null = !b->name};
    copy(x->external_id, sizeof x->external_id, b->external_id);
    copy(x->name, sizeof x->name, b->name);
    copy(x->segment, sizeof x->segment, b->segment);
    copy(x->owner, sizeof x->owner, b->owner);
    copy(x->band, sizeof x->band, b->band);
}

/* account_briefs: every account with its score of the day (band "none"
 * without one) and its live CTAs, in id order. */
static void account_briefs_join_scores_and_live_ctas(void **state) {
    (void)state;
    int64_t a, b;
    bool created;
    const int32_t day = 20000;
    begin(fx.s);
    ok(store_account_ensure(fx.s, "acme", 1, &a, &created));
    ok(store_account_ensure(fx.s, "bare", 1, &b, &created));
    ok(store_account_set_fields(fx.s, a,
                                &(struct store_account_fields){.name = "Acme",
                                                               .segment = "smb",
                                                               .csm_email = "cs@x.com",
                                                               .mrr = 99.5,
                                                               .has_mrr = true},
                                "{}"));
    struct store_score sc = {.day = day, .has_overall = true, .overall = 72.5};
    snprintf(sc.band, sizeof sc.band, "green");
    snprintf(sc.config_version, sizeof sc.config_version, "v1");
    ok(store_score_put(fx.s, a, &sc));
    struct store_score unknown = {.day = day};
    snprintf(unknown.band, sizeof unknown.band, "none");
    snprintf(unknown.config_version, sizeof unknown.config_version, "v1");
    ok(store_score_put(fx.s, b, &unknown));
    for (int i = 0; i < 3; i++) {
        struct store_cta c = {.account_id = a,
                              .rule = "rule",
                              .subject = i == 0   ? "x"
                                         : i == 1 ? "y"
                                                  : "z",
                              .type = "risk",
                              .priority = CTA_HIGH,
                              .status = i == 2   ? CTA_CLOSED
                                        : i == 1 ? CTA_SNOOZED
                                                 : CTA_OPEN,
                              .snoozed_until = day + 5,
                              .has_closed = i == 2,
                              .closed_day = day,
                              .owner = "cs@x.com",
                              .title = "t",
                              .reason = "r",
                              .evidence = "{}",
                              .opened_day = day,
                              .due_day = day + 3,
                              .updated_ms = 1};
        int64_t id;
        ok(store_cta_insert(fx.s, &c, &id));
    }
    commit(fx.s);

    struct briefs l = {0};
    ok(store_account_briefs(fx.s, day, on_brief, &l));
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[0].id, a);
    assert_string_equal(l.v[0].external_id, "acme");
    assert_string_equal(l.v[0].name, "Acme");
    assert_string_equal(l.v[0].segment, "smb");
    assert_string_equal(l.v[0].owner, "cs@x.com");
    assert_true(l.v[0].has_mrr);
    assert_true(l.v[0].mrr == 99.5);
    assert_true(l.v[0].has_score);
    assert_true(l.v[0].has_overall);
    assert_true(l.v[0].overall == 72.5);
    assert_string_equal(l.v[0].band, "green");
    assert_int_equal(l.v[0].live, 2);
    assert_int_equal(l.v[1].id, b);
    assert_true(l.v[1].name_null);
    assert_false(l.v[1].has_mrr);
    assert_true(l.v[1].has_score);
    assert_false(l.v[1].has_overall);
    assert_string_equal(l.v[1].band, "none");
    assert_int_equal(l.v[1].live, 0);

    struct briefs later = {0};
    ok(store_account_briefs(fx.s, day + 1, on_brief, &later));
    assert_int_equal(later.n, 2);
    assert_false(later.v[0].has_score);
    assert_string_equal(later.v[0].band, "none");
    assert_int_equal(later.v[0].live, 2);
}

/* Runs sql on the test server's database (PostgreSQL only); false, with
 * the message printed, when it fails. */
static bool server_exec(const char *sql) {
    PGconn *c = PQconnectdb(test_db_pg_url());
    PGresult *r = PQexec(c, sql);
    bool done = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!done)
        print_message("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return done;
}

/* The orders SQLite takes from its binary collation (accounts by external
 * id, traits by key, counters by name) do not change with the server's
 * collation: a database whose default is ICU's English (where "a" sorts
 * before "B") lists them in byte order too. PostgreSQL only. */
static void orders_do_not_depend_on_the_server_collation(void **state) {
    (void)state;
    if (!test_db_pg_url())
        skip();
    char db[64], sql[256], url[1024];
    snprintf(db, sizeof db, "tend_icu_%d", (int)getpid());
    snprintf(sql, sizeof sql,
             "CREATE DATABASE %s TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
             "LOCALE 'C.UTF-8'",
             db);
    if (!server_exec(sql))
        fail_msg("cannot make a database with an ICU collation");
    /* The test server's URL with the database replaced. */
    const char *base = test_db_pg_url(), *q = strchr(base, '?');
    size_t host = (size_t)((q ? q : base + strlen(base)) - base);
    while (host > 0 && base[host - 1] != '/')
        host--;
    snprintf(url, sizeof url, "%.*s%s%s", (int)host, base, db, q ? q : "");
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (store_open(url, &s, err) != TEND_OK)
        fail_msg("store_open(%s): %s", url, err);
    const char *names[] = {"b-corp", "a-corp", "B-corp", "_corp"};
    int64_t id;
    bool created;
    for (int i = 0; i < 4; i++) {
        if (store_account_ensure(s, names[i], 1, &id, &created) != TEND_OK ||
            store_trait_merge(s, STORE_ACCOUNT, id, names[i], "1", 1) != TEND_OK ||
            store_counter_add(s, names[i], 1) != TEND_OK)
            fail_msg("writing: %s", store_last_error(s));
    }
    struct accts l = {0};
    char traits[512];
    struct counters c = {0};
    if (store_accounts_each(s, on_acct, &l) != TEND_OK || store_counters_each(s, on_counter, &c))
        fail_msg("reading: %s", store_last_error(s));
    traits_of(s, STORE_ACCOUNT, id, traits);
    store_close(s);
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", db);
    server_exec(sql);
    const char *want[] = {"B-corp", "_corp", "a-corp", "b-corp"};
    assert_int_equal(l.n, 4);
    assert_int_equal(c.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(l.v[i].external_id, want[i]);
        assert_string_equal(c.v[i].name, want[i]);
    }
    assert_string_equal(traits, "_corp=1;");
}

/* ---- several connections at once ---------------------------------------------- */

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
    assert_int_equal(c.v[0].value, 2 * ADDS);
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
                  ADDS, (long long)c.v[0].value, (long long)(2 * ADDS), 2 * ADDS, 2 * ADDS / took);
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
        cmocka_unit_test_setup_teardown(ensure_creates_once_then_finds, setup, teardown),
        cmocka_unit_test_setup_teardown(account_seen_moves_first_seen_back_only, setup, teardown),
        cmocka_unit_test_setup_teardown(traits_merge_by_time_and_read_in_key_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(account_fields_read_back_as_written, setup, teardown),
        cmocka_unit_test_setup_teardown(account_lists_in_their_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(user_fields_and_label, setup, teardown),
        cmocka_unit_test_setup_teardown(memberships_start_end_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(removal_after_finds_the_earliest_later_removal, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(counters_add_up_and_list_in_name_order, setup, teardown),
        cmocka_unit_test_setup_teardown(session_epochs_count_sign_outs, setup, teardown),
        cmocka_unit_test_setup_teardown(account_briefs_join_scores_and_live_ctas, setup, teardown),
        cmocka_unit_test_setup_teardown(orders_do_not_depend_on_the_server_collation, setup,
                                        teardown),
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
