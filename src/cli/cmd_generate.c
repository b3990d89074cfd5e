/* cmd_generate.c: tend generate: a fictional SaaS's Segment history as JSONL.
 *
 * Parses and checks the options, then hands over to gen/generate.c, which
 * streams the messages to stdout or --out. stderr gets one summary line at the
 * end and nothing else unless something fails. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "gen/generate.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend generate --accounts N --days D [--seed S] [--end DATE] [--out FILE]\n\n"
            "Writes Segment messages (JSON Lines) of a fictional B2B SaaS: accounts with\n"
            "plans, seats, CSMs and renewal dates, users who join and leave, logins and\n"
            "feature use, NPS answers, tickets, invoices and payments, cards, CSM outreach,\n"
            "onboarding and adoption goals, renewals and churns. A share of the accounts\n"
            "declines for weeks before it churns. About 2,500 events per account per year;\n"
            "the same options always give the same bytes. See docs/generate.md.\n\n"
            "  --accounts N   accounts, those created during the window included (1-%d)\n"
            "  --days D       days of history (1-%d)\n"
            "  --seed S       seed of the random generator, 0-18446744073709551615 (default 1)\n"
            "  --end DATE     the day after the last generated day, YYYY-MM-DD (default %s):\n"
            "                 events span [DATE - D days, DATE)\n"
            "  --out FILE     write to FILE instead of stdout\n"
            "  --help         this help\n\n"
            "Prints one summary line on stderr. Exit status: 0 done, 2 usage or I/O error.\n"
            "Example: tend generate --accounts 200 --days 365 > events.jsonl\n"
            "         tend import events.jsonl\n",
            GEN_MAX_ACCOUNTS, GEN_MAX_DAYS, GEN_DEFAULT_END);
}

/* Parses a decimal integer in [lo, hi]; false if s is anything else. */
static bool parse_int(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_seed(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

int cmd_generate(int argc, char **argv) {
    static const struct option opts[] = {
        {"accounts", required_argument, NULL, 'a'},
        {"days", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},
        {"end", required_argument, NULL, 'e'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct gen_options opt = {.seed = 1};
    const char *out_path = NULL, *end = GEN_DEFAULT_END;
    long long v;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (!parse_int(optarg, 1, GEN_MAX_ACCOUNTS, &v))
                return cli_usage_error("generate",
                                       "--accounts must be an integer from 1 to %d, "
                                       "not \"%s\"",
                                       GEN_MAX_ACCOUNTS, optarg);
            opt.accounts = v;
            break;
        case 'd':
            if (!parse_int(optarg, 1, GEN_MAX_DAYS, &v))
                return cli_usage_error("generate",
                                       "--days must be an integer from 1 to %d, not \"%s\"",
                                       GEN_MAX_DAYS, optarg);
            opt.days = (int32_t)v;
            break;
        case 's':
            if (!parse_seed(optarg, &opt.seed))
                return cli_usage_error("generate",
                                       "--seed must be an integer from 0 to 18446744073709551615, "
                                       "not \"%s\"",
                                       optarg);
            break;
        case 'e':
            end = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("generate", "unexpected argument \"%s\"", argv[optind]);
    if (!opt.accounts)
        return cli_usage_error("generate", "--accounts N is required");
    if (!opt.days)
        return cli_usage_error("generate", "--days D is required");
    int32_t end_day;
    if (!dt_parse_date(end, strlen(end), &end_day))
        return cli_usage_error("generate", "--end must be a date YYYY-MM-DD, not \"%s\"", end);
    if (end_day - opt.days < dt_days_from_civil(1971, 1, 1) ||
        end_day > dt_days_from_civil(9990, 1, 1))
        return cli_usage_error("generate", "--end %s with --days %d leaves the years 1971-9989",
                               end, (int)opt.days);
    opt.end_day = end_day;

    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "wb"))) {
        fprintf(stderr, "tend generate: cannot write %s: %m\n", out_path);
        return EXIT_USAGE;
    }
    struct gen_totals totals;
    enum tend_err err = gen_write(out, &opt, &totals);
    if (out_path && fclose(out) != 0 && !err)
        err = TEND_ERR_IO;
    if (err) {
        fprintf(stderr, "tend generate: writing %s: %s\n", out_path ? out_path : "stdout",
                err == TEND_ERR_IO ? strerror(errno) : tend_strerror(err));
        return EXIT_USAGE;
    }
    fprintf(stderr,
            "tend generate: %lld accounts (%lld created in the window), %lld users, %lld events, "
            "%lld churned, %lld renewed, %lld subscription changes\n",
            (long long)totals.accounts, (long long)totals.new_accounts, (long long)totals.users,
            (long long)totals.events, (long long)totals.churned, (long long)totals.renewed,
            (long long)totals.sub_changes);
    return 0;
}
