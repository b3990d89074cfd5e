/* test_message.c: what a CSM reads (notify/message.c). Slack bodies are
 * parsed back and every Block Kit limit checked, with hostile and huge input;
 * emails are taken apart (headers unfolded, encoded words and base64 parts
 * decoded); webhook and log bodies are parsed back. Snapshots are written with
 * single quotes (json() turns them into double ones) to keep them readable. */
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

#include "notify/message.h"

#define BASE "https://tend.example"

static const char *const FIXTURE =
    "{'event': 'open', 'day': '2026-11-19',"
    " 'cta': {'id': 12, 'rule': 'card_expiring', 'subject': '', 'type': 'risk',"
    "         'priority': 'high', 'status': 'open', 'title': 'Card expires in 7 days',"
    "         'reason': 'the card on file expires on 2026-11-26',"
    "         'evidence': {'days_left': 7, 'card_brand': 'visa', 'last_payment': null},"
    "         'owner': 'bob@example.com', 'opened': '2026-11-19', 'due': '2026-11-23'},"
    " 'account': {'id': 'acme co/eu', 'name': 'Acme Corp', 'segment': 'smb', 'plan': 'pro',"
    "             'mrr': 1200, 'renewal_date': null},"
    " 'health': {'score': 42, 'band': 'red', 'change_7d': -8, 'change_30d': -15.2}}";

/* Parses JSON written with single quotes. */
static cJSON *json(const char *text) {
    char *s = g_strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    cJSON *j = cJSON_Parse(s);
    g_free(s);
    assert_non_null(j);
    return j;
}

static cJSON *fixture(void) {
    return json(FIXTURE);
}

/* Sets snap[obj][name] (snap[name] when obj is NULL) to val, taking val. */
static void set(cJSON *snap, const char *obj, const char *name, cJSON *val) {
    cJSON *o = obj ? cJSON_GetObjectItemCaseSensitive(snap, obj) : snap;
    cJSON_DeleteItemFromObjectCaseSensitive(o, name);
    cJSON_AddItemToObject(o, name, val);
}

static void set_str(cJSON *snap, const char *obj, const char *name, const char *s) {
    set(snap, obj, name, cJSON_CreateString(s));
}

static struct message_ctx ctx(void) {
    return (struct message_ctx){.key = "cta-12-open-2026-11-19",
                                .base_url = BASE "/",
                                .owner = "alice@example.com",
                                .owner_slack = "U123",
                                .from = "tend <tend@example.com>",
                                .to = "alice@example.com",
                                .now_ms = 1795078800000}; /* Thu 2026-11-19 09:00 UTC */
}

/* A string of n bytes repeating unit (n a multiple of its length). */
static char *repeat(const char *unit, size_t n) {
    size_t u = strlen(unit);
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i += u)
        memcpy(s + i, unit, u);
    s[n] = '\0';
    return s;
}

/* Code points, as Slack counts characters. */
static size_t chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static const char *text_of(const cJSON *o) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
    if (cJSON_IsObject(t))
        t = cJSON_GetObjectItemCaseSensitive(t, "text");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static void assert_text_within(const cJSON *t, const char *type, size_t max_chars) {
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(t, "type")->valuestring, type);
    const char *s = text_of(t);
    assert_non_null(s);
    assert_true(g_utf8_validate(s, -1, NULL));
    assert_true(chars(s) >= 1);
    assert_true(chars(s) <= max_chars);
    if (strcmp(type, "mrkdwn") == 0) /* no automatic links or mentions in user text */
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "verbatim")));
}

/* Parses a Slack body (freeing it) and checks every Block Kit limit; the
 * caller deletes the result. */
static cJSON *slack_checked(char *body) {
    assert_non_null(body);
    cJSON *j = cJSON_Parse(body);
    free(body);
    assert_non_null(j);
    const char *fallback = text_of(j);
    assert_non_null(fallback);
    assert_true(chars(fallback) >= 1 && chars(fallback) <= 3000);
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(j, "blocks");
    assert_true(cJSON_IsArray(blocks));
    assert_true(cJSON_GetArraySize(blocks) <= 50);
    const cJSON *b, *e;
    cJSON_ArrayForEach(b, blocks) {
        const char *type = cJSON_GetObjectItemCaseSensitive(b, "type")->valuestring;
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(b, "text");
        const cJSON *fields = cJSON_GetObjectItemCaseSensitive(b, "fields");
        const cJSON *elements = cJSON_GetObjectItemCaseSensitive(b, "elements");
        if (strcmp(type, "header") == 0) {
            assert_text_within(text, "plain_text", 150);
        } else if (strcmp(type, "section") == 0) {
            assert_true(text || fields);
            if (text)
                assert_text_within(text, "mrkdwn", 3000);
            assert_true(cJSON_GetArraySize(fields) <= 10);
            cJSON_ArrayForEach(e, fields) assert_text_within(e, "mrkdwn", 2000);
        } else if (strcmp(type, "actions") == 0) {
            assert_true(cJSON_GetArraySize(elements) >= 1 && cJSON_GetArraySize(elements) <= 25);
            cJSON_ArrayForEach(e, elements) {
                assert_text_within(cJSON_GetObjectItemCaseSensitive(e, "text"), "plain_text", 75);
                /* A link (url) or, with Slack's interactivity, a value
                 * tend reads back (2,000 characters at most). */
                const cJSON *url = cJSON_GetObjectItemCaseSensitive(e, "url");
                const cJSON *value = cJSON_GetObjectItemCaseSensitive(e, "value");
                assert_true(cJSON_IsString(url) != cJSON_IsString(value));
                if (cJSON_IsString(url))
                    assert_true(strlen(url->valuestring) <= 3000);
                else
                    assert_true(strlen(value->valuestring) <= 2000);
                assert_true(strlen(cJSON_GetObjectItemCaseSensitive(e, "action_id")->valuestring) <=
                            255);
            }
        } else {
            assert_string_equal(type, "context");
            assert_true(cJSON_GetArraySize(elements) >= 1 && cJSON_GetArraySize(elements) <= 10);
            cJSON_ArrayForEach(e, elements) assert_text_within(e, "mrkdwn", 3000);
        }
    }
    return j;
}

static cJSON *slack(const cJSON *snap, const struct message_ctx *c) {
    return slack_checked(message_slack(snap, c));
}

/* Every mrkdwn text of a Slack body (the fallback included), one per line. */
static void collect_mrkdwn(const cJSON *j, GString *out) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "mrkdwn") == 0)
        g_string_append_printf(out, "%s\n", text_of(j));
    const cJSON *c;
    cJSON_ArrayForEach(c, j) collect_mrkdwn(c, out);
}

/* Every text of a Slack body, mrkdwn and plain, as one string to search. */
static char *slack_texts(const cJSON *j) {
    GString *out = g_string_new(text_of(j));
    g_string_append_c(out, '\n');
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(j, "blocks"), *b, *e;
    cJSON_ArrayForEach(b, blocks) {
        if (text_of(b))
            g_string_append_printf(out, "%s\n", text_of(b));
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(b, "fields"))
            g_string_append_printf(out, "%s\n", text_of(e));
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(b, "elements")) {
            g_string_append_printf(out, "%s\n", text_of(e));
        }
    }
    return g_string_free(out, FALSE);
}

/* Checks that every '<' in mrkdwn opens tend's own markup: a mention of U123 or
 * a link into the dashboard whose label holds no '|' or '<'. */
static void assert_only_our_markup(const cJSON *j) {
    GString *all = g_string_new(text_of(j)); /* the fallback is mrkdwn too */
    g_string_append_c(all, '\n');
    collect_mrkdwn(j, all);
    for (const char *p = strchr(all->str, '<'); p; p = strchr(p + 1, '<')) {
        const char *end = strchr(p, '>');
        assert_non_null(end);
        char *inside = g_strndup(p + 1, (size_t)(end - p - 1));
        if (strcmp(inside, "@U123") != 0) {
            if (strncmp(inside, BASE "/", strlen(BASE "/")) != 0)
                fail_msg("foreign markup <%s>", inside);
            const char *bar = strchr(inside, '|');
            assert_true(!bar || (!strchr(bar + 1, '|') && !strchr(bar + 1, '<')));
        }
        g_free(inside);
    }
    assert_null(strstr(all->str, "<!"));
    g_string_free(all, TRUE);
}

static void assert_contains(const char *haystack, const char *needle) {
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" not found in:\n%s", needle, haystack);
}

/* ---- Slack ---- */

static void slack_message_has_header_summary_fields_buttons_and_context(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    cJSON *j = slack(snap, &c);
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(j, "blocks");
    assert_string_equal(text_of(cJSON_GetArrayItem(blocks, 0)),
                        "High: Card expires in 7 days \xe2\x80\x94 Acme Corp");
    char *all = slack_texts(j);
    assert_contains(all, "*Account:* <" BASE "/accounts/acme%20co%2Feu|Acme Corp>");
    assert_contains(all, "*Health:* 42 (red), -8 in 7 days, -15.2 in 30 days");
    assert_contains(all, "*Why:* the card on file expires on 2026-11-26");
    assert_contains(all, "\xe2\x80\xa2 days_left: 7\n");
    assert_contains(all, "\xe2\x80\xa2 last_payment: none");
    assert_contains(all, "*Owner*\n<@U123>");
    assert_contains(all, "*Due*\n2026-11-23");
    assert_contains(all, "*MRR*\n1200");
    assert_contains(all, "tend \xc2\xb7 rule card_expiring \xc2\xb7 ref cta-12-open-2026-11-19");
    assert_true(strncmp(text_of(j), "High: Card expires in 7 days", 28) == 0);
    const cJSON *actions = cJSON_GetArrayItem(blocks, 4);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(actions, "type")->valuestring, "actions");
    const cJSON *buttons = cJSON_GetObjectItemCaseSensitive(actions, "elements");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(buttons, 0), "url")->valuestring,
                        BASE "/ctas/12");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(buttons, 1), "url")->valuestring,
                        BASE "/accounts/acme%20co%2Feu");
    assert_only_our_markup(j);
    free(all);
    cJSON_Delete(j);
    cJSON_Delete(snap);
}

static const char *const HOSTILE =
    "<!channel> & <http://evil.example|click>\r\n*x*\x01\t|\xf0\x9f\x98\x80";

static void slack_escapes_hostile_account_name(void **state) {
    cJSON *snap = fixture();
    set_str(snap, "account", "name", HOSTILE);
    set_str(snap, "account", "id", HOSTILE);
    set_str(snap, "cta", "title", "<!here> Card <@U999>");
    set_str(snap, "cta", "reason", "<!everyone> & >");
    set_str(snap, "cta", "owner", "<!channel>");
    set_str(snap, "cta", "due", "<!subteam^S1>");
    set_str(snap, "cta", "rule", "<rule>");
    set(snap, "cta", "evidence", json("{'<!channel>': '<http://evil|x>', 'ok': '&lt;'}"));
    struct message_ctx c = ctx();
    c.owner_slack = NULL;
    c.key = "<!channel>";
    cJSON *j = slack(snap, &c);
    assert_only_our_markup(j);
    char *all = slack_texts(j);
    assert_contains(all, "&lt;!channel&gt; &amp; &lt;http://evil.example");
    assert_contains(all, "*Owner*\n&lt;!channel&gt;");
    assert_contains(all, "&amp;lt;"); /* an entity in user text stays text */
    assert_null(strchr(all, '\r'));
    assert_null(strchr(all, '\x01'));
    free(all);
    cJSON_Delete(j);
    cJSON_Delete(snap);
}

static void slack_link_label_never_contains_a_pipe(void **state) {
    cJSON *snap = fixture();
    set_str(snap, "account", "name", "a|b|c");
    set_str(snap, "cta", "title", "x|y");
    struct message_ctx c = ctx();
    cJSON *j = slack(snap, &c);
    char *all = slack_texts(j);
    assert_contains(all, "|a\xc2\xa6"
                         "b\xc2\xa6"
                         "c>");
    assert_only_our_markup(j);
    free(all);
    cJSON_Delete(j);
    cJSON_Delete(snap);

    cJSON *digest = cJSON_CreateArray();
    cJSON_AddItemToArray(digest, fixture());
    set_str(cJSON_GetArrayItem(digest, 0), "cta", "title", "x|y");
    j = slack_checked(message_slack_digest(digest, &c));
    all = slack_texts(j);
    assert_contains(all, "|x\xc2\xa6y>");
    assert_only_our_markup(j);
    free(all);
    cJSON_Delete(j);
    cJSON_Delete(digest);
}

/* A snapshot with every string 100 KB and 2,000 evidence entries of 1 KB. */
static cJSON *huge(void) {
    cJSON *snap = fixture();
    char *big = repeat("Ab&<", 100000);
    const char *cta[] = {"title", "reason", "note", "owner", "due", "rule", "priority"};
    for (size_t i = 0; i < sizeof cta / sizeof cta[0]; i++)
        set_str(snap, "cta", cta[i], big);
    set_str(snap, "cta", "previous_priority", big);
    set_str(snap, "account", "name", big);
    set_str(snap, "account", "id", big);
    set_str(snap, "account", "plan", big);
    set_str(snap, "health", "band", big);
    cJSON *ev = cJSON_CreateObject();
    char *name = repeat("n<", 1000);
    for (int i = 0; i < 2000; i++) {
        name[0] = (char)('a' + i % 26);
        name[1] = (char)('a' + i / 26 % 26);
        name[2] = (char)('a' + i / 676);
        cJSON_AddStringToObject(ev, name, big + 99000 + i % 4); /* the last 1 KB */
    }
    set(snap, "cta", "evidence", ev);
    free(name);
    free(big);
    return snap;
}

static void slack_keeps_every_limit_with_100kb_strings(void **state) {
    cJSON *snap = huge();
    struct message_ctx c = ctx();
    char *key = repeat("k", 100000);
    c.key = key;
    c.owner_slack = NULL;
    const char *events[] = {"open", "raise", "resolve", "wake"};
    for (int i = 0; i < 4; i++) {
        set_str(snap, NULL, "event", events[i]);
        cJSON *j = slack(snap, &c); /* checks the limits */
        assert_only_our_markup(j);
        cJSON_Delete(j);
    }
    set(snap, "cta", "evidence", cJSON_CreateNull()); /* digests leave it out */
    cJSON *digest = cJSON_CreateArray();
    for (int i = 0; i < 60; i++)
        cJSON_AddItemToArray(digest, cJSON_Duplicate(snap, true));
    c.owner = key;
    cJSON *j = slack_checked(message_slack_digest(digest, &c));
    assert_only_our_markup(j);
    cJSON_Delete(j);
    cJSON_Delete(digest);
    free(key);
    cJSON_Delete(snap);
}

static void slack_cuts_on_character_boundaries_with_an_ellipsis(void **state) {
    cJSON *snap = fixture();
    char *emoji = repeat("\xf0\x9f\x98\x80", 4 * 50000);
    set_str(snap, "account", "name", emoji);
    set_str(snap, "cta", "reason", emoji);
    struct message_ctx c = ctx();
    cJSON *j = slack(snap, &c); /* checks UTF-8 validity too */
    const char *header = text_of(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "blocks"), 0));
    assert_int_equal(chars(header), 150);
    assert_true(g_str_has_suffix(header, "\xf0\x9f\x98\x80\xe2\x80\xa6"));
    char *all = slack_texts(j);
    assert_contains(all, "\xf0\x9f\x98\x80\xe2\x80\xa6>"); /* the link label, cut */
    free(all);
    cJSON_Delete(j);
    free(emoji);
    cJSON_Delete(snap);
}

static void slack_mentions_owner_slack_id_and_rejects_a_crafted_one(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    cJSON *j = slack(snap, &c);
    char *all = slack_texts(j);
    assert_contains(all, "<@U123>");
    free(all);
    cJSON_Delete(j);

    c.owner_slack = "U1><!channel";
    j = slack(snap, &c);
    all = slack_texts(j);
    assert_null(strstr(all, "<@"));
    assert_contains(all, "*Owner*\nbob@example.com");
    free(all);
    cJSON_Delete(j);
    cJSON_Delete(snap);
}

static void slack_says_what_the_event_changed(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    set_str(snap, NULL, "event", "raise");
    set_str(snap, "cta", "previous_priority", "medium");
    cJSON *j = slack(snap, &c);
    assert_string_equal(text_of(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "blocks"), 0)),
                        "Escalated to High from Medium: Card expires in 7 days \xe2\x80\x94 "
                        "Acme Corp");
    cJSON_Delete(j);

    set_str(snap, NULL, "event", "resolve");
    set_str(snap, "cta", "note", "days_left is 90 now");
    j = slack(snap, &c);
    char *all = slack_texts(j);
    assert_contains(all, "Resolved by itself: Card expires");
    assert_contains(all, "*Why it resolved:* days_left is 90 now");
    assert_contains(all, "*Opened because:* the card");
    free(all);
    cJSON_Delete(j);

    set_str(snap, NULL, "event", "wake");
    j = slack(snap, &c);
    all = slack_texts(j);
    assert_contains(all, "Snooze ended (High): Card expires");
    assert_null(strstr(all, "resolved"));
    free(all);
    cJSON_Delete(j);
    cJSON_Delete(snap);
}

static void slack_without_base_url_has_no_links_or_buttons(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    const char *bases[] = {NULL, "javascript:alert(1)//", BASE "/x\"onclick=\"y"};
    for (int i = 0; i < 3; i++) {
        c.base_url = bases[i];
        cJSON *j = slack(snap, &c);
        char *all = slack_texts(j);
        assert_null(strstr(all, "<http"));
        assert_null(strstr(all, "javascript"));
        assert_contains(all, "*Account:* Acme Corp\n");
        const cJSON *b;
        cJSON_ArrayForEach(b, cJSON_GetObjectItem(j, "blocks"))
            assert_string_not_equal(cJSON_GetObjectItem(b, "type")->valuestring, "actions");
        free(all);
        cJSON_Delete(j);
    }
    cJSON_Delete(snap);
}

static void health_line_leaves_out_what_is_null(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    set(snap, "health", "change_30d", cJSON_CreateNull());
    cJSON *j = slack(snap, &c);
    char *all = slack_texts(j);
    assert_contains(all, "*Health:* 42 (red), -8 in 7 days\n");
    assert_null(strstr(all, "30 days"));
    free(all);
    cJSON_Delete(j);

    set(snap, "health", "score", cJSON_CreateNull());
    set(snap, "health", "change_7d", cJSON_CreateNumber(3.25));
    j = slack(snap, &c);
    all = slack_texts(j);
    assert_contains(all, "*Health:* red, +3.25 in 7 days\n");
    free(all);
    cJSON_Delete(j);

    set(snap, NULL, "health", cJSON_CreateNull());
    set(snap, "account", "name", cJSON_CreateNull());
    j = slack(snap, &c);
    all = slack_texts(j);
    assert_null(strstr(all, "Health"));
    assert_contains(all, "*Account:* <" BASE "/accounts/acme%20co%2Feu|acme co/eu>");
    free(all);
    cJSON_Delete(j);
    cJSON_Delete(snap);
}

/* No NUL, CR only before LF, LF only after CR. */
static void assert_crlf(const char *msg) {
    for (const char *p = msg; *p; p++) {
        if (*p == '\r')
            assert_int_equal(p[1], '\n');
        if (*p == '\n')
            assert_true(p > msg && p[-1] == '\r');
    }
}

static void missing_members_leave_lines_out_and_never_crash(void **state) {
    const char *snaps[] = {"{}",
                           "[]",
                           "3",
                           "{'event': 7, 'cta': 5, 'account': 'x', 'health': [],"
                           " 'day': null}",
                           "{'cta': {'id': 'x', 'evidence': [1], 'title': 5, 'priority': ''},"
                           " 'account': {'mrr': 'lots', 'id': null}, 'health': {'score': '4'}}",
                           "[{}, 1, 'x', null, {'cta': {'id': 1e300}}]"};
    struct message_ctx c = ctx();
    struct message_ctx none = {0};
    for (size_t i = 0; i <= sizeof snaps / sizeof snaps[0]; i++) {
        cJSON *s = i < sizeof snaps / sizeof snaps[0] ? json(snaps[i]) : NULL;
        for (int k = 0; k < 2; k++) {
            const struct message_ctx *cx = k ? &none : &c;
            cJSON *j = slack(s, cx);
            char *all = slack_texts(j);
            assert_null(strstr(all, "Health"));
            assert_null(strstr(all, "Account"));
            assert_null(strstr(all, "Why"));
            assert_contains(all, "CTA");
            free(all);
            cJSON_Delete(j);
            cJSON_Delete(slack_checked(message_slack_digest(s, cx)));
            char *out[] = {message_email(s, cx),
                           message_email_digest(s, cx),
                           message_webhook(s, cx),
                           message_webhook_digest(s, cx),
                           message_log(s, cx),
                           message_log_digest(s, cx),
                           message_slack(s, NULL),
                           message_email(s, NULL),
                           message_webhook_digest(s, NULL),
                           message_log(s, NULL)};
            assert_crlf(out[0]);
            assert_crlf(out[1]);
            for (size_t m = 0; m < sizeof out / sizeof out[0]; m++) {
                assert_non_null(out[m]);
                free(out[m]);
            }
        }
        cJSON_Delete(s);
    }
}

/* A digest of n copies of the fixture titled "Item 000", "Item 001", ... */
static cJSON *digest_of(int n) {
    cJSON *d = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *s = fixture();
        char title[32];
        snprintf(title, sizeof title, "Item %03d", i);
        set_str(s, "cta", "title", title);
        set(s, "cta", "id", cJSON_CreateNumber(i));
        cJSON_AddItemToArray(d, s);
    }
    return d;
}

static void slack_digest_of_1000_items_stays_within_50_blocks_and_says_more(void **state) {
    cJSON *d = digest_of(1000);
    struct message_ctx c = ctx();
    cJSON *j = slack_checked(message_slack_digest(d, &c));
    const cJSON *blocks = cJSON_GetObjectItem(j, "blocks");
    assert_int_equal(cJSON_GetArraySize(blocks), 50);
    assert_string_equal(text_of(cJSON_GetArrayItem(blocks, 0)), "1000 CTAs for alice@example.com");
    assert_contains(text_of(cJSON_GetArrayItem(blocks, 1)),
                    "*High: <" BASE "/ctas/0|Item 000> \xe2\x80\x94 <" BASE
                    "/accounts/acme%20co%2Feu|Acme Corp>*");
    const char *more = text_of(cJSON_GetArrayItem(blocks, 48));
    assert_contains(more, "and 953 more");
    assert_contains(more, "<" BASE "/ctas?owner=alice%40example.com|see them all>");
    assert_only_our_markup(j);
    cJSON_Delete(j);
    cJSON_Delete(d);
}

static void slack_digest_lists_a_short_digest_whole(void **state) {
    cJSON *d = digest_of(3);
    cJSON_AddItemToArray(d, cJSON_CreateString("not a snapshot"));
    struct message_ctx c = ctx();
    cJSON *j = slack_checked(message_slack_digest(d, &c));
    const cJSON *blocks = cJSON_GetObjectItem(j, "blocks");
    assert_int_equal(cJSON_GetArraySize(blocks), 5); /* header, 3 items, context */
    assert_string_equal(text_of(cJSON_GetArrayItem(blocks, 0)), "3 CTAs for alice@example.com");
    char *all = slack_texts(j);
    assert_null(strstr(all, "more"));
    assert_contains(all, "Item 002");
    assert_contains(all, "health 42 (red), -8 in 7 days, -15.2 in 30 days \xc2\xb7 due 2026-11-23");
    free(all);
    cJSON_Delete(j);
    cJSON_Delete(d);
}

/* ---- Email ---- */

/* The unfolded value of header name, malloced; NULL when absent. */
static char *header(const char *msg, const char *name) {
    char *head = g_strndup(msg, (size_t)(strstr(msg, "\r\n\r\n") - msg) + 2);
    char *pat = g_strdup_printf("%s: ", name);
    char *value = NULL;
    for (char *line = head; *line; line = strstr(line, "\r\n") + 2) {
        if (strncmp(line, pat, strlen(pat)) != 0)
            continue;
        GString *v = g_string_new(NULL);
        char *p = line + strlen(pat);
        for (;;) {
            char *end = strstr(p, "\r\n");
            g_string_append_len(v, p, end - p);
            if (end[2] != ' ' && end[2] != '\t')
                break;
            p = end + 2;
        }
        value = g_string_free(v, FALSE);
        break;
    }
    g_free(pat);
    g_free(head);
    return value;
}

/* An unfolded header value with its RFC 2047 words decoded; malloced. */
static char *decode_words(const char *value) {
    GString *out = g_string_new(NULL);
    const char *p = value;
    bool after_word = false;
    while (*p) {
        if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(p + 10, "?=");
            assert_non_null(end);
            assert_true(end + 2 - p <= 75);
            char *b64 = g_strndup(p + 10, (size_t)(end - p - 10));
            gsize n;
            guchar *raw = g_base64_decode(b64, &n);
            assert_true(g_utf8_validate((const char *)raw, (gssize)n, NULL)); /* whole chars */
            g_string_append_len(out, (const char *)raw, (gssize)n);
            g_free(raw);
            g_free(b64);
            p = end + 2;
            after_word = true;
        } else if (after_word && *p == ' ' && strncmp(p + 1, "=?", 2) == 0) {
            p++; /* space between two words */
        } else {
            g_string_append_c(out, *p++);
            after_word = false;
        }
    }
    return g_string_free(out, FALSE);
}

/* The decoded body of the part of this content type, malloced; checks its
 * base64 lines. */
static char *part(const char *msg, const char *type) {
    char *head = g_strdup_printf(
        "Content-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n", type);
    const char *p = strstr(msg, head);
    assert_non_null(p);
    p += strlen(head);
    const char *end = strstr(p, "\r\n--=_tend_alt");
    assert_non_null(end);
    GString *b64 = g_string_new(NULL);
    for (const char *line = p; line < end + 2;) {
        const char *eol = strstr(line, "\r\n");
        assert_true(eol - line <= 76);
        g_string_append_len(b64, line, eol - line);
        line = eol + 2;
    }
    gsize n;
    guchar *raw = g_base64_decode(b64->str, &n);
    char *body = g_strndup((const char *)raw, n);
    assert_true(g_utf8_validate(body, -1, NULL));
    g_free(raw);
    g_string_free(b64, TRUE);
    g_free(head);
    return body;
}

static void email_uses_crlf_everywhere_and_has_every_header(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    char *msg = message_email(snap, &c);
    assert_crlf(msg);
    assert_true(
        g_str_has_prefix(msg, "From: tend <tend@example.com>\r\nTo: alice@example.com\r\n"));
    assert_contains(msg, "\r\nDate: Thu, 19 Nov 2026 09:00:00 +0000\r\n");
    assert_contains(msg, "\r\nMessage-ID: <cta-12-open-2026-11-19@example.com>\r\n");
    assert_contains(msg, "\r\nX-Tend-Key: cta-12-open-2026-11-19\r\n");
    assert_contains(msg, "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; "
                         "boundary=\"=_tend_alt\"\r\n\r\n--=_tend_alt\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n");
    assert_true(g_str_has_suffix(msg, "\r\n--=_tend_alt--\r\n"));
    char *subject = header(msg, "Subject");
    char *decoded = decode_words(subject);
    assert_string_equal(decoded, "[tend] High: Card expires in 7 days \xe2\x80\x94 Acme Corp");
    char *text = part(msg, "text/plain"), *html = part(msg, "text/html");
    assert_null(strstr(text, "=_tend_alt"));
    assert_null(strstr(html, "=_tend_alt"));
    g_free(text);
    g_free(html);
    g_free(decoded);
    g_free(subject);
    free(msg);
    cJSON_Delete(snap);
}

/* Header lines (up to the blank line) within 78 characters, body lines within 76. */
static void assert_short_lines(const char *msg) {
    const char *body = strstr(msg, "\r\n\r\n");
    for (const char *line = msg; *line;) {
        const char *eol = strstr(line, "\r\n");
        assert_non_null(eol);
        assert_true(eol - line <= (line < body ? 78 : 76));
        line = eol + 2;
    }
}

static void email_subject_never_carries_cr_or_lf(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    const char *titles[] = {"Evil\r\nBcc: victim@example.com", "Evil\nBcc: x\r\n\r\nbody",
                            "Evil\rBcc: x\x01\x7f"};
    for (int i = 0; i < 3; i++) {
        set_str(snap, "cta", "title", titles[i]);
        set(snap, "account", "name", cJSON_CreateNull());
        set(snap, "account", "id", cJSON_CreateNull()); /* an ASCII subject */
        char *msg = message_email(snap, &c);
        assert_crlf(msg);
        assert_null(strstr(msg, "\r\nBcc:"));
        char *subject = header(msg, "Subject");
        assert_true(g_str_has_prefix(subject, "[tend] High: Evil Bcc: "));
        assert_null(strpbrk(subject, "\r\n\x01\x7f"));
        assert_short_lines(msg);
        g_free(subject);
        free(msg);
    }
    cJSON_Delete(snap);
}

static void email_non_ascii_subject_is_encoded_in_short_words(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    c.from = "Zo\xc3\xab at tend <tend@example.com>";
    set_str(snap, "cta", "title", "Caf\xc3\xa9 renewal \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    char *msg = message_email(snap, &c);
    char *subject = header(msg, "Subject");
    assert_true(g_str_has_prefix(subject, "=?UTF-8?B?"));
    for (const char *p = subject; *p; p++)
        assert_true((unsigned char)*p < 0x80);
    char *decoded = decode_words(subject);
    assert_string_equal(decoded, "[tend] High: Caf\xc3\xa9 renewal \xe6\x97\xa5\xe6\x9c\xac\xe8"
                                 "\xaa\x9e \xe2\x80\x94 Acme Corp");
    char *from = header(msg, "From"), *from_decoded = decode_words(from);
    assert_string_equal(from_decoded, "Zo\xc3\xab at tend <tend@example.com>");
    assert_short_lines(msg);
    g_free(from_decoded);
    g_free(from);
    g_free(decoded);
    g_free(subject);
    free(msg);

    char *long_title = repeat("\xc3\xa9", 2 * 300);
    set_str(snap, "cta", "title", long_title);
    msg = message_email(snap, &c);
    subject = header(msg, "Subject");
    decoded = decode_words(subject);
    assert_int_equal(chars(decoded), 200);
    assert_true(g_str_has_suffix(decoded, "\xc3\xa9\xe2\x80\xa6"));
    assert_short_lines(msg);
    g_free(decoded);
    g_free(subject);
    free(msg);
    free(long_title);
    cJSON_Delete(snap);
}

static char *message_id(const cJSON *snap, const struct message_ctx *c) {
    char *msg = message_email(snap, c);
    char *id = header(msg, "Message-ID");
    free(msg);
    return id;
}

static void email_message_id_is_stable_per_key_and_valid(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    char *a = message_id(snap, &c);
    c.now_ms += 3600000; /* a resend an hour later */
    set_str(snap, "cta", "title", "another title");
    char *b = message_id(snap, &c);
    assert_string_equal(a, b);
    const char *keys[] = {"cta-12-open-2026-11-20", "cta:12/open 2026.", "cta_12/open_2026.",
                          ".a..b<>\"@"};
    char *ids[4];
    for (int i = 0; i < 4; i++) {
        c.key = keys[i];
        ids[i] = message_id(snap, &c);
        assert_string_not_equal(ids[i], a);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(ids[i], ids[k]);
        /* <dot-atom@example.com>: atext without leading, trailing or double dots */
        assert_true(g_str_has_prefix(ids[i], "<") && g_str_has_suffix(ids[i], "@example.com>"));
        size_t n = strlen(ids[i]) - strlen("@example.com>");
        assert_true(ids[i][1] != '.' && ids[i][n - 1] != '.');
        for (size_t k = 1; k < n; k++) {
            assert_true(g_ascii_isalnum(ids[i][k]) || strchr("-_=.", ids[i][k]));
            assert_false(ids[i][k] == '.' && ids[i][k + 1] == '.');
        }
    }
    c.from = "noreply";
    char *local = message_id(snap, &c);
    assert_true(g_str_has_suffix(local, "@tend.localhost>"));
    c.from = "tend@bad\"domain>";
    char *bad = message_id(snap, &c);
    assert_true(g_str_has_suffix(bad, "@tend.localhost>"));
    g_free(bad);
    c.from = "Tend <tend@mail.example.com>";
    c.key = NULL;
    char *nokey = message_id(snap, &c);
    assert_true(g_str_has_suffix(nokey, "@mail.example.com>"));
    char *long_key = repeat("k:", 10000);
    c.key = long_key;
    char *hashed = message_id(snap, &c);
    assert_true(strlen(hashed) < 100);
    for (int i = 0; i < 4; i++)
        g_free(ids[i]);
    free(long_key);
    g_free(hashed);
    g_free(nokey);
    g_free(local);
    g_free(a);
    g_free(b);
    cJSON_Delete(snap);
}

static void email_parts_decode_to_the_reason(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    char *msg = message_email(snap, &c);
    char *text = part(msg, "text/plain"), *html = part(msg, "text/html");
    assert_crlf(text);
    assert_contains(text, "High: Card expires in 7 days \xe2\x80\x94 Acme Corp\r\n\r\n");
    assert_contains(text, "Why: the card on file expires on 2026-11-26\r\n");
    assert_contains(text, "Account: Acme Corp <" BASE "/accounts/acme%20co%2Feu>\r\n");
    assert_contains(text, "Owner: bob@example.com\r\n");
    assert_contains(text, "Open the CTA <" BASE "/ctas/12>");
    assert_contains(html, "<b>Why:</b> the card on file expires on 2026-11-26<br>");
    assert_contains(html, "<a href=\"" BASE "/accounts/acme%20co%2Feu\">Acme Corp</a>");
    g_free(text);
    g_free(html);
    free(msg);
    cJSON_Delete(snap);
}

static void email_html_escapes_script(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    set_str(snap, "cta", "title", "<script>alert(1)</script>");
    set_str(snap, "account", "name", "O'Brien & \"Sons\" <b>");
    set(snap, "cta", "evidence", json("{'<img src=x onerror=y>': '<i>'}"));
    char *msg = message_email(snap, &c);
    char *html = part(msg, "text/html");
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<i>"));
    assert_contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_contains(html, ">O&#39;Brien &amp; &quot;Sons&quot; &lt;b&gt;</a>");
    char *text = part(msg, "text/plain");
    assert_contains(text, "O'Brien & \"Sons\" <b>"); /* plain text stays as written */
    g_free(text);
    g_free(html);
    free(msg);
    cJSON_Delete(snap);
}

/* Issue 16: a message shows what the CTA is worth; a CTA the weekly budget
 * held back is a digest item that says so, with its value, and no link to a
 * CTA page it does not have. */
static void value_shown_and_held_back_items_say_so(void **state) {
    (void)state;
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    set_str(snap, "cta", "value_text", "$42,000 ARR at risk");
    cJSON *j = slack(snap, &c);
    char *all = slack_texts(j);
    assert_contains(all, "*Value:* $42,000 ARR at risk");
    free(all);
    cJSON_Delete(j);

    cJSON *d = cJSON_CreateArray();
    cJSON *held = cJSON_Duplicate(snap, true);
    set_str(held, NULL, "event", "held");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItem(held, "cta"), "id");
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItem(held, "cta"), "due");
    cJSON_AddItemToArray(d, cJSON_Duplicate(snap, true));
    cJSON_AddItemToArray(d, held);
    char *msg = message_email_digest(d, &c);
    char *text = part(msg, "text/plain");
    assert_contains(text, "High: Card expires in 7 days <" BASE "/ctas/12>");
    assert_contains(text, "Held back by the weekly budget: Card expires in 7 days \xe2\x80\x94");
    assert_contains(text, "$42,000 ARR at risk");
    assert_null(strstr(text, "/ctas/0"));
    g_free(text);
    free(msg);
    cJSON_Delete(d);

    /* A digest lists by priority, then value, what was held back last. */
    d = cJSON_CreateArray();
    const char *const order[][4] = {{"open", "low", "Low one", "100"},
                                    {"held", "high", "Held one", "90000"},
                                    {"open", "high", "Small high", "500"},
                                    {"open", "high", "Big high", "9000"}};
    for (int i = 0; i < 4; i++) {
        cJSON *x = cJSON_Duplicate(snap, true);
        set_str(x, NULL, "event", order[i][0]);
        set_str(x, "cta", "priority", order[i][1]);
        set_str(x, "cta", "title", order[i][2]);
        set(x, "cta", "value", cJSON_CreateNumber(atof(order[i][3])));
        cJSON_AddItemToArray(d, x);
    }
    msg = message_email_digest(d, &c);
    text = part(msg, "text/plain");
    const char *big = strstr(text, "Big high"), *small = strstr(text, "Small high"),
               *low = strstr(text, "Low one"), *held_one = strstr(text, "Held one");
    assert_true(big && small && low && held_one);
    assert_true(big < small && small < low && low < held_one);
    g_free(text);
    free(msg);
    char *sl = message_slack_digest(d, &c);
    assert_true(strstr(sl, "Big high") < strstr(sl, "Small high"));
    free(sl);
    cJSON_Delete(d);
    cJSON_Delete(snap);
}

static void email_digest_lists_every_item(void **state) {
    cJSON *d = digest_of(1200);
    struct message_ctx c = ctx();
    char *msg = message_email_digest(d, &c);
    assert_crlf(msg);
    assert_short_lines(msg);
    char *subject = header(msg, "Subject");
    assert_string_equal(subject, "[tend] Daily digest: 1200 CTAs for alice@example.com");
    char *text = part(msg, "text/plain"), *html = part(msg, "text/html");
    for (int i = 0; i < 1000; i++) {
        char title[64];
        snprintf(title, sizeof title, "Item %03d <" BASE "/ctas/%d>", i, i);
        assert_contains(text, title);
    }
    assert_null(strstr(text, "Item 1000"));
    assert_contains(text, "and 200 more see them all <" BASE "/ctas?owner=alice%40example.com>");
    assert_contains(html, "<a href=\"" BASE "/ctas/999\">Item 999</a>");
    g_free(text);
    g_free(html);
    g_free(subject);
    free(msg);
    cJSON_Delete(d);
}

static void email_lines_stay_short_with_huge_input(void **state) {
    cJSON *snap = huge();
    struct message_ctx c = ctx();
    char *key = repeat("k\xc3\xa9", 3 * 30000);
    c.key = key;
    c.to = key;
    char *msg = message_email(snap, &c);
    assert_crlf(msg);
    const char *body = strstr(msg, "\r\n\r\n");
    for (const char *line = msg; *line;) {
        const char *eol = strstr(line, "\r\n");
        assert_true(eol - line <= (line < body ? 998 : 76));
        line = eol + 2;
    }
    char *subject = header(msg, "Subject"), *decoded = decode_words(subject);
    assert_true(chars(decoded) <= 200);
    g_free(decoded);
    g_free(subject);
    free(msg);
    free(key);
    cJSON_Delete(snap);
}

/* ---- Webhook and log ---- */

static void webhook_is_deterministic_with_links(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    char *a = message_webhook(snap, &c), *b = message_webhook(snap, &c);
    assert_string_equal(a, b);
    assert_true(g_str_has_prefix(a, "{\"key\":\"cta-12-open-2026-11-19\",\"type\":\"cta.opened\","
                                    "\"cta\":{\"id\":12,"));
    cJSON *j = cJSON_Parse(a);
    const cJSON *links = cJSON_GetObjectItem(j, "links");
    assert_string_equal(cJSON_GetObjectItem(links, "cta")->valuestring, BASE "/ctas/12");
    assert_string_equal(cJSON_GetObjectItem(links, "account")->valuestring,
                        BASE "/accounts/acme%20co%2Feu");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "account"), "name")->valuestring,
                        "Acme Corp");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "health"), "score")->valueint, 42);
    cJSON_Delete(j);
    free(a);
    free(b);

    c.base_url = NULL;
    set_str(snap, NULL, "event", "raise");
    a = message_webhook(snap, &c);
    j = cJSON_Parse(a);
    assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "cta.raised");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "links"), "cta")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "links"), "account")));
    cJSON_Delete(j);
    free(a);
    cJSON_Delete(snap);
}

/* Every event has a webhook type: held and expire read past the end of
 * the type table before (AddressSanitizer: global-buffer-overflow). */
static void webhook_types_of_every_event(void **state) {
    static const char *const events[][2] = {
        {"held", "cta.held"}, {"expire", "cta.expired"}, {"escalate", "cta.escalated"}};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        cJSON *snap = fixture();
        struct message_ctx c = ctx();
        set_str(snap, NULL, "event", events[i][0]);
        char *a = message_webhook(snap, &c);
        cJSON *j = cJSON_Parse(a);
        assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, events[i][1]);
        cJSON_Delete(j);
        free(a);
        cJSON_Delete(snap);
    }
}

/* An escalation says so, why and to whom, in every medium's text. */
static void escalation_says_why_and_to_whom(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    set_str(snap, NULL, "event", "escalate");
    set_str(snap, "cta", "note", "not acted on for 16 business hours since it opened");
    set(snap, NULL, "escalation", json("{'level': 1, 'to': 'boss@example.com'}"));
    char *log = message_log(snap, &c);
    cJSON *j = cJSON_Parse(log);
    const char *text = cJSON_GetObjectItem(j, "text")->valuestring;
    assert_true(g_str_has_prefix(text, "Escalated, not acted on (High): "));
    assert_non_null(strstr(text, "Why it was escalated: not acted on for 16 business hours"));
    assert_non_null(strstr(text, "Escalated to: boss@example.com"));
    cJSON_Delete(j);
    free(log);
    set(snap, NULL, "escalation", json("{'level': 2}"));
    log = message_log(snap, &c);
    j = cJSON_Parse(log);
    assert_true(g_str_has_prefix(cJSON_GetObjectItem(j, "text")->valuestring,
                                 "Escalated, overdue (High): "));
    cJSON_Delete(j);
    free(log);
    cJSON *body = slack(snap, &c);
    cJSON_Delete(body);
    cJSON_Delete(snap);
}

static void webhook_digest_lists_items(void **state) {
    cJSON *d = digest_of(3);
    struct message_ctx c = ctx();
    char *a = message_webhook_digest(d, &c), *b = message_webhook_digest(d, &c);
    assert_string_equal(a, b);
    cJSON *j = cJSON_Parse(a);
    assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "digest");
    assert_string_equal(cJSON_GetObjectItem(j, "owner")->valuestring, "alice@example.com");
    const cJSON *items = cJSON_GetObjectItem(j, "items");
    assert_int_equal(cJSON_GetArraySize(items), 3);
    const cJSON *links = cJSON_GetObjectItem(cJSON_GetArrayItem(items, 2), "links");
    assert_string_equal(cJSON_GetObjectItem(links, "cta")->valuestring, BASE "/ctas/2");
    cJSON_Delete(j);
    free(a);
    free(b);
    cJSON_Delete(d);
}

static void log_is_one_line_of_json_with_the_text(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    set_str(snap, "cta", "reason", "line one\nline two");
    char *line = message_log(snap, &c);
    assert_null(strchr(line, '\n'));
    cJSON *j = cJSON_Parse(line);
    assert_string_equal(cJSON_GetObjectItem(j, "key")->valuestring, "cta-12-open-2026-11-19");
    assert_string_equal(cJSON_GetObjectItem(j, "owner")->valuestring, "alice@example.com");
    assert_string_equal(cJSON_GetObjectItem(j, "event")->valuestring, "open");
    assert_int_equal(cJSON_GetObjectItem(j, "cta")->valueint, 12);
    const char *text = cJSON_GetObjectItem(j, "text")->valuestring;
    assert_true(g_str_has_prefix(text, "High: Card expires in 7 days \xe2\x80\x94 Acme Corp\n\n"));
    assert_contains(text, "\nWhy: line one line two\n");
    cJSON_Delete(j);
    free(line);

    cJSON *d = digest_of(2);
    line = message_log_digest(d, &c);
    assert_null(strchr(line, '\n'));
    j = cJSON_Parse(line);
    assert_string_equal(cJSON_GetObjectItem(j, "event")->valuestring, "digest");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "cta")));
    assert_contains(cJSON_GetObjectItem(j, "text")->valuestring, "2 CTAs for alice@example.com");
    cJSON_Delete(j);
    free(line);
    cJSON_Delete(d);
    cJSON_Delete(snap);
}

/* With Slack's interactivity set up (a slack: section), a live CTA's
 * message carries the four action buttons, each naming the CTA and the
 * action, before the links. */
static void slack_actions_block_names_the_cta_and_each_action(void **state) {
    cJSON *snap = fixture();
    struct message_ctx c = ctx();
    c.slack_actions = true;
    const char *events[] = {"open", "raise", "wake", "escalate"};
    for (int e = 0; e < 4; e++) {
        set_str(snap, NULL, "event", events[e]);
        cJSON *j = slack(snap, &c);
        const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(j, "blocks");
        int at = -1, i = 0;
        const cJSON *blk, *acts = NULL;
        cJSON_ArrayForEach(blk, blocks) {
            const cJSON *id = cJSON_GetObjectItem(blk, "block_id");
            if (id && strcmp(id->valuestring, MESSAGE_SLACK_ACTIONS_BLOCK) == 0)
                at = i, acts = blk;
            i++;
        }
        assert_true(at >= 0);
        assert_string_equal(cJSON_GetObjectItem(acts, "type")->valuestring, "actions");
        const cJSON *el = cJSON_GetObjectItem(acts, "elements");
        assert_int_equal(cJSON_GetArraySize(el), 4);
        const char *labels[] = {"Acknowledge", "Snooze 7 days", "Close as done", "Assign to me"};
        const char *values[] = {"acknowledge:12", "snooze:12", "close:12", "assign:12"};
        for (int k = 0; k < 4; k++) {
            const cJSON *b = cJSON_GetArrayItem(el, k);
            assert_string_equal(text_of(b), labels[k]);
            assert_string_equal(cJSON_GetObjectItem(b, "value")->valuestring, values[k]);
            assert_null(cJSON_GetObjectItem(b, "url"));
        }
        /* The links follow in a block of their own, as without the app. */
        const cJSON *links = cJSON_GetArrayItem(blocks, at + 1);
        assert_string_equal(cJSON_GetObjectItem(links, "type")->valuestring, "actions");
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(links, "elements"), 0),
                                "url")
                ->valuestring,
            BASE "/ctas/12");
        cJSON_Delete(j);
    }
    cJSON_Delete(snap);
}

/* No buttons where a click could do nothing: a resolve or an expire (the
 * CTA is closed), a closed status, a snapshot without an id, or no Slack
 * app (the default: the message is as before). */
static void slack_actions_only_on_a_live_cta_with_the_app(void **state) {
    struct message_ctx c = ctx();
    for (int k = 0; k < 5; k++) {
        cJSON *snap = fixture();
        c.slack_actions = k != 4;
        if (k == 0)
            set_str(snap, NULL, "event", "resolve");
        if (k == 1)
            set_str(snap, NULL, "event", "expire");
        if (k == 2)
            set_str(snap, "cta", "status", "closed");
        if (k == 3)
            cJSON_DeleteItemFromObject(cJSON_GetObjectItem(snap, "cta"), "id");
        cJSON *j = slack(snap, &c);
        const cJSON *b;
        cJSON_ArrayForEach(b, cJSON_GetObjectItem(j, "blocks")) {
            const cJSON *id = cJSON_GetObjectItem(b, "block_id");
            assert_true(!id || strcmp(id->valuestring, MESSAGE_SLACK_ACTIONS_BLOCK) != 0);
        }
        cJSON_Delete(j);
        cJSON_Delete(snap);
    }
}

/* Issue 21: the evidence speaks in labels and units (core/labels.h), money in
 * the snapshot's currency; a name the table does not know stays as it is. */
static void evidence_reads_as_labels_with_units(void **state) {
    (void)state;
    cJSON *snap = fixture();
    set(snap, "cta", "evidence",
        json("{'feature_events_prev_28d': 398, 'overdue_amount': 1200, 'days_left': 7}"));
    set_str(snap, "cta", "currency", "EUR");
    struct message_ctx c = ctx();
    char *msg = message_slack(snap, &c);
    assert_contains(msg, "Feature events, previous 28 days: 398 events");
    assert_contains(msg, "Amount overdue: EUR 1,200");
    assert_contains(msg, "days_left: 7");
    assert_null(strstr(msg, "feature_events_prev_28d"));
    free(msg);
    cJSON_Delete(snap);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evidence_reads_as_labels_with_units),
        cmocka_unit_test(slack_message_has_header_summary_fields_buttons_and_context),
        cmocka_unit_test(slack_escapes_hostile_account_name),
        cmocka_unit_test(slack_link_label_never_contains_a_pipe),
        cmocka_unit_test(slack_keeps_every_limit_with_100kb_strings),
        cmocka_unit_test(slack_cuts_on_character_boundaries_with_an_ellipsis),
        cmocka_unit_test(slack_mentions_owner_slack_id_and_rejects_a_crafted_one),
        cmocka_unit_test(slack_says_what_the_event_changed),
        cmocka_unit_test(value_shown_and_held_back_items_say_so),
        cmocka_unit_test(slack_without_base_url_has_no_links_or_buttons),
        cmocka_unit_test(health_line_leaves_out_what_is_null),
        cmocka_unit_test(missing_members_leave_lines_out_and_never_crash),
        cmocka_unit_test(slack_digest_of_1000_items_stays_within_50_blocks_and_says_more),
        cmocka_unit_test(slack_digest_lists_a_short_digest_whole),
        cmocka_unit_test(email_uses_crlf_everywhere_and_has_every_header),
        cmocka_unit_test(email_subject_never_carries_cr_or_lf),
        cmocka_unit_test(email_non_ascii_subject_is_encoded_in_short_words),
        cmocka_unit_test(email_message_id_is_stable_per_key_and_valid),
        cmocka_unit_test(email_parts_decode_to_the_reason),
        cmocka_unit_test(email_html_escapes_script),
        cmocka_unit_test(email_digest_lists_every_item),
        cmocka_unit_test(email_lines_stay_short_with_huge_input),
        cmocka_unit_test(webhook_is_deterministic_with_links),
        cmocka_unit_test(webhook_digest_lists_items),
        cmocka_unit_test(webhook_types_of_every_event),
        cmocka_unit_test(escalation_says_why_and_to_whom),
        cmocka_unit_test(log_is_one_line_of_json_with_the_text),
        cmocka_unit_test(slack_actions_block_names_the_cta_and_each_action),
        cmocka_unit_test(slack_actions_only_on_a_live_cta_with_the_app),
    };
    return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
