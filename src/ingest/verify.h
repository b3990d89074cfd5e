/* verify.h: one signature check for every webhook provider tend accepts
 * (docs/connectors.md, "Signatures").
 *
 * Stripe, Zendesk, HubSpot (v3) and Slack all sign a request with
 * HMAC-SHA256 under a shared secret, each over a different string and with
 * a different header; this module is the one place that knows those four
 * recipes. The contract is the same for all of them: the raw body, the
 * request's headers (names case-insensitive), for HubSpot the method and the
 * URI, one or more secrets (so a secret can rotate: any secret that verifies
 * is accepted and its index reported), the current time in ms passed in and
 * a tolerance for the signed timestamp (stale and future both refused, which
 * is what makes a replayed request fail once the window has passed).
 *
 * Pure: no I/O, no clock, no allocation. Every comparison of a MAC is
 * constant-time (sodium_memcmp). A header value over VERIFY_MAX_HEADER_BYTES
 * is malformed, never copied. The caller must have called sodium_init().
 *
 * Not here: the HTTP routes, the inbox, the mappings (issue 19, later parts). */
#ifndef TEND_INGEST_VERIFY_H
#define TEND_INGEST_VERIFY_H

#include <stddef.h>
#include <stdint.h>

/* 5 minutes: what Stripe, HubSpot and Slack document. */
#define VERIFY_DEFAULT_TOLERANCE_MS (5 * 60 * 1000LL)
/* A signature header (or timestamp header) longer than this is malformed:
 * Stripe's header with t= and several v1= fits in well under 1 KiB. */
#define VERIFY_MAX_HEADER_BYTES 1024
/* At most this many v1= signatures in one Stripe-Signature header. */
#define VERIFY_MAX_STRIPE_V1 8
/* A HubSpot request URI longer than this is malformed. */
#define VERIFY_MAX_URI_BYTES 4096
/* Bytes of the message buffer that always hold a whole message. */
#define VERIFY_MSG_BYTES 160

enum verify_provider {
    VERIFY_STRIPE,
    VERIFY_ZENDESK,
    VERIFY_HUBSPOT,
    VERIFY_SLACK,
};

enum verify_result {
    VERIFY_OK = 0,
    VERIFY_MISSING_HEADER,   /* a header the provider always sends is absent */
    VERIFY_MALFORMED_HEADER, /* present but not in the provider's format, or too long */
    VERIFY_STALE_TIMESTAMP,  /* the signed timestamp is outside now +- tolerance */
    VERIFY_BAD_SIGNATURE,    /* well-formed, but no secret gives that signature */
};

/* One request header; name and value are NUL-terminated, borrowed. */
struct verify_header {
    const char *name;
    const char *value;
};

/* What was received. Everything is borrowed for the call. body may be NULL
 * when body_len is 0. method and uri are used by HubSpot only: the method as
 * sent ("POST") and the full URI HubSpot called, scheme and host included
 * ("https://example.com/hooks/hubspot?x=1"). */
struct verify_request {
    const unsigned char *body;
    size_t body_len;
    const struct verify_header *headers;
    size_t n_headers;
    const char *method;
    const char *uri;
};

/* Checks req's signature for provider against secrets[0..n_secrets) (each a
 * NUL-terminated string, used as the HMAC key byte for byte; NULL or empty
 * ones are skipped, never used as a key), at now_ms with
 * tolerance_ms (<= 0 means VERIFY_DEFAULT_TOLERANCE_MS). Returns VERIFY_OK
 * and sets *secret_index (if not NULL) to the first secret that verifies;
 * otherwise the problem, with *secret_index untouched. Writes a one-line
 * message naming the header and the problem into msg (msglen bytes; may be
 * NULL/0), also on success. The message never echoes a signature. */
enum verify_result verify_check(enum verify_provider provider, const struct verify_request *req,
                                const char *const *secrets, size_t n_secrets, int64_t now_ms,
                                int64_t tolerance_ms, size_t *secret_index, char *msg,
                                size_t msglen);

/* The provider's name ("stripe", ...) and the result's name ("ok",
 * "missing header", ...); static, never NULL. */
const char *verify_provider_name(enum verify_provider provider);
const char *verify_result_name(enum verify_result result);

#endif
