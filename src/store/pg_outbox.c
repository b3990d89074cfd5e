/* pg_outbox.c: notifications and the delivery outbox in the PostgreSQL
 * backend (pg_int.h); the contracts are store.h's, the reference is
 * sqlite_outbox.c (same rows, same order, same keys).
 *
 * Several dispatchers, one on each node, share the outbox (docs/delivery.md,
 * "Several nodes"):
 *
 * - A row is claimed (pg_outbox_claim) by an UPDATE of the rows that a
 *   SELECT ... FOR UPDATE SKIP LOCKED still finds pending and due: a row
 *   another dispatcher is claiming is skipped, not waited for, and one it
 *   claimed and committed is no longer pending (READ COMMITTED re-reads a
 *   locked row's newest version), so two claims at once get disjoint rows.
 * - A claimed row carries a lease (locked_until_ms), renewed while its
 *   transfer runs; pg_outbox_recover puts back only rows whose lease ended,
 *   so a node that died leaves its rows to the others for at most a lease.
 * - Pacing and Retry-After are the rows of delivery_holds, as on SQLite. An
 *   exclusive gate (a Slack webhook) is locked for the claim by an upsert of
 *   its row (the second claimer waits for the first's commit), then let
 *   through only when its hold is over and no row is `sending` to it under a
 *   live lease: one message in flight per webhook across every node, the
 *   next one starting after the previous answer's pacing hold.
 *
 * Texts sort by bytes (COLLATE "C"), as SQLite's BINARY does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/codes.h"
#include "store/pg_int.h"
#include "util/mem.h"

#define ROW_COLUMNS                                                                                \
    "o.id, o.notification_id, o.digest_id, n.cta_id, COALESCE(n.event, 'digest'), o.channel, "     \
    "o.target, o.owner, o.status, o.attempts, o.resends, o.next_at_ms, o.created_ms, o.sent_ms, "  \
    "o.last_error, 'tend-' || o.id || '-' || o.nonce, n.snapshot::text, o.rank FROM outbox o "     \
    "LEFT JOIN notifications n ON n.id = o.notification_id "

static const char q_notification_add[] =
    "INSERT INTO notifications (cta_id, event, day, created_ms, snapshot) "
    "VALUES ($1, $2, $3, $4, $5) RETURNING id";
static const char q_add[] = "INSERT INTO outbox (notification_id, digest_id, channel, target, "
                            "owner, status, next_at_ms, created_ms, last_error, rank) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
static const char q_recover[] =
    "UPDATE outbox SET status = 'pending', resends = resends + 1, "
    "attempts = greatest(attempts - 1, 0) WHERE id IN (SELECT id FROM outbox "
    "WHERE status = 'sending' AND coalesce(locked_until_ms, 0) <= $1 FOR UPDATE SKIP LOCKED) "
    "AND status = 'sending' RETURNING channel, target";
/* Locks an exclusive gate's row (made if need be) for the claim, and reads
 * its hold as last committed. */
static const char q_gate_lock[] =
    "INSERT INTO delivery_holds (gate, not_before_ms, reason, label) VALUES ($1, 0, '', '') "
    "ON CONFLICT (gate) DO UPDATE SET not_before_ms = delivery_holds.not_before_ms "
    "RETURNING not_before_ms";
static const char q_gate_busy[] = "SELECT max(locked_until_ms) FROM outbox WHERE gate = $1 "
                                  "AND status = 'sending' AND locked_until_ms > $2";
static const char q_claim[] =
    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, next_at_ms = $2, "
    "locked_until_ms = $3, gate = $4 WHERE id = (SELECT id FROM outbox WHERE id = $1 "
    "AND status = 'pending' AND next_at_ms <= $2 FOR UPDATE SKIP LOCKED) "
    "RETURNING attempts, resends";
static const char q_renew[] = "UPDATE outbox SET locked_until_ms = $2 WHERE status = 'sending' "
                              "AND id = ANY($1::bigint[])";
static const char q_due_targets[] =
    "SELECT channel, target, min(rank) FROM outbox WHERE status = 'pending' AND next_at_ms <= $1 "
    "GROUP BY channel, target "
    "ORDER BY min(rank), min(next_at_ms), channel COLLATE \"C\", target COLLATE \"C\"";
static const char q_due[] = "SELECT " ROW_COLUMNS "WHERE o.status = 'pending' AND "
                            "o.next_at_ms <= $1 AND o.channel = $3 AND o.target = $4 "
                            "ORDER BY o.rank, o.next_at_ms, o.id LIMIT $2";
static const char q_next_due[] =
    "SELECT min(next_at_ms) FROM outbox WHERE status = 'pending' AND next_at_ms > $1";
static const char q_set[] = "UPDATE outbox SET status = $2, attempts = $3, next_at_ms = $4, "
                            "sent_ms = $5, last_error = $6, resends = $7 WHERE id = $1";
static const char q_hold_set[] =
    "INSERT INTO delivery_holds (gate, not_before_ms, reason, label) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (gate) DO UPDATE SET not_before_ms = excluded.not_before_ms, "
    "reason = excluded.reason, label = excluded.label "
    "WHERE excluded.not_before_ms > delivery_holds.not_before_ms";
static const char q_holds[] = "SELECT gate, not_before_ms, reason, label FROM delivery_holds "
                              "WHERE not_before_ms > $1 ORDER BY not_before_ms, gate COLLATE \"C\"";
/* A gate a claim has locked is skipped, not waited for (a wait here and
 * the claim's wait for another gate could make a circle). */
static const char q_holds_prune[] =
    "DELETE FROM delivery_holds WHERE gate IN (SELECT gate FROM delivery_holds "
    "WHERE not_before_ms <= $1 FOR UPDATE SKIP LOCKED)";
static const char q_each[] = "SELECT " ROW_COLUMNS "WHERE ($1::text IS NULL OR o.status = $1) AND "
                             "($2::text IS NULL OR o.channel = $2) AND "
                             "($3::bigint IS NULL OR n.cta_id = $3) "
                             "ORDER BY o.id DESC LIMIT $4::bigint";
static const char q_get[] = "SELECT " ROW_COLUMNS "WHERE o.id = $1";
static const char q_counts[] = "SELECT status, count(*), sum(resends) FROM outbox GROUP BY status "
                               "ORDER BY status COLLATE \"C\"";
static const char q_retry[] = "UPDATE outbox SET status = 'pending', next_at_ms = $2, attempts = 0 "
                              "WHERE id = $1 AND status IN ('dead', 'pending')";
static const char q_retry_dead[] = "UPDATE outbox SET status = 'pending', next_at_ms = $1, "
                                   "attempts = 0 WHERE status = 'dead'";
static const char q_held_groups[] =
    "SELECT DISTINCT channel COLLATE \"C\", target COLLATE \"C\", owner COLLATE \"C\" "
    "FROM outbox WHERE status = 'held' AND created_ms < $1 ORDER BY 1, 2, 3";
static const char q_digest_items[] =
    "UPDATE outbox SET status = 'digested', digest_id = $5 WHERE status = 'held' AND "
    "channel = $1 AND target = $2 AND owner = $3 AND created_ms < $4";
static const char q_items[] = "SELECT n.snapshot::text FROM outbox o JOIN notifications n "
                              "ON n.id = o.notification_id WHERE o.digest_id = $1 ORDER BY o.id";
static const char q_delete[] = "DELETE FROM outbox WHERE id = $1";
static const char q_oldest_pending[] =
    "SELECT min(created_ms) FROM outbox WHERE status = 'pending'";

enum tend_err pg_notification_add(struct store *base, int64_t cta_id, const char *event,
                                  int32_t day, int64_t created_ms, const char *snapshot,
                                  int64_t *id) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, cta_id);
    pg_p_text(&p, event);
    pg_p_int(&p, day);
    pg_p_i64(&p, created_ms);
    pg_p_text(&p, snapshot);
    return pg_int(s, q_notification_add, &p, "storing a notification", id);
}

enum tend_err pg_outbox_add(struct store *base, const struct store_outbox *row, int64_t *id) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_id(&p, row->notification_id);
    pg_p_id(&p, row->digest_id);
    pg_p_text(&p, row->channel);
    pg_p_text(&p, row->target ? row->target : "");
    pg_p_text(&p, row->owner ? row->owner : "");
    pg_p_text(&p, row->status);
    pg_p_i64(&p, row->next_at_ms);
    pg_p_i64(&p, row->created_ms);
    pg_p_text(&p, row->last_error);
    pg_p_i64(&p, row->rank);
    return pg_int(s, q_add, &p, "writing to the outbox", id);
}

enum tend_err pg_outbox_recover(struct store *base, int64_t before_ms,
                                void (*fn)(void *arg, const char *channel, const char *target),
                                void *arg, int64_t *n) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, before_ms);
    PGresult *r;
    enum tend_err err = pg_query(s, q_recover, &p, "recovering the outbox", &r);
    if (err)
        return err;
    for (int i = 0; fn && i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_text(r, i, 1));
    *n = PQntuples(r);
    PQclear(r);
    return TEND_OK;
}

/* Whether exclusive gate lets a row through at now_ms (locking its row for
 * the transaction); when not, *wait_until_ms says until when it holds. */
static enum tend_err gate_open(struct pg_store *s, const char *gate, int64_t now_ms, bool *open,
                               int64_t *wait_until_ms) {
    struct pg_params p = {0};
    pg_p_text(&p, gate);
    int64_t until = 0;
    enum tend_err err = pg_int(s, q_gate_lock, &p, "locking a delivery gate", &until);
    if (err)
        return err;
    if (until > now_ms) {
        *open = false;
        *wait_until_ms = until;
        return TEND_OK;
    }
    struct pg_params q = {0};
    pg_p_text(&q, gate);
    pg_p_i64(&q, now_ms);
    until = 0;
    if ((err = pg_int(s, q_gate_busy, &q, "reading the outbox", &until)))
        return err;
    *open = until == 0; /* max() of no row: NULL, read as 0 */
    *wait_until_ms = until;
    return TEND_OK;
}

/* A row's place in the order exclusive gates are locked in. */
struct gate_ref {
    const char *gate;
    size_t row;
};

static int by_gate(const void *a, const void *b) {
    const struct gate_ref *x = a, *y = b;
    int c = strcmp(x->gate, y->gate);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

static bool exclusive(const struct store_claim *c) {
    return c->gate && c->exclusive;
}

/* Whether rows i and j share an exclusive gate. */
static bool same_gate(const struct store_claim *rows, size_t i, size_t j) {
    return exclusive(&rows[i]) && exclusive(&rows[j]) && strcmp(rows[i].gate, rows[j].gate) == 0;
}

enum tend_err pg_outbox_claim(struct store *base, struct store_claim *rows, size_t n,
                              int64_t now_ms, int64_t lease_until_ms) {
    struct pg_store *s = pg_of(base);
    /* The exclusive gates first, each once, locked in the order of their
     * keys: two claims that want the same gates never wait for each other
     * in a circle. open[i]: row i's gate lets it through. */
    bool *open = xcalloc(n ? n : 1, sizeof *open);
    struct gate_ref *order = xmalloc((n ? n : 1) * sizeof *order);
    size_t n_order = 0;
    for (size_t i = 0; i < n; i++) {
        rows[i].claimed = false;
        rows[i].wait_until_ms = 0;
        open[i] = !exclusive(&rows[i]);
        if (exclusive(&rows[i]))
            order[n_order++] = (struct gate_ref){rows[i].gate, i};
    }
    qsort(order, n_order, sizeof *order, by_gate);
    enum tend_err err = TEND_OK;
    for (size_t k = 0; !err && k < n_order; k++) {
        size_t i = order[k].row;
        if (k > 0 && same_gate(rows, i, order[k - 1].row))
            continue;
        err = gate_open(s, rows[i].gate, now_ms, &open[i], &rows[i].wait_until_ms);
        for (size_t j = 0; !err && j < n; j++) {
            if (j != i && same_gate(rows, i, j)) {
                open[j] = open[i];
                rows[j].wait_until_ms = rows[i].wait_until_ms;
            }
        }
    }
    for (size_t i = 0; !err && i < n; i++) {
        struct store_claim *c = &rows[i];
        if (!open[i])
            continue;
        struct pg_params p = {0};
        pg_p_i64(&p, c->id);
        pg_p_i64(&p, now_ms);
        pg_p_i64(&p, lease_until_ms);
        pg_p_text(&p, c->gate);
        PGresult *r;
        if ((err = pg_query(s, q_claim, &p, "claiming a message", &r)))
            break;
        if (PQntuples(r) > 0) {
            c->claimed = true;
            c->attempts = pg_i64(r, 0, 0);
            c->resends = pg_i64(r, 0, 1);
            /* Its gate is busy now: the other rows of it wait for this one. */
            for (size_t j = i + 1; j < n; j++) {
                if (same_gate(rows, i, j)) {
                    open[j] = false;
                    rows[j].wait_until_ms = lease_until_ms;
                }
            }
        }
        PQclear(r);
    }
    free(open);
    free(order);
    return err;
}

enum tend_err pg_outbox_lease_renew(struct store *base, const int64_t *ids, size_t n,
                                    int64_t until_ms, int64_t *renewed) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_ids(&p, ids, n);
    pg_p_i64(&p, until_ms);
    enum tend_err err = pg_run(s, q_renew, &p, "renewing leases");
    if (!err && renewed)
        *renewed = s->changes;
    return err;
}

/* Calls fn with each row of r (ROW_COLUMNS). */
static void rows(const PGresult *r, void (*fn)(void *arg, const struct store_outbox *row),
                 void *arg) {
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_outbox o = {
            .id = pg_i64(r, i, 0),
            .notification_id = pg_i64(r, i, 1),
            .digest_id = pg_i64(r, i, 2),
            .cta_id = pg_i64(r, i, 3),
            .event = pg_text(r, i, 4),
            .channel = pg_text(r, i, 5),
            .target = pg_text(r, i, 6),
            .owner = pg_text(r, i, 7),
            .status = pg_text(r, i, 8),
            .attempts = pg_i64(r, i, 9),
            .resends = pg_i64(r, i, 10),
            .next_at_ms = pg_i64(r, i, 11),
            .created_ms = pg_i64(r, i, 12),
            .sent_ms = pg_i64(r, i, 13),
            .last_error = pg_text(r, i, 14),
            .key = pg_text(r, i, 15),
            .snapshot = pg_text(r, i, 16),
            .rank = pg_i64(r, i, 17),
        };
        fn(arg, &o);
    }
}

/* Runs a statement of ROW_COLUMNS and calls fn with its rows; *n (may be
 * NULL) gets how many. fn may use the store: the result is read whole. */
static enum tend_err query_rows(struct pg_store *s, const char *sql, struct pg_params *p,
                                void (*fn)(void *arg, const struct store_outbox *row), void *arg,
                                int *n) {
    PGresult *r;
    enum tend_err err = pg_query(s, sql, p, "reading the outbox", &r);
    if (err)
        return err;
    rows(r, fn, arg);
    if (n)
        *n = PQntuples(r);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_outbox_due_targets(struct store *base, int64_t now_ms,
                                    void (*fn)(void *arg, const char *channel, const char *target,
                                               int64_t rank),
                                    void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, now_ms);
    PGresult *r;
    enum tend_err err = pg_query(s, q_due_targets, &p, "reading the outbox", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_text(r, i, 1), pg_i64(r, i, 2));
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_outbox_due(struct store *base, int64_t now_ms, const char *channel,
                            const char *target, int64_t limit,
                            void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, now_ms);
    pg_p_i64(&p, limit);
    pg_p_text(&p, channel);
    pg_p_text(&p, target);
    return query_rows(s, q_due, &p, fn, arg, NULL);
}

enum tend_err pg_outbox_next_due(struct store *base, int64_t after_ms, int64_t *at_ms,
                                 bool *found) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, after_ms);
    PGresult *r;
    enum tend_err err = pg_query(s, q_next_due, &p, "reading the outbox", &r);
    if (err)
        return err;
    *found = PQntuples(r) > 0 && !pg_null(r, 0, 0);
    if (*found)
        *at_ms = pg_i64(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_outbox_set(struct store *base, const struct store_outbox *row) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, row->id);
    pg_p_text(&p, row->status);
    pg_p_i64(&p, row->attempts);
    pg_p_i64(&p, row->next_at_ms);
    pg_p_id(&p, row->sent_ms);
    pg_p_text(&p, row->last_error);
    pg_p_i64(&p, row->resends);
    return pg_run(s, q_set, &p, "updating the outbox");
}

enum tend_err pg_outbox_hold_set(struct store *base, const struct store_hold *h) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, h->gate);
    pg_p_i64(&p, h->not_before_ms);
    pg_p_text(&p, h->reason ? h->reason : "");
    pg_p_text(&p, h->label ? h->label : "");
    return pg_run(s, q_hold_set, &p, "recording a delivery hold");
}

enum tend_err pg_outbox_holds_each(struct store *base, int64_t after_ms,
                                   void (*fn)(void *arg, const struct store_hold *h), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, after_ms);
    PGresult *r;
    enum tend_err err = pg_query(s, q_holds, &p, "reading delivery holds", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_hold h = {.gate = pg_text(r, i, 0),
                               .not_before_ms = pg_i64(r, i, 1),
                               .reason = pg_text(r, i, 2),
                               .label = pg_text(r, i, 3)};
        fn(arg, &h);
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_outbox_holds_prune(struct store *base, int64_t before_ms) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, before_ms);
    return pg_run(s, q_holds_prune, &p, "forgetting delivery holds");
}

enum tend_err pg_outbox_each(struct store *base, const struct store_outbox_filter *f,
                             void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, f->status);
    pg_p_text(&p, f->channel);
    pg_p_id(&p, f->cta_id);
    if (f->limit > 0)
        pg_p_i64(&p, f->limit);
    else
        pg_p_null(&p); /* LIMIT NULL: no limit */
    return query_rows(s, q_each, &p, fn, arg, NULL);
}

enum tend_err pg_outbox_get(struct store *base, int64_t id,
                            void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, id);
    int n = 0;
    enum tend_err err = query_rows(s, q_get, &p, fn, arg, &n);
    return err ? err : n ? TEND_OK : TEND_ERR_NOTFOUND;
}

enum tend_err pg_outbox_counts(struct store *base,
                               void (*fn)(void *arg, const char *status, int64_t rows,
                                          int64_t resends),
                               void *arg) {
    struct pg_store *s = pg_of(base);
    PGresult *r;
    enum tend_err err = pg_query(s, q_counts, NULL, "counting the outbox", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_i64(r, i, 1), pg_i64(r, i, 2));
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_outbox_retry(struct store *base, int64_t id, int64_t now_ms, bool *changed) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, id);
    pg_p_i64(&p, now_ms);
    enum tend_err err = pg_run(s, q_retry, &p, "re-queueing a message");
    if (!err)
        *changed = s->changes > 0;
    return err;
}

enum tend_err pg_outbox_retry_dead(struct store *base, int64_t now_ms, int64_t *n) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, now_ms);
    enum tend_err err = pg_run(s, q_retry_dead, &p, "re-queueing dead messages");
    if (!err)
        *n = s->changes;
    return err;
}

enum tend_err pg_outbox_held_groups(struct store *base, int64_t before_ms,
                                    void (*fn)(void *arg, const char *channel, const char *target,
                                               const char *owner),
                                    void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, before_ms);
    PGresult *r;
    enum tend_err err = pg_query(s, q_held_groups, &p, "reading held messages", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_text(r, i, 1), pg_text(r, i, 2));
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_outbox_digest_make(struct store *base, const char *channel, const char *target,
                                    const char *owner, int64_t before_ms, int64_t now_ms,
                                    int64_t rank, int64_t *digest_id, int64_t *items) {
    struct pg_store *s = pg_of(base);
    struct store_outbox row = {.channel = channel,
                               .target = target,
                               .owner = owner,
                               .status = "pending",
                               .rank = rank,
                               .next_at_ms = now_ms,
                               .created_ms = now_ms};
    int64_t id;
    enum tend_err err = pg_outbox_add(base, &row, &id);
    if (err)
        return err;
    struct pg_params p = {0};
    pg_p_text(&p, channel);
    pg_p_text(&p, target);
    pg_p_text(&p, owner);
    pg_p_i64(&p, before_ms);
    pg_p_i64(&p, id);
    if ((err = pg_run(s, q_digest_items, &p, "making a digest")))
        return err;
    *items = s->changes;
    *digest_id = id;
    if (*items == 0) { /* nothing was held after all (another node digested them): no empty one */
        struct pg_params q = {0};
        pg_p_i64(&q, id);
        *digest_id = 0;
        return pg_run(s, q_delete, &q, "making a digest");
    }
    return TEND_OK;
}

enum tend_err pg_outbox_items_each(struct store *base, int64_t digest_id,
                                   void (*fn)(void *arg, const char *snapshot), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, digest_id);
    PGresult *r;
    enum tend_err err = pg_query(s, q_items, &p, "reading a digest", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0));
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_outbox_oldest_pending(struct store *base, int64_t *created_ms, bool *found) {
    struct pg_store *s = pg_of(base);
    PGresult *r;
    enum tend_err err = pg_query(s, q_oldest_pending, NULL, "reading the outbox", &r);
    if (err)
        return err;
    *found = PQntuples(r) > 0 && !pg_null(r, 0, 0);
    *created_ms = pg_i64(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}
