/* test_store_segments.c: segments in the store, on either backend
 * (test_db.h; tests/integration/store_pg.sh runs it on PostgreSQL).
 *
 * - a day's groups replace the day's (a group gone is gone), read back
 *   whole, by kind, by name and by range; the latest day;
 * - a run's parts: a part stored again replaces itself; taken, they sum;
 *   forgotten, they are gone;
 * - several nodes: a day evaluated as buckets (eval_ctas_bucket, then
 *   eval_segments_finish by the node that completes the run, as
 *   server/sched.c does) stores the same groups, sum for sum, as the full
 *   evaluation of one node (counts exactly; the sums of scores, ARR and
 *   NPS to 10 digits: floating-point addition in another order), and
 *   writes them once;
 * - a segment's CTA (account STORE_SEGMENTS_ACCOUNT, no account row) is
 *   listed, read and watched like any other, its account "segment:NAME". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/health.h"
#include "core/rules.h"
#include "eval/ctas.h"
#include "eval/eval.h"
#include "eval/segments.h"
#include "ingest/ingest.h"
#include "ingest/segment.h"
#include "store/store.h"
#include "test_db.h"
#include "util/datetime.h"
#include "util/mem.h"

#define FIRST_DAY   19783 /* 2024-03-01 */
#define DAYS        30
#define DAY_MS      86400000LL
#define RECEIVED_MS ((int64_t)(FIRST_DAY + DAYS + 10) * DAY_MS)
#define ACCOUNTS    24
#define MSG_BYTES   512

static char dir[256];
static struct health_config hc;
static struct rules_config rc;

static struct store *open_db(const char *name) {
    char path[320], err[STORE_ERR_BYTES];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    unlink(path);
    struct store *s;
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open: %s", err);
    return s;
}

static struct seg_sums sums(int64_t k) {
    return (struct seg_sums){.accounts = k,
                             .arr_accounts = k,
                             .arr = 1000.5 * (double)k,
                             .scored = k,
                             .health_sum = 70.25 * (double)k,
                             .red = 1,
                             .yellow = 0,
                             .green = k - 1,
                             .active_users = 3 * k,
                             .logins_7d = 11 * k,
                             .feature_events_7d = 17 * k,
                             .nps_accounts = 1,
                             .nps_sum = -33.3333,
                             .tickets_30d = k + 2,
                             .tickets_open = 1,
                             .open_ctas = 2};
}

/* ---- rows read back ----------------------------------------------------------- */

struct seen {
    char text[1 << 16];
    size_t len;
    int n;
};

static int on_row(void *arg, const struct store_segment_row *r) {
    struct seen *x = arg;
    const struct seg_sums *s = &r->s;
    int w = snprintf(x->text + x->len, sizeof x->text - x->len,
                     "%d|%s|%d|%lld %lld %.10g %lld %.10g %lld %lld %lld %lld %lld %lld %lld "
                     "%.10g %lld %lld %lld\n",
                     r->kind, r->name, r->day, (long long)s->accounts, (long long)s->arr_accounts,
                     s->arr, (long long)s->scored, s->health_sum, (long long)s->red,
                     (long long)s->yellow, (long long)s->green, (long long)s->active_users,
                     (long long)s->logins_7d, (long long)s->feature_events_7d,
                     (long long)s->nps_accounts, s->nps_sum, (long long)s->tickets_30d,
                     (long long)s->tickets_open, (long long)s->open_ctas);
    assert_true(w > 0 && (size_t)w < sizeof x->text - x->len);
    x->len += (size_t)w;
    x->n++;
    return 0;
}

static void test_days_put_replace_read(void **state) {
    (void)state;
    struct store *s = open_db("days");
    struct store_segment_row rows[] = {
        {.kind = SEG_BY_SEGMENT, .name = "enterprise", .s = sums(4)},
        {.kind = SEG_BY_SEGMENT, .name = "smb", .s = sums(9)},
        {.kind = SEG_BY_PLAN, .name = "pro", .s = sums(13)},
    };
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_segment_days_put(s, FIRST_DAY, rows, 3), TEND_OK);
    assert_int_equal(store_segment_days_put(s, FIRST_DAY + 1, rows, 3), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    static struct seen all;
    assert_int_equal(store_segment_days_each(s, -1, NULL, 0, INT32_MAX, on_row, &all), TEND_OK);
    assert_int_equal(all.n, 6);
    assert_non_null(strstr(all.text, "0|enterprise|19783|4 4 4002 4 281 1 0 3 12 44 68 1 "));
    /* The second day's groups without smb: smb's row of that day goes. */
    struct store_segment_row fewer[] = {rows[0], rows[2]};
    fewer[0].s.accounts = 5;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_segment_days_put(s, FIRST_DAY + 1, fewer, 2), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    static struct seen seg;
    assert_int_equal(
        store_segment_days_each(s, SEG_BY_SEGMENT, NULL, FIRST_DAY, FIRST_DAY + 1, on_row, &seg),
        TEND_OK);
    assert_int_equal(seg.n, 3); /* enterprise x2, smb of the first day */
    assert_non_null(strstr(seg.text, "0|enterprise|19784|5 "));
    assert_null(strstr(seg.text, "0|smb|19784|"));
    /* Ordered by kind, name, day. */
    assert_true(strstr(seg.text, "0|enterprise|19783") < strstr(seg.text, "0|enterprise|19784"));
    assert_true(strstr(seg.text, "0|enterprise|19784") < strstr(seg.text, "0|smb|19783"));
    static struct seen one;
    assert_int_equal(
        store_segment_days_each(s, SEG_BY_PLAN, "pro", FIRST_DAY + 1, FIRST_DAY + 1, on_row, &one),
        TEND_OK);
    assert_int_equal(one.n, 1);
    int32_t day;
    bool found;
    assert_int_equal(store_segment_latest_day(s, INT32_MAX, &day, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(day, FIRST_DAY + 1);
    assert_int_equal(store_segment_latest_day(s, FIRST_DAY, &day, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(day, FIRST_DAY);
    assert_int_equal(store_segment_latest_day(s, FIRST_DAY - 1, &day, &found), TEND_OK);
    assert_false(found);
    store_close(s);
}

/* ---- a run's parts ------------------------------------------------------------ */

static void on_part(void *arg, const struct store_segment_row *r) {
    seg_agg_add_sums(arg, (enum seg_kind)r->kind, r->name, &r->s);
}

static void test_parts_sum_and_forget(void **state) {
    (void)state;
    struct store *s = open_db("parts");
    struct store_segment_row a[] = {{.kind = SEG_BY_SEGMENT, .name = "smb", .s = sums(2)},
                                    {.kind = SEG_BY_OWNER, .name = "x@e.com", .s = sums(2)}};
    struct store_segment_row b[] = {{.kind = SEG_BY_SEGMENT, .name = "smb", .s = sums(7)}};
    int64_t due = 1700000000000LL;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_segment_part_put(s, due, 0, a, 2), TEND_OK);
    assert_int_equal(store_segment_part_put(s, due, 1, a, 2), TEND_OK);
    /* Bucket 1 evaluated again (its claim ran out): its part is replaced. */
    assert_int_equal(store_segment_part_put(s, due, 1, b, 1), TEND_OK);
    assert_int_equal(store_segment_part_put(s, due + 1, 0, b, 1), TEND_OK); /* another run */
    assert_int_equal(store_commit(s), TEND_OK);
    struct seg_agg *agg = seg_agg_new();
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_segment_parts_take(s, due, true, on_part, agg), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    size_t n;
    const struct seg_group *g = seg_agg_groups(agg, &n);
    assert_int_equal(n, 2);
    assert_string_equal(g[0].name, "smb");
    assert_int_equal(g[0].s.accounts, 9);
    assert_int_equal(g[0].s.logins_7d, 99);
    assert_true(g[0].s.arr == 1000.5 * 2 + 1000.5 * 7);
    assert_int_equal(g[1].kind, SEG_BY_OWNER);
    assert_int_equal(g[1].s.accounts, 2);
    seg_agg_free(agg);
    agg = seg_agg_new();
    assert_int_equal(store_segment_parts_take(s, due, false, on_part, agg), TEND_OK);
    seg_agg_groups(agg, &n);
    assert_int_equal(n, 0); /* forgotten */
    assert_int_equal(store_segment_parts_take(s, due + 1, false, on_part, agg), TEND_OK);
    seg_agg_groups(agg, &n);
    assert_int_equal(n, 1); /* the other run's part stays */
    seg_agg_free(agg);
    store_close(s);
}

/* ---- buckets against one full evaluation --------------------------------------- */

struct msgs {
    char (*v)[MSG_BYTES];
    size_t n, cap;
};

static void add(struct msgs *m, const char *fmt, ...) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 4096;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->v[m->n], MSG_BYTES, fmt, ap);
    va_end(ap);
    m->n++;
}

static void track(struct msgs *m, int a, int user, int day, int64_t ms, const char *event,
                  const char *props) {
    char ts[32];
    dt_format_instant((int64_t)(FIRST_DAY + day) * DAY_MS + ms, ts);
    add(m,
        "{\"type\":\"track\",\"userId\":\"u%d-%d\",\"event\":\"%s\",\"timestamp\":\"%s\","
        "\"messageId\":\"m%d-%zu\",\"context\":{\"groupId\":\"acc%03d\"},\"properties\":{%s}}",
        a, user, event, ts, a, m->n, a, props);
}

/* A history: segments, plans, owners; logins, features, NPS, tickets. */
static void history(struct msgs *m) {
    static const char *const segs[] = {"enterprise", "mid-market", "smb"};
    uint64_t r = 0x9e3779b97f4a7c15ULL;
    for (int a = 0; a < ACCOUNTS; a++) {
        char ts[32];
        dt_format_instant((int64_t)FIRST_DAY * DAY_MS + 3600000, ts);
        for (int u = 0; u < 3; u++)
            add(m,
                "{\"type\":\"group\",\"userId\":\"u%d-%d\",\"groupId\":\"acc%03d\",\"timestamp\":"
                "\"%s\",\"messageId\":\"g%d-%d\",\"traits\":{\"name\":\"A %d\",\"mrr\":%d,"
                "\"seats\":5,\"plan\":\"%s\",\"segment\":\"%s\",\"csm_email\":\"c%d@e.com\"}}",
                a, u, a, ts, a, u, a, 100 * (1 + a % 7), a % 2 ? "pro" : "team", segs[a % 3],
                a % 4);
        for (int d = 0; d < DAYS; d++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            for (int k = (int)(r % 4); k > 0; k--)
                track(m, a, k % 3, d, 36000000 + k * 1000, "Signed In", "\"x\":1");
            for (int k = (int)(r / 7 % 5); k > 0; k--)
                track(m, a, k % 3, d, 40000000 + k * 1000, "Report Viewed", "\"x\":1");
            if (r % 9 == 0) {
                char props[64];
                snprintf(props, sizeof props, "\"score\":%d", (int)(r / 11 % 11));
                track(m, a, 1, d, 50000000, "NPS Survey Responded", props);
            }
            if (r % 6 == 0) {
                char props[64];
                snprintf(props, sizeof props, "\"ticket_id\":\"t%d-%d\"", a, d);
                track(m, a, 0, d, 52000000, "Ticket Opened", props);
            }
        }
    }
}

static struct store *ingested(const char *name, const struct msgs *m) {
    struct store *s = open_db(name);
    struct ingest *ig = ingest_new(s);
    for (size_t i = 0; i < m->n; i++) {
        if (i % 1000 == 0)
            assert_int_equal(ingest_begin(ig), TEND_OK);
        cJSON *tree = cJSON_Parse(m->v[i]);
        assert_non_null(tree);
        struct seg_msg msg;
        char err[SEG_ERR_BYTES] = "";
        if (segment_parse_msg(tree, NULL, RECEIVED_MS, m->v[i], strlen(m->v[i]), &msg, err))
            fail_msg("rejected %s: %s", m->v[i], err);
        enum ingest_outcome o;
        assert_int_equal(ingest_message(ig, &msg, &o), TEND_OK);
        cJSON_Delete(tree);
        if (i % 1000 == 999 || i == m->n - 1)
            assert_int_equal(ingest_commit(ig), TEND_OK);
    }
    ingest_free(ig);
    int days;
    assert_int_equal(eval_refresh_rollups(s, &days), TEND_OK);
    return s;
}

static void test_buckets_equal_one_full_evaluation(void **state) {
    (void)state;
    struct msgs m = {0};
    history(&m);
    struct store *one = ingested("one", &m), *nodes = ingested("nodes", &m);
    free(m.v);
    struct eval_summary sum;
    int64_t max_id = 0, *ids;
    size_t n;
    assert_int_equal(store_account_ids_between(nodes, 1, INT64_MAX / 2, &ids, &n), TEND_OK);
    assert_int_equal(n, ACCOUNTS);
    max_id = ids[n - 1];
    free(ids);
    for (int32_t d = FIRST_DAY + 10; d < FIRST_DAY + DAYS; d++) {
        assert_int_equal(eval_ctas_day(one, &hc, &rc, NULL, d, NULL, NULL, &sum), TEND_OK);
        /* Three buckets, the last first: the order of completion is any. */
        int64_t due = (int64_t)(d + 1) * DAY_MS - 1, per = max_id / 3 + 1;
        for (int b = 2; b >= 0; b--) {
            assert_int_equal(store_account_ids_between(nodes, 1 + b * per, (b + 1) * per, &ids, &n),
                             TEND_OK);
            assert_int_equal(
                eval_ctas_bucket(nodes, &hc, &rc, NULL, d, ids, n, due, b, NULL, NULL, &sum),
                TEND_OK);
            free(ids);
        }
        /* The node whose bucket completes the run, in its transaction. */
        struct eval_summary seg = {0};
        assert_int_equal(store_begin(nodes, NULL), TEND_OK);
        assert_int_equal(eval_segments_finish(nodes, &rc, NULL, d, due, due, NULL, NULL, &seg),
                         TEND_OK);
        assert_int_equal(store_eval_run_put(nodes, (int64_t)(d + 1) * DAY_MS, 1, 0, 0, 0, 0),
                         TEND_OK);
        assert_int_equal(store_commit(nodes), TEND_OK);
    }
    static struct seen a, b;
    assert_int_equal(store_segment_days_each(one, -1, NULL, 0, INT32_MAX, on_row, &a), TEND_OK);
    assert_int_equal(store_segment_days_each(nodes, -1, NULL, 0, INT32_MAX, on_row, &b), TEND_OK);
    /* 20 days x (3 segments + 2 plans + 4 owners) */
    assert_int_equal(a.n, 20 * 9);
    if (strcmp(a.text, b.text) != 0) { /* the first line that differs, whole */
        size_t i = 0, start = 0;
        while (a.text[i] && a.text[i] == b.text[i])
            if (a.text[i++] == '\n')
                start = i;
        fail_msg("full: %.200s\nbuckets: %.200s", a.text + start, b.text + start);
    }
    /* Every account counted once a day in each kind. */
    assert_non_null(strstr(a.text, "|enterprise|19802|8 "));
    print_message("    %d group-days equal, summed from 3 buckets a day\n", a.n);
    /* The parts are gone once summed. */
    struct seg_agg *agg = seg_agg_new();
    assert_int_equal(store_segment_parts_take(nodes, (int64_t)(FIRST_DAY + 15) * DAY_MS - 1, false,
                                              on_part, agg),
                     TEND_OK);
    seg_agg_groups(agg, &n);
    assert_int_equal(n, 0);
    seg_agg_free(agg);
    store_close(one);
    store_close(nodes);
}

/* ---- a segment's CTA ------------------------------------------------------------- */

struct found_cta {
    int n;
    char account[64], name[64], subject[64];
    int64_t id;
};

static int on_cta(void *arg, const struct store_cta *c) {
    struct found_cta *f = arg;
    f->n++;
    snprintf(f->account, sizeof f->account, "%s", c->account ? c->account : "(null)");
    snprintf(f->name, sizeof f->name, "%s", c->account_name ? c->account_name : "(null)");
    snprintf(f->subject, sizeof f->subject, "%s", c->subject);
    f->id = c->id;
    return 0;
}

static void on_got(void *arg, const struct store_cta *c) {
    on_cta(arg, c);
}

static void on_watched(void *arg, const struct store_cta *c) {
    on_cta(arg, c);
}

static void test_segment_cta_has_no_account_row(void **state) {
    (void)state;
    struct store *s = open_db("ctas");
    struct store_cta c = {.account_id = STORE_SEGMENTS_ACCOUNT,
                          .rule = "segment_shift",
                          .subject = "smb",
                          .type = "risk",
                          .priority = CTA_MEDIUM,
                          .status = CTA_OPEN,
                          .owner = "lead@e.com",
                          .title = "Segment smb: health mean down",
                          .reason = "r",
                          .evidence = "{}",
                          .opened_day = FIRST_DAY,
                          .due_day = FIRST_DAY + 10,
                          .updated_ms = 1};
    int64_t id, id2;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_cta_insert(s, &c, &id), TEND_OK);
    /* One live CTA per key: a second open of the segment's key is refused. */
    assert_int_not_equal(store_cta_insert(s, &c, &id2), TEND_OK);
    store_rollback(s);
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_cta_insert(s, &c, &id), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    struct found_cta f = {0};
    struct store_cta_filter all = {.status = "live"};
    assert_int_equal(store_ctas_each(s, &all, on_cta, &f), TEND_OK);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.account, "segment:smb");
    assert_string_equal(f.name, "Segment smb");
    struct found_cta g = {0};
    assert_int_equal(store_cta_get(s, id, on_got, &g), TEND_OK);
    assert_string_equal(g.account, "segment:smb");
    struct found_cta w = {0};
    int64_t zero[] = {STORE_SEGMENTS_ACCOUNT};
    struct store_span span = {.first = 0, .last = 0, .ids = zero, .n = 1};
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_ctas_lock(s, &span), TEND_OK);
    assert_int_equal(store_ctas_watched_each(s, &span, on_watched, &w), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.subject, "smb");
    store_close(s);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-segs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    health_config_default(&hc);
    rules_config_default(&rc);
    rc.budget_per_owner_week = 0; /* the budget's order is not the point here */
    return 0;
}

static int teardown(void **state) {
    (void)state;
    rules_config_release(&rc);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_put_replace_read),
        cmocka_unit_test(test_parts_sum_and_forget),
        cmocka_unit_test(test_buckets_equal_one_full_evaluation),
        cmocka_unit_test(test_segment_cta_has_no_account_row),
    };
    return cmocka_run_group_tests_name("store_segments", tests, setup, teardown);
}
