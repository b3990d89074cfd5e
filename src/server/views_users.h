/* views_users.h: an account's users as the REST API answers them (GET
 * /api/accounts/ID/users) and as the account view carries them ("users"),
 * built by eval/users.h; docs/api.md has the shape. */
#ifndef TEND_SERVER_VIEWS_USERS_H
#define TEND_SERVER_VIEWS_USERS_H

#include <cjson/cJSON.h>

#include "server/views.h"
#include "store/store.h"

/* GET /api/accounts/ID/users: {"account", "date", "users": [...]}, as of
 * the end of the latest scored day (what the account page shows), else
 * now. TEND_ERR_NOTFOUND for an unknown account. */
enum tend_err view_account_users(struct store *s, const struct view_env *env, const char *account,
                                 cJSON **out, char *err);
/* Adds "user_engagement" (the same array) to an account's view (its
 * "users" is the count of members). */
enum tend_err view_account_users_add(struct store *s, const struct view_env *env,
                                     const char *account, cJSON *view, char *err);

#endif
