/* gen_int.h: what the generator's files share (generate.c runs the days,
 * causes.c draws and applies the latent causes of churn, emit.c writes the
 * messages). Private to src/gen/: the vocabulary of the fictional SaaS, the
 * PRNG, the per-account and per-user state and the 40-byte event record.
 * The tables are static const here so that each file folds them into its
 * own code (no extern arrays whose sizes the compiler cannot see). */
#ifndef TEND_GEN_GEN_INT_H
#define TEND_GEN_GEN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gen/generate.h"
#include "util/datetime.h"
#include "util/mem.h"

/* ---- knobs ------------------------------------------------------------------ */

#define GEN_SILENT_PCT   2.5 /* renewals without a live cause that churn anyway */
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

/* Churn reasons (causes.c picks one that fits the cause, with noise). */
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
    S("payment failed"),
};
enum {
    R_ADOPTION,
    R_COMPETITOR,
    R_PRICE,
    R_CHAMPION,
    R_FEATURES,
    R_QUALITY,
    R_SUPPORT,
    R_BUDGET,
    R_ACQUIRED,
    R_CLOSED,
    R_PAYMENT,
};
#define N_REASONS (sizeof reasons / sizeof reasons[0])

/* Reasons of a Subscription Changed (struct ev's a). */
static const struct str sub_reasons[] = {S("seats added"), S("upgrade"), S("seats removed"),
                                         S("downgrade")};
enum { SR_SEATS_ADDED, SR_UPGRADE, SR_SEATS_REMOVED, SR_DOWNGRADE };
/* Healthy accounts (no live cause, not contracted) that upgrade, per working
 * day: about 12 % a year. */
#define GEN_UPGRADE_PER_DAY 0.0005

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
    S("Too slow for our team"),         S("We keep hitting bugs"),
    S("Support takes days to answer"),  S("Hard to get the team to use it"),
    S("Missing features we need"),      S("Considering other options"),
    S("Too expensive for what we use"),
};
/* Comment indexes (1-based, as struct ev's b) that causes.c points at. */
enum {
    C_PAS_PRICE = 3,
    C_DET_BUGS = 2,
    C_DET_SUPPORT = 3,
    C_DET_ADOPTION = 4,
    C_DET_OTHERS = 6,
    C_DET_PRICE = 7
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
#define N_PAGES      (sizeof pages / sizeof pages[0])
#define N_SCREENS    (sizeof screens / sizeof screens[0])
#define PAGE_PRICING 3 /* pages[3] */

/* ---- PRNG: xoshiro256** seeded by splitmix64 ------------------------------ */

struct rng {
    uint64_t s[4];
};

static inline uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64's finalizer: a bijection on 64 bits (each step is invertible). */
static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r) {
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
static inline double rng_unit(struct rng *r) {
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply; the bias is below 2^-32). */
static inline uint32_t rng_below(struct rng *r, uint32_t n) {
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

static inline bool rng_chance(struct rng *r, double p) {
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
    GK_SUB_CHANGED,
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

/* The latent causes of churn (docs/generate.md, "Why accounts churn"). */
enum cause { CAUSE_DISENGAGE, CAUSE_CHAMPION, CAUSE_TICKETS, CAUSE_PRICE, N_TERM_CAUSES };

/* An account's causes for its current term: which are live, when each sets
 * in and how strongly, whether it fades again (a false alarm), and the state
 * of involuntary churn (a card that stops working), which follows no term. */
struct causes {
    uint8_t live; /* bit c: cause c is at work this term */
    bool champion_gone, contracted;
    bool invol, invol_churn; /* card dead since invol_onset; churns at invol_end or is fixed */
    int32_t onset[N_TERM_CAUSES];
    int32_t fade[N_TERM_CAUSES]; /* NEVER, or the day the cause starts to fade away */
    double strength[N_TERM_CAUSES];
    int32_t contract_day;
    int32_t invol_onset, invol_end;
    uint32_t champion; /* the user who leaves */
};

/* What the causes do to an account's behaviour today: multipliers of 1 and
 * shifts of 0 when none is at work. */
struct pressure {
    double activity;     /* sign-in chance */
    double feats;        /* feature events per session */
    double nps_shift;    /* points added to NPS scores */
    double nps_answer;   /* chance to answer a survey */
    double tickets;      /* ticket rate */
    int prio_shift;      /* added to the 0..99 priority draw */
    double stuck;        /* chance that a high or urgent ticket stays open for weeks */
    double leave, join;  /* people leaving, joining */
    double reply;        /* chance to reply to outreach */
    double outreach;     /* outreach a working day, added */
    double card_care;    /* chance to update a card before it expires */
    double pay_late;     /* chance a transfer is paid weeks late */
    double pricing;      /* chance a session visits the pricing page */
    uint8_t det_comment; /* a detractor comment that fits the cause, 0 for any */
    uint8_t pas_comment; /* a passive comment that fits the cause, 0 for any */
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
    bool card, late_payer, churned, dunning, is_new;
    uint8_t n_inv, n_adopted, bill_dom;
    int32_t created_day, setup_day, renewal_day;
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
    struct causes cz; /* the latent churn causes of this term (causes.c) */
    uint32_t *users;  /* indexes into gen.users, in joining order; [0] is the admin */
    uint32_t n_users, cap_users;
};

struct bucket {
    struct ev *v;
    size_t n, cap;
};

struct gen {
    struct rng rng;
    /* Draws of the revenue movements added in issue 20 (upgrades), apart
     * from rng so that every other draw, and so the rest of the data set,
     * stays what it was for a seed. */
    struct rng rng_rev;
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

/* ---- shared functions ----------------------------------------------------- */

/* generate.c: events of today (emit), of a later day (schedule, dropped past
 * the window), d >= 0 days from today (later); times of day. */
struct ev *gen_emit(struct gen *g, enum gk kind, uint32_t account, uint32_t user, int64_t t);
struct ev *gen_later(struct gen *g, int32_t d, int64_t t, enum gk kind, uint32_t account,
                     uint32_t user);
int64_t gen_when(struct gen *g, const struct account *a);
int64_t gen_business_ms(struct gen *g, const struct account *a);
void gen_emit_group(struct gen *g, uint32_t ai, int64_t t, int variant);
/* A Subscription Changed of account ai from before to its mrr now (cents)
 * at ms of the day t, for reason (SR_*). Draws nothing. */
void gen_sub_changed(struct gen *g, uint32_t ai, int64_t t, int64_t before, uint8_t reason);
/* Updates the card of account ai (a new expiry) and pays its failed invoices. */
void gen_fix_card(struct gen *g, uint32_t ai, int64_t t);
/* Ends account ai today with "Account Churned" at ms of the day t. */
void gen_churn(struct gen *g, uint32_t ai, int64_t t, uint8_t reason);

/* causes.c */
/* Draws the causes of the account's term that ends at its renewal_day (and,
 * once per year, whether its card dies); may move an existing account's
 * renewal so that a cause shows inside the window. */
void causes_draw(struct gen *g, struct account *a, bool first_term);
/* Today's events of the causes (a champion leaves, a plan shrinks, a dead
 * card churns the account or is replaced) and their pressure on behaviour. */
void causes_day(struct gen *g, uint32_t ai, struct pressure *pr);
/* At the renewal: whether the account churns, and the reason it gives. */
bool causes_renewal(struct gen *g, const struct account *a, uint8_t *reason);

/* emit.c: sorts today's events and writes them; flushes the buffer. */
void gen_write_day(struct gen *g);
void gen_flush(struct gen *g);

#endif
