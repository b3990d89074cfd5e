/* store.h: tend's persistence, independent of the database behind it.
 *
 * Every read and write of tend's data goes through these functions; callers
 * never see SQL, a statement or a database error code. The embedded backend is
 * SQLite (sqlite*.c); a PostgreSQL backend implements the same operations
 * later. Each function dispatches to the backend that opened the store
 * (store.c, through the operations table of backend.h).
 *
 * Model (docs/store.md has the tables):
 * - accounts and users, each with an internal integer id, the external id the
 *   customer's systems use, typed columns for the known traits and every trait
 *   as a JSON object. Traits merge key by key, the value with the later message
 *   timestamp winning.
 * - memberships: (account, user, start, end), end open while a member.
 * - events: every accepted message, keyed by its deduplication key (timestamp
 *   as sent, 64-bit hash of messageId), with its kind, account (none while
 *   quarantined), user, and the typed facts of a meaningful event.
 * - quarantine: the events whose account is not known yet, with the reason.
 * - counters: lifetime totals (accepted, duplicates, rejected, ...).
 *
 * Transactions: callers bracket writes with store_begin()/store_commit(); a
 * commit is durable (synchronous=FULL) before it returns, which is what an HTTP
 * 200 or an import's summary promises. One process writes at a time; a second
 * writer waits (busy timeout) and store_begin() tells whether another process
 * changed the data since this one's last transaction, so caches can be dropped.
 *
 * Threads: a struct store may be used by one thread at a time (no locking
 * inside); open one per thread that needs its own.
 *
 * Ownership: strings passed in are copied or used only during the call;
 * results that are malloced say so. Ids are > 0; 0 means "none". */
#ifndef TEND_STORE_STORE_H
#define TEND_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/metrics.h"
#include "core/segments.h"
#include "util/err.h"

#define STORE_ERR_BYTES 512

struct store;

/* Opens (creating if needed) the database at path and brings its schema up to
 * date with the numbered migrations. path is a file name or a `file:` URI
 * (SQLite); a `postgresql://` or `postgres://` URL is PostgreSQL (libpq's
 * URI form). On failure writes why into err (STORE_ERR_BYTES; a URL's
 * password never appears) and returns TEND_ERR_DB, TEND_ERR_IO (a server
 * that cannot be reached) or TEND_ERR_INVALID. */
enum tend_err store_open(const char *path, struct store **out, char *err);

/* store_open_with() flags. */
enum store_open_flags {
    /* Open an existing database only: where path names no file, nothing is
     * created and the open fails with TEND_ERR_NOTFOUND and "PATH: no such
     * database" (a mistyped --db of a command that only reads). */
    STORE_OPEN_EXISTING = 1,
};
/* store_open() with flags (a bitwise or of enum store_open_flags; 0: as
 * store_open). */
enum tend_err store_open_with(const char *path, unsigned flags, struct store **out, char *err);
/* Opens another, read-only connection to the database of s, for reading in
 * another thread (each struct store is used by one thread at a time). It sees
 * what is committed, not what s has written in a transaction still open.
 * TEND_ERR_IO when s has no file of its own (an in-memory database). */
enum tend_err store_open_again(struct store *s, struct store **out, char *err);
/* Sets the error message store_last_error() returns, e.g. one passed on from
 * another connection. */
void store_set_error(struct store *s, const char *msg);
/* Closes the store; accepts NULL. */
void store_close(struct store *s);
/* Schema version of the open database and the newest this build knows. */
int store_schema_version(struct store *s);
int store_schema_latest(void);
/* Whether other processes on other machines may write the database at the
 * same time (PostgreSQL), so that their work is shared through it (leases,
 * claims); false for SQLite, where one process writes at a time. */
bool store_shared(struct store *s);
/* The last database error message, for logs. */
const char *store_last_error(struct store *s);

/* Starts a write transaction. *changed_elsewhere (may be NULL) is set when
 * another connection committed since this one's last transaction. */
enum tend_err store_begin(struct store *s, bool *changed_elsewhere);
/* Commits durably. */
enum tend_err store_commit(struct store *s);
/* Rolls back; safe to call when no transaction is open. */
void store_rollback(struct store *s);

/* ---- accounts, users, names ---------------------------------------------- */

/* Looks up an account by external id: TEND_ERR_NOTFOUND when none. */
enum tend_err store_account_find(struct store *s, const char *external_id, int64_t *id);
/* Returns the account's id, creating it (first seen at ts_ms) when needed;
 * *created tells which. */
enum tend_err store_account_ensure(struct store *s, const char *external_id, int64_t ts_ms,
                                   int64_t *id, bool *created);
/* Moves the account's first-seen time back to ts_ms if that is earlier (a
 * group call that arrives late but happened first). */
enum tend_err store_account_seen(struct store *s, int64_t id, int64_t ts_ms);
/* Returns the id of a user (anonymous: an anonymousId), creating it if needed. */
enum tend_err store_user_ensure(struct store *s, const char *external_id, bool anonymous,
                                int64_t ts_ms, int64_t *id);
/* Returns the id of an interned name (event or feature names), creating it. */
enum tend_err store_name_ensure(struct store *s, const char *name, int64_t *id);

enum store_entity { STORE_ACCOUNT, STORE_USER };

/* Merges one trait: key gets value_json (JSON text) unless the stored value
 * carries a later timestamp. */
enum tend_err store_trait_merge(struct store *s, enum store_entity entity, int64_t id,
                                const char *key, const char *value_json, int64_t ts_ms);
/* Calls fn for each merged trait of an entity, in key order. fn's strings live
 * for the call only. */
enum tend_err store_traits_each(struct store *s, enum store_entity entity, int64_t id,
                                void (*fn)(void *arg, const char *key, const char *value_json),
                                void *arg);

/* The typed columns of an account (NULL / has_ false: unknown). */
struct store_account_fields {
    const char *name;
    const char *plan;
    double mrr;
    bool has_mrr;
    int64_t seats;
    bool has_seats;
    const char *renewal_date; /* YYYY-MM-DD */
    const char *csm_email;
    const char *csm_slack;
    const char *segment;
    const char *premium_products; /* JSON array text */
    const char *created_at;
};
/* Sets the typed columns and the traits JSON object of an account. */
enum tend_err store_account_set_fields(struct store *s, int64_t id,
                                       const struct store_account_fields *f,
                                       const char *traits_json);
/* Sets a user's email, name, title (NULL: unknown) and traits JSON object. */
enum tend_err store_user_set_fields(struct store *s, int64_t id, const char *email,
                                    const char *name, const char *title, const char *traits_json);

/* ---- memberships ---------------------------------------------------------- */

#define STORE_OPEN_END INT64_MAX

struct store_membership {
    int64_t account_id;
    int64_t user_id;
    int64_t start_ms;
    int64_t end_ms; /* STORE_OPEN_END while a member */
};

/* Returns the memberships of a user in *out (malloced, caller frees), *n of them. */
enum tend_err store_user_memberships(struct store *s, int64_t user_id,
                                     struct store_membership **out, size_t *n);
/* Makes user a member of account from ts_ms, unless a membership that has not
 * ended by ts_ms exists already. *started tells whether one was added. */
enum tend_err store_membership_start(struct store *s, int64_t account_id, int64_t user_id,
                                     int64_t ts_ms, bool *started);
/* Ends, at ts_ms, the user's membership of account that covers ts_ms (started
 * at or before it, not ended by it). *ended tells whether there was one. */
enum tend_err store_membership_end(struct store *s, int64_t account_id, int64_t user_id,
                                   int64_t ts_ms, bool *ended);

/* The earliest stored "Account Removed User" of user in account after ts_ms
 * (*found false when none): a removal that arrived before the membership it
 * ends. */
enum tend_err store_removal_after(struct store *s, int64_t account_id, int64_t user_id,
                                  int64_t ts_ms, int64_t *removal_ms, bool *found);

/* ---- events and quarantine ------------------------------------------------ */

/* One accepted message as stored. Strings may be NULL. */
struct store_event {
    int64_t key_ts_ms; /* dedup key: timestamp as sent, 0 when absent */
    uint64_t key_hash; /* dedup key: hash of messageId (or content) */
    int64_t ts_ms;     /* effective time */
    int kind;          /* enum event_kind */
    int64_t account_id;
    int64_t user_id;
    int64_t name_id; /* interned event name (track, page, screen) */
    const char *subject;
    const char *detail;
    double num;
    bool has_num;
    int32_t day;
    bool has_day;
    const char *props; /* properties or traits as JSON text */
};

/* Tells whether an event with this deduplication key is stored. */
enum tend_err store_event_exists(struct store *s, int64_t key_ts_ms, uint64_t key_hash,
                                 bool *exists);

/* A message's deduplication key. */
struct store_event_key {
    int64_t key_ts_ms;
    uint64_t key_hash;
};

/* Tells the store the keys of the messages a batch is about to store
 * (store_event_exists, store_event_put), before its first: a backend that
 * would look each key up on its own (PostgreSQL: a round trip per message)
 * looks the n of them up at once, and the store_event_exists and
 * store_event_put calls for them that follow need no look-up of their own.
 * A hint only: every result is the same with or without it, and a key not
 * named is looked up when it comes. Call it inside the transaction that
 * stores the batch (or outside one); keys is borrowed for the call. SQLite:
 * does nothing. */
enum tend_err store_event_keys_prefetch(struct store *s, const struct store_event_key *keys,
                                        size_t n);

/* Stores ev unless an event with the same key exists: *inserted tells which.
 * On PostgreSQL the event is staged and written with the transaction's
 * other events at its next statement or commit; a commit that then finds
 * the key stored by another connection meanwhile fails with TEND_ERR_BUSY
 * (nothing of the transaction is kept; retry it), so *inserted is never
 * wrong in a transaction that commits. */
enum tend_err store_event_put(struct store *s, const struct store_event *ev, bool *inserted);

/* Records that the stored event with ev's key waits for its account: either
 * account_external_id (named but not known yet) or, when that is NULL, the
 * membership of ev->user_id. reason is shown to operators. */
enum tend_err store_quarantine_put(struct store *s, const struct store_event *ev,
                                   const char *account_external_id, const char *reason);

/* A quarantined event, as needed to resolve it. */
struct store_pending {
    int64_t key_ts_ms;
    uint64_t key_hash;
    int64_t ts_ms;
    int kind;
    int64_t user_id;
};

/* The events waiting for the account named external_id (malloced array). */
enum tend_err store_quarantine_by_account(struct store *s, const char *external_id,
                                          struct store_pending **out, size_t *n);
/* The events of user_id waiting for a membership (malloced array). */
enum tend_err store_quarantine_by_user(struct store *s, int64_t user_id, struct store_pending **out,
                                       size_t *n);
/* Attaches a quarantined event to account_id and takes it out of quarantine. */
enum tend_err store_quarantine_attach(struct store *s, const struct store_pending *p,
                                      int64_t account_id);

/* ---- what metrics read (docs/store.md) ------------------------------------ */

/* Records that the account had a login on day (idempotent). */
enum tend_err store_login_day_add(struct store *s, int64_t account_id, int32_t day);
/* The latest day on or before max_day with a login of the account; *found
 * false when there is none. */
enum tend_err store_login_day_last(struct store *s, int64_t account_id, int32_t max_day,
                                   int32_t *day, bool *found);

/* A login or feature event. */
struct store_activity {
    int64_t account_id;
    int kind;
    int64_t ts_ms;
    int64_t user_id;
    int64_t name_id;
};
/* Evaluation reads the accounts of a span: those whose ids lie in [first,
 * last] (every account: 1 and STORE_LAST_ID), so that it can split the
 * accounts between connections working in parallel; or, with ids set, only
 * the n listed (ascending, distinct, each within first..last), read by one
 * index seek each: what a few accounts' evaluation costs grows with their
 * number and their data, never with the number of accounts stored. */
#define STORE_LAST_ID INT64_MAX
struct store_span {
    int64_t first, last;
    const int64_t *ids; /* NULL: every account in first..last */
    size_t n;
};
/* The rows the store has read so far in this process, over every connection
 * (each row a query of the core tables returned to its caller): a count of
 * work that tests and benchmarks compare, not a clock. */
uint64_t store_rows_read(void);

/* Calls fn for every login and feature event in [from_ms, to_ms) of the
 * span's accounts: one seek per day of the day-first index (per day and
 * account of a listed span). */
enum tend_err store_activity_each(struct store *s, const struct store_span *sp, int64_t from_ms,
                                  int64_t to_ms,
                                  void (*fn)(void *arg, const struct store_activity *a), void *arg);

/* Daily activity rollups. Storing or attaching a login or feature event marks
 * its day (ts_ms / 86400000, as the index counts days) stale in the same
 * transaction; a stale day's rollups are not to be read until
 * store_activity_refresh() rebuilds them. */
struct store_activity_day {
    int64_t account_id;
    struct metrics_day day; /* user 0: a login without a user; arrays live for the call */
};
/* Rebuilds the rollups of up to max_days stale days, oldest first, in the
 * caller's transaction; *done is how many (0: none was stale). The windows
 * of each rebuilt day and the 34 after it are then to be done again. */
enum tend_err store_activity_refresh(struct store *s, int max_days, int *done);
/* Calls fn for every stale day from day from to day to. */
enum tend_err store_activity_stale_each(struct store *s, int32_t from, int32_t to,
                                        void (*fn)(void *arg, int32_t day), void *arg);
/* Calls fn for the rollup of the span's accounts for each day from day
 * from to day to with a login or feature event. Stale days
 * are included: the caller skips them. The id lists live for the call. */
enum tend_err store_activity_days_each(struct store *s, const struct store_span *sp, int32_t from,
                                       int32_t to,
                                       void (*fn)(void *arg, const struct store_activity_day *d),
                                       void *arg);
/* Calls fn for each day with rollups whose windows are not done, in order. */
enum tend_err store_activity_windows_pending(struct store *s, void (*fn)(void *arg, int32_t day),
                                             void *arg);
/* Stores an account's activity window as of the midnight ending day. */
enum tend_err store_activity_window_put(struct store *s, int32_t day, int64_t account_id,
                                        const struct metrics_window *w);
/* Calls fn with the stored window as of the midnight ending day of each of
 * the span's accounts that has one. */
enum tend_err store_activity_windows_each(struct store *s, const struct store_span *sp, int32_t day,
                                          void (*fn)(void *arg, int64_t account_id,
                                                     const struct metrics_window *w),
                                          void *arg);
/* Records that every account with activity in the window has its window
 * for day stored. */
enum tend_err store_activity_windows_done(struct store *s, int32_t day);
/* Tells whether day's windows are done (and may be read, when no day of the
 * window is stale). */
enum tend_err store_activity_windows_ready(struct store *s, int32_t day, bool *done);

/* A meaningful event or a group call, as stored; strings live for the call. */
struct store_fact {
    int64_t account_id;
    int kind;
    int64_t ts_ms;
    int64_t user_id;
    const char *subject;
    const char *detail;
    double num;
    bool has_num;
    int32_t day;
    bool has_day;
    int64_t settled_ms; /* INT64_MAX if none (see schema.h: fact lifetimes) */
    const char *props;
};
/* Calls fn for the facts before before_ms of the span's accounts that
 * still matter as of before_ms (schema.h: fact lifetimes): NPS answers, the
 * openings of tickets, invoices and outreach with when they were settled,
 * cards, replies, goals, milestones, outcomes and group calls. Any order, but
 * an account's group calls come in time order. */
enum tend_err store_facts_each(struct store *s, const struct store_span *sp, int64_t before_ms,
                               void (*fn)(void *arg, const struct store_fact *f), void *arg);

/* Calls fn for every membership of the span's accounts, in no particular
 * order. */
enum tend_err store_memberships_each(struct store *s, const struct store_span *sp,
                                     void (*fn)(void *arg, const struct store_membership *m),
                                     void *arg);

/* ---- scores --------------------------------------------------------------- */

#define STORE_COMPONENTS 5 /* logins, adoption, sentiment, support, financial */

/* One account's health score for one day. */
struct store_score {
    int32_t day;
    bool has_overall;
    double overall;
    char band[8]; /* "red", "yellow", "green" or "none" */
    bool has[STORE_COMPONENTS];
    double components[STORE_COMPONENTS];
    char config_version[24];
};

/* Stores (replaces) the account's score for sc->day. */
enum tend_err store_score_put(struct store *s, int64_t account_id, const struct store_score *sc);
/* Reads the account's score for day into *out; *found false when none. */
enum tend_err store_score_get(struct store *s, int64_t account_id, int32_t day,
                              struct store_score *out, bool *found);
/* Calls fn for every stored score of an account from day from to day to, in
 * day order. */
enum tend_err store_score_history(struct store *s, int64_t account_id, int32_t from, int32_t to,
                                  void (*fn)(void *arg, const struct store_score *sc), void *arg);
/* Calls fn with the overall score of every account stored for day (one
 * range of the day index). */
enum tend_err store_scores_of_day(struct store *s, int32_t day,
                                  void (*fn)(void *arg, int64_t account_id, bool has_overall,
                                             double overall),
                                  void *arg);

/* ---- rule inputs beyond metrics -------------------------------------------- */

/* Whether the account had a feature event with that `product` on a day
 * from first_day to last_day (product_days: recorded as events are stored
 * or attached to the account). */
enum tend_err store_product_used(struct store *s, int64_t account_id, const char *product,
                                 int32_t first_day, int32_t last_day, bool *used);
/* The time of the account's latest Ticket Opened before before_ms (*found
 * false when none): one seek. */
enum tend_err store_last_ticket_before(struct store *s, int64_t account_id, int64_t before_ms,
                                       int64_t *ts_ms, bool *found);
/* Writes a user's email, else external id, into buf (size bytes);
 * TEND_ERR_NOTFOUND when no such user. */
enum tend_err store_user_label(struct store *s, int64_t user_id, char *buf, size_t size);

/* ---- CTAs (docs/rules.md) --------------------------------------------------- */

/* A call to action as stored. Strings are borrowed: for the call when read,
 * during the call when written. Days are day numbers. */
struct store_cta {
    int64_t id;
    int64_t account_id;
    const char *account; /* external id; filled on reads only */
    const char *rule;
    const char *subject; /* "" when the rule keeps one CTA per account */
    const char *type;
    int priority; /* enum cta_priority */
    int status;   /* enum cta_status */
    int32_t snoozed_until;
    bool has_closed;
    int closed_reason; /* enum cta_close_reason, when has_closed */
    int32_t closed_day;
    bool cleared; /* closed, and the condition was seen clear since (or it no longer matters) */
    bool has_clear_since; /* live, and its condition has not held since this day */
    int32_t clear_since;
    const char *owner;
    const char *title;
    const char *reason;
    const char *evidence; /* JSON object text */
    int32_t opened_day;
    int32_t due_day;
    int64_t updated_ms;
    bool has_value; /* value: currency per year (docs/rules.md, Value) */
    double value;
    const char *account_name; /* the account's name, or NULL; filled on reads only */
    bool acted;               /* a person acted on it (history by another actor than tend);
                               * store_ctas_watched_each only */
};

/* The actor of tend's own entries in a CTA's history. */
#define STORE_ACTOR_TEND "tend"

/* Locks the span's accounts' CTAs for the caller's transaction (which it
 * takes first, before writing): an evaluation of them on another node waits
 * until this one commits, then reads its CTAs, so two nodes evaluating one
 * account at once end with one live CTA per key and neither fails.
 * PostgreSQL: transaction advisory locks by blocks of account ids (every
 * account: one lock); SQLite: nothing to do, a write transaction excludes
 * every other writer already. */
enum tend_err store_ctas_lock(struct store *s, const struct store_span *sp);
/* Calls fn for each CTA of the span's accounts that an evaluation must
 * know: open and snoozed ones, and closed ones not yet cleared. Their
 * account (external id) is NULL. */
enum tend_err store_ctas_watched_each(struct store *s, const struct store_span *sp,
                                      void (*fn)(void *arg, const struct store_cta *c), void *arg);
/* The live (open and snoozed) CTAs of every account, counted in the
 * database (an evaluation of a few accounts weighs their opens against it). */
enum tend_err store_ctas_live_count(struct store *s, int64_t *n);
/* Stores a new CTA; *id gets its id. TEND_ERR_INVALID (a conflict) when an
 * open or snoozed CTA exists for its (rule, account, subject): the database
 * refuses a second one. */
enum tend_err store_cta_insert(struct store *s, const struct store_cta *c, int64_t *id);
/* Writes every changeable field of CTA c->id. A status change to open or
 * snoozed that would make a second live CTA of the key fails as above. */
enum tend_err store_cta_update(struct store *s, const struct store_cta *c);
/* Marks the closed, uncleared CTAs of a key cleared: they no longer matter. */
enum tend_err store_cta_forget_closed(struct store *s, const char *rule, int64_t account_id,
                                      const char *subject);
/* Reads CTA id and calls fn with it; TEND_ERR_NOTFOUND when none. */
enum tend_err store_cta_get(struct store *s, int64_t id,
                            void (*fn)(void *arg, const struct store_cta *c), void *arg);

/* Which CTAs store_ctas_each lists; NULL fields do not filter. status: "open",
 * "snoozed", "closed", or "live" (open or snoozed). */
struct store_cta_filter {
    const char *status;
    const char *owner;
    const char *account; /* external id */
    const char *rule;
};
/* Calls fn for the CTAs the filter lets through, live first, then by
 * priority (high first), value (highest first), due day and id; fn returns
 * nonzero to stop. */
enum tend_err store_ctas_each(struct store *s, const struct store_cta_filter *f,
                              int (*fn)(void *arg, const struct store_cta *c), void *arg);

/* ---- the budget (sqlite_held.c) ------------------------------------------ */

/* A CTA the weekly budget held back instead of opening (docs/rules.md,
 * Budget): one row per key and ISO week, the latest day's. Strings live for
 * the call they are passed to. */
struct store_cta_held {
    int32_t week; /* the Monday of the ISO week */
    int32_t first_day, day;
    int64_t account_id;
    const char *account; /* external id; filled on reads */
    const char *account_name;
    const char *rule, *subject, *type, *owner, *title, *reason;
    int priority;
    bool has_value;
    double value;
};
/* Records a held-back CTA (the key's row of the week takes the latest day's
 * value, title and reason); *is_new (may be NULL): the key had no row for
 * the week before. */
enum tend_err store_cta_held_put(struct store *s, const struct store_cta_held *h, bool *is_new);
/* Calls fn for the held-back CTAs of week (0: every week), newest week
 * first, then by value (highest first); owner NULL: every owner. fn returns
 * nonzero to stop. */
enum tend_err store_ctas_held_each(struct store *s, int32_t week, const char *owner,
                                   int (*fn)(void *arg, const struct store_cta_held *h), void *arg);
/* The number of held-back keys of week (owner NULL: every owner). */
enum tend_err store_ctas_held_count(struct store *s, int32_t week, const char *owner, int64_t *n);
/* Calls fn with each owner's count of CTAs opened on days from..to. */
enum tend_err store_ctas_opened_by_owner(struct store *s, int32_t from, int32_t to,
                                         void (*fn)(void *arg, const char *owner, int64_t n),
                                         void *arg);

/* One change of a CTA. */
struct store_cta_change {
    int64_t seq; /* 1, 2, ... in order; filled on reads */
    int32_t day;
    int64_t at_ms;
    const char *action; /* "open", "raise", "wake", "resolve", "snooze", "close", "assign", ... */
    const char *actor;  /* "tend" or who did it */
    int status;
    int priority;
    const char *note; /* what changed, or NULL */
};
/* Appends a change to CTA cta_id's history. */
enum tend_err store_cta_history_add(struct store *s, int64_t cta_id,
                                    const struct store_cta_change *ch);
/* Calls fn for each change of CTA cta_id, in order. */
enum tend_err store_cta_history_each(struct store *s, int64_t cta_id,
                                     void (*fn)(void *arg, const struct store_cta_change *ch),
                                     void *arg);

/* Records an evaluation as of t_ms (adding to the counts of an earlier one as
 * of the same instant). */
enum tend_err store_eval_run_put(struct store *s, int64_t t_ms, int64_t run_ms, int64_t opened,
                                 int64_t updated, int64_t resolved, int64_t errors);
/* Forgets every CTA, its history and every evaluation: a replay from
 * scratch (`tend eval --rebuild`). */
enum tend_err store_ctas_reset(struct store *s);
/* The latest evaluation before t_ms (INT64_MAX: the latest of all); *found
 * false when none. */
enum tend_err store_eval_run_before(struct store *s, int64_t t_ms, int64_t *prev_ms, bool *found);

/* The same, for the scores stored with configuration version only. */
enum tend_err store_scores_of_day_version(struct store *s, int32_t day, const char *version,
                                          void (*fn)(void *arg, int64_t account_id,
                                                     bool has_overall, double overall),
                                          void *arg);
/* The same for the listed accounts only (ids ascending, distinct; one seek
 * each); *any tells whether day has a score stored with version for any
 * account at all, listed or not. */
enum tend_err store_scores_of_day_ids(
    struct store *s, int32_t day, const char *version, const int64_t *ids, size_t n, bool *any,
    void (*fn)(void *arg, int64_t account_id, bool has_overall, double overall), void *arg);

/* ---- notifications and the outbox (docs/delivery.md) ------------------------- */

/* Stores a CTA event's snapshot (JSON text, notify/message.h); *id gets its id. */
enum tend_err store_notification_add(struct store *s, int64_t cta_id, const char *event,
                                     int32_t day, int64_t created_ms, const char *snapshot,
                                     int64_t *id);

/* One message to one target. Strings borrowed as for CTAs. */
struct store_outbox {
    int64_t id;
    int64_t notification_id; /* 0: a digest */
    int64_t digest_id;       /* a digested item: the digest that carried it */
    int64_t cta_id;          /* read only; 0 for a digest */
    const char *event;       /* read only: "open", "raise", "resolve", "wake" or "digest" */
    const char *channel;
    const char *target; /* an email address, a Slack owner with their own webhook, or "" */
    const char *owner;
    const char *status; /* held, digested, pending, sending, sent, dead */
    int64_t rank;       /* urgency: lower goes first (notify_rank) */
    int64_t attempts, resends;
    int64_t next_at_ms, created_ms;
    int64_t sent_ms; /* 0: not sent */
    const char *last_error;
    const char *key;      /* read only: "tend-ID-NONCE", the message's stable key */
    const char *snapshot; /* read only: the notification's; NULL for a digest */
};

/* Writes a row (notification_id, channel, target, owner, status, rank,
 * next_at_ms, created_ms, last_error); *id gets its id. */
enum tend_err store_outbox_add(struct store *s, const struct store_outbox *row, int64_t *id);
/* Puts rows left `sending` whose lease ended at or before before_ms back
 * to pending, due now, each counted in its resends; the interrupted attempt,
 * whose outcome is unknown, does not count against max_attempts. Calls fn
 * (may be NULL) with each one's channel and target (strings live for the
 * call); *n gets how many. A dispatcher alone on its database (SQLite, the
 * lock file) recovers every row at its start (INT64_MAX: whoever left them
 * died); dispatchers that share one (store_shared) recover expired leases
 * only, now and then, since the others' rows are in flight. */
enum tend_err store_outbox_recover(struct store *s, int64_t before_ms,
                                   void (*fn)(void *arg, const char *channel, const char *target),
                                   void *arg, int64_t *n);
/* One due row a dispatcher wants to send (store_outbox_claim). */
struct store_claim {
    int64_t id;
    const char *gate; /* its destination's gate (store_hold), NULL: none */
    bool exclusive;   /* one message in flight at a time to the gate (a Slack webhook) */
    bool claimed;     /* out: the row is this dispatcher's to send */
    int64_t attempts; /* out, when claimed: the row's attempts, this one counted */
    int64_t resends;  /* out, when claimed */
    /* out, when its exclusive gate refused it: when to ask again (the end
     * of the gate's hold, or of the lease of the message in flight) */
    int64_t wait_until_ms;
};
/* Claims rows for sending, each only if it is still pending and due by
 * now_ms, no other transaction is claiming it (PostgreSQL: FOR UPDATE SKIP
 * LOCKED), and, for an exclusive gate, the gate is neither held past now_ms
 * nor sending another row under a lease that has not ended. A claimed row
 * becomes `sending` with its attempts counted, next_at_ms now_ms, leased
 * until lease_until_ms, its gate recorded. Call inside a transaction and
 * commit before any byte goes out: dispatchers claiming at once on several
 * nodes get disjoint rows, and one exclusive gate one row at a time. */
enum tend_err store_outbox_claim(struct store *s, struct store_claim *rows, size_t n,
                                 int64_t now_ms, int64_t lease_until_ms);
/* Extends to until_ms the leases of the listed rows still `sending` (a
 * dispatcher's transfers in flight); *n (may be NULL) gets how many. */
enum tend_err store_outbox_lease_renew(struct store *s, const int64_t *ids, size_t n,
                                       int64_t until_ms, int64_t *renewed);
/* Calls fn for each (channel, target) with pending rows due by now_ms, with
 * the rank of its most urgent one: the most urgent target first (lowest rank,
 * then longest due). */
enum tend_err store_outbox_due_targets(struct store *s, int64_t now_ms,
                                       void (*fn)(void *arg, const char *channel,
                                                  const char *target, int64_t rank),
                                       void *arg);
/* Calls fn for up to limit pending rows of (channel, target) due by now_ms,
 * the most urgent first: lowest rank, then longest due, then oldest. */
enum tend_err store_outbox_due(struct store *s, int64_t now_ms, const char *channel,
                               const char *target, int64_t limit,
                               void (*fn)(void *arg, const struct store_outbox *row), void *arg);
/* The earliest next_at_ms after after_ms of a pending row; *found false when
 * none. */
enum tend_err store_outbox_next_due(struct store *s, int64_t after_ms, int64_t *at_ms, bool *found);
/* Sets a row's status, attempts, resends, next_at_ms, sent_ms and last_error. */
enum tend_err store_outbox_set(struct store *s, const struct store_outbox *row);

/* Holds: the earliest instant a destination (a gate: a Slack webhook, a
 * webhook, an address) may be sent to again, kept across processes. */
struct store_hold {
    const char *gate; /* the dispatcher's key of the destination */
    int64_t not_before_ms;
    const char *reason; /* "pacing", "HTTP 429 ..." */
    const char *label;  /* for people: "slack cs-alerts", "webhook crm" */
};
/* Sets gate's hold to h->not_before_ms unless it already holds longer. */
enum tend_err store_outbox_hold_set(struct store *s, const struct store_hold *h);
/* Calls fn for each hold still in force after after_ms, the latest last; fn's
 * strings live for the call only. */
enum tend_err store_outbox_holds_each(struct store *s, int64_t after_ms,
                                      void (*fn)(void *arg, const struct store_hold *h), void *arg);
/* Forgets the holds that ended at or before before_ms. */
enum tend_err store_outbox_holds_prune(struct store *s, int64_t before_ms);

/* Which rows store_outbox_each lists; zero/NULL fields do not filter. */
struct store_outbox_filter {
    const char *status;
    const char *channel;
    int64_t cta_id;
    int64_t limit; /* 0: all */
};
/* Calls fn for the rows the filter lets through, newest first. */
enum tend_err store_outbox_each(struct store *s, const struct store_outbox_filter *f,
                                void (*fn)(void *arg, const struct store_outbox *row), void *arg);
/* Reads row id; TEND_ERR_NOTFOUND when none. */
enum tend_err store_outbox_get(struct store *s, int64_t id,
                               void (*fn)(void *arg, const struct store_outbox *row), void *arg);
/* Calls fn with the number of rows of each status present, and their resends. */
enum tend_err store_outbox_counts(struct store *s,
                                  void (*fn)(void *arg, const char *status, int64_t rows,
                                             int64_t resends),
                                  void *arg);
/* Makes a dead or pending row pending, due at now_ms, attempts 0; *changed
 * false when the row is in another status (or does not exist). */
enum tend_err store_outbox_retry(struct store *s, int64_t id, int64_t now_ms, bool *changed);
/* The same for every dead row; *n gets how many. */
enum tend_err store_outbox_retry_dead(struct store *s, int64_t now_ms, int64_t *n);

/* Calls fn for each (channel, target, owner) with rows held since before
 * before_ms. */
enum tend_err store_outbox_held_groups(struct store *s, int64_t before_ms,
                                       void (*fn)(void *arg, const char *channel,
                                                  const char *target, const char *owner),
                                       void *arg);
/* Writes the digest of a group: a pending row of rank rank due at now_ms,
 * and its items (held before before_ms) marked digested with its id. Call
 * inside a transaction. *items gets how many (0: no row written). */
enum tend_err store_outbox_digest_make(struct store *s, const char *channel, const char *target,
                                       const char *owner, int64_t before_ms, int64_t now_ms,
                                       int64_t rank, int64_t *digest_id, int64_t *items);
/* Calls fn with the snapshot of each item of digest digest_id, oldest first. */
enum tend_err store_outbox_items_each(struct store *s, int64_t digest_id,
                                      void (*fn)(void *arg, const char *snapshot), void *arg);

/* ---- counters ------------------------------------------------------------- */

/* Adds delta to the lifetime counter name (created at 0). */
enum tend_err store_counter_add(struct store *s, const char *name, int64_t delta);
/* Adds delta to an account's event count. */
enum tend_err store_account_count_events(struct store *s, int64_t account_id, int64_t delta);

/* ---- reading -------------------------------------------------------------- */

struct store_account_row {
    int64_t id;
    const char *external_id;
    struct store_account_fields f;
    const char *traits_json;
    int64_t first_seen_ms; /* its earliest group call, identify or CSV row */
    int64_t members;       /* open memberships */
    int64_t events;        /* attached events */
};

/* Calls fn for every account in external-id order; fn returns nonzero to stop.
 * The row's strings live for the call only. */
enum tend_err store_accounts_each(struct store *s,
                                  int (*fn)(void *arg, const struct store_account_row *row),
                                  void *arg);
/* Calls fn with account id (internal); TEND_ERR_NOTFOUND when none. */
enum tend_err store_account_get(struct store *s, int64_t id,
                                int (*fn)(void *arg, const struct store_account_row *row),
                                void *arg);
/* The same in no particular order, without members and events (-1): a
 * quick list for evaluation. */
enum tend_err store_accounts_brief_each(struct store *s,
                                        int (*fn)(void *arg, const struct store_account_row *row),
                                        void *arg);
/* The same for the listed accounts only (ids ascending, distinct), in id
 * order; an id with no account is skipped. */
enum tend_err store_accounts_brief_of(struct store *s, const int64_t *ids, size_t n,
                                      int (*fn)(void *arg, const struct store_account_row *row),
                                      void *arg);

struct store_status {
    int64_t accounts;
    int64_t users;
    int64_t memberships_open;
    int64_t memberships_ended;
    int64_t quarantined;
};
/* Counts accounts, users, memberships and the quarantine. Event totals are
 * lifetime counters (store_counters_each), kept in the same transactions as
 * the events, so that status stays instant on a large database. */
enum tend_err store_status_get(struct store *s, struct store_status *out);
/* Calls fn for each lifetime counter. */
enum tend_err store_counters_each(struct store *s,
                                  void (*fn)(void *arg, const char *name, int64_t value),
                                  void *arg);
/* Calls fn for each quarantine reason with its count, most frequent first. */
enum tend_err store_quarantine_reasons(struct store *s,
                                       void (*fn)(void *arg, const char *reason, int64_t n),
                                       void *arg);

/* ---- the dashboard's reads ------------------------------------------------ */

/* An account as the ranked list shows it; strings live for the call. */
struct store_account_brief {
    int64_t id;
    const char *external_id;
    const char *name, *segment, *owner; /* owner: csm_email; NULL when unknown */
    bool has_mrr;
    double mrr;
    bool has_score; /* a score row for the day (overall may still be unknown) */
    bool has_overall;
    double overall;
    const char *band; /* "red", "yellow", "green", "none" */
    int64_t live_ctas;
    bool has_before; /* store_account_list: an overall score 30 days before */
    double before;
};
/* Calls fn for every account with its score of day and its live CTAs. */
enum tend_err store_account_briefs(struct store *s, int32_t day,
                                   void (*fn)(void *arg, const struct store_account_brief *b),
                                   void *arg);
/* The dashboard's account list, a page at a time (store/account_list.c,
 * docs/dashboard.md "The accounts list at scale"). Sorts, each with its
 * unknown values last and ties by label (name, else external id; ASCII
 * case folded) then external id: score (ascending), -score, change (score
 * minus the score 30 days before, ascending), mrr (descending), name, ctas
 * (live CTAs, descending). */
enum store_account_sort {
    STORE_SORT_SCORE,
    STORE_SORT_SCORE_DESC,
    STORE_SORT_CHANGE,
    STORE_SORT_MRR,
    STORE_SORT_NAME,
    STORE_SORT_CTAS
};
#define STORE_BAND_RED    1u
#define STORE_BAND_YELLOW 2u
#define STORE_BAND_GREEN  4u
#define STORE_BAND_NONE   8u /* no score, or a band other than the three */
struct store_account_query {
    int32_t day;         /* the scores' day; INT32_MIN: none (every band "none") */
    const char *owner;   /* csm_email; "none": accounts without one; NULL: any */
    const char *segment; /* NULL: any */
    unsigned bands;      /* STORE_BAND_* of the bands kept; 0: any */
    enum store_account_sort sort;
    int64_t offset, limit; /* the rows listed; limit < 0: every row from offset */
    /* A search (NULL: none): the rows kept must also match; offset and
     * limit count matches. The list is walked whole (ids and names only). */
    bool (*match)(void *arg, const char *external_id, const char *name);
    void *match_arg;
};
/* What the list's page shows besides its rows, kept per data version (a
 * commit of any connection or node makes the next call read it again).
 * Strings and arrays are the store's, valid until the next call on s. */
struct store_account_summary {
    int64_t accounts;                            /* every account */
    int64_t bands[4];                            /* red, yellow, green, none of the day */
    int64_t total;                               /* the accounts the query's filters keep */
    const char *const *owners, *const *segments; /* distinct, byte order */
    size_t n_owners, n_segments;
};
/* Calls fn for the query's rows, in its sort order, and fills *sum. The
 * cost is that of the rows up to the page (an index walk in the sort's
 * order, ids only, then the page's rows), not of every account, except for
 * sort change, a search, and the first call after a commit (the counts and
 * facets). b->has_before/before are set. */
enum tend_err store_account_list(struct store *s, const struct store_account_query *q,
                                 struct store_account_summary *sum,
                                 void (*fn)(void *arg, const struct store_account_brief *b),
                                 void *arg);
/* The latest day with stored scores; *found false when none. */
enum tend_err store_scores_latest_day(struct store *s, int32_t *day, bool *found);
/* Calls fn for the account's latest limit facts (meaningful events and group
 * calls), newest first; the fact's user is labelled (email, else id) in
 * user, NULL when none. */
enum tend_err store_account_facts_recent(struct store *s, int64_t account_id, int limit,
                                         void (*fn)(void *arg, const struct store_fact *f,
                                                    const char *user),
                                         void *arg);
/* CTAs per rule: opened in all, opened on or after since_day, open, snoozed,
 * closed, closed as auto_resolved, and the latest opened day. */
struct store_rule_counts {
    const char *rule;
    int64_t total, since, open, snoozed, closed, auto_resolved;
    int32_t last_opened_day;
};
enum tend_err store_rule_counts_each(struct store *s, int32_t since_day,
                                     void (*fn)(void *arg, const struct store_rule_counts *c),
                                     void *arg);
/* The creation time of the oldest pending outbox row; *found false when none. */
enum tend_err store_outbox_oldest_pending(struct store *s, int64_t *created_ms, bool *found);

/* ---- analysis -------------------------------------------------------------- */

/* An account outcome: Account Renewed or Account Churned, as stored. */
struct store_outcome {
    int64_t account_id;
    const char *external_id;
    const char *owner; /* the account's csm_email now; NULL when unknown */
    bool churned;
    int64_t ts_ms;
    bool has_arr;
    double arr;
    const char *reason; /* NULL when none */
    bool has_mrr;       /* the account's mrr now */
    double mrr;
    int64_t first_seen_ms; /* the account's */
};
/* Calls fn for every outcome with from_ms <= ts_ms < to_ms, in time order
 * (ties by account). */
enum tend_err store_outcomes_each(struct store *s, int64_t from_ms, int64_t to_ms,
                                  void (*fn)(void *arg, const struct store_outcome *o), void *arg);
/* Writes a consistent copy of the whole database to path (VACUUM INTO),
 * which must not exist; outside a transaction. */
enum tend_err store_copy_to(struct store *s, const char *path);

/* ---- reports (sqlite_report.c) --------------------------------------------------- */

/* A stored report of tend analyze or tend backtest (docs/store.md): the HTML
 * fragment of report.h and a one-line summary for lists. Strings live for the
 * call they are passed to. */
struct store_report {
    int64_t id;
    const char *kind;    /* "analyze" or "backtest" */
    const char *title;   /* shown as the report's heading; plain text */
    const char *summary; /* one line, plain text; NULL stores "" */
    const char *body;    /* the HTML fragment; NULL in lists */
    int64_t created_ms;
};

#define STORE_REPORTS_KEPT      100                /* older reports are deleted */
#define STORE_REPORT_MAX_BYTES  (16 * 1024 * 1024) /* of a body */
#define STORE_REPORT_TEXT_BYTES 4096               /* of a title or summary */

/* Stores r (its id is ignored) and deletes all but the newest
 * STORE_REPORTS_KEPT reports (by created_ms, then id), both or neither (a
 * savepoint, so it works inside a caller's transaction or alone). *id gets the
 * new report's id. TEND_ERR_INVALID for a kind other than analyze or backtest
 * or a NULL title or body, TEND_ERR_LIMIT for a body or text over the caps. */
enum tend_err store_report_put(struct store *s, const struct store_report *r, int64_t *id);
/* Calls fn for the newest limit reports (limit <= 0: all), newest first, with
 * body NULL. */
enum tend_err store_reports_each(struct store *s, int limit,
                                 void (*fn)(void *arg, const struct store_report *r), void *arg);
/* Calls fn once with report id, body included; TEND_ERR_NOTFOUND (fn not
 * called) when there is none. */
enum tend_err store_report_get(struct store *s, int64_t id,
                               void (*fn)(void *arg, const struct store_report *r), void *arg);

/* ---- churn-risk models and scores (sqlite_model.c) -------------------------------- */

/* A fitted churn-risk model as stored (docs/store.md, migration 14). Every
 * model stays in the history; at most one is adopted (scores new days). */
struct store_model {
    int64_t version; /* assigned by store_model_put */
    int64_t fitted_ms;
    int horizon_days;
    int32_t trained_from, trained_to; /* days of the labelled snapshots */
    int32_t data_end;                 /* the last day of data its labels saw */
    int64_t n_rows, n_churns;
    double auc_holdout, brier_holdout, auc_health; /* NaN stored as NULL */
    bool adopted;
    int64_t adopted_ms; /* when last adopted; 0: never (set by store_model_put) */
    const char *card;   /* JSON text; NULL in lists */
};

#define STORE_MODEL_CARD_MAX_BYTES (4 * 1024 * 1024)

/* Stores m as a new version (*version gets it); adopt: it becomes the adopted
 * one (and no other), adopted_ms = m->fitted_ms. Its own savepoint: inside a
 * caller's transaction or alone. TEND_ERR_LIMIT for a card over
 * STORE_MODEL_CARD_MAX_BYTES. */
enum tend_err store_model_put(struct store *s, const struct store_model *m, bool adopt,
                              int64_t *version);
/* Calls fn once with model version (0: the adopted one), card included;
 * TEND_ERR_NOTFOUND (fn not called) when there is none. */
enum tend_err store_model_get(struct store *s, int64_t version,
                              void (*fn)(void *arg, const struct store_model *m), void *arg);
/* Calls fn once with the model that scores day: the most recently adopted
 * one (the adopted one, or one adopted before it) whose data end on or before
 * day (data_end <= day), card included, so that no evaluation of a past day
 * uses a model that saw that day's future; TEND_ERR_NOTFOUND (fn not called)
 * when there is none. */
enum tend_err store_model_for_day(struct store *s, int32_t day,
                                  void (*fn)(void *arg, const struct store_model *m), void *arg);
/* Calls fn for every model, newest first, card NULL. */
enum tend_err store_models_each(struct store *s, void (*fn)(void *arg, const struct store_model *m),
                                void *arg);

/* The day of the latest stored event (tend model fit's default --to);
 * *found false when there is none. */
enum tend_err store_last_event_day(struct store *s, int32_t *day, bool *found);

/* One account's churn risk on one day. */
struct store_risk {
    int32_t day;
    int64_t account_id;
    double p_churn;
    int64_t model_version;
    const char *drivers; /* JSON array text */
};
/* Stores (replaces) r. */
enum tend_err store_risk_put(struct store *s, const struct store_risk *r);
/* Deletes every risk row of day: a full evaluation of the day rewrites them
 * all, so that a replay leaves no score of a model it may not use (one
 * fitted on the day's future) nor of an account it no longer scores. */
enum tend_err store_risk_clear_day(struct store *s, int32_t day);
/* Stores (replaces) n rows, STORE_RISK_BATCH to a statement: a day's rows of
 * an evaluation go in at a fraction of the per-row statements' cost. */
#define STORE_RISK_BATCH 32
enum tend_err store_risk_put_many(struct store *s, const struct store_risk *r, size_t n);
/* The latest complete day on or before max_day with risk rows: one that a
 * full evaluation recorded (eval_runs), so that the rows of an evaluation of
 * a few accounts after their events, on a day the daily run has not reached
 * yet, are never shown as that day's ranking; *found false when none. */
enum tend_err store_risk_latest_day(struct store *s, int32_t max_day, int32_t *day, bool *found);
/* A risk row of a day with what tend risk shows of the account (its fields
 * now; band from the score of the same day, NULL when none). */
struct store_risk_row {
    struct store_risk r;
    const char *external_id, *name, *owner, *band;
    bool has_mrr;
    double mrr;
    double arr_trait; /* the account's arr trait when a number; NaN: none */
};
/* Calls fn for every risk row of day, in account order; strings live for the
 * call. */
enum tend_err store_risk_of_day(struct store *s, int32_t day,
                                void (*fn)(void *arg, const struct store_risk_row *r), void *arg);
/* Calls fn for the risk row of the account external_id on day, if any. */
enum tend_err store_risk_of_account(struct store *s, int32_t day, const char *external_id,
                                    void (*fn)(void *arg, const struct store_risk_row *r),
                                    void *arg);

/* ---- session epochs (sqlite_session.c) -------------------------------------------- */

/* A dashboard user's session epoch (server/auth.h): a session cookie is valid
 * only for the epoch it was made in. Users are named by email, without
 * regard to ASCII case. */
#define STORE_EMAIL_MAX_BYTES 320

/* The session epoch of email in *epoch: 0 when it was never bumped.
 * TEND_ERR_LIMIT for an email over STORE_EMAIL_MAX_BYTES. */
enum tend_err store_session_epoch(struct store *s, const char *email, int64_t *epoch);
/* Adds one to the session epoch of email (ending every session made before)
 * and puts the new epoch in *epoch; now_ms is recorded as when. Its own
 * transaction, or part of the caller's. */
enum tend_err store_session_epoch_bump(struct store *s, const char *email, int64_t now_ms,
                                       int64_t *epoch);

/* ---- several nodes on one database (sqlite_node.c, pg_node.c) ----------------------- */

/* What lets several `tend serve` nodes share one database
 * (docs/operations.md, "Several nodes"): a lease that names the one node
 * whose scheduler plans the daily evaluations, the evaluations as runs
 * split into buckets of account ids that any node claims, a lock that keeps
 * two nodes from evaluating the same accounts at once, and wake-ups.
 * SQLite has one node: the same calls work there (a lease nobody else
 * wants, a claim that is a plain update in a write transaction, a lock that
 * the single writer already has, a wake-up that never arrives). */

/* The backend of s: "sqlite" or "pg" (one node, or several). */
const char *store_backend_name(struct store *s);

#define STORE_NODE_ID_BYTES  96   /* a node's name in a lease or a claim */
#define STORE_BUCKET_IDS     1024 /* account ids per bucket of a run, by default */
#define STORE_LEASE_SCHED    "scheduler"
#define STORE_CHANNEL_RUN    "tend_run"    /* a run was planned: claim its buckets */
#define STORE_CHANNEL_OUTBOX "tend_outbox" /* an evaluation queued notifications */

/* A lease as it is after store_lease_acquire(). */
struct store_lease {
    bool held;    /* the caller holds it, until expires_ms */
    int64_t term; /* one more each time the lease changes hands (1: the first) */
    int64_t expires_ms;
    char holder[STORE_NODE_ID_BYTES]; /* its holder now */
};
/* Takes or renews the lease name for holder until now_ms + ttl_ms, in one
 * statement (its own transaction unless the caller has one open): taken
 * when nobody holds it, its holder's time ran out, or holder holds it
 * already (a renewal: the term stays; a takeover adds one to it). *out
 * says who holds it afterwards. Clocks: now_ms is the caller's; nodes must
 * agree on the time within a small part of ttl_ms. */
enum tend_err store_lease_acquire(struct store *s, const char *name, const char *holder,
                                  int64_t now_ms, int64_t ttl_ms, struct store_lease *out);
/* Gives the lease up when holder holds it (it expires at once), so that a
 * node that stops lets the next take over without waiting out its time. */
enum tend_err store_lease_release(struct store *s, const char *name, const char *holder);

/* One account bucket of a run: the accounts with ids in [first_id,
 * last_id], evaluated as of day. */
struct store_bucket {
    int64_t due_ms; /* the run: its scheduled time */
    int32_t day;
    int bucket, n_buckets;
    int64_t first_id, last_id;
    int attempts; /* claims of it so far, this one included */
};
/* What the buckets of a run did, summed when the last is done. */
struct store_run_counts {
    int64_t accounts, opened, updated, resolved, errors, notifications;
};
/* A planned evaluation (a run): due_ms is the scheduled time it stands
 * for, its key. */
struct store_run {
    int64_t due_ms;
    int32_t day;
    int n_buckets, done_buckets;
    int64_t term;                /* of the lease that planned it */
    int64_t created_ms, done_ms; /* done_ms 0: not complete */
    struct store_run_counts c;   /* when complete */
};

/* Plans run due_ms, the evaluation of every account as of day, split into
 * buckets of bucket_ids account ids (0: one bucket of every id; the last
 * bucket is open-ended, so an account created later is in it), when holder
 * holds lease with term: the check and the insert are one statement, so a
 * holder whose lease ran out plans nothing (*created false). *created false
 * too when run due_ms exists already: a scheduled time gets one run, ever.
 * Its own transaction unless the caller has one open. */
enum tend_err store_run_create(struct store *s, const char *lease, const char *holder, int64_t term,
                               int64_t due_ms, int32_t day, int64_t bucket_ids, int64_t now_ms,
                               bool *created);
/* The latest run by due_ms; *found false when none. */
enum tend_err store_run_latest(struct store *s, struct store_run *out, bool *found);
/* Run due_ms; TEND_ERR_NOTFOUND when none. */
enum tend_err store_run_get(struct store *s, int64_t due_ms, struct store_run *out);
/* Claims for holder, until now_ms + claim_ms, the first bucket (oldest run
 * first) not done whose claim is free or has run out, skipping the rows
 * another connection is claiming at this moment (FOR UPDATE SKIP LOCKED):
 * claimers never wait on each other and never get the same bucket while a
 * claim lasts. *found false when none is free. Its own transaction unless
 * the caller has one open. */
enum tend_err store_bucket_claim(struct store *s, const char *holder, int64_t now_ms,
                                 int64_t claim_ms, struct store_bucket *out, bool *found);
/* Marks bucket b of run due_ms done with its counts c, when holder still
 * has its claim (*ours false otherwise: the claim ran out and another
 * node claimed it; nothing changes). When it was the run's last bucket,
 * the run is complete: *run_done true, with its summed counts in *run
 * (may be NULL). Call it in a transaction: the run's row is locked first,
 * so that of two nodes finishing its last buckets at once exactly one
 * completes it. */
enum tend_err store_bucket_done(struct store *s, const char *holder, int64_t due_ms, int b,
                                int64_t now_ms, const struct store_run_counts *c, bool *ours,
                                bool *run_done, struct store_run *run);

/* The account ids in [first, last] (a bucket's), ascending, into *ids
 * (malloced, free() it; NULL when none). */
enum tend_err store_account_ids_between(struct store *s, int64_t first, int64_t last, int64_t **ids,
                                        size_t *n);
/* The account ids per bucket of a run: STORE_BUCKET_IDS, or
 * TEND_TEST_BUCKET_IDS from the environment (tests make small buckets). */
int64_t store_bucket_ids(void);
/* Holds, until the transaction ends, the lock of opening CTAs: the caps and
 * the owners' budget count every account's CTAs, so evaluations of
 * different accounts that open take turns (after their accounts'
 * store_ctas_lock: no deadlock). SQLite: nothing to do. */
enum tend_err store_eval_lock_opens(struct store *s);

/* Sends a wake-up on channel to every listening node: at commit when the
 * caller has a transaction open (one per transaction, however many calls),
 * at once otherwise. No-op on SQLite. */
enum tend_err store_notify(struct store *s, const char *channel);
/* Listens on channel on this connection (for store_notify_wait). */
enum tend_err store_listen(struct store *s, const char *channel);
/* Waits up to timeout_ms for a wake-up on a channel listened to; *got true
 * with its channel in channel (size bytes) when one came. Outside a
 * transaction. SQLite: none ever comes; it waits the time out. */
enum tend_err store_notify_wait(struct store *s, int timeout_ms, char *channel, size_t size,
                                bool *got);

/* ---- customer messages (docs/delivery.md, "Messages to the customer") ----- */

/* One message tend decided to write to a customer, or to record as not sent:
 * its key (account, kind, ref, step) is claimed once, so each is decided
 * once however many evaluations and nodes run. Strings borrowed. */
struct store_customer_message {
    int64_t account_id;
    const char *kind; /* card_expiry, renewal, payment_failed */
    const char *ref;  /* the card ("2027-03 4242"), the renewal date, the invoice id */
    int64_t step;     /* days before (card_expiry, renewal); 0 for payment_failed */
    int32_t day;      /* the evaluated day */
    int64_t created_ms;
    const char *recipient; /* an address; NULL: none */
    const char *rule;      /* how it was chosen: billing_email, billing_user, admin_user, none */
    const char *status;    /* queued, no_recipient, unsubscribed */
    const char *subject;
    int64_t notification_id; /* 0: nothing queued */
    /* read only: the outbox row's status and when it was sent (0: not) */
    const char *delivery;
    int64_t sent_ms;
};
/* Claims m's key: *claimed false when it was claimed before (nothing written). */
enum tend_err store_customer_message_claim(struct store *s, const struct store_customer_message *m,
                                           bool *claimed);
/* Links a claimed message to the notification that carries it. */
enum tend_err store_customer_message_link(struct store *s, const struct store_customer_message *m,
                                          int64_t notification_id);
/* Calls fn for the account's messages, newest first, at most limit. */
enum tend_err store_customer_messages_each(struct store *s, int64_t account_id, int limit,
                                           void (*fn)(void *arg,
                                                      const struct store_customer_message *m),
                                           void *arg);
/* Records that contact wants no more messages of kind from the account
 * (again: nothing changes). */
enum tend_err store_customer_unsubscribe(struct store *s, int64_t account_id, const char *kind,
                                         const char *contact, int64_t now_ms);
/* Calls fn for the account's unsubscribes. */
enum tend_err store_customer_unsubscribes_each(struct store *s, int64_t account_id,
                                               void (*fn)(void *arg, const char *kind,
                                                          const char *contact, int64_t ms),
                                               void *arg);
/* Calls fn for the account's current members with an email: the address and
 * the user's traits (JSON text), in the order they joined. */
enum tend_err store_customer_contacts_each(struct store *s, int64_t account_id,
                                           void (*fn)(void *arg, const char *email,
                                                      const char *traits),
                                           void *arg);

/* ---- an account's users (sqlite_accounts.c, pg_accounts.c) ------------------------ */

/* A membership with what the user list and champion_risk read of its user.
 * Strings live for the call. */
struct store_member {
    int64_t account_id;
    int64_t user_id;
    int64_t start_ms;
    int64_t end_ms; /* STORE_OPEN_END while a member */
    const char *external_id, *email, *name;
    const char *role_json; /* the role trait's value as JSON text; NULL: none */
    /* The latest start before before_ms of a membership of the user in
     * another account (0: none): a group call that moved them away. */
    int64_t elsewhere_ms;
};
/* Calls fn for every membership of the span's accounts (ended or not), in
 * account, user and start order, with the user's trait role_key as its
 * role; with_role_only: only of users who have that trait, found through
 * the traits' key index (an evaluation of every account reads the few
 * users with a role, not every membership). */
enum tend_err store_members_each(struct store *s, const struct store_span *sp, const char *role_key,
                                 bool with_role_only, int64_t before_ms,
                                 void (*fn)(void *arg, const struct store_member *m), void *arg);
/* Calls fn with the user's logins in the account on each day from first_day
 * to last_day that has any, in day order (user_login_days: written when a
 * stale day's rollups are rebuilt, store_activity_refresh; a day still
 * stale may lack logins, and is to be read from the events). One range. */
enum tend_err store_user_logins_each(struct store *s, int64_t account_id, int64_t user_id,
                                     int32_t first_day, int32_t last_day,
                                     void (*fn)(void *arg, int32_t day, int64_t logins), void *arg);

/* ---- segments (docs/dashboard.md "Segments"; sqlite_segments.c) ------------- */

/* A group's day as stored: kind (enum seg_kind), name, day, sums. The name
 * is borrowed as for CTAs. */
struct store_segment_row {
    int kind;
    const char *name;
    int32_t day;
    struct seg_sums s;
};
/* The account id segment CTAs are stored under (no account has it): their
 * subject is the segment's name; read back, their account is
 * "segment:NAME" and their account name "Segment NAME". */
#define STORE_SEGMENTS_ACCOUNT SEG_CTA_ACCOUNT

/* Makes rows the day's groups: the day's rows not among them go (the
 * caller's transaction; rows' day is ignored). Several writers at once
 * end with one row per group (an upsert). */
enum tend_err store_segment_days_put(struct store *s, int32_t day,
                                     const struct store_segment_row *rows, size_t n);
/* Stores part `part` of scheduled run due_ms (a bucket's sums), replacing
 * what the part had (a bucket evaluated again). */
enum tend_err store_segment_part_put(struct store *s, int64_t due_ms, int part,
                                     const struct store_segment_row *rows, size_t n);
/* Calls fn for every row of the run's parts (day 0), and forgets them
 * when forget is true (after fn has seen them all). */
enum tend_err store_segment_parts_take(struct store *s, int64_t due_ms, bool forget,
                                       void (*fn)(void *arg, const struct store_segment_row *r),
                                       void *arg);
/* Calls fn for the stored days of kind's groups (kind < 0: every kind),
 * of the group name only when name is not NULL, in days from..to, by
 * kind, name (bytewise) and day; fn returns nonzero to stop. */
enum tend_err store_segment_days_each(struct store *s, int kind, const char *name, int32_t from,
                                      int32_t to,
                                      int (*fn)(void *arg, const struct store_segment_row *r),
                                      void *arg);
/* The latest day on or before at with stored groups; found false when none. */
enum tend_err store_segment_latest_day(struct store *s, int32_t at, int32_t *day, bool *found);

/* ---- escalation (docs/delivery.md, Escalation; sqlite_escalate.c) --------- */

/* An open CTA as the escalation planner (core/escalate.h) sees it. */
struct store_esc_candidate {
    int64_t cta_id, account_id;
    int priority; /* enum cta_priority */
    int32_t opened_day, due_day;
    int64_t open_ms;      /* its history's first "open" entry (0: none) */
    int64_t first_act_ms; /* its history's first entry by someone other than tend (0: none) */
    unsigned levels;      /* bit 1 << level of each escalation recorded for it */
};
/* Calls fn for every open CTA (not snoozed, not closed), by id. */
enum tend_err
store_escalation_candidates(struct store *s,
                            void (*fn)(void *arg, const struct store_esc_candidate *c), void *arg);
/* Records that CTA cta_id escalated at level, once: *is_new is true for
 * the call that recorded it, false when the level was recorded already (by
 * anyone, on any node: the database's key decides; on PostgreSQL a second
 * transaction waits for the first's commit) or the CTA does not exist. */
enum tend_err store_escalation_put(struct store *s, int64_t cta_id, int level, int64_t at_ms,
                                   const char *manager, bool *is_new);

/* ---- people of the team and the audit log (sqlite_team.c, pg_team.c) ------ */

/* The people who sign in to the dashboard, managed in the app by an admin
 * (docs/dashboard.md, "Users"); tend.yaml's users are not stored here. An
 * email is stored lowercased and is the key. */
#define STORE_TEAM_NAME_MAX_BYTES 200
#define STORE_TEAM_HASH_MAX_BYTES 127   /* crypto_pwhash_STRBYTES - 1 */
#define STORE_AUDIT_TEXT_MAX      400   /* actor, action, target */
#define STORE_AUDIT_JSON_MAX      16384 /* before and after, each */
#define STORE_INVITE_HASH_BYTES   64    /* a one-time link's SHA-256, hex */

struct store_team_user {
    char email[STORE_EMAIL_MAX_BYTES + 1];
    char name[STORE_TEAM_NAME_MAX_BYTES + 1];
    char hash[STORE_TEAM_HASH_MAX_BYTES + 1]; /* "": no password (invited, or SSO only) */
    char role[16];                            /* core/permissions.h's names */
    bool disabled;
    int64_t created_ms, changed_ms;
};
/* Adds a person; TEND_ERR_CONFLICT when the email is taken (by anyone, on any
 * node: the key decides), TEND_ERR_LIMIT when a field is over its bound. */
enum tend_err store_team_user_add(struct store *s, const struct store_team_user *u);
/* The person of email (any case) into *out; found false when none. */
enum tend_err store_team_user_get(struct store *s, const char *email, struct store_team_user *out,
                                  bool *found);
/* Changes one field of a person (the others as they are), with changed_ms;
 * TEND_ERR_NOTFOUND when no such person. role: a role's name; hash: "" for
 * none. */
enum tend_err store_team_user_set_role(struct store *s, const char *email, const char *role,
                                       int64_t now_ms);
enum tend_err store_team_user_set_hash(struct store *s, const char *email, const char *hash,
                                       int64_t now_ms);
enum tend_err store_team_user_set_disabled(struct store *s, const char *email, bool disabled,
                                           int64_t now_ms);
/* Calls fn with every person, by email. */
enum tend_err store_team_users_each(struct store *s,
                                    void (*fn)(void *arg, const struct store_team_user *u),
                                    void *arg);

/* A one-time link (an invitation or a password reset): only the SHA-256 of
 * its token is kept (hash, STORE_INVITE_HASH_BYTES hex digits). */
enum tend_err store_invite_add(struct store *s, const char *hash, const char *email,
                               int64_t expires_ms, const char *by, int64_t now_ms);
/* Uses the link of hash once: when it exists, is unused and expires after
 * now, marks it used and copies its email to email; found false otherwise
 * (a second use, on any node, finds nothing: one statement decides). */
enum tend_err store_invite_take(struct store *s, const char *hash, int64_t now_ms,
                                char email[STORE_EMAIL_MAX_BYTES + 1], bool *found);
/* Whether the link of hash could be used now (for the form before it is). */
enum tend_err store_invite_peek(struct store *s, const char *hash, int64_t now_ms,
                                char email[STORE_EMAIL_MAX_BYTES + 1], bool *found);

/* An API token an admin made in the app (tend.yaml's are not stored): only
 * its SHA-256 (hex) is kept. Names are unique. */
#define STORE_TOKEN_NAME_MAX_BYTES 100
struct store_token {
    char sha256[65];
    char name[STORE_TOKEN_NAME_MAX_BYTES + 1];
    char scope[16]; /* core/permissions.h's names */
    char created_by[STORE_AUDIT_TEXT_MAX + 1];
    int64_t created_ms, revoked_ms; /* revoked_ms 0: in use */
};
/* Adds t (revoked_ms ignored); TEND_ERR_CONFLICT when its name or hash is
 * taken. */
enum tend_err store_token_add(struct store *s, const struct store_token *t);
/* The token in use (not revoked) whose SHA-256 is sha256 (hex). */
enum tend_err store_token_find(struct store *s, const char *sha256, struct store_token *out,
                               bool *found);
/* Revokes the token named name (in use); TEND_ERR_NOTFOUND when none. */
enum tend_err store_token_revoke(struct store *s, const char *name, int64_t now_ms);
/* Calls fn with every token, revoked ones too, by name. */
enum tend_err store_tokens_each(struct store *s, void (*fn)(void *arg, const struct store_token *t),
                                void *arg);

/* One entry of the audit log: who did what to what, when, and the state
 * before and after as JSON text (NULL: none). Append-only: the store has no
 * operation that changes or deletes an entry. */
struct store_audit {
    int64_t id; /* set by the store */
    int64_t at_ms;
    const char *actor, *action, *target;
    const char *before, *after;
};
/* Appends a (id ignored) and sets *id; in the caller's transaction when one is
 * open. TEND_ERR_LIMIT when a field is over its bound (STORE_AUDIT_*). */
enum tend_err store_audit_append(struct store *s, const struct store_audit *a, int64_t *id);
/* Calls fn with at most limit entries older than before_id (0: the newest),
 * newest first. */
enum tend_err store_audit_page(struct store *s, int64_t before_id, int limit,
                               void (*fn)(void *arg, const struct store_audit *a), void *arg);
/* The number of entries. */
enum tend_err store_audit_count(struct store *s, int64_t *n);

/* ---- the webhook inbox (docs/connectors.md; sqlite_inbox.c, pg_inbox.c) --- */

/* Bytes of a provider name, a provider's event or object id, an event type,
 * a reason code and an account id kept in the inbox; longer ones are refused
 * (TEND_ERR_LIMIT). */
#define STORE_INBOX_ID_BYTES     256
#define STORE_INBOX_DETAIL_BYTES 512

/* One inbox row. Strings borrowed for the callback. payload is NULL where
 * the read does not return it (store_inbox_each). status: "pending" (to be
 * processed), "done" (mapped and ingested, or acknowledged as needing
 * nothing), "unmapped" (kept with reason and detail: an unknown customer,
 * an unhandled type), "failed" (the payload could not be read). */
struct store_inbox_row {
    int64_t id;
    const char *provider, *event_id, *event_type;
    int64_t received_ms, processed_ms; /* processed_ms 0: never */
    const char *status, *reason, *detail, *account;
    int events;   /* events it stored when processed */
    int attempts; /* times it was processed */
    const char *payload;
};

/* Keeps a provider's event: *inserted is false when (provider, event_id)
 * is there already (a retry or a duplicate: nothing changes). The row is
 * "pending". One statement (INSERT ... ON CONFLICT DO NOTHING): safe with
 * several nodes receiving the same event at once. */
enum tend_err store_inbox_put(struct store *s, const char *provider, const char *event_id,
                              const char *event_type, int64_t received_ms, const char *payload,
                              bool *inserted);
/* In the open transaction, takes the oldest pending row and calls fn with
 * it (payload included); *found false when there is none. On PostgreSQL the
 * row is locked until the transaction ends (FOR UPDATE SKIP LOCKED): another
 * node's worker takes the next one instead of waiting. */
enum tend_err store_inbox_next(struct store *s,
                               void (*fn)(void *arg, const struct store_inbox_row *r), void *arg,
                               bool *found);
/* Records what became of row id (in the transaction that stored its
 * events): status, reason and detail ("" for none), the account ("" for
 * none), the events stored; attempts grows by one. */
enum tend_err store_inbox_finish(struct store *s, int64_t id, const char *status,
                                 const char *reason, const char *detail, const char *account,
                                 int events, int64_t now_ms);
/* Calls fn for the rows of provider (NULL: all) with status (NULL: all),
 * newest first, at most limit (payload NULL). */
enum tend_err store_inbox_each(struct store *s, const char *provider, const char *status,
                               int64_t limit,
                               void (*fn)(void *arg, const struct store_inbox_row *r), void *arg);
/* Makes rows pending again for a replay: row id when id > 0, else every row
 * of provider (NULL: all) whose status is status (NULL: "unmapped" and
 * "failed"). *n: the rows changed. */
enum tend_err store_inbox_requeue(struct store *s, const char *provider, const char *status,
                                  int64_t id, int64_t *n);
/* Deletes the rows received before before_ms that are not pending; *n the
 * rows deleted. */
enum tend_err store_inbox_prune(struct store *s, int64_t before_ms, int64_t *n);
/* Calls fn with the rows per provider, status and reason. */
enum tend_err store_inbox_counts(struct store *s,
                                 void (*fn)(void *arg, const char *provider, const char *status,
                                            const char *reason, int64_t rows),
                                 void *arg);
/* The provider's id of an account (a Stripe customer, a Zendesk
 * organisation, a HubSpot company) -> tend's account id: put replaces
 * (upsert); get sets *found. */
enum tend_err store_hook_account_put(struct store *s, const char *provider, const char *provider_id,
                                     const char *account, int64_t now_ms);
enum tend_err store_hook_account_get(struct store *s, const char *provider, const char *provider_id,
                                     char account[STORE_INBOX_ID_BYTES], bool *found);

/* ---- revenue (sqlite_revenue.c, pg_revenue.c) ------------------------------------ */

/* A fact about an account's revenue (core/revenue.h's inputs): a group call
 * that set the mrr trait (kind EV_GROUP, num the mrr), Subscription Changed
 * (EV_SUB_CHANGED: num mrr_after, mrr_before, reason), Account Renewed or
 * Account Churned (num the arr when given, reason). The account's segment,
 * plan and owner are today's. Strings live until fn returns. */
struct store_revenue_fact {
    int64_t account_id;
    const char *external_id, *segment, *plan, *owner; /* NULL when unknown */
    int64_t first_seen_ms;                            /* the account's */
    int kind;
    int64_t ts_ms;
    bool has_num;
    double num;
    bool has_before;
    double mrr_before;
    const char *reason; /* NULL when none */
};
/* Calls fn for every revenue fact with ts_ms < before_ms, by account, then
 * time. */
enum tend_err store_revenue_each(struct store *s, int64_t before_ms,
                                 void (*fn)(void *arg, const struct store_revenue_fact *f),
                                 void *arg);
/* What serving an account cost in a window: tickets opened and outreach
 * sent (facts with from_ms <= ts_ms < to_ms) and CTAs opened on days
 * from_day..to_day. */
struct store_account_costs {
    int64_t account_id;
    int64_t tickets, outreach, ctas;
};
/* Calls fn for every account with any of them, by account. */
enum tend_err store_account_costs_each(struct store *s, int64_t from_ms, int64_t to_ms,
                                       void (*fn)(void *arg, const struct store_account_costs *c),
                                       void *arg);

/* ---- notes, the holdout and the team's records (docs/analysis.md;
 * sqlite_notes.c, pg_notes.c) ------------------------------------------------ */

/* A note or activity a person recorded on a CTA or an account (call, email,
 * meeting, text, note; core/note.h). Strings live for the call. */
struct store_note {
    int64_t id; /* filled on reads */
    int64_t account_id;
    const char *account; /* external id; filled on reads */
    int64_t cta_id;      /* 0: a note on the account alone */
    const char *kind;
    const char *body;
    const char *actor; /* the signed-in user, the token's name, $USER */
    int64_t at_ms;
    int32_t day; /* tend's current day when recorded (eval_action_day) */
};
/* Which notes store_notes_each lists: account_id / cta_id 0 do not filter;
 * [from_ms, to_ms) (to_ms 0: no end); limit <= 0: every one. */
struct store_note_filter {
    int64_t account_id, cta_id;
    int64_t from_ms, to_ms;
    int limit;
};
/* Stores a note; *id gets its id. The account must exist (the caller
 * checked); a note on a CTA carries the CTA's account. */
enum tend_err store_note_add(struct store *s, const struct store_note *n, int64_t *id);
/* Calls fn for the notes the filter lets through, newest first (at_ms, id);
 * fn returns nonzero to stop. */
enum tend_err store_notes_each(struct store *s, const struct store_note_filter *f,
                               int (*fn)(void *arg, const struct store_note *n), void *arg);

/* A CTA's draw in its rule's randomised holdout (docs/analysis.md, Impact):
 * recorded when the CTA opens, for rules with a holdout. */
struct store_holdout {
    int64_t cta_id, account_id;
    const char *rule;
    int32_t day;   /* the CTA's opened day */
    double share;  /* the rule's holdout share then, 0..0.5 */
    double draw;   /* the account's uniform draw for the rule, [0, 1) */
    bool held_out; /* draw < share: created, not delivered */
};
/* Records h (once per CTA: a second put of the same CTA changes nothing). */
enum tend_err store_holdout_put(struct store *s, const struct store_holdout *h);
/* Reads CTA cta_id's record into *out (its rule NULL); *found false when the
 * CTA has none (its rule had no holdout when it opened). */
enum tend_err store_holdout_get(struct store *s, int64_t cta_id, struct store_holdout *out,
                                bool *found);
/* Calls fn for every record of rule (NULL: every rule), by CTA id. */
enum tend_err store_holdouts_each(struct store *s, const char *rule,
                                  void (*fn)(void *arg, const struct store_holdout *h), void *arg);

/* One entry of a CTA's history with its account, for the team's process
 * metrics (analysis/process.h). */
struct store_cta_action {
    int64_t cta_id, account_id;
    int32_t day;
    int64_t at_ms;
    const char *action, *actor;
};
/* Calls fn for every history entry of every CTA, by CTA and order. */
enum tend_err store_cta_actions_each(struct store *s,
                                     void (*fn)(void *arg, const struct store_cta_action *a),
                                     void *arg);
/* Calls fn with the account and time of every Outreach Sent event in
 * [from_ms, to_ms), in no particular order. */
enum tend_err store_outreach_each(struct store *s, int64_t from_ms, int64_t to_ms,
                                  void (*fn)(void *arg, int64_t account_id, int64_t ts_ms),
                                  void *arg);

/* ---- playbook steps (sqlite_playbook.c, pg_playbook.c) ------------------------ */

/* A playbook step's state on a CTA (core/playbook.h); strings live for the call. */
struct store_cta_step {
    const char *step; /* the step's id */
    bool done;
    const char *actor; /* who ticked or unticked it last */
    int64_t at_ms;
};
/* Records step of CTA cta_id as done (or not) by actor at at_ms: one upsert,
 * the latest write wins. TEND_ERR_NOTFOUND when there is no CTA cta_id. */
enum tend_err store_cta_step_set(struct store *s, int64_t cta_id, const struct store_cta_step *st);
/* Calls fn for each recorded step of CTA cta_id, by step id. */
enum tend_err store_cta_steps_each(struct store *s, int64_t cta_id,
                                   void (*fn)(void *arg, const struct store_cta_step *st),
                                   void *arg);

#endif
