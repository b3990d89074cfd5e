/* cmd_deliver.c: tend deliver and tend outbox (docs/delivery.md).
 *
 *   tend deliver [--config FILE] [--wait SECONDS] [--digest-now] [--quiet]
 *   tend outbox [--status S] [--channel C] [--cta ID] [--limit N] [--format F]
 *   tend outbox show ID
 *   tend outbox retry ID... | --dead
 *
 * deliver runs the dispatcher (notify/dispatch.h) once; tend serve runs the
 * same loop for good. outbox is the operator's view of what was sent, what
 * waits and what failed, and the way to send a failed message again. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "notify/dispatch.h"
#include "util/datetime.h"

static void usage_deliver(FILE *f) {
    fprintf(f,
            "Usage: tend deliver [--db PATH] --config tend.yaml [--wait SECONDS] [--digest-now]\n"
            "                    [--quiet]\n"
            "\n"
            "Sends the outbox's due messages to Slack, email, webhooks and logs, then exits.\n\n"
            "  --config FILE    tend.yaml with the channels (delivery:, channels:, routes:)\n"
            "  --wait SECONDS   also wait for retries due within this many seconds (default 0)\n"
            "  --digest-now     make every owner's digest now, whatever delivery.digest.hour\n"
            "  --quiet          print only the summary\n"
            "Exit status: 0 nothing went dead, 1 some message went dead, 2 a usage, config or\n"
            "database error.\n");
}

static void usage_outbox(FILE *f) {
    fprintf(f, "Usage: tend outbox [--db PATH] [--status S] [--channel C] [--cta ID] [--limit N]\n"
               "                   [--format table|csv|json]\n"
               "       tend outbox show ID [--db PATH] --config tend.yaml\n"
               "       tend outbox retry ID... | --dead   [--db PATH]\n"
               "\n"
               "Lists the outbox, newest first, with a count per status. S: held, digested,\n"
               "pending, sending, sent or dead. show prints a message as it would be sent now;\n"
               "retry makes dead (or pending) messages due now, attempts reset.\n");
}

static void when(char out[32], int64_t ms) {
    if (ms > 0)
        dt_format_instant(ms, out);
    else
        snprintf(out, 32, "-");
}

/* ---- tend deliver ---------------------------------------------------------------- */

static void on_outcome(void *arg, const struct store_outbox *r, const char *status,
                       const char *error) {
    if (*(bool *)arg || !error)
        return;
    char next[32];
    when(next, r->next_at_ms);
    if (strcmp(status, "dead") == 0)
        fprintf(stderr, "tend deliver: #%lld %s %s: dead: %s\n", (long long)r->id, r->channel,
                r->target[0] ? r->target : r->owner, error);
    else
        fprintf(stderr, "tend deliver: #%lld %s %s: attempt %lld failed, next at %s: %s\n",
                (long long)r->id, r->channel, r->target[0] ? r->target : r->owner,
                (long long)r->attempts, next, error);
}

int cmd_deliver(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"wait", required_argument, NULL, 'w'},
        {"digest-now", no_argument, NULL, 'g'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL;
    struct dispatch_options o = {0};
    bool quiet = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'w': {
            char *end;
            double s = strtod(optarg, &end);
            if (end == optarg || *end || s < 0 || s > 86400)
                return cli_usage_error("deliver", "--wait must be seconds from 0 to 86400");
            o.wait_ms = (int64_t)(s * 1000);
            break;
        }
        case 'g':
            o.digest_now = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage_deliver(stdout);
            return 0;
        default:
            usage_deliver(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("deliver", "unexpected argument \"%s\"", argv[optind]);
    static struct tend_config cfg;
    int rc = cli_load_config("deliver", config, &cfg);
    db = cli_db_pick(db, &cfg);
    if (rc)
        return rc;
    if (cfg.notify.n_channels == 0) {
        cli_free_config(&cfg);
        return cli_usage_error("deliver", "no channels configured%s (docs/delivery.md)",
                               config ? "" : ": give --config tend.yaml");
    }
    char err[DISPATCH_ERR_BYTES > NOTIFY_ERR_BYTES ? DISPATCH_ERR_BYTES : NOTIFY_ERR_BYTES];
    if (notify_config_ready(&cfg.notify, err)) {
        cli_free_config(&cfg);
        return cli_usage_error("deliver", "%s: %s", config, err);
    }
    int lock = -1;
    struct store *st = NULL;
    rc = cli_open_store(db, &st);
    if (!rc && dispatch_lock(db, &lock, err)) {
        fprintf(stderr, "tend deliver: %s\n", err);
        rc = EXIT_USAGE;
    }
    struct dispatch_summary sum;
    o.outcome = on_outcome;
    o.arg = &quiet;
    if (!rc && dispatch_run(st, &cfg.notify, &o, &sum)) {
        fprintf(stderr, "tend deliver: %s\n", store_last_error(st));
        rc = EXIT_USAGE;
    }
    if (!rc) {
        /* Every count is of messages (outbox rows); failed attempts are
         * counted apart, since one message can fail several times a run. */
        printf("sent %lld, retrying %lld message%s", (long long)sum.sent, (long long)sum.retrying,
               sum.retrying == 1 ? "" : "s");
        if (sum.failed_attempts)
            printf(" (%lld failed attempt%s)", (long long)sum.failed_attempts,
                   sum.failed_attempts == 1 ? "" : "s");
        printf(", dead %lld, held %lld", (long long)sum.dead, (long long)sum.held);
        if (sum.digests)
            printf(", digests made %lld", (long long)sum.digests);
        printf(", resent after a crash %lld", (long long)sum.recovered);
        if (sum.has_next) {
            char next[32];
            when(next, sum.next_at_ms);
            printf("; next attempt at %s", next);
        }
        printf("\n");
        rc = sum.dead ? EXIT_REJECTED : 0;
    }
    if (lock >= 0)
        close(lock);
    store_close(st);
    cli_free_config(&cfg);
    return rc;
}

/* ---- tend outbox ------------------------------------------------------------------- */

static const char *const cols[] = {"id",      "status",     "channel",  "target",  "owner",
                                   "event",   "cta",        "attempts", "resends", "next_at",
                                   "sent_at", "last_error", "key",      "digest"};

static void on_row(void *arg, const struct store_outbox *r) {
    struct out_table *t = arg;
    char next[32], sent[32];
    bool waiting = !strcmp(r->status, "pending") || !strcmp(r->status, "sending");
    when(next, waiting ? r->next_at_ms : 0);
    when(sent, r->sent_ms);
    out_row(t);
    out_int(t, r->id);
    out_str(t, r->status);
    out_str(t, r->channel);
    out_str(t, r->target);
    out_str(t, r->owner);
    out_str(t, r->event);
    if (r->cta_id)
        out_int(t, r->cta_id);
    else
        out_str(t, NULL);
    out_int(t, r->attempts);
    out_int(t, r->resends);
    out_str(t, waiting ? next : NULL);
    out_str(t, r->sent_ms ? sent : NULL);
    out_str(t, r->last_error);
    out_str(t, r->key);
    if (r->digest_id)
        out_int(t, r->digest_id);
    else
        out_str(t, NULL);
}

static void on_count(void *arg, const char *status, int64_t rows, int64_t resends) {
    int64_t *total = arg;
    fprintf(stderr, "%s%s %lld", total[0] ? ", " : "outbox: ", status, (long long)rows);
    total[0] += rows;
    total[1] += resends;
}

/* A destination held back (pacing, a 429's Retry-After), on stderr. */
static void on_hold(void *arg, const struct store_hold *h) {
    char until[32];
    when(until, h->not_before_ms);
    fprintf(stderr, "outbox: %s held back until %s (%s)\n", h->label, until, h->reason);
}

static int outbox_list(struct store *st, const struct store_outbox_filter *f,
                       enum out_format format) {
    struct out_table *t = out_new(cols, sizeof cols / sizeof cols[0]);
    enum tend_err err = store_outbox_each(st, f, on_row, t);
    int64_t totals[2] = {0, 0};
    if (!err)
        err = store_outbox_counts(st, on_count, totals);
    if (!err)
        fprintf(stderr, "%s; resent after a crash %lld\n", totals[0] ? "" : "outbox: empty",
                (long long)totals[1]);
    if (!err)
        err = store_outbox_holds_each(st, dt_now_ms(), on_hold, NULL);
    if (err)
        fprintf(stderr, "tend outbox: %s\n", store_last_error(st));
    else
        out_print(t, format, stdout);
    out_free(t);
    return err ? EXIT_USAGE : 0;
}

struct shown {
    struct store *st;
    const struct notify_config *c;
    enum tend_err err;
};

static void on_show(void *arg, const struct store_outbox *r) {
    struct shown *s = arg;
    char *text = NULL;
    s->err = dispatch_render(s->st, s->c, r, dt_now_ms(), &text);
    if (!s->err)
        fputs(text, stdout), fputs("\n", stdout);
    free(text);
}

static int outbox_show(struct store *st, const char *config, const char *id_text) {
    int64_t id = strtoll(id_text, NULL, 10);
    if (id <= 0)
        return cli_usage_error("outbox", "show takes a message id, not \"%s\"", id_text);
    static struct tend_config cfg;
    int rc = cli_load_config("outbox", config, &cfg);
    if (rc)
        return rc;
    struct shown s = {.st = st, .c = &cfg.notify};
    enum tend_err err = store_outbox_get(st, id, on_show, &s);
    if (!err)
        err = s.err;
    if (err == TEND_ERR_NOTFOUND && s.err) {
        rc = cli_usage_error("outbox", "message %lld's channel is not in the configuration%s",
                             (long long)id, config ? "" : " (give --config tend.yaml)");
    } else if (err == TEND_ERR_NOTFOUND) {
        rc = cli_usage_error("outbox", "no message %lld", (long long)id);
    } else if (err) {
        fprintf(stderr, "tend outbox: %s\n", store_last_error(st));
        rc = EXIT_USAGE;
    }
    cli_free_config(&cfg);
    return rc;
}

/* Re-queues the messages ids[0..n) and, with dead, every dead one. */
static int outbox_retry(struct store *st, char **ids, int n_ids, bool dead) {
    if (!dead && n_ids == 0)
        return cli_usage_error("outbox", "retry takes message ids or --dead");
    int rc = 0;
    int64_t now = dt_now_ms(), n = 0;
    enum tend_err err = store_begin(st, NULL);
    if (!err && dead)
        err = store_outbox_retry_dead(st, now, &n);
    for (int i = 0; !err && i < n_ids; i++) {
        int64_t id = strtoll(ids[i], NULL, 10);
        bool changed = false;
        if (id <= 0) {
            rc = cli_usage_error("outbox", "retry takes message ids or --dead, not \"%s\"", ids[i]);
            continue;
        }
        err = store_outbox_retry(st, id, now, &changed);
        if (!err && !changed) {
            fprintf(stderr,
                    "tend outbox: message %lld is not dead or pending (sent messages are not "
                    "sent again)\n",
                    (long long)id);
            rc = EXIT_REJECTED;
        }
        n += changed;
    }
    if (!err)
        err = store_commit(st);
    else
        store_rollback(st);
    if (err) {
        fprintf(stderr, "tend outbox: %s\n", store_last_error(st));
        return EXIT_USAGE;
    }
    printf("re-queued %lld message%s; tend deliver sends them\n", (long long)n, n == 1 ? "" : "s");
    return rc;
}

int cmd_outbox(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"config", required_argument, NULL, 'g'},
        {"status", required_argument, NULL, 's'}, {"channel", required_argument, NULL, 'c'},
        {"cta", required_argument, NULL, 't'},    {"limit", required_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'f'}, {"dead", no_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    static const char *const statuses[] = {"held",    "digested", "pending",
                                           "sending", "sent",     "dead"};
    const char *db = cli_db_default(), *config = NULL;
    struct store_outbox_filter f = {0};
    enum out_format format = OUT_TABLE;
    bool dead = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'g':
            config = optarg;
            break;
        case 's': {
            size_t i;
            for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
                if (strcmp(optarg, statuses[i]) == 0)
                    break;
            if (i == sizeof statuses / sizeof statuses[0])
                return cli_usage_error("outbox",
                                       "--status must be held, digested, pending, sending, "
                                       "sent or dead, not \"%s\"",
                                       optarg);
            f.status = optarg;
            break;
        }
        case 'c':
            f.channel = optarg;
            break;
        case 't':
            f.cta_id = strtoll(optarg, NULL, 10);
            if (f.cta_id <= 0)
                return cli_usage_error("outbox", "--cta must be a CTA id");
            break;
        case 'l':
            f.limit = strtoll(optarg, NULL, 10);
            if (f.limit <= 0)
                return cli_usage_error("outbox", "--limit must be a positive number");
            break;
        case 'f':
            if (cli_parse_format("outbox", optarg, &format))
                return EXIT_USAGE;
            break;
        case 'x':
            dead = true;
            break;
        case 'h':
            usage_outbox(stdout);
            return 0;
        default:
            usage_outbox(stderr);
            return EXIT_USAGE;
        }
    }
    const char *action = optind < argc ? argv[optind] : NULL;
    char **args = argv + optind + 1;
    int n_args = argc - optind - 1;
    if (action && strcmp(action, "show") != 0 && strcmp(action, "retry") != 0)
        return cli_usage_error("outbox", "unknown action \"%s\" (show, retry, or none to list)",
                               action);
    if (action && strcmp(action, "show") == 0 && n_args != 1)
        return cli_usage_error("outbox", "show takes one message id");
    struct store *st;
    int rc = cli_open_store(db, &st);
    if (rc)
        return rc;
    if (!action)
        rc = outbox_list(st, &f, format);
    else if (strcmp(action, "show") == 0)
        rc = outbox_show(st, config, args[0]);
    else
        rc = outbox_retry(st, args, n_args, dead);
    store_close(st);
    return rc;
}
