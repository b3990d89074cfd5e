/* test_db.h: the store a unit test runs on, SQLite or PostgreSQL, so that
 * the same tests are the conformance suite of both backends.
 *
 * test_db_open(path, ...) opens the SQLite file path, or, when
 * TEND_TEST_PG_URL names a server (tests/integration/store_pg.sh starts a
 * throwaway cluster), a schema of that server named after path: created on
 * first use, found again when the test opens path a second time, and apart
 * from every other test's (the URL's search_path, set through libpq's
 * options). test_db_backend() says which ("sqlite" or "postgresql"), for
 * the few tests that check something only one backend has. */
#ifndef TEND_TESTS_TEST_DB_H
#define TEND_TESTS_TEST_DB_H

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static inline const char *test_db_pg_url(void) {
    const char *u = getenv("TEND_TEST_PG_URL");
    return u && *u ? u : NULL;
}

static inline const char *test_db_backend(void) {
    return test_db_pg_url() ? "postgresql" : "sqlite";
}

/* The URL of path's schema on the server (created if need be) into url. */
static inline int test_db_pg_schema(const char *path, char *url, size_t size) {
    const char *server = test_db_pg_url();
    uint64_t h = 1469598103934665603ULL; /* FNV-1a of the path */
    for (const char *c = path; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    char schema[32], sql[96];
    snprintf(schema, sizeof schema, "t_%016llx", (unsigned long long)h);
    PGconn *c = PQconnectdb(server);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "test_db: cannot connect to %s: %s", server, PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS %s",
             schema);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "test_db: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    snprintf(url, size, "%s%coptions=-csearch_path%%3D%s", server, strchr(server, '?') ? '&' : '?',
             schema);
    return ok ? 0 : -1;
}

/* store_open() of path's store on the backend under test. */
static inline enum tend_err test_db_open(const char *path, struct store **s, char *err) {
    if (!test_db_pg_url())
        return store_open(path, s, err);
    char url[1024];
    if (test_db_pg_schema(path, url, sizeof url) != 0) {
        snprintf(err, STORE_ERR_BYTES, "test_db: cannot make the schema of %s", path);
        return TEND_ERR_DB;
    }
    return store_open(url, s, err);
}

#endif
