/* pg_inbox.c: the webhook inbox and the providers' ids of accounts in
 * PostgreSQL (store.h, "the webhook inbox"; docs/connectors.md); the
 * results those of sqlite_inbox.c.
 *
 * Several nodes receive and process webhooks at once. Receiving is one
 * INSERT ... ON CONFLICT DO NOTHING on the key (provider, event_id): two
 * nodes given the same event store it once and both acknowledge it. A
 * worker takes the oldest pending row with FOR UPDATE SKIP LOCKED inside
 * the transaction that stores its events and finishes it: another node's
 * worker skips a row being processed and takes the next, and a worker that
 * dies leaves its row pending (the lock goes with its connection). */
#include <stdio.h>
#include <string.h>

#include "store/pg_int.h"

#define ROW_COLUMNS                                                                                \
    "id, provider, event_id, event_type, received_ms, coalesce(processed_ms, 0), status, reason, " \
    "detail, account, events, attempts"

static const char q_put[] =
    "INSERT INTO hook_inbox (provider, event_id, event_type, received_ms, status, payload) "
    "VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (provider, event_id) DO NOTHING";
static const char q_next[] = "SELECT " ROW_COLUMNS ", payload FROM hook_inbox "
                             "WHERE status = 'pending' ORDER BY id LIMIT 1 "
                             "FOR UPDATE SKIP LOCKED";
static const char q_finish[] =
    "UPDATE hook_inbox SET status = $2, reason = $3, detail = $4, account = $5, events = $6, "
    "attempts = attempts + 1, processed_ms = $7 WHERE id = $1";
static const char q_each[] =
    "SELECT " ROW_COLUMNS " FROM hook_inbox "
    "WHERE ($1::text IS NULL OR provider = $1) AND ($2::text IS NULL OR status = $2) "
    "ORDER BY id DESC LIMIT $3";
static const char q_requeue_id[] =
    "UPDATE hook_inbox SET status = 'pending' WHERE id = $1 AND status <> 'pending'";
static const char q_requeue[] =
    "UPDATE hook_inbox SET status = 'pending' WHERE ($1::text IS NULL OR provider = $1) AND "
    "(($2::text IS NULL AND status IN ('unmapped', 'failed')) OR status = $2) AND "
    "status <> 'pending'";
static const char q_prune[] =
    "DELETE FROM hook_inbox WHERE received_ms < $1 AND status <> 'pending'";
static const char q_counts[] =
    "SELECT provider, status, reason, count(*) FROM hook_inbox "
    "GROUP BY provider, status, reason "
    "ORDER BY provider COLLATE \"C\", status COLLATE \"C\", reason COLLATE \"C\"";
static const char q_map_put[] =
    "INSERT INTO hook_accounts (provider, provider_id, account, updated_ms) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (provider, provider_id) DO UPDATE SET "
    "account = excluded.account, updated_ms = excluded.updated_ms";
static const char q_map_get[] =
    "SELECT account FROM hook_accounts WHERE provider = $1 AND provider_id = $2";

enum tend_err pg_inbox_put(struct store *base, const char *provider, const char *event_id,
                           const char *event_type, int64_t received_ms, const char *payload,
                           bool *inserted) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, provider);
    pg_p_text(&p, event_id);
    pg_p_text(&p, event_type);
    pg_p_i64(&p, received_ms);
    pg_p_text(&p, payload);
    enum tend_err e = pg_run(s, q_put, &p, "keeping a webhook event in the inbox");
    if (!e)
        *inserted = s->changes > 0;
    return e;
}

/* Row i of r. */
static void read_row(PGresult *r, int i, struct store_inbox_row *row, bool payload) {
    row->id = pg_i64(r, i, 0);
    row->provider = pg_text(r, i, 1);
    row->event_id = pg_text(r, i, 2);
    row->event_type = pg_text(r, i, 3);
    row->received_ms = pg_i64(r, i, 4);
    row->processed_ms = pg_i64(r, i, 5);
    row->status = pg_text(r, i, 6);
    row->reason = pg_text(r, i, 7);
    row->detail = pg_text(r, i, 8);
    row->account = pg_text(r, i, 9);
    row->events = (int)pg_i64(r, i, 10);
    row->attempts = (int)pg_i64(r, i, 11);
    row->payload = payload ? pg_text(r, i, 12) : NULL;
}

enum tend_err pg_inbox_next(struct store *base,
                            void (*fn)(void *arg, const struct store_inbox_row *r), void *arg,
                            bool *found) {
    struct pg_store *s = pg_of(base);
    PGresult *r;
    enum tend_err e = pg_query(s, q_next, NULL, "taking a webhook event from the inbox", &r);
    if (e)
        return e;
    *found = PQntuples(r) > 0;
    if (*found) {
        struct store_inbox_row row;
        read_row(r, 0, &row, true);
        fn(arg, &row);
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_inbox_finish(struct store *base, int64_t id, const char *status,
                              const char *reason, const char *detail, const char *account,
                              int events, int64_t now_ms) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, id);
    pg_p_text(&p, status);
    pg_p_text(&p, reason);
    pg_p_text(&p, detail);
    pg_p_text(&p, account);
    pg_p_int(&p, events);
    pg_p_i64(&p, now_ms);
    return pg_run(s, q_finish, &p, "recording a webhook event's outcome");
}

enum tend_err pg_inbox_each(struct store *base, const char *provider, const char *status,
                            int64_t limit, void (*fn)(void *arg, const struct store_inbox_row *r),
                            void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    if (provider)
        pg_p_text(&p, provider);
    else
        pg_p_null(&p);
    if (status)
        pg_p_text(&p, status);
    else
        pg_p_null(&p);
    pg_p_i64(&p, limit);
    PGresult *r;
    enum tend_err e = pg_query(s, q_each, &p, "listing the webhook inbox", &r);
    if (e)
        return e;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_inbox_row row;
        read_row(r, i, &row, false);
        fn(arg, &row);
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_inbox_requeue(struct store *base, const char *provider, const char *status,
                               int64_t id, int64_t *n) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    enum tend_err e;
    if (id > 0) {
        pg_p_i64(&p, id);
        e = pg_run(s, q_requeue_id, &p, "putting a webhook event back in the inbox");
    } else {
        if (provider)
            pg_p_text(&p, provider);
        else
            pg_p_null(&p);
        if (status)
            pg_p_text(&p, status);
        else
            pg_p_null(&p);
        e = pg_run(s, q_requeue, &p, "putting webhook events back in the inbox");
    }
    if (!e)
        *n = s->changes;
    return e;
}

enum tend_err pg_inbox_prune(struct store *base, int64_t before_ms, int64_t *n) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, before_ms);
    enum tend_err e = pg_run(s, q_prune, &p, "pruning the webhook inbox");
    if (!e)
        *n = s->changes;
    return e;
}

enum tend_err pg_inbox_counts(struct store *base,
                              void (*fn)(void *arg, const char *provider, const char *status,
                                         const char *reason, int64_t rows),
                              void *arg) {
    struct pg_store *s = pg_of(base);
    PGresult *r;
    enum tend_err e = pg_query(s, q_counts, NULL, "counting the webhook inbox's rows", &r);
    if (e)
        return e;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_text(r, i, 1), pg_text(r, i, 2), pg_i64(r, i, 3));
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_hook_account_put(struct store *base, const char *provider, const char *provider_id,
                                  const char *account, int64_t now_ms) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, provider);
    pg_p_text(&p, provider_id);
    pg_p_text(&p, account);
    pg_p_i64(&p, now_ms);
    return pg_run(s, q_map_put, &p, "mapping a provider's id to an account");
}

enum tend_err pg_hook_account_get(struct store *base, const char *provider, const char *provider_id,
                                  char *account, bool *found) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, provider);
    pg_p_text(&p, provider_id);
    PGresult *r;
    enum tend_err e = pg_query(s, q_map_get, &p, "reading a provider's id of an account", &r);
    if (e)
        return e;
    *found = PQntuples(r) > 0;
    if (*found)
        snprintf(account, STORE_INBOX_ID_BYTES, "%s", pg_text(r, 0, 0));
    PQclear(r);
    return TEND_OK;
}
