/* pg_escalate.c: escalations of CTAs on PostgreSQL (see sqlite_escalate.c).
 * The record's key (account_id, cta_id, level) makes the second of two
 * nodes escalating one CTA's level at once wait for the first's commit and
 * then insert nothing: it learns it was not first and does nothing more. */
#include <libpq-fe.h>
#include <stdint.h>

#include "store/codes.h"
#include "store/pg_int.h"

static const char q_esc_candidates[] =
    "SELECT c.id, c.account_id, c.priority, c.opened_day, c.due_day, "
    "(SELECT min(h.at_ms) FROM cta_history h WHERE h.account_id = c.account_id "
    " AND h.cta_id = c.id AND h.action = 'open'), "
    "(SELECT min(h.at_ms) FROM cta_history h WHERE h.account_id = c.account_id "
    " AND h.cta_id = c.id AND h.actor <> '" STORE_ACTOR_TEND "'), "
    "(SELECT coalesce(sum(1 << e.level), 0) FROM cta_escalations e "
    " WHERE e.account_id = c.account_id AND e.cta_id = c.id) "
    "FROM ctas c WHERE c.status = " SQL_CTA_OPEN " ORDER BY c.id";

static const char q_esc_put[] =
    "INSERT INTO cta_escalations (account_id, cta_id, level, at_ms, manager) "
    "SELECT c.account_id, c.id, $2, $3, $4 FROM ctas c WHERE c.id = $1 ON CONFLICT DO NOTHING";

enum tend_err pg_escalation_candidates(struct store *base,
                                       void (*fn)(void *arg, const struct store_esc_candidate *c),
                                       void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    PGresult *r;
    enum tend_err err = pg_query(s, q_esc_candidates, &p, "listing CTAs to escalate", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_esc_candidate c = {
            .cta_id = pg_i64(r, i, 0),
            .account_id = pg_i64(r, i, 1),
            .priority = (int)pg_i64(r, i, 2),
            .opened_day = (int32_t)pg_i64(r, i, 3),
            .due_day = (int32_t)pg_i64(r, i, 4),
            .open_ms = pg_i64(r, i, 5),
            .first_act_ms = pg_i64(r, i, 6),
            .levels = (unsigned)pg_i64(r, i, 7),
        };
        fn(arg, &c);
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_escalation_put(struct store *base, int64_t cta_id, int level, int64_t at_ms,
                                const char *manager, bool *is_new) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, cta_id);
    pg_p_int(&p, level);
    pg_p_i64(&p, at_ms);
    pg_p_text(&p, manager);
    enum tend_err err = pg_run(s, q_esc_put, &p, "recording an escalation");
    if (!err)
        *is_new = s->changes == 1;
    return err;
}
