/* test_dash.c: the dashboard's pages (server/dash.c) and their pieces
 * (server/html.c), rendered from sample views shaped as docs/api.md shows.
 *
 * Every rendered page also goes through check_page(): tags balanced (so no
 * outside text opened one), no script, no style attribute, no javascript: URL,
 * every POST form but the sign-in carrying the CSRF field, and the stylesheet
 * linked. Hostile strings are put in names, ids, owners, traits, reasons and
 * the request's own query. With TEND_DASH_SAMPLES=DIR set, one sample of every
 * page is written there (to look at in a browser). */
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

#include "html_check.h"
#include "server/dash.h"
#include "server/html.h"

#define XSS_NAME  "<script>alert(1)</script>"
#define XSS_QUOTE "Tom's \"Best\" & Co"
#define XSS_ID    "a/b?c#d e"

/* ---- helpers -------------------------------------------------------------- */

/* Parses JSON written with single quotes. */
static cJSON *json(const char *text) {
    char *s = g_strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *j = cJSON_Parse(s);
    g_free(s);
    if (!j)
        fail_msg("bad fixture: %s", text);
    return j;
}

static void set_str(cJSON *o, const char *key, const char *value) {
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    cJSON_AddStringToObject(o, key, value);
}

static void assert_contains(const char *haystack, const char *needle) {
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" not found in:\n%s", needle, haystack);
}

static void assert_lacks(const char *haystack, const char *needle) {
    const char *at = strstr(haystack, needle);
    if (at)
        fail_msg("\"%s\" found at: %.200s", needle, at);
}

/* The part of page from the first start to the next end (end included), malloced. */
static char *slice(const char *page, const char *start, const char *end) {
    const char *a = strstr(page, start);
    if (!a)
        fail_msg("\"%s\" not found", start);
    const char *b = strstr(a + 1, end);
    if (!b)
        fail_msg("\"%s\" not found after \"%s\"", end, start);
    return g_strndup(a, (size_t)(b - a) + strlen(end));
}

/* Checks what every page must be (see the file's header). */
static void check_page(const char *page) {
    assert_true(!strncmp(page, "<!DOCTYPE html>", 15));
    check_tags(page);
    assert_lacks(page, "<script");
    assert_lacks(page, " style=");
    assert_lacks(page, "javascript:");
    assert_lacks(page, "<img");
    assert_contains(page, "<link rel=\"stylesheet\" href=\"/static/tend.css\">");
    for (const char *f = strstr(page, "<form"); f; f = strstr(f + 1, "<form")) {
        const char *end = strstr(f, "</form>");
        assert_non_null(end);
        char *form = g_strndup(f, (size_t)(end - f));
        if (strstr(form, "method=\"post\"") && !strstr(form, "action=\"/login\""))
            assert_contains(form, "<input type=\"hidden\" name=\"csrf\" value=\"tok&amp;en\">");
        g_free(form);
    }
}

static const struct dash_ctx CTX = {
    .user = "ana@example.com",
    .user_name = "Ana Ortiz",
    .csrf = "tok&en",
    .tz = "Europe/Berlin",
    .flash = NULL,
    .flash_error = false,
    .path = "/accounts",
};

/* Writes page to $TEND_DASH_SAMPLES/name.html when that is set. */
static void save_sample(const char *name, const char *page) {
    const char *dir = getenv("TEND_DASH_SAMPLES");
    if (!dir || !*dir)
        return;
    char *path = g_strdup_printf("%s/%s.html", dir, name);
    g_file_set_contents(path, page, -1, NULL);
    g_free(path);
}

typedef void (*page_fn)(struct buf *, const struct dash_ctx *, const cJSON *);

/* Renders view with fn and ctx, checks the page, returns it malloced. */
static char *render(page_fn fn, const struct dash_ctx *ctx, const cJSON *view) {
    struct buf b;
    buf_init(&b, 0);
    fn(&b, ctx, view);
    char *page = buf_steal(&b);
    check_page(page);
    return page;
}

/* ---- sample views --------------------------------------------------------- */

/* A small deterministic random sequence for the samples. */
static uint32_t lcg(uint32_t *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

/* A 90-value trend ending at last, with a gap in the middle when gaps. */
static cJSON *trend(uint32_t *seed, double last, bool gaps) {
    double v[90];
    v[89] = last;
    for (int i = 88; i >= 0; i--) {
        v[i] = v[i + 1] + ((int)(lcg(seed) % 9) - 4) * 0.6 + (last < 40 ? 0.35 : 0);
        v[i] = v[i] < 2 ? 2 : v[i] > 98 ? 98 : v[i];
    }
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < 90; i++) {
        if (gaps && i >= 30 && i < 36)
            cJSON_AddItemToArray(a, cJSON_CreateNull());
        else
            cJSON_AddItemToArray(a, cJSON_CreateNumber(((int)(v[i] * 10)) / 10.0));
    }
    return a;
}

/* The answer of GET /api/accounts with n accounts (n >= 3), the first three hostile. */
static cJSON *accounts_view(int n) {
    static const char *const names[] = {
        "Acme Inc",          "Globex",     "Initech", "Umbrella",         "Hooli",
        "Stark Industries",  "Wayne Corp", "Soylent", "Vandelay Imports", "Wonka",
        "Cyberdyne",         "Tyrell",     "Monarch", "Pied Piper",       "Massive Dynamic",
        "Aperture",          "Black Mesa", "Oscorp",  "Gringotts",        "Dunder Mifflin",
        "Prestige Worldwide"};
    static const char *const owners[] = {"ana@example.com", "bob@example.com", "chen@example.com"};
    cJSON *v = json("{'date': '2026-10-31', 'total': 213, 'page': 1, 'per_page': 50,"
                    " 'owners': ['ana@example.com', 'bob@example.com', 'chen@example.com'],"
                    " 'segments': ['enterprise', 'mid-market', 'smb'],"
                    " 'bands': {'red': 12, 'yellow': 40, 'green': 150, 'none': 11}}");
    cJSON_AddItemToArray(cJSON_GetObjectItem(v, "owners"),
                         cJSON_CreateString("\"><img src=x onerror=alert(1)>"));
    cJSON *list = cJSON_AddArrayToObject(v, "accounts");
    uint32_t seed = 7;
    for (int i = 0; i < n; i++) {
        cJSON *a = cJSON_CreateObject();
        double score = 8 + i * (88.0 / n) + (lcg(&seed) % 30) / 10.0;
        char id[32];
        snprintf(id, sizeof id, "acct-%03d", i + 1);
        cJSON_AddStringToObject(a, "id", i == 2 ? XSS_ID : id);
        cJSON_AddStringToObject(a, "name",
                                i == 0   ? XSS_NAME
                                : i == 1 ? XSS_QUOTE
                                         : names[i % (sizeof names / sizeof names[0])]);
        cJSON_AddStringToObject(a, "segment", i % 3 == 0 ? "enterprise" : "smb");
        if (i % 7 == 4)
            cJSON_AddNullToObject(a, "owner");
        else
            cJSON_AddStringToObject(a, "owner", owners[i % 3]);
        cJSON_AddNumberToObject(a, "mrr", i == 0 ? 1234567.5 : 200 + (lcg(&seed) % 60) * 50);
        score = ((int)(score * 10)) / 10.0;
        cJSON_AddNumberToObject(a, "score", score);
        cJSON_AddStringToObject(a, "band", html_band_of(score));
        double change = ((int)(lcg(&seed) % 300) - 180) / 10.0;
        cJSON_AddNumberToObject(a, "score_30d_ago", score - change);
        cJSON_AddNumberToObject(a, "change_30d", change);
        cJSON_AddNumberToObject(a, "open_ctas", i % 4 == 0 ? 3 : i % 4 == 1 ? 1 : 0);
        cJSON_AddItemToObject(a, "trend", trend(&seed, score, i % 5 == 2));
        cJSON_AddItemToArray(list, a);
    }
    return v;
}

static const char *const CTA_OPEN =
    "{'id': 12, 'account_id': 'acme', 'account_name': 'Acme Inc', 'rule': 'nps_response',"
    " 'subject': 'u-7', 'type': 'risk', 'priority': 'high', 'status': 'open',"
    " 'owner': 'ana@example.com', 'title': 'Detractor: bob@acme.com answered 3',"
    " 'reason': 'NPS answer 3 on 30 Oct: onboarding took too long',"
    " 'evidence': {'score': 3, 'comment': 'too slow', 'previous': null},"
    " 'opened_date': '2026-10-31', 'due_date': '2026-11-02', 'snoozed_until': null,"
    " 'closed_reason': null, 'closed_date': null, 'overdue': false}";

/* The answer of GET /api/ctas: an overdue open, a snoozed, a closed and a hostile CTA. */
static cJSON *ctas_view(void) {
    cJSON *v = json("{'total': 4, 'ctas': []}");
    cJSON *list = cJSON_GetObjectItem(v, "ctas");
    cJSON *c = json(CTA_OPEN);
    cJSON_ReplaceItemInObject(c, "overdue", cJSON_CreateTrue());
    set_str(c, "due_date", "2026-10-29");
    cJSON_AddItemToArray(list, c);
    c = json(CTA_OPEN);
    cJSON_ReplaceItemInObject(c, "id", cJSON_CreateNumber(14));
    set_str(c, "status", "snoozed");
    set_str(c, "priority", "medium");
    set_str(c, "title", "Seats barely used: 9 of 40");
    set_str(c, "reason", "Only 9 of 40 seats were active in the last 30 days.");
    set_str(c, "snoozed_until", "2026-11-10");
    set_str(c, "account_id", "globex");
    set_str(c, "account_name", "Globex");
    cJSON_AddItemToArray(list, c);
    c = json(CTA_OPEN);
    cJSON_ReplaceItemInObject(c, "id", cJSON_CreateNumber(13));
    set_str(c, "status", "closed");
    set_str(c, "priority", "low");
    set_str(c, "closed_reason", "auto_resolved");
    set_str(c, "closed_date", "2026-10-30");
    set_str(c, "title", "Card expires in 7 days");
    cJSON_AddItemToArray(list, c);
    c = json(CTA_OPEN);
    cJSON_ReplaceItemInObject(c, "id", cJSON_CreateNumber(15));
    set_str(c, "account_id", XSS_ID);
    set_str(c, "account_name", XSS_NAME);
    set_str(c, "title", XSS_QUOTE);
    set_str(c, "reason", "<b>bold</b> & \"quoted\"");
    set_str(c, "owner", "\"><script>x</script>");
    set_str(c, "priority", "\"><script>");
    cJSON_AddItemToArray(list, c);
    return v;
}

/* The answer of GET /api/accounts/{id}; history over 90 days with a gap. */
static cJSON *account_view(void) {
    cJSON *v = json(
        "{'id': 'acme', 'name': 'Acme Inc', 'segment': 'smb', 'plan': 'pro',"
        " 'owner': 'ana@example.com', 'csm_slack': 'U123', 'mrr': 1200.0, 'seats': 40,"
        " 'renewal_date': '2027-01-15', 'first_seen': '2025-11-02T10:00:00Z', 'churned': false,"
        " 'users': 31, 'traits': {'industry': 'retail', 'employees': 120, 'tags': ['a', 'b']},"
        " 'score': {'date': '2026-10-31', 'overall': 34.5, 'band': 'red',"
        "           'config_version': 'c0ffee', 'components': {'logins': 20.0,"
        "           'adoption': 41.0, 'sentiment': null, 'support': 80.0, 'financial': 10.0}},"
        " 'weights': {'logins': 0.25, 'adoption': 0.25, 'sentiment': 0.2, 'support': 0.15,"
        "             'financial': 0.15},"
        " 'metrics': {'users': 31, 'active_users_30d': 12, 'nps_avg_90d': null,"
        "             'mrr': 1200.0, 'seat_utilization': 0.3},"
        " 'ctas': [], 'timeline': ["
        "  {'at': '2026-10-31T09:14:03Z', 'kind': 'cta', 'what': 'open', 'cta': 12,"
        "   'user': 'tend', 'detail': 'Detractor: bob@acme.com answered 3'},"
        "  {'at': '2026-10-30T16:02:11Z', 'kind': 'event', 'what': 'NPS Survey Responded',"
        "   'user': 'bob@acme.com', 'detail': 'score 3'},"
        "  {'at': '2026-07-01T12:00:00Z', 'kind': 'event', 'what': 'Ticket Opened',"
        "   'user': 'eve@acme.com', 'detail': 'cannot export'}]}");
    cJSON_AddItemToArray(cJSON_GetObjectItem(v, "ctas"), json(CTA_OPEN));
    cJSON *history = cJSON_AddArrayToObject(v, "history");
    uint32_t seed = 3;
    cJSON *t = trend(&seed, 34.5, false);
    for (int i = 0; i < 90; i++) {
        if (i >= 40 && i < 44)
            continue; /* days without a score: the line breaks */
        char date[16];
        GDate *d = g_date_new_dmy(2, G_DATE_AUGUST, 2026);
        g_date_add_days(d, (guint)i);
        snprintf(date, sizeof date, "%04d-%02d-%02d", g_date_get_year(d), g_date_get_month(d),
                 g_date_get_day(d));
        g_date_free(d);
        double s = cJSON_GetArrayItem(t, i)->valuedouble;
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "date", date);
        cJSON_AddNumberToObject(h, "overall", s);
        cJSON_AddStringToObject(h, "band", html_band_of(s));
        cJSON_AddNumberToObject(h, "logins", s * 0.6);
        cJSON_AddNumberToObject(h, "adoption", s + 6 > 100 ? 100 : s + 6);
        cJSON_AddNullToObject(h, "sentiment");
        cJSON_AddNumberToObject(h, "support", 80);
        cJSON_AddNumberToObject(h, "financial", i < 60 ? 70 : 10);
        cJSON_AddItemToArray(history, h);
    }
    cJSON_Delete(t);
    return v;
}

static cJSON *rules_view(void) {
    return json("{'rules': ["
                " {'name': 'no_login', 'builtin': true, 'enabled': true, 'type': 'risk',"
                "  'fired_total': 40, 'fired_30d': 6, 'open': 5, 'snoozed': 1, 'closed': 34,"
                "  'auto_resolved': 20, 'last_fired': '2026-10-30'},"
                " {'name': 'nps_response', 'builtin': true, 'enabled': true, 'type': 'risk',"
                "  'fired_total': 12, 'fired_30d': 3, 'open': 2, 'snoozed': 0, 'closed': 10,"
                "  'auto_resolved': 1, 'last_fired': '2026-10-31'},"
                " {'name': 'renewal_soon', 'builtin': true, 'enabled': false, 'type': 'lifecycle',"
                "  'fired_total': 0, 'fired_30d': 0, 'open': 0, 'snoozed': 0, 'closed': 0,"
                "  'auto_resolved': 0, 'last_fired': null},"
                " {'name': '<i>big & \\u0027odd\\u0027</i>', 'builtin': false, 'enabled': true,"
                "  'type': 'expansion', 'fired_total': 3, 'fired_30d': 3, 'open': 3, 'snoozed': 0,"
                "  'closed': 0, 'auto_resolved': 0, 'last_fired': '2026-10-29'}]}");
}

static cJSON *outbox_view(void) {
    return json(
        "{'counts': {'pending': 2, 'sending': 0, 'sent': 120, 'dead': 1, 'held': 3,"
        "  'digested': 9}, 'oldest_pending_s': 4.2, 'rows': ["
        " {'id': 9, 'cta': 12, 'event': 'open', 'channel': 'slack', 'target': '',"
        "  'owner': 'ana@example.com', 'status': 'pending', 'attempts': 2, 'resends': 0,"
        "  'created': '2026-10-31T09:14:03Z', 'next_at': '2026-10-31T09:16:03Z', 'sent': null,"
        "  'last_error': 'slack: 503 <html>Service Unavailable</html>', 'key': 'tend-9-a'},"
        " {'id': 8, 'cta': 12, 'event': 'open', 'channel': 'email',"
        "  'target': 'ana@example.com', 'owner': 'ana@example.com', 'status': 'dead',"
        "  'attempts': 8, 'resends': 0, 'created': '2026-10-30T06:00:01Z', 'next_at': null,"
        "  'sent': null, 'last_error': 'smtp: 550 mailbox unavailable', 'key': 'tend-8-b'},"
        " {'id': 7, 'cta': null, 'event': 'digest', 'channel': 'email',"
        "  'target': 'bob@example.com', 'owner': 'bob@example.com', 'status': 'sent',"
        "  'attempts': 1, 'resends': 0, 'created': '2026-10-30T06:00:00Z', 'next_at': null,"
        "  'sent': '2026-10-30T06:00:02Z', 'last_error': null, 'key': 'tend-7-c'}]}");
}

/* ---- html.c --------------------------------------------------------------- */

static void escaping_replaces_the_five_characters(void **state) {
    struct buf b;
    buf_init(&b, 0);
    html_esc(&b, "a&b<c>d\"e'f");
    assert_string_equal(buf_str(&b), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    buf_reset(&b);
    html_esc(&b, NULL);
    assert_string_equal(buf_str(&b), "");
    html_esc_cut(&b, "h\xc3\xa9llo world", 4);
    assert_string_equal(buf_str(&b), "h\xc3\xa9l\xe2\x80\xa6");
    buf_reset(&b);
    html_esc_cut(&b, "<<<", 3);
    assert_string_equal(buf_str(&b), "&lt;&lt;&lt;");
    buf_free(&b);
}

static void url_parts_are_percent_encoded(void **state) {
    struct buf b;
    buf_init(&b, 0);
    html_url_part(&b, "a/b?c#d e&f=g\"<\xc3\xa9>~._-Z9");
    assert_string_equal(buf_str(&b), "a%2Fb%3Fc%23d%20e%26f%3Dg%22%3C%C3%A9%3E~._-Z9");
    buf_free(&b);
}

static void query_values_are_decoded_and_kept_reencoded(void **state) {
    const char *path = "/accounts?q=ac+me%21&band=red&band=green&owner=a%40b.c&x=%zz&page=3#top";
    struct buf b;
    buf_init(&b, 0);
    assert_true(html_query_get(path, "q", 0, &b));
    assert_string_equal(buf_str(&b), "ac me!");
    buf_reset(&b);
    assert_true(html_query_get(path, "band", 1, &b));
    assert_string_equal(buf_str(&b), "green");
    buf_reset(&b);
    assert_false(html_query_get(path, "band", 2, &b));
    assert_true(html_query_get(path, "x", 0, &b));
    assert_string_equal(buf_str(&b), "%zz");
    buf_reset(&b);
    assert_false(html_query_get("/accounts", "q", 0, &b));
    assert_int_equal(b.len, 0);
    static const char *const drop[] = {"page", "band", NULL};
    html_query_keep(&b, path, drop);
    assert_string_equal(buf_str(&b), "q=ac%20me%21&amp;owner=a%40b.c&amp;x=%25zz");
    buf_free(&b);
}

static void numbers_get_separators_and_a_dash_when_unknown(void **state) {
    struct buf b;
    buf_init(&b, 0);
    html_number(&b, 1234567.456, 2);
    buf_putc(&b, ' ');
    html_number(&b, -0.04, 1);
    buf_putc(&b, ' ');
    html_number(&b, -1200, 0);
    buf_putc(&b, ' ');
    html_number(&b, 999.96, 1);
    buf_putc(&b, ' ');
    html_json_number(&b, NULL, 1);
    assert_string_equal(buf_str(&b), "1,234,567.46 0.0 -1,200 1,000.0 " HTML_DASH);
    buf_reset(&b);
    html_duration(&b, 4.2);
    buf_putc(&b, '|');
    html_duration(&b, 7500);
    assert_string_equal(buf_str(&b), "4 s|2 h 5 min");
    buf_free(&b);
}

static void times_are_shown_in_the_zone_across_dst(void **state) {
    char out[32];
    /* Berlin is UTC+2 until 25 Oct 2026, UTC+1 after. */
    assert_true(html_format_time("2026-10-24T09:14:00Z", "Europe/Berlin", out));
    assert_string_equal(out, "24 Oct 2026 11:14");
    assert_true(html_format_time("2026-10-31T09:14:03Z", "Europe/Berlin", out));
    assert_string_equal(out, "31 Oct 2026 10:14");
    /* The spring change: 01:30Z is after it (03:30 CEST), 00:30Z before (01:30 CET). */
    assert_true(html_format_time("2026-03-29T00:30:00Z", "Europe/Berlin", out));
    assert_string_equal(out, "29 Mar 2026 01:30");
    assert_true(html_format_time("2026-03-29T01:30:00Z", "Europe/Berlin", out));
    assert_string_equal(out, "29 Mar 2026 03:30");
    /* Across midnight and the year. */
    assert_true(html_format_time("2026-12-31T23:30:00Z", "Europe/Berlin", out));
    assert_string_equal(out, "1 Jan 2027 00:30");
    assert_true(html_format_time("2026-10-31T09:14:03Z", "America/New_York", out));
    assert_string_equal(out, "31 Oct 2026 05:14");
    /* An unknown or missing zone is UTC, not the server's own zone. */
    assert_true(html_format_time("2026-10-31T09:14:03Z", "Mars/Olympus", out));
    assert_string_equal(out, "31 Oct 2026 09:14");
    assert_true(html_format_time("2026-10-31T09:14:03Z", NULL, out));
    assert_string_equal(out, "31 Oct 2026 09:14");
    strcpy(out, "untouched");
    assert_false(html_format_time("yesterday", "Europe/Berlin", out));
    assert_false(html_format_time(NULL, "Europe/Berlin", out));
    assert_string_equal(out, "untouched");

    struct buf b;
    buf_init(&b, 0);
    html_time(&b, "<b>soon</b>", "UTC");
    assert_string_equal(buf_str(&b), "&lt;b&gt;soon&lt;/b&gt;");
    buf_reset(&b);
    html_date(&b, "2026-11-02");
    assert_string_equal(buf_str(&b), "<time datetime=\"2026-11-02\">2 Nov 2026</time>");
    buf_free(&b);
}

static void sparkline_breaks_at_nulls_and_marks_lone_values(void **state) {
    cJSON *t = json("[10, 20, null, 30, null, null, 40, 50, 60]");
    struct buf b;
    buf_init(&b, 0);
    html_sparkline(&b, t, "red");
    const char *s = buf_str(&b);
    assert_int_equal(count(s, "<polyline"), 2);
    assert_int_equal(count(s, "<circle"), 1);
    assert_int_equal(count(s, "stroke=\"#d92d20\""), 2);
    assert_contains(s, "fill=\"#d92d20\"");
    assert_contains(s, "aria-label=\"9 days: from 10.0 to 60.0\"");
    /* the first run has two points, the second three */
    char *first = slice(s, "points=\"", "\"/>");
    assert_int_equal(count(first, ","), 2);
    g_free(first);
    check_tags(s);
    cJSON_Delete(t);

    buf_reset(&b);
    t = json("[null, null, null]");
    html_sparkline(&b, t, "green");
    assert_int_equal(count(buf_str(&b), "<polyline"), 0);
    assert_contains(buf_str(&b), "no scores");
    cJSON_Delete(t);
    buf_reset(&b);
    html_sparkline(&b, NULL, NULL);
    assert_contains(buf_str(&b), "no scores");
    buf_free(&b);
}

static void chart_draws_thresholds_and_breaks_at_missing_days(void **state) {
    cJSON *h = json("[{'date': '2026-08-01', 'overall': 50}, {'date': '2026-08-02', 'overall': 55},"
                    " {'date': '2026-08-05', 'overall': 45}, {'date': '2026-08-06', 'overall': 30,"
                    "  'band': 'red'}]");
    struct buf b;
    buf_init(&b, 0);
    html_chart(&b, h, false);
    const char *s = buf_str(&b);
    assert_contains(s, "<svg class=\"chart\"");
    assert_contains(s, "role=\"img\"");
    assert_contains(s, "aria-label=\"health score from 1 Aug 2026 to 6 Aug 2026: 50.0 to 30.0\"");
    assert_int_equal(count(s, "class=\"threshold\""), 2);
    assert_int_equal(count(s, "<polyline"), 2); /* 3 and 4 Aug are missing */
    assert_contains(s, ">1 Aug</text>");
    assert_contains(s, "<title>6 Aug 2026: 30.0</title>");
    check_tags(s);
    cJSON_Delete(h);

    buf_reset(&b);
    html_chart(&b, NULL, true);
    assert_contains(buf_str(&b), "No scores yet");
    check_tags(buf_str(&b));
    buf_free(&b);
}

/* ---- pages ---------------------------------------------------------------- */

static void accounts_page_ranks_links_and_counts_bands(void **state) {
    cJSON *v = accounts_view(50);
    char *page = render(dash_accounts, &CTX, v);
    save_sample("accounts", page);
    assert_contains(page, "<a href=\"/accounts\" aria-current=\"page\">Accounts</a>");
    assert_contains(page, "<a href=\"/ctas\">My CTAs</a>");
    assert_contains(page, "<a href=\"/rules\">Rules</a>");
    assert_contains(page, "<a href=\"/delivery\">Delivery</a>");
    assert_contains(page, "Ana Ortiz");
    assert_contains(page, "<form class=\"signout\" method=\"post\" action=\"/logout\">");
    assert_int_equal(count(page, "<tr><td class=\"num rank\">"), 50);
    assert_contains(page, "<td class=\"num rank\">50</td>");
    assert_contains(page, "<a href=\"/accounts/acct-004\">Umbrella</a>");
    assert_int_equal(count(page, "<svg class=\"spark\""), 50);
    assert_contains(page, "<span class=\"n\">12</span> red");
    assert_contains(page, "<span class=\"n\">11</span> no score");
    assert_contains(page, "href=\"/accounts?band=red\"");
    assert_contains(page, "$1,234,568"); /* MRR: money with its currency, whole units */
    assert_contains(page, "<span class=\"pill red\">red</span>");
    assert_contains(page, "class=\"change down\"");
    assert_contains(page, "<span class=\"muted\">unassigned</span>");
    assert_contains(page, "<a class=\"count\" href=\"/ctas?owner=all&amp;account=acct-005\">3</a>");
    /* the filter controls come from the view */
    assert_contains(page, "<option value=\"bob@example.com\">bob@example.com</option>");
    assert_contains(page, "<option value=\"smb\">smb</option>");
    assert_contains(page, "<option value=\"none\">(none)</option>");
    assert_contains(page, "<input type=\"checkbox\" name=\"band\" value=\"yellow\">");
    assert_contains(page, "<option value=\"score\" selected>Worst first</option>");
    /* 213 accounts in pages of 50 */
    assert_contains(page, "1\xe2\x80\x93"
                          "50 of 213");
    assert_contains(page, "<a rel=\"next\" href=\"/accounts?page=2\">");
    assert_lacks(page, "rel=\"prev\"");
    assert_contains(page, "Times in Europe/Berlin");
    free(page);
    cJSON_Delete(v);
}

static void accounts_filters_are_kept_in_controls_and_page_links(void **state) {
    cJSON *v = accounts_view(5);
    cJSON_ReplaceItemInObject(v, "page", cJSON_CreateNumber(2));
    struct dash_ctx ctx = CTX;
    ctx.path = "/accounts?owner=ana%40example.com&band=red,yellow&q=ac+me&sort=-score&page=2";
    char *page = render(dash_accounts, &ctx, v);
    assert_contains(page, "<option value=\"ana@example.com\" selected>");
    assert_contains(page, "<input type=\"checkbox\" name=\"band\" value=\"red\" checked>");
    assert_contains(page, "<input type=\"checkbox\" name=\"band\" value=\"yellow\" checked>");
    assert_contains(page, "<input type=\"checkbox\" name=\"band\" value=\"green\">");
    assert_contains(page, "name=\"q\" placeholder=\"name or id\" value=\"ac me\"");
    assert_contains(page, "<option value=\"-score\" selected>");
    const char *keep =
        "owner=ana%40example.com&amp;band=red%2Cyellow&amp;q=ac%20me&amp;sort=-score";
    char *next = g_strdup_printf("<a rel=\"next\" href=\"/accounts?%s&amp;page=3\">", keep);
    char *prev = g_strdup_printf("<a rel=\"prev\" href=\"/accounts?%s&amp;page=1\">", keep);
    assert_contains(page, next);
    assert_contains(page, prev);
    assert_contains(page, "page 2 of 5");
    assert_contains(page, "<td class=\"num rank\">51</td>");
    /* a band link replaces the band filter and goes back to page 1 */
    assert_contains(page, "href=\"/accounts?owner=ana%40example.com&amp;q=ac%20me&amp;"
                          "sort=-score&amp;band=green\"");
    assert_contains(page, "<a class=\"clear\" href=\"/accounts\">Clear</a>");
    g_free(next);
    g_free(prev);
    free(page);
    cJSON_Delete(v);
}

static void hostile_strings_are_escaped_in_text_attributes_and_urls(void **state) {
    cJSON *v = accounts_view(3);
    struct dash_ctx ctx = CTX;
    ctx.path = "/accounts?q=%22%3E%3Cscript%3E";
    ctx.user_name = "<b>Ana</b>";
    ctx.flash = "<script>flash</script>";
    char *page = render(dash_accounts, &ctx, v);
    assert_contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_contains(page, "Tom&#39;s &quot;Best&quot; &amp; Co");
    assert_contains(page, "<a href=\"/accounts/a%2Fb%3Fc%23d%20e\">");
    assert_contains(page, "a/b?c#d e");
    assert_contains(page, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
    assert_contains(page, "value=\"&quot;&gt;&lt;script&gt;\"");
    assert_contains(page, "&lt;b&gt;Ana&lt;/b&gt;");
    assert_contains(page, "<p class=\"flash\" role=\"status\">&lt;script&gt;flash");
    assert_lacks(page, "Tom's");
    free(page);
    cJSON_Delete(v);

    v = ctas_view();
    ctx.path = "/ctas?owner=all&x=\"><script>";
    page = render(dash_ctas, &ctx, v);
    char *card = slice(page, "id=\"cta-15\"", "</tr>");
    assert_contains(card, "<a href=\"/accounts/a%2Fb%3Fc%23d%20e\">&lt;script&gt;alert(1)");
    assert_contains(card, "Tom&#39;s &quot;Best&quot; &amp; Co");
    assert_contains(card, "title=\"&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;\"");
    assert_contains(card, "<td class=\"owner\">&quot;&gt;&lt;script&gt;x&lt;/script&gt;</td>");
    assert_contains(card, "<span class=\"prio other\">&quot;&gt;&lt;script&gt;</span>");
    g_free(card);
    assert_contains(page, "name=\"back\" value=\"/ctas?owner=all&amp;x=&quot;&gt;&lt;script&gt;\"");
    free(page);
    cJSON_Delete(v);

    v = account_view();
    set_str(v, "id", XSS_ID);
    set_str(v, "name", XSS_NAME);
    cJSON_AddStringToObject(cJSON_GetObjectItem(v, "traits"), "<k>", "\"v\" & 'w'");
    page = render(dash_account, &CTX, v);
    assert_contains(page, "<title>&lt;script&gt;alert(1)&lt;/script&gt; \xc2\xb7 tend</title>");
    assert_contains(page, "<th scope=\"row\">&lt;k&gt;</th><td>&quot;v&quot; &amp; &#39;w&#39;");
    assert_contains(page, "<td>[&quot;a&quot;,&quot;b&quot;]</td>");
    free(page);
    cJSON_Delete(v);

    v = rules_view();
    page = render(dash_rules, &CTX, v);
    assert_contains(page, "href=\"/ctas?owner=all&amp;status=all&amp;rule=%3Ci%3Ebig%20%26%20%27"
                          "odd%27%3C%2Fi%3E\">&lt;i&gt;big &amp; &#39;odd&#39;&lt;/i&gt;</a>");
    free(page);
    cJSON_Delete(v);
}

/* Issue 16: the cockpit shows each CTA's value and how many CTAs the weekly
 * budget held back, linking to them; the held-back list shows each one. */
static void cockpit_shows_value_and_what_the_budget_held_back(void **state) {
    (void)state;
    cJSON *v = ctas_view();
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "ctas"), 0);
    set_str(first, "value_text", "$42,000 ARR at risk");
    cJSON_DeleteItemFromObject(first, "value");
    cJSON_AddNumberToObject(first, "value", 42000);
    cJSON_AddNumberToObject(v, "held_this_week", 4);
    cJSON_AddStringToObject(v, "week", "2026-10-26");
    struct dash_ctx ctx = CTX;
    ctx.path = "/ctas";
    char *page = render(dash_ctas, &ctx, v);
    char *card = slice(page, "id=\"cta-12\"", "</tr>");
    assert_contains(card, "<td class=\"num value\">$42,000</td>");
    g_free(card);
    assert_contains(page, "<a class=\"held-count\" href=\"/ctas?status=held&amp;week=2026-10-26\">"
                          "4 held back by the budget this week</a>");
    assert_contains(page, "<a href=\"/ctas?status=held\">Held back</a>");
    free(page);
    cJSON_Delete(v);

    v = json("{'total': 1, 'week': null, 'budget_per_owner_per_week': 10, 'held': ["
             "{'week': '2026-10-26', 'day': '2026-10-28', 'account_id': 'acme', "
             "'account_name': 'Acme <Inc>', 'rule': 'no_login', 'subject': '', 'type': 'risk', "
             "'priority': 'low', 'owner': 'ana@example.com', 'title': 'No logins', "
             "'reason': 'no one has logged in for 20 days', 'value': 480, "
             "'value_text': '$480 ARR at risk'}]}");
    ctx.path = "/ctas?status=held";
    page = render(dash_ctas, &ctx, v);
    assert_contains(page, "1 held back by the budget (at most 10 new CTAs per owner a week)");
    assert_contains(page, "<a href=\"/accounts/acme\">Acme &lt;Inc&gt;</a>");
    assert_contains(page, "<span class=\"value\">$480 ARR at risk</span>");
    assert_contains(page, "no one has logged in for 20 days");
    assert_contains(page, "aria-current=\"page\">Held back</a>");
    assert_lacks(page, "<form class=\"act"); /* held back: nothing to snooze or close */
    free(page);
    cJSON_Delete(v);
}

static void cockpit_has_snooze_close_and_assign_forms_for_live_ctas(void **state) {
    cJSON *v = ctas_view();
    struct dash_ctx ctx = CTX;
    ctx.path = "/ctas";
    ctx.flash = "CTA 12 snoozed until 2026-11-10";
    char *page = render(dash_ctas, &ctx, v);
    save_sample("ctas", page);
    assert_contains(page, "<h1>My CTAs</h1>");
    assert_contains(page, "<a href=\"/ctas\" aria-current=\"page\">Mine</a>");
    assert_contains(page, "<a href=\"/ctas?owner=all\">All owners</a>");
    assert_contains(page, "<a href=\"/ctas?status=closed\">Closed</a>");
    assert_contains(page, "<a href=\"/ctas\" aria-current=\"page\">Live</a>");
    assert_contains(page, "<p class=\"flash\" role=\"status\">CTA 12 snoozed");

    /* One compact row a CTA; a live one has a checkbox that joins the bulk
     * form (snooze or reassign, one POST with the CSRF token). */
    assert_int_equal(count(page, "<form id=\"bulk\" class=\"bulk\" method=\"post\" "
                                 "action=\"/ctas/bulk\">"),
                     1);
    char *bulk = slice(page, "<form id=\"bulk\"", "</form>");
    assert_int_equal(count(bulk, "name=\"csrf\""), 1);
    assert_contains(bulk, "<input type=\"hidden\" name=\"back\" value=\"/ctas\">");
    assert_contains(bulk, "<input type=\"date\" name=\"until\">");
    assert_contains(bulk, "<button type=\"submit\" name=\"action\" value=\"snooze\">");
    assert_contains(bulk, "<button type=\"submit\" name=\"action\" value=\"assign\">");
    g_free(bulk);
    char *card = slice(page, "id=\"cta-12\"", "</tr>");
    assert_contains(card, "<input type=\"checkbox\" name=\"id\" value=\"12\" form=\"bulk\"");
    assert_contains(card, "<a href=\"/ctas/12\"");
    assert_contains(card, ">Detractor");
    assert_contains(card, "<a href=\"/accounts/acme\">Acme Inc</a>");
    assert_contains(card, "<time datetime=\"2026-10-29\">29 Oct 2026</time> "
                          "<strong>overdue</strong>");
    assert_contains(page, "<tr id=\"cta-12\" class=\"cta-row overdue\">");
    g_free(card);

    card = slice(page, "id=\"cta-14\"", "</tr>");
    assert_contains(card, "name=\"id\" value=\"14\"");
    assert_contains(card, "snoozed until <time datetime=\"2026-11-10\">");
    assert_lacks(card, "overdue");
    g_free(card);

    card = slice(page, "id=\"cta-13\"", "</tr>");
    assert_lacks(card, "type=\"checkbox\""); /* closed: nothing to snooze */
    assert_contains(card, "closed (auto resolved) on");
    g_free(card);
    /* the export link keeps the page's query */
    assert_contains(page, "<a class=\"export\" download href=\"/ctas?format=csv\">Export CSV</a>");
    free(page);

    /* everyone's closed CTAs */
    ctx.path = "/ctas?owner=all&status=closed";
    page = render(dash_ctas, &ctx, v);
    assert_contains(page, "<h1>All CTAs</h1>");
    assert_contains(
        page, "<a href=\"/ctas?status=closed&amp;owner=all\" aria-current=\"page\">All owners</a>");
    assert_contains(page, "<a href=\"/ctas?status=closed\">Mine</a>");
    assert_contains(page, "<a href=\"/ctas?owner=all&amp;status=closed\" aria-current=\"page\">"
                          "Closed</a>");
    free(page);
    cJSON_Delete(v);
}

static void cta_page_shows_evidence_history_and_actions(void **state) {
    cJSON *v = json(CTA_OPEN);
    cJSON_AddItemToObject(
        v, "history",
        json("[{'seq': 1, 'date': '2026-10-31', 'at': '2026-10-31T05:00:00Z', 'action': 'open',"
             " 'actor': 'tend', 'status': 'open', 'priority': 'high', 'note': null},"
             " {'seq': 2, 'date': '2026-10-31', 'at': '2026-10-31T09:14:03Z', 'action': 'assign',"
             " 'actor': 'ana@example.com', 'status': 'open', 'priority': 'high',"
             " 'note': '<em>mine</em>'}]"));
    struct dash_ctx ctx = CTX;
    ctx.path = "/ctas/12";
    char *page = render(dash_cta, &ctx, v);
    save_sample("cta", page);
    assert_contains(page, "id=\"cta-12\"");
    assert_contains(page, "action=\"/ctas/12/close\"");
    assert_contains(page, "<input type=\"hidden\" name=\"back\" value=\"/ctas/12\">");
    assert_contains(page, "<th scope=\"row\">comment</th><td>too slow</td>");
    assert_contains(page, "<th scope=\"row\">previous</th><td>" HTML_DASH "</td>");
    assert_contains(page, ">31 Oct 2026 10:14</time>");
    assert_contains(page, "&lt;em&gt;mine&lt;/em&gt;");
    free(page);
    cJSON_Delete(v);
}

static void account_page_has_header_components_chart_and_newest_first_timeline(void **state) {
    cJSON *v = account_view();
    struct dash_ctx ctx = CTX;
    ctx.path = "/accounts/acme";
    char *page = render(dash_account, &ctx, v);
    save_sample("account", page);
    assert_contains(page, "<h1>Acme Inc</h1> <span class=\"pill red\">red</span>");
    assert_contains(page, "<h2>Health, last 90 days</h2>");
    assert_contains(page, "<div class=\"bigscore red\"><span class=\"n\">34.5</span>");
    assert_contains(page, "<dt>MRR</dt><dd>1,200</dd>");
    assert_contains(page, "<dt>Renewal</dt><dd><time datetime=\"2027-01-15\">15 Jan 2027</time>");
    /* components with weights; sentiment unknown */
    assert_contains(page, "<th scope=\"row\">logins</th><td class=\"num muted\">25%</td>");
    assert_contains(page, "<th scope=\"row\">sentiment</th><td class=\"num muted\">20%</td>");
    char *row = slice(page, "<th scope=\"row\">sentiment</th>", "</tr>");
    assert_lacks(row, "class=\"fill-");
    assert_contains(row, HTML_DASH);
    g_free(row);
    row = slice(page, "<th scope=\"row\">support</th>", "</tr>");
    assert_contains(row, "class=\"fill-green\" width=\"96.0\"");
    g_free(row);
    /* the chart */
    char *chart = slice(page, "<svg class=\"chart\"", "</svg>");
    assert_contains(chart, "role=\"img\" font-size=\"11\" fill=\"#475467\" aria-label=\"health "
                           "score from 2 Aug 2026 to 30 Oct 2026: ");
    assert_contains(chart, "to 34.5\"");
    assert_int_equal(count(chart, "class=\"threshold\""), 2);
    assert_contains(chart, ">Sep 2026</text>");
    assert_contains(chart, ">Oct</text>");
    assert_contains(chart, "stroke=\"#344054\" stroke-width=\"2.5\"");
    g_free(chart);
    /* CTAs, metrics (null as a dash), traits */
    assert_contains(page, "<tr id=\"cta-12\">");
    assert_contains(page, "<a href=\"/ctas/12\">Detractor: bob@acme.com answered 3</a>");
    assert_contains(page, "<th scope=\"row\">nps_avg_90d</th><td>" HTML_DASH "</td>");
    assert_contains(page, "<th scope=\"row\">Seat utilization</th><td>30.0%</td>");
    assert_contains(page, "<th scope=\"row\">industry</th><td>retail</td>");
    /* timeline, newest first, in Berlin time (CET after 25 Oct, CEST in July) */
    const char *a = strstr(page, ">31 Oct 2026 10:14</time>");
    const char *b = strstr(page, ">30 Oct 2026 17:02</time>");
    const char *c = strstr(page, ">1 Jul 2026 14:00</time>");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(a < b && b < c);
    assert_contains(page, "<a href=\"/ctas/12\">CTA 12</a> open");
    free(page);
    cJSON_Delete(v);
}

static void rules_page_lists_counts_and_auto_resolved_share(void **state) {
    cJSON *v = rules_view();
    struct dash_ctx ctx = CTX;
    ctx.path = "/rules";
    char *page = render(dash_rules, &ctx, v);
    save_sample("rules", page);
    char *row = slice(page, ">no_login</a>", "</tr>");
    assert_contains(row, "<span class=\"tag\">built-in</span>");
    assert_contains(row, "<td class=\"num\">40</td><td class=\"num\">6</td><td class=\"num\">5"
                         "</td><td class=\"num\">1</td><td class=\"num\">34</td>");
    assert_contains(row, " 59%");
    g_free(row);
    row = slice(page, ">renewal_soon</a>", "</tr>");
    assert_contains(row, "<span class=\"tag off\">off</span>");
    assert_contains(row, "<td class=\"share\"><span class=\"muted\">" HTML_DASH);
    g_free(row);
    assert_contains(page, "<tr class=\"disabled\">");
    free(page);
    cJSON_Delete(v);
}

/* The quality of the latest backtest beside each rule: the columns of tend
 * rules, a noisy rule tagged, and a page without a backtest says so. */
static void rules_page_shows_backtest_quality_and_marks_noisy(void **state) {
    cJSON *v =
        json("{'backtest': {'report': 7, 'from': '2026-01-01', 'to': '2026-10-31',"
             "  'horizon_days': 90, 'base_rate': 0.03, 'noisy_below_lift': 1.2},"
             " 'rules': ["
             " {'name': 'no_login', 'builtin': true, 'enabled': true, 'type': 'risk',"
             "  'priority': 'medium', 'thresholds': 'days=14', 'scope': 'every account',"
             "  'quality': {'raised': 52, 'precision': 0.231, 'lift': 7.56, 'recall': 0.097,"
             "   'median_lead_days': 9, 'closed_within_3_days': 31, 'noisy': false}},"
             " {'name': 'nps_response', 'builtin': true, 'enabled': true, 'type': 'risk',"
             "  'priority': 'high', 'thresholds': 'detractor_max=6', 'scope': 'every account',"
             "  'quality': {'raised': 7192, 'precision': 0.032, 'lift': 1.04, 'recall': 0.513,"
             "   'median_lead_days': 47, 'closed_within_3_days': 3, 'noisy': true}}]}");
    struct dash_ctx ctx = CTX;
    ctx.path = "/rules";
    char *page = render(dash_rules, &ctx, v);
    assert_contains(page, "Quality from the latest backtest, 2026-01-01 to 2026-10-31 (report 7)");
    char *row = slice(page, ">no_login</a>", "</tr>");
    assert_contains(row, "<td>medium</td><td><code>days=14</code></td><td>every account</td>"
                         "<td class=\"num\">52</td><td class=\"num\">0.231</td>"
                         "<td class=\"num\">7.56</td><td class=\"num\">0.097</td>"
                         "<td class=\"num\">9</td><td class=\"num\">31</td>");
    assert_null(strstr(row, "noisy"));
    g_free(row);
    row = slice(page, ">nps_response</a>", "</tr>");
    assert_contains(row, "1.04 <span class=\"tag noisy\">noisy</span>");
    g_free(row);
    free(page);
    cJSON_Delete(v);
    v = rules_view();
    page = render(dash_rules, &ctx, v);
    assert_contains(page, "No backtest yet: run tend backtest");
    free(page);
    cJSON_Delete(v);
}

static void delivery_page_shows_counts_oldest_and_errors(void **state) {
    cJSON *v = outbox_view();
    struct dash_ctx ctx = CTX;
    ctx.path = "/delivery";
    char *page = render(dash_delivery, &ctx, v);
    save_sample("delivery", page);
    assert_contains(page, "<li class=\"tile st-sent\"><span class=\"n\">120</span>sent</li>");
    assert_contains(page, "<li class=\"tile st-sending zero\"><span class=\"n\">0</span>");
    assert_contains(page, "<span class=\"n\">4 s</span>oldest pending");
    assert_int_equal(count(page, "<tr class=\"has-error\">"), 2);
    assert_contains(page, "slack: 503 &lt;html&gt;Service Unavailable&lt;/html&gt;");
    assert_contains(page, "<a href=\"/ctas/12\">12</a>");
    assert_contains(page, "<span class=\"muted\">digest</span>");
    assert_contains(page, ">31 Oct 2026 10:16</time>"); /* the pending row's next try */
    free(page);
    cJSON_Delete(v);
}

static void login_page_posts_credentials_and_a_local_next(void **state) {
    struct buf b;
    buf_init(&b, 0);
    dash_login(&b, "Wrong email or <password>", NULL, "/ctas?owner=all&status=closed",
               "0123456789abcdef0123456789abcdef");
    const char *page = buf_str(&b);
    check_page(page);
    save_sample("login", page);
    assert_contains(page, "<form class=\"card login\" method=\"post\" action=\"/login\">");
    assert_contains(page, "<input type=\"email\" name=\"email\"");
    assert_contains(page, "<input type=\"password\" name=\"password\"");
    assert_contains(page, "<input type=\"hidden\" name=\"next\" "
                          "value=\"/ctas?owner=all&amp;status=closed\">");
    assert_contains(page, "<input type=\"hidden\" name=\"csrf\" "
                          "value=\"0123456789abcdef0123456789abcdef\">");
    assert_contains(page,
                    "<p class=\"flash error\" role=\"alert\">Wrong email or &lt;password&gt;");
    assert_lacks(page, "Sign out");
    buf_reset(&b);
    dash_login(&b, NULL, NULL, "//evil.example/", "t");
    assert_contains(buf_str(&b), "name=\"next\" value=\"/accounts\"");
    assert_lacks(buf_str(&b), "evil");
    assert_lacks(buf_str(&b), "flash");
    buf_reset(&b);
    dash_login(&b, NULL, "Signed out <everywhere>.", "/\t/evil.example/", "t");
    assert_contains(buf_str(&b), "name=\"next\" value=\"/accounts\"");
    assert_contains(buf_str(&b),
                    "<p class=\"flash\" role=\"status\">Signed out &lt;everywhere&gt;.");
    assert_lacks(buf_str(&b), "evil");
    buf_free(&b);
}

static void error_page_escapes_its_message_with_or_without_a_session(void **state) {
    struct buf b;
    buf_init(&b, 0);
    dash_error(&b, &CTX, 404, "no account \"<x>\"");
    check_page(buf_str(&b));
    save_sample("error", buf_str(&b));
    assert_contains(buf_str(&b), "<p class=\"code\">404</p><h1>Not found</h1>");
    assert_contains(buf_str(&b), "no account &quot;&lt;x&gt;&quot;");
    assert_contains(buf_str(&b), "Sign out");
    buf_reset(&b);
    dash_error(&b, NULL, 400, NULL);
    check_page(buf_str(&b));
    assert_contains(buf_str(&b), "Bad request");
    assert_lacks(buf_str(&b), "Sign out");
    buf_free(&b);
}

static void empty_views_render_helpful_empty_states(void **state) {
    cJSON *v = json("{'date': null, 'total': 0, 'page': 1, 'per_page': 50, 'owners': [],"
                    " 'segments': [], 'bands': {'red': 0, 'yellow': 0, 'green': 0, 'none': 0},"
                    " 'accounts': []}");
    char *page = render(dash_accounts, &CTX, v);
    save_sample("accounts-empty", page);
    assert_contains(page, "<h2>No scores yet</h2>");
    assert_contains(page, "<code>tend eval</code>");
    assert_lacks(page, "<table");
    free(page);
    cJSON_Delete(v);

    /* evaluated, but the filters match nothing */
    v = json("{'date': '2026-10-31', 'total': 0, 'page': 1, 'per_page': 50, 'owners': [],"
             " 'segments': [], 'bands': {'red': 1}, 'accounts': []}");
    struct dash_ctx ctx = CTX;
    ctx.path = "/accounts?q=zzz";
    page = render(dash_accounts, &ctx, v);
    assert_contains(page, "No account matches");
    assert_contains(page, "<a href=\"/accounts\">Show every account</a>");
    free(page);
    cJSON_Delete(v);

    v = json("{'total': 0, 'ctas': []}");
    ctx.path = "/ctas";
    page = render(dash_ctas, &ctx, v);
    assert_contains(page, "Nothing to do");
    assert_contains(page, "href=\"/ctas?owner=all\"");
    free(page);
    cJSON_Delete(v);

    v = json("{'counts': {}, 'oldest_pending_s': 0, 'rows': []}");
    page = render(dash_delivery, &CTX, v);
    assert_contains(page, "Nothing sent yet");
    assert_contains(page, "<span class=\"n\">none</span>oldest pending");
    free(page);
    cJSON_Delete(v);

    /* a missing view (or one of the wrong shape) never crashes a page */
    page_fn fns[] = {dash_accounts, dash_account, dash_ctas, dash_cta, dash_rules, dash_delivery};
    cJSON *wrong = json("{'accounts': {'a': 1}, 'ctas': 'x', 'history': 3, 'rules': {},"
                        " 'rows': [1, 'x', null], 'score': [], 'timeline': [7]}");
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        free(render(fns[i], &CTX, NULL));
        free(render(fns[i], &CTX, wrong));
    }
    cJSON_Delete(wrong);
}

static void stylesheet_has_the_band_colours_and_no_imports(void **state) {
    assert_contains(dash_css, ".pill.red");
    assert_contains(dash_css, ".pill.yellow");
    assert_contains(dash_css, ".pill.green");
    assert_contains(dash_css, ".chart");
    assert_lacks(dash_css, "@import");
    assert_lacks(dash_css, "url(");
    const char *dir = getenv("TEND_DASH_SAMPLES");
    if (dir && *dir) {
        char *path = g_strdup_printf("%s/tend.css", dir);
        g_file_set_contents(path, dash_css, -1, NULL);
        g_free(path);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escaping_replaces_the_five_characters),
        cmocka_unit_test(url_parts_are_percent_encoded),
        cmocka_unit_test(query_values_are_decoded_and_kept_reencoded),
        cmocka_unit_test(numbers_get_separators_and_a_dash_when_unknown),
        cmocka_unit_test(times_are_shown_in_the_zone_across_dst),
        cmocka_unit_test(sparkline_breaks_at_nulls_and_marks_lone_values),
        cmocka_unit_test(chart_draws_thresholds_and_breaks_at_missing_days),
        cmocka_unit_test(accounts_page_ranks_links_and_counts_bands),
        cmocka_unit_test(accounts_filters_are_kept_in_controls_and_page_links),
        cmocka_unit_test(hostile_strings_are_escaped_in_text_attributes_and_urls),
        cmocka_unit_test(cockpit_has_snooze_close_and_assign_forms_for_live_ctas),
        cmocka_unit_test(cockpit_shows_value_and_what_the_budget_held_back),
        cmocka_unit_test(cta_page_shows_evidence_history_and_actions),
        cmocka_unit_test(account_page_has_header_components_chart_and_newest_first_timeline),
        cmocka_unit_test(rules_page_lists_counts_and_auto_resolved_share),
        cmocka_unit_test(rules_page_shows_backtest_quality_and_marks_noisy),
        cmocka_unit_test(delivery_page_shows_counts_oldest_and_errors),
        cmocka_unit_test(login_page_posts_credentials_and_a_local_next),
        cmocka_unit_test(error_page_escapes_its_message_with_or_without_a_session),
        cmocka_unit_test(empty_views_render_helpful_empty_states),
        cmocka_unit_test(stylesheet_has_the_band_colours_and_no_imports),
    };
    return cmocka_run_group_tests_name("dash", tests, NULL, NULL);
}
