/* send.h: one attempt at one outbox row, and what its answer means (used by
 * notify/dispatch.c only).
 *
 * HTTP (Slack, webhooks) runs in the dispatcher's libcurl multi handle. SMTP
 * does not: libcurl's SMTP waits for the answer to the end of a message inside
 * the transfer's "done" phase, which blocks whatever multi handle drives it.
 * Measured with a server that takes 3 s to answer each message: every channel
 * advanced 3 s at a time (27 webhooks took 42 s), transfers that waited their
 * turn timed out after the server had taken their message (33 mails for 27
 * rows), and a connection left with an unread answer replied "250" to the
 * next message's DATA. So each SMTP transfer runs curl_easy_perform on a
 * thread of its own (within the dispatcher's limits: 4 per address, 8 per
 * channel) and wakes the loop (curl_multi_wakeup) when it ends.
 *
 * A mail connection is reused only after a clean answer: the handle of a
 * transfer that failed, timed out or was stopped is closed, so no later
 * message can read an answer meant for an earlier one. Its socket is shut
 * down on the transfer's thread first (send.c, after_perform), so closing it
 * never waits for a server that still holds an answer.
 *
 * SMTP timeouts follow RFC 5321 4.5.3.2: timeout_seconds covers everything up
 * to the end of the text; the answer to the end of the text ("250 queued")
 * gets data_timeout_ms (10 minutes by default), because a message whose
 * answer is lost may still be delivered, and sending it again makes a
 * duplicate. An attempt that ends without an answer after the whole message
 * went out (a timeout, a broken connection, a stop) is *ambiguous*: it is
 * retried with backoff like any transient failure and counted in the row's
 * resends, the upper bound of its duplicates. */
#ifndef TEND_NOTIFY_SEND_H
#define TEND_NOTIFY_SEND_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "notify/config.h"

#define SEND_ERR_BYTES     320
#define SEND_RESPONSE_KEEP 300 /* bytes of an answer kept for last_error */
#define SEND_POOL          8   /* idle mail handles kept per channel (its parallel limit) */

struct gate; /* the dispatcher's pacing and parallelism per destination */

/* One attempt: a row copied out of the store, its rendered body, its transfer. */
struct send_job {
    int64_t id, notification_id, rank, next_at_ms, attempts, resends;
    char *event, *channel, *target, *owner, *key, *snapshot;
    const struct notify_channel *ch;
    struct gate *gate;
    const char *dead; /* set: fails at once with this, nothing sent */
    char *body;
    size_t body_len, read_at;
    CURL *easy;
    struct curl_slist *headers, *rcpt;
    char response[SEND_RESPONSE_KEEP + 1];
    size_t response_len;
    char curl_err[CURL_ERROR_SIZE];
    /* SMTP on its thread */
    struct send_smtp *smtp;
    pthread_t thread;
    CURLcode rc;
    int64_t started_mono_ms, text_done_mono_ms; /* 0: the text is not all handed over */
    int stopped;                                /* why on_progress ended it (enum in send.c) */
};

/* What an attempt's end means. */
enum send_verdict { SEND_SENT, SEND_RETRY, SEND_DEAD };
struct send_outcome {
    enum send_verdict verdict;
    bool ambiguous;         /* all of it went out and no answer came: it may have arrived */
    int64_t retry_after_ms; /* HTTP 429: how long the destination asks to wait; else -1 */
    char why[SEND_ERR_BYTES];
};

/* Frees a job and what it holds (its easy handle too, unless taken). NULL is fine. */
void send_job_free(struct send_job *j);

/* Sets j->easy up for a POST of j->body to url (Slack or a signed webhook,
 * stamped with now_s). */
void send_http_prepare(struct send_job *j, const char *url, const struct notify_config *c,
                       int64_t now_s);
/* Classifies an HTTP transfer that ended with rc (docs/delivery.md's table). */
void send_http_outcome(struct send_job *j, CURLcode rc, const struct notify_config *c,
                       struct send_outcome *out);

/* Appends the log line and syncs it; final at once. */
void send_log(struct send_job *j, struct send_outcome *out);

/* The mail side: threads, finished jobs, idle handles per channel. */
struct send_smtp {
    const struct notify_config *c;
    CURLM *wake; /* told when a transfer ends (curl_multi_wakeup) */
    pthread_mutex_t lock;
    struct send_job **done; /* ended, not yet collected */
    size_t n_done, cap_done;
    int running;                  /* threads not yet collected */
    atomic_llong stop_at_mono_ms; /* set: transfers still running then are stopped */
    CURL *idle[NOTIFY_MAX_CHANNELS][SEND_POOL];
    int n_idle[NOTIFY_MAX_CHANNELS];
};
void send_smtp_init(struct send_smtp *m, const struct notify_config *c, CURLM *wake);
/* Starts j (a mail row marked sending) on a thread of its own. false when no
 * thread could be made (j untouched but its handle: retry later). */
bool send_smtp_start(struct send_smtp *m, struct send_job *j);
/* Takes the jobs that ended (joined; classify them with send_smtp_outcome,
 * then give them to send_smtp_release): *n of them, a malloced array. */
struct send_job **send_smtp_collect(struct send_smtp *m, size_t *n);
void send_smtp_outcome(struct send_job *j, const struct notify_config *c, struct send_outcome *out);
/* Keeps j's handle (and its connection) for the next message of its channel
 * when the message was accepted; any other end leaves the handle to
 * send_job_free, which closes the connection. */
void send_smtp_release(struct send_smtp *m, struct send_job *j, const struct send_outcome *out);
/* Stops every transfer still running at mono_ms (0: at once). */
void send_smtp_stop_at(struct send_smtp *m, int64_t mono_ms);
/* Stops the transfers, waits for every thread, frees the jobs without an
 * outcome (their rows stay `sending`: the next dispatcher re-sends them) and
 * the idle handles. */
void send_smtp_shutdown(struct send_smtp *m);

/* Milliseconds of the monotonic clock. */
int64_t send_mono_ms(void);

#endif
