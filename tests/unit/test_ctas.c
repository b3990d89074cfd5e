/* test_ctas.c: the event-triggered evaluation of a few accounts
 * (eval_ctas_accounts) against the store, as tend serve runs it after a
 * batch of events.
 *
 * A generated history (logins that fade for some accounts, NPS answers,
 * tickets, overdue invoices; owners by csm_email) is ingested into real
 * SQLite stores and evaluated day by day as the daily schedule would; then
 * events arrive for a few accounts and only those are evaluated:
 *
 * - what the store reads (store_rows_read(), a count of rows, not a clock)
 *   grows with the touched accounts, not with the accounts stored: the same
 *   touched accounts among 40 or among 160 cost the same reads;
 * - one run of the whole touched set gives the same CTAs, scores and outbox
 *   rows as evaluating each touched account on its own;
 * - the caps and the owners' weekly budget weigh the touched accounts'
 *   opens against what is stored for every account;
 * - its memory follows the touched accounts too, not the largest account
 *   id: accounts numbered from 1,000,001 evaluate as those numbered from 1,
 *   with the same allocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/health.h"
#include "core/plan.h"
#include "core/rules.h"
#include "eval/ctas.h"
#include "eval/eval.h"
#include "ingest/ingest.h"
#include "ingest/segment.h"
#include "notify/config.h"
#include "store/store.h"
#include "test_db.h"
#include "util/datetime.h"
#include "util/mem.h"
#include "util/yaml.h"

#define DAYS        50
#define FIRST_DAY   19783 /* 2024-03-01 */
#define DAY_MS      86400000LL
#define LAST_DAY    (FIRST_DAY + DAYS - 1) /* D: the day the events arrive */
#define RECEIVED_MS ((int64_t)(FIRST_DAY + DAYS + 10) * DAY_MS)
#define FULL_DAYS   8 /* full evaluations of D-8 .. D-1 before the events */
#define MSG_BYTES   512

static char dir[256];

/* ---- a generated history ------------------------------------------------------ */

/* The messages of one store, in ingest order. */
struct msgs {
    char (*v)[MSG_BYTES];
    size_t n, cap;
};

static uint64_t rng;

static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int below(int n) {
    return (int)(next() % (uint64_t)n);
}

static void add(struct msgs *m, const char *fmt, ...) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 4096;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
        assert_non_null(m->v);
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->v[m->n], MSG_BYTES, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && n < MSG_BYTES);
    m->n++;
}

static void track(struct msgs *m, int a, int user, int64_t ms, const char *event,
                  const char *props) {
    char ts[32];
    dt_format_instant(ms, ts);
    add(m,
        "{\"type\":\"track\",\"userId\":\"u%d-%d\",\"event\":\"%s\",\"timestamp\":\"%s\","
        "\"messageId\":\"m%d-%zu\",\"context\":{\"groupId\":\"acc%03d\"},\"properties\":{%s}}",
        a, user, event, ts, a, m->n, a, props);
}

static int64_t at(int day, int64_t ms_in_day) {
    return (int64_t)(FIRST_DAY + day) * DAY_MS + ms_in_day;
}

/* Account a's history before day D: the same for a given a in every store
 * (its own random sequence), so stores of 40 and 160 accounts share their
 * first 40. */
static void history(struct msgs *m, int a) {
    rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(a + 1) * 2654435761ULL;
    int users = 2 + below(5);
    char ts[32];
    dt_format_instant(at(0, 3600000), ts);
    for (int u = 0; u < users; u++)
        add(m,
            "{\"type\":\"group\",\"userId\":\"u%d-%d\",\"groupId\":\"acc%03d\",\"timestamp\":"
            "\"%s\",\"messageId\":\"g%d-%d\",\"traits\":{\"name\":\"Account %d\",\"mrr\":%d,"
            "\"seats\":%d,\"plan\":\"%s\",\"csm_email\":\"csm%d@example.com\"}}",
            a, u, a, ts, a, u, a, 200 * (1 + below(9)), users + below(3), a % 3 ? "pro" : "team",
            a % 4);
    int fade = a % 3 == 0 ? 20 + below(15) : DAYS; /* some accounts go quiet */
    char props[128];
    for (int d = 0; d < DAYS - 1; d++) {
        for (int k = below(d < fade ? 5 : 1); k > 0; k--)
            track(m, a, below(users), at(d, 36000000 + k * 1000), "Signed In", "\"x\":1");
        for (int k = below(d < fade ? 6 : 1); k > 0; k--)
            track(m, a, below(users), at(d, 40000000 + k * 1000), "Report Viewed",
                  "\"product\":\"p1\"");
        if (below(8) == 0) {
            snprintf(props, sizeof props, "\"score\":%d", below(11));
            track(m, a, below(users), at(d, 50000000), "NPS Survey Responded", props);
        }
        if (below(5) == 0) {
            snprintf(props, sizeof props, "\"ticket_id\":\"t%d\"", below(6));
            track(m, a, 0, at(d, 52000000), below(3) ? "Ticket Opened" : "Ticket Closed", props);
        }
        if (below(15) == 0) {
            char due[16];
            dt_format_date(FIRST_DAY + d + 5, due);
            snprintf(props, sizeof props,
                     "\"invoice_id\":\"i%d\",\"amount\":%d,\"due_date\":\"%s\"", d,
                     100 + below(900), due);
            track(m, a, 0, at(d, 54000000), "Invoice Issued", props);
        }
    }
}

/* What arrives on day D for a touched account: tickets, a detractor, a login. */
static void touch(struct msgs *m, int a) {
    for (int k = 0; k < 4; k++) {
        char props[64];
        snprintf(props, sizeof props, "\"ticket_id\":\"d%d\"", k);
        track(m, a, 0, at(DAYS - 1, 30000000 + k * 1000), "Ticket Opened", props);
    }
    track(m, a, 0, at(DAYS - 1, 31000000), "NPS Survey Responded", "\"score\":1");
    track(m, a, 1, at(DAYS - 1, 32000000), "Signed In", "\"x\":1");
}

static void ingest_all(struct store *s, const struct msgs *m) {
    struct ingest *ig = ingest_new(s);
    for (size_t i = 0; i < m->n; i++) {
        if (i % 1000 == 0)
            assert_int_equal(ingest_begin(ig), TEND_OK);
        const char *json = m->v[i];
        cJSON *tree = cJSON_Parse(json);
        assert_non_null(tree);
        struct seg_msg msg;
        char err[SEG_ERR_BYTES] = "";
        if (segment_parse_msg(tree, NULL, RECEIVED_MS, json, strlen(json), &msg, err))
            fail_msg("rejected %s: %s", json, err);
        enum ingest_outcome o;
        assert_int_equal(ingest_message(ig, &msg, &o), TEND_OK);
        cJSON_Delete(tree);
        if (i % 1000 == 999 || i == m->n - 1)
            assert_int_equal(ingest_commit(ig), TEND_OK);
    }
    ingest_free(ig);
}

/* ---- configuration --------------------------------------------------------------- */

static struct health_config hc;
static struct rules_config rc;
static struct notify_config nc; /* one log channel: every change writes an outbox row */

static void load_notify(void) {
    char path[320], err[512];
    snprintf(path, sizeof path,
             "channels:\n  audit: {type: log, path: '%s/n.log'}\nroutes:\n  - to: [audit]\n", dir);
    cJSON *root;
    char yerr[YAML_ERR_BYTES];
    assert_int_equal(yaml_load_string(path, strlen(path), "t.yaml", &root, yerr), TEND_OK);
    notify_config_default(&nc);
    if (notify_config_load(NULL, cJSON_GetObjectItemCaseSensitive(root, "channels"),
                           cJSON_GetObjectItemCaseSensitive(root, "routes"), &nc, err))
        fail_msg("notify config: %s", err);
    cJSON_Delete(root);
    nc.max_age_days = 1000000; /* the history is in 2024: notify anyway */
}

/* ---- stores ---------------------------------------------------------------------- */

static struct store *open_db(const char *name) {
    char path[320], err[STORE_ERR_BYTES];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    unlink(path);
    struct store *s;
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open: %s", err);
    return s;
}

static void refresh(struct store *s) {
    int days;
    if (eval_refresh_rollups(s, &days) != TEND_OK)
        fail_msg("refresh: %s", store_last_error(s));
}

/* A store of n accounts, evaluated in full on days D-8 .. D-1 with rules r. */
static struct store *prepared(const char *name, int n, const struct rules_config *r) {
    struct store *s = open_db(name);
    struct msgs m = {0};
    for (int a = 0; a < n; a++)
        history(&m, a);
    ingest_all(s, &m);
    free(m.v);
    refresh(s);
    for (int32_t d = LAST_DAY - FULL_DAYS; d < LAST_DAY; d++) {
        struct eval_summary sum;
        if (eval_ctas_day(s, &hc, r, &nc, d, NULL, NULL, &sum))
            fail_msg("eval_ctas_day: %s", store_last_error(s));
    }
    return s;
}

/* The touched accounts' events of day D, stored; their internal ids in ids. */
static void touch_accounts(struct store *s, const int *accounts, size_t k, int64_t *ids) {
    struct msgs m = {0};
    for (size_t i = 0; i < k; i++)
        touch(&m, accounts[i]);
    ingest_all(s, &m);
    free(m.v);
    for (size_t i = 0; i < k; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "acc%03d", accounts[i]);
        assert_int_equal(store_account_find(s, ext, &ids[i]), TEND_OK);
    }
}

static void eval_touched(struct store *s, const struct rules_config *r, const int64_t *ids,
                         size_t k, struct eval_summary *sum) {
    if (eval_ctas_accounts(s, &hc, r, &nc, LAST_DAY, ids, k, NULL, NULL, sum))
        fail_msg("eval_ctas_accounts: %s", store_last_error(s));
}

/* ---- the store's state as text ------------------------------------------------------- */

struct text {
    char *buf;
    size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...) {
    char row[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(row, sizeof row, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof row);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        assert_non_null(t->buf);
    }
    memcpy(t->buf + t->len, row, (size_t)n + 1);
    t->len += (size_t)n;
}

static int cmp_line(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of t sorted (CTA ids and the order of writes may differ between
 * a batch and one account at a time; what they say may not). */
static char *sorted(struct text *t) {
    if (!t->buf)
        return calloc(1, 1);
    size_t n = 0;
    for (char *p = t->buf; *p; p++)
        n += *p == '\n';
    char **lines = malloc((n + 1) * sizeof *lines);
    size_t k = 0;
    for (char *p = strtok(t->buf, "\n"); p; p = strtok(NULL, "\n"))
        lines[k++] = p;
    qsort(lines, k, sizeof *lines, cmp_line);
    struct text out = {0};
    for (size_t i = 0; i < k; i++)
        put(&out, "%s\n", lines[i]);
    free(lines);
    free(t->buf);
    return out.buf ? out.buf : calloc(1, 1);
}

/* CTA id -> its key, for the outbox rows. */
struct keys {
    int64_t id[4096];
    char key[4096][128];
    size_t n;
};

struct dump {
    struct text t;
    struct keys *k;
};

static int on_cta(void *arg, const struct store_cta *c) {
    struct dump *d = arg;
    put(&d->t, "cta %s %s %s %s p%d s%d due%d v%.2f c%d|%s|%s|%s\n", c->account, c->rule,
        c->subject, c->type, c->priority, c->status, c->due_day, c->has_value ? c->value : -1.0,
        c->closed_reason, c->owner ? c->owner : "", c->title, c->reason);
    assert_true(d->k->n < 4096);
    d->k->id[d->k->n] = c->id;
    snprintf(d->k->key[d->k->n], sizeof d->k->key[0], "%s/%s/%s", c->account, c->rule, c->subject);
    d->k->n++;
    return 0;
}

static void on_outbox(void *arg, const struct store_outbox *o) {
    struct dump *d = arg;
    const char *key = "?";
    for (size_t i = 0; i < d->k->n; i++)
        if (d->k->id[i] == o->cta_id)
            key = d->k->key[i];
    put(&d->t, "outbox %s %s %s %s %s\n", key, o->event, o->channel, o->status,
        o->owner ? o->owner : "");
}

/* Every CTA, every outbox row, and the scores of day D of accounts 0..n-1. */
static char *dump(struct store *s, int n) {
    struct dump d = {.k = calloc(1, sizeof *d.k)};
    assert_non_null(d.k);
    assert_int_equal(store_ctas_each(s, &(struct store_cta_filter){0}, on_cta, &d), TEND_OK);
    assert_int_equal(store_outbox_each(s, &(struct store_outbox_filter){0}, on_outbox, &d),
                     TEND_OK);
    for (int a = 0; a < n; a++) {
        char ext[16];
        int64_t id;
        snprintf(ext, sizeof ext, "acc%03d", a);
        assert_int_equal(store_account_find(s, ext, &id), TEND_OK);
        struct store_score sc;
        bool found;
        assert_int_equal(store_score_get(s, id, LAST_DAY, &sc, &found), TEND_OK);
        if (found)
            put(&d.t, "score %s %d %.6f %s\n", ext, sc.has_overall, sc.overall, sc.band);
    }
    free(d.k);
    return sorted(&d.t);
}

static size_t count(const char *text, const char *prefix) {
    size_t n = 0, len = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, prefix, len) == 0;
    return n;
}

static int metrics_seen(void *arg, int64_t id, const char *account, const struct metrics *m) {
    (void)id, (void)account, (void)m;
    (*(int *)arg)++;
    return 0;
}

/* ---- tests ----------------------------------------------------------------------------- */

static const int touched[] = {3, 17, 31};
#define N_TOUCHED (sizeof touched / sizeof touched[0])

/* The reads of evaluating 3 touched accounts do not grow with the accounts
 * stored: the same among 40 as among 160 (before: every account was listed
 * and copied for each touched one, and every CTA and score of the day read). */
static void test_reads_grow_with_touched_not_stored(void **state) {
    (void)state;
    uint64_t reads[2], reads_one[2], reads_full = 0;
    int sizes[2] = {40, 160};
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof name, "reads%d", sizes[i]);
        struct store *s = prepared(name, sizes[i], &rc);
        int64_t ids[N_TOUCHED];
        touch_accounts(s, touched, N_TOUCHED, ids);
        struct eval_summary sum;
        uint64_t before = store_rows_read();
        eval_touched(s, &rc, ids, N_TOUCHED, &sum);
        reads[i] = store_rows_read() - before;
        assert_int_equal(sum.accounts, N_TOUCHED);
        assert_true(sum.opened + sum.raised + sum.held_budget + sum.held_back > 0);

        /* One named account's metrics (the dashboard's account page). */
        int seen = 0;
        before = store_rows_read();
        assert_int_equal(
            eval_metrics(s, (int64_t)(LAST_DAY + 1) * DAY_MS, "acc017", metrics_seen, &seen),
            TEND_OK);
        reads_one[i] = store_rows_read() - before;
        assert_int_equal(seen, 1);

        if (i == 0) { /* a full evaluation of the small store, for scale */
            before = store_rows_read();
            assert_int_equal(eval_ctas_day(s, &hc, &rc, &nc, LAST_DAY, NULL, NULL, &sum), TEND_OK);
            reads_full = store_rows_read() - before;
        }
        store_close(s);
    }
    print_message("rows read: %zu touched among 40: %llu, among 160: %llu; one named account "
                  "among 40: %llu, among 160: %llu; a full evaluation of 40: %llu\n",
                  N_TOUCHED, (unsigned long long)reads[0], (unsigned long long)reads[1],
                  (unsigned long long)reads_one[0], (unsigned long long)reads_one[1],
                  (unsigned long long)reads_full);
    /* The owners' opens of the week are one row per owner (4 here). */
    assert_true(reads[1] <= reads[0] + 4);
    assert_true(reads[0] <= reads[1] + 4);
    assert_int_equal(reads_one[0], reads_one[1]);
    assert_true(reads[0] * 4 < reads_full);
}

/* Numbers the accounts of store name (opened, still empty) from first on,
 * as a PostgreSQL identity is after values that conflicts, rollbacks and
 * other nodes' caches burned: ids far above the count of accounts. On
 * SQLite, a placeholder account holds id first - 1 (a new row takes the
 * largest id + 1). */
static void ids_from(const char *name, int64_t first) {
    char path[320], sql[160];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    if (test_db_pg_url()) {
        char url[512];
        assert_int_equal(test_db_pg_schema(path, url, sizeof url), 0);
        snprintf(sql, sizeof sql, "ALTER TABLE accounts ALTER COLUMN id RESTART WITH %lld",
                 (long long)first);
        PGconn *c = PQconnectdb(url);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        return;
    }
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(
        sql, sizeof sql,
        "INSERT INTO accounts (id, external_id, first_seen_ms) VALUES (%lld, 'placeholder', 0)",
        (long long)first - 1);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

/* A touched run's memory follows the accounts it evaluates, not the largest
 * account id: the same 3 touched accounts numbered from 1 and from
 * 1,000,001 are evaluated alike, from the same rows, with about the same
 * allocations (before: its tables were indexed by account id, some 40
 * bytes per id up to the largest, 40 MB here and 4 MB for each run among
 * 100,000 accounts, however few it evaluates). No earlier full evaluation:
 * the scores health_drop compares with are computed for these accounts. */
static void test_memory_follows_touched_not_ids(void **state) {
    (void)state;
    enum { N = 40 };
    const int64_t far = 1000001;
    uint64_t reads[2];
    unsigned long long bytes[2];
    struct eval_summary sum[2];
    int64_t ids[2][N_TOUCHED];
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "ids_far" : "ids_near";
        struct store *s = open_db(name);
        if (i)
            ids_from(name, far);
        struct msgs m = {0};
        for (int a = 0; a < N; a++)
            history(&m, a);
        ingest_all(s, &m);
        free(m.v);
        touch_accounts(s, touched, N_TOUCHED, ids[i]);
        uint64_t before = store_rows_read();
        unsigned long long allocated = mem_thread_allocated();
        eval_touched(s, &rc, ids[i], N_TOUCHED, &sum[i]);
        bytes[i] = mem_thread_allocated() - allocated;
        reads[i] = store_rows_read() - before;
        store_close(s);
    }
    print_message("3 touched accounts numbered from %lld and from %lld: %llu and %llu bytes "
                  "allocated, %llu and %llu rows read; %lld opened, %lld held by the budget\n",
                  (long long)ids[0][0], (long long)ids[1][0], bytes[0], bytes[1],
                  (unsigned long long)reads[0], (unsigned long long)reads[1],
                  (long long)sum[1].opened, (long long)sum[1].held_budget);
    for (size_t k = 0; k < N_TOUCHED; k++)
        assert_true(ids[0][k] <= N && ids[1][k] >= far);
    assert_int_equal(sum[1].accounts, N_TOUCHED);
    assert_int_equal(sum[0].accounts, sum[1].accounts);
    assert_true(sum[1].opened + sum[1].held_budget + sum[1].held_back > 0);
    assert_int_equal(sum[0].opened, sum[1].opened);
    assert_int_equal(sum[0].raised, sum[1].raised);
    assert_int_equal(sum[0].held_budget, sum[1].held_budget);
    assert_int_equal(sum[0].held_back, sum[1].held_back);
    assert_int_equal(reads[0], reads[1]);
    /* The same work: the same allocations but for the ids' digits. */
    assert_true(bytes[1] <= bytes[0] + bytes[0] / 10 + 4096);
}

/* One run of the touched set gives what evaluating each touched account on
 * its own gives: CTAs, their outbox rows, and scores. No limit binds here
 * (the budget is off and the caps are far): with one binding, a batch ranks
 * its candidates together where one account at a time takes them as they
 * come, as the planner means to (docs/rules.md). */
static void test_batch_equals_one_at_a_time(void **state) {
    (void)state;
    static const int set[] = {1, 4, 9, 12, 18, 21, 27, 30, 33, 38};
    enum { K = sizeof set / sizeof set[0], N = 40 };
    struct rules_config r = rc;
    r.budget_per_owner_week = 0;
    struct store *batch = prepared("batch", N, &r);
    struct store *alone = prepared("alone", N, &r);
    char *start = dump(batch, N);
    int64_t ids[K], ids2[K];
    touch_accounts(batch, set, K, ids);
    touch_accounts(alone, set, K, ids2);
    assert_memory_equal(ids, ids2, sizeof ids);

    struct eval_summary sum, one, total = {0};
    /* in reverse and with a repeat: the order of the list does not matter */
    int64_t listed[K + 1];
    for (size_t i = 0; i < K; i++)
        listed[i] = ids[K - 1 - i];
    listed[K] = ids[2];
    eval_touched(batch, &r, listed, K + 1, &sum);
    for (size_t i = 0; i < K; i++) {
        eval_touched(alone, &r, &ids[i], 1, &one);
        total.accounts += one.accounts;
        total.opened += one.opened;
        total.raised += one.raised;
        total.resolved += one.resolved;
        total.notifications += one.notifications;
        total.held_back += one.held_back;
    }
    char *got = dump(batch, N), *want = dump(alone, N);
    assert_string_equal(got, want);
    assert_string_not_equal(got, start);
    assert_int_equal(sum.accounts, K);
    assert_int_equal(sum.accounts, total.accounts);
    assert_int_equal(sum.opened, total.opened);
    assert_int_equal(sum.raised, total.raised);
    assert_int_equal(sum.resolved, total.resolved);
    assert_int_equal(sum.notifications, total.notifications);
    assert_int_equal(sum.held_back, 0);
    assert_int_equal(total.held_back, 0);
    assert_true(sum.opened > 0 && sum.notifications > 0);
    print_message("%d touched accounts: %lld opened, %lld raised, %lld resolved, %lld outbox "
                  "rows; %zu CTAs, %zu outbox rows, %zu scores of the day alike\n",
                  K, (long long)sum.opened, (long long)sum.raised, (long long)sum.resolved,
                  (long long)sum.notifications, count(got, "cta "), count(got, "outbox "),
                  count(got, "score "));

    /* And the touched accounts' scores are those a full evaluation gives. */
    struct eval_summary full;
    assert_int_equal(eval_ctas_day(alone, &hc, &r, &nc, LAST_DAY, NULL, NULL, &full), TEND_OK);
    char *after_full = dump(alone, N);
    for (size_t i = 0; i < K; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "score acc%03d ", set[i]);
        const char *x = strstr(got, prefix), *y = strstr(after_full, prefix);
        assert_non_null(x);
        assert_non_null(y);
        assert_int_equal(strcspn(x, "\n"), strcspn(y, "\n"));
        assert_memory_equal(x, y, strcspn(x, "\n"));
    }
    free(after_full);
    free(got);
    free(want);
    free(start);
    store_close(batch);
    store_close(alone);
}

struct owners {
    char name[8][64];
    int64_t n[8];
    size_t len;
};

static void on_owner(void *arg, const char *owner, int64_t n) {
    struct owners *o = arg;
    if (o->len < 8) {
        snprintf(o->name[o->len], sizeof o->name[0], "%s", owner ? owner : "");
        o->n[o->len++] = n;
    }
}

static int64_t opened_of(const struct owners *o, const char *name) {
    for (size_t i = 0; i < o->len; i++)
        if (strcmp(o->name[i], name) == 0)
            return o->n[i];
    return 0;
}

/* The caps count every account's live CTAs, and the budget every owner's
 * opens of the week, as stored, though only the touched accounts are read. */
static void test_limits_count_the_stored_totals(void **state) {
    (void)state;
    static const int set[] = {2, 5, 6, 7, 10, 11, 14, 15};
    enum { K = sizeof set / sizeof set[0], N = 40 };
    struct rules_config r = rc;
    r.budget_per_owner_week = 0;
    struct store *s = prepared("caps", N, &r);
    int64_t live;
    assert_int_equal(store_ctas_live_count(s, &live), TEND_OK);
    assert_true(live > K);
    int64_t ids[K];
    touch_accounts(s, set, K, ids);
    r.max_open_total = (int)live + 1; /* room for one more, whoever's */
    struct eval_summary sum;
    eval_touched(s, &r, ids, K, &sum);
    int64_t after;
    assert_int_equal(store_ctas_live_count(s, &after), TEND_OK);
    print_message("caps: %lld live CTAs stored, max_open_total %d: %lld opened, %lld held "
                  "back, %lld resolved, %lld live after\n",
                  (long long)live, r.max_open_total, (long long)sum.opened,
                  (long long)sum.held_back, (long long)(sum.resolved + sum.closed_churned),
                  (long long)after);
    assert_true(sum.held_back >= 1);
    assert_true(after <= live + 1);
    assert_int_equal(sum.live_total, after);
    store_close(s);

    /* The budget: one open a week per owner; the owners' earlier opens this
     * week are in the store, not in the touched accounts. */
    r = rc;
    r.budget_per_owner_week = 1;
    s = prepared("budget", N, &r);
    struct owners before = {0}, now = {0};
    int32_t week = plan_week_start(LAST_DAY);
    assert_int_equal(store_ctas_opened_by_owner(s, week, week + 6, on_owner, &before), TEND_OK);
    touch_accounts(s, set, K, ids);
    eval_touched(s, &r, ids, K, &sum);
    assert_int_equal(store_ctas_opened_by_owner(s, week, week + 6, on_owner, &now), TEND_OK);
    print_message("budget 1 a week: %lld opened, %lld held by the budget; owners' opens this "
                  "week before/after:",
                  (long long)sum.opened, (long long)sum.held_budget);
    for (size_t i = 0; i < now.len; i++) {
        int64_t was = opened_of(&before, now.name[i]);
        print_message(" %s %lld/%lld", now.name[i], (long long)was, (long long)now.n[i]);
        assert_true(now.n[i] <= (was > 1 ? was : 1));
    }
    print_message("\n");
    assert_true(sum.held_budget >= 1);
    store_close(s);
}

/* Before-scores: when the day health_drop compares with has none stored,
 * an evaluation of a few accounts computes theirs without storing them, so
 * that the next full evaluation still computes and stores every account's. */
static void test_missing_scores_before_stay_missing(void **state) {
    (void)state;
    enum { N = 40 };
    struct store *s = open_db("backfill");
    struct msgs m = {0};
    for (int a = 0; a < N; a++)
        history(&m, a);
    ingest_all(s, &m);
    free(m.v);
    refresh(s);
    int64_t ids[N_TOUCHED];
    touch_accounts(s, touched, N_TOUCHED, ids);
    struct eval_summary sum;
    eval_touched(s, &rc, ids, N_TOUCHED, &sum);
    int32_t day = LAST_DAY - (int32_t)rules_param(&rc.rules[RULE_HEALTH_DROP], RP_HEALTH_DROP_DAYS);
    struct eval_day_scores d;
    assert_int_equal(eval_day_scores_load(s, day, hc.version, &d), TEND_OK);
    assert_int_equal(d.rows, 0);
    eval_day_scores_free(&d);
    assert_int_equal(eval_ctas_day(s, &hc, &rc, &nc, LAST_DAY, NULL, NULL, &sum), TEND_OK);
    assert_int_equal(eval_day_scores_load(s, day, hc.version, &d), TEND_OK);
    print_message("scores of the day before: none after the touched accounts' run, %zu after "
                  "the full one\n",
                  d.rows);
    assert_true(d.rows >= N - 5); /* every customer's (a few may have churned) */
    eval_day_scores_free(&d);
    store_close(s);
}

static int setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-ctas-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    health_config_default(&hc);
    rules_config_default(&rc);
    load_notify();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    notify_config_release(&nc);
    rules_config_release(&rc);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_grow_with_touched_not_stored),
        cmocka_unit_test(test_batch_equals_one_at_a_time),
        cmocka_unit_test(test_memory_follows_touched_not_ids),
        cmocka_unit_test(test_limits_count_the_stored_totals),
        cmocka_unit_test(test_missing_scores_before_stay_missing),
    };
    return cmocka_run_group_tests_name("ctas", tests, setup, teardown);
}
