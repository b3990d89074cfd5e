/* test_dash_team.c: the pages of people, API tokens, the audit log and a
 * one-time link (server/dash_team.h): hostile names, emails and JSON are
 * escaped and the tags nest; tend.yaml's people and tokens have no change
 * forms; a link or token just made is shown; the audit page links to older
 * entries only when there are more; a used link's page says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "html_check.h"
#include "server/dash_team.h"

static const struct dash_ctx ctx = {
    .user = "ann@example.com", .csrf = "c5rf", .tz = "UTC", .path = "/users", .role = "admin"};

static char *render_users(const char *json, const char *link) {
    cJSON *v = cJSON_Parse(json);
    struct buf b;
    buf_init(&b, 0);
    dash_users_page(&b, &ctx, v, link);
    cJSON_Delete(v);
    return buf_steal(&b);
}

static void users_page_escapes_and_offers_changes_for_the_apps_people_only(void **state) {
    (void)state;
    char *html = render_users(
        "{\"users\":[{\"email\":\"a@x\",\"name\":\"<script>alert(1)</script>\",\"role\":\"admin\","
        "\"disabled\":false,\"has_password\":true,\"source\":\"tend.yaml\"},"
        "{\"email\":\"b\\\"<i>@x\",\"name\":\"Bo & Co\",\"role\":\"csm\",\"disabled\":true,"
        "\"has_password\":false,\"source\":\"app\"}]}",
        "https://t.example/invite/abc<def>");
    check_tags(html);
    assert_null(strstr(html, "<script>alert"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "Bo &amp; Co"));
    assert_non_null(strstr(html, "invite/abc&lt;def&gt;"));
    /* One person of the app: its three forms, each with the CSRF token. */
    assert_int_equal(count(html, "action=\"/users/b%22%3Ci%3E%40x/"), 3);
    assert_non_null(strstr(html, "/enable\""));
    assert_non_null(strstr(html, "set in tend.yaml"));
    assert_int_equal(count(html, "name=\"csrf\" value=\"c5rf\""), 1 + 1 + 3); /* sign out, invite */
    assert_non_null(strstr(html, "href=\"/audit\""));
    free(html);
}

static void tokens_page_shows_a_new_token_once_and_revokes_the_apps(void **state) {
    (void)state;
    cJSON *v =
        cJSON_Parse("{\"tokens\":[{\"name\":\"ci\",\"scope\":\"act\",\"source\":\"tend.yaml\","
                    "\"revoked\":null},{\"name\":\"graf<b>\",\"scope\":\"read\","
                    "\"source\":\"app\",\"created_by\":\"ann@example.com\",\"revoked\":null},"
                    "{\"name\":\"old\",\"scope\":\"read\",\"source\":\"app\","
                    "\"revoked\":\"2026-12-01T00:00:00.000Z\"}]}");
    struct buf b;
    buf_init(&b, 0);
    dash_tokens_page(&b, &ctx, v, "tend_0123");
    cJSON_Delete(v);
    char *html = buf_steal(&b);
    check_tags(html);
    assert_non_null(strstr(html, "tend_0123"));
    assert_non_null(strstr(html, "graf&lt;b&gt;"));
    assert_int_equal(count(html, "/revoke\""), 1); /* not tend.yaml's, not a revoked one */
    assert_non_null(strstr(html, "revoked 2026-12-01"));
    free(html);
}

static void audit_page_escapes_json_and_pages(void **state) {
    (void)state;
    const char *json =
        "{\"entries\":[{\"id\":7,\"at\":\"2026-12-08T10:00:00.000Z\",\"actor\":\"<b>x</b>\","
        "\"action\":\"cta.snooze\",\"target\":\"cta:1\",\"before\":{\"note\":\"</code><script>\"},"
        "\"after\":null}],\"total\":9,\"next_before\":7}";
    cJSON *v = cJSON_Parse(json);
    struct buf b;
    buf_init(&b, 0);
    dash_audit_page(&b, &ctx, v);
    char *html = buf_steal(&b);
    check_tags(html);
    assert_null(strstr(html, "<script>"));
    assert_non_null(strstr(html, "&lt;b&gt;x&lt;/b&gt;"));
    assert_non_null(strstr(html, "href=\"/audit?before=7\""));
    assert_non_null(strstr(html, "9 entries"));
    free(html);
    cJSON_ReplaceItemInObject(v, "next_before", cJSON_CreateNull());
    buf_init(&b, 0);
    dash_audit_page(&b, &ctx, v);
    html = buf_steal(&b);
    assert_null(strstr(html, "before="));
    free(html);
    cJSON_Delete(v);
}

static void invite_page_says_when_a_link_is_not_valid(void **state) {
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    dash_invite_page(&b, "/invite/abc", "ann@example.com", "The two <passwords> differ.");
    char *html = buf_steal(&b);
    check_tags(html);
    assert_non_null(strstr(html, "action=\"/invite/abc\""));
    assert_non_null(strstr(html, "The two &lt;passwords&gt; differ."));
    assert_non_null(strstr(html, "name=\"password2\""));
    free(html);
    buf_init(&b, 0);
    dash_invite_page(&b, "/invite/abc", NULL, NULL);
    html = buf_steal(&b);
    check_tags(html);
    assert_non_null(strstr(html, "not valid"));
    assert_null(strstr(html, "<form"));
    free(html);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(users_page_escapes_and_offers_changes_for_the_apps_people_only),
        cmocka_unit_test(tokens_page_shows_a_new_token_once_and_revokes_the_apps),
        cmocka_unit_test(audit_page_escapes_json_and_pages),
        cmocka_unit_test(invite_page_says_when_a_link_is_not_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
