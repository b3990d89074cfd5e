/* test_report.c: the reports of tend analyze and tend backtest: their charts,
 * tables and page (analysis/report.c), how they are stored
 * (store/sqlite_report.c), and how the dashboard and the API show them
 * (server/views.c, server/dash.c).
 *
 * Every chart goes through check_svg(): tags balanced, every coordinate a
 * finite number inside the viewBox, no script, no style attribute, no "nan" or
 * "inf" anywhere. Hostile strings are put in titles, names, labels and cells.
 * With TEND_REPORT_SAMPLES=DIR set, a sample report is written there as a
 * standalone page (to look at in a browser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <math.h>
#include <unistd.h>

#include "test_db.h"
#include "analysis/backtest.h"
#include "html_check.h"
#include "server/dash.h"
#include "server/report.h"
#include "server/views.h"
#include "store/store.h"

#define XSS         "<script>alert(1)</script>"
#define XSS_ESCAPED "&lt;script&gt;alert(1)&lt;/script&gt;"

/* ---- helpers -------------------------------------------------------------- */

static void assert_contains(const char *haystack, const char *needle) {
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" not found in:\n%s", needle, haystack);
}

static void assert_lacks(const char *haystack, const char *needle) {
    const char *at = strstr(haystack, needle);
    if (at)
        fail_msg("\"%s\" found at: %.200s", needle, at);
}

/* Whether word appears in s (any case) between non-letters. */
static bool has_word(const char *s, const char *word) {
    size_t n = strlen(word);
    for (const char *p = s; *p; p++) {
        if (g_ascii_strncasecmp(p, word, n) != 0)
            continue;
        bool before = p == s || !g_ascii_isalpha(p[-1]);
        bool after = !g_ascii_isalpha(p[n]);
        if (before && after)
            return true;
    }
    return false;
}

/* Checks every coordinate attribute of the SVG starting at svg lies in its
 * viewBox "0 0 W H" and is a finite number. Returns the number checked. */
static size_t check_coordinates(const char *svg) {
    double w, h;
    const char *vb = strstr(svg, "viewBox=\"");
    assert_non_null(vb);
    assert_int_equal(sscanf(vb, "viewBox=\"0 0 %lf %lf\"", &w, &h), 2);
    const char *end = strstr(svg, "</svg>");
    assert_non_null(end);
    static const char *const xs[] = {" x=\"", " x1=\"", " x2=\"", " cx=\""};
    static const char *const ys[] = {" y=\"", " y1=\"", " y2=\"", " cy=\""};
    size_t checked = 0;
    for (int axis = 0; axis < 2; axis++) {
        const char *const *names = axis ? ys : xs;
        double max = axis ? h : w;
        for (size_t k = 0; k < 4; k++) {
            for (const char *p = strstr(svg, names[k]); p && p < end; p = strstr(p + 1, names[k])) {
                char *stop;
                double v = strtod(p + strlen(names[k]), &stop);
                if (*stop != '"' || !isfinite(v) || v < 0 || v > max)
                    fail_msg("%s%.12s outside 0..%g", names[k], p + strlen(names[k]), max);
                checked++;
            }
        }
    }
    /* A rect ends inside the viewBox too; a polyline's points are x,y pairs. */
    for (const char *p = strstr(svg, "<rect "); p && p < end; p = strstr(p + 1, "<rect ")) {
        double x = 0, y = 0, rw = 0, rh = 0;
        const char *a;
        if ((a = strstr(p, " x=\"")) && a < strchr(p, '>'))
            x = strtod(a + 4, NULL);
        if ((a = strstr(p, " y=\"")) && a < strchr(p, '>'))
            y = strtod(a + 4, NULL);
        if ((a = strstr(p, " width=\"")) && a < strchr(p, '>'))
            rw = strtod(a + 8, NULL);
        if ((a = strstr(p, " height=\"")) && a < strchr(p, '>'))
            rh = strtod(a + 9, NULL);
        if (rw < 0 || rh < 0 || x + rw > w + 0.05 || y + rh > h + 0.05)
            fail_msg("rect past the viewBox: %.120s", p);
    }
    for (const char *p = strstr(svg, " points=\""); p && p < end; p = strstr(p + 1, " points=\"")) {
        const char *q = p + 9;
        while (*q != '"') {
            char *stop;
            double x = strtod(q, &stop);
            assert_true(*stop == ',');
            double y = strtod(stop + 1, &stop);
            if (!isfinite(x) || !isfinite(y) || x < 0 || x > w || y < 0 || y > h)
                fail_msg("point %g,%g outside %gx%g", x, y, w, h);
            checked++;
            q = stop;
            while (*q == ' ')
                q++;
        }
    }
    return checked;
}

/* What every fragment must be; each SVG's coordinates checked. */
static void check_fragment(const char *html) {
    check_tags(html);
    assert_lacks(html, "<script");
    assert_lacks(html, " style=");
    assert_lacks(html, "javascript:");
    if (has_word(html, "nan") || has_word(html, "inf") || has_word(html, "-nan"))
        fail_msg("a non-finite number printed in:\n%s", html);
    for (const char *svg = strstr(html, "<svg"); svg; svg = strstr(svg + 1, "<svg")) {
        assert_true(check_coordinates(svg) > 0);
        const char *t = strstr(svg, "<title>");
        assert_true(t && t < strstr(svg, "</svg>")); /* every chart has a title */
    }
}

/* The part of html from the first start to the next end (end included), malloced. */
static char *slice(const char *html, const char *start, const char *end) {
    const char *a = strstr(html, start);
    if (!a)
        fail_msg("\"%s\" not found", start);
    const char *b = strstr(a + 1, end);
    if (!b)
        fail_msg("\"%s\" not found after \"%s\"", end, start);
    return g_strndup(a, (size_t)(b - a) + strlen(end));
}

/* ---- the charts ----------------------------------------------------------- */

static const struct report_coef COEFS[] = {
    {"logins", -0.80, -1.20, -0.40, 0.0004},
    {"sentiment", -0.35, -0.60, -0.10, 0.006},
    {"support", 0.10, -0.25, 0.45, 0.58},
    {"intercept", 1.5, 0.9, 2.1, 0.12},
};

static void coef_plot_draws_a_row_per_coefficient_with_its_interval(void **state) {
    struct buf b;
    buf_init(&b, 0);
    report_coef_plot(&b, "Coefficients", "log-odds of churn per 10 points", COEFS, 4);
    const char *s = buf_str(&b);
    check_fragment(s);
    assert_int_equal(count(s, "<g class=\"coef\">"), 4);
    assert_int_equal(count(s, "class=\"sig\""), 2);    /* p < 0.05: filled */
    assert_int_equal(count(s, "class=\"nonsig\""), 2); /* the others: hollow */
    assert_int_equal(count(s, "class=\"zero\""), 1);
    assert_contains(s, "log-odds of churn per 10 points");
    assert_contains(s, "-0.80 [-1.20, -0.40]");
    assert_contains(s, "p &lt; 0.001");
    /* The 0 line lies between the logins interval (all negative) and the intercept's. */
    char *logins = slice(s, "<title>logins", "</g>");
    char *zero = slice(s, "<line", "class=\"zero\"");
    double x_zero, x_hi;
    const char *z = strrchr(zero, '<');
    assert_int_equal(sscanf(z, "<line x1=\"%lf\"", &x_zero), 1);
    const char *l = strstr(logins, "<line");
    assert_int_equal(sscanf(l, "<line x1=\"%*f\" y1=\"%*f\" x2=\"%lf\"", &x_hi), 1);
    assert_true(x_hi < x_zero);
    g_free(logins);
    g_free(zero);
    buf_free(&b);
}

static void coef_plot_skips_what_is_not_finite(void **state) {
    struct report_coef c[] = {
        {"separated", NAN, NAN, NAN, NAN},
        {"wide", 0.5, -INFINITY, INFINITY, 0.9},
        {"fine", 0.2, 0.1, 0.3, 0.01},
        {"separated too", 1e300, -1e300, 1e300, 0.5}, /* an axis over it would overflow */
    };
    struct buf b;
    buf_init(&b, 0);
    report_coef_plot(&b, "Coefficients", "log-odds", c, 4);
    const char *s = buf_str(&b);
    check_fragment(s);
    assert_int_equal(count(s, "<g class=\"coef\">"), 4); /* every name has its row */
    assert_int_equal(count(s, "not estimated"), 2);
    char *wide = slice(s, "<title>wide", "</g>");
    assert_lacks(wide, "<line"); /* no interval drawn, the point is */
    assert_contains(wide, "<circle");
    g_free(wide);
    buf_reset(&b);
    report_coef_plot(&b, "Coefficients", "log-odds", c, 1);
    assert_lacks(buf_str(&b), "<svg");
    assert_contains(buf_str(&b), "class=\"report-note\"");
    buf_free(&b);
}

static const double FPR1[] = {0, 0.1, 0.3, 0.6, 1}, TPR1[] = {0, 0.5, 0.8, 0.95, 1};
static const double FPR2[] = {0, NAN, 0.5, 1.5, 1}, TPR2[] = {0, 0.3, INFINITY, 1.2, 1};

static void roc_draws_each_curve_the_diagonal_and_a_legend_with_auc(void **state) {
    struct report_curve c[] = {{"health score", FPR1, TPR1, 5, 0.8123},
                               {"logins only", FPR2, TPR2, 5, 0.61}};
    struct buf b;
    buf_init(&b, 0);
    report_roc(&b, "ROC", c, 2);
    const char *s = buf_str(&b);
    check_fragment(s);
    assert_int_equal(count(s, "<g class=\"curve\">"), 2);
    assert_int_equal(count(s, "<polyline"), 2);
    assert_int_equal(count(s, "class=\"diagonal\""), 1);
    assert_contains(s, "health score (AUC 0.812)");
    assert_contains(s, "logins only (AUC 0.610)");
    assert_contains(s, "chance (AUC 0.5)");
    assert_contains(s, "False positive rate");
    assert_contains(s, "True positive rate");
    /* The second curve: the two non-finite points skipped, 1.5 and 1.2 clamped. */
    char *second = slice(s, "<title>logins only", "</g>");
    char *points = slice(second, "points=\"", "\"/>");
    assert_int_equal(count(points, ","), 3);
    g_free(points);
    g_free(second);
    /* The two curves differ in dash pattern, not only in colour. */
    assert_int_equal(count(s, "stroke-dasharray=\"6 3\""), 2); /* the curve and its legend */
    buf_free(&b);
}

static void roc_without_points_is_a_note(void **state) {
    const double nan2[] = {NAN, NAN};
    struct report_curve c[] = {{"empty", nan2, nan2, 2, NAN}, {"none", NULL, NULL, 0, 0.5}};
    struct buf b;
    buf_init(&b, 0);
    report_roc(&b, "ROC", c, 2);
    assert_lacks(buf_str(&b), "<svg");
    assert_contains(buf_str(&b), "report-note");
    buf_reset(&b);
    report_roc(&b, "ROC", NULL, 0);
    assert_lacks(buf_str(&b), "<svg");
    check_fragment(buf_str(&b));
    buf_free(&b);
}

static void pareto_draws_bars_and_a_cumulative_line_to_100_percent(void **state) {
    struct report_bar bars[] = {{"price", 50, 10},
                                {"product gaps", 30, 6},
                                {"support", 15, 3},
                                {"other", 5, 1},
                                {"bad", NAN, 2}};
    struct buf b;
    buf_init(&b, 0);
    report_pareto(&b, "Churn reasons", "MRR lost", bars, 5);
    const char *s = buf_str(&b);
    check_fragment(s);
    assert_int_equal(count(s, "<g class=\"bar\">"), 5);
    assert_int_equal(count(s, "<rect x="), 4); /* the NaN bar is absent */
    assert_contains(s, "price: 50.00 (10), cumulative 50.0%");
    assert_contains(s, "product gaps: 30.00 (6), cumulative 80.0%");
    assert_contains(s, "other: 5.00 (1), cumulative 100.0%");
    assert_contains(s, "class=\"p80\"");
    assert_contains(s, "MRR lost");
    assert_contains(s, ">100%</text>");
    /* The line rises: its last point is the top of the plot (100%), its first at 50%. */
    char *line = slice(s, "class=\"cumulative\"", "\"/>");
    double y[5];
    const char *p = strstr(line, "points=\"") + 8;
    for (int i = 0; i < 5; i++) {
        char *stop;
        strtod(p, &stop);
        y[i] = strtod(stop + 1, &stop);
        p = stop + 1;
    }
    assert_true(y[0] > y[1] && y[1] > y[2] && y[2] > y[3] && y[3] == y[4]);
    assert_true(fabs(y[4] - 12.0) < 0.11); /* PARETO_TOP */
    g_free(line);
    buf_free(&b);
}

static void pareto_caps_the_bars_and_notes_empty_input(void **state) {
    struct report_bar many[60];
    char names[60][16];
    for (int i = 0; i < 60; i++) {
        snprintf(names[i], sizeof names[i], "reason %d", i);
        many[i] = (struct report_bar){names[i], 60.0 - i, 1};
    }
    struct buf b;
    buf_init(&b, 0);
    report_pareto(&b, "Many", "count", many, 60);
    check_fragment(buf_str(&b));
    assert_int_equal(count(buf_str(&b), "<g class=\"bar\">"), 40);
    assert_contains(buf_str(&b), "The first 40 of 60 shown");
    buf_reset(&b);
    report_pareto(&b, "None", "count", many, 0);
    assert_lacks(buf_str(&b), "<svg");
    assert_contains(buf_str(&b), "report-note");
    buf_reset(&b);
    struct report_bar zero[] = {{"a", 0, 0}, {"b", NAN, 0}};
    report_pareto(&b, "Zero", "count", zero, 2);
    assert_lacks(buf_str(&b), "<svg");
    buf_free(&b);
}

static void histogram_bins_from_zero_and_marks_the_median(void **state) {
    const double v[] = {1, 2, 2.6, 2, 3, 10, NAN, INFINITY, -INFINITY};
    struct buf b;
    buf_init(&b, 0);
    report_histogram(&b, "Lead time", "days before churn", v, 9, 1);
    const char *s = buf_str(&b);
    check_fragment(s);
    /* bins [1,2) [2,3) [3,4) [10,11): 1, 3, 1, 1 */
    assert_int_equal(count(s, "<rect class=\"bin\""), 4);
    assert_contains(s, "2.0 to 3.0: 3</title>");
    assert_contains(s, "10.0 to 11.0: 1</title>");
    assert_contains(s, "median 2.3 (n = 6)");
    assert_int_equal(count(s, "class=\"median\""), 1);
    assert_contains(s, "days before churn");
    /* the x axis starts at 0 */
    assert_contains(s, "text-anchor=\"middle\">0</text>");
    buf_reset(&b);
    const double none[] = {NAN};
    report_histogram(&b, "Lead time", "days", none, 1, 7);
    assert_lacks(buf_str(&b), "<svg");
    assert_contains(buf_str(&b), "report-note");
    buf_reset(&b);
    report_histogram(&b, "Lead time", "days", NULL, 0, 7);
    assert_contains(buf_str(&b), "report-note");
    buf_free(&b);
}

static void histogram_widens_bins_and_takes_a_single_value(void **state) {
    double huge[] = {1e300, -1e300, 3, 4};
    struct buf h;
    buf_init(&h, 0);
    report_histogram(&h, "Huge", "days", huge, 4, 1); /* the two huge ones are skipped */
    check_fragment(buf_str(&h));
    assert_contains(buf_str(&h), "(n = 2)");
    buf_free(&h);
    double v[3] = {0, 5000, 100000};
    struct buf b;
    buf_init(&b, 0);
    report_histogram(&b, "Wide", "days", v, 3, 1); /* 100001 bins of 1 would be too many */
    check_fragment(buf_str(&b));
    assert_true(count(buf_str(&b), "<rect class=\"bin\"") <= 3);
    buf_reset(&b);
    report_histogram(&b, "One", "days", v, 1, 0); /* bin width 0: chosen */
    check_fragment(buf_str(&b));
    assert_int_equal(count(buf_str(&b), "<rect class=\"bin\""), 1);
    assert_contains(buf_str(&b), "median 0.0 (n = 1)");
    buf_free(&b);
}

static void outside_text_is_escaped_everywhere(void **state) {
    struct report_coef c[] = {{XSS, 0.5, 0.1, 0.9, 0.01}};
    const double f[] = {0, 1}, t[] = {0, 1};
    struct report_curve rc[] = {{XSS, f, t, 2, 0.5}};
    struct report_bar bars[] = {{XSS, 3, 1}};
    const double v[] = {1, 2};
    const char *header[] = {XSS, "n"};
    const char *cells[] = {XSS, "12", "a & b", NULL};
    struct buf b;
    buf_init(&b, 0);
    report_section(&b, XSS, "Tom's \"best\" <b>");
    report_coef_plot(&b, XSS, XSS, c, 1);
    report_roc(&b, XSS, rc, 1);
    report_pareto(&b, XSS, XSS, bars, 1);
    report_histogram(&b, XSS, XSS, v, 2, 1);
    report_coef_plot(&b, XSS, XSS, c, 0); /* the empty note's caption */
    report_table(&b, header, 2, cells, 2);
    const char *s = buf_str(&b);
    check_fragment(s);
    assert_lacks(s, "<script");
    assert_lacks(s, "<b>");
    assert_true(count(s, "&lt;script&gt;") >= 15);
    assert_contains(s, "Tom&#39;s &quot;best&quot; &lt;b&gt;");
    assert_contains(s, "a &amp; b");
    buf_free(&b);
}

static void table_aligns_numbers_and_a_section_title_is_optional(void **state) {
    const char *header[] = {"rule", "precision", "lead time"};
    const char *cells[] = {"no_login", "0.42", "12 days", "nps_drop", "1,204", NULL};
    struct buf b;
    buf_init(&b, 0);
    report_table(&b, header, 3, cells, 2);
    const char *s = buf_str(&b);
    check_fragment(s);
    assert_contains(s, "<table class=\"data\">");
    assert_int_equal(count(s, "<th scope=\"col\">"), 3);
    assert_int_equal(count(s, "<tr>"), 3);
    assert_int_equal(count(s, "<td class=\"num\">"), 2); /* 0.42 and 1,204 */
    assert_contains(s, "<td>12 days</td>");
    assert_contains(s, "<td>\xe2\x80\x94</td>"); /* NULL: a dash */
    buf_reset(&b);
    report_table(&b, header, 3, NULL, 0);
    check_fragment(buf_str(&b));
    assert_contains(buf_str(&b), "colspan=\"3\"");
    buf_reset(&b);
    report_section(&b, NULL, "Dropped x: constant.");
    report_section(&b, "", NULL);
    assert_string_equal(buf_str(&b), "<p class=\"report-text\">Dropped x: constant.</p>\n");
    buf_free(&b);
}

static void document_is_a_full_page_with_the_dashboard_css(void **state) {
    struct buf body, page;
    buf_init(&body, 0);
    buf_init(&page, 0);
    report_section(&body, "Which components predict churn", "From 200 accounts.");
    report_coef_plot(&body, "Coefficients", "log-odds", COEFS, 4);
    report_document(&page, "Churn analysis " XSS, buf_str(&body));
    const char *s = buf_str(&page);
    assert_true(!strncmp(s, "<!DOCTYPE html>", 15));
    check_tags(s);
    assert_contains(s, "<meta charset=\"utf-8\">");
    assert_contains(s, "<title>Churn analysis " XSS_ESCAPED);
    assert_contains(s, "<h1>Churn analysis " XSS_ESCAPED "</h1>");
    assert_contains(s, dash_css); /* embedded whole, so the file looks as the dashboard */
    assert_contains(s, buf_str(&body));
    assert_lacks(s, "<link"); /* standalone: nothing to fetch */
    assert_lacks(s, "<script");
    /* The classes the charts use are styled. */
    assert_contains(dash_css, ".report-chart {");
    assert_contains(dash_css, ".report-fig {");
    assert_contains(dash_css, "table.data th");
    const char *dir = getenv("TEND_REPORT_SAMPLES");
    if (dir && *dir) {
        struct report_curve c[] = {{"health score", FPR1, TPR1, 5, 0.8123},
                                   {"logins only", FPR2, TPR2, 5, 0.61}};
        struct report_bar bars[] = {{"price", 50, 10}, {"product gaps", 30, 6}, {"other", 5, 1}};
        const double v[] = {3, 10, 12, 14, 20, 21, 30, 45, 60};
        report_roc(&body, "ROC", c, 2);
        report_pareto(&body, "Churn reasons", "MRR lost", bars, 3);
        report_histogram(&body, "Lead time", "days before churn", v, 9, 7);
        buf_reset(&page);
        report_document(&page, "Sample report", buf_str(&body));
        char *path = g_strdup_printf("%s/report.html", dir);
        g_file_set_contents(path, buf_str(&page), -1, NULL);
        g_free(path);
    }
    buf_free(&body);
    buf_free(&page);
}

/* ---- the store, the views, the pages --------------------------------------- */

static struct {
    char dir[256];
    char path[300];
    struct store *s;
} fx;

static int store_setup(void **state) {
    const char *tmp = getenv("TMPDIR");
    snprintf(fx.dir, sizeof fx.dir, "%s/tend-test-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.path, sizeof fx.path, "%s/tend.db", fx.dir);
    char err[STORE_ERR_BYTES];
    if (test_db_open(fx.path, &fx.s, err) != TEND_OK) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    return 0;
}

static int store_teardown(void **state) {
    store_close(fx.s);
    fx.s = NULL;
    char *files[] = {"tend.db", "tend.db-wal", "tend.db-shm", "tend.db.session-key"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = g_strdup_printf("%s/%s", fx.dir, files[i]);
        unlink(p);
        g_free(p);
    }
    rmdir(fx.dir);
    return 0;
}

struct seen {
    int64_t ids[200];
    char *titles[200];
    char *body;
    bool body_null;
    size_t n;
};

static void on_seen(void *arg, const struct store_report *r) {
    struct seen *x = arg;
    assert_true(x->n < 200);
    x->ids[x->n] = r->id;
    x->titles[x->n++] = g_strdup(r->title);
    x->body_null = r->body == NULL;
    g_free(x->body);
    x->body = g_strdup(r->body);
}

static void seen_free(struct seen *x) {
    for (size_t i = 0; i < x->n; i++)
        g_free(x->titles[i]);
    g_free(x->body);
    memset(x, 0, sizeof *x);
}

/* The backtest's JSON travels in its report's body and comes back equal,
 * even with markup in its strings (an owner's name is data): nothing in it
 * can end the data block early. The newest backtest report is the one read;
 * an older body without the block reads as none. */
static void backtest_json_rides_in_the_report_and_reads_back(void **state) {
    cJSON *none = NULL;
    int64_t id = -1, ms = -1;
    assert_int_equal(backtest_latest(fx.s, &none, &id, &ms), TEND_OK);
    assert_null(none);
    assert_int_equal(id, 0);
    cJSON *j = cJSON_Parse("{\"from\": \"2026-01-01\", \"owners\": [{\"owner\": "
                           "\"</script><script>alert(1)</script> & co\"}], \"lift\": 1.25}");
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, "<p>table</p>");
    backtest_embed(&b, j);
    assert_null(strstr(buf_str(&b), "</script><script>"));
    assert_null(strstr(buf_str(&b), "& co"));
    int64_t a, c;
    struct store_report r = {
        .kind = "backtest", .title = "t", .body = buf_str(&b), .created_ms = 1000};
    assert_int_equal(store_report_put(fx.s, &r, &a), TEND_OK);
    struct store_report other = {
        .kind = "analyze", .title = "t", .body = "<p>x</p>", .created_ms = 2000};
    assert_int_equal(store_report_put(fx.s, &other, &c), TEND_OK);
    cJSON *back = NULL;
    assert_int_equal(backtest_latest(fx.s, &back, &id, &ms), TEND_OK);
    assert_int_equal(id, a);
    assert_int_equal(ms, 1000);
    assert_true(cJSON_Compare(j, back, true));
    cJSON_Delete(back);
    /* A newer backtest report from before the block: none. */
    struct store_report old = {
        .kind = "backtest", .title = "t", .body = "<p>old</p>", .created_ms = 3000};
    assert_int_equal(store_report_put(fx.s, &old, &c), TEND_OK);
    assert_int_equal(backtest_latest(fx.s, &back, &id, &ms), TEND_OK);
    assert_null(back);
    assert_int_equal(id, c);
    buf_free(&b);
    cJSON_Delete(j);
}

static void reports_round_trip_newest_first(void **state) {
    int64_t a, b;
    struct store_report r1 = {.kind = "analyze",
                              .title = "Churn drivers",
                              .summary = "AUC 0.81",
                              .body = "<p>one</p>",
                              .created_ms = 1000};
    struct store_report r2 = {.kind = "backtest",
                              .title = XSS,
                              .summary = NULL,
                              .body = "<p>two</p>",
                              .created_ms = 2000};
    assert_int_equal(store_report_put(fx.s, &r1, &a), TEND_OK);
    assert_int_equal(store_report_put(fx.s, &r2, &b), TEND_OK);
    assert_true(a > 0 && b > a);
    struct seen x = {0};
    assert_int_equal(store_reports_each(fx.s, 0, on_seen, &x), TEND_OK);
    assert_int_equal(x.n, 2);
    assert_int_equal(x.ids[0], b); /* newest first */
    assert_string_equal(x.titles[0], XSS);
    assert_true(x.body_null); /* lists carry no body */
    seen_free(&x);
    assert_int_equal(store_reports_each(fx.s, 1, on_seen, &x), TEND_OK);
    assert_int_equal(x.n, 1);
    seen_free(&x);
    assert_int_equal(store_report_get(fx.s, a, on_seen, &x), TEND_OK);
    assert_int_equal(x.n, 1);
    assert_string_equal(x.titles[0], "Churn drivers");
    assert_string_equal(x.body, "<p>one</p>");
    seen_free(&x);
    assert_int_equal(store_report_get(fx.s, b + 100, on_seen, &x), TEND_ERR_NOTFOUND);
    assert_int_equal(x.n, 0); /* fn not called */

    /* What the table refuses is refused before it, the id untouched. */
    int64_t untouched = -7;
    struct store_report bad = r1;
    bad.kind = "other";
    assert_int_equal(store_report_put(fx.s, &bad, &untouched), TEND_ERR_INVALID);
    assert_contains(store_last_error(fx.s), "analyze or backtest");
    bad = r1;
    bad.body = NULL;
    assert_int_equal(store_report_put(fx.s, &bad, &untouched), TEND_ERR_INVALID);
    assert_int_equal(untouched, -7);

    /* Inside a caller's transaction, too: the savepoint nests. */
    assert_int_equal(store_begin(fx.s, NULL), TEND_OK);
    assert_int_equal(store_report_put(fx.s, &r1, &a), TEND_OK);
    store_rollback(fx.s);
    assert_int_equal(store_report_get(fx.s, a, on_seen, &x), TEND_ERR_NOTFOUND);
    seen_free(&x);
}

static void only_the_newest_100_reports_are_kept(void **state) {
    int64_t first = 0, id = 0;
    char title[32];
    for (int i = 0; i < 105; i++) {
        snprintf(title, sizeof title, "report %d", i);
        /* The last five are dated before the others: newest is by time, not
         * by id, so each goes as soon as it is stored. */
        struct store_report r = {.kind = "analyze",
                                 .title = title,
                                 .summary = "s",
                                 .body = "<p>x</p>",
                                 .created_ms = i < 100 ? 10000 + i : 5000 + i};
        assert_int_equal(store_report_put(fx.s, &r, &id), TEND_OK);
        if (i == 0)
            first = id;
    }
    struct seen x = {0};
    assert_int_equal(store_reports_each(fx.s, 0, on_seen, &x), TEND_OK);
    assert_int_equal(x.n, 100);
    assert_string_equal(x.titles[0], "report 99");
    assert_string_equal(x.titles[99], "report 0");
    seen_free(&x);
    assert_int_equal(store_report_get(fx.s, id, on_seen, &x), TEND_ERR_NOTFOUND);
    assert_int_equal(store_report_get(fx.s, first, on_seen, &x), TEND_OK);
    seen_free(&x);
    /* One newer report pushes the oldest out. */
    struct store_report r = {
        .kind = "backtest", .title = "newest", .body = "<p>y</p>", .created_ms = 20000};
    assert_int_equal(store_report_put(fx.s, &r, &id), TEND_OK);
    assert_int_equal(store_reports_each(fx.s, 0, on_seen, &x), TEND_OK);
    assert_int_equal(x.n, 100);
    assert_string_equal(x.titles[0], "newest");
    assert_string_equal(x.titles[99], "report 1");
    seen_free(&x);
    assert_int_equal(store_report_get(fx.s, first, on_seen, &x), TEND_ERR_NOTFOUND);
}

static const struct dash_ctx CTX = {
    .user = "ana@example.com",
    .user_name = "Ana Ortiz",
    .csrf = "tok",
    .tz = "Europe/Berlin",
    .path = "/reports",
};

static void views_and_pages_show_the_stored_reports(void **state) {
    int64_t a, b;
    struct store_report r1 = {.kind = "analyze",
                              .title = "Churn drivers",
                              .summary = "AUC 0.81 <b>",
                              .body = "<figure class=\"report-fig\">BODY-ONE</figure>",
                              .created_ms = 1793432400000}; /* 2026-10-31T07:40:00Z */
    struct store_report r2 = {.kind = "backtest",
                              .title = XSS,
                              .summary = "",
                              .body = "<p>two</p>",
                              .created_ms = 1793440800000};
    assert_int_equal(store_report_put(fx.s, &r1, &a), TEND_OK);
    assert_int_equal(store_report_put(fx.s, &r2, &b), TEND_OK);

    cJSON *view = NULL;
    char err[VIEW_ERR_BYTES] = "";
    struct view_params none = {0};
    assert_int_equal(view_reports(fx.s, &none, &view, err), TEND_OK);
    cJSON *list = cJSON_GetObjectItem(view, "reports");
    assert_int_equal(cJSON_GetArraySize(list), 2);
    cJSON *newest = cJSON_GetArrayItem(list, 0), *older = cJSON_GetArrayItem(list, 1);
    assert_int_equal((int64_t)cJSON_GetObjectItem(newest, "id")->valuedouble, b);
    assert_string_equal(cJSON_GetObjectItem(older, "kind")->valuestring, "analyze");
    assert_string_equal(cJSON_GetObjectItem(older, "created")->valuestring,
                        "2026-10-31T07:40:00.000Z");
    char url[40];
    snprintf(url, sizeof url, "/reports/%lld", (long long)a);
    assert_string_equal(cJSON_GetObjectItem(older, "url")->valuestring, url);
    assert_null(cJSON_GetObjectItem(older, "html"));

    struct buf page;
    buf_init(&page, 0);
    dash_reports(&page, &CTX, view);
    const char *s = buf_str(&page);
    check_tags(s);
    assert_contains(s, "href=\"/reports\" aria-current=\"page\">Reports</a>");
    assert_contains(s, XSS_ESCAPED);
    assert_lacks(s, XSS);
    assert_contains(s, "AUC 0.81 &lt;b&gt;");
    assert_true(strstr(s, XSS_ESCAPED) < strstr(s, "Churn drivers")); /* newest first */
    assert_contains(s, url);
    assert_contains(s, "31 Oct 2026 08:40</time>"); /* in Europe/Berlin */
    cJSON_Delete(view);

    view = NULL;
    struct view_params bad = {.keys = {"limit"}, .values = {"0"}, .n = 1};
    assert_int_equal(view_reports(fx.s, &bad, &view, err), TEND_ERR_USAGE);
    assert_contains(err, "limit");

    assert_int_equal(view_report(fx.s, a, &view, err), TEND_OK);
    assert_string_equal(cJSON_GetObjectItem(view, "html")->valuestring, r1.body);
    assert_string_equal(cJSON_GetObjectItem(view, "title")->valuestring, "Churn drivers");
    buf_reset(&page);
    dash_report(&page, &CTX, view);
    s = buf_str(&page);
    check_tags(s);
    assert_true(!strncmp(s, "<!DOCTYPE html>", 15));
    assert_contains(s, "<div class=\"report\">\n<figure class=\"report-fig\">BODY-ONE</figure>");
    assert_contains(s, "<a href=\"/reports\">Reports</a>");
    assert_contains(s, "<link rel=\"stylesheet\" href=\"/static/tend.css\">");
    cJSON_Delete(view);

    view = NULL;
    assert_int_equal(view_report(fx.s, b, &view, err), TEND_OK);
    buf_reset(&page);
    dash_report(&page, &CTX, view);
    assert_contains(buf_str(&page), "<h1>" XSS_ESCAPED "</h1>");
    assert_lacks(buf_str(&page), XSS);
    cJSON_Delete(view);

    view = NULL;
    assert_int_equal(view_report(fx.s, b + 1, &view, err), TEND_ERR_NOTFOUND);
    assert_null(view);
    char want[40];
    snprintf(want, sizeof want, "no report %lld", (long long)(b + 1));
    assert_string_equal(err, want);

    buf_reset(&page);
    cJSON *empty = cJSON_Parse("{\"reports\":[]}");
    dash_reports(&page, &CTX, empty);
    assert_contains(buf_str(&page), "No reports yet");
    cJSON_Delete(empty);
    buf_free(&page);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coef_plot_draws_a_row_per_coefficient_with_its_interval),
        cmocka_unit_test(coef_plot_skips_what_is_not_finite),
        cmocka_unit_test(roc_draws_each_curve_the_diagonal_and_a_legend_with_auc),
        cmocka_unit_test(roc_without_points_is_a_note),
        cmocka_unit_test(pareto_draws_bars_and_a_cumulative_line_to_100_percent),
        cmocka_unit_test(pareto_caps_the_bars_and_notes_empty_input),
        cmocka_unit_test(histogram_bins_from_zero_and_marks_the_median),
        cmocka_unit_test(histogram_widens_bins_and_takes_a_single_value),
        cmocka_unit_test(outside_text_is_escaped_everywhere),
        cmocka_unit_test(table_aligns_numbers_and_a_section_title_is_optional),
        cmocka_unit_test(document_is_a_full_page_with_the_dashboard_css),
        cmocka_unit_test_setup_teardown(backtest_json_rides_in_the_report_and_reads_back,
                                        store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(reports_round_trip_newest_first, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(only_the_newest_100_reports_are_kept, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(views_and_pages_show_the_stored_reports, store_setup,
                                        store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
