/* pg_ctas.c: the PostgreSQL statements of the ctas tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_ctas_live_count(struct store *s, int64_t *n) {
    (void)n;
    return pg_unbuilt(s, "ctas_live_count");
}

enum tend_err pg_ctas_watched_each(struct store *s, const struct store_span *sp,
                                   void (*fn)(void *arg, const struct store_cta *c), void *arg) {
    (void)sp;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "ctas_watched_each");
}

enum tend_err pg_cta_insert(struct store *s, const struct store_cta *c, int64_t *id) {
    (void)c;
    (void)id;
    return pg_unbuilt(s, "cta_insert");
}

enum tend_err pg_cta_update(struct store *s, const struct store_cta *c) {
    (void)c;
    return pg_unbuilt(s, "cta_update");
}

enum tend_err pg_cta_forget_closed(struct store *s, const char *rule, int64_t account_id,
                                   const char *subject) {
    (void)rule;
    (void)account_id;
    (void)subject;
    return pg_unbuilt(s, "cta_forget_closed");
}

enum tend_err pg_cta_get(struct store *s, int64_t id,
                         void (*fn)(void *arg, const struct store_cta *c), void *arg) {
    (void)id;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "cta_get");
}

enum tend_err pg_ctas_each(struct store *s, const struct store_cta_filter *f,
                           int (*fn)(void *arg, const struct store_cta *c), void *arg) {
    (void)f;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "ctas_each");
}

enum tend_err pg_cta_history_add(struct store *s, int64_t cta_id,
                                 const struct store_cta_change *ch) {
    (void)cta_id;
    (void)ch;
    return pg_unbuilt(s, "cta_history_add");
}

enum tend_err pg_cta_history_each(struct store *s, int64_t cta_id,
                                  void (*fn)(void *arg, const struct store_cta_change *ch),
                                  void *arg) {
    (void)cta_id;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "cta_history_each");
}

enum tend_err pg_eval_run_put(struct store *s, int64_t t_ms, int64_t run_ms, int64_t opened,
                              int64_t updated, int64_t resolved, int64_t errors) {
    (void)t_ms;
    (void)run_ms;
    (void)opened;
    (void)updated;
    (void)resolved;
    (void)errors;
    return pg_unbuilt(s, "eval_run_put");
}

enum tend_err pg_eval_run_before(struct store *s, int64_t t_ms, int64_t *prev_ms, bool *found) {
    (void)t_ms;
    (void)prev_ms;
    (void)found;
    return pg_unbuilt(s, "eval_run_before");
}

enum tend_err pg_ctas_reset(struct store *s) {
    return pg_unbuilt(s, "ctas_reset");
}

enum tend_err pg_rule_counts_each(struct store *s, int32_t since_day,
                                  void (*fn)(void *arg, const struct store_rule_counts *c),
                                  void *arg) {
    (void)since_day;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "rule_counts_each");
}
