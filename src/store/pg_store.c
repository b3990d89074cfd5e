/* pg_store.c: the PostgreSQL backend of store.h: the connection, its
 * transactions, the statement cache, parameters, results, errors, and the
 * operations table (pg_int.h).
 *
 * One libpq connection per struct pg_store, in READ COMMITTED transactions:
 * the statements that must not race another node say so themselves
 * (INSERT ... ON CONFLICT, SELECT ... FOR UPDATE [SKIP LOCKED]). A commit
 * returns after the server has flushed it (synchronous_commit on, the
 * server's default), so an acknowledged message survives kill -9 of tend and
 * of the server alike.
 *
 * Errors: libpq's messages never leave the backend; they become TEND_ERR_DB
 * (or CONFLICT, BUSY: pg_int.h) with the message kept for
 * store_last_error(). A lost connection is not reconnected behind a
 * caller's back: the transaction it was in is gone, so the operation fails,
 * and the next store_begin() reconnects (libpq's PQreset). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"
#include "store/pg_int.h"
#include "util/mem.h"

/* ---- parameters --------------------------------------------------------- */

static char *slot(struct pg_params *p) {
    if (p->n >= PG_MAX_PARAMS) {
        fprintf(stderr, "tend: store: more than %d parameters\n", PG_MAX_PARAMS);
        abort();
    }
    return p->num[p->n];
}

void pg_p_i64(struct pg_params *p, int64_t v) {
    char *b = slot(p);
    snprintf(b, sizeof p->num[0], "%" PRId64, v);
    p->v[p->n++] = b;
}

void pg_p_int(struct pg_params *p, int v) {
    pg_p_i64(p, v);
}

void pg_p_id(struct pg_params *p, int64_t id) {
    if (id)
        pg_p_i64(p, id);
    else
        pg_p_null(p);
}

void pg_p_f64(struct pg_params *p, double v) {
    char *b = slot(p);
    if (isnan(v))
        snprintf(b, sizeof p->num[0], "NaN");
    else if (isinf(v))
        snprintf(b, sizeof p->num[0], v > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(b, sizeof p->num[0], "%.17g", v);
    p->v[p->n++] = b;
}

void pg_p_f64_or_null(struct pg_params *p, bool has, double v) {
    if (has)
        pg_p_f64(p, v);
    else
        pg_p_null(p);
}

void pg_p_bool(struct pg_params *p, bool v) {
    slot(p);
    p->v[p->n++] = v ? "t" : "f";
}

void pg_p_text(struct pg_params *p, const char *v) {
    slot(p);
    p->v[p->n++] = v;
}

void pg_p_null(struct pg_params *p) {
    pg_p_text(p, NULL);
}

void pg_p_ids(struct pg_params *p, const int64_t *ids, size_t n) {
    slot(p);
    size_t cap = n * 21 + 3, len = 0;
    char *a = xmalloc(cap);
    a[len++] = '{';
    for (size_t k = 0; k < n; k++)
        len += (size_t)snprintf(a + len, cap - len, k ? ",%" PRId64 : "%" PRId64, ids[k]);
    a[len++] = '}';
    a[len] = '\0';
    p->owned[p->n_owned++] = a;
    p->v[p->n++] = a;
}

static void params_free(struct pg_params *p) {
    if (!p)
        return;
    for (int i = 0; i < p->n_owned; i++)
        free(p->owned[i]);
    p->n_owned = 0;
}

/* ---- errors and results --------------------------------------------------- */

enum tend_err pg_fail(struct pg_store *s, const char *what, const PGresult *r) {
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!msg)
        msg = PQerrorMessage(s->conn);
    int n = snprintf(s->err, sizeof s->err, "%s: %s", what, msg && *msg ? msg : "unknown error");
    size_t len = n < 0 ? 0 : strlen(s->err);
    while (len > 0 && (s->err[len - 1] == '\n' || s->err[len - 1] == ' '))
        s->err[--len] = '\0';
    for (char *c = s->err; *c; c++)
        if (*c == '\n' || *c == '\t')
            *c = ' ';
    if (state && len + 20 < sizeof s->err)
        snprintf(s->err + len, sizeof s->err - len, " (SQLSTATE %s)", state);
    if (state && strcmp(state, "23505") == 0)
        return TEND_ERR_CONFLICT;
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
        return TEND_ERR_BUSY;
    return TEND_ERR_DB;
}

int64_t pg_i64(const PGresult *r, int i, int col) {
    return PQgetisnull(r, i, col) ? 0 : strtoll(PQgetvalue(r, i, col), NULL, 10);
}

double pg_f64(const PGresult *r, int i, int col) {
    return PQgetisnull(r, i, col) ? 0 : strtod(PQgetvalue(r, i, col), NULL);
}

bool pg_bool(const PGresult *r, int i, int col) {
    return !PQgetisnull(r, i, col) && PQgetvalue(r, i, col)[0] == 't';
}

const char *pg_text(const PGresult *r, int i, int col) {
    return PQgetisnull(r, i, col) ? NULL : PQgetvalue(r, i, col);
}

bool pg_null(const PGresult *r, int i, int col) {
    return PQgetisnull(r, i, col);
}

/* ---- the statement cache -------------------------------------------------- */

static size_t stmt_slot(const char *sql) {
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (PG_STMT_SLOTS - 1);
}

/* The name sql is prepared under on this connection ("t" and its slot),
 * preparing it first if need be; false (error recorded) if it does not
 * prepare. */
/* Whether sql is prepared on this connection already. */
static bool stmt_known(const struct pg_store *s, const char *sql) {
    size_t i = stmt_slot(sql);
    while (s->stmts[i].sql && s->stmts[i].sql != sql)
        i = (i + 1) & (PG_STMT_SLOTS - 1);
    return s->stmts[i].sql != NULL;
}

static bool prepared(struct pg_store *s, const char *sql, int n_params, char name[16]) {
    size_t i = stmt_slot(sql);
    while (s->stmts[i].sql && s->stmts[i].sql != sql)
        i = (i + 1) & (PG_STMT_SLOTS - 1);
    snprintf(name, 16, "t%zu", i);
    if (s->stmts[i].sql)
        return true;
    if (s->n_stmts >= PG_STMT_SLOTS / 4 * 3) {
        fprintf(stderr, "tend: store: more statements than slots; raise PG_STMT_SLOTS\n");
        abort();
    }
    PGresult *r = PQprepare(s->conn, name, sql, n_params, NULL);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        pg_fail(s, "preparing a statement", r);
    PQclear(r);
    if (ok) {
        s->stmts[i].sql = sql;
        s->n_stmts++;
    }
    return ok;
}

/* Writes the deferred rows, and the staged events when sql needs them,
 * before a statement runs (pg_int.h). */
static enum tend_err flush_first(struct pg_store *s, const char *sql) {
    enum tend_err err = pg_deferred_flush(s);
    if (!err)
        err = pg_ingest_flush_before(s, sql);
    if (err || !s->staged || s->flushing)
        return err;
    return pg_events_flush_before(s, sql);
}

/* flush_first(), then, with statements queued (pg_pipeline.c), drains them
 * unless sql may join their pipeline: prepared already (PQprepare waits) and
 * not a stream or a PQexec (sql NULL). */
static enum tend_err flush_and_pipe(struct pg_store *s, const char *sql) {
    enum tend_err err = flush_first(s, sql);
    if (!err && s->pipe_n && (!sql || (!s->unnamed && !stmt_known(s, sql))))
        err = pg_pipeline_drain(s);
    return err;
}

enum tend_err pg_query(struct pg_store *s, const char *sql, struct pg_params *p, const char *what,
                       PGresult **out) {
    enum tend_err err = flush_and_pipe(s, sql);
    char name[16];
    if (err || (!s->unnamed && !prepared(s, sql, p ? p->n : 0, name))) {
        params_free(p);
        return err ? err : TEND_ERR_DB;
    }
    int n = p ? p->n : 0;
    const char *const *v = p ? p->v : NULL;
    if (s->pipe_n) {
        /* After the queued writes, in their pipeline: one round trip. */
        err = pg_pipeline_query(s, sql, s->unnamed ? NULL : name, n, v, what, out);
        params_free(p);
        return err;
    }
    PGresult *r = s->unnamed ? PQexecParams(s->conn, sql, n, NULL, v, NULL, NULL, 0)
                             : PQexecPrepared(s->conn, name, n, v, NULL, NULL, 0);
    params_free(p);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        err = pg_fail(s, what, r);
        PQclear(r);
        return err;
    }
    const char *changed = PQcmdTuples(r);
    s->changes = changed && *changed ? strtoll(changed, NULL, 10) : 0;
    if (st == PGRES_TUPLES_OK)
        store_rows_add((uint64_t)PQntuples(r));
    *out = r;
    return TEND_OK;
}

enum tend_err pg_run(struct pg_store *s, const char *sql, struct pg_params *p, const char *what) {
    PGresult *r;
    enum tend_err err = pg_query(s, sql, p, what, &r);
    if (!err)
        PQclear(r);
    return err;
}

enum tend_err pg_run_later(struct pg_store *s, const char *sql, struct pg_params *p,
                           const char *what) {
    if (!pg_pipeline_may_queue(s))
        return pg_run(s, sql, p, what);
    enum tend_err err = flush_first(s, sql);
    if (!err && (s->pipe_n >= PG_PIPE_MAX || (!s->unnamed && !stmt_known(s, sql))))
        err = pg_pipeline_drain(s);
    char name[16];
    if (err || (!s->unnamed && !prepared(s, sql, p ? p->n : 0, name))) {
        params_free(p);
        return err ? err : TEND_ERR_DB;
    }
    /* libpq copies the parameters into its buffer as it queues them. */
    err = pg_pipeline_send(s, sql, s->unnamed ? NULL : name, p ? p->n : 0, p ? p->v : NULL);
    params_free(p);
    if (err) {
        pg_pipeline_discard(s);
        return err;
    }
    pg_pipeline_queued(s, what);
    return TEND_OK;
}

enum tend_err pg_int(struct pg_store *s, const char *sql, struct pg_params *p, const char *what,
                     int64_t *out) {
    PGresult *r;
    enum tend_err err = pg_query(s, sql, p, what, &r);
    if (err)
        return err;
    if (PQntuples(r) == 0)
        err = TEND_ERR_NOTFOUND;
    else
        *out = pg_i64(r, 0, 0);
    PQclear(r);
    return err;
}

enum tend_err pg_stream(struct pg_store *s, const char *sql, struct pg_params *p, const char *what,
                        void (*row)(void *arg, PGresult *r, int i), void *arg) {
    enum tend_err err = flush_first(s, sql);
    if (!err)
        err = pg_pipeline_drain(s); /* single-row mode is not pipelined */
    char name[16];
    if (err || (!s->unnamed && !prepared(s, sql, p ? p->n : 0, name))) {
        params_free(p);
        return err ? err : TEND_ERR_DB;
    }
    int n = p ? p->n : 0;
    const char *const *v = p ? p->v : NULL;
    int sent = s->unnamed ? PQsendQueryParams(s->conn, sql, n, NULL, v, NULL, NULL, 0)
                          : PQsendQueryPrepared(s->conn, name, n, v, NULL, NULL, 0);
    params_free(p);
    if (!sent)
        return pg_fail(s, what, NULL);
    PQsetSingleRowMode(s->conn);
    PGresult *r;
    while ((r = PQgetResult(s->conn))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE) {
            store_rows_add(1);
            row(arg, r, 0);
        } else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && !err) {
            err = pg_fail(s, what, r);
        }
        PQclear(r);
    }
    return err;
}

enum tend_err pg_exec(struct pg_store *s, const char *sql, const char *what) {
    enum tend_err err = flush_and_pipe(s, NULL);
    if (err)
        return err;
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        err = pg_fail(s, what, r);
    PQclear(r);
    return err;
}

enum tend_err pg_unbuilt(struct store *base, const char *op) {
    struct pg_store *s = pg_of(base);
    snprintf(s->err, sizeof s->err, "PostgreSQL: %s is not available on this backend yet", op);
    return TEND_ERR_INVALID;
}

/* ---- the connection and its transactions ---------------------------------- */

/* pg_snapshot_xmax() of a fresh snapshot: the first transaction id not yet
 * begun. */
static enum tend_err read_xmax(struct pg_store *s, uint64_t *xmax) {
    static const char q_xmax[] = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint";
    int64_t v = 0;
    enum tend_err err = pg_int(s, q_xmax, NULL, "reading the snapshot", &v);
    if (!err)
        *xmax = (uint64_t)v;
    return err;
}

static struct pg_store *pg_new(const char *url) {
    struct pg_store *s = xcalloc(1, sizeof *s);
    s->base.ops = &pg_ops;
    s->url = xstrdup(url);
    /* Behind a pooler in transaction mode (PgBouncer before 1.21) a named
     * statement prepared on one server connection is not there on the next:
     * TEND_PG_POOL=transaction sends every statement unnamed
     * (docs/operations.md, "Connection pooling"). */
    const char *pool = getenv("TEND_PG_POOL");
    s->unnamed = pool && strcmp(pool, "transaction") == 0;
    return s;
}

/* Connects s to its URL (and, unless read-only, migrates). */
static enum tend_err connect_store(struct pg_store *s, bool migrate, char *err) {
    char msg[PG_ERR_BYTES];
    enum tend_err e = pg_connect(s->url, &s->conn, msg);
    if (!e && migrate)
        e = pg_migrate(s->conn, msg);
    if (!e)
        e = pg_read_schema_version(s->conn, &s->schema_version, msg);
    if (e) {
        snprintf(err, STORE_ERR_BYTES, "%s", msg);
        return e;
    }
    if (s->read_only &&
        (e = pg_exec(s, "SET default_transaction_read_only = on", "configuring the reader"))) {
        snprintf(err, STORE_ERR_BYTES, "%s", s->err);
        return e;
    }
    if ((e = read_xmax(s, &s->xmax)))
        snprintf(err, STORE_ERR_BYTES, "%s", s->err);
    return e;
}

enum tend_err pg_open_with(const char *url, unsigned flags, struct store **out, char *err) {
    (void)flags; /* STORE_OPEN_EXISTING: a server database always exists once reached */
    struct pg_store *s = pg_new(url);
    enum tend_err e = connect_store(s, true, err);
    if (e) {
        pg_close(&s->base);
        return e;
    }
    *out = &s->base;
    return TEND_OK;
}

enum tend_err pg_open_again(struct store *base, struct store **out, char *err) {
    struct pg_store *s = pg_of(base);
    struct pg_store *r = pg_new(s->url);
    r->read_only = true;
    enum tend_err e = connect_store(r, false, err);
    if (e) {
        pg_close(&r->base);
        return e;
    }
    *out = &r->base;
    return TEND_OK;
}

void pg_set_error(struct store *base, const char *msg) {
    struct pg_store *s = pg_of(base);
    snprintf(s->err, sizeof s->err, "%s", msg);
}

void pg_close(struct store *base) {
    struct pg_store *s = pg_of(base);
    if (!s)
        return;
    pg_events_free(s);
    pg_deferred_free(s);
    pg_ingest_free(s);
    pg_disconnect(s->conn);
    free(s->url);
    free(s);
}

int pg_schema_version(struct store *base) {
    return pg_of(base)->schema_version;
}

const char *pg_last_error(struct store *base) {
    return pg_of(base)->err;
}

/* A connection that broke is reset before a new transaction: prepared
 * statements went with the old session. */
static enum tend_err ensure_connected(struct pg_store *s) {
    if (PQstatus(s->conn) == CONNECTION_OK)
        return TEND_OK;
    PQreset(s->conn);
    memset(s->stmts, 0, sizeof s->stmts);
    s->n_stmts = 0;
    if (PQstatus(s->conn) != CONNECTION_OK)
        return pg_fail(s, "reconnecting to PostgreSQL", NULL);
    if (s->read_only)
        return pg_exec(s, "SET default_transaction_read_only = on", "configuring the reader");
    return TEND_OK;
}

enum tend_err pg_begin(struct store *base, bool *changed_elsewhere) {
    struct pg_store *s = pg_of(base);
    enum tend_err err = ensure_connected(s);
    if (!err)
        err = pg_exec(s, "BEGIN", "starting a transaction");
    if (err)
        return err;
    s->in_tx = true;
    uint64_t xmax = 0;
    if ((err = read_xmax(s, &xmax))) {
        pg_rollback(base);
        return err;
    }
    if (changed_elsewhere)
        *changed_elsewhere = xmax != s->xmax;
    s->xmax = xmax;
    return TEND_OK;
}

enum tend_err pg_commit(struct store *base) {
    struct pg_store *s = pg_of(base);
    enum tend_err err = flush_first(s, NULL);
    if (!err)
        err = pg_exec(s, "COMMIT", "committing");
    if (err) {
        pg_rollback(base);
        return err;
    }
    s->in_tx = false;
    pg_ingest_forget(s);
    /* Our own commit advanced xmax; what it is now is the mark. */
    read_xmax(s, &s->xmax);
    return TEND_OK;
}

void pg_rollback(struct store *base) {
    struct pg_store *s = pg_of(base);
    pg_pipeline_discard(s);
    pg_ingest_forget(s);
    pg_events_discard(s);
    pg_deferred_discard(s);
    if (s->in_tx || PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        PQclear(PQexec(s->conn, "ROLLBACK"));
    s->in_tx = false;
}

enum tend_err pg_copy_to(struct store *base, const char *path) {
    (void)path;
    return pg_unbuilt(base, "a copy of the database to a file (tend backtest)");
}

/* ---- the operations table (backend.h) ------------------------------------- */

const struct store_ops pg_ops = {
    .name = "pg",
    .open_again = pg_open_again,
    .set_error = pg_set_error,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .last_error = pg_last_error,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .account_find = pg_account_find,
    .account_ensure = pg_account_ensure,
    .account_seen = pg_account_seen,
    .user_ensure = pg_user_ensure,
    .name_ensure = pg_name_ensure,
    .trait_merge = pg_trait_merge,
    .traits_each = pg_traits_each,
    .account_set_fields = pg_account_set_fields,
    .user_set_fields = pg_user_set_fields,
    .user_memberships = pg_user_memberships,
    .membership_start = pg_membership_start,
    .membership_end = pg_membership_end,
    .removal_after = pg_removal_after,
    .event_exists = pg_event_exists,
    .event_keys_prefetch = pg_event_keys_prefetch,
    .event_put = pg_event_put,
    .quarantine_put = pg_quarantine_put,
    .quarantine_by_account = pg_quarantine_by_account,
    .quarantine_by_user = pg_quarantine_by_user,
    .quarantine_attach = pg_quarantine_attach,
    .login_day_add = pg_login_day_add,
    .login_day_last = pg_login_day_last,
    .activity_each = pg_activity_each,
    .activity_refresh = pg_activity_refresh,
    .activity_stale_each = pg_activity_stale_each,
    .activity_days_each = pg_activity_days_each,
    .activity_windows_pending = pg_activity_windows_pending,
    .activity_window_put = pg_activity_window_put,
    .activity_windows_each = pg_activity_windows_each,
    .activity_windows_done = pg_activity_windows_done,
    .activity_windows_ready = pg_activity_windows_ready,
    .facts_each = pg_facts_each,
    .memberships_each = pg_memberships_each,
    .score_put = pg_score_put,
    .score_get = pg_score_get,
    .score_history = pg_score_history,
    .scores_of_day = pg_scores_of_day,
    .product_used = pg_product_used,
    .last_ticket_before = pg_last_ticket_before,
    .user_label = pg_user_label,
    .ctas_lock = pg_ctas_lock,
    .ctas_watched_each = pg_ctas_watched_each,
    .ctas_live_count = pg_ctas_live_count,
    .cta_insert = pg_cta_insert,
    .cta_update = pg_cta_update,
    .cta_forget_closed = pg_cta_forget_closed,
    .cta_get = pg_cta_get,
    .ctas_each = pg_ctas_each,
    .cta_held_put = pg_cta_held_put,
    .ctas_held_each = pg_ctas_held_each,
    .ctas_held_count = pg_ctas_held_count,
    .ctas_opened_by_owner = pg_ctas_opened_by_owner,
    .cta_history_add = pg_cta_history_add,
    .cta_history_each = pg_cta_history_each,
    .eval_run_put = pg_eval_run_put,
    .ctas_reset = pg_ctas_reset,
    .eval_run_before = pg_eval_run_before,
    .scores_of_day_version = pg_scores_of_day_version,
    .scores_of_day_ids = pg_scores_of_day_ids,
    .notification_add = pg_notification_add,
    .outbox_add = pg_outbox_add,
    .outbox_recover = pg_outbox_recover,
    .outbox_claim = pg_outbox_claim,
    .outbox_lease_renew = pg_outbox_lease_renew,
    .outbox_due_targets = pg_outbox_due_targets,
    .outbox_due = pg_outbox_due,
    .outbox_next_due = pg_outbox_next_due,
    .outbox_set = pg_outbox_set,
    .outbox_hold_set = pg_outbox_hold_set,
    .outbox_holds_each = pg_outbox_holds_each,
    .outbox_holds_prune = pg_outbox_holds_prune,
    .outbox_each = pg_outbox_each,
    .outbox_get = pg_outbox_get,
    .outbox_counts = pg_outbox_counts,
    .outbox_retry = pg_outbox_retry,
    .outbox_retry_dead = pg_outbox_retry_dead,
    .outbox_held_groups = pg_outbox_held_groups,
    .outbox_digest_make = pg_outbox_digest_make,
    .outbox_items_each = pg_outbox_items_each,
    .counter_add = pg_counter_add,
    .account_count_events = pg_account_count_events,
    .accounts_each = pg_accounts_each,
    .account_get = pg_account_get,
    .accounts_brief_each = pg_accounts_brief_each,
    .accounts_brief_of = pg_accounts_brief_of,
    .status_get = pg_status_get,
    .counters_each = pg_counters_each,
    .quarantine_reasons = pg_quarantine_reasons,
    .account_briefs = pg_account_briefs,
    .scores_latest_day = pg_scores_latest_day,
    .account_facts_recent = pg_account_facts_recent,
    .rule_counts_each = pg_rule_counts_each,
    .outbox_oldest_pending = pg_outbox_oldest_pending,
    .outcomes_each = pg_outcomes_each,
    .copy_to = pg_copy_to,
    .report_put = pg_report_put,
    .reports_each = pg_reports_each,
    .report_get = pg_report_get,
    .model_put = pg_model_put,
    .model_get = pg_model_get,
    .model_for_day = pg_model_for_day,
    .models_each = pg_models_each,
    .last_event_day = pg_last_event_day,
    .risk_put = pg_risk_put,
    .risk_clear_day = pg_risk_clear_day,
    .risk_put_many = pg_risk_put_many,
    .risk_latest_day = pg_risk_latest_day,
    .risk_of_day = pg_risk_of_day,
    .risk_of_account = pg_risk_of_account,
    .session_epoch = pg_session_epoch,
    .session_epoch_bump = pg_session_epoch_bump,
    .inbox_put = pg_inbox_put,
    .inbox_next = pg_inbox_next,
    .inbox_finish = pg_inbox_finish,
    .inbox_each = pg_inbox_each,
    .inbox_requeue = pg_inbox_requeue,
    .inbox_prune = pg_inbox_prune,
    .inbox_counts = pg_inbox_counts,
    .hook_account_put = pg_hook_account_put,
    .hook_account_get = pg_hook_account_get,
    .lease_acquire = pg_lease_acquire,
    .lease_release = pg_lease_release,
    .run_create = pg_run_create,
    .run_latest = pg_run_latest,
    .run_get = pg_run_get,
    .bucket_claim = pg_bucket_claim,
    .bucket_done = pg_bucket_done,
    .account_ids_between = pg_account_ids_between,
    .eval_lock_opens = pg_eval_lock_opens,
    .notify = pg_notify,
    .listen = pg_listen,
    .notify_wait = pg_notify_wait,
    .customer_message_claim = pg_customer_message_claim,
    .customer_message_link = pg_customer_message_link,
    .customer_messages_each = pg_customer_messages_each,
    .customer_unsubscribe = pg_customer_unsubscribe,
    .customer_unsubscribes_each = pg_customer_unsubscribes_each,
    .customer_contacts_each = pg_customer_contacts_each,

    .members_each = pg_members_each,
    .user_logins_each = pg_user_logins_each,

    .segment_days_put = pg_segment_days_put,
    .segment_part_put = pg_segment_part_put,
    .segment_parts_take = pg_segment_parts_take,
    .segment_days_each = pg_segment_days_each,
    .segment_latest_day = pg_segment_latest_day,

    .escalation_candidates = pg_escalation_candidates,
    .escalation_put = pg_escalation_put,

    .data_version = pg_data_version,
    .account_summary = pg_account_summary,
    .account_count = pg_account_count,
    .account_rows = pg_account_rows,
    .account_rows_of = pg_account_rows_of,
    .team_user_add = pg_team_user_add,
    .team_user_get = pg_team_user_get,
    .team_user_set = pg_team_user_set,
    .team_users_each = pg_team_users_each,
    .invite_add = pg_invite_add,
    .invite_take = pg_invite_take,
    .audit_append = pg_audit_append,
    .audit_page = pg_audit_page,
    .audit_count = pg_audit_count,
    .token_add = pg_token_add,
    .token_find = pg_token_find,
    .token_revoke = pg_token_revoke,
    .tokens_each = pg_tokens_each,
    .revenue_each = pg_revenue_each,

    .note_add = pg_note_add,
    .notes_each = pg_notes_each,
    .holdout_put = pg_holdout_put,
    .holdout_get = pg_holdout_get,
    .holdouts_each = pg_holdouts_each,
    .cta_actions_each = pg_cta_actions_each,
    .outreach_each = pg_outreach_each,

    .cta_step_set = pg_cta_step_set,
    .cta_steps_each = pg_cta_steps_each,

    .account_costs_each = pg_account_costs_each,
};
