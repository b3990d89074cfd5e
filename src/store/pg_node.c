/* pg_node.c: several nodes on one PostgreSQL database (see store.h,
 * "several nodes", and docs/operations.md).
 *
 * The tables are migration 18's: leases, sched_runs, sched_buckets.
 * - The lease is one upsert whose WHERE decides (free, run out, or ours):
 *   two nodes racing for it are serialized by the row, and exactly one wins
 *   a term.
 * - A run is planned in one transaction that first locks the lease row FOR
 *   SHARE with the planner's holder and term: a takeover (an UPDATE of that
 *   row) waits until the plan is committed, and a planner whose lease has
 *   changed hands finds no row and plans nothing. The run's primary key
 *   (its scheduled time) makes a second plan of the same time a no-op.
 * - Buckets are claimed with UPDATE ... FROM (SELECT ... FOR UPDATE SKIP
 *   LOCKED LIMIT 1): claimers take different rows without waiting on each
 *   other; a claim whose time ran out is free again.
 * - A bucket is marked done after its run's row is locked FOR UPDATE, so
 *   the nodes finishing a run's last buckets count the buckets left one
 *   after the other, and exactly one completes the run.
 * - The lock of opening CTAs is a transaction-level advisory lock
 *   (released at commit or rollback, and with the session if a node dies;
 *   it works through PgBouncer in transaction mode), in a class of its own
 *   (two int4 keys), apart from the accounts' locks (store_ctas_lock,
 *   pg_ctas.c), which an evaluation takes before it.
 * - Wake-ups are NOTIFY (pg_notify) and LISTEN on a connection of their
 *   own; PostgreSQL folds identical notifications of one transaction into
 *   one, delivered at commit. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_int.h"
#include "util/mem.h"

/* The advisory lock class of opening CTAs (the first of two int4 keys). */
#define LOCK_OPENS 1952804453

static const char q_lease_take[] =
    "INSERT INTO leases AS l (name, holder, term, expires_ms) VALUES ($1, $2, 1, $3::bigint + $4) "
    "ON CONFLICT (name) DO UPDATE SET "
    "term = CASE WHEN l.holder = excluded.holder THEN l.term ELSE l.term + 1 END, "
    "holder = excluded.holder, expires_ms = excluded.expires_ms "
    "WHERE l.holder = excluded.holder OR l.expires_ms <= $3::bigint";
static const char q_lease_get[] = "SELECT holder, term, expires_ms FROM leases WHERE name = $1";
static const char q_lease_release[] =
    "UPDATE leases SET expires_ms = 0 WHERE name = $1 AND holder = $2";
static const char q_lease_held[] =
    "SELECT count(*) FROM (SELECT 1 FROM leases WHERE name = $1 AND holder = $2 "
    "AND term = $3::bigint AND expires_ms > $4::bigint FOR SHARE) x";
static const char q_max_account[] = "SELECT coalesce(max(id), 0) FROM accounts";
static const char q_run_insert[] =
    "INSERT INTO sched_runs (due_ms, day, n_buckets, term, holder, created_ms) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (due_ms) DO NOTHING";
static const char q_buckets_insert[] =
    "INSERT INTO sched_buckets (due_ms, bucket, day, first_id, last_id) "
    "SELECT $1::bigint, k, $2::integer, k::bigint * $3::bigint + 1, "
    "CASE WHEN k = $4::integer - 1 THEN 9223372036854775807 ELSE (k + 1)::bigint * $3::bigint END "
    "FROM generate_series(0, $4::integer - 1) k";
#define RUN_COLUMNS                                                                                \
    "due_ms, day, n_buckets, term, created_ms, done_ms, accounts, opened, updated, resolved, "     \
    "errors, notifications, "                                                                      \
    "(SELECT count(*) FROM sched_buckets b WHERE b.due_ms = r.due_ms AND b.done_ms IS NOT NULL)"
static const char q_run_latest[] =
    "SELECT " RUN_COLUMNS " FROM sched_runs r ORDER BY due_ms DESC LIMIT 1";
static const char q_run_get[] = "SELECT " RUN_COLUMNS " FROM sched_runs r WHERE due_ms = $1";
static const char q_bucket_claim[] =
    "UPDATE sched_buckets b SET claimed_by = $1, claimed_until = $2::bigint + $3::bigint, "
    "attempts = b.attempts + 1 "
    "FROM (SELECT due_ms, bucket FROM sched_buckets "
    "  WHERE done_ms IS NULL AND (claimed_until IS NULL OR claimed_until <= $2::bigint) "
    "  ORDER BY due_ms, bucket LIMIT 1 FOR UPDATE SKIP LOCKED) c "
    "WHERE b.due_ms = c.due_ms AND b.bucket = c.bucket "
    "RETURNING b.due_ms, b.day, b.bucket, b.first_id, b.last_id, b.attempts, "
    "(SELECT n_buckets FROM sched_runs r WHERE r.due_ms = b.due_ms)";
static const char q_run_lock[] = "SELECT 1 FROM sched_runs WHERE due_ms = $1 FOR UPDATE";
static const char q_bucket_done[] =
    "UPDATE sched_buckets SET done_ms = $4, accounts = $5, opened = $6, updated = $7, "
    "resolved = $8, errors = $9, notifications = $10 "
    "WHERE due_ms = $1 AND bucket = $2 AND claimed_by = $3 AND done_ms IS NULL";
static const char q_buckets_left[] =
    "SELECT count(*) FROM sched_buckets WHERE due_ms = $1 AND done_ms IS NULL";
static const char q_run_complete[] =
    "UPDATE sched_runs r SET done_ms = $2, accounts = b.accounts, opened = b.opened, "
    "updated = b.updated, resolved = b.resolved, errors = b.errors, "
    "notifications = b.notifications "
    "FROM (SELECT sum(accounts) accounts, sum(opened) opened, sum(updated) updated, "
    "  sum(resolved) resolved, sum(errors) errors, sum(notifications) notifications "
    "  FROM sched_buckets WHERE due_ms = $1) b "
    "WHERE r.due_ms = $1 AND r.done_ms IS NULL";
static const char q_ids_between[] =
    "SELECT id FROM accounts WHERE id BETWEEN $1 AND $2 ORDER BY id";
/* The months of events ahead: this one and the next three, made when a run
 * is planned (once a day, by the lease holder), so events land in their
 * month's partition and not in the default one (docs/operations.md). */
static const char q_partitions_ahead[] =
    "SELECT tend_event_partitions_ensure($1::bigint, $1::bigint + 92 * 86400000::bigint)";
static const char q_lock_opens[] = "SELECT pg_advisory_xact_lock($1::integer, 0)";
static const char q_notify[] = "SELECT pg_notify($1, '')";

/* Begins a transaction when the caller has none (reconnecting a connection
 * that broke); *own tells which. */
static enum tend_err begin_own(struct pg_store *s, bool *own) {
    *own = !s->in_tx;
    return *own ? pg_begin(&s->base, NULL) : TEND_OK;
}

static enum tend_err end_own(struct pg_store *s, bool own, enum tend_err err) {
    if (!own)
        return err;
    if (err) {
        pg_rollback(&s->base);
        return err;
    }
    return pg_commit(&s->base);
}

enum tend_err pg_lease_acquire(struct store *base, const char *name, const char *holder,
                               int64_t now_ms, int64_t ttl_ms, struct store_lease *out) {
    struct pg_store *s = pg_of(base);
    memset(out, 0, sizeof *out);
    bool own;
    enum tend_err err = begin_own(s, &own);
    if (err)
        return err;
    struct pg_params p = {0};
    pg_p_text(&p, name);
    pg_p_text(&p, holder);
    pg_p_i64(&p, now_ms);
    pg_p_i64(&p, ttl_ms);
    err = pg_run(s, q_lease_take, &p, "taking the lease");
    PGresult *r = NULL;
    if (!err) {
        struct pg_params g = {0};
        pg_p_text(&g, name);
        err = pg_query(s, q_lease_get, &g, "reading the lease", &r);
    }
    if (!err && PQntuples(r) == 1) {
        snprintf(out->holder, sizeof out->holder, "%s", pg_text(r, 0, 0) ? pg_text(r, 0, 0) : "");
        out->term = pg_i64(r, 0, 1);
        out->expires_ms = pg_i64(r, 0, 2);
        out->held = strcmp(out->holder, holder) == 0 && out->expires_ms > now_ms;
    }
    PQclear(r);
    return end_own(s, own, err);
}

enum tend_err pg_lease_release(struct store *base, const char *name, const char *holder) {
    struct pg_store *s = pg_of(base);
    bool own;
    enum tend_err err = begin_own(s, &own);
    if (err)
        return err;
    struct pg_params p = {0};
    pg_p_text(&p, name);
    pg_p_text(&p, holder);
    return end_own(s, own, pg_run(s, q_lease_release, &p, "giving the lease up"));
}

/* How many buckets of width ids the accounts up to max_id make (at least 1). */
static int buckets_for(int64_t max_id, int64_t width) {
    if (width <= 0 || max_id <= width)
        return 1;
    int64_t n = (max_id + width - 1) / width;
    return n > 1000000 ? 1000000 : (int)n;
}

enum tend_err pg_run_create(struct store *base, const char *lease, const char *holder, int64_t term,
                            int64_t due_ms, int32_t day, int64_t bucket_ids, int64_t now_ms,
                            bool *created) {
    struct pg_store *s = pg_of(base);
    *created = false;
    bool own;
    enum tend_err err = begin_own(s, &own);
    if (err)
        return err;
    int64_t held = 0, max_id = 0;
    struct pg_params p = {0};
    pg_p_text(&p, lease);
    pg_p_text(&p, holder);
    pg_p_i64(&p, term);
    pg_p_i64(&p, now_ms);
    err = pg_int(s, q_lease_held, &p, "checking the lease", &held);
    if (!err && held)
        err = pg_int(s, q_max_account, NULL, "counting accounts", &max_id);
    int n = buckets_for(max_id, bucket_ids);
    if (!err && held) {
        struct pg_params r = {0};
        pg_p_i64(&r, due_ms);
        pg_p_int(&r, day);
        pg_p_int(&r, n);
        pg_p_i64(&r, term);
        pg_p_text(&r, holder);
        pg_p_i64(&r, now_ms);
        err = pg_run(s, q_run_insert, &r, "planning a run");
        *created = !err && s->changes == 1;
    }
    if (!err && *created) {
        struct pg_params b = {0};
        pg_p_i64(&b, due_ms);
        pg_p_int(&b, day);
        pg_p_i64(&b, bucket_ids > 0 ? bucket_ids : 1);
        pg_p_int(&b, n);
        err = pg_run(s, q_buckets_insert, &b, "planning a run's buckets");
    }
    if (!err && *created) {
        struct pg_params m = {0};
        pg_p_i64(&m, now_ms);
        err = pg_run(s, q_partitions_ahead, &m, "making the months of events ahead");
    }
    if (err)
        *created = false;
    return end_own(s, own, err);
}

/* Reads row i of a RUN_COLUMNS result. */
static void run_of(const PGresult *r, int i, struct store_run *out) {
    memset(out, 0, sizeof *out);
    out->due_ms = pg_i64(r, i, 0);
    out->day = (int32_t)pg_i64(r, i, 1);
    out->n_buckets = (int)pg_i64(r, i, 2);
    out->term = pg_i64(r, i, 3);
    out->created_ms = pg_i64(r, i, 4);
    out->done_ms = pg_i64(r, i, 5);
    out->c.accounts = pg_i64(r, i, 6);
    out->c.opened = pg_i64(r, i, 7);
    out->c.updated = pg_i64(r, i, 8);
    out->c.resolved = pg_i64(r, i, 9);
    out->c.errors = pg_i64(r, i, 10);
    out->c.notifications = pg_i64(r, i, 11);
    out->done_buckets = (int)pg_i64(r, i, 12);
}

enum tend_err pg_run_latest(struct store *base, struct store_run *out, bool *found) {
    struct pg_store *s = pg_of(base);
    PGresult *r;
    enum tend_err err = pg_query(s, q_run_latest, NULL, "reading runs", &r);
    if (err)
        return err;
    *found = PQntuples(r) == 1;
    if (*found)
        run_of(r, 0, out);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_run_get(struct store *base, int64_t due_ms, struct store_run *out) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, due_ms);
    PGresult *r;
    enum tend_err err = pg_query(s, q_run_get, &p, "reading runs", &r);
    if (err)
        return err;
    bool found = PQntuples(r) == 1;
    if (found)
        run_of(r, 0, out);
    PQclear(r);
    return found ? TEND_OK : TEND_ERR_NOTFOUND;
}

enum tend_err pg_bucket_claim(struct store *base, const char *holder, int64_t now_ms,
                              int64_t claim_ms, struct store_bucket *out, bool *found) {
    struct pg_store *s = pg_of(base);
    *found = false;
    memset(out, 0, sizeof *out);
    bool own;
    enum tend_err err = begin_own(s, &own);
    if (err)
        return err;
    struct pg_params p = {0};
    pg_p_text(&p, holder);
    pg_p_i64(&p, now_ms);
    pg_p_i64(&p, claim_ms);
    PGresult *r = NULL;
    err = pg_query(s, q_bucket_claim, &p, "claiming a bucket", &r);
    if (!err && PQntuples(r) == 1) {
        *found = true;
        out->due_ms = pg_i64(r, 0, 0);
        out->day = (int32_t)pg_i64(r, 0, 1);
        out->bucket = (int)pg_i64(r, 0, 2);
        out->first_id = pg_i64(r, 0, 3);
        out->last_id = pg_i64(r, 0, 4);
        out->attempts = (int)pg_i64(r, 0, 5);
        out->n_buckets = (int)pg_i64(r, 0, 6);
    }
    PQclear(r);
    err = end_own(s, own, err);
    if (err)
        *found = false;
    return err;
}

enum tend_err pg_bucket_done(struct store *base, const char *holder, int64_t due_ms, int b,
                             int64_t now_ms, const struct store_run_counts *c, bool *ours,
                             bool *run_done, struct store_run *run) {
    struct pg_store *s = pg_of(base);
    *ours = *run_done = false;
    int64_t one;
    struct pg_params l = {0};
    pg_p_i64(&l, due_ms);
    enum tend_err err = pg_int(s, q_run_lock, &l, "locking a run", &one);
    if (err)
        return err == TEND_ERR_NOTFOUND ? TEND_OK : err;
    struct pg_params p = {0};
    pg_p_i64(&p, due_ms);
    pg_p_int(&p, b);
    pg_p_text(&p, holder);
    pg_p_i64(&p, now_ms);
    const int64_t v[] = {c->accounts, c->opened, c->updated,
                         c->resolved, c->errors, c->notifications};
    for (int i = 0; i < 6; i++)
        pg_p_i64(&p, v[i]);
    if ((err = pg_run(s, q_bucket_done, &p, "marking a bucket done")) || s->changes != 1)
        return err;
    *ours = true;
    int64_t left = 0;
    struct pg_params q = {0};
    pg_p_i64(&q, due_ms);
    if ((err = pg_int(s, q_buckets_left, &q, "counting a run's buckets", &left)) || left)
        return err;
    struct pg_params d = {0};
    pg_p_i64(&d, due_ms);
    pg_p_i64(&d, now_ms);
    if ((err = pg_run(s, q_run_complete, &d, "completing a run")))
        return err;
    *run_done = s->changes == 1;
    return *run_done && run ? pg_run_get(base, due_ms, run) : TEND_OK;
}

enum tend_err pg_account_ids_between(struct store *base, int64_t first, int64_t last, int64_t **ids,
                                     size_t *n) {
    struct pg_store *s = pg_of(base);
    *ids = NULL;
    *n = 0;
    struct pg_params p = {0};
    pg_p_i64(&p, first);
    pg_p_i64(&p, last);
    PGresult *r;
    enum tend_err err = pg_query(s, q_ids_between, &p, "listing a bucket's accounts", &r);
    if (err)
        return err;
    int rows = PQntuples(r);
    if (rows > 0) {
        *ids = xmalloc((size_t)rows * sizeof **ids);
        for (int i = 0; i < rows; i++)
            (*ids)[i] = pg_i64(r, i, 0);
        *n = (size_t)rows;
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_eval_lock_opens(struct store *base) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, LOCK_OPENS);
    return pg_run(s, q_lock_opens, &p, "waiting for the lock of opening CTAs");
}

enum tend_err pg_notify(struct store *base, const char *channel) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, channel);
    return pg_run(s, q_notify, &p, "sending a wake-up");
}

enum tend_err pg_listen(struct store *base, const char *channel) {
    struct pg_store *s = pg_of(base);
    /* A channel is an identifier, not a parameter: ours are constants. */
    for (const char *c = channel; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || *c == '_')) {
            store_set_error(base, "listening: a channel name is lowercase letters and _");
            return TEND_ERR_INVALID;
        }
    }
    char sql[96];
    snprintf(sql, sizeof sql, "LISTEN %.64s", channel);
    enum tend_err err = TEND_OK;
    if (PQstatus(s->conn) != CONNECTION_OK) {
        /* pg_begin reconnects a connection that broke */
        if (!(err = pg_begin(base, NULL)))
            pg_rollback(base);
    }
    return err ? err : pg_exec(s, sql, "listening for wake-ups");
}

enum tend_err pg_notify_wait(struct store *base, int timeout_ms, char *channel, size_t size,
                             bool *got) {
    struct pg_store *s = pg_of(base);
    *got = false;
    if (size)
        channel[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        if (!PQconsumeInput(s->conn))
            return pg_fail(s, "waiting for wake-ups", NULL);
        PGnotify *n = PQnotifies(s->conn);
        if (n) {
            *got = true;
            if (size)
                snprintf(channel, size, "%s", n->relname);
            PQfreemem(n);
            /* the rest of what came is read by the next calls */
            return TEND_OK;
        }
        if (pass == 1)
            break;
        struct pollfd fd = {.fd = PQsocket(s->conn), .events = POLLIN};
        if (fd.fd < 0)
            return pg_fail(s, "waiting for wake-ups", NULL);
        int rc = poll(&fd, 1, timeout_ms);
        if (rc < 0 && errno != EINTR) {
            store_set_error(base, "waiting for wake-ups: poll failed");
            return TEND_ERR_IO;
        }
        if (rc <= 0)
            return TEND_OK;
    }
    return TEND_OK;
}
