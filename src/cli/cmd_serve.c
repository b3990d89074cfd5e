/* cmd_serve.c: tend serve: the long-running service.
 *
 * The Segment-compatible ingest API, the dashboard and REST API
 * (server/http.h, server/web.h), the evaluation scheduler (server/sched.h)
 * and, when tend.yaml configures channels, the delivery dispatcher
 * (notify/dispatch.h), each in threads of their own with their own
 * connections. The listening socket is bound first, before the database is
 * opened: a port in use stops tend serve before it evaluates or queues
 * anything. Stops gracefully on SIGTERM or SIGINT: no new
 * connections, requests in flight finish and are committed, transfers in
 * flight finish and their outcome is recorded, then the database is closed.
 * Every line it logs goes through log_printf (util/log.h): data in a line
 * (an account id, a webhook's error) can never forge another line. */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "notify/dispatch.h"
#include "server/auth.h"
#include "server/http.h"
#include "server/sched.h"
#include "server/web.h"
#include "util/log.h"
#include "util/mem.h"

#define SERVE_MAX_KEYS 64
#define SERVE_STOP_MS  30000

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

#define DELIVERY_RETRY_MS 5000 /* after a store error, or while another dispatcher runs */

/* The dispatcher thread: its own connection, until stop. */
struct delivery {
    const char *db;
    const struct notify_config *c;
    struct web *web; /* counts the outcomes for /metrics */
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
        log_printf("tend serve: delivery #%lld %s %s: %s: %s", (long long)r->id, r->channel,
                   r->target[0] ? r->target : r->owner, status, error);
}

static void on_outcome_counted(void *arg, const struct store_outbox *r, const char *status,
                               const char *error) {
    web_count_delivery(arg, r->channel, status);
    on_outcome(NULL, r, status, error);
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
            log_printf("tend serve: delivery waits: %s", err);
        told = true;
        if (pause_unless_stopped(d, DELIVERY_RETRY_MS))
            return NULL;
    }
    while (!atomic_load(&d->stop)) {
        struct store *s;
        if (store_open(d->db, &s, err)) {
            log_printf("tend serve: delivery: %s; again in %d s", err, DELIVERY_RETRY_MS / 1000);
        } else {
            struct dispatch_options o = {
                .stop = &d->stop, .outcome = on_outcome_counted, .arg = d->web};
            struct dispatch_summary sum;
            if (dispatch_run(s, d->c, &o, &sum))
                log_printf("tend serve: delivery: %s; again in %d s", store_last_error(s),
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
    const char *db = DEFAULT_DB, *config = NULL, *listen = NULL;
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
    struct http_config cfg = {
        .listen = listen       ? listen
                  : sc->listen ? sc->listen
                               : SERVE_DEFAULT_LISTEN,
        .write_keys = (const char *const *)sc->write_keys,
        .n_write_keys = sc->n_write_keys,
        .max_connections = max_connections,
        .max_per_address = max_per_address,
    };
    struct store *s = NULL;
    struct auth *auth = NULL;
    struct sched *sched = NULL;
    struct web *web = NULL;
    struct http_server *h = NULL;
    int listen_fd = -1;
    char derr[NOTIFY_ERR_BYTES];
    char key_path[4096], err[SERVE_ERR_BYTES > HTTP_ERR_BYTES ? SERVE_ERR_BYTES : HTTP_ERR_BYTES];
    if (tc.notify.n_channels && notify_config_ready(&tc.notify, derr)) {
        log_printf("tend serve: %s: %s", config, derr);
        rc = EXIT_USAGE;
        goto out;
    }
    /* The port first: when it is taken, nothing is evaluated or queued. */
    if (http_listen(cfg.listen, &listen_fd, err)) {
        log_printf("tend serve: %s", err);
        rc = EXIT_USAGE;
        goto out;
    }
    if ((rc = cli_open_store(db, &s)))
        goto out;
    snprintf(key_path, sizeof key_path, "%s.session-key", db);
    if (auth_new(sc, key_path, &auth, err)) {
        log_printf("tend serve: %s", err);
        rc = EXIT_USAGE;
        goto out;
    }
    if (evaluate) {
        struct sched_options so = {
            .db = db,
            .hc = &tc.health,
            .rc = &tc.rules,
            .nc = tc.notify.n_channels ? &tc.notify : NULL,
            .timezone = sc->timezone,
            .daily_minute = sc->daily_minute,
            .model = &tc.model,
        };
        if (sched_start(&so, &sched, err)) {
            log_printf("tend serve: %s", err);
            rc = EXIT_USAGE;
            goto out;
        }
        cfg.touched = sched_touch;
        cfg.touched_arg = sched;
    }
    struct view_env env = {.hc = &tc.health, .rc = &tc.rules};
    struct web_options wo = {
        .db = db,
        .auth = auth,
        .env = &env,
        .timezone = sc->timezone,
        .secure_cookies = tc.notify.base_url && strncmp(tc.notify.base_url, "https:", 6) == 0,
        .sched = sched,
    };
    web = web_new(&wo);
    cfg.web = web;
    int fd = listen_fd;
    listen_fd = -1; /* the server's now, even when it fails to start */
    if (http_start(s, &cfg, fd, &h, err)) {
        log_printf("tend serve: %s", err);
        rc = EXIT_USAGE;
        goto out;
    }
    struct delivery d = {.db = db, .c = &tc.notify, .web = web};
    bool delivering =
        tc.notify.n_channels && pthread_create(&d.thread, NULL, deliver_main, &d) == 0;
    char daily[8];
    snprintf(daily, sizeof daily, "%02d:%02d", sc->daily_minute / 60, sc->daily_minute % 60);
    log_printf("tend serve: listening on http://%s (database %s)%s%s%s%s%s", cfg.listen, db,
               evaluate ? "; evaluating daily at " : "", evaluate ? daily : "", evaluate ? " " : "",
               evaluate ? (sc->timezone ? sc->timezone : "UTC") : "",
               delivering ? "; delivering the outbox" : "");
    if (!sc->n_users && !sc->n_tokens)
        log_printf("tend serve: no users or tokens in serve: (tend.yaml): the dashboard and "
                   "REST API are closed; docs/dashboard.md");
    int sig = 0;
    sigwait(&stop, &sig);
    log_printf("tend serve: %s received, finishing requests in flight",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
    atomic_store(&d.stop, 1); /* no new attempt from now on */
    http_stop(h, SERVE_STOP_MS);
    h = NULL;
    sched_stop(sched); /* after the writer: no more events to hear of */
    sched = NULL;
    if (delivering)
        pthread_join(d.thread, NULL);
    log_printf("tend serve: stopped");
    rc = 0;
out:
    if (listen_fd >= 0)
        close(listen_fd);
    http_stop(h, SERVE_STOP_MS);
    sched_stop(sched);
    web_free(web);
    auth_free(auth);
    if (s)
        store_close(s);
    cli_free_config(&tc);
    return rc;
}
