/* sqlite_outbox.c: notifications and the delivery outbox in SQLite (see
 * store.h and docs/delivery.md).
 *
 * A row's key is "tend-" + its id + "-" + its random nonce, the same on
 * every read, so a resend carries the key of the first send, and unique even
 * when a restored backup hands out ids already used. Status changes are single UPDATEs; the digest
 * is an INSERT and an UPDATE the caller brackets in one transaction. Due rows
 * come out most urgent first (rank, then how long they have been due), read
 * through the index outbox_due (channel, target, rank, next_at_ms), so a
 * target's next row is one seek however long its backlog. delivery_holds
 * keeps, per destination, when it may be sent to again (pacing, Retry-After):
 * an upsert that never shortens a hold. */
#include <stdio.h>
#include <string.h>

#include "store/codes.h"
#include "store/sqlite_int.h"

#define ROW_COLUMNS                                                                                \
    "o.id, o.notification_id, o.digest_id, n.cta_id, COALESCE(n.event, 'digest'), o.channel, "     \
    "o.target, o.owner, o.status, o.attempts, o.resends, o.next_at_ms, o.created_ms, o.sent_ms, "  \
    "o.last_error, 'tend-' || o.id || '-' || o.nonce, n.snapshot, o.rank FROM outbox o "           \
    "LEFT JOIN notifications n ON n.id = o.notification_id "

static const char q_notification_add[] = "INSERT INTO notifications (cta_id, event, day, "
                                         "created_ms, snapshot) VALUES (?, ?, ?, ?, ?)";
static const char q_add[] =
    "INSERT INTO outbox (notification_id, digest_id, channel, target, owner, status, next_at_ms, "
    "created_ms, last_error, rank) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char q_recover[] = "UPDATE outbox SET status = 'pending', resends = resends + 1, "
                                "attempts = max(attempts - 1, 0) WHERE status = 'sending' "
                                "AND coalesce(locked_until_ms, 0) <= ?1 RETURNING channel, target";
/* A claim (sqlite_outbox_claim): one writer at a time (BEGIN IMMEDIATE), so
 * the checks and the update cannot interleave with another dispatcher's. */
static const char q_gate_hold[] = "SELECT not_before_ms FROM delivery_holds WHERE gate = ?1";
static const char q_gate_busy[] = "SELECT max(locked_until_ms) FROM outbox WHERE gate = ?1 "
                                  "AND status = 'sending' AND locked_until_ms > ?2";
static const char q_claim[] =
    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, next_at_ms = ?2, "
    "locked_until_ms = ?3, gate = ?4 WHERE id = ?1 AND status = 'pending' AND next_at_ms <= ?2 "
    "RETURNING attempts, resends";
static const char q_renew[] = "UPDATE outbox SET locked_until_ms = ?2 WHERE status = 'sending' "
                              "AND id IN (SELECT value FROM json_each(?1))";
static const char q_due_targets[] =
    "SELECT channel, target, min(rank) FROM outbox WHERE status = 'pending' AND next_at_ms <= ?1 "
    "GROUP BY channel, target ORDER BY min(rank), min(next_at_ms), channel, target";
static const char q_due[] = "SELECT " ROW_COLUMNS "WHERE o.status = 'pending' AND "
                            "o.next_at_ms <= ?1 AND o.channel = ?3 AND o.target = ?4 "
                            "ORDER BY o.rank, o.next_at_ms, o.id LIMIT ?2";
static const char q_next_due[] =
    "SELECT min(next_at_ms) FROM outbox WHERE status = 'pending' AND next_at_ms > ?1";
static const char q_set[] = "UPDATE outbox SET status = ?2, attempts = ?3, next_at_ms = ?4, "
                            "sent_ms = ?5, last_error = ?6, resends = ?7 WHERE id = ?1";
static const char q_hold_set[] =
    "INSERT INTO delivery_holds (gate, not_before_ms, reason, label) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (gate) DO UPDATE SET not_before_ms = excluded.not_before_ms, "
    "reason = excluded.reason, label = excluded.label "
    "WHERE excluded.not_before_ms > delivery_holds.not_before_ms";
static const char q_holds[] = "SELECT gate, not_before_ms, reason, label FROM delivery_holds "
                              "WHERE not_before_ms > ?1 ORDER BY not_before_ms, gate";
static const char q_holds_prune[] = "DELETE FROM delivery_holds WHERE not_before_ms <= ?1";
static const char q_each[] = "SELECT " ROW_COLUMNS "WHERE (?1 IS NULL OR o.status = ?1) AND "
                             "(?2 IS NULL OR o.channel = ?2) AND (?3 IS NULL OR n.cta_id = ?3) "
                             "ORDER BY o.id DESC LIMIT ?4";
static const char q_get[] = "SELECT " ROW_COLUMNS "WHERE o.id = ?1";
static const char q_counts[] = "SELECT status, count(*), sum(resends) FROM outbox GROUP BY status "
                               "ORDER BY status";
static const char q_retry[] = "UPDATE outbox SET status = 'pending', next_at_ms = ?2, attempts = 0 "
                              "WHERE id = ?1 AND status IN ('dead', 'pending')";
static const char q_retry_dead[] = "UPDATE outbox SET status = 'pending', next_at_ms = ?1, "
                                   "attempts = 0 WHERE status = 'dead'";
static const char q_held_groups[] = "SELECT DISTINCT channel, target, owner FROM outbox "
                                    "WHERE status = 'held' AND created_ms < ?1";
static const char q_digest_items[] =
    "UPDATE outbox SET status = 'digested', digest_id = ?5 WHERE status = 'held' AND "
    "channel = ?1 AND target = ?2 AND owner = ?3 AND created_ms < ?4";
static const char q_items[] = "SELECT n.snapshot FROM outbox o JOIN notifications n "
                              "ON n.id = o.notification_id WHERE o.digest_id = ?1 ORDER BY o.id";
static const char q_delete[] = "DELETE FROM outbox WHERE id = ?1";

enum tend_err sqlite_notification_add(struct store *base, int64_t cta_id, const char *event,
                                      int32_t day, int64_t created_ms, const char *snapshot,
                                      int64_t *id) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_notification_add);
    sqlite3_bind_int64(st, 1, cta_id);
    sqlite_bind_text(st, 2, event);
    sqlite3_bind_int(st, 3, day);
    sqlite3_bind_int64(st, 4, created_ms);
    sqlite_bind_text(st, 5, snapshot);
    enum tend_err err = sqlite_done(s, st, "storing a notification");
    if (!err)
        *id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
    return err;
}

enum tend_err sqlite_outbox_add(struct store *base, const struct store_outbox *row, int64_t *id) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_add);
    sqlite_bind_id(st, 1, row->notification_id);
    sqlite_bind_id(st, 2, row->digest_id);
    sqlite_bind_text(st, 3, row->channel);
    sqlite_bind_text(st, 4, row->target ? row->target : "");
    sqlite_bind_text(st, 5, row->owner ? row->owner : "");
    sqlite_bind_text(st, 6, row->status);
    sqlite3_bind_int64(st, 7, row->next_at_ms);
    sqlite3_bind_int64(st, 8, row->created_ms);
    sqlite_bind_text(st, 9, row->last_error);
    sqlite3_bind_int64(st, 10, row->rank);
    enum tend_err err = sqlite_done(s, st, "writing to the outbox");
    if (!err)
        *id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
    return err;
}

enum tend_err sqlite_outbox_recover(struct store *base, int64_t before_ms,
                                    void (*fn)(void *arg, const char *channel, const char *target),
                                    void *arg, int64_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_recover);
    sqlite3_bind_int64(st, 1, before_ms);
    int rc;
    int64_t count = 0;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        count++;
        if (fn)
            fn(arg, sqlite_col_text(st, 0), sqlite_col_text(st, 1));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return sqlite_fail(s, "recovering the outbox");
    *n = count;
    return TEND_OK;
}

/* Whether an exclusive gate lets a row through at now_ms; when not,
 * *wait_until_ms says until when it holds. */
static enum tend_err gate_open(struct sqlite_store *s, const char *gate, int64_t now_ms, bool *open,
                               int64_t *wait_until_ms) {
    int64_t until = 0;
    sqlite3_stmt *st = sqlite_stmt(s, q_gate_hold);
    sqlite_bind_text(st, 1, gate);
    enum tend_err err = sqlite_step_int(s, st, &until, "reading a delivery hold");
    if (err && err != TEND_ERR_NOTFOUND)
        return err;
    if (!err && until > now_ms) {
        *open = false;
        *wait_until_ms = until;
        return TEND_OK;
    }
    st = sqlite_stmt(s, q_gate_busy);
    sqlite_bind_text(st, 1, gate);
    sqlite3_bind_int64(st, 2, now_ms);
    until = 0;
    err = sqlite_step_int(s, st, &until, "reading the outbox");
    if (err && err != TEND_ERR_NOTFOUND)
        return err;
    *open = until == 0; /* max() of no row reads NULL, 0 */
    *wait_until_ms = until;
    return TEND_OK;
}

enum tend_err sqlite_outbox_claim(struct store *base, struct store_claim *rows, size_t n,
                                  int64_t now_ms, int64_t lease_until_ms) {
    struct sqlite_store *s = sqlite_of(base);
    for (size_t i = 0; i < n; i++) {
        struct store_claim *c = &rows[i];
        c->claimed = false;
        c->wait_until_ms = 0;
        if (c->gate && c->exclusive) {
            bool open = false;
            enum tend_err err = gate_open(s, c->gate, now_ms, &open, &c->wait_until_ms);
            if (err)
                return err;
            if (!open)
                continue;
        }
        sqlite3_stmt *st = sqlite_stmt(s, q_claim);
        sqlite3_bind_int64(st, 1, c->id);
        sqlite3_bind_int64(st, 2, now_ms);
        sqlite3_bind_int64(st, 3, lease_until_ms);
        sqlite_bind_text(st, 4, c->gate);
        int rc = sqlite_step(st);
        if (rc == SQLITE_ROW) {
            c->claimed = true;
            c->attempts = sqlite3_column_int64(st, 0);
            c->resends = sqlite3_column_int64(st, 1);
            rc = sqlite_step(st);
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE)
            return sqlite_fail(s, "claiming a message");
    }
    return TEND_OK;
}

enum tend_err sqlite_outbox_lease_renew(struct store *base, const int64_t *ids, size_t n,
                                        int64_t until_ms, int64_t *renewed) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_renew);
    sqlite_bind_ids(st, 1, ids, n);
    sqlite3_bind_int64(st, 2, until_ms);
    enum tend_err err = sqlite_done(s, st, "renewing leases");
    if (!err && renewed)
        *renewed = sqlite_changes(s);
    return err;
}

/* Steps st, calling fn with each row; resets it. */
static enum tend_err rows(struct sqlite_store *s, sqlite3_stmt *st,
                          void (*fn)(void *arg, const struct store_outbox *row), void *arg,
                          bool *any) {
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_outbox r = {
            .id = sqlite3_column_int64(st, 0),
            .notification_id = sqlite3_column_int64(st, 1),
            .digest_id = sqlite3_column_int64(st, 2),
            .cta_id = sqlite3_column_int64(st, 3),
            .event = sqlite_col_text(st, 4),
            .channel = sqlite_col_text(st, 5),
            .target = sqlite_col_text(st, 6),
            .owner = sqlite_col_text(st, 7),
            .status = sqlite_col_text(st, 8),
            .attempts = sqlite3_column_int64(st, 9),
            .resends = sqlite3_column_int64(st, 10),
            .next_at_ms = sqlite3_column_int64(st, 11),
            .created_ms = sqlite3_column_int64(st, 12),
            .sent_ms = sqlite3_column_int64(st, 13),
            .last_error = sqlite_col_text(st, 14),
            .key = sqlite_col_text(st, 15),
            .snapshot = sqlite_col_text(st, 16),
            .rank = sqlite3_column_int64(st, 17),
        };
        if (any)
            *any = true;
        fn(arg, &r);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the outbox");
}

enum tend_err sqlite_outbox_due_targets(struct store *base, int64_t now_ms,
                                        void (*fn)(void *arg, const char *channel,
                                                   const char *target, int64_t rank),
                                        void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_due_targets);
    sqlite3_bind_int64(st, 1, now_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite_col_text(st, 1), sqlite3_column_int64(st, 2));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the outbox");
}

enum tend_err sqlite_outbox_due(struct store *base, int64_t now_ms, const char *channel,
                                const char *target, int64_t limit,
                                void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_due);
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, limit);
    sqlite_bind_text(st, 3, channel);
    sqlite_bind_text(st, 4, target);
    return rows(s, st, fn, arg, NULL);
}

enum tend_err sqlite_outbox_next_due(struct store *base, int64_t after_ms, int64_t *at_ms,
                                     bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_next_due);
    sqlite3_bind_int64(st, 1, after_ms);
    int rc = sqlite_step(st);
    *found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (*found)
        *at_ms = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? TEND_OK : sqlite_fail(s, "reading the outbox");
}

enum tend_err sqlite_outbox_set(struct store *base, const struct store_outbox *row) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_set);
    sqlite3_bind_int64(st, 1, row->id);
    sqlite_bind_text(st, 2, row->status);
    sqlite3_bind_int64(st, 3, row->attempts);
    sqlite3_bind_int64(st, 4, row->next_at_ms);
    sqlite_bind_id(st, 5, row->sent_ms);
    sqlite_bind_text(st, 6, row->last_error);
    sqlite3_bind_int64(st, 7, row->resends);
    return sqlite_done(s, st, "updating the outbox");
}

enum tend_err sqlite_outbox_hold_set(struct store *base, const struct store_hold *h) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_hold_set);
    sqlite_bind_text(st, 1, h->gate);
    sqlite3_bind_int64(st, 2, h->not_before_ms);
    sqlite_bind_text(st, 3, h->reason ? h->reason : "");
    sqlite_bind_text(st, 4, h->label ? h->label : "");
    return sqlite_done(s, st, "recording a delivery hold");
}

enum tend_err sqlite_outbox_holds_each(struct store *base, int64_t after_ms,
                                       void (*fn)(void *arg, const struct store_hold *h),
                                       void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_holds);
    sqlite3_bind_int64(st, 1, after_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_hold h = {.gate = sqlite_col_text(st, 0),
                               .not_before_ms = sqlite3_column_int64(st, 1),
                               .reason = sqlite_col_text(st, 2),
                               .label = sqlite_col_text(st, 3)};
        fn(arg, &h);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading delivery holds");
}

enum tend_err sqlite_outbox_holds_prune(struct store *base, int64_t before_ms) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_holds_prune);
    sqlite3_bind_int64(st, 1, before_ms);
    return sqlite_done(s, st, "forgetting delivery holds");
}

enum tend_err sqlite_outbox_each(struct store *base, const struct store_outbox_filter *f,
                                 void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_each);
    sqlite_bind_text(st, 1, f->status);
    sqlite_bind_text(st, 2, f->channel);
    sqlite_bind_id(st, 3, f->cta_id);
    sqlite3_bind_int64(st, 4, f->limit > 0 ? f->limit : -1);
    return rows(s, st, fn, arg, NULL);
}

enum tend_err sqlite_outbox_get(struct store *base, int64_t id,
                                void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_get);
    sqlite3_bind_int64(st, 1, id);
    bool any = false;
    enum tend_err err = rows(s, st, fn, arg, &any);
    return err ? err : any ? TEND_OK : TEND_ERR_NOTFOUND;
}

enum tend_err sqlite_outbox_counts(struct store *base,
                                   void (*fn)(void *arg, const char *status, int64_t rows,
                                              int64_t resends),
                                   void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_counts);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "counting the outbox");
}

enum tend_err sqlite_outbox_retry(struct store *base, int64_t id, int64_t now_ms, bool *changed) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_retry);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now_ms);
    enum tend_err err = sqlite_done(s, st, "re-queueing a message");
    if (!err)
        *changed = sqlite_changes(s) > 0;
    return err;
}

enum tend_err sqlite_outbox_retry_dead(struct store *base, int64_t now_ms, int64_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_retry_dead);
    sqlite3_bind_int64(st, 1, now_ms);
    enum tend_err err = sqlite_done(s, st, "re-queueing dead messages");
    if (!err)
        *n = sqlite_changes(s);
    return err;
}

enum tend_err sqlite_outbox_held_groups(struct store *base, int64_t before_ms,
                                        void (*fn)(void *arg, const char *channel,
                                                   const char *target, const char *owner),
                                        void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_held_groups);
    sqlite3_bind_int64(st, 1, before_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite_col_text(st, 1), sqlite_col_text(st, 2));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading held messages");
}

enum tend_err sqlite_outbox_digest_make(struct store *base, const char *channel, const char *target,
                                        const char *owner, int64_t before_ms, int64_t now_ms,
                                        int64_t rank, int64_t *digest_id, int64_t *items) {
    struct sqlite_store *s = sqlite_of(base);
    struct store_outbox row = {.channel = channel,
                               .target = target,
                               .owner = owner,
                               .status = "pending",
                               .rank = rank,
                               .next_at_ms = now_ms,
                               .created_ms = now_ms};
    int64_t id;
    enum tend_err err = sqlite_outbox_add(base, &row, &id);
    if (err)
        return err;
    sqlite3_stmt *st = sqlite_stmt(s, q_digest_items);
    sqlite_bind_text(st, 1, channel);
    sqlite_bind_text(st, 2, target);
    sqlite_bind_text(st, 3, owner);
    sqlite3_bind_int64(st, 4, before_ms);
    sqlite3_bind_int64(st, 5, id);
    if ((err = sqlite_done(s, st, "making a digest")))
        return err;
    *items = sqlite_changes(s);
    *digest_id = id;
    if (*items == 0) { /* nothing was held after all: no empty digest */
        st = sqlite_stmt(s, q_delete);
        sqlite3_bind_int64(st, 1, id);
        *digest_id = 0;
        return sqlite_done(s, st, "making a digest");
    }
    return TEND_OK;
}

enum tend_err sqlite_outbox_items_each(struct store *base, int64_t digest_id,
                                       void (*fn)(void *arg, const char *snapshot), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_items);
    sqlite3_bind_int64(st, 1, digest_id);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading a digest");
}

static const char q_oldest_pending[] =
    "SELECT min(created_ms) FROM outbox WHERE status = 'pending'";

enum tend_err sqlite_outbox_oldest_pending(struct store *base, int64_t *created_ms, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_oldest_pending);
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW) {
        *found = sqlite3_column_type(st, 0) != SQLITE_NULL;
        *created_ms = sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the outbox");
}
