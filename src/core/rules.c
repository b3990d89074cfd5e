/* rules.c: the built-in and custom rules (see rules.h, docs/rules.md).
 *
 * Each built-in rule is one function of the account's inputs that emits a
 * finding per key whose condition holds; its thresholds are named parameters
 * with the defaults of SPEC 5. Reasons carry the numbers a CSM needs to act
 * without opening a dashboard ("logins fell from 41/week to 12 in the last 7
 * days"), and the evidence the metric values behind them. */
#include "core/rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/custom_rule.h"
#include "core/vocab.h"
#include "util/datetime.h"
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

static enum tend_err load_builtin(const cJSON *section, int i, struct rule_settings *r, char *err) {
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
        int p;
        for (p = 0; builtins[i].params[p] && strcmp(builtins[i].params[p], kv->string) != 0; p++)
            ;
        if (!builtins[i].params[p]) {
            char known[320] = "enabled, priority, type, cooldown_days, resolve_after_days, "
                              "segments, plans";
            for (int k = 0; builtins[i].params[k]; k++) {
                strncat(known, ", ", sizeof known - strlen(known) - 1);
                strncat(known, builtins[i].params[k], sizeof known - strlen(known) - 1);
            }
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
                "type, cooldown_days, resolve_after_days, segments, plans)");
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
                              "default_owner, max_open_per_account, max_open_total)");
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
            if ((e = load_builtin(kv, i, &c->rules[i], err)))
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

/* ---- findings ------------------------------------------------------------------ */

struct emitter {
    const struct rules_config *c;
    const struct rule_input *in;
    rules_emit_fn emit;
    rules_error_fn error;
    void *arg;
    int rule;
    /* The evidence of the next finding, as the members of a JSON object:
     * built as text, since most findings only keep a CTA alive and are never
     * stored (a cJSON tree per finding measured 3 us of the 25 us per
     * account). */
    char ev[1024];
    size_t ev_len;
};

static double param(const struct emitter *e, int i) {
    return e->c->rules[e->rule].params[i];
}

static const struct rule_settings *settings(const struct emitter *e) {
    return &e->c->rules[e->rule];
}

/* Appends text to the evidence, or nothing once it is full. */
static void ev_put(struct emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ev_put(struct emitter *e, const char *fmt, ...) {
    if (e->ev_len >= sizeof e->ev - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->ev + e->ev_len, sizeof e->ev - e->ev_len, fmt, ap);
    va_end(ap);
    if (n > 0 && e->ev_len + (size_t)n < sizeof e->ev)
        e->ev_len += (size_t)n;
    else
        e->ev[e->ev_len] = '\0'; /* a member that does not fit is left out */
}

/* Appends s as a JSON string (quoted and escaped). */
static void ev_quoted(struct emitter *e, const char *s) {
    char out[512];
    size_t n = 0;
    out[n++] = '"';
    for (; *s && n < sizeof out - 8; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, sizeof out - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
    ev_put(e, "%s", out);
}

static void ev_name(struct emitter *e, const char *name) {
    ev_put(e, "%s", e->ev_len ? "," : "");
    ev_quoted(e, name);
    ev_put(e, ":");
}

static void ev_num(struct emitter *e, const char *name, double v) {
    ev_name(e, name);
    if (!isfinite(v))
        ev_put(e, "null");
    else if (v == floor(v) && fabs(v) < 1e15)
        ev_put(e, "%lld", (long long)v);
    else
        ev_put(e, "%.15g", v);
}

static void ev_str(struct emitter *e, const char *name, const char *v) {
    ev_name(e, name);
    ev_quoted(e, v ? v : "");
}

static void ev_null(struct emitter *e, const char *name) {
    ev_name(e, name);
    ev_put(e, "null");
}

/* Emits a finding with the evidence gathered since the last one. */
static void finding(struct emitter *e, const char *subject, enum cta_type type,
                    enum cta_priority priority, bool event, bool fresh, const char *title,
                    const char *reason_fmt, ...) {
    struct rule_finding f = {
        .rule = e->rule,
        .type = type,
        .priority = priority,
        .event = event,
        .fresh = fresh,
    };
    snprintf(f.subject, sizeof f.subject, "%s", subject ? subject : "");
    snprintf(f.title, sizeof f.title, "%s", title);
    va_list ap;
    va_start(ap, reason_fmt);
    vsnprintf(f.reason, sizeof f.reason, reason_fmt, ap);
    va_end(ap);
    char evidence[sizeof e->ev + 2];
    snprintf(evidence, sizeof evidence, "{%s}", e->ev);
    f.evidence = evidence;
    e->ev_len = 0;
    e->ev[0] = '\0';
    e->emit(e->arg, &f);
}

/* Says that a key's condition does not hold but has not cleared by the
 * rule's margin (hysteresis, docs/rules.md): its CTA, if live, stays. */
static void between(struct emitter *e, const char *subject, enum cta_type type) {
    struct rule_finding f = {.rule = e->rule, .type = type, .in_between = true};
    snprintf(f.subject, sizeof f.subject, "%s", subject);
    f.evidence = "{}";
    e->ev_len = 0;
    e->ev[0] = '\0';
    e->emit(e->arg, &f);
}

static void date_of(int32_t day, char out[16]) {
    dt_format_date(day, out);
}

/* ---- the fourteen built-in rules ------------------------------------------------- */

static void health_drop(struct emitter *e) {
    const struct rule_input *in = e->in;
    if (!in->h->has_score)
        return;
    double now = in->h->overall, drop_points = param(e, 0);
    bool red = in->h->band == BAND_RED;
    bool dropped = in->has_score_before && in->score_before - now >= drop_points;
    if (!red && !dropped) {
        double margin = rules_param(settings(e), RP_HEALTH_DROP_CLEAR_MARGIN);
        if (margin > 0 && in->has_score_before && in->score_before - now >= drop_points - margin)
            between(e, "", settings(e)->type);
        return;
    }
    ev_num(e, "score", round(now * 10) / 10);
    if (in->has_score_before)
        ev_num(e, "score_before", round(in->score_before * 10) / 10);
    ev_num(e, "days", param(e, 1));
    ev_str(e, "band", health_band_name(in->h->band));
    char reason[256];
    if (dropped)
        snprintf(reason, sizeof reason, "health fell from %.1f to %.1f in %.0f days%s",
                 in->score_before, now, param(e, 1), red ? ", into the red band" : "");
    else
        snprintf(reason, sizeof reason, "health is %.1f, in the red band", now);
    finding(e, "", settings(e)->type, red ? CTA_HIGH : settings(e)->priority, false, false,
            red ? "Health is red" : "Health dropped", "%s", reason);
}

/* One account-level NPS key: the answers that make it, as evidence. */
struct nps_group {
    const char *subject;
    int n, n_main;  /* answers; detractors (risk) or all */
    bool fresh;     /* an answer arrived since the previous evaluation */
    char list[400]; /* "jane@x answered 3 on 2026-03-01; ..." */
    size_t list_len;
    char answers[700]; /* JSON array members */
    size_t answers_len;
};

static void nps_add(struct nps_group *g, const char *who, const struct rule_nps *a, bool fresh,
                    bool main) {
    g->n++;
    g->n_main += main;
    g->fresh = g->fresh || fresh;
    char when[16], one[200];
    dt_format_date(dt_day_of_ms(a->ts_ms), when);
    int n = a->has_prev ? snprintf(one, sizeof one, "%s%s answered %.0f on %s (before: %.0f)",
                                   g->list_len ? "; " : "", who, a->score, when, a->prev_score)
                        : snprintf(one, sizeof one, "%s%s answered %.0f on %s",
                                   g->list_len ? "; " : "", who, a->score, when);
    if (n > 0 && g->list_len + (size_t)n < sizeof g->list - 8) {
        memcpy(g->list + g->list_len, one, (size_t)n + 1);
        g->list_len += (size_t)n;
    } else if (g->list_len + 6 < sizeof g->list && !strstr(g->list, "; ...")) {
        memcpy(g->list + g->list_len, "; ...", 6);
        g->list_len += 5;
    }
    /* The evidence: each answer as {"user","score","answered"[,"previous_score"]},
     * as many as fit whole. */
    char esc[160];
    size_t k = 0;
    for (const char *c = who; *c && k < sizeof esc - 8; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch == '"' || ch == '\\')
            esc[k++] = '\\', esc[k++] = (char)ch;
        else if (ch >= 0x20)
            esc[k++] = (char)ch;
    }
    esc[k] = '\0';
    n = a->has_prev
            ? snprintf(one, sizeof one,
                       "%s{\"user\":\"%s\",\"score\":%g,\"answered\":\"%s\",\"previous_score\":%g}",
                       g->answers_len ? "," : "", esc, a->score, when, a->prev_score)
            : snprintf(one, sizeof one, "%s{\"user\":\"%s\",\"score\":%g,\"answered\":\"%s\"}",
                       g->answers_len ? "," : "", esc, a->score, when);
    if (n > 0 && g->answers_len + (size_t)n < sizeof g->answers) {
        memcpy(g->answers + g->answers_len, one, (size_t)n + 1);
        g->answers_len += (size_t)n;
    }
}

/* NPS: one CTA per account and kind (docs/rules.md): "nps" for detractors
 * and falls (risk), "nps:passives" (risk, watch) and "nps:promoters"
 * (opportunity). Every answer that makes a key is evidence on its CTA; a new
 * one on a live CTA updates its reason. */
static void nps_response(struct emitter *e) {
    const struct rule_input *in = e->in;
    const struct rule_settings *r = settings(e);
    double detractor_max = rules_param(r, RP_NPS_DETRACTOR_MAX);
    double promoter_min = rules_param(r, RP_NPS_PROMOTER_MIN);
    double drop = rules_param(r, RP_NPS_DROP_POINTS);
    int64_t window_ms = (int64_t)rules_param(r, RP_NPS_WINDOW_DAYS) * DT_MS_PER_DAY;
    int64_t watch_ms = (int64_t)rules_param(r, RP_NPS_WATCH_DAYS) * DT_MS_PER_DAY;
    struct nps_group g[3] = {
        {.subject = "nps"}, {.subject = "nps:passives"}, {.subject = "nps:promoters"}};
    for (size_t i = 0; i < in->n_nps; i++) {
        const struct rule_nps *a = &in->nps[i];
        if (a->ts_ms >= in->t_ms || a->ts_ms < in->t_ms - window_ms)
            continue;
        bool detractor = a->score <= detractor_max;
        bool fell = a->has_prev && a->prev_score - a->score >= drop;
        if (!detractor && !fell && a->ts_ms < in->t_ms - watch_ms)
            continue; /* a passive's or promoter's CTA is a quick one (watch_days) */
        /* Who, asked only now that it counts (a look-up in the store). */
        const char *label = in->user_label ? in->user_label(in->label_arg, a->user_id) : NULL;
        char who[128];
        if (label && label[0])
            snprintf(who, sizeof who, "%s", label);
        else
            snprintf(who, sizeof who, "user #%lld", (long long)a->user_id);
        int k = detractor || fell ? 0 : a->score >= promoter_min ? 2 : 1;
        nps_add(&g[k], who, a, a->ts_ms >= in->since_ms, detractor);
    }
    for (int k = 0; k < 3; k++) {
        if (!g[k].n)
            continue;
        enum cta_type type = k == 2 ? CTA_OPPORTUNITY : k == 0 ? r->type : CTA_RISK;
        enum cta_priority prio = k == 0 ? (g[k].n_main ? r->priority : CTA_MEDIUM) : CTA_LOW;
        char title[200];
        if (k == 0 && g[k].n_main)
            snprintf(title, sizeof title, "NPS detractor%s: %d answer%s of %.0f or less%s",
                     g[k].n_main == 1 ? "" : "s", g[k].n_main, g[k].n_main == 1 ? "" : "s",
                     detractor_max, g[k].n > g[k].n_main ? ", and a fall" : "");
        else if (k == 0)
            snprintf(title, sizeof title, "NPS fell: %d answer%s %.0f+ points below the last",
                     g[k].n, g[k].n == 1 ? "" : "s", drop);
        else if (k == 1)
            snprintf(title, sizeof title, "NPS passive%s (watch)", g[k].n == 1 ? "" : "s");
        else
            snprintf(title, sizeof title, "NPS promoter%s (ask for advocacy)",
                     g[k].n == 1 ? "" : "s");
        ev_num(e, "answers_count", g[k].n);
        ev_name(e, "answers");
        ev_put(e, "[%s]", g[k].answers);
        finding(e, g[k].subject, type, prio, true, g[k].fresh, title, "%s", g[k].list);
    }
}

/* The stage of a count of days left among low/medium/high thresholds: the
 * priority, or -1 when not yet in the first stage. */
static int stage(const struct emitter *e, int64_t days_left) {
    if (days_left <= param(e, 2))
        return CTA_HIGH;
    if (days_left <= param(e, 1))
        return CTA_MEDIUM;
    if (days_left <= param(e, 0))
        return CTA_LOW;
    return -1;
}

static void card_expiring(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (!m->has_card_days_left)
        return;
    int p = stage(e, m->card_days_left);
    if (p < 0)
        return;
    char last[16], subject[32];
    date_of(e->in->day + (int32_t)m->card_days_left, last);
    snprintf(subject, sizeof subject, "card:%.7s", last); /* the expiry month */
    ev_num(e, "card_days_left", (double)m->card_days_left);
    ev_str(e, "expires", last);
    if (m->card_days_left < 0)
        finding(e, subject, settings(e)->type, (enum cta_priority)p, false, false,
                "Card on file has expired", "the card on file expired on %s, %lld days ago", last,
                (long long)-m->card_days_left);
    else
        finding(e, subject, settings(e)->type, (enum cta_priority)p, false, false,
                "Card on file expires soon", "the card on file expires on %s, in %lld days", last,
                (long long)m->card_days_left);
}

static void renewal_upcoming(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (!m->has_renewal_days_left)
        return;
    int p = stage(e, m->renewal_days_left);
    if (p < 0)
        return;
    char date[16], subject[32];
    date_of(e->in->day + (int32_t)m->renewal_days_left, date);
    snprintf(subject, sizeof subject, "renewal:%s", date);
    ev_num(e, "renewal_days_left", (double)m->renewal_days_left);
    ev_str(e, "renewal_date", date);
    if (m->has_mrr)
        ev_num(e, "mrr", m->mrr);
    if (m->renewal_days_left < 0)
        finding(e, subject, settings(e)->type, (enum cta_priority)p, false, false,
                "Renewal date has passed", "the renewal date %s passed %lld days ago", date,
                (long long)-m->renewal_days_left);
    else
        finding(e, subject, settings(e)->type, (enum cta_priority)p, false, false,
                "Renewal coming up", "renews on %s, in %lld days", date,
                (long long)m->renewal_days_left);
}

static void payment_overdue(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (m->overdue_invoices < param(e, 0))
        return;
    bool high = m->max_days_overdue >= param(e, 1);
    ev_num(e, "overdue_invoices", (double)m->overdue_invoices);
    ev_num(e, "overdue_amount", m->overdue_amount);
    ev_num(e, "max_days_overdue", (double)m->max_days_overdue);
    finding(e, "", settings(e)->type, high ? CTA_HIGH : settings(e)->priority, false, false,
            "Payment overdue", "%lld invoice%s overdue, %.2f in all, the oldest by %lld days",
            (long long)m->overdue_invoices, m->overdue_invoices == 1 ? "" : "s", m->overdue_amount,
            (long long)m->max_days_overdue);
}

static void no_login(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (!m->has_days_since_login || m->days_since_login < param(e, 0))
        return;
    char last[16];
    date_of(e->in->day - (int32_t)m->days_since_login, last);
    ev_num(e, "days_since_login", (double)m->days_since_login);
    ev_str(e, "last_login", last);
    finding(e, "", settings(e)->type, settings(e)->priority, false, false, "No logins",
            "no one has logged in for %lld days (last login %s)", (long long)m->days_since_login,
            last);
}

static void login_change(struct emitter *e) {
    const struct metrics *m = e->in->m;
    double baseline = (double)m->logins_prev_28d / 4.0;
    if (baseline < param(e, 0))
        return;
    bool drop = (double)m->logins_7d <= param(e, 1) * baseline;
    bool spike = (double)m->logins_7d >= param(e, 2) * baseline;
    if (!drop && !spike) {
        double margin = rules_param(settings(e), RP_LOGIN_CLEAR_MARGIN);
        if ((double)m->logins_7d <= (param(e, 1) + margin) * baseline)
            between(e, "", settings(e)->type);
        else if ((double)m->logins_7d >= (param(e, 2) - margin) * baseline)
            between(e, "", CTA_OPPORTUNITY);
        return;
    }
    ev_num(e, "logins_7d", (double)m->logins_7d);
    ev_num(e, "logins_prev_28d", (double)m->logins_prev_28d);
    ev_num(e, "baseline_per_week", baseline);
    if (drop)
        finding(e, "", settings(e)->type, settings(e)->priority, false, false, "Logins dropped",
                "logins fell from %.0f/week to %lld in the last 7 days", baseline,
                (long long)m->logins_7d);
    else
        finding(e, "", CTA_OPPORTUNITY, CTA_LOW, false, false, "Logins spiked",
                "logins rose from %.0f/week to %lld in the last 7 days", baseline,
                (long long)m->logins_7d);
}

static void usage_dip(struct emitter *e) {
    const struct metrics *m = e->in->m;
    double baseline = (double)m->feature_events_prev_28d / 4.0;
    if (baseline < param(e, 0))
        return;
    if ((double)m->feature_events_7d > param(e, 1) * baseline) {
        double margin = rules_param(settings(e), RP_USAGE_CLEAR_MARGIN);
        if ((double)m->feature_events_7d <= (param(e, 1) + margin) * baseline)
            between(e, "", settings(e)->type);
        return;
    }
    ev_num(e, "feature_events_7d", (double)m->feature_events_7d);
    ev_num(e, "feature_events_prev_28d", (double)m->feature_events_prev_28d);
    ev_num(e, "baseline_per_week", baseline);
    finding(e, "", settings(e)->type, settings(e)->priority, false, false, "Product usage dipped",
            "feature use fell from %.0f events/week to %lld in the last 7 days", baseline,
            (long long)m->feature_events_7d);
}

static void intended_adoption(struct emitter *e) {
    const struct rule_input *in = e->in;
    for (size_t i = 0; i < in->n_goals; i++) {
        const struct rule_goal *g = &in->goals[i];
        int64_t due_end = (int64_t)(g->due_day + 1) * DT_MS_PER_DAY;
        /* Missed: due before D, not used by the end of the due day; met
         * late (used since, before T), the CTA has done its work. */
        if (g->set_ms >= in->t_ms || g->due_day >= in->day || g->met_ms < due_end ||
            g->met_ms < in->t_ms)
            continue;
        char subject[128], due[16];
        snprintf(subject, sizeof subject, "goal:%s", g->goal_id);
        date_of(g->due_day, due);
        ev_str(e, "goal_id", g->goal_id);
        ev_str(e, "feature", g->feature);
        ev_str(e, "due_date", due);
        ev_num(e, "days_overdue", in->day - g->due_day);
        char title[200];
        snprintf(title, sizeof title, "Adoption goal missed: %s", g->feature);
        finding(e, subject, settings(e)->type, settings(e)->priority, false, false, title,
                "goal %s was to use %s by %s; no one has used it since the goal was set",
                g->goal_id, g->feature, due);
    }
}

static void onboarding_stalled(struct emitter *e) {
    const struct rule_input *in = e->in;
    for (size_t i = 0; i < in->n_milestones; i++) {
        const struct rule_milestone *ms = &in->milestones[i];
        if (ms->done || ms->due_day >= in->day)
            continue;
        char subject[128], due[16], title[200];
        snprintf(subject, sizeof subject, "milestone:%s", ms->name);
        date_of(ms->due_day, due);
        snprintf(title, sizeof title, "Onboarding stalled: %s", ms->name);
        ev_str(e, "milestone", ms->name);
        ev_str(e, "due_date", due);
        ev_num(e, "days_overdue", in->day - ms->due_day);
        finding(e, subject, settings(e)->type, settings(e)->priority, false, false, title,
                "milestone %s was due on %s and is %d days late", ms->name, due,
                in->day - ms->due_day);
    }
}

static void outreach_unresponsive(struct emitter *e) {
    const struct rule_input *in = e->in;
    const struct metrics *m = in->m;
    if (m->outreach_unanswered < param(e, 0) || !in->has_oldest_unanswered)
        return;
    int32_t oldest = dt_day_of_ms(in->oldest_unanswered_ms);
    if (in->day - oldest < param(e, 1))
        return;
    char first[16];
    date_of(oldest, first);
    ev_num(e, "outreach_unanswered", (double)m->outreach_unanswered);
    ev_str(e, "oldest_sent", first);
    if (m->has_days_since_reply)
        ev_num(e, "days_since_reply", (double)m->days_since_reply);
    finding(e, "", settings(e)->type, settings(e)->priority, false, false,
            "Customer not answering outreach",
            "%lld outreach messages unanswered since %s (%d days)",
            (long long)m->outreach_unanswered, first, in->day - oldest);
}

static void seat_limit(struct emitter *e) {
    const struct metrics *m = e->in->m;
    if (!m->has_seat_utilization)
        return;
    if (m->seat_utilization < param(e, 0)) {
        if (m->seat_utilization >= param(e, 0) - rules_param(settings(e), RP_SEAT_CLEAR_MARGIN))
            between(e, "", settings(e)->type);
        return;
    }
    bool high = m->seat_utilization >= param(e, 1);
    ev_num(e, "users", (double)m->users);
    ev_num(e, "seats", (double)m->seats);
    ev_num(e, "seat_utilization", round(m->seat_utilization * 1000) / 1000);
    finding(e, "", settings(e)->type, high ? CTA_HIGH : settings(e)->priority, false, false,
            high ? "Seats full: expansion opportunity" : "Seats nearly full: expansion opportunity",
            "%lld users on %lld seats (%.0f%%)", (long long)m->users, (long long)m->seats,
            m->seat_utilization * 100);
}

static void premium_unused(struct emitter *e) {
    const struct rule_input *in = e->in;
    if (!in->has_age || in->age_days < param(e, 0))
        return;
    for (size_t i = 0; i < in->n_products; i++) {
        const struct rule_product *p = &in->products[i];
        if (p->used_30d)
            continue;
        char subject[128], title[200];
        snprintf(subject, sizeof subject, "product:%s", p->name);
        snprintf(title, sizeof title, "Premium product unused: %s", p->name);
        ev_str(e, "product", p->name);
        ev_num(e, "account_age_days", (double)in->age_days);
        finding(e, subject, settings(e)->type, settings(e)->priority, false, false, title,
                "paid for %s, but no feature event with product %s in the last 30 days", p->name,
                p->name);
    }
}

static void support_tickets(struct emitter *e) {
    const struct rule_input *in = e->in;
    const struct metrics *m = in->m;
    if (m->tickets_30d < param(e, 0) &&
        m->tickets_30d >= param(e, 0) - rules_param(settings(e), RP_TICKETS_CLEAR_MARGIN) &&
        rules_param(settings(e), RP_TICKETS_CLEAR_MARGIN) > 0)
        between(e, "too_many", settings(e)->type);
    if (m->tickets_30d >= param(e, 0)) {
        ev_num(e, "tickets_30d", (double)m->tickets_30d);
        ev_num(e, "tickets_open", (double)m->tickets_open);
        finding(e, "too_many", settings(e)->type, settings(e)->priority, false, false,
                "Many support tickets", "%lld tickets opened in the last 30 days, %lld still open",
                (long long)m->tickets_30d, (long long)m->tickets_open);
    }
    int64_t quiet_ms = (int64_t)param(e, 1) * DT_MS_PER_DAY;
    /* Quiet for quiet_days: the account must be that old. */
    if (m->users >= param(e, 2) && in->has_age && in->age_days >= param(e, 1) &&
        (!in->has_last_ticket || in->last_ticket_ms < in->t_ms - quiet_ms)) {
        ev_num(e, "users", (double)m->users);
        char last[16] = "never";
        if (in->has_last_ticket)
            date_of(dt_day_of_ms(in->last_ticket_ms), last);
        ev_str(e, "last_ticket", last);
        finding(e, "too_quiet", settings(e)->type, CTA_LOW, false, false,
                "No support tickets: too quiet",
                "%lld users and no ticket in the last %.0f days (last: %s)", (long long)m->users,
                param(e, 1), last);
    }
}

/* ---- custom rules ------------------------------------------------------------- */

/* The variables a custom rule reads: the SPEC 3 metrics, the health scores,
 * segment, plan, the account's age, and its scalar traits: each as
 * traits[key], and as trait_<key> too when that is a Lua name. */
struct vars {
    struct custom_var v[CUSTOM_RULE_MAX_VARS];
    char names[CUSTOM_RULE_MAX_VARS][80];
    size_t n;
};

static void var_num(struct vars *vs, const char *name, bool known, double value) {
    if (vs->n == CUSTOM_RULE_MAX_VARS)
        return;
    vs->v[vs->n++] = (struct custom_var){.name = name, .known = known, .number = value};
}

static void var_str(struct vars *vs, const char *name, const char *value) {
    if (vs->n == CUSTOM_RULE_MAX_VARS)
        return;
    vs->v[vs->n++] =
        (struct custom_var){.name = name, .known = value != NULL, .is_string = true, .str = value};
}

static bool identifier(const char *s) {
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static void custom_vars(const struct rule_input *in, struct vars *vs) {
    const struct metrics *m = in->m;
    vs->n = 0;
    for (int i = 0; i < metrics_column_count; i++) {
        double v;
        bool known = health_input(m, metrics_columns[i], &v);
        var_num(vs, metrics_columns[i], known, v);
    }
    const struct health_score *h = in->h;
    var_num(vs, "health", h->has_score, h->overall);
    var_num(vs, "health_30d_ago", in->has_score_before, in->score_before);
    var_str(vs, "band", h->has_score ? health_band_name(h->band) : NULL);
    static const char *const comp[HC_COUNT] = {"health_logins", "health_adoption",
                                               "health_sentiment", "health_support",
                                               "health_financial"};
    for (int i = 0; i < HC_COUNT; i++)
        var_num(vs, comp[i], h->components[i].has_data, h->components[i].score);
    var_str(vs, "segment", in->segment);
    var_str(vs, "plan", in->plan);
    var_num(vs, "account_age_days", in->has_age, (double)in->age_days);
    /* Each scalar trait, whatever its key: a key that is no Lua name (a-b) is
     * skipped as trait_<key> only, never ends the loop. A repeated key counts
     * once (the first, as cJSON_GetObjectItem reads); lists, objects and null
     * are no variables; past CUSTOM_RULE_MAX_VARS the rest are left out. */
    const cJSON *t;
    cJSON_ArrayForEach(t, in->traits) {
        bool num = cJSON_IsNumber(t) || cJSON_IsBool(t);
        if (!t->string || (!num && !cJSON_IsString(t)))
            continue;
        bool repeated = false;
        for (size_t k = 0; k < vs->n && !repeated; k++)
            repeated = vs->v[k].table && strcmp(vs->v[k].key, t->string) == 0;
        if (repeated)
            continue;
        bool global = identifier(t->string) && strlen(t->string) <= 60;
        if (vs->n + (global ? 2 : 1) > CUSTOM_RULE_MAX_VARS)
            break;
        double x = cJSON_IsNumber(t) ? t->valuedouble : cJSON_IsTrue(t) ? 1 : 0;
        for (int as_global = 0; as_global <= (int)global; as_global++) {
            char *name = vs->names[vs->n];
            snprintf(name, sizeof vs->names[0], as_global ? "trait_%s" : "traits.%s", t->string);
            if (num)
                var_num(vs, name, true, x);
            else
                var_str(vs, name, t->valuestring);
            if (!as_global) {
                vs->v[vs->n - 1].table = "traits";
                vs->v[vs->n - 1].key = t->string;
            }
        }
    }
}

static void custom(struct emitter *e, struct vars *vs, bool *vars_ready) {
    const struct rule_settings *r = settings(e);
    if (!*vars_ready) {
        custom_vars(e->in, vs);
        *vars_ready = true;
    }
    bool holds = false, read[CUSTOM_RULE_MAX_VARS] = {false};
    char *reason = NULL, err[CUSTOM_RULE_ERR_BYTES];
    if (custom_rule_eval(r->compiled, vs->v, vs->n, &holds, &reason, read, err)) {
        if (e->error)
            e->error(e->arg, e->rule, err, custom_rule_timed_out(r->compiled));
        return;
    }
    if (!holds) {
        free(reason);
        return;
    }
    for (size_t i = 0; i < vs->n; i++) {
        if (!read[i])
            continue;
        const struct custom_var *v = &vs->v[i];
        if (!v->known)
            ev_null(e, v->name);
        else if (v->is_string)
            ev_str(e, v->name, v->str);
        else
            ev_num(e, v->name, v->number);
    }
    char fallback[240];
    if (!reason) {
        /* The condition, on one line. */
        size_t n = (size_t)snprintf(fallback, sizeof fallback, "matched: ");
        bool space = false;
        for (const char *p = r->when; *p && n + 4 < sizeof fallback; p++) {
            bool ws = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
            if (ws && !space)
                fallback[n++] = ' ';
            else if (!ws)
                fallback[n++] = *p;
            space = ws;
        }
        fallback[n] = '\0';
    }
    finding(e, "", r->type, r->priority, false, false, r->title, "%s", reason ? reason : fallback);
    free(reason);
}

void rules_evaluate(const struct rules_config *c, const struct rule_input *in, rules_emit_fn emit,
                    rules_error_fn error, void *arg) {
    static void (*const fns[RULE_BUILTIN_COUNT])(struct emitter *) = {
        [RULE_HEALTH_DROP] = health_drop,
        [RULE_NPS_RESPONSE] = nps_response,
        [RULE_CARD_EXPIRING] = card_expiring,
        [RULE_RENEWAL_UPCOMING] = renewal_upcoming,
        [RULE_PAYMENT_OVERDUE] = payment_overdue,
        [RULE_NO_LOGIN] = no_login,
        [RULE_LOGIN_CHANGE] = login_change,
        [RULE_USAGE_DIP] = usage_dip,
        [RULE_INTENDED_ADOPTION] = intended_adoption,
        [RULE_ONBOARDING_STALLED] = onboarding_stalled,
        [RULE_OUTREACH_UNRESPONSIVE] = outreach_unresponsive,
        [RULE_SEAT_LIMIT] = seat_limit,
        [RULE_PREMIUM_UNUSED] = premium_unused,
        [RULE_SUPPORT_TICKETS] = support_tickets,
    };
    struct emitter e = {.c = c, .in = in, .emit = emit, .error = error, .arg = arg};
    struct vars vs;
    bool vars_ready = false;
    for (int i = 0; i < c->n_rules; i++) {
        const struct rule_settings *r = &c->rules[i];
        if (!rules_applies(r, in->segment, in->plan) || (in->suspended && in->suspended[i]))
            continue;
        e.rule = i;
        if (r->kind == RULE_CUSTOM)
            custom(&e, &vs, &vars_ready);
        else
            fns[r->kind](&e);
        e.ev_len = 0; /* a rule that started evidence and did not fire */
        e.ev[0] = '\0';
    }
}

/* ---- rule facts ---------------------------------------------------------------- */

struct nps_seen {
    int64_t user_id;
    int64_t ts[2]; /* latest, previous; INT64_MIN none */
    double score[2];
};

struct milestone_seen {
    char *name;
    bool has_due;
    int32_t due_day;
    int64_t due_ts; /* of the latest due fact */
    bool done;
};

struct rules_facts {
    int64_t t_ms;
    struct nps_seen *nps;
    size_t n_nps, cap_nps;
    struct rule_nps *nps_out;
    struct rule_goal *goals;
    size_t n_goals, cap_goals;
    struct milestone_seen *ms;
    size_t n_ms, cap_ms;
    struct rule_milestone *ms_out;
    int64_t last_reply_ms; /* INT64_MIN none */
    int64_t *sent;         /* Outreach Sent times */
    size_t n_sent, cap_sent;
};

struct rules_facts *rules_facts_new(int64_t t_ms) {
    struct rules_facts *f = xcalloc(1, sizeof *f);
    f->t_ms = t_ms;
    f->last_reply_ms = INT64_MIN;
    return f;
}

void rules_facts_free(struct rules_facts *f) {
    if (!f)
        return;
    for (size_t i = 0; i < f->n_goals; i++) {
        free((char *)f->goals[i].goal_id);
        free((char *)f->goals[i].feature);
    }
    for (size_t i = 0; i < f->n_ms; i++)
        free(f->ms[i].name);
    free(f->nps);
    free(f->nps_out);
    free(f->goals);
    free(f->ms);
    free(f->ms_out);
    free(f->sent);
    free(f);
}

#define GROW(v, n, cap)                                                                            \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 8;                                                           \
            (v) = xrealloc((v), (cap) * sizeof *(v));                                              \
        }                                                                                          \
    } while (0)

static void add_nps(struct rules_facts *f, const struct metric_fact *x) {
    if (!x->has_num)
        return;
    struct nps_seen *u = NULL;
    for (size_t i = 0; i < f->n_nps && !u; i++)
        if (f->nps[i].user_id == x->user_id)
            u = &f->nps[i];
    if (!u) {
        GROW(f->nps, f->n_nps, f->cap_nps);
        u = &f->nps[f->n_nps++];
        u->user_id = x->user_id;
        u->ts[0] = u->ts[1] = INT64_MIN;
    }
    if (x->ts_ms > u->ts[0]) {
        u->ts[1] = u->ts[0];
        u->score[1] = u->score[0];
        u->ts[0] = x->ts_ms;
        u->score[0] = x->num;
    } else if (x->ts_ms > u->ts[1] && x->ts_ms != u->ts[0]) {
        u->ts[1] = x->ts_ms;
        u->score[1] = x->num;
    }
}

static struct milestone_seen *milestone(struct rules_facts *f, const char *name) {
    for (size_t i = 0; i < f->n_ms; i++)
        if (strcmp(f->ms[i].name, name) == 0)
            return &f->ms[i];
    GROW(f->ms, f->n_ms, f->cap_ms);
    struct milestone_seen *m = &f->ms[f->n_ms++];
    memset(m, 0, sizeof *m);
    m->name = xstrdup(name);
    m->due_ts = INT64_MIN;
    return m;
}

void rules_facts_add(struct rules_facts *f, const struct metric_fact *x) {
    if (x->ts_ms >= f->t_ms)
        return;
    switch (x->kind) {
    case EV_NPS:
        add_nps(f, x);
        break;
    case EV_GOAL_SET:
        if (!x->subject || !x->has_day)
            break;
        for (size_t i = 0; i < f->n_goals; i++) {
            struct rule_goal *g = &f->goals[i];
            if (strcmp(g->goal_id, x->subject) != 0)
                continue;
            if (x->ts_ms > g->set_ms) { /* set again: the latest one stands */
                free((char *)g->feature);
                g->feature = xstrdup(x->detail ? x->detail : "");
                g->set_ms = x->ts_ms;
                g->due_day = x->day;
                g->met_ms = x->settled_ms;
            }
            return;
        }
        GROW(f->goals, f->n_goals, f->cap_goals);
        f->goals[f->n_goals++] = (struct rule_goal){
            .goal_id = xstrdup(x->subject),
            .feature = xstrdup(x->detail ? x->detail : ""),
            .set_ms = x->ts_ms,
            .due_day = x->day,
            .met_ms = x->settled_ms,
        };
        break;
    case EV_MILESTONE_DUE:
        if (x->subject && x->has_day) {
            struct milestone_seen *m = milestone(f, x->subject);
            if (x->ts_ms > m->due_ts) { /* the latest due date given wins */
                m->has_due = true;
                m->due_day = x->day;
                m->due_ts = x->ts_ms;
            }
        }
        break;
    case EV_MILESTONE_DONE:
        if (x->subject)
            milestone(f, x->subject)->done = true;
        break;
    case EV_OUTREACH_SENT:
        GROW(f->sent, f->n_sent, f->cap_sent);
        f->sent[f->n_sent++] = x->ts_ms;
        break;
    case EV_OUTREACH_REPLIED:
        if (x->ts_ms > f->last_reply_ms)
            f->last_reply_ms = x->ts_ms;
        break;
    default:
        break;
    }
}

void rules_facts_finish(struct rules_facts *f, struct rule_input *in) {
    free(f->nps_out);
    f->nps_out = xmalloc((f->n_nps ? f->n_nps : 1) * sizeof *f->nps_out);
    for (size_t i = 0; i < f->n_nps; i++) {
        const struct nps_seen *u = &f->nps[i];
        f->nps_out[i] = (struct rule_nps){
            .user_id = u->user_id,
            .score = u->score[0],
            .ts_ms = u->ts[0],
            .has_prev = u->ts[1] != INT64_MIN,
            .prev_score = u->score[1],
        };
    }
    in->nps = f->nps_out;
    in->n_nps = f->n_nps;
    in->goals = f->goals;
    in->n_goals = f->n_goals;
    free(f->ms_out);
    f->ms_out = xmalloc((f->n_ms ? f->n_ms : 1) * sizeof *f->ms_out);
    size_t n = 0;
    for (size_t i = 0; i < f->n_ms; i++) {
        if (!f->ms[i].has_due)
            continue; /* completed without a due date: nothing to be late for */
        f->ms_out[n++] = (struct rule_milestone){
            .name = f->ms[i].name, .due_day = f->ms[i].due_day, .done = f->ms[i].done};
    }
    in->milestones = f->ms_out;
    in->n_milestones = n;
    in->has_oldest_unanswered = false;
    for (size_t i = 0; i < f->n_sent; i++) {
        if (f->sent[i] <= f->last_reply_ms)
            continue;
        if (!in->has_oldest_unanswered || f->sent[i] < in->oldest_unanswered_ms)
            in->oldest_unanswered_ms = f->sent[i];
        in->has_oldest_unanswered = true;
    }
}
