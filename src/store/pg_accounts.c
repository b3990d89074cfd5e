/* pg_accounts.c: accounts, users, their traits and memberships, event names
 * and the counters, in the PostgreSQL backend (pg_int.h); the contracts are
 * store.h's, and the results those of sqlite_accounts.c.
 *
 * Several nodes write one database at once, so nothing here reads a row and
 * then writes what it read without a lock or a key to stop another node in
 * between:
 *
 * - Creating (account_ensure, name_ensure): a SELECT first (the usual
 *   case, no write), then INSERT ... ON CONFLICT DO NOTHING RETURNING id on
 *   the unique key (user_ensure: both in one statement, q_user_ensure). When another node inserted
 * the same key first, the INSERT waits for its transaction, inserts nothing, and a second SELECT (a
 * new snapshot under READ COMMITTED) reads the winner's id: both nodes get the one row. An account
 * created by two nodes at once keeps the earlier of their first-seen times, as serial ingest would
 * (the one that finds the account moves its first-seen time back).
 *
 * - Counting (counter_add, account_count_events): one UPDATE (or upsert)
 *   adding to the stored value, so two nodes' additions both count.
 *
 * - Traits: trait_merge is one upsert whose WHERE keeps the later message's
 *   value; it also locks the owner's row (FOR NO KEY UPDATE) until commit.
 *   Inside a transaction the first read of an entity's traits takes that lock
 *   first, and from then on the transaction keeps the entity's traits and
 *   writes its merges together at commit (pg_ingest.c); a first merge of an
 *   entity not read yet runs at once, taking the lock.
 *   The caller then reads every trait back and writes the merged object and
 *   the typed columns (ingest.c, account_update): without the lock, two nodes
 *   merging different keys of one account would each write an object missing
 *   the other's key, the later commit winning. With it, the second node's
 *   merge waits for the first's commit and reads its keys.
 *
 * - Memberships: "start unless one is open at ts" and "end the one covering
 *   ts" read, then write. The account's row is locked first (FOR NO KEY
 *   UPDATE, a statement of its own, so that the read after it is a new
 *   snapshot): a second node waits for the first's commit and then sees its
 *   row (membership_lock).
 *
 * Text as SQLite gives it: traits and premium_products are jsonb, which
 * keeps neither the key order nor the spacing of the JSON written. Reads
 * return them compact (no spaces, as cJSON prints them); the whole-account
 * reads (accounts_each, account_get: the API and the CLI) put the top-level
 * trait keys back in byte order, which is the order ingest writes them (it
 * builds the object from traits_each); the brief reads of evaluation, which
 * look keys up and never print the object, skip that parse. Nested objects
 * come back in jsonb's key order: the same JSON value. renewal_date is a
 * date, read as YYYY-MM-DD whatever the server's DateStyle. Orders that
 * SQLite takes from its binary collation use COLLATE "C" here.
 *
 * Callbacks: the full scans (accounts_each, accounts_brief_each,
 * account_briefs) stream their rows (pg_stream), so that 100,000 accounts
 * are never one result in memory; their callers (cli/cmd_accounts.c,
 * eval/eval.c, analysis/model.c, server/views.c) copy what they need and do
 * not use the store inside the callback, which a stream forbids. Every other
 * read takes its whole result first. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/codes.h"
#include "store/pg_batch.h"
#include "store/pg_int.h"
#include "util/mem.h"

static const char q_account_find[] = "SELECT id FROM accounts WHERE external_id = $1";
static const char q_account_insert[] =
    "INSERT INTO accounts (external_id, first_seen_ms) VALUES ($1, $2) "
    "ON CONFLICT (external_id) DO NOTHING RETURNING id";
/* The account another node created between our SELECT and INSERT. */
static const char q_account_raced[] =
    "UPDATE accounts SET first_seen_ms = least(first_seen_ms, $2) WHERE external_id = $1 "
    "RETURNING id";
static const char q_account_seen[] =
    "UPDATE accounts SET first_seen_ms = $1 WHERE id = $2 AND first_seen_ms > $1";
static const char q_user_find[] = "SELECT id FROM users WHERE external_id = $1 AND anonymous = $2";
/* Find or insert in one statement: the insert runs only when the SELECT of
 * its snapshot finds no row (so no id is drawn for a user that exists); no
 * row back means another connection inserted it meanwhile (see ensure). */
static const char q_user_ensure[] =
    "WITH ins AS (INSERT INTO users (external_id, anonymous, first_seen_ms) "
    "SELECT $1::text, $2::boolean, $3::bigint WHERE NOT EXISTS "
    "(SELECT 1 FROM users WHERE external_id = $1::text AND anonymous = $2::boolean) "
    "ON CONFLICT (external_id, anonymous) DO NOTHING RETURNING id) "
    "SELECT id, true FROM ins "
    "UNION ALL SELECT id, false FROM users WHERE external_id = $1::text AND anonymous = "
    "$2::boolean";
static const char q_name_find[] = "SELECT id FROM names WHERE name = $1";
static const char q_name_insert[] =
    "INSERT INTO names (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id";
/* The owner's row is locked first (see the header); count(*) makes the
 * CTE run, and gives the one row to insert, whether the owner exists or
 * not (SQLite stores the trait either way). */
static const char q_account_trait_merge[] =
    "WITH owner AS (SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE) "
    "INSERT INTO account_traits (account_id, key, value, ts_ms) "
    "SELECT $1::bigint, $2::text, $3::jsonb, $4::bigint FROM (SELECT count(*) FROM owner) o "
    "ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value, ts_ms = excluded.ts_ms "
    "WHERE excluded.ts_ms >= account_traits.ts_ms";
static const char q_user_trait_merge[] =
    "WITH owner AS (SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE) "
    "INSERT INTO user_traits (user_id, key, value, ts_ms) "
    "SELECT $1::bigint, $2::text, $3::jsonb, $4::bigint FROM (SELECT count(*) FROM owner) o "
    "ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, ts_ms = excluded.ts_ms "
    "WHERE excluded.ts_ms >= user_traits.ts_ms";
static const char q_account_traits[] = "SELECT key, value::text, ts_ms FROM account_traits "
                                       "WHERE account_id = $1 ORDER BY key COLLATE \"C\"";
static const char q_user_traits[] = "SELECT key, value::text, ts_ms FROM user_traits "
                                    "WHERE user_id = $1 ORDER BY key COLLATE \"C\"";
/* The owner's row locked before its traits are read (pg_ingest.c). */
static const char q_account_lock[] = "SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE";
static const char q_user_lock[] = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE";
static const char q_account_set[] =
    "UPDATE accounts SET name = $1, plan = $2, mrr = $3, seats = $4, renewal_date = $5, "
    "csm_email = $6, csm_slack = $7, segment = $8, premium_products = $9, created_at = $10, "
    "traits = $11 WHERE id = $12";
static const char q_user_set[] =
    "UPDATE users SET email = $1, name = $2, title = $3, traits = $4 WHERE id = $5";
static const char q_memberships_of_user[] =
    "SELECT account_id, start_ms, end_ms FROM memberships WHERE user_id = $1 "
    "ORDER BY start_ms, account_id, id";
static const char q_membership_lock[] = "SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE";
static const char q_membership_open_find[] =
    "SELECT id FROM memberships WHERE account_id = $1 AND user_id = $2 "
    "AND (end_ms IS NULL OR end_ms > $3) LIMIT 1";
static const char q_membership_insert[] =
    "INSERT INTO memberships (account_id, user_id, start_ms) VALUES ($1, $2, $3)";
static const char q_membership_covering[] =
    "SELECT id FROM memberships WHERE account_id = $1 AND user_id = $2 "
    "AND start_ms <= $3 AND (end_ms IS NULL OR end_ms > $3) "
    "ORDER BY start_ms DESC, id DESC LIMIT 1";
static const char q_membership_end[] =
    "UPDATE memberships SET end_ms = $1 WHERE account_id = $2 AND id = $3";
static const char q_removal_after[] =
    "SELECT min(ts_ms) FROM facts WHERE account_id = $1 AND kind = " SQL_EV_USER_REMOVED " "
    "AND user_id = $2 AND ts_ms > $3";
static const char q_counter_add[] =
    "INSERT INTO counters (name, value) VALUES ($1, $2) "
    "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value";
static const char q_account_count_events[] =
    "UPDATE accounts SET event_count = event_count + $1 WHERE id = $2";
/* A batch of counts (pg_batch.h), the rows locked first in id order (ORDER
 * BY under FOR NO KEY UPDATE locks as it returns), as one by one in the
 * order ingest adds them: two nodes' batches wait for each other instead of
 * deadlocking. An id twice in a batch adds both. */
static const char q_account_counts_lock[] =
    "SELECT 1 FROM accounts WHERE id = ANY ($1::bigint[]) ORDER BY id FOR NO KEY UPDATE";
static const char q_account_counts_add[] =
    "UPDATE accounts a SET event_count = a.event_count + u.n "
    "FROM (SELECT id, sum(n) AS n FROM unnest($1::bigint[], $2::bigint[]) AS u (id, n) "
    "GROUP BY id) u WHERE a.id = u.id";

/* The columns every account read starts with (account_row reads them). */
#define ACCOUNT_COLS                                                                               \
    "a.id, a.external_id, a.name, a.plan, a.mrr, a.seats, "                                        \
    "to_char(a.renewal_date, 'YYYY-MM-DD'), a.csm_email, a.csm_slack, a.segment, "                 \
    "a.premium_products::text, a.created_at, a.traits::text, "
#define ACCOUNT_MEMBERS                                                                            \
    "(SELECT count(*) FROM memberships m WHERE m.account_id = a.id AND m.end_ms IS NULL), "
/* Every account's open memberships counted in one pass, joined (a
 * subquery per account costs 100,000 index probes: 0.96 s against 0.57 s
 * for 100,000 accounts, measured on this machine). */
static const char q_accounts_each[] =
    "SELECT " ACCOUNT_COLS "coalesce(m.n, 0), a.event_count, a.first_seen_ms FROM accounts a "
    "LEFT JOIN (SELECT account_id, count(*) AS n FROM memberships WHERE end_ms IS NULL "
    "GROUP BY account_id) m ON m.account_id = a.id ORDER BY a.external_id COLLATE \"C\"";
static const char q_account_get[] =
    "SELECT " ACCOUNT_COLS ACCOUNT_MEMBERS "a.event_count, a.first_seen_ms FROM accounts a "
    "WHERE a.id = $1";
/* In id order: SQLite's, whose scan of the table is by id. */
static const char q_accounts_brief[] =
    "SELECT " ACCOUNT_COLS "-1, -1, a.first_seen_ms FROM accounts a ORDER BY a.id";
static const char q_accounts_brief_ids[] =
    "SELECT " ACCOUNT_COLS "-1, -1, a.first_seen_ms "
    "FROM unnest($1::bigint[]) WITH ORDINALITY AS l(id, n) JOIN accounts a ON a.id = l.id "
    "ORDER BY l.n";
static const char q_status[] =
    "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM users), "
    "(SELECT count(*) FROM memberships WHERE end_ms IS NULL), "
    "(SELECT count(*) FROM memberships WHERE end_ms IS NOT NULL), "
    "(SELECT count(*) FROM quarantine)";
static const char q_counters_each[] =
    "SELECT name, value FROM counters ORDER BY name COLLATE \"C\"";
static const char q_user_label[] = "SELECT coalesce(email, external_id) FROM users WHERE id = $1";
/* The dashboard's ranked list: every account with its day's score and its
 * live CTAs, counted in one pass over the live ones (ctas_live) and joined
 * (0.14-0.21 s for 100,000 accounts against 0.42-0.61 s with a subquery per
 * account, measured on this machine). */
static const char q_briefs[] =
    "SELECT a.id, a.external_id, a.name, a.segment, a.csm_email, a.mrr, s.day, s.overall, "
    "s.band, coalesce(c.n, 0) FROM accounts a "
    "LEFT JOIN scores s ON s.account_id = a.id AND s.day = $1 "
    "LEFT JOIN (SELECT account_id, count(*) AS n FROM ctas WHERE status IN "
    "(" SQL_CTA_OPEN ", " SQL_CTA_SNOOZED ") GROUP BY account_id) c ON c.account_id = a.id "
    "ORDER BY a.id";

/* ---- JSON text as SQLite's ----------------------------------------------- */

/* A growable text buffer for one scan's rows (freed by its owner). */
struct scratch {
    char *v;
    size_t cap;
};

/* in without the spaces jsonb's output puts after ',' and ':' (any
 * whitespace outside strings), into sc; NULL for NULL. The result lives
 * until sc's next use. */
static const char *json_compact(struct scratch *sc, const char *in) {
    if (!in)
        return NULL;
    size_t len = strlen(in);
    if (sc->cap < len + 1) {
        sc->cap = len + 1 > 256 ? len + 1 : 256;
        sc->v = xrealloc(sc->v, sc->cap);
    }
    char *o = sc->v;
    bool in_string = false;
    for (const char *c = in; *c; c++) {
        if (in_string) {
            *o++ = *c;
            if (*c == '\\' && c[1])
                *o++ = *++c;
            else if (*c == '"')
                in_string = false;
        } else if (*c != ' ' && *c != '\n' && *c != '\t' && *c != '\r') {
            if (*c == '"')
                in_string = true;
            *o++ = *c;
        }
    }
    *o = '\0';
    return sc->v;
}

static int by_key(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* The traits object in, printed compact with its top-level keys in byte
 * order (malloced with cJSON's allocator: cJSON_free), or NULL when in is
 * not an object (the caller falls back to json_compact). */
static char *traits_in_key_order(const char *in) {
    cJSON *o = in ? cJSON_Parse(in) : NULL;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    int n = cJSON_GetArraySize(o);
    cJSON **items = xmalloc((size_t)(n ? n : 1) * sizeof *items);
    for (int i = 0; i < n; i++)
        items[i] = cJSON_DetachItemViaPointer(o, o->child);
    qsort(items, (size_t)n, sizeof *items, by_key);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(o, items[i]); /* keeps each item's key */
    free(items);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* ---- finding and creating ------------------------------------------------- */

/* The id of the row that q_find finds with p_find, inserting it with
 * q_insert (ON CONFLICT DO NOTHING RETURNING id) when there is none; when
 * another connection's insert won, q_raced reads its id. *created tells
 * which. The three parameter lists are consumed. */
static enum tend_err ensure(struct pg_store *s, const char *q_find, struct pg_params *p_find,
                            const char *q_insert, struct pg_params *p_insert, const char *q_raced,
                            struct pg_params *p_raced, const char *what, int64_t *id,
                            bool *created) {
    char finding[64], adding[64];
    snprintf(finding, sizeof finding, "finding %s", what);
    snprintf(adding, sizeof adding, "adding %s", what);
    enum tend_err err = pg_int(s, q_find, p_find, finding, id);
    if (err == TEND_ERR_NOTFOUND)
        err = pg_int(s, q_insert, p_insert, adding, id);
    else
        q_insert = NULL;
    if (q_insert && err == TEND_ERR_NOTFOUND) {
        /* Inserted by another connection since our SELECT: ON CONFLICT
         * waited for its commit, so a new statement reads its row. */
        q_insert = NULL;
        err = pg_int(s, q_raced, p_raced, adding, id);
        if (err == TEND_ERR_NOTFOUND) {
            snprintf(s->err, sizeof s->err, "%s: the row another connection added is gone", adding);
            err = TEND_ERR_DB;
        }
    }
    if (!err)
        *created = q_insert != NULL;
    return err;
}

enum tend_err pg_account_find(struct store *base, const char *external_id, int64_t *id) {
    struct pg_params p = {0};
    pg_p_text(&p, external_id);
    return pg_int(pg_of(base), q_account_find, &p, "finding an account", id);
}

enum tend_err pg_account_ensure(struct store *base, const char *external_id, int64_t ts_ms,
                                int64_t *id, bool *created) {
    struct pg_params f = {0}, ins = {0}, raced = {0};
    pg_p_text(&f, external_id);
    pg_p_text(&ins, external_id);
    pg_p_i64(&ins, ts_ms);
    pg_p_text(&raced, external_id);
    pg_p_i64(&raced, ts_ms);
    return ensure(pg_of(base), q_account_find, &f, q_account_insert, &ins, q_account_raced, &raced,
                  "an account", id, created);
}

enum tend_err pg_account_seen(struct store *base, int64_t id, int64_t ts_ms) {
    struct pg_params p = {0};
    pg_p_i64(&p, ts_ms);
    pg_p_i64(&p, id);
    return pg_run_later(pg_of(base), q_account_seen, &p, "dating an account");
}

enum tend_err pg_user_ensure(struct store *base, const char *external_id, bool anonymous,
                             int64_t ts_ms, int64_t *id) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, external_id);
    pg_p_bool(&p, anonymous);
    pg_p_i64(&p, ts_ms);
    PGresult *r;
    enum tend_err err = pg_query(s, q_user_ensure, &p, "adding a user", &r);
    if (err)
        return err;
    bool found = PQntuples(r) > 0, created = found && pg_bool(r, 0, 1);
    if (found)
        *id = pg_i64(r, 0, 0);
    PQclear(r);
    if (!found) {
        /* Inserted by another connection since our snapshot: ON CONFLICT
         * waited for its commit, so a new statement reads its row. */
        struct pg_params again = {0};
        pg_p_text(&again, external_id);
        pg_p_bool(&again, anonymous);
        err = pg_int(s, q_user_find, &again, "adding a user", id);
        if (err == TEND_ERR_NOTFOUND) {
            snprintf(s->err, sizeof s->err,
                     "adding a user: the row another connection added is gone");
            err = TEND_ERR_DB;
        }
    }
    if (!err && created)
        pg_ingest_user_created(s, *id);
    return err;
}

enum tend_err pg_name_ensure(struct store *base, const char *name, int64_t *id) {
    struct pg_params f = {0}, ins = {0}, again = {0};
    pg_p_text(&f, name);
    pg_p_text(&ins, name);
    pg_p_text(&again, name);
    bool created;
    return ensure(pg_of(base), q_name_find, &f, q_name_insert, &ins, q_name_find, &again, "a name",
                  id, &created);
}

/* ---- traits and typed columns --------------------------------------------- */

enum tend_err pg_trait_merge(struct store *base, enum store_entity entity, int64_t id,
                             const char *key, const char *value_json, int64_t ts_ms) {
    struct pg_store *s = pg_of(base);
    if (pg_ingest_trait_merged(s, entity, id, key, value_json, ts_ms))
        return pg_ingest_flush_if_full(s); /* written with the others (pg_ingest.c) */
    struct pg_params p = {0};
    pg_p_i64(&p, id);
    pg_p_text(&p, key);
    pg_p_text(&p, value_json);
    pg_p_i64(&p, ts_ms);
    const char *sql = entity == STORE_USER ? q_user_trait_merge : q_account_trait_merge;
    enum tend_err err;
    s->ingest_own = true; /* another entity's merged traits need not go first */
    if (!pg_ingest_locked(s, entity, id)) {
        /* The first merge of the entity here takes its lock, now. */
        err = pg_run(s, sql, &p, "merging a trait");
        if (!err)
            pg_ingest_lock_taken(s, entity, id);
    } else {
        err = pg_run_later(s, sql, &p, "merging a trait");
    }
    s->ingest_own = false;
    return err;
}

enum tend_err pg_traits_each(struct store *base, enum store_entity entity, int64_t id,
                             void (*fn)(void *arg, const char *key, const char *value_json),
                             void *arg) {
    struct pg_store *s = pg_of(base);
    if (pg_ingest_traits_each(s, entity, id, fn, arg))
        return TEND_OK;
    enum tend_err err;
    if (s->in_tx && !pg_ingest_locked(s, entity, id)) {
        /* Locked before the read, in its pipeline: what is read stays
         * true until commit, and is kept (pg_ingest.c). */
        struct pg_params l = {0};
        pg_p_i64(&l, id);
        if ((err = pg_run_later(s, entity == STORE_USER ? q_user_lock : q_account_lock, &l,
                                "locking an owner of traits")))
            return err;
        pg_ingest_lock_taken(s, entity, id);
    }
    struct pg_params p = {0};
    pg_p_i64(&p, id);
    PGresult *r;
    /* Only this entity's rows are read: the merged traits of others that
     * wait (pg_ingest.c) need not be written first. */
    s->ingest_own = true;
    err = pg_query(s, entity == STORE_USER ? q_user_traits : q_account_traits, &p, "reading traits",
                   &r);
    s->ingest_own = false;
    if (err)
        return err;
    struct scratch sc = {0};
    for (int i = 0; i < PQntuples(r); i++) {
        const char *value = json_compact(&sc, pg_text(r, i, 1));
        pg_ingest_trait_read(s, entity, id, pg_text(r, i, 0), value, pg_i64(r, i, 2));
        fn(arg, pg_text(r, i, 0), value);
    }
    pg_ingest_traits_filled(s, entity, id);
    free(sc.v);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_account_set_fields(struct store *base, int64_t id,
                                    const struct store_account_fields *f, const char *traits_json) {
    struct pg_params p = {0};
    pg_p_text(&p, f->name);
    pg_p_text(&p, f->plan);
    /* SQLite stores a NaN as NULL. */
    pg_p_f64_or_null(&p, f->has_mrr && !isnan(f->mrr), f->mrr);
    if (f->has_seats)
        pg_p_i64(&p, f->seats);
    else
        pg_p_null(&p);
    pg_p_text(&p, f->renewal_date);
    pg_p_text(&p, f->csm_email);
    pg_p_text(&p, f->csm_slack);
    pg_p_text(&p, f->segment);
    pg_p_text(&p, f->premium_products);
    pg_p_text(&p, f->created_at);
    pg_p_text(&p, traits_json);
    pg_p_i64(&p, id);
    return pg_run_later(pg_of(base), q_account_set, &p, "updating an account");
}

enum tend_err pg_user_set_fields(struct store *base, int64_t id, const char *email,
                                 const char *name, const char *title, const char *traits_json) {
    struct pg_params p = {0};
    pg_p_text(&p, email);
    pg_p_text(&p, name);
    pg_p_text(&p, title);
    pg_p_text(&p, traits_json);
    pg_p_i64(&p, id);
    return pg_run_later(pg_of(base), q_user_set, &p, "updating a user");
}

/* ---- memberships ---------------------------------------------------------- */

enum tend_err pg_user_memberships(struct store *base, int64_t user_id,
                                  struct store_membership **out, size_t *n) {
    struct pg_params p = {0};
    pg_p_i64(&p, user_id);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_memberships_of_user, &p, "reading memberships", &r);
    if (err)
        return err;
    size_t len = (size_t)PQntuples(r);
    struct store_membership *v = len ? xmalloc(len * sizeof *v) : NULL;
    for (size_t i = 0; i < len; i++) {
        v[i].account_id = pg_i64(r, (int)i, 0);
        v[i].user_id = user_id;
        v[i].start_ms = pg_i64(r, (int)i, 1);
        v[i].end_ms = pg_null(r, (int)i, 2) ? STORE_OPEN_END : pg_i64(r, (int)i, 2);
    }
    PQclear(r);
    *out = v;
    *n = len;
    return TEND_OK;
}

/* Locks the account's row until the end of the transaction (a no-op
 * outside one, where each statement commits alone): a second connection
 * changing the same account's memberships waits for our commit, then reads
 * what we wrote. The row, not a lock of its own: the transactions that
 * change memberships (ingest's) lock it anyway, for its traits and its
 * event count, so this adds no lock that two nodes could take in opposite
 * orders. */
static enum tend_err membership_lock(struct pg_store *s, int64_t account_id) {
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    return pg_run_later(s, q_membership_lock, &p, "locking an account's memberships");
}

/* $1 account, $2 user, $3 time. */
static void pair_params(struct pg_params *p, int64_t account_id, int64_t user_id, int64_t ts_ms) {
    pg_p_i64(p, account_id);
    pg_p_i64(p, user_id);
    pg_p_i64(p, ts_ms);
}

enum tend_err pg_membership_start(struct store *base, int64_t account_id, int64_t user_id,
                                  int64_t ts_ms, bool *started) {
    struct pg_store *s = pg_of(base);
    enum tend_err err = membership_lock(s, account_id);
    if (err)
        return err;
    struct pg_params p = {0}, ins = {0};
    pair_params(&p, account_id, user_id, ts_ms);
    pair_params(&ins, account_id, user_id, ts_ms);
    if (pg_ingest_user_unjoined(s, user_id)) {
        /* A user inserted here with no membership yet (pg_ingest.c). */
        err = pg_run_later(s, q_membership_insert, &ins, "adding a membership");
        if (!err) {
            pg_ingest_user_joined(s, user_id);
            *started = true;
        }
        return err;
    }
    int64_t found;
    err = pg_int(s, q_membership_open_find, &p, "finding a membership", &found);
    if (err != TEND_ERR_NOTFOUND) {
        if (!err)
            *started = false;
        return err;
    }
    err = pg_run_later(s, q_membership_insert, &ins, "adding a membership");
    if (!err) {
        pg_ingest_user_joined(s, user_id);
        *started = true;
    }
    return err;
}

enum tend_err pg_membership_end(struct store *base, int64_t account_id, int64_t user_id,
                                int64_t ts_ms, bool *ended) {
    struct pg_store *s = pg_of(base);
    enum tend_err err = membership_lock(s, account_id);
    if (err)
        return err;
    struct pg_params p = {0};
    pair_params(&p, account_id, user_id, ts_ms);
    int64_t id;
    err = pg_int(s, q_membership_covering, &p, "finding a membership", &id);
    if (err == TEND_ERR_NOTFOUND) {
        *ended = false;
        return TEND_OK;
    }
    if (err)
        return err;
    struct pg_params u = {0};
    pg_p_i64(&u, ts_ms);
    pg_p_i64(&u, account_id);
    pg_p_i64(&u, id);
    err = pg_run_later(s, q_membership_end, &u, "ending a membership");
    if (!err)
        *ended = true;
    return err;
}

enum tend_err pg_removal_after(struct store *base, int64_t account_id, int64_t user_id,
                               int64_t ts_ms, int64_t *removal_ms, bool *found) {
    if (pg_ingest_user_fresh(pg_of(base), user_id)) {
        /* Inserted by this transaction, removed by none of its events. */
        *found = false;
        return TEND_OK;
    }
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_i64(&p, user_id);
    pg_p_i64(&p, ts_ms);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_removal_after, &p, "looking for a removal", &r);
    if (err)
        return err;
    *found = PQntuples(r) > 0 && !pg_null(r, 0, 0);
    if (*found)
        *removal_ms = pg_i64(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}

/* ---- counters ------------------------------------------------------------- */

enum tend_err pg_counter_add(struct store *base, const char *name, int64_t delta) {
    struct pg_params p = {0};
    pg_p_text(&p, name);
    pg_p_i64(&p, delta);
    return pg_run_later(pg_of(base), q_counter_add, &p, "counting");
}

/* In a transaction the counts wait in the connection's deferred batch
 * (pg_batch.h) and are added by one statement per PG_BATCH_ROWS accounts
 * before the next statement or the commit: an import commits every
 * 100,000 messages, and adds to every account they touched (an UPDATE each
 * was 262,000 statements, a tenth of the server's time, at 10,000
 * accounts). */
enum tend_err pg_account_count_events(struct store *base, int64_t account_id, int64_t delta) {
    struct pg_store *s = pg_of(base);
    if (pg_deferred_may_wait(s)) {
        struct pg_batch *b = &pg_deferred_of(s)->counts;
        pg_batch_i64(b, 0, account_id);
        pg_batch_i64(b, 1, delta);
        pg_batch_row_end(b);
        return b->rows >= PG_BATCH_ROWS ? pg_deferred_flush(s) : TEND_OK;
    }
    struct pg_params p = {0};
    pg_p_i64(&p, delta);
    pg_p_i64(&p, account_id);
    return pg_run_later(s, q_account_count_events, &p, "counting events");
}

enum tend_err pg_counts_flush(struct pg_store *s, struct pg_batch *b) {
    if (!b->rows)
        return TEND_OK;
    /* The ids' array literal, closed, for the lock; the write closes its own. */
    char *ids = xmalloc(b->col[0].len + 2);
    memcpy(ids, b->col[0].v, b->col[0].len);
    memcpy(ids + b->col[0].len, "}", 2);
    struct pg_params p = {0};
    p.owned[p.n_owned++] = ids;
    p.v[p.n++] = ids;
    enum tend_err err = pg_run_later(s, q_account_counts_lock, &p, "locking accounts");
    if (!err)
        err = pg_batch_write_later(s, b, q_account_counts_add, "counting events");
    else
        pg_batch_free(b);
    return err;
}

/* ---- reading accounts ----------------------------------------------------- */

/* One scan of account rows: the caller's callback and the state between
 * rows. */
struct account_scan {
    int (*fn)(void *arg, const struct store_account_row *row);
    void *arg;
    bool sorted_traits; /* traits in key order (a whole-account read) */
    bool stopped;       /* fn returned nonzero: the rest is skipped */
    int rows;
    struct scratch products, traits;
};

/* Calls the scan's fn with row i of r (ACCOUNT_COLS, then members, events,
 * first_seen_ms). */
static void account_row(void *arg, PGresult *r, int i) {
    struct account_scan *sc = arg;
    if (sc->stopped)
        return;
    struct store_account_row row;
    memset(&row, 0, sizeof row);
    row.id = pg_i64(r, i, 0);
    row.external_id = pg_text(r, i, 1);
    row.f.name = pg_text(r, i, 2);
    row.f.plan = pg_text(r, i, 3);
    row.f.has_mrr = !pg_null(r, i, 4);
    row.f.mrr = pg_f64(r, i, 4);
    row.f.has_seats = !pg_null(r, i, 5);
    row.f.seats = pg_i64(r, i, 5);
    row.f.renewal_date = pg_text(r, i, 6);
    row.f.csm_email = pg_text(r, i, 7);
    row.f.csm_slack = pg_text(r, i, 8);
    row.f.segment = pg_text(r, i, 9);
    row.f.premium_products = json_compact(&sc->products, pg_text(r, i, 10));
    row.f.created_at = pg_text(r, i, 11);
    char *sorted = sc->sorted_traits ? traits_in_key_order(pg_text(r, i, 12)) : NULL;
    row.traits_json = sorted ? sorted : json_compact(&sc->traits, pg_text(r, i, 12));
    row.members = pg_i64(r, i, 13);
    row.events = pg_i64(r, i, 14);
    row.first_seen_ms = pg_i64(r, i, 15);
    sc->rows++;
    if (sc->fn(sc->arg, &row))
        sc->stopped = true;
    cJSON_free(sorted);
}

static void scan_free(struct account_scan *sc) {
    free(sc->products.v);
    free(sc->traits.v);
}

/* Runs q (p: its parameters, NULL for none) and calls the scan's fn for
 * each row, the whole result read first. */
static enum tend_err accounts_query(struct pg_store *s, const char *q, struct pg_params *p,
                                    struct account_scan *sc) {
    PGresult *r;
    enum tend_err err = pg_query(s, q, p, "listing accounts", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r) && !sc->stopped; i++)
        account_row(sc, r, i);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_accounts_each(struct store *base,
                               int (*fn)(void *arg, const struct store_account_row *row),
                               void *arg) {
    struct account_scan sc = {.fn = fn, .arg = arg, .sorted_traits = true};
    enum tend_err err =
        pg_stream(pg_of(base), q_accounts_each, NULL, "listing accounts", account_row, &sc);
    scan_free(&sc);
    return err;
}

enum tend_err pg_accounts_brief_each(struct store *base,
                                     int (*fn)(void *arg, const struct store_account_row *row),
                                     void *arg) {
    struct account_scan sc = {.fn = fn, .arg = arg};
    enum tend_err err =
        pg_stream(pg_of(base), q_accounts_brief, NULL, "listing accounts", account_row, &sc);
    scan_free(&sc);
    return err;
}

enum tend_err pg_accounts_brief_of(struct store *base, const int64_t *ids, size_t n,
                                   int (*fn)(void *arg, const struct store_account_row *row),
                                   void *arg) {
    if (!n)
        return TEND_OK;
    struct pg_params p = {0};
    pg_p_ids(&p, ids, n);
    struct account_scan sc = {.fn = fn, .arg = arg};
    enum tend_err err = accounts_query(pg_of(base), q_accounts_brief_ids, &p, &sc);
    scan_free(&sc);
    return err;
}

enum tend_err pg_account_get(struct store *base, int64_t id,
                             int (*fn)(void *arg, const struct store_account_row *row), void *arg) {
    struct pg_params p = {0};
    pg_p_i64(&p, id);
    struct account_scan sc = {.fn = fn, .arg = arg, .sorted_traits = true};
    enum tend_err err = accounts_query(pg_of(base), q_account_get, &p, &sc);
    scan_free(&sc);
    return err ? err : sc.rows ? TEND_OK : TEND_ERR_NOTFOUND;
}

enum tend_err pg_status_get(struct store *base, struct store_status *out) {
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_status, NULL, "counting", &r);
    if (err)
        return err;
    struct store_status st = {
        .accounts = pg_i64(r, 0, 0),
        .users = pg_i64(r, 0, 1),
        .memberships_open = pg_i64(r, 0, 2),
        .memberships_ended = pg_i64(r, 0, 3),
        .quarantined = pg_i64(r, 0, 4),
    };
    PQclear(r);
    *out = st;
    return TEND_OK;
}

enum tend_err pg_counters_each(struct store *base,
                               void (*fn)(void *arg, const char *name, int64_t value), void *arg) {
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_counters_each, NULL, "reading counters", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_i64(r, i, 1));
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_user_label(struct store *base, int64_t user_id, char *buf, size_t size) {
    struct pg_params p = {0};
    pg_p_i64(&p, user_id);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_user_label, &p, "reading a user", &r);
    if (err)
        return err;
    if (PQntuples(r) == 0)
        err = TEND_ERR_NOTFOUND;
    else
        snprintf(buf, size, "%s", pg_text(r, 0, 0) ? pg_text(r, 0, 0) : "");
    PQclear(r);
    return err;
}

/* One scan of the dashboard's list. */
struct brief_scan {
    void (*fn)(void *arg, const struct store_account_brief *b);
    void *arg;
};

static void brief_row(void *arg, PGresult *r, int i) {
    struct brief_scan *sc = arg;
    struct store_account_brief b = {
        .id = pg_i64(r, i, 0),
        .external_id = pg_text(r, i, 1),
        .name = pg_text(r, i, 2),
        .segment = pg_text(r, i, 3),
        .owner = pg_text(r, i, 4),
        .has_mrr = !pg_null(r, i, 5),
        .mrr = pg_f64(r, i, 5),
        .has_score = !pg_null(r, i, 6),
        .has_overall = !pg_null(r, i, 7),
        .overall = pg_f64(r, i, 7),
        .band = pg_null(r, i, 8) ? "none" : pg_text(r, i, 8),
        .live_ctas = pg_i64(r, i, 9),
    };
    sc->fn(sc->arg, &b);
}

enum tend_err pg_account_briefs(struct store *base, int32_t day,
                                void (*fn)(void *arg, const struct store_account_brief *b),
                                void *arg) {
    struct pg_params p = {0};
    pg_p_int(&p, day);
    struct brief_scan sc = {.fn = fn, .arg = arg};
    return pg_stream(pg_of(base), q_briefs, &p, "listing accounts with their scores", brief_row,
                     &sc);
}

/* ---- an account's users ---------------------------------------------------------- */

/* The rows and order of sqlite_accounts.c's. Ranges: $1 $2 the ids, $3
 * before_ms, $4 the role key; listed: $1 the ids, $2, $3. With a role only:
 * from user_traits_by_key (migration 20). */
#define MEMBER_COLUMNS(BEFORE)                                                                     \
    "SELECT m.account_id, m.user_id, m.start_ms, m.end_ms, u.external_id, u.email, u.name, "       \
    "t.value::text, (SELECT max(o.start_ms) FROM memberships o WHERE o.user_id = m.user_id "       \
    "AND o.account_id <> m.account_id AND o.start_ms < " BEFORE ") "
#define MEMBER_ORDER " ORDER BY m.account_id, m.user_id, m.start_ms, m.end_ms"
static const char q_members[] =
    MEMBER_COLUMNS("$3::bigint") "FROM memberships m JOIN users u ON u.id = m.user_id "
                                 "LEFT JOIN user_traits t ON t.user_id = m.user_id AND t.key = $4 "
                                 "WHERE m.account_id BETWEEN $1 AND $2" MEMBER_ORDER;
static const char q_members_ids[] =
    MEMBER_COLUMNS("$2::bigint") "FROM memberships m JOIN users u ON u.id = m.user_id "
                                 "LEFT JOIN user_traits t ON t.user_id = m.user_id AND t.key = $3 "
                                 "WHERE m.account_id = ANY($1::bigint[])" MEMBER_ORDER;
static const char q_role_members[] =
    MEMBER_COLUMNS("$3::bigint") "FROM user_traits t JOIN memberships m ON m.user_id = t.user_id "
                                 "JOIN users u ON u.id = m.user_id "
                                 "WHERE t.key = $4 AND m.account_id BETWEEN $1 AND $2" MEMBER_ORDER;
static const char q_role_members_ids[] =
    MEMBER_COLUMNS("$2::bigint") "FROM memberships m JOIN user_traits t ON t.user_id = m.user_id "
                                 "AND t.key = $3 JOIN users u ON u.id = m.user_id "
                                 "WHERE m.account_id = ANY($1::bigint[])" MEMBER_ORDER;

struct members_scan {
    void (*fn)(void *arg, const struct store_member *m);
    void *arg;
};

static void member_row(void *arg, PGresult *r, int i) {
    struct members_scan *sc = arg;
    struct store_member m = {
        .account_id = pg_i64(r, i, 0),
        .user_id = pg_i64(r, i, 1),
        .start_ms = pg_i64(r, i, 2),
        .end_ms = pg_null(r, i, 3) ? STORE_OPEN_END : pg_i64(r, i, 3),
        .external_id = pg_text(r, i, 4),
        .email = pg_text(r, i, 5),
        .name = pg_text(r, i, 6),
        .role_json = pg_text(r, i, 7),
        .elsewhere_ms = pg_null(r, i, 8) ? 0 : pg_i64(r, i, 8),
    };
    sc->fn(sc->arg, &m);
}

enum tend_err pg_members_each(struct store *base, const struct store_span *sp, const char *role_key,
                              bool with_role_only, int64_t before_ms,
                              void (*fn)(void *arg, const struct store_member *m), void *arg) {
    struct pg_params p = {0};
    if (sp->ids) {
        pg_p_ids(&p, sp->ids, sp->n);
    } else {
        pg_p_i64(&p, sp->first);
        pg_p_i64(&p, sp->last);
    }
    pg_p_i64(&p, before_ms);
    pg_p_text(&p, role_key);
    const char *q = with_role_only ? (sp->ids ? q_role_members_ids : q_role_members)
                                   : (sp->ids ? q_members_ids : q_members);
    struct members_scan sc = {fn, arg};
    return pg_stream(pg_of(base), q, &p, "reading an account's users", member_row, &sc);
}
