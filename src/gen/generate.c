/* generate.c: a fictional B2B SaaS as Segment JSON Lines (see generate.h).
 *
 * The model. N accounts (plans starter/growth/enterprise, 50/38/12 %) buy seats
 * at a per-seat price (mrr = seats x price), have a CSM among six, a time zone,
 * premium products and a payment method (card or invoice). Most exist when
 * the window opens; GEN_NEW_PCT_YEAR % per year of window are created inside
 * it and go through onboarding (five milestones due, adoption goals set, a
 * team that joins over a few weeks). Users carry a habit (power, regular,
 * occasional, dormant) that sets how often they sign in on a working day and
 * how many feature events a session holds; weekends, late December and
 * August are quieter. Fourteen features: core ones most accounts adopted
 * long ago, premium ones only for accounts that bought the product (events
 * carry `product`), and two features launched inside the window and adopted
 * gradually. NPS survey waves every ~4 months, tickets in proportion to the
 * team, monthly invoices paid by card (failing on an expired card, then
 * dunning until the card is updated) or by transfer (some accounts always
 * late), CSM outreach on a cadence, and at each renewal date an "Account
 * Renewed" (with seat expansion when the team grew) or an "Account Churned".
 *
 * Why accounts churn is not written here but in causes.c: latent causes
 * (disengagement, a champion who leaves, unresolved tickets, price
 * pressure, a card that dies) each with its prevalence, onset, strength and
 * noise, that push on the behaviour below through a struct pressure and
 * decide the renewal. Nothing in the generator looks at tend's rules.
 *
 * The main design decision: simulate one day at a time and emit that day's
 * events sorted, never the history. The state is per account and per user
 * (a few hundred bytes each); events that happen later (a ticket closed, a
 * reply, an NPS answer, a milestone completed) wait in a ring of day buckets
 * GEN_RING_DAYS deep. emit.c sorts and formats a day's events.
 *
 * Determinism: one xoshiro256** generator seeded through splitmix64 from
 * --seed, consumed in a fixed order; only integer arithmetic and IEEE + - * /
 * on doubles (no libm), so a seed gives the same bytes on any build.
 * messageIds are a bijective 64-bit mix of the output sequence number: unique
 * by construction. */
#include "gen/generate.h"

#include <stdlib.h>

#include "gen/gen_int.h"

/* ---- events -------------------------------------------------------------- */

static struct ev *bucket_push(struct bucket *b) {
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    struct ev *e = &b->v[b->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static enum route pick_route(struct gen *g) {
    uint32_t r = rng_below(&g->rng, 100);
    return r < 85 ? ROUTE_GROUP : r < 97 ? ROUTE_PROPERTY : ROUTE_MEMBERSHIP;
}

/* A new event of today at ms of the day t (0 <= t < DAY_MS). */
struct ev *gen_emit(struct gen *g, enum gk kind, uint32_t account, uint32_t user, int64_t t) {
    struct ev *e = bucket_push(&g->day);
    e->ts_ms = g->day_ms + (t < DAY_MS ? t : DAY_MS - 1); /* "a bit later" at 23:59 */
    e->kind = (uint8_t)kind;
    e->account = account;
    e->user = user;
    e->route = (uint8_t)pick_route(g);
    return e;
}

/* An event on a later day (day > today) at ms of the day t. Events past the
 * window or the ring's reach are dropped: they have not happened yet. */
static struct ev *schedule(struct gen *g, int32_t day, enum gk kind, uint32_t account,
                           uint32_t user, int64_t t) {
    if (day >= g->end || day - g->today >= GEN_RING_DAYS || day <= g->today)
        return &g->dropped;
    struct ev *e = bucket_push(&g->ring[day % GEN_RING_DAYS]);
    e->ts_ms = (int64_t)day * DAY_MS + (t < DAY_MS ? t : DAY_MS - 1);
    e->kind = (uint8_t)kind;
    e->account = account;
    e->user = user;
    e->route = (uint8_t)pick_route(g);
    return e;
}

/* An event d >= 0 days from today at ms of that day t. */
struct ev *gen_later(struct gen *g, int32_t d, int64_t t, enum gk kind, uint32_t account,
                     uint32_t user) {
    if (d == 0)
        return gen_emit(g, kind, account, user, t);
    return schedule(g, g->today + d, kind, account, user, t);
}

/* ---- time of day ----------------------------------------------------------- */

/* A working-hours instant of the account's time zone, as ms of the UTC day:
 * local 07:30-18:30, peaking early afternoon. */
int64_t gen_business_ms(struct gen *g, const struct account *a) {
    double u = (rng_unit(&g->rng) + rng_unit(&g->rng)) * 0.5;
    int64_t local = 27000000 + (int64_t)(u * 39600000.0);
    int64_t t = local - (int64_t)tzs[a->tz].hours * HOUR_MS;
    t %= DAY_MS;
    if (t < 0)
        t += DAY_MS;
    return t;
}

/* On the account's setup day nothing may precede its group call: squeezes
 * ms of the day t into [active_from, DAY_MS), keeping the order. */
static int64_t after_setup(const struct account *a, int32_t day, int64_t t) {
    if (day != a->setup_day)
        return t;
    return a->active_from + t * (DAY_MS - a->active_from) / DAY_MS;
}

int64_t gen_when(struct gen *g, const struct account *a) {
    return after_setup(a, g->today, gen_business_ms(g, a));
}

/* ---- accounts and users -------------------------------------------------------- */

/* Rebuilds the feature chooser from the features adopted by today. */
static void adoption_update(struct gen *g, struct account *a) {
    uint32_t total = 0;
    int32_t next = NEVER;
    a->n_adopted = 0;
    for (size_t f = 0; f < N_FEATURES; f++) {
        if (a->adopt[f] <= g->today) {
            total += features[f].weight;
            a->chooser[a->n_adopted] = (uint8_t)f;
            a->cum[a->n_adopted] = total;
            a->n_adopted++;
        } else if (a->adopt[f] < next) {
            next = a->adopt[f];
        }
    }
    a->next_adopt = next;
}

static uint8_t pick_feature(struct gen *g, const struct account *a) {
    if (a->n_adopted == 0)
        return F_DASHBOARD;
    uint32_t r = rng_below(&g->rng, a->cum[a->n_adopted - 1]);
    uint32_t i = 0;
    while (a->cum[i] <= r)
        i++;
    return a->chooser[i];
}

/* A random current member (the admin when the draws miss). */
static uint32_t pick_member(struct gen *g, const struct account *a) {
    for (int tries = 0; tries < 8; tries++) {
        uint32_t u = a->users[rng_below(&g->rng, a->n_users)];
        if (g->users[u].left_ms == INT64_MAX && g->users[u].join_day <= g->today)
            return u;
    }
    return a->users[0];
}

/* Creates a user of account ai who joins today (habit drawn here); the
 * caller announces them with user_announce. */
static uint32_t user_create(struct gen *g, uint32_t ai, bool admin) {
    struct account *a = &g->acc[ai];
    if (g->n_users == g->cap_users) {
        g->cap_users = g->cap_users ? g->cap_users * 2 : 4096;
        g->users = xrealloc(g->users, g->cap_users * sizeof *g->users);
    }
    uint32_t ui = g->n_users++;
    struct user *u = &g->users[ui];
    u->left_ms = INT64_MAX;
    u->account = ai;
    u->join_day = g->today;
    u->ordinal = (uint16_t)(a->n_users < 65535 ? a->n_users : 65535);
    uint32_t r = rng_below(&g->rng, 100), h, share = 0;
    for (h = 0; h < N_HABITS - 1; h++) {
        share += (uint32_t)habits[h].share_pct;
        if (r < share)
            break;
    }
    u->habit = (uint8_t)(admin && h > 1 ? 1 : h);
    u->mobile = rng_chance(&g->rng, 0.15);
    if (a->n_users == a->cap_users) {
        a->cap_users = a->cap_users ? a->cap_users * 2 : 8;
        a->users = xrealloc(a->users, a->cap_users * sizeof *a->users);
    }
    a->users[a->n_users++] = ui;
    a->members++;
    g->totals.users++;
    return ui;
}

/* The identify call that makes user ui a member, at ms of today t (and, when
 * alias is set, for half of them an alias from their anonymous visits). */
static void user_announce(struct gen *g, uint32_t ui, int64_t t, bool alias) {
    uint32_t ai = g->users[ui].account;
    struct ev *e = gen_emit(g, GK_IDENTIFY, ai, ui, t);
    uint32_t v = rng_below(&g->rng, 100);
    e->b = v < 80 ? 0 : v < 95 ? 1 : 2; /* company_id, company.id, accountExternalId */
    if (alias && rng_chance(&g->rng, 0.5))
        gen_emit(g, GK_ALIAS, ai, ui, t + 1);
}

/* The last day of the month k months after day's month. */
static int32_t month_end_after(int32_t day, int k, int *month, int *year) {
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    int idx = y * 12 + (m - 1) + k;
    *year = idx / 12;
    *month = idx % 12 + 1;
    return dt_days_from_civil(*year, *month, dt_days_in_month(*year, *month));
}

/* The same date a year later (Feb 29 becomes Feb 28). */
static int32_t next_year(int32_t day) {
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    if (m == 2 && d == 29)
        d = 28;
    return dt_days_from_civil(y + 1, m, d);
}

static void new_card(struct gen *g, struct account *a, int min_months, int spread_months) {
    int k = min_months + (int)rng_below(&g->rng, (uint32_t)spread_months);
    a->card_end = month_end_after(g->today, k, &a->card_month, &a->card_year);
}

static void emit_card(struct gen *g, uint32_t ai, int64_t t) {
    struct account *a = &g->acc[ai];
    struct ev *e = gen_emit(g, GK_CARD_UPDATED, ai, a->users[0], t);
    e->a = (uint8_t)a->card_month;
    e->n2 = (uint32_t)a->card_year;
}

/* gen_emit without drawing a route (group calls and Subscription Changed
 * name their account by groupId): the draws of rng stay as they were. */
static struct ev *emit_quiet(struct gen *g, enum gk kind, uint32_t account, uint32_t user,
                             int64_t t) {
    struct ev *e = bucket_push(&g->day);
    e->ts_ms = g->day_ms + (t < DAY_MS ? t : DAY_MS - 1);
    e->kind = (uint8_t)kind;
    e->account = account;
    e->user = user;
    e->route = ROUTE_GROUP;
    return e;
}

void gen_sub_changed(struct gen *g, uint32_t ai, int64_t t, int64_t before, uint8_t reason) {
    struct account *a = &g->acc[ai];
    if (before == a->mrr_cents)
        return;
    struct ev *e = emit_quiet(g, GK_SUB_CHANGED, ai, a->users[0], t);
    e->num = a->mrr_cents;
    e->n2 = (uint32_t)before;
    e->a = reason;
    g->totals.sub_changes++;
}

void gen_emit_group(struct gen *g, uint32_t ai, int64_t t, int variant) {
    struct account *a = &g->acc[ai];
    struct ev *e = gen_emit(g, GK_GROUP, ai, a->users[0], t);
    e->a = (uint8_t)variant;
    e->num = a->mrr_cents;
    e->n2 = a->seats;
    e->day = a->renewal_day;
}

/* Draws everything about account ai but its users and events; plan is
 * N_PLANS to draw it too. */
static void account_init(struct gen *g, uint32_t ai, int32_t created, bool is_new, enum plan plan) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    int width = g->n_acc > 99999 ? 7 : 5;
    a->id_len = (uint8_t)snprintf(a->id, sizeof a->id, "acc_%0*u", width, ai + 1);
    /* 7919 is prime to 1000: the first 1000 accounts get 1000 different names. */
    uint32_t k = (uint32_t)((ai * 7919ULL) % (N_COMPANY_A * N_COMPANY_B));
    a->name_a = (uint8_t)(k % N_COMPANY_A);
    a->name_b = (uint8_t)(k / N_COMPANY_A);
    a->name_n = (uint16_t)(ai / (N_COMPANY_A * N_COMPANY_B));
    if (plan == N_PLANS) {
        int p = (int)rng_below(r, 100);
        plan = PLAN_STARTER;
        while (plan < PLAN_ENTERPRISE && p >= plans[plan].share_pct)
            p -= plans[plan++].share_pct;
    }
    a->plan = (uint8_t)plan;
    const struct plan_def *pd = &plans[a->plan];
    a->seats = (uint32_t)pd->seats_lo + rng_below(r, (uint32_t)(pd->seats_hi - pd->seats_lo + 1));
    a->price_cents =
        pd->price_lo + rng_below(r, (uint32_t)(pd->price_hi - pd->price_lo) / 100) * 100;
    a->mrr_cents = a->price_cents * a->seats;
    a->csm = (uint8_t)rng_below(r, N_CSMS);
    a->tz = (uint8_t)rng_below(r, N_TZS);
    a->products = 0;
    if (rng_chance(r, pd->products_pct / 100.0)) {
        static const int product_pct[N_PRODUCTS] = {55, 45, 35, 15};
        for (int i = 0; i < N_PRODUCTS; i++) {
            if (rng_chance(r, product_pct[i] / 100.0))
                a->products |= (uint8_t)(1u << i);
        }
        if (!a->products)
            a->products = 1;
    }
    a->card = rng_chance(r, pd->card_pct / 100.0);
    a->late_payer = !a->card && rng_chance(r, 0.15);
    double n = 0;
    for (int i = 0; i < 4; i++)
        n += rng_unit(r);
    a->nps_mean = 8.0 + (n - 2.0) * 1.6; /* about 8.0 +- 0.9: an NPS near 30 */
    a->is_new = is_new;
    a->created_day = created;
    a->setup_day = is_new ? created : g->start;
    int y, m, d;
    dt_civil_from_days(created, &y, &m, &d);
    a->bill_dom = (uint8_t)(d > 28 ? 28 : d);
    a->next_survey = (is_new ? created + 60 : g->start) + (int32_t)rng_below(r, 120);
    a->dip_start = a->dip_end = NEVER;
    if (rng_chance(r, 0.2)) {
        a->dip_start = g->start + (int32_t)rng_below(r, (uint32_t)(g->end - g->start));
        a->dip_end = a->dip_start + 10 + (int32_t)rng_below(r, 11);
    }
    if (is_new) {
        a->renewal_day = next_year(created);
        a->onboard_until = created + 60;
    } else {
        a->renewal_day = g->start + 1 + (int32_t)rng_below(r, 365);
        a->onboard_until = created;
    }
    causes_draw(g, a, true);
    /* Feature adoption: the day each feature enters the account's use. */
    int32_t days = g->end - g->start;
    for (size_t f = 0; f < N_FEATURES; f++) {
        const struct feature *ft = &features[f];
        int32_t adopt = NEVER;
        if (ft->product && !(a->products & (1u << (ft->product - 1)))) {
            adopt = NEVER;
        } else if (ft->launch_pct) {
            int32_t launch = g->start + days * ft->launch_pct / 100;
            if (launch < created)
                launch = created;
            double u = rng_unit(r);
            if (rng_chance(r, 0.7))
                adopt = launch + 3 + (int32_t)(u * u * 160.0);
        } else if (f == F_DASHBOARD) {
            adopt = created;
        } else if (rng_chance(r, ft->adopt_pct / 100.0)) {
            adopt = is_new ? created + 1 + (int32_t)rng_below(r, 45) : created;
        } else if (!is_new && rng_chance(r, 0.25)) {
            adopt = g->start + (int32_t)rng_below(r, (uint32_t)days);
        }
        a->adopt[f] = adopt;
    }
}

/* The group call, the users' identify calls, the card on file, and for a new
 * account its onboarding plan and adoption goals. t0 is the ms of today of
 * the group call; every setup message follows it by a millisecond or more. */
static void account_setup(struct gen *g, uint32_t ai, int64_t t0) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    int64_t t = t0;
    /* The admin first: the group call names them, then identifies them.
     * Users of an account that existed before the window joined before it. */
    int32_t joined = a->is_new ? g->today : a->created_day;
    uint32_t admin = user_create(g, ai, true);
    g->users[admin].join_day = joined;
    gen_emit_group(g, ai, t++, GROUP_FULL);
    user_announce(g, admin, t++, false);
    if (a->is_new) {
        a->target_users = 1 + (uint32_t)((double)a->seats * (0.4 + 0.5 * rng_unit(r)));
    } else {
        uint32_t n = (uint32_t)((double)a->seats * (0.5 + 0.55 * rng_unit(r)) + 0.5);
        for (uint32_t i = 1; i < n; i++) {
            uint32_t ui = user_create(g, ai, false);
            g->users[ui].join_day = joined;
            user_announce(g, ui, t++, false);
        }
        a->target_users = 0;
    }
    if (a->card) {
        new_card(g, a, a->is_new ? 24 : 1, a->is_new ? 25 : 36);
        emit_card(g, ai, t++);
    }
    if (a->is_new) {
        bool struggling = (a->cz.live & 1u << CAUSE_DISENGAGE) || rng_chance(r, 0.15);
        for (size_t i = 0; i < N_MILESTONES; i++) {
            int32_t due = g->today + milestones[i].due_days;
            struct ev *e = gen_emit(g, GK_MILESTONE_DUE, ai, a->users[0], t++);
            e->a = (uint8_t)i;
            e->day = due;
            double u = rng_unit(r);
            double miss = struggling ? 0.35 : 0.10, late = struggling ? 0.35 : 0.15;
            int32_t done;
            if (u < miss)
                continue;
            if (u < miss + late)
                done = due + 2 + (int32_t)rng_below(r, 20);
            else
                done = g->today + 1 + (int32_t)rng_below(r, (uint32_t)milestones[i].due_days);
            e = schedule(g, done, GK_MILESTONE_DONE, ai, a->users[0], gen_business_ms(g, a));
            e->a = (uint8_t)i;
        }
        /* Adoption goals: a feature to use by a date, met or missed. */
        static const uint8_t goal_features[] = {4, 2, 5, 6, 8, 9, 10};
        int n_goals = 1 + (int)rng_below(r, 2);
        for (int i = 0; i < n_goals; i++) {
            uint8_t f = goal_features[rng_below(r, sizeof goal_features)];
            if (a->adopt[f] == NEVER && features[f].product &&
                !(a->products & (1u << (features[f].product - 1))))
                f = goal_features[i]; /* core features come first in the list */
            int32_t set = g->today + 1 + (int32_t)rng_below(r, 3);
            int32_t due = set + 30 + (int32_t)rng_below(r, 31);
            if (rng_chance(r, struggling ? 0.4 : 0.75))
                a->adopt[f] = set + 1 + (int32_t)rng_below(r, (uint32_t)(due - set - 5));
            else
                a->adopt[f] = rng_chance(r, 0.5) ? due + 5 + (int32_t)rng_below(r, 50) : NEVER;
            struct ev *e = schedule(g, set, GK_GOAL_SET, ai, a->users[0], gen_business_ms(g, a));
            e->a = f;
            e->n2 = ++g->next_goal;
            e->day = due;
        }
    }
    if (a->active_from < t + MIN_MS)
        a->active_from = t + MIN_MS;
    if (a->active_from >= DAY_MS)
        a->active_from = DAY_MS - 1;
    adoption_update(g, a);
}

/* ---- one account's day ---------------------------------------------------- */

/* One sign-in of user ui: feature events (their mean scaled by feats), a
 * mobile screen, now and then a web page (the pricing page with chance
 * pricing). */
static void session(struct gen *g, uint32_t ai, uint32_t ui, double feats, double ramp,
                    double pricing) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    const struct user *u = &g->users[ui];
    int64_t t = gen_when(g, a);
    gen_emit(g, GK_LOGIN, ai, ui, t);
    if (u->mobile && rng_chance(r, 0.35)) {
        struct ev *e = gen_emit(g, GK_SCREEN, ai, ui, t + 1000 + rng_below(r, 60000));
        e->a = (uint8_t)rng_below(r, N_SCREENS);
    }
    double m = habits[u->habit].feats * feats * ramp;
    double cont = m / (m + 1.0);
    for (int n = 0; n < 25 && rng_chance(r, cont); n++) {
        t += 5000 + rng_below(r, 360000);
        if (t >= DAY_MS)
            break;
        struct ev *e = gen_emit(g, GK_FEATURE, ai, ui, t);
        e->a = pick_feature(g, a);
    }
    if (rng_chance(r, 0.04 + pricing) && t + 120000 < DAY_MS) {
        struct ev *e = gen_emit(g, GK_PAGE, ai, ui, t + 1000 + rng_below(r, 100000));
        e->a = (uint8_t)(rng_chance(r, pricing * 10.0) ? PAGE_PRICING : rng_below(r, N_PAGES));
    }
}

/* People join (the initial team of a new account, then growth) and leave. */
static void roster(struct gen *g, uint32_t ai, const struct pressure *pr) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    double join = a->members < a->target_users ? 0.25 : a->members * 0.30 / 365.0 * pr->join;
    if (g->wday < 5 && rng_chance(r, join))
        user_announce(g, user_create(g, ai, false), gen_when(g, a), true);
    double leave = (a->members - 1) / (3.0 * 365.0) * pr->leave;
    if (a->members > 1 && rng_chance(r, leave)) {
        for (int tries = 0; tries < 8; tries++) {
            uint32_t k = 1 + rng_below(r, a->n_users - 1);
            struct user *u = &g->users[a->users[k]];
            if (u->left_ms != INT64_MAX || u->join_day >= g->today)
                continue;
            int64_t t = gen_when(g, a);
            gen_emit(g, GK_USER_REMOVED, ai, a->users[k], t);
            u->left_ms = g->day_ms + t;
            a->members--;
            break;
        }
    }
}

static void nps_wave(struct gen *g, uint32_t ai, const struct pressure *pr) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    for (uint32_t k = 0; k < a->n_users; k++) {
        uint32_t ui = a->users[k];
        const struct user *u = &g->users[ui];
        if (u->left_ms != INT64_MAX || u->join_day == g->today ||
            !rng_chance(r, 0.22 * pr->nps_answer))
            continue;
        double noise = -1.5; /* three draws in a fixed order: C leaves a + b + c's open */
        for (int i = 0; i < 3; i++)
            noise += rng_unit(r);
        double x = a->nps_mean + pr->nps_shift + noise * 3.0 + (u->habit == 0 ? 0.8 : 0.0);
        int score = (int)(x + 10.5) - 10; /* rounds, also below zero */
        score = score < 0 ? 0 : score > 10 ? 10 : score;
        int32_t d = (int32_t)rng_below(r, 7);
        struct ev *e = gen_later(g, d, gen_when(g, a), GK_NPS, ai, ui);
        e->a = (uint8_t)score;
        if (rng_chance(r, 0.35)) {
            uint32_t n = score >= 9 ? N_PRO : score >= 7 ? N_PAS : N_DET;
            e->b = (uint8_t)(1 + rng_below(r, n));
            /* Most comments of an account under a cause speak of it. */
            uint8_t fit = score >= 9 ? 0 : score >= 7 ? pr->pas_comment : pr->det_comment;
            if (fit && rng_chance(r, 0.6))
                e->b = fit;
        }
    }
    a->next_survey = g->today + 105 + (int32_t)rng_below(r, 30);
}

static void tickets(struct gen *g, uint32_t ai, const struct pressure *pr) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    double rate = a->members * 0.0032;
    if (rate > 0.5)
        rate = 0.5;
    rate *= pr->tickets * (g->wday < 5 ? 1.0 : 0.25);
    if (!rng_chance(r, rate))
        return;
    uint32_t x = rng_below(r, 100) + (uint32_t)pr->prio_shift;
    uint8_t prio = x < 35 ? 0 : x < 75 ? 1 : x < 95 ? 2 : 3;
    static const int close_lo[] = {2, 1, 0, 0}, close_span[] = {19, 9, 5, 2};
    uint32_t ui = pick_member(g, a);
    int64_t t = gen_when(g, a);
    struct ev *e = gen_emit(g, GK_TICKET_OPENED, ai, ui, t);
    e->a = prio;
    e->n2 = ++g->next_ticket;
    int32_t d = close_lo[prio] + (int32_t)rng_below(r, (uint32_t)close_span[prio]);
    int64_t tc = t + 30 * MIN_MS + rng_below(r, 6 * 3600) * 1000LL;
    if (d == 0 && tc >= DAY_MS)
        d = 1;
    /* Under the unresolved-tickets cause, high and urgent ones stay open
     * for weeks (or past the end of the data). */
    if (prio >= 2 && pr->stuck > 0 && rng_chance(r, pr->stuck))
        d = 20 + (int32_t)rng_below(r, 90);
    if (d > 0)
        tc = gen_business_ms(g, a);
    struct ev *c = gen_later(g, d, tc, GK_TICKET_CLOSED, ai, ui);
    c->a = prio;
    c->n2 = g->next_ticket;
}

static void pay(struct gen *g, uint32_t ai, struct invoice *inv, int64_t t) {
    struct ev *e = gen_emit(g, GK_INVOICE_PAID, ai, g->acc[ai].users[0], t);
    e->n2 = inv->no;
}

/* Removes invoice i from the account's follow-up list. */
static void invoice_drop(struct account *a, uint8_t i) {
    a->inv[i] = a->inv[--a->n_inv];
}

void gen_fix_card(struct gen *g, uint32_t ai, int64_t t) {
    struct account *a = &g->acc[ai];
    new_card(g, a, 24, 25);
    emit_card(g, ai, t);
    for (uint8_t i = 0; i < a->n_inv;) {
        if (a->inv[i].failed) {
            pay(g, ai, &a->inv[i], t + 60000 + rng_below(&g->rng, 600000));
            invoice_drop(a, i);
        } else {
            i++;
        }
    }
    a->dunning = false;
}

/* Invoices, card charges, dunning and transfers. A card that died under the
 * involuntary-churn cause is neither renewed ahead of expiry nor fixed in
 * dunning: causes.c decides when that ends. */
static void billing(struct gen *g, uint32_t ai, const struct pressure *pr) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    uint32_t admin = a->users[0];
    /* Transfers due today, in the order they were issued. */
    for (uint8_t i = 0; i < a->n_inv;) {
        if (a->inv[i].pay_day == g->today) {
            pay(g, ai, &a->inv[i], gen_when(g, a));
            invoice_drop(a, i);
        } else {
            i++;
        }
    }
    /* Dunning: the customer fixes the card, the failed invoices go through. */
    if (a->cz.invol) {
        /* nothing: the card stays dead */
    } else if (a->dunning && rng_chance(r, 0.32)) {
        gen_fix_card(g, ai, gen_when(g, a));
    } else if (a->card && !a->dunning && a->card_end >= g->today && a->card_end - g->today <= 30 &&
               rng_chance(r, 0.05 * pr->card_care)) {
        new_card(g, a, 24, 25); /* updated before it expires */
        emit_card(g, ai, gen_when(g, a));
    }
    if (g->dom != a->bill_dom || g->today == a->created_day)
        return;
    /* The monthly invoice. */
    if (a->n_inv == GEN_MAX_INVOICES)
        invoice_drop(a, 0); /* stays unpaid for good */
    struct invoice *inv = &a->inv[a->n_inv++];
    inv->no = ++g->next_invoice;
    inv->failed = false;
    inv->pay_day = NEVER;
    int64_t t = after_setup(a, g->today, 5 * HOUR_MS + rng_below(r, 3600000));
    struct ev *e = gen_emit(g, GK_INVOICE_ISSUED, ai, admin, t);
    e->n2 = inv->no;
    e->num = a->mrr_cents;
    e->day = g->today + plans[a->plan].terms_days;
    if (a->card) {
        t += 60000 + rng_below(r, 3600000);
        bool expired = a->card_end < g->today;
        if (expired || a->dunning || rng_chance(r, 0.015)) {
            struct ev *f = gen_emit(g, GK_PAYMENT_FAILED, ai, admin, t);
            f->n2 = inv->no;
            inv->failed = true;
            a->dunning = true;
        } else {
            pay(g, ai, inv, t);
            invoice_drop(a, (uint8_t)(a->n_inv - 1));
        }
        return;
    }
    int32_t due = e->day, pay_day;
    if (pr->pay_late > 0 && rng_chance(r, pr->pay_late))
        pay_day = due + 10 + (int32_t)rng_below(r, 50);
    else if (a->late_payer)
        pay_day = due + 3 + (int32_t)rng_below(r, 28);
    else
        pay_day = g->today + 3 + (int32_t)rng_below(r, (uint32_t)(due - g->today - 3));
    inv->pay_day = pay_day;
}

static void outreach(struct gen *g, uint32_t ai, const struct pressure *pr) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    if (g->wday >= 5)
        return;
    double rate = 1.4 / plans[a->plan].outreach_days + pr->outreach;
    if (g->today < a->onboard_until)
        rate += 0.1;
    if (!rng_chance(r, rate))
        return;
    uint32_t x = rng_below(r, 100);
    uint8_t ch = x < 60 ? 0 : x < 75 ? 1 : x < 85 ? 2 : 3;
    int64_t t = gen_when(g, a);
    struct ev *e = gen_emit(g, GK_OUTREACH_SENT, ai, a->users[0], t);
    e->a = ch;
    if (!rng_chance(r, 0.72 * pr->reply))
        return;
    int32_t d = (int32_t)rng_below(r, 5);
    int64_t tr = d ? gen_business_ms(g, a) : t + 20 * MIN_MS + rng_below(r, 4 * 3600) * 1000LL;
    if (tr >= DAY_MS) {
        d = 1;
        tr = gen_business_ms(g, a);
    }
    e = gen_later(g, d, tr, GK_OUTREACH_REPLIED, ai, pick_member(g, a));
    e->a = ch;
}

void gen_churn(struct gen *g, uint32_t ai, int64_t t, uint8_t reason) {
    struct account *a = &g->acc[ai];
    struct ev *e = gen_emit(g, GK_CHURNED, ai, a->users[0], t);
    e->num = a->mrr_cents * 12;
    e->a = reason;
    a->churned = true;
    g->totals.churned++;
}

/* The renewal date: churn (causes.c decides) or renew, growing seats when
 * the team outgrew them, shrinking them for an account that came close to
 * leaving; then the causes of the next term are drawn. */
static void renewal(struct gen *g, uint32_t ai) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    int64_t t = after_setup(a, g->today, 20 * HOUR_MS + rng_below(r, 3 * 3600) * 1000LL);
    uint8_t reason;
    if (causes_renewal(g, a, &reason)) {
        gen_churn(g, ai, t, reason);
        return;
    }
    int64_t before = a->mrr_cents;
    if (a->cz.live & (1u << CAUSE_DISENGAGE | 1u << CAUSE_CHAMPION)) {
        uint32_t s = a->seats * 8 / 10;
        a->seats = s > a->members ? s : a->members;
    } else if (a->members * 10 >= a->seats * 9) {
        a->seats = a->members + (a->members + 4) / 5;
    }
    if (a->seats == 0)
        a->seats = 1;
    a->mrr_cents = a->price_cents * a->seats;
    /* The billing system's record of the seat change, a second before the
     * renewal that carries the new arr. */
    gen_sub_changed(g, ai, t - 1000, before,
                    a->mrr_cents > before ? SR_SEATS_ADDED : SR_SEATS_REMOVED);
    a->renewal_day = next_year(a->renewal_day);
    causes_draw(g, a, false);
    struct ev *e = gen_emit(g, GK_RENEWED, ai, a->users[0], t);
    e->num = a->mrr_cents * 12;
    g->totals.renewed++;
    gen_emit_group(g, ai, t + 1000, GROUP_RENEWAL);
}

/* A healthy account (no live cause, no contraction this term) moves to a
 * dearer tier now and then: 10-30 % more per seat, from rng_rev. The group
 * call that follows carries the new mrr (the CRM's echo of the change). */
static void upgrade(struct gen *g, uint32_t ai) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng_rev;
    if (g->wday >= 5 || g->today < a->setup_day || !rng_chance(r, GEN_UPGRADE_PER_DAY))
        return;
    if (a->cz.live || a->cz.contracted || a->cz.invol)
        return;
    int64_t before = a->mrr_cents;
    a->price_cents = a->price_cents * (110 + rng_below(r, 21)) / 100;
    a->mrr_cents = a->price_cents * a->seats;
    int64_t t = 14 * HOUR_MS + rng_below(r, 4 * 3600) * 1000LL;
    gen_sub_changed(g, ai, t, before, SR_UPGRADE);
    struct ev *e = emit_quiet(g, GK_GROUP, ai, a->users[0], t + 60000);
    e->a = GROUP_SEATS;
    e->num = a->mrr_cents;
    e->n2 = a->seats;
    e->day = a->renewal_day;
}

static void account_day(struct gen *g, uint32_t ai) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    if (a->churned)
        return;
    if (g->today >= a->next_adopt)
        adoption_update(g, a);
    struct pressure pr;
    causes_day(g, ai, &pr);
    if (a->churned)
        return; /* involuntary churn today */
    double activity = pr.activity;
    if (g->today >= a->dip_start && g->today < a->dip_end)
        activity *= 0.5;
    double ramp = 1.0;
    if (a->is_new && g->today - a->created_day < 21)
        ramp = 0.3 + 0.7 * (g->today - a->created_day) / 21.0;
    roster(g, ai, &pr);
    /* People in big accounts use the product less each: many seats are
     * bought for occasional users (1 / (1 + seats / 60): 0.9 for 5 seats,
     * 0.45 for 75). It also keeps a few big accounts from swinging a small
     * data set's density. */
    double f = g->day_factor * activity * ramp * GEN_ACTIVITY / (1.0 + a->seats / 60.0);
    for (uint32_t k = 0; k < a->n_users; k++) {
        uint32_t ui = a->users[k];
        const struct user *u = &g->users[ui];
        if (u->left_ms != INT64_MAX || u->join_day == g->today)
            continue;
        double lp = habits[u->habit].login_p * f;
        if (rng_chance(r, lp)) {
            session(g, ai, ui, pr.feats, ramp, pr.pricing);
            if (u->habit == 0 && rng_chance(r, 0.25))
                session(g, ai, ui, pr.feats, ramp, pr.pricing);
        }
    }
    if (g->today == a->next_survey)
        nps_wave(g, ai, &pr);
    tickets(g, ai, &pr);
    billing(g, ai, &pr);
    outreach(g, ai, &pr);
    if (a->members > a->seats && !a->cz.contracted && g->wday < 5 && rng_chance(r, 0.01)) {
        int64_t before = a->mrr_cents;
        a->seats = a->members + 1 + rng_below(r, 3); /* buys seats mid-term */
        a->mrr_cents = a->price_cents * a->seats;
        int64_t t = gen_when(g, a);
        gen_sub_changed(g, ai, t, before, SR_SEATS_ADDED);
        gen_emit_group(g, ai, t, GROUP_SEATS);
    }
    upgrade(g, ai);
    if (g->today == a->renewal_day)
        renewal(g, ai);
}

/* ---- the run --------------------------------------------------------------- */

static void day_begin(struct gen *g, int32_t day) {
    g->today = day;
    g->day_ms = (int64_t)day * DAY_MS;
    g->wday = (int)((day % 7 + 7 + 3) % 7);
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    g->dom = d;
    static const double weekday[] = {1.0, 1.0, 1.0, 0.95, 0.85, 0.07, 0.05};
    double season = 1.0;
    if ((m == 12 && d >= 20) || (m == 1 && d <= 2))
        season = 0.5;
    else if (m == 8)
        season = 0.85;
    g->day_factor = weekday[g->wday] * season;
    char date[16];
    dt_format_date(day, date);
    memcpy(g->ts_prefix, date, 10);
    g->ts_prefix[10] = 'T';
    /* Events scheduled for today come first, in the order they were made. */
    struct bucket *b = &g->ring[day % GEN_RING_DAYS];
    g->day.n = 0;
    for (size_t i = 0; i < b->n; i++)
        *bucket_push(&g->day) = b->v[i];
    b->n = 0;
}

static int cmp_i32(const void *x, const void *y) {
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* Fills order with 0..n-1 and shuffles its first k places (Fisher-Yates). */
static void shuffle(struct rng *r, uint32_t *order, uint32_t n, uint32_t k) {
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    for (uint32_t i = 0; i < k && i < n; i++) {
        uint32_t j = i + rng_below(r, n - i);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* Chooses the plans and the days on which new accounts are created. */
static void plan_accounts(struct gen *g) {
    struct rng *r = &g->rng;
    int32_t days = g->end - g->start;
    uint32_t n = g->n_acc;
    double span = days > 365 ? 1.0 : days / 365.0;
    uint32_t n_new = (uint32_t)(n * (GEN_NEW_PCT_YEAR / 100.0) * span + 0.5);
    if (n_new == 0 && n >= 10)
        n_new = 1;
    g->n_existing = n - n_new;
    g->new_days = xcalloc(n_new ? n_new : 1, sizeof *g->new_days);
    int32_t last = g->end - (days >= 60 ? days / 3 : 1); /* leave room for onboarding */
    for (uint32_t i = 0; i < n_new; i++)
        g->new_days[i] = g->start + (int32_t)rng_below(r, (uint32_t)(last - g->start + 1));
    qsort(g->new_days, n_new, sizeof *g->new_days, cmp_i32);
    /* Plans in their exact shares (in a random order): a few enterprise
     * accounts more or less would swing a small data set's density by 30 %. */
    uint32_t ne = g->n_existing;
    uint32_t *order = xmalloc((ne ? ne : 1) * sizeof *order);
    shuffle(r, order, ne, ne);
    uint32_t n_ent = (uint32_t)(ne * (plans[PLAN_ENTERPRISE].share_pct / 100.0) + 0.5);
    uint32_t n_gro = (uint32_t)(ne * (plans[PLAN_GROWTH].share_pct / 100.0) + 0.5);
    for (uint32_t i = 0; i < ne; i++) {
        int32_t created = g->start - 60 - (int32_t)rng_below(r, 1400);
        uint32_t k = order[i];
        enum plan plan = k < n_ent           ? PLAN_ENTERPRISE
                         : k < n_ent + n_gro ? PLAN_GROWTH
                                             : PLAN_STARTER;
        account_init(g, i, created, false, plan);
    }
    free(order);
}

static void gen_free(struct gen *g) {
    for (uint32_t i = 0; i < g->n_acc; i++)
        free(g->acc[i].users);
    free(g->acc);
    free(g->users);
    free(g->new_days);
    free(g->day.v);
    for (int i = 0; i < GEN_RING_DAYS; i++)
        free(g->ring[i].v);
    free(g->keys);
    free(g->keys_tmp);
    free(g->buf);
}

enum tend_err gen_write(FILE *out, const struct gen_options *opt, struct gen_totals *totals) {
    if (opt->accounts < 1 || opt->accounts > GEN_MAX_ACCOUNTS || opt->days < 1 ||
        opt->days > GEN_MAX_DAYS)
        return TEND_ERR_USAGE;
    struct gen *g = xcalloc(1, sizeof *g);
    g->opt = opt;
    g->out = out;
    uint64_t x = opt->seed;
    for (int i = 0; i < 4; i++)
        g->rng.s[i] = splitmix64(&x);
    g->id_salt = splitmix64(&x);
    uint64_t xr = opt->seed ^ UINT64_C(0x5245564e55450020); /* "REVENUE " */
    for (int i = 0; i < 4; i++)
        g->rng_rev.s[i] = splitmix64(&xr);
    g->end = opt->end_day;
    g->start = opt->end_day - opt->days;
    g->n_acc = (uint32_t)opt->accounts;
    g->acc = xcalloc(g->n_acc, sizeof *g->acc);
    g->buf = xmalloc(GEN_OUT_BYTES);
    g->today = g->start;
    plan_accounts(g);

    uint32_t next_new = 0, n_new = g->n_acc - g->n_existing;
    for (int32_t day = g->start; day < g->end && !g->io_failed; day++) {
        day_begin(g, day);
        if (day == g->start) {
            for (uint32_t i = 0; i < g->n_existing; i++) {
                adoption_update(g, &g->acc[i]);
                account_setup(g, i, rng_below(&g->rng, 600000));
            }
            g->n_live = g->n_existing;
        }
        while (next_new < n_new && g->new_days[next_new] == day) {
            uint32_t ai = g->n_existing + next_new++;
            account_init(g, ai, day, true, N_PLANS);
            account_setup(g, ai, 6 * HOUR_MS + rng_below(&g->rng, 12 * 3600) * 1000LL);
            g->n_live = ai + 1;
            g->totals.new_accounts++;
        }
        for (uint32_t i = 0; i < g->n_live; i++)
            account_day(g, i);
        gen_write_day(g);
    }
    gen_flush(g);
    if (!g->io_failed && fflush(out) != 0)
        g->io_failed = true;
    g->totals.accounts = g->n_live;
    enum tend_err err = g->io_failed ? TEND_ERR_IO : TEND_OK;
    if (!err)
        *totals = g->totals;
    gen_free(g);
    free(g);
    return err;
}
