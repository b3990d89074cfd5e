/* lockout.h: failed sign-ins per email, and the lock that follows them.
 *
 * The rule (docs/dashboard.md, Security): LOCKOUT_MAX_FAILURES failures of
 * one email within LOCKOUT_MS of its first failure lock that email until
 * LOCKOUT_MS after that first failure, whatever the password; a success
 * forgets the email's failures. Pure: the time is passed in; not locked (the
 * caller holds a lock).
 *
 * The design, and what an attacker can do with it:
 * - Each configured user has a slot of its own, fixed for the life of the
 *   process: no traffic for other emails can evict it, so a locked user
 *   stays locked. (Before, every email shared one table of 1,024 slots and
 *   1,030 failures for other emails evicted the lock.)
 * - Unknown emails live in one table of at most max_unknown entries, keyed
 *   by a keyed digest of the lowercased email (the key is secret, so an
 *   attacker cannot choose emails that collide). They lock exactly as users
 *   do, so the answers for a known and an unknown email are the same.
 * - The one difference between the two: an unknown entry can be evicted
 *   when the table is full of live entries, a user's slot cannot. An
 *   attacker who could fill it within LOCKOUT_MS could tell the two apart
 *   (lock an email, flood, see whether it is still locked). tend makes this
 *   impossible rather than unlikely: every entry is made by a failed
 *   argon2id check, those are limited for all addresses together
 *   (AUTH_HASHES_PER_SECOND), and the table is larger than that limit lets
 *   through in LOCKOUT_MS. Were it ever full, expired entries go first, then
 *   the oldest unlocked one, then the oldest.
 * - A shared table keyed by a hash of every email (no slots) would avoid
 *   the difference but let a flood lock real users out through collisions;
 *   an unbounded table would let a flood exhaust memory. */
#ifndef TEND_SERVER_LOCKOUT_H
#define TEND_SERVER_LOCKOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOCKOUT_MAX_FAILURES 5
#define LOCKOUT_MS           (15 * 60 * 1000)
#define LOCKOUT_DIGEST_BYTES 16

/* Whose failures: a configured user (its index), or an unknown email (user
 * -1, by the keyed digest of the lowercased email). */
struct lockout_key {
    long user;
    unsigned char digest[LOCKOUT_DIGEST_BYTES];
};

struct lockout;

/* A table for n_users configured users and at most max_unknown (>= 1)
 * unknown emails. Free with lockout_free. */
struct lockout *lockout_new(size_t n_users, size_t max_unknown);
void lockout_free(struct lockout *l);

/* Whether k is locked at now_ms; when it is, *until_ms (may be NULL) is
 * when the lock ends. */
bool lockout_locked(struct lockout *l, const struct lockout_key *k, int64_t now_ms,
                    int64_t *until_ms);
/* Records a failed sign-in of k at now_ms. */
void lockout_fail(struct lockout *l, const struct lockout_key *k, int64_t now_ms);
/* Records a successful sign-in of k: its failures are forgotten. */
void lockout_clear(struct lockout *l, const struct lockout_key *k);
/* How many unknown emails the table holds now (expired ones included until
 * swept). */
size_t lockout_unknown_count(const struct lockout *l);

#endif
