/* html.h: the small pieces the dashboard's pages are made of.
 *
 * Escaping (text and attribute values alike: & < > " '), percent-encoding of
 * URL parts, reading the request's query back, numbers, times in the
 * configured zone, and the inline SVG graphics (sparkline, score chart, bars).
 * Everything appends to a struct buf and never fails on content: a missing or
 * malformed value is shown as "—" or left out, never trusted. Appends ignore the
 * buffer's cap (a capped buffer gets a page cut short), so pages are rendered
 * into an uncapped buffer; their size is bounded by the views' own limits. */
#ifndef TEND_SERVER_HTML_H
#define TEND_SERVER_HTML_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define HTML_DASH "\xe2\x80\x94" /* — for an unknown value */

/* The default band thresholds (health.bands): red below 40, green from 70. The
 * views carry each score's band but not the thresholds, so the charts draw these. */
#define HTML_RED_BELOW  40.0
#define HTML_GREEN_FROM 70.0

/* Appends s with & < > " ' escaped as entities; safe in text and in quoted
 * attribute values. NULL appends nothing. */
void html_esc(struct buf *b, const char *s);
/* Whether p is a path on this site to send someone to: a strict grammar,
 * not a blacklist. One "/" first, then only RFC 3986 path and query
 * characters (A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) * + , ; = : @ / ?) and %XX
 * escapes, no "//" anywhere, at most HTML_LOCAL_PATH_MAX bytes. So no
 * backslash, space, control character (a browser drops a tab or newline
 * and "/<TAB>/host" becomes "//host", another site), "#" or non-ASCII byte. */
#define HTML_LOCAL_PATH_MAX 2048
bool html_local_path(const char *p);
/* As html_esc, at most max_chars characters (code points) of s; a longer s is
 * cut at a character boundary and ends in "…". */
void html_esc_cut(struct buf *b, const char *s, size_t max_chars);
/* Appends s percent-encoded as one URL path segment or query value: every byte
 * but A-Z a-z 0-9 - . _ ~ becomes %XX, so / ? # & = and spaces cannot change
 * the URL's structure. The result needs no further HTML escaping. */
void html_url_part(struct buf *b, const char *s);

/* Finds the nth (0-based) value of key in the query of path ("/x?a=1&b=2"),
 * percent-decoded ('+' is a space), and appends it to out. Returns false, out
 * untouched, when there is no such value. */
bool html_query_get(const char *path, const char *key, size_t nth, struct buf *out);
/* Appends path's query without the parameters named in drop (a NULL-terminated
 * list), re-encoded, as "k=v&amp;k=v" ready for an href; nothing when empty. */
void html_query_keep(struct buf *b, const char *path, const char *const *drop);

/* Appends v with the given decimals and thousands separators ("1,200.5"). */
void html_number(struct buf *b, double v, int decimals);
/* Appends a JSON number: integral values without decimals, others with
 * decimals; HTML_DASH for null, missing or not a number. */
void html_json_number(struct buf *b, const cJSON *v, int decimals);
/* Appends a JSON value for a table cell: a string escaped, a number, true or
 * false, HTML_DASH for null or missing, arrays and objects as compact JSON
 * (escaped, cut to 200 characters). */
void html_json_value(struct buf *b, const cJSON *v);

/* Writes the ISO-8601 UTC instant iso as local time in the zone named tz
 * ("Europe/Berlin"; NULL, "" or unknown: UTC) as "31 Oct 2026 10:14" into out.
 * Returns false, out untouched, when iso is not an instant. */
bool html_format_time(const char *iso, const char *tz, char out[32]);
/* Appends <time datetime="iso">31 Oct 2026 10:14</time>, or the escaped text
 * itself when it is not an instant, or HTML_DASH for NULL. */
void html_time(struct buf *b, const char *iso, const char *tz);
/* Appends the day "YYYY-MM-DD" as <time datetime="...">2 Nov 2026</time>, the
 * escaped text when it is not a date, HTML_DASH for NULL. */
void html_date(struct buf *b, const char *ymd);
/* Appends a duration in seconds, rounded, as "42 s", "3 min", "2 h 5 min" or "3 d 4 h". */
void html_duration(struct buf *b, double seconds);

/* The band name of a score under the default thresholds: "red", "yellow", "green". */
const char *html_band_of(double score);
/* band if it is one of red, yellow, green; else "none". The result is safe in a class. */
const char *html_band_class(const char *band);

/* Appends an inline SVG sparkline of trend (an array of scores 0-100 or null,
 * oldest first): a polyline per run of known values, a dot for a value standing
 * alone, coloured by band ("red", "yellow", "green", other: neutral). */
void html_sparkline(struct buf *b, const cJSON *trend, const char *band);
/* Appends the SVG line chart (class "chart", role="img", with aria-label) of
 * history (objects with "date" and "overall", oldest first): the band zones and
 * thresholds, the score's line broken where days are missing or null, date labels
 * along the bottom; with components set, a thin line per component as well. */
void html_chart(struct buf *b, const cJSON *history, bool components);
/* Appends a small horizontal SVG bar showing value out of max, with class
 * "fill-CLS" on the filled part; value < 0 or NaN draws the empty track only. */
void html_bar(struct buf *b, double value, double max, const char *cls);

/* The chart's component series, in the order of the views and their CSS class. */
extern const char *const html_components[5];

#endif
