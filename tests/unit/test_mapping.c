/* test_mapping.c: unit tests of ingest/mapping (the events: section of
 * tend.yaml): the loader, each of whose errors names the path, and the pure
 * apply function (alias, rename, ignore, order, case sensitivity), followed by
 * segment_parse_msg as ingest runs them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/vocab.h"
#include "ingest/mapping.h"
#include "ingest/segment.h"

#define RECEIVED_MS 1717200000000LL /* 2024-06-01T00:00:00Z */

static const char *const plan =
    "{\"aliases\":{\"Logged In\":\"Signed In\",\"NPS Submitted\":\"NPS Survey Responded\","
    "\"Survey Answered\":\"NPS Survey Responded\"},"
    "\"properties\":{\"NPS Submitted\":{\"nps_score\":\"score\"},"
    "\"NPS Survey Responded\":{\"rating\":\"score\"},"
    "\"Report Exported\":{\"module\":\"product\"}},"
    "\"ignore\":[\"Page Viewed\"]}";

/* Loads the JSON text as events: into *m; returns the result, err filled. */
static enum tend_err load(const char *json, struct event_map *m, char *err) {
    cJSON *root = cJSON_Parse(json);
    if (!root)
        fail_msg("test JSON does not parse: %s", json);
    err[0] = '\0';
    enum tend_err e = event_map_load(root, m, err);
    cJSON_Delete(root);
    return e;
}

/* Asserts that json is refused with an error containing each needle. */
static void refused(const char *json, const char *needle, const char *needle2) {
    struct event_map m;
    char err[MAP_ERR_BYTES];
    enum tend_err e = load(json, &m, err);
    if (e != TEND_ERR_INVALID)
        fail_msg("accepted: %s", json);
    if (!strstr(err, needle) || (needle2 && !strstr(err, needle2)))
        fail_msg("error \"%s\" lacks \"%s\"%s%s", err, needle, needle2 ? " or " : "",
                 needle2 ? needle2 : "");
    assert_int_equal(m.n_entries, 0);
}

static void test_load_errors_name_the_path(void **state) {
    (void)state;
    refused("[1]", "events:", "mapping");
    refused("{\"alias\":{}}", "events.\"alias\": unknown key", "aliases, properties, ignore");
    refused("{\"aliases\":[\"x\"]}", "events.aliases:", "mapping");
    refused("{\"aliases\":{\"Logged In\":\"Signed in\"}}", "events.aliases.\"Logged In\"",
            "did you mean \"Signed In\"?");
    refused("{\"aliases\":{\"Logged In\":\"Logged On\"}}", "events.aliases.\"Logged In\"",
            "\"Logged On\" is not a tend event name");
    refused("{\"aliases\":{\"Logged In\":7}}", "events.aliases.\"Logged In\"",
            "must be a non-empty string");
    refused("{\"aliases\":{\"\":\"Signed In\"}}", "events.aliases.\"\"", "event name");
    /* identify- or group-like targets: only track events are aliased. */
    refused("{\"aliases\":{\"User Seen\":\"identify\"}}", "events.aliases.\"User Seen\"",
            "message type, not a track event");
    refused("{\"aliases\":{\"Company\":\"group\"}}", "events.aliases.\"Company\"", "message type");
    /* A chain (Signed In -> Ticket Opened, with Logged In -> Signed In) or
     * a swap: tend's names are never a source. */
    refused("{\"aliases\":{\"Logged In\":\"Signed In\",\"Signed In\":\"Ticket Opened\"}}",
            "events.aliases.\"Signed In\"", "no chains or swaps");
    refused("{\"ignore\":\"Page Viewed\"}", "events.ignore:", "list");
    refused("{\"ignore\":[\"a\",3]}", "events.ignore[1]", "non-empty string");
    refused("{\"aliases\":{\"Logged In\":\"Signed In\"},\"ignore\":[\"Logged In\"]}",
            "events.ignore[0]", "also in events.aliases");
    /* Ignoring an alias's target would not stop the aliased events. */
    refused("{\"aliases\":{\"Logged In\":\"Signed In\"},\"ignore\":[\"Signed In\"]}",
            "events.ignore[0]", "target of events.aliases.\"Logged In\"");
    refused("{\"properties\":{\"NPS Submitted\":[]}}", "events.properties.\"NPS Submitted\"",
            "mapping");
    refused("{\"properties\":{\"NPS Submitted\":{\"score\":\"score\"}}}",
            "events.properties.\"NPS Submitted\".\"score\"", "to itself");
    refused("{\"properties\":{\"NPS Submitted\":{\"a\":\"score\",\"b\":\"score\"}}}",
            "events.properties.\"NPS Submitted\".\"b\"", "both become \"score\"");
    refused("{\"properties\":{\"E\":{\"a\":\"b\",\"b\":\"c\"}}}", "events.properties.\"E\".\"b\"",
            "chains or swaps");
    refused("{\"properties\":{\"E\":{\"a\":null}}}", "events.properties.\"E\".\"a\"",
            "new property name");
    refused("{\"ignore\":[\"Page Viewed\"],\"properties\":{\"Page Viewed\":{\"a\":\"b\"}}}",
            "events.properties.\"Page Viewed\"", "events.ignore");
    refused("{\"aliases\":{\"Bad\\u0001Name\":\"Signed In\"}}", "events.aliases.", "control");
}

/* A json object with n members "Ename_i": value. */
static char *many(const char *wrap_open, int n, const char *value_fmt) {
    size_t cap = (size_t)n * 64 + 64;
    char *s = malloc(cap);
    size_t len = (size_t)snprintf(s, cap, "%s", wrap_open);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s\"E%d\":%s", i ? "," : "", i, value_fmt);
    snprintf(s + len, cap - len, "}}");
    return s;
}

static void test_load_bounds(void **state) {
    (void)state;
    char *s = many("{\"aliases\":{", MAP_MAX_ALIASES, "\"Signed In\"");
    struct event_map m;
    char err[MAP_ERR_BYTES];
    assert_int_equal(load(s, &m, err), TEND_OK);
    assert_int_equal(m.n_aliases, MAP_MAX_ALIASES);
    event_map_release(&m);
    free(s);
    s = many("{\"aliases\":{", MAP_MAX_ALIASES + 1, "\"Signed In\"");
    refused(s, "events.aliases: more than the limit of 500 aliases", NULL);
    free(s);
    /* Renames with distinct targets, one over the limit. */
    size_t cap = (size_t)(MAP_MAX_RENAMES + 1) * 40 + 64;
    s = malloc(cap);
    size_t len = (size_t)snprintf(s, cap, "{\"properties\":{\"X\":{");
    for (int i = 0; i <= MAP_MAX_RENAMES; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s\"a%d\":\"b%d\"", i ? "," : "", i, i);
    snprintf(s + len, cap - len, "}}}");
    refused(s, "events.properties: more than the limit of 1000 renames", NULL);
    free(s);
    char name[MAP_MAX_NAME + 2];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char json[512];
    snprintf(json, sizeof json, "{\"aliases\":{\"%s\":\"Signed In\"}}", name);
    refused(json, "events.aliases.", "201 bytes, over the limit of 200");
    snprintf(json, sizeof json, "{\"ignore\":[\"%s\"]}", name);
    refused(json, "events.ignore[0]", "over the limit of 200");
}

/* The map of plan, loaded once per test. */
static struct event_map map;
static cJSON *tree;
static struct seg_msg msg;
static char err[SEG_ERR_BYTES];

static int setup(void **state) {
    (void)state;
    char e[MAP_ERR_BYTES];
    if (load(plan, &map, e))
        fail_msg("plan refused: %s", e);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    event_map_release(&map);
    cJSON_Delete(tree);
    tree = NULL;
    return 0;
}

/* Maps text (a message) with map into tree and *r, then validates it as
 * ingest does (unless ignored or refused). Returns the first failure. */
static enum tend_err map_and_parse(const char *text, struct map_result *r) {
    cJSON_Delete(tree);
    tree = cJSON_Parse(text);
    if (!tree)
        fail_msg("test JSON does not parse: %s", text);
    err[0] = '\0';
    enum tend_err e = event_map_apply(&map, tree, r, err);
    if (e || r->action == MAP_IGNORED)
        return e;
    memset(&msg, 0, sizeof msg);
    return segment_parse_msg(tree, NULL, RECEIVED_MS, text, strlen(text), &msg, err);
}

#define TRACK(ev, props)                                                                           \
    "{\"type\":\"track\",\"userId\":\"u1\",\"timestamp\":\"2024-05-06T07:08:09Z\",\"event\":" ev   \
    ",\"properties\":" props "}"

static void test_alias(void **state) {
    (void)state;
    struct map_result r;
    assert_int_equal(map_and_parse(TRACK("\"Logged In\"", "{}"), &r), TEND_OK);
    assert_int_equal(r.action, MAP_MAPPED);
    assert_true(r.aliased);
    assert_int_equal(r.renamed, 0);
    assert_int_equal(msg.kind, EV_LOGIN);
    assert_string_equal(msg.event, "Signed In");
    /* tend's own name and any other name pass unchanged. */
    assert_int_equal(map_and_parse(TRACK("\"Signed In\"", "{}"), &r), TEND_OK);
    assert_int_equal(r.action, MAP_KEPT);
    assert_int_equal(msg.kind, EV_LOGIN);
    assert_int_equal(map_and_parse(TRACK("\"Report Viewed\"", "{}"), &r), TEND_OK);
    assert_int_equal(r.action, MAP_KEPT);
    assert_int_equal(msg.kind, EV_FEATURE);
    assert_string_equal(msg.event, "Report Viewed");
}

static void test_case_sensitive(void **state) {
    (void)state;
    struct map_result r;
    /* "logged in" is not "Logged In": a feature event, as without the map. */
    assert_int_equal(map_and_parse(TRACK("\"logged in\"", "{}"), &r), TEND_OK);
    assert_int_equal(r.action, MAP_KEPT);
    assert_int_equal(msg.kind, EV_FEATURE);
    assert_int_equal(map_and_parse(TRACK("\"page viewed\"", "{}"), &r), TEND_OK);
    assert_int_equal(r.action, MAP_KEPT);
}

static void test_rename_then_validate(void **state) {
    (void)state;
    struct map_result r;
    assert_int_equal(map_and_parse(TRACK("\"NPS Submitted\"", "{\"nps_score\":3,\"x\":1}"), &r),
                     TEND_OK);
    assert_int_equal(r.action, MAP_MAPPED);
    assert_true(r.aliased);
    assert_int_equal(r.renamed, 1);
    assert_int_equal(msg.kind, EV_NPS);
    assert_true(msg.has_num);
    assert_true(msg.num == 3);
    assert_null(cJSON_GetObjectItemCaseSensitive(msg.properties, "nps_score"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(msg.properties, "x"));
    /* A renamed property is validated as tend's, under tend's name. */
    assert_int_equal(map_and_parse(TRACK("\"NPS Submitted\"", "{\"nps_score\":11}"), &r),
                     TEND_ERR_INVALID);
    assert_non_null(strstr(err, "properties.score: must be an integer from 0 to 10"));
    /* Without the property, tend's requirement speaks. */
    assert_int_equal(map_and_parse(TRACK("\"NPS Submitted\"", "{}"), &r), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "properties.score: is required"));
}

static void test_rename_order(void **state) {
    (void)state;
    struct map_result r;
    /* Survey Answered has no renames of its own: after the alias, those
     * listed under tend's name (rating -> score) apply. */
    assert_int_equal(map_and_parse(TRACK("\"Survey Answered\"", "{\"rating\":9}"), &r), TEND_OK);
    assert_int_equal(r.renamed, 1);
    assert_int_equal(msg.kind, EV_NPS);
    assert_true(msg.num == 9);
    /* Sent with tend's name, the same renames apply. */
    assert_int_equal(map_and_parse(TRACK("\"NPS Survey Responded\"", "{\"rating\":8}"), &r),
                     TEND_OK);
    assert_int_equal(r.action, MAP_MAPPED);
    assert_false(r.aliased);
    assert_true(msg.num == 8);
    /* Renames of a feature event (no alias). */
    assert_int_equal(map_and_parse(TRACK("\"Report Exported\"", "{\"module\":\"reports\"}"), &r),
                     TEND_OK);
    assert_int_equal(msg.kind, EV_FEATURE);
    assert_string_equal(msg.subject, "reports");
}

static void test_rename_conflict(void **state) {
    (void)state;
    struct map_result r;
    assert_int_equal(map_and_parse(TRACK("\"NPS Submitted\"", "{\"nps_score\":3,\"score\":4}"), &r),
                     TEND_ERR_INVALID);
    assert_non_null(strstr(err, "properties.nps_score: renamed to score"));
    assert_non_null(strstr(err, "has properties.score too"));
}

static void test_ignore(void **state) {
    (void)state;
    struct map_result r;
    assert_int_equal(map_and_parse(TRACK("\"Page Viewed\"", "{\"path\":\"/\"}"), &r), TEND_OK);
    assert_int_equal(r.action, MAP_IGNORED);
    /* Ignored whatever else it carries: it is not validated. */
    assert_int_equal(map_and_parse("{\"type\":\"track\",\"event\":\"Page Viewed\"}", &r), TEND_OK);
    assert_int_equal(r.action, MAP_IGNORED);
}

static void test_only_track_events(void **state) {
    (void)state;
    struct map_result r;
    /* A page call named like an ignored or aliased track event is not one. */
    assert_int_equal(
        map_and_parse("{\"type\":\"page\",\"userId\":\"u1\",\"name\":\"Page Viewed\"}", &r),
        TEND_OK);
    assert_int_equal(r.action, MAP_KEPT);
    assert_int_equal(msg.kind, EV_PAGE);
    assert_int_equal(
        map_and_parse("{\"type\":\"identify\",\"userId\":\"u1\",\"event\":\"Logged In\"}", &r),
        TEND_OK);
    assert_int_equal(r.action, MAP_KEPT);
    assert_int_equal(msg.kind, EV_IDENTIFY);
    /* Anything malformed passes to validation, which reports it. */
    assert_int_equal(map_and_parse("{\"type\":\"track\",\"userId\":\"u1\",\"event\":5}", &r),
                     TEND_ERR_INVALID);
    assert_int_equal(r.action, MAP_KEPT);
    assert_non_null(strstr(err, "event: must be a string"));
}

static void test_empty_map(void **state) {
    (void)state;
    struct event_map m;
    char e[MAP_ERR_BYTES];
    assert_int_equal(event_map_load(NULL, &m, e), TEND_OK);
    assert_true(event_map_empty(&m));
    cJSON *t = cJSON_Parse(TRACK("\"Logged In\"", "{}"));
    struct map_result r;
    assert_int_equal(event_map_apply(&m, t, &r, e), TEND_OK);
    assert_int_equal(r.action, MAP_KEPT);
    assert_int_equal(event_map_apply(NULL, t, &r, e), TEND_OK);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "event")->valuestring, "Logged In");
    cJSON_Delete(t);
    assert_int_equal(load("{}", &m, e), TEND_OK);
    assert_true(event_map_empty(&m));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_errors_name_the_path),
        cmocka_unit_test(test_load_bounds),
        cmocka_unit_test(test_empty_map),
        cmocka_unit_test_setup_teardown(test_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_sensitive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_then_validate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ignore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_track_events, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
