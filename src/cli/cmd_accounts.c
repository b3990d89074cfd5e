/* cmd_accounts.c: tend accounts and tend status: what the database holds. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"

static const char *const account_cols[] = {
    "account_id",   "name",      "plan",      "mrr",     "seats",
    "renewal_date", "csm_email", "csm_slack", "segment", "premium_products",
    "created_at",   "members",   "events",
};
#define N_ACCOUNT_COLS (sizeof account_cols / sizeof account_cols[0])

static void accounts_usage(FILE *f) {
    fprintf(f, "Usage: tend accounts [--db PATH] [--format table|csv|json]\n\n"
               "Lists every account, ordered by account_id, with its main traits, its current\n"
               "members and its stored events:\n  ");
    for (size_t i = 0; i < N_ACCOUNT_COLS; i++)
        fprintf(f, "%s%s", account_cols[i], i + 1 < N_ACCOUNT_COLS ? "," : "\n\n");
    fprintf(f,
            "  --db PATH        database (default ./%s)\n"
            "  --format FORMAT  table (default), csv or json\n",
            DEFAULT_DB);
}

/* Parses --db, --format and --help for the read-only commands. Returns -1 to
 * go on, or an exit code. */
static int parse_read_opts(const char *cmd, int argc, char **argv, const char **db,
                           enum out_format *format, void (*usage)(FILE *)) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            *db = optarg;
            break;
        case 'f':
            if (cli_parse_format(cmd, optarg, format))
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
        return cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    return -1;
}

static int add_account(void *arg, const struct store_account_row *r) {
    struct out_table *t = arg;
    out_row(t);
    out_str(t, r->external_id);
    out_str(t, r->f.name);
    out_str(t, r->f.plan);
    out_num(t, r->f.mrr, r->f.has_mrr);
    if (r->f.has_seats)
        out_int(t, r->f.seats);
    else
        out_str(t, NULL);
    out_str(t, r->f.renewal_date);
    out_str(t, r->f.csm_email);
    out_str(t, r->f.csm_slack);
    out_str(t, r->f.segment);
    out_raw_json(t, r->f.premium_products);
    out_str(t, r->f.created_at);
    out_int(t, r->members);
    out_int(t, r->events);
    return 0;
}

int cmd_accounts(int argc, char **argv) {
    const char *db = cli_db_default();
    enum out_format format = OUT_TABLE;
    int rc = parse_read_opts("accounts", argc, argv, &db, &format, accounts_usage);
    if (rc >= 0)
        return rc;
    struct store *s;
    if ((rc = cli_open_store(db, &s)))
        return rc;
    struct out_table *t = out_new(account_cols, N_ACCOUNT_COLS);
    if (store_accounts_each(s, add_account, t)) {
        fprintf(stderr, "tend accounts: %s\n", store_last_error(s));
        rc = EXIT_USAGE;
    } else {
        out_print(t, format, stdout);
    }
    out_free(t);
    store_close(s);
    return rc;
}

/* ---- status --------------------------------------------------------------- */

static void status_usage(FILE *f) {
    fprintf(f,
            "Usage: tend status [--db PATH] [--format table|csv|json]\n\n"
            "Counts what the database holds: accounts, users, memberships, the quarantine\n"
            "(with its reasons), events by kind and the lifetime message counters\n"
            "(accepted, duplicates, quarantined, attached, rejected).\n\n"
            "  --db PATH        database (default ./%s)\n"
            "  --format FORMAT  table (default), csv or json (rows of what,count)\n",
            DEFAULT_DB);
}

static void add_counter(void *arg, const char *name, int64_t value) {
    struct out_table *t = arg;
    out_row(t);
    out_str(t, name);
    out_int(t, value);
}

static void add_reason(void *arg, const char *reason, int64_t n) {
    char name[256];
    snprintf(name, sizeof name, "quarantine.%s", reason);
    add_counter(arg, name, n);
}

int cmd_status(int argc, char **argv) {
    const char *db = cli_db_default();
    enum out_format format = OUT_TABLE;
    int rc = parse_read_opts("status", argc, argv, &db, &format, status_usage);
    if (rc >= 0)
        return rc;
    struct store *s;
    if ((rc = cli_open_store(db, &s)))
        return rc;
    static const char *const cols[] = {"what", "count"};
    struct out_table *t = out_new(cols, 2);
    struct store_status st;
    if (store_status_get(s, &st)) {
        fprintf(stderr, "tend status: %s\n", store_last_error(s));
        rc = EXIT_USAGE;
        goto done;
    }
    add_counter(t, "accounts", st.accounts);
    add_counter(t, "users", st.users);
    add_counter(t, "memberships.current", st.memberships_open);
    add_counter(t, "memberships.ended", st.memberships_ended);
    add_counter(t, "quarantine", st.quarantined);
    if (store_quarantine_reasons(s, add_reason, t) || store_counters_each(s, add_counter, t)) {
        fprintf(stderr, "tend status: %s\n", store_last_error(s));
        rc = EXIT_USAGE;
        goto done;
    }
    add_counter(t, "schema.version", store_schema_version(s));
    out_print(t, format, stdout);
done:
    out_free(t);
    store_close(s);
    return rc;
}
