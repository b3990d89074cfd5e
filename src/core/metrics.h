/* metrics.h: the account metrics of SPEC 3, as of an instant T.
 *
 * Pure: the caller (eval/) reads the store and feeds one account's data into a
 * struct metrics_acc; metrics_finish() returns the metrics. Nothing here reads
 * a clock, a file or a database, so every definition is unit-tested alone and
 * the same code serves `tend metrics`, scores and rules.
 *
 * Time (SPEC 2): only what happened before T counts. D is the date of the
 * last instant before T (for `--at 2026-09-10`, T = 2026-09-11T00:00Z and
 * D = 2026-09-10). "Last N days" is [T - N days, T). Day differences ("days
 * since", "days left") subtract calendar dates. docs/metrics.md has every
 * definition with examples. */
#ifndef TEND_CORE_METRICS_H
#define TEND_CORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The widest window any metric looks back for activity (logins_prev_28d). */
#define METRICS_ACTIVITY_DAYS 35
/* How far back NPS answers count. */
#define METRICS_NPS_DAYS 365

/* The SPEC 3 metrics of one account; has_* false means the cell is empty. */
struct metrics {
    int64_t users;
    int64_t active_users_30d;
    int64_t logins_7d;
    int64_t logins_prev_28d;
    bool has_days_since_login;
    int64_t days_since_login;
    int64_t feature_events_7d;
    int64_t feature_events_prev_28d;
    int64_t features_used_30d;
    bool has_nps;
    double nps;
    int64_t nps_responses_90d;
    int64_t tickets_open;
    int64_t tickets_30d;
    int64_t overdue_invoices;
    double overdue_amount;
    int64_t max_days_overdue;
    bool has_card_days_left;
    int64_t card_days_left;
    bool has_renewal_days_left;
    int64_t renewal_days_left;
    bool has_seats;
    int64_t seats;
    bool has_seat_utilization;
    double seat_utilization;
    int64_t outreach_unanswered;
    bool has_days_since_reply;
    int64_t days_since_reply;
    bool has_mrr;
    double mrr;
    /* Not a SPEC 3 column: the account's latest outcome before T is
     * "Account Churned" (no renewal since). Churned accounts are no longer
     * customers: they get no health score (docs/health.md). */
    bool churned;
};

/* The account traits metrics use, as carried by one group call. */
enum metric_trait { TRAIT_MRR = 1, TRAIT_SEATS = 2, TRAIT_RENEWAL = 4 };

/* A meaningful event (EV_NPS .. EV_USER_REMOVED) or a group call (EV_GROUP),
 * as stored. Strings are borrowed for the call. */
struct metric_fact {
    int kind;
    int64_t ts_ms;
    int64_t user_id;
    const char *subject;
    const char *detail; /* a goal's feature (rules read it; metrics do not) */
    double num;
    bool has_num;
    int32_t day;
    bool has_day;
    /* What settles the item the fact opens, as the store works it out
     * (INT64_MAX: nothing yet): for a Ticket Opened, the first Ticket Closed
     * of that ticket at or after it; for an Invoice Issued, the first Invoice
     * Paid of that invoice; for an Outreach Sent, the first Outreach Replied
     * at or after it. Ticket Closed and Invoice Paid themselves are then not
     * needed. */
    int64_t settled_ms;
    /* EV_GROUP only: which metric traits the call sets (enum metric_trait
     * bits), which of those it sets to null, and the values. */
    unsigned traits_set;
    unsigned traits_null;
    double mrr;
    int64_t seats;
    int32_t renewal_day;
};

struct metrics_acc;

/* An accumulator for one account as of t_ms; reuse it with metrics_reset(). */
struct metrics_acc *metrics_new(int64_t t_ms);
void metrics_free(struct metrics_acc *a);
/* Empties a for another account, as of t_ms. */
void metrics_reset(struct metrics_acc *a, int64_t t_ms);

/* D for T: the date of the last instant before t_ms. */
int32_t metrics_as_of_day(int64_t t_ms);

/* A membership of the account: [start_ms, end_ms), end_ms INT64_MAX if open. */
void metrics_add_member(struct metrics_acc *a, int64_t start_ms, int64_t end_ms);
/* A login (EV_LOGIN) or feature event (EV_FEATURE) of the account; any order.
 * Those outside [T - METRICS_ACTIVITY_DAYS days, T) are ignored. name_id
 * identifies the feature (event name). */
void metrics_add_activity(struct metrics_acc *a, int kind, int64_t ts_ms, int64_t user_id,
                          int64_t name_id);
/* One account's logins and feature events of one whole day, rolled up. */
struct metrics_day {
    int32_t day;
    int64_t logins, features;
    const int64_t *users; /* the distinct users who logged in */
    size_t n_users;
    const int64_t *names; /* the distinct feature names used */
    size_t n_names;
};
/* Adds a day's rollup instead of its events. The day must lie wholly inside
 * the activity window with no window edge (T - 35, 30, 7 days) inside it,
 * which holds for every day when T is a midnight; a day that does not is
 * ignored, and its events must be added one by one. */
void metrics_add_day(struct metrics_acc *a, const struct metrics_day *day);
/* The activity window as of a midnight T, worked out ahead from the days'
 * rollups (the store keeps one per account and day, docs/store.md). */
struct metrics_window {
    int64_t logins_7d, logins_prev_28d;
    int64_t features_7d, features_prev_28d;
    int64_t users_30d, features_30d; /* distinct */
    bool has_last_login;             /* a login in the 35 days */
    int32_t last_login_day;
};
/* Gives the whole activity window at once, instead of events and days; an
 * account without one had no activity in the 35 days. */
void metrics_set_window(struct metrics_acc *a, const struct metrics_window *w);
/* Works out one account's windows day after day from its daily rollups: add
 * each day (in ascending order, gaps allowed), then ask for the window as of
 * the midnight ending any day not before the last one added. */
struct metrics_slider;
struct metrics_slider *metrics_slider_new(void);
void metrics_slider_free(struct metrics_slider *s);
void metrics_slider_add(struct metrics_slider *s, const struct metrics_day *day);
/* The window as of the midnight ending day last; false (and *out zero) when
 * the account had no activity in days last-34..last. Forgets older days. */
bool metrics_slider_window(struct metrics_slider *s, int32_t last, struct metrics_window *out);
/* True when a login in the activity window was added (then the earlier login
 * day is not needed). */
bool metrics_window_has_login(const struct metrics_acc *a);
/* The latest day with a login before T - METRICS_ACTIVITY_DAYS days, for
 * days_since_login when the window has none. */
void metrics_set_earlier_login_day(struct metrics_acc *a, int32_t day);
/* A fact, in any order but for group calls (EV_GROUP), which come in time
 * order. Facts at or after T are ignored, and so may be those that no longer
 * matter at T (a settled ticket opened over 30 days before, an NPS answer
 * over 365 days old, a card or reply or outcome followed by a later one):
 * the store leaves them out (docs/store.md). At one instant, a close settles
 * an open, a reply answers an outreach, and a churn is later than a renewal;
 * of two invoice issues or two cards, the later given (larger expiry) wins. */
void metrics_add_fact(struct metrics_acc *a, const struct metric_fact *f);
/* Computes the metrics of what was added. */
void metrics_finish(struct metrics_acc *a, struct metrics *out);

/* The names of the SPEC 3 columns after account_id, in order, and how many. */
extern const char *const metrics_columns[];
extern const int metrics_column_count;

#endif
