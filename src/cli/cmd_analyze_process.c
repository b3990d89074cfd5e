/* cmd_analyze_process.c: tend analyze process: the team's process metrics
 * per week, per owner and for the team, with control limits
 * (analysis/process.h, docs/analysis.md "Process").
 *
 *   tend analyze process [--from DATE] [--to DATE] [--at DATE] [--owner EMAIL]
 *                        [--format table|csv|json]
 *
 * The table shows the main columns, a week outside its control limits
 * marked "*"; csv and json carry every column. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/process.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "eval/act.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: tend analyze process [--db PATH] [--from DATE] [--to DATE] [--at DATE]\n"
               "                            [--owner EMAIL] [--format table|csv|json]\n"
               "\n"
               "Per ISO week, for the team and each owner: CTAs opened, acted on by a person,\n"
               "days to the first action (median, 90th percentile), closed by a person,\n"
               "auto-resolved, expired, overdue; contacts (outreach events and call, email,\n"
               "meeting and text notes) per account owned; the share of accounts touched in\n"
               "four weeks. Control limits: a p-chart for the overdue share, XmR charts for\n"
               "the median days and the contacts per account; '*' marks a week outside them.\n\n"
               "  --from, --to DATE  the weeks shown (default: the 12 weeks to --at)\n"
               "  --at DATE          the as-of day (default: the latest evaluation's)\n"
               "  --owner EMAIL      only this owner's rows (and the team's)\n");
}

/* The table's columns: indexes into process_columns. */
static const int brief[] = {0, 1, 2, 3, 4, 8, 9, 10, 11, 15, 21, 26};
static const int brief_signal[] = {-1, -1, -1, -1, 7, -1, -1, -1, -1, 18, 24, -1};
#define N_BRIEF ((int)(sizeof brief / sizeof brief[0]))

int cmd_analyze_process(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},    {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},    {"at", required_argument, NULL, 't'},
        {"owner", required_argument, NULL, 'o'}, {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *db = cli_db_default(), *owner = NULL;
    int32_t from = 0, to = 0, at = 0;
    bool has_from = false, has_to = false, has_at = false;
    enum out_format format = OUT_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'F':
        case 'T':
        case 't': {
            int32_t *dst = c == 'F' ? &from : c == 'T' ? &to : &at;
            if (!dt_parse_date(optarg, strlen(optarg), dst))
                return cli_usage_error("analyze process",
                                       "--%s must be a date YYYY-MM-DD, not \"%s\"",
                                       c == 'F'   ? "from"
                                       : c == 'T' ? "to"
                                                  : "at",
                                       optarg);
            has_from |= c == 'F';
            has_to |= c == 'T';
            has_at |= c == 't';
            break;
        }
        case 'o':
            owner = optarg;
            break;
        case 'f':
            if (cli_parse_format("analyze process", optarg, &format))
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
        return cli_usage_error("analyze process", "unexpected argument \"%s\"", argv[optind]);
    struct store *st;
    int rc = cli_open_store(db, &st);
    if (rc)
        return rc;
    if (!has_at && eval_action_day(st, &at)) {
        fprintf(stderr, "tend analyze process: %s\n", store_last_error(st));
        store_close(st);
        return EXIT_USAGE;
    }
    if (!has_to)
        to = at;
    if (!has_from)
        from = to - 83;
    if (from > to || (to - from) / 7 + 1 > PROCESS_MAX_WEEKS) {
        store_close(st);
        return cli_usage_error("analyze process",
                               "--from must be on or before --to, and at most %d weeks before it",
                               PROCESS_MAX_WEEKS);
    }
    struct process_report r;
    char err[PROCESS_ERR_BYTES];
    enum tend_err e = process_run(st, from, to, at, &r, err);
    store_close(st);
    if (e) {
        fprintf(stderr, "tend analyze process: %s\n", err);
        return EXIT_USAGE;
    }
    if (owner) { /* keep the team's rows and the owner's */
        size_t k = 0;
        for (size_t i = 0; i < r.n_rows; i++)
            if (r.rows[i].owner < 0 || strcmp(r.owners[r.rows[i].owner], owner) == 0)
                r.rows[k++] = r.rows[i];
        r.n_rows = k;
    }
    if (format == OUT_JSON) {
        cJSON *j = process_json(&r);
        char *text = cJSON_Print(j);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(j);
        process_report_free(&r);
        return 0;
    }
    bool table = format == OUT_TABLE;
    const char *names[PROCESS_COLUMNS];
    int n_cols = table ? N_BRIEF : PROCESS_COLUMNS;
    for (int k = 0; k < n_cols; k++)
        names[k] = process_columns[table ? brief[k] : k];
    struct out_table *t = out_new(names, (size_t)n_cols);
    char cells[PROCESS_COLUMNS][64];
    bool present[PROCESS_COLUMNS];
    for (size_t i = 0; i < r.n_rows; i++) {
        process_row_cells(&r, &r.rows[i], cells, present);
        out_row(t);
        for (int k = 0; k < n_cols; k++) {
            int col = table ? brief[k] : k;
            if (!present[col]) {
                out_str(t, NULL);
                continue;
            }
            char cell[80];
            int sig = table ? brief_signal[k] : -1;
            snprintf(cell, sizeof cell, "%s%s", cells[col],
                     sig >= 0 && present[sig] && strcmp(cells[sig], "true") == 0 ? " *" : "");
            out_str(t, cell);
        }
    }
    out_print(t, format, stdout);
    out_free(t);
    if (table)
        printf("\n* outside its control limits (overdue_share: p-chart; median_days and "
               "contacts_per_account: XmR). Full columns: --format csv.\n");
    process_report_free(&r);
    return 0;
}
