/* views_int.h: what the views' files share, and nobody else.
 *
 * views.c holds these helpers (and the accounts' views); views_ctas.c and
 * views_admin.c build their JSON with them, so every view writes a missing
 * value as null, a day as "YYYY-MM-DD", an instant in ISO-8601 and a bad
 * parameter as the same kind of error. */
#ifndef TEND_SERVER_VIEWS_INT_H
#define TEND_SERVER_VIEWS_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/views.h"

/* Writes "WHAT, not "VALUE"" into err (VIEW_ERR_BYTES); returns TEND_ERR_USAGE. */
enum tend_err view_bad(char *err, const char *what, const char *value);
/* Reads the integer parameter key, from lo to hi, into *out (def when absent);
 * TEND_ERR_USAGE with err filled when it is not one. */
enum tend_err view_int_param(const struct view_params *p, const char *key, long lo, long hi,
                             long def, long *out, char *err);
/* Adds the string v (copied) to o as key, or null when v is NULL. */
void view_add_str(cJSON *o, const char *key, const char *v);
/* Adds day as "YYYY-MM-DD" to o as key, or null when !has. */
void view_add_date(cJSON *o, const char *key, bool has, int32_t day);
/* Adds ms as an ISO-8601 instant to o as key, or null when ms <= 0. */
void view_add_instant(cJSON *o, const char *key, int64_t ms);
/* Copies the store's last error into err; returns e. */
enum tend_err view_store_err(struct store *s, enum tend_err e, char *err);
/* The current day of tend's timeline (eval/act.h), for "overdue"; today
 * when the store cannot tell. */
int32_t view_timeline_day(struct store *s);
/* The JSON of one CTA as GET /api/ctas lists it (docs/api.md); the caller
 * owns the object. today decides "overdue"; currency words its value. */
cJSON *view_cta_json(const struct store_cta *c, int32_t today, const char *currency);

/* views_customer.c: the account's customer_messages and unsubscribes into
 * o, and each as a timeline entry through add (which takes the entry). */
enum tend_err view_account_customer(struct store *s, int64_t account_id, cJSON *o,
                                    void (*add)(void *arg, int64_t at_ms, cJSON *entry), void *arg);

/* views_notes.c: the account's latest notes into o ("notes"), and each note
 * on the account alone as a timeline entry through add (a note on a CTA is
 * on the timeline as its history's "note" entry); a CTA's notes and its
 * holdout record into o ("notes", "held_out", "holdout"); the ids of the
 * held-out CTAs, ascending (malloced into *ids), and whether id is one. */
enum tend_err view_account_notes(struct store *s, int64_t account_id, cJSON *o,
                                 void (*add)(void *arg, int64_t at_ms, cJSON *entry), void *arg);
enum tend_err view_cta_notes(struct store *s, int64_t cta_id, cJSON *o);
enum tend_err view_held_out_ids(struct store *s, int64_t **ids, size_t *n);
bool view_held_out(const int64_t *ids, size_t n, int64_t id);

/* views_cockpit.c: the cockpit's list (GET /api/ctas without status=held):
 * sf, the store's filter (status, owner, account, rule), plus the query's
 * priority, type, segment, overdue, value_min and value_max, sort
 * (urgent, value, due, age; "-" reverses), page and per_page (limit: the
 * older name of one page). Each row carries its account's segment, health,
 * health_band and risk; the listing its total, pages and facets. */
enum tend_err view_ctas_list(struct store *s, const struct view_env *env,
                             const struct view_params *p, struct store_cta_filter *sf, cJSON **out,
                             char *err);
/* views_ctas.c: adds "playbook" (the rule's steps with what is done, by
 * whom and when; null when the rule has none) to the CTA id's JSON o. */
enum tend_err view_cta_playbook(struct store *s, const struct view_env *env, int64_t id, cJSON *o);

#endif
