/* rules_config.c: the rules' configuration (see rules.h, docs/rules.md,
 * docs/config.md): the table of the sixteen built-in rules with their
 * parameters, defaults and bounds (SPEC 5), the settings every rule carries,
 * and the loading of tend.yaml's rules: and ctas: sections into a struct
 * rules_config.
 *
 * What it is not: no evaluation (rules.c) and no facts (rules_facts.c). A
 * bad value is an error naming its path in tend.yaml (rules.NAME.PARAM) and
 * the bounds it must keep; nothing is loaded in part. */
#include "core/rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/custom_rule.h"
#include "core/holdout.h"
#include "util/mem.h"
#include "util/yaml.h"

/* ---- built-in rules and their parameters ------------------------------------ */

struct builtin {
    const char *name;
    int resolve_after_days;
    enum cta_type type;
    enum cta_priority priority;
    const char *params[RULES_MAX_PARAMS + 1];
    double defaults[RULES_MAX_PARAMS];
    /* Parameter bounds: every one is a count of days, points or a ratio. */
    double min[RULES_MAX_PARAMS], max[RULES_MAX_PARAMS];
};

static const struct builtin builtins[RULE_BUILTIN_COUNT] = {
    [RULE_HEALTH_DROP] = {"health_drop",
                          3,
                          CTA_RISK,
                          CTA_MEDIUM,
                          {"drop_points", "days", "clear_margin"},
                          {15, 30, 5},
                          {0.1, 1, 0},
                          {100, 365, 100}},
    [RULE_NPS_RESPONSE] = {"nps_response",
                           1,
                           CTA_RISK,
                           CTA_HIGH,
                           {"detractor_max", "promoter_min", "drop_points", "window_days",
                            "first_lookback_days", "watch_days"},
                           {6, 9, 3, 90, 7, 14},
                           {0, 0, 1, 1, 0, 0},
                           {10, 10, 10, 365, 365, 365}},
    [RULE_CARD_EXPIRING] = {"card_expiring",
                            1,
                            CTA_RISK,
                            CTA_LOW,
                            {"low_days", "medium_days", "high_days"},
                            {30, 14, 7},
                            {0, 0, 0},
                            {365, 365, 365}},
    [RULE_RENEWAL_UPCOMING] = {"renewal_upcoming",
                               1,
                               CTA_LIFECYCLE,
                               CTA_LOW,
                               {"low_days", "medium_days", "high_days"},
                               {90, 60, 30},
                               {0, 0, 0},
                               {730, 730, 730}},
    [RULE_PAYMENT_OVERDUE] = {"payment_overdue",
                              1,
                              CTA_RISK,
                              CTA_MEDIUM,
                              {"min_invoices", "high_days_overdue"},
                              {1, 30},
                              {1, 0},
                              {1000, 3650}},
    [RULE_NO_LOGIN] = {"no_login", 1, CTA_RISK, CTA_MEDIUM, {"days"}, {14}, {1}, {3650}},
    [RULE_LOGIN_CHANGE] = {"login_change",
                           3,
                           CTA_RISK,
                           CTA_MEDIUM,
                           {"min_baseline", "drop_ratio", "spike_ratio", "clear_margin"},
                           {10, 0.5, 2, 0.1},
                           {0, 0, 1, 0},
                           {1e6, 1, 100, 1}},
    [RULE_USAGE_DIP] = {"usage_dip",
                        3,
                        CTA_RISK,
                        CTA_MEDIUM,
                        {"min_baseline", "dip_ratio", "clear_margin"},
                        {20, 0.6, 0.1},
                        {0, 0, 0},
                        {1e6, 1, 1}},
    [RULE_INTENDED_ADOPTION] =
        {"intended_adoption", 1, CTA_RISK, CTA_MEDIUM, {NULL}, {0}, {0}, {0}},
    [RULE_ONBOARDING_STALLED] =
        {"onboarding_stalled", 1, CTA_LIFECYCLE, CTA_MEDIUM, {NULL}, {0}, {0}, {0}},
    [RULE_OUTREACH_UNRESPONSIVE] =
        {"outreach_unresponsive",
         1,
         CTA_RISK,
         CTA_MEDIUM,
         {"min_unanswered", "days"},
         {3, 14},
         {1, 0},
         {1000, 3650}},
    [RULE_SEAT_LIMIT] =
        {"seat_limit",
         3,
         CTA_EXPANSION,
         CTA_MEDIUM,
         {"medium_at", "high_at", "clear_margin"},
         {0.9, 1.0, 0.05},
         {0, 0, 0},
         {100, 100, 1}},
    [RULE_PREMIUM_UNUSED] =
        {"premium_unused", 1, CTA_RISK, CTA_MEDIUM, {"min_age_days"}, {30}, {0}, {3650}},
    [RULE_SUPPORT_TICKETS] =
        {"support_tickets",
         3,
         CTA_RISK,
         CTA_MEDIUM,
         {"too_many", "quiet_days", "quiet_min_users", "clear_margin"},
         {5, 180, 20, 2},
         {1, 1, 1, 0},
         {1e6, 3650, 1e6, 1e6}},
    /* quiet_days stays within the 12 weeks of logins read per user. */
    [RULE_CHAMPION_RISK] =
        {"champion_risk",
         1,
         CTA_RISK,
         CTA_MEDIUM,
         {"quiet_days", "drop_ratio", "min_baseline"},
         {21, 0.3, 8},
         {1, 0, 0},
         {83, 1, 1e6}},
    [RULE_NPS_CHANGE] =
        {"nps_change",
         1,
         CTA_RISK,
         CTA_MEDIUM,
         {"points", "min_answers"},
         {20, 5},
         {1, 1},
         {200, 1e6}},

    [RULE_SEGMENT_SHIFT] =
        {"segment_shift",
         1,
         CTA_RISK,
         CTA_MEDIUM,
         {"change", "min_accounts", "recent_days", "baseline_days", "nps_points", "clear_margin"},
         {0.2, 10, 7, 56, 15, 0.05},
         {0.01, 1, 1, 7, 1, 0},
         {10, 1e6, 28, 365, 200, 1}},
};

enum { DEFAULT_COOLDOWN_DAYS = 14 };

const char *const *rules_param_names(enum rule_builtin kind) {
    static const char *const none[] = {NULL};
    return kind < RULE_BUILTIN_COUNT ? builtins[kind].params : none;
}

double rules_param(const struct rule_settings *r, enum rule_param p) {
    int kind = (int)p / RULES_MAX_PARAMS, i = (int)p % RULES_MAX_PARAMS;
    if ((int)r->kind != kind || !builtins[kind].params[i])
        return NAN;
    return r->params[i];
}

bool rules_owns_subject(const struct rule_settings *r, const char *subject) {
    return r->kind != RULE_NPS_RESPONSE || strncmp(subject, "user:", 5) != 0;
}

void rules_config_default(struct rules_config *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < RULE_BUILTIN_COUNT; i++) {
        struct rule_settings *r = &c->rules[i];
        snprintf(r->name, sizeof r->name, "%s", builtins[i].name);
        r->kind = (enum rule_builtin)i;
        r->enabled = true;
        r->type = builtins[i].type;
        r->priority = builtins[i].priority;
        r->cooldown_days = DEFAULT_COOLDOWN_DAYS;
        r->resolve_after_days = builtins[i].resolve_after_days;
        memcpy(r->params, builtins[i].defaults, sizeof r->params);
    }
    c->n_rules = RULE_BUILTIN_COUNT;
    c->due_days[CTA_HIGH] = 3;
    c->due_days[CTA_MEDIUM] = 10;
    c->due_days[CTA_LOW] = 20;
    c->expire_after_days = 5;
    c->max_open_per_account = 25;
    c->max_open_total = 20000;
    c->budget_per_owner_week = 10;
    c->value_raise_at = 50000;
    c->value_lower_below = 1000;
    snprintf(c->currency, sizeof c->currency, "$");
    snprintf(c->role_trait, sizeof c->role_trait, "%s", RULES_ROLE_TRAIT);
}

void rules_config_release(struct rules_config *c) {
    for (int i = RULE_BUILTIN_COUNT; i < c->n_rules; i++) {
        free(c->rules[i].when);
        free(c->rules[i].reason);
        free(c->rules[i].title);
        custom_rule_free(c->rules[i].compiled);
    }
    rules_config_default(c);
}

bool rules_applies(const struct rule_settings *r, const char *segment, const char *plan) {
    if (!r->enabled)
        return false;
    bool ok = r->n_segments == 0;
    for (int i = 0; !ok && segment && i < r->n_segments; i++)
        ok = strcmp(r->segments[i], segment) == 0;
    if (!ok)
        return false;
    ok = r->n_plans == 0;
    for (int i = 0; !ok && plan && i < r->n_plans; i++)
        ok = strcmp(r->plans[i], plan) == 0;
    return ok;
}

/* ---- loading tend.yaml ------------------------------------------------------- */

static enum tend_err load_list(const cJSON *v, const char *path, char (*out)[RULES_NAME_BYTES],
                               int *n, char *err) {
    if (cJSON_IsString(v)) {
        snprintf(out[0], RULES_NAME_BYTES, "%s", v->valuestring);
        *n = 1;
        return TEND_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > RULES_MAX_SCOPE)
        return yaml_error(err, RULES_ERR_BYTES, path,
                          "must be a name or a list of at most %d names", RULES_MAX_SCOPE);
    *n = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        if (!cJSON_IsString(x) || strlen(x->valuestring) >= RULES_NAME_BYTES)
            return yaml_error(err, RULES_ERR_BYTES, path, "must list names (text, under %d bytes)",
                              RULES_NAME_BYTES);
        snprintf(out[(*n)++], RULES_NAME_BYTES, "%s", x->valuestring);
    }
    return TEND_OK;
}

static char *dup_text(const cJSON *v) {
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

/* A rule's holdout: a percentage written "10%" (0% to 50%, decimals
 * allowed) into a share; a bare number is refused, as 0.1 could mean 10% or
 * 0.1%. Returns -1 on a mistake. */
static int load_holdout(const cJSON *kv, const char *path, double *share, char *err) {
    const char *t = cJSON_IsString(kv) ? kv->valuestring : NULL;
    char *end = NULL;
    double pct = t ? strtod(t, &end) : NAN;
    if (!t || end == t || strcmp(end, "%") != 0 || !(pct >= 0) || pct > HOLDOUT_MAX_SHARE * 100)
        return yaml_error(err, RULES_ERR_BYTES, path,
                          "must be a percentage from 0%% to %g%%, written like 10%%",
                          HOLDOUT_MAX_SHARE * 100),
               -1;
    *share = pct / 100;
    return 0;
}

/* The settings every rule takes: enabled, priority, type, cooldown_days,
 * segments, plans. Returns 1 when key is one of them (loaded), 0 when not,
 * -1 on a mistake. */
static int load_common(const cJSON *kv, const char *path, struct rule_settings *r, char *err) {
    const char *k = kv->string;
    if (strcmp(k, "enabled") == 0) {
        if (!cJSON_IsBool(kv))
            return yaml_error(err, RULES_ERR_BYTES, path, "must be true or false"), -1;
        r->enabled = cJSON_IsTrue(kv);
    } else if (strcmp(k, "priority") == 0) {
        if (!cJSON_IsString(kv) || !cta_priority_parse(kv->valuestring, &r->priority))
            return yaml_error(err, RULES_ERR_BYTES, path, "must be high, medium or low"), -1;
    } else if (strcmp(k, "type") == 0) {
        if (!cJSON_IsString(kv) || !cta_type_parse(kv->valuestring, &r->type))
            return yaml_error(err, RULES_ERR_BYTES, path,
                              "must be risk, opportunity, lifecycle or expansion"),
                   -1;
    } else if (strcmp(k, "cooldown_days") == 0) {
        double d = 0;
        if (yaml_number(kv, path, 0, 3650, &d, err, RULES_ERR_BYTES))
            return -1;
        r->cooldown_days = (int)d;
        r->cooldown_set = true;
    } else if (strcmp(k, "resolve_after_days") == 0) {
        double d = 1;
        if (yaml_number(kv, path, 1, 365, &d, err, RULES_ERR_BYTES))
            return -1;
        r->resolve_after_days = (int)d;
    } else if (strcmp(k, "holdout") == 0) {
        if (load_holdout(kv, path, &r->holdout, err))
            return -1;
    } else if (strcmp(k, "holdout_seed") == 0) {
        double d = 0;
        if (yaml_number(kv, path, 0, 9007199254740991.0, &d, err, RULES_ERR_BYTES))
            return -1;
        if (d != (double)(uint64_t)d)
            return yaml_error(err, RULES_ERR_BYTES, path, "must be a whole number"), -1;
        r->holdout_seed = (uint64_t)d;
    } else if (strcmp(k, "segments") == 0) {
        if (load_list(kv, path, r->segments, &r->n_segments, err))
            return -1;
    } else if (strcmp(k, "plans") == 0) {
        if (load_list(kv, path, r->plans, &r->n_plans, err))
            return -1;
    } else {
        return 0;
    }
    return 1;
}

static enum tend_err load_builtin(const cJSON *section, int i, struct rules_config *c, char *err) {
    struct rule_settings *r = &c->rules[i];
    char path[192];
    if (cJSON_IsBool(section)) { /* no_login: false */
        r->enabled = cJSON_IsTrue(section);
        return TEND_OK;
    }
    if (!cJSON_IsObject(section))
        return yaml_error(err, RULES_ERR_BYTES, section->string,
                          "must be a mapping of settings, or true/false");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, section) {
        snprintf(path, sizeof path, "rules.%s.%s", builtins[i].name, kv->string);
        int common = load_common(kv, path, r, err);
        if (common < 0)
            return TEND_ERR_INVALID;
        if (common)
            continue;
        if (i == RULE_CHAMPION_RISK && strcmp(kv->string, "role_trait") == 0) {
            if (!cJSON_IsString(kv) || !kv->valuestring[0] ||
                strlen(kv->valuestring) >= sizeof c->role_trait)
                return yaml_error(err, RULES_ERR_BYTES, path,
                                  "must be a trait name (text, under %zu bytes)",
                                  sizeof c->role_trait);
            snprintf(c->role_trait, sizeof c->role_trait, "%s", kv->valuestring);
            continue;
        }
        int p;
        for (p = 0; builtins[i].params[p] && strcmp(builtins[i].params[p], kv->string) != 0; p++)
            ;
        if (!builtins[i].params[p]) {
            char known[320] = "enabled, priority, type, cooldown_days, resolve_after_days, "
                              "segments, plans, holdout, holdout_seed";
            for (int k = 0; builtins[i].params[k]; k++) {
                strncat(known, ", ", sizeof known - strlen(known) - 1);
                strncat(known, builtins[i].params[k], sizeof known - strlen(known) - 1);
            }
            if (i == RULE_CHAMPION_RISK)
                strncat(known, ", role_trait", sizeof known - strlen(known) - 1);
            return yaml_error(err, RULES_ERR_BYTES, path, "unknown setting (known: %s)", known);
        }
        if (yaml_number(kv, path, builtins[i].min[p], builtins[i].max[p], &r->params[p], err,
                        RULES_ERR_BYTES))
            return TEND_ERR_INVALID;
    }
    return TEND_OK;
}

static enum tend_err load_custom(const cJSON *o, int index, struct rules_config *c, char *err) {
    char path[192];
    snprintf(path, sizeof path, "rules.custom[%d]", index);
    if (!cJSON_IsObject(o))
        return yaml_error(err, RULES_ERR_BYTES, path, "must be a mapping with name, when, title");
    if (c->n_rules == RULES_MAX)
        return yaml_error(err, RULES_ERR_BYTES, path, "at most %d custom rules", RULES_MAX_CUSTOM);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0] ||
        strlen(name->valuestring) >= RULES_NAME_BYTES)
        return yaml_error(err, RULES_ERR_BYTES, path, "needs a name (text, under %d bytes)",
                          RULES_NAME_BYTES);
    for (int i = 0; i < c->n_rules; i++)
        if (strcmp(c->rules[i].name, name->valuestring) == 0)
            return yaml_error(err, RULES_ERR_BYTES, path, "the name \"%s\" is taken",
                              name->valuestring);
    struct rule_settings *r = &c->rules[c->n_rules];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name->valuestring);
    r->kind = RULE_CUSTOM;
    r->enabled = true;
    r->type = CTA_RISK;
    r->priority = CTA_MEDIUM;
    r->cooldown_days = DEFAULT_COOLDOWN_DAYS;
    r->resolve_after_days = 1;
    c->n_rules++; /* owned by c from here: released with it on a mistake */
    snprintf(path, sizeof path, "rules.custom.%s", r->name);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, o) {
        char kp[256];
        snprintf(kp, sizeof kp, "%s.%s", path, kv->string);
        int common = load_common(kv, kp, r, err);
        if (common < 0)
            return TEND_ERR_INVALID;
        if (common || strcmp(kv->string, "name") == 0)
            continue;
        char **dst = strcmp(kv->string, "when") == 0     ? &r->when
                     : strcmp(kv->string, "reason") == 0 ? &r->reason
                     : strcmp(kv->string, "title") == 0  ? &r->title
                                                         : NULL;
        if (!dst)
            return yaml_error(
                err, RULES_ERR_BYTES, kp,
                "unknown setting (known: name, when, reason, title, enabled, priority, "
                "type, cooldown_days, resolve_after_days, segments, plans, holdout, "
                "holdout_seed)");
        if (!cJSON_IsString(kv) || !kv->valuestring[0] || strlen(kv->valuestring) > 4096)
            return yaml_error(err, RULES_ERR_BYTES, kp, "must be text of at most 4096 bytes");
        *dst = dup_text(kv);
    }
    if (!r->when)
        return yaml_error(err, RULES_ERR_BYTES, path,
                          "needs `when`: a Lua condition over metrics and scores");
    if (!r->title)
        r->title = xstrdup(r->name);
    char cerr[CUSTOM_RULE_ERR_BYTES];
    if (custom_rule_compile(r->name, r->when, r->reason, &r->compiled, cerr))
        return yaml_error(err, RULES_ERR_BYTES, path, "%s", cerr);
    return TEND_OK;
}

static enum tend_err load_ctas(const cJSON *ctas, struct rules_config *c, char *err) {
    if (!ctas || cJSON_IsNull(ctas))
        return TEND_OK;
    if (!cJSON_IsObject(ctas))
        return yaml_error(err, RULES_ERR_BYTES, "ctas", "must be a mapping");
    const cJSON *kv;
    char path[192];
    cJSON_ArrayForEach(kv, ctas) {
        snprintf(path, sizeof path, "ctas.%s", kv->string);
        double d = 0;
        if (strcmp(kv->string, "cooldown_days") == 0) {
            if (yaml_number(kv, path, 0, 3650, &d, err, RULES_ERR_BYTES))
                return TEND_ERR_INVALID;
            for (int i = 0; i < c->n_rules; i++)
                if (!c->rules[i].cooldown_set)
                    c->rules[i].cooldown_days = (int)d;
        } else if (strcmp(kv->string, "default_owner") == 0) {
            if (!cJSON_IsString(kv) || strlen(kv->valuestring) >= sizeof c->default_owner)
                return yaml_error(err, RULES_ERR_BYTES, path, "must be text (an email address)");
            snprintf(c->default_owner, sizeof c->default_owner, "%s", kv->valuestring);
        } else if (strcmp(kv->string, "cs_lead") == 0) { /* segment_shift's fallback owner */
            if (!cJSON_IsString(kv) || strlen(kv->valuestring) >= sizeof c->segments.cs_lead)
                return yaml_error(err, RULES_ERR_BYTES, path, "must be text (an email address)");
            snprintf(c->segments.cs_lead, sizeof c->segments.cs_lead, "%s", kv->valuestring);
        } else if (strcmp(kv->string, "max_open_per_account") == 0) {
            if (yaml_number(kv, path, 1, 1e6, &d, err, RULES_ERR_BYTES))
                return TEND_ERR_INVALID;
            c->max_open_per_account = (int)d;
        } else if (strcmp(kv->string, "max_open_total") == 0) {
            if (yaml_number(kv, path, 1, 1e9, &d, err, RULES_ERR_BYTES))
                return TEND_ERR_INVALID;
            c->max_open_total = (int)d;
        } else if (strcmp(kv->string, "expire_after_days") == 0) {
            if (yaml_number(kv, path, 0, 365, &d, err, RULES_ERR_BYTES))
                return TEND_ERR_INVALID;
            c->expire_after_days = (int)d;
        } else if (strcmp(kv->string, "due_days") == 0) {
            if (!cJSON_IsObject(kv))
                return yaml_error(err, RULES_ERR_BYTES, path,
                                  "must be a mapping of priority: working days");
            const cJSON *p;
            cJSON_ArrayForEach(p, kv) {
                char pp[256];
                snprintf(pp, sizeof pp, "%s.%s", path, p->string);
                enum cta_priority pr;
                if (!cta_priority_parse(p->string, &pr))
                    return yaml_error(err, RULES_ERR_BYTES, pp,
                                      "not a priority (high, medium, low)");
                if (yaml_number(p, pp, 0, 365, &d, err, RULES_ERR_BYTES))
                    return TEND_ERR_INVALID;
                c->due_days[pr] = (int)d;
            }
        } else {
            return yaml_error(err, RULES_ERR_BYTES, path,
                              "unknown setting (known: cooldown_days, due_days, expire_after_days, "
                              "default_owner, max_open_per_account, max_open_total, cs_lead)");
        }
    }
    return TEND_OK;
}

/* rules.budget: {per_owner_per_week: N} and rules.value: {raise_at,
 * lower_below, currency}. */
static enum tend_err load_policy(const cJSON *section, struct rules_config *c, char *err) {
    bool budget = strcmp(section->string, "budget") == 0;
    char path[192];
    snprintf(path, sizeof path, "rules.%s", section->string);
    if (!cJSON_IsObject(section))
        return yaml_error(err, RULES_ERR_BYTES, path, "must be a mapping (known: %s)",
                          budget ? "per_owner_per_week" : "raise_at, lower_below, currency");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, section) {
        snprintf(path, sizeof path, "rules.%s.%s", section->string, kv->string);
        double d = 0;
        if (budget && strcmp(kv->string, "per_owner_per_week") == 0) {
            if (yaml_number(kv, path, 0, 10000, &d, err, RULES_ERR_BYTES))
                return TEND_ERR_INVALID;
            c->budget_per_owner_week = (int)d;
        } else if (!budget && strcmp(kv->string, "raise_at") == 0) {
            if (yaml_number(kv, path, 0, 1e12, &c->value_raise_at, err, RULES_ERR_BYTES))
                return TEND_ERR_INVALID;
        } else if (!budget && strcmp(kv->string, "lower_below") == 0) {
            if (yaml_number(kv, path, 0, 1e12, &c->value_lower_below, err, RULES_ERR_BYTES))
                return TEND_ERR_INVALID;
        } else if (!budget && strcmp(kv->string, "currency") == 0) {
            if (!cJSON_IsString(kv) || strlen(kv->valuestring) >= sizeof c->currency)
                return yaml_error(err, RULES_ERR_BYTES, path,
                                  "must be text of at most %zu bytes (e.g. \"$\", \"EUR \")",
                                  sizeof c->currency - 1);
            snprintf(c->currency, sizeof c->currency, "%s", kv->valuestring);
        } else {
            return yaml_error(err, RULES_ERR_BYTES, path, "unknown setting (known: %s)",
                              budget ? "per_owner_per_week" : "raise_at, lower_below, currency");
        }
    }
    if (!budget && c->value_lower_below > 0 && c->value_raise_at > 0 &&
        c->value_lower_below > c->value_raise_at)
        return yaml_error(err, RULES_ERR_BYTES, "rules.value.lower_below",
                          "must not be above raise_at (%g)", c->value_raise_at);
    return TEND_OK;
}

enum tend_err rules_config_load(const cJSON *rules, const cJSON *ctas, struct rules_config *c,
                                char *err) {
    rules_config_default(c);
    enum tend_err e = TEND_OK;
    if (rules && !cJSON_IsNull(rules)) {
        if (!cJSON_IsObject(rules))
            return yaml_error(err, RULES_ERR_BYTES, "rules",
                              "must be a mapping of rule names (and custom)");
        const cJSON *kv;
        cJSON_ArrayForEach(kv, rules) {
            if (strcmp(kv->string, "custom") == 0)
                continue;
            if (strcmp(kv->string, "budget") == 0 || strcmp(kv->string, "value") == 0) {
                if ((e = load_policy(kv, c, err)))
                    return e;
                continue;
            }
            int i;
            for (i = 0; i < RULE_BUILTIN_COUNT && strcmp(kv->string, builtins[i].name) != 0; i++)
                ;
            char path[192];
            snprintf(path, sizeof path, "rules.%s", kv->string);
            if (i == RULE_BUILTIN_COUNT)
                return yaml_error(err, RULES_ERR_BYTES, path,
                                  "not a built-in rule (custom rules go under rules.custom; "
                                  "budget and value set the CTA policy)");
            if ((e = load_builtin(kv, i, c, err)))
                return e;
        }
        const cJSON *custom = cJSON_GetObjectItemCaseSensitive(rules, "custom");
        if (custom && !cJSON_IsArray(custom))
            return yaml_error(err, RULES_ERR_BYTES, "rules.custom", "must be a list of rules");
        int k = 0;
        const cJSON *o;
        cJSON_ArrayForEach(o, custom) {
            if ((e = load_custom(o, k++, c, err))) {
                rules_config_release(c);
                return e;
            }
        }
    }
    if ((e = load_ctas(ctas, c, err)))
        rules_config_release(c);
    return e;
}
