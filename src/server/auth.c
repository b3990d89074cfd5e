/* auth.c: sign-in, sessions, CSRF and API tokens (see auth.h).
 *
 * A session cookie is "B64(email).EXPIRY.MAC": EXPIRY in Unix seconds, MAC
 * the hex HMAC-SHA-256 of "email\nEXPIRY\npassword hash" under the session
 * key. */
#include "server/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/mem.h"

#define KEY_BYTES       crypto_auth_hmacsha256_KEYBYTES
#define MAC_BYTES       crypto_auth_hmacsha256_BYTES
#define FAILURE_SLOTS   1024
#define MAX_EMAIL_BYTES 320

struct failure {
    char email[MAX_EMAIL_BYTES]; /* lowercased; "" unused */
    int count;
    int64_t first_ms;
};

struct auth {
    const struct serve_config *c;
    unsigned char key[KEY_BYTES];
    char dummy_hash[crypto_pwhash_STRBYTES]; /* verified for unknown emails */
    pthread_mutex_t lock;
    struct failure failures[FAILURE_SLOTS];
};

/* ---- the session key ------------------------------------------------------- */

static enum tend_err key_from_file(struct auth *a, const char *path, char *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        unsigned char fresh[KEY_BYTES];
        randombytes_buf(fresh, sizeof fresh);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            bool ok = write(fd, fresh, sizeof fresh) == (ssize_t)sizeof fresh && fsync(fd) == 0;
            close(fd);
            if (!ok) {
                unlink(path);
                snprintf(err, SERVE_ERR_BYTES, "%s: cannot write the session key: %s", path,
                         strerror(errno));
                return TEND_ERR_IO;
            }
        }
        fd = open(path, O_RDONLY | O_CLOEXEC); /* the winner's key, if another process made it */
    }
    if (fd < 0) {
        snprintf(err, SERVE_ERR_BYTES, "%s: cannot open the session key: %s", path,
                 strerror(errno));
        return TEND_ERR_IO;
    }
    ssize_t n = read(fd, a->key, sizeof a->key);
    close(fd);
    if (n != (ssize_t)sizeof a->key) {
        snprintf(err, SERVE_ERR_BYTES,
                 "%s: the session key must be %d bytes (delete it to make a new one)", path,
                 (int)sizeof a->key);
        return TEND_ERR_IO;
    }
    return TEND_OK;
}

enum tend_err auth_new(const struct serve_config *c, const char *key_path, struct auth **out,
                       char *err) {
    if (sodium_init() < 0) {
        snprintf(err, SERVE_ERR_BYTES, "libsodium cannot start");
        return TEND_ERR_IO;
    }
    struct auth *a = xcalloc(1, sizeof *a);
    a->c = c;
    pthread_mutex_init(&a->lock, NULL);
    if (c->session_key) {
        crypto_generichash(a->key, sizeof a->key, (const unsigned char *)c->session_key,
                           strlen(c->session_key), NULL, 0);
    } else {
        enum tend_err e = key_from_file(a, key_path, err);
        if (e) {
            auth_free(a);
            return e;
        }
    }
    if (c->n_users) {
        char pw[32];
        randombytes_buf(pw, sizeof pw - 1);
        pw[sizeof pw - 1] = 0;
        if (crypto_pwhash_str(a->dummy_hash, pw, sizeof pw - 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
            snprintf(err, SERVE_ERR_BYTES, "out of memory hashing a password");
            auth_free(a);
            return TEND_ERR_IO;
        }
    }
    *out = a;
    return TEND_OK;
}

void auth_free(struct auth *a) {
    if (!a)
        return;
    sodium_memzero(a->key, sizeof a->key);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

int64_t auth_session_seconds(const struct auth *a) {
    return (int64_t)a->c->session_hours * 3600;
}

/* ---- sign-in --------------------------------------------------------------- */

static const struct serve_user *user_by_email(const struct auth *a, const char *email) {
    for (size_t i = 0; i < a->c->n_users; i++)
        if (g_ascii_strcasecmp(a->c->users[i].email, email) == 0)
            return &a->c->users[i];
    return NULL;
}

/* The failure slot of email (lowercased in key), or a free or the oldest
 * one when create; NULL otherwise. Under the lock. */
static struct failure *failure_of(struct auth *a, const char *key, int64_t now_ms, bool create) {
    struct failure *oldest = &a->failures[0];
    for (size_t i = 0; i < FAILURE_SLOTS; i++) {
        struct failure *f = &a->failures[i];
        if (f->email[0] && now_ms - f->first_ms >= AUTH_LOCK_MS)
            f->email[0] = '\0'; /* expired */
        if (f->email[0] && strcmp(f->email, key) == 0)
            return f;
        if (!f->email[0] || f->first_ms < oldest->first_ms)
            oldest = f;
    }
    if (!create)
        return NULL;
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->email, sizeof oldest->email, "%s", key);
    oldest->first_ms = now_ms;
    return oldest;
}

enum auth_result auth_login(struct auth *a, const char *email, const char *password, int64_t now_ms,
                            const struct serve_user **user) {
    char key[MAX_EMAIL_BYTES];
    snprintf(key, sizeof key, "%s", email ? email : "");
    for (char *p = key; *p; p++)
        *p = g_ascii_tolower(*p);
    pthread_mutex_lock(&a->lock);
    struct failure *f = failure_of(a, key, now_ms, false);
    bool locked = f && f->count >= AUTH_MAX_FAILURES;
    pthread_mutex_unlock(&a->lock);
    if (locked)
        return AUTH_LOCKED;
    const struct serve_user *u = email ? user_by_email(a, email) : NULL;
    const char *hash = u ? u->hash : a->dummy_hash;
    bool ok =
        hash[0] && password && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 && u;
    pthread_mutex_lock(&a->lock);
    if (ok) {
        if ((f = failure_of(a, key, now_ms, false)))
            f->email[0] = '\0';
    } else {
        failure_of(a, key, now_ms, true)->count++;
    }
    pthread_mutex_unlock(&a->lock);
    if (!ok)
        return AUTH_BAD;
    *user = u;
    return AUTH_OK;
}

/* ---- sessions ---------------------------------------------------------------- */

static void session_mac(const struct auth *a, const char *email, long long expiry, const char *hash,
                        char hex[2 * MAC_BYTES + 1]) {
    crypto_auth_hmacsha256_state st;
    unsigned char mac[MAC_BYTES];
    char num[32];
    snprintf(num, sizeof num, "\n%lld\n", expiry);
    crypto_auth_hmacsha256_init(&st, a->key, sizeof a->key);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)email, strlen(email));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)num, strlen(num));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)hash, strlen(hash));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, 2 * MAC_BYTES + 1, mac, sizeof mac);
}

char *auth_session_new(struct auth *a, const struct serve_user *user, int64_t now_ms) {
    long long expiry = (long long)(now_ms / 1000 + auth_session_seconds(a));
    size_t elen = strlen(user->email);
    size_t b64len = sodium_base64_encoded_len(elen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *b64 = xmalloc(b64len);
    sodium_bin2base64(b64, b64len, (const unsigned char *)user->email, elen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char mac[2 * MAC_BYTES + 1];
    session_mac(a, user->email, expiry, user->hash, mac);
    size_t size = strlen(b64) + 64 + sizeof mac;
    char *out = xmalloc(size);
    snprintf(out, size, "%s.%lld.%s", b64, expiry, mac);
    free(b64);
    return out;
}

const struct serve_user *auth_session_user(struct auth *a, const char *cookie, int64_t now_ms) {
    if (!cookie || strlen(cookie) > 1024)
        return NULL;
    const char *dot1 = strchr(cookie, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || strlen(dot2 + 1) != 2 * MAC_BYTES)
        return NULL;
    char email[MAX_EMAIL_BYTES];
    size_t elen = 0;
    if (sodium_base642bin((unsigned char *)email, sizeof email - 1, cookie, (size_t)(dot1 - cookie),
                          NULL, &elen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return NULL;
    email[elen] = '\0';
    char *end;
    long long expiry = strtoll(dot1 + 1, &end, 10);
    if (end != dot2 || expiry < now_ms / 1000)
        return NULL;
    const struct serve_user *u = user_by_email(a, email);
    if (!u || strcmp(u->email, email) != 0)
        return NULL;
    char mac[2 * MAC_BYTES + 1];
    session_mac(a, u->email, expiry, u->hash, mac);
    return sodium_memcmp(mac, dot2 + 1, 2 * MAC_BYTES) == 0 ? u : NULL;
}

void auth_csrf(struct auth *a, const char *cookie, char out[AUTH_CSRF_BYTES]) {
    unsigned char mac[MAC_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, a->key, sizeof a->key);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"csrf\n", 5);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)cookie, strlen(cookie));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, AUTH_CSRF_BYTES, mac, (AUTH_CSRF_BYTES - 1) / 2);
}

bool auth_csrf_ok(struct auth *a, const char *cookie, const char *token) {
    if (!cookie || !token || strlen(token) != AUTH_CSRF_BYTES - 1)
        return false;
    char want[AUTH_CSRF_BYTES];
    auth_csrf(a, cookie, want);
    return sodium_memcmp(want, token, AUTH_CSRF_BYTES - 1) == 0;
}

const struct serve_token *auth_token(struct auth *a, const char *token) {
    if (!token || !token[0])
        return NULL;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    const struct serve_token *found = NULL;
    for (size_t i = 0; i < a->c->n_tokens; i++)
        if (sodium_memcmp(h, a->c->tokens[i].sha256, sizeof h) == 0)
            found = &a->c->tokens[i];
    return found;
}
