/* cmd_kpis.c: tend kpis (the KPI board, analysis/kpis.h) and tend report
 * monthly (the monthly CS report, analysis/monthly.h; docs/cli.md).
 *
 *   tend kpis [--config tend.yaml] [--weeks N] [--at DATE] [--format table|csv|json]
 *   tend report monthly --month YYYY-MM --out FILE [--config tend.yaml]
 *
 * The KPIs are tend.yaml's kpis: (the default board without it). The
 * report is one HTML file with its stylesheet inside, printable. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/kpis.h"
#include "analysis/monthly.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "eval/act.h"
#include "server/dash.h"
#include "server/dash_model.h"
#include "util/buf.h"
#include "util/datetime.h"
#include "util/mem.h"

static void usage_kpis(FILE *f) {
    fprintf(f, "Usage: tend kpis [--db PATH] [--config tend.yaml] [--weeks N] [--at DATE]\n"
               "                 [--format table|csv|json]\n\n"
               "The KPI board (tend.yaml kpis:, at most 12): each KPI's weekly value for the\n"
               "team over the last N weeks (default 12, 4-52) to --at (default: the latest\n"
               "evaluation's day), and Pearson's r with churn in the next 4 weeks over\n"
               "owner-weeks (a correlation, not a cause).\n");
}

static const char *const cols[] = {"kpi", "title", "latest", "trend", "churn_r", "churn_pairs"};

/* The weekly values as a line of block characters, oldest first. */
static void trend_text(const struct kpi_series *k, int weeks, char *out, size_t size) {
    static const char *const blocks[] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
                                         "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
                                         "\xe2\x96\x87", "\xe2\x96\x88"};
    double lo = INFINITY, hi = -INFINITY;
    for (int w = 0; w < weeks; w++)
        if (k->has[w]) {
            lo = fmin(lo, k->team[w]);
            hi = fmax(hi, k->team[w]);
        }
    out[0] = '\0';
    for (int w = 0; w < weeks; w++) {
        const char *c = !k->has[w] ? "."
                        : hi > lo  ? blocks[(int)((k->team[w] - lo) / (hi - lo) * 7.0)]
                                   : blocks[3];
        strncat(out, c, size - strlen(out) - 1);
    }
}

int cmd_kpis(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"weeks", required_argument, NULL, 'w'},
        {"at", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL;
    long weeks = 12;
    int32_t at = 0;
    bool has_at = false;
    enum out_format format = OUT_TABLE;
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
        case 'w':
            weeks = strtol(optarg, &end, 10);
            if (*end || weeks < 4 || weeks > 52)
                return cli_usage_error("kpis", "--weeks must be a number from 4 to 52");
            break;
        case 't':
            if (!dt_parse_date(optarg, strlen(optarg), &at))
                return cli_usage_error("kpis", "--at must be a date YYYY-MM-DD, not \"%s\"",
                                       optarg);
            has_at = true;
            break;
        case 'f':
            if (cli_parse_format("kpis", optarg, &format))
                return EXIT_USAGE;
            break;
        case 'h':
            usage_kpis(stdout);
            return 0;
        default:
            usage_kpis(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("kpis", "unexpected argument \"%s\"", argv[optind]);
    struct tend_config *cfg = xcalloc(1, sizeof *cfg);
    int rc = cli_load_config("kpis", config, cfg);
    if (rc) {
        free(cfg);
        return rc;
    }
    struct kpi_config kc = cfg->kpis;
    char db_buf[CLI_DB_BYTES];
    snprintf(db_buf, sizeof db_buf, "%s", cli_db_pick(db, cfg));
    cli_free_config(cfg);
    free(cfg);
    struct store *st;
    if ((rc = cli_open_store(db_buf, &st)))
        return rc;
    if (!has_at && eval_action_day(st, &at)) {
        fprintf(stderr, "tend kpis: %s\n", store_last_error(st));
        store_close(st);
        return EXIT_USAGE;
    }
    struct kpi_board *b = xcalloc(1, sizeof *b);
    char err[PROCESS_ERR_BYTES];
    enum tend_err e = kpi_board_run(st, &kc, at - 7 * ((int32_t)weeks - 1), at, at, b, err);
    store_close(st);
    if (e) {
        fprintf(stderr, "tend kpis: %s\n", err);
        free(b);
        return EXIT_USAGE;
    }
    if (format == OUT_JSON) {
        cJSON *j = kpi_board_json(b);
        char *text = cJSON_Print(j);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(j);
        free(b);
        return 0;
    }
    struct out_table *t = out_new(cols, sizeof cols / sizeof cols[0]);
    for (int k = 0; k < b->n; k++) {
        const struct kpi_series *s = &b->v[k];
        double latest = NAN;
        for (int w = 0; w < b->weeks; w++)
            if (s->has[w])
                latest = s->team[w];
        char trend[4 * PROCESS_MAX_WEEKS + 1];
        trend_text(s, b->weeks, trend, sizeof trend);
        out_row(t);
        out_str(t, kpi_name(s->id));
        out_str(t, s->title);
        out_num(t, latest, !isnan(latest));
        out_str(t, trend);
        out_num(t, s->r, s->has_r);
        out_int(t, s->pairs);
    }
    out_print(t, format, stdout);
    out_free(t);
    free(b);
    return 0;
}

static void usage_report(FILE *f) {
    fprintf(f, "Usage: tend report monthly --month YYYY-MM --out FILE [--db PATH]\n"
               "                          [--config tend.yaml]\n\n"
               "Writes the monthly CS report (churned and kept ARR, revenue at risk, the KPIs,\n"
               "the churn-risk model's accuracy; NRR and GRR where the revenue outcomes give\n"
               "them) as one printable HTML file. tend serve shows it at /reports/monthly.\n");
}

int cmd_report(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},    {"config", required_argument, NULL, 'c'},
        {"month", required_argument, NULL, 'm'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *month = NULL, *path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'm':
            month = optarg;
            break;
        case 'o':
            path = optarg;
            break;
        case 'h':
            usage_report(stdout);
            return 0;
        default:
            usage_report(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc || strcmp(argv[optind], "monthly") != 0) {
        usage_report(stderr);
        return EXIT_USAGE;
    }
    if (optind + 1 < argc)
        return cli_usage_error("report", "unexpected argument \"%s\"", argv[optind + 1]);
    int32_t first, last;
    if (!month || !monthly_parse(month, &first, &last))
        return cli_usage_error("report", "--month must be YYYY-MM, not \"%s\"", month ? month : "");
    if (!path)
        return cli_usage_error("report", "monthly needs --out FILE");
    struct tend_config *cfg = xcalloc(1, sizeof *cfg);
    int rc = cli_load_config("report", config, cfg);
    if (rc) {
        free(cfg);
        return rc;
    }
    struct kpi_config kc = cfg->kpis;
    char db_buf[CLI_DB_BYTES];
    snprintf(db_buf, sizeof db_buf, "%s", cli_db_pick(db, cfg));
    cli_free_config(cfg);
    free(cfg);
    struct store *st;
    if ((rc = cli_open_store(db_buf, &st)))
        return rc;
    cJSON *view = NULL;
    char err[MONTHLY_ERR_BYTES];
    enum tend_err e = monthly_report(st, &kc, first, last, &view, err);
    store_close(st);
    if (e) {
        fprintf(stderr, "tend report: %s\n", err);
        return EXIT_USAGE;
    }
    struct buf page;
    buf_init(&page, 0);
    dash_monthly(&page, NULL, view);
    cJSON_Delete(view);
    /* One file: the stylesheet inside instead of the server's link. */
    const char *html = buf_str(&page),
               *link = "<link rel=\"stylesheet\" href=\"/static/tend.css\">";
    const char *at_link = strstr(html, link);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tend report: %s: cannot write\n", path);
        buf_free(&page);
        return EXIT_USAGE;
    }
    if (at_link) {
        fwrite(html, 1, (size_t)(at_link - html), f);
        fprintf(f, "<style>\n%s%s</style>", dash_css, dash_model_css);
        fputs(at_link + strlen(link), f);
    } else {
        fputs(html, f);
    }
    bool ok = fclose(f) == 0;
    buf_free(&page);
    if (!ok) {
        fprintf(stderr, "tend report: %s: cannot write\n", path);
        return EXIT_USAGE;
    }
    fprintf(stderr, "tend report: the %s report is in %s\n", month, path);
    return 0;
}
