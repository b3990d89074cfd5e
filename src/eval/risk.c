/* risk.c: the churn-risk model's inputs, scoring, drivers and card (see
 * risk.h). */
#include "eval/risk.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "util/datetime.h"
#include "util/mem.h"

/* ---- the inputs --------------------------------------------------------------- */

struct input_def {
    const char *name;
    enum stats_xform xform;
    bool component;
};

/* Counts and money take log1p (their effect is multiplicative: 0 to 5 logins
 * matters more than 100 to 105); ratios, scores and day counts that can be
 * negative stay as they are. */
static const struct input_def inputs[RI_COUNT] = {
    [RI_LOGINS_7D] = {"logins_7d", STATS_X_LOG1P, false},
    [RI_LOGINS_PREV_28D] = {"logins_prev_28d", STATS_X_LOG1P, false},
    [RI_LOGIN_TREND] = {"login_trend", STATS_X_IDENTITY, false},
    [RI_DAYS_SINCE_LOGIN] = {"days_since_login", STATS_X_LOG1P, false},
    [RI_ACTIVE_USER_RATIO] = {"active_user_ratio", STATS_X_IDENTITY, false},
    [RI_USERS] = {"users", STATS_X_LOG1P, false},
    [RI_FEATURE_EVENTS_7D] = {"feature_events_7d", STATS_X_LOG1P, false},
    [RI_FEATURE_EVENTS_PREV_28D] = {"feature_events_prev_28d", STATS_X_LOG1P, false},
    [RI_USAGE_TREND] = {"usage_trend", STATS_X_IDENTITY, false},
    [RI_FEATURES_USED_30D] = {"features_used_30d", STATS_X_LOG1P, false},
    [RI_NPS] = {"nps", STATS_X_IDENTITY, false},
    [RI_NPS_RESPONSES_90D] = {"nps_responses_90d", STATS_X_LOG1P, false},
    [RI_TICKETS_OPEN] = {"tickets_open", STATS_X_LOG1P, false},
    [RI_TICKETS_30D] = {"tickets_30d", STATS_X_LOG1P, false},
    [RI_OVERDUE_INVOICES] = {"overdue_invoices", STATS_X_LOG1P, false},
    [RI_MAX_DAYS_OVERDUE] = {"max_days_overdue", STATS_X_LOG1P, false},
    [RI_OVERDUE_AMOUNT] = {"overdue_amount", STATS_X_LOG1P, false},
    [RI_CARD_DAYS_LEFT] = {"card_days_left", STATS_X_IDENTITY, false},
    [RI_RENEWAL_DAYS_LEFT] = {"renewal_days_left", STATS_X_IDENTITY, false},
    [RI_SEAT_UTILIZATION] = {"seat_utilization", STATS_X_IDENTITY, false},
    [RI_OUTREACH_UNANSWERED] = {"outreach_unanswered", STATS_X_LOG1P, false},
    [RI_DAYS_SINCE_REPLY] = {"days_since_reply", STATS_X_LOG1P, false},
    [RI_MRR] = {"mrr", STATS_X_LOG1P, false},
    [RI_AGE_DAYS] = {"age_days", STATS_X_LOG1P, false},
    [RI_C_LOGINS] = {"component_logins", STATS_X_IDENTITY, true},
    [RI_C_ADOPTION] = {"component_adoption", STATS_X_IDENTITY, true},
    [RI_C_SENTIMENT] = {"component_sentiment", STATS_X_IDENTITY, true},
    [RI_C_SUPPORT] = {"component_support", STATS_X_IDENTITY, true},
    [RI_C_FINANCIAL] = {"component_financial", STATS_X_IDENTITY, true},
};
_Static_assert(RI_COUNT <= RISK_MAX_COLUMNS, "the inputs fit a recipe");
_Static_assert(RI_C_FINANCIAL - RI_C_LOGINS + 1 == HC_COUNT, "one input per component");

const char *risk_input_name(enum risk_input i) {
    return inputs[i].name;
}

enum stats_xform risk_input_xform(enum risk_input i) {
    return inputs[i].xform;
}

bool risk_input_used(enum risk_features f, enum risk_input i) {
    return inputs[i].component ? (f & RISK_F_COMPONENTS) != 0 : (f & RISK_F_METRICS) != 0;
}

const char *risk_features_name(enum risk_features f) {
    return f == RISK_F_METRICS ? "metrics" : f == RISK_F_COMPONENTS ? "components" : "both";
}

bool risk_features_parse(const char *s, enum risk_features *out) {
    static const struct {
        const char *name;
        enum risk_features f;
    } names[] = {
        {"metrics", RISK_F_METRICS}, {"components", RISK_F_COMPONENTS}, {"both", RISK_F_BOTH}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].f;
            return true;
        }
    }
    return false;
}

static double clip(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static double count(int64_t v) {
    return v < 0 ? 0 : (double)v;
}

static double known_input(const struct metrics *m, const char *name) {
    double v;
    return health_input(m, name, &v) && isfinite(v) ? v : NAN;
}

void risk_inputs(const struct metrics *m, const struct health_score *h, int64_t first_seen_ms,
                 int64_t t_ms, double *raw) {
    raw[RI_LOGINS_7D] = count(m->logins_7d);
    raw[RI_LOGINS_PREV_28D] = count(m->logins_prev_28d);
    raw[RI_LOGIN_TREND] = known_input(m, "login_trend");
    raw[RI_DAYS_SINCE_LOGIN] = m->has_days_since_login ? count(m->days_since_login) : NAN;
    raw[RI_ACTIVE_USER_RATIO] = known_input(m, "active_user_ratio");
    raw[RI_USERS] = count(m->users);
    raw[RI_FEATURE_EVENTS_7D] = count(m->feature_events_7d);
    raw[RI_FEATURE_EVENTS_PREV_28D] = count(m->feature_events_prev_28d);
    raw[RI_USAGE_TREND] = known_input(m, "usage_trend");
    raw[RI_FEATURES_USED_30D] = count(m->features_used_30d);
    raw[RI_NPS] = m->has_nps ? m->nps : NAN;
    raw[RI_NPS_RESPONSES_90D] = count(m->nps_responses_90d);
    raw[RI_TICKETS_OPEN] = count(m->tickets_open);
    raw[RI_TICKETS_30D] = count(m->tickets_30d);
    raw[RI_OVERDUE_INVOICES] = count(m->overdue_invoices);
    raw[RI_MAX_DAYS_OVERDUE] = count(m->max_days_overdue);
    raw[RI_OVERDUE_AMOUNT] =
        isfinite(m->overdue_amount) && m->overdue_amount > 0 ? m->overdue_amount : 0;
    /* Far-off dates say the same as a year away; clipped so one odd date
     * cannot stretch the column's scale. */
    raw[RI_CARD_DAYS_LEFT] =
        m->has_card_days_left ? clip((double)m->card_days_left, -365, 365) : NAN;
    raw[RI_RENEWAL_DAYS_LEFT] =
        m->has_renewal_days_left ? clip((double)m->renewal_days_left, -365, 730) : NAN;
    raw[RI_SEAT_UTILIZATION] = m->has_seat_utilization ? clip(m->seat_utilization, 0, 10) : NAN;
    raw[RI_OUTREACH_UNANSWERED] = count(m->outreach_unanswered);
    raw[RI_DAYS_SINCE_REPLY] = m->has_days_since_reply ? count(m->days_since_reply) : NAN;
    raw[RI_MRR] = m->has_mrr && isfinite(m->mrr) && m->mrr >= 0 ? m->mrr : NAN;
    raw[RI_AGE_DAYS] = t_ms > first_seen_ms ? (double)((t_ms - first_seen_ms) / DT_MS_PER_DAY) : 0;
    for (int c = 0; c < HC_COUNT; c++) {
        const struct health_component_result *r = &h->components[c];
        raw[RI_C_LOGINS + c] = r->has_data ? r->score : NAN;
    }
}

void risk_model_row(const struct risk_model *mo, const double *raw, double *row) {
    for (size_t j = 0; j < mo->recipe.n_in; j++)
        row[j] = raw[mo->input_of[j]];
}

/* ---- scoring -------------------------------------------------------------------- */

/* "s" unless n is 1 or -1. */
static const char *plural(long n) {
    return n == 1 || n == -1 ? "" : "s";
}

/* n with thousands separators ("12,300") into out (32 bytes). */
static const char *grouped(long n, char out[32]) {
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%ld", labs(n)), k = 0;
    if (n < 0)
        out[k++] = '-';
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = 0;
    return out;
}

/* Appends ", typical T" to the words in buf: the typical value of the
 * model's training rows, in the input's unit, so a CSM sees whether a value
 * is high or low. Not for ratios against the account's own past (trends),
 * nor for dates to come (renewal, card), whose typical value says nothing. */
static void add_typical(enum risk_input in, double v, double typical, char *buf, size_t size) {
    if (isnan(v) || isnan(typical))
        return;
    size_t n = strlen(buf);
    char g[32];
    switch (in) {
    case RI_LOGIN_TREND:
    case RI_USAGE_TREND:
    case RI_RENEWAL_DAYS_LEFT:
    case RI_CARD_DAYS_LEFT:
    case RI_COUNT:
        return;
    case RI_ACTIVE_USER_RATIO:
    case RI_SEAT_UTILIZATION:
        snprintf(buf + n, size - n, ", typical %ld%%", lround(typical * 100));
        return;
    case RI_MAX_DAYS_OVERDUE:
        if (lround(typical) == 0)
            return; /* "no overdue invoice" already says it */
        break;
    default:
        break;
    }
    snprintf(buf + n, size - n, ", typical %s", grouped(lround(typical), g));
}

/* What an input's value says, for a CSM. */
static void base_words(enum risk_input in, double v, char *buf, size_t size) {
    char g[32];
    bool known = !isnan(v);
    long n = known ? lround(v) : 0;
    switch (in) {
    case RI_LOGINS_7D:
        snprintf(buf, size, "%ld login%s in the last 7 days", n, plural(n));
        return;
    case RI_LOGINS_PREV_28D:
        snprintf(buf, size, "%ld login%s in the 4 weeks before", n, plural(n));
        return;
    case RI_LOGIN_TREND:
    case RI_USAGE_TREND: {
        const char *what = in == RI_LOGIN_TREND ? "logins" : "feature use";
        if (!known)
            snprintf(buf, size, "no %s in 5 weeks", what);
        else if (v < 1)
            snprintf(buf, size, "%s down %ld%% vs the previous 4 weeks", what,
                     lround((1 - v) * 100));
        else
            snprintf(buf, size, "%s up %ld%% vs the previous 4 weeks", what, lround((v - 1) * 100));
        return;
    }
    case RI_DAYS_SINCE_LOGIN:
        if (known)
            snprintf(buf, size, "last login %ld day%s ago", n, plural(n));
        else
            snprintf(buf, size, "no login on record");
        return;
    case RI_ACTIVE_USER_RATIO:
        if (known)
            snprintf(buf, size, "%ld%% of users active in 30 days", lround(v * 100));
        else
            snprintf(buf, size, "no active users known");
        return;
    case RI_USERS:
        snprintf(buf, size, "%ld user%s", n, plural(n));
        return;
    case RI_FEATURE_EVENTS_7D:
        snprintf(buf, size, "%ld feature event%s in the last 7 days", n, plural(n));
        return;
    case RI_FEATURE_EVENTS_PREV_28D:
        snprintf(buf, size, "%ld feature event%s in the 4 weeks before", n, plural(n));
        return;
    case RI_FEATURES_USED_30D:
        snprintf(buf, size, "%ld feature%s used in 30 days", n, plural(n));
        return;
    case RI_NPS:
        if (known)
            snprintf(buf, size, "account NPS %ld", n);
        else
            snprintf(buf, size, "no NPS answer in a year");
        return;
    case RI_NPS_RESPONSES_90D:
        snprintf(buf, size, "%ld NPS answer%s in 90 days", n, plural(n));
        return;
    case RI_TICKETS_OPEN:
        snprintf(buf, size, "%ld open ticket%s", n, plural(n));
        return;
    case RI_TICKETS_30D:
        snprintf(buf, size, "%ld ticket%s in 30 days", n, plural(n));
        return;
    case RI_OVERDUE_INVOICES:
        snprintf(buf, size, "%ld overdue invoice%s", n, plural(n));
        return;
    case RI_MAX_DAYS_OVERDUE:
        if (n > 0)
            snprintf(buf, size, "an invoice %ld day%s overdue", n, plural(n));
        else
            snprintf(buf, size, "no overdue invoice");
        return;
    case RI_OVERDUE_AMOUNT:
        snprintf(buf, size, "%s overdue", grouped(n, g));
        return;
    case RI_CARD_DAYS_LEFT:
        if (!known)
            snprintf(buf, size, "no card on file");
        else if (n < 0)
            snprintf(buf, size, "card expired %ld day%s ago", -n, plural(n));
        else
            snprintf(buf, size, "card expires in %ld day%s", n, plural(n));
        return;
    case RI_RENEWAL_DAYS_LEFT:
        if (!known)
            snprintf(buf, size, "no renewal date");
        else if (n < 0)
            snprintf(buf, size, "renewal date passed %ld day%s ago", -n, plural(n));
        else
            snprintf(buf, size, "renewal in %ld day%s", n, plural(n));
        return;
    case RI_SEAT_UTILIZATION:
        if (known)
            snprintf(buf, size, "%ld%% of seats used", lround(v * 100));
        else
            snprintf(buf, size, "seats unknown");
        return;
    case RI_OUTREACH_UNANSWERED:
        snprintf(buf, size, "%ld outreach%s unanswered", n, n == 1 ? "" : "es");
        return;
    case RI_DAYS_SINCE_REPLY:
        if (known)
            snprintf(buf, size, "last reply %ld day%s ago", n, plural(n));
        else
            snprintf(buf, size, "no reply on record");
        return;
    case RI_MRR:
        if (known)
            snprintf(buf, size, "MRR %s a month", grouped(n, g));
        else
            snprintf(buf, size, "MRR unknown");
        return;
    case RI_AGE_DAYS:
        snprintf(buf, size, "a customer for %ld day%s", n, plural(n));
        return;
    case RI_C_LOGINS:
    case RI_C_ADOPTION:
    case RI_C_SENTIMENT:
    case RI_C_SUPPORT:
    case RI_C_FINANCIAL: {
        const char *c = health_component_name((enum health_component)(in - RI_C_LOGINS));
        if (known)
            snprintf(buf, size, "%s score %ld/100", c, n);
        else
            snprintf(buf, size, "no %s data", c);
        return;
    }
    case RI_COUNT:
        break;
    }
    snprintf(buf, size, "%s", "?");
}

/* The words and the typical value. */
static void words_of(enum risk_input in, double v, double typical, char *buf, size_t size) {
    base_words(in, v, buf, size);
    add_typical(in, v, typical, buf, size);
}

int risk_group_of(enum risk_input in) {
    switch (in) {
    case RI_LOGINS_7D:
    case RI_LOGINS_PREV_28D:
    case RI_LOGIN_TREND:
    case RI_DAYS_SINCE_LOGIN:
    case RI_ACTIVE_USER_RATIO:
    case RI_C_LOGINS:
        return RISK_G_LOGINS;
    case RI_FEATURE_EVENTS_7D:
    case RI_FEATURE_EVENTS_PREV_28D:
    case RI_USAGE_TREND:
    case RI_FEATURES_USED_30D:
    case RI_C_ADOPTION:
        return RISK_G_USAGE;
    case RI_NPS:
    case RI_NPS_RESPONSES_90D:
    case RI_C_SENTIMENT:
        return RISK_G_SENTIMENT;
    case RI_TICKETS_OPEN:
    case RI_TICKETS_30D:
    case RI_C_SUPPORT:
        return RISK_G_SUPPORT;
    case RI_OVERDUE_INVOICES:
    case RI_MAX_DAYS_OVERDUE:
    case RI_OVERDUE_AMOUNT:
    case RI_CARD_DAYS_LEFT:
    case RI_C_FINANCIAL:
        return RISK_G_BILLING;
    case RI_OUTREACH_UNANSWERED:
    case RI_DAYS_SINCE_REPLY:
        return RISK_G_OUTREACH;
    case RI_USERS:
    case RI_SEAT_UTILIZATION:
        return RISK_G_SEATS;
    case RI_RENEWAL_DAYS_LEFT:
        return RISK_G_RENEWAL;
    case RI_MRR:
    case RI_AGE_DAYS:
    case RI_COUNT:
        break;
    }
    return RISK_G_ACCOUNT;
}

void risk_score_raw(const struct risk_model *mo, const double *raw, bool words,
                    struct risk_score *out) {
    const struct stats_recipe *r = &mo->recipe;
    double row[RISK_MAX_COLUMNS], x[2 * RISK_MAX_COLUMNS];
    risk_model_row(mo, raw, row);
    stats_recipe_apply(r, row, x);
    double lo = mo->intercept, contrib[RISK_MAX_COLUMNS];
    for (size_t j = 0, o = 0; j < r->n_in; j++) {
        double c = mo->coef[o] * x[o];
        o++;
        if (r->col[j].has_indicator) {
            c += mo->coef[o] * x[o];
            o++;
        }
        contrib[j] = c;
        lo += c;
    }
    out->log_odds = lo;
    out->p_churn = stats_platt_apply(&mo->platt, lo);
    /* Drivers by concept: inputs that measure the same thing (the NPS and
     * the sentiment component, logins and their trend) share a group, and a
     * group counts with the sum of its members' contributions, so that two
     * correlated inputs pulling apart do not show as two drivers that
     * contradict each other. The three groups largest in absolute value,
     * each shown by its member that pulls hardest the group's way. */
    double gsum[RISK_GROUP_COUNT] = {0};
    size_t rep[RISK_GROUP_COUNT];
    for (int g = 0; g < RISK_GROUP_COUNT; g++)
        rep[g] = SIZE_MAX;
    for (size_t j = 0; j < r->n_in; j++)
        gsum[risk_group_of((enum risk_input)mo->input_of[j])] += contrib[j];
    for (size_t j = 0; j < r->n_in; j++) {
        int g = risk_group_of((enum risk_input)mo->input_of[j]);
        double way = gsum[g] < 0 ? -1 : 1;
        if (rep[g] == SIZE_MAX || contrib[j] * way > contrib[rep[g]] * way)
            rep[g] = j;
    }
    bool taken[RISK_GROUP_COUNT] = {false};
    out->n_drivers = 0;
    for (int k = 0; k < RISK_DRIVERS; k++) {
        int best = -1;
        for (int g = 0; g < RISK_GROUP_COUNT; g++)
            if (!taken[g] && rep[g] != SIZE_MAX && gsum[g] != 0 &&
                (best < 0 || fabs(gsum[g]) > fabs(gsum[best])))
                best = g;
        if (best < 0)
            break;
        taken[best] = true;
        size_t j = rep[best];
        struct risk_driver *d = &out->drivers[out->n_drivers++];
        d->input = (enum risk_input)mo->input_of[j];
        d->contribution = gsum[best];
        d->value = row[j];
        const struct stats_recipe_col *col = &r->col[j];
        d->typical = col->xform == STATS_X_LOG1P ? expm1(col->mean) : col->mean;
        if (words)
            words_of(d->input, row[j], d->typical, d->words, sizeof d->words);
        else
            d->words[0] = 0;
    }
    risk_drivers_json(out, out->stored, sizeof out->stored);
}

/* Appends v with at most 4 decimals (trailing zeros dropped) to buf at *n:
 * what printf's %.4f says, without its cost (every evaluation formats three
 * per account). |v| must be below 1e14; larger or non-finite: null. */
static void put_fixed(char *buf, size_t size, size_t *n, double v) {
    char tmp[40];
    size_t k = 0;
    if (!isfinite(v) || fabs(v) >= 1e14) {
        memcpy(tmp, "null", 4);
        k = 4;
    } else {
        long long q = llround(v * 1e4);
        if (q < 0) {
            tmp[k++] = '-';
            q = -q;
        }
        char digits[24];
        int d = 0;
        long long int_part = q / 10000, frac = q % 10000;
        do {
            digits[d++] = (char)('0' + int_part % 10);
            int_part /= 10;
        } while (int_part);
        while (d)
            tmp[k++] = digits[--d];
        if (frac) {
            tmp[k++] = '.';
            char f[4];
            for (int i = 3; i >= 0; i--) {
                f[i] = (char)('0' + frac % 10);
                frac /= 10;
            }
            int last = 3;
            while (f[last] == '0')
                last--;
            for (int i = 0; i <= last; i++)
                tmp[k++] = f[i];
        }
    }
    if (*n + k < size) {
        memcpy(buf + *n, tmp, k);
        *n += k;
        buf[*n] = 0;
    }
}

static void put_text(char *buf, size_t size, size_t *n, const char *s) {
    size_t k = strlen(s);
    if (*n + k < size) {
        memcpy(buf + *n, s, k);
        *n += k;
        buf[*n] = 0;
    }
}

void risk_drivers_json(const struct risk_score *sc, char *buf, size_t size) {
    size_t n = 0;
    buf[0] = 0;
    put_text(buf, size, &n, "[");
    for (int k = 0; k < sc->n_drivers; k++) {
        const struct risk_driver *d = &sc->drivers[k];
        put_text(buf, size, &n, k ? ",[\"" : "[\"");
        put_text(buf, size, &n, inputs[d->input].name);
        put_text(buf, size, &n, "\",");
        put_fixed(buf, size, &n, d->contribution);
        put_text(buf, size, &n, ",");
        put_fixed(buf, size, &n, d->value);
        put_text(buf, size, &n, ",");
        put_fixed(buf, size, &n, d->typical);
        put_text(buf, size, &n, "]");
    }
    put_text(buf, size, &n, "]");
    /* The longest possible: 3 x (3 + 24 + 2 + 3 x 20 + 3) + 2 = 278 bytes (a name
     * of at most 24 bytes, a number of at most 20: put_fixed), under
     * RISK_DRIVERS_JSON. */
}

cJSON *risk_drivers_words(const char *stored) {
    cJSON *out = cJSON_CreateArray();
    cJSON *a = stored ? cJSON_Parse(stored) : NULL;
    const cJSON *d;
    cJSON_ArrayForEach(d, a) {
        const cJSON *f = cJSON_GetArrayItem(d, 0), *c = cJSON_GetArrayItem(d, 1),
                    *v = cJSON_GetArrayItem(d, 2), *t = cJSON_GetArrayItem(d, 3);
        if (!cJSON_IsString(f) || !cJSON_IsNumber(c))
            continue;
        int input = -1;
        for (int i = 0; i < RI_COUNT; i++)
            if (strcmp(inputs[i].name, f->valuestring) == 0)
                input = i;
        if (input < 0)
            continue;
        char words[RISK_WORDS_BYTES];
        words_of((enum risk_input)input, cJSON_IsNumber(v) ? v->valuedouble : NAN,
                 cJSON_IsNumber(t) ? t->valuedouble : NAN, words, sizeof words);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "feature", f->valuestring);
        cJSON_AddNumberToObject(o, "contribution", c->valuedouble);
        cJSON_AddStringToObject(o, "words", words);
        cJSON_AddItemToArray(out, o);
    }
    cJSON_Delete(a);
    return out;
}

void risk_batch_add(struct risk_batch *b, int32_t day, int64_t account_id, int64_t version,
                    const struct risk_score *sc) {
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->rows = xrealloc(b->rows, b->cap * sizeof *b->rows);
        b->drivers = xrealloc(b->drivers, b->cap * sizeof *b->drivers);
    }
    memcpy(b->drivers[b->n], sc->stored, sizeof sc->stored);
    b->rows[b->n] = (struct store_risk){
        .day = day,
        .account_id = account_id,
        .p_churn = sc->p_churn,
        .model_version = version,
    };
    b->n++;
}

enum tend_err risk_batch_flush(struct store *s, struct risk_batch *b) {
    /* The text pointers are set now: the arrays may have moved while growing. */
    for (size_t i = 0; i < b->n; i++)
        b->rows[i].drivers = b->drivers[i];
    enum tend_err e = store_risk_put_many(s, b->rows, b->n);
    b->n = 0;
    return e;
}

void risk_batch_free(struct risk_batch *b) {
    free(b->rows);
    free(b->drivers);
    memset(b, 0, sizeof *b);
}

/* ---- the card ------------------------------------------------------------------- */

void risk_model_to_card(const struct risk_model *mo, const struct stats_fit *fit, cJSON *card) {
    cJSON_AddStringToObject(card, "features", risk_features_name(mo->features));
    cJSON *recipe = cJSON_AddArrayToObject(card, "recipe");
    for (size_t j = 0; j < mo->recipe.n_in; j++) {
        const struct stats_recipe_col *c = &mo->recipe.col[j];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddStringToObject(o, "xform", c->xform == STATS_X_LOG1P ? "log1p" : "identity");
        cJSON_AddNumberToObject(o, "mean", c->mean);
        cJSON_AddNumberToObject(o, "sd", c->sd);
        cJSON_AddBoolToObject(o, "constant", c->constant);
        cJSON_AddBoolToObject(o, "missing_indicator", c->has_indicator);
        cJSON_AddNumberToObject(o, "n_missing", (double)c->n_missing);
        cJSON_AddItemToArray(recipe, o);
    }
    cJSON *coefs = cJSON_AddArrayToObject(card, "coefficients");
    for (size_t i = 0; i < fit->n_coefs; i++) {
        const struct stats_coef *c = &fit->coefs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddNumberToObject(o, "coef", c->coef);
        cJSON_AddItemToObject(o, "se",
                              isfinite(c->se) ? cJSON_CreateNumber(c->se) : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "p",
                              isfinite(c->p) ? cJSON_CreateNumber(c->p) : cJSON_CreateNull());
        cJSON_AddItemToArray(coefs, o);
    }
    cJSON *platt = cJSON_AddObjectToObject(card, "platt");
    cJSON_AddNumberToObject(platt, "a", mo->platt.a);
    cJSON_AddNumberToObject(platt, "b", mo->platt.b);
}

static bool number_of(const cJSON *o, const char *key, double *v) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble))
        return false;
    *v = n->valuedouble;
    return true;
}

enum tend_err risk_model_from_card(const cJSON *card, struct risk_model *out, char *err) {
    memset(out, 0, sizeof *out);
    double h;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(card, "features");
    if (!number_of(card, "horizon_days", &h) || !cJSON_IsString(f) ||
        !risk_features_parse(f->valuestring, &out->features)) {
        snprintf(err, STATS_ERR_BYTES, "model card: no horizon_days or features");
        return TEND_ERR_INVALID;
    }
    out->horizon_days = (int)h;
    const cJSON *recipe = cJSON_GetObjectItemCaseSensitive(card, "recipe"), *c;
    size_t n_out = 0;
    cJSON_ArrayForEach(c, recipe) {
        if (out->recipe.n_in == RISK_MAX_COLUMNS) {
            snprintf(err, STATS_ERR_BYTES, "model card: over %d inputs", RISK_MAX_COLUMNS);
            return TEND_ERR_INVALID;
        }
        struct stats_recipe_col *col = &out->recipe.col[out->recipe.n_in];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        const cJSON *xf = cJSON_GetObjectItemCaseSensitive(c, "xform");
        int input = -1;
        for (int i = 0; cJSON_IsString(name) && i < RI_COUNT; i++)
            if (strcmp(inputs[i].name, name->valuestring) == 0)
                input = i;
        if (input < 0 || !cJSON_IsString(xf) || !number_of(c, "mean", &col->mean) ||
            !number_of(c, "sd", &col->sd) || col->sd <= 0) {
            snprintf(err, STATS_ERR_BYTES,
                     "model card: recipe input %zu is not one this tend knows",
                     out->recipe.n_in + 1);
            return TEND_ERR_INVALID;
        }
        snprintf(col->name, sizeof col->name, "%s", inputs[input].name);
        col->xform = strcmp(xf->valuestring, "log1p") == 0 ? STATS_X_LOG1P : STATS_X_IDENTITY;
        col->missing_allowed = true;
        col->constant = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "constant"));
        col->has_indicator = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "missing_indicator"));
        out->input_of[out->recipe.n_in++] = input;
        n_out += col->has_indicator ? 2 : 1;
    }
    out->recipe.n_out = n_out;
    const cJSON *coefs = cJSON_GetObjectItemCaseSensitive(card, "coefficients");
    if (out->recipe.n_in == 0 || n_out > RISK_MAX_COLUMNS ||
        (size_t)cJSON_GetArraySize(coefs) != n_out + 1) {
        snprintf(err, STATS_ERR_BYTES, "model card: %d coefficients for %zu columns",
                 cJSON_GetArraySize(coefs), n_out);
        return TEND_ERR_INVALID;
    }
    size_t i = 0;
    cJSON_ArrayForEach(c, coefs) {
        double v;
        if (!number_of(c, "coef", &v)) {
            snprintf(err, STATS_ERR_BYTES, "model card: coefficient %zu is not a number", i + 1);
            return TEND_ERR_INVALID;
        }
        if (i == 0)
            out->intercept = v;
        else
            out->coef[i - 1] = v;
        i++;
    }
    const cJSON *platt = cJSON_GetObjectItemCaseSensitive(card, "platt");
    if (!number_of(platt, "a", &out->platt.a) || !number_of(platt, "b", &out->platt.b)) {
        snprintf(err, STATS_ERR_BYTES, "model card: no platt calibration");
        return TEND_ERR_INVALID;
    }
    return TEND_OK;
}

struct loaded {
    struct risk_model *mo;
    enum tend_err err;
    int64_t version;
    char msg[STATS_ERR_BYTES];
};

static void on_model(void *arg, const struct store_model *m) {
    struct loaded *l = arg;
    cJSON *card = cJSON_Parse(m->card);
    l->mo = xmalloc(sizeof *l->mo);
    l->err = card ? risk_model_from_card(card, l->mo, l->msg) : TEND_ERR_INVALID;
    if (!card)
        snprintf(l->msg, sizeof l->msg, "model card: not JSON");
    l->mo->version = l->version = m->version;
    l->mo->data_end = m->data_end;
    cJSON_Delete(card);
}

/* day < 0: the adopted model; else the model of day. */
static enum tend_err load(struct store *s, int32_t day, struct risk_model **out) {
    struct loaded l = {0};
    *out = NULL;
    enum tend_err e =
        day < 0 ? store_model_get(s, 0, on_model, &l) : store_model_for_day(s, day, on_model, &l);
    if (e == TEND_ERR_NOTFOUND)
        return TEND_OK;
    if (!e && l.err) {
        char msg[STATS_ERR_BYTES + 40];
        snprintf(msg, sizeof msg, "model v%lld: %s", (long long)l.version, l.msg);
        store_set_error(s, msg);
        e = l.err;
    }
    if (e)
        free(l.mo);
    else
        *out = l.mo;
    return e;
}

enum tend_err risk_model_load_adopted(struct store *s, struct risk_model **out) {
    return load(s, -1, out);
}

enum tend_err risk_model_load_for_day(struct store *s, int32_t day, struct risk_model **out) {
    return load(s, day < 0 ? 0 : day, out);
}

/* ---- the rows of tend risk ------------------------------------------------------- */

struct risk_row {
    char *account_id, *name, *owner, *band, *drivers;
    double p, arr;
    bool has_arr;
    int64_t version;
};

struct risk_rows {
    struct risk_row *v;
    size_t n, cap;
};

static char *dup_or_null(const char *s) {
    return s ? xstrdup(s) : NULL;
}

static void on_risk_row(void *arg, const struct store_risk_row *r) {
    struct risk_rows *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (struct risk_row){
        .account_id = xstrdup(r->external_id),
        .name = dup_or_null(r->name),
        .owner = dup_or_null(r->owner),
        .band = dup_or_null(r->band),
        .drivers = dup_or_null(r->r.drivers),
        .p = r->r.p_churn,
        .has_arr = !isnan(plan_arr(r->arr_trait, r->has_mrr ? r->mrr : NAN)),
        .arr = plan_arr(r->arr_trait, r->has_mrr ? r->mrr : NAN),
        .version = r->r.model_version,
    };
}

static int by_arr_at_risk(const void *x, const void *y) {
    const struct risk_row *a = x, *b = y;
    if (a->has_arr != b->has_arr)
        return a->has_arr ? -1 : 1;
    double ra = a->has_arr ? a->p * a->arr : a->p, rb = b->has_arr ? b->p * b->arr : b->p;
    if (ra != rb)
        return ra > rb ? -1 : 1;
    return strcmp(a->account_id, b->account_id);
}

static cJSON *str_or_null(const char *s) {
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *row_json(const struct risk_row *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "account_id", r->account_id);
    cJSON_AddItemToObject(o, "name", str_or_null(r->name));
    cJSON_AddItemToObject(o, "owner", str_or_null(r->owner));
    cJSON_AddNumberToObject(o, "p_churn", r->p);
    cJSON_AddItemToObject(o, "arr", r->has_arr ? cJSON_CreateNumber(r->arr) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "arr_at_risk",
                          r->has_arr ? cJSON_CreateNumber(r->p * r->arr) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "band", str_or_null(r->band));
    cJSON_AddNumberToObject(o, "model_version", (double)r->version);
    cJSON_AddItemToObject(o, "drivers", risk_drivers_words(r->drivers));
    return o;
}

static void rows_free(struct risk_rows *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].account_id);
        free(l->v[i].name);
        free(l->v[i].owner);
        free(l->v[i].band);
        free(l->v[i].drivers);
    }
    free(l->v);
}

enum tend_err risk_rows_json(struct store *s, int32_t day, int64_t limit, cJSON **out,
                             int32_t *day_out, bool *found) {
    *out = NULL;
    enum tend_err e = store_risk_latest_day(s, day, day_out, found);
    if (e)
        return e;
    struct risk_rows l = {0};
    if (*found)
        e = store_risk_of_day(s, *day_out, on_risk_row, &l);
    if (!e && l.n)
        qsort(l.v, l.n, sizeof *l.v, by_arr_at_risk);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; !e && i < l.n && (limit <= 0 || (int64_t)i < limit); i++)
        cJSON_AddItemToArray(a, row_json(&l.v[i]));
    rows_free(&l);
    if (e)
        cJSON_Delete(a);
    else
        *out = a;
    return e;
}

enum tend_err risk_account_json(struct store *s, const char *external_id, cJSON **out,
                                int32_t *day_out) {
    *out = NULL;
    bool found;
    enum tend_err e = store_risk_latest_day(s, INT32_MAX, day_out, &found);
    struct risk_rows l = {0};
    if (!e && found)
        e = store_risk_of_account(s, *day_out, external_id, on_risk_row, &l);
    if (!e && l.n)
        *out = row_json(&l.v[0]);
    rows_free(&l);
    return e;
}
