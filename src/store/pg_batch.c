/* pg_batch.c: rows written many at a time in the PostgreSQL backend, and the
 * connection's deferred rows (pg_batch.h). */
#include "store/pg_batch.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

static void lit_put(struct pg_lit *l, const char *text, size_t n) {
    if (l->len + n + 2 > l->cap) {
        l->cap = (l->len + n + 2) * 2;
        l->v = xrealloc(l->v, l->cap);
    }
    memcpy(l->v + l->len, text, n);
    l->len += n;
    l->v[l->len] = '\0';
}

/* Starts column c's next element: the opening brace or a comma. */
static struct pg_lit *element(struct pg_batch *b, int c) {
    if (c >= b->n_cols)
        b->n_cols = c + 1;
    struct pg_lit *l = &b->col[c];
    lit_put(l, b->rows ? "," : "{", 1);
    return l;
}

void pg_batch_i64(struct pg_batch *b, int c, int64_t v) {
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    lit_put(element(b, c), num, (size_t)n);
}

void pg_batch_f64(struct pg_batch *b, int c, double v) {
    char num[32];
    int n;
    if (isnan(v))
        n = snprintf(num, sizeof num, "NaN");
    else if (isinf(v))
        n = snprintf(num, sizeof num, v > 0 ? "Infinity" : "-Infinity");
    else
        n = snprintf(num, sizeof num, "%.17g", v);
    lit_put(element(b, c), num, (size_t)n);
}

void pg_batch_null(struct pg_batch *b, int c) {
    lit_put(element(b, c), "NULL", 4);
}

void pg_batch_text(struct pg_batch *b, int c, const char *v) {
    if (!v) {
        pg_batch_null(b, c);
        return;
    }
    struct pg_lit *l = element(b, c);
    lit_put(l, "\"", 1);
    while (*v) {
        size_t run = strcspn(v, "\"\\");
        lit_put(l, v, run);
        v += run;
        if (*v) {
            lit_put(l, "\\", 1);
            lit_put(l, v++, 1);
        }
    }
    lit_put(l, "\"", 1);
}

void pg_batch_row_end(struct pg_batch *b) {
    b->rows++;
}

static enum tend_err batch_write(struct pg_store *s, struct pg_batch *b, const char *sql,
                                 const char *what, bool later) {
    if (!b->rows)
        return TEND_OK;
    /* The literals go to the parameters, which free them after the
     * statement: b is empty before the statement runs (and flushes). */
    struct pg_params p = {0};
    for (int c = 0; c < b->n_cols; c++) {
        lit_put(&b->col[c], "}", 1);
        p.owned[p.n_owned++] = b->col[c].v;
        p.v[p.n++] = b->col[c].v;
        b->col[c] = (struct pg_lit){0};
    }
    b->rows = 0;
    return later ? pg_run_later(s, sql, &p, what) : pg_run(s, sql, &p, what);
}

enum tend_err pg_batch_write(struct pg_store *s, struct pg_batch *b, const char *sql,
                             const char *what) {
    return batch_write(s, b, sql, what, false);
}

enum tend_err pg_batch_write_later(struct pg_store *s, struct pg_batch *b, const char *sql,
                                   const char *what) {
    return batch_write(s, b, sql, what, true);
}

void pg_batch_free(struct pg_batch *b) {
    for (int c = 0; c < PG_BATCH_COLS; c++)
        free(b->col[c].v);
    memset(b, 0, sizeof *b);
}

/* ---- the connection's deferred rows ------------------------------------------ */

struct pg_deferred *pg_deferred_of(struct pg_store *s) {
    if (!s->deferred)
        s->deferred = xcalloc(1, sizeof *s->deferred);
    return s->deferred;
}

bool pg_deferred_may_wait(struct pg_store *s) {
    return !s->deferred_flushing &&
           (PQtransactionStatus(s->conn) == PQTRANS_INTRANS || (s->in_tx && s->pipe_n));
}

enum tend_err pg_deferred_flush(struct pg_store *s) {
    struct pg_deferred *d = s->deferred;
    if (!d || s->deferred_flushing || (!d->scores.rows && !d->windows.rows && !d->counts.rows))
        return TEND_OK;
    s->deferred_flushing = true;
    enum tend_err err = pg_scores_flush(s, &d->scores);
    if (!err)
        err = pg_windows_flush(s, &d->windows);
    if (!err)
        err = pg_counts_flush(s, &d->counts);
    s->deferred_flushing = false;
    if (err)
        pg_deferred_discard(s); /* the transaction failed: its rows go with it */
    return err;
}

void pg_deferred_discard(struct pg_store *s) {
    if (!s->deferred)
        return;
    pg_batch_free(&s->deferred->scores);
    pg_batch_free(&s->deferred->windows);
    pg_batch_free(&s->deferred->counts);
}

void pg_deferred_free(struct pg_store *s) {
    pg_deferred_discard(s);
    free(s->deferred);
    s->deferred = NULL;
}
