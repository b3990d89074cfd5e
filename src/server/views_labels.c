/* views_labels.c: GET /api/labels, the table of human labels and units
 * (core/labels.h), so that a client labels the API's stable column names
 * the way the dashboard does. */
#include "core/labels.h"
#include "server/views.h"
#include "server/views_int.h"

enum tend_err view_labels(const struct view_env *env, cJSON **out) {
    static const char *const kinds[] = {"count", "days",   "money", "percent",
                                        "score", "number", "date",  "text"};
    size_t n;
    const struct label *all = labels_all(&n);
    cJSON *o = cJSON_CreateObject();
    view_add_str(o, "currency", env->rc->currency);
    cJSON *arr = cJSON_AddArrayToObject(o, "labels");
    for (size_t i = 0; i < n; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "column", all[i].column);
        cJSON_AddStringToObject(l, "label", all[i].text);
        cJSON_AddStringToObject(l, "kind", kinds[all[i].kind]);
        view_add_str(l, "unit", all[i].unit[0] ? all[i].unit : NULL);
        view_add_str(l, "units", all[i].units[0] ? all[i].units : NULL);
        cJSON_AddItemToArray(arr, l);
    }
    *out = o;
    return TEND_OK;
}
