/* analyze_more.c: strength, groups and charts for tend analyze's reports
 * (see analyze_more.h). The numbers are stats/factors.c's; this file only
 * lays them out. */
#include "cli/analyze_more.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "util/mem.h"

int cli_write_text(const char *cmd, const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    size_t len = strlen(text);
    bool ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "tend %s: %s: cannot write: %m\n", cmd, path);
        return EXIT_USAGE;
    }
    fprintf(stderr, "tend %s: chart written to %s\n", cmd, path);
    return 0;
}

cJSON *cli_strength_json(const struct stats_fit *f) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 1; i < f->n_coefs; i++) {
        struct stats_strength s;
        stats_strength_of(f, i, &s);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", f->coefs[i].name);
        cJSON_AddItemToObject(e, "std_coef", out_json_number(s.std_coef));
        cJSON_AddItemToObject(e, "base_rate", out_json_number(s.base_rate));
        cJSON_AddItemToObject(e, "plus_sd_rate", out_json_number(s.plus_sd_rate));
        cJSON_AddItemToObject(e, "impact", out_json_number(s.impact));
        cJSON_AddItemToObject(e, "relative", out_json_number(s.relative));
        cJSON_AddBoolToObject(e, "significant_weak", s.significant_weak);
        cJSON_AddBoolToObject(e, "strong_not_significant", s.strong_not_significant);
        cJSON_AddItemToArray(a, e);
    }
    return a;
}

void cli_print_strength(const struct stats_fit *f, FILE *out) {
    if (f->n_coefs < 2)
        return;
    struct stats_strength s0;
    stats_strength_of(f, 1, &s0);
    fprintf(out,
            "\nStrength beside significance: the predicted rate is %.1f%% with every factor at "
            "its mean;\n+1 SD is the rate with the factor one standard deviation higher.\n",
            100 * s0.base_rate);
    static const char *const cols[] = {"factor",   "std_coef", "+1sd_rate", "impact_pts",
                                       "relative", "p",        "flag"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    size_t weak = 0, strong = 0;
    for (size_t i = 1; i < f->n_coefs; i++) {
        struct stats_strength s;
        stats_strength_of(f, i, &s);
        out_row(t);
        out_str(t, f->coefs[i].name);
        out_num(t, round(s.std_coef * 1000) / 1000, isfinite(s.std_coef));
        char b[32];
        snprintf(b, sizeof b, "%.1f%%", 100 * s.plus_sd_rate);
        out_str(t, b);
        snprintf(b, sizeof b, "%+.2f", 100 * s.impact);
        out_str(t, b);
        snprintf(b, sizeof b, "%+.0f%%", 100 * s.relative);
        out_str(t, isfinite(s.relative) ? b : NULL);
        out_num(t, round(f->coefs[i].p * 10000) / 10000, isfinite(f->coefs[i].p));
        out_str(t, s.significant_weak         ? "significant but weak"
                   : s.strong_not_significant ? "strong but not significant"
                                              : NULL);
        weak += s.significant_weak;
        strong += s.strong_not_significant;
    }
    out_print(t, OUT_TABLE, out);
    out_free(t);
    if (weak)
        fprintf(out,
                "Significant but weak (p < 0.05, +1 SD moves the rate by less than %.0f%% of "
                "itself): real, but too small to act on alone.\n",
                100 * STATS_WEAK_RELATIVE);
    if (strong)
        fprintf(out,
                "Strong but not significant (p >= 0.05, +1 SD moves the rate by %.0f%% of itself "
                "or more): worth watching; more outcomes would tell.\n",
                100 * STATS_STRONG_RELATIVE);
}

/* "login_trend" or "login_trend +2" (a group of three). */
static void group_name(const struct stats_groups *g, size_t i, const char *const *names, char *out,
                       size_t size) {
    const struct stats_group *gr = &g->g[i];
    if (gr->n_members == 1)
        snprintf(out, size, "%s", names[gr->member[0]]);
    else
        snprintf(out, size, "%s +%zu", names[gr->member[0]], gr->n_members - 1);
}

void cli_groups_report(const double *x, const double *y, size_t n, size_t k,
                       const char *const *names, cJSON *o, FILE *out) {
    struct stats_groups g;
    char err[STATS_ERR_BYTES];
    if (stats_groups_fit(x, y, n, k, names, STATS_GROUP_THRESHOLD, STATS_MAX_GROUPS, &g, err)) {
        if (o)
            cJSON_AddStringToObject(o, "groups_error", err);
        if (out)
            fprintf(out, "\nFactors not grouped: %s.\n", err);
        return;
    }
    char(*gn)[160] = xcalloc(g.n_groups ? g.n_groups : 1, sizeof *gn);
    const char **gnames = xcalloc(g.n_groups ? g.n_groups : 1, sizeof *gnames);
    for (size_t i = 0; i < g.n_groups; i++) {
        group_name(&g, i, names, gn[i], sizeof gn[i]);
        gnames[i] = gn[i];
    }
    struct stats_data d = {
        .n = n, .k = g.n_groups, .x = g.score, .y = y, .names = gnames, .drop_separating = true};
    struct stats_fit f;
    bool fitted = g.n_groups && !stats_logit_fit(&d, STATS_OWN_SCALE, &f, err);
    if (o) {
        cJSON *a = cJSON_AddArrayToObject(o, "groups");
        for (size_t i = 0; i < g.n_groups; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", gn[i]);
            cJSON *m = cJSON_AddArrayToObject(e, "members");
            cJSON *sg = cJSON_AddArrayToObject(e, "signs");
            for (size_t j = 0; j < g.g[i].n_members; j++) {
                cJSON_AddItemToArray(m, cJSON_CreateString(names[g.g[i].member[j]]));
                cJSON_AddItemToArray(sg, cJSON_CreateNumber(g.g[i].sign[j]));
            }
            cJSON_AddItemToObject(e, "r_outcome", out_json_number(g.g[i].r_outcome));
            cJSON_AddItemToArray(a, e);
        }
        cJSON_AddNumberToObject(o, "groups_found", (double)g.n_all);
        if (fitted) {
            cJSON *c = cJSON_AddArrayToObject(o, "group_fit");
            for (size_t i = 0; i < f.n_coefs; i++) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "name", f.coefs[i].name);
                cJSON_AddItemToObject(e, "coef", out_json_number(f.coefs[i].coef));
                cJSON_AddItemToObject(e, "se", out_json_number(f.coefs[i].se));
                cJSON_AddItemToObject(e, "p", out_json_number(f.coefs[i].p));
                cJSON_AddItemToArray(c, e);
            }
        } else if (g.n_groups) {
            cJSON_AddStringToObject(o, "group_fit_error", err);
        }
    }
    if (out) {
        fprintf(out,
                "\nIndependent predictors: %zu factors in %zu groups (|r| >= %.1f linked; each "
                "group scored by the average of its standardised members)%s:\n",
                k, g.n_all, STATS_GROUP_THRESHOLD,
                g.n_all > g.n_groups ? ", the 12 most related to the outcome kept" : "");
        for (size_t i = 0; i < g.n_groups; i++) {
            const struct stats_group *gr = &g.g[i];
            fprintf(out, "  %2zu. %-32s r = %+.3f", i + 1, gn[i], gr->r_outcome);
            if (fitted) {
                const struct stats_coef *c = NULL;
                for (size_t j = 1; j < f.n_coefs; j++)
                    if (strcmp(f.coefs[j].name, gn[i]) == 0)
                        c = &f.coefs[j];
                if (c)
                    fprintf(out, "  coef %+.3f per unit of score, p %.4f%s", c->coef, c->p,
                            c->p < 0.05 ? " *" : "");
                else
                    fprintf(out, "  (dropped from the fit)");
            }
            if (gr->n_members > 1) {
                fprintf(out, "\n      stands for:");
                for (size_t j = 0; j < gr->n_members; j++)
                    fprintf(out, "%s %s%s", j ? "," : "", gr->sign[j] < 0 ? "-" : "",
                            names[gr->member[j]]);
            }
            fprintf(out, "\n");
        }
        if (!fitted && g.n_groups)
            fprintf(out, "  (the fit on the group scores failed: %s)\n", err);
    }
    if (fitted)
        stats_fit_free(&f);
    free(gn);
    free(gnames);
    stats_groups_free(&g);
}

void cli_analysis_groups(const struct analysis_result *r, cJSON *o, FILE *out) {
    size_t n = r->n_rows, k = r->n_features;
    double *x = xmalloc((n * k + 1) * sizeof *x), *y = xmalloc((n + 1) * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        memcpy(x + i * k, r->rows[i].x, k * sizeof *x);
        y[i] = r->rows[i].churned;
    }
    cli_groups_report(x, y, n, k, r->names, o, out);
    free(x);
    free(y);
}
