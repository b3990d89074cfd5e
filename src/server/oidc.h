/* oidc.h: the checks of OpenID Connect's single sign-on that need no
 * network: an ID token's signature against the provider's keys (RS256
 * only, by OpenSSL's libcrypto) and its claims (iss, aud, azp, exp, iat,
 * nonce, email), and PKCE's S256 challenge (RFC 7636).
 *
 * What it is not: the flow (web_sso.c fetches the discovery document, the
 * keys and the tokens, and keeps state, nonce and verifier in a signed
 * cookie). Every size is bounded: a token of OIDC_MAX_TOKEN_BYTES, a key
 * set of OIDC_MAX_JWKS_BYTES; "alg": "none", HS256 and every other
 * algorithm are refused, whatever the key set holds. Thread-safe. */
#ifndef TEND_SERVER_OIDC_H
#define TEND_SERVER_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define OIDC_MAX_TOKEN_BYTES 16384
#define OIDC_MAX_JWKS_BYTES  (256 * 1024)
#define OIDC_LEEWAY_S        60 /* clock skew allowed on exp and iat */
#define OIDC_CHALLENGE_BYTES 44 /* base64url of 32 bytes, and a NUL */

/* What the ID token must say. */
struct oidc_expect {
    const char *issuer;    /* iss, exactly */
    const char *client_id; /* in aud (and azp when aud has several) */
    const char *nonce;     /* nonce, exactly */
    int64_t now_s;         /* exp must be after, iat not after (each with OIDC_LEEWAY_S) */
};

/* What tend reads of it. */
struct oidc_claims {
    char sub[256];
    char email[321];
    char name[201]; /* "" when not given */
};

/* Checks jwt (the id_token) against the key set jwks (the provider's JWKS
 * document, JSON) and x. TEND_OK fills *out; TEND_ERR_INVALID with the
 * reason in err (size bytes) otherwise; TEND_ERR_NOTFOUND when no key of
 * the set has the token's kid (the caller may fetch the keys again, once).
 * A token without an email, or with email_verified false, is refused. */
enum tend_err oidc_verify_id_token(const char *jwt, const char *jwks, const struct oidc_expect *x,
                                   struct oidc_claims *out, char *err, size_t size);

/* PKCE S256: the challenge of verifier, base64url without padding. */
void oidc_pkce_challenge(const char *verifier, char out[OIDC_CHALLENGE_BYTES]);

#endif
