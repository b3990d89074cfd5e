/* users.c: roles, engagement and the champion (see users.h).
 *
 * The users of one account are an array sorted by user id once the
 * memberships are in, so each of the account's events finds its user by
 * binary search: an account's 12 weeks of activity cost O(events x log
 * users). Only what the user list and champion_risk show is kept per user:
 * 12 weekly counts, the last login, the distinct feature names of 30 days. */
#include "core/users.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/vocab.h"
#include "util/datetime.h"
#include "util/mem.h"

static enum user_role role_of_text(const char *s) {
    static const struct {
        const char *name;
        enum user_role role;
    } known[] = {{"champion", ROLE_CHAMPION},
                 {"admin", ROLE_ADMIN},
                 {"billing", ROLE_BILLING},
                 {"user", ROLE_USER}};
    char low[16];
    size_t n = 0;
    while (*s == ' ')
        s++;
    for (; s[n] && n < sizeof low - 1; n++)
        low[n] = (char)tolower((unsigned char)s[n]);
    while (n > 0 && low[n - 1] == ' ')
        n--;
    low[n] = '\0';
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(low, known[i].name) == 0)
            return known[i].role;
    return ROLE_USER;
}

enum user_role user_role_of_json(const char *json) {
    if (!json)
        return ROLE_NONE;
    cJSON *v = cJSON_Parse(json);
    enum user_role best = ROLE_NONE;
    if (cJSON_IsString(v)) {
        best = v->valuestring[0] ? role_of_text(v->valuestring) : ROLE_NONE;
    } else if (cJSON_IsArray(v)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, v) {
            if (cJSON_IsString(x) && x->valuestring[0]) {
                enum user_role r = role_of_text(x->valuestring);
                best = r > best ? r : best;
            }
        }
    }
    cJSON_Delete(v);
    return best;
}

const char *user_role_name(enum user_role r) {
    switch (r) {
    case ROLE_CHAMPION:
        return "champion";
    case ROLE_ADMIN:
        return "admin";
    case ROLE_BILLING:
        return "billing";
    case ROLE_USER:
        return "user";
    case ROLE_NONE:
        break;
    }
    return "";
}

void users_init(struct users_acc *a, int64_t t_ms) {
    memset(a, 0, sizeof *a);
    a->t_ms = t_ms;
}

void users_free(struct users_acc *a) {
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].names_);
    free(a->v);
    memset(a, 0, sizeof *a);
}

static int by_user_id(const void *x, const void *y) {
    const struct user_engagement *a = x, *b = y;
    return (a->user_id > b->user_id) - (a->user_id < b->user_id);
}

/* One membership row into u: the earliest join, a member if any row is
 * open at T, the latest end otherwise, the latest move elsewhere. */
static void apply_row(const struct users_acc *a, struct user_engagement *u, int64_t start_ms,
                      int64_t end_ms, int64_t elsewhere_ms) {
    if (start_ms < u->joined_ms)
        u->joined_ms = start_ms;
    if (end_ms > a->t_ms)
        u->member = true;
    else if (end_ms > u->left_ms)
        u->left_ms = end_ms;
    if (elsewhere_ms > u->elsewhere_ms && elsewhere_ms < a->t_ms)
        u->elsewhere_ms = elsewhere_ms;
}

static int by_user_then_seq(const void *x, const void *y) {
    const struct user_engagement *a = x, *b = y;
    int c = by_user_id(x, y);
    return c ? c : (a->seq_ > b->seq_) - (a->seq_ < b->seq_);
}

/* Sorts the rows added since the last call and merges each user's into
 * one, the first row's label, name and role kept: one sort per batch of
 * rows (O(rows log rows)), not one per row. */
static void settle(struct users_acc *a) {
    if (a->sorted_ == a->n)
        return;
    qsort(a->v, a->n, sizeof *a->v, by_user_then_seq);
    size_t w = 0;
    for (size_t i = 0; i < a->n; i++) {
        struct user_engagement *u = &a->v[i];
        if (w && a->v[w - 1].user_id == u->user_id) {
            struct user_engagement *m = &a->v[w - 1];
            if (u->joined_ms < m->joined_ms)
                m->joined_ms = u->joined_ms;
            m->member |= u->member;
            if (u->left_ms > m->left_ms)
                m->left_ms = u->left_ms;
            if (u->elsewhere_ms > m->elsewhere_ms)
                m->elsewhere_ms = u->elsewhere_ms;
            free(u->names_); /* a row not yet settled has none */
            continue;
        }
        if (w != i)
            a->v[w] = *u;
        w++;
    }
    a->n = a->sorted_ = w;
}

static struct user_engagement *find(struct users_acc *a, int64_t user_id) {
    settle(a);
    if (a->n == 0) /* no array yet: bsearch takes no NULL */
        return NULL;
    struct user_engagement key = {.user_id = user_id};
    return bsearch(&key, a->v, a->n, sizeof *a->v, by_user_id);
}

void users_add_member(struct users_acc *a, int64_t user_id, const char *label, const char *name,
                      enum user_role role, int64_t start_ms, int64_t end_ms, int64_t elsewhere_ms) {
    if (start_ms >= a->t_ms)
        return;
    /* A user's rows usually come together: the last row merges at once;
     * others are merged by settle (before the next look-up or the finish). */
    struct user_engagement *u = NULL;
    if (a->n > a->sorted_ && a->v[a->n - 1].user_id == user_id)
        u = &a->v[a->n - 1];
    if (!u) {
        if (a->n == a->cap) {
            a->cap = a->cap ? a->cap * 2 : 16;
            a->v = xrealloc(a->v, a->cap * sizeof *a->v);
        }
        u = &a->v[a->n++];
        memset(u, 0, sizeof *u);
        u->user_id = user_id;
        u->label = label;
        u->name = name;
        u->role = role;
        u->joined_ms = start_ms;
        u->left_ms = INT64_MIN;
        u->seq_ = ++a->seq_; /* increasing: a user's first row sorts first */
    }
    apply_row(a, u, start_ms, end_ms, elsewhere_ms);
}

static void add_name(struct user_engagement *u, int64_t name_id) {
    for (size_t i = 0; i < u->n_names_; i++)
        if (u->names_[i] == name_id)
            return;
    if (u->n_names_ == u->cap_names_) {
        u->cap_names_ = u->cap_names_ ? u->cap_names_ * 2 : 8;
        u->names_ = xrealloc(u->names_, u->cap_names_ * sizeof *u->names_);
    }
    u->names_[u->n_names_++] = name_id;
}

/* n logins of u at ts_ms, age (T - ts_ms) within the 12 weeks. */
static void add_login(struct user_engagement *u, int64_t age, int64_t ts_ms, int64_t n) {
    int k = (int)((age - 1) / (7 * DT_MS_PER_DAY));
    u->weeks[k] += n;
    if (k < 4)
        u->logins_4w += n;
    else if (k < 8)
        u->logins_prev_4w += n;
    if (age <= 30 * DT_MS_PER_DAY)
        u->logins_30d += n;
    int32_t day = dt_day_of_ms(ts_ms);
    if (!u->has_last_login || day > u->last_login_day)
        u->last_login_day = day;
    u->has_last_login = true;
}

void users_add_logins(struct users_acc *a, int64_t user_id, int32_t day, int64_t n) {
    int64_t ts_ms = (int64_t)day * DT_MS_PER_DAY + DT_MS_PER_DAY / 2;
    int64_t age = a->t_ms - ts_ms;
    if (n <= 0 || age <= 0 || age > (int64_t)USERS_WEEKS * 7 * DT_MS_PER_DAY)
        return;
    struct user_engagement *u = find(a, user_id);
    if (u)
        add_login(u, age, ts_ms, n);
}

void users_add_activity(struct users_acc *a, int kind, int64_t user_id, int64_t ts_ms,
                        int64_t name_id) {
    int64_t age = a->t_ms - ts_ms;
    if (age <= 0 || age > (int64_t)USERS_WEEKS * 7 * DT_MS_PER_DAY)
        return;
    struct user_engagement *u = find(a, user_id);
    if (!u)
        return;
    bool in_30d = age <= 30 * DT_MS_PER_DAY;
    if (kind == EV_LOGIN) {
        add_login(u, age, ts_ms, 1);
    } else if (kind == EV_FEATURE && in_30d) {
        add_name(u, name_id);
        u->features_30d = (int64_t)u->n_names_;
    }
}

void users_add_fact(struct users_acc *a, int kind, int64_t user_id, int64_t ts_ms, double num) {
    if (ts_ms >= a->t_ms)
        return;
    struct user_engagement *u = find(a, user_id);
    if (!u)
        return;
    if (kind == EV_NPS && (!u->has_nps || ts_ms >= u->nps_ms)) {
        u->has_nps = true;
        u->nps = num;
        u->nps_ms = ts_ms;
    } else if (kind == EV_OUTREACH_REPLIED && a->t_ms - ts_ms <= 90 * DT_MS_PER_DAY) {
        u->replies_90d++;
    }
}

static int by_standing(const void *x, const void *y) {
    const struct user_engagement *a = x, *b = y;
    if (a->member != b->member)
        return a->member ? -1 : 1;
    if (a->role != b->role)
        return a->role > b->role ? -1 : 1;
    if (a->logins_4w != b->logins_4w)
        return a->logins_4w > b->logins_4w ? -1 : 1;
    int c = strcmp(a->label ? a->label : "", b->label ? b->label : "");
    return c ? c : by_user_id(x, y);
}

void users_finish(struct users_acc *a) {
    settle(a);
    if (a->n > 1) /* an account without users has no array (qsort takes no NULL) */
        qsort(a->v, a->n, sizeof *a->v, by_standing);
}

/* ---- the champion ------------------------------------------------------------ */

/* True when x is more engaged than y (users.h). */
static bool more_engaged(const struct user_engagement *x, const struct user_engagement *y) {
    if (!y)
        return true;
    if (x->logins_4w != y->logins_4w)
        return x->logins_4w > y->logins_4w;
    if (x->has_last_login != y->has_last_login)
        return x->has_last_login;
    if (x->has_last_login && x->last_login_day != y->last_login_day)
        return x->last_login_day > y->last_login_day;
    return x->user_id < y->user_id;
}

/* Days since the user's last login as of D; -1: none in the 12 weeks. */
static int days_quiet(const struct user_engagement *u, int32_t day) {
    return u->has_last_login ? day - u->last_login_day : -1;
}

void champion_assess(const struct users_acc *a, const struct champion_params *p,
                     struct champion_verdict *out) {
    memset(out, 0, sizeof *out);
    int32_t day = dt_day_of_ms(a->t_ms - 1);
    const struct user_engagement *champion = NULL, *admin = NULL, *left = NULL;
    for (size_t i = 0; i < a->n; i++) {
        const struct user_engagement *u = &a->v[i];
        if (!u->member) {
            if (u->role == ROLE_CHAMPION && (!left || u->left_ms > left->left_ms))
                left = u;
            continue;
        }
        if (u->role == ROLE_CHAMPION && more_engaged(u, champion))
            champion = u;
        if (u->role == ROLE_ADMIN && more_engaged(u, admin))
            admin = u;
        if (u->role >= ROLE_ADMIN) {
            int q = days_quiet(u, day);
            out->engaged_admins += q >= 0 && q < p->quiet_days;
        }
    }
    if (!champion && left) {
        out->state = CHAMPION_REMOVED;
        out->who = left;
        out->days_quiet = days_quiet(left, day);
        return;
    }
    const struct user_engagement *who = champion ? champion : admin;
    if (!who) {
        out->state = CHAMPION_UNKNOWN;
        return;
    }
    out->who = who;
    out->fallback = !champion;
    out->days_quiet = days_quiet(who, day);
    /* Moved: a membership elsewhere began after this one, and no login here
     * on or after that day. */
    if (who->elsewhere_ms > who->joined_ms &&
        (!who->has_last_login || who->last_login_day < dt_day_of_ms(who->elsewhere_ms))) {
        out->state = CHAMPION_MOVED;
        return;
    }
    /* Quiet: no login for quiet_days; never in the 12 weeks counts once the
     * membership is that old. */
    int member_days = day - dt_day_of_ms(who->joined_ms);
    if (out->days_quiet >= p->quiet_days || (out->days_quiet < 0 && member_days >= p->quiet_days)) {
        out->state = CHAMPION_QUIET;
        return;
    }
    if ((double)who->logins_prev_4w >= p->min_baseline &&
        (double)who->logins_4w <= p->drop_ratio * (double)who->logins_prev_4w) {
        out->state = CHAMPION_DROP;
        return;
    }
    out->state = CHAMPION_OK;
}
