/* workers.c: a fixed pool of threads over one queue (see workers.h). */
#include "server/workers.h"

#include <pthread.h>
#include <stdio.h>

#include "util/mem.h"

struct workers {
    pthread_mutex_t lock;
    pthread_cond_t queued;
    struct work *head, *tail;
    size_t n_queued;
    bool stopping;
    int n;
    char name[16];
    pthread_t *threads;
};

static void *worker_main(void *arg) {
    struct workers *ws = arg;
    pthread_setname_np(pthread_self(), ws->name);
    pthread_mutex_lock(&ws->lock);
    for (;;) {
        while (!ws->head && !ws->stopping)
            pthread_cond_wait(&ws->queued, &ws->lock);
        struct work *w = ws->head;
        if (!w)
            break; /* stopping, and nothing left */
        ws->head = w->next;
        if (!ws->head)
            ws->tail = NULL;
        ws->n_queued--;
        pthread_mutex_unlock(&ws->lock);
        w->next = NULL;
        w->run(w);
        pthread_mutex_lock(&ws->lock);
    }
    pthread_mutex_unlock(&ws->lock);
    return NULL;
}

struct workers *workers_start(int n, const char *name) {
    struct workers *ws = xcalloc(1, sizeof *ws);
    snprintf(ws->name, sizeof ws->name, "%s", name);
    pthread_mutex_init(&ws->lock, NULL);
    pthread_cond_init(&ws->queued, NULL);
    ws->threads = xcalloc((size_t)n, sizeof *ws->threads);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&ws->threads[i], NULL, worker_main, ws) != 0)
            abort(); /* like an allocation failure: no thread, no service */
        ws->n++;
    }
    return ws;
}

bool workers_submit(struct workers *ws, struct work *w) {
    pthread_mutex_lock(&ws->lock);
    bool ok = !ws->stopping;
    if (ok) {
        w->next = NULL;
        if (ws->tail)
            ws->tail->next = w;
        else
            ws->head = w;
        ws->tail = w;
        ws->n_queued++;
        pthread_cond_signal(&ws->queued);
    }
    pthread_mutex_unlock(&ws->lock);
    return ok;
}

size_t workers_queued(struct workers *ws) {
    pthread_mutex_lock(&ws->lock);
    size_t n = ws->n_queued;
    pthread_mutex_unlock(&ws->lock);
    return n;
}

void workers_stop(struct workers *ws) {
    if (!ws)
        return;
    pthread_mutex_lock(&ws->lock);
    ws->stopping = true;
    pthread_cond_broadcast(&ws->queued);
    pthread_mutex_unlock(&ws->lock);
    for (int i = 0; i < ws->n; i++)
        pthread_join(ws->threads[i], NULL);
    pthread_mutex_destroy(&ws->lock);
    pthread_cond_destroy(&ws->queued);
    free(ws->threads);
    free(ws);
}
