/* owner.h: whose a CTA is, for the book check of a csm (core/permissions.h:
 * PERM_T_MINE or PERM_T_OTHERS). One definition for every way in: the
 * dashboard and the API (server/web_team.c) and Slack's buttons
 * (server/slack.c).
 *
 * A CTA is a person's when it is assigned to them (its owner), or when its
 * account's csm_email is theirs (their book); emails compare without case. */
#ifndef TEND_EVAL_OWNER_H
#define TEND_EVAL_OWNER_H

#include <stdbool.h>

#include "store/store.h"

/* Whether CTA c is email's, into *mine (false for a NULL or empty email).
 * Reads c's account; an account gone is nobody's book. */
enum tend_err eval_cta_is_mine(struct store *s, const struct store_cta *c, const char *email,
                               bool *mine);

#endif
