/* sqlite_events.c: events, facts as they are stored, product use by day,
 * and the quarantine, in the SQLite backend (sqlite_int.h).
 *
 * Storing an event also keeps what is derived from it in the same
 * transaction: the day's activity rollup marked stale, the product_days row,
 * and, for a meaningful event of an account, its facts row with its lifetime
 * (schema.h) and the lifetimes of the earlier facts it settles or follows.
 * An event whose account is not known yet waits in the quarantine and is
 * attached (with the same derived rows) when its account arrives. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "store/codes.h"
#include "store/fact_life.h"
#include "store/schema.h"
#include "store/sqlite_int.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/mem.h"

/* Storing a fact, with its lifetime (schema.h) worked out as it is stored:
 * one statement per kind, so only its own look-up runs (?1 account_id,
 * ?3 ts_ms, ?7 subject). */
#define INSERT_FACT(SETTLED, UNTIL)                                                                \
    "INSERT INTO facts (account_id, kind, ts_ms, key_ts_ms, key_hash, user_id, subject, detail, "  \
    "num, day, props, settled_ms, until_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "     \
    "?11, " SETTLED ", coalesce(" UNTIL ", " SCHEMA_NEVER ")) ON CONFLICT DO NOTHING"

static const char q_event_exists[] = "SELECT 1 FROM events WHERE key_ts_ms = ? AND key_hash = ?";
static const char q_event_insert[] =
    "INSERT INTO events (key_ts_ms, key_hash, ts_ms, kind, account_id, "
    "user_id, name_id, subject, detail, num, day, props) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char q_fact_insert[] = INSERT_FACT("NULL", "NULL");
static const char q_fact_nps[] = INSERT_FACT("NULL", SCHEMA_UNTIL_NPS("?3"));
static const char q_fact_ticket[] =
    INSERT_FACT(SCHEMA_SETTLED_TICKET("?1", "?7", "?3"),
                SCHEMA_UNTIL_TICKET("?3", SCHEMA_SETTLED_TICKET("?1", "?7", "?3")));
static const char q_fact_invoice[] =
    INSERT_FACT(SCHEMA_SETTLED_INVOICE("?1", "?7"), SCHEMA_SETTLED_INVOICE("?1", "?7"));
static const char q_fact_outreach[] =
    INSERT_FACT(SCHEMA_SETTLED_OUTREACH("?1", "?3"), SCHEMA_SETTLED_OUTREACH("?1", "?3"));
static const char q_fact_card[] = INSERT_FACT("NULL", SCHEMA_UNTIL_CARD("?1", "?3"));
static const char q_fact_reply[] = INSERT_FACT("NULL", SCHEMA_UNTIL_REPLY("?1", "?3"));
static const char q_fact_outcome[] = INSERT_FACT("NULL", SCHEMA_UNTIL_OUTCOME("?1", "?3"));
static const char q_fact_spent[] = INSERT_FACT("NULL", "?3");
/* An attached event, to store as a fact. */
static const char q_event_fact[] = "SELECT user_id, subject, detail, num, day, props FROM events "
                                   "WHERE key_ts_ms = ? AND key_hash = ?";
static const char q_quarantine_insert[] =
    "INSERT INTO quarantine (key_ts_ms, key_hash, ts_ms, kind, user_id, "
    "account_external_id, reason, since_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char q_quarantine_by_account[] = "SELECT key_ts_ms, key_hash, ts_ms, kind, user_id "
                                              "FROM quarantine WHERE account_external_id = ? "
                                              "ORDER BY ts_ms";
static const char q_quarantine_by_user[] =
    "SELECT key_ts_ms, key_hash, ts_ms, kind, user_id FROM quarantine "
    "WHERE user_id = ? AND account_external_id IS NULL ORDER BY ts_ms";
static const char q_event_attach[] =
    "UPDATE events SET account_id = ? WHERE key_ts_ms = ? AND key_hash = ?";
static const char q_quarantine_delete[] =
    "DELETE FROM quarantine WHERE key_ts_ms = ? AND key_hash = ?";
/* Fact lifetimes (schema.h): what a new fact settles or follows among
 * the account's earlier facts. ?1 account, ?2 time, ?3 subject. */
static const char q_life_close[] =
    "UPDATE facts SET settled_ms = ?2, until_ms = max(ts_ms + " SCHEMA_MS_30_DAYS
    ", ?2) WHERE account_id = ?1 AND kind = " SQL_EV_TICKET_OPENED
    " AND ts_ms <= ?2 AND subject = ?3 "
    "AND (settled_ms IS NULL OR settled_ms > ?2)";
static const char q_life_paid[] =
    "UPDATE facts SET settled_ms = ?2, until_ms = ?2 WHERE account_id = ?1 "
    "AND kind = " SQL_EV_INVOICE_ISSUED
    " AND subject = ?3 AND (settled_ms IS NULL OR settled_ms > ?2)";
static const char q_life_card[] =
    "UPDATE facts SET until_ms = ?2 WHERE account_id = ?1 AND kind = " SQL_EV_CARD_UPDATED " "
    "AND ts_ms < ?2 AND until_ms > ?2";
static const char q_life_reply[] =
    "UPDATE facts SET until_ms = ?2 WHERE account_id = ?1 AND kind = " SQL_EV_OUTREACH_REPLIED " "
    "AND ts_ms < ?2 AND until_ms > ?2";
static const char q_life_answer[] =
    "UPDATE facts SET settled_ms = ?2, until_ms = ?2 WHERE account_id = ?1 "
    "AND kind = " SQL_EV_OUTREACH_SENT
    " AND ts_ms <= ?2 AND (settled_ms IS NULL OR settled_ms > ?2)";
static const char q_life_outcome[] =
    "UPDATE facts SET until_ms = ?2 WHERE account_id = ?1 AND kind IN (" SQL_EV_RENEWED
    ", " SQL_EV_CHURNED ") "
    "AND ts_ms < ?2 AND until_ms > ?2";
static const char q_stale_mark[] =
    "INSERT INTO activity_stale (day) VALUES (?) ON CONFLICT DO NOTHING";
static const char q_product_day[] =
    "INSERT INTO product_days (account_id, product, day) VALUES (?, ?, ?) "
    "ON CONFLICT DO NOTHING";
/* An attached event's product, from its own row. */
static const char q_product_day_attached[] =
    "INSERT INTO product_days (account_id, product, day) "
    "SELECT ?1, subject, ts_ms / 86400000 FROM events "
    "WHERE key_ts_ms = ?2 AND key_hash = ?3 AND kind = " SQL_EV_FEATURE " "
    "AND subject IS NOT NULL ON CONFLICT DO NOTHING";
/* A goal that arrives after its days were rolled up: rebuild them, which
 * marks it met (refresh_day). */
static const char q_goal_stale[] =
    "INSERT INTO activity_stale (day) SELECT day FROM activity_counted "
    "WHERE day >= ? ON CONFLICT DO NOTHING";
static const char q_quarantine_reasons[] =
    "SELECT reason, COUNT(*) AS n FROM quarantine GROUP BY reason "
    "ORDER BY n DESC, reason";

/* Marks the day of a login or feature event of an account stale (see
 * store_activity_refresh). Events mostly arrive in time order, so one insert
 * per day and transaction does it. */
static enum tend_err mark_stale(struct sqlite_store *s, int kind, int64_t account_id,
                                int64_t ts_ms) {
    if ((kind != EV_LOGIN && kind != EV_FEATURE) || !account_id)
        return TEND_OK;
    int32_t day = (int32_t)(ts_ms / DT_MS_PER_DAY); /* as the index counts days */
    if (day == s->stale_day && !sqlite3_get_autocommit(s->db))
        return TEND_OK;
    sqlite3_stmt *st = sqlite_stmt(s, q_stale_mark);
    sqlite3_bind_int(st, 1, day);
    enum tend_err err = sqlite_done(s, st, "marking a day's activity rollups stale");
    if (!err)
        s->stale_day = day;
    return err;
}

enum tend_err sqlite_event_exists(struct store *base, int64_t key_ts_ms, uint64_t key_hash,
                                  bool *exists) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_event_exists);
    sqlite3_bind_int64(st, 1, key_ts_ms);
    sqlite3_bind_int64(st, 2, (int64_t)key_hash);
    int64_t one;
    enum tend_err err = sqlite_step_int(s, st, &one, "looking up an event");
    if (err == TEND_ERR_NOTFOUND) {
        *exists = false;
        return TEND_OK;
    }
    if (!err)
        *exists = true;
    return err;
}

/* SQLite looks a key up as cheaply as it would in a batch: nothing to do. */
enum tend_err sqlite_event_keys_prefetch(struct store *base, const struct store_event_key *keys,
                                         size_t n) {
    (void)base;
    (void)keys;
    (void)n;
    return TEND_OK;
}

static bool is_fact(int kind) {
    return (kind >= EV_NPS && kind <= EV_TRACK_LAST) || kind == EV_GROUP;
}

/* The statement that stores a fact of this kind (see INSERT_FACT). */
static const char *fact_insert_for(int kind) {
    switch (kind) {
    case EV_NPS:
        return q_fact_nps;
    case EV_TICKET_OPENED:
        return q_fact_ticket;
    case EV_INVOICE_ISSUED:
        return q_fact_invoice;
    case EV_OUTREACH_SENT:
        return q_fact_outreach;
    case EV_CARD_UPDATED:
        return q_fact_card;
    case EV_OUTREACH_REPLIED:
        return q_fact_reply;
    case EV_RENEWED:
    case EV_CHURNED:
        return q_fact_outcome;
    case EV_TICKET_CLOSED:
    case EV_INVOICE_PAID:
    case EV_PAYMENT_FAILED:
    case EV_USER_REMOVED:
    case EV_SUB_CHANGED: /* read by analysis only, never by evaluation */
        return q_fact_spent;
    default:
        return q_fact_insert; /* goals, milestones, group calls: never spent */
    }
}

/* Stores a fact of an account (ev->account_id set) with its lifetime, and
 * keeps the lifetimes (schema.h) of the earlier facts it settles or follows. */
static enum tend_err put_fact(struct sqlite_store *s, const struct store_event *ev) {
    sqlite3_stmt *st = sqlite_stmt(s, fact_insert_for(ev->kind));
    sqlite3_bind_int64(st, 1, ev->account_id);
    sqlite3_bind_int(st, 2, ev->kind);
    sqlite3_bind_int64(st, 3, ev->ts_ms);
    sqlite3_bind_int64(st, 4, ev->key_ts_ms);
    sqlite3_bind_int64(st, 5, (int64_t)ev->key_hash);
    sqlite_bind_id(st, 6, ev->user_id);
    sqlite_bind_text(st, 7, ev->subject);
    sqlite_bind_text(st, 8, ev->detail);
    if (ev->has_num)
        sqlite3_bind_double(st, 9, ev->num);
    if (ev->has_day)
        sqlite3_bind_int(st, 10, ev->day);
    sqlite_bind_text(st, 11, ev->props);
    enum tend_err err = sqlite_done(s, st, "storing a fact");
    if (!err && ev->kind == EV_GOAL_SET) {
        st = sqlite_stmt(s, q_goal_stale);
        sqlite3_bind_int(st, 1, (int32_t)(ev->ts_ms / DT_MS_PER_DAY));
        err = sqlite_done(s, st, "marking a goal's days stale");
    }
    static const char *const life_q[FACT_LIFE_COUNT] = {
        [FACT_LIFE_CLOSE] = q_life_close,   [FACT_LIFE_PAID] = q_life_paid,
        [FACT_LIFE_CARD] = q_life_card,     [FACT_LIFE_REPLY] = q_life_reply,
        [FACT_LIFE_ANSWER] = q_life_answer, [FACT_LIFE_OUTCOME] = q_life_outcome,
    };
    enum fact_life effects[2];
    int n = fact_life_effects((enum event_kind)ev->kind, effects);
    for (int i = 0; !err && i < n; i++) {
        st = sqlite_stmt(s, life_q[effects[i]]);
        sqlite3_bind_int64(st, 1, ev->account_id);
        sqlite3_bind_int64(st, 2, ev->ts_ms);
        sqlite_bind_text(st, 3, ev->subject);
        err = sqlite_done(s, st, "keeping fact lifetimes");
    }
    return err;
}

/* Records that the account used product on day (product_days: a feature
 * event with that `product`). A day's events of one account and product are
 * many and the row is one: a direct-mapped cache of the rows this connection
 * wrote skips the repeats, and a miss (an evicted slot, a product name too
 * long to cache) only costs an INSERT that changes nothing. The cache holds
 * exact keys, so it never skips a row that is not there. */
static enum tend_err note_product_day(struct sqlite_store *s, int64_t account_id,
                                      const char *product, int32_t day) {
    size_t len = strlen(product);
    uint64_t h = (uint64_t)account_id * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)(uint32_t)day;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)product[i]) * UINT64_C(1099511628211);
    struct product_seen *slot = NULL;
    if (len < sizeof slot->product) {
        if (!s->products_seen)
            s->products_seen = xcalloc(PRODUCTS_SEEN, sizeof *s->products_seen);
        slot = &s->products_seen[(h ^ h >> 29) & (PRODUCTS_SEEN - 1)];
        if (slot->account_id == account_id && slot->day == day &&
            strcmp(slot->product, product) == 0)
            return TEND_OK;
    }
    sqlite3_stmt *st = sqlite_stmt(s, q_product_day);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite_bind_text(st, 2, product);
    sqlite3_bind_int(st, 3, day);
    enum tend_err err = sqlite_done(s, st, "recording a product's use");
    if (!err && slot) {
        slot->account_id = account_id;
        slot->day = day;
        memcpy(slot->product, product, len + 1);
    }
    return err;
}

enum tend_err sqlite_event_put(struct store *base, const struct store_event *ev, bool *inserted) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_event_insert);
    sqlite3_bind_int64(st, 1, ev->key_ts_ms);
    sqlite3_bind_int64(st, 2, (int64_t)ev->key_hash);
    sqlite3_bind_int64(st, 3, ev->ts_ms);
    sqlite3_bind_int(st, 4, ev->kind);
    sqlite_bind_id(st, 5, ev->account_id);
    sqlite_bind_id(st, 6, ev->user_id);
    sqlite_bind_id(st, 7, ev->name_id);
    sqlite_bind_text(st, 8, ev->subject);
    sqlite_bind_text(st, 9, ev->detail);
    if (ev->has_num)
        sqlite3_bind_double(st, 10, ev->num);
    if (ev->has_day)
        sqlite3_bind_int(st, 11, ev->day);
    sqlite_bind_text(st, 12, ev->props);
    enum tend_err err = sqlite_done(s, st, "storing an event");
    if (err)
        return err;
    *inserted = sqlite3_changes(s->db) > 0;
    if (!*inserted)
        return TEND_OK;
    err = mark_stale(s, ev->kind, ev->account_id, ev->ts_ms);
    if (!err && ev->kind == EV_FEATURE && ev->subject && ev->account_id)
        err = note_product_day(s, ev->account_id, ev->subject, dt_day_of_ms(ev->ts_ms));
    if (!err && ev->account_id && is_fact(ev->kind))
        err = put_fact(s, ev);
    return err;
}

enum tend_err sqlite_quarantine_put(struct store *base, const struct store_event *ev,
                                    const char *account_external_id, const char *reason) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_quarantine_insert);
    sqlite3_bind_int64(st, 1, ev->key_ts_ms);
    sqlite3_bind_int64(st, 2, (int64_t)ev->key_hash);
    sqlite3_bind_int64(st, 3, ev->ts_ms);
    sqlite3_bind_int(st, 4, ev->kind);
    sqlite_bind_id(st, 5, ev->user_id);
    sqlite_bind_text(st, 6, account_external_id);
    sqlite_bind_text(st, 7, reason);
    sqlite3_bind_int64(st, 8, dt_now_ms());
    return sqlite_done(s, st, "quarantining an event");
}

static enum tend_err read_pending(struct sqlite_store *s, sqlite3_stmt *st,
                                  struct store_pending **out, size_t *n) {
    struct store_pending *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[len].key_ts_ms = sqlite3_column_int64(st, 0);
        v[len].key_hash = (uint64_t)sqlite3_column_int64(st, 1);
        v[len].ts_ms = sqlite3_column_int64(st, 2);
        v[len].kind = sqlite3_column_int(st, 3);
        v[len].user_id = sqlite3_column_int64(st, 4);
        len++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return sqlite_fail(s, "reading the quarantine");
    }
    *out = v;
    *n = len;
    return TEND_OK;
}

enum tend_err sqlite_quarantine_by_account(struct store *base, const char *external_id,
                                           struct store_pending **out, size_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_quarantine_by_account);
    sqlite_bind_text(st, 1, external_id);
    return read_pending(s, st, out, n);
}

enum tend_err sqlite_quarantine_by_user(struct store *base, int64_t user_id,
                                        struct store_pending **out, size_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_quarantine_by_user);
    sqlite3_bind_int64(st, 1, user_id);
    return read_pending(s, st, out, n);
}

enum tend_err sqlite_quarantine_attach(struct store *base, const struct store_pending *p,
                                       int64_t account_id) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_event_attach);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, p->key_ts_ms);
    sqlite3_bind_int64(st, 3, (int64_t)p->key_hash);
    enum tend_err err = sqlite_done(s, st, "attaching an event");
    if (!err)
        err = mark_stale(s, p->kind, account_id, p->ts_ms);
    if (!err && p->kind == EV_FEATURE) {
        st = sqlite_stmt(s, q_product_day_attached);
        sqlite3_bind_int64(st, 1, account_id);
        sqlite3_bind_int64(st, 2, p->key_ts_ms);
        sqlite3_bind_int64(st, 3, (int64_t)p->key_hash);
        err = sqlite_done(s, st, "recording an attached event's product");
    }
    if (!err && is_fact(p->kind)) {
        /* Now an account's fact: stored as one, from the event's columns. */
        st = sqlite_stmt(s, q_event_fact);
        sqlite3_bind_int64(st, 1, p->key_ts_ms);
        sqlite3_bind_int64(st, 2, (int64_t)p->key_hash);
        int rc = sqlite_step(st);
        if (rc == SQLITE_ROW) {
            char *text[3];
            for (int i = 0; i < 3; i++) {
                const char *t = sqlite_col_text(st, i == 2 ? 5 : i + 1);
                text[i] = t ? xstrdup(t) : NULL;
            }
            struct store_event ev = {
                .key_ts_ms = p->key_ts_ms,
                .key_hash = p->key_hash,
                .ts_ms = p->ts_ms,
                .kind = p->kind,
                .account_id = account_id,
                .user_id = sqlite3_column_int64(st, 0),
                .subject = text[0],
                .detail = text[1],
                .has_num = sqlite3_column_type(st, 3) != SQLITE_NULL,
                .num = sqlite3_column_double(st, 3),
                .has_day = sqlite3_column_type(st, 4) != SQLITE_NULL,
                .day = sqlite3_column_int(st, 4),
                .props = text[2],
            };
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            err = put_fact(s, &ev);
            for (int i = 0; i < 3; i++)
                free(text[i]);
        } else {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            if (rc != SQLITE_DONE)
                err = sqlite_fail(s, "attaching an event");
        }
    }
    if (err)
        return err;
    st = sqlite_stmt(s, q_quarantine_delete);
    sqlite3_bind_int64(st, 1, p->key_ts_ms);
    sqlite3_bind_int64(st, 2, (int64_t)p->key_hash);
    return sqlite_done(s, st, "leaving the quarantine");
}

enum tend_err sqlite_quarantine_reasons(struct store *base,
                                        void (*fn)(void *arg, const char *reason, int64_t n),
                                        void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_quarantine_reasons);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the quarantine");
}
