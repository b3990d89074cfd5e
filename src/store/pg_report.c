/* pg_report.c: the PostgreSQL statements of the report tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_report_put(struct store *s, const struct store_report *r, int64_t *id) {
    (void)r;
    (void)id;
    return pg_unbuilt(s, "report_put");
}

enum tend_err pg_reports_each(struct store *s, int limit,
                              void (*fn)(void *arg, const struct store_report *r), void *arg) {
    (void)limit;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "reports_each");
}

enum tend_err pg_report_get(struct store *s, int64_t id,
                            void (*fn)(void *arg, const struct store_report *r), void *arg) {
    (void)id;
    (void)fn;
    (void)arg;
    return pg_unbuilt(s, "report_get");
}
