/* test_notify.c: delivery configuration and routing (notify/config.h):
 * which channels and targets an event reaches, immediate beating digest,
 * owners without an address, mistakes named by their path, the backoff's
 * bounds and the digest hour in a time zone with daylight saving; the
 * urgency of rows and the outbox's side of it in a real store (most urgent
 * due first, holds that never shorten, kept across connections). */
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
#include "notify/config.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/yaml.h"

/* Loads YAML text with the three sections; returns the error or TEND_OK. */
static enum tend_err load(const char *text, struct notify_config *c, char *err) {
    cJSON *root;
    char yerr[YAML_ERR_BYTES];
    assert_int_equal(yaml_load_string(text, strlen(text), "t.yaml", &root, yerr), TEND_OK);
    notify_config_default(c);
    enum tend_err e = notify_config_load(cJSON_GetObjectItemCaseSensitive(root, "delivery"),
                                         cJSON_GetObjectItemCaseSensitive(root, "channels"),
                                         cJSON_GetObjectItemCaseSensitive(root, "routes"), c, err);
    cJSON_Delete(root);
    return e;
}

static const char *const full =
    "delivery:\n"
    "  base_url: https://tend.example.com/\n"
    "  fallback_owner: lead@example.com\n"
    "channels:\n"
    "  alerts: {type: slack, url: 'https://hooks.example/a',\n"
    "           owners: {alice@example.com: 'https://hooks.example/alice'}}\n"
    "  mail: {type: email, url: 'smtp://mail.example.com:587', from: 'tend <t@example.com>'}\n"
    "  crm: {type: webhook, url: 'https://crm.example/h', secret: s3cret}\n"
    "  audit: {type: log, path: n.log}\n"
    "routes:\n"
    "  - match: {priority: [high, medium]}\n"
    "    to: [alerts, mail, crm]\n"
    "  - match: {priority: low}\n"
    "    to: [mail]\n"
    "    digest: true\n"
    "  - match: {rule: payment_overdue, segment: [enterprise]}\n"
    "    to: mail\n"
    "  - to: [audit]\n";

static struct notify_subject subject(const char *priority, const char *rule, const char *owner) {
    return (struct notify_subject){.event = NOTIFY_OPEN,
                                   .priority = priority,
                                   .type = "risk",
                                   .rule = rule,
                                   .segment = "enterprise",
                                   .owner = owner};
}

/* The target routed to the channel named name, or NULL. */
static const struct notify_target *to(const struct notify_config *c, const struct notify_target *t,
                                      int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(c->channels[t[i].channel].name, name) == 0)
            return &t[i];
    return NULL;
}

static void test_every_matching_route_applies(void **state) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load(full, &c, err), TEND_OK);
    assert_string_equal(c.base_url, "https://tend.example.com");
    struct notify_target t[NOTIFY_TARGETS_MAX];
    struct notify_subject s = subject("high", "no_login", "alice@example.com");
    int n = notify_route(&c, &s, t);
    assert_int_equal(n, 4);
    assert_false(to(&c, t, n, "alerts")->digest);
    assert_string_equal(to(&c, t, n, "alerts")->target, "alice@example.com"); /* her webhook */
    assert_string_equal(to(&c, t, n, "mail")->target, "alice@example.com");
    assert_string_equal(to(&c, t, n, "crm")->target, "");
    assert_non_null(to(&c, t, n, "audit"));
    /* an owner without a webhook of her own: the channel's */
    s = subject("high", "no_login", "bob@example.com");
    n = notify_route(&c, &s, t);
    assert_string_equal(to(&c, t, n, "alerts")->target, "");
    assert_string_equal(notify_slack_url(&c.channels[to(&c, t, n, "alerts")->channel], ""),
                        "https://hooks.example/a");
    notify_config_release(&c);
}

static void test_immediate_beats_digest_for_one_channel(void **state) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load(full, &c, err), TEND_OK);
    struct notify_target t[NOTIFY_TARGETS_MAX];
    struct notify_subject s = subject("low", "no_login", "alice@example.com");
    int n = notify_route(&c, &s, t);
    assert_int_equal(n, 2); /* mail (digest) and audit */
    assert_true(to(&c, t, n, "mail")->digest);
    assert_null(to(&c, t, n, "alerts"));
    /* the payment_overdue route sends mail at once: once, not digested */
    s = subject("low", "payment_overdue", "alice@example.com");
    n = notify_route(&c, &s, t);
    assert_int_equal(n, 2);
    assert_false(to(&c, t, n, "mail")->digest);
    notify_config_release(&c);
    /* whatever the order of the routes */
    assert_int_equal(load("channels: {m: {type: log, path: x.log}}\n"
                          "routes: [{match: {rule: payment_overdue}, to: m},\n"
                          "         {match: {priority: low}, to: m, digest: true}]\n",
                          &c, err),
                     TEND_OK);
    n = notify_route(&c, &s, t);
    assert_int_equal(n, 1);
    assert_false(t[0].digest);
    notify_config_release(&c);
}

static void test_owner_without_address_gets_fallback_or_error(void **state) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load(full, &c, err), TEND_OK);
    struct notify_target t[NOTIFY_TARGETS_MAX];
    struct notify_subject s = subject("high", "no_login", "unassigned");
    int n = notify_route(&c, &s, t);
    assert_string_equal(to(&c, t, n, "mail")->target, "lead@example.com");
    assert_null(to(&c, t, n, "mail")->error);
    free(c.fallback_owner);
    c.fallback_owner = NULL;
    n = notify_route(&c, &s, t);
    assert_non_null(to(&c, t, n, "mail")->error);
    notify_config_release(&c);
}

static void test_without_routes_low_goes_to_digest(void **state) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load("channels:\n"
                          "  a: {type: log, path: x.log}\n"
                          "  m: {type: email, url: 'smtps://h:465', from: t@e.com, to: cs@e.com}\n",
                          &c, err),
                     TEND_OK);
    struct notify_target t[NOTIFY_TARGETS_MAX];
    struct notify_subject s = subject("low", "no_login", "alice@example.com");
    int n = notify_route(&c, &s, t);
    assert_int_equal(n, 2);
    assert_true(t[0].digest && t[1].digest);
    assert_string_equal(to(&c, t, n, "m")->target, "cs@e.com"); /* the fixed address */
    s = subject("medium", "no_login", "alice@example.com");
    n = notify_route(&c, &s, t);
    assert_false(t[0].digest || t[1].digest);
    /* wake-ups notify only when asked for */
    s.event = NOTIFY_WAKE;
    assert_int_equal(notify_route(&c, &s, t), 0);
    notify_config_release(&c);
}

static void test_event_condition(void **state) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load("delivery: {events: [open, resolve]}\n"
                          "channels: {a: {type: log, path: x.log}}\n"
                          "routes: [{match: {event: resolve}, to: a}]\n",
                          &c, err),
                     TEND_OK);
    struct notify_target t[NOTIFY_TARGETS_MAX];
    struct notify_subject s = subject("high", "no_login", "x@e.com");
    assert_int_equal(notify_route(&c, &s, t), 0);
    s.event = NOTIFY_RESOLVE;
    assert_int_equal(notify_route(&c, &s, t), 1);
    notify_config_release(&c);
}

static void expect_error(const char *yaml, const char *path) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES] = "";
    assert_int_equal(load(yaml, &c, err), TEND_ERR_INVALID);
    if (strncmp(err, path, strlen(path)) != 0)
        fail_msg("expected an error at %s, got \"%s\"", path, err);
}

static void test_mistakes_name_their_path(void **state) {
    expect_error("channels: {a: {type: log, path: x}}\nroutes: [{to: [a, mial]}]\n",
                 "routes[0].to[1]: no channel \"mial\"");
    expect_error("channels: {a: {type: pager}}\n", "channels.a: type must be");
    expect_error("channels: {a: {type: slack}}\n", "channels.a: needs a url");
    expect_error("channels: {a: {type: slack, url: 'ftp://x'}}\n", "channels.a.url");
    expect_error("channels: {a: {type: email, url: 'smtp://h?tls=maybe', from: a@b}}\n",
                 "channels.a.url");
    expect_error("channels: {a: {type: email, url: 'smtp://h', from: nobody}}\n",
                 "channels.a.from");
    expect_error("channels: {a: {type: email, url: 'smtp://h?tls=off', from: a@b, username: u,"
                 " password: p}}\n",
                 "channels.a.url: ?tls=try or ?tls=off would send the password in clear");
    expect_error("channels: {a: {type: log, path: x, colour: red}}\n",
                 "channels.a: unknown setting \"colour\"");
    expect_error("delivery: {digest: {timezone: Mars/Olympus}}\n", "delivery.digest.timezone");
    expect_error("delivery: {digest: {hour: 24}}\n", "delivery.digest.hour");
    expect_error("delivery: {retry: {base_seconds: 60, max_seconds: 10}}\n", "delivery.retry");
    expect_error(
        "channels: {a: {type: log, path: x}}\nroutes: [{match: {priority: urgent}, to: a}]\n",
        "routes[0].match.priority");
}

static void test_secret_from_environment(void **state) {
    setenv("TEND_TEST_HOOK_SECRET", "from-env", 1);
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load("channels: {w: {type: webhook, url: 'http://127.0.0.1:1/h',"
                          " secret_env: TEND_TEST_HOOK_SECRET}}\n",
                          &c, err),
                     TEND_OK);
    assert_string_equal(c.channels[0].secret, "from-env");
    assert_int_equal(notify_config_ready(&c, err), TEND_OK);
    notify_config_release(&c);
}

/* An unset *_env is no mistake for routing (tend eval), but sending refuses. */
static void test_unset_secret_blocks_only_sending(void **state) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load("channels: {w: {type: webhook, url_env: TEND_NO_SUCH_URL,"
                          " secret_env: TEND_NO_SUCH_VAR}}\n",
                          &c, err),
                     TEND_OK);
    struct notify_target t[NOTIFY_TARGETS_MAX];
    struct notify_subject s = subject("high", "no_login", "x@e.com");
    assert_int_equal(notify_route(&c, &s, t), 1);
    assert_int_equal(notify_config_ready(&c, err), TEND_ERR_INVALID);
    assert_string_equal(err, "channels.w.url_env: the environment variable TEND_NO_SUCH_URL is "
                             "not set");
    notify_config_release(&c);
}

static void test_smtp_tls_policy(void **state) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load("channels:\n"
                          "  a: {type: email, url: 'smtp://h:587', from: a@b}\n"
                          "  b: {type: email, url: 'smtp://h:25?tls=off', from: a@b}\n",
                          &c, err),
                     TEND_OK);
    assert_int_equal(c.channels[0].tls, NOTIFY_TLS_REQUIRED);
    assert_int_equal(c.channels[1].tls, NOTIFY_TLS_OFF);
    assert_string_equal(c.channels[1].url, "smtp://h:25"); /* the query is ours, not curl's */
    notify_config_release(&c);
}

static void test_backoff_is_jittered_and_capped(void **state) {
    struct notify_config c;
    notify_config_default(&c);
    c.retry_base_ms = 1000;
    c.retry_max_ms = 60000;
    for (int f = 1; f <= 12; f++) {
        int64_t cap = 1000LL << (f - 1);
        if (cap > 60000)
            cap = 60000;
        assert_int_equal(notify_backoff_ms(&c, f, 0.0), cap / 2);
        assert_true(notify_backoff_ms(&c, f, 0.999) <= cap);
        assert_true(notify_backoff_ms(&c, f, 0.999) > cap * 9 / 10);
    }
}

static int64_t at(const char *iso) {
    int64_t ms;
    assert_true(dt_parse_instant(iso, strlen(iso), &ms));
    return ms;
}

static void test_digest_hour_in_a_time_zone(void **state) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    assert_int_equal(load("delivery: {digest: {hour: 8, timezone: Europe/Berlin}}\n", &c, err),
                     TEND_OK);
    /* winter: 08:00 in Berlin is 07:00Z */
    assert_int_equal(notify_digest_cutoff_ms(&c, at("2026-11-22T07:30:00Z")),
                     at("2026-11-22T07:00:00Z"));
    assert_int_equal(notify_digest_cutoff_ms(&c, at("2026-11-22T06:59:59Z")),
                     at("2026-11-21T07:00:00Z"));
    /* summer: 06:00Z; and the day the clocks go forward */
    assert_int_equal(notify_digest_cutoff_ms(&c, at("2026-07-01T12:00:00Z")),
                     at("2026-07-01T06:00:00Z"));
    assert_int_equal(notify_digest_cutoff_ms(&c, at("2026-03-29T05:59:00Z")),
                     at("2026-03-28T07:00:00Z"));
    notify_config_release(&c);
    notify_config_default(&c); /* UTC by default */
    assert_int_equal(notify_digest_cutoff_ms(&c, at("2026-11-22T08:00:00Z")),
                     at("2026-11-22T08:00:00Z"));
}

static void test_urgency_is_priority_then_digest_then_backfill(void **state) {
    int order[] = {notify_rank("high", false), notify_rank("medium", false),
                   notify_rank("low", false),  NOTIFY_RANK_DIGEST,
                   notify_rank("high", true),  notify_rank("medium", true),
                   notify_rank("low", true)};
    for (size_t i = 1; i < sizeof order / sizeof order[0]; i++)
        assert_true(order[i - 1] < order[i]);
    assert_int_equal(notify_rank(NULL, false), notify_rank("medium", false));
}

static void test_smtp_data_timeout_setting(void **state) {
    struct notify_config c;
    char err[NOTIFY_ERR_BYTES];
    notify_config_default(&c);
    assert_int_equal(c.data_timeout_ms, 600 * 1000); /* RFC 5321 4.5.3.2.6 */
    assert_int_equal(load("delivery: {smtp_data_timeout_seconds: 30}\n", &c, err), TEND_OK);
    assert_int_equal(c.data_timeout_ms, 30 * 1000);
    notify_config_release(&c);
    assert_int_equal(load("delivery: {smtp_data_timeout_seconds: 0}\n", &c, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "delivery.smtp_data_timeout_seconds"));
}

/* ---- the outbox's side, in a store -------------------------------------------- */

static char dir[256];

static struct store *open_db(void) {
    char path[320], err[STORE_ERR_BYTES];
    snprintf(path, sizeof path, "%s/notify.db", dir);
    struct store *s;
    if (test_db_open(path, &s, err) != TEND_OK)
        fail_msg("store_open: %s", err);
    return s;
}

static void add_row(struct store *s, const char *target, int rank, int64_t next_at) {
    struct store_outbox r = {.channel = "slack",
                             .target = target,
                             .owner = "o@x",
                             .status = "pending",
                             .rank = rank,
                             .next_at_ms = next_at,
                             .created_ms = next_at};
    int64_t id;
    assert_int_equal(store_outbox_add(s, &r, &id), TEND_OK);
}

struct seen {
    int64_t ids[16], ranks[16];
    int n;
    char targets[4][32];
    int n_targets;
};

static void on_row(void *arg, const struct store_outbox *r) {
    struct seen *v = arg;
    v->ids[v->n] = r->id;
    v->ranks[v->n++] = r->rank;
}

static void on_target(void *arg, const char *channel, const char *target, int64_t rank) {
    struct seen *v = arg;
    snprintf(v->targets[v->n_targets++], sizeof v->targets[0], "%s", target);
}

static void test_due_rows_most_urgent_first(void **state) {
    struct store *s = open_db();
    assert_int_equal(store_begin(s, NULL), TEND_OK);
    for (int i = 0; i < 5; i++) /* a backlog of low rows, due long ago */
        add_row(s, "", notify_rank("low", false), 1000 + i);
    add_row(s, "", notify_rank("high", false), 9000);      /* urgent, written last */
    add_row(s, "", notify_rank("high", false), 50000);     /* urgent, not due yet */
    add_row(s, "bob", notify_rank("medium", false), 2000); /* another target */
    assert_int_equal(store_commit(s), TEND_OK);
    struct seen v = {0};
    assert_int_equal(store_outbox_due(s, 10000, "slack", "", 3, on_row, &v), TEND_OK);
    assert_int_equal(v.n, 3);
    assert_int_equal(v.ids[0], 6); /* the high row first, then the low ones by due time */
    assert_int_equal(v.ids[1], 1);
    assert_int_equal(v.ids[2], 2);
    assert_int_equal(store_outbox_due_targets(s, 10000, on_target, &v), TEND_OK);
    assert_int_equal(v.n_targets, 2);
    assert_string_equal(v.targets[0], ""); /* its best row is high */
    assert_string_equal(v.targets[1], "bob");
    int64_t next = 0;
    bool found = false;
    assert_int_equal(store_outbox_next_due(s, 10000, &next, &found), TEND_OK);
    assert_true(found);
    assert_int_equal(next, 50000);
    store_close(s);
}

static int64_t hold_of;
static char hold_reason[64];

static void on_hold(void *arg, const struct store_hold *h) {
    if (strcmp(h->gate, arg) == 0) {
        hold_of = h->not_before_ms;
        snprintf(hold_reason, sizeof hold_reason, "%s", h->reason);
    }
}

static void test_holds_never_shorten_and_outlive_the_connection(void **state) {
    struct store *s = open_db();
    struct store_hold h = {
        .gate = "slack abc", .not_before_ms = 60000, .reason = "HTTP 429", .label = "slack alerts"};
    assert_int_equal(store_outbox_hold_set(s, &h), TEND_OK);
    h.not_before_ms = 20000; /* pacing after it: shorter, ignored */
    h.reason = "pacing";
    assert_int_equal(store_outbox_hold_set(s, &h), TEND_OK);
    store_close(s);
    s = open_db(); /* another process, in effect */
    hold_of = 0;
    assert_int_equal(store_outbox_holds_each(s, 10000, on_hold, "slack abc"), TEND_OK);
    assert_int_equal(hold_of, 60000);
    assert_string_equal(hold_reason, "HTTP 429");
    h.not_before_ms = 90000;
    assert_int_equal(store_outbox_hold_set(s, &h), TEND_OK);
    hold_of = 0;
    assert_int_equal(store_outbox_holds_each(s, 10000, on_hold, "slack abc"), TEND_OK);
    assert_int_equal(hold_of, 90000);
    assert_int_equal(store_outbox_holds_prune(s, 90000), TEND_OK); /* over at 90000 */
    hold_of = 0;
    assert_int_equal(store_outbox_holds_each(s, 0, on_hold, "slack abc"), TEND_OK);
    assert_int_equal(hold_of, 0);
    store_close(s);
}

static int setup(void **state) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-notify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_matching_route_applies),
        cmocka_unit_test(test_immediate_beats_digest_for_one_channel),
        cmocka_unit_test(test_owner_without_address_gets_fallback_or_error),
        cmocka_unit_test(test_without_routes_low_goes_to_digest),
        cmocka_unit_test(test_event_condition),
        cmocka_unit_test(test_mistakes_name_their_path),
        cmocka_unit_test(test_secret_from_environment),
        cmocka_unit_test(test_unset_secret_blocks_only_sending),
        cmocka_unit_test(test_smtp_tls_policy),
        cmocka_unit_test(test_backoff_is_jittered_and_capped),
        cmocka_unit_test(test_digest_hour_in_a_time_zone),
        cmocka_unit_test(test_urgency_is_priority_then_digest_then_backfill),
        cmocka_unit_test(test_smtp_data_timeout_setting),
        cmocka_unit_test(test_due_rows_most_urgent_first),
        cmocka_unit_test(test_holds_never_shorten_and_outlive_the_connection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
