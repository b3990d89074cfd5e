/* hooks_map.c: splitting a provider's request into events, the mapping of
 * Zendesk and HubSpot events, and what every provider's mapping shares (see
 * hooks_map.h; Stripe's mapping is hooks_stripe.c).
 *
 * Each mapping reads only the fields its table in docs/connectors.md names;
 * everything else of a payload is ignored, so a provider adding fields
 * changes nothing. The mapping produces Segment messages, never stored
 * rows: validation, deduplication, quarantine and facts stay the ingest
 * path's (ingest/segment.h, ingest/ingest.h). */
#include "ingest/hooks_map.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/datetime.h"
#include "util/mem.h"

static const char *const anonymous_of[HOOK_PROVIDERS] = {"tend:stripe", "tend:zendesk",
                                                         "tend:hubspot"};

void hook_set(struct hook_result *r, const char *status, const char *reason, const char *fmt, ...) {
    r->status = status;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

const char *hook_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *hook_id_text(const cJSON *o, const char *key, char *buf, size_t size) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) < size) {
        snprintf(buf, size, "%s", v->valuestring);
        return buf;
    }
    if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
        fabs(v->valuedouble) < 9007199254740992.0) {
        snprintf(buf, size, "%.0f", v->valuedouble);
        return buf;
    }
    return NULL;
}

enum tend_err hook_resolve(const struct hook_lookup *look, enum hook_provider p, const char *id,
                           struct hook_result *r, bool *found) {
    *found = false;
    if (!id || !id[0] || strlen(id) >= HOOK_ID_BYTES || !look || !look->account_of)
        return TEND_OK;
    return look->account_of(look->arg, p, id, r->account, found);
}

void hook_add_track(struct hook_result *r, enum hook_provider p, const char *event_id,
                    const char *suffix, const char *event, cJSON *props) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "type", "track");
    cJSON_AddStringToObject(m, "event", event);
    cJSON_AddStringToObject(m, "anonymousId", anonymous_of[p]);
    char id[HOOK_ID_BYTES + 96];
    snprintf(id, sizeof id, "%s:%s%s%s", hook_provider_name(p), event_id, suffix ? ":" : "",
             suffix ? suffix : "");
    cJSON_AddStringToObject(m, "messageId", id);
    char ts[32];
    dt_format_instant(r->ts_ms, ts);
    cJSON_AddStringToObject(m, "timestamp", ts);
    cJSON *ctx = cJSON_AddObjectToObject(m, "context");
    cJSON_AddStringToObject(ctx, "groupId", r->account);
    cJSON *lib = cJSON_AddObjectToObject(ctx, "library");
    cJSON_AddStringToObject(lib, "name", "tend-connector");
    cJSON_AddStringToObject(lib, "version", hook_provider_name(p));
    cJSON_AddItemToObject(m, "properties", props ? props : cJSON_CreateObject());
    if (!r->messages)
        r->messages = cJSON_CreateArray();
    cJSON_AddItemToArray(r->messages, m);
}

void hook_result_free(struct hook_result *r) {
    if (!r)
        return;
    cJSON_Delete(r->messages);
    cJSON_Delete(r->traits);
    r->messages = r->traits = NULL;
}

void hook_split_free(struct hook_split_event *ev, size_t n) {
    for (size_t i = 0; ev && i < n; i++) {
        free(ev[i].event_id);
        free(ev[i].event_type);
        free(ev[i].payload);
    }
    free(ev);
}

/* ---- splitting a request ------------------------------------------------ */

/* The kept id of one HubSpot event. HubSpot says eventId alone is not
 * guaranteed unique, so the key is portal, event and object ids together; a
 * retry of a notification repeats all three. */
static bool hubspot_key(const cJSON *e, char *out, size_t size) {
    char portal[32], event[32], object[32];
    if (!hook_id_text(e, "eventId", event, sizeof event) ||
        !hook_id_text(e, "objectId", object, sizeof object))
        return false;
    if (!hook_id_text(e, "portalId", portal, sizeof portal))
        snprintf(portal, sizeof portal, "0");
    snprintf(out, size, "%s-%s-%s", portal, event, object);
    return true;
}

enum tend_err hook_split(enum hook_provider p, const char *body, size_t len,
                         struct hook_split_event **out, size_t *n, char *err) {
    *out = NULL;
    *n = 0;
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root) {
        snprintf(err, HOOK_DETAIL_BYTES, "the body is not JSON");
        return TEND_ERR_INVALID;
    }
    enum tend_err e = TEND_OK;
    bool array = p == HOOK_HUBSPOT;
    if (array ? !cJSON_IsArray(root) : !cJSON_IsObject(root)) {
        snprintf(err, HOOK_DETAIL_BYTES, "the body must be a JSON %s",
                 array ? "array of events (HubSpot webhooks v3)" : "object (one event)");
        e = TEND_ERR_INVALID;
        goto done;
    }
    int count = array ? cJSON_GetArraySize(root) : 1;
    if (count < 1 || count > HOOK_MAX_EVENTS) {
        snprintf(err, HOOK_DETAIL_BYTES, "%d events in one request: expected 1 to %d", count,
                 HOOK_MAX_EVENTS);
        e = TEND_ERR_INVALID;
        goto done;
    }
    struct hook_split_event *ev = xcalloc((size_t)count, sizeof *ev);
    for (int i = 0; i < count; i++) {
        const cJSON *item = array ? cJSON_GetArrayItem(root, i) : root;
        char id[HOOK_ID_BYTES];
        const char *type = hook_str(item, p == HOOK_HUBSPOT ? "subscriptionType" : "type");
        bool ok = cJSON_IsObject(item) &&
                  (p == HOOK_HUBSPOT ? hubspot_key(item, id, sizeof id)
                                     : hook_id_text(item, "id", id, sizeof id) != NULL);
        if (!ok || !type || strlen(type) >= HOOK_ID_BYTES) {
            snprintf(err, HOOK_DETAIL_BYTES, "event %d of %d: %s", i + 1, count,
                     !ok ? (p == HOOK_HUBSPOT ? "no eventId and objectId" : "no \"id\"")
                         : "no event type (or one over 255 bytes)");
            hook_split_free(ev, (size_t)count);
            e = TEND_ERR_INVALID;
            goto done;
        }
        ev[i].event_id = xstrdup(id);
        ev[i].event_type = xstrdup(type);
        ev[i].payload = array ? cJSON_PrintUnformatted(item) : xstrndup(body, len);
    }
    *out = ev;
    *n = (size_t)count;
done:
    cJSON_Delete(root);
    return e;
}

/* ---- Zendesk --------------------------------------------------------------- */

static bool solved(const char *status) {
    return status && (strcasecmp(status, "solved") == 0 || strcasecmp(status, "closed") == 0);
}

/* A ticket event as Ticket Opened or Ticket Closed of its organisation. */
static enum tend_err zendesk_ticket(const cJSON *ev, const char *event_id, const char *event,
                                    const struct hook_lookup *look, struct hook_result *r) {
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(ev, "detail");
    char ticket[64], org[64];
    if (!hook_id_text(d, "id", ticket, sizeof ticket)) {
        hook_set(r, "failed", HOOK_BAD_PAYLOAD, "detail.id: the ticket's id is missing");
        return TEND_OK;
    }
    if (!hook_id_text(d, "organization_id", org, sizeof org) || strcmp(org, "0") == 0) {
        hook_set(r, "unmapped", HOOK_UNKNOWN_ACCOUNT,
                 "Zendesk ticket %s has no organisation (detail.organization_id)", ticket);
        return TEND_OK;
    }
    bool found;
    enum tend_err e = hook_resolve(look, HOOK_ZENDESK, org, r, &found);
    if (e)
        return e;
    if (!found) {
        hook_set(r, "unmapped", HOOK_UNKNOWN_ACCOUNT,
                 "Zendesk organisation %s is not mapped to an account (no organisation event "
                 "with its external id yet; tend inbox map --provider zendesk)",
                 org);
        return TEND_OK;
    }
    cJSON *props = cJSON_CreateObject();
    cJSON_AddStringToObject(props, "ticket_id", ticket);
    const char *priority = hook_str(d, "priority");
    if (priority && priority[0]) {
        char low[32];
        size_t k = 0;
        for (; priority[k] && k < sizeof low - 1; k++)
            low[k] =
                (char)(priority[k] >= 'A' && priority[k] <= 'Z' ? priority[k] + 32 : priority[k]);
        low[k] = '\0';
        cJSON_AddStringToObject(props, "priority", low);
    }
    const char *subject = hook_str(d, "subject");
    if (subject)
        cJSON_AddStringToObject(props, "subject", subject);
    hook_add_track(r, HOOK_ZENDESK, event_id, NULL, event, props);
    hook_set(r, "done", "", "%s %s", event, ticket);
    return TEND_OK;
}

static enum tend_err map_zendesk(cJSON *ev, const struct hook_lookup *look, struct hook_result *r) {
    const char *type = hook_str(ev, "type");
    char event_id[HOOK_ID_BYTES];
    const char *time = hook_str(ev, "time");
    if (!type || !hook_id_text(ev, "id", event_id, sizeof event_id) || !time ||
        !dt_parse_instant(time, strlen(time), &r->ts_ms)) {
        hook_set(r, "failed", HOOK_BAD_PAYLOAD, "not a Zendesk event: id, type and time needed");
        return TEND_OK;
    }
    const char *kind = strncmp(type, "zen:event-type:", 15) == 0 ? type + 15 : type;
    if (strcmp(kind, "ticket.created") == 0)
        return zendesk_ticket(ev, event_id, "Ticket Opened", look, r);
    if (strcmp(kind, "ticket.status_changed") == 0) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "event");
        const char *now = hook_str(e, "current"), *before = hook_str(e, "previous");
        if (solved(now) && !solved(before))
            return zendesk_ticket(ev, event_id, "Ticket Closed", look, r);
        if (!solved(now) && solved(before)) /* reopened */
            return zendesk_ticket(ev, event_id, "Ticket Opened", look, r);
        hook_set(r, "ignored", HOOK_NO_CHANGE, "status %s -> %s: neither solved nor reopened",
                 before ? before : "?", now ? now : "?");
        return TEND_OK;
    }
    if (strcmp(kind, "organization.created") == 0 ||
        strcmp(kind, "organization.external_id_changed") == 0) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(ev, "detail");
        char org[64];
        const char *external = hook_str(d, "external_id");
        if (!hook_id_text(d, "id", org, sizeof org) || !external || !external[0] ||
            strlen(external) >= HOOK_ID_BYTES) {
            hook_set(r, "ignored", HOOK_NO_CHANGE, "the organisation has no external id");
            return TEND_OK;
        }
        snprintf(r->learn_id, sizeof r->learn_id, "%s", org);
        snprintf(r->learn_account, sizeof r->learn_account, "%s", external);
        snprintf(r->account, sizeof r->account, "%s", external);
        hook_set(r, "done", "", "Zendesk organisation %s is account %s", org, external);
        return TEND_OK;
    }
    hook_set(r, "ignored", HOOK_UNHANDLED_TYPE, "%s is not mapped", type);
    return TEND_OK;
}

/* ---- HubSpot --------------------------------------------------------------- */

/* A HubSpot date property's value: Unix ms at midnight UTC ("1767225600000")
 * or "YYYY-MM-DD"; into out as YYYY-MM-DD. */
static bool hubspot_date(const char *v, char out[16]) {
    size_t n = strlen(v);
    if (n == 10 && v[4] == '-' && v[7] == '-') {
        int32_t day;
        if (!dt_parse_date(v, n, &day))
            return false;
        dt_format_date(day, out);
        return true;
    }
    char *end;
    long long ms = strtoll(v, &end, 10);
    if (n == 0 || n > 15 || *end)
        return false;
    dt_format_date(dt_day_of_ms(ms), out);
    return true;
}

static enum tend_err map_hubspot(const struct conn_provider *c, cJSON *ev,
                                 const struct hook_lookup *look, struct hook_result *r) {
    const char *type = hook_str(ev, "subscriptionType");
    char company[64];
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(ev, "occurredAt");
    /* occurredAt: Unix ms, whole, within what an int64 holds and a date can
     * be (a double outside it does not convert). */
    if (!type || !hook_id_text(ev, "objectId", company, sizeof company) || !cJSON_IsNumber(at) ||
        !(at->valuedouble >= 0 && at->valuedouble <= 1e15) ||
        at->valuedouble != floor(at->valuedouble)) {
        hook_set(r, "failed", HOOK_BAD_PAYLOAD,
                 "not a HubSpot event: subscriptionType, objectId and occurredAt (Unix ms) "
                 "needed");
        return TEND_OK;
    }
    r->ts_ms = (int64_t)at->valuedouble;
    if (strcmp(type, "company.propertyChange") != 0) {
        hook_set(r, "ignored", HOOK_UNHANDLED_TYPE, "%s is not mapped", type);
        return TEND_OK;
    }
    const char *name = hook_str(ev, "propertyName");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(ev, "propertyValue");
    const char *v = cJSON_IsString(value) ? value->valuestring : NULL;
    char num[64];
    if (!v && hook_id_text(ev, "propertyValue", num, sizeof num))
        v = num;
    if (!name) {
        hook_set(r, "failed", HOOK_BAD_PAYLOAD, "propertyName is missing");
        return TEND_OK;
    }
    if (strcmp(name, c->account_id_property) == 0) {
        if (!v || !v[0] || strlen(v) >= HOOK_ID_BYTES) {
            hook_set(r, "ignored", HOOK_NO_CHANGE, "%s is empty", name);
            return TEND_OK;
        }
        snprintf(r->learn_id, sizeof r->learn_id, "%s", company);
        snprintf(r->learn_account, sizeof r->learn_account, "%s", v);
        snprintf(r->account, sizeof r->account, "%s", v);
        hook_set(r, "done", "", "HubSpot company %s is account %s", company, v);
        return TEND_OK;
    }
    bool owner = strcmp(name, "hubspot_owner_id") == 0;
    bool renewal = strcmp(name, c->renewal_date_property) == 0;
    bool arr = strcmp(name, c->arr_property) == 0;
    if (!owner && !renewal && !arr) {
        hook_set(r, "ignored", HOOK_UNHANDLED_TYPE, "company property %s is not mapped", name);
        return TEND_OK;
    }
    bool found;
    enum tend_err e = hook_resolve(look, HOOK_HUBSPOT, company, r, &found);
    if (e)
        return e;
    if (!found) {
        hook_set(r, "unmapped", HOOK_UNKNOWN_ACCOUNT,
                 "HubSpot company %s is not mapped to an account (its %s is not known yet; tend "
                 "inbox map --provider hubspot)",
                 company, c->account_id_property);
        return TEND_OK;
    }
    cJSON *traits = cJSON_CreateObject();
    bool empty = !v || !v[0];
    if (owner) {
        const char *email = empty ? NULL : connectors_owner_email(c, v);
        if (!empty && !email) {
            cJSON_Delete(traits);
            hook_set(r, "unmapped", HOOK_UNKNOWN_OWNER,
                     "HubSpot owner %s is not in connectors.hubspot.owners", v);
            return TEND_OK;
        }
        if (email)
            cJSON_AddStringToObject(traits, "csm_email", email);
        else
            cJSON_AddNullToObject(traits, "csm_email");
    } else if (renewal) {
        char date[16];
        if (!empty && !hubspot_date(v, date)) {
            cJSON_Delete(traits);
            hook_set(r, "failed", HOOK_BAD_PAYLOAD, "%s: %.64s is not a date", name, v);
            return TEND_OK;
        }
        if (empty)
            cJSON_AddNullToObject(traits, "renewal_date");
        else
            cJSON_AddStringToObject(traits, "renewal_date", date);
    } else {
        char *end = NULL;
        double x = empty ? 0 : strtod(v, &end);
        if (!empty && (*end || !isfinite(x) || x < 0)) {
            cJSON_Delete(traits);
            hook_set(r, "failed", HOOK_BAD_PAYLOAD, "%s: %.64s is not an amount", name, v);
            return TEND_OK;
        }
        if (empty)
            cJSON_AddNullToObject(traits, "arr");
        else
            cJSON_AddNumberToObject(traits, "arr", x);
    }
    r->traits = traits;
    hook_set(r, "done", "", "company %s: %s", company, name);
    return TEND_OK;
}

enum tend_err hook_map(enum hook_provider p, const struct conn_provider *c, const char *payload,
                       const struct hook_lookup *look, struct hook_result *r) {
    memset(r, 0, sizeof *r);
    cJSON *ev = payload ? cJSON_Parse(payload) : NULL;
    if (!cJSON_IsObject(ev)) {
        cJSON_Delete(ev);
        hook_set(r, "failed", HOOK_BAD_PAYLOAD, "the kept payload is not a JSON object");
        return TEND_OK;
    }
    enum tend_err e;
    switch (p) {
    case HOOK_STRIPE:
        e = hook_map_stripe(c, ev, look, r);
        break;
    case HOOK_ZENDESK:
        e = map_zendesk(ev, look, r);
        break;
    case HOOK_HUBSPOT:
        e = map_hubspot(c, ev, look, r);
        break;
    default:
        hook_set(r, "failed", HOOK_BAD_PAYLOAD, "unknown provider");
        e = TEND_OK;
    }
    cJSON_Delete(ev);
    if (e)
        hook_result_free(r);
    return e;
}
