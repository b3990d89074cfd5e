/* outcome_rows.c: the observation rows of contraction and expansion (see
 * outcome_rows.h). Every account's movements are made once (core/revenue.h)
 * and kept while the grid of observation days is walked: a few movements an
 * account, so memory is about the accounts' count. */
#include "analysis/outcome_rows.h"

#include <stdlib.h>
#include <string.h>

#include "core/revenue.h"
#include "core/vocab.h"
#include "util/datetime.h"
#include "util/mem.h"

struct acct {
    int64_t id, first_seen_ms;
    char *external_id;
    struct rev_movement *mv;
    size_t n;
    char **reasons; /* what mv's reasons point at */
    size_t n_reasons;
};

struct rows_scan {
    struct acct *v;
    size_t n, cap;
    struct rev_input *in; /* the current account's */
    size_t n_in, cap_in;
    char **reasons;
    size_t n_reasons, cap_reasons;
    int32_t first_day; /* of the first movement seen; INT32_MAX when none */
};

static void finish(struct rows_scan *sc) {
    if (!sc->n)
        return;
    struct acct *a = &sc->v[sc->n - 1];
    if (a->mv)
        return;
    a->n = revenue_movements(sc->in, sc->n_in, &a->mv);
    a->reasons = sc->reasons;
    a->n_reasons = sc->n_reasons;
    sc->reasons = NULL;
    sc->n_reasons = sc->cap_reasons = 0;
    sc->n_in = 0;
    if (a->n && dt_day_of_ms(a->mv[0].ts_ms) < sc->first_day)
        sc->first_day = dt_day_of_ms(a->mv[0].ts_ms);
}

static const char *keep(struct rows_scan *sc, const char *s) {
    if (!s)
        return NULL;
    if (sc->n_reasons == sc->cap_reasons) {
        sc->cap_reasons = sc->cap_reasons ? sc->cap_reasons * 2 : 8;
        sc->reasons = xrealloc(sc->reasons, sc->cap_reasons * sizeof *sc->reasons);
    }
    return sc->reasons[sc->n_reasons++] = xstrdup(s);
}

static void on_fact(void *arg, const struct store_revenue_fact *f) {
    struct rows_scan *sc = arg;
    if (!sc->n || sc->v[sc->n - 1].id != f->account_id) {
        finish(sc);
        if (sc->n == sc->cap) {
            sc->cap = sc->cap ? sc->cap * 2 : 256;
            sc->v = xrealloc(sc->v, sc->cap * sizeof *sc->v);
        }
        sc->v[sc->n++] = (struct acct){.id = f->account_id,
                                       .first_seen_ms = f->first_seen_ms,
                                       .external_id = xstrdup(f->external_id)};
    }
    struct rev_input in = {.ts_ms = f->ts_ms};
    if (f->kind == EV_GROUP && f->has_num) {
        in.kind = REV_IN_TRAIT;
        in.mrr = f->num;
    } else if (f->kind == EV_SUB_CHANGED && f->has_num && f->has_before) {
        in.kind = REV_IN_CHANGE;
        in.mrr = f->num;
        in.mrr_before = f->mrr_before;
        in.reason = keep(sc, f->reason);
    } else if (f->kind == EV_RENEWED || f->kind == EV_CHURNED) {
        in.kind = f->kind == EV_RENEWED ? REV_IN_RENEWED : REV_IN_CHURNED;
        in.has_arr = f->has_num;
        in.arr = f->num;
        in.reason = keep(sc, f->reason);
    } else {
        return;
    }
    if (sc->n_in == sc->cap_in) {
        sc->cap_in = sc->cap_in ? sc->cap_in * 2 : 64;
        sc->in = xrealloc(sc->in, sc->cap_in * sizeof *sc->in);
    }
    sc->in[sc->n_in++] = in;
}

/* Whether a has a movement of kind in [from_ms, to_ms). */
static bool moved(const struct acct *a, enum rev_kind kind, int64_t from_ms, int64_t to_ms) {
    for (size_t i = 0; i < a->n; i++)
        if (a->mv[i].kind == kind && a->mv[i].ts_ms >= from_ms && a->mv[i].ts_ms < to_ms)
            return true;
    return false;
}

enum tend_err analysis_movement_rows(struct store *s, const struct analysis_options *o,
                                     void (*fn)(void *arg, const struct store_outcome *row),
                                     void *arg) {
    struct rows_scan sc = {.first_day = INT32_MAX};
    enum tend_err err = store_revenue_each(s, ((int64_t)o->to + 1) * DT_MS_PER_DAY, on_fact, &sc);
    finish(&sc);
    enum rev_kind kind = o->outcome == AO_EXPANSION ? REV_EXPANSION : REV_CONTRACTION;
    if (!err && sc.first_day != INT32_MAX) {
        /* Outcome days to, to - lead, ...: the first observation is a day
         * on which something was known. */
        int32_t lo = o->from > sc.first_day + o->lead_days ? o->from : sc.first_day + o->lead_days;
        int32_t first = o->to;
        while (first - o->lead_days >= lo)
            first -= o->lead_days;
        for (int32_t day = first; day <= o->to; day += o->lead_days) {
            if (day < lo)
                continue;
            int64_t t = (int64_t)(day - o->lead_days + 1) * DT_MS_PER_DAY,
                    end = (int64_t)(day + 1) * DT_MS_PER_DAY;
            for (size_t i = 0; i < sc.n; i++) {
                const struct acct *a = &sc.v[i];
                if (!(revenue_mrr_at(a->mv, a->n, t) > 0))
                    continue;
                struct store_outcome row = {
                    .account_id = a->id,
                    .external_id = a->external_id,
                    .churned = moved(a, kind, t, end),
                    .ts_ms = (int64_t)day * DT_MS_PER_DAY,
                    .first_seen_ms = a->first_seen_ms,
                };
                fn(arg, &row);
            }
        }
    }
    for (size_t i = 0; i < sc.n; i++) {
        free(sc.v[i].external_id);
        free(sc.v[i].mv);
        for (size_t k = 0; k < sc.v[i].n_reasons; k++)
            free(sc.v[i].reasons[k]);
        free(sc.v[i].reasons);
    }
    for (size_t k = 0; k < sc.n_reasons; k++)
        free(sc.reasons[k]);
    free(sc.reasons);
    free(sc.v);
    free(sc.in);
    return err;
}
