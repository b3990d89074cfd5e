/* cmd_analyze.c: tend analyze: does the health score predict churn? (SPEC 8)
 *
 *   tend analyze --lead DAYS [--from D1 --to D2] [--features components|metrics]
 *   tend analyze --reasons [--from D1 --to D2]
 *   tend analyze --table FILE.csv --outcome COLUMN ...   (cmd_analyze_table.c)
 *   tend analyze survival ... / cohorts ...   (cmd_analyze_survival.c, _cohorts.c)
 *
 * The work is in analysis/analyze.c; this file reads the options, prints the
 * result as a table or JSON, and keeps the HTML report (docs/analysis.md). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analyze.h"
#include "cli/analyze_more.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "core/labels.h"
#include "server/report.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "Usage: tend analyze [--db PATH] [--config tend.yaml] --lead DAYS [--from DATE --to DATE]\n"
        "                    [--features components|metrics] [--export FILE.csv]\n"
        "                    [--outcome churn|contraction|expansion]\n"
        "       tend analyze [--db PATH] --reasons [--movements] [--from DATE --to DATE]\n"
        "       tend analyze --table FILE.csv --outcome COLUMN [--columns A,B,...]\n"
        "       tend analyze survival ...   (time to churn: see tend analyze survival --help)\n"
        "       tend analyze cohorts ...    (churn by decile: see tend analyze cohorts --help)\n"
        "\n"
        "Does the health score predict churn? For every Account Renewed and Account\n"
        "Churned in the period, the account's health components (or metrics) as of DAYS\n"
        "before it; a logistic regression of churn on them (coefficients per standard\n"
        "deviation, standard errors, p-values, 95%% intervals, odds ratios), the AUC in\n"
        "sample and on the latest 30%% of the outcomes held out, the factors that do not\n"
        "covary with churn, and suggested component weights beside the current ones.\n\n"
        "  --lead DAYS       how long before the outcome the features are taken (1-730)\n"
        "  --from, --to      outcomes on these days, inclusive (default: all of them)\n"
        "  --features WHAT   components (default: the five health components) or metrics\n"
        "                    (the inputs the components are made of)\n"
        "  --outcome WHAT    churn (default: the renewals and churns), contraction or\n"
        "                    expansion (accounts paying, every DAYS: did they buy less,\n"
        "                    or more, within DAYS? \"churned\" then counts those that did)\n"
        "  --export FILE     also write the rows fitted as CSV (tend analyze --table reads it)\n"
        "  --reasons         churn reasons as a Pareto by lost ARR, then every churn,\n"
        "                    contraction and expansion reason by NRR impact with the cost\n"
        "                    to serve (tickets, outreach, CTAs per account)\n"
        "  --movements       with --reasons and --format csv|json: the second list alone\n"
        "  --table FILE      the same regression on any CSV (see tend analyze --table --help)\n"
        "  --html FILE       also write the report as a standalone HTML page\n"
        "  --format FORMAT   table (default) or json\n"
        "  --config FILE     tend.yaml (health: the current weights and curves)\n"
        "  --db PATH         database (default ./%s)\n"
        "\n"
        "The report is kept in the database; tend serve shows it under /reports.\n",
        DEFAULT_DB);
}

/* ---- the report ------------------------------------------------------------- */

int cli_save_report(struct store *st, const char *cmd, const char *kind, const char *title,
                    const char *summary, const char *body, const char *html_path) {
    struct store_report r = {
        .kind = kind, .title = title, .summary = summary, .body = body, .created_ms = dt_now_ms()};
    int64_t id;
    fflush(stdout); /* the result first, then where its report is */
    if (st && store_report_put(st, &r, &id)) {
        fprintf(stderr, "tend %s: keeping the report: %s\n", cmd, store_last_error(st));
        return EXIT_USAGE;
    }
    if (st)
        fprintf(stderr, "tend %s: report %lld kept: /reports/%lld under tend serve\n", cmd,
                (long long)id, (long long)id);
    if (!html_path)
        return 0;
    struct buf doc;
    buf_init(&doc, 0);
    report_document(&doc, title, body);
    FILE *f = fopen(html_path, "w");
    bool ok = f && fwrite(buf_str(&doc), 1, doc.len, f) == doc.len;
    if (f && fclose(f) != 0)
        ok = false;
    buf_free(&doc);
    if (!ok) {
        fprintf(stderr, "tend %s: %s: cannot write the report: %m\n", cmd, html_path);
        return EXIT_USAGE;
    }
    return 0;
}

/* ---- printing ------------------------------------------------------------- */

static cJSON *bands_json(const struct analysis_bands *b) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "red_below", b->red_below);
    cJSON_AddNumberToObject(o, "green_from", b->green_from);
    for (int i = BAND_RED; i <= BAND_NONE + 3; i++) {
        cJSON *e = cJSON_AddObjectToObject(o, health_band_name((enum health_band)i));
        cJSON_AddNumberToObject(e, "n", (double)b->band[i].n);
        cJSON_AddNumberToObject(e, "churned", (double)b->band[i].churned);
        cJSON_AddItemToObject(e, "churn_rate", out_json_number(b->band[i].rate));
    }
    return o;
}

static cJSON *weights_json(const double w[HC_COUNT], bool normalise) {
    double sum = 0;
    for (int c = 0; c < HC_COUNT; c++)
        sum += w[c];
    cJSON *o = cJSON_CreateObject();
    for (int c = 0; c < HC_COUNT; c++)
        cJSON_AddNumberToObject(o, health_component_name((enum health_component)c),
                                normalise && sum > 0 ? w[c] / sum : w[c]);
    return o;
}

static cJSON *result_json(const struct analysis_result *r) {
    char d[16];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "lead_days", r->o.lead_days);
    dt_format_date(r->o.from, d);
    cJSON_AddStringToObject(o, "from", d);
    dt_format_date(r->o.to, d);
    cJSON_AddStringToObject(o, "to", d);
    cJSON_AddStringToObject(o, "features",
                            r->o.features == AF_COMPONENTS ? "components" : "metrics");
    cJSON_AddStringToObject(o, "outcome", analysis_outcome_name(r->o.outcome));
    cJSON_AddNumberToObject(o, "outcomes", (double)r->outcomes);
    cJSON_AddNumberToObject(o, "churned", (double)r->churned);
    cJSON *left = cJSON_AddObjectToObject(o, "left_out");
    cJSON_AddNumberToObject(left, "short_history", (double)r->short_history);
    cJSON_AddNumberToObject(left, "not_a_customer", (double)r->not_customer);
    cJSON_AddNumberToObject(left, "no_data", (double)r->no_data);
    cJSON_AddNumberToObject(o, "n", (double)r->fit.n);
    cJSON_AddNumberToObject(o, "n_churned", (double)r->fit.n_events);
    cJSON *dropped = cJSON_AddArrayToObject(o, "dropped");
    for (size_t i = 0; i < r->fit.n_dropped; i++)
        cJSON_AddItemToArray(dropped, cJSON_CreateString(r->fit.dropped[i].name));
    cJSON *coefs = cJSON_AddArrayToObject(o, "coefficients");
    for (size_t i = 0; i < r->fit.n_coefs; i++) {
        const struct stats_coef *c = &r->fit.coefs[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", c->name);
        cJSON_AddItemToObject(e, "coef", out_json_number(c->coef));
        cJSON_AddItemToObject(e, "se", out_json_number(c->se));
        cJSON_AddItemToObject(e, "z", out_json_number(c->z));
        cJSON_AddItemToObject(e, "p", out_json_number(c->p));
        cJSON_AddItemToObject(e, "ci_low", out_json_number(c->ci_low));
        cJSON_AddItemToObject(e, "ci_high", out_json_number(c->ci_high));
        cJSON_AddItemToObject(e, "odds_ratio", out_json_number(c->odds_ratio));
        if (i > 0) {
            cJSON_AddNumberToObject(e, "mean", c->mean);
            cJSON_AddNumberToObject(e, "std_dev", c->std_dev);
            cJSON_AddNumberToObject(e, "missing", (double)r->missing[r->fit.column[i]]);
        }
        cJSON_AddItemToArray(coefs, e);
    }
    cJSON_AddItemToObject(o, "auc", out_json_number(r->auc));
    const struct analysis_holdout *h = &r->holdout;
    cJSON *ho = cJSON_AddObjectToObject(o, "holdout");
    if (h->done) {
        dt_format_date(h->split_day, d);
        cJSON_AddStringToObject(ho, "split", d);
        cJSON_AddNumberToObject(ho, "train", (double)h->train);
        cJSON_AddNumberToObject(ho, "test", (double)h->test);
        cJSON_AddNumberToObject(ho, "test_churned", (double)h->test_churned);
        cJSON_AddItemToObject(ho, "auc_model", out_json_number(h->auc_model));
        cJSON_AddItemToObject(ho, "auc_current_weights", out_json_number(h->auc_current));
        cJSON_AddItemToObject(ho, "auc_suggested_weights", out_json_number(h->auc_suggested));
        if (r->o.features == AF_COMPONENTS)
            cJSON_AddItemToObject(ho, "auc_snippet_weights", out_json_number(r->auc_snippet));
    } else {
        cJSON_AddStringToObject(ho, "not_done", h->why);
    }
    cJSON_AddItemToObject(o, "strength", cli_strength_json(&r->fit));
    cli_analysis_groups(r, o, NULL);
    const char *names[ANALYSIS_MAX_FEATURES];
    size_t n = analysis_not_covarying(r, names);
    cJSON *nc = cJSON_AddArrayToObject(o, "not_covarying");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(nc, cJSON_CreateString(names[i]));
    cJSON_AddItemToObject(o, "current_weights", weights_json(r->o.hc->weights, true));
    if (r->has_suggested)
        cJSON_AddItemToObject(o, "suggested_weights", weights_json(r->suggested, false));
    else
        cJSON_AddNullToObject(o, "suggested_weights");
    if (r->o.features == AF_COMPONENTS && r->o.outcome == AO_CHURN) {
        cJSON *b = cJSON_AddObjectToObject(o, "bands");
        cJSON_AddNumberToObject(b, "n", (double)r->bands_current.n);
        cJSON_AddNumberToObject(b, "churned", (double)r->bands_current.churned);
        cJSON_AddItemToObject(b, "base_rate", out_json_number(r->bands_current.base_rate));
        cJSON_AddNumberToObject(b, "red_lift", ANALYSIS_RED_LIFT);
        cJSON_AddNumberToObject(b, "min_rows", ANALYSIS_BAND_MIN_ROWS);
        cJSON_AddItemToObject(b, "current", bands_json(&r->bands_current));
        cJSON_AddItemToObject(b, "suggested", bands_json(&r->bands_suggested));
        cJSON_AddItemToObject(b, "snippet_weights", weights_json(r->snippet_weights, false));
    }
    return o;
}

static void print_json(cJSON *o) {
    char *s = cJSON_Print(o);
    puts(s);
    free(s);
}

/* One line per band: its thresholds, rows, churns and churn rate. */
static void print_bands(const char *title, const struct analysis_bands *b) {
    printf("%s (red below %g, green from %g), churned at the outcome of %zu scored: %zu "
           "(base rate %.1f%%)\n",
           title, b->red_below, b->green_from, b->n, b->churned, 100 * b->base_rate);
    for (int i = BAND_RED; i <= BAND_GREEN; i++) {
        const struct analysis_band_count *c = &b->band[i];
        printf("  %-6s %5zu accounts, %4zu churned", health_band_name((enum health_band)i), c->n,
               c->churned);
        if (c->n)
            printf(" (%.1f%%, %.2fx the base rate)", 100 * c->rate, c->rate / b->base_rate);
        printf("\n");
    }
}

static void print_result(const struct analysis_result *r) {
    char from[16], to[16];
    dt_format_date(r->o.from, from);
    dt_format_date(r->o.to, to);
    if (r->o.outcome != AO_CHURN)
        printf("Outcome: %s within %d days. Rows: the accounts paying every %d days; \"churned\" "
               "below counts the rows with %s in the %d days after them.\n",
               analysis_outcome_name(r->o.outcome), r->o.lead_days, r->o.lead_days,
               analysis_outcome_name(r->o.outcome), r->o.lead_days);
    printf("%zu outcomes from %s to %s (%zu churned); %s as of %d days before each.\n", r->outcomes,
           from, to, r->churned, r->o.features == AF_COMPONENTS ? "health components" : "metrics",
           r->o.lead_days);
    if (r->short_history + r->not_customer + r->no_data)
        printf("Left out: %zu with less than %d days of history then, %zu not customers then, "
               "%zu without data.\n",
               r->short_history, ANALYSIS_MIN_HISTORY_DAYS, r->not_customer, r->no_data);
    printf("Fitted on %zu (%zu churned); coefficients per standard deviation, * p < 0.05.\n\n",
           r->fit.n, r->fit.n_events);
    static const char *const cols[] = {"factor", "coef",    "se",         "z",       "p",
                                       "ci_low", "ci_high", "odds_ratio", "missing", "sig"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    for (size_t i = 0; i < r->fit.n_coefs; i++) {
        const struct stats_coef *c = &r->fit.coefs[i];
        out_row(t);
        out_str(t, c->name);
        out_num(t, c->coef, isfinite(c->coef));
        out_num(t, c->se, isfinite(c->se));
        out_num(t, c->z, isfinite(c->z));
        out_num(t, c->p, isfinite(c->p));
        out_num(t, c->ci_low, isfinite(c->ci_low));
        out_num(t, c->ci_high, isfinite(c->ci_high));
        out_num(t, c->odds_ratio, isfinite(c->odds_ratio));
        if (i == 0)
            out_str(t, NULL);
        else
            out_int(t, (int64_t)r->missing[r->fit.column[i]]);
        out_str(t, i > 0 && c->p < 0.05 ? "*" : NULL);
    }
    out_print(t, OUT_TABLE, stdout);
    out_free(t);
    for (size_t i = 0; i < r->fit.n_dropped; i++)
        printf("Dropped %s: %s.\n", r->fit.dropped[i].name, r->fit.dropped[i].why);
    printf("\nAUC in sample: %.3f\n", r->auc);
    const struct analysis_holdout *h = &r->holdout;
    if (h->done) {
        char split[16];
        dt_format_date(h->split_day, split);
        printf("Held out: fitted on the %zu outcomes before %s, scored on the %zu from then "
               "(%zu churned):\n  AUC model %.3f, current weights %.3f",
               h->train, split, h->test, h->test_churned, h->auc_model, h->auc_current);
        if (isfinite(h->auc_suggested))
            printf(", suggested weights %.3f", h->auc_suggested);
        printf("\n");
        if (analysis_suggestion_worse(r))
            printf("  Caution: the weights suggested by the first part ranked the held-out "
                   "outcomes worse than the current ones; keep the current weights, or gather "
                   "more outcomes.\n");
    } else {
        printf("Held out: not done: %s\n", h->why);
    }
    const char *names[ANALYSIS_MAX_FEATURES];
    size_t n = analysis_not_covarying(r, names);
    if (n) {
        printf("\nDo not covary with churn (p >= 0.05), candidates to leave the score:");
        for (size_t i = 0; i < n; i++)
            printf("%s %s", i ? "," : "", names[i]);
        printf("\n");
    }
    cli_print_strength(&r->fit, stdout);
    cli_analysis_groups(r, NULL, stdout);
    if (r->o.features != AF_COMPONENTS || r->o.outcome != AO_CHURN)
        return;
    print_bands("\nBands now", &r->bands_current);
    if (!r->has_suggested)
        printf("\nNo suggested weights: no component covaries with churn the right way at the "
               "5%% level; the bands below are for the current weights.\n");
    else
        printf("\nSuggested weights (from the fit on all %zu outcomes)", r->fit.n);
    if (r->has_suggested && isfinite(r->auc_snippet))
        printf("; on the held-out outcomes they score AUC %.3f (fitted on all outcomes, so "
               "not an independent estimate: the suggested-weights figure above is; a re-run "
               "with them reports %.3f as current weights)",
               r->auc_snippet, r->auc_snippet);
    if (r->has_suggested)
        printf(".\n");
    print_bands("Suggested bands (red: churn at least twice the base rate; yellow: above it)",
                &r->bands_suggested);
    printf("\nFor tend.yaml:\n\nhealth:\n  weights: {");
    for (int c = 0; c < HC_COUNT; c++)
        printf("%s%s: %.2f", c ? ", " : "", health_component_name((enum health_component)c),
               r->snippet_weights[c]);
    printf("}\n  bands: {red_below: %g, green_from: %g}\n", r->bands_suggested.red_below,
           r->bands_suggested.green_from);
}

static void print_reasons(const struct analysis_reasons *r, enum out_format format) {
    static const char *const cols[] = {"reason", "churned", "lost_arr", "share", "cumulative"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    for (size_t i = 0; i < r->n; i++) {
        out_row(t);
        out_str(t, r->v[i].reason);
        out_int(t, r->v[i].churned);
        out_num(t, r->v[i].lost_arr, true);
        out_num(t, round(r->v[i].share * 1000) / 1000, true);
        out_num(t, round(r->v[i].cumulative * 1000) / 1000, true);
    }
    out_print(t, format, stdout);
    out_free(t);
    if (format == OUT_TABLE) {
        printf("\n%lld churned accounts", (long long)r->churned);
        if (r->churned > 0) {
            char first[16], last[16];
            dt_format_date(r->first_day, first);
            dt_format_date(r->last_day, last);
            printf(" (churns from %s to %s)", first, last);
        }
        char lost[64];
        labels_money(r->lost_arr, NULL, lost, sizeof lost);
        printf(", %s ARR lost", lost);
        if (r->arr_from_mrr)
            printf(" (%lld without an arr on the churn event, counted at 12 x mrr)",
                   (long long)r->arr_from_mrr);
        printf("\n");
    }
}

/* ---- the command ------------------------------------------------------------ */

static bool has_table(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--table") == 0 || strncmp(argv[i], "--table=", 8) == 0)
            return true;
    return false;
}

int cmd_analyze(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "survival") == 0)
        return cmd_analyze_survival(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "cohorts") == 0)
        return cmd_analyze_cohorts(argc - 1, argv + 1);
    if (has_table(argc, argv))
        return cmd_analyze_table(argc, argv);
    if (argc > 1 && strcmp(argv[1], "impact") == 0) /* cmd_analyze_impact.c */
        return cmd_analyze_impact(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "process") == 0) /* cmd_analyze_process.c */
        return cmd_analyze_process(argc - 1, argv + 1);
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},   {"config", required_argument, NULL, 'c'},
        {"lead", required_argument, NULL, 'l'}, {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},   {"features", required_argument, NULL, 'e'},
        {"reasons", no_argument, NULL, 'r'},    {"export", required_argument, NULL, 'x'},
        {"html", required_argument, NULL, 'H'}, {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},       {"outcome", required_argument, NULL, 'O'},
        {"movements", no_argument, NULL, 'M'},  {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *export = NULL, *html = NULL;
    struct cli_days days;
    cli_days_init(&days);
    struct analysis_options o = {.lead_days = -1, .features = AF_COMPONENTS};
    bool reasons = false, movements = false;
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
        case 'l':
            if (cli_parse_days_count("analyze", "lead", optarg, &o.lead_days))
                return EXIT_USAGE;
            break;
        case 'F':
        case 'T':
            if (cli_days_option("analyze", c == 'F' ? "from" : "to", optarg, &days))
                return EXIT_USAGE;
            break;
        case 'e':
            if (strcmp(optarg, "components") == 0)
                o.features = AF_COMPONENTS;
            else if (strcmp(optarg, "metrics") == 0)
                o.features = AF_METRICS;
            else
                return cli_usage_error(
                    "analyze", "--features must be components or metrics, not \"%s\"", optarg);
            break;
        case 'r':
            reasons = true;
            break;
        case 'M':
            movements = true;
            break;
        case 'O':
            if (strcmp(optarg, "churn") == 0)
                o.outcome = AO_CHURN;
            else if (strcmp(optarg, "contraction") == 0)
                o.outcome = AO_CONTRACTION;
            else if (strcmp(optarg, "expansion") == 0)
                o.outcome = AO_EXPANSION;
            else
                return cli_usage_error("analyze",
                                       "--outcome must be churn, contraction or expansion, not "
                                       "\"%s\" (a column's name goes with --table)",
                                       optarg);
            break;
        case 'x':
            export = optarg;
            break;
        case 'H':
            html = optarg;
            break;
        case 'f':
            if (cli_parse_format("analyze", optarg, &format))
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
        return cli_usage_error("analyze", "unexpected argument \"%s\"", argv[optind]);
    if (reasons == (o.lead_days >= 0))
        return cli_usage_error("analyze", "give --lead DAYS, --reasons or --table FILE.csv");
    if (days.has_from != days.has_to) {
        /* Either end alone: the other is open. */
        if (!days.has_from)
            days.from = 0;
        if (!days.has_to)
            days.to = days.at;
        days.has_from = days.has_to = true;
    }
    int32_t first = 0, last = days.at;
    if (days.has_from && cli_days_range("analyze", &days, &first, &last))
        return EXIT_USAGE;

    static struct tend_config cfg;
    int rc = cli_load_config("analyze", config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    struct store *st;
    if ((rc = cli_open_store(db, &st))) {
        cli_free_config(&cfg);
        return rc;
    }
    struct buf body;
    buf_init(&body, 0);
    char title[160], summary[256];
    if (reasons) {
        struct analysis_reasons r;
        if (analysis_reasons(st, first, last, &r)) {
            fprintf(stderr, "tend analyze: %s\n", store_last_error(st));
            rc = EXIT_USAGE;
        } else {
            if (!movements)
                print_reasons(&r, format);
            analysis_reasons_report(&body, &r, first, last);
            /* Contraction and expansion too, by NRR impact (tables: after the
             * churns; CSV and JSON: with --movements, in their place). */
            rc = cli_movement_reasons(st, first, last, format, movements || format == OUT_TABLE,
                                      &body);
            snprintf(title, sizeof title, "Churn reasons by lost ARR");
            char lost[64];
            labels_money(r.lost_arr, NULL, lost, sizeof lost);
            snprintf(summary, sizeof summary, "%lld churned accounts, %s ARR lost, %zu reasons",
                     (long long)r.churned, lost, r.n);
            if (!rc)
                rc =
                    cli_save_report(st, "analyze", "analyze", title, summary, buf_str(&body), html);
        }
        analysis_reasons_free(&r);
    } else {
        o.from = first;
        o.to = last;
        o.hc = &cfg.health;
        struct analysis_result r;
        char err[STATS_ERR_BYTES];
        enum tend_err e = analysis_run(st, &o, &r, err);
        if (e) {
            fprintf(stderr, "tend analyze: %s\n", err);
            rc = EXIT_USAGE;
        } else {
            if (format == OUT_JSON) {
                cJSON *j = result_json(&r);
                print_json(j);
                cJSON_Delete(j);
            } else {
                print_result(&r);
            }
            if (export && analysis_export(&r, export, err)) {
                fprintf(stderr, "tend analyze: %s\n", err);
                rc = EXIT_USAGE;
            }
            analysis_report(&body, &r);
            snprintf(title, sizeof title, "%s analysis: %s %d days before the outcome",
                     o.outcome == AO_CONTRACTION ? "Contraction"
                     : o.outcome == AO_EXPANSION ? "Expansion"
                                                 : "Churn",
                     o.features == AF_COMPONENTS ? "health components" : "metrics", o.lead_days);
            snprintf(summary, sizeof summary, "%zu outcomes (%zu churned), AUC %.3f in sample",
                     r.fit.n, r.fit.n_events, r.auc);
            if (!rc)
                rc =
                    cli_save_report(st, "analyze", "analyze", title, summary, buf_str(&body), html);
        }
        analysis_result_free(&r);
    }
    buf_free(&body);
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}
