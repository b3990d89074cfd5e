/* fuzz_datetime.c: dates and instants (util/datetime.h).
 *
 * The input is one candidate string for dt_parse_instant and dt_parse_date,
 * the parsers every timestamp of ingest, the CSV's as_of, --at and the
 * dashboard's forms go through. Invariants besides no sanitizer report:
 * - an accepted instant lies in years 0001-9999 and formats to text that
 *   parses back to the same instant;
 * - an accepted date is a real day whose text is exactly the input, and the
 *   same text parsed as an instant is that day's midnight;
 * - the day of an instant and the calendar conversions agree both ways. */
#include <string.h>

#include "fuzz.h"
#include "util/datetime.h"

static void check_day(int32_t day) {
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    if (m < 1 || m > 12 || d < 1 || d > dt_days_in_month(y, m))
        fuzz_fail("day %d is %d-%d-%d, not a date", (int)day, y, m, d);
    if (dt_days_from_civil(y, m, d) != day)
        fuzz_fail("day %d -> %d-%d-%d -> another day", (int)day, y, m, d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 256)
        return 0;
    const char *s = (const char *)data;
    int64_t ms = 0;
    if (dt_parse_instant(s, size, &ms)) {
        if (ms < DT_MIN_MS || ms > DT_MAX_MS)
            fuzz_fail("\"%.*s\" parsed to %lld ms, outside years 0001-9999", (int)size, s,
                      (long long)ms);
        char text[32];
        dt_format_instant(ms, text);
        int64_t again = 0;
        if (!dt_parse_instant(text, strlen(text), &again) || again != ms)
            fuzz_fail("\"%.*s\" -> %lld -> \"%s\" -> %lld", (int)size, s, (long long)ms, text,
                      (long long)again);
        int32_t day = dt_day_of_ms(ms);
        check_day(day);
        if ((int64_t)day * DT_MS_PER_DAY > ms || ms - (int64_t)day * DT_MS_PER_DAY >= DT_MS_PER_DAY)
            fuzz_fail("%lld ms is not in its day %d", (long long)ms, (int)day);
    }
    int32_t day = 0;
    if (dt_parse_date(s, size, &day)) {
        check_day(day);
        char text[16];
        dt_format_date(day, text);
        if (strlen(text) != size || memcmp(text, s, size) != 0)
            fuzz_fail("date \"%.*s\" formats back as \"%s\"", (int)size, s, text);
        int64_t at = 0;
        if (!dt_parse_instant(s, size, &at) || at != (int64_t)day * DT_MS_PER_DAY)
            fuzz_fail("date \"%.*s\" is not the instant of its midnight", (int)size, s);
    }
    return 0;
}
