/* dash_portfolio.c: the portfolio header of the accounts page (see
 * views_portfolio.c for what each figure is): ARR by health band, ARR at
 * risk, and the accounts whose band changed this week, each money figure
 * with its currency (core/labels.h). */
#include <stdio.h>
#include <string.h>

#include "core/labels.h"
#include "server/dash.h"
#include "server/dash_int.h"
#include "server/html.h"

static void put_money(struct buf *b, const cJSON *v, const char *currency) {
    char text[64];
    labels_money(cJSON_IsNumber(v) ? v->valuedouble : 0, currency, text, sizeof text);
    html_esc(b, text);
}

void dash_portfolio(struct buf *out, const struct dash_ctx *ctx, const cJSON *view) {
    const cJSON *p = get(view, "portfolio");
    if (!cJSON_IsObject(p) || !get_str(p, "date"))
        return;
    const char *currency = get_str(p, "currency");
    if (!currency && ctx)
        currency = ctx->currency;
    static const char *const bands[][2] = {
        {"red", "Red"}, {"yellow", "Yellow"}, {"green", "Green"}, {"none", "No score"}};
    const cJSON *arr = get(p, "arr_by_band"), *count = get(p, "accounts_by_band");
    buf_puts(out, "<section class=\"portfolio\" aria-label=\"Portfolio\">");
    for (size_t i = 0; i < 4; i++) {
        long long n = get_int(count, bands[i][0]);
        if (i == 3 && n <= 0)
            continue;
        char accounts[64];
        labels_count(n < 0 ? 0 : n, "account", "accounts", accounts, sizeof accounts);
        buf_printf(out, "<div class=\"tile %s\"><span class=\"n\">", bands[i][0]);
        put_money(out, get(arr, bands[i][0]), currency);
        buf_printf(out, "</span><span class=\"what\">ARR in %s" MIDDOT "%s</span></div>",
                   bands[i][1], accounts);
    }
    bool model =
        get_str(p, "arr_at_risk_basis") && !strcmp(get_str(p, "arr_at_risk_basis"), "model");
    buf_puts(out, "<div class=\"tile red\"><span class=\"n\">");
    put_money(out, get(p, "arr_at_risk"), currency);
    buf_printf(out, "</span><span class=\"what\">ARR at risk (%s)</span></div>",
               model ? "churn-risk model" : "the red accounts' ARR: no model yet");
    const cJSON *ch = get(p, "changed_band_7d");
    long long worse = get_int(ch, "worse"), better = get_int(ch, "better");
    char w[64], bt[64];
    labels_count(worse < 0 ? 0 : worse, "account", "accounts", w, sizeof w);
    labels_count(better < 0 ? 0 : better, "account", "accounts", bt, sizeof bt);
    buf_printf(out,
               "<div class=\"tile\"><span class=\"n\">%s worse</span><span class=\"what\">"
               "changed band this week; %s better</span></div>",
               w, bt);
    buf_puts(out, "</section>\n");
    const cJSON *moved = get(ch, "accounts");
    if (cJSON_IsArray(moved) && cJSON_GetArraySize(moved) > 0) {
        buf_puts(out, "<details class=\"moved\"><summary>Accounts that changed band this "
                      "week</summary><ul>");
        const cJSON *a;
        cJSON_ArrayForEach(a, moved) {
            buf_puts(out, "<li>");
            dash_put_account_link(out, get_str(a, "id"), get_str(a, "name"));
            buf_puts(out, ": ");
            dash_put_band_pill(out, get_str(a, "from"));
            buf_puts(out, " \xe2\x86\x92 ");
            dash_put_band_pill(out, get_str(a, "to"));
            buf_puts(out, MIDDOT);
            put_money(out, get(a, "arr"), currency);
            buf_puts(out, " ARR</li>");
        }
        buf_puts(out, "</ul></details>\n");
    }
}
