/* send.c: the transfers of the dispatcher and what their answers mean (see
 * send.h). */
#include "notify/send.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/mem.h"

#define RETRY_AFTER_ABSENT (60 * 1000)
#define RETRY_AFTER_MAX    (3600 * 1000)

/* Why on_progress ended a mail transfer. */
enum { STOP_NONE, STOP_TIMEOUT, STOP_DATA_TIMEOUT, STOP_SHUTDOWN };

int64_t send_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void send_job_free(struct send_job *j) {
    if (!j)
        return;
    if (j->easy)
        curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->headers);
    curl_slist_free_all(j->rcpt);
    free(j->body);
    free(j->event);
    free(j->channel);
    free(j->target);
    free(j->owner);
    free(j->key);
    free(j->snapshot);
    free(j);
}

/* ---- HTTP ---------------------------------------------------------------------- */

static size_t on_response(char *p, size_t size, size_t n, void *arg) {
    struct send_job *j = arg;
    size_t len = size * n, room = SEND_RESPONSE_KEEP - j->response_len;
    size_t take = len < room ? len : room;
    memcpy(j->response + j->response_len, p, take);
    j->response_len += take;
    j->response[j->response_len] = '\0';
    return len;
}

/* The answer kept for last_error: printable, one line. */
static const char *answer(struct send_job *j) {
    for (size_t i = 0; i < j->response_len; i++)
        if ((unsigned char)j->response[i] < 0x20)
            j->response[i] = ' ';
    return j->response;
}

void send_http_prepare(struct send_job *j, const char *url, const struct notify_config *c,
                       int64_t now_s) {
    CURL *e = j->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_err);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tend-deliver/1");
    /* A connection per request: libcurl silently sends a request again on a
     * new connection when a reused one closed without answering, and the
     * server may have acted on the first: a duplicate that no resends count
     * would show. One handshake per message is cheap at these rates. */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_response);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    j->headers = curl_slist_append(j->headers, "Content-Type: application/json; charset=utf-8");
    if (j->ch->kind == NOTIFY_WEBHOOK) {
        char h[512];
        snprintf(h, sizeof h, "Idempotency-Key: %s", j->key);
        j->headers = curl_slist_append(j->headers, h);
        snprintf(h, sizeof h, "X-Tend-Key: %s", j->key);
        j->headers = curl_slist_append(j->headers, h);
        snprintf(h, sizeof h, "X-Tend-Event: %s", j->event);
        j->headers = curl_slist_append(j->headers, h);
        char ts[24];
        snprintf(ts, sizeof ts, "%lld", (long long)now_s);
        snprintf(h, sizeof h, "X-Tend-Timestamp: %s", ts);
        j->headers = curl_slist_append(j->headers, h);
        if (j->ch->secret) {
            GString *signed_text = g_string_new(ts);
            g_string_append_c(signed_text, '.');
            g_string_append_len(signed_text, j->body, (gssize)j->body_len);
            gchar *mac = g_compute_hmac_for_data(
                G_CHECKSUM_SHA256, (const guchar *)j->ch->secret, strlen(j->ch->secret),
                (const guchar *)signed_text->str, signed_text->len);
            snprintf(h, sizeof h, "X-Tend-Signature: sha256=%s", mac);
            j->headers = curl_slist_append(j->headers, h);
            g_free(mac);
            g_string_free(signed_text, TRUE);
        }
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->headers);
}

/* A transport failure after which the request may have been received. */
static bool broken_after_sending(CURLcode rc) {
    return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
           rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE || rc == CURLE_ABORTED_BY_CALLBACK;
}

void send_http_outcome(struct send_job *j, CURLcode rc, const struct notify_config *c,
                       struct send_outcome *out) {
    long code = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    *out = (struct send_outcome){.verdict = SEND_RETRY, .retry_after_ms = -1};
    if (rc != CURLE_OK) {
        curl_off_t up = 0;
        curl_easy_getinfo(j->easy, CURLINFO_SIZE_UPLOAD_T, &up);
        out->ambiguous = code == 0 && up >= (curl_off_t)j->body_len && broken_after_sending(rc);
        snprintf(out->why, sizeof out->why, "%s%s",
                 j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc),
                 out->ambiguous ? " (after the whole request was sent: it may have arrived)" : "");
    } else if (code >= 200 && code < 300) {
        out->verdict = SEND_SENT;
    } else if (code == 429) {
        curl_off_t after = -1;
        curl_easy_getinfo(j->easy, CURLINFO_RETRY_AFTER, &after);
        /* Absent: a minute; a date in the past: now; never beyond an hour
         * (or max_seconds if longer): a hostile answer cannot park a row. */
        int64_t cap = c->retry_max_ms > RETRY_AFTER_MAX ? c->retry_max_ms : RETRY_AFTER_MAX;
        int64_t wait_ms = after >= 0 ? (int64_t)after * 1000 : RETRY_AFTER_ABSENT;
        out->retry_after_ms = wait_ms > cap ? cap : wait_ms;
        snprintf(out->why, sizeof out->why, "HTTP 429 (retry after %lld s): %s",
                 (long long)(out->retry_after_ms / 1000), answer(j));
    } else if (code >= 500 || code == 408) {
        snprintf(out->why, sizeof out->why, "HTTP %ld: %s", code, answer(j));
    } else if (code >= 300 && code < 400) {
        out->verdict = SEND_DEAD;
        snprintf(out->why, sizeof out->why,
                 "HTTP %ld (a redirect: tend does not follow them; fix the url)", code);
    } else {
        out->verdict = SEND_DEAD;
        snprintf(out->why, sizeof out->why, "HTTP %ld (permanent): %s", code, answer(j));
    }
}

/* ---- log ----------------------------------------------------------------------- */

void send_log(struct send_job *j, struct send_outcome *out) {
    *out = (struct send_outcome){.verdict = SEND_SENT, .retry_after_ms = -1};
    int f = open(j->ch->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    bool ok = f >= 0;
    if (ok) {
        size_t off = 0;
        while (ok && off < j->body_len) {
            ssize_t n = write(f, j->body + off, j->body_len - off);
            ok = n > 0;
            off += ok ? (size_t)n : 0;
        }
        ok = ok && write(f, "\n", 1) == 1 && fsync(f) == 0;
    }
    if (!ok) {
        out->verdict = SEND_RETRY;
        snprintf(out->why, sizeof out->why, "%s: %s", j->ch->path, strerror(errno));
    }
    if (f >= 0)
        close(f);
}

/* ---- SMTP on threads ---------------------------------------------------------- */

static size_t on_read(char *p, size_t size, size_t n, void *arg) {
    struct send_job *j = arg;
    size_t room = size * n, left = j->body_len - j->read_at;
    size_t take = left < room ? left : room;
    memcpy(p, j->body + j->read_at, take);
    j->read_at += take;
    if (j->read_at == j->body_len && !j->text_done_mono_ms)
        j->text_done_mono_ms = send_mono_ms();
    return take;
}

/* libcurl calls this at least once a second in every phase of the transfer,
 * including while it waits for the answer to the end of the text: the
 * timeouts of send.h's two phases, and the stop of tend serve. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    struct send_job *j = arg;
    const struct notify_config *c = j->smtp->c;
    int64_t now = send_mono_ms();
    int64_t stop_at = atomic_load(&j->smtp->stop_at_mono_ms);
    if (stop_at && now >= stop_at)
        j->stopped = STOP_SHUTDOWN;
    else if (!j->text_done_mono_ms && now - j->started_mono_ms > c->timeout_ms)
        j->stopped = STOP_TIMEOUT;
    else if (j->text_done_mono_ms && now - j->text_done_mono_ms > c->data_timeout_ms)
        j->stopped = STOP_DATA_TIMEOUT;
    return j->stopped != STOP_NONE;
}

/* The address of a From header value: "Name <a@b>" -> "<a@b>". */
static void mail_from(const char *from, char *out, size_t size) {
    const char *lt = strrchr(from, '<');
    if (lt)
        snprintf(out, size, "%s", lt);
    else
        snprintf(out, size, "<%s>", from);
}

static void smtp_prepare(struct send_job *j, const struct notify_config *c) {
    CURL *e = j->easy;
    const struct notify_channel *ch = j->ch;
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_err);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    /* The phases' limits are on_progress's; libcurl's own per-answer limit
     * only backs it up (it must not cut the wait for the final answer). */
    curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
                     (long)((c->timeout_ms + c->data_timeout_ms) / 1000 + 5));
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, j);
    char from[400];
    mail_from(ch->from, from, sizeof from);
    curl_easy_setopt(e, CURLOPT_URL, ch->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    j->rcpt = curl_slist_append(NULL, j->target);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, j->rcpt);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, j);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->body_len);
    long tls = ch->tls == NOTIFY_TLS_OFF   ? CURLUSESSL_NONE
               : ch->tls == NOTIFY_TLS_TRY ? CURLUSESSL_TRY
                                           : CURLUSESSL_ALL;
    curl_easy_setopt(e, CURLOPT_USE_SSL, tls);
    if (ch->username)
        curl_easy_setopt(e, CURLOPT_USERNAME, ch->username);
    if (ch->password)
        curl_easy_setopt(e, CURLOPT_PASSWORD, ch->password);
}

void send_smtp_init(struct send_smtp *m, const struct notify_config *c, CURLM *wake) {
    memset(m, 0, sizeof *m);
    m->c = c;
    m->wake = wake;
    pthread_mutex_init(&m->lock, NULL);
    atomic_store(&m->stop_at_mono_ms, 0);
}

/* Makes the closing of j's connection (curl_easy_cleanup, later, on the
 * dispatcher's thread) unable to wait for the server. libcurl closes an SMTP
 * connection with QUIT and waits for its reply, up to
 * CURLOPT_SERVER_RESPONSE_TIMEOUT (minutes here); and when on_progress stops
 * a transfer waiting for the answer to the end of the text, libcurl keeps the
 * connection, so that QUIT queues behind the held answer: tend serve's stop
 * then lasted as long as the server held it. A connection after a failure is
 * out of step and is never reused: its socket is shut down here, so QUIT fails
 * at once. After an accepted message QUIT is still sent, and its reply
 * awaited at most a second. Called on the transfer's own thread. */
static void after_perform(struct send_job *j) {
    if (j->rc == CURLE_OK) {
        curl_easy_setopt(j->easy, CURLOPT_SERVER_RESPONSE_TIMEOUT, 1L);
        return;
    }
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(j->easy, CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK && fd != CURL_SOCKET_BAD)
        shutdown(fd, SHUT_RDWR);
}

static void *smtp_main(void *arg) {
    struct send_job *j = arg;
    struct send_smtp *m = j->smtp;
    j->rc = curl_easy_perform(j->easy);
    after_perform(j);
    pthread_mutex_lock(&m->lock);
    if (m->n_done == m->cap_done) {
        m->cap_done = m->cap_done ? m->cap_done * 2 : 16;
        m->done = xrealloc(m->done, m->cap_done * sizeof *m->done);
    }
    m->done[m->n_done++] = j;
    pthread_mutex_unlock(&m->lock);
    curl_multi_wakeup(m->wake);
    return NULL;
}

/* The index of j's channel in the configuration, for its pool. */
static int channel_index(const struct send_smtp *m, const struct send_job *j) {
    return (int)(j->ch - m->c->channels);
}

bool send_smtp_start(struct send_smtp *m, struct send_job *j) {
    int k = channel_index(m, j);
    if (!j->easy && m->n_idle[k] > 0) {
        j->easy = m->idle[k][--m->n_idle[k]];
        curl_easy_reset(j->easy); /* keeps its connection, clean after a sent message */
    }
    if (!j->easy)
        j->easy = curl_easy_init();
    if (!j->easy)
        return false;
    j->smtp = m;
    smtp_prepare(j, m->c);
    j->started_mono_ms = send_mono_ms();
    if (pthread_create(&j->thread, NULL, smtp_main, j) != 0)
        return false;
    m->running++;
    return true;
}

struct send_job **send_smtp_collect(struct send_smtp *m, size_t *n) {
    pthread_mutex_lock(&m->lock);
    struct send_job **out = m->done;
    *n = m->n_done;
    m->done = NULL;
    m->n_done = m->cap_done = 0;
    pthread_mutex_unlock(&m->lock);
    for (size_t i = 0; i < *n; i++) {
        pthread_join(out[i]->thread, NULL);
        m->running--;
    }
    return out;
}

void send_smtp_outcome(struct send_job *j, const struct notify_config *c,
                       struct send_outcome *out) {
    CURLcode rc = j->rc;
    long code = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    const char *detail = j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc);
    bool answered = code >= 400 && code < 600; /* a refusal is an answer, not a doubt */
    *out = (struct send_outcome){.verdict = SEND_RETRY, .retry_after_ms = -1};
    if (rc == CURLE_OK) {
        out->verdict = SEND_SENT;
    } else if (j->text_done_mono_ms && !answered) {
        /* The whole message went out and no answer came back: the server
         * may have taken it. Retried like any transient failure, counted in
         * resends (docs/delivery.md, "When a message can arrive twice"). */
        out->ambiguous = true;
        if (j->stopped == STOP_DATA_TIMEOUT)
            snprintf(out->why, sizeof out->why,
                     "no answer to the end of the message within %lld s "
                     "(smtp_data_timeout_seconds); it may have been delivered",
                     (long long)(c->data_timeout_ms / 1000));
        else if (j->stopped == STOP_SHUTDOWN)
            snprintf(out->why, sizeof out->why,
                     "stopped while waiting for the answer to the end of the message; it may "
                     "have been delivered");
        else
            snprintf(out->why, sizeof out->why,
                     "%s, after the whole message was sent; it may have been delivered", detail);
    } else if (j->stopped == STOP_TIMEOUT) {
        snprintf(out->why, sizeof out->why,
                 "timed out after %lld s before the end of the message (timeout_seconds)",
                 (long long)(c->timeout_ms / 1000));
    } else if (j->stopped == STOP_SHUTDOWN) {
        snprintf(out->why, sizeof out->why, "stopped before the message was sent");
    } else if (code >= 400 && code < 500) {
        snprintf(out->why, sizeof out->why, "SMTP %ld: %s", code, detail);
    } else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
        out->verdict = SEND_DEAD;
        snprintf(out->why, sizeof out->why, "the channel's url: %s", detail);
    } else if (rc == CURLE_USE_SSL_FAILED) {
        out->verdict = SEND_DEAD;
        snprintf(out->why, sizeof out->why,
                 "the server does not offer STARTTLS, which this channel requires (%s); "
                 "add ?tls=off to the url only for a trusted local relay",
                 detail);
    } else if (rc == CURLE_LOGIN_DENIED) {
        out->verdict = SEND_DEAD;
        snprintf(out->why, sizeof out->why, "login refused (SMTP %ld): %s", code, detail);
    } else if (code >= 500 && code < 600) {
        out->verdict = SEND_DEAD;
        snprintf(out->why, sizeof out->why, "SMTP %ld (permanent): %s", code, detail);
    } else {
        snprintf(out->why, sizeof out->why, "%s", detail);
    }
}

void send_smtp_release(struct send_smtp *m, struct send_job *j, const struct send_outcome *out) {
    int k = channel_index(m, j);
    /* Only a connection whose last answer was "message accepted" is known to
     * be in step; any other is closed with its handle (in send_job_free). */
    if (out->verdict == SEND_SENT && j->easy && m->n_idle[k] < SEND_POOL) {
        m->idle[k][m->n_idle[k]++] = j->easy;
        j->easy = NULL;
    }
}

void send_smtp_stop_at(struct send_smtp *m, int64_t mono_ms) {
    int64_t at = mono_ms > 0 ? mono_ms : 1;
    int64_t cur = atomic_load(&m->stop_at_mono_ms);
    if (!cur || at < cur)
        atomic_store(&m->stop_at_mono_ms, at);
}

void send_smtp_shutdown(struct send_smtp *m) {
    send_smtp_stop_at(m, 1);
    while (m->running > 0) {
        size_t n = 0;
        struct send_job **done = send_smtp_collect(m, &n);
        for (size_t i = 0; i < n; i++)
            send_job_free(done[i]);
        free(done);
        if (m->running > 0)
            g_usleep(10 * 1000);
    }
    for (int k = 0; k < NOTIFY_MAX_CHANNELS; k++)
        for (int i = 0; i < m->n_idle[k]; i++)
            curl_easy_cleanup(m->idle[k][i]);
    free(m->done);
    pthread_mutex_destroy(&m->lock);
}
