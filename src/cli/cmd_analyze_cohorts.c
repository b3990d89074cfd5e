/* cmd_analyze_cohorts.c: tend analyze cohorts: the churn rate by decile of
 * each metric, as Carl Gold's cohort plots show it: does churn fall (or
 * rise) steadily from the lowest tenth of a metric to the highest, or only
 * at one end?
 *
 *   tend analyze cohorts [--db PATH] [--config tend.yaml] --lead DAYS
 *                        [--from DATE --to DATE] [--cohorts N] [--svg FILE]
 *                        [--format table|csv|json]
 *   tend analyze cohorts --table FILE.csv --outcome COLUMN [--columns A,B]
 *                        [--cohorts N] [--svg FILE] [--format ...]
 *
 * The rows are tend analyze --features metrics' (analysis/analyze.c: every
 * outcome with its metrics lead_days before); a metric unknown on a row is
 * left out of that metric's cohorts (not filled with the mean, which would
 * pile the unknowns into one cohort). The cohorts are stats/cohort.c's
 * (pandas qcut). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analyze.h"
#include "analysis/charts.h"
#include "cli/analyze_more.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "stats/cohort.h"
#include "stats/table.h"
#include "util/mem.h"

#define CMD "analyze cohorts"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend analyze cohorts [--db PATH] [--config tend.yaml] --lead DAYS\n"
            "                            [--from DATE --to DATE] [--cohorts N] [--svg FILE]\n"
            "                            [--format table|csv|json]\n"
            "       tend analyze cohorts --table FILE.csv --outcome COLUMN [--columns A,B]\n"
            "                            [--cohorts N] [--svg FILE] [--format ...]\n"
            "\n"
            "The churn rate by decile of each metric (as of DAYS before each Account\n"
            "Renewed or Account Churned), or of each column of a table. Cohorts are cut at\n"
            "the quantiles of the values, equal values always together (so a metric with\n"
            "many ties has fewer cohorts); a cohort of fewer than %d rows is flagged small.\n\n"
            "  --lead DAYS      how long before the outcome the metrics are taken (1-730)\n"
            "  --from, --to     outcomes on these days, inclusive (default: all of them)\n"
            "  --cohorts N      quantile cohorts per metric (default 10: deciles; 2-%d)\n"
            "  --svg FILE       write a bar chart per metric as SVG\n"
            "  --table FILE     cohorts of a CSV's numeric columns against --outcome (1/0)\n"
            "  --format FORMAT  table (default), csv or json\n",
            STATS_COHORT_MIN_ROWS, STATS_COHORT_MAX_Q);
}

struct metric_cohorts {
    const char *name;
    struct stats_cohorts co;
    bool done;
    char err[STATS_ERR_BYTES];
};

static void print(const struct metric_cohorts *m, size_t n, enum out_format format,
                  const char *outcome) {
    if (format == OUT_JSON) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "outcome", outcome);
        cJSON_AddNumberToObject(o, "min_rows", STATS_COHORT_MIN_ROWS);
        cJSON *a = cJSON_AddArrayToObject(o, "metrics");
        for (size_t i = 0; i < n; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", m[i].name);
            if (!m[i].done) {
                cJSON_AddStringToObject(e, "error", m[i].err);
                cJSON_AddItemToArray(a, e);
                continue;
            }
            cJSON_AddNumberToObject(e, "n", (double)m[i].co.n);
            cJSON_AddNumberToObject(e, "events", (double)m[i].co.events);
            cJSON_AddItemToObject(e, "rate", out_json_number(m[i].co.rate));
            cJSON *cs = cJSON_AddArrayToObject(e, "cohorts");
            for (size_t c = 0; c < m[i].co.n_cohorts; c++) {
                const struct stats_cohort *k = &m[i].co.c[c];
                cJSON *j = cJSON_CreateObject();
                cJSON_AddNumberToObject(j, "lo", k->lo);
                cJSON_AddNumberToObject(j, "hi", k->hi);
                cJSON_AddItemToObject(j, "min", out_json_number(k->min));
                cJSON_AddItemToObject(j, "max", out_json_number(k->max));
                cJSON_AddItemToObject(j, "mean", out_json_number(k->mean));
                cJSON_AddNumberToObject(j, "n", (double)k->n);
                cJSON_AddNumberToObject(j, "events", (double)k->events);
                cJSON_AddItemToObject(j, "rate", out_json_number(k->rate));
                cJSON_AddBoolToObject(j, "small", k->small);
                cJSON_AddItemToArray(cs, j);
            }
            cJSON_AddItemToArray(a, e);
        }
        char *s = cJSON_Print(o);
        puts(s);
        free(s);
        cJSON_Delete(o);
        return;
    }
    static const char *const cols[] = {"metric", "cohort", "from", "to",   "n",
                                       "events", "rate",   "mean", "small"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    size_t small = 0;
    for (size_t i = 0; i < n; i++) {
        if (!m[i].done)
            continue;
        for (size_t c = 0; c < m[i].co.n_cohorts; c++) {
            const struct stats_cohort *k = &m[i].co.c[c];
            out_row(t);
            out_str(t, m[i].name);
            out_int(t, (int64_t)c + 1);
            out_num(t, k->min, isfinite(k->min));
            out_num(t, k->max, isfinite(k->max));
            out_int(t, (int64_t)k->n);
            out_int(t, (int64_t)k->events);
            out_num(t, round(k->rate * 10000) / 10000, isfinite(k->rate));
            out_num(t, round(k->mean * 10000) / 10000, isfinite(k->mean));
            out_str(t, k->small ? "small" : NULL);
            small += k->small;
        }
    }
    out_print(t, format, stdout);
    out_free(t);
    if (format != OUT_TABLE)
        return;
    for (size_t i = 0; i < n; i++)
        if (!m[i].done)
            printf("%s: no cohorts: %s\n", m[i].name, m[i].err);
    printf("\nrate: the share of the cohort with %s = 1; from/to: the values in the cohort.\n",
           outcome);
    if (small)
        printf("%zu cohorts have fewer than %d rows (small): their rates are too noisy to "
               "read.\n",
               small, STATS_COHORT_MIN_ROWS);
}

static int finish(struct metric_cohorts *m, size_t n, enum out_format format, const char *outcome,
                  const char *svg, const char *title) {
    print(m, n, format, outcome);
    int rc = 0;
    if (svg) {
        struct chart_cohorts *c = xcalloc(n ? n : 1, sizeof *c);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (m[i].done)
                c[k++] = (struct chart_cohorts){m[i].name, &m[i].co};
        struct buf b;
        buf_init(&b, 0);
        chart_cohorts_svg(&b, title, outcome, c, k);
        rc = cli_write_text(CMD, svg, buf_str(&b));
        buf_free(&b);
        free(c);
    }
    for (size_t i = 0; i < n; i++)
        if (m[i].done)
            stats_cohorts_free(&m[i].co);
    return rc;
}

static int from_table(const char *path, const char *outcome, const char *columns, int q,
                      enum out_format format, const char *svg) {
    char err[STATS_ERR_BYTES];
    const char **cols = NULL;
    size_t n_cols = 0;
    char *copy = NULL;
    if (columns) {
        copy = xstrdup(columns);
        cols = xcalloc(strlen(columns) + 1, sizeof *cols);
        for (char *save = NULL, *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
            cols[n_cols++] = p;
    }
    struct stats_table t;
    enum tend_err e = stats_table_load(path, outcome, cols, n_cols, &t, err);
    free(cols);
    free(copy);
    if (e) {
        fprintf(stderr, "tend " CMD ": %s\n", err);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < t.n_notes; i++)
        fprintf(stderr, "tend " CMD ": %s\n", t.notes[i]);
    struct metric_cohorts *m = xcalloc(t.k ? t.k : 1, sizeof *m);
    double *x = xmalloc((t.n ? t.n : 1) * sizeof *x);
    for (size_t j = 0; j < t.k; j++) {
        m[j].name = t.names[j];
        for (size_t i = 0; i < t.n; i++)
            x[i] = t.x[i * t.k + j];
        m[j].done = !stats_cohorts_fit(x, t.y, t.n, q, &m[j].co, m[j].err);
    }
    free(x);
    char title[300];
    snprintf(title, sizeof title, "%s rate by cohort: %s", outcome, path);
    int rc = finish(m, t.k, format, outcome, svg, title);
    free(m);
    stats_table_free(&t);
    return rc;
}

static int from_store(const char *db, const char *config, struct analysis_options *o, int q,
                      enum out_format format, const char *svg) {
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
    o->hc = &cfg.health;
    o->features = AF_METRICS;
    struct analysis_result r;
    char err[STATS_ERR_BYTES];
    if (analysis_run(st, o, &r, err)) {
        fprintf(stderr, "tend " CMD ": %s\n", err);
        analysis_result_free(&r);
        store_close(st);
        cli_free_config(&cfg);
        return EXIT_USAGE;
    }
    size_t k = r.n_features, n = r.n_rows;
    struct metric_cohorts *m = xcalloc(k, sizeof *m);
    double *x = xmalloc((n ? n : 1) * sizeof *x), *y = xmalloc((n ? n : 1) * sizeof *y);
    for (size_t j = 0; j < k; j++) {
        size_t used = 0;
        for (size_t i = 0; i < n; i++)
            if (r.rows[i].known[j]) {
                x[used] = r.rows[i].x[j];
                y[used++] = r.rows[i].churned;
            }
        m[j].name = r.names[j];
        m[j].done = !stats_cohorts_fit(x, y, used, q, &m[j].co, m[j].err);
        if (!m[j].done && used == 0)
            snprintf(m[j].err, sizeof m[j].err, "unknown on every row");
    }
    free(x);
    free(y);
    if (format == OUT_TABLE)
        printf("%zu outcomes (%zu churned); metrics as of %d days before each.\n\n", n,
               r.fit.n_events, o->lead_days);
    char title[200];
    snprintf(title, sizeof title, "Churn rate by cohort of each metric, %d days before the outcome",
             o->lead_days);
    rc = finish(m, k, format, "churn", svg, title);
    free(m);
    analysis_result_free(&r);
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}

int cmd_analyze_cohorts(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"lead", required_argument, NULL, 'l'},
        {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},
        {"cohorts", required_argument, NULL, 'q'},
        {"svg", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"table", required_argument, NULL, 't'},
        {"outcome", required_argument, NULL, 'o'},
        {"columns", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *svg = NULL, *table = NULL, *outcome = NULL,
               *columns = NULL;
    struct analysis_options o = {.lead_days = -1};
    struct cli_days days;
    cli_days_init(&days);
    int q = 10;
    enum out_format format = OUT_TABLE;
    char *end;
    int c;
    optind = 0; /* glibc: start afresh at argv[1] (argv[0] is "cohorts") */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'l':
            if (cli_parse_days_count(CMD, "lead", optarg, &o.lead_days))
                return EXIT_USAGE;
            break;
        case 'F':
        case 'T':
            if (cli_days_option(CMD, c == 'F' ? "from" : "to", optarg, &days))
                return EXIT_USAGE;
            break;
        case 'q': {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 2 || v > STATS_COHORT_MAX_Q)
                return cli_usage_error(CMD, "--cohorts \"%s\": give 2 to %d", optarg,
                                       STATS_COHORT_MAX_Q);
            q = (int)v;
            break;
        }
        case 's':
            svg = optarg;
            break;
        case 'f':
            if (cli_parse_format(CMD, optarg, &format))
                return EXIT_USAGE;
            break;
        case 't':
            table = optarg;
            break;
        case 'o':
            outcome = optarg;
            break;
        case 'C':
            columns = optarg;
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
        return cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (table) {
        if (!outcome)
            return cli_usage_error(CMD, "--table needs --outcome COLUMN");
        if (db || config || o.lead_days >= 0 || days.has_from || days.has_to)
            return cli_usage_error(CMD, "--table takes no --db, --config, --lead, --from or --to");
        return from_table(table, outcome, columns, q, format, svg);
    }
    if (outcome || columns)
        return cli_usage_error(CMD, "--outcome and --columns go with --table");
    if (o.lead_days < 0)
        return cli_usage_error(CMD, "give --lead DAYS (or --table FILE.csv)");
    if (days.has_from != days.has_to) {
        if (!days.has_from)
            days.from = 0;
        if (!days.has_to)
            days.to = days.at;
        days.has_from = days.has_to = true;
    }
    int32_t first = 0, last = days.at;
    if (days.has_from && cli_days_range(CMD, &days, &first, &last))
        return EXIT_USAGE;
    o.from = first;
    o.to = last;
    return from_store(db, config, &o, q, format, svg);
}
