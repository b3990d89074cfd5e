/* test_serve.c: tend serve's pure parts: the serve: section of tend.yaml
 * (mistakes named by their path), sign-in (argon2id, the lockout), session
 * cookies (forged, expired, a changed password), CSRF and API tokens
 * (server/auth.h), and the scheduler's daily instant in a time zone with
 * daylight saving (server/sched.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "server/auth.h"
#include "server/config.h"
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

static void test_defaults_and_settings(void **state) {
    struct serve_config c;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(load("other: 1\n", &c, err), TEND_OK);
    assert_int_equal(c.daily_minute, 6 * 60);
    assert_int_equal(c.session_hours, 12);
    assert_null(c.timezone);
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
        {"serve: {write_keys_env: [TEST_UNSET_VAR]}\n",
         "serve.write_keys_env: the environment variable TEST_UNSET_VAR is not set"},
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

static void test_login_and_lockout(void **state) {
    struct serve_config c;
    config_with_user(&c);
    struct auth *a;
    char err[SERVE_ERR_BYTES];
    assert_int_equal(auth_new(&c, "/nonexistent/key", &a, err), TEND_OK);
    int64_t now = at("2026-11-22T10:00:00Z");
    const struct serve_user *u = NULL;
    /* The email is matched without regard to case. */
    assert_int_equal(auth_login(a, "ana@example.com", "correct horse", now, &u), AUTH_OK);
    assert_string_equal(u->email, "Ana@Example.com");
    assert_int_equal(auth_login(a, "nobody@example.com", "correct horse", now, &u), AUTH_BAD);
    assert_int_equal(auth_login(a, "ana@example.com", NULL, now, &u), AUTH_BAD);
    /* Five failures (the missing password above was the first) lock the email
     * for 15 minutes, even for the right password. */
    for (int i = 0; i < AUTH_MAX_FAILURES - 2; i++)
        assert_int_equal(auth_login(a, "ana@example.com", "wrong", now + i, &u), AUTH_BAD);
    assert_int_equal(auth_login(a, "ANA@example.com", "wrong", now + 10, &u), AUTH_BAD);
    assert_int_equal(auth_login(a, "ana@example.com", "correct horse", now + 20, &u), AUTH_LOCKED);
    assert_int_equal(auth_login(a, "ana@example.com", "correct horse", now + AUTH_LOCK_MS - 1, &u),
                     AUTH_LOCKED);
    assert_int_equal(auth_login(a, "ana@example.com", "correct horse", now + AUTH_LOCK_MS + 1, &u),
                     AUTH_OK);
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
    char *cookie = auth_session_new(a, &c.users[0], now);
    assert_ptr_equal(auth_session_user(a, cookie, now), &c.users[0]);
    assert_ptr_equal(auth_session_user(a, cookie, now + 11 * 3600 * 1000LL), &c.users[0]);
    assert_null(auth_session_user(a, cookie, now + 12 * 3600 * 1000LL + 1000)); /* expired */
    /* Any changed byte is refused: the user, the expiry, the MAC. */
    for (size_t i = 0; i < strlen(cookie); i++) {
        char *forged = strdup(cookie);
        forged[i] = forged[i] == 'A' ? 'B' : 'A';
        if (strcmp(forged, cookie) != 0)
            assert_null(auth_session_user(a, forged, now));
        free(forged);
    }
    assert_null(auth_session_user(a, "", now));
    assert_null(auth_session_user(a, NULL, now));
    /* CSRF: bound to the session. */
    char csrf[AUTH_CSRF_BYTES];
    auth_csrf(a, cookie, csrf);
    assert_true(auth_csrf_ok(a, cookie, csrf));
    assert_false(auth_csrf_ok(a, cookie, "00000000000000000000000000000000"));
    assert_false(auth_csrf_ok(a, cookie, NULL));
    char *other = auth_session_new(a, &c.users[0], now + 1000);
    assert_false(auth_csrf_ok(a, other, csrf));
    /* A changed password ends the session. */
    char *old = c.users[0].hash;
    char fresh[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_str(fresh, "new one!", 8, crypto_pwhash_OPSLIMIT_MIN,
                                       crypto_pwhash_MEMLIMIT_MIN),
                     0);
    c.users[0].hash = fresh;
    assert_null(auth_session_user(a, cookie, now));
    c.users[0].hash = old;
    /* Another server key refuses it too. */
    struct serve_config c2;
    config_with_user(&c2);
    free(c2.session_key);
    c2.session_key = strdup("another key, at least thirty-two characters");
    struct auth *a2;
    assert_int_equal(auth_new(&c2, "/nonexistent/key", &a2, err), TEND_OK);
    assert_null(auth_session_user(a2, cookie, now));
    auth_free(a2);
    serve_config_release(&c2);
    free(cookie);
    free(other);
    auth_free(a);
    serve_config_release(&c);
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
    char *cookie = auth_session_new(a, &u, at("2026-11-22T10:00:00Z"));
    assert_ptr_equal(auth_session_user(b, cookie, at("2026-11-22T10:00:00Z")), &u);
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
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_session_key_file),
        cmocka_unit_test(test_daily_instant),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
