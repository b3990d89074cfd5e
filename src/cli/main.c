/* main.c: the tend binary: dispatches to a subcommand (see cli.h), says
 * which commands may create a database, prints the version, and suggests the
 * nearest command for a mistyped one. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/datetime.h"
#include "util/version.h"

#ifndef TEND_VERSION
#define TEND_VERSION "unknown" /* the Makefile passes VERSION and git describe */
#endif

/* db: what a command does with the database --db names when there is none.
 * Only the commands that bring data in from outside (import, serve) create
 * it; every other one reads or derives from data that must already be there,
 * so a missing database is a mistake, most often a typo in --db, and is
 * refused instead of being created empty (docs/cli.md). */
enum db_use { DB_NONE, DB_EXISTING, DB_CREATE };

/* tend version, tend --version: the release (VERSION in the Makefile) and,
 * when built from a git tree, what git describe said at build time. */
static int cmd_version(int argc, char **argv) {
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr, "Usage: tend version (or tend --version)\n");
        return help ? 0 : EXIT_USAGE;
    }
    printf("tend %s\n", TEND_VERSION);
    return 0;
}

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    enum db_use db;
    const char *summary;
};

static const struct command commands[] = {
    {"import", cmd_import, DB_CREATE, "import Segment JSONL files and an accounts CSV"},
    {"accounts", cmd_accounts, DB_EXISTING, "list accounts with their traits, members and events"},
    {"status", cmd_status, DB_EXISTING, "count everything in the database, quarantine included"},
    {"serve", cmd_serve, DB_CREATE, "run the service: ingest API, scheduler, dashboard, REST API"},
    {"passwd", cmd_passwd, DB_NONE, "hash a dashboard password for serve.users"},
    {"token", cmd_token, DB_NONE, "make an API token for serve.tokens"},
    {"metrics", cmd_metrics, DB_EXISTING, "print every account's metrics as of a day (SPEC 3)"},
    {"score", cmd_score, DB_EXISTING, "compute, store and explain health scores (SPEC 4)"},
    {"eval", cmd_eval, DB_EXISTING,
     "run the rules as of a day, or replay days: open and resolve CTAs"},
    {"ctas", cmd_ctas, DB_EXISTING, "list CTAs by status, owner, account or rule"},
    {"cta", cmd_cta, DB_EXISTING, "show, snooze, close or reassign one CTA"},
    {"deliver", cmd_deliver, DB_EXISTING,
     "send the outbox's due messages (Slack, email, webhooks, logs)"},
    {"outbox", cmd_outbox, DB_EXISTING,
     "list queued, sent and dead messages; show one; retry dead ones"},
    {"escalate", cmd_escalate, DB_EXISTING,
     "escalate the CTAs nobody acted on in time (tend serve does it every minute)"},
    {"analyze", cmd_analyze, DB_EXISTING,
     "does the health score predict churn? regression, AUC, weights"},
    {"analyze retention", cmd_analyze_retention, DB_EXISTING,
     "GRR, NRR, logo churn, expansion and contraction per period and group"},
    {"backtest", cmd_backtest, DB_EXISTING,
     "replay evaluation: each rule's precision, recall, lead time"},
    {"rules", cmd_rules, DB_EXISTING, "list the rules, their settings and measured quality"},
    {"tune", cmd_tune, DB_EXISTING, "suggest rule thresholds that keep recall within a budget"},
    {"model", cmd_model, DB_EXISTING,
     "fit the churn-risk model from outcomes; show its card (AUC, calibration)"},
    {"risk", cmd_risk, DB_EXISTING, "accounts by revenue at risk: p_churn x ARR, with drivers"},
    {"segments", cmd_segments, DB_EXISTING,
     "segments, plans and owners by day: accounts, ARR, health, usage, NPS, tickets"},
    {"migrate", cmd_migrate, DB_NONE,
     "move an installation from SQLite to PostgreSQL, verified by counts and metrics"},
    {"users", cmd_users, DB_EXISTING, "list an account's users: role, engagement, 12-week logins"},
    {"generate", cmd_generate, DB_NONE, "write a fictional SaaS's Segment history (JSONL)"},
    {"inbox", cmd_inbox, DB_EXISTING,
     "the connectors' webhook inbox: list, replay after a mapping fix, map ids from a CSV"},
    {"version", cmd_version, DB_NONE, "print tend's version (also tend --version)"},
    {"notes", cmd_notes, DB_EXISTING,
     "record a call, email, meeting, text or note on a CTA or an account; list them"},
    {"kpis", cmd_kpis, DB_EXISTING,
     "the KPI board: each KPI's weekly trend and how it moves with churn"},
    {"report", cmd_report, DB_EXISTING, "write the monthly CS report (printable HTML)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* The running command's use of the database (cli_open_store). */
static enum db_use running_db_use = DB_EXISTING;

static void usage(FILE *f) {
    fprintf(f, "tend: early warning for customer success teams\n\n"
               "Usage: tend COMMAND [OPTIONS]\n\nCommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nEvery command takes --db PATH (default: $TEND_DB, else db: of the tend.yaml\n"
            "given with --config, else ./%s) and --help.\n"
            "Run `tend COMMAND --help` for its options. Documentation: docs/ in the "
            "source tree.\n",
            DEFAULT_DB);
}

const char *cli_db_default(void) {
    const char *env = getenv("TEND_DB");
    return env && env[0] ? env : DEFAULT_DB;
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
    unsigned flags = running_db_use == DB_CREATE ? 0 : STORE_OPEN_EXISTING;
    enum tend_err e = store_open_with(path, flags, out, err);
    if (e == TEND_ERR_NOTFOUND) {
        fprintf(stderr, "tend: %s (create one with tend import)\n", err);
        return EXIT_USAGE;
    }
    if (e) {
        fprintf(stderr, "tend: %s\n", err);
        return EXIT_USAGE;
    }
    return 0;
}

/* The optimal string alignment distance of a and b (edits: insert, delete,
 * substitute, swap two neighbours), for names of at most 31 bytes; longer
 * ones count as far from everything. */
static size_t edit_distance(const char *a, const char *b) {
    enum { MAX = 32 };
    size_t n = strlen(a), m = strlen(b);
    if (n >= MAX || m >= MAX)
        return SIZE_MAX;
    size_t d[MAX][MAX];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

/* The command (or --help, --version) nearest to name, when it is near enough
 * to be a typo of it: at most 2 edits, and fewer than name has letters (so
 * that "x" suggests nothing); NULL otherwise. */
static const char *nearest_command(const char *name) {
    static const char *const options[] = {"--help", "--version"};
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < N_COMMANDS + 2; i++) {
        const char *c = i < N_COMMANDS ? commands[i].name : options[i - N_COMMANDS];
        size_t dist = edit_distance(name, c);
        if (dist < best_d) {
            best_d = dist;
            best = c;
        }
    }
    return best_d <= 2 && best_d < strlen(name) ? best : NULL;
}

/* How many words of the command line (cmd, then argv[2]) name command c: 1 for "analyze",
 * 2 for "analyze retention" followed by "retention"; 0 when they do not. */
static int command_words(const struct command *c, const char *cmd, int argc, char **argv) {
    const char *space = strchr(c->name, ' ');
    if (!space)
        return strcmp(cmd, c->name) == 0;
    size_t len = (size_t)(space - c->name);
    return argc > 2 && strncmp(cmd, c->name, len) == 0 && cmd[len] == '\0' &&
                   strcmp(argv[2], space + 1) == 0
               ? 2
               : 0;
}

int main(int argc, char **argv) {
    tend_version_set(TEND_VERSION);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0)
        cmd = "version";
    const struct command *found = NULL;
    int words = 0;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        int w = command_words(&commands[i], cmd, argc, argv);
        if (w > words) {
            found = &commands[i];
            words = w;
        }
    }
    if (found) {
        /* getopt names the program by argv[0] in its messages. */
        char prog[64];
        snprintf(prog, sizeof prog, "tend %s", found->name);
        argv[words] = prog;
        running_db_use = found->db;
        return found->run(argc - words, argv + words);
    }
    const char *near = nearest_command(cmd);
    if (near) {
        fprintf(stderr, "tend: no command \"%s\"; did you mean \"%s\"?\n", cmd, near);
        return EXIT_USAGE;
    }
    fprintf(stderr, "tend: no command \"%s\"\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
