/* views_portfolio.c: the portfolio at a glance (GET /api/portfolio and the
 * header of the accounts page, docs/dashboard.md "Portfolio"):
 *
 * - ARR by health band of the latest scored day (ARR: 12 x MRR, the same
 *   yearly figure the rules' values use when an account has no arr trait);
 * - ARR at risk: the churn-risk model's expected loss, p_churn x ARR summed
 *   over the accounts it scored on its latest day, when a model scores;
 *   otherwise the ARR of the red accounts (basis says which);
 * - the accounts whose band changed this week: the band of the scored day
 *   against the band 7 days before, worse (green to yellow or red, yellow
 *   to red) and better, the 20 with the most ARR named.
 * Cost: two reads of every account's brief and one of the risk rows, O(the
 * accounts), once per request of the accounts page's first view. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/views.h"
#include "server/views_int.h"
#include "util/mem.h"

#define PORTFOLIO_NAMED 20

static int band_index(const char *band) {
    if (!band)
        return 3;
    if (!strcmp(band, "red"))
        return 0;
    if (!strcmp(band, "yellow"))
        return 1;
    if (!strcmp(band, "green"))
        return 2;
    return 3;
}

struct moved {
    char *id, *name;
    int from, to;
    double arr;
};

struct portfolio {
    double arr[4];
    int64_t count[4];
    double red_arr;
    GHashTable *before; /* account id -> band index + 1 */
    struct moved *moved;
    size_t n_moved, cap_moved;
    int64_t worse, better;
    double at_risk;
    int64_t risk_rows;
};

static void on_before(void *arg, const struct store_account_brief *b) {
    struct portfolio *p = arg;
    int k = band_index(b->has_score ? b->band : NULL);
    if (k < 3)
        g_hash_table_insert(p->before, g_memdup2(&b->id, sizeof b->id), GINT_TO_POINTER(k + 1));
}

static void on_now(void *arg, const struct store_account_brief *b) {
    struct portfolio *p = arg;
    int k = band_index(b->has_score ? b->band : NULL);
    double arr = b->has_mrr && isfinite(b->mrr) ? 12 * b->mrr : 0;
    p->arr[k] += arr;
    p->count[k]++;
    if (k == 3)
        return;
    int was = GPOINTER_TO_INT(g_hash_table_lookup(p->before, &b->id)) - 1;
    if (was < 0 || was == k)
        return;
    if (k < was)
        p->worse++;
    else
        p->better++;
    if (p->n_moved == p->cap_moved) {
        p->cap_moved = p->cap_moved ? p->cap_moved * 2 : 64;
        p->moved = xrealloc(p->moved, p->cap_moved * sizeof *p->moved);
    }
    p->moved[p->n_moved++] = (struct moved){
        .id = xstrdup(b->external_id ? b->external_id : ""),
        .name = b->name ? xstrdup(b->name) : NULL,
        .from = was,
        .to = k,
        .arr = arr,
    };
}

static void on_risk(void *arg, const struct store_risk_row *r) {
    struct portfolio *p = arg;
    double arr = isfinite(r->arr_trait) ? r->arr_trait : r->has_mrr ? 12 * r->mrr : NAN;
    if (isfinite(arr) && isfinite(r->r.p_churn))
        p->at_risk += r->r.p_churn * arr;
    p->risk_rows++;
}

/* Worse first, then by ARR (highest first), then id. */
static int cmp_moved(const void *a, const void *b) {
    const struct moved *x = a, *y = b;
    bool xw = x->to < x->from, yw = y->to < y->from;
    if (xw != yw)
        return xw ? -1 : 1;
    if (x->arr != y->arr)
        return x->arr > y->arr ? -1 : 1;
    return strcmp(x->id, y->id);
}

static const char *const band_names[4] = {"red", "yellow", "green", "none"};

static double cents(double v) {
    return round(v * 100) / 100;
}

enum tend_err view_portfolio(struct store *s, const struct view_env *env, cJSON **out, char *err) {
    int32_t day = 0;
    bool scored = false;
    enum tend_err e = store_scores_latest_day(s, &day, &scored);
    if (e)
        return view_store_err(s, e, err);
    cJSON *o = cJSON_CreateObject();
    view_add_date(o, "date", scored, day);
    view_add_str(o, "currency", env->rc->currency);
    if (!scored) {
        *out = o;
        return TEND_OK;
    }
    struct portfolio p = {.before =
                              g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL)};
    e = store_account_briefs(s, day - 7, on_before, &p);
    if (!e)
        e = store_account_briefs(s, day, on_now, &p);
    int32_t risk_day = 0;
    bool risked = false;
    if (!e)
        e = store_risk_latest_day(s, day, &risk_day, &risked);
    if (!e && risked)
        e = store_risk_of_day(s, risk_day, on_risk, &p);
    g_hash_table_destroy(p.before);
    if (e) {
        for (size_t i = 0; i < p.n_moved; i++) {
            free(p.moved[i].id);
            free(p.moved[i].name);
        }
        free(p.moved);
        cJSON_Delete(o);
        return view_store_err(s, e, err);
    }
    cJSON *by = cJSON_AddObjectToObject(o, "arr_by_band");
    cJSON *n = cJSON_AddObjectToObject(o, "accounts_by_band");
    double total = 0;
    for (int k = 0; k < 4; k++) {
        cJSON_AddNumberToObject(by, band_names[k], cents(p.arr[k]));
        cJSON_AddNumberToObject(n, band_names[k], (double)p.count[k]);
        total += p.arr[k];
    }
    cJSON_AddNumberToObject(o, "arr_total", cents(total));
    bool model = p.risk_rows > 0;
    cJSON_AddNumberToObject(o, "arr_at_risk", cents(model ? p.at_risk : p.arr[0]));
    cJSON_AddStringToObject(o, "arr_at_risk_basis", model ? "model" : "red_band");
    view_add_date(o, "risk_date", model, risk_day);
    cJSON *ch = cJSON_AddObjectToObject(o, "changed_band_7d");
    view_add_date(ch, "since", true, day - 7);
    cJSON_AddNumberToObject(ch, "worse", (double)p.worse);
    cJSON_AddNumberToObject(ch, "better", (double)p.better);
    if (p.n_moved) /* qsort(NULL, 0) is undefined */
        qsort(p.moved, p.n_moved, sizeof *p.moved, cmp_moved);
    cJSON *list = cJSON_AddArrayToObject(ch, "accounts");
    for (size_t i = 0; i < p.n_moved; i++) {
        if (i < PORTFOLIO_NAMED) {
            cJSON *a = cJSON_CreateObject();
            view_add_str(a, "id", p.moved[i].id);
            view_add_str(a, "name", p.moved[i].name);
            cJSON_AddStringToObject(a, "from", band_names[p.moved[i].from]);
            cJSON_AddStringToObject(a, "to", band_names[p.moved[i].to]);
            cJSON_AddNumberToObject(a, "arr", cents(p.moved[i].arr));
            cJSON_AddItemToArray(list, a);
        }
        free(p.moved[i].id);
        free(p.moved[i].name);
    }
    free(p.moved);
    *out = o;
    return TEND_OK;
}
