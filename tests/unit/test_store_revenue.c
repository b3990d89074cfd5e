/* test_store_revenue.c: store_revenue_each on either backend (test_db.h;
 * tests/integration/store_pg.sh runs it on PostgreSQL): the facts the
 * revenue analysis reads, ingested through the real pipeline.
 *
 * - group calls that set mrr (a number, or a number written as text) are
 *   read with their value; a group call without mrr, or with mrr null, is
 *   not;
 * - Subscription Changed with mrr_after, mrr_before (from the stored
 *   properties, also when written as text) and reason; outcomes with arr
 *   (or none) and reason;
 * - a Subscription Changed quarantined (no account yet) is read once its
 *   user joins an account;
 * - the account's segment, plan and owner; order by account, then time;
 *   nothing at or after before_ms;
 * - store_account_costs_each: tickets opened and outreach sent in the
 *   window, per account (the CTAs opened are counted in
 *   tests/integration/retention_oracle.sh, after a real evaluation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/vocab.h"
#include "ingest/ingest.h"
#include "ingest/segment.h"
#include "store/store.h"
#include "test_db.h"
#include "util/datetime.h"
#include "util/mem.h"

#define RECEIVED_MS 1735689600000LL /* 2025-01-01 */

static char dir[256];

static struct store *open_db(const char *name) {
    char path[320], err[STORE_ERR_BYTES];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    unlink(path);
    struct store *s;
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open: %s", err);
    return s;
}

static void ingest_all(struct store *s, const char *const *lines, size_t n) {
    struct ingest *ig = ingest_new(s);
    assert_int_equal(ingest_begin(ig), TEND_OK);
    for (size_t i = 0; i < n; i++) {
        cJSON *tree = cJSON_Parse(lines[i]);
        assert_non_null(tree);
        struct seg_msg msg;
        char err[SEG_ERR_BYTES] = "";
        if (segment_parse_msg(tree, NULL, RECEIVED_MS, lines[i], strlen(lines[i]), &msg, err))
            fail_msg("rejected %s: %s", lines[i], err);
        enum ingest_outcome o;
        assert_int_equal(ingest_message(ig, &msg, &o), TEND_OK);
        cJSON_Delete(tree);
    }
    if (ingest_commit(ig) != TEND_OK)
        fail_msg("commit: %s", store_last_error(s));
    ingest_free(ig);
}

struct row {
    char account[16], segment[16], plan[16], owner[32], reason[32];
    int kind;
    int64_t ts_ms;
    bool has_num, has_before;
    double num, before;
};
struct rows {
    struct row v[32];
    size_t n;
};

static void copy(char *to, size_t n, const char *from) {
    snprintf(to, n, "%s", from ? from : "-");
}

static void on_fact(void *arg, const struct store_revenue_fact *f) {
    struct rows *r = arg;
    assert_true(r->n < 32);
    struct row *x = &r->v[r->n++];
    copy(x->account, sizeof x->account, f->external_id);
    copy(x->segment, sizeof x->segment, f->segment);
    copy(x->plan, sizeof x->plan, f->plan);
    copy(x->owner, sizeof x->owner, f->owner);
    copy(x->reason, sizeof x->reason, f->reason);
    x->kind = f->kind;
    x->ts_ms = f->ts_ms;
    x->has_num = f->has_num;
    x->num = f->num;
    x->has_before = f->has_before;
    x->before = f->mrr_before;
}

static int64_t at(const char *iso) {
    int64_t ms;
    assert_true(dt_parse_instant(iso, strlen(iso), &ms));
    return ms;
}

static void test_revenue_facts_read_back(void **state) {
    (void)state;
    static const char *const lines[] = {
        "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":"
        "\"2024-03-01T10:00:00Z\",\"traits\":{\"mrr\":100,\"plan\":\"growth\",\"segment\":\"smb\","
        "\"csm_email\":\"dana@x.example\"}}",
        "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":"
        "\"2024-03-05T10:00:00Z\",\"traits\":{\"seats\":4}}",
        "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":"
        "\"2024-03-06T10:00:00Z\",\"traits\":{\"mrr\":null}}",
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription Changed\",\"context\":"
        "{\"groupId\":\"acme\"},\"timestamp\":\"2024-03-10T09:00:00Z\",\"properties\":"
        "{\"mrr_before\":\"100.25\",\"mrr_after\":149.5,\"reason\":\"seats added\"}}",
        "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":"
        "\"2024-03-10T11:00:00Z\",\"traits\":{\"mrr\":\"149.50\"}}",
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Account Renewed\",\"context\":"
        "{\"groupId\":\"acme\"},\"timestamp\":\"2024-04-01T09:00:00Z\"}",
        "{\"type\":\"track\",\"userId\":\"u2\",\"event\":\"Account Churned\",\"context\":"
        "{\"groupId\":\"beta\"},\"timestamp\":\"2024-04-02T09:00:00Z\",\"properties\":"
        "{\"arr\":2400,\"reason\":\"budget cuts\"}}",
        /* no account yet: quarantined, then attached by the identify */
        "{\"type\":\"track\",\"userId\":\"u3\",\"event\":\"Subscription Changed\",\"timestamp\":"
        "\"2024-04-03T09:00:00Z\",\"properties\":{\"mrr_before\":50,\"mrr_after\":0}}",
        "{\"type\":\"identify\",\"userId\":\"u3\",\"timestamp\":\"2024-04-04T09:00:00Z\","
        "\"traits\":{\"company_id\":\"beta\"}}",
        /* after the cut */
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription Changed\",\"context\":"
        "{\"groupId\":\"acme\"},\"timestamp\":\"2024-05-01T00:00:00Z\",\"properties\":"
        "{\"mrr_before\":149.5,\"mrr_after\":99}}",
    };
    struct store *s = open_db("revenue");
    ingest_all(s, lines, sizeof lines / sizeof *lines);
    struct rows r = {0};
    assert_int_equal(store_revenue_each(s, at("2024-05-01T00:00:00Z"), on_fact, &r), TEND_OK);
    assert_int_equal(r.n, 6);
    /* acme: the group with mrr 100, the change, the group with "149.50", the renewal */
    assert_string_equal(r.v[0].account, "acme");
    assert_int_equal(r.v[0].kind, EV_GROUP);
    assert_true(r.v[0].has_num && r.v[0].num == 100);
    assert_string_equal(r.v[0].segment, "smb");
    assert_string_equal(r.v[0].plan, "growth");
    assert_string_equal(r.v[0].owner, "dana@x.example");
    assert_int_equal(r.v[1].kind, EV_SUB_CHANGED);
    assert_int_equal(r.v[1].ts_ms, at("2024-03-10T09:00:00Z"));
    assert_true(r.v[1].has_num && r.v[1].num == 149.5);
    assert_true(r.v[1].has_before && r.v[1].before == 100.25);
    assert_string_equal(r.v[1].reason, "seats added");
    assert_int_equal(r.v[2].kind, EV_GROUP);
    assert_true(r.v[2].has_num && r.v[2].num == 149.5);
    assert_false(r.v[2].has_before);
    assert_string_equal(r.v[2].reason, "-");
    assert_int_equal(r.v[3].kind, EV_RENEWED);
    assert_false(r.v[3].has_num);
    /* beta: the churn, then the attached change */
    assert_string_equal(r.v[4].account, "beta");
    assert_int_equal(r.v[4].kind, EV_CHURNED);
    assert_true(r.v[4].has_num && r.v[4].num == 2400);
    assert_string_equal(r.v[4].reason, "budget cuts");
    assert_string_equal(r.v[4].segment, "-");
    assert_int_equal(r.v[5].kind, EV_SUB_CHANGED);
    assert_true(r.v[5].num == 0 && r.v[5].before == 50);
    assert_string_equal(r.v[5].reason, "-");
    /* the cut one is there past the cut */
    struct rows all = {0};
    assert_int_equal(store_revenue_each(s, INT64_MAX, on_fact, &all), TEND_OK);
    assert_int_equal(all.n, 7);
    assert_true(all.v[4].kind == EV_SUB_CHANGED && all.v[4].num == 99);
    store_close(s);
}

struct cost_rows {
    struct store_account_costs v[8];
    size_t n;
};

static void on_costs(void *arg, const struct store_account_costs *c) {
    struct cost_rows *r = arg;
    assert_true(r->n < 8);
    r->v[r->n++] = *c;
}

static void test_costs_count_tickets_and_outreach_in_the_window(void **state) {
    (void)state;
    static const char *const lines[] = {
        "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":"
        "\"2024-03-01T10:00:00Z\",\"traits\":{\"mrr\":100}}",
        "{\"type\":\"group\",\"userId\":\"u2\",\"groupId\":\"beta\",\"timestamp\":"
        "\"2024-03-01T10:00:00Z\",\"traits\":{\"mrr\":100}}",
        /* before the window */
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Opened\",\"context\":"
        "{\"groupId\":\"acme\"},\"timestamp\":\"2024-03-31T23:59:59Z\",\"properties\":"
        "{\"ticket_id\":1}}",
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Opened\",\"context\":"
        "{\"groupId\":\"acme\"},\"timestamp\":\"2024-04-01T00:00:00Z\",\"properties\":"
        "{\"ticket_id\":2}}",
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Closed\",\"context\":"
        "{\"groupId\":\"acme\"},\"timestamp\":\"2024-04-02T00:00:00Z\",\"properties\":"
        "{\"ticket_id\":2}}",
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Opened\",\"context\":"
        "{\"groupId\":\"acme\"},\"timestamp\":\"2024-04-20T00:00:00Z\",\"properties\":"
        "{\"ticket_id\":3}}",
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Outreach Sent\",\"context\":"
        "{\"groupId\":\"acme\"},\"timestamp\":\"2024-04-05T00:00:00Z\"}",
        "{\"type\":\"track\",\"userId\":\"u2\",\"event\":\"Outreach Sent\",\"context\":"
        "{\"groupId\":\"beta\"},\"timestamp\":\"2024-04-06T00:00:00Z\"}",
        "{\"type\":\"track\",\"userId\":\"u2\",\"event\":\"Outreach Replied\",\"context\":"
        "{\"groupId\":\"beta\"},\"timestamp\":\"2024-04-07T00:00:00Z\"}",
        /* after the window */
        "{\"type\":\"track\",\"userId\":\"u2\",\"event\":\"Outreach Sent\",\"context\":"
        "{\"groupId\":\"beta\"},\"timestamp\":\"2024-05-01T00:00:00Z\"}",
    };
    struct store *s = open_db("costs");
    ingest_all(s, lines, sizeof lines / sizeof *lines);
    struct cost_rows r = {0};
    assert_int_equal(store_account_costs_each(s, at("2024-04-01T00:00:00Z"),
                                              at("2024-05-01T00:00:00Z"), on_costs, &r),
                     TEND_OK);
    assert_int_equal(r.n, 2);
    assert_true(r.v[0].account_id < r.v[1].account_id);
    assert_int_equal(r.v[0].tickets, 2); /* acme: 2 and 3; 1 is before, closing is no ticket */
    assert_int_equal(r.v[0].outreach, 1);
    assert_int_equal(r.v[0].ctas, 0);
    assert_int_equal(r.v[1].tickets, 0);
    assert_int_equal(r.v[1].outreach, 1); /* beta: a reply is not outreach */
    store_close(s);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-revenue-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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
        cmocka_unit_test(test_revenue_facts_read_back),
        cmocka_unit_test(test_costs_count_tickets_and_outreach_in_the_window),
    };
    return cmocka_run_group_tests_name("store_revenue", tests, setup, teardown);
}
