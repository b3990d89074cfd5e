/* cmd_analyze_table.c: tend analyze --table: which factors of a CSV table
 * covary with churn, by logistic regression.
 *
 *   tend analyze --table FILE.csv --outcome COLUMN [--columns A,B,...]
 *                [--l2 C] [--format table|csv|json]
 *   tend analyze --table FILE.csv --outcome COLUMN --calibrate platt|isotonic
 *                --score COLUMN [--calibrate-on N]
 *
 * The table is read by stats/table.c (numeric columns as they are, text
 * columns one-hot against their most frequent value, rows with blanks
 * dropped) and fitted by stats/logit.c on the columns' own scale. With --l2
 * the columns are first standardised (stats/transform.c: training mean and
 * sample sd) and fitted by stats/ridge.c with scikit-learn's penalty C, the
 * coefficients then per standard deviation: this is the path the
 * scikit-learn oracle (tests/integration/ridge_oracle.sh) holds the risk
 * model's fit to. --calibrate fits Platt scaling or isotonic regression of
 * the outcome on one score column (on the first N rows with --calibrate-on)
 * and prints every row's calibrated value as CSV: the oracle's path to
 * statsmodels and scikit-learn for the calibrations. What was
 * skipped, dropped or used as a reference goes to stderr as "tend analyze:"
 * lines, so stdout holds only the result. This is an analysis of a table a
 * user hands over; it never touches the store (cmd_analyze.c analyses the
 * store's own history and hands over here when --table is given). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/analyze_more.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "server/report.h"
#include "stats/logit.h"
#include "stats/ridge.h"
#include "stats/table.h"
#include "stats/transform.h"
#include "util/buf.h"
#include "util/mem.h"

#define CMD "analyze"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend analyze --table FILE.csv --outcome COLUMN [--columns A,B,...]\n"
            "                    [--l2 C] [--format table|csv|json] [--html FILE] [--db PATH]\n"
            "       tend analyze --table FILE.csv --outcome COLUMN --calibrate platt|isotonic\n"
            "                    --score COLUMN [--calibrate-on N]\n"
            "\n"
            "Fits a logistic regression of the outcome on the table's other columns and\n"
            "prints each factor's coefficient (log odds per unit), standard error, z,\n"
            "p-value, 95%% interval and odds ratio, and the in-sample AUC.\n\n"
            "  --table FILE.csv  a header row, then one row per customer (quoted fields\n"
            "                    allowed); numeric columns are used as they are, text\n"
            "                    columns one-hot against their most frequent value; id\n"
            "                    columns and text with over %d values are skipped; rows\n"
            "                    with a blank in a used column are dropped\n"
            "  --outcome COLUMN  1/0, yes/no, true/false or churned/renewed\n"
            "  --columns A,B     only these factors, in this order (default: all)\n"
            "  --l2 C            an L2-penalised fit (scikit-learn's C: the smaller, the\n"
            "                    stronger the penalty) on the columns standardised to mean\n"
            "                    0 and sd 1; coefficients per standard deviation\n"
            "  --calibrate KIND  platt or isotonic: calibrate the --score column against\n"
            "                    the outcome and print score,outcome,calibrated per row\n"
            "  --calibrate-on N  fit the calibration on the first N rows only (default all)\n"
            "  --format FORMAT   table (default), csv or json\n"
            "  --html FILE       also write a report (coefficient plot, ROC curve) there\n"
            "  --db PATH         also keep the report in this database (tend serve's\n"
            "                    /reports)\n",
            STATS_TABLE_MAX_LEVELS);
}

/* Splits the comma-separated list s into *names (malloced array of malloced
 * strings, trimmed); a usage error for an empty name. */
static int split_columns(const char *s, char ***names, size_t *n) {
    char **v = NULL;
    size_t count = 0;
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (!len) {
            for (size_t i = 0; i < count; i++)
                free(v[i]);
            free(v);
            return cli_usage_error(CMD, "--columns has an empty name in \"%s\"", s);
        }
        v = xrealloc(v, (count + 1) * sizeof *v);
        v[count++] = xstrndup(p, len);
        if (!end)
            break;
        p = end + 1;
    }
    *names = v;
    *n = count;
    return 0;
}

/* ---- printing ------------------------------------------------------------- */

/* l2: the penalty C of a penalised fit (coefficients per sd), NaN for none. */
static void print_json(const struct stats_table *t, const struct stats_fit *f, double auc,
                       const char *outcome, double l2) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "outcome", outcome);
    if (!isnan(l2)) {
        cJSON_AddNumberToObject(o, "l2", l2);
        cJSON_AddStringToObject(o, "scale", "per_sd");
    }
    cJSON_AddNumberToObject(o, "n", (double)f->n);
    cJSON_AddNumberToObject(o, "n_events", (double)f->n_events);
    cJSON_AddNumberToObject(o, "rows_read", (double)t->rows_read);
    cJSON_AddNumberToObject(o, "rows_dropped", (double)t->rows_dropped);
    cJSON *dropped = cJSON_AddArrayToObject(o, "dropped");
    for (size_t i = 0; i < t->n_skipped; i++)
        cJSON_AddItemToArray(dropped, cJSON_CreateString(t->skipped[i]));
    for (size_t i = 0; i < f->n_dropped; i++)
        cJSON_AddItemToArray(dropped, cJSON_CreateString(f->dropped[i].name));
    cJSON *coefs = cJSON_AddArrayToObject(o, "coefficients");
    for (size_t i = 0; i < f->n_coefs; i++) {
        const struct stats_coef *c = &f->coefs[i];
        cJSON *cj = cJSON_CreateObject();
        cJSON_AddStringToObject(cj, "name", c->name);
        cJSON_AddNumberToObject(cj, "coef", c->coef);
        cJSON_AddNumberToObject(cj, "se", c->se);
        cJSON_AddNumberToObject(cj, "z", c->z);
        cJSON_AddNumberToObject(cj, "p", c->p);
        cJSON_AddNumberToObject(cj, "ci_low", c->ci_low);
        cJSON_AddNumberToObject(cj, "ci_high", c->ci_high);
        cJSON_AddNumberToObject(cj, "odds_ratio", c->odds_ratio);
        cJSON_AddItemToArray(coefs, cj);
    }
    cJSON_AddNumberToObject(o, "auc", auc);
    cJSON_AddNumberToObject(o, "log_lik", f->log_lik);
    cJSON_AddNumberToObject(o, "null_log_lik", f->null_log_lik);
    cJSON_AddNumberToObject(o, "iterations", f->iterations);
    cJSON_AddItemToObject(o, "strength", cli_strength_json(f));
    cli_groups_report(t->x, t->y, t->n, t->k, (const char *const *)t->names, o, NULL);
    cJSON *notes = cJSON_AddArrayToObject(o, "notes");
    for (size_t i = 0; i < t->n_notes; i++)
        cJSON_AddItemToArray(notes, cJSON_CreateString(t->notes[i]));
    for (size_t i = 0; i < f->n_dropped; i++) {
        char line[STATS_ERR_BYTES * 2];
        snprintf(line, sizeof line, "dropped %s: %s", f->dropped[i].name, f->dropped[i].why);
        cJSON_AddItemToArray(notes, cJSON_CreateString(line));
    }
    char *text = cJSON_Print(o);
    puts(text);
    cJSON_free(text);
    cJSON_Delete(o);
}

static void print_csv(const struct stats_fit *f) {
    static const char *const cols[] = {"name", "coef",   "se",      "z",
                                       "p",    "ci_low", "ci_high", "odds_ratio"};
    struct out_table *t = out_new(cols, sizeof cols / sizeof cols[0]);
    for (size_t i = 0; i < f->n_coefs; i++) {
        const struct stats_coef *c = &f->coefs[i];
        const double v[] = {c->coef, c->se, c->z, c->p, c->ci_low, c->ci_high, c->odds_ratio};
        out_row(t);
        out_str(t, c->name);
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            char b[40];
            snprintf(b, sizeof b, "%.17g", v[k]);
            out_str(t, b);
        }
    }
    out_print(t, OUT_CSV, stdout);
    out_free(t);
}

/* Display width of UTF-8 text, in code points. */
static int text_width(const char *s) {
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void format_p(double p, char *b, size_t size) {
    if (p < 0.0001)
        snprintf(b, size, "<0.0001");
    else
        snprintf(b, size, "%.4f", p);
}

static void print_table(const struct stats_table *t, const struct stats_fit *f, double auc,
                        const char *outcome) {
    int nw = (int)strlen("factor");
    for (size_t i = 0; i < f->n_coefs; i++)
        nw = text_width(f->coefs[i].name) > nw ? text_width(f->coefs[i].name) : nw;
    printf("%-*s  %11s  %10s  %8s  %8s  %-25s  %10s\n", nw, "factor", "coef", "se", "z", "p",
           "95% CI", "odds ratio");
    for (size_t i = 0; i < f->n_coefs; i++) {
        const struct stats_coef *c = &f->coefs[i];
        char p[16], ci[64];
        format_p(c->p, p, sizeof p);
        snprintf(ci, sizeof ci, "[%.4g, %.4g]", c->ci_low, c->ci_high);
        if (isnan(c->se)) { /* a constant column: no estimate (stats/ridge.c) */
            printf("%s%*s  %11.4g  %10s  %8s  %8s  %-25s  %10.4g\n", c->name,
                   nw - text_width(c->name), "", c->coef, "-", "-", "-", "(constant: not used)",
                   c->odds_ratio);
            continue;
        }
        /* printf pads by bytes; pad the name by code points. */
        printf("%s%*s  %11.4g  %10.4g  %8.2f  %8s  %-25s  %10.4g%s\n", c->name,
               nw - text_width(c->name), "", c->coef, c->se, c->z, p, ci, c->odds_ratio,
               c->p < 0.05 ? "  *" : "");
    }
    printf("\nn = %zu rows (%zu read, %zu dropped for blanks), %zu with %s = 1; AUC %.4f "
           "(in sample); * p < 0.05\n",
           f->n, t->rows_read, t->rows_dropped, f->n_events, outcome, auc);
    size_t weak = 0;
    for (size_t i = 1; i < f->n_coefs; i++) {
        if (!(f->coefs[i].p < 0.05))
            printf("%s%s",
                   weak++ ? ", " : "Factors that do not covary with churn at the 5% level: ",
                   f->coefs[i].name);
    }
    if (weak)
        printf("\n");
    else if (f->n_coefs > 1)
        printf("Every factor covaries with churn at the 5%% level.\n");
    cli_print_strength(f, stdout);
    cli_groups_report(t->x, t->y, t->n, t->k, (const char *const *)t->names, NULL, stdout);
}

/* ---- the command ---------------------------------------------------------- */

/* The report: the same fit per standard deviation, so that the factors'
 * bars compare, and the ROC curve of the fit. */
static int keep_report(const char *path, const char *outcome, const struct stats_table *t,
                       const double *score, double auc, const char *html, const char *db) {
    struct stats_data d;
    stats_table_data(t, &d);
    struct stats_fit sd;
    char err[STATS_ERR_BYTES];
    if (stats_logit_fit(&d, STATS_PER_STD_DEV, &sd, err)) {
        fprintf(stderr, "tend " CMD ": %s: %s\n", path, err);
        return EXIT_USAGE;
    }
    double *fpr = NULL, *tpr = NULL;
    size_t len = 0;
    if (!stats_roc(score, t->y, t->n, &fpr, &tpr, &len))
        len = 0;
    struct buf body;
    buf_init(&body, 0);
    table_report(&body, path, outcome, t, &sd, auc, fpr, tpr, len);
    char title[300], summary[300];
    snprintf(title, sizeof title, "What covaries with %s: %s", outcome, path);
    snprintf(summary, sizeof summary, "%zu rows, %zu factors, AUC %.3f in sample", t->n,
             sd.n_coefs - 1, auc);
    struct store *st = NULL;
    int rc = db ? cli_open_store(db, &st) : 0;
    if (!rc)
        rc = cli_save_report(st, CMD, "analyze", title, summary, buf_str(&body), html);
    store_close(st);
    buf_free(&body);
    free(fpr);
    free(tpr);
    stats_fit_free(&sd);
    return rc;
}

/* The table's columns standardised by a recipe fitted on all its rows (no
 * blanks are left, so no indicator columns): *xs is malloced n * k. A
 * constant column becomes 0 on every row (noted). 0 or EXIT_USAGE. */
static int standardise(const char *path, const struct stats_table *t, double **xs) {
    char err[STATS_ERR_BYTES];
    if (t->k > STATS_RECIPE_MAX_COLUMNS) {
        fprintf(stderr, "tend " CMD ": %s: %zu columns: --l2 fits at most %d\n", path, t->k,
                STATS_RECIPE_MAX_COLUMNS);
        return EXIT_USAGE;
    }
    struct stats_xform_col *cols = xcalloc(t->k ? t->k : 1, sizeof *cols);
    for (size_t j = 0; j < t->k; j++)
        cols[j] = (struct stats_xform_col){t->names[j], STATS_X_IDENTITY, false};
    struct stats_recipe *r = xmalloc(sizeof *r);
    enum tend_err e = stats_recipe_fit(cols, t->k, t->x, t->n, r, err);
    free(cols);
    if (e) {
        fprintf(stderr, "tend " CMD ": %s: %s\n", path, err);
        free(r);
        return EXIT_USAGE;
    }
    for (size_t j = 0; j < t->k; j++) {
        if (r->col[j].constant)
            fprintf(stderr, "tend " CMD ": %s is constant: 0 after standardising\n", t->names[j]);
    }
    size_t cells = t->n * t->k;
    *xs = xmalloc((cells ? cells : 1) * sizeof **xs);
    stats_recipe_apply_rows(r, t->x, t->n, *xs);
    free(r);
    return 0;
}

/* Loads, fits (by maximum likelihood, or penalised with l2 = C when l2 is
 * not NaN) and prints; 0 or EXIT_USAGE after printing why. */
static int analyze(const char *path, const char *outcome, char **columns, size_t n_columns,
                   double l2, enum out_format format, const char *html, const char *db) {
    char err[STATS_ERR_BYTES];
    struct stats_table t;
    if (stats_table_load(path, outcome, (const char *const *)columns, n_columns, &t, err)) {
        fprintf(stderr, "tend " CMD ": %s\n", err);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < t.n_notes; i++)
        fprintf(stderr, "tend " CMD ": %s\n", t.notes[i]);
    struct stats_data d;
    stats_table_data(&t, &d);
    double *xs = NULL;
    if (!isnan(l2)) {
        if (standardise(path, &t, &xs)) {
            stats_table_free(&t);
            return EXIT_USAGE;
        }
        d.x = xs;
    }
    struct stats_fit f;
    if (isnan(l2) ? stats_logit_fit(&d, STATS_OWN_SCALE, &f, err)
                  : stats_ridge_fit(&d, l2, &f, err)) {
        fprintf(stderr, "tend " CMD ": %s: %s\n", path, err);
        free(xs);
        stats_table_free(&t);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < f.n_dropped; i++)
        fprintf(stderr, "tend " CMD ": dropped %s: %s\n", f.dropped[i].name, f.dropped[i].why);
    double *score = xmalloc((t.n ? t.n : 1) * sizeof *score);
    for (size_t i = 0; i < t.n; i++)
        score[i] = stats_logit_predict(&f, d.x + i * t.k);
    double auc = stats_auc(score, t.y, t.n);
    if (format == OUT_JSON)
        print_json(&t, &f, auc, outcome, l2);
    else if (format == OUT_CSV)
        print_csv(&f);
    else
        print_table(&t, &f, auc, outcome);
    int rc = html || db ? keep_report(path, outcome, &t, score, auc, html, db) : 0;
    free(score);
    free(xs);
    stats_fit_free(&f);
    stats_table_free(&t);
    return rc;
}

/* --calibrate: fits Platt scaling (kind 'p') or isotonic regression ('i') of
 * the outcome on the numeric column score_col over the first fit_rows rows
 * (0: all), and prints score,outcome,calibrated for every row as CSV (17
 * significant digits). 0 or EXIT_USAGE after printing why. */
static int calibrate(const char *path, const char *outcome, const char *score_col, char kind,
                     size_t fit_rows) {
    char err[STATS_ERR_BYTES];
    struct stats_table t;
    const char *cols[] = {score_col};
    if (stats_table_load(path, outcome, cols, 1, &t, err)) {
        fprintf(stderr, "tend " CMD ": %s\n", err);
        return EXIT_USAGE;
    }
    int rc = 0;
    if (t.k != 1 || strcmp(t.names[0], score_col) != 0) {
        rc = cli_usage_error(CMD, "--score %s: a numeric column is needed", score_col);
        goto cleanup;
    }
    if (fit_rows > t.n) {
        rc = cli_usage_error(CMD, "--calibrate-on %zu: the table has %zu rows", fit_rows, t.n);
        goto cleanup;
    }
    size_t n_fit = fit_rows ? fit_rows : t.n;
    struct stats_platt platt = {0, 0};
    struct stats_isotonic iso = {0, NULL, NULL};
    enum tend_err e = kind == 'p' ? stats_platt_fit(t.x, t.y, n_fit, &platt, err)
                                  : stats_isotonic_fit(t.x, t.y, n_fit, &iso, err);
    if (e) {
        fprintf(stderr, "tend " CMD ": %s: %s\n", path, err);
        rc = EXIT_USAGE;
        goto cleanup;
    }
    if (kind == 'p')
        fprintf(stderr, "tend " CMD ": platt: a = %.17g, b = %.17g (on %zu rows)\n", platt.a,
                platt.b, n_fit);
    else
        fprintf(stderr, "tend " CMD ": isotonic: %zu points (on %zu rows)\n", iso.n, n_fit);
    printf("%s,%s,calibrated\n", score_col, outcome);
    for (size_t i = 0; i < t.n; i++) {
        double v =
            kind == 'p' ? stats_platt_apply(&platt, t.x[i]) : stats_isotonic_apply(&iso, t.x[i]);
        printf("%.17g,%g,%.17g\n", t.x[i], t.y[i], v);
    }
    stats_isotonic_free(&iso);
cleanup:
    stats_table_free(&t);
    return rc;
}

int cmd_analyze_table(int argc, char **argv) {
    static const struct option opts[] = {
        {"table", required_argument, NULL, 't'},   {"outcome", required_argument, NULL, 'o'},
        {"columns", required_argument, NULL, 'c'}, {"format", required_argument, NULL, 'f'},
        {"html", required_argument, NULL, 'H'},    {"db", required_argument, NULL, 'd'},
        {"l2", required_argument, NULL, 'l'},      {"calibrate", required_argument, NULL, 'C'},
        {"score", required_argument, NULL, 's'},   {"calibrate-on", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *table = NULL, *outcome = NULL, *columns = NULL, *html = NULL, *db = NULL;
    const char *calib = NULL, *score = NULL;
    double l2 = NAN;
    size_t fit_rows = 0;
    char *end;
    enum out_format format = OUT_TABLE;
    int c;
    optind = 0; /* glibc: start afresh, whoever parsed argv before */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            table = optarg;
            break;
        case 'o':
            outcome = optarg;
            break;
        case 'c':
            columns = optarg;
            break;
        case 'f':
            if (cli_parse_format(CMD, optarg, &format))
                return EXIT_USAGE;
            break;
        case 'H':
            html = optarg;
            break;
        case 'd':
            db = optarg;
            break;
        case 'l':
            l2 = strtod(optarg, &end);
            if (end == optarg || *end || !(l2 > 0) || !isfinite(l2))
                return cli_usage_error(CMD, "--l2 \"%s\": give a positive number (C)", optarg);
            break;
        case 'C':
            if (strcmp(optarg, "platt") != 0 && strcmp(optarg, "isotonic") != 0)
                return cli_usage_error(CMD, "--calibrate \"%s\": give platt or isotonic", optarg);
            calib = optarg;
            break;
        case 's':
            score = optarg;
            break;
        case 'n': {
            unsigned long long v = strtoull(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-' || v == 0)
                return cli_usage_error(CMD, "--calibrate-on \"%s\": give a number of rows", optarg);
            fit_rows = (size_t)v;
            break;
        }
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
    if (!table)
        return cli_usage_error(CMD, "--table FILE.csv is required here");
    if (!outcome)
        return cli_usage_error(CMD, "--outcome COLUMN is required with --table");
    if (calib || score || fit_rows) {
        if (!calib || !score)
            return cli_usage_error(CMD, "--calibrate KIND and --score COLUMN go together");
        if (columns || !isnan(l2) || html || db)
            return cli_usage_error(CMD, "--calibrate takes no --columns, --l2, --html or --db");
        return calibrate(table, outcome, score, calib[0], fit_rows);
    }
    if (!isnan(l2) && (html || db))
        return cli_usage_error(CMD, "--l2 has no report: leave out --html and --db");
    char **names = NULL;
    size_t n_names = 0;
    if (columns && split_columns(columns, &names, &n_names))
        return EXIT_USAGE;
    int rc = analyze(table, outcome, names, n_names, l2, format, html, db);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    return rc;
}
