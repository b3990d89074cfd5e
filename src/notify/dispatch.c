/* dispatch.c: sending the outbox (see dispatch.h).
 *
 * The loop: make the digests that are due; collect, for each destination
 * (a gate) with due rows, the most urgent rows its gate lets through now
 * (a Slack webhook: one transfer at a time, none before its hold, which is
 * the answer to the previous message plus the pacing interval, or a 429's
 * Retry-After; other destinations: up to TARGET_PARALLEL at once); admit
 * them most urgent first within the per-channel and overall limits; mark the
 * admitted rows `sending` in one transaction and start them: HTTP in
 * libcurl's multi handle, mail on threads of their own (send.h says why), a
 * log line at once. Then wait until a transfer ends, a row or a gate falls
 * due, and commit each answer as it comes.
 *
 * Holds are kept in the store (delivery_holds), written in the transaction
 * of the answer that set them, and read when a dispatcher starts: pacing and
 * Retry-After hold across `tend deliver` runs, kill -9 and tend serve. A
 * dispatcher that finds rows left `sending` by one that died holds their
 * Slack webhooks for one interval from now: the lost transfer may have just
 * arrived.
 *
 * Pacing counts from the answer, not from the start: the next message to a
 * webhook starts at least slack_interval after the previous one's answer
 * came back, so two messages arrive at least an interval apart however long
 * each took on the way (counted from the start, a request that took 960 ms
 * to arrive was followed 40 ms later by the next).
 *
 * Several dispatchers (one per node) on one database (store_shared): rows
 * are claimed, not just marked (store_outbox_claim: a row another node took
 * is skipped), each under a lease of LEASE_MS renewed while its transfer
 * runs; a row whose lease ran out (its node died) is put back to pending by
 * whichever dispatcher looks next (every second), never one still in
 * flight. A Slack webhook's claim also checks, in the database, its hold
 * and whether another node has a message in flight to it, so all nodes
 * together send one message at a time per webhook, paced from each answer
 * as above. Holds set on other nodes (a 429's Retry-After) are read every
 * second. Alone on its database (SQLite: the lock file), a dispatcher puts
 * back every row left `sending` when it starts, lease or not: whoever left
 * it died. */
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
#include "notify/send.h"
#include "util/datetime.h"
#include "util/mem.h"

#define TARGET_PARALLEL  4         /* transfers at once to one email address or webhook */
#define CHANNEL_PARALLEL SEND_POOL /* ... to one channel (one mail server, one endpoint) */
#define MAX_IN_FLIGHT    64        /* transfers at once in all */
#define IDLE_POLL_MS                                                                               \
    100 /* tend serve: how often an idle dispatcher looks (a new CTA is sent within this) */
#define DEAD_BATCH 100 /* rows of an unsendable target failed per pass */
/* A claimed row's lease: renewed every third of it while its transfer runs;
 * a node that dies leaves its rows to the others after at most this. */
#define LEASE_MS 60000
/* How often a gate busy on another node is asked again (its answer ends the
 * busy time sooner than the lease does). */
#define GATE_POLL_MS 250

/* ---- the lock ---------------------------------------------------------------- */

static bool is_server_url(const char *db) {
    return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

enum tend_err dispatch_lock(const char *db_path, int *fd, char *err) {
    if (is_server_url(db_path)) { /* several dispatchers share it through the database */
        *fd = -1;
        return TEND_OK;
    }
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

/* ---- gates: holds and parallelism per destination ------------------------------ */

struct gate {
    char *key;   /* delivery_holds.gate */
    char *label; /* for tend outbox */
    int in_flight;
    int chosen;            /* candidates taken in the current pass (channels can share a gate) */
    int64_t not_before_ms; /* pacing and Retry-After, as stored */
    int64_t busy_until_ms; /* sending from another node: ask again then */
};

struct dispatcher {
    struct store *s;
    const struct notify_config *c;
    const struct dispatch_options *o;
    struct dispatch_summary *sum;
    CURLM *multi;
    struct send_smtp smtp;
    struct gate **gates; /* each malloced: jobs keep pointers to them */
    size_t n_gates;
    struct send_job **jobs; /* in flight */
    size_t n_jobs;
    GHashTable *retrying; /* ids of rows whose latest attempt here failed, to be retried */
    int64_t wake_ms;      /* the earliest a held gate with due rows opens */
    int64_t started;      /* attempts started (or rows settled at once) by the latest pass */
    bool shared;          /* other dispatchers may run on the database (store_shared) */
    int64_t renewed_ms;   /* when the leases of the transfers in flight were last renewed */
    enum tend_err err;
};

/* The dispatcher's now: tend's clock (dt_now_ms), which tests of holds and
 * retries shift with TEND_TEST_CLOCK_OFFSET_S instead of sleeping. */
static int64_t now_of(const struct dispatcher *d) {
    return dt_now_ms();
}

static struct gate *gate_get(struct dispatcher *d, const char *key, const char *label) {
    for (size_t i = 0; i < d->n_gates; i++)
        if (strcmp(d->gates[i]->key, key) == 0)
            return d->gates[i];
    d->gates = xrealloc(d->gates, (d->n_gates + 1) * sizeof *d->gates);
    struct gate *g = xmalloc(sizeof *g);
    *g = (struct gate){.key = xstrdup(key), .label = xstrdup(label)};
    d->gates[d->n_gates++] = g;
    return g;
}

/* The gate of target in channel ch: a Slack webhook by the SHA-256 of its
 * url (the url is a secret; several channels and owners may share one), any
 * other destination by channel and target. NULL for a Slack target without
 * a webhook. */
static struct gate *gate_for(struct dispatcher *d, const struct notify_channel *ch,
                             const char *target) {
    char label[NOTIFY_NAME_BYTES + 400];
    snprintf(label, sizeof label, "%s %s%s%s", notify_kind_name(ch->kind), ch->name,
             target[0] ? " " : "", target);
    if (ch->kind != NOTIFY_SLACK) {
        char *key = g_strdup_printf("%s %s", ch->name, target);
        struct gate *g = gate_get(d, key, label);
        g_free(key);
        return g;
    }
    const char *url = notify_slack_url(ch, target);
    if (!url)
        return NULL;
    gchar *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, url, -1);
    char key[80];
    snprintf(key, sizeof key, "slack %s", hash);
    g_free(hash);
    return gate_get(d, key, label);
}

/* Holds g until until_ms (never shortens a hold), recorded in the store: call
 * inside a transaction. */
static enum tend_err hold(struct dispatcher *d, struct gate *g, int64_t until_ms,
                          const char *reason) {
    if (until_ms <= g->not_before_ms)
        return TEND_OK;
    g->not_before_ms = until_ms;
    struct store_hold h = {
        .gate = g->key, .not_before_ms = until_ms, .reason = reason, .label = g->label};
    return store_outbox_hold_set(d->s, &h);
}

/* Forgets the gates with nothing in flight and nothing to wait for, so a
 * long-running dispatcher keeps only the destinations of the moment. */
static void prune_gates(struct dispatcher *d, int64_t now) {
    size_t keep = 0;
    for (size_t i = 0; i < d->n_gates; i++) {
        struct gate *g = d->gates[i];
        if (g->in_flight == 0 && g->not_before_ms <= now && g->busy_until_ms <= now) {
            free(g->key);
            free(g->label);
            free(g);
        } else {
            d->gates[keep++] = g;
        }
    }
    d->n_gates = keep;
}

/* How many more transfers the gate lets start now (0: wait until wake_ms). */
static int gate_room(struct dispatcher *d, const struct notify_channel *ch, struct gate *g,
                     int64_t now) {
    int64_t open_at = g->not_before_ms > g->busy_until_ms ? g->not_before_ms : g->busy_until_ms;
    if (open_at > now) {
        if (!d->wake_ms || open_at < d->wake_ms)
            d->wake_ms = open_at;
        return 0;
    }
    int busy = g->in_flight + g->chosen;
    if (ch->kind == NOTIFY_SLACK)
        return busy ? 0 : 1;
    return busy < TARGET_PARALLEL ? TARGET_PARALLEL - busy : 0;
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
        .slack_actions = c->slack_actions,
    };
    /* A message to a customer (eval/customer.c): rendered when it was decided. */
    if (!digest && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "customer"))) {
        *out = ch->kind == NOTIFY_EMAIL ? message_email_customer(doc, &ctx)
                                        : message_log_customer(doc, &ctx);
        cJSON_Delete(doc);
        return TEND_OK;
    }
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

/* Records an attempt's end (or, attempted false, a row that fails without
 * one), with the holds it sets on its destination, in one transaction; and
 * tells the caller. */
static void finish(struct dispatcher *d, struct send_job *j, const struct send_outcome *out,
                   bool attempted) {
    int64_t now = now_of(d);
    const char *status = out->verdict == SEND_SENT   ? "sent"
                         : out->verdict == SEND_DEAD ? "dead"
                                                     : "pending";
    const char *error = out->verdict == SEND_SENT ? NULL : out->why;
    char why[SEND_ERR_BYTES + 64];
    int64_t next = now;
    if (out->verdict == SEND_RETRY) {
        next = out->retry_after_ms >= 0
                   ? now + out->retry_after_ms
                   : now + notify_backoff_ms(d->c, (int)j->attempts, g_random_double());
        if (j->attempts >= d->c->max_attempts) {
            snprintf(why, sizeof why, "gave up after %lld attempts: %s", (long long)j->attempts,
                     out->why);
            status = "dead";
            error = why;
        }
    }
    struct store_outbox r = {
        .id = j->id,
        .event = j->event,
        .channel = j->channel,
        .target = j->target,
        .owner = j->owner,
        .key = j->key,
        .status = status,
        .rank = j->rank,
        .attempts = j->attempts,
        .resends = j->resends + (out->ambiguous ? 1 : 0),
        .next_at_ms = next,
        .sent_ms = out->verdict == SEND_SENT ? now : 0,
        .last_error = error,
    };
    enum tend_err err = store_begin(d->s, NULL);
    if (!err)
        err = store_outbox_set(d->s, &r);
    if (!err && attempted && j->gate && j->ch->kind == NOTIFY_SLACK && d->c->slack_interval_ms > 0)
        err = hold(d, j->gate, now + d->c->slack_interval_ms, "pacing");
    if (!err && attempted && j->gate && out->retry_after_ms >= 0) {
        char reason[64];
        snprintf(reason, sizeof reason, "HTTP 429, Retry-After %lld s",
                 (long long)(out->retry_after_ms / 1000));
        err = hold(d, j->gate, now + out->retry_after_ms, reason); /* the whole webhook waits */
    }
    if (!err)
        err = store_commit(d->s);
    else
        store_rollback(d->s);
    if (err && !d->err)
        d->err = err;
    gpointer key = (gpointer)(intptr_t)j->id;
    if (!strcmp(status, "pending")) {
        d->sum->failed_attempts++;
        g_hash_table_add(d->retrying, key);
    } else {
        g_hash_table_remove(d->retrying, key);
        if (!strcmp(status, "sent"))
            d->sum->sent++;
        else
            d->sum->dead++;
        if (out->verdict != SEND_SENT && attempted)
            d->sum->failed_attempts++;
    }
    if (d->o->outcome)
        d->o->outcome(d->o->arg, &r, status, error);
}

/* A job in flight ended with out: record it, release its gate, free it. */
static void ended(struct dispatcher *d, struct send_job *j, const struct send_outcome *out) {
    finish(d, j, out, true);
    j->gate->in_flight--;
    for (size_t i = 0; i < d->n_jobs; i++) {
        if (d->jobs[i] == j) {
            d->jobs[i] = d->jobs[--d->n_jobs];
            break;
        }
    }
    send_job_free(j);
}

/* Starts a job whose row is marked sending: a log line at once, mail on a
 * thread, HTTP in the multi handle. */
static void start(struct dispatcher *d, struct send_job *j) {
    d->started++;
    j->gate->in_flight++;
    d->jobs = xrealloc(d->jobs, (d->n_jobs + 1) * sizeof *d->jobs);
    d->jobs[d->n_jobs++] = j;
    struct send_outcome out = {.verdict = SEND_RETRY, .retry_after_ms = -1};
    if (j->ch->kind == NOTIFY_LOG) {
        send_log(j, &out);
        ended(d, j, &out);
        return;
    }
    if (j->ch->kind == NOTIFY_EMAIL) {
        if (!send_smtp_start(&d->smtp, j)) {
            snprintf(out.why, sizeof out.why, "could not start a thread for the transfer");
            ended(d, j, &out);
        }
        return;
    }
    j->easy = curl_easy_init();
    if (!j->easy) {
        snprintf(out.why, sizeof out.why, "libcurl could not make a handle");
        ended(d, j, &out);
        return;
    }
    send_http_prepare(j,
                      j->ch->kind == NOTIFY_SLACK ? notify_slack_url(j->ch, j->target) : j->ch->url,
                      d->c, dt_now_ms() / 1000);
    curl_multi_add_handle(d->multi, j->easy);
}

/* Collects the transfers that ended: HTTP from the multi handle, mail from
 * its threads. Returns how many. */
static size_t collect(struct dispatcher *d) {
    size_t ended_here = 0;
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(d->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct send_job *j = NULL;
        CURL *e = m->easy_handle;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&j);
        curl_multi_remove_handle(d->multi, e);
        struct send_outcome out;
        send_http_outcome(j, rc, d->c, &out);
        ended(d, j, &out);
        ended_here++;
    }
    size_t n = 0;
    struct send_job **done = send_smtp_collect(&d->smtp, &n);
    for (size_t i = 0; i < n; i++) {
        struct send_outcome out;
        send_smtp_outcome(done[i], d->c, &out);
        send_smtp_release(&d->smtp, done[i], &out);
        ended(d, done[i], &out);
    }
    free(done);
    return ended_here + n;
}

/* ---- choosing what to send ------------------------------------------------------- */

/* The candidates of one pass: rows copied out of the store, not yet rendered. */
struct pass {
    struct dispatcher *d;
    const struct notify_channel *ch; /* of the target being read */
    struct gate *gate;
    GPtrArray *cands;                   /* struct send_job * */
    int n_of[NOTIFY_MAX_CHANNELS];      /* candidates per channel */
    int64_t worst[NOTIFY_MAX_CHANNELS]; /* their highest rank */
    char (*targets)[2][320];            /* (channel, target) with due rows, most urgent first */
    int64_t *ranks;
    size_t n_targets, cap_targets;
};

static void on_target(void *arg, const char *channel, const char *target, int64_t rank) {
    struct pass *p = arg;
    if (p->n_targets == p->cap_targets) {
        p->cap_targets = p->cap_targets ? p->cap_targets * 2 : 16;
        p->targets = xrealloc(p->targets, p->cap_targets * sizeof *p->targets);
        p->ranks = xrealloc(p->ranks, p->cap_targets * sizeof *p->ranks);
    }
    snprintf(p->targets[p->n_targets][0], sizeof p->targets[0][0], "%s", channel);
    snprintf(p->targets[p->n_targets][1], sizeof p->targets[0][1], "%s", target);
    p->ranks[p->n_targets] = rank;
    p->n_targets++;
}

static void on_due(void *arg, const struct store_outbox *r) {
    struct pass *p = arg;
    struct send_job *j = xcalloc(1, sizeof *j);
    j->id = r->id;
    j->notification_id = r->notification_id;
    j->rank = r->rank;
    j->next_at_ms = r->next_at_ms;
    j->attempts = r->attempts + 1;
    j->resends = r->resends;
    j->event = xstrdup(r->event);
    j->channel = xstrdup(r->channel);
    j->target = xstrdup(r->target);
    j->owner = xstrdup(r->owner);
    j->key = xstrdup(r->key);
    j->snapshot = r->snapshot ? xstrdup(r->snapshot) : NULL;
    j->ch = p->ch;
    j->gate = p->gate;
    g_ptr_array_add(p->cands, j);
}

/* Most urgent first: rank, then how long due, then oldest. */
static gint by_urgency(gconstpointer a, gconstpointer b) {
    const struct send_job *x = *(struct send_job *const *)a, *y = *(struct send_job *const *)b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->next_at_ms != y->next_at_ms)
        return x->next_at_ms < y->next_at_ms ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Fails up to DEAD_BATCH due rows of a target that cannot be sent to at all. */
static void fail_target(struct dispatcher *d, int64_t cutoff, const char *channel,
                        const char *target, const char *why) {
    struct pass p = {.d = d, .cands = g_ptr_array_new()};
    d->err = store_outbox_due(d->s, cutoff, channel, target, DEAD_BATCH, on_due, &p);
    struct send_outcome out = {.verdict = SEND_DEAD, .retry_after_ms = -1};
    snprintf(out.why, sizeof out.why, "%s", why);
    for (guint i = 0; i < p.cands->len; i++) {
        struct send_job *j = g_ptr_array_index(p.cands, i);
        j->attempts--; /* nothing was tried */
        if (!d->err)
            finish(d, j, &out, false);
        d->started++;
        send_job_free(j);
    }
    g_ptr_array_free(p.cands, TRUE);
}

/* Makes j ready to start: its address (a row written dead for want of one
 * and retried since is routed again) and its body. false: it fails at once
 * (*dead says why) or the store failed (d->err). */
static bool ready(struct dispatcher *d, struct send_job *j, int64_t now, const char **dead) {
    if (j->ch->kind == NOTIFY_EMAIL && !j->target[0]) {
        const char *to = notify_email_to(d->c, j->ch, j->owner);
        free(j->target);
        j->target = xstrdup(to ? to : "");
        if (!to) {
            *dead = "no email address for the owner and no delivery.fallback_owner";
            return false;
        }
    }
    struct store_outbox r = {.id = j->id,
                             .notification_id = j->notification_id,
                             .channel = j->channel,
                             .target = j->target,
                             .owner = j->owner,
                             .key = j->key,
                             .snapshot = j->snapshot};
    if ((d->err = dispatch_render(d->s, d->c, &r, now, &j->body)))
        return false;
    j->body_len = strlen(j->body);
    return true;
}

/* One pass: starts the most urgent due rows (next_at by cutoff) that the
 * gates and limits let through now; sets d->wake_ms to when the first held
 * gate with due rows opens. */
static void start_due(struct dispatcher *d, int64_t now, int64_t cutoff) {
    d->wake_ms = 0;
    for (size_t i = 0; i < d->n_gates; i++)
        d->gates[i]->chosen = 0;
    struct pass p = {.d = d, .cands = g_ptr_array_new()};
    int busy[NOTIFY_MAX_CHANNELS] = {0}; /* in flight per channel */
    for (size_t i = 0; i < d->n_jobs; i++)
        busy[d->jobs[i]->ch - d->c->channels]++;
    if ((d->err = store_outbox_due_targets(d->s, cutoff, on_target, &p)))
        goto cleanup;
    for (size_t t = 0; !d->err && t < p.n_targets; t++) {
        const char *channel = p.targets[t][0], *target = p.targets[t][1];
        const struct notify_channel *ch = notify_channel_find(d->c, channel);
        if (!ch) {
            fail_target(d, cutoff, channel, target,
                        "the channel is not in the configuration (tend outbox retry once it is)");
            continue;
        }
        struct gate *g = gate_for(d, ch, target);
        if (!g) {
            fail_target(d, cutoff, channel, target,
                        "the Slack channel has no webhook for this owner and no url");
            continue;
        }
        int k = (int)(ch - d->c->channels);
        int room = gate_room(d, ch, g, now);
        int channel_room = CHANNEL_PARALLEL - busy[k];
        /* Enough candidates for the channel already, none less urgent than
         * this target's best: it cannot win a place in this pass. */
        if (room <= 0 || channel_room <= 0 ||
            (p.n_of[k] >= channel_room && p.worst[k] <= p.ranks[t]))
            continue;
        p.ch = ch;
        p.gate = g;
        guint before = p.cands->len;
        if ((d->err = store_outbox_due(d->s, cutoff, channel, target, room, on_due, &p)))
            break;
        g->chosen += (int)(p.cands->len - before);
        for (guint i = before; i < p.cands->len; i++) {
            struct send_job *j = g_ptr_array_index(p.cands, i);
            p.n_of[k]++;
            if (j->rank > p.worst[k])
                p.worst[k] = j->rank;
        }
    }
    if (d->err)
        goto cleanup;
    g_ptr_array_sort(p.cands, by_urgency);
    /* Admit the most urgent first, within each channel's and the overall limit. */
    GPtrArray *go = g_ptr_array_new();
    size_t in_flight = d->n_jobs;
    for (guint i = 0; i < p.cands->len; i++) {
        struct send_job *j = g_ptr_array_index(p.cands, i);
        int k = (int)(j->ch - d->c->channels);
        if (in_flight >= MAX_IN_FLIGHT || busy[k] >= CHANNEL_PARALLEL)
            continue;
        const char *dead = NULL;
        if (!ready(d, j, now, &dead)) {
            if (d->err)
                break;
            struct send_outcome out = {.verdict = SEND_DEAD, .retry_after_ms = -1};
            snprintf(out.why, sizeof out.why, "%s", dead);
            j->attempts--;
            finish(d, j, &out, false);
            d->started++;
            continue;
        }
        busy[k]++;
        in_flight++;
        g_ptr_array_add(go, j);
        p.cands->pdata[i] = NULL; /* go owns it now */
    }
    /* Claim them (`sending`, leased), committed, before any byte goes out. A
     * row another dispatcher took meanwhile is left to it; one whose Slack
     * webhook is held or busy elsewhere waits for the gate. */
    struct store_claim *claims = xcalloc(go->len ? go->len : 1, sizeof *claims);
    for (guint i = 0; i < go->len; i++) {
        struct send_job *j = g_ptr_array_index(go, i);
        claims[i] = (struct store_claim){
            .id = j->id, .gate = j->gate->key, .exclusive = j->ch->kind == NOTIFY_SLACK};
    }
    if (!d->err && go->len) {
        enum tend_err err = store_begin(d->s, NULL);
        if (!err)
            err = store_outbox_claim(d->s, claims, go->len, now, now + LEASE_MS);
        if (!err)
            err = store_commit(d->s);
        else
            store_rollback(d->s);
        d->err = err;
    }
    for (guint i = 0; i < go->len; i++) {
        struct send_job *j = g_ptr_array_index(go, i);
        if (!d->err && claims[i].claimed) {
            j->attempts = claims[i].attempts;
            j->resends = claims[i].resends;
            start(d, j);
            continue;
        }
        if (!d->err && claims[i].wait_until_ms > now) {
            int64_t until = claims[i].wait_until_ms;
            if (until > now + GATE_POLL_MS)
                until = now + GATE_POLL_MS;
            if (until > j->gate->busy_until_ms)
                j->gate->busy_until_ms = until;
        }
        send_job_free(j);
    }
    free(claims);
    g_ptr_array_free(go, TRUE);
cleanup:
    for (guint i = 0; i < p.cands->len; i++)
        send_job_free(g_ptr_array_index(p.cands, i));
    g_ptr_array_free(p.cands, TRUE);
    free(p.targets);
    free(p.ranks);
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
 * digest hour (or before now, with digest_now): each in one transaction,
 * due at due_ms (a one-time run's cutoff: the run that made it sends it). */
static void make_digests(struct dispatcher *d, int64_t now, int64_t due_ms) {
    int64_t cutoff = d->o->digest_now ? now + 1 : notify_digest_cutoff_ms(d->c, now);
    GArray *groups = g_array_new(FALSE, FALSE, sizeof(struct group));
    d->err = store_outbox_held_groups(d->s, cutoff, on_group, groups);
    for (guint i = 0; !d->err && i < groups->len; i++) {
        struct group *g = &g_array_index(groups, struct group, i);
        int64_t id = 0, items = 0;
        enum tend_err err = store_begin(d->s, NULL);
        if (!err)
            err = store_outbox_digest_make(d->s, g->channel, g->target, g->owner, cutoff, due_ms,
                                           NOTIFY_RANK_DIGEST, &id, &items);
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

/* ---- starting: what a dispatcher that died left, and the holds -------------------- */

static void on_recovered(void *arg, const char *channel, const char *target) {
    GPtrArray *pairs = arg;
    g_ptr_array_add(pairs, g_strdup(channel));
    g_ptr_array_add(pairs, g_strdup(target));
}

static void on_hold(void *arg, const struct store_hold *h) {
    struct dispatcher *d = arg;
    struct gate *g = gate_get(d, h->gate, h->label);
    if (h->not_before_ms > g->not_before_ms)
        g->not_before_ms = h->not_before_ms;
}

static gint by_key(gconstpointer a, gconstpointer b) {
    const struct gate *x = *(struct gate *const *)a, *y = *(struct gate *const *)b;
    return strcmp(x->key, y->key);
}

/* Puts the rows left `sending` back to pending (counted in resends): every
 * one when the dispatcher is alone and starting (before_ms INT64_MAX), those
 * whose lease ended by before_ms otherwise; holds their Slack webhooks for
 * an interval from now (the lost request may have arrived just now); forgets
 * the holds that are over and loads the others. */
static enum tend_err recover(struct dispatcher *d, int64_t now, int64_t before_ms) {
    GPtrArray *pairs = g_ptr_array_new_with_free_func(g_free);
    int64_t n = 0;
    enum tend_err err = store_begin(d->s, NULL);
    if (!err)
        err = store_outbox_recover(d->s, before_ms, on_recovered, pairs, &n);
    /* Their Slack webhooks, held in the order of their keys (as claims lock
     * them: dispatchers on several nodes never wait for each other in a
     * circle). */
    GPtrArray *held = g_ptr_array_new();
    for (guint i = 0; !err && i + 1 < pairs->len; i += 2) {
        const struct notify_channel *ch = notify_channel_find(d->c, pairs->pdata[i]);
        struct gate *g =
            ch && ch->kind == NOTIFY_SLACK ? gate_for(d, ch, pairs->pdata[i + 1]) : NULL;
        if (g && d->c->slack_interval_ms > 0)
            g_ptr_array_add(held, g);
    }
    g_ptr_array_sort(held, by_key);
    for (guint i = 0; !err && i < held->len; i++)
        err = hold(d, g_ptr_array_index(held, i), now + d->c->slack_interval_ms,
                   "pacing (a dispatcher stopped during a transfer)");
    g_ptr_array_free(held, TRUE);
    g_ptr_array_free(pairs, TRUE);
    if (!err)
        d->sum->recovered += n;
    if (!err)
        err = store_outbox_holds_prune(d->s, now);
    if (!err)
        err = store_commit(d->s);
    else
        store_rollback(d->s);
    if (!err)
        err = store_outbox_holds_each(d->s, now, on_hold, d);
    return err;
}

/* Extends the leases of the transfers in flight (a third of a lease after
 * the last renewal), so that no other dispatcher takes them back. */
static void renew_leases(struct dispatcher *d, int64_t now) {
    if (!d->n_jobs || now - d->renewed_ms < LEASE_MS / 3)
        return;
    int64_t *ids = xmalloc(d->n_jobs * sizeof *ids);
    for (size_t i = 0; i < d->n_jobs; i++)
        ids[i] = d->jobs[i]->id;
    enum tend_err err = store_begin(d->s, NULL);
    if (!err)
        err = store_outbox_lease_renew(d->s, ids, d->n_jobs, now + LEASE_MS, NULL);
    if (!err)
        err = store_commit(d->s);
    else
        store_rollback(d->s);
    free(ids);
    d->err = err;
    d->renewed_ms = now;
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

static int64_t min_known(int64_t a, int64_t b) {
    return !a ? b : !b ? a : a < b ? a : b;
}

/* How long the loop may sleep, or -1 when a one-time run is over: nothing
 * in flight, and neither a due row waiting for a gate that opens soon nor a
 * row falling due before the run's deadline. */
static int64_t idle_wait(struct dispatcher *d, int64_t now, int64_t cutoff, int64_t deadline) {
    int64_t next = 0;
    bool found = false;
    if ((d->err = store_outbox_next_due(d->s, cutoff, &next, &found)))
        return -1;
    if (d->o->stop) {
        int64_t wake = min_known(d->wake_ms, found ? next : 0);
        return wake && wake - now < IDLE_POLL_MS ? wake - now : IDLE_POLL_MS;
    }
    /* One run: it waits out pacing (a gate opening within an interval, or
     * before the deadline), and rows that fall due before the deadline;
     * nothing that falls due later, however soon. */
    int64_t pace_until = now_of(d) + d->c->slack_interval_ms;
    if (pace_until < deadline)
        pace_until = deadline;
    int64_t wake = 0;
    if (d->wake_ms && d->wake_ms <= pace_until)
        wake = d->wake_ms;
    if (found && next <= deadline)
        wake = min_known(wake, next);
    if (!wake)
        return -1;
    return wake - now < IDLE_POLL_MS ? wake - now : IDLE_POLL_MS;
}

enum tend_err dispatch_run(struct store *s, const struct notify_config *c,
                           const struct dispatch_options *o, struct dispatch_summary *out) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init);
    struct dispatch_summary sum = {0};
    struct dispatcher d = {.s = s,
                           .c = c,
                           .o = o,
                           .sum = &sum,
                           .multi = curl_multi_init(),
                           .retrying = g_hash_table_new(g_direct_hash, g_direct_equal)};
    send_smtp_init(&d.smtp, c, d.multi);
    int64_t deadline = now_of(&d) + o->wait_ms;
    d.shared = store_shared(s);
    d.renewed_ms = now_of(&d);
    d.err = recover(&d, now_of(&d), d.shared ? now_of(&d) : INT64_MAX);
    int64_t last_digest_ms = 0;
    bool stop_seen = false;
    while (!d.err) {
        int64_t now = now_of(&d);
        /* A one-time run sends what is due by its deadline: a retry that
         * falls due later waits for the next run, however long this one
         * takes for other rows. */
        int64_t cutoff = o->stop || now < deadline ? now : deadline;
        d.started = 0;
        bool stop = stopping(o);
        if (stop && !stop_seen) { /* mail still in flight then gets timeout_seconds */
            stop_seen = true;
            send_smtp_stop_at(&d.smtp, send_mono_ms() + c->timeout_ms);
        }
        if (!stop) {
            if (now - last_digest_ms >= 1000) {
                make_digests(&d, now, cutoff);
                /* Shared: the rows of a node that died, the others' holds. */
                if (!d.err && d.shared)
                    d.err = recover(&d, now, now);
                last_digest_ms = now;
            }
            prune_gates(&d, now);
            if (!d.err)
                start_due(&d, now, cutoff);
            if (d.err)
                break;
        }
        if (!d.err)
            renew_leases(&d, now);
        if (d.err)
            break;
        int running = 0;
        curl_multi_perform(d.multi, &running);
        size_t ended_now = collect(&d);
        if (d.err)
            break;
        int64_t timeout = IDLE_POLL_MS;
        if (d.n_jobs == 0) {
            if (stop)
                break;
            if (d.started > 0 || ended_now > 0)
                continue; /* something ended: look again before deciding to wait or end */
            if ((timeout = idle_wait(&d, now, cutoff, deadline)) < 0)
                break;
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
     * re-sends them, counted. Mail threads are stopped and joined. */
    for (size_t i = 0; i < d.n_jobs; i++) {
        if (d.jobs[i]->ch->kind == NOTIFY_EMAIL)
            continue; /* send_smtp_shutdown frees them */
        curl_multi_remove_handle(d.multi, d.jobs[i]->easy);
        send_job_free(d.jobs[i]);
    }
    send_smtp_shutdown(&d.smtp);
    free(d.jobs);
    curl_multi_cleanup(d.multi);
    int64_t wake = d.wake_ms;
    for (size_t i = 0; i < d.n_gates; i++) {
        free(d.gates[i]->key);
        free(d.gates[i]->label);
        free(d.gates[i]);
    }
    free(d.gates);
    sum.retrying = g_hash_table_size(d.retrying);
    g_hash_table_destroy(d.retrying);
    /* The next attempt: a held gate's opening, or the first row not due by
     * the run's horizon (later rows are not this run's). */
    int64_t next = 0;
    bool found = false;
    if (!d.err)
        d.err = store_outbox_next_due(s, o->stop ? now_of(&d) : deadline, &next, &found);
    if (!d.err) {
        sum.next_at_ms = min_known(wake, found ? next : 0);
        sum.has_next = sum.next_at_ms != 0;
    }
    if (!d.err)
        d.err = store_outbox_counts(s, on_count, &sum.held);
    if (!d.err)
        *out = sum;
    return d.err;
}
