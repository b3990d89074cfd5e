/* segments_json.h: stored segment, plan and owner groups as JSON rows
 * (docs/dashboard.md "Segments"): each row a group's day with its figures
 * (accounts, ARR, health mean and bands, logins and feature events per
 * active user, NPS, tickets, open CTAs), null where there is no value. */
#ifndef TEND_EVAL_SEGMENTS_JSON_H
#define TEND_EVAL_SEGMENTS_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* One stored row as a JSON object (the caller owns it). */
cJSON *seg_row_json(const struct store_segment_row *r);
/* The groups of kind (enum seg_kind; < 0: every kind) on the latest day
 * with groups on or before at, into *rows (an array, always made; the
 * caller frees it) and *day; found false when no day has any. */
enum tend_err seg_rows_json(struct store *st, int kind, int32_t at, cJSON **rows, int32_t *day,
                            bool *found);
/* One group's days from..to, oldest first, into *days (always made). */
enum tend_err seg_trend_json(struct store *st, int kind, const char *name, int32_t from, int32_t to,
                             cJSON **days);

#endif
