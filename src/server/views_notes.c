/* views_notes.c: notes and the holdout in the views (docs/api.md, "Notes"):
 * GET /api/notes (by account or CTA), an account's notes and their timeline
 * entries, a CTA's notes, and which CTAs the randomised holdout kept from
 * delivery ("held_out" on each CTA). Notes are written by eval/notes.h,
 * never here. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/views.h"
#include "server/views_int.h"
#include "util/mem.h"

#define NOTES_LIMIT     100
#define NOTES_LIMIT_MAX 1000
/* An account page shows its latest notes, at most. */
#define ACCOUNT_NOTES 50

static cJSON *note_json(const struct store_note *n) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)n->id);
    view_add_str(o, "account_id", n->account);
    if (n->cta_id)
        cJSON_AddNumberToObject(o, "cta_id", (double)n->cta_id);
    else
        cJSON_AddNullToObject(o, "cta_id");
    view_add_str(o, "kind", n->kind);
    view_add_str(o, "text", n->body);
    view_add_str(o, "by", n->actor);
    view_add_instant(o, "at", n->at_ms);
    view_add_date(o, "date", true, n->day);
    return o;
}

static int on_note(void *arg, const struct store_note *n) {
    cJSON_AddItemToArray(arg, note_json(n));
    return 0;
}

enum tend_err view_notes(struct store *s, const struct view_params *p, cJSON **out, char *err) {
    long limit, cta;
    enum tend_err e;
    if ((e = view_int_param(p, "limit", 1, NOTES_LIMIT_MAX, NOTES_LIMIT, &limit, err)) ||
        (e = view_int_param(p, "cta", 0, LONG_MAX, 0, &cta, err)))
        return e;
    struct store_note_filter f = {.cta_id = cta, .limit = (int)limit};
    const char *account = view_param(p, "account");
    if (account && account[0] && (e = store_account_find(s, account, &f.account_id))) {
        if (e == TEND_ERR_NOTFOUND) {
            snprintf(err, VIEW_ERR_BYTES, "no account \"%.200s\"", account);
            return e;
        }
        return view_store_err(s, e, err);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "notes");
    if ((e = store_notes_each(s, &f, on_note, arr))) {
        cJSON_Delete(o);
        return view_store_err(s, e, err);
    }
    *out = o;
    return TEND_OK;
}

struct account_notes {
    cJSON *arr;
    void (*add)(void *arg, int64_t at_ms, cJSON *entry);
    void *arg;
};

static int on_account_note(void *arg, const struct store_note *n) {
    struct account_notes *x = arg;
    cJSON_AddItemToArray(x->arr, note_json(n));
    if (n->cta_id) /* the CTA's history shows it on the timeline already */
        return 0;
    cJSON *t = cJSON_CreateObject();
    view_add_instant(t, "at", n->at_ms);
    cJSON_AddStringToObject(t, "kind", "note");
    view_add_str(t, "what", n->kind);
    view_add_str(t, "user", n->actor);
    view_add_str(t, "detail", n->body);
    x->add(x->arg, n->at_ms, t);
    return 0;
}

enum tend_err view_account_notes(struct store *s, int64_t account_id, cJSON *o,
                                 void (*add)(void *arg, int64_t at_ms, cJSON *entry), void *arg) {
    struct account_notes x = {cJSON_AddArrayToObject(o, "notes"), add, arg};
    struct store_note_filter f = {.account_id = account_id, .limit = ACCOUNT_NOTES};
    return store_notes_each(s, &f, on_account_note, &x);
}

enum tend_err view_cta_notes(struct store *s, int64_t cta_id, cJSON *o) {
    struct store_holdout h;
    bool found = false;
    enum tend_err e = store_holdout_get(s, cta_id, &h, &found);
    if (e)
        return e;
    cJSON_AddBoolToObject(o, "held_out", found && h.held_out);
    if (found) {
        cJSON *ho = cJSON_AddObjectToObject(o, "holdout");
        cJSON_AddNumberToObject(ho, "share", h.share);
        cJSON_AddNumberToObject(ho, "draw", h.draw);
    } else {
        cJSON_AddNullToObject(o, "holdout");
    }
    cJSON *arr = cJSON_AddArrayToObject(o, "notes");
    struct store_note_filter f = {.cta_id = cta_id, .limit = NOTES_LIMIT_MAX};
    return store_notes_each(s, &f, on_note, arr);
}

struct held_ids {
    int64_t *v;
    size_t n, cap;
};

static void on_held_out(void *arg, const struct store_holdout *h) {
    struct held_ids *x = arg;
    if (!h->held_out)
        return;
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 64;
        x->v = xrealloc(x->v, x->cap * sizeof *x->v);
    }
    x->v[x->n++] = h->cta_id;
}

enum tend_err view_held_out_ids(struct store *s, int64_t **ids, size_t *n) {
    struct held_ids x = {0};
    enum tend_err e = store_holdouts_each(s, NULL, on_held_out, &x); /* by CTA id */
    if (e) {
        free(x.v);
        return e;
    }
    *ids = x.v;
    *n = x.n;
    return TEND_OK;
}

static int cmp_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

bool view_held_out(const int64_t *ids, size_t n, int64_t id) {
    return n && bsearch(&id, ids, n, sizeof *ids, cmp_id) != NULL;
}
