/* auth.h: who is asking: sign-in, sessions, CSRF tokens and API tokens.
 *
 * Passwords are checked against the users' argon2id hashes (libsodium's
 * crypto_pwhash_str_verify). Each check needs the hash's memory (64 MiB with
 * tend passwd's parameters), so sign-in is bounded three ways: at most
 * AUTH_HASH_SLOTS checks run at once (a few more attempts wait up to
 * AUTH_HASH_WAIT_MS for one, the rest are told to retry: AUTH_BUSY), at most
 * serve.sign_in_per_minute attempts a minute come from one client address
 * and AUTH_HASHES_PER_SECOND from all together (AUTH_LIMITED), and
 * LOCKOUT_MAX_FAILURES failures lock an email (lockout.h). An unknown email
 * costs the same check as a known one (a dummy hash made with the users'
 * parameters), takes the same path through the limits and gets the same
 * answer, so neither the time nor the answer tells whether an account exists.
 *
 * A session is a cookie that carries the user and its expiry, with an
 * HMAC-SHA-256 under the server's session key over both, the user's password
 * hash and the user's session epoch. The server keeps no session table; the
 * epoch is kept in the store (store_session_epoch) and read on every request,
 * so signing out (which bumps it) ends every session of that user, in every
 * process and across restarts, and so does a changed password hash.
 *
 * People come from tend.yaml (serve.users) and from the store (the people
 * an admin manages in the app, looked up through an auth_find_fn that the
 * caller gives, so that this module needs no store); tend.yaml's win on a
 * clash. A request's person is looked up afresh each time, so a disabled
 * person (not found) or a changed role holds at once.
 *
 * CSRF: the token of a session is an HMAC of its cookie; before a session,
 * the sign-in form carries an HMAC of a random pre-session cookie
 * (AUTH_LOGIN_COOKIE), and POST /login needs both. API tokens are compared
 * by their SHA-256. docs/dashboard.md has the rules. Thread-safe. */
#ifndef TEND_SERVER_AUTH_H
#define TEND_SERVER_AUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/config.h"
#include "server/lockout.h"
#include "util/err.h"

#define AUTH_CSRF_BYTES         33 /* 32 hex digits and a NUL */
#define AUTH_LOGIN_COOKIE_BYTES 33 /* the pre-session cookie: 32 hex digits and a NUL */
#define AUTH_MAX_FAILURES       LOCKOUT_MAX_FAILURES
#define AUTH_LOCK_MS            LOCKOUT_MS
#define AUTH_HASH_SLOTS         2     /* argon2id checks at once */
#define AUTH_HASH_WAITERS       4     /* attempts that may wait for a free slot */
#define AUTH_HASH_WAIT_MS       500   /* how long they wait */
#define AUTH_HASHES_PER_SECOND  50    /* sign-in attempts a second, all addresses together */
#define AUTH_ADDRESSES          16384 /* client addresses the limiter remembers */
#define AUTH_UNKNOWN_EMAILS     65536 /* unknown emails the lockout remembers */

struct auth;

/* A person who may sign in, from tend.yaml (serve.users) or from the store
 * (the people an admin manages in the app), copied by value so that it
 * outlives neither. On a clash of emails tend.yaml's wins: an automated
 * set-up's file is the record, and the app cannot change it. */
struct auth_user {
    char email[SERVE_EMAIL_MAX_BYTES + 1];
    char name[201];
    char hash[128]; /* argon2id; "": no password (invited, or single sign-on only) */
    enum perm_role role;
    bool from_config; /* tend.yaml's */
};

/* Finds a person of the store by email into *out; false when none or
 * disabled (web.c's reads the store; NULL: tend.yaml's people only). */
typedef bool (*auth_find_fn)(void *arg, const char *email, struct auth_user *out);

/* Sets up sign-in for c's users (c borrowed, must outlive it). The session
 * key comes from c->session_key, else from the file key_path (32 random
 * bytes, created with mode 0600 when missing). TEND_ERR_IO with the reason
 * in err (SERVE_ERR_BYTES) when the key file cannot be read or made. */
enum tend_err auth_new(const struct serve_config *c, const char *key_path, struct auth **out,
                       char *err);
void auth_free(struct auth *a);

enum auth_result {
    AUTH_OK,      /* signed in */
    AUTH_BAD,     /* wrong email or password */
    AUTH_LOCKED,  /* too many failures for this email */
    AUTH_LIMITED, /* too many attempts from this address (or from all) */
    AUTH_BUSY     /* every hash slot is taken: try again shortly */
};

/* One sign-in attempt. */
struct auth_attempt {
    const char *email, *password; /* as typed; NULL: missing */
    const struct sockaddr *from;  /* the client's address; NULL: unknown */
    int64_t now_ms;
};

/* Checks a sign-in; AUTH_OK sets *user. An unknown email and a wrong
 * password take the same time and give the same answer. After
 * AUTH_MAX_FAILURES failures of one email in AUTH_LOCK_MS it is AUTH_LOCKED
 * until that time has passed since the first, whatever the password. Every
 * answer but AUTH_OK and AUTH_BAD sets *retry_s to the seconds after which a
 * new attempt may succeed (>= 1). Blocks for one password check (and at most
 * AUTH_HASH_WAIT_MS waiting for a slot). */
enum auth_result auth_login(struct auth *a, const struct auth_attempt *t,
                            const struct serve_user **user, int *retry_s);

/* The person of email: tend.yaml's, else find's (NULL: none). */
bool auth_user_find(struct auth *a, const char *email, auth_find_fn find, void *arg,
                    struct auth_user *out);

/* auth_login for tend.yaml's people and find's (see auth_user_find): the
 * same limits, the same time for a known and an unknown email, and a
 * person without a password (hash "") is refused like a wrong password. */
enum auth_result auth_login_user(struct auth *a, const struct auth_attempt *t, auth_find_fn find,
                                 void *arg, struct auth_user *out, int *retry_s);
/* A new session cookie value for u at its session epoch (malloced). */
char *auth_session_make(struct auth *a, const struct auth_user *u, int64_t epoch, int64_t now_ms);
/* The email a session cookie value names, when it is well formed and
 * unexpired; not yet checked (auth_session_valid does). */
bool auth_session_email(struct auth *a, const char *cookie, int64_t now_ms,
                        char email[SERVE_EMAIL_MAX_BYTES + 1]);
/* Whether cookie is a session of u made at epoch: not forged, unexpired, of
 * u's email exactly and u's current password hash. */
bool auth_session_valid(struct auth *a, const char *cookie, const struct auth_user *u,
                        int64_t epoch, int64_t now_ms);

/* A new session cookie value for user at its session epoch (malloced). */
char *auth_session_new(struct auth *a, const struct serve_user *user, int64_t epoch,
                       int64_t now_ms);
/* The user a session cookie value names, when it is well formed, unexpired
 * and names a configured user: not yet checked (auth_session_user does,
 * given that user's epoch); NULL otherwise. */
const struct serve_user *auth_session_claim(struct auth *a, const char *cookie, int64_t now_ms);
/* The user of a session cookie value made at epoch, or NULL when it is
 * malformed, forged, expired, of another epoch (signed out) or its user's
 * password changed. */
const struct serve_user *auth_session_user(struct auth *a, const char *cookie, int64_t epoch,
                                           int64_t now_ms);
/* The CSRF token of a session cookie value. */
void auth_csrf(struct auth *a, const char *cookie, char out[AUTH_CSRF_BYTES]);
/* Whether token is the CSRF token of cookie (constant time). */
bool auth_csrf_ok(struct auth *a, const char *cookie, const char *token);

/* An HMAC (AUTH_CSRF_BYTES - 1 hex digits) of value for purpose under the
 * session key, and its constant-time check: what a signed cookie of the
 * server carries (single sign-on's state, web_sso.c). */
void auth_mac(struct auth *a, const char *purpose, const char *value, char out[AUTH_CSRF_BYTES]);
bool auth_mac_ok(struct auth *a, const char *purpose, const char *value, const char *mac);

/* A new random pre-session cookie value (32 hex digits). */
void auth_login_cookie_new(char out[AUTH_LOGIN_COOKIE_BYTES]);
/* Whether cookie is a well-formed pre-session cookie value. */
bool auth_login_cookie_ok(const char *cookie);
/* The sign-in form's CSRF token for a pre-session cookie value. */
void auth_login_csrf(struct auth *a, const char *cookie, char out[AUTH_CSRF_BYTES]);
/* Whether token is the sign-in form's token of cookie (constant time); false
 * when either is missing or cookie is malformed. */
bool auth_login_csrf_ok(struct auth *a, const char *cookie, const char *token);

/* The API token whose SHA-256 matches token, or NULL. */
const struct serve_token *auth_token(struct auth *a, const char *token);

/* The configuration auth_new was given (borrowed). */
const struct serve_config *auth_config(const struct auth *a);

/* Seconds a session lasts. */
int64_t auth_session_seconds(const struct auth *a);

#endif
