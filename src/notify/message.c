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
 * from the same few functions (put_headline, put_summary, put_facts,
 * put_evidence, put_item) and cannot say different things.
 *
 * Limits are kept while writing, not by cutting afterwards: every piece of user
 * text has a cap counted in output characters after escaping (a title 200, an
 * account name 150, a reason 800), so a cut never splits a UTF-8 character,
 * an entity or a link and always ends in "…". The pieces of one Slack block
 * add up to less than its limit; when a list (evidence) still passes it, the
 * block is cut at a line break (cap_lines). Digests show at most what fits in
 * 50 blocks and then "…and K more". A digest for people (email, Slack, the
 * log's text) lists its items most urgent first, priority then value (as
 * the cockpit does), what the budget held back last; a webhook's keeps the
 * order they happened in. */
#include "notify/message.h"

#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/datetime.h"
#include "util/mem.h"

#define ELLIPSIS   "\xe2\x80\xa6"   /* … */
#define DASH       " \xe2\x80\x94 " /* — between a title and an account */
#define DOT        " \xc2\xb7 "     /* · */
#define BROKEN_BAR "\xc2\xa6"       /* ¦ stands for | in a Slack link label */

/* Slack Block Kit limits, in characters (code points). */
#define SLACK_MAX_BLOCKS 50
#define SLACK_MAX_TEXT   3000 /* a section's or a context's mrkdwn, and the fallback */
#define SLACK_MAX_HEADER 150
#define SLACK_MAX_FIELD  2000 /* fields: at most 10 a section; we write at most FACT_COUNT */
#define SLACK_MAX_BUTTON 75

/* Caps on pieces of user text, in output characters after escaping. */
#define CAP_TITLE  200
#define CAP_NAME   150 /* an account name or id */
#define CAP_REASON 800 /* a reason or a resolve note */
#define CAP_BRIEF  300 /* a reason in a digest item */
#define CAP_WORD   24  /* a priority, a band */
#define CAP_SHORT  80  /* a rule, an owner, a date, a plan, an evidence name, the key */
#define CAP_VALUE  200 /* an evidence value */

#define MAX_EVIDENCE      50   /* evidence lines in one message */
#define MAX_URL_BYTES     1000 /* a longer link is left out rather than cut wrong */
#define EMAIL_MAX_SUBJECT 200  /* characters, before RFC 2047 encoding */
#define EMAIL_MAX_ADDRESS 300
#define EMAIL_MAX_ITEMS   1000 /* the sanity cap of an email or log digest */
#define EMAIL_LINE        76   /* base64 lines, and lines holding encoded words */
#define MESSAGE_ID_BYTES  200  /* a longer key is hashed */
/* Base64 text is [A-Za-z0-9+/] with '=' only at its end, so "=_" never occurs in a part. */
#define EMAIL_BOUNDARY "=_tend_alt"

/* ---- Reading a snapshot ---- */

enum event { EV_OTHER, EV_OPEN, EV_RAISE, EV_RESOLVE, EV_WAKE, EV_HELD, EV_EXPIRE };

/* A snapshot's members, each NULL (or has_* false) when missing or of the wrong
 * type. Strings are borrowed from the snapshot; the URLs are owned. */
struct view {
    const cJSON *cta, *account, *health, *evidence; /* objects */
    enum event event;
    const char *event_name, *rule, *priority, *previous, *title, *reason, *owner, *opened, *due,
        *note, *value_text;
    const char *account_id, *account_name, *segment, *plan, *renewal, *band;
    bool has_id, has_mrr, has_score, has_7d, has_30d;
    int64_t id;
    double mrr, score, change_7d, change_30d;
    char *cta_url, *account_url; /* malloced; NULL without a usable base_url */
};

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

static void view_init(struct view *v, const cJSON *snap, const struct message_ctx *ctx) {
    static const char *const events[] = {"", "open", "raise", "resolve", "wake", "held", "expire"};
    memset(v, 0, sizeof *v);
    if (!cJSON_IsObject(snap))
        snap = NULL;
    v->event_name = str_member(snap, "event");
    for (int e = EV_OPEN; v->event_name && e <= EV_EXPIRE; e++)
        if (strcmp(v->event_name, events[e]) == 0)
            v->event = (enum event)e;

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
    if (v->account_id)
        v->account_url = make_url(base, "/accounts/", v->account_id);
}

static void view_free(struct view *v) {
    free(v->cta_url);
    free(v->account_url);
}

/* A NULL ctx reads as one with every member NULL. */
static const struct message_ctx *ctx_or_none(const struct message_ctx *ctx) {
    static const struct message_ctx none;
    return ctx ? ctx : &none;
}

static const char *account_label(const struct view *v) {
    return v->account_name ? v->account_name : v->account_id;
}

/* A digest's snapshots are the objects of its array, anything else skipped:
 * item_at(s) is the first at or after s. */
static const cJSON *item_at(const cJSON *s) {
    while (s && !cJSON_IsObject(s))
        s = s->next;
    return s;
}
#define FOR_EACH_ITEM(s, snaps)                                                                    \
    for (const cJSON *s = item_at(cJSON_IsArray(snaps) ? (snaps)->child : NULL); s;                \
         s = item_at(s->next))

static int digest_count(const cJSON *snaps) {
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
static const cJSON **digest_order(const cJSON *snaps, int *n) {
    static const char *const prios[] = {"high", "medium", "low"};
    *n = digest_count(snaps);
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

/* ---- Writing text for a medium ---- */

/* ESC_LABEL is mrkdwn inside a link's label, where '|' would end the URL. */
enum esc { ESC_PLAIN, ESC_MRKDWN, ESC_LABEL, ESC_HTML };

struct out {
    struct buf b;
    enum esc esc;
    const char *nl; /* a line break: "\n", "\r\n" or "<br>\r\n" */
};

static void out_init(struct out *o, enum esc esc, const char *nl) {
    buf_init(&o->b, 0); /* bounded by the caps of what is written */
    o->esc = esc;
    o->nl = nl;
}

/* The byte length of the UTF-8 character at p (1 for a stray byte); never
 * passes a NUL. */
static size_t utf8_len(const char *p) {
    unsigned char c = (unsigned char)*p;
    size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 1;
    for (size_t i = 1; i < n; i++)
        if (((unsigned char)p[i] & 0xc0) != 0x80)
            return i;
    return n;
}

static size_t utf8_count(const char *s, size_t n) {
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    return chars;
}

/* What the character at p becomes in mode m, or NULL when it stays as it is.
 * Control characters become spaces everywhere: user text is one line. */
static const char *esc_of(enum esc m, const char *p) {
    unsigned char c = (unsigned char)*p;
    if (c < ' ' || c == 0x7f)
        return " ";
    bool markup = m != ESC_PLAIN;
    switch (c) {
    case '&':
        return markup ? "&amp;" : NULL;
    case '<':
        return markup ? "&lt;" : NULL;
    case '>':
        return markup ? "&gt;" : NULL;
    case '"':
        return m == ESC_HTML ? "&quot;" : NULL;
    case '\'':
        return m == ESC_HTML ? "&#39;" : NULL;
    case '|':
        return m == ESC_LABEL ? BROKEN_BAR : NULL;
    default:
        return NULL;
    }
}

/* Appends s escaped for m, at most max_chars (>= 1) characters of output; when
 * s does not fit, as much as fits whole followed by "…". */
static void put_esc(struct buf *b, enum esc m, const char *s, size_t max_chars) {
    size_t total = 0, used = 0;
    for (const char *p = s; *p && total <= max_chars; p += utf8_len(p)) {
        const char *e = esc_of(m, p);
        total += e ? utf8_count(e, strlen(e)) : 1;
    }
    size_t room = total <= max_chars ? total : max_chars - 1;
    for (const char *p = s; *p; p += utf8_len(p)) {
        const char *e = esc_of(m, p);
        size_t c = e ? utf8_count(e, strlen(e)) : 1;
        if (used + c > room)
            break;
        if (e)
            buf_puts(b, e);
        else
            buf_append(b, p, utf8_len(p));
        used += c;
    }
    if (total > max_chars)
        buf_puts(b, ELLIPSIS);
}

/* Returns a malloced copy of s made one line and cut to max_chars. */
static char *plain_capped(const char *s, size_t max_chars) {
    struct buf b;
    buf_init(&b, 0);
    put_esc(&b, ESC_PLAIN, s, max_chars);
    return buf_steal(&b);
}

/* Cuts b to at most max_chars characters: at the last line break that leaves
 * room for "\n…", so no entity, link or markup is split; mid-line, at a
 * character boundary, only when the first line alone is too long. */
static void cap_lines(struct buf *b, size_t max_chars) {
    if (utf8_count(b->data, b->len) <= max_chars)
        return;
    size_t off = 0;
    for (size_t chars = 0; chars + 2 < max_chars && off < b->len; chars++)
        off += utf8_len(b->data + off);
    size_t cut = off;
    while (cut > 0 && b->data[cut] != '\n')
        cut--;
    b->len = cut > 0 ? cut : off;
    b->data[b->len] = '\0';
    buf_puts(b, cut > 0 ? "\n" ELLIPSIS : ELLIPSIS);
}

/* Drops what was written after the first len bytes. */
static void out_truncate(struct out *o, size_t len) {
    o->b.len = len;
    if (o->b.data)
        o->b.data[len] = '\0';
}

static void put_raw(struct out *o, const char *s) {
    buf_puts(&o->b, s);
}

/* User text, escaped for o's medium and capped. */
static void put_text(struct out *o, const char *s, size_t max_chars) {
    put_esc(&o->b, o->esc, s, max_chars);
}

/* User text with its first letter upper-cased ("high" -> "High"). */
static void put_capitalized(struct out *o, const char *s, size_t max_chars) {
    if (g_ascii_islower(*s)) {
        buf_putc(&o->b, g_ascii_toupper(*s++));
        max_chars--;
    }
    put_text(o, s, max_chars);
}

static void put_bold(struct out *o, bool open) {
    if (o->esc == ESC_HTML)
        put_raw(o, open ? "<b>" : "</b>");
    else if (o->esc != ESC_PLAIN)
        put_raw(o, "*");
}

/* Starts a line (a break unless o is empty), with a bold "label: " if given. */
static void put_line(struct out *o, const char *label) {
    if (o->b.len)
        put_raw(o, o->nl);
    if (label) {
        put_bold(o, true);
        put_raw(o, label);
        put_raw(o, ":");
        put_bold(o, false);
        put_raw(o, " ");
    }
}

/* Starts a line with a bold heading of our own ("Evidence"). */
static void put_heading(struct out *o, const char *text) {
    put_line(o, NULL);
    put_bold(o, true);
    put_raw(o, text);
    put_bold(o, false);
}

/* label (user text) linked to url (from make_url, so safe as it is in every
 * medium); just the label when url is NULL. */
static void put_link(struct out *o, const char *url, const char *label, size_t max_chars) {
    if (!url) {
        put_text(o, label, max_chars);
    } else if (o->esc == ESC_HTML) {
        buf_printf(&o->b, "<a href=\"%s\">", url);
        put_text(o, label, max_chars);
        put_raw(o, "</a>");
    } else if (o->esc == ESC_PLAIN) {
        put_text(o, label, max_chars);
        buf_printf(&o->b, " <%s>", url);
    } else {
        buf_printf(&o->b, "<%s|", url);
        put_esc(&o->b, ESC_LABEL, label, max_chars);
        put_raw(o, ">");
    }
}

/* ---- The content, the same for every medium ---- */

/* "High: Card expires in 7 days — Acme Corp", with what the event changed. */
static void put_headline(struct out *o, const struct view *v, bool links) {
    switch (v->event) {
    case EV_RAISE:
        put_raw(o, "Escalated");
        if (v->priority) {
            put_raw(o, " to ");
            put_capitalized(o, v->priority, CAP_WORD);
        }
        if (v->previous) {
            put_raw(o, " from ");
            put_capitalized(o, v->previous, CAP_WORD);
        }
        put_raw(o, ": ");
        break;
    case EV_RESOLVE:
        put_raw(o, "Resolved by itself: ");
        break;
    case EV_HELD:
        put_raw(o, "Held back by the weekly budget: ");
        break;
    case EV_EXPIRE:
        put_raw(o, "Expired, no one acted on it: ");
        break;
    case EV_WAKE:
        put_raw(o, "Snooze ended");
        if (v->priority) {
            put_raw(o, " (");
            put_capitalized(o, v->priority, CAP_WORD);
            put_raw(o, ")");
        }
        put_raw(o, ": ");
        break;
    case EV_OPEN:
    case EV_OTHER:
        if (v->priority) {
            put_capitalized(o, v->priority, CAP_WORD);
            put_raw(o, ": ");
        }
        break;
    }
    const char *title = v->title ? v->title : v->rule;
    put_link(o, links ? v->cta_url : NULL, title ? title : "CTA", CAP_TITLE);
    if (account_label(v)) {
        put_raw(o, DASH);
        put_link(o, links ? v->account_url : NULL, account_label(v), CAP_NAME);
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
        put_raw(o, fmt_num(v->score, false, num));
        any = true;
    }
    if (v->band) {
        put_raw(o, any ? " (" : "");
        put_text(o, v->band, CAP_WORD);
        put_raw(o, any ? ")" : "");
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
static void put_summary(struct out *o, const struct view *v) {
    if ((v->event == EV_RESOLVE || v->event == EV_EXPIRE) && v->note) {
        put_line(o, v->event == EV_RESOLVE ? "Why it resolved" : "Why it closed");
        put_text(o, v->note, CAP_REASON);
    }
    if (account_label(v)) {
        put_line(o, "Account");
        put_link(o, v->account_url, account_label(v), CAP_NAME);
    }
    if (v->value_text) {
        put_line(o, "Value");
        put_text(o, v->value_text, CAP_SHORT);
    }
    if (has_health(v)) {
        put_line(o, "Health");
        put_health(o, v);
    }
    if (v->reason) {
        put_line(o, v->event == EV_RESOLVE || v->event == EV_EXPIRE ? "Opened because" : "Why");
        put_text(o, v->reason, CAP_REASON);
    }
}

enum fact { FACT_OWNER, FACT_DUE, FACT_OPENED, FACT_PLAN, FACT_SEGMENT, FACT_MRR, FACT_RENEWAL };
#define FACT_COUNT 7
static const char *const fact_labels[FACT_COUNT] = {"Owner",   "Due", "Opened", "Plan",
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
static bool put_fact(struct out *o, const struct view *v, const struct message_ctx *ctx,
                     enum fact f) {
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
        put_text(o, s, CAP_SHORT);
    return s != NULL;
}

/* Each fact present as a "Label: value" line. */
static void put_facts(struct out *o, const struct view *v, const struct message_ctx *ctx) {
    for (int f = 0; f < FACT_COUNT; f++) {
        size_t mark = o->b.len;
        put_line(o, fact_labels[f]);
        if (!put_fact(o, v, ctx, (enum fact)f))
            out_truncate(o, mark); /* no such fact: take the label back */
    }
}

/* An evidence value as text; NULL for an object or array (left out). */
static const char *evidence_value(const cJSON *kv, char num[40]) {
    if (cJSON_IsNumber(kv))
        return isfinite(kv->valuedouble) ? fmt_num(kv->valuedouble, false, num) : NULL;
    if (cJSON_IsString(kv))
        return kv->valuestring;
    if (cJSON_IsBool(kv))
        return cJSON_IsTrue(kv) ? "yes" : "no";
    return cJSON_IsNull(kv) ? "none" : NULL;
}

/* "Evidence:" and a "• name: value" line each, at most MAX_EVIDENCE. */
static void put_evidence(struct out *o, const struct view *v) {
    int n = 0;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, v->evidence) {
        char num[40];
        const char *value = evidence_value(kv, num);
        if (!value || !kv->string || ++n > MAX_EVIDENCE)
            continue;
        if (n == 1)
            put_heading(o, "Evidence");
        put_line(o, NULL);
        put_raw(o, "\xe2\x80\xa2 "); /* • */
        put_text(o, kv->string, CAP_SHORT);
        put_raw(o, ": ");
        put_text(o, value, CAP_VALUE);
    }
    if (n > MAX_EVIDENCE) {
        put_line(o, NULL);
        buf_printf(&o->b, ELLIPSIS "and %d more", n - MAX_EVIDENCE);
    }
}

/* "tend · rule card_expiring · ref KEY" */
static void put_footer(struct out *o, const char *rule, const struct message_ctx *ctx) {
    put_raw(o, "tend");
    if (rule) {
        put_raw(o, DOT "rule ");
        put_text(o, rule, CAP_SHORT);
    }
    if (ctx->key) {
        put_raw(o, DOT "ref ");
        put_text(o, ctx->key, CAP_SHORT);
    }
}

/* The whole of one message as lines: an email part or the log's text. */
static void put_body(struct out *o, const struct view *v, const struct message_ctx *ctx) {
    put_bold(o, true);
    put_headline(o, v, false);
    put_bold(o, false);
    put_raw(o, o->nl);
    put_summary(o, v);
    put_facts(o, v, ctx);
    put_evidence(o, v);
    if (v->cta_url) {
        put_line(o, NULL);
        put_link(o, v->cta_url, "Open the CTA", CAP_SHORT);
    }
    put_raw(o, o->nl);
    put_line(o, NULL);
    put_footer(o, v->rule, ctx);
}

/* One CTA of a digest: the linked headline, health and due date, the reason. */
static void put_item(struct out *o, const struct view *v) {
    put_line(o, NULL);
    put_bold(o, true);
    put_headline(o, v, true);
    put_bold(o, false);
    if (has_health(v)) {
        put_line(o, NULL);
        put_raw(o, "health ");
        put_health(o, v);
    }
    if (v->due) {
        if (has_health(v))
            put_raw(o, DOT);
        else
            put_line(o, NULL);
        put_raw(o, "due ");
        put_text(o, v->due, CAP_SHORT);
    }
    if (v->value_text) {
        if (has_health(v) || v->due)
            put_raw(o, DOT);
        else
            put_line(o, NULL);
        put_text(o, v->value_text, CAP_SHORT);
    }
    if (v->reason) {
        put_line(o, NULL);
        put_text(o, v->reason, CAP_BRIEF);
    }
}

/* "3 CTAs for alice@example.com" */
static void put_digest_title(struct out *o, int n, const char *owner) {
    buf_printf(&o->b, "%d CTA%s", n, n == 1 ? "" : "s");
    if (owner) {
        put_raw(o, " for ");
        put_text(o, owner, CAP_SHORT);
    }
}

/* "…and K more", linked to the owner's list of CTAs. */
static void put_more(struct out *o, int more, const struct message_ctx *ctx) {
    char *url = make_url(ctx->base_url, ctx->owner ? "/ctas?owner=" : "/ctas",
                         ctx->owner ? ctx->owner : "");
    put_line(o, NULL);
    buf_printf(&o->b, ELLIPSIS "and %d more", more);
    if (url) {
        put_raw(o, " ");
        put_link(o, url, "see them all", CAP_SHORT);
    }
    free(url);
}

/* A digest as lines: its title, then each item after a blank line, at most
 * max_items of them. */
static void put_digest(struct out *o, const cJSON *snaps, const struct message_ctx *ctx,
                       int max_items) {
    int n, shown = 0;
    const cJSON **items = digest_order(snaps, &n);
    put_bold(o, true);
    put_digest_title(o, n, ctx->owner);
    put_bold(o, false);
    for (int i = 0; i < n; i++) {
        if (shown == max_items)
            break;
        struct view v;
        view_init(&v, items[i], ctx);
        put_raw(o, o->nl);
        put_item(o, &v);
        view_free(&v);
        shown++;
    }
    if (shown < n) {
        put_raw(o, o->nl);
        put_more(o, n - shown, ctx);
    }
    put_raw(o, o->nl);
    put_line(o, NULL);
    put_footer(o, NULL, ctx);
    free(items);
}

/* ---- Slack ---- */

/* Prints j without whitespace and deletes it; returns a malloced string. */
static char *print_json(cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s)
        abort(); /* out of memory, as xmalloc */
    char *r = xstrdup(s);
    cJSON_free(s);
    return r;
}

/* A text object. mrkdwn is verbatim: Slack then does not turn plain words into
 * links or mentions, so only our own <...> markup is live. */
static cJSON *text_object(const char *type, const char *text) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", type);
    cJSON_AddStringToObject(t, "text", text);
    if (strcmp(type, "mrkdwn") == 0)
        cJSON_AddTrueToObject(t, "verbatim");
    return t;
}

static cJSON *add_block(cJSON *blocks, const char *type) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", type);
    cJSON_AddItemToArray(blocks, b);
    return b;
}

/* Adds a header block of plain text cut to Slack's limit. */
static void add_header(cJSON *blocks, const char *plain) {
    char *t = plain_capped(plain, SLACK_MAX_HEADER);
    cJSON_AddItemToObject(add_block(blocks, "header"), "text", text_object("plain_text", t));
    free(t);
}

/* Adds a section of o's mrkdwn cut to Slack's limit; nothing when o is empty.
 * Empties o for the next block. */
static void add_section(cJSON *blocks, struct out *o) {
    if (o->b.len) {
        cap_lines(&o->b, SLACK_MAX_TEXT);
        cJSON_AddItemToObject(add_block(blocks, "section"), "text",
                              text_object("mrkdwn", buf_str(&o->b)));
    }
    buf_reset(&o->b);
}

static void add_button(cJSON *elements, const char *label, const char *url, const char *id) {
    char *t = plain_capped(label, SLACK_MAX_BUTTON);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "button");
    cJSON_AddItemToObject(b, "text", text_object("plain_text", t));
    cJSON_AddStringToObject(b, "url", url);
    cJSON_AddStringToObject(b, "action_id", id);
    cJSON_AddItemToArray(elements, b);
    free(t);
}

/* Adds the context line "tend · rule X · ref KEY". */
static void add_context(cJSON *blocks, const char *rule, const struct message_ctx *ctx) {
    struct out o;
    out_init(&o, ESC_MRKDWN, "\n");
    put_footer(&o, rule, ctx);
    cJSON *elements = cJSON_AddArrayToObject(add_block(blocks, "context"), "elements");
    cJSON_AddItemToArray(elements, text_object("mrkdwn", buf_str(&o.b)));
    buf_free(&o.b);
}

/* The body {"text": fallback, "blocks": [...]}; takes blocks. The fallback
 * is mrkdwn too (Slack formats it), so it is escaped the same way. */
static char *slack_body(struct out *fallback, cJSON *blocks) {
    cap_lines(&fallback->b, SLACK_MAX_TEXT);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "text", buf_str(&fallback->b));
    cJSON_AddItemToObject(root, "blocks", blocks);
    buf_free(&fallback->b);
    return print_json(root);
}

/* Blocks: header, summary, facts as fields, evidence, buttons, context: at
 * most 6 of the 50, each piece capped. */
char *message_slack(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = ctx_or_none(ctx);
    struct view v;
    view_init(&v, snapshot, ctx);
    cJSON *blocks = cJSON_CreateArray();
    struct out o;

    out_init(&o, ESC_PLAIN, "\n");
    put_headline(&o, &v, false);
    add_header(blocks, buf_str(&o.b));
    buf_free(&o.b);

    out_init(&o, ESC_MRKDWN, "\n");
    put_summary(&o, &v);
    add_section(blocks, &o);

    cJSON *fields = cJSON_CreateArray();
    for (int f = 0; f < FACT_COUNT; f++) {
        put_heading(&o, fact_labels[f]);
        put_raw(&o, "\n");
        if (put_fact(&o, &v, ctx, (enum fact)f)) {
            cap_lines(&o.b, SLACK_MAX_FIELD);
            cJSON_AddItemToArray(fields, text_object("mrkdwn", buf_str(&o.b)));
        }
        buf_reset(&o.b);
    }
    if (cJSON_GetArraySize(fields))
        cJSON_AddItemToObject(add_block(blocks, "section"), "fields", fields);
    else
        cJSON_Delete(fields);

    put_evidence(&o, &v);
    add_section(blocks, &o);
    buf_free(&o.b);

    if (v.cta_url || v.account_url) {
        cJSON *elements = cJSON_AddArrayToObject(add_block(blocks, "actions"), "elements");
        if (v.cta_url)
            add_button(elements, "Open CTA", v.cta_url, "open_cta");
        if (v.account_url)
            add_button(elements, "Open account", v.account_url, "open_account");
    }
    add_context(blocks, v.rule, ctx);

    out_init(&o, ESC_MRKDWN, "\n");
    put_headline(&o, &v, false);
    if (v.reason) {
        put_line(&o, NULL);
        put_text(&o, v.reason, CAP_REASON);
    }
    view_free(&v);
    return slack_body(&o, blocks);
}

/* Blocks: a header, a section per item while they fit, "…and K more", and
 * the context line: never more than 50. */
char *message_slack_digest(const cJSON *snapshots, const struct message_ctx *ctx) {
    ctx = ctx_or_none(ctx);
    int n = digest_count(snapshots);
    int room = SLACK_MAX_BLOCKS - 2; /* header and context */
    int max_items = n <= room ? n : room - 1;
    cJSON *blocks = cJSON_CreateArray();
    struct out o;

    out_init(&o, ESC_PLAIN, "\n");
    put_digest_title(&o, n, ctx->owner);
    add_header(blocks, buf_str(&o.b));
    buf_free(&o.b);

    out_init(&o, ESC_MRKDWN, "\n");
    int shown = 0, n_items;
    const cJSON **items = digest_order(snapshots, &n_items);
    for (int i = 0; i < n_items; i++) {
        if (shown == max_items)
            break;
        struct view v;
        view_init(&v, items[i], ctx);
        put_item(&o, &v);
        add_section(blocks, &o);
        view_free(&v);
        shown++;
    }
    free(items);
    if (shown < n) {
        put_more(&o, n - shown, ctx);
        add_section(blocks, &o);
    }
    buf_free(&o.b);
    add_context(blocks, NULL, ctx);

    out_init(&o, ESC_MRKDWN, "\n");
    put_digest_title(&o, n, ctx->owner);
    return slack_body(&o, blocks);
}

/* ---- Email ---- */

static bool is_ascii(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* Returns s malloced as one header-safe line: control characters made spaces,
 * runs of spaces made one, trimmed, cut to max_chars. */
static char *header_clean(const char *s, size_t max_chars) {
    char *t = plain_capped(s, max_chars);
    size_t n = 0;
    for (const char *p = t; *p; p++)
        if (*p != ' ' || (n > 0 && t[n - 1] != ' '))
            t[n++] = *p;
    while (n > 0 && t[n - 1] == ' ')
        n--;
    t[n] = '\0';
    return t;
}

/* Appends s as RFC 2047 encoded words (=?UTF-8?B?...?=), col being the
 * length of the line so far: each word within 75 characters and its line
 * within EMAIL_LINE, a new folded line per word, no character split. */
static void put_encoded_words(struct buf *b, size_t col, const char *s) {
    size_t len = strlen(s);
    for (size_t i = 0; i < len; col = 1) {
        if (i > 0)
            buf_puts(b, "\r\n ");
        size_t room = (EMAIL_LINE - col - 12) / 4 * 3; /* raw bytes; 12: =?UTF-8?B? ?= */
        size_t n = 0;
        while (i + n < len && n + utf8_len(s + i + n) <= room)
            n += utf8_len(s + i + n);
        gchar *enc = g_base64_encode((const guchar *)s + i, n);
        buf_printf(b, "=?UTF-8?B?%s?=", enc);
        g_free(enc);
        i += n;
    }
}

/* Appends printable ASCII folded before a space where a line would pass 78. */
static void put_folded(struct buf *b, size_t col, const char *s) {
    while (*s) {
        size_t n = strcspn(s + 1, " ") + 1; /* a word, with its leading space */
        if (*s == ' ' && col + n > 78) {
            buf_puts(b, "\r\n");
            col = 0;
        }
        buf_append(b, s, n);
        col += n;
        s += n;
    }
}

/* "Name: value\r\n" for an unstructured header (Subject, X-Tend-Key). */
static void put_header(struct buf *b, const char *name, const char *value) {
    char *t = header_clean(value, EMAIL_MAX_SUBJECT);
    buf_printf(b, "%s: ", name);
    if (is_ascii(t))
        put_folded(b, strlen(name) + 2, t);
    else
        put_encoded_words(b, strlen(name) + 2, t);
    buf_puts(b, "\r\n");
    free(t);
}

/* "From: ..." or "To: ..." with an address from the configuration; a non-ASCII
 * display name ("Zoë <z@example.com>") is encoded. */
static void put_address(struct buf *b, const char *name, const char *addr) {
    char *t = header_clean(addr, EMAIL_MAX_ADDRESS);
    const char *lt = strrchr(t, '<');
    buf_printf(b, "%s: ", name);
    if (is_ascii(t) || !lt || lt == t || !is_ascii(lt)) {
        buf_puts(b, t);
    } else {
        size_t n = (size_t)(lt - t);
        while (n > 0 && t[n - 1] == ' ')
            n--;
        char *display = xstrndup(t, n);
        put_encoded_words(b, strlen(name) + 2, display);
        buf_printf(b, " %s", lt);
        free(display);
    }
    buf_puts(b, "\r\n");
    free(t);
}

/* The domain of the From address ("tend <t@example.com>" -> example.com), or
 * tend.localhost when it has none that is a plain host name. */
static void from_domain(const char *from, char out[256]) {
    const char *at = from ? strrchr(from, '@') : NULL;
    size_t n = at ? strcspn(at + 1, "> \t") : 0;
    bool ok = n > 0 && n < 256 && at[1] != '.';
    for (size_t i = 0; ok && i < n; i++)
        ok = g_ascii_isalnum(at[1 + i]) || at[1 + i] == '.' || at[1 + i] == '-';
    snprintf(out, 256, "%.*s", ok ? (int)n : 14, ok ? at + 1 : "tend.localhost");
}

/* "Message-ID: <KEY@domain>": the key's letters, digits, '-', '_' and inner
 * single dots kept, every other byte written =XX (so two keys never share an
 * id); a key too long for that is replaced by its SHA-256. */
static void put_message_id(struct buf *b, const struct message_ctx *ctx, const char *domain) {
    struct buf id;
    buf_init(&id, MESSAGE_ID_BYTES);
    const char *k = ctx->key;
    enum tend_err err = k ? TEND_OK : buf_printf(&id, "tend.%" PRId64, ctx->now_ms);
    for (size_t i = 0; !err && k && k[i]; i++) {
        unsigned char c = (unsigned char)k[i];
        bool dot = c == '.' && i > 0 && k[i + 1] && k[i - 1] != '.';
        err = g_ascii_isalnum(c) || c == '-' || c == '_' || dot ? buf_putc(&id, (char)c)
                                                                : buf_printf(&id, "=%02X", c);
    }
    if (err) {
        gchar *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, k, -1);
        buf_reset(&id);
        buf_printf(&id, "sha256.%s", sum);
        g_free(sum);
    }
    buf_printf(b, "Message-ID: <%s@%s>\r\n", buf_str(&id), domain);
    buf_free(&id);
}

/* "Date: Thu, 19 Nov 2026 09:00:00 +0000" */
static void put_date(struct buf *b, int64_t ms) {
    static const char *const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int32_t day = dt_day_of_ms(ms);
    int64_t s = (ms - (int64_t)day * DT_MS_PER_DAY) / 1000;
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[((day % 7) + 7) % 7], d,
               months[m - 1], y, (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

/* One MIME part, base64 in lines of EMAIL_LINE. */
static void put_part(struct buf *b, const char *type, const char *body) {
    buf_printf(b,
               "--" EMAIL_BOUNDARY "\r\nContent-Type: %s; charset=utf-8\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n",
               type);
    gchar *enc = g_base64_encode((const guchar *)body, strlen(body));
    for (size_t i = 0, n = strlen(enc); i < n; i += EMAIL_LINE) {
        buf_append(b, enc + i, n - i < EMAIL_LINE ? n - i : EMAIL_LINE);
        buf_puts(b, "\r\n");
    }
    g_free(enc);
}

/* The whole message around a plain subject and the two rendered bodies (text
 * with CRLF, an HTML fragment); frees both bodies' buffers. */
static char *email_build(const struct message_ctx *ctx, const char *subject, struct out *text,
                         struct out *html) {
    char domain[256];
    from_domain(ctx->from, domain);
    struct buf b;
    buf_init(&b, 0);
    if (ctx->from)
        put_address(&b, "From", ctx->from);
    else
        buf_printf(&b, "From: tend <tend@%s>\r\n", domain);
    if (ctx->to)
        put_address(&b, "To", ctx->to);
    else
        buf_puts(&b, "To: undisclosed-recipients:;\r\n");
    put_header(&b, "Subject", subject);
    put_date(&b, ctx->now_ms);
    put_message_id(&b, ctx, domain);
    if (ctx->key)
        put_header(&b, "X-Tend-Key", ctx->key);
    buf_puts(&b, "MIME-Version: 1.0\r\n"
                 "Content-Type: multipart/alternative; boundary=\"" EMAIL_BOUNDARY "\"\r\n"
                 "\r\n");
    put_part(&b, "text/plain", buf_str(&text->b));
    char *page = g_strdup_printf("<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"></head>"
                                 "\r\n<body><p>%s</p></body></html>\r\n",
                                 buf_str(&html->b));
    put_part(&b, "text/html", page);
    g_free(page);
    buf_puts(&b, "--" EMAIL_BOUNDARY "--\r\n");
    buf_free(&text->b);
    buf_free(&html->b);
    return buf_steal(&b);
}

char *message_email(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = ctx_or_none(ctx);
    struct view v;
    view_init(&v, snapshot, ctx);
    struct out subject, text, html;
    out_init(&subject, ESC_PLAIN, " ");
    put_raw(&subject, "[tend] ");
    put_headline(&subject, &v, false);
    out_init(&text, ESC_PLAIN, "\r\n");
    put_body(&text, &v, ctx);
    out_init(&html, ESC_HTML, "<br>\r\n");
    put_body(&html, &v, ctx);
    view_free(&v);
    char *msg = email_build(ctx, buf_str(&subject.b), &text, &html);
    buf_free(&subject.b);
    return msg;
}

char *message_email_digest(const cJSON *snapshots, const struct message_ctx *ctx) {
    ctx = ctx_or_none(ctx);
    struct out subject, text, html;
    out_init(&subject, ESC_PLAIN, " ");
    put_raw(&subject, "[tend] Daily digest: ");
    put_digest_title(&subject, digest_count(snapshots), ctx->owner);
    out_init(&text, ESC_PLAIN, "\r\n");
    put_digest(&text, snapshots, ctx, EMAIL_MAX_ITEMS);
    out_init(&html, ESC_HTML, "<br>\r\n");
    put_digest(&html, snapshots, ctx, EMAIL_MAX_ITEMS);
    char *msg = email_build(ctx, buf_str(&subject.b), &text, &html);
    buf_free(&subject.b);
    return msg;
}

/* ---- Webhook and log ---- */

static void add_string_or_null(cJSON *o, const char *name, const char *s) {
    if (s)
        cJSON_AddStringToObject(o, name, s);
    else
        cJSON_AddNullToObject(o, name);
}

static void add_copy_or_null(cJSON *o, const char *name, const cJSON *member) {
    cJSON_AddItemToObject(o, name, member ? cJSON_Duplicate(member, true) : cJSON_CreateNull());
}

/* Adds "type", "cta", "account", "health" and "links" of one snapshot; an
 * unknown event's type is null. */
static void add_webhook_members(cJSON *o, const struct view *v) {
    static const char *const types[] = {NULL, "cta.opened", "cta.raised", "cta.resolved",
                                        "cta.woken"};
    add_string_or_null(o, "type", types[v->event]);
    add_copy_or_null(o, "cta", v->cta);
    add_copy_or_null(o, "account", v->account);
    add_copy_or_null(o, "health", v->health);
    cJSON *links = cJSON_AddObjectToObject(o, "links");
    add_string_or_null(links, "account", v->account_url);
    add_string_or_null(links, "cta", v->cta_url);
}

char *message_webhook(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = ctx_or_none(ctx);
    struct view v;
    view_init(&v, snapshot, ctx);
    cJSON *root = cJSON_CreateObject();
    add_string_or_null(root, "key", ctx->key);
    add_webhook_members(root, &v);
    view_free(&v);
    return print_json(root);
}

char *message_webhook_digest(const cJSON *snapshots, const struct message_ctx *ctx) {
    ctx = ctx_or_none(ctx);
    cJSON *root = cJSON_CreateObject();
    add_string_or_null(root, "key", ctx->key);
    cJSON_AddStringToObject(root, "type", "digest");
    add_string_or_null(root, "owner", ctx->owner);
    cJSON *items = cJSON_AddArrayToObject(root, "items");
    FOR_EACH_ITEM(s, snapshots) {
        struct view v;
        view_init(&v, s, ctx);
        cJSON *item = cJSON_CreateObject();
        add_webhook_members(item, &v);
        cJSON_AddItemToArray(items, item);
        view_free(&v);
    }
    return print_json(root);
}

/* {"key", "owner", "event", "text", "cta"}; takes text's buffer. */
static char *log_line(const struct message_ctx *ctx, const char *owner, const char *event,
                      struct out *text, const struct view *v) {
    cJSON *root = cJSON_CreateObject();
    add_string_or_null(root, "key", ctx->key);
    add_string_or_null(root, "owner", ctx->owner ? ctx->owner : owner);
    add_string_or_null(root, "event", event);
    cJSON_AddStringToObject(root, "text", buf_str(&text->b));
    if (v && v->has_id)
        cJSON_AddNumberToObject(root, "cta", (double)v->id);
    else
        cJSON_AddNullToObject(root, "cta");
    buf_free(&text->b);
    return print_json(root);
}

char *message_log(const cJSON *snapshot, const struct message_ctx *ctx) {
    ctx = ctx_or_none(ctx);
    struct view v;
    view_init(&v, snapshot, ctx);
    struct out text;
    out_init(&text, ESC_PLAIN, "\n");
    put_body(&text, &v, ctx);
    char *line = log_line(ctx, v.owner, v.event_name, &text, &v);
    view_free(&v);
    return line;
}

char *message_log_digest(const cJSON *snapshots, const struct message_ctx *ctx) {
    ctx = ctx_or_none(ctx);
    struct out text;
    out_init(&text, ESC_PLAIN, "\n");
    put_digest(&text, snapshots, ctx, EMAIL_MAX_ITEMS);
    return log_line(ctx, NULL, "digest", &text, NULL);
}
