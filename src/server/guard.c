/* guard.c: connection deadlines, peers' ends and memory budgets (see guard.h).
 *
 * One reaper thread does both connection jobs: it sleeps in epoll_wait on its
 * own epoll set (each connection's EPOLLRDHUP, and an eventfd that stops it)
 * for at most the time to its next tick, answers the ends it is given, and at
 * each tick shuts down the connections past their deadline.
 *
 * The wake-up for an end must come after MHD has read every byte before it:
 * given while MHD's own event for those bytes is still pending, it merges
 * into that event, and MHD's short read of the bytes clears it again. So the
 * reaper first peeks (recv MSG_PEEK): end of file there means MHD has read
 * the rest (and so has taken its event); bytes still there mean MHD has not
 * read them yet, and the reaper looks again 1, 2, 4 ... ms later (at most at
 * each tick: a suspended connection reads nothing for a while).
 *
 * An event names its connection by descriptor and generation, not by
 * pointer: epoll_wait may return an event for a connection that guard_close
 * unregisters (and frees, at once) before the reaper takes the lock. The
 * reaper finds the entry in a table indexed by descriptor, under the lock,
 * and ignores the event unless the entry is there with the same generation
 * (the descriptor may have been reused by a newer connection). */
#include "server/guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/mem.h"

/* How often the reaper says how many connections it closed. */
#define GUARD_REPORT_MS 60000
/* Events taken from epoll_wait at once. */
#define GUARD_EVENTS 64
/* The first look again at an end with bytes still unread (doubled each time). */
#define GUARD_END_RETRY_MS 1

struct guard_conn {
    struct guard_conn *prev, *next; /* the open list */
    int fd;
    uint32_t gen;             /* its events' generation (0: the wake-up's) */
    atomic_llong deadline_ms; /* 0: none */
    bool shut;                /* shut down by the reaper already */
    /* An end not yet passed on (bytes before it unread): on g->ends. */
    bool end_waits;
    struct guard_conn *next_end;
    int64_t end_retry_ms;
    int end_backoff_ms;
};

struct guard {
    pthread_mutex_t lock;
    struct guard_conn *head;   /* open */
    struct guard_conn **by_fd; /* open, by descriptor (n_fd of them) */
    size_t n_fd;
    uint32_t gen;            /* the last generation given */
    struct guard_conn *ends; /* ends waiting for MHD to read what precedes them */
    int epfd;                /* the peers' ends; wake_fd */
    int wake_fd;             /* an eventfd: guard_stop */
    bool stopping;
    long long open, expired, ended;
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

/* Passes the end of c's peer on to MHD if MHD has read everything before it
 * (see the file's comment); true when done, false when bytes are still
 * unread. Under the lock. */
static bool pass_end(struct guard *g, struct guard_conn *c) {
    if (c->shut)
        return true; /* the reaper shut it down already */
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
        return false;
    if (n < 0)
        return true;          /* an error (a reset) reaches MHD's loop by itself */
    shutdown(c->fd, SHUT_RD); /* end of file: MHD has read the rest */
    g->ended++;
    return true;
}

/* The peer of a connection ended its side (EPOLLRDHUP, or an error): the
 * event's data, its descriptor and generation. Under the lock. */
static void peer_ended(struct guard *g, uint64_t data, int64_t now) {
    uint32_t fd = (uint32_t)data, gen = (uint32_t)(data >> 32);
    struct guard_conn *c = fd < g->n_fd ? g->by_fd[fd] : NULL;
    if (!c || c->gen != gen)
        return; /* closed since (the descriptor may serve another one now) */
    if (c->end_waits || pass_end(g, c))
        return;
    c->end_waits = true;
    c->end_backoff_ms = GUARD_END_RETRY_MS;
    c->end_retry_ms = now + c->end_backoff_ms;
    c->next_end = g->ends;
    g->ends = c;
}

/* Looks again at the ends whose time has come; returns the next time one is
 * due (INT64_MAX: none). Under the lock. */
static int64_t retry_ends(struct guard *g, int64_t now) {
    int64_t next = INT64_MAX;
    for (struct guard_conn **p = &g->ends; *p;) {
        struct guard_conn *c = *p;
        if (c->end_retry_ms <= now) {
            if (pass_end(g, c)) {
                c->end_waits = false;
                *p = c->next_end;
                continue;
            }
            c->end_backoff_ms =
                c->end_backoff_ms * 2 > GUARD_TICK_MS ? GUARD_TICK_MS : c->end_backoff_ms * 2;
            c->end_retry_ms = now + c->end_backoff_ms;
        }
        if (c->end_retry_ms < next)
            next = c->end_retry_ms;
        p = &c->next_end;
    }
    return next;
}

/* One line a minute at most, however many connections expired; under the lock. */
static void report(struct guard *g, int64_t now) {
    if (now - g->reported_ms < GUARD_REPORT_MS)
        return;
    long long n = g->expired - g->reported;
    g->reported = g->expired;
    g->reported_ms = now;
    if (n)
        log_printf("tend serve: http: %lld connections closed at their deadline in the last "
                   "minute (clients too slow to send a request or read its answer)",
                   n);
}

static void *reaper_main(void *arg) {
    struct guard *g = arg;
    struct epoll_event ev[GUARD_EVENTS];
    int64_t next_tick = guard_now_ms() + GUARD_TICK_MS, next_end = INT64_MAX;
    for (;;) {
        pthread_mutex_lock(&g->lock);
        bool stopping = g->stopping;
        pthread_mutex_unlock(&g->lock);
        if (stopping)
            break;
        int64_t now = guard_now_ms();
        int64_t until = next_end < next_tick ? next_end : next_tick;
        int n = epoll_wait(g->epfd, ev, GUARD_EVENTS, until > now ? (int)(until - now) : 0);
        pthread_mutex_lock(&g->lock);
        now = guard_now_ms();
        for (int i = 0; i < n; i++)
            if (ev[i].data.u64 >> 32) /* generation 0: wake_fd */
                peer_ended(g, ev[i].data.u64, now);
        next_end = retry_ends(g, now);
        if (now >= next_tick) {
            reap(g, now);
            report(g, now);
            next_tick = now + GUARD_TICK_MS;
        }
        pthread_mutex_unlock(&g->lock);
    }
    return NULL;
}

struct guard *guard_start(void) {
    struct guard *g = xcalloc(1, sizeof *g);
    pthread_mutex_init(&g->lock, NULL);
    g->reported_ms = guard_now_ms();
    g->epfd = epoll_create1(EPOLL_CLOEXEC);
    g->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event wake = {.events = EPOLLIN, .data.u64 = 0};
    /* Like an allocation failure: without them, no service. */
    if (g->epfd < 0 || g->wake_fd < 0 || epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->wake_fd, &wake))
        abort();
    if (pthread_create(&g->thread, NULL, reaper_main, g) != 0)
        abort();
    return g;
}

void guard_stop(struct guard *g) {
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_mutex_unlock(&g->lock);
    uint64_t one = 1;
    if (write(g->wake_fd, &one, sizeof one) < 0) {
        /* cannot fail (a counter far from its limit); the tick wakes it anyway */
    }
    pthread_join(g->thread, NULL);
    close(g->wake_fd);
    close(g->epfd);
    pthread_mutex_destroy(&g->lock);
    free(g->by_fd);
    free(g);
}

struct guard_conn *guard_open(struct guard *g, int fd, int64_t deadline_ms) {
    struct guard_conn *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    atomic_store(&c->deadline_ms, deadline_ms);
    pthread_mutex_lock(&g->lock);
    if ((size_t)fd >= g->n_fd) { /* as many as the highest descriptor: a few KiB */
        size_t n = g->n_fd ? g->n_fd : 256;
        while (n <= (size_t)fd)
            n *= 2;
        g->by_fd = xrealloc(g->by_fd, n * sizeof *g->by_fd);
        memset(g->by_fd + g->n_fd, 0, (n - g->n_fd) * sizeof *g->by_fd);
        g->n_fd = n;
    }
    g->by_fd[fd] = c;
    g->gen++;
    if (!g->gen) /* 0 names the wake-up */
        g->gen = 1;
    c->gen = g->gen;
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    g->open++;
    pthread_mutex_unlock(&g->lock);
    /* Once; at once if the peer has ended already. If the kernel refuses
     * (out of memory), the connection still has its deadlines. */
    struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLONESHOT,
                             .data.u64 = (uint64_t)c->gen << 32 | (uint32_t)fd};
    epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev);
    return c;
}

void guard_close(struct guard *g, struct guard_conn *c) {
    if (!c)
        return;
    /* Fails harmlessly when the registration failed. */
    epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->open--;
    if ((size_t)c->fd < g->n_fd && g->by_fd[c->fd] == c)
        g->by_fd[c->fd] = NULL;
    if (c->end_waits) /* a short list: ends not yet passed on */
        for (struct guard_conn **p = &g->ends; *p; p = &(*p)->next_end)
            if (*p == c) {
                *p = c->next_end;
                break;
            }
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
    out->ended = g->ended;
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
