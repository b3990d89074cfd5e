/* cmd_serve.c: tend serve: the long-running service.
 *
 * Reads the options and tend.yaml, starts one node (server/node.h: the
 * Segment-compatible ingest API, the dashboard and REST API, the evaluation
 * scheduler and, with channels, the delivery dispatcher, started and
 * stopped together) and waits for SIGTERM or SIGINT, which stop it
 * gracefully: no new connections, requests in flight finish and are
 * committed, transfers in flight finish and their outcome is recorded, then
 * the database is closed. Every line it logs goes through log_printf
 * (util/log.h): data in a line (an account id, a webhook's error) can never
 * forge another line. */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "server/http.h"
#include "server/node.h"
#include "store/move.h"
#include "util/log.h"

#define SERVE_MAX_KEYS 64

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend serve [--db PATH] [--config tend.yaml] [--listen HOST:PORT]\n"
            "                  [--write-key KEY...] [--no-eval]\n"
            "                  [--max-connections N] [--max-per-address N]\n\n"
            "Runs tend as a service (docs/dashboard.md): the Segment-compatible ingest API\n"
            "(POST /v1/..., by write key), the evaluation scheduler (daily at serve.daily_at,\n"
            "and at once for accounts with new events), the outbox's dispatcher (with\n"
            "channels), the dashboard, the REST API (/api/...) and /metrics.\n\n"
            "  --db PATH          database (default ./%s)\n"
            "  --config FILE      tend.yaml: serve:, health:, rules:, delivery: ... sections\n"
            "  --listen HOST:PORT address to listen on (default serve.listen, else %s)\n"
            "  --write-key KEY    a write key clients must present (repeat for several; these\n"
            "                     replace serve.write_keys; TEND_WRITE_KEY adds one)\n"
            "  --no-eval          no scheduler: ingest, dashboard and delivery only\n"
            "  --max-connections N connections open at once (default %d)\n"
            "  --max-per-address N connections from one client address (default %d; 0: no\n"
            "                     limit, behind a reverse proxy that has its own)\n"
            "  --help             this help\n\n"
            "SIGTERM or SIGINT stop it gracefully: requests in flight finish first.\n",
            DEFAULT_DB, SERVE_DEFAULT_LISTEN, HTTP_DEFAULT_MAX_CONNECTIONS,
            HTTP_DEFAULT_MAX_PER_ADDRESS);
}

int cmd_serve(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"write-key", required_argument, NULL, 'k'},
        {"no-eval", no_argument, NULL, 'n'},
        {"max-connections", required_argument, NULL, 'm'},
        {"max-per-address", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *config = NULL, *listen = NULL;
    const char *keys[SERVE_MAX_KEYS];
    size_t n_keys = 0;
    bool evaluate = true;
    unsigned max_connections = 0, max_per_address = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'k':
            if (n_keys == SERVE_MAX_KEYS)
                return cli_usage_error("serve", "at most %d write keys", SERVE_MAX_KEYS);
            if (!optarg[0])
                return cli_usage_error("serve", "--write-key must not be empty");
            keys[n_keys++] = optarg;
            break;
        case 'n':
            evaluate = false;
            break;
        case 'm':
        case 'p': {
            char *end;
            long v = strtol(optarg, &end, 10);
            long lo = c == 'm' ? 1 : 0;
            if (end == optarg || *end || v < lo || v > 1000000)
                return cli_usage_error(
                    "serve", "--%s must be a number from %ld to 1000000, not \"%s\"",
                    c == 'm' ? "max-connections" : "max-per-address", lo, optarg);
            if (c == 'm')
                max_connections = (unsigned)v;
            else
                max_per_address = v ? (unsigned)v : UINT_MAX;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);

    /* Block the stop signals in every thread; this one waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    static struct tend_config tc;
    int rc = cli_load_config("serve", config, &tc);
    db = cli_db_pick(db, &tc);
    if (rc)
        return rc;
    struct serve_config *sc = &tc.serve;
    if (n_keys) { /* the flags replace the file's keys */
        for (size_t i = 0; i < sc->n_write_keys; i++)
            free(sc->write_keys[i]);
        sc->n_write_keys = 0;
        for (size_t i = 0; i < n_keys; i++)
            serve_config_add_key(sc, keys[i]);
    }
    const char *env_key = getenv("TEND_WRITE_KEY");
    if (env_key && env_key[0])
        serve_config_add_key(sc, env_key);
    if (sc->n_write_keys == 0) {
        cli_free_config(&tc);
        return cli_usage_error("serve", "give at least one --write-key (or serve.write_keys in "
                                        "tend.yaml): ingest needs one");
    }
    struct node_options no = {
        .db = db,
        .store_flags = 0, /* tend serve creates the database (main.c: DB_CREATE) */
        .listen = listen       ? listen
                  : sc->listen ? sc->listen
                               : SERVE_DEFAULT_LISTEN,
        .write_keys = (const char *const *)sc->write_keys,
        .n_write_keys = sc->n_write_keys,
        .max_connections = max_connections,
        .max_per_address = max_per_address,
        .evaluate = evaluate,
        .serve = sc,
        .hc = &tc.health,
        .rc = &tc.rules,
        .kpis = &tc.kpis,
        .nc = &tc.notify,
        .model = &tc.model,
        .cc = &tc.customer,

        .escalation = &tc.escalation,
        .events = &tc.events,
        .connectors = &tc.connectors,
        .slack = &tc.slack,
    };
    struct node *node = NULL;
    struct node_info info;
    char err[NODE_ERR_BYTES];
    char derr[NOTIFY_ERR_BYTES];
    if (tc.notify.n_channels && notify_config_ready(&tc.notify, derr)) {
        log_printf("tend serve: %s: %s", config, derr);
        rc = EXIT_USAGE;
        goto out;
    }
    char kerr[SLACK_ERR_BYTES];
    if (slack_config_ready(&tc.slack, kerr)) {
        log_printf("tend serve: %s: %s", config, kerr);
        rc = EXIT_USAGE;
        goto out;
    }
    if (node_start(&no, &node, &info, err)) {
        log_printf("tend serve: %s", err);
        rc = EXIT_USAGE;
        goto out;
    }
    char daily[8], shown[1024];
    move_url_redacted(db, shown, sizeof shown); /* a URL's password stays out of the log */
    snprintf(daily, sizeof daily, "%02d:%02d", sc->daily_minute / 60, sc->daily_minute % 60);
    log_printf("tend serve: listening on http://%s (database %s)%s%s%s%s%s", no.listen, shown,
               info.evaluating ? "; evaluating daily at " : "", info.evaluating ? daily : "",
               info.evaluating ? " " : "",
               info.evaluating ? (sc->timezone ? sc->timezone : "UTC") : "",
               info.delivering ? "; delivering the outbox" : "");
    if (!sc->n_users && !sc->n_tokens)
        log_printf("tend serve: no users or tokens in serve: (tend.yaml): the dashboard and "
                   "REST API are closed; docs/dashboard.md");
    int sig = 0;
    sigwait(&stop, &sig);
    log_printf("tend serve: %s received, finishing requests in flight",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
    node_stop(node);
    log_printf("tend serve: stopped");
    rc = 0;
out:
    cli_free_config(&tc);
    return rc;
}
