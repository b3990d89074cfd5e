/* sqlite_notes.c: notes on CTAs and accounts, the randomised holdout's
 * draws, and what the team's process metrics read of tend's own records:
 * every CTA's history with its account, and the outreach events (store.h,
 * "notes, the holdout and the team's records").
 *
 * A note is one INSERT; the holdout's record is keyed by its CTA, and a
 * second put of the same CTA does nothing (ON CONFLICT DO NOTHING), so an
 * evaluation replayed by another node cannot change a draw already made. */
#include <stdint.h>

#include "core/vocab.h"
#include "store/sqlite_int.h"

static const char q_note_add[] =
    "INSERT INTO notes (account_id, cta_id, kind, body, actor, at_ms, day) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";

static const char q_notes_each[] =
    "SELECT n.id, n.account_id, a.external_id, n.cta_id, n.kind, n.body, n.actor, n.at_ms, n.day "
    "FROM notes n JOIN accounts a ON a.id = n.account_id "
    "WHERE (?1 = 0 OR n.account_id = ?1) AND (?2 = 0 OR n.cta_id = ?2) "
    "AND n.at_ms >= ?3 AND (?4 = 0 OR n.at_ms < ?4) "
    "ORDER BY n.at_ms DESC, n.id DESC LIMIT ?5";

static const char q_holdout_put[] =
    "INSERT INTO cta_holdouts (cta_id, account_id, rule, day, share, draw, held_out) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (cta_id) DO NOTHING";

static const char q_holdout_get[] =
    "SELECT account_id, day, share, draw, held_out FROM cta_holdouts WHERE cta_id = ?1";

static const char q_holdouts_each[] =
    "SELECT cta_id, account_id, rule, day, share, draw, held_out FROM cta_holdouts "
    "WHERE ?1 IS NULL OR rule = ?1 ORDER BY cta_id";

static const char q_cta_actions[] =
    "SELECT h.cta_id, c.account_id, h.day, h.at_ms, h.action, h.actor "
    "FROM cta_history h JOIN ctas c ON c.id = h.cta_id ORDER BY h.cta_id, h.seq";

/* Through events_account's day-first index: one range of days. */
static const char q_outreach[] =
    "SELECT account_id, ts_ms FROM events "
    "WHERE (ts_ms / 86400000) BETWEEN ?1 AND ?2 AND account_id IS NOT NULL AND kind = ?3 "
    "AND ts_ms >= ?4 AND ts_ms < ?5";

enum tend_err sqlite_note_add(struct store *base, const struct store_note *n, int64_t *id) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_note_add);
    sqlite3_bind_int64(st, 1, n->account_id);
    sqlite_bind_id(st, 2, n->cta_id);
    sqlite_bind_text(st, 3, n->kind);
    sqlite_bind_text(st, 4, n->body);
    sqlite_bind_text(st, 5, n->actor);
    sqlite3_bind_int64(st, 6, n->at_ms);
    sqlite3_bind_int(st, 7, n->day);
    int64_t v = 0;
    enum tend_err err = sqlite_step_int(s, st, &v, "recording a note");
    if (!err)
        *id = v;
    return err;
}

enum tend_err sqlite_notes_each(struct store *base, const struct store_note_filter *f,
                                int (*fn)(void *arg, const struct store_note *n), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_notes_each);
    sqlite3_bind_int64(st, 1, f->account_id);
    sqlite3_bind_int64(st, 2, f->cta_id);
    sqlite3_bind_int64(st, 3, f->from_ms);
    sqlite3_bind_int64(st, 4, f->to_ms);
    sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : -1);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_note n = {
            .id = sqlite3_column_int64(st, 0),
            .account_id = sqlite3_column_int64(st, 1),
            .account = sqlite_col_text(st, 2),
            .cta_id = sqlite3_column_int64(st, 3),
            .kind = sqlite_col_text(st, 4),
            .body = sqlite_col_text(st, 5),
            .actor = sqlite_col_text(st, 6),
            .at_ms = sqlite3_column_int64(st, 7),
            .day = sqlite3_column_int(st, 8),
        };
        if (fn(arg, &n)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading notes");
}

enum tend_err sqlite_holdout_put(struct store *base, const struct store_holdout *h) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_holdout_put);
    sqlite3_bind_int64(st, 1, h->cta_id);
    sqlite3_bind_int64(st, 2, h->account_id);
    sqlite_bind_text(st, 3, h->rule);
    sqlite3_bind_int(st, 4, h->day);
    sqlite3_bind_double(st, 5, h->share);
    sqlite3_bind_double(st, 6, h->draw);
    sqlite3_bind_int(st, 7, h->held_out ? 1 : 0);
    return sqlite_done(s, st, "recording a CTA's holdout draw");
}

enum tend_err sqlite_holdout_get(struct store *base, int64_t cta_id, struct store_holdout *out,
                                 bool *found) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_holdout_get);
    sqlite3_bind_int64(st, 1, cta_id);
    int rc = sqlite_step(st);
    if (rc == SQLITE_ROW)
        *out = (struct store_holdout){
            .cta_id = cta_id,
            .account_id = sqlite3_column_int64(st, 0),
            .day = sqlite3_column_int(st, 1),
            .share = sqlite3_column_double(st, 2),
            .draw = sqlite3_column_double(st, 3),
            .held_out = sqlite3_column_int(st, 4) != 0,
        };
    *found = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? TEND_OK
                                                 : sqlite_fail(s, "reading a CTA's holdout draw");
}

enum tend_err sqlite_holdouts_each(struct store *base, const char *rule,
                                   void (*fn)(void *arg, const struct store_holdout *h),
                                   void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_holdouts_each);
    sqlite_bind_text(st, 1, rule);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_holdout h = {
            .cta_id = sqlite3_column_int64(st, 0),
            .account_id = sqlite3_column_int64(st, 1),
            .rule = sqlite_col_text(st, 2),
            .day = sqlite3_column_int(st, 3),
            .share = sqlite3_column_double(st, 4),
            .draw = sqlite3_column_double(st, 5),
            .held_out = sqlite3_column_int(st, 6) != 0,
        };
        fn(arg, &h);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading the holdout's draws");
}

enum tend_err sqlite_cta_actions_each(struct store *base,
                                      void (*fn)(void *arg, const struct store_cta_action *a),
                                      void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_cta_actions);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_cta_action a = {
            .cta_id = sqlite3_column_int64(st, 0),
            .account_id = sqlite3_column_int64(st, 1),
            .day = sqlite3_column_int(st, 2),
            .at_ms = sqlite3_column_int64(st, 3),
            .action = sqlite_col_text(st, 4),
            .actor = sqlite_col_text(st, 5),
        };
        fn(arg, &a);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading CTA histories");
}

enum tend_err sqlite_outreach_each(struct store *base, int64_t from_ms, int64_t to_ms,
                                   void (*fn)(void *arg, int64_t account_id, int64_t ts_ms),
                                   void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_outreach);
    int64_t from_day = from_ms / 86400000, to_day = (to_ms - 1) / 86400000;
    sqlite3_bind_int64(st, 1, from_day < 0 ? 0 : from_day);
    sqlite3_bind_int64(st, 2, to_day);
    sqlite3_bind_int(st, 3, EV_OUTREACH_SENT);
    sqlite3_bind_int64(st, 4, from_ms);
    sqlite3_bind_int64(st, 5, to_ms);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW)
        fn(arg, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading outreach events");
}
