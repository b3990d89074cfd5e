/* unsubscribe.c: the unsubscribe page (see unsubscribe.h). */
#include "server/unsubscribe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/html.h"
#include "server/ratelimit.h"
#include "util/mem.h"

static const char *const kind_text[CUST_KIND_COUNT] = {"card expiry reminders", "renewal reminders",
                                                       "failed payment notices"};

static void page_start(struct buf *b, const char *title) {
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>");
    html_esc(b, title);
    buf_puts(b, "</title><link rel=\"stylesheet\" href=\"/static/tend.css\"></head><body>"
                "<main><section class=\"card\">");
}

static int on_account(void *arg, const struct store_account_row *r) {
    char **name = arg;
    *name = xstrdup(r->f.name ? r->f.name : r->external_id);
    return 1;
}

bool unsubscribe_parse(const unsigned char *key, const char *token, struct unsub_request *req,
                       struct buf *page, unsigned *status) {
    if (key && unsub_parse(key, token, &req->account_id, &req->kind, req->contact))
        return true;
    *status = 404;
    page_start(page, "Link not valid");
    buf_puts(page, "<h1>This unsubscribe link is not valid</h1><p>It may have been cut "
                   "short by your mail program. Open the link from the message again, "
                   "or reply to the message and ask to be taken off the list.</p>"
                   "</section></main></body></html>\n");
    return false;
}

struct unsub_gate {
    pthread_mutex_t lock;
    struct ratelimit *limit;
};

struct unsub_gate *unsubscribe_gate_new(void) {
    struct unsub_gate *g = xcalloc(1, sizeof *g);
    pthread_mutex_init(&g->lock, NULL);
    g->limit = ratelimit_new(UNSUB_PER_MINUTE, UNSUB_ADDRESSES, UNSUB_ALL_PER_SEC);
    return g;
}

void unsubscribe_gate_free(struct unsub_gate *g) {
    if (!g)
        return;
    ratelimit_free(g->limit);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

bool unsubscribe_gate_take(struct unsub_gate *g, const struct sockaddr *from, int64_t now_ms,
                           int *retry_s) {
    unsigned char key[RATELIMIT_KEY_BYTES];
    ratelimit_key(from, key);
    int64_t retry_ms = 0;
    pthread_mutex_lock(&g->lock);
    bool ok = ratelimit_take(g->limit, key, now_ms, &retry_ms);
    pthread_mutex_unlock(&g->lock);
    *retry_s = ok ? 0 : (int)((retry_ms + 999) / 1000);
    return ok;
}

void unsubscribe_limited(int retry_s, struct buf *page, unsigned *status) {
    *status = 429;
    page_start(page, "Try again");
    buf_printf(page,
               "<h1>Too many requests</h1><p>Too many unsubscribe requests came from your "
               "address. Open the link again in %d seconds.</p></section></main></body></html>\n",
               retry_s);
}

void unsubscribe_answer(struct store *s, const struct unsub_request *req, int64_t now_ms,
                        struct buf *page, unsigned *status) {
    int64_t account_id = req->account_id;
    enum cust_kind kind = req->kind;
    const char *contact = req->contact;
    char *name = NULL;
    enum tend_err err = s ? store_begin(s, NULL) : TEND_ERR_DB;
    if (!err)
        err = store_customer_unsubscribe(s, account_id, cust_kind_name(kind), contact, now_ms);
    if (!err)
        err = store_commit(s);
    else if (s)
        store_rollback(s);
    if (err) {
        *status = 503;
        page_start(page, "Try again");
        buf_puts(page,
                 "<h1>Please try again in a minute</h1><p>We could not record your "
                 "request just now. Nothing was changed.</p></section></main></body></html>\n");
        return;
    }
    enum tend_err ge = store_account_get(s, account_id, on_account, &name);
    (void)ge; /* the name is a courtesy: the unsubscribe is recorded either way */
    *status = 200;
    page_start(page, "Unsubscribed");
    buf_puts(page, "<h1>You are unsubscribed</h1><p id=\"unsubscribed\"><b>");
    html_esc(page, contact);
    buf_puts(page, "</b> will receive no more ");
    buf_puts(page, kind_text[kind]);
    if (name) {
        buf_puts(page, " for <b>");
        html_esc(page, name);
        buf_puts(page, "</b>");
    }
    buf_puts(page, ".</p><p>This took effect at once. Other messages you asked for are not "
                   "affected.</p></section></main></body></html>\n");
    free(name);
}
