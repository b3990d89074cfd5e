/* html.c: escaping, URLs, numbers, times and inline SVG for the dashboard
 * (see html.h).
 *
 * What it is not: no page structure (dash.c), no I/O, no clock.
 *
 * The design: one escaper for text and attributes (the five characters that
 * matter in either place are always replaced, so a caller cannot pick the
 * wrong one), and one percent-encoder that keeps only RFC 3986's unreserved
 * bytes, so an encoded part is also safe HTML. Graphics are SVG with
 * presentation attributes only (the Content-Security-Policy forbids inline
 * styles, not attributes), coordinates rounded to 0.1 so a 90-day sparkline
 * stays under 1.5 KB. The palette below matches dash_css's band colours. */
#include "server/html.h"

#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/datetime.h"

#define ELLIPSIS "\xe2\x80\xa6" /* … */

#define MAX_INSTANT_BYTES 64   /* longer text is not an instant */
#define MAX_POINTS        2000 /* values drawn in one chart; the views send at most 730 */

/* Stroke colours: the bands (as in dash_css) and the chart's component lines. */
#define COLOR_RED     "#d92d20"
#define COLOR_YELLOW  "#dc6803"
#define COLOR_GREEN   "#079455"
#define COLOR_NEUTRAL "#667085"
#define COLOR_LINE    "#344054"
#define COLOR_GRID    "#d0d5dd"
#define COLOR_TEXT    "#475467"
#define COLOR_TRACK   "#eaecf0"
#define COLOR_BLUE    "#2e90fa"

const char *const html_components[5] = {"logins", "adoption", "sentiment", "support", "financial"};
static const char *const component_colors[5] = {"#2e90fa", "#7a5af8", "#dd2590", "#0e9384",
                                                "#a15c07"};

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* ---- text and URLs -------------------------------------------------------- */

/* Bytes in the UTF-8 character starting at s (1 for a stray or invalid byte),
 * never past the NUL. */
static size_t utf8_len(const char *s) {
    unsigned char c = (unsigned char)s[0];
    size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 1;
    for (size_t i = 1; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            return 1;
    return n;
}

/* The entity standing for c, or NULL when c is written as it is. */
static const char *entity_of(char c) {
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

/* Appends the n bytes at s escaped. */
static void esc_n(struct buf *b, const char *s, size_t n) {
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = entity_of(s[i]);
        if (!e)
            continue;
        buf_append(b, s + start, i - start);
        buf_puts(b, e);
        start = i + 1;
    }
    buf_append(b, s + start, n - start);
}

void html_esc(struct buf *b, const char *s) {
    if (s)
        esc_n(b, s, strlen(s));
}

void html_esc_cut(struct buf *b, const char *s, size_t max_chars) {
    if (!s)
        return;
    size_t chars = 0, off = 0, cut = 0;
    while (s[off]) {
        if (chars == max_chars - 1 || max_chars == 0)
            cut = off;
        if (chars == max_chars) {
            esc_n(b, s, cut);
            buf_puts(b, ELLIPSIS);
            return;
        }
        off += utf8_len(s + off);
        chars++;
    }
    esc_n(b, s, off);
}

void html_url_part(struct buf *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (g_ascii_isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            buf_putc(b, (char)*p);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, enc, 3);
        }
    }
}

/* Appends the n bytes at s percent-decoded, '+' as a space; a '%' not followed
 * by two hex digits is kept, a decoded NUL dropped. */
static void url_decode(struct buf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n && g_ascii_isxdigit(s[i + 1]) &&
                   g_ascii_isxdigit(s[i + 2])) {
            c = (char)(g_ascii_xdigit_value(s[i + 1]) * 16 + g_ascii_xdigit_value(s[i + 2]));
            i += 2;
        }
        if (c)
            buf_putc(b, c);
    }
}

/* Calls each(key, key_len, value, value_len, arg) for every parameter of path's
 * query, raw (still encoded), until each returns false. */
static void query_each(const char *path,
                       bool (*each)(const char *k, size_t kn, const char *v, size_t vn, void *arg),
                       void *arg) {
    const char *q = path ? strchr(path, '?') : NULL;
    if (!q)
        return;
    q++;
    size_t end = strcspn(q, "#");
    size_t i = 0;
    while (i < end) {
        size_t n = strcspn(q + i, "&#");
        if (n > end - i)
            n = end - i;
        const char *pair = q + i;
        const char *eq = memchr(pair, '=', n);
        size_t kn = eq ? (size_t)(eq - pair) : n;
        const char *v = eq ? eq + 1 : pair + n;
        size_t vn = eq ? n - kn - 1 : 0;
        if (n > 0 && !each(pair, kn, v, vn, arg))
            return;
        i += n + 1;
    }
}

/* Whether the raw (encoded) key k of kn bytes decodes to name. */
static bool key_is(const char *k, size_t kn, const char *name) {
    struct buf d;
    buf_init(&d, 0);
    url_decode(&d, k, kn);
    bool same = strcmp(buf_str(&d), name) == 0;
    buf_free(&d);
    return same;
}

struct query_find {
    const char *key;
    size_t nth;
    struct buf *out;
    bool found;
};

static bool find_one(const char *k, size_t kn, const char *v, size_t vn, void *arg) {
    struct query_find *f = arg;
    if (!key_is(k, kn, f->key))
        return true;
    if (f->nth > 0) {
        f->nth--;
        return true;
    }
    url_decode(f->out, v, vn);
    f->found = true;
    return false;
}

bool html_query_get(const char *path, const char *key, size_t nth, struct buf *out) {
    struct query_find f = {key, nth, out, false};
    query_each(path, find_one, &f);
    return f.found;
}

struct query_keep {
    struct buf *b;
    const char *const *drop;
    bool first;
};

static bool keep_one(const char *k, size_t kn, const char *v, size_t vn, void *arg) {
    struct query_keep *q = arg;
    struct buf key, value;
    buf_init(&key, 0);
    buf_init(&value, 0);
    url_decode(&key, k, kn);
    url_decode(&value, v, vn);
    bool dropped = key.len == 0;
    for (const char *const *d = q->drop; d && *d && !dropped; d++)
        dropped = strcmp(buf_str(&key), *d) == 0;
    if (!dropped) {
        if (!q->first)
            buf_puts(q->b, "&amp;");
        html_url_part(q->b, buf_str(&key));
        buf_putc(q->b, '=');
        html_url_part(q->b, buf_str(&value));
        q->first = false;
    }
    buf_free(&key);
    buf_free(&value);
    return true;
}

void html_query_keep(struct buf *b, const char *path, const char *const *drop) {
    struct query_keep q = {b, drop, true};
    query_each(path, keep_one, &q);
}

/* ---- numbers -------------------------------------------------------------- */

void html_number(struct buf *b, double v, int decimals) {
    if (!isfinite(v)) {
        buf_puts(b, HTML_DASH);
        return;
    }
    char digits[64];
    snprintf(digits, sizeof digits, "%.*f", decimals, fabs(v));
    bool zero = strspn(digits, "0.") == strlen(digits);
    if (v < 0 && !zero)
        buf_putc(b, '-');
    size_t int_len = strcspn(digits, ".");
    for (size_t i = 0; i < int_len; i++) {
        if (i > 0 && (int_len - i) % 3 == 0)
            buf_putc(b, ',');
        buf_putc(b, digits[i]);
    }
    buf_puts(b, digits + int_len);
}

void html_json_number(struct buf *b, const cJSON *v, int decimals) {
    if (!cJSON_IsNumber(v)) {
        buf_puts(b, HTML_DASH);
        return;
    }
    double d = v->valuedouble;
    html_number(b, d, d == floor(d) && fabs(d) < 1e15 ? 0 : decimals);
}

void html_json_value(struct buf *b, const cJSON *v) {
    if (!v || cJSON_IsNull(v)) {
        buf_puts(b, HTML_DASH);
    } else if (cJSON_IsString(v)) {
        html_esc_cut(b, v->valuestring, 300);
    } else if (cJSON_IsNumber(v)) {
        html_json_number(b, v, 2);
    } else if (cJSON_IsBool(v)) {
        buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else {
        char *text = cJSON_PrintUnformatted(v);
        html_esc_cut(b, text ? text : "", 200);
        cJSON_free(text);
    }
}

/* ---- times ---------------------------------------------------------------- */

/* The zone named tz, a reference the caller drops with g_time_zone_unref.
 * glib reads the zone's file on every g_time_zone_new_identifier once the last
 * reference is gone (180 us, measured), and a page shows up to 100 times in
 * one zone, so the last zone asked for is kept for the life of the process. */
static GTimeZone *zone_get(const char *tz) {
    static GMutex lock;
    static GTimeZone *cached;
    static char cached_name[128];
    const char *name = tz && strlen(tz) < sizeof cached_name ? tz : "";
    g_mutex_lock(&lock);
    if (!cached || strcmp(cached_name, name)) {
        if (cached)
            g_time_zone_unref(cached);
        /* An empty name would mean the process's local zone to glib: use UTC. */
        cached = *name ? g_time_zone_new_identifier(name) : NULL;
        if (!cached)
            cached = g_time_zone_new_utc();
        snprintf(cached_name, sizeof cached_name, "%s", name);
    }
    GTimeZone *zone = g_time_zone_ref(cached);
    g_mutex_unlock(&lock);
    return zone;
}

bool html_format_time(const char *iso, const char *tz, char out[32]) {
    if (!iso || strlen(iso) > MAX_INSTANT_BYTES)
        return false;
    GTimeZone *utc = g_time_zone_new_utc();
    GDateTime *at = g_date_time_new_from_iso8601(iso, utc);
    g_time_zone_unref(utc);
    if (!at)
        return false;
    GTimeZone *zone = zone_get(tz);
    GDateTime *local = g_date_time_to_timezone(at, zone);
    bool ok = local != NULL;
    if (ok)
        snprintf(out, 32, "%d %s %04d %02d:%02d", g_date_time_get_day_of_month(local),
                 month_names[g_date_time_get_month(local) - 1], g_date_time_get_year(local),
                 g_date_time_get_hour(local), g_date_time_get_minute(local));
    if (local)
        g_date_time_unref(local);
    g_date_time_unref(at);
    g_time_zone_unref(zone);
    return ok;
}

void html_time(struct buf *b, const char *iso, const char *tz) {
    char text[32];
    if (!iso) {
        buf_puts(b, HTML_DASH);
    } else if (!html_format_time(iso, tz, text)) {
        html_esc_cut(b, iso, 40);
    } else {
        buf_puts(b, "<time datetime=\"");
        html_esc(b, iso);
        buf_puts(b, "\" title=\"");
        html_esc(b, iso);
        buf_printf(b, "\">%s</time>", text);
    }
}

/* Writes day as "2 Nov 2026" (with_year) or "2 Nov" into out. */
static void format_day(int32_t day, bool with_year, char out[24]) {
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    if (with_year)
        snprintf(out, 24, "%d %s %04d", d, month_names[m - 1], y);
    else
        snprintf(out, 24, "%d %s", d, month_names[m - 1]);
}

void html_date(struct buf *b, const char *ymd) {
    int32_t day;
    if (!ymd) {
        buf_puts(b, HTML_DASH);
    } else if (!dt_parse_date(ymd, strlen(ymd), &day)) {
        html_esc_cut(b, ymd, 40);
    } else {
        char text[24];
        format_day(day, true, text);
        buf_printf(b, "<time datetime=\"%.10s\">%s</time>", ymd, text);
    }
}

void html_duration(struct buf *b, double seconds) {
    if (!isfinite(seconds) || seconds < 0) {
        buf_puts(b, HTML_DASH);
        return;
    }
    long long s = llround(seconds);
    if (s < 60)
        buf_printf(b, "%lld s", s);
    else if (s < 3600)
        buf_printf(b, "%lld min", s / 60);
    else if (s < 86400)
        buf_printf(b, "%lld h %lld min", s / 3600, s % 3600 / 60);
    else
        buf_printf(b, "%lld d %lld h", s / 86400, s % 86400 / 3600);
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool html_local_path(const char *p) {
    if (!p || p[0] != '/')
        return false;
    size_t i;
    for (i = 0; p[i] && i < HTML_LOCAL_PATH_MAX; i++) {
        char c = p[i];
        if (c == '/' && p[i + 1] == '/')
            return false;
        if (c == '%') {
            if (!is_hex(p[i + 1]) || !is_hex(p[i + 2]))
                return false;
            i += 2;
            continue;
        }
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !strchr("-._~!$&'()*+,;=:@/?", c))
            return false;
    }
    return p[i] == '\0' && i <= HTML_LOCAL_PATH_MAX;
}

/* ---- bands and graphics --------------------------------------------------- */

const char *html_band_of(double score) {
    return score < HTML_RED_BELOW ? "red" : score < HTML_GREEN_FROM ? "yellow" : "green";
}

const char *html_band_class(const char *band) {
    if (band && (!strcmp(band, "red") || !strcmp(band, "yellow") || !strcmp(band, "green")))
        return band;
    return "none";
}

static const char *band_color(const char *band) {
    const char *cls = html_band_class(band);
    return !strcmp(cls, "red")      ? COLOR_RED
           : !strcmp(cls, "yellow") ? COLOR_YELLOW
           : !strcmp(cls, "green")  ? COLOR_GREEN
                                    : COLOR_NEUTRAL;
}

/* A value of a series: known or not. */
struct point {
    double x, y;
    bool known;
};

/* Appends the known points as polylines broken at unknown ones; a point with
 * no known neighbour becomes a dot of radius dot_r. */
static void put_series(struct buf *b, const struct point *p, size_t n, const char *color,
                       double width, double dot_r) {
    size_t i = 0;
    while (i < n) {
        if (!p[i].known) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && p[j].known)
            j++;
        if (j - i == 1) {
            buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>", p[i].x,
                       p[i].y, dot_r, color);
        } else {
            buf_printf(b,
                       "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" "
                       "stroke-linejoin=\"round\" stroke-linecap=\"round\" points=\"",
                       color, width);
            for (size_t k = i; k < j; k++)
                buf_printf(b, "%s%.1f,%.1f", k > i ? " " : "", p[k].x, p[k].y);
            buf_puts(b, "\"/>");
        }
        i = j;
    }
}

static double clamp_score(double v) {
    return v < 0 ? 0 : v > 100 ? 100 : v;
}

#define SPARK_W   120.0
#define SPARK_H   28.0
#define SPARK_PAD 2.0

void html_sparkline(struct buf *b, const cJSON *trend, const char *band) {
    int n = cJSON_IsArray(trend) ? cJSON_GetArraySize(trend) : 0;
    if (n > MAX_POINTS)
        n = MAX_POINTS;
    struct point *p = g_new0(struct point, n > 0 ? n : 1);
    double first = NAN, last = NAN;
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, trend) {
        if (i == n)
            break;
        p[i].x = n == 1 ? SPARK_W / 2 : SPARK_PAD + i * (SPARK_W - 2 * SPARK_PAD) / (n - 1);
        p[i].known = cJSON_IsNumber(v) && isfinite(v->valuedouble);
        if (p[i].known) {
            double s = clamp_score(v->valuedouble);
            p[i].y = SPARK_PAD + (100 - s) / 100 * (SPARK_H - 2 * SPARK_PAD);
            if (isnan(first))
                first = v->valuedouble;
            last = v->valuedouble;
        }
        i++;
    }
    buf_printf(b,
               "<svg class=\"spark\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "role=\"img\" aria-label=\"",
               SPARK_W, SPARK_H, SPARK_W, SPARK_H);
    if (isnan(first)) {
        buf_puts(b, "no scores in this period\">");
        buf_printf(b,
                   "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
                   "stroke-dasharray=\"2 3\"/>",
                   SPARK_PAD, SPARK_H / 2, SPARK_W - SPARK_PAD, SPARK_H / 2, COLOR_GRID);
    } else {
        buf_printf(b, "%d days: from %.1f to %.1f\">", n, first, last);
        put_series(b, p, (size_t)n, band_color(band), 1.5, 1.6);
    }
    buf_puts(b, "</svg>");
    g_free(p);
}

#define CHART_W      720.0
#define CHART_LEFT   34.0
#define CHART_RIGHT  12.0
#define CHART_TOP    10.0
#define CHART_PLOT_H 200.0
#define CHART_AXIS_H 24.0 /* the date labels under the plot */
#define CHART_LEG_H  22.0 /* the legend of the components */

static double chart_y(double score) {
    return CHART_TOP + (100 - clamp_score(score)) / 100 * CHART_PLOT_H;
}

/* The day of a history entry, or false. */
static bool entry_day(const cJSON *e, int32_t *day) {
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "date");
    return cJSON_IsString(d) && dt_parse_date(d->valuestring, strlen(d->valuestring), day);
}

/* Appends the date labels: the first of each month over long spans (every
 * second or third month past a year), every few days over short ones. */
static void chart_ticks(struct buf *b, int32_t d0, int32_t d1, double px_per_day) {
    double base = CHART_TOP + CHART_PLOT_H;
    int32_t span = d1 - d0;
    if (span <= 0) {
        char text[24];
        format_day(d0, true, text);
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                   CHART_LEFT + (CHART_W - CHART_LEFT - CHART_RIGHT) / 2, base + 16, text);
        return;
    }
    if (span <= 62) {
        int32_t step = (span + 5) / 6 > 0 ? (span + 5) / 6 : 1;
        for (int32_t d = d0; d <= d1; d += step) {
            char text[24];
            format_day(d, false, text);
            double x = CHART_LEFT + (d - d0) * px_per_day;
            buf_printf(b,
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                       x, base, x, base + 4, COLOR_GRID, x, base + 16, text);
        }
        return;
    }
    int months = span / 30 + 1;
    int every = months <= 10 ? 1 : months <= 20 ? 2 : months <= 36 ? 3 : 6;
    int y, m, d;
    dt_civil_from_days(d0, &y, &m, &d);
    if (d != 1 && ++m > 12) {
        m = 1;
        y++;
    }
    bool first = true;
    for (int32_t day = dt_days_from_civil(y, m, 1); day <= d1;) {
        if ((m - 1) % every == 0) {
            double x = CHART_LEFT + (day - d0) * px_per_day;
            buf_printf(b,
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s",
                       x, base, x, base + 4, COLOR_GRID, x, base + 16, month_names[m - 1]);
            if (first || m == 1)
                buf_printf(b, " %04d", y);
            buf_puts(b, "</text>");
            first = false;
        }
        if (++m > 12) {
            m = 1;
            y++;
        }
        day = dt_days_from_civil(y, m, 1);
    }
}

/* Appends the zones, the threshold lines and the score labels of the y axis. */
static void chart_frame(struct buf *b) {
    static const struct {
        double from, to;
        const char *fill;
    } zones[] = {{0, HTML_RED_BELOW, "#fef3f2"},
                 {HTML_RED_BELOW, HTML_GREEN_FROM, "#fffaeb"},
                 {HTML_GREEN_FROM, 100, "#ecfdf3"}};
    double plot_w = CHART_W - CHART_LEFT - CHART_RIGHT;
    for (size_t i = 0; i < 3; i++)
        buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                   CHART_LEFT, chart_y(zones[i].to), plot_w,
                   chart_y(zones[i].from) - chart_y(zones[i].to), zones[i].fill);
    static const double marks[] = {0, HTML_RED_BELOW, HTML_GREEN_FROM, 100};
    for (size_t i = 0; i < 4; i++) {
        bool threshold = marks[i] > 0 && marks[i] < 100;
        buf_printf(b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"%s/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>",
                   CHART_LEFT, chart_y(marks[i]), CHART_W - CHART_RIGHT, chart_y(marks[i]),
                   threshold ? "#98a2b3" : COLOR_GRID,
                   threshold ? " stroke-dasharray=\"4 4\" class=\"threshold\"" : "", CHART_LEFT - 6,
                   chart_y(marks[i]) + 4, marks[i]);
    }
}

/* Appends the legend of the component lines under the date labels. */
static void chart_legend(struct buf *b, double y) {
    double x = CHART_LEFT;
    buf_printf(b,
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2.5\"/><text x=\"%.1f\" y=\"%.1f\">overall</text>",
               x, y - 4, x + 16, y - 4, COLOR_LINE, x + 21, y);
    x += 80;
    for (size_t i = 0; i < 5; i++) {
        buf_printf(b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\">%s</text>",
                   x, y - 4, x + 16, y - 4, component_colors[i], x + 21, y, html_components[i]);
        x += 96;
    }
}

#define MAX_SLOTS 4000 /* days drawn as slots, so gaps break the line */

void html_chart(struct buf *b, const cJSON *history, bool components) {
    size_t n = 0, cap = cJSON_IsArray(history) ? (size_t)cJSON_GetArraySize(history) : 0;
    if (cap > MAX_POINTS)
        cap = MAX_POINTS;
    const cJSON **entries = g_new0(const cJSON *, cap + 1);
    int32_t *day = g_new0(int32_t, cap + 1);
    const cJSON *e;
    cJSON_ArrayForEach(e, history) {
        if (n == cap)
            break;
        /* Entries out of order or without a date are left out, not guessed. */
        if (entry_day(e, &day[n]) && (n == 0 || day[n] > day[n - 1]))
            entries[n++] = e;
    }
    double first = NAN, last = NAN;
    size_t last_i = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(entries[i], "overall");
        if (cJSON_IsNumber(o)) {
            if (isnan(first))
                first = o->valuedouble;
            last = o->valuedouble;
            last_i = i;
        }
    }
    double height = CHART_TOP + CHART_PLOT_H + CHART_AXIS_H + (components ? CHART_LEG_H : 0);
    double plot_w = CHART_W - CHART_LEFT - CHART_RIGHT;
    buf_printf(b,
               "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
               "font-size=\"11\" fill=\"%s\" aria-label=\"",
               CHART_W, height, COLOR_TEXT);
    if (isnan(first)) {
        buf_puts(b, "health score: no scores yet\">");
        chart_frame(b);
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">No scores yet</text>",
                   CHART_LEFT + plot_w / 2, CHART_TOP + CHART_PLOT_H / 2);
        buf_puts(b, "</svg>");
        g_free(entries);
        g_free(day);
        return;
    }
    char from[24], to[24];
    format_day(day[0], true, from);
    format_day(day[n - 1], true, to);
    buf_printf(b, "health score from %s to %s: %.1f to %.1f\">", from, to, first, last);
    chart_frame(b);

    /* x of day d; a single day sits in the middle. */
    int32_t d0 = day[0], d1 = day[n - 1];
    double px_per_day = d1 > d0 ? plot_w / (d1 - d0) : 0;
    double x0 = CHART_LEFT + (d1 > d0 ? 0 : plot_w / 2);
    chart_ticks(b, d0, d1, px_per_day);

    /* One slot a day, so a day missing between two entries breaks the lines;
     * a sparse history over more than MAX_SLOTS days is drawn entry by entry. */
    bool dense = (size_t)(d1 - d0) < MAX_SLOTS;
    size_t slots = dense ? (size_t)(d1 - d0) + 1 : n;
    const cJSON **by_slot = g_new0(const cJSON *, slots);
    for (size_t i = 0; i < n; i++)
        by_slot[dense ? (size_t)(day[i] - d0) : i] = entries[i];
    struct point *p = g_new0(struct point, slots);
    const char *series[6];
    const char *colors[6];
    size_t count = 0;
    if (components) {
        for (size_t c = 0; c < 5; c++) {
            series[count] = html_components[c];
            colors[count++] = component_colors[c];
        }
        chart_legend(b, CHART_TOP + CHART_PLOT_H + CHART_AXIS_H + 14);
    }
    series[count] = "overall";
    colors[count++] = COLOR_LINE;
    for (size_t c = 0; c < count; c++) {
        bool overall = c == count - 1;
        for (size_t s = 0; s < slots; s++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(by_slot[s], series[c]);
            int32_t d = dense ? d0 + (int32_t)s : day[s];
            p[s].x = x0 + (d - d0) * px_per_day;
            p[s].known = cJSON_IsNumber(v) && isfinite(v->valuedouble);
            p[s].y = p[s].known ? chart_y(v->valuedouble) : 0;
        }
        if (!overall)
            buf_puts(b, "<g opacity=\"0.75\">");
        put_series(b, p, slots, colors[c], overall ? 2.5 : 1.2, overall ? 2.5 : 1.5);
        if (!overall)
            buf_puts(b, "</g>");
    }

    /* The latest score stands out in its band's colour; every day has a title
     * for the browser's own tooltip. */
    const cJSON *band = cJSON_GetObjectItemCaseSensitive(entries[last_i], "band");
    buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\" stroke=\"#fff\"/>",
               x0 + (day[last_i] - d0) * px_per_day, chart_y(last),
               band_color(cJSON_IsString(band) ? band->valuestring : html_band_of(last)));
    for (size_t i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(entries[i], "overall");
        if (!cJSON_IsNumber(o))
            continue;
        char text[24];
        format_day(day[i], true, text);
        buf_printf(b,
                   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"transparent\">"
                   "<title>%s: %.1f</title></circle>",
                   x0 + (day[i] - d0) * px_per_day, chart_y(o->valuedouble), text, o->valuedouble);
    }
    buf_puts(b, "</svg>");
    g_free(p);
    g_free(by_slot);
    g_free(entries);
    g_free(day);
}

#define BAR_W 120.0
#define BAR_H 8.0

void html_bar(struct buf *b, double value, double max, const char *cls) {
    buf_printf(b,
               "<svg class=\"bar\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "aria-hidden=\"true\"><rect width=\"%.0f\" height=\"%.0f\" rx=\"4\" fill=\"%s\"/>",
               BAR_W, BAR_H, BAR_W, BAR_H, BAR_W, BAR_H, COLOR_TRACK);
    if (isfinite(value) && value > 0 && max > 0) {
        bool blue = cls && !strcmp(cls, "blue");
        const char *safe = blue ? "blue" : html_band_class(cls);
        double w = (value > max ? max : value) / max * BAR_W;
        buf_printf(b,
                   "<rect class=\"fill-%s\" width=\"%.1f\" height=\"%.0f\" rx=\"4\" fill=\"%s\"/>",
                   safe, w < BAR_H ? BAR_H : w, BAR_H, blue ? COLOR_BLUE : band_color(safe));
    }
    buf_puts(b, "</svg>");
}
