/* cmd_analyze_table.c: tend analyze --table: which factors of a CSV table
 * covary with churn, by logistic regression.
 *
 *   tend analyze --table FILE.csv --outcome COLUMN [--columns A,B,...]
 *                [--format table|csv|json]
 *
 * The table is read by stats/table.c (numeric columns as they are, text
 * columns one-hot against their most frequent value, rows with blanks
 * dropped) and fitted by stats/logit.c on the columns' own scale. What was
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

#include "cli/cli.h"
#include "cli/output.h"
#include "server/report.h"
#include "stats/logit.h"
#include "stats/table.h"
#include "util/buf.h"
#include "util/mem.h"

#define CMD "analyze"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend analyze --table FILE.csv --outcome COLUMN [--columns A,B,...]\n"
            "                    [--format table|csv|json] [--html FILE] [--db PATH]\n"
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

static void print_json(const struct stats_table *t, const struct stats_fit *f, double auc,
                       const char *outcome) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "outcome", outcome);
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
}

/* ---- the command ---------------------------------------------------------- */

/* Loads, fits and prints; 0 or EXIT_USAGE after printing why. */
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

static int analyze(const char *path, const char *outcome, char **columns, size_t n_columns,
                   enum out_format format, const char *html, const char *db) {
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
    struct stats_fit f;
    if (stats_logit_fit(&d, STATS_OWN_SCALE, &f, err)) {
        fprintf(stderr, "tend " CMD ": %s: %s\n", path, err);
        stats_table_free(&t);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < f.n_dropped; i++)
        fprintf(stderr, "tend " CMD ": dropped %s: %s\n", f.dropped[i].name, f.dropped[i].why);
    double *score = xmalloc((t.n ? t.n : 1) * sizeof *score);
    for (size_t i = 0; i < t.n; i++)
        score[i] = stats_logit_predict(&f, t.x + i * t.k);
    double auc = stats_auc(score, t.y, t.n);
    if (format == OUT_JSON)
        print_json(&t, &f, auc, outcome);
    else if (format == OUT_CSV)
        print_csv(&f);
    else
        print_table(&t, &f, auc, outcome);
    int rc = html || db ? keep_report(path, outcome, &t, score, auc, html, db) : 0;
    free(score);
    stats_fit_free(&f);
    stats_table_free(&t);
    return rc;
}

int cmd_analyze_table(int argc, char **argv) {
    static const struct option opts[] = {
        {"table", required_argument, NULL, 't'},   {"outcome", required_argument, NULL, 'o'},
        {"columns", required_argument, NULL, 'c'}, {"format", required_argument, NULL, 'f'},
        {"html", required_argument, NULL, 'H'},    {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *table = NULL, *outcome = NULL, *columns = NULL, *html = NULL, *db = NULL;
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
    char **names = NULL;
    size_t n_names = 0;
    if (columns && split_columns(columns, &names, &n_names))
        return EXIT_USAGE;
    int rc = analyze(table, outcome, names, n_names, format, html, db);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    return rc;
}
