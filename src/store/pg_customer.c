/* pg_customer.c: messages to customers, their unsubscribes and the
 * account's contacts (store.h, "customer messages"), on PostgreSQL.
 *
 * A message's key is claimed with INSERT ... ON CONFLICT DO NOTHING in the
 * caller's transaction: of several nodes deciding the same message at once,
 * one inserts and the others wait for its commit and then change nothing,
 * and are told so. Keys lead with the account (Citus: distributed by it). */
#include <libpq-fe.h>

#include "store/pg_int.h"

static const char q_claim[] =
    "INSERT INTO customer_messages (account_id, kind, ref, step, day, created_ms, recipient, "
    "rule, status, subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT DO NOTHING";
static const char q_link[] = "UPDATE customer_messages SET notification_id = $5 "
                             "WHERE account_id = $1 AND kind = $2 AND ref = $3 AND step = $4";
static const char q_each[] =
    "SELECT m.kind, m.ref, m.step, m.day, m.created_ms, m.recipient, m.rule, m.status, "
    "m.subject, m.notification_id, o.status, o.sent_ms FROM customer_messages m "
    "LEFT JOIN outbox o ON o.notification_id = m.notification_id "
    "WHERE m.account_id = $1 ORDER BY m.created_ms DESC, m.step ASC LIMIT $2";
static const char q_unsub[] =
    "INSERT INTO customer_unsubscribes (account_id, kind, contact, created_ms) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
static const char q_unsubs[] = "SELECT kind, contact, created_ms FROM customer_unsubscribes "
                               "WHERE account_id = $1 ORDER BY created_ms, kind, contact";
static const char q_contacts[] =
    "SELECT u.email, u.traits::text FROM memberships m JOIN users u ON u.id = m.user_id "
    "WHERE m.account_id = $1 AND m.end_ms IS NULL AND u.email IS NOT NULL AND u.email <> '' "
    "ORDER BY m.start_ms, u.id";

enum tend_err pg_customer_message_claim(struct store *base, const struct store_customer_message *m,
                                        bool *claimed) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, m->account_id);
    pg_p_text(&p, m->kind);
    pg_p_text(&p, m->ref);
    pg_p_i64(&p, m->step);
    pg_p_int(&p, m->day);
    pg_p_i64(&p, m->created_ms);
    pg_p_text(&p, m->recipient);
    pg_p_text(&p, m->rule);
    pg_p_text(&p, m->status);
    pg_p_text(&p, m->subject ? m->subject : "");
    enum tend_err err = pg_run(s, q_claim, &p, "claiming a customer message");
    *claimed = !err && s->changes > 0;
    return err;
}

enum tend_err pg_customer_message_link(struct store *base, const struct store_customer_message *m,
                                       int64_t notification_id) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, m->account_id);
    pg_p_text(&p, m->kind);
    pg_p_text(&p, m->ref);
    pg_p_i64(&p, m->step);
    pg_p_id(&p, notification_id);
    return pg_run(s, q_link, &p, "linking a customer message");
}

enum tend_err pg_customer_messages_each(struct store *base, int64_t account_id, int limit,
                                        void (*fn)(void *arg,
                                                   const struct store_customer_message *m),
                                        void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_int(&p, limit);
    PGresult *r;
    enum tend_err err = pg_query(s, q_each, &p, "reading customer messages", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_customer_message m = {
            .account_id = account_id,
            .kind = pg_text(r, i, 0),
            .ref = pg_text(r, i, 1),
            .step = pg_i64(r, i, 2),
            .day = (int32_t)pg_i64(r, i, 3),
            .created_ms = pg_i64(r, i, 4),
            .recipient = pg_text(r, i, 5),
            .rule = pg_text(r, i, 6),
            .status = pg_text(r, i, 7),
            .subject = pg_text(r, i, 8),
            .notification_id = pg_i64(r, i, 9),
            .delivery = pg_text(r, i, 10),
            .sent_ms = pg_i64(r, i, 11),
        };
        fn(arg, &m);
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_customer_unsubscribe(struct store *base, int64_t account_id, const char *kind,
                                      const char *contact, int64_t now_ms) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_text(&p, kind);
    pg_p_text(&p, contact);
    pg_p_i64(&p, now_ms);
    return pg_run(s, q_unsub, &p, "recording an unsubscribe");
}

enum tend_err pg_customer_unsubscribes_each(struct store *base, int64_t account_id,
                                            void (*fn)(void *arg, const char *kind,
                                                       const char *contact, int64_t ms),
                                            void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    PGresult *r;
    enum tend_err err = pg_query(s, q_unsubs, &p, "reading unsubscribes", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_text(r, i, 1), pg_i64(r, i, 2));
    PQclear(r);
    return TEND_OK;
}

enum tend_err
pg_customer_contacts_each(struct store *base, int64_t account_id,
                          void (*fn)(void *arg, const char *email, const char *traits), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    PGresult *r;
    enum tend_err err = pg_query(s, q_contacts, &p, "reading an account's contacts", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_text(r, i, 1));
    PQclear(r);
    return TEND_OK;
}
