/* pg_ingest_facts.c: facts as the PostgreSQL backend stores them at a flush
 * of staged events (pg_events.c): which kinds are facts, the lifetime a fact
 * has on its own, and the statements of the kinds stored one by one, with
 * the lifetimes of the earlier facts they settle or follow (schema.h, "fact
 * lifetimes"; fact_life.h). The results are sqlite_events.c's.
 *
 * The one-by-one statements write and read nothing back, so they are
 * queued in the connection's pipeline (pg_run_later): a flush's facts cost
 * no round trip of their own. */
#include <stdint.h>

#include "core/vocab.h"
#include "store/codes.h"
#include "store/fact_life.h"
#include "store/pg_int.h"
#include "store/schema.h"
#include "util/datetime.h"

bool pg_fact_is(int kind) {
    return (kind >= EV_NPS && kind <= EV_TRACK_LAST) || kind == EV_GROUP;
}

/* The until_ms of a fact whose lifetime depends on no other fact (schema.h:
 * fact lifetimes), stored with the flush's one statement; false for the
 * kinds stored one by one (pg_fact_put). */
bool pg_fact_until_alone(const struct store_event *ev, int64_t *until) {
    switch (ev->kind) {
    case EV_NPS:
        *until = ev->ts_ms + INT64_C(31536000000); /* SCHEMA_UNTIL_NPS */
        return true;
    case EV_PAYMENT_FAILED:
    case EV_USER_REMOVED:
    case EV_SUB_CHANGED:    /* read by analysis only, never by evaluation */
        *until = ev->ts_ms; /* spent at once */
        return true;
    case EV_GOAL_SET:
    case EV_MILESTONE_DUE:
    case EV_MILESTONE_DONE:
    case EV_GROUP:
        *until = INT64_MAX; /* SCHEMA_NEVER */
        return true;
    default:
        return false;
    }
}
_Static_assert(EV_MILESTONE_DUE == 12 && EV_MILESTONE_DONE == 13,
               "pg_fact_until_alone names every kind");

/* The statements of a fact stored one by one: SQLite's (sqlite_events.c),
 * with PostgreSQL's greatest() for SQLite's scalar max(), which, unlike
 * max(), skips a NULL: a ticket not settled has no until_ms here either. */
#define PG_A "$1::bigint"
#define PG_T "$3::bigint"
#define PG_S "$7::text"
#define INSERT_FACT(SETTLED, UNTIL)                                                                \
    "INSERT INTO facts (account_id, kind, ts_ms, key_ts_ms, key_hash, user_id, subject, detail, "  \
    "num, day, props, settled_ms, until_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "     \
    "$11::jsonb, " SETTLED ", coalesce(" UNTIL ", " SCHEMA_NEVER ")) ON CONFLICT DO NOTHING"
#define PG_UNTIL_TICKET(TS, SETTLED)                                                               \
    "CASE WHEN " SETTLED " IS NULL THEN NULL ELSE greatest(" TS " + " SCHEMA_MS_30_DAYS            \
    ", " SETTLED ") END"

static const char q_fact_insert[] = INSERT_FACT("NULL::bigint", "NULL::bigint");
static const char q_fact_nps[] = INSERT_FACT("NULL::bigint", SCHEMA_UNTIL_NPS(PG_T));
static const char q_fact_ticket[] =
    INSERT_FACT(SCHEMA_SETTLED_TICKET(PG_A, PG_S, PG_T),
                PG_UNTIL_TICKET(PG_T, SCHEMA_SETTLED_TICKET(PG_A, PG_S, PG_T)));
static const char q_fact_invoice[] =
    INSERT_FACT(SCHEMA_SETTLED_INVOICE(PG_A, PG_S), SCHEMA_SETTLED_INVOICE(PG_A, PG_S));
static const char q_fact_outreach[] =
    INSERT_FACT(SCHEMA_SETTLED_OUTREACH(PG_A, PG_T), SCHEMA_SETTLED_OUTREACH(PG_A, PG_T));
static const char q_fact_card[] = INSERT_FACT("NULL::bigint", SCHEMA_UNTIL_CARD(PG_A, PG_T));
static const char q_fact_reply[] = INSERT_FACT("NULL::bigint", SCHEMA_UNTIL_REPLY(PG_A, PG_T));
static const char q_fact_outcome[] = INSERT_FACT("NULL::bigint", SCHEMA_UNTIL_OUTCOME(PG_A, PG_T));
static const char q_fact_spent[] = INSERT_FACT("NULL::bigint", PG_T);
/* Fact lifetimes (schema.h): what a new fact settles or follows among the
 * account's earlier facts. $1 account, $2 time, $3 subject (close, paid). */
static const char q_life_close[] =
    "UPDATE facts SET settled_ms = $2, until_ms = greatest(ts_ms + " SCHEMA_MS_30_DAYS
    ", $2) WHERE account_id = $1 AND kind = " SQL_EV_TICKET_OPENED
    " AND ts_ms <= $2 AND subject = $3 AND (settled_ms IS NULL OR settled_ms > $2)";
static const char q_life_paid[] =
    "UPDATE facts SET settled_ms = $2, until_ms = $2 WHERE account_id = $1 "
    "AND kind = " SQL_EV_INVOICE_ISSUED
    " AND subject = $3 AND (settled_ms IS NULL OR settled_ms > $2)";
static const char q_life_card[] =
    "UPDATE facts SET until_ms = $2 WHERE account_id = $1 AND kind = " SQL_EV_CARD_UPDATED " "
    "AND ts_ms < $2 AND until_ms > $2";
static const char q_life_reply[] =
    "UPDATE facts SET until_ms = $2 WHERE account_id = $1 AND kind = " SQL_EV_OUTREACH_REPLIED " "
    "AND ts_ms < $2 AND until_ms > $2";
static const char q_life_answer[] =
    "UPDATE facts SET settled_ms = $2, until_ms = $2 WHERE account_id = $1 "
    "AND kind = " SQL_EV_OUTREACH_SENT
    " AND ts_ms <= $2 AND (settled_ms IS NULL OR settled_ms > $2)";
static const char q_life_outcome[] =
    "UPDATE facts SET until_ms = $2 WHERE account_id = $1 AND kind IN " SQL_EV_OUTCOME_KINDS " "
    "AND ts_ms < $2 AND until_ms > $2";
/* A goal that arrives after its days were rolled up: rebuild them. */
static const char q_goal_stale[] =
    "INSERT INTO activity_stale (day) SELECT day FROM activity_counted "
    "WHERE day >= $1 ON CONFLICT (day) DO UPDATE SET day = excluded.day";

/* The statement that stores a fact of this kind (sqlite_events.c). */
static const char *fact_insert_for(int kind) {
    switch (kind) {
    case EV_NPS:
        return q_fact_nps;
    case EV_TICKET_OPENED:
        return q_fact_ticket;
    case EV_INVOICE_ISSUED:
        return q_fact_invoice;
    case EV_OUTREACH_SENT:
        return q_fact_outreach;
    case EV_CARD_UPDATED:
        return q_fact_card;
    case EV_OUTREACH_REPLIED:
        return q_fact_reply;
    case EV_RENEWED:
    case EV_CHURNED:
        return q_fact_outcome;
    case EV_TICKET_CLOSED:
    case EV_INVOICE_PAID:
    case EV_PAYMENT_FAILED:
    case EV_USER_REMOVED:
    case EV_SUB_CHANGED: /* read by analysis only, never by evaluation */
        return q_fact_spent;
    default:
        return q_fact_insert;
    }
}

/* Stores a fact of an account (ev->account_id set) with its lifetime, and
 * keeps the lifetimes of the earlier facts it settles or follows. */
enum tend_err pg_fact_put(struct pg_store *s, const struct store_event *ev) {
    struct pg_params p = {0};
    pg_p_i64(&p, ev->account_id);
    pg_p_int(&p, ev->kind);
    pg_p_i64(&p, ev->ts_ms);
    pg_p_i64(&p, ev->key_ts_ms);
    pg_p_i64(&p, (int64_t)ev->key_hash);
    pg_p_id(&p, ev->user_id);
    pg_p_text(&p, ev->subject);
    pg_p_text(&p, ev->detail);
    if (ev->has_num)
        pg_p_f64(&p, ev->num);
    else
        pg_p_null(&p);
    if (ev->has_day)
        pg_p_int(&p, ev->day);
    else
        pg_p_null(&p);
    pg_p_text(&p, ev->props);
    enum tend_err err = pg_run_later(s, fact_insert_for(ev->kind), &p, "storing a fact");
    if (!err && ev->kind == EV_GOAL_SET) {
        struct pg_params g = {0};
        pg_p_int(&g, (int32_t)(ev->ts_ms / DT_MS_PER_DAY));
        err = pg_run_later(s, q_goal_stale, &g, "marking a goal's days stale");
    }
    static const char *const life_q[FACT_LIFE_COUNT] = {
        [FACT_LIFE_CLOSE] = q_life_close,   [FACT_LIFE_PAID] = q_life_paid,
        [FACT_LIFE_CARD] = q_life_card,     [FACT_LIFE_REPLY] = q_life_reply,
        [FACT_LIFE_ANSWER] = q_life_answer, [FACT_LIFE_OUTCOME] = q_life_outcome,
    };
    enum fact_life effects[2];
    int n = fact_life_effects((enum event_kind)ev->kind, effects);
    for (int i = 0; !err && i < n; i++) {
        struct pg_params l = {0};
        pg_p_i64(&l, ev->account_id);
        pg_p_i64(&l, ev->ts_ms);
        if (effects[i] == FACT_LIFE_CLOSE || effects[i] == FACT_LIFE_PAID)
            pg_p_text(&l, ev->subject);
        err = pg_run_later(s, life_q[effects[i]], &l, "keeping fact lifetimes");
    }
    return err;
}
