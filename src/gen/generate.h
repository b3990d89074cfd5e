/* generate.h: a fictional B2B SaaS as Segment JSON Lines (tend generate).
 *
 * Writes, day by day, the group, identify, alias, page, screen and track
 * messages of N customer accounts over D days: logins, feature use, NPS
 * answers, tickets, invoices and payments, cards, CSM outreach, onboarding,
 * renewals and churns; churn comes from latent causes (causes.c). The same
 * options give byte-identical output. The model and its design are
 * described in generate.c, causes.c, emit.c and docs/generate.md. Uses
 * util/ only. */
#ifndef TEND_GEN_GENERATE_H
#define TEND_GEN_GENERATE_H

#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

#define GEN_MAX_ACCOUNTS 1000000
#define GEN_MAX_DAYS     3660
#define GEN_DEFAULT_END  "2026-11-01"

struct gen_options {
    int64_t accounts; /* accounts in the data, new ones included: 1..GEN_MAX_ACCOUNTS */
    int32_t days;     /* days generated: 1..GEN_MAX_DAYS */
    uint64_t seed;    /* everything random derives from it */
    int32_t end_day;  /* day number of the day after the last: events span [end - days, end) */
};

struct gen_totals {
    int64_t accounts;     /* accounts written (new ones included) */
    int64_t new_accounts; /* accounts created inside the window */
    int64_t users;        /* users identified */
    int64_t events;       /* messages (lines) written */
    int64_t churned;      /* "Account Churned" events */
    int64_t renewed;      /* "Account Renewed" events */
    int64_t sub_changes;  /* "Subscription Changed" events */
};

/* Writes the data set described by opt to out (borrowed; not closed), one
 * message per line, days in order and each day sorted by timestamp. Memory
 * holds the accounts' state and one day of events, never the history.
 * Returns TEND_ERR_USAGE when an option is out of range, TEND_ERR_IO when
 * writing fails; *totals is filled on success. */
enum tend_err gen_write(FILE *out, const struct gen_options *opt, struct gen_totals *totals);

#endif
