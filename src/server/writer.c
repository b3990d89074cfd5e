/* writer.c: group-commit writer thread (see writer.h). */
#include "server/writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/mem.h"

/* Most messages applied in one transaction: bounds a commit's latency. */
#define WRITER_MAX_TX_MESSAGES 20000

struct job {
    const struct seg_msg *msgs;
    size_t n;
    size_t rejected;
    enum ingest_outcome *outcomes;
    enum tend_err result;
    bool done;
    struct job *next;
};

struct writer {
    struct store *store;
    struct ingest *ig;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or stopping */
    pthread_cond_t done; /* some job finished */
    struct job *head, *tail;
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

/* Applies a chain of jobs in one transaction and records each result. */
static void apply(struct writer *w, struct job *jobs) {
    enum tend_err err = ingest_begin(w->ig);
    for (struct job *j = jobs; !err && j; j = j->next) {
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
    }
    if (!err)
        err = ingest_commit(w->ig);
    else
        ingest_rollback(w->ig);
    if (err)
        fprintf(stderr, "tend serve: storing failed: %s\n", store_last_error(w->store));
    else if (w->n_accounts)
        w->touched(w->touched_arg, w->accounts, w->n_accounts);
    w->n_accounts = 0;
    pthread_mutex_lock(&w->lock);
    for (struct job *j = jobs; j; j = j->next) {
        j->result = err;
        j->done = true;
    }
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->lock);
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
        struct job *first = w->head, *last = first;
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
    pthread_cond_init(&w->done, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        fprintf(stderr, "tend serve: cannot start the writer thread\n");
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
    pthread_cond_destroy(&w->done);
    free(w);
}

enum tend_err writer_submit(struct writer *w, const struct seg_msg *msgs, size_t n, size_t rejected,
                            enum ingest_outcome *outcomes) {
    struct job j = {.msgs = msgs, .n = n, .rejected = rejected, .outcomes = outcomes};
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = &j;
    else
        w->head = &j;
    w->tail = &j;
    pthread_cond_signal(&w->work);
    while (!j.done)
        pthread_cond_wait(&w->done, &w->lock);
    pthread_mutex_unlock(&w->lock);
    return j.result;
}
