/* node.c: one tend serve node (see node.h). */
#include "server/node.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notify/dispatch.h"
#include "notify/unsub.h"
#include "server/auth.h"
#include "server/hooks.h"
#include "server/http.h"
#include "server/lease.h"
#include "server/sched.h"
#include "server/web.h"
#include "store/store.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"

#define DELIVERY_RETRY_MS 5000 /* after a store error, or while another dispatcher runs */

/* The dispatcher thread: its own connection, until stop. */
struct delivery {
    const char *db;
    /* Several nodes may share the database (PostgreSQL): their dispatchers
     * share the outbox through its claims, not a lock file of one machine. */
    bool shared;
    const struct notify_config *c;
    struct web *web; /* counts the outcomes for /metrics */
    atomic_int stop;
    pthread_t thread;
    bool running;
};

struct node {
    struct store *s;
    struct auth *auth;
    char id[STORE_NODE_ID_BYTES]; /* host:pid:random, in leases and claims */
    struct lease *lease;
    struct sched *_Atomic sched; /* set once started: the keeper wakes it */
    struct web *web;
    struct hooks *hooks; /* /hooks/ and the inbox worker; NULL: no connectors */
    struct slack *slack; /* NULL: no slack section */
    struct http_server *http;
    struct http_config cfg; /* the HTTP server keeps a pointer to it */
    struct view_env env;
    struct delivery d;
    unsigned char unsub_key[UNSUB_KEY_BYTES]; /* customer messages' unsubscribe links */
};

/* Sleeps ms unless stop comes first; true when stopping. */
static bool pause_unless_stopped(struct delivery *d, int ms) {
    for (int waited = 0; waited < ms && !atomic_load(&d->stop); waited += 100)
        usleep(100 * 1000);
    return atomic_load(&d->stop);
}

static void on_outcome(void *arg, const struct store_outbox *r, const char *status,
                       const char *error) {
    web_count_delivery(arg, r->channel, status);
    if (error)
        log_printf("tend serve: delivery #%lld %s %s: %s: %s", (long long)r->id, r->channel,
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
    while (!d->shared && dispatch_lock(d->db, &lock, err)) {
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
            struct dispatch_options o = {.stop = &d->stop, .outcome = on_outcome, .arg = d->web};
            struct dispatch_summary sum;
            if (dispatch_run(s, d->c, &o, &sum))
                log_printf("tend serve: delivery: %s; again in %d s", store_last_error(s),
                           DELIVERY_RETRY_MS / 1000);
            store_close(s);
        }
        pause_unless_stopped(d, DELIVERY_RETRY_MS);
    }
    if (lock >= 0)
        close(lock);
    return NULL;
}

/* The lease keeper heard a wake-up, or the lease changed hands: the
 * scheduler looks for work (a dispatcher polls the outbox on its own). */
static void on_woken(void *arg, const char *channel) {
    struct node *n = arg;
    struct sched *s = atomic_load(&n->sched);
    if (s && (!channel || strcmp(channel, STORE_CHANNEL_RUN) == 0))
        sched_wake(s);
}

/* A name no other node has, now or later: host, process, random. */
static void make_id(char *id, size_t size) {
    char host[64] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "host");
    unsigned r = (unsigned)(dt_now_ms() ^ (int64_t)getpid() << 16);
    FILE *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&r, sizeof r, 1, f) != 1)
            r ^= (unsigned)clock();
        fclose(f);
    }
    snprintf(id, size, "%.60s:%d:%08x", host, (int)getpid(), r);
}

void node_stop(struct node *n) {
    if (!n)
        return;
    atomic_store(&n->d.stop, 1); /* no new attempt at delivery from now on */
    http_stop(n->http, NODE_STOP_MS);
    hooks_stop(n->hooks); /* after the requests, before the scheduler it tells */
    struct sched *s = atomic_exchange(&n->sched, NULL);
    sched_stop(s);        /* after the writer: no more events to hear of */
    lease_stop(n->lease); /* after the scheduler: gives the lease up */
    if (n->d.running)
        pthread_join(n->d.thread, NULL);
    slack_free(n->slack); /* after the server: no new request; its queue drains */
    web_free(n->web);
    auth_free(n->auth);
    if (n->s)
        store_close(n->s);
    free(n);
}

enum tend_err node_start(const struct node_options *o, struct node **out, struct node_info *info,
                         char *err) {
    *out = NULL;
    memset(info, 0, sizeof *info);
    char e[SERVE_ERR_BYTES > HTTP_ERR_BYTES ? SERVE_ERR_BYTES : HTTP_ERR_BYTES];
    /* The port first: when it is taken, nothing is evaluated or queued. */
    int fd = -1;
    if (http_listen(o->listen, &fd, e)) {
        snprintf(err, NODE_ERR_BYTES, "%s", e);
        return TEND_ERR_INVALID;
    }
    struct node *n = xcalloc(1, sizeof *n);
    char serr[STORE_ERR_BYTES];
    enum tend_err rc = store_open_with(o->db, o->store_flags, &n->s, serr);
    if (rc) {
        snprintf(err, NODE_ERR_BYTES, "%s", serr);
        goto fail;
    }
    /* On PostgreSQL several nodes serve one dashboard behind a load
     * balancer: a session signed by one must hold on every other, so the
     * key is the configuration's, never a file of one node's. */
    if (strcmp(store_backend_name(n->s), "sqlite") != 0 && !o->serve->session_key) {
        snprintf(err, NODE_ERR_BYTES,
                 "on PostgreSQL every node signs sessions with the same key: set "
                 "serve.session_key_env in tend.yaml (docs/operations.md, \"Several nodes behind a "
                 "load balancer\")");
        rc = TEND_ERR_USAGE;
        goto fail;
    }
    char key_path[4096];
    snprintf(key_path, sizeof key_path, "%s.session-key", o->db);
    if ((rc = auth_new(o->serve, key_path, &n->auth, e))) {
        snprintf(err, NODE_ERR_BYTES, "%s", e);
        goto fail;
    }
    /* Who may do what, as loaded: an entry of the audit log per start. */
    web_audit_config(n->s, o->serve, dt_now_ms());
    char uerr[UNSUB_ERR_BYTES];
    if ((rc = unsub_key_load(o->serve->session_key, o->db, n->unsub_key, uerr))) {
        snprintf(err, NODE_ERR_BYTES, "%s", uerr);
        goto fail;
    }
    n->cfg = (struct http_config){
        .listen = o->listen,
        .write_keys = o->write_keys,
        .n_write_keys = o->n_write_keys,
        .max_connections = o->max_connections,
        .max_per_address = o->max_per_address,
        .events = o->events,
    };
    if (o->evaluate) {
        make_id(n->id, sizeof n->id);
        struct lease_options lo = {.db = o->db, .node_id = n->id, .woken = on_woken, .arg = n};
        if ((rc = lease_start(&lo, &n->lease, e))) {
            snprintf(err, NODE_ERR_BYTES, "%s", e);
            goto fail;
        }
        struct sched *sched;
        struct sched_options so = {
            .db = o->db,
            .hc = o->hc,
            .rc = o->rc,
            .nc = o->nc->n_channels ? o->nc : NULL,
            .timezone = o->serve->timezone,
            .daily_minute = o->serve->daily_minute,
            .model = o->model,
            .escalation = o->escalation,
            .lease = n->lease,
            .node_id = n->id,
            .cc = o->cc && o->cc->enabled ? o->cc : NULL,
            .unsub_key = n->unsub_key,
        };
        if ((rc = sched_start(&so, &sched, e))) {
            snprintf(err, NODE_ERR_BYTES, "%s", e);
            goto fail;
        }
        atomic_store(&n->sched, sched);
        n->cfg.touched = sched_touch;
        n->cfg.touched_arg = sched;
    }
    if (o->connectors && connectors_any(o->connectors)) {
        struct hooks_options ho = {.db = o->db,
                                   .cc = o->connectors,
                                   .touched = n->cfg.touched,
                                   .touched_arg = n->cfg.touched_arg};
        char herr[HOOKS_ERR_BYTES];
        if (!(n->hooks = hooks_start(&ho, herr))) {
            snprintf(err, NODE_ERR_BYTES, "%s", herr);
            rc = TEND_ERR_DB;
            goto fail;
        }
        n->cfg.hooks = n->hooks;
    }
    n->env = (struct view_env){.hc = o->hc, .rc = o->rc, .kpis = o->kpis};
    struct web_options wo = {
        .db = o->db,
        .auth = n->auth,
        .env = &n->env,
        .timezone = o->serve->timezone,
        .secure_cookies = o->nc->base_url && strncmp(o->nc->base_url, "https:", 6) == 0,
        .sched = atomic_load(&n->sched),
        .unsub_key = n->unsub_key,
        .csm_own_book_only = o->serve->csm_own_book_only,
        .base_url = o->nc->base_url,
        .sso = o->serve->sso,
        .hooks = n->hooks,
    };
    if (o->slack && o->slack->enabled) {
        struct slack_options ko = {.db = o->db,
                                   .cfg = o->slack,
                                   .serve = o->serve,
                                   .env = &n->env,
                                   .base_url = o->nc->base_url};
        n->slack = slack_new(&ko);
        wo.slack = n->slack;
        n->cfg.slack = n->slack; /* its header check (http.c) */
    }
    n->web = web_new(&wo);
    n->cfg.web = n->web;
    int listen_fd = fd;
    fd = -1; /* the server's now, even when it fails to start */
    if ((rc = http_start(n->s, &n->cfg, listen_fd, &n->http, e))) {
        snprintf(err, NODE_ERR_BYTES, "%s", e);
        goto fail;
    }
    n->d = (struct delivery){.db = o->db,
                             .shared = strcmp(store_backend_name(n->s), "sqlite") != 0,
                             .c = o->nc,
                             .web = n->web};
    n->d.running =
        o->nc->n_channels && pthread_create(&n->d.thread, NULL, deliver_main, &n->d) == 0;
    info->evaluating = atomic_load(&n->sched) != NULL;
    info->delivering = n->d.running;
    *out = n;
    return TEND_OK;
fail:
    if (fd >= 0)
        close(fd);
    node_stop(n);
    return rc ? rc : TEND_ERR_INVALID;
}
