/* segment.h: validation of Segment messages (SPEC 1).
 *
 * segment_parse_msg() checks one message, already parsed by cJSON, against the
 * Segment spec and tend's event vocabulary, and fills a struct seg_msg with
 * everything later stages need: the user, the account hints, the effective
 * time, the deduplication key and the typed facts of a meaningful event (an
 * NPS score, an invoice's amount and due date, ...). It knows nothing of the
 * store: whether the account exists or the message is a duplicate is decided by
 * ingest.c. It is pure apart from reading the JSON tree, and it never crashes on
 * unknown types or fields: unknown fields are kept, unknown types are refused
 * with a message.
 *
 * Errors name the field and what was wrong, e.g.
 *   "properties.score: must be a number from 0 to 10, got \"ten\"".
 *
 * What text is accepted (UTF-8, NUL, control characters) is text.h's rule;
 * which instants and dates are accepted is the windows below, written down
 * in docs/ingest.md ("Time windows"). */
#ifndef TEND_INGEST_SEGMENT_H
#define TEND_INGEST_SEGMENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/vocab.h"
#include "util/err.h"

/* Segment's published limits, which tend keeps. */
#define SEG_MAX_MESSAGE_BYTES (32 * 1024)
#define SEG_MAX_REQUEST_BYTES (500 * 1024)
/* Longest id (userId, groupId, messageId, ...) or event name accepted. */
#define SEG_MAX_ID_BYTES 1024
#define SEG_ERR_BYTES    320
/* Subscription Changed: mrr_before and mrr_after from 0 to SEG_MAX_MRR (the
 * mrr trait's bound), a reason of at most SEG_MAX_REASON_BYTES: a short name
 * that reports group by ("seats added", "downgrade"), not a note. */
#define SEG_MAX_MRR          1e15
#define SEG_MAX_REASON_BYTES 200

/* Time windows. A timestamp (or a CSV row's as_of) must lie from
 * 2000-01-01T00:00:00Z to SEG_MAX_AHEAD_MS after the time tend received it:
 * a login dated 0001 or 9999 is a broken clock or a typo, and would set
 * days_since_login to 739,956 or below zero. Dates a message states are
 * checked against its timestamp: due_date from 1 year before to 10 years
 * after; renewal_date 10 years either side; a card's expiry year from the
 * year before to 20 years after; created_at from 1970 to a day after the
 * receive time. */
#define SEG_MIN_TIME_MS       946684800000LL /* 2000-01-01T00:00:00Z */
#define SEG_MAX_AHEAD_MS      86400000LL     /* 1 day */
#define SEG_DUE_YEARS_BEFORE  1
#define SEG_DUE_YEARS_AFTER   10
#define SEG_RENEWAL_YEARS     10
#define SEG_CARD_YEARS_BEFORE 1
#define SEG_CARD_YEARS_AFTER  20

enum seg_type { SEG_TRACK, SEG_IDENTIFY, SEG_GROUP, SEG_PAGE, SEG_SCREEN, SEG_ALIAS };

/* A validated message. Every pointer points into the cJSON tree it was parsed
 * from (numeric ids are rewritten in that tree as strings; group_id may point
 * into the batch's context), so it lives exactly as long as that tree. */
struct seg_msg {
    enum seg_type type;
    enum event_kind kind;     /* what the message means (EV_* of vocab.h) */
    const char *user_id;      /* userId, or NULL */
    const char *anonymous_id; /* anonymousId, or NULL; one of the two is set */
    const char *message_id;   /* messageId, or NULL */
    const char *group_id;     /* group: groupId; others: context.groupId; or NULL */
    const char *account_hint; /* track/page/screen: properties.account_id, or NULL */
    const char *company_id;   /* identify: company.id, company_id or accountExternalId */
    const char *event;        /* track: event; page/screen: name; or NULL */
    const char *previous_id;  /* alias: previousId */
    cJSON *properties;        /* track/page/screen: properties object, or NULL */
    cJSON *traits;            /* identify/group: traits object, or NULL */
    int64_t ts_ms;            /* timestamp, else the time it was received */
    bool has_timestamp;       /* false when ts_ms is the receive time */
    /* Deduplication key: (timestamp as sent or 0, 64-bit hash of messageId, or
     * of the message's text when it has none). See docs/ingest.md. */
    int64_t key_ts_ms;
    uint64_t key_hash;
    /* Facts of a meaningful track event, by kind (see docs/events.md):
     * subject: ticket_id, invoice_id, goal_id, milestone, outreach channel,
     *          feature product, card expiry "YYYY-MM";
     * detail:  Goal Set feature, outcome reason, ticket priority;
     * num:     NPS score, invoice amount, outcome arr;
     * day:     due_date, last day of the card's expiry month. */
    const char *subject;
    const char *detail;
    double num;
    bool has_num;
    int32_t day;
    bool has_day;
    /* The properties (or traits) as JSON text, when the caller serialised them
     * already (segment_serialize_body); NULL makes ingest serialise them. */
    char *body_json;
};

/* Validates item, one message. batch_context, if not NULL, is the context of
 * the batch it came in: it counts as merged into the item's context (the
 * item's own keys win); only its groupId is read. Numeric ids are rewritten
 * in item as strings (see seg_msg). received_ms is the receive time, used when
 * the message has no timestamp and for the time windows above. raw/raw_len,
 * if raw is not NULL, are the message's exact text (a JSONL line), used for
 * the size limit and the content hash; otherwise the item is serialised for
 * both. A tree from text_parse_json() (text.h) gets NUL checked too.
 * On success fills *out and returns TEND_OK. On failure returns TEND_ERR_INVALID
 * or TEND_ERR_LIMIT with a message naming the field in err (SEG_ERR_BYTES). */
enum tend_err segment_parse_msg(cJSON *item, const cJSON *batch_context, int64_t received_ms,
                                const char *raw, size_t raw_len, struct seg_msg *out, char *err);

/* Checks the known account traits of SPEC 1 in a traits object (group call or
 * accounts CSV): name (free text), plan, csm_email, csm_slack, segment strings
 * without control characters; mrr a number >= 0; seats an integer >= 0;
 * renewal_date a date and created_at a date or instant, in their windows
 * around ts_ms (the message's time) and received_ms; premium_products an
 * array of strings without control characters. null unsets a trait. Numbers
 * written as strings are accepted for mrr and seats. Other traits are free.
 * prefix starts every path ("traits."). The text of every value is not
 * checked here (text_check_tree does). Returns TEND_ERR_INVALID with the
 * field in err (SEG_ERR_BYTES). */
enum tend_err segment_check_account_traits(cJSON *traits, const char *prefix, int64_t ts_ms,
                                           int64_t received_ms, char *err);

/* Checks that the instant ms lies in the timestamp window (SEG_MIN_TIME_MS to
 * received_ms + SEG_MAX_AHEAD_MS). Returns TEND_ERR_INVALID with "PATH: ...
 * outside the accepted window ..." in err (SEG_ERR_BYTES). */
enum tend_err segment_check_time(int64_t ms, const char *path, int64_t received_ms, char *err);

/* Serialises the message's properties (or traits) into m->body_json
 * (malloced with cJSON's allocator; cJSON_free it), so that work can run on
 * a thread other than the writer's. Leaves NULL when there are none. */
void segment_serialize_body(struct seg_msg *m);

/* Name of a message type ("track", ...). */
const char *segment_type_name(enum seg_type type);

#endif
