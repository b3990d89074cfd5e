/* cmd_rules.c: tend rules: every rule with its settings and its measured
 * quality from the latest backtest (docs/rules.md, "Quality").
 *
 *   tend rules [--db PATH] [--config tend.yaml] [--format table|csv|json]
 *
 * Nothing is replayed: the quality is read from the newest stored backtest
 * report (analysis/backtest_json.c), so this is instant and shows what the
 * last `tend backtest` measured, with its period. A rule whose lift is
 * under 1.2 is marked noisy. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/backtest.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend rules [--db PATH] [--config tend.yaml] [--format table|csv|json]\n"
            "\n"
            "Lists every rule with its state, thresholds, priority, type and scope (from\n"
            "tend.yaml, else the defaults), and its quality measured by the latest\n"
            "`tend backtest`: CTAs raised, precision, lift over the base rate, recall,\n"
            "median lead time in days and CTAs closed within 3 days of opening. A rule\n"
            "whose lift is under %.1f is marked noisy.\n\n"
            "  --format FORMAT  table (default), csv or json\n"
            "  --config FILE    tend.yaml\n"
            "  --db PATH        database (default ./%s)\n",
            QUALITY_NOISY_LIFT, DEFAULT_DB);
}

/* A figure: rounded in a table, to 4 decimals in csv, as measured (every
 * digit, equal to the backtest's JSON) in json. */
static void figure(struct out_table *t, enum out_format format, double v, double scale) {
    if (format == OUT_JSON && isfinite(v)) {
        char b[32];
        snprintf(b, sizeof b, "%.17g", v);
        out_raw_json(t, b);
        return;
    }
    out_num(t, format == OUT_TABLE ? round(v * scale) / scale : v, isfinite(v));
}

static void print_views(const struct backtest_rule_view *v, size_t n, bool have_backtest,
                        enum out_format format) {
    static const char *const cols[] = {
        "rule",   "enabled",   "type", "priority", "thresholds",       "scope",
        "raised", "precision", "lift", "recall",   "median_lead_days", "closed_within_3d",
        "quality"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    for (size_t i = 0; i < n; i++) {
        out_row(t);
        out_str(t, v[i].name);
        out_str(t, v[i].enabled ? "yes" : "no");
        out_str(t, v[i].type);
        out_str(t, v[i].priority);
        out_str(t, v[i].thresholds);
        out_str(t, v[i].scope);
        figure(t, format, v[i].raised, 1);
        figure(t, format, v[i].precision, 1000);
        figure(t, format, v[i].lift, 100);
        figure(t, format, v[i].recall, 1000);
        figure(t, format, v[i].median_lead, 10);
        figure(t, format, v[i].closed_fast, 1);
        out_str(t, !have_backtest         ? "no backtest yet: run tend backtest"
                   : v[i].noisy           ? "noisy"
                   : !isfinite(v[i].lift) ? "nothing raised"
                                          : "");
    }
    out_print(t, format, stdout);
    out_free(t);
}

int cmd_rules(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL;
    enum out_format format = OUT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'f':
            if (cli_parse_format("rules", optarg, &format))
                return EXIT_USAGE;
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
        return cli_usage_error("rules", "unexpected argument \"%s\"", argv[optind]);
    static struct tend_config cfg;
    int rc = cli_load_config("rules", config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    struct store *st;
    if ((rc = cli_open_store(db, &st))) {
        cli_free_config(&cfg);
        return rc;
    }
    cJSON *json = NULL;
    int64_t id = 0, created_ms = 0;
    if (backtest_latest(st, &json, &id, &created_ms)) {
        fprintf(stderr, "tend rules: reading the latest backtest: %s\n", store_last_error(st));
        rc = EXIT_USAGE;
    } else {
        static struct backtest_rule_view views[RULES_MAX];
        size_t n = backtest_rule_views(&cfg.rules, json, views);
        print_views(views, n, json != NULL, format);
        if (format == OUT_TABLE) {
            const cJSON *from = cJSON_GetObjectItemCaseSensitive(json, "from");
            const cJSON *to = cJSON_GetObjectItemCaseSensitive(json, "to");
            const cJSON *base = cJSON_GetObjectItemCaseSensitive(json, "base_rate");
            if (json && cJSON_IsString(from) && cJSON_IsString(to))
                printf("\nQuality from the backtest of %s to %s (report %lld); base rate %.3f. "
                       "Lift under %.1f: noisy.\n",
                       from->valuestring, to->valuestring, (long long)id,
                       cJSON_IsNumber(base) ? base->valuedouble : NAN, QUALITY_NOISY_LIFT);
            else if (id)
                printf("\nThe latest backtest (report %lld) predates rule quality: run tend "
                       "backtest again.\n",
                       (long long)id);
            else
                printf("\nNo backtest yet: run tend backtest --from DATE --to DATE.\n");
        }
    }
    cJSON_Delete(json);
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}
