/* metrics.c: SPEC 3 account metrics (see metrics.h).
 *
 * Activity (logins, feature events) arrives in any order and is folded into
 * counters at once; only the ids needed for distinct counts are kept. Facts
 * arrive in time order, so "latest" rules (a ticket's state, the card on file,
 * the reply that answers outreach, a trait's value) are a left fold; those
 * that group by an id (tickets, invoices, each user's NPS answer) keep a small
 * array and sort it at the end. Everything is per account and bounded by that
 * account's data, never by the database. */
#include "core/metrics.h"

#include <stdlib.h>
#include <string.h>

#include "core/vocab.h"
#include "util/datetime.h"
#include "util/mem.h"

const char *const metrics_columns[] = {
    "users",
    "active_users_30d",
    "logins_7d",
    "logins_prev_28d",
    "days_since_login",
    "feature_events_7d",
    "feature_events_prev_28d",
    "features_used_30d",
    "nps",
    "nps_responses_90d",
    "tickets_open",
    "tickets_30d",
    "overdue_invoices",
    "overdue_amount",
    "max_days_overdue",
    "card_days_left",
    "renewal_days_left",
    "seats",
    "seat_utilization",
    "outreach_unanswered",
    "days_since_reply",
    "mrr",
};
const int metrics_column_count = sizeof metrics_columns / sizeof metrics_columns[0];

/* A growable array of fixed-size items. */
struct vec {
    void *items;
    size_t n, cap, size;
};

static void *vec_push(struct vec *v) {
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = xrealloc(v->items, v->cap * v->size);
    }
    return (char *)v->items + v->size * v->n++;
}

struct nps_answer {
    int64_t user_id;
    int64_t ts_ms;
    size_t seq;
    double score;
};

/* A ticket or invoice event, grouped later by its id. */
struct keyed {
    char *id;
    int kind;
    int64_t ts_ms;
    size_t seq;
    double num;
    int32_t day;
};

struct metrics_acc {
    int64_t t_ms;
    int32_t d;
    int64_t members;
    int64_t logins_7d, logins_prev_28d, features_7d, features_prev_28d;
    int64_t last_login_ms; /* in the window; INT64_MIN if none */
    bool has_earlier_login;
    int32_t earlier_login_day;
    struct vec users_30d;    /* int64_t user ids, with repeats */
    struct vec features_30d; /* int64_t name ids, with repeats */
    struct vec nps;          /* struct nps_answer within 365 days */
    int64_t nps_90d;
    struct vec tickets;  /* struct keyed */
    struct vec invoices; /* struct keyed */
    size_t seq;
    bool has_card;
    int32_t card_day;
    int64_t outreach_unanswered;
    bool has_reply;
    int64_t last_reply_ms;
    bool churned; /* the latest outcome so far is a churn */
    bool has_mrr, has_seats, has_renewal;
    double mrr;
    int64_t seats;
    int32_t renewal_day;
};

int32_t metrics_as_of_day(int64_t t_ms) {
    return dt_day_of_ms(t_ms - 1);
}

static void vec_init(struct vec *v, size_t size) {
    v->items = NULL;
    v->n = v->cap = 0;
    v->size = size;
}

static void free_keyed(struct vec *v) {
    struct keyed *k = v->items;
    for (size_t i = 0; i < v->n; i++)
        free(k[i].id);
    v->n = 0;
}

struct metrics_acc *metrics_new(int64_t t_ms) {
    struct metrics_acc *a = xcalloc(1, sizeof *a);
    vec_init(&a->users_30d, sizeof(int64_t));
    vec_init(&a->features_30d, sizeof(int64_t));
    vec_init(&a->nps, sizeof(struct nps_answer));
    vec_init(&a->tickets, sizeof(struct keyed));
    vec_init(&a->invoices, sizeof(struct keyed));
    metrics_reset(a, t_ms);
    return a;
}

void metrics_free(struct metrics_acc *a) {
    if (!a)
        return;
    free_keyed(&a->tickets);
    free_keyed(&a->invoices);
    free(a->users_30d.items);
    free(a->features_30d.items);
    free(a->nps.items);
    free(a->tickets.items);
    free(a->invoices.items);
    free(a);
}

void metrics_reset(struct metrics_acc *a, int64_t t_ms) {
    struct vec keep[5] = {a->users_30d, a->features_30d, a->nps, a->tickets, a->invoices};
    free_keyed(&keep[3]);
    free_keyed(&keep[4]);
    memset(a, 0, sizeof *a);
    a->users_30d = keep[0];
    a->features_30d = keep[1];
    a->nps = keep[2];
    a->tickets = keep[3];
    a->invoices = keep[4];
    a->users_30d.n = a->features_30d.n = a->nps.n = 0;
    a->t_ms = t_ms;
    a->d = metrics_as_of_day(t_ms);
    a->last_login_ms = INT64_MIN;
}

void metrics_add_member(struct metrics_acc *a, int64_t start_ms, int64_t end_ms) {
    /* A member at T: joined before T and not removed before T. */
    if (start_ms < a->t_ms && end_ms >= a->t_ms)
        a->members++;
}

void metrics_add_activity(struct metrics_acc *a, int kind, int64_t ts_ms, int64_t user_id,
                          int64_t name_id) {
    const int64_t day_ms = DT_MS_PER_DAY;
    if (ts_ms >= a->t_ms || ts_ms < a->t_ms - METRICS_ACTIVITY_DAYS * day_ms)
        return;
    bool last7 = ts_ms >= a->t_ms - 7 * day_ms;
    bool last30 = ts_ms >= a->t_ms - 30 * day_ms;
    if (kind == EV_LOGIN) {
        if (last7)
            a->logins_7d++;
        else
            a->logins_prev_28d++;
        if (last30)
            *(int64_t *)vec_push(&a->users_30d) = user_id;
        if (ts_ms > a->last_login_ms)
            a->last_login_ms = ts_ms;
    } else if (kind == EV_FEATURE) {
        if (last7)
            a->features_7d++;
        else
            a->features_prev_28d++;
        if (last30)
            *(int64_t *)vec_push(&a->features_30d) = name_id;
    }
}

bool metrics_window_has_login(const struct metrics_acc *a) {
    return a->last_login_ms != INT64_MIN;
}

void metrics_set_earlier_login_day(struct metrics_acc *a, int32_t day) {
    a->has_earlier_login = true;
    a->earlier_login_day = day;
}

static void add_keyed(struct metrics_acc *a, struct vec *v, const struct metric_fact *f) {
    struct keyed *k = vec_push(v);
    k->id = xstrdup(f->subject ? f->subject : "");
    k->kind = f->kind;
    k->ts_ms = f->ts_ms;
    k->seq = a->seq++;
    k->num = f->has_num ? f->num : 0;
    k->day = f->has_day ? f->day : 0;
}

static void fold_traits(struct metrics_acc *a, const struct metric_fact *f) {
    if (f->traits_set & TRAIT_MRR) {
        a->has_mrr = !(f->traits_null & TRAIT_MRR);
        a->mrr = f->mrr;
    }
    if (f->traits_set & TRAIT_SEATS) {
        a->has_seats = !(f->traits_null & TRAIT_SEATS);
        a->seats = f->seats;
    }
    if (f->traits_set & TRAIT_RENEWAL) {
        a->has_renewal = !(f->traits_null & TRAIT_RENEWAL);
        a->renewal_day = f->renewal_day;
    }
}

void metrics_add_fact(struct metrics_acc *a, const struct metric_fact *f) {
    if (f->ts_ms >= a->t_ms)
        return;
    switch (f->kind) {
    case EV_NPS:
        if (f->has_num && f->ts_ms >= a->t_ms - METRICS_NPS_DAYS * DT_MS_PER_DAY) {
            struct nps_answer *n = vec_push(&a->nps);
            n->user_id = f->user_id;
            n->ts_ms = f->ts_ms;
            n->seq = a->seq++;
            n->score = f->num;
            if (f->ts_ms >= a->t_ms - 90 * DT_MS_PER_DAY)
                a->nps_90d++;
        }
        break;
    case EV_TICKET_OPENED:
    case EV_TICKET_CLOSED:
        add_keyed(a, &a->tickets, f);
        break;
    case EV_INVOICE_ISSUED:
    case EV_INVOICE_PAID:
        add_keyed(a, &a->invoices, f);
        break;
    case EV_CARD_UPDATED:
        if (f->has_day) {
            a->has_card = true;
            a->card_day = f->day;
        }
        break;
    case EV_OUTREACH_SENT:
        a->outreach_unanswered++;
        break;
    case EV_OUTREACH_REPLIED:
        a->outreach_unanswered = 0;
        a->has_reply = true;
        a->last_reply_ms = f->ts_ms;
        break;
    case EV_GROUP:
        fold_traits(a, f);
        break;
    case EV_CHURNED:
    case EV_RENEWED:
        a->churned = f->kind == EV_CHURNED;
        break;
    default:
        break;
    }
}

/* qsort, which must not be given a NULL array even for no items. */
static void sort(void *items, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
    if (n > 1)
        qsort(items, n, size, cmp);
}

static int cmp_i64(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Number of distinct values in v (sorts it). */
static int64_t distinct(struct vec *v) {
    int64_t *x = v->items;
    if (v->n == 0)
        return 0;
    sort(x, v->n, sizeof *x, cmp_i64);
    int64_t n = 1;
    for (size_t i = 1; i < v->n; i++)
        n += x[i] != x[i - 1];
    return n;
}

static int cmp_nps(const void *x, const void *y) {
    const struct nps_answer *a = x, *b = y;
    if (a->user_id != b->user_id)
        return (a->user_id > b->user_id) - (a->user_id < b->user_id);
    if (a->ts_ms != b->ts_ms)
        return (a->ts_ms > b->ts_ms) - (a->ts_ms < b->ts_ms);
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_keyed(const void *x, const void *y) {
    const struct keyed *a = x, *b = y;
    int c = strcmp(a->id, b->id);
    if (c)
        return c;
    if (a->ts_ms != b->ts_ms)
        return (a->ts_ms > b->ts_ms) - (a->ts_ms < b->ts_ms);
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* NPS over each user's latest answer: 100 x (promoters - detractors) / answers. */
static void finish_nps(struct metrics_acc *a, struct metrics *m) {
    struct nps_answer *x = a->nps.items;
    size_t n = a->nps.n;
    sort(x, n, sizeof *x, cmp_nps);
    int64_t answers = 0, promoters = 0, detractors = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && x[i + 1].user_id == x[i].user_id)
            continue; /* not this user's latest */
        answers++;
        promoters += x[i].score >= 9;
        detractors += x[i].score <= 6;
    }
    m->has_nps = answers > 0;
    m->nps = answers ? 100.0 * (double)(promoters - detractors) / (double)answers : 0;
    m->nps_responses_90d = a->nps_90d;
}

/* A ticket is open when its latest event before T opened it; tickets_30d
 * counts the tickets opened in the last 30 days. */
static void finish_tickets(struct metrics_acc *a, struct metrics *m) {
    struct keyed *x = a->tickets.items;
    size_t n = a->tickets.n;
    sort(x, n, sizeof *x, cmp_keyed);
    int64_t since = a->t_ms - 30 * DT_MS_PER_DAY;
    bool opened_recently = false;
    for (size_t i = 0; i < n; i++) {
        if (x[i].kind == EV_TICKET_OPENED && x[i].ts_ms >= since)
            opened_recently = true;
        if (i + 1 < n && strcmp(x[i + 1].id, x[i].id) == 0)
            continue;
        m->tickets_open += x[i].kind == EV_TICKET_OPENED;
        m->tickets_30d += opened_recently;
        opened_recently = false;
    }
}

/* An invoice is overdue when issued before T, due before D and not paid
 * before T; its amount and due date are those of its latest issue event. */
static void finish_invoices(struct metrics_acc *a, struct metrics *m) {
    struct keyed *x = a->invoices.items;
    size_t n = a->invoices.n;
    sort(x, n, sizeof *x, cmp_keyed);
    bool issued = false, paid = false;
    double amount = 0;
    int32_t due = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i].kind == EV_INVOICE_ISSUED) {
            issued = true;
            amount = x[i].num;
            due = x[i].day;
        } else {
            paid = true;
        }
        if (i + 1 < n && strcmp(x[i + 1].id, x[i].id) == 0)
            continue;
        if (issued && !paid && due < a->d) {
            m->overdue_invoices++;
            m->overdue_amount += amount;
            if (a->d - due > m->max_days_overdue)
                m->max_days_overdue = a->d - due;
        }
        issued = paid = false;
    }
}

void metrics_finish(struct metrics_acc *a, struct metrics *m) {
    memset(m, 0, sizeof *m);
    m->users = a->members;
    m->logins_7d = a->logins_7d;
    m->logins_prev_28d = a->logins_prev_28d;
    m->active_users_30d = distinct(&a->users_30d);
    if (a->last_login_ms != INT64_MIN) {
        m->has_days_since_login = true;
        m->days_since_login = a->d - dt_day_of_ms(a->last_login_ms);
    } else if (a->has_earlier_login) {
        m->has_days_since_login = true;
        m->days_since_login = a->d - a->earlier_login_day;
    }
    m->feature_events_7d = a->features_7d;
    m->feature_events_prev_28d = a->features_prev_28d;
    m->features_used_30d = distinct(&a->features_30d);
    finish_nps(a, m);
    finish_tickets(a, m);
    finish_invoices(a, m);
    if (a->has_card) {
        m->has_card_days_left = true;
        m->card_days_left = a->card_day - a->d;
    }
    if (a->has_renewal) {
        m->has_renewal_days_left = true;
        m->renewal_days_left = a->renewal_day - a->d;
    }
    if (a->has_seats) {
        m->has_seats = true;
        m->seats = a->seats;
        if (a->seats > 0) {
            m->has_seat_utilization = true;
            m->seat_utilization = (double)m->users / (double)a->seats;
        }
    }
    m->outreach_unanswered = a->outreach_unanswered;
    if (a->has_reply) {
        m->has_days_since_reply = true;
        m->days_since_reply = a->d - dt_day_of_ms(a->last_reply_ms);
    }
    m->has_mrr = a->has_mrr;
    m->mrr = a->mrr;
    m->churned = a->churned;
}
