/* test_store_notes.c: notes, the holdout's record and the team's records
 * on either backend (test_db.h: SQLite, or PostgreSQL under
 * tests/integration/store_pg.sh), and eval_note_add on top of them:
 *
 * - a note on a CTA is stored with its CTA's account and is an entry of the
 *   CTA's history by its author (a person's action: "acted"); a note on an
 *   account has no CTA; the lists filter by account and CTA, newest first;
 * - bad notes are refused with the reason and store nothing: an unknown
 *   kind, an empty or too long text, invalid UTF-8, no such CTA or account;
 * - a CTA's holdout record is written once (a second put changes nothing);
 * - every history entry and the Outreach Sent events are read back for the
 *   process metrics;
 * - the holdout's draw is the documented hash (a value the Python check
 *   computes the same way) and a share of about the holdout of accounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cta.h"
#include "core/holdout.h"
#include "core/note.h"
#include "eval/notes.h"
#include "store/store.h"
#include "test_db.h"
#include "util/datetime.h"

static char dir[256];
static int n_db;

static struct store *fresh(void) {
    char path[300];
    snprintf(path, sizeof path, "%s/notes-%d.db", dir, ++n_db);
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open %s: %s", path, err);
    return s;
}

static int64_t account(struct store *s, const char *ext) {
    int64_t id = 0;
    bool created = false;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    if (store_account_ensure(s, ext, 1000, &id, &created) != TEND_OK)
        fail_msg("account_ensure %s: %s", ext, store_last_error(s));
    assert_int_equal(store_commit(s), TEND_OK);
    return id;
}

#define DAY0 20000

static int64_t cta(struct store *s, int64_t account_id, const char *rule) {
    struct store_cta c = {.account_id = account_id,
                          .rule = rule,
                          .subject = "",
                          .type = "risk",
                          .priority = CTA_MEDIUM,
                          .status = CTA_OPEN,
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
                                  .at_ms = (int64_t)DAY0 * DT_MS_PER_DAY,
                                  .action = "open",
                                  .actor = STORE_ACTOR_TEND,
                                  .status = CTA_OPEN,
                                  .priority = CTA_MEDIUM};
    assert_int_equal(store_cta_history_add(s, id, &ch), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    return id;
}

struct notes {
    int64_t id[8], cta[8];
    char kind[8][16], by[8][32], account[8][32];
    int n;
};

static int on_note(void *arg, const struct store_note *n) {
    struct notes *x = arg;
    if (x->n < 8) {
        x->id[x->n] = n->id;
        x->cta[x->n] = n->cta_id;
        snprintf(x->kind[x->n], 16, "%s", n->kind);
        snprintf(x->by[x->n], 32, "%s", n->actor);
        snprintf(x->account[x->n], 32, "%s", n->account);
    }
    x->n++;
    return 0;
}

static struct notes list(struct store *s, int64_t account_id, int64_t cta_id) {
    struct notes x = {0};
    struct store_note_filter f = {.account_id = account_id, .cta_id = cta_id};
    assert_int_equal(store_notes_each(s, &f, on_note, &x), TEND_OK);
    return x;
}

struct last_change {
    char action[16], actor[32], note[256];
    int n;
};

static void on_change(void *arg, const struct store_cta_change *ch) {
    struct last_change *x = arg;
    snprintf(x->action, sizeof x->action, "%s", ch->action);
    snprintf(x->actor, sizeof x->actor, "%s", ch->actor);
    snprintf(x->note, sizeof x->note, "%s", ch->note ? ch->note : "");
    x->n++;
}

static bool acted;
static void on_cta(void *arg, const struct store_cta *c) {
    (void)arg;
    acted = c->acted;
}

static void a_note_on_a_cta_is_a_person_action_on_it(void **state) {
    (void)state;
    struct store *s = fresh();
    int64_t a = account(s, "acme"), b = account(s, "beta");
    int64_t c = cta(s, a, "no_login");
    struct store_span all = {.first = 0, .last = INT64_MAX};
    acted = true;
    assert_int_equal(store_ctas_watched_each(s, &all, on_cta, NULL), TEND_OK);
    assert_false(acted); /* only tend's "open" so far */

    char msg[400];
    int64_t id1 = 0, id2 = 0;
    struct note_input n = {
        .cta_id = c, .kind = "call", .body = "Spoke with Dana: renewal on track", .by = "ann@x"};
    assert_int_equal(eval_note_add(s, &n, &id1, msg, sizeof msg), TEND_OK);
    assert_string_equal(msg, "call recorded");
    struct note_input m = {.account = "beta", .kind = "meeting", .body = "QBR", .by = "bob@x"};
    assert_int_equal(eval_note_add(s, &m, &id2, msg, sizeof msg), TEND_OK);
    assert_string_equal(msg, "meeting recorded on account beta");
    assert_true(id1 > 0 && id2 > 0 && id1 != id2);

    struct last_change h = {0};
    assert_int_equal(store_cta_history_each(s, c, on_change, &h), TEND_OK);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.action, "note");
    assert_string_equal(h.actor, "ann@x");
    assert_string_equal(h.note, "call: Spoke with Dana: renewal on track");
    assert_int_equal(store_ctas_watched_each(s, &all, on_cta, NULL), TEND_OK);
    assert_true(acted);

    struct notes x = list(s, a, 0);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.cta[0], c);
    assert_string_equal(x.account[0], "acme");
    assert_string_equal(x.by[0], "ann@x");
    x = list(s, b, 0);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.cta[0], 0);
    assert_string_equal(x.kind[0], "meeting");
    x = list(s, 0, c);
    assert_int_equal(x.n, 1);
    x = list(s, 0, 0);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.id[0], id2); /* newest first */
    struct notes one = {0};
    struct store_note_filter lim = {.limit = 1};
    assert_int_equal(store_notes_each(s, &lim, on_note, &one), TEND_OK);
    assert_int_equal(one.n, 1);
    store_close(s);
}

static void bad_notes_are_refused_and_store_nothing(void **state) {
    (void)state;
    struct store *s = fresh();
    int64_t a = account(s, "acme");
    int64_t c = cta(s, a, "no_login");
    char msg[400], big[NOTE_BODY_MAX_BYTES + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    int64_t id = 0;
    struct {
        struct note_input n;
        enum tend_err e;
        const char *says;
    } cases[] = {
        {{.cta_id = c, .kind = "fax", .body = "x"}, TEND_ERR_USAGE, "kind must be"},
        {{.cta_id = c, .kind = "call", .body = " \n "}, TEND_ERR_USAGE, "must not be empty"},
        {{.cta_id = c, .kind = "call", .body = big}, TEND_ERR_USAGE, "at most 2000 bytes"},
        {{.cta_id = c, .kind = "call", .body = "bad \xff byte"}, TEND_ERR_USAGE, "UTF-8"},
        {{.cta_id = c + 99, .kind = "call", .body = "x"}, TEND_ERR_NOTFOUND, "no CTA"},
        {{.account = "nope", .kind = "call", .body = "x"}, TEND_ERR_NOTFOUND, "no account nope"},
        {{.kind = "call", .body = "x"}, TEND_ERR_USAGE, "needs a CTA or an account"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(eval_note_add(s, &cases[i].n, &id, msg, sizeof msg), cases[i].e);
        if (!strstr(msg, cases[i].says))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, msg, cases[i].says);
    }
    memset(big, 'y', NOTE_BODY_MAX_BYTES); /* exactly the limit is fine */
    big[NOTE_BODY_MAX_BYTES] = '\0';
    struct note_input ok = {.cta_id = c, .kind = "text", .body = big};
    assert_int_equal(eval_note_add(s, &ok, &id, msg, sizeof msg), TEND_OK);
    struct notes x = list(s, 0, 0);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.by[0], "unknown"); /* no author given */
    struct last_change h = {0};
    assert_int_equal(store_cta_history_each(s, c, on_change, &h), TEND_OK);
    assert_int_equal(h.n, 2);
    assert_true(strlen(h.note) < 220); /* the history keeps the start of a long note */
    store_close(s);
}

struct held {
    int n, n_held;
    double draw;
};

static void on_holdout(void *arg, const struct store_holdout *h) {
    struct held *x = arg;
    x->n++;
    x->n_held += h->held_out;
    x->draw = h->draw;
}

static void a_holdout_record_is_written_once(void **state) {
    (void)state;
    struct store *s = fresh();
    int64_t a = account(s, "acme");
    int64_t c = cta(s, a, "no_login");
    struct store_holdout h = {.cta_id = c,
                              .account_id = a,
                              .rule = "no_login",
                              .day = DAY0,
                              .share = 0.1,
                              .draw = 0.05,
                              .held_out = true};
    assert_int_equal(store_holdout_put(s, &h), TEND_OK);
    h.draw = 0.9;
    h.held_out = false;
    assert_int_equal(store_holdout_put(s, &h), TEND_OK); /* a replay: changes nothing */
    struct store_holdout got;
    bool found = false;
    assert_int_equal(store_holdout_get(s, c, &got, &found), TEND_OK);
    assert_true(found);
    assert_true(got.held_out);
    assert_float_equal(got.draw, 0.05, 1e-12);
    assert_float_equal(got.share, 0.1, 1e-12);
    assert_int_equal(store_holdout_get(s, c + 1, &got, &found), TEND_OK);
    assert_false(found);
    struct held x = {0};
    assert_int_equal(store_holdouts_each(s, "no_login", on_holdout, &x), TEND_OK);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.n_held, 1);
    x = (struct held){0};
    assert_int_equal(store_holdouts_each(s, "other", on_holdout, &x), TEND_OK);
    assert_int_equal(x.n, 0);
    store_close(s);
}

/* tend eval --rebuild forgets every CTA: their holdout draws go with them
 * (SQLite reuses the ids after the reset: a new CTA must not find an old
 * draw), and their notes stay, on the account. */
static void a_rebuild_forgets_the_draws_and_keeps_the_notes(void **state) {
    (void)state;
    struct store *s = fresh();
    int64_t a = account(s, "acme");
    int64_t c = cta(s, a, "no_login");
    struct store_holdout h = {.cta_id = c,
                              .account_id = a,
                              .rule = "no_login",
                              .day = DAY0,
                              .share = 0.5,
                              .draw = 0.1,
                              .held_out = true};
    assert_int_equal(store_holdout_put(s, &h), TEND_OK);
    char msg[400];
    int64_t id;
    struct note_input n = {.cta_id = c, .kind = "call", .body = "before the rebuild"};
    assert_int_equal(eval_note_add(s, &n, &id, msg, sizeof msg), TEND_OK);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_ctas_reset(s), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    int64_t again = cta(s, a, "no_login");
    struct store_holdout got;
    bool found = true;
    assert_int_equal(store_holdout_get(s, again, &got, &found), TEND_OK);
    assert_false(found);
    assert_int_equal(store_holdout_get(s, c, &got, &found), TEND_OK);
    assert_false(found);
    struct notes x = list(s, a, 0);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.cta[0], 0);
    x = list(s, 0, again);
    assert_int_equal(x.n, 0);
    store_close(s);
}

struct actions {
    int n, notes;
    int64_t out_n, out_acct;
};

static void on_action(void *arg, const struct store_cta_action *a) {
    struct actions *x = arg;
    x->n++;
    x->notes += strcmp(a->action, "note") == 0;
}

static void on_outreach(void *arg, int64_t account_id, int64_t ts_ms) {
    struct actions *x = arg;
    (void)ts_ms;
    x->out_n++;
    x->out_acct = account_id;
}

static void histories_and_outreach_are_read_back(void **state) {
    (void)state;
    struct store *s = fresh();
    int64_t a = account(s, "acme");
    int64_t c1 = cta(s, a, "no_login"), c2 = cta(s, a, "usage_dip");
    (void)c2;
    char msg[400];
    int64_t id;
    struct note_input n = {.cta_id = c1, .kind = "email", .body = "sent the deck", .by = "ann"};
    assert_int_equal(eval_note_add(s, &n, &id, msg, sizeof msg), TEND_OK);
    struct actions x = {0};
    assert_int_equal(store_cta_actions_each(s, on_action, &x), TEND_OK);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.notes, 1);
    /* Two Outreach Sent events (one outside the window) and a login. */
    int64_t t0 = (int64_t)DAY0 * DT_MS_PER_DAY;
    struct {
        int64_t ts;
        int kind;
    } evs[] = {{t0 + 1000, 9}, {t0 + 40 * DT_MS_PER_DAY, 9}, {t0 + 2000, 1}};
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    for (int i = 0; i < 3; i++) {
        struct store_event ev = {.key_ts_ms = evs[i].ts,
                                 .key_hash = (uint64_t)(i + 1),
                                 .ts_ms = evs[i].ts,
                                 .kind = evs[i].kind,
                                 .account_id = a};
        bool inserted = false;
        assert_int_equal(store_event_put(s, &ev, &inserted), TEND_OK);
        assert_true(inserted);
    }
    assert_int_equal(store_commit(s), TEND_OK);
    assert_int_equal(store_outreach_each(s, t0, t0 + 30 * DT_MS_PER_DAY, on_outreach, &x), TEND_OK);
    assert_int_equal(x.out_n, 1);
    assert_int_equal(x.out_acct, a);
    store_close(s);
}

static void the_draw_is_the_documented_hash(void **state) {
    (void)state;
    /* The same inputs, the same draw; another rule or seed, another. */
    double d = holdout_draw(0, "acme", "no_login");
    assert_true(d >= 0 && d < 1);
    assert_float_equal(d, holdout_draw(0, "acme", "no_login"), 0);
    assert_true(d != holdout_draw(0, "acme", "usage_dip"));
    assert_true(d != holdout_draw(1, "acme", "no_login"));
    /* The value tests/integration/impact_sim.py computes for it. */
    printf("ok - holdout_draw(0, acme, no_login) = %.17g\n", d);
    int held = 0, n = 20000;
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "acct-%d", i);
        held += holdout_held(0.1, holdout_draw(7, id, "no_login"));
    }
    /* 10% of 20,000: 2,000, with a standard deviation of about 42. */
    printf("ok - held out %d of %d at 10%%\n", held, n);
    assert_in_range(held, 1800, 2200);
    assert_false(holdout_held(0, 0.0));
    assert_true(holdout_held(0.5, 0.4999));
    assert_false(holdout_held(0.5, 0.5));
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-store-notes-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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
        cmocka_unit_test(a_note_on_a_cta_is_a_person_action_on_it),
        cmocka_unit_test(bad_notes_are_refused_and_store_nothing),
        cmocka_unit_test(a_holdout_record_is_written_once),
        cmocka_unit_test(a_rebuild_forgets_the_draws_and_keeps_the_notes),
        cmocka_unit_test(histories_and_outreach_are_read_back),
        cmocka_unit_test(the_draw_is_the_documented_hash),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
