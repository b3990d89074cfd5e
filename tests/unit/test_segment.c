/* test_segment.c: unit tests of ingest/segment (Segment message validation and
 * the CS vocabulary facts of SPEC 1). Each test parses JSON text with cJSON and
 * hands it to segment_parse_msg with the text as raw, as `tend import` does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "ingest/segment.h"
#include "ingest/text.h"
#include "util/datetime.h"

#define RECEIVED_MS 1717200000000LL /* 2024-06-01T00:00:00Z, after TS */
#define TS          "2024-05-06T07:08:09Z"
#define TS_MS       1714979289000LL

/* The message of the current test; its tree is deleted in the teardown. */
static cJSON *tree;
static struct seg_msg msg;
static char err[SEG_ERR_BYTES];

static int teardown(void **state) {
    cJSON_Delete(tree);
    tree = NULL;
    return 0;
}

/* Parses text (which must be valid JSON) into tree and validates it, with text
 * as raw; msg and err get the results. */
static enum tend_err parse_with(const char *text, const cJSON *batch_context) {
    cJSON_Delete(tree);
    tree = cJSON_Parse(text);
    if (!tree)
        fail_msg("test JSON does not parse: %s", text);
    memset(&msg, 0, sizeof msg);
    err[0] = '\0';
    return segment_parse_msg(tree, batch_context, RECEIVED_MS, text, strlen(text), &msg, err);
}

static enum tend_err parse(const char *text) {
    return parse_with(text, NULL);
}

/* Parses text and fails the test, showing the error, unless it is valid. */
static void parse_ok(const char *text) {
    enum tend_err e = parse(text);
    if (e != TEND_OK)
        fail_msg("rejected (%d): %s\n  message: %s", (int)e, err, text);
}

/* Parses text and asserts it is invalid with an error mentioning needle. */
static void parse_invalid(const char *text, const char *needle) {
    enum tend_err e = parse(text);
    if (e != TEND_ERR_INVALID)
        fail_msg("expected TEND_ERR_INVALID, got %d (err \"%s\") for %s", (int)e, err, text);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

/* assert_string_equal that fails cleanly (instead of crashing) on NULL. */
static void assert_str(const char *got, const char *want) {
    if (!got)
        fail_msg("got NULL, want \"%s\"", want);
    assert_string_equal(got, want);
}

static int32_t day_of(const char *date) {
    int32_t d;
    assert_true(dt_parse_date(date, strlen(date), &d));
    return d;
}

/* ---- the message types ------------------------------------------------------ */

static void valid_track_is_accepted_with_its_fields(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Report Exported\","
             "\"messageId\":\"m-1\",\"timestamp\":\"" TS "\","
             "\"properties\":{\"product\":\"analytics\",\"rows\":12}}");
    assert_int_equal(msg.type, SEG_TRACK);
    assert_int_equal(msg.kind, EV_FEATURE);
    assert_str(msg.user_id, "u1");
    assert_null(msg.anonymous_id);
    assert_str(msg.message_id, "m-1");
    assert_str(msg.event, "Report Exported");
    assert_true(msg.has_timestamp);
    assert_int_equal(msg.ts_ms, TS_MS);
    assert_int_equal(msg.key_ts_ms, TS_MS);
    assert_non_null(msg.properties);
    assert_non_null(cJSON_GetObjectItem(msg.properties, "rows"));
    assert_null(msg.traits);
    assert_null(msg.group_id);
    assert_null(msg.account_hint);
}

static void feature_event_keeps_its_product_as_subject(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Dashboard Viewed\","
             "\"properties\":{\"product\":\"insights\"}}");
    assert_int_equal(msg.kind, EV_FEATURE);
    assert_str(msg.subject, "insights");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Dashboard Viewed\"}");
    assert_null(msg.subject);
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Dashboard Viewed\","
                  "\"properties\":{\"product\":5}}",
                  "properties.product");
}

static void track_with_only_an_anonymous_id_is_accepted(void **state) {
    parse_ok("{\"type\":\"track\",\"anonymousId\":\"anon-7\",\"event\":\"Signed In\"}");
    assert_null(msg.user_id);
    assert_str(msg.anonymous_id, "anon-7");
    assert_int_equal(msg.kind, EV_LOGIN);
}

static void identify_is_accepted_with_its_traits(void **state) {
    parse_ok("{\"type\":\"identify\",\"userId\":\"u1\",\"timestamp\":\"" TS "\","
             "\"traits\":{\"email\":\"a@b.c\",\"name\":\"Ann\",\"shoe\":42}}");
    assert_int_equal(msg.type, SEG_IDENTIFY);
    assert_int_equal(msg.kind, EV_IDENTIFY);
    assert_non_null(msg.traits);
    assert_string_equal(cJSON_GetObjectItem(msg.traits, "email")->valuestring, "a@b.c");
    assert_null(msg.properties);
    assert_null(msg.company_id);
    assert_null(msg.event);
}

static void group_is_accepted_with_its_group_id_and_traits(void **state) {
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"name\":\"Acme\",\"plan\":\"pro\",\"mrr\":1200,\"seats\":25,"
             "\"renewal_date\":\"2025-01-31\",\"premium_products\":[\"sso\",\"audit\"],"
             "\"favourite_colour\":\"teal\"}}");
    assert_int_equal(msg.type, SEG_GROUP);
    assert_int_equal(msg.kind, EV_GROUP);
    assert_str(msg.group_id, "acme");
    assert_non_null(msg.traits);
}

static void group_without_group_id_is_rejected(void **state) {
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"traits\":{}}", "groupId");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"\"}", "groupId");
}

static void group_id_in_context_does_not_replace_the_group_calls_own(void **state) {
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"context\":{\"groupId\":\"other\"}}");
    assert_str(msg.group_id, "acme");
}

static void page_is_accepted_with_its_name_and_properties(void **state) {
    parse_ok("{\"type\":\"page\",\"userId\":\"u1\",\"name\":\"Pricing\","
             "\"properties\":{\"url\":\"https://x/pricing\",\"account_id\":\"acme\"}}");
    assert_int_equal(msg.type, SEG_PAGE);
    assert_int_equal(msg.kind, EV_PAGE);
    assert_str(msg.event, "Pricing");
    assert_str(msg.account_hint, "acme");
    assert_non_null(msg.properties);
}

static void screen_without_a_name_is_accepted(void **state) {
    parse_ok("{\"type\":\"screen\",\"anonymousId\":\"a1\"}");
    assert_int_equal(msg.type, SEG_SCREEN);
    assert_int_equal(msg.kind, EV_SCREEN);
    assert_null(msg.event);
    parse_invalid("{\"type\":\"screen\",\"anonymousId\":\"a1\",\"name\":[1]}", "name");
}

static void alias_is_accepted_with_its_previous_id(void **state) {
    parse_ok("{\"type\":\"alias\",\"userId\":\"u1\",\"previousId\":\"anon-7\"}");
    assert_int_equal(msg.type, SEG_ALIAS);
    assert_int_equal(msg.kind, EV_ALIAS);
    assert_str(msg.previous_id, "anon-7");
}

static void alias_without_previous_id_is_rejected(void **state) {
    parse_invalid("{\"type\":\"alias\",\"userId\":\"u1\"}", "previousId");
}

static void type_names_are_spelled_as_in_segment(void **state) {
    assert_string_equal(segment_type_name(SEG_TRACK), "track");
    assert_string_equal(segment_type_name(SEG_IDENTIFY), "identify");
    assert_string_equal(segment_type_name(SEG_GROUP), "group");
    assert_string_equal(segment_type_name(SEG_PAGE), "page");
    assert_string_equal(segment_type_name(SEG_SCREEN), "screen");
    assert_string_equal(segment_type_name(SEG_ALIAS), "alias");
}

/* ---- common fields ------------------------------------------------------------- */

static void message_without_user_id_or_anonymous_id_is_rejected(void **state) {
    parse_invalid("{\"type\":\"track\",\"event\":\"Signed In\"}", "userId");
    parse_invalid("{\"type\":\"identify\",\"traits\":{}}", "anonymousId");
    parse_invalid("{\"type\":\"track\",\"event\":\"Signed In\",\"userId\":null}", "userId");
    parse_invalid("{\"type\":\"track\",\"event\":\"Signed In\",\"userId\":\"\"}", "userId");
}

static void numeric_user_id_is_converted_to_a_string(void **state) {
    parse_ok("{\"type\":\"track\",\"event\":\"Signed In\",\"userId\":12345}");
    assert_str(msg.user_id, "12345");
    parse_ok("{\"type\":\"track\",\"event\":\"Signed In\",\"userId\":-7}");
    assert_str(msg.user_id, "-7");
    parse_ok("{\"type\":\"track\",\"event\":\"Signed In\",\"anonymousId\":9007199254740992}");
    assert_str(msg.anonymous_id, "9007199254740992");
}

/* Where the numeric id sits in its object must not matter: the fields after it
 * are read as usual. */
static void numeric_id_does_not_hide_the_fields_after_it(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":12345,\"event\":\"Signed In\"}");
    assert_str(msg.user_id, "12345");
    assert_str(msg.event, "Signed In");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Opened\","
             "\"properties\":{\"ticket_id\":881,\"priority\":\"high\"}}");
    assert_str(msg.subject, "881");
    assert_str(msg.detail, "high");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
             "\"properties\":{\"invoice_id\":1001,\"amount\":10,\"due_date\":\"2024-06-30\"}}");
    assert_str(msg.subject, "1001");
    assert_true(msg.num == 10);
}

/* segment.h: "numeric ids are rewritten in that tree as strings": the tree must
 * still hold userId, now as a string, so that what is stored or printed from
 * the tree keeps the field. */
static void numeric_user_id_is_rewritten_in_the_tree_under_its_key(void **state) {
    parse_ok("{\"type\":\"track\",\"event\":\"Signed In\",\"userId\":12345}");
    cJSON *v = cJSON_GetObjectItemCaseSensitive(tree, "userId");
    assert_non_null(v);
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, "12345");
    assert_ptr_equal(v->valuestring, msg.user_id);
}

static void non_integral_or_huge_numeric_user_id_is_rejected(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":12.5,\"event\":\"Signed In\"}", "userId");
    parse_invalid("{\"type\":\"track\",\"userId\":1e20,\"event\":\"Signed In\"}", "userId");
}

static void user_id_of_the_wrong_type_is_rejected(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":{\"id\":1},\"event\":\"Signed In\"}",
                  "userId: must be a string");
    parse_invalid("{\"type\":\"track\",\"userId\":[\"u1\"],\"event\":\"Signed In\"}", "userId");
    parse_invalid("{\"type\":\"track\",\"userId\":true,\"event\":\"Signed In\"}", "userId");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"anonymousId\":{},\"event\":\"x\"}",
                  "anonymousId");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"messageId\":[],\"event\":\"x\"}",
                  "messageId");
}

static void id_over_the_length_limit_is_rejected(void **state) {
    char *text = malloc(SEG_MAX_ID_BYTES + 200);
    int n = sprintf(text, "{\"type\":\"track\",\"event\":\"x\",\"userId\":\"");
    memset(text + n, 'u', SEG_MAX_ID_BYTES + 1);
    strcpy(text + n + SEG_MAX_ID_BYTES + 1, "\"}");
    parse_invalid(text, "userId");
    /* exactly at the limit is fine */
    strcpy(text + n + SEG_MAX_ID_BYTES, "\"}");
    parse_ok(text);
    assert_int_equal(strlen(msg.user_id), SEG_MAX_ID_BYTES);
    free(text);
}

static void unknown_type_is_rejected_naming_it(void **state) {
    parse_invalid("{\"type\":\"foo\",\"userId\":\"u1\"}", "type");
    assert_non_null(strstr(err, "\"foo\""));
    /* types are case-sensitive */
    parse_invalid("{\"type\":\"Track\",\"userId\":\"u1\",\"event\":\"x\"}", "Track");
}

static void missing_or_non_string_type_is_rejected(void **state) {
    parse_invalid("{\"userId\":\"u1\",\"event\":\"Signed In\"}", "type");
    parse_invalid("{\"type\":3,\"userId\":\"u1\"}", "type");
}

static void message_that_is_not_an_object_is_rejected(void **state) {
    parse_invalid("[{\"type\":\"track\"}]", "object");
    parse_invalid("\"track\"", "object");
}

static void track_without_event_is_rejected(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\"}", "event");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"\"}", "event");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":7}", "event");
}

static void properties_that_are_not_an_object_are_rejected(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"properties\":[1]}",
                  "properties");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"properties\":\"p\"}",
                  "properties");
    parse_invalid("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":5}", "traits");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"context\":1}",
                  "context");
    /* null is the same as absent */
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"properties\":null}");
    assert_null(msg.properties);
}

static void bad_timestamp_is_rejected(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"timestamp\":\"yesterday\"}",
                  "timestamp");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"timestamp\":\"2027-02-29T10:00:00Z\"}",
                  "timestamp");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"timestamp\":17}",
                  "timestamp");
}

static void timestamp_with_offset_is_stored_in_utc(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
             "\"timestamp\":\"2024-05-06T09:08:09+02:00\"}");
    assert_int_equal(msg.ts_ms, TS_MS);
    assert_int_equal(msg.key_ts_ms, TS_MS);
}

static void absent_timestamp_means_the_receive_time(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\"}");
    assert_false(msg.has_timestamp);
    assert_int_equal(msg.ts_ms, RECEIVED_MS);
    assert_int_equal(msg.key_ts_ms, 0);
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"timestamp\":null}");
    assert_false(msg.has_timestamp);
    assert_int_equal(msg.ts_ms, RECEIVED_MS);
}

static void context_group_id_is_the_account_hint_of_a_track(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
             "\"context\":{\"groupId\":\"acme\"},\"properties\":{\"account_id\":\"beta\"}}");
    assert_str(msg.group_id, "acme");
    assert_str(msg.account_hint, "beta");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
             "\"properties\":{\"account_id\":4711}}");
    assert_null(msg.group_id);
    assert_str(msg.account_hint, "4711");
}

/* ---- batches ------------------------------------------------------------------- */

static void batch_context_counts_for_an_item_without_context(void **state) {
    cJSON *batch = cJSON_Parse("{\"groupId\":\"acme\",\"library\":{\"name\":\"x\"}}");
    assert_int_equal(parse_with("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\"}", batch),
                     TEND_OK);
    assert_str(msg.group_id, "acme");
    /* Looked up, not copied: a copy of a large context into each of many
     * items multiplied it (a 494 KB batch held 980 MB). */
    assert_null(cJSON_GetObjectItem(tree, "context"));
    cJSON_Delete(tree);
    tree = NULL;
    assert_string_equal(cJSON_GetObjectItem(batch, "groupId")->valuestring, "acme");
    cJSON_Delete(batch);
}

static void item_context_keys_win_over_the_batch_context(void **state) {
    cJSON *batch = cJSON_Parse("{\"groupId\":\"acme\",\"ip\":\"1.2.3.4\"}");
    assert_int_equal(parse_with("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                                "\"context\":{\"groupId\":\"beta\"}}",
                                batch),
                     TEND_OK);
    assert_str(msg.group_id, "beta");
    cJSON *ctx = cJSON_GetObjectItem(tree, "context");
    assert_string_equal(cJSON_GetObjectItem(ctx, "groupId")->valuestring, "beta");

    /* an item context without groupId gets the batch's */
    assert_int_equal(parse_with("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                                "\"context\":{\"ip\":\"9.9.9.9\"}}",
                                batch),
                     TEND_OK);
    assert_str(msg.group_id, "acme");
    ctx = cJSON_GetObjectItem(tree, "context");
    assert_string_equal(cJSON_GetObjectItem(ctx, "ip")->valuestring, "9.9.9.9");

    /* a numeric groupId of the batch is read as a string, the batch untouched */
    cJSON *numeric = cJSON_Parse("{\"groupId\":42}");
    assert_int_equal(parse_with("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\"}", numeric),
                     TEND_OK);
    assert_str(msg.group_id, "42");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(numeric, "groupId")));
    cJSON_Delete(numeric);

    /* an item's groupId of null wins too: no account named */
    assert_int_equal(parse_with("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                                "\"context\":{\"groupId\":null}}",
                                batch),
                     TEND_OK);
    assert_null(msg.group_id);
    cJSON_Delete(batch);
}

/* ---- size limit ---------------------------------------------------------------- */

/* A track message of exactly total bytes of JSON text (no spaces). */
static char *message_of_size(size_t total) {
    const char *head = "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                       "\"properties\":{\"pad\":\"";
    const char *tail = "\"}}";
    size_t h = strlen(head), t = strlen(tail);
    assert_true(total > h + t);
    char *s = malloc(total + 1);
    memcpy(s, head, h);
    memset(s + h, 'p', total - h - t);
    memcpy(s + total - t, tail, t + 1);
    assert_int_equal(strlen(s), total);
    return s;
}

static void message_over_32_kib_is_over_the_limit(void **state) {
    char *text = message_of_size(SEG_MAX_MESSAGE_BYTES + 1);
    assert_int_equal(parse(text), TEND_ERR_LIMIT);
    assert_non_null(strstr(err, "limit"));
    free(text);
    text = message_of_size(100 * 1024);
    assert_int_equal(parse(text), TEND_ERR_LIMIT);
    free(text);
}

static void message_of_exactly_32_kib_is_accepted(void **state) {
    char *text = message_of_size(SEG_MAX_MESSAGE_BYTES);
    enum tend_err e = parse(text);
    free(text);
    if (e)
        fail_msg("rejected: %s", err);
}

/* Without raw text (an HTTP batch item) the item's serialised size counts. */
static void message_over_32_kib_without_raw_text_is_over_the_limit(void **state) {
    char *text = message_of_size(SEG_MAX_MESSAGE_BYTES + 1);
    tree = cJSON_Parse(text);
    free(text);
    assert_int_equal(segment_parse_msg(tree, NULL, RECEIVED_MS, NULL, 0, &msg, err),
                     TEND_ERR_LIMIT);
    cJSON_Delete(tree);
    text = message_of_size(SEG_MAX_MESSAGE_BYTES + 5000);
    tree = cJSON_Parse(text);
    free(text);
    assert_int_equal(segment_parse_msg(tree, NULL, RECEIVED_MS, NULL, 0, &msg, err),
                     TEND_ERR_LIMIT);
    assert_non_null(strstr(err, "limit"));
}

static void message_of_exactly_32_kib_without_raw_text_is_accepted(void **state) {
    char *text = message_of_size(SEG_MAX_MESSAGE_BYTES);
    tree = cJSON_Parse(text);
    free(text);
    enum tend_err e = segment_parse_msg(tree, NULL, RECEIVED_MS, NULL, 0, &msg, err);
    if (e)
        fail_msg("rejected: %s", err);
    assert_str(msg.user_id, "u1");
}

/* ---- the vocabulary ---------------------------------------------------------------- */

static void event_names_are_case_sensitive(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"signed in\"}");
    assert_int_equal(msg.kind, EV_FEATURE);
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\"}");
    assert_int_equal(msg.kind, EV_LOGIN);
}

static void nps_scores_from_0_to_10_are_accepted(void **state) {
    for (int score = 0; score <= 10; score++) {
        char text[200];
        snprintf(text, sizeof text,
                 "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"NPS Survey Responded\","
                 "\"properties\":{\"score\":%d,\"comment\":\"ok\"}}",
                 score);
        parse_ok(text);
        assert_int_equal(msg.kind, EV_NPS);
        assert_true(msg.has_num);
        assert_true(msg.num == score);
    }
}

static void nps_score_out_of_range_or_not_an_integer_is_rejected(void **state) {
    static const char *const bad[] = {"11", "\"ten\"", "7.5", "-1", "null", "\"\"", "[9]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[200];
        snprintf(text, sizeof text,
                 "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"NPS Survey Responded\","
                 "\"properties\":{\"score\":%s}}",
                 bad[i]);
        parse_invalid(text, "properties.score");
    }
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"NPS Survey Responded\"}",
                  "properties.score");
}

static void nps_error_shows_the_value_sent(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"NPS Survey Responded\","
                  "\"properties\":{\"score\":\"ten\"}}",
                  "\"ten\"");
}

static void invoice_issued_carries_id_amount_and_due_date(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
             "\"properties\":{\"invoice_id\":\"INV-1\",\"amount\":1250.5,"
             "\"due_date\":\"2024-06-30\"}}");
    assert_int_equal(msg.kind, EV_INVOICE_ISSUED);
    assert_str(msg.subject, "INV-1");
    assert_true(msg.has_num);
    assert_true(msg.num == 1250.5);
    assert_true(msg.has_day);
    assert_int_equal(msg.day, day_of("2024-06-30"));
}

static void invoice_amount_written_as_a_string_is_accepted(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
             "\"properties\":{\"invoice_id\":\"INV-9\",\"amount\":\"49.90\","
             "\"due_date\":\"2024-06-30\"}}");
    assert_str(msg.subject, "INV-9");
    assert_true(msg.num == 49.90);
}

static void invoice_issued_without_its_facts_is_rejected(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
                  "\"properties\":{\"amount\":10,\"due_date\":\"2024-06-30\"}}",
                  "properties.invoice_id");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
                  "\"properties\":{\"invoice_id\":\"I\",\"due_date\":\"2024-06-30\"}}",
                  "properties.amount");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
                  "\"properties\":{\"invoice_id\":\"I\",\"amount\":10}}",
                  "properties.due_date");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
                  "\"properties\":{\"invoice_id\":\"I\",\"amount\":\"a lot\","
                  "\"due_date\":\"2024-06-30\"}}",
                  "properties.amount");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
                  "\"properties\":{\"invoice_id\":\"I\",\"amount\":-5,"
                  "\"due_date\":\"2024-06-30\"}}",
                  "properties.amount");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
                  "\"properties\":{\"invoice_id\":\"I\",\"amount\":10,"
                  "\"due_date\":\"2024-02-30\"}}",
                  "properties.due_date");
}

static void invoice_paid_and_payment_failed_need_the_invoice_id(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Paid\","
             "\"properties\":{\"invoice_id\":\"INV-1\"}}");
    assert_int_equal(msg.kind, EV_INVOICE_PAID);
    assert_str(msg.subject, "INV-1");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Failed\","
             "\"properties\":{\"invoice_id\":\"INV-2\"}}");
    assert_int_equal(msg.kind, EV_PAYMENT_FAILED);
    assert_str(msg.subject, "INV-2");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Failed\"}",
                  "properties.invoice_id");
}

static void card_expiry_is_the_last_day_of_its_month(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
             "\"properties\":{\"card_exp_month\":12,\"card_exp_year\":2026}}");
    assert_int_equal(msg.kind, EV_CARD_UPDATED);
    assert_true(msg.has_day);
    assert_int_equal(msg.day, day_of("2026-12-31"));
    assert_int_equal(msg.day, 20818);
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
             "\"properties\":{\"card_exp_month\":2,\"card_exp_year\":2028}}");
    assert_int_equal(msg.day, day_of("2028-02-29"));
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
             "\"properties\":{\"card_exp_month\":\"4\",\"card_exp_year\":\"2030\"}}");
    assert_int_equal(msg.day, day_of("2030-04-30"));
}

/* segment.h and docs/events.md: the card's stored facts are its expiry as
 * "YYYY-MM" (subject) and the last day of that month (day). */
static void card_expiry_month_is_the_subject(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
             "\"properties\":{\"card_exp_month\":3,\"card_exp_year\":27}}");
    assert_str(msg.subject, "2027-03");
}

static void two_digit_card_year_is_in_the_2000s(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
             "\"properties\":{\"card_exp_month\":12,\"card_exp_year\":27}}");
    assert_int_equal(msg.day, day_of("2027-12-31"));
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
             "\"properties\":{\"card_exp_month\":1,\"card_exp_year\":23}}");
    assert_int_equal(msg.day, day_of("2023-01-31"));
    /* 00 is 2000, outside the window of a card updated in 2024 */
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
                  "\"properties\":{\"card_exp_month\":1,\"card_exp_year\":0}}",
                  "properties.card_exp_year: 2000 is outside the accepted years 2023 to 2044");
}

static void bad_card_expiry_is_rejected(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
                  "\"properties\":{\"card_exp_month\":13,\"card_exp_year\":2026}}",
                  "properties.card_exp_month");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
                  "\"properties\":{\"card_exp_month\":0,\"card_exp_year\":2026}}",
                  "properties.card_exp_month");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
                  "\"properties\":{\"card_exp_month\":5}}",
                  "properties.card_exp_year");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
                  "\"properties\":{\"card_exp_month\":5,\"card_exp_year\":1969}}",
                  "properties.card_exp_year");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
                  "\"properties\":{\"card_exp_month\":5.5,\"card_exp_year\":2026}}",
                  "properties.card_exp_month");
}

static void goal_set_carries_goal_feature_and_due_date(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Goal Set\","
             "\"properties\":{\"goal_id\":\"g1\",\"feature\":\"Report Exported\","
             "\"due_date\":\"2024-07-01\"}}");
    assert_int_equal(msg.kind, EV_GOAL_SET);
    assert_non_null(msg.subject);
    assert_str(msg.subject, "g1");
    assert_non_null(msg.detail);
    assert_str(msg.detail, "Report Exported");
    assert_true(msg.has_day);
    assert_int_equal(msg.day, day_of("2024-07-01"));
}

static void goal_set_without_a_feature_is_rejected(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Goal Set\","
                  "\"properties\":{\"goal_id\":\"g1\",\"due_date\":\"2024-07-01\"}}",
                  "properties.feature");
}

static void account_churned_carries_arr_and_reason(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Account Churned\","
             "\"properties\":{\"arr\":24000,\"reason\":\"budget\"}}");
    assert_int_equal(msg.kind, EV_CHURNED);
    assert_true(msg.has_num);
    assert_true(msg.num == 24000);
    assert_str(msg.detail, "budget");
    /* both are optional */
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Account Churned\"}");
    assert_false(msg.has_num);
    assert_null(msg.detail);
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Account Churned\","
                  "\"properties\":{\"arr\":\"much\"}}",
                  "properties.arr");
}

static void account_renewed_carries_arr(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Account Renewed\","
             "\"properties\":{\"arr\":\"36000\"}}");
    assert_int_equal(msg.kind, EV_RENEWED);
    assert_true(msg.num == 36000);
}

static void subscription_changed_carries_mrr_before_after_and_reason(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription Changed\","
             "\"properties\":{\"mrr_before\":500,\"mrr_after\":\"650.5\","
             "\"reason\":\"seats added\"}}");
    assert_int_equal(msg.kind, EV_SUB_CHANGED);
    assert_true(msg.has_num);
    assert_true(msg.num == 650.5);
    assert_str(msg.detail, "seats added");
    /* the reason is optional; both amounts are required, numbers >= 0, bounded */
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription Changed\","
             "\"properties\":{\"mrr_before\":500,\"mrr_after\":0}}");
    assert_null(msg.detail);
    assert_true(msg.num == 0);
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription Changed\","
                  "\"properties\":{\"mrr_after\":10}}",
                  "properties.mrr_before: is required");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription Changed\","
                  "\"properties\":{\"mrr_before\":10}}",
                  "properties.mrr_after: is required");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription Changed\","
                  "\"properties\":{\"mrr_before\":10,\"mrr_after\":-1}}",
                  "properties.mrr_after: must be a number from 0 to 1e+15");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription Changed\","
                  "\"properties\":{\"mrr_before\":2e15,\"mrr_after\":1}}",
                  "properties.mrr_before: must be a number");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription Changed\","
                  "\"properties\":{\"mrr_before\":1,\"mrr_after\":2,\"reason\":7}}",
                  "properties.reason: must be a string");
    char long_reason[400];
    int n = snprintf(long_reason, sizeof long_reason,
                     "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Subscription "
                     "Changed\",\"properties\":{\"mrr_before\":1,\"mrr_after\":2,"
                     "\"reason\":\"%0201d\"}}",
                     0);
    assert_true(n > 0 && (size_t)n < sizeof long_reason);
    parse_invalid(long_reason, "properties.reason: longer than 200 bytes");
}

static void tickets_carry_id_and_priority(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Opened\","
             "\"properties\":{\"priority\":\"high\",\"ticket_id\":881}}");
    assert_int_equal(msg.kind, EV_TICKET_OPENED);
    assert_str(msg.subject, "881");
    assert_str(msg.detail, "high");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Closed\","
             "\"properties\":{\"ticket_id\":\"T-881\"}}");
    assert_int_equal(msg.kind, EV_TICKET_CLOSED);
    assert_null(msg.detail);
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Opened\"}",
                  "properties.ticket_id");
}

static void milestones_and_outreach_are_recognised(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Onboarding Milestone Due\","
             "\"properties\":{\"milestone\":\"kickoff\",\"due_date\":\"2024-05-10\"}}");
    assert_int_equal(msg.kind, EV_MILESTONE_DUE);
    assert_str(msg.subject, "kickoff");
    assert_int_equal(msg.day, day_of("2024-05-10"));
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Onboarding Milestone Completed\","
             "\"properties\":{\"milestone\":\"kickoff\"}}");
    assert_int_equal(msg.kind, EV_MILESTONE_DONE);
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Outreach Sent\","
             "\"properties\":{\"channel\":\"email\"}}");
    assert_int_equal(msg.kind, EV_OUTREACH_SENT);
    assert_str(msg.subject, "email");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Outreach Replied\"}");
    assert_int_equal(msg.kind, EV_OUTREACH_REPLIED);
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Account Removed User\"}");
    assert_int_equal(msg.kind, EV_USER_REMOVED);
}

/* ---- identify: the company --------------------------------------------------------- */

static void identify_company_id_comes_from_company_dot_id(void **state) {
    parse_ok("{\"type\":\"identify\",\"userId\":\"u1\","
             "\"traits\":{\"company\":{\"id\":\"acme\",\"name\":\"Acme\"}}}");
    assert_str(msg.company_id, "acme");
}

static void identify_company_id_comes_from_company_id(void **state) {
    parse_ok("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"company_id\":\"beta\"}}");
    assert_str(msg.company_id, "beta");
    parse_ok("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"company_id\":42}}");
    assert_str(msg.company_id, "42");
}

static void identify_company_id_comes_from_account_external_id(void **state) {
    parse_ok("{\"type\":\"identify\",\"userId\":\"u1\","
             "\"traits\":{\"accountExternalId\":\"gamma\"}}");
    assert_str(msg.company_id, "gamma");
}

static void company_dot_id_is_preferred_over_the_other_keys(void **state) {
    parse_ok("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"company_id\":\"beta\","
             "\"accountExternalId\":\"gamma\",\"company\":{\"id\":\"acme\"}}}");
    assert_str(msg.company_id, "acme");
    parse_ok("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"company_id\":\"beta\","
             "\"accountExternalId\":\"gamma\"}}");
    assert_str(msg.company_id, "beta");
}

static void identify_without_company_has_none(void **state) {
    parse_ok("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"company\":\"Acme Inc\"}}");
    assert_null(msg.company_id);
    parse_ok("{\"type\":\"identify\",\"userId\":\"u1\"}");
    assert_null(msg.company_id);
    parse_invalid("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"company_id\":{}}}",
                  "traits.company_id");
}

/* ---- group traits ------------------------------------------------------------------ */

static void group_mrr_that_is_not_a_number_is_rejected(void **state) {
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"mrr\":\"lots\"}}",
                  "traits.mrr");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"mrr\":-1}}",
                  "traits.mrr");
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"mrr\":\"1200.50\"}}");
}

static void group_negative_or_fractional_seats_are_rejected(void **state) {
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"seats\":-1}}",
                  "traits.seats");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"seats\":2.5}}",
                  "traits.seats");
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"seats\":0}}");
}

static void group_premium_products_must_be_an_array_of_strings(void **state) {
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"premium_products\":\"sso\"}}",
                  "traits.premium_products");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"premium_products\":[\"sso\",3]}}",
                  "traits.premium_products");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"premium_products\":{\"sso\":true}}}",
                  "traits.premium_products");
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"premium_products\":[]}}");
}

static void group_string_traits_and_renewal_date_are_checked(void **state) {
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"renewal_date\":\"next year\"}}",
                  "traits.renewal_date");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"csm_email\":7}}",
                  "traits.csm_email");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"name\":[\"Acme\"]}}",
                  "traits.name");
}

static void group_traits_may_be_unset_with_null_and_unknown_traits_are_free(void **state) {
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"mrr\":null,\"seats\":null,\"premium_products\":null,"
             "\"renewal_date\":null,\"name\":null,\"anything\":{\"deep\":[1,2]}}}");
}

static void account_traits_check_uses_the_given_prefix(void **state) {
    char e[SEG_ERR_BYTES];
    cJSON *t = cJSON_Parse("{\"seats\":\"many\"}");
    assert_int_equal(segment_check_account_traits(t, "", TS_MS, RECEIVED_MS, e), TEND_ERR_INVALID);
    assert_true(strncmp(e, "seats", 5) == 0);
    cJSON_Delete(t);
    t = cJSON_Parse("{\"name\":\"Acme\",\"mrr\":99,\"seats\":\"12\","
                    "\"renewal_date\":\"2025-03-01\",\"premium_products\":[\"sso\"]}");
    assert_int_equal(segment_check_account_traits(t, "", TS_MS, RECEIVED_MS, e), TEND_OK);
    cJSON_Delete(t);
}

/* ---- deduplication key ----------------------------------------------------------------- */

static void same_message_id_gives_the_same_key(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"a\",\"messageId\":\"m-42\"}");
    uint64_t h1 = msg.key_hash;
    parse_ok("{\"type\":\"track\",\"userId\":\"u2\",\"event\":\"b\",\"messageId\":\"m-42\"}");
    assert_int_equal(msg.key_hash, h1);
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"a\",\"messageId\":\"m-43\"}");
    assert_int_not_equal(msg.key_hash, h1);
}

static void key_carries_the_timestamp_as_sent(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"a\",\"messageId\":\"m-42\","
             "\"timestamp\":\"" TS "\"}");
    assert_int_equal(msg.key_ts_ms, TS_MS);
    uint64_t h1 = msg.key_hash;
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"a\",\"messageId\":\"m-42\"}");
    assert_int_equal(msg.key_ts_ms, 0);
    assert_int_equal(msg.key_hash, h1);
}

static void without_message_id_the_same_text_gives_the_same_key(void **state) {
    const char *text = "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\"}";
    parse_ok(text);
    uint64_t h1 = msg.key_hash;
    assert_int_not_equal(h1, 0);
    parse_ok(text);
    assert_int_equal(msg.key_hash, h1);
    parse_ok("{\"type\":\"track\",\"userId\":\"u2\",\"event\":\"Signed In\"}");
    assert_int_not_equal(msg.key_hash, h1);
}

static void without_raw_text_the_same_content_gives_the_same_key(void **state) {
    const char *text = "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\"}";
    tree = cJSON_Parse(text);
    assert_int_equal(segment_parse_msg(tree, NULL, RECEIVED_MS, NULL, 0, &msg, err), TEND_OK);
    uint64_t h1 = msg.key_hash;
    cJSON_Delete(tree);
    tree = cJSON_Parse(text);
    assert_int_equal(segment_parse_msg(tree, NULL, RECEIVED_MS + 5, NULL, 0, &msg, err), TEND_OK);
    assert_int_equal(msg.key_hash, h1);
    cJSON_Delete(tree);
    tree = cJSON_Parse("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed Out\"}");
    assert_int_equal(segment_parse_msg(tree, NULL, RECEIVED_MS, NULL, 0, &msg, err), TEND_OK);
    assert_int_not_equal(msg.key_hash, h1);
}

static void failed_parse_leaves_the_output_untouched(void **state) {
    struct seg_msg before;
    memset(&before, 0xA5, sizeof before);
    struct seg_msg out = before;
    tree = cJSON_Parse("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"NPS Survey Responded\","
                       "\"properties\":{\"score\":99}}");
    assert_int_equal(segment_parse_msg(tree, NULL, RECEIVED_MS, NULL, 0, &out, err),
                     TEND_ERR_INVALID);
    assert_memory_equal(&out, &before, sizeof out);
}

/* ---- text: UTF-8, NUL, control characters (text.h) ------------------------------ */

/* Parses len bytes of text (NUL inside allowed) as tend import and tend serve
 * do (text_parse_json) and validates the message; msg and err get the
 * results. */
static enum tend_err parse_bytes(const char *text, size_t len) {
    char *copy = malloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    cJSON_Delete(tree);
    tree = text_parse_json(copy, len, NULL);
    if (!tree)
        fail_msg("test JSON does not parse: %s", copy);
    memset(&msg, 0, sizeof msg);
    err[0] = '\0';
    enum tend_err e = segment_parse_msg(tree, NULL, RECEIVED_MS, copy, len, &msg, err);
    free(copy);
    return e;
}

/* The error, or the acceptance, of a message given as len bytes. */
static void bytes_invalid(const char *text, size_t len, const char *needle) {
    enum tend_err e = parse_bytes(text, len);
    if (e != TEND_ERR_INVALID)
        fail_msg("expected TEND_ERR_INVALID, got %d (err \"%s\") for %s", (int)e, err, text);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
    if (!g_utf8_validate(err, -1, NULL))
        fail_msg("error is not valid UTF-8 for %s", text);
}

#define BYTES_INVALID(lit, needle) bytes_invalid(lit, sizeof(lit) - 1, needle)

static void invalid_utf8_anywhere_is_rejected_naming_the_path_and_byte(void **state) {
    /* A bare continuation byte, in ids, known and free traits, deep properties. */
    BYTES_INVALID("{\"type\":\"identify\",\"userId\":\"u\xff"
                  "1\"}",
                  "userId: invalid UTF-8 at byte 2");
    BYTES_INVALID("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"name\":\"ab\xff"
                  "c\"}}",
                  "traits.name: invalid UTF-8 at byte 3");
    BYTES_INVALID("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"properties\":{\"a\":{\"list\":[1,\"ok\",\"\xc3\"]}}}",
                  "properties.a.list[2]: invalid UTF-8 at byte 1");
    BYTES_INVALID("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"context\":{\"userAgent\":\"Mozilla \x80\"}}",
                  "context.userAgent: invalid UTF-8 at byte 9");
    /* Keys, which become trait names and JSON keys on output. */
    BYTES_INVALID("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"caf\xc3\xa9\xff\":1}}",
                  "traits: the key starting \"caf\xc3\xa9\": invalid UTF-8 at byte 6");
    BYTES_INVALID("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"\xfe\":1}",
                  "message: a key: invalid UTF-8 at byte 1");
    /* What g_utf8_validate refuses and a byte-range check might not:
     * overlong forms, surrogates, above U+10FFFF, a cut sequence. */
    BYTES_INVALID("{\"type\":\"track\",\"userId\":\"\xc0\xaf\",\"event\":\"x\"}",
                  "userId: invalid UTF-8 at byte 1");
    BYTES_INVALID("{\"type\":\"track\",\"userId\":\"a\xed\xa0\x80\",\"event\":\"x\"}",
                  "userId: invalid UTF-8 at byte 2");
    BYTES_INVALID("{\"type\":\"track\",\"userId\":\"\xf4\x90\x80\x80\",\"event\":\"x\"}",
                  "userId: invalid UTF-8 at byte 1");
    BYTES_INVALID("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"\xe2\x82\"}",
                  "event: invalid UTF-8 at byte 1");
    /* Valid UTF-8 of every length is accepted and kept as it is. */
    static const char ok[] = "{\"type\":\"group\",\"userId\":\"\xc3\xbcser\",\"groupId\":"
                             "\"\xe6\x9d\xb1\xe4\xba\xac\",\"traits\":{\"name\":"
                             "\"Caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\"}}";
    assert_int_equal(parse_bytes(ok, sizeof ok - 1), TEND_OK);
    assert_str(msg.user_id, "\xc3\xbcser");
    assert_str(msg.group_id, "\xe6\x9d\xb1\xe4\xba\xac");
}

static void nul_is_rejected_in_any_string_also_where_cjson_cuts_it(void **state) {
    /* cJSON alone would store "ac" for "ac\u0000me". */
    BYTES_INVALID("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"ac\\u0000me\"}",
                  "groupId: a NUL character (\\u0000) at byte 3");
    BYTES_INVALID("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"properties\":{\"comment\":\"fine\\u0000\"}}",
                  "properties.comment: a NUL character (\\u0000) at byte 5");
    BYTES_INVALID("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"pl\\u0000an\":\"x\"}}",
                  "traits: the key starting \"pl\": a NUL character (\\u0000) at byte 3");
    /* A raw NUL byte inside a string, as a JSONL line or a body may hold. */
    BYTES_INVALID("{\"type\":\"identify\",\"userId\":\"u\0"
                  "1\"}",
                  "userId: a NUL character (\\u0000) at byte 2");
    /* Marks land on the right strings: only the one holding the NUL. */
    BYTES_INVALID("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"properties\":"
                  "{\"a\":\"\\\"q\\\\\",\"b\":[\"\\\\u0000 is text\",\"n\\u0000\"],\"c\":\"z\"}}",
                  "properties.b[1]: a NUL character (\\u0000) at byte 2");
    /* The text \u0000 after an escaped backslash is six characters, no NUL. */
    static const char text[] = "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                               "\"properties\":{\"path\":\"C:\\\\u0000\"}}";
    assert_int_equal(parse_bytes(text, sizeof text - 1), TEND_OK);
    assert_string_equal(cJSON_GetObjectItem(msg.properties, "path")->valuestring, "C:\\u0000");
}

static void control_characters_are_refused_in_ids_and_keys(void **state) {
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\\nFAKE LOG LINE\"}",
                  "groupId: a control character (U+000A) at byte 5");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u\\t1\",\"event\":\"x\"}",
                  "userId: a control character (U+0009) at byte 2");
    parse_invalid("{\"type\":\"track\",\"anonymousId\":\"a\\u0007\",\"event\":\"x\"}",
                  "anonymousId: a control character (U+0007)");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"messageId\":\"m\\r\",\"event\":\"x\"}",
                  "messageId: a control character (U+000D)");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed\\u007fIn\"}",
                  "event: a control character (U+007F) at byte 7");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed\\u0085In\"}",
                  "event: a control character (U+0085) at byte 7");
    parse_invalid("{\"type\":\"page\",\"userId\":\"u1\",\"name\":\"Home\\n\"}", "name: a control");
    parse_invalid("{\"type\":\"alias\",\"userId\":\"u1\",\"previousId\":\"\\u001b[31m\"}",
                  "previousId: a control character (U+001B) at byte 1");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"context\":{\"groupId\":\"a\\nb\"}}",
                  "context.groupId: a control character");
    parse_invalid("{\"type\":\"identify\",\"userId\":\"u1\",\"traits\":{\"company_id\":\"a\\tb\"}}",
                  "traits.company_id: a control character");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"line\\none\":1}}",
                  "traits: the key starting \"line\": a control character (U+000A) at byte 5");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"properties\":{\"deep\":{\"\\tk\":1}}}",
                  "properties.deep: a key: a control character (U+0009) at byte 1");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"plan\":\"pro\\n\"}}",
                  "traits.plan: a control character");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"premium_products\":[\"sso\",\"a\\nb\"]}}",
                  "traits.premium_products[1]: a control character");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Ticket Opened\","
                  "\"properties\":{\"ticket_id\":\"T\\n1\"}}",
                  "properties.ticket_id: a control character");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"properties\":{\"product\":\"api\\n\"}}",
                  "properties.product: a control character");
    /* The batch's context is checked where it is read. */
    static const char newline[] = "{\"groupId\":\"a\\nc\"}", nul[] = "{\"groupId\":\"a\\u0000b\"}";
    cJSON *batch = text_parse_json(newline, sizeof newline - 1, NULL);
    assert_int_equal(parse_with("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\"}", batch),
                     TEND_ERR_INVALID);
    assert_non_null(strstr(err, "context.groupId: a control character (U+000A)"));
    cJSON_Delete(batch);
    batch = text_parse_json(nul, sizeof nul - 1, NULL);
    assert_int_equal(parse_with("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\"}", batch),
                     TEND_ERR_INVALID);
    assert_non_null(strstr(err, "context.groupId: a NUL character"));
    cJSON_Delete(batch);
}

static void control_characters_are_kept_in_free_text(void **state) {
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"NPS Survey Responded\","
             "\"properties\":{\"score\":3,\"comment\":\"slow\\n\\tand \\u0007buggy\\r\\n\"}}");
    assert_string_equal(cJSON_GetObjectItem(msg.properties, "comment")->valuestring,
                        "slow\n\tand \abuggy\r\n");
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"name\":\"Acme\\nCorp\",\"notes\":\"a\\tb\"}}");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Account Churned\","
             "\"properties\":{\"reason\":\"price\\nand support\"}}");
}

static void errors_are_valid_utf8_on_one_line_whatever_was_sent(void **state) {
    /* 30 two-byte characters: the 40-byte cut falls inside none of them. */
    parse_invalid("{\"type\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x\",\"userId\":\"u1\"}",
                  "...\" is not one of");
    assert_true(g_utf8_validate(err, -1, NULL));
    parse_invalid("{\"type\":\"a\\nb\",\"userId\":\"u1\"}", "type: \"a\\nb\" is not one of");
    assert_null(strchr(err, '\n'));
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"timestamp\":\"\\u001b[2J\"}",
                  "timestamp: not an ISO-8601 date-time: \"\\u001B[2J\"");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"NPS Survey Responded\","
                  "\"properties\":{\"score\":\"t\\u00e9n\\n\"}}",
                  "got \"t\xc3\xa9n\\n\"");
}

static void text_quote_cuts_on_a_character_and_escapes(void **state) {
    char out[64];
    assert_string_equal(text_quote("plain", 40, out, sizeof out), "\"plain\"");
    assert_string_equal(text_quote("\xe2\x9c\x93\xe2\x9c\x93", 4, out, sizeof out),
                        "\"\xe2\x9c\x93...\"");
    assert_string_equal(text_quote("a\"b\\c\td", 40, out, sizeof out), "\"a\\\"b\\\\c\\td\"");
    assert_string_equal(text_quote("x\xffy\xc2\x85", 40, out, sizeof out), "\"x\\xFFy\\u0085\"");
    /* A small buffer still ends in a closed quote. */
    char small[12];
    text_quote("abcdefghijklmnop", 40, small, sizeof small);
    assert_string_equal(small, "\"abcdef...\"");
}

static void a_csv_cell_with_a_nul_is_marked_for_the_checks(void **state) {
    char *plain = text_copy_marking_nul("acme,x", 4);
    assert_string_equal(plain, "acme");
    free(plain);
    char *cut = text_copy_marking_nul("ac\0me", 5);
    assert_string_equal(cut, "ac\xc0\x80");
    char e[SEG_ERR_BYTES];
    assert_false(text_check_id(cut, "account_id", e, sizeof e));
    assert_string_equal(e,
                        "account_id: a NUL character (\\u0000) at byte 3; no text may contain one");
    free(cut);
}

static void deep_nesting_and_long_paths_are_bounded(void **state) {
    /* cJSON stops at 1000 levels; 900 arrays in properties are walked, and an
     * error deep inside has a path cut to fit. */
    enum { DEPTH = 900 };
    char *text = malloc(DEPTH * 2 + 256);
    char *p = text;
    p += sprintf(p, "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"properties\":{\"a\":");
    for (int i = 0; i < DEPTH; i++)
        *p++ = '[';
    p += sprintf(p, "\"\xff\"");
    for (int i = 0; i < DEPTH; i++)
        *p++ = ']';
    p += sprintf(p, "}}");
    bytes_invalid(text, (size_t)(p - text), "...: invalid UTF-8 at byte 1");
    assert_true(strncmp(err, "properties.a[0][0][0]", 21) == 0);
    assert_true(strlen(err) < SEG_ERR_BYTES);
    /* The same depth with valid text is accepted. */
    text[strstr(text, "\xff") - text] = 'x';
    assert_int_equal(parse_bytes(text, (size_t)(p - text)), TEND_OK);
    free(text);
}

static void huge_and_non_finite_numbers_are_refused_where_they_count(void **state) {
    parse_invalid(
        "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
        "\"properties\":{\"invoice_id\":\"I\",\"amount\":1e999,\"due_date\":\"2024-07-01\"}}",
        "properties.amount");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"mrr\":\"NaN\"}}",
                  "traits.mrr");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"mrr\":\"-inf\"}}",
                  "traits.mrr");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"seats\":1e300}}",
                  "traits.seats");
    parse_invalid("{\"type\":\"track\",\"userId\":1e300,\"event\":\"x\"}", "userId");
    /* A free property may be any JSON number; cJSON writes infinity as null. */
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\",\"properties\":{\"n\":1e999}}");
    segment_serialize_body(&msg);
    assert_string_equal(msg.body_json, "{\"n\":null}");
    cJSON_free(msg.body_json);
}

/* ---- time windows ------------------------------------------------------------------- */

static void timestamps_outside_the_window_are_rejected_naming_it(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                  "\"timestamp\":\"0001-01-01T00:00:00Z\"}",
                  "timestamp: 0001-01-01T00:00:00.000Z is outside the accepted window "
                  "2000-01-01T00:00:00.000Z to 2024-06-02T00:00:00.000Z");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                  "\"timestamp\":\"9999-12-31T23:59:59Z\"}",
                  "timestamp: 9999-12-31T23:59:59.000Z is outside the accepted window");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"timestamp\":\"1999-12-31T23:59:59.999Z\"}",
                  "from 2000 to 1 day after tend received the message");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
             "\"timestamp\":\"2000-01-01T00:00:00Z\"}");
    /* Up to exactly a day after the receive time (clocks run ahead). */
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
             "\"timestamp\":\"2024-06-02T00:00:00Z\"}");
    assert_int_equal(msg.ts_ms, RECEIVED_MS + DT_MS_PER_DAY);
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"x\","
                  "\"timestamp\":\"2024-06-02T00:00:00.001Z\"}",
                  "timestamp");
    parse_invalid("{\"type\":\"identify\",\"userId\":\"u1\",\"timestamp\":\"2024-06-03\"}",
                  "timestamp");
    char e[SEG_ERR_BYTES];
    assert_int_equal(segment_check_time(RECEIVED_MS, "as_of", RECEIVED_MS, e), TEND_OK);
    assert_int_equal(segment_check_time(0, "as_of", RECEIVED_MS, e), TEND_ERR_INVALID);
    assert_true(strncmp(e, "as_of: 1970-01-01T00:00:00.000Z is outside", 42) == 0);
}

static void due_dates_must_be_near_the_message_time(void **state) {
    /* The message's time is the receive time, 2024-06-01. */
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
                  "\"properties\":{\"invoice_id\":\"I\",\"amount\":1,\"due_date\":\"2150-01-01\"}}",
                  "properties.due_date: \"2150-01-01\" is outside the accepted window 2023-06-01 "
                  "to 2034-06-01 (1 year before to 10 years after the message's timestamp)");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
                  "\"properties\":{\"invoice_id\":\"I\",\"amount\":1,\"due_date\":\"2023-05-31\"}}",
                  "properties.due_date");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Invoice Issued\","
             "\"properties\":{\"invoice_id\":\"I\",\"amount\":1,\"due_date\":\"2023-06-01\"}}");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Goal Set\",\"properties\":"
             "{\"goal_id\":\"g\",\"feature\":\"f\",\"due_date\":\"2034-06-01\"}}");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Goal Set\",\"properties\":"
                  "{\"goal_id\":\"g\",\"feature\":\"f\",\"due_date\":\"2034-06-02\"}}",
                  "properties.due_date");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Onboarding Milestone Due\","
                  "\"properties\":{\"milestone\":\"m\",\"due_date\":\"0001-01-01\"}}",
                  "properties.due_date");
    /* Relative to the timestamp sent, not the receive time. */
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Onboarding Milestone Due\","
             "\"timestamp\":\"2010-03-01T00:00:00Z\","
             "\"properties\":{\"milestone\":\"m\",\"due_date\":\"2010-04-01\"}}");
}

static void renewal_and_created_dates_are_windowed(void **state) {
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"renewal_date\":\"2150-01-01\"}}",
                  "traits.renewal_date: \"2150-01-01\" is outside the accepted window 2014-06-01 "
                  "to 2034-06-01");
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"renewal_date\":\"2034-06-01\"}}");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"renewal_date\":\"2014-05-31\"}}",
                  "traits.renewal_date");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"created_at\":\"yesterday\"}}",
                  "traits.created_at: must be a date YYYY-MM-DD");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"created_at\":\"0001-01-01\"}}",
                  "traits.created_at: \"0001-01-01\" is outside the accepted window 1970-01-01 "
                  "to 2024-06-02");
    parse_invalid("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                  "\"traits\":{\"created_at\":\"2024-06-03T00:00:00Z\"}}",
                  "traits.created_at");
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"created_at\":\"1998-04-01T09:00:00Z\"}}");
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"created_at\":\"\"}}");
    parse_ok("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
             "\"traits\":{\"created_at\":null}}");
}

static void card_expiry_years_are_windowed(void **state) {
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
                  "\"properties\":{\"card_exp_month\":5,\"card_exp_year\":1970}}",
                  "properties.card_exp_year: 1970 is outside the accepted years 2023 to 2044");
    parse_invalid("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
                  "\"properties\":{\"card_exp_month\":5,\"card_exp_year\":2045}}",
                  "properties.card_exp_year");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
             "\"properties\":{\"card_exp_month\":5,\"card_exp_year\":2044}}");
    parse_ok("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Payment Method Updated\","
             "\"properties\":{\"card_exp_month\":1,\"card_exp_year\":2023}}");
}

#define T(name) cmocka_unit_test_teardown(name, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(valid_track_is_accepted_with_its_fields),
        T(feature_event_keeps_its_product_as_subject),
        T(track_with_only_an_anonymous_id_is_accepted),
        T(identify_is_accepted_with_its_traits),
        T(group_is_accepted_with_its_group_id_and_traits),
        T(group_without_group_id_is_rejected),
        T(group_id_in_context_does_not_replace_the_group_calls_own),
        T(page_is_accepted_with_its_name_and_properties),
        T(screen_without_a_name_is_accepted),
        T(alias_is_accepted_with_its_previous_id),
        T(alias_without_previous_id_is_rejected),
        T(type_names_are_spelled_as_in_segment),
        T(message_without_user_id_or_anonymous_id_is_rejected),
        T(numeric_user_id_is_converted_to_a_string),
        T(numeric_id_does_not_hide_the_fields_after_it),
        T(numeric_user_id_is_rewritten_in_the_tree_under_its_key),
        T(non_integral_or_huge_numeric_user_id_is_rejected),
        T(user_id_of_the_wrong_type_is_rejected),
        T(id_over_the_length_limit_is_rejected),
        T(unknown_type_is_rejected_naming_it),
        T(missing_or_non_string_type_is_rejected),
        T(message_that_is_not_an_object_is_rejected),
        T(track_without_event_is_rejected),
        T(properties_that_are_not_an_object_are_rejected),
        T(bad_timestamp_is_rejected),
        T(timestamp_with_offset_is_stored_in_utc),
        T(absent_timestamp_means_the_receive_time),
        T(context_group_id_is_the_account_hint_of_a_track),
        T(batch_context_counts_for_an_item_without_context),
        T(item_context_keys_win_over_the_batch_context),
        T(message_over_32_kib_is_over_the_limit),
        T(message_of_exactly_32_kib_is_accepted),
        T(message_over_32_kib_without_raw_text_is_over_the_limit),
        T(message_of_exactly_32_kib_without_raw_text_is_accepted),
        T(event_names_are_case_sensitive),
        T(nps_scores_from_0_to_10_are_accepted),
        T(nps_score_out_of_range_or_not_an_integer_is_rejected),
        T(nps_error_shows_the_value_sent),
        T(invoice_issued_carries_id_amount_and_due_date),
        T(invoice_amount_written_as_a_string_is_accepted),
        T(invoice_issued_without_its_facts_is_rejected),
        T(invoice_paid_and_payment_failed_need_the_invoice_id),
        T(card_expiry_is_the_last_day_of_its_month),
        T(card_expiry_month_is_the_subject),
        T(two_digit_card_year_is_in_the_2000s),
        T(bad_card_expiry_is_rejected),
        T(goal_set_carries_goal_feature_and_due_date),
        T(goal_set_without_a_feature_is_rejected),
        T(account_churned_carries_arr_and_reason),
        T(account_renewed_carries_arr),
        T(subscription_changed_carries_mrr_before_after_and_reason),
        T(tickets_carry_id_and_priority),
        T(milestones_and_outreach_are_recognised),
        T(identify_company_id_comes_from_company_dot_id),
        T(identify_company_id_comes_from_company_id),
        T(identify_company_id_comes_from_account_external_id),
        T(company_dot_id_is_preferred_over_the_other_keys),
        T(identify_without_company_has_none),
        T(group_mrr_that_is_not_a_number_is_rejected),
        T(group_negative_or_fractional_seats_are_rejected),
        T(group_premium_products_must_be_an_array_of_strings),
        T(group_string_traits_and_renewal_date_are_checked),
        T(group_traits_may_be_unset_with_null_and_unknown_traits_are_free),
        T(account_traits_check_uses_the_given_prefix),
        T(same_message_id_gives_the_same_key),
        T(key_carries_the_timestamp_as_sent),
        T(without_message_id_the_same_text_gives_the_same_key),
        T(without_raw_text_the_same_content_gives_the_same_key),
        T(failed_parse_leaves_the_output_untouched),
        T(invalid_utf8_anywhere_is_rejected_naming_the_path_and_byte),
        T(nul_is_rejected_in_any_string_also_where_cjson_cuts_it),
        T(control_characters_are_refused_in_ids_and_keys),
        T(control_characters_are_kept_in_free_text),
        T(errors_are_valid_utf8_on_one_line_whatever_was_sent),
        T(text_quote_cuts_on_a_character_and_escapes),
        T(a_csv_cell_with_a_nul_is_marked_for_the_checks),
        T(deep_nesting_and_long_paths_are_bounded),
        T(huge_and_non_finite_numbers_are_refused_where_they_count),
        T(timestamps_outside_the_window_are_rejected_naming_it),
        T(due_dates_must_be_near_the_message_time),
        T(renewal_and_created_dates_are_windowed),
        T(card_expiry_years_are_windowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
