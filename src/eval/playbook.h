/* playbook.h: ticking a step of a CTA's playbook (core/playbook.h), shared
 * by the dashboard and the REST API.
 *
 * Like a person action (eval/act.h): under the CTA's account lock, in one
 * transaction, the step's state is written (who, when) and the change is
 * appended to the CTA's history ("step done: Call the champion"). */
#ifndef TEND_EVAL_PLAYBOOK_H
#define TEND_EVAL_PLAYBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/playbook.h"
#include "store/store.h"

/* Marks step step_id of CTA id done (or not done) by by. TEND_ERR_NOTFOUND
 * when no such CTA, or its rule has no playbook (set) or no such step;
 * TEND_ERR_CONFLICT when the CTA is closed. msg (size bytes) says what was
 * done ("step done: Call the champion") or why not. */
enum tend_err eval_cta_step(struct store *s, const struct playbook_set *set, int64_t id,
                            const char *step_id, bool done, const char *by, char *msg, size_t size);

#endif
