/* table.h: a CSV table (a header row, then one row per observation) read
 * into the data a logistic regression takes (stats/logit.h).
 *
 * - The outcome column holds 0/1, or text: yes/true/churned/1 are 1 and
 *   no/false/renewed/0 are 0, case-insensitively; anything else is an error
 *   naming the line and the value.
 * - Values are trimmed of surrounding spaces and tabs (quoted or not); blank
 *   means empty after that.
 * - A column is numeric when every non-blank value is a finite decimal number
 *   ([+-]digits[.digits][e[+-]digits], C locale; no hex, inf or nan); it is
 *   used as it is.
 * - Any other column is text and one-hot encoded against its most frequent
 *   value (ties: the value that sorts first): one column "COLUMN=VALUE" per
 *   other value, in sorted order (byte order, strcmp). The levels are counted
 *   over the rows kept (see blanks below). A text column with more than
 *   STATS_TABLE_MAX_LEVELS distinct values, one distinct value per non-blank
 *   row (an id), or no non-blank value, is skipped with a note unless columns
 *   names it, in which case it is an error. A text column left with a single
 *   level in the rows kept is skipped with a note (it cannot vary).
 * - A row with a blank (empty or only spaces) in the outcome or in a chosen
 *   column is dropped; the notes say how many, per column.
 * - columns (NULL: every column but the outcome) picks the factors, in the
 *   given order; an unknown name is an error listing the table's columns, and
 *   so is naming the outcome or a column twice.
 * - The header's names must be non-empty and distinct (a UTF-8 BOM is
 *   ignored); every row must have as many fields as the header. */
#ifndef TEND_STATS_TABLE_H
#define TEND_STATS_TABLE_H

#include <stddef.h>

#include "stats/logit.h"
#include "util/err.h"

#define STATS_TABLE_MAX_LEVELS     100
#define STATS_TABLE_MAX_LINE_BYTES (1 << 20)   /* one line of the file */
#define STATS_TABLE_MAX_CELLS      20000000    /* in the file, and rows * k encoded */
#define STATS_TABLE_MAX_TEXT_BYTES (512 << 20) /* all the cells' text */

struct stats_table {
    size_t rows_read;    /* data rows in the file */
    size_t rows_dropped; /* for a blank */
    size_t n, k;         /* rows and columns used */
    double *x;           /* n * k, row-major */
    double *y;           /* n */
    char **names;        /* k: "tenure", "Contract=Two year" */
    char **notes;        /* what was skipped or dropped, one line each, and each
                          * text column's reference level */
    size_t n_notes;
    char **skipped; /* header names of the chosen columns left out (an id, too
                     * many levels, all blank, one level), in column order */
    size_t n_skipped;
};

/* Reads path into *t (which then owns its memory: stats_table_free). Errors
 * (TEND_ERR_IO, TEND_ERR_INVALID, TEND_ERR_LIMIT; *t untouched) name the file
 * and, where there is one, the line and the column, in err (STATS_ERR_BYTES):
 * "telco.csv:12: column Churn: \"maybe\" is not an outcome (...)". */
enum tend_err stats_table_load(const char *path, const char *outcome, const char *const *columns,
                               size_t n_columns, struct stats_table *t, char *err);
/* Frees what t owns and zeroes it; accepts NULL. */
void stats_table_free(struct stats_table *t);
/* The table as the data for stats_logit_fit (pointers into t). */
void stats_table_data(const struct stats_table *t, struct stats_data *d);

#endif
