/* test_oidc.c: an ID token's checks (server/oidc.h) with tokens signed here
 * by a fresh RSA key: a good token passes; a changed payload or signature,
 * another key under the same kid, "alg": "none", HS256 keyed with the
 * public key's bytes, a kid the key set lacks, the wrong issuer, audience
 * or azp, an expired token, one issued in the future, the wrong nonce, no
 * email and an unverified email are refused with words naming the reason;
 * PKCE's S256 challenge is RFC 7636's example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "server/oidc.h"

#define NOW 1800000000LL

static EVP_PKEY *key_a, *key_b;
static char jwks[8192];

static void b64u(const unsigned char *d, size_t n, char *out, size_t size) {
    sodium_bin2base64(out, size, d, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void bn_b64u(EVP_PKEY *k, const char *name, char *out, size_t size) {
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
    unsigned char buf[1024];
    int n = BN_bn2bin(bn, buf);
    b64u(buf, (size_t)n, out, size);
    BN_free(bn);
}

/* A JWT of header and claims (JSON texts) signed by k (NULL: no signature;
 * hmac_key: HS256 with those bytes). */
static char *jwt(const char *header, const char *claims, EVP_PKEY *k, const char *hmac_key) {
    char h[2048], c[4096], sig[1024] = "";
    b64u((const unsigned char *)header, strlen(header), h, sizeof h);
    b64u((const unsigned char *)claims, strlen(claims), c, sizeof c);
    char *signing = malloc(strlen(h) + strlen(c) + 2);
    sprintf(signing, "%s.%s", h, c);
    unsigned char raw[512];
    size_t n = sizeof raw;
    if (k) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
        assert_int_equal(
            EVP_DigestSign(md, raw, &n, (const unsigned char *)signing, strlen(signing)), 1);
        EVP_MD_CTX_free(md);
        b64u(raw, n, sig, sizeof sig);
    } else if (hmac_key) {
        unsigned int len = 0;
        HMAC(EVP_sha256(), hmac_key, (int)strlen(hmac_key), (const unsigned char *)signing,
             strlen(signing), raw, &len);
        b64u(raw, len, sig, sizeof sig);
    }
    char *out = malloc(strlen(signing) + strlen(sig) + 2);
    sprintf(out, "%s.%s", signing, sig);
    free(signing);
    return out;
}

static const char *good_header = "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}";

static char *claims(const char *iss, const char *aud, long long exp, const char *nonce,
                    const char *extra) {
    static char c[2048];
    snprintf(c, sizeof c,
             "{\"iss\":\"%s\",\"sub\":\"s1\",\"aud\":%s,\"exp\":%lld,\"iat\":%lld,\"nonce\":\"%s\","
             "\"email\":\"ann@example.com\",\"name\":\"Ann\"%s}",
             iss, aud, exp, (long long)NOW - 10, nonce, extra ? extra : "");
    return c;
}

static const struct oidc_expect want = {
    .issuer = "https://idp.example", .client_id = "tend", .nonce = "n0nce", .now_s = NOW};

static enum tend_err check(const char *token, char *err) {
    struct oidc_claims cl;
    return oidc_verify_id_token(token, jwks, &want, &cl, err, 300);
}

static void refused(const char *token, const char *words) {
    char err[300] = "";
    enum tend_err e = check(token, err);
    if (e == TEND_OK || !strstr(err, words))
        fail_msg("want a refusal naming \"%s\", got %d \"%s\"", words, e, err);
}

static int setup(void **state) {
    (void)state;
    if (sodium_init() < 0)
        return -1;
    key_a = EVP_RSA_gen(2048);
    key_b = EVP_RSA_gen(2048);
    char n[1024], e[64];
    bn_b64u(key_a, OSSL_PKEY_PARAM_RSA_N, n, sizeof n);
    bn_b64u(key_a, OSSL_PKEY_PARAM_RSA_E, e, sizeof e);
    snprintf(jwks, sizeof jwks,
             "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"k1\","
             "\"n\":\"%s\",\"e\":\"%s\"}]}",
             n, e);
    return key_a && key_b ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    return 0;
}

static void a_good_token_passes(void **state) {
    (void)state;
    char *t = jwt(good_header, claims("https://idp.example", "\"tend\"", NOW + 300, "n0nce", NULL),
                  key_a, NULL);
    struct oidc_claims cl;
    char err[300] = "";
    assert_int_equal(oidc_verify_id_token(t, jwks, &want, &cl, err, sizeof err), TEND_OK);
    assert_string_equal(cl.email, "ann@example.com");
    assert_string_equal(cl.sub, "s1");
    assert_string_equal(cl.name, "Ann");
    free(t);
    /* aud as an array with tend alone; several with azp tend. */
    t = jwt(good_header, claims("https://idp.example", "[\"tend\"]", NOW + 300, "n0nce", NULL),
            key_a, NULL);
    assert_int_equal(check(t, err), TEND_OK);
    free(t);
    t = jwt(good_header,
            claims("https://idp.example", "[\"other\",\"tend\"]", NOW + 300, "n0nce",
                   ",\"azp\":\"tend\""),
            key_a, NULL);
    assert_int_equal(check(t, err), TEND_OK);
    free(t);
    /* Within the leeway of a slow clock. */
    t = jwt(good_header, claims("https://idp.example", "\"tend\"", NOW - 30, "n0nce", NULL), key_a,
            NULL);
    assert_int_equal(check(t, err), TEND_OK);
    free(t);
}

static void forged_and_tampered_tokens_are_refused(void **state) {
    (void)state;
    const char *good = claims("https://idp.example", "\"tend\"", NOW + 300, "n0nce", NULL);
    char *t = jwt(good_header, good, key_b, NULL); /* another key, the same kid */
    refused(t, "signature");
    free(t);
    t = jwt(good_header, good, key_a, NULL);
    char *dot = strchr(t, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A'; /* a changed claim */
    char err[300];
    assert_int_not_equal(check(t, err), TEND_OK);
    size_t len = strlen(t);
    t[len - 5] = t[len - 5] == 'A' ? 'B' : 'A'; /* and a changed signature */
    assert_int_not_equal(check(t, err), TEND_OK);
    free(t);
    t = jwt("{\"alg\":\"none\",\"kid\":\"k1\"}", good, NULL, NULL);
    refused(t, "RS256");
    free(t);
    /* HS256 with the public key's text as the secret: the classic confusion. */
    t = jwt("{\"alg\":\"HS256\",\"kid\":\"k1\"}", good, NULL, jwks);
    refused(t, "RS256");
    free(t);
    t = jwt("{\"alg\":\"RS256\",\"kid\":\"k9\"}", good, key_a, NULL);
    assert_int_equal(check(t, err), TEND_ERR_NOTFOUND);
    free(t);
    refused("a.b", "three parts");
    refused("not base64!.x.y", "base64url");
    char *big = malloc(OIDC_MAX_TOKEN_BYTES + 2);
    memset(big, 'a', OIDC_MAX_TOKEN_BYTES + 1);
    big[OIDC_MAX_TOKEN_BYTES + 1] = '\0';
    refused(big, "bytes");
    free(big);
}

static void claims_are_checked(void **state) {
    (void)state;
    struct {
        const char *iss, *aud;
        long long exp;
        const char *nonce, *extra, *words;
    } cases[] = {
        {"https://evil.example", "\"tend\"", NOW + 300, "n0nce", NULL, "issuer"},
        {"https://idp.example", "\"other\"", NOW + 300, "n0nce", NULL, "client"},
        {"https://idp.example", "[\"other\",\"tend\"]", NOW + 300, "n0nce", NULL, "client"},
        {"https://idp.example", "\"tend\"", NOW - 61, "n0nce", NULL, "expired"},
        {"https://idp.example", "\"tend\"", NOW + 300, "other", NULL, "nonce"},
        {"https://idp.example", "\"tend\"", NOW + 300, "n0nc", NULL, "nonce"},
        {"https://idp.example", "\"tend\"", NOW + 300, "n0nce", ",\"email_verified\":false",
         "not verified"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t =
            jwt(good_header,
                claims(cases[i].iss, cases[i].aud, cases[i].exp, cases[i].nonce, cases[i].extra),
                key_a, NULL);
        refused(t, cases[i].words);
        free(t);
    }
    char c[512];
    snprintf(c, sizeof c,
             "{\"iss\":\"https://idp.example\",\"sub\":\"s1\",\"aud\":\"tend\",\"exp\":%lld,"
             "\"nonce\":\"n0nce\"}",
             NOW + 300);
    char *t = jwt(good_header, c, key_a, NULL);
    refused(t, "no email");
    free(t);
    snprintf(c, sizeof c,
             "{\"iss\":\"https://idp.example\",\"sub\":\"s1\",\"aud\":\"tend\",\"exp\":%lld,"
             "\"iat\":%lld,\"nonce\":\"n0nce\",\"email\":\"a@b\"}",
             NOW + 300, NOW + 3600);
    t = jwt(good_header, c, key_a, NULL);
    refused(t, "future");
    free(t);
}

static void pkce_challenge_is_rfc_7636s(void **state) {
    (void)state;
    char out[OIDC_CHALLENGE_BYTES];
    oidc_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out);
    assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_good_token_passes),
        cmocka_unit_test(forged_and_tampered_tokens_are_refused),
        cmocka_unit_test(claims_are_checked),
        cmocka_unit_test(pkce_challenge_is_rfc_7636s),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
