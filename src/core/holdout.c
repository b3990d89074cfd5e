/* holdout.c: the randomised holdout's draw (see holdout.h). */
#include "core/holdout.h"

#include <stdio.h>

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

double holdout_draw(uint64_t seed, const char *account, const char *rule) {
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)seed);
    uint64_t h = fnv1a(UINT64_C(14695981039346656037), hex);
    h = fnv1a(h, "|");
    h = fnv1a(h, account);
    h = fnv1a(h, "|");
    h = fnv1a(h, rule);
    h ^= h >> 30; /* SplitMix64's finaliser */
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 31;
    return (double)(h >> 11) / 9007199254740992.0;
}

bool holdout_held(double share, double draw) {
    return share > 0 && draw < share;
}
