/* pg_scores.c: the PostgreSQL statements of the scores tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_score_put(struct store *s, int64_t account_id, const struct store_score *sc) {
    (void)account_id;
    (void)sc;
    return pg_unbuilt(s, "score_put");
}

enum tend_err pg_score_get(struct store *s, int64_t account_id, int32_t day,
                           struct store_score *out, bool *found) {
    (void)account_id;
    (void)day;
    (void)out;
    (void)found;
    return pg_unbuilt(s, "score_get");
}

enum tend_err pg_score_history(struct store *s, int64_t account_id, int32_t from, int32_t to,
                               void (*fn)(void *arg, const struct store_score *sc), void *arg) {
    (void)account_id;
    (void)from;
    (void)to;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "score_history");
}

enum tend_err pg_scores_of_day(struct store *s, int32_t day,
                               void (*fn)(void *arg, int64_t account_id, bool has_overall,
                                          double overall),
                               void *arg) {
    (void)day;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "scores_of_day");
}

enum tend_err pg_scores_of_day_version(struct store *s, int32_t day, const char *version,
                                       void (*fn)(void *arg, int64_t account_id, bool has_overall,
                                                  double overall),
                                       void *arg) {
    (void)day;
    (void)version;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "scores_of_day_version");
}

enum tend_err pg_scores_of_day_ids(
    struct store *s, int32_t day, const char *version, const int64_t *ids, size_t n, bool *any,
    void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg) {
    (void)day;
    (void)version;
    (void)ids;
    (void)n;
    (void)any;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "scores_of_day_ids");
}

enum tend_err pg_scores_latest_day(struct store *s, int32_t *day, bool *found) {
    (void)day;
    (void)found;
    return pg_unbuilt(s, "scores_latest_day");
}
