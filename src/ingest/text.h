/* text.h: what text ingest accepts (docs/ingest.md, "Text").
 *
 * Every string a message carries, keys included and at any depth, must be
 * valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF) and hold no NUL (U+0000): tend's strings are C strings, SQLite
 * and every strict JSON client need valid UTF-8, and cJSON checks neither (it
 * copies invalid bytes and silently cuts a string at a \u0000 escape).
 * Identifiers (ids, event names, keys, the trait values tend groups by) must
 * also hold no control character (Unicode category Cc: U+0001-U+001F,
 * U+007F-U+009F): a newline in a groupId is garbage that forges log lines and
 * breaks CSV exports. Free text (an NPS comment, a name) keeps its tabs and
 * newlines; every output escapes them.
 *
 * Errors name the JSON path and the 1-based byte of the problem, e.g.
 *   "traits.name: invalid UTF-8 at byte 3". They never echo the bad bytes. */
#ifndef TEND_INGEST_TEXT_H
#define TEND_INGEST_TEXT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Parses the JSON text of len bytes at text (text[len] must be NUL), as
 * cJSON_ParseWithLengthOpts(text, len + 1, end, true) does, and marks every
 * string (key or value) that held a NUL so text_check_tree() refuses it:
 * cJSON ends such a string at the NUL, and the marker (the bytes C0 80, the
 * "modified UTF-8" NUL, invalid in UTF-8) is put where it was cut. Returns the
 * tree (the caller cJSON_Deletes it), or NULL with *end, if end is not NULL,
 * at the error. */
cJSON *text_parse_json(const char *text, size_t len, const char **end);

/* Returns a malloced, NUL-terminated copy of the len bytes at s (a CSV cell).
 * When they hold a NUL, the copy ends there with the same marker
 * text_parse_json() puts, so the checks below refuse it instead of keeping
 * the part before the NUL. */
char *text_copy_marking_nul(const char *s, size_t len);

/* Checks every key and string value under v, recursively (v itself too when
 * it is a string): valid UTF-8 and no NUL everywhere, and no control
 * character in keys. path is v's JSON path ("traits"; "" for a whole
 * message). Returns false with "PATH: reason" in err (errlen bytes). */
bool text_check_tree(const cJSON *v, const char *path, char *err, size_t errlen);

/* Checks one identifier s: valid UTF-8, no NUL, no control character.
 * Returns false with "PATH: reason" in err (errlen bytes). */
bool text_check_id(const char *s, const char *path, char *err, size_t errlen);

/* Writes s for an error message into out (n bytes): at most max_bytes of
 * it, cut at a character boundary ("..." marks the cut), control characters
 * written as \n, \t or \u00XX and quotes and backslashes escaped, between
 * double quotes. Bytes that are not UTF-8 are written as \xHH. Returns out. */
const char *text_quote(const char *s, size_t max_bytes, char *out, size_t n);

#endif
