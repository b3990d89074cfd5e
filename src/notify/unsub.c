/* unsub.c: signed unsubscribe tokens (see unsub.h). */
#include "notify/unsub.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DERIVE_CONTEXT "tend unsubscribe links v1"

static bool is_server_url(const char *db) {
    return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

/* The 32 bytes of the session key file (as server/auth.c makes it). */
static enum tend_err key_file(const char *db, unsigned char *base, char *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s.session-key", db);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        unsigned char fresh[UNSUB_KEY_BYTES];
        randombytes_buf(fresh, sizeof fresh);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            bool ok = write(fd, fresh, sizeof fresh) == (ssize_t)sizeof fresh && fsync(fd) == 0;
            close(fd);
            sodium_memzero(fresh, sizeof fresh);
            if (!ok) {
                unlink(path);
                snprintf(err, UNSUB_ERR_BYTES, "%s: cannot write the session key: %s", path,
                         strerror(errno));
                return TEND_ERR_IO;
            }
        }
        fd = open(path, O_RDONLY | O_CLOEXEC); /* the winner's, if another process made it */
    }
    if (fd < 0) {
        snprintf(err, UNSUB_ERR_BYTES, "%s: cannot open the session key: %s", path,
                 strerror(errno));
        return TEND_ERR_IO;
    }
    ssize_t n = read(fd, base, UNSUB_KEY_BYTES);
    close(fd);
    if (n != UNSUB_KEY_BYTES) {
        snprintf(err, UNSUB_ERR_BYTES, "%s: the session key must be %d bytes", path,
                 UNSUB_KEY_BYTES);
        return TEND_ERR_IO;
    }
    return TEND_OK;
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
        enum tend_err e = key_file(db, base, err);
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
