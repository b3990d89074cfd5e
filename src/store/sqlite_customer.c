/* sqlite_customer.c: messages to customers, their unsubscribes and the
 * account's contacts (store.h, "customer messages"), on SQLite.
 *
 * A message's key is claimed with INSERT OR IGNORE in the caller's
 * transaction: a second claim of the same key (a rerun, a restart, another
 * process) changes nothing and says so. */
#include "store/sqlite_int.h"

static const char q_claim[] =
    "INSERT OR IGNORE INTO customer_messages (account_id, kind, ref, step, day, created_ms, "
    "recipient, rule, status, subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char q_link[] = "UPDATE customer_messages SET notification_id = ?5 "
                             "WHERE account_id = ?1 AND kind = ?2 AND ref = ?3 AND step = ?4";
static const char q_each[] =
    "SELECT m.kind, m.ref, m.step, m.day, m.created_ms, m.recipient, m.rule, m.status, "
    "m.subject, m.notification_id, o.status, o.sent_ms FROM customer_messages m "
    "LEFT JOIN outbox o ON o.notification_id = m.notification_id "
    "WHERE m.account_id = ?1 ORDER BY m.created_ms DESC, m.step ASC LIMIT ?2";
static const char q_unsub[] =
    "INSERT OR IGNORE INTO customer_unsubscribes (account_id, kind, contact, created_ms) "
    "VALUES (?1, ?2, ?3, ?4)";
static const char q_unsubs[] = "SELECT kind, contact, created_ms FROM customer_unsubscribes "
                               "WHERE account_id = ?1 ORDER BY created_ms, kind, contact";
static const char q_contacts[] =
    "SELECT u.email, u.traits FROM memberships m JOIN users u ON u.id = m.user_id "
    "WHERE m.account_id = ?1 AND m.end_ms IS NULL AND u.email IS NOT NULL AND u.email <> '' "
    "ORDER BY m.start_ms, u.id";

enum tend_err sqlite_customer_message_claim(struct store *base,
                                            const struct store_customer_message *m, bool *claimed) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_claim);
    sqlite3_bind_int64(st, 1, m->account_id);
    sqlite_bind_text(st, 2, m->kind);
    sqlite_bind_text(st, 3, m->ref);
    sqlite3_bind_int64(st, 4, m->step);
    sqlite3_bind_int(st, 5, m->day);
    sqlite3_bind_int64(st, 6, m->created_ms);
    sqlite_bind_text(st, 7, m->recipient);
    sqlite_bind_text(st, 8, m->rule);
    sqlite_bind_text(st, 9, m->status);
    sqlite_bind_text(st, 10, m->subject ? m->subject : "");
    enum tend_err err = sqlite_done(s, st, "claiming a customer message");
    *claimed = !err && sqlite_changes(s) > 0;
    return err;
}

enum tend_err sqlite_customer_message_link(struct store *base,
                                           const struct store_customer_message *m,
                                           int64_t notification_id) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_link);
    sqlite3_bind_int64(st, 1, m->account_id);
    sqlite_bind_text(st, 2, m->kind);
    sqlite_bind_text(st, 3, m->ref);
    sqlite3_bind_int64(st, 4, m->step);
    sqlite_bind_id(st, 5, notification_id);
    return sqlite_done(s, st, "linking a customer message");
}

enum tend_err sqlite_customer_messages_each(struct store *base, int64_t account_id, int limit,
                                            void (*fn)(void *arg,
                                                       const struct store_customer_message *m),
                                            void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_each);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int(st, 2, limit);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_customer_message m = {
            .account_id = account_id,
            .kind = sqlite_col_text(st, 0),
            .ref = sqlite_col_text(st, 1),
            .step = sqlite3_column_int64(st, 2),
            .day = sqlite3_column_int(st, 3),
            .created_ms = sqlite3_column_int64(st, 4),
            .recipient = sqlite_col_text(st, 5),
            .rule = sqlite_col_text(st, 6),
            .status = sqlite_col_text(st, 7),
            .subject = sqlite_col_text(st, 8),
            .notification_id = sqlite3_column_int64(st, 9),
            .delivery = sqlite_col_text(st, 10),
            .sent_ms = sqlite3_column_int64(st, 11),
        };
        fn(arg, &m);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading customer messages");
}

enum tend_err sqlite_customer_unsubscribe(struct store *base, int64_t account_id, const char *kind,
                                          const char *contact, int64_t now_ms) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_unsub);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite_bind_text(st, 2, kind);
    sqlite_bind_text(st, 3, contact);
    sqlite3_bind_int64(st, 4, now_ms);
    return sqlite_done(s, st, "recording an unsubscribe");
}

enum tend_err sqlite_customer_unsubscribes_each(struct store *base, int64_t account_id,
                                                void (*fn)(void *arg, const char *kind,
                                                           const char *contact, int64_t ms),
                                                void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_unsubs);
    sqlite3_bind_int64(st, 1, account_id);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite_col_text(st, 1), sqlite3_column_int64(st, 2));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading unsubscribes");
}

enum tend_err sqlite_customer_contacts_each(struct store *base, int64_t account_id,
                                            void (*fn)(void *arg, const char *email,
                                                       const char *traits),
                                            void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_contacts);
    sqlite3_bind_int64(st, 1, account_id);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite_col_text(st, 1));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading an account's contacts");
}
