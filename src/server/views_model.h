/* views_model.h: the JSON views of the churn-risk model: GET /api/risk,
 * /api/model, /api/models, and the "risk" member of GET /api/accounts/{id}.
 * The dashboard renders the same views (dash_model.h).
 *
 * The shapes follow issue 16's contract (the card: version, horizon_days,
 * trained_to, n_rows, n_churns, auc_holdout, brier_holdout,
 * auc_health_holdout, calibration, coefficients; risk rows: account_id, name,
 * owner, p_churn, arr, arr_at_risk, band, drivers), the same names as
 * `tend model show` and `tend risk --format json` (eval/risk.c). The store is
 * m-model's (store.h, migration 14). As views.h: a bad parameter is
 * TEND_ERR_USAGE with a message naming it, an unknown version
 * TEND_ERR_NOTFOUND. */
#ifndef TEND_SERVER_VIEWS_MODEL_H
#define TEND_SERVER_VIEWS_MODEL_H

#include <cjson/cJSON.h>

#include "server/views.h"

/* GET /api/risk: every account scored on the latest day with risk scores,
 * by ARR at risk (p_churn x ARR, ARR = 12 x MRR), largest first; owner (an
 * email, "me" for the signed-in user me, "none", "all"), page (from 1) and
 * per_page (1-500, default 50). The totals (arr_at_risk_total,
 * accounts_scored) are those of the filtered accounts, over every page. */
enum tend_err view_risk(struct store *s, const struct view_params *p, const char *me, cJSON **out,
                        char *err);
/* GET /api/model: the card of the current model (the adopted one with the
 * highest version; the newest when none is adopted), or of version=N.
 * TEND_ERR_NOTFOUND when there is none, err saying how to fit one. */
enum tend_err view_model(struct store *s, const struct view_params *p, cJSON **out, char *err);
/* GET /api/models: every model, newest first, without the card's tables. */
enum tend_err view_models(struct store *s, cJSON **out, char *err);
/* Adds "risk" to account (GET /api/accounts/{id}'s view of the account with
 * external id): its latest risk score (p_churn, arr, arr_at_risk,
 * model_version, horizon_days, date, drivers), or null when none. */
enum tend_err view_account_risk(struct store *s, const char *external_id, cJSON *account,
                                char *err);

#endif
