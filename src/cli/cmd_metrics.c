/* cmd_metrics.c: tend metrics: every account's SPEC 3 metrics as of a day. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "core/metrics.h"
#include "eval/eval.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: tend metrics [--db PATH] [--at DATE|INSTANT] [--account ID]\n"
               "                    [--format table|csv|json]\n\n"
               "Prints one row per account, ordered by account_id, with the metrics of SPEC 3\n"
               "as of --at: a date D means the end of that day (events before D+1 00:00Z\n"
               "count); an ISO-8601 instant means that instant. Default: now.\n"
               "Columns: account_id");
    for (int i = 0; i < metrics_column_count; i++)
        fprintf(f, ",%s", metrics_columns[i]);
    fprintf(f,
            "\nEmpty cells are unknown values. docs/metrics.md defines each column.\n\n"
            "  --db PATH        database (default ./%s)\n"
            "  --at WHEN        as of this date or instant\n"
            "  --account ID     only this account\n"
            "  --format FORMAT  table (default), csv or json\n",
            DEFAULT_DB);
}

static void opt_int(struct out_table *t, bool has, int64_t v) {
    if (has)
        out_int(t, v);
    else
        out_str(t, NULL);
}

static int add_row(void *arg, int64_t id, const char *account_id, const struct metrics *m) {
    struct out_table *t = arg;
    out_row(t);
    out_str(t, account_id);
    out_int(t, m->users);
    out_int(t, m->active_users_30d);
    out_int(t, m->logins_7d);
    out_int(t, m->logins_prev_28d);
    opt_int(t, m->has_days_since_login, m->days_since_login);
    out_int(t, m->feature_events_7d);
    out_int(t, m->feature_events_prev_28d);
    out_int(t, m->features_used_30d);
    out_num(t, m->nps, m->has_nps);
    out_int(t, m->nps_responses_90d);
    out_int(t, m->tickets_open);
    out_int(t, m->tickets_30d);
    out_int(t, m->overdue_invoices);
    out_num(t, m->overdue_amount, true);
    out_int(t, m->max_days_overdue);
    opt_int(t, m->has_card_days_left, m->card_days_left);
    opt_int(t, m->has_renewal_days_left, m->renewal_days_left);
    opt_int(t, m->has_seats, m->seats);
    out_num(t, m->seat_utilization, m->has_seat_utilization);
    out_int(t, m->outreach_unanswered);
    opt_int(t, m->has_days_since_reply, m->days_since_reply);
    out_num(t, m->mrr, m->has_mrr);
    return 0;
}

int cmd_metrics(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},      {"at", required_argument, NULL, 't'},
        {"account", required_argument, NULL, 'a'}, {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *db = cli_db_default(), *account = NULL;
    int64_t t_ms = dt_now_ms();
    enum out_format format = OUT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 't':
            if (!cli_parse_at(optarg, &t_ms))
                return cli_usage_error("metrics",
                                       "--at must be a date YYYY-MM-DD or an ISO-8601 instant, "
                                       "not \"%s\"",
                                       optarg);
            break;
        case 'a':
            account = optarg;
            break;
        case 'f':
            if (cli_parse_format("metrics", optarg, &format))
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
        return cli_usage_error("metrics", "unexpected argument \"%s\"", argv[optind]);
    struct store *s;
    int rc = cli_open_store(db, &s);
    if (rc)
        return rc;
    const char *cols[1 + 32];
    cols[0] = "account_id";
    for (int i = 0; i < metrics_column_count; i++)
        cols[i + 1] = metrics_columns[i];
    struct out_table *t = out_new(cols, 1 + (size_t)metrics_column_count);
    enum tend_err err = eval_metrics(s, t_ms, account, add_row, t);
    if (err == TEND_ERR_NOTFOUND) {
        fprintf(stderr, "tend metrics: no account \"%s\"\n", account);
        rc = EXIT_USAGE;
    } else if (err) {
        fprintf(stderr, "tend metrics: %s\n", store_last_error(s));
        rc = EXIT_USAGE;
    } else {
        out_print(t, format, stdout);
    }
    out_free(t);
    store_close(s);
    return rc;
}
