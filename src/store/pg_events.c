/* pg_events.c: the PostgreSQL statements of the events tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_event_exists(struct store *s, int64_t key_ts_ms, uint64_t key_hash, bool *exists) {
    (void)key_ts_ms;
    (void)key_hash;
    (void)exists;
    return pg_unbuilt(s, "event_exists");
}

enum tend_err pg_event_put(struct store *s, const struct store_event *ev, bool *inserted) {
    (void)ev;
    (void)inserted;
    return pg_unbuilt(s, "event_put");
}

enum tend_err pg_quarantine_put(struct store *s, const struct store_event *ev,
                                const char *account_external_id, const char *reason) {
    (void)ev;
    (void)account_external_id;
    (void)reason;
    return pg_unbuilt(s, "quarantine_put");
}

enum tend_err pg_quarantine_by_account(struct store *s, const char *external_id,
                                       struct store_pending **out, size_t *n) {
    (void)external_id;
    (void)out;
    (void)n;
    return pg_unbuilt(s, "quarantine_by_account");
}

enum tend_err pg_quarantine_by_user(struct store *s, int64_t user_id, struct store_pending **out,
                                    size_t *n) {
    (void)user_id;
    (void)out;
    (void)n;
    return pg_unbuilt(s, "quarantine_by_user");
}

enum tend_err pg_quarantine_attach(struct store *s, const struct store_pending *p,
                                   int64_t account_id) {
    (void)p;
    (void)account_id;
    return pg_unbuilt(s, "quarantine_attach");
}

enum tend_err pg_quarantine_reasons(struct store *s,
                                    void (*fn)(void *arg, const char *reason, int64_t n),
                                    void *arg) {
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "quarantine_reasons");
}

enum tend_err pg_events_flush(struct pg_store *s) {
    (void)s;
    return TEND_OK;
}

void pg_events_discard(struct pg_store *s) {
    (void)s;
}

void pg_events_free(struct pg_store *s) {
    (void)s;
}
