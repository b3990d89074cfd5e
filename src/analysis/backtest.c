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

struct churns {
    struct quality_churn *v;
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
    l->v[l->n++] = (struct quality_churn){o->account_id, dt_day_of_ms(o->ts_ms)};
}

static int by_account_day(const void *x, const void *y) {
    const struct quality_churn *a = x, *b = y;
    if (a->account != b->account)
        return a->account < b->account ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

struct alert {
    size_t key; /* a rule's index in names, or a band key; numbered as rows later */
    bool band;
    int64_t account;
    int32_t day;
    size_t owner; /* a band's: none */
    bool risk;    /* a CTA of type risk */
    struct quality_cta cta;
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
    /* A CTA's id -> 1 + its alert's index in v, to record how it ended. */
    GHashTable *by_cta;
    int64_t held_back;
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
    (void)error;
    (void)account;
    if (!c)
        return;
    if (strcmp(c->action, "open") == 0) {
        add_alert(p, (struct alert){
                         .key = intern(&p->rules, c->cta->rule),
                         .account = c->cta->account_id,
                         .day = p->day,
                         .owner = intern(&p->owners, c->cta->owner ? c->cta->owner : ""),
                         .risk = c->cta->type && strcmp(c->cta->type, "risk") == 0,
                         .cta = {.opened_day = p->day},
                     });
        g_hash_table_insert(p->by_cta, g_memdup2(&c->cta_id, sizeof c->cta_id),
                            GSIZE_TO_POINTER(p->n));
        return;
    }
    if (strcmp(c->action, "resolve") != 0 && strcmp(c->action, "close") != 0 &&
        strcmp(c->action, "expire") != 0)
        return;
    size_t at = GPOINTER_TO_SIZE(g_hash_table_lookup(p->by_cta, &c->cta_id));
    if (at == 0 || p->v[at - 1].cta.closed)
        return;
    struct quality_cta *q = &p->v[at - 1].cta;
    q->closed = true;
    q->closed_day = c->cta->has_closed ? c->cta->closed_day : p->day;
    q->auto_resolved = c->cta->has_closed && c->cta->closed_reason == CTA_AUTO_RESOLVED;
}

/* How many of a day's opens were held back: by the caps of ctas: (each
 * day a cap refuses an open), and by the owners' weekly budget (rules.budget),
 * each CTA once in its ISO week, as `tend ctas --held` lists them. The one
 * place that reads it. */
static int64_t backtest_held_back(const struct eval_summary *sum) {
    return sum->held_back + sum->held_budget_new;
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
            p->scored_days_churned += quality_churned_within(p->churns->v, p->churns->n,
                                                             (int64_t)id, p->day, p->o->horizon);
        }
        if (now == BAND_RED && before != BAND_RED)
            add_alert(
                p, (struct alert){
                       .key = BAND_KEY_RED, .band = true, .account = (int64_t)id, .day = p->day});
        if ((now == BAND_RED || now == BAND_YELLOW) && before != BAND_RED && before != BAND_YELLOW)
            add_alert(p, (struct alert){.key = BAND_KEY_YELLOW,
                                        .band = true,
                                        .account = (int64_t)id,
                                        .day = p->day});
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
        if (!e && day >= p->o->from)
            p->held_back += backtest_held_back(&sum);
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

static int by_account_then_day(const void *x, const void *y) {
    const struct alert *a = x, *b = y;
    if (a->account != b->account)
        return a->account < b->account ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

/* Which alerts a row counts. */
enum row_kind { ROW_KEY, ROW_ANY_RULE, ROW_ANY_RISK };

static bool row_matches(const struct alert *a, enum row_kind kind, size_t key) {
    switch (kind) {
    case ROW_ANY_RULE:
        return !a->band;
    case ROW_ANY_RISK:
        return !a->band && a->risk;
    default:
        return a->key == key;
    }
}

/* One row: the alerts that match it, scored by quality_score(), and the
 * flapping of its CTAs. p->v is sorted by account and day. */
static void score_row(const struct replay *p, const struct churns *l, enum row_kind kind,
                      size_t key, double base_rate, struct backtest_row *row) {
    struct quality_alert *a = xmalloc((p->n ? p->n : 1) * sizeof *a);
    struct quality_cta *c = xmalloc((p->n ? p->n : 1) * sizeof *c);
    size_t n = 0, n_ctas = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (!row_matches(&p->v[i], kind, key))
            continue;
        a[n++] = (struct quality_alert){p->v[i].account, p->v[i].day};
        row->risk |= p->v[i].risk;
        if (!p->v[i].band)
            c[n_ctas++] = p->v[i].cta;
    }
    struct quality_score q;
    quality_score(a, n, l->v, l->n, p->o->from, p->o->to, p->o->horizon, &q);
    row->raised = q.raised;
    row->raised_churned = q.raised_churned;
    row->precision = q.precision;
    row->churners = q.churners;
    row->warned = q.warned;
    row->recall = q.recall;
    row->median_lead = q.median_lead;
    row->leads = q.leads;
    row->n_leads = q.n_leads;
    row->lift = quality_lift(q.precision, base_rate);
    /* Lift measures warning of churn: an expansion or lifecycle rule is not
     * meant to, so it is never called noisy for it. */
    row->noisy = row->risk && quality_noisy(row->lift);
    quality_flapping(c, n_ctas, p->o->from, p->o->to, &row->flaps);
    free(a);
    free(c);
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

/* Keeps the CTAs for tend tune: rows are renumbered after sorting by name. */
static void keep_alerts(struct replay *p, const size_t *row_of_key, struct backtest_result *r) {
    r->alerts = xmalloc((p->n ? p->n : 1) * sizeof *r->alerts);
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].band)
            continue;
        r->alerts[r->n_alerts++] = (struct backtest_alert){
            .row = row_of_key[p->v[i].key],
            .owner = p->v[i].owner,
            .account = p->v[i].account,
            .risk = p->v[i].risk,
            .cta = p->v[i].cta,
        };
    }
    r->n_owner_names = p->owners.n;
    r->owner_names = xcalloc(p->owners.n ? p->owners.n : 1, sizeof *r->owner_names);
    for (size_t k = 0; k < p->owners.n; k++)
        r->owner_names[k] = xstrdup(p->owners.v[k]);
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
        score_row(p, l, k < any ? ROW_KEY : ROW_ANY_RULE, k, r->base_rate, &r->rows[k]);
    }
    r->risk.name = xstrdup("any risk CTA");
    score_row(p, l, ROW_ANY_RISK, 0, r->base_rate, &r->risk);
    /* Sort the rules by name, remembering where each went. */
    size_t *row_of_key = xmalloc((r->n_rows ? r->n_rows : 1) * sizeof *row_of_key);
    for (size_t k = 0; k < r->n_rows; k++)
        row_of_key[k] = k;
    qsort(r->rows, n_rules, sizeof *r->rows, by_name);
    for (size_t k = 0; k < n_rules; k++)
        for (size_t j = 0; j < n_rules; j++)
            if (strcmp(r->rows[j].name, p->rules.v[k]) == 0)
                row_of_key[k] = j;
    if (p->o->keep_alerts)
        keep_alerts(p, row_of_key, r);
    free(row_of_key);
    r->churners = r->rows[any].churners;
    r->n_owners = p->owners.n;
    r->owners = xcalloc(r->n_owners ? r->n_owners : 1, sizeof *r->owners);
    for (size_t k = 0; k < p->owners.n; k++)
        r->owners[k].owner = xstrdup(*p->owners.v[k] ? p->owners.v[k] : "(none)");
    struct quality_open *opens = xmalloc((p->n ? p->n : 1) * sizeof *opens);
    size_t n_opens = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].band || p->v[i].day < p->o->from)
            continue;
        r->owners[p->v[i].owner].raised++;
        opens[n_opens++] = (struct quality_open){p->v[i].owner, p->v[i].day};
    }
    quality_owner_weeks(opens, n_opens, p->owners.n, p->o->from, p->o->to, &r->per_owner_week);
    free(opens);
    for (size_t k = 0; k < r->n_owners; k++)
        r->owners[k].per_week = (double)r->owners[k].raised / r->weeks;
    qsort(r->owners, r->n_owners, sizeof *r->owners, by_raised);
}

static guint id_hash(gconstpointer k) {
    int64_t v = *(const int64_t *)k;
    return (guint)(v ^ (v >> 32));
}

static gboolean id_equal(gconstpointer a, gconstpointer b) {
    return *(const int64_t *)a == *(const int64_t *)b;
}

enum tend_err backtest_run(struct store *s, const struct backtest_options *o,
                           struct backtest_result *out, char *err) {
    memset(out, 0, sizeof *out);
    out->o = *o;
    out->weeks = (double)(o->to - o->from + 1) / 7.0;
    int64_t start = dt_now_ms();
    struct churns l = {0};
    struct replay p = {.o = o, .churns = &l};
    p.by_cta = g_hash_table_new_full(id_hash, id_equal, g_free, NULL);
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
        out->held_back = p.held_back;
        score_all(&p, &l, out);
        if (o->keep_alerts) {
            out->churns = l.v;
            out->n_churns = l.n;
            l.v = NULL;
        }
    }
    out->run_ms = dt_now_ms() - start;
    g_hash_table_destroy(p.by_cta);
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
    free(r->risk.name);
    free(r->risk.leads);
    for (size_t i = 0; i < r->n_owners; i++)
        free(r->owners[i].owner);
    free(r->owners);
    free(r->alerts);
    for (size_t i = 0; i < r->n_owner_names; i++)
        free(r->owner_names[i]);
    free(r->owner_names);
    free(r->churns);
    memset(r, 0, sizeof *r);
}
