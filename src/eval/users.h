/* users.h: an account's users from the store, as core/users.h counts them.
 *
 * Two readers. An evaluation (eval/ctas.c) reads once, for every account it
 * evaluates, the members whose user has a role trait (eval_roles_load: one
 * pass over the users with the trait, through its key index), and for each
 * account with such members, their logins and feature events of the 12
 * weeks before T (eval_roles_account: one seek per day of the day-first
 * events index); an account whose users carry no role costs nothing more.
 * The user list (tend users, GET /v1/accounts/ID/users, the account page)
 * reads one account's every member, with NPS answers and outreach replies
 * (eval_users_read). */
#ifndef TEND_EVAL_USERS_H
#define TEND_EVAL_USERS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/users.h"
#include "store/store.h"

/* The members with a role of the accounts of one evaluation. */
struct eval_roles;

/* Reads the members of the span's accounts whose user has the trait
 * role_key, as of t_ms, into *out (eval_roles_free it). */
enum tend_err eval_roles_load(struct store *s, const struct store_span *sp, const char *role_key,
                              int64_t t_ms, struct eval_roles **out);
void eval_roles_free(struct eval_roles *r);
/* Fills out (users_init'd by the call, users_free it) with the account's
 * members with a role and their activity of the 12 weeks before T, and
 * finishes it; *any false (and nothing read) when it has none. out borrows
 * strings from r. */
enum tend_err eval_roles_account(struct store *s, struct eval_roles *r, int64_t account_id,
                                 struct users_acc *out, bool *any);

/* One account's users for the user list: every member (and former member),
 * with role, engagement, latest NPS answer and outreach replies as of
 * t_ms. */
struct eval_users {
    struct users_acc acc; /* finished: members first, by role, then most engaged */
    struct eval_roles *rows_;
};
/* Reads account_id's users into *out; eval_users_free() frees them. */
enum tend_err eval_users_read(struct store *s, int64_t account_id, const char *role_key,
                              int64_t t_ms, struct eval_users *out);
void eval_users_free(struct eval_users *u);

/* The users as JSON (docs/api.md): an array of objects, each user's
 * user, name, role, member, joined, left, last_login, days_since_login,
 * logins_30d, logins_4w, logins_prev_4w, trend (logins_4w / logins_prev_4w
 * - 1; null without logins before), weeks (12 login counts, the oldest
 * first), features_30d, nps, nps_date, replies_90d. Caller owns it. */
cJSON *eval_users_json(const struct users_acc *a);

/* The facts of an account the user list reads for replies (newest first). */
#define EVAL_USERS_FACTS 2000

#endif
