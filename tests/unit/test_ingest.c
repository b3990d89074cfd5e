/* test_ingest.c: unit tests of ingest/ingest (deduplication, account
 * resolution, quarantine, memberships, traits, transactions) on a real SQLite
 * store in a temporary directory. Messages are JSON text, validated with
 * segment_parse_msg as `tend import` does; every check reads back through the
 * store API, never through SQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_db.h"
#include "ingest/ingest.h"
#include "ingest/segment.h"
#include "store/store.h"
#include "util/datetime.h"

#define RECEIVED_MS 1717200000000LL /* 2024-06-01T00:00:00Z */

#define T1 "2024-05-01T10:00:00Z"
#define T2 "2024-05-02T10:00:00Z"
#define T3 "2024-05-03T10:00:00Z"
#define T4 "2024-05-04T10:00:00Z"

/* ---- fixture: a store in a fresh temporary directory ------------------------- */

static struct {
    char dir[256];
    char path[300];
    struct store *s;
    struct ingest *ig;
} fx;

static void open_store(void) {
    char err[STORE_ERR_BYTES];
    if (test_db_open(fx.path, &fx.s, err) != TEND_OK)
        fail_msg("store_open: %s", err);
    fx.ig = ingest_new(fx.s);
}

static void close_store(void) {
    ingest_free(fx.ig);
    store_close(fx.s);
    fx.ig = NULL;
    fx.s = NULL;
}

static int setup(void **state) {
    const char *tmp = getenv("TMPDIR");
    snprintf(fx.dir, sizeof fx.dir, "%s/tend-test-ingest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.path, sizeof fx.path, "%s/tend.db", fx.dir);
    open_store();
    return 0;
}

static int teardown(void **state) {
    close_store();
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[320];
        snprintf(p, sizeof p, "%s%s", fx.path, suffixes[i]);
        unlink(p);
    }
    return rmdir(fx.dir);
}

/* ---- driving ingest ------------------------------------------------------------ */

static void begin(void) {
    assert_int_equal(ingest_begin(fx.ig), TEND_OK);
}

static void commit(void) {
    assert_int_equal(ingest_commit(fx.ig), TEND_OK);
}

/* Validates json (which must be a valid message) and applies it inside the open
 * transaction; returns what became of it. */
static enum ingest_outcome apply(const char *json) {
    cJSON *tree = cJSON_Parse(json);
    if (!tree)
        fail_msg("test JSON does not parse: %s", json);
    struct seg_msg m;
    char err[SEG_ERR_BYTES] = "";
    enum tend_err e = segment_parse_msg(tree, NULL, RECEIVED_MS, json, strlen(json), &m, err);
    if (e != TEND_OK)
        fail_msg("segment_parse_msg rejected (%d) %s: %s", (int)e, json, err);
    enum ingest_outcome outcome = (enum ingest_outcome) - 1;
    e = ingest_message(fx.ig, &m, &outcome);
    cJSON_Delete(tree);
    if (e != TEND_OK)
        fail_msg("ingest_message failed (%d): %s", (int)e, store_last_error(fx.s));
    return outcome;
}

/* One message in a transaction of its own. */
static enum ingest_outcome send(const char *json) {
    begin();
    enum ingest_outcome o = apply(json);
    commit();
    return o;
}

/* ---- reading back ------------------------------------------------------------------ */

struct account_view {
    bool found;
    char name[64];
    bool has_name;
    char plan[64];
    bool has_plan;
    double mrr;
    bool has_mrr;
    int64_t seats;
    bool has_seats;
    char renewal_date[16];
    char csm_email[64];
    char premium_products[128];
    char traits[2048];
    int64_t members;
    int64_t events;
};

struct account_query {
    const char *external_id;
    struct account_view *v;
};

static void copy(char *dst, size_t n, const char *src) {
    snprintf(dst, n, "%s", src ? src : "");
}

static int account_row(void *arg, const struct store_account_row *row) {
    struct account_query *q = arg;
    if (strcmp(row->external_id, q->external_id) != 0)
        return 0;
    struct account_view *v = q->v;
    v->found = true;
    v->has_name = row->f.name != NULL;
    copy(v->name, sizeof v->name, row->f.name);
    v->has_plan = row->f.plan != NULL;
    copy(v->plan, sizeof v->plan, row->f.plan);
    v->mrr = row->f.mrr;
    v->has_mrr = row->f.has_mrr;
    v->seats = row->f.seats;
    v->has_seats = row->f.has_seats;
    copy(v->renewal_date, sizeof v->renewal_date, row->f.renewal_date);
    copy(v->csm_email, sizeof v->csm_email, row->f.csm_email);
    copy(v->premium_products, sizeof v->premium_products, row->f.premium_products);
    copy(v->traits, sizeof v->traits, row->traits_json);
    v->members = row->members;
    v->events = row->events;
    return 1;
}

/* The account external_id as store_accounts_each lists it (found false if not). */
static struct account_view account(const char *external_id) {
    struct account_view v;
    memset(&v, 0, sizeof v);
    struct account_query q = {external_id, &v};
    assert_int_equal(store_accounts_each(fx.s, account_row, &q), TEND_OK);
    return v;
}

static int count_row(void *arg, const struct store_account_row *row) {
    (*(int *)arg)++;
    return 0;
}

static int account_count(void) {
    int n = 0;
    assert_int_equal(store_accounts_each(fx.s, count_row, &n), TEND_OK);
    return n;
}

static struct store_status status(void) {
    struct store_status st;
    assert_int_equal(store_status_get(fx.s, &st), TEND_OK);
    return st;
}

struct named_value {
    const char *name;
    int64_t value;
};

static void counter_row(void *arg, const char *name, int64_t value) {
    struct named_value *nv = arg;
    if (strcmp(name, nv->name) == 0)
        nv->value = value;
}

/* A lifetime counter; 0 when it was never counted. */
static int64_t counter(const char *name) {
    struct named_value nv = {name, 0};
    assert_int_equal(store_counters_each(fx.s, counter_row, &nv), TEND_OK);
    return nv.value;
}

/* The number of quarantined events with this reason. */
static int64_t quarantined_for(const char *reason) {
    struct named_value nv = {reason, 0};
    assert_int_equal(store_quarantine_reasons(fx.s, counter_row, &nv), TEND_OK);
    return nv.value;
}

static int64_t account_id(const char *external_id) {
    int64_t id = 0;
    assert_int_equal(store_account_find(fx.s, external_id, &id), TEND_OK);
    return id;
}

/* The memberships of a user that must already exist. */
static size_t memberships_of(const char *user_id, struct store_membership **out) {
    int64_t before = status().users, id;
    assert_int_equal(store_user_ensure(fx.s, user_id, false, 0, &id), TEND_OK);
    assert_int_equal(status().users, before); /* it existed */
    size_t n = 0;
    assert_int_equal(store_user_memberships(fx.s, id, out, &n), TEND_OK);
    return n;
}

static int64_t ms(const char *iso) {
    int64_t v;
    assert_true(dt_parse_instant(iso, strlen(iso), &v));
    return v;
}

/* The value of key in the traits JSON of an account view, printed. */
static void assert_trait(const struct account_view *v, const char *key, const char *want_json) {
    cJSON *t = cJSON_Parse(v->traits);
    assert_non_null(t);
    cJSON *item = cJSON_GetObjectItemCaseSensitive(t, key);
    if (!item)
        fail_msg("trait %s missing from %s", key, v->traits);
    char *got = cJSON_PrintUnformatted(item);
    bool same = strcmp(got, want_json) == 0;
    if (!same)
        fail_msg("trait %s is %s, want %s", key, got, want_json);
    cJSON_free(got);
    cJSON_Delete(t);
}

/* ---- group and identify ------------------------------------------------------------- */

static void group_call_creates_the_account_with_its_traits_and_member(void **state) {
    assert_int_equal(send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                          "\"timestamp\":\"" T1 "\",\"traits\":{\"name\":\"Acme\",\"plan\":\"pro\","
                          "\"mrr\":1200.5,\"seats\":25,\"renewal_date\":\"2025-01-31\","
                          "\"csm_email\":\"csm@x.io\",\"premium_products\":[\"sso\"],"
                          "\"tier\":\"gold\"}}"),
                     INGEST_ACCEPTED);
    struct account_view a = account("acme");
    assert_true(a.found);
    assert_string_equal(a.name, "Acme");
    assert_string_equal(a.plan, "pro");
    assert_true(a.has_mrr);
    assert_true(a.mrr == 1200.5);
    assert_true(a.has_seats);
    assert_int_equal(a.seats, 25);
    assert_string_equal(a.renewal_date, "2025-01-31");
    assert_string_equal(a.csm_email, "csm@x.io");
    assert_string_equal(a.premium_products, "[\"sso\"]");
    assert_trait(&a, "tier", "\"gold\"");
    assert_int_equal(a.members, 1);
    assert_int_equal(a.events, 1);
    struct store_status st = status();
    assert_int_equal(st.accounts, 1);
    assert_int_equal(st.users, 1);
    assert_int_equal(st.memberships_open, 1);
    assert_int_equal(st.quarantined, 0);
    assert_int_equal(counter("messages.accepted"), 1);
    assert_int_equal(counter("events.group"), 1);
    struct ingest_totals t = ingest_totals(fx.ig);
    assert_int_equal(t.accepted, 1);
}

static void second_group_call_does_not_open_a_second_membership(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T2 "\"}");
    assert_int_equal(account("acme").members, 1);
    assert_int_equal(status().memberships_open, 1);
    struct store_membership *m;
    assert_int_equal(memberships_of("u1", &m), 1);
    assert_int_equal(m[0].start_ms, ms(T1));
    free(m);
}

static void identify_with_company_id_creates_the_account_and_the_membership(void **state) {
    assert_int_equal(send("{\"type\":\"identify\",\"userId\":\"u1\",\"timestamp\":\"" T1 "\","
                          "\"traits\":{\"email\":\"ann@acme.io\",\"company\":{\"id\":\"acme\"}}}"),
                     INGEST_ACCEPTED);
    struct account_view a = account("acme");
    assert_true(a.found);
    assert_int_equal(a.members, 1);
    struct store_membership *m;
    assert_int_equal(memberships_of("u1", &m), 1);
    assert_int_equal(m[0].account_id, account_id("acme"));
    assert_int_equal(m[0].start_ms, ms(T1));
    assert_true(m[0].end_ms == STORE_OPEN_END);
    free(m);
    /* the user's later events now resolve to it */
    int64_t before = account("acme").events;
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(account("acme").events, before + 1);
}

static void identify_with_company_id_or_account_external_id_makes_members(void **state) {
    send("{\"type\":\"identify\",\"userId\":\"u1\",\"timestamp\":\"" T1 "\","
         "\"traits\":{\"company_id\":\"beta\"}}");
    send("{\"type\":\"identify\",\"userId\":\"u2\",\"timestamp\":\"" T1 "\","
         "\"traits\":{\"accountExternalId\":\"beta\"}}");
    assert_int_equal(account("beta").members, 2);
    assert_int_equal(status().accounts, 1);
}

static void quarantined_track_is_attached_by_an_identify_with_company(void **state) {
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T1 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(send("{\"type\":\"identify\",\"userId\":\"u1\",\"timestamp\":\"" T2 "\","
                          "\"traits\":{\"company_id\":\"acme\"}}"),
                     INGEST_ACCEPTED);
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(counter("messages.attached"), 1);
    assert_int_equal(account("acme").events, 2); /* the identify and the login */
}

static void identify_without_company_makes_no_account(void **state) {
    assert_int_equal(send("{\"type\":\"identify\",\"userId\":\"u1\",\"timestamp\":\"" T1 "\","
                          "\"traits\":{\"email\":\"ann@acme.io\",\"company\":\"Acme\"}}"),
                     INGEST_ACCEPTED);
    struct store_status st = status();
    assert_int_equal(st.accounts, 0);
    assert_int_equal(st.users, 1);
    assert_int_equal(st.memberships_open, 0);
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_QUARANTINED);
}

/* ---- deduplication ----------------------------------------------------------------- */

static void duplicate_message_id_is_ignored_and_changes_nothing(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    const char *track = "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                        "\"messageId\":\"m-1\",\"timestamp\":\"" T2 "\"}";
    assert_int_equal(send(track), INGEST_ACCEPTED);
    struct store_status before = status();
    int64_t events = account("acme").events, accepted = counter("messages.accepted");
    assert_int_equal(events, 2);

    assert_int_equal(send(track), INGEST_DUPLICATE);
    /* the same messageId and timestamp with another body is the same message */
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Report Exported\","
                          "\"messageId\":\"m-1\",\"timestamp\":\"" T2 "\"}"),
                     INGEST_DUPLICATE);
    struct store_status after = status();
    assert_memory_equal(&after, &before, sizeof after);
    assert_int_equal(account("acme").events, events);
    assert_int_equal(counter("messages.accepted"), accepted);
    assert_int_equal(counter("messages.duplicates"), 2);
    assert_int_equal(counter("events.login"), 1);
    assert_int_equal(counter("events.feature"), 0);
    assert_int_equal(ingest_totals(fx.ig).duplicates, 2);
}

static void duplicate_within_one_transaction_is_ignored(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    const char *track = "{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                        "\"timestamp\":\"" T2 "\"}"; /* no messageId: keyed by its text */
    begin();
    assert_int_equal(apply(track), INGEST_ACCEPTED);
    assert_int_equal(apply(track), INGEST_DUPLICATE);
    commit();
    assert_int_equal(account("acme").events, 2);
    assert_int_equal(counter("messages.duplicates"), 1);
}

static void duplicate_of_a_quarantined_event_is_quarantined_once(void **state) {
    const char *track = "{\"type\":\"track\",\"userId\":\"u9\",\"event\":\"Signed In\","
                        "\"messageId\":\"q-1\",\"timestamp\":\"" T2 "\"}";
    assert_int_equal(send(track), INGEST_QUARANTINED);
    assert_int_equal(send(track), INGEST_DUPLICATE);
    assert_int_equal(status().quarantined, 1);
    assert_int_equal(counter("messages.quarantined"), 1);
    assert_int_equal(counter("messages.duplicates"), 1);
}

/* SPEC 1: a second message with the same messageId is accepted and ignored. A
 * resend whose groupId and userId differ must not leave an account or a user
 * behind. */
static void duplicate_with_a_different_body_creates_no_account_or_user(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"messageId\":\"g-1\","
         "\"timestamp\":\"" T1 "\"}");
    struct store_status before = status();
    assert_int_equal(send("{\"type\":\"group\",\"userId\":\"u2\",\"groupId\":\"other\","
                          "\"messageId\":\"g-1\",\"timestamp\":\"" T1 "\"}"),
                     INGEST_DUPLICATE);
    struct store_status after = status();
    assert_false(account("other").found);
    assert_int_equal(after.accounts, before.accounts);
    assert_int_equal(after.users, before.users);
    assert_int_equal(after.memberships_open, before.memberships_open);
}

/* ---- which account, quarantine --------------------------------------------------- */

static void track_of_a_member_is_attached_to_their_account(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(account("acme").events, 2);
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(counter("events.login"), 1);
    assert_int_equal(counter("messages.accepted"), 2);
}

static void event_before_the_membership_start_still_resolves(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T3 "\"}");
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T1 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(account("acme").events, 2);
}

/* The first quarantine case, with the group call in the same transaction. */
static void
track_without_account_is_attached_by_a_group_call_in_the_same_transaction(void **state) {
    begin();
    assert_int_equal(apply("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                           "\"timestamp\":\"" T1 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(apply("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                           "\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    commit();
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(counter("messages.attached"), 1);
    assert_int_equal(counter("messages.quarantined"), 1);
    assert_int_equal(account("acme").events, 2); /* the group call and the login */
    assert_int_equal(ingest_totals(fx.ig).attached, 1);
}

static void track_without_account_is_attached_by_a_later_transaction(void **state) {
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T1 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(status().quarantined, 1);
    assert_int_equal(quarantined_for("user belongs to no account"), 1);
    assert_int_equal(counter("messages.quarantined"), 1);
    assert_int_equal(counter("messages.attached"), 0);

    assert_int_equal(send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(counter("messages.attached"), 1);
    assert_int_equal(account("acme").events, 2);
}

static void quarantined_track_is_attached_after_the_store_is_reopened(void **state) {
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T1 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Report Exported\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_QUARANTINED);
    close_store();
    open_store();
    assert_int_equal(status().quarantined, 2);
    assert_int_equal(send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\","
                          "\"timestamp\":\"" T3 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(counter("messages.attached"), 2);
    assert_int_equal(account("acme").events, 3);
    assert_int_equal(ingest_totals(fx.ig).attached, 2);
}

static void track_naming_an_unknown_account_waits_for_it(void **state) {
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"context\":{\"groupId\":\"acme\"},\"timestamp\":\"" T1 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(quarantined_for("unknown account"), 1);
    assert_int_equal(status().accounts, 0); /* a track never creates an account */

    /* another user's group call creates the account */
    assert_int_equal(send("{\"type\":\"group\",\"userId\":\"u2\",\"groupId\":\"acme\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(counter("messages.attached"), 1);
    assert_int_equal(account("acme").events, 2);
}

static void account_id_property_naming_an_unknown_account_waits_for_it(void **state) {
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"properties\":{\"account_id\":\"acme\"},\"timestamp\":\"" T1 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(quarantined_for("unknown account"), 1);
    send("{\"type\":\"identify\",\"userId\":\"u2\",\"timestamp\":\"" T2 "\","
         "\"traits\":{\"company_id\":\"acme\"}}");
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(account("acme").events, 2);
}

static void track_of_a_user_in_two_accounts_is_quarantined(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"beta\",\"timestamp\":\"" T1 "\"}");
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(quarantined_for("user belongs to several accounts"), 1);
    assert_int_equal(account("acme").events, 1);
    assert_int_equal(account("beta").events, 1);
    /* naming the account resolves it */
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"context\":{\"groupId\":\"beta\"},\"timestamp\":\"" T3 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(account("beta").events, 2);
}

static void account_id_property_resolves_the_account(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u2\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    /* u1 belongs to no account, but names one */
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"properties\":{\"account_id\":\"acme\"},\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(account("acme").events, 2);
    assert_int_equal(status().quarantined, 0);
}

static void context_group_id_wins_over_the_account_id_property(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u2\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    send("{\"type\":\"group\",\"userId\":\"u3\",\"groupId\":\"beta\",\"timestamp\":\"" T1 "\"}");
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u2\",\"event\":\"Signed In\","
                          "\"context\":{\"groupId\":\"beta\"},"
                          "\"properties\":{\"account_id\":\"acme\"},\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(account("beta").events, 2);
    assert_int_equal(account("acme").events, 1);
}

static void page_and_screen_resolve_like_track_events(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    assert_int_equal(send("{\"type\":\"page\",\"userId\":\"u1\",\"name\":\"Pricing\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(send("{\"type\":\"screen\",\"userId\":\"u9\",\"name\":\"Home\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(account("acme").events, 2);
    assert_int_equal(counter("events.page"), 1);
    assert_int_equal(counter("events.screen"), 1);
}

static void alias_is_stored_without_an_account(void **state) {
    assert_int_equal(send("{\"type\":\"alias\",\"userId\":\"u1\",\"previousId\":\"anon-1\","
                          "\"timestamp\":\"" T1 "\"}"),
                     INGEST_ACCEPTED);
    struct store_status st = status();
    assert_int_equal(st.quarantined, 0);
    assert_int_equal(st.accounts, 0);
    assert_int_equal(counter("events.alias"), 1);
    assert_int_equal(counter("messages.accepted"), 1);
}

/* ---- memberships ----------------------------------------------------------------------- */

static void account_removed_user_ends_the_membership(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    send("{\"type\":\"group\",\"userId\":\"u2\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    assert_int_equal(account("acme").members, 2);

    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\","
                          "\"event\":\"Account Removed User\",\"timestamp\":\"" T3 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(account("acme").members, 1);
    struct store_status st = status();
    assert_int_equal(st.memberships_ended, 1);
    assert_int_equal(st.memberships_open, 1);
    struct store_membership *m;
    assert_int_equal(memberships_of("u1", &m), 1);
    assert_int_equal(m[0].start_ms, ms(T1));
    assert_int_equal(m[0].end_ms, ms(T3));
    free(m);

    /* after the removal u1 belongs to no account; before it, to acme */
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T4 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
}

static void ended_membership_leaves_the_other_account_as_the_only_one(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"beta\",\"timestamp\":\"" T1 "\"}");
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\","
                          "\"event\":\"Account Removed User\",\"context\":{\"groupId\":\"acme\"},"
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(account("acme").members, 0);
    assert_int_equal(account("beta").members, 1);
    int64_t beta = account("beta").events;
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T3 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(account("beta").events, beta + 1);
}

/* docs/ingest.md: an Account Removed User that waited for a membership ends it
 * when attached. */
static void removal_waiting_for_a_membership_ends_it_when_attached(void **state) {
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\","
                          "\"event\":\"Account Removed User\",\"timestamp\":\"" T2 "\"}"),
                     INGEST_QUARANTINED);
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(account("acme").members, 0);
    assert_int_equal(status().memberships_ended, 1);
}

/* docs/ingest.md: "An attached event then counts exactly as if it had arrived
 * resolved". A removal at T2 naming acme arrives before the group call at T1
 * that creates acme and makes u1 a member: once both are in, u1 has left. */
static void removal_waiting_for_its_account_ends_the_membership_when_attached(void **state) {
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\","
                          "\"event\":\"Account Removed User\",\"context\":{\"groupId\":\"acme\"},"
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_QUARANTINED);
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(account("acme").members, 0);
    assert_int_equal(status().memberships_ended, 1);
}

/* ---- traits ------------------------------------------------------------------------------ */

static void older_group_call_adds_new_traits_but_keeps_newer_values(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T2 "\","
         "\"traits\":{\"plan\":\"pro\",\"mrr\":100}}");
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\","
         "\"traits\":{\"plan\":\"basic\",\"mrr\":50,\"seats\":10,\"tier\":\"gold\"}}");
    struct account_view a = account("acme");
    assert_string_equal(a.plan, "pro");
    assert_true(a.has_mrr);
    assert_true(a.mrr == 100);
    assert_true(a.has_seats);
    assert_int_equal(a.seats, 10);
    assert_trait(&a, "plan", "\"pro\"");
    assert_trait(&a, "tier", "\"gold\"");
    assert_trait(&a, "seats", "10");

    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T3 "\","
         "\"traits\":{\"plan\":\"enterprise\"}}");
    a = account("acme");
    assert_string_equal(a.plan, "enterprise");
    assert_true(a.mrr == 100);
    assert_trait(&a, "tier", "\"gold\"");
}

static void null_trait_unsets_the_typed_column(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\","
         "\"traits\":{\"plan\":\"pro\",\"mrr\":100}}");
    assert_true(account("acme").has_plan);
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T2 "\","
         "\"traits\":{\"plan\":null}}");
    struct account_view a = account("acme");
    assert_false(a.has_plan);
    assert_true(a.has_mrr);
}

static void numeric_strings_fill_the_typed_columns(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\","
         "\"traits\":{\"mrr\":\"2400.00\",\"seats\":\"12\","
         "\"renewal_date\":\"2025-03-01T12:00:00+02:00\"}}");
    struct account_view a = account("acme");
    assert_true(a.has_mrr);
    assert_true(a.mrr == 2400);
    assert_true(a.has_seats);
    assert_int_equal(a.seats, 12);
    assert_string_equal(a.renewal_date, "2025-03-01");
}

static void account_traits_are_validated(void **state) {
    char err[SEG_ERR_BYTES] = "";
    cJSON *bad = cJSON_Parse("{\"name\":\"Acme\",\"mrr\":\"lots\"}");
    begin();
    assert_int_equal(ingest_account_traits(fx.ig, "acme", bad, ms(T1), err), TEND_ERR_INVALID);
    commit();
    cJSON_Delete(bad);
    assert_non_null(strstr(err, "mrr"));
    assert_int_equal(status().accounts, 0);

    cJSON *good = cJSON_Parse("{\"name\":\"Acme\",\"mrr\":\"1200\",\"seats\":12,"
                              "\"renewal_date\":\"2025-01-31\","
                              "\"premium_products\":[\"sso\",\"audit\"],\"region\":\"eu\"}");
    begin();
    assert_int_equal(ingest_account_traits(fx.ig, "acme", good, ms(T1), err), TEND_OK);
    commit();
    cJSON_Delete(good);
    struct account_view a = account("acme");
    assert_true(a.found);
    assert_string_equal(a.name, "Acme");
    assert_true(a.mrr == 1200);
    assert_int_equal(a.seats, 12);
    assert_string_equal(a.renewal_date, "2025-01-31");
    assert_string_equal(a.premium_products, "[\"sso\",\"audit\"]");
    assert_trait(&a, "region", "\"eu\"");
    assert_int_equal(a.members, 0);
}

static void account_traits_attach_the_events_waiting_for_the_account(void **state) {
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"context\":{\"groupId\":\"acme\"},\"timestamp\":\"" T1 "\"}"),
                     INGEST_QUARANTINED);
    char err[SEG_ERR_BYTES] = "";
    cJSON *t = cJSON_Parse("{\"name\":\"Acme\"}");
    begin();
    assert_int_equal(ingest_account_traits(fx.ig, "acme", t, ms(T2), err), TEND_OK);
    commit();
    cJSON_Delete(t);
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(account("acme").events, 1);
    assert_int_equal(counter("messages.attached"), 1);
}

/* The accounts CSV path (tend import --accounts) has the rules of a group call:
 * its account_id is an id, its header names are keys, its cells are text, its
 * as_of is a timestamp received now. Nothing of a refused row is stored. */
static void account_traits_refuse_bad_text_and_far_dates(void **state) {
    static const struct {
        const char *id, *traits, *as_of, *error;
    } cases[] = {
        {"ac\xffme", "{\"name\":\"Acme\"}", T1, "account_id: invalid UTF-8 at byte 3"},
        {"acme\nFAKE", "{\"name\":\"Acme\"}", T1, "account_id: a control character (U+000A)"},
        {"acme", "{\"name\":\"Ac\xc3\"}", T1, "name: invalid UTF-8 at byte 3"},
        {"acme", "{\"reg\\nion\":\"eu\"}", T1,
         "the key starting \"reg\": a control character (U+000A) at byte 4"},
        {"acme", "{\"plan\":\"pro\\t\"}", T1, "plan: a control character (U+0009)"},
        {"acme", "{\"name\":\"Acme\"}", "1999-12-31T23:59:59Z",
         "as_of: 1999-12-31T23:59:59.000Z is outside the accepted window"},
        {"acme", "{\"renewal_date\":\"2150-01-01\"}", T1,
         "renewal_date: \"2150-01-01\" is outside"},
        {"acme", "{\"created_at\":\"0001-01-01\"}", T1, "created_at: \"0001-01-01\" is outside"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[SEG_ERR_BYTES] = "";
        cJSON *t = cJSON_Parse(cases[i].traits);
        assert_non_null(t);
        begin();
        enum tend_err e = ingest_account_traits(fx.ig, cases[i].id, t, ms(cases[i].as_of), err);
        commit();
        cJSON_Delete(t);
        if (e != TEND_ERR_INVALID || !strstr(err, cases[i].error))
            fail_msg("case %zu: got %d \"%s\", want \"%s\"", i, (int)e, err, cases[i].error);
    }
    /* An as_of more than a day ahead of now. */
    char err[SEG_ERR_BYTES] = "";
    cJSON *t = cJSON_Parse("{\"name\":\"Acme\"}");
    begin();
    assert_int_equal(ingest_account_traits(fx.ig, "acme", t, dt_now_ms() + 2 * DT_MS_PER_DAY, err),
                     TEND_ERR_INVALID);
    commit();
    assert_non_null(strstr(err, "as_of"));
    assert_int_equal(status().accounts, 0);
    /* Free text keeps its newline; the row is stored. */
    cJSON_Delete(t);
    t = cJSON_Parse("{\"name\":\"Acme\\nCorp\",\"note\":\"a\\tb\"}");
    begin();
    assert_int_equal(ingest_account_traits(fx.ig, "acme", t, ms(T1), err), TEND_OK);
    commit();
    cJSON_Delete(t);
    assert_int_equal(status().accounts, 1);
    assert_string_equal(account("acme").name, "Acme\nCorp");
}

static void count_trait(void *arg, const char *key, const char *value_json) {
    struct named_value *nv = arg;
    nv->value++;
    if (strcmp(key, nv->name) == 0)
        nv->value += 1000000; /* found: marks the count */
}

/* An account keeps at most INGEST_MAX_TRAIT_KEYS free trait keys: without a cap
 * every group call re-read and re-wrote all of them, so a sender adding new
 * keys call after call made each call slower without bound. Known traits and
 * keys it has already are still merged; the rest is counted. */
static void trait_keys_per_account_are_capped_known_traits_still_merge(void **state) {
    char *json = malloc(64 * INGEST_MAX_TRAIT_KEYS + 256);
    char *p = json;
    p += sprintf(p, "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1
                    "\",\"messageId\":\"full\",\"traits\":{");
    for (int i = 0; i < INGEST_MAX_TRAIT_KEYS; i++)
        p += sprintf(p, "%s\"k%04d\":%d", i ? "," : "", i, i);
    sprintf(p, "}}");
    assert_int_equal(send(json), INGEST_ACCEPTED);
    free(json);
    assert_int_equal(counter("traits.over_limit"), 0);

    assert_int_equal(
        send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":"
             "\"" T2 "\",\"messageId\":\"more\",\"traits\":{\"k0005\":\"new\","
             "\"extra\":1,\"extra2\":2,\"renewal_date\":\"2024-09-01\"}}"),
        INGEST_ACCEPTED);
    assert_int_equal(counter("traits.over_limit"), 2);
    struct named_value nv = {"extra", 0};
    assert_int_equal(store_traits_each(fx.s, STORE_ACCOUNT, account_id("acme"), count_trait, &nv),
                     TEND_OK);
    assert_int_equal(nv.value, INGEST_MAX_TRAIT_KEYS + 1); /* + renewal_date, no extra */
    nv = (struct named_value){"k0005", 0};
    assert_int_equal(store_traits_each(fx.s, STORE_ACCOUNT, account_id("acme"), count_trait, &nv),
                     TEND_OK);
    assert_true(nv.value > 1000000);
    assert_string_equal(account("acme").renewal_date, "2024-09-01");
}

/* ---- transactions ------------------------------------------------------------------------- */

static void rollback_drops_everything_of_the_transaction(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    struct store_status before = status();

    begin();
    assert_int_equal(apply("{\"type\":\"group\",\"userId\":\"u2\",\"groupId\":\"beta\","
                           "\"timestamp\":\"" T1 "\",\"traits\":{\"plan\":\"pro\"}}"),
                     INGEST_ACCEPTED);
    assert_int_equal(apply("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                           "\"timestamp\":\"" T2 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(apply("{\"type\":\"track\",\"userId\":\"u3\",\"event\":\"Signed In\","
                           "\"timestamp\":\"" T2 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(apply("{\"type\":\"track\",\"userId\":\"u1\","
                           "\"event\":\"Account Removed User\",\"timestamp\":\"" T3 "\"}"),
                     INGEST_ACCEPTED);
    ingest_rollback(fx.ig);

    struct store_status after = status();
    assert_memory_equal(&after, &before, sizeof after);
    assert_false(account("beta").found);
    assert_int_equal(account_count(), 1);
    assert_int_equal(account("acme").events, 1);
    assert_int_equal(account("acme").members, 1);
    assert_int_equal(counter("messages.accepted"), 1);
    assert_int_equal(counter("messages.quarantined"), 0);
    assert_int_equal(counter("events.login"), 0);
    struct ingest_totals t = ingest_totals(fx.ig);
    assert_int_equal(t.accepted, 1);
    assert_int_equal(t.quarantined, 0);

    /* later messages work, and nothing remembered from the rolled-back
     * transaction leaks into them: beta is unknown again, u1 still in acme */
    begin();
    assert_int_equal(apply("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                           "\"context\":{\"groupId\":\"beta\"},\"timestamp\":\"" T2 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(apply("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                           "\"timestamp\":\"" T4 "\"}"),
                     INGEST_ACCEPTED);
    assert_int_equal(apply("{\"type\":\"group\",\"userId\":\"u2\",\"groupId\":\"beta\","
                           "\"timestamp\":\"" T1 "\"}"),
                     INGEST_ACCEPTED);
    commit();
    assert_int_equal(account("acme").events, 2);
    assert_int_equal(account("beta").events, 2); /* the group call and the attached login */
    assert_int_equal(status().quarantined, 0);
    assert_int_equal(status().users, 2);
    t = ingest_totals(fx.ig);
    assert_int_equal(t.accepted, 3);
    assert_int_equal(t.quarantined, 1);
    assert_int_equal(t.attached, 1);
}

static void rejected_messages_are_counted_with_the_transaction(void **state) {
    begin();
    ingest_count_rejected(fx.ig, 3);
    ingest_rollback(fx.ig);
    assert_int_equal(counter("messages.rejected"), 0);
    begin();
    ingest_count_rejected(fx.ig, 2);
    commit();
    assert_int_equal(counter("messages.rejected"), 2);
    assert_int_equal(ingest_totals(fx.ig).rejected, 2);
}

/* A second writer (another process, here another connection) committed in
 * between: the first one's caches must not resurrect what it no longer sees. */
static void another_writers_commit_is_seen(void **state) {
    send("{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"acme\",\"timestamp\":\"" T1 "\"}");
    struct store *other;
    char err[STORE_ERR_BYTES];
    assert_int_equal(test_db_open(fx.path, &other, err), TEND_OK);
    struct ingest *ig2 = ingest_new(other);
    assert_int_equal(ingest_begin(ig2), TEND_OK);
    const char *json = "{\"type\":\"group\",\"userId\":\"u1\",\"groupId\":\"beta\","
                       "\"timestamp\":\"" T1 "\"}";
    cJSON *tree = cJSON_Parse(json);
    struct seg_msg m;
    char e[SEG_ERR_BYTES];
    assert_int_equal(segment_parse_msg(tree, NULL, RECEIVED_MS, json, strlen(json), &m, e),
                     TEND_OK);
    enum ingest_outcome o;
    assert_int_equal(ingest_message(ig2, &m, &o), TEND_OK);
    assert_int_equal(o, INGEST_ACCEPTED);
    assert_int_equal(ingest_commit(ig2), TEND_OK);
    cJSON_Delete(tree);
    ingest_free(ig2);
    store_close(other);

    /* u1 is now in two accounts: the first writer must not use its cached
     * single membership */
    assert_int_equal(send("{\"type\":\"track\",\"userId\":\"u1\",\"event\":\"Signed In\","
                          "\"timestamp\":\"" T2 "\"}"),
                     INGEST_QUARANTINED);
    assert_int_equal(quarantined_for("user belongs to several accounts"), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(group_call_creates_the_account_with_its_traits_and_member),
        T(second_group_call_does_not_open_a_second_membership),
        T(identify_with_company_id_creates_the_account_and_the_membership),
        T(identify_with_company_id_or_account_external_id_makes_members),
        T(quarantined_track_is_attached_by_an_identify_with_company),
        T(identify_without_company_makes_no_account),
        T(duplicate_message_id_is_ignored_and_changes_nothing),
        T(duplicate_within_one_transaction_is_ignored),
        T(duplicate_of_a_quarantined_event_is_quarantined_once),
        T(duplicate_with_a_different_body_creates_no_account_or_user),
        T(track_of_a_member_is_attached_to_their_account),
        T(event_before_the_membership_start_still_resolves),
        T(track_without_account_is_attached_by_a_group_call_in_the_same_transaction),
        T(track_without_account_is_attached_by_a_later_transaction),
        T(quarantined_track_is_attached_after_the_store_is_reopened),
        T(track_naming_an_unknown_account_waits_for_it),
        T(account_id_property_naming_an_unknown_account_waits_for_it),
        T(track_of_a_user_in_two_accounts_is_quarantined),
        T(account_id_property_resolves_the_account),
        T(context_group_id_wins_over_the_account_id_property),
        T(page_and_screen_resolve_like_track_events),
        T(alias_is_stored_without_an_account),
        T(account_removed_user_ends_the_membership),
        T(ended_membership_leaves_the_other_account_as_the_only_one),
        T(removal_waiting_for_a_membership_ends_it_when_attached),
        T(removal_waiting_for_its_account_ends_the_membership_when_attached),
        T(older_group_call_adds_new_traits_but_keeps_newer_values),
        T(null_trait_unsets_the_typed_column),
        T(numeric_strings_fill_the_typed_columns),
        T(account_traits_are_validated),
        T(account_traits_attach_the_events_waiting_for_the_account),
        T(account_traits_refuse_bad_text_and_far_dates),
        T(trait_keys_per_account_are_capped_known_traits_still_merge),
        T(rollback_drops_everything_of_the_transaction),
        T(rejected_messages_are_counted_with_the_transaction),
        T(another_writers_commit_is_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
