/* views_model.h: the JSON views of the churn-risk model: GET /api/model,
 * /api/models, /api/risk (docs/api.md), and the "risk" member of GET
 * /api/accounts/{id}. The dashboard renders the same views (dash_model.h).
 *
 * The field names are those of `tend model show --format json` and `tend
 * risk --format json` (the card of analysis/model.c, the rows of eval/risk.c),
 * with what the dashboard needs added beside them. As views.h: a bad
 * parameter is TEND_ERR_USAGE with a message naming it, an unknown version
 * TEND_ERR_NOTFOUND. */
#ifndef TEND_SERVER_VIEWS_MODEL_H
#define TEND_SERVER_VIEWS_MODEL_H

#include <cjson/cJSON.h>

#include "server/views.h"

/* GET /api/risk: {day, rows, model, accounts_scored, arr_at_risk_total,
 * arr_total, total[, page, per_page]}: the rows of `tend risk --format json`
 * (by ARR at risk = p_churn x 12 x MRR, largest first) of the latest scored
 * day on or before at=DATE. owner (an email, "me" for the signed-in user me,
 * "none", "all") filters them; the totals are the filtered rows', over every
 * page; page (from 1) and per_page (1-500) cut a page, else limit (0: all)
 * keeps the first rows. model: version, horizon_days, trained_to,
 * auc_holdout, auc_health_holdout, brier_holdout of the model that scored the
 * day (the highest version among the rows), null when none. */
enum tend_err view_risk(struct store *s, const struct view_params *p, const char *me, cJSON **out,
                        char *err);
/* GET /api/model: the adopted model's card exactly as `tend model show
 * --format json` prints it, or version=N's. TEND_ERR_NOTFOUND when there is
 * none, err saying how to fit one. */
enum tend_err view_model(struct store *s, const struct view_params *p, cJSON **out, char *err);
/* GET /api/models: {models: [...]}, newest first, without the card's tables,
 * each with current (it is the adopted one) and fitted_at (ISO-8601). */
enum tend_err view_models(struct store *s, cJSON **out, char *err);
/* Adds "risk" to account (GET /api/accounts/{id}'s view of the account with
 * external id): its row of the latest scored day (p_churn, arr, arr_at_risk,
 * model_version, drivers) with date and the model's horizon_days, or null. */
enum tend_err view_account_risk(struct store *s, const char *external_id, cJSON *account,
                                char *err);

#endif
