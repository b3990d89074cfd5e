/* auth.h: who is asking: sign-in, sessions, CSRF tokens and API tokens.
 *
 * Passwords are checked against the users' argon2id hashes (libsodium's
 * crypto_pwhash_str_verify). A session is a cookie that carries the user,
 * its expiry and an HMAC-SHA-256 under the server's session key over both
 * and the user's password hash, so the server keeps no session table, a
 * restart keeps everyone signed in, and a changed password ends the user's
 * sessions. The CSRF token of a session is an HMAC of its cookie. API tokens
 * are compared by their SHA-256. Repeated failed sign-ins lock the email out
 * for a while. docs/dashboard.md has the rules. Thread-safe. */
#ifndef TEND_SERVER_AUTH_H
#define TEND_SERVER_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "server/config.h"
#include "util/err.h"

#define AUTH_CSRF_BYTES   33 /* 32 hex digits and a NUL */
#define AUTH_MAX_FAILURES 5
#define AUTH_LOCK_MS      (15 * 60 * 1000)

struct auth;

/* Sets up sign-in for c's users (c borrowed, must outlive it). The session
 * key comes from c->session_key, else from the file key_path (32 random
 * bytes, created with mode 0600 when missing). TEND_ERR_IO with the reason
 * in err (SERVE_ERR_BYTES) when the key file cannot be read or made. */
enum tend_err auth_new(const struct serve_config *c, const char *key_path, struct auth **out,
                       char *err);
void auth_free(struct auth *a);

enum auth_result { AUTH_OK, AUTH_BAD, AUTH_LOCKED };
/* Checks a sign-in; AUTH_OK sets *user. An unknown email and a wrong
 * password take the same time and give the same answer; after
 * AUTH_MAX_FAILURES failures of one email in AUTH_LOCK_MS it is AUTH_LOCKED
 * until that time has passed since the first, whatever the password. */
enum auth_result auth_login(struct auth *a, const char *email, const char *password, int64_t now_ms,
                            const struct serve_user **user);

/* A new session cookie value for user (malloced). */
char *auth_session_new(struct auth *a, const struct serve_user *user, int64_t now_ms);
/* The user of a session cookie value, or NULL when it is malformed, forged,
 * expired or its user's password changed. */
const struct serve_user *auth_session_user(struct auth *a, const char *cookie, int64_t now_ms);
/* The CSRF token of a session cookie value. */
void auth_csrf(struct auth *a, const char *cookie, char out[AUTH_CSRF_BYTES]);
/* Whether token is the CSRF token of cookie (constant time). */
bool auth_csrf_ok(struct auth *a, const char *cookie, const char *token);
/* The API token whose SHA-256 matches token, or NULL. */
const struct serve_token *auth_token(struct auth *a, const char *token);

/* Seconds a session lasts. */
int64_t auth_session_seconds(const struct auth *a);

#endif
