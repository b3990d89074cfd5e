/* connectors.h: the connectors: section of tend.yaml, the webhooks tend
 * takes from Stripe, Zendesk and HubSpot (docs/connectors.md).
 *
 *   connectors:
 *     retention_days: 30            # raw payloads kept for replay (1-3650)
 *     stripe:
 *       secrets_env: [STRIPE_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET_OLD]
 *       account_id_key: account_id  # the customer's metadata key
 *     zendesk:
 *       secrets_env: ZENDESK_WEBHOOK_SECRET
 *     hubspot:
 *       secrets_env: HUBSPOT_CLIENT_SECRET
 *       url: https://tend.example.com/hooks/hubspot   # the target URL set in HubSpot
 *       account_id_property: tend_account_id
 *       renewal_date_property: renewal_date
 *       arr_property: arr
 *       owners: {"31337": csm@example.com}
 *
 * A provider without a section is off: its /hooks/ path answers 404. The
 * secrets are never written in tend.yaml: secrets_env names environment
 * variables (one or several, for rotation), each read at load and required
 * to be set and non-empty. Unknown keys are refused with their path.
 *
 * Loading reads the environment; the loaded section is read-only and
 * shared by threads. */
#ifndef TEND_INGEST_CONNECTORS_H
#define TEND_INGEST_CONNECTORS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CONN_ERR_BYTES          384
#define CONN_MAX_SECRETS        4    /* secrets of one provider at once (rotation) */
#define CONN_MAX_OWNERS         1000 /* hubspot.owners entries */
#define CONN_NAME_BYTES         128  /* a metadata key or property name */
#define CONN_DEFAULT_RETENTION  30   /* days */
#define CONN_MAX_RETENTION_DAYS 3650

enum hook_provider { HOOK_STRIPE, HOOK_ZENDESK, HOOK_HUBSPOT, HOOK_PROVIDERS };

struct hook_owner {
    char *id, *email;
};

struct conn_provider {
    bool enabled;
    char *secrets[CONN_MAX_SECRETS];
    size_t n_secrets;
    /* stripe */
    char account_id_key[CONN_NAME_BYTES];
    /* hubspot */
    char *url;
    char account_id_property[CONN_NAME_BYTES];
    char renewal_date_property[CONN_NAME_BYTES];
    char arr_property[CONN_NAME_BYTES];
    struct hook_owner *owners;
    size_t n_owners;
};

struct connectors_config {
    int retention_days;
    struct conn_provider p[HOOK_PROVIDERS];
};

/* Every provider off, retention CONN_DEFAULT_RETENTION days. */
void connectors_config_default(struct connectors_config *c);
/* Loads connectors: (NULL: the default) into *c. On a mistake returns
 * TEND_ERR_INVALID with the path and the reason in err (CONN_ERR_BYTES),
 * e.g. "connectors.stripe.secrets_env: STRIPE_WEBHOOK_SECRET is not set",
 * and *c is left the default. */
enum tend_err connectors_config_load(const cJSON *section, struct connectors_config *c, char *err);
/* Frees what loading allocated; *c becomes the default. */
void connectors_config_release(struct connectors_config *c);
/* True when any provider is on. */
bool connectors_any(const struct connectors_config *c);

/* "stripe", "zendesk", "hubspot"; the provider of a name (false: none). */
const char *hook_provider_name(enum hook_provider p);
bool hook_provider_of(const char *name, enum hook_provider *p);
/* The email of a HubSpot owner id, or NULL. */
const char *connectors_owner_email(const struct conn_provider *p, const char *owner_id);

#endif
