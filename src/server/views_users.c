/* views_users.c: an account's users for the REST API and the account page
 * (see views_users.h). The instant is the account view's: the end of the
 * latest scored day, else now, so the page's users and its metrics agree. */
#include "server/views_users.h"

#include <stdio.h>

#include "eval/users.h"
#include "server/views_int.h"
#include "util/datetime.h"

static enum tend_err users_of(struct store *s, const struct view_env *env, const char *account,
                              cJSON **users, int32_t *day, char *err) {
    int64_t id;
    enum tend_err e = store_account_find(s, account, &id);
    if (e == TEND_ERR_NOTFOUND) {
        snprintf(err, VIEW_ERR_BYTES, "no account \"%.200s\"", account);
        return e;
    }
    int32_t latest = 0;
    bool found = false;
    if (!e)
        e = store_scores_latest_day(s, &latest, &found);
    int64_t t_ms = found ? (int64_t)(latest + 1) * DT_MS_PER_DAY : dt_now_ms();
    struct eval_users u;
    if (!e)
        e = eval_users_read(s, id, env->rc->role_trait, t_ms, &u);
    if (e)
        return view_store_err(s, e, err);
    *users = eval_users_json(&u.acc);
    *day = dt_day_of_ms(t_ms - 1);
    eval_users_free(&u);
    return TEND_OK;
}

enum tend_err view_account_users(struct store *s, const struct view_env *env, const char *account,
                                 cJSON **out, char *err) {
    cJSON *users;
    int32_t day;
    enum tend_err e = users_of(s, env, account, &users, &day, err);
    if (e)
        return e;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "account", account);
    view_add_date(o, "date", true, day);
    cJSON_AddStringToObject(o, "role_trait", env->rc->role_trait);
    cJSON_AddItemToObject(o, "users", users);
    *out = o;
    return TEND_OK;
}

enum tend_err view_account_users_add(struct store *s, const struct view_env *env,
                                     const char *account, cJSON *view, char *err) {
    cJSON *users;
    int32_t day;
    enum tend_err e = users_of(s, env, account, &users, &day, err);
    if (!e)
        cJSON_AddItemToObject(view, "user_engagement", users);
    return e;
}
