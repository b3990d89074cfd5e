/* cmd_analyze_retention.c: tend analyze retention: GRR, NRR, logo churn and
 * the revenue movement per period and group (docs/analysis.md,
 * "Retention"). The work is in analysis/retention.c; this file reads the
 * options, prints the rows (table, CSV or JSON) and keeps the HTML report. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/retention.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "server/report_retention.h"
#include "util/buf.h"
#include "util/datetime.h"
#include "util/mem.h"

#define CMD "analyze retention"
/* Without --from, the window is the year up to --to (or today). */
#define DEFAULT_WINDOW_DAYS 365

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend analyze retention [--db PATH] [--from DATE] [--to DATE]\n"
            "                              [--by month|quarter] [--segment|--plan|--owner]\n"
            "                              [--movements] [--format table|csv|json] [--html FILE]\n"
            "\n"
            "Revenue retention from Subscription Changed events, Account Renewed and\n"
            "Account Churned, and the mrr trait's changes: per period (and group), the\n"
            "accounts paying at its start and their MRR and ARR, what they added\n"
            "(expansion), took back (contraction) and lost (churn), the logos that\n"
            "churned, GRR, NRR and logo churn, each also annualised; new and reactivated\n"
            "accounts apart (new_mrr). Formulas: docs/analysis.md, \"Retention\".\n\n"
            "  --from, --to     the window, inclusive (default: the %d days up to today)\n"
            "  --by PERIOD      month or quarter (calendar; the first and last may be\n"
            "                   partial); default: the whole window as one period\n"
            "  --segment, --plan, --owner   also per segment, plan or owner (csm_email),\n"
            "                   as tend knows them now\n"
            "  --movements      list every movement of the window instead: account, date,\n"
            "                   movement, mrr_before, mrr_after, amount, reason\n"
            "  --format FORMAT  table (default), csv or json\n"
            "  --html FILE      also write the report as a standalone HTML page\n"
            "  --db PATH        database (default ./%s)\n"
            "\n"
            "The report is kept in the database; tend serve shows it under /reports.\n",
            DEFAULT_WINDOW_DAYS, DEFAULT_DB);
}

static const char *const cols[] = {
    "period",
    "from",
    "to",
    "group",
    "accounts_start",
    "mrr_start",
    "arr_start",
    "expansion",
    "contraction",
    "churned",
    "new_mrr",
    "mrr_end",
    "logos_churned",
    "logo_churn",
    "grr",
    "nrr",
    "grr_annual",
    "nrr_annual",
    "logo_churn_annual",
};
#define N_COLS (sizeof cols / sizeof *cols)

static double cents(double v) {
    return round(v * 100) / 100;
}

static double rate4(double v) {
    return isfinite(v) ? round(v * 10000) / 10000 : v;
}

static void print_rows(const struct retention_result *r, enum out_format format) {
    struct out_table *t = out_new(cols, N_COLS);
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct retention_row *row = &r->rows[i];
        char period[RETENTION_PERIOD_BYTES], a[16], b[16];
        dt_format_date(row->first_day, a);
        dt_format_date(row->last_day, b);
        out_row(t);
        out_str(t, retention_period_name(r, row, period));
        out_str(t, a);
        out_str(t, b);
        out_str(t, row->group);
        out_int(t, (int64_t)row->f.accounts_start);
        out_num(t, cents(row->f.mrr_start), true);
        out_num(t, cents(12 * row->f.mrr_start), true);
        out_num(t, cents(row->f.expansion), true);
        out_num(t, cents(row->f.contraction), true);
        out_num(t, cents(row->f.churned), true);
        out_num(t, cents(row->f.new_mrr), true);
        out_num(t, cents(row->f.mrr_end), true);
        out_int(t, (int64_t)row->f.logos_churned);
        const double rates[] = {row->r.logo_churn, row->r.grr,        row->r.nrr,
                                row->r.grr_annual, row->r.nrr_annual, row->r.logo_churn_annual};
        for (size_t k = 0; k < sizeof rates / sizeof *rates; k++)
            out_num(t, rate4(rates[k]), isfinite(rates[k]));
    }
    out_print(t, format, stdout);
    out_free(t);
}

static void print_json(cJSON *o) {
    char *s = cJSON_Print(o);
    puts(s);
    free(s);
}

/* --movements: one row a movement, amounts exact outside a table. */
static void print_movements(const struct retention_result *r, enum out_format format) {
    static const char *const mcols[] = {"account_id", "group",     "date",   "time",  "movement",
                                        "mrr_before", "mrr_after", "amount", "reason"};
    struct out_table *t = out_new(mcols, sizeof mcols / sizeof *mcols);
    for (size_t i = 0; i < r->n_list; i++) {
        const struct retention_movement *x = &r->list[i];
        char date[16], at[32];
        dt_format_date(dt_day_of_ms(x->m.ts_ms), date);
        dt_format_instant(x->m.ts_ms, at);
        out_row(t);
        out_str(t, x->account);
        out_str(t, x->group);
        out_str(t, date);
        out_str(t, at);
        out_str(t, revenue_kind_name(x->m.kind));
        const double v[] = {x->m.mrr_before, x->m.mrr_after, x->m.amount};
        for (int k = 0; k < 3; k++) {
            if (format == OUT_TABLE) {
                out_num(t, cents(v[k]), true);
            } else {
                char b[40];
                snprintf(b, sizeof b, "%.17g", v[k]);
                out_raw_json(t, b);
            }
        }
        out_str(t, x->m.reason);
    }
    out_print(t, format, stdout);
    out_free(t);
}

/* JSON: every figure unrounded (the oracle test compares them to 1e-9). */
static cJSON *result_json(const struct retention_result *r) {
    static const char *const by[] = {"whole", "month", "quarter"};
    static const char *const group[] = {"all", "segment", "plan", "owner"};
    char d[16];
    cJSON *o = cJSON_CreateObject();
    dt_format_date(r->o.from, d);
    cJSON_AddStringToObject(o, "from", d);
    dt_format_date(r->o.to, d);
    cJSON_AddStringToObject(o, "to", d);
    cJSON_AddStringToObject(o, "by", by[r->o.by]);
    cJSON_AddStringToObject(o, "group_by", group[r->o.group]);
    cJSON_AddNumberToObject(o, "accounts", (double)r->accounts);
    cJSON *mv = cJSON_AddObjectToObject(o, "movements");
    for (int k = 0; k < REV_KIND_COUNT; k++)
        cJSON_AddNumberToObject(mv, revenue_kind_name((enum rev_kind)k), (double)r->movements[k]);
    cJSON *rows = cJSON_AddArrayToObject(o, "rows");
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct retention_row *row = &r->rows[i];
        char period[RETENTION_PERIOD_BYTES];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "period", retention_period_name(r, row, period));
        dt_format_date(row->first_day, d);
        cJSON_AddStringToObject(x, "from", d);
        dt_format_date(row->last_day, d);
        cJSON_AddStringToObject(x, "to", d);
        cJSON_AddStringToObject(x, "group", row->group);
        cJSON_AddNumberToObject(x, "accounts_start", (double)row->f.accounts_start);
        cJSON_AddNumberToObject(x, "mrr_start", row->f.mrr_start);
        cJSON_AddNumberToObject(x, "arr_start", 12 * row->f.mrr_start);
        cJSON_AddNumberToObject(x, "expansion", row->f.expansion);
        cJSON_AddNumberToObject(x, "contraction", row->f.contraction);
        cJSON_AddNumberToObject(x, "churned", row->f.churned);
        cJSON_AddNumberToObject(x, "new_mrr", row->f.new_mrr);
        cJSON_AddNumberToObject(x, "mrr_end", row->f.mrr_end);
        cJSON_AddNumberToObject(x, "accounts_end", (double)row->f.accounts_end);
        cJSON_AddNumberToObject(x, "logos_churned", (double)row->f.logos_churned);
        cJSON_AddItemToObject(x, "logo_churn", out_json_number(row->r.logo_churn));
        cJSON_AddItemToObject(x, "grr", out_json_number(row->r.grr));
        cJSON_AddItemToObject(x, "nrr", out_json_number(row->r.nrr));
        cJSON_AddItemToObject(x, "grr_annual", out_json_number(row->r.grr_annual));
        cJSON_AddItemToObject(x, "nrr_annual", out_json_number(row->r.nrr_annual));
        cJSON_AddItemToObject(x, "logo_churn_annual", out_json_number(row->r.logo_churn_annual));
        cJSON_AddItemToArray(rows, x);
    }
    cJSON *reasons = cJSON_AddArrayToObject(o, "reasons");
    for (size_t i = 0; i < r->n_reasons; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "kind", revenue_kind_name(r->reasons[i].kind));
        cJSON_AddStringToObject(x, "reason", r->reasons[i].reason);
        cJSON_AddNumberToObject(x, "count", (double)r->reasons[i].count);
        cJSON_AddNumberToObject(x, "mrr", r->reasons[i].mrr);
        cJSON_AddItemToArray(reasons, x);
    }
    return o;
}

int cmd_analyze_retention(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},
        {"by", required_argument, NULL, 'b'},
        {"segment", no_argument, NULL, 's'},
        {"plan", no_argument, NULL, 'p'},
        {"owner", no_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"html", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {"movements", no_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *html = NULL;
    struct cli_days days;
    cli_days_init(&days);
    struct retention_options o = {.by = RETENTION_WHOLE, .group = RETENTION_ALL};
    int n_groups = 0;
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
            if (cli_days_option(CMD, c == 'F' ? "from" : "to", optarg, &days))
                return EXIT_USAGE;
            break;
        case 'b':
            if (strcmp(optarg, "month") == 0)
                o.by = RETENTION_MONTH;
            else if (strcmp(optarg, "quarter") == 0)
                o.by = RETENTION_QUARTER;
            else
                return cli_usage_error(CMD, "--by must be month or quarter, not \"%s\"", optarg);
            break;
        case 's':
        case 'p':
        case 'o':
            o.group = c == 's' ? RETENTION_SEGMENT : c == 'p' ? RETENTION_PLAN : RETENTION_OWNER;
            n_groups++;
            break;
        case 'f':
            if (cli_parse_format(CMD, optarg, &format))
                return EXIT_USAGE;
            break;
        case 'H':
            html = optarg;
            break;
        case 'M':
            o.list_movements = true;
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
    if (n_groups > 1)
        return cli_usage_error(CMD, "give one of --segment, --plan and --owner");
    o.to = days.has_to ? days.to : days.at;
    o.from = days.has_from ? days.from : o.to - (DEFAULT_WINDOW_DAYS - 1);
    if (o.from > o.to)
        return cli_usage_error(CMD, "--from must not be after --to");

    static struct tend_config cfg;
    int rc = cli_load_config(CMD, config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    struct store *st;
    if ((rc = cli_open_store(db, &st))) {
        cli_free_config(&cfg);
        return rc;
    }
    struct retention_result r;
    char err[RETENTION_ERR_BYTES];
    if (retention_run(st, &o, &r, err)) {
        fprintf(stderr, "tend %s: %s\n", CMD, err);
        rc = EXIT_USAGE;
    } else {
        if (o.list_movements) {
            print_movements(&r, format);
        } else if (format == OUT_JSON) {
            cJSON *j = result_json(&r);
            print_json(j);
            cJSON_Delete(j);
        } else {
            print_rows(&r, format);
        }
        struct buf body;
        buf_init(&body, 0);
        retention_report(&body, &r);
        char title[160], summary[256], a[16], b[16];
        dt_format_date(o.from, a);
        dt_format_date(o.to, b);
        snprintf(title, sizeof title, "Revenue retention %s to %s", a, b);
        const struct retention_row *all = r.n_rows ? &r.rows[0] : NULL;
        snprintf(summary, sizeof summary,
                 "%zu accounts; first period: GRR %.1f%%, NRR %.1f%%, logo churn %.1f%%",
                 r.accounts, all ? 100 * all->r.grr : NAN, all ? 100 * all->r.nrr : NAN,
                 all ? 100 * all->r.logo_churn : NAN);
        rc = cli_save_report(st, CMD, "analyze", title, summary, buf_str(&body), html);
        buf_free(&body);
    }
    retention_result_free(&r);
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}

/* ---- tend analyze --reasons: every movement's reason ------------------------------ */

/* A figure: rounded in a table (decimals), exact in CSV and JSON (the
 * oracle test compares them to 1e-9). */
static void figure(struct out_table *t, enum out_format format, double v, int decimals) {
    if (!isfinite(v)) {
        out_num(t, v, false);
    } else if (format == OUT_TABLE) {
        double k = decimals == 2 ? 100 : 10000;
        out_num(t, round(v * k) / k, true);
    } else {
        char b[40];
        snprintf(b, sizeof b, "%.17g", v);
        out_raw_json(t, b);
    }
}

int cli_movement_reasons(struct store *st, int32_t from, int32_t to, enum out_format format,
                         bool print, struct buf *report) {
    struct retention_options o = {.from = from, .to = to};
    if (o.from <= 0) /* no --from: the year up to --to, where NRR has a start */
        o.from = o.to - (DEFAULT_WINDOW_DAYS - 1);
    struct retention_result r;
    char err[RETENTION_ERR_BYTES];
    if (retention_run(st, &o, &r, err) || retention_costs(st, &r, err)) {
        fprintf(stderr, "tend analyze: %s\n", err);
        retention_result_free(&r);
        return EXIT_USAGE;
    }
    const struct retention_reason **by = xcalloc(r.n_reasons ? r.n_reasons : 1, sizeof *by);
    retention_reasons_by_impact(&r, by);
    double total = 0;
    for (size_t i = 0; i < r.n_reasons; i++)
        total += by[i]->mrr;
    if (print) {
        static const char *const rcols[] = {"movement",
                                            "reason",
                                            "accounts",
                                            "count",
                                            "mrr",
                                            "nrr_impact",
                                            "share",
                                            "cumulative",
                                            "tickets_per_account",
                                            "outreach_per_account",
                                            "ctas_per_account"};
        struct out_table *t = out_new(rcols, sizeof rcols / sizeof *rcols);
        double cumulative = 0;
        for (size_t i = 0; i < r.n_reasons; i++) {
            const struct retention_reason *x = by[i];
            double share = total > 0 ? x->mrr / total : 0;
            cumulative += share;
            out_row(t);
            out_str(t, revenue_kind_name(x->kind));
            out_str(t, x->reason);
            out_int(t, (int64_t)x->n_ids);
            out_int(t, x->count);
            figure(t, format, x->mrr, 2);
            figure(t, format, x->nrr_impact, 4);
            figure(t, format, share, 4);
            figure(t, format, cumulative, 4);
            const double cost[] = {x->tickets, x->outreach, x->ctas};
            for (int k = 0; k < 3; k++)
                figure(t, format, cost[k], 2);
        }
        if (format == OUT_TABLE) {
            char a[16], b[16];
            dt_format_date(o.from, a);
            dt_format_date(o.to, b);
            printf("\nRevenue movements by reason, %s to %s, largest MRR first (NRR impact: the "
                   "MRR over the %.2f MRR paying at the start, - for churn and contraction; cost "
                   "to serve per account with such a movement):\n",
                   a, b, r.n_rows ? r.rows[0].f.mrr_start : 0.0);
        }
        out_print(t, format, stdout);
        out_free(t);
    }
    retention_reasons_report(report, &r, by);
    free(by);
    retention_result_free(&r);
    return 0;
}
