/* test_escalate.c: the escalation planner of core/escalate (docs/delivery.md,
 * Escalation): business hours across a weekend, a Friday-evening CTA,
 * high priority on wall-clock hours, overdue by D days, each level once,
 * an action before the deadline preventing it, DST changes (a fake zone
 * and glib's Europe/Berlin and America/New_York), local day edges, and the
 * loader's refusals with the path. */
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/escalate.h"
#include "util/datetime.h"
#include "util/yaml.h"

#define H 3600000LL

/* An instant from "YYYY-MM-DDTHH:MM:SSZ" (or with an offset). */
static int64_t at(const char *s) {
    int64_t ms = 0;
    assert_true(dt_parse_instant(s, strlen(s), &ms));
    return ms;
}

static int32_t day_of(const char *s) {
    int32_t d = 0;
    assert_true(dt_parse_date(s, strlen(s), &d));
    return d;
}

/* A fixed offset. */
static int32_t fixed(void *arg, int64_t ms) {
    (void)ms;
    return *(int32_t *)arg;
}

/* glib's zone (arg: a GTimeZone). */
static int32_t glib_offset(void *arg, int64_t ms) {
    GTimeZone *tz = arg;
    int iv = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, ms / 1000);
    return iv < 0 ? 0 : g_time_zone_get_offset(tz, iv);
}

static struct esc_config on(void) {
    struct esc_config c;
    esc_config_default(&c);
    c.enabled = true;
    return c;
}

static struct esc_cta cta(enum cta_priority p, const char *open, const char *due) {
    int64_t o = at(open);
    struct esc_cta x = {.id = 1,
                        .priority = p,
                        .opened_day = dt_day_of_ms(o),
                        .due_day = day_of(due),
                        .open_ms = o};
    return x;
}

/* The deadline of level l (the first instant esc_plan gives it), searched
 * hour by hour then minute by minute from from_ms; -1 when none within
 * 20 days. */
static int64_t first_due(const struct esc_config *c, const struct esc_zone *z,
                         const struct esc_cta *x, enum esc_level l, int64_t from_ms) {
    struct esc_due d[2];
    for (int64_t t = from_ms; t < from_ms + 20 * 24 * H; t += 60000) {
        int n = esc_plan(c, z, x, t, d);
        for (int i = 0; i < n; i++)
            if (d[i].level == l)
                return d[i].deadline_ms;
    }
    return -1;
}

static void business_hours_across_a_weekend(void **state) {
    (void)state;
    struct esc_config c = on();
    struct esc_zone utc = {0};
    /* Thursday 2026-12-03 15:00Z: 2 h left that day, 8 Friday, 6 Monday. */
    int64_t from = at("2026-12-03T15:00:00Z");
    assert_int_equal(esc_business_add(&c, &utc, from, 16), at("2026-12-07T15:00:00Z"));
    /* Exactly the end of a day's hours is within it. */
    assert_int_equal(esc_business_add(&c, &utc, from, 2), at("2026-12-03T17:00:00Z"));
    /* Zero hours: the first business instant at or after. */
    assert_int_equal(esc_business_add(&c, &utc, at("2026-12-05T10:00:00Z"), 0),
                     at("2026-12-07T09:00:00Z"));
    assert_int_equal(esc_business_add(&c, &utc, at("2026-12-07T10:00:00Z"), 0),
                     at("2026-12-07T10:00:00Z"));
    /* A holiday (Monday) is skipped. */
    int32_t hol = day_of("2026-12-07");
    c.holidays = &hol;
    c.n_holidays = 1;
    assert_int_equal(esc_business_add(&c, &utc, from, 16), at("2026-12-08T15:00:00Z"));
    c.holidays = NULL;
    c.n_holidays = 0;
}

static void friday_evening_waits_for_monday(void **state) {
    (void)state;
    struct esc_config c = on();
    int32_t off = 3600; /* a CET-like fixed zone */
    struct esc_zone z = {fixed, &off};
    /* Friday 2026-12-04 19:30 local (18:30Z), medium: 16 business hours are
     * Monday and Tuesday: 17:00 local on Tuesday. */
    struct esc_cta x = cta(CTA_MEDIUM, "2026-12-04T18:30:00Z", "2026-12-10");
    struct esc_due d[2];
    assert_int_equal(esc_plan(&c, &z, &x, at("2026-12-07T08:00:00Z"), d), 0);
    int64_t due = first_due(&c, &z, &x, ESC_UNACTED, at("2026-12-04T18:30:00Z"));
    assert_int_equal(due, at("2026-12-08T16:00:00Z"));
    assert_int_equal(esc_plan(&c, &z, &x, due, d), 1);
    assert_int_equal(d[0].level, ESC_UNACTED);
    assert_int_equal(d[0].from, CTA_MEDIUM);
    assert_int_equal(d[0].to, CTA_HIGH);
    assert_non_null(strstr(d[0].reason, "16 business hours"));
    /* Not the second before. */
    assert_int_equal(esc_plan(&c, &z, &x, due - 1, d), 0);
}

static void high_counts_wall_clock_hours(void **state) {
    (void)state;
    struct esc_config c = on();
    struct esc_zone utc = {0};
    /* Friday evening, high: 4 hours later, on Friday night. */
    struct esc_cta x = cta(CTA_HIGH, "2026-12-04T19:00:00Z", "2026-12-07");
    struct esc_due d[2];
    assert_int_equal(esc_plan(&c, &utc, &x, at("2026-12-04T22:59:59Z"), d), 0);
    assert_int_equal(esc_plan(&c, &utc, &x, at("2026-12-04T23:00:00Z"), d), 1);
    assert_int_equal(d[0].from, CTA_HIGH);
    assert_int_equal(d[0].to, CTA_HIGH); /* nothing above high */
    assert_non_null(strstr(d[0].reason, "not acted on for 4 hours"));
    /* The same CTA on business hours waits for Monday. */
    c.prio[CTA_HIGH].wall_clock = false;
    assert_int_equal(esc_plan(&c, &utc, &x, at("2026-12-06T23:00:00Z"), d), 0);
    assert_int_equal(first_due(&c, &utc, &x, ESC_UNACTED, at("2026-12-04T19:00:00Z")),
                     at("2026-12-07T13:00:00Z"));
}

static void overdue_by_days(void **state) {
    (void)state;
    struct esc_config c = on();
    struct esc_zone utc = {0};
    c.prio[CTA_MEDIUM].unacted_hours = -1; /* overdue only */
    /* Medium, due Thursday 2026-12-03, 2 business days: Friday's and
     * Monday's hours: Monday 17:00. */
    struct esc_cta x = cta(CTA_MEDIUM, "2026-12-01T10:00:00Z", "2026-12-03");
    assert_int_equal(first_due(&c, &utc, &x, ESC_OVERDUE, at("2026-12-03T00:00:00Z")),
                     at("2026-12-07T17:00:00Z"));
    struct esc_due d[2];
    assert_int_equal(esc_plan(&c, &utc, &x, at("2026-12-07T17:00:00Z"), d), 1);
    assert_int_equal(d[0].level, ESC_OVERDUE);
    assert_non_null(strstr(d[0].reason, "overdue by 2 business days (due 2026-12-03)"));
    /* High, 1 wall-clock day after the due date ended: Saturday 00:00. */
    x.priority = CTA_HIGH;
    x.first_act_ms = at("2026-12-01T11:00:00Z"); /* acted on: level 1 is out */
    assert_int_equal(first_due(&c, &utc, &x, ESC_OVERDUE, at("2026-12-03T00:00:00Z")),
                     at("2026-12-05T00:00:00Z"));
    /* 0 days: as soon as the due date is over (business: the next
     * business morning). */
    x.priority = CTA_LOW;
    c.prio[CTA_LOW].overdue_days = 0;
    assert_int_equal(first_due(&c, &utc, &x, ESC_OVERDUE, at("2026-12-03T00:00:00Z")),
                     at("2026-12-04T09:00:00Z"));
    /* Off (-1): never. */
    c.prio[CTA_LOW].overdue_days = -1;
    assert_int_equal(first_due(&c, &utc, &x, ESC_OVERDUE, at("2026-12-03T00:00:00Z")), -1);
}

static void each_level_once(void **state) {
    (void)state;
    struct esc_config c = on();
    struct esc_zone utc = {0};
    /* Long past both deadlines: both at once, the second starting from the
     * first's raised priority. */
    struct esc_cta x = cta(CTA_LOW, "2026-11-02T10:00:00Z", "2026-11-04");
    c.prio[CTA_LOW].unacted_hours = 8;
    struct esc_due d[2];
    int64_t now = at("2026-12-01T12:00:00Z");
    assert_int_equal(esc_plan(&c, &utc, &x, now, d), 2);
    assert_int_equal(d[0].level, ESC_UNACTED);
    assert_int_equal(d[0].from, CTA_LOW);
    assert_int_equal(d[0].to, CTA_MEDIUM);
    assert_int_equal(d[1].level, ESC_OVERDUE);
    assert_int_equal(d[1].from, CTA_MEDIUM);
    assert_int_equal(d[1].to, CTA_HIGH);
    /* Once done, never again, whatever the time. */
    x.levels_done = 1u << ESC_UNACTED;
    assert_int_equal(esc_plan(&c, &utc, &x, now, d), 1);
    assert_int_equal(d[0].level, ESC_OVERDUE);
    x.levels_done |= 1u << ESC_OVERDUE;
    assert_int_equal(esc_plan(&c, &utc, &x, now + 400 * 24 * H, d), 0);
    /* Off: nothing. */
    x.levels_done = 0;
    c.enabled = false;
    assert_int_equal(esc_plan(&c, &utc, &x, now, d), 0);
}

static void an_action_before_the_deadline_prevents_it(void **state) {
    (void)state;
    struct esc_config c = on();
    struct esc_zone utc = {0};
    struct esc_cta x = cta(CTA_MEDIUM, "2026-12-01T10:00:00Z", "2026-12-20");
    struct esc_due d[2];
    int64_t deadline = first_due(&c, &utc, &x, ESC_UNACTED, at("2026-12-01T10:00:00Z"));
    assert_int_equal(deadline, at("2026-12-03T10:00:00Z"));
    x.first_act_ms = deadline - 1; /* a snooze, a note, an assignment a second before */
    assert_int_equal(esc_plan(&c, &utc, &x, deadline + H, d), 0);
    /* An action after now (a replay as of an earlier time) does not count. */
    x.first_act_ms = deadline + 2 * H;
    assert_int_equal(esc_plan(&c, &utc, &x, deadline + H, d), 1);
}

static void dst_changes(void **state) {
    (void)state;
    struct esc_config c = on();
    GTimeZone *berlin = g_time_zone_new_identifier("Europe/Berlin");
    assert_non_null(berlin);
    struct esc_zone z = {glib_offset, berlin};
    /* Spring forward (2026-03-29 02:00 -> 03:00, Sunday): a CTA opened on
     * Friday 16:00 local (15:00Z, CET) with 16 business hours: 1 h Friday,
     * 8 Monday (CEST now: 07:00Z-15:00Z), 7 Tuesday: 16:00 CEST = 14:00Z. */
    struct esc_cta x = cta(CTA_MEDIUM, "2026-03-27T15:00:00Z", "2026-04-10");
    assert_int_equal(first_due(&c, &z, &x, ESC_UNACTED, at("2026-03-27T15:00:00Z")),
                     at("2026-03-31T14:00:00Z"));
    /* Local midnight after a due date on the change's day. */
    assert_int_equal(esc_local_instant(&z, day_of("2026-03-30"), 0), at("2026-03-29T22:00:00Z"));
    /* A local time the change skips: 02:30 reads as 03:30 CEST (01:30Z). */
    assert_int_equal(esc_local_instant(&z, day_of("2026-03-29"), 150), at("2026-03-29T01:30:00Z"));
    /* Fall back (2026-10-25 03:00 -> 02:00): 02:30 happens twice; the
     * earlier (CEST, 00:30Z). */
    assert_int_equal(esc_local_instant(&z, day_of("2026-10-25"), 150), at("2026-10-25T00:30:00Z"));
    /* High on the wall clock over the fall-back night: 4 real hours. */
    struct esc_cta y = cta(CTA_HIGH, "2026-10-24T23:00:00Z", "2026-10-30");
    assert_int_equal(first_due(&c, &z, &y, ESC_UNACTED, at("2026-10-24T23:00:00Z")),
                     at("2026-10-25T03:00:00Z"));
    /* Overdue on the wall clock, due the day before the fall back: the
     * local midnight after due+1 day, a 25-hour day later. */
    y.first_act_ms = at("2026-10-24T23:30:00Z");
    y.due_day = day_of("2026-10-24");
    assert_int_equal(first_due(&c, &z, &y, ESC_OVERDUE, at("2026-10-24T23:00:00Z")),
                     at("2026-10-25T23:00:00Z"));
    g_time_zone_unref(berlin);
}

static void timezone_at_day_edges(void **state) {
    (void)state;
    struct esc_config c = on();
    GTimeZone *ny = g_time_zone_new_identifier("America/New_York");
    assert_non_null(ny);
    struct esc_zone z = {glib_offset, ny};
    /* Saturday 2026-12-05 02:00Z is still Friday 21:00 in New York: local
     * Friday evening, so the weekend follows; the business clock starts on
     * Monday 09:00 EST (14:00Z). 0 business hours land there. */
    assert_int_equal(esc_local_day(&z, at("2026-12-05T02:00:00Z")), day_of("2026-12-04"));
    assert_int_equal(esc_business_add(&c, &z, at("2026-12-05T02:00:00Z"), 0),
                     at("2026-12-07T14:00:00Z"));
    /* Monday 2026-12-07 04:30Z is Sunday 23:30 local: not yet a work day. */
    assert_int_equal(esc_business_add(&c, &z, at("2026-12-07T04:30:00Z"), 1),
                     at("2026-12-07T15:00:00Z"));
    /* Friday 16:59 local: 1 business minute, then Monday. */
    assert_int_equal(esc_business_add(&c, &z, at("2026-12-04T21:59:00Z"), 2.0 / 60),
                     at("2026-12-07T14:01:00Z"));
    /* Overdue at day edges: due Friday 2026-12-04; 0 days at medium: the
     * Monday morning (local), not Saturday 00:00Z. */
    c.prio[CTA_MEDIUM].overdue_days = 0;
    c.prio[CTA_MEDIUM].unacted_hours = -1;
    struct esc_cta x = cta(CTA_MEDIUM, "2026-12-01T15:00:00Z", "2026-12-04");
    assert_int_equal(first_due(&c, &z, &x, ESC_OVERDUE, at("2026-12-04T00:00:00Z")),
                     at("2026-12-07T14:00:00Z"));
    g_time_zone_unref(ny);
}

static void a_replayed_open_counts_from_its_day_end(void **state) {
    (void)state;
    struct esc_config c = on();
    struct esc_zone utc = {0};
    /* Opened by an evaluation of 2026-12-01 run a week later: its history
     * says 2026-12-08; it counts from the end of 2026-12-01. */
    struct esc_cta x = cta(CTA_HIGH, "2026-12-08T10:00:00Z", "2026-12-20");
    x.opened_day = day_of("2026-12-01");
    struct esc_due d[2];
    assert_int_equal(esc_plan(&c, &utc, &x, at("2026-12-02T04:00:00Z"), d), 1);
    assert_int_equal(d[0].deadline_ms, at("2026-12-02T04:00:00Z"));
}

static enum tend_err load(const char *yaml, struct esc_config *c, char *err) {
    cJSON *root = NULL;
    char yerr[YAML_ERR_BYTES];
    assert_int_equal(yaml_load_string(yaml, strlen(yaml), "t.yaml", &root, yerr), TEND_OK);
    enum tend_err e = esc_config_load(cJSON_GetObjectItemCaseSensitive(root, "escalation"), c, err);
    cJSON_Delete(root);
    return e;
}

static void loader(void **state) {
    (void)state;
    struct esc_config c;
    char err[ESC_ERR_BYTES];
    assert_int_equal(load("x: 1\n", &c, err), TEND_OK);
    assert_false(c.enabled);
    assert_int_equal(load("escalation:\n"
                          "  medium: {unacted_hours: 8, overdue_days: 1, clock: wall}\n"
                          "  low: {unacted_hours: false}\n"
                          "  business_hours: {start: \"08:30\", end: \"18:00\", days: [mon, "
                          "tue, sat], holidays: [\"2026-12-25\", \"2026-12-24\"]}\n"
                          "  managers: {alice@example.com: bob@example.com}\n"
                          "  contact: lead@example.com\n",
                          &c, err),
                     TEND_OK);
    assert_true(c.enabled);
    assert_true(c.prio[CTA_MEDIUM].wall_clock);
    assert_true(c.prio[CTA_MEDIUM].unacted_hours == 8);
    assert_true(c.prio[CTA_LOW].unacted_hours < 0);
    assert_int_equal(c.start_minute, 8 * 60 + 30);
    assert_true(c.days[5] && !c.days[4]);
    assert_int_equal(c.n_holidays, 2);
    assert_true(c.holidays[0] < c.holidays[1]);
    assert_string_equal(esc_manager_of(&c, "alice@example.com"), "bob@example.com");
    assert_string_equal(esc_manager_of(&c, "carol@example.com"), "lead@example.com");
    esc_config_release(&c);

    static const struct {
        const char *yaml, *error;
    } bad[] = {
        {"escalation: {medium: {hours: 3}}\n", "escalation.medium: unknown setting \"hours\""},
        {"escalation: {mediun: {}}\n", "escalation: unknown setting \"mediun\""},
        {"escalation: {high: {unacted_hours: -2}}\n", "escalation.high.unacted_hours: must be"},
        {"escalation: {low: {overdue_days: 1.5}}\n",
         "escalation.low.overdue_days: must be a whole"},
        {"escalation: {high: {clock: lunar}}\n", "escalation.high.clock: must be wall or business"},
        {"escalation: {business_hours: {start: \"9\"}}\n", "escalation.business_hours.start: must"},
        {"escalation: {business_hours: {start: \"18:00\", end: \"09:00\"}}\n",
         "escalation.business_hours.end: must be after start"},
        {"escalation: {business_hours: {days: [mon, fry]}}\n",
         "escalation.business_hours.days[1]: must be"},
        {"escalation: {business_hours: {holidays: [\"2026-02-30\"]}}\n",
         "escalation.business_hours.holidays[0]: must be a date"},
        {"escalation: {managers: {a@x: \"\"}}\n", "escalation.managers.a@x: must be text"},
        {"escalation: {contact: 3}\n", "escalation.contact: must be text"},
        {"escalation: {enabled: yes please}\n", "escalation.enabled: must be true or false"},
        {"escalation: [1]\n", "escalation: must be a mapping"},
        {"escalation: {max_per_pass: 0}\n", "escalation.max_per_pass: must be a number from 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(load(bad[i].yaml, &c, err), TEND_ERR_INVALID);
        if (!strstr(err, bad[i].error))
            fail_msg("%s: got \"%s\", want \"%s\"", bad[i].yaml, err, bad[i].error);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(business_hours_across_a_weekend),
        cmocka_unit_test(friday_evening_waits_for_monday),
        cmocka_unit_test(high_counts_wall_clock_hours),
        cmocka_unit_test(overdue_by_days),
        cmocka_unit_test(each_level_once),
        cmocka_unit_test(an_action_before_the_deadline_prevents_it),
        cmocka_unit_test(dst_changes),
        cmocka_unit_test(timezone_at_day_edges),
        cmocka_unit_test(a_replayed_open_counts_from_its_day_end),
        cmocka_unit_test(loader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
