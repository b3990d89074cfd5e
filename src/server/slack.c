/* slack.c: POST /slack/actions and /slack/commands (see slack.h).
 *
 * The design decision: verify and parse on the request's thread (fast,
 * pure, no store), then hand the request to a small bounded queue and
 * answer 200. Slack allows 3 seconds; a users.info look-up alone can take
 * longer on a bad day, and the store may be busy with an evaluation, so the
 * work that waits on the network or the store happens after the answer, and
 * its result goes to the response_url Slack gave (valid for 30 minutes, five
 * posts). A request refused by the signature check never reaches the
 * queue. */
#include "server/slack.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/permissions.h"
#include "eval/ctas.h"
#include "eval/owner.h"
#include "ingest/verify.h"
#include "notify/message.h"
#include "server/http.h"
#include "server/slack_msg.h"
#include "server/views.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/datetime.h"
#include "util/log.h"
#include "util/mem.h"

#define ANSWER_MAX_BYTES (256 * 1024) /* Slack's answers to users.info are a few KB */
#define EMAIL_BYTES      320

enum job_kind { JOB_CLICK, JOB_COMMAND };

struct job {
    enum job_kind kind;
    struct slack_click click;
    struct slack_command command;
    struct job *next;
};

struct cached {
    char email[EMAIL_BYTES]; /* "" when Slack knows none */
    int64_t until_ms;
};

struct slack {
    struct slack_options o;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct job *head, *tail;
    int queued;
    bool stopping;
    pthread_t workers[SLACK_WORKERS];
    GHashTable *cache; /* Slack user id -> struct cached */
    GHashTable *seen;  /* X-Slack-Signature of a request queued -> its expiry (int64_t ms) */
    /* Unsigned or forged requests logged in the current minute, and not. */
    int64_t refusals_since_ms;
    int refusals_shown, refusals_hidden;
};

bool slack_may_act(const struct serve_user *u, bool mine, enum cta_verb verb) {
    (void)verb; /* every button is acting on the CTA (PERM_ACT), as on the dashboard */
    if (!u || u->disabled)
        return false;
    struct perm_who who = {.kind = PERM_PERSON, .role = u->role};
    return perm_decide(&who, PERM_ACT, mine ? PERM_T_MINE : PERM_T_OTHERS) == PERM_ALLOW;
}

/* ---- HTTP out ------------------------------------------------------------------ */

static size_t on_data(char *p, size_t size, size_t n, void *arg) {
    struct buf *b = arg;
    return buf_append(b, p, size * n) ? 0 : size * n;
}

/* One request with libcurl: GET url (body NULL) or POST body as JSON, with
 * an Authorization: Bearer token when given; only http(s), no redirects,
 * SLACK_HTTP_TIMEOUT_MS in all. The answer's body in *answer (capped);
 * returns the HTTP status, or 0 with the reason in err when there was none. */
static long http_do(const char *url, const char *body, const char *token, struct buf *answer,
                    char *err, size_t size) {
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, size, "libcurl could not start");
        return 0;
    }
    struct curl_slist *hs = NULL;
    char auth[600];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hs = curl_slist_append(hs, auth);
    }
    if (body)
        hs = curl_slist_append(hs, "Content-Type: application/json; charset=utf-8");
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)SLACK_HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tend");
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    long status = 0;
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(err, size, "%s", ebuf[0] ? ebuf : curl_easy_strerror(rc));
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    return status;
}

/* Posts body (taken) to a response_url the parse accepted; logs a failure. */
static void respond(const char *url, char *body) {
    struct buf answer;
    buf_init(&answer, 4096);
    char err[CURL_ERROR_SIZE + 64];
    long status = http_do(url, body, NULL, &answer, err, sizeof err);
    if (status < 200 || status > 299)
        log_printf("tend serve: slack: posting to the response_url failed: %s",
                   status ? "an HTTP error status" : err);
    buf_free(&answer);
    free(body);
}

/* ---- who clicked ------------------------------------------------------------- */

static const struct serve_user *user_by_slack_id(const struct slack *k, const char *id) {
    for (size_t i = 0; i < k->o.serve->n_users; i++)
        if (k->o.serve->users[i].slack_user_id &&
            strcmp(k->o.serve->users[i].slack_user_id, id) == 0)
            return &k->o.serve->users[i];
    return NULL;
}

static const struct serve_user *user_by_email(const struct slack *k, const char *email) {
    for (size_t i = 0; email[0] && i < k->o.serve->n_users; i++)
        if (g_ascii_strcasecmp(k->o.serve->users[i].email, email) == 0)
            return &k->o.serve->users[i];
    return NULL;
}

/* The email Slack knows for user id, from the cache or users.info: true
 * with it (maybe "") in email; false when Slack could not be asked (no bot
 * token, no answer), with the reason logged. */
static bool slack_email(struct slack *k, const char *id, char *email, size_t size) {
    int64_t now = dt_now_ms();
    pthread_mutex_lock(&k->lock);
    struct cached *c = g_hash_table_lookup(k->cache, id);
    bool hit = c && c->until_ms > now;
    if (hit)
        snprintf(email, size, "%s", c->email);
    pthread_mutex_unlock(&k->lock);
    if (hit)
        return true;
    if (!k->o.cfg->bot_token)
        return false;
    char url[SLACK_MAX_URL_BYTES + 64], err[CURL_ERROR_SIZE + 64];
    snprintf(url, sizeof url, "%s/users.info?user=%s", k->o.cfg->api_url, id);
    struct buf answer;
    buf_init(&answer, ANSWER_MAX_BYTES);
    long status = http_do(url, NULL, k->o.cfg->bot_token, &answer, err, sizeof err);
    cJSON *j = status == 200 ? cJSON_Parse(buf_str(&answer)) : NULL;
    buf_free(&answer);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(j, "user");
    const cJSON *err_name = cJSON_GetObjectItemCaseSensitive(j, "error");
    bool known = cJSON_IsTrue(ok) ||
                 (cJSON_IsString(err_name) && strcmp(err_name->valuestring, "user_not_found") == 0);
    if (!known) {
        log_printf("tend serve: slack: users.info for %s failed: %s", id,
                   !status                    ? err
                   : cJSON_IsString(err_name) ? err_name->valuestring
                                              : "not a Slack answer");
        cJSON_Delete(j);
        return false;
    }
    const cJSON *mail = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(user, "profile"), "email");
    bool deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(user, "deleted"));
    snprintf(email, size, "%s",
             cJSON_IsTrue(ok) && !deleted && cJSON_IsString(mail) ? mail->valuestring : "");
    cJSON_Delete(j);
    pthread_mutex_lock(&k->lock);
    if (g_hash_table_size(k->cache) >= SLACK_CACHE_MAX)
        g_hash_table_remove_all(k->cache);
    struct cached *n = xcalloc(1, sizeof *n);
    snprintf(n->email, sizeof n->email, "%s", email);
    n->until_ms = now + (email[0] ? SLACK_CACHE_HIT_MS : SLACK_CACHE_MISS_MS);
    g_hash_table_replace(k->cache, xstrdup(id), n);
    pthread_mutex_unlock(&k->lock);
    return true;
}

/* The tend user of Slack user id: by slack_user_id, else by the email Slack
 * has for them. NULL when none; *asked false when Slack could not be asked. */
static const struct serve_user *tend_user(struct slack *k, const char *id, bool *asked) {
    *asked = true;
    const struct serve_user *u = user_by_slack_id(k, id);
    if (u)
        return u;
    char email[EMAIL_BYTES];
    if (!slack_email(k, id, email, sizeof email)) {
        *asked = k->o.cfg->bot_token == NULL; /* no token: nothing to ask, a plain no */
        return NULL;
    }
    return user_by_email(k, email);
}

/* Why a Slack user may not act, for their ephemeral message. */
static const char *refusal(const struct serve_user *u, bool asked) {
    if (!asked)
        return "tend could not reach Slack to find who you are: try again in a minute.";
    if (!u)
        return "You are not a tend user: ask your tend admin to add you (serve.users, with your "
               "Slack member id as slack_user_id or your Slack email). Nothing was changed.";
    if (u->disabled)
        return "Your tend user is disabled: nothing was changed.";
    return "You may not do this to this CTA: nothing was changed.";
}

/* ---- the work ----------------------------------------------------------------- */

static void do_click(struct slack *k, struct store *s, struct slack_click *cl) {
    bool asked;
    const struct serve_user *u = tend_user(k, cl->user_id, &asked);
    struct store_cta cta;
    char why[400] = "";
    enum tend_err err = TEND_ERR_AUTH;
    if (u && !u->disabled) {
        err = eval_cta_get(s, cl->cta_id, &cta);
        if (err == TEND_ERR_NOTFOUND) {
            respond(cl->response_url, slack_msg_ephemeral("This CTA is no longer in tend."));
            return;
        }
        if (err) {
            log_printf("tend serve: slack: %s", store_last_error(s));
            respond(cl->response_url,
                    slack_msg_ephemeral("tend could not read the CTA: try again in a minute."));
            return;
        }
        bool mine = false;
        err = eval_cta_is_mine(s, &cta, u->email, &mine);
        eval_cta_release(&cta);
        if (err) {
            log_printf("tend serve: slack: %s", store_last_error(s));
            respond(cl->response_url,
                    slack_msg_ephemeral("tend could not read the CTA: try again in a minute."));
            return;
        }
        err = slack_may_act(u, mine, cl->verb) ? TEND_OK : TEND_ERR_AUTH;
        if (err) { /* the dashboard's words for the refusal */
            struct perm_who who = {.kind = PERM_PERSON, .role = u->role};
            char explain[300];
            perm_explain(&who, PERM_ACT, mine ? PERM_T_MINE : PERM_T_OTHERS, explain,
                         sizeof explain);
            snprintf(why, sizeof why, "%s Nothing was changed.", explain);
        }
    }
    if (err) {
        log_printf("tend serve: slack: %s (%s) refused: %s CTA %lld", cl->user_id,
                   u ? u->email : "no tend user", cta_verb_name(cl->verb), (long long)cl->cta_id);
        respond(cl->response_url, slack_msg_ephemeral(why[0] ? why : refusal(u, asked)));
        return;
    }
    struct cta_act a = {.verb = cl->verb, .by = u->email, .reason = CTA_RESOLVED};
    if (cl->verb == CTA_ACT_SNOOZE) {
        int32_t day;
        if ((err = eval_action_day(s, &day))) {
            respond(cl->response_url,
                    slack_msg_ephemeral("tend could not read its day: try again in a minute."));
            return;
        }
        a.until = day + MESSAGE_SLACK_SNOOZE_DAYS;
    }
    if (cl->verb == CTA_ACT_ASSIGN)
        a.owner = u->email;
    char msg[400];
    bool changed = false;
    err = eval_cta_act_once(s, cl->cta_id, &a, msg, sizeof msg, &changed);
    log_printf("tend serve: slack: %s (%s) %s CTA %lld: %s", cl->user_id, u->email,
               cta_verb_name(cl->verb), (long long)cl->cta_id, msg);
    if (err && err != TEND_ERR_CONFLICT) {
        respond(cl->response_url, slack_msg_ephemeral(msg));
        return;
    }
    /* The state now, as a fresh read: a conflict (closed already) shows it. */
    bool live = true;
    if (!eval_cta_get(s, cl->cta_id, &cta)) {
        live = cta.status != CTA_CLOSED;
        eval_cta_release(&cta);
    }
    char *state = slack_state_line(cl->verb, msg, u->name);
    respond(cl->response_url, slack_msg_replace(cl->message, state, live));
    free(state);
}

/* Accounts whose id or name starts with text (case-insensitive), from the
 * rows of GET /api/accounts?q=text; when one's id or name is text itself
 * (case-insensitive), that one alone ("/tend ACME" when there are acme and
 * acmex). */
static cJSON *prefix_matches(const cJSON *rows, const char *text) {
    cJSON *out = cJSON_CreateArray();
    size_t n = strlen(text);
    const cJSON *r;
    cJSON_ArrayForEach(r, rows) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(r, "name");
        if ((cJSON_IsString(id) && g_ascii_strcasecmp(id->valuestring, text) == 0) ||
            (cJSON_IsString(name) && g_ascii_strcasecmp(name->valuestring, text) == 0)) {
            cJSON_Delete(out);
            out = cJSON_CreateArray();
            cJSON_AddItemToArray(out, cJSON_Duplicate(r, true));
            return out;
        }
        if ((cJSON_IsString(id) && g_ascii_strncasecmp(id->valuestring, text, n) == 0) ||
            (cJSON_IsString(name) && g_ascii_strncasecmp(name->valuestring, text, n) == 0))
            cJSON_AddItemToArray(out, cJSON_Duplicate(r, true));
    }
    return out;
}

/* The answer to `/tend TEXT`: malloced. */
static char *command_answer(struct slack *k, struct store *s, const char *text) {
    char err[VIEW_ERR_BYTES];
    if (!text[0])
        return slack_msg_ephemeral("Say which account: `/tend ACCOUNT`, its id or the start of "
                                   "its name (e.g. `/tend acme`).");
    struct view_params p = {.keys = {"days"}, .values = {"1"}, .n = 1};
    cJSON *one = NULL;
    enum tend_err e = view_account(s, k->o.env, text, &p, &one, err);
    if (!e) {
        char *out = slack_msg_account(one, k->o.base_url);
        cJSON_Delete(one);
        return out;
    }
    if (e != TEND_ERR_NOTFOUND) {
        log_printf("tend serve: slack: /tend %s: %s", text, err);
        return slack_msg_ephemeral("tend could not read its accounts: try again in a minute.");
    }
    struct view_params q = {.keys = {"q", "per_page"}, .values = {text, "500"}, .n = 2};
    cJSON *list = NULL;
    if ((e = view_accounts(s, k->o.env, &q, &list, err))) {
        log_printf("tend serve: slack: /tend %s: %s", text, err);
        return slack_msg_ephemeral("tend could not read its accounts: try again in a minute.");
    }
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(list, "accounts");
    cJSON *m = prefix_matches(rows, text);
    int n = cJSON_GetArraySize(m);
    char *out = NULL;
    if (n == 1) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(m, 0), "id");
        if (cJSON_IsString(id) && !view_account(s, k->o.env, id->valuestring, &p, &one, err)) {
            out = slack_msg_account(one, k->o.base_url);
            cJSON_Delete(one);
        }
    } else if (n > 1) {
        out = slack_msg_matches(text, m, n);
    } else if (cJSON_GetArraySize(rows) > 0) {
        /* None starts with it, some contain it: those are the suggestions. */
        const cJSON *total = cJSON_GetObjectItemCaseSensitive(list, "total");
        out = slack_msg_matches(text, rows,
                                cJSON_IsNumber(total) ? total->valueint : cJSON_GetArraySize(rows));
    }
    if (!out) {
        char line[400];
        snprintf(line, sizeof line,
                 "No account's id or name starts with \"%.200s\". Try its id or the start of its "
                 "name, e.g. `/tend acme`.",
                 text);
        out = slack_msg_ephemeral(line);
    }
    cJSON_Delete(m);
    cJSON_Delete(list);
    return out;
}

static void do_command(struct slack *k, struct store *s, struct slack_command *cm) {
    bool asked;
    const struct serve_user *u = tend_user(k, cm->user_id, &asked);
    if (!u || u->disabled) {
        log_printf("tend serve: slack: %s (%s) refused: /tend", cm->user_id,
                   u ? u->email : "no tend user");
        respond(cm->response_url, slack_msg_ephemeral(refusal(u, asked)));
        return;
    }
    respond(cm->response_url, command_answer(k, s, cm->text));
}

static void job_free(struct job *j) {
    slack_click_release(&j->click);
    slack_command_release(&j->command);
    free(j);
}

static void *worker(void *arg) {
    struct slack *k = arg;
    struct store *s = NULL;
    for (;;) {
        pthread_mutex_lock(&k->lock);
        while (!k->head && !k->stopping)
            pthread_cond_wait(&k->wake, &k->lock);
        struct job *j = k->stopping ? NULL : k->head;
        if (j) {
            k->head = j->next;
            if (!k->head)
                k->tail = NULL;
            k->queued--;
        }
        pthread_mutex_unlock(&k->lock);
        if (!j)
            break; /* stopping, and nothing left */
        char err[STORE_ERR_BYTES];
        if (!s && store_open(k->o.db, &s, err)) {
            log_printf("tend serve: slack: %s", err);
            s = NULL;
            const char *url =
                j->kind == JOB_CLICK ? j->click.response_url : j->command.response_url;
            respond(url, slack_msg_ephemeral("tend could not open its database: try again."));
        } else if (j->kind == JOB_CLICK) {
            do_click(k, s, &j->click);
        } else {
            do_command(k, s, &j->command);
        }
        job_free(j);
    }
    if (s)
        store_close(s);
    return NULL;
}

struct slack *slack_new(const struct slack_options *o) {
    struct slack *k = xcalloc(1, sizeof *k);
    k->o = *o;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->wake, NULL);
    k->cache = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
    k->seen = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
    for (int i = 0; i < SLACK_WORKERS; i++)
        if (pthread_create(&k->workers[i], NULL, worker, k))
            abort(); /* a service that cannot start a thread is out of resources */
    return k;
}

void slack_free(struct slack *k) {
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    k->stopping = true;
    pthread_cond_broadcast(&k->wake);
    pthread_mutex_unlock(&k->lock);
    for (int i = 0; i < SLACK_WORKERS; i++)
        pthread_join(k->workers[i], NULL);
    /* What was queued and not begun is dropped (a stop must not wait for
     * hundreds of posts): nothing of it was applied, and the user may click
     * again once tend is back. */
    int dropped = 0;
    while (k->head) {
        struct job *j = k->head;
        k->head = j->next;
        job_free(j);
        dropped++;
    }
    if (dropped)
        log_printf("tend serve: slack: stopping: %d queued requests dropped (nothing of them "
                   "was applied)",
                   dropped);
    g_hash_table_destroy(k->cache);
    g_hash_table_destroy(k->seen);
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->wake);
    free(k);
}

/* ---- HTTP in ------------------------------------------------------------------- */

/* Answers status with a JSON body (copied). */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *json) {
    char *body = xstrdup(json);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return http_reply(c, status, r);
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    enum MHD_Result r = reply(c, status, text);
    cJSON_free(text);
    return r;
}

static gboolean expired(gpointer key, gpointer value, gpointer now) {
    (void)key;
    return *(int64_t *)value <= *(int64_t *)now;
}

enum queued { QUEUED, FULL, REPLAYED };

/* Queues j (taken, freed unless QUEUED) under its signature sig: REPLAYED
 * when a request with the same signature was queued within the last
 * SLACK_REPLAY_MS (a signature covers the timestamp and the body: the same
 * bytes sent again), FULL when the queue or the memory of signatures
 * (SLACK_REPLAY_MAX, expired ones forgotten first) is full. */
static enum queued enqueue(struct slack *k, struct job *j, const char *sig) {
    int64_t now = dt_now_ms();
    pthread_mutex_lock(&k->lock);
    int64_t *until = g_hash_table_lookup(k->seen, sig);
    enum queued q = until && *until > now ? REPLAYED : QUEUED;
    if (q == QUEUED && !until && g_hash_table_size(k->seen) >= SLACK_REPLAY_MAX)
        g_hash_table_foreach_remove(k->seen, expired, &now);
    if (q == QUEUED && (k->queued >= SLACK_QUEUE_MAX || k->stopping ||
                        (!until && g_hash_table_size(k->seen) >= SLACK_REPLAY_MAX)))
        q = FULL;
    bool room = q == QUEUED;
    if (room) {
        int64_t *v = xmalloc(sizeof *v);
        *v = now + SLACK_REPLAY_MS;
        g_hash_table_replace(k->seen, xstrdup(sig), v);
        if (k->tail)
            k->tail->next = j;
        else
            k->head = j;
        k->tail = j;
        k->queued++;
        pthread_cond_signal(&k->wake);
    }
    pthread_mutex_unlock(&k->lock);
    if (!room)
        job_free(j);
    return q;
}

/* Logs a request refused for its signature, at most SLACK_REFUSALS_LOGGED
 * a minute (anyone can send them: a flood must not fill the disk), then how
 * many more there were. */
static void log_refusal(struct slack *k, const char *url, const char *msg) {
    int64_t now = dt_now_ms();
    int hidden = 0;
    pthread_mutex_lock(&k->lock);
    if (now - k->refusals_since_ms >= 60000) {
        hidden = k->refusals_hidden;
        k->refusals_since_ms = now;
        k->refusals_shown = k->refusals_hidden = 0;
    }
    bool show = k->refusals_shown < SLACK_REFUSALS_LOGGED;
    if (show)
        k->refusals_shown++;
    else
        k->refusals_hidden++;
    pthread_mutex_unlock(&k->lock);
    if (hidden)
        log_printf("tend serve: slack: %d more requests refused for their signature in the last "
                   "minute (not logged one by one)",
                   hidden);
    if (show)
        log_printf("tend serve: slack: %s refused: %s", url, msg);
}

/* Checks c's X-Slack-Signature over body[0..len) with the signing secrets. */
static enum verify_result verify(const struct slack *k, struct MHD_Connection *c, const char *body,
                                 size_t len, char *msg, size_t size) {
    const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Slack-Signature");
    const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Slack-Request-Timestamp");
    struct verify_header hs[2];
    size_t n = 0;
    if (sig)
        hs[n++] = (struct verify_header){"X-Slack-Signature", sig};
    if (ts)
        hs[n++] = (struct verify_header){"X-Slack-Request-Timestamp", ts};
    struct verify_request vr = {
        .body = (const unsigned char *)body, .body_len = len, .headers = hs, .n_headers = n};
    const char *secrets[SLACK_MAX_SECRETS];
    for (size_t i = 0; i < k->o.cfg->n_secrets; i++)
        secrets[i] = k->o.cfg->secrets[i];
    return verify_check(VERIFY_SLACK, &vr, secrets, k->o.cfg->n_secrets, dt_now_ms(), 0, NULL, msg,
                        size);
}

enum tend_err slack_precheck(struct slack *k, struct MHD_Connection *c, const char *url,
                             const char *method, char *msg, size_t size) {
    if (!k || strcmp(method, "POST") != 0 ||
        (strcmp(url, "/slack/actions") != 0 && strcmp(url, "/slack/commands") != 0))
        return TEND_OK; /* slack_http answers those (404, 405) */
    /* With an empty body the MAC cannot match; a missing, malformed or stale
     * header is final already: refused before a byte of the body is read. */
    enum verify_result r = verify(k, c, NULL, 0, msg, size);
    if (r == VERIFY_MISSING_HEADER || r == VERIFY_MALFORMED_HEADER || r == VERIFY_STALE_TIMESTAMP) {
        log_refusal(k, url, msg);
        return TEND_ERR_AUTH;
    }
    return TEND_OK;
}

enum MHD_Result slack_http(struct slack *k, struct MHD_Connection *c, const char *url,
                           const char *method, const char *body, size_t len) {
    bool actions = strcmp(url, "/slack/actions") == 0;
    bool commands = strcmp(url, "/slack/commands") == 0;
    if (!k)
        return reply_error(c, MHD_HTTP_NOT_FOUND,
                           "Slack is not set up here (tend.yaml's slack section)");
    if (!actions && !commands)
        return reply_error(c, MHD_HTTP_NOT_FOUND,
                           "no such Slack endpoint (/slack/actions, "
                           "/slack/commands)");
    if (strcmp(method, "POST") != 0)
        return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");

    char msg[VERIFY_MSG_BYTES];
    if (verify(k, c, body, len, msg, sizeof msg) != VERIFY_OK) {
        log_refusal(k, url, msg);
        return reply_error(c, MHD_HTTP_UNAUTHORIZED, msg);
    }

    struct job *j = xcalloc(1, sizeof *j);
    char err[SLACK_MSG_ERR_BYTES];
    enum tend_err e;
    if (actions) {
        j->kind = JOB_CLICK;
        char *payload = slack_form_field(body, len, "payload");
        e = slack_click_parse(payload, k->o.cfg->response_url_base, &j->click, err);
        free(payload);
    } else {
        j->kind = JOB_COMMAND;
        e = slack_command_parse(body, len, k->o.cfg->response_url_base, &j->command, err);
    }
    if (e) {
        job_free(j);
        log_printf("tend serve: slack: %s refused: %s", url, err);
        return reply_error(c, MHD_HTTP_BAD_REQUEST, err);
    }
    /* Keyed in lower case: the hex is compared as bytes, "AB" as "ab", so
     * a replay with its digits' case changed is the same request. */
    char *sig =
        g_ascii_strdown(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Slack-Signature"), -1);
    enum queued q = enqueue(k, j, sig);
    g_free(sig);
    if (q == FULL) {
        log_printf("tend serve: slack: %s refused: %d requests queued already", url,
                   SLACK_QUEUE_MAX);
        return reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "tend is busy: try again");
    }
    if (q == REPLAYED) /* acknowledged as the first was, done once */
        log_printf("tend serve: slack: %s: the same signed request again (a replay): ignored", url);
    /* An empty 200: Slack's acknowledgement (a body would be shown as a message). */
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return http_reply(c, MHD_HTTP_OK, r);
}
