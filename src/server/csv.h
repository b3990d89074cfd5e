/* csv.h: a table page as CSV (?format=csv on a page or an API listing,
 * docs/dashboard.md "Export").
 *
 * The CSV is made from the same view (JSON) the page draws and the API
 * answers, with the same filters and page, so its rows are the API's rows:
 * one CSV row per element of the view's table (ctas, accounts, ...), one
 * column per scalar member under its stable JSON name (an object member one
 * level down as "parent.member"; arrays, such as a trend, are left out).
 * Values are written as the API writes them (numbers in cJSON's shortest
 * exact form, true/false, null as an empty cell), quoted per RFC 4180 when
 * they hold a comma, a quote or a line break. A text cell that a
 * spreadsheet would run as a formula (starting with =, +, -, @, a tab or a
 * carriage return) gets a leading apostrophe. Bounded by the view, which is
 * one page (at most 500 rows). */
#ifndef TEND_SERVER_CSV_H
#define TEND_SERVER_CSV_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "util/buf.h"

#define CSV_MAX_COLUMNS 100

/* Appends view's table as CSV to out (header line first, CRLF line ends)
 * and sets *name to the table's name ("ctas"); false when the view has no
 * table (no array of objects). */
bool csv_of_view(const cJSON *view, struct buf *out, const char **name);

#endif
