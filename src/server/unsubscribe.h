/* unsubscribe.h: GET and POST /unsubscribe/TOKEN, without sign-in
 * (docs/delivery.md, "Unsubscribe").
 *
 * The token (notify/unsub.h) names the account, the kind of message and the
 * contact, signed; a valid one stops that kind of message to that contact at
 * once (stored: the next evaluation withholds it, on every node) and answers
 * a page that says so. GET does it too, so the link in a message works with
 * one click in any mail client; POST is RFC 8058's one-click
 * (List-Unsubscribe-Post), which mail providers send without a person.
 * Doing it twice changes nothing. A token that does not verify gets 404 and
 * changes nothing; the page never shows more than the token already says. */
#ifndef TEND_SERVER_UNSUBSCRIBE_H
#define TEND_SERVER_UNSUBSCRIBE_H

#include <stdint.h>

#include "store/store.h"
#include "util/buf.h"

/* Applies token (the path after /unsubscribe/) and writes the page into
 * page; *status gets the HTTP status (200, 404, or 503 when the store
 * fails). */
void unsubscribe_answer(struct store *s, const unsigned char *key, const char *token,
                        int64_t now_ms, struct buf *page, unsigned *status);

#endif
