/* test_store_open_busy.c: opening a SQLite store while others write
 * (store/sqlite.c, migrate()).
 *
 * The finding (model.sh, "the card differs from tend model show's", seen on
 * a loaded machine): every new connection took the write lock (BEGIN
 * IMMEDIATE) to look for owed migrations, so while tend serve's catch-up
 * evaluations committed short write transactions back to back, SQLite's
 * busy handler missed every gap and a new connection of the web pool
 * failed after STORE_BUSY_MS: GET /api/model answered 503 "database is
 * locked" where tend model show, a moment later, printed the card. Here a
 * thread of its own commits short write transactions back to back on a
 * database already migrated while the test opens a second store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/datetime.h"

#define WRITER_DEADLINE_MS 60000 /* the writer stops at the latest then */

struct writer {
    const char *path;
    atomic_bool stop;
    atomic_int commits;
    bool failed;
};

/* Commits a write transaction holding the lock ~20 ms, again and again
 * with no pause between, until w->stop (or the deadline). */
static void *write_back_to_back(void *arg) {
    struct writer *w = arg;
    sqlite3 *db;
    if (sqlite3_open(w->path, &db) != SQLITE_OK) {
        w->failed = true;
        return NULL;
    }
    sqlite3_busy_timeout(db, 30000);
    sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS busy_test (n INTEGER)", NULL, NULL, NULL);
    int64_t end = dt_now_ms() + WRITER_DEADLINE_MS;
    while (!atomic_load(&w->stop) && dt_now_ms() < end) {
        if (sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO busy_test VALUES (1)", NULL, NULL,
                         NULL) != SQLITE_OK) {
            w->failed = true;
            break;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        atomic_fetch_add(&w->commits, 1);
    }
    sqlite3_close(db);
    return NULL;
}

/* A store opened on an up-to-date database while a writer commits back
 * to back opens at once: it needs no write lock when no migration is
 * owed (before the fix it waited STORE_BUSY_MS and failed "database is
 * locked"). */
static void opening_an_up_to_date_database_needs_no_write_lock(void **state) {
    (void)state;
    char dir[256], path[300], err[STORE_ERR_BYTES];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-open-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct store *first;
    assert_int_equal(store_open(path, &first, err), TEND_OK); /* creates and migrates */

    struct writer w = {.path = path};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_back_to_back, &w), 0);
    while (atomic_load(&w.commits) < 3 && !w.failed) { /* the writer is going */
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    int64_t t0 = dt_now_ms();
    struct store *second = NULL;
    enum tend_err e = store_open(path, &second, err);
    int64_t took = dt_now_ms() - t0;
    atomic_store(&w.stop, true);
    pthread_join(t, NULL);
    print_message("# a second store opened in %lld ms while %d write transactions committed\n",
                  (long long)took, atomic_load(&w.commits));
    if (e)
        print_message("# store_open: %s\n", err);
    assert_false(w.failed);
    assert_int_equal(e, TEND_OK);
    store_close(second);
    store_close(first);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The version read without a lock still refuses a database newer than
 * this tend knows, naming both versions. */
static void a_newer_database_is_still_refused(void **state) {
    (void)state;
    char dir[256], path[300], sql[200], err[STORE_ERR_BYTES];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-open-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.db", dir);
    struct store *s;
    assert_int_equal(store_open(path, &s, err), TEND_OK);
    store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql,
             "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, 'x', 'y')",
             store_schema_latest() + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(path, &s, err), TEND_ERR_DB);
    assert_non_null(strstr(err, "newer than this tend knows"));
    assert_non_null(strstr(err, "upgrade tend"));
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opening_an_up_to_date_database_needs_no_write_lock),
        cmocka_unit_test(a_newer_database_is_still_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
