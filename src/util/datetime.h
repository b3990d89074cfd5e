/* datetime.h: UTC instants, calendar days and ISO-8601.
 *
 * tend keeps every instant as int64 milliseconds since 1970-01-01T00:00:00Z
 * (finer digits of a timestamp are truncated, not rounded) and every calendar
 * date as an int32 day number, days since 1970-01-01. Day arithmetic ("days
 * since", "days left" in SPEC 2) is then a subtraction of day numbers.
 *
 * Accepted ISO-8601 forms (the ones Segment libraries and hand-written
 * scripts send): YYYY-MM-DD, and YYYY-MM-DD[T ]HH:MM[:SS[.fraction]] followed by
 * Z, z, +HH:MM, +HHMM, +HH (or -) or nothing, which means UTC. Years 0001-9999,
 * also once the offset is applied (DT_MIN_MS to DT_MAX_MS).
 * Every field is range-checked against the real calendar (leap years included);
 * a leap second (:60) is read as :59.999. This is the one clock-free module that
 * knows the calendar; dt_now_ms() is the only clock read and core/ never calls it. */
#ifndef TEND_UTIL_DATETIME_H
#define TEND_UTIL_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_MS_PER_DAY 86400000LL
#define DT_MIN_MS     (-62135596800000LL) /* 0001-01-01T00:00:00.000Z */
#define DT_MAX_MS     253402300799999LL   /* 9999-12-31T23:59:59.999Z */

/* Day number of a proleptic Gregorian date; m 1-12, d 1-31, not validated. */
int32_t dt_days_from_civil(int y, int m, int d);
/* The date of a day number. */
void dt_civil_from_days(int32_t day, int *y, int *m, int *d);
/* Number of days in month m (1-12) of year y. */
int dt_days_in_month(int y, int m);
/* Day number of the instant ms (floor, also before 1970). */
int32_t dt_day_of_ms(int64_t ms);

/* Parses an ISO-8601 instant (see above) from the len bytes at s into *ms.
 * Returns false, *ms untouched, when s is not one. */
bool dt_parse_instant(const char *s, size_t len, int64_t *ms);
/* Parses exactly YYYY-MM-DD into a day number; false when not a real date. */
bool dt_parse_date(const char *s, size_t len, int32_t *day);

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (25 bytes with the NUL) into out. */
void dt_format_instant(int64_t ms, char out[32]);
/* Writes "YYYY-MM-DD" into out. */
void dt_format_date(int32_t day, char out[16]);

/* The wall clock, ms since the epoch. The only clock read in tend's libraries.
 *
 * For tests only: when the environment variable TEND_TEST_CLOCK_OFFSET_S holds a
 * whole number of seconds (read once, at the first call), every reading is
 * shifted by it, so that a test can run tend as of a chosen date and time of day
 * (the daily run at serve.daily_at, a day that does not end while the test runs)
 * while time still advances at its real pace. Every process of a test gets the
 * same offset, so the clock never goes back across a restart. A value that is
 * not a whole number of seconds within 100 years is reported on stderr and
 * ignored. docs/development.md, "Testing". */
int64_t dt_now_ms(void);
/* The shift TEND_TEST_CLOCK_OFFSET_S applies to dt_now_ms(), in ms (0 without
 * it); tend serve names it when it is not 0. */
int64_t dt_clock_offset_ms(void);

#endif
