/* test_move.c: tend migrate's table list (store/move.c) against the SQLite
 * schema, and the parts of the copy that need no server.
 *
 * The copy itself runs on a throwaway cluster in
 * tests/integration/migrate.sh. What is here fails in the commit of a new
 * SQLite migration that adds a table or a column without extending the
 * copy's table list: a new database at the newest schema must be covered
 * whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <unistd.h>

#include "store/move.h"
#include "store/store.h"

static char dir[256];

static int dir_setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-move-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A new database at the newest schema, at path. */
static void new_database(const char *name, char *path, size_t size) {
    snprintf(path, size, "%s/%s", dir, name);
    struct store *s = NULL;
    char err[STORE_ERR_BYTES];
    if (store_open(path, &s, err))
        fail_msg("store_open %s: %s", path, err);
    store_close(s);
}

static void run_sql(const char *path, const char *sql) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* Every table and column of the newest SQLite schema is in the list. */
static void the_table_list_covers_the_newest_schema(void **state) {
    (void)state;
    char path[300], err[MOVE_ERR_BYTES] = "";
    new_database("newest.db", path, sizeof path);
    enum tend_err e = move_check_sqlite(path, err);
    if (e)
        fail_msg("tend migrate's table list (src/store/move.c) misses part of schema %d: %s",
                 store_schema_latest(), err);
}

/* A column or table a migration adds without extending the list is named,
 * not silently left behind. */
static void a_column_or_table_the_list_lacks_is_named(void **state) {
    (void)state;
    char path[300], err[MOVE_ERR_BYTES] = "";
    new_database("column.db", path, sizeof path);
    run_sql(path, "ALTER TABLE outbox ADD COLUMN not_in_the_list INTEGER");
    assert_int_equal(move_check_sqlite(path, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "SQLite's column outbox.not_in_the_list is not in tend migrate's "
                                "table list (src/store/move.c)"));

    new_database("table.db", path, sizeof path);
    run_sql(path, "CREATE TABLE scheduler_lease (name TEXT PRIMARY KEY, term INTEGER)");
    assert_int_equal(move_check_sqlite(path, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "SQLite's table scheduler_lease is not in tend migrate's"));
}

/* A URL's password never reaches a message; a URL without one, or a path,
 * is unchanged. */
static void passwords_are_redacted(void **state) {
    (void)state;
    char buf[256];
    move_url_redacted("postgresql://tend:s3cret@db.example:5432/tend?sslmode=require", buf,
                      sizeof buf);
    assert_string_equal(buf, "postgresql://tend:***@db.example:5432/tend?sslmode=require");
    move_url_redacted("postgresql://tend@127.0.0.1:5432/tend", buf, sizeof buf);
    assert_string_equal(buf, "postgresql://tend@127.0.0.1:5432/tend");
    move_url_redacted("postgres://h/db?user=a@b", buf, sizeof buf);
    assert_string_equal(buf, "postgres://h/db?user=a@b");
    move_url_redacted("tend.db", buf, sizeof buf);
    assert_string_equal(buf, "tend.db");
    /* libpq also takes the password as a query parameter. */
    move_url_redacted("postgresql://h/db?sslmode=require&password=s3cret&user=t", buf, sizeof buf);
    assert_string_equal(buf, "postgresql://h/db?sslmode=require&password=***&user=t");
    move_url_redacted("postgresql://u:p@h/db?password=s3cret", buf, sizeof buf);
    assert_string_equal(buf, "postgresql://u:***@h/db?password=***");
    move_url_redacted("postgresql://h/db?xpassword=keep", buf, sizeof buf);
    assert_string_equal(buf, "postgresql://h/db?xpassword=keep");
}

/* The locations are checked before anything is opened: --from must be
 * SQLite, --to PostgreSQL, and a missing source is named. */
static void locations_are_checked_first(void **state) {
    (void)state;
    struct move_report r;
    char err[MOVE_ERR_BYTES] = "", missing[300];
    struct move_options o = {.from = "postgresql://h/db", .to = "postgresql://h/db"};
    assert_int_equal(move_copy(&o, &r, err), TEND_ERR_USAGE);
    assert_non_null(strstr(err, "--from must be a SQLite database"));
    o = (struct move_options){.from = "tend.db", .to = "other.db"};
    assert_int_equal(move_copy(&o, &r, err), TEND_ERR_USAGE);
    assert_non_null(strstr(err, "--to must be a PostgreSQL URL"));
    snprintf(missing, sizeof missing, "%s/missing.db", dir);
    o = (struct move_options){.from = missing, .to = "postgresql://127.0.0.1:1/tend"};
    assert_int_equal(move_copy(&o, &r, err), TEND_ERR_NOTFOUND);
    assert_non_null(strstr(err, "missing.db: no such database"));
    assert_int_equal(access(missing, F_OK), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_table_list_covers_the_newest_schema),
        cmocka_unit_test(a_column_or_table_the_list_lacks_is_named),
        cmocka_unit_test(passwords_are_redacted),
        cmocka_unit_test(locations_are_checked_first),
    };
    return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
