/* causes.c: why the generator's accounts churn (docs/generate.md, "Why
 * accounts churn").
 *
 * Churn comes from latent causes, not from tend's rules. Four are tied to
 * the renewal: each term (the year up to a renewal date) an account draws
 * each with its own share; a live cause sets in weeks to months before the
 * renewal (its onset), with a strength s in [0.3, 1], and its pressure p
 * rises from 0 at the onset to 1 at the renewal:
 *   disengagement  usage declines, people leave, replies and NPS fall;
 *   champion       the most engaged user leaves on the onset day; the
 *                  rest's usage sags over the following month;
 *   tickets        more tickets, more of them urgent, and the high and
 *                  urgent ones stay open for weeks; NPS falls;
 *   price          visits to the pricing page, NPS comments about price,
 *                  transfers paid late; most ask for a smaller plan
 *                  (fewer seats, often a discount) before the renewal.
 * Some live causes fade before the renewal (the account recovers: a false
 * alarm). At the renewal each unfaded cause churns the account with a
 * chance that grows with its strength; accounts without one churn at
 * GEN_SILENT_PCT % (acquired, budget cuts: no signal). The fifth cause,
 * involuntary churn, follows no term: a card payer's card dies at any time,
 * the failed payments are not fixed in dunning, and after 5-13 weeks the
 * account churns (INVOL_CHURN) or the card is finally replaced. Accounts can
 * have several causes at once. The reason on "Account Churned" fits the
 * strongest cause, with noise (reasons in real CRMs are unreliable).
 *
 * Every number is here, in cause_defs and the constants below; none is
 * tuned to tend's rules. Deterministic: draws from g->rng in a fixed order,
 * only + - * / on doubles. */
#include "gen/gen_int.h"

/* A cause tied to the renewal. share: of terms. lead: onset lo + [0, span)
 * days before the renewal. fade: chance the cause fades away on its own
 * (starting 30-70 % of the way to the renewal). Churn at the renewal with
 * chance churn_base + churn_slope x strength. */
static const struct cause_def {
    double share;
    int lead_lo, lead_span;
    double fade;
    double churn_base, churn_slope;
    uint8_t reasons[3]; /* the reasons it gives, one drawn */
} cause_defs[N_TERM_CAUSES] = {
    [CAUSE_DISENGAGE] = {0.07, 45, 106, 0.20, 0.25, 0.60, {R_ADOPTION, R_COMPETITOR, R_FEATURES}},
    [CAUSE_CHAMPION] = {0.03, 30, 91, 0.0, 0.20, 0.50, {R_CHAMPION, R_CHAMPION, R_COMPETITOR}},
    [CAUSE_TICKETS] = {0.04, 30, 71, 0.25, 0.15, 0.50, {R_SUPPORT, R_QUALITY, R_SUPPORT}},
    [CAUSE_PRICE] = {0.045, 21, 70, 0.20, 0.20, 0.45, {R_PRICE, R_BUDGET, R_COMPETITOR}},
};

#define INVOL_SHARE_YEAR 0.045 /* card payers whose card dies, per year */
#define INVOL_CHURN      0.6   /* of those, churned by it */
#define REASON_NOISE     0.25  /* churns whose reason is drawn from any of the voluntary ones */
#define CONTRACT_PCT     0.7   /* price-pressed accounts that shrink their plan before renewal */

static const uint8_t silent_reasons[] = {R_BUDGET, R_ACQUIRED, R_CLOSED};

/* Draws, for an account on the day its term starts (today, or for an
 * account that exists when the window opens, the window's first day),
 * whether its card dies within the next year and when. */
static void invol_draw(struct gen *g, struct account *a, int32_t from, int32_t span) {
    struct causes *z = &a->cz;
    struct rng *r = &g->rng;
    if (z->invol || (z->invol_onset != NEVER && z->invol_onset >= g->today))
        return; /* one under way, or one to come */
    z->invol_onset = z->invol_end = NEVER;
    if (!a->card || !rng_chance(r, INVOL_SHARE_YEAR))
        return;
    z->invol_onset = from + (int32_t)rng_below(r, (uint32_t)span);
    z->invol_end = z->invol_onset + 35 + (int32_t)rng_below(r, 56);
    z->invol_churn = rng_chance(r, INVOL_CHURN);
}

void causes_draw(struct gen *g, struct account *a, bool first_term) {
    struct causes *z = &a->cz;
    struct rng *r = &g->rng;
    if (first_term) {
        z->invol = false;
        z->invol_onset = z->invol_end = NEVER;
    }
    z->live = 0;
    z->champion_gone = z->contracted = false;
    z->contract_day = NEVER;
    for (int c = 0; c < N_TERM_CAUSES; c++) {
        z->onset[c] = z->fade[c] = NEVER;
        z->strength[c] = 0;
        if (rng_chance(r, cause_defs[c].share)) {
            z->live |= (uint8_t)(1u << c);
            z->strength[c] = 0.4 + 0.6 * rng_unit(r);
        }
    }
    int32_t days = g->end - g->start;
    /* An existing account with a cause renews after the window has run long
     * enough to show it (the share per renewal stays the same). */
    int32_t lo = days / 2 < 70 ? days / 2 : 70;
    if (first_term && !a->is_new && z->live && a->renewal_day < g->start + lo && days > lo)
        a->renewal_day = g->start + lo + (int32_t)rng_below(r, (uint32_t)(days - lo));
    int32_t term_start = !first_term ? g->today : a->is_new ? a->created_day : a->renewal_day - 365;
    for (int c = 0; c < N_TERM_CAUSES; c++) {
        if (!(z->live & (1u << c)))
            continue;
        const struct cause_def *d = &cause_defs[c];
        int32_t on = a->renewal_day - d->lead_lo - (int32_t)rng_below(r, (uint32_t)d->lead_span);
        if (on <= term_start)
            on = term_start + 1;
        z->onset[c] = on;
        int32_t len = a->renewal_day - on;
        if (d->fade > 0 && rng_chance(r, d->fade))
            z->fade[c] = on + (int32_t)((double)len * (0.3 + 0.4 * rng_unit(r)));
        if (c == CAUSE_PRICE && rng_chance(r, CONTRACT_PCT))
            z->contract_day = on + (int32_t)((double)len * (0.3 + 0.4 * rng_unit(r)));
    }
    if (first_term && !a->is_new)
        invol_draw(g, a, g->start, 365);
    else if (first_term)
        invol_draw(g, a, a->created_day + 30, 335);
    else
        invol_draw(g, a, g->today + 1, 364);
}

/* The pressure of cause c today: 0 before its onset, rising to 1 at the
 * renewal (1 - (1 - t)^2 of the way t: fast at first); after it starts to
 * fade, back to 0 over three weeks. */
static double progress(const struct account *a, int c, int32_t today) {
    const struct causes *z = &a->cz;
    int32_t on = z->onset[c];
    if (today < on)
        return 0.0;
    double len = (double)(a->renewal_day - on + 1);
    int32_t until = today < z->fade[c] ? today : z->fade[c];
    double t = (double)(until - on + 1) / len;
    if (t > 1.0)
        t = 1.0;
    double p = 1.0 - (1.0 - t) * (1.0 - t); /* fast at first, still growing at the end */
    if (today >= z->fade[c]) {
        double k = 1.0 - (double)(today - z->fade[c]) / 21.0;
        p = k > 0 ? p * k : 0.0;
    }
    return p;
}

/* The champion leaves: the most engaged current member but the admin (the
 * first power user, else the first regular...). */
static void champion_leaves(struct gen *g, uint32_t ai) {
    struct account *a = &g->acc[ai];
    uint32_t best = 0;
    int best_habit = 99;
    for (uint32_t k = 1; k < a->n_users; k++) {
        const struct user *u = &g->users[a->users[k]];
        if (u->left_ms == INT64_MAX && u->join_day < g->today && u->habit < best_habit) {
            best = k;
            best_habit = u->habit;
        }
    }
    a->cz.champion_gone = true;
    if (!best)
        return; /* the champion was not a user of the product: only the sag shows */
    struct user *u = &g->users[a->users[best]];
    int64_t t = gen_when(g, a);
    gen_emit(g, GK_USER_REMOVED, ai, a->users[best], t);
    u->left_ms = g->day_ms + t;
    a->members--;
    a->cz.champion = a->users[best];
}

/* A price-pressed account shrinks its plan: 15-40 % fewer seats (users
 * beyond them removed, the least active first) and, half the time, a 15 %
 * discount. */
static void contract(struct gen *g, uint32_t ai) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    uint32_t seats = a->seats * (60 + rng_below(r, 26)) / 100;
    if (seats < 1)
        seats = 1;
    int64_t t = gen_when(g, a);
    for (int habit = 3; habit >= 0 && a->members > seats; habit--) {
        for (uint32_t k = a->n_users; k-- > 1 && a->members > seats;) {
            struct user *u = &g->users[a->users[k]];
            if (u->habit != habit || u->left_ms != INT64_MAX || u->join_day >= g->today)
                continue;
            gen_emit(g, GK_USER_REMOVED, ai, a->users[k], t);
            u->left_ms = g->day_ms + t;
            a->members--;
            t += 1000 + rng_below(r, 30000);
        }
    }
    int64_t before = a->mrr_cents;
    a->seats = seats > a->members ? seats : a->members;
    bool discount = rng_chance(r, 0.5);
    if (discount)
        a->price_cents = a->price_cents * 85 / 100;
    a->mrr_cents = a->price_cents * a->seats;
    a->cz.contracted = true;
    gen_sub_changed(g, ai, t + 1000, before, discount ? SR_DOWNGRADE : SR_SEATS_REMOVED);
    gen_emit_group(g, ai, t + 1000, GROUP_SEATS);
}

void causes_day(struct gen *g, uint32_t ai, struct pressure *pr) {
    struct account *a = &g->acc[ai];
    struct causes *z = &a->cz;
    int32_t today = g->today;
    *pr = (struct pressure){.activity = 1.0,
                            .feats = 1.0,
                            .nps_answer = 1.0,
                            .tickets = 1.0,
                            .leave = 1.0,
                            .join = 1.0,
                            .reply = 1.0,
                            .card_care = 1.0};
    /* Involuntary churn: the card dies; dunning fails until the end. */
    if (today == z->invol_onset && a->card) {
        z->invol = true;
        a->card_end = today - 1;
    }
    if (z->invol && today == z->invol_end) {
        z->invol = false;
        if (z->invol_churn) {
            gen_churn(g, ai, gen_when(g, a), R_PAYMENT);
            return;
        }
        gen_fix_card(g, ai, gen_when(g, a));
    }
    if (!z->live)
        return;
    double x;
    if (z->live & (1u << CAUSE_DISENGAGE) &&
        (x = z->strength[CAUSE_DISENGAGE] * progress(a, CAUSE_DISENGAGE, today)) > 0) {
        pr->activity *= 1.0 - 0.85 * x;
        pr->feats *= 1.0 - 0.5 * x;
        pr->leave *= 1.0 + 4.0 * x;
        pr->join *= x < 0.8 ? 1.0 - 1.25 * x : 0.0;
        pr->nps_shift -= 2.5 * x;
        pr->nps_answer *= 1.0 - 0.4 * x;
        pr->reply *= 1.0 - 0.6 * x;
        pr->outreach += 0.06 * x;
        pr->card_care *= 1.0 - 0.8 * x;
        if (x > 0.2)
            pr->det_comment = C_DET_ADOPTION;
    }
    if (z->live & (1u << CAUSE_CHAMPION) && today >= z->onset[CAUSE_CHAMPION]) {
        if (!z->champion_gone)
            champion_leaves(g, ai);
        double k = (double)(today - z->onset[CAUSE_CHAMPION]) / 30.0;
        x = (k < 1.0 ? k : 1.0) * z->strength[CAUSE_CHAMPION];
        pr->activity *= 1.0 - 0.45 * x;
        pr->feats *= 1.0 - 0.2 * x;
        pr->nps_shift -= 1.5 * x;
        pr->reply *= 1.0 - 0.5 * x;
        pr->leave *= 1.0 + 2.0 * x;
        if (x > 0.3)
            pr->det_comment = C_DET_OTHERS;
    }
    if (z->live & (1u << CAUSE_TICKETS) &&
        (x = z->strength[CAUSE_TICKETS] * progress(a, CAUSE_TICKETS, today)) > 0) {
        pr->tickets *= 1.0 + 2.5 * x;
        pr->prio_shift += (int)(45.0 * x);
        pr->stuck = 0.75 * z->strength[CAUSE_TICKETS];
        pr->nps_shift -= 4.0 * x;
        pr->activity *= 1.0 - 0.15 * x;
        pr->det_comment = x > 0.5 ? C_DET_BUGS : C_DET_SUPPORT;
    }
    if (z->live & (1u << CAUSE_PRICE) &&
        (x = z->strength[CAUSE_PRICE] * progress(a, CAUSE_PRICE, today)) > 0) {
        if (today == z->contract_day && g->wday < 5)
            contract(g, ai);
        else if (today == z->contract_day)
            z->contract_day++; /* on the next working day */
        pr->nps_shift -= 1.5 * x;
        pr->pricing += 0.12 * x;
        pr->pay_late = 0.5 * x;
        pr->activity *= 1.0 - 0.1 * x;
        pr->pas_comment = C_PAS_PRICE;
        pr->det_comment = C_DET_PRICE;
    }
}

bool causes_renewal(struct gen *g, const struct account *a, uint8_t *reason) {
    const struct causes *z = &a->cz;
    struct rng *r = &g->rng;
    double stay = 1.0 - GEN_SILENT_PCT / 100.0, best = 0;
    int dom = -1;
    for (int c = 0; c < N_TERM_CAUSES; c++) {
        if (!(z->live & (1u << c)) || z->fade[c] <= g->today)
            continue;
        double s = z->strength[c];
        stay *= 1.0 - (cause_defs[c].churn_base + cause_defs[c].churn_slope * s);
        if (s > best) {
            best = s;
            dom = c;
        }
    }
    if (!rng_chance(r, 1.0 - stay))
        return false;
    if (dom < 0)
        *reason = silent_reasons[rng_below(r, sizeof silent_reasons)];
    else if (rng_chance(r, REASON_NOISE))
        *reason = (uint8_t)rng_below(r, R_PAYMENT); /* any voluntary reason */
    else
        *reason = cause_defs[dom].reasons[rng_below(r, 3)];
    return true;
}
