/* test_serve.c: tend serve's pure parts: the serve: section of tend.yaml
 * (mistakes named by their path), sign-in (argon2id, the lockout table with
 * a fixed slot per user, the per-address rate limit), session cookies
 * (forged, expired, a changed password, signed out by a new epoch), CSRF of
 * sessions and of the sign-in form, API tokens (server/auth.h), the local
 * path grammar of redirects (server/html.h), and the scheduler's daily
 * instant in a time zone with daylight saving (server/sched.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sodium.h>

#include "server/auth.h"
#include "server/config.h"
#include "server/html.h"
#include "server/lockout.h"
#include "server/ratelimit.h"
#include "server/sched.h"
#include "util/datetime.h"
#include "util/yaml.h"

static int64_t at(const char *iso) {
    int64_t ms;
    assert_true(dt_parse_instant(iso, strlen(iso), &ms));
    return ms;
}

static enum tend_err load(const char *text, struct serve_config *c, char *err) {
    cJSON *root;
    char yerr[YAML_ERR_BYTES];
    assert_int_equal(yaml_load_string(text, strlen(text), "t.yaml", &root, yerr), TEND_OK);
    enum tend_err e = serve_config_load(cJSON_GetObjectItemCaseSensitive(root, "serve"), c, err);
    cJSON_Delete(root);
    return e;
}

static char hash[crypto_pwhash_STRBYTES];

static int setup(void **state) {
    assert_true(sodium_init() >= 0);
    assert_int_equal(crypto_pwhash_str(hash, "correct horse", 13, crypto_pwhash_OPSLIMIT_MIN,
                                       crypto_pwhash_MEMLIMIT_MIN),
                     0);
    return 0;
}

/* A config with one user (the hash above) and one token, "tok-1". */
static void config_with_user(struct serve_config *c) {
    char text[1024];
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof h + 1];
    crypto_hash_sha256(h, (const unsigned char *)"tok-1", 5);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(text, sizeof text,
             "serve:\n  session_key_env: TEST_SESSION_KEY\n  users:\n"
             "    - {email: Ana@Example.com, name: Ana, password_hash: '%s'}\n"
             "  tokens:\n    - {name: ci, sha256: '%s'}\n",
             hash, hex);
    setenv("TEST_SESSION_KEY", "0123456789abcdef0123456789abcdef-test", 1);
    char err[SERVE_ERR_BYTES];
    assert_int_equal(load(text, c, err), TEND_OK);
}

#define TOKEN_HEX "0000000000000000000000000000000000000000000000000000000000000000"

static void test_defaults_and_settings(void **state) {
    struct serve_config c;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(load("other: 1\n", &c, err), TEND_OK);
    assert_int_equal(c.daily_minute, 6 * 60);
    assert_int_equal(c.session_hours, 12);
    assert_int_equal(c.sign_in_per_minute, SERVE_SIGN_IN_PER_MINUTE);
    assert_null(c.timezone);
    serve_config_release(&c);
    assert_int_equal(load("serve: {sign_in_per_minute: 0}\n", &c, err), TEND_OK);
    assert_int_equal(c.sign_in_per_minute, 0);
    serve_config_release(&c);
    setenv("TEST_WK", "from-env", 1);
    assert_int_equal(
        load("serve:\n  listen: '0.0.0.0:9000'\n  timezone: America/New_York\n"
             "  daily_at: '07:30'\n  write_keys: [a, b]\n  write_keys_env: [TEST_WK]\n",
             &c, err),
        TEND_OK);
    assert_string_equal(c.listen, "0.0.0.0:9000");
    assert_string_equal(c.timezone, "America/New_York");
    assert_int_equal(c.daily_minute, 7 * 60 + 30);
    assert_int_equal(c.n_write_keys, 3);
    assert_string_equal(c.write_keys[2], "from-env");
    serve_config_release(&c);
    /* Roles and scopes: without them, what a user and a token could do
     * before roles existed (lead, act); csm_reads all; no sso. */
    assert_int_equal(load("serve:\n  csm_reads: own_book\n  users:\n"
                          "    - {email: a@b.c, password_hash: '$argon2id$x', role: csm}\n"
                          "    - {email: d@b.c, password_hash: '$argon2id$x'}\n  tokens:\n"
                          "    - {name: t1, sha256: '" TOKEN_HEX "', scope: ingest}\n"
                          "    - {name: t2, sha256: '" TOKEN_HEX "'}\n",
                          &c, err),
                     TEND_OK);
    assert_int_equal(c.users[0].role, PERM_ROLE_CSM);
    assert_int_equal(c.users[1].role, PERM_ROLE_LEAD);
    assert_int_equal(c.tokens[0].scope, PERM_SCOPE_INGEST);
    assert_int_equal(c.tokens[1].scope, PERM_SCOPE_ACT);
    assert_true(c.csm_own_book_only);
    assert_null(c.sso);
    serve_config_release(&c);
    setenv("TEST_SSO_SECRET", "s3cret", 1);
    assert_int_equal(load("serve:\n  sso:\n    issuer: https://idp.example\n    client_id: tend\n"
                          "    client_secret_env: TEST_SSO_SECRET\n"
                          "    redirect_url: https://tend.example/sso/callback\n"
                          "    default_role: viewer\n",
                          &c, err),
                     TEND_OK);
    assert_non_null(c.sso);
    assert_string_equal(c.sso->client_secret, "s3cret");
    assert_true(c.sso->has_default_role);
    assert_int_equal(c.sso->default_role, PERM_ROLE_VIEWER);
    assert_false(c.csm_own_book_only);
    serve_config_release(&c);
}

static void test_mistakes_name_their_path(void **state) {
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"serve: {colour: red}\n", "serve: unknown setting \"colour\""},
        {"serve: {timezone: Mars/Olympus}\n",
         "serve.timezone: \"Mars/Olympus\" is not a time zone"},
        {"serve: {daily_at: '25:00'}\n", "serve.daily_at: must be a time"},
        {"serve: {daily_at: 6}\n", "serve.daily_at: must be a time"},
        {"serve: {users: [{email: a@b.c, password_hash: plain}]}\n",
         "serve.users[0]: password_hash: must be an argon2id hash"},
        {"serve: {users: [{email: nobody, password_hash: x}]}\n",
         "serve.users[0]: email: must be an email address"},
        {"serve: {users: [{email: a@b.c}]}\n", "serve.users[0]: needs password_hash"},
        {"serve: {users: [{email: a@b.c, password_hash_env: TEST_UNSET_VAR}]}\n",
         "serve.users[0]: password_hash_env: the environment variable TEST_UNSET_VAR is not set"},
        {"serve: {tokens: [{name: ci, sha256: abc}]}\n",
         "serve.tokens[0]: sha256: must be 64 hex digits"},
        {"serve: {session_hours: 0}\n", "serve.session_hours: must be a number from 1"},
        {"serve: {sign_in_per_minute: -1}\n",
         "serve.sign_in_per_minute: must be a number from 0 to 100000"},
        {"serve: {write_keys_env: [TEST_UNSET_VAR]}\n",
         "serve.write_keys_env: the environment variable TEST_UNSET_VAR is not set"},
        /* roles, scopes, csm_reads and single sign-on (docs/config.md) */
        {"serve: {users: [{email: a@b.c, password_hash: x, role: owner}]}\n",
         "serve.users[0]: role: \"owner\" is not a role (admin, lead, csm or viewer)"},
        {"serve: {tokens: [{name: ci, sha256: x, scope: write}]}\n",
         "serve.tokens[0]: scope: \"write\" is not a scope (ingest, read, act or admin)"},
        {"serve: {csm_reads: mine}\n", "serve.csm_reads: must be all"},
        {"serve: {sso: {issuer: 'http://idp.example', client_id: c, client_secret: s, "
         "redirect_url: 'https://t.example/sso/callback'}}\n",
         "serve.sso: issuer: must be the provider's https:// URL"},
        {"serve: {sso: {issuer: 'https://idp.example', client_id: c, client_secret: s, "
         "redirect_url: 'https://t.example/callback'}}\n",
         "serve.sso: redirect_url: must be tend's own URL ending in /sso/callback"},
        {"serve: {sso: {issuer: 'https://idp.example', client_id: c, "
         "redirect_url: 'https://t.example/sso/callback'}}\n",
         "serve.sso: needs client_secret"},
        {"serve: {sso: {issuer: 'https://idp.example', client_id: c, client_secret: s, "
         "redirect_url: 'https://t.example/sso/callback', default_role: boss}}\n",
         "serve.sso: default_role: \"boss\" is not a role"},
    };
    unsetenv("TEST_UNSET_VAR");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct serve_config c;
        char err[SERVE_ERR_BYTES] = "";
        assert_int_equal(load(cases[i].yaml, &c, err), TEND_ERR_INVALID);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("%s: got \"%s\", want \"%s\"", cases[i].yaml, err, cases[i].want);
    }
}

/* A sign-in attempt from 127.0.0.1 (or the address given). */
static enum auth_result try_login(struct auth *a, const char *email, const char *password,
                                  int64_t now, const char *from, const struct serve_user **u) {
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, from ? from : "127.0.0.1", &sin.sin_addr);
    struct auth_attempt t = {
        .email = email, .password = password, .from = (const struct sockaddr *)&sin, .now_ms = now};
    int retry_s = 0;
    enum auth_result r = auth_login(a, &t, u, &retry_s);
    if (r != AUTH_OK && r != AUTH_BAD)
        assert_true(retry_s >= 1);
    return r;
}

static void test_login_and_lockout(void **state) {
    struct serve_config c;
    config_with_user(&c);
    struct auth *a;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(auth_new(&c, "/nonexistent/key", &a, err), TEND_OK);
    int64_t now = at("2026-11-22T10:00:00Z");
    const struct serve_user *u = NULL;
    /* The email is matched without regard to case. */
    assert_int_equal(try_login(a, "ana@example.com", "correct horse", now, NULL, &u), AUTH_OK);
    assert_string_equal(u->email, "Ana@Example.com");
    assert_int_equal(try_login(a, "nobody@example.com", "correct horse", now, NULL, &u), AUTH_BAD);
    assert_int_equal(try_login(a, "ana@example.com", NULL, now, NULL, &u), AUTH_BAD);
    /* Five failures (the missing password above was the first) lock the email
     * for 15 minutes, even for the right password. */
    for (int i = 0; i < AUTH_MAX_FAILURES - 2; i++)
        assert_int_equal(try_login(a, "ana@example.com", "wrong", now + i, NULL, &u), AUTH_BAD);
    assert_int_equal(try_login(a, "ANA@example.com", "wrong", now + 10, NULL, &u), AUTH_BAD);
    assert_int_equal(try_login(a, "ana@example.com", "correct horse", now + 20, NULL, &u),
                     AUTH_LOCKED);
    assert_int_equal(
        try_login(a, "ana@example.com", "correct horse", now + AUTH_LOCK_MS - 1, "10.0.0.1", &u),
        AUTH_LOCKED);
    assert_int_equal(
        try_login(a, "ana@example.com", "correct horse", now + AUTH_LOCK_MS + 1, "10.0.0.1", &u),
        AUTH_OK);
    /* An unknown email locks the same way. */
    for (int i = 0; i < AUTH_MAX_FAILURES; i++)
        assert_int_equal(try_login(a, "Ghost@example.com", "x", now, "10.0.0.2", &u), AUTH_BAD);
    assert_int_equal(try_login(a, "ghost@example.com", "x", now, "10.0.0.2", &u), AUTH_LOCKED);
    auth_free(a);
    serve_config_release(&c);
}

/* The lock of a configured user is not evicted by failures for other emails,
 * however many (before: a shared table of 1,024 slots was). */
/* serve.users' slack_user_id (docs/slack.md) and disabled: read, checked,
 * and a disabled user cannot sign in (as an unknown email). */
static void test_slack_user_id_and_disabled(void **state) {
    char text[2048], err[SERVE_ERR_BYTES];
    snprintf(text, sizeof text,
             "serve:\n  session_key_env: TEST_SESSION_KEY\n  users:\n"
             "    - {email: ana@x.io, password_hash: '%s', slack_user_id: U012AB3CD}\n"
             "    - {email: off@x.io, password_hash: '%s', disabled: true}\n",
             hash, hash);
    struct serve_config c;
    setenv("TEST_SESSION_KEY", "0123456789abcdef0123456789abcdef-test", 1);
    assert_int_equal(load(text, &c, err), TEND_OK);
    assert_string_equal(c.users[0].slack_user_id, "U012AB3CD");
    assert_false(c.users[0].disabled);
    assert_null(c.users[1].slack_user_id);
    assert_true(c.users[1].disabled);
    struct auth *a;
    assert_int_equal(auth_new(&c, "/nonexistent/key", &a, err), TEND_OK);
    const struct serve_user *u = NULL;
    int64_t now = at("2026-11-22T10:00:00Z");
    assert_int_equal(try_login(a, "ana@x.io", "correct horse", now, NULL, &u), AUTH_OK);
    assert_int_equal(try_login(a, "off@x.io", "correct horse", now, NULL, &u), AUTH_BAD);
    auth_free(a);
    serve_config_release(&c);
    static const char *const bad[][2] = {
        {"slack_user_id: u012", "slack_user_id: must be a Slack member id"},
        {"slack_user_id: 'U1 x'", "slack_user_id: must be a Slack member id"},
        {"disabled: 1", "disabled: must be true or false"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "serve: {users: [{email: a@x.io, password_hash: '%s', %s}]}\n",
                 hash, bad[i][0]);
        assert_int_equal(load(text, &c, err), TEND_ERR_INVALID);
        if (!strstr(err, bad[i][1]) || !strstr(err, "serve.users[0]"))
            fail_msg("got \"%s\", want \"%s\"", err, bad[i][1]);
    }
    snprintf(text, sizeof text,
             "serve: {users: [{email: a@x.io, password_hash: '%s', slack_user_id: U1},"
             " {email: b@x.io, password_hash: '%s', slack_user_id: U1}]}\n",
             hash, hash);
    assert_int_equal(load(text, &c, err), TEND_ERR_INVALID);
    assert_non_null(strstr(err, "serve.users[1]: slack_user_id: U1 is given to a@x.io already"));
}

static void test_user_lock_survives_a_flood(void **state) {
    struct serve_config c;
    config_with_user(&c);
    c.sign_in_per_minute = 0; /* not the limit under test */
    struct auth *a;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(auth_new(&c, "/nonexistent/key", &a, err), TEND_OK);
    int64_t now = at("2026-11-22T10:00:00Z");
    const struct serve_user *u = NULL;
    for (int i = 0; i < AUTH_MAX_FAILURES; i++)
        assert_int_equal(try_login(a, "ana@example.com", "wrong", now, NULL, &u), AUTH_BAD);
    for (int i = 0; i < 1100; i++) {
        char email[64];
        snprintf(email, sizeof email, "flood%d@example.com", i);
        /* 1,100 in a minute: within AUTH_HASHES_PER_SECOND over that time. */
        assert_int_equal(try_login(a, email, "x", now + 1 + i * 60, NULL, &u), AUTH_BAD);
    }
    assert_int_equal(try_login(a, "ana@example.com", "correct horse", now + 70000, NULL, &u),
                     AUTH_LOCKED);
    auth_free(a);
    serve_config_release(&c);
}

/* The table itself: a user's slot is never evicted; unknown emails are
 * bounded, and a full table drops the expired, then the oldest unlocked. */
static void test_lockout_table(void **state) {
    struct lockout *l = lockout_new(2, 4);
    int64_t now = 1000000;
    struct lockout_key user = {.user = 1}, other = {.user = -1}, locked_unknown = {.user = -1};
    memset(locked_unknown.digest, 0xAA, LOCKOUT_DIGEST_BYTES);
    for (int i = 0; i < LOCKOUT_MAX_FAILURES; i++) {
        assert_false(lockout_locked(l, &user, now, NULL));
        lockout_fail(l, &user, now);
        lockout_fail(l, &locked_unknown, now);
    }
    int64_t until = 0;
    assert_true(lockout_locked(l, &user, now + 1, &until));
    assert_int_equal(until, now + LOCKOUT_MS);
    assert_true(lockout_locked(l, &locked_unknown, now + 1, NULL));
    for (int i = 0; i < 1100; i++) {
        memset(other.digest, 0, LOCKOUT_DIGEST_BYTES);
        memcpy(other.digest, &i, sizeof i);
        lockout_fail(l, &other, now + 2 + i);
        assert_true(lockout_unknown_count(l) <= 4);
    }
    assert_true(lockout_locked(l, &user, now + 2000, NULL));
    /* The locked unknown email outlived the unlocked ones too. */
    assert_true(lockout_locked(l, &locked_unknown, now + 2000, NULL));
    /* A lock ends LOCKOUT_MS after the first failure; a success forgets. */
    assert_false(lockout_locked(l, &user, now + LOCKOUT_MS, NULL));
    lockout_fail(l, &user, now + LOCKOUT_MS);
    lockout_clear(l, &user);
    for (int i = 0; i < LOCKOUT_MAX_FAILURES - 1; i++)
        lockout_fail(l, &user, now + LOCKOUT_MS + 1);
    assert_false(lockout_locked(l, &user, now + LOCKOUT_MS + 2, NULL));
    /* An index out of range is ignored, not written. */
    struct lockout_key bad = {.user = 7};
    lockout_fail(l, &bad, now);
    assert_false(lockout_locked(l, &bad, now, NULL));
    lockout_free(l);
}

static void key_of(const char *addr, unsigned char key[RATELIMIT_KEY_BYTES]) {
    struct sockaddr_storage ss = {0};
    if (strchr(addr, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, addr, &in->sin_addr), 1);
    }
    ratelimit_key((struct sockaddr *)&ss, key);
}

static void test_rate_limit_per_address(void **state) {
    struct ratelimit *r = ratelimit_new(6, 4, 0); /* 6 a minute: one per 10 s */
    unsigned char a[RATELIMIT_KEY_BYTES], b[RATELIMIT_KEY_BYTES];
    key_of("127.0.0.2", a);
    key_of("127.0.0.3", b);
    int64_t now = 5000000, retry = 0;
    for (int i = 0; i < 6; i++)
        assert_true(ratelimit_take(r, a, now, &retry));
    assert_false(ratelimit_take(r, a, now, &retry));
    assert_int_equal(retry, 10000);
    assert_true(ratelimit_take(r, b, now, &retry)); /* another address */
    assert_false(ratelimit_take(r, a, now + 9999, &retry));
    assert_int_equal(retry, 1);
    assert_true(ratelimit_take(r, a, now + 10000, &retry));
    assert_false(ratelimit_take(r, a, now + 10000, &retry));
    ratelimit_give_back(r, a); /* the attempt was not used */
    assert_true(ratelimit_take(r, a, now + 10000, &retry));
    /* The table stays bounded whatever the number of addresses. */
    for (int i = 0; i < 100; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 250, i % 250);
        unsigned char k[RATELIMIT_KEY_BYTES];
        key_of(ip, k);
        assert_true(ratelimit_take(r, k, now + 10000, NULL));
        assert_true(ratelimit_keys(r) <= 4);
    }
    ratelimit_free(r);
    /* IPv6 by /64; IPv4-mapped as IPv4. */
    unsigned char x[RATELIMIT_KEY_BYTES], y[RATELIMIT_KEY_BYTES];
    key_of("2001:db8:1:2::1", x);
    key_of("2001:db8:1:2:ffff::9", y);
    assert_memory_equal(x, y, RATELIMIT_KEY_BYTES);
    key_of("2001:db8:1:3::1", y);
    assert_memory_not_equal(x, y, RATELIMIT_KEY_BYTES);
    key_of("::ffff:127.0.0.2", x);
    assert_memory_equal(x, a, RATELIMIT_KEY_BYTES);
    /* The overall bucket. */
    r = ratelimit_new(0, 4, 3);
    for (int i = 0; i < 3; i++)
        assert_true(ratelimit_take(r, a, now, NULL));
    assert_false(ratelimit_take(r, b, now, &retry));
    assert_int_equal(retry, 334);
    assert_true(ratelimit_take(r, b, now + 334, NULL));
    ratelimit_free(r);
}

/* serve.sign_in_per_minute holds in auth_login: the attempt after the
 * burst is AUTH_LIMITED, another address is not. */
static void test_login_rate_limit(void **state) {
    struct serve_config c;
    config_with_user(&c);
    c.sign_in_per_minute = 3;
    struct auth *a;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(auth_new(&c, "/nonexistent/key", &a, err), TEND_OK);
    int64_t now = at("2026-11-22T10:00:00Z");
    const struct serve_user *u = NULL;
    for (int i = 0; i < 3; i++)
        assert_int_equal(try_login(a, "x@example.com", "wrong", now, "127.0.0.2", &u), AUTH_BAD);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
    struct auth_attempt t = {.email = "ana@example.com",
                             .password = "correct horse",
                             .from = (const struct sockaddr *)&sin,
                             .now_ms = now};
    int retry_s = 0;
    assert_int_equal(auth_login(a, &t, &u, &retry_s), AUTH_LIMITED);
    assert_int_equal(retry_s, 20);
    assert_int_equal(try_login(a, "ana@example.com", "correct horse", now, "127.0.0.3", &u),
                     AUTH_OK);
    t.now_ms = now + 20000;
    assert_int_equal(auth_login(a, &t, &u, &retry_s), AUTH_OK);
    auth_free(a);
    serve_config_release(&c);
}

static void test_sessions(void **state) {
    struct serve_config c;
    config_with_user(&c);
    struct auth *a;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(auth_new(&c, "/nonexistent/key", &a, err), TEND_OK);
    int64_t now = at("2026-11-22T10:00:00Z");
    char *cookie = auth_session_new(a, &c.users[0], 0, now);
    assert_ptr_equal(auth_session_user(a, cookie, 0, now), &c.users[0]);
    assert_ptr_equal(auth_session_user(a, cookie, 0, now + 11 * 3600 * 1000LL), &c.users[0]);
    assert_null(auth_session_user(a, cookie, 0, now + 12 * 3600 * 1000LL + 1000)); /* expired */
    assert_null(auth_session_claim(a, cookie, now + 12 * 3600 * 1000LL + 1000));
    /* Any changed byte is refused: the user, the expiry, the MAC. */
    for (size_t i = 0; i < strlen(cookie); i++) {
        char *forged = strdup(cookie);
        forged[i] = forged[i] == 'A' ? 'B' : 'A';
        if (strcmp(forged, cookie) != 0)
            assert_null(auth_session_user(a, forged, 0, now));
        free(forged);
    }
    assert_null(auth_session_user(a, "", 0, now));
    assert_null(auth_session_user(a, NULL, 0, now));
    assert_null(auth_session_claim(a, NULL, now));
    /* CSRF: bound to the session. */
    char csrf[AUTH_CSRF_BYTES];
    auth_csrf(a, cookie, csrf);
    assert_true(auth_csrf_ok(a, cookie, csrf));
    assert_false(auth_csrf_ok(a, cookie, "00000000000000000000000000000000"));
    assert_false(auth_csrf_ok(a, cookie, NULL));
    char *other = auth_session_new(a, &c.users[0], 0, now + 1000);
    assert_false(auth_csrf_ok(a, other, csrf));
    /* A changed password ends the session. */
    char *old = c.users[0].hash;
    char fresh[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_str(fresh, "new one!", 8, crypto_pwhash_OPSLIMIT_MIN,
                                       crypto_pwhash_MEMLIMIT_MIN),
                     0);
    c.users[0].hash = fresh;
    assert_null(auth_session_user(a, cookie, 0, now));
    c.users[0].hash = old;
    /* Another server key refuses it too. */
    struct serve_config c2;
    config_with_user(&c2);
    free(c2.session_key);
    c2.session_key = strdup("another key, at least thirty-two characters");
    struct auth *a2;
    assert_int_equal(auth_new(&c2, "/nonexistent/key", &a2, err), TEND_OK);
    assert_null(auth_session_user(a2, cookie, 0, now));
    auth_free(a2);
    serve_config_release(&c2);
    free(cookie);
    free(other);
    auth_free(a);
    serve_config_release(&c);
}

/* The session epoch is part of the MAC: a cookie of epoch 0 is refused once
 * the user signed out (epoch 1), though it still names the user. */
static void test_session_epoch(void **state) {
    struct serve_config c;
    config_with_user(&c);
    struct auth *a;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(auth_new(&c, "/nonexistent/key", &a, err), TEND_OK);
    int64_t now = at("2026-11-22T10:00:00Z");
    char *before = auth_session_new(a, &c.users[0], 0, now);
    char *after = auth_session_new(a, &c.users[0], 1, now);
    assert_ptr_equal(auth_session_claim(a, before, now), &c.users[0]);
    assert_ptr_equal(auth_session_user(a, before, 0, now), &c.users[0]);
    assert_null(auth_session_user(a, before, 1, now));
    assert_ptr_equal(auth_session_user(a, after, 1, now), &c.users[0]);
    assert_null(auth_session_user(a, after, 0, now));
    assert_null(auth_session_user(a, after, 2, now));
    free(before);
    free(after);
    auth_free(a);
    serve_config_release(&c);
}

/* The sign-in form's token is bound to its pre-session cookie, and is not a
 * session's CSRF token for the same value. */
static void test_login_csrf(void **state) {
    struct serve_config c;
    config_with_user(&c);
    struct auth *a;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(auth_new(&c, "/nonexistent/key", &a, err), TEND_OK);
    char pre[AUTH_LOGIN_COOKIE_BYTES], pre2[AUTH_LOGIN_COOKIE_BYTES];
    auth_login_cookie_new(pre);
    auth_login_cookie_new(pre2);
    assert_true(auth_login_cookie_ok(pre));
    assert_string_not_equal(pre, pre2);
    char token[AUTH_CSRF_BYTES], session_token[AUTH_CSRF_BYTES];
    auth_login_csrf(a, pre, token);
    assert_true(auth_login_csrf_ok(a, pre, token));
    assert_false(auth_login_csrf_ok(a, pre2, token));
    assert_false(auth_login_csrf_ok(a, pre, NULL));
    assert_false(auth_login_csrf_ok(a, NULL, token));
    assert_false(auth_login_csrf_ok(a, pre, ""));
    auth_csrf(a, pre, session_token);
    assert_string_not_equal(token, session_token);
    assert_false(auth_login_csrf_ok(a, pre, session_token));
    /* Only 32 lowercase hex digits are a pre-session cookie. */
    assert_false(auth_login_cookie_ok("0123456789ABCDEF0123456789abcdef"));
    assert_false(auth_login_cookie_ok("0123456789abcdef0123456789abcde"));
    assert_false(auth_login_cookie_ok("0123456789abcdef0123456789abcdef0"));
    assert_false(auth_login_cookie_ok(""));
    assert_false(auth_login_cookie_ok(NULL));
    auth_free(a);
    serve_config_release(&c);
}

/* Redirect targets: only a strict local path grammar passes. */
static void test_local_path_grammar(void **state) {
    static const char *const good[] = {
        "/",
        "/accounts",
        "/ctas?owner=all&status=closed",
        "/accounts/we%2Fird%20%26id?tab=a",
        "/a-b.c_d~e!f$g&h'i(j)k*l+m,n;o=p:q@r/s?t/u?v",
    };
    static const char *const bad[] = {
        "",
        "accounts",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "/\t\\evil.example/",
        "/\n/evil.example/",
        "/\r\n/evil.example/",
        "/ /evil.example/",
        "/a\\b",
        "/a//b",
        "/ctas?back=//evil",
        "/a b",
        "/a\x7f",
        "/\xc3\xa9",
        "/a#frag",
        "/a\"b",
        "/a<b>",
        "/%",
        "/%2",
        "/%zz",
        "https://evil.example/",
        "javascript:alert(1)",
    };
    assert_false(html_local_path(NULL));
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!html_local_path(good[i]))
            fail_msg("refused a local path: \"%s\"", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (html_local_path(bad[i]))
            fail_msg("accepted: \"%s\"", bad[i]);
    char long_path[HTML_LOCAL_PATH_MAX + 2];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[HTML_LOCAL_PATH_MAX] = '\0';
    assert_true(html_local_path(long_path));
    long_path[HTML_LOCAL_PATH_MAX] = 'a';
    long_path[HTML_LOCAL_PATH_MAX + 1] = '\0';
    assert_false(html_local_path(long_path));
}

static void test_tokens(void **state) {
    struct serve_config c;
    config_with_user(&c);
    struct auth *a;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(auth_new(&c, "/nonexistent/key", &a, err), TEND_OK);
    const struct serve_token *t = auth_token(a, "tok-1");
    assert_non_null(t);
    assert_string_equal(t->name, "ci");
    assert_null(auth_token(a, "tok-2"));
    assert_null(auth_token(a, ""));
    assert_null(auth_token(a, NULL));
    auth_free(a);
    serve_config_release(&c);
}

static void test_session_key_file(void **state) {
    struct serve_config c;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(load("serve: {}\n", &c, err), TEND_OK);
    char path[] = "/tmp/tend-test-key-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    struct auth *a, *b;
    assert_int_equal(auth_new(&c, path, &a, err), TEND_OK); /* made */
    assert_int_equal(auth_new(&c, path, &b, err), TEND_OK); /* read back */
    struct serve_user u = {.email = "x@y.z", .name = "x", .hash = hash};
    c.users = &u;
    c.n_users = 1;
    char *cookie = auth_session_new(a, &u, 0, at("2026-11-22T10:00:00Z"));
    assert_ptr_equal(auth_session_user(b, cookie, 0, at("2026-11-22T10:00:00Z")), &u);
    free(cookie);
    c.users = NULL;
    c.n_users = 0;
    auth_free(a);
    auth_free(b);
    /* A broken key file is an error that names it. */
    FILE *f = fopen(path, "w");
    fputs("short", f);
    fclose(f);
    assert_int_equal(auth_new(&c, path, &a, err), TEND_ERR_IO);
    assert_non_null(strstr(err, path));
    unlink(path);
    serve_config_release(&c);
}

static void test_daily_instant(void **state) {
    /* UTC. */
    assert_int_equal(sched_last_due(at("2026-11-22T10:00:00Z"), NULL, 6 * 60),
                     at("2026-11-22T06:00:00Z"));
    assert_int_equal(sched_next_due(at("2026-11-22T10:00:00Z"), NULL, 6 * 60),
                     at("2026-11-23T06:00:00Z"));
    assert_int_equal(sched_last_due(at("2026-11-22T05:59:59Z"), NULL, 6 * 60),
                     at("2026-11-21T06:00:00Z"));
    assert_int_equal(sched_next_due(at("2026-11-22T06:00:00Z"), NULL, 6 * 60),
                     at("2026-11-23T06:00:00Z"));
    /* Berlin: 06:00 is 05:00Z in winter, 04:00Z in summer, across both changes. */
    const char *tz = "Europe/Berlin";
    assert_int_equal(sched_last_due(at("2026-11-22T10:00:00Z"), tz, 6 * 60),
                     at("2026-11-22T05:00:00Z"));
    assert_int_equal(sched_next_due(at("2026-03-28T12:00:00Z"), tz, 6 * 60),
                     at("2026-03-29T04:00:00Z"));
    assert_int_equal(sched_next_due(at("2026-10-24T12:00:00Z"), tz, 6 * 60),
                     at("2026-10-25T05:00:00Z"));
    /* A local time after midnight UTC's date: 23:30 in New York is 04:30Z the next day. */
    assert_int_equal(sched_last_due(at("2026-11-23T05:00:00Z"), "America/New_York", 23 * 60 + 30),
                     at("2026-11-23T04:30:00Z"));
    assert_int_equal(sched_last_due(at("2026-11-23T04:00:00Z"), "America/New_York", 23 * 60 + 30),
                     at("2026-11-22T04:30:00Z"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_settings),
        cmocka_unit_test(test_mistakes_name_their_path),
        cmocka_unit_test(test_login_and_lockout),
        cmocka_unit_test(test_slack_user_id_and_disabled),
        cmocka_unit_test(test_user_lock_survives_a_flood),
        cmocka_unit_test(test_lockout_table),
        cmocka_unit_test(test_rate_limit_per_address),
        cmocka_unit_test(test_login_rate_limit),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_session_epoch),
        cmocka_unit_test(test_login_csrf),
        cmocka_unit_test(test_local_path_grammar),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_session_key_file),
        cmocka_unit_test(test_daily_instant),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
