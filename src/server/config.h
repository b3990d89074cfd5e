/* config.h: tend.yaml's serve section: where tend serve listens, its clock,
 * who may sign in and which tokens and write keys it accepts.
 *
 * Loaded and checked as a whole (docs/dashboard.md): a mistake is named by
 * its path ("serve.users[1].password_hash: ..."). Secrets can come from the
 * environment (*_env); an unset variable is an error here, since tend serve
 * cannot run without what it names. */
#ifndef TEND_SERVER_CONFIG_H
#define TEND_SERVER_CONFIG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/permissions.h"
#include "util/err.h"

#define SERVE_ERR_BYTES          320
#define SERVE_DEFAULT_LISTEN     "127.0.0.1:8088"
#define SERVE_HASH_BYTES         32  /* SHA-256 of a token */
#define SERVE_EMAIL_MAX_BYTES    320 /* an email address, at most */
#define SERVE_SIGN_IN_PER_MINUTE 30  /* the default of serve.sign_in_per_minute */
/* A tend.yaml user without role: and a token without scope: keep what they
 * could do before roles existed: read and act on everything (lead, act);
 * managing people and the audit log needs role: admin or scope: admin. */
#define SERVE_DEFAULT_ROLE  PERM_ROLE_LEAD
#define SERVE_DEFAULT_SCOPE PERM_SCOPE_ACT

struct serve_user {
    char *email;
    char *name;          /* display name; the email when not given */
    char *hash;          /* argon2id, crypto_pwhash_str format */
    enum perm_role role; /* role:, SERVE_DEFAULT_ROLE when not given */
    char *slack_user_id; /* their Slack member id ("U012AB3CD"), or NULL: found by email
                            (docs/slack.md) */
    bool disabled;       /* may neither sign in nor act from Slack */
};

struct serve_token {
    char *name;
    unsigned char sha256[SERVE_HASH_BYTES];
    enum perm_scope scope; /* scope:, SERVE_DEFAULT_SCOPE when not given */
};

/* serve.sso: single sign-on with an OpenID Connect provider (web_sso.c). */
struct serve_sso {
    char *issuer; /* https://..., or http:// on a loopback host */
    char *client_id;
    char *client_secret; /* from client_secret or client_secret_env */
    char *redirect_url;  /* tend's https://HOST/sso/callback, as registered */
    char *label;         /* the button's words: "Sign in with single sign-on" */
    bool has_default_role;
    enum perm_role default_role; /* a person the provider vouches for, unknown to tend */
};

struct serve_config {
    char *listen;      /* NULL: SERVE_DEFAULT_LISTEN */
    char *timezone;    /* IANA name; "UTC" by default */
    int daily_minute;  /* minutes after local midnight of the daily evaluation */
    char **write_keys; /* from write_keys and write_keys_env */
    size_t n_write_keys;
    struct serve_user *users;
    size_t n_users;
    struct serve_token *tokens;
    size_t n_tokens;
    int session_hours;
    char *session_key;      /* from session_key_env, or NULL: the key file */
    int sign_in_per_minute; /* sign-in attempts a minute per client address; 0: no limit */
    bool csm_own_book_only; /* csm_reads: own_book (default all) */
    struct serve_sso *sso;  /* NULL: no single sign-on */
};

/* The defaults: UTC, 06:00, sessions of 12 hours, SERVE_SIGN_IN_PER_MINUTE
 * sign-in attempts a minute per address, no users, tokens or keys. */
void serve_config_default(struct serve_config *c);
/* Loads the serve section (NULL: defaults). On a mistake returns
 * TEND_ERR_INVALID with "serve.PATH: problem" in err (SERVE_ERR_BYTES); c is
 * then released. */
enum tend_err serve_config_load(const cJSON *section, struct serve_config *c, char *err);
void serve_config_release(struct serve_config *c);

/* Adds a write key (a --write-key flag, TEND_WRITE_KEY). */
void serve_config_add_key(struct serve_config *c, const char *key);

#endif
