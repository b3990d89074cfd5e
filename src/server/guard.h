/* guard.h: what keeps tend serve answering under slow and heavy clients.
 *
 * Three things libmicrohttpd 0.9.75 does not give, used by server/http.c:
 *
 * Deadlines. MHD's connection timeout is an idle timeout: any byte resets it,
 * so a client sending one header line every few seconds holds its connection
 * for ever (slowloris). A guard keeps a registry of the open connections,
 * each with the absolute deadline of what it is doing now (sending its request
 * line, its headers, its body, reading the answer); a reaper thread looks at
 * them every GUARD_TICK_MS and shuts down (shutdown(2)) the socket of every
 * connection past its deadline. MHD then sees the connection end on its own
 * thread and closes it as usual. The registry's lock is held across each
 * shutdown and across the removal that MHD's close notification makes before
 * MHD closes the socket, so the reaper never touches a closed (or reused)
 * descriptor. A deadline of 0 means none (the server is working on the
 * request: its own code is bounded).
 *
 * Ends. MHD's epoll loop is edge-triggered and takes a short read to mean
 * "nothing more to read" (recv_param_adapter clears its read-ready flag), so
 * when a client's last bytes and its end of stream (FIN: it half-closed or
 * closed) arrive in one wake-up, MHD reads the bytes and never the end: a
 * client that sent part of a request and went away kept its connection until
 * a deadline (10-15 s), where the thread-per-connection mode, level-triggered,
 * closed it at once. The reaper also waits, in an epoll set of its own, for
 * each connection's EPOLLRDHUP (the peer will send nothing more) and answers
 * it with shutdown(fd, SHUT_RD): that changes nothing a client can see (the
 * peer has ended its side; bytes already received stay readable; nothing is
 * sent) but wakes MHD's loop with a new edge, so MHD reads the end of file
 * and decides as it always did: an incomplete request is closed, a complete
 * one is answered first. A client that is only slow never ends its side and is
 * never touched. One registration per connection (EPOLLONESHOT), no polling.
 *
 * Budgets. A budget is a count of bytes that requests may hold at once (bodies
 * being received, parsed JSON waiting for its commit). A request takes what it
 * will hold before allocating it and gives it back when done; a request that
 * cannot get it is answered 503 instead of growing the process. Waiting is
 * bounded (wait_ms). */
#ifndef TEND_SERVER_GUARD_H
#define TEND_SERVER_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How often the reaper looks: a deadline is enforced within this. */
#define GUARD_TICK_MS 200

struct guard;
struct guard_conn;

/* A monotonic clock in milliseconds (the deadlines' clock). */
int64_t guard_now_ms(void);

/* Starts the reaper thread. Free with guard_stop. */
struct guard *guard_start(void);
/* Stops the reaper; every connection must have been closed (guard_close). */
void guard_stop(struct guard *g);

/* Registers the connection on socket fd, with a first deadline (monotonic
 * ms, 0: none), and watches for its peer's end. The entry is the guard's;
 * guard_close frees it. */
struct guard_conn *guard_open(struct guard *g, int fd, int64_t deadline_ms);
/* Unregisters c and frees it; after this the reaper no longer touches the
 * socket, so call it before the socket is closed. Accepts NULL. */
void guard_close(struct guard *g, struct guard_conn *c);
/* Replaces c's deadline (monotonic ms; 0: none). Any thread. */
void guard_set_deadline(struct guard_conn *c, int64_t deadline_ms);

struct guard_stats {
    long long open;    /* connections registered now */
    long long expired; /* connections shut down at their deadline, in all */
    long long ended;   /* connections whose peer ended its side, in all */
};
void guard_stats(struct guard *g, struct guard_stats *out);

struct budget;

/* A budget of cap_bytes. */
struct budget *budget_new(size_t cap_bytes);
void budget_free(struct budget *b);
/* Takes n bytes, waiting at most wait_ms for others to give back; false
 * (nothing taken) when they do not come in time. A request of more than the
 * whole budget always fails. Thread-safe. */
bool budget_take(struct budget *b, size_t n, int wait_ms);
/* Gives back n bytes taken before. */
void budget_give(struct budget *b, size_t n);
/* Bytes taken now. */
size_t budget_used(struct budget *b);

#endif
