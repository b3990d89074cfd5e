/* pg_facts.c: the PostgreSQL statements of the facts tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_facts_each(struct store *s, const struct store_span *sp, int64_t before_ms,
                            void (*fn)(void *arg, const struct store_fact *f), void *arg) {
    (void)sp;
    (void)before_ms;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "facts_each");
}

enum tend_err pg_memberships_each(struct store *s, const struct store_span *sp,
                                  void (*fn)(void *arg, const struct store_membership *m),
                                  void *arg) {
    (void)sp;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "memberships_each");
}

enum tend_err pg_product_used(struct store *s, int64_t account_id, const char *product,
                              int32_t first_day, int32_t last_day, bool *used) {
    (void)account_id;
    (void)product;
    (void)first_day;
    (void)last_day;
    (void)used;
    return pg_unbuilt(s, "product_used");
}

enum tend_err pg_last_ticket_before(struct store *s, int64_t account_id, int64_t before_ms,
                                    int64_t *ts_ms, bool *found) {
    (void)account_id;
    (void)before_ms;
    (void)ts_ms;
    (void)found;
    return pg_unbuilt(s, "last_ticket_before");
}

enum tend_err pg_account_facts_recent(struct store *s, int64_t account_id, int limit,
                                      void (*fn)(void *arg, const struct store_fact *f,
                                                 const char *user),
                                      void *arg) {
    (void)account_id;
    (void)limit;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "account_facts_recent");
}

enum tend_err pg_outcomes_each(struct store *s, int64_t from_ms, int64_t to_ms,
                               void (*fn)(void *arg, const struct store_outcome *o), void *arg) {
    (void)from_ms;
    (void)to_ms;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "outcomes_each");
}
