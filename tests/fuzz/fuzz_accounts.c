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

#include "cli/cli.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024)
        return 0;
    char db[4096], csv[4096];
    snprintf(db, sizeof db, "%s", fuzz_path("tend.db"));
    snprintf(csv, sizeof csv, "%s", fuzz_path("accounts.csv"));
    fuzz_write_file(csv, data, size);
    char *argv[] = {"tend import", "--db", db, "--accounts", csv, NULL};
    optind = 0; /* getopt starts over */
    int rc = cmd_import(5, argv);
    if (rc != 0 && rc != EXIT_REJECTED && rc != EXIT_USAGE)
        fuzz_fail("tend import --accounts exited %d", rc);
    return 0;
}
