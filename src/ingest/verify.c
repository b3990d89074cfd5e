/* verify.c: the signature recipes of Stripe, Zendesk, HubSpot v3 and Slack
 * behind one contract (verify.h; docs/connectors.md, "Signatures").
 *
 * Each provider is three steps: find and bound its headers (missing,
 * duplicated or over VERIFY_MAX_HEADER_BYTES is refused before anything is
 * parsed), check the signed timestamp against the injected clock, then
 * compute HMAC-SHA256 over the provider's parts with every secret and compare
 * with every signature the header carries. The parts are fed to libsodium's
 * incremental HMAC one by one, so the body is never copied; the MACs are
 * compared with sodium_memcmp (constant time), and every secret is tried even
 * after a match so the time taken does not tell which one matched.
 *
 * Signatures are decoded to their 32 raw bytes before the comparison
 * (sodium_hex2bin, sodium_base642bin), so "AB" and "ab" in hex compare alike
 * and anything that does not decode to exactly 32 bytes is malformed. */
#include "ingest/verify.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/datetime.h"

#define MAC_BYTES crypto_auth_hmacsha256_BYTES

/* One piece of the string a provider signs. */
struct part {
    const void *p;
    size_t n;
};

/* Writes the message (printf-style) into msg when there is room for one. */
__attribute__((format(printf, 3, 4))) static void say(char *msg, size_t msglen, const char *fmt,
                                                      ...) {
    if (msg == NULL || msglen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
}

/* Finds the header named name (case-insensitive) in req. Returns VERIFY_OK
 * with *value (borrowed) and *len; VERIFY_MISSING_HEADER when absent;
 * VERIFY_MALFORMED_HEADER when it appears twice or is longer than
 * VERIFY_MAX_HEADER_BYTES (the value is then never read past the cap). */
static enum verify_result find_header(const struct verify_request *req, const char *name,
                                      const char **value, size_t *len, char *msg, size_t msglen) {
    const char *found = NULL;
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct verify_header *h = &req->headers[i];
        if (h->name == NULL || h->value == NULL || strcasecmp(h->name, name) != 0)
            continue;
        if (found != NULL) {
            say(msg, msglen, "%s: sent more than once", name);
            return VERIFY_MALFORMED_HEADER;
        }
        found = h->value;
    }
    if (found == NULL) {
        say(msg, msglen, "%s: missing", name);
        return VERIFY_MISSING_HEADER;
    }
    size_t n = strnlen(found, VERIFY_MAX_HEADER_BYTES + 1);
    if (n > VERIFY_MAX_HEADER_BYTES) {
        say(msg, msglen, "%s: longer than %d bytes", name, VERIFY_MAX_HEADER_BYTES);
        return VERIFY_MALFORMED_HEADER;
    }
    if (n == 0) {
        say(msg, msglen, "%s: empty", name);
        return VERIFY_MALFORMED_HEADER;
    }
    *value = found;
    *len = n;
    return VERIFY_OK;
}

/* Parses s[0..len) as a plain decimal (digits only, 1 to 15 of them: ms
 * until the year 33658). Returns false on anything else. */
static bool parse_decimal(const char *s, size_t len, int64_t *out) {
    if (len == 0 || len > 15)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Refuses ts_ms when it is further than tolerance_ms from now_ms, either
 * way: an old one is a replay or a long delay, a future one a forged clock. */
static enum verify_result check_time(const char *name, int64_t ts_ms, int64_t now_ms,
                                     int64_t tolerance_ms, char *msg, size_t msglen) {
    int64_t age = now_ms - ts_ms;
    if (age > tolerance_ms) {
        say(msg, msglen, "%s: %lld s old, over the %lld s tolerance", name, (long long)(age / 1000),
            (long long)(tolerance_ms / 1000));
        return VERIFY_STALE_TIMESTAMP;
    }
    if (-age > tolerance_ms) {
        say(msg, msglen, "%s: %lld s in the future, over the %lld s tolerance", name,
            -(long long)(age / 1000), (long long)(tolerance_ms / 1000));
        return VERIFY_STALE_TIMESTAMP;
    }
    return VERIFY_OK;
}

/* Decodes exactly 64 hex digits at s into out. */
static bool decode_hex(const char *s, size_t len, unsigned char out[MAC_BYTES]) {
    size_t n = 0;
    const char *end = NULL;
    if (len != 2 * MAC_BYTES)
        return false;
    if (sodium_hex2bin(out, MAC_BYTES, s, len, NULL, &n, &end) != 0)
        return false;
    return n == MAC_BYTES && end == s + len;
}

/* Decodes standard, padded base64 of exactly 32 bytes (44 characters). */
static bool decode_base64(const char *s, size_t len, unsigned char out[MAC_BYTES]) {
    size_t n = 0;
    const char *end = NULL;
    if (len != sodium_base64_ENCODED_LEN(MAC_BYTES, sodium_base64_VARIANT_ORIGINAL) - 1)
        return false;
    if (sodium_base642bin(out, MAC_BYTES, s, len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) !=
        0)
        return false;
    return n == MAC_BYTES && end == s + len;
}

/* Computes HMAC-SHA256 of the concatenated parts under each secret and
 * compares it in constant time with each of sigs[0..n_sigs). Tries every
 * pair (no early exit). Returns VERIFY_OK with *index of the first secret
 * that matched, or VERIFY_BAD_SIGNATURE. */
static enum verify_result match(const char *const *secrets, size_t n_secrets,
                                const struct part *parts, size_t n_parts,
                                unsigned char (*sigs)[MAC_BYTES], size_t n_sigs, size_t *index,
                                const char *name, char *msg, size_t msglen) {
    bool found = false;
    size_t first = 0;
    for (size_t s = 0; s < n_secrets; s++) {
        if (secrets[s] == NULL || secrets[s][0] == '\0')
            continue; /* an empty key would let anyone sign: never a secret */
        crypto_auth_hmacsha256_state st;
        unsigned char mac[MAC_BYTES];
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)secrets[s], strlen(secrets[s]));
        for (size_t i = 0; i < n_parts; i++)
            if (parts[i].n > 0)
                crypto_auth_hmacsha256_update(&st, parts[i].p, parts[i].n);
        crypto_auth_hmacsha256_final(&st, mac);
        for (size_t i = 0; i < n_sigs; i++) {
            if (sodium_memcmp(mac, sigs[i], MAC_BYTES) == 0 && !found) {
                found = true;
                first = s;
            }
        }
        sodium_memzero(&st, sizeof st);
    }
    if (!found) {
        say(msg, msglen, "%s: no configured secret (of %lld) gives this signature", name,
            (long long)n_secrets);
        return VERIFY_BAD_SIGNATURE;
    }
    if (index != NULL)
        *index = first;
    say(msg, msglen, "%s: verified with secret %lld", name, (long long)first + 1);
    return VERIFY_OK;
}

/* Stripe-Signature: "t=SECONDS,v1=HEX[,v1=HEX...][,v0=...]" over "t.body". */
static enum verify_result verify_stripe(const struct verify_request *req,
                                        const char *const *secrets, size_t n_secrets,
                                        int64_t now_ms, int64_t tol, size_t *index, char *msg,
                                        size_t msglen) {
    static const char name[] = "Stripe-Signature";
    const char *v;
    size_t len;
    enum verify_result r = find_header(req, name, &v, &len, msg, msglen);
    if (r != VERIFY_OK)
        return r;
    unsigned char sigs[VERIFY_MAX_STRIPE_V1][MAC_BYTES];
    size_t n_sigs = 0;
    const char *t = NULL;
    size_t t_len = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && v[j] != ',')
            j++;
        const char *item = v + i;
        size_t n = j - i;
        const char *eq = memchr(item, '=', n);
        if (eq == NULL) {
            say(msg, msglen, "%s: an element without '=' at byte %lld", name, (long long)i + 1);
            return VERIFY_MALFORMED_HEADER;
        }
        size_t key_len = (size_t)(eq - item);
        const char *val = eq + 1;
        size_t val_len = n - key_len - 1;
        if (key_len == 1 && item[0] == 't') {
            if (t != NULL) {
                say(msg, msglen, "%s: more than one t=", name);
                return VERIFY_MALFORMED_HEADER;
            }
            t = val;
            t_len = val_len;
        } else if (key_len == 2 && item[0] == 'v' && item[1] == '1') {
            if (n_sigs == VERIFY_MAX_STRIPE_V1) {
                say(msg, msglen, "%s: more than %d v1= signatures", name, VERIFY_MAX_STRIPE_V1);
                return VERIFY_MALFORMED_HEADER;
            }
            if (!decode_hex(val, val_len, sigs[n_sigs])) {
                say(msg, msglen, "%s: v1= at byte %lld is not 64 hex digits", name,
                    (long long)i + 1);
                return VERIFY_MALFORMED_HEADER;
            }
            n_sigs++;
        } /* other schemes (v0, a test-mode signature) are ignored, as Stripe says */
        i = j + 1;
    }
    int64_t t_s = 0;
    if (t == NULL || !parse_decimal(t, t_len, &t_s) || t_len > 12) {
        say(msg, msglen, "%s: %s", name,
            t == NULL ? "no t= timestamp" : "t= is not a Unix time in seconds");
        return VERIFY_MALFORMED_HEADER;
    }
    if (n_sigs == 0) {
        say(msg, msglen, "%s: no v1= signature", name);
        return VERIFY_MALFORMED_HEADER;
    }
    r = check_time(name, t_s * 1000, now_ms, tol, msg, msglen);
    if (r != VERIFY_OK)
        return r;
    struct part parts[] = {{t, t_len}, {".", 1}, {req->body, req->body_len}};
    return match(secrets, n_secrets, parts, 3, sigs, n_sigs, index, name, msg, msglen);
}

/* Zendesk's and HubSpot's headers: the signature header name (the base64 of
 * a MAC, decoded into mac) and the timestamp header ts_name (*ts, *ts_len). */
static enum verify_result base64_signed(const struct verify_request *req, const char *name,
                                        const char *ts_name, unsigned char *mac, const char **ts,
                                        size_t *ts_len, char *msg, size_t msglen) {
    const char *sig;
    size_t sig_len;
    enum verify_result r = find_header(req, name, &sig, &sig_len, msg, msglen);
    if (r == VERIFY_OK)
        r = find_header(req, ts_name, ts, ts_len, msg, msglen);
    if (r != VERIFY_OK)
        return r;
    if (!decode_base64(sig, sig_len, mac)) {
        say(msg, msglen, "%s: not the base64 of 32 bytes", name);
        return VERIFY_MALFORMED_HEADER;
    }
    return VERIFY_OK;
}

/* X-Zendesk-Webhook-Signature: base64 over timestamp header + body; the
 * timestamp is ISO 8601 ("2026-12-07T22:30:00Z"). */
static enum verify_result verify_zendesk(const struct verify_request *req,
                                         const char *const *secrets, size_t n_secrets,
                                         int64_t now_ms, int64_t tol, size_t *index, char *msg,
                                         size_t msglen) {
    static const char name[] = "X-Zendesk-Webhook-Signature";
    static const char ts_name[] = "X-Zendesk-Webhook-Signature-Timestamp";
    const char *ts;
    size_t ts_len;
    unsigned char mac[1][MAC_BYTES];
    enum verify_result r = base64_signed(req, name, ts_name, mac[0], &ts, &ts_len, msg, msglen);
    if (r != VERIFY_OK)
        return r;
    int64_t ts_ms = 0;
    if (!dt_parse_instant(ts, ts_len, &ts_ms)) {
        say(msg, msglen, "%s: not an ISO 8601 time", ts_name);
        return VERIFY_MALFORMED_HEADER;
    }
    r = check_time(ts_name, ts_ms, now_ms, tol, msg, msglen);
    if (r != VERIFY_OK)
        return r;
    struct part parts[] = {{ts, ts_len}, {req->body, req->body_len}};
    return match(secrets, n_secrets, parts, 2, mac, 1, index, name, msg, msglen);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Writes uri into out (VERIFY_MAX_URI_BYTES) with the escapes HubSpot's v3
 * recipe decodes (%3A : %2F / %3F ? %40 @ %21 ! %24 $ %27 ' %28 ( %29 )
 * %2A * %2C , %3B ;) decoded and every other byte kept as sent. Returns the
 * length, or -1 when uri is over the cap. */
static long decode_hubspot_uri(const char *uri, char *out) {
    static const char decoded[] = ":/?@!$'()*,;";
    size_t n = strnlen(uri, VERIFY_MAX_URI_BYTES + 1), o = 0;
    if (n > VERIFY_MAX_URI_BYTES)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (uri[i] == '%' && i + 2 < n) {
            int hi = hex_value(uri[i + 1]);
            int lo = hex_value(uri[i + 2]);
            if (hi >= 0 && lo >= 0) {
                char c = (char)(hi * 16 + lo);
                if (c != '\0' && strchr(decoded, c) != NULL) {
                    out[o++] = c;
                    i += 2;
                    continue;
                }
            }
        }
        out[o++] = uri[i];
    }
    return (long)o;
}

/* X-HubSpot-Signature-v3: base64 over method + URI (decoded as above) + body
 * + X-HubSpot-Request-Timestamp (ms). */
static enum verify_result verify_hubspot(const struct verify_request *req,
                                         const char *const *secrets, size_t n_secrets,
                                         int64_t now_ms, int64_t tol, size_t *index, char *msg,
                                         size_t msglen) {
    static const char name[] = "X-HubSpot-Signature-v3";
    static const char ts_name[] = "X-HubSpot-Request-Timestamp";
    const char *ts;
    size_t ts_len;
    unsigned char mac[1][MAC_BYTES];
    enum verify_result r = base64_signed(req, name, ts_name, mac[0], &ts, &ts_len, msg, msglen);
    if (r != VERIFY_OK)
        return r;
    int64_t ts_ms = 0;
    if (!parse_decimal(ts, ts_len, &ts_ms)) {
        say(msg, msglen, "%s: not a Unix time in milliseconds", ts_name);
        return VERIFY_MALFORMED_HEADER;
    }
    r = check_time(ts_name, ts_ms, now_ms, tol, msg, msglen);
    if (r != VERIFY_OK)
        return r;
    const char *method = req->method != NULL ? req->method : "";
    char uri[VERIFY_MAX_URI_BYTES];
    long uri_len = decode_hubspot_uri(req->uri != NULL ? req->uri : "", uri);
    if (uri_len < 0 || strnlen(method, 17) > 16) {
        say(msg, msglen, "%s: the request's %s is too long", name, uri_len < 0 ? "URI" : "method");
        return VERIFY_MALFORMED_HEADER;
    }
    struct part parts[] = {
        {method, strlen(method)}, {uri, (size_t)uri_len}, {req->body, req->body_len}, {ts, ts_len}};
    return match(secrets, n_secrets, parts, 4, mac, 1, index, name, msg, msglen);
}

/* X-Slack-Signature: "v0=" + hex over "v0:" + X-Slack-Request-Timestamp
 * (seconds) + ":" + body. */
static enum verify_result verify_slack(const struct verify_request *req, const char *const *secrets,
                                       size_t n_secrets, int64_t now_ms, int64_t tol, size_t *index,
                                       char *msg, size_t msglen) {
    static const char name[] = "X-Slack-Signature";
    static const char ts_name[] = "X-Slack-Request-Timestamp";
    const char *sig, *ts;
    size_t sig_len, ts_len;
    enum verify_result r = find_header(req, name, &sig, &sig_len, msg, msglen);
    if (r == VERIFY_OK)
        r = find_header(req, ts_name, &ts, &ts_len, msg, msglen);
    if (r != VERIFY_OK)
        return r;
    unsigned char mac[1][MAC_BYTES];
    if (sig_len < 3 || memcmp(sig, "v0=", 3) != 0 || !decode_hex(sig + 3, sig_len - 3, mac[0])) {
        say(msg, msglen, "%s: not v0= and 64 hex digits", name);
        return VERIFY_MALFORMED_HEADER;
    }
    int64_t ts_s = 0;
    if (!parse_decimal(ts, ts_len, &ts_s) || ts_len > 12) {
        say(msg, msglen, "%s: not a Unix time in seconds", ts_name);
        return VERIFY_MALFORMED_HEADER;
    }
    r = check_time(ts_name, ts_s * 1000, now_ms, tol, msg, msglen);
    if (r != VERIFY_OK)
        return r;
    struct part parts[] = {{"v0:", 3}, {ts, ts_len}, {":", 1}, {req->body, req->body_len}};
    return match(secrets, n_secrets, parts, 4, mac, 1, index, name, msg, msglen);
}

enum verify_result verify_check(enum verify_provider provider, const struct verify_request *req,
                                const char *const *secrets, size_t n_secrets, int64_t now_ms,
                                int64_t tolerance_ms, size_t *secret_index, char *msg,
                                size_t msglen) {
    int64_t tol = tolerance_ms > 0 ? tolerance_ms : VERIFY_DEFAULT_TOLERANCE_MS;
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    switch (provider) {
    case VERIFY_STRIPE:
        return verify_stripe(req, secrets, n_secrets, now_ms, tol, secret_index, msg, msglen);
    case VERIFY_ZENDESK:
        return verify_zendesk(req, secrets, n_secrets, now_ms, tol, secret_index, msg, msglen);
    case VERIFY_HUBSPOT:
        return verify_hubspot(req, secrets, n_secrets, now_ms, tol, secret_index, msg, msglen);
    case VERIFY_SLACK:
        return verify_slack(req, secrets, n_secrets, now_ms, tol, secret_index, msg, msglen);
    }
    say(msg, msglen, "unknown provider");
    return VERIFY_MALFORMED_HEADER;
}

const char *verify_provider_name(enum verify_provider provider) {
    switch (provider) {
    case VERIFY_STRIPE:
        return "stripe";
    case VERIFY_ZENDESK:
        return "zendesk";
    case VERIFY_HUBSPOT:
        return "hubspot";
    case VERIFY_SLACK:
        return "slack";
    }
    return "unknown";
}

const char *verify_result_name(enum verify_result result) {
    switch (result) {
    case VERIFY_OK:
        return "ok";
    case VERIFY_MISSING_HEADER:
        return "missing header";
    case VERIFY_MALFORMED_HEADER:
        return "malformed header";
    case VERIFY_STALE_TIMESTAMP:
        return "stale timestamp";
    case VERIFY_BAD_SIGNATURE:
        return "bad signature";
    }
    return "unknown";
}
