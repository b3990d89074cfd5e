/* views_kpis.c: the KPI board's view (GET /api/kpis, GET /kpis): the
 * configured KPIs (tend.yaml's kpis:, core/kpi.h) computed by
 * analysis/kpis.h over the weeks up to the current day of tend's timeline. */
#include <stdio.h>

#include "analysis/kpis.h"
#include "analysis/monthly.h"
#include "server/views.h"
#include "server/views_int.h"
#include "util/datetime.h"
#include "util/mem.h"

#define KPI_WEEKS_DEFAULT 12

enum tend_err view_kpis(struct store *s, const struct view_env *env, const struct view_params *p,
                        cJSON **out, char *err) {
    long weeks;
    enum tend_err e = view_int_param(p, "weeks", 4, 52, KPI_WEEKS_DEFAULT, &weeks, err);
    if (e)
        return e;
    struct kpi_config def;
    const struct kpi_config *c = env->kpis;
    if (!c) {
        kpi_config_default(&def);
        c = &def;
    }
    int32_t today = view_timeline_day(s);
    struct kpi_board *b = xcalloc(1, sizeof *b);
    char perr[PROCESS_ERR_BYTES];
    e = kpi_board_run(s, c, today - 7 * ((int32_t)weeks - 1), today, today, b, perr);
    if (e) {
        free(b);
        snprintf(err, VIEW_ERR_BYTES, "%s", perr);
        return e;
    }
    *out = kpi_board_json(b);
    free(b);
    return TEND_OK;
}

enum tend_err view_monthly(struct store *s, const struct view_env *env, const struct view_params *p,
                           cJSON **out, char *err) {
    const char *month = view_param(p, "month");
    int32_t first, last;
    char today[16];
    if (!month || !month[0]) {
        dt_format_date(view_timeline_day(s), today);
        today[7] = '\0';
        month = today;
    }
    if (!monthly_parse(month, &first, &last))
        return view_bad(err, "month: must be YYYY-MM", month);
    struct kpi_config def;
    const struct kpi_config *c = env->kpis;
    if (!c) {
        kpi_config_default(&def);
        c = &def;
    }
    char merr[MONTHLY_ERR_BYTES];
    enum tend_err e = monthly_report(s, c, first, last, out, merr);
    if (e)
        snprintf(err, VIEW_ERR_BYTES, "%s", merr);
    return e;
}
