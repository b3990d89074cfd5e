/* workers.h: a fixed set of threads running queued work, first in first out.
 *
 * tend serve's event loops (server/http.c) never run a request's work
 * themselves: they queue it here and go on moving bytes. Work items are
 * intrusive (struct work lives inside the caller's request), so queueing
 * allocates nothing and the queue is bounded by the requests that exist. */
#ifndef TEND_SERVER_WORKERS_H
#define TEND_SERVER_WORKERS_H

#include <stdbool.h>
#include <stddef.h>

struct work {
    void (*run)(struct work *w); /* called once, on a worker thread */
    struct work *next;           /* the queue's */
};

struct workers;

/* Starts n threads named name (at most 15 characters, for ps and gdb). */
struct workers *workers_start(int n, const char *name);
/* Queues w (borrowed until its run is called). False when the workers are
 * stopping: then w->run is never called. Thread-safe. */
bool workers_submit(struct workers *ws, struct work *w);
/* Items waiting for a thread now. */
size_t workers_queued(struct workers *ws);
/* Refuses new work, runs what is queued, joins the threads, frees ws.
 * Accepts NULL. */
void workers_stop(struct workers *ws);

#endif
