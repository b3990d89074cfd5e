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
 * changes nothing; the page never shows more than the token already says.
 *
 * The route is public, so its cost is bounded before any store work: the
 * caller limits requests per client address (unsubscribe_gate_take) and
 * checks the token (unsubscribe_parse: a MAC over at most 640 bytes, no
 * allocation) before it takes a store connection, so a flood of made-up
 * links never holds the dashboard's connections. */
#ifndef TEND_SERVER_UNSUBSCRIBE_H
#define TEND_SERVER_UNSUBSCRIBE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "store/store.h"
#include "util/buf.h"

#include "notify/unsub.h"

/* What a verified token asks for. */
struct unsub_request {
    int64_t account_id;
    enum cust_kind kind;
    char contact[256];
};

/* Verifies token (the path after /unsubscribe/) with key (NULL: none
 * verifies) into *req: true if valid; else writes the "not valid" page into
 * page with *status 404 and returns false. Touches no store. */
bool unsubscribe_parse(const unsigned char *key, const char *token, struct unsub_request *req,
                       struct buf *page, unsigned *status);

/* Records req (from unsubscribe_parse) in s and writes the page into page;
 * *status gets the HTTP status (200, or 503 when the store fails or s is
 * NULL: no connection; the page never shows the store's error). */
void unsubscribe_answer(struct store *s, const struct unsub_request *req, int64_t now_ms,
                        struct buf *page, unsigned *status);

/* The route's rate limit: UNSUB_PER_MINUTE requests a minute per client
 * address (bursts of as many; UNSUB_ADDRESSES addresses remembered) and
 * UNSUB_ALL_PER_SEC a second of all together. A person clicks a link once;
 * a mail provider's one-click POST is one more. Thread-safe. */
#define UNSUB_PER_MINUTE  30
#define UNSUB_ADDRESSES   16384
#define UNSUB_ALL_PER_SEC 50
struct unsub_gate;
struct unsub_gate *unsubscribe_gate_new(void);
void unsubscribe_gate_free(struct unsub_gate *g);
/* Takes one request from address from (NULL: unknown) at now_ms: true when
 * allowed, else false with *retry_s the seconds to wait (>= 1). */
bool unsubscribe_gate_take(struct unsub_gate *g, const struct sockaddr *from, int64_t now_ms,
                           int *retry_s);

/* Writes the "too many requests" page (429) into page. */
void unsubscribe_limited(int retry_s, struct buf *page, unsigned *status);

#endif
