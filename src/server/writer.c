/* writer.c: group-commit writer thread (see writer.h). */
#include "server/writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/log.h"
#include "util/mem.h"

/* Most messages applied in one transaction: bounds a commit's latency. */
#define WRITER_MAX_TX_MESSAGES 20000

struct writer {
    struct store *store;
    struct ingest *ig;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or stopping */
    struct writer_job *head, *tail;
    bool stopping;
    writer_touched_fn touched;
    void *touched_arg;
    int64_t *accounts; /* this transaction's touched accounts */
    size_t n_accounts, cap_accounts;
};

/* Whether a message of this kind can change what rules find at once. */
static bool meaningful(enum event_kind k) {
    return (k >= EV_NPS && k <= EV_USER_REMOVED) || k == EV_GROUP;
}

/* Attempts at a chain whose transaction failed busy (TEND_ERR_BUSY: on
 * PostgreSQL, another node stored one of its messages at the same moment,
 * store.h's store_event_put); the next attempt finds that message stored. */
#define WRITER_BUSY_ATTEMPTS 3

/* Applies a chain of jobs in one transaction; rolled back on failure. */
static enum tend_err apply_once(struct writer *w, struct writer_job *jobs) {
    w->n_accounts = 0;
    enum tend_err err = ingest_begin(w->ig);
    for (struct writer_job *j = jobs; !err && j; j = j->next)
        err = ingest_prefetch(w->ig, j->msgs, j->n);
    for (struct writer_job *j = jobs; !err && j; j = j->next) {
        for (size_t i = 0; !err && i < j->n; i++) {
            err = ingest_message(w->ig, &j->msgs[i], &j->outcomes[i]);
            int64_t account = ingest_last_account(w->ig);
            if (!err && account && w->touched && meaningful(j->msgs[i].kind)) {
                if (w->n_accounts == w->cap_accounts) {
                    w->cap_accounts = w->cap_accounts ? w->cap_accounts * 2 : 64;
                    w->accounts = xrealloc(w->accounts, w->cap_accounts * sizeof *w->accounts);
                }
                w->accounts[w->n_accounts++] = account;
            }
        }
        ingest_count_rejected(w->ig, (int64_t)j->rejected);
        ingest_count_mapped(w->ig, (int64_t)j->ignored, (int64_t)j->aliased, (int64_t)j->renamed);
    }
    if (!err)
        err = ingest_commit(w->ig);
    else
        ingest_rollback(w->ig);
    return err;
}

/* Applies a chain of jobs in one transaction and records each result. */
static void apply(struct writer *w, struct writer_job *jobs) {
    enum tend_err err;
    int attempt = 0;
    do
        err = apply_once(w, jobs);
    while (err == TEND_ERR_BUSY && ++attempt < WRITER_BUSY_ATTEMPTS);
    if (err)
        log_printf("tend serve: storing failed: %s", store_last_error(w->store));
    else if (w->n_accounts)
        w->touched(w->touched_arg, w->accounts, w->n_accounts);
    w->n_accounts = 0;
    for (struct writer_job *j = jobs, *next; j; j = next) {
        next = j->next; /* j is the caller's again once done runs */
        j->done(j, err);
    }
}

static void *writer_main(void *arg) {
    struct writer *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->work, &w->lock);
        if (!w->head && w->stopping)
            break;
        /* Take the queued jobs, up to WRITER_MAX_TX_MESSAGES (at least one). */
        struct writer_job *first = w->head, *last = first;
        size_t total = first->n;
        while (last->next && total + last->next->n <= WRITER_MAX_TX_MESSAGES) {
            last = last->next;
            total += last->n;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->lock);
        apply(w, first);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct writer *writer_start(struct store *s, writer_touched_fn touched, void *arg) {
    struct writer *w = xcalloc(1, sizeof *w);
    w->store = s;
    w->touched = touched;
    w->touched_arg = arg;
    w->ig = ingest_new(s);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        log_printf("tend serve: cannot start the writer thread");
        abort();
    }
    return w;
}

void writer_stop(struct writer *w) {
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    ingest_free(w->ig);
    free(w->accounts);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->work);
    free(w);
}

void writer_submit(struct writer *w, struct writer_job *job) {
    job->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
}
