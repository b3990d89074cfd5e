/* pg_report.c: the stored reports of tend analyze and tend backtest in
 * PostgreSQL (pg_int.h); the contracts are store.h's ("reports"), the
 * reference is sqlite_report.c.
 *
 * What it is not: no HTML; the body is the fragment the analysis wrote,
 * stored and handed back as it is.
 *
 * A report is written once and never changed, and only the newest
 * STORE_REPORTS_KEPT are kept. The insert and the pruning are one unit: a
 * savepoint inside the caller's transaction, a transaction of their own
 * outside one. Two nodes pruning at once delete the same rows (the second
 * waits on the first's deletions and skips them); each keeps the newest
 * STORE_REPORTS_KEPT it sees. */
#include <stdio.h>
#include <string.h>

#include "store/pg_int.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

static const char q_put[] = "INSERT INTO reports (kind, title, created_ms, summary, body) "
                            "VALUES ($1, $2, $3::bigint, $4, $5) RETURNING id";
static const char q_prune[] =
    "DELETE FROM reports WHERE id NOT IN (SELECT id FROM reports "
    "ORDER BY created_ms DESC, id DESC LIMIT " STR(STORE_REPORTS_KEPT) ")";
/* LIMIT NULL: every report. */
static const char q_each[] = "SELECT id, kind, title, created_ms, summary FROM reports "
                             "ORDER BY created_ms DESC, id DESC LIMIT $1::bigint";
static const char q_get[] =
    "SELECT id, kind, title, created_ms, summary, body FROM reports WHERE id = $1::bigint";

/* Refuses what the table would refuse, with a message naming it. */
static enum tend_err report_check(struct pg_store *s, const struct store_report *r) {
    enum tend_err e = TEND_OK;
    if (!r->kind || (strcmp(r->kind, "analyze") != 0 && strcmp(r->kind, "backtest") != 0)) {
        snprintf(s->err, sizeof s->err, "report kind: must be analyze or backtest, not \"%.40s\"",
                 r->kind ? r->kind : "(none)");
        e = TEND_ERR_INVALID;
    } else if (!r->title || !r->body) {
        snprintf(s->err, sizeof s->err, "a report needs a title and a body");
        e = TEND_ERR_INVALID;
    } else if (strlen(r->body) > STORE_REPORT_MAX_BYTES) {
        snprintf(s->err, sizeof s->err, "report body: over %d bytes", STORE_REPORT_MAX_BYTES);
        e = TEND_ERR_LIMIT;
    } else if (strlen(r->title) > STORE_REPORT_TEXT_BYTES ||
               (r->summary && strlen(r->summary) > STORE_REPORT_TEXT_BYTES)) {
        snprintf(s->err, sizeof s->err, "report title or summary: over %d bytes",
                 STORE_REPORT_TEXT_BYTES);
        e = TEND_ERR_LIMIT;
    }
    return e;
}

enum tend_err pg_report_put(struct store *base, const struct store_report *r, int64_t *id) {
    struct pg_store *s = pg_of(base);
    enum tend_err e = report_check(s, r);
    if (e)
        return e;
    bool own = PQtransactionStatus(s->conn) == PQTRANS_IDLE;
    if ((e = pg_exec(s, own ? "BEGIN" : "SAVEPOINT store_report_put",
                     "starting to store a report")))
        return e;
    struct pg_params p = {0};
    pg_p_text(&p, r->kind);
    pg_p_text(&p, r->title);
    pg_p_i64(&p, r->created_ms);
    pg_p_text(&p, r->summary ? r->summary : "");
    pg_p_text(&p, r->body);
    int64_t new_id = 0;
    e = pg_int(s, q_put, &p, "storing a report", &new_id);
    if (!e)
        e = pg_run(s, q_prune, NULL, "deleting old reports");
    if (!e)
        e = pg_exec(s, own ? "COMMIT" : "RELEASE SAVEPOINT store_report_put", "storing a report");
    if (e) {
        /* Keep the first error's message: the rollback's own cannot be more useful. */
        char msg[STORE_ERR_BYTES];
        snprintf(msg, sizeof msg, "%s", s->err);
        pg_exec(s,
                own ? "ROLLBACK"
                    : "ROLLBACK TO SAVEPOINT store_report_put; RELEASE SAVEPOINT store_report_put",
                "undoing a report");
        snprintf(s->err, sizeof s->err, "%s", msg);
        return e;
    }
    *id = new_id;
    return TEND_OK;
}

/* Row i of q_each or q_get (their first five columns agree); body is column
 * 5 of q_get. */
static struct store_report report_row(const PGresult *r, int i, bool with_body) {
    return (struct store_report){
        .id = pg_i64(r, i, 0),
        .kind = pg_text(r, i, 1),
        .title = pg_text(r, i, 2),
        .created_ms = pg_i64(r, i, 3),
        .summary = pg_text(r, i, 4),
        .body = with_body ? pg_text(r, i, 5) : NULL,
    };
}

enum tend_err pg_reports_each(struct store *base, int limit,
                              void (*fn)(void *arg, const struct store_report *r), void *arg) {
    struct pg_params p = {0};
    if (limit > 0)
        pg_p_int(&p, limit);
    else
        pg_p_null(&p);
    PGresult *r;
    enum tend_err e = pg_query(pg_of(base), q_each, &p, "listing reports", &r);
    if (e)
        return e;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_report x = report_row(r, i, false);
        fn(arg, &x);
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_report_get(struct store *base, int64_t id,
                            void (*fn)(void *arg, const struct store_report *r), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, id);
    PGresult *r;
    enum tend_err e = pg_query(s, q_get, &p, "reading a report", &r);
    if (e)
        return e;
    if (PQntuples(r) == 1) {
        struct store_report x = report_row(r, 0, true);
        fn(arg, &x);
    } else {
        snprintf(s->err, sizeof s->err, "no report %lld", (long long)id);
        e = TEND_ERR_NOTFOUND;
    }
    PQclear(r);
    return e;
}
