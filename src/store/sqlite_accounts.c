/* sqlite_accounts.c: accounts, users, their traits and memberships, event
 * names and the counters, in the SQLite backend (sqlite_int.h).
 *
 * What identity resolution writes as messages arrive (find or create an
 * account, a user, a name; merge traits; open and end memberships) and what
 * reads them back whole: the accounts list, one account, the status counts.
 * Traits are kept one row per key with the timestamp of the message that set
 * them, so arrival order never lets an older value win. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "store/codes.h"
#include "store/sqlite_int.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/mem.h"

static const char q_account_find[] = "SELECT id FROM accounts WHERE external_id = ?";
static const char q_account_insert[] =
    "INSERT INTO accounts (external_id, first_seen_ms) VALUES (?, ?) "
    "RETURNING id";
static const char q_account_seen[] =
    "UPDATE accounts SET first_seen_ms = ?1 WHERE id = ?2 AND first_seen_ms > ?1";
static const char q_user_find[] = "SELECT id FROM users WHERE external_id = ? AND anonymous = ?";
static const char q_user_insert[] =
    "INSERT INTO users (external_id, anonymous, first_seen_ms) VALUES (?, ?, ?) "
    "RETURNING id";
static const char q_name_find[] = "SELECT id FROM names WHERE name = ?";
static const char q_name_insert[] = "INSERT INTO names (name) VALUES (?) RETURNING id";
static const char q_trait_merge[] =
    "INSERT INTO traits (entity, entity_id, key, value, ts_ms) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (entity, entity_id, key) DO UPDATE "
    "SET value = excluded.value, ts_ms = excluded.ts_ms "
    "WHERE excluded.ts_ms >= traits.ts_ms";
static const char q_traits_each[] =
    "SELECT key, value FROM traits WHERE entity = ? AND entity_id = ? "
    "ORDER BY key";
static const char q_account_set[] = "UPDATE accounts SET name = ?, plan = ?, mrr = ?, seats = ?, "
                                    "renewal_date = ?, csm_email = ?, csm_slack = ?, segment = ?, "
                                    "premium_products = ?, created_at = ?, traits = ? WHERE id = ?";
static const char q_user_set[] =
    "UPDATE users SET email = ?, name = ?, title = ?, traits = ? WHERE id = ?";
static const char q_memberships_of_user[] = "SELECT account_id, start_ms, end_ms FROM memberships "
                                            "WHERE user_id = ? ORDER BY start_ms";
static const char q_membership_open_find[] =
    "SELECT id FROM memberships WHERE account_id = ? AND user_id = ? "
    "AND (end_ms IS NULL OR end_ms > ?) LIMIT 1";
static const char q_membership_insert[] = "INSERT INTO memberships (account_id, user_id, start_ms) "
                                          "VALUES (?, ?, ?)";
static const char q_membership_covering[] =
    "SELECT id FROM memberships WHERE account_id = ? AND user_id = ? "
    "AND start_ms <= ? AND (end_ms IS NULL OR end_ms > ?) "
    "ORDER BY start_ms DESC LIMIT 1";
static const char q_membership_end[] = "UPDATE memberships SET end_ms = ? WHERE id = ?";
static const char q_removal_after[] =
    "SELECT MIN(ts_ms) FROM facts WHERE account_id = ? AND kind = " SQL_EV_USER_REMOVED " "
    "AND user_id = ? AND ts_ms > ?";
static const char q_counter_add[] =
    "INSERT INTO counters (name, value) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value";
static const char q_account_count_events[] =
    "UPDATE accounts SET event_count = event_count + ? WHERE id = ?";
static const char q_accounts_each[] =
    "SELECT a.id, a.external_id, a.name, a.plan, a.mrr, a.seats, a.renewal_date, a.csm_email, "
    "a.csm_slack, a.segment, a.premium_products, a.created_at, a.traits, "
    "(SELECT COUNT(*) FROM memberships m WHERE m.account_id = a.id AND m.end_ms IS NULL), "
    "a.event_count, a.first_seen_ms FROM accounts a ORDER BY a.external_id";
static const char q_account_get[] =
    "SELECT a.id, a.external_id, a.name, a.plan, a.mrr, a.seats, a.renewal_date, a.csm_email, "
    "a.csm_slack, a.segment, a.premium_products, a.created_at, a.traits, "
    "(SELECT COUNT(*) FROM memberships m WHERE m.account_id = a.id AND m.end_ms IS NULL), "
    "a.event_count, a.first_seen_ms FROM accounts a WHERE a.id = ?";
static const char q_accounts_brief[] =
    "SELECT id, external_id, name, plan, mrr, seats, renewal_date, csm_email, "
    "csm_slack, segment, premium_products, created_at, traits, -1, -1, "
    "first_seen_ms FROM accounts";
static const char q_counters_each[] = "SELECT name, value FROM counters ORDER BY name";
/* The listed spans' reads (json_each yields the ids in array order; CROSS
 * JOIN keeps it the outer loop, so each id is one seek). */
static const char q_accounts_brief_ids[] =
    "SELECT a.id, a.external_id, a.name, a.plan, a.mrr, a.seats, "
    "a.renewal_date, a.csm_email, a.csm_slack, a.segment, "
    "a.premium_products, a.created_at, a.traits, -1, -1, a.first_seen_ms "
    "FROM json_each(?1) j CROSS JOIN accounts a ON a.id = j.value";
static const char q_user_label[] = "SELECT coalesce(email, external_id) FROM users WHERE id = ?";

enum tend_err sqlite_account_find(struct store *base, const char *external_id, int64_t *id) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_account_find);
    sqlite_bind_text(st, 1, external_id);
    return sqlite_step_int(s, st, id, "finding an account");
}

enum tend_err sqlite_account_ensure(struct store *base, const char *external_id, int64_t ts_ms,
                                    int64_t *id, bool *created) {
    struct sqlite_store *s = sqlite_of(base);
    enum tend_err err = sqlite_account_find(base, external_id, id);
    if (err != TEND_ERR_NOTFOUND) {
        if (!err)
            *created = false;
        return err;
    }
    sqlite3_stmt *st = sqlite_stmt(s, q_account_insert);
    sqlite_bind_text(st, 1, external_id);
    sqlite3_bind_int64(st, 2, ts_ms);
    err = sqlite_step_int(s, st, id, "creating an account");
    if (!err)
        *created = true;
    return err;
}

enum tend_err sqlite_account_seen(struct store *base, int64_t id, int64_t ts_ms) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_account_seen);
    sqlite3_bind_int64(st, 1, ts_ms);
    sqlite3_bind_int64(st, 2, id);
    return sqlite_done(s, st, "dating an account");
}

enum tend_err sqlite_user_ensure(struct store *base, const char *external_id, bool anonymous,
                                 int64_t ts_ms, int64_t *id) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_user_find);
    sqlite_bind_text(st, 1, external_id);
    sqlite3_bind_int(st, 2, anonymous);
    enum tend_err err = sqlite_step_int(s, st, id, "finding a user");
    if (err != TEND_ERR_NOTFOUND)
        return err;
    st = sqlite_stmt(s, q_user_insert);
    sqlite_bind_text(st, 1, external_id);
    sqlite3_bind_int(st, 2, anonymous);
    sqlite3_bind_int64(st, 3, ts_ms);
    return sqlite_step_int(s, st, id, "creating a user");
}

enum tend_err sqlite_name_ensure(struct store *base, const char *name, int64_t *id) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_name_find);
    sqlite_bind_text(st, 1, name);
    enum tend_err err = sqlite_step_int(s, st, id, "finding a name");
    if (err != TEND_ERR_NOTFOUND)
        return err;
    st = sqlite_stmt(s, q_name_insert);
    sqlite_bind_text(st, 1, name);
    return sqlite_step_int(s, st, id, "adding a name");
}

enum tend_err sqlite_trait_merge(struct store *base, enum store_entity entity, int64_t id,
                                 const char *key, const char *value_json, int64_t ts_ms) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_trait_merge);
    sqlite3_bind_int(st, 1, entity);
    sqlite3_bind_int64(st, 2, id);
    sqlite_bind_text(st, 3, key);
    sqlite_bind_text(st, 4, value_json);
    sqlite3_bind_int64(st, 5, ts_ms);
    return sqlite_done(s, st, "merging a trait");
}

enum tend_err sqlite_traits_each(struct store *base, enum store_entity entity, int64_t id,
                                 void (*fn)(void *arg, const char *key, const char *value_json),
                                 void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_traits_each);
    sqlite3_bind_int(st, 1, entity);
    sqlite3_bind_int64(st, 2, id);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite_col_text(st, 1));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading traits");
}

enum tend_err sqlite_account_set_fields(struct store *base, int64_t id,
                                        const struct store_account_fields *f,
                                        const char *traits_json) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_account_set);
    sqlite_bind_text(st, 1, f->name);
    sqlite_bind_text(st, 2, f->plan);
    if (f->has_mrr)
        sqlite3_bind_double(st, 3, f->mrr);
    if (f->has_seats)
        sqlite3_bind_int64(st, 4, f->seats);
    sqlite_bind_text(st, 5, f->renewal_date);
    sqlite_bind_text(st, 6, f->csm_email);
    sqlite_bind_text(st, 7, f->csm_slack);
    sqlite_bind_text(st, 8, f->segment);
    sqlite_bind_text(st, 9, f->premium_products);
    sqlite_bind_text(st, 10, f->created_at);
    sqlite_bind_text(st, 11, traits_json);
    sqlite3_bind_int64(st, 12, id);
    return sqlite_done(s, st, "updating an account");
}

enum tend_err sqlite_user_set_fields(struct store *base, int64_t id, const char *email,
                                     const char *name, const char *title, const char *traits_json) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_user_set);
    sqlite_bind_text(st, 1, email);
    sqlite_bind_text(st, 2, name);
    sqlite_bind_text(st, 3, title);
    sqlite_bind_text(st, 4, traits_json);
    sqlite3_bind_int64(st, 5, id);
    return sqlite_done(s, st, "updating a user");
}

enum tend_err sqlite_user_memberships(struct store *base, int64_t user_id,
                                      struct store_membership **out, size_t *n) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_memberships_of_user);
    sqlite3_bind_int64(st, 1, user_id);
    struct store_membership *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[len].account_id = sqlite3_column_int64(st, 0);
        v[len].user_id = user_id;
        v[len].start_ms = sqlite3_column_int64(st, 1);
        v[len].end_ms = sqlite3_column_type(st, 2) == SQLITE_NULL ? STORE_OPEN_END
                                                                  : sqlite3_column_int64(st, 2);
        len++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return sqlite_fail(s, "reading memberships");
    }
    *out = v;
    *n = len;
    return TEND_OK;
}

enum tend_err sqlite_membership_start(struct store *base, int64_t account_id, int64_t user_id,
                                      int64_t ts_ms, bool *started) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_membership_open_find);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, ts_ms);
    int64_t found;
    enum tend_err err = sqlite_step_int(s, st, &found, "finding a membership");
    if (err != TEND_ERR_NOTFOUND) {
        if (!err)
            *started = false;
        return err;
    }
    st = sqlite_stmt(s, q_membership_insert);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, ts_ms);
    err = sqlite_done(s, st, "adding a membership");
    if (!err)
        *started = true;
    return err;
}

enum tend_err sqlite_membership_end(struct store *base, int64_t account_id, int64_t user_id,
                                    int64_t ts_ms, bool *ended) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_membership_covering);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, ts_ms);
    sqlite3_bind_int64(st, 4, ts_ms);
    int64_t id;
    enum tend_err err = sqlite_step_int(s, st, &id, "finding a membership");
    if (err == TEND_ERR_NOTFOUND) {
        *ended = false;
        return TEND_OK;
    }
    if (err)
        return err;
    st = sqlite_stmt(s, q_membership_end);
    sqlite3_bind_int64(st, 1, ts_ms);
    sqlite3_bind_int64(st, 2, id);
    err = sqlite_done(s, st, "ending a membership");
    if (!err)
        *ended = true;
    return err;
}

enum tend_err sqlite_removal_after(struct store *base, int64_t account_id, int64_t user_id,
                                   int64_t ts_ms, int64_t *removal_ms, bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_removal_after);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, ts_ms);
    int rc = sqlite_step(st);
    enum tend_err err = TEND_OK;
    *found = false;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *found = true;
        *removal_ms = sqlite3_column_int64(st, 0);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = sqlite_fail(s, "looking for a removal");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

enum tend_err sqlite_counter_add(struct store *base, const char *name, int64_t delta) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_counter_add);
    sqlite_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, delta);
    return sqlite_done(s, st, "counting");
}

enum tend_err sqlite_account_count_events(struct store *base, int64_t account_id, int64_t delta) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_account_count_events);
    sqlite3_bind_int64(st, 1, delta);
    sqlite3_bind_int64(st, 2, account_id);
    return sqlite_done(s, st, "counting events");
}

/* id 0: every row of q; otherwise q takes the id and *rows counts. */
static enum tend_err accounts_each(struct sqlite_store *s, const char *q, int64_t id, int *rows,
                                   int (*fn)(void *arg, const struct store_account_row *row),
                                   void *arg) {
    sqlite3_stmt *st = sqlite_stmt(s, q);
    if (id)
        sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_account_row r;
        memset(&r, 0, sizeof r);
        r.id = sqlite3_column_int64(st, 0);
        r.external_id = sqlite_col_text(st, 1);
        r.f.name = sqlite_col_text(st, 2);
        r.f.plan = sqlite_col_text(st, 3);
        r.f.has_mrr = sqlite3_column_type(st, 4) != SQLITE_NULL;
        r.f.mrr = sqlite3_column_double(st, 4);
        r.f.has_seats = sqlite3_column_type(st, 5) != SQLITE_NULL;
        r.f.seats = sqlite3_column_int64(st, 5);
        r.f.renewal_date = sqlite_col_text(st, 6);
        r.f.csm_email = sqlite_col_text(st, 7);
        r.f.csm_slack = sqlite_col_text(st, 8);
        r.f.segment = sqlite_col_text(st, 9);
        r.f.premium_products = sqlite_col_text(st, 10);
        r.f.created_at = sqlite_col_text(st, 11);
        r.traits_json = sqlite_col_text(st, 12);
        r.members = sqlite3_column_int64(st, 13);
        r.events = sqlite3_column_int64(st, 14);
        r.first_seen_ms = sqlite3_column_int64(st, 15);
        if (rows)
            (*rows)++;
        if (fn(arg, &r))
            break;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? TEND_OK : sqlite_fail(s, "listing accounts");
}

enum tend_err sqlite_accounts_each(struct store *base,
                                   int (*fn)(void *arg, const struct store_account_row *row),
                                   void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    return accounts_each(s, q_accounts_each, 0, NULL, fn, arg);
}

enum tend_err sqlite_accounts_brief_each(struct store *base,
                                         int (*fn)(void *arg, const struct store_account_row *row),
                                         void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    return accounts_each(s, q_accounts_brief, 0, NULL, fn, arg);
}

enum tend_err sqlite_accounts_brief_of(struct store *base, const int64_t *ids, size_t n,
                                       int (*fn)(void *arg, const struct store_account_row *row),
                                       void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    if (!n)
        return TEND_OK;
    sqlite_bind_ids(sqlite_stmt(s, q_accounts_brief_ids), 1, ids, n);
    enum tend_err err = accounts_each(s, q_accounts_brief_ids, 0, NULL, fn, arg);
    sqlite3_clear_bindings(sqlite_stmt(s, q_accounts_brief_ids));
    return err;
}

enum tend_err sqlite_account_get(struct store *base, int64_t id,
                                 int (*fn)(void *arg, const struct store_account_row *row),
                                 void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    int rows = 0;
    enum tend_err err = accounts_each(s, q_account_get, id, &rows, fn, arg);
    sqlite3_clear_bindings(sqlite_stmt(s, q_account_get));
    return err ? err : rows ? TEND_OK : TEND_ERR_NOTFOUND;
}

static enum tend_err count(struct sqlite_store *s, const char *sql, int64_t *out) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sqlite_fail(s, "counting");
    enum tend_err err = sqlite_step_int(s, st, out, "counting");
    sqlite3_finalize(st);
    return err;
}

enum tend_err sqlite_status_get(struct store *base, struct store_status *out) {
    struct sqlite_store *s = sqlite_of(base);
    struct store_status r;
    memset(&r, 0, sizeof r);
    enum tend_err err;
    if ((err = count(s, "SELECT COUNT(*) FROM accounts", &r.accounts)) ||
        (err = count(s, "SELECT COUNT(*) FROM users", &r.users)) ||
        (err = count(s, "SELECT COUNT(*) FROM memberships WHERE end_ms IS NULL",
                     &r.memberships_open)) ||
        (err = count(s, "SELECT COUNT(*) FROM memberships WHERE end_ms IS NOT NULL",
                     &r.memberships_ended)) ||
        (err = count(s, "SELECT COUNT(*) FROM quarantine", &r.quarantined)))
        return err;
    *out = r;
    return TEND_OK;
}

enum tend_err sqlite_counters_each(struct store *base,
                                   void (*fn)(void *arg, const char *name, int64_t value),
                                   void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_counters_each);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite_col_text(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading counters");
}

enum tend_err sqlite_user_label(struct store *base, int64_t user_id, char *buf, size_t size) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_user_label);
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite_step(st);
    enum tend_err err = TEND_OK;
    if (rc == SQLITE_ROW)
        snprintf(buf, size, "%s", sqlite_col_text(st, 0) ? sqlite_col_text(st, 0) : "");
    else if (rc == SQLITE_DONE)
        err = TEND_ERR_NOTFOUND;
    else
        err = sqlite_fail(s, "reading a user");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return err;
}

/* The dashboard's ranked list: every account with one seek into its day's
 * scores and one into its live CTAs (ctas_account). */
static const char q_briefs[] =
    "SELECT a.id, a.external_id, a.name, a.segment, a.csm_email, a.mrr, s.day, s.overall, "
    "s.band, (SELECT count(*) FROM ctas c WHERE c.account_id = a.id AND c.status IN "
    "(" SQL_CTA_OPEN ", " SQL_CTA_SNOOZED
    ")) FROM accounts a LEFT JOIN scores s ON s.day = ?1 AND s.account_id = a.id";

enum tend_err sqlite_account_briefs(struct store *base, int32_t day,
                                    void (*fn)(void *arg, const struct store_account_brief *b),
                                    void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_briefs);
    sqlite3_bind_int(st, 1, day);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_account_brief b = {
            .id = sqlite3_column_int64(st, 0),
            .external_id = sqlite_col_text(st, 1),
            .name = sqlite_col_text(st, 2),
            .segment = sqlite_col_text(st, 3),
            .owner = sqlite_col_text(st, 4),
            .has_mrr = sqlite3_column_type(st, 5) != SQLITE_NULL,
            .mrr = sqlite3_column_double(st, 5),
            .has_score = sqlite3_column_type(st, 6) != SQLITE_NULL,
            .has_overall = sqlite3_column_type(st, 7) != SQLITE_NULL,
            .overall = sqlite3_column_double(st, 7),
            .band = sqlite3_column_type(st, 8) != SQLITE_NULL ? sqlite_col_text(st, 8) : "none",
            .live_ctas = sqlite3_column_int64(st, 9),
        };
        fn(arg, &b);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing accounts with their scores");
}

/* ---- an account's users ---------------------------------------------------------- */

/* Members with their user, role trait and latest start elsewhere. Ranges:
 * ?1 ?2 the ids, ?3 before_ms, ?4 the role key; listed: ?1 the ids, ?2, ?3.
 * With a role only, every account: from the traits' key index, so that an
 * evaluation reads the users with a role, not every membership. */
#define MEMBER_COLUMNS(BEFORE)                                                                     \
    "SELECT m.account_id, m.user_id, m.start_ms, m.end_ms, u.external_id, u.email, u.name, "       \
    "t.value, (SELECT max(o.start_ms) FROM memberships o WHERE o.user_id = m.user_id "             \
    "AND o.account_id <> m.account_id AND o.start_ms < " BEFORE ") "
#define MEMBER_ORDER " ORDER BY m.account_id, m.user_id, m.start_ms, m.end_ms"
static const char q_members[] = MEMBER_COLUMNS(
    "?3") "FROM memberships m JOIN users u ON u.id = m.user_id "
          "LEFT JOIN traits t ON t.entity = 1 AND t.entity_id = m.user_id AND t.key = ?4 "
          "WHERE m.account_id BETWEEN ?1 AND ?2" MEMBER_ORDER;
static const char q_members_ids[] =
    MEMBER_COLUMNS("?2") "FROM json_each(?1) j CROSS JOIN memberships m ON m.account_id = j.value "
                         "JOIN users u ON u.id = m.user_id "
                         "LEFT JOIN traits t ON t.entity = 1 AND t.entity_id = m.user_id AND t.key "
                         "= ?3" MEMBER_ORDER;
static const char q_role_members[] = MEMBER_COLUMNS(
    "?3") "FROM traits t CROSS JOIN memberships m ON m.user_id = t.entity_id "
          "JOIN users u ON u.id = m.user_id "
          "WHERE t.entity = 1 AND t.key = ?4 AND m.account_id BETWEEN ?1 AND ?2" MEMBER_ORDER;
static const char q_role_members_ids[] =
    MEMBER_COLUMNS("?2") "FROM json_each(?1) j CROSS JOIN memberships m ON m.account_id = j.value "
                         "JOIN traits t ON t.entity = 1 AND t.entity_id = m.user_id AND t.key = ?3 "
                         "JOIN users u ON u.id = m.user_id" MEMBER_ORDER;

enum tend_err sqlite_members_each(struct store *base, const struct store_span *sp,
                                  const char *role_key, bool with_role_only, int64_t before_ms,
                                  void (*fn)(void *arg, const struct store_member *m), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = with_role_only
                           ? sqlite_span_stmt(s, sp, q_role_members, 1, q_role_members_ids, 1)
                           : sqlite_span_stmt(s, sp, q_members, 1, q_members_ids, 1);
    int at = sp->ids ? 2 : 3;
    sqlite3_bind_int64(st, at, before_ms);
    sqlite_bind_text(st, at + 1, role_key);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_member m = {
            .account_id = sqlite3_column_int64(st, 0),
            .user_id = sqlite3_column_int64(st, 1),
            .start_ms = sqlite3_column_int64(st, 2),
            .end_ms = sqlite3_column_type(st, 3) == SQLITE_NULL ? STORE_OPEN_END
                                                                : sqlite3_column_int64(st, 3),
            .external_id = sqlite_col_text(st, 4),
            .email = sqlite_col_text(st, 5),
            .name = sqlite_col_text(st, 6),
            .role_json = sqlite_col_text(st, 7),
            .elsewhere_ms = sqlite3_column_int64(st, 8),
        };
        fn(arg, &m);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading an account's users");
}
