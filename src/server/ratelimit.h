/* ratelimit.h: token buckets per client address, in a bounded table.
 *
 * What it is: the rule "at most N sign-in attempts a minute from one
 * address" (docs/dashboard.md, Security), as a token bucket per address key
 * (capacity N, refilled at N per minute), plus one bucket for every address
 * together. Pure: the time is passed in, nothing is locked (the caller holds
 * a lock), nothing is read from the network. What it is not: an address
 * parser; the caller turns a socket address into a key (ratelimit_key).
 *
 * The design: the table holds at most max_keys addresses. A bucket that has
 * refilled completely is the same as no bucket, so such entries are dropped
 * whenever the table is full; only when every entry is still refilling (an
 * attacker with more than max_keys addresses at once) is the fullest bucket
 * dropped, which gives that address back at most its own burst. Such an
 * attacker could go past the per-address limit anyway; the bucket of every
 * address together still holds. */
#ifndef TEND_SERVER_RATELIMIT_H
#define TEND_SERVER_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RATELIMIT_KEY_BYTES 17 /* family byte + up to 16 address bytes */

struct ratelimit;

/* A limiter of per_minute attempts a minute per key (bursts of per_minute),
 * keeping at most max_keys keys, and of global_per_second attempts a second
 * for all keys together (bursts of as many). per_minute 0: no per-key limit;
 * global_per_second 0: no overall limit. Free with ratelimit_free. */
struct ratelimit *ratelimit_new(int per_minute, size_t max_keys, int global_per_second);
void ratelimit_free(struct ratelimit *r);

/* The key of a client address: IPv4 as its 4 bytes; IPv6 by its /64 prefix
 * (one customer's network gets a whole /64, so a per-/128 limit would be no
 * limit); an IPv4-mapped IPv6 address as the IPv4 one. An unknown family or
 * NULL gives one shared key. Fills key (RATELIMIT_KEY_BYTES). */
void ratelimit_key(const struct sockaddr *sa, unsigned char key[RATELIMIT_KEY_BYTES]);

/* Takes one attempt for key at now_ms. True when allowed; false when the
 * key's bucket or the overall one is empty, with *retry_ms (may be NULL) the
 * time until the next attempt would be allowed (>= 1). */
bool ratelimit_take(struct ratelimit *r, const unsigned char key[RATELIMIT_KEY_BYTES],
                    int64_t now_ms, int64_t *retry_ms);
/* Gives back the attempt just taken for key (it was not used: the server
 * was busy and said so). */
void ratelimit_give_back(struct ratelimit *r, const unsigned char key[RATELIMIT_KEY_BYTES]);

/* How many keys the table holds (for tests and /metrics). */
size_t ratelimit_keys(const struct ratelimit *r);

#endif
