/* store.c: store.h's functions, each dispatched to the backend that opened
 * the store (backend.h).
 *
 * store_open() chooses the backend from the location: a path or a `file:`
 * URI is SQLite; a `postgresql://` or `postgres://` URL will be PostgreSQL,
 * refused until that backend is built (docs/operations.md), rather than read
 * as a file name. Everything else here is one line per operation: the
 * operations table is the only place a backend is named. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/pg_int.h"
#include "store/store.h"

/* Rows read (store_rows_read), of every connection: relaxed, a count only. */
static _Atomic uint64_t rows_read;

void store_rows_add(uint64_t n) {
    atomic_fetch_add_explicit(&rows_read, n, memory_order_relaxed);
}

uint64_t store_rows_read(void) {
    return atomic_load_explicit(&rows_read, memory_order_relaxed);
}

/* True when location is a PostgreSQL connection URL. */
static bool is_postgres(const char *location) {
    return strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0;
}

enum tend_err store_open(const char *path, struct store **out, char *err) {
    return store_open_with(path, 0, out, err);
}

enum tend_err store_open_with(const char *path, unsigned flags, struct store **out, char *err) {
    if (is_postgres(path))
        return pg_open_with(path, flags, out, err);
    return sqlite_open_with(path, flags, out, err);
}

void store_close(struct store *s) {
    if (s) {
        store_list_cache_free(s->list_cache); /* account_list.c */
        s->ops->close(s);
    }
}

enum tend_err store_open_again(struct store *s, struct store **out, char *err) {
    return s->ops->open_again(s, out, err);
}

void store_set_error(struct store *s, const char *msg) {
    s->ops->set_error(s, msg);
}

int store_schema_version(struct store *s) {
    return s->ops->schema_version(s);
}

bool store_shared(struct store *s) {
    return strcmp(s->ops->name, "pg") == 0;
}

const char *store_last_error(struct store *s) {
    return s->ops->last_error(s);
}

enum tend_err store_begin(struct store *s, bool *changed_elsewhere) {
    return s->ops->begin(s, changed_elsewhere);
}

enum tend_err store_commit(struct store *s) {
    return s->ops->commit(s);
}

void store_rollback(struct store *s) {
    s->ops->rollback(s);
}

enum tend_err store_account_find(struct store *s, const char *external_id, int64_t *id) {
    return s->ops->account_find(s, external_id, id);
}

enum tend_err store_account_ensure(struct store *s, const char *external_id, int64_t ts_ms,
                                   int64_t *id, bool *created) {
    return s->ops->account_ensure(s, external_id, ts_ms, id, created);
}

enum tend_err store_account_seen(struct store *s, int64_t id, int64_t ts_ms) {
    return s->ops->account_seen(s, id, ts_ms);
}

enum tend_err store_user_ensure(struct store *s, const char *external_id, bool anonymous,
                                int64_t ts_ms, int64_t *id) {
    return s->ops->user_ensure(s, external_id, anonymous, ts_ms, id);
}

enum tend_err store_name_ensure(struct store *s, const char *name, int64_t *id) {
    return s->ops->name_ensure(s, name, id);
}

enum tend_err store_trait_merge(struct store *s, enum store_entity entity, int64_t id,
                                const char *key, const char *value_json, int64_t ts_ms) {
    return s->ops->trait_merge(s, entity, id, key, value_json, ts_ms);
}

enum tend_err store_traits_each(struct store *s, enum store_entity entity, int64_t id,
                                void (*fn)(void *arg, const char *key, const char *value_json),
                                void *arg) {
    return s->ops->traits_each(s, entity, id, fn, arg);
}

enum tend_err store_account_set_fields(struct store *s, int64_t id,
                                       const struct store_account_fields *f,
                                       const char *traits_json) {
    return s->ops->account_set_fields(s, id, f, traits_json);
}

enum tend_err store_user_set_fields(struct store *s, int64_t id, const char *email,
                                    const char *name, const char *title, const char *traits_json) {
    return s->ops->user_set_fields(s, id, email, name, title, traits_json);
}

enum tend_err store_user_memberships(struct store *s, int64_t user_id,
                                     struct store_membership **out, size_t *n) {
    return s->ops->user_memberships(s, user_id, out, n);
}

enum tend_err store_membership_start(struct store *s, int64_t account_id, int64_t user_id,
                                     int64_t ts_ms, bool *started) {
    return s->ops->membership_start(s, account_id, user_id, ts_ms, started);
}

enum tend_err store_membership_end(struct store *s, int64_t account_id, int64_t user_id,
                                   int64_t ts_ms, bool *ended) {
    return s->ops->membership_end(s, account_id, user_id, ts_ms, ended);
}

enum tend_err store_removal_after(struct store *s, int64_t account_id, int64_t user_id,
                                  int64_t ts_ms, int64_t *removal_ms, bool *found) {
    return s->ops->removal_after(s, account_id, user_id, ts_ms, removal_ms, found);
}

enum tend_err store_event_exists(struct store *s, int64_t key_ts_ms, uint64_t key_hash,
                                 bool *exists) {
    return s->ops->event_exists(s, key_ts_ms, key_hash, exists);
}

enum tend_err store_event_keys_prefetch(struct store *s, const struct store_event_key *keys,
                                        size_t n) {
    return s->ops->event_keys_prefetch(s, keys, n);
}

enum tend_err store_event_put(struct store *s, const struct store_event *ev, bool *inserted) {
    return s->ops->event_put(s, ev, inserted);
}

enum tend_err store_quarantine_put(struct store *s, const struct store_event *ev,
                                   const char *account_external_id, const char *reason) {
    return s->ops->quarantine_put(s, ev, account_external_id, reason);
}

enum tend_err store_quarantine_by_account(struct store *s, const char *external_id,
                                          struct store_pending **out, size_t *n) {
    return s->ops->quarantine_by_account(s, external_id, out, n);
}

enum tend_err store_quarantine_by_user(struct store *s, int64_t user_id, struct store_pending **out,
                                       size_t *n) {
    return s->ops->quarantine_by_user(s, user_id, out, n);
}

enum tend_err store_quarantine_attach(struct store *s, const struct store_pending *p,
                                      int64_t account_id) {
    return s->ops->quarantine_attach(s, p, account_id);
}

enum tend_err store_login_day_add(struct store *s, int64_t account_id, int32_t day) {
    return s->ops->login_day_add(s, account_id, day);
}

enum tend_err store_login_day_last(struct store *s, int64_t account_id, int32_t max_day,
                                   int32_t *day, bool *found) {
    return s->ops->login_day_last(s, account_id, max_day, day, found);
}

enum tend_err store_activity_each(struct store *s, const struct store_span *sp, int64_t from_ms,
                                  int64_t to_ms,
                                  void (*fn)(void *arg, const struct store_activity *a),
                                  void *arg) {
    return s->ops->activity_each(s, sp, from_ms, to_ms, fn, arg);
}

enum tend_err store_activity_refresh(struct store *s, int max_days, int *done) {
    return s->ops->activity_refresh(s, max_days, done);
}

enum tend_err store_activity_stale_each(struct store *s, int32_t from, int32_t to,
                                        void (*fn)(void *arg, int32_t day), void *arg) {
    return s->ops->activity_stale_each(s, from, to, fn, arg);
}

enum tend_err store_activity_days_each(struct store *s, const struct store_span *sp, int32_t from,
                                       int32_t to,
                                       void (*fn)(void *arg, const struct store_activity_day *d),
                                       void *arg) {
    return s->ops->activity_days_each(s, sp, from, to, fn, arg);
}

enum tend_err store_activity_windows_pending(struct store *s, void (*fn)(void *arg, int32_t day),
                                             void *arg) {
    return s->ops->activity_windows_pending(s, fn, arg);
}

enum tend_err store_activity_window_put(struct store *s, int32_t day, int64_t account_id,
                                        const struct metrics_window *w) {
    return s->ops->activity_window_put(s, day, account_id, w);
}

enum tend_err store_activity_windows_each(struct store *s, const struct store_span *sp, int32_t day,
                                          void (*fn)(void *arg, int64_t account_id,
                                                     const struct metrics_window *w),
                                          void *arg) {
    return s->ops->activity_windows_each(s, sp, day, fn, arg);
}

enum tend_err store_activity_windows_done(struct store *s, int32_t day) {
    return s->ops->activity_windows_done(s, day);
}

enum tend_err store_activity_windows_ready(struct store *s, int32_t day, bool *done) {
    return s->ops->activity_windows_ready(s, day, done);
}

enum tend_err store_facts_each(struct store *s, const struct store_span *sp, int64_t before_ms,
                               void (*fn)(void *arg, const struct store_fact *f), void *arg) {
    return s->ops->facts_each(s, sp, before_ms, fn, arg);
}

enum tend_err store_memberships_each(struct store *s, const struct store_span *sp,
                                     void (*fn)(void *arg, const struct store_membership *m),
                                     void *arg) {
    return s->ops->memberships_each(s, sp, fn, arg);
}

enum tend_err store_score_put(struct store *s, int64_t account_id, const struct store_score *sc) {
    return s->ops->score_put(s, account_id, sc);
}

enum tend_err store_score_get(struct store *s, int64_t account_id, int32_t day,
                              struct store_score *out, bool *found) {
    return s->ops->score_get(s, account_id, day, out, found);
}

enum tend_err store_score_history(struct store *s, int64_t account_id, int32_t from, int32_t to,
                                  void (*fn)(void *arg, const struct store_score *sc), void *arg) {
    return s->ops->score_history(s, account_id, from, to, fn, arg);
}

enum tend_err store_scores_of_day(struct store *s, int32_t day,
                                  void (*fn)(void *arg, int64_t account_id, bool has_overall,
                                             double overall),
                                  void *arg) {
    return s->ops->scores_of_day(s, day, fn, arg);
}

enum tend_err store_product_used(struct store *s, int64_t account_id, const char *product,
                                 int32_t first_day, int32_t last_day, bool *used) {
    return s->ops->product_used(s, account_id, product, first_day, last_day, used);
}

enum tend_err store_last_ticket_before(struct store *s, int64_t account_id, int64_t before_ms,
                                       int64_t *ts_ms, bool *found) {
    return s->ops->last_ticket_before(s, account_id, before_ms, ts_ms, found);
}

enum tend_err store_user_label(struct store *s, int64_t user_id, char *buf, size_t size) {
    return s->ops->user_label(s, user_id, buf, size);
}

enum tend_err store_ctas_lock(struct store *s, const struct store_span *sp) {
    return s->ops->ctas_lock(s, sp);
}

enum tend_err store_ctas_watched_each(struct store *s, const struct store_span *sp,
                                      void (*fn)(void *arg, const struct store_cta *c), void *arg) {
    return s->ops->ctas_watched_each(s, sp, fn, arg);
}

enum tend_err store_ctas_live_count(struct store *s, int64_t *n) {
    return s->ops->ctas_live_count(s, n);
}

enum tend_err store_cta_insert(struct store *s, const struct store_cta *c, int64_t *id) {
    return s->ops->cta_insert(s, c, id);
}

enum tend_err store_cta_update(struct store *s, const struct store_cta *c) {
    return s->ops->cta_update(s, c);
}

enum tend_err store_cta_forget_closed(struct store *s, const char *rule, int64_t account_id,
                                      const char *subject) {
    return s->ops->cta_forget_closed(s, rule, account_id, subject);
}

enum tend_err store_cta_get(struct store *s, int64_t id,
                            void (*fn)(void *arg, const struct store_cta *c), void *arg) {
    return s->ops->cta_get(s, id, fn, arg);
}

enum tend_err store_ctas_each(struct store *s, const struct store_cta_filter *f,
                              int (*fn)(void *arg, const struct store_cta *c), void *arg) {
    return s->ops->ctas_each(s, f, fn, arg);
}

enum tend_err store_cta_held_put(struct store *s, const struct store_cta_held *h, bool *is_new) {
    return s->ops->cta_held_put(s, h, is_new);
}

enum tend_err store_ctas_held_each(struct store *s, int32_t week, const char *owner,
                                   int (*fn)(void *arg, const struct store_cta_held *h),
                                   void *arg) {
    return s->ops->ctas_held_each(s, week, owner, fn, arg);
}

enum tend_err store_ctas_held_count(struct store *s, int32_t week, const char *owner, int64_t *n) {
    return s->ops->ctas_held_count(s, week, owner, n);
}

enum tend_err store_ctas_opened_by_owner(struct store *s, int32_t from, int32_t to,
                                         void (*fn)(void *arg, const char *owner, int64_t n),
                                         void *arg) {
    return s->ops->ctas_opened_by_owner(s, from, to, fn, arg);
}

enum tend_err store_cta_history_add(struct store *s, int64_t cta_id,
                                    const struct store_cta_change *ch) {
    return s->ops->cta_history_add(s, cta_id, ch);
}

enum tend_err store_cta_history_each(struct store *s, int64_t cta_id,
                                     void (*fn)(void *arg, const struct store_cta_change *ch),
                                     void *arg) {
    return s->ops->cta_history_each(s, cta_id, fn, arg);
}

enum tend_err store_eval_run_put(struct store *s, int64_t t_ms, int64_t run_ms, int64_t opened,
                                 int64_t updated, int64_t resolved, int64_t errors) {
    return s->ops->eval_run_put(s, t_ms, run_ms, opened, updated, resolved, errors);
}

enum tend_err store_ctas_reset(struct store *s) {
    return s->ops->ctas_reset(s);
}

enum tend_err store_eval_run_before(struct store *s, int64_t t_ms, int64_t *prev_ms, bool *found) {
    return s->ops->eval_run_before(s, t_ms, prev_ms, found);
}

enum tend_err store_scores_of_day_version(struct store *s, int32_t day, const char *version,
                                          void (*fn)(void *arg, int64_t account_id,
                                                     bool has_overall, double overall),
                                          void *arg) {
    return s->ops->scores_of_day_version(s, day, version, fn, arg);
}

enum tend_err store_scores_of_day_ids(
    struct store *s, int32_t day, const char *version, const int64_t *ids, size_t n, bool *any,
    void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg) {
    return s->ops->scores_of_day_ids(s, day, version, ids, n, any, fn, arg);
}

enum tend_err store_notification_add(struct store *s, int64_t cta_id, const char *event,
                                     int32_t day, int64_t created_ms, const char *snapshot,
                                     int64_t *id) {
    return s->ops->notification_add(s, cta_id, event, day, created_ms, snapshot, id);
}

enum tend_err store_outbox_add(struct store *s, const struct store_outbox *row, int64_t *id) {
    return s->ops->outbox_add(s, row, id);
}

enum tend_err store_outbox_recover(struct store *s, int64_t before_ms,
                                   void (*fn)(void *arg, const char *channel, const char *target),
                                   void *arg, int64_t *n) {
    return s->ops->outbox_recover(s, before_ms, fn, arg, n);
}

enum tend_err store_outbox_claim(struct store *s, struct store_claim *rows, size_t n,
                                 int64_t now_ms, int64_t lease_until_ms) {
    return s->ops->outbox_claim(s, rows, n, now_ms, lease_until_ms);
}

enum tend_err store_outbox_lease_renew(struct store *s, const int64_t *ids, size_t n,
                                       int64_t until_ms, int64_t *renewed) {
    return s->ops->outbox_lease_renew(s, ids, n, until_ms, renewed);
}

enum tend_err store_outbox_due_targets(struct store *s, int64_t now_ms,
                                       void (*fn)(void *arg, const char *channel,
                                                  const char *target, int64_t rank),
                                       void *arg) {
    return s->ops->outbox_due_targets(s, now_ms, fn, arg);
}

enum tend_err store_outbox_due(struct store *s, int64_t now_ms, const char *channel,
                               const char *target, int64_t limit,
                               void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    return s->ops->outbox_due(s, now_ms, channel, target, limit, fn, arg);
}

enum tend_err store_outbox_next_due(struct store *s, int64_t after_ms, int64_t *at_ms,
                                    bool *found) {
    return s->ops->outbox_next_due(s, after_ms, at_ms, found);
}

enum tend_err store_outbox_set(struct store *s, const struct store_outbox *row) {
    return s->ops->outbox_set(s, row);
}

enum tend_err store_outbox_hold_set(struct store *s, const struct store_hold *h) {
    return s->ops->outbox_hold_set(s, h);
}

enum tend_err store_outbox_holds_each(struct store *s, int64_t after_ms,
                                      void (*fn)(void *arg, const struct store_hold *h),
                                      void *arg) {
    return s->ops->outbox_holds_each(s, after_ms, fn, arg);
}

enum tend_err store_outbox_holds_prune(struct store *s, int64_t before_ms) {
    return s->ops->outbox_holds_prune(s, before_ms);
}

enum tend_err store_outbox_each(struct store *s, const struct store_outbox_filter *f,
                                void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    return s->ops->outbox_each(s, f, fn, arg);
}

enum tend_err store_outbox_get(struct store *s, int64_t id,
                               void (*fn)(void *arg, const struct store_outbox *row), void *arg) {
    return s->ops->outbox_get(s, id, fn, arg);
}

enum tend_err store_outbox_counts(struct store *s,
                                  void (*fn)(void *arg, const char *status, int64_t rows,
                                             int64_t resends),
                                  void *arg) {
    return s->ops->outbox_counts(s, fn, arg);
}

enum tend_err store_outbox_retry(struct store *s, int64_t id, int64_t now_ms, bool *changed) {
    return s->ops->outbox_retry(s, id, now_ms, changed);
}

enum tend_err store_outbox_retry_dead(struct store *s, int64_t now_ms, int64_t *n) {
    return s->ops->outbox_retry_dead(s, now_ms, n);
}

enum tend_err store_outbox_held_groups(struct store *s, int64_t before_ms,
                                       void (*fn)(void *arg, const char *channel,
                                                  const char *target, const char *owner),
                                       void *arg) {
    return s->ops->outbox_held_groups(s, before_ms, fn, arg);
}

enum tend_err store_outbox_digest_make(struct store *s, const char *channel, const char *target,
                                       const char *owner, int64_t before_ms, int64_t now_ms,
                                       int64_t rank, int64_t *digest_id, int64_t *items) {
    return s->ops->outbox_digest_make(s, channel, target, owner, before_ms, now_ms, rank, digest_id,
                                      items);
}

enum tend_err store_outbox_items_each(struct store *s, int64_t digest_id,
                                      void (*fn)(void *arg, const char *snapshot), void *arg) {
    return s->ops->outbox_items_each(s, digest_id, fn, arg);
}

enum tend_err store_counter_add(struct store *s, const char *name, int64_t delta) {
    return s->ops->counter_add(s, name, delta);
}

enum tend_err store_account_count_events(struct store *s, int64_t account_id, int64_t delta) {
    return s->ops->account_count_events(s, account_id, delta);
}

enum tend_err store_accounts_each(struct store *s,
                                  int (*fn)(void *arg, const struct store_account_row *row),
                                  void *arg) {
    return s->ops->accounts_each(s, fn, arg);
}

enum tend_err store_account_get(struct store *s, int64_t id,
                                int (*fn)(void *arg, const struct store_account_row *row),
                                void *arg) {
    return s->ops->account_get(s, id, fn, arg);
}

enum tend_err store_accounts_brief_each(struct store *s,
                                        int (*fn)(void *arg, const struct store_account_row *row),
                                        void *arg) {
    return s->ops->accounts_brief_each(s, fn, arg);
}

enum tend_err store_accounts_brief_of(struct store *s, const int64_t *ids, size_t n,
                                      int (*fn)(void *arg, const struct store_account_row *row),
                                      void *arg) {
    return s->ops->accounts_brief_of(s, ids, n, fn, arg);
}

enum tend_err store_status_get(struct store *s, struct store_status *out) {
    return s->ops->status_get(s, out);
}

enum tend_err store_counters_each(struct store *s,
                                  void (*fn)(void *arg, const char *name, int64_t value),
                                  void *arg) {
    return s->ops->counters_each(s, fn, arg);
}

enum tend_err store_quarantine_reasons(struct store *s,
                                       void (*fn)(void *arg, const char *reason, int64_t n),
                                       void *arg) {
    return s->ops->quarantine_reasons(s, fn, arg);
}

enum tend_err store_account_briefs(struct store *s, int32_t day,
                                   void (*fn)(void *arg, const struct store_account_brief *b),
                                   void *arg) {
    return s->ops->account_briefs(s, day, fn, arg);
}

enum tend_err store_scores_latest_day(struct store *s, int32_t *day, bool *found) {
    return s->ops->scores_latest_day(s, day, found);
}

enum tend_err store_account_facts_recent(struct store *s, int64_t account_id, int limit,
                                         void (*fn)(void *arg, const struct store_fact *f,
                                                    const char *user),
                                         void *arg) {
    return s->ops->account_facts_recent(s, account_id, limit, fn, arg);
}

enum tend_err store_rule_counts_each(struct store *s, int32_t since_day,
                                     void (*fn)(void *arg, const struct store_rule_counts *c),
                                     void *arg) {
    return s->ops->rule_counts_each(s, since_day, fn, arg);
}

enum tend_err store_outbox_oldest_pending(struct store *s, int64_t *created_ms, bool *found) {
    return s->ops->outbox_oldest_pending(s, created_ms, found);
}

enum tend_err store_outcomes_each(struct store *s, int64_t from_ms, int64_t to_ms,
                                  void (*fn)(void *arg, const struct store_outcome *o), void *arg) {
    return s->ops->outcomes_each(s, from_ms, to_ms, fn, arg);
}

enum tend_err store_copy_to(struct store *s, const char *path) {
    return s->ops->copy_to(s, path);
}

enum tend_err store_report_put(struct store *s, const struct store_report *r, int64_t *id) {
    return s->ops->report_put(s, r, id);
}

enum tend_err store_reports_each(struct store *s, int limit,
                                 void (*fn)(void *arg, const struct store_report *r), void *arg) {
    return s->ops->reports_each(s, limit, fn, arg);
}

enum tend_err store_report_get(struct store *s, int64_t id,
                               void (*fn)(void *arg, const struct store_report *r), void *arg) {
    return s->ops->report_get(s, id, fn, arg);
}

enum tend_err store_model_put(struct store *s, const struct store_model *m, bool adopt,
                              int64_t *version) {
    return s->ops->model_put(s, m, adopt, version);
}

enum tend_err store_model_get(struct store *s, int64_t version,
                              void (*fn)(void *arg, const struct store_model *m), void *arg) {
    return s->ops->model_get(s, version, fn, arg);
}

enum tend_err store_model_for_day(struct store *s, int32_t day,
                                  void (*fn)(void *arg, const struct store_model *m), void *arg) {
    return s->ops->model_for_day(s, day, fn, arg);
}

enum tend_err store_models_each(struct store *s, void (*fn)(void *arg, const struct store_model *m),
                                void *arg) {
    return s->ops->models_each(s, fn, arg);
}

enum tend_err store_last_event_day(struct store *s, int32_t *day, bool *found) {
    return s->ops->last_event_day(s, day, found);
}

enum tend_err store_risk_put(struct store *s, const struct store_risk *r) {
    return s->ops->risk_put(s, r);
}

enum tend_err store_risk_clear_day(struct store *s, int32_t day) {
    return s->ops->risk_clear_day(s, day);
}

enum tend_err store_risk_put_many(struct store *s, const struct store_risk *r, size_t n) {
    return s->ops->risk_put_many(s, r, n);
}

enum tend_err store_risk_latest_day(struct store *s, int32_t max_day, int32_t *day, bool *found) {
    return s->ops->risk_latest_day(s, max_day, day, found);
}

enum tend_err store_risk_of_day(struct store *s, int32_t day,
                                void (*fn)(void *arg, const struct store_risk_row *r), void *arg) {
    return s->ops->risk_of_day(s, day, fn, arg);
}

enum tend_err store_risk_of_account(struct store *s, int32_t day, const char *external_id,
                                    void (*fn)(void *arg, const struct store_risk_row *r),
                                    void *arg) {
    return s->ops->risk_of_account(s, day, external_id, fn, arg);
}

enum tend_err store_session_epoch(struct store *s, const char *email, int64_t *epoch) {
    return s->ops->session_epoch(s, email, epoch);
}

enum tend_err store_session_epoch_bump(struct store *s, const char *email, int64_t now_ms,
                                       int64_t *epoch) {
    return s->ops->session_epoch_bump(s, email, now_ms, epoch);
}

/* ---- several nodes ---------------------------------------------------------------- */

const char *store_backend_name(struct store *s) {
    return s->ops->name;
}

enum tend_err store_lease_acquire(struct store *s, const char *name, const char *holder,
                                  int64_t now_ms, int64_t ttl_ms, struct store_lease *out) {
    return s->ops->lease_acquire(s, name, holder, now_ms, ttl_ms, out);
}

enum tend_err store_lease_release(struct store *s, const char *name, const char *holder) {
    return s->ops->lease_release(s, name, holder);
}

enum tend_err store_run_create(struct store *s, const char *lease, const char *holder, int64_t term,
                               int64_t due_ms, int32_t day, int64_t bucket_ids, int64_t now_ms,
                               bool *created) {
    return s->ops->run_create(s, lease, holder, term, due_ms, day, bucket_ids, now_ms, created);
}

enum tend_err store_run_latest(struct store *s, struct store_run *out, bool *found) {
    return s->ops->run_latest(s, out, found);
}

enum tend_err store_run_get(struct store *s, int64_t due_ms, struct store_run *out) {
    return s->ops->run_get(s, due_ms, out);
}

enum tend_err store_bucket_claim(struct store *s, const char *holder, int64_t now_ms,
                                 int64_t claim_ms, struct store_bucket *out, bool *found) {
    return s->ops->bucket_claim(s, holder, now_ms, claim_ms, out, found);
}

enum tend_err store_bucket_done(struct store *s, const char *holder, int64_t due_ms, int b,
                                int64_t now_ms, const struct store_run_counts *c, bool *ours,
                                bool *run_done, struct store_run *run) {
    return s->ops->bucket_done(s, holder, due_ms, b, now_ms, c, ours, run_done, run);
}

enum tend_err store_account_ids_between(struct store *s, int64_t first, int64_t last, int64_t **ids,
                                        size_t *n) {
    return s->ops->account_ids_between(s, first, last, ids, n);
}

int64_t store_bucket_ids(void) {
    static _Atomic int64_t ids; /* 0: not read yet */
    int64_t v = ids;
    if (v)
        return v;
    const char *e = getenv("TEND_TEST_BUCKET_IDS");
    char *end;
    long long x = e && *e ? strtoll(e, &end, 10) : 0;
    v = e && *e && !*end && x > 0 ? (int64_t)x : STORE_BUCKET_IDS;
    ids = v;
    return v;
}

enum tend_err store_eval_lock_opens(struct store *s) {
    return s->ops->eval_lock_opens(s);
}

enum tend_err store_notify(struct store *s, const char *channel) {
    return s->ops->notify(s, channel);
}

enum tend_err store_listen(struct store *s, const char *channel) {
    return s->ops->listen(s, channel);
}

enum tend_err store_notify_wait(struct store *s, int timeout_ms, char *channel, size_t size,
                                bool *got) {
    return s->ops->notify_wait(s, timeout_ms, channel, size, got);
}

enum tend_err store_customer_message_claim(struct store *s, const struct store_customer_message *m,
                                           bool *claimed) {
    return s->ops->customer_message_claim(s, m, claimed);
}

enum tend_err store_customer_message_link(struct store *s, const struct store_customer_message *m,
                                          int64_t notification_id) {
    return s->ops->customer_message_link(s, m, notification_id);
}

enum tend_err store_customer_messages_each(struct store *s, int64_t account_id, int limit,
                                           void (*fn)(void *arg,
                                                      const struct store_customer_message *m),
                                           void *arg) {
    return s->ops->customer_messages_each(s, account_id, limit, fn, arg);
}

enum tend_err store_customer_unsubscribe(struct store *s, int64_t account_id, const char *kind,
                                         const char *contact, int64_t now_ms) {
    return s->ops->customer_unsubscribe(s, account_id, kind, contact, now_ms);
}

enum tend_err store_customer_unsubscribes_each(struct store *s, int64_t account_id,
                                               void (*fn)(void *arg, const char *kind,
                                                          const char *contact, int64_t ms),
                                               void *arg) {
    return s->ops->customer_unsubscribes_each(s, account_id, fn, arg);
}

enum tend_err store_customer_contacts_each(struct store *s, int64_t account_id,
                                           void (*fn)(void *arg, const char *email,
                                                      const char *traits),
                                           void *arg) {
    return s->ops->customer_contacts_each(s, account_id, fn, arg);
}

enum tend_err store_members_each(struct store *s, const struct store_span *sp, const char *role_key,
                                 bool with_role_only, int64_t before_ms,
                                 void (*fn)(void *arg, const struct store_member *m), void *arg) {
    return s->ops->members_each(s, sp, role_key, with_role_only, before_ms, fn, arg);
}

enum tend_err store_user_logins_each(struct store *s, int64_t account_id, int64_t user_id,
                                     int32_t first_day, int32_t last_day,
                                     void (*fn)(void *arg, int32_t day, int64_t logins),
                                     void *arg) {
    return s->ops->user_logins_each(s, account_id, user_id, first_day, last_day, fn, arg);
}

enum tend_err store_segment_days_put(struct store *s, int32_t day,
                                     const struct store_segment_row *rows, size_t n) {
    return s->ops->segment_days_put(s, day, rows, n);
}

enum tend_err store_segment_part_put(struct store *s, int64_t due_ms, int part,
                                     const struct store_segment_row *rows, size_t n) {
    return s->ops->segment_part_put(s, due_ms, part, rows, n);
}

enum tend_err store_segment_parts_take(struct store *s, int64_t due_ms, bool forget,
                                       void (*fn)(void *arg, const struct store_segment_row *r),
                                       void *arg) {
    return s->ops->segment_parts_take(s, due_ms, forget, fn, arg);
}

enum tend_err store_segment_days_each(struct store *s, int kind, const char *name, int32_t from,
                                      int32_t to,
                                      int (*fn)(void *arg, const struct store_segment_row *r),
                                      void *arg) {
    return s->ops->segment_days_each(s, kind, name, from, to, fn, arg);
}

enum tend_err store_segment_latest_day(struct store *s, int32_t at, int32_t *day, bool *found) {
    return s->ops->segment_latest_day(s, at, day, found);
}

enum tend_err
store_escalation_candidates(struct store *s,
                            void (*fn)(void *arg, const struct store_esc_candidate *c), void *arg) {
    return s->ops->escalation_candidates(s, fn, arg);
}

enum tend_err store_escalation_put(struct store *s, int64_t cta_id, int level, int64_t at_ms,
                                   const char *manager, bool *is_new) {
    return s->ops->escalation_put(s, cta_id, level, at_ms, manager, is_new);
}

enum tend_err store_team_user_add(struct store *s, const struct store_team_user *u) {
    return s->ops->team_user_add(s, u);
}

enum tend_err store_team_user_get(struct store *s, const char *email, struct store_team_user *out,
                                  bool *found) {
    return s->ops->team_user_get(s, email, out, found);
}

enum tend_err store_team_user_set_role(struct store *s, const char *email, const char *role,
                                       int64_t now_ms) {
    return s->ops->team_user_set(s, email, "role", role, now_ms);
}

enum tend_err store_team_user_set_hash(struct store *s, const char *email, const char *hash,
                                       int64_t now_ms) {
    return s->ops->team_user_set(s, email, "hash", hash, now_ms);
}

enum tend_err store_team_user_set_disabled(struct store *s, const char *email, bool disabled,
                                           int64_t now_ms) {
    return s->ops->team_user_set(s, email, "disabled", disabled ? "1" : "0", now_ms);
}

enum tend_err store_team_users_each(struct store *s,
                                    void (*fn)(void *arg, const struct store_team_user *u),
                                    void *arg) {
    return s->ops->team_users_each(s, fn, arg);
}

enum tend_err store_invite_add(struct store *s, const char *hash, const char *email,
                               int64_t expires_ms, const char *by, int64_t now_ms) {
    return s->ops->invite_add(s, hash, email, expires_ms, by, now_ms);
}

enum tend_err store_invite_take(struct store *s, const char *hash, int64_t now_ms,
                                char email[STORE_EMAIL_MAX_BYTES + 1], bool *found) {
    return s->ops->invite_take(s, hash, now_ms, true, email, found);
}

enum tend_err store_invite_peek(struct store *s, const char *hash, int64_t now_ms,
                                char email[STORE_EMAIL_MAX_BYTES + 1], bool *found) {
    return s->ops->invite_take(s, hash, now_ms, false, email, found);
}

enum tend_err store_audit_append(struct store *s, const struct store_audit *a, int64_t *id) {
    return s->ops->audit_append(s, a, id);
}

enum tend_err store_audit_page(struct store *s, int64_t before_id, int limit,
                               void (*fn)(void *arg, const struct store_audit *a), void *arg) {
    return s->ops->audit_page(s, before_id, limit, fn, arg);
}

enum tend_err store_audit_count(struct store *s, int64_t *n) {
    return s->ops->audit_count(s, n);
}

enum tend_err store_token_add(struct store *s, const struct store_token *t) {
    return s->ops->token_add(s, t);
}

enum tend_err store_token_find(struct store *s, const char *sha256, struct store_token *out,
                               bool *found) {
    return s->ops->token_find(s, sha256, out, found);
}

enum tend_err store_token_revoke(struct store *s, const char *name, int64_t now_ms) {
    return s->ops->token_revoke(s, name, now_ms);
}

enum tend_err store_tokens_each(struct store *s, void (*fn)(void *arg, const struct store_token *t),
                                void *arg) {
    return s->ops->tokens_each(s, fn, arg);
}

/* ---- the webhook inbox ---------------------------------------------------- */

/* A text that must be there and fit the inbox's bounds. */
static enum tend_err inbox_text(struct store *s, const char *what, const char *v, size_t max) {
    if (v == NULL || strlen(v) >= max) {
        char msg[128];
        snprintf(msg, sizeof msg, "webhook inbox: the %s is missing or over %zu bytes", what,
                 max - 1);
        store_set_error(s, msg);
        return TEND_ERR_LIMIT;
    }
    return TEND_OK;
}

enum tend_err store_inbox_put(struct store *s, const char *provider, const char *event_id,
                              const char *event_type, int64_t received_ms, const char *payload,
                              bool *inserted) {
    enum tend_err e;
    if ((e = inbox_text(s, "provider", provider, STORE_INBOX_ID_BYTES)) ||
        (e = inbox_text(s, "event id", event_id, STORE_INBOX_ID_BYTES)) ||
        (e = inbox_text(s, "event type", event_type, STORE_INBOX_ID_BYTES)))
        return e;
    if (payload == NULL)
        return inbox_text(s, "payload", payload, 1);
    return s->ops->inbox_put(s, provider, event_id, event_type, received_ms, payload, inserted);
}

enum tend_err store_inbox_next(struct store *s,
                               void (*fn)(void *arg, const struct store_inbox_row *r), void *arg,
                               bool *found) {
    return s->ops->inbox_next(s, fn, arg, found);
}

enum tend_err store_inbox_finish(struct store *s, int64_t id, const char *status,
                                 const char *reason, const char *detail, const char *account,
                                 int events, int64_t now_ms) {
    enum tend_err e;
    if ((e = inbox_text(s, "status", status, STORE_INBOX_ID_BYTES)) ||
        (e = inbox_text(s, "reason", reason, STORE_INBOX_ID_BYTES)) ||
        (e = inbox_text(s, "detail", detail, STORE_INBOX_DETAIL_BYTES)) ||
        (e = inbox_text(s, "account", account, STORE_INBOX_ID_BYTES)))
        return e;
    return s->ops->inbox_finish(s, id, status, reason, detail, account, events, now_ms);
}

enum tend_err store_inbox_each(struct store *s, const char *provider, const char *status,
                               int64_t limit,
                               void (*fn)(void *arg, const struct store_inbox_row *r), void *arg) {
    return s->ops->inbox_each(s, provider, status, limit, fn, arg);
}

enum tend_err store_inbox_requeue(struct store *s, const char *provider, const char *status,
                                  int64_t id, int64_t *n) {
    return s->ops->inbox_requeue(s, provider, status, id, n);
}

enum tend_err store_inbox_prune(struct store *s, int64_t before_ms, int64_t *n) {
    return s->ops->inbox_prune(s, before_ms, n);
}

enum tend_err store_inbox_counts(struct store *s,
                                 void (*fn)(void *arg, const char *provider, const char *status,
                                            const char *reason, int64_t rows),
                                 void *arg) {
    return s->ops->inbox_counts(s, fn, arg);
}

enum tend_err store_hook_account_put(struct store *s, const char *provider, const char *provider_id,
                                     const char *account, int64_t now_ms) {
    enum tend_err e;
    if ((e = inbox_text(s, "provider", provider, STORE_INBOX_ID_BYTES)) ||
        (e = inbox_text(s, "provider's id", provider_id, STORE_INBOX_ID_BYTES)) ||
        (e = inbox_text(s, "account", account, STORE_INBOX_ID_BYTES)))
        return e;
    if (!provider_id[0] || !account[0]) {
        store_set_error(s, "webhook accounts: the provider's id and the account must not be empty");
        return TEND_ERR_INVALID;
    }
    return s->ops->hook_account_put(s, provider, provider_id, account, now_ms);
}

enum tend_err store_hook_account_get(struct store *s, const char *provider, const char *provider_id,
                                     char account[STORE_INBOX_ID_BYTES], bool *found) {
    enum tend_err e;
    if ((e = inbox_text(s, "provider", provider, STORE_INBOX_ID_BYTES)) ||
        (e = inbox_text(s, "provider's id", provider_id, STORE_INBOX_ID_BYTES)))
        return e;
    return s->ops->hook_account_get(s, provider, provider_id, account, found);
}

enum tend_err store_revenue_each(struct store *s, int64_t before_ms,
                                 void (*fn)(void *arg, const struct store_revenue_fact *f),
                                 void *arg) {
    return s->ops->revenue_each(s, before_ms, fn, arg);
}

enum tend_err store_note_add(struct store *s, const struct store_note *n, int64_t *id) {
    return s->ops->note_add(s, n, id);
}

enum tend_err store_notes_each(struct store *s, const struct store_note_filter *f,
                               int (*fn)(void *arg, const struct store_note *n), void *arg) {
    return s->ops->notes_each(s, f, fn, arg);
}

enum tend_err store_holdout_put(struct store *s, const struct store_holdout *h) {
    return s->ops->holdout_put(s, h);
}

enum tend_err store_holdout_get(struct store *s, int64_t cta_id, struct store_holdout *out,
                                bool *found) {
    return s->ops->holdout_get(s, cta_id, out, found);
}

enum tend_err store_holdouts_each(struct store *s, const char *rule,
                                  void (*fn)(void *arg, const struct store_holdout *h), void *arg) {
    return s->ops->holdouts_each(s, rule, fn, arg);
}

enum tend_err store_cta_actions_each(struct store *s,
                                     void (*fn)(void *arg, const struct store_cta_action *a),
                                     void *arg) {
    return s->ops->cta_actions_each(s, fn, arg);
}

enum tend_err store_outreach_each(struct store *s, int64_t from_ms, int64_t to_ms,
                                  void (*fn)(void *arg, int64_t account_id, int64_t ts_ms),
                                  void *arg) {
    return s->ops->outreach_each(s, from_ms, to_ms, fn, arg);
}

enum tend_err store_cta_step_set(struct store *s, int64_t cta_id, const struct store_cta_step *st) {
    return s->ops->cta_step_set(s, cta_id, st);
}

enum tend_err store_cta_steps_each(struct store *s, int64_t cta_id,
                                   void (*fn)(void *arg, const struct store_cta_step *st),
                                   void *arg) {
    return s->ops->cta_steps_each(s, cta_id, fn, arg);
}

enum tend_err store_account_costs_each(struct store *s, int64_t from_ms, int64_t to_ms,
                                       void (*fn)(void *arg, const struct store_account_costs *c),
                                       void *arg) {
    return s->ops->account_costs_each(s, from_ms, to_ms, fn, arg);
}
