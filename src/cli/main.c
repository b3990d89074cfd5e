/* main.c: the tend binary: dispatches to a subcommand (see cli.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/datetime.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"import", cmd_import, "import Segment JSONL files and an accounts CSV"},
    {"accounts", cmd_accounts, "list accounts with their traits, members and events"},
    {"status", cmd_status, "count everything in the database, quarantine included"},
    {"serve", cmd_serve, "run the service: ingest API, scheduler, dashboard, REST API"},
    {"passwd", cmd_passwd, "hash a dashboard password for serve.users"},
    {"token", cmd_token, "make an API token for serve.tokens"},
    {"metrics", cmd_metrics, "print every account's metrics as of a day (SPEC 3)"},
    {"score", cmd_score, "compute, store and explain health scores (SPEC 4)"},
    {"eval", cmd_eval, "run the rules as of a day, or replay days: open and resolve CTAs"},
    {"ctas", cmd_ctas, "list CTAs by status, owner, account or rule"},
    {"cta", cmd_cta, "show, snooze, close or reassign one CTA"},
    {"deliver", cmd_deliver, "send the outbox's due messages (Slack, email, webhooks, logs)"},
    {"outbox", cmd_outbox, "list queued, sent and dead messages; show one; retry dead ones"},
    {"analyze", cmd_analyze, "does the health score predict churn? regression, AUC, weights"},
    {"backtest", cmd_backtest, "replay evaluation: each rule's precision, recall, lead time"},
    {"generate", cmd_generate, "write a fictional SaaS's Segment history (JSONL)"},
};

static void usage(FILE *f) {
    fprintf(f, "tend: early warning for customer success teams\n\n"
               "Usage: tend COMMAND [OPTIONS]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nEvery command takes --db PATH (default ./%s) and --help.\n"
            "Run `tend COMMAND --help` for its options. Documentation: docs/ in the "
            "source tree.\n",
            DEFAULT_DB);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tend %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see tend %s --help)\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_parse_format(const char *cmd, const char *arg, enum out_format *format) {
    if (!out_parse_format(arg, format))
        return cli_usage_error(cmd, "--format must be table, csv or json, not \"%s\"", arg);
    return 0;
}

int cli_parse_days_count(const char *cmd, const char *name, const char *arg, int *days) {
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < 1 || v > 730)
        return cli_usage_error(cmd, "--%s must be a number of days from 1 to 730, not \"%s\"", name,
                               arg);
    *days = (int)v;
    return 0;
}

void cli_days_init(struct cli_days *d) {
    memset(d, 0, sizeof *d);
    d->at = dt_day_of_ms(dt_now_ms());
}

int cli_days_option(const char *cmd, const char *name, const char *arg, struct cli_days *d) {
    bool from = strcmp(name, "from") == 0, to = strcmp(name, "to") == 0;
    int32_t *dst = from ? &d->from : to ? &d->to : &d->at;
    if (!dt_parse_date(arg, strlen(arg), dst))
        return cli_usage_error(cmd, "--%s must be a date YYYY-MM-DD, not \"%s\"", name, arg);
    d->has_from |= from;
    d->has_to |= to;
    return 0;
}

int cli_days_range(const char *cmd, const struct cli_days *d, int32_t *first, int32_t *last) {
    if (d->has_from != d->has_to)
        return cli_usage_error(cmd, "--from and --to go together");
    if (d->has_from && d->from > d->to)
        return cli_usage_error(cmd, "--from must not be after --to");
    *first = d->has_from ? d->from : d->at;
    *last = d->has_from ? d->to : d->at;
    return 0;
}

bool cli_parse_at(const char *s, int64_t *t_ms) {
    int32_t day;
    if (dt_parse_date(s, strlen(s), &day)) {
        *t_ms = (int64_t)(day + 1) * DT_MS_PER_DAY;
        return true;
    }
    return dt_parse_instant(s, strlen(s), t_ms);
}

int cli_open_store(const char *path, struct store **out) {
    char err[STORE_ERR_BYTES];
    if (store_open(path, out, err)) {
        fprintf(stderr, "tend: %s\n", err);
        return EXIT_USAGE;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(cmd, commands[i].name) == 0) {
            /* getopt names the program by argv[0] in its messages. */
            char prog[64];
            snprintf(prog, sizeof prog, "tend %s", commands[i].name);
            argv[1] = prog;
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "tend: unknown command \"%s\"\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
