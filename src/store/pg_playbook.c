/* pg_playbook.c: playbook steps done on CTAs in PostgreSQL (see store.h,
 * "playbook steps"); the results those of sqlite_playbook.c.
 *
 * One row per CTA and step id, keyed by the CTA's account first (migration
 * 29). A write is one INSERT ... ON CONFLICT DO UPDATE, so two people
 * ticking the same step at once on two nodes both succeed and the later
 * commit's row stays; no read-modify-write. */
#include <stdio.h>

#include "store/pg_int.h"

static const char q_set[] =
    "INSERT INTO cta_steps (account_id, cta_id, step, done, actor, at_ms) "
    "SELECT account_id, id, $2, $3, $4, $5 FROM ctas WHERE id = $1 "
    "ON CONFLICT (account_id, cta_id, step) DO UPDATE SET done = excluded.done, "
    "actor = excluded.actor, at_ms = excluded.at_ms";
static const char q_each[] =
    "SELECT step, done, actor, at_ms FROM cta_steps "
    "WHERE account_id = (SELECT account_id FROM ctas WHERE id = $1) AND cta_id = $1 "
    "ORDER BY step COLLATE \"C\"";

enum tend_err pg_cta_step_set(struct store *base, int64_t cta_id, const struct store_cta_step *st) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, cta_id);
    pg_p_text(&p, st->step);
    pg_p_bool(&p, st->done);
    pg_p_text(&p, st->actor);
    pg_p_i64(&p, st->at_ms);
    enum tend_err e = pg_run(s, q_set, &p, "recording a playbook step");
    if (!e && s->changes == 0) {
        char msg[64];
        snprintf(msg, sizeof msg, "no CTA %lld", (long long)cta_id);
        store_set_error(base, msg);
        e = TEND_ERR_NOTFOUND;
    }
    return e;
}

enum tend_err pg_cta_steps_each(struct store *base, int64_t cta_id,
                                void (*fn)(void *arg, const struct store_cta_step *st), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, cta_id);
    PGresult *r;
    enum tend_err e = pg_query(s, q_each, &p, "reading playbook steps", &r);
    if (e)
        return e;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_cta_step st = {
            .step = pg_text(r, i, 0),
            .done = pg_bool(r, i, 1),
            .actor = pg_text(r, i, 2),
            .at_ms = pg_i64(r, i, 3),
        };
        fn(arg, &st);
    }
    PQclear(r);
    return TEND_OK;
}
