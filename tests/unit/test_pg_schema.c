/* test_pg_schema.c: unit tests of store/pg (connecting, migrating) and the
 * PostgreSQL schema of store/pg_schema.c, on a real server.
 *
 * The server is the one TEND_TEST_PG_URL names (tests/integration/
 * pg_schema.sh starts a throwaway cluster and runs this binary with it); when
 * the variable is unset, as in the plain unit pass of tests/run, every test
 * that needs a server is skipped (cmocka's SKIPPED) and says so. Each test
 * works in a schema of its own, made afresh (the URL's search_path set
 * through libpq's options), so the tests do not see each other's tables. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store/pg.h"
#include "store/pg_schema.h"

#define MS_2019_12_01 1575158400000LL
#define MS_2019_12_31 1577750400000LL
#define MS_2020_01_01 1577836800000LL
#define MS_2020_01_15 1579046400000LL
#define MS_2020_02_01 1580515200000LL
#define MS_2020_03_01 1583020800000LL

static const char *server_url; /* TEND_TEST_PG_URL, NULL: skip */

/* ---- helpers ----------------------------------------------------------- */

#define NEED_SERVER()                                                                              \
    do {                                                                                           \
        if (!server_url) {                                                                         \
            skip();                                                                                \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* The URL of schema `schema` of the test database: its search_path set with
 * libpq's options parameter, so every unqualified name lands there. */
static void schema_url(const char *schema, char *out, size_t size) {
    snprintf(out, size, "%s%coptions=-csearch_path%%3D%s", server_url,
             strchr(server_url, '?') ? '&' : '?', schema);
}

static PGconn *admin(void) {
    PGconn *c = PQconnectdb(server_url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", server_url, PQerrorMessage(c));
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

/* Runs sql; "" when it succeeds, else its SQLSTATE (a static string). */
static const char *exec_state(PGconn *c, const char *sql) {
    static char state[8];
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    state[0] = '\0';
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        snprintf(state, sizeof state, "%s", s ? s : "?????");
    }
    PQclear(r);
    return state;
}

static void exec_ok(PGconn *c, const char *sql) {
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* The one value of a query, as text, into out. */
static void sql_text(PGconn *c, const char *sql, char *out, size_t size) {
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s (%d rows)", sql, PQresultErrorMessage(r), PQntuples(r));
    snprintf(out, size, "%s", PQgetisnull(r, 0, 0) ? "NULL" : PQgetvalue(r, 0, 0));
    PQclear(r);
}

static long long sql_int(PGconn *c, const char *sql) {
    char v[64];
    sql_text(c, sql, v, sizeof v);
    return strtoll(v, NULL, 10);
}

/* Makes schema `name` afresh and returns a connection whose search_path is
 * it (through pg_connect, as tend connects); *admin_out an admin connection. */
static struct pg_conn *fresh(const char *name, PGconn **admin_out) {
    PGconn *a = admin();
    char sql[256];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", name, name);
    exec_ok(a, sql);
    char url[1024];
    schema_url(name, url, sizeof url);
    struct pg_conn *c = NULL;
    char err[PG_ERR_BYTES];
    if (pg_connect(url, &c, err) != TEND_OK)
        fail_msg("pg_connect %s: %s", url, err);
    snprintf(sql, sizeof sql, "SET search_path = %s", name);
    exec_ok(a, sql);
    *admin_out = a;
    return c;
}

static void migrate_ok(struct pg_conn *c) {
    char err[PG_ERR_BYTES];
    enum tend_err e = pg_migrate(c, err);
    if (e != TEND_OK)
        fail_msg("pg_migrate: %s", err);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- tests --------------------------------------------------------------- */

/* Runs without a server: what is not a postgresql:// URL is refused before
 * libpq sees it, and a server that is not there is an I/O error that says so. */
static void urls_are_checked(void **state) {
    (void)state;
    assert_true(pg_is_url("postgresql://u@h/db"));
    assert_true(pg_is_url("postgres://h"));
    assert_false(pg_is_url("tend.db"));
    assert_false(pg_is_url("file:tend.db"));
    assert_false(pg_is_url(NULL));
    struct pg_conn *c = NULL;
    char err[PG_ERR_BYTES];
    assert_int_equal(pg_connect("tend.db", &c, err), TEND_ERR_USAGE);
    assert_non_null(strstr(err, "not a PostgreSQL URL"));
    assert_null(c);
    /* Port 1 on the loopback: refused at once. */
    assert_int_equal(pg_connect("postgresql://tend:secret@127.0.0.1:1/x", &c, err), TEND_ERR_IO);
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
    assert_null(strstr(err, "secret"));
    assert_null(c);
    pg_disconnect(NULL);
}

static void migrates_once_and_again_idempotent(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_idem", &a);
    char err[PG_ERR_BYTES];
    int v = -1;
    assert_int_equal(pg_read_schema_version(c, &v, err), TEND_OK);
    assert_int_equal(v, 0);
    double t0 = now_ms();
    migrate_ok(c);
    double t1 = now_ms();
    assert_int_equal(pg_read_schema_version(c, &v, err), TEND_OK);
    assert_int_equal(v, pg_schema_latest());
    /* The same numbers as SQLite's: the baseline is SQLite's migration 15. */
    assert_int_equal(pg_schema_migrations[0].version, 15);
    const char *objects = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                          "c.relnamespace WHERE n.nspname = 't_idem'";
    long long n_objects = sql_int(a, objects);
    assert_int_equal(sql_int(a, "SELECT count(*) FROM schema_migrations"),
                     pg_schema_migration_count);
    migrate_ok(c);
    double t2 = now_ms();
    assert_int_equal(sql_int(a, "SELECT count(*) FROM schema_migrations"),
                     pg_schema_migration_count);
    assert_int_equal(sql_int(a, objects), n_objects);
    assert_int_equal(pg_read_schema_version(c, &v, err), TEND_OK);
    assert_int_equal(v, pg_schema_latest());
    printf("# migrated to version %d in %.0f ms (%lld relations), again in %.1f ms\n", v, t1 - t0,
           n_objects, t2 - t1);
    pg_disconnect(c);
    PQfinish(a);
}

/* A database at version 15 with a model gets only migration 16, which fills
 * the model's data_end (a day number) from its card and adopted_ms. */
static void upgrade_applies_only_what_is_missing(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_upgrade", &a);
    exec_ok(a, "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
               "applied_at timestamptz NOT NULL DEFAULT now())");
    exec_ok(a, pg_schema_migrations[0].sql);
    exec_ok(a, "INSERT INTO schema_migrations (version, name) VALUES (15, 'baseline')");
    exec_ok(a, "INSERT INTO models (version, fitted_ms, horizon_days, trained_from, trained_to, "
               "n_rows, n_churns, adopted, card) VALUES (1, 1000, 90, 1, 2, 10, 1, true, "
               "'{\"data_end\": \"2026-01-31\"}'), (2, 2000, 90, 1, 2, 10, 1, false, "
               "'{\"data_end\": \"soon\"}')");
    migrate_ok(c);
    assert_int_equal(sql_int(a, "SELECT max(version) FROM schema_migrations"), pg_schema_latest());
    /* the baseline's row and one per migration after it (numbers may skip) */
    assert_int_equal(sql_int(a, "SELECT count(*) FROM schema_migrations"),
                     pg_schema_migration_count);
    assert_int_equal(sql_int(a, "SELECT data_end FROM models WHERE version = 1"), 20484);
    assert_int_equal(sql_int(a, "SELECT adopted_ms FROM models WHERE version = 1"), 1000);
    char v[16];
    sql_text(a, "SELECT data_end FROM models WHERE version = 2", v, sizeof v);
    assert_string_equal(v, "NULL");
    sql_text(a, "SELECT adopted_ms FROM models WHERE version = 2", v, sizeof v);
    assert_string_equal(v, "NULL");
    pg_disconnect(c);
    PQfinish(a);
}

/* Every table is there, every key of an account's table leads with the
 * account id, times are bigint milliseconds, SQLite's 0/1 are booleans and
 * its JSON text is jsonb (json where messages list an object's keys in the
 * order written: evidence, snapshots; migration 17). */
static void tables_and_keys_follow_the_rules(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_keys", &a);
    migrate_ok(c);
    static const char *const tables[] = {
        "accounts",
        "users",
        "account_traits",
        "user_traits",
        "memberships",
        "names",
        "event_keys",
        "events",
        "quarantine",
        "counters",
        "login_days",
        "scores",
        "activity_days",
        "activity_stale",
        "activity_windows",
        "activity_counted",
        "facts",
        "product_days",
        "ctas",
        "cta_history",
        "eval_runs",
        "cta_held",
        "cta_escalations",
        "notifications",
        "outbox",
        "delivery_holds",
        "reports",
        "session_epochs",
        "models",
        "risk_by_day",
        "customer_messages",
        "customer_unsubscribes",
        "user_login_days",
        "schema_migrations",
    };
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT to_regclass('t_keys.%s') IS NOT NULL", tables[i]);
        char v[8];
        sql_text(a, sql, v, sizeof v);
        if (strcmp(v, "t") != 0)
            fail_msg("table %s is missing", tables[i]);
    }
    /* Unique indexes (primary keys included) of tables with an account_id
     * whose first column is not account_id: none. */
    char bad[1024];
    sql_text(a,
             "SELECT coalesce(string_agg(i.relname || ' (' || f.attname || ')', ', '), '') "
             "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
             "JOIN pg_class t ON t.oid = x.indrelid "
             "JOIN pg_namespace n ON n.oid = t.relnamespace "
             "JOIN pg_attribute f ON f.attrelid = t.oid AND f.attnum = x.indkey[0] "
             "WHERE n.nspname = 't_keys' AND x.indisunique AND NOT t.relispartition "
             "AND f.attname <> 'account_id' AND EXISTS (SELECT 1 FROM pg_attribute g "
             "WHERE g.attrelid = t.oid AND g.attname = 'account_id' AND NOT g.attisdropped)",
             bad, sizeof bad);
    assert_string_equal(bad, "");
    /* accounts: keyed by its id, and its external id (the one exception,
     * docs/operations.md). */
    sql_text(a,
             "SELECT string_agg(i.relname || ' (' || f.attname || ')', ', ' ORDER BY i.relname) "
             "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
             "JOIN pg_attribute f ON f.attrelid = x.indrelid AND f.attnum = x.indkey[0] "
             "WHERE x.indrelid = 't_keys.accounts'::regclass AND x.indisunique",
             bad, sizeof bad);
    assert_string_equal(bad, "accounts_external_id (external_id), accounts_pkey (id)");
    /* Tables keyed by account: the count is what docs/store.md lists. */
    assert_int_equal(sql_int(a, "SELECT count(DISTINCT table_name) FROM information_schema.columns "
                                "WHERE table_schema = 't_keys' AND column_name = 'account_id' "
                                "AND table_name NOT LIKE '%\\_p______' "
                                "AND table_name NOT LIKE '%\\_default'"),
                     20); /* docs/operations.md lists them */
    sql_text(a,
             "SELECT coalesce(string_agg(table_name || '.' || column_name || ' ' || data_type, "
             "', '), '') FROM information_schema.columns WHERE table_schema = 't_keys' AND "
             "((column_name LIKE '%\\_ms' AND data_type <> 'bigint') OR "
             "(column_name IN ('cleared', 'adopted', 'anonymous', 'done') AND data_type <> "
             "'boolean') OR (column_name IN ('traits', 'premium_products', 'value', 'props', "
             "'card', 'drivers') AND table_name NOT IN ('counters', "
             "'ctas', 'cta_held') AND data_type <> 'jsonb') OR (column_name IN ('evidence', "
             "'snapshot') AND data_type <> 'json'))",
             bad, sizeof bad);
    assert_string_equal(bad, "");
    pg_disconnect(c);
    PQfinish(a);
}

/* Inserts a CTA of (account 7, rule, subject) with status; its SQLSTATE. */
static const char *put_cta(PGconn *a, int account, const char *subject, const char *status) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO ctas (account_id, rule, subject, type, priority, status, owner, title,"
             " reason, evidence, opened_day, due_day, updated_ms) VALUES (%d, 'no_login', '%s',"
             " 'risk', 1, '%s', 'a@b.c', 't', 'r', '{}', 20000, 20003, 1)",
             account, subject, status);
    return exec_state(a, sql);
}

static void one_open_cta_per_key(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_cta", &a);
    migrate_ok(c);
    assert_string_equal(put_cta(a, 7, "", "open"), "");
    assert_string_equal(put_cta(a, 7, "", "open"), "23505"); /* unique_violation */
    assert_string_equal(put_cta(a, 7, "", "snoozed"), "23505");
    assert_string_equal(put_cta(a, 7, "", "closed"), "");
    assert_string_equal(put_cta(a, 7, "", "closed"), "");
    assert_string_equal(put_cta(a, 7, "other", "open"), "");
    assert_string_equal(put_cta(a, 8, "", "open"), "");
    assert_string_equal(put_cta(a, 7, "", "bogus"), "23514"); /* check_violation */
    /* Closing the live one frees the key. */
    exec_ok(a, "UPDATE ctas SET status = 'closed' WHERE account_id = 7 AND subject = '' AND "
               "status = 'open'");
    assert_string_equal(put_cta(a, 7, "", "open"), "");
    assert_int_equal(sql_int(a, "SELECT count(*) FROM ctas WHERE status IN ('open', 'snoozed')"),
                     3);
    pg_disconnect(c);
    PQfinish(a);
}

/* Inserts an event of account at ts_ms, returns the partition it landed in
 * into where. */
static void put_event(PGconn *a, long long ts_ms, long long key_hash, char *where, size_t size) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO events (account_id, ts_ms, key_ts_ms, key_hash, kind, props) "
             "VALUES (1, %lld, %lld, %lld, 1, '{\"a\": 1}') RETURNING tableoid::regclass::text",
             ts_ms, ts_ms, key_hash);
    sql_text(a, sql, where, size);
}

static void events_land_in_their_month_and_retention_drops_one(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_events", &a);
    migrate_ok(c);
    char sql[256], where[128];
    snprintf(sql, sizeof sql, "SELECT tend_event_partitions_ensure(%lld, %lld)", MS_2020_01_15,
             MS_2020_03_01 + 86400000LL * 14);
    assert_int_equal(sql_int(a, sql), 3);
    assert_int_equal(sql_int(a, sql), 0); /* made already */
    put_event(a, MS_2020_01_15, 1, where, sizeof where);
    assert_string_equal(where, "events_p202001");
    put_event(a, MS_2020_02_01 - 1, 2, where, sizeof where); /* last ms of January */
    assert_string_equal(where, "events_p202001");
    put_event(a, MS_2020_02_01, 3, where, sizeof where);
    assert_string_equal(where, "events_p202002");
    put_event(a, MS_2020_03_01, 4, where, sizeof where);
    assert_string_equal(where, "events_p202003");
    /* A month without a partition yet: the default one, never an error;
     * making the month moves it out. */
    put_event(a, MS_2019_12_31, 5, where, sizeof where);
    assert_string_equal(where, "events_default");
    snprintf(sql, sizeof sql, "SELECT tend_event_partitions_ensure(%lld, %lld)", MS_2019_12_01,
             MS_2019_12_01);
    assert_int_equal(sql_int(a, sql), 1);
    assert_int_equal(sql_int(a, "SELECT count(*) FROM events_default"), 0);
    sql_text(a, "SELECT tableoid::regclass::text FROM events WHERE key_hash = 5", where,
             sizeof where);
    assert_string_equal(where, "events_p201912");
    /* Retention before February: December and January go, nothing else. */
    snprintf(sql, sizeof sql, "SELECT tend_event_partitions_drop(%lld)", MS_2020_02_01);
    assert_int_equal(sql_int(a, sql), 2);
    assert_int_equal(sql_int(a, "SELECT count(*) FROM events"), 2);
    assert_int_equal(sql_int(a, "SELECT min(key_hash) FROM events"), 3);
    assert_int_equal(sql_int(a, "SELECT count(*) FROM pg_class WHERE relname IN "
                                "('events_p201912', 'events_p202001', 'event_keys_p202001')"),
                     0);
    sql_text(a, "SELECT tableoid::regclass::text FROM events WHERE key_hash = 3", where,
             sizeof where);
    assert_string_equal(where, "events_p202002");
    pg_disconnect(c);
    PQfinish(a);
}

/* Making a month while another transaction stores an event of that month in
 * the default partition: the month waits for it, then takes its row along
 * (attaching the month with the row left behind would fail). */
static void ensure_waits_for_an_insert_into_the_default_partition(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_move", &a);
    migrate_ok(c);
    PGconn *b = admin(), *m = admin();
    exec_ok(b, "SET search_path = t_move");
    exec_ok(m, "SET search_path = t_move");
    exec_ok(b, "BEGIN");
    char where[64];
    put_event(b, MS_2019_12_31, 5, where, sizeof where);
    assert_string_equal(where, "events_default");
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT tend_event_partitions_ensure(%lld, %lld)", MS_2019_12_01,
             MS_2019_12_01);
    assert_int_equal(PQsendQuery(m, sql), 1);
    /* Until the month's maker waits for a lock (60 s: a deadline for a
     * broken case, not a speed). */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE pid = %d AND wait_event_type = 'Lock'",
             PQbackendPID(m));
    double deadline = now_ms() + 60000;
    while (sql_int(a, sql) == 0) {
        if (now_ms() > deadline)
            fail_msg("tend_event_partitions_ensure did not wait for the open insert");
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    exec_ok(b, "COMMIT");
    PGresult *r = PQgetResult(m);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("tend_event_partitions_ensure: %s", PQresultErrorMessage(r));
    assert_string_equal(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    while ((r = PQgetResult(m)))
        PQclear(r);
    sql_text(a, "SELECT tableoid::regclass::text FROM events WHERE key_hash = 5", where,
             sizeof where);
    assert_string_equal(where, "events_p201912");
    PQfinish(b);
    PQfinish(m);
    pg_disconnect(c);
    PQfinish(a);
}

/* Deduplication holds across partitions: the key (timestamp as sent, hash)
 * is event_keys' primary key; a key without a timestamp (0) has its place. */
static void event_keys_deduplicate(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_keys_dedup", &a);
    migrate_ok(c);
    char sql[256];
    snprintf(sql, sizeof sql,
             "WITH k AS (INSERT INTO event_keys VALUES (%lld, -5), (0, 9) ON CONFLICT DO NOTHING "
             "RETURNING 1) SELECT count(*) FROM k",
             MS_2020_01_15);
    assert_int_equal(sql_int(a, sql), 2);
    assert_int_equal(sql_int(a, sql), 0);
    char where[64];
    sql_text(a, "SELECT tableoid::regclass::text FROM event_keys WHERE key_ts_ms = 0", where,
             sizeof where);
    assert_string_equal(where, "event_keys_default");
    pg_disconnect(c);
    PQfinish(a);
}

struct racer {
    char url[1024];
    pthread_barrier_t *start;
    enum tend_err result;
    char err[PG_ERR_BYTES];
    double ms;
};

static void *race(void *arg) {
    struct racer *r = arg;
    struct pg_conn *c = NULL;
    r->result = pg_connect(r->url, &c, r->err);
    pthread_barrier_wait(r->start);
    if (r->result == TEND_OK) {
        double t0 = now_ms();
        r->result = pg_migrate(c, r->err);
        r->ms = now_ms() - t0;
    }
    pg_disconnect(c);
    return NULL;
}

/* Two nodes starting at once on an empty database: both succeed, the schema
 * is applied once. */
static void concurrent_migrations_apply_once(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_race", &a);
    pg_disconnect(c);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct racer r[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        schema_url("t_race", r[i].url, sizeof r[i].url);
        r[i].start = &start;
        pthread_create(&th[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 2; i++)
        if (r[i].result != TEND_OK)
            fail_msg("node %d of 2: %s", i + 1, r[i].err);
    assert_int_equal(sql_int(a, "SELECT count(*) FROM schema_migrations"),
                     pg_schema_migration_count);
    assert_int_equal(sql_int(a, "SELECT max(version) FROM schema_migrations"), pg_schema_latest());
    /* This month and the next two, made once. */
    assert_int_equal(sql_int(a, "SELECT count(*) FROM pg_inherits WHERE inhparent = "
                                "'t_race.events'::regclass"),
                     4);
    printf("# two concurrent migrations: %.0f ms and %.0f ms\n", r[0].ms, r[1].ms);
    PQfinish(a);
}

/* A migration that fails leaves nothing behind and says which. */
static void failed_migration_rolls_back(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_fail", &a);
    exec_ok(a, "CREATE TABLE t_fail.ctas (x int)"); /* in the way of migration 15 */
    char err[PG_ERR_BYTES];
    assert_int_equal(pg_migrate(c, err), TEND_ERR_DB);
    assert_non_null(strstr(err, "migration 15"));
    assert_non_null(strstr(err, "\"ctas\" already exists"));
    assert_int_equal(sql_int(a, "SELECT count(*) FROM schema_migrations"), 0);
    assert_int_equal(sql_int(a, "SELECT (to_regclass('t_fail.accounts') IS NULL)::int"), 1);
    /* The connection is usable and unlocked: once out of the way, it works. */
    exec_ok(a, "DROP TABLE t_fail.ctas");
    migrate_ok(c);
    pg_disconnect(c);
    PQfinish(a);
}

static void newer_database_is_refused(void **state) {
    (void)state;
    NEED_SERVER();
    PGconn *a;
    struct pg_conn *c = fresh("t_newer", &a);
    migrate_ok(c);
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO schema_migrations (version, name) VALUES (%d, 'x')",
             pg_schema_latest() + 1);
    exec_ok(a, sql);
    char err[PG_ERR_BYTES];
    assert_int_equal(pg_migrate(c, err), TEND_ERR_DB);
    assert_non_null(strstr(err, "upgrade tend"));
    pg_disconnect(c);
    PQfinish(a);
}

int main(void) {
    server_url = getenv("TEND_TEST_PG_URL");
    if (server_url && !*server_url)
        server_url = NULL;
    if (!server_url)
        printf("# TEND_TEST_PG_URL is not set: the tests that need a PostgreSQL server are "
               "SKIPPED (tests/integration/pg_schema.sh runs them on a cluster of its own)\n");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urls_are_checked),
        cmocka_unit_test(migrates_once_and_again_idempotent),
        cmocka_unit_test(upgrade_applies_only_what_is_missing),
        cmocka_unit_test(tables_and_keys_follow_the_rules),
        cmocka_unit_test(one_open_cta_per_key),
        cmocka_unit_test(events_land_in_their_month_and_retention_drops_one),
        cmocka_unit_test(ensure_waits_for_an_insert_into_the_default_partition),
        cmocka_unit_test(event_keys_deduplicate),
        cmocka_unit_test(concurrent_migrations_apply_once),
        cmocka_unit_test(failed_migration_rolls_back),
        cmocka_unit_test(newer_database_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
