/* cmd_tune.c: tend tune: suggest per-rule thresholds that keep recall while
 * meeting the noise budget (docs/rules.md, "Tuning").
 *
 *   tend tune --from DATE --to DATE [--budget N] [--horizon DAYS]
 *             [--format table|yaml|json]
 *
 * The search is analysis/tune.c's (three replays); this file reads the
 * options and prints the suggestion as a tend.yaml `rules:` snippet with the
 * before and after figures. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tune.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "util/datetime.h"

enum tune_format { TUNE_TABLE, TUNE_YAML, TUNE_JSON };

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend tune [--db PATH] [--config tend.yaml] --from DATE --to DATE\n"
            "                 [--budget N] [--horizon DAYS] [--format table|yaml|json]\n"
            "\n"
            "Replays the period (as tend backtest does, in a copy of the database) with\n"
            "stricter candidate thresholds for the built-in rules, and suggests the ones that\n"
            "bring the CTAs per CSM per week (p90 of the ISO weeks) within the budget while\n"
            "keeping the recall of churners by any risk CTA within %.0f points of today's. A\n"
            "rule whose lift is under %.1f may be switched off. Prints a tend.yaml `rules:`\n"
            "snippet with the figures before and after (both measured by a backtest).\n\n"
            "  --from, --to     the period, inclusive\n"
            "  --budget N       CTAs per CSM per week (default: rules.budget, else %d)\n"
            "  --horizon DAYS   how far ahead a warning counts (default 90, 1-730)\n"
            "  --format FORMAT  table (default: figures and snippet), yaml (the snippet,\n"
            "                   figures as comments) or json\n"
            "  --config FILE    tend.yaml (the current settings)\n"
            "  --db PATH        database (default ./%s)\n",
            TUNE_RECALL_SLACK * 100, QUALITY_NOISY_LIFT, TUNE_DEFAULT_BUDGET, DEFAULT_DB);
}

static const char *const figure_names[] = {"ctas_per_owner_week_median",
                                           "ctas_per_owner_week_p90",
                                           "ctas_per_owner_week_max",
                                           "ctas_opened",
                                           "recall_any_risk_cta",
                                           "median_lead_days",
                                           "precision_any_risk_cta",
                                           "lift_any_risk_cta",
                                           "closed_within_3_days",
                                           "closed_within_3_days_share",
                                           "held_back"};
#define N_FIGURES (sizeof figure_names / sizeof *figure_names)

static void figure_values(const struct tune_figures *f, double *v) {
    double x[N_FIGURES] = {f->per_week_median,
                           f->per_week_p90,
                           f->per_week_max,
                           (double)f->raised,
                           f->recall,
                           f->median_lead,
                           f->precision,
                           f->lift,
                           (double)f->closed_fast,
                           f->fast_share,
                           (double)f->held_back};
    memcpy(v, x, sizeof x);
}

static void print_snippet(const struct tune_result *t, const struct rules_config *rc) {
    if (t->n_changes == 0) {
        printf("rules: {}   # no change: the current settings are the suggestion\n");
        return;
    }
    printf("rules:\n");
    for (size_t i = 0; i < t->n_changes; i++) {
        const struct tune_change *c = &t->changes[i];
        const struct rule_settings *r = &rc->rules[c->rule];
        if (c->off)
            printf("  %s:\n    enabled: false   # noisy: lift under %.1f\n", r->name,
                   QUALITY_NOISY_LIFT);
        else
            printf("  %s:\n    %s: %g   # was %g\n", r->name, rules_param_names(r->kind)[c->param],
                   c->to_value, c->from_value);
    }
}

static void print_figures_comment(const struct tune_result *t, int budget) {
    double b[N_FIGURES], a[N_FIGURES];
    figure_values(&t->before, b);
    figure_values(&t->after, a);
    printf("# budget %d CTAs per owner per week (p90 of ISO weeks): %s; recall floor %.3f\n",
           budget, t->budget_met ? "met" : "NOT met", t->recall_floor);
    for (size_t i = 0; i < N_FIGURES; i++)
        printf("# %-28s before %10.3f  after %10.3f\n", figure_names[i], b[i], a[i]);
}

static void print_table(const struct tune_result *t, int budget) {
    static const char *const cols[] = {"figure", "before", "after"};
    struct out_table *tb = out_new(cols, 3);
    double b[N_FIGURES], a[N_FIGURES];
    figure_values(&t->before, b);
    figure_values(&t->after, a);
    for (size_t i = 0; i < N_FIGURES; i++) {
        out_row(tb);
        out_str(tb, figure_names[i]);
        out_num(tb, round(b[i] * 1000) / 1000, isfinite(b[i]));
        out_num(tb, round(a[i] * 1000) / 1000, isfinite(a[i]));
    }
    out_print(tb, OUT_TABLE, stdout);
    out_free(tb);
    printf("\nBudget %d CTAs per CSM per week (p90 of ISO weeks): %s. Recall floor %.3f "
           "(%.0f points under today's). %d candidate thresholds replayed%s in %lld ms.\n\n",
           budget, t->budget_met ? "met" : "NOT met: the noise budget holds back the rest",
           t->recall_floor, TUNE_RECALL_SLACK * 100, t->candidates,
           t->skipped ? " (some left out: no room for more rules)" : "", (long long)t->run_ms);
}

static void print_json(const struct tune_result *t, const struct rules_config *rc, int budget) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "budget", budget);
    cJSON_AddBoolToObject(o, "budget_met", t->budget_met);
    cJSON_AddNumberToObject(o, "recall_floor", t->recall_floor);
    cJSON_AddNumberToObject(o, "candidates", t->candidates);
    cJSON_AddNumberToObject(o, "skipped", t->skipped);
    cJSON *est = cJSON_AddObjectToObject(o, "estimated_after");
    cJSON_AddNumberToObject(est, "ctas_opened", (double)t->estimated_raised);
    cJSON_AddNumberToObject(est, "recall_any_risk_cta", t->estimated_recall);
    double b[N_FIGURES], a[N_FIGURES];
    figure_values(&t->before, b);
    figure_values(&t->after, a);
    cJSON *before = cJSON_AddObjectToObject(o, "before");
    cJSON *after = cJSON_AddObjectToObject(o, "after");
    for (size_t i = 0; i < N_FIGURES; i++) {
        cJSON_AddItemToObject(before, figure_names[i], out_json_number(b[i]));
        cJSON_AddItemToObject(after, figure_names[i], out_json_number(a[i]));
    }
    cJSON *changes = cJSON_AddArrayToObject(o, "changes");
    for (size_t i = 0; i < t->n_changes; i++) {
        const struct tune_change *c = &t->changes[i];
        const struct rule_settings *r = &rc->rules[c->rule];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "rule", r->name);
        if (c->off) {
            cJSON_AddBoolToObject(e, "enabled", false);
        } else {
            cJSON_AddStringToObject(e, "setting", rules_param_names(r->kind)[c->param]);
            cJSON_AddNumberToObject(e, "from", c->from_value);
            cJSON_AddNumberToObject(e, "to", c->to_value);
        }
        cJSON_AddItemToArray(changes, e);
    }
    char *s = cJSON_Print(o);
    puts(s);
    free(s);
    cJSON_Delete(o);
}

int cmd_tune(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},
        {"horizon", required_argument, NULL, 'z'},
        {"budget", required_argument, NULL, 'b'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL;
    struct cli_days days;
    cli_days_init(&days);
    int horizon = 90, budget = 0; /* 0: rules.budget, else TUNE_DEFAULT_BUDGET */
    enum tune_format format = TUNE_TABLE;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'F':
        case 'T':
            if (cli_days_option("tune", c == 'F' ? "from" : "to", optarg, &days))
                return EXIT_USAGE;
            break;
        case 'z':
            if (cli_parse_days_count("tune", "horizon", optarg, &horizon))
                return EXIT_USAGE;
            break;
        case 'b': {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1 || v > 1000)
                return cli_usage_error("tune",
                                       "--budget: must be a number of CTAs from 1 to "
                                       "1000, not \"%s\"",
                                       optarg);
            budget = (int)v;
            break;
        }
        case 'f':
            if (strcmp(optarg, "table") == 0)
                format = TUNE_TABLE;
            else if (strcmp(optarg, "yaml") == 0)
                format = TUNE_YAML;
            else if (strcmp(optarg, "json") == 0)
                format = TUNE_JSON;
            else
                return cli_usage_error("tune", "--format: must be table, yaml or json, not \"%s\"",
                                       optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("tune", "unexpected argument \"%s\"", argv[optind]);
    if (!days.has_from || !days.has_to)
        return cli_usage_error("tune", "give the period with --from DATE --to DATE");
    int32_t first, last;
    if (cli_days_range("tune", &days, &first, &last))
        return EXIT_USAGE;
    static struct tend_config cfg;
    int rc = cli_load_config("tune", config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    /* The target is rules.budget unless --budget says otherwise; every replay
     * of tune runs without the budget, so that it measures what the rules
     * themselves would open (docs/rules.md, Tuning). */
    if (budget == 0)
        budget = cfg.rules.budget_per_owner_week > 0 ? cfg.rules.budget_per_owner_week
                                                     : TUNE_DEFAULT_BUDGET;
    cfg.rules.budget_per_owner_week = 0;
    struct store *st;
    if ((rc = cli_open_store(db, &st))) {
        cli_free_config(&cfg);
        return rc;
    }
    struct tune_options o = {
        .bt = {.from = first, .to = last, .horizon = horizon, .hc = &cfg.health, .rc = &cfg.rules},
        .budget = budget,
        .recall_slack = TUNE_RECALL_SLACK,
    };
    static struct tune_result t;
    static struct rules_config after;
    char err[BACKTEST_ERR_BYTES];
    if (tune_run(st, &o, &t, &after, err)) {
        fprintf(stderr, "tend tune: %s\n", err);
        rc = EXIT_USAGE;
    } else if (format == TUNE_JSON) {
        print_json(&t, &cfg.rules, budget);
    } else {
        char from[16], to[16];
        dt_format_date(first, from);
        dt_format_date(last, to);
        if (format == TUNE_TABLE)
            print_table(&t, budget);
        printf("# tend tune --from %s --to %s --horizon %d --budget %d: put under tend.yaml's "
               "rules:\n",
               from, to, horizon, budget);
        if (format == TUNE_YAML)
            print_figures_comment(&t, budget);
        print_snippet(&t, &cfg.rules);
    }
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}
