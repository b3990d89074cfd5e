/* account_list.c: the dashboard's account list a page at a time (store.h
 * store_account_list, docs/dashboard.md "The accounts list at scale").
 *
 * A sort lists its known values first (the head: accounts with a score,
 * with an MRR, with live CTAs...) and the rest after (the tail, by label).
 * Each part is one statement of the backend (account_rows) walking an index
 * in the sort's order with LIMIT and OFFSET, so a page costs its rows, not
 * the account count; the tail's offset needs the head's size only when the
 * page lies wholly in the tail.
 *
 * What the page shows besides its rows (the account count, the day's band
 * counts, the owner and segment facets, the filtered total and the head
 * sizes) costs a pass over every account, so it is kept here per
 * connection and per data version (the backend's data_version: SQLite's
 * data version of the file, PostgreSQL's current snapshot, both changing
 * with any commit of any connection or node). The version is read before
 * what it keys, so what is kept is never older than its key: a commit in
 * between only makes the next call read again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/mem.h"

#define VERSION_BYTES 256
#define COUNTS_KEPT   16

struct kept_count {
    char *key; /* NULL: free */
    int64_t n;
};

struct store_list_cache {
    char version[VERSION_BYTES]; /* "" : nothing kept */
    int32_t day;
    int64_t accounts, bands[4];
    char **facets[2];
    size_t n_facets[2], cap_facets[2];
    struct kept_count counts[COUNTS_KEPT];
    size_t next_count;
};

static void forget(struct store_list_cache *c) {
    for (int w = 0; w < 2; w++) {
        for (size_t i = 0; i < c->n_facets[w]; i++)
            free(c->facets[w][i]);
        c->n_facets[w] = 0;
    }
    for (size_t i = 0; i < COUNTS_KEPT; i++) {
        free(c->counts[i].key);
        c->counts[i].key = NULL;
    }
    c->version[0] = '\0';
}

void store_list_cache_free(struct store_list_cache *c) {
    if (!c)
        return;
    forget(c);
    free(c->facets[0]);
    free(c->facets[1]);
    free(c);
}

static void on_facet(void *arg, int which, const char *v) {
    struct store_list_cache *c = arg;
    if (which < 0 || which > 1 || !v)
        return;
    if (c->n_facets[which] == c->cap_facets[which]) {
        c->cap_facets[which] = c->cap_facets[which] ? c->cap_facets[which] * 2 : 64;
        c->facets[which] =
            xrealloc(c->facets[which], c->cap_facets[which] * sizeof *c->facets[which]);
    }
    c->facets[which][c->n_facets[which]++] = xstrdup(v);
}

/* Brings the kept summary of s up to its data version and day. */
static enum tend_err refresh(struct store *s, int32_t day) {
    if (!s->list_cache)
        s->list_cache = xcalloc(1, sizeof *s->list_cache);
    struct store_list_cache *c = s->list_cache;
    char version[VERSION_BYTES];
    enum tend_err e = s->ops->data_version(s, version, sizeof version);
    if (e)
        return e;
    bool whole = strlen(version) + 1 < sizeof version;
    if (whole && c->version[0] && c->day == day && strcmp(version, c->version) == 0)
        return TEND_OK;
    forget(c);
    if ((e = s->ops->account_summary(s, day, &c->accounts, c->bands, on_facet, c))) {
        forget(c);
        return e;
    }
    c->day = day;
    if (whole) /* a cut version could match a later one: keep nothing */
        memcpy(c->version, version, sizeof version);
    return TEND_OK;
}

/* The key of a count: its part, sort and filters (fields apart by \x1f). */
static char *count_key(const struct store_account_query *q, int part) {
    /* The head of score and -score are the same rows; the total is any sort's. */
    int sort = part == 0 ? -1 : q->sort == STORE_SORT_SCORE_DESC ? STORE_SORT_SCORE : (int)q->sort;
    size_t n = 64 + (q->owner ? strlen(q->owner) : 0) + (q->segment ? strlen(q->segment) : 0);
    char *k = xmalloc(n);
    snprintf(k, n, "%d\x1f%d\x1f%u\x1f%c%s\x1f%c%s", part, sort, q->bands, q->owner ? '=' : '*',
             q->owner ? q->owner : "", q->segment ? '=' : '*', q->segment ? q->segment : "");
    return k;
}

/* The rows of part (0 all, 1 head) the filters keep, kept per version. */
static enum tend_err count_of(struct store *s, const struct store_account_query *q, int part,
                              int64_t *n) {
    struct store_list_cache *c = s->list_cache;
    bool filtered = q->owner || q->segment;
    if (part == 0 && !filtered) { /* from the summary */
        if (!q->bands) {
            *n = c->accounts;
            return TEND_OK;
        }
        *n = 0;
        for (int b = 0; b < 4; b++)
            if (q->bands & (1u << b))
                *n += c->bands[b];
        return TEND_OK;
    }
    char *key = count_key(q, part);
    for (size_t i = 0; c->version[0] && i < COUNTS_KEPT; i++)
        if (c->counts[i].key && strcmp(c->counts[i].key, key) == 0) {
            *n = c->counts[i].n;
            free(key);
            return TEND_OK;
        }
    enum tend_err e = s->ops->account_count(s, q, part, n);
    if (e || !c->version[0]) {
        free(key);
        return e;
    }
    struct kept_count *k = &c->counts[c->next_count++ % COUNTS_KEPT];
    free(k->key);
    *k = (struct kept_count){.key = key, .n = *n};
    return TEND_OK;
}

/* The ids of the page, from the walk of the sort's parts (ids and names). */
struct id_walk {
    const struct store_account_query *q;
    int64_t from, limit; /* of the matches when q->match; limit < 0: all */
    int64_t rows;        /* rows the walk met */
    int64_t matched;
    int64_t *ids;
    size_t n, cap;
};

static void on_id(void *arg, int64_t id, const char *external_id, const char *name) {
    struct id_walk *w = arg;
    w->rows++;
    if (w->q->match) {
        if (!w->q->match(w->q->match_arg, external_id, name))
            return;
        int64_t nth = w->matched++;
        if (nth < w->from || (w->limit >= 0 && nth >= w->from + w->limit))
            return;
    }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->ids = xrealloc(w->ids, w->cap * sizeof *w->ids);
    }
    w->ids[w->n++] = id;
}

/* The ids of the page without a search: the head from offset, then the
 * tail when the head ends before the page does. */
static enum tend_err page_ids(struct store *s, const struct store_account_query *q, int64_t offset,
                              bool has_tail, struct id_walk *w) {
    enum tend_err e = s->ops->account_rows(s, q, 1, offset, q->limit, on_id, w);
    if (e || !has_tail || (q->limit >= 0 && w->rows >= q->limit))
        return e;
    /* The head ended on this page (its size is offset + rows) or before it. */
    int64_t head = offset + w->rows;
    if (w->rows == 0 && offset > 0 && (e = count_of(s, q, 1, &head)))
        return e;
    return s->ops->account_rows(s, q, 2, offset > head ? offset - head : 0,
                                q->limit < 0 ? -1 : q->limit - w->rows, on_id, w);
}

enum tend_err store_account_list(struct store *s, const struct store_account_query *q,
                                 struct store_account_summary *sum,
                                 void (*fn)(void *arg, const struct store_account_brief *b),
                                 void *arg) {
    enum tend_err e = refresh(s, q->day);
    if (e)
        return e;
    struct store_list_cache *c = s->list_cache;
    memset(sum, 0, sizeof *sum);
    sum->accounts = c->accounts;
    memcpy(sum->bands, c->bands, sizeof sum->bands);
    sum->owners = (const char *const *)c->facets[0];
    sum->n_owners = c->n_facets[0];
    sum->segments = (const char *const *)c->facets[1];
    sum->n_segments = c->n_facets[1];
    int64_t offset = q->offset < 0 ? 0 : q->offset;
    bool has_tail = q->sort != STORE_SORT_NAME; /* by name, every account is known */
    struct id_walk w = {.q = q, .from = offset, .limit = q->limit};
    if (q->match) { /* the whole list, matched here */
        e = s->ops->account_rows(s, q, 1, 0, -1, on_id, &w);
        if (!e && has_tail)
            e = s->ops->account_rows(s, q, 2, 0, -1, on_id, &w);
        sum->total = w.matched;
    } else if (!(e = count_of(s, q, 0, &sum->total)) && q->limit != 0 && offset < sum->total) {
        e = page_ids(s, q, offset, has_tail, &w);
    }
    if (!e && w.n)
        e = s->ops->account_rows_of(s, q->day, w.ids, w.n, fn, arg);
    free(w.ids);
    return e;
}
