/* process.c: the team's process metrics (see process.h). */
#include "analysis/process.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cta.h"
#include "core/note.h"
#include "core/plan.h"
#include "util/datetime.h"
#include "util/mem.h"

const char *const process_columns[PROCESS_COLUMNS] = {"group",           "week",
                                                      "opened",          "acted",
                                                      "median_days",     "median_lcl",
                                                      "median_ucl",      "median_signal",
                                                      "p90_days",        "closed_by_person",
                                                      "auto_resolved",   "expired",
                                                      "churned",         "live",
                                                      "overdue",         "overdue_share",
                                                      "overdue_lcl",     "overdue_ucl",
                                                      "overdue_signal",  "contacts",
                                                      "accounts",        "contacts_per_account",
                                                      "contacts_lcl",    "contacts_ucl",
                                                      "contacts_signal", "accounts_touched_4w",
                                                      "coverage_4w"};

/* ---- pure computation ------------------------------------------------------- */

/* numpy.percentile(v, q) with its default (linear) interpolation; v sorted. */
static double percentile(const double *v, size_t n, double q) {
    double pos = q / 100 * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}

/* XmR limits over the points with a value, in week order. */
static void xmr(struct process_point *p, size_t n) {
    double sum = 0, mr = 0, prev = 0;
    size_t k = 0, k_mr = 0;
    for (size_t i = 0; i < n; i++) {
        if (!p[i].has)
            continue;
        if (k > 0) {
            mr += fabs(p[i].v - prev);
            k_mr++;
        }
        prev = p[i].v;
        sum += p[i].v;
        k++;
    }
    if (k_mr == 0)
        return;
    double centre = sum / (double)k, width = 2.66 * mr / (double)k_mr;
    for (size_t i = 0; i < n; i++) {
        p[i].has_limits = true;
        p[i].lcl = centre - width;
        p[i].ucl = centre + width;
        p[i].signal = p[i].has && (p[i].v < p[i].lcl || p[i].v > p[i].ucl);
    }
}

/* p-chart limits of the overdue share over a group's weeks. */
static void p_chart(struct process_row *rows, size_t n) {
    int64_t k = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        k += rows[i].overdue;
        m += rows[i].opened;
    }
    if (m == 0)
        return;
    double p = (double)k / (double)m;
    for (size_t i = 0; i < n; i++) {
        struct process_point *x = &rows[i].overdue_share;
        if (!rows[i].opened)
            continue;
        double half = 3 * sqrt(p * (1 - p) / (double)rows[i].opened);
        x->has_limits = true;
        x->lcl = fmax(0, p - half);
        x->ucl = fmin(1, p + half);
        x->signal = x->v < x->lcl || x->v > x->ucl;
    }
}

/* The week index of day from from_week (floor: days before it are < 0). */
static int week_of(int32_t day, int32_t from_week) {
    int32_t d = day - from_week;
    return (int)(d >= 0 ? d / 7 : -((-d + 6) / 7));
}

/* An acted-on CTA's days to its first action, by row. */
struct row_days {
    size_t row;
    double days;
};

static int cmp_row_days(const void *a, const void *b) {
    const struct row_days *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->days < y->days ? -1 : x->days > y->days;
}

/* A touch by (group, account, week), for the distinct accounts of each
 * four-week window. */
struct touch_key {
    size_t group;
    int64_t account;
    int week;
};

static int cmp_touch_key(const void *a, const void *b) {
    const struct touch_key *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->account != y->account)
        return x->account < y->account ? -1 : 1;
    return (x->week > y->week) - (x->week < y->week);
}

/* One pass over the CTAs and one over the touches, each counted into its
 * week's row of the team (group 0) and of its owner (group owner + 1):
 * linear in the records, whatever the number of owners and weeks. */
struct process_row *process_compute(const struct process_input *in, size_t *n) {
    int weeks = (in->to_week - in->from_week) / 7 + 1;
    size_t groups = (size_t)in->n_owners + 1, W = (size_t)weeks;
    struct process_row *rows = xcalloc(groups * W, sizeof *rows);
    for (size_t g = 0; g < groups; g++)
        for (int k = 0; k < weeks; k++) {
            struct process_row *r = &rows[g * W + (size_t)k];
            r->owner = (int)g - 1;
            r->week = in->from_week + 7 * k;
            r->p90_days = NAN;
            r->coverage_4w = NAN;
            for (int o = 0; o < in->n_owners; o++)
                if (g == 0 || (size_t)o + 1 == g)
                    r->accounts += in->accounts_of[o];
        }
    struct row_days *days = xcalloc(2 * in->n_ctas + 1, sizeof *days);
    size_t n_days = 0;
    for (size_t i = 0; i < in->n_ctas; i++) {
        const struct process_cta *c = &in->ctas[i];
        int w = week_of(c->opened_day, in->from_week);
        if (w < 0 || w >= weeks)
            continue;
        size_t both[2] = {(size_t)w, ((size_t)c->owner + 1) * W + (size_t)w};
        bool acted = c->first_action_day != INT32_MAX;
        for (int j = 0; j < 2; j++) {
            struct process_row *r = &rows[both[j]];
            r->opened++;
            if (acted) {
                r->acted++;
                days[n_days++] =
                    (struct row_days){both[j], (double)(c->first_action_day - c->opened_day)};
            }
            if (c->status != CTA_CLOSED)
                r->live++;
            else if (c->closed_reason == CTA_RESOLVED || c->closed_reason == CTA_NOT_RELEVANT)
                r->closed_by_person++;
            else if (c->closed_reason == CTA_AUTO_RESOLVED)
                r->auto_resolved++;
            else if (c->closed_reason == CTA_EXPIRED)
                r->expired++;
            else
                r->churned++;
            if (acted ? c->first_action_day > c->due_day : c->due_day < in->as_of)
                r->overdue++;
        }
    }
    if (n_days)
        qsort(days, n_days, sizeof *days, cmp_row_days);
    double *v = xcalloc(n_days + 1, sizeof *v);
    for (size_t i = 0; i < n_days;) {
        size_t j = i;
        while (j < n_days && days[j].row == days[i].row) {
            v[j - i] = days[j].days;
            j++;
        }
        struct process_row *r = &rows[days[i].row];
        r->median_days = (struct process_point){.has = true, .v = percentile(v, j - i, 50)};
        r->p90_days = percentile(v, j - i, 90);
        i = j;
    }
    struct touch_key *keys = xcalloc(2 * in->n_touches + 1, sizeof *keys);
    size_t n_keys = 0;
    for (size_t i = 0; i < in->n_touches; i++) {
        const struct process_touch *t = &in->touches[i];
        int w = week_of(t->day, in->from_week);
        if (w < -3 || w >= weeks)
            continue;
        size_t g2[2] = {0, (size_t)t->owner + 1};
        for (int j = 0; j < 2; j++) {
            if (t->contact && w >= 0)
                rows[g2[j] * W + (size_t)w].contacts++;
            keys[n_keys++] = (struct touch_key){g2[j], t->account_id, w};
        }
    }
    if (n_keys)
        qsort(keys, n_keys, sizeof *keys, cmp_touch_key);
    /* A touch in week k is in the windows of rows k..k+3: each account once
     * per row. */
    for (size_t i = 0; i < n_keys;) {
        size_t j = i;
        int marked = INT32_MIN;
        while (j < n_keys && keys[j].group == keys[i].group && keys[j].account == keys[i].account) {
            int from = keys[j].week > marked ? keys[j].week : marked + 1;
            for (int w = from < 0 ? 0 : from; w <= keys[j].week + 3 && w < weeks; w++)
                rows[keys[i].group * W + (size_t)w].accounts_touched_4w++;
            if (keys[j].week + 3 > marked)
                marked = keys[j].week + 3;
            j++;
        }
        i = j;
    }
    struct process_point *pts = xcalloc(W, sizeof *pts);
    for (size_t g = 0; g < groups; g++) {
        struct process_row *gr = &rows[g * W];
        for (int k = 0; k < weeks; k++) {
            struct process_row *r = &gr[k];
            if (r->opened)
                r->overdue_share = (struct process_point){
                    .has = true, .v = (double)r->overdue / (double)r->opened};
            if (r->accounts) {
                r->coverage_4w = (double)r->accounts_touched_4w / (double)r->accounts;
                r->contacts_per_account = (struct process_point){
                    .has = true, .v = (double)r->contacts / (double)r->accounts};
            }
        }
        p_chart(gr, W);
        for (int which = 0; which < 2; which++) {
            for (int k = 0; k < weeks; k++)
                pts[k] = which ? gr[k].contacts_per_account : gr[k].median_days;
            xmr(pts, W);
            for (int k = 0; k < weeks; k++)
                *(which ? &gr[k].contacts_per_account : &gr[k].median_days) = pts[k];
        }
    }
    free(days);
    free(v);
    free(keys);
    free(pts);
    *n = groups * W;
    return rows;
}

/* ---- reading the store ------------------------------------------------------------ */

struct owners {
    char **names;
    int n;
    int64_t *accounts;
};

static int owner_index(struct owners *o, const char *name) {
    if (!name || !name[0])
        name = "(none)";
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->names[i], name) == 0)
            return i;
    o->names = xrealloc(o->names, (size_t)(o->n + 1) * sizeof *o->names);
    o->accounts = xrealloc(o->accounts, (size_t)(o->n + 1) * sizeof *o->accounts);
    o->names[o->n] = xstrdup(name);
    o->accounts[o->n] = 0;
    return o->n++;
}

/* An account's owner now, by id (sorted for search). */
struct acct_owner {
    int64_t id;
    int owner;
};

struct reading {
    struct owners owners;
    struct acct_owner *acct;
    size_t n_acct;
    struct process_cta *ctas;
    int64_t *cta_ids; /* the CTAs' ids and accounts, in ctas' order */
    int64_t *cta_accounts;
    size_t n_ctas;
    struct process_touch *touches;
    size_t n_touches, cap_touches;
};

static int on_account(void *arg, const struct store_account_row *row) {
    struct reading *r = arg;
    r->acct = xrealloc(r->acct, (r->n_acct + 1) * sizeof *r->acct);
    int o = owner_index(&r->owners, row->f.csm_email);
    r->acct[r->n_acct++] = (struct acct_owner){row->id, o};
    r->owners.accounts[o]++;
    return 0;
}

static int cmp_acct(const void *a, const void *b) {
    const struct acct_owner *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int owner_of_account(const struct reading *r, int64_t id) {
    struct acct_owner key = {id, 0};
    const struct acct_owner *f =
        r->n_acct ? bsearch(&key, r->acct, r->n_acct, sizeof key, cmp_acct) : NULL;
    return f ? f->owner : -1;
}

static int on_cta(void *arg, const struct store_cta *c) {
    struct reading *r = arg;
    size_t i = r->n_ctas++;
    r->ctas = xrealloc(r->ctas, r->n_ctas * sizeof *r->ctas);
    r->cta_ids = xrealloc(r->cta_ids, r->n_ctas * sizeof *r->cta_ids);
    r->cta_accounts = xrealloc(r->cta_accounts, r->n_ctas * sizeof *r->cta_accounts);
    r->ctas[i] = (struct process_cta){.owner = owner_index(&r->owners, c->owner),
                                      .opened_day = c->opened_day,
                                      .due_day = c->due_day,
                                      .status = c->status,
                                      .closed_reason = c->has_closed ? c->closed_reason : -1,
                                      .first_action_day = INT32_MAX};
    r->cta_ids[i] = c->id;
    r->cta_accounts[i] = c->account_id;
    return 0;
}

static void touch_add(struct reading *r, int64_t account_id, int32_t day, bool contact) {
    int owner = owner_of_account(r, account_id);
    if (owner < 0)
        return;
    if (r->n_touches == r->cap_touches) {
        r->cap_touches = r->cap_touches ? r->cap_touches * 2 : 256;
        r->touches = xrealloc(r->touches, r->cap_touches * sizeof *r->touches);
    }
    r->touches[r->n_touches++] = (struct process_touch){owner, account_id, day, contact};
}

/* The CTAs sorted by id for the histories: an index by id. */
struct by_id {
    int64_t id;
    size_t i;
};

struct actions {
    struct reading *r;
    struct by_id *index;
};

static int cmp_by_id(const void *a, const void *b) {
    const struct by_id *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void on_action(void *arg, const struct store_cta_action *a) {
    struct actions *x = arg;
    if (!a->actor || strcmp(a->actor, STORE_ACTOR_TEND) == 0)
        return;
    struct by_id key = {a->cta_id, 0};
    struct by_id *f =
        x->r->n_ctas ? bsearch(&key, x->index, x->r->n_ctas, sizeof key, cmp_by_id) : NULL;
    if (f && a->day < x->r->ctas[f->i].first_action_day)
        x->r->ctas[f->i].first_action_day = a->day;
    touch_add(x->r, a->account_id, a->day, false);
}

static int on_note(void *arg, const struct store_note *n) {
    enum note_kind k = NOTE_NOTE;
    note_kind_parse(n->kind, &k);
    touch_add(arg, n->account_id, n->day, note_kind_outreach(k));
    return 0;
}

static void on_outreach(void *arg, int64_t account_id, int64_t ts_ms) {
    touch_add(arg, account_id, dt_day_of_ms(ts_ms), true);
}

enum tend_err process_run(struct store *s, int32_t from, int32_t to, int32_t as_of,
                          struct process_report *out, char *err) {
    memset(out, 0, sizeof *out);
    struct reading r = {0};
    struct store_cta_filter all = {0};
    struct store_note_filter notes = {0};
    out->from_week = plan_week_start(from);
    out->to_week = plan_week_start(to);
    out->as_of = as_of;
    struct by_id *index = NULL;
    enum tend_err e = store_accounts_brief_each(s, on_account, &r);
    if (r.n_acct)
        qsort(r.acct, r.n_acct, sizeof *r.acct, cmp_acct);
    if (!e)
        e = store_ctas_each(s, &all, on_cta, &r);
    if (!e) {
        index = xcalloc(r.n_ctas ? r.n_ctas : 1, sizeof *index);
        for (size_t i = 0; i < r.n_ctas; i++)
            index[i] = (struct by_id){r.cta_ids[i], i};
        if (r.n_ctas)
            qsort(index, r.n_ctas, sizeof *index, cmp_by_id);
        struct actions x = {&r, index};
        e = store_cta_actions_each(s, on_action, &x);
    }
    if (!e)
        e = store_notes_each(s, &notes, on_note, &r);
    if (!e)
        e = store_outreach_each(s, (int64_t)(out->from_week - 21) * DT_MS_PER_DAY,
                                (int64_t)(out->to_week + 7) * DT_MS_PER_DAY, on_outreach, &r);
    if (e) {
        snprintf(err, PROCESS_ERR_BYTES, "%s", store_last_error(s));
    } else {
        struct process_input in = {.owners = (const char *const *)r.owners.names,
                                   .n_owners = r.owners.n,
                                   .accounts_of = r.owners.accounts,
                                   .ctas = r.ctas,
                                   .n_ctas = r.n_ctas,
                                   .touches = r.touches,
                                   .n_touches = r.n_touches,
                                   .from_week = out->from_week,
                                   .to_week = out->to_week,
                                   .as_of = as_of};
        out->rows = process_compute(&in, &out->n_rows);
        out->owners = r.owners.names;
        out->n_owners = r.owners.n;
        r.owners.names = NULL;
    }
    for (int i = 0; r.owners.names && i < r.owners.n; i++)
        free(r.owners.names[i]);
    free(r.owners.names);
    free(r.owners.accounts);
    free(r.acct);
    free(r.ctas);
    free(r.cta_ids);
    free(r.cta_accounts);
    free(r.touches);
    free(index);
    return e;
}

void process_report_free(struct process_report *r) {
    if (!r)
        return;
    for (int i = 0; i < r->n_owners; i++)
        free(r->owners[i]);
    free(r->owners);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

/* ---- output ---------------------------------------------------------------------- */

void process_row_cells(const struct process_report *r, const struct process_row *row,
                       char cells[PROCESS_COLUMNS][64], bool present[PROCESS_COLUMNS]) {
    int k = 0;
#define CELL(has, ...)                                                                             \
    do {                                                                                           \
        present[k] = (has);                                                                        \
        if (present[k])                                                                            \
            snprintf(cells[k], 64, __VA_ARGS__);                                                   \
        else                                                                                       \
            cells[k][0] = '\0';                                                                    \
        k++;                                                                                       \
    } while (0)
    char week[16];
    dt_format_date(row->week, week);
    CELL(true, "%s", row->owner < 0 ? PROCESS_TEAM : r->owners[row->owner]);
    CELL(true, "%s", week);
    CELL(true, "%lld", (long long)row->opened);
    CELL(true, "%lld", (long long)row->acted);
    const struct process_point *m = &row->median_days;
    CELL(m->has, "%.10g", m->v);
    CELL(m->has_limits, "%.10g", m->lcl);
    CELL(m->has_limits, "%.10g", m->ucl);
    CELL(m->has_limits && m->has, "%s", m->signal ? "true" : "false");
    CELL(!isnan(row->p90_days), "%.10g", row->p90_days);
    CELL(true, "%lld", (long long)row->closed_by_person);
    CELL(true, "%lld", (long long)row->auto_resolved);
    CELL(true, "%lld", (long long)row->expired);
    CELL(true, "%lld", (long long)row->churned);
    CELL(true, "%lld", (long long)row->live);
    CELL(true, "%lld", (long long)row->overdue);
    const struct process_point *o = &row->overdue_share;
    CELL(o->has, "%.10g", o->v);
    CELL(o->has_limits, "%.10g", o->lcl);
    CELL(o->has_limits, "%.10g", o->ucl);
    CELL(o->has_limits && o->has, "%s", o->signal ? "true" : "false");
    CELL(true, "%lld", (long long)row->contacts);
    CELL(true, "%lld", (long long)row->accounts);
    const struct process_point *c = &row->contacts_per_account;
    CELL(c->has, "%.10g", c->v);
    CELL(c->has_limits, "%.10g", c->lcl);
    CELL(c->has_limits, "%.10g", c->ucl);
    CELL(c->has_limits && c->has, "%s", c->signal ? "true" : "false");
    CELL(true, "%lld", (long long)row->accounts_touched_4w);
    CELL(!isnan(row->coverage_4w), "%.10g", row->coverage_4w);
#undef CELL
}

cJSON *process_json(const struct process_report *r) {
    cJSON *o = cJSON_CreateObject();
    char d[16];
    dt_format_date(r->as_of, d);
    cJSON_AddStringToObject(o, "as_of", d);
    dt_format_date(r->from_week, d);
    cJSON_AddStringToObject(o, "from_week", d);
    dt_format_date(r->to_week, d);
    cJSON_AddStringToObject(o, "to_week", d);
    cJSON_AddStringToObject(o, "charts",
                            "overdue_share: p-chart, p +- 3 sqrt(p(1-p)/n); median_days and "
                            "contacts_per_account: XmR, mean +- 2.66 x mean moving range");
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    char cells[PROCESS_COLUMNS][64];
    bool present[PROCESS_COLUMNS];
    for (size_t i = 0; i < r->n_rows; i++) {
        process_row_cells(r, &r->rows[i], cells, present);
        cJSON *j = cJSON_CreateObject();
        for (int k = 0; k < PROCESS_COLUMNS; k++) {
            if (!present[k])
                cJSON_AddNullToObject(j, process_columns[k]);
            else if (k < 2)
                cJSON_AddStringToObject(j, process_columns[k], cells[k]);
            else if (strcmp(cells[k], "true") == 0 || strcmp(cells[k], "false") == 0)
                cJSON_AddBoolToObject(j, process_columns[k], cells[k][0] == 't');
            else
                cJSON_AddNumberToObject(j, process_columns[k], strtod(cells[k], NULL));
        }
        cJSON_AddItemToArray(rows, j);
    }
    return o;
}
