/* cmd_eval.c: tend eval: run the rules and keep the CTAs (SPEC 5).
 *
 *   tend eval --at D                  evaluate every account as of day D
 *   tend eval --from D1 --to D2       replay day by day, as a daily schedule would
 *
 * Each day computes metrics and scores (stored), runs the rules and opens,
 * raises, wakes and resolves CTAs in one transaction (eval/ctas.h). A day
 * already evaluated can be evaluated again and changes nothing; a day before
 * the latest evaluation cannot, since CTAs only move forward in time, unless
 * --rebuild forgets every CTA and replays from scratch. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/output.h"
#include "eval/ctas.h"
#include "eval/customer.h"
#include "eval/eval.h"
#include "notify/unsub.h"
#include "util/datetime.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend eval [--db PATH] [--config tend.yaml] --at DATE [--format FORMAT]\n"
            "       tend eval [--db PATH] [--config tend.yaml] --from DATE --to DATE "
            "[--rebuild] [--quiet]\n"
            "\n"
            "Evaluates every account as of the end of a day: metrics, health scores (stored),\n"
            "the rules of tend.yaml (docs/rules.md), and the CTAs they open, raise, wake and\n"
            "resolve. Prints each change and a summary.\n\n"
            "  --at DATE        the day to evaluate (default: today, UTC); evaluating a day\n"
            "                   again changes nothing\n"
            "  --from, --to     replay every day from one date to the other, inclusive, as a\n"
            "                   daily schedule would have: the history of CTAs over a period\n"
            "  --rebuild        forget every CTA and evaluation first (a replay from scratch)\n"
            "  --quiet          with --from/--to: one line per day, no changes\n"
            "  --config FILE    tend.yaml (health:, rules:, ctas:)\n"
            "  --format FORMAT  table (default), csv or json: the changes\n"
            "  --db PATH        database (default ./%s)\n",
            DEFAULT_DB);
}

struct printing {
    struct out_table *t;
    bool quiet;
    int64_t errors_shown;
};

static void on_change(void *arg, const struct eval_change *ch, const char *error,
                      const char *account) {
    struct printing *p = arg;
    if (error) {
        /* A failing custom rule: said once per rule and day is enough. */
        if (p->errors_shown++ < 20)
            fprintf(stderr, "tend eval: %s (account %s); the other rules went on\n", error,
                    account ? account : "?");
        return;
    }
    if (p->quiet || !p->t)
        return;
    const struct store_cta *c = ch->cta;
    char due[16];
    dt_format_date(c->due_day, due);
    out_row(p->t);
    out_str(p->t, ch->action);
    out_int(p->t, c->id);
    out_str(p->t, c->account);
    out_str(p->t, c->rule);
    out_str(p->t, c->subject);
    out_str(p->t, c->type);
    out_str(p->t, cta_priority_name((enum cta_priority)c->priority));
    out_str(p->t, c->owner);
    out_str(p->t, due);
    out_str(p->t, c->title);
    out_str(p->t, c->reason);
}

/* Prints a day's summary, and warns of the caps (once per replay: the
 * worst day). */
static void print_summary(const struct eval_summary *s, const struct rules_config *rc, bool line,
                          bool warn) {
    char d[16];
    dt_format_date(s->day, d);
    if (!line)
        goto warnings;
    printf("%s: %lld accounts; opened %lld, raised %lld, woke %lld, resolved %lld", d,
           (long long)s->accounts, (long long)s->opened, (long long)s->raised, (long long)s->woken,
           (long long)s->resolved);
    if (s->closed_churned)
        printf(", closed %lld (churned)", (long long)s->closed_churned);
    if (s->expired)
        printf(", expired %lld (no one acted on them)", (long long)s->expired);
    if (s->held_budget)
        printf("; %lld held back by the budget (tend ctas --held)", (long long)s->held_budget);
    printf("; %lld open or snoozed", (long long)s->live_total);
    if (s->notifications)
        printf("; %lld messages queued (tend deliver sends them)", (long long)s->notifications);
    printf("; %lld ms\n", (long long)s->run_ms);
warnings:
    if (!warn)
        return;
    /* Limits are published and warned about before they bite. */
    if (s->held_back)
        fprintf(stderr,
                "tend eval: %s: %lld CTAs NOT opened: a cap was reached (ctas.max_open_total %d, "
                "ctas.max_open_per_account %d); the least urgent were held back\n",
                d, (long long)s->held_back, rc->max_open_total, rc->max_open_per_account);
    else if (s->live_total * 10 >= (int64_t)rc->max_open_total * 8)
        fprintf(stderr, "tend eval: %s: %lld open CTAs, %lld%% of ctas.max_open_total (%d)\n", d,
                (long long)s->live_total, (long long)(s->live_total * 100 / rc->max_open_total),
                rc->max_open_total);
    if (!s->held_back && s->busiest_account_live * 10 >= (int64_t)rc->max_open_per_account * 8)
        fprintf(stderr,
                "tend eval: %s: an account has %lld open CTAs, near ctas.max_open_per_account "
                "(%d)\n",
                d, (long long)s->busiest_account_live, rc->max_open_per_account);
    if (s->rule_errors)
        fprintf(stderr, "tend eval: %s: %lld custom rule errors\n", d, (long long)s->rule_errors);
}

int cmd_eval(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
        {"at", required_argument, NULL, 't'}, {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'}, {"rebuild", no_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},    {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL;
    struct cli_days days;
    cli_days_init(&days);
    bool rebuild = false, quiet = false;
    enum out_format format = OUT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 't':
        case 'F':
        case 'T':
            if (cli_days_option("eval", c == 't' ? "at" : c == 'F' ? "from" : "to", optarg, &days))
                return EXIT_USAGE;
            break;
        case 'r':
            rebuild = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'f':
            if (cli_parse_format("eval", optarg, &format))
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
        return cli_usage_error("eval", "unexpected argument \"%s\"", argv[optind]);
    int32_t first, last;
    if (cli_days_range("eval", &days, &first, &last))
        return EXIT_USAGE;
    bool has_from = days.has_from;

    static struct tend_config cfg; /* large: the rules' settings */
    int rc = cli_load_config("eval", config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    struct store *st;
    if ((rc = cli_open_store(db, &st))) {
        cli_free_config(&cfg);
        return rc;
    }
    int refreshed;
    int64_t latest;
    bool found = false;
    enum tend_err err = eval_refresh_rollups(st, &refreshed);
    if (!err && rebuild && !(err = store_begin(st, NULL))) {
        err = store_ctas_reset(st);
        err = err ? err : store_commit(st);
        if (err)
            store_rollback(st);
    }
    if (!err)
        err = store_eval_run_before(st, INT64_MAX, &latest, &found);
    if (!err && found && (int64_t)(first + 1) * DT_MS_PER_DAY < latest) {
        char d[16];
        dt_format_date(dt_day_of_ms(latest - 1), d);
        fprintf(stderr,
                "tend eval: evaluated up to %s already; CTAs only move forward in time. "
                "Evaluate %s or later, or replay from scratch with --rebuild\n",
                d, d);
        store_close(st);
        cli_free_config(&cfg);
        return EXIT_USAGE;
    }
    static const char *const cols[] = {"action",   "id",    "account_id", "rule",
                                       "subject",  "type",  "priority",   "owner",
                                       "due_date", "title", "reason"};
    struct printing p = {.quiet = quiet || has_from};
    if (!p.quiet)
        p.t = out_new(cols, sizeof cols / sizeof cols[0]);
    struct eval_summary total = {0}, worst = {0};
    /* Messages to customers: their unsubscribe links are signed with the
     * key tend serve checks them with (notify/unsub.h). */
    unsigned char unsub_key[UNSUB_KEY_BYTES];
    if (!err && cfg.customer.enabled) {
        char uerr[UNSUB_ERR_BYTES];
        if (unsub_key_load(cfg.serve.session_key, db, unsub_key, uerr)) {
            fprintf(stderr, "tend eval: %s\n", uerr);
            store_close(st);
            cli_free_config(&cfg);
            return EXIT_USAGE;
        }
    }
    for (int32_t day = first; !err && day <= last; day++) {
        struct eval_summary sum;
        err = eval_ctas_day(st, &cfg.health, &cfg.rules, &cfg.notify, day, on_change, &p, &sum);
        struct customer_summary cs = {0};
        if (!err && cfg.customer.enabled)
            err = customer_eval(st, &cfg.customer, &cfg.notify, unsub_key, day, dt_now_ms(), NULL,
                                0, &cs);
        if (err)
            break;
        if (cs.queued || cs.unsubscribed || cs.no_recipient)
            fprintf(stderr,
                    "tend eval: customer messages: %lld queued, %lld withheld (unsubscribed), "
                    "%lld without a recipient\n",
                    (long long)cs.queued, (long long)cs.unsubscribed, (long long)cs.no_recipient);
        if (p.t && (format != OUT_TABLE || sum.opened + sum.raised + sum.woken + sum.resolved +
                                                   sum.closed_churned + sum.expired >
                                               0))
            out_print(p.t, format, stdout);
        if (format == OUT_TABLE || has_from)
            print_summary(&sum, &cfg.rules, !quiet || !has_from, !has_from);
        if (sum.held_back > total.held_back || sum.live_total > worst.live_total ||
            sum.busiest_account_live > worst.busiest_account_live)
            worst = sum;
        total.held_back += sum.held_back;
        total.held_budget += sum.held_budget;
        total.opened += sum.opened;
        total.raised += sum.raised;
        total.woken += sum.woken;
        total.resolved += sum.resolved;
        total.run_ms += sum.run_ms;
        total.notifications += sum.notifications;
        total.live_total = sum.live_total;
    }
    if (!err && has_from)
        printf("replayed %d days: opened %lld, raised %lld, woke %lld, resolved %lld; %lld held "
               "back by the budget; %lld open or snoozed at the end; %lld messages queued; %lld "
               "ms\n",
               last - first + 1, (long long)total.opened, (long long)total.raised,
               (long long)total.woken, (long long)total.resolved, (long long)total.held_budget,
               (long long)total.live_total, (long long)total.notifications,
               (long long)total.run_ms);
    if (!err && has_from) {
        worst.held_back = total.held_back;
        print_summary(&worst, &cfg.rules, false, true);
    }
    if (err)
        fprintf(stderr, "tend eval: %s\n", store_last_error(st));
    out_free(p.t);
    store_close(st);
    cli_free_config(&cfg);
    return err ? EXIT_USAGE : 0;
}
