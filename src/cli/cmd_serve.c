/* cmd_serve.c: tend serve: the long-running service.
 *
 * For now the Segment-compatible ingest API (server/http.h); later issues add
 * the scheduler, the dispatcher and the dashboard to the same process. Stops
 * gracefully on SIGTERM or SIGINT: no new connections, requests in flight
 * finish and are committed, then the database is closed. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "server/http.h"
#include "util/mem.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8088"
#define SERVE_MAX_KEYS       64
#define SERVE_STOP_MS        30000

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend serve [--db PATH] [--listen HOST:PORT] --write-key KEY...\n\n"
            "Runs the Segment-compatible HTTP API: POST /v1/track, /v1/identify, /v1/group,\n"
            "/v1/page, /v1/screen, /v1/alias and /v1/batch; GET /healthz. Clients send the\n"
            "write key as the HTTP Basic user name (empty password) or as \"writeKey\" in the\n"
            "body. A 200 means the messages are on disk.\n\n"
            "  --db PATH          database (default ./%s)\n"
            "  --listen HOST:PORT address to listen on (default %s)\n"
            "  --write-key KEY    a write key clients must present (repeat for several;\n"
            "                     the environment variable TEND_WRITE_KEY adds one)\n"
            "  --help             this help\n\n"
            "SIGTERM or SIGINT stop it gracefully: requests in flight finish first.\n",
            DEFAULT_DB, SERVE_DEFAULT_LISTEN);
}

int cmd_serve(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"write-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = DEFAULT_DB;
    const char *keys[SERVE_MAX_KEYS];
    struct http_config cfg = {.listen = SERVE_DEFAULT_LISTEN, .write_keys = keys};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'l':
            cfg.listen = optarg;
            break;
        case 'k':
            if (cfg.n_write_keys == SERVE_MAX_KEYS)
                return cli_usage_error("serve", "at most %d write keys", SERVE_MAX_KEYS);
            if (!optarg[0])
                return cli_usage_error("serve", "--write-key must not be empty");
            keys[cfg.n_write_keys++] = optarg;
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
        return cli_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);
    const char *env_key = getenv("TEND_WRITE_KEY");
    if (env_key && env_key[0] && cfg.n_write_keys < SERVE_MAX_KEYS)
        keys[cfg.n_write_keys++] = env_key;
    if (cfg.n_write_keys == 0)
        return cli_usage_error("serve", "give at least one --write-key: ingest needs one");

    /* Block the stop signals in every thread; this one waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct store *s;
    int rc = cli_open_store(db, &s);
    if (rc)
        return rc;
    struct http_server *h;
    char err[HTTP_ERR_BYTES];
    if (http_start(s, &cfg, &h, err)) {
        fprintf(stderr, "tend serve: %s\n", err);
        store_close(s);
        return EXIT_USAGE;
    }
    fprintf(stderr, "tend serve: listening on http://%s (database %s)\n", cfg.listen, db);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "tend serve: %s received, finishing requests in flight\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    http_stop(h, SERVE_STOP_MS);
    store_close(s);
    fprintf(stderr, "tend serve: stopped\n");
    return 0;
}
