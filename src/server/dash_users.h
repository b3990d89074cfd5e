/* dash_users.h: the users section of an account's page (docs/dashboard.md):
 * each user with their role, engagement and a 12-week login sparkline,
 * from the account view's "users" (GET /api/accounts/ID/users's array).
 * Pure, as every page of dash.h: read defensively, outside text escaped. */
#ifndef TEND_SERVER_DASH_USERS_H
#define TEND_SERVER_DASH_USERS_H

#include <cjson/cJSON.h>

#include "util/buf.h"

/* Appends the section; users NULL (no such member) appends nothing. */
void dash_account_users(struct buf *out, const cJSON *users);

#endif
