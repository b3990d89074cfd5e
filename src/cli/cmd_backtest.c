/* cmd_backtest.c: tend backtest: would the rules and the bands have warned in
 * time? (SPEC 8)
 *
 *   tend backtest --from D1 --to D2 [--horizon DAYS]
 *
 * The replay is analysis/backtest.c's; this file reads the options, prints
 * the rows, the alert volume per CSM and the quality summary, and keeps the
 * HTML report with the result's JSON in it (read back by tend rules). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/backtest.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "server/report.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend backtest [--db PATH] [--config tend.yaml] --from DATE --to DATE\n"
            "                     [--horizon DAYS] [--html FILE] [--format table|json]\n"
            "\n"
            "Replays evaluation day by day over the period, in a copy of the database (your\n"
            "CTAs are not touched, nothing is delivered), after %d days of warm-up, and\n"
            "reports per rule and for the health bands: the alerts raised, the share of\n"
            "them after which the account churned within the horizon (precision), the share\n"
            "of the period's churners warned within the horizon before (recall), the median\n"
            "lead time in days, the CTAs closed within 3 days of opening (flapping), and the\n"
            "alerts per CSM per week; the same for every risk CTA together, and the CTAs\n"
            "per CSM per ISO week (median, p90, max) and held back. A risk rule whose lift\n"
            "is under 1.2 is marked noisy; `tend rules` shows these figures later.\n\n"
            "  --from, --to     the period, inclusive\n"
            "  --horizon DAYS   how far ahead a warning counts (default 90, 1-730)\n"
            "  --html FILE      also write the report as a standalone HTML page\n"
            "  --format FORMAT  table (default), csv or json\n"
            "  --config FILE    tend.yaml (the rules, health weights and bands to test)\n"
            "  --db PATH        database (default ./%s)\n",
            BACKTEST_WARMUP_DAYS, DEFAULT_DB);
}

static void print_row(struct out_table *t, const struct backtest_row *w) {
    out_row(t);
    out_str(t, w->name);
    out_int(t, w->raised);
    out_num(t, round(w->precision * 1000) / 1000, isfinite(w->precision));
    out_num(t, round(w->lift * 100) / 100, isfinite(w->lift));
    out_int(t, w->churners);
    out_int(t, w->warned);
    out_num(t, round(w->recall * 1000) / 1000, isfinite(w->recall));
    out_num(t, w->median_lead, isfinite(w->median_lead));
    out_int(t, w->flaps.closed_fast);
    out_str(t, w->noisy ? "noisy" : "");
}

static void print_rows(const struct backtest_result *r, enum out_format format) {
    static const char *const cols[] = {
        "alert",  "raised",           "precision",        "lift", "churners", "warned",
        "recall", "median_lead_days", "closed_within_3d", "noisy"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    for (size_t i = 0; i < r->n_rows; i++)
        print_row(t, &r->rows[i]);
    print_row(t, &r->risk);
    out_print(t, format, stdout);
    out_free(t);
}

static void print_owners(const struct backtest_result *r, enum out_format format) {
    static const char *const cols[] = {"owner", "ctas", "per_week"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    for (size_t i = 0; i < r->n_owners; i++) {
        out_row(t);
        out_str(t, r->owners[i].owner);
        out_int(t, r->owners[i].raised);
        out_num(t, round(r->owners[i].per_week * 10) / 10, true);
    }
    out_print(t, format, stdout);
    out_free(t);
}

static void print_json(const struct backtest_result *r) {
    cJSON *o = backtest_json(r, true);
    char *s = cJSON_Print(o);
    puts(s);
    free(s);
    cJSON_Delete(o);
}

/* The table's closing lines: the volume, flapping and hold-back figures. */
static void print_summary(const struct backtest_result *r, int horizon) {
    const struct backtest_row *any = backtest_row_named(r, "any rule");
    const struct quality_weeks *w = &r->per_owner_week;
    printf("\nCTAs per CSM per ISO week (%lld CSMs x %lld whole weeks): median %.1f, p90 %.1f, "
           "max %.0f. Held back: %lld.\n",
           (long long)w->owners, (long long)w->weeks, w->median, w->p90, w->max,
           (long long)r->held_back);
    if (any)
        printf("Flapping: of %lld CTAs opened, %lld closed, %lld (%.1f%%) within %d days of "
               "opening (%lld by auto-resolve); %.1f%% of the closed ones ended by "
               "auto-resolve.\n",
               (long long)any->flaps.opened, (long long)any->flaps.closed,
               (long long)any->flaps.closed_fast, any->flaps.fast_share * 100, QUALITY_FLAP_DAYS,
               (long long)any->flaps.auto_resolved_fast, any->flaps.auto_share * 100);
    printf("\n%lld accounts, %lld churned in the period; horizon %d days. Base "
           "rate %.3f: the precision of an alert raised at random (lift = precision "
           "/ base rate; under %.1f: noisy). Replayed in %lld ms.\n",
           (long long)r->accounts, (long long)r->churners, horizon, r->base_rate,
           QUALITY_NOISY_LIFT, (long long)r->run_ms);
}

int cmd_backtest(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},
        {"horizon", required_argument, NULL, 'z'},
        {"html", required_argument, NULL, 'H'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *html = NULL;
    struct cli_days days;
    cli_days_init(&days);
    int horizon = 90;
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
        case 'F':
        case 'T':
            if (cli_days_option("backtest", c == 'F' ? "from" : "to", optarg, &days))
                return EXIT_USAGE;
            break;
        case 'z':
            if (cli_parse_days_count("backtest", "horizon", optarg, &horizon))
                return EXIT_USAGE;
            break;
        case 'H':
            html = optarg;
            break;
        case 'f':
            if (cli_parse_format("backtest", optarg, &format))
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
        return cli_usage_error("backtest", "unexpected argument \"%s\"", argv[optind]);
    if (!days.has_from || !days.has_to)
        return cli_usage_error("backtest", "give the period with --from DATE --to DATE");
    int32_t first, last;
    if (cli_days_range("backtest", &days, &first, &last))
        return EXIT_USAGE;

    static struct tend_config cfg;
    int rc = cli_load_config("backtest", config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    struct store *st;
    if ((rc = cli_open_store(db, &st))) {
        cli_free_config(&cfg);
        return rc;
    }
    struct backtest_options o = {
        .from = first, .to = last, .horizon = horizon, .hc = &cfg.health, .rc = &cfg.rules};
    struct backtest_result r;
    char err[BACKTEST_ERR_BYTES];
    if (backtest_run(st, &o, &r, err)) {
        fprintf(stderr, "tend backtest: %s\n", err);
        rc = EXIT_USAGE;
    } else {
        if (format == OUT_JSON) {
            print_json(&r);
        } else {
            print_rows(&r, format);
            if (format == OUT_TABLE)
                printf("\nAlerts per CSM over %.1f weeks:\n", r.weeks);
            print_owners(&r, format);
            if (format == OUT_TABLE)
                print_summary(&r, horizon);
        }
        struct buf body;
        buf_init(&body, 0);
        backtest_report(&body, &r);
        cJSON *json = backtest_json(&r, false);
        backtest_embed(&body, json);
        cJSON_Delete(json);
        char from[16], to[16], title[160], summary[256];
        dt_format_date(first, from);
        dt_format_date(last, to);
        snprintf(title, sizeof title, "Backtest %s to %s, horizon %d days", from, to, horizon);
        const struct backtest_row *any = backtest_row_named(&r, "any rule");
        snprintf(summary, sizeof summary,
                 "%lld churners; any rule warned %lld of them, %lld alerts raised",
                 (long long)r.churners, (long long)any->warned, (long long)any->raised);
        rc = cli_save_report(st, "backtest", "backtest", title, summary, buf_str(&body), html);
        buf_free(&body);
    }
    backtest_result_free(&r);
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}
