/* backend.h: what a storage backend implements behind store.h (private to
 * store/; callers include store.h only).
 *
 * A struct store is a backend's connection whose first member is this base:
 * the operations of its backend. store.c's functions (the ones store.h
 * declares) each call the operation of the same name through s->ops, so a
 * caller never knows which backend runs. A backend embeds the base first
 * (`struct sqlite_store { struct store base; ... }`) and converts back with a
 * cast of the pointer, which C allows for a struct's first member.
 *
 * One field per operation, in store.h's order, with store.h's parameters:
 * explicit rather than generated from an X-macro list, so that each
 * operation, its wrapper and its implementation can be found by name
 * (docs/store.md, "The operations table"). Every field is set: a backend
 * without an operation fails it with TEND_ERR_INVALID and a message, it does
 * not leave a NULL. */
#ifndef TEND_STORE_BACKEND_H
#define TEND_STORE_BACKEND_H

#include "store/store.h"

struct store_ops {
    const char *name; /* "sqlite" */
    enum tend_err (*open_again)(struct store *s, struct store **out, char *err);
    void (*set_error)(struct store *s, const char *msg);
    void (*close)(struct store *s);
    int (*schema_version)(struct store *s);
    const char *(*last_error)(struct store *s);
    enum tend_err (*begin)(struct store *s, bool *changed_elsewhere);
    enum tend_err (*commit)(struct store *s);
    void (*rollback)(struct store *s);
    enum tend_err (*account_find)(struct store *s, const char *external_id, int64_t *id);
    enum tend_err (*account_ensure)(struct store *s, const char *external_id, int64_t ts_ms,
                                    int64_t *id, bool *created);
    enum tend_err (*account_seen)(struct store *s, int64_t id, int64_t ts_ms);
    enum tend_err (*user_ensure)(struct store *s, const char *external_id, bool anonymous,
                                 int64_t ts_ms, int64_t *id);
    enum tend_err (*name_ensure)(struct store *s, const char *name, int64_t *id);
    enum tend_err (*trait_merge)(struct store *s, enum store_entity entity, int64_t id,
                                 const char *key, const char *value_json, int64_t ts_ms);
    enum tend_err (*traits_each)(struct store *s, enum store_entity entity, int64_t id,
                                 void (*fn)(void *arg, const char *key, const char *value_json),
                                 void *arg);
    enum tend_err (*account_set_fields)(struct store *s, int64_t id,
                                        const struct store_account_fields *f,
                                        const char *traits_json);
    enum tend_err (*user_set_fields)(struct store *s, int64_t id, const char *email,
                                     const char *name, const char *title, const char *traits_json);
    enum tend_err (*user_memberships)(struct store *s, int64_t user_id,
                                      struct store_membership **out, size_t *n);
    enum tend_err (*membership_start)(struct store *s, int64_t account_id, int64_t user_id,
                                      int64_t ts_ms, bool *started);
    enum tend_err (*membership_end)(struct store *s, int64_t account_id, int64_t user_id,
                                    int64_t ts_ms, bool *ended);
    enum tend_err (*removal_after)(struct store *s, int64_t account_id, int64_t user_id,
                                   int64_t ts_ms, int64_t *removal_ms, bool *found);
    enum tend_err (*event_exists)(struct store *s, int64_t key_ts_ms, uint64_t key_hash,
                                  bool *exists);
    enum tend_err (*event_keys_prefetch)(struct store *s, const struct store_event_key *keys,
                                         size_t n);
    enum tend_err (*event_put)(struct store *s, const struct store_event *ev, bool *inserted);
    enum tend_err (*quarantine_put)(struct store *s, const struct store_event *ev,
                                    const char *account_external_id, const char *reason);
    enum tend_err (*quarantine_by_account)(struct store *s, const char *external_id,
                                           struct store_pending **out, size_t *n);
    enum tend_err (*quarantine_by_user)(struct store *s, int64_t user_id,
                                        struct store_pending **out, size_t *n);
    enum tend_err (*quarantine_attach)(struct store *s, const struct store_pending *p,
                                       int64_t account_id);
    enum tend_err (*login_day_add)(struct store *s, int64_t account_id, int32_t day);
    enum tend_err (*login_day_last)(struct store *s, int64_t account_id, int32_t max_day,
                                    int32_t *day, bool *found);
    enum tend_err (*activity_each)(struct store *s, const struct store_span *sp, int64_t from_ms,
                                   int64_t to_ms,
                                   void (*fn)(void *arg, const struct store_activity *a),
                                   void *arg);
    enum tend_err (*activity_refresh)(struct store *s, int max_days, int *done);
    enum tend_err (*activity_stale_each)(struct store *s, int32_t from, int32_t to,
                                         void (*fn)(void *arg, int32_t day), void *arg);
    enum tend_err (*activity_days_each)(struct store *s, const struct store_span *sp, int32_t from,
                                        int32_t to,
                                        void (*fn)(void *arg, const struct store_activity_day *d),
                                        void *arg);
    enum tend_err (*activity_windows_pending)(struct store *s, void (*fn)(void *arg, int32_t day),
                                              void *arg);
    enum tend_err (*activity_window_put)(struct store *s, int32_t day, int64_t account_id,
                                         const struct metrics_window *w);
    enum tend_err (*activity_windows_each)(
        struct store *s, const struct store_span *sp, int32_t day,
        void (*fn)(void *arg, int64_t account_id, const struct metrics_window *w), void *arg);
    enum tend_err (*activity_windows_done)(struct store *s, int32_t day);
    enum tend_err (*activity_windows_ready)(struct store *s, int32_t day, bool *done);
    enum tend_err (*facts_each)(struct store *s, const struct store_span *sp, int64_t before_ms,
                                void (*fn)(void *arg, const struct store_fact *f), void *arg);
    enum tend_err (*memberships_each)(struct store *s, const struct store_span *sp,
                                      void (*fn)(void *arg, const struct store_membership *m),
                                      void *arg);
    enum tend_err (*score_put)(struct store *s, int64_t account_id, const struct store_score *sc);
    enum tend_err (*score_get)(struct store *s, int64_t account_id, int32_t day,
                               struct store_score *out, bool *found);
    enum tend_err (*score_history)(struct store *s, int64_t account_id, int32_t from, int32_t to,
                                   void (*fn)(void *arg, const struct store_score *sc), void *arg);
    enum tend_err (*scores_of_day)(struct store *s, int32_t day,
                                   void (*fn)(void *arg, int64_t account_id, bool has_overall,
                                              double overall),
                                   void *arg);
    enum tend_err (*product_used)(struct store *s, int64_t account_id, const char *product,
                                  int32_t first_day, int32_t last_day, bool *used);
    enum tend_err (*last_ticket_before)(struct store *s, int64_t account_id, int64_t before_ms,
                                        int64_t *ts_ms, bool *found);
    enum tend_err (*user_label)(struct store *s, int64_t user_id, char *buf, size_t size);
    enum tend_err (*ctas_lock)(struct store *s, const struct store_span *sp);
    enum tend_err (*ctas_watched_each)(struct store *s, const struct store_span *sp,
                                       void (*fn)(void *arg, const struct store_cta *c), void *arg);
    enum tend_err (*ctas_live_count)(struct store *s, int64_t *n);
    enum tend_err (*cta_insert)(struct store *s, const struct store_cta *c, int64_t *id);
    enum tend_err (*cta_update)(struct store *s, const struct store_cta *c);
    enum tend_err (*cta_forget_closed)(struct store *s, const char *rule, int64_t account_id,
                                       const char *subject);
    enum tend_err (*cta_get)(struct store *s, int64_t id,
                             void (*fn)(void *arg, const struct store_cta *c), void *arg);
    enum tend_err (*ctas_each)(struct store *s, const struct store_cta_filter *f,
                               int (*fn)(void *arg, const struct store_cta *c), void *arg);
    enum tend_err (*cta_held_put)(struct store *s, const struct store_cta_held *h, bool *is_new);
    enum tend_err (*ctas_held_each)(struct store *s, int32_t week, const char *owner,
                                    int (*fn)(void *arg, const struct store_cta_held *h),
                                    void *arg);
    enum tend_err (*ctas_held_count)(struct store *s, int32_t week, const char *owner, int64_t *n);
    enum tend_err (*ctas_opened_by_owner)(struct store *s, int32_t from, int32_t to,
                                          void (*fn)(void *arg, const char *owner, int64_t n),
                                          void *arg);
    enum tend_err (*cta_history_add)(struct store *s, int64_t cta_id,
                                     const struct store_cta_change *ch);
    enum tend_err (*cta_history_each)(struct store *s, int64_t cta_id,
                                      void (*fn)(void *arg, const struct store_cta_change *ch),
                                      void *arg);
    enum tend_err (*eval_run_put)(struct store *s, int64_t t_ms, int64_t run_ms, int64_t opened,
                                  int64_t updated, int64_t resolved, int64_t errors);
    enum tend_err (*ctas_reset)(struct store *s);
    enum tend_err (*eval_run_before)(struct store *s, int64_t t_ms, int64_t *prev_ms, bool *found);
    enum tend_err (*scores_of_day_version)(struct store *s, int32_t day, const char *version,
                                           void (*fn)(void *arg, int64_t account_id,
                                                      bool has_overall, double overall),
                                           void *arg);
    enum tend_err (*scores_of_day_ids)(
        struct store *s, int32_t day, const char *version, const int64_t *ids, size_t n, bool *any,
        void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg);
    enum tend_err (*notification_add)(struct store *s, int64_t cta_id, const char *event,
                                      int32_t day, int64_t created_ms, const char *snapshot,
                                      int64_t *id);
    enum tend_err (*outbox_add)(struct store *s, const struct store_outbox *row, int64_t *id);
    enum tend_err (*outbox_recover)(struct store *s, int64_t before_ms,
                                    void (*fn)(void *arg, const char *channel, const char *target),
                                    void *arg, int64_t *n);
    enum tend_err (*outbox_claim)(struct store *s, struct store_claim *rows, size_t n,
                                  int64_t now_ms, int64_t lease_until_ms);
    enum tend_err (*outbox_lease_renew)(struct store *s, const int64_t *ids, size_t n,
                                        int64_t until_ms, int64_t *renewed);
    enum tend_err (*outbox_due_targets)(struct store *s, int64_t now_ms,
                                        void (*fn)(void *arg, const char *channel,
                                                   const char *target, int64_t rank),
                                        void *arg);
    enum tend_err (*outbox_due)(struct store *s, int64_t now_ms, const char *channel,
                                const char *target, int64_t limit,
                                void (*fn)(void *arg, const struct store_outbox *row), void *arg);
    enum tend_err (*outbox_next_due)(struct store *s, int64_t after_ms, int64_t *at_ms,
                                     bool *found);
    enum tend_err (*outbox_set)(struct store *s, const struct store_outbox *row);
    enum tend_err (*outbox_hold_set)(struct store *s, const struct store_hold *h);
    enum tend_err (*outbox_holds_each)(struct store *s, int64_t after_ms,
                                       void (*fn)(void *arg, const struct store_hold *h),
                                       void *arg);
    enum tend_err (*outbox_holds_prune)(struct store *s, int64_t before_ms);
    enum tend_err (*outbox_each)(struct store *s, const struct store_outbox_filter *f,
                                 void (*fn)(void *arg, const struct store_outbox *row), void *arg);
    enum tend_err (*outbox_get)(struct store *s, int64_t id,
                                void (*fn)(void *arg, const struct store_outbox *row), void *arg);
    enum tend_err (*outbox_counts)(struct store *s,
                                   void (*fn)(void *arg, const char *status, int64_t rows,
                                              int64_t resends),
                                   void *arg);
    enum tend_err (*outbox_retry)(struct store *s, int64_t id, int64_t now_ms, bool *changed);
    enum tend_err (*outbox_retry_dead)(struct store *s, int64_t now_ms, int64_t *n);
    enum tend_err (*outbox_held_groups)(struct store *s, int64_t before_ms,
                                        void (*fn)(void *arg, const char *channel,
                                                   const char *target, const char *owner),
                                        void *arg);
    enum tend_err (*outbox_digest_make)(struct store *s, const char *channel, const char *target,
                                        const char *owner, int64_t before_ms, int64_t now_ms,
                                        int64_t rank, int64_t *digest_id, int64_t *items);
    enum tend_err (*outbox_items_each)(struct store *s, int64_t digest_id,
                                       void (*fn)(void *arg, const char *snapshot), void *arg);
    enum tend_err (*counter_add)(struct store *s, const char *name, int64_t delta);
    enum tend_err (*account_count_events)(struct store *s, int64_t account_id, int64_t delta);
    enum tend_err (*accounts_each)(struct store *s,
                                   int (*fn)(void *arg, const struct store_account_row *row),
                                   void *arg);
    enum tend_err (*account_get)(struct store *s, int64_t id,
                                 int (*fn)(void *arg, const struct store_account_row *row),
                                 void *arg);
    enum tend_err (*accounts_brief_each)(struct store *s,
                                         int (*fn)(void *arg, const struct store_account_row *row),
                                         void *arg);
    enum tend_err (*accounts_brief_of)(struct store *s, const int64_t *ids, size_t n,
                                       int (*fn)(void *arg, const struct store_account_row *row),
                                       void *arg);
    enum tend_err (*status_get)(struct store *s, struct store_status *out);
    enum tend_err (*counters_each)(struct store *s,
                                   void (*fn)(void *arg, const char *name, int64_t value),
                                   void *arg);
    enum tend_err (*quarantine_reasons)(struct store *s,
                                        void (*fn)(void *arg, const char *reason, int64_t n),
                                        void *arg);
    enum tend_err (*account_briefs)(struct store *s, int32_t day,
                                    void (*fn)(void *arg, const struct store_account_brief *b),
                                    void *arg);
    enum tend_err (*scores_latest_day)(struct store *s, int32_t *day, bool *found);
    enum tend_err (*account_facts_recent)(struct store *s, int64_t account_id, int limit,
                                          void (*fn)(void *arg, const struct store_fact *f,
                                                     const char *user),
                                          void *arg);
    enum tend_err (*rule_counts_each)(struct store *s, int32_t since_day,
                                      void (*fn)(void *arg, const struct store_rule_counts *c),
                                      void *arg);
    enum tend_err (*outbox_oldest_pending)(struct store *s, int64_t *created_ms, bool *found);
    enum tend_err (*outcomes_each)(struct store *s, int64_t from_ms, int64_t to_ms,
                                   void (*fn)(void *arg, const struct store_outcome *o), void *arg);
    enum tend_err (*copy_to)(struct store *s, const char *path);
    enum tend_err (*report_put)(struct store *s, const struct store_report *r, int64_t *id);
    enum tend_err (*reports_each)(struct store *s, int limit,
                                  void (*fn)(void *arg, const struct store_report *r), void *arg);
    enum tend_err (*report_get)(struct store *s, int64_t id,
                                void (*fn)(void *arg, const struct store_report *r), void *arg);
    enum tend_err (*model_put)(struct store *s, const struct store_model *m, bool adopt,
                               int64_t *version);
    enum tend_err (*model_get)(struct store *s, int64_t version,
                               void (*fn)(void *arg, const struct store_model *m), void *arg);
    enum tend_err (*model_for_day)(struct store *s, int32_t day,
                                   void (*fn)(void *arg, const struct store_model *m), void *arg);
    enum tend_err (*models_each)(struct store *s,
                                 void (*fn)(void *arg, const struct store_model *m), void *arg);
    enum tend_err (*last_event_day)(struct store *s, int32_t *day, bool *found);
    enum tend_err (*risk_put)(struct store *s, const struct store_risk *r);
    enum tend_err (*risk_clear_day)(struct store *s, int32_t day);
    enum tend_err (*risk_put_many)(struct store *s, const struct store_risk *r, size_t n);
    enum tend_err (*risk_latest_day)(struct store *s, int32_t max_day, int32_t *day, bool *found);
    enum tend_err (*risk_of_day)(struct store *s, int32_t day,
                                 void (*fn)(void *arg, const struct store_risk_row *r), void *arg);
    enum tend_err (*risk_of_account)(struct store *s, int32_t day, const char *external_id,
                                     void (*fn)(void *arg, const struct store_risk_row *r),
                                     void *arg);
    enum tend_err (*session_epoch)(struct store *s, const char *email, int64_t *epoch);
    enum tend_err (*session_epoch_bump)(struct store *s, const char *email, int64_t now_ms,
                                        int64_t *epoch);
    enum tend_err (*lease_acquire)(struct store *s, const char *name, const char *holder,
                                   int64_t now_ms, int64_t ttl_ms, struct store_lease *out);
    enum tend_err (*lease_release)(struct store *s, const char *name, const char *holder);
    enum tend_err (*run_create)(struct store *s, const char *lease, const char *holder,
                                int64_t term, int64_t due_ms, int32_t day, int64_t bucket_ids,
                                int64_t now_ms, bool *created);
    enum tend_err (*run_latest)(struct store *s, struct store_run *out, bool *found);
    enum tend_err (*run_get)(struct store *s, int64_t due_ms, struct store_run *out);
    enum tend_err (*bucket_claim)(struct store *s, const char *holder, int64_t now_ms,
                                  int64_t claim_ms, struct store_bucket *out, bool *found);
    enum tend_err (*bucket_done)(struct store *s, const char *holder, int64_t due_ms, int b,
                                 int64_t now_ms, const struct store_run_counts *c, bool *ours,
                                 bool *run_done, struct store_run *run);
    enum tend_err (*account_ids_between)(struct store *s, int64_t first, int64_t last,
                                         int64_t **ids, size_t *n);
    enum tend_err (*eval_lock_opens)(struct store *s);
    enum tend_err (*notify)(struct store *s, const char *channel);
    enum tend_err (*listen)(struct store *s, const char *channel);
    enum tend_err (*notify_wait)(struct store *s, int timeout_ms, char *channel, size_t size,
                                 bool *got);
    enum tend_err (*customer_message_claim)(struct store *s, const struct store_customer_message *m,
                                            bool *claimed);
    enum tend_err (*customer_message_link)(struct store *s, const struct store_customer_message *m,
                                           int64_t notification_id);
    enum tend_err (*customer_messages_each)(struct store *s, int64_t account_id, int limit,
                                            void (*fn)(void *arg,
                                                       const struct store_customer_message *m),
                                            void *arg);
    enum tend_err (*customer_unsubscribe)(struct store *s, int64_t account_id, const char *kind,
                                          const char *contact, int64_t now_ms);
    enum tend_err (*customer_unsubscribes_each)(struct store *s, int64_t account_id,
                                                void (*fn)(void *arg, const char *kind,
                                                           const char *contact, int64_t ms),
                                                void *arg);
    enum tend_err (*customer_contacts_each)(struct store *s, int64_t account_id,
                                            void (*fn)(void *arg, const char *email,
                                                       const char *traits),
                                            void *arg);

    enum tend_err (*members_each)(struct store *s, const struct store_span *sp,
                                  const char *role_key, bool with_role_only, int64_t before_ms,
                                  void (*fn)(void *arg, const struct store_member *m), void *arg);
    enum tend_err (*user_logins_each)(struct store *s, int64_t account_id, int64_t user_id,
                                      int32_t first_day, int32_t last_day,
                                      void (*fn)(void *arg, int32_t day, int64_t logins),
                                      void *arg);

    enum tend_err (*segment_days_put)(struct store *s, int32_t day,
                                      const struct store_segment_row *rows, size_t n);
    enum tend_err (*segment_part_put)(struct store *s, int64_t due_ms, int part,
                                      const struct store_segment_row *rows, size_t n);
    enum tend_err (*segment_parts_take)(struct store *s, int64_t due_ms, bool forget,
                                        void (*fn)(void *arg, const struct store_segment_row *r),
                                        void *arg);
    enum tend_err (*segment_days_each)(struct store *s, int kind, const char *name, int32_t from,
                                       int32_t to,
                                       int (*fn)(void *arg, const struct store_segment_row *r),
                                       void *arg);
    enum tend_err (*segment_latest_day)(struct store *s, int32_t at, int32_t *day, bool *found);

    enum tend_err (*escalation_candidates)(
        struct store *s, void (*fn)(void *arg, const struct store_esc_candidate *c), void *arg);
    enum tend_err (*escalation_put)(struct store *s, int64_t cta_id, int level, int64_t at_ms,
                                    const char *manager, bool *is_new);

    /* The account list (account_list.c). data_version: a text that changes
     * whenever any connection commits (truncated: never cached).
     * account_summary: the account count, the day's band counts, and the
     * distinct owners (which 0) then segments (1) in byte order.
     * account_count: the rows of part (0: all; 1: the sort's head, its
     * known values) the filters keep. account_rows: the id, external id and
     * name of part 1 (head) or 2 (tail, unknown values) in the sort's
     * order, offset and limit (< 0: every row). account_rows_of: the rows
     * of the n ids, in their order. */
    enum tend_err (*data_version)(struct store *s, char *buf, size_t size);
    enum tend_err (*account_summary)(struct store *s, int32_t day, int64_t *accounts,
                                     int64_t bands[4],
                                     void (*facet)(void *arg, int which, const char *v), void *arg);
    enum tend_err (*account_count)(struct store *s, const struct store_account_query *q, int part,
                                   int64_t *n);
    enum tend_err (*account_rows)(struct store *s, const struct store_account_query *q, int part,
                                  int64_t offset, int64_t limit,
                                  void (*fn)(void *arg, int64_t id, const char *external_id,
                                             const char *name),
                                  void *arg);
    enum tend_err (*account_rows_of)(
        struct store *s, int32_t day, const int64_t *ids, size_t n,
        void (*fn)(void *arg, const struct store_account_brief *b),
        void *arg); /* people and the audit log (sqlite_team.c, pg_team.c); field: "role",
                     * "hash" or "disabled" ("0"/"1"); take false: only look (invite_peek). */
    enum tend_err (*team_user_add)(struct store *s, const struct store_team_user *u);
    enum tend_err (*team_user_get)(struct store *s, const char *email, struct store_team_user *out,
                                   bool *found);
    enum tend_err (*team_user_set)(struct store *s, const char *email, const char *field,
                                   const char *value, int64_t now_ms);
    enum tend_err (*team_users_each)(struct store *s,
                                     void (*fn)(void *arg, const struct store_team_user *u),
                                     void *arg);
    enum tend_err (*invite_add)(struct store *s, const char *hash, const char *email,
                                int64_t expires_ms, const char *by, int64_t now_ms);
    enum tend_err (*invite_take)(struct store *s, const char *hash, int64_t now_ms, bool take,
                                 char *email, bool *found);
    enum tend_err (*audit_append)(struct store *s, const struct store_audit *a, int64_t *id);
    enum tend_err (*audit_page)(struct store *s, int64_t before_id, int limit,
                                void (*fn)(void *arg, const struct store_audit *a), void *arg);
    enum tend_err (*audit_count)(struct store *s, int64_t *n);
    enum tend_err (*token_add)(struct store *s, const struct store_token *t);
    enum tend_err (*token_find)(struct store *s, const char *sha256, struct store_token *out,
                                bool *found);
    enum tend_err (*token_revoke)(struct store *s, const char *name, int64_t now_ms);
    enum tend_err (*tokens_each)(struct store *s,
                                 void (*fn)(void *arg, const struct store_token *t), void *arg);
    /* The webhook inbox (store.h; sqlite_inbox.c, pg_inbox.c). */
    enum tend_err (*inbox_put)(struct store *s, const char *provider, const char *event_id,
                               const char *event_type, int64_t received_ms, const char *payload,
                               bool *inserted);
    enum tend_err (*inbox_next)(struct store *s,
                                void (*fn)(void *arg, const struct store_inbox_row *r), void *arg,
                                bool *found);
    enum tend_err (*inbox_finish)(struct store *s, int64_t id, const char *status,
                                  const char *reason, const char *detail, const char *account,
                                  int events, int64_t now_ms);
    enum tend_err (*inbox_each)(struct store *s, const char *provider, const char *status,
                                int64_t limit,
                                void (*fn)(void *arg, const struct store_inbox_row *r), void *arg);
    enum tend_err (*inbox_requeue)(struct store *s, const char *provider, const char *status,
                                   int64_t id, int64_t *n);
    enum tend_err (*inbox_prune)(struct store *s, int64_t before_ms, int64_t *n);
    enum tend_err (*inbox_counts)(struct store *s,
                                  void (*fn)(void *arg, const char *provider, const char *status,
                                             const char *reason, int64_t rows),
                                  void *arg);
    enum tend_err (*hook_account_put)(struct store *s, const char *provider,
                                      const char *provider_id, const char *account, int64_t now_ms);
    enum tend_err (*hook_account_get)(struct store *s, const char *provider,
                                      const char *provider_id, char *account, bool *found);

    enum tend_err (*revenue_each)(struct store *s, int64_t before_ms,
                                  void (*fn)(void *arg, const struct store_revenue_fact *f),
                                  void *arg);

    /* Notes, the holdout and the team's records (sqlite_notes.c, pg_notes.c). */
    enum tend_err (*note_add)(struct store *s, const struct store_note *n, int64_t *id);
    enum tend_err (*notes_each)(struct store *s, const struct store_note_filter *f,
                                int (*fn)(void *arg, const struct store_note *n), void *arg);
    enum tend_err (*holdout_put)(struct store *s, const struct store_holdout *h);
    enum tend_err (*holdout_get)(struct store *s, int64_t cta_id, struct store_holdout *out,
                                 bool *found);
    enum tend_err (*holdouts_each)(struct store *s, const char *rule,
                                   void (*fn)(void *arg, const struct store_holdout *h), void *arg);
    enum tend_err (*cta_actions_each)(struct store *s,
                                      void (*fn)(void *arg, const struct store_cta_action *a),
                                      void *arg);
    enum tend_err (*outreach_each)(struct store *s, int64_t from_ms, int64_t to_ms,
                                   void (*fn)(void *arg, int64_t account_id, int64_t ts_ms),
                                   void *arg);

    /* playbook steps */
    enum tend_err (*cta_step_set)(struct store *s, int64_t cta_id, const struct store_cta_step *st);
    enum tend_err (*cta_steps_each)(struct store *s, int64_t cta_id,
                                    void (*fn)(void *arg, const struct store_cta_step *st),
                                    void *arg);

    enum tend_err (*account_costs_each)(struct store *s, int64_t from_ms, int64_t to_ms,
                                        void (*fn)(void *arg, const struct store_account_costs *c),
                                        void *arg);
};

struct store_list_cache; /* account_list.c */
struct store {
    const struct store_ops *ops;
    struct store_list_cache *list_cache; /* NULL until store_account_list */
};

/* Frees the account list's cache of a connection (NULL: nothing). */
void store_list_cache_free(struct store_list_cache *c);

/* Counts n rows returned by a backend's query, for store_rows_read(). */
void store_rows_add(uint64_t n);

/* The SQLite backend (sqlite.c): opens path, a file name or a `file:` URI. */
enum tend_err sqlite_open_with(const char *path, unsigned flags, struct store **out, char *err);

#endif
