/* test_segments.c: core/segments.h, pure: the day's groups (kinds, "(none)",
 * the bounds), the metrics of sums, tend.yaml's segments:, and
 * segment_shift's decision on planted days: fires on a shift, silent under
 * the threshold, under the minimum size and without enough baseline, in
 * between by the clear margin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/segments.h"
#include "util/yaml.h"

static struct seg_account acct(const char *seg, const char *plan, const char *owner, double score,
                               int band) {
    return (struct seg_account){.segment = seg,
                                .plan = plan,
                                .owner = owner,
                                .has_arr = true,
                                .arr = 1200,
                                .has_score = score >= 0,
                                .score = score,
                                .band = band,
                                .active_users_30d = 4,
                                .logins_7d = 10,
                                .feature_events_7d = 20,
                                .has_nps = true,
                                .nps = 50,
                                .tickets_30d = 1,
                                .tickets_open = 1,
                                .open_ctas = 2};
}

static const struct seg_group *find(const struct seg_group *g, size_t n, enum seg_kind k,
                                    const char *name) {
    for (size_t i = 0; i < n; i++)
        if (g[i].kind == k && strcmp(g[i].name, name) == 0)
            return &g[i];
    return NULL;
}

static void test_groups(void **state) {
    (void)state;
    struct seg_agg *a = seg_agg_new();
    struct seg_account x = acct("smb", "pro", "c@e.com", 80, 3);
    seg_agg_add(a, &x);
    x = acct("smb", "team", "c@e.com", 30, 1);
    x.has_nps = false;
    seg_agg_add(a, &x);
    x = acct(NULL, "pro", "", -1, 0); /* no segment, no owner, no score */
    seg_agg_add(a, &x);
    size_t n;
    const struct seg_group *g = seg_agg_groups(a, &n);
    assert_int_equal(n, 2 + 2 + 2); /* smb, (none); pro, team; c@e.com, (none) */
    const struct seg_group *smb = find(g, n, SEG_BY_SEGMENT, "smb");
    assert_non_null(smb);
    assert_int_equal(smb->s.accounts, 2);
    assert_int_equal(smb->s.scored, 2);
    assert_int_equal(smb->s.red, 1);
    assert_int_equal(smb->s.green, 1);
    assert_int_equal(smb->s.nps_accounts, 1);
    assert_true(smb->s.arr == 2400);
    double v;
    assert_true(seg_metric(&smb->s, SEG_M_HEALTH_MEAN, &v));
    assert_true(v == 55);
    assert_true(seg_metric(&smb->s, SEG_M_LOGINS_PER_ACTIVE, &v));
    assert_true(v == 2.5);
    assert_true(seg_metric(&smb->s, SEG_M_RED_SHARE, &v));
    assert_true(v == 0.5);
    const struct seg_group *none = find(g, n, SEG_BY_SEGMENT, SEG_NONE);
    assert_non_null(none);
    assert_false(seg_metric(&none->s, SEG_M_HEALTH_MEAN, &v)); /* no scored account */
    assert_non_null(find(g, n, SEG_BY_OWNER, SEG_NONE));
    assert_int_equal(find(g, n, SEG_BY_PLAN, "pro")->s.accounts, 2);
    /* Ordered by kind, then name. */
    for (size_t i = 1; i < n; i++)
        assert_true(g[i - 1].kind < g[i].kind ||
                    (g[i - 1].kind == g[i].kind && strcmp(g[i - 1].name, g[i].name) < 0));
    seg_agg_free(a);
}

static void test_bounds(void **state) {
    (void)state;
    struct seg_agg *a = seg_agg_new();
    char name[SEG_NAME_BYTES + 8];
    for (int i = 0; i < SEG_MAX_GROUPS + 10; i++) {
        snprintf(name, sizeof name, "s%04d", i);
        struct seg_account x = acct(name, "p", "o", 50, 2);
        seg_agg_add(a, &x);
    }
    memset(name, 'x', SEG_NAME_BYTES);
    name[SEG_NAME_BYTES] = '\0';
    struct seg_account x = acct(name, "p", "o", 50, 2);
    seg_agg_add(a, &x);
    size_t n, segs = 0;
    const struct seg_group *g = seg_agg_groups(a, &n);
    for (size_t i = 0; i < n; i++)
        segs += g[i].kind == SEG_BY_SEGMENT;
    assert_int_equal(segs, SEG_MAX_GROUPS + 1); /* and (other) */
    const struct seg_group *other = find(g, n, SEG_BY_SEGMENT, SEG_OTHER);
    assert_non_null(other);
    assert_int_equal(other->s.accounts, 11); /* 10 beyond the limit, 1 name too long */
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (g[i].kind == SEG_BY_SEGMENT)
            total += g[i].s.accounts;
    assert_int_equal(total, SEG_MAX_GROUPS + 11); /* nothing lost */
    seg_agg_free(a);
}

static void test_config(void **state) {
    (void)state;
    static struct seg_config c;
    char err[SEG_ERR_BYTES];
    cJSON *root;
    char yerr[YAML_ERR_BYTES];
    const char *ok = "segments:\n  enterprise: {owner: ent@e.com}\n  smb: {owner: smb@e.com}\n";
    assert_int_equal(yaml_load_string(ok, strlen(ok), "t.yaml", &root, yerr), TEND_OK);
    assert_int_equal(seg_config_load(cJSON_GetObjectItem(root, "segments"), &c, err), TEND_OK);
    cJSON_Delete(root);
    assert_string_equal(seg_owner_of(&c, "smb", "d@e.com"), "smb@e.com");
    assert_string_equal(seg_owner_of(&c, "mid", "d@e.com"), "d@e.com");
    snprintf(c.cs_lead, sizeof c.cs_lead, "lead@e.com");
    assert_string_equal(seg_owner_of(&c, "mid", "d@e.com"), "lead@e.com");
    c.cs_lead[0] = '\0';
    assert_string_equal(seg_owner_of(&c, "mid", ""), "unassigned");
    const char *bad = "segments:\n  smb: {owner: a@e.com, ownr: b}\n";
    assert_int_equal(yaml_load_string(bad, strlen(bad), "t.yaml", &root, yerr), TEND_OK);
    assert_int_equal(seg_config_load(cJSON_GetObjectItem(root, "segments"), &c, err),
                     TEND_ERR_INVALID);
    assert_string_equal(err, "segments.smb.ownr: unknown setting (known: owner)");
    cJSON_Delete(root);
    const char *num = "segments:\n  smb: {owner: 5}\n";
    assert_int_equal(yaml_load_string(num, strlen(num), "t.yaml", &root, yerr), TEND_OK);
    assert_int_equal(seg_config_load(cJSON_GetObjectItem(root, "segments"), &c, err),
                     TEND_ERR_INVALID);
    assert_non_null(strstr(err, "segments.smb.owner: must be an email address"));
    cJSON_Delete(root);
}

/* ---- segment_shift ---------------------------------------------------------- */

#define D 20000

static const struct seg_shift_settings st = {.change = 0.2,
                                             .min_accounts = 10,
                                             .recent_days = 7,
                                             .baseline_days = 56,
                                             .nps_points = 15,
                                             .clear_margin = 0.05,
                                             .priority = CTA_MEDIUM};

/* 63 days of a segment of `accounts` accounts whose health mean is `before`
 * until the last 7 days and `after` in them. */
static size_t plant(struct seg_day *days, int64_t accounts, double before, double after,
                    int64_t tickets_before, int64_t tickets_after) {
    size_t n = 0;
    for (int32_t d = D - 62; d <= D; d++) {
        bool recent = d > D - 7;
        struct seg_sums s = {.accounts = accounts,
                             .scored = accounts,
                             .health_sum = (recent ? after : before) * (double)accounts,
                             .active_users = 5 * accounts,
                             .logins_7d = 20 * accounts,
                             .feature_events_7d = 40 * accounts,
                             .nps_accounts = accounts,
                             .nps_sum = 30.0 * (double)accounts,
                             .tickets_30d = recent ? tickets_after : tickets_before};
        days[n++] = (struct seg_day){.day = d, .s = s};
    }
    return n;
}

static void test_shift_fires_and_stays_silent(void **state) {
    (void)state;
    struct seg_day days[80];
    struct seg_shift_result r;
    size_t n = plant(days, 12, 70, 52, 6, 6); /* -25.7% */
    seg_shift_evaluate(&st, "smb", D, days, n, &r);
    assert_true(r.eligible);
    assert_true(r.fires);
    assert_int_equal(r.priority, CTA_MEDIUM);
    assert_string_equal(r.title, "Segment smb: health mean down");
    assert_non_null(strstr(r.reason, "health mean 52.00 over the last 7 days against 70.00"));
    assert_non_null(strstr(r.evidence, "\"health_mean\":52"));
    assert_non_null(strstr(r.evidence, "\"health_mean_baseline\":70"));
    /* A change under the threshold: 70 -> 57.4 is -18%; in between (over 15%). */
    n = plant(days, 12, 70, 57.4, 6, 6);
    seg_shift_evaluate(&st, "smb", D, days, n, &r);
    assert_false(r.fires);
    assert_true(r.between);
    n = plant(days, 12, 70, 63, 6, 6); /* -10%: clear */
    seg_shift_evaluate(&st, "smb", D, days, n, &r);
    assert_false(r.fires);
    assert_false(r.between);
    /* A small segment: 9 accounts, under min_accounts. */
    n = plant(days, 9, 70, 40, 6, 6);
    seg_shift_evaluate(&st, "tiny", D, days, n, &r);
    assert_false(r.eligible);
    assert_false(r.fires);
    /* A baseline of 27 days of 56 is not enough: the oldest 29 missing. */
    n = plant(days, 12, 70, 40, 6, 6);
    seg_shift_evaluate(&st, "new", D, days + 29, n - 29, &r);
    assert_int_equal(r.baseline_days_seen, 27);
    assert_false(r.eligible);
    seg_shift_evaluate(&st, "new", D, days + 28, n - 28, &r); /* 28: half, enough */
    assert_true(r.fires);
    /* No row today: the segment has no accounts left today. */
    seg_shift_evaluate(&st, "gone", D + 1, days, n, &r);
    assert_false(r.eligible);
}

static void test_shift_two_metrics_raise_priority(void **state) {
    (void)state;
    struct seg_day days[80];
    struct seg_shift_result r;
    /* Health down 25% and tickets up 100%: high. */
    size_t n = plant(days, 12, 70, 52, 6, 12);
    seg_shift_evaluate(&st, "smb", D, days, n, &r);
    assert_true(r.fires);
    assert_int_equal(r.priority, CTA_HIGH);
    assert_string_equal(r.title, "Segment smb: health mean down (and 1 more)");
    assert_non_null(strstr(r.reason, "tickets per account"));
    /* Tickets up alone, by 33% (under twice the threshold): medium. */
    n = plant(days, 12, 70, 70, 6, 8);
    seg_shift_evaluate(&st, "smb", D, days, n, &r);
    assert_true(r.fires);
    assert_int_equal(r.priority, CTA_MEDIUM);
    /* Health up: not a bad move, silent. */
    n = plant(days, 12, 50, 70, 6, 6);
    seg_shift_evaluate(&st, "smb", D, days, n, &r);
    assert_false(r.fires);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_shift_fires_and_stays_silent),
        cmocka_unit_test(test_shift_two_metrics_raise_priority),
    };
    return cmocka_run_group_tests_name("segments", tests, NULL, NULL);
}
