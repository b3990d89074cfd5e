/* eval.c: metrics as of T from the store (see eval.h).
 *
 * The accounts are split by id into one part per core; each part is read and
 * computed on a read-only connection of its own, on a thread of its own (the
 * first on the caller's thread), and the results are handed to the caller in
 * external id order. An account's
 * metrics depend on its own data only, so the split changes nothing but the
 * time. */
#include "eval/eval.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/vocab.h"
#include "util/datetime.h"
#include "util/mem.h"

enum { MAX_PARTS = 4 };
/* A listed evaluation (a few accounts, read by id) takes one part per this
 * many accounts: each part is a fresh connection whose cache starts cold, and
 * a seek per account is too little work to share (1,000 touched accounts of
 * 10,000 on 2 shared cores: one part read them in 16-24 ms, two in parallel
 * in 23-39 ms; bench/event's evaluation no faster with two). */
enum { LISTED_PER_PART = 2048 };

struct account {
    int64_t id;
    char *external_id;
    struct metrics_acc *acc;
    struct metrics m;
    /* With rules only: */
    struct store_account_fields f; /* strings malloced */
    char *traits_json;
    int64_t first_seen_ms;
    struct rules_facts *facts;
    bool has_last_ticket;
    int64_t last_ticket_ms;
    /* With a churn-risk model only: its score of a customer. */
    bool scored;
    struct risk_score risk;
};

struct accounts {
    int64_t t_ms;
    const struct eval_options *rules; /* NULL: metrics only */
    struct account *v;
    size_t n, cap;
    /* Account id -> index in v: dense (by_id[id] = index + 1, 0: not
     * listed) when the ids are about 1..n, as every account's are;
     * otherwise (a few listed accounts among many, or ids with gaps) the
     * ids sorted, with their indexes, searched: memory by the accounts
     * held, never by the largest id. */
    size_t *by_id;
    size_t by_id_len;
    int64_t *sorted_ids; /* when not dense */
    size_t *sorted_at;
};

/* The activity window [T - 35 days, T) as whole days: those whose rollups
 * can stand for their events, and those that must be read event by event. */
struct window {
    int64_t from_ms, to_ms;
    int32_t first, last; /* days as the store counts them (ms / 86400000) */
    bool raw[METRICS_ACTIVITY_DAYS + 2];
    /* The whole window is read from day last's rollups (T is a midnight,
     * its windows are done, no day is raw). */
    bool whole;
};

/* The accounts of a span (a range of ids, or a slice of the listed ids),
 * read on one connection. */
struct part {
    struct store *s;
    struct accounts *a;
    const struct window *w;
    struct store_span span;
    /* The latest account looked up (rows come account by account), for the
     * sorted index; its own per part, since parts run in parallel. */
    int64_t last_id;
    struct account *last;
    enum tend_err err;
    char msg[STORE_ERR_BYTES];
};

static int collect_account(void *arg, const struct store_account_row *r) {
    struct accounts *a = arg;
    if (r->first_seen_ms >= a->t_ms)
        return 0; /* not known yet as of T: no row */
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    struct account *x = &a->v[a->n++];
    memset(x, 0, sizeof *x);
    x->id = r->id;
    x->external_id = xstrdup(r->external_id);
    x->first_seen_ms = r->first_seen_ms;
    if (a->rules) {
        /* Every typed column: the numbers too (a CTA's message shows the
         * account's mrr and renewal date, copied from here). */
        x->f = r->f;
        const char *const *from[] = {&r->f.name,       &r->f.plan,        &r->f.csm_email,
                                     &r->f.csm_slack,  &r->f.segment,     &r->f.premium_products,
                                     &r->f.created_at, &r->f.renewal_date};
        const char **to[] = {&x->f.name,       &x->f.plan,        &x->f.csm_email,
                             &x->f.csm_slack,  &x->f.segment,     &x->f.premium_products,
                             &x->f.created_at, &x->f.renewal_date};
        for (size_t i = 0; i < sizeof from / sizeof from[0]; i++)
            *to[i] = *from[i] ? xstrdup(*from[i]) : NULL;
        x->traits_json = r->traits_json ? xstrdup(r->traits_json) : NULL;
    }
    return 0;
}

static int by_external_id(const void *x, const void *y) {
    return strcmp(((const struct account *)x)->external_id,
                  ((const struct account *)y)->external_id);
}

static int cmp_id(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Ids this far above the accounts' count are indexed sorted, not densely:
 * the dense table costs a word per id up to the largest. */
enum { DENSE_SLACK = 4, DENSE_MIN = 1024 };

/* Puts the accounts in external id order and indexes them by id. */
static void index_accounts(struct accounts *a) {
    qsort(a->v, a->n, sizeof *a->v, by_external_id);
    int64_t max = 0;
    for (size_t i = 0; i < a->n; i++)
        max = a->v[i].id > max ? a->v[i].id : max;
    if ((uint64_t)max <= (uint64_t)a->n * DENSE_SLACK + DENSE_MIN) {
        a->by_id_len = (size_t)max + 1;
        a->by_id = xcalloc(a->by_id_len, sizeof *a->by_id);
        for (size_t i = 0; i < a->n; i++)
            a->by_id[a->v[i].id] = i + 1;
        return;
    }
    /* Sorted by id: pairs of (id, index) sort as the ids do. */
    int64_t(*pairs)[2] = xmalloc(a->n * sizeof *pairs);
    for (size_t i = 0; i < a->n; i++) {
        pairs[i][0] = a->v[i].id;
        pairs[i][1] = (int64_t)i;
    }
    qsort(pairs, a->n, sizeof *pairs, cmp_id);
    a->sorted_ids = xmalloc(a->n * sizeof *a->sorted_ids);
    a->sorted_at = xmalloc(a->n * sizeof *a->sorted_at);
    for (size_t i = 0; i < a->n; i++) {
        a->sorted_ids[i] = pairs[i][0];
        a->sorted_at[i] = (size_t)pairs[i][1];
    }
    free(pairs);
}

/* Frees what one account holds. */
static void free_account_fields(struct account *x) {
    free(x->external_id);
    metrics_free(x->acc);
    const char *fields[] = {x->f.name,       x->f.plan,        x->f.csm_email,
                            x->f.csm_slack,  x->f.segment,     x->f.premium_products,
                            x->f.created_at, x->f.renewal_date};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        free((char *)fields[k]);
    free(x->traits_json);
    rules_facts_free(x->facts);
}

static void free_accounts(struct accounts *a) {
    for (size_t i = 0; i < a->n; i++)
        free_account_fields(&a->v[i]);
    free(a->v);
    free(a->by_id);
    free(a->sorted_ids);
    free(a->sorted_at);
}

/* The part's account of an id, or NULL for one not in the part. */
static struct account *account_of(struct part *p, int64_t account_id) {
    const struct accounts *a = p->a;
    if (account_id < p->span.first || account_id > p->span.last)
        return NULL;
    if (a->by_id) {
        if ((size_t)account_id >= a->by_id_len)
            return NULL;
        size_t i = a->by_id[account_id];
        return i ? &a->v[i - 1] : NULL;
    }
    if (p->last && p->last_id == account_id)
        return p->last;
    const int64_t *hit = bsearch(&account_id, a->sorted_ids, a->n, sizeof *hit, cmp_id);
    if (!hit)
        return NULL;
    p->last_id = account_id;
    p->last = &a->v[a->sorted_at[hit - a->sorted_ids]];
    return p->last;
}

/* The part's accumulator of an account, or NULL for one not in the part. */
static struct metrics_acc *acc_of(struct part *p, int64_t account_id) {
    struct account *x = account_of(p, account_id);
    return x ? x->acc : NULL;
}

static void on_activity(void *arg, const struct store_activity *x) {
    struct metrics_acc *acc = acc_of(arg, x->account_id);
    if (acc)
        metrics_add_activity(acc, x->kind, x->ts_ms, x->user_id, x->name_id);
}

static void on_member(void *arg, const struct store_membership *m) {
    struct metrics_acc *acc = acc_of(arg, m->account_id);
    if (acc)
        metrics_add_member(acc, m->start_ms, m->end_ms);
}

/* Reads the metric traits a group call sets from its stored traits JSON. */
static void group_traits(const char *props, struct metric_fact *f) {
    cJSON *t = props ? cJSON_Parse(props) : NULL;
    if (!t)
        return;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, "mrr");
    if (v) {
        f->traits_set |= TRAIT_MRR;
        if (cJSON_IsNumber(v))
            f->mrr = v->valuedouble;
        else if (cJSON_IsString(v) && v->valuestring[0])
            f->mrr = strtod(v->valuestring, NULL);
        else
            f->traits_null |= TRAIT_MRR;
    }
    v = cJSON_GetObjectItemCaseSensitive(t, "seats");
    if (v) {
        f->traits_set |= TRAIT_SEATS;
        if (cJSON_IsNumber(v))
            f->seats = (int64_t)v->valuedouble;
        else if (cJSON_IsString(v) && v->valuestring[0])
            f->seats = (int64_t)strtod(v->valuestring, NULL);
        else
            f->traits_null |= TRAIT_SEATS;
    }
    v = cJSON_GetObjectItemCaseSensitive(t, "renewal_date");
    if (v) {
        f->traits_set |= TRAIT_RENEWAL;
        int64_t ms;
        if (cJSON_IsString(v) && dt_parse_instant(v->valuestring, strlen(v->valuestring), &ms))
            f->renewal_day = dt_day_of_ms(ms);
        else
            f->traits_null |= TRAIT_RENEWAL;
    }
    cJSON_Delete(t);
}

static void on_fact(void *arg, const struct store_fact *x) {
    struct account *a = account_of(arg, x->account_id);
    if (!a)
        return;
    struct metric_fact f = {
        .kind = x->kind,
        .ts_ms = x->ts_ms,
        .user_id = x->user_id,
        .subject = x->subject,
        .num = x->num,
        .has_num = x->has_num,
        .day = x->day,
        .has_day = x->has_day,
        .settled_ms = x->settled_ms,
    };
    if (x->kind == EV_GROUP)
        group_traits(x->props, &f);
    else
        f.detail = x->detail;
    metrics_add_fact(a->acc, &f);
    if (a->facts)
        rules_facts_add(a->facts, &f);
}

static void on_stale(void *arg, int32_t day) {
    struct window *w = arg;
    if (day >= w->first && day <= w->last)
        w->raw[day - w->first] = true;
}

/* Marks the day holding instant ms raw when ms falls inside it (not on a
 * midnight): that day is split by a window edge. */
static void split_at(struct window *w, int64_t ms) {
    if (ms % DT_MS_PER_DAY != 0)
        on_stale(w, (int32_t)(ms / DT_MS_PER_DAY));
}

/* Which days of the window as of t_ms are read from rollups. */
static enum tend_err plan_window(struct store *s, int64_t t_ms, struct window *w) {
    memset(w, 0, sizeof *w);
    w->from_ms = t_ms - METRICS_ACTIVITY_DAYS * DT_MS_PER_DAY;
    w->to_ms = t_ms;
    w->first = (int32_t)(w->from_ms / DT_MS_PER_DAY);
    w->last = (int32_t)((w->to_ms - 1) / DT_MS_PER_DAY);
    /* Days at or before the epoch's are counted by truncation in the store:
     * read them event by event. */
    for (int32_t d = w->first; d <= w->last && d <= 0; d++)
        w->raw[d - w->first] = true;
    static const int edges[] = {METRICS_ACTIVITY_DAYS, 30, 7, 0};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        split_at(w, t_ms - edges[i] * DT_MS_PER_DAY);
    enum tend_err err = store_activity_stale_each(s, w->first, w->last, on_stale, w);
    if (err || t_ms % DT_MS_PER_DAY != 0)
        return err;
    if ((err = store_activity_windows_ready(s, w->last, &w->whole)))
        return err;
    for (int32_t d = w->first; d <= w->last; d++)
        w->whole = w->whole && !w->raw[d - w->first];
    return TEND_OK;
}

static void on_day(void *arg, const struct store_activity_day *d) {
    struct part *p = arg;
    const struct window *w = p->w;
    int32_t day = d->day.day;
    if (day < w->first || day > w->last || w->raw[day - w->first])
        return;
    struct metrics_acc *acc = acc_of(p, d->account_id);
    if (acc)
        metrics_add_day(acc, &d->day);
}

static void on_window(void *arg, int64_t account_id, const struct metrics_window *win) {
    struct metrics_acc *acc = acc_of(arg, account_id);
    if (acc)
        metrics_set_window(acc, win);
}

/* Feeds the part's activity window: rollups for whole, fresh days, events for
 * the rest. */
static enum tend_err gather_activity(struct part *p) {
    const struct window *w = p->w;
    if (w->whole)
        return store_activity_windows_each(p->s, &p->span, w->last, on_window, p);
    enum tend_err err = store_activity_days_each(p->s, &p->span, w->first, w->last, on_day, p);
    /* Each run of raw days, cut to the window, is one range of events. */
    for (int32_t d = w->first; !err && d <= w->last; d++) {
        if (!w->raw[d - w->first])
            continue;
        int32_t end = d;
        while (end < w->last && w->raw[end + 1 - w->first])
            end++;
        int64_t from = (int64_t)d * DT_MS_PER_DAY, to = (int64_t)(end + 1) * DT_MS_PER_DAY;
        from = from > w->from_ms ? from : w->from_ms;
        to = to < w->to_ms ? to : w->to_ms;
        err = store_activity_each(p->s, &p->span, from, to, on_activity, p);
        d = end;
    }
    return err;
}

/* days_since_login for an account without a login in the window: the
 * latest login day on or before the window's first day. */
static enum tend_err gather_earlier_login(struct store *s, struct account *a, int64_t t_ms) {
    if (metrics_window_has_login(a->acc))
        return TEND_OK;
    int64_t window_start = t_ms - METRICS_ACTIVITY_DAYS * DT_MS_PER_DAY;
    int32_t day;
    bool found;
    enum tend_err err = store_login_day_last(s, a->id, dt_day_of_ms(window_start), &day, &found);
    if (!err && found)
        metrics_set_earlier_login_day(a->acc, day);
    return err;
}

/* What rules need beyond the metrics: for accounts large enough to be too
 * quiet, the latest ticket. (Product use is read by eval/ctas.c.) */
static enum tend_err gather_rule_inputs(struct part *p, struct account *x) {
    const struct eval_options *o = p->a->rules;
    if (o->last_ticket_min_users <= 0 || x->m.users < o->last_ticket_min_users)
        return TEND_OK;
    return store_last_ticket_before(p->s, x->id, p->a->t_ms, &x->last_ticket_ms,
                                    &x->has_last_ticket);
}

/* Reads and computes the metrics of the part's accounts. */
static void *run_part(void *arg) {
    struct part *p = arg;
    struct accounts *a = p->a;
    enum tend_err err = store_memberships_each(p->s, &p->span, on_member, p);
    if (!err)
        err = store_facts_each(p->s, &p->span, a->t_ms, on_fact, p);
    if (!err)
        err = gather_activity(p);
    for (size_t i = 0; !err && i < a->n; i++) {
        struct account *x = &a->v[i];
        if (!account_of(p, x->id))
            continue;
        err = gather_earlier_login(p->s, x, a->t_ms);
        if (!err)
            metrics_finish(x->acc, &x->m);
        if (!err && a->rules)
            err = gather_rule_inputs(p, x);
        if (!err && a->rules && a->rules->risk && a->rules->hc && !x->m.churned) {
            /* Scored here, in the part's thread: the model's inputs need the
             * health components, computed once more (ctas.c computes its
             * own), and the parts run in parallel. */
            struct health_score h;
            double raw[RI_COUNT];
            health_compute(a->rules->hc, &x->m, &h);
            risk_inputs(&x->m, &h, x->first_seen_ms, a->t_ms, raw);
            risk_score_raw(a->rules->risk, raw, false, &x->risk);
            x->scored = true;
        }
    }
    p->err = err;
    if (err)
        snprintf(p->msg, sizeof p->msg, "%s", store_last_error(p->s));
    return NULL;
}

/* Splits the accounts into parts of about equal size by id; returns how
 * many. Every account: each part a range of ids, together 1..STORE_LAST_ID.
 * Listed (a few accounts): each part a slice of ids (sorted, owned by the
 * caller), read account by account, LISTED_PER_PART or more to a part. */
static int split(const struct accounts *a, bool listed, int64_t *ids, struct part *parts) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cores < 1 ? 1 : cores > MAX_PARTS ? MAX_PARTS : (int)cores;
    size_t most = listed ? (a->n + LISTED_PER_PART - 1) / LISTED_PER_PART : a->n;
    if ((size_t)n > most)
        n = most ? (int)most : 1;
    for (size_t i = 0; i < a->n; i++)
        ids[i] = a->v[i].id;
    qsort(ids, a->n, sizeof *ids, cmp_id);
    for (int k = 0; k < n; k++) {
        size_t from = (a->n * (size_t)k) / (size_t)n, to = (a->n * (size_t)(k + 1)) / (size_t)n;
        struct store_span *sp = &parts[k].span;
        if (listed) {
            *sp = (struct store_span){
                .first = ids[from], .last = ids[to - 1], .ids = ids + from, .n = to - from};
            continue;
        }
        sp->first = k == 0 ? 1 : parts[k - 1].span.last + 1;
        sp->last = k == n - 1 ? STORE_LAST_ID : ids[to - 1];
    }
    return n;
}

/* Computes every listed account's metrics, in parallel where it can; listed:
 * the accounts are a few of those stored, read by id. */
static enum tend_err compute(struct store *s, struct accounts *a, bool listed) {
    struct window w;
    enum tend_err err = plan_window(s, a->t_ms, &w);
    if (err)
        return err;
    struct part parts[MAX_PARTS];
    memset(parts, 0, sizeof parts);
    int64_t *ids = xmalloc(a->n * sizeof *ids);
    int n = split(a, listed, ids, parts);
    /* Every part reads on a read-only connection of its own, the first on
     * this thread; where one cannot be had, the caller's connection serves
     * and this thread works through the parts. */
    pthread_t threads[MAX_PARTS];
    bool started[MAX_PARTS] = {false};
    for (int k = 0; k < n; k++) {
        parts[k].a = a;
        parts[k].w = &w;
        char msg[STORE_ERR_BYTES];
        if (store_open_again(s, &parts[k].s, msg))
            parts[k].s = s;
        else if (k > 0 && pthread_create(&threads[k], NULL, run_part, &parts[k]) == 0)
            started[k] = true;
    }
    run_part(&parts[0]);
    for (int k = 0; k < n; k++) {
        if (started[k])
            pthread_join(threads[k], NULL);
        else if (k > 0)
            run_part(&parts[k]);
        if (parts[k].s != s)
            store_close(parts[k].s);
    }
    free(ids);
    for (int k = 0; k < n; k++) {
        if (parts[k].err) {
            store_set_error(s, parts[k].msg);
            return parts[k].err;
        }
    }
    return TEND_OK;
}

/* Sorts ids and drops repeats and non-ids, in place; returns how many remain. */
static size_t distinct_ids(int64_t *ids, size_t n) {
    qsort(ids, n, sizeof *ids, cmp_id);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] > 0 && (k == 0 || ids[i] != ids[k - 1]))
            ids[k++] = ids[i];
    return k;
}

/* Lists the accounts known at t_ms (every one, or the listed ids: read by
 * id, never by listing all), computes them and calls fn or afn for each, in
 * external id order. */
static enum tend_err evaluate(struct store *s, int64_t t_ms, const int64_t *only, size_t n_only,
                              const struct eval_options *o, eval_metrics_fn fn, eval_account_fn afn,
                              void *arg) {
    struct accounts a = {.t_ms = t_ms, .rules = o};
    enum tend_err err;
    int64_t *ids = NULL;
    if (only) {
        ids = xmalloc((n_only ? n_only : 1) * sizeof *ids);
        memcpy(ids, only, n_only * sizeof *ids);
        n_only = distinct_ids(ids, n_only);
        err = store_accounts_brief_of(s, ids, n_only, collect_account, &a);
        free(ids);
    } else {
        err = store_accounts_brief_each(s, collect_account, &a);
    }
    /* Accounts not known yet as of T (first seen at or after T) get no row. */
    if (err || a.n == 0) {
        free_accounts(&a);
        return err;
    }
    index_accounts(&a);
    for (size_t i = 0; i < a.n; i++) {
        a.v[i].acc = metrics_new(t_ms);
        if (o)
            a.v[i].facts = rules_facts_new(t_ms);
    }
    err = compute(s, &a, only != NULL);
    for (size_t i = 0; !err && i < a.n; i++) {
        const struct account *x = &a.v[i];
        if (fn && fn(arg, x->id, x->external_id, &x->m))
            break;
        struct eval_account ea = {
            .id = x->id,
            .account_id = x->external_id,
            .f = &x->f,
            .traits_json = x->traits_json,
            .first_seen_ms = x->first_seen_ms,
            .m = &x->m,
            .facts = x->facts,
            .has_last_ticket = x->has_last_ticket,
            .last_ticket_ms = x->last_ticket_ms,
            .p_churn = NAN,
        };
        if (x->scored) {
            ea.p_churn = x->risk.p_churn;
            ea.model_version = o->risk->version;
            ea.risk = &x->risk;
        }
        if (afn && afn(arg, &ea))
            break;
    }
    free_accounts(&a);
    return err;
}

/* The one account named (its id in *id), or every account (no list). */
static enum tend_err named(struct store *s, const char *account, int64_t *id) {
    return account ? store_account_find(s, account, id) : TEND_OK;
}

enum tend_err eval_metrics(struct store *s, int64_t t_ms, const char *account, eval_metrics_fn fn,
                           void *arg) {
    int64_t id = 0;
    enum tend_err err = named(s, account, &id);
    return err ? err : evaluate(s, t_ms, account ? &id : NULL, 1, NULL, fn, NULL, arg);
}

enum tend_err eval_metrics_of(struct store *s, int64_t t_ms, const int64_t *ids, size_t n,
                              eval_metrics_fn fn, void *arg) {
    return evaluate(s, t_ms, ids, n, NULL, fn, NULL, arg);
}

enum tend_err eval_accounts(struct store *s, int64_t t_ms, const char *account,
                            const struct eval_options *o, eval_account_fn fn, void *arg) {
    static const struct eval_options none = {0};
    o = o ? o : &none;
    int64_t id = 0;
    enum tend_err err = named(s, account, &id);
    if (err)
        return err;
    if (account)
        return evaluate(s, t_ms, &id, 1, o, NULL, fn, arg);
    return evaluate(s, t_ms, o->ids, o->n_ids, o, NULL, fn, arg);
}

/* ---- activity windows ----------------------------------------------------- */

/* One slider per account id, fed the days in order. */
struct sliding {
    struct metrics_slider **by_id;
    size_t len;
};

static void on_slide_day(void *arg, const struct store_activity_day *d) {
    struct sliding *w = arg;
    if (d->account_id <= 0)
        return;
    size_t id = (size_t)d->account_id;
    if (id >= w->len) {
        size_t len = id * 2;
        w->by_id = xrealloc(w->by_id, len * sizeof *w->by_id);
        memset(w->by_id + w->len, 0, (len - w->len) * sizeof *w->by_id);
        w->len = len;
    }
    if (!w->by_id[id])
        w->by_id[id] = metrics_slider_new();
    metrics_slider_add(w->by_id[id], &d->day);
}

static void sliding_reset(struct sliding *w) {
    for (size_t i = 0; i < w->len; i++)
        metrics_slider_free(w->by_id[i]);
    free(w->by_id);
    w->by_id = NULL;
    w->len = 0;
}

struct days {
    int32_t *v;
    size_t n, cap;
};

static void on_pending(void *arg, int32_t day) {
    struct days *d = arg;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->v = xrealloc(d->v, d->cap * sizeof *d->v);
    }
    d->v[d->n++] = day;
}

/* Stores the windows of one day, its days being loaded. */
static enum tend_err put_windows(struct store *s, struct sliding *w, int32_t day) {
    enum tend_err err = TEND_OK;
    for (size_t id = 1; !err && id < w->len; id++) {
        struct metrics_window win;
        if (w->by_id[id] && metrics_slider_window(w->by_id[id], day, &win))
            err = store_activity_window_put(s, day, (int64_t)id, &win);
    }
    return err ? err : store_activity_windows_done(s, day);
}

/* Brings the activity windows of every pending day up to date, sliding over
 * the days in order (each day's rollups are read once, or again only after a
 * gap of over 35 days). */
static enum tend_err windows_pending(struct store *s) {
    enum { DAYS_PER_TRANSACTION = 16 };
    static const struct store_span every = {.first = 1, .last = STORE_LAST_ID};
    struct days pending = {0};
    enum tend_err err = store_activity_windows_pending(s, on_pending, &pending);
    struct sliding w = {0};
    int32_t loaded = INT32_MIN; /* the sliders have every day up to this one */
    for (size_t i = 0; !err && i < pending.n; i += DAYS_PER_TRANSACTION) {
        if ((err = store_begin(s, NULL)))
            break;
        for (size_t k = i; !err && k < pending.n && k < i + DAYS_PER_TRANSACTION; k++) {
            int32_t day = pending.v[k], from = day - (METRICS_ACTIVITY_DAYS - 1);
            if (loaded != INT32_MIN && loaded >= from - 1)
                from = loaded + 1;
            else
                sliding_reset(&w);
            err = store_activity_days_each(s, &every, from, day, on_slide_day, &w);
            loaded = day;
            if (!err)
                err = put_windows(s, &w, day);
        }
        if (!err)
            err = store_commit(s);
        else
            store_rollback(s);
    }
    sliding_reset(&w);
    free(pending.v);
    return err;
}

enum tend_err eval_refresh_rollups(struct store *s, int *days) {
    enum { DAYS_PER_TRANSACTION = 16 };
    *days = 0;
    for (;;) {
        int done = 0;
        enum tend_err err = store_begin(s, NULL);
        if (!err)
            err = store_activity_refresh(s, DAYS_PER_TRANSACTION, &done);
        if (!err)
            err = store_commit(s);
        if (err) {
            store_rollback(s);
            return err;
        }
        *days += done;
        if (done < DAYS_PER_TRANSACTION)
            return windows_pending(s);
    }
}

/* ---- stored scores -------------------------------------------------------- */

void eval_score_row(const struct health_config *c, int32_t day, const struct health_score *h,
                    struct store_score *out) {
    memset(out, 0, sizeof *out);
    out->day = day;
    out->has_overall = h->has_score;
    out->overall = h->overall;
    snprintf(out->band, sizeof out->band, "%s", health_band_name(h->band));
    for (int i = 0; i < HC_COUNT; i++) {
        out->has[i] = h->components[i].has_data;
        out->components[i] = h->components[i].score;
    }
    snprintf(out->config_version, sizeof out->config_version, "%s", c->version);
}

void eval_day_scores_put(struct eval_day_scores *d, int64_t account_id, bool has, double overall) {
    d->rows++;
    if (!has || account_id <= 0)
        return;
    if ((size_t)account_id >= d->len) {
        size_t len = (size_t)account_id * 2 + 16;
        d->overall = xrealloc(d->overall, len * sizeof *d->overall);
        d->known = xrealloc(d->known, len * sizeof *d->known);
        memset(d->known + d->len, 0, (len - d->len) * sizeof *d->known);
        d->len = len;
    }
    d->overall[account_id] = overall;
    d->known[account_id] = true;
}

static void on_day_score(void *arg, int64_t account_id, bool has, double overall) {
    eval_day_scores_put(arg, account_id, has, overall);
}

enum tend_err eval_day_scores_load(struct store *s, int32_t day, const char *version,
                                   struct eval_day_scores *d) {
    memset(d, 0, sizeof *d);
    return version ? store_scores_of_day_version(s, day, version, on_day_score, d)
                   : store_scores_of_day(s, day, on_day_score, d);
}

bool eval_day_score(const struct eval_day_scores *d, int64_t account_id, double *overall) {
    if (account_id <= 0 || (size_t)account_id >= d->len || !d->known[account_id])
        return false;
    *overall = d->overall[account_id];
    return true;
}

void eval_day_scores_free(struct eval_day_scores *d) {
    free(d->overall);
    free(d->known);
    memset(d, 0, sizeof *d);
}
