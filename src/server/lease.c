/* lease.c: the lease keeper (see lease.h).
 *
 * Time: the lease's end is written in the renewing node's clock
 * (dt_now_ms); a node counts itself the holder only until a sixth of the
 * time before that end, so a renewal late by a stall or a small clock
 * difference between nodes never lets two nodes plan at once (and a plan
 * is fenced by the term in the database anyway: store_run_create). */
#include "server/lease.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"

#define RETRY_MS 2000 /* after a database error */

struct lease {
    struct lease_options o;
    int64_t ttl_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    bool stopping;
    bool held;
    int64_t term, expires_ms;
};

int64_t lease_ttl_ms(void) {
    const char *e = getenv("TEND_TEST_LEASE_MS");
    char *end;
    long long v = e && *e ? strtoll(e, &end, 10) : 0;
    return e && *e && !*end && v >= 300 ? (int64_t)v : LEASE_TTL_MS;
}

static bool stopping(struct lease *l) {
    pthread_mutex_lock(&l->lock);
    bool stop = l->stopping;
    pthread_mutex_unlock(&l->lock);
    return stop;
}

/* Records what the database says of the lease; logs a change of hands. */
static void note(struct lease *l, const struct store_lease *now, bool ok) {
    pthread_mutex_lock(&l->lock);
    bool was = l->held;
    int64_t was_term = l->term;
    l->held = ok && now->held;
    if (ok) {
        l->term = now->term;
        l->expires_ms = now->expires_ms;
    }
    pthread_mutex_unlock(&l->lock);
    if (l->held && (!was || was_term != now->term))
        log_printf("tend serve: scheduler lease: this node (%s) holds it, term %lld", l->o.node_id,
                   (long long)now->term);
    else if (!l->held && was)
        log_printf("tend serve: scheduler lease: lost (term %lld; %s)", (long long)was_term,
                   ok ? now->holder : "the database cannot be reached");
    if (l->held != was && l->o.woken)
        l->o.woken(l->o.arg, NULL);
}

/* Opens the keeper's connection and listens; NULL after an error (logged
 * once per failure streak through *told). */
static struct store *connect_listening(struct lease *l, bool *told) {
    char err[STORE_ERR_BYTES];
    struct store *s = NULL;
    enum tend_err e = store_open(l->o.db, &s, err);
    if (!e && !(e = store_listen(s, STORE_CHANNEL_RUN)))
        e = store_listen(s, STORE_CHANNEL_OUTBOX);
    if (!e)
        return s;
    if (!*told)
        log_printf("tend serve: scheduler lease: %s; again every %d s",
                   s ? store_last_error(s) : err, RETRY_MS / 1000);
    *told = true;
    store_close(s);
    return NULL;
}

static void *keeper_main(void *arg) {
    struct lease *l = arg;
    struct store *s = NULL;
    bool told = false;
    while (!stopping(l)) {
        if (!s && !(s = connect_listening(l, &told))) {
            note(l, NULL, false);
            for (int waited = 0; waited < RETRY_MS && !stopping(l); waited += 100)
                usleep(100 * 1000);
            continue;
        }
        struct store_lease now;
        int64_t at = dt_now_ms();
        if (store_lease_acquire(s, STORE_LEASE_SCHED, l->o.node_id, at, l->ttl_ms, &now)) {
            if (!told)
                log_printf("tend serve: scheduler lease: %s", store_last_error(s));
            told = true;
            note(l, &now, false);
            store_close(s);
            s = NULL;
            continue;
        }
        told = false;
        note(l, &now, true);
        /* Listen until the next renewal: a third of the time. */
        int64_t next = at + l->ttl_ms / 3;
        while (!stopping(l)) {
            int64_t left = next - dt_now_ms();
            if (left <= 0)
                break;
            char channel[64];
            bool got;
            if (store_notify_wait(s, left > 250 ? 250 : (int)left, channel, sizeof channel, &got)) {
                store_close(s);
                s = NULL;
                break;
            }
            if (got && l->o.woken)
                l->o.woken(l->o.arg, channel);
        }
    }
    if (s) {
        pthread_mutex_lock(&l->lock);
        bool held = l->held;
        l->held = false;
        pthread_mutex_unlock(&l->lock);
        if (held && !store_lease_release(s, STORE_LEASE_SCHED, l->o.node_id))
            log_printf("tend serve: scheduler lease: given up");
        store_close(s);
    }
    return NULL;
}

enum tend_err lease_start(const struct lease_options *o, struct lease **out, char *err) {
    struct lease *l = xcalloc(1, sizeof *l);
    l->o = *o;
    l->ttl_ms = lease_ttl_ms();
    pthread_mutex_init(&l->lock, NULL);
    if (pthread_create(&l->thread, NULL, keeper_main, l) != 0) {
        snprintf(err, LEASE_ERR_BYTES, "cannot start the lease keeper's thread");
        pthread_mutex_destroy(&l->lock);
        free(l);
        return TEND_ERR_IO;
    }
    *out = l;
    return TEND_OK;
}

bool lease_held(struct lease *l, int64_t *term) {
    pthread_mutex_lock(&l->lock);
    bool held = l->held && dt_now_ms() < l->expires_ms - l->ttl_ms / 6;
    *term = l->term;
    pthread_mutex_unlock(&l->lock);
    return held;
}

void lease_stop(struct lease *l) {
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
