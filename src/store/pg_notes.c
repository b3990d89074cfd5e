/* pg_notes.c: notes, the holdout's draws and the team's records on
 * PostgreSQL (see sqlite_notes.c). A note's id comes from its identity
 * column, unique across nodes; the holdout's record is unique by its key
 * (account_id, cta_id) (a CTA has one account; cta_holdouts_cta only finds
 * it by CTA, not unique: keys lead with account_id), so two nodes recording
 * one CTA's draw at once end with one row: the second waits for the first's
 * commit and inserts nothing.
 * The long reads (every CTA's history, outreach events) stream a row at a
 * time. */
#include <libpq-fe.h>
#include <stdint.h>

#include "core/vocab.h"
#include "store/pg_int.h"

static const char q_note_add[] =
    "INSERT INTO notes (account_id, cta_id, kind, body, actor, at_ms, day) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

static const char q_notes_each[] =
    "SELECT n.id, n.account_id, a.external_id, coalesce(n.cta_id, 0), n.kind, n.body, n.actor, "
    "n.at_ms, n.day FROM notes n JOIN accounts a ON a.id = n.account_id "
    "WHERE ($1 = 0 OR n.account_id = $1) AND ($2 = 0 OR n.cta_id = $2) "
    "AND n.at_ms >= $3 AND ($4 = 0 OR n.at_ms < $4) "
    "ORDER BY n.at_ms DESC, n.id DESC LIMIT CASE WHEN $5 > 0 THEN $5 END";

static const char q_holdout_put[] =
    "INSERT INTO cta_holdouts (account_id, cta_id, rule, day, share, draw, held_out) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";

static const char q_holdout_get[] =
    "SELECT account_id, day, share, draw, held_out FROM cta_holdouts WHERE cta_id = $1";

static const char q_holdouts_each[] =
    "SELECT cta_id, account_id, rule, day, share, draw, held_out FROM cta_holdouts "
    "WHERE $1::text IS NULL OR rule = $1 ORDER BY cta_id";

static const char q_cta_actions[] =
    "SELECT cta_id, account_id, day, at_ms, action, actor FROM cta_history "
    "ORDER BY cta_id, seq";

static const char q_outreach[] =
    "SELECT account_id, ts_ms FROM events "
    "WHERE ts_ms >= $1 AND ts_ms < $2 AND kind = $3 AND account_id <> 0";

enum tend_err pg_note_add(struct store *base, const struct store_note *n, int64_t *id) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, n->account_id);
    pg_p_id(&p, n->cta_id);
    pg_p_text(&p, n->kind);
    pg_p_text(&p, n->body);
    pg_p_text(&p, n->actor);
    pg_p_i64(&p, n->at_ms);
    pg_p_int(&p, n->day);
    int64_t v = 0;
    enum tend_err err = pg_int(s, q_note_add, &p, "recording a note", &v);
    if (!err)
        *id = v;
    return err;
}

enum tend_err pg_notes_each(struct store *base, const struct store_note_filter *f,
                            int (*fn)(void *arg, const struct store_note *n), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, f->account_id);
    pg_p_i64(&p, f->cta_id);
    pg_p_i64(&p, f->from_ms);
    pg_p_i64(&p, f->to_ms);
    pg_p_int(&p, f->limit);
    PGresult *r;
    enum tend_err err = pg_query(s, q_notes_each, &p, "reading notes", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_note n = {
            .id = pg_i64(r, i, 0),
            .account_id = pg_i64(r, i, 1),
            .account = pg_text(r, i, 2),
            .cta_id = pg_i64(r, i, 3),
            .kind = pg_text(r, i, 4),
            .body = pg_text(r, i, 5),
            .actor = pg_text(r, i, 6),
            .at_ms = pg_i64(r, i, 7),
            .day = (int32_t)pg_i64(r, i, 8),
        };
        if (fn(arg, &n))
            break;
    }
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_holdout_put(struct store *base, const struct store_holdout *h) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, h->account_id);
    pg_p_i64(&p, h->cta_id);
    pg_p_text(&p, h->rule);
    pg_p_int(&p, h->day);
    pg_p_f64(&p, h->share);
    pg_p_f64(&p, h->draw);
    pg_p_bool(&p, h->held_out);
    return pg_run(s, q_holdout_put, &p, "recording a CTA's holdout draw");
}

enum tend_err pg_holdout_get(struct store *base, int64_t cta_id, struct store_holdout *out,
                             bool *found) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_i64(&p, cta_id);
    PGresult *r;
    enum tend_err err = pg_query(s, q_holdout_get, &p, "reading a CTA's holdout draw", &r);
    if (err)
        return err;
    *found = PQntuples(r) > 0;
    if (*found)
        *out = (struct store_holdout){
            .cta_id = cta_id,
            .account_id = pg_i64(r, 0, 0),
            .day = (int32_t)pg_i64(r, 0, 1),
            .share = pg_f64(r, 0, 2),
            .draw = pg_f64(r, 0, 3),
            .held_out = pg_bool(r, 0, 4),
        };
    PQclear(r);
    return TEND_OK;
}

enum tend_err pg_holdouts_each(struct store *base, const char *rule,
                               void (*fn)(void *arg, const struct store_holdout *h), void *arg) {
    struct pg_store *s = pg_of(base);
    struct pg_params p = {0};
    pg_p_text(&p, rule);
    PGresult *r;
    enum tend_err err = pg_query(s, q_holdouts_each, &p, "reading the holdout's draws", &r);
    if (err)
        return err;
    for (int i = 0; i < PQntuples(r); i++) {
        struct store_holdout h = {
            .cta_id = pg_i64(r, i, 0),
            .account_id = pg_i64(r, i, 1),
            .rule = pg_text(r, i, 2),
            .day = (int32_t)pg_i64(r, i, 3),
            .share = pg_f64(r, i, 4),
            .draw = pg_f64(r, i, 5),
            .held_out = pg_bool(r, i, 6),
        };
        fn(arg, &h);
    }
    PQclear(r);
    return TEND_OK;
}

struct action_arg {
    void (*fn)(void *arg, const struct store_cta_action *a);
    void *arg;
};

static void action_row(void *arg, PGresult *r, int i) {
    struct action_arg *x = arg;
    struct store_cta_action a = {
        .cta_id = pg_i64(r, i, 0),
        .account_id = pg_i64(r, i, 1),
        .day = (int32_t)pg_i64(r, i, 2),
        .at_ms = pg_i64(r, i, 3),
        .action = pg_text(r, i, 4),
        .actor = pg_text(r, i, 5),
    };
    x->fn(x->arg, &a);
}

enum tend_err pg_cta_actions_each(struct store *base,
                                  void (*fn)(void *arg, const struct store_cta_action *a),
                                  void *arg) {
    struct action_arg x = {fn, arg};
    return pg_stream(pg_of(base), q_cta_actions, NULL, "reading CTA histories", action_row, &x);
}

struct outreach_arg {
    void (*fn)(void *arg, int64_t account_id, int64_t ts_ms);
    void *arg;
};

static void outreach_row(void *arg, PGresult *r, int i) {
    struct outreach_arg *x = arg;
    x->fn(x->arg, pg_i64(r, i, 0), pg_i64(r, i, 1));
}

enum tend_err pg_outreach_each(struct store *base, int64_t from_ms, int64_t to_ms,
                               void (*fn)(void *arg, int64_t account_id, int64_t ts_ms),
                               void *arg) {
    struct pg_params p = {0};
    pg_p_i64(&p, from_ms);
    pg_p_i64(&p, to_ms);
    pg_p_int(&p, EV_OUTREACH_SENT);
    struct outreach_arg x = {fn, arg};
    return pg_stream(pg_of(base), q_outreach, &p, "reading outreach events", outreach_row, &x);
}
