/* unsub.h: the unsubscribe link in every message to a customer
 * (docs/delivery.md, "Unsubscribe").
 *
 * A token names the account, the kind of message and the contact, and is
 * signed (HMAC-SHA-512-256, libsodium's crypto_auth) with a key derived from
 * tend's session key: serve.session_key_env when set, else the file
 * DB.session-key (the one tend serve signs sessions with; made 0600 when
 * missing). So `tend eval`, which writes the links, and `tend serve`, which
 * answers them, agree without sharing anything else, and a token cannot be
 * made for another account, kind or address. Tokens do not expire: an
 * unsubscribe link must keep working. The token is URL-safe base64:
 *   base64url("1:ACCOUNT_ID:KIND:CONTACT") "." base64url(MAC) */
#ifndef TEND_NOTIFY_UNSUB_H
#define TEND_NOTIFY_UNSUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/customer_plan.h"
#include "util/err.h"

#define UNSUB_KEY_BYTES   32
#define UNSUB_TOKEN_BYTES 640 /* the longest token, with its NUL */
#define UNSUB_ERR_BYTES   320

/* The unsubscribe key: from session_key (text; NULL: none), else from the
 * session key file of the database db (a SQLite path; a postgresql:// URL
 * needs session_key). TEND_ERR_IO / TEND_ERR_USAGE with why in err. */
enum tend_err unsub_key_load(const char *session_key, const char *db, unsigned char *key,
                             char *err);

/* Writes the token into out (UNSUB_TOKEN_BYTES); false when contact is too
 * long for one. */
bool unsub_token(const unsigned char *key, int64_t account_id, enum cust_kind kind,
                 const char *contact, char *out);

/* Checks and reads a token: false when it is malformed or its signature is
 * wrong (constant time). contact gets at most 255 bytes and a NUL. */
bool unsub_parse(const unsigned char *key, const char *token, int64_t *account_id,
                 enum cust_kind *kind, char contact[256]);

#endif
