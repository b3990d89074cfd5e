/* kpi.c: the KPI board's configuration (see kpi.h). */
#include "core/kpi.h"

#include <stdio.h>
#include <string.h>

#include "util/yaml.h"

static const struct {
    const char *name, *title;
    bool higher_better;
} kpis[KPI_COUNT] = {
    [KPI_CTAS_OPENED] = {"ctas_opened", "CTAs opened", false},
    [KPI_ACTED_SHARE] = {"acted_share", "CTAs acted on", true},
    [KPI_MEDIAN_DAYS_TO_ACTION] = {"median_days_to_action", "Days to first action (median)", false},
    [KPI_P90_DAYS_TO_ACTION] = {"p90_days_to_action", "Days to first action (90th pct)", false},
    [KPI_OVERDUE_SHARE] = {"overdue_share", "CTAs overdue", false},
    [KPI_CLOSED_BY_PERSON_SHARE] = {"closed_by_person_share", "CTAs closed with a reason", true},
    [KPI_EXPIRED_SHARE] = {"expired_share", "CTAs expired", false},
    [KPI_CONTACTS_PER_ACCOUNT] = {"contacts_per_account", "Contacts per account a week", true},
    [KPI_COVERAGE_4W] = {"coverage_4w", "Accounts touched in 4 weeks", true},
    [KPI_HEALTH_MEAN] = {"health_mean", "Health score (mean)", true},
    [KPI_RED_SHARE] = {"red_share", "Accounts in the red band", false},
    [KPI_LOGINS_PER_ACTIVE_USER] = {"logins_per_active_user", "Logins a week per active user",
                                    true},
    [KPI_NPS_MEAN] = {"nps_mean", "NPS (mean of accounts)", true},
    [KPI_TICKETS_PER_ACCOUNT] = {"tickets_per_account", "Tickets in 30 days per account", false},
    [KPI_OPEN_CTAS_PER_ACCOUNT] = {"open_ctas_per_account", "Open CTAs per account", false},
};

const char *kpi_name(enum kpi_id id) {
    return id >= 0 && id < KPI_COUNT ? kpis[id].name : "?";
}

const char *kpi_default_title(enum kpi_id id) {
    return id >= 0 && id < KPI_COUNT ? kpis[id].title : "?";
}

bool kpi_higher_is_better(enum kpi_id id) {
    return id >= 0 && id < KPI_COUNT && kpis[id].higher_better;
}

bool kpi_is_process(enum kpi_id id) {
    return id < KPI_HEALTH_MEAN;
}

static void add(struct kpi_config *c, enum kpi_id id, const char *title) {
    c->v[c->n].id = id;
    snprintf(c->v[c->n].title, KPI_TITLE_BYTES, "%s", title ? title : kpi_default_title(id));
    c->n++;
}

void kpi_config_default(struct kpi_config *c) {
    c->n = 0;
    static const enum kpi_id defaults[] = {KPI_OVERDUE_SHARE,        KPI_MEDIAN_DAYS_TO_ACTION,
                                           KPI_CONTACTS_PER_ACCOUNT, KPI_COVERAGE_4W,
                                           KPI_HEALTH_MEAN,          KPI_RED_SHARE};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        add(c, defaults[i], NULL);
}

static bool parse_name(const char *s, enum kpi_id *out) {
    for (int i = 0; s && i < KPI_COUNT; i++)
        if (strcmp(s, kpis[i].name) == 0) {
            *out = (enum kpi_id)i;
            return true;
        }
    return false;
}

static void known(char *out, size_t size) {
    out[0] = '\0';
    for (int i = 0; i < KPI_COUNT; i++) {
        strncat(out, i ? ", " : "", size - strlen(out) - 1);
        strncat(out, kpis[i].name, size - strlen(out) - 1);
    }
}

enum tend_err kpi_config_load(const cJSON *section, struct kpi_config *c, char *err) {
    kpi_config_default(c);
    if (!section)
        return TEND_OK;
    if (!cJSON_IsArray(section))
        return yaml_error(err, KPI_ERR_BYTES, "kpis", "must be a list of KPI names");
    int n = cJSON_GetArraySize(section);
    if (n > KPI_MAX)
        return yaml_error(err, KPI_ERR_BYTES, "kpis",
                          "at most %d KPIs (%d given): a board of a few numbers is read, one "
                          "of many is not",
                          KPI_MAX, n);
    if (n == 0)
        return yaml_error(err, KPI_ERR_BYTES, "kpis", "must name at least one KPI");
    c->n = 0;
    const cJSON *item;
    int i = 0;
    cJSON_ArrayForEach(item, section) {
        char path[32];
        snprintf(path, sizeof path, "kpis[%d]", i++);
        const cJSON *name = item, *title = NULL;
        if (cJSON_IsObject(item)) {
            const cJSON *kv;
            cJSON_ArrayForEach(kv, item) {
                if (strcmp(kv->string, "kpi") != 0 && strcmp(kv->string, "title") != 0)
                    return yaml_error(err, KPI_ERR_BYTES, path,
                                      "unknown setting \"%s\" (known: kpi, title)", kv->string);
            }
            name = cJSON_GetObjectItemCaseSensitive(item, "kpi");
            title = cJSON_GetObjectItemCaseSensitive(item, "title");
            if (title && (!cJSON_IsString(title) || !title->valuestring[0] ||
                          strlen(title->valuestring) >= KPI_TITLE_BYTES))
                return yaml_error(err, KPI_ERR_BYTES, path, "title: must be text of 1 to %d bytes",
                                  KPI_TITLE_BYTES - 1);
        }
        enum kpi_id id;
        if (!cJSON_IsString(name) || !parse_name(name->valuestring, &id)) {
            char list[KPI_ERR_BYTES - 64];
            known(list, sizeof list);
            return yaml_error(err, KPI_ERR_BYTES, path, "unknown KPI \"%.40s\" (known: %s)",
                              cJSON_IsString(name) ? name->valuestring : "", list);
        }
        for (int k = 0; k < c->n; k++)
            if (c->v[k].id == id)
                return yaml_error(err, KPI_ERR_BYTES, path, "%s is listed twice", kpi_name(id));
        add(c, id, title ? title->valuestring : NULL);
    }
    return TEND_OK;
}
