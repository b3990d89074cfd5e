/* pg_facts.c: what evaluation reads of facts, memberships and product use,
 * in the PostgreSQL backend (pg_int.h); the contracts are store.h's, the
 * rows and their order those of sqlite_facts.c.
 *
 * Facts are read only while they matter (until_ms >= T), in the order of
 * their key (account, until_ms, kind, ts_ms, ...), which is SQLite's and
 * gives an account's group calls (never spent) in time order. Each read of
 * a span has a form for a range of account ids and one for listed ids
 * (= ANY of an array), so a few accounts cost a few index seeks. Scans that
 * may be large stream their rows (pg_stream); the callbacks do not use the
 * store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "store/codes.h"
#include "store/pg_int.h"
#include "store/store.h"

#define FACT_COLUMNS                                                                               \
    "SELECT account_id, kind, ts_ms, user_id, subject, detail, num, day, settled_ms, props "       \
    "FROM facts "
#define FACT_ORDER " ORDER BY account_id, until_ms, kind, ts_ms, key_ts_ms, key_hash"

static const char q_facts[] =
    FACT_COLUMNS "WHERE account_id BETWEEN $1 AND $2 AND until_ms >= $3 AND ts_ms < $3" FACT_ORDER;
static const char q_facts_ids[] = FACT_COLUMNS
    "WHERE account_id = ANY($1::bigint[]) AND until_ms >= $2 AND ts_ms < $2" FACT_ORDER;
static const char q_memberships[] = "SELECT account_id, user_id, start_ms, end_ms FROM memberships "
                                    "WHERE account_id BETWEEN $1 AND $2";
static const char q_memberships_ids[] = "SELECT account_id, user_id, start_ms, end_ms "
                                        "FROM memberships WHERE account_id = ANY($1::bigint[])";
static const char q_product_used[] =
    "SELECT 1 FROM product_days WHERE account_id = $1 AND product = $2 "
    "AND day BETWEEN $3 AND $4 LIMIT 1";
static const char q_last_ticket[] =
    "SELECT max(ts_ms) FROM facts WHERE account_id = $1 AND kind = " SQL_EV_TICKET_OPENED " "
    "AND ts_ms < $2";
/* Newest first; ties in the order of the facts' key. */
static const char q_facts_recent[] =
    "SELECT f.kind, f.ts_ms, f.user_id, f.subject, f.detail, f.num, f.day, f.props, "
    "coalesce(u.email, u.external_id) FROM facts f LEFT JOIN users u ON u.id = f.user_id "
    "WHERE f.account_id = $1 ORDER BY f.ts_ms DESC, f.until_ms, f.kind, f.key_ts_ms, f.key_hash "
    "LIMIT $2";
/* Outcomes are rare facts; the scan of facts by kind is cheap next to the
 * evaluation that follows it. */
static const char q_outcomes[] =
    "SELECT f.account_id, a.external_id, a.csm_email, f.kind, f.ts_ms, f.num, f.detail, a.mrr, "
    "a.first_seen_ms "
    "FROM facts f JOIN accounts a ON a.id = f.account_id "
    "WHERE f.kind IN " SQL_EV_OUTCOME_KINDS " AND f.ts_ms >= $1 AND f.ts_ms < $2 "
    "ORDER BY f.ts_ms, f.account_id";

/* The parameters that name a span: (first, last) or the id array. */
static void span_params(struct pg_params *p, const struct store_span *sp) {
    if (sp->ids) {
        pg_p_ids(p, sp->ids, sp->n);
    } else {
        pg_p_i64(p, sp->first);
        pg_p_i64(p, sp->last);
    }
}

struct facts_scan {
    void (*fn)(void *arg, const struct store_fact *f);
    void *arg;
};

static void fact_row(void *arg, PGresult *r, int i) {
    struct facts_scan *sc = arg;
    struct store_fact f = {
        .account_id = pg_i64(r, i, 0),
        .kind = (int)pg_i64(r, i, 1),
        .ts_ms = pg_i64(r, i, 2),
        .user_id = pg_i64(r, i, 3),
        .subject = pg_text(r, i, 4),
        .detail = pg_text(r, i, 5),
        .has_num = !pg_null(r, i, 6),
        .num = pg_f64(r, i, 6),
        .has_day = !pg_null(r, i, 7),
        .day = (int32_t)pg_i64(r, i, 7),
        .settled_ms = pg_null(r, i, 8) ? INT64_MAX : pg_i64(r, i, 8),
        .props = pg_text(r, i, 9),
    };
    sc->fn(sc->arg, &f);
}

enum tend_err pg_facts_each(struct store *base, const struct store_span *sp, int64_t before_ms,
                            void (*fn)(void *arg, const struct store_fact *f), void *arg) {
    struct pg_params p = {0};
    span_params(&p, sp);
    pg_p_i64(&p, before_ms);
    struct facts_scan sc = {fn, arg};
    return pg_stream(pg_of(base), sp->ids ? q_facts_ids : q_facts, &p, "reading facts", fact_row,
                     &sc);
}

struct memberships_scan {
    void (*fn)(void *arg, const struct store_membership *m);
    void *arg;
};

static void membership_row(void *arg, PGresult *r, int i) {
    struct memberships_scan *sc = arg;
    struct store_membership m = {
        .account_id = pg_i64(r, i, 0),
        .user_id = pg_i64(r, i, 1),
        .start_ms = pg_i64(r, i, 2),
        .end_ms = pg_null(r, i, 3) ? STORE_OPEN_END : pg_i64(r, i, 3),
    };
    sc->fn(sc->arg, &m);
}

enum tend_err pg_memberships_each(struct store *base, const struct store_span *sp,
                                  void (*fn)(void *arg, const struct store_membership *m),
                                  void *arg) {
    struct pg_params p = {0};
    span_params(&p, sp);
    struct memberships_scan sc = {fn, arg};
    return pg_stream(pg_of(base), sp->ids ? q_memberships_ids : q_memberships, &p,
                     "reading memberships", membership_row, &sc);
}

enum tend_err pg_product_used(struct store *base, int64_t account_id, const char *product,
                              int32_t first_day, int32_t last_day, bool *used) {
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_text(&p, product);
    pg_p_int(&p, first_day);
    pg_p_int(&p, last_day);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_product_used, &p, "reading product use", &r);
    if (err)
        return err;
    *used = PQntuples(r) > 0;
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_last_ticket_before(struct store *base, int64_t account_id, int64_t before_ms,
                                    int64_t *ts_ms, bool *found) {
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_i64(&p, before_ms);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_last_ticket, &p, "reading facts", &r);
    if (err)
        return err;
    *found = PQntuples(r) > 0 && !pg_null(r, 0, 0);
    if (*found)
        *ts_ms = pg_i64(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_account_facts_recent(struct store *base, int64_t account_id, int limit,
                                      void (*fn)(void *arg, const struct store_fact *f,
                                                 const char *user),
                                      void *arg) {
    struct pg_params p = {0};
    pg_p_i64(&p, account_id);
    pg_p_int(&p, limit);
    PGresult *r;
    enum tend_err err =
        pg_query(pg_of(base), q_facts_recent, &p, "reading an account's events", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_fact f = {
            .account_id = account_id,
            .kind = (int)pg_i64(r, i, 0),
            .ts_ms = pg_i64(r, i, 1),
            .user_id = pg_i64(r, i, 2),
            .subject = pg_text(r, i, 3),
            .detail = pg_text(r, i, 4),
            .has_num = !pg_null(r, i, 5),
            .num = pg_f64(r, i, 5),
            .has_day = !pg_null(r, i, 6),
            .day = (int32_t)pg_i64(r, i, 6),
            .settled_ms = INT64_MAX,
            .props = pg_text(r, i, 7),
        };
        fn(arg, &f, pg_text(r, i, 8));
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_outcomes_each(struct store *base, int64_t from_ms, int64_t to_ms,
                               void (*fn)(void *arg, const struct store_outcome *o), void *arg) {
    struct pg_params p = {0};
    pg_p_i64(&p, from_ms);
    pg_p_i64(&p, to_ms);
    PGresult *r;
    enum tend_err err = pg_query(pg_of(base), q_outcomes, &p, "reading the outcomes", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_outcome o = {
            .account_id = pg_i64(r, i, 0),
            .external_id = pg_text(r, i, 1),
            .owner = pg_text(r, i, 2),
            .churned = pg_i64(r, i, 3) == EV_CHURNED,
            .ts_ms = pg_i64(r, i, 4),
            .has_arr = !pg_null(r, i, 5),
            .arr = pg_f64(r, i, 5),
            .reason = pg_text(r, i, 6),
            .has_mrr = !pg_null(r, i, 7),
            .mrr = pg_f64(r, i, 7),
            .first_seen_ms = pg_i64(r, i, 8),
        };
        fn(arg, &o);
    }
    PQclear(r);
    return TEND_OK;
}
