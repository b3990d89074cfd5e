/* pg_held.c: the PostgreSQL statements of the held tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_cta_held_put(struct store *s, const struct store_cta_held *h, bool *is_new) {
    (void)h;
    (void)is_new;
    return pg_unbuilt(s, "cta_held_put");
}

enum tend_err pg_ctas_held_each(struct store *s, int32_t week, const char *owner,
                                int (*fn)(void *arg, const struct store_cta_held *h), void *arg) {
    (void)week;
    (void)owner;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "ctas_held_each");
}

enum tend_err pg_ctas_held_count(struct store *s, int32_t week, const char *owner, int64_t *n) {
    (void)week;
    (void)owner;
    (void)n;
    return pg_unbuilt(s, "ctas_held_count");
}

enum tend_err pg_ctas_opened_by_owner(struct store *s, int32_t from, int32_t to,
                                      void (*fn)(void *arg, const char *owner, int64_t n),
                                      void *arg) {
    (void)from;
    (void)to;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "ctas_opened_by_owner");
}
