/* pg_held.c: the CTAs the weekly budget held back (store.h, "the budget"),
 * and each owner's opens of a week that the budget counts, in the
 * PostgreSQL backend (pg_int.h); the reference is sqlite_held.c.
 *
 * A held-back key is one upsert that also says whether it inserted (xmax 0:
 * the row version was made by this INSERT, not an UPDATE), so two nodes
 * holding the same key at once put it in one owner's digest once. */
#include <stdint.h>

#include "store/pg_int.h"

static const char q_held_put[] =
    "INSERT INTO cta_held (week, account_id, rule, subject, first_day, day, type, priority, owner, "
    "value, title, reason) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT (account_id, week, rule, subject) DO UPDATE SET "
    "day = greatest(cta_held.day, excluded.day), type = excluded.type, "
    "priority = excluded.priority, owner = excluded.owner, value = excluded.value, "
    "title = excluded.title, reason = excluded.reason RETURNING xmax = 0";

static const char q_held_each[] =
    "SELECT h.week, h.first_day, h.day, h.account_id, a.external_id, a.name, h.rule, h.subject, "
    "h.type, h.owner, h.title, h.reason, h.priority, h.value "
    "FROM cta_held h JOIN accounts a ON a.id = h.account_id "
    "WHERE ($1 = 0 OR h.week = $1) AND ($2::text IS NULL OR h.owner = $2) "
    "ORDER BY h.week DESC, coalesce(h.value, 0) DESC, h.priority DESC, "
    "a.external_id COLLATE \"C\", h.rule COLLATE \"C\", h.subject COLLATE \"C\"";

static const char q_held_count[] =
    "SELECT count(*) FROM cta_held WHERE week = $1 AND ($2::text IS NULL OR owner = $2)";

static const char q_opened_by_owner[] =
    "SELECT owner, count(*) FROM ctas WHERE opened_day "
    "BETWEEN $1 AND $2 GROUP BY owner ORDER BY owner COLLATE \"C\"";

enum tend_err pg_cta_held_put(struct store *base, const struct store_cta_held *h, bool *is_new) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, h->week);
    pg_p_i64(&p, h->account_id);
    pg_p_text(&p, h->rule);
    pg_p_text(&p, h->subject ? h->subject : "");
    pg_p_int(&p, h->day);
    pg_p_text(&p, h->type);
    pg_p_int(&p, h->priority);
    pg_p_text(&p, h->owner);
    pg_p_f64_or_null(&p, h->has_value, h->value);
    pg_p_text(&p, h->title);
    pg_p_text(&p, h->reason);
    PGresult *r;
    enum tend_err err = pg_query(s, q_held_put, &p, "storing a held-back CTA", &r);
    if (err)
        return err;
    if (is_new)
        *is_new = PQntuples(r) > 0 && pg_bool(r, 0, 0);
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_ctas_held_each(struct store *base, int32_t week, const char *owner,
                                int (*fn)(void *arg, const struct store_cta_held *h), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, week);
    pg_p_text(&p, owner);
    PGresult *r;
    enum tend_err err = pg_query(s, q_held_each, &p, "listing held-back CTAs", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_cta_held h = {
            .week = (int32_t)pg_i64(r, i, 0),
            .first_day = (int32_t)pg_i64(r, i, 1),
            .day = (int32_t)pg_i64(r, i, 2),
            .account_id = pg_i64(r, i, 3),
            .account = pg_text(r, i, 4),
            .account_name = pg_text(r, i, 5),
            .rule = pg_text(r, i, 6),
            .subject = pg_text(r, i, 7),
            .type = pg_text(r, i, 8),
            .owner = pg_text(r, i, 9),
            .title = pg_text(r, i, 10),
            .reason = pg_text(r, i, 11),
            .priority = (int)pg_i64(r, i, 12),
            .has_value = !pg_null(r, i, 13),
            .value = pg_f64(r, i, 13),
        };
        if (fn(arg, &h))
            break;
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_ctas_held_count(struct store *base, int32_t week, const char *owner, int64_t *n) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, week);
    pg_p_text(&p, owner);
    return pg_int(s, q_held_count, &p, "counting held-back CTAs", n);
}

enum tend_err pg_ctas_opened_by_owner(struct store *base, int32_t from, int32_t to,
                                      void (*fn)(void *arg, const char *owner, int64_t n),
                                      void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_int(&p, from);
    pg_p_int(&p, to);
    PGresult *r;
    enum tend_err err = pg_query(s, q_opened_by_owner, &p, "counting opened CTAs", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++)
        fn(arg, pg_text(r, i, 0), pg_i64(r, i, 1));
    PQclear(r);
    return TEND_OK;
}
