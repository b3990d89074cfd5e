/* views.h: what the REST API answers and the dashboard shows, as JSON.
 *
 * Each view reads the store once and builds one cJSON tree whose shape
 * docs/api.md documents; the REST API prints it, the dashboard renders it
 * (dash.h). Parameters come from the query string; a bad one is refused
 * with TEND_ERR_USAGE and a message naming it ("per_page: must be a number
 * from 1 to 500"), an unknown id with TEND_ERR_NOTFOUND. */
#ifndef TEND_SERVER_VIEWS_H
#define TEND_SERVER_VIEWS_H

#include <cjson/cJSON.h>

#include "core/health.h"
#include "core/kpi.h"
#include "core/rules.h"
#include "store/store.h"

#define VIEW_ERR_BYTES  256
#define VIEW_MAX_PARAMS 256 /* a bulk action's form has an id= per CTA */

/* A request's query parameters (borrowed strings), in order. */
struct view_params {
    const char *keys[VIEW_MAX_PARAMS];
    const char *values[VIEW_MAX_PARAMS];
    int n;
};
/* The first value of key, or NULL. */
const char *view_param(const struct view_params *p, const char *key);

/* What views need from the configuration. */
struct view_env {
    const struct health_config *hc;
    const struct rules_config *rc;
    const struct kpi_config *kpis; /* the KPI board; NULL: the default */
};

enum tend_err view_accounts(struct store *s, const struct view_env *env,
                            const struct view_params *p, cJSON **out, char *err);
enum tend_err view_account(struct store *s, const struct view_env *env, const char *account,
                           const struct view_params *p, cJSON **out, char *err);
/* me: the signed-in user's email, for owner=me (NULL: a token, which has none). */
/* status=held: the CTAs the weekly budget held back (week=DATE or all). The
 * listing carries held_this_week, the count of the owner's (or everyone's)
 * held-back CTAs of the current ISO week. */
enum tend_err view_ctas(struct store *s, const struct view_env *env, const struct view_params *p,
                        const char *me, cJSON **out, char *err);
enum tend_err view_cta(struct store *s, const struct view_env *env, int64_t id, cJSON **out,
                       char *err);
enum tend_err view_rules(struct store *s, const struct view_env *env, cJSON **out, char *err);
enum tend_err view_outbox(struct store *s, const struct view_params *p, cJSON **out, char *err);
/* GET /api/reports: the stored reports, newest first, without their HTML;
 * limit (1-100, default 100). */
enum tend_err view_reports(struct store *s, const struct view_params *p, cJSON **out, char *err);
/* GET /api/reports/{id}: one report with its HTML fragment ("html"). */
enum tend_err view_report(struct store *s, int64_t id, cJSON **out, char *err);
/* GET /api/segments: the groups (by=segment|plan|owner) of the latest
 * evaluated day on or before at=, each with its 30 days of health means
 * (views_segments.c). */
enum tend_err view_segments(struct store *s, const struct view_params *p, cJSON **out, char *err);
/* GET /api/segments/{name}: one group's days (days=, default 90), its
 * accounts and its segment_shift CTAs. */
enum tend_err view_segment(struct store *s, const char *name, const struct view_params *p,
                           cJSON **out, char *err);

/* GET /api/kpis: the KPI board of the 12 weeks (weeks=N, 4-52) up to the
 * current day (views_kpis.c). */
enum tend_err view_kpis(struct store *s, const struct view_env *env, const struct view_params *p,
                        cJSON **out, char *err);
/* GET /api/reports/monthly?month=YYYY-MM (default: the current day's
 * month): the monthly CS report's view (views_kpis.c, analysis/monthly.h). */
enum tend_err view_monthly(struct store *s, const struct view_env *env, const struct view_params *p,
                           cJSON **out, char *err);
/* GET /api/notes: notes newest first; account=ID, cta=ID filter, limit
 * (1-1000, default 100) (views_notes.c). */
enum tend_err view_notes(struct store *s, const struct view_params *p, cJSON **out, char *err);

/* GET /api/portfolio (views_portfolio.c): ARR by health band of the latest
 * scored day, ARR at risk, and the accounts whose band changed in the 7
 * days before it (docs/api.md). */
enum tend_err view_portfolio(struct store *s, const struct view_env *env, cJSON **out, char *err);

/* GET /api/labels (views_labels.c): every column's human label, kind and
 * unit (core/labels.h), and the currency money is written in. */
enum tend_err view_labels(const struct view_env *env, cJSON **out);

#endif
