/* users.h: an account's users as people, pure: their role, their
 * engagement as of an instant, and who the account's champion is.
 *
 * A user's role comes from a trait (`role` by default,
 * rules.champion_risk.role_trait): champion, admin, billing or user. A
 * user's engagement as of T is counted from their own logins and feature
 * events in this account (docs/rules.md, champion_risk): the last login,
 * logins in the last 30 days, logins per week over 12 weeks (the
 * sparkline), the last 4 weeks against the 4 before (the trend), the
 * distinct features used in 30 days, their latest NPS answer and their
 * replies to outreach. Nothing here reads a store or a clock: eval/users.c
 * feeds the rows in, with T.
 *
 * The champion (champion_assess): the most engaged member marked champion;
 * when no member is, the most engaged admin (the one who carries the
 * account in practice). "Most engaged": most logins in the last 4 weeks,
 * then the latest login, then the lowest user id. */
#ifndef TEND_CORE_USERS_H
#define TEND_CORE_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum user_role { ROLE_NONE, ROLE_USER, ROLE_BILLING, ROLE_ADMIN, ROLE_CHAMPION };

/* The role of a trait's value (JSON text: "Admin", or a list such as
 * ["billing","admin"], whose strongest counts: champion > admin > billing >
 * user); any other text is a user; NULL or not text: none. */
enum user_role user_role_of_json(const char *json);
/* "champion", "admin", "billing", "user", or "" for none. */
const char *user_role_name(enum user_role r);

#define USERS_WEEKS 12 /* the sparkline's weeks, the newest first */

/* One user of an account as of T. Strings are borrowed from the caller. */
struct user_engagement {
    int64_t user_id;
    const char *label; /* email, else external id */
    const char *name;  /* may be NULL */
    enum user_role role;
    bool member;                /* a member at T */
    int64_t joined_ms;          /* the earliest membership's start */
    int64_t left_ms;            /* not a member: when the last membership ended */
    int64_t elsewhere_ms;       /* the latest start of a membership in another account (0: none) */
    bool has_last_login;        /* a login in the last USERS_WEEKS weeks */
    int32_t last_login_day;     /* its day */
    int64_t logins_30d;         /* [T - 30 days, T) */
    int64_t weeks[USERS_WEEKS]; /* weeks[k]: logins in [T - 7(k+1) days, T - 7k days) */
    int64_t logins_4w, logins_prev_4w; /* weeks 0-3, weeks 4-7 */
    int64_t features_30d;              /* distinct feature names in the last 30 days */
    bool has_nps;                      /* their latest NPS answer before T */
    double nps;
    int64_t nps_ms;
    int64_t replies_90d; /* Outreach Replied from them in the last 90 days */
    /* Internal: the distinct feature names seen (users_add_activity). */
    int64_t *names_;
    size_t n_names_, cap_names_;
    size_t seq_; /* internal: the order its first row came in (users_add_member) */
};

/* The users of one account as of t_ms, built from rows in any order. */
struct users_acc {
    int64_t t_ms;
    struct user_engagement *v; /* sorted by user id once finished */
    size_t n, cap;
    size_t sorted_; /* internal: v[0, sorted_) is sorted and merged by user id */
    size_t seq_;    /* internal: rows added (users_add_member) */
};

void users_init(struct users_acc *a, int64_t t_ms);
void users_free(struct users_acc *a);
/* A membership of user_id, [start_ms, end_ms) (end INT64_MAX: open), with
 * the user's label, name and role; elsewhere_ms as in user_engagement.
 * Memberships starting at or after T are ignored. Strings are borrowed
 * until users_free. */
void users_add_member(struct users_acc *a, int64_t user_id, const char *label, const char *name,
                      enum user_role role, int64_t start_ms, int64_t end_ms, int64_t elsewhere_ms);
/* A login (EV_LOGIN) or feature event (EV_FEATURE, name_id its name) of
 * user_id in the account; events of users not added, or outside the 12
 * weeks before T, are ignored. */
void users_add_activity(struct users_acc *a, int kind, int64_t user_id, int64_t ts_ms,
                        int64_t name_id);
/* n logins of user_id on day (a day's count, as the store keeps them per
 * user: user_login_days), counted as at the day's noon; for a T that is a
 * midnight, the same as adding each login. */
void users_add_logins(struct users_acc *a, int64_t user_id, int32_t day, int64_t n);
/* An NPS answer or an outreach reply (EV_NPS with its score, EV_OUTREACH_REPLIED)
 * of user_id; others are ignored. */
void users_add_fact(struct users_acc *a, int kind, int64_t user_id, int64_t ts_ms, double num);
/* Sorts the users: members first, then by role (champion first), then by
 * logins in the last 4 weeks (most first), then by label. */
void users_finish(struct users_acc *a);

/* ---- the champion ------------------------------------------------------------ */

struct champion_params {
    int quiet_days;      /* no login for this many days: going quiet */
    double drop_ratio;   /* the last 4 weeks at or under this share of the 4 before */
    double min_baseline; /* logins in the 4 weeks before, for a drop to count */
};

enum champion_state {
    CHAMPION_UNKNOWN, /* no member has the role champion or admin, none left: nothing to watch */
    CHAMPION_OK,
    CHAMPION_REMOVED, /* the marked champion left the account; no member is marked */
    CHAMPION_MOVED,   /* joined another account and has not signed in here since */
    CHAMPION_QUIET,   /* no login for quiet_days */
    CHAMPION_DROP,    /* logins fell sharply against their own 4 weeks before */
};

struct champion_verdict {
    enum champion_state state;
    const struct user_engagement *who; /* the champion (or the one who left); NULL: unknown */
    bool fallback;                     /* who is the most engaged admin: no member is marked */
    int days_quiet;                    /* days since the last login; -1: none in 12 weeks */
    int engaged_admins;                /* members marked admin or champion with a login within
                                        * quiet_days */
};

/* Says how the account's champion stands as of a->t_ms (a finished). */
void champion_assess(const struct users_acc *a, const struct champion_params *p,
                     struct champion_verdict *out);

#endif
