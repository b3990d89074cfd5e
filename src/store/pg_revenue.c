/* pg_revenue.c: what the revenue analysis reads of facts, in the
 * PostgreSQL backend (sqlite_revenue.c says what and why; the results are
 * the same). */
#include "core/vocab.h"
#include "store/codes.h"
#include "store/pg_int.h"
#include "store/store.h"

static const char q_revenue[] =
    "SELECT f.account_id, a.external_id, a.segment, a.plan, a.csm_email, f.kind, f.ts_ms, "
    "CASE WHEN f.kind = " SQL_EV_GROUP " THEN (f.props->>'mrr')::float8 ELSE f.num END, "
    "CASE WHEN f.kind = " SQL_EV_SUB_CHANGED " THEN (f.props->>'mrr_before')::float8 END, "
    "CASE WHEN f.kind = " SQL_EV_GROUP " THEN NULL ELSE f.detail END, a.first_seen_ms "
    "FROM facts f JOIN accounts a ON a.id = f.account_id "
    "WHERE f.kind IN (" SQL_EV_RENEWED ", " SQL_EV_CHURNED ", " SQL_EV_SUB_CHANGED ", " SQL_EV_GROUP
    ") AND f.ts_ms < $1 "
    "AND (f.kind <> " SQL_EV_GROUP " OR f.props->>'mrr' IS NOT NULL) "
    "ORDER BY f.account_id, f.ts_ms, f.kind";

enum tend_err pg_revenue_each(struct store *base, int64_t before_ms,
                              void (*fn)(void *arg, const struct store_revenue_fact *f),
                              void *arg) {
    struct pg_params p = {0};
    pg_p_i64(&p, before_ms);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_revenue, &p, "reading revenue facts", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_revenue_fact f = {
            .account_id = pg_i64(r, i, 0),
            .external_id = pg_text(r, i, 1),
            .segment = pg_text(r, i, 2),
            .plan = pg_text(r, i, 3),
            .owner = pg_text(r, i, 4),
            .kind = (int)pg_i64(r, i, 5),
            .ts_ms = pg_i64(r, i, 6),
            .has_num = !pg_null(r, i, 7),
            .num = pg_f64(r, i, 7),
            .has_before = !pg_null(r, i, 8),
            .mrr_before = pg_f64(r, i, 8),
            .reason = pg_text(r, i, 9),
            .first_seen_ms = pg_i64(r, i, 10),
        };
        fn(arg, &f);
    }
    PQclear(r);
    return TEND_OK;
}

static const char q_costs[] =
    "SELECT account_id, sum(t), sum(o), sum(c) FROM ("
    "SELECT account_id, (kind = " SQL_EV_TICKET_OPENED ")::int AS t, (kind = " SQL_EV_OUTREACH_SENT
    ")::int AS o, 0 AS c FROM facts WHERE kind IN (" SQL_EV_TICKET_OPENED ", " SQL_EV_OUTREACH_SENT
    ") AND ts_ms >= $1 AND ts_ms < $2 "
    "UNION ALL SELECT account_id, 0, 0, 1 FROM ctas WHERE opened_day >= $1::bigint / 86400000 "
    "AND opened_day < $2::bigint / 86400000) x GROUP BY account_id ORDER BY account_id";

enum tend_err pg_account_costs_each(struct store *base, int64_t from_ms, int64_t to_ms,
                                    void (*fn)(void *arg, const struct store_account_costs *c),
                                    void *arg) {
    struct pg_params p = {0};
    pg_p_i64(&p, from_ms);
    pg_p_i64(&p, to_ms);
    PGresult *r;
    enum tend_err err =
        pg_query(pg_of(base), q_costs, &p, "reading tickets, outreach and CTAs", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_account_costs c = {
            .account_id = pg_i64(r, i, 0),
            .tickets = pg_i64(r, i, 1),
            .outreach = pg_i64(r, i, 2),
            .ctas = pg_i64(r, i, 3),
        };
        fn(arg, &c);
    }
    PQclear(r);
    return TEND_OK;
}
