/* holdout.h: the randomised holdout's draw, pure (docs/analysis.md, Impact).
 *
 * For a rule with `holdout: 10%`, an account's CTAs of the rule are created
 * but not delivered when the account's draw for the rule is under 0.10. The
 * draw is a hash, not a random number generator: the same (seed, account,
 * rule) gives the same draw on every node, in every run and after a
 * restart, so an account stays in its arm for as long as the share and seed
 * do not change (no account drifts between arms, and a replay gives the
 * same arms), and the draws of different rules or seeds are independent.
 *
 * The hash: FNV-1a (64 bits) over the seed as 16 hex digits, "|", the
 * account's external id, "|", the rule's name; then SplitMix64's finaliser
 * to spread the bits; the top 53 bits over 2^53 give a draw in [0, 1). The
 * tests recompute it in Python (tests/integration/impact_sim.py). */
#ifndef TEND_CORE_HOLDOUT_H
#define TEND_CORE_HOLDOUT_H

#include <stdbool.h>
#include <stdint.h>

/* The largest share a rule may hold out: half of its accounts. */
#define HOLDOUT_MAX_SHARE 0.5

/* The account's draw for the rule, in [0, 1). */
double holdout_draw(uint64_t seed, const char *account, const char *rule);
/* Whether a draw is held out at share (0: never). */
bool holdout_held(double share, double draw);

#endif
