/* test_eval.c: metrics as of T through the store's derived data (daily
 * activity rollups, activity windows, fact lifetimes) equal metrics from the
 * events alone, whatever order the events arrived in and whether or not the
 * derived data were brought up to date.
 *
 * A generated history of a dozen accounts (logins, feature events, NPS,
 * tickets that reopen, invoices, cards, outreach, renewals and churns, some on
 * exact midnights) is ingested into real SQLite stores in different orders and
 * in two instalments; the metrics of every account at midnights and at
 * instants inside days must be identical everywhere. The definitions
 * themselves are checked against hand-written cases and a pandas peer in the
 * integration tests; this checks that the fast paths never change a value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_db.h"
#include "eval/eval.h"
#include "ingest/ingest.h"
#include "ingest/segment.h"
#include "store/store.h"
#include "util/datetime.h"

#define ACCOUNTS    12
#define DAYS        80
#define MAX_MSGS    40000
#define MSG_BYTES   512
#define FIRST_DAY   19783 /* 2024-03-01 */
#define DAY_MS      86400000LL
#define RECEIVED_MS ((int64_t)(FIRST_DAY + DAYS + 10) * DAY_MS)

/* ---- a generated history -------------------------------------------------- */

static char (*msgs)[MSG_BYTES];
static size_t n_msgs;

static uint64_t rng = 42;

static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int below(int n) {
    return (int)(next() % (uint64_t)n);
}

/* A time on day (days since FIRST_DAY): now and then exactly midnight. */
static int64_t time_on(int day) {
    int64_t ms = (int64_t)(FIRST_DAY + day) * DAY_MS;
    return below(10) == 0 ? ms : ms + (int64_t)below(86400) * 1000 + below(1000);
}

/* Appends a message (generate() runs in the group setup: no cmocka asserts). */
static void add(const char *fmt, ...) {
    if (n_msgs >= MAX_MSGS)
        abort();
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msgs[n_msgs], MSG_BYTES, fmt, ap);
    va_end(ap);
    if (n <= 0 || n >= MSG_BYTES)
        abort();
    n_msgs++;
}

static void track(int a, int user, int64_t ms, const char *event, const char *props) {
    char ts[32];
    dt_format_instant(ms, ts);
    add("{\"type\":\"track\",\"userId\":\"u%d-%d\",\"event\":\"%s\",\"timestamp\":\"%s\","
        "\"messageId\":\"m%zu\",\"context\":{\"groupId\":\"acc%d\"},\"properties\":{%s}}",
        a, user, event, ts, n_msgs, a, props);
}

static void generate(void) {
    static const char *const features[] = {"Report Viewed", "Export", "Dashboard Built",
                                           "Alert Set", "Query Run"};
    char props[256], ts[32];
    n_msgs = 0;
    for (int a = 0; a < ACCOUNTS; a++) {
        int users = 2 + below(6), start = below(20);
        for (int u = 0; u < users; u++) {
            dt_format_instant(time_on(start), ts);
            add("{\"type\":\"group\",\"userId\":\"u%d-%d\",\"groupId\":\"acc%d\",\"timestamp\":"
                "\"%s\",\"messageId\":\"g%zu\",\"traits\":{\"mrr\":%d,\"seats\":%d,"
                "\"renewal_date\":\"2024-0%d-15\"}}",
                a, u, a, ts, n_msgs, 100 * (1 + below(9)), 1 + below(8), 5 + below(4));
        }
        int quiet_from = a % 4 == 0 ? 30 + below(30) : DAYS; /* some accounts fade */
        for (int d = start; d < DAYS; d++) {
            for (int k = below(d < quiet_from ? 6 : 1); k > 0; k--)
                track(a, below(users), time_on(d), "Signed In", "\"x\":1");
            for (int k = below(d < quiet_from ? 8 : 1); k > 0; k--) {
                snprintf(props, sizeof props, "\"product\":\"p%d\"", below(3));
                track(a, below(users), time_on(d), features[below(5)], props);
            }
            if (below(9) == 0) {
                snprintf(props, sizeof props, "\"score\":%d", below(11));
                track(a, below(users), time_on(d), "NPS Survey Responded", props);
            }
            if (below(6) == 0) {
                snprintf(props, sizeof props, "\"ticket_id\":\"t%d\"", below(5));
                track(a, 0, time_on(d), below(2) ? "Ticket Opened" : "Ticket Closed", props);
            }
            if (below(10) == 0) {
                char due[16];
                dt_format_date(FIRST_DAY + d + below(20) - 5, due);
                snprintf(props, sizeof props,
                         "\"invoice_id\":\"i%d\",\"amount\":%d.5,\"due_date\":\"%s\"", below(6),
                         below(900), due);
                track(a, 0, time_on(d), "Invoice Issued", props);
            }
            if (below(12) == 0) {
                snprintf(props, sizeof props, "\"invoice_id\":\"i%d\"", below(6));
                track(a, 0, time_on(d), "Invoice Paid", props);
            }
            if (below(25) == 0) {
                snprintf(props, sizeof props, "\"card_exp_month\":%d,\"card_exp_year\":2024",
                         1 + below(12));
                track(a, 0, time_on(d), "Payment Method Updated", props);
            }
            if (below(7) == 0)
                track(a, 0, time_on(d), below(3) ? "Outreach Sent" : "Outreach Replied",
                      "\"channel\":\"email\"");
            if (below(40) == 0)
                track(a, 0, time_on(d), below(2) ? "Account Churned" : "Account Renewed",
                      "\"arr\":1200");
        }
    }
}

/* ---- stores ----------------------------------------------------------------- */

static char dir[256];

static struct store *open_db(const char *name) {
    char path[320], err[STORE_ERR_BYTES];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    struct store *s;
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open: %s", err);
    return s;
}

/* Ingests messages idx[0..n) in that order, 500 to a transaction. */
static void ingest_order(struct store *s, const size_t *idx, size_t n) {
    struct ingest *ig = ingest_new(s);
    for (size_t i = 0; i < n; i++) {
        if (i % 500 == 0)
            assert_int_equal(ingest_begin(ig), TEND_OK);
        const char *json = msgs[idx[i]];
        cJSON *tree = cJSON_Parse(json);
        assert_non_null(tree);
        struct seg_msg m;
        char err[SEG_ERR_BYTES] = "";
        if (segment_parse_msg(tree, NULL, RECEIVED_MS, json, strlen(json), &m, err))
            fail_msg("rejected %s: %s", json, err);
        enum ingest_outcome o;
        assert_int_equal(ingest_message(ig, &m, &o), TEND_OK);
        cJSON_Delete(tree);
        if (i % 500 == 499 || i == n - 1)
            assert_int_equal(ingest_commit(ig), TEND_OK);
    }
    ingest_free(ig);
}

/* ---- metrics as text ---------------------------------------------------------- */

struct text {
    char *buf;
    size_t len, cap;
};

static int on_metrics(void *arg, int64_t id, const char *account, const struct metrics *m) {
    struct text *t = arg;
    char row[1024];
    int n = snprintf(
        row, sizeof row,
        "%s u%lld a%lld l%lld/%lld d%d:%lld f%lld/%lld/%lld n%d:%.6f/%lld t%lld/%lld "
        "o%lld/%.2f/%lld c%d:%lld r%d:%lld s%d:%lld q%lld y%d:%lld m%d:%.2f x%d\n",
        account, (long long)m->users, (long long)m->active_users_30d, (long long)m->logins_7d,
        (long long)m->logins_prev_28d, m->has_days_since_login, (long long)m->days_since_login,
        (long long)m->feature_events_7d, (long long)m->feature_events_prev_28d,
        (long long)m->features_used_30d, m->has_nps, m->nps, (long long)m->nps_responses_90d,
        (long long)m->tickets_open, (long long)m->tickets_30d, (long long)m->overdue_invoices,
        m->overdue_amount, (long long)m->max_days_overdue, m->has_card_days_left,
        (long long)m->card_days_left, m->has_renewal_days_left, (long long)m->renewal_days_left,
        m->has_seats, (long long)m->seats, (long long)m->outreach_unanswered,
        m->has_days_since_reply, (long long)m->days_since_reply, m->has_mrr, m->mrr, m->churned);
    (void)id;
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }
    memcpy(t->buf + t->len, row, (size_t)n + 1);
    t->len += (size_t)n;
    return 0;
}

/* Instants to evaluate at: midnights across the history and after it, and
 * times inside days (where window edges split days). */
static const int64_t at_ms[] = {
    (int64_t)(FIRST_DAY + 5) * DAY_MS,
    (int64_t)(FIRST_DAY + 36) * DAY_MS,
    (int64_t)(FIRST_DAY + 50) * DAY_MS,
    (int64_t)(FIRST_DAY + 64) * DAY_MS,
    (int64_t)(FIRST_DAY + DAYS) * DAY_MS,
    (int64_t)(FIRST_DAY + DAYS + 3) * DAY_MS,
    (int64_t)(FIRST_DAY + 41) * DAY_MS + 13 * 3600000 + 7 * 60000 + 11,
    (int64_t)(FIRST_DAY + DAYS - 1) * DAY_MS + 1,
};

/* Every account's metrics at every instant, as text (caller frees). */
static char *snapshot(struct store *s) {
    struct text t = {0};
    for (size_t i = 0; i < sizeof at_ms / sizeof at_ms[0]; i++) {
        char head[64];
        snprintf(head, sizeof head, "@%lld\n", (long long)at_ms[i]);
        on_metrics(&t, 0, head, &(struct metrics){0});
        if (eval_metrics(s, at_ms[i], NULL, on_metrics, &t) != TEND_OK)
            fail_msg("eval_metrics: %s", store_last_error(s));
    }
    return t.buf;
}

static void refresh(struct store *s) {
    int days;
    if (eval_refresh_rollups(s, &days) != TEND_OK)
        fail_msg("refresh: %s", store_last_error(s));
}

/* ---- tests -------------------------------------------------------------------- */

static size_t *order(int how) {
    size_t *idx = malloc(n_msgs * sizeof *idx);
    assert_non_null(idx);
    for (size_t i = 0; i < n_msgs; i++)
        idx[i] = how == 1 ? n_msgs - 1 - i : i;
    if (how == 2) {
        for (size_t i = n_msgs - 1; i > 0; i--) {
            size_t j = next() % (i + 1), x = idx[i];
            idx[i] = idx[j];
            idx[j] = x;
        }
    }
    return idx;
}

/* The rollups and windows give the metrics the events give, and a window as
 * of a midnight is read whole once refreshed. */
static void test_rollups_change_nothing(void **state) {
    (void)state;
    struct store *s = open_db("plain");
    size_t *idx = order(0);
    ingest_order(s, idx, n_msgs);
    char *from_events = snapshot(s); /* every day stale: events only */
    refresh(s);
    bool ready;
    assert_int_equal(store_activity_windows_ready(s, FIRST_DAY + 49, &ready), TEND_OK);
    assert_true(ready);
    char *from_rollups = snapshot(s);
    assert_string_equal(from_events, from_rollups);
    assert_non_null(strstr(from_events, "acc3 "));
    free(from_events);
    free(from_rollups);
    free(idx);
    store_close(s);
}

/* Facts and activity arriving in reverse or shuffled order, or late (after
 * the rollups of their days were built), give the same metrics. */
static void test_any_order_and_late(void **state) {
    (void)state;
    struct store *base = open_db("base");
    size_t *idx = order(0);
    ingest_order(base, idx, n_msgs);
    refresh(base);
    char *want = snapshot(base);
    free(idx);
    store_close(base);

    for (int how = 1; how <= 2; how++) {
        char name[16];
        snprintf(name, sizeof name, "order%d", how);
        struct store *s = open_db(name);
        idx = order(how);
        size_t first = how == 2 ? n_msgs * 7 / 10 : n_msgs;
        ingest_order(s, idx, first);
        refresh(s);
        if (first < n_msgs) {
            /* the rest arrive late, into days already rolled up */
            ingest_order(s, idx + first, n_msgs - first);
            char *stale = snapshot(s);
            assert_string_equal(want, stale);
            free(stale);
            refresh(s);
        }
        char *got = snapshot(s);
        assert_string_equal(want, got);
        free(got);
        free(idx);
        store_close(s);
    }
    free(want);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-eval-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    msgs = malloc(MAX_MSGS * sizeof *msgs);
    if (!msgs)
        return -1;
    generate();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    free(msgs);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollups_change_nothing),
        cmocka_unit_test(test_any_order_and_late),
    };
    return cmocka_run_group_tests_name("eval", tests, setup, teardown);
}
