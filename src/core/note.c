/* note.c: the kinds of notes and what text they take (see note.h). */
#include "core/note.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[NOTE_KIND_COUNT] = {"call", "email", "meeting", "text", "note"};

const char *note_kind_name(enum note_kind k) {
    return k >= 0 && k < NOTE_KIND_COUNT ? kind_names[k] : "?";
}

bool note_kind_parse(const char *s, enum note_kind *out) {
    for (int i = 0; s && i < NOTE_KIND_COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (enum note_kind)i;
            return true;
        }
    return false;
}

bool note_kind_outreach(enum note_kind k) {
    return k != NOTE_NOTE;
}

bool note_check(const char *kind, const char *body, char *err) {
    enum note_kind k;
    if (!note_kind_parse(kind, &k)) {
        snprintf(err, NOTE_ERR_BYTES, "kind must be call, email, meeting, text or note");
        return false;
    }
    size_t n = body ? strlen(body) : 0;
    if (n > NOTE_BODY_MAX_BYTES) {
        snprintf(err, NOTE_ERR_BYTES, "text must be at most %d bytes (it has %zu)",
                 NOTE_BODY_MAX_BYTES, n);
        return false;
    }
    if (!body || !body[strspn(body, " \t\r\n")]) {
        snprintf(err, NOTE_ERR_BYTES, "text must not be empty");
        return false;
    }
    return true;
}
