/* eval.c: metrics as of T from the store (see eval.h). */
#include "eval/eval.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "core/vocab.h"
#include "util/datetime.h"
#include "util/mem.h"

struct account {
    int64_t id;
    char *external_id;
    struct metrics_acc *acc;
};

struct accounts {
    int64_t t_ms;
    struct account *v;
    size_t n, cap;
    size_t *by_id; /* account id -> index + 1 (0: not listed) */
    size_t by_id_len;
};

static int collect_account(void *arg, const struct store_account_row *r) {
    struct accounts *a = arg;
    if (r->first_seen_ms >= a->t_ms)
        return 0; /* not known yet as of T: no row */
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 256;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n].id = r->id;
    a->v[a->n].external_id = xstrdup(r->external_id);
    a->v[a->n].acc = NULL;
    a->n++;
    return 0;
}

static void index_accounts(struct accounts *a) {
    int64_t max = 0;
    for (size_t i = 0; i < a->n; i++)
        max = a->v[i].id > max ? a->v[i].id : max;
    a->by_id_len = (size_t)max + 1;
    a->by_id = xcalloc(a->by_id_len, sizeof *a->by_id);
    for (size_t i = 0; i < a->n; i++)
        a->by_id[a->v[i].id] = i + 1;
}

static void free_accounts(struct accounts *a) {
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].external_id);
        metrics_free(a->v[i].acc);
    }
    free(a->v);
    free(a->by_id);
}

static void on_activity(void *arg, const struct store_activity *x) {
    struct accounts *a = arg;
    if (x->account_id <= 0 || (size_t)x->account_id >= a->by_id_len)
        return;
    size_t i = a->by_id[x->account_id];
    if (i)
        metrics_add_activity(a->v[i - 1].acc, x->kind, x->ts_ms, x->user_id, x->name_id);
}

static void on_member(void *arg, int64_t user_id, int64_t start_ms, int64_t end_ms) {
    metrics_add_member(arg, start_ms, end_ms);
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
    struct metric_fact f = {
        .kind = x->kind,
        .ts_ms = x->ts_ms,
        .user_id = x->user_id,
        .subject = x->subject,
        .num = x->num,
        .has_num = x->has_num,
        .day = x->day,
        .has_day = x->has_day,
    };
    if (x->kind == EV_GROUP)
        group_traits(x->props, &f);
    metrics_add_fact(arg, &f);
}

/* Everything but the activity window, for one account. */
static enum tend_err gather_rest(struct store *s, struct account *a, int64_t t_ms) {
    enum tend_err err = store_account_memberships_each(s, a->id, on_member, a->acc);
    if (!err)
        err = store_facts_each(s, a->id, t_ms, on_fact, a->acc);
    if (err || metrics_window_has_login(a->acc))
        return err;
    /* The window starts at T - 35 days; no login after it was seen if the
     * latest login day on or before that day's start is all there is. */
    int64_t window_start = t_ms - METRICS_ACTIVITY_DAYS * DT_MS_PER_DAY;
    int32_t day;
    bool found;
    err = store_login_day_last(s, a->id, dt_day_of_ms(window_start), &day, &found);
    if (!err && found)
        metrics_set_earlier_login_day(a->acc, day);
    return err;
}

enum tend_err eval_metrics(struct store *s, int64_t t_ms, const char *account, eval_metrics_fn fn,
                           void *arg) {
    struct accounts a = {.t_ms = t_ms};
    enum tend_err err;
    if (account) {
        int64_t id;
        if ((err = store_account_find(s, account, &id)))
            return err;
    }
    /* Accounts not known yet as of T (first seen at or after T) get no row. */
    if ((err = store_accounts_each(s, collect_account, &a))) {
        free_accounts(&a);
        return err;
    }
    if (account) {
        size_t keep = 0;
        for (size_t k = 0; k < a.n; k++) {
            if (strcmp(a.v[k].external_id, account) == 0)
                a.v[keep++] = a.v[k];
            else
                free(a.v[k].external_id);
        }
        a.n = keep;
        if (keep == 0) {
            free_accounts(&a);
            return TEND_OK;
        }
    }
    index_accounts(&a);
    for (size_t i = 0; i < a.n; i++)
        a.v[i].acc = metrics_new(t_ms);
    int64_t from = t_ms - METRICS_ACTIVITY_DAYS * DT_MS_PER_DAY;
    err = store_activity_each(s, account ? a.v[0].id : 0, from, t_ms, on_activity, &a);
    for (size_t i = 0; !err && i < a.n; i++) {
        err = gather_rest(s, &a.v[i], t_ms);
        if (err)
            break;
        struct metrics m;
        metrics_finish(a.v[i].acc, &m);
        if (fn(arg, a.v[i].id, a.v[i].external_id, &m))
            break;
    }
    free_accounts(&a);
    return err;
}
