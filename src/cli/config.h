/* config.h: tend.yaml for the commands.
 *
 * Loads the file given with --config (no file: the documented defaults),
 * refuses unknown top-level sections (a typo must not silently fall back to
 * defaults) and hands each section to the module that owns it. docs/config.md
 * lists the sections. One top-level key is not a section: db, the database
 * (a SQLite path or file: URI, or a postgresql:// URL), the default of the
 * commands that take --config when neither --db nor TEND_DB says. */
#ifndef TEND_CLI_CONFIG_H
#define TEND_CLI_CONFIG_H

#include "analysis/model.h"
#include "core/escalate.h"
#include "core/health.h"
#include "core/kpi.h"
#include "core/rules.h"
#include "ingest/connectors.h"
#include "ingest/mapping.h"
#include "notify/config.h"
#include "notify/customer_config.h"
#include "server/config.h"
#include "server/slack_config.h"

/* The longest db: value, in bytes with its NUL. */
#define CLI_DB_BYTES 1024

struct tend_config {
    char db[CLI_DB_BYTES]; /* db:; "" when not given */
    struct health_config health;
    struct rules_config rules;           /* rules: and ctas: */
    struct notify_config notify;         /* delivery:, channels: and routes: */
    struct serve_config serve;           /* serve: */
    struct model_config model;           /* model: */
    struct customer_config customer;     /* customer_messages: */
    struct esc_config escalation;        /* escalation: */
    struct event_map events;             /* events: */
    struct connectors_config connectors; /* connectors: */
    struct slack_config slack;           /* slack: */
    struct kpi_config kpis;              /* kpis: */
};

/* Loads path (NULL: defaults) into *c, printing "tend CMD: reason" and
 * returning EXIT_USAGE on a mistake, 0 otherwise. */
int cli_load_config(const char *cmd, const char *path, struct tend_config *c);
/* The database of a command that reads tend.yaml: given (its --db; NULL
 * when not given), else TEND_DB when set and not empty, else c's db: when
 * given, else DEFAULT_DB (docs/cli.md). The result may point into c. */
const char *cli_db_pick(const char *given, const struct tend_config *c);
/* Frees what loading allocated (compiled custom rules, delivery settings). */
void cli_free_config(struct tend_config *c);

#endif
