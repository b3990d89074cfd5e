/* cli.h: the subcommands of the tend binary and what they share.
 *
 * One file per subcommand (cmd_*.c); main.c dispatches. Exit codes follow one
 * rule for every command: 0 all went well, 1 some input was rejected (the
 * rest was kept), 2 a usage, configuration or I/O error. */
#ifndef TEND_CLI_CLI_H
#define TEND_CLI_CLI_H

#include "store/store.h"

#define EXIT_REJECTED 1
#define EXIT_USAGE    2

#define DEFAULT_DB "tend.db"

int cmd_import(int argc, char **argv);
int cmd_accounts(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Opens the store at path, printing the reason on failure; returns 0 or
 * EXIT_USAGE. */
int cli_open_store(const char *path, struct store **out);

/* Prints "tend CMD: " + the message to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
