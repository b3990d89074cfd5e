/* audit.h: the audit log of every person action (docs/dashboard.md, "Audit
 * log"): who did what to what, when, and the state before and after.
 *
 * audit_record() is the one call every feature makes when a person (or a
 * token speaking for one) changes something: CTA actions (act.c), people
 * and roles, configuration reloads, tokens, notes, playbooks, Slack
 * actions. Call it with the store inside the transaction of the change, so
 * that the change and its entry commit together or not at all; outside a
 * transaction the entry is written on its own. The log is append-only: the
 * store has no operation that changes or deletes an entry. */
#ifndef TEND_EVAL_AUDIT_H
#define TEND_EVAL_AUDIT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "store/store.h"

/* Appends one entry: actor (an email, a token's name "token:NAME", $USER of
 * the CLI), action ("cta.snooze", "user.invite", "user.role", "config.reload",
 * "token.create", ...), target ("cta:12", "user:ann@example.com", ...), and
 * the state before and after (borrowed; NULL: none), at at_ms. Texts over
 * STORE_AUDIT_TEXT_MAX and JSON over STORE_AUDIT_JSON_MAX are refused
 * (TEND_ERR_LIMIT) and the caller's change should be rolled back with it. */
enum tend_err audit_record(struct store *s, int64_t at_ms, const char *actor, const char *action,
                           const char *target, const cJSON *before, const cJSON *after);

#endif
