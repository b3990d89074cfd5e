/* pg_accounts.c: the PostgreSQL statements of the accounts tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_account_find(struct store *s, const char *external_id, int64_t *id) {
    (void)external_id;
    (void)id;
    return pg_unbuilt(s, "account_find");
}

enum tend_err pg_account_ensure(struct store *s, const char *external_id, int64_t ts_ms,
                                int64_t *id, bool *created) {
    (void)external_id;
    (void)ts_ms;
    (void)id;
    (void)created;
    return pg_unbuilt(s, "account_ensure");
}

enum tend_err pg_account_seen(struct store *s, int64_t id, int64_t ts_ms) {
    (void)id;
    (void)ts_ms;
    return pg_unbuilt(s, "account_seen");
}

enum tend_err pg_user_ensure(struct store *s, const char *external_id, bool anonymous,
                             int64_t ts_ms, int64_t *id) {
    (void)external_id;
    (void)anonymous;
    (void)ts_ms;
    (void)id;
    return pg_unbuilt(s, "user_ensure");
}

enum tend_err pg_name_ensure(struct store *s, const char *name, int64_t *id) {
    (void)name;
    (void)id;
    return pg_unbuilt(s, "name_ensure");
}

enum tend_err pg_trait_merge(struct store *s, enum store_entity entity, int64_t id, const char *key,
                             const char *value_json, int64_t ts_ms) {
    (void)entity;
    (void)id;
    (void)key;
    (void)value_json;
    (void)ts_ms;
    return pg_unbuilt(s, "trait_merge");
}

enum tend_err pg_traits_each(struct store *s, enum store_entity entity, int64_t id,
                             void (*fn)(void *arg, const char *key, const char *value_json),
                             void *arg) {
    (void)entity;
    (void)id;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "traits_each");
}

enum tend_err pg_account_set_fields(struct store *s, int64_t id,
                                    const struct store_account_fields *f, const char *traits_json) {
    (void)id;
    (void)f;
    (void)traits_json;
    return pg_unbuilt(s, "account_set_fields");
}

enum tend_err pg_user_set_fields(struct store *s, int64_t id, const char *email, const char *name,
                                 const char *title, const char *traits_json) {
    (void)id;
    (void)email;
    (void)name;
    (void)title;
    (void)traits_json;
    return pg_unbuilt(s, "user_set_fields");
}

enum tend_err pg_user_memberships(struct store *s, int64_t user_id, struct store_membership **out,
                                  size_t *n) {
    (void)user_id;
    (void)out;
    (void)n;
    return pg_unbuilt(s, "user_memberships");
}

enum tend_err pg_membership_start(struct store *s, int64_t account_id, int64_t user_id,
                                  int64_t ts_ms, bool *started) {
    (void)account_id;
    (void)user_id;
    (void)ts_ms;
    (void)started;
    return pg_unbuilt(s, "membership_start");
}

enum tend_err pg_membership_end(struct store *s, int64_t account_id, int64_t user_id, int64_t ts_ms,
                                bool *ended) {
    (void)account_id;
    (void)user_id;
    (void)ts_ms;
    (void)ended;
    return pg_unbuilt(s, "membership_end");
}

enum tend_err pg_removal_after(struct store *s, int64_t account_id, int64_t user_id, int64_t ts_ms,
                               int64_t *removal_ms, bool *found) {
    (void)account_id;
    (void)user_id;
    (void)ts_ms;
    (void)removal_ms;
    (void)found;
    return pg_unbuilt(s, "removal_after");
}

enum tend_err pg_counter_add(struct store *s, const char *name, int64_t delta) {
    (void)name;
    (void)delta;
    return pg_unbuilt(s, "counter_add");
}

enum tend_err pg_account_count_events(struct store *s, int64_t account_id, int64_t delta) {
    (void)account_id;
    (void)delta;
    return pg_unbuilt(s, "account_count_events");
}

enum tend_err pg_accounts_each(struct store *s,
                               int (*fn)(void *arg, const struct store_account_row *row),
                               void *arg) {
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "accounts_each");
}

enum tend_err pg_accounts_brief_each(struct store *s,
                                     int (*fn)(void *arg, const struct store_account_row *row),
                                     void *arg) {
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "accounts_brief_each");
}

enum tend_err pg_accounts_brief_of(struct store *s, const int64_t *ids, size_t n,
                                   int (*fn)(void *arg, const struct store_account_row *row),
                                   void *arg) {
    (void)ids;
    (void)n;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "accounts_brief_of");
}

enum tend_err pg_account_get(struct store *s, int64_t id,
                             int (*fn)(void *arg, const struct store_account_row *row), void *arg) {
    (void)id;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "account_get");
}

enum tend_err pg_status_get(struct store *s, struct store_status *out) {
    (void)out;
    return pg_unbuilt(s, "status_get");
}

enum tend_err pg_counters_each(struct store *s,
                               void (*fn)(void *arg, const char *name, int64_t value), void *arg) {
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "counters_each");
}

enum tend_err pg_user_label(struct store *s, int64_t user_id, char *buf, size_t size) {
    (void)user_id;
    (void)buf;
    (void)size;
    return pg_unbuilt(s, "user_label");
}

enum tend_err pg_account_briefs(struct store *s, int32_t day,
                                void (*fn)(void *arg, const struct store_account_brief *b),
                                void *arg) {
    (void)day;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "account_briefs");
}
