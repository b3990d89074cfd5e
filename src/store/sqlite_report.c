/* sqlite_report.c: the stored reports of tend analyze and tend backtest in
 * SQLite (see store.h, "reports", and docs/store.md).
 *
 * What it is not: no HTML; the body is the fragment the analysis wrote,
 * stored and handed back as it is.
 *
 * The design: a report is written once and never changed, and only the newest
 * STORE_REPORTS_KEPT are kept, so the table stays a few megabytes and a list
 * reads at most that many rows without an index. The insert and the pruning
 * run under one savepoint: inside a caller's transaction it nests, alone it is
 * a transaction of its own, and either way both happen or neither. */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

static const char q_savepoint[] = "SAVEPOINT store_report_put";
static const char q_release[] = "RELEASE store_report_put";
static const char q_rollback[] = "ROLLBACK TO store_report_put";
static const char q_put[] = "INSERT INTO reports (kind, title, created_ms, summary, body) "
                            "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
static const char q_prune[] =
    "DELETE FROM reports WHERE id NOT IN (SELECT id FROM reports "
    "ORDER BY created_ms DESC, id DESC LIMIT " STR(STORE_REPORTS_KEPT) ")";
static const char q_each[] = "SELECT id, kind, title, created_ms, summary FROM reports "
                             "ORDER BY created_ms DESC, id DESC LIMIT ?1";
static const char q_get[] =
    "SELECT id, kind, title, created_ms, summary, body FROM reports WHERE id = ?1";

/* Refuses what the table would refuse, with a message naming it. */
static enum tend_err report_check(struct sqlite_store *s, const struct store_report *r) {
    char msg[160];
    enum tend_err e = TEND_OK;
    if (!r->kind || (strcmp(r->kind, "analyze") != 0 && strcmp(r->kind, "backtest") != 0)) {
        snprintf(msg, sizeof msg, "report kind: must be analyze or backtest, not \"%.40s\"",
                 r->kind ? r->kind : "(none)");
        e = TEND_ERR_INVALID;
    } else if (!r->title || !r->body) {
        snprintf(msg, sizeof msg, "a report needs a title and a body");
        e = TEND_ERR_INVALID;
    } else if (strlen(r->body) > STORE_REPORT_MAX_BYTES) {
        snprintf(msg, sizeof msg, "report body: over %d bytes", STORE_REPORT_MAX_BYTES);
        e = TEND_ERR_LIMIT;
    } else if (strlen(r->title) > STORE_REPORT_TEXT_BYTES ||
               (r->summary && strlen(r->summary) > STORE_REPORT_TEXT_BYTES)) {
        snprintf(msg, sizeof msg, "report title or summary: over %d bytes",
                 STORE_REPORT_TEXT_BYTES);
        e = TEND_ERR_LIMIT;
    }
    if (e)
        store_set_error(&s->base, msg);
    return e;
}

enum tend_err sqlite_report_put(struct store *base, const struct store_report *r, int64_t *id) {
    struct sqlite_store *s = sqlite_of(base);
    enum tend_err e = report_check(s, r);
    if (e)
        return e;
    if ((e = sqlite_done(s, sqlite_stmt(s, q_savepoint), "starting to store a report")))
        return e;
    sqlite3_stmt *st = sqlite_stmt(s, q_put);
    sqlite_bind_text(st, 1, r->kind);
    sqlite_bind_text(st, 2, r->title);
    sqlite3_bind_int64(st, 3, r->created_ms);
    sqlite_bind_text(st, 4, r->summary ? r->summary : "");
    sqlite_bind_text(st, 5, r->body);
    int64_t new_id = 0;
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW) {
        new_id = sqlite3_column_int64(st, 0);
        rc = sqlite_step(st);
    }
    if (rc != SQLITE_DONE)
        e = sqlite_fail(s, "storing a report");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!e)
        e = sqlite_done(s, sqlite_stmt(s, q_prune), "deleting old reports");
    if (e) {
        /* Keep the first error's message: the rollback's own cannot be more useful. */
        char msg[STORE_ERR_BYTES];
        snprintf(msg, sizeof msg, "%s", store_last_error(&s->base));
        sqlite_done(s, sqlite_stmt(s, q_rollback), "undoing a report");
        sqlite_done(s, sqlite_stmt(s, q_release), "undoing a report");
        store_set_error(&s->base, msg);
        return e;
    }
    if ((e = sqlite_done(s, sqlite_stmt(s, q_release), "storing a report")))
        return e;
    *id = new_id;
    return TEND_OK;
}

/* A row of q_each or q_get (their first five columns agree); body is column
 * 5 of q_get. */
static struct store_report report_row(sqlite3_stmt *st, bool with_body) {
    return (struct store_report){
        .id = sqlite3_column_int64(st, 0),
        .kind = sqlite_col_text(st, 1),
        .title = sqlite_col_text(st, 2),
        .created_ms = sqlite3_column_int64(st, 3),
        .summary = sqlite_col_text(st, 4),
        .body = with_body ? sqlite_col_text(st, 5) : NULL,
    };
}

enum tend_err sqlite_reports_each(struct store *base, int limit,
                                  void (*fn)(void *arg, const struct store_report *r), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_each);
    sqlite3_bind_int(st, 1, limit > 0 ? limit : -1);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_report r = report_row(st, false);
        fn(arg, &r);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing reports");
}

enum tend_err sqlite_report_get(struct store *base, int64_t id,
                                void (*fn)(void *arg, const struct store_report *r), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_get);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite_step(st);
    enum tend_err e = TEND_OK;
    if (rc == SQLITE_ROW) {
        struct store_report r = report_row(st, true);
        fn(arg, &r);
    } else if (rc == SQLITE_DONE) {
        char msg[64];
        snprintf(msg, sizeof msg, "no report %lld", (long long)id);
        store_set_error(&s->base, msg);
        e = TEND_ERR_NOTFOUND;
    } else {
        e = sqlite_fail(s, "reading a report");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}
