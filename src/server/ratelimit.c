/* ratelimit.c: token buckets per client address (see ratelimit.h). */
#include "server/ratelimit.h"

#include <glib.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

struct bucket {
    unsigned char key[RATELIMIT_KEY_BYTES]; /* first: the hash table's key */
    double tokens;
    int64_t last_ms;
};

struct ratelimit {
    double cap, per_ms; /* per key; cap 0: no per-key limit */
    size_t max_keys;
    GHashTable *buckets; /* struct bucket *, keyed by itself */
    struct bucket global;
    double global_cap, global_per_ms; /* 0: no overall limit */
};

static guint key_hash(gconstpointer p) {
    const unsigned char *k = p;
    guint h = 2166136261u; /* FNV-1a: the keys are addresses, not chosen to collide here */
    for (size_t i = 0; i < RATELIMIT_KEY_BYTES; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

static gboolean key_equal(gconstpointer a, gconstpointer b) {
    return memcmp(a, b, RATELIMIT_KEY_BYTES) == 0;
}

struct ratelimit *ratelimit_new(int per_minute, size_t max_keys, int global_per_second) {
    struct ratelimit *r = xcalloc(1, sizeof *r);
    r->cap = per_minute > 0 ? per_minute : 0;
    r->per_ms = r->cap / 60000.0;
    r->max_keys = max_keys ? max_keys : 1;
    r->buckets = g_hash_table_new_full(key_hash, key_equal, NULL, free);
    r->global_cap = global_per_second > 0 ? global_per_second : 0;
    r->global_per_ms = r->global_cap / 1000.0;
    r->global.tokens = r->global_cap;
    r->global.last_ms = INT64_MIN;
    return r;
}

void ratelimit_free(struct ratelimit *r) {
    if (!r)
        return;
    g_hash_table_destroy(r->buckets);
    free(r);
}

size_t ratelimit_keys(const struct ratelimit *r) {
    return g_hash_table_size(r->buckets);
}

void ratelimit_key(const struct sockaddr *sa, unsigned char key[RATELIMIT_KEY_BYTES]) {
    memset(key, 0, RATELIMIT_KEY_BYTES);
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        key[0] = 4;
        memcpy(key + 1, &in->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const unsigned char *b = in6->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            key[0] = 4;
            memcpy(key + 1, b + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, b, 8); /* the /64 */
        }
    }
}

/* b's tokens at now_ms, refilled at per_ms up to cap. */
static double refilled(const struct bucket *b, double cap, double per_ms, int64_t now_ms) {
    if (b->last_ms == INT64_MIN || now_ms <= b->last_ms)
        return b->last_ms == INT64_MIN ? cap : b->tokens;
    double t = b->tokens + (double)(now_ms - b->last_ms) * per_ms;
    return t < cap ? t : cap;
}

/* Milliseconds until a bucket holding tokens has one again. */
static int64_t wait_ms(double tokens, double per_ms) {
    double ms = ceil((1.0 - tokens) / per_ms);
    return ms < 1 ? 1 : (int64_t)ms;
}

struct sweep {
    const struct ratelimit *r;
    int64_t now_ms;
};

static gboolean is_full(gpointer k, gpointer v, gpointer arg) {
    const struct sweep *w = arg;
    return refilled(v, w->r->cap, w->r->per_ms, w->now_ms) >= w->r->cap;
}

/* Makes room for one more key: drops the buckets that have refilled, else
 * the fullest one. */
static void make_room(struct ratelimit *r, int64_t now_ms) {
    struct sweep w = {r, now_ms};
    g_hash_table_foreach_remove(r->buckets, is_full, &w);
    if (g_hash_table_size(r->buckets) < r->max_keys)
        return;
    GHashTableIter it;
    gpointer k, v;
    struct bucket *fullest = NULL;
    double most = -1;
    g_hash_table_iter_init(&it, r->buckets);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        double t = refilled(v, r->cap, r->per_ms, now_ms);
        if (t > most) {
            most = t;
            fullest = v;
        }
    }
    if (fullest)
        g_hash_table_remove(r->buckets, fullest->key);
}

bool ratelimit_take(struct ratelimit *r, const unsigned char key[RATELIMIT_KEY_BYTES],
                    int64_t now_ms, int64_t *retry_ms) {
    double global =
        r->global_cap ? refilled(&r->global, r->global_cap, r->global_per_ms, now_ms) : 1.0;
    struct bucket *b = NULL;
    double mine = 1.0;
    if (r->cap) {
        b = g_hash_table_lookup(r->buckets, key);
        mine = b ? refilled(b, r->cap, r->per_ms, now_ms) : r->cap;
    }
    if (mine < 1.0 || global < 1.0) {
        int64_t w = 0;
        if (mine < 1.0)
            w = wait_ms(mine, r->per_ms);
        if (global < 1.0 && wait_ms(global, r->global_per_ms) > w)
            w = wait_ms(global, r->global_per_ms);
        if (retry_ms)
            *retry_ms = w;
        return false;
    }
    if (r->cap) {
        if (!b) {
            if (g_hash_table_size(r->buckets) >= r->max_keys)
                make_room(r, now_ms);
            b = xcalloc(1, sizeof *b);
            memcpy(b->key, key, RATELIMIT_KEY_BYTES);
            g_hash_table_add(r->buckets, b);
        }
        b->tokens = mine - 1.0;
        b->last_ms = now_ms;
    }
    if (r->global_cap) {
        r->global.tokens = global - 1.0;
        r->global.last_ms = now_ms;
    }
    return true;
}

void ratelimit_give_back(struct ratelimit *r, const unsigned char key[RATELIMIT_KEY_BYTES]) {
    if (r->global_cap && r->global.tokens + 1.0 <= r->global_cap)
        r->global.tokens += 1.0;
    struct bucket *b = r->cap ? g_hash_table_lookup(r->buckets, key) : NULL;
    if (b && b->tokens + 1.0 <= r->cap)
        b->tokens += 1.0;
}
