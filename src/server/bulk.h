/* bulk.h: one person action on several CTAs at once (POST /ctas/bulk and
 * POST /api/ctas/bulk, docs/api.md "Bulk actions").
 *
 * Each CTA goes through the same action as one at a time (eval/act.h:
 * eval_cta_act, its own transaction and history entry with who did it), so
 * a bulk snooze is exactly N snoozes: a CTA that refuses (closed since the
 * page was drawn) is reported and the others still happen. At most
 * BULK_MAX CTAs a request; the web layer checks sign-in and CSRF before. */
#ifndef TEND_SERVER_BULK_H
#define TEND_SERVER_BULK_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "server/views.h"
#include "store/store.h"

#define BULK_MAX 200

/* Whether the asker may act on CTA id (the web layer's decision through
 * core/permissions, CTA by CTA: a csm may act only on their own book's);
 * *may false with why (size bytes) refuses that CTA alone, reported among
 * the failed. An error stops the request. */
struct bulk_check {
    enum tend_err (*may)(void *arg, struct store *s, int64_t id, bool *may, char *why, size_t size);
    void *arg;
};

/* Applies the action of form (action=snooze with until=DATE, or
 * action=assign with owner=EMAIL; note= optional; the CTAs as repeated
 * id= fields or ids=1,2,3) as by, to each CTA check lets through (check
 * NULL: every one). Returns TEND_ERR_USAGE with msg (size
 * bytes) naming the field when the request is wrong (nothing done);
 * otherwise TEND_OK with *out (the caller's) {"action","done":[ids],
 * "failed":[{"id","error"}]} and msg a sentence for a person ("Snoozed 3
 * CTAs until 2026-12-20; 1 could not be: CTA 9: it is closed"). */
enum tend_err bulk_apply(struct store *s, const struct view_params *form, const char *by,
                         const struct bulk_check *check, cJSON **out, char *msg, size_t size);

#endif
