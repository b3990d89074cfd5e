/* sqlite_int.h: what the SQLite backend's files share, and nobody else.
 *
 * The backend is one file per group of tables (docs/store.md, "The SQLite
 * backend"): sqlite.c holds the connection, its transactions, the statement
 * cache and the errors; sqlite_accounts.c, sqlite_events.c,
 * sqlite_activity.c, sqlite_facts.c, sqlite_scores.c, sqlite_ctas.c and the
 * other sqlite_*.c files hold the statements of their tables, each as a
 * `static const char q_name[]` beside the functions that run it.
 *
 * One way of keeping prepared statements: sqlite_stmt(s, q_name) prepares a
 * statement on first use and keeps it for the life of the connection, found
 * again by the address of its SQL in a small hash table (an array index
 * would need one central list of every statement of every file). */
#ifndef TEND_STORE_SQLITE_INT_H
#define TEND_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/backend.h"
#include "store/store.h"

/* Slots of the cache of product_days rows written (note_product_day): 8,192
 * of 32 bytes, 256 KiB per connection that stores events, enough for a
 * day's (account, product) pairs of 8,000 accounts without eviction. */
#define PRODUCTS_SEEN 8192

struct product_seen {
    int64_t account_id; /* 0: empty */
    int32_t day;
    char product[20];
};

/* Slots of a connection's statement cache: a power of two, at most three
 * quarters full (the backend has about 200 statements). */
#define SQLITE_STMT_SLOTS 512

/* A connection of the SQLite backend: a struct store (backend.h) first. */
struct sqlite_store {
    struct store base; /* ops: sqlite_ops */
    sqlite3 *db;
    /* The prepared statements, by the address of their SQL (sqlite_stmt):
     * open addressing, linear probing, never deleted. */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } stmts[SQLITE_STMT_SLOTS];
    int n_stmts;
    unsigned data_version; /* as of the end of our last transaction */
    int32_t stale_day;     /* the day last marked stale in this transaction */
    int64_t *ids;          /* parsed id lists of a rollup row */
    size_t ids_cap;
    /* The (account, product, day) rows of product_days this connection has
     * written, so that storing a day's events writes each row once
     * (note_product_day); PRODUCTS_SEEN slots, NULL until the first. */
    struct product_seen *products_seen;
    int schema_version;
    char err[STORE_ERR_BYTES];
};

/* The connection of a struct store opened by this backend. */
static inline struct sqlite_store *sqlite_of(struct store *s) {
    return (struct sqlite_store *)s;
}

/* The backend's operations (backend.h): store.h's functions, each with the
 * contract written there, implemented by the sqlite_*.c file of its tables. */
extern const struct store_ops sqlite_ops;
// clang-format off
enum tend_err sqlite_open_again(struct store *s, struct store **out, char *err);
void sqlite_set_error(struct store *s, const char *msg);
void sqlite_close(struct store *s);
int sqlite_schema_version(struct store *s);
const char *sqlite_last_error(struct store *s);
enum tend_err sqlite_begin(struct store *s, bool *changed_elsewhere);
enum tend_err sqlite_commit(struct store *s);
void sqlite_rollback(struct store *s);
enum tend_err sqlite_account_find(struct store *s, const char *external_id, int64_t *id);
enum tend_err sqlite_account_ensure(struct store *s, const char *external_id, int64_t ts_ms, int64_t *id, bool *created);
enum tend_err sqlite_account_seen(struct store *s, int64_t id, int64_t ts_ms);
enum tend_err sqlite_user_ensure(struct store *s, const char *external_id, bool anonymous, int64_t ts_ms, int64_t *id);
enum tend_err sqlite_name_ensure(struct store *s, const char *name, int64_t *id);
enum tend_err sqlite_trait_merge(struct store *s, enum store_entity entity, int64_t id, const char *key, const char *value_json, int64_t ts_ms);
enum tend_err sqlite_traits_each(struct store *s, enum store_entity entity, int64_t id, void (*fn)(void *arg, const char *key, const char *value_json), void *arg);
enum tend_err sqlite_account_set_fields(struct store *s, int64_t id, const struct store_account_fields *f, const char *traits_json);
enum tend_err sqlite_user_set_fields(struct store *s, int64_t id, const char *email, const char *name, const char *title, const char *traits_json);
enum tend_err sqlite_user_memberships(struct store *s, int64_t user_id, struct store_membership **out, size_t *n);
enum tend_err sqlite_membership_start(struct store *s, int64_t account_id, int64_t user_id, int64_t ts_ms, bool *started);
enum tend_err sqlite_membership_end(struct store *s, int64_t account_id, int64_t user_id, int64_t ts_ms, bool *ended);
enum tend_err sqlite_removal_after(struct store *s, int64_t account_id, int64_t user_id, int64_t ts_ms, int64_t *removal_ms, bool *found);
enum tend_err sqlite_event_exists(struct store *s, int64_t key_ts_ms, uint64_t key_hash, bool *exists);
enum tend_err sqlite_event_keys_prefetch(struct store *s, const struct store_event_key *keys, size_t n);
enum tend_err sqlite_event_put(struct store *s, const struct store_event *ev, bool *inserted);
enum tend_err sqlite_quarantine_put(struct store *s, const struct store_event *ev, const char *account_external_id, const char *reason);
enum tend_err sqlite_quarantine_by_account(struct store *s, const char *external_id, struct store_pending **out, size_t *n);
enum tend_err sqlite_quarantine_by_user(struct store *s, int64_t user_id, struct store_pending **out, size_t *n);
enum tend_err sqlite_quarantine_attach(struct store *s, const struct store_pending *p, int64_t account_id);
enum tend_err sqlite_login_day_add(struct store *s, int64_t account_id, int32_t day);
enum tend_err sqlite_login_day_last(struct store *s, int64_t account_id, int32_t max_day, int32_t *day, bool *found);
enum tend_err sqlite_activity_each(struct store *s, const struct store_span *sp, int64_t from_ms, int64_t to_ms, void (*fn)(void *arg, const struct store_activity *a), void *arg);
enum tend_err sqlite_activity_refresh(struct store *s, int max_days, int *done);
enum tend_err sqlite_activity_stale_each(struct store *s, int32_t from, int32_t to, void (*fn)(void *arg, int32_t day), void *arg);
enum tend_err sqlite_activity_days_each(struct store *s, const struct store_span *sp, int32_t from, int32_t to, void (*fn)(void *arg, const struct store_activity_day *d), void *arg);
enum tend_err sqlite_activity_windows_pending(struct store *s, void (*fn)(void *arg, int32_t day), void *arg);
enum tend_err sqlite_activity_window_put(struct store *s, int32_t day, int64_t account_id, const struct metrics_window *w);
enum tend_err sqlite_activity_windows_each(struct store *s, const struct store_span *sp, int32_t day, void (*fn)(void *arg, int64_t account_id, const struct metrics_window *w), void *arg);
enum tend_err sqlite_activity_windows_done(struct store *s, int32_t day);
enum tend_err sqlite_activity_windows_ready(struct store *s, int32_t day, bool *done);
enum tend_err sqlite_facts_each(struct store *s, const struct store_span *sp, int64_t before_ms, void (*fn)(void *arg, const struct store_fact *f), void *arg);
enum tend_err sqlite_memberships_each(struct store *s, const struct store_span *sp, void (*fn)(void *arg, const struct store_membership *m), void *arg);
enum tend_err sqlite_score_put(struct store *s, int64_t account_id, const struct store_score *sc);
enum tend_err sqlite_score_get(struct store *s, int64_t account_id, int32_t day, struct store_score *out, bool *found);
enum tend_err sqlite_score_history(struct store *s, int64_t account_id, int32_t from, int32_t to, void (*fn)(void *arg, const struct store_score *sc), void *arg);
enum tend_err sqlite_scores_of_day(struct store *s, int32_t day, void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg);
enum tend_err sqlite_product_used(struct store *s, int64_t account_id, const char *product, int32_t first_day, int32_t last_day, bool *used);
enum tend_err sqlite_last_ticket_before(struct store *s, int64_t account_id, int64_t before_ms, int64_t *ts_ms, bool *found);
enum tend_err sqlite_user_label(struct store *s, int64_t user_id, char *buf, size_t size);
enum tend_err sqlite_ctas_lock(struct store *s, const struct store_span *sp);
enum tend_err sqlite_ctas_watched_each(struct store *s, const struct store_span *sp, void (*fn)(void *arg, const struct store_cta *c), void *arg);
enum tend_err sqlite_ctas_live_count(struct store *s, int64_t *n);
enum tend_err sqlite_cta_insert(struct store *s, const struct store_cta *c, int64_t *id);
enum tend_err sqlite_cta_update(struct store *s, const struct store_cta *c);
enum tend_err sqlite_cta_forget_closed(struct store *s, const char *rule, int64_t account_id, const char *subject);
enum tend_err sqlite_cta_get(struct store *s, int64_t id, void (*fn)(void *arg, const struct store_cta *c), void *arg);
enum tend_err sqlite_ctas_each(struct store *s, const struct store_cta_filter *f, int (*fn)(void *arg, const struct store_cta *c), void *arg);
enum tend_err sqlite_cta_held_put(struct store *s, const struct store_cta_held *h, bool *is_new);
enum tend_err sqlite_ctas_held_each(struct store *s, int32_t week, const char *owner, int (*fn)(void *arg, const struct store_cta_held *h), void *arg);
enum tend_err sqlite_ctas_held_count(struct store *s, int32_t week, const char *owner, int64_t *n);
enum tend_err sqlite_ctas_opened_by_owner(struct store *s, int32_t from, int32_t to, void (*fn)(void *arg, const char *owner, int64_t n), void *arg);
enum tend_err sqlite_cta_history_add(struct store *s, int64_t cta_id, const struct store_cta_change *ch);
enum tend_err sqlite_cta_history_each(struct store *s, int64_t cta_id, void (*fn)(void *arg, const struct store_cta_change *ch), void *arg);
enum tend_err sqlite_eval_run_put(struct store *s, int64_t t_ms, int64_t run_ms, int64_t opened, int64_t updated, int64_t resolved, int64_t errors);
enum tend_err sqlite_ctas_reset(struct store *s);
enum tend_err sqlite_eval_run_before(struct store *s, int64_t t_ms, int64_t *prev_ms, bool *found);
enum tend_err sqlite_scores_of_day_version(struct store *s, int32_t day, const char *version, void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg);
enum tend_err sqlite_scores_of_day_ids(struct store *s, int32_t day, const char *version, const int64_t *ids, size_t n, bool *any, void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg);
enum tend_err sqlite_notification_add(struct store *s, int64_t cta_id, const char *event, int32_t day, int64_t created_ms, const char *snapshot, int64_t *id);
enum tend_err sqlite_outbox_add(struct store *s, const struct store_outbox *row, int64_t *id);
enum tend_err sqlite_outbox_recover(struct store *s, int64_t before_ms, void (*fn)(void *arg, const char *channel, const char *target), void *arg, int64_t *n);
enum tend_err sqlite_outbox_claim(struct store *s, struct store_claim *rows, size_t n, int64_t now_ms, int64_t lease_until_ms);
enum tend_err sqlite_outbox_lease_renew(struct store *s, const int64_t *ids, size_t n, int64_t until_ms, int64_t *renewed);
enum tend_err sqlite_outbox_due_targets(struct store *s, int64_t now_ms, void (*fn)(void *arg, const char *channel, const char *target, int64_t rank), void *arg);
enum tend_err sqlite_outbox_due(struct store *s, int64_t now_ms, const char *channel, const char *target, int64_t limit, void (*fn)(void *arg, const struct store_outbox *row), void *arg);
enum tend_err sqlite_outbox_next_due(struct store *s, int64_t after_ms, int64_t *at_ms, bool *found);
enum tend_err sqlite_outbox_set(struct store *s, const struct store_outbox *row);
enum tend_err sqlite_outbox_hold_set(struct store *s, const struct store_hold *h);
enum tend_err sqlite_outbox_holds_each(struct store *s, int64_t after_ms, void (*fn)(void *arg, const struct store_hold *h), void *arg);
enum tend_err sqlite_outbox_holds_prune(struct store *s, int64_t before_ms);
enum tend_err sqlite_outbox_each(struct store *s, const struct store_outbox_filter *f, void (*fn)(void *arg, const struct store_outbox *row), void *arg);
enum tend_err sqlite_outbox_get(struct store *s, int64_t id, void (*fn)(void *arg, const struct store_outbox *row), void *arg);
enum tend_err sqlite_outbox_counts(struct store *s, void (*fn)(void *arg, const char *status, int64_t rows, int64_t resends), void *arg);
enum tend_err sqlite_outbox_retry(struct store *s, int64_t id, int64_t now_ms, bool *changed);
enum tend_err sqlite_outbox_retry_dead(struct store *s, int64_t now_ms, int64_t *n);
enum tend_err sqlite_outbox_held_groups(struct store *s, int64_t before_ms, void (*fn)(void *arg, const char *channel, const char *target, const char *owner), void *arg);
enum tend_err sqlite_outbox_digest_make(struct store *s, const char *channel, const char *target, const char *owner, int64_t before_ms, int64_t now_ms, int64_t rank, int64_t *digest_id, int64_t *items);
enum tend_err sqlite_outbox_items_each(struct store *s, int64_t digest_id, void (*fn)(void *arg, const char *snapshot), void *arg);
enum tend_err sqlite_counter_add(struct store *s, const char *name, int64_t delta);
enum tend_err sqlite_account_count_events(struct store *s, int64_t account_id, int64_t delta);
enum tend_err sqlite_accounts_each(struct store *s, int (*fn)(void *arg, const struct store_account_row *row), void *arg);
enum tend_err sqlite_account_get(struct store *s, int64_t id, int (*fn)(void *arg, const struct store_account_row *row), void *arg);
enum tend_err sqlite_accounts_brief_each(struct store *s, int (*fn)(void *arg, const struct store_account_row *row), void *arg);
enum tend_err sqlite_accounts_brief_of(struct store *s, const int64_t *ids, size_t n, int (*fn)(void *arg, const struct store_account_row *row), void *arg);
enum tend_err sqlite_status_get(struct store *s, struct store_status *out);
enum tend_err sqlite_counters_each(struct store *s, void (*fn)(void *arg, const char *name, int64_t value), void *arg);
enum tend_err sqlite_quarantine_reasons(struct store *s, void (*fn)(void *arg, const char *reason, int64_t n), void *arg);
enum tend_err sqlite_account_briefs(struct store *s, int32_t day, void (*fn)(void *arg, const struct store_account_brief *b), void *arg);
enum tend_err sqlite_scores_latest_day(struct store *s, int32_t *day, bool *found);
enum tend_err sqlite_account_facts_recent(struct store *s, int64_t account_id, int limit, void (*fn)(void *arg, const struct store_fact *f, const char *user), void *arg);
enum tend_err sqlite_rule_counts_each(struct store *s, int32_t since_day, void (*fn)(void *arg, const struct store_rule_counts *c), void *arg);
enum tend_err sqlite_outbox_oldest_pending(struct store *s, int64_t *created_ms, bool *found);
enum tend_err sqlite_outcomes_each(struct store *s, int64_t from_ms, int64_t to_ms, void (*fn)(void *arg, const struct store_outcome *o), void *arg);
enum tend_err sqlite_copy_to(struct store *s, const char *path);
enum tend_err sqlite_report_put(struct store *s, const struct store_report *r, int64_t *id);
enum tend_err sqlite_reports_each(struct store *s, int limit, void (*fn)(void *arg, const struct store_report *r), void *arg);
enum tend_err sqlite_report_get(struct store *s, int64_t id, void (*fn)(void *arg, const struct store_report *r), void *arg);
enum tend_err sqlite_model_put(struct store *s, const struct store_model *m, bool adopt, int64_t *version);
enum tend_err sqlite_model_get(struct store *s, int64_t version, void (*fn)(void *arg, const struct store_model *m), void *arg);
enum tend_err sqlite_model_for_day(struct store *s, int32_t day, void (*fn)(void *arg, const struct store_model *m), void *arg);
enum tend_err sqlite_models_each(struct store *s, void (*fn)(void *arg, const struct store_model *m), void *arg);
enum tend_err sqlite_last_event_day(struct store *s, int32_t *day, bool *found);
enum tend_err sqlite_risk_put(struct store *s, const struct store_risk *r);
enum tend_err sqlite_risk_clear_day(struct store *s, int32_t day);
enum tend_err sqlite_risk_put_many(struct store *s, const struct store_risk *r, size_t n);
enum tend_err sqlite_risk_latest_day(struct store *s, int32_t max_day, int32_t *day, bool *found);
enum tend_err sqlite_risk_of_day(struct store *s, int32_t day, void (*fn)(void *arg, const struct store_risk_row *r), void *arg);
enum tend_err sqlite_risk_of_account(struct store *s, int32_t day, const char *external_id, void (*fn)(void *arg, const struct store_risk_row *r), void *arg);
enum tend_err sqlite_session_epoch(struct store *s, const char *email, int64_t *epoch);
enum tend_err sqlite_session_epoch_bump(struct store *s, const char *email, int64_t now_ms, int64_t *epoch);
enum tend_err sqlite_lease_acquire(struct store *s, const char *name, const char *holder, int64_t now_ms, int64_t ttl_ms, struct store_lease *out);
enum tend_err sqlite_lease_release(struct store *s, const char *name, const char *holder);
enum tend_err sqlite_run_create(struct store *s, const char *lease, const char *holder, int64_t term, int64_t due_ms, int32_t day, int64_t bucket_ids, int64_t now_ms, bool *created);
enum tend_err sqlite_run_latest(struct store *s, struct store_run *out, bool *found);
enum tend_err sqlite_run_get(struct store *s, int64_t due_ms, struct store_run *out);
enum tend_err sqlite_bucket_claim(struct store *s, const char *holder, int64_t now_ms, int64_t claim_ms, struct store_bucket *out, bool *found);
enum tend_err sqlite_bucket_done(struct store *s, const char *holder, int64_t due_ms, int b, int64_t now_ms, const struct store_run_counts *c, bool *ours, bool *run_done, struct store_run *run);
enum tend_err sqlite_account_ids_between(struct store *s, int64_t first, int64_t last, int64_t **ids, size_t *n);
enum tend_err sqlite_eval_lock_opens(struct store *s);
enum tend_err sqlite_notify(struct store *s, const char *channel);
enum tend_err sqlite_listen(struct store *s, const char *channel);
enum tend_err sqlite_notify_wait(struct store *s, int timeout_ms, char *channel, size_t size, bool *got);
enum tend_err sqlite_customer_message_claim(struct store *s, const struct store_customer_message *m, bool *claimed);
enum tend_err sqlite_customer_message_link(struct store *s, const struct store_customer_message *m, int64_t notification_id);
enum tend_err sqlite_customer_messages_each(struct store *s, int64_t account_id, int limit, void (*fn)(void *arg, const struct store_customer_message *m), void *arg);
enum tend_err sqlite_customer_unsubscribe(struct store *s, int64_t account_id, const char *kind, const char *contact, int64_t now_ms);
enum tend_err sqlite_customer_unsubscribes_each(struct store *s, int64_t account_id, void (*fn)(void *arg, const char *kind, const char *contact, int64_t ms), void *arg);
enum tend_err sqlite_customer_contacts_each(struct store *s, int64_t account_id, void (*fn)(void *arg, const char *email, const char *traits), void *arg);

enum tend_err sqlite_user_logins_each(struct store *s, int64_t account_id, int64_t user_id, int32_t first_day, int32_t last_day, void (*fn)(void *arg, int32_t day, int64_t logins), void *arg);
enum tend_err sqlite_members_each(struct store *s, const struct store_span *sp, const char *role_key, bool with_role_only, int64_t before_ms, void (*fn)(void *arg, const struct store_member *m), void *arg);

enum tend_err sqlite_segment_days_put(struct store *s, int32_t day, const struct store_segment_row *rows, size_t n);
enum tend_err sqlite_segment_part_put(struct store *s, int64_t due_ms, int part, const struct store_segment_row *rows, size_t n);
enum tend_err sqlite_segment_parts_take(struct store *s, int64_t due_ms, bool forget, void (*fn)(void *arg, const struct store_segment_row *r), void *arg);
enum tend_err sqlite_segment_days_each(struct store *s, int kind, const char *name, int32_t from, int32_t to, int (*fn)(void *arg, const struct store_segment_row *r), void *arg);
enum tend_err sqlite_segment_latest_day(struct store *s, int32_t at, int32_t *day, bool *found);

enum tend_err sqlite_escalation_candidates(struct store *s, void (*fn)(void *arg, const struct store_esc_candidate *c), void *arg);
enum tend_err sqlite_escalation_put(struct store *s, int64_t cta_id, int level, int64_t at_ms, const char *manager, bool *is_new);

/* sqlite_account_list.c: the dashboard's account list (backend.h). */
enum tend_err sqlite_data_version(struct store *s, char *buf, size_t size);
enum tend_err sqlite_account_summary(struct store *s, int32_t day, int64_t *accounts, int64_t bands[4], void (*facet)(void *arg, int which, const char *v), void *arg);
enum tend_err sqlite_account_count(struct store *s, const struct store_account_query *q, int part, int64_t *n);
enum tend_err sqlite_account_rows(struct store *s, const struct store_account_query *q, int part, int64_t offset, int64_t limit, void (*fn)(void *arg, int64_t id, const char *external_id, const char *name), void *arg);
enum tend_err sqlite_account_rows_of(struct store *s, int32_t day, const int64_t *ids, size_t n, void (*fn)(void *arg, const struct store_account_brief *b), void *arg);
enum tend_err sqlite_team_user_add(struct store *s, const struct store_team_user *u);
enum tend_err sqlite_team_user_get(struct store *s, const char *email, struct store_team_user *out, bool *found);
enum tend_err sqlite_team_user_set(struct store *s, const char *email, const char *field, const char *value, int64_t now_ms);
enum tend_err sqlite_team_users_each(struct store *s, void (*fn)(void *arg, const struct store_team_user *u), void *arg);
enum tend_err sqlite_invite_add(struct store *s, const char *hash, const char *email, int64_t expires_ms, const char *by, int64_t now_ms);
enum tend_err sqlite_invite_take(struct store *s, const char *hash, int64_t now_ms, bool take, char *email, bool *found);
enum tend_err sqlite_audit_append(struct store *s, const struct store_audit *a, int64_t *id);
enum tend_err sqlite_audit_page(struct store *s, int64_t before_id, int limit, void (*fn)(void *arg, const struct store_audit *a), void *arg);
enum tend_err sqlite_audit_count(struct store *s, int64_t *n);
enum tend_err sqlite_token_add(struct store *s, const struct store_token *t);
enum tend_err sqlite_token_find(struct store *s, const char *sha256, struct store_token *out, bool *found);
enum tend_err sqlite_token_revoke(struct store *s, const char *name, int64_t now_ms);
enum tend_err sqlite_tokens_each(struct store *s, void (*fn)(void *arg, const struct store_token *t), void *arg);
/* sqlite_notes.c: notes, the holdout and the team's records (backend.h). */
enum tend_err sqlite_note_add(struct store *s, const struct store_note *n, int64_t *id);
enum tend_err sqlite_notes_each(struct store *s, const struct store_note_filter *f, int (*fn)(void *arg, const struct store_note *n), void *arg);
enum tend_err sqlite_holdout_put(struct store *s, const struct store_holdout *h);
enum tend_err sqlite_holdout_get(struct store *s, int64_t cta_id, struct store_holdout *out, bool *found);
enum tend_err sqlite_holdouts_each(struct store *s, const char *rule, void (*fn)(void *arg, const struct store_holdout *h), void *arg);
enum tend_err sqlite_cta_actions_each(struct store *s, void (*fn)(void *arg, const struct store_cta_action *a), void *arg);
enum tend_err sqlite_outreach_each(struct store *s, int64_t from_ms, int64_t to_ms, void (*fn)(void *arg, int64_t account_id, int64_t ts_ms), void *arg);
// clang-format on

/* The statement for sql, prepared on first use and kept for the life of the
 * connection, reset and without bindings. sql must be a string with static
 * storage: its address is the cache key. A statement of ours that does not
 * prepare is a bug or a corrupt schema: it aborts. */
sqlite3_stmt *sqlite_stmt(struct sqlite_store *s, const char *sql);
/* The statement of a span's read: q for a range (its ids bound at first_at and
 * first_at + 1), q_ids for a listed span (the ids bound at ids_at). */
sqlite3_stmt *sqlite_span_stmt(struct sqlite_store *s, const struct store_span *sp, const char *q,
                               int first_at, const char *q_ids, int ids_at);
/* Records the connection's error message with what; returns TEND_ERR_DB. */
enum tend_err sqlite_fail(struct sqlite_store *s, const char *what);
/* sqlite3_step(), counting each row it returns (store_rows_read). */
int sqlite_step(sqlite3_stmt *st);
/* Steps a statement that returns no rows (or none needed), then resets it. */
enum tend_err sqlite_done(struct sqlite_store *s, sqlite3_stmt *st, const char *what);
/* Runs a statement expected to return at most one integer into *out;
 * TEND_ERR_NOTFOUND if none. Resets it. */
enum tend_err sqlite_step_int(struct sqlite_store *s, sqlite3_stmt *st, int64_t *out,
                              const char *what);
/* Binds text (NULL binds NULL), an id (0 binds NULL), ids as one JSON array
 * (for json_each); reads a text column. */
void sqlite_bind_text(sqlite3_stmt *st, int i, const char *v);
void sqlite_bind_id(sqlite3_stmt *st, int i, int64_t id);
void sqlite_bind_ids(sqlite3_stmt *st, int i, const int64_t *ids, size_t n);
const char *sqlite_col_text(sqlite3_stmt *st, int i);
/* Rows changed by the connection's last statement. */
int64_t sqlite_changes(struct sqlite_store *s);

/* sqlite_inbox.c: the webhook inbox (store.h). */
enum tend_err sqlite_inbox_put(struct store *s, const char *provider, const char *event_id,
                               const char *event_type, int64_t received_ms, const char *payload,
                               bool *inserted);
enum tend_err sqlite_inbox_next(struct store *s,
                                void (*fn)(void *arg, const struct store_inbox_row *r), void *arg,
                                bool *found);
enum tend_err sqlite_inbox_finish(struct store *s, int64_t id, const char *status,
                                  const char *reason, const char *detail, const char *account,
                                  int events, int64_t now_ms);
enum tend_err sqlite_inbox_each(struct store *s, const char *provider, const char *status,
                                int64_t limit,
                                void (*fn)(void *arg, const struct store_inbox_row *r), void *arg);
enum tend_err sqlite_inbox_requeue(struct store *s, const char *provider, const char *status,
                                   int64_t id, int64_t *n);
enum tend_err sqlite_inbox_prune(struct store *s, int64_t before_ms, int64_t *n);
enum tend_err sqlite_inbox_counts(struct store *s,
                                  void (*fn)(void *arg, const char *provider, const char *status,
                                             const char *reason, int64_t rows),
                                  void *arg);
enum tend_err sqlite_hook_account_put(struct store *s, const char *provider,
                                      const char *provider_id, const char *account, int64_t now_ms);
enum tend_err sqlite_hook_account_get(struct store *s, const char *provider,
                                      const char *provider_id, char *account, bool *found);

/* sqlite_revenue.c: the revenue analysis's facts (backend.h). */
enum tend_err sqlite_revenue_each(struct store *s, int64_t before_ms,
                                  void (*fn)(void *arg, const struct store_revenue_fact *f),
                                  void *arg);
enum tend_err sqlite_account_costs_each(struct store *s, int64_t from_ms, int64_t to_ms,
                                        void (*fn)(void *arg, const struct store_account_costs *c),
                                        void *arg);

/* sqlite_playbook.c */
enum tend_err sqlite_cta_step_set(struct store *s, int64_t cta_id, const struct store_cta_step *st);
enum tend_err sqlite_cta_steps_each(struct store *s, int64_t cta_id,
                                    void (*fn)(void *arg, const struct store_cta_step *st),
                                    void *arg);

#endif
