/* bench/eval_touched.c: a full evaluation against event-triggered ones of
 * touched accounts, in one process, wall and CPU time (issue 17, Scale).
 *
 * tend serve's figures (bench/event, bench/scale) are wall times of one
 * thread among tend serve's, on a machine other work shares; this measures
 * eval_ctas_day and eval_ctas_accounts alone, with the process's CPU time
 * (every thread) beside the wall time, and the rows the store read
 * (store_rows_read). On SQLite, another connection writes between runs, so
 * that each starts with a cold page cache, as in tend serve where the
 * ingest commits between evaluations (PostgreSQL's cache is the server's,
 * shared). Default configuration (no tend.yaml), no outbox.
 *
 *   eval_touched DB DAY K FULL REPS
 *
 * DB a database file or postgresql:// URL (a copy: it is written), DAY the day as tend counts it
 * (days since 1970-01-01), K touched accounts a run, FULL 1 to run the full
 * evaluation of DAY first, REPS runs of K accounts each (different ones:
 * every account id shuffled with a fixed seed, REPS x K <= accounts).
 *
 * Not built by make; from the root, after make:
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Isrc $(pkg-config --cflags glib-2.0 libpq) \
 *      bench/eval_touched.c $(find build/release/src -name '*.o' ! -path '*cli*') \
 *      build/release/src/cli/config.o -o build/eval_touched \
 *      $(pkg-config --libs sqlite3 libcjson libmicrohttpd libxxhash glib-2.0 yaml-0.1 \
 *      lua5.4 libcurl libsodium libpq jemalloc) -lcsv -lm -lpthread */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/config.h"
#include "eval/ctas.h"
#include "store/store.h"

static double ms_of(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

struct ids {
    int64_t *v;
    size_t n, cap;
};

static int on_account(void *arg, const struct store_account_row *r) {
    struct ids *x = arg;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 1024;
        x->v = realloc(x->v, x->cap * sizeof *x->v);
        if (!x->v)
            abort();
    }
    x->v[x->n++] = r->id;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: eval_touched DB DAY K FULL REPS\n");
        return 2;
    }
    const char *db = argv[1];
    int32_t day = atoi(argv[2]);
    size_t k = (size_t)atol(argv[3]);
    int full = atoi(argv[4]), reps = atoi(argv[5]);
    static struct tend_config cfg;
    if (cli_load_config("eval_touched", NULL, &cfg))
        return 2;
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (store_open(db, &s, err)) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    struct eval_summary sum;
    if (full) {
        double t = ms_of(CLOCK_MONOTONIC), c = ms_of(CLOCK_PROCESS_CPUTIME_ID);
        uint64_t r0 = store_rows_read();
        if (eval_ctas_day(s, &cfg.health, &cfg.rules, NULL, day, NULL, NULL, &sum)) {
            fprintf(stderr, "%s\n", store_last_error(s));
            return 1;
        }
        printf("full: %lld accounts, %.1f ms, CPU %.1f ms, %llu rows\n", (long long)sum.accounts,
               ms_of(CLOCK_MONOTONIC) - t, ms_of(CLOCK_PROCESS_CPUTIME_ID) - c,
               (unsigned long long)(store_rows_read() - r0));
    }
    struct ids ids = {0};
    if (store_accounts_brief_each(s, on_account, &ids) || (size_t)reps * k > ids.n) {
        fprintf(stderr, "%zu accounts: too few for %d x %zu\n", ids.n, reps, k);
        return 2;
    }
    srand(1);
    for (size_t i = ids.n - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        int64_t x = ids.v[i];
        ids.v[i] = ids.v[j];
        ids.v[j] = x;
    }
    sqlite3 *other = NULL;
    if (strncmp(db, "postgres", 8) != 0 && sqlite3_open(db, &other) != SQLITE_OK)
        return 2;
    for (int r = 0; r < reps; r++) {
        if (other)
            sqlite3_exec(other,
                         "CREATE TABLE IF NOT EXISTS bench_poke (a); INSERT INTO bench_poke "
                         "VALUES (1)",
                         NULL, NULL, NULL);
        double t = ms_of(CLOCK_MONOTONIC), c = ms_of(CLOCK_PROCESS_CPUTIME_ID);
        uint64_t r0 = store_rows_read();
        if (eval_ctas_accounts(s, &cfg.health, &cfg.rules, NULL, day, ids.v + (size_t)r * k, k,
                               NULL, NULL, &sum)) {
            fprintf(stderr, "%s\n", store_last_error(s));
            return 1;
        }
        printf("touched %zu: %lld accounts, %.1f ms, CPU %.1f ms, %llu rows\n", k,
               (long long)sum.accounts, ms_of(CLOCK_MONOTONIC) - t,
               ms_of(CLOCK_PROCESS_CPUTIME_ID) - c, (unsigned long long)(store_rows_read() - r0));
    }
    sqlite3_close(other);
    free(ids.v);
    store_close(s);
    cli_free_config(&cfg);
    return 0;
}
