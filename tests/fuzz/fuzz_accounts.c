/* fuzz_accounts.c: the accounts CSV of `tend import --accounts`.
 *
 * The input is the CSV file. It goes through the command itself
 * (cli/cli.h: cmd_import, with --db on a database in the harness's
 * directory that lives as long as the process): libcsv fed line by line
 * through the capped line reader, the header, each row's cells turned into
 * traits (numbers, premium_products lists, the as_of instant) and stored as
 * a group call would be (ingest_account_traits), in SQLite. Invariants:
 * no sanitizer report (leaks included), and the command's exit status is one
 * of the documented ones (0 all stored, 1 rows rejected, 2 usage or I/O). */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "fuzz.h"
#include "store/store.h"

/* Runs tend import --accounts on data; returns its exit status. */
static int import_accounts(const uint8_t *data, size_t size) {
    char db[4096], csv[4096];
    snprintf(db, sizeof db, "%s", fuzz_path("tend.db"));
    snprintf(csv, sizeof csv, "%s", fuzz_path("accounts.csv"));
    fuzz_write_file(csv, data, size);
    char *argv[] = {"tend import", "--db", db, "--accounts", csv, NULL};
    optind = 0; /* getopt starts over */
    return cmd_import(5, argv);
}

/* Creates the database (cmd_import, called without main's dispatch, opens
 * an existing one only: the command "import" creates it in main.c) and checks
 * that a valid file imports (exit 0), so that a change that makes the command
 * refuse everything stops the harness instead of leaving it fuzzing a usage
 * error. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (store_open(fuzz_path("tend.db"), &s, err))
        fuzz_fail("setting up: %s", err);
    store_close(s);
    static const char valid[] = "account_id,name,plan,seats\nacct-1,Acme,pro,12\n";
    int rc = import_accounts((const uint8_t *)valid, strlen(valid));
    if (rc != 0)
        fuzz_fail("setting up: tend import --accounts of a valid file exited %d", rc);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024)
        return 0;
    int rc = import_accounts(data, size);
    if (rc != 0 && rc != EXIT_REJECTED && rc != EXIT_USAGE)
        fuzz_fail("tend import --accounts exited %d", rc);
    return 0;
}
