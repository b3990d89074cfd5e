/* test_verify.c: unit tests of ingest/verify, the one webhook signature
 * check for Stripe, Zendesk, HubSpot v3 and Slack (docs/connectors.md,
 * "Signatures").
 *
 * Expected signatures come from outside tend's C: tests/data/hooks/vectors.py
 * computes them with Python's hmac module (its output, verify_vectors.h, is
 * committed), and Slack's published example is checked as Slack printed it.
 * Every refusal is checked for its result and that its message names the
 * header. The clock is injected (NOW_MS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "../data/hooks/verify_vectors.h"
#include "ingest/verify.h"

static const char *const both[] = {SECRET_1, SECRET_2};
static const char *const only_1[] = {SECRET_1};
static const char *const wrong[] = {"whsec_not_the_secret"};

static char msg[VERIFY_MSG_BYTES];

/* Runs verify_check with the default tolerance; returns the result and
 * leaves the message in msg and the secret index in *idx. */
static enum verify_result run(enum verify_provider p, const unsigned char *body, size_t body_len,
                              const struct verify_header *h, size_t n_h, const char *uri,
                              const char *const *secrets, size_t n_secrets, size_t *idx) {
    struct verify_request req = {body, body_len, h, n_h, "POST", uri};
    size_t dummy = 99;
    return verify_check(p, &req, secrets, n_secrets, NOW_MS, 0, idx != NULL ? idx : &dummy, msg,
                        sizeof msg);
}

#define UB(s) ((const unsigned char *)(s))

/* ---- Stripe ---- */

static enum verify_result stripe(const char *header, const char *body, size_t body_len,
                                 const char *const *secrets, size_t n, size_t *idx) {
    struct verify_header h[] = {{"Content-Type", "application/json"}, {"stripe-signature", header}};
    return run(VERIFY_STRIPE, UB(body), body_len, h, 2, NULL, secrets, n, idx);
}

static void stripe_accepts_python_vector_and_reports_the_secret(void **state) {
    (void)state;
    char hdr[512];
    size_t idx = 99;
    snprintf(hdr, sizeof hdr, "t=%lld,v1=%s", STRIPE_T, STRIPE_SIG_1);
    assert_int_equal(stripe(hdr, STRIPE_BODY, STRIPE_BODY_LEN, both, 2, &idx), VERIFY_OK);
    assert_int_equal(idx, 0);
    /* rotation: signed with the second secret, v0 ignored, several v1 */
    snprintf(hdr, sizeof hdr, "t=%lld,v1=%s,v1=%s,v0=deadbeef", STRIPE_T,
             "0000000000000000000000000000000000000000000000000000000000000000", STRIPE_SIG_2);
    assert_int_equal(stripe(hdr, STRIPE_BODY, STRIPE_BODY_LEN, both, 2, &idx), VERIFY_OK);
    assert_int_equal(idx, 1);
    /* only the first secret configured: the second's signature fails */
    idx = 99;
    assert_int_equal(stripe(hdr, STRIPE_BODY, STRIPE_BODY_LEN, only_1, 1, &idx),
                     VERIFY_BAD_SIGNATURE);
    assert_int_equal(idx, 99);
    assert_non_null(strstr(msg, "Stripe-Signature"));
}

static void stripe_refuses_wrong_secret_and_changed_body(void **state) {
    (void)state;
    char hdr[512];
    snprintf(hdr, sizeof hdr, "t=%lld,v1=%s", STRIPE_T, STRIPE_SIG_1);
    assert_int_equal(stripe(hdr, STRIPE_BODY, STRIPE_BODY_LEN, wrong, 1, NULL),
                     VERIFY_BAD_SIGNATURE);
    char body[] = STRIPE_BODY;
    for (size_t i = 0; i < STRIPE_BODY_LEN; i += 7) {
        body[i] ^= 1;
        assert_int_equal(stripe(hdr, body, STRIPE_BODY_LEN, both, 2, NULL), VERIFY_BAD_SIGNATURE);
        body[i] ^= 1;
    }
    assert_int_equal(stripe(hdr, body, STRIPE_BODY_LEN - 1, both, 2, NULL), VERIFY_BAD_SIGNATURE);
    /* the signed t is part of the MAC: a moved t with the same v1 fails */
    snprintf(hdr, sizeof hdr, "t=%lld,v1=%s", STRIPE_T + 1, STRIPE_SIG_1);
    assert_int_equal(stripe(hdr, STRIPE_BODY, STRIPE_BODY_LEN, both, 2, NULL),
                     VERIFY_BAD_SIGNATURE);
}

static void stripe_refuses_a_replay_past_the_tolerance(void **state) {
    (void)state;
    char hdr[512];
    /* a genuine signature, 301 s old */
    snprintf(hdr, sizeof hdr, "t=%lld,v1=%s", STRIPE_T_OLD, STRIPE_SIG_OLD);
    assert_int_equal(stripe(hdr, STRIPE_BODY, STRIPE_BODY_LEN, both, 2, NULL),
                     VERIFY_STALE_TIMESTAMP);
    assert_non_null(strstr(msg, "301 s old"));
    /* accepted by a wider tolerance, so the refusal was the clock's */
    struct verify_header h[] = {{"Stripe-Signature", hdr}};
    struct verify_request req = {UB(STRIPE_BODY), STRIPE_BODY_LEN, h, 1, "POST", NULL};
    assert_int_equal(
        verify_check(VERIFY_STRIPE, &req, both, 2, NOW_MS, 400000, NULL, msg, sizeof msg),
        VERIFY_OK);
    /* the same request replayed an hour after it verified */
    snprintf(hdr, sizeof hdr, "t=%lld,v1=%s", STRIPE_T, STRIPE_SIG_1);
    assert_int_equal(verify_check(VERIFY_STRIPE, &req, both, 2, NOW_MS, 0, NULL, msg, sizeof msg),
                     VERIFY_OK);
    assert_int_equal(
        verify_check(VERIFY_STRIPE, &req, both, 2, NOW_MS + 3600000, 0, NULL, msg, sizeof msg),
        VERIFY_STALE_TIMESTAMP);
}

static void stripe_refuses_malformed_and_missing_headers(void **state) {
    (void)state;
    char hdr[512];
    static const char *const bad[] = {
        "v1=6f72e096cc7e12d7d7be4aaa2f6bf0530b61acafa58f078efaa0011233ec2901", /* no t */
        "t=1796687990",                                                        /* no v1 */
        "t=1796687990,v1=6f72e096cc7e12d7d7be4aaa2f6bf0530b61acafa58f078efaa0011233ec29",
        "t=1796687990,v1=6f72e096cc7e12d7d7be4aaa2f6bf0530b61acafa58f078efaa0011233ec290g",
        "t=17966x7990,v1=6f72e096cc7e12d7d7be4aaa2f6bf0530b61acafa58f078efaa0011233ec2901",
        "t=,v1=6f72e096cc7e12d7d7be4aaa2f6bf0530b61acafa58f078efaa0011233ec2901",
        "garbage",
        "t=1,t=1796687990,v1=6f72e096cc7e12d7d7be4aaa2f6bf0530b61acafa58f078efaa0011233ec2901",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(stripe(bad[i], STRIPE_BODY, STRIPE_BODY_LEN, both, 2, NULL),
                         VERIFY_MALFORMED_HEADER);
        assert_non_null(strstr(msg, "Stripe-Signature"));
    }
    /* truncated by one character */
    snprintf(hdr, sizeof hdr, "t=%lld,v1=%s", STRIPE_T, STRIPE_SIG_1);
    hdr[strlen(hdr) - 1] = '\0';
    assert_int_equal(stripe(hdr, STRIPE_BODY, STRIPE_BODY_LEN, both, 2, NULL),
                     VERIFY_MALFORMED_HEADER);
    /* over the cap: refused without being read past it (no NUL inside) */
    char *big = malloc(VERIFY_MAX_HEADER_BYTES + 2);
    memset(big, 'a', VERIFY_MAX_HEADER_BYTES + 1);
    big[VERIFY_MAX_HEADER_BYTES + 1] = '\0';
    assert_int_equal(stripe(big, STRIPE_BODY, STRIPE_BODY_LEN, both, 2, NULL),
                     VERIFY_MALFORMED_HEADER);
    assert_non_null(strstr(msg, "longer than 1024 bytes"));
    free(big);
    /* missing */
    struct verify_header h[] = {{"Content-Type", "application/json"}};
    assert_int_equal(
        run(VERIFY_STRIPE, UB(STRIPE_BODY), STRIPE_BODY_LEN, h, 1, NULL, both, 2, NULL),
        VERIFY_MISSING_HEADER);
    assert_string_equal(msg, "Stripe-Signature: missing");
    /* sent twice */
    snprintf(hdr, sizeof hdr, "t=%lld,v1=%s", STRIPE_T, STRIPE_SIG_1);
    struct verify_header twice[] = {{"Stripe-Signature", hdr}, {"STRIPE-SIGNATURE", hdr}};
    assert_int_equal(
        run(VERIFY_STRIPE, UB(STRIPE_BODY), STRIPE_BODY_LEN, twice, 2, NULL, both, 2, NULL),
        VERIFY_MALFORMED_HEADER);
}

/* ---- Zendesk ---- */

static enum verify_result zendesk(const char *sig, const char *ts, const char *body,
                                  size_t body_len, const char *const *secrets, size_t n,
                                  size_t *idx) {
    struct verify_header h[2];
    size_t n_h = 0;
    if (sig != NULL)
        h[n_h++] = (struct verify_header){"X-Zendesk-Webhook-Signature", sig};
    if (ts != NULL)
        h[n_h++] = (struct verify_header){"x-zendesk-webhook-signature-timestamp", ts};
    return run(VERIFY_ZENDESK, UB(body), body_len, h, n_h, NULL, secrets, n, idx);
}

static void zendesk_accepts_python_vector_with_nul_in_body(void **state) {
    (void)state;
    size_t idx = 99;
    assert_int_equal(
        zendesk(ZENDESK_SIG_1, ZENDESK_TS, ZENDESK_BODY, ZENDESK_BODY_LEN, both, 2, &idx),
        VERIFY_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(
        zendesk(ZENDESK_SIG_2, ZENDESK_TS, ZENDESK_BODY, ZENDESK_BODY_LEN, both, 2, &idx),
        VERIFY_OK);
    assert_int_equal(idx, 1);
    /* the bytes after the NUL are signed too */
    char body[] = ZENDESK_BODY;
    body[ZENDESK_BODY_LEN - 3] = 'c';
    assert_int_equal(zendesk(ZENDESK_SIG_1, ZENDESK_TS, body, ZENDESK_BODY_LEN, both, 2, NULL),
                     VERIFY_BAD_SIGNATURE);
}

static void zendesk_refuses_bad_input(void **state) {
    (void)state;
    assert_int_equal(
        zendesk(ZENDESK_SIG_1, ZENDESK_TS, ZENDESK_BODY, ZENDESK_BODY_LEN, wrong, 1, NULL),
        VERIFY_BAD_SIGNATURE);
    /* the timestamp header is signed: another time with the same signature */
    assert_int_equal(zendesk(ZENDESK_SIG_1, "2026-12-07T23:59:41Z", ZENDESK_BODY, ZENDESK_BODY_LEN,
                             both, 2, NULL),
                     VERIFY_BAD_SIGNATURE);
    /* genuinely signed, but 400 s in the future */
    assert_int_equal(zendesk(ZENDESK_SIG_FUTURE, ZENDESK_TS_FUTURE, ZENDESK_BODY, ZENDESK_BODY_LEN,
                             both, 2, NULL),
                     VERIFY_STALE_TIMESTAMP);
    assert_non_null(strstr(msg, "400 s in the future"));
    assert_int_equal(zendesk(NULL, ZENDESK_TS, ZENDESK_BODY, ZENDESK_BODY_LEN, both, 2, NULL),
                     VERIFY_MISSING_HEADER);
    assert_int_equal(zendesk(ZENDESK_SIG_1, NULL, ZENDESK_BODY, ZENDESK_BODY_LEN, both, 2, NULL),
                     VERIFY_MISSING_HEADER);
    assert_string_equal(msg, "X-Zendesk-Webhook-Signature-Timestamp: missing");
    char cut[] = ZENDESK_SIG_1;
    cut[ZENDESK_SIG_1_LEN - 2] = '\0';
    assert_int_equal(zendesk(cut, ZENDESK_TS, ZENDESK_BODY, ZENDESK_BODY_LEN, both, 2, NULL),
                     VERIFY_MALFORMED_HEADER);
    assert_int_equal(
        zendesk(ZENDESK_SIG_1, "yesterday", ZENDESK_BODY, ZENDESK_BODY_LEN, both, 2, NULL),
        VERIFY_MALFORMED_HEADER);
}

/* ---- HubSpot v3 ---- */

static enum verify_result hubspot(const char *sig, const char *ts, const char *uri,
                                  const char *body, size_t body_len, int64_t now_ms, size_t *idx) {
    struct verify_header h[] = {{"X-HubSpot-Signature-v3", sig},
                                {"X-HubSpot-Request-Timestamp", ts}};
    struct verify_request req = {UB(body), body_len, h, 2, "POST", uri};
    return verify_check(VERIFY_HUBSPOT, &req, both, 2, now_ms, 0, idx, msg, sizeof msg);
}

static void hubspot_accepts_python_vector_with_decoded_uri(void **state) {
    (void)state;
    char ts[32];
    size_t idx = 99;
    snprintf(ts, sizeof ts, "%lld", HUBSPOT_TS);
    assert_int_equal(
        hubspot(HUBSPOT_SIG_1, ts, HUBSPOT_URI, HUBSPOT_BODY, HUBSPOT_BODY_LEN, NOW_MS, &idx),
        VERIFY_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(
        hubspot(HUBSPOT_SIG_2, ts, HUBSPOT_URI, HUBSPOT_BODY, HUBSPOT_BODY_LEN, NOW_MS, &idx),
        VERIFY_OK);
    assert_int_equal(idx, 1);
    /* signed over the undecoded URI: HubSpot never does that */
    assert_int_equal(
        hubspot(HUBSPOT_SIG_RAW_URI, ts, HUBSPOT_URI, HUBSPOT_BODY, HUBSPOT_BODY_LEN, NOW_MS, NULL),
        VERIFY_BAD_SIGNATURE);
    /* the method is signed */
    struct verify_header h[] = {{"X-HubSpot-Signature-v3", HUBSPOT_SIG_1},
                                {"X-HubSpot-Request-Timestamp", ts}};
    struct verify_request req = {UB(HUBSPOT_BODY), HUBSPOT_BODY_LEN, h, 2, "GET", HUBSPOT_URI};
    assert_int_equal(verify_check(VERIFY_HUBSPOT, &req, both, 2, NOW_MS, 0, NULL, msg, sizeof msg),
                     VERIFY_BAD_SIGNATURE);
    /* the URI is signed */
    assert_int_equal(hubspot(HUBSPOT_SIG_1, ts, "https://tend.example.com/hooks/hubspot",
                             HUBSPOT_BODY, HUBSPOT_BODY_LEN, NOW_MS, NULL),
                     VERIFY_BAD_SIGNATURE);
}

static void hubspot_refuses_after_five_minutes_and_bad_headers(void **state) {
    (void)state;
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", HUBSPOT_TS);
    /* replay: 5 min 1 s after signing, refused; exactly 5 min, accepted */
    assert_int_equal(hubspot(HUBSPOT_SIG_1, ts, HUBSPOT_URI, HUBSPOT_BODY, HUBSPOT_BODY_LEN,
                             HUBSPOT_TS + 301000, NULL),
                     VERIFY_STALE_TIMESTAMP);
    assert_non_null(strstr(msg, "X-HubSpot-Request-Timestamp"));
    assert_int_equal(hubspot(HUBSPOT_SIG_1, ts, HUBSPOT_URI, HUBSPOT_BODY, HUBSPOT_BODY_LEN,
                             HUBSPOT_TS + 300000, NULL),
                     VERIFY_OK);
    /* a timestamp in seconds instead of ms reads as 56 years old */
    assert_int_equal(hubspot(HUBSPOT_SIG_1, "1796687985", HUBSPOT_URI, HUBSPOT_BODY,
                             HUBSPOT_BODY_LEN, NOW_MS, NULL),
                     VERIFY_STALE_TIMESTAMP);
    assert_int_equal(
        hubspot(HUBSPOT_SIG_1, "-1", HUBSPOT_URI, HUBSPOT_BODY, HUBSPOT_BODY_LEN, NOW_MS, NULL),
        VERIFY_MALFORMED_HEADER);
    assert_int_equal(
        hubspot("not base64!", ts, HUBSPOT_URI, HUBSPOT_BODY, HUBSPOT_BODY_LEN, NOW_MS, NULL),
        VERIFY_MALFORMED_HEADER);
    char body[] = HUBSPOT_BODY;
    body[HUBSPOT_BODY_LEN - 4] = '3';
    assert_int_equal(hubspot(HUBSPOT_SIG_1, ts, HUBSPOT_URI, body, HUBSPOT_BODY_LEN, NOW_MS, NULL),
                     VERIFY_BAD_SIGNATURE);
    /* a URI over the cap is malformed */
    char *uri = malloc(VERIFY_MAX_URI_BYTES + 2);
    memset(uri, 'u', VERIFY_MAX_URI_BYTES + 1);
    uri[VERIFY_MAX_URI_BYTES + 1] = '\0';
    assert_int_equal(hubspot(HUBSPOT_SIG_1, ts, uri, HUBSPOT_BODY, HUBSPOT_BODY_LEN, NOW_MS, NULL),
                     VERIFY_MALFORMED_HEADER);
    free(uri);
}

/* ---- Slack ---- */

/* Slack's own example, as printed in "Verifying requests from Slack"
 * (https://api.slack.com/authentication/verifying-requests-from-slack):
 * signing secret, timestamp, slash-command body and the signature Slack
 * shows for them. Credited to Slack; used only as a test vector. */
#define SLACK_DOC_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define SLACK_DOC_TS     "1531420618"
#define SLACK_DOC_BODY                                                                             \
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="         \
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"     \
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"             \
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."               \
    "803a0bc887a14d10d2c447fce8b6703c"
#define SLACK_DOC_SIG "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

static void slack_accepts_its_published_example(void **state) {
    (void)state;
    static const char *const secrets[] = {"an_old_secret", SLACK_DOC_SECRET};
    struct verify_header h[] = {{"X-Slack-Request-Timestamp", SLACK_DOC_TS},
                                {"X-Slack-Signature", SLACK_DOC_SIG}};
    struct verify_request req = {UB(SLACK_DOC_BODY), strlen(SLACK_DOC_BODY), h, 2, "POST", NULL};
    size_t idx = 99;
    int64_t then_ms = 1531420618000LL + 60000;
    assert_int_equal(
        verify_check(VERIFY_SLACK, &req, secrets, 2, then_ms, 0, &idx, msg, sizeof msg), VERIFY_OK);
    assert_int_equal(idx, 1);
    /* the same request today is a replay */
    assert_int_equal(verify_check(VERIFY_SLACK, &req, secrets, 2, NOW_MS, 0, &idx, msg, sizeof msg),
                     VERIFY_STALE_TIMESTAMP);
}

static enum verify_result slack(const char *sig, const char *ts, const char *body, size_t body_len,
                                const char *const *secrets, size_t n, size_t *idx) {
    struct verify_header h[2];
    size_t n_h = 0;
    if (sig != NULL)
        h[n_h++] = (struct verify_header){"x-slack-signature", sig};
    if (ts != NULL)
        h[n_h++] = (struct verify_header){"X-Slack-Request-Timestamp", ts};
    return run(VERIFY_SLACK, UB(body), body_len, h, n_h, NULL, secrets, n, idx);
}

static void slack_accepts_python_vector_and_refuses_the_rest(void **state) {
    (void)state;
    char ts[32], old[32], future[32];
    size_t idx = 99;
    snprintf(ts, sizeof ts, "%lld", SLACK_TS);
    assert_int_equal(slack(SLACK_SIG_2, ts, SLACK_BODY, SLACK_BODY_LEN, both, 2, &idx), VERIFY_OK);
    assert_int_equal(idx, 1);
    assert_int_equal(slack(SLACK_SIG_1, ts, SLACK_BODY, SLACK_BODY_LEN, wrong, 1, NULL),
                     VERIFY_BAD_SIGNATURE);
    assert_int_equal(slack(SLACK_SIG_1, ts, SLACK_BODY, SLACK_BODY_LEN - 1, both, 2, NULL),
                     VERIFY_BAD_SIGNATURE);
    snprintf(old, sizeof old, "%lld", NOW_MS / 1000 - 301);
    snprintf(future, sizeof future, "%lld", NOW_MS / 1000 + 301);
    assert_int_equal(slack(SLACK_SIG_1, old, SLACK_BODY, SLACK_BODY_LEN, both, 2, NULL),
                     VERIFY_STALE_TIMESTAMP);
    assert_int_equal(slack(SLACK_SIG_1, future, SLACK_BODY, SLACK_BODY_LEN, both, 2, NULL),
                     VERIFY_STALE_TIMESTAMP);
    assert_int_equal(slack(SLACK_SIG_1 + 3, ts, SLACK_BODY, SLACK_BODY_LEN, both, 2, NULL),
                     VERIFY_MALFORMED_HEADER);
    assert_string_equal(msg, "X-Slack-Signature: not v0= and 64 hex digits");
    char cut[] = SLACK_SIG_1;
    cut[SLACK_SIG_1_LEN - 1] = '\0';
    assert_int_equal(slack(cut, ts, SLACK_BODY, SLACK_BODY_LEN, both, 2, NULL),
                     VERIFY_MALFORMED_HEADER);
    assert_int_equal(slack(NULL, ts, SLACK_BODY, SLACK_BODY_LEN, both, 2, NULL),
                     VERIFY_MISSING_HEADER);
    assert_int_equal(slack(SLACK_SIG_1, NULL, SLACK_BODY, SLACK_BODY_LEN, both, 2, NULL),
                     VERIFY_MISSING_HEADER);
    assert_int_equal(slack(SLACK_SIG_1, "12e9", SLACK_BODY, SLACK_BODY_LEN, both, 2, NULL),
                     VERIFY_MALFORMED_HEADER);
}

/* An empty secret (a blank line in a config) is skipped, not used as an
 * empty HMAC key that anyone could sign with. */
static void an_empty_secret_never_verifies(void **state) {
    (void)state;
    static const char *const empty[] = {"", NULL};
    char ts[32];
    unsigned char key_sig[32];
    char hex[65], hdr[80];
    snprintf(ts, sizeof ts, "%lld", SLACK_TS);
    /* a request signed with the empty key */
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"", 0);
    crypto_auth_hmacsha256_update(&st, UB("v0:"), 3);
    crypto_auth_hmacsha256_update(&st, UB(ts), strlen(ts));
    crypto_auth_hmacsha256_update(&st, UB(":"), 1);
    crypto_auth_hmacsha256_update(&st, UB(SLACK_BODY), SLACK_BODY_LEN);
    crypto_auth_hmacsha256_final(&st, key_sig);
    sodium_bin2hex(hex, sizeof hex, key_sig, sizeof key_sig);
    snprintf(hdr, sizeof hdr, "v0=%s", hex);
    assert_int_equal(slack(hdr, ts, SLACK_BODY, SLACK_BODY_LEN, empty, 2, NULL),
                     VERIFY_BAD_SIGNATURE);
    assert_int_equal(slack(SLACK_SIG_1, ts, SLACK_BODY, SLACK_BODY_LEN, empty, 0, NULL),
                     VERIFY_BAD_SIGNATURE);
}

static void a_provider_never_accepts_another_providers_header(void **state) {
    (void)state;
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", SLACK_TS);
    struct verify_header h[] = {{"X-Slack-Signature", SLACK_SIG_1},
                                {"X-Slack-Request-Timestamp", ts}};
    for (int p = VERIFY_STRIPE; p <= VERIFY_HUBSPOT; p++)
        assert_int_equal(
            run((enum verify_provider)p, UB(SLACK_BODY), SLACK_BODY_LEN, h, 2, "/", both, 2, NULL),
            VERIFY_MISSING_HEADER);
    assert_string_equal(verify_result_name(VERIFY_STALE_TIMESTAMP), "stale timestamp");
    assert_string_equal(verify_provider_name(VERIFY_HUBSPOT), "hubspot");
}

int main(void) {
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stripe_accepts_python_vector_and_reports_the_secret),
        cmocka_unit_test(stripe_refuses_wrong_secret_and_changed_body),
        cmocka_unit_test(stripe_refuses_a_replay_past_the_tolerance),
        cmocka_unit_test(stripe_refuses_malformed_and_missing_headers),
        cmocka_unit_test(zendesk_accepts_python_vector_with_nul_in_body),
        cmocka_unit_test(zendesk_refuses_bad_input),
        cmocka_unit_test(hubspot_accepts_python_vector_with_decoded_uri),
        cmocka_unit_test(hubspot_refuses_after_five_minutes_and_bad_headers),
        cmocka_unit_test(slack_accepts_its_published_example),
        cmocka_unit_test(slack_accepts_python_vector_and_refuses_the_rest),
        cmocka_unit_test(an_empty_secret_never_verifies),
        cmocka_unit_test(a_provider_never_accepts_another_providers_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
