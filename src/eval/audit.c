/* audit.c: the audit log's one entry point (see audit.h). */
#include "eval/audit.h"

#include <stdlib.h>

enum tend_err audit_record(struct store *s, int64_t at_ms, const char *actor, const char *action,
                           const char *target, const cJSON *before, const cJSON *after) {
    char *b = before ? cJSON_PrintUnformatted(before) : NULL;
    char *a = after ? cJSON_PrintUnformatted(after) : NULL;
    struct store_audit e = {
        .at_ms = at_ms,
        .actor = actor && actor[0] ? actor : "unknown",
        .action = action,
        .target = target ? target : "",
        .before = b,
        .after = a,
    };
    int64_t id = 0;
    enum tend_err err = store_audit_append(s, &e, &id);
    cJSON_free(b);
    cJSON_free(a);
    return err;
}
