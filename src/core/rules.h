/* rules.h: the rules that raise CTAs (SPEC 5), pure.
 *
 * A rule looks at one account as of T and says, for each subject it keeps a
 * CTA for, whether its condition holds, at which priority and of which type,
 * with a title, a reason that gives the numbers and the evidence (metric
 * values, as a JSON object). What to do about it (open, raise, resolve ...)
 * is cta_decide()'s business; reading the store is eval/'s.
 *
 * Sixteen built-in rules (SPEC 5's and champion_risk, nps_change), each on by default with its
 * documented thresholds (docs/rules.md), and custom rules: a condition in
 * sandboxed Lua over the metrics, component scores, the score 30 days earlier
 * and the account's traits (core/custom_rule.h). Every rule can be switched
 * off, tuned, given another priority or type, and scoped to segments or plans
 * in tend.yaml's `rules:` section; `ctas:` sets the cooldown, due days, the
 * default owner and the published caps. */
#ifndef TEND_CORE_RULES_H
#define TEND_CORE_RULES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cta.h"
#include "core/health.h"
#include "core/metrics.h"
#include "core/users.h"

#include "core/segments.h"
#include "util/err.h"

enum rule_builtin {
    RULE_HEALTH_DROP,
    RULE_NPS_RESPONSE,
    RULE_CARD_EXPIRING,
    RULE_RENEWAL_UPCOMING,
    RULE_PAYMENT_OVERDUE,
    RULE_NO_LOGIN,
    RULE_LOGIN_CHANGE,
    RULE_USAGE_DIP,
    RULE_INTENDED_ADOPTION,
    RULE_ONBOARDING_STALLED,
    RULE_OUTREACH_UNRESPONSIVE,
    RULE_SEAT_LIMIT,
    RULE_PREMIUM_UNUSED,
    RULE_SUPPORT_TICKETS,
    RULE_CHAMPION_RISK,
    RULE_NPS_CHANGE,

    RULE_SEGMENT_SHIFT, /* of a segment, not an account: eval/segments.c */
    RULE_BUILTIN_COUNT,
    RULE_CUSTOM = RULE_BUILTIN_COUNT,
};

#define RULES_MAX_PARAMS 6
#define RULES_MAX_SCOPE  16
#define RULES_MAX_CUSTOM 32
#define RULES_MAX        (RULE_BUILTIN_COUNT + RULES_MAX_CUSTOM)
#define RULES_NAME_BYTES 64
#define RULES_ERR_BYTES  320

/* A built-in rule's parameter by name: RULE_P(kind, i) is the i-th of
 * rules_param_names(kind). Read them with rules_param(), which checks that
 * the parameter is the rule's. */
#define RULE_P(kind, i) ((kind)*RULES_MAX_PARAMS + (i))
enum rule_param {
    RP_HEALTH_DROP_DROP_POINTS = RULE_P(RULE_HEALTH_DROP, 0),
    RP_HEALTH_DROP_DAYS = RULE_P(RULE_HEALTH_DROP, 1),
    RP_HEALTH_DROP_CLEAR_MARGIN = RULE_P(RULE_HEALTH_DROP, 2),
    RP_NPS_DETRACTOR_MAX = RULE_P(RULE_NPS_RESPONSE, 0),
    RP_NPS_PROMOTER_MIN = RULE_P(RULE_NPS_RESPONSE, 1),
    RP_NPS_DROP_POINTS = RULE_P(RULE_NPS_RESPONSE, 2),
    RP_NPS_WINDOW_DAYS = RULE_P(RULE_NPS_RESPONSE, 3),
    RP_NPS_FIRST_LOOKBACK_DAYS = RULE_P(RULE_NPS_RESPONSE, 4),
    RP_NPS_WATCH_DAYS = RULE_P(RULE_NPS_RESPONSE, 5),
    RP_CARD_LOW_DAYS = RULE_P(RULE_CARD_EXPIRING, 0),
    RP_CARD_MEDIUM_DAYS = RULE_P(RULE_CARD_EXPIRING, 1),
    RP_CARD_HIGH_DAYS = RULE_P(RULE_CARD_EXPIRING, 2),
    RP_RENEWAL_LOW_DAYS = RULE_P(RULE_RENEWAL_UPCOMING, 0),
    RP_RENEWAL_MEDIUM_DAYS = RULE_P(RULE_RENEWAL_UPCOMING, 1),
    RP_RENEWAL_HIGH_DAYS = RULE_P(RULE_RENEWAL_UPCOMING, 2),
    RP_PAYMENT_MIN_INVOICES = RULE_P(RULE_PAYMENT_OVERDUE, 0),
    RP_PAYMENT_HIGH_DAYS_OVERDUE = RULE_P(RULE_PAYMENT_OVERDUE, 1),
    RP_NO_LOGIN_DAYS = RULE_P(RULE_NO_LOGIN, 0),
    RP_LOGIN_MIN_BASELINE = RULE_P(RULE_LOGIN_CHANGE, 0),
    RP_LOGIN_DROP_RATIO = RULE_P(RULE_LOGIN_CHANGE, 1),
    RP_LOGIN_SPIKE_RATIO = RULE_P(RULE_LOGIN_CHANGE, 2),
    RP_LOGIN_CLEAR_MARGIN = RULE_P(RULE_LOGIN_CHANGE, 3),
    RP_USAGE_MIN_BASELINE = RULE_P(RULE_USAGE_DIP, 0),
    RP_USAGE_DIP_RATIO = RULE_P(RULE_USAGE_DIP, 1),
    RP_USAGE_CLEAR_MARGIN = RULE_P(RULE_USAGE_DIP, 2),
    RP_OUTREACH_MIN_UNANSWERED = RULE_P(RULE_OUTREACH_UNRESPONSIVE, 0),
    RP_OUTREACH_DAYS = RULE_P(RULE_OUTREACH_UNRESPONSIVE, 1),
    RP_SEAT_MEDIUM_AT = RULE_P(RULE_SEAT_LIMIT, 0),
    RP_SEAT_HIGH_AT = RULE_P(RULE_SEAT_LIMIT, 1),
    RP_SEAT_CLEAR_MARGIN = RULE_P(RULE_SEAT_LIMIT, 2),
    RP_PREMIUM_MIN_AGE_DAYS = RULE_P(RULE_PREMIUM_UNUSED, 0),
    RP_TICKETS_TOO_MANY = RULE_P(RULE_SUPPORT_TICKETS, 0),
    RP_TICKETS_QUIET_DAYS = RULE_P(RULE_SUPPORT_TICKETS, 1),
    RP_TICKETS_QUIET_MIN_USERS = RULE_P(RULE_SUPPORT_TICKETS, 2),
    RP_TICKETS_CLEAR_MARGIN = RULE_P(RULE_SUPPORT_TICKETS, 3),
    RP_CHAMPION_QUIET_DAYS = RULE_P(RULE_CHAMPION_RISK, 0),
    RP_CHAMPION_DROP_RATIO = RULE_P(RULE_CHAMPION_RISK, 1),
    RP_CHAMPION_MIN_BASELINE = RULE_P(RULE_CHAMPION_RISK, 2),
    RP_NPS_CHANGE_POINTS = RULE_P(RULE_NPS_CHANGE, 0),
    RP_NPS_CHANGE_MIN_ANSWERS = RULE_P(RULE_NPS_CHANGE, 1),

    RP_SEGMENT_CHANGE = RULE_P(RULE_SEGMENT_SHIFT, 0),
    RP_SEGMENT_MIN_ACCOUNTS = RULE_P(RULE_SEGMENT_SHIFT, 1),
    RP_SEGMENT_RECENT_DAYS = RULE_P(RULE_SEGMENT_SHIFT, 2),
    RP_SEGMENT_BASELINE_DAYS = RULE_P(RULE_SEGMENT_SHIFT, 3),
    RP_SEGMENT_NPS_POINTS = RULE_P(RULE_SEGMENT_SHIFT, 4),
    RP_SEGMENT_CLEAR_MARGIN = RULE_P(RULE_SEGMENT_SHIFT, 5),
};

/* nps_change compares the account's NPS with its value this many days
 * earlier (docs/rules.md). */
#define RULES_NPS_CHANGE_DAYS 90
/* The user trait that holds a user's role, by default. */
#define RULES_ROLE_TRAIT "role"

struct custom_rule;

struct rule_settings {
    char name[RULES_NAME_BYTES];
    enum rule_builtin kind; /* RULE_CUSTOM for a custom rule */
    bool enabled;
    double params[RULES_MAX_PARAMS]; /* built-in thresholds, by rules_param_names() */
    enum cta_type type;              /* of the rule's main condition */
    enum cta_priority priority;      /* of the rule's main condition */
    int cooldown_days;               /* after a manual close */
    bool cooldown_set;               /* by the rule's own settings */
    /* A live CTA resolves itself once its condition has not held on this
     * many days in a row (1: at once), so that a metric hovering at a
     * threshold does not open and close CTAs day after day. */
    int resolve_after_days;
    /* Scope: the account's segment and plan must be listed (empty: any). */
    char segments[RULES_MAX_SCOPE][RULES_NAME_BYTES];
    int n_segments;
    char plans[RULES_MAX_SCOPE][RULES_NAME_BYTES];
    int n_plans;
    /* The randomised holdout (core/holdout.h, docs/analysis.md): the share
     * of accounts whose CTAs of the rule are created but not delivered
     * (0: none), and the seed of their draws. */
    double holdout;
    uint64_t holdout_seed;
    /* Custom rules: the Lua condition and reason, a title, compiled once. */
    char *when, *reason, *title;
    struct custom_rule *compiled;
};

struct playbook_set; /* core/playbook.h */

struct rules_config {
    struct rule_settings rules[RULES_MAX];
    int n_rules;     /* the built-ins first, in enum order, then the custom ones */
    int due_days[3]; /* working days to the due date, by priority */
    /* ctas.expire_after_days: working days after its due day that a CTA no
     * person acted on stays open before it expires (0: never). */
    int expire_after_days;
    char default_owner[160];  /* when an account has no csm_email */
    int max_open_per_account; /* published caps (docs/rules.md) */
    int max_open_total;
    /* rules.budget.per_owner_per_week: new CTAs per owner per ISO week
     * (0: no budget); the lowest-value ones beyond it are held back. */
    int budget_per_owner_week;
    /* rules.value: a rule's priority goes one step up for a CTA worth
     * raise_at or more a year, one down under lower_below (0: never). */
    double value_raise_at, value_lower_below;
    char currency[8]; /* rules.value.currency: how values are printed ("$") */
    /* rules.champion_risk.role_trait: the user trait that holds a user's
     * role (champion, admin, billing, user); the user list reads it too. */
    char role_trait[64];

    /* segments: (segment owners) and ctas.cs_lead, for segment_shift. */
    struct seg_config segments;

    /* playbooks: the steps of each rule's CTAs (core/playbook.h); NULL:
     * none. Loaded and freed by the config loader (cli/config.c), not by
     * rules_config_load/release. */
    struct playbook_set *playbooks;
};

/* The documented defaults: every built-in rule on, no custom rule. */
void rules_config_default(struct rules_config *c);
/* Applies tend.yaml's `rules:` and `ctas:` sections (cJSON objects or NULL)
 * over the defaults, compiling custom rules. On a mistake returns
 * TEND_ERR_INVALID with err (RULES_ERR_BYTES) naming the path, e.g.
 * "rules.no_login.days: must be a number from 1 to 3650". */
enum tend_err rules_config_load(const cJSON *rules, const cJSON *ctas, struct rules_config *c,
                                char *err);
/* Frees what loading allocated (custom rules); c is then the defaults'. */
void rules_config_release(struct rules_config *c);
/* The names of a built-in rule's parameters (NULL-terminated). */
const char *const *rules_param_names(enum rule_builtin kind);
/* A built-in rule's parameter; r must be the settings of p's rule (checked:
 * NaN otherwise). */
double rules_param(const struct rule_settings *r, enum rule_param p);
/* False for a subject the rule no longer keeps CTAs under (nps_response's
 * per-user "user:..." subjects of before one CTA per account): such CTAs
 * are left to people, never resolved by the rule. */
bool rules_owns_subject(const struct rule_settings *r, const char *subject);
/* True when the rule is on and its scope takes an account of this segment
 * and plan (NULL: none). */
bool rules_applies(const struct rule_settings *r, const char *segment, const char *plan);

/* ---- what an account brings ------------------------------------------------ */

/* A user's latest NPS answer within a year, and the one before it. */
struct rule_nps {
    int64_t user_id;
    double score;
    int64_t ts_ms;
    bool has_prev;
    double prev_score;
};

/* An adoption goal: use feature by due_day; met_ms is the first use on or
 * after the goal (INT64_MAX: none yet, as far as the store knows). */
struct rule_goal {
    const char *goal_id;
    const char *feature;
    int64_t set_ms;
    int32_t due_day;
    int64_t met_ms;
};

struct rule_milestone {
    const char *name;
    int32_t due_day;
    bool done; /* completed before T */
};

struct rule_product {
    const char *name;
    bool used_30d; /* a feature event with this `product` in the last 30 days */
};

struct rule_input {
    int64_t t_ms;
    int32_t day; /* D */
    const struct metrics *m;
    const struct health_score *h;
    bool has_score_before; /* the overall score as of D - health_drop's days */
    double score_before;
    const char *segment, *plan; /* traits, NULL when unknown */
    bool has_age;
    int64_t age_days;    /* D minus the day the account was created (or first seen) */
    const cJSON *traits; /* every account trait, for custom rules; may be NULL */
    /* Rules not to evaluate for this account (index into rules_config.rules;
     * NULL: none): the caller treats them as failed, keeping their CTAs. */
    const bool *suspended;
    /* Event rules fire for what arrived in [since_ms, T). */
    int64_t since_ms;
    const struct rule_nps *nps;
    size_t n_nps;
    /* A user's email, else external id (NULL: unknown), valid until the next
     * call; asked only for answers that fire. */
    const char *(*user_label)(void *arg, int64_t user_id);
    void *label_arg;
    const struct rule_goal *goals;
    size_t n_goals;
    const struct rule_milestone *milestones;
    size_t n_milestones;
    const struct rule_product *products; /* premium_products */
    size_t n_products;
    bool has_oldest_unanswered; /* the oldest outreach sent after the latest reply */
    int64_t oldest_unanswered_ms;
    bool has_last_ticket; /* the latest ticket opened before T */
    int64_t last_ticket_ms;
    /* champion_risk: the account's users with their roles and engagement
     * as of T (core/users.h); NULL: not read, the rule says nothing. */
    const struct users_acc *users;
    /* nps_change: the NPS RULES_NPS_CHANGE_DAYS earlier, over each user's
     * latest answer before then that is still within the year before T
     * (has false: none), and the answers of the RULES_NPS_CHANGE_DAYS days
     * before then. */
    bool has_nps_before;
    double nps_before;
    int64_t nps_answers_before;
};

/* What a rule says of one key. */
struct rule_finding {
    int rule; /* index into rules_config.rules */
    char subject[128];
    enum cta_type type;
    enum cta_priority priority;
    /* An event rule's finding opens a CTA only when fresh (its event arrived
     * since the previous evaluation); otherwise it only keeps one alive. */
    bool event;
    bool fresh;
    /* Not a finding of the condition but of its margin (hysteresis): the
     * condition no longer holds, but has not cleared by the rule's
     * clear_margin; it keeps a live CTA alive and opens nothing. */
    bool in_between;
    char title[200];
    char reason[480];
    const char *evidence; /* JSON object text, for the call */
};

/* Called for each finding (its condition holds, or is in between); the
 * finding lives for the call. */
typedef void (*rules_emit_fn)(void *arg, const struct rule_finding *f);
/* Called when a custom rule fails on an account: message names the rule and
 * line; timed_out when it ran out of time (a rule that does so on every
 * account costs the limit per account). The other rules go on. */
typedef void (*rules_error_fn)(void *arg, int rule, const char *message, bool timed_out);

/* Evaluates every rule that applies to the account; emits a finding for each
 * key whose condition holds. A key of an applying rule with no finding does
 * not hold (its CTA, if any, is to be resolved). */
void rules_evaluate(const struct rules_config *c, const struct rule_input *in, rules_emit_fn emit,
                    rules_error_fn error, void *arg);

/* ---- gathering an account's rule facts --------------------------------------- */

/* Collects from an account's facts what rules need beyond metrics: each
 * user's latest two NPS answers, goals, milestones, the oldest unanswered
 * outreach. Feed it the same facts as metrics_add_fact(), in any order. */
struct rules_facts;
struct rules_facts *rules_facts_new(int64_t t_ms);
void rules_facts_free(struct rules_facts *f);
void rules_facts_add(struct rules_facts *f, const struct metric_fact *x);
/* Fills the fact fields of in (nps, goals, milestones, oldest unanswered);
 * the arrays live until rules_facts_free(). */
void rules_facts_finish(struct rules_facts *f, struct rule_input *in);

#endif
