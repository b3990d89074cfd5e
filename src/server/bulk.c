/* bulk.c: one person action on several CTAs (see bulk.h). */
#include "server/bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/labels.h"
#include "eval/act.h"
#include "util/datetime.h"
#include "util/mem.h"

/* Adds the id text v to ids (distinct); false when it is not a positive
 * number or there are already BULK_MAX. */
static bool add_id(const char *v, int64_t *ids, size_t *n) {
    char *end;
    long long id = strtoll(v, &end, 10);
    if (end == v || *end || id <= 0)
        return false;
    for (size_t i = 0; i < *n; i++)
        if (ids[i] == id)
            return true;
    if (*n == BULK_MAX)
        return false;
    ids[(*n)++] = id;
    return true;
}

/* The CTAs of form: id= fields and ids= lists; msg says what is wrong. */
static enum tend_err read_ids(const struct view_params *form, int64_t *ids, size_t *n, char *msg,
                              size_t size) {
    *n = 0;
    for (int i = 0; i < form->n; i++) {
        bool list = strcmp(form->keys[i], "ids") == 0;
        if (!list && strcmp(form->keys[i], "id") != 0)
            continue;
        char *copy = xstrdup(form->values[i]);
        char *save = NULL;
        for (char *t = strtok_r(copy, list ? ", " : "", &save); t;
             t = strtok_r(NULL, list ? ", " : "", &save)) {
            if (*n == BULK_MAX) {
                snprintf(msg, size, "id: at most %d CTAs at once", BULK_MAX);
                free(copy);
                return TEND_ERR_USAGE;
            }
            if (!add_id(t, ids, n)) {
                snprintf(msg, size, "id: must be a CTA id (a positive number), not \"%.40s\"", t);
                free(copy);
                return TEND_ERR_USAGE;
            }
        }
        free(copy);
    }
    if (*n == 0) {
        snprintf(msg, size, "id: tick at least one CTA");
        return TEND_ERR_USAGE;
    }
    return TEND_OK;
}

enum tend_err bulk_apply(struct store *s, const struct view_params *form, const char *by,
                         const struct bulk_check *check, cJSON **out, char *msg, size_t size) {
    struct cta_act a = {.by = by};
    const char *action = view_param(form, "action");
    const char *note = view_param(form, "note");
    a.note = note && note[0] ? note : NULL;
    if (action && strcmp(action, "snooze") == 0) {
        a.verb = CTA_ACT_SNOOZE;
        const char *until = view_param(form, "until");
        if (!until || !dt_parse_date(until, strlen(until), &a.until)) {
            snprintf(msg, size, "until: must be a date YYYY-MM-DD");
            return TEND_ERR_USAGE;
        }
    } else if (action && strcmp(action, "assign") == 0) {
        a.verb = CTA_ACT_ASSIGN;
        a.owner = view_param(form, "owner");
        if (!a.owner || !a.owner[0]) {
            snprintf(msg, size, "owner: must not be empty");
            return TEND_ERR_USAGE;
        }
    } else {
        snprintf(msg, size, "action: must be snooze or assign, not \"%.40s\"",
                 action ? action : "");
        return TEND_ERR_USAGE;
    }
    int64_t *ids = xcalloc(BULK_MAX, sizeof *ids);
    size_t n;
    enum tend_err e = read_ids(form, ids, &n, msg, size);
    if (e) {
        free(ids);
        return e;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "action", action);
    cJSON *done = cJSON_AddArrayToObject(o, "done");
    cJSON *failed = cJSON_AddArrayToObject(o, "failed");
    char first_fail[200] = "", one[300];
    size_t n_done = 0, n_failed = 0;
    for (size_t i = 0; i < n; i++) {
        bool may = true;
        e = check ? check->may(check->arg, s, ids[i], &may, one, sizeof one) : TEND_OK;
        if (!e && may)
            e = eval_cta_act(s, ids[i], &a, one, sizeof one);
        else if (!e)
            e = TEND_ERR_AUTH;  /* refused: why is in one */
        if (e == TEND_ERR_DB) { /* the store failed: stop, say so */
            snprintf(msg, size, "CTA %lld: %s", (long long)ids[i], one);
            cJSON_Delete(o);
            free(ids);
            return e;
        }
        if (e) {
            cJSON *f = cJSON_CreateObject();
            cJSON_AddNumberToObject(f, "id", (double)ids[i]);
            cJSON_AddStringToObject(f, "error", one);
            cJSON_AddItemToArray(failed, f);
            if (!n_failed++)
                snprintf(first_fail, sizeof first_fail, "CTA %lld: %.150s", (long long)ids[i], one);
        } else {
            cJSON_AddItemToArray(done, cJSON_CreateNumber((double)ids[i]));
            n_done++;
        }
    }
    free(ids);
    char count[64];
    labels_count((long long)n_done, "CTA", "CTAs", count, sizeof count);
    if (a.verb == CTA_ACT_SNOOZE)
        snprintf(msg, size, "Snoozed %s until %s", count, view_param(form, "until"));
    else
        snprintf(msg, size, "Assigned %s to %.100s", count, a.owner);
    if (n_failed) {
        size_t len = strlen(msg);
        snprintf(msg + len, size - len, "; %zu could not be: %s", n_failed, first_fail);
    }
    *out = o;
    return TEND_OK;
}
