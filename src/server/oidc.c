/* oidc.c: an ID token's signature and claims, PKCE's challenge (see
 * oidc.h).
 *
 * The order is the cheap and strict first: the token's size and shape (three
 * base64url parts), its header's alg (RS256 and nothing else: a token that
 * names "none" or HS256 is refused before any key is looked at, so a public
 * key can never be used as an HMAC secret), the key of its kid, the RSA
 * signature over "header.payload" (EVP_DigestVerify, SHA-256, PKCS #1 v1.5),
 * and only then the claims. */
#include "server/oidc.h"

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(err, size, __VA_ARGS__);                                                          \
        e = TEND_ERR_INVALID;                                                                      \
        goto cleanup;                                                                              \
    } while (0)

/* base64url (no padding) of len bytes at s into a malloced buffer (NUL
 * ended, *n its length); NULL when it is not base64url. */
static unsigned char *b64url(const char *s, size_t len, size_t *n) {
    unsigned char *out = xmalloc(len + 1);
    if (sodium_base642bin(out, len, s, len, NULL, n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        free(out);
        return NULL;
    }
    out[*n] = '\0';
    return out;
}

/* The RSA public key of a JWK's n and e (base64url), or NULL. */
static EVP_PKEY *rsa_key(const char *n64, const char *e64) {
    size_t nl = 0, el = 0;
    unsigned char *n = b64url(n64, strlen(n64), &nl), *e = b64url(e64, strlen(e64), &el);
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = n ? BN_bin2bn(n, (int)nl, NULL) : NULL,
           *be = e ? BN_bin2bn(e, (int)el, NULL) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    /* 2048 bits at least: what the providers use and RFC 7518 asks. */
    if (!bn || !be || nl < 256 || nl > 1024 || !bld)
        goto cleanup;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        goto cleanup;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
cleanup:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(n);
    free(e);
    return pkey;
}

static const char *str_of(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The key of kid (NULL: the set's only RSA signing key) in jwks. */
static EVP_PKEY *key_of(const cJSON *jwks, const char *kid) {
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(jwks, "keys"), *k;
    const cJSON *found = NULL;
    int candidates = 0;
    cJSON_ArrayForEach(k, keys) {
        const char *kty = str_of(k, "kty"), *use = str_of(k, "use"), *alg = str_of(k, "alg");
        if (!kty || strcmp(kty, "RSA") != 0 || (use && strcmp(use, "sig") != 0) ||
            (alg && strcmp(alg, "RS256") != 0))
            continue;
        const char *id = str_of(k, "kid");
        if (kid ? id && strcmp(id, kid) == 0 : true) {
            found = k;
            candidates++;
        }
    }
    if (!found || candidates != 1 || !str_of(found, "n") || !str_of(found, "e"))
        return NULL;
    return rsa_key(str_of(found, "n"), str_of(found, "e"));
}

static bool verify_rs256(EVP_PKEY *key, const char *data, size_t len, const unsigned char *sig,
                         size_t sig_len) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)data, len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

/* Whether aud (a string or an array of strings) holds client_id, and azp is
 * client_id when aud holds others too. */
static bool audience_ok(const cJSON *claims, const char *client_id) {
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud"), *a;
    if (cJSON_IsString(aud))
        return strcmp(aud->valuestring, client_id) == 0;
    if (!cJSON_IsArray(aud))
        return false;
    bool has = false;
    int n = 0;
    cJSON_ArrayForEach(a, aud) {
        n++;
        has = has || (cJSON_IsString(a) && strcmp(a->valuestring, client_id) == 0);
    }
    const char *azp = str_of(claims, "azp");
    return has && (n == 1 || (azp && strcmp(azp, client_id) == 0));
}

enum tend_err oidc_verify_id_token(const char *jwt, const char *jwks_text,
                                   const struct oidc_expect *x, struct oidc_claims *out, char *err,
                                   size_t size) {
    enum tend_err e = TEND_OK;
    unsigned char *head = NULL, *body = NULL, *sig = NULL;
    cJSON *h = NULL, *c = NULL, *jwks = NULL;
    EVP_PKEY *key = NULL;
    size_t hl, bl, sl;
    if (!jwt || strlen(jwt) > OIDC_MAX_TOKEN_BYTES)
        FAIL("the ID token is missing or over %d bytes", OIDC_MAX_TOKEN_BYTES);
    const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.'))
        FAIL("the ID token is not a signed JWT (three parts)");
    if (!(head = b64url(jwt, (size_t)(d1 - jwt), &hl)) ||
        !(body = b64url(d1 + 1, (size_t)(d2 - d1 - 1), &bl)) ||
        !(sig = b64url(d2 + 1, strlen(d2 + 1), &sl)))
        FAIL("the ID token's parts are not base64url");
    h = cJSON_ParseWithLength((const char *)head, hl);
    const char *alg = str_of(h, "alg");
    if (!alg || strcmp(alg, "RS256") != 0)
        FAIL("the ID token is signed with \"%.20s\": only RS256 is accepted", alg ? alg : "?");
    if (!jwks_text || strlen(jwks_text) > OIDC_MAX_JWKS_BYTES ||
        !cJSON_IsObject(jwks = cJSON_Parse(jwks_text)))
        FAIL("the provider's key set (JWKS) is not a JSON object of at most %d bytes",
             OIDC_MAX_JWKS_BYTES);
    const char *kid = str_of(h, "kid");
    if (!(key = key_of(jwks, kid))) {
        snprintf(err, size, "no RS256 key of the provider's key set has the kid \"%.60s\"",
                 kid ? kid : "(none)");
        e = TEND_ERR_NOTFOUND;
        goto cleanup;
    }
    if (!verify_rs256(key, jwt, (size_t)(d2 - jwt), sig, sl))
        FAIL("the ID token's signature is not the provider's");
    c = cJSON_ParseWithLength((const char *)body, bl);
    if (!cJSON_IsObject(c))
        FAIL("the ID token's claims are not a JSON object");
    const char *iss = str_of(c, "iss"), *nonce = str_of(c, "nonce");
    if (!iss || strcmp(iss, x->issuer) != 0)
        FAIL("the ID token's issuer is not %s", x->issuer);
    if (!audience_ok(c, x->client_id))
        FAIL("the ID token is not for this client (aud, azp)");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "exp");
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(c, "iat");
    if (!cJSON_IsNumber(exp) || exp->valuedouble + OIDC_LEEWAY_S < (double)x->now_s)
        FAIL("the ID token has expired");
    if (cJSON_IsNumber(iat) && iat->valuedouble - OIDC_LEEWAY_S > (double)x->now_s)
        FAIL("the ID token is issued in the future");
    if (!nonce || !x->nonce || strlen(nonce) != strlen(x->nonce) ||
        sodium_memcmp(nonce, x->nonce, strlen(nonce)) != 0)
        FAIL("the ID token's nonce is not this sign-in's");
    const char *sub = str_of(c, "sub"), *email = str_of(c, "email"), *name = str_of(c, "name");
    const cJSON *verified = cJSON_GetObjectItemCaseSensitive(c, "email_verified");
    if (!sub || !sub[0] || strlen(sub) >= sizeof out->sub)
        FAIL("the ID token has no subject (sub)");
    if (!email || !strchr(email, '@') || strlen(email) >= sizeof out->email)
        FAIL("the ID token has no email: ask the provider for the email scope");
    if (cJSON_IsFalse(verified))
        FAIL("the provider says the email %s is not verified", email);
    snprintf(out->sub, sizeof out->sub, "%s", sub);
    snprintf(out->email, sizeof out->email, "%s", email);
    snprintf(out->name, sizeof out->name, "%s",
             name && strlen(name) < sizeof out->name ? name : "");
cleanup:
    EVP_PKEY_free(key);
    cJSON_Delete(h);
    cJSON_Delete(c);
    cJSON_Delete(jwks);
    free(head);
    free(body);
    free(sig);
    return e;
}

void oidc_pkce_challenge(const char *verifier, char out[OIDC_CHALLENGE_BYTES]) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
    sodium_bin2base64(out, OIDC_CHALLENGE_BYTES, h, sizeof h,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}
