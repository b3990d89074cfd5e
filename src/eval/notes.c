/* notes.c: recording a note (see notes.h). */
#include "eval/notes.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "core/note.h"
#include "eval/act.h"
#include "eval/audit.h"
#include "eval/ctas.h"
#include "ingest/text.h"
#include "util/datetime.h"

/* The text of a note as ingest checks any free text: valid UTF-8, no NUL. */
static bool text_ok(const char *body, char *msg, size_t size) {
    cJSON *v = cJSON_CreateString(body);
    bool ok = text_check_tree(v, "text", msg, size);
    cJSON_Delete(v);
    return ok;
}

/* The history's line for a note: "call: the text", cut at 200 bytes on a
 * character boundary. */
static void history_line(const char *kind, const char *body, char *out, size_t size) {
    size_t max = 200, n = strlen(body);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
            n--;
    }
    snprintf(out, size, "%s: %.*s%s", kind, (int)n, body, n < strlen(body) ? "..." : "");
}

enum tend_err eval_note_add(struct store *s, const struct note_input *in, int64_t *id, char *msg,
                            size_t size) {
    char why[NOTE_ERR_BYTES];
    msg[0] = '\0';
    if (!note_check(in->kind, in->body, why)) {
        snprintf(msg, size, "%s", why);
        return TEND_ERR_USAGE;
    }
    if (!text_ok(in->body, msg, size))
        return TEND_ERR_USAGE;
    if (in->cta_id <= 0 && (!in->account || !in->account[0])) {
        snprintf(msg, size, "a note needs a CTA or an account");
        return TEND_ERR_USAGE;
    }
    struct store_cta c;
    bool have_cta = false;
    struct store_note n = {.cta_id = in->cta_id > 0 ? in->cta_id : 0,
                           .kind = in->kind,
                           .body = in->body,
                           .actor = in->by && in->by[0] ? in->by : "unknown",
                           .at_ms = dt_now_ms()};
    enum tend_err err = store_begin(s, NULL);
    if (!err && n.cta_id) {
        err = eval_cta_get(s, n.cta_id, &c);
        have_cta = !err;
        if (err == TEND_ERR_NOTFOUND)
            snprintf(msg, size, "no CTA %lld", (long long)n.cta_id);
        if (!err) {
            n.account_id = c.account_id;
            int64_t ids[] = {c.account_id};
            struct store_span span = {.ids = ids, .n = 1};
            err = store_ctas_lock(s, &span);
        }
    } else if (!err) {
        err = store_account_find(s, in->account, &n.account_id);
        if (err == TEND_ERR_NOTFOUND)
            snprintf(msg, size, "no account %s", in->account);
    }
    if (!err)
        err = eval_action_day(s, &n.day);
    if (!err)
        err = store_note_add(s, &n, id);
    if (!err && have_cta) {
        char line[256];
        history_line(n.kind, n.body, line, sizeof line);
        struct store_cta_change ch = {
            .day = n.day,
            .at_ms = n.at_ms,
            .action = "note",
            .actor = n.actor,
            .status = c.status,
            .priority = c.priority,
            .note = line,
        };
        err = store_cta_history_add(s, c.id, &ch);
    }
    if (!err) { /* in the same transaction: the note and its audit entry commit together */
        char target[STORE_AUDIT_TEXT_MAX + 1];
        if (have_cta)
            snprintf(target, sizeof target, "cta:%lld", (long long)c.id);
        else
            snprintf(target, sizeof target, "account:%.300s", in->account);
        cJSON *after = cJSON_CreateObject();
        cJSON_AddNumberToObject(after, "note_id", (double)*id);
        cJSON_AddStringToObject(after, "kind", n.kind);
        cJSON_AddStringToObject(after, "text", n.body);
        err = audit_record(s, n.at_ms, n.actor, have_cta ? "cta.note" : "account.note", target,
                           NULL, after);
        cJSON_Delete(after);
    }
    if (!err)
        err = store_commit(s);
    if (err) {
        store_rollback(s);
        if (!msg[0] || err == TEND_ERR_DB)
            snprintf(msg, size, "%s", store_last_error(s));
    } else if (n.cta_id) {
        snprintf(msg, size, "%s recorded", n.kind);
    } else {
        snprintf(msg, size, "%s recorded on account %s", n.kind, in->account);
    }
    if (have_cta)
        eval_cta_release(&c);
    return err;
}
