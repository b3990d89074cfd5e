/* dash_model.h: the dashboard's pages of the churn-risk model: the risk
 * ranking (/risk), the model card (/model, /model?version=N), the history of
 * models (/models), and the risk section of an account's page.
 *
 * As every page of dash.h, each is a pure function of (view, context): the
 * view is the JSON the REST API answers (GET /api/risk, /api/model,
 * /api/models; docs/api.md), read defensively, every outside string escaped.
 * docs/dashboard.md describes the pages. */
#ifndef TEND_SERVER_DASH_MODEL_H
#define TEND_SERVER_DASH_MODEL_H

#include <cjson/cJSON.h>

#include "server/dash.h"
#include "util/buf.h"

/* GET /risk: view = GET /api/risk's answer. The filter "owner=me" (the
 * signed-in user's book) is read back from ctx->path. */
void dash_risk(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /model: view = GET /api/model's answer (the model card); NULL when
 * there is no model yet, which shows how to fit one. */
void dash_model(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* GET /models: view = GET /api/models's answer. */
void dash_models(struct buf *out, const struct dash_ctx *ctx, const cJSON *view);
/* The churn-risk section of an account's page: risk is the account view's
 * "risk" member (p_churn, arr, arr_at_risk, model_version, horizon_days,
 * date, drivers); NULL (no such member) appends nothing, JSON null says the
 * account has no score from a model. */
void dash_account_risk(struct buf *out, const cJSON *risk);

/* Appends a probability as a percentage, rounded for reading: one decimal
 * below 10% ("4.2%"), whole points from 10% ("42%"), "<0.1%" above 0 and
 * below 0.05%, ">99%" from 99.5% short of 1; HTML_DASH when not in [0, 1]. */
void dash_percent(struct buf *b, double p);
/* Appends an amount of money in whole units with thousands separators:
 * "$42,000" (currency NULL, "" or "USD"), else "EUR 42,000" for a
 * three-letter code; HTML_DASH when not finite. */
void dash_money(struct buf *b, double v, const char *currency);

/* The stylesheet of these pages, served after dash_css in /static/tend.css. */
extern const char dash_model_css[];

#endif
