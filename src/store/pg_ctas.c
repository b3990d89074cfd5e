/* pg_ctas.c: CTAs, their history and the evaluation runs, in the PostgreSQL
 * backend (pg_int.h); the contracts are store.h's, the reference is
 * sqlite_ctas.c (same rows, same order, same errors).
 *
 * Several nodes on one database: the one live CTA per (account, rule,
 * subject) is the partial unique index ctas_live, as on SQLite. An insert
 * that meets it does nothing (ON CONFLICT DO NOTHING) and fails with
 * TEND_ERR_INVALID as SQLite's does, leaving the transaction usable. Two
 * evaluations of one account at once would still both plan the same open
 * (each read the CTAs before the other wrote), so an evaluation first takes
 * store_ctas_lock(): transaction-scoped advisory locks on its accounts'
 * blocks of 1,024 ids (every account: one exclusive lock), the second
 * evaluation waits for the first's commit and then reads its CTAs (READ
 * COMMITTED: each statement sees what was committed before it began).
 *
 * Texts sort by bytes (COLLATE "C"), as SQLite's BINARY does, whatever the
 * database's collation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cta.h"
#include "store/codes.h"
#include "store/pg_int.h"

/* Advisory lock keys of evaluations ('tend' in the high 32 bits, as
 * pg_schema.h's; this range is the CTA engine's): one for every account,
 * taken shared by an evaluation of some accounts and exclusive by one of
 * all; then one per block of PG_EVAL_BLOCK_BITS ids, exclusive. */
#define PG_LOCK_EVAL_ALL   "8387231258970685440" /* 0x74656e6480000000 */
#define PG_LOCK_EVAL_BLOCK "8387231258970685441" /* + 1 + block */
#define PG_EVAL_BLOCK_BITS "10"
/* Past this many blocks an evaluation takes the exclusive lock instead (the
 * server's lock table is shared: 64 per connection by default). */
#define PG_EVAL_BLOCKS_MAX 256

/* A segment's CTA has no account row (store.h, STORE_SEGMENTS_ACCOUNT):
 * its account reads "segment:NAME", its name "Segment NAME". */
#define CTA_COLUMNS                                                                                \
    CTA_COLUMNS_WITH("coalesce(a.external_id, '" SEG_CTA_PREFIX "' || c.subject)")                 \
    ", coalesce(a.name, 'Segment ' || c.subject)"
#define CTA_WATCHED_COLUMNS                                                                        \
    CTA_COLUMNS_WITH("NULL")                                                                       \
    ", NULL, EXISTS (SELECT 1 FROM cta_history h WHERE h.account_id = c.account_id "               \
    "AND h.cta_id = c.id AND h.actor <> '" STORE_ACTOR_TEND "')"
#define CTA_COLUMNS_WITH(ACCOUNT)                                                                  \
    "c.id, c.account_id, " ACCOUNT ", c.rule, c.subject, c.type, c.priority, c.status, "           \
    "c.snoozed_until, c.closed_reason, c.closed_day, c.cleared, c.owner, c.title, c.reason, "      \
    "c.evidence::text, c.opened_day, c.due_day, c.updated_ms, c.clear_since, c.value"
#define CTA_ORDER                                                                                  \
    "ORDER BY c.status = " SQL_CTA_CLOSED ", c.priority DESC, coalesce(c.value, 0) DESC, "         \
    "c.due_day, c.id"

static const char q_lock_all[] = "SELECT pg_advisory_xact_lock(" PG_LOCK_EVAL_ALL ")";
static const char q_lock_all_shared[] = "SELECT pg_advisory_xact_lock_shared(" PG_LOCK_EVAL_ALL ")";
/* In ascending order of key (the subquery's order is the calls' order), so
 * two evaluations never wait for each other in a circle. */
static const char q_lock_ids[] =
    "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT " PG_LOCK_EVAL_BLOCK
    " + (id >> " PG_EVAL_BLOCK_BITS ") AS k FROM unnest($1::bigint[]) id ORDER BY 1) x";
static const char q_lock_range[] =
    "SELECT count(pg_advisory_xact_lock(" PG_LOCK_EVAL_BLOCK " + b)) "
    "FROM generate_series($1::bigint >> " PG_EVAL_BLOCK_BITS ", $2::bigint >> " PG_EVAL_BLOCK_BITS
    ") b";

static const char q_ctas_watched[] = "SELECT " CTA_WATCHED_COLUMNS " FROM ctas c "
                                     "WHERE (c.status <> " SQL_CTA_CLOSED " OR NOT c.cleared) "
                                     "AND c.account_id BETWEEN $1 AND $2";
static const char q_ctas_watched_ids[] =
    "SELECT " CTA_WATCHED_COLUMNS
    " FROM unnest($1::bigint[]) j(id) JOIN ctas c ON c.account_id = j.id "
    "WHERE (c.status <> " SQL_CTA_CLOSED " OR NOT c.cleared)";
static const char q_ctas_live_count[] = "SELECT count(*) FROM ctas WHERE status <> " SQL_CTA_CLOSED;
static const char q_cta_insert[] =
    "INSERT INTO ctas (account_id, rule, subject, type, priority, status, snoozed_until, "
    "closed_reason, closed_day, cleared, owner, title, reason, evidence, opened_day, due_day, "
    "updated_ms, value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
    "$16, $17, $18) ON CONFLICT (account_id, rule, subject) WHERE status IN (" SQL_CTA_OPEN
    ", " SQL_CTA_SNOOZED ") DO NOTHING RETURNING id";
/* A change to a live status that would make a second live CTA of the key
 * changes nothing (the caller is told, as SQLite's constraint does), instead
 * of failing the statement and with it the transaction. */
static const char q_cta_update[] =
    "UPDATE ctas c SET type = $2, priority = $3, status = $4, snoozed_until = $5, "
    "closed_reason = $6, closed_day = $7, cleared = $8, owner = $9, title = $10, reason = $11, "
    "evidence = $12, due_day = $13, updated_ms = $14, clear_since = $15, value = $16 "
    "WHERE c.id = $1 AND ($4::text = " SQL_CTA_CLOSED " OR NOT EXISTS (SELECT 1 FROM ctas o "
    "WHERE o.account_id = c.account_id AND o.rule = c.rule AND o.subject = c.subject "
    "AND o.status <> " SQL_CTA_CLOSED " AND o.id <> c.id))";
static const char q_cta_exists[] = "SELECT 1 FROM ctas WHERE id = $1";
static const char q_cta_forget[] =
    "UPDATE ctas SET cleared = true WHERE account_id = $2 AND rule = $1 AND subject = $3 "
    "AND status = " SQL_CTA_CLOSED " AND NOT cleared";
static const char q_cta_get[] = "SELECT " CTA_COLUMNS " FROM ctas c "
                                "LEFT JOIN accounts a ON a.id = c.account_id WHERE c.id = $1";
static const char q_ctas_each[] =
    "SELECT " CTA_COLUMNS " FROM ctas c LEFT JOIN accounts a ON a.id = c.account_id "
    "WHERE ($1::text IS NULL OR c.status = $1 OR ($1 = 'live' AND c.status <> " SQL_CTA_CLOSED "))"
    " AND ($2::text IS NULL OR c.owner = $2) AND ($3::text IS NULL OR a.external_id = $3) "
    "AND ($4::text IS NULL OR c.rule = $4) " CTA_ORDER;
static const char q_ctas_of_account[] =
    "SELECT " CTA_COLUMNS " FROM accounts a JOIN ctas c ON c.account_id = a.id "
    "WHERE a.external_id = $3 "
    "AND ($1::text IS NULL OR c.status = $1 OR ($1 = 'live' AND c.status <> " SQL_CTA_CLOSED "))"
    " AND ($2::text IS NULL OR c.owner = $2) AND ($4::text IS NULL OR c.rule = $4) " CTA_ORDER;
/* seq is the CTA's next; a change written at the same time by another
 * transaction takes the same seq and this one then inserts nothing (ON
 * CONFLICT waits for the other to commit): pg_cta_history_add runs it again,
 * seeing the other's row. A CTA that does not exist gets no history. */
static const char q_cta_history_add[] =
    "INSERT INTO cta_history (account_id, cta_id, seq, day, at_ms, action, actor, status, "
    "priority, note) SELECT c.account_id, c.id, coalesce((SELECT max(h.seq) FROM cta_history h "
    "WHERE h.account_id = c.account_id AND h.cta_id = c.id), 0) + 1, $2, $3, $4, $5, $6, $7, $8 "
    "FROM ctas c WHERE c.id = $1 ON CONFLICT DO NOTHING";
static const char q_cta_history[] =
    "SELECT seq, day, at_ms, action, actor, status, priority, note FROM cta_history "
    "WHERE account_id = (SELECT account_id FROM ctas WHERE id = $1) AND cta_id = $1 ORDER BY seq";
static const char q_eval_run_put[] =
    "INSERT INTO eval_runs (t_ms, run_ms, opened, updated, resolved, errors) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (t_ms) DO UPDATE SET "
    "run_ms = excluded.run_ms, opened = eval_runs.opened + excluded.opened, "
    "updated = eval_runs.updated + excluded.updated, "
    "resolved = eval_runs.resolved + excluded.resolved, errors = excluded.errors";
static const char q_eval_run_before[] = "SELECT max(t_ms) FROM eval_runs WHERE t_ms < $1";
static const char q_eval_run_last[] = "SELECT max(t_ms) FROM eval_runs";
static const char q_rule_counts[] =
    "SELECT rule, count(*), count(*) FILTER (WHERE opened_day >= $1), "
    "count(*) FILTER (WHERE status = " SQL_CTA_OPEN "), "
    "count(*) FILTER (WHERE status = " SQL_CTA_SNOOZED "), "
    "count(*) FILTER (WHERE status = " SQL_CTA_CLOSED "), "
    "count(*) FILTER (WHERE closed_reason = " SQL_CTA_AUTO_RESOLVED "), max(opened_day) "
    "FROM ctas GROUP BY rule ORDER BY rule COLLATE \"C\"";

static int status_of(const char *name) {
    enum cta_status v = CTA_OPEN;
    return name && cta_status_parse(name, &v) ? (int)v : CTA_OPEN;
}

static int reason_of(const char *name) {
    enum cta_close_reason v = CTA_RESOLVED;
    return name && cta_close_reason_parse(name, &v) ? (int)v : CTA_RESOLVED;
}

/* Reads row i of CTA_COLUMNS (or CTA_WATCHED_COLUMNS); strings live as long
 * as r. */
static void read_cta(const PGresult *r, int i, struct store_cta *c) {
    memset(c, 0, sizeof *c);
    c->id = pg_i64(r, i, 0);
    c->account_id = pg_i64(r, i, 1);
    c->account = pg_text(r, i, 2);
    c->rule = pg_text(r, i, 3);
    c->subject = pg_text(r, i, 4);
    c->type = pg_text(r, i, 5);
    c->priority = (int)pg_i64(r, i, 6);
    c->status = status_of(pg_text(r, i, 7));
    c->snoozed_until = (int32_t)pg_i64(r, i, 8);
    c->has_closed = !pg_null(r, i, 9);
    c->closed_reason = reason_of(pg_text(r, i, 9));
    c->closed_day = (int32_t)pg_i64(r, i, 10);
    c->cleared = pg_bool(r, i, 11);
    c->owner = pg_text(r, i, 12);
    c->title = pg_text(r, i, 13);
    c->reason = pg_text(r, i, 14);
    c->evidence = pg_text(r, i, 15);
    c->opened_day = (int32_t)pg_i64(r, i, 16);
    c->due_day = (int32_t)pg_i64(r, i, 17);
    c->updated_ms = pg_i64(r, i, 18);
    c->has_clear_since = !pg_null(r, i, 19);
    c->clear_since = (int32_t)pg_i64(r, i, 19);
    c->has_value = !pg_null(r, i, 20);
    c->value = pg_f64(r, i, 20);
    c->account_name = PQnfields(r) > 21 ? pg_text(r, i, 21) : NULL;
}

enum tend_err pg_ctas_lock(struct store *base, const struct store_span *sp) {
    struct pg_store *s = pg_of(base);
    if (sp->ids) {
        /* Blocks of the listed ids, counted the way the statement does. */
        size_t blocks = 0;
        int64_t prev = -1;
        for (size_t i = 0; i < sp->n; i++) {
            int64_t b = sp->ids[i] >> 10;
            if (b != prev)
                blocks++;
            prev = b;
        }
        if (blocks <= PG_EVAL_BLOCKS_MAX) {
            enum tend_err err = pg_run(s, q_lock_all_shared, NULL, "locking accounts");
            if (err || !sp->n)
                return err;
            struct pg_params p = {0};
            pg_p_ids(&p, sp->ids, sp->n);
            return pg_run(s, q_lock_ids, &p, "locking accounts");
        }
    } else if (sp->last != STORE_LAST_ID && sp->first <= sp->last &&
               (sp->last >> 10) - (sp->first >> 10) < PG_EVAL_BLOCKS_MAX) {
        enum tend_err err = pg_run(s, q_lock_all_shared, NULL, "locking accounts");
        if (err)
            return err;
        struct pg_params p = {0};
        pg_p_i64(&p, sp->first > 0 ? sp->first : 0);
        pg_p_i64(&p, sp->last);
        return pg_run(s, q_lock_range, &p, "locking accounts");
    }
    return pg_run(s, q_lock_all, NULL, "locking every account");
}

enum tend_err pg_ctas_live_count(struct store *base, int64_t *n) {
    struct pg_store *s = pg_of(base);
    return pg_int(s, q_ctas_live_count, NULL, "counting live CTAs", n);
}

struct watched_arg {
    void (*fn)(void *arg, const struct store_cta *c);
    void *arg;
};

static void on_watched_row(void *arg, PGresult *r, int i) {
    struct watched_arg *w = arg;
    struct store_cta c;
    read_cta(r, i, &c);
    c.acted = pg_bool(r, i, 22);
    w->fn(w->arg, &c);
}

enum tend_err pg_ctas_watched_each(struct store *base, const struct store_span *sp,
                                   void (*fn)(void *arg, const struct store_cta *c), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    const char *q = q_ctas_watched;
    if (sp->ids) {
        q = q_ctas_watched_ids;
        pg_p_ids(&p, sp->ids, sp->n);
    } else {
        pg_p_i64(&p, sp->first);
        pg_p_i64(&p, sp->last);
    }
    struct watched_arg w = {fn, arg};
    return pg_stream(s, q, &p, "reading CTAs", on_watched_row, &w);
}

/* Appends c's changeable fields in q_cta_update's order ($2..$16): type,
 * priority, status, snoozed_until, closed_reason, closed_day, cleared, owner,
 * title, reason, evidence, due_day, updated_ms, clear_since, value. */
static void params_cta_fields(struct pg_params *p, const struct store_cta *c) {
    pg_p_text(p, c->type);
    pg_p_int(p, c->priority);
    pg_p_text(p, cta_status_name((enum cta_status)c->status));
    if (c->status == CTA_SNOOZED)
        pg_p_int(p, c->snoozed_until);
    else
        pg_p_null(p);
    if (c->has_closed) {
        pg_p_text(p, cta_close_reason_name((enum cta_close_reason)c->closed_reason));
        pg_p_int(p, c->closed_day);
    } else {
        pg_p_null(p);
        pg_p_null(p);
    }
    pg_p_bool(p, c->cleared);
    pg_p_text(p, c->owner);
    pg_p_text(p, c->title);
    pg_p_text(p, c->reason);
    pg_p_text(p, c->evidence ? c->evidence : "{}");
    pg_p_int(p, c->due_day);
    pg_p_i64(p, c->updated_ms);
    if (c->has_clear_since && c->status != CTA_CLOSED)
        pg_p_int(p, c->clear_since);
    else
        pg_p_null(p);
    pg_p_f64_or_null(p, c->has_value, c->value);
}

static enum tend_err live_conflict(struct pg_store *s) {
    snprintf(s->err, sizeof s->err,
             "an open or snoozed CTA exists for that rule, account and subject already");
    return TEND_ERR_INVALID;
}

enum tend_err pg_cta_insert(struct store *base, const struct store_cta *c, int64_t *id) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, c->account_id);
    pg_p_text(&p, c->rule);
    pg_p_text(&p, c->subject ? c->subject : "");
    pg_p_text(&p, c->type);
    pg_p_int(&p, c->priority);
    pg_p_text(&p, cta_status_name((enum cta_status)c->status));
    if (c->status == CTA_SNOOZED)
        pg_p_int(&p, c->snoozed_until);
    else
        pg_p_null(&p);
    if (c->has_closed) {
        pg_p_text(&p, cta_close_reason_name((enum cta_close_reason)c->closed_reason));
        pg_p_int(&p, c->closed_day);
    } else {
        pg_p_null(&p);
        pg_p_null(&p);
    }
    pg_p_bool(&p, c->cleared);
    pg_p_text(&p, c->owner);
    pg_p_text(&p, c->title);
    pg_p_text(&p, c->reason);
    pg_p_text(&p, c->evidence ? c->evidence : "{}");
    pg_p_int(&p, c->opened_day);
    pg_p_int(&p, c->due_day);
    pg_p_i64(&p, c->updated_ms);
    pg_p_f64_or_null(&p, c->has_value, c->value);
    enum tend_err err = pg_int(s, q_cta_insert, &p, "storing a CTA", id);
    if (err == TEND_ERR_NOTFOUND || err == TEND_ERR_CONFLICT)
        return live_conflict(s);
    return err;
}

enum tend_err pg_cta_update(struct store *base, const struct store_cta *c) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, c->id);
    params_cta_fields(&p, c);
    enum tend_err err = pg_run(s, q_cta_update, &p, "updating a CTA");
    if (err == TEND_ERR_CONFLICT) /* a live CTA of the key committed just now */
        return live_conflict(s);
    if (err || s->changes > 0)
        return err;
    struct pg_params q = {0};
    pg_p_i64(&q, c->id);
    int64_t one = 0;
    err = pg_int(s, q_cta_exists, &q, "updating a CTA", &one);
    if (err == TEND_ERR_NOTFOUND)
        return TEND_OK; /* no such CTA: nothing to change, as SQLite's UPDATE */
    return err ? err : live_conflict(s);
}

enum tend_err pg_cta_forget_closed(struct store *base, const char *rule, int64_t account_id,
                                   const char *subject) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, rule);
    pg_p_i64(&p, account_id);
    pg_p_text(&p, subject ? subject : "");
    return pg_run(s, q_cta_forget, &p, "updating CTAs");
}

enum tend_err pg_cta_get(struct store *base, int64_t id,
                         void (*fn)(void *arg, const struct store_cta *c), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, id);
    PGresult *r;
    enum tend_err err = pg_query(s, q_cta_get, &p, "reading a CTA", &r);
    if (err)
        return err;
    if (PQntuples(r) > 0) {
        struct store_cta c;
        read_cta(r, 0, &c);
        fn(arg, &c);
    } else {
        err = TEND_ERR_NOTFOUND;
    }
    PQclear(r);
    return err;
}

enum tend_err pg_ctas_each(struct store *base, const struct store_cta_filter *f,
                           int (*fn)(void *arg, const struct store_cta *c), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, f->status);
    pg_p_text(&p, f->owner);
    pg_p_text(&p, f->account);
    pg_p_text(&p, f->rule);
    PGresult *r;
    enum tend_err err =
        pg_query(s, f->account ? q_ctas_of_account : q_ctas_each, &p, "listing CTAs", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_cta c;
        read_cta(r, i, &c);
        if (fn(arg, &c))
            break;
    }
    PQclear(r);
    return TEND_OK;
}

/* Tries of a history change that met another's seq (each waits for that
 * other transaction's commit, so a second try sees its row). */
#define HISTORY_TRIES 8

enum tend_err pg_cta_history_add(struct store *base, int64_t cta_id,
                                 const struct store_cta_change *ch) {
    struct pg_store *s = pg_of(base);
    for (int t = 0; t < HISTORY_TRIES; t++) {
        struct pg_params p = {0};
        pg_p_i64(&p, cta_id);
        pg_p_int(&p, ch->day);
        pg_p_i64(&p, ch->at_ms);
        pg_p_text(&p, ch->action);
        pg_p_text(&p, ch->actor);
        pg_p_text(&p, cta_status_name((enum cta_status)ch->status));
        pg_p_int(&p, ch->priority);
        pg_p_text(&p, ch->note);
        enum tend_err err = pg_run(s, q_cta_history_add, &p, "recording a CTA's history");
        if (err || s->changes > 0)
            return err;
        struct pg_params q = {0};
        pg_p_i64(&q, cta_id);
        int64_t one = 0;
        err = pg_int(s, q_cta_exists, &q, "recording a CTA's history", &one);
        if (err == TEND_ERR_NOTFOUND)
            return TEND_OK; /* no such CTA */
        if (err)
            return err;
    }
    snprintf(s->err, sizeof s->err,
             "recording a CTA's history: CTA %lld changed by others %d times in a row",
             (long long)cta_id, HISTORY_TRIES);
    return TEND_ERR_BUSY;
}

struct history_arg {
    void (*fn)(void *arg, const struct store_cta_change *ch);
    void *arg;
};

static void on_history_row(void *arg, PGresult *r, int i) {
    struct history_arg *h = arg;
    struct store_cta_change ch = {
        .seq = pg_i64(r, i, 0),
        .day = (int32_t)pg_i64(r, i, 1),
        .at_ms = pg_i64(r, i, 2),
        .action = pg_text(r, i, 3),
        .actor = pg_text(r, i, 4),
        .status = status_of(pg_text(r, i, 5)),
        .priority = (int)pg_i64(r, i, 6),
        .note = pg_text(r, i, 7),
    };
    h->fn(h->arg, &ch);
}

enum tend_err pg_cta_history_each(struct store *base, int64_t cta_id,
                                  void (*fn)(void *arg, const struct store_cta_change *ch),
                                  void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, cta_id);
    struct history_arg h = {fn, arg};
    PGresult *r;
    enum tend_err err = pg_query(s, q_cta_history, &p, "reading a CTA's history", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        on_history_row(&h, r, i);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_eval_run_put(struct store *base, int64_t t_ms, int64_t run_ms, int64_t opened,
                              int64_t updated, int64_t resolved, int64_t errors) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, t_ms);
    pg_p_i64(&p, run_ms);
    pg_p_i64(&p, opened);
    pg_p_i64(&p, updated);
    pg_p_i64(&p, resolved);
    pg_p_i64(&p, errors);
    return pg_run(s, q_eval_run_put, &p, "recording an evaluation");
}

enum tend_err pg_eval_run_before(struct store *base, int64_t t_ms, int64_t *prev_ms, bool *found) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    if (t_ms != INT64_MAX)
        pg_p_i64(&p, t_ms);
    PGresult *r;
    enum tend_err err = pg_query(s, t_ms == INT64_MAX ? q_eval_run_last : q_eval_run_before,
                                 t_ms == INT64_MAX ? NULL : &p, "reading evaluations", &r);
    if (err)
        return err;
    *found = PQntuples(r) > 0 && !pg_null(r, 0, 0);
    if (*found)
        *prev_ms = pg_i64(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_ctas_reset(struct store *base) {
    struct pg_store *s = pg_of(base);
    return pg_exec(s,
                   "DELETE FROM cta_history; DELETE FROM ctas; DELETE FROM eval_runs; "
                   "DELETE FROM cta_held; DELETE FROM cta_escalations; DELETE FROM cta_steps; "
                   /* as SQLite's: the draws go, the notes stay on their account */
                   "DELETE FROM cta_holdouts; UPDATE notes SET cta_id = NULL "
                   "WHERE cta_id IS NOT NULL;",
                   "forgetting CTAs");
}

struct counts_arg {
    void (*fn)(void *arg, const struct store_rule_counts *c);
    void *arg;
};

static void on_counts_row(void *arg, PGresult *r, int i) {
    struct counts_arg *a = arg;
    struct store_rule_counts c = {
        .rule = pg_text(r, i, 0),
        .total = pg_i64(r, i, 1),
        .since = pg_i64(r, i, 2),
        .open = pg_i64(r, i, 3),
        .snoozed = pg_i64(r, i, 4),
        .closed = pg_i64(r, i, 5),
        .auto_resolved = pg_i64(r, i, 6),
        .last_opened_day = (int32_t)pg_i64(r, i, 7),
    };
    a->fn(a->arg, &c);
}

enum tend_err pg_rule_counts_each(struct store *base, int32_t since_day,
                                  void (*fn)(void *arg, const struct store_rule_counts *c),
                                  void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, since_day);
    struct counts_arg a = {fn, arg};
    PGresult *r;
    enum tend_err err = pg_query(s, q_rule_counts, &p, "counting CTAs per rule", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        on_counts_row(&a, r, i);
    PQclear(r);
    return TEND_OK;
}
