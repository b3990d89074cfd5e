/* config.h: where notifications go: channels, routes and delivery settings.
 *
 * tend.yaml's delivery, channels and routes sections (docs/delivery.md),
 * loaded and checked as a whole, and the pure decisions made from them:
 * which (channel, target) pairs an event goes to and whether at once or in
 * the digest (notify_route), when the next attempt of a failed message is
 * due (notify_backoff_ms), and the instant of the latest daily digest
 * (notify_digest_cutoff_ms). No I/O, no clock: time comes in. */
#ifndef TEND_NOTIFY_CONFIG_H
#define TEND_NOTIFY_CONFIG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define NOTIFY_ERR_BYTES    320
#define NOTIFY_MAX_CHANNELS 32
#define NOTIFY_MAX_ROUTES   64
#define NOTIFY_MAX_MATCH    32 /* values of one match key */
#define NOTIFY_NAME_BYTES   64
#define NOTIFY_TARGETS_MAX  (NOTIFY_MAX_CHANNELS)

enum notify_kind { NOTIFY_SLACK, NOTIFY_EMAIL, NOTIFY_WEBHOOK, NOTIFY_LOG };

/* The CTA events that can notify (SPEC 6). */
/* NOTIFY_HELD: the weekly budget held a CTA back instead of opening it
 * (docs/rules.md, Budget); it goes to its owner's digest, never alone. */
enum notify_event {
    NOTIFY_OPEN,
    NOTIFY_RAISE,
    NOTIFY_RESOLVE,
    NOTIFY_WAKE,
    NOTIFY_HELD,
    NOTIFY_EXPIRE, /* closed: nobody acted on it by its due day and the grace */
    /* Escalated to the owner's manager (core/escalate.h): sent at once,
     * never in a digest, whatever delivery.events lists (the escalation
     * section turns it on and off). */
    NOTIFY_ESCALATE,
    NOTIFY_EVENT_COUNT
};

/* STARTTLS policy of an smtp:// channel (?tls=...). */
enum notify_tls { NOTIFY_TLS_REQUIRED, NOTIFY_TLS_TRY, NOTIFY_TLS_OFF };

/* A name -> value pair (Slack owners' webhooks, slack_users). */
struct notify_pair {
    char *name;
    char *value;
};

struct notify_channel {
    char name[NOTIFY_NAME_BYTES];
    enum notify_kind kind;
    char *url; /* slack, webhook, email (smtp:// or smtps://, without ?tls=) */
    enum notify_tls tls;
    struct notify_pair *owners; /* slack: an owner's own webhook */
    size_t n_owners;
    char *from, *to;           /* email; to NULL: the owner */
    char *username, *password; /* email, optional */
    char *secret;              /* webhook signing key, optional */
    char *path;                /* log */
    char *unset; /* "channels.X.Y_env: ... not set": a secret to send with is missing */
};

/* A route: when every listed condition holds, the event goes to channels. */
enum notify_match {
    MATCH_PRIORITY,
    MATCH_TYPE,
    MATCH_RULE,
    MATCH_SEGMENT,
    MATCH_EVENT,
    MATCH_KEYS
};
struct notify_route {
    char *match[MATCH_KEYS][NOTIFY_MAX_MATCH]; /* malloced values; none listed: any */
    int n_match[MATCH_KEYS];
    int channels[NOTIFY_MAX_CHANNELS]; /* indexes into notify_config.channels */
    int n_channels;
    bool digest;
};

struct notify_config {
    struct notify_channel channels[NOTIFY_MAX_CHANNELS];
    int n_channels;
    struct notify_route routes[NOTIFY_MAX_ROUTES];
    int n_routes;
    bool has_routes; /* false: every event to every channel, low ones as digest */
    bool events[NOTIFY_EVENT_COUNT];
    char *base_url;
    char *fallback_owner;
    struct notify_pair *slack_users;
    size_t n_slack_users;
    int32_t max_age_days;
    int digest_hour;
    char *digest_timezone; /* IANA name */
    int max_attempts;
    int64_t retry_base_ms, retry_max_ms;
    int64_t timeout_ms;        /* an attempt, up to the end of an email's text */
    int64_t data_timeout_ms;   /* the mail server's answer to a whole message (RFC 5321: 10 min) */
    int64_t slack_interval_ms; /* from one Slack answer to the next message, per webhook */
    bool slack_actions;        /* Slack messages carry the CTA's action buttons: set by the caller
                                  when tend.yaml has a slack: section (server/slack_config.h) */
};

/* The defaults: no channels (nothing is written to the outbox). */
void notify_config_default(struct notify_config *c);
/* Loads the three sections (each may be NULL); a url_env, password_env or
 * secret_env is read from the environment now, and one that is not set is
 * left for notify_config_ready() to refuse (routing does not need it). On a
 * mistake returns TEND_ERR_INVALID with
 * "SECTION.PATH: problem" in err (NOTIFY_ERR_BYTES); c is then released. */
enum tend_err notify_config_load(const cJSON *delivery, const cJSON *channels, const cJSON *routes,
                                 struct notify_config *c, char *err);
/* TEND_ERR_INVALID with the path in err when a channel lacks a secret it
 * sends with (an *_env variable not set): checked before sending. */
enum tend_err notify_config_ready(const struct notify_config *c, char *err);
/* Frees what loading allocated; accepts a defaulted config. */
void notify_config_release(struct notify_config *c);

const char *notify_event_name(enum notify_event e);
const char *notify_kind_name(enum notify_kind k);
/* The channel named name, or NULL. */
const struct notify_channel *notify_channel_find(const struct notify_config *c, const char *name);

/* What routing needs to know of an event. Strings may be NULL. */
struct notify_subject {
    enum notify_event event;
    const char *priority; /* "high", "medium", "low" */
    const char *type;
    const char *rule;
    const char *segment;
    const char *owner; /* the CTA's owner */
};

/* One message to write to the outbox. */
struct notify_target {
    int channel;      /* index into c->channels */
    char target[320]; /* email address, Slack owner with a webhook of their own, or "" */
    bool digest;
    const char *error; /* set: no address; the row is written dead with this reason */
};

/* Fills out (up to NOTIFY_TARGETS_MAX) with where the event goes; returns
 * how many. Each channel appears once; immediate beats digest. */
int notify_route(const struct notify_config *c, const struct notify_subject *s,
                 struct notify_target *out);

/* The Slack user id to mention for owner: the configured slack_users entry,
 * else account_slack (the account's csm_slack, given when owner is the
 * account's csm_email), else NULL. */
const char *notify_slack_user(const struct notify_config *c, const char *owner,
                              const char *account_slack);

/* The address an email of owner goes to in channel ch: the channel's fixed
 * to, the owner when an address, else the fallback owner; NULL when none. */
const char *notify_email_to(const struct notify_config *c, const struct notify_channel *ch,
                            const char *owner);

/* The webhook URL of a Slack channel for target (an owner with one of their
 * own, or "" for the channel's). NULL when none. */
const char *notify_slack_url(const struct notify_channel *ch, const char *target);

/* The delay before the attempt after `failures` failed ones: equal jitter
 * over min(max, base * 2^(failures-1)); random01 in [0, 1). */
int64_t notify_backoff_ms(const struct notify_config *c, int failures, double random01);

/* Urgency of an outbox row: due rows go out lowest rank first, within each
 * destination's limits. A CTA event sent at once ranks by its priority
 * (high 0, medium 1, low 2); a digest is NOTIFY_RANK_DIGEST; the event of an
 * evaluation of a past day (backfill: a replay, a catch-up after downtime)
 * comes after both, again by priority. */
#define NOTIFY_RANK_DIGEST 3
int notify_rank(const char *priority, bool backfill);

/* The latest digest instant (digest_hour:00 local time in the configured
 * time zone) at or before now_ms. */
int64_t notify_digest_cutoff_ms(const struct notify_config *c, int64_t now_ms);

#endif
