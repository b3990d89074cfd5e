/* cmd_analyze_survival.c: tend analyze survival: how long accounts stay, by
 * health band, segment and plan, and what raises the hazard of churn.
 *
 *   tend analyze survival [--db PATH] [--config tend.yaml] [--landmark DATE]
 *                         [--at DATE] [--by band|segment|plan] [--svg FILE]
 *                         [--export FILE.csv] [--format table|csv|json]
 *                         [--html FILE]
 *   tend analyze survival --table FILE.csv --time COLUMN --event COLUMN
 *                         [--columns A,B,...] [--svg FILE] [--format ...]
 *
 * The store's cohort and its curves are analysis/survival.c's; a table's are
 * fitted here with stats/survival.h directly (the oracle's path:
 * tests/integration/survival_oracle.sh). This file reads options and prints;
 * the store's analysis also keeps its HTML report (server/report_survival.c)
 * in the database, as tend analyze retention does. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/charts.h"
#include "analysis/survival.h"
#include "cli/analyze_more.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "server/report_survival.h"
#include "stats/table.h"
#include "util/datetime.h"
#include "util/mem.h"

#define CMD "analyze survival"
/* The days the table shows each curve at. */
static const int checkpoints[] = {30, 90, 180, 365};
#define N_CHECKPOINTS (sizeof checkpoints / sizeof *checkpoints)
/* Without --landmark, accounts are followed for this long. */
#define DEFAULT_FOLLOW_DAYS 180

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend analyze survival [--db PATH] [--config tend.yaml] [--landmark DATE]\n"
            "                             [--at DATE] [--by band|segment|plan] [--svg FILE]\n"
            "                             [--export FILE.csv] [--format table|csv|json]\n"
            "                             [--html FILE]\n"
            "       tend analyze survival --table FILE.csv --time COLUMN --event COLUMN\n"
            "                             [--columns A,B,...] [--svg FILE] [--format ...]\n"
            "\n"
            "How long accounts stay. Every account that is a customer (with %d days of\n"
            "history) at the end of the landmark day is followed to its first churn after\n"
            "it, or to --at; Kaplan-Meier curves of the share not yet churned by health band,\n"
            "segment and plan as of the landmark, with 95%% bands (Greenwood), and a Cox\n"
            "proportional-hazards fit of churn on the metrics then and the account's\n"
            "tenure (Efron ties): hazard ratios, standard errors, p-values.\n\n"
            "  --landmark DATE  the day covariates are taken and time starts (default: %d\n"
            "                   days before --at)\n"
            "  --at DATE        the analysis date: accounts still there are censored then\n"
            "                   (default today)\n"
            "  --by WHAT        the curves the table and chart show: band (default), segment\n"
            "                   or plan (JSON has all three)\n"
            "  --svg FILE       write the curves as an SVG chart\n"
            "  --export FILE    write the cohort (times, events, groups, covariates) as CSV\n"
            "  --table FILE     curves and Cox fit of any CSV: --time the time column,\n"
            "                   --event 1/0 (1 the event, 0 censored), --columns the\n"
            "                   covariates (default: every other column)\n"
            "  --format FORMAT  table (default), csv (the curve points) or json\n"
            "  --html FILE      also write the report as a standalone HTML page\n"
            "\n"
            "On the store (not --table), the report (curves by --by, medians, the Cox\n"
            "table) is kept in the database; tend serve shows it under /reports.\n",
            ANALYSIS_MIN_HISTORY_DAYS, DEFAULT_FOLLOW_DAYS);
}

/* ---- printing --------------------------------------------------------------- */

static cJSON *km_json(const struct stats_km *km) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)km->n);
    cJSON_AddNumberToObject(o, "events", (double)km->n_events);
    cJSON_AddItemToObject(o, "median", out_json_number(km->median));
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (size_t i = 0; i < km->n_points; i++) {
        const struct stats_km_point *p = &km->pt[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "time", p->time);
        cJSON_AddNumberToObject(e, "at_risk", (double)p->at_risk);
        cJSON_AddNumberToObject(e, "events", (double)p->events);
        cJSON_AddItemToObject(e, "surv", out_json_number(p->surv));
        cJSON_AddItemToObject(e, "se", out_json_number(p->se));
        cJSON_AddItemToObject(e, "ci_low", out_json_number(p->ci_low));
        cJSON_AddItemToObject(e, "ci_high", out_json_number(p->ci_high));
        cJSON_AddItemToArray(pts, e);
    }
    return o;
}

static cJSON *cox_json(const struct stats_cox *c) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", (double)c->n);
    cJSON_AddNumberToObject(o, "events", (double)c->n_events);
    cJSON_AddStringToObject(o, "ties", "efron");
    cJSON_AddNumberToObject(o, "log_lik", c->log_lik);
    cJSON_AddNumberToObject(o, "null_log_lik", c->null_log_lik);
    cJSON_AddNumberToObject(o, "iterations", c->iterations);
    cJSON *a = cJSON_AddArrayToObject(o, "coefficients");
    for (size_t j = 0; j < c->k; j++) {
        const struct stats_cox_coef *k = &c->coefs[j];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", k->name);
        cJSON_AddItemToObject(e, "coef", out_json_number(k->coef));
        cJSON_AddItemToObject(e, "se", out_json_number(k->se));
        cJSON_AddItemToObject(e, "z", out_json_number(k->z));
        cJSON_AddItemToObject(e, "p", out_json_number(k->p));
        cJSON_AddItemToObject(e, "hazard_ratio", out_json_number(k->hazard_ratio));
        cJSON_AddItemToObject(e, "hr_low", out_json_number(k->hr_low));
        cJSON_AddItemToObject(e, "hr_high", out_json_number(k->hr_high));
        cJSON_AddItemToObject(e, "hr_per_sd", out_json_number(exp(k->coef * k->std_dev)));
        cJSON_AddNumberToObject(e, "mean", k->mean);
        cJSON_AddNumberToObject(e, "std_dev", k->std_dev);
        cJSON_AddItemToArray(a, e);
    }
    return o;
}

static void print_json(cJSON *o) {
    char *s = cJSON_Print(o);
    puts(s);
    free(s);
}

/* The curves at the checkpoints: share left (95% band), at risk. */
static void print_curves(const struct chart_curve *c, size_t n, double max_days) {
    static const char *const cols[] = {"group", "accounts", "churned", "median_days",
                                       "30d",   "90d",      "180d",    "365d"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    for (size_t i = 0; i < n; i++) {
        const struct stats_km *km = c[i].km;
        out_row(t);
        out_str(t, c[i].name);
        out_int(t, (int64_t)km->n);
        out_int(t, (int64_t)km->n_events);
        out_num(t, km->median, isfinite(km->median));
        for (size_t j = 0; j < N_CHECKPOINTS; j++) {
            if (checkpoints[j] > max_days) {
                out_str(t, NULL);
                continue;
            }
            /* The point in force at the checkpoint. */
            const struct stats_km_point *p = NULL;
            for (size_t q = 0; q < km->n_points && km->pt[q].time <= checkpoints[j]; q++)
                p = &km->pt[q];
            char b[64];
            if (!p)
                snprintf(b, sizeof b, "100%%");
            else if (isfinite(p->ci_low))
                snprintf(b, sizeof b, "%.1f%% [%.1f, %.1f]", 100 * p->surv, 100 * p->ci_low,
                         100 * p->ci_high);
            else
                snprintf(b, sizeof b, "%.1f%%", 100 * p->surv);
            out_str(t, b);
        }
    }
    out_print(t, OUT_TABLE, stdout);
    out_free(t);
}

static void print_cox(const struct stats_cox *c) {
    printf("\nCox proportional hazards (Efron ties), %zu accounts, %zu churned; a hazard ratio "
           "above 1 churns sooner; * p < 0.05:\n",
           c->n, c->n_events);
    static const char *const cols[] = {"factor", "coef",      "se",         "z",         "p",
                                       "hr",     "hr_95_low", "hr_95_high", "hr_per_sd", "sig"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    for (size_t j = 0; j < c->k; j++) {
        const struct stats_cox_coef *k = &c->coefs[j];
        out_row(t);
        out_str(t, k->name);
        out_num(t, k->coef, true);
        out_num(t, k->se, true);
        out_num(t, round(k->z * 100) / 100, true);
        out_num(t, k->p, true);
        out_num(t, k->hazard_ratio, true);
        out_num(t, k->hr_low, true);
        out_num(t, k->hr_high, true);
        out_num(t, exp(k->coef * k->std_dev), true);
        out_str(t, k->p < 0.05 ? "*" : NULL);
    }
    out_print(t, OUT_TABLE, stdout);
    out_free(t);
    if (c->n_events < 10 * c->k)
        printf("Caution: %zu churns for %zu factors, fewer than 10 per factor: the estimates "
               "are unstable and the intervals wide; follow more accounts for longer (an "
               "earlier --landmark) or read only the strongest ratios.\n",
               c->n_events, c->k);
}

/* Every point of the curves as CSV. */
static void print_points_csv(const struct chart_curve *c, size_t n) {
    static const char *const cols[] = {"group", "time",   "at_risk", "events",
                                       "surv",  "ci_low", "ci_high"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof *cols);
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < c[i].km->n_points; p++) {
            const struct stats_km_point *q = &c[i].km->pt[p];
            out_row(t);
            out_str(t, c[i].name);
            out_num(t, q->time, true);
            out_int(t, (int64_t)q->at_risk);
            out_int(t, (int64_t)q->events);
            out_num(t, q->surv, true);
            out_num(t, q->ci_low, isfinite(q->ci_low));
            out_num(t, q->ci_high, isfinite(q->ci_high));
        }
    out_print(t, OUT_CSV, stdout);
    out_free(t);
}

static int write_svg(const char *path, const char *title, const char *origin,
                     const struct chart_curve *c, size_t n, double max_days) {
    struct buf b;
    buf_init(&b, 0);
    chart_km_svg(&b, title, origin, c, n, max_days);
    int rc = cli_write_text(CMD, path, buf_str(&b));
    buf_free(&b);
    return rc;
}

/* ---- a table ------------------------------------------------------------------ */

static int from_table(const char *path, const char *time_col, const char *event_col,
                      const char *columns, enum out_format format, const char *svg) {
    char err[STATS_ERR_BYTES];
    const char **cols = NULL;
    size_t n_cols = 0;
    char *copy = NULL;
    if (columns) {
        copy = xstrdup(columns);
        cols = xcalloc(strlen(columns) + 2, sizeof *cols);
        cols[n_cols++] = time_col;
        for (char *save = NULL, *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
            cols[n_cols++] = p;
    }
    struct stats_table t;
    enum tend_err e = stats_table_load(path, event_col, cols, n_cols, &t, err);
    free(cols);
    free(copy);
    if (e) {
        fprintf(stderr, "tend " CMD ": %s\n", err);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < t.n_notes; i++)
        fprintf(stderr, "tend " CMD ": %s\n", t.notes[i]);
    size_t ti = 0;
    while (ti < t.k && strcmp(t.names[ti], time_col) != 0)
        ti++;
    int rc = 0;
    if (ti == t.k) {
        struct buf list;
        buf_init(&list, 0);
        for (size_t j = 0; j < t.k; j++)
            buf_printf(&list, "%s%s", j ? ", " : "", t.names[j]);
        rc = cli_usage_error(CMD,
                             "%s: --time %s: no numeric column of that name; the numeric "
                             "columns are: %s",
                             path, time_col, buf_str(&list));
        buf_free(&list);
        stats_table_free(&t);
        return rc;
    }
    size_t k = t.k - 1, n = t.n;
    double *time = xmalloc((n ? n : 1) * sizeof *time), *x = xmalloc((n * k + 1) * sizeof *x);
    bool *ev = xmalloc((n ? n : 1) * sizeof *ev);
    const char **names = xcalloc(k ? k : 1, sizeof *names);
    for (size_t j = 0, c = 0; j < t.k; j++)
        if (j != ti)
            names[c++] = t.names[j];
    for (size_t i = 0; i < n; i++) {
        time[i] = t.x[i * t.k + ti];
        ev[i] = t.y[i] == 1;
        for (size_t j = 0, c = 0; j < t.k; j++)
            if (j != ti)
                x[i * k + c++] = t.x[i * t.k + j];
    }
    struct stats_km km = {0};
    struct stats_cox cox = {0};
    bool has_cox = false;
    if (stats_km_fit(time, ev, n, &km, err)) {
        fprintf(stderr, "tend " CMD ": %s: %s\n", path, err);
        rc = EXIT_USAGE;
        goto cleanup;
    }
    if (k) {
        has_cox = !stats_cox_fit(time, ev, x, n, k, names, &cox, err);
        if (!has_cox) {
            fprintf(stderr, "tend " CMD ": %s: the Cox fit: %s\n", path, err);
            rc = EXIT_USAGE;
            goto cleanup;
        }
    }
    double max_time = 0;
    for (size_t i = 0; i < n; i++)
        max_time = fmax(max_time, time[i]);
    struct chart_curve curve = {"all", &km};
    if (format == OUT_JSON) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "km", km_json(&km));
        if (has_cox)
            cJSON_AddItemToObject(o, "cox", cox_json(&cox));
        print_json(o);
        cJSON_Delete(o);
    } else if (format == OUT_CSV) {
        print_points_csv(&curve, 1);
    } else {
        print_curves(&curve, 1, max_time);
        if (has_cox)
            print_cox(&cox);
    }
    if (svg) {
        char title[300];
        snprintf(title, sizeof title, "Survival: %s", path);
        char origin[200];
        snprintf(origin, sizeof origin, "the start (%s)", time_col);
        rc = write_svg(svg, title, origin, &curve, 1, max_time);
    }
cleanup:
    stats_km_free(&km);
    if (has_cox)
        stats_cox_free(&cox);
    free(time);
    free(x);
    free(ev);
    free(names);
    stats_table_free(&t);
    return rc;
}

/* ---- the store ------------------------------------------------------------------ */

static int from_store(const char *db, const char *config, int32_t landmark, int32_t at,
                      enum survival_by by, enum out_format format, const char *svg,
                      const char *export, const char *html) {
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
    struct survival_options o = {.landmark = landmark, .end = at, .hc = &cfg.health};
    struct survival_result r;
    char err[STATS_ERR_BYTES];
    if (survival_run(st, &o, &r, err)) {
        fprintf(stderr, "tend " CMD ": %s\n", err);
        store_close(st);
        cli_free_config(&cfg);
        return EXIT_USAGE;
    }
    char from[16], to[16];
    dt_format_date(landmark, from);
    dt_format_date(at, to);
    double max_days = at - landmark;
    size_t nc = r.n_curves[by];
    struct chart_curve *c = xcalloc(nc ? nc : 1, sizeof *c);
    for (size_t i = 0; i < nc; i++)
        c[i] = (struct chart_curve){r.curves[by][i].name, &r.curves[by][i].km};
    if (format == OUT_JSON) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "landmark", from);
        cJSON_AddStringToObject(j, "at", to);
        cJSON_AddNumberToObject(j, "accounts", (double)r.n_rows);
        cJSON_AddNumberToObject(j, "churned", (double)r.n_churned);
        cJSON *left = cJSON_AddObjectToObject(j, "left_out");
        cJSON_AddNumberToObject(left, "not_a_customer", (double)r.not_customer);
        cJSON_AddNumberToObject(left, "short_history", (double)r.short_history);
        cJSON_AddItemToObject(j, "all", km_json(&r.all));
        for (int b = 0; b < SURV_BY_COUNT; b++) {
            cJSON *g = cJSON_AddObjectToObject(j, survival_by_name((enum survival_by)b));
            for (size_t i = 0; i < r.n_curves[b]; i++)
                cJSON_AddItemToObject(g, r.curves[b][i].name, km_json(&r.curves[b][i].km));
        }
        if (r.has_cox)
            cJSON_AddItemToObject(j, "cox", cox_json(&r.cox));
        else
            cJSON_AddStringToObject(j, "cox_error", r.cox_error);
        cJSON *lo = cJSON_AddArrayToObject(j, "cox_left_out");
        for (size_t i = 0; i < r.n_left_out; i++)
            cJSON_AddItemToArray(lo, cJSON_CreateString(r.left_out[i]));
        cJSON *miss = cJSON_AddObjectToObject(j, "missing");
        for (size_t i = 0; i < r.n_columns; i++)
            cJSON_AddNumberToObject(miss, r.names[i], (double)r.missing[i]);
        print_json(j);
        cJSON_Delete(j);
    } else if (format == OUT_CSV) {
        print_points_csv(c, nc);
    } else {
        printf("%zu accounts were customers on %s (the landmark) and are followed to %s: %zu "
               "churned.\n",
               r.n_rows, from, to, r.n_churned);
        if (r.not_customer + r.short_history)
            printf("Left out: %zu no longer customers then, %zu with less than %d days of "
                   "history.\n",
                   r.not_customer, r.short_history, ANALYSIS_MIN_HISTORY_DAYS);
        printf("Share not yet churned by %s (as of the landmark), days after it, 95%% band:\n\n",
               survival_by_name(by));
        print_curves(c, nc, max_days);
        if (r.has_cox)
            print_cox(&r.cox);
        else
            printf("\nNo Cox fit: %s.\n", r.cox_error);
        if (r.n_left_out) {
            printf("Left out of the fit (constant over the cohort):");
            for (size_t i = 0; i < r.n_left_out; i++)
                printf("%s %s", i ? "," : "", r.left_out[i]);
            printf("\n");
        }
    }
    rc = 0;
    if (export && survival_export(&r, export, err)) {
        fprintf(stderr, "tend " CMD ": %s\n", err);
        rc = EXIT_USAGE;
    }
    if (!rc && svg) {
        char title[200], origin[64];
        snprintf(title, sizeof title, "Accounts not yet churned by %s on %s", survival_by_name(by),
                 from);
        snprintf(origin, sizeof origin, "%s (the landmark)", from);
        rc = write_svg(svg, title, origin, c, nc, max_days);
    }
    if (!rc) {
        struct buf body;
        buf_init(&body, 0);
        survival_report(&body, &r, by);
        char title[200], summary[256];
        survival_report_title(&r, by, title, sizeof title, summary, sizeof summary);
        rc = cli_save_report(st, CMD, "analyze", title, summary, buf_str(&body), html);
        buf_free(&body);
    }
    free(c);
    survival_result_free(&r);
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}

int cmd_analyze_survival(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"landmark", required_argument, NULL, 'L'},
        {"at", required_argument, NULL, 'a'},
        {"by", required_argument, NULL, 'b'},
        {"svg", required_argument, NULL, 's'},
        {"export", required_argument, NULL, 'x'},
        {"format", required_argument, NULL, 'f'},
        {"table", required_argument, NULL, 't'},
        {"time", required_argument, NULL, 'T'},
        {"event", required_argument, NULL, 'e'},
        {"columns", required_argument, NULL, 'C'},
        {"html", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *svg = NULL, *export = NULL, *table = NULL;
    const char *html = NULL;
    const char *time_col = NULL, *event_col = NULL, *columns = NULL;
    enum survival_by by = SURV_BY_BAND;
    enum out_format format = OUT_TABLE;
    struct cli_days days;
    cli_days_init(&days);
    int32_t landmark = 0;
    bool has_landmark = false;
    int c;
    optind = 0; /* glibc: start afresh at argv[1] (argv[0] is "survival") */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'L':
            if (!dt_parse_date(optarg, strlen(optarg), &landmark))
                return cli_usage_error(CMD, "--landmark must be a date YYYY-MM-DD, not \"%s\"",
                                       optarg);
            has_landmark = true;
            break;
        case 'a':
            if (cli_days_option(CMD, "at", optarg, &days))
                return EXIT_USAGE;
            break;
        case 'b': {
            int b = 0;
            while (b < SURV_BY_COUNT && strcmp(optarg, survival_by_name((enum survival_by)b)))
                b++;
            if (b == SURV_BY_COUNT)
                return cli_usage_error(CMD, "--by must be band, segment or plan, not \"%s\"",
                                       optarg);
            by = (enum survival_by)b;
            break;
        }
        case 's':
            svg = optarg;
            break;
        case 'x':
            export = optarg;
            break;
        case 'f':
            if (cli_parse_format(CMD, optarg, &format))
                return EXIT_USAGE;
            break;
        case 't':
            table = optarg;
            break;
        case 'T':
            time_col = optarg;
            break;
        case 'e':
            event_col = optarg;
            break;
        case 'C':
            columns = optarg;
            break;
        case 'H':
            html = optarg;
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
        if (!time_col || !event_col)
            return cli_usage_error(CMD, "--table needs --time COLUMN and --event COLUMN");
        if (db || config || has_landmark || export || html)
            return cli_usage_error(
                CMD, "--table takes no --db, --config, --landmark, --export or --html");
        return from_table(table, time_col, event_col, columns, format, svg);
    }
    if (time_col || event_col || columns)
        return cli_usage_error(CMD, "--time, --event and --columns go with --table");
    if (!has_landmark)
        landmark = days.at - DEFAULT_FOLLOW_DAYS;
    if (landmark >= days.at)
        return cli_usage_error(CMD, "--landmark must be before --at");
    return from_store(db, config, landmark, days.at, by, format, svg, export, html);
}
