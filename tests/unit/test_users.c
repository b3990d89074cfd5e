/* test_users.c: core/users.c (roles, engagement, the champion) and the two
 * rules that read them and the account's NPS (champion_risk, nps_change in
 * core/rules.c), pure: no store, time passed in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/rules.h"
#include "core/users.h"
#include "core/vocab.h"
#include "util/datetime.h"

#define DAY DT_MS_PER_DAY
/* T: the end of day 20000 (2024-10-04); D = 20000. */
static const int64_t T = (int64_t)20001 * DAY;

static int64_t at(int days_before) { /* noon of day D - days_before */
    return T - (int64_t)days_before * DAY - DAY / 2;
}

static void roles_from_text_lists_and_anything_else(void **state) {
    (void)state;
    assert_int_equal(user_role_of_json("\"Champion\""), ROLE_CHAMPION);
    assert_int_equal(user_role_of_json("\" admin \""), ROLE_ADMIN);
    assert_int_equal(user_role_of_json("[\"billing\",\"admin\"]"), ROLE_ADMIN);
    assert_int_equal(user_role_of_json("\"ceo\""), ROLE_USER);
    assert_int_equal(user_role_of_json("\"\""), ROLE_NONE);
    assert_int_equal(user_role_of_json("42"), ROLE_NONE);
    assert_int_equal(user_role_of_json(NULL), ROLE_NONE);
    assert_string_equal(user_role_name(ROLE_BILLING), "billing");
}

static void engagement_counts_weeks_trend_features_nps_and_replies(void **state) {
    (void)state;
    struct users_acc a;
    users_init(&a, T);
    users_add_member(&a, 7, "ann@a.io", "Ann", ROLE_CHAMPION, 0, INT64_MAX, 0);
    users_add_member(&a, 3, "bob@a.io", NULL, ROLE_USER, 0, INT64_MAX, 0);
    users_add_member(&a, 9, "late@a.io", NULL, ROLE_USER, T, INT64_MAX, 0); /* not yet */
    assert_int_equal(a.n, 2);
    users_add_activity(&a, EV_LOGIN, 7, T - 1, 0);           /* week 0, day D */
    users_add_activity(&a, EV_LOGIN, 7, T - 7 * DAY, 0);     /* week 0: [T-7d, T) */
    users_add_activity(&a, EV_LOGIN, 7, T - 7 * DAY - 1, 0); /* week 1 */
    users_add_activity(&a, EV_LOGIN, 7, at(40), 0);          /* week 5 */
    users_add_activity(&a, EV_LOGIN, 7, at(83), 0);          /* week 11 */
    users_add_activity(&a, EV_LOGIN, 7, at(84), 0);          /* past the 12 weeks */
    users_add_activity(&a, EV_LOGIN, 7, T, 0);               /* at T: not before it */
    users_add_activity(&a, EV_FEATURE, 7, at(1), 11);
    users_add_activity(&a, EV_FEATURE, 7, at(2), 11);
    users_add_activity(&a, EV_FEATURE, 7, at(3), 12);
    users_add_activity(&a, EV_FEATURE, 7, at(31), 13); /* past 30 days */
    users_add_activity(&a, EV_LOGIN, 42, at(1), 0);    /* not a member */
    users_add_fact(&a, EV_NPS, 7, at(100), 9);
    users_add_fact(&a, EV_NPS, 7, at(10), 4);
    users_add_fact(&a, EV_OUTREACH_REPLIED, 7, at(89), 0);
    users_add_fact(&a, EV_OUTREACH_REPLIED, 7, at(91), 0);
    users_finish(&a);
    const struct user_engagement *u = &a.v[0];
    assert_int_equal(u->user_id, 7); /* the champion first */
    assert_true(u->member);
    assert_int_equal(u->weeks[0], 2);
    assert_int_equal(u->weeks[1], 1);
    assert_int_equal(u->weeks[5], 1);
    assert_int_equal(u->weeks[11], 1);
    assert_int_equal(u->logins_4w, 3);
    assert_int_equal(u->logins_prev_4w, 1);
    assert_int_equal(u->logins_30d, 3);
    assert_true(u->has_last_login);
    assert_int_equal(u->last_login_day, 20000);
    assert_int_equal(u->features_30d, 2);
    assert_true(u->has_nps);
    assert_true(u->nps == 4);
    assert_int_equal(u->replies_90d, 1);
    assert_int_equal(a.v[1].user_id, 3);
    assert_false(a.v[1].has_last_login);
    users_free(&a);
}

/* An account whose users have no role reaches users_finish with no array
 * (UBSan under MODE=asan: qsort and bsearch take no NULL). */
static void an_account_without_users_is_empty(void **state) {
    (void)state;
    struct users_acc a;
    users_init(&a, T);
    users_add_activity(&a, EV_LOGIN, 7, at(1), 0);
    users_add_logins(&a, 7, 19999, 2);
    users_add_fact(&a, EV_NPS, 7, at(1), 3);
    users_finish(&a);
    assert_int_equal(a.n, 0);
    users_free(&a);
}

static const struct champion_params P = {.quiet_days = 21, .drop_ratio = 0.3, .min_baseline = 8};

/* Logins of user every step days from days_before back to until_before. */
static void logins(struct users_acc *a, int64_t user, int from_before, int to_before, int step) {
    for (int d = from_before; d >= to_before; d -= step)
        users_add_activity(a, EV_LOGIN, user, at(d), 0);
}

static void the_champion_left_moved_went_quiet_or_dropped(void **state) {
    (void)state;
    struct champion_verdict v;
    struct users_acc a;
    /* Left: a former member marked champion, no member marked. */
    users_init(&a, T);
    users_add_member(&a, 1, "c@a", NULL, ROLE_CHAMPION, 0, at(3), 0);
    users_add_member(&a, 2, "adm@a", NULL, ROLE_ADMIN, 0, INT64_MAX, 0);
    logins(&a, 2, 50, 0, 1);
    users_finish(&a);
    champion_assess(&a, &P, &v);
    assert_int_equal(v.state, CHAMPION_REMOVED);
    assert_int_equal(v.who->user_id, 1);
    assert_int_equal(v.engaged_admins, 1);
    users_free(&a);
    /* Moved: a membership elsewhere from day -5, no login here since. */
    users_init(&a, T);
    users_add_member(&a, 1, "c@a", NULL, ROLE_CHAMPION, 0, INT64_MAX, at(5));
    logins(&a, 1, 50, 6, 1);
    users_finish(&a);
    champion_assess(&a, &P, &v);
    assert_int_equal(v.state, CHAMPION_MOVED);
    users_free(&a);
    /* ... but a login here since: fine. */
    users_init(&a, T);
    users_add_member(&a, 1, "c@a", NULL, ROLE_CHAMPION, 0, INT64_MAX, at(5));
    logins(&a, 1, 50, 0, 1);
    users_finish(&a);
    champion_assess(&a, &P, &v);
    assert_int_equal(v.state, CHAMPION_OK);
    users_free(&a);
    /* Quiet: 21 days since the last login (20 is not). */
    for (int last = 20; last <= 21; last++) {
        users_init(&a, T);
        users_add_member(&a, 1, "c@a", NULL, ROLE_CHAMPION, 0, INT64_MAX, 0);
        logins(&a, 1, 60, last, 5);
        users_add_activity(&a, EV_LOGIN, 1, at(last), 0);
        users_finish(&a);
        champion_assess(&a, &P, &v);
        assert_int_equal(v.state, last == 21 ? CHAMPION_QUIET : CHAMPION_OK);
        assert_int_equal(v.days_quiet, last);
        assert_int_equal(v.engaged_admins, last == 21 ? 0 : 1);
        users_free(&a);
    }
    /* Drop: 8 logins the 4 weeks before, 2 in the last 4 (0.25); 3 is not (0.375). */
    for (int recent = 2; recent <= 3; recent++) {
        users_init(&a, T);
        users_add_member(&a, 1, "c@a", NULL, ROLE_CHAMPION, 0, INT64_MAX, 0);
        logins(&a, 1, 55, 28, 4); /* days 55, 51, ..., 31: 7 */
        users_add_activity(&a, EV_LOGIN, 1, at(30), 0);
        for (int i = 0; i < recent; i++)
            users_add_activity(&a, EV_LOGIN, 1, at(2 + i), 0);
        users_finish(&a);
        assert_int_equal(a.v[0].logins_prev_4w, 8);
        champion_assess(&a, &P, &v);
        assert_int_equal(v.state, recent == 2 ? CHAMPION_DROP : CHAMPION_OK);
        users_free(&a);
    }
}

static void without_a_marked_champion_the_most_engaged_admin_stands_in(void **state) {
    (void)state;
    struct champion_verdict v;
    struct users_acc a;
    users_init(&a, T);
    users_add_member(&a, 1, "one@a", NULL, ROLE_ADMIN, 0, INT64_MAX, 0);
    users_add_member(&a, 2, "two@a", NULL, ROLE_ADMIN, 0, INT64_MAX, 0);
    users_add_member(&a, 3, "plain@a", NULL, ROLE_USER, 0, INT64_MAX, 0);
    logins(&a, 1, 40, 30, 2);
    logins(&a, 2, 40, 25, 1);
    logins(&a, 3, 10, 0, 1); /* a user with no role counts for nothing */
    users_finish(&a);
    champion_assess(&a, &P, &v);
    assert_int_equal(v.state, CHAMPION_QUIET);
    assert_true(v.fallback);
    assert_int_equal(v.who->user_id, 2);
    assert_int_equal(v.engaged_admins, 0);
    users_free(&a);
    /* Nobody with a role: nothing to watch. */
    users_init(&a, T);
    users_add_member(&a, 3, "plain@a", NULL, ROLE_USER, 0, INT64_MAX, 0);
    users_finish(&a);
    champion_assess(&a, &P, &v);
    assert_int_equal(v.state, CHAMPION_UNKNOWN);
    users_free(&a);
}

/* ---- the rules --------------------------------------------------------------- */

struct got {
    int n;
    struct rule_finding f;
    char evidence[1024];
};

static void on_finding(void *arg, const struct rule_finding *f) {
    struct got *g = arg;
    g->n++;
    g->f = *f;
    snprintf(g->evidence, sizeof g->evidence, "%s", f->evidence);
    g->f.evidence = g->evidence;
}

/* Runs only rule kind over in; returns how many findings. */
static int run_only(enum rule_builtin kind, struct rule_input *in, struct got *g) {
    struct rules_config c;
    rules_config_default(&c);
    for (int i = 0; i < c.n_rules; i++)
        c.rules[i].enabled = i == (int)kind;
    memset(g, 0, sizeof *g);
    rules_evaluate(&c, in, on_finding, NULL, g);
    return g->n;
}

static void champion_risk_is_high_when_no_admin_is_engaged(void **state) {
    (void)state;
    struct metrics m = {0};
    struct health_score h = {0};
    struct users_acc a;
    users_init(&a, T);
    users_add_member(&a, 1, "c@a", NULL, ROLE_CHAMPION, 0, INT64_MAX, 0);
    users_add_member(&a, 2, "adm@a", NULL, ROLE_ADMIN, 0, INT64_MAX, 0);
    logins(&a, 1, 60, 30, 3);
    logins(&a, 2, 60, 0, 1);
    users_finish(&a);
    struct rule_input in = {.t_ms = T, .day = 20000, .m = &m, .h = &h, .users = &a};
    struct got g;
    assert_int_equal(run_only(RULE_CHAMPION_RISK, &in, &g), 1);
    assert_string_equal(g.f.subject, "champion:quiet");
    assert_int_equal(g.f.priority, CTA_MEDIUM);
    assert_string_equal(g.f.title, "Champion going quiet");
    assert_non_null(strstr(g.f.reason, "champion c@a has not signed in for 30 days"));
    assert_non_null(strstr(g.evidence, "\"engaged_admins\":1"));
    users_free(&a);
    users_init(&a, T);
    users_add_member(&a, 1, "c@a", NULL, ROLE_CHAMPION, 0, INT64_MAX, 0);
    users_add_member(&a, 2, "adm@a", NULL, ROLE_ADMIN, 0, INT64_MAX, 0);
    logins(&a, 1, 60, 30, 3);
    logins(&a, 2, 60, 22, 1);
    users_finish(&a);
    assert_int_equal(run_only(RULE_CHAMPION_RISK, &in, &g), 1);
    assert_int_equal(g.f.priority, CTA_HIGH);
    assert_non_null(strstr(g.f.reason, "no admin or champion has signed in within 21 days"));
    users_free(&a);
    /* A champion with no login in the 12 weeks: the evidence says so in
     * words (its 16 characters overran a 16-byte buffer before: read past
     * it, ASan's stack-buffer-overflow in ev_quoted). */
    users_init(&a, T);
    users_add_member(&a, 1, "c@a", NULL, ROLE_CHAMPION, 0, INT64_MAX, 0);
    users_finish(&a);
    assert_int_equal(run_only(RULE_CHAMPION_RISK, &in, &g), 1);
    assert_non_null(strstr(g.evidence, "\"last_login\":\"none in 12 weeks\""));
    /* Not read: the rule says nothing. */
    in.users = NULL;
    assert_int_equal(run_only(RULE_CHAMPION_RISK, &in, &g), 0);
    users_free(&a);
}

static void nps_change_needs_the_points_and_the_answers(void **state) {
    (void)state;
    struct metrics m = {.has_nps = true, .nps = 10, .nps_responses_90d = 5};
    struct health_score h = {0};
    struct rule_input in = {.t_ms = T,
                            .day = 20000,
                            .m = &m,
                            .h = &h,
                            .has_nps_before = true,
                            .nps_before = 30,
                            .nps_answers_before = 5};
    struct got g;
    assert_int_equal(run_only(RULE_NPS_CHANGE, &in, &g), 1);
    assert_int_equal(g.f.type, CTA_RISK);
    assert_string_equal(g.f.title, "Account NPS fell");
    assert_non_null(strstr(g.f.reason, "NPS fell from 30 to 10 in 90 days"));
    in.nps_before = 29.9; /* 19.9 points */
    assert_int_equal(run_only(RULE_NPS_CHANGE, &in, &g), 0);
    in.nps_before = -10; /* rose 20 */
    assert_int_equal(run_only(RULE_NPS_CHANGE, &in, &g), 1);
    assert_int_equal(g.f.type, CTA_OPPORTUNITY);
    assert_int_equal(g.f.priority, CTA_LOW);
    m.nps_responses_90d = 4; /* too few answers now */
    assert_int_equal(run_only(RULE_NPS_CHANGE, &in, &g), 0);
    m.nps_responses_90d = 5;
    in.nps_answers_before = 4; /* too few then */
    assert_int_equal(run_only(RULE_NPS_CHANGE, &in, &g), 0);
    in.nps_answers_before = 5;
    in.has_nps_before = false;
    assert_int_equal(run_only(RULE_NPS_CHANGE, &in, &g), 0);
}

/* rules_facts: the NPS 90 days before, over each user's latest answer
 * before then, and the answers of the 90 days before then. */
static void the_nps_before_comes_from_each_users_latest_earlier_answer(void **state) {
    (void)state;
    struct rules_facts *f = rules_facts_new(T);
    struct metric_fact x = {.kind = EV_NPS, .has_num = true};
    struct {
        int64_t user;
        int days;
        double score;
    } answers[] = {{1, 200, 2}, {1, 100, 10}, {2, 150, 3}, {3, 185, 9}, {3, 10, 0}, {4, 5, 10}};
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        x.user_id = answers[i].user;
        x.ts_ms = at(answers[i].days);
        x.num = answers[i].score;
        rules_facts_add(f, &x);
    }
    struct rule_input in = {0};
    rules_facts_finish(f, &in);
    /* Before: user 1 at 10 (promoter), 2 at 3, 3 at 9: (2 - 1) / 3. */
    assert_true(in.has_nps_before);
    assert_true(in.nps_before > 33.3 && in.nps_before < 33.4);
    /* In the 90 days before then (days 90-179): user 1's 100 and user 2's 150. */
    assert_int_equal(in.nps_answers_before, 2);
    rules_facts_free(f);
}

/* A large account's memberships, in descending user order and each user
 * with two rows apart (any order is the store's to give): the users come out
 * merged (earliest join, member if any row is open, the first row's label),
 * and adding them costs O(rows log rows), not a sort per row (before: a
 * qsort of the whole array and a linear search per row; 60,000 rows took
 * minutes). The deadline (60 s) is for a broken case, not a speed. */
static void a_large_accounts_members_are_added_in_n_log_n(void **state) {
    (void)state;
    enum { USERS = 60000 };
    struct users_acc a;
    users_init(&a, T);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int64_t id = USERS; id >= 1; id--)
        users_add_member(&a, id, "first", NULL, ROLE_USER, at(50), at(40), 0);
    for (int64_t id = USERS; id >= 1; id--)
        users_add_member(&a, id, "second", NULL, ROLE_ADMIN, at(60), INT64_MAX, 0);
    for (int64_t id = 1; id <= USERS; id++)
        users_add_activity(&a, EV_LOGIN, id, at(1), 0);
    users_finish(&a);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("ok: %d users of %d membership rows added, merged and sorted in %.0f ms\n", USERS,
           2 * USERS, ms);
    assert_int_equal(a.n, USERS);
    for (size_t i = 0; i < a.n; i++) {
        assert_true(a.v[i].member);
        assert_string_equal(a.v[i].label, "first");
        assert_int_equal(a.v[i].role, ROLE_USER);
        assert_int_equal(a.v[i].joined_ms, at(60));
        assert_int_equal(a.v[i].logins_4w, 1);
    }
    users_free(&a);
    assert_true(ms < 60000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roles_from_text_lists_and_anything_else),
        cmocka_unit_test(engagement_counts_weeks_trend_features_nps_and_replies),
        cmocka_unit_test(an_account_without_users_is_empty),
        cmocka_unit_test(the_champion_left_moved_went_quiet_or_dropped),
        cmocka_unit_test(without_a_marked_champion_the_most_engaged_admin_stands_in),
        cmocka_unit_test(champion_risk_is_high_when_no_admin_is_engaged),
        cmocka_unit_test(nps_change_needs_the_points_and_the_answers),
        cmocka_unit_test(the_nps_before_comes_from_each_users_latest_earlier_answer),
        cmocka_unit_test(a_large_accounts_members_are_added_in_n_log_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
