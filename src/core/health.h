/* health.h: health scores (SPEC 4), pure.
 *
 * Five components, each 0-100: logins, adoption, sentiment, support,
 * financial. A component is the weighted mean of its factors; a factor maps
 * one named input (a metric, or a ratio derived from metrics) through a
 * piecewise-linear curve to 0-100. An unknown input drops its factor, a
 * component whose factors are all unknown has no data and drops out, and the
 * weights of what remains are renormalised: missing data never scores as zero.
 * The overall score is the weighted mean of the components with data, so the
 * components' contributions add up to it exactly. A weight decides only a
 * share of the overall score: a component (or factor) of weight 0 is still
 * computed and reported, with no effective weight and no contribution, so a
 * factor set aside can be tested again (tend analyze). Bands: red below
 * red_below, green from green_from, yellow between.
 *
 * The configuration (weights, factors, curves, bands) comes from tend.yaml's
 * `health:` section over documented defaults (docs/health.md); its version is a
 * hash of the effective configuration, stored with every score. */
#ifndef TEND_CORE_HEALTH_H
#define TEND_CORE_HEALTH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/metrics.h"
#include "util/err.h"

enum health_component { HC_LOGINS, HC_ADOPTION, HC_SENTIMENT, HC_SUPPORT, HC_FINANCIAL, HC_COUNT };
enum health_band { BAND_NONE, BAND_RED, BAND_YELLOW, BAND_GREEN };

#define HEALTH_MAX_FACTORS 8
#define HEALTH_MAX_POINTS  12
#define HEALTH_ERR_BYTES   256

struct health_point {
    double x;
    double score;
};

struct health_factor {
    char input[40];
    double weight;
    struct health_point points[HEALTH_MAX_POINTS]; /* ascending x */
    int n_points;
};

struct health_config {
    double weights[HC_COUNT];
    struct health_factor factors[HC_COUNT][HEALTH_MAX_FACTORS];
    int n_factors[HC_COUNT];
    double red_below;
    double green_from;
    char version[24]; /* "h" + 16 hex digits of the effective configuration */
};

/* The documented defaults. */
void health_config_default(struct health_config *c);
/* Applies a `health:` section (cJSON object, or NULL for none) over the
 * defaults: any of weights, bands, components.<name> (a list of factors
 * replacing that component's defaults). On a mistake returns
 * TEND_ERR_INVALID naming the path, e.g. "health.weights.logins: must be a
 * number >= 0". */
enum tend_err health_config_load(const cJSON *section, struct health_config *c, char *err);
/* The effective configuration as a JSON tree (caller deletes). */
cJSON *health_config_json(const struct health_config *c);

/* The value of a named input for metrics m: false when unknown. The inputs
 * are the SPEC 3 metric names plus active_user_ratio, login_trend,
 * usage_trend (docs/health.md). */
bool health_input(const struct metrics *m, const char *name, double *value);
/* True when name is an input health_input() knows. */
bool health_input_known(const char *name);

struct health_factor_result {
    const char *input; /* borrowed from the configuration */
    bool known;
    double value;
    double score;
    double weight;
};

struct health_component_result {
    bool has_data;           /* a known input with a factor weight above 0 */
    double score;            /* 0-100 when has_data */
    double weight;           /* as configured */
    double effective_weight; /* renormalised over the components with data */
    double contribution;     /* effective_weight x score: they add up to overall */
    struct health_factor_result factors[HEALTH_MAX_FACTORS];
    int n_factors;
};

struct health_score {
    bool has_score; /* false when no component of weight above 0 has data */
    double overall;
    enum health_band band;
    struct health_component_result components[HC_COUNT];
};

/* Scores metrics m with configuration c. A churned account (m->churned) gets
 * no score (has_score false). */
void health_compute(const struct health_config *c, const struct metrics *m,
                    struct health_score *out);
/* The band of an overall score. */
enum health_band health_band_of(const struct health_config *c, double overall);

const char *health_component_name(enum health_component hc);
const char *health_band_name(enum health_band b);
/* The component whose shortfall costs the most points: the largest
 * effective_weight x (100 - score) among those that count (data and a
 * weight above 0); HC_COUNT when none does. */
enum health_component health_weakest(const struct health_score *s);

#endif
