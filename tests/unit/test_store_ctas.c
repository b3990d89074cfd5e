/* test_store_ctas.c: the store's CTAs, budget and outbox operations on
 * either backend (test_db.h: SQLite, or PostgreSQL under
 * tests/integration/store_pg.sh), and what several nodes on one database
 * need of them, with two connections on two threads standing for two nodes:
 *
 * - two evaluations of one account at once (store_ctas_lock, then read,
 *   then open if nothing is live) end with one live CTA and neither fails;
 *   a person's action (eval_cta_act) during an evaluation of its account
 *   waits for it instead of being overwritten;
 * - two dispatchers claiming the same due rows at once get disjoint sets
 *   that cover them all;
 * - a claim's lease: recovered once it ended, never before; renewed;
 * - one Slack webhook (an exclusive gate) shared by two dispatchers: never
 *   two messages in flight, each start at least the pace after the previous
 *   answer.
 *
 * Times passed to the store are the tests' own numbers, except in the
 * pacing test, which measures real gaps and asserts only their order and
 * lower bound (no speed assumed; a generous deadline). */
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
#include <stdatomic.h>

#include "core/cta.h"
#include "eval/act.h"
#include "store/store.h"
#include "test_db.h"
#include "util/datetime.h"

static char dir[256];
static int n_db;

/* A fresh database (a schema of its own on PostgreSQL) for one test; *path
 * names it for test_db_open of a second connection. */
static struct store *fresh(char *path, size_t size) {
    snprintf(path, size, "%s/ctas-%d.db", dir, ++n_db);
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open %s: %s", path, err);
    return s;
}

static struct store *again(const char *path) {
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open %s: %s", path, err);
    return s;
}

static int64_t account(struct store *s, const char *ext) {
    int64_t id = 0;
    bool created = false;
    if (store_account_ensure(s, ext, 1000, &id, &created) != TEND_OK)
        fail_msg("account_ensure %s: %s", ext, store_last_error(s));
    return id;
}

/* Evidence as a rule writes it: its keys in the rule's order (not sorted),
 * which messages list in that order, so it must read back byte for byte. */
#define EVIDENCE "{\"logins_7d\":3,\"baseline\":12.5,\"a\":null}"

static struct store_cta cta(int64_t account_id, const char *rule, const char *subject,
                            int priority) {
    return (struct store_cta){.account_id = account_id,
                              .rule = rule,
                              .subject = subject,
                              .type = "risk",
                              .priority = priority,
                              .status = CTA_OPEN,
                              .owner = "csm@x",
                              .title = "Title",
                              .reason = "Reason",
                              .evidence = EVIDENCE,
                              .opened_day = 100,
                              .due_day = 107,
                              .updated_ms = 5000};
}

/* ---- CTAs --------------------------------------------------------------------- */

struct listed {
    int64_t ids[16];
    char accounts[16][16];
    int status[16];
    bool acted[16];
    int n;
};

static int on_cta(void *arg, const struct store_cta *c) {
    struct listed *l = arg;
    l->ids[l->n] = c->id;
    snprintf(l->accounts[l->n], sizeof l->accounts[0], "%s", c->account ? c->account : "");
    l->status[l->n] = c->status;
    l->acted[l->n++] = c->acted;
    return 0;
}

static void on_watched(void *arg, const struct store_cta *c) {
    on_cta(arg, c);
}

static struct store_cta got;
static char got_subject[32], got_reason[32], got_evidence[128];

static void on_got(void *arg, const struct store_cta *c) {
    got = *c;
    snprintf(got_subject, sizeof got_subject, "%s", c->subject);
    snprintf(got_evidence, sizeof got_evidence, "%s", c->evidence);
    snprintf(got_reason, sizeof got_reason, "%s", c->reason);
    got.subject = got.reason = got.rule = got.account = got.type = got.owner = got.title = NULL;
    got.evidence = got.account_name = NULL;
}

static void test_cta_life_cycle_reads_as_written(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    int64_t a = account(s, "acme"), b = account(s, "bolt");
    struct store_cta c1 = cta(a, "nps", "", 1), c2 = cta(b, "nps", "", 2),
                     c3 = cta(a, "tickets", "T-1", 0);
    c3.has_value = true;
    c3.value = 1234.5;
    int64_t id1, id2, id3;
    assert_int_equal(store_cta_insert(s, &c1, &id1), TEND_OK);
    assert_int_equal(store_cta_insert(s, &c2, &id2), TEND_OK);
    assert_int_equal(store_cta_insert(s, &c3, &id3), TEND_OK);
    /* A second live CTA of a key is refused, and the transaction goes on. */
    int64_t dup = 0;
    assert_int_equal(store_cta_insert(s, &c1, &dup), TEND_ERR_INVALID);
    assert_non_null(strstr(store_last_error(s), "exists"));
    int64_t live = 0;
    assert_int_equal(store_ctas_live_count(s, &live), TEND_OK);
    assert_int_equal(live, 3);
    assert_int_equal(store_commit(s), TEND_OK);

    /* Listed live first, then priority, value, due day, id. */
    struct listed l = {0};
    struct store_cta_filter all = {0};
    assert_int_equal(store_ctas_each(s, &all, on_cta, &l), TEND_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.ids[0], id2);
    assert_int_equal(l.ids[1], id1);
    assert_int_equal(l.ids[2], id3);
    assert_string_equal(l.accounts[0], "bolt");

    /* Snooze, then close c1; history in order; a person acted on it. */
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    c1.id = id1;
    c1.status = CTA_SNOOZED;
    c1.snoozed_until = 120;
    c1.has_clear_since = true;
    c1.clear_since = 101;
    assert_int_equal(store_cta_update(s, &c1), TEND_OK);
    struct store_cta_change ch = {.day = 101,
                                  .at_ms = 6000,
                                  .action = "snooze",
                                  .actor = "ann@x",
                                  .status = CTA_SNOOZED,
                                  .priority = 1,
                                  .note = "later"};
    assert_int_equal(store_cta_history_add(s, id1, &ch), TEND_OK);
    ch.action = "close";
    ch.actor = STORE_ACTOR_TEND;
    ch.status = CTA_CLOSED;
    ch.note = NULL;
    assert_int_equal(store_cta_history_add(s, id1, &ch), TEND_OK);
    c1.status = CTA_CLOSED;
    c1.has_closed = true;
    c1.closed_reason = CTA_AUTO_RESOLVED;
    c1.closed_day = 102;
    assert_int_equal(store_cta_update(s, &c1), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_int_equal(store_cta_get(s, id1, on_got, NULL), TEND_OK);
    assert_int_equal(got.status, CTA_CLOSED);
    assert_true(got.has_closed);
    assert_int_equal(got.closed_reason, CTA_AUTO_RESOLVED);
    assert_int_equal(got.closed_day, 102);
    assert_false(got.has_clear_since); /* closed: not kept */
    assert_false(got.cleared);
    assert_int_equal(store_cta_get(s, id3, on_got, NULL), TEND_OK);
    assert_true(got.has_value);
    assert_true(got.value == 1234.5);
    assert_string_equal(got_subject, "T-1");
    assert_string_equal(got_evidence, EVIDENCE);
    assert_int_equal(store_cta_get(s, 999, on_got, NULL), TEND_ERR_NOTFOUND);

    /* Watched: live ones and closed ones not cleared; acted when a person
     * wrote its history. */
    l = (struct listed){0};
    struct store_span every = {.first = 1, .last = STORE_LAST_ID};
    assert_int_equal(store_ctas_watched_each(s, &every, on_watched, &l), TEND_OK);
    assert_int_equal(l.n, 3);
    for (int i = 0; i < l.n; i++)
        assert_true(l.acted[i] == (l.ids[i] == id1));
    assert_int_equal(store_cta_forget_closed(s, "nps", a, ""), TEND_OK);
    l = (struct listed){0};
    int64_t only_a[] = {a};
    struct store_span of_a = {.ids = only_a, .n = 1};
    assert_int_equal(store_ctas_watched_each(s, &of_a, on_watched, &l), TEND_OK);
    assert_int_equal(l.n, 1); /* c1 cleared: no longer watched */
    assert_int_equal(l.ids[0], id3);

    /* A new live CTA of c1's key is allowed now; reopening c1 is not. */
    int64_t id4;
    struct store_cta c4 = cta(a, "nps", "", 2);
    assert_int_equal(store_cta_insert(s, &c4, &id4), TEND_OK);
    c1.status = CTA_OPEN;
    c1.has_closed = false;
    assert_int_equal(store_cta_update(s, &c1), TEND_ERR_INVALID);

    /* Filters: live, by account. */
    l = (struct listed){0};
    struct store_cta_filter f = {.status = "live", .account = "acme"};
    assert_int_equal(store_ctas_each(s, &f, on_cta, &l), TEND_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.ids[0], id4);
    assert_int_equal(l.ids[1], id3);
    store_close(s);
}

struct changes {
    int64_t seq[8];
    char actions[8][16];
    bool note_null[8];
    int n;
};

static void on_change(void *arg, const struct store_cta_change *ch) {
    struct changes *c = arg;
    c->seq[c->n] = ch->seq;
    snprintf(c->actions[c->n], sizeof c->actions[0], "%s", ch->action);
    c->note_null[c->n++] = ch->note == NULL;
}

struct counted {
    char rules[4][16];
    struct store_rule_counts c[4];
    int n;
};

static void on_counts(void *arg, const struct store_rule_counts *c) {
    struct counted *k = arg;
    snprintf(k->rules[k->n], sizeof k->rules[0], "%s", c->rule);
    k->c[k->n++] = *c;
}

static void test_history_runs_and_counts(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    int64_t a = account(s, "acme");
    struct store_cta c = cta(a, "nps", "", 1);
    int64_t id;
    assert_int_equal(store_cta_insert(s, &c, &id), TEND_OK);
    const char *actions[] = {"open", "raise", "assign"};
    for (int i = 0; i < 3; i++) {
        struct store_cta_change ch = {.day = 100 + i,
                                      .at_ms = 1000 + i,
                                      .action = actions[i],
                                      .actor = "tend",
                                      .status = CTA_OPEN,
                                      .priority = 1,
                                      .note = i == 1 ? NULL : "n"};
        assert_int_equal(store_cta_history_add(s, id, &ch), TEND_OK);
    }
    struct store_cta z = cta(a, "zeta", "x", 0);
    z.status = CTA_CLOSED;
    z.has_closed = true;
    z.closed_reason = CTA_AUTO_RESOLVED;
    z.closed_day = 101;
    z.opened_day = 90;
    int64_t zid;
    assert_int_equal(store_cta_insert(s, &z, &zid), TEND_OK);
    assert_int_equal(store_eval_run_put(s, 86400000, 10, 1, 0, 0, 0), TEND_OK);
    assert_int_equal(store_eval_run_put(s, 86400000, 12, 2, 1, 0, 3), TEND_OK);
    assert_int_equal(store_eval_run_put(s, 2 * 86400000, 12, 0, 0, 0, 0), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    struct changes got_ch = {0};
    assert_int_equal(store_cta_history_each(s, id, on_change, &got_ch), TEND_OK);
    assert_int_equal(got_ch.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got_ch.seq[i], i + 1);
        assert_string_equal(got_ch.actions[i], actions[i]);
        assert_true(got_ch.note_null[i] == (i == 1));
    }
    int64_t prev = 0;
    bool found = false;
    assert_int_equal(store_eval_run_before(s, 2 * 86400000, &prev, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(prev, 86400000);
    assert_int_equal(store_eval_run_before(s, INT64_MAX, &prev, &found), TEND_OK);
    assert_int_equal(prev, 2 * 86400000);
    assert_int_equal(store_eval_run_before(s, 86400000, &prev, &found), TEND_OK);
    assert_false(found);
    struct counted k = {0};
    assert_int_equal(store_rule_counts_each(s, 95, on_counts, &k), TEND_OK);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.rules[0], "nps");
    assert_int_equal(k.c[0].total, 1);
    assert_int_equal(k.c[0].since, 1);
    assert_int_equal(k.c[0].open, 1);
    assert_int_equal(k.c[0].auto_resolved, 0);
    assert_string_equal(k.rules[1], "zeta");
    assert_int_equal(k.c[1].since, 0);
    assert_int_equal(k.c[1].closed, 1);
    assert_int_equal(k.c[1].auto_resolved, 1);
    assert_int_equal(k.c[1].last_opened_day, 90);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_ctas_reset(s), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    int64_t live = -1;
    assert_int_equal(store_ctas_live_count(s, &live), TEND_OK);
    assert_int_equal(live, 0);
    assert_int_equal(store_eval_run_before(s, INT64_MAX, &prev, &found), TEND_OK);
    assert_false(found);
    store_close(s);
}

struct held_list {
    char keys[8][32];
    int n;
};

static int on_held(void *arg, const struct store_cta_held *h) {
    struct held_list *l = arg;
    snprintf(l->keys[l->n++], sizeof l->keys[0], "%d/%s/%s/%d", h->week, h->account, h->rule,
             h->day);
    return 0;
}

static void on_owner(void *arg, const char *owner, int64_t n) {
    if (strcmp(owner, "csm@x") == 0)
        *(int64_t *)arg = n;
}

static void test_held_back_keys_once_per_week(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    int64_t a = account(s, "acme"), b = account(s, "bolt");
    struct store_cta_held h = {.week = 98,
                               .day = 99,
                               .account_id = a,
                               .rule = "nps",
                               .subject = "",
                               .type = "risk",
                               .owner = "csm@x",
                               .title = "t",
                               .reason = "r",
                               .priority = 1,
                               .has_value = true,
                               .value = 10};
    bool is_new = false;
    assert_int_equal(store_cta_held_put(s, &h, &is_new), TEND_OK);
    assert_true(is_new);
    h.day = 101;
    assert_int_equal(store_cta_held_put(s, &h, &is_new), TEND_OK);
    assert_false(is_new);
    h.day = 100; /* an earlier day does not move it back */
    assert_int_equal(store_cta_held_put(s, &h, NULL), TEND_OK);
    h.account_id = b;
    h.value = 50;
    assert_int_equal(store_cta_held_put(s, &h, &is_new), TEND_OK);
    assert_true(is_new);
    h.week = 91;
    assert_int_equal(store_cta_held_put(s, &h, &is_new), TEND_OK);
    struct store_cta c = cta(a, "nps", "", 1);
    c.opened_day = 99;
    int64_t id;
    assert_int_equal(store_cta_insert(s, &c, &id), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    struct held_list l = {0};
    assert_int_equal(store_ctas_held_each(s, 0, NULL, on_held, &l), TEND_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.keys[0], "98/bolt/nps/100"); /* newest week, highest value */
    assert_string_equal(l.keys[1], "98/acme/nps/101");
    assert_string_equal(l.keys[2], "91/bolt/nps/100");
    int64_t n = 0;
    assert_int_equal(store_ctas_held_count(s, 98, "csm@x", &n), TEND_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_ctas_held_count(s, 98, "nobody", &n), TEND_OK);
    assert_int_equal(n, 0);
    n = 0;
    assert_int_equal(store_ctas_opened_by_owner(s, 98, 104, on_owner, &n), TEND_OK);
    assert_int_equal(n, 1);
    store_close(s);
}

/* ---- two evaluations of one account at once ---------------------------------------- */

#define RACE_KEYS 12

struct evaluator {
    const char *path;
    int64_t account_id;
    pthread_barrier_t *start;
    int failures;
    char why[STORE_ERR_BYTES];
};

struct live_of_key {
    const char *rule;
    bool live;
};

static void on_live(void *arg, const struct store_cta *c) {
    struct live_of_key *k = arg;
    if (strcmp(c->rule, k->rule) == 0 && c->status != CTA_CLOSED)
        k->live = true;
}

/* What the CTA engine does for one account and one rule, as far as the
 * store sees it: lock, read the watched CTAs, open when none is live,
 * commit. */
static void *evaluate_like_the_engine(void *arg) {
    struct evaluator *e = arg;
    struct store *s = again(e->path);
    for (int k = 0; k < RACE_KEYS; k++) {
        char rule[16];
        snprintf(rule, sizeof rule, "rule%d", k);
        pthread_barrier_wait(e->start);
        int64_t ids[] = {e->account_id};
        struct store_span span = {.ids = ids, .n = 1};
        struct live_of_key key = {.rule = rule};
        enum tend_err err = store_begin(s, NULL);
        if (!err)
            err = store_ctas_lock(s, &span);
        if (!err)
            err = store_ctas_watched_each(s, &span, on_live, &key);
        if (!err && !key.live) {
            struct store_cta c = cta(e->account_id, rule, "", 1);
            int64_t id;
            err = store_cta_insert(s, &c, &id);
        }
        if (!err)
            err = store_commit(s);
        else
            store_rollback(s);
        if (err) {
            e->failures++;
            snprintf(e->why, sizeof e->why, "%s", store_last_error(s));
        }
    }
    store_close(s);
    return NULL;
}

static void test_two_nodes_evaluating_one_account_open_one_cta(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    int64_t a = 42; /* the CTAs' reads here need no accounts row */
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct evaluator e[2] = {{.path = path, .account_id = a, .start = &start},
                             {.path = path, .account_id = a, .start = &start}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, evaluate_like_the_engine, &e[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    if (e[0].failures || e[1].failures)
        fail_msg("failed evaluations: %d and %d (%s%s)", e[0].failures, e[1].failures, e[0].why,
                 e[1].why);
    int64_t live = 0;
    assert_int_equal(store_ctas_live_count(s, &live), TEND_OK);
    assert_int_equal(live, RACE_KEYS); /* one per key, not two */
    store_close(s);
}

/* ---- a person's action while an evaluation runs ------------------------------------ */

struct actor {
    const char *path;
    int64_t cta_id;
    int32_t until;
    enum tend_err err;
    atomic_int done;
    char msg[STORE_ERR_BYTES];
};

static void *snooze_it(void *arg) {
    struct actor *a = arg;
    struct store *s = again(a->path);
    struct cta_act act = {
        .verb = CTA_ACT_SNOOZE, .until = a->until, .by = "ann@x", .has_on = true, .on = 100};
    a->err = eval_cta_act(s, a->cta_id, &act, a->msg, sizeof a->msg);
    store_close(s);
    atomic_store(&a->done, 1);
    return NULL;
}

/* Whether a connection of the PostgreSQL server under test waits for an
 * advisory lock. */
static bool someone_waits_for_a_lock(void) {
    PGconn *c = PQconnectdb(test_db_pg_url());
    PGresult *r = PQexec(c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND NOT granted");
    bool waits = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
    PQclear(r);
    PQfinish(c);
    return waits;
}

/* An evaluation holds the account (read its CTA, about to write it) when a
 * person snoozes the CTA on another node: the snooze waits for the
 * evaluation's commit and applies to what it wrote, instead of being
 * overwritten by the evaluation's older copy (a lost update). */
static void test_an_action_during_an_evaluation_is_not_lost(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    int64_t a = account(s, "acme");
    struct store_cta c = cta(a, "nps", "", 1);
    assert_int_equal(store_cta_insert(s, &c, &c.id), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);

    /* The evaluation: lock, read. */
    struct store *ev = again(path);
    int64_t ids[] = {a};
    struct store_span span = {.ids = ids, .n = 1};
    assert_int_equal(store_begin(ev, NULL), TEND_OK);
    assert_int_equal(store_ctas_lock(ev, &span), TEND_OK);
    struct listed l = {0};
    assert_int_equal(store_ctas_watched_each(ev, &span, on_watched, &l), TEND_OK);
    assert_int_equal(l.n, 1);

    struct actor act = {.path = path, .cta_id = c.id, .until = 130};
    pthread_t t;
    pthread_create(&t, NULL, snooze_it, &act);
    if (test_db_pg_url()) { /* SQLite: the action waits at its BEGIN; nothing to see */
        int64_t deadline = dt_now_ms() + 60000;
        while (!atomic_load(&act.done) && !someone_waits_for_a_lock() && dt_now_ms() < deadline)
            usleep(5000);
    }
    /* The evaluation writes its copy: raised, still open. */
    c.priority = 2;
    c.updated_ms = 7000;
    assert_int_equal(store_cta_update(ev, &c), TEND_OK);
    assert_int_equal(store_commit(ev), TEND_OK);
    store_close(ev);
    pthread_join(t, NULL);
    if (act.err)
        fail_msg("the snooze failed: %s", act.msg);
    assert_int_equal(store_cta_get(s, c.id, on_got, NULL), TEND_OK);
    assert_int_equal(got.status, CTA_SNOOZED); /* the person's snooze stands */
    assert_int_equal(got.snoozed_until, 130);
    assert_int_equal(got.priority, 2); /* on top of the evaluation's raise */
    store_close(s);
}

/* ---- the outbox ------------------------------------------------------------------ */

static int64_t add_row(struct store *s, const char *channel, const char *target, int rank,
                       int64_t next_at) {
    struct store_outbox r = {.channel = channel,
                             .target = target,
                             .owner = "o@x",
                             .status = "pending",
                             .rank = rank,
                             .next_at_ms = next_at,
                             .created_ms = next_at};
    int64_t id;
    assert_int_equal(store_outbox_add(s, &r, &id), TEND_OK);
    return id;
}

struct rows_seen {
    int64_t ids[64];
    char status[64][12];
    int64_t attempts[64], resends[64];
    char keys[64][40];
    char event[64][12];
    bool snapshot[64];
    int n;
};

static void on_row(void *arg, const struct store_outbox *r) {
    struct rows_seen *v = arg;
    if (v->n >= 64)
        return;
    v->ids[v->n] = r->id;
    snprintf(v->status[v->n], sizeof v->status[0], "%s", r->status);
    v->attempts[v->n] = r->attempts;
    v->resends[v->n] = r->resends;
    snprintf(v->keys[v->n], sizeof v->keys[0], "%s", r->key);
    snprintf(v->event[v->n], sizeof v->event[0], "%s", r->event);
    v->snapshot[v->n++] = r->snapshot != NULL;
}

/* A snapshot as notify/outbox.c writes it: keys in its order. */
#define SNAPSHOT "{\"cta\":{\"title\":\"t\",\"evidence\":{\"zz\":1,\"a\":2}},\"account\":\"acme\"}"

static const char *snapshot_of;
static char snapshot_text[256];

static void on_snapshot_row(void *arg, const struct store_outbox *r) {
    snapshot_of = r->snapshot;
    snprintf(snapshot_text, sizeof snapshot_text, "%s", r->snapshot ? r->snapshot : "(null)");
}

static void on_snapshot(void *arg, const char *snapshot) {
    (*(int *)arg)++;
    assert_non_null(strstr(snapshot, "acme"));
}

static void on_status(void *arg, const char *status, int64_t rows, int64_t resends) {
    char *out = arg;
    char one[64];
    snprintf(one, sizeof one, "%s=%lld/%lld ", status, (long long)rows, (long long)resends);
    strcat(out, one);
}

static void test_outbox_rows_digests_and_retries(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    int64_t n1, n2;
    assert_int_equal(store_notification_add(s, 7, "open", 100, 1000, SNAPSHOT, &n1), TEND_OK);
    assert_int_equal(
        store_notification_add(s, 8, "raise", 100, 1000, "{\"account\": \"acme\"}", &n2), TEND_OK);
    struct store_outbox held = {.notification_id = n1,
                                .channel = "mail",
                                .target = "a@x",
                                .owner = "o@x",
                                .status = "held",
                                .rank = 3,
                                .next_at_ms = 1000,
                                .created_ms = 1000};
    int64_t h1, h2, p1;
    assert_int_equal(store_outbox_add(s, &held, &h1), TEND_OK);
    held.notification_id = n2;
    held.created_ms = 1500;
    assert_int_equal(store_outbox_add(s, &held, &h2), TEND_OK);
    struct store_outbox now = {.notification_id = n1,
                               .channel = "slack",
                               .target = "",
                               .owner = "o@x",
                               .status = "pending",
                               .rank = 0,
                               .next_at_ms = 2000,
                               .created_ms = 2000};
    assert_int_equal(store_outbox_add(s, &now, &p1), TEND_OK);
    int64_t digest = 0, items = 0;
    assert_int_equal(
        store_outbox_digest_make(s, "mail", "a@x", "o@x", 1200, 3000, 4, &digest, &items), TEND_OK);
    assert_int_equal(items, 1); /* only the row held before 1200 */
    assert_int_equal(store_commit(s), TEND_OK);
    int count = 0;
    assert_int_equal(store_outbox_items_each(s, digest, on_snapshot, &count), TEND_OK);
    assert_int_equal(count, 1);
    snapshot_of = NULL;
    assert_int_equal(store_outbox_get(s, h1, on_snapshot_row, NULL), TEND_OK);
    assert_string_equal(snapshot_text, SNAPSHOT);
    struct rows_seen v = {0};
    assert_int_equal(store_outbox_get(s, digest, on_row, &v), TEND_OK);
    assert_string_equal(v.event[0], "digest");
    assert_false(v.snapshot[0]);
    char key[40];
    snprintf(key, sizeof key, "tend-%lld-", (long long)digest);
    assert_memory_equal(v.keys[0], key, strlen(key));
    assert_int_equal(strlen(v.keys[0]), strlen(key) + 8);
    assert_int_equal(store_outbox_get(s, 999, on_row, &v), TEND_ERR_NOTFOUND);

    /* Newest first, filtered, limited. */
    v = (struct rows_seen){0};
    struct store_outbox_filter f = {.status = NULL, .limit = 2};
    assert_int_equal(store_outbox_each(s, &f, on_row, &v), TEND_OK);
    assert_int_equal(v.n, 2);
    assert_int_equal(v.ids[0], digest);
    assert_int_equal(v.ids[1], p1);
    v = (struct rows_seen){0};
    f = (struct store_outbox_filter){.cta_id = 7};
    assert_int_equal(store_outbox_each(s, &f, on_row, &v), TEND_OK);
    assert_int_equal(v.n, 2); /* h1 and p1 carry notification n1 (CTA 7) */

    /* Dead, then retried; counts by status. */
    struct store_outbox dead = {.id = p1,
                                .status = "dead",
                                .attempts = 5,
                                .next_at_ms = 2000,
                                .last_error = "HTTP 404",
                                .resends = 1};
    assert_int_equal(store_outbox_set(s, &dead), TEND_OK);
    char counts[256] = "";
    assert_int_equal(store_outbox_counts(s, on_status, counts), TEND_OK);
    assert_string_equal(counts, "dead=1/1 digested=1/0 held=1/0 pending=1/0 ");
    bool changed = false;
    assert_int_equal(store_outbox_retry(s, h2, 5000, &changed), TEND_OK);
    assert_false(changed); /* held: not a retry's business */
    int64_t n = 0;
    assert_int_equal(store_outbox_retry_dead(s, 5000, &n), TEND_OK);
    assert_int_equal(n, 1);
    int64_t oldest = 0;
    bool found = false;
    assert_int_equal(store_outbox_oldest_pending(s, &oldest, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(oldest, 2000);
    store_close(s);
}

/* A claim of one row with no gate. */
static bool claim_one(struct store *s, int64_t id, int64_t now, int64_t lease_until) {
    struct store_claim c = {.id = id};
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_outbox_claim(s, &c, 1, now, lease_until), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    return c.claimed;
}

static void on_recovered(void *arg, const char *channel, const char *target) {
    (*(int *)arg)++;
    assert_string_equal(channel, "slack");
}

static void test_leases_are_recovered_only_once_ended(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    int64_t a = add_row(s, "slack", "", 1, 1000), b = add_row(s, "slack", "", 1, 1000);
    int64_t later = add_row(s, "slack", "", 1, 50000);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_true(claim_one(s, a, 2000, 10000));
    assert_true(claim_one(s, b, 2000, 20000));
    assert_false(claim_one(s, a, 2000, 10000));     /* sending: not twice */
    assert_false(claim_one(s, later, 2000, 10000)); /* not due */
    struct rows_seen v = {0};
    assert_int_equal(store_outbox_get(s, a, on_row, &v), TEND_OK);
    assert_string_equal(v.status[0], "sending");
    assert_int_equal(v.attempts[0], 1);

    int heard = 0;
    int64_t n = -1;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_outbox_recover(s, 9999, on_recovered, &heard, &n), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_int_equal(n, 0); /* both leases still running */
    /* b's lease renewed past a's end. */
    int64_t ids[] = {b, later};
    int64_t renewed = 0;
    assert_int_equal(store_outbox_lease_renew(s, ids, 2, 40000, &renewed), TEND_OK);
    assert_int_equal(renewed, 1); /* `later` is not sending */
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_outbox_recover(s, 30000, on_recovered, &heard, &n), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_int_equal(n, 1);
    assert_int_equal(heard, 1);
    v = (struct rows_seen){0};
    assert_int_equal(store_outbox_get(s, a, on_row, &v), TEND_OK);
    assert_string_equal(v.status[0], "pending");
    assert_int_equal(v.attempts[0], 0); /* the interrupted attempt does not count */
    assert_int_equal(v.resends[0], 1);
    v = (struct rows_seen){0};
    assert_int_equal(store_outbox_get(s, b, on_row, &v), TEND_OK);
    assert_string_equal(v.status[0], "sending");
    /* Alone and starting: every row left sending, lease or not. */
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_outbox_recover(s, INT64_MAX, NULL, NULL, &n), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_int_equal(n, 1);
    store_close(s);
}

/* ---- two dispatchers claiming at once ------------------------------------------- */

#define CLAIM_ROWS 120

struct claimer {
    const char *path;
    pthread_barrier_t *start;
    int64_t got[CLAIM_ROWS];
    int n;
    char why[STORE_ERR_BYTES];
};

static void on_due_id(void *arg, const struct store_outbox *r) {
    struct store_claim *c = arg;
    while (c->id)
        c++;
    c->id = r->id;
}

/* As a dispatcher does: read the due rows, then claim them; again until
 * nothing is left to claim. */
static void *claim_all(void *arg) {
    struct claimer *c = arg;
    struct store *s = again(c->path);
    pthread_barrier_wait(c->start);
    for (int pass = 0; pass < 1000; pass++) {
        struct store_claim want[17] = {{0}};
        if (store_outbox_due(s, 10000, "mail", "a@x", 16, on_due_id, want)) {
            snprintf(c->why, sizeof c->why, "%s", store_last_error(s));
            break;
        }
        size_t n = 0;
        while (want[n].id)
            n++;
        if (!n)
            break;
        enum tend_err err = store_begin(s, NULL);
        if (!err)
            err = store_outbox_claim(s, want, n, 10000, 70000);
        if (!err)
            err = store_commit(s);
        else
            store_rollback(s);
        if (err) {
            snprintf(c->why, sizeof c->why, "%s", store_last_error(s));
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (want[i].claimed && c->n < CLAIM_ROWS)
                c->got[c->n++] = want[i].id;
    }
    store_close(s);
    return NULL;
}

static void test_two_dispatchers_claim_disjoint_rows(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    for (int i = 0; i < CLAIM_ROWS; i++)
        add_row(s, "mail", "a@x", 1, 1000 + i);
    assert_int_equal(store_commit(s), TEND_OK);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct claimer c[2] = {{.path = path, .start = &start}, {.path = path, .start = &start}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, claim_all, &c[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    if (c[0].why[0] || c[1].why[0])
        fail_msg("claims failed: %s %s", c[0].why, c[1].why);
    static int times[CLAIM_ROWS + 1];
    memset(times, 0, sizeof times);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < c[k].n; i++)
            times[c[k].got[i]]++;
    for (int id = 1; id <= CLAIM_ROWS; id++)
        if (times[id] != 1)
            fail_msg("row %d claimed %d times", id, times[id]);
    print_message("ok: %d rows claimed once each, %d by one dispatcher and %d by the other\n",
                  CLAIM_ROWS, c[0].n, c[1].n);
    store_close(s);
}

/* ---- one Slack webhook, two dispatchers ------------------------------------------ */

#define PACE_ROWS 6
#define PACE_MS   150

struct pacer {
    const char *path;
    pthread_barrier_t *start;
    int64_t started[PACE_ROWS], answered[PACE_ROWS];
    int n;
    char why[STORE_ERR_BYTES];
};

/* Sends the webhook's rows as a dispatcher does: claim (the gate is
 * exclusive), "send" (nothing), then record the answer with the pacing
 * hold from its time, until every row is sent or the deadline. */
static void *pace_all(void *arg) {
    struct pacer *p = arg;
    struct store *s = again(p->path);
    pthread_barrier_wait(p->start);
    int64_t deadline = dt_now_ms() + 60000;
    while (dt_now_ms() < deadline) {
        struct store_claim want[PACE_ROWS + 1] = {{0}};
        if (store_outbox_due(s, INT64_MAX / 2, "slack", "", 1, on_due_id, want)) {
            snprintf(p->why, sizeof p->why, "%s", store_last_error(s));
            break;
        }
        if (!want[0].id)
            break; /* all sent */
        want[0].gate = "slack abc";
        want[0].exclusive = true;
        int64_t now = dt_now_ms();
        enum tend_err err = store_begin(s, NULL);
        if (!err)
            err = store_outbox_claim(s, want, 1, now, now + 60000);
        if (!err)
            err = store_commit(s);
        else
            store_rollback(s);
        if (err) {
            snprintf(p->why, sizeof p->why, "%s", store_last_error(s));
            break;
        }
        if (!want[0].claimed) {
            usleep(2000);
            continue;
        }
        int64_t started = now, answered = dt_now_ms();
        struct store_outbox r = {.id = want[0].id,
                                 .status = "sent",
                                 .attempts = 1,
                                 .next_at_ms = answered,
                                 .sent_ms = answered};
        struct store_hold h = {.gate = "slack abc",
                               .not_before_ms = answered + PACE_MS,
                               .reason = "pacing",
                               .label = "slack"};
        err = store_begin(s, NULL);
        if (!err)
            err = store_outbox_set(s, &r);
        if (!err)
            err = store_outbox_hold_set(s, &h);
        if (!err)
            err = store_commit(s);
        else
            store_rollback(s);
        if (err) {
            snprintf(p->why, sizeof p->why, "%s", store_last_error(s));
            break;
        }
        if (p->n < PACE_ROWS) {
            p->started[p->n] = started;
            p->answered[p->n++] = answered;
        }
    }
    store_close(s);
    return NULL;
}

static void test_one_webhook_paced_across_dispatchers(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    for (int i = 0; i < PACE_ROWS; i++)
        add_row(s, "slack", "", 1, 1000 + i);
    assert_int_equal(store_commit(s), TEND_OK);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct pacer p[2] = {{.path = path, .start = &start}, {.path = path, .start = &start}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, pace_all, &p[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    if (p[0].why[0] || p[1].why[0])
        fail_msg("dispatchers failed: %s %s", p[0].why, p[1].why);
    assert_int_equal(p[0].n + p[1].n, PACE_ROWS);
    /* Every send, in start order: each starts at least PACE_MS after the
     * previous one's answer, whichever dispatcher sent either. */
    int64_t start_ms[PACE_ROWS], answer_ms[PACE_ROWS];
    int n = 0;
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < p[k].n; i++) {
            int j = n++;
            while (j > 0 && start_ms[j - 1] > p[k].started[i]) {
                start_ms[j] = start_ms[j - 1];
                answer_ms[j] = answer_ms[j - 1];
                j--;
            }
            start_ms[j] = p[k].started[i];
            answer_ms[j] = p[k].answered[i];
        }
    int64_t min_gap = INT64_MAX;
    for (int i = 1; i < n; i++) {
        int64_t gap = start_ms[i] - answer_ms[i - 1];
        if (gap < PACE_MS)
            fail_msg("send %d started %lld ms after the previous answer (pace %d ms)", i,
                     (long long)gap, PACE_MS);
        if (gap < min_gap)
            min_gap = gap;
    }
    print_message("ok: %d sends to one webhook by two dispatchers (%d and %d), smallest gap "
                  "after an answer %lld ms (pace %d ms)\n",
                  n, p[0].n, p[1].n, (long long)min_gap, PACE_MS);
    store_close(s);
}

static void test_an_exclusive_gate_takes_one_row_per_claim(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    int64_t a = add_row(s, "slack", "", 1, 1000), b = add_row(s, "slack", "", 1, 1000);
    int64_t c = add_row(s, "hook", "", 1, 1000), d = add_row(s, "hook", "", 1, 1000);
    struct store_hold h = {
        .gate = "slack held", .not_before_ms = 9000, .reason = "HTTP 429", .label = "slack"};
    assert_int_equal(store_outbox_hold_set(s, &h), TEND_OK);
    struct store_claim want[] = {
        {.id = a, .gate = "slack abc", .exclusive = true},
        {.id = b, .gate = "slack abc", .exclusive = true},
        {.id = c, .gate = "webhook hook"},
        {.id = d, .gate = "webhook hook"},
    };
    assert_int_equal(store_outbox_claim(s, want, 4, 2000, 62000), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_true(want[0].claimed);
    assert_false(want[1].claimed); /* the webhook has a at once in flight */
    assert_int_equal(want[1].wait_until_ms, 62000);
    assert_true(want[2].claimed && want[3].claimed); /* not exclusive: both */
    /* A held gate lets nothing through until its hold ends. */
    struct store_claim held = {.id = b, .gate = "slack held", .exclusive = true};
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_outbox_claim(s, &held, 1, 2000, 62000), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_false(held.claimed);
    assert_int_equal(held.wait_until_ms, 9000);
    /* a answered: the next one goes. */
    struct store_outbox r = {
        .id = a, .status = "sent", .attempts = 1, .next_at_ms = 3000, .sent_ms = 3000};
    assert_int_equal(store_outbox_set(s, &r), TEND_OK);
    want[1].claimed = false;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_outbox_claim(s, &want[1], 1, 3000, 63000), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_true(want[1].claimed);
    store_close(s);
}

/* ---- two webhooks claimed in opposite orders ---------------------------------------- */

#define CROSS_ROUNDS 40

struct crosser {
    const char *path;
    pthread_barrier_t *start;
    const char *first, *second; /* the gates, in this dispatcher's order */
    int64_t (*ids)[4];          /* per round: rows of gate X, X, Y, Y */
    bool x_first;
    int failures;
    char why[STORE_ERR_BYTES];
};

static void *claim_crossed(void *arg) {
    struct crosser *c = arg;
    struct store *s = again(c->path);
    for (int r = 0; r < CROSS_ROUNDS; r++) {
        pthread_barrier_wait(c->start);
        int k = c->x_first ? 0 : 1; /* each takes its own row of each gate */
        struct store_claim want[2] = {
            {.id = c->ids[r][c->x_first ? k : 2 + k], .gate = c->first, .exclusive = true},
            {.id = c->ids[r][c->x_first ? 2 + k : k], .gate = c->second, .exclusive = true},
        };
        int64_t now = 1000000 + r * 100000;
        enum tend_err err = store_begin(s, NULL);
        if (!err)
            err = store_outbox_claim(s, want, 2, now, now + 50);
        if (!err)
            err = store_commit(s);
        else
            store_rollback(s);
        if (err) {
            c->failures++;
            snprintf(c->why, sizeof c->why, "%s", store_last_error(s));
        }
        pthread_barrier_wait(c->start); /* both done before the next round's rows are due */
    }
    store_close(s);
    return NULL;
}

/* Two dispatchers claim rows of the same two Slack webhooks, listed in
 * opposite orders, at the same moment: neither waits for the other in a
 * circle (a deadlock would fail one's claim). Leases of 50 ms in the tests'
 * own time let the next round's rows through. */
static void test_claims_of_two_webhooks_in_opposite_orders_never_deadlock(void **state) {
    char path[320];
    struct store *s = fresh(path, sizeof path);
    static int64_t ids[CROSS_ROUNDS][4];
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    for (int r = 0; r < CROSS_ROUNDS; r++)
        for (int k = 0; k < 4; k++)
            ids[r][k] = add_row(s, "slack", k < 2 ? "x" : "y", 1, 1000000 + r * 100000);
    assert_int_equal(store_commit(s), TEND_OK);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct crosser c[2] = {
        {.path = path,
         .start = &start,
         .first = "slack x",
         .second = "slack y",
         .ids = ids,
         .x_first = true},
        {.path = path,
         .start = &start,
         .first = "slack y",
         .second = "slack x",
         .ids = ids,
         .x_first = false},
    };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, claim_crossed, &c[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    if (c[0].failures || c[1].failures)
        fail_msg("failed claims: %d and %d (%s%s)", c[0].failures, c[1].failures, c[0].why,
                 c[1].why);
    store_close(s);
}

static int setup(void **state) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-store-ctas-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cta_life_cycle_reads_as_written),
        cmocka_unit_test(test_history_runs_and_counts),
        cmocka_unit_test(test_held_back_keys_once_per_week),
        cmocka_unit_test(test_two_nodes_evaluating_one_account_open_one_cta),
        cmocka_unit_test(test_an_action_during_an_evaluation_is_not_lost),
        cmocka_unit_test(test_outbox_rows_digests_and_retries),
        cmocka_unit_test(test_leases_are_recovered_only_once_ended),
        cmocka_unit_test(test_two_dispatchers_claim_disjoint_rows),
        cmocka_unit_test(test_one_webhook_paced_across_dispatchers),
        cmocka_unit_test(test_an_exclusive_gate_takes_one_row_per_claim),
        cmocka_unit_test(test_claims_of_two_webhooks_in_opposite_orders_never_deadlock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
