/* move.h: copying a SQLite database into PostgreSQL (tend migrate).
 *
 * Only store/ knows both schemas, so the copy lives here: it reads the
 * SQLite file with sqlite3 and writes PostgreSQL with libpq's COPY, table by
 * table, in one PostgreSQL transaction for the whole run (a run that fails
 * leaves the target as it found it). It does not use the store operations:
 * verifying the result through them (metrics as of a day, computed from each
 * database) is the caller's part (cli/cmd_migrate.c). docs/operations.md has
 * the procedure, docs/store.md the table-by-table mapping. */
#ifndef TEND_STORE_MOVE_H
#define TEND_STORE_MOVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

#define MOVE_ERR_BYTES  1024
#define MOVE_MAX_TABLES 64

/* One table of the target: the rows the source holds for it and the rows
 * the target holds after the copy (-1: not counted, the run stopped
 * before). */
struct move_count {
    const char *table; /* PostgreSQL's name; static */
    int64_t source;
    int64_t target;
};

struct move_report {
    struct move_count counts[MOVE_MAX_TABLES];
    int n_counts;
    int schema_version; /* of both databases */
    int64_t rows;       /* copied, every table */
    double seconds;     /* the whole copy, counts included */
    /* --force: the target held rows before, now replaced. */
    bool replaced;
};

struct move_options {
    const char *from; /* a SQLite path or file: URI; must exist */
    const char *to;   /* a postgresql:// (or postgres://) URL */
    /* Replace what the target holds; without it a target with any row in
     * any of tend's tables is refused (TEND_ERR_CONFLICT). */
    bool force;
    /* Copy nothing: count both sides, and fail (TEND_ERR_DB) naming the
     * tables whose rows differ. The target must have tend's schema (it is
     * brought up to date, as for a copy). */
    bool verify_only;
    /* Progress lines (NULL: none): one per table, and while a large table
     * is copied, its rows so far, every 5 s (on a terminal, one line kept
     * up to date instead). */
    FILE *progress;
};

/* Copies every table of the SQLite database o->from into the PostgreSQL
 * database o->to, after bringing both schemas up to the newest version
 * (the same number on both, or the copy is refused). Reads the source in
 * one read transaction (a consistent snapshot even if something writes it)
 * and writes the target in one transaction: empties it first with --force,
 * makes the event partitions of the months the events span, copies each
 * table with COPY, sets every identity past the copied ids, compares the
 * rows of each table with the source's, and commits only if they are
 * equal. *r gets the counts (also when they differ: the caller prints
 * them). On failure err (MOVE_ERR_BYTES) says what and where:
 * TEND_ERR_USAGE: from is not a SQLite location or to not a PostgreSQL URL;
 * TEND_ERR_NOTFOUND: no database at from; TEND_ERR_IO: from cannot be
 * opened or to cannot be reached; TEND_ERR_CONFLICT: the target holds rows
 * (named with their counts) and !force; TEND_ERR_INVALID: the schemas'
 * versions differ, or a table or column of either is not in the copy's
 * table list (move.c); TEND_ERR_DB: a statement or a row failed (the table
 * and PostgreSQL's line of the COPY), or the counts differ. Nothing is
 * committed on failure; the schema migrations applied before the copy
 * stay. */
enum tend_err move_copy(const struct move_options *o, struct move_report *r, char *err);

/* Checks that the copy's table list covers every table and column of the
 * SQLite database at path as it is (no migration is applied): TEND_OK, or
 * TEND_ERR_INVALID naming the first table or column it would miss. For the
 * tests: a new migration that adds one must extend the list. */
enum tend_err move_check_sqlite(const char *path, char *err);

/* url with the password of its user part and of a `password=` query
 * parameter, if any, replaced by "***", into buf (size bytes), for messages
 * and logs. A path (no "://") is copied as it is. */
void move_url_redacted(const char *url, char *buf, size_t size);

#endif
