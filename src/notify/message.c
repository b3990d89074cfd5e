/* message.c: a CTA snapshot rendered for Slack, email, webhooks and the log
 * (see message.h).
 *
 * What it is not: no sending, no clock, no storage; it never fails on content.
 *
 * The design: a snapshot is read once into a struct view (borrowed strings,
 * the two dashboard URLs built once), and the content is written through a
 * struct out, a buffer that knows its medium: how to escape user text
 * (mrkdwn, HTML, plain), how to break a line, make a label bold and write a
 * link. The Slack sections, both email parts and the log text therefore come
 * from the same few functions (msg_put_headline, msg_put_summary, put_facts,
 * msg_put_evidence, msg_put_item) and cannot say different things.
 *
 * Limits are kept while writing, not by cutting afterwards: every piece of user
 * text has a cap counted in output characters after escaping (a title 200, an
 * account name 150, a reason 800), so a cut never splits a UTF-8 character,
 * an entity or a link and always ends in "…". The pieces of one Slack block
 * add up to less than its limit; when a list (evidence) still passes it, the
 * block is cut at a line break (msg_cap_lines). Digests show at most what fits in
 * 50 blocks and then "…and K more". A digest for people (email, Slack, the
 * log's text) lists its items most urgent first, priority then value (as
 * the cockpit does), what the budget held back last; a webhook's keeps the
 * order they happened in.
 *
 * The files: this one reads a snapshot into a struct view and writes the
 * content every medium shares; message_text.c is struct out (escaping, caps,
 * links); message_slack.c, message_email.c and message_json.c (webhooks and
 * the log) put that content in each medium's envelope. message_int.h is what
 * they share. */
#include "notify/message.h"

#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/labels.h"
#include "core/segments.h"
#include "notify/message_int.h"
#include "util/mem.h"

#define DASH " \xe2\x80\x94 " /* — between a title and an account */
#define DOT  " \xc2\xb7 "     /* · */

#define MAX_EVIDENCE  50   /* evidence lines in one message */
#define MAX_URL_BYTES 1000 /* a longer link is left out rather than cut wrong */

/* ---- Reading a snapshot ---- */

static const cJSON *obj_member(const cJSON *o, const char *name) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsObject(m) ? m : NULL;
}

/* A non-empty string member, or NULL. */
static const char *str_member(const cJSON *o, const char *name) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(m) && m->valuestring && m->valuestring[0] ? m->valuestring : NULL;
}

static bool num_member(const cJSON *o, const char *name, double *out) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble))
        return false;
    *out = m->valuedouble;
    return true;
}

/* The length of base without trailing slashes when it is an http(s) URL made of
 * characters that need no escaping in mrkdwn, an HTML attribute or JSON; 0 (no
 * links) otherwise. */
static size_t base_len(const char *base) {
    if (!base || (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0))
        return 0;
    for (const unsigned char *p = (const unsigned char *)base; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("<>\"'|\\^`{}&", *p))
            return 0;
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    return n;
}

/* Returns a malloced "{base}{path}{arg, percent-encoded}", or NULL when base is
 * not usable or the URL would pass MAX_URL_BYTES (a cut URL would be wrong). */
static char *make_url(const char *base, const char *path, const char *arg) {
    size_t n = base_len(base);
    if (!n)
        return NULL;
    struct buf b;
    buf_init(&b, MAX_URL_BYTES);
    enum tend_err err = buf_append(&b, base, n);
    if (!err)
        err = buf_puts(&b, path);
    for (const unsigned char *p = (const unsigned char *)arg; !err && *p; p++)
        err = g_ascii_isalnum(*p) || strchr("-._~", *p) ? buf_putc(&b, (char)*p)
                                                        : buf_printf(&b, "%%%02X", *p);
    if (err) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

void msg_view_init(struct view *v, const cJSON *snap, const struct message_ctx *ctx) {
    static const char *const events[] = {"",     "open", "raise",  "resolve",
                                         "wake", "held", "expire", "escalate"};
    memset(v, 0, sizeof *v);
    if (!cJSON_IsObject(snap))
        snap = NULL;
    v->event_name = str_member(snap, "event");
    for (int e = EV_OPEN; v->event_name && e <= EV_ESCALATE; e++)
        if (strcmp(v->event_name, events[e]) == 0)
            v->event = (enum event)e;

    const cJSON *esc = obj_member(snap, "escalation");
    if (!num_member(esc, "level", &v->esc_level))
        v->esc_level = 0;
    v->esc_to = str_member(esc, "to");

    const cJSON *c = v->cta = obj_member(snap, "cta");
    v->rule = str_member(c, "rule");
    v->priority = str_member(c, "priority");
    v->previous = str_member(c, "previous_priority");
    v->title = str_member(c, "title");
    v->reason = str_member(c, "reason");
    v->evidence = obj_member(c, "evidence");
    v->owner = str_member(c, "owner");
    v->opened = str_member(c, "opened");
    v->due = str_member(c, "due");
    v->note = str_member(c, "note");
    v->value_text = str_member(c, "value_text");
    v->currency = str_member(c, "currency");
    double id;
    if (num_member(c, "id", &id) && id == floor(id) && fabs(id) < 9e15) {
        v->has_id = true;
        v->id = (int64_t)id;
    }

    const cJSON *a = v->account = obj_member(snap, "account");
    v->account_id = str_member(a, "id");
    v->account_name = str_member(a, "name");
    v->segment = str_member(a, "segment");
    v->plan = str_member(a, "plan");
    v->renewal = str_member(a, "renewal_date");
    v->has_mrr = num_member(a, "mrr", &v->mrr);

    const cJSON *h = v->health = obj_member(snap, "health");
    v->has_score = num_member(h, "score", &v->score);
    v->band = str_member(h, "band");
    v->has_7d = num_member(h, "change_7d", &v->change_7d);
    v->has_30d = num_member(h, "change_30d", &v->change_30d);

    const char *base = ctx->base_url;
    if (v->has_id) {
        char num[24];
        snprintf(num, sizeof num, "%" PRId64, v->id);
        v->cta_url = make_url(base, "/ctas/", num);
    }
    /* A segment's CTA (core/segments.h) links to the segment's page. */
    size_t seg = strlen(SEG_CTA_PREFIX);
    if (v->account_id && strncmp(v->account_id, SEG_CTA_PREFIX, seg) == 0)
        v->account_url = make_url(base, "/segments/", v->account_id + seg);
    else if (v->account_id)
        v->account_url = make_url(base, "/accounts/", v->account_id);
}

void msg_view_free(struct view *v) {
    free(v->cta_url);
    free(v->account_url);
}

/* A NULL ctx reads as one with every member NULL. */
const struct message_ctx *msg_ctx_or_none(const struct message_ctx *ctx) {
    static const struct message_ctx none;
    return ctx ? ctx : &none;
}

static const char *account_label(const struct view *v) {
    return v->account_name ? v->account_name : v->account_id;
}

/* A digest's snapshots are the objects of its array, anything else skipped:
 * msg_item_at(s) is the first at or after s. */
const cJSON *msg_item_at(const cJSON *s) {
    while (s && !cJSON_IsObject(s))
        s = s->next;
    return s;
}

int msg_digest_count(const cJSON *snaps) {
    int n = 0;
    FOR_EACH_ITEM(s, snaps) {
        n++;
    }
    return n;
}

/* A digest item's place: most urgent first, as the cockpit orders CTAs
 * (priority, then value), then what the budget held back, each group in
 * the order it happened. */
struct ranked {
    const cJSON *s;
    int held, priority, i;
    double value;
};

static int by_rank(const void *a, const void *b) {
    const struct ranked *x = a, *y = b;
    if (x->held != y->held)
        return x->held - y->held;
    if (x->priority != y->priority)
        return x->priority - y->priority;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return x->i - y->i;
}

/* The digest's items in the order a person reads them (by_rank); *n gets
 * how many. Returns a malloced array (NULL when none). */
const cJSON **msg_digest_order(const cJSON *snaps, int *n) {
    static const char *const prios[] = {"high", "medium", "low"};
    *n = msg_digest_count(snaps);
    if (*n == 0)
        return NULL;
    struct ranked *r = xcalloc((size_t)*n, sizeof *r);
    int k = 0;
    FOR_EACH_ITEM(s, snaps) {
        const cJSON *c = obj_member(s, "cta");
        const char *ev = str_member(s, "event"), *p = str_member(c, "priority");
        double v = 0;
        r[k] =
            (struct ranked){.s = s, .held = ev && strcmp(ev, "held") == 0, .priority = 3, .i = k};
        for (int j = 0; p && j < 3; j++)
            if (strcmp(p, prios[j]) == 0)
                r[k].priority = j;
        r[k].value = num_member(c, "value", &v) && isfinite(v) ? v : 0;
        k++;
    }
    qsort(r, (size_t)k, sizeof *r, by_rank);
    const cJSON **out = xcalloc((size_t)k, sizeof *out);
    for (int j = 0; j < k; j++)
        out[j] = r[j].s;
    free(r);
    return out;
}

/* Writes x with at most two decimals and no trailing zeros ("42", "-15.2"),
 * signed when sign is set and x is not 0. */
static const char *fmt_num(double x, bool sign, char out[40]) {
    if (fabs(x) >= 1e15) {
        snprintf(out, 40, sign ? "%+.6g" : "%.6g", x);
        return out;
    }
    snprintf(out, 40, sign ? "%+.2f" : "%.2f", x);
    size_t n = strlen(out);
    while (out[n - 1] == '0')
        out[--n] = '\0';
    if (out[n - 1] == '.')
        out[--n] = '\0';
    if (strcmp(out + (out[0] == '+' || out[0] == '-'), "0") == 0)
        strcpy(out, "0");
    return out;
}

/* ---- The content, the same for every medium ---- */

/* "High: Card expires in 7 days — Acme Corp", with what the event changed. */
void msg_put_headline(struct out *o, const struct view *v, bool links) {
    switch (v->event) {
    case EV_RAISE:
        msg_put_raw(o, "Escalated");
        if (v->priority) {
            msg_put_raw(o, " to ");
            msg_put_capitalized(o, v->priority, CAP_WORD);
        }
        if (v->previous) {
            msg_put_raw(o, " from ");
            msg_put_capitalized(o, v->previous, CAP_WORD);
        }
        msg_put_raw(o, ": ");
        break;
    case EV_RESOLVE:
        msg_put_raw(o, "Resolved by itself: ");
        break;
    case EV_HELD:
        msg_put_raw(o, "Held back by the weekly budget: ");
        break;
    case EV_EXPIRE:
        msg_put_raw(o, "Expired, no one acted on it: ");
        break;
    case EV_ESCALATE:
        msg_put_raw(o, v->esc_level == 2   ? "Escalated, overdue"
                       : v->esc_level == 1 ? "Escalated, not acted on"
                                           : "Escalated");
        if (v->priority) {
            msg_put_raw(o, " (");
            msg_put_capitalized(o, v->priority, CAP_WORD);
            msg_put_raw(o, ")");
        }
        msg_put_raw(o, ": ");
        break;
    case EV_WAKE:
        msg_put_raw(o, "Snooze ended");
        if (v->priority) {
            msg_put_raw(o, " (");
            msg_put_capitalized(o, v->priority, CAP_WORD);
            msg_put_raw(o, ")");
        }
        msg_put_raw(o, ": ");
        break;
    case EV_OPEN:
    case EV_OTHER:
        if (v->priority) {
            msg_put_capitalized(o, v->priority, CAP_WORD);
            msg_put_raw(o, ": ");
        }
        break;
    }
    const char *title = v->title ? v->title : v->rule;
    msg_put_link(o, links ? v->cta_url : NULL, title ? title : "CTA", CAP_TITLE);
    if (account_label(v)) {
        msg_put_raw(o, DASH);
        msg_put_link(o, links ? v->account_url : NULL, account_label(v), CAP_NAME);
    }
}

static bool has_health(const struct view *v) {
    return v->has_score || v->band || v->has_7d || v->has_30d;
}

/* "42 (red), -8 in 7 days, -15.2 in 30 days", leaving out what is missing. */
static void put_health(struct out *o, const struct view *v) {
    char num[40];
    bool any = false;
    if (v->has_score) {
        msg_put_raw(o, fmt_num(v->score, false, num));
        any = true;
    }
    if (v->band) {
        msg_put_raw(o, any ? " (" : "");
        msg_put_text(o, v->band, CAP_WORD);
        msg_put_raw(o, any ? ")" : "");
        any = true;
    }
    if (v->has_7d) {
        buf_printf(&o->b, "%s%s in 7 days", any ? ", " : "", fmt_num(v->change_7d, true, num));
        any = true;
    }
    if (v->has_30d)
        buf_printf(&o->b, "%s%s in 30 days", any ? ", " : "", fmt_num(v->change_30d, true, num));
}

/* The resolve note, the account, its health and the reason, a line each. */
void msg_put_summary(struct out *o, const struct view *v) {
    if (v->event == EV_ESCALATE && v->note) {
        msg_put_line(o, "Why it was escalated");
        msg_put_text(o, v->note, CAP_REASON);
    }
    if (v->event == EV_ESCALATE && v->esc_to) {
        msg_put_line(o, "Escalated to");
        msg_put_text(o, v->esc_to, CAP_NAME);
    }
    if ((v->event == EV_RESOLVE || v->event == EV_EXPIRE) && v->note) {
        msg_put_line(o, v->event == EV_RESOLVE ? "Why it resolved" : "Why it closed");
        msg_put_text(o, v->note, CAP_REASON);
    }
    if (account_label(v)) {
        msg_put_line(o, "Account");
        msg_put_link(o, v->account_url, account_label(v), CAP_NAME);
    }
    if (v->value_text) {
        msg_put_line(o, "Value");
        msg_put_text(o, v->value_text, CAP_SHORT);
    }
    if (has_health(v)) {
        msg_put_line(o, "Health");
        put_health(o, v);
    }
    if (v->reason) {
        msg_put_line(o, v->event == EV_RESOLVE || v->event == EV_EXPIRE ? "Opened because" : "Why");
        msg_put_text(o, v->reason, CAP_REASON);
    }
}

const char *const msg_fact_labels[FACT_COUNT] = {"Owner",   "Due", "Opened", "Plan",
                                                 "Segment", "MRR", "Renewal"};

/* A Slack user id we can mention without it becoming other markup. */
static bool slack_id_ok(const char *id) {
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(id[i]))
            return false;
    return true;
}

/* Writes fact f's value; false, writing nothing, when the snapshot lacks it.
 * The owner is the CTA's, else the recipient; Slack mentions the recipient. */
bool msg_put_fact(struct out *o, const struct view *v, const struct message_ctx *ctx, enum fact f) {
    const char *s = NULL;
    char num[40];
    switch (f) {
    case FACT_OWNER:
        if (o->esc == ESC_MRKDWN && slack_id_ok(ctx->owner_slack)) {
            buf_printf(&o->b, "<@%s>", ctx->owner_slack);
            return true;
        }
        s = v->owner ? v->owner : ctx->owner;
        break;
    case FACT_DUE:
        s = v->due;
        break;
    case FACT_OPENED:
        s = v->opened;
        break;
    case FACT_PLAN:
        s = v->plan;
        break;
    case FACT_SEGMENT:
        s = v->segment;
        break;
    case FACT_MRR:
        s = v->has_mrr ? fmt_num(v->mrr, false, num) : NULL;
        break;
    case FACT_RENEWAL:
        s = v->renewal;
        break;
    }
    if (s)
        msg_put_text(o, s, CAP_SHORT);
    return s != NULL;
}

/* Each fact present as a "Label: value" line. */
static void put_facts(struct out *o, const struct view *v, const struct message_ctx *ctx) {
    for (int f = 0; f < FACT_COUNT; f++) {
        size_t mark = o->b.len;
        msg_put_line(o, msg_fact_labels[f]);
        if (!msg_put_fact(o, v, ctx, (enum fact)f))
            msg_out_truncate(o, mark); /* no such fact: take the label back */
    }
}

/* An evidence value as text, in its unit where the table of labels has the
 * name (core/labels.h: "12 days", "$1,200"); NULL for an object or array
 * (left out). */
static const char *evidence_value(const cJSON *kv, const char *currency, char num[64]) {
    if (cJSON_IsNumber(kv) && isfinite(kv->valuedouble) && labels_find(kv->string)) {
        labels_value(kv->string, kv->valuedouble, currency, num, 64);
        return num;
    }
    if (cJSON_IsNumber(kv))
        return isfinite(kv->valuedouble) ? fmt_num(kv->valuedouble, false, num) : NULL;
    if (cJSON_IsString(kv))
        return kv->valuestring;
    if (cJSON_IsBool(kv))
        return cJSON_IsTrue(kv) ? "yes" : "no";
    return cJSON_IsNull(kv) ? "none" : NULL;
}

/* "Evidence:" and a "• name: value" line each, at most MAX_EVIDENCE. */
void msg_put_evidence(struct out *o, const struct view *v) {
    int n = 0;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, v->evidence) {
        char num[64];
        const char *value = evidence_value(kv, v->currency, num);
        if (!value || !kv->string || ++n > MAX_EVIDENCE)
            continue;
        if (n == 1)
            msg_put_heading(o, "Evidence");
        msg_put_line(o, NULL);
        msg_put_raw(o, "\xe2\x80\xa2 "); /* • */
        msg_put_text(o, labels_text(kv->string), CAP_SHORT);
        msg_put_raw(o, ": ");
        msg_put_text(o, value, CAP_VALUE);
    }
    if (n > MAX_EVIDENCE) {
        msg_put_line(o, NULL);
        buf_printf(&o->b, ELLIPSIS "and %d more", n - MAX_EVIDENCE);
    }
}

/* "tend · rule card_expiring · ref KEY" */
void msg_put_footer(struct out *o, const char *rule, const struct message_ctx *ctx) {
    msg_put_raw(o, "tend");
    if (rule) {
        msg_put_raw(o, DOT "rule ");
        msg_put_text(o, rule, CAP_SHORT);
    }
    if (ctx->key) {
        msg_put_raw(o, DOT "ref ");
        msg_put_text(o, ctx->key, CAP_SHORT);
    }
}

/* The whole of one message as lines: an email part or the log's text. */
void msg_put_body(struct out *o, const struct view *v, const struct message_ctx *ctx) {
    msg_put_bold(o, true);
    msg_put_headline(o, v, false);
    msg_put_bold(o, false);
    msg_put_raw(o, o->nl);
    msg_put_summary(o, v);
    put_facts(o, v, ctx);
    msg_put_evidence(o, v);
    if (v->cta_url) {
        msg_put_line(o, NULL);
        msg_put_link(o, v->cta_url, "Open the CTA", CAP_SHORT);
    }
    msg_put_raw(o, o->nl);
    msg_put_line(o, NULL);
    msg_put_footer(o, v->rule, ctx);
}

/* One CTA of a digest: the linked headline, health and due date, the reason. */
void msg_put_item(struct out *o, const struct view *v) {
    msg_put_line(o, NULL);
    msg_put_bold(o, true);
    msg_put_headline(o, v, true);
    msg_put_bold(o, false);
    if (has_health(v)) {
        msg_put_line(o, NULL);
        msg_put_raw(o, "health ");
        put_health(o, v);
    }
    if (v->due) {
        if (has_health(v))
            msg_put_raw(o, DOT);
        else
            msg_put_line(o, NULL);
        msg_put_raw(o, "due ");
        msg_put_text(o, v->due, CAP_SHORT);
    }
    if (v->value_text) {
        if (has_health(v) || v->due)
            msg_put_raw(o, DOT);
        else
            msg_put_line(o, NULL);
        msg_put_text(o, v->value_text, CAP_SHORT);
    }
    if (v->reason) {
        msg_put_line(o, NULL);
        msg_put_text(o, v->reason, CAP_BRIEF);
    }
}

/* "3 CTAs for alice@example.com" */
void msg_put_digest_title(struct out *o, int n, const char *owner) {
    buf_printf(&o->b, "%d CTA%s", n, n == 1 ? "" : "s");
    if (owner) {
        msg_put_raw(o, " for ");
        msg_put_text(o, owner, CAP_SHORT);
    }
}

/* "…and K more", linked to the owner's list of CTAs. */
void msg_put_more(struct out *o, int more, const struct message_ctx *ctx) {
    char *url = make_url(ctx->base_url, ctx->owner ? "/ctas?owner=" : "/ctas",
                         ctx->owner ? ctx->owner : "");
    msg_put_line(o, NULL);
    buf_printf(&o->b, ELLIPSIS "and %d more", more);
    if (url) {
        msg_put_raw(o, " ");
        msg_put_link(o, url, "see them all", CAP_SHORT);
    }
    free(url);
}

/* A digest as lines: its title, then each item after a blank line, at most
 * max_items of them. */
void msg_put_digest(struct out *o, const cJSON *snaps, const struct message_ctx *ctx,
                    int max_items) {
    int n, shown = 0;
    const cJSON **items = msg_digest_order(snaps, &n);
    msg_put_bold(o, true);
    msg_put_digest_title(o, n, ctx->owner);
    msg_put_bold(o, false);
    for (int i = 0; i < n; i++) {
        if (shown == max_items)
            break;
        struct view v;
        msg_view_init(&v, items[i], ctx);
        msg_put_raw(o, o->nl);
        msg_put_item(o, &v);
        msg_view_free(&v);
        shown++;
    }
    if (shown < n) {
        msg_put_raw(o, o->nl);
        msg_put_more(o, n - shown, ctx);
    }
    msg_put_raw(o, o->nl);
    msg_put_line(o, NULL);
    msg_put_footer(o, NULL, ctx);
    free(items);
}
