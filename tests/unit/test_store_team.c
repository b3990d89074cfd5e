/* test_store_team.c: the store's people, one-time links and audit log on
 * either backend (test_db.h: SQLite, or PostgreSQL under
 * tests/integration/store_pg.sh):
 *
 * - a person is added once (any case of the email), read, changed one
 *   field at a time; changing an unknown person is NOTFOUND; fields over
 *   their bounds are refused with a message naming them;
 * - a one-time link is used once: a second use, an expired link, an unknown
 *   one find nothing, and of two connections using it at once one wins;
 * - an API token made in the app is found by its SHA-256 until revoked;
 *   its name and hash are unique;
 * - the audit log pages newest first; an entry written in a transaction
 *   that rolls back is gone with it; a person's CTA action (eval/act.h)
 *   writes one entry with the state before and after; on SQLite a raw
 *   UPDATE or DELETE of the log is refused by its triggers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>

#include "core/cta.h"
#include "eval/act.h"
#include "eval/audit.h"
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
    snprintf(path, size, "%s/team-%d.db", dir, ++n_db);
    return open_path(path);
}

static struct store_team_user person(const char *email, const char *role) {
    struct store_team_user u = {.created_ms = 1000};
    snprintf(u.email, sizeof u.email, "%s", email);
    snprintf(u.role, sizeof u.role, "%s", role);
    snprintf(u.name, sizeof u.name, "Name of %s", email);
    return u;
}

struct user_list {
    int n;
    struct store_team_user l[4];
};

static void on_user(void *arg, const struct store_team_user *x) {
    struct user_list *a = arg;
    if (a->n < 4)
        a->l[a->n] = *x;
    a->n++;
}

struct audit_one {
    char actor[64], target[64], before[400], after[400];
};

static void on_one(void *arg, const struct store_audit *e) {
    struct audit_one *o = arg;
    snprintf(o->actor, sizeof o->actor, "%s", e->actor);
    snprintf(o->target, sizeof o->target, "%s", e->target);
    snprintf(o->before, sizeof o->before, "%s", e->before ? e->before : "");
    snprintf(o->after, sizeof o->after, "%s", e->after ? e->after : "");
}

static void people_are_added_once_and_changed_field_by_field(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    struct store_team_user u = person("Ann@Example.com", "csm");
    assert_int_equal(store_team_user_add(s, &u), TEND_OK);
    struct store_team_user again = person("ann@EXAMPLE.com", "admin");
    assert_int_equal(store_team_user_add(s, &again), TEND_ERR_CONFLICT);

    struct store_team_user got;
    bool found = false;
    assert_int_equal(store_team_user_get(s, "ANN@example.COM", &got, &found), TEND_OK);
    assert_true(found);
    assert_string_equal(got.email, "ann@example.com");
    assert_string_equal(got.role, "csm");
    assert_string_equal(got.hash, "");
    assert_false(got.disabled);

    assert_int_equal(store_team_user_set_role(s, "ann@example.com", "lead", 2000), TEND_OK);
    assert_int_equal(store_team_user_set_hash(s, "ann@example.com", "$argon2id$x", 3000), TEND_OK);
    assert_int_equal(store_team_user_set_disabled(s, "ann@example.com", true, 4000), TEND_OK);
    assert_int_equal(store_team_user_get(s, "ann@example.com", &got, &found), TEND_OK);
    assert_string_equal(got.role, "lead");
    assert_string_equal(got.hash, "$argon2id$x");
    assert_true(got.disabled);
    assert_int_equal(got.changed_ms, 4000);
    assert_int_equal(got.created_ms, 1000);
    assert_int_equal(store_team_user_set_disabled(s, "ann@example.com", false, 5000), TEND_OK);
    assert_int_equal(store_team_user_get(s, "ann@example.com", &got, &found), TEND_OK);
    assert_false(got.disabled);

    assert_int_equal(store_team_user_set_role(s, "nobody@example.com", "lead", 1),
                     TEND_ERR_NOTFOUND);
    assert_int_equal(store_team_user_get(s, "nobody@example.com", &got, &found), TEND_OK);
    assert_false(found);

    char long_email[400];
    memset(long_email, 'a', sizeof long_email - 1);
    long_email[sizeof long_email - 1] = '\0';
    assert_int_equal(store_team_user_get(s, long_email, &got, &found), TEND_ERR_LIMIT);
    assert_non_null(strstr(store_last_error(s), "email"));

    struct store_team_user b = person("bob@example.com", "viewer");
    assert_int_equal(store_team_user_add(s, &b), TEND_OK);
    struct user_list list = {0};
    assert_int_equal(store_team_users_each(s, on_user, &list), TEND_OK);
    assert_int_equal(list.n, 2);
    assert_string_equal(list.l[0].email, "ann@example.com");
    assert_string_equal(list.l[1].email, "bob@example.com");
    store_close(s);
}

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void a_one_time_link_is_used_once(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    assert_int_equal(store_invite_add(s, HASH_A, "Ann@example.com", 10000, "admin@x", 1000),
                     TEND_OK);
    assert_int_equal(store_invite_add(s, HASH_B, "bob@example.com", 5000, "admin@x", 1000),
                     TEND_OK);
    char email[STORE_EMAIL_MAX_BYTES + 1] = "";
    bool found = false;
    assert_int_equal(store_invite_peek(s, HASH_A, 2000, email, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(store_invite_take(s, HASH_A, 2000, email, &found), TEND_OK);
    assert_true(found);
    assert_string_equal(email, "ann@example.com");
    assert_int_equal(store_invite_take(s, HASH_A, 2001, email, &found), TEND_OK);
    assert_false(found);
    assert_int_equal(store_invite_peek(s, HASH_A, 2001, email, &found), TEND_OK);
    assert_false(found);
    /* expired */
    assert_int_equal(store_invite_take(s, HASH_B, 5000, email, &found), TEND_OK);
    assert_false(found);
    /* unknown, malformed */
    assert_int_equal(store_invite_take(s, "cc", 1, email, &found), TEND_OK);
    assert_false(found);
    assert_int_equal(store_invite_add(s, "short", "x@y", 10, "a", 1), TEND_ERR_LIMIT);
    store_close(s);
}

struct taker {
    const char *path;
    bool found;
    enum tend_err e;
};

static void *take_link(void *arg) {
    struct taker *t = arg;
    struct store *s = open_path(t->path);
    char email[STORE_EMAIL_MAX_BYTES + 1];
    t->e = store_invite_take(s, HASH_A, 2000, email, &t->found);
    store_close(s);
    return NULL;
}

static void two_connections_using_a_link_at_once_one_wins(void **state) {
    (void)state;
    char path[300];
    for (int round = 0; round < 5; round++) {
        struct store *s = fresh(path, sizeof path);
        assert_int_equal(store_invite_add(s, HASH_A, "a@x", 10000, "admin@x", 1000), TEND_OK);
        store_close(s);
        struct taker t[2] = {{.path = path}, {.path = path}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&th[i], NULL, take_link, &t[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        int wins = 0;
        for (int i = 0; i < 2; i++) {
            /* SQLite may answer BUSY to the loser: a refusal, never a second win. */
            assert_true(t[i].e == TEND_OK || t[i].e == TEND_ERR_BUSY || t[i].e == TEND_ERR_DB);
            wins += t[i].e == TEND_OK && t[i].found;
        }
        assert_int_equal(wins, 1);
    }
}

struct page {
    int n;
    int64_t ids[16];
    char actions[16][32];
};

static void on_entry(void *arg, const struct store_audit *a) {
    struct page *p = arg;
    if (p->n < 16) {
        p->ids[p->n] = a->id;
        snprintf(p->actions[p->n], sizeof p->actions[p->n], "%s", a->action);
    }
    p->n++;
}

static void the_audit_log_pages_newest_first_and_rolls_back_with_its_change(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    for (int i = 0; i < 5; i++) {
        char action[32];
        snprintf(action, sizeof action, "test.%d", i);
        cJSON *after = cJSON_CreateObject();
        cJSON_AddNumberToObject(after, "i", i);
        assert_int_equal(audit_record(s, 1000 + i, "ann@x", action, "thing:1", NULL, after),
                         TEND_OK);
        cJSON_Delete(after);
    }
    int64_t n = 0;
    assert_int_equal(store_audit_count(s, &n), TEND_OK);
    assert_int_equal(n, 5);
    struct page p = {0};
    assert_int_equal(store_audit_page(s, 0, 2, on_entry, &p), TEND_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.actions[0], "test.4");
    assert_string_equal(p.actions[1], "test.3");
    struct page q = {0};
    assert_int_equal(store_audit_page(s, p.ids[1], 10, on_entry, &q), TEND_OK);
    assert_int_equal(q.n, 3);
    assert_string_equal(q.actions[0], "test.2");
    assert_string_equal(q.actions[2], "test.0");

    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(audit_record(s, 2000, "ann@x", "test.rolled", "thing:1", NULL, NULL), TEND_OK);
    store_rollback(s);
    assert_int_equal(store_audit_count(s, &n), TEND_OK);
    assert_int_equal(n, 5);

    char big[STORE_AUDIT_TEXT_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(audit_record(s, 1, big, "a", "t", NULL, NULL), TEND_ERR_LIMIT);
    assert_non_null(strstr(store_last_error(s), "audit actor"));
    store_close(s);

    if (strcmp(test_db_backend(), "sqlite") == 0) {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_not_equal(sqlite3_exec(db, "UPDATE audit_log SET actor = 'x'", NULL, NULL, NULL),
                             SQLITE_OK);
        assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
        assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit_log", NULL, NULL, NULL),
                             SQLITE_OK);
        sqlite3_close(db);
    }
}

static void a_cta_action_is_audited_with_before_and_after(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    int64_t acc = 0;
    bool created;
    assert_int_equal(store_account_ensure(s, "acme", 1000, &acc, &created), TEND_OK);
    struct store_cta c = {.account_id = acc,
                          .rule = "r",
                          .subject = "",
                          .type = "risk",
                          .priority = CTA_MEDIUM,
                          .status = CTA_OPEN,
                          .owner = "ann@x",
                          .title = "T",
                          .reason = "R",
                          .evidence = "{}",
                          .opened_day = 20000,
                          .due_day = 20005,
                          .updated_ms = 1};
    int64_t id = 0;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_cta_insert(s, &c, &id), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);

    struct cta_act a = {.verb = CTA_ACT_ASSIGN, .owner = "bob@x", .by = "lead@x"};
    char msg[200];
    assert_int_equal(eval_cta_act(s, id, &a, msg, sizeof msg), TEND_OK);
    struct page p = {0};
    assert_int_equal(store_audit_page(s, 0, 5, on_entry, &p), TEND_OK);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.actions[0], "cta.assign");

    struct audit_one one = {0};
    assert_int_equal(store_audit_page(s, 0, 1, on_one, &one), TEND_OK);
    assert_string_equal(one.actor, "lead@x");
    char want[32];
    snprintf(want, sizeof want, "cta:%lld", (long long)id);
    assert_string_equal(one.target, want);
    assert_non_null(strstr(one.before, "\"owner\":\"ann@x\""));
    assert_non_null(strstr(one.after, "\"owner\":\"bob@x\""));

    /* A refused action writes nothing. */
    struct cta_act bad = {.verb = CTA_ACT_ASSIGN, .owner = "", .by = "lead@x"};
    assert_int_equal(eval_cta_act(s, id, &bad, msg, sizeof msg), TEND_ERR_USAGE);
    int64_t n = 0;
    assert_int_equal(store_audit_count(s, &n), TEND_OK);
    assert_int_equal(n, 1);
    store_close(s);
}

static void on_token(void *arg, const struct store_token *t) {
    struct user_list *l = arg; /* counts only */
    (void)t;
    l->n++;
}

static struct store_token token(const char *name, char fill) {
    struct store_token t = {.created_ms = 1000};
    memset(t.sha256, fill, 64);
    t.sha256[64] = '\0';
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.scope, sizeof t.scope, "read");
    snprintf(t.created_by, sizeof t.created_by, "admin@x");
    return t;
}

static void tokens_are_added_found_and_revoked(void **state) {
    (void)state;
    char path[300];
    struct store *s = fresh(path, sizeof path);
    struct store_token a = token("grafana", 'a'), b = token("grafana", 'b'), c = token("ci", 'a');
    assert_int_equal(store_token_add(s, &a), TEND_OK);
    assert_int_equal(store_token_add(s, &b), TEND_ERR_CONFLICT); /* the name */
    assert_int_equal(store_token_add(s, &c), TEND_ERR_CONFLICT); /* the hash */
    struct store_token got;
    bool found = false;
    assert_int_equal(store_token_find(s, a.sha256, &got, &found), TEND_OK);
    assert_true(found);
    assert_string_equal(got.name, "grafana");
    assert_string_equal(got.scope, "read");
    assert_int_equal(got.revoked_ms, 0);
    assert_int_equal(store_token_revoke(s, "grafana", 5000), TEND_OK);
    assert_int_equal(store_token_find(s, a.sha256, &got, &found), TEND_OK);
    assert_false(found);
    assert_int_equal(store_token_revoke(s, "grafana", 6000), TEND_ERR_NOTFOUND);
    struct store_token d = token("other", 'd');
    assert_int_equal(store_token_add(s, &d), TEND_OK);
    struct user_list n = {0};
    assert_int_equal(store_tokens_each(s, on_token, &n), TEND_OK);
    assert_int_equal(n.n, 2);
    assert_int_equal(store_token_find(s, "short", &got, &found), TEND_OK);
    assert_false(found);
    store_close(s);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-store-team-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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
        cmocka_unit_test(people_are_added_once_and_changed_field_by_field),
        cmocka_unit_test(a_one_time_link_is_used_once),
        cmocka_unit_test(two_connections_using_a_link_at_once_one_wins),
        cmocka_unit_test(the_audit_log_pages_newest_first_and_rolls_back_with_its_change),
        cmocka_unit_test(a_cta_action_is_audited_with_before_and_after),
        cmocka_unit_test(tokens_are_added_found_and_revoked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
