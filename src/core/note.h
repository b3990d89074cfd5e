/* note.h: notes and activities people record on a CTA or an account (call,
 * email, meeting, text, note), pure: their kinds and what text they take.
 *
 * What a note is for: the team's own record of outreach, so that "time to
 * first action" and outreach cadence (docs/analysis.md, Process) do not
 * depend on a separate instrumentation sending Outreach Sent events. A call,
 * an email, a meeting and a text are outreach; a plain note is an action on
 * a CTA but no contact with the customer. The text is short: a line or a
 * paragraph (NOTE_BODY_MAX_BYTES), not a document store. */
#ifndef TEND_CORE_NOTE_H
#define TEND_CORE_NOTE_H

#include <stdbool.h>
#include <stddef.h>

enum note_kind { NOTE_CALL, NOTE_EMAIL, NOTE_MEETING, NOTE_TEXT, NOTE_NOTE, NOTE_KIND_COUNT };

/* A note's text, at most (bytes of UTF-8). */
#define NOTE_BODY_MAX_BYTES 2000
/* Room for a note's error message. */
#define NOTE_ERR_BYTES 160

/* The kind's name ("call", ...). */
const char *note_kind_name(enum note_kind k);
/* Parses a kind's name; false when it is none of them. */
bool note_kind_parse(const char *s, enum note_kind *out);
/* Whether a kind is outreach (a contact with the customer): every kind but
 * "note". */
bool note_kind_outreach(enum note_kind k);
/* Checks a note's kind and text: the kind one of the five, the text not
 * empty nor only blanks, at most NOTE_BODY_MAX_BYTES. (Its encoding is the
 * caller's to check: valid UTF-8 without NUL, as ingest's.) Returns false
 * with the reason in err (NOTE_ERR_BYTES). */
bool note_check(const char *kind, const char *body, char *err);

#endif
