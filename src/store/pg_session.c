/* pg_session.c: the PostgreSQL statements of the session tables (pg_int.h); the
 * contracts are store.h's. */
#include "store/pg_int.h"

enum tend_err pg_session_epoch(struct store *s, const char *email, int64_t *epoch) {
    (void)email;
    (void)epoch;
    return pg_unbuilt(s, "session_epoch");
}

enum tend_err pg_session_epoch_bump(struct store *s, const char *email, int64_t now_ms,
                                    int64_t *epoch) {
    (void)email;
    (void)now_ms;
    (void)epoch;
    return pg_unbuilt(s, "session_epoch_bump");
}
