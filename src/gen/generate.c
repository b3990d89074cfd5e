/* generate.c: a fictional B2B SaaS as Segment JSON Lines (see generate.h).
 *
 * The model. N accounts (plans starter/growth/enterprise, 50/38/12 %) buy seats
 * at a per-seat price (mrr = seats x price), have a CSM among six, a time zone,
 * premium products and a payment method (card or invoice). Most exist when
 * the window opens; GEN_NEW_PCT_YEAR % per year of window are created inside
 * it and go through onboarding (five milestones due, adoption goals set, a
 * team that joins over a few weeks). Users carry a habit (power, regular, occasional, dormant) that
 * sets how often they sign in on a working day and how many feature events a
 * session holds; weekends, late December and August are quieter. Fourteen
 * features: core ones most accounts adopted long ago, premium ones only for
 * accounts that bought the product (events carry `product`), and two features
 * launched inside the window and adopted gradually. NPS survey waves every
 * ~4 months, tickets in proportion to the team, monthly invoices paid by card
 * (failing on an expired card, then dunning until the card is updated) or by
 * transfer (some accounts always late), CSM outreach on a cadence, and at each
 * renewal date an "Account Renewed" (with seat expansion when the team grew)
 * or an "Account Churned".
 *
 * The signal. GEN_DOOMED_PCT % of the accounts present at the start (per
 * year of window) are doomed: their renewal falls inside the window and, for
 * the 6 to 12 weeks before it, a progress p rises from 0 to 1: logins and
 * feature use fall to 25 %, NPS answers drop by up to 5.5 points, tickets
 * rise up to 4x and turn urgent, card payments fail and transfers slip or
 * stop, replies to outreach dry up while the CSM writes more, people leave.
 * Most doomed accounts churn; GEN_SAVED_PCT % are saved and renew (smaller);
 * after each renewal an account is doomed again with the same odds. A few
 * healthy accounts churn without warning (acquired, budget cuts) and a fifth
 * have a two-week dip and recover, so a churn model meets noise too.
 *
 * The main design decision: simulate one day at a time and emit that day's
 * events sorted, never the history. The state is per account and per user
 * (a few hundred bytes each); events that happen later (a ticket closed, a
 * reply, an NPS answer, a milestone completed) wait in a ring of day buckets
 * GEN_RING_DAYS deep. A day's events are collected as 40-byte records, sorted
 * by a 3-pass stable radix sort on the millisecond of the day (ties keep
 * creation order, so a group call always precedes the identify calls and
 * events it makes valid), then formatted by hand into a 1 MiB output buffer:
 * no printf, no JSON library, integer-only number formatting. That is what
 * makes it write several million events a second (docs/generate.md).
 *
 * Determinism: one xoshiro256** generator seeded through splitmix64 from
 * --seed, consumed in a fixed order; only integer arithmetic and IEEE + - * /
 * on doubles (no libm), so a seed gives the same bytes on any build.
 * messageIds are a bijective 64-bit mix of the output sequence number: unique
 * by construction. */
#include "gen/generate.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/datetime.h"
#include "util/mem.h"

/* ---- knobs ------------------------------------------------------------------ */

#define GEN_DOOMED_PCT   12  /* accounts present at the start that decline and churn */
#define GEN_SAVED_PCT    15  /* of the doomed, saved by their CSM: they renew */
#define GEN_SURPRISE_PCT 2.5 /* healthy renewals that churn anyway */
#define GEN_NEW_PCT_YEAR 12  /* accounts created per year of window, % of N */
#define GEN_ACTIVITY     1.2 /* scales every login probability (density) */
#define GEN_RING_DAYS    128 /* how far ahead an event can be scheduled */
#define GEN_MAX_INVOICES 4   /* unpaid invoices followed per account */
#define GEN_OUT_BYTES    (1 << 20)
#define GEN_MAX_LINE     4096 /* far above the longest message (a group call) */
#define NEVER            INT32_MAX
#define DAY_MS           DT_MS_PER_DAY
#define HOUR_MS          3600000LL
#define MIN_MS           60000LL

/* ---- vocabulary ----------------------------------------------------------- */

struct str {
    const char *s;
    uint32_t n;
};
/* clang-format off */
#define S(lit) {lit, sizeof(lit) - 1}
/* clang-format on */

enum plan { PLAN_STARTER, PLAN_GROWTH, PLAN_ENTERPRISE, N_PLANS };

static const struct plan_def {
    struct str name, segment;
    int share_pct;
    int seats_lo, seats_hi;
    int price_lo, price_hi; /* cents per seat per month */
    int card_pct;           /* pays by card, else by invoice transfer */
    int products_pct;       /* has premium products */
    int terms_days;         /* invoice due after */
    int outreach_days;      /* CSM cadence */
} plans[N_PLANS] = {
    {S("starter"), S("smb"), 50, 2, 8, 2900, 4500, 95, 10, 14, 90},
    {S("growth"), S("mid-market"), 38, 8, 30, 4500, 7500, 55, 40, 30, 45},
    {S("enterprise"), S("enterprise"), 12, 30, 120, 7000, 11000, 10, 80, 30, 21},
};

#define N_PRODUCTS 4
static const struct str products[N_PRODUCTS] = {S("analytics"), S("automation"), S("integrations"),
                                                S("api")};

/* product: 0 none, else index + 1. adopt_pct: accounts using it at the start
 * (of those that can). launch_pct: 0 for an old feature, else the point of
 * the window (in %) at which it ships. */
static const struct feature {
    struct str name;
    uint8_t product, weight, adopt_pct, launch_pct;
} features[] = {
    {S("Dashboard Viewed"), 0, 30, 100, 0},   {S("Task Completed"), 0, 20, 90, 0},
    {S("Comment Added"), 0, 12, 75, 0},       {S("Search Performed"), 0, 10, 85, 0},
    {S("Report Created"), 0, 8, 85, 0},       {S("File Uploaded"), 0, 7, 60, 0},
    {S("Report Exported"), 0, 6, 70, 0},      {S("Project Created"), 0, 4, 80, 0},
    {S("Insight Viewed"), 1, 9, 85, 0},       {S("Workflow Run"), 2, 10, 85, 0},
    {S("Integration Synced"), 3, 6, 85, 0},   {S("API Key Created"), 4, 2, 85, 0},
    {S("AI Summary Generated"), 0, 9, 0, 30}, {S("Forecast Viewed"), 1, 6, 0, 55},
};
#define N_FEATURES  (sizeof features / sizeof features[0])
#define F_DASHBOARD 0

/* Login probability on a full working day and mean feature events a session. */
static const struct habit {
    double login_p, feats;
    int share_pct;
} habits[] = {{0.85, 3.0, 10}, {0.38, 2.2, 35}, {0.13, 1.6, 35}, {0.02, 1.0, 20}};
#define N_HABITS (sizeof habits / sizeof habits[0])

static const struct csm {
    struct str email, slack;
} csms[] = {
    {S("dana.ortiz@tend.example"), S("U024BE7LH")},
    {S("sam.keller@tend.example"), S("U03K9QW2P")},
    {S("priya.nair@tend.example"), S("U01H4ZL8M")},
    {S("tomas.berg@tend.example"), S("U05TB7X1C")},
    {S("ines.moreau@tend.example"), S("U02IM3R9D")},
    {S("kofi.mensah@tend.example"), S("U04KM6N2F")},
};
#define N_CSMS (sizeof csms / sizeof csms[0])

static const struct tz {
    int hours;
    struct str region;
} tzs[] = {
    {-8, S("North America")}, {-7, S("North America")}, {-6, S("North America")},
    {-5, S("North America")}, {-5, S("North America")}, {-3, S("Latin America")},
    {0, S("EMEA")},           {1, S("EMEA")},           {1, S("EMEA")},
    {2, S("EMEA")},           {8, S("APAC")},           {10, S("APAC")},
};
#define N_TZS (sizeof tzs / sizeof tzs[0])

static const char *const company_a[] = {
    "Acme",          "Globex",    "Initech",  "Umbrella",  "Hooli",     "Vandelay", "Stark",
    "Wayne",         "Wonka",     "Tyrell",   "Cyberdyne", "Soylent",   "Massive",  "Oscorp",
    "Dunder",        "Sterling",  "Nakatomi", "Aperture",  "Monarch",   "Virtucon", "Gekko",
    "Prestige",      "Bluth",     "Sirius",   "Nimbus",    "Kramerica", "Ajax",     "Contoso",
    "Fabrikam",      "Northwind", "Tailspin", "Litware",   "Proseware", "Wingtip",  "Blue Yonder",
    "Fourth Coffee", "Alpine",    "Margie",   "Lucerne",   "Coho",
};
static const char *const company_b[] = {
    "Logistics", "Analytics", "Health",     "Labs",     "Systems",  "Foods",     "Energy",
    "Robotics",  "Media",     "Capital",    "Retail",   "Software", "Networks",  "Biotech",
    "Motors",    "Studios",   "Consulting", "Security", "Travel",   "Education", "Insurance",
    "Foundry",   "Farms",     "Freight",    "Apparel",
};
#define N_COMPANY_A (sizeof company_a / sizeof company_a[0])
#define N_COMPANY_B (sizeof company_b / sizeof company_b[0])

static const char *const first_names[] = {
    "Ada",  "Bob",    "Chloe", "Dev",    "Elena", "Farid", "Grace", "Hiro", "Ines",   "Jonas",
    "Kara", "Liam",   "Maya",  "Nikos",  "Olga",  "Pablo", "Quinn", "Rosa", "Sven",   "Tara",
    "Umar", "Vera",   "Wen",   "Ximena", "Yusuf", "Zoe",   "Amir",  "Bea",  "Carlos", "Dina",
    "Emil", "Fatima", "Gus",   "Hana",   "Ivan",  "Jade",  "Kofi",  "Lena", "Marco",  "Nora",
};
static const char *const last_names[] = {
    "Adams",   "Baker",     "Chen",     "Diaz",    "Evans",    "Fischer", "Garcia",  "Hughes",
    "Ivanova", "Jensen",    "Kim",      "Lopez",   "Muller",   "Nguyen",  "Okafor",  "Patel",
    "Quist",   "Rossi",     "Silva",    "Tanaka",  "Usman",    "Vogel",   "Walsh",   "Xu",
    "Young",   "Zhang",     "Andersen", "Brown",   "Costa",    "Dubois",  "Eriksen", "Ferrari",
    "Gupta",   "Haddad",    "Ito",      "Jones",   "Kowalski", "Larsen",  "Moreau",  "Novak",
    "Olsen",   "Park",      "Reyes",    "Schmidt", "Torres",   "Weber",   "Yilmaz",  "Zimmer",
    "Mensah",  "Lindqvist",
};
#define N_FIRST    (sizeof first_names / sizeof first_names[0])
#define N_LAST     (sizeof last_names / sizeof last_names[0])
#define NAME_CYCLE 200 /* lcm(N_FIRST, N_LAST) */

static const char *const titles[] = {
    "CEO",
    "CTO",
    "VP Operations",
    "Head of Customer Success",
    "Ops Manager",
    "Product Manager",
    "Data Analyst",
    "Software Engineer",
    "Account Executive",
    "Marketing Manager",
    "Finance Manager",
    "Project Coordinator",
    "Support Lead",
    "Designer",
};
#define N_TITLES (sizeof titles / sizeof titles[0])

static const struct str priorities[] = {S("low"), S("normal"), S("high"), S("urgent")};
static const struct str channels[] = {S("email"), S("call"), S("meeting"), S("slack")};

static const struct milestone {
    struct str name;
    int due_days;
} milestones[] = {
    {S("kickoff_call"), 5},  {S("data_imported"), 12},    {S("first_report"), 20},
    {S("team_invited"), 30}, {S("integration_live"), 45},
};
#define N_MILESTONES (sizeof milestones / sizeof milestones[0])

/* Churn reasons: the first REASONS_DOOMED follow a decline; the rest come
 * out of the blue. */
static const struct str reasons[] = {
    S("poor adoption"),
    S("switched to competitor"),
    S("price too high"),
    S("champion left"),
    S("missing features"),
    S("product quality issues"),
    S("poor support experience"),
    S("budget cuts"),
    S("acquired"),
    S("company closed"),
};
#define REASONS_DOOMED 7
#define N_REASONS      (sizeof reasons / sizeof reasons[0])

static const struct str comments_pro[] = {
    S("Love the new dashboards"), S("Saves our team hours every week"), S("Great support team"),
    S("Exports just work"),       S("Best tool we adopted this year"),
};
static const struct str comments_pas[] = {
    S("Good, but reporting could be faster"),
    S("Does the job"),
    S("Pricing is a bit high for us"),
    S("Would like more integrations"),
};
static const struct str comments_det[] = {
    S("Too slow for our team"),        S("We keep hitting bugs"),
    S("Support takes days to answer"), S("Hard to get the team to use it"),
    S("Missing features we need"),     S("Considering other options"),
};
#define N_PRO (sizeof comments_pro / sizeof comments_pro[0])
#define N_PAS (sizeof comments_pas / sizeof comments_pas[0])
#define N_DET (sizeof comments_det / sizeof comments_det[0])

static const struct page {
    struct str name, path;
} pages[] = {
    {S("Help Center"), S("/help")},
    {S("Release Notes"), S("/changelog")},
    {S("Billing"), S("/settings/billing")},
    {S("Pricing"), S("/pricing")},
};
static const struct str screens[] = {S("Home"), S("Tasks"), S("Notifications")};
#define N_PAGES   (sizeof pages / sizeof pages[0])
#define N_SCREENS (sizeof screens / sizeof screens[0])

/* ---- PRNG: xoshiro256** seeded by splitmix64 ------------------------------ */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64's finalizer: a bijection on 64 bits (each step is invertible). */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double rng_unit(struct rng *r) {
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply; the bias is below 2^-32). */
static uint32_t rng_below(struct rng *r, uint32_t n) {
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

static bool rng_chance(struct rng *r, double p) {
    return rng_unit(r) < p;
}

/* ---- state ---------------------------------------------------------------- */

enum gk {
    GK_GROUP,
    GK_IDENTIFY,
    GK_ALIAS,
    GK_PAGE,
    GK_SCREEN,
    GK_LOGIN,
    GK_FEATURE,
    GK_NPS,
    GK_TICKET_OPENED,
    GK_TICKET_CLOSED,
    GK_INVOICE_ISSUED,
    GK_INVOICE_PAID,
    GK_PAYMENT_FAILED,
    GK_CARD_UPDATED,
    GK_OUTREACH_SENT,
    GK_OUTREACH_REPLIED,
    GK_GOAL_SET,
    GK_MILESTONE_DUE,
    GK_MILESTONE_DONE,
    GK_RENEWED,
    GK_CHURNED,
    GK_USER_REMOVED,
};

/* How a track, page or screen event names its account (SPEC 1). */
enum route { ROUTE_GROUP, ROUTE_PROPERTY, ROUTE_MEMBERSHIP };

/* Group call variants. */
enum { GROUP_FULL, GROUP_RENEWAL, GROUP_SEATS };

/* One message to write. The fields' meaning depends on kind (see format_ev). */
struct ev {
    int64_t ts_ms;
    int64_t num;      /* cents (mrr, amount, arr) */
    uint32_t account; /* index */
    uint32_t user;    /* index into gen.users */
    uint32_t n2;      /* ticket, invoice, goal number; card year; seats */
    int32_t day;      /* a date: due date, renewal date */
    uint8_t kind, route, a, b;
};

_Static_assert(sizeof(struct ev) == 40, "a day's events are 40-byte records");

struct user {
    int64_t left_ms; /* when "Account Removed User" ended the membership; INT64_MAX if never */
    uint32_t account;
    int32_t join_day;
    uint16_t ordinal; /* k-th user of the account: picks name and email */
    uint8_t habit;
    uint8_t mobile;
};

struct invoice {
    uint32_t no;
    int32_t pay_day; /* NEVER while failed or unpaid for good */
    bool failed;
};

struct account {
    char id[16];
    uint8_t id_len;
    uint8_t plan, csm, tz, products; /* products: bit i = products[i] */
    uint8_t name_a, name_b;
    uint16_t name_n; /* 0, or a number that tells apart companies of the same name */
    bool card, late_payer, doomed, saved, churned, dunning, is_new;
    uint8_t n_inv, n_adopted, bill_dom;
    int32_t created_day, setup_day, renewal_day, det_start;
    int32_t dip_start, dip_end, next_survey, next_adopt, onboard_until;
    int32_t card_end; /* last day of the card's expiry month */
    int32_t card_month, card_year;
    int64_t active_from; /* ms of the setup day before which it does nothing */
    int64_t price_cents; /* per seat per month */
    int64_t mrr_cents;
    uint32_t seats, members, target_users;
    double nps_mean;
    int32_t adopt[N_FEATURES];
    uint8_t chooser[N_FEATURES]; /* adopted features, for picking */
    uint32_t cum[N_FEATURES];    /* cumulative weights over chooser */
    struct invoice inv[GEN_MAX_INVOICES];
    uint32_t *users; /* indexes into gen.users, in joining order; [0] is the admin */
    uint32_t n_users, cap_users;
};

struct bucket {
    struct ev *v;
    size_t n, cap;
};

struct gen {
    struct rng rng;
    const struct gen_options *opt;
    struct gen_totals totals;
    int32_t start, end;
    struct account *acc;
    uint32_t n_acc, n_live, n_existing;
    int32_t *new_days; /* creation day of accounts n_existing.., ascending */
    struct user *users;
    uint32_t n_users, cap_users;
    uint32_t next_ticket, next_invoice, next_goal;
    /* the day being simulated */
    int32_t today;
    int64_t day_ms;
    int wday; /* 0 Monday .. 6 Sunday */
    int dom;  /* day of the month */
    double day_factor;
    struct bucket day;
    struct bucket ring[GEN_RING_DAYS];
    struct ev dropped; /* where events scheduled past the end go */
    uint64_t *keys, *keys_tmp;
    size_t cap_keys;
    /* output */
    FILE *out;
    char *buf;
    size_t len;
    bool io_failed;
    char ts_prefix[11]; /* "YYYY-MM-DDT" of today */
    uint64_t seq, id_salt;
};

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
static struct ev *emit(struct gen *g, enum gk kind, uint32_t account, uint32_t user, int64_t t) {
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
static struct ev *later(struct gen *g, int32_t d, int64_t t, enum gk kind, uint32_t account,
                        uint32_t user) {
    if (d == 0)
        return emit(g, kind, account, user, t);
    return schedule(g, g->today + d, kind, account, user, t);
}

/* ---- time of day ----------------------------------------------------------- */

/* A working-hours instant of the account's time zone, as ms of the UTC day:
 * local 07:30-18:30, peaking early afternoon. */
static int64_t business_ms(struct gen *g, const struct account *a) {
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

static int64_t when(struct gen *g, const struct account *a) {
    return after_setup(a, g->today, business_ms(g, a));
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
    struct ev *e = emit(g, GK_IDENTIFY, ai, ui, t);
    uint32_t v = rng_below(&g->rng, 100);
    e->b = v < 80 ? 0 : v < 95 ? 1 : 2; /* company_id, company.id, accountExternalId */
    if (alias && rng_chance(&g->rng, 0.5))
        emit(g, GK_ALIAS, ai, ui, t + 1);
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
    struct ev *e = emit(g, GK_CARD_UPDATED, ai, a->users[0], t);
    e->a = (uint8_t)a->card_month;
    e->n2 = (uint32_t)a->card_year;
}

static void emit_group(struct gen *g, uint32_t ai, int64_t t, int variant) {
    struct account *a = &g->acc[ai];
    struct ev *e = emit(g, GK_GROUP, ai, a->users[0], t);
    e->a = (uint8_t)variant;
    e->num = a->mrr_cents;
    e->n2 = a->seats;
    e->day = a->renewal_day;
}

/* Starts the decline of a doomed account: 6 to 12 weeks before its renewal. */
static void doom(struct gen *g, struct account *a) {
    a->doomed = true;
    a->saved = rng_chance(&g->rng, GEN_SAVED_PCT / 100.0);
    a->det_start = a->renewal_day - 42 - (int32_t)rng_below(&g->rng, 43);
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
    a->det_start = NEVER;
    if (is_new) {
        a->renewal_day = next_year(created);
        a->onboard_until = created + 60;
        if (rng_chance(r, GEN_DOOMED_PCT / 100.0))
            doom(g, a);
    } else {
        a->renewal_day = g->start + 1 + (int32_t)rng_below(r, 365);
        a->onboard_until = created;
    }
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
    emit_group(g, ai, t++, GROUP_FULL);
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
        bool struggling = a->doomed || rng_chance(r, 0.15);
        for (size_t i = 0; i < N_MILESTONES; i++) {
            int32_t due = g->today + milestones[i].due_days;
            struct ev *e = emit(g, GK_MILESTONE_DUE, ai, a->users[0], t++);
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
            e = schedule(g, done, GK_MILESTONE_DONE, ai, a->users[0], business_ms(g, a));
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
            struct ev *e = schedule(g, set, GK_GOAL_SET, ai, a->users[0], business_ms(g, a));
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

/* How far the account is into its decline: 0 healthy, 1 at the renewal. */
static double decline(const struct account *a, int32_t day) {
    if (!a->doomed || day < a->det_start || day > a->renewal_day)
        return 0.0;
    return (double)(day - a->det_start + 1) / (double)(a->renewal_day - a->det_start + 1);
}

static void session(struct gen *g, uint32_t ai, uint32_t ui, double health, double ramp) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    const struct user *u = &g->users[ui];
    int64_t t = when(g, a);
    emit(g, GK_LOGIN, ai, ui, t);
    if (u->mobile && rng_chance(r, 0.35)) {
        struct ev *e = emit(g, GK_SCREEN, ai, ui, t + 1000 + rng_below(r, 60000));
        e->a = (uint8_t)rng_below(r, N_SCREENS);
    }
    double m = habits[u->habit].feats * (0.35 + 0.65 * health) * ramp;
    double cont = m / (m + 1.0);
    for (int n = 0; n < 25 && rng_chance(r, cont); n++) {
        t += 5000 + rng_below(r, 360000);
        if (t >= DAY_MS)
            break;
        struct ev *e = emit(g, GK_FEATURE, ai, ui, t);
        e->a = pick_feature(g, a);
    }
    if (rng_chance(r, 0.04) && t + 120000 < DAY_MS) {
        struct ev *e = emit(g, GK_PAGE, ai, ui, t + 1000 + rng_below(r, 100000));
        e->a = (uint8_t)rng_below(r, N_PAGES);
    }
}

/* People join (the initial team of a new account, then growth) and leave. */
static void roster(struct gen *g, uint32_t ai, double p) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    double join = a->members < a->target_users ? 0.25 : a->members * 0.30 / 365.0 * (1.0 - p);
    if (g->wday < 5 && rng_chance(r, join))
        user_announce(g, user_create(g, ai, false), when(g, a), true);
    double leave = (a->members - 1) / (3.0 * 365.0) * (1.0 + 6.0 * p);
    if (a->members > 1 && rng_chance(r, leave)) {
        for (int tries = 0; tries < 8; tries++) {
            uint32_t k = 1 + rng_below(r, a->n_users - 1);
            struct user *u = &g->users[a->users[k]];
            if (u->left_ms != INT64_MAX || u->join_day >= g->today)
                continue;
            int64_t t = when(g, a);
            emit(g, GK_USER_REMOVED, ai, a->users[k], t);
            u->left_ms = g->day_ms + t;
            a->members--;
            break;
        }
    }
}

static void nps_wave(struct gen *g, uint32_t ai, double p, double health) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    for (uint32_t k = 0; k < a->n_users; k++) {
        uint32_t ui = a->users[k];
        const struct user *u = &g->users[ui];
        if (u->left_ms != INT64_MAX || u->join_day == g->today ||
            !rng_chance(r, 0.22 * (0.6 + 0.4 * health)))
            continue;
        double noise = -1.5; /* three draws in a fixed order: C leaves a + b + c's open */
        for (int i = 0; i < 3; i++)
            noise += rng_unit(r);
        double x = a->nps_mean - 5.5 * p + noise * 3.0 + (u->habit == 0 ? 0.8 : 0.0);
        int score = (int)(x + 10.5) - 10; /* rounds, also below zero */
        score = score < 0 ? 0 : score > 10 ? 10 : score;
        int32_t d = (int32_t)rng_below(r, 7);
        struct ev *e = later(g, d, when(g, a), GK_NPS, ai, ui);
        e->a = (uint8_t)score;
        if (rng_chance(r, 0.35)) {
            uint32_t n = score >= 9 ? N_PRO : score >= 7 ? N_PAS : N_DET;
            e->b = (uint8_t)(1 + rng_below(r, n));
        }
    }
    a->next_survey = g->today + 105 + (int32_t)rng_below(r, 30);
}

static void tickets(struct gen *g, uint32_t ai, double p) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    double rate = a->members * 0.0032;
    if (rate > 0.5)
        rate = 0.5;
    rate *= (1.0 + 3.0 * p) * (g->wday < 5 ? 1.0 : 0.25);
    if (!rng_chance(r, rate))
        return;
    uint32_t x = rng_below(r, 100) + (uint32_t)(40.0 * p);
    uint8_t prio = x < 35 ? 0 : x < 75 ? 1 : x < 95 ? 2 : 3;
    static const int close_lo[] = {2, 1, 0, 0}, close_span[] = {19, 9, 5, 2};
    uint32_t ui = pick_member(g, a);
    int64_t t = when(g, a);
    struct ev *e = emit(g, GK_TICKET_OPENED, ai, ui, t);
    e->a = prio;
    e->n2 = ++g->next_ticket;
    int32_t d = close_lo[prio] + (int32_t)rng_below(r, (uint32_t)close_span[prio]);
    int64_t tc = t + 30 * MIN_MS + rng_below(r, 6 * 3600) * 1000LL;
    if (d == 0 && tc >= DAY_MS)
        d = 1;
    if (d > 0)
        tc = business_ms(g, a);
    struct ev *c = later(g, d, tc, GK_TICKET_CLOSED, ai, ui);
    c->a = prio;
    c->n2 = g->next_ticket;
}

static void pay(struct gen *g, uint32_t ai, struct invoice *inv, int64_t t) {
    struct ev *e = emit(g, GK_INVOICE_PAID, ai, g->acc[ai].users[0], t);
    e->n2 = inv->no;
}

/* Removes invoice i from the account's follow-up list. */
static void invoice_drop(struct account *a, uint8_t i) {
    a->inv[i] = a->inv[--a->n_inv];
}

static void billing(struct gen *g, uint32_t ai, double p) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    uint32_t admin = a->users[0];
    /* Transfers due today, in the order they were issued. */
    for (uint8_t i = 0; i < a->n_inv;) {
        if (a->inv[i].pay_day == g->today) {
            pay(g, ai, &a->inv[i], when(g, a));
            invoice_drop(a, i);
        } else {
            i++;
        }
    }
    /* Dunning: the customer fixes the card, the failed invoices go through. */
    if (a->dunning && rng_chance(r, 0.30 * (1.0 - 0.9 * p) + 0.02)) {
        int64_t t = when(g, a);
        new_card(g, a, 24, 25);
        emit_card(g, ai, t);
        for (uint8_t i = 0; i < a->n_inv;) {
            if (a->inv[i].failed) {
                pay(g, ai, &a->inv[i], t + 60000 + rng_below(r, 600000));
                invoice_drop(a, i);
            } else {
                i++;
            }
        }
        a->dunning = false;
    } else if (a->card && !a->dunning && a->card_end >= g->today && a->card_end - g->today <= 30 &&
               rng_chance(r, 0.05 * (1.0 - 0.8 * p))) {
        new_card(g, a, 24, 25); /* updated before it expires */
        emit_card(g, ai, when(g, a));
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
    struct ev *e = emit(g, GK_INVOICE_ISSUED, ai, admin, t);
    e->n2 = inv->no;
    e->num = a->mrr_cents;
    e->day = g->today + plans[a->plan].terms_days;
    if (a->card) {
        t += 60000 + rng_below(r, 3600000);
        bool expired = a->card_end < g->today;
        if (expired || a->dunning || rng_chance(r, 0.015 + 0.25 * p)) {
            struct ev *f = emit(g, GK_PAYMENT_FAILED, ai, admin, t);
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
    if (p > 0.3 && rng_chance(r, 0.4 * p))
        pay_day = NEVER;
    else if (p > 0.2)
        pay_day = due + 5 + (int32_t)rng_below(r, 20) + (int32_t)(p * 60.0);
    else if (a->late_payer)
        pay_day = due + 3 + (int32_t)rng_below(r, 28);
    else
        pay_day = g->today + 3 + (int32_t)rng_below(r, (uint32_t)(due - g->today - 3));
    inv->pay_day = pay_day;
}

static void outreach(struct gen *g, uint32_t ai, double p, double health) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    if (g->wday >= 5)
        return;
    double rate = 1.4 / plans[a->plan].outreach_days + 0.12 * p;
    if (g->today < a->onboard_until)
        rate += 0.1;
    if (!rng_chance(r, rate))
        return;
    uint32_t x = rng_below(r, 100);
    uint8_t ch = x < 60 ? 0 : x < 75 ? 1 : x < 85 ? 2 : 3;
    int64_t t = when(g, a);
    struct ev *e = emit(g, GK_OUTREACH_SENT, ai, a->users[0], t);
    e->a = ch;
    if (!rng_chance(r, 0.72 * health * health))
        return;
    int32_t d = (int32_t)rng_below(r, 5);
    int64_t tr = d ? business_ms(g, a) : t + 20 * MIN_MS + rng_below(r, 4 * 3600) * 1000LL;
    if (tr >= DAY_MS) {
        d = 1;
        tr = business_ms(g, a);
    }
    e = later(g, d, tr, GK_OUTREACH_REPLIED, ai, pick_member(g, a));
    e->a = ch;
}

static void renewal(struct gen *g, uint32_t ai) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    int64_t t = after_setup(a, g->today, 20 * HOUR_MS + rng_below(r, 3 * 3600) * 1000LL);
    bool churn = a->doomed ? !a->saved : rng_chance(r, GEN_SURPRISE_PCT / 100.0);
    if (churn) {
        struct ev *e = emit(g, GK_CHURNED, ai, a->users[0], t);
        e->num = a->mrr_cents * 12;
        e->a = (uint8_t)(a->doomed ? rng_below(r, REASONS_DOOMED)
                                   : REASONS_DOOMED + rng_below(r, N_REASONS - REASONS_DOOMED));
        a->churned = true;
        g->totals.churned++;
        return;
    }
    /* Renewed: grow seats when the team outgrew them; a saved account shrinks. */
    if (a->doomed) {
        uint32_t s = a->seats * 7 / 10;
        a->seats = s > a->members ? s : a->members;
    } else if (a->members * 10 >= a->seats * 9) {
        a->seats = a->members + (a->members + 4) / 5;
    }
    if (a->seats == 0)
        a->seats = 1;
    a->mrr_cents = a->price_cents * a->seats;
    a->renewal_day = next_year(a->renewal_day);
    a->doomed = false;
    a->det_start = NEVER;
    if (rng_chance(r, GEN_DOOMED_PCT / 100.0))
        doom(g, a);
    struct ev *e = emit(g, GK_RENEWED, ai, a->users[0], t);
    e->num = a->mrr_cents * 12;
    g->totals.renewed++;
    emit_group(g, ai, t + 1000, GROUP_RENEWAL);
}

static void account_day(struct gen *g, uint32_t ai) {
    struct account *a = &g->acc[ai];
    struct rng *r = &g->rng;
    if (a->churned)
        return;
    if (g->today >= a->next_adopt)
        adoption_update(g, a);
    double p = decline(a, g->today);
    double health = 1.0 - 0.75 * p;
    double activity = health;
    if (g->today >= a->dip_start && g->today < a->dip_end)
        activity *= 0.5;
    double ramp = 1.0;
    if (a->is_new && g->today - a->created_day < 21)
        ramp = 0.3 + 0.7 * (g->today - a->created_day) / 21.0;
    roster(g, ai, p);
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
            session(g, ai, ui, activity, ramp);
            if (u->habit == 0 && rng_chance(r, 0.25))
                session(g, ai, ui, activity, ramp);
        }
    }
    if (g->today == a->next_survey)
        nps_wave(g, ai, p, health);
    tickets(g, ai, p);
    billing(g, ai, p);
    outreach(g, ai, p, health);
    if (a->members > a->seats && g->wday < 5 && rng_chance(r, 0.01)) {
        a->seats = a->members + 1 + rng_below(r, 3); /* buys seats mid-term */
        a->mrr_cents = a->price_cents * a->seats;
        emit_group(g, ai, when(g, a), GROUP_SEATS);
    }
    if (g->today == a->renewal_day)
        renewal(g, ai);
}

/* ---- output ---------------------------------------------------------------- */

static const char hex_digits[] = "0123456789abcdef";
static const char two_digits[] = "00010203040506070809101112131415161718192021222324252627282930"
                                 "31323334353637383940414243444546474849505152535455565758596061"
                                 "62636465666768697071727374757677787980818283848586878889909192"
                                 "93949596979899";

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

static char *put_str(char *p, struct str s) {
    memcpy(p, s.s, s.n);
    return p + s.n;
}

static char *put_cstr(char *p, const char *s) {
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* Lower case, spaces as dashes: "Blue Yonder" -> "blue-yonder". */
static char *put_slug(char *p, const char *s) {
    for (; *s; s++)
        *p++ = *s == ' ' ? '-' : (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
    return p;
}

static char *put_u64(char *p, uint64_t v) {
    char tmp[20];
    int n = 0;
    while (v >= 100) {
        memcpy(tmp + 18 - n, two_digits + (v % 100) * 2, 2);
        v /= 100;
        n += 2;
    }
    if (v >= 10) {
        memcpy(tmp + 18 - n, two_digits + v * 2, 2);
        n += 2;
    } else {
        tmp[19 - n] = (char)('0' + v);
        n++;
    }
    memcpy(p, tmp + 20 - n, (size_t)n);
    return p + n;
}

/* Cents as a decimal number with two digits: 245000 -> 2450.00. */
static char *put_cents(char *p, int64_t cents) {
    p = put_u64(p, (uint64_t)(cents / 100));
    *p++ = '.';
    memcpy(p, two_digits + (cents % 100) * 2, 2);
    return p + 2;
}

static char *put_date(char *p, int32_t day) {
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    memcpy(p, two_digits + (y / 100) * 2, 2);
    memcpy(p + 2, two_digits + (y % 100) * 2, 2);
    p[4] = '-';
    memcpy(p + 5, two_digits + m * 2, 2);
    p[7] = '-';
    memcpy(p + 8, two_digits + d * 2, 2);
    return p + 10;
}

/* Today's instant ts as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static char *put_ts(struct gen *g, char *p, int64_t ts) {
    int64_t ms = ts - g->day_ms;
    memcpy(p, g->ts_prefix, 11);
    p += 11;
    int64_t s = ms / 1000;
    memcpy(p, two_digits + (s / 3600) * 2, 2);
    p[2] = ':';
    memcpy(p + 3, two_digits + (s / 60 % 60) * 2, 2);
    p[5] = ':';
    memcpy(p + 6, two_digits + (s % 60) * 2, 2);
    p[8] = '.';
    int64_t f = ms % 1000;
    p[9] = (char)('0' + f / 100);
    memcpy(p + 10, two_digits + (f % 100) * 2, 2);
    p[12] = 'Z';
    return p + 13;
}

static char *put_hex(char *p, uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
        p[i] = hex_digits[v & 15];
        v >>= 4;
    }
    return p + digits;
}

/* A UUID-shaped messageId; the first 16 hex digits are a bijection of the
 * output sequence number, so no two messages of a run share one. */
static char *put_message_id(struct gen *g, char *p) {
    uint64_t hi = mix64(g->seq++ ^ g->id_salt);
    uint64_t lo = mix64(hi + g->id_salt);
    p = put_hex(p, hi >> 32, 8);
    *p++ = '-';
    p = put_hex(p, (hi >> 16) & 0xffff, 4);
    *p++ = '-';
    p = put_hex(p, hi & 0xffff, 4);
    *p++ = '-';
    p = put_hex(p, lo >> 48, 4);
    *p++ = '-';
    return put_hex(p, lo & 0xffffffffffffULL, 12);
}

static char *put_uid(char *p, uint32_t ui) {
    PUT(p, "usr_");
    return put_u64(p, (uint64_t)ui + 1);
}

static char *put_account_id(char *p, const struct account *a) {
    memcpy(p, a->id, a->id_len);
    return p + a->id_len;
}

static char *put_company(char *p, const struct account *a) {
    p = put_cstr(p, company_a[a->name_a]);
    *p++ = ' ';
    p = put_cstr(p, company_b[a->name_b]);
    if (a->name_n) {
        *p++ = ' ';
        p = put_u64(p, (uint64_t)a->name_n + 1);
    }
    return p;
}

static char *put_domain(char *p, const struct account *a) {
    p = put_slug(p, company_a[a->name_a]);
    *p++ = '-';
    p = put_slug(p, company_b[a->name_b]);
    if (a->name_n)
        p = put_u64(p, (uint64_t)a->name_n + 1);
    PUT(p, ".example");
    return p;
}

/* Opens "properties" with the account_id of a property-routed event; *comma
 * tells whether the next property needs one. */
static char *props_open(char *p, const struct account *a, enum route route, bool *comma) {
    PUT(p, ",\"properties\":{");
    *comma = false;
    if (route == ROUTE_PROPERTY) {
        PUT(p, "\"account_id\":\"");
        p = put_account_id(p, a);
        *p++ = '"';
        *comma = true;
    }
    return p;
}

/* Writes ,"key": (or "key": for the first property). */
static char *put_key(char *p, bool *comma, struct str key) {
    if (*comma)
        *p++ = ',';
    *comma = true;
    *p++ = '"';
    p = put_str(p, key);
    *p++ = '"';
    *p++ = ':';
    return p;
}

static char *put_str_value(char *p, struct str v) {
    *p++ = '"';
    p = put_str(p, v);
    *p++ = '"';
    return p;
}

/* Context, timestamp, messageId and the end of the line. */
static char *put_tail(struct gen *g, char *p, const struct ev *e, const struct account *a,
                      enum route route) {
    if (route == ROUTE_GROUP) {
        PUT(p, ",\"context\":{\"groupId\":\"");
        p = put_account_id(p, a);
        PUT(p, "\"}");
    }
    PUT(p, ",\"timestamp\":\"");
    p = put_ts(g, p, e->ts_ms);
    PUT(p, "\",\"messageId\":\"");
    p = put_message_id(g, p);
    PUT(p, "\"}\n");
    return p;
}

static char *format_identify(char *p, const struct ev *e, const struct account *a,
                             const struct user *u) {
    /* (17k mod 40, 7k mod 50) differ for k < lcm(40, 50) = 200: unique names
     * in an account; past 200 users a number keeps emails apart. */
    uint32_t k = u->ordinal;
    const char *first = first_names[(k * 17 + a->name_a) % N_FIRST];
    const char *last = last_names[(k * 7 + a->name_b * 3) % N_LAST];
    PUT(p, "{\"type\":\"identify\",\"userId\":\"");
    p = put_uid(p, e->user);
    PUT(p, "\",\"traits\":{\"email\":\"");
    p = put_slug(p, first);
    *p++ = '.';
    p = put_slug(p, last);
    if (k >= NAME_CYCLE)
        p = put_u64(p, k / NAME_CYCLE + 1);
    *p++ = '@';
    p = put_domain(p, a);
    PUT(p, "\",\"name\":\"");
    p = put_cstr(p, first);
    *p++ = ' ';
    p = put_cstr(p, last);
    PUT(p, "\",\"title\":\"");
    p = put_cstr(p, titles[k == 0 ? a->name_b % 4 : (k * 5 + a->name_b) % N_TITLES]);
    PUT(p, "\",");
    if (e->b == 0) {
        PUT(p, "\"company_id\":\"");
        p = put_account_id(p, a);
        *p++ = '"';
    } else if (e->b == 1) {
        PUT(p, "\"company\":{\"id\":\"");
        p = put_account_id(p, a);
        PUT(p, "\",\"name\":\"");
        p = put_company(p, a);
        PUT(p, "\"}");
    } else {
        PUT(p, "\"accountExternalId\":\"");
        p = put_account_id(p, a);
        *p++ = '"';
    }
    *p++ = '}';
    return p;
}

static char *format_group(char *p, const struct ev *e, const struct account *a) {
    PUT(p, "{\"type\":\"group\",\"userId\":\"");
    p = put_uid(p, e->user);
    PUT(p, "\",\"groupId\":\"");
    p = put_account_id(p, a);
    PUT(p, "\",\"traits\":{");
    if (e->a == GROUP_FULL) {
        const struct plan_def *pd = &plans[a->plan];
        PUT(p, "\"name\":\"");
        p = put_company(p, a);
        PUT(p, "\",\"plan\":\"");
        p = put_str(p, pd->name);
        PUT(p, "\",\"mrr\":");
        p = put_cents(p, e->num);
        PUT(p, ",\"seats\":");
        p = put_u64(p, e->n2);
        PUT(p, ",\"renewal_date\":\"");
        p = put_date(p, e->day);
        PUT(p, "\",\"csm_email\":\"");
        p = put_str(p, csms[a->csm].email);
        PUT(p, "\",\"csm_slack\":\"");
        p = put_str(p, csms[a->csm].slack);
        PUT(p, "\",\"segment\":\"");
        p = put_str(p, pd->segment);
        PUT(p, "\",\"premium_products\":[");
        bool first = true;
        for (int i = 0; i < N_PRODUCTS; i++) {
            if (!(a->products & (1u << i)))
                continue;
            if (!first)
                *p++ = ',';
            first = false;
            p = put_str_value(p, products[i]);
        }
        PUT(p, "],\"created_at\":\"");
        p = put_date(p, a->created_day);
        PUT(p, "\",\"industry\":\"");
        p = put_cstr(p, company_b[a->name_b]);
        PUT(p, "\",\"region\":\"");
        p = put_str(p, tzs[a->tz].region);
        *p++ = '"';
    } else {
        if (e->a == GROUP_RENEWAL) {
            PUT(p, "\"renewal_date\":\"");
            p = put_date(p, e->day);
            PUT(p, "\",");
        }
        PUT(p, "\"mrr\":");
        p = put_cents(p, e->num);
        PUT(p, ",\"seats\":");
        p = put_u64(p, e->n2);
    }
    *p++ = '}';
    return p;
}

static char *format_track(char *p, const struct ev *e, const struct account *a, enum route route) {
    static const struct str names[] = {
        [GK_LOGIN] = S("Signed In"),
        [GK_NPS] = S("NPS Survey Responded"),
        [GK_TICKET_OPENED] = S("Ticket Opened"),
        [GK_TICKET_CLOSED] = S("Ticket Closed"),
        [GK_INVOICE_ISSUED] = S("Invoice Issued"),
        [GK_INVOICE_PAID] = S("Invoice Paid"),
        [GK_PAYMENT_FAILED] = S("Payment Failed"),
        [GK_CARD_UPDATED] = S("Payment Method Updated"),
        [GK_OUTREACH_SENT] = S("Outreach Sent"),
        [GK_OUTREACH_REPLIED] = S("Outreach Replied"),
        [GK_GOAL_SET] = S("Goal Set"),
        [GK_MILESTONE_DUE] = S("Onboarding Milestone Due"),
        [GK_MILESTONE_DONE] = S("Onboarding Milestone Completed"),
        [GK_RENEWED] = S("Account Renewed"),
        [GK_CHURNED] = S("Account Churned"),
        [GK_USER_REMOVED] = S("Account Removed User"),
    };
    struct str name = e->kind == GK_FEATURE ? features[e->a].name : names[e->kind];
    PUT(p, "{\"type\":\"track\",\"event\":\"");
    p = put_str(p, name);
    PUT(p, "\",\"userId\":\"");
    p = put_uid(p, e->user);
    *p++ = '"';
    bool comma;
    bool has_props = route == ROUTE_PROPERTY;
    switch (e->kind) {
    case GK_LOGIN:
    case GK_USER_REMOVED:
        break;
    case GK_FEATURE:
        has_props = has_props || features[e->a].product;
        break;
    default:
        has_props = true;
    }
    if (!has_props)
        return p;
    p = props_open(p, a, route, &comma);
    switch (e->kind) {
    case GK_FEATURE:
        if (features[e->a].product) {
            p = put_key(p, &comma, (struct str)S("product"));
            p = put_str_value(p, products[features[e->a].product - 1]);
        }
        break;
    case GK_NPS:
        p = put_key(p, &comma, (struct str)S("score"));
        p = put_u64(p, e->a);
        if (e->b) {
            const struct str *c = e->a >= 9   ? comments_pro
                                  : e->a >= 7 ? comments_pas
                                              : comments_det;
            p = put_key(p, &comma, (struct str)S("comment"));
            p = put_str_value(p, c[e->b - 1]);
        }
        break;
    case GK_TICKET_OPENED:
    case GK_TICKET_CLOSED:
        p = put_key(p, &comma, (struct str)S("ticket_id"));
        PUT(p, "\"TCK-");
        p = put_u64(p, e->n2);
        *p++ = '"';
        p = put_key(p, &comma, (struct str)S("priority"));
        p = put_str_value(p, priorities[e->a]);
        break;
    case GK_INVOICE_ISSUED:
    case GK_INVOICE_PAID:
    case GK_PAYMENT_FAILED:
        p = put_key(p, &comma, (struct str)S("invoice_id"));
        PUT(p, "\"INV-");
        p = put_u64(p, e->n2);
        *p++ = '"';
        if (e->kind == GK_INVOICE_ISSUED) {
            p = put_key(p, &comma, (struct str)S("amount"));
            p = put_cents(p, e->num);
            p = put_key(p, &comma, (struct str)S("currency"));
            PUT(p, "\"USD\"");
            p = put_key(p, &comma, (struct str)S("due_date"));
            *p++ = '"';
            p = put_date(p, e->day);
            *p++ = '"';
        }
        break;
    case GK_CARD_UPDATED:
        p = put_key(p, &comma, (struct str)S("card_exp_month"));
        p = put_u64(p, e->a);
        p = put_key(p, &comma, (struct str)S("card_exp_year"));
        p = put_u64(p, e->n2);
        break;
    case GK_OUTREACH_SENT:
    case GK_OUTREACH_REPLIED:
        p = put_key(p, &comma, (struct str)S("channel"));
        p = put_str_value(p, channels[e->a]);
        if (e->kind == GK_OUTREACH_SENT) {
            p = put_key(p, &comma, (struct str)S("csm_email"));
            p = put_str_value(p, csms[a->csm].email);
        }
        break;
    case GK_GOAL_SET:
        p = put_key(p, &comma, (struct str)S("goal_id"));
        PUT(p, "\"G-");
        p = put_u64(p, e->n2);
        *p++ = '"';
        p = put_key(p, &comma, (struct str)S("feature"));
        p = put_str_value(p, features[e->a].name);
        p = put_key(p, &comma, (struct str)S("due_date"));
        *p++ = '"';
        p = put_date(p, e->day);
        *p++ = '"';
        break;
    case GK_MILESTONE_DUE:
    case GK_MILESTONE_DONE:
        p = put_key(p, &comma, (struct str)S("milestone"));
        p = put_str_value(p, milestones[e->a].name);
        if (e->kind == GK_MILESTONE_DUE) {
            p = put_key(p, &comma, (struct str)S("due_date"));
            *p++ = '"';
            p = put_date(p, e->day);
            *p++ = '"';
        }
        break;
    case GK_RENEWED:
    case GK_CHURNED:
        p = put_key(p, &comma, (struct str)S("arr"));
        p = put_cents(p, e->num);
        if (e->kind == GK_CHURNED) {
            p = put_key(p, &comma, (struct str)S("reason"));
            p = put_str_value(p, reasons[e->a]);
        }
        break;
    default:
        break;
    }
    *p++ = '}';
    return p;
}

/* Writes one message at p; returns the end of its line. */
static char *format_ev(struct gen *g, char *p, const struct ev *e) {
    const struct account *a = &g->acc[e->account];
    const struct user *u = &g->users[e->user];
    enum route route = (enum route)e->route;
    /* A removed user's membership no longer names the account. */
    if (route == ROUTE_MEMBERSHIP && u->left_ms <= e->ts_ms)
        route = ROUTE_GROUP;
    switch (e->kind) {
    /* ROUTE_MEMBERSHIP below: these calls carry no context.groupId. */
    case GK_GROUP:
        p = format_group(p, e, a);
        return put_tail(g, p, e, a, ROUTE_MEMBERSHIP);
    case GK_IDENTIFY:
        p = format_identify(p, e, a, u);
        return put_tail(g, p, e, a, ROUTE_MEMBERSHIP);
    case GK_ALIAS:
        PUT(p, "{\"type\":\"alias\",\"previousId\":\"anon-");
        p = put_hex(p, mix64(e->user ^ g->id_salt), 16);
        PUT(p, "\",\"userId\":\"");
        p = put_uid(p, e->user);
        *p++ = '"';
        return put_tail(g, p, e, a, ROUTE_MEMBERSHIP);
    case GK_PAGE:
    case GK_SCREEN: {
        bool page = e->kind == GK_PAGE;
        if (page)
            PUT(p, "{\"type\":\"page\",\"name\":\"");
        else
            PUT(p, "{\"type\":\"screen\",\"name\":\"");
        p = put_str(p, page ? pages[e->a].name : screens[e->a]);
        PUT(p, "\",\"userId\":\"");
        p = put_uid(p, e->user);
        *p++ = '"';
        bool comma;
        if (page || route == ROUTE_PROPERTY) {
            p = props_open(p, a, route, &comma);
            if (page) {
                p = put_key(p, &comma, (struct str)S("path"));
                p = put_str_value(p, pages[e->a].path);
            }
            *p++ = '}';
        }
        return put_tail(g, p, e, a, route);
    }
    default:
        p = format_track(p, e, a, route);
        return put_tail(g, p, e, a, route);
    }
}

static void flush_out(struct gen *g) {
    if (g->len && !g->io_failed && fwrite(g->buf, 1, g->len, g->out) != g->len)
        g->io_failed = true;
    g->len = 0;
}

/* Sorts today's events by their ms of the day, stably (3 radix passes of 9
 * bits over the 27 bits of a day's milliseconds), and writes them. */
static void write_day(struct gen *g) {
    size_t n = g->day.n;
    if (n > g->cap_keys) {
        g->cap_keys = g->day.cap;
        free(g->keys);
        free(g->keys_tmp);
        g->keys = xmalloc(g->cap_keys * sizeof *g->keys);
        g->keys_tmp = xmalloc(g->cap_keys * sizeof *g->keys_tmp);
    }
    for (size_t i = 0; i < n; i++) {
        int64_t ms = g->day.v[i].ts_ms - g->day_ms;
        g->keys[i] = (uint64_t)ms << 32 | i;
    }
    uint64_t *src = g->keys, *dst = g->keys_tmp;
    for (int pass = 0; pass < 3; pass++) {
        size_t count[513] = {0};
        int shift = 32 + 9 * pass;
        for (size_t i = 0; i < n; i++)
            count[((src[i] >> shift) & 511) + 1]++;
        for (int b = 0; b < 512; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 511]++] = src[i];
        uint64_t *tmp = src;
        src = dst;
        dst = tmp;
    }
    for (size_t i = 0; i < n; i++) {
        if (g->len > GEN_OUT_BYTES - GEN_MAX_LINE)
            flush_out(g);
        char *end = format_ev(g, g->buf + g->len, &g->day.v[src[i] & 0xffffffffu]);
        g->len = (size_t)(end - g->buf);
    }
    g->totals.events += (int64_t)n;
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

/* Chooses the plans, the accounts created inside the window and the doomed. */
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
    /* The doomed: an exact share (per year of window), renewing inside the
     * window after enough of it to show their decline; at least one in a
     * window of four weeks or more. */
    uint32_t n_doomed = (uint32_t)(ne * (GEN_DOOMED_PCT / 100.0) * span + 0.5);
    if (n_doomed == 0 && ne >= 10 && days >= 28)
        n_doomed = 1;
    int32_t lo = days / 2 < 70 ? days / 2 : 70;
    shuffle(r, order, ne, n_doomed);
    for (uint32_t i = 0; i < n_doomed; i++) {
        struct account *a = &g->acc[order[i]];
        a->renewal_day = g->start + lo + (int32_t)rng_below(r, (uint32_t)(days - lo));
        doom(g, a);
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
        write_day(g);
    }
    flush_out(g);
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
