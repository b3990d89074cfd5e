/* pg_pipeline.c: statements whose result nobody waits for, sent in libpq's
 * pipeline mode (pg_int.h: pg_run_later, pg_pipeline_*).
 *
 * Ingest writes many rows whose outcome it does not read: a trait's upsert,
 * an account's typed columns, a login day, a counter, a lock taken before a
 * read. Sent one by one, each cost a round trip to the server (two thirds
 * of the statements of an identify call: docs/benchmarks.md, "Scale").
 * pg_run_later() queues such a statement on the connection (PQsendQuery*,
 * nothing read back) instead; the server runs the queue in order. The next
 * statement whose result is wanted (pg_query) goes after the queue in the
 * same pipeline with one sync, and its round trip reads every queued
 * result: n writes and a read cost one round trip, not n + 1.
 *
 * Order and visibility: the server runs the statements in the order sent, in
 * the one transaction, so a read sees every write queued before it, as it
 * would one by one. A statement that must not be pipelined (COPY, PQexec's
 * several statements, single-row mode, PQprepare of a new statement) is
 * preceded by pg_pipeline_drain(), which reads the queue's results and leaves
 * pipeline mode.
 *
 * Errors: a queued statement's failure is reported by the next statement
 * that waits (the read, the drain, the commit), as that statement's error,
 * with the failed statement's own message and SQLSTATE (so a deadlock is
 * still TEND_ERR_BUSY and the writer retries); every statement after it in
 * the pipeline is skipped by the server, and the transaction is lost, as it
 * would be without the pipeline. Only statements inside a transaction are
 * queued (outside one each statement commits alone, and its failure must be
 * its own caller's), and only those whose caller reads neither rows nor the
 * count of rows changed.
 *
 * Bounded: at most PG_PIPE_MAX statements wait; the next drains first. Their
 * results (a few dozen bytes each) stay far below a socket's buffer, so the
 * server never blocks writing results we have not read while we block
 * writing statements it has not read (libpq's pipeline deadlock). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"

/* Reads the queued statements' results (and, when want is set, one more:
 * the statement sent after them, into *out), then the sync, and leaves
 * pipeline mode. Returns the first error of the queue (the statement after
 * a failure is skipped by the server, so its own error would only say so). */
static enum tend_err collect(struct pg_store *s, bool want, const char *what, PGresult **out) {
    enum tend_err err = TEND_OK;
    int n = s->pipe_n + (want ? 1 : 0);
    for (int i = 0; i < n; i++) {
        bool mine = want && i == s->pipe_n;
        PGresult *r;
        while ((r = PQgetResult(s->conn))) {
            ExecStatusType st = PQresultStatus(r);
            bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
            if (!ok && !err)
                err = pg_fail(s, mine ? what : s->pipe_what[i], r);
            if (ok && mine && !err) {
                const char *changed = PQcmdTuples(r);
                s->changes = changed && *changed ? strtoll(changed, NULL, 10) : 0;
                if (st == PGRES_TUPLES_OK)
                    store_rows_add((uint64_t)PQntuples(r));
                *out = r;
            } else {
                PQclear(r);
            }
        }
    }
    /* The sync's own result, then out of pipeline mode. */
    PGresult *r;
    while ((r = PQgetResult(s->conn))) {
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC)
            break;
    }
    s->pipe_n = 0;
    if (!PQexitPipelineMode(s->conn) && !err) {
        err = pg_fail(s, "leaving pipeline mode", NULL);
    }
    if (err && want && *out) {
        PQclear(*out);
        *out = NULL;
    }
    return err;
}

enum tend_err pg_pipeline_drain(struct pg_store *s) {
    if (!s->pipe_n)
        return TEND_OK;
    if (!PQpipelineSync(s->conn)) {
        enum tend_err err = pg_fail(s, s->pipe_what[0], NULL);
        pg_pipeline_discard(s);
        return err;
    }
    return collect(s, false, NULL, NULL);
}

void pg_pipeline_discard(struct pg_store *s) {
    if (PQpipelineStatus(s->conn) == PQ_PIPELINE_OFF) {
        s->pipe_n = 0;
        return;
    }
    /* Read whatever is left (the connection may be broken: then libpq
     * returns NULL at once), and leave pipeline mode. */
    if (s->pipe_n && PQpipelineSync(s->conn)) {
        char keep[STORE_ERR_BYTES];
        memcpy(keep, s->err, sizeof keep); /* the error that made us discard */
        (void)collect(s, false, NULL, NULL);
        memcpy(s->err, keep, sizeof keep);
    }
    s->pipe_n = 0;
    if (!PQexitPipelineMode(s->conn)) {
        PGresult *r;
        while ((r = PQgetResult(s->conn)))
            PQclear(r);
        PQexitPipelineMode(s->conn);
    }
}

enum tend_err pg_pipeline_send(struct pg_store *s, const char *sql, const char *name, int n,
                               const char *const *v) {
    if (PQpipelineStatus(s->conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(s->conn))
        return pg_fail(s, "entering pipeline mode", NULL);
    int sent = name ? PQsendQueryPrepared(s->conn, name, n, v, NULL, NULL, 0)
                    : PQsendQueryParams(s->conn, sql, n, NULL, v, NULL, NULL, 0);
    if (!sent)
        return pg_fail(s, "sending a statement", NULL);
    return TEND_OK;
}

enum tend_err pg_pipeline_query(struct pg_store *s, const char *sql, const char *name, int n,
                                const char *const *v, const char *what, PGresult **out) {
    *out = NULL;
    enum tend_err err = pg_pipeline_send(s, sql, name, n, v);
    if (!err && !PQpipelineSync(s->conn))
        err = pg_fail(s, what, NULL);
    if (err) {
        pg_pipeline_discard(s);
        return err;
    }
    err = collect(s, true, what, out);
    if (!err && !*out) {
        snprintf(s->err, sizeof s->err, "%s: no result", what);
        err = TEND_ERR_DB;
    }
    return err;
}

bool pg_pipeline_may_queue(struct pg_store *s) {
    return s->in_tx && PQtransactionStatus(s->conn) != PQTRANS_IDLE &&
           PQtransactionStatus(s->conn) != PQTRANS_INERROR;
}

void pg_pipeline_queued(struct pg_store *s, const char *what) {
    s->pipe_what[s->pipe_n++] = what;
}
