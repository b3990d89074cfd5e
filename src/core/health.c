/* health.c: health scores (see health.h, docs/health.md). */
#include "core/health.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "util/yaml.h"

static const char *const component_names[HC_COUNT] = {"logins", "adoption", "sentiment", "support",
                                                      "financial"};
static const char *const band_names[] = {"none", "red", "yellow", "green"};

const char *health_component_name(enum health_component hc) {
    return hc < HC_COUNT ? component_names[hc] : "none";
}

const char *health_band_name(enum health_band b) {
    return band_names[b];
}

/* ---- inputs --------------------------------------------------------------- */

/* Whether the account sends product data at all: a login ever, or any
 * activity in the last 35 days. Without it, activity inputs are unknown (the
 * integration is missing), not zero. */
static bool has_product_data(const struct metrics *m) {
    return m->has_days_since_login || m->feature_events_7d + m->feature_events_prev_28d > 0;
}

/* current / (previous 28 days / 4): 1 = as usual. Unknown when there was no
 * activity at all; 2 (a spike) when there was none before. */
static bool trend(int64_t last7, int64_t prev28, double *out) {
    if (prev28 == 0) {
        if (last7 == 0)
            return false;
        *out = 2;
        return true;
    }
    *out = (double)last7 / ((double)prev28 / 4.0);
    return true;
}

bool health_input(const struct metrics *m, const char *name, double *v) {
    bool product = has_product_data(m);
#define INT_INPUT(field, known)                                                                    \
    if (strcmp(name, #field) == 0) {                                                               \
        *v = (double)m->field;                                                                     \
        return (known);                                                                            \
    }
    INT_INPUT(users, true)
    INT_INPUT(active_users_30d, product)
    INT_INPUT(logins_7d, product)
    INT_INPUT(logins_prev_28d, product)
    INT_INPUT(days_since_login, m->has_days_since_login)
    INT_INPUT(feature_events_7d, product)
    INT_INPUT(feature_events_prev_28d, product)
    INT_INPUT(features_used_30d, product)
    INT_INPUT(nps_responses_90d, true)
    INT_INPUT(tickets_open, true)
    INT_INPUT(tickets_30d, true)
    INT_INPUT(overdue_invoices, true)
    INT_INPUT(max_days_overdue, true)
    INT_INPUT(card_days_left, m->has_card_days_left)
    INT_INPUT(renewal_days_left, m->has_renewal_days_left)
    INT_INPUT(seats, m->has_seats)
    INT_INPUT(outreach_unanswered, true)
    INT_INPUT(days_since_reply, m->has_days_since_reply)
#undef INT_INPUT
    if (strcmp(name, "nps") == 0) {
        *v = m->nps;
        return m->has_nps;
    }
    if (strcmp(name, "overdue_amount") == 0) {
        *v = m->overdue_amount;
        return true;
    }
    if (strcmp(name, "seat_utilization") == 0) {
        *v = m->seat_utilization;
        return m->has_seat_utilization;
    }
    if (strcmp(name, "mrr") == 0) {
        *v = m->mrr;
        return m->has_mrr;
    }
    if (strcmp(name, "active_user_ratio") == 0) {
        if (!product || m->users == 0)
            return false;
        *v = (double)m->active_users_30d / (double)m->users;
        return true;
    }
    if (strcmp(name, "login_trend") == 0)
        return product && trend(m->logins_7d, m->logins_prev_28d, v);
    if (strcmp(name, "usage_trend") == 0)
        return product && trend(m->feature_events_7d, m->feature_events_prev_28d, v);
    return false;
}

bool health_input_known(const char *name) {
    static const char *const derived[] = {"active_user_ratio", "login_trend", "usage_trend"};
    for (int i = 0; i < metrics_column_count; i++) {
        if (strcmp(metrics_columns[i], name) == 0)
            return true;
    }
    for (size_t i = 0; i < sizeof derived / sizeof derived[0]; i++) {
        if (strcmp(derived[i], name) == 0)
            return true;
    }
    return false;
}

/* ---- configuration -------------------------------------------------------- */

struct default_factor {
    enum health_component c;
    const char *input;
    double weight;
    double points[HEALTH_MAX_POINTS][2];
    int n;
};

/* The reasoning behind each curve is in docs/health.md. */
static const struct default_factor defaults[] = {
    {HC_LOGINS, "days_since_login", 0.4, {{0, 100}, {3, 100}, {14, 40}, {30, 0}}, 4},
    {HC_LOGINS, "active_user_ratio", 0.3, {{0, 0}, {0.2, 40}, {0.5, 85}, {0.7, 100}}, 4},
    {HC_LOGINS, "login_trend", 0.3, {{0, 0}, {0.5, 40}, {0.8, 80}, {1, 100}}, 4},
    {HC_ADOPTION, "features_used_30d", 0.5, {{0, 0}, {2, 40}, {5, 80}, {8, 100}}, 4},
    {HC_ADOPTION, "usage_trend", 0.5, {{0, 0}, {0.6, 50}, {1, 100}}, 3},
    {HC_SENTIMENT, "nps", 1.0, {{-100, 0}, {-50, 15}, {0, 50}, {50, 85}, {100, 100}}, 5},
    {HC_SUPPORT, "tickets_open", 0.5, {{0, 100}, {2, 80}, {5, 40}, {10, 0}}, 4},
    {HC_SUPPORT, "tickets_30d", 0.5, {{0, 100}, {2, 85}, {5, 40}, {10, 0}}, 4},
    {HC_FINANCIAL, "max_days_overdue", 0.6, {{0, 100}, {1, 80}, {30, 30}, {60, 0}}, 4},
    {HC_FINANCIAL, "card_days_left", 0.4, {{-1, 0}, {0, 10}, {14, 50}, {30, 100}}, 4},
};

static const double default_weights[HC_COUNT] = {0.25, 0.25, 0.20, 0.15, 0.15};

static void set_version(struct health_config *c) {
    cJSON *j = health_config_json(c);
    char *text = cJSON_PrintUnformatted(j);
    snprintf(c->version, sizeof c->version, "h%016llx",
             (unsigned long long)XXH3_64bits(text, strlen(text)));
    cJSON_free(text);
    cJSON_Delete(j);
}

void health_config_default(struct health_config *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < HC_COUNT; i++)
        c->weights[i] = default_weights[i];
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        const struct default_factor *d = &defaults[i];
        struct health_factor *f = &c->factors[d->c][c->n_factors[d->c]++];
        snprintf(f->input, sizeof f->input, "%s", d->input);
        f->weight = d->weight;
        f->n_points = d->n;
        for (int p = 0; p < d->n; p++) {
            f->points[p].x = d->points[p][0];
            f->points[p].score = d->points[p][1];
        }
    }
    c->red_below = 40;
    c->green_from = 70;
    set_version(c);
}

/* Refuses the first key of mapping o that is not in known (NULL-terminated):
 * "PATH.KEY: unknown setting (known: A, B, C)". A typo must not fall back to
 * a default in silence. */
static enum tend_err known_keys(const cJSON *o, const char *path, const char *const *known,
                                char *err) {
    const cJSON *kv;
    cJSON_ArrayForEach(kv, o) {
        size_t i;
        for (i = 0; known[i] && strcmp(kv->string, known[i]) != 0; i++)
            ;
        if (known[i])
            continue;
        char list[128] = "", p[192];
        for (i = 0; known[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     known[i]);
        snprintf(p, sizeof p, "%s.%s", path, kv->string);
        return yaml_error(err, HEALTH_ERR_BYTES, p, "unknown setting (known: %s)", list);
    }
    return TEND_OK;
}

/* Reads one factor: {input: NAME, weight: W, curve: [[x, score], ...]}. */
static enum tend_err load_factor(const cJSON *j, const char *path, struct health_factor *f,
                                 char *err) {
    static const char *const keys[] = {"input", "weight", "curve", NULL};
    char p[160];
    if (!cJSON_IsObject(j))
        return yaml_error(err, HEALTH_ERR_BYTES, path,
                          "must be a mapping with input, weight and curve");
    if (known_keys(j, path, keys, err))
        return TEND_ERR_INVALID;
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(j, "input");
    snprintf(p, sizeof p, "%s.input", path);
    if (!cJSON_IsString(input) || !health_input_known(input->valuestring) ||
        strlen(input->valuestring) >= sizeof f->input)
        return yaml_error(err, HEALTH_ERR_BYTES, p, "must name an input listed in docs/health.md");
    snprintf(f->input, sizeof f->input, "%s", input->valuestring);
    snprintf(p, sizeof p, "%s.weight", path);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "weight");
    f->weight = 1;
    if (w && yaml_number(w, p, 0, 1e6, &f->weight, err, HEALTH_ERR_BYTES))
        return TEND_ERR_INVALID;
    const cJSON *curve = cJSON_GetObjectItemCaseSensitive(j, "curve");
    snprintf(p, sizeof p, "%s.curve", path);
    int n = cJSON_GetArraySize(curve);
    if (!cJSON_IsArray(curve) || n < 1 || n > HEALTH_MAX_POINTS)
        return yaml_error(err, HEALTH_ERR_BYTES, p, "must be a list of 1 to 12 points [x, score]");
    f->n_points = 0;
    const cJSON *pt;
    cJSON_ArrayForEach(pt, curve) {
        char pp[192];
        snprintf(pp, sizeof pp, "%s[%d]", p, f->n_points);
        if (!cJSON_IsArray(pt) || cJSON_GetArraySize(pt) != 2)
            return yaml_error(err, HEALTH_ERR_BYTES, pp, "must be a point [x, score]");
        struct health_point *hp = &f->points[f->n_points];
        if (yaml_number(cJSON_GetArrayItem(pt, 0), pp, -1e12, 1e12, &hp->x, err,
                        HEALTH_ERR_BYTES) ||
            yaml_number(cJSON_GetArrayItem(pt, 1), pp, 0, 100, &hp->score, err, HEALTH_ERR_BYTES))
            return TEND_ERR_INVALID;
        if (f->n_points > 0 && hp->x <= f->points[f->n_points - 1].x)
            return yaml_error(err, HEALTH_ERR_BYTES, pp, "x must increase from point to point");
        f->n_points++;
    }
    return TEND_OK;
}

enum tend_err health_config_load(const cJSON *section, struct health_config *c, char *err) {
    struct health_config n;
    health_config_default(&n);
    if (!section || cJSON_IsNull(section)) {
        *c = n;
        return TEND_OK;
    }
    static const char *const keys[] = {"weights", "bands", "components", NULL};
    static const char *const band_keys[] = {"red_below", "green_from", NULL};
    if (!cJSON_IsObject(section))
        return yaml_error(err, HEALTH_ERR_BYTES, "health", "must be a mapping");
    if (known_keys(section, "health", keys, err))
        return TEND_ERR_INVALID;
    char path[160];
    const cJSON *weights = cJSON_GetObjectItemCaseSensitive(section, "weights");
    if (weights && !cJSON_IsObject(weights))
        return yaml_error(err, HEALTH_ERR_BYTES, "health.weights",
                          "must be a mapping of component: weight");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, weights) {
        int i;
        for (i = 0; i < HC_COUNT && strcmp(kv->string, component_names[i]) != 0; i++)
            ;
        snprintf(path, sizeof path, "health.weights.%s", kv->string);
        if (i == HC_COUNT)
            return yaml_error(err, HEALTH_ERR_BYTES, path,
                              "not a component (logins, adoption, sentiment, support, financial)");
        if (yaml_number(kv, path, 0, 1e6, &n.weights[i], err, HEALTH_ERR_BYTES))
            return TEND_ERR_INVALID;
    }
    const cJSON *bands = cJSON_GetObjectItemCaseSensitive(section, "bands");
    if (bands) {
        if (!cJSON_IsObject(bands))
            return yaml_error(err, HEALTH_ERR_BYTES, "health.bands",
                              "must be a mapping with red_below and green_from");
        if (known_keys(bands, "health.bands", band_keys, err))
            return TEND_ERR_INVALID;
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(bands, "red_below");
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(bands, "green_from");
        if ((r && yaml_number(r, "health.bands.red_below", 0, 100, &n.red_below, err,
                              HEALTH_ERR_BYTES)) ||
            (g && yaml_number(g, "health.bands.green_from", 0, 100, &n.green_from, err,
                              HEALTH_ERR_BYTES)))
            return TEND_ERR_INVALID;
        if (n.red_below > n.green_from)
            return yaml_error(err, HEALTH_ERR_BYTES, "health.bands",
                              "red_below must not be above green_from");
    }
    const cJSON *components = cJSON_GetObjectItemCaseSensitive(section, "components");
    if (components && !cJSON_IsObject(components))
        return yaml_error(err, HEALTH_ERR_BYTES, "health.components",
                          "must be a mapping of component: list of factors");
    cJSON_ArrayForEach(kv, components) {
        int i;
        for (i = 0; i < HC_COUNT && strcmp(kv->string, component_names[i]) != 0; i++)
            ;
        snprintf(path, sizeof path, "health.components.%s", kv->string);
        if (i == HC_COUNT)
            return yaml_error(err, HEALTH_ERR_BYTES, path,
                              "not a component (logins, adoption, sentiment, support, financial)");
        int count = cJSON_GetArraySize(kv);
        if (!cJSON_IsArray(kv) || count < 1 || count > HEALTH_MAX_FACTORS)
            return yaml_error(err, HEALTH_ERR_BYTES, path, "must be a list of 1 to 8 factors");
        n.n_factors[i] = 0;
        const cJSON *fj;
        cJSON_ArrayForEach(fj, kv) {
            char fp[192];
            snprintf(fp, sizeof fp, "%s[%d]", path, n.n_factors[i]);
            if (load_factor(fj, fp, &n.factors[i][n.n_factors[i]], err))
                return TEND_ERR_INVALID;
            n.n_factors[i]++;
        }
    }
    double total = 0;
    for (int i = 0; i < HC_COUNT; i++)
        total += n.weights[i];
    if (total <= 0)
        return yaml_error(err, HEALTH_ERR_BYTES, "health.weights",
                          "at least one component needs a weight above 0");
    set_version(&n);
    *c = n;
    return TEND_OK;
}

cJSON *health_config_json(const struct health_config *c) {
    cJSON *root = cJSON_CreateObject();
    cJSON *w = cJSON_AddObjectToObject(root, "weights");
    cJSON *comps = cJSON_AddObjectToObject(root, "components");
    for (int i = 0; i < HC_COUNT; i++) {
        cJSON_AddNumberToObject(w, component_names[i], c->weights[i]);
        cJSON *list = cJSON_AddArrayToObject(comps, component_names[i]);
        for (int k = 0; k < c->n_factors[i]; k++) {
            const struct health_factor *f = &c->factors[i][k];
            cJSON *fj = cJSON_CreateObject();
            cJSON_AddStringToObject(fj, "input", f->input);
            cJSON_AddNumberToObject(fj, "weight", f->weight);
            cJSON *curve = cJSON_AddArrayToObject(fj, "curve");
            for (int p = 0; p < f->n_points; p++) {
                double pair[2] = {f->points[p].x, f->points[p].score};
                cJSON_AddItemToArray(curve, cJSON_CreateDoubleArray(pair, 2));
            }
            cJSON_AddItemToArray(list, fj);
        }
    }
    cJSON *b = cJSON_AddObjectToObject(root, "bands");
    cJSON_AddNumberToObject(b, "red_below", c->red_below);
    cJSON_AddNumberToObject(b, "green_from", c->green_from);
    return root;
}

/* ---- scoring -------------------------------------------------------------- */

/* The curve's score at x: linear between points, flat beyond the ends. */
static double curve_at(const struct health_factor *f, double x) {
    const struct health_point *p = f->points;
    if (x <= p[0].x)
        return p[0].score;
    for (int i = 1; i < f->n_points; i++) {
        if (x <= p[i].x)
            return p[i - 1].score +
                   (p[i].score - p[i - 1].score) * (x - p[i - 1].x) / (p[i].x - p[i - 1].x);
    }
    return p[f->n_points - 1].score;
}

enum health_band health_band_of(const struct health_config *c, double overall) {
    if (overall < c->red_below)
        return BAND_RED;
    return overall < c->green_from ? BAND_YELLOW : BAND_GREEN;
}

void health_compute(const struct health_config *c, const struct metrics *m,
                    struct health_score *out) {
    memset(out, 0, sizeof *out);
    if (m->churned)
        return; /* not a customer any more: no score */
    double total_weight = 0;
    for (int i = 0; i < HC_COUNT; i++) {
        struct health_component_result *r = &out->components[i];
        r->weight = c->weights[i];
        r->n_factors = c->n_factors[i];
        double wsum = 0, ssum = 0;
        for (int k = 0; k < c->n_factors[i]; k++) {
            const struct health_factor *f = &c->factors[i][k];
            struct health_factor_result *fr = &r->factors[k];
            fr->input = f->input;
            fr->weight = f->weight;
            fr->known = health_input(m, f->input, &fr->value);
            if (!fr->known)
                continue;
            /* Scored even at weight 0, so the explanation shows it. */
            fr->score = curve_at(f, fr->value);
            if (f->weight <= 0)
                continue;
            wsum += f->weight;
            ssum += f->weight * fr->score;
        }
        /* A component's weight decides its share of the overall score, never
         * whether it is computed: at weight 0 it is still scored, stored and
         * explained, so that tend analyze can test it again. */
        if (wsum > 0) {
            r->has_data = true;
            r->score = ssum / wsum;
            total_weight += c->weights[i];
        }
    }
    if (total_weight <= 0)
        return;
    out->has_score = true;
    for (int i = 0; i < HC_COUNT; i++) {
        struct health_component_result *r = &out->components[i];
        if (!r->has_data)
            continue;
        r->effective_weight = r->weight / total_weight;
        r->contribution = r->effective_weight * r->score;
        out->overall += r->contribution;
    }
    out->band = health_band_of(c, out->overall);
}

enum health_component health_weakest(const struct health_score *s) {
    enum health_component worst = HC_COUNT;
    double worst_loss = -1;
    for (int i = 0; i < HC_COUNT; i++) {
        const struct health_component_result *r = &s->components[i];
        double loss = r->effective_weight * (100 - r->score);
        if (r->has_data && r->effective_weight > 0 && loss > worst_loss) {
            worst_loss = loss;
            worst = (enum health_component)i;
        }
    }
    return worst;
}
