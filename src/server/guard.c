/* guard.c: connection deadlines and memory budgets (see guard.h). */
#include "server/guard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "util/log.h"
#include "util/mem.h"

/* How often the reaper says how many connections it closed. */
#define GUARD_REPORT_MS 60000

struct guard_conn {
    struct guard_conn *prev, *next;
    int fd;
    atomic_llong deadline_ms; /* 0: none */
    bool shut;                /* shut down by the reaper already */
};

struct guard {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* stop */
    struct guard_conn *head;
    bool stopping;
    long long open, expired;
    long long reported; /* expired when last logged */
    int64_t reported_ms;
    pthread_t thread;
};

int64_t guard_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Shuts down every connection past its deadline; under the lock. */
static void reap(struct guard *g, int64_t now) {
    for (struct guard_conn *c = g->head; c; c = c->next) {
        long long d = atomic_load(&c->deadline_ms);
        if (c->shut || d == 0 || d > now)
            continue;
        /* MHD sees end of file (or an error) on its thread and closes it. */
        shutdown(c->fd, SHUT_RDWR);
        c->shut = true;
        g->expired++;
    }
}

static void *reaper_main(void *arg) {
    struct guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += GUARD_TICK_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&g->wake, &g->lock, &ts);
        int64_t now = guard_now_ms();
        reap(g, now);
        if (now - g->reported_ms >= GUARD_REPORT_MS) {
            long long n = g->expired - g->reported;
            g->reported = g->expired;
            g->reported_ms = now;
            if (n) /* one line a minute at most, however many */
                log_printf(
                    "tend serve: http: %lld connections closed at their deadline in the last "
                    "minute (clients too slow to send a request or read its answer)",
                    n);
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct guard *guard_start(void) {
    struct guard *g = xcalloc(1, sizeof *g);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&g->lock, NULL);
    g->reported_ms = guard_now_ms();
    if (pthread_create(&g->thread, NULL, reaper_main, g) != 0)
        abort(); /* like an allocation failure: no thread, no service */
    return g;
}

void guard_stop(struct guard *g) {
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->wake);
    free(g);
}

struct guard_conn *guard_open(struct guard *g, int fd, int64_t deadline_ms) {
    struct guard_conn *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    atomic_store(&c->deadline_ms, deadline_ms);
    pthread_mutex_lock(&g->lock);
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    g->open++;
    pthread_mutex_unlock(&g->lock);
    return c;
}

void guard_close(struct guard *g, struct guard_conn *c) {
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->open--;
    pthread_mutex_unlock(&g->lock);
    free(c);
}

void guard_set_deadline(struct guard_conn *c, int64_t deadline_ms) {
    if (c)
        atomic_store(&c->deadline_ms, deadline_ms);
}

void guard_stats(struct guard *g, struct guard_stats *out) {
    pthread_mutex_lock(&g->lock);
    out->open = g->open;
    out->expired = g->expired;
    pthread_mutex_unlock(&g->lock);
}

/* ---- budgets ----------------------------------------------------------------- */

struct budget {
    pthread_mutex_t lock;
    pthread_cond_t given;
    size_t cap, used;
};

struct budget *budget_new(size_t cap_bytes) {
    struct budget *b = xcalloc(1, sizeof *b);
    b->cap = cap_bytes;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->given, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&b->lock, NULL);
    return b;
}

void budget_free(struct budget *b) {
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->given);
    free(b);
}

bool budget_take(struct budget *b, size_t n, int wait_ms) {
    if (n > b->cap)
        return false;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&b->lock);
    bool ok = b->cap - b->used >= n;
    while (!ok && wait_ms > 0) {
        int rc = pthread_cond_timedwait(&b->given, &b->lock, &until);
        ok = b->cap - b->used >= n;
        if (rc != 0)
            break; /* timed out */
    }
    if (ok)
        b->used += n;
    pthread_mutex_unlock(&b->lock);
    return ok;
}

void budget_give(struct budget *b, size_t n) {
    if (!n)
        return;
    pthread_mutex_lock(&b->lock);
    b->used = n > b->used ? 0 : b->used - n;
    pthread_cond_broadcast(&b->given);
    pthread_mutex_unlock(&b->lock);
}

size_t budget_used(struct budget *b) {
    pthread_mutex_lock(&b->lock);
    size_t n = b->used;
    pthread_mutex_unlock(&b->lock);
    return n;
}
