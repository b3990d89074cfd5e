/* pg_events.c: events, their keys, facts as they are stored, product use by
 * day and the quarantine, in the PostgreSQL backend (pg_int.h); the
 * contracts are store.h's, the results those of sqlite_events.c.
 *
 * Ingest is staged. store_event_put() decides at once whether the event is
 * new, from what the connection knows of its key (below), and appends it as
 * one line of COPY text to the connection's staging buffer; nothing goes to
 * the server. The buffer is written (pg_events_flush) before any other
 * statement of the connection runs (pg_query calls it), at commit, and when
 * it reaches PG_STAGE_ROWS rows or PG_STAGE_BYTES bytes, as:
 *
 *   COPY pg_temp.tend_staged FROM STDIN            (one round trip of data)
 *   WITH k AS (INSERT INTO event_keys ... RETURNING 1),
 *        INSERT INTO events, quarantine, activity_stale, product_days, facts
 *   SELECT count(*) FROM k                          (one statement)
 *   the facts that must be stored one by one, in the order they came
 *   TRUNCATE pg_temp.tend_staged
 *
 * so a flush costs four round trips and three statements whatever its size
 * (the facts stored one by one after it are queued in the connection's
 * pipeline: pg_pipeline.c).
 * What SQLite's event_put derives from an event is worked out in C as the
 * line is written (the day marked stale, the product_days row, a fact's
 * lifetime where it depends on nothing stored), so the one statement only
 * inserts columns. Facts whose lifetime depends on earlier facts (tickets,
 * invoices, outreach, cards, replies, outcomes: pg_ingest_facts.c) are kept
 * in memory and stored one by one after it, in arrival order, by the same
 * statements SQLite runs; no other kind reads or changes them, so storing
 * the rest first gives SQLite's rows.
 *
 * Login days (store_login_day_add in a transaction) wait with the staged
 * rows and are written by their flush, 2,000 a statement; a statement
 * waits for the staged rows only when it names a table they will change
 * (pg_events_flush_before: events and their keys always; the quarantine,
 * facts, product days, stale days and login days when a staged row has
 * one).
 *
 * What the connection knows of keys: a hash set of keys, each PRESENT
 * (stored, by anyone, or staged here) or ABSENT (looked up, not stored
 * then). store_event_keys_prefetch() looks a batch's unknown keys up in one
 * query (reading the keys stored in the batch's range of times when there
 * are few, else probing key by key); a key nobody asked about is looked up
 * on its own when it comes.
 * Look-ups read event_keys without flushing first: the keys staged here are
 * PRESENT in the set already. The set is forgotten at a rollback and when it
 * passes PG_KEYS_MAX entries (after a flush, so the server has every staged
 * key), so it is bounded and never outlives what it knows.
 *
 * Several nodes: an ABSENT answer can be overtaken by another node that
 * stores the same key before our flush. The flush's key insert then skips
 * that key (ON CONFLICT DO NOTHING: it waits for the other transaction, so
 * the key is stored exactly once), and k counts fewer keys than were staged.
 * The event_put that said *inserted = true was wrong, and so would be
 * everything the caller did on that answer (counters, memberships, the
 * quarantine). So the flush fails with TEND_ERR_BUSY, the transaction rolls
 * back whole, and its retry (server/writer.c retries; tend import reports
 * it and a rerun skips what is stored) finds the key stored. Counted in the
 * error's message; rare, since it takes the same message arriving at two
 * nodes within one batch's time. The keys are inserted in key order, so two
 * flushes that share keys wait for each other instead of deadlocking. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "store/codes.h"
#include "store/fact_life.h"
#include "store/pg_batch.h"
#include "store/pg_int.h"
#include "store/schema.h"
#include "util/datetime.h"
#include "util/mem.h"

/* A flush when the buffer holds this many rows or bytes: memory stays
 * bounded inside a long transaction, and a flush is large enough that its
 * four round trips are small next to its rows. */
#define PG_STAGE_ROWS  20000
#define PG_STAGE_BYTES (16u << 20)
/* The fewest rows a flush sends with COPY (fewer go as arrays). */
#define PG_COPY_ROWS 500
/* Most keys the set keeps before a prefetch forgets it (a flush first):
 * with a batch of up to 62,144 more, its table stays within 2^19 slots (9
 * MB); keys put without a prefetch are forgotten from twice as many. */
#define PG_KEYS_MAX 200000
/* Most keys one look-up query names. */
#define PG_LOOKUP_KEYS 10000

/* Slots of the memo of which statements need a flush first. */
#define PG_NEEDS_SLOTS 256

enum key_state { KEY_EMPTY = 0, KEY_ABSENT = 1, KEY_PRESENT = 2 };

/* A fact stored one by one at the flush: the event, with its strings. */
struct fact_copy {
    struct store_event ev; /* subject, detail, props point at the copies below */
    char *subject, *detail, *props;
};

struct pg_staged {
    /* COPY text of the rows staged since the last flush; the last row is
     * "open" (its quarantine columns not written yet) until the next one or
     * the flush, so that store_quarantine_put() of the event just put can
     * complete it. */
    char *buf;
    size_t len, cap, rows;
    bool open;
    int64_t open_ts;
    uint64_t open_hash;
    /* The facts of the staged rows that are stored one by one. */
    struct fact_copy *facts;
    size_t n_facts, cap_facts;
    /* The key set: open addressing, linear probing, cap a power of two. */
    struct store_event_key *keys;
    unsigned char *state;
    size_t cap_keys, n_keys;
    bool table_ready; /* pg_temp.tend_staged exists in this session */
    /* The tables the staged rows will write (enum flush_table bits). */
    unsigned writes;
    /* Login days (account, day) added in the transaction, written with the
     * staged rows (pg_events_login_day). */
    struct pg_batch logins;
    /* The tables a statement names (pg_events_flush_before), by the
     * address of its SQL: direct-mapped. */
    struct {
        const char *sql;
        unsigned names;
    } needs[PG_NEEDS_SLOTS];
};

/* The tables a flush writes or reads, as bits: a statement needs the staged
 * rows written first only when it names a table they will change. */
enum flush_table {
    FT_EVENTS = 1,     /* events, event_keys, the tend_event* functions: every row */
    FT_QUARANTINE = 2, /* a row quarantined */
    FT_STALE = 4,      /* activity_stale, activity_counted: a day marked stale, a goal */
    FT_PRODUCT = 8,    /* product_days */
    FT_FACTS = 16,     /* facts: stored in the flush, or one by one after it */
    FT_LOGINS = 32,    /* login_days */
};

/* ---- the key set ---------------------------------------------------------- */

static size_t key_slot(const struct pg_staged *st, int64_t ts, uint64_t hash) {
    uint64_t h = hash ^ (uint64_t)ts * UINT64_C(0x9E3779B97F4A7C15);
    h ^= h >> 31;
    return (size_t)h & (st->cap_keys - 1);
}

static enum key_state key_get(const struct pg_staged *st, int64_t ts, uint64_t hash) {
    if (!st->cap_keys)
        return KEY_EMPTY;
    for (size_t i = key_slot(st, ts, hash);; i = (i + 1) & (st->cap_keys - 1)) {
        if (st->state[i] == KEY_EMPTY)
            return KEY_EMPTY;
        if (st->keys[i].key_ts_ms == ts && st->keys[i].key_hash == hash)
            return (enum key_state)st->state[i];
    }
}

static void key_set(struct pg_staged *st, int64_t ts, uint64_t hash, enum key_state v);

/* Doubles the set (4,096 slots at first), keeping its keys. */
static void keys_grow(struct pg_staged *st) {
    struct store_event_key *old = st->keys;
    unsigned char *old_state = st->state;
    size_t old_cap = st->cap_keys;
    st->cap_keys = old_cap ? old_cap * 2 : 4096;
    st->keys = xmalloc(st->cap_keys * sizeof *st->keys);
    st->state = xcalloc(st->cap_keys, 1);
    st->n_keys = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old_state[i])
            key_set(st, old[i].key_ts_ms, old[i].key_hash, (enum key_state)old_state[i]);
    free(old);
    free(old_state);
}

static void key_set(struct pg_staged *st, int64_t ts, uint64_t hash, enum key_state v) {
    if ((st->n_keys + 1) * 2 > st->cap_keys)
        keys_grow(st);
    size_t i = key_slot(st, ts, hash);
    while (st->state[i] != KEY_EMPTY &&
           !(st->keys[i].key_ts_ms == ts && st->keys[i].key_hash == hash))
        i = (i + 1) & (st->cap_keys - 1);
    if (st->state[i] == KEY_EMPTY) {
        st->keys[i].key_ts_ms = ts;
        st->keys[i].key_hash = hash;
        st->n_keys++;
    }
    st->state[i] = (unsigned char)v;
}

static void keys_forget(struct pg_staged *st) {
    if (st->n_keys)
        memset(st->state, 0, st->cap_keys);
    st->n_keys = 0;
}

static struct pg_staged *staged_of(struct pg_store *s) {
    if (!s->staged)
        s->staged = xcalloc(1, sizeof *s->staged);
    return s->staged;
}

/* The fewest keys looked up by their range of times first (keys_in_range). */
#define PG_RANGE_KEYS 64

static const char q_keys_range[] = "SELECT key_ts_ms, key_hash FROM event_keys "
                                   "WHERE key_ts_ms BETWEEN $1 AND $2 LIMIT $3";

/* Looks the m keys (ts, hs) up by reading every key stored in their range
 * of times, when that range holds at most twice as many (a batch of an
 * import or a request spans seconds to minutes, and the keys stored there
 * are its own, or none: one index range instead of a probe per key, about
 * a microsecond of the server's each). Records the m keys ABSENT and then
 * those found PRESENT, and sets *done; leaves *done false when the range
 * holds more (a batch with a message of long ago, or without timestamps,
 * among many others), for the probe per key. */
static enum tend_err keys_in_range(struct pg_store *s, const int64_t *ts, const int64_t *hs,
                                   size_t m, bool *done) {
    struct pg_staged *st = s->staged;
    *done = false;
    if (m < PG_RANGE_KEYS)
        return TEND_OK;
    int64_t lo = ts[0], hi = ts[0];
    for (size_t i = 1; i < m; i++) {
        lo = ts[i] < lo ? ts[i] : lo;
        hi = ts[i] > hi ? ts[i] : hi;
    }
    int64_t limit = 2 * (int64_t)m + 1;
    struct pg_params p = {0};
    pg_p_i64(&p, lo);
    pg_p_i64(&p, hi);
    pg_p_i64(&p, limit);
    PGresult *r;
    enum tend_err err = pg_query(s, q_keys_range, &p, "looking up events", &r);
    if (err)
        return err;
    if (PQntuples(r) < limit) {
        /* Every key stored in the range: an asked key not among them is not
         * stored. Keys found that were not asked are not kept. */
        for (size_t i = 0; i < m; i++)
            key_set(st, ts[i], (uint64_t)hs[i], KEY_ABSENT);
        for (int i = 0; i < PQntuples(r); i++) {
            int64_t t = pg_i64(r, i, 0);
            uint64_t h = (uint64_t)pg_i64(r, i, 1);
            if (key_get(st, t, h) == KEY_ABSENT)
                key_set(st, t, h, KEY_PRESENT);
        }
        *done = true;
    }
    PQclear(r);
    return TEND_OK;
}

/* Looks up which of the n keys are stored (committed, or written by this
 * transaction) and records each as PRESENT or ABSENT. Without a flush (see
 * the header), so a look-up never writes the staged rows. */
static enum tend_err keys_lookup(struct pg_store *s, const struct store_event_key *keys, size_t n) {
    static const char q_keys[] =
        "SELECT k.key_ts_ms, k.key_hash FROM unnest($1::bigint[], $2::bigint[]) AS q(t, h) "
        "JOIN event_keys k ON k.key_ts_ms = q.t AND k.key_hash = q.h";
    struct pg_staged *st = staged_of(s);
    int64_t *ts = xmalloc((n ? n : 1) * sizeof *ts);
    int64_t *hs = xmalloc((n ? n : 1) * sizeof *hs);
    enum tend_err err = TEND_OK;
    for (size_t done = 0; !err && done < n;) {
        size_t m = 0;
        for (; done < n && m < PG_LOOKUP_KEYS; done++) {
            ts[m] = keys[done].key_ts_ms;
            hs[m] = (int64_t)keys[done].key_hash;
            m++;
        }
        bool was = s->flushing, ranged;
        s->flushing = true;
        err = keys_in_range(s, ts, hs, m, &ranged);
        s->flushing = was;
        if (err)
            break;
        if (ranged)
            continue;
        struct pg_params p = {0};
        pg_p_ids(&p, ts, m);
        pg_p_ids(&p, hs, m);
        s->flushing = true;
        PGresult *r;
        err = pg_query(s, q_keys, &p, "looking up events", &r);
        s->flushing = was;
        if (err)
            break;
        for (size_t i = 0; i < m; i++)
            key_set(st, ts[i], (uint64_t)hs[i], KEY_ABSENT);
        for (int i = 0; i < PQntuples(r); i++)
            key_set(st, pg_i64(r, i, 0), (uint64_t)pg_i64(r, i, 1), KEY_PRESENT);
        PQclear(r);
    }
    free(ts);
    free(hs);
    return err;
}

/* Forgets the key set when it has grown past max keys, flushing first so
 * that the server holds every key staged. A batch's prefetch forgets from
 * PG_KEYS_MAX, before it looks its keys up; a put only from twice that
 * (keys put without a prefetch), so that the keys a batch prefetched are
 * never forgotten halfway through it and looked up again one by one (a
 * round trip each: about 2,000 for every 200,000 events of an import). */
static enum tend_err keys_bound(struct pg_store *s, size_t max) {
    struct pg_staged *st = staged_of(s);
    if (st->n_keys < max)
        return TEND_OK;
    enum tend_err err = pg_events_flush(s);
    if (!err)
        keys_forget(st);
    return err;
}

/* Whether the key is stored or staged, looking it up when unknown. */
static enum tend_err key_known(struct pg_store *s, int64_t ts, uint64_t hash, bool *present) {
    enum tend_err err = keys_bound(s, 2 * PG_KEYS_MAX);
    if (err)
        return err;
    enum key_state k = key_get(s->staged, ts, hash);
    if (k == KEY_EMPTY) {
        struct store_event_key key = {ts, hash};
        if ((err = keys_lookup(s, &key, 1)))
            return err;
        k = key_get(s->staged, ts, hash);
    }
    *present = k == KEY_PRESENT;
    return TEND_OK;
}

enum tend_err pg_event_keys_prefetch(struct store *base, const struct store_event_key *keys,
                                     size_t n) {
    struct pg_store *s = pg_of(base);
    enum tend_err err = keys_bound(s, PG_KEYS_MAX);
    if (err || n == 0)
        return err;
    struct pg_staged *st = s->staged;
    /* Only the keys not known to be stored: an ABSENT answer is asked again,
     * as another node may have stored the key since. */
    struct store_event_key *ask = xmalloc(n * sizeof *ask);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (key_get(st, keys[i].key_ts_ms, keys[i].key_hash) != KEY_PRESENT)
            ask[m++] = keys[i];
    err = m ? keys_lookup(s, ask, m) : TEND_OK;
    free(ask);
    return err;
}

enum tend_err pg_event_exists(struct store *base, int64_t key_ts_ms, uint64_t key_hash,
                              bool *exists) {
    return key_known(pg_of(base), key_ts_ms, key_hash, exists);
}

/* ---- COPY text ------------------------------------------------------------ */

static void buf_need(struct pg_staged *st, size_t more) {
    if (st->len + more <= st->cap)
        return;
    size_t cap = st->cap ? st->cap : 1 << 16;
    while (cap < st->len + more)
        cap *= 2;
    st->buf = xrealloc(st->buf, cap);
    st->cap = cap;
}

static void put_raw(struct pg_staged *st, const char *s, size_t n) {
    buf_need(st, n);
    memcpy(st->buf + st->len, s, n);
    st->len += n;
}

/* A column separator (unless first), then an integer. */
static void put_i64(struct pg_staged *st, bool first, int64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, first ? "%" PRId64 : "\t%" PRId64, v);
    put_raw(st, tmp, (size_t)n);
}

static void put_null(struct pg_staged *st) {
    put_raw(st, "\t\\N", 3);
}

/* An id column: 0 is NULL. */
static void put_id(struct pg_staged *st, int64_t v) {
    if (v)
        put_i64(st, false, v);
    else
        put_null(st);
}

/* A text column (NULL is NULL), escaped for COPY's text format: backslash,
 * newline, carriage return and tab are the characters it gives a meaning. */
static void put_text(struct pg_staged *st, const char *s) {
    if (!s) {
        put_null(st);
        return;
    }
    size_t n = strlen(s);
    buf_need(st, 1 + 2 * n);
    char *o = st->buf + st->len;
    *o++ = '\t';
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
            *o++ = '\\';
            c = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
        }
        *o++ = c;
    }
    st->len = (size_t)(o - st->buf);
}

/* Ends the open row without quarantine columns. */
static void close_row(struct pg_staged *st) {
    if (!st->open)
        return;
    put_raw(st, "\t\\N\t\\N\t\\N\n", 10);
    st->open = false;
}

/* ---- facts kept for the flush ------------------------------------------- */

static char *dup_or_null(const char *s) {
    return s ? xstrdup(s) : NULL;
}

static void facts_clear(struct pg_staged *st) {
    for (size_t i = 0; i < st->n_facts; i++) {
        free(st->facts[i].subject);
        free(st->facts[i].detail);
        free(st->facts[i].props);
    }
    st->n_facts = 0;
}

/* Keeps a copy of ev, a fact stored one by one at the flush. */
static void keep_fact(struct pg_staged *st, const struct store_event *ev) {
    if (st->n_facts == st->cap_facts) {
        st->cap_facts = st->cap_facts ? st->cap_facts * 2 : 64;
        st->facts = xrealloc(st->facts, st->cap_facts * sizeof *st->facts);
    }
    struct fact_copy *f = &st->facts[st->n_facts++];
    f->ev = *ev;
    f->ev.subject = f->subject = dup_or_null(ev->subject);
    f->ev.detail = f->detail = dup_or_null(ev->detail);
    f->ev.props = f->props = dup_or_null(ev->props);
    f->ev.name_id = 0;
}

/* ---- the flush ------------------------------------------------------------ */

static const char q_stage_table[] =
    "CREATE TEMP TABLE IF NOT EXISTS tend_staged ("
    "  key_ts_ms bigint, key_hash bigint, ts_ms bigint, kind integer, account_id bigint,"
    "  user_id bigint, name_id bigint, subject text, detail text, num double precision,"
    "  day integer, props jsonb,"
    "  stale_day integer,"   /* the day marked stale (login or feature of an account) */
    "  product_day integer," /* product_days' day (feature with a product, of an account) */
    "  fact_until bigint,"   /* until_ms of a fact stored here (pg_fact_until_alone) */
    "  goal_day integer,"    /* a goal's day: the rolled-up days from it are stale */
    "  q_account text, q_reason text, q_since bigint" /* quarantined: why, since when */
    ")";
#define STAGED_COLUMNS                                                                             \
    "key_ts_ms, key_hash, ts_ms, kind, account_id, user_id, name_id, subject, detail, num, day, "  \
    "props, stale_day, product_day, fact_until, goal_day, q_account, q_reason, q_since"
enum { STAGED_N_COLUMNS = 19 };
static const char q_stage_copy[] = "COPY pg_temp.tend_staged FROM STDIN";
static const char q_stage_truncate[] = "TRUNCATE pg_temp.tend_staged";
/* The staged rows of SRC, stored: the keys first (in key order, so that two
 * flushes sharing keys wait for each other rather than deadlock); k counts
 * the keys that were new. WITH is a first CTE (ending in a comma) or "". */
#define STORE_STAGED(WITH, SRC, ON_CONFLICT)                                                       \
    "WITH " WITH " k AS ("                                                                         \
    "  INSERT INTO event_keys (key_ts_ms, key_hash)"                                               \
    "  SELECT key_ts_ms, key_hash FROM " SRC " ORDER BY key_ts_ms, key_hash" ON_CONFLICT           \
    " RETURNING 1),"                                                                               \
    " e AS ("                                                                                      \
    "  INSERT INTO events (account_id, ts_ms, key_ts_ms, key_hash, kind, user_id, name_id,"        \
    "    subject, detail, num, day, props)"                                                        \
    "  SELECT account_id, ts_ms, key_ts_ms, key_hash, kind, user_id, name_id, subject, detail,"    \
    "    num, day, props FROM " SRC "),"                                                           \
    " q AS ("                                                                                      \
    "  INSERT INTO quarantine (key_ts_ms, key_hash, ts_ms, kind, user_id, account_external_id,"    \
    "    reason, since_ms)"                                                                        \
    "  SELECT key_ts_ms, key_hash, ts_ms, kind, user_id, q_account, q_reason, q_since"             \
    "  FROM " SRC " WHERE q_reason IS NOT NULL ON CONFLICT DO NOTHING),"                           \
    " d AS ("                                                                                      \
    "  INSERT INTO activity_stale (day)"                                                           \
    "  SELECT stale_day FROM " SRC " WHERE stale_day IS NOT NULL"                                  \
    "  UNION SELECT day FROM activity_counted"                                                     \
    "  WHERE day >= (SELECT min(goal_day) FROM " SRC ")"                                           \
    "  ON CONFLICT (day) DO UPDATE SET day = excluded.day),"                                       \
    " p AS ("                                                                                      \
    "  INSERT INTO product_days (account_id, product, day)"                                        \
    "  SELECT DISTINCT account_id, subject, product_day FROM " SRC                                 \
    "  WHERE product_day IS NOT NULL ON CONFLICT DO NOTHING),"                                     \
    " f AS ("                                                                                      \
    "  INSERT INTO facts (account_id, until_ms, kind, ts_ms, key_ts_ms, key_hash, user_id,"        \
    "    subject, detail, num, day, props)"                                                        \
    "  SELECT account_id, fact_until, kind, ts_ms, key_ts_ms, key_hash, user_id, subject,"         \
    "    detail, num, day, props FROM " SRC " WHERE fact_until IS NOT NULL"                        \
    "  ON CONFLICT DO NOTHING)"                                                                    \
    " SELECT count(*) FROM k"
/* A large flush inserts its keys without ON CONFLICT: every key staged was
 * looked up and found absent, so a key stored meanwhile is the race of the
 * header, which fails the flush either way; a plain insert of a key costs
 * the server about half of a speculative one (no second index probe), and
 * still waits for another transaction inserting the same key. */
static const char q_store_copied[] = STORE_STAGED("", "pg_temp.tend_staged", "");
static const char q_store_arrays[] = STORE_STAGED(
    "s AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::integer[], "
    "$5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::float8[], "
    "$11::integer[], $12::jsonb[], $13::integer[], $14::integer[], $15::bigint[], "
    "$16::integer[], $17::text[], $18::text[], $19::bigint[]) AS u(" STAGED_COLUMNS ")),",
    "s", " ON CONFLICT DO NOTHING");

/* Sends the buffer with COPY. */
static enum tend_err copy_rows(struct pg_store *s) {
    struct pg_staged *st = s->staged;
    enum tend_err drained = pg_pipeline_drain(s); /* COPY is not pipelined */
    if (drained)
        return drained;
    PGresult *r = PQexec(s->conn, q_stage_copy);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        enum tend_err err = pg_fail(s, "staging events", r);
        PQclear(r);
        return err;
    }
    PQclear(r);
    bool sent = PQputCopyData(s->conn, st->buf, (int)st->len) == 1;
    if (PQputCopyEnd(s->conn, sent ? NULL : "tend: sending the rows failed") != 1)
        sent = false;
    enum tend_err err = TEND_OK;
    while ((r = PQgetResult(s->conn))) {
        if (!err && PQresultStatus(r) != PGRES_COMMAND_OK)
            err = pg_fail(s, "staging events", r);
        PQclear(r);
    }
    if (!err && !sent)
        err = pg_fail(s, "staging events", NULL);
    return err;
}

/* The rows staged (COPY text), copied, then emptied. */
static enum tend_err store_copied(struct pg_store *s, int64_t *stored) {
    struct pg_staged *st = s->staged;
    enum tend_err err;
    if (!st->table_ready) {
        if ((err = pg_exec(s, q_stage_table, "making the staging table")))
            return err;
        st->table_ready = true;
    }
    if ((err = copy_rows(s)))
        return err;
    if ((err = pg_int(s, q_store_copied, NULL, "storing events", stored)))
        return err;
    return pg_exec(s, q_stage_truncate, "emptying the staging table");
}

/* Appends one COPY field (from, n bytes, escaped for COPY) to an array
 * literal a as an element: "\N" is NULL, anything else a quoted string. */
static void array_element(struct pg_staged *a, const char *from, size_t n) {
    buf_need(a, 2 * n + 8);
    char *o = a->buf + a->len;
    if (a->len > 1)
        *o++ = ',';
    if (n == 2 && from[0] == '\\' && from[1] == 'N') {
        memcpy(o, "NULL", 4);
        a->len = (size_t)(o + 4 - a->buf);
        return;
    }
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        char c = from[i];
        if (c == '\\' && i + 1 < n) {
            c = from[++i];
            c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
        }
        if (c == '"' || c == '\\')
            *o++ = '\\';
        *o++ = c;
    }
    *o++ = '"';
    a->len = (size_t)(o - a->buf);
}

/* The rows staged, as one array per column, in one statement: for a few
 * rows, where a COPY's round trips and the staging table's TRUNCATE (whose
 * cost grows with each one in a transaction) would cost more than the rows. */
static enum tend_err store_arrays(struct pg_store *s, int64_t *stored) {
    struct pg_staged *st = s->staged;
    struct pg_staged col[STAGED_N_COLUMNS];
    memset(col, 0, sizeof col);
    for (int c = 0; c < STAGED_N_COLUMNS; c++)
        put_raw(&col[c], "{", 1);
    const char *p = st->buf, *end = st->buf + st->len;
    while (p < end) {
        for (int c = 0; c < STAGED_N_COLUMNS; c++) {
            const char *f = p;
            while (p < end && *p != '\t' && *p != '\n')
                p++;
            array_element(&col[c], f, (size_t)(p - f));
            p++; /* the tab or the newline */
        }
    }
    struct pg_params prm = {0};
    for (int c = 0; c < STAGED_N_COLUMNS; c++) {
        put_raw(&col[c], "}", 2); /* and the terminating NUL */
        pg_p_text(&prm, col[c].buf);
    }
    enum tend_err err = pg_int(s, q_store_arrays, &prm, "storing events", stored);
    for (int c = 0; c < STAGED_N_COLUMNS; c++)
        free(col[c].buf);
    return err;
}

/* The flush's work (see the header), in the open transaction. */
static enum tend_err flush_rows(struct pg_store *s) {
    struct pg_staged *st = s->staged;
    int64_t stored = 0;
    enum tend_err err =
        st->rows >= PG_COPY_ROWS ? store_copied(s, &stored) : store_arrays(s, &stored);
    if (err == TEND_ERR_CONFLICT) {
        /* A key (or an event row) stored meanwhile: the large flush's plain
         * key insert, or an event row of the small one's. */
        snprintf(s->err, sizeof s->err,
                 "storing events: another connection stored some of these %zu events at the same "
                 "time; nothing of this transaction is kept, retry it",
                 st->rows);
        return TEND_ERR_BUSY;
    }
    if (err)
        return err;
    if (stored != (int64_t)st->rows) {
        snprintf(s->err, sizeof s->err,
                 "storing events: another connection stored %zu of these %zu events at the same "
                 "time; nothing of this transaction is kept, retry it",
                 st->rows - (size_t)stored, st->rows);
        return TEND_ERR_BUSY;
    }
    for (size_t i = 0; !err && i < st->n_facts; i++)
        err = pg_fact_put(s, &st->facts[i].ev);
    return err;
}

static void rows_clear(struct pg_staged *st) {
    pg_batch_free(&st->logins);
    st->len = 0;
    st->rows = 0;
    st->writes = 0;
    st->open = false;
    facts_clear(st);
}

/* The login days of a batch, in key order (two nodes adding the same days
 * wait for each other instead of deadlocking). */
static const char q_login_days_add[] =
    "INSERT INTO login_days (account_id, day) SELECT a, d FROM unnest($1::bigint[], "
    "$2::integer[]) AS u (a, d) ORDER BY a, d ON CONFLICT DO NOTHING";

enum tend_err pg_events_flush(struct pg_store *s) {
    struct pg_staged *st = s->staged;
    if (!st || s->flushing)
        return TEND_OK;
    close_row(st);
    if (!st->rows && !st->logins.rows)
        return TEND_OK;
    s->flushing = true;
    bool own_tx = !s->in_tx; /* an event put outside a transaction */
    enum tend_err err = own_tx ? pg_exec(s, "BEGIN", "starting a transaction") : TEND_OK;
    if (!err && st->logins.rows)
        err = pg_batch_write_later(s, &st->logins, q_login_days_add, "recording login days");
    if (!err && st->rows)
        err = flush_rows(s);
    if (own_tx && !err)
        err = pg_exec(s, "COMMIT", "committing events");
    else if (own_tx)
        PQclear(PQexec(s->conn, "ROLLBACK"));
    s->flushing = false;
    rows_clear(st);
    if (err) {
        keys_forget(st); /* what was staged is not stored */
        if (own_tx)
            st->table_ready = false;
    }
    return err;
}

/* The tables a flush writes or reads, and the functions that move events
 * between partitions: a statement that names none of those the staged rows
 * change neither sees nor changes what they will, so it may run before
 * them. (A group call's look-up of an account's quarantine, say, while no
 * staged event is quarantined: it cut the rows of an import into a flush
 * per new account.) */
static const struct {
    const char *name;
    unsigned bit;
} flush_tables[] = {
    {"events", FT_EVENTS},         {"event_keys", FT_EVENTS},    {"tend_event", FT_EVENTS},
    {"quarantine", FT_QUARANTINE}, {"activity_stale", FT_STALE}, {"activity_counted", FT_STALE},
    {"product_days", FT_PRODUCT},  {"facts", FT_FACTS},          {"login_days", FT_LOGINS},
};

static unsigned names_flushed_tables(const char *sql) {
    unsigned names = 0;
    for (size_t i = 0; i < sizeof flush_tables / sizeof flush_tables[0]; i++)
        if (strcasestr(sql, flush_tables[i].name))
            names |= flush_tables[i].bit;
    return names;
}

enum tend_err pg_events_flush_before(struct pg_store *s, const char *sql) {
    struct pg_staged *st = s->staged;
    if (!st || s->flushing)
        return TEND_OK;
    if (sql) {
        size_t i = ((uintptr_t)sql >> 3) & (PG_NEEDS_SLOTS - 1);
        if (st->needs[i].sql != sql) {
            st->needs[i].sql = sql;
            st->needs[i].names = names_flushed_tables(sql);
        }
        if (!(st->needs[i].names & st->writes))
            return TEND_OK;
    }
    return pg_events_flush(s);
}

void pg_events_discard(struct pg_store *s) {
    struct pg_staged *st = s->staged;
    if (!st)
        return;
    rows_clear(st);
    keys_forget(st);
    /* The staging table may have been made in the transaction rolled back. */
    st->table_ready = false;
}

enum tend_err pg_events_login_day(struct pg_store *s, int64_t account_id, int32_t day) {
    struct pg_staged *st = staged_of(s);
    pg_batch_i64(&st->logins, 0, account_id);
    pg_batch_i64(&st->logins, 1, day);
    pg_batch_row_end(&st->logins);
    st->writes |= FT_LOGINS;
    return st->logins.rows >= PG_BATCH_ROWS ? pg_events_flush(s) : TEND_OK;
}

void pg_events_free(struct pg_store *s) {
    struct pg_staged *st = s->staged;
    if (!st)
        return;
    facts_clear(st);
    pg_batch_free(&st->logins);
    free(st->facts);
    free(st->buf);
    free(st->keys);
    free(st->state);
    free(st);
    s->staged = NULL;
}

/* ---- events --------------------------------------------------------------- */

enum tend_err pg_event_put(struct store *base, const struct store_event *ev, bool *inserted) {
    struct pg_store *s = pg_of(base);
    bool present;
    enum tend_err err = key_known(s, ev->key_ts_ms, ev->key_hash, &present);
    if (err)
        return err;
    *inserted = !present;
    if (present)
        return TEND_OK;
    if (ev->kind == EV_USER_REMOVED)
        pg_ingest_user_named(s, ev->user_id); /* a removal of the user is stored now */
    struct pg_staged *st = s->staged;
    close_row(st);
    key_set(st, ev->key_ts_ms, ev->key_hash, KEY_PRESENT);
    put_i64(st, true, ev->key_ts_ms);
    put_i64(st, false, (int64_t)ev->key_hash);
    put_i64(st, false, ev->ts_ms);
    put_i64(st, false, ev->kind);
    put_i64(st, false, ev->account_id); /* 0: none, as events.account_id says */
    put_id(st, ev->user_id);
    put_id(st, ev->name_id);
    put_text(st, ev->subject);
    put_text(st, ev->detail);
    if (ev->has_num) {
        char num[40];
        struct pg_params p = {0};
        pg_p_f64(&p, ev->num); /* every bit, and PostgreSQL's spelling */
        int n = snprintf(num, sizeof num, "\t%s", p.v[0]);
        put_raw(st, num, (size_t)n);
    } else {
        put_null(st);
    }
    if (ev->has_day)
        put_i64(st, false, ev->day);
    else
        put_null(st);
    put_text(st, ev->props);
    /* What SQLite's event_put derives (sqlite_events.c): the stale day, the
     * product_days row, a fact's lifetime, a goal's day. */
    bool account = ev->account_id != 0;
    if (account && (ev->kind == EV_LOGIN || ev->kind == EV_FEATURE))
        put_i64(st, false, (int32_t)(ev->ts_ms / DT_MS_PER_DAY));
    else
        put_null(st);
    if (account && ev->kind == EV_FEATURE && ev->subject)
        put_i64(st, false, dt_day_of_ms(ev->ts_ms));
    else
        put_null(st);
    int64_t until;
    bool fact = account && pg_fact_is(ev->kind);
    if (fact && pg_fact_until_alone(ev, &until))
        put_i64(st, false, until);
    else
        put_null(st);
    if (fact && ev->kind == EV_GOAL_SET)
        put_i64(st, false, (int32_t)(ev->ts_ms / DT_MS_PER_DAY));
    else
        put_null(st);
    if (fact && !pg_fact_until_alone(ev, &until))
        keep_fact(st, ev);
    st->writes |= FT_EVENTS |
                  (account && (ev->kind == EV_LOGIN || ev->kind == EV_FEATURE) ? FT_STALE : 0u) |
                  (account && ev->kind == EV_FEATURE && ev->subject ? FT_PRODUCT : 0u) |
                  (fact ? FT_FACTS : 0u) | (fact && ev->kind == EV_GOAL_SET ? FT_STALE : 0u);
    st->open = true;
    st->open_ts = ev->key_ts_ms;
    st->open_hash = ev->key_hash;
    st->rows++;
    if (!s->in_tx || st->rows >= PG_STAGE_ROWS || st->len >= PG_STAGE_BYTES)
        return pg_events_flush(s);
    return TEND_OK;
}

/* ---- the quarantine ------------------------------------------------------- */

static const char q_quarantine_insert[] =
    "INSERT INTO quarantine (key_ts_ms, key_hash, ts_ms, kind, user_id, "
    "account_external_id, reason, since_ms) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING";
static const char q_quarantine_by_account[] =
    "SELECT key_ts_ms, key_hash, ts_ms, kind, user_id FROM quarantine "
    "WHERE account_external_id = $1 ORDER BY ts_ms, key_ts_ms, key_hash";
static const char q_quarantine_by_user[] =
    "SELECT key_ts_ms, key_hash, ts_ms, kind, user_id FROM quarantine "
    "WHERE user_id = $1 AND account_external_id IS NULL ORDER BY ts_ms, key_ts_ms, key_hash";
/* A quarantined event has no account (0) and keeps its time: its row is
 * found by the key of events (account, time, key) and its month. */
static const char q_event_attach[] =
    "UPDATE events SET account_id = $1 "
    "WHERE account_id = 0 AND ts_ms = $2 AND key_ts_ms = $3 AND key_hash = $4 "
    "RETURNING user_id, subject, detail, num, day, props";
static const char q_quarantine_delete[] =
    "DELETE FROM quarantine WHERE key_ts_ms = $1 AND key_hash = $2";
/* DO UPDATE, not DO NOTHING, in every stale mark: a refresh on another node
 * claims its days by deleting their rows (pg_activity.c, FOR UPDATE SKIP
 * LOCKED); DO NOTHING would see the row it is deleting and skip the mark,
 * and the event would miss the rebuilt day. DO UPDATE waits for that
 * delete and then inserts the mark again. */
static const char q_stale_mark[] = "INSERT INTO activity_stale (day) VALUES ($1) "
                                   "ON CONFLICT (day) DO UPDATE SET day = excluded.day";
static const char q_product_day[] =
    "INSERT INTO product_days (account_id, product, day) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING";
static const char q_quarantine_reasons[] =
    "SELECT reason, count(*) AS n FROM quarantine GROUP BY reason "
    "ORDER BY n DESC, reason COLLATE \"C\"";

enum tend_err pg_quarantine_put(struct store *base, const struct store_event *ev,
                                const char *account_external_id, const char *reason) {
    struct pg_store *s = pg_of(base);
    struct pg_staged *st = s->staged;
    pg_ingest_user_named(s, ev->user_id); /* its quarantine is not empty now */
    if (st && st->open && st->open_ts == ev->key_ts_ms && st->open_hash == ev->key_hash) {
        /* The event just staged: its row takes the quarantine's columns. */
        put_text(st, account_external_id);
        put_text(st, reason);
        st->writes |= FT_QUARANTINE;
        put_i64(st, false, dt_now_ms());
        put_raw(st, "\n", 1);
        st->open = false;
        return TEND_OK;
    }
    struct pg_params p = {0};
    pg_p_i64(&p, ev->key_ts_ms);
    pg_p_i64(&p, (int64_t)ev->key_hash);
    pg_p_i64(&p, ev->ts_ms);
    pg_p_int(&p, ev->kind);
    pg_p_id(&p, ev->user_id);
    pg_p_text(&p, account_external_id);
    pg_p_text(&p, reason);
    pg_p_i64(&p, dt_now_ms());
    return pg_run_later(s, q_quarantine_insert, &p, "quarantining an event");
}

static enum tend_err read_pending(struct pg_store *s, const char *sql, struct pg_params *p,
                                  struct store_pending **out, size_t *n) {
    PGresult *r;
    enum tend_err err = pg_query(s, sql, p, "reading the quarantine", &r);
    if (err)
        return err;
    size_t len = (size_t)PQntuples(r);
    struct store_pending *v = len ? xmalloc(len * sizeof *v) : NULL;
    for (size_t i = 0; i < len; i++) {
        v[i].key_ts_ms = pg_i64(r, (int)i, 0);
        v[i].key_hash = (uint64_t)pg_i64(r, (int)i, 1);
        v[i].ts_ms = pg_i64(r, (int)i, 2);
        v[i].kind = (int)pg_i64(r, (int)i, 3);
        v[i].user_id = pg_i64(r, (int)i, 4);
    }
    PQclear(r);
    *out = v;
    *n = len;
    return TEND_OK;
}

enum tend_err pg_quarantine_by_account(struct store *base, const char *external_id,
                                       struct store_pending **out, size_t *n) {
    struct pg_params p = {0};
    pg_p_text(&p, external_id);
    return read_pending(pg_of(base), q_quarantine_by_account, &p, out, n);
}

enum tend_err pg_quarantine_by_user(struct store *base, int64_t user_id, struct store_pending **out,
                                    size_t *n) {
    if (pg_ingest_user_fresh(pg_of(base), user_id)) {
        /* Inserted by this transaction, quarantined nothing (pg_ingest.c). */
        *out = NULL;
        *n = 0;
        return TEND_OK;
    }
    struct pg_params p = {0};
    pg_p_i64(&p, user_id);
    return read_pending(pg_of(base), q_quarantine_by_user, &p, out, n);
}

/* What attaching derives, as SQLite's quarantine_attach: the day marked
 * stale, the product's day and the fact, from the attached row (r, NULL
 * when no row was attached). */
static enum tend_err attach_derived(struct pg_store *s, const struct store_pending *p,
                                    int64_t account_id, const PGresult *r) {
    enum tend_err err = TEND_OK;
    if (p->kind == EV_LOGIN || p->kind == EV_FEATURE) {
        struct pg_params d = {0};
        pg_p_int(&d, (int32_t)(p->ts_ms / DT_MS_PER_DAY));
        err = pg_run_later(s, q_stale_mark, &d, "marking a day's activity rollups stale");
    }
    if (!r || PQntuples(r) == 0)
        return err;
    if (!err && p->kind == EV_FEATURE && !pg_null(r, 0, 1)) {
        struct pg_params d = {0};
        pg_p_i64(&d, account_id);
        pg_p_text(&d, pg_text(r, 0, 1));
        pg_p_int(&d, (int32_t)(p->ts_ms / DT_MS_PER_DAY)); /* as SQLite's attach */
        err = pg_run_later(s, q_product_day, &d, "recording an attached event's product");
    }
    if (!err && pg_fact_is(p->kind)) {
        struct store_event ev = {
            .key_ts_ms = p->key_ts_ms,
            .key_hash = p->key_hash,
            .ts_ms = p->ts_ms,
            .kind = p->kind,
            .account_id = account_id,
            .user_id = pg_i64(r, 0, 0),
            .subject = pg_text(r, 0, 1),
            .detail = pg_text(r, 0, 2),
            .has_num = !pg_null(r, 0, 3),
            .num = pg_f64(r, 0, 3),
            .has_day = !pg_null(r, 0, 4),
            .day = (int32_t)pg_i64(r, 0, 4),
            .props = pg_text(r, 0, 5),
        };
        err = pg_fact_put(s, &ev);
    }
    return err;
}

enum tend_err pg_quarantine_attach(struct store *base, const struct store_pending *p,
                                   int64_t account_id) {
    struct pg_store *s = pg_of(base);
    struct pg_params a = {0};
    pg_p_i64(&a, account_id);
    pg_p_i64(&a, p->ts_ms);
    pg_p_i64(&a, p->key_ts_ms);
    pg_p_i64(&a, (int64_t)p->key_hash);
    PGresult *r;
    enum tend_err err = pg_query(s, q_event_attach, &a, "attaching an event", &r);
    if (err)
        return err;
    err = attach_derived(s, p, account_id, r);
    PQclear(r);
    if (err)
        return err;
    struct pg_params d = {0};
    pg_p_i64(&d, p->key_ts_ms);
    pg_p_i64(&d, (int64_t)p->key_hash);
    return pg_run_later(s, q_quarantine_delete, &d, "leaving the quarantine");
}

enum tend_err pg_quarantine_reasons(struct store *base,
                                    void (*fn)(void *arg, const char *reason, int64_t n),
                                    void *arg) {
    struct pg_store *s = pg_of(base);
    PGresult *r;
    enum tend_err err = pg_query(s, q_quarantine_reasons, NULL, "reading the quarantine", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_i64(r, i, 1));
    PQclear(r);
    return TEND_OK;
}
