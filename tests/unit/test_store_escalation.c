/* test_store_escalation.c: the store's escalation operations on either
 * backend (test_db.h: SQLite, or PostgreSQL under
 * tests/integration/store_pg.sh), and eval_escalate on top of them:
 *
 * - the candidates are the open CTAs only, with their first "open" and
 *   first person's entry of history and the levels recorded;
 * - a level is recorded once (the second put is not new), for an existing
 *   CTA only; tend eval --rebuild's reset forgets the records with the CTAs;
 * - two escalation passes at once on two connections (two nodes, or a
 *   restart overlapping a pass) escalate each level once: one history
 *   entry per level, the priority raised once per level. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "core/cta.h"
#include "core/escalate.h"
#include "eval/escalate.h"
#include "store/store.h"
#include "test_db.h"
#include "util/datetime.h"

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
    snprintf(path, size, "%s/esc-%d.db", dir, ++n_db);
    return open_path(path);
}

static int64_t account(struct store *s, const char *ext) {
    int64_t id = 0;
    bool created = false;
    if (store_account_ensure(s, ext, 1000, &id, &created) != TEND_OK)
        fail_msg("account_ensure %s: %s", ext, store_last_error(s));
    return id;
}

#define DAY0 20000 /* 2024-10-04, a Friday */

/* A CTA opened on DAY0 at noon by tend, with its history's "open". */
static int64_t cta(struct store *s, int64_t account_id, const char *rule, int status) {
    struct store_cta c = {.account_id = account_id,
                          .rule = rule,
                          .subject = "",
                          .type = "risk",
                          .priority = CTA_MEDIUM,
                          .status = status,
                          .snoozed_until = status == CTA_SNOOZED ? DAY0 + 30 : 0,
                          .owner = "ann@x",
                          .title = "Title",
                          .reason = "Reason",
                          .evidence = "{}",
                          .opened_day = DAY0,
                          .due_day = DAY0 + 5,
                          .updated_ms = 1};
    int64_t id = 0;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_cta_insert(s, &c, &id), TEND_OK);
    struct store_cta_change ch = {.day = DAY0,
                                  .at_ms = (int64_t)DAY0 * DT_MS_PER_DAY + 12 * 3600000LL,
                                  .action = "open",
                                  .actor = STORE_ACTOR_TEND,
                                  .status = status,
                                  .priority = CTA_MEDIUM,
                                  .note = "opened"};
    assert_int_equal(store_cta_history_add(s, id, &ch), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    return id;
}

struct listed {
    struct store_esc_candidate c[8];
    int n;
};

static void on_candidate(void *arg, const struct store_esc_candidate *c) {
    struct listed *l = arg;
    if (l->n < 8)
        l->c[l->n++] = *c;
}

static void candidates_and_records(void **state) {
    (void)state;
    char path[320];
    struct store *s = fresh(path, sizeof path);
    int64_t a = account(s, "acc1"), b = account(s, "acc2");
    int64_t open = cta(s, a, "no_login", CTA_OPEN);
    cta(s, a, "usage_dip", CTA_SNOOZED);
    int64_t acted = cta(s, b, "no_login", CTA_OPEN);
    struct store_cta_change ch = {.day = DAY0 + 1,
                                  .at_ms = (int64_t)(DAY0 + 1) * DT_MS_PER_DAY + 5,
                                  .action = "assign",
                                  .actor = "ann@x",
                                  .status = CTA_OPEN,
                                  .priority = CTA_MEDIUM,
                                  .note = "ann@x -> bob@x"};
    assert_int_equal(store_cta_history_add(s, acted, &ch), TEND_OK);

    struct listed l = {0};
    assert_int_equal(store_escalation_candidates(s, on_candidate, &l), TEND_OK);
    assert_int_equal(l.n, 2); /* the snoozed one is not a candidate */
    assert_int_equal(l.c[0].cta_id, open);
    assert_int_equal(l.c[0].account_id, a);
    assert_int_equal(l.c[0].priority, CTA_MEDIUM);
    assert_int_equal(l.c[0].opened_day, DAY0);
    assert_int_equal(l.c[0].due_day, DAY0 + 5);
    assert_int_equal(l.c[0].open_ms, (int64_t)DAY0 * DT_MS_PER_DAY + 12 * 3600000LL);
    assert_int_equal(l.c[0].first_act_ms, 0);
    assert_int_equal(l.c[0].levels, 0);
    assert_int_equal(l.c[1].cta_id, acted);
    assert_int_equal(l.c[1].first_act_ms, (int64_t)(DAY0 + 1) * DT_MS_PER_DAY + 5);

    bool is_new = false;
    assert_int_equal(store_escalation_put(s, open, ESC_OVERDUE, 7, "boss@x", &is_new), TEND_OK);
    assert_true(is_new);
    assert_int_equal(store_escalation_put(s, open, ESC_OVERDUE, 8, "boss@x", &is_new), TEND_OK);
    assert_false(is_new);
    assert_int_equal(store_escalation_put(s, open, ESC_UNACTED, 9, NULL, &is_new), TEND_OK);
    assert_true(is_new);
    assert_int_equal(store_escalation_put(s, 999999, ESC_UNACTED, 9, NULL, &is_new), TEND_OK);
    assert_false(is_new); /* no such CTA */
    l.n = 0;
    assert_int_equal(store_escalation_candidates(s, on_candidate, &l), TEND_OK);
    assert_int_equal(l.c[0].levels, (1u << ESC_UNACTED) | (1u << ESC_OVERDUE));
    assert_int_equal(l.c[1].levels, 0);

    /* A replay from scratch forgets them with the CTAs. */
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_ctas_reset(s), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    int64_t again = cta(s, a, "no_login", CTA_OPEN);
    l.n = 0;
    assert_int_equal(store_escalation_candidates(s, on_candidate, &l), TEND_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.c[0].cta_id, again);
    assert_int_equal(l.c[0].levels, 0);
    store_close(s);
}

struct pass {
    const char *path;
    const struct esc_config *ec;
    pthread_barrier_t *start;
    struct eval_esc_summary sum;
    enum tend_err err;
    char why[STORE_ERR_BYTES];
};

static void *run_pass(void *arg) {
    struct pass *p = arg;
    struct store *s = open_path(p->path);
    pthread_barrier_wait(p->start);
    int64_t now = (int64_t)(DAY0 + 60) * DT_MS_PER_DAY; /* both levels long due */
    p->err = eval_escalate(s, p->ec, NULL, "Europe/Berlin", now, NULL, NULL, &p->sum);
    if (p->err)
        snprintf(p->why, sizeof p->why, "%s", store_last_error(s));
    store_close(s);
    return NULL;
}

struct history {
    int escalations;
    int last_priority;
    char last_note[600];
};

static void on_change(void *arg, const struct store_cta_change *ch) {
    struct history *h = arg;
    if (strcmp(ch->action, "escalate") == 0) {
        h->escalations++;
        snprintf(h->last_note, sizeof h->last_note, "%s", ch->note ? ch->note : "");
    }
    h->last_priority = ch->priority;
}

static struct store_cta got;
static void on_got(void *arg, const struct store_cta *c) {
    (void)arg;
    got = *c;
    got.account = got.rule = got.subject = got.type = got.owner = NULL;
    got.title = got.reason = got.evidence = got.account_name = NULL;
}

static void two_passes_at_once_escalate_each_level_once(void **state) {
    (void)state;
    char path[320];
    struct store *s = fresh(path, sizeof path);
    enum { N = 6 };
    int64_t ids[N];
    for (int i = 0; i < N; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "acc%d", i);
        ids[i] = cta(s, account(s, ext), "no_login", CTA_OPEN);
    }
    struct esc_config ec;
    esc_config_default(&ec);
    ec.enabled = true;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct pass p[2] = {{.path = path, .ec = &ec, .start = &start},
                        {.path = path, .ec = &ec, .start = &start}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, run_pass, &p[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    if (p[0].err || p[1].err)
        fail_msg("passes failed: %s / %s", p[0].why, p[1].why);
    /* Two levels per CTA, each recorded by exactly one of the passes. */
    assert_int_equal(p[0].sum.escalated + p[1].sum.escalated, 2 * N);
    for (int i = 0; i < N; i++) {
        struct history h = {0};
        assert_int_equal(store_cta_history_each(s, ids[i], on_change, &h), TEND_OK);
        assert_int_equal(h.escalations, 2);
        assert_int_equal(store_cta_get(s, ids[i], on_got, NULL), TEND_OK);
        assert_int_equal(got.priority, CTA_HIGH); /* medium -> high -> high */
        assert_int_equal(h.last_priority, CTA_HIGH);
    }
    /* A third pass finds nothing left to do. */
    struct eval_esc_summary sum;
    assert_int_equal(eval_escalate(s, &ec, NULL, "Europe/Berlin",
                                   (int64_t)(DAY0 + 90) * DT_MS_PER_DAY, NULL, NULL, &sum),
                     TEND_OK);
    assert_int_equal(sum.open, N);
    assert_int_equal(sum.escalated, 0);
    store_close(s);
}

/* A pass escalates at most max_per_pass CTAs, the most urgent first; the
 * next pass takes the rest. */
static void a_pass_is_bounded_most_urgent_first(void **state) {
    (void)state;
    char path[320];
    struct store *s = fresh(path, sizeof path);
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "acc%d", i);
        ids[i] = cta(s, account(s, ext), "no_login", CTA_OPEN);
    }
    /* The last one is low: it goes last. */
    assert_int_equal(store_cta_get(s, ids[4], on_got, NULL), TEND_OK);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    struct store_cta c = got;
    c.rule = "no_login";
    c.subject = "";
    c.type = "risk";
    c.owner = "ann@x";
    c.title = c.reason = "x";
    c.evidence = "{}";
    c.priority = CTA_LOW;
    assert_int_equal(store_cta_update(s, &c), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    struct esc_config ec;
    esc_config_default(&ec);
    ec.enabled = true;
    ec.prio[CTA_LOW].unacted_hours = 1;
    ec.max_per_pass = 4;
    struct eval_esc_summary sum;
    int64_t now = (int64_t)(DAY0 + 60) * DT_MS_PER_DAY;
    assert_int_equal(eval_escalate(s, &ec, NULL, NULL, now, NULL, NULL, &sum), TEND_OK);
    assert_int_equal(sum.deferred, 1);
    assert_int_equal(sum.escalated, 8); /* 4 CTAs, 2 levels each */
    struct history h = {0};
    assert_int_equal(store_cta_history_each(s, ids[4], on_change, &h), TEND_OK);
    assert_int_equal(h.escalations, 0);
    assert_int_equal(eval_escalate(s, &ec, NULL, NULL, now, NULL, NULL, &sum), TEND_OK);
    assert_int_equal(sum.deferred, 0);
    assert_int_equal(sum.escalated, 2);
    assert_int_equal(store_cta_history_each(s, ids[4], on_change, &h), TEND_OK);
    assert_int_equal(h.escalations, 2);
    /* No manager, no contact: the history says nobody was told; with a
     * contact but no channels, that the contact was not told, and why. */
    assert_non_null(strstr(h.last_note, "level 2 (overdue): overdue by"));
    assert_non_null(strstr(h.last_note, "; nobody told (no escalation.managers entry"));
    int64_t more = cta(s, account(s, "acc9"), "no_login", CTA_OPEN);
    char contact[] = "lead@x";
    ec.contact = contact;
    assert_int_equal(eval_escalate(s, &ec, NULL, NULL, now, NULL, NULL, &sum), TEND_OK);
    ec.contact = NULL;
    struct history m = {0};
    assert_int_equal(store_cta_history_each(s, more, on_change, &m), TEND_OK);
    assert_non_null(strstr(m.last_note, "; lead@x not told: no channels configured"));
    store_close(s);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-store-esc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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
        cmocka_unit_test(candidates_and_records),
        cmocka_unit_test(two_passes_at_once_escalate_each_level_once),
        cmocka_unit_test(a_pass_is_bounded_most_urgent_first),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
