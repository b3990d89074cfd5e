/* cmd_serve.c: tend serve: the long-running service.
 *
 * The Segment-compatible ingest API (server/http.h) and, when tend.yaml
 * configures channels, the delivery dispatcher (notify/dispatch.h) in a
 * thread of its own with its own connection; later issues add the scheduler
 * and the dashboard. Stops gracefully on SIGTERM or SIGINT: no new
 * connections, requests in flight finish and are committed, transfers in
 * flight finish and their outcome is recorded, then the database is closed. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "notify/dispatch.h"
#include "server/http.h"
#include "util/mem.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8088"
#define SERVE_MAX_KEYS       64
#define SERVE_STOP_MS        30000

static void usage(FILE *f) {
    fprintf(f,
            "Usage: tend serve [--db PATH] [--config tend.yaml] [--listen HOST:PORT]\n"
            "                  --write-key KEY...\n\n"
            "Runs the Segment-compatible HTTP API: POST /v1/track, /v1/identify, /v1/group,\n"
            "/v1/page, /v1/screen, /v1/alias and /v1/batch; GET /healthz. Clients send the\n"
            "write key as the HTTP Basic user name (empty password) or as \"writeKey\" in the\n"
            "body. A 200 means the messages are on disk.\n\n"
            "  --db PATH          database (default ./%s)\n"
            "  --config FILE      tend.yaml; with channels, the outbox is sent continuously\n"
            "                     (docs/delivery.md)\n"
            "  --listen HOST:PORT address to listen on (default %s)\n"
            "  --write-key KEY    a write key clients must present (repeat for several;\n"
            "                     the environment variable TEND_WRITE_KEY adds one)\n"
            "  --help             this help\n\n"
            "SIGTERM or SIGINT stop it gracefully: requests in flight finish first.\n",
            DEFAULT_DB, SERVE_DEFAULT_LISTEN);
}

#define DELIVERY_RETRY_MS 5000 /* after a store error, or while another dispatcher runs */

/* The dispatcher thread: its own connection, until stop. */
struct delivery {
    const char *db;
    const struct notify_config *c;
    atomic_int stop;
    pthread_t thread;
};

/* Sleeps ms unless stop comes first; true when stopping. */
static bool pause_unless_stopped(struct delivery *d, int ms) {
    for (int waited = 0; waited < ms && !atomic_load(&d->stop); waited += 100)
        usleep(100 * 1000);
    return atomic_load(&d->stop);
}

static void on_outcome(void *arg, const struct store_outbox *r, const char *status,
                       const char *error) {
    if (error)
        fprintf(stderr, "tend serve: delivery #%lld %s %s: %s: %s\n", (long long)r->id, r->channel,
                r->target[0] ? r->target : r->owner, status, error);
}

/* Holds the dispatcher lock (waiting while a tend deliver has it) and runs
 * the dispatcher; a store error (the database busy for longer than the busy
 * timeout, a full disk) is logged and the dispatcher starts again after a
 * pause, recovering the rows it left `sending`. */
static void *deliver_main(void *arg) {
    struct delivery *d = arg;
    char err[STORE_ERR_BYTES > DISPATCH_ERR_BYTES ? STORE_ERR_BYTES : DISPATCH_ERR_BYTES];
    int lock = -1;
    bool told = false;
    while (dispatch_lock(d->db, &lock, err)) {
        if (!told)
            fprintf(stderr, "tend serve: delivery waits: %s\n", err);
        told = true;
        if (pause_unless_stopped(d, DELIVERY_RETRY_MS))
            return NULL;
    }
    while (!atomic_load(&d->stop)) {
        struct store *s;
        if (store_open(d->db, &s, err)) {
            fprintf(stderr, "tend serve: delivery: %s; again in %d s\n", err,
                    DELIVERY_RETRY_MS / 1000);
        } else {
            struct dispatch_options o = {.stop = &d->stop, .outcome = on_outcome};
            struct dispatch_summary sum;
            if (dispatch_run(s, d->c, &o, &sum))
                fprintf(stderr, "tend serve: delivery: %s; again in %d s\n", store_last_error(s),
                        DELIVERY_RETRY_MS / 1000);
            store_close(s);
        }
        pause_unless_stopped(d, DELIVERY_RETRY_MS);
    }
    close(lock);
    return NULL;
}

int cmd_serve(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'}, {"write-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *db = DEFAULT_DB, *config = NULL;
    const char *keys[SERVE_MAX_KEYS];
    struct http_config cfg = {.listen = SERVE_DEFAULT_LISTEN, .write_keys = keys};
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

    static struct tend_config tc;
    int rc = cli_load_config("serve", config, &tc);
    if (rc)
        return rc;
    struct store *s;
    if ((rc = cli_open_store(db, &s))) {
        cli_free_config(&tc);
        return rc;
    }
    struct delivery d = {.db = db, .c = &tc.notify};
    char derr[NOTIFY_ERR_BYTES];
    if (tc.notify.n_channels && notify_config_ready(&tc.notify, derr)) {
        fprintf(stderr, "tend serve: %s: %s\n", config, derr);
        store_close(s);
        cli_free_config(&tc);
        return EXIT_USAGE;
    }
    struct http_server *h;
    char err[HTTP_ERR_BYTES];
    if (http_start(s, &cfg, &h, err)) {
        fprintf(stderr, "tend serve: %s\n", err);
        store_close(s);
        cli_free_config(&tc);
        return EXIT_USAGE;
    }
    bool delivering =
        tc.notify.n_channels && pthread_create(&d.thread, NULL, deliver_main, &d) == 0;
    fprintf(stderr, "tend serve: listening on http://%s (database %s)%s\n", cfg.listen, db,
            delivering ? "; delivering the outbox" : "");
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "tend serve: %s received, finishing requests in flight\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    atomic_store(&d.stop, 1); /* no new attempt from now on */
    http_stop(h, SERVE_STOP_MS);
    if (delivering)
        pthread_join(d.thread, NULL);
    cli_free_config(&tc);
    store_close(s);
    fprintf(stderr, "tend serve: stopped\n");
    return 0;
}
