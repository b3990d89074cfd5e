/* pg_model.c: the PostgreSQL statements of the model tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_last_event_day(struct store *s, int32_t *day, bool *found) {
    (void)day;
    (void)found;
    return pg_unbuilt(s, "last_event_day");
}

enum tend_err pg_model_put(struct store *s, const struct store_model *m, bool adopt,
                           int64_t *version) {
    (void)m;
    (void)adopt;
    (void)version;
    return pg_unbuilt(s, "model_put");
}

enum tend_err pg_model_get(struct store *s, int64_t version,
                           void (*fn)(void *arg, const struct store_model *m), void *arg) {
    (void)version;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "model_get");
}

enum tend_err pg_model_for_day(struct store *s, int32_t day,
                               void (*fn)(void *arg, const struct store_model *m), void *arg) {
    (void)day;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "model_for_day");
}

enum tend_err pg_models_each(struct store *s, void (*fn)(void *arg, const struct store_model *m),
                             void *arg) {
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "models_each");
}

enum tend_err pg_risk_put(struct store *s, const struct store_risk *r) {
    (void)r;
    return pg_unbuilt(s, "risk_put");
}

enum tend_err pg_risk_clear_day(struct store *s, int32_t day) {
    (void)day;
    return pg_unbuilt(s, "risk_clear_day");
}

enum tend_err pg_risk_put_many(struct store *s, const struct store_risk *r, size_t n) {
    (void)r;
    (void)n;
    return pg_unbuilt(s, "risk_put_many");
}

enum tend_err pg_risk_latest_day(struct store *s, int32_t max_day, int32_t *day, bool *found) {
    (void)max_day;
    (void)day;
    (void)found;
    return pg_unbuilt(s, "risk_latest_day");
}

enum tend_err pg_risk_of_day(struct store *s, int32_t day,
                             void (*fn)(void *arg, const struct store_risk_row *r), void *arg) {
    (void)day;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "risk_of_day");
}

enum tend_err pg_risk_of_account(struct store *s, int32_t day, const char *external_id,
                                 void (*fn)(void *arg, const struct store_risk_row *r), void *arg) {
    (void)day;
    (void)external_id;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "risk_of_account");
}
