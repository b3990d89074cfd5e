/* pg_activity.c: the PostgreSQL statements of the activity tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_login_day_add(struct store *s, int64_t account_id, int32_t day) {
    (void)account_id;
    (void)day;
    return pg_unbuilt(s, "login_day_add");
}

enum tend_err pg_login_day_last(struct store *s, int64_t account_id, int32_t max_day, int32_t *day,
                                bool *found) {
    (void)account_id;
    (void)max_day;
    (void)day;
    (void)found;
    return pg_unbuilt(s, "login_day_last");
}

enum tend_err pg_activity_each(struct store *s, const struct store_span *sp, int64_t from_ms,
                               int64_t to_ms, void (*fn)(void *arg, const struct store_activity *a),
                               void *arg) {
    (void)sp;
    (void)from_ms;
    (void)to_ms;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "activity_each");
}

enum tend_err pg_activity_refresh(struct store *s, int max_days, int *done) {
    (void)max_days;
    (void)done;
    return pg_unbuilt(s, "activity_refresh");
}

enum tend_err pg_activity_stale_each(struct store *s, int32_t from, int32_t to,
                                     void (*fn)(void *arg, int32_t day), void *arg) {
    (void)from;
    (void)to;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "activity_stale_each");
}

enum tend_err pg_activity_days_each(struct store *s, const struct store_span *sp, int32_t from,
                                    int32_t to,
                                    void (*fn)(void *arg, const struct store_activity_day *d),
                                    void *arg) {
    (void)sp;
    (void)from;
    (void)to;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "activity_days_each");
}

enum tend_err pg_activity_windows_pending(struct store *s, void (*fn)(void *arg, int32_t day),
                                          void *arg) {
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "activity_windows_pending");
}

enum tend_err pg_activity_window_put(struct store *s, int32_t day, int64_t account_id,
                                     const struct metrics_window *w) {
    (void)day;
    (void)account_id;
    (void)w;
    return pg_unbuilt(s, "activity_window_put");
}

enum tend_err pg_activity_windows_each(struct store *s, const struct store_span *sp, int32_t day,
                                       void (*fn)(void *arg, int64_t account_id,
                                                  const struct metrics_window *w),
                                       void *arg) {
    (void)sp;
    (void)day;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "activity_windows_each");
}

enum tend_err pg_activity_windows_done(struct store *s, int32_t day) {
    (void)day;
    return pg_unbuilt(s, "activity_windows_done");
}

enum tend_err pg_activity_windows_ready(struct store *s, int32_t day, bool *done) {
    (void)day;
    (void)done;
    return pg_unbuilt(s, "activity_windows_ready");
}
