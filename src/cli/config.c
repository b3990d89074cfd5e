/* config.c: loading tend.yaml (see config.h). */
#include "cli/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/playbook.h"
#include "util/yaml.h"

static const char *const known_sections[] = {
    "db",       "health",     "rules",  "ctas",       "delivery",
    "channels", "routes",     "serve",  "model",      "customer_messages",
    "segments", "escalation", "events", "connectors", "slack",
    "kpis",     "playbooks"};

const char *cli_db_pick(const char *given, const struct tend_config *c) {
    if (given)
        return given;
    const char *env = getenv("TEND_DB");
    if (env && env[0])
        return env;
    return c && c->db[0] ? c->db : DEFAULT_DB;
}

/* db: (config.h), into c->db; prints the mistake and returns EXIT_USAGE. */
static int load_db(const char *cmd, const char *path, const cJSON *v, struct tend_config *c) {
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        fprintf(stderr,
                "tend %s: %s: db: must be text: a SQLite path or file: URI, or a "
                "postgresql:// URL (quote a name YAML would read as a number)\n",
                cmd, path);
        return EXIT_USAGE;
    }
    if (strlen(v->valuestring) >= sizeof c->db) {
        fprintf(stderr, "tend %s: %s: db: longer than the limit of %d bytes\n", cmd, path,
                CLI_DB_BYTES - 1);
        return EXIT_USAGE;
    }
    snprintf(c->db, sizeof c->db, "%s", v->valuestring);
    return 0;
}

int cli_load_config(const char *cmd, const char *path, struct tend_config *c) {
    c->db[0] = '\0';
    health_config_default(&c->health);
    rules_config_default(&c->rules);
    notify_config_default(&c->notify);
    customer_config_default(&c->customer);
    serve_config_default(&c->serve);
    model_config_default(&c->model);
    esc_config_default(&c->escalation);
    event_map_default(&c->events);
    connectors_config_default(&c->connectors);
    slack_config_default(&c->slack);
    kpi_config_default(&c->kpis);
    if (!path)
        return 0;
    cJSON *root;
    char err[YAML_ERR_BYTES];
    if (yaml_load_file(path, &root, err)) {
        fprintf(stderr, "tend %s: %s\n", cmd, err);
        return EXIT_USAGE;
    }
    int rc = 0;
    if (!cJSON_IsObject(root)) {
        fprintf(stderr, "tend %s: %s: must be a mapping of sections (health, ...)\n", cmd, path);
        rc = EXIT_USAGE;
        goto done;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, root) {
        size_t i;
        for (i = 0; i < sizeof known_sections / sizeof known_sections[0]; i++) {
            if (strcmp(kv->string, known_sections[i]) == 0)
                break;
        }
        if (i == sizeof known_sections / sizeof known_sections[0]) {
            fprintf(stderr,
                    "tend %s: %s: unknown section \"%s\" (known: db, health, rules, ctas, "
                    "delivery, channels, routes, serve, model, customer_messages, segments, "
                    "escalation, events, connectors, slack, kpis, playbooks)\n",
                    cmd, path, kv->string);
            rc = EXIT_USAGE;
            goto done;
        }
    }
    if ((rc = load_db(cmd, path, cJSON_GetObjectItemCaseSensitive(root, "db"), c)))
        goto done;
    char herr[HEALTH_ERR_BYTES];
    if (health_config_load(cJSON_GetObjectItemCaseSensitive(root, "health"), &c->health, herr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, herr);
        rc = EXIT_USAGE;
        goto done;
    }
    char rerr[RULES_ERR_BYTES];
    if (rules_config_load(cJSON_GetObjectItemCaseSensitive(root, "rules"),
                          cJSON_GetObjectItemCaseSensitive(root, "ctas"), &c->rules, rerr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, rerr);
        rc = EXIT_USAGE;
        goto done;
    }
    char gerr[SEG_ERR_BYTES];
    if (seg_config_load(cJSON_GetObjectItemCaseSensitive(root, "segments"), &c->rules.segments,
                        gerr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, gerr);
        rules_config_release(&c->rules);
        rc = EXIT_USAGE;
        goto done;
    }
    char nerr[NOTIFY_ERR_BYTES];
    if (notify_config_load(cJSON_GetObjectItemCaseSensitive(root, "delivery"),
                           cJSON_GetObjectItemCaseSensitive(root, "channels"),
                           cJSON_GetObjectItemCaseSensitive(root, "routes"), &c->notify, nerr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, nerr);
        rules_config_release(&c->rules);
        rc = EXIT_USAGE;
        goto done;
    }
    if (customer_config_load(cJSON_GetObjectItemCaseSensitive(root, "customer_messages"),
                             &c->notify, &c->customer, nerr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, nerr);
        rules_config_release(&c->rules);
        notify_config_release(&c->notify);
        rc = EXIT_USAGE;
        goto done;
    }
    char serr[SERVE_ERR_BYTES];
    if (serve_config_load(cJSON_GetObjectItemCaseSensitive(root, "serve"), &c->serve, serr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, serr);
        rules_config_release(&c->rules);
        notify_config_release(&c->notify);
        customer_config_release(&c->customer);
        rc = EXIT_USAGE;
        goto done;
    }
    char merr[256];
    if (model_config_load(cJSON_GetObjectItemCaseSensitive(root, "model"), &c->model, merr,
                          sizeof merr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, merr);
        cli_free_config(c);
        rc = EXIT_USAGE;
        goto done;
    }
    char kerr[KPI_ERR_BYTES]; /* the KPI board (core/kpi.h) */
    if (kpi_config_load(cJSON_GetObjectItemCaseSensitive(root, "kpis"), &c->kpis, kerr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, kerr);
        cli_free_config(c);
        rc = EXIT_USAGE;
        goto done;
    }
    char eerr[ESC_ERR_BYTES];
    if (esc_config_load(cJSON_GetObjectItemCaseSensitive(root, "escalation"), &c->escalation,
                        eerr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, eerr);
        cli_free_config(c);
        rc = EXIT_USAGE;
        goto done;
    }
    char verr[MAP_ERR_BYTES];
    if (event_map_load(cJSON_GetObjectItemCaseSensitive(root, "events"), &c->events, verr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, verr);
        cli_free_config(c);
        rc = EXIT_USAGE;
        goto done;
    }
    char perr[PLAYBOOK_ERR_BYTES];
    if (playbook_set_load(cJSON_GetObjectItemCaseSensitive(root, "playbooks"), &c->rules,
                          &c->rules.playbooks, perr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, perr);
        cli_free_config(c);
        rc = EXIT_USAGE;
        goto done;
    }
    char cerr[CONN_ERR_BYTES];
    if (connectors_config_load(cJSON_GetObjectItemCaseSensitive(root, "connectors"), &c->connectors,
                               cerr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, cerr);
        cli_free_config(c);
        rc = EXIT_USAGE;
        goto done;
    }
    char slerr[SLACK_ERR_BYTES];
    if (slack_config_load(cJSON_GetObjectItemCaseSensitive(root, "slack"), &c->slack, slerr)) {
        fprintf(stderr, "tend %s: %s: %s\n", cmd, path, slerr);
        cli_free_config(c);
        rc = EXIT_USAGE;
        goto done;
    }
    c->notify.slack_actions = c->slack.enabled; /* the buttons need the app (docs/slack.md) */
done:
    cJSON_Delete(root);
    return rc;
}

void cli_free_config(struct tend_config *c) {
    playbook_set_free(c->rules.playbooks);
    c->rules.playbooks = NULL;
    rules_config_release(&c->rules);
    notify_config_release(&c->notify);
    customer_config_release(&c->customer);
    serve_config_release(&c->serve);
    esc_config_release(&c->escalation);
    event_map_release(&c->events);
    connectors_config_release(&c->connectors);
    slack_config_release(&c->slack);
}
