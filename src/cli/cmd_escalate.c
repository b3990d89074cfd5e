/* cmd_escalate.c: tend escalate (docs/delivery.md, Escalation).
 *
 *   tend escalate [--db PATH] --config tend.yaml [--at TIME] [--quiet]
 *
 * One pass of what tend serve's scheduler does every minute: each open CTA
 * nobody acted on in time, or overdue, escalated once per level, its
 * manager's message written to the outbox (tend deliver sends it). --at
 * runs the pass as of another instant, against the CTAs as they are now:
 * for tests, and to see what a pass at that time would do. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "eval/escalate.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: tend escalate [--db PATH] --config tend.yaml [--at TIME] [--quiet]\n"
               "\n"
               "Escalates the open CTAs nobody acted on within their priority's hours, or\n"
               "overdue by its days (tend.yaml's escalation section), once per level: the\n"
               "priority raised one step, the owner's manager told through the outbox, the\n"
               "CTA's history saying why. Business hours follow serve.timezone.\n\n"
               "  --at TIME   as of this instant (ISO 8601; a date D means D+1 00:00Z) instead\n"
               "              of now\n"
               "  --quiet     print only the summary\n");
}

static void on_escalation(void *arg, const struct eval_escalation *e) {
    if (*(bool *)arg)
        return;
    printf("CTA %lld (%s): escalated: %s\n", (long long)e->cta_id, e->account ? e->account : "?",
           e->note);
}

int cmd_escalate(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, 'a'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL;
    int64_t at = 0;
    bool has_at = false, quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'a':
            if (!cli_parse_at(optarg, &at))
                return cli_usage_error("escalate",
                                       "--at must be a date YYYY-MM-DD or an ISO-8601 instant, "
                                       "not \"%s\"",
                                       optarg);
            has_at = true;
            break;
        case 'q':
            quiet = true;
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
        return cli_usage_error("escalate", "unexpected argument \"%s\"", argv[optind]);
    static struct tend_config cfg;
    int rc = cli_load_config("escalate", config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    if (!cfg.escalation.enabled) {
        cli_free_config(&cfg);
        return cli_usage_error("escalate", "escalation is off%s (docs/delivery.md, Escalation)",
                               config ? ": tend.yaml has no escalation section, or enabled: false"
                                      : ": give --config tend.yaml");
    }
    struct store *st = NULL;
    rc = cli_open_store(db, &st);
    struct eval_esc_summary sum = {0};
    if (!rc && eval_escalate(st, &cfg.escalation, &cfg.notify, cfg.serve.timezone,
                             has_at ? at : dt_now_ms(), on_escalation, &quiet, &sum)) {
        fprintf(stderr, "tend escalate: %s\n", store_last_error(st));
        rc = EXIT_USAGE;
    }
    if (!rc)
        printf("%lld open CTAs, %lld escalated, %lld messages queued, %lld left for the next "
               "pass (max_per_pass)\n",
               (long long)sum.open, (long long)sum.escalated, (long long)sum.notifications,
               (long long)sum.deferred);
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}
