/* datetime.c: calendar arithmetic and ISO-8601 (see datetime.h).
 *
 * The civil <-> day-number conversions use the well-known era/day-of-era
 * formulation (400-year eras of 146097 days), exact for every Gregorian date. */
#include "util/datetime.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int32_t dt_days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;                                  /* [0, 399] */
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void dt_civil_from_days(int32_t day, int *y, int *m, int *d) {
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int dt_days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int32_t dt_day_of_ms(int64_t ms) {
    int64_t day = ms / DT_MS_PER_DAY;
    if (ms % DT_MS_PER_DAY < 0)
        day--;
    return (int32_t)day;
}

/* Reads exactly n digits at s[*i]; false if any is not a digit. */
static bool digits(const char *s, size_t len, size_t *i, int n, int *out) {
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *i, char c) {
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

/* Parses YYYY-MM-DD at s[*i], validating it against the calendar. */
static bool parse_ymd(const char *s, size_t len, size_t *i, int32_t *day) {
    int y, m, d;
    if (!digits(s, len, i, 4, &y) || !expect(s, len, i, '-') || !digits(s, len, i, 2, &m) ||
        !expect(s, len, i, '-') || !digits(s, len, i, 2, &d))
        return false;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > dt_days_in_month(y, m))
        return false;
    *day = dt_days_from_civil(y, m, d);
    return true;
}

bool dt_parse_date(const char *s, size_t len, int32_t *day) {
    size_t i = 0;
    int32_t d;
    if (!parse_ymd(s, len, &i, &d) || i != len)
        return false;
    *day = d;
    return true;
}

bool dt_parse_instant(const char *s, size_t len, int64_t *ms) {
    size_t i = 0;
    int32_t day;
    if (!parse_ymd(s, len, &i, &day))
        return false;
    if (i == len) {
        *ms = day * DT_MS_PER_DAY;
        return true;
    }
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
        return false;
    i++;
    int hh, mm, ss = 0, frac_ms = 0;
    if (!digits(s, len, &i, 2, &hh) || !expect(s, len, &i, ':') || !digits(s, len, &i, 2, &mm))
        return false;
    if (i < len && s[i] == ':') {
        i++;
        if (!digits(s, len, &i, 2, &ss))
            return false;
        if (i < len && (s[i] == '.' || s[i] == ',')) {
            i++;
            int n = 0;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                if (n < 3)
                    frac_ms = frac_ms * 10 + (s[i] - '0');
                n++;
                i++;
            }
            if (n == 0)
                return false;
            for (; n < 3; n++)
                frac_ms *= 10;
        }
    }
    if (hh > 23 || mm > 59 || ss > 60)
        return false;
    if (ss == 60) { /* a leap second: the last instant of the minute */
        ss = 59;
        frac_ms = 999;
    }
    int offset_min = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
        i++;
        if (!digits(s, len, &i, 2, &oh))
            return false;
        if (i < len && s[i] == ':') {
            i++;
            if (!digits(s, len, &i, 2, &om)) /* "+02:" is not an offset */
                return false;
        } else if (i < len && !digits(s, len, &i, 2, &om)) {
            return false;
        }
        if (oh > 23 || om > 59)
            return false;
        offset_min = sign * (oh * 60 + om);
    }
    if (i != len)
        return false;
    int64_t t = day * DT_MS_PER_DAY + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000 + frac_ms -
                (int64_t)offset_min * 60000;
    /* Years 0001-9999 hold for the instant in UTC too: an offset must not carry
     * it into year 0 or 10000, which would format as text that does not parse. */
    if (t < DT_MIN_MS || t > DT_MAX_MS)
        return false;
    *ms = t;
    return true;
}

void dt_format_date(int32_t day, char out[16]) {
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

void dt_format_instant(int64_t ms, char out[32]) {
    int32_t day = dt_day_of_ms(ms);
    int64_t rem = ms - day * DT_MS_PER_DAY;
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rem / 3600000),
             (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
}

#define CLOCK_OFFSET_MAX_S (100LL * 366 * 86400)

static int64_t clock_offset_ms;
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;

/* Reads TEND_TEST_CLOCK_OFFSET_S once (the test clock, datetime.h). */
static void clock_init(void) {
    const char *v = getenv("TEND_TEST_CLOCK_OFFSET_S");
    if (!v || !v[0])
        return;
    char *end;
    errno = 0;
    long long s = strtoll(v, &end, 10);
    if (errno || *end || s < -CLOCK_OFFSET_MAX_S || s > CLOCK_OFFSET_MAX_S) {
        fprintf(stderr,
                "tend: TEND_TEST_CLOCK_OFFSET_S=\"%s\" is not a whole number of seconds "
                "within 100 years; ignored\n",
                v);
        return;
    }
    clock_offset_ms = (int64_t)s * 1000;
}

int64_t dt_clock_offset_ms(void) {
    pthread_once(&clock_once, clock_init);
    return clock_offset_ms;
}

int64_t dt_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000 + dt_clock_offset_ms();
}
