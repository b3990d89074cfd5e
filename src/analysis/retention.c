/* retention.c: tend analyze retention (see retention.h). */
#include "analysis/retention.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "util/datetime.h"
#include "util/mem.h"

#define NONE_GIVEN "(none given)"
#define NO_GROUP   "(none)"

struct period {
    int32_t first, last;
};

struct group {
    char *name;
    struct rev_figures *f; /* one per period */
};

/* What the scan keeps between facts: the current account's inputs, and the
 * sums so far. */
struct scan {
    const struct retention_options *o;
    struct period *periods;
    size_t n_periods;
    struct group *groups; /* [0] is "all" */
    size_t n_groups, cap_groups;
    bool too_many_groups;
    int64_t account; /* the one being read; 0 before the first */
    char *group_name, *external_id;
    struct rev_input *in;
    size_t n_in, cap_in;
    char **own; /* the account's reason strings */
    size_t n_own, cap_own;
    struct retention_result *r;
    size_t cap_reasons, cap_strings;
    const char *kept_account, *kept_group; /* list_add's strings of the account */
};

/* ---- periods ------------------------------------------------------------------ */

/* The first day of the period after the one day is in. */
static int32_t next_start(enum retention_by by, int32_t day) {
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    int step = by == RETENTION_MONTH ? 1 : 3;
    m = by == RETENTION_MONTH ? m : (m - 1) / 3 * 3 + 1;
    m += step;
    if (m > 12) {
        m -= 12;
        y++;
    }
    return dt_days_from_civil(y, m, 1);
}

static bool make_periods(struct scan *sc, char *err) {
    const struct retention_options *o = sc->o;
    size_t cap = 16;
    sc->periods = xmalloc(cap * sizeof *sc->periods);
    for (int32_t day = o->from; day <= o->to;) {
        int32_t end = o->by == RETENTION_WHOLE ? o->to : next_start(o->by, day) - 1;
        if (end > o->to)
            end = o->to;
        if (sc->n_periods == RETENTION_MAX_PERIODS) {
            snprintf(err, RETENTION_ERR_BYTES,
                     "the window has more than %d periods: shorten it or count by quarter",
                     RETENTION_MAX_PERIODS);
            return false;
        }
        if (sc->n_periods == cap) {
            cap *= 2;
            sc->periods = xrealloc(sc->periods, cap * sizeof *sc->periods);
        }
        sc->periods[sc->n_periods++] = (struct period){day, end};
        day = end + 1;
    }
    return true;
}

/* ---- strings the result keeps --------------------------------------------------- */

static const char *keep(struct retention_result *r, size_t *cap, const char *s) {
    if (r->n_strings == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        r->strings = xrealloc(r->strings, *cap * sizeof *r->strings);
    }
    return r->strings[r->n_strings++] = xstrdup(s);
}

static struct group *group_of(struct scan *sc, const char *name) {
    for (size_t i = 1; i < sc->n_groups; i++)
        if (strcmp(sc->groups[i].name, name) == 0)
            return &sc->groups[i];
    if (sc->n_groups > RETENTION_MAX_GROUPS) {
        sc->too_many_groups = true;
        return NULL;
    }
    if (sc->n_groups == sc->cap_groups) {
        sc->cap_groups *= 2;
        sc->groups = xrealloc(sc->groups, sc->cap_groups * sizeof *sc->groups);
    }
    struct group *g = &sc->groups[sc->n_groups++];
    g->name = xstrdup(name);
    g->f = xcalloc(sc->n_periods, sizeof *g->f);
    return g;
}

/* ---- one account ------------------------------------------------------------------ */

static void add_reason(struct scan *sc, const struct rev_movement *m) {
    struct retention_result *r = sc->r;
    const char *reason = m->reason ? m->reason : NONE_GIVEN;
    size_t i = 0;
    while (i < r->n_reasons &&
           !(r->reasons[i].kind == m->kind && strcmp(r->reasons[i].reason, reason) == 0))
        i++;
    if (i == r->n_reasons) {
        if (r->n_reasons == sc->cap_reasons) {
            sc->cap_reasons = sc->cap_reasons ? sc->cap_reasons * 2 : 16;
            r->reasons = xrealloc(r->reasons, sc->cap_reasons * sizeof *r->reasons);
        }
        r->reasons[r->n_reasons++] =
            (struct retention_reason){.kind = m->kind, .reason = keep(r, &sc->cap_strings, reason)};
    }
    struct retention_reason *x = &r->reasons[i];
    x->count++;
    x->mrr += m->amount;
    /* Accounts come in ascending id: a repeat is the last one. */
    if (!x->n_ids || x->ids[x->n_ids - 1] != sc->account) {
        if (x->n_ids == x->cap_ids) {
            x->cap_ids = x->cap_ids ? x->cap_ids * 2 : 8;
            x->ids = xrealloc(x->ids, x->cap_ids * sizeof *x->ids);
        }
        x->ids[x->n_ids++] = sc->account;
    }
}

/* Keeps movement m of the current account in the result's list. */
static void list_add(struct scan *sc, const struct rev_movement *m) {
    struct retention_result *r = sc->r;
    if (r->n_list == r->cap_list) {
        r->cap_list = r->cap_list ? r->cap_list * 2 : 256;
        r->list = xrealloc(r->list, r->cap_list * sizeof *r->list);
    }
    /* The account's strings are kept once, at its first movement. */
    if (!sc->kept_account) {
        sc->kept_account = keep(r, &sc->cap_strings, sc->external_id);
        sc->kept_group =
            keep(r, &sc->cap_strings, sc->o->group == RETENTION_ALL ? "all" : sc->group_name);
    }
    struct retention_movement *x = &r->list[r->n_list++];
    x->account = sc->kept_account;
    x->group = sc->kept_group;
    x->m = *m;
    x->m.reason = m->reason ? keep(r, &sc->cap_strings, m->reason) : NULL;
}

/* Makes the account's path and adds it to every period, in "all" and its
 * group. */
static void account_done(struct scan *sc) {
    if (!sc->account)
        return;
    struct rev_movement *mv;
    size_t n = revenue_movements(sc->in, sc->n_in, &mv);
    struct group *g = sc->o->group == RETENTION_ALL ? NULL : group_of(sc, sc->group_name);
    for (size_t p = 0; p < sc->n_periods; p++) {
        int64_t from = (int64_t)sc->periods[p].first * DT_MS_PER_DAY,
                to = ((int64_t)sc->periods[p].last + 1) * DT_MS_PER_DAY;
        revenue_period_add(mv, n, from, to, &sc->groups[0].f[p]);
        if (g)
            revenue_period_add(mv, n, from, to, &g->f[p]);
    }
    int64_t from = (int64_t)sc->o->from * DT_MS_PER_DAY,
            to = ((int64_t)sc->o->to + 1) * DT_MS_PER_DAY;
    for (size_t i = 0; i < n; i++) {
        if (mv[i].ts_ms < from || mv[i].ts_ms >= to)
            continue;
        sc->r->movements[mv[i].kind]++;
        if (sc->o->list_movements)
            list_add(sc, &mv[i]);
        if (mv[i].kind == REV_EXPANSION || mv[i].kind == REV_CONTRACTION || mv[i].kind == REV_CHURN)
            add_reason(sc, &mv[i]);
    }
    free(mv);
    sc->r->accounts++;
    for (size_t i = 0; i < sc->n_own; i++)
        free(sc->own[i]);
    sc->n_own = sc->n_in = 0;
    free(sc->group_name);
    free(sc->external_id);
    sc->group_name = sc->external_id = NULL;
    sc->kept_account = sc->kept_group = NULL;
}

static const char *own(struct scan *sc, const char *s) {
    if (!s)
        return NULL;
    if (sc->n_own == sc->cap_own) {
        sc->cap_own = sc->cap_own ? sc->cap_own * 2 : 16;
        sc->own = xrealloc(sc->own, sc->cap_own * sizeof *sc->own);
    }
    return sc->own[sc->n_own++] = xstrdup(s);
}

static void on_fact(void *arg, const struct store_revenue_fact *f) {
    struct scan *sc = arg;
    if (f->account_id != sc->account) {
        account_done(sc);
        sc->account = f->account_id;
        const char *name = sc->o->group == RETENTION_SEGMENT ? f->segment
                           : sc->o->group == RETENTION_PLAN  ? f->plan
                                                             : f->owner;
        sc->group_name = xstrdup(name && *name ? name : NO_GROUP);
        sc->external_id = xstrdup(f->external_id ? f->external_id : "");
    }
    struct rev_input in = {.ts_ms = f->ts_ms};
    switch (f->kind) {
    case EV_GROUP:
        in.kind = REV_IN_TRAIT;
        in.mrr = f->num;
        break;
    case EV_SUB_CHANGED:
        in.kind = REV_IN_CHANGE;
        in.mrr = f->num;
        in.mrr_before = f->mrr_before;
        in.reason = own(sc, f->reason);
        break;
    case EV_RENEWED:
    case EV_CHURNED:
        in.kind = f->kind == EV_RENEWED ? REV_IN_RENEWED : REV_IN_CHURNED;
        in.has_arr = f->has_num;
        in.arr = f->num;
        in.reason = own(sc, f->reason);
        break;
    default:
        return;
    }
    /* A value the store could not read as a number is no observation. */
    if ((in.kind == REV_IN_TRAIT && !f->has_num) || (in.kind == REV_IN_CHANGE && !f->has_before))
        return;
    if (sc->n_in == sc->cap_in) {
        sc->cap_in = sc->cap_in ? sc->cap_in * 2 : 64;
        sc->in = xrealloc(sc->in, sc->cap_in * sizeof *sc->in);
    }
    sc->in[sc->n_in++] = in;
}

/* ---- the result ------------------------------------------------------------------- */

static int by_name(const void *x, const void *y) {
    const struct group *a = x, *b = y;
    return strcmp(a->name, b->name);
}

static int by_kind_then_mrr(const void *x, const void *y) {
    const struct retention_reason *a = x, *b = y;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->mrr != b->mrr)
        return a->mrr > b->mrr ? -1 : 1;
    return strcmp(a->reason, b->reason);
}

static void make_rows(struct scan *sc) {
    struct retention_result *r = sc->r;
    if (sc->n_groups > 2)
        qsort(sc->groups + 1, sc->n_groups - 1, sizeof *sc->groups, by_name);
    r->rows = xcalloc(sc->n_periods * sc->n_groups + 1, sizeof *r->rows);
    for (size_t p = 0; p < sc->n_periods; p++) {
        for (size_t g = 0; g < sc->n_groups; g++) {
            struct retention_row *row = &r->rows[r->n_rows++];
            row->first_day = sc->periods[p].first;
            row->last_day = sc->periods[p].last;
            row->group = keep(r, &sc->cap_strings, sc->groups[g].name);
            row->f = sc->groups[g].f[p];
            revenue_rates(&row->f, row->last_day - row->first_day + 1, &row->r);
        }
    }
    if (r->n_reasons > 1)
        qsort(r->reasons, r->n_reasons, sizeof *r->reasons, by_kind_then_mrr);
    /* NRR impact over the window: the first period's start is the window's. */
    double start = sc->groups[0].f[0].mrr_start;
    for (size_t i = 0; i < r->n_reasons; i++) {
        struct retention_reason *x = &r->reasons[i];
        double sign = x->kind == REV_EXPANSION ? 1 : -1;
        x->nrr_impact = start > 0 ? sign * x->mrr / start : NAN;
        x->tickets = x->outreach = x->ctas = NAN;
    }
}

static void scan_free(struct scan *sc) {
    for (size_t i = 0; i < sc->n_own; i++)
        free(sc->own[i]);
    free(sc->own);
    free(sc->in);
    free(sc->group_name);
    free(sc->external_id);
    for (size_t g = 0; g < sc->n_groups; g++) {
        free(sc->groups[g].name);
        free(sc->groups[g].f);
    }
    free(sc->groups);
    free(sc->periods);
}

enum tend_err retention_run(struct store *s, const struct retention_options *o,
                            struct retention_result *out, char *err) {
    memset(out, 0, sizeof *out);
    out->o = *o;
    struct scan sc = {.o = o, .r = out, .cap_groups = 8};
    enum tend_err e = TEND_OK;
    if (!make_periods(&sc, err)) {
        e = TEND_ERR_INVALID;
        goto cleanup;
    }
    sc.groups = xmalloc(sc.cap_groups * sizeof *sc.groups);
    sc.groups[0] =
        (struct group){xstrdup("all"), xcalloc(sc.n_periods, sizeof(struct rev_figures))};
    sc.n_groups = 1;
    e = store_revenue_each(s, ((int64_t)o->to + 1) * DT_MS_PER_DAY, on_fact, &sc);
    if (e) {
        snprintf(err, RETENTION_ERR_BYTES, "%s", store_last_error(s));
        goto cleanup;
    }
    account_done(&sc);
    if (sc.too_many_groups) {
        snprintf(err, RETENTION_ERR_BYTES,
                 "more than %d groups: group by segment or plan, or by owner in a smaller team",
                 RETENTION_MAX_GROUPS);
        e = TEND_ERR_INVALID;
        goto cleanup;
    }
    make_rows(&sc);
cleanup:
    scan_free(&sc);
    if (e)
        retention_result_free(out);
    return e;
}

void retention_result_free(struct retention_result *r) {
    for (size_t i = 0; i < r->n_reasons; i++)
        free(r->reasons[i].ids);
    for (size_t i = 0; i < r->n_strings; i++)
        free(r->strings[i]);
    free(r->strings);
    free(r->rows);
    free(r->reasons);
    free(r->list);
    memset(r, 0, sizeof *r);
}

const char *retention_period_name(const struct retention_result *r, const struct retention_row *row,
                                  char *buf) {
    int y, m, d;
    dt_civil_from_days(row->first_day, &y, &m, &d);
    if (r->o.by == RETENTION_MONTH)
        snprintf(buf, RETENTION_PERIOD_BYTES, "%04d-%02d", y, m);
    else if (r->o.by == RETENTION_QUARTER)
        snprintf(buf, RETENTION_PERIOD_BYTES, "%04d-Q%d", y, (m - 1) / 3 + 1);
    else {
        char a[16], b[16];
        dt_format_date(row->first_day, a);
        dt_format_date(row->last_day, b);
        snprintf(buf, RETENTION_PERIOD_BYTES, "%s..%s", a, b);
    }
    return buf;
}

/* ---- cost to serve -------------------------------------------------------------- */

struct costs {
    struct store_account_costs *v;
    size_t n, cap;
};

static void on_costs(void *arg, const struct store_account_costs *c) {
    struct costs *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = *c;
}

static int by_account(const void *key, const void *x) {
    int64_t id = *(const int64_t *)key, other = ((const struct store_account_costs *)x)->account_id;
    return id < other ? -1 : id > other;
}

enum tend_err retention_costs(struct store *s, struct retention_result *r, char *err) {
    struct costs l = {0};
    enum tend_err e =
        store_account_costs_each(s, (int64_t)r->o.from * DT_MS_PER_DAY,
                                 ((int64_t)r->o.to + 1) * DT_MS_PER_DAY, on_costs, &l);
    if (e) {
        snprintf(err, RETENTION_ERR_BYTES, "%s", store_last_error(s));
        free(l.v);
        return e;
    }
    for (size_t i = 0; i < r->n_reasons; i++) {
        struct retention_reason *x = &r->reasons[i];
        double t = 0, o = 0, c = 0;
        for (size_t k = 0; k < x->n_ids; k++) {
            const struct store_account_costs *a =
                l.n ? bsearch(&x->ids[k], l.v, l.n, sizeof *l.v, by_account) : NULL;
            if (a) {
                t += (double)a->tickets;
                o += (double)a->outreach;
                c += (double)a->ctas;
            }
        }
        double n = (double)x->n_ids;
        x->tickets = n > 0 ? t / n : NAN;
        x->outreach = n > 0 ? o / n : NAN;
        x->ctas = n > 0 ? c / n : NAN;
    }
    free(l.v);
    return TEND_OK;
}

static int by_impact(const void *x, const void *y) {
    const struct retention_reason *a = *(const struct retention_reason *const *)x,
                                  *b = *(const struct retention_reason *const *)y;
    if (a->mrr != b->mrr)
        return a->mrr > b->mrr ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return strcmp(a->reason, b->reason);
}

void retention_reasons_by_impact(const struct retention_result *r,
                                 const struct retention_reason **out) {
    for (size_t i = 0; i < r->n_reasons; i++)
        out[i] = &r->reasons[i];
    if (r->n_reasons > 1)
        qsort(out, r->n_reasons, sizeof *out, by_impact);
}
