/* analyze_more.h: what tend analyze's regression reports and its survival
 * and cohorts subcommands share (analyze_more.c): strength beside
 * significance, the correlated factors grouped, and writing a chart. Internal
 * to src/cli. */
#ifndef TEND_CLI_ANALYZE_MORE_H
#define TEND_CLI_ANALYZE_MORE_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "analysis/analyze.h"
#include "stats/factors.h"
#include "stats/logit.h"

/* tend analyze survival (cmd_analyze_survival.c) and tend analyze cohorts
 * (cmd_analyze_cohorts.c); cmd_analyze() hands argv over (argv[1] is the
 * subcommand). */
int cmd_analyze_survival(int argc, char **argv);
int cmd_analyze_cohorts(int argc, char **argv);

/* Writes text to path; 0, or EXIT_USAGE after printing why (naming the file). */
int cli_write_text(const char *cmd, const char *path, const char *text);

/* The strength of each factor of fit f (the intercept left out), as a JSON
 * array of {name, std_coef, base_rate, plus_sd_rate, impact, relative,
 * significant_weak, strong_not_significant}. */
cJSON *cli_strength_json(const struct stats_fit *f);
/* The same as a table on out, with the flags spelled out under it. */
void cli_print_strength(const struct stats_fit *f, FILE *out);

/* Groups the columns x (n x k) by correlation against y and fits the outcome
 * on the group scores; adds "groups" (and "group_fit", or "group_fit_error")
 * to o when o is not NULL, and prints them on out when out is not NULL. A
 * grouping that cannot be done (a constant column) is noted, not an error. */
void cli_groups_report(const double *x, const double *y, size_t n, size_t k,
                       const char *const *names, cJSON *o, FILE *out);

/* The same for tend analyze's own rows (the features as fitted: unknowns at
 * the mean), against churn. */
void cli_analysis_groups(const struct analysis_result *r, cJSON *o, FILE *out);

#endif
