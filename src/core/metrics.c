/* metrics.c: SPEC 3 account metrics (see metrics.h).
 *
 * Activity (logins, feature events, or whole days of them rolled up) arrives
 * in any order and is folded into counters at once; distinct users and
 * features are small hash sets. Facts arrive in any order too (but for group
 * calls): "latest" rules compare timestamps, tickets and invoices are kept by
 * id in a small hash table, and whether an item was settled before T comes
 * with the fact (settled_ms). Each user's NPS answers are sorted at the end.
 * Everything is per account and bounded by that account's data, never by the
 * database. */
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

#define SEEN_EMPTY INT64_MIN

/* Ids with the latest day each was seen (open addressing; rebuilt to drop
 * what fell out of a window): a set with n distinct ids when the days do not
 * matter. */
struct seen {
    int64_t *ids; /* SEEN_EMPTY: free slot */
    int32_t *days;
    size_t cap, n;
};

static void seen_put(struct seen *m, int64_t id, int32_t day);

static void seen_rebuild(struct seen *m, size_t cap, int32_t keep_from) {
    struct seen old = *m;
    m->cap = cap;
    m->n = 0;
    m->ids = xmalloc(cap * sizeof *m->ids);
    m->days = xmalloc(cap * sizeof *m->days);
    for (size_t i = 0; i < cap; i++)
        m->ids[i] = SEEN_EMPTY;
    for (size_t i = 0; i < old.cap; i++)
        if (old.ids[i] != SEEN_EMPTY && old.days[i] >= keep_from)
            seen_put(m, old.ids[i], old.days[i]);
    free(old.ids);
    free(old.days);
}

static void seen_put(struct seen *m, int64_t id, int32_t day) {
    if (2 * (m->n + 1) > m->cap)
        seen_rebuild(m, m->cap ? m->cap * 2 : 32, INT32_MIN);
    size_t mask = m->cap - 1;
    size_t i = (size_t)(((uint64_t)id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & mask;
    while (m->ids[i] != SEEN_EMPTY && m->ids[i] != id)
        i = (i + 1) & mask;
    if (m->ids[i] == SEEN_EMPTY) {
        m->ids[i] = id;
        m->days[i] = day;
        m->n++;
    } else if (day > m->days[i]) {
        m->days[i] = day;
    }
}

static void seen_clear(struct seen *m) {
    for (size_t i = 0; m->n && i < m->cap; i++)
        m->ids[i] = SEEN_EMPTY;
    m->n = 0;
}

static void seen_free(struct seen *m) {
    free(m->ids);
    free(m->days);
}

/* How many ids were seen on or after day from; forgets the others when they
 * are the larger part. */
static int64_t seen_count(struct seen *m, int32_t from) {
    int64_t live = 0;
    for (size_t i = 0; i < m->cap; i++)
        live += m->ids[i] != SEEN_EMPTY && m->days[i] >= from;
    if (m->n > 8 && (size_t)live * 2 < m->n)
        seen_rebuild(m, m->cap, from);
    return live;
}

struct metrics_slider {
    struct {
        int32_t day; /* INT32_MIN: empty */
        int64_t logins, features;
    } ring[METRICS_ACTIVITY_DAYS];
    struct seen users, names;
    int32_t last_login_day, last_active_day;
};

struct metrics_slider *metrics_slider_new(void) {
    struct metrics_slider *s = xcalloc(1, sizeof *s);
    for (int i = 0; i < METRICS_ACTIVITY_DAYS; i++)
        s->ring[i].day = INT32_MIN;
    s->last_login_day = s->last_active_day = INT32_MIN;
    return s;
}

void metrics_slider_free(struct metrics_slider *s) {
    if (!s)
        return;
    seen_free(&s->users);
    seen_free(&s->names);
    free(s);
}

static int ring_slot(int32_t day) {
    int r = day % METRICS_ACTIVITY_DAYS;
    return r < 0 ? r + METRICS_ACTIVITY_DAYS : r;
}

void metrics_slider_add(struct metrics_slider *s, const struct metrics_day *d) {
    if (d->logins + d->features == 0)
        return;
    int slot = ring_slot(d->day);
    if (s->ring[slot].day != d->day) {
        s->ring[slot].day = d->day;
        s->ring[slot].logins = s->ring[slot].features = 0;
    }
    s->ring[slot].logins += d->logins;
    s->ring[slot].features += d->features;
    for (size_t i = 0; i < d->n_users; i++)
        seen_put(&s->users, d->users[i], d->day);
    for (size_t i = 0; i < d->n_names; i++)
        seen_put(&s->names, d->names[i], d->day);
    if (d->logins > 0 && d->day > s->last_login_day)
        s->last_login_day = d->day;
    if (d->day > s->last_active_day)
        s->last_active_day = d->day;
}

bool metrics_slider_window(struct metrics_slider *s, int32_t last, struct metrics_window *out) {
    memset(out, 0, sizeof *out);
    int32_t first = last - (METRICS_ACTIVITY_DAYS - 1);
    if (s->last_active_day < first)
        return false;
    for (int i = 0; i < METRICS_ACTIVITY_DAYS; i++) {
        int32_t day = s->ring[i].day;
        if (day < first || day > last)
            continue;
        if (day > last - 7) {
            out->logins_7d += s->ring[i].logins;
            out->features_7d += s->ring[i].features;
        } else {
            out->logins_prev_28d += s->ring[i].logins;
            out->features_prev_28d += s->ring[i].features;
        }
    }
    out->users_30d = seen_count(&s->users, last - 29);
    out->features_30d = seen_count(&s->names, last - 29);
    out->has_last_login = s->last_login_day >= first;
    out->last_login_day = out->has_last_login ? s->last_login_day : 0;
    return true;
}

struct nps_answer {
    int64_t user_id;
    int64_t ts_ms;
    size_t seq;
    double score;
};

/* A ticket or an invoice, by its id: what its events before T add up to.
 * Order-independent, so facts of different kinds may come in any order. */
struct item {
    size_t key, key_len; /* in the table's key arena */
    uint64_t hash;
    bool open;         /* a Ticket Opened not closed before T */
    bool recent;       /* a Ticket Opened in the last 30 days */
    int64_t issued_ms; /* latest Invoice Issued; INT64_MIN none */
    double amount;     /* of the latest Invoice Issued */
    int32_t due;
    bool paid; /* an Invoice Paid */
};

/* Items by id: an array, an open-addressing index into it, the ids' bytes. */
struct items {
    struct item *v;
    size_t n, cap;
    uint32_t *slots; /* index + 1; 0 empty; nslots 0 or a power of two */
    size_t nslots;
    char *keys;
    size_t keys_len, keys_cap;
};

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * UINT64_C(1099511628211);
    return h;
}

static void items_reindex(struct items *t, size_t nslots) {
    free(t->slots);
    t->slots = xcalloc(nslots, sizeof *t->slots);
    t->nslots = nslots;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = (size_t)t->v[i].hash & (nslots - 1);
        while (t->slots[j])
            j = (j + 1) & (nslots - 1);
        t->slots[j] = (uint32_t)i + 1;
    }
}

/* The item with this id, added (with nothing seen) if new. */
static struct item *items_get(struct items *t, const char *id) {
    size_t len = strlen(id);
    uint64_t h = hash_bytes(id, len);
    if (2 * (t->n + 1) > t->nslots)
        items_reindex(t, t->nslots ? t->nslots * 2 : 64);
    size_t j = (size_t)h & (t->nslots - 1);
    for (; t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
        struct item *it = &t->v[t->slots[j] - 1];
        if (it->hash == h && it->key_len == len && memcmp(t->keys + it->key, id, len) == 0)
            return it;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = xrealloc(t->v, t->cap * sizeof *t->v);
    }
    if (t->keys_len + len > t->keys_cap) {
        t->keys_cap = (t->keys_len + len) * 2;
        t->keys = xrealloc(t->keys, t->keys_cap);
    }
    memcpy(t->keys + t->keys_len, id, len);
    struct item *it = &t->v[t->n];
    *it = (struct item){
        .key = t->keys_len,
        .key_len = len,
        .hash = h,
        .issued_ms = INT64_MIN,
    };
    t->keys_len += len;
    t->slots[j] = (uint32_t)++t->n;
    return it;
}

static void items_clear(struct items *t) {
    if (t->n)
        memset(t->slots, 0, t->nslots * sizeof *t->slots);
    t->n = t->keys_len = 0;
}

static void items_free(struct items *t) {
    free(t->v);
    free(t->slots);
    free(t->keys);
}

struct metrics_acc {
    int64_t t_ms;
    int32_t d;
    int64_t members;
    int64_t logins_7d, logins_prev_28d, features_7d, features_prev_28d;
    int32_t last_login_day; /* in the window; INT32_MIN if none */
    bool has_earlier_login;
    int32_t earlier_login_day;
    struct seen users_30d;    /* users with a login in the last 30 days */
    struct seen features_30d; /* feature names used in the last 30 days */
    bool has_window;          /* given whole: */
    int64_t users_30d_n, features_30d_n;
    struct vec nps; /* struct nps_answer within 365 days */
    int64_t nps_90d;
    struct items tickets;
    struct items invoices;
    size_t seq;
    bool has_card;
    int64_t card_ms;
    int32_t card_day;
    struct vec outreach; /* int64_t times of unanswered Outreach Sent */
    bool has_reply;
    int64_t last_reply_ms;
    int64_t last_churn_ms, last_renewal_ms; /* INT64_MIN if none */
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

struct metrics_acc *metrics_new(int64_t t_ms) {
    struct metrics_acc *a = xcalloc(1, sizeof *a);
    vec_init(&a->nps, sizeof(struct nps_answer));
    vec_init(&a->outreach, sizeof(int64_t));
    metrics_reset(a, t_ms);
    return a;
}

void metrics_free(struct metrics_acc *a) {
    if (!a)
        return;
    seen_free(&a->users_30d);
    seen_free(&a->features_30d);
    free(a->nps.items);
    items_free(&a->tickets);
    items_free(&a->invoices);
    free(a->outreach.items);
    free(a);
}

void metrics_reset(struct metrics_acc *a, int64_t t_ms) {
    struct seen users = a->users_30d, features = a->features_30d;
    struct items tickets = a->tickets, invoices = a->invoices;
    struct vec keep[2] = {a->nps, a->outreach};
    seen_clear(&users);
    seen_clear(&features);
    items_clear(&tickets);
    items_clear(&invoices);
    memset(a, 0, sizeof *a);
    a->users_30d = users;
    a->features_30d = features;
    a->tickets = tickets;
    a->invoices = invoices;
    a->nps = keep[0];
    a->outreach = keep[1];
    a->nps.n = a->outreach.n = 0;
    a->t_ms = t_ms;
    a->d = metrics_as_of_day(t_ms);
    a->last_login_day = INT32_MIN;
    a->last_churn_ms = a->last_renewal_ms = INT64_MIN;
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
            seen_put(&a->users_30d, user_id, 0);
        int32_t day = dt_day_of_ms(ts_ms);
        if (day > a->last_login_day)
            a->last_login_day = day;
    } else if (kind == EV_FEATURE) {
        if (last7)
            a->features_7d++;
        else
            a->features_prev_28d++;
        if (last30)
            seen_put(&a->features_30d, name_id, 0);
    }
}

void metrics_add_day(struct metrics_acc *a, const struct metrics_day *day) {
    const int64_t day_ms = DT_MS_PER_DAY;
    int64_t start = (int64_t)day->day * day_ms;
    if (start < a->t_ms - METRICS_ACTIVITY_DAYS * day_ms || start + day_ms > a->t_ms)
        return; /* not wholly inside the window */
    bool last7 = start >= a->t_ms - 7 * day_ms;
    bool last30 = start >= a->t_ms - 30 * day_ms;
    if (last7) {
        a->logins_7d += day->logins;
        a->features_7d += day->features;
    } else {
        a->logins_prev_28d += day->logins;
        a->features_prev_28d += day->features;
    }
    if (last30) {
        for (size_t i = 0; i < day->n_users; i++)
            seen_put(&a->users_30d, day->users[i], 0);
        for (size_t i = 0; i < day->n_names; i++)
            seen_put(&a->features_30d, day->names[i], 0);
    }
    if (day->logins > 0 && day->day > a->last_login_day)
        a->last_login_day = day->day;
}

void metrics_set_window(struct metrics_acc *a, const struct metrics_window *w) {
    a->has_window = true;
    a->logins_7d = w->logins_7d;
    a->logins_prev_28d = w->logins_prev_28d;
    a->features_7d = w->features_7d;
    a->features_prev_28d = w->features_prev_28d;
    a->users_30d_n = w->users_30d;
    a->features_30d_n = w->features_30d;
    a->last_login_day = w->has_last_login ? w->last_login_day : INT32_MIN;
}

bool metrics_window_has_login(const struct metrics_acc *a) {
    return a->last_login_day != INT32_MIN;
}

void metrics_set_earlier_login_day(struct metrics_acc *a, int32_t day) {
    a->has_earlier_login = true;
    a->earlier_login_day = day;
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
    struct item *it;
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
        it = items_get(&a->tickets, f->subject ? f->subject : "");
        if (f->settled_ms >= a->t_ms)
            it->open = true;
        if (f->ts_ms >= a->t_ms - 30 * DT_MS_PER_DAY)
            it->recent = true;
        break;
    case EV_INVOICE_ISSUED:
        it = items_get(&a->invoices, f->subject ? f->subject : "");
        if (f->settled_ms < a->t_ms)
            it->paid = true;
        if (f->ts_ms >= it->issued_ms) { /* at one instant, the later given */
            it->issued_ms = f->ts_ms;
            it->amount = f->has_num ? f->num : 0;
            it->due = f->has_day ? f->day : 0;
        }
        break;
    case EV_CARD_UPDATED:
        /* The latest card; at one instant, the later expiry. */
        if (f->has_day && (!a->has_card || f->ts_ms > a->card_ms ||
                           (f->ts_ms == a->card_ms && f->day > a->card_day))) {
            a->has_card = true;
            a->card_ms = f->ts_ms;
            a->card_day = f->day;
        }
        break;
    case EV_OUTREACH_SENT:
        if (f->settled_ms >= a->t_ms)
            *(int64_t *)vec_push(&a->outreach) = f->ts_ms;
        break;
    case EV_OUTREACH_REPLIED:
        if (!a->has_reply || f->ts_ms > a->last_reply_ms)
            a->last_reply_ms = f->ts_ms;
        a->has_reply = true;
        break;
    case EV_GROUP:
        fold_traits(a, f);
        break;
    case EV_CHURNED:
        a->last_churn_ms = f->ts_ms;
        break;
    case EV_RENEWED:
        a->last_renewal_ms = f->ts_ms;
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

static int cmp_nps(const void *x, const void *y) {
    const struct nps_answer *a = x, *b = y;
    if (a->user_id != b->user_id)
        return (a->user_id > b->user_id) - (a->user_id < b->user_id);
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

/* A ticket is open when one of its Ticket Opened before T had no Ticket
 * Closed at or after it before T (so its latest event before T opened it);
 * tickets_30d counts the tickets opened in the last 30 days. */
static void finish_tickets(struct metrics_acc *a, struct metrics *m) {
    for (size_t i = 0; i < a->tickets.n; i++) {
        const struct item *t = &a->tickets.v[i];
        m->tickets_open += t->open;
        m->tickets_30d += t->recent;
    }
}

/* An invoice is overdue when issued before T, due before D and not paid
 * before T; its amount and due date are those of its latest issue event. */
static void finish_invoices(struct metrics_acc *a, struct metrics *m) {
    for (size_t i = 0; i < a->invoices.n; i++) {
        const struct item *v = &a->invoices.v[i];
        if (v->issued_ms != INT64_MIN && !v->paid && v->due < a->d) {
            m->overdue_invoices++;
            m->overdue_amount += v->amount;
            if (a->d - v->due > m->max_days_overdue)
                m->max_days_overdue = a->d - v->due;
        }
    }
}

void metrics_finish(struct metrics_acc *a, struct metrics *m) {
    memset(m, 0, sizeof *m);
    m->users = a->members;
    m->logins_7d = a->logins_7d;
    m->logins_prev_28d = a->logins_prev_28d;
    m->active_users_30d = a->has_window ? a->users_30d_n : (int64_t)a->users_30d.n;
    if (a->last_login_day != INT32_MIN) {
        m->has_days_since_login = true;
        m->days_since_login = a->d - a->last_login_day;
    } else if (a->has_earlier_login) {
        m->has_days_since_login = true;
        m->days_since_login = a->d - a->earlier_login_day;
    }
    m->feature_events_7d = a->features_7d;
    m->feature_events_prev_28d = a->features_prev_28d;
    m->features_used_30d = a->has_window ? a->features_30d_n : (int64_t)a->features_30d.n;
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
    m->outreach_unanswered = (int64_t)a->outreach.n;
    if (a->has_reply) {
        m->has_days_since_reply = true;
        m->days_since_reply = a->d - dt_day_of_ms(a->last_reply_ms);
    }
    m->has_mrr = a->has_mrr;
    m->mrr = a->mrr;
    /* An outcome at the same instant as another: the churn is the later. */
    m->churned = a->last_churn_ms != INT64_MIN && a->last_churn_ms >= a->last_renewal_ms;
}
