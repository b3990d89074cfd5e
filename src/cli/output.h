/* output.h: tables printed as aligned text, CSV or JSON (--format).
 *
 * A command fills a struct out_table row by row with typed cells and prints it
 * once. Text tables align columns; CSV follows RFC 4180 (quotes when needed);
 * JSON is an array of objects keyed by column name, numbers as numbers and
 * empty cells as null. Strings are copied in. */
#ifndef TEND_CLI_OUTPUT_H
#define TEND_CLI_OUTPUT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum out_format { OUT_TABLE, OUT_CSV, OUT_JSON };

struct out_table;

/* Parses "table", "csv" or "json"; false otherwise. */
bool out_parse_format(const char *s, enum out_format *out);

/* A table with n_cols columns named by cols (borrowed, must outlive it). */
struct out_table *out_new(const char *const *cols, size_t n_cols);
void out_free(struct out_table *t);
/* Starts a new row; the cells below fill it left to right. */
void out_row(struct out_table *t);
void out_str(struct out_table *t, const char *s); /* NULL: empty cell */
void out_int(struct out_table *t, int64_t v);
void out_num(struct out_table *t, double v, bool known);  /* plain decimal */
void out_raw_json(struct out_table *t, const char *json); /* JSON value; text as is */
/* Prints the table to f in the format. */
/* A JSON number, or null when v is not finite (NaN: "not computed"). */
cJSON *out_json_number(double v);
void out_print(const struct out_table *t, enum out_format format, FILE *f);

#endif
