/* dash_team.h: the pages of people and the audit log (admins), and the page
 * of a one-time link. Pure: a view in, HTML out. */
#ifndef TEND_SERVER_DASH_TEAM_H
#define TEND_SERVER_DASH_TEAM_H

#include <cjson/cJSON.h>

#include "server/dash.h"
#include "util/buf.h"

/* GET /users: view = GET /api/users's answer; link: a one-time link just
 * made, shown once (NULL: none). */
void dash_users_page(struct buf *out, const struct dash_ctx *ctx, const cJSON *view,
                     const char *link);
/* GET /audit: view = GET /api/audit's answer. */
void dash_audit_page(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /tokens: view = GET /api/tokens's answer; made: a token just made,
 * shown once (NULL: none). */
void dash_tokens_page(struct buf *out, const struct dash_ctx *ctx, const cJSON *view,
                      const char *made);
/* /invite/TOKEN: the form to choose a password for email (action: the
 * page's own path), with error; email NULL: the link is not valid. */
void dash_invite_page(struct buf *out, const char *action, const char *email, const char *error);

#endif
