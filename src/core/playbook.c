/* playbook.c: the playbooks of tend.yaml (see playbook.h). */
#include "core/playbook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/yaml.h"

static bool rule_known(const struct rules_config *rc, const char *name) {
    for (int i = 0; rc && i < rc->n_rules; i++)
        if (strcmp(rc->rules[i].name, name) == 0)
            return true;
    return false;
}

/* One step: a mapping {id, title}. */
static enum tend_err load_step(const cJSON *v, const char *path, struct playbook *pb, char *err) {
    static const char *const known[] = {"id", "title", NULL};
    if (!cJSON_IsObject(v))
        return yaml_error(err, PLAYBOOK_ERR_BYTES, path, "must be a mapping with id and title");
    enum tend_err e = yaml_known_keys(v, path, known, err, PLAYBOOK_ERR_BYTES);
    if (e)
        return e;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(v, "title");
    size_t n = cJSON_IsString(id) ? strlen(id->valuestring) : 0;
    if (n == 0 || n >= PLAYBOOK_ID_BYTES ||
        strspn(id->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
        return yaml_error(err, PLAYBOOK_ERR_BYTES, path,
                          "id: must be a word of a-z, 0-9, _ and - (1 to %d characters)",
                          PLAYBOOK_ID_BYTES - 1);
    for (int i = 0; i < pb->n_steps; i++)
        if (strcmp(pb->steps[i].id, id->valuestring) == 0)
            return yaml_error(err, PLAYBOOK_ERR_BYTES, path, "id: \"%s\" is used twice",
                              id->valuestring);
    if (!cJSON_IsString(title) || !title->valuestring[0] ||
        strlen(title->valuestring) > PLAYBOOK_TITLE_MAX)
        return yaml_error(err, PLAYBOOK_ERR_BYTES, path, "title: must be text of 1 to %d bytes",
                          PLAYBOOK_TITLE_MAX);
    struct playbook_step *st = &pb->steps[pb->n_steps++];
    snprintf(st->id, sizeof st->id, "%s", id->valuestring);
    st->title = xstrdup(title->valuestring);
    return TEND_OK;
}

enum tend_err playbook_set_load(const cJSON *section, const struct rules_config *rc,
                                struct playbook_set **out, char *err) {
    *out = NULL;
    if (!section || cJSON_IsNull(section))
        return TEND_OK;
    if (!cJSON_IsObject(section))
        return yaml_error(err, PLAYBOOK_ERR_BYTES, "playbooks",
                          "must be a mapping of rule names to their steps");
    int n = cJSON_GetArraySize(section);
    if (n == 0)
        return TEND_OK;
    if (n > RULES_MAX)
        return yaml_error(err, PLAYBOOK_ERR_BYTES, "playbooks", "at most %d playbooks", RULES_MAX);
    struct playbook_set *set = xcalloc(1, sizeof *set);
    set->v = xcalloc((size_t)n, sizeof *set->v);
    const cJSON *kv;
    enum tend_err e = TEND_OK;
    cJSON_ArrayForEach(kv, section) {
        char path[160];
        snprintf(path, sizeof path, "playbooks.%.60s", kv->string);
        if (!rule_known(rc, kv->string)) {
            e = yaml_error(err, PLAYBOOK_ERR_BYTES, path,
                           "no such rule (a playbook belongs to a rule of rules:)");
            break;
        }
        if (!cJSON_IsArray(kv) || cJSON_GetArraySize(kv) == 0) {
            e = yaml_error(err, PLAYBOOK_ERR_BYTES, path,
                           "must be a list of steps, each with id and title");
            break;
        }
        if (cJSON_GetArraySize(kv) > PLAYBOOK_MAX_STEPS) {
            e = yaml_error(err, PLAYBOOK_ERR_BYTES, path, "at most %d steps", PLAYBOOK_MAX_STEPS);
            break;
        }
        struct playbook *pb = &set->v[set->n++];
        snprintf(pb->rule, sizeof pb->rule, "%s", kv->string);
        const cJSON *step;
        int i = 0;
        cJSON_ArrayForEach(step, kv) {
            char spath[200];
            snprintf(spath, sizeof spath, "%s[%d]", path, i++);
            if ((e = load_step(step, spath, pb, err)))
                break;
        }
        if (e)
            break;
    }
    if (e) {
        playbook_set_free(set);
        return e;
    }
    *out = set;
    return TEND_OK;
}

void playbook_set_free(struct playbook_set *set) {
    if (!set)
        return;
    for (int i = 0; i < set->n; i++)
        for (int k = 0; k < set->v[i].n_steps; k++)
            free(set->v[i].steps[k].title);
    free(set->v);
    free(set);
}

const struct playbook *playbook_of(const struct playbook_set *set, const char *rule) {
    for (int i = 0; set && rule && i < set->n; i++)
        if (strcmp(set->v[i].rule, rule) == 0)
            return &set->v[i];
    return NULL;
}

const struct playbook_step *playbook_step(const struct playbook *pb, const char *id) {
    for (int i = 0; pb && id && i < pb->n_steps; i++)
        if (strcmp(pb->steps[i].id, id) == 0)
            return &pb->steps[i];
    return NULL;
}
