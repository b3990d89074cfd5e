/* fuzz_auth.c: the session, CSRF and API token checks (server/auth.h).
 *
 * The input is what a client controls: a session cookie's value, a NUL byte,
 * a token (the X-CSRF-Token header or form field, and the Bearer token).
 * "@SESSION@" in either stands for a session cookie issued at the start and
 * "@CSRF@" for its CSRF token, so the fuzzer mutates around valid ones.
 * Invariants besides no sanitizer report:
 * - a cookie is accepted only for the user it was issued to, with the MAC it
 *   was issued with (no forgery, no other user), and not once it expired or
 *   its user signed out (a later session epoch);
 * - the sign-in form's token is accepted only for its pre-session cookie;
 * - a CSRF token is accepted only when it is exactly the session's token;
 * - an API token is accepted only when it is exactly the configured one. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/auth.h"
#include "server/config.h"
#include "util/yaml.h"

#define NOW_MS    1767225600000LL /* 2026-01-01T00:00:00Z */
#define API_TOKEN "fuzz-api-token-0123456789"
#define EPOCH     1 /* the session epoch the cookie is issued at */

static struct serve_config conf;
static struct auth *auth;
static char *session; /* issued at NOW_MS to the first user */
static char csrf[AUTH_CSRF_BYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    if (sodium_init() < 0)
        abort();
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, "secret", 6, crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN))
        abort();
    unsigned char sum[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sum, (const unsigned char *)API_TOKEN, strlen(API_TOKEN));
    char hex[2 * sizeof sum + 1];
    sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
    setenv("TEND_FUZZ_SESSION_KEY", "fuzz-session-key-of-at-least-32-characters", 1);
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "users:\n"
             "  - {email: csm@example.com, name: CSM, password_hash: \"%s\"}\n"
             "  - {email: other@example.com, password_hash: \"%s\"}\n"
             "tokens:\n"
             "  - {name: fuzz, sha256: %s}\n"
             "session_key_env: TEND_FUZZ_SESSION_KEY\n",
             hash, hash, hex);
    cJSON *root;
    char err[SERVE_ERR_BYTES > YAML_ERR_BYTES ? SERVE_ERR_BYTES : YAML_ERR_BYTES];
    serve_config_default(&conf);
    if (yaml_load_string(yaml, strlen(yaml), "fuzz", &root, err) ||
        serve_config_load(root, &conf, err) || auth_new(&conf, fuzz_path("key"), &auth, err))
        fuzz_fail("setting up: %s", err);
    cJSON_Delete(root);
    session = auth_session_new(auth, &conf.users[0], EPOCH, NOW_MS);
    auth_csrf(auth, session, csrf);
    return 0;
}

/* The part after the last '.' of a cookie. */
static const char *mac_of(const char *cookie) {
    const char *dot = strrchr(cookie, '.');
    return dot ? dot + 1 : "";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096)
        return 0;
    char *a, *b;
    fuzz_split(data, size, &a, &b);
    char *a1 = fuzz_replace(a, "@SESSION@", session), *b1 = fuzz_replace(b, "@SESSION@", session);
    char *cookie = fuzz_replace(a1, "@CSRF@", csrf), *token = fuzz_replace(b1, "@CSRF@", csrf);

    const struct serve_user *claimed = auth_session_claim(auth, cookie, NOW_MS);
    const struct serve_user *u = auth_session_user(auth, cookie, EPOCH, NOW_MS);
    if (u) {
        if (u != &conf.users[0] || strcmp(mac_of(cookie), mac_of(session)) != 0)
            fuzz_fail("a cookie not issued was accepted for %s: \"%s\"", u->email, cookie);
        if (claimed != u)
            fuzz_fail("an accepted cookie claims another user: \"%s\"", cookie);
        int64_t later = NOW_MS + (auth_session_seconds(auth) + 1) * 1000;
        if (auth_session_user(auth, cookie, EPOCH, later))
            fuzz_fail("an expired cookie was accepted: \"%s\"", cookie);
        if (auth_session_user(auth, cookie, EPOCH + 1, NOW_MS))
            fuzz_fail("a cookie of a signed-out epoch was accepted: \"%s\"", cookie);
    }
    char login_want[AUTH_CSRF_BYTES];
    if (auth_login_cookie_ok(cookie)) {
        auth_login_csrf(auth, cookie, login_want);
        if (auth_login_csrf_ok(auth, cookie, token) && strcmp(token, login_want) != 0)
            fuzz_fail("the sign-in token \"%s\" was accepted for \"%s\"", token, cookie);
    } else if (auth_login_csrf_ok(auth, cookie, token)) {
        fuzz_fail("a sign-in token was accepted for a malformed cookie \"%s\"", cookie);
    }
    char want[AUTH_CSRF_BYTES];
    auth_csrf(auth, cookie, want);
    if (strlen(want) != AUTH_CSRF_BYTES - 1)
        fuzz_fail("a CSRF token of %zu characters", strlen(want));
    if (auth_csrf_ok(auth, cookie, token) && strcmp(token, want) != 0)
        fuzz_fail("the CSRF token \"%s\" was accepted for \"%s\"", token, cookie);
    if (auth_csrf_ok(auth, NULL, token))
        fuzz_fail("a CSRF token was accepted without a session");
    const struct serve_token *t = auth_token(auth, token);
    if (t && strcmp(token, API_TOKEN) != 0)
        fuzz_fail("the API token \"%s\" was accepted", token);
    auth_token(auth, cookie);

    free(a), free(b), free(a1), free(b1), free(cookie), free(token);
    return 0;
}
