/* cmd_analyze_impact.c: tend analyze impact: what acting on CTAs is worth,
 * from the randomised holdout and, with its caveat, from what CSMs did
 * (analysis/impact.h, docs/analysis.md "Impact").
 *
 *   tend analyze impact [--rule R] [--horizon DAYS] [--acted-within DAYS]
 *                       [--at DATE] [--format table|csv|json]
 *
 * The table is for reading; csv has one row per rule (the experiment);
 * json has everything, the observation's strata included. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/impact.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: tend analyze impact [--db PATH] [--rule NAME] [--horizon DAYS]\n"
               "                           [--acted-within DAYS] [--at DATE]\n"
               "                           [--format table|csv|json]\n"
               "\n"
               "Churn within the horizon after a CTA opened, for accounts whose CTAs were\n"
               "delivered against accounts the rule's randomised holdout kept them from\n"
               "(rules.NAME.holdout), with the difference's 95%% interval and the ARR it\n"
               "implies; then CTAs acted on within --acted-within days against the others, by\n"
               "health band (an association: CSMs choose what to act on).\n\n"
               "  --rule NAME          one rule (default: every rule with a holdout)\n"
               "  --horizon DAYS       churn counted within DAYS of the open (default 90)\n"
               "  --acted-within DAYS  a person's action within DAYS counts as acted on (7)\n"
               "  --at DATE            the last day of data (default: the latest event's)\n");
}

static const char *const cols[] = {
    "rule",           "holdout_share", "delivered",     "delivered_churned",
    "delivered_rate", "held_out",      "held_churned",  "held_rate",
    "difference",     "ci_low",        "ci_high",       "relative_risk",
    "arr_kept",       "arr_kept_low",  "arr_kept_high", "pending"};

static void num(struct out_table *t, bool has, double v) {
    out_num(t, v, has && isfinite(v));
}

static void print_csv(const struct impact_report *r, enum out_format format) {
    struct out_table *t = out_new(cols, sizeof cols / sizeof cols[0]);
    for (size_t i = 0; i < r->n_rules; i++) {
        const struct impact_rule *x = &r->rules[i];
        out_row(t);
        out_str(t, x->rule);
        out_num(t, x->share, true);
        out_int(t, x->arm[0].accounts);
        out_int(t, x->arm[0].churned);
        num(t, x->arm[0].accounts > 0, x->arm[0].rate);
        out_int(t, x->arm[1].accounts);
        out_int(t, x->arm[1].churned);
        num(t, x->arm[1].accounts > 0, x->arm[1].rate);
        num(t, x->has_diff, x->diff);
        num(t, x->has_diff, x->lo);
        num(t, x->has_diff, x->hi);
        num(t, x->has_diff, x->relative_risk);
        num(t, x->has_diff, x->arr_kept);
        num(t, x->has_diff, x->arr_kept_lo);
        num(t, x->has_diff, x->arr_kept_hi);
        out_int(t, x->pending);
    }
    out_print(t, format, stdout);
    out_free(t);
}

static void pct(char *out, size_t size, bool has, double v) {
    if (has && isfinite(v))
        snprintf(out, size, "%.1f%%", v * 100);
    else
        snprintf(out, size, "-");
}

static void print_text(const struct impact_report *r) {
    char as_of[16];
    dt_format_date(r->as_of, as_of);
    printf("Impact of delivering CTAs: churn within %d days of the CTA, as of %s\n\n",
           r->horizon_days, as_of);
    printf("The randomised holdout (the effect of delivering; 95%% interval, Newcombe):\n");
    if (!r->n_rules)
        printf("  no rule has a holdout yet (rules.NAME.holdout: 10%% in tend.yaml)\n");
    for (size_t i = 0; i < r->n_rules; i++) {
        const struct impact_rule *x = &r->rules[i];
        char p0[16], p1[16], d[16], lo[16], hi[16];
        pct(p1, sizeof p1, x->arm[0].accounts > 0, x->arm[0].rate);
        pct(p0, sizeof p0, x->arm[1].accounts > 0, x->arm[1].rate);
        pct(d, sizeof d, x->has_diff, x->diff);
        pct(lo, sizeof lo, x->has_diff, x->lo);
        pct(hi, sizeof hi, x->has_diff, x->hi);
        printf("  %s (holdout %g%%): delivered %lld accounts, %lld churned (%s); held out %lld, "
               "%lld churned (%s)\n",
               x->rule, x->share * 100, (long long)x->arm[0].accounts, (long long)x->arm[0].churned,
               p1, (long long)x->arm[1].accounts, (long long)x->arm[1].churned, p0);
        if (x->has_diff)
            printf("    difference %s (%s to %s); ARR kept by delivering: %.0f (%.0f to %.0f)\n", d,
                   lo, hi, x->arr_kept, x->arr_kept_lo, x->arr_kept_hi);
        else
            printf("    no difference yet: an arm has no account whose %d days have passed\n",
                   r->horizon_days);
        if (x->has_health)
            printf("    health 30 days later, delivered minus held out: %+.1f points (%+.1f to "
                   "%+.1f)\n",
                   x->health_diff, x->health_lo, x->health_hi);
        if (x->pending)
            printf("    %lld more accounts wait for their %d days to pass\n", (long long)x->pending,
                   r->horizon_days);
    }
    printf("\nActed on within %d days or not, delivered CTAs, by health band when opened:\n",
           r->acted_within_days);
    for (int b = 0; b < IMPACT_BANDS; b++) {
        const struct impact_stratum *st = &r->strata[b];
        if (!st->n[0] && !st->n[1])
            continue;
        char d[16], lo[16], hi[16];
        pct(d, sizeof d, st->has_diff, st->diff);
        pct(lo, sizeof lo, st->has_diff, st->lo);
        pct(hi, sizeof hi, st->has_diff, st->hi);
        printf("  %-6s acted %lld (%lld churned), not %lld (%lld churned): difference %s (%s to "
               "%s)\n",
               impact_band_names[b], (long long)st->n[0], (long long)st->churned[0],
               (long long)st->n[1], (long long)st->churned[1], d, lo, hi);
    }
    if (r->has_obs)
        printf("  all bands, weighted by size: %+.1f%% (%+.1f%% to %+.1f%%)\n", r->obs_diff * 100,
               r->obs_lo * 100, r->obs_hi * 100);
    printf("\nWarning: %s\n", impact_observation_warning);
}

int cmd_analyze_impact(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},      {"rule", required_argument, NULL, 'r'},
        {"horizon", required_argument, NULL, 'H'}, {"acted-within", required_argument, NULL, 'a'},
        {"at", required_argument, NULL, 't'},      {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *db = cli_db_default();
    struct impact_options o = {.horizon_days = 90, .acted_within_days = 7};
    bool has_at = false;
    enum out_format format = OUT_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'r':
            o.rule = optarg;
            break;
        case 'H':
            if (cli_parse_days_count("analyze impact", "horizon", optarg, &o.horizon_days))
                return EXIT_USAGE;
            break;
        case 'a':
            if (cli_parse_days_count("analyze impact", "acted-within", optarg,
                                     &o.acted_within_days))
                return EXIT_USAGE;
            break;
        case 't':
            if (!dt_parse_date(optarg, strlen(optarg), &o.as_of))
                return cli_usage_error("analyze impact",
                                       "--at must be a date YYYY-MM-DD, not "
                                       "\"%s\"",
                                       optarg);
            has_at = true;
            break;
        case 'f':
            if (cli_parse_format("analyze impact", optarg, &format))
                return EXIT_USAGE;
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
        return cli_usage_error("analyze impact", "unexpected argument \"%s\"", argv[optind]);
    struct store *st;
    int rc = cli_open_store(db, &st);
    if (rc)
        return rc;
    if (!has_at) {
        bool found = false;
        if (store_last_event_day(st, &o.as_of, &found)) {
            fprintf(stderr, "tend analyze impact: %s\n", store_last_error(st));
            store_close(st);
            return EXIT_USAGE;
        }
        if (!found)
            o.as_of = dt_day_of_ms(dt_now_ms());
    }
    struct impact_report r;
    char err[IMPACT_ERR_BYTES];
    enum tend_err e = impact_run(st, &o, &r, err);
    store_close(st);
    if (e) {
        fprintf(stderr, "tend analyze impact: %s\n", err);
        return EXIT_USAGE;
    }
    if (format == OUT_JSON) {
        cJSON *j = impact_json(&r);
        char *text = cJSON_Print(j);
        puts(text);
        cJSON_free(text);
        cJSON_Delete(j);
    } else if (format == OUT_CSV) {
        print_csv(&r, format);
    } else {
        print_text(&r);
    }
    impact_report_free(&r);
    return 0;
}
