/* segment.c: Segment message validation (see segment.h).
 *
 * Ids may arrive as strings or as integral numbers (some Segment libraries pass
 * numeric user ids through); numbers are rewritten in the tree as their decimal
 * string, so the rest of tend only ever sees strings. */
#include "ingest/segment.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ingest/text.h"
#include "util/datetime.h"

/* Room for describe(): 40 bytes of text, each escaped to at most 6. */
#define DESCRIBE_BYTES 256

static enum tend_err fail(char *err, enum tend_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum tend_err fail(char *err, enum tend_err code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, SEG_ERR_BYTES, fmt, ap);
    va_end(ap);
    return code;
}

/* Describes a JSON value for an error message: "\"abc\"", "12", "an object".
 * Strings are cut at 40 bytes on a character boundary, control characters
 * escaped (text_quote), so an error is always valid UTF-8 on one line. */
static const char *describe(const cJSON *v, char *out, size_t n) {
    if (!v)
        return "nothing";
    if (cJSON_IsString(v))
        return text_quote(v->valuestring, 40, out, n);
    if (cJSON_IsNumber(v)) {
        snprintf(out, n, "%.17g", v->valuedouble);
        return out;
    }
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    return "an object";
}

/* Reads an id-like field (string, or integral number rewritten as a string).
 * Sets *out to NULL when absent (or null); fails when required and absent. */
static enum tend_err get_id(cJSON *obj, const char *key, const char *path, bool required,
                            const char **out, char *err) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char d[DESCRIBE_BYTES];
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return fail(err, TEND_ERR_INVALID, "%s: is required", path);
        *out = NULL;
        return TEND_OK;
    }
    if (cJSON_IsNumber(v)) {
        double x = v->valuedouble;
        if (x != floor(x) || fabs(x) > 9007199254740992.0)
            return fail(err, TEND_ERR_INVALID, "%s: must be a string or an integer, got %s", path,
                        describe(v, d, sizeof d));
        char num[32];
        snprintf(num, sizeof num, "%.0f", x);
        /* ...InObject (not ...ViaPointer) gives the new item the key. */
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateString(num));
        v = cJSON_GetObjectItemCaseSensitive(obj, key);
    }
    if (!cJSON_IsString(v))
        return fail(err, TEND_ERR_INVALID, "%s: must be a string, got %s", path,
                    describe(v, d, sizeof d));
    size_t len = strlen(v->valuestring);
    if (len == 0) {
        if (required)
            return fail(err, TEND_ERR_INVALID, "%s: must not be empty", path);
        *out = NULL;
        return TEND_OK;
    }
    if (len > SEG_MAX_ID_BYTES)
        return fail(err, TEND_ERR_INVALID, "%s: is %zu bytes, over the limit of %d", path, len,
                    SEG_MAX_ID_BYTES);
    if (!text_check_id(v->valuestring, path, err, SEG_ERR_BYTES))
        return TEND_ERR_INVALID;
    *out = v->valuestring;
    return TEND_OK;
}

/* Reads an optional string field; NULL when absent or null. */
static enum tend_err get_string(cJSON *obj, const char *key, const char *path, bool required,
                                const char **out, char *err) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char d[DESCRIBE_BYTES];
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return fail(err, TEND_ERR_INVALID, "%s: is required", path);
        *out = NULL;
        return TEND_OK;
    }
    if (!cJSON_IsString(v))
        return fail(err, TEND_ERR_INVALID, "%s: must be a string, got %s", path,
                    describe(v, d, sizeof d));
    if (required && !v->valuestring[0])
        return fail(err, TEND_ERR_INVALID, "%s: must not be empty", path);
    *out = v->valuestring;
    return TEND_OK;
}

/* Reads an optional string that names something tend groups or matches by
 * (a product, a plan, a channel): like get_string, without control
 * characters (text.h). */
static enum tend_err get_name(cJSON *obj, const char *key, const char *path, bool required,
                              const char **out, char *err) {
    enum tend_err e = get_string(obj, key, path, required, out, err);
    if (!e && *out && !text_check_id(*out, path, err, SEG_ERR_BYTES))
        return TEND_ERR_INVALID;
    return e;
}

/* Reads an optional object field; NULL when absent or null. */
static enum tend_err get_object(cJSON *obj, const char *key, cJSON **out, char *err) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char d[DESCRIBE_BYTES];
    if (!v || cJSON_IsNull(v)) {
        *out = NULL;
        return TEND_OK;
    }
    if (!cJSON_IsObject(v))
        return fail(err, TEND_ERR_INVALID, "%s: must be an object, got %s", key,
                    describe(v, d, sizeof d));
    *out = v;
    return TEND_OK;
}

/* Reads a number field within [lo, hi]; integral when integral is set. */
static enum tend_err get_number(cJSON *obj, const char *key, const char *path, bool required,
                                double lo, double hi, bool integral, double *out, bool *has,
                                char *err) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char d[DESCRIBE_BYTES];
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return fail(err, TEND_ERR_INVALID, "%s: is required", path);
        *has = false;
        return TEND_OK;
    }
    double x;
    if (cJSON_IsNumber(v)) {
        x = v->valuedouble;
    } else if (cJSON_IsString(v) && v->valuestring[0]) {
        /* Numbers written as strings ("49.90") are common in billing exports. */
        char *end;
        x = strtod(v->valuestring, &end);
        if (*end || !isfinite(x))
            goto bad;
    } else {
        goto bad;
    }
    if (x < lo || x > hi || (integral && x != floor(x)))
        goto bad;
    *out = x;
    *has = true;
    return TEND_OK;
bad:
    if (integral)
        return fail(err, TEND_ERR_INVALID, "%s: must be an integer from %.0f to %.0f, got %s", path,
                    lo, hi, describe(v, d, sizeof d));
    return fail(err, TEND_ERR_INVALID, "%s: must be a number from %g to %g, got %s", path, lo, hi,
                describe(v, d, sizeof d));
}

/* The day n years after (or before, n < 0) day; Feb 29 becomes Feb 28 in a
 * common year. */
static int32_t add_years(int32_t day, int n) {
    int y, m, d;
    dt_civil_from_days(day, &y, &m, &d);
    y += n;
    if (d > dt_days_in_month(y, m))
        d = dt_days_in_month(y, m);
    return dt_days_from_civil(y, m, d);
}

/* A window of days a date must fall in, and why, for the error. */
struct day_window {
    int32_t lo, hi;
    const char *why;
};

/* The window of a due date stated by a message at ts_ms. */
static struct day_window due_window(int64_t ts_ms) {
    int32_t day = dt_day_of_ms(ts_ms);
    return (struct day_window){add_years(day, -SEG_DUE_YEARS_BEFORE),
                               add_years(day, SEG_DUE_YEARS_AFTER),
                               "1 year before to 10 years after the message's timestamp"};
}

/* Reads a YYYY-MM-DD date field (a full ISO instant is accepted: its UTC date)
 * that must fall within w. */
static enum tend_err get_date(cJSON *obj, const char *key, const char *path, bool required,
                              struct day_window w, int32_t *out, bool *has, char *err) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char d[DESCRIBE_BYTES];
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return fail(err, TEND_ERR_INVALID, "%s: is required", path);
        *has = false;
        return TEND_OK;
    }
    int64_t ms;
    if (!cJSON_IsString(v) || !dt_parse_instant(v->valuestring, strlen(v->valuestring), &ms))
        return fail(err, TEND_ERR_INVALID, "%s: must be a date YYYY-MM-DD, got %s", path,
                    describe(v, d, sizeof d));
    int32_t day = dt_day_of_ms(ms);
    if (day < w.lo || day > w.hi) {
        char lo[16], hi[16];
        dt_format_date(w.lo, lo);
        dt_format_date(w.hi, hi);
        return fail(err, TEND_ERR_INVALID, "%s: %s is outside the accepted window %s to %s (%s)",
                    path, describe(v, d, sizeof d), lo, hi, w.why);
    }
    *out = day;
    *has = true;
    return TEND_OK;
}

enum tend_err segment_check_time(int64_t ms, const char *path, int64_t received_ms, char *err) {
    int64_t hi = received_ms + SEG_MAX_AHEAD_MS;
    if (ms >= SEG_MIN_TIME_MS && ms <= hi)
        return TEND_OK;
    char at[32], lo_s[32], hi_s[32];
    dt_format_instant(ms, at);
    dt_format_instant(SEG_MIN_TIME_MS, lo_s);
    dt_format_instant(hi, hi_s);
    return fail(err, TEND_ERR_INVALID,
                "%s: %s is outside the accepted window %s to %s (from 2000 to 1 day after "
                "tend received the message)",
                path, at, lo_s, hi_s);
}

/* Extracts and checks the facts of a meaningful track event (docs/events.md).
 * item is the message: derived strings that need a home (the card expiry
 * "YYYY-MM") are added to it, never to the stored properties. */
static enum tend_err parse_facts(cJSON *item, struct seg_msg *m, char *err) {
    cJSON *p = m->properties;
    cJSON empty = {0};
    empty.type = cJSON_Object;
    if (!p)
        p = &empty;
    enum tend_err e = TEND_OK;
    switch (m->kind) {
    case EV_FEATURE:
        e = get_name(p, "product", "properties.product", false, &m->subject, err);
        break;
    case EV_NPS:
        e = get_number(p, "score", "properties.score", true, 0, 10, true, &m->num, &m->has_num,
                       err);
        break;
    case EV_TICKET_OPENED:
    case EV_TICKET_CLOSED:
        e = get_id(p, "ticket_id", "properties.ticket_id", true, &m->subject, err);
        if (!e)
            e = get_id(p, "priority", "properties.priority", false, &m->detail, err);
        break;
    case EV_INVOICE_ISSUED:
        e = get_id(p, "invoice_id", "properties.invoice_id", true, &m->subject, err);
        if (!e)
            e = get_number(p, "amount", "properties.amount", true, 0, 1e15, false, &m->num,
                           &m->has_num, err);
        if (!e)
            e = get_date(p, "due_date", "properties.due_date", true, due_window(m->ts_ms), &m->day,
                         &m->has_day, err);
        break;
    case EV_INVOICE_PAID:
    case EV_PAYMENT_FAILED:
        e = get_id(p, "invoice_id", "properties.invoice_id", true, &m->subject, err);
        break;
    case EV_CARD_UPDATED: {
        double mon, year;
        bool has;
        e = get_number(p, "card_exp_month", "properties.card_exp_month", true, 1, 12, true, &mon,
                       &has, err);
        if (!e)
            e = get_number(p, "card_exp_year", "properties.card_exp_year", true, 0, 9999, true,
                           &year, &has, err);
        if (e)
            break;
        if (year < 100) /* two-digit years, as printed on cards */
            year += 2000;
        int ts_year, ts_month, ts_day;
        dt_civil_from_days(dt_day_of_ms(m->ts_ms), &ts_year, &ts_month, &ts_day);
        int lo = ts_year - SEG_CARD_YEARS_BEFORE, hi = ts_year + SEG_CARD_YEARS_AFTER;
        if (year < lo || year > hi)
            return fail(err, TEND_ERR_INVALID,
                        "properties.card_exp_year: %.0f is outside the accepted years %d to %d "
                        "(the year before the message's timestamp to 20 years after)",
                        year, lo, hi);
        int y = (int)year, mo = (int)mon;
        m->day = dt_days_from_civil(y, mo, dt_days_in_month(y, mo));
        m->has_day = true;
        m->num = y * 100 + mo;
        m->has_num = true;
        char expiry[16];
        snprintf(expiry, sizeof expiry, "%04d-%02d", y, mo);
        cJSON *subject = cJSON_CreateString(expiry);
        cJSON_AddItemToObject(item, "tend:card_expiry", subject);
        m->subject = subject->valuestring;
        break;
    }
    case EV_OUTREACH_SENT:
    case EV_OUTREACH_REPLIED:
        e = get_name(p, "channel", "properties.channel", false, &m->subject, err);
        break;
    case EV_GOAL_SET:
        e = get_id(p, "goal_id", "properties.goal_id", true, &m->subject, err);
        if (!e)
            e = get_name(p, "feature", "properties.feature", true, &m->detail, err);
        if (!e)
            e = get_date(p, "due_date", "properties.due_date", true, due_window(m->ts_ms), &m->day,
                         &m->has_day, err);
        break;
    case EV_MILESTONE_DUE:
        e = get_id(p, "milestone", "properties.milestone", true, &m->subject, err);
        if (!e)
            e = get_date(p, "due_date", "properties.due_date", true, due_window(m->ts_ms), &m->day,
                         &m->has_day, err);
        break;
    case EV_MILESTONE_DONE:
        e = get_id(p, "milestone", "properties.milestone", true, &m->subject, err);
        break;
    case EV_RENEWED:
    case EV_CHURNED:
        e = get_number(p, "arr", "properties.arr", false, 0, 1e15, false, &m->num, &m->has_num,
                       err);
        if (!e)
            e = get_string(p, "reason", "properties.reason", false, &m->detail, err);
        break;
    case EV_SUB_CHANGED: {
        /* mrr_after is the fact (num); mrr_before stays in the stored
         * properties, where the revenue analysis reads it (checked here all
         * the same: a change is the difference of the two). */
        double before;
        bool has;
        e = get_number(p, "mrr_before", "properties.mrr_before", true, 0, SEG_MAX_MRR, false,
                       &before, &has, err);
        if (!e)
            e = get_number(p, "mrr_after", "properties.mrr_after", true, 0, SEG_MAX_MRR, false,
                           &m->num, &m->has_num, err);
        if (!e)
            e = get_name(p, "reason", "properties.reason", false, &m->detail, err);
        if (!e && m->detail && strlen(m->detail) > SEG_MAX_REASON_BYTES)
            e = fail(err, TEND_ERR_INVALID, "properties.reason: longer than %d bytes",
                     SEG_MAX_REASON_BYTES);
        break;
    }
    default:
        break;
    }
    return e;
}

enum tend_err segment_check_account_traits(cJSON *traits, const char *prefix, int64_t ts_ms,
                                           int64_t received_ms, char *err) {
    /* name is free text; the others name what tend groups and routes by. */
    static const char *const names[] = {"plan", "csm_email", "csm_slack", "segment"};
    char path[96], d[DESCRIBE_BYTES];
    const char *str;
    double x;
    bool has;
    int32_t day;
    enum tend_err e;
    snprintf(path, sizeof path, "%sname", prefix);
    if ((e = get_string(traits, "name", path, false, &str, err)))
        return e;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s%s", prefix, names[i]);
        if ((e = get_name(traits, names[i], path, false, &str, err)))
            return e;
    }
    snprintf(path, sizeof path, "%smrr", prefix);
    if ((e = get_number(traits, "mrr", path, false, 0, SEG_MAX_MRR, false, &x, &has, err)))
        return e;
    snprintf(path, sizeof path, "%sseats", prefix);
    if ((e = get_number(traits, "seats", path, false, 0, 1e9, true, &x, &has, err)))
        return e;
    int32_t ts_day = dt_day_of_ms(ts_ms);
    struct day_window renewal = {add_years(ts_day, -SEG_RENEWAL_YEARS),
                                 add_years(ts_day, SEG_RENEWAL_YEARS),
                                 "10 years either side of the message's timestamp"};
    snprintf(path, sizeof path, "%srenewal_date", prefix);
    if ((e = get_date(traits, "renewal_date", path, false, renewal, &day, &has, err)))
        return e;
    /* An empty created_at stays what it always was: unknown. */
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(traits, "created_at");
    if (!(cJSON_IsString(created) && !created->valuestring[0])) {
        struct day_window since = {0, dt_day_of_ms(received_ms + SEG_MAX_AHEAD_MS),
                                   "from 1970 to 1 day after tend received the message"};
        snprintf(path, sizeof path, "%screated_at", prefix);
        if ((e = get_date(traits, "created_at", path, false, since, &day, &has, err)))
            return e;
    }
    cJSON *pp = cJSON_GetObjectItemCaseSensitive(traits, "premium_products");
    if (pp && !cJSON_IsNull(pp)) {
        bool ok = cJSON_IsArray(pp);
        const cJSON *it;
        cJSON_ArrayForEach(it, pp) {
            if (!cJSON_IsString(it))
                ok = false;
        }
        if (!ok)
            return fail(err, TEND_ERR_INVALID,
                        "%spremium_products: must be an array of product keys (strings), got %s",
                        prefix, describe(pp, d, sizeof d));
        int i = 0;
        cJSON_ArrayForEach(it, pp) {
            snprintf(path, sizeof path, "%spremium_products[%d]", prefix, i++);
            if (!text_check_id(it->valuestring, path, err, SEG_ERR_BYTES))
                return TEND_ERR_INVALID;
        }
    }
    return TEND_OK;
}

static const char *const type_names[] = {"track", "identify", "group", "page", "screen", "alias"};

void segment_serialize_body(struct seg_msg *m) {
    const cJSON *body = m->properties ? m->properties : m->traits;
    m->body_json = body && body->child ? cJSON_PrintUnformatted(body) : NULL;
}

const char *segment_type_name(enum seg_type type) {
    return type_names[type];
}

/* The company id an identify's traits carry: company.id, company_id or
 * accountExternalId, first found. */
static enum tend_err parse_company(struct seg_msg *m, char *err) {
    cJSON *t = m->traits;
    m->company_id = NULL;
    if (!t)
        return TEND_OK;
    cJSON *company = cJSON_GetObjectItemCaseSensitive(t, "company");
    enum tend_err e;
    if (cJSON_IsObject(company)) {
        e = get_id(company, "id", "traits.company.id", false, &m->company_id, err);
        if (e || m->company_id)
            return e;
    }
    e = get_id(t, "company_id", "traits.company_id", false, &m->company_id, err);
    if (e || m->company_id)
        return e;
    return get_id(t, "accountExternalId", "traits.accountExternalId", false, &m->company_id, err);
}

enum tend_err segment_parse_msg(cJSON *item, const cJSON *batch_context, int64_t received_ms,
                                const char *raw, size_t raw_len, struct seg_msg *out, char *err) {
    struct seg_msg m;
    memset(&m, 0, sizeof m);
    enum tend_err e;
    char d[DESCRIBE_BYTES];

    if (!cJSON_IsObject(item))
        return fail(err, TEND_ERR_INVALID, "message: must be a JSON object, got %s",
                    describe(item, d, sizeof d));

    /* Size first: nothing else is worth doing for an oversize message. */
    if (!raw) {
        /* cJSON asks for 5 spare bytes; a failure to fit is the size check. */
        static _Thread_local char printed[SEG_MAX_MESSAGE_BYTES + 8];
        if (!cJSON_PrintPreallocated(item, printed, (int)sizeof printed, false))
            return fail(err, TEND_ERR_LIMIT, "message: over the limit of %d bytes",
                        SEG_MAX_MESSAGE_BYTES);
        raw = printed;
        raw_len = strlen(printed);
    }
    if (raw_len > SEG_MAX_MESSAGE_BYTES)
        return fail(err, TEND_ERR_LIMIT, "message: is %zu bytes, over the limit of %d", raw_len,
                    SEG_MAX_MESSAGE_BYTES);
    /* Every string it carries, keys included, stored today or not. */
    if (!text_check_tree(item, "", err, SEG_ERR_BYTES))
        return TEND_ERR_INVALID;

    const char *type;
    e = get_string(item, "type", "type", false, &type, err);
    if (e)
        goto done;
    if (!type) {
        e = fail(err, TEND_ERR_INVALID, "type: is required");
        goto done;
    }
    size_t t;
    for (t = 0; t < sizeof type_names / sizeof type_names[0]; t++) {
        if (strcmp(type, type_names[t]) == 0)
            break;
    }
    if (t == sizeof type_names / sizeof type_names[0]) {
        e = fail(err, TEND_ERR_INVALID,
                 "type: %s is not one of track, identify, group, page, screen, alias",
                 text_quote(type, 40, d, sizeof d));
        goto done;
    }
    m.type = (enum seg_type)t;

    if ((e = get_id(item, "userId", "userId", false, &m.user_id, err)) ||
        (e = get_id(item, "anonymousId", "anonymousId", false, &m.anonymous_id, err)) ||
        (e = get_id(item, "messageId", "messageId", false, &m.message_id, err)))
        goto done;
    if (!m.user_id && !m.anonymous_id) {
        e = fail(err, TEND_ERR_INVALID, "userId: a userId or an anonymousId is required");
        goto done;
    }

    const char *ts;
    if ((e = get_string(item, "timestamp", "timestamp", false, &ts, err)))
        goto done;
    if (ts) {
        if (!dt_parse_instant(ts, strlen(ts), &m.ts_ms)) {
            e = fail(err, TEND_ERR_INVALID, "timestamp: not an ISO-8601 date-time: %s",
                     text_quote(ts, 40, d, sizeof d));
            goto done;
        }
        if ((e = segment_check_time(m.ts_ms, "timestamp", received_ms, err)))
            goto done;
        m.has_timestamp = true;
        m.key_ts_ms = m.ts_ms;
    } else {
        m.ts_ms = received_ms;
        m.key_ts_ms = 0;
    }

    /* The batch's context counts as merged into the item's (the item's own
     * keys win). Only context.groupId is read, so it is looked up, never
     * copied: a copy of a 400 KB context into each of 2,500 items held a
     * gigabyte. */
    cJSON *context = NULL;
    if ((e = get_object(item, "context", &context, err)))
        goto done;
    cJSON *group_from = context;
    if (!(context && cJSON_GetObjectItemCaseSensitive(context, "groupId")) &&
        cJSON_IsObject(batch_context)) {
        /* get_id rewrites a numeric id in place; the batch's, shared by its
         * items, is left alone: a number (a few bytes) is copied into the
         * item, anything else is only read. */
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(batch_context, "groupId");
        if (cJSON_IsNumber(g)) {
            group_from = cJSON_AddObjectToObject(item, "tend:batch_context");
            cJSON_AddItemToObject(group_from, "groupId", cJSON_Duplicate(g, false));
        } else {
            group_from = (cJSON *)batch_context;
        }
    }
    if (group_from &&
        (e = get_id(group_from, "groupId", "context.groupId", false, &m.group_id, err)))
        goto done;

    switch (m.type) {
    case SEG_TRACK:
        m.kind = EV_FEATURE;
        if ((e = get_name(item, "event", "event", true, &m.event, err)))
            goto done;
        if (strlen(m.event) > SEG_MAX_ID_BYTES) {
            e = fail(err, TEND_ERR_INVALID, "event: name over the limit of %d bytes",
                     SEG_MAX_ID_BYTES);
            goto done;
        }
        m.kind = vocab_kind_of(m.event, strlen(m.event));
        break;
    case SEG_PAGE:
    case SEG_SCREEN:
        m.kind = m.type == SEG_PAGE ? EV_PAGE : EV_SCREEN;
        if ((e = get_name(item, "name", "name", false, &m.event, err)))
            goto done;
        if (m.event && strlen(m.event) > SEG_MAX_ID_BYTES) {
            e = fail(err, TEND_ERR_INVALID, "name: over the limit of %d bytes", SEG_MAX_ID_BYTES);
            goto done;
        }
        break;
    case SEG_IDENTIFY:
        m.kind = EV_IDENTIFY;
        break;
    case SEG_GROUP:
        m.kind = EV_GROUP;
        if ((e = get_id(item, "groupId", "groupId", true, &m.group_id, err)))
            goto done;
        break;
    case SEG_ALIAS:
        m.kind = EV_ALIAS;
        if ((e = get_id(item, "previousId", "previousId", true, &m.previous_id, err)))
            goto done;
        break;
    }

    if (m.type == SEG_TRACK || m.type == SEG_PAGE || m.type == SEG_SCREEN) {
        if ((e = get_object(item, "properties", &m.properties, err)))
            goto done;
        if (m.properties && (e = get_id(m.properties, "account_id", "properties.account_id", false,
                                        &m.account_hint, err)))
            goto done;
    }
    if (m.type == SEG_IDENTIFY || m.type == SEG_GROUP) {
        if ((e = get_object(item, "traits", &m.traits, err)))
            goto done;
        if (m.type == SEG_IDENTIFY && (e = parse_company(&m, err)))
            goto done;
        if (m.type == SEG_GROUP && m.traits &&
            (e = segment_check_account_traits(m.traits, "traits.", m.ts_ms, received_ms, err)))
            goto done;
    }
    if (m.type == SEG_TRACK && (e = parse_facts(item, &m, err)))
        goto done;

    if (m.message_id)
        m.key_hash = XXH3_64bits(m.message_id, strlen(m.message_id));
    else
        m.key_hash = XXH3_64bits(raw, raw_len);
    *out = m;
done:
    return e;
}
