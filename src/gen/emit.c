/* emit.c: the generator's output (see gen_int.h). Each day's events, as
 * 40-byte records, are sorted by a 3-pass stable radix sort on the
 * millisecond of the day (ties keep creation order, so a group call always
 * precedes the identify calls and events it makes valid), then formatted by
 * hand into a 1 MiB output buffer: no printf, no JSON library,
 * integer-only number formatting (a two-digit table for integers, cents,
 * dates and timestamps). That is what makes tend generate write several
 * million events a second (docs/generate.md). */
#include "gen/gen_int.h"

static const char hex_digits[] = "0123456789abcdef";
static const char two_digits[] = "00010203040506070809101112131415161718192021222324252627282930"
                                 "31323334353637383940414243444546474849505152535455565758596061"
                                 "62636465666768697071727374757677787980818283848586878889909192"
                                 "93949596979899";

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

static char *put_str(char *p, struct str s) {
    memcpy(p, s.s, s.n);
    return p + s.n;
}

static char *put_cstr(char *p, const char *s) {
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* Lower case, spaces as dashes: "Blue Yonder" -> "blue-yonder". */
static char *put_slug(char *p, const char *s) {
    for (; *s; s++)
        *p++ = *s == ' ' ? '-' : (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
    return p;
}

static char *put_u64(char *p, uint64_t v) {
    char tmp[20];
    int n = 0;
    while (v >= 100) {
        memcpy(tmp + 18 - n, two_digits + (v % 100) * 2, 2);
        v /= 100;
        n += 2;
    }
    if (v >= 10) {
        memcpy(tmp + 18 - n, two_digits + v * 2, 2);
        n += 2;
    } else {
        tmp[19 - n] = (char)('0' + v);
        n++;
    }
    memcpy(p, tmp + 20 - n, (size_t)n);
    return p + n;
}

/* Cents as a decimal number with two digits: 245000 -> 2450.00. */
static char *put_cents(char *p, int64_t cents) {
    p = put_u64(p, (uint64_t)(cents / 100));
    *p++ = '.';
    memcpy(p, two_digits + (cents % 100) * 2, 2);
    return p + 2;
}

static char *put_date(char *p, int32_t day) {
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    memcpy(p, two_digits + (y / 100) * 2, 2);
    memcpy(p + 2, two_digits + (y % 100) * 2, 2);
    p[4] = '-';
    memcpy(p + 5, two_digits + m * 2, 2);
    p[7] = '-';
    memcpy(p + 8, two_digits + d * 2, 2);
    return p + 10;
}

/* Today's instant ts as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static char *put_ts(struct gen *g, char *p, int64_t ts) {
    int64_t ms = ts - g->day_ms;
    memcpy(p, g->ts_prefix, 11);
    p += 11;
    int64_t s = ms / 1000;
    memcpy(p, two_digits + (s / 3600) * 2, 2);
    p[2] = ':';
    memcpy(p + 3, two_digits + (s / 60 % 60) * 2, 2);
    p[5] = ':';
    memcpy(p + 6, two_digits + (s % 60) * 2, 2);
    p[8] = '.';
    int64_t f = ms % 1000;
    p[9] = (char)('0' + f / 100);
    memcpy(p + 10, two_digits + (f % 100) * 2, 2);
    p[12] = 'Z';
    return p + 13;
}

static char *put_hex(char *p, uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; i--) {
        p[i] = hex_digits[v & 15];
        v >>= 4;
    }
    return p + digits;
}

/* A UUID-shaped messageId; the first 16 hex digits are a bijection of the
 * output sequence number, so no two messages of a run share one. */
static char *put_message_id(struct gen *g, char *p) {
    uint64_t hi = mix64(g->seq++ ^ g->id_salt);
    uint64_t lo = mix64(hi + g->id_salt);
    p = put_hex(p, hi >> 32, 8);
    *p++ = '-';
    p = put_hex(p, (hi >> 16) & 0xffff, 4);
    *p++ = '-';
    p = put_hex(p, hi & 0xffff, 4);
    *p++ = '-';
    p = put_hex(p, lo >> 48, 4);
    *p++ = '-';
    return put_hex(p, lo & 0xffffffffffffULL, 12);
}

static char *put_uid(char *p, uint32_t ui) {
    PUT(p, "usr_");
    return put_u64(p, (uint64_t)ui + 1);
}

static char *put_account_id(char *p, const struct account *a) {
    memcpy(p, a->id, a->id_len);
    return p + a->id_len;
}

static char *put_company(char *p, const struct account *a) {
    p = put_cstr(p, company_a[a->name_a]);
    *p++ = ' ';
    p = put_cstr(p, company_b[a->name_b]);
    if (a->name_n) {
        *p++ = ' ';
        p = put_u64(p, (uint64_t)a->name_n + 1);
    }
    return p;
}

static char *put_domain(char *p, const struct account *a) {
    p = put_slug(p, company_a[a->name_a]);
    *p++ = '-';
    p = put_slug(p, company_b[a->name_b]);
    if (a->name_n)
        p = put_u64(p, (uint64_t)a->name_n + 1);
    PUT(p, ".example");
    return p;
}

/* Opens "properties" with the account_id of a property-routed event; *comma
 * tells whether the next property needs one. */
static char *props_open(char *p, const struct account *a, enum route route, bool *comma) {
    PUT(p, ",\"properties\":{");
    *comma = false;
    if (route == ROUTE_PROPERTY) {
        PUT(p, "\"account_id\":\"");
        p = put_account_id(p, a);
        *p++ = '"';
        *comma = true;
    }
    return p;
}

/* Writes ,"key": (or "key": for the first property). */
static char *put_key(char *p, bool *comma, struct str key) {
    if (*comma)
        *p++ = ',';
    *comma = true;
    *p++ = '"';
    p = put_str(p, key);
    *p++ = '"';
    *p++ = ':';
    return p;
}

static char *put_str_value(char *p, struct str v) {
    *p++ = '"';
    p = put_str(p, v);
    *p++ = '"';
    return p;
}

/* Context, timestamp, messageId and the end of the line. */
static char *put_tail(struct gen *g, char *p, const struct ev *e, const struct account *a,
                      enum route route) {
    if (route == ROUTE_GROUP) {
        PUT(p, ",\"context\":{\"groupId\":\"");
        p = put_account_id(p, a);
        PUT(p, "\"}");
    }
    PUT(p, ",\"timestamp\":\"");
    p = put_ts(g, p, e->ts_ms);
    PUT(p, "\",\"messageId\":\"");
    p = put_message_id(g, p);
    PUT(p, "\"}\n");
    return p;
}

static char *format_identify(char *p, const struct ev *e, const struct account *a,
                             const struct user *u) {
    /* (17k mod 40, 7k mod 50) differ for k < lcm(40, 50) = 200: unique names
     * in an account; past 200 users a number keeps emails apart. */
    uint32_t k = u->ordinal;
    const char *first = first_names[(k * 17 + a->name_a) % N_FIRST];
    const char *last = last_names[(k * 7 + a->name_b * 3) % N_LAST];
    PUT(p, "{\"type\":\"identify\",\"userId\":\"");
    p = put_uid(p, e->user);
    PUT(p, "\",\"traits\":{\"email\":\"");
    p = put_slug(p, first);
    *p++ = '.';
    p = put_slug(p, last);
    if (k >= NAME_CYCLE)
        p = put_u64(p, k / NAME_CYCLE + 1);
    *p++ = '@';
    p = put_domain(p, a);
    PUT(p, "\",\"name\":\"");
    p = put_cstr(p, first);
    *p++ = ' ';
    p = put_cstr(p, last);
    PUT(p, "\",\"title\":\"");
    p = put_cstr(p, titles[k == 0 ? a->name_b % 4 : (k * 5 + a->name_b) % N_TITLES]);
    PUT(p, "\",");
    if (e->b == 0) {
        PUT(p, "\"company_id\":\"");
        p = put_account_id(p, a);
        *p++ = '"';
    } else if (e->b == 1) {
        PUT(p, "\"company\":{\"id\":\"");
        p = put_account_id(p, a);
        PUT(p, "\",\"name\":\"");
        p = put_company(p, a);
        PUT(p, "\"}");
    } else {
        PUT(p, "\"accountExternalId\":\"");
        p = put_account_id(p, a);
        *p++ = '"';
    }
    *p++ = '}';
    return p;
}

static char *format_group(char *p, const struct ev *e, const struct account *a) {
    PUT(p, "{\"type\":\"group\",\"userId\":\"");
    p = put_uid(p, e->user);
    PUT(p, "\",\"groupId\":\"");
    p = put_account_id(p, a);
    PUT(p, "\",\"traits\":{");
    if (e->a == GROUP_FULL) {
        const struct plan_def *pd = &plans[a->plan];
        PUT(p, "\"name\":\"");
        p = put_company(p, a);
        PUT(p, "\",\"plan\":\"");
        p = put_str(p, pd->name);
        PUT(p, "\",\"mrr\":");
        p = put_cents(p, e->num);
        PUT(p, ",\"seats\":");
        p = put_u64(p, e->n2);
        PUT(p, ",\"renewal_date\":\"");
        p = put_date(p, e->day);
        PUT(p, "\",\"csm_email\":\"");
        p = put_str(p, csms[a->csm].email);
        PUT(p, "\",\"csm_slack\":\"");
        p = put_str(p, csms[a->csm].slack);
        PUT(p, "\",\"segment\":\"");
        p = put_str(p, pd->segment);
        PUT(p, "\",\"premium_products\":[");
        bool first = true;
        for (int i = 0; i < N_PRODUCTS; i++) {
            if (!(a->products & (1u << i)))
                continue;
            if (!first)
                *p++ = ',';
            first = false;
            p = put_str_value(p, products[i]);
        }
        PUT(p, "],\"created_at\":\"");
        p = put_date(p, a->created_day);
        PUT(p, "\",\"industry\":\"");
        p = put_cstr(p, company_b[a->name_b]);
        PUT(p, "\",\"region\":\"");
        p = put_str(p, tzs[a->tz].region);
        *p++ = '"';
    } else {
        if (e->a == GROUP_RENEWAL) {
            PUT(p, "\"renewal_date\":\"");
            p = put_date(p, e->day);
            PUT(p, "\",");
        }
        PUT(p, "\"mrr\":");
        p = put_cents(p, e->num);
        PUT(p, ",\"seats\":");
        p = put_u64(p, e->n2);
    }
    *p++ = '}';
    return p;
}

static char *format_track(char *p, const struct ev *e, const struct account *a, enum route route) {
    static const struct str names[] = {
        [GK_LOGIN] = S("Signed In"),
        [GK_NPS] = S("NPS Survey Responded"),
        [GK_TICKET_OPENED] = S("Ticket Opened"),
        [GK_TICKET_CLOSED] = S("Ticket Closed"),
        [GK_INVOICE_ISSUED] = S("Invoice Issued"),
        [GK_INVOICE_PAID] = S("Invoice Paid"),
        [GK_PAYMENT_FAILED] = S("Payment Failed"),
        [GK_CARD_UPDATED] = S("Payment Method Updated"),
        [GK_OUTREACH_SENT] = S("Outreach Sent"),
        [GK_OUTREACH_REPLIED] = S("Outreach Replied"),
        [GK_GOAL_SET] = S("Goal Set"),
        [GK_MILESTONE_DUE] = S("Onboarding Milestone Due"),
        [GK_MILESTONE_DONE] = S("Onboarding Milestone Completed"),
        [GK_RENEWED] = S("Account Renewed"),
        [GK_CHURNED] = S("Account Churned"),
        [GK_USER_REMOVED] = S("Account Removed User"),
        [GK_SUB_CHANGED] = S("Subscription Changed"),
    };
    struct str name = e->kind == GK_FEATURE ? features[e->a].name : names[e->kind];
    PUT(p, "{\"type\":\"track\",\"event\":\"");
    p = put_str(p, name);
    PUT(p, "\",\"userId\":\"");
    p = put_uid(p, e->user);
    *p++ = '"';
    bool comma;
    bool has_props = route == ROUTE_PROPERTY;
    switch (e->kind) {
    case GK_LOGIN:
    case GK_USER_REMOVED:
        break;
    case GK_FEATURE:
        has_props = has_props || features[e->a].product;
        break;
    default:
        has_props = true;
    }
    if (!has_props)
        return p;
    p = props_open(p, a, route, &comma);
    switch (e->kind) {
    case GK_FEATURE:
        if (features[e->a].product) {
            p = put_key(p, &comma, (struct str)S("product"));
            p = put_str_value(p, products[features[e->a].product - 1]);
        }
        break;
    case GK_NPS:
        p = put_key(p, &comma, (struct str)S("score"));
        p = put_u64(p, e->a);
        if (e->b) {
            const struct str *c = e->a >= 9   ? comments_pro
                                  : e->a >= 7 ? comments_pas
                                              : comments_det;
            p = put_key(p, &comma, (struct str)S("comment"));
            p = put_str_value(p, c[e->b - 1]);
        }
        break;
    case GK_TICKET_OPENED:
    case GK_TICKET_CLOSED:
        p = put_key(p, &comma, (struct str)S("ticket_id"));
        PUT(p, "\"TCK-");
        p = put_u64(p, e->n2);
        *p++ = '"';
        p = put_key(p, &comma, (struct str)S("priority"));
        p = put_str_value(p, priorities[e->a]);
        break;
    case GK_INVOICE_ISSUED:
    case GK_INVOICE_PAID:
    case GK_PAYMENT_FAILED:
        p = put_key(p, &comma, (struct str)S("invoice_id"));
        PUT(p, "\"INV-");
        p = put_u64(p, e->n2);
        *p++ = '"';
        if (e->kind == GK_INVOICE_ISSUED) {
            p = put_key(p, &comma, (struct str)S("amount"));
            p = put_cents(p, e->num);
            p = put_key(p, &comma, (struct str)S("currency"));
            PUT(p, "\"USD\"");
            p = put_key(p, &comma, (struct str)S("due_date"));
            *p++ = '"';
            p = put_date(p, e->day);
            *p++ = '"';
        }
        break;
    case GK_CARD_UPDATED:
        p = put_key(p, &comma, (struct str)S("card_exp_month"));
        p = put_u64(p, e->a);
        p = put_key(p, &comma, (struct str)S("card_exp_year"));
        p = put_u64(p, e->n2);
        break;
    case GK_OUTREACH_SENT:
    case GK_OUTREACH_REPLIED:
        p = put_key(p, &comma, (struct str)S("channel"));
        p = put_str_value(p, channels[e->a]);
        if (e->kind == GK_OUTREACH_SENT) {
            p = put_key(p, &comma, (struct str)S("csm_email"));
            p = put_str_value(p, csms[a->csm].email);
        }
        break;
    case GK_GOAL_SET:
        p = put_key(p, &comma, (struct str)S("goal_id"));
        PUT(p, "\"G-");
        p = put_u64(p, e->n2);
        *p++ = '"';
        p = put_key(p, &comma, (struct str)S("feature"));
        p = put_str_value(p, features[e->a].name);
        p = put_key(p, &comma, (struct str)S("due_date"));
        *p++ = '"';
        p = put_date(p, e->day);
        *p++ = '"';
        break;
    case GK_MILESTONE_DUE:
    case GK_MILESTONE_DONE:
        p = put_key(p, &comma, (struct str)S("milestone"));
        p = put_str_value(p, milestones[e->a].name);
        if (e->kind == GK_MILESTONE_DUE) {
            p = put_key(p, &comma, (struct str)S("due_date"));
            *p++ = '"';
            p = put_date(p, e->day);
            *p++ = '"';
        }
        break;
    case GK_RENEWED:
    case GK_CHURNED:
        p = put_key(p, &comma, (struct str)S("arr"));
        p = put_cents(p, e->num);
        if (e->kind == GK_CHURNED) {
            p = put_key(p, &comma, (struct str)S("reason"));
            p = put_str_value(p, reasons[e->a]);
        }
        break;
    case GK_SUB_CHANGED:
        p = put_key(p, &comma, (struct str)S("mrr_before"));
        p = put_cents(p, e->n2);
        p = put_key(p, &comma, (struct str)S("mrr_after"));
        p = put_cents(p, e->num);
        p = put_key(p, &comma, (struct str)S("reason"));
        p = put_str_value(p, sub_reasons[e->a]);
        break;
    default:
        break;
    }
    *p++ = '}';
    return p;
}

/* Writes one message at p; returns the end of its line. */
static char *format_ev(struct gen *g, char *p, const struct ev *e) {
    const struct account *a = &g->acc[e->account];
    const struct user *u = &g->users[e->user];
    enum route route = (enum route)e->route;
    /* A removed user's membership no longer names the account. */
    if (route == ROUTE_MEMBERSHIP && u->left_ms <= e->ts_ms)
        route = ROUTE_GROUP;
    switch (e->kind) {
    /* ROUTE_MEMBERSHIP below: these calls carry no context.groupId. */
    case GK_GROUP:
        p = format_group(p, e, a);
        return put_tail(g, p, e, a, ROUTE_MEMBERSHIP);
    case GK_IDENTIFY:
        p = format_identify(p, e, a, u);
        return put_tail(g, p, e, a, ROUTE_MEMBERSHIP);
    case GK_ALIAS:
        PUT(p, "{\"type\":\"alias\",\"previousId\":\"anon-");
        p = put_hex(p, mix64(e->user ^ g->id_salt), 16);
        PUT(p, "\",\"userId\":\"");
        p = put_uid(p, e->user);
        *p++ = '"';
        return put_tail(g, p, e, a, ROUTE_MEMBERSHIP);
    case GK_PAGE:
    case GK_SCREEN: {
        bool page = e->kind == GK_PAGE;
        if (page)
            PUT(p, "{\"type\":\"page\",\"name\":\"");
        else
            PUT(p, "{\"type\":\"screen\",\"name\":\"");
        p = put_str(p, page ? pages[e->a].name : screens[e->a]);
        PUT(p, "\",\"userId\":\"");
        p = put_uid(p, e->user);
        *p++ = '"';
        bool comma;
        if (page || route == ROUTE_PROPERTY) {
            p = props_open(p, a, route, &comma);
            if (page) {
                p = put_key(p, &comma, (struct str)S("path"));
                p = put_str_value(p, pages[e->a].path);
            }
            *p++ = '}';
        }
        return put_tail(g, p, e, a, route);
    }
    default:
        p = format_track(p, e, a, route);
        return put_tail(g, p, e, a, route);
    }
}

void gen_flush(struct gen *g) {
    if (g->len && !g->io_failed && fwrite(g->buf, 1, g->len, g->out) != g->len)
        g->io_failed = true;
    g->len = 0;
}

/* Sorts today's events by their ms of the day, stably (3 radix passes of 9
 * bits over the 27 bits of a day's milliseconds), and writes them. */
void gen_write_day(struct gen *g) {
    size_t n = g->day.n;
    if (n > g->cap_keys) {
        g->cap_keys = g->day.cap;
        free(g->keys);
        free(g->keys_tmp);
        g->keys = xmalloc(g->cap_keys * sizeof *g->keys);
        g->keys_tmp = xmalloc(g->cap_keys * sizeof *g->keys_tmp);
    }
    for (size_t i = 0; i < n; i++) {
        int64_t ms = g->day.v[i].ts_ms - g->day_ms;
        g->keys[i] = (uint64_t)ms << 32 | i;
    }
    uint64_t *src = g->keys, *dst = g->keys_tmp;
    for (int pass = 0; pass < 3; pass++) {
        size_t count[513] = {0};
        int shift = 32 + 9 * pass;
        for (size_t i = 0; i < n; i++)
            count[((src[i] >> shift) & 511) + 1]++;
        for (int b = 0; b < 512; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 511]++] = src[i];
        uint64_t *tmp = src;
        src = dst;
        dst = tmp;
    }
    for (size_t i = 0; i < n; i++) {
        if (g->len > GEN_OUT_BYTES - GEN_MAX_LINE)
            gen_flush(g);
        char *end = format_ev(g, g->buf + g->len, &g->day.v[src[i] & 0xffffffffu]);
        g->len = (size_t)(end - g->buf);
    }
    g->totals.events += (int64_t)n;
}
