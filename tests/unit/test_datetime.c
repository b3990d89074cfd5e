/* test_datetime.c: unit tests of util/datetime (ISO-8601 parsing, calendar
 * arithmetic, formatting). Expected instants were computed independently
 * (Python's datetime), not with the functions under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/datetime.h"

#define SENTINEL INT64_C(0x5A5A5A5A5A5A)

/* Parses s (all of it) and returns the instant; fails the test when rejected. */
static int64_t instant(const char *s) {
    int64_t ms = SENTINEL;
    if (!dt_parse_instant(s, strlen(s), &ms))
        fail_msg("\"%s\" was rejected", s);
    return ms;
}

/* Asserts that s is not an instant and that the output was left untouched. */
static void assert_instant_rejected(const char *s) {
    int64_t ms = SENTINEL;
    if (dt_parse_instant(s, strlen(s), &ms))
        fail_msg("\"%s\" was accepted as %lld", s, (long long)ms);
    assert_int_equal(ms, SENTINEL);
}

static int32_t date(const char *s) {
    int32_t day = -777;
    if (!dt_parse_date(s, strlen(s), &day))
        fail_msg("date \"%s\" was rejected", s);
    return day;
}

static void assert_date_rejected(const char *s) {
    int32_t day = -777;
    if (dt_parse_date(s, strlen(s), &day))
        fail_msg("date \"%s\" was accepted as %d", s, (int)day);
    assert_int_equal(day, -777);
}

/* ---- dt_parse_instant: zones ---------------------------------------------- */

static void utc_z_timestamp_is_parsed(void **state) {
    assert_int_equal(instant("2024-05-06T07:08:09Z"), 1714979289000LL);
}

static void lowercase_z_and_t_are_accepted(void **state) {
    assert_int_equal(instant("2024-05-06T07:08:09z"), 1714979289000LL);
    assert_int_equal(instant("2024-05-06t07:08:09Z"), 1714979289000LL);
}

static void offset_with_colon_is_converted_to_utc(void **state) {
    assert_int_equal(instant("2024-05-06T07:08:09+02:00"), 1714972089000LL);
}

static void negative_offset_without_colon_is_converted_to_utc(void **state) {
    assert_int_equal(instant("2024-05-06T07:08:09-0530"), 1714999089000LL);
    assert_int_equal(instant("2024-05-06T07:08:09-05:30"), 1714999089000LL);
}

static void hour_only_offset_is_converted_to_utc(void **state) {
    assert_int_equal(instant("2024-05-06T07:08:09+05"), 1714961289000LL);
}

static void offset_can_move_the_instant_to_the_previous_day(void **state) {
    /* 2024-01-01T00:00+02:00 is 2023-12-31T22:00Z. */
    assert_int_equal(instant("2024-01-01T00:00:00+02:00"), 1704060000000LL);
}

static void timestamp_without_zone_is_utc(void **state) {
    assert_int_equal(instant("2024-05-06T07:08:09"), 1714979289000LL);
}

static void seconds_are_optional(void **state) {
    assert_int_equal(instant("2024-05-06T07:08Z"), 1714979289000LL - 9000);
    assert_int_equal(instant("2024-05-06T07:08"), 1714979289000LL - 9000);
}

static void space_separator_is_accepted(void **state) {
    assert_int_equal(instant("2024-05-06 07:08:09Z"), 1714979289000LL);
}

static void date_only_is_midnight_utc(void **state) {
    assert_int_equal(instant("2024-05-06"), 1714953600000LL);
    assert_int_equal(instant("1970-01-01"), 0);
}

static void instants_before_1970_are_negative(void **state) {
    assert_int_equal(instant("1969-12-31T23:59:59.999Z"), -1);
    assert_int_equal(instant("1900-01-01T00:00:00Z"), -2208988800000LL);
    assert_int_equal(instant("0001-01-01T00:00:00Z"), -62135596800000LL);
    assert_int_equal(instant("9999-12-31T23:59:59.999Z"), 253402300799999LL);
}

/* ---- fractions ---------------------------------------------------------------- */

static void fractional_seconds_of_any_length_are_truncated_to_ms(void **state) {
    const int64_t base = 1714979289000LL;
    assert_int_equal(instant("2024-05-06T07:08:09.1Z"), base + 100);
    assert_int_equal(instant("2024-05-06T07:08:09.12Z"), base + 120);
    assert_int_equal(instant("2024-05-06T07:08:09.123Z"), base + 123);
    assert_int_equal(instant("2024-05-06T07:08:09.1234Z"), base + 123);
    assert_int_equal(instant("2024-05-06T07:08:09.12345Z"), base + 123);
    assert_int_equal(instant("2024-05-06T07:08:09.123456Z"), base + 123);
    assert_int_equal(instant("2024-05-06T07:08:09.1234567Z"), base + 123);
    assert_int_equal(instant("2024-05-06T07:08:09.12345678Z"), base + 123);
    assert_int_equal(instant("2024-05-06T07:08:09.123456789Z"), base + 123);
    /* truncated, not rounded */
    assert_int_equal(instant("2024-05-06T07:08:09.999999999Z"), base + 999);
    assert_int_equal(instant("2024-05-06T07:08:09.0009Z"), base);
}

static void comma_is_a_decimal_separator(void **state) {
    assert_int_equal(instant("2024-05-06T07:08:09,5Z"), 1714979289500LL);
}

static void fraction_with_offset_is_converted(void **state) {
    assert_int_equal(instant("2024-05-06T09:08:09.123+02:00"), 1714979289123LL);
}

static void fraction_without_digits_is_rejected(void **state) {
    assert_instant_rejected("2024-05-06T07:08:09.Z");
    assert_instant_rejected("2024-05-06T07:08:09.");
}

static void fraction_without_seconds_is_rejected(void **state) {
    assert_instant_rejected("2024-05-06T07:08.5Z");
}

/* ---- calendar checks ------------------------------------------------------------ */

static void leap_day_of_a_leap_year_is_accepted(void **state) {
    assert_int_equal(instant("2028-02-29T12:00:00Z"), 21243LL * 86400000 + 12 * 3600000);
    assert_int_equal(instant("2000-02-29"), 11016LL * 86400000);
}

static void leap_day_of_a_common_year_is_rejected(void **state) {
    assert_instant_rejected("2027-02-29T12:00:00Z");
    assert_instant_rejected("2027-02-29");
}

static void leap_day_of_a_century_not_divisible_by_400_is_rejected(void **state) {
    assert_instant_rejected("1900-02-29");
    assert_instant_rejected("2100-02-29T00:00:00Z");
}

static void day_past_the_end_of_its_month_is_rejected(void **state) {
    assert_instant_rejected("2024-04-31");
    assert_instant_rejected("2024-01-32");
    assert_instant_rejected("2024-01-00");
}

static void month_13_and_month_0_are_rejected(void **state) {
    assert_instant_rejected("2024-13-01T00:00:00Z");
    assert_instant_rejected("2024-00-10T00:00:00Z");
}

static void hour_24_is_rejected(void **state) {
    assert_instant_rejected("2024-05-06T24:00:00Z");
    assert_int_equal(instant("2024-05-06T23:59:59Z"), 1714953600000LL + 86399000);
}

static void minute_60_is_rejected(void **state) {
    assert_instant_rejected("2024-05-06T07:60:00Z");
    assert_instant_rejected("2024-05-06T07:60Z");
}

static void second_61_is_rejected(void **state) {
    assert_instant_rejected("2024-05-06T07:08:61Z");
}

static void leap_second_is_read_as_the_last_ms_of_the_minute(void **state) {
    assert_int_equal(instant("2024-05-06T07:08:60Z"), 1714979339999LL);
    /* even with a fraction: the leap second is the last instant of the minute */
    assert_int_equal(instant("2024-05-06T07:08:60.5Z"), 1714979339999LL);
}

static void year_zero_is_rejected(void **state) {
    assert_instant_rejected("0000-06-01");
}

/* Found by tests/fuzz/fuzz_datetime.c: an offset could carry a local year
 * 9999 (or 0001) instant into UTC year 10000 (or 0), which formats as text
 * that no longer parses. The window applies to the instant in UTC. */
static void offset_cannot_carry_an_instant_out_of_years_1_to_9999(void **state) {
    assert_instant_rejected("9999-12-31T23:59:59.2024-04");
    assert_instant_rejected("9999-12-31T23:00-01:00");
    assert_instant_rejected("0001-01-01T00:00+00:01");
    assert_int_equal(instant("9999-12-31T23:59:59.999Z"), 253402300799999LL);
    assert_int_equal(instant("9999-12-31T23:59:59.999+01:00"), 253402300799999LL - 3600000);
    assert_int_equal(instant("0001-01-01T00:00:00Z"), -62135596800000LL);
    assert_int_equal(instant("0001-01-01T00:59-01:00"), -62135596800000LL + 7140000);
}

/* ---- malformed input ---------------------------------------------------------------- */

static void trailing_garbage_is_rejected(void **state) {
    assert_instant_rejected("2024-05-06T07:08:09Zx");
    assert_instant_rejected("2024-05-06T07:08:09Z ");
    assert_instant_rejected("2024-05-06T07:08:09+02:00x");
    assert_instant_rejected("2024-05-06x");
    assert_instant_rejected("2024-05-06T");
    assert_instant_rejected("2024-05-06T07:08:09 UTC");
}

static void malformed_offsets_are_rejected(void **state) {
    assert_instant_rejected("2024-05-06T07:08:09+2");
    assert_instant_rejected("2024-05-06T07:08:09+02:0");
    assert_instant_rejected("2024-05-06T07:08:09+");
    assert_instant_rejected("2024-05-06T07:08:09+24:00");
    assert_instant_rejected("2024-05-06T07:08:09+02:60");
}

static void offset_with_dangling_colon_is_rejected(void **state) {
    /* "+HH:" is none of +HH:MM, +HHMM, +HH */
    assert_instant_rejected("2024-05-06T07:08:09+02:");
}

static void fields_with_wrong_digit_counts_are_rejected(void **state) {
    assert_instant_rejected("2024-5-06T07:08:09Z");
    assert_instant_rejected("2024-05-6T07:08:09Z");
    assert_instant_rejected("2024-05-06T7:08:09Z");
    assert_instant_rejected("2024-05-06T07:8:09Z");
    assert_instant_rejected("2024-05-06T07:08:9Z");
    assert_instant_rejected("24-05-06");
    assert_instant_rejected("2024/05/06");
    assert_instant_rejected("2024-05-06T07");
    assert_instant_rejected("20240506T070809Z");
}

static void empty_string_is_rejected(void **state) {
    assert_instant_rejected("");
    int64_t ms = SENTINEL;
    assert_false(dt_parse_instant("2024-05-06", 0, &ms));
    assert_int_equal(ms, SENTINEL);
}

static void only_len_bytes_are_read(void **state) {
    /* Callers pass slices of larger buffers (a JSON string, a CSV field). */
    const char *s = "2024-05-06T07:08:09Zgarbage";
    int64_t ms = 0;
    assert_true(dt_parse_instant(s, 20, &ms));
    assert_int_equal(ms, 1714979289000LL);
    assert_true(dt_parse_instant(s, 10, &ms));
    assert_int_equal(ms, 1714953600000LL);
    ms = SENTINEL;
    assert_false(dt_parse_instant(s, 9, &ms)); /* "2024-05-0" */
    assert_int_equal(ms, SENTINEL);
    assert_false(dt_parse_instant(s, 21, &ms));
}

/* ---- dt_parse_date ------------------------------------------------------------------- */

static void date_parses_to_its_day_number(void **state) {
    assert_int_equal(date("1970-01-01"), 0);
    assert_int_equal(date("2000-03-01"), 11017);
    assert_int_equal(date("2026-12-31"), 20818);
    assert_int_equal(date("1969-12-31"), -1);
    assert_int_equal(date("1900-01-01"), -25567);
    assert_int_equal(date("2028-02-29"), 21243);
}

static void date_rejects_anything_but_exactly_yyyy_mm_dd(void **state) {
    assert_date_rejected("");
    assert_date_rejected("2024-05-06T00:00:00Z");
    assert_date_rejected("2024-05-06T00:00");
    assert_date_rejected("2024-05-06 ");
    assert_date_rejected(" 2024-05-06");
    assert_date_rejected("2024-5-06");
    assert_date_rejected("2024-05-6");
    assert_date_rejected("20240506");
    assert_date_rejected("2024/05/06");
    assert_date_rejected("2024-05-06Z");
    assert_date_rejected("2024-05-0");
}

static void date_rejects_dates_not_in_the_calendar(void **state) {
    assert_date_rejected("2027-02-29");
    assert_date_rejected("1900-02-29");
    assert_date_rejected("2024-02-30");
    assert_date_rejected("2024-06-31");
    assert_date_rejected("2024-13-01");
    assert_date_rejected("2024-00-01");
    assert_date_rejected("2024-01-00");
    assert_date_rejected("0000-01-01");
    assert_int_equal(date("2000-02-29"), 11016);
}

/* ---- day numbers ------------------------------------------------------------------------ */

static int ref_days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static void known_day_numbers(void **state) {
    assert_int_equal(dt_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(dt_days_from_civil(1970, 1, 2), 1);
    assert_int_equal(dt_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(dt_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(dt_days_from_civil(2000, 2, 29), 11016);
    assert_int_equal(dt_days_from_civil(1900, 1, 1), -25567);
    assert_int_equal(dt_days_from_civil(2200, 12, 31), 84370);
    assert_int_equal(dt_days_from_civil(1, 1, 1), -719162);
}

/* Walks every day from 1900-01-01 to 2200-12-31 with an independent calendar and
 * checks both conversions agree with it and advance by exactly one. */
static void every_day_from_1900_to_2200_round_trips(void **state) {
    int y = 1900, m = 1, d = 1;
    int32_t day = dt_days_from_civil(1900, 1, 1);
    assert_int_equal(day, -25567);
    int count = 0;
    while (y <= 2200) {
        assert_int_equal(dt_days_from_civil(y, m, d), day);
        int cy, cm, cd;
        dt_civil_from_days(day, &cy, &cm, &cd);
        if (cy != y || cm != m || cd != d)
            fail_msg("day %d: got %04d-%02d-%02d, want %04d-%02d-%02d", (int)day, cy, cm, cd, y, m,
                     d);
        day++;
        count++;
        if (++d > ref_days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    assert_int_equal(count, 84370 + 25567 + 1);
}

static void day_numbers_round_trip_over_years_1_to_9999(void **state) {
    int32_t first = dt_days_from_civil(1, 1, 1), last = dt_days_from_civil(9999, 12, 31);
    for (int32_t day = first; day <= last; day += 13) {
        int y, m, d;
        dt_civil_from_days(day, &y, &m, &d);
        assert_in_range(y, 1, 9999);
        assert_in_range(m, 1, 12);
        assert_in_range(d, 1, ref_days_in_month(y, m));
        assert_int_equal(dt_days_from_civil(y, m, d), day);
    }
}

static void days_in_month_follows_the_gregorian_calendar(void **state) {
    static const int days_2023[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 1; m <= 12; m++) {
        assert_int_equal(dt_days_in_month(2023, m), days_2023[m - 1]);
        if (m != 2)
            assert_int_equal(dt_days_in_month(2024, m), days_2023[m - 1]);
    }
    assert_int_equal(dt_days_in_month(2024, 2), 29);
    assert_int_equal(dt_days_in_month(2000, 2), 29);
    assert_int_equal(dt_days_in_month(1900, 2), 28);
    assert_int_equal(dt_days_in_month(2100, 2), 28);
    assert_int_equal(dt_days_in_month(2400, 2), 29);
}

static void day_of_ms_floors_also_before_1970(void **state) {
    assert_int_equal(dt_day_of_ms(0), 0);
    assert_int_equal(dt_day_of_ms(86399999), 0);
    assert_int_equal(dt_day_of_ms(86400000), 1);
    assert_int_equal(dt_day_of_ms(-1), -1);
    assert_int_equal(dt_day_of_ms(-86400000), -1);
    assert_int_equal(dt_day_of_ms(-86400001), -2);
    assert_int_equal(dt_day_of_ms(-2208988800000LL), -25567);
    assert_int_equal(dt_day_of_ms(1714979289000LL), 19849);
}

/* ---- formatting ------------------------------------------------------------------------------ */

static void instant_is_formatted_as_utc_with_ms(void **state) {
    char out[32];
    dt_format_instant(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    dt_format_instant(1714979289123LL, out);
    assert_string_equal(out, "2024-05-06T07:08:09.123Z");
    dt_format_instant(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    dt_format_instant(-2208988800000LL, out);
    assert_string_equal(out, "1900-01-01T00:00:00.000Z");
    dt_format_instant(253402300799999LL, out);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
    assert_int_equal(strlen(out), 24);
}

static void date_is_formatted_as_yyyy_mm_dd(void **state) {
    char out[16];
    dt_format_date(0, out);
    assert_string_equal(out, "1970-01-01");
    dt_format_date(11017, out);
    assert_string_equal(out, "2000-03-01");
    dt_format_date(-1, out);
    assert_string_equal(out, "1969-12-31");
    dt_format_date(21243, out);
    assert_string_equal(out, "2028-02-29");
}

static void formatted_instants_parse_back_to_the_same_ms(void **state) {
    static const int64_t samples[] = {0,
                                      1,
                                      -1,
                                      999,
                                      86399999,
                                      1714979289123LL,
                                      -2208988800000LL + 1,
                                      951782400000LL /* 2000-02-29 */,
                                      253402300799999LL,
                                      -62135596800000LL};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char out[32];
        dt_format_instant(samples[i], out);
        assert_int_equal(instant(out), samples[i]);
    }
}

static void clock_reads_a_plausible_time(void **state) {
    int64_t now = dt_now_ms();
    assert_true(now > 1704067200000LL); /* after 2024-01-01 */
    assert_true(now < 4102444800000LL); /* before 2100-01-01 */
}

static int64_t real_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* main sets TEND_TEST_CLOCK_OFFSET_S to two days back before any reading: the
 * test clock is the real one shifted by it, read once. */
static void test_clock_is_the_real_one_shifted(void **state) {
    const int64_t offset = -2 * DT_MS_PER_DAY;
    assert_int_equal(dt_clock_offset_ms(), offset);
    int64_t before = real_ms();
    int64_t now = dt_now_ms();
    int64_t after = real_ms();
    assert_in_range(now, before + offset, after + offset);
    setenv("TEND_TEST_CLOCK_OFFSET_S", "0", 1); /* read once: no effect now */
    assert_int_equal(dt_clock_offset_ms(), offset);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utc_z_timestamp_is_parsed),
        cmocka_unit_test(offset_cannot_carry_an_instant_out_of_years_1_to_9999),
        cmocka_unit_test(lowercase_z_and_t_are_accepted),
        cmocka_unit_test(offset_with_colon_is_converted_to_utc),
        cmocka_unit_test(negative_offset_without_colon_is_converted_to_utc),
        cmocka_unit_test(hour_only_offset_is_converted_to_utc),
        cmocka_unit_test(offset_can_move_the_instant_to_the_previous_day),
        cmocka_unit_test(timestamp_without_zone_is_utc),
        cmocka_unit_test(seconds_are_optional),
        cmocka_unit_test(space_separator_is_accepted),
        cmocka_unit_test(date_only_is_midnight_utc),
        cmocka_unit_test(instants_before_1970_are_negative),
        cmocka_unit_test(fractional_seconds_of_any_length_are_truncated_to_ms),
        cmocka_unit_test(comma_is_a_decimal_separator),
        cmocka_unit_test(fraction_with_offset_is_converted),
        cmocka_unit_test(fraction_without_digits_is_rejected),
        cmocka_unit_test(fraction_without_seconds_is_rejected),
        cmocka_unit_test(leap_day_of_a_leap_year_is_accepted),
        cmocka_unit_test(leap_day_of_a_common_year_is_rejected),
        cmocka_unit_test(leap_day_of_a_century_not_divisible_by_400_is_rejected),
        cmocka_unit_test(day_past_the_end_of_its_month_is_rejected),
        cmocka_unit_test(month_13_and_month_0_are_rejected),
        cmocka_unit_test(hour_24_is_rejected),
        cmocka_unit_test(minute_60_is_rejected),
        cmocka_unit_test(second_61_is_rejected),
        cmocka_unit_test(leap_second_is_read_as_the_last_ms_of_the_minute),
        cmocka_unit_test(year_zero_is_rejected),
        cmocka_unit_test(trailing_garbage_is_rejected),
        cmocka_unit_test(malformed_offsets_are_rejected),
        cmocka_unit_test(offset_with_dangling_colon_is_rejected),
        cmocka_unit_test(fields_with_wrong_digit_counts_are_rejected),
        cmocka_unit_test(empty_string_is_rejected),
        cmocka_unit_test(only_len_bytes_are_read),
        cmocka_unit_test(date_parses_to_its_day_number),
        cmocka_unit_test(date_rejects_anything_but_exactly_yyyy_mm_dd),
        cmocka_unit_test(date_rejects_dates_not_in_the_calendar),
        cmocka_unit_test(known_day_numbers),
        cmocka_unit_test(every_day_from_1900_to_2200_round_trips),
        cmocka_unit_test(day_numbers_round_trip_over_years_1_to_9999),
        cmocka_unit_test(days_in_month_follows_the_gregorian_calendar),
        cmocka_unit_test(day_of_ms_floors_also_before_1970),
        cmocka_unit_test(instant_is_formatted_as_utc_with_ms),
        cmocka_unit_test(date_is_formatted_as_yyyy_mm_dd),
        cmocka_unit_test(formatted_instants_parse_back_to_the_same_ms),
        cmocka_unit_test(clock_reads_a_plausible_time),
        cmocka_unit_test(test_clock_is_the_real_one_shifted),
    };
    setenv("TEND_TEST_CLOCK_OFFSET_S", "-172800", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
