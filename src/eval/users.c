/* users.c: an account's users from the store (see users.h).
 *
 * The member rows are copied (their strings are the users' labels and
 * names, borrowed by core/users.h's accumulator) and kept in account order,
 * as the store returns them, so an account's rows are found by binary
 * search. */
#include "eval/users.h"

#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "util/datetime.h"
#include "util/mem.h"

struct role_row {
    int64_t account_id, user_id, start_ms, end_ms, elsewhere_ms;
    char *label, *name;
    enum user_role role;
};

struct eval_roles {
    int64_t t_ms;
    struct role_row *v;
    size_t n, cap;
    /* The 12 weeks' days (first..last) and which are read from the events:
     * stale ones (their user_login_days not rebuilt yet) and one split by T. */
    int32_t first, last;
    bool raw[USERS_WEEKS * 7 + 1];
};

static void on_member(void *arg, const struct store_member *m) {
    struct eval_roles *r = arg;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->v = xrealloc(r->v, r->cap * sizeof *r->v);
    }
    const char *label = m->email && m->email[0] ? m->email : m->external_id;
    r->v[r->n++] = (struct role_row){
        .account_id = m->account_id,
        .user_id = m->user_id,
        .start_ms = m->start_ms,
        .end_ms = m->end_ms,
        .elsewhere_ms = m->elsewhere_ms,
        .label = xstrdup(label ? label : ""),
        .name = m->name ? xstrdup(m->name) : NULL,
        .role = user_role_of_json(m->role_json),
    };
}

static enum tend_err load(struct store *s, const struct store_span *sp, const char *role_key,
                          bool with_role_only, int64_t t_ms, struct eval_roles **out) {
    struct eval_roles *r = xcalloc(1, sizeof *r);
    r->t_ms = t_ms;
    enum tend_err err = store_members_each(s, sp, role_key, with_role_only, t_ms, on_member, r);
    if (err) {
        eval_roles_free(r);
        return err;
    }
    *out = r;
    return TEND_OK;
}

static void on_stale(void *arg, int32_t day) {
    struct eval_roles *r = arg;
    if (day >= r->first && day <= r->last)
        r->raw[day - r->first] = true;
}

enum tend_err eval_roles_load(struct store *s, const struct store_span *sp, const char *role_key,
                              int64_t t_ms, struct eval_roles **out) {
    enum tend_err err = load(s, sp, role_key, true, t_ms, out);
    if (err)
        return err;
    struct eval_roles *r = *out;
    r->first = dt_day_of_ms(t_ms - (int64_t)USERS_WEEKS * 7 * DT_MS_PER_DAY);
    r->last = dt_day_of_ms(t_ms - 1);
    if (t_ms % DT_MS_PER_DAY != 0) { /* the first and last days are split by the weeks */
        on_stale(r, r->first);
        on_stale(r, r->last);
    }
    for (int32_t d = r->first; d <= r->last && d <= 0; d++)
        on_stale(r, d); /* days the store counts by truncation around the epoch */
    if (r->n && (err = store_activity_stale_each(s, r->first, r->last, on_stale, r))) {
        eval_roles_free(r);
        *out = NULL;
    }
    return err;
}

void eval_roles_free(struct eval_roles *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].label);
        free(r->v[i].name);
    }
    free(r->v);
    free(r);
}

static void on_activity(void *arg, const struct store_activity *x) {
    users_add_activity(arg, x->kind, x->user_id, x->ts_ms, x->name_id);
}

/* Adds the account's rows to a, then its activity of the 12 weeks. */
static enum tend_err fill(struct store *s, const struct eval_roles *r, int64_t account_id,
                          struct users_acc *a, bool *any) {
    users_init(a, r->t_ms);
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->v[mid].account_id < account_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < r->n && r->v[i].account_id == account_id; i++) {
        const struct role_row *x = &r->v[i];
        users_add_member(a, x->user_id, x->label, x->name, x->role, x->start_ms, x->end_ms,
                         x->elsewhere_ms);
    }
    *any = a->n > 0;
    if (!*any)
        return TEND_OK;
    struct store_span one = {.first = account_id, .last = account_id, .ids = &account_id, .n = 1};
    return store_activity_each(s, &one, r->t_ms - (int64_t)USERS_WEEKS * 7 * DT_MS_PER_DAY, r->t_ms,
                               on_activity, a);
}

struct day_logins {
    struct users_acc *a;
    const struct eval_roles *r;
    int64_t user_id;
};

static void on_user_day(void *arg, int32_t day, int64_t logins) {
    struct day_logins *x = arg;
    if (day >= x->r->first && day <= x->r->last && !x->r->raw[day - x->r->first])
        users_add_logins(x->a, x->user_id, day, logins);
}

static void on_raw_login(void *arg, const struct store_activity *x) {
    if (x->kind == EV_LOGIN)
        users_add_activity(arg, EV_LOGIN, x->user_id, x->ts_ms, 0);
}

/* The members' logins of the 12 weeks: each user's days from
 * user_login_days (one range a user), the raw days from the events. */
enum tend_err eval_roles_account(struct store *s, struct eval_roles *r, int64_t account_id,
                                 struct users_acc *out, bool *any) {
    users_init(out, r->t_ms);
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->v[mid].account_id < account_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < r->n && r->v[i].account_id == account_id; i++) {
        const struct role_row *x = &r->v[i];
        users_add_member(out, x->user_id, x->label, x->name, x->role, x->start_ms, x->end_ms,
                         x->elsewhere_ms);
    }
    *any = out->n > 0;
    enum tend_err err = TEND_OK;
    for (size_t i = 0; !err && i < out->n; i++) {
        struct day_logins x = {.a = out, .r = r, .user_id = out->v[i].user_id};
        err = store_user_logins_each(s, account_id, x.user_id, r->first, r->last, on_user_day, &x);
    }
    struct store_span one = {.first = account_id, .last = account_id, .ids = &account_id, .n = 1};
    for (int32_t d = r->first; !err && *any && d <= r->last; d++) {
        if (!r->raw[d - r->first])
            continue;
        int32_t end = d;
        while (end < r->last && r->raw[end + 1 - r->first])
            end++;
        int64_t from = (int64_t)d * DT_MS_PER_DAY, to = (int64_t)(end + 1) * DT_MS_PER_DAY;
        int64_t start = r->t_ms - (int64_t)USERS_WEEKS * 7 * DT_MS_PER_DAY;
        err = store_activity_each(s, &one, from > start ? from : start, to < r->t_ms ? to : r->t_ms,
                                  on_raw_login, out);
        d = end;
    }
    if (!err)
        users_finish(out);
    return err;
}

static void on_fact(void *arg, const struct store_fact *f) {
    if (f->kind == EV_NPS && f->has_num)
        users_add_fact(arg, f->kind, f->user_id, f->ts_ms, f->num);
}

static void on_recent(void *arg, const struct store_fact *f, const char *user) {
    (void)user;
    if (f->kind == EV_OUTREACH_REPLIED)
        users_add_fact(arg, f->kind, f->user_id, f->ts_ms, 0);
}

enum tend_err eval_users_read(struct store *s, int64_t account_id, const char *role_key,
                              int64_t t_ms, struct eval_users *out) {
    memset(out, 0, sizeof *out);
    struct store_span one = {.first = account_id, .last = account_id, .ids = &account_id, .n = 1};
    enum tend_err err = load(s, &one, role_key, false, t_ms, &out->rows_);
    bool any = false;
    if (!err)
        err = fill(s, out->rows_, account_id, &out->acc, &any);
    /* Each user's latest NPS answer within the year (the facts that still
     * matter as of T), and replies among the account's latest facts. */
    if (!err && any)
        err = store_facts_each(s, &one, t_ms, on_fact, &out->acc);
    if (!err && any)
        err = store_account_facts_recent(s, account_id, EVAL_USERS_FACTS, on_recent, &out->acc);
    if (err) {
        eval_users_free(out);
        return err;
    }
    users_finish(&out->acc);
    return TEND_OK;
}

void eval_users_free(struct eval_users *u) {
    users_free(&u->acc);
    eval_roles_free(u->rows_);
    memset(u, 0, sizeof *u);
}

static void add_date(cJSON *o, const char *key, bool has, int32_t day) {
    if (!has) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char d[16];
    dt_format_date(day, d);
    cJSON_AddStringToObject(o, key, d);
}

cJSON *eval_users_json(const struct users_acc *a) {
    cJSON *arr = cJSON_CreateArray();
    int32_t day = dt_day_of_ms(a->t_ms - 1);
    for (size_t i = 0; i < a->n; i++) {
        const struct user_engagement *u = &a->v[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "user", u->label ? u->label : "");
        if (u->name)
            cJSON_AddStringToObject(o, "name", u->name);
        else
            cJSON_AddNullToObject(o, "name");
        if (u->role == ROLE_NONE)
            cJSON_AddNullToObject(o, "role");
        else
            cJSON_AddStringToObject(o, "role", user_role_name(u->role));
        cJSON_AddBoolToObject(o, "member", u->member);
        add_date(o, "joined", true, dt_day_of_ms(u->joined_ms));
        add_date(o, "left", !u->member && u->left_ms > INT64_MIN, dt_day_of_ms(u->left_ms));
        add_date(o, "last_login", u->has_last_login, u->last_login_day);
        if (u->has_last_login)
            cJSON_AddNumberToObject(o, "days_since_login", day - u->last_login_day);
        else
            cJSON_AddNullToObject(o, "days_since_login");
        cJSON_AddNumberToObject(o, "logins_30d", (double)u->logins_30d);
        cJSON_AddNumberToObject(o, "logins_4w", (double)u->logins_4w);
        cJSON_AddNumberToObject(o, "logins_prev_4w", (double)u->logins_prev_4w);
        if (u->logins_prev_4w > 0)
            cJSON_AddNumberToObject(
                o, "trend",
                (double)((u->logins_4w - u->logins_prev_4w) * 1000 / u->logins_prev_4w) / 1000.0);
        else
            cJSON_AddNullToObject(o, "trend");
        cJSON *w = cJSON_AddArrayToObject(o, "weeks");
        for (int k = USERS_WEEKS - 1; k >= 0; k--)
            cJSON_AddItemToArray(w, cJSON_CreateNumber((double)u->weeks[k]));
        cJSON_AddNumberToObject(o, "features_30d", (double)u->features_30d);
        if (u->has_nps)
            cJSON_AddNumberToObject(o, "nps", u->nps);
        else
            cJSON_AddNullToObject(o, "nps");
        add_date(o, "nps_date", u->has_nps, dt_day_of_ms(u->nps_ms));
        cJSON_AddNumberToObject(o, "replies_90d", (double)u->replies_90d);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
