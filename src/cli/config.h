/* config.h: tend.yaml for the commands.
 *
 * Loads the file given with --config (no file: the documented defaults),
 * refuses unknown top-level sections (a typo must not silently fall back to
 * defaults) and hands each section to the module that owns it. docs/config.md
 * lists the sections. */
#ifndef TEND_CLI_CONFIG_H
#define TEND_CLI_CONFIG_H

#include "analysis/model.h"
#include "core/health.h"
#include "core/rules.h"
#include "notify/config.h"
#include "server/config.h"

struct tend_config {
    struct health_config health;
    struct rules_config rules;   /* rules: and ctas: */
    struct notify_config notify; /* delivery:, channels: and routes: */
    struct serve_config serve;   /* serve: */
    struct model_config model;   /* model: */
};

/* Loads path (NULL: defaults) into *c, printing "tend CMD: reason" and
 * returning EXIT_USAGE on a mistake, 0 otherwise. */
int cli_load_config(const char *cmd, const char *path, struct tend_config *c);
/* Frees what loading allocated (compiled custom rules, delivery settings). */
void cli_free_config(struct tend_config *c);

#endif
