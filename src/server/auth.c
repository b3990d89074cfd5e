/* auth.c: sign-in, sessions, CSRF and API tokens (see auth.h).
 *
 * A session cookie is "B64(email).EXPIRY.MAC": EXPIRY in Unix seconds, MAC
 * the hex HMAC-SHA-256 of "email\nEXPIRY\nEPOCH\npassword hash" under the
 * session key, EPOCH the user's session epoch (not in the cookie: the caller
 * reads it from the store, so a cookie of an older epoch simply fails).
 *
 * Sign-in runs in this order, cheapest first: the address's and the overall
 * rate (ratelimit.h), the email's lock (lockout.h), a hash slot, the
 * argon2id check, the bookkeeping. Known and unknown emails take the same
 * steps; only the hash checked differs, and it has the same parameters. */
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
#include <time.h>
#include <unistd.h>

#include "server/ratelimit.h"
#include "util/keyfile.h"
#include "util/mem.h"

#define KEY_BYTES       crypto_auth_hmacsha256_KEYBYTES
#define MAC_BYTES       crypto_auth_hmacsha256_BYTES
#define MAX_EMAIL_BYTES 320

/* The lockout's table of unknown emails must outlast what the overall rate
 * lets through in one lock period, so that it never has to evict a live
 * entry (lockout.h). The bucket starts full: one more second's worth. */
_Static_assert(AUTH_UNKNOWN_EMAILS > (long long)AUTH_HASHES_PER_SECOND * (AUTH_LOCK_MS / 1000 + 1),
               "the unknown-email table must hold every failure of a lock period");

struct auth {
    const struct serve_config *c;
    unsigned char key[KEY_BYTES];
    unsigned char email_key[crypto_generichash_KEYBYTES]; /* digests of unknown emails */
    char dummy_hash[crypto_pwhash_STRBYTES];              /* checked for unknown emails */
    pthread_mutex_t lock;                                 /* limit and lockout */
    struct ratelimit *limit;
    struct lockout *lockout;
    /* The hash slots: in_use of AUTH_HASH_SLOTS, waiting of AUTH_HASH_WAITERS. */
    pthread_mutex_t gate;
    pthread_cond_t freed;
    int in_use, waiting;
};

/* ---- the session key ------------------------------------------------------- */

/* The argon2id parameters of a user's hash ("$argon2id$v=19$m=65536,t=2,p=1$..."). */
static bool hash_params(const char *hash, unsigned long long *ops, unsigned long long *mem_kib) {
    const char *m = hash ? strstr(hash, "$m=") : NULL;
    unsigned p;
    return m && sscanf(m, "$m=%llu,t=%llu,p=%u$", mem_kib, ops, &p) == 3;
}

/* The parameters of the dummy hash: those most of the users' hashes have
 * (tend passwd makes them all alike), else tend passwd's. */
static void dummy_params(const struct serve_config *c, unsigned long long *ops,
                         unsigned long long *mem) {
    *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    size_t n = c->n_users ? c->n_users : 1, best = 0;
    unsigned long long(*p)[2] = xcalloc(n, sizeof *p); /* t, m of each; 0, 0: unusable */
    for (size_t i = 0; i < c->n_users; i++)
        if (!hash_params(c->users[i].hash, &p[i][0], &p[i][1]) ||
            p[i][0] < crypto_pwhash_OPSLIMIT_MIN || p[i][1] * 1024 < crypto_pwhash_MEMLIMIT_MIN ||
            p[i][1] * 1024 > crypto_pwhash_MEMLIMIT_MAX)
            p[i][0] = p[i][1] = 0;
    for (size_t i = 0; i < c->n_users; i++) {
        size_t same = 0;
        for (size_t j = 0; j < c->n_users && p[i][0]; j++)
            same += p[j][0] == p[i][0] && p[j][1] == p[i][1];
        if (same > best) {
            best = same;
            *ops = p[i][0];
            *mem = p[i][1] * 1024;
        }
    }
    free(p);
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
    pthread_mutex_init(&a->gate, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->freed, &ca);
    pthread_condattr_destroy(&ca);
    a->limit = ratelimit_new(c->sign_in_per_minute, AUTH_ADDRESSES, AUTH_HASHES_PER_SECOND);
    a->lockout = lockout_new(c->n_users, AUTH_UNKNOWN_EMAILS);
    randombytes_buf(a->email_key, sizeof a->email_key);
    if (c->session_key) {
        crypto_generichash(a->key, sizeof a->key, (const unsigned char *)c->session_key,
                           strlen(c->session_key), NULL, 0);
    } else {
        enum tend_err e = keyfile_load(key_path, a->key, sizeof a->key, err, SERVE_ERR_BYTES);
        if (e) {
            auth_free(a);
            return e;
        }
    }
    /* Even without users: an attempt then costs what it would with them. */
    unsigned long long ops, mem;
    dummy_params(c, &ops, &mem);
    unsigned char pw[32];
    randombytes_buf(pw, sizeof pw);
    if (crypto_pwhash_str_alg(a->dummy_hash, (const char *)pw, sizeof pw, ops, (size_t)mem,
                              crypto_pwhash_ALG_ARGON2ID13)) {
        snprintf(err, SERVE_ERR_BYTES,
                 "cannot make an argon2id hash with t=%llu, m=%llu KiB (out of memory?)", ops,
                 mem / 1024);
        auth_free(a);
        return TEND_ERR_IO;
    }
    *out = a;
    return TEND_OK;
}

void auth_free(struct auth *a) {
    if (!a)
        return;
    sodium_memzero(a->key, sizeof a->key);
    ratelimit_free(a->limit);
    lockout_free(a->lockout);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->gate);
    pthread_cond_destroy(&a->freed);
    free(a);
}

const struct serve_config *auth_config(const struct auth *a) {
    return a->c;
}

int64_t auth_session_seconds(const struct auth *a) {
    return (int64_t)a->c->session_hours * 3600;
}

/* ---- sign-in --------------------------------------------------------------- */

/* The configured user of email; a disabled one is as unknown (docs/slack.md). */
static const struct serve_user *user_by_email(const struct auth *a, const char *email) {
    for (size_t i = 0; i < a->c->n_users; i++)
        if (!a->c->users[i].disabled && g_ascii_strcasecmp(a->c->users[i].email, email) == 0)
            return &a->c->users[i];
    return NULL;
}

/* The lockout's key of an attempt: the user's slot, or the keyed digest of
 * the lowercased email. */
static void lockout_key_of(const struct auth *a, const char *email, const struct serve_user *u,
                           struct lockout_key *k) {
    memset(k, 0, sizeof *k);
    k->user = u ? (long)(u - a->c->users) : -1;
    if (u)
        return;
    char *low = g_ascii_strdown(email ? email : "", -1);
    crypto_generichash(k->digest, sizeof k->digest, (const unsigned char *)low, strlen(low),
                       a->email_key, sizeof a->email_key);
    g_free(low);
}

/* Takes a hash slot, waiting at most AUTH_HASH_WAIT_MS when all are taken
 * and fewer than AUTH_HASH_WAITERS wait already; false when none came. */
static bool gate_enter(struct auth *a) {
    pthread_mutex_lock(&a->gate);
    bool ok = a->in_use < AUTH_HASH_SLOTS;
    if (!ok && a->waiting < AUTH_HASH_WAITERS) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_nsec += (long)(AUTH_HASH_WAIT_MS % 1000) * 1000000L;
        deadline.tv_sec += AUTH_HASH_WAIT_MS / 1000 + deadline.tv_nsec / 1000000000L;
        deadline.tv_nsec %= 1000000000L;
        a->waiting++;
        int rc = 0;
        while (a->in_use >= AUTH_HASH_SLOTS && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&a->freed, &a->gate, &deadline);
        a->waiting--;
        ok = a->in_use < AUTH_HASH_SLOTS;
    }
    if (ok)
        a->in_use++;
    pthread_mutex_unlock(&a->gate);
    return ok;
}

static void gate_leave(struct auth *a) {
    pthread_mutex_lock(&a->gate);
    a->in_use--;
    pthread_cond_signal(&a->freed);
    pthread_mutex_unlock(&a->gate);
}

static int seconds_up(int64_t ms) {
    int64_t s = (ms + 999) / 1000;
    return s < 1 ? 1 : s > 86400 ? 86400 : (int)s;
}

static void user_of_config(const struct serve_user *c, struct auth_user *out) {
    memset(out, 0, sizeof *out);
    snprintf(out->email, sizeof out->email, "%s", c->email);
    snprintf(out->name, sizeof out->name, "%s", c->name);
    snprintf(out->hash, sizeof out->hash, "%s", c->hash);
    out->role = c->role;
    out->from_config = true;
}

bool auth_user_find(struct auth *a, const char *email, auth_find_fn find, void *arg,
                    struct auth_user *out) {
    if (!email || strlen(email) > MAX_EMAIL_BYTES - 1)
        return false;
    const struct serve_user *u = user_by_email(a, email);
    if (u) {
        user_of_config(u, out);
        return true;
    }
    return find && find(arg, email, out);
}

enum auth_result auth_login_user(struct auth *a, const struct auth_attempt *t, auth_find_fn find,
                                 void *arg, struct auth_user *out, int *retry_s) {
    unsigned char from[RATELIMIT_KEY_BYTES];
    ratelimit_key(t->from, from);
    const struct serve_user *cu = t->email ? user_by_email(a, t->email) : NULL;
    struct auth_user found;
    bool known = t->email && auth_user_find(a, t->email, find, arg, &found);
    struct lockout_key k;
    lockout_key_of(a, t->email, cu, &k);

    int64_t wait_ms = 0, until_ms = 0;
    pthread_mutex_lock(&a->lock);
    bool allowed = ratelimit_take(a->limit, from, t->now_ms, &wait_ms);
    bool locked = allowed && lockout_locked(a->lockout, &k, t->now_ms, &until_ms);
    pthread_mutex_unlock(&a->lock);
    if (!allowed) {
        *retry_s = seconds_up(wait_ms);
        return AUTH_LIMITED;
    }
    if (locked) {
        *retry_s = seconds_up(until_ms - t->now_ms);
        return AUTH_LOCKED;
    }
    if (!gate_enter(a)) {
        pthread_mutex_lock(&a->lock);
        ratelimit_give_back(a->limit, from); /* not used: ask again in a second */
        pthread_mutex_unlock(&a->lock);
        *retry_s = 1;
        return AUTH_BUSY;
    }
    /* A person without a password costs the same check, of the dummy. */
    bool has_hash = known && found.hash[0];
    const char *pw = t->password ? t->password : "";
    bool match =
        crypto_pwhash_str_verify(has_hash ? found.hash : a->dummy_hash, pw, strlen(pw)) == 0;
    gate_leave(a);
    bool ok = match && has_hash && t->password;
    pthread_mutex_lock(&a->lock);
    if (ok)
        lockout_clear(a->lockout, &k);
    else
        lockout_fail(a->lockout, &k, t->now_ms);
    pthread_mutex_unlock(&a->lock);
    if (!ok)
        return AUTH_BAD;
    *out = found;
    return AUTH_OK;
}

enum auth_result auth_login(struct auth *a, const struct auth_attempt *t,
                            const struct serve_user **user, int *retry_s) {
    struct auth_user u;
    enum auth_result r = auth_login_user(a, t, NULL, NULL, &u, retry_s);
    if (r == AUTH_OK)
        *user = user_by_email(a, u.email);
    return r;
}

/* ---- sessions ---------------------------------------------------------------- */

static void session_mac(const struct auth *a, const char *email, long long expiry, int64_t epoch,
                        const char *hash, char hex[2 * MAC_BYTES + 1]) {
    crypto_auth_hmacsha256_state st;
    unsigned char mac[MAC_BYTES];
    char num[64];
    snprintf(num, sizeof num, "\n%lld\n%lld\n", expiry, (long long)epoch);
    crypto_auth_hmacsha256_init(&st, a->key, sizeof a->key);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)email, strlen(email));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)num, strlen(num));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)hash, strlen(hash));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, 2 * MAC_BYTES + 1, mac, sizeof mac);
}

char *auth_session_make(struct auth *a, const struct auth_user *user, int64_t epoch,
                        int64_t now_ms) {
    long long expiry = (long long)(now_ms / 1000 + auth_session_seconds(a));
    size_t elen = strlen(user->email);
    size_t b64len = sodium_base64_encoded_len(elen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *b64 = xmalloc(b64len);
    sodium_bin2base64(b64, b64len, (const unsigned char *)user->email, elen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char mac[2 * MAC_BYTES + 1];
    session_mac(a, user->email, expiry, epoch, user->hash, mac);
    size_t size = strlen(b64) + 64 + sizeof mac;
    char *out = xmalloc(size);
    snprintf(out, size, "%s.%lld.%s", b64, expiry, mac);
    free(b64);
    return out;
}

char *auth_session_new(struct auth *a, const struct serve_user *user, int64_t epoch,
                       int64_t now_ms) {
    struct auth_user u;
    user_of_config(user, &u);
    return auth_session_make(a, &u, epoch, now_ms);
}

/* Splits a cookie value: its email, expiry (not passed) and MAC (2 *
 * MAC_BYTES hex digits, not checked); false otherwise. */
static bool session_parts(const char *cookie, int64_t now_ms, char email[MAX_EMAIL_BYTES],
                          long long *expiry, const char **mac) {
    if (!cookie || strlen(cookie) > 1024)
        return false;
    const char *dot1 = strchr(cookie, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2 || strlen(dot2 + 1) != 2 * MAC_BYTES)
        return false;
    size_t elen = 0;
    if (sodium_base642bin((unsigned char *)email, MAX_EMAIL_BYTES - 1, cookie,
                          (size_t)(dot1 - cookie), NULL, &elen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return false;
    email[elen] = '\0';
    if (strlen(email) != elen) /* a NUL inside */
        return false;
    char *end;
    *expiry = strtoll(dot1 + 1, &end, 10);
    if (end != dot2 || *expiry < now_ms / 1000)
        return false;
    *mac = dot2 + 1;
    return true;
}

bool auth_session_email(struct auth *a, const char *cookie, int64_t now_ms,
                        char email[SERVE_EMAIL_MAX_BYTES + 1]) {
    (void)a;
    char e[MAX_EMAIL_BYTES];
    long long expiry;
    const char *mac;
    if (!session_parts(cookie, now_ms, e, &expiry, &mac))
        return false;
    snprintf(email, SERVE_EMAIL_MAX_BYTES + 1, "%s", e);
    return true;
}

bool auth_session_valid(struct auth *a, const char *cookie, const struct auth_user *u,
                        int64_t epoch, int64_t now_ms) {
    char email[MAX_EMAIL_BYTES];
    long long expiry;
    const char *got;
    if (!u || !session_parts(cookie, now_ms, email, &expiry, &got) || strcmp(u->email, email) != 0)
        return false;
    char mac[2 * MAC_BYTES + 1];
    session_mac(a, u->email, expiry, epoch, u->hash, mac);
    return sodium_memcmp(mac, got, 2 * MAC_BYTES) == 0;
}

const struct serve_user *auth_session_claim(struct auth *a, const char *cookie, int64_t now_ms) {
    char email[SERVE_EMAIL_MAX_BYTES + 1];
    if (!auth_session_email(a, cookie, now_ms, email))
        return NULL;
    const struct serve_user *u = user_by_email(a, email);
    return u && strcmp(u->email, email) == 0 ? u : NULL;
}

const struct serve_user *auth_session_user(struct auth *a, const char *cookie, int64_t epoch,
                                           int64_t now_ms) {
    const struct serve_user *u = auth_session_claim(a, cookie, now_ms);
    if (!u)
        return NULL;
    struct auth_user au;
    user_of_config(u, &au);
    return auth_session_valid(a, cookie, &au, epoch, now_ms) ? u : NULL;
}

/* The hex HMAC (AUTH_CSRF_BYTES - 1 digits) of "purpose\nvalue". */
static void token_of(const struct auth *a, const char *purpose, const char *value,
                     char out[AUTH_CSRF_BYTES]) {
    unsigned char mac[MAC_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, a->key, sizeof a->key);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)purpose, strlen(purpose));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)value, strlen(value));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, AUTH_CSRF_BYTES, mac, (AUTH_CSRF_BYTES - 1) / 2);
}

static bool token_ok(const struct auth *a, const char *purpose, const char *value,
                     const char *token) {
    if (!value || !token || strlen(token) != AUTH_CSRF_BYTES - 1)
        return false;
    char want[AUTH_CSRF_BYTES];
    token_of(a, purpose, value, want);
    return sodium_memcmp(want, token, AUTH_CSRF_BYTES - 1) == 0;
}

void auth_mac(struct auth *a, const char *purpose, const char *value, char out[AUTH_CSRF_BYTES]) {
    token_of(a, purpose, value, out);
}

bool auth_mac_ok(struct auth *a, const char *purpose, const char *value, const char *mac) {
    return token_ok(a, purpose, value, mac);
}

void auth_csrf(struct auth *a, const char *cookie, char out[AUTH_CSRF_BYTES]) {
    token_of(a, "csrf", cookie, out);
}

bool auth_csrf_ok(struct auth *a, const char *cookie, const char *token) {
    return token_ok(a, "csrf", cookie, token);
}

/* ---- the sign-in form's CSRF token ------------------------------------------ */

void auth_login_cookie_new(char out[AUTH_LOGIN_COOKIE_BYTES]) {
    unsigned char r[(AUTH_LOGIN_COOKIE_BYTES - 1) / 2];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(out, AUTH_LOGIN_COOKIE_BYTES, r, sizeof r);
}

bool auth_login_cookie_ok(const char *cookie) {
    return cookie && strlen(cookie) == AUTH_LOGIN_COOKIE_BYTES - 1 &&
           strspn(cookie, "0123456789abcdef") == AUTH_LOGIN_COOKIE_BYTES - 1;
}

void auth_login_csrf(struct auth *a, const char *cookie, char out[AUTH_CSRF_BYTES]) {
    token_of(a, "login", cookie, out);
}

bool auth_login_csrf_ok(struct auth *a, const char *cookie, const char *token) {
    return auth_login_cookie_ok(cookie) && token_ok(a, "login", cookie, token);
}

/* ---- API tokens ------------------------------------------------------------ */

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
