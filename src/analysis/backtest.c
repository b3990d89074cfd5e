/* backtest.c: replay in a copy, collect the alerts, score them against the
 * churns (see backtest.h). */
#include "analysis/backtest.h"

#include <glib.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/ctas.h"
#include "eval/eval.h"
#include "util/datetime.h"
#include "util/mem.h"

enum { BAND_KEY_RED, BAND_KEY_YELLOW, BAND_KEYS };
static const char *const band_keys[BAND_KEYS] = {"health: red", "health: yellow or red"};

/* Interned names: rules and owners. */
struct names {
    char **v;
    size_t n, cap;
};

static size_t intern(struct names *l, const char *s) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return i;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n] = xstrdup(s);
    return l->n++;
}

static void names_free(struct names *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

struct churn {
    int64_t account;
    int32_t day;
};

struct churns {
    struct churn *v;
    size_t n, cap;
};

static void on_outcome(void *arg, const struct store_outcome *o) {
    struct churns *l = arg;
    if (!o->churned)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (struct churn){o->account_id, dt_day_of_ms(o->ts_ms)};
}

static int by_account_day(const void *x, const void *y) {
    const struct churn *a = x, *b = y;
    if (a->account != b->account)
        return a->account < b->account ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

/* Whether account churned on a day in (day, day + horizon]. */
static bool churned_within(const struct churns *l, int64_t account, int32_t day, int horizon) {
    struct churn key = {account, day + 1};
    size_t lo = 0, hi = l->n;
    while (lo < hi) { /* the first churn at or after (account, day + 1) */
        size_t mid = (lo + hi) / 2;
        if (by_account_day(&l->v[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->v[lo].account == account && l->v[lo].day <= day + horizon;
}

struct alert {
    size_t key; /* a rule's index in names, or a band key; numbered as rows later */
    bool band;
    int64_t account;
    int32_t day;
    size_t owner; /* a band's: none */
};

struct replay {
    const struct backtest_options *o;
    struct names rules, owners;
    struct alert *v;
    size_t n, cap;
    int32_t day;
    /* Each account's band on the day before (BAND_NONE: no score). */
    enum health_band *band;
    size_t band_len;
    /* The base rate: accounts scored on days of the period, and how many of
     * them churned within the horizon. */
    const struct churns *churns;
    int64_t scored_days, scored_days_churned;
};

static void add_alert(struct replay *p, struct alert a) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->v = xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = a;
}

static void on_change(void *arg, const struct eval_change *c, const char *error,
                      const char *account) {
    struct replay *p = arg;
    if (!c || strcmp(c->action, "open") != 0)
        return;
    add_alert(p, (struct alert){.key = intern(&p->rules, c->cta->rule),
                                .account = c->cta->account_id,
                                .day = p->day,
                                .owner = intern(&p->owners, c->cta->owner ? c->cta->owner : "")});
}

/* Band entries of the day just evaluated, from its stored scores. */
static void bands_of_day(struct replay *p, const struct eval_day_scores *d) {
    if (d->len > p->band_len) {
        p->band = xrealloc(p->band, d->len * sizeof *p->band);
        for (size_t i = p->band_len; i < d->len; i++)
            p->band[i] = BAND_NONE;
        p->band_len = d->len;
    }
    for (size_t id = 0; id < p->band_len; id++) {
        double overall;
        enum health_band now = BAND_NONE;
        if (eval_day_score(d, (int64_t)id, &overall))
            now = health_band_of(p->o->hc, overall);
        enum health_band before = p->band[id];
        if (now != BAND_NONE && p->day >= p->o->from) {
            p->scored_days++;
            p->scored_days_churned += churned_within(p->churns, (int64_t)id, p->day, p->o->horizon);
        }
        if (now == BAND_RED && before != BAND_RED)
            add_alert(p, (struct alert){BAND_KEY_RED, true, (int64_t)id, p->day, 0});
        if ((now == BAND_RED || now == BAND_YELLOW) && before != BAND_RED && before != BAND_YELLOW)
            add_alert(p, (struct alert){BAND_KEY_YELLOW, true, (int64_t)id, p->day, 0});
        p->band[id] = now;
    }
}

/* ---- the replay ------------------------------------------------------------ */

static enum tend_err replay(struct store *copy, struct replay *p, int64_t *accounts, char *err) {
    int refreshed;
    enum tend_err e = eval_refresh_rollups(copy, &refreshed);
    if (!e && !(e = store_begin(copy, NULL))) {
        e = store_ctas_reset(copy);
        e = e ? e : store_commit(copy);
        if (e)
            store_rollback(copy);
    }
    for (int32_t day = p->o->from - BACKTEST_WARMUP_DAYS; !e && day <= p->o->to; day++) {
        struct eval_summary sum;
        p->day = day;
        e = eval_ctas_day(copy, p->o->hc, p->o->rc, NULL, day, on_change, p, &sum);
        struct eval_day_scores d;
        if (!e && !(e = eval_day_scores_load(copy, day, p->o->hc->version, &d))) {
            bands_of_day(p, &d);
            eval_day_scores_free(&d);
        }
        if (!e)
            *accounts = sum.accounts;
    }
    if (e)
        snprintf(err, BACKTEST_ERR_BYTES, "replaying: %s", store_last_error(copy));
    return e;
}

/* Copies the database to a fresh directory under $TMPDIR and replays there. */
static enum tend_err replay_in_copy(struct store *s, struct replay *p, int64_t *accounts,
                                    char *err) {
    GError *gerr = NULL;
    char *dir = g_dir_make_tmp("tend-backtest-XXXXXX", &gerr); /* in $TMPDIR, else /tmp */
    if (!dir) {
        snprintf(err, BACKTEST_ERR_BYTES, "cannot make a directory for the copy: %s",
                 gerr->message);
        g_error_free(gerr);
        return TEND_ERR_IO;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/copy.db", dir);
    enum tend_err e = store_copy_to(s, path);
    if (e)
        snprintf(err, BACKTEST_ERR_BYTES, "copying the database to %s: %s", path,
                 store_last_error(s));
    struct store *copy = NULL;
    if (!e && (e = store_open(path, &copy, err)) == TEND_OK)
        e = replay(copy, p, accounts, err);
    store_close(copy);
    static const char *const files[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char f[PATH_MAX + 16];
        snprintf(f, sizeof f, "%s%s", path, files[i]);
        unlink(f);
    }
    rmdir(dir);
    g_free(dir);
    return e;
}

/* ---- scoring the alerts ------------------------------------------------------- */

static int by_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, size_t n) {
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int by_account_then_day(const void *x, const void *y) {
    const struct alert *a = x, *b = y;
    if (a->account != b->account)
        return a->account < b->account ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

/* The first alert of account in p->v, sorted by account and day. */
static size_t first_alert(const struct replay *p, int64_t account) {
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->v[mid].account < account)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether alert a counts for row key (any: every rule's alerts). */
static bool key_matches(const struct alert *a, size_t key, size_t any) {
    return key == any ? !a->band : a->key == key;
}

/* One row: the alerts of key. p->v is sorted by account and day. */
static void score_key(const struct replay *p, const struct churns *l, size_t key, size_t any,
                      struct backtest_row *row) {
    const struct backtest_options *o = p->o;
    for (size_t i = 0; i < p->n; i++) {
        const struct alert *a = &p->v[i];
        if (!key_matches(a, key, any) || a->day < o->from)
            continue;
        row->raised++;
        row->raised_churned += churned_within(l, a->account, a->day, o->horizon);
    }
    row->precision = row->raised ? (double)row->raised_churned / (double)row->raised : NAN;
    row->leads = xmalloc((l->n ? l->n : 1) * sizeof *row->leads);
    for (size_t c = 0; c < l->n; c++) {
        const struct churn *ch = &l->v[c];
        if (ch->day <= o->from || ch->day > o->to + 1)
            continue;
        row->churners++;
        /* The account's alerts in day order: the first in the horizon before
         * the churn is the earliest warning. */
        for (size_t i = first_alert(p, ch->account);
             i < p->n && p->v[i].account == ch->account && p->v[i].day < ch->day; i++) {
            const struct alert *a = &p->v[i];
            if (key_matches(a, key, any) && a->day >= ch->day - o->horizon) {
                row->warned++;
                row->leads[row->n_leads++] = ch->day - a->day;
                break;
            }
        }
    }
    row->recall = row->churners ? (double)row->warned / (double)row->churners : NAN;
    double *sorted = xmalloc((row->n_leads ? row->n_leads : 1) * sizeof *sorted);
    memcpy(sorted, row->leads, row->n_leads * sizeof *sorted);
    row->median_lead = median(sorted, row->n_leads);
    free(sorted);
}

static int by_name(const void *x, const void *y) {
    const struct backtest_row *a = x, *b = y;
    return strcmp(a->name, b->name);
}

static int by_raised(const void *x, const void *y) {
    const struct backtest_owner *a = x, *b = y;
    if (a->raised != b->raised)
        return a->raised > b->raised ? -1 : 1;
    return strcmp(a->owner, b->owner);
}

static void score_all(struct replay *p, const struct churns *l, struct backtest_result *r) {
    size_t n_rules = p->rules.n;
    /* Rows: the rules, then the bands, then any rule. */
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].band)
            p->v[i].key += n_rules;
    if (p->n > 1)
        qsort(p->v, p->n, sizeof *p->v, by_account_then_day);
    size_t any = n_rules + BAND_KEYS;
    r->n_rows = any + 1;
    r->rows = xcalloc(r->n_rows, sizeof *r->rows);
    for (size_t k = 0; k <= any; k++) {
        r->rows[k].name = xstrdup(k < n_rules ? p->rules.v[k]
                                  : k < any   ? band_keys[k - n_rules]
                                              : "any rule");
        score_key(p, l, k, any, &r->rows[k]);
    }
    qsort(r->rows, n_rules, sizeof *r->rows, by_name);
    r->churners = r->rows[any].churners;
    r->n_owners = p->owners.n;
    r->owners = xcalloc(r->n_owners ? r->n_owners : 1, sizeof *r->owners);
    for (size_t k = 0; k < p->owners.n; k++)
        r->owners[k].owner = xstrdup(*p->owners.v[k] ? p->owners.v[k] : "(none)");
    for (size_t i = 0; i < p->n; i++)
        if (!p->v[i].band && p->v[i].day >= p->o->from)
            r->owners[p->v[i].owner].raised++;
    for (size_t k = 0; k < r->n_owners; k++)
        r->owners[k].per_week = (double)r->owners[k].raised / r->weeks;
    qsort(r->owners, r->n_owners, sizeof *r->owners, by_raised);
}

enum tend_err backtest_run(struct store *s, const struct backtest_options *o,
                           struct backtest_result *out, char *err) {
    memset(out, 0, sizeof *out);
    out->o = *o;
    out->weeks = (double)(o->to - o->from + 1) / 7.0;
    int64_t start = dt_now_ms();
    struct churns l = {0};
    struct replay p = {.o = o, .churns = &l};
    /* Churns that alerts in the period may precede, and that the period's
     * churners are. */
    enum tend_err e =
        store_outcomes_each(s, (int64_t)o->from * DT_MS_PER_DAY,
                            (int64_t)(o->to + 2 + o->horizon) * DT_MS_PER_DAY, on_outcome, &l);
    if (e)
        snprintf(err, BACKTEST_ERR_BYTES, "reading the outcomes: %s", store_last_error(s));
    if (!e && l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, by_account_day);
    if (!e)
        e = replay_in_copy(s, &p, &out->accounts, err);
    if (!e) {
        out->base_rate =
            p.scored_days ? (double)p.scored_days_churned / (double)p.scored_days : NAN;
        score_all(&p, &l, out);
    }
    out->run_ms = dt_now_ms() - start;
    free(l.v);
    free(p.v);
    free(p.band);
    names_free(&p.rules);
    names_free(&p.owners);
    return e;
}

void backtest_result_free(struct backtest_result *r) {
    for (size_t i = 0; i < r->n_rows; i++) {
        free(r->rows[i].name);
        free(r->rows[i].leads);
    }
    free(r->rows);
    for (size_t i = 0; i < r->n_owners; i++)
        free(r->owners[i].owner);
    free(r->owners);
    memset(r, 0, sizeof *r);
}
