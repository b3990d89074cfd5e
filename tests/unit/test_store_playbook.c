/* test_store_playbook.c: playbooks (core/playbook.h) and their steps done on
 * CTAs, on either backend (test_db.h: SQLite, or PostgreSQL under
 * tests/integration/store_pg.sh):
 *
 * - tend.yaml's playbooks: load with their steps; an unknown key, an
 *   unknown rule, a bad id or a step id used twice are refused with the path;
 * - a step is recorded with who and when, a later untick replaces it (the
 *   latest write wins), and a step of a CTA that does not exist is refused;
 * - eval_cta_step writes the step and a history entry in one transaction,
 *   refuses a step the playbook has not, and a closed CTA;
 * - two connections ticking steps of one CTA at once (two nodes) lose
 *   none: every step is there once, each history entry has its own seq. */
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
#include "core/playbook.h"
#include "eval/playbook.h"
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
    snprintf(path, size, "%s/pb-%d.db", dir, ++n_db);
    return open_path(path);
}

#define DAY0 20000

static int64_t cta(struct store *s, const char *ext, const char *rule, int status) {
    int64_t account_id = 0;
    bool created = false;
    assert_int_equal(store_account_ensure(s, ext, 1000, &account_id, &created), TEND_OK);
    struct store_cta c = {.account_id = account_id,
                          .rule = rule,
                          .subject = "",
                          .type = "risk",
                          .priority = CTA_MEDIUM,
                          .status = status,
                          .has_closed = status == CTA_CLOSED,
                          .closed_day = DAY0,
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
    assert_int_equal(store_commit(s), TEND_OK);
    return id;
}

static struct playbook_set *load(const char *json, char *err) {
    struct rules_config rc;
    rules_config_default(&rc);
    cJSON *section = cJSON_Parse(json);
    struct playbook_set *set = NULL;
    enum tend_err e = playbook_set_load(section, &rc, &set, err);
    cJSON_Delete(section);
    return e ? NULL : set;
}

static const char good[] = "{\"usage_dip\":[{\"id\":\"call\",\"title\":\"Call the champion\"},"
                           "{\"id\":\"review\",\"title\":\"Review usage together\"}]}";

static void playbooks_load_and_refuse_mistakes_with_their_path(void **state) {
    (void)state;
    char err[PLAYBOOK_ERR_BYTES];
    struct playbook_set *set = load(good, err);
    assert_non_null(set);
    const struct playbook *pb = playbook_of(set, "usage_dip");
    assert_non_null(pb);
    assert_int_equal(pb->n_steps, 2);
    assert_string_equal(playbook_step(pb, "review")->title, "Review usage together");
    assert_null(playbook_of(set, "no_login"));
    playbook_set_free(set);

    assert_null(load("{\"usage_dip\":[{\"id\":\"call\",\"titel\":\"x\"}]}", err));
    assert_string_equal(err, "playbooks.usage_dip[0]: unknown setting \"titel\"");
    assert_null(load("{\"no_such_rule\":[{\"id\":\"a\",\"title\":\"x\"}]}", err));
    assert_non_null(strstr(err, "playbooks.no_such_rule: no such rule"));
    assert_null(load("{\"usage_dip\":[{\"id\":\"Call Me\",\"title\":\"x\"}]}", err));
    assert_non_null(strstr(err, "playbooks.usage_dip[0]: id: must be a word"));
    assert_null(load("{\"usage_dip\":[{\"id\":\"a\",\"title\":\"x\"},"
                     "{\"id\":\"a\",\"title\":\"y\"}]}",
                     err));
    assert_non_null(strstr(err, "playbooks.usage_dip[1]: id: \"a\" is used twice"));
    assert_null(load("{\"usage_dip\":[\"just words\"]}", err));
    assert_non_null(strstr(err, "playbooks.usage_dip[0]: must be a mapping"));
    assert_null(load("[]", err));
}

struct steps {
    char id[8][48], actor[8][48];
    bool done[8];
    int64_t at[8];
    int n;
};

static void on_step(void *arg, const struct store_cta_step *st) {
    struct steps *l = arg;
    if (l->n == 8)
        return;
    snprintf(l->id[l->n], sizeof l->id[0], "%s", st->step);
    snprintf(l->actor[l->n], sizeof l->actor[0], "%s", st->actor);
    l->done[l->n] = st->done;
    l->at[l->n++] = st->at_ms;
}

static void a_step_is_recorded_with_who_and_when(void **state) {
    (void)state;
    char path[320];
    struct store *s = fresh(path, sizeof path);
    int64_t id = cta(s, "acc1", "usage_dip", CTA_OPEN);
    struct store_cta_step st = {.step = "call", .done = true, .actor = "ann@x", .at_ms = 111};
    assert_int_equal(store_cta_step_set(s, id, &st), TEND_OK);
    struct store_cta_step st2 = {.step = "review", .done = true, .actor = "bob@x", .at_ms = 222};
    assert_int_equal(store_cta_step_set(s, id, &st2), TEND_OK);
    struct store_cta_step undo = {.step = "call", .done = false, .actor = "bob@x", .at_ms = 333};
    assert_int_equal(store_cta_step_set(s, id, &undo), TEND_OK);
    struct steps l = {.n = 0};
    assert_int_equal(store_cta_steps_each(s, id, on_step, &l), TEND_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.id[0], "call");
    assert_false(l.done[0]);
    assert_string_equal(l.actor[0], "bob@x");
    assert_int_equal(l.at[0], 333);
    assert_string_equal(l.id[1], "review");
    assert_true(l.done[1]);
    assert_int_equal(l.at[1], 222);
    assert_int_equal(store_cta_step_set(s, id + 1000, &st), TEND_ERR_NOTFOUND);
    l.n = 0;
    assert_int_equal(store_cta_steps_each(s, id + 1000, on_step, &l), TEND_OK);
    assert_int_equal(l.n, 0);
    store_close(s);
}

struct hist {
    char action[32][32], note[32][128];
    int64_t seq[32];
    int n;
};

static void on_history(void *arg, const struct store_cta_change *ch) {
    struct hist *h = arg;
    if (h->n == 32)
        return;
    snprintf(h->action[h->n], sizeof h->action[0], "%s", ch->action);
    snprintf(h->note[h->n], sizeof h->note[0], "%s", ch->note ? ch->note : "");
    h->seq[h->n++] = ch->seq;
}

static void ticking_writes_the_step_and_the_history(void **state) {
    (void)state;
    char path[320], err[PLAYBOOK_ERR_BYTES], msg[300];
    struct store *s = fresh(path, sizeof path);
    struct playbook_set *set = load(good, err);
    int64_t id = cta(s, "acc1", "usage_dip", CTA_OPEN);
    int64_t other = cta(s, "acc2", "no_login", CTA_OPEN);
    int64_t closed = cta(s, "acc3", "usage_dip", CTA_CLOSED);
    assert_int_equal(eval_cta_step(s, set, id, "call", true, "ann@x", msg, sizeof msg), TEND_OK);
    assert_string_equal(msg, "step done: Call the champion");
    assert_int_equal(eval_cta_step(s, set, id, "call", false, "ann@x", msg, sizeof msg), TEND_OK);
    assert_string_equal(msg, "step not done: Call the champion");
    assert_int_equal(eval_cta_step(s, set, id, "nope", true, "ann@x", msg, sizeof msg),
                     TEND_ERR_NOTFOUND);
    assert_non_null(strstr(msg, "no step \"nope\""));
    assert_int_equal(eval_cta_step(s, set, other, "call", true, "ann@x", msg, sizeof msg),
                     TEND_ERR_NOTFOUND);
    assert_non_null(strstr(msg, "has no playbook"));
    assert_int_equal(eval_cta_step(s, set, closed, "call", true, "ann@x", msg, sizeof msg),
                     TEND_ERR_CONFLICT);
    assert_int_equal(eval_cta_step(s, set, id + 1000, "call", true, "ann@x", msg, sizeof msg),
                     TEND_ERR_NOTFOUND);
    struct hist h = {.n = 0};
    assert_int_equal(store_cta_history_each(s, id, on_history, &h), TEND_OK);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.action[0], "step_done");
    assert_string_equal(h.action[1], "step_undone");
    assert_string_equal(h.note[0], "step done: Call the champion");
    struct steps l = {.n = 0};
    assert_int_equal(store_cta_steps_each(s, id, on_step, &l), TEND_OK);
    assert_int_equal(l.n, 1);
    assert_false(l.done[0]);
    l.n = 0;
    assert_int_equal(store_cta_steps_each(s, closed, on_step, &l), TEND_OK);
    assert_int_equal(l.n, 0); /* refused: nothing written */
    playbook_set_free(set);
    store_close(s);
}

struct ticker {
    const char *path;
    const struct playbook_set *set;
    int64_t id;
    const char *step;
    enum tend_err e[10];
};

static void *tick_many(void *arg) {
    struct ticker *t = arg;
    struct store *s = open_path(t->path);
    char msg[300];
    for (int i = 0; i < 10; i++) {
        do
            t->e[i] = eval_cta_step(s, t->set, t->id, t->step, i % 2 == 0, "n@x", msg, sizeof msg);
        while (t->e[i] == TEND_ERR_BUSY);
    }
    store_close(s);
    return NULL;
}

static void two_connections_at_once_lose_no_tick(void **state) {
    (void)state;
    char path[320], err[PLAYBOOK_ERR_BYTES];
    struct store *s = fresh(path, sizeof path);
    struct playbook_set *set = load(good, err);
    int64_t id = cta(s, "acc1", "usage_dip", CTA_OPEN);
    struct ticker a = {.path = path, .set = set, .id = id, .step = "call"};
    struct ticker b = {.path = path, .set = set, .id = id, .step = "review"};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, tick_many, &a);
    pthread_create(&tb, NULL, tick_many, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(a.e[i], TEND_OK);
        assert_int_equal(b.e[i], TEND_OK);
    }
    struct steps l = {.n = 0};
    assert_int_equal(store_cta_steps_each(s, id, on_step, &l), TEND_OK);
    assert_int_equal(l.n, 2);
    assert_false(l.done[0]); /* the tenth of each, i = 9: not done */
    assert_false(l.done[1]);
    struct hist h = {.n = 0};
    int64_t seqs = 0;
    assert_int_equal(store_cta_history_each(s, id, on_history, &h), TEND_OK);
    for (int i = 0; i < h.n; i++)
        seqs += h.seq[i];
    assert_int_equal(h.n, 20); /* every tick, each with its own seq 1..20 */
    assert_int_equal(seqs, 210);
    playbook_set_free(set);
    store_close(s);
}

/* tend eval --rebuild forgets every CTA: their steps go with them, so a new
 * CTA that gets an old id (SQLite reuses the highest) starts unticked. */
static void a_reset_forgets_the_steps(void **state) {
    (void)state;
    char path[320];
    struct store *s = fresh(path, sizeof path);
    int64_t id = cta(s, "acc1", "usage_dip", CTA_OPEN);
    struct store_cta_step st = {.step = "call", .done = true, .actor = "ann@x", .at_ms = 111};
    assert_int_equal(store_cta_step_set(s, id, &st), TEND_OK);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_ctas_reset(s), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    int64_t again = cta(s, "acc1", "usage_dip", CTA_OPEN);
    struct steps l = {.n = 0};
    assert_int_equal(store_cta_steps_each(s, again, on_step, &l), TEND_OK);
    assert_int_equal(l.n, 0);
    l.n = 0;
    assert_int_equal(store_cta_steps_each(s, id, on_step, &l), TEND_OK);
    assert_int_equal(l.n, 0);
    store_close(s);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-store-pb-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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
        cmocka_unit_test(playbooks_load_and_refuse_mistakes_with_their_path),
        cmocka_unit_test(a_step_is_recorded_with_who_and_when),
        cmocka_unit_test(ticking_writes_the_step_and_the_history),
        cmocka_unit_test(two_connections_at_once_lose_no_tick),
        cmocka_unit_test(a_reset_forgets_the_steps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
