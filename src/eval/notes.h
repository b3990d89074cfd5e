/* notes.h: recording a note or activity on a CTA or an account (core/note.h).
 *
 * The one function every way in calls (tend notes add, POST /api/notes,
 * the dashboard's form), so that whatever a note must also do happens in
 * one place: it is stored with who recorded it, and a note on a CTA is also
 * an entry of the CTA's history (action "note", by its author), which makes
 * it a person's action on the CTA for time to first action, escalation and
 * expiry (docs/rules.md), in the same transaction. */
#ifndef TEND_EVAL_NOTES_H
#define TEND_EVAL_NOTES_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct note_input {
    int64_t cta_id;      /* 0: a note on the account */
    const char *account; /* the account's external id, when cta_id is 0 */
    const char *kind;    /* call, email, meeting, text, note */
    const char *body;
    const char *by; /* who: a user's email, a token's name, $USER */
};

/* Checks and records a note. TEND_OK with its id in *id and "call recorded
 * on CTA 12" in msg; TEND_ERR_USAGE (a bad kind or text, no CTA nor account
 * named) and TEND_ERR_NOTFOUND (no such CTA or account) with msg saying
 * why; msg has size bytes. On any error nothing is stored. */
enum tend_err eval_note_add(struct store *s, const struct note_input *in, int64_t *id, char *msg,
                            size_t size);

#endif
