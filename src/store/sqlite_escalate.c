/* sqlite_escalate.c: escalations of CTAs (store.h, "escalation"): the open
 * CTAs with what the planner needs, and the once-per-level record whose
 * primary key (cta_id, level) makes a second escalation of a level a no-op,
 * whoever tries it (a restart, a second process). */
#include <stdint.h>

#include "store/codes.h"
#include "store/sqlite_int.h"

static const char q_esc_candidates[] =
    "SELECT c.id, c.account_id, c.priority, c.opened_day, c.due_day, "
    "(SELECT min(h.at_ms) FROM cta_history h WHERE h.cta_id = c.id AND h.action = 'open'), "
    "(SELECT min(h.at_ms) FROM cta_history h WHERE h.cta_id = c.id AND h.actor <> "
    "'" STORE_ACTOR_TEND "'), "
    "(SELECT coalesce(sum(1 << e.level), 0) FROM cta_escalations e WHERE e.cta_id = c.id) "
    "FROM ctas c WHERE c.status = " SQL_CTA_OPEN " ORDER BY c.id";

static const char q_esc_put[] = "INSERT INTO cta_escalations (cta_id, level, at_ms, manager) "
                                "SELECT id, ?2, ?3, ?4 FROM ctas WHERE id = ?1 "
                                "ON CONFLICT (cta_id, level) DO NOTHING";

enum tend_err sqlite_escalation_candidates(
    struct store *base, void (*fn)(void *arg, const struct store_esc_candidate *c), void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_esc_candidates);
    int rc;
    while ((rc = sqlite_step(st)) == SQLITE_ROW) {
        struct store_esc_candidate c = {
            .cta_id = sqlite3_column_int64(st, 0),
            .account_id = sqlite3_column_int64(st, 1),
            .priority = sqlite3_column_int(st, 2),
            .opened_day = sqlite3_column_int(st, 3),
            .due_day = sqlite3_column_int(st, 4),
            .open_ms = sqlite3_column_int64(st, 5),
            .first_act_ms = sqlite3_column_int64(st, 6),
            .levels = (unsigned)sqlite3_column_int64(st, 7),
        };
        fn(arg, &c);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "listing CTAs to escalate");
}

enum tend_err sqlite_escalation_put(struct store *base, int64_t cta_id, int level, int64_t at_ms,
                                    const char *manager, bool *is_new) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *st = sqlite_stmt(s, q_esc_put);
    sqlite3_bind_int64(st, 1, cta_id);
    sqlite3_bind_int(st, 2, level);
    sqlite3_bind_int64(st, 3, at_ms);
    sqlite_bind_text(st, 4, manager);
    enum tend_err err = sqlite_done(s, st, "recording an escalation");
    if (!err)
        *is_new = sqlite_changes(s) == 1;
    return err;
}
