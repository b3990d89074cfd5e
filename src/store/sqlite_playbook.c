/* sqlite_playbook.c: playbook steps done on CTAs in SQLite (see store.h,
 * "playbook steps", and docs/store.md).
 *
 * One row per CTA and step id (migration 29), written by one upsert: the
 * latest tick or untick wins, and the CTA's history (written in the same
 * transaction by eval/playbook.c) keeps every change. A step of a CTA that
 * does not exist is refused rather than stored. */
#include <stdio.h>

#include "store/sqlite_int.h"

static const char q_set[] =
    "INSERT INTO cta_steps (cta_id, step, done, actor, at_ms) "
    "SELECT id, ?2, ?3, ?4, ?5 FROM ctas WHERE id = ?1 "
    "ON CONFLICT (cta_id, step) DO UPDATE SET done = excluded.done, actor = excluded.actor, "
    "at_ms = excluded.at_ms";
static const char q_each[] =
    "SELECT step, done, actor, at_ms FROM cta_steps WHERE cta_id = ?1 ORDER BY step";

enum tend_err sqlite_cta_step_set(struct store *base, int64_t cta_id,
                                  const struct store_cta_step *st) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q = sqlite_stmt(s, q_set);
    sqlite3_bind_int64(q, 1, cta_id);
    sqlite_bind_text(q, 2, st->step);
    sqlite3_bind_int(q, 3, st->done ? 1 : 0);
    sqlite_bind_text(q, 4, st->actor);
    sqlite3_bind_int64(q, 5, st->at_ms);
    int rc = sqlite_step(q);
    enum tend_err e = rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "recording a playbook step");
    if (!e && sqlite3_changes(s->db) == 0) {
        char msg[64];
        snprintf(msg, sizeof msg, "no CTA %lld", (long long)cta_id);
        store_set_error(base, msg);
        e = TEND_ERR_NOTFOUND;
    }
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return e;
}

enum tend_err sqlite_cta_steps_each(struct store *base, int64_t cta_id,
                                    void (*fn)(void *arg, const struct store_cta_step *st),
                                    void *arg) {
    struct sqlite_store *s = sqlite_of(base);
    sqlite3_stmt *q = sqlite_stmt(s, q_each);
    sqlite3_bind_int64(q, 1, cta_id);
    int rc;
    while ((rc = sqlite_step(q)) == SQLITE_ROW) {
        struct store_cta_step st = {
            .step = (const char *)sqlite3_column_text(q, 0),
            .done = sqlite3_column_int(q, 1) != 0,
            .actor = (const char *)sqlite3_column_text(q, 2),
            .at_ms = sqlite3_column_int64(q, 3),
        };
        fn(arg, &st);
    }
    enum tend_err e = rc == SQLITE_DONE ? TEND_OK : sqlite_fail(s, "reading playbook steps");
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return e;
}
