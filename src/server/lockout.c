/* lockout.c: failed sign-ins per email (see lockout.h). */
#include "server/lockout.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

#define SWEEP_EVERY_MS (60 * 1000)

struct failures {
    unsigned char digest[LOCKOUT_DIGEST_BYTES]; /* first: the hash table's key */
    int count;                                  /* 0: none */
    int64_t first_ms;
};

struct lockout {
    struct failures *users; /* one per configured user */
    size_t n_users;
    GHashTable *unknown; /* struct failures *, keyed by its digest */
    size_t max_unknown;
    int64_t swept_ms;
};

static guint digest_hash(gconstpointer p) {
    guint h;
    memcpy(&h, p, sizeof h); /* a keyed digest: its bytes are already uniform */
    return h;
}

static gboolean digest_equal(gconstpointer a, gconstpointer b) {
    return memcmp(a, b, LOCKOUT_DIGEST_BYTES) == 0;
}

struct lockout *lockout_new(size_t n_users, size_t max_unknown) {
    struct lockout *l = xcalloc(1, sizeof *l);
    l->users = xcalloc(n_users ? n_users : 1, sizeof *l->users);
    l->n_users = n_users;
    l->unknown = g_hash_table_new_full(digest_hash, digest_equal, NULL, free);
    l->max_unknown = max_unknown ? max_unknown : 1;
    l->swept_ms = INT64_MIN;
    return l;
}

void lockout_free(struct lockout *l) {
    if (!l)
        return;
    g_hash_table_destroy(l->unknown);
    free(l->users);
    free(l);
}

size_t lockout_unknown_count(const struct lockout *l) {
    return g_hash_table_size(l->unknown);
}

static bool expired(const struct failures *f, int64_t now_ms) {
    return f->count == 0 || now_ms - f->first_ms >= LOCKOUT_MS;
}

static gboolean sweep_one(gpointer k, gpointer v, gpointer now) {
    return expired(v, *(const int64_t *)now);
}

/* Drops the expired unknown entries, at most once a minute unless forced. */
static void sweep(struct lockout *l, int64_t now_ms, bool force) {
    if (!force && l->swept_ms != INT64_MIN && now_ms - l->swept_ms < SWEEP_EVERY_MS)
        return;
    l->swept_ms = now_ms;
    g_hash_table_foreach_remove(l->unknown, sweep_one, &now_ms);
}

/* The failures of k, or NULL for an unknown email without any (or a user
 * index out of range). */
static struct failures *find(struct lockout *l, const struct lockout_key *k) {
    if (k->user >= 0)
        return (size_t)k->user < l->n_users ? &l->users[k->user] : NULL;
    return g_hash_table_lookup(l->unknown, k->digest);
}

bool lockout_locked(struct lockout *l, const struct lockout_key *k, int64_t now_ms,
                    int64_t *until_ms) {
    const struct failures *f = find(l, k);
    if (!f || expired(f, now_ms) || f->count < LOCKOUT_MAX_FAILURES)
        return false;
    if (until_ms)
        *until_ms = f->first_ms + LOCKOUT_MS;
    return true;
}

/* Makes room for one more unknown email in a full table: the expired
 * entries, else the oldest unlocked one, else the oldest. */
static void make_room(struct lockout *l, int64_t now_ms) {
    sweep(l, now_ms, true);
    if (g_hash_table_size(l->unknown) < l->max_unknown)
        return;
    GHashTableIter it;
    gpointer k, v;
    struct failures *oldest = NULL, *oldest_unlocked = NULL;
    g_hash_table_iter_init(&it, l->unknown);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        struct failures *f = v;
        if (!oldest || f->first_ms < oldest->first_ms)
            oldest = f;
        if (f->count < LOCKOUT_MAX_FAILURES &&
            (!oldest_unlocked || f->first_ms < oldest_unlocked->first_ms))
            oldest_unlocked = f;
    }
    struct failures *victim = oldest_unlocked ? oldest_unlocked : oldest;
    if (victim)
        g_hash_table_remove(l->unknown, victim->digest);
}

void lockout_fail(struct lockout *l, const struct lockout_key *k, int64_t now_ms) {
    if (k->user < 0)
        sweep(l, now_ms, false);
    struct failures *f = find(l, k);
    if (!f && k->user >= 0)
        return;
    if (!f) {
        if (g_hash_table_size(l->unknown) >= l->max_unknown)
            make_room(l, now_ms);
        f = xcalloc(1, sizeof *f);
        memcpy(f->digest, k->digest, sizeof f->digest);
        g_hash_table_add(l->unknown, f);
    }
    if (expired(f, now_ms)) {
        f->count = 0;
        f->first_ms = now_ms;
    }
    f->count++;
}

void lockout_clear(struct lockout *l, const struct lockout_key *k) {
    if (k->user >= 0) {
        struct failures *f = find(l, k);
        if (f)
            f->count = 0;
    } else {
        g_hash_table_remove(l->unknown, k->digest);
    }
}
