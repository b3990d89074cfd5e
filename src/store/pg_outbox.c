/* pg_outbox.c: the PostgreSQL statements of the outbox tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_notification_add(struct store *s, int64_t cta_id, const char *event, int32_t day,
                                  int64_t created_ms, const char *snapshot, int64_t *id) {
    (void)cta_id;
    (void)event;
    (void)day;
    (void)created_ms;
    (void)snapshot;
    (void)id;
    return pg_unbuilt(s, "notification_add");
}

enum tend_err pg_outbox_add(struct store *s, const struct store_outbox *row, int64_t *id) {
    (void)row;
    (void)id;
    return pg_unbuilt(s, "outbox_add");
}

enum tend_err pg_outbox_recover(struct store *s, int64_t *n) {
    (void)n;
    return pg_unbuilt(s, "outbox_recover");
}

enum tend_err pg_outbox_due_targets(struct store *s, int64_t now_ms,
                                    void (*fn)(void *arg, const char *channel, const char *target,
                                               int64_t rank),
                                    void *arg) {
    (void)now_ms;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "outbox_due_targets");
}

enum tend_err pg_outbox_due(struct store *s, int64_t now_ms, const char *channel,
                            const char *target, int64_t limit,
                            void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    (void)now_ms;
    (void)channel;
    (void)target;
    (void)limit;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "outbox_due");
}

enum tend_err pg_outbox_next_due(struct store *s, int64_t after_ms, int64_t *at_ms, bool *found) {
    (void)after_ms;
    (void)at_ms;
    (void)found;
    return pg_unbuilt(s, "outbox_next_due");
}

enum tend_err pg_outbox_set(struct store *s, const struct store_outbox *row) {
    (void)row;
    return pg_unbuilt(s, "outbox_set");
}

enum tend_err pg_outbox_hold_set(struct store *s, const struct store_hold *h) {
    (void)h;
    return pg_unbuilt(s, "outbox_hold_set");
}

enum tend_err pg_outbox_holds_each(struct store *s, int64_t after_ms,
                                   void (*fn)(void *arg, const struct store_hold *h), void *arg) {
    (void)after_ms;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "outbox_holds_each");
}

enum tend_err pg_outbox_holds_prune(struct store *s, int64_t before_ms) {
    (void)before_ms;
    return pg_unbuilt(s, "outbox_holds_prune");
}

enum tend_err pg_outbox_each(struct store *s, const struct store_outbox_filter *f,
                             void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    (void)f;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "outbox_each");
}

enum tend_err pg_outbox_get(struct store *s, int64_t id,
                            void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    (void)id;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "outbox_get");
}

enum tend_err pg_outbox_counts(struct store *s,
                               void (*fn)(void *arg, const char *status, int64_t rows,
                                          int64_t resends),
                               void *arg) {
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "outbox_counts");
}

enum tend_err pg_outbox_retry(struct store *s, int64_t id, int64_t now_ms, bool *changed) {
    (void)id;
    (void)now_ms;
    (void)changed;
    return pg_unbuilt(s, "outbox_retry");
}

enum tend_err pg_outbox_retry_dead(struct store *s, int64_t now_ms, int64_t *n) {
    (void)now_ms;
    (void)n;
    return pg_unbuilt(s, "outbox_retry_dead");
}

enum tend_err pg_outbox_held_groups(struct store *s, int64_t before_ms,
                                    void (*fn)(void *arg, const char *channel, const char *target,
                                               const char *owner),
                                    void *arg) {
    (void)before_ms;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "outbox_held_groups");
}

enum tend_err pg_outbox_digest_make(struct store *s, const char *channel, const char *target,
                                    const char *owner, int64_t before_ms, int64_t now_ms,
                                    int64_t rank, int64_t *digest_id, int64_t *items) {
    (void)channel;
    (void)target;
    (void)owner;
    (void)before_ms;
    (void)now_ms;
    (void)rank;
    (void)digest_id;
    (void)items;
    return pg_unbuilt(s, "outbox_digest_make");
}

enum tend_err pg_outbox_items_each(struct store *s, int64_t digest_id,
                                   void (*fn)(void *arg, const char *snapshot), void *arg) {
    (void)digest_id;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "outbox_items_each");
}

enum tend_err pg_outbox_oldest_pending(struct store *s, int64_t *created_ms, bool *found) {
    (void)created_ms;
    (void)found;
    return pg_unbuilt(s, "outbox_oldest_pending");
}
