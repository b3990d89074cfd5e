/* pg_ingest.c: what one transaction of the PostgreSQL backend knows of the
 * rows it wrote itself, so that ingest's reads of them need no round trip
 * (pg_int.h, pg_ingest_*).
 *
 * Each identify or group call reads the entity's traits, merges the call's
 * keys and reads them all back to write the merged object, and, when it
 * starts a membership, asks for a later removal of the user and for the
 * user's quarantined events (ingest.c). On SQLite these are function calls;
 * here each was a round trip. Two things make most of them unnecessary, and
 * both hold only inside one transaction, so everything here is forgotten at
 * commit and rollback (pg_ingest_forget):
 *
 * - Traits of a locked owner. The first read of an entity's traits in a
 *   transaction first locks its row (accounts or users, FOR NO KEY UPDATE,
 *   queued in the same pipeline as the read: one round trip); the rows read
 *   are kept, and each later trait_merge of the entity updates the copy with
 *   the statement's own rule (a value replaces one of an earlier or equal
 *   time) besides queueing the upsert. Every writer of an entity's traits
 *   takes that lock first (pg_accounts.c's header), so until our commit no
 *   other node changes them, and the copy is exactly what a read would
 *   return. A merge of an entity not locked yet runs at once (it takes the
 *   lock: store.h's contract), and its traits are read at the next
 *   traits_each.
 *
 * - Users created here. A user that user_ensure inserted in this
 *   transaction is invisible to every other connection until we commit, so
 *   its only traits, memberships, facts and quarantined events are the ones
 *   this transaction wrote. Its traits start kept and empty (no lock needed:
 *   no other connection can name the row); until this transaction starts a
 *   membership of it, membership_start finds none open without a
 *   statement; until one of our events names it (a removal, a quarantined
 *   event), removal_after and quarantine_by_user answer "none" without a
 *   statement.
 *
 * Bounded: past PG_INGEST_MAX_ENTITIES entities (or users) in one
 * transaction the copies are dropped and rebuilt as needed: a read then costs
 * its round trip again, and a lock taken again is one already held. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_batch.h"
#include "store/pg_int.h"
#include "util/mem.h"

#define PG_INGEST_MAX_ENTITIES 100000

/* What a user inserted here has had since (the value in fresh, plus 1 so
 * that it is never NULL). */
enum { FRESH_NEW = 1, FRESH_JOINED = 2 };

struct trait {
    char *key, *value;
    int64_t ts_ms;
    bool dirty; /* merged here, not written yet */
};

/* An entity whose row this transaction locked; its traits when read. */
struct owner {
    int64_t ekey; /* id * 2 + (entity == STORE_USER): the table's key */
    bool filled;  /* traits below are every stored one */
    bool listed;  /* in pg_ingest.dirty */
    struct trait *v;
    size_t n, cap; /* sorted by key, byte order (as COLLATE "C") */
};

/* Slots of the memo of which statements need the merged traits written. */
#define PG_INGEST_NEEDS_SLOTS 64
/* Most merged traits that wait to be written. */
#define PG_INGEST_MAX_DIRTY 20000

struct pg_ingest {
    GHashTable *owners;   /* &owner->ekey -> struct owner */
    struct owner **dirty; /* owners with traits merged, not written */
    size_t n_dirty, cap_dirty, dirty_traits;
    struct {
        const char *sql;
        bool needs;
    } needs[PG_INGEST_NEEDS_SLOTS];
    GHashTable *fresh; /* users inserted here: id (int64, owned) -> FRESH_* */
};

static int64_t ekey_of(enum store_entity entity, int64_t id) {
    return id * 2 + (entity == STORE_USER);
}

static void owner_free(void *p) {
    struct owner *o = p;
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].key);
        free(o->v[i].value);
    }
    free(o->v);
    free(o);
}

static struct pg_ingest *ingest_of(struct pg_store *s) {
    if (!s->ingest) {
        s->ingest = xcalloc(1, sizeof *s->ingest);
        s->ingest->owners = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, owner_free);
        s->ingest->fresh = g_hash_table_new_full(g_int64_hash, g_int64_equal, free, NULL);
        /* the values are FRESH_* flags, not pointers */
    }
    return s->ingest;
}

void pg_ingest_forget(struct pg_store *s) {
    if (!s->ingest)
        return;
    s->ingest->n_dirty = 0;
    s->ingest->dirty_traits = 0;
    g_hash_table_remove_all(s->ingest->owners);
    g_hash_table_remove_all(s->ingest->fresh);
}

void pg_ingest_free(struct pg_store *s) {
    if (!s->ingest)
        return;
    g_hash_table_destroy(s->ingest->owners);
    g_hash_table_destroy(s->ingest->fresh);
    free(s->ingest->dirty);
    free(s->ingest);
    s->ingest = NULL;
}

static struct owner *owner_get(struct pg_store *s, enum store_entity entity, int64_t id) {
    if (!s->ingest)
        return NULL;
    int64_t k = ekey_of(entity, id);
    return g_hash_table_lookup(s->ingest->owners, &k);
}

bool pg_ingest_locked(struct pg_store *s, enum store_entity entity, int64_t id) {
    return owner_get(s, entity, id) != NULL;
}

void pg_ingest_lock_taken(struct pg_store *s, enum store_entity entity, int64_t id) {
    if (!s->in_tx || owner_get(s, entity, id))
        return;
    struct pg_ingest *g = ingest_of(s);
    if (g_hash_table_size(g->owners) >= PG_INGEST_MAX_ENTITIES)
        return; /* not kept: its reads and merges go to the server */
    struct owner *o = xcalloc(1, sizeof *o);
    o->ekey = ekey_of(entity, id);
    g_hash_table_insert(g->owners, &o->ekey, o);
}

/* The index of key in o (or where it goes), *found telling which. */
static size_t find_key(const struct owner *o, const char *key, bool *found) {
    size_t lo = 0, hi = o->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(o->v[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Sets key to value at ts_ms under the merge's rule (a later or equal time
 * replaces). */
static struct trait *owner_put(struct owner *o, const char *key, const char *value, int64_t ts_ms) {
    bool found;
    size_t i = find_key(o, key, &found);
    if (found) {
        if (ts_ms < o->v[i].ts_ms)
            return NULL;
        free(o->v[i].value);
        o->v[i].value = xstrdup(value);
        o->v[i].ts_ms = ts_ms;
        return &o->v[i];
    }
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->v = xrealloc(o->v, o->cap * sizeof *o->v);
    }
    memmove(o->v + i + 1, o->v + i, (o->n - i) * sizeof *o->v);
    o->v[i] = (struct trait){.key = xstrdup(key), .value = xstrdup(value), .ts_ms = ts_ms};
    o->n++;
    return &o->v[i];
}

void pg_ingest_traits_filled(struct pg_store *s, enum store_entity entity, int64_t id) {
    struct owner *o = owner_get(s, entity, id);
    if (o)
        o->filled = true;
}

void pg_ingest_trait_read(struct pg_store *s, enum store_entity entity, int64_t id, const char *key,
                          const char *value_json, int64_t ts_ms) {
    struct owner *o = owner_get(s, entity, id);
    if (o && !o->filled)
        owner_put(o, key, value_json, ts_ms);
}

bool pg_ingest_trait_merged(struct pg_store *s, enum store_entity entity, int64_t id,
                            const char *key, const char *value_json, int64_t ts_ms) {
    struct owner *o = owner_get(s, entity, id);
    if (!o || !o->filled)
        return false;
    struct trait *t = owner_put(o, key, value_json, ts_ms);
    if (!t || t->dirty)
        return true; /* an earlier time than what is kept, or already to write */
    t->dirty = true;
    struct pg_ingest *g = s->ingest;
    g->dirty_traits++;
    if (!o->listed) {
        if (g->n_dirty == g->cap_dirty) {
            g->cap_dirty = g->cap_dirty ? g->cap_dirty * 2 : 256;
            g->dirty = xrealloc(g->dirty, g->cap_dirty * sizeof *g->dirty);
        }
        g->dirty[g->n_dirty++] = o;
        o->listed = true;
    }
    return true;
}

/* The merged traits, as SQLite's and q_*_trait_merge's rule: a value of an
 * earlier time than the stored one does not replace it. */
static const char q_user_traits_write[] =
    "INSERT INTO user_traits (user_id, key, value, ts_ms) "
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::jsonb[], $4::bigint[]) "
    "ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, ts_ms = excluded.ts_ms "
    "WHERE excluded.ts_ms >= user_traits.ts_ms";
static const char q_account_traits_write[] =
    "INSERT INTO account_traits (account_id, key, value, ts_ms) "
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::jsonb[], $4::bigint[]) "
    "ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value, "
    "ts_ms = excluded.ts_ms WHERE excluded.ts_ms >= account_traits.ts_ms";

enum tend_err pg_ingest_flush(struct pg_store *s) {
    struct pg_ingest *g = s->ingest;
    if (!g || !g->n_dirty || s->ingest_flushing)
        return TEND_OK;
    s->ingest_flushing = true;
    struct pg_batch b[2];
    memset(b, 0, sizeof b);
    static const char *const sql[2] = {q_account_traits_write, q_user_traits_write};
    enum tend_err err = TEND_OK;
    for (size_t i = 0; i < g->n_dirty; i++) {
        struct owner *o = g->dirty[i];
        int e = (int)(o->ekey & 1);
        for (size_t j = 0; j < o->n; j++) {
            struct trait *t = &o->v[j];
            if (!t->dirty)
                continue;
            t->dirty = false;
            if (err)
                continue;
            pg_batch_i64(&b[e], 0, o->ekey >> 1);
            pg_batch_text(&b[e], 1, t->key);
            pg_batch_text(&b[e], 2, t->value);
            pg_batch_i64(&b[e], 3, t->ts_ms);
            pg_batch_row_end(&b[e]);
            if (b[e].rows >= PG_BATCH_ROWS)
                err = pg_batch_write_later(s, &b[e], sql[e], "merging traits");
        }
        o->listed = false;
    }
    for (int e = 0; e < 2; e++) {
        if (!err)
            err = pg_batch_write_later(s, &b[e], sql[e], "merging traits");
        pg_batch_free(&b[e]);
    }
    g->n_dirty = 0;
    g->dirty_traits = 0;
    s->ingest_flushing = false;
    return err;
}

enum tend_err pg_ingest_flush_if_full(struct pg_store *s) {
    if (s->ingest && s->ingest->dirty_traits >= PG_INGEST_MAX_DIRTY)
        return pg_ingest_flush(s);
    return TEND_OK;
}

enum tend_err pg_ingest_flush_before(struct pg_store *s, const char *sql) {
    struct pg_ingest *g = s->ingest;
    if (!g || !g->n_dirty || s->ingest_flushing || s->ingest_own)
        return TEND_OK;
    if (sql) {
        size_t i = ((uintptr_t)sql >> 3) & (PG_INGEST_NEEDS_SLOTS - 1);
        if (g->needs[i].sql != sql) {
            g->needs[i].sql = sql;
            g->needs[i].needs = strcasestr(sql, "_traits") != NULL;
        }
        if (!g->needs[i].needs)
            return TEND_OK;
    }
    return pg_ingest_flush(s);
}

bool pg_ingest_traits_each(struct pg_store *s, enum store_entity entity, int64_t id,
                           void (*fn)(void *arg, const char *key, const char *value_json),
                           void *arg) {
    struct owner *o = owner_get(s, entity, id);
    if (!o || !o->filled)
        return false;
    for (size_t i = 0; i < o->n; i++)
        fn(arg, o->v[i].key, o->v[i].value);
    return true;
}

void pg_ingest_user_created(struct pg_store *s, int64_t user_id) {
    if (!s->in_tx)
        return;
    struct pg_ingest *g = ingest_of(s);
    if (g_hash_table_size(g->fresh) >= PG_INGEST_MAX_ENTITIES)
        return; /* not known: its look-ups go to the server */
    int64_t *k = xmalloc(sizeof *k);
    *k = user_id;
    g_hash_table_insert(g->fresh, k, GINT_TO_POINTER(FRESH_NEW));
    /* No traits yet, and nobody else can add one. */
    pg_ingest_lock_taken(s, STORE_USER, user_id);
    pg_ingest_traits_filled(s, STORE_USER, user_id);
}

static int fresh_flags(struct pg_store *s, int64_t user_id) {
    if (!s->in_tx || !s->ingest)
        return 0;
    return GPOINTER_TO_INT(g_hash_table_lookup(s->ingest->fresh, &user_id));
}

bool pg_ingest_user_fresh(struct pg_store *s, int64_t user_id) {
    return fresh_flags(s, user_id) != 0;
}

bool pg_ingest_user_unjoined(struct pg_store *s, int64_t user_id) {
    int f = fresh_flags(s, user_id);
    return f && !(f & FRESH_JOINED);
}

void pg_ingest_user_joined(struct pg_store *s, int64_t user_id) {
    int f = fresh_flags(s, user_id);
    if (f) {
        int64_t *k = xmalloc(sizeof *k);
        *k = user_id;
        g_hash_table_insert(s->ingest->fresh, k, GINT_TO_POINTER(f | FRESH_JOINED));
    }
}

void pg_ingest_user_named(struct pg_store *s, int64_t user_id) {
    if (s->ingest && user_id)
        g_hash_table_remove(s->ingest->fresh, &user_id);
}
