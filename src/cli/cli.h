/* cli.h: the subcommands of the tend binary and what they share.
 *
 * One file per subcommand (cmd_*.c); main.c dispatches. Exit codes follow one
 * rule for every command: 0 all went well, 1 some input was rejected (the
 * rest was kept), 2 a usage, configuration or I/O error. */
#ifndef TEND_CLI_CLI_H
#define TEND_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/output.h"
#include "store/store.h"

struct buf;

#define EXIT_REJECTED 1
#define EXIT_USAGE    2

#define DEFAULT_DB "tend.db"

/* The database when --db is not given: the TEND_DB environment variable
 * when set and not empty, else DEFAULT_DB (docs/cli.md). */
const char *cli_db_default(void);

int cmd_import(int argc, char **argv);
int cmd_accounts(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_passwd(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_ctas(int argc, char **argv);
int cmd_cta(int argc, char **argv);
int cmd_deliver(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_backtest(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_risk(int argc, char **argv);
int cmd_segments(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_users(int argc, char **argv);

int cmd_escalate(int argc, char **argv);
int cmd_inbox(int argc, char **argv);

int cmd_notes(int argc, char **argv);
int cmd_kpis(int argc, char **argv);
int cmd_report(int argc, char **argv);
/* tend analyze impact ... (cmd_analyze_impact.c): argv[0] is "impact". */
int cmd_analyze_impact(int argc, char **argv);
/* tend analyze process ... (cmd_analyze_process.c): argv[0] is "process". */
int cmd_analyze_process(int argc, char **argv);
/* tend analyze --table FILE.csv --outcome COLUMN ... (cmd_analyze_table.c);
 * cmd_analyze() hands its arguments over when --table is among them. */
int cmd_analyze_table(int argc, char **argv);
/* tend analyze retention (cmd_analyze_retention.c): GRR, NRR, logo churn and
 * the revenue movement per period and group. */
int cmd_analyze_retention(int argc, char **argv);
/* tend analyze --reasons's second part (cmd_analyze_retention.c): every
 * movement's reason (churn, contraction, expansion) by MRR with its NRR
 * impact and cost to serve, days from..to (from 0: the year up to to).
 * Printed in format when print; its section appended to report. Returns 0 or
 * EXIT_USAGE after printing why. */
int cli_movement_reasons(struct store *st, int32_t from, int32_t to, enum out_format format,
                         bool print, struct buf *report);
/* Keeps a report of tend analyze or tend backtest in the store st (kind
 * "analyze" or "backtest"; body an HTML fragment, server/report.h; st NULL:
 * not kept) and, when html_path is set, writes it there as a standalone page; says where on
 * stderr. Returns 0 or EXIT_USAGE after printing why. */
int cli_save_report(struct store *st, const char *cmd, const char *kind, const char *title,
                    const char *summary, const char *body, const char *html_path);

/* Opens the store at path, printing the reason on failure; returns 0 or
 * EXIT_USAGE. Only the commands main.c marks as bringing data in (import,
 * serve) create a missing database; for every other one it is an error,
 * "PATH: no such database (create one with tend import)" (docs/cli.md). */
int cli_open_store(const char *path, struct store **out);

/* Parses --at: a date D means the instant T = D+1 00:00:00Z (SPEC 2: "as of
 * day D"); an ISO-8601 instant is T itself. False when s is neither. */
bool cli_parse_at(const char *s, int64_t *t_ms);

/* Parses a --format argument into *format; on a bad value prints the usage
 * error and returns EXIT_USAGE, else 0. */
int cli_parse_format(const char *cmd, const char *arg, enum out_format *format);

/* Parses a number of days from 1 to 730 given to --NAME (--lead, --horizon);
 * on a bad value prints the usage error and returns EXIT_USAGE, else 0. */
int cli_parse_days_count(const char *cmd, const char *name, const char *arg, int *days);

/* The days a command evaluates: --at DATE (default today, UTC), or every day
 * of --from DATE --to DATE. */
struct cli_days {
    int32_t at, from, to;
    bool has_from, has_to;
};
/* Today, nothing else given. */
void cli_days_init(struct cli_days *d);
/* Takes the value of --at, --from or --to (name without dashes); prints the
 * usage error and returns EXIT_USAGE when it is not a date, else 0. */
int cli_days_option(const char *cmd, const char *name, const char *arg, struct cli_days *d);
/* Checks the options together (--from and --to both or neither, in order);
 * returns 0 or EXIT_USAGE after printing why. *first and *last: the range. */
int cli_days_range(const char *cmd, const struct cli_days *d, int32_t *first, int32_t *last);

/* Prints "tend CMD: " + the message to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
