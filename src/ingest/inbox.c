/* inbox.c: processing the webhook inbox (see inbox.h). */
#include "ingest/inbox.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/hooks_map.h"
#include "ingest/segment.h"
#include "util/datetime.h"
#include "util/mem.h"

/* The row store_inbox_next handed over, copied out of the statement. */
struct row {
    int64_t id;
    char provider[32];
    char *payload;
};

static void on_row(void *arg, const struct store_inbox_row *r) {
    struct row *row = arg;
    row->id = r->id;
    snprintf(row->provider, sizeof row->provider, "%s", r->provider);
    row->payload = xstrdup(r->payload ? r->payload : "");
}

static enum tend_err lookup(void *arg, enum hook_provider p, const char *id,
                            char account[HOOK_ID_BYTES], bool *found) {
    return store_hook_account_get(arg, hook_provider_name(p), id, account, found);
}

#define MAX_MESSAGES 8 /* a mapping makes one or two */

/* Applies r in the open transaction: its traits first, then its messages,
 * each validated before anything is written, so that what ingest refuses
 * (a card year outside its window, ...) makes the row failed with nothing
 * of it stored. Appends the accounts touched to acc (MAX_MESSAGES). */
static enum tend_err apply(struct ingest *ig, struct hook_result *r, int64_t *acc, size_t *n_acc,
                           int *events) {
    int64_t now = dt_now_ms();
    char err[SEG_ERR_BYTES];
    struct seg_msg msgs[MAX_MESSAGES];
    int n = cJSON_GetArraySize(r->messages);
    if (n > MAX_MESSAGES) {
        hook_set(r, "failed", HOOK_REJECTED, "%d messages from one event", n);
        return TEND_OK;
    }
    for (int i = 0; i < n; i++)
        if (segment_parse_msg(cJSON_GetArrayItem(r->messages, i), NULL, now, NULL, 0, &msgs[i],
                              err)) {
            hook_set(r, "failed", HOOK_REJECTED, "%s", err);
            return TEND_OK;
        }
    if (r->traits && r->account[0]) {
        enum tend_err e = ingest_account_traits(ig, r->account, r->traits, r->ts_ms, err);
        if (e == TEND_ERR_INVALID) { /* checked before anything is written */
            hook_set(r, "failed", HOOK_REJECTED, "%s", err);
            return TEND_OK;
        }
        if (e)
            return e;
        (*events)++;
    }
    for (int i = 0; i < n; i++) {
        enum ingest_outcome out;
        enum tend_err e = ingest_message(ig, &msgs[i], &out);
        if (e)
            return e;
        (*events)++;
        int64_t a = ingest_last_account(ig);
        if (a && *n_acc < MAX_MESSAGES)
            acc[(*n_acc)++] = a;
    }
    return TEND_OK;
}

/* Processes one taken row in the open transaction. */
static enum tend_err one(struct ingest *ig, struct store *s, const struct connectors_config *c,
                         struct row *row, struct inbox_run *run, int64_t *acc, size_t *n_acc) {
    enum hook_provider p;
    struct hook_result r;
    int events = 0;
    enum tend_err e = TEND_OK;
    if (!hook_provider_of(row->provider, &p)) {
        memset(&r, 0, sizeof r);
        hook_set(&r, "failed", HOOK_BAD_PAYLOAD, "unknown provider %s", row->provider);
    } else {
        struct hook_lookup look = {lookup, s};
        if ((e = hook_map(p, &c->p[p], row->payload, &look, &r)))
            return e;
        if (r.learn_id[0] && (e = store_hook_account_put(s, row->provider, r.learn_id,
                                                         r.learn_account, dt_now_ms())))
            goto done;
        if (strcmp(r.status, "done") == 0 && (e = apply(ig, &r, acc, n_acc, &events)))
            goto done;
    }
    char counter[128];
    snprintf(counter, sizeof counter, "hooks.%s.%s%s%s", row->provider, r.status,
             r.reason[0] ? "." : "", r.reason);
    if ((e = store_counter_add(s, counter, 1)))
        goto done;
    e = store_inbox_finish(s, row->id, r.status, r.reason, r.detail, r.account, events,
                           dt_now_ms());
    if (!e) {
        run->rows++;
        run->events += events;
        if (strcmp(r.status, "done") == 0)
            run->done++;
        else if (strcmp(r.status, "unmapped") == 0)
            run->unmapped++;
        else if (strcmp(r.status, "ignored") == 0)
            run->ignored++;
        else
            run->failed++;
    }
done:
    hook_result_free(&r);
    return e;
}

/* Row id's store error (why) has now happened run->errors times in a row:
 * below INBOX_MAX_ERRORS the row stays pending (retried at the next pass);
 * at it, the row is finished "failed" (reason "error", why as the detail)
 * in a transaction of its own, so that a row that always fails neither
 * loops forever nor holds up the rows behind it. The row is taken again
 * first (store_inbox_next): on PostgreSQL another node may hold it, or have
 * finished it, and is then left alone. */
static void note_error(struct ingest *ig, struct store *s, int64_t id, const char *provider,
                       const char *why, struct inbox_run *run) {
    run->errors = run->error_row == id ? run->errors + 1 : 1;
    run->error_row = id;
    if (run->errors < INBOX_MAX_ERRORS || ingest_begin(ig))
        return;
    struct row again = {0};
    bool found = false;
    char counter[128];
    snprintf(counter, sizeof counter, "hooks.%s.failed.error", provider);
    enum tend_err e = store_inbox_next(s, on_row, &again, &found);
    if (!e && found && again.id == id) {
        char detail[HOOK_DETAIL_BYTES];
        snprintf(detail, sizeof detail, "%d attempts failed: %s", run->errors, why);
        e = store_counter_add(s, counter, 1);
        if (!e)
            e = store_inbox_finish(s, id, "failed", "error", detail, "", 0, dt_now_ms());
        if (!e) {
            run->rows++;
            run->failed++;
            run->errors = 0;
        }
    }
    free(again.payload);
    if (e || ingest_commit(ig))
        ingest_rollback(ig);
}

enum tend_err inbox_process(struct ingest *ig, struct store *s, const struct connectors_config *c,
                            int max_rows, const volatile bool *stop, inbox_touched_fn touched,
                            void *arg, struct inbox_run *run) {
    for (int k = 0; max_rows <= 0 || k < max_rows; k++) {
        if (stop && *stop)
            return TEND_OK;
        enum tend_err e = ingest_begin(ig);
        if (e)
            return e;
        struct row row = {0};
        bool found = false;
        int64_t acc[MAX_MESSAGES];
        size_t n_acc = 0;
        e = store_inbox_next(s, on_row, &row, &found);
        if (!e && found)
            e = one(ig, s, c, &row, run, acc, &n_acc);
        free(row.payload);
        if (!e)
            e = ingest_commit(ig);
        if (e) {
            char why[HOOK_DETAIL_BYTES];
            snprintf(why, sizeof why, "%s", store_last_error(s));
            ingest_rollback(ig);
            if (found)
                note_error(ig, s, row.id, row.provider, why, run);
            return e;
        }
        if (found && run->error_row == row.id)
            run->errors = 0;
        if (!found)
            return TEND_OK;
        if (touched && n_acc)
            touched(arg, acc, n_acc);
    }
    return TEND_OK;
}
