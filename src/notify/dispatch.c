/* dispatch.c: sending the outbox (see dispatch.h).
 *
 * The loop: make the digests that are due; for each (channel, target) with
 * due rows, start what its gate allows (a Slack webhook: one transfer at a
 * time, one per interval, none before a 429's Retry-After; other targets:
 * up to TARGET_PARALLEL at once), marking the rows `sending` in one
 * transaction; then let libcurl's multi handle run every transfer until one
 * ends or the next row falls due, and commit each answer as it comes. A
 * log channel is a local file: appended and fsynced in place. */
#include "notify/dispatch.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "notify/message.h"
#include "util/datetime.h"
#include "util/mem.h"

#define TARGET_PARALLEL  4  /* transfers at once to one email address or webhook */
#define CHANNEL_PARALLEL 8  /* ... to one channel (one mail server, one endpoint) */
#define MAX_IN_FLIGHT    64 /* transfers at once in all */
#define IDLE_POLL_MS                                                                               \
    100 /* tend serve: how often an idle dispatcher looks (a new CTA is sent within this) */
#define RESPONSE_KEEP      300 /* bytes of an answer kept for last_error */
#define RETRY_AFTER_ABSENT (60 * 1000)
#define RETRY_AFTER_MAX    (3600 * 1000)

/* ---- the lock ---------------------------------------------------------------- */

enum tend_err dispatch_lock(const char *db_path, int *fd, char *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s.deliver.lock", db_path);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        snprintf(err, DISPATCH_ERR_BYTES, "%s: %s", path, strerror(errno));
        return TEND_ERR_IO;
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        char who[32] = "";
        ssize_t n = pread(f, who, sizeof who - 1, 0);
        who[n > 0 ? n : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        snprintf(err, DISPATCH_ERR_BYTES, "another dispatcher (pid %s) is sending this outbox (%s)",
                 who[0] ? who : "?", path);
        close(f);
        return TEND_ERR_USAGE;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)len, 0) != len) {
        /* the pid is a courtesy for the message above; the lock holds regardless */
    }
    *fd = f;
    return TEND_OK;
}

/* ---- gates: pacing per Slack webhook, parallelism per target ------------------ */

struct gate {
    char *channel, *target;
    int in_flight;
    int64_t not_before_ms; /* pacing and Retry-After */
};

struct job {
    int64_t id, attempts, resends;
    char *event, *channel, *target, *owner, *key;
    const struct notify_channel *ch;
    struct gate *gate;
    const char *dead; /* set: fails at once with this, nothing sent */
    char *body;
    size_t body_len, read_at;
    CURL *easy;
    struct curl_slist *headers, *rcpt;
    char response[RESPONSE_KEEP + 1];
    size_t response_len;
    char curl_err[CURL_ERROR_SIZE];
};

struct dispatcher {
    struct store *s;
    const struct notify_config *c;
    const struct dispatch_options *o;
    struct dispatch_summary *sum;
    CURLM *multi;
    struct gate **gates; /* each malloced: jobs keep pointers to them */
    size_t n_gates;
    struct job **jobs; /* in flight */
    size_t n_jobs;
    char (*targets)[2][320]; /* (channel, target) pairs with due rows */
    size_t n_targets, cap_targets;
    int64_t wake_ms; /* the earliest a gated target may start again */
    int64_t started; /* attempts started by the latest start_due() */
    enum tend_err err;
};

static struct gate *gate_of(struct dispatcher *d, const char *channel, const char *target) {
    for (size_t i = 0; i < d->n_gates; i++)
        if (strcmp(d->gates[i]->channel, channel) == 0 && strcmp(d->gates[i]->target, target) == 0)
            return d->gates[i];
    d->gates = xrealloc(d->gates, (d->n_gates + 1) * sizeof *d->gates);
    struct gate *g = xmalloc(sizeof *g);
    *g = (struct gate){.channel = xstrdup(channel), .target = xstrdup(target)};
    d->gates[d->n_gates++] = g;
    return g;
}

/* Forgets the gates with nothing in flight and nothing to wait for, so a
 * long-running dispatcher keeps only the targets of the moment. */
static void prune_gates(struct dispatcher *d, int64_t now) {
    size_t keep = 0;
    for (size_t i = 0; i < d->n_gates; i++) {
        struct gate *g = d->gates[i];
        if (g->in_flight == 0 && g->not_before_ms <= now) {
            free(g->channel);
            free(g->target);
            free(g);
        } else {
            d->gates[keep++] = g;
        }
    }
    d->n_gates = keep;
}

/* Transfers in flight to channel ch. */
static int channel_in_flight(const struct dispatcher *d, const struct notify_channel *ch) {
    int n = 0;
    for (size_t i = 0; i < d->n_jobs; i++)
        n += d->jobs[i]->ch == ch;
    return n;
}

/* How many more transfers the gate lets start now (0: wait until wake_ms). */
static int gate_room(struct dispatcher *d, const struct notify_channel *ch, struct gate *g,
                     int64_t now) {
    if (g->not_before_ms > now) {
        if (!d->wake_ms || g->not_before_ms < d->wake_ms)
            d->wake_ms = g->not_before_ms;
        return 0;
    }
    if (ch->kind == NOTIFY_SLACK)
        return g->in_flight ? 0 : 1;
    return g->in_flight < TARGET_PARALLEL ? TARGET_PARALLEL - g->in_flight : 0;
}

/* ---- rendering ----------------------------------------------------------------- */

static void on_item(void *arg, const char *snapshot) {
    cJSON *item = cJSON_Parse(snapshot);
    cJSON_AddItemToArray(arg, item ? item : cJSON_CreateObject());
}

enum tend_err dispatch_render(struct store *s, const struct notify_config *c,
                              const struct store_outbox *row, int64_t now_ms, char **out) {
    const struct notify_channel *ch = notify_channel_find(c, row->channel);
    if (!ch)
        return TEND_ERR_NOTFOUND;
    bool digest = row->notification_id == 0;
    cJSON *doc;
    if (digest) {
        doc = cJSON_CreateArray();
        enum tend_err err = store_outbox_items_each(s, row->id, on_item, doc);
        if (err) {
            cJSON_Delete(doc);
            return err;
        }
    } else {
        doc = row->snapshot ? cJSON_Parse(row->snapshot) : NULL;
        if (!doc)
            doc = cJSON_CreateObject();
    }
    const cJSON *first = digest ? cJSON_GetArrayItem(doc, 0) : doc;
    const cJSON *slack = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(first, "cta"), "owner_slack");
    struct message_ctx ctx = {
        .key = row->key,
        .base_url = c->base_url,
        .owner = row->owner,
        .owner_slack = cJSON_IsString(slack) ? slack->valuestring : NULL,
        .from = ch->from,
        .to = row->target,
        .now_ms = now_ms,
    };
    switch (ch->kind) {
    case NOTIFY_SLACK:
        *out = digest ? message_slack_digest(doc, &ctx) : message_slack(doc, &ctx);
        break;
    case NOTIFY_EMAIL:
        *out = digest ? message_email_digest(doc, &ctx) : message_email(doc, &ctx);
        break;
    case NOTIFY_WEBHOOK:
        *out = digest ? message_webhook_digest(doc, &ctx) : message_webhook(doc, &ctx);
        break;
    case NOTIFY_LOG:
        *out = digest ? message_log_digest(doc, &ctx) : message_log(doc, &ctx);
        break;
    }
    cJSON_Delete(doc);
    return TEND_OK;
}

/* ---- outcomes --------------------------------------------------------------------- */

/* Records an attempt's end and tells the caller. status: sent, pending or dead. */
static void finish(struct dispatcher *d, struct job *j, const char *status, const char *error,
                   int64_t retry_at_ms) {
    int64_t now = dt_now_ms();
    char why[DISPATCH_ERR_BYTES + 64];
    if (!strcmp(status, "pending") && j->attempts >= d->c->max_attempts) {
        snprintf(why, sizeof why, "gave up after %lld attempts: %s", (long long)j->attempts, error);
        status = "dead";
        error = why;
    }
    struct store_outbox r = {
        .id = j->id,
        .event = j->event,
        .channel = j->channel,
        .target = j->target,
        .owner = j->owner,
        .key = j->key,
        .status = status,
        .attempts = j->attempts,
        .resends = j->resends,
        .next_at_ms = !strcmp(status, "pending") ? retry_at_ms : now,
        .sent_ms = !strcmp(status, "sent") ? now : 0,
        .last_error = error,
    };
    enum tend_err err = store_begin(d->s, NULL);
    if (!err)
        err = store_outbox_set(d->s, &r);
    if (!err)
        err = store_commit(d->s);
    else
        store_rollback(d->s);
    if (err && !d->err)
        d->err = err;
    if (!strcmp(status, "sent"))
        d->sum->sent++;
    else if (!strcmp(status, "dead"))
        d->sum->dead++;
    else
        d->sum->retrying++;
    if (d->o->outcome)
        d->o->outcome(d->o->arg, &r, status, error);
}

static int64_t backoff_at(struct dispatcher *d, const struct job *j) {
    return dt_now_ms() + notify_backoff_ms(d->c, (int)j->attempts, g_random_double());
}

static void job_free(struct job *j) {
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
    free(j);
}

/* The answer kept for last_error: printable, one line. */
static const char *answer(struct job *j) {
    for (size_t i = 0; i < j->response_len; i++)
        if ((unsigned char)j->response[i] < 0x20)
            j->response[i] = ' ';
    return j->response;
}

/* Classifies a finished HTTP transfer (docs/delivery.md's table). */
static void http_done(struct dispatcher *d, struct job *j, CURLcode rc) {
    char why[DISPATCH_ERR_BYTES];
    long code = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        snprintf(why, sizeof why, "%s", j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc));
        finish(d, j, "pending", why, backoff_at(d, j));
    } else if (code >= 200 && code < 300) {
        finish(d, j, "sent", NULL, 0);
    } else if (code == 429) {
        curl_off_t after = -1;
        curl_easy_getinfo(j->easy, CURLINFO_RETRY_AFTER, &after);
        /* Absent: a minute; a date in the past: now; never beyond an hour
         * (or max_seconds if longer): a hostile answer cannot park a row. */
        int64_t cap = d->c->retry_max_ms > RETRY_AFTER_MAX ? d->c->retry_max_ms : RETRY_AFTER_MAX;
        int64_t wait_ms = after >= 0 ? (int64_t)after * 1000 : RETRY_AFTER_ABSENT;
        if (wait_ms > cap)
            wait_ms = cap;
        int64_t at = dt_now_ms() + wait_ms;
        if (at > j->gate->not_before_ms)
            j->gate->not_before_ms = at; /* the whole webhook waits */
        snprintf(why, sizeof why, "HTTP 429 (retry after %lld s): %s", (long long)(wait_ms / 1000),
                 answer(j));
        finish(d, j, "pending", why, at);
    } else if (code >= 500 || code == 408) {
        snprintf(why, sizeof why, "HTTP %ld: %s", code, answer(j));
        finish(d, j, "pending", why, backoff_at(d, j));
    } else if (code >= 300 && code < 400) {
        snprintf(why, sizeof why, "HTTP %ld (a redirect: tend does not follow them; fix the url)",
                 code);
        finish(d, j, "dead", why, 0);
    } else {
        snprintf(why, sizeof why, "HTTP %ld (permanent): %s", code, answer(j));
        finish(d, j, "dead", why, 0);
    }
}

/* Classifies a finished SMTP transfer: 5xx and TLS/login refusals are
 * permanent; 4xx and network trouble transient. */
static void smtp_done(struct dispatcher *d, struct job *j, CURLcode rc) {
    char why[DISPATCH_ERR_BYTES];
    long code = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    const char *detail = j->curl_err[0] ? j->curl_err : curl_easy_strerror(rc);
    if (rc == CURLE_OK) {
        finish(d, j, "sent", NULL, 0);
    } else if (code >= 400 && code < 500) {
        snprintf(why, sizeof why, "SMTP %ld: %s", code, detail);
        finish(d, j, "pending", why, backoff_at(d, j));
    } else if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
        snprintf(why, sizeof why, "the channel's url: %s", detail);
        finish(d, j, "dead", why, 0);
    } else if (rc == CURLE_USE_SSL_FAILED) {
        snprintf(why, sizeof why,
                 "the server does not offer STARTTLS, which this channel requires (%s); "
                 "add ?tls=off to the url only for a trusted local relay",
                 detail);
        finish(d, j, "dead", why, 0);
    } else if (rc == CURLE_LOGIN_DENIED) {
        snprintf(why, sizeof why, "login refused (SMTP %ld): %s", code, detail);
        finish(d, j, "dead", why, 0);
    } else if (code >= 500 && code < 600) {
        snprintf(why, sizeof why, "SMTP %ld (permanent): %s", code, detail);
        finish(d, j, "dead", why, 0);
    } else {
        snprintf(why, sizeof why, "%s", detail);
        finish(d, j, "pending", why, backoff_at(d, j));
    }
}

/* ---- starting transfers ----------------------------------------------------------- */

static size_t on_response(char *p, size_t size, size_t n, void *arg) {
    struct job *j = arg;
    size_t len = size * n, room = RESPONSE_KEEP - j->response_len;
    size_t take = len < room ? len : room;
    memcpy(j->response + j->response_len, p, take);
    j->response_len += take;
    j->response[j->response_len] = '\0';
    return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *arg) {
    struct job *j = arg;
    size_t room = size * n, left = j->body_len - j->read_at;
    size_t take = left < room ? left : room;
    memcpy(p, j->body + j->read_at, take);
    j->read_at += take;
    return take;
}

/* The address of a From header value: "Name <a@b>" -> "<a@b>". */
static void mail_from(const char *from, char *out, size_t size) {
    const char *lt = strrchr(from, '<');
    if (lt)
        snprintf(out, size, "%s", lt);
    else
        snprintf(out, size, "<%s>", from);
}

static void start_http(struct job *j, const char *url) {
    CURL *e = j->easy;
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
        snprintf(ts, sizeof ts, "%lld", (long long)(dt_now_ms() / 1000));
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

static void start_smtp(struct job *j) {
    CURL *e = j->easy;
    const struct notify_channel *ch = j->ch;
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

/* Appends the log line and syncs it; the outcome is final at once. */
static void send_log(struct dispatcher *d, struct job *j) {
    char why[DISPATCH_ERR_BYTES];
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
    snprintf(why, sizeof why, "%s: %s", j->ch->path, strerror(errno));
    if (f >= 0)
        close(f);
    if (ok)
        finish(d, j, "sent", NULL, 0);
    else
        finish(d, j, "pending", why, backoff_at(d, j));
}

/* Starts a job whose row is marked sending: a log line at once, else a
 * transfer in the multi handle. */
static void start(struct dispatcher *d, struct job *j) {
    d->started++;
    j->gate->in_flight++;
    if (j->ch->kind == NOTIFY_SLACK)
        j->gate->not_before_ms = dt_now_ms() + d->c->slack_interval_ms;
    if (j->ch->kind == NOTIFY_LOG) {
        send_log(d, j);
        j->gate->in_flight--;
        job_free(j);
        return;
    }
    j->easy = curl_easy_init();
    if (!j->easy) {
        finish(d, j, "pending", "libcurl could not make a handle", backoff_at(d, j));
        j->gate->in_flight--;
        job_free(j);
        return;
    }
    CURL *e = j->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_err);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)d->c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)d->c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tend-deliver/1");
    if (j->ch->kind == NOTIFY_EMAIL)
        start_smtp(j);
    else
        start_http(j,
                   j->ch->kind == NOTIFY_SLACK ? notify_slack_url(j->ch, j->target) : j->ch->url);
    curl_multi_add_handle(d->multi, e);
    d->jobs = xrealloc(d->jobs, (d->n_jobs + 1) * sizeof *d->jobs);
    d->jobs[d->n_jobs++] = j;
}

/* A transfer ended: classify it, release its gate. */
static void ended(struct dispatcher *d, CURL *e, CURLcode rc) {
    struct job *j = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&j);
    curl_multi_remove_handle(d->multi, e);
    if (j->ch->kind == NOTIFY_EMAIL)
        smtp_done(d, j, rc);
    else
        http_done(d, j, rc);
    j->gate->in_flight--;
    for (size_t i = 0; i < d->n_jobs; i++) {
        if (d->jobs[i] == j) {
            d->jobs[i] = d->jobs[--d->n_jobs];
            break;
        }
    }
    job_free(j);
}

/* ---- choosing what to send ------------------------------------------------------- */

/* The rows of one target that start now, collected from the store. */
struct batch {
    struct dispatcher *d;
    const struct notify_channel *ch; /* NULL: not configured */
    struct gate *gate;
    struct job **jobs;
    size_t n;
    const char *dead; /* every row of the target fails with this */
};

static void on_due(void *arg, const struct store_outbox *r) {
    struct batch *b = arg;
    struct dispatcher *d = b->d;
    struct job *j = xcalloc(1, sizeof *j);
    j->id = r->id;
    j->attempts = r->attempts + 1;
    j->resends = r->resends;
    j->event = xstrdup(r->event);
    j->channel = xstrdup(r->channel);
    j->target = xstrdup(r->target);
    j->owner = xstrdup(r->owner);
    j->key = xstrdup(r->key);
    j->ch = b->ch;
    j->gate = b->gate;
    if (!b->dead && b->ch->kind == NOTIFY_EMAIL && !j->target[0]) {
        /* written dead for want of an address, retried since: route again */
        const char *to = notify_email_to(d->c, b->ch, j->owner);
        free(j->target);
        j->target = xstrdup(to ? to : "");
        if (!to)
            j->dead = "no email address for the owner and no delivery.fallback_owner";
    }
    if (!b->dead && !j->dead) {
        enum tend_err err = dispatch_render(d->s, d->c, r, dt_now_ms(), &j->body);
        if (err) {
            d->err = err;
            job_free(j);
            return;
        }
        j->body_len = strlen(j->body);
    }
    b->jobs = xrealloc(b->jobs, (b->n + 1) * sizeof *b->jobs);
    b->jobs[b->n++] = j;
}

static void on_target(void *arg, const char *channel, const char *target) {
    struct dispatcher *d = arg;
    if (d->n_targets == d->cap_targets) {
        d->cap_targets = d->cap_targets ? d->cap_targets * 2 : 16;
        d->targets = xrealloc(d->targets, d->cap_targets * sizeof *d->targets);
    }
    snprintf(d->targets[d->n_targets][0], sizeof d->targets[0][0], "%s", channel);
    snprintf(d->targets[d->n_targets][1], sizeof d->targets[0][1], "%s", target);
    d->n_targets++;
}

/* Starts what each due target's gate lets through. */
static void start_due(struct dispatcher *d, int64_t now) {
    d->n_targets = 0;
    d->wake_ms = 0;
    if ((d->err = store_outbox_due_targets(d->s, now, on_target, d)))
        return;
    for (size_t t = 0; !d->err && t < d->n_targets; t++) {
        const char *channel = d->targets[t][0], *target = d->targets[t][1];
        struct batch b = {.d = d, .ch = notify_channel_find(d->c, channel)};
        int64_t room = 100;
        if (!b.ch) {
            b.dead = "the channel is not in the configuration (tend outbox retry once it is)";
        } else if (b.ch->kind == NOTIFY_SLACK && !notify_slack_url(b.ch, target)) {
            b.dead = "the Slack channel has no webhook for this owner and no url";
        } else {
            /* Slack paces per webhook URL, whichever channels share it. */
            b.gate = b.ch->kind == NOTIFY_SLACK ? gate_of(d, "", notify_slack_url(b.ch, target))
                                                : gate_of(d, channel, target);
            room = gate_room(d, b.ch, b.gate, now);
            int64_t left = MAX_IN_FLIGHT - (int64_t)d->n_jobs;
            room = room < left ? room : left;
        }
        if (b.ch && !b.dead) {
            int channel_room = CHANNEL_PARALLEL - channel_in_flight(d, b.ch);
            room = room < channel_room ? room : channel_room;
        }
        if (room <= 0)
            continue;
        if ((d->err = store_outbox_due(d->s, now, channel, target, room, on_due, &b)))
            break;
        /* Rows that cannot be sent fail at once; that is progress too. */
        size_t keep = 0;
        for (size_t i = 0; i < b.n; i++) {
            struct job *j = b.jobs[i];
            if (b.dead || j->dead) {
                j->attempts--; /* nothing was tried */
                finish(d, j, "dead", b.dead ? b.dead : j->dead, 0);
                job_free(j);
                d->started++;
            } else {
                b.jobs[keep++] = j;
            }
        }
        b.n = keep;
        if (b.n == 0) {
            free(b.jobs);
            continue;
        }
        /* Mark the batch sending, committed, before any byte goes out. */
        enum tend_err err = store_begin(d->s, NULL);
        for (size_t i = 0; !err && i < b.n; i++) {
            struct store_outbox r = {.id = b.jobs[i]->id,
                                     .status = "sending",
                                     .attempts = b.jobs[i]->attempts,
                                     .next_at_ms = now};
            err = store_outbox_set(d->s, &r);
        }
        if (!err)
            err = store_commit(d->s);
        else
            store_rollback(d->s);
        for (size_t i = 0; i < b.n; i++) {
            if (err || d->err)
                job_free(b.jobs[i]);
            else
                start(d, b.jobs[i]);
        }
        free(b.jobs);
        if (err)
            d->err = err;
    }
}

/* ---- digests ------------------------------------------------------------------------ */

struct group {
    char channel[NOTIFY_NAME_BYTES], target[320], owner[320];
};

static void on_group(void *arg, const char *channel, const char *target, const char *owner) {
    GArray *groups = arg;
    struct group g;
    snprintf(g.channel, sizeof g.channel, "%s", channel);
    snprintf(g.target, sizeof g.target, "%s", target);
    snprintf(g.owner, sizeof g.owner, "%s", owner);
    g_array_append_val(groups, g);
}

/* Makes the digest of every group with events held before the latest
 * digest hour (or before now, with digest_now): each in one transaction. */
static void make_digests(struct dispatcher *d, int64_t now) {
    int64_t cutoff = d->o->digest_now ? now + 1 : notify_digest_cutoff_ms(d->c, now);
    GArray *groups = g_array_new(FALSE, FALSE, sizeof(struct group));
    d->err = store_outbox_held_groups(d->s, cutoff, on_group, groups);
    for (guint i = 0; !d->err && i < groups->len; i++) {
        struct group *g = &g_array_index(groups, struct group, i);
        int64_t id = 0, items = 0;
        enum tend_err err = store_begin(d->s, NULL);
        if (!err)
            err = store_outbox_digest_make(d->s, g->channel, g->target, g->owner, cutoff, now, &id,
                                           &items);
        if (!err)
            err = store_commit(d->s);
        else
            store_rollback(d->s);
        d->err = err;
        if (!err && items)
            d->sum->digests++;
    }
    g_array_free(groups, TRUE);
}

/* ---- the loop ---------------------------------------------------------------------- */

static void on_count(void *arg, const char *status, int64_t rows, int64_t resends) {
    if (strcmp(status, "held") == 0)
        *(int64_t *)arg = rows;
}

static void curl_init(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool stopping(const struct dispatch_options *o) {
    return o->stop && atomic_load(o->stop);
}

enum tend_err dispatch_run(struct store *s, const struct notify_config *c,
                           const struct dispatch_options *o, struct dispatch_summary *out) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init);
    struct dispatch_summary sum = {0};
    struct dispatcher d = {.s = s, .c = c, .o = o, .sum = &sum, .multi = curl_multi_init()};
    int64_t deadline = dt_now_ms() + o->wait_ms;
    enum tend_err err = store_begin(s, NULL);
    if (!err)
        err = store_outbox_recover(s, &sum.recovered);
    if (!err)
        err = store_commit(s);
    else
        store_rollback(s);
    d.err = err;
    int64_t last_digest_ms = 0;
    while (!d.err) {
        int64_t now = dt_now_ms();
        d.started = 0;
        if (!stopping(o)) {
            if (now - last_digest_ms >= 1000) {
                make_digests(&d, now);
                last_digest_ms = now;
            }
            prune_gates(&d, now);
            if (!d.err)
                start_due(&d, now);
            if (d.err)
                break;
        }
        /* Drive the transfers: start what was just added, collect what ended. */
        int running = 0;
        curl_multi_perform(d.multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(d.multi, &left)))
            if (m->msg == CURLMSG_DONE)
                ended(&d, m->easy_handle, m->data.result);
        if (d.err)
            break;
        int64_t timeout = IDLE_POLL_MS;
        if (d.n_jobs == 0 && d.started > 0)
            continue; /* some ended at once (log lines): there may be more due */
        if (d.n_jobs == 0) {
            if (stopping(o))
                break;
            int64_t next = 0;
            bool found = false;
            if ((d.err = store_outbox_next_due(s, &next, &found)))
                break;
            if (found && next <= now && !d.wake_ms)
                continue; /* transfers ended together after this pass's starts */
            int64_t wake = d.wake_ms;
            if (found && next > now && (!wake || next < wake))
                wake = next;
            if (!o->stop) {
                int64_t until =
                    deadline > now + c->slack_interval_ms ? deadline : now + c->slack_interval_ms;
                if (!wake || wake > until)
                    break;
            }
            if (wake && wake - now < timeout)
                timeout = wake - now;
        } else if (d.wake_ms && d.wake_ms - now < timeout) {
            timeout = d.wake_ms - now;
        }
        long curl_ms = -1;
        curl_multi_timeout(d.multi, &curl_ms);
        if (curl_ms >= 0 && curl_ms < timeout)
            timeout = curl_ms;
        curl_multi_poll(d.multi, NULL, 0, (int)(timeout > 0 ? timeout : 0), NULL);
    }
    /* Abandoned transfers (a store failure) stay `sending`: the next run
     * re-sends them, counted. */
    for (size_t i = 0; i < d.n_jobs; i++) {
        curl_multi_remove_handle(d.multi, d.jobs[i]->easy);
        job_free(d.jobs[i]);
    }
    free(d.jobs);
    curl_multi_cleanup(d.multi);
    for (size_t i = 0; i < d.n_gates; i++) {
        free(d.gates[i]->channel);
        free(d.gates[i]->target);
        free(d.gates[i]);
    }
    free(d.gates);
    free(d.targets);
    if (!d.err)
        d.err = store_outbox_next_due(s, &sum.next_at_ms, &sum.has_next);
    if (!d.err)
        d.err = store_outbox_counts(s, on_count, &sum.held);
    if (!d.err)
        *out = sum;
    return d.err;
}
