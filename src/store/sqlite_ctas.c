/* sqlite_ctas.c: CTAs, their history and the evaluation runs, in the SQLite
 * backend (sqlite_int.h).
 *
 * Statuses and close reasons are stored by core's names (core/cta.h). The
 * unique partial index ctas_live refuses a second live CTA for a key
 * whatever a caller does; an evaluation reads only the watched CTAs (live, or
 * closed and not cleared), never the history. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cta.h"
#include "store/codes.h"
#include "store/sqlite_int.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/mem.h"

/* A CTA as read (read_cta). */
/* A segment's CTA has no account row (store.h, STORE_SEGMENTS_ACCOUNT):
 * its account reads "segment:NAME", its name "Segment NAME". */
#define CTA_COLUMNS                                                                                \
    CTA_COLUMNS_WITH("coalesce(a.external_id, '" SEG_CTA_PREFIX "' || c.subject)")                 \
    ", coalesce(a.name, 'Segment ' || c.subject)"
/* What an evaluation reads of a watched CTA: no account id or name (it has
 * them), and whether a person acted on it (column 22: core/plan.h, expiry). */
#define CTA_WATCHED_COLUMNS                                                                        \
    CTA_COLUMNS_WITH("NULL")                                                                       \
    ", NULL, EXISTS (SELECT 1 FROM cta_history h WHERE h.cta_id = c.id "                           \
    "AND h.actor <> '" STORE_ACTOR_TEND "')"
#define CTA_COLUMNS_WITH(ACCOUNT)                                                                  \
    "c.id, c.account_id, " ACCOUNT ", c.rule, c.subject, c.type, c.priority, c.status, "           \
    "c.snoozed_until, c.closed_reason, c.closed_day, c.cleared, c.owner, c.title, c.reason, "      \
    "c.evidence, c.opened_day, c.due_day, c.updated_ms, c.clear_since, c.value"

/* Without the account's external id (NULL): evaluation has it. */
static const char q_ctas_watched[] = "SELECT " CTA_WATCHED_COLUMNS " FROM ctas c "
                                     "WHERE (c.status <> " SQL_CTA_CLOSED " OR c.cleared = 0) "
                                     "AND c.account_id BETWEEN ? AND ?";
static const char q_ctas_watched_ids[] =
    "SELECT " CTA_WATCHED_COLUMNS
    " FROM json_each(?1) j CROSS JOIN ctas c ON c.account_id = j.value "
    "WHERE (c.status <> " SQL_CTA_CLOSED " OR c.cleared = 0)";
static const char q_ctas_live_count[] = "SELECT COUNT(*) FROM ctas WHERE status <> " SQL_CTA_CLOSED;
static const char q_cta_insert[] =
    "INSERT INTO ctas (account_id, rule, subject, type, priority, status, "
    "snoozed_until, closed_reason, closed_day, cleared, owner, title, reason, "
    "evidence, opened_day, due_day, updated_ms, value) VALUES (?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
static const char q_cta_update[] =
    "UPDATE ctas SET type = ?2, priority = ?3, status = ?4, snoozed_until = ?5, "
    "closed_reason = ?6, closed_day = ?7, cleared = ?8, owner = ?9, title = ?10, "
    "reason = ?11, evidence = ?12, due_day = ?13, updated_ms = ?14, "
    "clear_since = ?15, value = ?16 WHERE id = ?1";
static const char q_cta_forget[] =
    "UPDATE ctas SET cleared = 1 WHERE rule = ?1 AND account_id = ?2 "
    "AND subject = ?3 AND status = " SQL_CTA_CLOSED " AND cleared = 0";
static const char q_cta_get[] =
    "SELECT " CTA_COLUMNS " FROM ctas c LEFT JOIN accounts a ON a.id = c.account_id "
    "WHERE c.id = ?";
static const char q_ctas_each[] =
    "SELECT " CTA_COLUMNS " FROM ctas c LEFT JOIN accounts a ON a.id = c.account_id "
    "WHERE (?1 IS NULL OR c.status = ?1 OR (?1 = 'live' AND c.status <> " SQL_CTA_CLOSED ")) "
    "AND (?2 IS NULL OR c.owner = ?2) AND (?3 IS NULL OR a.external_id = ?3) "
    "AND (?4 IS NULL OR c.rule = ?4) "
    "ORDER BY c.status = " SQL_CTA_CLOSED ", c.priority DESC, coalesce(c.value, 0) DESC, "
    "c.due_day, c.id";
/* The same for one account: its few CTAs through ctas_account, where the
 * general form above reads and sorts every CTA. */
static const char q_ctas_of_account[] =
    "SELECT " CTA_COLUMNS " FROM accounts a JOIN ctas c ON c.account_id = a.id "
    "WHERE a.external_id = ?3 "
    "AND (?1 IS NULL OR c.status = ?1 OR (?1 = 'live' AND c.status <> " SQL_CTA_CLOSED ")) "
    "AND (?2 IS NULL OR c.owner = ?2) AND (?4 IS NULL OR c.rule = ?4) "
    "ORDER BY c.status = " SQL_CTA_CLOSED ", c.priority DESC, coalesce(c.value, 0) DESC, "
    "c.due_day, c.id";
static const char q_cta_history_add[] =
    "INSERT INTO cta_history (cta_id, seq, day, at_ms, action, actor, "
    "status, priority, note) SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, "
    "?4, ?5, ?6, ?7, ?8 FROM cta_history WHERE cta_id = ?1";
static const char q_cta_history[] = "SELECT seq, day, at_ms, action, actor, status, priority, note "
                                    "FROM cta_history WHERE cta_id = ? ORDER BY seq";
static const char q_eval_run_put[] =
    "INSERT INTO eval_runs (t_ms, run_ms, opened, updated, resolved, errors) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (t_ms) DO UPDATE SET "
    "run_ms = excluded.run_ms, opened = opened + excluded.opened, "
    "updated = updated + excluded.updated, "
    "resolved = resolved + excluded.resolved, errors = excluded.errors";
static const char q_eval_run_before[] = "SELECT max(t_ms) FROM eval_runs WHERE t_ms < ?";
static const char q_eval_run_last[] = "SELECT max(t_ms) FROM eval_runs";

/* Statuses and close reasons are stored by core's names (core/cta.h); a
 * name this tend does not know reads as the first of its kind. */
static int status_of(const char *name) {
    enum cta_status v = CTA_OPEN;
    return name && cta_status_parse(name, &v) ? (int)v : CTA_OPEN;
}

static int reason_of(const char *name) {
    enum cta_close_reason v = CTA_RESOLVED;
    return name && cta_close_reason_parse(name, &v) ? (int)v : CTA_RESOLVED;
}

/* Reads a row of CTA_COLUMNS. */
static void read_cta(sqlite3_stmt *st, struct store_cta *c) {
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    c->account_id = sqlite3_column_int64(st, 1);
    c->account = sqlite_col_text(st, 2);
    c->rule = sqlite_col_text(st, 3);
    c->subject = sqlite_col_text(st, 4);
    c->type = sqlite_col_text(st, 5);
    c->priority = sqlite3_column_int(st, 6);
    c->status = status_of(sqlite_col_text(st, 7));
    c->snoozed_until = sqlite3_column_int(st, 8);
    c->has_closed = sqlite3_column_type(st, 9) != SQLITE_NULL;
    c->closed_reason = reason_of(sqlite_col_text(st, 9));
    c->closed_day = sqlite3_column_int(st, 10);
    c->cleared = sqlite3_column_int(st, 11) != 0;
    c->owner = sqlite_col_text(st, 12);
    c->title = sqlite_col_text(st, 13);
    c->reason = sqlite_col_text(st, 14);
    c->evidence = sqlite_col_text(st, 15);
    c->opened_day = sqlite3_column_int(st, 16);
    c->due_day = sqlite3_column_int(st, 17);
    c->updated_ms = sqlite3_column_int64(st, 18);
    c->has_clear_since = sqlite3_column_type(st, 19) != SQLITE_NULL;
    c->clear_since = sqlite3_column_int(st, 19);
    c->has_value = sqlite3_column_type(st, 20) != SQLITE_NULL;
    c->value = sqlite3_column_double(st, 20);
    c->account_name = sqlite3_column_count(st) > 21 ? sqlite_col_text(st, 21) : NULL;
}

enum tend_err sqlite_ctas_live_count(struct store *base, int64_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    enum tend_err err =
        sqlite_step_int(s, sqlite_stmt(s, q_ctas_live_count), n, "counting live CTAs");
    return err == TEND_ERR_NOTFOUND ? (*n = 0, TEND_OK) : err;
}

/* One writer at a time already (BEGIN IMMEDIATE): an evaluation's
 * transaction excludes every other, so there is nothing more to lock. */
enum tend_err sqlite_ctas_lock(struct store *base, const struct store_span *sp) {
    (void)base;
    (void)sp;
    return TEND_OK;
}

enum tend_err sqlite_ctas_watched_each(struct store *base, const struct store_span *sp,
                                       void (*fn)(void *arg, const struct store_cta *c),
                                       void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_span_stmt(s, sp, q_ctas_watched, 1, q_ctas_watched_ids, 1);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_cta c;
        read_cta(st, &c);
        c.acted = sqlite3_column_int(st, 22) != 0;
        fn(arg, &c);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading CTAs");
}

/* Binds the changeable fields of c from index at on, in CTA_UPDATE's order:
 * type, priority, status, snoozed_until, closed_reason, closed_day, cleared,
 * owner, title, reason, evidence, due_day, updated_ms, clear_since. */
static void bind_cta_fields(sqlite3_stmt *st, int at, const struct store_cta *c) {
    sqlite_bind_text(st, at, c->type);
    sqlite3_bind_int(st, at + 1, c->priority);
    sqlite3_bind_text(st, at + 2, cta_status_name((enum cta_status)c->status), -1, SQLITE_STATIC);
    if (c->status == 1)
        sqlite3_bind_int(st, at + 3, c->snoozed_until);
    if (c->has_closed) {
        sqlite3_bind_text(st, at + 4,
                          cta_close_reason_name((enum cta_close_reason)c->closed_reason), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, at + 5, c->closed_day);
    }
    sqlite3_bind_int(st, at + 6, c->cleared);
    sqlite_bind_text(st, at + 7, c->owner);
    sqlite_bind_text(st, at + 8, c->title);
    sqlite_bind_text(st, at + 9, c->reason);
    sqlite_bind_text(st, at + 10, c->evidence ? c->evidence : "{}");
    sqlite3_bind_int(st, at + 11, c->due_day);
    sqlite3_bind_int64(st, at + 12, c->updated_ms);
    if (c->has_clear_since && c->status != 2)
        sqlite3_bind_int(st, at + 13, c->clear_since);
    if (c->has_value)
        sqlite3_bind_double(st, at + 14, c->value);
}

/* A step that may break the one-live-CTA-per-key index. */
static enum tend_err step_cta(struct sqlite_store *s, sqlite3_stmt *st, int *rc) {
    *rc = sqlite_step(st);
    if (*rc == SQLITE_CONSTRAINT) {
        snprintf(s->err, sizeof s->err,
                 "an open or snoozed CTA exists for that rule, account "
                 "and subject already");
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return TEND_ERR_INVALID;
    }
    return TEND_OK;
}

enum tend_err sqlite_cta_insert(struct store *base, const struct store_cta *c, int64_t *id) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_cta_insert);
    sqlite3_bind_int64(st, 1, c->account_id);
    sqlite_bind_text(st, 2, c->rule);
    sqlite_bind_text(st, 3, c->subject ? c->subject : "");
    /* INSERT's columns 4..: type, priority, status, snoozed_until,
     * closed_reason, closed_day, cleared, owner, title, reason, evidence;
     * then opened_day, due_day, updated_ms. */
    sqlite_bind_text(st, 4, c->type);
    sqlite3_bind_int(st, 5, c->priority);
    sqlite3_bind_text(st, 6, cta_status_name((enum cta_status)c->status), -1, SQLITE_STATIC);
    if (c->status == 1)
        sqlite3_bind_int(st, 7, c->snoozed_until);
    if (c->has_closed) {
        sqlite3_bind_text(st, 8, cta_close_reason_name((enum cta_close_reason)c->closed_reason), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(st, 9, c->closed_day);
    }
    sqlite3_bind_int(st, 10, c->cleared);
    sqlite_bind_text(st, 11, c->owner);
    sqlite_bind_text(st, 12, c->title);
    sqlite_bind_text(st, 13, c->reason);
    sqlite_bind_text(st, 14, c->evidence ? c->evidence : "{}");
    sqlite3_bind_int(st, 15, c->opened_day);
    sqlite3_bind_int(st, 16, c->due_day);
    sqlite3_bind_int64(st, 17, c->updated_ms);
    if (c->has_value)
        sqlite3_bind_double(st, 18, c->value);
    int rc;
    enum tend_err err = step_cta(s, st, &rc);
    if (err)
        return err;
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else
        err = sqlite_fail(s, "storing a CTA");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum tend_err sqlite_cta_update(struct store *base, const struct store_cta *c) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_cta_update);
    sqlite3_bind_int64(st, 1, c->id);
    bind_cta_fields(st, 2, c);
    int rc;
    enum tend_err err = step_cta(s, st, &rc);
    if (err)
        return err;
    err = rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "updating a CTA");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum tend_err sqlite_cta_forget_closed(struct store *base, const char *rule, int64_t account_id,
                                       const char *subject) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_cta_forget);
    sqlite_bind_text(st, 1, rule);
    sqlite3_bind_int64(st, 2, account_id);
    sqlite_bind_text(st, 3, subject ? subject : "");
    return sqlite_done(s, st, "updating CTAs");
}

enum tend_err sqlite_cta_get(struct store *base, int64_t id,
                             void (*fn)(void *arg, const struct store_cta *c), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_cta_get);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite_step(st);
    enum tend_err err = TEND_OK;
    if (rc == SQLITE_ROW) {
        struct store_cta c;
        read_cta(st, &c);
        fn(arg, &c);
    } else {
        err = rc == SQLITE_DONE ? TEND_ERR_NOTFOUND : sqlite_fail(s, "reading a CTA");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum tend_err sqlite_ctas_each(struct store *base, const struct store_cta_filter *f,
                               int (*fn)(void *arg, const struct store_cta *c), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, f->account ? q_ctas_of_account : q_ctas_each);
    sqlite_bind_text(st, 1, f->status);
    sqlite_bind_text(st, 2, f->owner);
    sqlite_bind_text(st, 3, f->account);
    sqlite_bind_text(st, 4, f->rule);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_cta c;
        read_cta(st, &c);
        if (fn(arg, &c)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing CTAs");
}

enum tend_err sqlite_cta_history_add(struct store *base, int64_t cta_id,
                                     const struct store_cta_change *ch) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_cta_history_add);
    sqlite3_bind_int64(st, 1, cta_id);
    sqlite3_bind_int(st, 2, ch->day);
    sqlite3_bind_int64(st, 3, ch->at_ms);
    sqlite_bind_text(st, 4, ch->action);
    sqlite_bind_text(st, 5, ch->actor);
    sqlite3_bind_text(st, 6, cta_status_name((enum cta_status)ch->status), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, ch->priority);
    sqlite_bind_text(st, 8, ch->note);
    return sqlite_done(s, st, "recording a CTA's history");
}

enum tend_err sqlite_cta_history_each(struct store *base, int64_t cta_id,
                                      void (*fn)(void *arg, const struct store_cta_change *ch),
                                      void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_cta_history);
    sqlite3_bind_int64(st, 1, cta_id);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_cta_change ch = {
            .seq = sqlite3_column_int64(st, 0),
            .day = sqlite3_column_int(st, 1),
            .at_ms = sqlite3_column_int64(st, 2),
            .action = sqlite_col_text(st, 3),
            .actor = sqlite_col_text(st, 4),
            .status = status_of(sqlite_col_text(st, 5)),
            .priority = sqlite3_column_int(st, 6),
            .note = sqlite_col_text(st, 7),
        };
        fn(arg, &ch);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading a CTA's history");
}

enum tend_err sqlite_eval_run_put(struct store *base, int64_t t_ms, int64_t run_ms, int64_t opened,
                                  int64_t updated, int64_t resolved, int64_t errors) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_eval_run_put);
    sqlite3_bind_int64(st, 1, t_ms);
    sqlite3_bind_int64(st, 2, run_ms);
    sqlite3_bind_int64(st, 3, opened);
    sqlite3_bind_int64(st, 4, updated);
    sqlite3_bind_int64(st, 5, resolved);
    sqlite3_bind_int64(st, 6, errors);
    return sqlite_done(s, st, "recording an evaluation");
}

enum tend_err sqlite_eval_run_before(struct store *base, int64_t t_ms, int64_t *prev_ms,
                                     bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, t_ms == INT64_MAX ? q_eval_run_last : q_eval_run_before);
    if (t_ms != INT64_MAX)
        sqlite3_bind_int64(st, 1, t_ms);
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        if (*found)
            *prev_ms = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? TEND_OK : sqlite_fail(s, "reading evaluations");
}

enum tend_err sqlite_ctas_reset(struct store *base) {
    struct sqlite_store *s = sqlite_of(base);
    if (sqlite3_exec(s->db,
                     "DELETE FROM cta_history; DELETE FROM ctas; DELETE FROM eval_runs; "
                     "DELETE FROM cta_held; DELETE FROM cta_escalations; DELETE FROM cta_steps; "
                     /* the holdout's draws go with their CTAs (ids are reused
                      * after the reset); notes stay, on their account */
                     "DELETE FROM cta_holdouts; UPDATE notes SET cta_id = NULL "
                     "WHERE cta_id IS NOT NULL;",
                     NULL, NULL, NULL) != SQLITE_OK)
        return sqlite_fail(s, "forgetting CTAs");
    return TEND_OK;
}

static const char q_rule_counts[] =
    "SELECT rule, count(*), sum(opened_day >= ?1), sum(status = " SQL_CTA_OPEN
    "), sum(status = " SQL_CTA_SNOOZED "), "
    "sum(status = " SQL_CTA_CLOSED "), sum(closed_reason = " SQL_CTA_AUTO_RESOLVED
    "), max(opened_day) FROM ctas "
    "GROUP BY rule";

enum tend_err sqlite_rule_counts_each(struct store *base, int32_t since_day,
                                      void (*fn)(void *arg, const struct store_rule_counts *c),
                                      void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_rule_counts);
    sqlite3_bind_int(st, 1, since_day);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_rule_counts c = {
            .rule = sqlite_col_text(st, 0),
            .total = sqlite3_column_int64(st, 1),
            .since = sqlite3_column_int64(st, 2),
            .open = sqlite3_column_int64(st, 3),
            .snoozed = sqlite3_column_int64(st, 4),
            .closed = sqlite3_column_int64(st, 5),
            .auto_resolved = sqlite3_column_int64(st, 6),
            .last_opened_day = sqlite3_column_int(st, 7),
        };
        fn(arg, &c);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "counting CTAs per rule");
}
