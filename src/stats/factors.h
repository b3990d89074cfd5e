/* factors.h: how strong a factor is, beside how significant, and correlated
 * factors grouped into a few independent ones; pure.
 *
 * Strength (docs/analysis.md, "Strength beside significance"): for a fitted
 * logistic regression, a factor's standardised coefficient (log odds per
 * standard deviation) and its "+1 SD impact": the predicted outcome rate with
 * the factor one standard deviation above its mean, every other factor at its
 * mean, minus the rate with all at their means. The impact relative to that
 * rate flags a factor "significant but weak" (p < 0.05 and a relative impact
 * under STATS_WEAK_RELATIVE) or "strong but not significant" (p >= 0.05 and a
 * relative impact of STATS_STRONG_RELATIVE or more).
 *
 * Groups (Carl Gold, "Fighting Churn with Data", ch. 6): factors whose
 * correlation (Pearson, in absolute value) is at least a threshold (0.5) are
 * linked, and a group is a connected set of links: single-linkage
 * hierarchical clustering on the dissimilarity 1 - |r| cut at 1 - threshold,
 * which is what scipy's linkage(method="single") and fcluster(criterion=
 * "distance") give. Each group is scored, as Gold does, by the average of its
 * members standardised (mean 0, sample sd 1); a member negatively correlated
 * with the group's anchor (the member most correlated with the outcome)
 * enters with its sign flipped, so the members add up instead of cancelling.
 * The groups are ordered by how strongly their score correlates with the
 * outcome, and at most STATS_MAX_GROUPS are kept (Ed Powers' "10-12 KPIs"). */
#ifndef TEND_STATS_FACTORS_H
#define TEND_STATS_FACTORS_H

#include <stdbool.h>
#include <stddef.h>

#include "stats/logit.h"
#include "util/err.h"

#define STATS_WEAK_RELATIVE   0.10
#define STATS_STRONG_RELATIVE 0.25
#define STATS_GROUP_THRESHOLD 0.5
#define STATS_MAX_GROUPS      12
#define STATS_FACTORS_MAX     256

struct stats_strength {
    double std_coef;     /* log odds per sd */
    double base_rate;    /* predicted, every factor at its mean */
    double plus_sd_rate; /* this factor one sd above its mean */
    double impact;       /* plus_sd_rate - base_rate */
    double relative;     /* impact / base_rate */
    bool significant_weak, strong_not_significant;
};

/* The strength of coefficient i (>= 1) of fit f (either scale). */
void stats_strength_of(const struct stats_fit *f, size_t i, struct stats_strength *out);

struct stats_group {
    size_t *member; /* n_members column indices, the anchor first, then column order */
    int *sign;      /* +1 or -1 per member, as it enters the score */
    size_t n_members;
    double r_outcome; /* correlation of the score with the outcome */
};

struct stats_groups {
    size_t k;              /* columns */
    double *corr;          /* k * k */
    double *r_y;           /* k: each column's correlation with the outcome */
    struct stats_group *g; /* n_groups, strongest first */
    size_t n_groups;
    size_t n_all;  /* groups before keeping at most max */
    double *score; /* n * n_groups, row-major: each row's group scores */
    size_t n;
};

/* Groups the k columns of x (n rows, row-major) by |r| >= threshold against
 * outcome y, keeping at most max_groups. Errors (TEND_ERR_INVALID, message
 * in err): fewer than 3 rows, more than STATS_FACTORS_MAX columns, a
 * constant column (named by names[j]). *out owns its memory. */
enum tend_err stats_groups_fit(const double *x, const double *y, size_t n, size_t k,
                               const char *const *names, double threshold, size_t max_groups,
                               struct stats_groups *out, char *err);
void stats_groups_free(struct stats_groups *g);

#endif
