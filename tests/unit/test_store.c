/* test_store.c: the store as one interface with backends behind it
 * (store/store.c, store/backend.h, store/codes.h).
 *
 * What the other unit tests do not see: how store_open() chooses a backend
 * from the location (a postgresql:// URL whose server cannot be reached
 * fails plainly, without needing a server), that neither backend's
 * operations table leaves an operation unset (a designated initializer
 * would silently leave a new one NULL), that the names CTA statuses are
 * stored by in SQL are core's names, and that store_rows_read() still
 * counts the rows read through the table. The tables' own behaviour is
 * tested where it is used (test_store_accounts, test_ingest, test_eval,
 * test_ctas, test_notify, test_model, test_report, ...). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cta.h"
#include "store/codes.h"
#include "store/pg_int.h"
#include "store/sqlite_int.h"
#include "store/store.h"

static char dir[256];

static int dir_setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    return 0;
}

static int dir_teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A postgresql:// or postgres:// location is not a file name: it opens
 * the PostgreSQL backend, and a server that cannot be reached is a clear
 * error naming it (host and port, never a password), with nothing created
 * on disk. No server needed: port 1 on the loopback refuses at once. */
static void an_unreachable_postgres_server_is_named_in_the_error(void **state) {
    (void)state;
    const char *urls[] = {"postgresql://tend:secret@127.0.0.1:1/x",
                          "postgres://127.0.0.1:1/tend?connect_timeout=5"};
    if (chdir(dir) != 0)
        fail_msg("chdir %s", dir);
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct store *s = NULL;
        char err[STORE_ERR_BYTES] = "";
        assert_int_equal(store_open(urls[i], &s, err), TEND_ERR_IO);
        assert_null(s);
        print_message("ok: %s: %s\n", urls[i], err);
        assert_non_null(strstr(err, "PostgreSQL"));
        assert_non_null(strstr(err, "127.0.0.1"));
        assert_non_null(strstr(err, "port 1"));
        assert_null(strstr(err, "secret"));
        assert_int_equal(store_open_with(urls[i], STORE_OPEN_EXISTING, &s, err), TEND_ERR_IO);
        assert_null(s);
    }
    struct stat st;
    assert_int_not_equal(stat("postgresql:", &st), 0);
    assert_int_not_equal(stat("postgres:", &st), 0);
}

static int count_row(void *arg, const struct store_account_row *row) {
    (void)row;
    (*(int *)arg)++;
    return 0;
}

/* A file: URI opens SQLite at the URI's path (not a file named "file:..."),
 * and what is written there reads back from the plain path. */
static void a_file_uri_opens_the_sqlite_database_it_names(void **state) {
    (void)state;
    char uri[400], path[300];
    snprintf(path, sizeof path, "%s/uri.db", dir);
    snprintf(uri, sizeof uri, "file:%s?mode=rwc", path);
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (store_open(uri, &s, err) != TEND_OK)
        fail_msg("store_open(%s): %s", uri, err);
    assert_int_equal(store_schema_version(s), store_schema_latest());
    int64_t id;
    bool created;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_account_ensure(s, "acme", 1000, &id, &created), TEND_OK);
    assert_true(created);
    assert_int_equal(store_commit(s), TEND_OK);
    store_close(s);

    if (store_open_with(path, STORE_OPEN_EXISTING, &s, err) != TEND_OK)
        fail_msg("store_open(%s): %s", path, err);
    int64_t again;
    assert_int_equal(store_account_find(s, "acme", &again), TEND_OK);
    assert_int_equal(again, id);
    store_close(s);
}

/* Every field of the SQLite operations table is set: a missing one would be
 * a NULL call at run time. */
static void the_sqlite_backend_sets_every_operation(void **state) {
    (void)state;
    assert_string_equal(sqlite_ops.name, "sqlite");
    typedef void (*any_fn)(void);
    size_t n = (sizeof sqlite_ops - offsetof(struct store_ops, name) - sizeof sqlite_ops.name) /
               sizeof(any_fn);
    assert_true(n >= 100);
    const unsigned char *p = (const unsigned char *)&sqlite_ops + sizeof sqlite_ops.name;
    for (size_t i = 0; i < n; i++) {
        any_fn f;
        memcpy(&f, p + i * sizeof f, sizeof f);
        if (!f)
            fail_msg("operation %zu of %zu of the SQLite table is not set", i, n);
    }
    print_message("ok: %zu operations, all set\n", n);
}

/* The same of the PostgreSQL operations table. */
static void the_postgres_backend_sets_every_operation(void **state) {
    (void)state;
    assert_string_equal(pg_ops.name, "pg");
    typedef void (*any_fn)(void);
    assert_int_equal(sizeof pg_ops, sizeof sqlite_ops);
    size_t n = (sizeof pg_ops - sizeof pg_ops.name) / sizeof(any_fn);
    const unsigned char *p = (const unsigned char *)&pg_ops + sizeof pg_ops.name;
    for (size_t i = 0; i < n; i++) {
        any_fn f;
        memcpy(&f, p + i * sizeof f, sizeof f);
        if (!f)
            fail_msg("operation %zu of %zu of the PostgreSQL table is not set", i, n);
    }
    print_message("ok: %zu operations, all set\n", n);
}

/* The SQL literals of CTA statuses and close reasons are core's names. */
static void stored_cta_names_are_cores_names(void **state) {
    (void)state;
    char want[64];
    const struct {
        const char *sql;
        const char *name;
    } cases[] = {
        {SQL_CTA_OPEN, cta_status_name(CTA_OPEN)},
        {SQL_CTA_SNOOZED, cta_status_name(CTA_SNOOZED)},
        {SQL_CTA_CLOSED, cta_status_name(CTA_CLOSED)},
        {SQL_CTA_AUTO_RESOLVED, cta_close_reason_name(CTA_AUTO_RESOLVED)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(want, sizeof want, "'%s'", cases[i].name);
        assert_string_equal(cases[i].sql, want);
    }
}

/* store_rows_read() counts the rows a backend's queries return, through the
 * operations table. */
static void rows_read_counts_through_the_table(void **state) {
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/rows.db", dir);
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (store_open(path, &s, err) != TEND_OK)
        fail_msg("store_open: %s", err);
    int64_t id;
    bool created;
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    assert_int_equal(store_account_ensure(s, "a", 1, &id, &created), TEND_OK);
    assert_int_equal(store_account_ensure(s, "b", 1, &id, &created), TEND_OK);
    assert_int_equal(store_commit(s), TEND_OK);
    uint64_t before = store_rows_read();
    int n = 0;
    assert_int_equal(store_accounts_each(s, count_row, &n), TEND_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_rows_read() - before, 2);
    store_close(s);
    store_close(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_unreachable_postgres_server_is_named_in_the_error),
        cmocka_unit_test(a_file_uri_opens_the_sqlite_database_it_names),
        cmocka_unit_test(the_sqlite_backend_sets_every_operation),
        cmocka_unit_test(the_postgres_backend_sets_every_operation),
        cmocka_unit_test(stored_cta_names_are_cores_names),
        cmocka_unit_test(rows_read_counts_through_the_table),
    };
    return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
