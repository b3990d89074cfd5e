/* unsub.c: signed unsubscribe tokens (see unsub.h). */
#include "notify/unsub.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/keyfile.h"

#define DERIVE_CONTEXT "tend unsubscribe links v1"

static bool is_server_url(const char *db) {
    return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

enum tend_err unsub_key_load(const char *session_key, const char *db, unsigned char *key,
                             char *err) {
    if (sodium_init() < 0) {
        snprintf(err, UNSUB_ERR_BYTES, "libsodium cannot start");
        return TEND_ERR_IO;
    }
    unsigned char base[UNSUB_KEY_BYTES];
    if (session_key) { /* as server/auth.c derives the session key from it */
        crypto_generichash(base, sizeof base, (const unsigned char *)session_key,
                           strlen(session_key), NULL, 0);
    } else if (!db || is_server_url(db)) {
        snprintf(err, UNSUB_ERR_BYTES,
                 "customer_messages: unsubscribe links on a shared database need "
                 "serve.session_key_env (the same key on every node)");
        return TEND_ERR_USAGE;
    } else {
        char path[4096];
        snprintf(path, sizeof path, "%s.session-key", db);
        enum tend_err e = keyfile_load(path, base, sizeof base, err, UNSUB_ERR_BYTES);
        if (e)
            return e;
    }
    /* A key of its own: a token is never a session, nor a session a token. */
    crypto_generichash(key, UNSUB_KEY_BYTES, (const unsigned char *)DERIVE_CONTEXT,
                       strlen(DERIVE_CONTEXT), base, sizeof base);
    sodium_memzero(base, sizeof base);
    return TEND_OK;
}

bool unsub_token(const unsigned char *key, int64_t account_id, enum cust_kind kind,
                 const char *contact, char *out) {
    char payload[320];
    int n = snprintf(payload, sizeof payload, "1:%" PRId64 ":%s:%s", account_id,
                     cust_kind_name(kind), contact);
    if (n < 0 || (size_t)n >= sizeof payload || strlen(contact) > 255)
        return false;
    unsigned char mac[crypto_auth_BYTES];
    crypto_auth(mac, (const unsigned char *)payload, (size_t)n, key);
    sodium_bin2base64(out, UNSUB_TOKEN_BYTES, (const unsigned char *)payload, (size_t)n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t at = strlen(out);
    out[at++] = '.';
    sodium_bin2base64(out + at, UNSUB_TOKEN_BYTES - at, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return true;
}

bool unsub_parse(const unsigned char *key, const char *token, int64_t *account_id,
                 enum cust_kind *kind, char contact[256]) {
    if (!token || strlen(token) >= UNSUB_TOKEN_BYTES)
        return false;
    const char *dot = strchr(token, '.');
    if (!dot)
        return false;
    unsigned char payload[400], mac[crypto_auth_BYTES + 8];
    size_t n, m;
    if (sodium_base642bin(payload, sizeof payload - 1, token, (size_t)(dot - token), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        sodium_base642bin(mac, sizeof mac, dot + 1, strlen(dot + 1), NULL, &m, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        m != crypto_auth_BYTES || crypto_auth_verify(mac, payload, n, key) != 0)
        return false;
    payload[n] = '\0';
    const char *p = (const char *)payload;
    if (strlen(p) != n || strncmp(p, "1:", 2) != 0)
        return false;
    char *end;
    long long id = strtoll(p + 2, &end, 10);
    if (*end != ':' || id <= 0)
        return false;
    const char *k = end + 1, *colon = strchr(k, ':');
    if (!colon || colon - k >= 32)
        return false;
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(colon - k), k);
    if (!cust_kind_parse(name, kind) || strlen(colon + 1) > 255)
        return false;
    *account_id = id;
    snprintf(contact, 256, "%s", colon + 1);
    return true;
}
